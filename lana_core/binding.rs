// SPDX-License-Identifier: GPL-2.0
//! The commands that change bindings: bind, unbind and replace. Besides the bindings they
//! keep the notifier subscriptions in step: bound blocks hear each other's news.

use crate::block::{Direction, Event};
use crate::commands::{at, lookup, veto};
use crate::config::{retire, Binding, Config, Node};
use crate::msg::{fail, CmdResult};
use crate::notifier::Subscription;
use crate::space::Space;
use crate::txn::{NameNode, Undo};
use kernel::prelude::*;
use kernel::rbtree::RBTreeNode;

/// `fbctl bind <from> <to>`.
pub(crate) fn bind(cfg: &mut Config, sp: &Space, from: &str, to: &str) -> CmdResult {
    let (f, t) = (lookup(cfg, sp, from)?, lookup(cfg, sp, to)?);
    if f == t {
        fail!(ELOOP, "cannot bind '{}' to itself", from);
    }
    cfg.journal()?;
    let (fnode, tnode) = (at(cfg, f)?, at(cfg, t)?);
    if fnode.binds(Direction::Ingress, t) {
        fail!(EEXIST, "'{}' is bound to '{}' already", from, to);
    }
    let (fty, tty) = (fnode.inst.ty, tnode.inst.ty);
    if fnode.ingress.len() as u32 >= fty.max_ingress {
        fail!(
            ENOSPC,
            "'{}' ({}) passes packets on to at most {} block(s)",
            from,
            fty.name,
            fty.max_ingress
        );
    }
    if tnode.egress.len() as u32 >= tty.max_egress {
        fail!(
            ENOSPC,
            "'{}' ({}) sends egress to at most {} block(s)",
            to,
            tty.name,
            tty.max_egress
        );
    }
    if cfg.reaches(t, f)? {
        fail!(ELOOP, "binding '{}' to '{}' would form a cycle", from, to);
    }
    // Each block will hear the other's news.
    let f_hears = Subscription::neighbour(&*fnode.inst.fb, &fnode.inst.chain)?;
    let t_hears = Subscription::neighbour(&*tnode.inst.fb, &tnode.inst.chain)?;
    let fev = Event::Bind {
        peer: to,
        dir: Direction::Ingress,
    };
    fnode
        .inst
        .chain
        .ask(&fev)
        .map_err(|e| veto(from, "bind", e))?;
    let tev = Event::Bind {
        peer: from,
        dir: Direction::Egress,
    };
    if let Err(e) = tnode.inst.chain.ask(&tev) {
        let _ = fnode.inst.chain.ask(&Event::Unbind {
            peer: to,
            dir: Direction::Ingress,
        });
        return Err(veto(to, "bind", e));
    }
    let fb = Binding {
        slot: t,
        hears: f_hears,
    };
    let tb = Binding {
        slot: f,
        hears: t_hears,
    };
    if let Some(n) = cfg.node_mut(f) {
        n.ingress.push(fb, GFP_KERNEL)?;
    }
    if let Some(n) = cfg.node_mut(t) {
        if let Err(e) = n.egress.push(tb, GFP_KERNEL) {
            if let Some(n) = cfg.node_mut(f) {
                n.ingress.pop();
            }
            return Err(e.into());
        }
    }
    if let Err(e) = cfg.publish() {
        if let Some(n) = cfg.node_mut(f) {
            n.ingress.pop();
        }
        if let Some(n) = cfg.node_mut(t) {
            n.egress.pop();
        }
        fail!(e, "out of memory while publishing the new graph");
    }
    cfg.changed(sp);
    let (fnode, tnode) = (at(cfg, f)?, at(cfg, t)?);
    if let (Some(fb), Some(tb)) = (fnode.ingress.last(), tnode.egress.last()) {
        tnode.inst.chain.subscribe(&fb.hears);
        fnode.inst.chain.subscribe(&tb.hears);
    }
    fnode.inst.chain.tell(&fev);
    tnode.inst.chain.tell(&tev);
    if let Some(j) = cfg.txn.as_mut() {
        j.record(Undo::Bind { f, t });
    }
    Ok(())
}

