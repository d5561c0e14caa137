// SPDX-License-Identifier: GPL-2.0
//! The virtual-link attachment: a [`Port`] hooks a net device's receive path (rx_handler)
//! into the engine, transmits on the device, and tells the graph about the device's state.
//! `eth` blocks own one each.
//!
//! Device lifetime: the port holds a reference on the device; a netdevice notifier (in
//! `netdev.c`) releases it when the device is unregistered (device deleted, namespace going
//! away), after which the port reports itself detached.
//!
//! What a port claims and where it sends is one immutable [`PortConfig`], replaced whole:
//! a frame sees the old settings or the new ones, never a mix, and a port is never attached
//! before its settings are in place.

use crate::block::{Entry, NewInstance};
use crate::config;
use crate::engine;
use crate::fate::{Consumed, DropReason, Fate};
use crate::ffi::{self, LanaPortC};
use crate::packet::Packet;
use crate::percpu::{CpuOffset, PacketContext, PerCpu};
use crate::rcu::RcuBox;
use crate::space::Space;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::{rcu, Arc};

/// `rx_handler_result_t` values (checked by a static_assert in `netdev.c`).
const RX_HANDLER_CONSUMED: c_uint = 0;
const RX_HANDLER_PASS: c_uint = 3;

/// A MAC address.
pub type Mac = [u8; 6];

/// The netdevice notifier (device removal and state changes reach ports through it),
/// registered while the core is loaded.
pub(crate) struct Notifier(());

impl Notifier {
    /// Register it (module init).
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: registers the static notifier block in netdev.c; unregistered in drop.
        kernel::error::to_result(unsafe { ffi::lana_netdev_notifier_register() })?;
        Ok(Notifier(()))
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        // SAFETY: registered in `register`.
        unsafe { ffi::lana_netdev_notifier_unregister() };
    }
}

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
/// `c` is a port from `lana_port_new` whose owner pointer is this object, which is pinned
/// (it lives in a `Pin<KBox<Port>>`); it is detached and freed in `drop`.
#[pin_data(PinnedDrop)]
pub struct Port {
    c: NonNull<LanaPortC>,
    /// The block frames enter the engine at.
    entry: Entry,
    /// Its namespace's space: the device is looked up there, frames are counted there.
    space: Arc<Space>,
    /// Read by the rx path under RCU; replaced whole by [`Port::configure`].
    config: RcuBox<PortConfig>,
    /// Frames passed on to the Linux stack because they were not claimed.
    passed: PerCpu<u64>,
    #[pin]
    _pin: core::marker::PhantomPinned,
}

// SAFETY: the C part is changed under rtnl only and read under RCU (see netdev.c); the rest
// is immutable, RCU-published or per-CPU.
unsafe impl Send for Port {}
// SAFETY: as above.
unsafe impl Sync for Port {}

impl Port {
    /// A detached port of block `inst`, whose frames will enter the engine at that block.
    pub fn new(inst: &NewInstance<'_>) -> Result<Pin<KBox<Port>>> {
        let (entry, space) = (inst.entry, inst.space.clone());
        let passed = PerCpu::new()?;
        let config = RcuBox::new();
        // (a port's memory is its block's: charged to the sender's memory cgroup)
        config.replace(Some(KBox::new(PortConfig::default(), GFP_KERNEL_ACCOUNT)?));
        let mut port = KBox::pin_init(
            pin_init!(Port {
                c: NonNull::dangling(),
                entry,
                space,
                config,
                passed,
                _pin: core::marker::PhantomPinned,
            }),
            GFP_KERNEL_ACCOUNT,
        )?;
        let owner: *const Port = &*port;
        // SAFETY: allocates the C half; `owner` is this pinned port, which frees it in drop.
        let c = unsafe { ffi::lana_port_new(owner.cast_mut().cast()) };
        let c = NonNull::new(c).ok_or(ENOMEM)?;
        // INVARIANT: `c` is the C half, owned by this port from now on. (On the error above
        // `c` is still dangling: drop checks for that.)
        // SAFETY: only the `c` field changes; the port stays pinned.
        unsafe { port.as_mut().get_unchecked_mut().c = c };
        Ok(port)
    }

    fn c(&self) -> *mut LanaPortC {
        self.c.as_ptr()
    }

    /// The settings in force.
    pub fn config(&self) -> PortConfig {
        let guard = rcu::Guard::new();
        self.config.get(&guard).copied().unwrap_or_default()
    }

