// SPDX-License-Identifier: GPL-2.0
//! LANA core: runtime-reconfigurable protocol stacks made of functional blocks (FBs).
//!
//! This crate is `lana_core.ko`; the paper's concepts are its files:
//! - [`block`]: what a functional block is (the [`Block`] trait FB modules implement);
//!   [`types`]: the block types FB modules register ([`Registration`], [`fb_module!`]);
//! - `config` and `commands`: the blocks and their bindings, changed by commands under one
//!   mutex; `instance`: a block with its identity and counts; `space`: a network
//!   namespace's graph (its names, accounting and generation; gone with the namespace);
//! - `graph`: the immutable snapshot of the configuration the packet processing engine
//!   (`engine`) walks, published with one RCU pointer swap, with no lock and no atomic per
//!   hop; `fate`: how every packet ends; `mechanism`: where the engine runs;
//! - `notifier`: the notifier chains that carry configuration and link events to blocks and
//!   their neighbours;
//! - `netlink` (and `nlmsg`): the generic-netlink family `lana` that `fbctl` speaks;
//! - [`netdev`]: the virtual link (eth blocks' ports); `socket`: AF_LANA and the `socket`
//!   block.
//!
//! FB modules see only the block API, re-exported in [`prelude`]. Everything that touches C
//! is in the FFI layer: `ffi` (declarations, with one C file per subsystem) and the safe
//! abstractions that wrap it ([`packet`], [`percpu`], [`rcu`], `notifier`, `nlmsg`,
//! [`netdev`], [`bpf`]).

use kernel::prelude::*;

mod binding;
pub mod block;
pub mod bpf;
mod commands;
mod config;
mod engine;
pub mod fate;
mod ffi;
mod generation;
mod graph;
mod heapsort;
mod instance;
mod mechanism;
mod msg;
pub mod name;
pub mod netdev;
mod netlink;
mod nlmsg;
mod notifier;
pub mod packet;
mod params;
pub mod percpu;
pub mod props;
pub mod rcu;
mod runtime;
mod socket;
mod space;
mod txn;
pub mod types;
pub mod uapi;

pub use block::{
    Block, Direction, Entry, Event, KeyInfo, NeighbourEvent, NewInstance, Reason, Verdict,
};
pub use fate::{Consumed, DropReason};
pub use packet::Packet;
pub use percpu::{PacketContext, PerCpuCounters};
pub use props::{Kind, PropSink, PropValue};
pub use types::Registration;

/// What a block module needs: `use lana::prelude::*;`.
pub mod prelude {
    pub use crate::block::{
        Block, Direction, Entry, Event, KeyInfo, NeighbourEvent, NewInstance, Reason, Verdict,
    };
    pub use crate::fate::{Consumed, DropReason};
    pub use crate::packet::Packet;
    pub use crate::percpu::{PacketContext, PerCpuCounters};
    pub use crate::props::{Kind, PropSink, PropValue};
    pub use kernel::prelude::*;
}

module! {
    type: LanaCore,
    name: "lana_core",
    authors: ["LANA developers"],
    description: "LANA: runtime-reconfigurable protocol stacks of functional blocks",
    license: "GPL",
}

/// The loaded core: every registration it made, dropped in reverse order of setup (fields
/// drop in declaration order): commands stop first, the deferred drops finish last.
struct LanaCore {
    _netlink: netlink::Family,
    _namespaces: space::PernetOps,
    _blocks: commands::Blocks,
    _socket_type: Registration,
    _sockets: socket::Family,
    _netdev: netdev::Notifier,
    _threads: mechanism::Threads,
    _engine: engine::Running,
    _defer: rcu::Deferrals,
    _types: types::Registry,
}

impl kernel::Module for LanaCore {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let types = types::Registry::new();
        let blocks = commands::Blocks::new();
        let defer = rcu::Deferrals::start()?;
        let engine = engine::Running::start()?;
        let threads = mechanism::Threads::start()?;
        let netdev = netdev::Notifier::register()?;
        let sockets = socket::Family::register()?;
        let socket_type = Registration::new::<socket::SocketBlock>()?;
        let namespaces = space::PernetOps::register()?;
        let core = LanaCore {
            _netlink: netlink::Family::register()?,
            _namespaces: namespaces,
            _blocks: blocks,
            _socket_type: socket_type,
            _sockets: sockets,
            _netdev: netdev,
            _threads: threads,
            _engine: engine,
            _defer: defer,
            _types: types,
        };
        pr_info!(
            "loaded (max_hops={}, engine: {}, AF_LANA={})\n",
            params::max_hops(),
            mechanism::name(),
            socket::family()
        );
        Ok(core)
    }
}

impl Drop for LanaCore {
    fn drop(&mut self) {
        // the fields unregister themselves (see the struct)
        pr_info!("unloading\n");
    }
}
