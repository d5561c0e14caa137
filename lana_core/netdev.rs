// SPDX-License-Identifier: GPL-2.0
//! The virtual-link attachment: a [`Port`] hooks a net device's receive path (rx_handler)
//! into the engine and transmits on the device. `eth` blocks own one each.
//!
//! Device lifetime: the port holds a reference on the device; a netdevice notifier (in
//! `ffi.c`) releases it when the device is unregistered (device deleted, namespace going
//! away), after which the port reports itself detached.
//!
//! What a port claims and where it sends is one immutable [`PortConfig`], replaced whole:
//! a frame sees the old settings or the new ones, never a mix, and a port is never attached
//! before its settings are in place.

use crate::block::{Consumed, DropReason, Entry, Fate};
use crate::engine;
use crate::ffi::{self, LanaPortC};
use crate::packet::Packet;
use crate::percpu::{PerCpu, PacketContext};
use crate::rcu::RcuBox;
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::rcu;
use kernel::types::Opaque;

/// `rx_handler_result_t` values (checked by a static_assert in `ffi.c`).
const RX_HANDLER_CONSUMED: c_uint = 0;
const RX_HANDLER_PASS: c_uint = 3;

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

/// A MAC address.
pub type Mac = [u8; 6];

/// What a port claims from its device and how it addresses what it sends.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct PortConfig {
    /// Claim only frames of this EtherType (host byte order); 0 claims every frame.
    pub ethertype: u16,
    /// Claim only frames sent to this MAC; `None` claims frames to any address.
    pub dst: Option<Mac>,
    /// Destination of packets made by blocks (a socket's messages); `None` is broadcast.
    pub peer: Option<Mac>,
}

/// A reference on a network namespace.
///
/// # Invariants
///
/// `net` is a namespace this object holds a reference on (from `lana_netns_get`).
struct NetRef {
    net: *mut bindings::net,
}

impl NetRef {
    /// The namespace of process `pid` (0: the initial one); `ESRCH` if there is none.
    fn of_pid(pid: u32) -> Result<Self> {
        let mut net = core::ptr::null_mut();
        // SAFETY: `net` is a valid out pointer; on success it holds a reference we own.
        kernel::error::to_result(unsafe { ffi::lana_netns_get(pid, &mut net) })?;
        // INVARIANT: lana_netns_get succeeded and took a reference.
        Ok(Self { net })
    }
}

impl Drop for NetRef {
    fn drop(&mut self) {
        // SAFETY: paired with the reference taken in `of_pid`.
        unsafe { ffi::lana_netns_put(self.net) };
    }
}

/// How [`Port::configure`] went.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Attached {
    /// The port is attached to the device now.
    Now,
    /// It was attached to that very device (same namespace, same ifindex) already.
    Already,
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
    entry: Entry,
    /// Read by the rx path under RCU; replaced whole by [`Port::configure`].
    config: RcuBox<PortConfig>,
    /// Frames passed on to the Linux stack because they were not claimed.
    passed: PerCpu<u64>,
}

// SAFETY: the C part is changed under rtnl only and read under RCU (see ffi.c); the rest is
// immutable, RCU-published or per-CPU.
unsafe impl Send for Port {}
// SAFETY: as above.
unsafe impl Sync for Port {}

impl Port {
    /// A detached port whose frames will enter the engine at `entry`.
    pub fn new(entry: Entry) -> Result<Pin<KBox<Port>>> {
        let passed = PerCpu::new()?;
        let port = KBox::pin_init(
            pin_init!(Port {
                c: Opaque::new(LanaPortC { dev: core::ptr::null_mut() }),
                entry,
                config: RcuBox::new(),
                passed,
            }),
            GFP_KERNEL,
        )?;
        port.config.replace(Some(KBox::new(PortConfig::default(), GFP_KERNEL)?));
        Ok(port)
    }

    /// The settings in force.
    pub fn config(&self) -> PortConfig {
        let guard = rcu::Guard::new();
        self.config.get(&guard).copied().unwrap_or_default()
    }

