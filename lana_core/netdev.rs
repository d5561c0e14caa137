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
use crate::percpu::{PacketContext, PerCpu};
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
            r if r == EMSGSIZE.to_errno() => Fate::Dropped(DropReason::TooBig),
            r if r == ENOMEM.to_errno() => Fate::Dropped(DropReason::NoMemory),
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

/// What the rx_handler reads of a received frame's `sk_buff` (the fields `skb_mac_header`,
/// `skb_mac_header_len`, `skb_shared` and `skb->protocol` read), and the port of its device.
struct Received {
    skb: *mut bindings::sk_buff,
    /// The port whose device received it.
    owner: *const Port,
    /// `skb_mac_header_len`, negative when no MAC header was set.
    mac_len: i32,
    /// Its MAC header (valid when `mac_len` is at least `ETH_HLEN`).
    mac: *mut u8,
    /// EtherType, network byte order.
    proto: u16,
    shared: bool,
}

impl Received {
    /// # Safety
    ///
    /// `skb` is the valid skb the stack handed the rx_handler, of a device whose
    /// rx_handler_data is a `struct lana_port` (whose first field is its owner).
    #[inline(always)]
    unsafe fn read(skb: *mut bindings::sk_buff) -> Self {
        // SAFETY: `skb` is valid (function docs); its header fields are a union of the same
        // plain fields (bindgen's view of `struct_group(headers, ...)`), read here as the
        // inline helpers read them. `dev` is set by the driver before the receive path runs.
        // The device's rx_handler_data is our port (function docs; it changes only while no
        // handler runs: netdev_rx_handler_unregister waits for them), and the port's first
        // field is its owner (a static_assert in netdev.c). `users` is read as
        // `refcount_read` reads it (one plain load of an aligned int).
        unsafe {
            // (through a raw pointer: no reference to the header group is made)
            let h = core::ptr::addr_of!((*skb).__bindgen_anon_4)
                .cast::<bindings::sk_buff__bindgen_ty_4__bindgen_ty_1>();
            let dev = (*skb)
                .__bindgen_anon_1
                .__bindgen_anon_1
                .__bindgen_anon_1
                .dev;
            let data = dev
                .cast::<u8>()
                .add(ffi::lana_rx_handler_data_offset)
                .cast::<*const *const Port>();
            let port = core::ptr::read_volatile(data);
            let users = core::ptr::read_volatile(core::ptr::addr_of!((*skb).users.refs.counter));
            Received {
                skb,
                owner: *port,
                // (an unset MAC header is 0xffff: network_header - 0xffff < ETH_HLEN)
                mac_len: i32::from((*h).network_header) - i32::from((*h).mac_header),
                mac: (*skb).head.wrapping_add(usize::from((*h).mac_header)),
                proto: (*h).protocol,
                shared: users != 1,
            }
        }
    }
}

/// `ETH_HLEN`.
const ETH_HLEN: i32 = 14;

/// The rx_handler of the devices ports attach to (`netdev.c` registers it): frames the port
/// claims go to the engine, the rest to the stack.
///
/// # Safety
///
/// Called by the stack's receive path only, in the receive softirq (under RCU, bottom halves
/// off), with `pskb` pointing to the skb it hands over, for a device `netdev.c` registered it
/// on: its rx_handler_data is a port whose owner is a live, pinned [`Port`] (a port detaches,
/// waiting for running handlers, before it is freed).
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_rx(pskb: *mut *mut bindings::sk_buff) -> c_uint {
    // SAFETY: the stack hands over a valid skb of a device we registered on (function docs).
    let rx = unsafe { Received::read(*pskb) };
    // not Ethernet: not ours to read (ports attach to Ethernet devices only)
    if rx.mac_len < ETH_HLEN {
        return RX_HANDLER_PASS;
    }
    // SAFETY: `owner` is a live Port (function docs).
    let port = unsafe { &*rx.owner };
    // SAFETY: the receive softirq: bottom halves are off for the handler's duration.
    let ctx = unsafe { PacketContext::new() };
    let Some(cfg) = port.config.read(&ctx) else {
        return RX_HANDLER_PASS;
    };
    let mut claimed = cfg.ethertype == 0 || u16::from_be(rx.proto) == cfg.ethertype;
    if claimed {
        if let Some(dst) = cfg.dst {
            // SAFETY: `mac` is a whole Ethernet header (checked above), which starts with the
            // destination address.
            let hdr = unsafe { core::slice::from_raw_parts(rx.mac, 6) };
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
    let pkt = if rx.shared {
        // SAFETY: the stack hands the handler a valid skb; returning CONSUMED gives it to us.
        match unsafe { Packet::from_raw_shared(rx.skb) } {
            Ok(pkt) => Some(pkt),
            Err(len) => {
                // no memory for a copy of our own: the frame entered, and ended there
                // (counted from its MAC header, as frames that enter are; the stack pulled
                // that header: `data` is at the network header)
                let len = len.wrapping_add(rx.mac_len as u32);
                engine::lost_on_entry(&ctx, &port.space, len, DropReason::NoMemory);
                return RX_HANDLER_CONSUMED;
            }
        }
    } else {
        // SAFETY: as above; the skb is not shared, so it is ours alone.
        unsafe { Packet::from_raw(rx.skb) }
    };
    let Some(mut pkt) = pkt else {
        return RX_HANDLER_CONSUMED;
    };
    // SAFETY: `mac` is the MAC header of the skb checked above; a clone of it shares its
    // buffer and its `data`, so `mac` is the clone's MAC header too.
    unsafe { pkt.push_to(rx.mac) };
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
