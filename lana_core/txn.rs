// SPDX-License-Identifier: GPL-2.0
//! Transactions: a list of changes applied as one (`fbctl -b FILE`, `LANA_CMD_BATCH`), as
//! `nft -f` applies a file: every change or none, and one publish, so no packet ever sees a
//! half-applied file.
//!
//! While a transaction is open ([`Config::txn`]) the commands check and make their changes
//! as usual, but publish nothing and leave an [`Undo`] in the [`Journal`]; blocks they remove
//! are kept (not retired) until the commit. A `set` is checked by its block
//! (`Event::Check`) and kept, to be applied once the new graph is published. If a change
//! fails, the journal is unwound in reverse order: the configuration is exactly as it was
//! (blocks added by the transaction are retired; nothing was ever published). The commit
//! publishes the new graph, applies the settings in order, carries the state of replaced
//! blocks over (one grace period for all of them) and retires the removed blocks.
//!
//! Neighbour news (bind, unbind, replace) is told as each change is made; an unwound change
//! tells the opposite news (a bind's neighbours hear of the unbind).

use crate::binding;
use crate::block::{Entry, Event};
use crate::commands;
use crate::config::{retire, Binding, Config, Node};
use crate::instance::Instance;
use crate::msg::{CmdResult, Fail};
use crate::name::Name;
use crate::notifier::Subscription;
use crate::space::Space;
use core::ptr::NonNull;
use kernel::prelude::*;
use kernel::rbtree::RBTreeNode;

/// A name-tree node kept to put a block's name back.
pub(crate) type NameNode = RBTreeNode<(u64, Name), u32>;

/// How to take one change back.
pub(crate) enum Undo {
    /// An added block (in `slot`): retire it.
    Add { slot: u32 },
    /// A removed block: put it back.
    Rm {
        slot: u32,
        node: Node,
        name: NameNode,
    },
    /// A binding from `f` to `t` (the last of each's list): take it off.
    Bind { f: u32, t: u32 },
    /// A binding taken off: put it back where it was.
    Unbind {
        f: u32,
        t: u32,
        fpos: usize,
        tpos: usize,
        fb: Binding,
        tb: Binding,
    },
    /// A replace: move the bindings back from `new` (slot `n`) to `old`, in slot `o`.
    Replace {
        /// The change's number: the commit carries the state over in the order of the
        /// changes, between the settings before and after it.
        index: usize,
        o: u32,
        n: u32,
        /// The replacement, which adopts `old`'s state at the commit: by pointer, as a later
        /// change of the transaction may replace or remove it in turn and reuse its slot
        /// (it stays alive until the commit retires it, after every adoption).
        new: NonNull<Instance>,
        old: Node,
        name: NameNode,
        /// `old`'s subscriptions to its neighbours' chains, which `new`'s took the place of:
        /// (direction, index in `new`'s list, subscription).
        hears: KVec<(crate::block::Direction, usize, Pin<KBox<Subscription>>)>,
        /// The state goes over at the commit.
        carry_state: bool,
    },
    /// A flush of the space: every block, in slot order, to put back.
    Flush { nodes: KVec<(u32, Node, NameNode)> },
}

/// A `set` checked in the transaction, applied at its commit.
pub(crate) struct DeferredSet {
    /// The block (alive until the commit: a block the transaction removes is retired only
    /// after its settings are applied).
    inst: NonNull<Instance>,
    /// Its `key=value` strings.
    props: KVec<KVec<u8>>,
    /// The change's number in the transaction (from 1).
    index: usize,
}

/// What an open transaction did so far.
pub(crate) struct Journal {
    undo: KVec<Undo>,
    sets: KVec<DeferredSet>,
    /// The number of the change being made (from 1).
    pub(crate) index: usize,
    /// Blocks the transaction removed (or replaced) and keeps until the commit: a batch may
    /// hold twice the block limits with them (see `commands::add`), no more.
    pub(crate) held: usize,
}

// SAFETY: the journal lives in the configuration, under its mutex; `DeferredSet::inst`
// points to a block the configuration or the journal owns.
unsafe impl Send for Journal {}

