// SPDX-License-Identifier: GPL-2.0
//! The packet processing engine (PPE): moves a packet from block to block by the verdict each
//! returns, until it ends in one counted fate.
//!
//! The [`Engine`] owns the published graph snapshot and the accounting. It runs in the
//! receive softirq (entered from an eth block's rx_handler), in a PPE thread with bottom
//! halves off ([`crate::mechanism`]), or in a socket's `sendmsg` with bottom halves off,
//! always under RCU. Per hop it does an array lookup, a call through the block's vtable and a
//! per-CPU counter update: no lock, no atomic, no allocation (except the clones a fan-out
//! asks for).
//!
//! # Accounting
//!
//! Every packet that enters (from a device or a socket) and every copy a fan-out makes ends
//! in exactly one fate: delivered to a socket, transmitted on a device, or dropped for a
//! [`DropReason`]. So, once no packet is in flight, `entered + copies == delivered +
//! transmitted + dropped` (`fbctl stats` shows both sides; the test suite checks it after
//! every test).

use crate::block::{Direction, Entry, Verdict};
use crate::fate::{Consumed, DropReason, Fate};
use crate::graph::{Graph, Hop};
use crate::mechanism;
use crate::packet::Packet;
use crate::percpu::{BhGuard, CpuOffset, PacketContext, PerCpu, Zeroed};
use crate::rcu::RcuBox;
use kernel::bindings;
use kernel::prelude::*;

/// The engine's per-CPU accounting.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct Fates {
    pub(crate) entered: u64,
    pub(crate) entered_bytes: u64,
    pub(crate) copies: u64,
    pub(crate) delivered: u64,
    pub(crate) transmitted: u64,
    pub(crate) dropped: [u64; DropReason::COUNT],
}

// SAFETY: plain u64s; zero is valid.
unsafe impl Zeroed for Fates {}

impl Fates {
    /// Packets that ended dropped, for any reason.
    pub(crate) fn dropped_total(&self) -> u64 {
        self.dropped.iter().fold(0u64, |a, &d| a.wrapping_add(d))
    }

    fn add(mut self, o: Fates) -> Fates {
        self.entered = self.entered.wrapping_add(o.entered);
        self.entered_bytes = self.entered_bytes.wrapping_add(o.entered_bytes);
        self.copies = self.copies.wrapping_add(o.copies);
        self.delivered = self.delivered.wrapping_add(o.delivered);
        self.transmitted = self.transmitted.wrapping_add(o.transmitted);
        for (a, b) in self.dropped.iter_mut().zip(o.dropped) {
            *a = a.wrapping_add(b);
        }
        self
    }
}

/// The engine: the graph it walks and what it counts.
pub(crate) struct Engine {
    graph: RcuBox<Graph>,
    fates: PerCpu<Fates>,
}

impl Engine {
    fn new() -> Result<Self> {
        Ok(Self {
            graph: RcuBox::new(),
            fates: PerCpu::new()?,
        })
    }

    /// Publish `g`: packets from now on walk it; the previous snapshot is dropped after a
    /// grace period (without waiting here).
    pub(crate) fn install(&self, g: KBox<Graph>) {
        self.graph.replace(Some(g));
    }

    /// The sums of the accounting over all CPUs.
    pub(crate) fn totals(&self) -> Fates {
        self.fates.fold(Fates::default(), Fates::add)
    }

    /// Change this CPU's accounting.
    #[inline]
    fn count(&self, cpu: CpuOffset, f: impl FnOnce(&mut Fates)) {
        // SAFETY: `cpu` is this CPU's offset with bottom halves off (CpuOffset invariant):
        // this CPU's copy, and no other writer runs on it while `f` does.
        f(unsafe { &mut *self.fates.on(cpu) })
    }

    #[inline]
    fn fate(&self, cpu: CpuOffset, fate: Fate) {
        self.count(cpu, |f| match fate {
            Fate::Delivered => f.delivered += 1,
            Fate::Transmitted => f.transmitted += 1,
            Fate::Dropped(r) => f.dropped[r as usize] += 1,
        });
    }

    #[inline]
    fn entered(&self, cpu: CpuOffset, len: u32) {
        self.count(cpu, |f| {
            f.entered += 1;
            f.entered_bytes += u64::from(len);
        });
    }
}

/// The engine of the (one) graph; set up in module init, gone at exit.
static ENGINE: RcuBox<Engine> = RcuBox::new();

