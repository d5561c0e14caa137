// SPDX-License-Identifier: GPL-2.0
//! [`Packet`]: an owned socket buffer.

use crate::fate::DropReason;
use crate::ffi;
use core::ptr::NonNull;
use kernel::bindings;

/// A packet owned by LANA: one reference to an unshared `sk_buff`.
///
/// Blocks cannot copy one (fan-out is the engine's job) and must hand the one they get back
/// in their verdict, so every packet reaches one counted fate. Dropping it frees the buffer
/// (counted as a drop by the kernel's drop monitor); the engine frees with a reason
/// ([`Packet::drop_for`]).
///
/// # Invariants
///
/// `skb` points to a valid `sk_buff` of which this object owns one reference, and no one else
/// holds a reference (it passed `skb_share_check`, or it is a fresh clone).
pub struct Packet {
    skb: NonNull<bindings::sk_buff>,
}

// SAFETY: an owned, unshared sk_buff may be handed to and freed on another CPU.
unsafe impl Send for Packet {}

impl Packet {
    /// Take ownership of `skb`, which is shared: a clone of it is ours (`skb_share_check` for
    /// an skb known to be shared, without the call). `Err` with its length if it could not
    /// be cloned (the reference has then been given up).
    ///
    /// # Safety
    ///
    /// `skb` must be a valid `sk_buff` whose reference the caller gives up.
    #[inline]
    pub(crate) unsafe fn from_raw_shared(skb: *mut bindings::sk_buff) -> Result<Self, u32> {
        // SAFETY: the caller owns a reference to a valid skb; the clone is a new skb (or
        // NULL), and the caller's reference is given up either way, as skb_share_check does.
        let clone = unsafe { bindings::skb_clone(skb, bindings::GFP_ATOMIC) };
        let Some(clone) = NonNull::new(clone) else {
            // SAFETY: as above; the length is read before the reference is given up.
            let len = unsafe { (*skb).len };
            // SAFETY: as above (the reference is the caller's, given up here).
            unsafe {
                bindings::sk_skb_reason_drop(
                    core::ptr::null(),
                    skb,
                    bindings::skb_drop_reason_SKB_DROP_REASON_NOMEM,
                )
            };
            return Err(len);
        };
        // SAFETY: as above.
        unsafe { bindings::consume_skb(skb) };
        // INVARIANT: a fresh clone is unshared and ours.
        Ok(Packet { skb: clone })
    }

    /// Take ownership of `skb`, which must not be shared.
    ///
    /// # Safety
    ///
    /// `skb` must be a valid, unshared `sk_buff` whose only reference the caller gives up.
    pub(crate) unsafe fn from_raw(skb: *mut bindings::sk_buff) -> Option<Self> {
        // INVARIANT: the caller guarantees a valid, unshared skb it owned.
        NonNull::new(skb).map(|skb| Packet { skb })
    }

    /// Give up ownership, returning the raw pointer (for a C function that consumes it).
    pub(crate) fn into_raw(self) -> *mut bindings::sk_buff {
        let skb = self.skb.as_ptr();
        core::mem::forget(self);
        skb
    }

    /// Start the packet's data at `mac` again, after the stack pulled the MAC header
    /// (`__skb_push` by the header's length).
    ///
    /// # Safety
    ///
    /// `mac` is this skb's MAC header, in the same buffer as `skb->data` (nothing is pushed
    /// unless it lies before `data`).
    #[inline]
    pub(crate) unsafe fn push_to(&mut self, mac: *mut u8) {
        let skb = self.skb.as_ptr();
        // SAFETY: `skb` is valid and ours alone (type invariant); `mac` is in its buffer
        // (function docs), and when it lies before `data` the pulled bytes are still there.
        unsafe {
            let pulled = (*skb).data.offset_from(mac);
            if pulled > 0 {
                (*skb).data = mac;
                // (no overflow: `pulled` bytes of the buffer lie before `data`)
                (*skb).len = (*skb).len.wrapping_add(pulled as u32);
            }
        }
    }

