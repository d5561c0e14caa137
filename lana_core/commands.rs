// SPDX-License-Identifier: GPL-2.0
//! The configuration commands: add, rm, set, flush (and, in `binding.rs`, bind, unbind,
//! replace). Each checks
//! everything that can fail before it changes anything, asks the blocks concerned (they may
//! veto), publishes the new graph, then tells their neighbours.

use crate::block::{Entry, Event, NewInstance};
use crate::config::{self, retire, Config, Node};
use crate::instance::Instance;
use crate::msg::{fail, CmdResult, Fail};
use crate::name::Name;
use crate::notifier::{EventChain, Subscription};
use crate::params;
use crate::percpu::PerCpuCounters;
use crate::props::{self, PropValue};
use crate::runtime::BlockRuntime;
use crate::space::Space;
use crate::txn::{NameNode, Undo};
use core::sync::atomic::Ordering;

use kernel::prelude::*;
use kernel::rbtree::RBTreeNode;
use kernel::sync::Arc;

pub(crate) fn veto(name: &str, what: &str, e: (Error, Option<&'static str>)) -> Fail {
    match e.1 {
        Some(why) => Fail::new(e.0, format_args!("{}: {}", name, why)),
        None => Fail::new(e.0, format_args!("'{}' refused the {}", name, what)),
    }
}

pub(crate) fn lookup(cfg: &Config, sp: &Space, name: &str) -> CmdResult<u32> {
    match cfg.find(sp, name) {
        Some(s) => Ok(s),
        None => fail!(ENOENT, "no functional block named '{}'", name),
    }
}

pub(crate) fn at(cfg: &Config, slot: u32) -> CmdResult<&Node> {
    match cfg.node(slot) {
        Some(n) => Ok(n),
        None => fail!(EINVAL, "internal error: empty slot {}", slot),
    }
}

/// `fbctl add <name> <type>`.
pub(crate) fn add(cfg: &mut Config, sp: &Arc<Space>, name: &str, ty: &str) -> CmdResult {
    let name_ok = match Name::new(name) {
        Ok(n) => n,
        Err(why) => fail!(EINVAL, "bad name '{}': {}", name, why),
    };
    if cfg.has_name(sp, &name_ok) {
        fail!(EEXIST, "a functional block named '{}' exists already", name);
    }
    // A machine-wide bound: namespaces are cheap to make (an unprivileged user can), memory
    // is not.
    let max = params::max_blocks();
    if cfg.count >= max as usize {
        fail!(
            ENOSPC,
            "the machine holds max_blocks={} blocks already (all namespaces)",
            max
        );
    }
    // Blocks an open batch removed stay allocated until its commit: a batch may hold twice
    // the limit (a reload, "flush; add ...", holds the old graph and the new one), no more
    // ("add x; rm x" repeated would hold any number).
    let held = cfg.txn.as_ref().map_or(0, |j| j.held);
    if cfg.count + held >= 2 * max as usize {
        fail!(
            ENOSPC,
            "a batch holds at most 2 x max_blocks={} blocks ({} it removed, until its commit)",
            max,
            held
        );
    }
    if let Some(uid) = sp.container_owner {
        // A user may make any number of containers: their graphs share one bound.
        let share = params::max_ns_blocks();
        if cfg.container_blocks(uid) >= share as usize {
            fail!(
                ENOSPC,
                "the containers of user {} hold max_ns_blocks={} blocks already",
                uid,
                share
            );
        }
        if cfg.container_blocks(uid) + held >= 2 * share as usize {
            fail!(
                ENOSPC,
                "a batch holds at most 2 x max_ns_blocks={} blocks ({} it removed, until its commit)",
                share,
                held
            );
        }
    }
    let Some((fbty, module)) = cfg.find_type(ty) else {
        fail!(
            ENOENT,
            "unknown FB type '{}' (is its module loaded? see 'fbctl types')",
            ty
        );
    };
    cfg.journal()?;
    // Everything that can fail for lack of memory happens before anything changes.
    let slot = match cfg.free.last() {
        Some(&s) => s,
        None => {
            cfg.slots.reserve(1, GFP_KERNEL)?;
            cfg.free.reserve(cfg.slots.len() + 1, GFP_KERNEL)?;
            cfg.slots.len() as u32
        }
    };
    // A block's memory is charged to the sender's memory cgroup (a container's to its own).
    let name_node = RBTreeNode::new((sp.key, name_ok), slot, GFP_KERNEL_ACCOUNT)?;
    let id = cfg.new_id();
    let fb = match (fbty.new)(&NewInstance {
        id,
        entry: Entry { slot, id },
        name,
        space: sp,
    }) {
        Ok(fb) => fb,
        Err(e) => fail!(e, "type '{}' could not create an instance", ty),
    };
    let inst = KBox::new(
        Instance {
            id,
            name: name_ok,
            ty: fbty,
            stats: PerCpuCounters::new()?,
            runtime: BlockRuntime::new()?,
            chain: EventChain::new(name_ok),
            space: sp.clone(),
            fb,
        },
        GFP_KERNEL_ACCOUNT,
    )?;
    let owner = Subscription::owner(&*inst.fb, &inst.chain)?;
    inst.chain.subscribe(&owner);
    let node = Node {
        inst,
        ingress: KVec::new(),
        egress: KVec::new(),
        owner,
        module,
    };
    if cfg.free.last() == Some(&slot) {
        cfg.free.pop();
        cfg.slots[slot as usize] = Some(node);
    } else {
        // Capacity reserved above.
        let _ = cfg.slots.push_within_capacity(Some(node));
    }
    cfg.insert_name(name_node);
    cfg.count += 1;
    sp.blocks.fetch_add(1, Ordering::Relaxed);
    if let Err(e) = cfg.publish() {
        if let Some(n) = cfg.take(slot) {
            let _ = cfg.free.push_within_capacity(slot);
            // Never published: no packet can have seen it.
            n.inst.chain.unsubscribe(&n.owner);
            drop(n);
        }
        fail!(e, "out of memory while publishing the new graph");
    }
    cfg.changed(sp);
    if let Some(j) = cfg.txn.as_mut() {
        j.record(Undo::Add { slot });
    }
    Ok(())
}

/// `fbctl rm <name>`: only an unbound block can be removed.
pub(crate) fn rm(cfg: &mut Config, sp: &Space, name: &str) -> CmdResult {
    let s = lookup(cfg, sp, name)?;
    let node = at(cfg, s)?;
    if let Some(b) = node.ingress.first().or(node.egress.first()) {
        fail!(
            EBUSY,
            "'{}' is bound to '{}': unbind it first",
            name,
            cfg.name_of(b.slot)
        );
    }
    node.inst
        .chain
        .ask(&Event::Remove)
        .map_err(|e| veto(name, "removal", e))?;
    let undo_name = RBTreeNode::new((sp.key, node.inst.name), s, GFP_KERNEL)?;
    cfg.free.reserve(1, GFP_KERNEL)?;
    cfg.journal()?;
    let Some(node) = cfg.take(s) else {
        fail!(EINVAL, "internal error: empty slot {}", s);
    };
    if let Err(e) = cfg.publish() {
        cfg.put_back(s, node, undo_name);
        fail!(e, "out of memory while publishing the new graph");
    }
    cfg.changed(sp);
    let _ = cfg.free.push_within_capacity(s);
    if cfg.txn.is_some() {
        crate::txn::leaving(s, &node.inst);
    }
    match cfg.txn.as_mut() {
        // kept until the commit retires it
        Some(j) => j.record(Undo::Rm {
            slot: s,
            node,
            name: undo_name,
        }),
        None => retire(node),
    }
    Ok(())
}

/// `fbctl flush`: unbind and remove every block of the caller's namespace (no veto), in one
/// publish.
pub(crate) fn flush(cfg: &mut Config, sp: &Space) -> CmdResult {
    if cfg.txn.is_some() {
        return flush_in_txn(cfg, sp);
    }
    let n = sp.blocks.load(Ordering::Relaxed) as usize;
    let mut gone = KVec::with_capacity(n, GFP_KERNEL)?;
    cfg.free.reserve(n, GFP_KERNEL)?;
    // The graph without them, made before anything changes (the allocations that can fail).
    let rest = cfg.build_without(Some(sp))?;
    cfg.drain(sp, |_, n| {
        // Every block and every neighbour goes: no chain is called again.
        n.inst.chain.clear();
        let _ = n
            .inst
            .fb
            .event(&Event::Remove, &mut crate::block::Reason { msg: None });
        // Capacity for every block reserved above.
        let _ = gone.push_within_capacity(n);
    });
    cfg.install(rest);
    cfg.changed(sp);
    for n in gone.drain_all() {
        // its subscriptions were on cleared chains: they just go
        retire(n);
    }
    Ok(())
}

/// `flush` in a transaction: the blocks are kept, with their names, to be put back or
/// retired.
fn flush_in_txn(cfg: &mut Config, sp: &Space) -> CmdResult {
    let n = sp.blocks.load(Ordering::Relaxed) as usize;
    let mut kept = KVec::with_capacity(n, GFP_KERNEL)?;
    let mut names = KVec::with_capacity(n, GFP_KERNEL)?;
    for (slot, node) in cfg
        .nodes()
        .filter(|(_, node)| node.inst.space.key == sp.key)
    {
        names.push(
            RBTreeNode::new((sp.key, node.inst.name), slot, GFP_KERNEL)?,
            GFP_KERNEL,
        )?;
    }
    cfg.free.reserve(n, GFP_KERNEL)?;
    cfg.journal()?;
    let mut names = names.into_iter();
    cfg.drain(sp, |slot, node| {
        node.inst.chain.clear();
        let _ = node
            .inst
            .fb
            .event(&Event::Remove, &mut crate::block::Reason { msg: None });
        crate::txn::leaving(slot, &node.inst);
        if let Some(name) = names.next() {
            // Capacity for every block reserved above.
            let _ = kept.push_within_capacity((slot, node, name));
        }
    });
    if let Some(j) = cfg.txn.as_mut() {
        j.record(Undo::Flush { nodes: kept });
    }
    Ok(())
}

/// Undo a flush in a transaction: every block back in its slot, with its subscriptions.
pub(crate) fn undo_flush(cfg: &mut Config, nodes: KVec<(u32, Node, NameNode)>) {
    let mut nodes = nodes;
    let space = nodes.first().map(|(_, n, _)| n.inst.space.key);
    while let Some((slot, node, name)) = nodes.pop() {
        cfg.free.pop();
        cfg.put_back(slot, node, name);
    }
    // The chains were cleared: every block hears itself and its neighbours again. The
    // flush took every block of its space, and the changes after it are undone already, so
    // the space's blocks are exactly those put back (found without allocating: an undo
    // cannot fail).
    let Some(space) = space else { return };
    for slot in 0..cfg.slots.len() as u32 {
        let Some(node) = cfg.node(slot) else { continue };
        if node.inst.space.key != space {
            continue;
        }
        node.inst.chain.subscribe(&node.owner);
        for b in Iterator::chain(node.ingress.iter(), node.egress.iter()) {
            if let Some(peer) = cfg.node(b.slot) {
                peer.inst.chain.subscribe(&b.hears);
            }
        }
    }
}

/// The configuration, set up for this load of the module; dropping it removes every block
/// (nothing can be left at unload; this is a safety net) and frees its memory.
pub(crate) struct Blocks(());

impl Blocks {
    /// Set up the configuration's mutex (module init, before any command).
    pub(crate) fn new() -> Self {
        config::init();
        crate::txn::init();
        Blocks(())
    }
}

impl Drop for Blocks {
    fn drop(&mut self) {
        let mut cfg = config::lock();
        if cfg.count != 0 {
            pr_warn!("{} instances left at unload\n", cfg.count);
        }
        for sp in cfg.spaces().unwrap_or_default().iter() {
            let _ = flush(&mut cfg, sp);
        }
        cfg.release_memory();
    }
}

/// Maximum number of properties in one `set`.
pub(crate) const MAX_PROPS: usize = 16;

/// `fbctl set <name> key=value...`: all of them or none.
pub(crate) fn set(cfg: &mut Config, sp: &Space, name: &str, raw: &[&str]) -> CmdResult {
    let s = lookup(cfg, sp, name)?;
    // (the journal is taken out while the block is borrowed from the configuration)
    let mut txn = cfg.txn.take();
    let r = set_at(cfg, sp, s, name, raw, txn.as_mut());
    cfg.txn = txn;
    r
}

fn set_at(
    cfg: &Config,
    sp: &Space,
    s: u32,
    name: &str,
    raw: &[&str],
    txn: Option<&mut crate::txn::Journal>,
) -> CmdResult {
    let inst = &at(cfg, s)?.inst;
    let parsed = parse_props(inst, raw)?;
    if let Some(j) = txn {
        // A transaction: the block checks the settings now; they apply at the commit.
        if !inst.ty.checks_settings {
            fail!(
                EOPNOTSUPP,
                "type '{}' cannot check settings ahead: set '{}' outside a batch",
                inst.ty.name,
                name
            );
        }
        inst.chain
            .ask(&Event::Check(&parsed))
            .map_err(|e| veto(name, "setting", e))?;
        j.defer_set(inst, raw)?;
        return Ok(());
    }
    inst.chain
        .ask(&Event::Set(&parsed))
        .map_err(|e| veto(name, "setting", e))?;
    cfg.changed(sp);
    Ok(())
}

/// `key=value` strings, checked against `inst`'s type's keys and parsed.
pub(crate) fn parse_props<'a>(
    inst: &Instance,
    raw: &[&'a str],
) -> CmdResult<KVec<(&'a str, PropValue<'a>)>> {
    if raw.is_empty() {
        fail!(EINVAL, "nothing to set: give key=value");
    }
    let mut parsed: KVec<(&str, PropValue<'_>)> = KVec::with_capacity(raw.len(), GFP_KERNEL)?;
    for s in raw {
        let Some((key, value)) = props::split_prop(s) else {
            fail!(EINVAL, "'{}' is not key=value", s);
        };
        let Some(info) = inst.ty.keys.iter().find(|k| k.key == key) else {
            fail!(
                EINVAL,
                "type '{}' has no key '{}' (see 'fbctl types')",
                inst.ty.name,
                key
            );
        };
        match PropValue::parse(info.kind, value) {
            Ok(v) => parsed.push((key, v), GFP_KERNEL)?,
            Err(why) => fail!(EINVAL, "bad value for '{}': {}", key, why),
        }
    }
    Ok(parsed)
}

/// What the KUnit tests of the commands share: two block types and a private configuration
/// that knows them.
#[cfg(CONFIG_KUNIT = "y")]
pub(crate) mod testing {
    use crate::block::{Block, Direction, NewInstance, Verdict};
    use crate::config::Config;
    use crate::packet::Packet;
    use crate::percpu::PacketContext;
    use crate::space::Space;
    use crate::types::TypeOf;
    use kernel::prelude::*;
    use kernel::sync::Arc;

    pub(crate) struct One;

    #[vtable]
    impl Block for One {
        const NAME: &'static str = "kt-one";
        const DESCRIPTION: &'static str = "test: one next block each way";

        fn new(_: &NewInstance<'_>) -> Result<Self> {
            Ok(One)
        }

        fn receive(&self, _: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
            Verdict::next(pkt, dir)
        }
    }

    pub(crate) struct Two;

    #[vtable]
    impl Block for Two {
        const NAME: &'static str = "kt-two";
        const DESCRIPTION: &'static str = "test: two next blocks each way, with state";
        const MAX_INGRESS: u32 = 2;
        const MAX_EGRESS: u32 = 2;

        fn new(_: &NewInstance<'_>) -> Result<Self> {
            Ok(Two)
        }

        fn receive(&self, _: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
            Verdict::next(pkt, dir)
        }

        fn adopt_state(&self, _: &Self) {}
    }

    /// A private configuration and its one space.
    pub(crate) fn config() -> (Config, Result<Arc<Space>>) {
        let mut c = Config::private();
        let _ = c.private_types.push(&<One as TypeOf>::TYPE, GFP_KERNEL);
        let _ = c.private_types.push(&<Two as TypeOf>::TYPE, GFP_KERNEL);
        let sp = c.space_for(core::ptr::null_mut());
        (c, sp)
    }

    pub(crate) fn errno<T>(r: crate::msg::CmdResult<T>) -> i32 {
        match r {
            Ok(_) => 0,
            Err(f) => f.err.to_errno(),
        }
    }
}

#[kernel::macros::kunit_tests(lana_commands)]
mod tests {
    use super::testing::{config, errno, One, Two};
    use crate::types::TypeOf;
    use kernel::prelude::*;

    #[test]
    fn type_tables_come_from_the_trait() {
        assert!(!<One as TypeOf>::TYPE.has_state);
        assert!(<Two as TypeOf>::TYPE.has_state);
        assert_eq!(<Two as TypeOf>::TYPE.max_ingress, 2);
    }

    #[test]
    fn add_checks_names_types_and_duplicates() {
        let (mut c, sp) = config();
        let Ok(sp) = sp else {
            assert!(false);
            return;
        };
        assert_eq!(errno(super::add(&mut c, &sp, "a", "kt-one")), 0);
        assert_eq!(
            errno(super::add(&mut c, &sp, "a", "kt-two")),
            EEXIST.to_errno()
        );
        assert_eq!(
            errno(super::add(&mut c, &sp, "b", "nosuch")),
            ENOENT.to_errno()
        );
        assert_eq!(
            errno(super::add(&mut c, &sp, "b/c", "kt-one")),
            EINVAL.to_errno()
        );
        assert_eq!(c.len(), 1);
        assert_eq!(errno(super::rm(&mut c, &sp, "nosuch")), ENOENT.to_errno());
        assert_eq!(errno(super::rm(&mut c, &sp, "a")), 0);
        assert_eq!(c.len(), 0);
    }
}