    /// Apply `new` settings and, with `dev = Some((ifname, netns_pid))`, attach to that device
    /// (in the network namespace of process `netns_pid`, 0 for the initial one), all in one
    /// step: frames see the old settings or the new ones, and nothing changes if it fails.
    /// `EBUSY` if the port is attached to another device or the device has an rx_handler
    /// already (a bridge, a bond, another eth block), `ENODEV` if there is no such device,
    /// `EOPNOTSUPP` if it is not an Ethernet device, `ESRCH` if there is no such process.
    pub fn configure(&self, new: PortConfig, dev: Option<(&str, u32)>) -> Result<Option<Attached>> {
        let cfg = KBox::new(new, GFP_KERNEL)?;
        let Some((ifname, netns_pid)) = dev else {
            self.config.replace(Some(cfg));
            return Ok(None);
        };
        let mut buf = [0u8; 17];
        if ifname.is_empty() || ifname.len() >= buf.len() {
            return Err(EINVAL);
        }
        buf[..ifname.len()].copy_from_slice(ifname.as_bytes());
        // One namespace for the check and the attach (a pid can be reused in between).
        let net = NetRef::of_pid(netns_pid)?;
        // SAFETY: `c` is valid; `buf` is NUL-terminated; `net` is referenced. The port's
        // attachment changes only under the configuration mutex (held by our caller) or when
        // the device goes away.
        let r = unsafe { ffi::lana_port_match(self.c.get(), buf.as_ptr().cast(), net.net) };
        match r {
            // Attached to this very device (namespace and ifindex): only the settings change.
            1 => {
                self.config.replace(Some(cfg));
                return Ok(Some(Attached::Already));
            }
            0 => {}
            e => return Err(Error::from_errno(e)),
        }
        // Detached: the settings go in first, so the first frame already sees them; if the
        // attach fails no frame saw them and the old ones come back.
        let old = KBox::new(self.config(), GFP_KERNEL)?;
        self.config.replace(Some(cfg));
        // SAFETY: `c` is pinned and outlives the attachment (detached in drop); `buf` is
        // NUL-terminated; `net` is referenced.
        let r = unsafe { ffi::lana_port_attach(self.c.get(), buf.as_ptr().cast(), net.net) };
        if r < 0 {
            self.config.replace(Some(old));
            return Err(Error::from_errno(r));
        }
        Ok(Some(Attached::Now))
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

    /// Frames left to the Linux stack.
    pub fn passed(&self) -> u64 {
        self.passed.fold(0u64, |a, n| a.wrapping_add(n))
    }

    /// Send `pkt` out of the device: a frame from a wire as it is, a packet a block made
    /// (a socket's message) with an Ethernet header to the configured peer with the port's
    /// EtherType (or LANA's default, 0x88b5). What became of it is the block's verdict: sent,
    /// dropped because the device is down or detached, or refused by its transmit path.
    pub fn xmit(&self, ctx: &PacketContext, pkt: Packet) -> Consumed {
        let Some(cfg) = self.config.read(ctx).copied() else {
            pkt.drop_for(DropReason::DeviceDown);
            return Consumed(Fate::Dropped(DropReason::DeviceDown));
        };
        let proto = match cfg.ethertype {
            0 => crate::uapi::LANA_DEFAULT_ETHERTYPE as u16,
            t => t,
        };
        let peer = cfg.peer.map_or(0, mac_to_u64);
        // SAFETY: `c` is valid; the helper consumes the skb in every case.
        let r = unsafe { ffi::lana_port_xmit(self.c.get(), pkt.into_raw(), proto, peer) };
        Consumed(match r {
            0 => Fate::Transmitted,
            r if r == ENETDOWN.to_errno() => Fate::Dropped(DropReason::DeviceDown),
            _ => Fate::Dropped(DropReason::TxError),
        })
    }
}

/// A MAC address as a 48-bit number (first byte most significant).
pub(crate) fn mac_to_u64(m: Mac) -> u64 {
    m.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64)
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
    // SAFETY: `port` is the rx_handler data registered by `Port::configure`: a pointer to
    // the first field of a pinned, live `Port` (it detaches, waiting for handlers, before it
    // is freed). `#[repr(C)]` puts `c` at offset 0.
    let port = unsafe { &*port.cast::<Port>() };
    // rx_handlers run under rcu_read_lock in the receive softirq.
    let guard = rcu::Guard::new();
    let Some(cfg) = port.config.get(&guard) else {
        return RX_HANDLER_PASS;
    };
    // SAFETY: `skb` is valid for the duration of the handler.
    if !unsafe { ffi::lana_skb_has_eth_header(skb) } {
        return RX_HANDLER_PASS; // not Ethernet: not ours to read (ports attach to Ethernet only)
    }
    // SAFETY: as above.
    let proto = u16::from_be(unsafe { ffi::lana_skb_protocol(skb) });
    let mut claimed = cfg.ethertype == 0 || proto == cfg.ethertype;
    if claimed {
        if let Some(dst) = cfg.dst {
            // SAFETY: as above; the stack set the MAC header before calling rx handlers.
            claimed = unsafe { ffi::lana_skb_mac_dst(skb) } == mac_to_u64(dst);
        }
    }
    if !claimed {
        let cpu = crate::percpu::CpuOffset::this_cpu();
        // SAFETY: softirq: bottom halves are off, so this CPU's copy is ours alone.
        unsafe { *port.passed.on(cpu) += 1 };
        return RX_HANDLER_PASS;
    }
    drop(guard);
    // SAFETY: the stack hands the handler a valid skb; returning CONSUMED gives it to us.
    let Some(pkt) = (unsafe { Packet::from_raw_shared(skb) }) else {
        return RX_HANDLER_CONSUMED;
    };
    // SAFETY: `pkt` owns a valid, unshared skb; blocks see frames from the Ethernet header.
    unsafe { ffi::lana_skb_push_mac(pkt.as_raw()) };
    engine::receive_from_link(pkt, port.entry);
    RX_HANDLER_CONSUMED
}

/// Called by an engine thread (thread mechanisms) for a queued frame, bottom halves off.
#[no_mangle]
pub extern "C" fn lana_rust_ppe_run(skb: *mut bindings::sk_buff, entry: u64) {
    // SAFETY: the queue held the only reference to this unshared skb; it is ours now.
    if let Some(pkt) = unsafe { Packet::from_raw(skb) } {
        engine::resume_from_queue(pkt, Entry::unpack(entry));
    }
}

/// Called by the thread mechanisms for a queued frame that will not run, bottom halves off.
#[no_mangle]
pub extern "C" fn lana_rust_ppe_drop(skb: *mut bindings::sk_buff, reason: u32) {
    // SAFETY: the queue held the only reference to this unshared skb; it is ours now.
    if let Some(pkt) = unsafe { Packet::from_raw(skb) } {
        engine::drop_queued(pkt, DropReason::from_u32(reason).unwrap_or(DropReason::Flushed));
    }
}
