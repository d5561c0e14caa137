// SPDX-License-Identifier: GPL-2.0
// The `lana` generic-netlink family: every command and attribute number, in one place.
//
// This file is compiled into the kernel crate (`lana_core`), into `fbctl`, and turned into
// a C header for the family's policy tables (Kbuild runs `scripts/uapi-to-c.sh`), so the
// numbers cannot drift apart. Only `pub const NAME: TYPE = VALUE;` lines belong here.

/// Family name, as `fbctl` resolves it through `nlctrl`.
pub const LANA_GENL_NAME: &str = "lana";
/// Family version: 2 since blocks report typed `LANA_A_CONFIG`/`LANA_A_STATE` values (no
/// `LANA_A_PROPS` in replies), types their keys as `LANA_A_KEY_INFO` nests, and events
/// have command numbers of their own.
pub const LANA_GENL_VERSION: u8 = 2;

/// Create an instance: NAME, TYPE.
pub const LANA_CMD_ADD: u8 = 1;
/// Remove an unbound instance: NAME.
pub const LANA_CMD_RM: u8 = 2;
/// Set properties, all or none: NAME, PROPS (nested PROP "key=value" strings).
pub const LANA_CMD_SET: u8 = 3;
/// Bind NAME -> PEER (PEER is NAME's next block ingress, NAME is PEER's next block egress).
pub const LANA_CMD_BIND: u8 = 4;
/// Undo a bind: NAME, PEER.
pub const LANA_CMD_UNBIND: u8 = 5;
/// Put instance PEER (unbound) in the place of NAME: NAME, PEER, FLAGS.
pub const LANA_CMD_REPLACE: u8 = 6;
/// One instance (doit, NAME) or all of them (dump).
pub const LANA_CMD_GET: u8 = 7;
/// The registered FB types (dump).
pub const LANA_CMD_TYPES: u8 = 8;
/// Packet-processing engine counters.
pub const LANA_CMD_STATS: u8 = 9;
/// Unbind and remove every instance.
pub const LANA_CMD_FLUSH: u8 = 10;
/// Change the engine's settings: `LANA_A_ENGINE_MAX_HOPS`, `LANA_A_ENGINE_RUNTIME`.
pub const LANA_CMD_ENGINE: u8 = 11;
/// Event only (no request): the device of an eth block changed state or went away: NAME,
/// `LANA_A_ATTACHED`, `LANA_A_LINK_UP`, `LANA_A_MTU`.
pub const LANA_CMD_LINK: u8 = 12;
/// Apply a list of changes (`LANA_A_BATCH_CMD` nests, repeated at the top level of the
/// message: a nest cannot exceed 64 KiB, a message can) as one transaction: every change is checked and
/// made, then the graph is published once; if any fails, none stays (the error message
/// starts with the failing change's number, from 1).
pub const LANA_CMD_BATCH: u8 = 13;
/// Events (notifications only, on `LANA_MCGRP_CONFIG`): a change was made. Numbers of
/// their own, apart from the replies', as the kernel's families do, so a generic client
/// (ynl) tells an event from a reply. Each carries the change's attributes and the new
/// `LANA_A_GENERATION`.
///
/// Event: a block was added (`LANA_A_NAME`, `LANA_A_TYPE`, `LANA_A_ID`).
pub const LANA_CMD_ADD_NTF: u8 = 14;
/// Event: a block was removed.
pub const LANA_CMD_RM_NTF: u8 = 15;
/// Event: settings were applied (`LANA_A_PROPS` as sent).
pub const LANA_CMD_SET_NTF: u8 = 16;
/// Event: a bind.
pub const LANA_CMD_BIND_NTF: u8 = 17;
/// Event: an unbind.
pub const LANA_CMD_UNBIND_NTF: u8 = 18;
/// Event: a replace (`LANA_A_FLAGS` as sent).
pub const LANA_CMD_REPLACE_NTF: u8 = 19;
/// Event: every block was removed.
pub const LANA_CMD_FLUSH_NTF: u8 = 20;
/// Event: the engine's settings changed.
pub const LANA_CMD_ENGINE_NTF: u8 = 21;