/// `fbctl unbind <from> <to>`.
pub(crate) fn unbind(cfg: &mut Config, sp: &Space, from: &str, to: &str) -> CmdResult {
    let (f, t) = (lookup(cfg, sp, from)?, lookup(cfg, sp, to)?);
    cfg.journal()?;
    let (fnode, tnode) = (at(cfg, f)?, at(cfg, t)?);
    let Some(fpos) = fnode.ingress.iter().position(|b| b.slot == t) else {
        fail!(ENOENT, "'{}' is not bound to '{}'", from, to);
    };
    let Some(tpos) = tnode.egress.iter().position(|b| b.slot == f) else {
        fail!(
            EINVAL,
            "internal error: '{}' does not send egress to '{}'",
            to,
            from
        );
    };
    let fev = Event::Unbind {
        peer: to,
        dir: Direction::Ingress,
    };
    fnode
        .inst
        .chain
        .ask(&fev)
        .map_err(|e| veto(from, "unbind", e))?;
    let tev = Event::Unbind {
        peer: from,
        dir: Direction::Egress,
    };
    tnode
        .inst
        .chain
        .ask(&tev)
        .map_err(|e| veto(to, "unbind", e))?;
    let fb = match cfg.node_mut(f).map(|n| n.ingress.remove(fpos)) {
        Some(Ok(b)) => b,
        _ => fail!(EINVAL, "internal error: bad binding"),
    };
    let tb = match cfg.node_mut(t).map(|n| n.egress.remove(tpos)) {
        Some(Ok(b)) => b,
        _ => {
            if let Some(n) = cfg.node_mut(f) {
                let _ = n.ingress.insert_within_capacity(fpos, fb);
            }
            fail!(EINVAL, "internal error: bad binding");
        }
    };
    if let Err(e) = cfg.publish() {
        if let Some(n) = cfg.node_mut(f) {
            let _ = n.ingress.insert_within_capacity(fpos, fb);
        }
        if let Some(n) = cfg.node_mut(t) {
            let _ = n.egress.insert_within_capacity(tpos, tb);
        }
        fail!(e, "out of memory while publishing the new graph");
    }
    cfg.changed(sp);
    let (fnode, tnode) = (at(cfg, f)?, at(cfg, t)?);
    tnode.inst.chain.unsubscribe(&fb.hears);
    fnode.inst.chain.unsubscribe(&tb.hears);
    fnode.inst.chain.tell(&fev);
    tnode.inst.chain.tell(&tev);
    match cfg.txn.as_mut() {
        Some(j) => j.record(Undo::Unbind {
            f,
            t,
            fpos,
            tpos,
            fb,
            tb,
        }),
        None => drop((fb, tb)),
    }
    Ok(())
}