impl Journal {
    /// Make room for one more change's undo (before the change is made, so recording it
    /// cannot fail).
    pub(crate) fn reserve(&mut self) -> Result {
        Ok(self.undo.reserve(1, GFP_KERNEL)?)
    }

    /// Record how to undo a change (room made by [`Self::reserve`]).
    pub(crate) fn record(&mut self, u: Undo) {
        self.held += match &u {
            Undo::Rm { .. } | Undo::Replace { .. } => 1,
            Undo::Flush { nodes } => nodes.len(),
            _ => 0,
        };
        if let Err(u) = self.undo.push_within_capacity(u) {
            // Cannot happen (reserved); if it did, keep the configuration consistent: a
            // change that cannot be undone is leaked rather than freed while referenced.
            core::mem::forget(u);
        }
    }

    /// Keep a checked `set` of `inst` for the commit.
    pub(crate) fn defer_set(&mut self, inst: &Instance, raw: &[&str]) -> Result {
        let mut props = KVec::with_capacity(raw.len(), GFP_KERNEL)?;
        for p in raw {
            let mut v = KVec::with_capacity(p.len(), GFP_KERNEL)?;
            v.extend_from_slice(p.as_bytes(), GFP_KERNEL)?;
            props.push(v, GFP_KERNEL)?;
        }
        self.sets.push(
            DeferredSet {
                inst: NonNull::from(inst),
                props,
                index: self.index,
            },
            GFP_KERNEL,
        )?;
        Ok(())
    }
}

/// What the open transaction's checks must know beyond the configuration: the blocks it
/// removes, and the devices its settings will take.
struct Marks {
    /// Entries (`Entry::pack`) of the blocks the transaction removes.
    leaving: KVec<u64>,
    /// Devices taken by checked settings: (port, namespace, interface name).
    claims: KVec<(usize, usize, [u8; 16])>,
}

kernel::sync::global_lock! {
    // SAFETY: initialised by `init()` in the module initialiser, before any command.
    unsafe(uninit) static LEAVING: Mutex<Marks> = Marks {
        leaving: KVec::new(),
        claims: KVec::new(),
    };
}

/// Set up the list of blocks the open transaction removes (module init).
pub(crate) fn init() {
    // SAFETY: called once, before any other use of LEAVING.
    unsafe { LEAVING.init() };
}

/// Whether the open transaction removes the block entered at `e` (its devices are free for
/// the transaction's own settings: it lets go of them before they apply).
pub(crate) fn is_leaving(e: Entry) -> bool {
    LEAVING.lock().leaving.iter().any(|&x| x == e.pack())
}

/// Whether the open transaction removes the block with id `id`.
fn is_leaving_id(id: u32) -> bool {
    LEAVING.lock().leaving.iter().any(|&x| x as u32 == id)
}

/// The open transaction removes the block `inst` (in `slot`).
pub(crate) fn leaving(slot: u32, inst: &Instance) {
    let _ = LEAVING
        .lock()
        .leaving
        .push(Entry { slot, id: inst.id }.pack(), GFP_KERNEL);
}

/// A checked setting of the open transaction will attach `port` to device `ifname` of
/// namespace `net`: `EBUSY` if an earlier setting of the transaction gives that device to
/// another port, or this port to another device (each would fail at the commit).
pub(crate) fn claim(port: usize, net: usize, ifname: &str) -> Result {
    let mut name = [0u8; 16];
    let n = ifname.len().min(name.len());
    name[..n].copy_from_slice(&ifname.as_bytes()[..n]);
    let mut m = LEAVING.lock();
    for &(p, ns, d) in m.claims.iter() {
        let same_dev = ns == net && d == name;
        if (p == port) != same_dev {
            return Err(EBUSY);
        }
    }
    m.claims.push((port, net, name), GFP_KERNEL)?;
    Ok(())
}

/// The transaction ended: forget its marks, memory included (nothing stays allocated
/// between transactions, or at unload).
fn forget_leaving() {
    let mut m = LEAVING.lock();
    m.leaving = KVec::new();
    m.claims = KVec::new();
}

/// Open a transaction on `cfg`.
pub(crate) fn begin(cfg: &mut Config) {
    cfg.txn = Some(Journal {
        undo: KVec::new(),
        sets: KVec::new(),
        index: 0,
        held: 0,
    });
}

