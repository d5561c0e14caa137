// SPDX-License-Identifier: GPL-2.0
//! LANA core: runtime-reconfigurable protocol stacks made of functional blocks (FBs).
//!
//! This crate is `lana_core.ko`. It holds
//! - the FB type registry, filled by FB modules on insertion ([`Registration`]),
//! - the instances and their bindings, changed only by configuration commands under one
//!   mutex ([`registry`]),
//! - the packet processing engine ([`engine`]), which walks an immutable snapshot of the
//!   graph ([`graph`]) published with one RCU pointer swap, with no lock and no atomic per hop,
//! - the generic-netlink family `lana` that `fbctl` speaks ([`netlink`]),
//! - the notifier chains that deliver configuration events to FBs ([`notifier`]).
//!
//! FB modules implement [`FunctionalBlock`] in safe Rust. Everything that touches C is in the
//! FFI layer: [`ffi`] (declarations), [`packet`], [`percpu`], [`rcu`], [`notifier`],
//! [`netlink`], [`netdev`].

use kernel::prelude::*;

pub mod block;
pub mod bpf;
pub mod engine;
mod ffi;
pub mod graph;
mod kunit;
pub mod name;
pub mod netdev;
pub mod netlink;
pub mod notifier;
pub mod packet;
pub mod percpu;
pub mod props;
pub mod rcu;
pub mod registry;
pub mod socket;
pub mod uapi;

pub use block::{Direction, Event, FbType, FunctionalBlock, KeyInfo, Verdict};
pub use packet::Packet;
pub use percpu::PerCpuCounters;
pub use props::{PropSink, PropValue};
pub use registry::Registration;

module! {
    type: LanaCore,
    name: "lana_core",
    authors: ["LANA developers"],
    description: "LANA: runtime-reconfigurable protocol stacks of functional blocks",
    license: "GPL",
}

struct LanaCore {
    _socket_type: Registration,
}

impl kernel::Module for LanaCore {
    fn init(module: &'static ThisModule) -> Result<Self> {
        registry::init();
        engine::start()?;
        if let Err(e) = netdev::init() {
            engine::stop();
            return Err(e);
        }
        if let Err(e) = socket::register_family() {
            netdev::exit();
            engine::stop();
            return Err(e);
        }
        let socket_type = match Registration::new(&socket::SOCKET_TYPE, module) {
            Ok(r) => r,
            Err(e) => {
                socket::unregister_family();
                netdev::exit();
                engine::stop();
                return Err(e);
            }
        };
        if let Err(e) = netlink::register_family() {
            drop(socket_type);
            socket::unregister_family();
            netdev::exit();
            engine::stop();
            return Err(e);
        }
        pr_info!(
            "loaded (max_hops={}, engine: {}, AF_LANA={})\n",
            engine::max_hops(),
            engine::mechanism(),
            socket::family()
        );
        Ok(LanaCore { _socket_type: socket_type })
    }
}

impl Drop for LanaCore {
    fn drop(&mut self) {
        // No FB module can be loaded here (each holds a reference on us), so no type is
        // registered; instances of core-only types cannot exist either.
        netlink::unregister_family();
        registry::flush_all();
        socket::unregister_family();
        netdev::exit();
        engine::stop();
        pr_info!("unloaded\n");
    }
}
