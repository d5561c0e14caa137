// SPDX-License-Identifier: GPL-2.0
//! The packet processing engine (PPE): moves a packet from block to block by the verdict each
//! returns, until it ends in one counted fate.
//!
//! The [`Engine`] owns the published graph snapshot and the accounting. It runs in the
//! receive softirq (entered from an eth block's rx_handler), in a PPE thread with bottom
//! halves off ([`crate::mechanism`]), or in a socket's `sendmsg` with bottom halves off,
//! always under RCU. It walks a compiled snapshot ([`crate::graph`]): per block a per-CPU
//! counter update, a call through the block's vtable and one load for the next block (and
//! the hop limit, where a walk could reach it); pass-through blocks (fwd) after a block are
//! jumped over in one step, counted once for all of them. No lock, no atomic, no allocation
//! (except the clones a fan-out asks for).
//!
//! # Accounting
//!
//! Every packet that enters (from a device or a socket) and every copy a fan-out makes ends
//! in exactly one fate: delivered to a socket, transmitted on a device, or dropped for a
//! [`DropReason`]. So, once no packet is in flight, `entered + copies == delivered +
//! transmitted + dropped` (`fbctl stats` shows both sides; the test suite checks it after
//! every test).

use crate::block::{Decision, Direction, Entry, Verdict};
use crate::fate::{DropReason, Fate};
use crate::ffi;
use crate::graph::{Graph, Hop, SegmentCounts};
use crate::mechanism;
use crate::packet::Packet;
use crate::percpu::{BhGuard, CpuOffset, PacketContext, Zeroed};
use crate::rcu::RcuBox;
use crate::runtime;
use crate::space::Space;
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;

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

    pub(crate) fn add(mut self, o: Fates) -> Fates {
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

/// The engine: the graph it walks (every namespace's blocks; each namespace's [`Space`]
/// counts what became of its packets).
pub(crate) struct Engine(());

impl Engine {
    /// Publish `g`: packets from now on walk it; the previous snapshot is dropped after a
    /// grace period (without waiting here). What its segments counted comes back: packets
    /// that found it may still count there until that grace period has passed.
    ///
    /// Only the configuration calls this, under its mutex.
    pub(crate) fn install(&self, g: KBox<Graph>) -> Option<Arc<SegmentCounts>> {
        // SAFETY: snapshots are replaced only here, under the configuration mutex the caller
        // holds, and by `Running::drop` once no command can run any more (module exit, after
        // the netlink family and the namespaces are gone); the reference is dropped before
        // the replace.
        let old = unsafe { GRAPH.get_unguarded() }.map(|o| o.segment_counts().clone());
        GRAPH.replace(Some(g));
        old
    }

    /// The snapshot packets walk now.
    ///
    /// # Safety
    ///
    /// The caller holds the configuration mutex while it uses the reference: snapshots are
    /// replaced only by [`Engine::install`], which the configuration calls under it (and
    /// when the engine stops, once no command can run).
    pub(crate) unsafe fn published(&self) -> Option<&Graph> {
        // SAFETY: not replaced while the caller holds the mutex (function docs).
        unsafe { GRAPH.get_unguarded() }
    }
}

/// The engine of the (one) graph, for the control plane; set up in module init, gone at exit.
static ENGINE: RcuBox<Engine> = RcuBox::new();

/// The snapshot packets walk ([`Engine::install`] publishes it; `None` before the first
/// publish and once the engine stopped). A static of its own: the packet path reads one
/// pointer, not the engine's and then the graph's.
static GRAPH: RcuBox<Graph> = RcuBox::new();

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
        ENGINE.replace(Some(KBox::new(Engine(()), GFP_KERNEL)?));
        Ok(Running(()))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // No command runs any more (module exit unregistered the netlink family and emptied
        // the namespaces first: `lana.rs` drops its fields in that order). The snapshot is
        // dropped after a grace period: packets still walking it see it out, later ones find
        // no graph (dropped, counted: no block).
        GRAPH.replace(None);
        ENGINE.replace(None);
    }
}