/// Unwind the open transaction: the configuration is as it was before it.
pub(crate) fn rollback(cfg: &mut Config) {
    if let Some(j) = cfg.txn.take() {
        unwind(cfg, j.undo, None);
    }
    forget_leaving();
}

/// Undo every change of `undo`, last first. Blocks the transaction added are retired, or,
/// with `held` (a failure after the publish, while the new graph may still be walked), kept
/// there for the caller to retire once the old graph is published again.
fn unwind(cfg: &mut Config, undo: KVec<Undo>, mut held: Option<&mut KVec<Node>>) {
    let mut undo = undo;
    while let Some(u) = undo.pop() {
        match u {
            Undo::Add { slot } => {
                if let Some(n) = cfg.take(slot) {
                    let _ = cfg.free.push_within_capacity(slot);
                    match held.as_deref_mut() {
                        // (room reserved for every added block)
                        Some(h) => {
                            if let Err(e) = h.push_within_capacity(n) {
                                retire(e.0);
                            }
                        }
                        None => retire(n),
                    }
                }
            }
            Undo::Rm { slot, node, name } => {
                cfg.free.pop();
                cfg.put_back(slot, node, name);
            }
            Undo::Bind { f, t } => binding::undo_bind(cfg, f, t),
            Undo::Unbind {
                f,
                t,
                fpos,
                tpos,
                fb,
                tb,
            } => binding::undo_unbind(cfg, f, t, fpos, tpos, fb, tb),
            Undo::Replace {
                o,
                n,
                old,
                name,
                hears,
                ..
            } => binding::undo_replace(cfg, o, n, old, name, hears),
            Undo::Flush { nodes } => commands::undo_flush(cfg, nodes),
        }
    }
}

/// A failure of change number `index`: its message, numbered.
pub(crate) fn numbered(index: usize, f: Fail) -> Fail {
    Fail::new(f.err, format_args!("{}: {}", index, f.msg.as_str()))
}

/// Commit the open transaction of space `sp`: publish, apply the settings, carry state over,
/// retire what was removed. On error nothing of the transaction stays (see the message for
/// settings of blocks that were there before, which a failure after the publish cannot
/// take back).
pub(crate) fn commit(cfg: &mut Config, sp: &Space) -> CmdResult {
    // Blocks the transaction removed come back if it fails after the publish: retired
    // segment counts are credited only once it is over (`Config::settle`). Room for the
    // counts of the two snapshots it may replace (the commit's and an undo's), so they can
    // be kept meanwhile (without it they would be credited at once, to blocks that may be
    // out of the configuration then: lost). No room: refused, before anything changed.
    if cfg.reserve_retired(2).is_err() {
        rollback(cfg);
        return Err(Fail::new(
            ENOMEM,
            format_args!("out of memory before the commit: nothing changed"),
        ));
    }
    cfg.hold_credits = true;
    let r = apply(cfg, sp);
    cfg.hold_credits = false;
    cfg.settle();
    r
}

