// SPDX-License-Identifier: GPL-2.0
//! The graph the engine walks, compiled: an immutable snapshot of the configuration, indexed
//! by slot, published by the engine with one pointer swap (`Engine::install`).
//!
//! Compiling resolves at publish time what the engine would otherwise look up per hop: each
//! block's next block per direction is a pointer into the same snapshot (no slot lookup, no
//! bounds check). A block whose type forwards every packet unchanged (it keeps
//! `Block::receive`'s default, as fwd does) is marked so the engine never calls it, and
//! **the path jumps over it**: a chain of such blocks after a block that does something is
//! one compiled step (a *segment*), counted once per packet in a per-CPU row of the snapshot
//! ([`PerCpuRow`]) and credited to every block it skips when counts are read
//! ([`Graph::skipped_totals`]; the configuration folds a retired snapshot's row into the
//! blocks once no packet can walk it, `config.rs`). So a skipped block still shows exact
//! counts, and the hop limit still counts every block a packet passes.
//! A replace, bind or unbind republishes the compiled form.
//!
//! Building one costs a few allocations whatever the graph's size (the hop table, one array
//! of every binding, the segments and their counters); the configuration drives the
//! [`Builder`].

use crate::block::{Direction, Entry};
use crate::instance::Instance;
use crate::percpu::{CountersRef, CpuOffset, PerCpuRow, Totals};
use crate::types::DynBlock;
use core::cell::Cell;
use core::ptr::NonNull;
use kernel::prelude::*;

/// Pass-through blocks one segment skips at most (a longer chain, or a loop of them, goes on
/// in the next segment or hop by hop).
const MAX_SKIP: usize = 32;

/// Where a block passes packets, compiled: one array per field, indexed by direction (the
/// engine loads each with one instruction).
///
/// # Invariants
///
/// `next[d]` and `last[d]`, when set, point to hops in the `hops` table of the [`Graph`]
/// holding this one. When `skipped[d]` is not 0, `counters[d]` is the snapshot's counter of
/// segment `seg[d]`, which skips `skipped[d]` blocks, the last of which is `last[d]`.
struct Outs {
    /// The block the packet reaches next, pass-through blocks skipped (`None`: a dead end).
    next: [Cell<Option<NonNull<Hop>>>; 2],
    /// How many pass-through blocks the packet passes on the way (0: none).
    skipped: [Cell<u32>; 2],
    counters: [Cell<Option<CountersRef>>; 2],
    /// The last block skipped (where a dead end after them is charged).
    last: [Cell<Option<NonNull<Hop>>>; 2],
    /// The segment (an index into [`Graph::segments`]), when `skipped` is not 0.
    seg: [Cell<u32>; 2],
}

impl Outs {
    fn new() -> Self {
        Self {
            next: [Cell::new(None), Cell::new(None)],
            skipped: [Cell::new(0), Cell::new(0)],
            counters: [Cell::new(None), Cell::new(None)],
            last: [Cell::new(None), Cell::new(None)],
            seg: [Cell::new(0), Cell::new(0)],
        }
    }
}

/// Where a block passes packets in one direction.
#[derive(Clone, Copy)]
pub(crate) struct Out<'a> {
    outs: &'a Outs,
    dir: Direction,
}

impl<'a> Out<'a> {
    /// The block the packet reaches next (`None`: it ends here, after the skipped blocks).
    #[inline]
    pub(crate) fn next(self) -> Option<&'a Hop> {
        // SAFETY: by the type invariant, the hop lives in the same snapshot's table, which
        // is neither moved nor changed while the snapshot (and so `self`) is borrowed.
        self.outs.next[self.dir as usize]
            .get()
            .map(|h| unsafe { h.as_ref() })
    }

    /// The block a packet that finds no [`Out::next`] ends at: the last one skipped, or
    /// `from` (the block this leads out of).
    #[inline]
    pub(crate) fn dead_end(self, from: &'a Hop) -> &'a Hop {
        // SAFETY: as in `next`.
        self.outs.last[self.dir as usize]
            .get()
            .map_or(from, |h| unsafe { h.as_ref() })
    }

    /// Pass-through blocks on the way to [`Out::next`].
    #[inline]
    pub(crate) fn skipped(self) -> u32 {
        self.outs.skipped[self.dir as usize].get()
    }

    /// Count a packet of `bytes` taking this segment (`skipped() != 0`).
    #[inline]
    pub(crate) fn count(self, cpu: CpuOffset, bytes: u64) {
        if let Some(c) = self.outs.counters[self.dir as usize].get() {
            // SAFETY: the snapshot's row, alive while the snapshot is (invariant); `cpu` is
            // this CPU's offset with bottom halves off (its invariant).
            unsafe { c.add_on(cpu, bytes) }
        }
    }
}