/// `fbctl replace <old> <new> [--drop-state]`: `new` (unbound) takes `old`'s place in one
/// graph swap; `old` is removed in the same swap.
pub(crate) fn replace(
    cfg: &mut Config,
    sp: &Space,
    old: &str,
    new: &str,
    drop_state: bool,
) -> CmdResult {
    let (o, n) = (lookup(cfg, sp, old)?, lookup(cfg, sp, new)?);
    if o == n {
        fail!(EINVAL, "cannot replace '{}' with itself", old);
    }
    cfg.free.reserve(1, GFP_KERNEL)?;
    cfg.journal()?;
    let (onode, nnode) = (at(cfg, o)?, at(cfg, n)?);
    // (the block itself does not move while the configuration changes around it)
    let new_inst = core::ptr::NonNull::from(&*nnode.inst);
    if nnode.is_bound() {
        fail!(EBUSY, "'{}' is bound: the replacement must be unbound", new);
    }
    let (oty, nty) = (onode.inst.ty, nnode.inst.ty);
    let same_type = core::ptr::eq(oty, nty);
    if oty.has_state && !same_type && !drop_state {
        fail!(
            EINVAL,
            "'{}' ({}) has state that '{}' ({}) cannot take: use --drop-state",
            old,
            oty.name,
            new,
            nty.name
        );
    }
    if onode.ingress.len() as u32 > nty.max_ingress || onode.egress.len() as u32 > nty.max_egress {
        fail!(
            ENOSPC,
            "'{}' ({}) cannot take all of '{}''s bindings",
            new,
            nty.name,
            old
        );
    }
    // `new` hears each of `old`'s neighbours in its place: subscriptions made first.
    let mut hears = KVec::with_capacity(onode.ingress.len() + onode.egress.len(), GFP_KERNEL)?;
    for _ in 0..hears.capacity() {
        let _ = hears
            .push_within_capacity(Subscription::neighbour(&*nnode.inst.fb, &nnode.inst.chain)?);
    }
    // In a transaction, `old`'s own subscriptions are kept to be put back.
    let mut kept =
        KVec::with_capacity(if cfg.txn.is_some() { hears.len() } else { 0 }, GFP_KERNEL)?;
    // (direction, index, peer) of each binding `new` takes over, for the subscriptions
    let moved = KVec::with_capacity(hears.len(), GFP_KERNEL)?;
    let undo_name = RBTreeNode::new((sp.key, onode.inst.name), o, GFP_KERNEL)?;
    let oev = Event::ReplaceOut { new };
    onode
        .inst
        .chain
        .ask(&oev)
        .map_err(|e| veto(old, "replace", e))?;
    nnode
        .inst
        .chain
        .ask(&Event::ReplaceIn { old })
        .map_err(|e| veto(new, "replace", e))?;

    let carry_state = same_type && oty.has_state && !drop_state;
    // Counts of `old` in retired snapshots (a pass-through block's segments) are credited by
    // slot, which `old` leaves now: held until its totals are carried over below.
    let hold = carry_state && cfg.txn.is_none() && !cfg.hold_credits;
    if hold {
        // (room to keep the snapshot this replace retires: see `Config::install`)
        cfg.reserve_retired(1)?;
    }
    // Move the bindings; every reference to `old` elsewhere now names `new`. `old` leaves
    // the configuration in the same snapshot that puts `new` in its place: one pointer swap.
    let Some(mut old_node) = cfg.take(o) else {
        fail!(EINVAL, "internal error: empty slot {}", o);
    };
    for dir in [Direction::Ingress, Direction::Egress] {
        let moved = core::mem::take(old_node.ports_mut(dir));
        if let Some(nn) = cfg.node_mut(n) {
            *nn.ports_mut(dir) = moved;
        }
    }
    rename_slot(cfg, o, n);
    cfg.hold_credits |= hold;
    if let Err(e) = cfg.publish() {
        if hold {
            cfg.hold_credits = false;
        }
        rename_slot(cfg, n, o);
        for dir in [Direction::Ingress, Direction::Egress] {
            if let Some(nn) = cfg.node_mut(n) {
                *old_node.ports_mut(dir) = core::mem::take(nn.ports_mut(dir));
            }
        }
        cfg.put_back(o, old_node, undo_name);
        fail!(e, "out of memory while publishing the new graph");
    }
    cfg.changed(sp);
    let _ = cfg.free.push_within_capacity(o);
    // Old's neighbours hear of it while they still listen to it; then the subscriptions
    // follow the bindings.
    old_node.inst.chain.tell(&oev);
    move_subscriptions(cfg, n, &old_node, hears, moved, &mut kept);
    if let Some(j) = cfg.txn.as_mut() {
        crate::txn::leaving(o, &old_node.inst);
        // the state goes over and `old` is retired at the commit
        let index = j.index;
        j.record(Undo::Replace {
            index,
            o,
            n,
            new: new_inst,
            old: old_node,
            name: undo_name,
            hears: kept,
            carry_state,
        });
        return Ok(());
    }
    if carry_state {
        // The state is final once no packet can be inside `old`: wait for that here (the one
        // command that does), so the counts are carried over when the command returns.
        kernel::sync::rcu::synchronize_rcu();
        if let Some(nn) = cfg.node(n) {
            nn.inst.fb.adopt_state_of(&*old_node.inst.fb);
            // the engine's counts for the block go with its state: a counter's own count
            // and `fbctl list`'s agree after a replace
            nn.inst
                .stats
                .add_totals(cfg.block_totals(o, &old_node.inst));
        }
    }
    if hold {
        cfg.hold_credits = false;
        cfg.settle();
    }
    retire(old_node);
    Ok(())
}