/// [`commit`], while retired counts wait.
fn apply(cfg: &mut Config, sp: &Space) -> CmdResult {
    let Some(j) = cfg.txn.take() else {
        return Ok(());
    };
    let Journal { undo, sets, .. } = j;
    // A setting of a block the transaction removes later has nothing to apply to at the
    // commit: refused, before anything is published.
    for s in sets.iter() {
        // SAFETY: the block is alive until the end of the commit (`DeferredSet::inst`).
        let inst = unsafe { s.inst.as_ref() };
        if is_leaving_id(inst.id) {
            unwind(cfg, undo, None);
            forget_leaving();
            return Err(numbered(
                s.index,
                Fail::new(
                    EINVAL,
                    format_args!("'{}' is set, then removed by the batch", inst.name.as_str()),
                ),
            ));
        }
    }
    forget_leaving();
    // Room to keep the blocks the transaction added, should it fail after the publish.
    let adds = undo
        .iter()
        .filter(|u| matches!(u, Undo::Add { .. }))
        .count();
    let mut held = match KVec::with_capacity(adds, GFP_KERNEL) {
        Ok(h) => h,
        Err(e) => {
            unwind(cfg, undo, None);
            return Err(e.into());
        }
    };
    if let Err(e) = cfg.publish() {
        unwind(cfg, undo, None);
        return Err(Fail::new(
            e,
            format_args!("out of memory while publishing the new graph"),
        ));
    }
    // The removed blocks let go of their devices and sockets first: a setting of the
    // transaction may take a device one of them held ("flush; add in eth; set in dev=...").
    let undo_detached = undo.iter().any(|u| {
        matches!(
            u,
            Undo::Rm { .. } | Undo::Replace { .. } | Undo::Flush { .. }
        )
    });
    for u in undo.iter() {
        match u {
            Undo::Rm { node, .. } | Undo::Replace { old: node, .. } => node.inst.fb.detach(),
            Undo::Flush { nodes } => nodes.iter().for_each(|(_, n, _)| n.inst.fb.detach()),
            _ => {}
        }
    }
    // The state of replaced blocks is final once no packet can be inside them any more.
    let carries = undo.iter().any(|u| {
        matches!(
            u,
            Undo::Replace {
                carry_state: true,
                ..
            }
        )
    });
    if carries {
        kernel::sync::rcu::synchronize_rcu();
    }
    // Settings and carried state, in the order of the changes. (A failure below cannot take
    // back state a replace already carried into a block that was there before the batch:
    // blocks' `adopt_state` merges; the engine's counts are carried only after success.)
    let mut next_set = sets.iter().peekable();
    let mut failed = None;
    for u in Iterator::chain(undo.iter().map(Some), core::iter::once(None)) {
        let until = match u {
            Some(&Undo::Replace { index, .. }) => index,
            Some(_) => continue,
            None => usize::MAX,
        };
        while let Some(s) = next_set.next_if(|s| s.index < until) {
            // SAFETY: the block is alive until the end of the commit (`DeferredSet::inst`).
            let inst = unsafe { s.inst.as_ref() };
            if let Err(f) = apply_set(inst, &s.props) {
                failed = Some(numbered(s.index, f));
                break;
            }
        }
        if failed.is_some() {
            break;
        }
        if let Some(Undo::Replace {
            new,
            old,
            carry_state: true,
            ..
        }) = u
        {
            // SAFETY: the replacement is in the configuration or in this journal, retired
            // only after this loop (`Undo::Replace::new`).
            let nn = unsafe { new.as_ref() };
            // a chain of replaces carries the state along, to the last block
            nn.fb.adopt_state_of(&*old.inst.fb);
        }
    }
    if let Some(f) = failed {
        // (the checks passed: only memory, or a device taken meanwhile by something else
        // than LANA, gets here) Take the structure back, publish the old graph again, and
        // only then retire what the transaction added, which the new graph pointed to.
        unwind(cfg, undo, Some(&mut held));
        while cfg.publish().is_err() {
            kernel::time::delay::fsleep(kernel::time::Delta::from_millis(10));
        }
        for n in held.drain_all() {
            retire(n);
        }
        cfg.changed(sp);
        // (there is no attaching again: blocks it removed, now back, stay detached)
        return Err(Fail::new(
            f.err,
            format_args!(
                "{} (undone after the commit began{})",
                f.msg.as_str(),
                if undo_detached {
                    "; blocks it removed are detached"
                } else {
                    ""
                }
            ),
        ));
    }
    // Counts carried over only now that nothing can fail any more: an undone commit must not
    // leave the old block's packets counted at a replacement that stays (a chain of replaces
    // adds them along, in order, to the last block).
    for u in undo.iter() {
        if let Undo::Replace {
            o,
            new,
            old,
            carry_state: true,
            ..
        } = u
        {
            // SAFETY: as above (`Undo::Replace::new`).
            let nn = unsafe { new.as_ref() };
            nn.stats.add_totals(cfg.block_totals(*o, &old.inst));
        }
    }
    let mut undo = undo;
    for u in undo.drain_all() {
        match u {
            Undo::Rm { node, .. } | Undo::Replace { old: node, .. } => retire(node),
            Undo::Flush { nodes } => {
                let mut nodes = nodes;
                for (_, n, _) in nodes.drain_all() {
                    retire(n);
                }
            }
            _ => {}
        }
    }
    cfg.changed(sp);
    Ok(())
}

