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
//! ([`SegmentCounts`]) and credited to every block it skips when counts are read (the
//! configuration keeps a retired snapshot's counts and credits them to the blocks once no
//! packet can walk it, `config.rs`). So a skipped block still shows exact
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
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Pass-through blocks one segment skips at most: as many as any packet may pass (the
/// highest `max_hops`). A longer chain, or a loop of pass-through blocks (which only types
/// with several bindings a side can make), goes on hop by hop.
const MAX_SKIP: usize = crate::uapi::LANA_MAX_HOPS_LIMIT as usize;
const _: () = assert!(MAX_SKIP <= u16::MAX as usize);

// The entry lookup indexes the hop table by slot: 128 bytes is one shift.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(core::mem::size_of::<Option<Hop>>() == 128);

/// Where a block passes packets, compiled: one array per field, indexed by direction (the
/// engine loads each with one instruction).
///
/// # Invariants
///
/// `next[d]`, when set, points to a hop in the `hops` table of the [`Graph`] holding this
/// one, and so does `last[d]` once [`Builder::finish`] has run (the engine sees no other). When
/// `skipped[d]` is not 0, `counters[d]` is the snapshot's counter of the segment that starts
/// here in `d`, which skips `skipped[d]` blocks, the last of which is `last[d]`; when it is 0,
/// `counters[d]` is `None` and `last[d]` is the hop itself.
struct Outs {
    /// The block the packet reaches next, pass-through blocks skipped (`None`: a dead end).
    next: [Cell<Option<NonNull<Hop>>>; 2],
    /// How many pass-through blocks the packet passes on the way (0: none).
    /// (`u16`: at most `MAX_SKIP`; it keeps a hop at 128 bytes, a shift to index)
    skipped: [Cell<u16>; 2],
    counters: [Cell<Option<CountersRef>>; 2],
    /// Where a dead end is charged: the last block skipped, or the hop itself.
    last: [Cell<NonNull<Hop>>; 2],
}

impl Outs {
    fn new() -> Self {
        Self {
            next: [Cell::new(None), Cell::new(None)],
            skipped: [Cell::new(0), Cell::new(0)],
            counters: [Cell::new(None), Cell::new(None)],
            last: [
                Cell::new(NonNull::dangling()),
                Cell::new(NonNull::dangling()),
            ],
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

    /// The block a packet that finds no [`Out::next`] ends at: the last one skipped, or the
    /// block this leads out of.
    #[inline]
    pub(crate) fn dead_end(self) -> &'a Hop {
        // SAFETY: by the type invariant, a hop of the same snapshot's table (set by
        // `Builder::finish` before the snapshot is published), which is neither moved nor
        // changed while the snapshot (and so `self`) is borrowed.
        unsafe { self.outs.last[self.dir as usize].get().as_ref() }
    }

    /// Pass-through blocks on the way to [`Out::next`].
    #[inline]
    pub(crate) fn skipped(self) -> u32 {
        u32::from(self.outs.skipped[self.dir as usize].get())
    }

    /// The segment the path takes: `Some` exactly when it skips blocks (`skipped() != 0`).
    #[inline]
    pub(crate) fn segment(self) -> Option<Segment<'a>> {
        let d = self.dir as usize;
        // (the test the engine makes for every block it calls: one compare of `skipped`)
        if self.outs.skipped[d].get() == 0 {
            return None;
        }
        // SAFETY: `counters[d]` is set whenever `skipped[d]` is not 0 (`Outs`' invariant:
        // `Builder::finish` sets both together).
        let counters = unsafe { self.outs.counters[d].get().unwrap_unchecked() };
        // INVARIANT: the snapshot's counter (`Outs`' invariant), borrowed with it.
        Some(Segment {
            counters,
            _snapshot: PhantomData,
        })
    }
}

/// A compiled jump over pass-through blocks, to count packets taking it.
///
/// # Invariants
///
/// `counters` is a counter of a snapshot's per-CPU rows, borrowed for `'a` with it.
#[derive(Clone, Copy)]
pub(crate) struct Segment<'a> {
    counters: CountersRef,
    _snapshot: PhantomData<&'a Graph>,
}