/// Replace every reference to slot `from` in the bindings by `to`.
fn rename_slot(cfg: &mut Config, from: u32, to: u32) {
    for node in cfg.slots.iter_mut().flatten() {
        for dir in [Direction::Ingress, Direction::Egress] {
            for b in node.ports_mut(dir).iter_mut() {
                if b.slot == from {
                    b.slot = to;
                }
            }
        }
    }
}

/// After `old`'s bindings moved to the block in slot `n`: its neighbours listen to `n`'s
/// chain instead of old's, and `n` listens to them with the `hears` subscriptions.
/// `old`'s subscriptions to its neighbours are dropped, or kept in `kept` (a transaction's
/// undo) as far as its capacity goes.
fn move_subscriptions(
    cfg: &mut Config,
    n: u32,
    old: &Node,
    hears: KVec<Pin<KBox<Subscription>>>,
    mut moved: KVec<(Direction, usize, u32)>,
    kept: &mut KVec<(Direction, usize, Pin<KBox<Subscription>>)>,
) {
    let Some(nn) = cfg.node(n) else { return };
    // (direction, index, peer) of every binding n took over: as many as `hears`, for which
    // `moved` has room (no allocation once the replace is under way)
    for dir in [Direction::Ingress, Direction::Egress] {
        for (i, b) in nn.ports(dir).iter().enumerate() {
            let _ = moved.push_within_capacity((dir, i, b.slot));
        }
    }
    // Each peer's subscription to old's chain moves to n's; old's subscription to the
    // peer's chain comes off it.
    for &(dir, i, peer) in moved.iter() {
        let (Some(p), Some(b)) = (cfg.node(peer), nn.ports(dir).get(i)) else {
            continue;
        };
        if let Some(back) = p.ports(opposite(dir)).iter().find(|pb| pb.slot == n) {
            old.inst.chain.unsubscribe(&back.hears);
            nn.inst.chain.subscribe(&back.hears);
        }
        p.inst.chain.unsubscribe(&b.hears);
    }
    // n hears each peer with a subscription of its own.
    for (&(dir, i, _), h) in moved.iter().zip(hears) {
        if let Some(b) = cfg.node_mut(n).and_then(|nn| nn.ports_mut(dir).get_mut(i)) {
            let olds = core::mem::replace(&mut b.hears, h);
            let _ = kept.push_within_capacity((dir, i, olds));
        }
    }
    for &(dir, i, peer) in moved.iter() {
        if let (Some(p), Some(b)) = (
            cfg.node(peer),
            cfg.node(n).and_then(|nn| nn.ports(dir).get(i)),
        ) {
            p.inst.chain.subscribe(&b.hears);
        }
    }
}

/// Undo a bind made in a transaction: the last binding of `f` (to `t`) and of `t` (from `f`).
pub(crate) fn undo_bind(cfg: &mut Config, f: u32, t: u32) {
    let fb = cfg.node_mut(f).and_then(|n| n.ingress.pop());
    let tb = cfg.node_mut(t).and_then(|n| n.egress.pop());
    if let (Some(fnode), Some(tnode)) = (cfg.node(f), cfg.node(t)) {
        if let Some(fb) = &fb {
            tnode.inst.chain.unsubscribe(&fb.hears);
        }
        if let Some(tb) = &tb {
            fnode.inst.chain.unsubscribe(&tb.hears);
        }
        fnode.inst.chain.tell(&Event::Unbind {
            peer: tnode.inst.name.as_str(),
            dir: Direction::Ingress,
        });
        tnode.inst.chain.tell(&Event::Unbind {
            peer: fnode.inst.name.as_str(),
            dir: Direction::Egress,
        });
    }
    drop((fb, tb));
}