/// The hop limit in force (module parameter `max_hops`).
pub(crate) fn max_hops() -> u32 {
    crate::params::max_hops()
}

/// Copies of one packet a fan-out may have pending at once.
const PENDING: usize = 8;

/// A packet on its way: the block it goes to next, the direction it travels, and how many
/// more blocks it may pass (the hop limit counts down).
struct Work<'g> {
    pkt: Packet,
    hop: &'g Hop,
    dir: Direction,
    budget: u32,
}

/// What one step did with a packet.
enum Step<'g> {
    /// It goes on.
    Go(Work<'g>),
    /// It ended in a counted fate.
    Done,
    /// The block asked for a fan-out in `dir` (`hop` is the block that asked).
    Fanout(Work<'g>),
}

/// A frame an eth block of space `sp` claimed from its device, in the rx_handler (softirq,
/// under RCU). It is counted as entered here; then it runs now, or is queued for this CPU's
/// engine thread.
#[inline]
pub(crate) fn receive_from_link(ctx: &PacketContext, pkt: Packet, entry: Entry, sp: &Space) {
    sp.entered(ctx.cpu, pkt.len());
    if mechanism::inline() {
        enter_from_link(sp, ctx, pkt, entry);
    } else {
        mechanism::enqueue(pkt, entry, sp);
    }
}

/// A queued frame, run by an engine thread (bottom halves off). Already counted as entered.
pub(crate) fn resume_from_queue(ctx: &PacketContext, pkt: Packet, entry: Entry, sp: &Space) {
    enter_from_link(sp, ctx, pkt, entry)
}

/// A claimed frame that ended before it could enter (`len` bytes; the core already freed it):
/// counted as entered and dropped for `reason`.
#[cold]
#[inline(never)]
pub(crate) fn lost_on_entry(ctx: &PacketContext, sp: &Space, len: u32, reason: DropReason) {
    sp.entered(ctx.cpu, len);
    sp.fate(ctx.cpu, Fate::Dropped(reason));
    trace_drop(None, core::ptr::null(), reason);
}

/// Count a queued frame that will never run (queue full, device gone, unload) and free it.
pub(crate) fn drop_queued(ctx: &PacketContext, pkt: Packet, reason: DropReason, sp: &Space) {
    end_unplaced(sp, ctx.cpu, pkt, reason);
}

/// A frame from a device at its eth block (`entry`), which counts it and passes it on
/// ingress: the eth block's own `receive` is for frames to send.
#[inline(always)]
fn enter_from_link(sp: &Space, ctx: &PacketContext, pkt: Packet, entry: Entry) {
    // (no graph: the engine stopped, the module is going away)
    let Some((g, hop)) = GRAPH.read(ctx).and_then(|g| Some((g, g.entry(entry)?))) else {
        return end_unplaced(sp, ctx.cpu, pkt, DropReason::NoBlock);
    };
    let limit = max_hops();
    if hop.walk(Direction::Ingress) <= limit {
        enter_at::<false>(sp, g, ctx, hop, pkt, limit);
    } else {
        enter_at::<true>(sp, g, ctx, hop, pkt, limit);
    }
}

/// [`enter_from_link`] at `hop`, whose count the frame starts with (it is the first of the
/// blocks the hop limit counts, `limit`; `LIMITED`: see [`run`]).
#[inline(always)]
fn enter_at<'g, const LIMITED: bool>(
    sp: &Space,
    g: &'g Graph,
    ctx: &PacketContext,
    hop: &'g Hop,
    pkt: Packet,
    limit: u32,
) {
    let len = u64::from(pkt.len());
    hop.count(ctx.cpu, len);
    let mut budget = if LIMITED {
        limit.saturating_sub(1)
    } else {
        limit
    };
    let Some((next, pkt)) = follow::<LIMITED>(
        sp,
        g,
        ctx.cpu,
        hop,
        Direction::Ingress,
        pkt,
        &mut budget,
        len,
    ) else {
        return;
    };
    run::<LIMITED>(
        sp,
        g,
        ctx,
        Work {
            pkt,
            hop: next,
            dir: Direction::Ingress,
            budget,
        },
    );
}