/// Apply a deferred `set`.
fn apply_set(inst: &Instance, raw: &KVec<KVec<u8>>) -> CmdResult {
    let mut strs: KVec<&str> = KVec::with_capacity(raw.len(), GFP_KERNEL)?;
    for p in raw.iter() {
        // checked UTF-8 when it was kept
        strs.push(core::str::from_utf8(p).unwrap_or(""), GFP_KERNEL)?;
    }
    let parsed = commands::parse_props(inst, &strs)?;
    inst.chain
        .ask(&Event::Set(&parsed))
        .map_err(|e| commands::veto(inst.name.as_str(), "setting", e))
}

#[kernel::macros::kunit_tests(lana_txn)]
mod tests {
    use crate::binding;
    use crate::commands::{
        self,
        testing::{config, errno},
    };
    use crate::config::Config;
    use crate::space::Space;
    use kernel::prelude::*;

    /// Names, types and bindings (by name), in slot order.
    fn shape(c: &Config, sp: &Space) -> KVec<(u32, u32, KVec<u32>, KVec<u32>)> {
        let mut v = KVec::new();
        for (slot, n) in c.nodes().filter(|(_, n)| n.inst.space.key == sp.key) {
            let mut ing = KVec::new();
            let mut eg = KVec::new();
            for b in n.ingress.iter() {
                let _ = ing.push(b.slot, GFP_KERNEL);
            }
            for b in n.egress.iter() {
                let _ = eg.push(b.slot, GFP_KERNEL);
            }
            let _ = v.push((slot, n.inst.id, ing, eg), GFP_KERNEL);
        }
        v
    }

    #[test]
    fn a_failed_transaction_leaves_everything_as_it_was() {
        let (mut c, sp) = config();
        let Ok(sp) = sp else {
            assert!(false);
            return;
        };
        for n in ["a", "b", "m"] {
            assert_eq!(errno(commands::add(&mut c, &sp, n, "kt-one")), 0);
        }
        assert_eq!(errno(commands::add(&mut c, &sp, "t", "kt-two")), 0);
        assert_eq!(errno(binding::bind(&mut c, &sp, "a", "m")), 0);
        assert_eq!(errno(binding::bind(&mut c, &sp, "m", "b")), 0);
        let before = shape(&c, &sp);
        super::begin(&mut c);
        // every kind of change, then one that fails
        assert_eq!(errno(commands::add(&mut c, &sp, "x", "kt-one")), 0);
        assert_eq!(errno(binding::bind(&mut c, &sp, "b", "x")), 0);
        assert_eq!(errno(binding::unbind(&mut c, &sp, "a", "m")), 0);
        assert_eq!(errno(commands::add(&mut c, &sp, "m2", "kt-one")), 0);
        assert_eq!(errno(binding::replace(&mut c, &sp, "m", "m2", false)), 0);
        assert_eq!(errno(commands::rm(&mut c, &sp, "t")), 0);
        assert_eq!(errno(commands::add(&mut c, &sp, "t", "kt-one")), 0);
        assert_eq!(errno(commands::flush(&mut c, &sp)), 0);
        assert_eq!(errno(commands::add(&mut c, &sp, "a", "kt-one")), 0);
        assert_eq!(
            errno(commands::add(&mut c, &sp, "a", "kt-one")),
            EEXIST.to_errno()
        );
        super::rollback(&mut c);
        assert!(shape(&c, &sp) == before);
        assert!(c.find(&sp, "x").is_none() && c.find(&sp, "m2").is_none());
        // and a transaction that commits applies all of it
        super::begin(&mut c);
        assert_eq!(errno(commands::add(&mut c, &sp, "x", "kt-one")), 0);
        assert_eq!(errno(binding::bind(&mut c, &sp, "b", "x")), 0);
        assert_eq!(errno(super::commit(&mut c, &sp)), 0);
        assert!(c.txn.is_none());
        let b = c.find(&sp, "b").and_then(|s| c.node(s));
        assert_eq!(b.map(|n| n.ingress.len()), Some(1));
        assert_eq!(errno(commands::flush(&mut c, &sp)), 0);
        assert_eq!(c.len(), 0);
    }
}
