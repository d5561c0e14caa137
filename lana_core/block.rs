// SPDX-License-Identifier: GPL-2.0
//! What a functional block is: the trait FB modules implement, and what they tell the core.

use crate::packet::Packet;
use crate::percpu::PacketContext;
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

/// Why a packet was dropped. Every packet that enters the engine ends delivered,
/// transmitted, or dropped for one of these reasons, each counted (`fbctl stats`) and passed
/// to `kfree_skb_reason` so drop monitors see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum DropReason {
    /// A block's filter refused it (e.g. `bpf`).
    Filtered = 0,
    /// Nothing is bound after the block in the packet's direction.
    NoNext = 1,
    /// It visited `max_hops` blocks.
    HopLimit = 2,
    /// The block it was meant to enter at is gone (removed while the packet waited).
    NoBlock = 3,
    /// An engine thread's per-CPU queue was full.
    QueueFull = 4,
    /// The application's socket receive buffer was full.
    SocketFull = 5,
    /// A socket block with no application bound.
    NoSocket = 6,
    /// A fan-out could not make a copy (out of memory, too many pending, or `max_copies`
    /// made already for this packet).
    FanoutFailed = 7,
    /// The eth block's device is down or detached.
    DeviceDown = 8,
    /// The device's transmit path refused it.
    TxError = 9,
    /// Queued for an engine thread when its device went away or the core unloaded.
    Flushed = 10,
}

impl DropReason {
    /// Number of reasons.
    pub const COUNT: usize = 11;

    /// Every reason, in number order.
    pub const ALL: [DropReason; Self::COUNT] = [
        DropReason::Filtered,
        DropReason::NoNext,
        DropReason::HopLimit,
        DropReason::NoBlock,
        DropReason::QueueFull,
        DropReason::SocketFull,
        DropReason::NoSocket,
        DropReason::FanoutFailed,
        DropReason::DeviceDown,
        DropReason::TxError,
        DropReason::Flushed,
    ];

    /// The reason for a number (from C), if it is one.
    pub(crate) fn from_u32(n: u32) -> Option<Self> {
        Self::ALL.get(n as usize).copied()
    }
}

/// What became of a packet a block handed to the core (see [`Verdict::Consumed`]). Only the
/// core makes these, when it really took the packet, so a block cannot report a fate that
/// did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Consumed(pub(crate) Fate);

/// A packet's end, as counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Queued to an application's socket.
    Delivered,
    /// Handed to a device's transmit path.
    Transmitted,
    /// Dropped, for a reason.
    Dropped(DropReason),
}

/// What a block decided about a packet it received.
pub enum Verdict {
    /// Pass the packet to the block bound first in this direction.
    Next(Packet, Direction),
    /// Pass a copy to every block bound in this direction (the packet itself to the first).
    Fanout(Packet, Direction),
    /// Drop the packet; the engine counts it as this block's drop, for `reason`.
    Drop(Packet, DropReason),
    /// The block gave the packet to the core (a device, a socket), which says what became
    /// of it.
    Consumed(Consumed),
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
    /// As one number (for atomics and `skb->cb`).
    pub(crate) fn pack(self) -> u64 {
        ((self.slot as u64) << 32) | self.id as u64
    }

    /// Back from [`Entry::pack`].
    pub(crate) fn unpack(v: u64) -> Self {
        Entry { slot: (v >> 32) as u32, id: v as u32 }
    }
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
    /// The instance's id, as `fbctl list` shows it.
    pub id: u32,
    /// Where packets the block originates (a device's frames, a socket's messages) enter.
    pub entry: Entry,
    /// The instance's name.
    pub name: &'a str,
}

/// Any `'static` type as `&dyn Any`, through the vtable of a trait object that has this as a
/// supertrait (trait upcasting is unstable before Rust 1.86; the kernel's minimum is 1.85).
pub trait AsAny: Any {
    /// `self` as `&dyn Any`, to downcast.
    fn as_any(&self) -> &dyn Any;
}

impl<T: Any> AsAny for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A functional block. FB modules implement this in safe Rust; the core calls it.
///
/// `receive` runs in the receive softirq (or a PPE thread with bottom halves off) under RCU,
/// concurrently on every CPU: it must not sleep and should not take locks; `ctx` proves that
/// context to the functions that need it. The other methods run in process context,
/// serialised by the core's configuration mutex.
pub trait FunctionalBlock: Send + Sync + AsAny {
    /// Process one packet arriving in direction `dir`.
    fn receive(&self, ctx: &PacketContext, pkt: Packet, dir: Direction) -> Verdict;

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