/// A message a socket sends, entering at its block (`entry`, of space `sp`) in `dir`.
/// Process context; the engine runs here with bottom halves off. `ENOTCONN` (and nothing
/// counted) if the block is gone.
pub(crate) fn send(pkt: Packet, entry: Entry, sp: &Space, dir: Direction) -> Result {
    let _bh = BhGuard::new();
    // SAFETY: bottom halves are off until `_bh` drops, after the packet is done.
    let ctx = unsafe { PacketContext::new() };
    let Some((g, hop)) = GRAPH.read(&ctx).and_then(|g| Some((g, g.entry(entry)?))) else {
        return Err(ENOTCONN);
    };
    // (a socket outliving its block must not enter at a block of another namespace that
    // took its slot and, ids having wrapped, its id)
    if hop.inst().space.key != sp.key {
        return Err(ENOTCONN);
    }
    sp.entered(ctx.cpu, pkt.len());
    let w = Work {
        pkt,
        hop,
        dir,
        budget: max_hops(),
    };
    if hop.walk(dir) <= w.budget {
        run::<false>(sp, g, &ctx, w);
    } else {
        run::<true>(sp, g, &ctx, w);
    }
    Ok(())
}

/// The packet ends dropped at `hop` for `reason`.
#[cold]
fn end(sp: &Space, cpu: CpuOffset, hop: &Hop, pkt: Packet, reason: DropReason) {
    hop.count_drop(cpu);
    sp.fate(cpu, Fate::Dropped(reason));
    if tracing() {
        return end_traced(hop, pkt, reason);
    }
    // (a tail call: no stack frame while nobody traces)
    pkt.drop_for(reason);
}

/// The packet ends dropped for `reason` before it reached a block.
#[cold]
#[inline(never)]
fn end_unplaced(sp: &Space, cpu: CpuOffset, pkt: Packet, reason: DropReason) {
    sp.fate(cpu, Fate::Dropped(reason));
    trace_drop(None, pkt.as_raw().cast(), reason);
    pkt.drop_for(reason);
}

/// [`end`] while someone traces drops.
#[cold]
#[inline(never)]
fn end_traced(hop: &Hop, pkt: Packet, reason: DropReason) {
    trace_drop(Some(hop), pkt.as_raw().cast(), reason);
    pkt.drop_for(reason);
}

/// Where a packet goes after `hop` passed it on in `dir`: to the next block, through the
/// pass-through blocks the compiled path skips (counted once for all of them, and, when
/// `LIMITED`, charged to the hop limit one by one); `None` when it ended on the way (counted).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn follow<'g, const LIMITED: bool>(
    sp: &Space,
    g: &'g Graph,
    cpu: CpuOffset,
    hop: &'g Hop,
    dir: Direction,
    pkt: Packet,
    budget: &mut u32,
    len: u64,
) -> Option<(&'g Hop, Packet)> {
    let out = hop.out(dir);
    if let Some(segment) = out.segment() {
        if LIMITED {
            let skipped = out.skipped();
            if *budget < skipped {
                hop_limit_in_segment(sp, g, cpu, hop, dir, pkt, *budget, len);
                return None;
            }
            *budget -= skipped;
        }
        segment.count(cpu, len);
    }
    match out.next() {
        Some(next) => Some((next, pkt)),
        None => {
            // nothing bound after `hop`, or after the last block skipped
            end(sp, cpu, out.dead_end(), pkt, DropReason::NoNext);
            None
        }
    }
}

/// The packet reaches the hop limit inside the blocks the path after `hop` skips, with
/// `budget` more blocks allowed: those it passed count it, the next one drops it.
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn hop_limit_in_segment(
    sp: &Space,
    g: &Graph,
    cpu: CpuOffset,
    hop: &Hop,
    dir: Direction,
    pkt: Packet,
    budget: u32,
    len: u64,
) {
    let mut at = hop;
    if let Some(seg) = g.segment_of(hop, dir) {
        for (i, h) in g.skipped_by(seg).enumerate() {
            h.count(cpu, len);
            at = h;
            if i as u32 == budget {
                break;
            }
        }
    }
    end(sp, cpu, at, pkt, DropReason::HopLimit);
}