/// The engine, for the control plane (process context, which may sleep). `None` only during
/// module init and exit, when no command runs.
pub(crate) fn with<R>(f: impl FnOnce(&Engine) -> R) -> Option<R> {
    // SAFETY: the engine is replaced only by `Running` (module init and exit), and commands
    // run only between them: the netlink family is registered after the engine starts and
    // unregistered (waiting for running commands) before it stops.
    unsafe { ENGINE.get_unguarded() }.map(f)
}

/// The running engine; stopping it (drop) unpublishes the graph.
pub(crate) struct Running(());

impl Running {
    /// Set up the engine (module init).
    pub(crate) fn start() -> Result<Self> {
        ENGINE.replace(Some(KBox::new(Engine::new()?, GFP_KERNEL)?));
        Ok(Running(()))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // dropped after a grace period, with the last snapshot
        ENGINE.replace(None);
    }
}

/// The hop limit in force (module parameter `max_hops`).
pub(crate) fn max_hops() -> u32 {
    crate::params::max_hops()
}

/// Copies of one packet a fan-out may have pending at once.
const PENDING: usize = 8;

struct Work {
    pkt: Packet,
    slot: u32,
    dir: Direction,
    hops: u32,
}

/// A frame an eth block claimed from its device, in the rx_handler (softirq, under RCU). It
/// is counted as entered here; then it runs now, or is queued for this CPU's engine thread.
pub(crate) fn receive_from_link(pkt: Packet, entry: Entry) {
    // SAFETY: rx_handlers run in the receive softirq: bottom halves are off.
    let ctx = unsafe { PacketContext::new() };
    let Some(e) = ENGINE.read(&ctx) else {
        return pkt.drop_for(DropReason::NoBlock); // the core is going away: nothing counts
    };
    e.entered(ctx.cpu, pkt.len());
    if mechanism::inline() {
        enter_from_link(e, &ctx, pkt, entry);
    } else {
        mechanism::enqueue(pkt, entry);
    }
}

/// A queued frame, run by an engine thread (bottom halves off). Already counted as entered.
pub(crate) fn resume_from_queue(ctx: &PacketContext, pkt: Packet, entry: Entry) {
    match ENGINE.read(ctx) {
        Some(e) => enter_from_link(e, ctx, pkt, entry),
        None => pkt.drop_for(DropReason::Flushed),
    }
}

/// Count a queued frame that will never run (queue full, device gone, unload) and free it.
pub(crate) fn drop_queued(ctx: &PacketContext, pkt: Packet, reason: DropReason) {
    if let Some(e) = ENGINE.read(ctx) {
        e.fate(ctx.cpu, Fate::Dropped(reason));
    }
    pkt.drop_for(reason);
}

fn enter_from_link(e: &Engine, ctx: &PacketContext, pkt: Packet, entry: Entry) {
    let Some(g) = e.graph.read(ctx) else {
        return end(e, ctx.cpu, None, pkt, DropReason::NoBlock);
    };
    let Some(hop) = g.entry(entry) else {
        return end(e, ctx.cpu, None, pkt, DropReason::NoBlock);
    };
    hop.inst().stats.add_on(ctx.cpu, pkt.len());
    let Some(&next) = g.ports(hop, Direction::Ingress).first() else {
        return end(e, ctx.cpu, Some(hop), pkt, DropReason::NoNext);
    };
    run(
        e,
        g,
        ctx,
        Work {
            pkt,
            slot: next,
            dir: Direction::Ingress,
            hops: 1,
        },
    );
}

/// A message a socket sends, entering at its block (`entry`) in `dir`. Process context; the
/// engine runs here with bottom halves off. `ENOTCONN` (and nothing counted) if the block is
/// gone.
pub(crate) fn send(pkt: Packet, entry: Entry, dir: Direction) -> Result {
    let _bh = BhGuard::new();
    // SAFETY: bottom halves are off until `_bh` drops, after the packet is done.
    let ctx = unsafe { PacketContext::new() };
    let Some(e) = ENGINE.read(&ctx) else {
        return Err(ENOTCONN);
    };
    let Some(g) = e.graph.read(&ctx) else {
        return Err(ENOTCONN);
    };
    if g.entry(entry).is_none() {
        return Err(ENOTCONN);
    }
    e.entered(ctx.cpu, pkt.len());
    run(
        e,
        g,
        &ctx,
        Work {
            pkt,
            slot: entry.slot,
            dir,
            hops: 0,
        },
    );
    Ok(())
}

/// The packet ends dropped for `reason`, charged to `hop` if there is one.
#[cold]
fn end(e: &Engine, cpu: CpuOffset, hop: Option<&Hop>, pkt: Packet, reason: DropReason) {
    if let Some(h) = hop {
        h.inst().stats.add_drop_on(cpu);
    }
    e.fate(cpu, Fate::Dropped(reason));
    pkt.drop_for(reason);
}

