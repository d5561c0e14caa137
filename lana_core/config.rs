// SPDX-License-Identifier: GPL-2.0
//! The configuration: the blocks and their bindings, as the commands (`commands.rs`)
//! change them.
//!
//! # Locking and publication
//!
//! All configuration state lives in [`CONFIG`], one mutex taken by netlink commands. The
//! packet path never takes it: after each change the command publishes a new immutable
//! [`Graph`](crate::graph::Graph) with one pointer swap. Nothing waits for a grace period in
//! the common case: the retired snapshot and removed blocks are dropped after one by
//! [`crate::rcu::defer_drop`]. Only a replace that carries state over waits, because the
//! state must be final before the new block adopts it.
//! Lock order: CONFIG -> the type registry; CONFIG -> rtnl (eth blocks attach devices).
//!
//! # Identity
//!
//! A block has a name (unique, what users type), an id (never reused while in use, what
//! `fbctl list` shows) and a slot (its index in the snapshot, reused). Packets that enter
//! from outside the graph carry an [`Entry`](crate::block::Entry) (slot and id), checked by
//! the engine.

use crate::block::Direction;
use crate::engine;
use crate::graph;
use crate::instance::Instance;
use crate::name::Name;
use crate::notifier::Subscription;
use crate::percpu::Totals;
use crate::rcu::{self, GracePeriod};
use crate::space::Space;
use crate::types::ModuleRef;
use core::sync::atomic::Ordering;
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNode};
use kernel::sync::{Arc, GlobalGuard};

/// A binding as one of its two blocks holds it.
pub(crate) struct Binding {
    /// The other block's slot.
    pub(crate) slot: u32,
    /// This block's subscription to the other block's chain: it hears its neighbour's news.
    pub(crate) hears: Pin<KBox<Subscription>>,
}

/// A block with its bindings, as the configuration knows it.
pub(crate) struct Node {
    pub(crate) inst: KBox<Instance>,
    /// The blocks this one passes packets to, ingress direction, in bind order.
    pub(crate) ingress: KVec<Binding>,
    /// Same, egress direction.
    pub(crate) egress: KVec<Binding>,
    /// The block's own subscription to its chain (it is asked about changes to it).
    pub(crate) owner: Pin<KBox<Subscription>>,
    /// Keeps the type's module loaded while the block is configured.
    pub(crate) module: ModuleRef,
}

