// SPDX-License-Identifier: GPL-2.0
//! The packet processing engine (PPE): moves a packet from block to block by the verdict each
//! returns, until it ends in one counted fate.
//!
//! It runs in the receive softirq (entered from an eth block's rx_handler), in a PPE thread
//! with bottom halves off, or in a socket's `sendmsg` with bottom halves off, always under
//! RCU, reading the current [`Graph`] snapshot. Per hop it does an array lookup, a call
//! through the block's vtable and a per-CPU counter update: no lock, no atomic, no
//! allocation (except the clones a fan-out asks for).
//!
//! # Accounting
//!
//! Every packet that enters (from a device or a socket) and every copy a fan-out makes ends
//! in exactly one fate: delivered to a socket, transmitted on a device, or dropped for a
//! [`DropReason`]. So, once no packet is in flight, `entered + copies == delivered +
//! transmitted + dropped` (`fbctl stats` shows both sides; the test suite checks it after
//! every test).

use crate::block::{Consumed, Direction, DropReason, Entry, Fate, Verdict};
use crate::ffi;
use crate::graph::{self, Graph, Hop};
use crate::packet::Packet;
use crate::percpu::{CpuOffset, PacketContext, PerCpu, Zeroed};
use kernel::prelude::*;
use kernel::sync::rcu;

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

/// Engine-wide counters, shared by every snapshot.
pub(crate) struct EngineCounters(PerCpu<Fates>);

impl EngineCounters {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self(PerCpu::new()?))
    }

    /// The sums over all CPUs.
    pub(crate) fn totals(&self) -> Fates {
        self.0.fold(Fates::default(), Fates::add)
    }

    #[inline]
    fn on(&self, cpu: CpuOffset) -> &mut Fates {
        // SAFETY: `cpu` is this CPU's offset with bottom halves off (CpuOffset invariant):
        // this CPU's copy, and no other writer runs on it meanwhile.
        unsafe { &mut *self.0.on(cpu) }
    }

    #[inline]
    fn fate(&self, cpu: CpuOffset, fate: Fate) {
        let f = self.on(cpu);
        match fate {
            Fate::Delivered => f.delivered += 1,
            Fate::Transmitted => f.transmitted += 1,
            Fate::Dropped(r) => f.dropped[r as usize] += 1,
        }
    }
}

/// Whether the engine runs inline in the receive softirq (`ppe_mode=0`), rather than in
/// per-CPU threads.
#[inline]
pub fn inline() -> bool {
    // SAFETY: reads a read-only module parameter.
    unsafe { ffi::lana_ppe_mode() == 0 }
}

/// The execution mechanism's name.
pub fn mechanism() -> &'static str {
    // SAFETY: returns a pointer to a static NUL-terminated string.
    let name = unsafe { CStr::from_ptr(ffi::lana_ppe_mode_name().cast()) };
    name.to_str().unwrap_or("?")
}

/// Start the engine threads if the mechanism has them (module init).
pub(crate) fn start() -> Result {
    // SAFETY: called once from module init.
    kernel::error::to_result(unsafe { ffi::lana_ppe_start() })
}

/// Stop them (module exit, after every device is detached); frames still queued are dropped
/// and counted.
pub(crate) fn stop() {
    // SAFETY: called once from module exit, after `start` succeeded.
    unsafe { ffi::lana_ppe_stop() };
}

/// The hop limit in force (module parameter `max_hops`).
pub fn max_hops() -> u32 {
    // SAFETY: reads a module parameter.
    unsafe { ffi::lana_max_hops() }
}

/// The copies one entering packet's fan-outs may make in all (module parameter `max_copies`):
/// with `max_hops` it bounds the work one packet can cause, whatever the graph.
pub fn max_copies() -> u32 {
    // SAFETY: reads a module parameter.
    unsafe { ffi::lana_max_copies() }
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
    let guard = rcu::Guard::new();
    let Some(g) = graph::current(&guard) else {
        return; // no graph: the core is going away and no block exists; `pkt` is freed
    };
    let f = g.counters.on(ctx.cpu);
    f.entered += 1;
    f.entered_bytes += pkt.len() as u64;
    if inline() {
        enter_from_link(g, &ctx, pkt, entry);
    } else {
        // SAFETY: hands our unshared skb to this CPU's engine thread, which owns it now
        // (and counts it if the queue is full).
        unsafe { ffi::lana_ppe_enqueue(pkt.into_raw(), entry.pack()) };
    }
}

/// A queued frame, run by an engine thread (bottom halves off). Already counted as entered.
pub(crate) fn resume_from_queue(pkt: Packet, entry: Entry) {
    // SAFETY: the thread mechanisms call this with bottom halves disabled.
    let ctx = unsafe { PacketContext::new() };
    let guard = rcu::Guard::new();
    if let Some(g) = graph::current(&guard) {
        enter_from_link(g, &ctx, pkt, entry);
    }
}

