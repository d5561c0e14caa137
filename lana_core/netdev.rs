// SPDX-License-Identifier: GPL-2.0
//! The virtual-link attachment: a [`Port`] hooks a net device's receive path (rx_handler)
//! into the engine and transmits on the device. `eth` blocks own one each.
//!
//! Device lifetime: the port holds a reference on the device; a netdevice notifier (in
//! `ffi.c`) releases it when the device is unregistered (device deleted, namespace going
//! away), after which the port reports itself detached.

use crate::engine;
use crate::ffi::{self, LanaPortC};
use crate::packet::Packet;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

/// `rx_handler_result_t` values (checked by a static_assert in `ffi.c`).
const RX_HANDLER_CONSUMED: c_uint = 0;
const RX_HANDLER_PASS: c_uint = 3;
/// Marks a destination MAC as set in `Port::dst`.
const DST_SET: u64 = 1 << 48;

/// Register the netdevice notifier (module init).
pub(crate) fn init() -> Result {
    // SAFETY: registers the static notifier block in ffi.c; unregistered in `exit`.
    kernel::error::to_result(unsafe { ffi::lana_netdev_notifier_register() })
}

/// Unregister the netdevice notifier (module exit).
pub(crate) fn exit() {
    // SAFETY: registered in `init`.
    unsafe { ffi::lana_netdev_notifier_unregister() };
}

/// An attachment point to one net device.
///
/// # Invariants
///
/// `c` is the `struct lana_port` handed to the kernel as rx_handler data while attached; the
/// port is pinned (it lives in a `Pin<KBox<Port>>`) and detaches before it is freed.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub struct Port {
    /// Must stay the first field: the rx_handler's data pointer is a pointer to it.
    #[pin]
    c: Opaque<LanaPortC>,
    /// The block frames enter the engine at.
    entry: AtomicU32,
    /// Claim only frames of this EtherType (host byte order); 0 claims every frame.
    ethertype: AtomicU32,
    /// Claim only frames to this destination MAC (`DST_SET` | 48-bit address); 0 claims all.
    dst: AtomicU64,
    /// Destination of packets made by blocks (`DST_SET` | MAC); 0 is broadcast.
    peer: AtomicU64,
    /// Frames passed on to the Linux stack because they were not claimed.
    pub(crate) passed: AtomicU32,
}

// SAFETY: the C part is changed under rtnl only and read under RCU (see ffi.c).
unsafe impl Send for Port {}
// SAFETY: as above.
unsafe impl Sync for Port {}

impl Port {
    /// A detached port whose frames will enter the engine at block `entry`.
    pub fn new(entry: u32) -> Result<Pin<KBox<Port>>> {
        KBox::pin_init(
            pin_init!(Port {
                c: Opaque::new(LanaPortC { dev: core::ptr::null_mut() }),
                entry: AtomicU32::new(entry),
                ethertype: AtomicU32::new(0),
                dst: AtomicU64::new(0),
                peer: AtomicU64::new(0),
                passed: AtomicU32::new(0),
            }),
            GFP_KERNEL,
        )
    }

    /// Attach to the device `ifname` in the network namespace of process `netns_pid` (0: the
    /// initial namespace). `EBUSY` if the device has an rx_handler already (a bridge, a bond,
    /// another eth block), `ENODEV` if there is none, `ESRCH` if there is no such process.
    pub fn attach(&self, ifname: &str, netns_pid: u32) -> Result {
        let mut buf = [0u8; 17];
        if ifname.is_empty() || ifname.len() >= buf.len() {
            return Err(EINVAL);
        }
        buf[..ifname.len()].copy_from_slice(ifname.as_bytes());
        if self.is_attached() {
            return Err(EBUSY);
        }
        // SAFETY: `c` is pinned and outlives the attachment (detached in drop); `buf` is
        // NUL-terminated.
        kernel::error::to_result(unsafe { ffi::lana_port_attach(self.c.get(), buf.as_ptr().cast(), netns_pid) })
    }

    /// Detach (waits for running receive handlers). Harmless when detached.
    pub fn detach(&self) {
        // SAFETY: `c` is valid; the helper checks under rtnl whether it is attached.
        unsafe { ffi::lana_port_detach(self.c.get()) };
    }

    /// Whether a device is attached.
    pub fn is_attached(&self) -> bool {
        let mut buf = [0u8; 17];
        self.ifname(&mut buf).is_some()
    }