impl Node {
    pub(crate) fn ports(&self, dir: Direction) -> &KVec<Binding> {
        match dir {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    pub(crate) fn ports_mut(&mut self, dir: Direction) -> &mut KVec<Binding> {
        match dir {
            Direction::Ingress => &mut self.ingress,
            Direction::Egress => &mut self.egress,
        }
    }

    pub(crate) fn is_bound(&self) -> bool {
        !self.ingress.is_empty() || !self.egress.is_empty()
    }

    /// Whether this block passes packets to the block in `slot` in `dir`.
    pub(crate) fn binds(&self, dir: Direction, slot: u32) -> bool {
        self.ports(dir).iter().any(|b| b.slot == slot)
    }
}

/// All configuration state.
pub(crate) struct Config {
    /// The blocks, by slot (vmalloc-backed beyond a few pages: 65,536 blocks take 4 MiB).
    pub(crate) slots: KVVec<Option<Node>>,
    /// Free slots, reused last-freed first.
    pub(crate) free: KVec<u32>,
    /// (namespace's space, name) -> slot (`None` until the first block: a static cannot
    /// build a tree). Names are unique per namespace.
    names: Option<RBTree<(u64, Name), u32>>,
    /// The spaces of the namespaces that have used LANA (made on a namespace's first change,
    /// taken out by its pernet exit).
    spaces: KVec<Arc<Space>>,
    /// The id the next block gets.
    next_id: u32,
    /// Whether ids wrapped around 2^32: from then on a new id is checked against those in use.
    ids_wrapped: bool,
    /// Number of blocks.
    pub(crate) count: usize,
    /// Whether changes are published to the engine: only the global configuration is; a
    /// private one (KUnit tests) exercises the same commands without touching the engine.
    live: bool,
    /// A private configuration's block types (the global one uses the type registry).
    pub(crate) private_types: KVec<&'static crate::types::FbType>,
    /// The open transaction, if any: changes are journalled, not published (`txn.rs`).
    pub(crate) txn: Option<crate::txn::Journal>,
    /// What the segments (`graph.rs`) of snapshots published before counted: packets may
    /// still count there until the grace period after each was replaced; then the counts go
    /// to the blocks the segments skipped ([`Config::settle`]). Oldest first.
    retired: KVec<(Arc<graph::SegmentCounts>, GracePeriod)>,
    /// A transaction is being applied: blocks it removed may come back, so retired counts
    /// wait (they would skip blocks that are out of the configuration meanwhile).
    pub(crate) hold_credits: bool,
}

/// Retired counts kept at most; beyond, a command waits for the oldest one's grace period.
/// (Each holds 24 bytes per segment per CPU: few generations.)
pub(crate) const MAX_RETIRED: usize = 4;

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

/// Lock the configuration if it is free.
pub(crate) fn try_lock() -> Option<ConfigGuard> {
    CONFIG.try_lock()
}

/// A block that left the configuration: it lets go of its device or socket now, and is
/// dropped after a grace period, when no packet can be inside it any more. The module
/// reference goes now: the module's exit waits for deferred drops (`Registration`).
pub(crate) fn retire(node: Node) {
    let Node {
        inst,
        ingress,
        egress,
        owner,
        module,
    } = node;
    inst.chain.unsubscribe(&owner);
    inst.fb.detach();
    // Subscriptions go with the configuration entry; the instance after a grace period.
    drop((ingress, egress, owner));
    rcu::defer_drop(inst);
    drop(module);
}

impl Config {
    pub(crate) const fn empty(live: bool) -> Self {
        Config {
            slots: KVVec::new(),
            free: KVec::new(),
            names: None,
            spaces: KVec::new(),
            next_id: 1,
            ids_wrapped: false,
            count: 0,
            live,
            private_types: KVec::new(),
            txn: None,
            retired: KVec::new(),
            hold_credits: false,
        }
    }

    /// A configuration of its own, never published to the engine (for KUnit tests).
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn private() -> Self {
        Self::empty(false)
    }

    /// The snapshot this configuration describes, not yet published.
    pub(crate) fn build(&self) -> Result<KBox<graph::Graph>> {
        self.build_without(None)
    }

    /// The snapshot without the blocks of space `gone` (a flush builds it before it
    /// changes anything).
    pub(crate) fn build_without(&self, gone: Option<&Space>) -> Result<KBox<graph::Graph>> {
        let keep = |n: &Node| gone.is_none_or(|g| n.inst.space.key != g.key);
        let nports = self
            .nodes()
            .filter(|(_, n)| keep(n))
            .map(|(_, n)| n.ingress.len() + n.egress.len())
            .sum();
        let mut b = graph::Builder::new(self.slots.len(), nports)?;
        for (slot, n) in self.nodes().filter(|(_, n)| keep(n)) {
            b.add(
                slot,
                &n.inst,
                n.ingress.iter().map(|p| p.slot),
                n.egress.iter().map(|p| p.slot),
            )?;
        }
        b.finish()
    }

    /// Publish the graph this configuration describes; nothing for a private configuration,
    /// which no packet can see. On error (out of memory) nothing changed.
    pub(crate) fn publish(&mut self) -> Result {
        if self.live && self.txn.is_none() {
            let g = self.build()?;
            self.install(g);
        }
        Ok(())
    }

    /// Publish `g`, built from this configuration (nothing for a private one). What the
    /// segments of the snapshot it replaces counted is kept, to be credited to the blocks.
    pub(crate) fn install(&mut self, g: KBox<graph::Graph>) {
        if !self.live {
            return;
        }
        let old = engine::with(|e| e.install(g)).flatten();
        if let Some(old) = old.filter(|c| !c.is_empty()) {
            // (after the swap: packets that found the old snapshot are done once it passed)
            let gp = GracePeriod::start();
            if self.retired.reserve(1, GFP_KERNEL).is_ok() {
                // (room reserved just now)
                let _ = self.retired.push_within_capacity((old, gp));
            } else {
                // no room to keep them: credit them now
                gp.wait();
                self.credit(&old);
            }
        }
        self.settle();
    }

    /// Room for `n` more retired counts.
    pub(crate) fn reserve_retired(&mut self, n: usize) -> Result {
        Ok(self.retired.reserve(n, GFP_KERNEL)?)
    }

    /// Credit the counts of retired snapshots that no packet can walk any more to the blocks
    /// their segments skipped; wait for the oldest ones beyond [`MAX_RETIRED`]. Nothing while
    /// a transaction is being applied (`hold_credits`).
    pub(crate) fn settle(&mut self) {
        if self.hold_credits {
            return;
        }
        while let Some((_, gp)) = self.retired.first() {
            let gp = *gp;
            if self.retired.len() > MAX_RETIRED {
                gp.wait();
            } else if !gp.passed() {
                break;
            }
            if let Ok((old, _)) = self.retired.remove(0) {
                self.credit(&old);
            }
        }
    }

    /// Credit retired segment counts (their grace period has passed) to the blocks still
    /// configured, by slot and id.
    fn credit(&self, old: &graph::SegmentCounts) {
        old.each_credit(|slot, id, t| {
            if let Some(n) = self.node(slot).filter(|n| n.inst.id == id) {
                n.inst.stats.add_totals(t);
            }
        });
    }

    /// A block's packets, bytes and drops: what the engine counted at it, and what the
    /// segments of the published and retired snapshots counted for it when they skipped it.
    pub(crate) fn block_totals(&self, slot: u32, inst: &Instance) -> Totals {
        let mut t = inst.stats.sum();
        if !self.live || !inst.ty.pass_through {
            return t;
        }
        let published = engine::with(|e| {
            // SAFETY: a live configuration is the one in CONFIG, borrowed from its guard:
            // the mutex is held while `self` is.
            unsafe { e.published() }.map_or(Totals::default(), |g| {
                g.segment_counts().skipped_totals(slot, inst.id)
            })
        });
        let skipped = self
            .retired
            .iter()
            .map(|(c, _)| c.skipped_totals(slot, inst.id));
        let skipped = Iterator::chain(skipped, published);
        for s in skipped {
            t.packets = t.packets.wrapping_add(s.packets);
            t.bytes = t.bytes.wrapping_add(s.bytes);
        }
        t
    }

    /// The compiled jumps that start at the blocks of the namespace `key`, and the blocks
    /// they skip in all (in the published snapshot).
    pub(crate) fn jumps_of(&self, key: u64) -> (u32, u32) {
        if !self.live {
            return (0, 0);
        }
        engine::with(|e| {
            // SAFETY: a live configuration is the one in CONFIG, borrowed from its guard:
            // the mutex is held while `self` is.
            unsafe { e.published() }.map_or((0, 0), |g| g.jumps_of(key))
        })
        .unwrap_or((0, 0))
    }

    /// The space of namespace `net`, if it has one.
    pub(crate) fn space_of(&self, net: *const kernel::bindings::net) -> Option<Arc<Space>> {
        if !self.live {
            return self.spaces.first().cloned();
        }
        self.spaces.iter().find(|s| s.is_of(net)).cloned()
    }

    /// The space of namespace `net`, made now if it has none: `net` is the namespace of a
    /// command's caller, alive while the command runs; its pernet exit takes the space out.
    pub(crate) fn space_for(&mut self, net: *mut kernel::bindings::net) -> Result<Arc<Space>> {
        if let Some(s) = self.space_of(net) {
            return Ok(s);
        }
        self.spaces.reserve(1, GFP_KERNEL)?;
        // SAFETY: `net` is alive now (a caller's namespace, see above) and its pernet exit
        // calls `forget_space` under the configuration mutex before it is freed.
        let s = unsafe {
            Space::new(if self.live {
                net
            } else {
                core::ptr::null_mut()
            })?
        };
        // Capacity reserved above.
        let _ = self.spaces.push_within_capacity(s.clone());
        Ok(s)
    }

    /// Take `sp` out: its namespace is going away (its blocks are gone already).
    pub(crate) fn forget_space(&mut self, sp: &Space) {
        self.spaces.retain(|s| s.key != sp.key);
    }

    /// Count a change in `sp` (dumps and `--expect-gen` compare the generation).
    pub(crate) fn changed(&self, sp: &Space) {
        // a transaction counts as one change, at its commit
        if self.txn.is_none() {
            sp.generation.changed();
        }
    }

    /// The open transaction's journal, with room made for one more change; `None` outside
    /// a transaction.
    pub(crate) fn journal(&mut self) -> Result<Option<&mut crate::txn::Journal>> {
        match self.txn.as_mut() {
            Some(j) => {
                j.reserve()?;
                Ok(Some(j))
            }
            None => Ok(None),
        }
    }

    /// An id no block has: the next one, checked against those in use once ids wrapped.
    pub(crate) fn new_id(&mut self) -> u32 {
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

    /// Number of blocks (all namespaces).
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Number of slots (some may be empty).
    pub(crate) fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The block in `slot`, if any.
    pub(crate) fn node(&self, slot: u32) -> Option<&Node> {
        self.slots.get(slot as usize)?.as_ref()
    }

    pub(crate) fn node_mut(&mut self, slot: u32) -> Option<&mut Node> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    /// Every block with its slot, in slot order.
    pub(crate) fn nodes(&self) -> impl Iterator<Item = (u32, &Node)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.as_ref().map(|n| (i as u32, n)))
    }

    /// The block in `slot`, if it is one of space `sp`'s.
    pub(crate) fn node_in(&self, sp: &Space, slot: u32) -> Option<&Node> {
        self.node(slot).filter(|n| n.inst.space.key == sp.key)
    }

    /// The slot of the block called `name` in space `sp`.
    pub(crate) fn find(&self, sp: &Space, name: &str) -> Option<u32> {
        self.names
            .as_ref()?
            .get(&(sp.key, Name::new(name).ok()?))
            .copied()
    }

    /// Whether a block of space `sp` is called `name`.
    pub(crate) fn has_name(&self, sp: &Space, name: &Name) -> bool {
        self.names
            .as_ref()
            .is_some_and(|t| t.get(&(sp.key, *name)).is_some())
    }

    /// Name the block in `slot` (a node preallocated for the name tree).
    pub(crate) fn insert_name(&mut self, node: RBTreeNode<(u64, Name), u32>) {
        self.names.get_or_insert_with(RBTree::new).insert(node);
    }

    /// The name of the block in `slot` ("?" if none).
    pub(crate) fn name_of(&self, slot: u32) -> &str {
        self.node(slot).map_or("?", |n| n.inst.name.as_str())
    }

    /// Blocks of type `ty` in space `sp`.
    pub(crate) fn instances_of(&self, sp: &Space, ty: &crate::types::FbType) -> u32 {
        self.nodes()
            .filter(|(_, n)| core::ptr::eq(n.inst.ty, ty) && n.inst.space.key == sp.key)
            .count() as u32
    }

    /// Take the block in `slot` out of the configuration (no publish).
    pub(crate) fn take(&mut self, slot: u32) -> Option<Node> {
        let node = self.slots.get_mut(slot as usize)?.take()?;
        if let Some(t) = self.names.as_mut() {
            t.remove(&(node.inst.space.key, node.inst.name));
        }
        self.count -= 1;
        node.inst.space.blocks.fetch_sub(1, Ordering::Relaxed);
        Some(node)
    }

    /// Put a block taken by [`Self::take`] back (undo). `name` is a preallocated tree node.
    pub(crate) fn put_back(&mut self, slot: u32, node: Node, name: RBTreeNode<(u64, Name), u32>) {
        self.insert_name(name);
        self.count += 1;
        node.inst.space.blocks.fetch_add(1, Ordering::Relaxed);
        if let Some(s) = self.slots.get_mut(slot as usize) {
            *s = Some(node);
        }
    }

    /// Take every block of space `sp` out, handing each to `each` (flush, a namespace going
    /// away). `self.free` must have room for them all.
    pub(crate) fn drain(&mut self, sp: &Space, mut each: impl FnMut(u32, Node)) {
        for i in 0..self.slots.len() {
            if self.node_in(sp, i as u32).is_none() {
                continue;
            }
            if let Some(n) = self.take(i as u32) {
                let _ = self.free.push_within_capacity(i as u32);
                each(i as u32, n);
            }
        }
    }

    /// Free the tables' memory (module exit: the mutex is a static that outlives this load
    /// of the module; kmemleak found the leak).
    pub(crate) fn release_memory(&mut self) {
        self.hold_credits = false;
        while let Ok((old, gp)) = self.retired.remove(0) {
            gp.wait();
            self.credit(&old);
        }
        self.retired = KVec::new();
        self.slots = KVVec::new();
        self.free = KVec::new();
        self.names = None;
        self.spaces = KVec::new();
    }

    /// Blocks in the graphs of the containers user `uid` made (see `Space::container_owner`).
    pub(crate) fn container_blocks(&self, uid: u32) -> usize {
        self.spaces
            .iter()
            .filter(|s| s.container_owner == Some(uid))
            .map(|s| s.blocks.load(Ordering::Relaxed) as usize)
            .sum()
    }

    /// Every space (unload: each is flushed).
    pub(crate) fn spaces(&self) -> Result<KVec<Arc<Space>>> {
        let mut v = KVec::with_capacity(self.spaces.len(), GFP_KERNEL)?;
        for s in self.spaces.iter() {
            v.push(s.clone(), GFP_KERNEL)?;
        }
        Ok(v)
    }

    /// Block type `name` with a reference on its module: from the type registry, or from
    /// the private configuration's own types.
    pub(crate) fn find_type(
        &self,
        name: &str,
    ) -> Option<(&'static crate::types::FbType, ModuleRef)> {
        if self.live {
            return crate::types::find_and_get(name);
        }
        let ty = *self.private_types.iter().find(|t| t.name == name)?;
        Some((ty, ModuleRef::get(ty)?))
    }

    /// Whether `target` can be reached from `from` following ingress bindings: a walk that
    /// visits every block at most once (O(blocks + bindings)).
    pub(crate) fn reaches(&self, from: u32, target: u32) -> Result<bool> {
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
                for b in n.ingress.iter() {
                    stack.push(b.slot, GFP_KERNEL)?;
                }
            }
        }
        Ok(false)
    }
}