/// Tell tracers (the `lana:lana_drop` event) that `hop`'s block dropped the packet `skb` (null
/// when the core already let go of it) for `reason`. A patched-out jump while nobody traces.
#[inline(always)]
fn trace_drop(hop: Option<&Hop>, skb: *const c_void, reason: DropReason) {
    #[cfg(CONFIG_TRACEPOINTS)]
    if tracing() {
        trace_drop_now(hop, skb, reason);
    }
    #[cfg(not(CONFIG_TRACEPOINTS))]
    let _ = (hop, skb, reason);
}

/// Whether someone traces drops (`lana:lana_drop`): a patched-out jump while nobody does.
#[inline(always)]
fn tracing() -> bool {
    #[cfg(CONFIG_TRACEPOINTS)]
    // SAFETY: reading a tracepoint's static key is always allowed; `__tracepoint_lana_drop`
    // is the `struct tracepoint` trace.c defines, whose `key` is a `static_key_false`.
    return unsafe {
        kernel::static_branch_unlikely!(ffi::__tracepoint_lana_drop, bindings::tracepoint, key)
    };
    #[cfg(not(CONFIG_TRACEPOINTS))]
    false
}

#[cfg(CONFIG_TRACEPOINTS)]
#[cold]
#[inline(never)]
fn trace_drop_now(hop: Option<&Hop>, skb: *const c_void, reason: DropReason) {
    let (id, name, ty) = hop.map_or((0, "", ""), |h| {
        (h.id, h.inst().name.as_str(), h.inst().ty.name)
    });
    let why = reason.name();
    // SAFETY: the event copies the strings (pointer and length each, no NUL needed) and
    // records `skb` as an address only; it may be called from any context.
    unsafe {
        ffi::rust_do_trace_lana_drop(
            skb,
            id,
            name.as_ptr(),
            name.len() as u32,
            ty.as_ptr(),
            ty.len() as u32,
            why.as_ptr(),
            why.len() as u32,
        )
    };
}

/// Call the block (timed while the runtime view is on).
#[inline(always)]
fn call(hop: &Hop, ctx: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
    if runtime::enabled() {
        return call_timed(hop, ctx, pkt, dir);
    }
    hop.fb().receive(ctx, pkt, dir)
}

#[cold]
#[inline(never)]
fn call_timed(hop: &Hop, ctx: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
    let inst = hop.inst();
    let t0 = runtime::now_ns();
    let v = hop.fb().receive(ctx, pkt, dir);
    inst.runtime
        .add_on(ctx.cpu, runtime::now_ns().wrapping_sub(t0));
    v
}

/// A block consumed the packet: count its fate.
#[inline]
fn consumed(sp: &Space, cpu: CpuOffset, hop: &Hop, fate: Fate) {
    if let Fate::Dropped(reason) = fate {
        hop.count_drop(cpu);
        trace_drop(Some(hop), core::ptr::null(), reason);
    }
    sp.fate(cpu, fate);
}

/// Run one block on `w`: count the packet at it, call it (unless it passes packets through)
/// and follow its verdict.
#[inline(always)]
fn step<'g>(sp: &Space, g: &'g Graph, ctx: &PacketContext, w: Work<'g>) -> Step<'g> {
    let cpu = ctx.cpu;
    let Work {
        pkt,
        hop,
        dir,
        budget,
    } = w;
    hop.count(cpu, u64::from(pkt.len()));
    if budget == 0 {
        end(sp, cpu, hop, pkt, DropReason::HopLimit);
        return Step::Done;
    }
    let budget = budget - 1;
    let (pkt, dir) = if hop.pass_through {
        (pkt, dir)
    } else {
        match call(hop, ctx, pkt, dir).decide() {
            Decision::Next(pkt, d) => (pkt, hop.direction(dir, d)),
            Decision::Fanout(pkt, d) => {
                return Step::Fanout(Work {
                    pkt,
                    hop,
                    dir: hop.direction(dir, d),
                    budget,
                })
            }
            Decision::Drop(pkt, reason) => {
                end(sp, cpu, hop, pkt, reason);
                return Step::Done;
            }
            Decision::Consumed(fate) => {
                consumed(sp, cpu, hop, fate);
                return Step::Done;
            }
        }
    };
    let mut budget = budget;
    let len = u64::from(pkt.len());
    match follow::<true>(sp, g, cpu, hop, dir, pkt, &mut budget, len) {
        Some((next, pkt)) => Step::Go(Work {
            pkt,
            hop: next,
            dir,
            budget,
        }),
        None => Step::Done,
    }
}