    /// The attached device's name, written into `buf`.
    pub fn ifname<'a>(&self, buf: &'a mut [u8; 17]) -> Option<&'a str> {
        // SAFETY: `c` is valid; the helper writes at most `len` bytes, NUL-terminated.
        unsafe { ffi::lana_port_ifname(self.c.get(), buf.as_mut_ptr().cast(), buf.len()) };
        let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
        let s = core::str::from_utf8(&buf[..end]).ok()?;
        (!s.is_empty()).then_some(s)
    }

    /// Claim only frames of `ethertype` (0: all).
    pub fn set_ethertype(&self, ethertype: u16) {
        self.ethertype.store(ethertype as u32, Ordering::Relaxed);
    }

    /// The EtherType claimed (0: all).
    pub fn ethertype(&self) -> u16 {
        self.ethertype.load(Ordering::Relaxed) as u16
    }

    /// Claim only frames sent to `mac` (None: any destination).
    pub fn set_dst(&self, mac: Option<[u8; 6]>) {
        self.dst.store(mac_to_u64(mac), Ordering::Relaxed);
    }

    /// The destination MAC claimed (None: any).
    pub fn dst(&self) -> Option<[u8; 6]> {
        u64_to_mac(self.dst.load(Ordering::Relaxed))
    }

    /// Send packets made by blocks to `mac` (None: broadcast).
    pub fn set_peer(&self, mac: Option<[u8; 6]>) {
        self.peer.store(mac_to_u64(mac), Ordering::Relaxed);
    }

    /// Where packets made by blocks go (None: broadcast).
    pub fn peer(&self) -> Option<[u8; 6]> {
        u64_to_mac(self.peer.load(Ordering::Relaxed))
    }

    /// Frames left to the Linux stack.
    pub fn passed(&self) -> u32 {
        self.passed.load(Ordering::Relaxed)
    }

    /// Send `pkt` out of the device: a frame from a wire as it is, a packet a block made
    /// (a socket's message) with an Ethernet header to `peer` (None: broadcast) of the port's
    /// EtherType (or LANA's default, 0x88b5). `ENODEV` when detached; the packet is consumed
    /// either way.
    pub fn xmit(&self, pkt: Packet) -> Result {
        let proto = match self.ethertype() {
            0 => crate::uapi::LANA_DEFAULT_ETHERTYPE as u16,
            t => t,
        };
        let peer = self.peer.load(Ordering::Relaxed) & !DST_SET;
        // SAFETY: `c` is valid; the helper consumes the skb in every case.
        let r = unsafe { ffi::lana_port_xmit(self.c.get(), pkt.into_raw(), proto, peer) };
        if r < 0 {
            Err(Error::from_errno(r))
        } else {
            Ok(())
        }
    }
}

fn mac_to_u64(mac: Option<[u8; 6]>) -> u64 {
    mac.map_or(0, |m| m.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64) | DST_SET)
}

fn u64_to_mac(v: u64) -> Option<[u8; 6]> {
    (v & DST_SET != 0).then(|| {
        let mut m = [0u8; 6];
        for (i, b) in m.iter_mut().enumerate() {
            *b = (v >> (40 - 8 * i)) as u8;
        }
        m
    })
}

#[pinned_drop]
impl PinnedDrop for Port {
    fn drop(self: Pin<&mut Self>) {
        self.detach();
    }
}

/// The rx_handler (via the C trampoline): hand claimed frames to the engine.
#[no_mangle]
pub extern "C" fn lana_rust_rx(skb: *mut bindings::sk_buff, port: *mut c_void) -> c_uint {
    // SAFETY: `port` is the rx_handler data registered by `Port::attach`: a pointer to the
    // first field of a pinned, live `Port` (it detaches, waiting for handlers, before it is
    // freed). `#[repr(C)]` puts `c` at offset 0.
    let port = unsafe { &*port.cast::<Port>() };
    let want = port.ethertype.load(Ordering::Relaxed);
    let dst = port.dst.load(Ordering::Relaxed);
    // SAFETY: `skb` is valid for the duration of the handler.
    let proto = u16::from_be(unsafe { ffi::lana_skb_protocol(skb) });
    let mut claimed = want == 0 || proto as u32 == want;
    if claimed && dst != 0 {
        // SAFETY: as above; the stack set the MAC header before calling rx handlers.
        claimed = unsafe { ffi::lana_skb_mac_dst(skb) } | DST_SET == dst;
    }
    if !claimed {
        port.passed.fetch_add(1, Ordering::Relaxed);
        return RX_HANDLER_PASS;
    }
    // SAFETY: the stack hands the handler a valid skb; returning CONSUMED gives it to us.
    let Some(pkt) = (unsafe { Packet::from_raw_shared(skb) }) else {
        return RX_HANDLER_CONSUMED;
    };
    // SAFETY: `pkt` owns a valid, unshared skb; blocks see frames from the Ethernet header.
    unsafe { ffi::lana_skb_push_mac(pkt.as_raw()) };
    let entry = port.entry.load(Ordering::Relaxed);
    if engine::inline() {
        engine::process_from_link(pkt, entry);
    } else {
        // SAFETY: hands our unshared skb to this CPU's engine thread, which owns it now.
        unsafe { ffi::lana_ppe_enqueue(pkt.into_raw(), entry) };
    }
    RX_HANDLER_CONSUMED
}

/// Called by an engine thread (thread mechanisms) for a queued frame, bottom halves off.
#[no_mangle]
pub extern "C" fn lana_rust_ppe_run(skb: *mut bindings::sk_buff, entry: u32) {
    // SAFETY: the queue held the only reference to this unshared skb; it is ours now.
    if let Some(pkt) = unsafe { Packet::from_raw_shared(skb) } {
        engine::process_from_link(pkt, entry);
    }
}