/// Undo an unbind made in a transaction: the bindings back where they were.
pub(crate) fn undo_unbind(
    cfg: &mut Config,
    f: u32,
    t: u32,
    fpos: usize,
    tpos: usize,
    fb: Binding,
    tb: Binding,
) {
    if let Some(n) = cfg.node_mut(f) {
        let _ = n.ingress.insert_within_capacity(fpos, fb);
    }
    if let Some(n) = cfg.node_mut(t) {
        let _ = n.egress.insert_within_capacity(tpos, tb);
    }
    let (Some(fnode), Some(tnode)) = (cfg.node(f), cfg.node(t)) else {
        return;
    };
    if let (Some(fb), Some(tb)) = (fnode.ingress.get(fpos), tnode.egress.get(tpos)) {
        tnode.inst.chain.subscribe(&fb.hears);
        fnode.inst.chain.subscribe(&tb.hears);
    }
    fnode.inst.chain.tell(&Event::Bind {
        peer: tnode.inst.name.as_str(),
        dir: Direction::Ingress,
    });
    tnode.inst.chain.tell(&Event::Bind {
        peer: fnode.inst.name.as_str(),
        dir: Direction::Egress,
    });
}

/// Undo a replace made in a transaction: `old` back in slot `o` with its bindings and
/// subscriptions (`kept`), `new` (slot `n`) unbound again.
pub(crate) fn undo_replace(
    cfg: &mut Config,
    o: u32,
    n: u32,
    mut old: Node,
    name: NameNode,
    kept: KVec<(Direction, usize, Pin<KBox<Subscription>>)>,
) {
    // Each peer stops hearing `new` and hears `old` again; `new`'s subscriptions to the
    // peers come off and `old`'s go back on.
    if let Some(nn) = cfg.node(n) {
        for (dir, i, _) in kept.iter() {
            let Some(b) = nn.ports(*dir).get(*i) else {
                continue;
            };
            let Some(p) = cfg.node(b.slot) else { continue };
            p.inst.chain.unsubscribe(&b.hears);
            if let Some(back) = p.ports(opposite(*dir)).iter().find(|pb| pb.slot == n) {
                nn.inst.chain.unsubscribe(&back.hears);
                old.inst.chain.subscribe(&back.hears);
            }
        }
    }
    for (dir, i, h) in kept {
        if let Some(b) = cfg.node_mut(n).and_then(|nn| nn.ports_mut(dir).get_mut(i)) {
            let peer = b.slot;
            let mine = core::mem::replace(&mut b.hears, h);
            drop(mine);
            if let (Some(p), Some(b)) = (
                cfg.node(peer),
                cfg.node(n).and_then(|nn| nn.ports(dir).get(i)),
            ) {
                p.inst.chain.subscribe(&b.hears);
            }
        }
    }
    for dir in [Direction::Ingress, Direction::Egress] {
        if let Some(nn) = cfg.node_mut(n) {
            *old.ports_mut(dir) = core::mem::take(nn.ports_mut(dir));
        }
    }
    rename_slot(cfg, n, o);
    cfg.free.pop();
    cfg.put_back(o, old, name);
}

fn opposite(dir: Direction) -> Direction {
    match dir {
        Direction::Ingress => Direction::Egress,
        Direction::Egress => Direction::Ingress,
    }
}

#[kernel::macros::kunit_tests(lana_binding)]
mod tests {
    use crate::commands::{
        self,
        testing::{config, errno},
    };
    use crate::config::Config;
    use kernel::prelude::*;