/// Walk the packet through the graph until it ends. One path: a fan-out continues in
/// [`run_fanout`], out of line.
///
/// This is [`step`] in a loop, written out so the path stays in registers: per block, its
/// count, the hop limit, the call and its verdict, and the compiled step to the next block
/// that does something (pass-through blocks after it are counted once for all, never called).
/// Inlined into its callers, so a frame runs in the rx_handler's one stack frame.
///
/// Without `LIMITED`, for a packet whose walk from where it entered stays within the hop limit
/// whatever the blocks decide (no loop, no longer path: [`Hop::walk`]), the hop limit is not
/// counted: the packet cannot reach it (`first.budget` is then only what a fan-out's copies
/// start with).
#[inline(always)]
fn run<'g, const LIMITED: bool>(sp: &Space, g: &'g Graph, ctx: &PacketContext, first: Work<'g>) {
    let cpu = ctx.cpu;
    let Work {
        mut pkt,
        mut hop,
        mut dir,
        mut budget,
    } = first;
    let mut len = u64::from(pkt.len());
    loop {
        hop.count(cpu, len);
        if LIMITED {
            let Some(left) = budget.checked_sub(1) else {
                return end(sp, cpu, hop, pkt, DropReason::HopLimit);
            };
            budget = left;
        }
        // (every block reached here is called: the compiled graph jumps over pass-through
        // blocks after a block, as far as any packet may go; only a loop of them, the end of
        // a jump cut short by the namespace's budget (`graph::Jumps`), or a fan-out's copies,
        // which `step` walks, reach one directly)
        match call(hop, ctx, pkt, dir).next_in_or_decide(dir) {
            Ok(p) => {
                pkt = p;
                len = u64::from(pkt.len());
            }
            Err(Decision::Next(p, d)) => {
                // the other direction
                pkt = p;
                dir = hop.direction(dir, d);
                len = u64::from(pkt.len());
            }
            Err(Decision::Fanout(pkt, d)) => {
                let w = Work {
                    pkt,
                    hop,
                    dir: hop.direction(dir, d),
                    budget,
                };
                return run_fanout(sp, g, ctx, w);
            }
            Err(Decision::Drop(pkt, reason)) => return end(sp, cpu, hop, pkt, reason),
            Err(Decision::Consumed(fate)) => return consumed(sp, cpu, hop, fate),
        }
        match follow::<LIMITED>(sp, g, cpu, hop, dir, pkt, &mut budget, len) {
            Some((next, p)) => {
                hop = next;
                pkt = p;
            }
            None => return,
        }
    }
}

/// [`run`] from a fan-out on: the copies wait on a small stack, at most [`PENDING`] at once
/// and `max_copies` in all; those beyond are dropped, counted. `g` is the snapshot the packet
/// has walked so far (`first.hop` is one of its hops): a packet never mixes two.
#[cold]
#[inline(never)]
fn run_fanout<'g>(sp: &Space, g: &'g Graph, ctx: &PacketContext, first: Work<'g>) {
    let mut copies_left = crate::params::max_copies();
    let mut pending: [Option<Work<'_>>; PENDING] = Default::default();
    let mut npending = 0usize;
    let mut next = fan_out(
        sp,
        g,
        ctx,
        first,
        &mut copies_left,
        &mut pending,
        &mut npending,
    );
    loop {
        let w = match next.take() {
            Some(w) => w,
            None if npending > 0 => {
                npending -= 1;
                match pending[npending].take() {
                    Some(w) => w,
                    None => continue,
                }
            }
            None => return,
        };
        next = match step(sp, g, ctx, w) {
            Step::Go(w) => Some(w),
            Step::Done => None,
            Step::Fanout(f) => {
                fan_out(sp, g, ctx, f, &mut copies_left, &mut pending, &mut npending)
            }
        };
    }
}

