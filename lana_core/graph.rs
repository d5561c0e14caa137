// SPDX-License-Identifier: GPL-2.0
//! The graph the engine walks, compiled: an immutable snapshot of the configuration, indexed
//! by slot, published by the engine with one pointer swap (`Engine::install`).
//!
//! Compiling resolves at publish time what the engine would otherwise look up per hop: each
//! block's first next block per direction is a pointer into the same snapshot (no slot
//! lookup, no bounds check), and a block whose type forwards every packet unchanged (it keeps
//! `Block::receive`'s default) is marked so the engine passes the packet on without calling
//! it.
//! A replace, bind or unbind republishes the compiled form.
//!
//! Building one costs two allocations whatever the graph's size (the hop table and one array
//! of every binding); the configuration drives the [`Builder`].

use crate::block::{Direction, Entry};
use crate::instance::Instance;
use crate::percpu::{CountersRef, CpuOffset};
use core::cell::Cell;
use core::ptr::NonNull;
use kernel::prelude::*;

/// One block as the engine sees it.
///
/// # Invariants
///
/// `next[d]`, when set, points to a hop in the `hops` table of the [`Graph`] holding this
/// hop: the block bound first in direction `d`.
pub(crate) struct Hop {
    pub(crate) id: u32,
    /// The block forwards every packet unchanged: the engine does not call it.
    pub(crate) pass_through: bool,
    inst: NonNull<Instance>,
    /// The block's counters (`inst.stats`), one load nearer.
    stats: CountersRef,
    /// The first next block per direction, resolved.
    /// (Set once, by [`Builder::finish`]; a cell because hops point to each other.)
    next: [Cell<Option<NonNull<Hop>>>; 2],
    /// Where this block's next blocks are in [`Graph::ports`]: start and count, per direction
    /// (for fan-out).
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

    /// Count a packet of `bytes` at this block.
    #[inline]
    pub(crate) fn count(&self, cpu: CpuOffset, bytes: u64) {
        // SAFETY: the block, and so its counters, are alive while the snapshot is (see
        // `Hop::inst`); `cpu` is this CPU's offset with bottom halves off (its invariant).
        unsafe { self.stats.add_on(cpu, bytes) }
    }

    /// The block this one passes packets to in `dir` (the first one bound), if any.
    #[inline]
    pub(crate) fn next(&self, dir: Direction) -> Option<&Hop> {
        // SAFETY: by the type invariant, the hop lives in the same snapshot's table, which
        // is neither moved nor changed while the snapshot (and so `self`) is borrowed.
        self.next[dir as usize].get().map(|h| unsafe { h.as_ref() })
    }
}

/// A snapshot: `hops[slot]` is the block in that slot, if any.
pub(crate) struct Graph {
    hops: KVVec<Option<Hop>>,
    ports: KVVec<u32>,
}

// SAFETY: a snapshot is immutable once built (`Hop::next`'s cells are set only in
// `Builder::finish`, before the engine publishes the snapshot with a release store); the blocks it points to are `Sync` (blocks are
// `Send + Sync`, counters per CPU) and outlive it (see `Hop::inst`); `Hop::next` points into
// the snapshot itself.
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
        self.ports
            .get(start as usize..(start + n) as usize)
            .unwrap_or(&[])
    }
}

/// Builds a snapshot: [`Builder::new`] with the sizes, one [`Builder::add`] per block, then
/// [`Builder::finish`] resolves the bindings.
pub(crate) struct Builder {
    hops: KVVec<Option<Hop>>,
    ports: KVVec<u32>,
}

impl Builder {
    /// Room for `slots` slots and `ports` bindings (both directions, all blocks).
    pub(crate) fn new(slots: usize, ports: usize) -> Result<Self> {
        let mut hops = KVVec::with_capacity(slots, GFP_KERNEL)?;
        for _ in 0..slots {
            let _ = hops.push_within_capacity(None);
        }
        Ok(Self {
            hops,
            ports: KVVec::with_capacity(ports, GFP_KERNEL)?,
        })
    }

    /// The block `inst` in `slot`, passing packets to the blocks in slots `ingress` and
    /// `egress`. The instance must outlive every snapshot built with it (see `Hop::inst`).
    pub(crate) fn add(
        &mut self,
        slot: u32,
        inst: &Instance,
        ingress: impl Iterator<Item = u32>,
        egress: impl Iterator<Item = u32>,
    ) -> Result {
        let mut range = [(0u32, 0u32); 2];
        for (dir, next) in [
            (
                Direction::Ingress as usize,
                &mut ingress.into_iter() as &mut dyn Iterator<Item = u32>,
            ),
            (Direction::Egress as usize, &mut egress.into_iter()),
        ] {
            let start = self.ports.len();
            for p in next {
                self.ports.push_within_capacity(p).map_err(|_| EINVAL)?;
            }
            range[dir] = (start as u32, (self.ports.len() - start) as u32);
        }
        let hop = self.hops.get_mut(slot as usize).ok_or(EINVAL)?;
        *hop = Some(Hop {
            id: inst.id,
            pass_through: inst.ty.pass_through,
            inst: NonNull::from(inst),
            stats: inst.stats.as_counters_ref(),
            next: [Cell::new(None), Cell::new(None)],
            ports: range,
        });
        Ok(())
    }

    /// The snapshot, every block's first next block resolved. `EINVAL` if a binding names an
    /// empty slot (the configuration never makes one).
    pub(crate) fn finish(self) -> Result<KBox<Graph>> {
        // The table is full-size already (`new`), so its elements never move again: pointers
        // into it stay valid for the snapshot's life (moving the vector moves no element).
        for hop in self.hops.iter().flatten() {
            for (next, (start, count)) in hop.next.iter().zip(hop.ports) {
                if count == 0 {
                    continue;
                }
                let slot = *self.ports.get(start as usize).ok_or(EINVAL)?;
                let target = self.hops.get(slot as usize).and_then(Option::as_ref);
                // INVARIANT: a hop of this snapshot's table, which never moves (see above).
                next.set(Some(NonNull::from(target.ok_or(EINVAL)?)));
            }
        }
        Ok(KBox::new(
            Graph {
                hops: self.hops,
                ports: self.ports,
            },
            GFP_KERNEL,
        )?)
    }
}