/// One block as the engine sees it.
pub(crate) struct Hop {
    pub(crate) id: u32,
    /// The block's slot in the configuration.
    slot: u32,
    /// The block forwards every packet unchanged: segments jump over it.
    pub(crate) pass_through: bool,
    /// The block may send packets back the way they came (its type says so).
    turns: bool,
    inst: NonNull<Instance>,
    /// The block itself (`inst.fb`), one load nearer.
    fb: NonNull<dyn DynBlock>,
    /// The block's counters (`inst.stats`), one load nearer.
    stats: CountersRef,
    /// Where packets go next, per direction (set once, by [`Builder::finish`]).
    out: Outs,
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

    /// Count a drop at this block.
    #[inline]
    pub(crate) fn count_drop(&self, cpu: CpuOffset) {
        // SAFETY: as in `count`.
        unsafe { self.stats.add_drop_on(cpu) }
    }

    /// The block's implementation (its type's code), for the engine to call.
    #[inline]
    pub(crate) fn fb(&self) -> &dyn DynBlock {
        // SAFETY: `fb` points into the instance (its boxed block), alive as long as the
        // instance is (see `Hop::inst`).
        unsafe { self.fb.as_ref() }
    }

    /// Count a packet of `bytes` at this block.
    #[inline]
    pub(crate) fn count(&self, cpu: CpuOffset, bytes: u64) {
        // SAFETY: the block, and so its counters, are alive while the snapshot is (see
        // `Hop::inst`); `cpu` is this CPU's offset with bottom halves off (its invariant).
        unsafe { self.stats.add_on(cpu, bytes) }
    }

    /// The direction a packet that came in `came` goes on in when the block asks for
    /// `asked`: only a type that declares it turns packets back (`Block::TURNS`).
    #[inline]
    pub(crate) fn direction(&self, came: Direction, asked: Direction) -> Direction {
        if self.turns {
            asked
        } else {
            came
        }
    }

    /// Where this block passes packets in `dir`.
    #[inline]
    pub(crate) fn out(&self, dir: Direction) -> Out<'_> {
        Out {
            outs: &self.out,
            dir,
        }
    }
}

/// A snapshot: `hops[slot]` is the block in that slot, if any.
pub(crate) struct Graph {
    hops: KVVec<Option<Hop>>,
    ports: KVVec<u32>,
    /// The segments: where each one's skipped blocks are in `skipped`, start and count.
    segments: KVVec<(u32, u32)>,
    /// The slots of the blocks the segments skip, segment after segment.
    skipped: KVVec<u32>,
    /// (slot, segment) for every block a segment skips, sorted: which counters to credit to
    /// a block.
    credits: KVVec<(u32, u32)>,
    /// Packets and bytes per segment, per CPU.
    counts: PerCpuRow,
    /// The most blocks one walk can visit ([`Graph::longest_walk`]).
    longest_walk: u32,
}

