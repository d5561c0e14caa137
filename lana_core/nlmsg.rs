// SPDX-License-Identifier: GPL-2.0
//! Netlink messages the core writes: [`Reply`], the answer to one request, freed unless it
//! was sent; [`DumpPart`], one message of a multi-part dump, cancelled unless it was ended;
//! and the [`Writer`] both put attributes with.

use crate::ffi;
use crate::space::Space;
use crate::uapi::LANA_A_PAD;
use kernel::bindings;
use kernel::prelude::*;

/// Attributes being put into a netlink message.
///
/// # Invariants
///
/// `skb` is a netlink message under construction that the owner of the writer owns.
pub(crate) struct Writer {
    skb: *mut bindings::sk_buff,
}

impl Writer {
    fn put(&mut self, ty: u16, data: &[u8]) -> Result {
        // SAFETY: `skb` is a message under construction (invariant); `data` is readable.
        let r = unsafe {
            bindings::nla_put(
                self.skb,
                c_int::from(ty),
                data.len() as c_int,
                data.as_ptr().cast(),
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(EMSGSIZE)
        }
    }

    /// An attribute with `data` as it is (e.g. a request's own attribute, copied).
    pub(crate) fn put_raw(&mut self, ty: u16, data: &[u8]) -> Result {
        self.put(ty, data)
    }

    /// A NUL-terminated string (longer strings are cut at 287 bytes).
    pub(crate) fn put_str(&mut self, ty: u16, s: &str) -> Result {
        let mut buf = [0u8; 288];
        let n = s.len().min(buf.len() - 1);
        buf[..n].copy_from_slice(&s.as_bytes()[..n]);
        self.put(ty, &buf[..n + 1])
    }

    pub(crate) fn put_u32(&mut self, ty: u16, v: u32) -> Result {
        self.put(ty, &v.to_ne_bytes())
    }

    pub(crate) fn put_u64(&mut self, ty: u16, v: u64) -> Result {
        let b = v.to_ne_bytes();
        // SAFETY: `skb` is a message under construction (invariant); `b` holds 8 bytes.
        let r = unsafe {
            bindings::nla_put_64bit(
                self.skb,
                c_int::from(ty),
                8,
                b.as_ptr().cast(),
                c_int::from(LANA_A_PAD),
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(EMSGSIZE)
        }
    }

    /// A nested attribute filled by `f`.
    pub(crate) fn nest(&mut self, ty: u16, f: impl FnOnce(&mut Self) -> Result) -> Result {
        // SAFETY: `skb` is a message under construction (invariant).
        let nest = unsafe { ffi::lana_nla_nest_start(self.skb, c_int::from(ty)) };
        if nest.is_null() {
            return Err(EMSGSIZE);
        }
        f(self)?;
        // SAFETY: `nest` was started on this message; on the error above the whole message
        // part is cancelled or freed by its owner.
        unsafe { ffi::lana_nla_nest_end(self.skb, nest) };
        Ok(())
    }
}

/// The reply to a request: freed on drop unless [`Reply::send`] sent it.
///
/// # Invariants
///
/// `w.skb` is a reply message from `lana_reply_new` we own, `hdr` its genetlink header.
pub(crate) struct Reply {
    w: Writer,
    hdr: *mut c_void,
    info: *mut bindings::genl_info,
}

impl Reply {
    /// A reply to the request `info` of command `cmd`.
    ///
    /// # Safety
    ///
    /// `info` is the `genl_info` of a request being handled, valid as long as the reply.
    pub(crate) unsafe fn new(info: *mut bindings::genl_info, cmd: u8) -> Result<Self> {
        let mut hdr = core::ptr::null_mut();
        // SAFETY: `info` is valid (function docs); `hdr` is written on success.
        let skb = unsafe { ffi::lana_reply_new(info, cmd, &mut hdr) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: a fresh reply we own.
        Ok(Self {
            w: Writer { skb },
            hdr,
            info,
        })
    }

    /// The attributes.
    pub(crate) fn writer(&mut self) -> &mut Writer {
        &mut self.w
    }

    /// Send it to the requester.
    pub(crate) fn send(self) -> Result {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: a reply we own with its header (invariant); genlmsg_reply consumes it.
        kernel::error::to_result(unsafe { ffi::lana_reply_send(this.w.skb, this.hdr, this.info) })
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        // SAFETY: a reply we own that was not sent (invariant).
        unsafe { bindings::nlmsg_free(self.w.skb) };
    }
}

/// A change event for the `config` multicast group: sent by [`Event::send`], freed (and the
/// listeners told they lost one) if dropped unsent.
///
/// # Invariants
///
/// `w.skb` is an event message from `lana_event_new` we own, `hdr` its genetlink header;
/// `net` the namespace whose listeners get it, alive while the event is (it is made and sent
/// under the configuration mutex, while the namespace's space is in the configuration).
pub(crate) struct Event {
    w: Writer,
    hdr: *mut c_void,
    net: *mut bindings::net,
}

impl Event {
    /// An event of command `cmd` for the listeners in space `sp`'s namespace, with room for
    /// `size` bytes of attributes, or `None` when nobody listens there (or `sp` is a private
    /// test space). Under the configuration mutex.
    pub(crate) fn new(sp: &Space, cmd: u8, size: usize) -> Option<Self> {
        let net = sp.net();
        if net.is_null() {
            return None;
        }
        let mut hdr = core::ptr::null_mut();
        // SAFETY: `hdr` is written on success; process context (GFP_KERNEL); `net` is alive
        // while its space is in the configuration, whose mutex our caller holds.
        let skb = unsafe { ffi::lana_event_new(net, cmd, size, &mut hdr) };
        // INVARIANT: a fresh event message we own, for a live namespace.
        (!skb.is_null()).then(|| Self {
            w: Writer { skb },
            hdr,
            net,
        })
    }

    /// The attributes.
    pub(crate) fn writer(&mut self) -> &mut Writer {
        &mut self.w
    }

    /// Send it to every listener.
    pub(crate) fn send(self) {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: an event we own with its header (invariant); the multicast consumes it.
        unsafe { ffi::lana_event_send(this.net, this.w.skb, this.hdr) };
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: an event we own that was not sent (invariant).
        unsafe {
            bindings::nlmsg_free(self.w.skb);
            ffi::lana_event_lost(self.net);
        }
    }
}

/// One message of a dump: cancelled (removed from the dump's buffer) on drop unless
/// [`DumpPart::end`] finished it.
///
/// # Invariants
///
/// `hdr` is a message header `lana_dump_put` added to the dump buffer `w.skb`.
pub(crate) struct DumpPart {
    w: Writer,
    hdr: *mut c_void,
}

impl DumpPart {
    /// A message of command `cmd` at the end of the dump buffer `skb`, flagged as part of an
    /// interrupted dump if `generation` differs from the one the dump started with. `None`
    /// when the buffer is full.
    ///
    /// # Safety
    ///
    /// `skb` and `cb` are the buffer and callback of a running dump, valid while the part is.
    pub(crate) unsafe fn new(
        skb: *mut bindings::sk_buff,
        cb: *mut bindings::netlink_callback,
        cmd: u8,
        generation: u32,
    ) -> Option<Self> {
        // SAFETY: see the function docs.
        let hdr = unsafe { ffi::lana_dump_put(skb, cb, cmd, generation) };
        // INVARIANT: a header on the dump buffer.
        (!hdr.is_null()).then_some(Self {
            w: Writer { skb },
            hdr,
        })
    }

    /// The attributes.
    pub(crate) fn writer(&mut self) -> &mut Writer {
        &mut self.w
    }

    /// Finish the message.
    pub(crate) fn end(self) {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `hdr` is on the buffer (invariant) and not cancelled.
        unsafe { bindings::genlmsg_end(this.w.skb, this.hdr) };
    }
}

impl Drop for DumpPart {
    fn drop(&mut self) {
        // SAFETY: `hdr` is on the buffer (invariant) and not ended.
        unsafe { bindings::genlmsg_cancel(self.w.skb, self.hdr) };
    }
}