/// The multicast group announcing every change, once, after it took effect: an event
/// (`LANA_CMD_ADD_NTF` ... `LANA_CMD_ENGINE_NTF`, `LANA_CMD_LINK`) with the request's
/// attributes and the new `LANA_A_GENERATION`.
pub const LANA_MCGRP_CONFIG: &str = "config";

/// Instance name (NUL-terminated string, at most `LANA_NAME_MAX` bytes without the NUL).
pub const LANA_A_NAME: u16 = 1;
/// Type name (string).
pub const LANA_A_TYPE: u16 = 2;
/// Instance id (u32).
pub const LANA_A_ID: u16 = 3;
/// The other instance of a bind, unbind or replace (string).
pub const LANA_A_PEER: u16 = 4;
/// One property, "key=value" (string), inside `LANA_A_PROPS`.
pub const LANA_A_PROP: u16 = 5;
/// Nested list of `LANA_A_PROP`.
pub const LANA_A_PROPS: u16 = 6;
/// Command flags (u32, `LANA_F_*`).
pub const LANA_A_FLAGS: u16 = 7;
/// Nested list of `LANA_A_NAME`: the blocks this one passes packets to, ingress direction.
pub const LANA_A_INGRESS: u16 = 8;
/// Nested list of `LANA_A_NAME`: the blocks this one passes packets to, egress direction.
pub const LANA_A_EGRESS: u16 = 9;
/// Packets seen by a block (u64).
pub const LANA_A_PACKETS: u16 = 10;
/// Bytes seen by a block (u64).
pub const LANA_A_BYTES: u16 = 11;
/// Packets a block dropped (u64).
pub const LANA_A_DROPS: u16 = 12;
/// Human-readable description of a type (string).
pub const LANA_A_DESC: u16 = 13;
/// The keys a type takes: a nest of `LANA_A_KEY_INFO`.
pub const LANA_A_KEYS: u16 = 14;
/// How many blocks a type may pass packets to, ingress (u32).
pub const LANA_A_MAX_INGRESS: u16 = 15;
/// How many blocks a type may pass packets to, egress (u32).
pub const LANA_A_MAX_EGRESS: u16 = 16;
/// Number of live instances of a type (u32).
pub const LANA_A_INSTANCES: u16 = 17;
/// Engine: packets that entered the engine, from devices and sockets (u64).
pub const LANA_A_ENGINE_RX: u16 = 18;
/// Engine: copies fan-outs made or tried to make (u64).
pub const LANA_A_ENGINE_COPIES: u16 = 19;
/// Engine: packets delivered to sockets (u64).
pub const LANA_A_ENGINE_DELIVERED: u16 = 20;
/// Engine: the hop limit in force (u32).
pub const LANA_A_ENGINE_MAX_HOPS: u16 = 21;
/// Padding for 64-bit attributes.
pub const LANA_A_PAD: u16 = 22;
/// Engine: the execution mechanism (string: softirq, thread, thread-rt, thread-batch).
pub const LANA_A_ENGINE_MODE: u16 = 23;
/// Engine: packets handed to devices' transmit paths (u64).
pub const LANA_A_ENGINE_TRANSMITTED: u16 = 24;
/// Engine: nested u64 drop counts, attribute type = `LANA_DROP_*` + 1.
pub const LANA_A_ENGINE_DROP_REASONS: u16 = 25;
/// Engine: the most blocks the graph may hold (u32).
pub const LANA_A_ENGINE_MAX_BLOCKS: u16 = 26;
/// Engine: blocks in the graph (u32).
pub const LANA_A_ENGINE_BLOCKS: u16 = 27;
/// The configuration's generation: changes with every change (u32).
pub const LANA_A_GENERATION: u16 = 28;
/// Engine: the per-block runtime view is on (u32, 0 or 1); in `LANA_CMD_ENGINE`, turn it on
/// or off.
pub const LANA_A_ENGINE_RUNTIME: u16 = 29;
/// A block's runtime view: calls into the block since the view was last turned on (u64).
pub const LANA_A_CALLS: u16 = 30;
/// A block's runtime view: nanoseconds spent in those calls (u64).
pub const LANA_A_RUNTIME_NS: u16 = 31;
/// Link event: the eth block still holds its device (u32, 0 or 1).
pub const LANA_A_ATTACHED: u16 = 32;
/// Link event: the device is up with carrier (u32, 0 or 1).
pub const LANA_A_LINK_UP: u16 = 33;
/// Link event: the device's MTU (u32).
pub const LANA_A_MTU: u16 = 34;
/// With any change: apply it only if the configuration is still at this generation (u32),
/// else ESTALE (optimistic concurrency, as bpf_mprog's expected_revision); the reply then
/// carries the new `LANA_A_GENERATION`, for the next change of a chain.
pub const LANA_A_EXPECT_GEN: u16 = 35;
/// (36 is unused: an early draft nested a transaction's changes in one attribute.)
/// One change of a transaction, repeated in order: `LANA_A_CMD` and that command's
/// attributes.
pub const LANA_A_BATCH_CMD: u16 = 37;
/// The command of a transaction's change (u32: `LANA_CMD_ADD` ... `LANA_CMD_FLUSH`).
pub const LANA_A_CMD: u16 = 38;
/// A block's settings as they are now (`GET`): a nest of `LANA_A_VALUE`, one per key of
/// its type that it reports. In `SET`, typed settings (with or instead of `LANA_A_PROPS`):
/// a number is taken as its decimal text would be.
pub const LANA_A_CONFIG: u16 = 39;
/// The figures a block keeps (`GET`; not settable): a nest of `LANA_A_VALUE`.
pub const LANA_A_STATE: u16 = 40;
/// One value (nest): `LANA_A_KEY` and one of `LANA_A_NUM` or `LANA_A_TEXT`, with
/// `LANA_A_HEX` when the number reads best in hex.
pub const LANA_A_VALUE: u16 = 41;
/// A value's or a type key's name (string).
pub const LANA_A_KEY: u16 = 42;
/// A value that is a number (u64).
pub const LANA_A_NUM: u16 = 43;
/// A value that is text (string).
pub const LANA_A_TEXT: u16 = 44;
/// Flag: show `LANA_A_NUM` in hex (an EtherType).
pub const LANA_A_HEX: u16 = 45;
/// One key a type takes (nest, inside `LANA_A_KEYS`): `LANA_A_KEY`, `LANA_A_KIND`,
/// `LANA_A_DESC`.
pub const LANA_A_KEY_INFO: u16 = 46;
/// The kind of value a key takes (string: u32, u64, bool, string).
pub const LANA_A_KIND: u16 = 47;
/// Engine (`STATS`): compiled jumps over pass-through blocks that start at the caller's
/// namespace's blocks (u32).
pub const LANA_A_ENGINE_JUMPS: u16 = 48;
/// Engine (`STATS`): blocks those jumps skip, all together (u32; at most four times the
/// namespace's blocks: past that, paths go block by block).
pub const LANA_A_ENGINE_JUMPED: u16 = 49;
/// Highest attribute number.
pub const LANA_A_MAX: u16 = 49;