/// Count a queued frame that will never run (queue full, device gone, CPU gone, unload)
/// and free it. Bottom halves must be off.
pub(crate) fn drop_queued(pkt: Packet, reason: DropReason) {
    // SAFETY: the thread mechanisms call this with bottom halves disabled.
    let ctx = unsafe { PacketContext::new() };
    let guard = rcu::Guard::new();
    if let Some(g) = graph::current(&guard) {
        g.counters.fate(ctx.cpu, Fate::Dropped(reason));
    }
    pkt.drop_for(reason);
}

fn enter_from_link(g: &Graph, ctx: &PacketContext, pkt: Packet, entry: Entry) {
    let cpu = ctx.cpu;
    let Some(hop) = g.entry(entry) else {
        return end(g, cpu, None, pkt, DropReason::NoBlock);
    };
    hop.inst().stats.add_on(cpu, pkt.len());
    let Some(&next) = g.ports(hop, Direction::Ingress).first() else {
        return end(g, cpu, Some(hop), pkt, DropReason::NoNext);
    };
    run(g, ctx, Work { pkt, slot: next, dir: Direction::Ingress, hops: 1 });
}

/// A message a socket sends, entering at its block (`entry`) in `dir`. Process context; the
/// engine runs here with bottom halves off. `ENOTCONN` (and nothing counted) if the block is
/// gone.
pub(crate) fn send(pkt: Packet, entry: Entry, dir: Direction) -> Result {
    let _bh = crate::percpu::BhGuard::new();
    // SAFETY: bottom halves are off until `_bh` drops, after the packet is done.
    let ctx = unsafe { PacketContext::new() };
    let guard = rcu::Guard::new();
    let Some(g) = graph::current(&guard) else {
        return Err(ENOTCONN);
    };
    if g.entry(entry).is_none() {
        return Err(ENOTCONN);
    }
    let f = g.counters.on(ctx.cpu);
    f.entered += 1;
    f.entered_bytes += pkt.len() as u64;
    run(g, &ctx, Work { pkt, slot: entry.slot, dir, hops: 0 });
    Ok(())
}

/// The packet ends dropped for `reason`, charged to `hop` if there is one.
#[cold]
fn end(g: &Graph, cpu: CpuOffset, hop: Option<&Hop>, pkt: Packet, reason: DropReason) {
    if let Some(h) = hop {
        h.inst().stats.add_drop_on(cpu);
    }
    g.counters.fate(cpu, Fate::Dropped(reason));
    pkt.drop_for(reason);
}

fn run(g: &Graph, ctx: &PacketContext, first: Work) {
    let max = max_hops();
    let mut copies_left = max_copies();
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
        next = step(g, ctx, w, max, &mut copies_left, &mut pending, &mut npending);
    }
}

/// Run one block on `w`; return where the packet goes next.
#[inline]
fn step(
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
        end(g, cpu, None, w.pkt, DropReason::NoBlock);
        return None;
    };
    let inst = hop.inst();
    inst.stats.add_on(cpu, w.pkt.len());
    if w.hops >= max {
        end(g, cpu, Some(hop), w.pkt, DropReason::HopLimit);
        return None;
    }
    let hops = w.hops + 1;
    match inst.fb.receive(ctx, w.pkt, w.dir) {
        Verdict::Next(pkt, dir) => match g.ports(hop, dir).first() {
            Some(&slot) => Some(Work { pkt, slot, dir, hops }),
            None => {
                end(g, cpu, Some(hop), pkt, DropReason::NoNext);
                None
            }
        },
        Verdict::Fanout(pkt, dir) => {
            let ports = g.ports(hop, dir);
            let Some((&first, rest)) = ports.split_first() else {
                end(g, cpu, Some(hop), pkt, DropReason::NoNext);
                return None;
            };
            for &slot in rest {
                g.counters.on(cpu).copies += 1;
                if *copies_left == 0 {
                    inst.stats.add_drop_on(cpu);
                    g.counters.fate(cpu, Fate::Dropped(DropReason::FanoutFailed));
                    continue;
                }
                *copies_left -= 1;
                match pkt.try_clone() {
                    Some(copy) if *npending < PENDING => {
                        pending[*npending] = Some(Work { pkt: copy, slot, dir, hops });
                        *npending += 1;
                    }
                    Some(copy) => end(g, cpu, Some(hop), copy, DropReason::FanoutFailed),
                    None => {
                        inst.stats.add_drop_on(cpu);
                        g.counters.fate(cpu, Fate::Dropped(DropReason::FanoutFailed));
                    }
                }
            }
            Some(Work { pkt, slot: first, dir, hops })
        }
        Verdict::Drop(pkt, reason) => {
            end(g, cpu, Some(hop), pkt, reason);
            None
        }
        Verdict::Consumed(Consumed(fate)) => {
            if let Fate::Dropped(_) = fate {
                inst.stats.add_drop_on(cpu);
            }
            g.counters.fate(cpu, fate);
            None
        }
    }
}
