// SPDX-License-Identifier: GPL-2.0
//! What a functional block is: the [`Block`] trait FB modules implement, declared by its type
//! as a phy driver is (`#[vtable] impl Block for MyBlock`), and what a block tells the core.

use crate::fate::{Consumed, DropReason, Fate};
use crate::packet::Packet;
use crate::percpu::PacketContext;
use crate::props::{Kind, PropSink, PropValue};
use kernel::error::VTABLE_DEFAULT_ERROR;
use kernel::prelude::*;

/// The two directions a packet travels in a LANA graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the wire towards applications.
    Ingress,
    /// From applications towards the wire.
    Egress,
}

/// What a block decided about a packet it received: [`Verdict::next`], [`Verdict::fanout`],
/// [`Verdict::drop`] or [`Verdict::consumed`]. (A direction other than the packet's own is
/// honoured only for types that declare [`Block::TURNS`].)
///
/// Two words, the decision and the packet, so a block returns it in two registers.
///
/// # Invariants
///
/// `what` is one of the `code` module's values; `pkt` is `None` exactly for
/// [`code::CONSUMED`] codes.
#[must_use]
pub struct Verdict {
    what: u32,
    pkt: Option<Packet>,
}

/// [`Verdict`]'s decisions as numbers: the direction folded into the code.
mod code {
    /// `NEXT + dir`: pass the packet on in `dir`.
    pub(super) const NEXT: u32 = 0;
    /// `FANOUT + dir`: copies to every next block in `dir`.
    pub(super) const FANOUT: u32 = 2;
    /// `DROP + reason`.
    pub(super) const DROP: u32 = 4;
    /// `CONSUMED + fate`: 0 delivered, 1 transmitted, `2 + reason` dropped.
    pub(super) const CONSUMED: u32 = 32;
}

/// A [`Verdict`] taken apart, for the engine.
pub(crate) enum Decision {
    /// Pass the packet to the block bound first in this direction.
    Next(Packet, Direction),
    /// Pass a copy to every block bound in this direction (the packet itself to the first).
    Fanout(Packet, Direction),
    /// Drop the packet, counted as the block's drop for this reason.
    Drop(Packet, DropReason),
    /// The core took the packet and says what became of it.
    Consumed(Fate),
}

impl Verdict {
    /// Pass the packet to the block bound first in direction `dir`.
    #[inline]
    pub fn next(pkt: Packet, dir: Direction) -> Self {
        // INVARIANT: a NEXT code, with a packet.
        Verdict {
            what: code::NEXT + dir as u32,
            pkt: Some(pkt),
        }
    }

    /// Pass a copy to every block bound in direction `dir` (the packet itself to the first).
    #[inline]
    pub fn fanout(pkt: Packet, dir: Direction) -> Self {
        // INVARIANT: a FANOUT code, with a packet.
        Verdict {
            what: code::FANOUT + dir as u32,
            pkt: Some(pkt),
        }
    }

    /// Drop the packet; the engine counts it as this block's drop, for `reason`.
    #[inline]
    pub fn drop(pkt: Packet, reason: DropReason) -> Self {
        // INVARIANT: a DROP code, with a packet.
        Verdict {
            what: code::DROP + reason as u32,
            pkt: Some(pkt),
        }
    }

    /// The block gave the packet to the core (a device, a socket), which says what became
    /// of it.
    #[inline]
    pub fn consumed(c: Consumed) -> Self {
        let fate = match c.0 {
            Fate::Delivered => 0,
            Fate::Transmitted => 1,
            Fate::Dropped(r) => 2 + r as u32,
        };
        // INVARIANT: a CONSUMED code, without a packet.
        Verdict {
            what: code::CONSUMED + fate,
            pkt: None,
        }
    }

    /// The common case first: the packet goes on in `dir`, the direction it came (`Ok`, one
    /// compare), or what else the block decided.
    #[inline(always)]
    pub(crate) fn next_in_or_decide(
        self,
        dir: Direction,
    ) -> core::result::Result<Packet, Decision> {
        if self.what != code::NEXT + dir as u32 {
            return Err(self.decide());
        }
        match self.pkt {
            Some(pkt) => Ok(pkt),
            // SAFETY: by the type invariant only CONSUMED codes come without a packet, and
            // this is a NEXT code (one compare on the hot path instead of two).
            None => unsafe { core::hint::unreachable_unchecked() },
        }
    }