/// Number of drop reasons.
pub const LANA_DROP_REASON_COUNT: u32 = 13;
/// Drop reason names, in order (comma-separated).
pub const LANA_DROP_REASON_NAMES: &str = "filtered,no_next,hop_limit,no_block,queue_full,socket_full,no_socket,fanout_failed,device_down,tx_error,flushed,too_big,no_memory";

/// `LANA_CMD_REPLACE`: do not carry the old block's private state over.
pub const LANA_F_DROP_STATE: u32 = 1;

/// Highest `max_hops` `LANA_CMD_ENGINE` accepts.
pub const LANA_MAX_HOPS_LIMIT: u32 = 4096;

/// Longest instance or type name, without the terminating NUL.
pub const LANA_NAME_MAX: u32 = 31;
/// Longest "key=value" property string, without the terminating NUL (filters are long).
pub const LANA_PROP_MAX: u32 = 8191;

/// Default address family number of AF_LANA (19: PF_ECONET, retired from Linux); the
/// `sock_family` parameter of lana_core changes it.
pub const LANA_AF_DEFAULT: i32 = 19;
/// Largest message one `send` on an AF_LANA socket takes (bytes).
pub const LANA_SOCK_MAX_MSG: u32 = 1500;
/// EtherType an eth block writes on packets that come without a link header (from
/// sockets) when its `ethertype` is 0 (0x88b5: IEEE local experimental).
pub const LANA_DEFAULT_ETHERTYPE: u32 = 0x88b5;
