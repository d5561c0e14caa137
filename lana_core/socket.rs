// SPDX-License-Identifier: GPL-2.0
//! Applications on LANA: the `socket` block type and its side of the AF_LANA socket family.
//!
//! `socket(AF_LANA, SOCK_RAW, 0)` + bind to a `socket` block by name (the socket layer glue
//! is `socket.c`). What the graph passes to the block in the ingress direction lands in the
//! socket's receive queue (bounded by its receive buffer; a full queue drops and counts);
//! what the application sends enters the graph at the block in the egress direction.
//!
//! A socket and its block share a [`SockLink`]: the block delivers to the socket the link
//! names (read under RCU), the socket sends into the graph at the block's [`Entry`], which
//! the engine refuses (`ENOTCONN`) once the block is gone.
//!
//! The block listens to its neighbours: a device at the other end of its path going down
//! (or away) reaches it as a link event, and sends then fail at once with `ENETDOWN` instead
//! of being dropped at the device; the device's MTU bounds what one send may carry.
//!
//! Creating an AF_LANA socket needs CAP_NET_RAW in the user namespace owning the network
//! namespace, as AF_PACKET does (`socket.c`): a socket block's traffic is raw link traffic.

use crate::block::{Block, Direction, Entry, Event, NeighbourEvent, NewInstance, Reason, Verdict};
use crate::config;
use crate::engine;
use crate::fate::{Consumed, DropReason, Fate};
use crate::ffi;
use crate::packet::Packet;
use crate::percpu::{PacketContext, PerCpuCounters};
use crate::props::PropSink;
use crate::space::Space;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;

/// What a socket block and the socket bound to it share.
pub(crate) struct SockLink {
    /// The bound socket, NULL when none. Sockets are freed after a grace period
    /// (SOCK_RCU_FREE), so a pointer read under RCU stays valid for the read-side section.
    sk: AtomicPtr<bindings::sock>,
    /// Where the socket's messages enter the graph.
    entry: Entry,
    /// The block's namespace's space (where the messages are counted).
    space: Arc<Space>,
    /// Whether the last link event along the block's path said the device is up.
    path_up: AtomicBool,
    /// The MTU that event reported (0: no event yet).
    path_mtu: AtomicU32,
}

/// The AF_LANA address family, registered while the core is loaded.
pub(crate) struct Family(());

impl Family {
    /// Register it (module init).
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: registers the static family and proto in socket.c; undone in drop.
        kernel::error::to_result(unsafe { ffi::lana_sock_register() })?;
        Ok(Family(()))
    }
}

impl Drop for Family {
    fn drop(&mut self) {
        // SAFETY: registered in `register`; no socket is open (each pins the module).
        unsafe { ffi::lana_sock_unregister() };
    }
}

/// The address family number in use.
pub(crate) fn family() -> i32 {
    // SAFETY: reads a read-only module parameter.
    unsafe { ffi::lana_sock_family() }
}

/// The `socket` block type, the core's own.
pub(crate) struct SocketBlock {
    link: Arc<SockLink>,
    /// Messages delivered to the socket (packets) and refused by a full queue (drops).
    delivered: PerCpuCounters,
}

#[vtable]
impl Block for SocketBlock {
    const NAME: &'static str = "socket";
    const DESCRIPTION: &'static str =
        "an AF_LANA socket's end of the graph: ingress to the application, its sends go egress";
    const MAX_INGRESS: u32 = 0;

    fn new(inst: &NewInstance<'_>) -> Result<Self> {
        let link = SockLink {
            sk: AtomicPtr::new(core::ptr::null_mut()),
            entry: inst.entry,
            space: inst.space.clone(),
            path_up: AtomicBool::new(true),
            path_mtu: AtomicU32::new(0),
        };
        Ok(SocketBlock {
            link: Arc::new(link, GFP_KERNEL)?,
            delivered: PerCpuCounters::new()?,
        })
    }

    fn receive(&self, ctx: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
        if dir == Direction::Egress {
            return Verdict::next(pkt, dir);
        }
        let sk = self.link.sk.load(Ordering::Acquire);
        if sk.is_null() {
            return Verdict::drop(pkt, DropReason::NoSocket);
        }
        let len = pkt.len();
        let raw = pkt.into_raw();
        // SAFETY: `sk` is a live socket for this read-side section (`ctx`: bottom halves off;
        // SockLink docs); we own `raw`.
        let reason = match unsafe { ffi::lana_sock_deliver(sk, raw) } {
            ffi::LANA_SOCK_QUEUED => {
                self.delivered.add(ctx, len);
                return Verdict::consumed(Consumed(Fate::Delivered));
            }
            ffi::LANA_SOCK_FULL => {
                self.delivered.add_drop(ctx);
                DropReason::SocketFull
            }
            ffi::LANA_SOCK_NOMEM => DropReason::NoMemory,
            // (LANA_SOCK_FILTERED) the application's own filter refused it
            _ => DropReason::Filtered,
        };
        // SAFETY: the socket refused the skb, so it is still ours, unshared.
        match unsafe { Packet::from_raw(raw) } {
            Some(pkt) => Verdict::drop(pkt, reason),
            None => Verdict::consumed(Consumed(Fate::Dropped(reason))),
        }
    }