    /// What the block decided.
    #[inline]
    pub(crate) fn decide(self) -> Decision {
        let Verdict { what, pkt } = self;
        let Some(pkt) = pkt else {
            // by the type invariant, a CONSUMED code
            return Decision::Consumed(match what.wrapping_sub(code::CONSUMED) {
                0 => Fate::Delivered,
                1 => Fate::Transmitted,
                n => Fate::Dropped(
                    DropReason::from_u32(n.wrapping_sub(2)).unwrap_or(DropReason::NoBlock),
                ),
            });
        };
        match what {
            0 => Decision::Next(pkt, Direction::Ingress),
            1 => Decision::Next(pkt, Direction::Egress),
            2 => Decision::Fanout(pkt, Direction::Ingress),
            3 => Decision::Fanout(pkt, Direction::Egress),
            // by the type invariant, a DROP code
            n => Decision::Drop(
                pkt,
                DropReason::from_u32(n.wrapping_sub(code::DROP)).unwrap_or(DropReason::NoBlock),
            ),
        }
    }
}

/// Where packets that do not come from another block enter the graph: at a block, named by
/// its slot in the graph snapshot and its id. The engine checks both, so a handle held by a
/// queue or a socket after its block went away cannot enter at a block created since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub(crate) slot: u32,
    pub(crate) id: u32,
}

impl Entry {
    /// As one number (for `skb->cb`).
    pub(crate) fn pack(self) -> u64 {
        (u64::from(self.slot) << 32) | u64::from(self.id)
    }

    /// Back from [`Entry::pack`].
    pub(crate) fn unpack(v: u64) -> Self {
        Entry {
            slot: (v >> 32) as u32,
            id: v as u32,
        }
    }
}

/// One property key a type accepts, with the kind of value it takes.
#[derive(Clone, Copy)]
pub struct KeyInfo {
    /// The key, as in `fbctl set <fb> <key>=<value>`.
    pub key: &'static str,
    /// The value's kind; the core parses and checks values before the block sees them.
    pub kind: Kind,
    /// One line for `fbctl types`.
    pub help: &'static str,
}

/// What happened to a neighbour: a block bound to this one in either direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeighbourEvent<'a> {
    /// It was bound to `other` (another block than this one).
    Bound {
        /// The block it was bound to.
        other: &'a str,
    },
    /// It was unbound from `other` (another block than this one).
    Unbound {
        /// The block it was unbound from.
        other: &'a str,
    },
    /// It was replaced by `by`, which is bound here in its place now.
    Replaced {
        /// The replacement.
        by: &'a str,
    },
    /// A device its packets travel over, directly or through the blocks behind it, went
    /// up or down, or changed its MTU: `up` and `mtu` are the device's state now.
    Link {
        /// Whether the device is up with carrier.
        up: bool,
        /// The device's MTU.
        mtu: u32,
    },
}

/// A configuration event, delivered to a block through notifier chains: its own chain for
/// what is done to it, its neighbours' chains for what happens to them.
///
/// A block that returns an error for an event about itself vetoes the change: the command
/// fails with that error and nothing changes. Neighbour events are news, not questions.
pub enum Event<'a> {
    /// `bind`: `peer` becomes a next block of this one in `dir`.
    Bind {
        /// The other block.
        peer: &'a str,
        /// The direction, seen from this block.
        dir: Direction,
    },
    /// `unbind`: `peer` stops being a next block of this one in `dir`.
    Unbind {
        /// The other block.
        peer: &'a str,
        /// The direction, seen from this block.
        dir: Direction,
    },
    /// `set`: apply all of these or none.
    Set(&'a [(&'a str, PropValue<'a>)]),
    /// A `set` in a transaction (an atomic batch): answer exactly as `Set` would, but change
    /// nothing; the `Set` follows when the transaction commits. Only types that declare
    /// [`Block::CHECKS_SETTINGS`] are asked; the settings of other types cannot be part of a
    /// transaction.
    Check(&'a [(&'a str, PropValue<'a>)]),
    /// `replace`: this block is about to take the place of `old`.
    ReplaceIn {
        /// The block being replaced.
        old: &'a str,
    },
    /// `replace`: `new` is about to take this block's place.
    ReplaceOut {
        /// The replacement.
        new: &'a str,
    },
    /// `rm`: the block is about to be removed.
    Remove,
    /// Something happened to a neighbour, or reached this block through one.
    Neighbour {
        /// The block it happened to (for link events: the eth block of the device).
        peer: &'a str,
        /// What happened.
        what: NeighbourEvent<'a>,
    },
}

/// Where a veto's reason goes: a short message for the user, sent back in the extended ack.
pub struct Reason {
    pub(crate) msg: Option<&'static str>,
}

impl Reason {
    /// Explain a veto to the user.
    pub fn set(&mut self, msg: &'static str) {
        self.msg = Some(msg);
    }
}

/// What the core tells a block when it creates it.
pub struct NewInstance<'a> {
    /// The instance's id, as `fbctl list` shows it.
    pub id: u32,
    /// Where packets the block originates (a device's frames, a socket's messages) enter.
    pub entry: Entry,
    /// The instance's name.
    pub name: &'a str,
    /// The network namespace's space the instance belongs to.
    pub(crate) space: &'a kernel::sync::Arc<crate::space::Space>,
}