    /// Bytes in the packet.
    #[inline]
    pub fn len(&self) -> u32 {
        // SAFETY: by the type invariant `skb` is valid and ours; `len` is a plain field
        // (read directly: this runs at every hop).
        unsafe { (*self.skb.as_ptr()).len }
    }

    /// Whether the packet has no bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The packet's linear data (for frames handed over by an eth block: from the Ethernet
    /// header on). Paged data beyond it is not included.
    pub fn data(&self) -> &[u8] {
        // SAFETY: by the type invariant `skb` is valid; `data` points to `headlen` readable
        // bytes that live as long as the skb, which `&self` keeps alive and unchanged.
        unsafe {
            let p = (*self.skb.as_ptr()).data;
            let n = ffi::lana_skb_headlen(self.skb.as_ptr()) as usize;
            if p.is_null() || n == 0 {
                return &[];
            }
            core::slice::from_raw_parts(p, n)
        }
    }

    /// A copy sharing the data (`skb_clone`), or `None` when memory is short.
    pub(crate) fn try_clone(&self) -> Option<Packet> {
        // SAFETY: by the type invariant `skb` is valid.
        let c = unsafe { bindings::skb_clone(self.skb.as_ptr(), bindings::GFP_ATOMIC) };
        // INVARIANT: a fresh clone is a new, unshared sk_buff owned by us.
        NonNull::new(c).map(|skb| Packet { skb })
    }

    /// Free the packet, telling drop monitors why (`kfree_skb_reason`).
    pub(crate) fn drop_for(self, reason: DropReason) {
        // SAFETY: we own one reference to a valid skb (type invariant), given up here;
        // `kfree_skb_reason` is this call with no socket.
        unsafe {
            bindings::sk_skb_reason_drop(core::ptr::null(), self.into_raw(), kernel_reason(reason))
        };
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::sk_buff {
        self.skb.as_ptr()
    }
}

impl Drop for Packet {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own one reference to a valid skb (`kfree_skb`).
        unsafe {
            bindings::sk_skb_reason_drop(
                core::ptr::null(),
                self.skb.as_ptr(),
                bindings::skb_drop_reason_SKB_DROP_REASON_NOT_SPECIFIED,
            )
        };
    }
}

/// LANA's drop reasons as the kernel's, for drop monitors; NOT_SPECIFIED where the kernel has
/// none that fits.
fn kernel_reason(r: DropReason) -> bindings::skb_drop_reason {
    use bindings::*;
    match r {
        DropReason::Filtered => skb_drop_reason_SKB_DROP_REASON_SOCKET_FILTER,
        DropReason::NoNext => skb_drop_reason_SKB_DROP_REASON_NO_TX_TARGET,
        DropReason::HopLimit => skb_drop_reason_SKB_DROP_REASON_RECURSION_LIMIT,
        DropReason::QueueFull => skb_drop_reason_SKB_DROP_REASON_CPU_BACKLOG,
        DropReason::SocketFull => skb_drop_reason_SKB_DROP_REASON_SOCKET_RCVBUFF,
        DropReason::NoSocket => skb_drop_reason_SKB_DROP_REASON_NO_SOCKET,
        DropReason::FanoutFailed => skb_drop_reason_SKB_DROP_REASON_NOMEM,
        DropReason::DeviceDown => skb_drop_reason_SKB_DROP_REASON_DEV_READY,
        DropReason::Flushed => skb_drop_reason_SKB_DROP_REASON_QUEUE_PURGE,
        DropReason::TooBig => skb_drop_reason_SKB_DROP_REASON_PKT_TOO_BIG,
        DropReason::NoMemory => skb_drop_reason_SKB_DROP_REASON_NOMEM,
        // the device freed tx errors itself; a stale entry has no kernel reason
        DropReason::TxError | DropReason::NoBlock => skb_drop_reason_SKB_DROP_REASON_NOT_SPECIFIED,
    }
}
