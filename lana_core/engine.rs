// SPDX-License-Identifier: GPL-2.0
//! The packet processing engine (PPE): moves a packet from block to block by the verdict each
//! returns, until a block drops or consumes it.
//!
//! It runs in the receive softirq (entered from an eth block's rx_handler) under RCU, reading
//! the current [`Graph`] snapshot. Per hop it does an array lookup, a call through the block's
//! vtable and a per-CPU counter update: no lock, no atomic, no allocation (except the clones a
//! fan-out asks for).

use crate::block::{Direction, Verdict};
use crate::ffi;
use crate::graph::{self, Graph};
use crate::packet::Packet;
use crate::percpu::{CpuOffset, PerCpuCounters, Totals};
use kernel::prelude::*;
use kernel::sync::rcu;

/// Engine-wide counters.
pub struct EngineCounters {
    /// Packets that entered the engine.
    pub(crate) rx: PerCpuCounters,
    /// Packets dropped because they visited `max_hops` blocks.
    pub(crate) hop_limit: PerCpuCounters,
    /// Packets dropped because the next block did not exist (nothing bound, or removed).
    pub(crate) no_next: PerCpuCounters,
    /// Copies a fan-out could not make (out of memory) or had no room to queue.
    pub(crate) fanout_fail: PerCpuCounters,
}

impl EngineCounters {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            rx: PerCpuCounters::new()?,
            hop_limit: PerCpuCounters::new()?,
            no_next: PerCpuCounters::new()?,
            fanout_fail: PerCpuCounters::new()?,
        })
    }

    pub(crate) fn totals(&self) -> [Totals; 4] {
        [self.rx.sum(), self.hop_limit.sum(), self.no_next.sum(), self.fanout_fail.sum()]
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

/// Frames the thread mechanisms dropped because a CPU's queue was full.
pub fn queue_drops() -> u64 {
    // SAFETY: sums per-CPU counters.
    unsafe { ffi::lana_ppe_queue_drops() }
}

/// Start the engine threads if the mechanism has them (module init).
pub(crate) fn start() -> Result {
    // SAFETY: called once from module init.
    kernel::error::to_result(unsafe { ffi::lana_ppe_start() })
}

/// Stop them (module exit, after every device is detached).
pub(crate) fn stop() {
    // SAFETY: called once from module exit, after `start` succeeded.
    unsafe { ffi::lana_ppe_stop() };
}

/// The hop limit in force (module parameter `max_hops`).
pub fn max_hops() -> u32 {
    // SAFETY: reads a module parameter.
    unsafe { ffi::lana_max_hops() }
}

/// Copies of one packet a fan-out may have pending at once.
const PENDING: usize = 8;

struct Work {
    pkt: Packet,
    id: u32,
    dir: Direction,
    hops: u32,
}

/// Process a frame that arrived from the wire at link block `entry` (an eth block): it counts
/// as the entry block's packet and goes on to the block bound after it, ingress. Must run
/// with bottom halves disabled (the receive softirq does).
pub(crate) fn process_from_link(pkt: Packet, entry: u32) {
    let guard = rcu::Guard::new();
    let Some(g) = graph::current(&guard) else {
        return; // no graph: the core is going away; `pkt` is dropped
    };
    g.counters.rx.add(pkt.len());
    let Some(hop) = g.hop(entry) else {
        g.counters.no_next.add_drop();
        return;
    };
    let cpu = CpuOffset::this_cpu();
    hop.inst.stats.add_on(cpu, pkt.len());
    let Some(&id) = hop.ingress.first() else {
        g.counters.no_next.add_drop();
        hop.inst.stats.add_drop();
        return;
    };
    run(g, cpu, Work { pkt, id, dir: Direction::Ingress, hops: 1 });
}

/// Process `pkt` starting at block `entry`, travelling in `dir` (a block that originates
/// packets, such as a socket). Must run with bottom halves disabled.
pub fn process(pkt: Packet, entry: u32, dir: Direction) {
    let guard = rcu::Guard::new();
    let Some(g) = graph::current(&guard) else {
        return;
    };
    g.counters.rx.add(pkt.len());
    run(g, CpuOffset::this_cpu(), Work { pkt, id: entry, dir, hops: 0 });
}

fn run(g: &Graph, cpu: CpuOffset, first: Work) {
    let max = max_hops();
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
        next = step(g, cpu, w, max, &mut pending, &mut npending);
    }
}

/// Run one block on `w`; return where the packet goes next.
#[inline]
fn step(
    g: &Graph,
    cpu: CpuOffset,
    w: Work,
    max: u32,
    pending: &mut [Option<Work>; PENDING],
    npending: &mut usize,
) -> Option<Work> {
    let Some(hop) = g.hop(w.id) else {
        g.counters.no_next.add_drop();
        return None;
    };
    if w.hops >= max {
        g.counters.hop_limit.add_drop();
        hop.inst.stats.add_drop();
        return None;
    }
    hop.inst.stats.add_on(cpu, w.pkt.len());
    let hops = w.hops + 1;
    match hop.inst.fb.receive(w.pkt, w.dir) {
        Verdict::Next(pkt, dir) => match hop.ports(dir).first() {
            Some(&id) => Some(Work { pkt, id, dir, hops }),
            None => {
                g.counters.no_next.add_drop();
                hop.inst.stats.add_drop();
                None
            }
        },
        Verdict::Fanout(pkt, dir) => {
            let ports = hop.ports(dir);
            let Some((&first, rest)) = ports.split_first() else {
                g.counters.no_next.add_drop();
                hop.inst.stats.add_drop();
                return None;
            };
            for &id in rest {
                match pkt.try_clone() {
                    Some(copy) if *npending < PENDING => {
                        pending[*npending] = Some(Work { pkt: copy, id, dir, hops });
                        *npending += 1;
                    }
                    _ => g.counters.fanout_fail.add_drop(),
                }
            }
            Some(Work { pkt, id: first, dir, hops })
        }
        Verdict::Drop(pkt) => {
            hop.inst.stats.add_drop();
            drop(pkt);
            None
        }
        Verdict::Consumed => None,
    }
}