    /// Apply `new` settings and, with `dev = Some(ifname)`, attach to that device of the
    /// block's own network namespace, all in one step: frames see the old settings or the
    /// new ones, and nothing changes if it fails. `EBUSY` if the port is attached to another
    /// device or the device has an rx_handler already (a bridge, a bond, another eth block),
    /// `ENODEV` if the namespace has no such device, `EOPNOTSUPP` if it is not an Ethernet
    /// device. Called by the block's `set` (under the configuration mutex).
    pub fn configure(&self, new: PortConfig, dev: Option<&str>) -> Result<Option<Attached>> {
        let cfg = KBox::new(new, GFP_KERNEL_ACCOUNT)?;
        let Some(ifname) = dev else {
            self.config.replace(Some(cfg));
            return Ok(None);
        };
        let (buf, net) = self.device(ifname)?;
        let mut other = core::ptr::null_mut();
        // SAFETY: `c` is valid; `buf` is NUL-terminated; `net` is alive (above); `other` a
        // valid out pointer. The port's attachment changes only under the configuration
        // mutex (held by our caller) or when the device goes away.
        let r = unsafe { ffi::lana_port_match(self.c(), buf.as_ptr().cast(), net, &mut other) };
        match r {
            // another eth block holds the device
            2 => return Err(EBUSY),
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
        // SAFETY: `c` is valid and its owner (we) outlives the attachment (detached in
        // drop); `buf` is NUL-terminated; `net` is alive (above).
        let r = unsafe { ffi::lana_port_attach(self.c(), buf.as_ptr().cast(), net) };
        if r < 0 {
            self.config.replace(Some(old));
            return Err(Error::from_errno(r));
        }
        Ok(Some(Attached::Now))
    }

    /// Device `ifname` as C wants it (NUL-terminated) and the namespace to look it up in:
    /// the block's, alive while the block is in the configuration, which its pernet exit
    /// empties under the configuration mutex our caller holds.
    fn device(&self, ifname: &str) -> Result<([u8; 17], *mut bindings::net)> {
        let mut buf = [0u8; 17];
        if ifname.is_empty() || ifname.len() >= buf.len() {
            return Err(EINVAL);
        }
        buf[..ifname.len()].copy_from_slice(ifname.as_bytes());
        let net = self.space.net();
        if net.is_null() {
            return Err(ENODEV); // a private (test) configuration has no devices
        }
        Ok((buf, net))
    }

    /// Whether [`Port::configure`] with `dev` would succeed now, changing nothing (a
    /// transaction's check). The same errors.
    pub fn check(&self, dev: Option<&str>) -> Result {
        let Some(ifname) = dev else {
            return Ok(());
        };
        let (buf, net) = self.device(ifname)?;
        let mut other = core::ptr::null_mut::<c_void>();
        // SAFETY: as in `configure`: `c` is valid, `buf` NUL-terminated, `net` alive,
        // `other` a valid out pointer.
        let r = unsafe { ffi::lana_port_match(self.c(), buf.as_ptr().cast(), net, &mut other) };
        if r >= 0 {
            // no earlier setting of the transaction gives this device or this port away
            let me: *const Port = self;
            crate::txn::claim(me as usize, net as usize, ifname)?;
        }
        if r == 2 {
            // Held by another eth block: free by the commit if the transaction removes it
            // (it lets go before the settings apply).
            // SAFETY: `other` is the owner of a port that held the device under rtnl just now:
            // its block is in the configuration or in the open transaction's journal (a
            // block detaches when it is retired, under the configuration mutex our caller
            // holds, and is freed only after that), so the Port is alive.
            let holder = unsafe { &*other.cast::<Port>() };
            return if crate::txn::is_leaving(holder.entry) {
                Ok(())
            } else {
                Err(EBUSY)
            };
        }
        if r < 0 {
            return Err(Error::from_errno(r));
        }
        Ok(())
    }

    /// Detach (waits for running receive handlers). Harmless when detached.
    pub fn detach(&self) {
        // SAFETY: `c` is valid; the helper checks under rtnl whether it is attached.
        unsafe { ffi::lana_port_detach(self.c()) };
    }

    /// Whether a device is attached.
    pub fn is_attached(&self) -> bool {
        let mut buf = [0u8; 17];
        self.ifname(&mut buf).is_some()
    }

    /// The attached device's name, written into `buf`.
    pub fn ifname<'a>(&self, buf: &'a mut [u8; 17]) -> Option<&'a str> {
        // SAFETY: `c` is valid; the helper writes at most `len` bytes, NUL-terminated.
        unsafe { ffi::lana_port_ifname(self.c(), buf.as_mut_ptr().cast(), buf.len()) };
        let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
        let s = core::str::from_utf8(&buf[..end]).ok()?;
        (!s.is_empty()).then_some(s)
    }

    /// The device's state: `None` when detached, else whether it is up (running, with
    /// carrier) and its MTU.
    pub fn link(&self) -> Option<(bool, u32)> {
        let (mut up, mut mtu) = (false, 0u32);
        // SAFETY: `c` is valid; `up` and `mtu` are valid out pointers.
        unsafe { ffi::lana_port_link(self.c(), &mut up, &mut mtu) }.then_some((up, mtu))
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
        let peer = cfg.peer.as_ref().map_or(core::ptr::null(), |m| m.as_ptr());
        // SAFETY: `c` is valid; `peer` is NULL or 6 bytes that outlive the call; the helper
        // consumes the skb in every case.
        let r = unsafe { ffi::lana_port_xmit(self.c(), pkt.into_raw(), proto, peer) };
        Consumed(match r {
            0 => Fate::Transmitted,
            r if r == ENETDOWN.to_errno() => Fate::Dropped(DropReason::DeviceDown),
            _ => Fate::Dropped(DropReason::TxError),
        })
    }
}

