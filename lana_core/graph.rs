// SPDX-License-Identifier: GPL-2.0
//! The graph the engine walks: an immutable snapshot of the configuration, indexed by slot,
//! published with one pointer swap.
//!
//! Building one costs two allocations whatever the graph's size (the hop table and one array
//! of every binding); the retired snapshot is dropped after a grace period without anyone
//! waiting for it.

use crate::block::{Direction, Entry};
use crate::config::{Config, Instance};
use crate::engine::EngineCounters;
use crate::rcu::RcuBox;
use core::ptr::NonNull;
use kernel::prelude::*;
use kernel::sync::{rcu, Arc};

/// One block as the engine sees it.
pub(crate) struct Hop {
    pub(crate) id: u32,
    inst: NonNull<Instance>,
    /// Where this block's next blocks are in [`Graph::ports`]: start and count, per direction.
    ports: [(u32, u32); 2],
}

impl Hop {
    /// The block.
    #[inline]
    pub(crate) fn inst(&self) -> &Instance {
        // SAFETY: a block is dropped only after a grace period that started once it left
        // the configuration, and every snapshot that points to it was retired by then (see
        // `config::retire`): while a snapshot is reachable under RCU, its blocks are alive.
        unsafe { self.inst.as_ref() }
    }
}

/// A snapshot: `hops[slot]` is the block in that slot, if any.
pub(crate) struct Graph {
    hops: KVVec<Option<Hop>>,
    ports: KVVec<u32>,
    pub(crate) counters: Arc<EngineCounters>,
}

// SAFETY: a snapshot is immutable once published; the blocks it points to are `Sync`
// (`FunctionalBlock: Sync`, counters per CPU) and outlive it (see `Hop::inst`).
unsafe impl Send for Graph {}
// SAFETY: as above.
unsafe impl Sync for Graph {}

impl Graph {
    /// The block in `slot`.
    #[inline]
    pub(crate) fn hop(&self, slot: u32) -> Option<&Hop> {
        self.hops.get(slot as usize)?.as_ref()
    }

    /// The block `entry` names, if it is still there (same slot, same id).
    #[inline]
    pub(crate) fn entry(&self, entry: Entry) -> Option<&Hop> {
        self.hop(entry.slot).filter(|h| h.id == entry.id)
    }

    /// The slots `hop` passes packets to in `dir`.
    #[inline]
    pub(crate) fn ports(&self, hop: &Hop, dir: Direction) -> &[u32] {
        let (start, n) = hop.ports[dir as usize];
        self.ports.get(start as usize..(start + n) as usize).unwrap_or(&[])
    }
}

static GRAPH: RcuBox<Graph> = RcuBox::new();

/// The current snapshot, for the engine.
#[inline]
pub(crate) fn current(guard: &rcu::Guard) -> Option<&Graph> {
    GRAPH.get(guard)
}

/// The engine's counters (shared by every snapshot), for `fbctl stats`.
pub(crate) fn counters() -> Option<Arc<EngineCounters>> {
    let guard = rcu::Guard::new();
    GRAPH.get(&guard).map(|g| g.counters.clone())
}

/// Build the snapshot `cfg` describes and publish it; the previous one is dropped after a
/// grace period. On error (out of memory) nothing changed.
pub(crate) fn publish(cfg: &Config) -> Result {
    install(build(cfg)?);
    Ok(())
}

/// Publish a snapshot made by [`build`].
pub(crate) fn install(g: KBox<Graph>) {
    GRAPH.replace(Some(g));
}

/// The snapshot `cfg` describes, not yet published.
pub(crate) fn build(cfg: &Config) -> Result<KBox<Graph>> {
    let counters = match counters() {
        Some(c) => c,
        None => Arc::new(EngineCounters::new()?, GFP_KERNEL)?,
    };
    let nports = cfg.nodes().map(|(_, n)| n.ingress.len() + n.egress.len()).sum();
    let mut ports = KVVec::with_capacity(nports, GFP_KERNEL)?;
    let mut hops = KVVec::with_capacity(cfg.slot_count(), GFP_KERNEL)?;
    for _ in 0..cfg.slot_count() {
        let _ = hops.push_within_capacity(None);
    }
    for (slot, n) in cfg.nodes() {
        let mut range = [(0u32, 0u32); 2];
        for dir in [Direction::Ingress, Direction::Egress] {
            range[dir as usize] = (ports.len() as u32, n.ports(dir).len() as u32);
            for &p in n.ports(dir) {
                let _ = ports.push_within_capacity(p);
            }
        }
        hops[slot as usize] =
            Some(Hop { id: n.inst.id, inst: NonNull::from(&*n.inst), ports: range });
    }
    Ok(KBox::new(Graph { hops, ports, counters }, GFP_KERNEL)?)
}

/// Stop publishing (module exit).
pub(crate) fn unpublish() {
    GRAPH.replace(None);
}
