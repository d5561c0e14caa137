// SPDX-License-Identifier: GPL-2.0
//! What a functional block is: the trait FB modules implement, and what they tell the core.

use crate::packet::Packet;
use crate::props::{PropSink, PropValue};
use core::any::Any;
use kernel::prelude::*;

/// The two directions a packet travels in a LANA graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the wire towards applications.
    Ingress,
    /// From applications towards the wire.
    Egress,
}

/// What a block decided about a packet it received.
pub enum Verdict {
    /// Pass the packet to the block bound first in this direction.
    Next(Packet, Direction),
    /// Pass a copy to every block bound in this direction (the packet itself to the first).
    Fanout(Packet, Direction),
    /// Drop the packet; the engine counts it as this block's drop and frees it.
    Drop(Packet),
    /// The block took the packet (queued it to a device or a socket).
    Consumed,
}

/// One property key a type accepts, with the kind of value it takes.
#[derive(Clone, Copy)]
pub struct KeyInfo {
    /// The key, as in `fbctl set <fb> <key>=<value>`.
    pub key: &'static str,
    /// The value's kind; the core parses and checks values before the block sees them.
    pub kind: crate::props::Kind,
    /// One line for `fbctl types`.
    pub help: &'static str,
}

/// A configuration event, delivered to a block through its notifier chain.
///
/// A block that returns an error from [`FunctionalBlock::event`] vetoes the change: the
/// command fails with that error and nothing changes.
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
    /// The instance's id: the number packets name when they move to it.
    pub id: u32,
    /// The instance's name.
    pub name: &'a str,
}

/// A functional block. FB modules implement this in safe Rust; the core calls it.
///
/// `receive` runs in the receive softirq (or a PPE thread with bottom halves off) under RCU,
/// concurrently on every CPU: it must not sleep and should not take locks. The other methods
/// run in process context, serialised by the core's configuration mutex.
pub trait FunctionalBlock: Send + Sync + Any {
    /// Process one packet arriving in direction `dir`.
    fn receive(&self, pkt: Packet, dir: Direction) -> Verdict;

    /// React to (and possibly veto) a configuration change. `Set` carries values the core
    /// already checked against the type's [`KeyInfo`]s.
    fn event(&self, _event: &Event<'_>, _why: &mut Reason) -> Result {
        Ok(())
    }

    /// Describe the block's current properties and state, for `fbctl show`.
    fn show(&self, _out: &mut dyn PropSink) {}

    /// Take over the private state of `old`, an instance of the same type that this one
    /// replaced. Called once no packet can reach `old` any more.
    fn adopt_state(&self, _old: &dyn Any) {}
}

/// A block type: what an FB module registers with the core.
pub struct FbType {
    /// The type's name, as in `fbctl add <name> <type>`.
    pub name: &'static str,
    /// One line for `fbctl types`.
    pub description: &'static str,
    /// The keys `fbctl set` accepts.
    pub keys: &'static [KeyInfo],
    /// How many blocks it may pass packets to in the ingress direction.
    pub max_ingress: u32,
    /// How many blocks it may pass packets to in the egress direction.
    pub max_egress: u32,
    /// Whether it can carry state over in a replace (see [`FunctionalBlock::adopt_state`]).
    pub has_state: bool,
    /// Make an instance.
    pub new: fn(&NewInstance<'_>) -> Result<KBox<dyn FunctionalBlock>>,
}