#[pinned_drop]
impl PinnedDrop for Port {
    fn drop(self: Pin<&mut Self>) {
        if self.c == NonNull::dangling() {
            return; // `new` failed before the C half existed
        }
        self.detach();
        // SAFETY: detached: no rx_handler or notifier reaches `c` any more; freed once.
        unsafe { ffi::lana_port_free(self.c()) };
    }
}

/// The rx_handler (via the C trampoline, which checked the frame has an Ethernet header):
/// hand claimed frames to the engine.
///
/// # Safety
///
/// Called by `netdev.c`'s rx_handler only, in the receive softirq, with the skb it was given,
/// the port's owner (a live, pinned [`Port`]: it detaches, waiting for handlers, before it is
/// freed), the frame's MAC header at `mac` (a whole Ethernet header: the trampoline checked
/// `skb_mac_header_len`), its EtherType in host order, whether the skb is shared, and this
/// CPU's per-CPU offset.
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_rx(
    skb: *mut bindings::sk_buff,
    owner: *mut c_void,
    mac: *mut u8,
    proto: u16,
    shared: bool,
    cpu_offset: usize,
) -> c_uint {
    // SAFETY: `owner` is a live Port (function docs).
    let port = unsafe { &*owner.cast::<Port>() };
    // SAFETY: the receive softirq: bottom halves are off for the handler's duration, and
    // the trampoline computed this CPU's offset (function docs).
    let ctx = unsafe { PacketContext::with_cpu(CpuOffset::from_c(cpu_offset)) };
    let Some(cfg) = port.config.read(&ctx) else {
        return RX_HANDLER_PASS;
    };
    let mut claimed = cfg.ethertype == 0 || proto == cfg.ethertype;
    if claimed {
        if let Some(dst) = cfg.dst {
            // SAFETY: `mac` is a whole Ethernet header (function docs), which starts with the
            // destination address.
            let hdr = unsafe { core::slice::from_raw_parts(mac, 6) };
            claimed = hdr == dst;
        }
    }
    if !claimed {
        // SAFETY: softirq: this CPU's copy is ours alone (`ctx`).
        unsafe {
            let n = port.passed.on(ctx.cpu);
            *n = (*n).wrapping_add(1);
        }
        return RX_HANDLER_PASS;
    }
    let pkt = if shared {
        // SAFETY: the stack hands the handler a valid skb; returning CONSUMED gives it to us.
        unsafe { Packet::from_raw_shared(skb) }
    } else {
        // SAFETY: as above; the skb is not shared (function docs), so it is ours alone.
        unsafe { Packet::from_raw(skb) }
    };
    let Some(mut pkt) = pkt else {
        return RX_HANDLER_CONSUMED;
    };
    // SAFETY: `mac` is the MAC header of the skb the trampoline checked (function docs); a
    // clone of it shares its buffer and its `data`, so `mac` is the clone's MAC header too.
    unsafe { pkt.push_to(mac) };
    // blocks see frames from the Ethernet header on
    engine::receive_from_link(&ctx, pkt, port.entry, &port.space);
    RX_HANDLER_CONSUMED
}

/// The port's device changed state (`netdev.c` queues this from its netdevice notifier):
/// tell the eth block holding it and, through the neighbours' chains, the blocks along its
/// paths.
///
/// # Safety
///
/// `owner` is a live [`Port`] (it cancels this work before it is freed).
///
/// Returns `false`, having done nothing, when the configuration mutex is busy: the caller
/// tries again later (waiting for the mutex here could deadlock with a command that waits
/// for this port to be freed).
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_port_link_changed(owner: *mut c_void) -> bool {
    // SAFETY: `owner` is a live Port (function docs).
    let port = unsafe { &*owner.cast::<Port>() };
    let Some(cfg) = config::try_lock() else {
        return false;
    };
    let link = port.link();
    let (up, mtu) = link.unwrap_or((false, 0));
    if let Some(n) = cfg
        .node(port.entry.slot)
        .filter(|n| n.inst.id == port.entry.id)
    {
        n.inst.chain.link_event(up, mtu);
        crate::netlink::announce_link(&port.space, n.inst.name.as_str(), link.is_some(), up, mtu);
    }
    true
}

/// The port's device went away and the port let go of it (`netdev.c`'s notifier, under
/// rtnl): what `fbctl list` shows changed.
///
/// # Safety
///
/// `owner` is a live [`Port`].
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_port_gone(owner: *mut c_void) {
    // SAFETY: `owner` is a live Port (function docs).
    let port = unsafe { &*owner.cast::<Port>() };
    port.space.generation.changed();
}
