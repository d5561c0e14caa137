// SPDX-License-Identifier: GPL-2.0
//! The configuration: the blocks, their bindings, and every command that changes them.
//!
//! # Locking and publication
//!
//! All configuration state lives in [`CONFIG`], one mutex taken by netlink commands and by
//! FB modules registering their types. The packet path never takes it: after each change the
//! command publishes a new immutable [`crate::graph::Graph`] with one pointer swap. Nothing
//! waits for a grace period in the common case: the retired snapshot and removed blocks are
//! dropped after one by [`crate::rcu::defer_drop`]. Only a replace that carries state over
//! waits, because the state must be final before the new block adopts it.
//! Lock order: CONFIG -> rtnl (eth blocks attach devices on `set`).
//!
//! # Identity
//!
//! A block has a name (unique, what users type), an id (never reused within 2^32 adds, what
//! `fbctl list` shows) and a slot (its index in the snapshot, reused). Packets that enter
//! from outside the graph carry an [`Entry`] (slot and id), checked by the engine.

use crate::block::{Direction, Entry, Event, FbType, FunctionalBlock, NewInstance};
use crate::ffi;
use crate::graph;
use crate::msg::{fail, CmdResult, Fail};
use crate::name::Name;
use crate::notifier::EventChain;
use crate::percpu::PerCpuCounters;
use crate::props::{self, PropValue};
use crate::rcu;
use crate::types::{ModuleRef, TypeEntry};
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNode};
use kernel::sync::GlobalGuard;

/// A live block. Owned by the configuration while it is there; graph snapshots point to it,
/// so it is dropped only after a grace period once it left (see [`retire`]).
pub struct Instance {
    pub(crate) id: u32,
    pub(crate) name: Name,
    pub(crate) ty: &'static FbType,
    /// Packets, bytes and drops of this block, counted by the engine.
    pub(crate) stats: PerCpuCounters,
    pub(crate) chain: EventChain,
    pub(crate) fb: KBox<dyn FunctionalBlock>,
}

/// A block with its bindings, as the configuration knows it.
pub(crate) struct Node {
    pub(crate) inst: KBox<Instance>,
    /// Slots of the blocks this one passes packets to, ingress direction, in bind order.
    pub(crate) ingress: KVec<u32>,
    /// Same, egress direction.
    pub(crate) egress: KVec<u32>,
    /// Keeps the type's module loaded while the block is configured.
    module: ModuleRef,
}