    fn event(&self, event: &Event<'_>, why: &mut Reason) -> Result {
        match event {
            Event::Remove if !self.link.sk.load(Ordering::Relaxed).is_null() => {
                why.set("a socket is bound to this block: close it first");
                Err(EBUSY)
            }
            Event::ReplaceIn { .. } | Event::ReplaceOut { .. } => {
                why.set("socket blocks hold an application's socket and cannot be replaced");
                Err(EOPNOTSUPP)
            }
            Event::Neighbour {
                what: NeighbourEvent::Link { up, mtu },
                ..
            } => {
                self.link.path_up.store(*up, Ordering::Relaxed);
                self.link.path_mtu.store(*mtu, Ordering::Relaxed);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn detach(&self) {
        // After `flush` a socket may still hold the link: it stops receiving now, and its
        // sends fail with ENOTCONN (the engine no longer finds the block).
        self.link.sk.store(core::ptr::null_mut(), Ordering::Release);
    }

    fn show(&self, out: &mut dyn PropSink) {
        let bound = !self.link.sk.load(Ordering::Relaxed).is_null();
        out.text(
            "socket",
            format_args!("{}", if bound { "bound" } else { "none" }),
        );
        let up = self.link.path_up.load(Ordering::Relaxed);
        out.text("path", format_args!("{}", if up { "up" } else { "down" }));
        out.num(
            "path_mtu",
            u64::from(self.link.path_mtu.load(Ordering::Relaxed)),
        );
        let t = self.delivered.sum();
        out.num("delivered", t.packets);
        out.num("queue_full_drops", t.drops);
        out.num("family", u64::try_from(family()).unwrap_or(0));
    }
}

/// bind(2): attach socket `sk` of namespace `net` to the socket block `name` of the same
/// namespace; on success `*link` holds a reference for the socket.
///
/// # Safety
///
/// `sk` is the binding socket (locked by the caller), `net` its namespace, `name` a
/// NUL-terminated string, `link` a valid out pointer.
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_sock_bind(
    sk: *mut bindings::sock,
    net: *mut bindings::net,
    name: *const c_char,
    link: *mut *mut c_void,
) -> c_int {
    // SAFETY: socket.c passes a NUL-terminated name of at most 32 bytes (function docs).
    let name = unsafe { CStr::from_char_ptr(name) };
    let Ok(name) = name.to_str() else {
        return EINVAL.to_errno();
    };
    let cfg = config::lock();
    let Some(sp) = cfg.space_of(net) else {
        return EADDRNOTAVAIL.to_errno();
    };
    let Some(node) = cfg.find(&sp, name).and_then(|s| cfg.node(s)) else {
        return EADDRNOTAVAIL.to_errno();
    };
    let Some(block) = node.inst.fb.as_any().downcast_ref::<SocketBlock>() else {
        return EPROTOTYPE.to_errno();
    };
    if block
        .link
        .sk
        .compare_exchange(
            core::ptr::null_mut(),
            sk,
            Ordering::AcqRel,
            Ordering::Acquire,
        )
        .is_err()
    {
        return EADDRINUSE.to_errno();
    }
    sp.generation.changed();
    let raw = Arc::into_raw(block.link.clone());
    // SAFETY: `link` is a valid out pointer (function docs).
    unsafe { *link = raw.cast_mut().cast() };
    0
}

/// release(2): the socket lets go of its block.
///
/// # Safety
///
/// `link` came from [`lana_rust_sock_bind`]; the socket gives up that reference here, once.
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_sock_unbind(link: *mut c_void) {
    // SAFETY: see the function docs.
    let link = unsafe { Arc::from_raw(link.cast::<SockLink>().cast_const()) };
    link.sk.store(core::ptr::null_mut(), Ordering::Release);
    link.space.generation.changed();
}

/// sendmsg(2): run the engine on the message from the socket's block, egress. Consumes
/// `skb` (a fresh, unshared buffer). `ENOTCONN` if the block is gone, `ENETDOWN` if the
/// device at the end of its path is down, `EMSGSIZE` if the message exceeds that device's
/// MTU.
///
/// # Safety
///
/// `link` is the reference the bound socket holds (valid until unbind, which cannot run
/// concurrently: the socket is locked); `skb` a fresh skb whose reference the caller gives up.
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_sock_send(
    link: *mut c_void,
    skb: *mut bindings::sk_buff,
) -> c_int {
    // SAFETY: see the function docs.
    let link = unsafe { &*link.cast::<SockLink>() };
    // SAFETY: see the function docs.
    let Some(pkt) = (unsafe { Packet::from_raw(skb) }) else {
        return EINVAL.to_errno();
    };
    if !link.path_up.load(Ordering::Relaxed) {
        return ENETDOWN.to_errno();
    }
    let mtu = link.path_mtu.load(Ordering::Relaxed);
    if mtu != 0 && pkt.len() > mtu {
        return EMSGSIZE.to_errno();
    }
    match engine::send(pkt, link.entry, &link.space, Direction::Egress) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