// SAFETY: a snapshot is immutable once built (`Out`'s cells are set only in
// `Builder::finish`, before the engine publishes the snapshot with a release store); the blocks it points to are `Sync` (blocks are
// `Send + Sync`, counters per CPU) and outlive it (see `Hop::inst`); `Out::next` points into
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

    /// The pass-through blocks segment `seg` skips, in the order a packet passes them.
    pub(crate) fn skipped_by(&self, seg: u32) -> impl Iterator<Item = &Hop> {
        let (start, n) = self.segments.get(seg as usize).copied().unwrap_or((0, 0));
        self.skipped
            .get(start as usize..(start + n) as usize)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&slot| self.hop(slot))
    }

    /// The segment `hop` passes packets on in `dir`, if its path skips blocks.
    pub(crate) fn segment_of(&self, hop: &Hop, dir: Direction) -> Option<u32> {
        (hop.out(dir).skipped() != 0).then(|| hop.out.seg[dir as usize].get())
    }

    /// What the segments of this snapshot counted for the block `id` in `slot`, which they
    /// skip (the engine never counts a skipped block itself).
    pub(crate) fn skipped_totals(&self, slot: u32, id: u32) -> Totals {
        let mut t = Totals::default();
        if self.hop(slot).is_none_or(|h| h.id != id) {
            return t;
        }
        let first = self.credits.partition_point(|&(s, _)| s < slot);
        for &(_, seg) in self
            .credits
            .get(first..)
            .unwrap_or(&[])
            .iter()
            .take_while(|c| c.0 == slot)
        {
            let c = self.counts.sum(seg as usize);
            t.packets = t.packets.wrapping_add(c.packets);
            t.bytes = t.bytes.wrapping_add(c.bytes);
        }
        t
    }

    /// Every block (slot, id) a segment skips, with what the segment counted: once per time
    /// the segment passes the block (for folding a retired snapshot's counts).
    pub(crate) fn each_credit(&self, mut f: impl FnMut(u32, u32, Totals)) {
        for &(slot, seg) in self.credits.iter() {
            if let Some(h) = self.hop(slot) {
                let c = self.counts.sum(seg as usize);
                if c.packets != 0 || c.bytes != 0 {
                    f(slot, h.id, Totals { drops: 0, ..c });
                }
            }
        }
    }

    /// The most blocks a packet's walk through this snapshot can visit, from wherever it
    /// enters, in whatever direction its blocks send it (each block skipped counts, as for
    /// the hop limit); `u32::MAX` if a walk can loop. When it is within `max_hops`, no packet
    /// can reach the limit and the engine does not count hops.
    #[inline]
    pub(crate) fn longest_walk(&self) -> u32 {
        self.longest_walk
    }

    /// Whether any segment skips blocks (a retired snapshot without any needs no folding).
    pub(crate) fn has_segments(&self) -> bool {
        !self.segments.is_empty()
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
            slot,
            pass_through: inst.ty.pass_through,
            turns: inst.ty.turns,
            inst: NonNull::from(inst),
            fb: NonNull::from(&*inst.fb),
            stats: inst.stats.as_counters_ref(),
            out: Outs::new(),
            ports: range,
        });
        Ok(())
    }

    /// The block a walk can go to from node `node` (a block's slot times two, plus the
    /// direction the packet travels in), its `i`-th way on. A block that is called may send a
    /// packet on to any block bound in its direction (a fan-out), or in either direction if
    /// its type turns packets; a pass-through block passes it to the first block bound in its
    /// direction.
    fn successor(&self, node: usize, i: usize) -> Option<usize> {
        let hop = self.hops.get(node / 2)?.as_ref()?;
        let port = |dir: usize, k: usize| -> Option<usize> {
            let (start, n) = *hop.ports.get(dir)?;
            if k >= n as usize {
                return None;
            }
            self.ports
                .get(start as usize + k)
                .map(|&slot| slot as usize * 2 + dir)
        };
        let dir = node % 2;
        if hop.pass_through {
            return if i == 0 { port(dir, 0) } else { None };
        }
        if !hop.turns {
            return port(dir, i);
        }
        let first = hop.ports.first().map_or(0, |p| p.1 as usize);
        if i < first {
            port(0, i)
        } else {
            port(1, i - first)
        }
    }

    /// [`Graph::longest_walk`], by a depth-first search over (block, direction) nodes
    /// (iterative: graphs may be long; linear in blocks and bindings).
    fn longest_walk(&self) -> Result<u32> {
        /// A node on the search's stack (a loop back to it means walks can loop).
        const OPEN: u32 = u32::MAX;
        let n = self.hops.len() * 2;
        // per node: 0 not seen yet, OPEN on the stack, else the longest walk from it
        let mut longest = KVVec::from_elem(0u32, n, GFP_KERNEL)?;
        let mut stack: KVVec<(usize, usize)> = KVVec::new();
        let mut most = 0u32;
        for root in 0..n {
            if longest.get(root) != Some(&0) || self.hops.get(root / 2).is_none_or(Option::is_none)
            {
                continue;
            }
            stack.push((root, 0), GFP_KERNEL)?;
            if let Some(l) = longest.get_mut(root) {
                *l = OPEN;
            }
            while let Some(top) = stack.last_mut() {
                let (node, i) = *top;
                if let Some(next) = self.successor(node, i) {
                    top.1 += 1;
                    match longest.get(next).copied() {
                        Some(0) => {
                            stack.push((next, 0), GFP_KERNEL)?;
                            if let Some(l) = longest.get_mut(next) {
                                *l = OPEN;
                            }
                        }
                        Some(OPEN) => return Ok(u32::MAX),
                        _ => {}
                    }
                    continue;
                }
                // every way on is done: this node's walks are one block longer than theirs
                let mut best = 0;
                let mut k = 0;
                while let Some(next) = self.successor(node, k) {
                    best = best.max(longest.get(next).copied().unwrap_or(0));
                    k += 1;
                }
                let walk = best.saturating_add(1).min(OPEN - 1);
                if let Some(l) = longest.get_mut(node) {
                    *l = walk;
                }
                most = most.max(walk);
                stack.pop();
            }
        }
        Ok(most)
    }

    /// The snapshot, every block's first next block resolved and pass-through chains after
    /// blocks that do something compiled into segments. `EINVAL` if a binding names an empty
    /// slot (the configuration never makes one).
    pub(crate) fn finish(self) -> Result<KBox<Graph>> {
        // The table is full-size already (`new`), so its elements never move again: pointers
        // into it stay valid for the snapshot's life (moving the vector moves no element).
        for hop in self.hops.iter().flatten() {
            for (next, (start, count)) in hop.out.next.iter().zip(hop.ports) {
                if count == 0 {
                    continue;
                }
                let slot = *self.ports.get(start as usize).ok_or(EINVAL)?;
                let target = self.hops.get(slot as usize).and_then(Option::as_ref);
                // INVARIANT: a hop of this snapshot's table, which never moves (see above).
                next.set(Some(NonNull::from(target.ok_or(EINVAL)?)));
            }
        }
        // Segments: from every block that is called (or where frames enter), the chain of
        // pass-through blocks its first binding leads into, up to MAX_SKIP of them. Blocks
        // reached otherwise (a fan-out's copies, a socket's sends) walk hop by hop.
        let mut segments = KVVec::new();
        let mut skipped = KVVec::new();
        #[allow(clippy::type_complexity)]
        let mut ends: KVVec<(u32, u8, Option<NonNull<Hop>>, Option<NonNull<Hop>>)> = KVVec::new();
        for hop in self.hops.iter().flatten().filter(|h| !h.pass_through) {
            for dir in [Direction::Ingress, Direction::Egress] {
                if segments.len() == PerCpuRow::MAX {
                    break;
                }
                let start = skipped.len();
                let mut at = hop.out(dir).next();
                while let Some(h) = at.filter(|h| h.pass_through) {
                    if skipped.len() - start == MAX_SKIP {
                        break;
                    }
                    skipped.push(h.slot, GFP_KERNEL)?;
                    at = h.out(dir).next();
                }
                if let Some(&last) = skipped.get(start..).and_then(<[u32]>::last) {
                    segments.push((start as u32, (skipped.len() - start) as u32), GFP_KERNEL)?;
                    let last = self.hops.get(last as usize).and_then(Option::as_ref);
                    ends.push(
                        (
                            hop.slot,
                            dir as u8,
                            at.map(NonNull::from),
                            last.map(NonNull::from),
                        ),
                        GFP_KERNEL,
                    )?;
                }
            }
        }
        let counts = PerCpuRow::new(segments.len())?;
        let mut credits = KVVec::with_capacity(skipped.len(), GFP_KERNEL)?;
        for (seg, (&(start, n), &(slot, dir, end, last))) in
            segments.iter().zip(ends.iter()).enumerate()
        {
            let Some(outs) = self
                .hops
                .get(slot as usize)
                .and_then(Option::as_ref)
                .map(|h| &h.out)
            else {
                continue;
            };
            for &s in skipped
                .get(start as usize..(start + n) as usize)
                .unwrap_or(&[])
            {
                credits
                    .push_within_capacity((s, seg as u32))
                    .map_err(|_| EINVAL)?;
            }
            // INVARIANT: `end` and `last` are hops of this table (found by walking `next`
            // pointers, and by slot); the segment's counter is counter `seg` of this
            // snapshot's row.
            let d = usize::from(dir);
            if let (Some(next), Some(l), Some(k), Some(sg), Some(c)) = (
                outs.next.get(d),
                outs.last.get(d),
                outs.skipped.get(d),
                outs.seg.get(d),
                outs.counters.get(d),
            ) {
                next.set(end);
                l.set(last);
                k.set(n);
                sg.set(seg as u32);
                c.set(counts.counters_ref(seg));
            }
        }
        credits.sort_unstable();
        let longest_walk = self.longest_walk()?;
        Ok(KBox::new(
            Graph {
                hops: self.hops,
                ports: self.ports,
                segments,
                skipped,
                credits,
                counts,
                longest_walk,
            },
            GFP_KERNEL,
        )?)
    }
}