impl Segment<'_> {
    /// Count a packet of `bytes` taking it.
    #[inline]
    pub(crate) fn count(self, cpu: CpuOffset, bytes: u64) {
        // SAFETY: the snapshot's row, alive while the snapshot is (type invariant); `cpu` is
        // this CPU's offset with bottom halves off (its invariant).
        unsafe { self.counters.add_on(cpu, bytes) }
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
    /// The most blocks a walk that starts here, per direction, can visit (`u32::MAX`: it can
    /// loop); set by [`Builder::finish`].
    walk: [Cell<u32>; 2],
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

    /// The most blocks a packet's walk from this block in `dir` can visit, this one and each
    /// block skipped included (as the hop limit counts them), in whatever direction the
    /// blocks send it; `u32::MAX` if it can loop. When it is within `max_hops`, no packet that
    /// enters here can reach the limit, and the engine does not count hops.
    #[inline]
    pub(crate) fn walk(&self, dir: Direction) -> u32 {
        self.walk[dir as usize].get()
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

/// What the segments of one snapshot counted, and for which blocks. Shared by the snapshot
/// (the engine counts into it) and, once the snapshot is retired, by the configuration,
/// which credits it to the blocks after a grace period (`config.rs`). It names blocks by
/// slot and id only: it points to no block, so it may outlive them.
pub(crate) struct SegmentCounts {
    /// (slot, id, segment) for every time a segment skips a block, sorted.
    credits: KVVec<(u32, u32, u32)>,
    /// Packets and bytes per segment, per CPU, [`PerCpuRow::MAX`] segments a row.
    rows: KVec<PerCpuRow>,
}

impl SegmentCounts {
    fn new(segments: usize) -> Result<Self> {
        let mut rows = KVec::new();
        let mut left = segments;
        while left > 0 {
            let n = left.min(PerCpuRow::MAX);
            rows.push(PerCpuRow::new(n)?, GFP_KERNEL)?;
            left -= n;
        }
        Ok(Self {
            credits: KVVec::new(),
            rows,
        })
    }

    /// Where segment `seg` counts.
    fn counters_ref(&self, seg: usize) -> Option<CountersRef> {
        self.rows
            .get(seg / PerCpuRow::MAX)?
            .counters_ref(seg % PerCpuRow::MAX)
    }

    /// What segment `seg` counted.
    fn sum(&self, seg: usize) -> Totals {
        self.rows
            .get(seg / PerCpuRow::MAX)
            .map_or(Totals::default(), |r| r.sum(seg % PerCpuRow::MAX))
    }

    /// What the segments counted for the block `id` in `slot`, which they skip (the engine
    /// never counts a skipped block itself).
    pub(crate) fn skipped_totals(&self, slot: u32, id: u32) -> Totals {
        let mut t = Totals::default();
        let first = self
            .credits
            .partition_point(|&(s, i, _)| (s, i) < (slot, id));
        for &(_, _, seg) in self
            .credits
            .get(first..)
            .unwrap_or(&[])
            .iter()
            .take_while(|c| (c.0, c.1) == (slot, id))
        {
            let c = self.sum(seg as usize);
            t.packets = t.packets.wrapping_add(c.packets);
            t.bytes = t.bytes.wrapping_add(c.bytes);
        }
        t
    }

    /// Every block (slot, id) a segment skips, with what the segment counted: once per time
    /// the segment passes the block (for crediting a retired snapshot's counts).
    pub(crate) fn each_credit(&self, mut f: impl FnMut(u32, u32, Totals)) {
        for &(slot, id, seg) in self.credits.iter() {
            let c = self.sum(seg as usize);
            if c.packets != 0 || c.bytes != 0 {
                f(slot, id, Totals { drops: 0, ..c });
            }
        }
    }

    /// Whether any segment skips blocks (nothing to credit otherwise).
    pub(crate) fn is_empty(&self) -> bool {
        self.credits.is_empty()
    }
}

/// What the segments of one namespace may skip and did: at most four times its blocks, all
/// segments together. Every block that leads into a chain of pass-through blocks gets its own
/// segment over it, so many blocks leading into one long chain would make a snapshot (and
/// every command's publish) quadratic in the blocks; past its budget a namespace's paths go
/// on block by block (pass-through blocks called, counted the same). In-tree graphs need at
/// most twice their blocks: a block with one binding a side (fwd) is in at most one segment
/// a direction. Per namespace, so one container's graph does not take another's jumps.
#[derive(Clone, Copy)]
struct Jumps {
    key: u64,
    /// Blocks its segments may still skip.
    left: usize,
    /// Its segments, and the blocks they skip (`fbctl stats`).
    segments: u32,
    skipped: u32,
}

/// [`Jumps`] of every namespace with blocks, sorted by key.
struct JumpTable(KVVec<Jumps>);

impl JumpTable {
    fn new(hops: &[Option<Hop>]) -> Result<Self> {
        let mut keys = KVVec::with_capacity(hops.len(), GFP_KERNEL)?;
        for h in hops.iter().flatten() {
            keys.push_within_capacity(h.inst().space.key)
                .map_err(|_| ENOMEM)?;
        }
        crate::heapsort::sort(&mut keys);
        let mut t: KVVec<Jumps> = KVVec::new();
        for k in keys.iter().copied() {
            match t.last_mut() {
                Some(j) if j.key == k => j.left += 4,
                _ => t.push(
                    Jumps {
                        key: k,
                        left: 4,
                        segments: 0,
                        skipped: 0,
                    },
                    GFP_KERNEL,
                )?,
            }
        }
        Ok(Self(t))
    }

    /// Where namespace `key`'s entry is (every hop's namespace has one).
    fn index(&self, key: u64) -> Option<usize> {
        self.0.binary_search_by_key(&key, |j| j.key).ok()
    }

    fn of(&self, key: u64) -> Option<&Jumps> {
        self.0.get(self.index(key)?)
    }

    fn of_mut(&mut self, key: u64) -> Option<&mut Jumps> {
        let i = self.index(key)?;
        self.0.get_mut(i)
    }
}

/// A snapshot: `hops[slot]` is the block in that slot, if any.
pub(crate) struct Graph {
    hops: KVVec<Option<Hop>>,
    ports: KVVec<u32>,
    /// The segments, sorted by the block (slot) and direction they start from: where each
    /// one's skipped blocks are in `skipped`, start and count.
    segments: KVVec<((u32, u8), (u32, u32))>,
    /// The slots of the blocks the segments skip, segment after segment.
    skipped: KVVec<u32>,
    /// What the segments counted (the engine counts through `Out`'s counter references,
    /// which point into its rows).
    counts: Arc<SegmentCounts>,
    /// Each namespace's segments (counted at compile time: a look-up for `fbctl stats`).
    jumps: JumpTable,
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
        let (_, (start, n)) = self
            .segments
            .get(seg as usize)
            .copied()
            .unwrap_or(((0, 0), (0, 0)));
        self.skipped
            .get(start as usize..(start + n) as usize)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&slot| self.hop(slot))
    }

    /// The segment `hop` passes packets on in `dir`, if its path skips blocks.
    pub(crate) fn segment_of(&self, hop: &Hop, dir: Direction) -> Option<u32> {
        let from = (hop.slot, dir as u8);
        let seg = self
            .segments
            .binary_search_by_key(&from, |&(f, _)| f)
            .ok()?;
        Some(seg as u32)
    }

    /// The segments that start at blocks of the namespace `key`, and the blocks they skip in
    /// all.
    pub(crate) fn jumps_of(&self, key: u64) -> (u32, u32) {
        self.jumps
            .of(key)
            .map_or((0, 0), |j| (j.segments, j.skipped))
    }

    /// What this snapshot's segments counted, for the blocks they skip.
    pub(crate) fn segment_counts(&self) -> &Arc<SegmentCounts> {
        &self.counts
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
            walk: [Cell::new(u32::MAX), Cell::new(u32::MAX)],
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

    /// Every block's [`Hop::walk`], by a depth-first search over (block, direction) nodes
    /// (iterative: graphs may be long; linear in blocks and bindings).
    fn find_walks(&self) -> Result {
        /// The walk of a node that can reach a loop.
        const LOOP: u32 = u32::MAX;
        /// Search states of a node.
        const UNSEEN: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let n = self.hops.len() * 2;
        let mut state = KVVec::from_elem(UNSEEN, n, GFP_KERNEL)?;
        let mut walk = KVVec::from_elem(0u32, n, GFP_KERNEL)?;
        let mut stack: KVVec<(usize, usize)> = KVVec::new();
        for root in 0..n {
            if state.get(root) != Some(&UNSEEN)
                || self.hops.get(root / 2).is_none_or(Option::is_none)
            {
                continue;
            }
            stack.push((root, 0), GFP_KERNEL)?;
            if let Some(st) = state.get_mut(root) {
                *st = OPEN;
            }
            while let Some(top) = stack.last_mut() {
                let (node, i) = *top;
                if let Some(next) = self.successor(node, i) {
                    top.1 += 1;
                    if state.get(next) == Some(&UNSEEN) {
                        stack.push((next, 0), GFP_KERNEL)?;
                        if let Some(st) = state.get_mut(next) {
                            *st = OPEN;
                        }
                    }
                    continue;
                }
                // every way on is searched: a way back to a node still open is a loop;
                // otherwise this node's walks are one block longer than the longest on
                let mut best = 0u32;
                let mut k = 0;
                while let Some(next) = self.successor(node, k) {
                    let w = match state.get(next) {
                        Some(&DONE) => walk.get(next).copied().unwrap_or(LOOP),
                        _ => LOOP,
                    };
                    best = best.max(w);
                    k += 1;
                }
                if let Some(w) = walk.get_mut(node) {
                    *w = if best == LOOP {
                        LOOP
                    } else {
                        best.saturating_add(1).min(LOOP - 1)
                    };
                }
                if let Some(st) = state.get_mut(node) {
                    *st = DONE;
                }
                stack.pop();
            }
        }
        for (slot, hop) in self.hops.iter().enumerate() {
            if let Some(hop) = hop {
                for (d, cell) in hop.walk.iter().enumerate() {
                    cell.set(walk.get(slot * 2 + d).copied().unwrap_or(LOOP));
                }
            }
        }
        Ok(())
    }

    /// The snapshot, every block's first next block resolved and pass-through chains after
    /// blocks that do something compiled into segments. `EINVAL` if a binding names an empty
    /// slot (the configuration never makes one).
    pub(crate) fn finish(self) -> Result<KBox<Graph>> {
        // The table is full-size already (`new`), so its elements never move again: pointers
        // into it stay valid for the snapshot's life (moving the vector moves no element).
        for hop in self.hops.iter().flatten() {
            for last in &hop.out.last {
                // INVARIANT: the hop itself, in this table (no segment yet; see below).
                last.set(NonNull::from(hop));
            }
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
        // reached otherwise (a fan-out's copies) walk hop by hop.
        let mut jumps = JumpTable::new(&self.hops)?;
        let mut segments = KVVec::new();
        let mut skipped = KVVec::new();
        // the segment each block was last put in (a block met twice in one ends it: a loop)
        let mut met = KVVec::from_elem(u32::MAX, self.hops.len(), GFP_KERNEL)?;
        #[allow(clippy::type_complexity)]
        let mut ends: KVVec<(u32, u8, Option<NonNull<Hop>>, Option<NonNull<Hop>>)> = KVVec::new();
        for hop in self.hops.iter().flatten().filter(|h| !h.pass_through) {
            let Some(ns) = jumps.of_mut(hop.inst().space.key) else {
                continue;
            };
            for dir in [Direction::Ingress, Direction::Egress] {
                let start = skipped.len();
                let seg = segments.len() as u32;
                let mut at = hop.out(dir).next();
                while let Some(h) = at.filter(|h| h.pass_through) {
                    let Some(m) = met.get_mut(h.slot as usize) else {
                        break;
                    };
                    if *m == seg || skipped.len() - start == MAX_SKIP || ns.left == 0 {
                        break;
                    }
                    *m = seg;
                    ns.left -= 1;
                    skipped.push(h.slot, GFP_KERNEL)?;
                    at = h.out(dir).next();
                }
                if let Some(&last) = skipped.get(start..).and_then(<[u32]>::last) {
                    ns.segments = ns.segments.saturating_add(1);
                    ns.skipped = ns.skipped.saturating_add((skipped.len() - start) as u32);
                    // (blocks in slot order, ingress first: `segments` comes out sorted)
                    segments.push(
                        (
                            (hop.slot, dir as u8),
                            (start as u32, (skipped.len() - start) as u32),
                        ),
                        GFP_KERNEL,
                    )?;
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
        let mut counts = SegmentCounts::new(segments.len())?;
        let mut credits = KVVec::with_capacity(skipped.len(), GFP_KERNEL)?;
        for (seg, (&(_, (start, n)), &(slot, dir, end, last))) in
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
                let id = self
                    .hops
                    .get(s as usize)
                    .and_then(Option::as_ref)
                    .map_or(0, |h| h.id);
                credits
                    .push_within_capacity((s, id, seg as u32))
                    .map_err(|_| EINVAL)?;
            }
            // INVARIANT: `end` and `last` are hops of this table (found by walking `next`
            // pointers, and by slot); the segment's counter is counter `seg` of this
            // snapshot's row.
            let d = usize::from(dir);
            // (the engine counts a segment, and charges its blocks to the hop limit, exactly
            // when it has a counter: a segment without one would be a bug, not a graph)
            let counter = counts.counters_ref(seg).ok_or(EINVAL)?;
            if let (Some(next), Some(l), Some(k), Some(c)) = (
                outs.next.get(d),
                outs.last.get(d),
                outs.skipped.get(d),
                outs.counters.get(d),
            ) {
                next.set(end);
                if let Some(last) = last {
                    l.set(last);
                }
                k.set(u16::try_from(n).map_err(|_| EINVAL)?);
                c.set(Some(counter));
            }
        }
        crate::heapsort::sort(&mut credits);
        counts.credits = credits;
        self.find_walks()?;
        let counts = Arc::new(counts, GFP_KERNEL)?;
        Ok(KBox::new(
            Graph {
                hops: self.hops,
                ports: self.ports,
                segments,
                skipped,
                counts,
                jumps,
            },
            GFP_KERNEL,
        )?)
    }
}