    #[test]
    fn bind_refuses_cycles_limits_and_repeats() {
        let (mut c, sp) = config();
        let Ok(sp) = sp else {
            assert!(false);
            return;
        };
        for n in ["a", "b", "c"] {
            assert_eq!(errno(commands::add(&mut c, &sp, n, "kt-one")), 0);
        }
        assert_eq!(errno(commands::add(&mut c, &sp, "t", "kt-two")), 0);
        assert_eq!(errno(super::bind(&mut c, &sp, "a", "b")), 0);
        assert_eq!(errno(super::bind(&mut c, &sp, "b", "c")), 0);
        assert_eq!(errno(super::bind(&mut c, &sp, "c", "a")), ELOOP.to_errno());
        assert_eq!(errno(super::bind(&mut c, &sp, "a", "a")), ELOOP.to_errno());
        assert_eq!(errno(super::bind(&mut c, &sp, "a", "b")), EEXIST.to_errno());
        assert_eq!(errno(super::bind(&mut c, &sp, "a", "c")), ENOSPC.to_errno());
        // a fan-out type takes two
        assert_eq!(errno(super::bind(&mut c, &sp, "c", "t")), 0);
        assert_eq!(errno(super::unbind(&mut c, &sp, "c", "t")), 0);
        assert_eq!(errno(commands::rm(&mut c, &sp, "b")), EBUSY.to_errno());
        assert_eq!(
            errno(super::unbind(&mut c, &sp, "a", "c")),
            ENOENT.to_errno()
        );
        assert_eq!(errno(super::unbind(&mut c, &sp, "a", "b")), 0);
        // ingress and egress bindings mirror each other
        let b = c
            .find(&sp, "b")
            .and_then(|s| c.node(s))
            .map(|n| (n.ingress.len(), n.egress.len()));
        assert_eq!(b, Some((1, 0)));
        assert_eq!(errno(commands::flush(&mut c, &sp)), 0);
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn replace_moves_every_binding_in_one_step() {
        let (mut c, sp) = config();
        let Ok(sp) = sp else {
            assert!(false);
            return;
        };
        for n in ["a", "m", "z", "m2"] {
            assert_eq!(errno(commands::add(&mut c, &sp, n, "kt-one")), 0);
        }
        assert_eq!(errno(commands::add(&mut c, &sp, "s", "kt-two")), 0);
        assert_eq!(errno(super::bind(&mut c, &sp, "a", "m")), 0);
        assert_eq!(errno(super::bind(&mut c, &sp, "m", "z")), 0);
        assert_eq!(
            errno(super::replace(&mut c, &sp, "m", "m", false)),
            EINVAL.to_errno()
        );
        assert_eq!(
            errno(super::replace(&mut c, &sp, "m", "a", false)),
            EBUSY.to_errno()
        );
        assert_eq!(errno(super::replace(&mut c, &sp, "m", "m2", false)), 0);
        assert!(c.find(&sp, "m").is_none());
        let node = |c: &Config, n: &str| {
            c.find(&sp, n).and_then(|s| {
                c.node(s).map(|node| {
                    (
                        s,
                        node.ingress.first().map(|b| b.slot),
                        node.egress.first().map(|b| b.slot),
                    )
                })
            })
        };
        let (m2, a, z) = (c.find(&sp, "m2"), c.find(&sp, "a"), c.find(&sp, "z"));
        assert_eq!(node(&c, "a").and_then(|n| n.1), m2);
        assert_eq!(node(&c, "z").and_then(|n| n.2), m2);
        assert_eq!(node(&c, "m2").map(|n| (n.1, n.2)), Some((z, a)));
        // a type with state does not hand it to another type without --drop-state
        assert_eq!(errno(commands::add(&mut c, &sp, "s2", "kt-one")), 0);
        assert_eq!(
            errno(super::replace(&mut c, &sp, "s", "s2", false)),
            EINVAL.to_errno()
        );
        assert_eq!(errno(super::replace(&mut c, &sp, "s", "s2", true)), 0);
        assert_eq!(errno(commands::flush(&mut c, &sp)), 0);
    }
}