fn run(e: &Engine, g: &Graph, ctx: &PacketContext, first: Work) {
    let max = max_hops();
    let mut copies_left = crate::params::max_copies();
    let mut pending: [Option<Work>; PENDING] = Default::default();
    let mut npending = 0usize;
    let mut next = Some(first);
    loop {
        let Some(w) = next.take() else {
            if npending == 0 {
                return;
            }
            npending -= 1;
            next = pending[npending].take();
            continue;
        };
        next = step(
            e,
            g,
            ctx,
            w,
            max,
            &mut copies_left,
            &mut pending,
            &mut npending,
        );
    }
}

/// Run one block on `w`; return where the packet goes next.
#[inline]
#[allow(clippy::too_many_arguments)]
fn step(
    e: &Engine,
    g: &Graph,
    ctx: &PacketContext,
    w: Work,
    max: u32,
    copies_left: &mut u32,
    pending: &mut [Option<Work>; PENDING],
    npending: &mut usize,
) -> Option<Work> {
    let cpu = ctx.cpu;
    let Some(hop) = g.hop(w.slot) else {
        // Bindings name slots of the same snapshot: this cannot happen.
        end(e, cpu, None, w.pkt, DropReason::NoBlock);
        return None;
    };
    let inst = hop.inst();
    inst.stats.add_on(cpu, w.pkt.len());
    if w.hops >= max {
        end(e, cpu, Some(hop), w.pkt, DropReason::HopLimit);
        return None;
    }
    let hops = w.hops + 1;
    match inst.fb.receive(ctx, w.pkt, w.dir) {
        Verdict::Next(pkt, dir) => match g.ports(hop, dir).first() {
            Some(&slot) => Some(Work {
                pkt,
                slot,
                dir,
                hops,
            }),
            None => {
                end(e, cpu, Some(hop), pkt, DropReason::NoNext);
                None
            }
        },
        Verdict::Fanout(pkt, dir) => {
            let ports = g.ports(hop, dir);
            let Some((&first, rest)) = ports.split_first() else {
                end(e, cpu, Some(hop), pkt, DropReason::NoNext);
                return None;
            };
            for &slot in rest {
                e.count(cpu, |f| f.copies += 1);
                if *copies_left == 0 {
                    inst.stats.add_drop_on(cpu);
                    e.fate(cpu, Fate::Dropped(DropReason::FanoutFailed));
                    continue;
                }
                *copies_left -= 1;
                match pkt.try_clone() {
                    Some(copy) if *npending < PENDING => {
                        pending[*npending] = Some(Work {
                            pkt: copy,
                            slot,
                            dir,
                            hops,
                        });
                        *npending += 1;
                    }
                    Some(copy) => end(e, cpu, Some(hop), copy, DropReason::FanoutFailed),
                    None => {
                        inst.stats.add_drop_on(cpu);
                        e.fate(cpu, Fate::Dropped(DropReason::FanoutFailed));
                    }
                }
            }
            Some(Work {
                pkt,
                slot: first,
                dir,
                hops,
            })
        }
        Verdict::Drop(pkt, reason) => {
            end(e, cpu, Some(hop), pkt, reason);
            None
        }
        Verdict::Consumed(Consumed(fate)) => {
            if let Fate::Dropped(_) = fate {
                inst.stats.add_drop_on(cpu);
            }
            e.fate(cpu, fate);
            None
        }
    }
}

/// A queued frame, for an engine thread to run (bottom halves off).
///
/// # Safety
///
/// `skb` is an unshared skb whose only reference the caller gives up; bottom halves are off.
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_ppe_run(skb: *mut bindings::sk_buff, entry: u64) {
    // SAFETY: bottom halves are off (function docs).
    let ctx = unsafe { PacketContext::new() };
    // SAFETY: the queue held the only reference to this unshared skb; it is ours now.
    if let Some(pkt) = unsafe { Packet::from_raw(skb) } {
        resume_from_queue(&ctx, pkt, Entry::unpack(entry));
    }
}

/// A queued frame that will not run, to be counted and freed (bottom halves off).
///
/// # Safety
///
/// As for [`lana_rust_ppe_run`].
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_ppe_drop(skb: *mut bindings::sk_buff, reason: u32) {
    // SAFETY: bottom halves are off (function docs).
    let ctx = unsafe { PacketContext::new() };
    // SAFETY: as in `lana_rust_ppe_run`.
    if let Some(pkt) = unsafe { Packet::from_raw(skb) } {
        drop_queued(
            &ctx,
            pkt,
            DropReason::from_u32(reason).unwrap_or(DropReason::Flushed),
        );
    }
}