/// A functional block type. FB modules implement it in safe Rust, as `#[vtable] impl Block
/// for MyBlock`; [`crate::fb_module!`] registers the type while the module is loaded.
///
/// `receive` runs in the receive softirq (or a PPE thread with bottom halves off) under RCU,
/// concurrently on every CPU: it must not sleep and should not take locks; `ctx` proves that
/// context to the functions that need it. The other methods run in process context,
/// serialised by the core's configuration mutex.
#[vtable]
pub trait Block: Sized + Send + Sync + 'static {
    /// The type's name, as in `fbctl add <name> <type>`.
    const NAME: &'static str;
    /// One line for `fbctl types`.
    const DESCRIPTION: &'static str;
    /// The keys `fbctl set` accepts.
    const KEYS: &'static [KeyInfo] = &[];
    /// How many blocks it may pass packets to in the ingress direction.
    const MAX_INGRESS: u32 = 1;
    /// How many blocks it may pass packets to in the egress direction.
    const MAX_EGRESS: u32 = 1;
    /// The type answers [`Event::Check`] (it tells whether it would take a `set` without
    /// taking it), so its settings can be part of a transaction (`fbctl -b`).
    const CHECKS_SETTINGS: bool = false;
    /// The block may send a packet back the way it came (a [`Verdict::next`] or
    /// [`Verdict::fanout`] in the other direction: a reflector, a loopback). A type that does
    /// not say so keeps every packet in its direction whatever it answers, and the engine
    /// can then prove, when it compiles the graph, that no walk loops or outgrows the hop
    /// limit, and stop counting hops (`graph.rs`: `longest_walk`).
    const TURNS: bool = false;

    /// Make an instance.
    fn new(inst: &NewInstance<'_>) -> Result<Self>;

    /// Process one packet arriving in direction `dir`.
    ///
    /// A type that does not implement it forwards every packet unchanged to its next block in
    /// the direction the packet travels (this default). The engine knows (`HAS_RECEIVE`): a
    /// chain of such blocks after another block is one compiled step that never calls them,
    /// still counting every packet at each (`graph.rs`): a pass-through block costs nearly
    /// nothing.
    fn receive(&self, _ctx: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
        Verdict::next(pkt, dir)
    }

    /// React to (and possibly veto) a configuration change. `Set` carries values the core
    /// already checked against the type's [`KeyInfo`]s.
    fn event(&self, _event: &Event<'_>, _why: &mut Reason) -> Result {
        Ok(())
    }

    /// The block has left the graph (removed, replaced, flushed): let go of what ties it to
    /// the outside world (a device, a socket) now, so the resource is free when the command
    /// returns. Packets already inside the block may still call `receive` until a grace
    /// period passes; the block is dropped after that.
    fn detach(&self) {}

    /// Describe the block's current properties and state, for `fbctl show`.
    fn show(&self, _out: &mut dyn PropSink) {}

    /// Take over the private state of `old`, the block of the same type this one replaced,
    /// once no packet can reach `old` any more. A type that implements this carries state
    /// over in a replace (unless `--drop-state`); one that does not, has none to carry.
    fn adopt_state(&self, _old: &Self) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}