/// Copy `w.pkt` for every block `w.hop` passes packets to in `w.dir` but the first, onto
/// `pending`; return the packet itself, for the first.
fn fan_out<'g>(
    sp: &Space,
    g: &'g Graph,
    ctx: &PacketContext,
    w: Work<'g>,
    copies_left: &mut u32,
    pending: &mut [Option<Work<'g>>; PENDING],
    npending: &mut usize,
) -> Option<Work<'g>> {
    let cpu = ctx.cpu;
    let Work {
        pkt,
        hop,
        dir,
        budget,
    } = w;
    // (every copy, the first too, starts at the block bound: blocks a compiled path would
    // skip count it there)
    let ports = g.ports(hop, dir);
    let Some(first) = ports.first().and_then(|&slot| g.hop(slot)) else {
        end(sp, cpu, hop, pkt, DropReason::NoNext);
        return None;
    };
    for &slot in ports.iter().skip(1) {
        sp.count(cpu, |f| f.copies = f.copies.wrapping_add(1));
        let Some(to) = g.hop(slot) else {
            // bindings name slots of the same snapshot: this cannot happen
            consumed(sp, cpu, hop, Fate::Dropped(DropReason::NoBlock));
            continue;
        };
        if *copies_left == 0 {
            consumed(sp, cpu, hop, Fate::Dropped(DropReason::FanoutFailed));
            continue;
        }
        *copies_left -= 1;
        match pkt.try_clone() {
            Some(copy) if *npending < PENDING => {
                pending[*npending] = Some(Work {
                    pkt: copy,
                    hop: to,
                    dir,
                    budget,
                });
                *npending += 1;
            }
            Some(copy) => end(sp, cpu, hop, copy, DropReason::FanoutFailed),
            None => consumed(sp, cpu, hop, Fate::Dropped(DropReason::FanoutFailed)),
        }
    }
    Some(Work {
        pkt,
        hop: first,
        dir,
        budget,
    })
}

/// A queued frame, for an engine thread to run (bottom halves off).
///
/// # Safety
///
/// `skb` is an unshared skb whose only reference the caller gives up; bottom halves are off;
/// `space` is the space the frame was queued with (by [`mechanism::enqueue`]), alive: a
/// port's queued frames are flushed when it detaches, before its block (which holds the
/// space) is dropped.
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_ppe_run(
    skb: *mut bindings::sk_buff,
    entry: u64,
    space: *const c_void,
) {
    // SAFETY: bottom halves are off (function docs).
    let ctx = unsafe { PacketContext::new() };
    // SAFETY: a live space (function docs).
    let sp = unsafe { &*space.cast::<Space>() };
    // SAFETY: the queue held the only reference to this unshared skb; it is ours now.
    if let Some(pkt) = unsafe { Packet::from_raw(skb) } {
        resume_from_queue(&ctx, pkt, Entry::unpack(entry), sp);
    }
}

/// A queued frame that will not run, to be counted (in `space`) and freed (bottom halves
/// off).
///
/// # Safety
///
/// As for [`lana_rust_ppe_run`].
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_ppe_drop(
    skb: *mut bindings::sk_buff,
    space: *const c_void,
    reason: u32,
) {
    // SAFETY: bottom halves are off (function docs).
    let ctx = unsafe { PacketContext::new() };
    // SAFETY: a live space (function docs).
    let sp = unsafe { &*space.cast::<Space>() };
    // SAFETY: as in `lana_rust_ppe_run`.
    if let Some(pkt) = unsafe { Packet::from_raw(skb) } {
        drop_queued(
            &ctx,
            pkt,
            DropReason::from_u32(reason).unwrap_or(DropReason::Flushed),
            sp,
        );
    }
}
