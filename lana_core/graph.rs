// SPDX-License-Identifier: GPL-2.0
//! The graph the engine walks: an immutable snapshot of the configuration, indexed by
//! instance id, published with one pointer swap.

use crate::block::Direction;
use crate::engine::EngineCounters;
use crate::rcu::RcuBox;
use crate::registry::{Config, Instance};
use kernel::prelude::*;
use kernel::sync::{rcu, Arc};

/// One block as the engine sees it.
pub(crate) struct Hop {
    pub(crate) inst: Arc<Instance>,
    pub(crate) ingress: KVec<u32>,
    pub(crate) egress: KVec<u32>,
}

impl Hop {
    #[inline]
    pub(crate) fn ports(&self, dir: Direction) -> &[u32] {
        match dir {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }
}

/// A snapshot: `hops[id]` is the block with that id, if any.
pub(crate) struct Graph {
    pub(crate) hops: KVec<Option<Hop>>,
    pub(crate) counters: Arc<EngineCounters>,
}

impl Graph {
    #[inline]
    pub(crate) fn hop(&self, id: u32) -> Option<&Hop> {
        self.hops.get(id as usize)?.as_ref()
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

/// Build the snapshot `cfg` describes and publish it. Returns after a grace period, so the
/// caller may free whatever the previous snapshot referenced and this one does not.
/// On error (out of memory) nothing changed.
pub(crate) fn publish(cfg: &Config) -> Result {
    let counters = match counters() {
        Some(c) => c,
        None => Arc::new(EngineCounters::new()?, GFP_KERNEL)?,
    };
    let len = cfg.nodes.iter().map(|n| n.inst.id as usize + 1).max().unwrap_or(0);
    let mut hops = KVec::with_capacity(len, GFP_KERNEL)?;
    for _ in 0..len {
        hops.push(None, GFP_KERNEL)?;
    }
    for n in cfg.nodes.iter() {
        let mut ingress = KVec::with_capacity(n.ingress.len(), GFP_KERNEL)?;
        ingress.extend_from_slice(&n.ingress, GFP_KERNEL)?;
        let mut egress = KVec::with_capacity(n.egress.len(), GFP_KERNEL)?;
        egress.extend_from_slice(&n.egress, GFP_KERNEL)?;
        if let Some(slot) = hops.get_mut(n.inst.id as usize) {
            *slot = Some(Hop { inst: n.inst.clone(), ingress, egress });
        }
    }
    let graph = KBox::new(Graph { hops, counters }, GFP_KERNEL)?;
    // Dropping the retired snapshot waits for a grace period.
    drop(GRAPH.replace(Some(graph)));
    Ok(())
}

/// Remove the snapshot (module exit).
pub(crate) fn unpublish() {
    drop(GRAPH.replace(None));
}
