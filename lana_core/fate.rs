// SPDX-License-Identifier: GPL-2.0
//! How a packet ends. Every packet that enters the engine, and every copy a fan-out makes,
//! ends in exactly one [`Fate`]: delivered to a socket, transmitted on a device, or dropped
//! for a [`DropReason`].

/// Why a packet was dropped. Each is counted (`fbctl stats`) and passed to
/// `kfree_skb_reason`, so drop monitors see the kernel's matching reason.
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
    /// Longer than the device's MTU allows (not a GSO packet): drivers must not see it.
    TooBig = 11,
    /// No memory for the engine's own copy of a frame the stack shares (a tap holds it).
    NoMemory = 12,
}

impl DropReason {
    /// Number of reasons.
    pub const COUNT: usize = 13;

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
        DropReason::TooBig,
        DropReason::NoMemory,
    ];

    /// The reason's name, as `fbctl stats` prints it (the uapi's names).
    pub fn name(self) -> &'static str {
        const NAMES: [&str; DropReason::COUNT] = [
            "filtered",
            "no_next",
            "hop_limit",
            "no_block",
            "queue_full",
            "socket_full",
            "no_socket",
            "fanout_failed",
            "device_down",
            "tx_error",
            "flushed",
            "too_big",
            "no_memory",
        ];
        NAMES[self as usize]
    }

    /// The reason for a number (from C), if it is one.
    pub(crate) fn from_u32(n: u32) -> Option<Self> {
        Self::ALL.get(n as usize).copied()
    }
}

// The names userspace prints are the uapi's, in the same order.
const _: () = assert!(crate::uapi::LANA_DROP_REASON_COUNT as usize == DropReason::COUNT);

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

/// What became of a packet a block handed to the core (see
/// `Verdict::consumed`). Only the core makes these, when
/// it really took the packet, so a block cannot report a fate that did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Consumed(pub(crate) Fate);