impl Node {
    pub(crate) fn ports(&self, dir: Direction) -> &[u32] {
        match dir {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    fn ports_mut(&mut self, dir: Direction) -> &mut KVec<u32> {
        match dir {
            Direction::Ingress => &mut self.ingress,
            Direction::Egress => &mut self.egress,
        }
    }

    fn is_bound(&self) -> bool {
        !self.ingress.is_empty() || !self.egress.is_empty()
    }
}

/// All configuration state.
pub(crate) struct Config {
    pub(crate) types: KVec<TypeEntry>,
    /// The blocks, by slot (vmalloc-backed beyond a few pages: 65,536 blocks take 4 MiB).
    slots: KVVec<Option<Node>>,
    /// Free slots, reused last-freed first.
    free: KVec<u32>,
    /// Name -> slot (`None` until the first block: a static cannot build a tree).
    names: Option<RBTree<Name, u32>>,
    /// The id the next block gets.
    next_id: u32,
    /// Whether ids wrapped around 2^32: from then on a new id is checked against those in use.
    ids_wrapped: bool,
    /// Number of blocks.
    count: usize,
    /// Whether changes are published to the engine: only the global configuration is; a
    /// private one (KUnit tests) exercises the same commands without touching the engine.
    live: bool,
}

kernel::sync::global_lock! {
    // SAFETY: initialised by `init()` in the module initialiser, before anything can use it.
    pub(crate) unsafe(uninit) static CONFIG: Mutex<Config> = Config::empty(true);
}

pub(crate) type ConfigGuard = GlobalGuard<CONFIG>;

/// Set up the configuration mutex. Called once, first thing in module init.
pub(crate) fn init() {
    // SAFETY: called exactly once, before any other use of CONFIG.
    unsafe { CONFIG.init() };
}

/// Lock the configuration.
pub(crate) fn lock() -> ConfigGuard {
    CONFIG.lock()
}

/// Changes with everything a dump shows (never 0): a command's change, a type coming or going,
/// a socket binding, a device detaching its block. Dumps use it to tell userspace that a
/// multi-part answer mixes two states (NLM_F_DUMP_INTR).
static GENERATION: AtomicU32 = AtomicU32::new(1);

/// The generation now.
pub(crate) fn generation() -> u32 {
    GENERATION.load(Ordering::Acquire)
}

/// Something a dump shows changed.
pub(crate) fn changed() {
    let _ = GENERATION.fetch_update(Ordering::AcqRel, Ordering::Acquire, |g| Some(g.wrapping_add(1).max(1)));
}

/// Called from C when a device going away detached its eth block.
#[no_mangle]
pub extern "C" fn lana_rust_config_changed() {
    changed();
}

/// The most blocks a graph may hold (module parameter `max_blocks`).
pub fn max_blocks() -> u32 {
    // SAFETY: reads a module parameter.
    unsafe { ffi::lana_max_blocks() }
}

fn veto(name: &str, what: &str, e: (Error, Option<&'static str>)) -> Fail {
    match e.1 {
        Some(why) => Fail::new(e.0, format_args!("{}: {}", name, why)),
        None => Fail::new(e.0, format_args!("'{}' refused the {}", name, what)),
    }
}

/// A block that left the configuration: it lets go of its device or socket now, and is
/// dropped after a grace period, when no packet can be inside it any more. The module
/// reference goes now: the module's exit waits for deferred drops (`Registration`).
fn retire(node: Node) {
    let Node { inst, module, .. } = node;
    inst.chain.unsubscribe();
    inst.fb.detach();
    rcu::defer_drop(inst);
    drop(module);
}

impl Config {
    const fn empty(live: bool) -> Self {
        Config {
            types: KVec::new(),
            slots: KVVec::new(),
            free: KVec::new(),
            names: None,
            next_id: 1,
            ids_wrapped: false,
            count: 0,
            live,
        }
    }

    /// A configuration of its own, never published to the engine (for KUnit tests).
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn private() -> Self {
        Self::empty(false)
    }

    /// Publish the graph this configuration describes (see [`graph::publish`]); nothing for
    /// a private configuration, which no packet can see.
    fn publish(&self) -> Result {
        if self.live {
            graph::publish(self)
        } else {
            Ok(())
        }
    }

    /// Publish, undoing `undo` if that fails (out of memory); count the change if it worked.
    fn publish_or(&mut self, undo: impl FnOnce(&mut Self)) -> CmdResult {
        match self.publish() {
            Ok(()) => {
                self.changed();
                Ok(())
            }
            Err(e) => {
                undo(self);
                fail!(e, "out of memory while publishing the new graph")
            }
        }
    }

    fn changed(&mut self) {
        if self.live {
            changed();
        }
    }

    /// An id no block has: the next one, checked against those in use once ids wrapped.
    fn new_id(&mut self) -> u32 {
        loop {
            let id = self.next_id;
            self.next_id = id.wrapping_add(1).max(1);
            if self.next_id == 1 {
                self.ids_wrapped = true;
            }
            if !self.ids_wrapped || !self.nodes().any(|(_, n)| n.inst.id == id) {
                return id;
            }
        }
    }

    /// Number of blocks.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Number of slots (some may be empty): the size of a snapshot's table.
    pub(crate) fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The block in `slot`, if any.
    pub(crate) fn node(&self, slot: u32) -> Option<&Node> {
        self.slots.get(slot as usize)?.as_ref()
    }

    fn node_mut(&mut self, slot: u32) -> Option<&mut Node> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    /// Every block with its slot, in slot order.
    pub(crate) fn nodes(&self) -> impl Iterator<Item = (u32, &Node)> {
        self.slots.iter().enumerate().filter_map(|(i, n)| n.as_ref().map(|n| (i as u32, n)))
    }

    /// The slot of the block called `name`.
    pub(crate) fn find(&self, name: &str) -> Option<u32> {
        self.names.as_ref()?.get(&Name::new(name).ok()?).copied()
    }

    /// The name of the block in `slot` ("?" if none).
    pub(crate) fn name_of(&self, slot: u32) -> &str {
        self.node(slot).map_or("?", |n| n.inst.name.as_str())
    }

    fn lookup(&self, name: &str) -> CmdResult<u32> {
        match self.find(name) {
            Some(s) => Ok(s),
            None => fail!(ENOENT, "no functional block named '{}'", name),
        }
    }

    /// The block in a slot [`Self::lookup`] returned.
    fn at(&self, slot: u32) -> CmdResult<&Node> {
        match self.node(slot) {
            Some(n) => Ok(n),
            None => fail!(EINVAL, "internal error: empty slot {}", slot),
        }
    }

    fn at_mut(&mut self, slot: u32) -> CmdResult<&mut Node> {
        match self.node_mut(slot) {
            Some(n) => Ok(n),
            None => fail!(EINVAL, "internal error: empty slot {}", slot),
        }
    }

    pub(crate) fn instances_of(&self, ty: &FbType) -> u32 {
        self.nodes().filter(|(_, n)| core::ptr::eq(n.inst.ty, ty)).count() as u32
    }

    /// Whether `target` can be reached from `from` following ingress bindings: a walk that
    /// visits every block at most once (O(blocks + bindings)).
    fn reaches(&self, from: u32, target: u32) -> CmdResult<bool> {
        let mut seen: KVec<u64> = KVec::new();
        seen.resize(self.slots.len().div_ceil(64), 0, GFP_KERNEL)?;
        let mut stack: KVec<u32> = KVec::with_capacity(self.count, GFP_KERNEL)?;
        stack.push(from, GFP_KERNEL)?;
        while let Some(s) = stack.pop() {
            if s == target {
                return Ok(true);
            }
            let (word, bit) = (s as usize / 64, 1u64 << (s % 64));
            if seen.get(word).is_none_or(|w| w & bit != 0) {
                continue;
            }
            seen[word] |= bit;
            if let Some(n) = self.node(s) {
                for &next in n.ingress.iter() {
                    stack.push(next, GFP_KERNEL)?;
                }
            }
        }
        Ok(false)
    }

    /// Replace every reference to slot `from` in the bindings by `to`.
    fn rename_slot(&mut self, from: u32, to: u32) {
        for node in self.slots.iter_mut().flatten() {
            for dir in [Direction::Ingress, Direction::Egress] {
                for x in node.ports_mut(dir).iter_mut() {
                    if *x == from {
                        *x = to;
                    }
                }
            }
        }
    }

    /// Take the block in `slot` out of the configuration (no publish).
    fn take(&mut self, slot: u32) -> Option<Node> {
        let node = self.slots.get_mut(slot as usize)?.take()?;
        if let Some(t) = self.names.as_mut() {
            t.remove(&node.inst.name);
        }
        self.count -= 1;
        Some(node)
    }

    /// Put a block taken by [`Self::take`] back (undo). `name` is a preallocated tree node.
    fn put_back(&mut self, slot: u32, node: Node, name: RBTreeNode<Name, u32>) {
        self.names.get_or_insert_with(RBTree::new).insert(name);
        self.count += 1;
        if let Some(s) = self.slots.get_mut(slot as usize) {
            *s = Some(node);
        }
    }
}

/// `fbctl add <name> <type>`.
pub(crate) fn add(cfg: &mut Config, name: &str, ty: &str) -> CmdResult {
    let name_ok = match Name::new(name) {
        Ok(n) => n,
        Err(why) => fail!(EINVAL, "bad name '{}': {}", name, why),
    };
    if cfg.names.as_ref().is_some_and(|t| t.get(&name_ok).is_some()) {
        fail!(EEXIST, "a functional block named '{}' exists already", name);
    }
    let Some(entry) = cfg.types.iter().find(|t| t.ty.name == ty) else {
        fail!(ENOENT, "unknown FB type '{}' (is its module loaded? see 'fbctl types')", ty);
    };
    let (fbty, module) = (entry.ty, entry.module);
    let max = max_blocks();
    if cfg.count >= max as usize {
        fail!(ENOSPC, "the graph holds max_blocks={} blocks already", max);
    }
    let Some(module) = ModuleRef::get(module) else {
        fail!(ENOENT, "the module of type '{}' is going away", ty);
    };
    // Everything that can fail for lack of memory happens before anything changes.
    let slot = match cfg.free.last() {
        Some(&s) => s,
        None => {
            cfg.slots.reserve(1, GFP_KERNEL)?;
            cfg.free.reserve(cfg.slots.len() + 1, GFP_KERNEL)?;
            cfg.slots.len() as u32
        }
    };
    let name_node = RBTreeNode::new(name_ok, slot, GFP_KERNEL)?;
    let id = cfg.new_id();
    let entry = Entry { slot, id };
    let fb = match (fbty.new)(&NewInstance { id, entry, name }) {
        Ok(fb) => fb,
        Err(e) => fail!(e, "type '{}' could not create an instance", ty),
    };
    let inst = KBox::new(
        Instance { id, name: name_ok, ty: fbty, stats: PerCpuCounters::new()?, chain: EventChain::new(), fb },
        GFP_KERNEL,
    )?;
    inst.chain.subscribe()?;
    let node = Node { inst, ingress: KVec::new(), egress: KVec::new(), module };
    if cfg.free.last() == Some(&slot) {
        cfg.free.pop();
        cfg.slots[slot as usize] = Some(node);
    } else {
        // Capacity reserved above.
        let _ = cfg.slots.push_within_capacity(Some(node));
    }
    cfg.names.get_or_insert_with(RBTree::new).insert(name_node);
    cfg.count += 1;
    cfg.publish_or(|cfg| {
        if let Some(n) = cfg.take(slot) {
            let _ = cfg.free.push_within_capacity(slot);
            n.inst.chain.unsubscribe();
            // Never published: no packet can have seen it.
            drop(n);
        }
    })
}

/// `fbctl rm <name>`: only an unbound block can be removed.
pub(crate) fn rm(cfg: &mut Config, name: &str) -> CmdResult {
    let s = cfg.lookup(name)?;
    let node = cfg.at(s)?;
    if let Some(&peer) = node.ingress.first().or(node.egress.first()) {
        fail!(EBUSY, "'{}' is bound to '{}': unbind it first", name, cfg.name_of(peer));
    }
    node.inst.chain.call(&Event::Remove).map_err(|e| veto(name, "removal", e))?;
    let undo_name = RBTreeNode::new(node.inst.name, s, GFP_KERNEL)?;
    cfg.free.reserve(1, GFP_KERNEL)?;
    let Some(node) = cfg.take(s) else {
        fail!(EINVAL, "internal error: empty slot {}", s);
    };
    if let Err(e) = cfg.publish() {
        cfg.put_back(s, node, undo_name);
        fail!(e, "out of memory while publishing the new graph");
    }
    cfg.changed();
    let _ = cfg.free.push_within_capacity(s);
    retire(node);
    Ok(())
}

/// `fbctl flush`: unbind and remove everything (no veto), in one publish.
pub(crate) fn flush(cfg: &mut Config) -> CmdResult {
    let mut gone = KVec::with_capacity(cfg.count, GFP_KERNEL)?;
    // The empty graph, made before anything changes (it is the one allocation that can fail).
    let empty = if cfg.live { Some(graph::build(&Config::empty(true))?) } else { None };
    for slot in cfg.slots.iter_mut() {
        if let Some(n) = slot.take() {
            let _ = n.inst.chain.call(&Event::Remove);
            // Capacity for every block reserved above.
            let _ = gone.push_within_capacity(n);
        }
    }
    cfg.slots.clear();
    cfg.free.clear();
    cfg.names = None;
    cfg.count = 0;
    if let Some(g) = empty {
        graph::install(g);
    }
    cfg.changed();
    for n in gone.drain_all() {
        retire(n);
    }
    Ok(())
}

/// Remove everything at module exit (nothing can be left; this is a safety net), then stop
/// publishing and wait for every deferred drop.
pub(crate) fn flush_all() {
    {
        let mut cfg = lock();
        if cfg.count != 0 {
            pr_warn!("{} instances left at unload\n", cfg.count);
        }
        let _ = flush(&mut cfg);
        graph::unpublish();
        // The mutex is a static that outlives this load of the module: free the vectors'
        // memory now, or every load/unload cycle leaks it (kmemleak found this).
        cfg.slots = KVVec::new();
        cfg.free = KVec::new();
        cfg.types = KVec::new();
    }
    rcu::flush_deferred();
}

/// Maximum number of properties in one `set`.
pub(crate) const MAX_PROPS: usize = 16;

/// `fbctl set <name> key=value...`: all of them or none.
pub(crate) fn set(cfg: &mut Config, name: &str, raw: &[&str]) -> CmdResult {
    let s = cfg.lookup(name)?;
    let inst = &cfg.at(s)?.inst;
    if raw.is_empty() {
        fail!(EINVAL, "nothing to set: give key=value");
    }
    let mut parsed: KVec<(&str, PropValue<'_>)> = KVec::with_capacity(raw.len(), GFP_KERNEL)?;
    for s in raw {
        let Some((key, value)) = props::split_prop(s) else {
            fail!(EINVAL, "'{}' is not key=value", s);
        };
        let Some(info) = inst.ty.keys.iter().find(|k| k.key == key) else {
            fail!(EINVAL, "type '{}' has no key '{}' (see 'fbctl types')", inst.ty.name, key);
        };
        match PropValue::parse(info.kind, value) {
            Ok(v) => parsed.push((key, v), GFP_KERNEL)?,
            Err(why) => fail!(EINVAL, "bad value for '{}': {}", key, why),
        }
    }
    inst.chain.call(&Event::Set(&parsed)).map_err(|e| veto(name, "setting", e))?;
    cfg.changed();
    Ok(())
}

/// `fbctl bind <from> <to>`.
pub(crate) fn bind(cfg: &mut Config, from: &str, to: &str) -> CmdResult {
    let (f, t) = (cfg.lookup(from)?, cfg.lookup(to)?);
    if f == t {
        fail!(ELOOP, "cannot bind '{}' to itself", from);
    }
    let (fnode, tnode) = (cfg.at(f)?, cfg.at(t)?);
    if fnode.ingress.contains(&t) {
        fail!(EEXIST, "'{}' is bound to '{}' already", from, to);
    }
    let (fty, tty) = (fnode.inst.ty, tnode.inst.ty);
    if fnode.ingress.len() as u32 >= fty.max_ingress {
        fail!(ENOSPC, "'{}' ({}) passes packets on to at most {} block(s)", from, fty.name, fty.max_ingress);
    }
    if tnode.egress.len() as u32 >= tty.max_egress {
        fail!(ENOSPC, "'{}' ({}) sends egress to at most {} block(s)", to, tty.name, tty.max_egress);
    }
    if cfg.reaches(t, f)? {
        fail!(ELOOP, "binding '{}' to '{}' would form a cycle", from, to);
    }
    let fev = Event::Bind { peer: to, dir: Direction::Ingress };
    fnode.inst.chain.call(&fev).map_err(|e| veto(from, "bind", e))?;
    let tev = Event::Bind { peer: from, dir: Direction::Egress };
    if let Err(e) = tnode.inst.chain.call(&tev) {
        let _ = fnode.inst.chain.call(&Event::Unbind { peer: to, dir: Direction::Ingress });
        return Err(veto(to, "bind", e));
    }
    cfg.at_mut(f)?.ingress.reserve(1, GFP_KERNEL)?;
    cfg.at_mut(t)?.egress.reserve(1, GFP_KERNEL)?;
    let _ = cfg.at_mut(f)?.ingress.push_within_capacity(t);
    let _ = cfg.at_mut(t)?.egress.push_within_capacity(f);
    cfg.publish_or(|cfg| {
        if let Some(n) = cfg.node_mut(f) {
            n.ingress.retain(|x| *x != t);
        }
        if let Some(n) = cfg.node_mut(t) {
            n.egress.retain(|x| *x != f);
        }
    })
}

/// `fbctl unbind <from> <to>`.
pub(crate) fn unbind(cfg: &mut Config, from: &str, to: &str) -> CmdResult {
    let (f, t) = (cfg.lookup(from)?, cfg.lookup(to)?);
    let (fnode, tnode) = (cfg.at(f)?, cfg.at(t)?);
    let Some(fpos) = fnode.ingress.iter().position(|&x| x == t) else {
        fail!(ENOENT, "'{}' is not bound to '{}'", from, to);
    };
    let tpos = tnode.egress.iter().position(|&x| x == f).unwrap_or(0);
    let fev = Event::Unbind { peer: to, dir: Direction::Ingress };
    fnode.inst.chain.call(&fev).map_err(|e| veto(from, "unbind", e))?;
    let tev = Event::Unbind { peer: from, dir: Direction::Egress };
    tnode.inst.chain.call(&tev).map_err(|e| veto(to, "unbind", e))?;
    let _ = cfg.at_mut(f)?.ingress.remove(fpos);
    let tn = cfg.at_mut(t)?;
    if tn.egress.get(tpos) == Some(&f) {
        let _ = tn.egress.remove(tpos);
    }
    cfg.publish_or(|cfg| {
        if let Some(n) = cfg.node_mut(f) {
            let _ = n.ingress.insert_within_capacity(fpos, t);
        }
        if let Some(n) = cfg.node_mut(t) {
            let _ = n.egress.insert_within_capacity(tpos, f);
        }
    })
}

/// `fbctl replace <old> <new> [--drop-state]`: `new` (unbound) takes `old`'s place in one
/// graph swap; `old` is removed in the same swap.
pub(crate) fn replace(cfg: &mut Config, old: &str, new: &str, drop_state: bool) -> CmdResult {
    let (o, n) = (cfg.lookup(old)?, cfg.lookup(new)?);
    if o == n {
        fail!(EINVAL, "cannot replace '{}' with itself", old);
    }
    let (onode, nnode) = (cfg.at(o)?, cfg.at(n)?);
    if nnode.is_bound() {
        fail!(EBUSY, "'{}' is bound: the replacement must be unbound", new);
    }
    let (oty, nty) = (onode.inst.ty, nnode.inst.ty);
    let same_type = core::ptr::eq(oty, nty);
    if oty.has_state && !same_type && !drop_state {
        fail!(EINVAL, "'{}' ({}) has state that '{}' ({}) cannot take: use --drop-state", old, oty.name, new, nty.name);
    }
    if onode.ingress.len() as u32 > nty.max_ingress || onode.egress.len() as u32 > nty.max_egress {
        fail!(ENOSPC, "'{}' ({}) cannot take all of '{}''s bindings", new, nty.name, old);
    }
    onode.inst.chain.call(&Event::ReplaceOut { new }).map_err(|e| veto(old, "replace", e))?;
    nnode.inst.chain.call(&Event::ReplaceIn { old }).map_err(|e| veto(new, "replace", e))?;
    let undo_name = RBTreeNode::new(onode.inst.name, o, GFP_KERNEL)?;
    cfg.free.reserve(1, GFP_KERNEL)?;

    // Move the bindings; every reference to `old` elsewhere now names `new`. `old` leaves
    // the configuration in the same snapshot that puts `new` in its place: one pointer swap.
    let Some(mut old_node) = cfg.take(o) else {
        fail!(EINVAL, "internal error: empty slot {}", o);
    };
    let (ingress, egress) = (core::mem::take(&mut old_node.ingress), core::mem::take(&mut old_node.egress));
    {
        let nn = cfg.at_mut(n)?;
        nn.ingress = ingress;
        nn.egress = egress;
    }
    cfg.rename_slot(o, n);
    if let Err(e) = cfg.publish() {
        cfg.rename_slot(n, o);
        if let Some(nn) = cfg.node_mut(n) {
            old_node.ingress = core::mem::take(&mut nn.ingress);
            old_node.egress = core::mem::take(&mut nn.egress);
        }
        cfg.put_back(o, old_node, undo_name);
        fail!(e, "out of memory while publishing the new graph");
    }
    cfg.changed();
    let _ = cfg.free.push_within_capacity(o);
    if same_type && oty.has_state && !drop_state {
        // The state is final once no packet can be inside `old`: wait for that here (the one
        // command that does), so the counts are carried over when the command returns.
        kernel::sync::rcu::synchronize_rcu();
        if let Some(nn) = cfg.node(n) {
            nn.inst.fb.adopt_state(old_node.inst.fb.as_any());
        }
    }
    retire(old_node);
    Ok(())
}
