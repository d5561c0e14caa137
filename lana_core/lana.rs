// SPDX-License-Identifier: GPL-2.0
//! LANA core: runtime-reconfigurable protocol stacks made of functional blocks (FBs).
//!
//! This crate is `lana_core.ko`. It holds
//! - the FB type registry, filled by FB modules on insertion ([`Registration`]),
//! - the blocks and their bindings, changed only by configuration commands under one
//!   mutex ([`config`]),
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
pub mod config;
pub mod engine;
mod ffi;
pub mod graph;
mod kunit;
mod msg;
pub mod name;
pub mod netdev;
pub mod netlink;
pub mod notifier;
pub mod packet;
pub mod percpu;
pub mod props;
pub mod rcu;
pub mod socket;
pub mod types;
pub mod uapi;

pub use block::{Consumed, Direction, DropReason, Event, FbType, FunctionalBlock, KeyInfo, Verdict};
pub use packet::Packet;
pub use percpu::{PacketContext, PerCpuCounters};
pub use props::{PropSink, PropValue};
pub use types::Registration;

module! {
    type: LanaCore,
    name: "lana_core",
    authors: ["LANA developers"],
    description: "LANA: runtime-reconfigurable protocol stacks of functional blocks",
    license: "GPL",
}

struct LanaCore {
    /// The core's own `socket` block type; unregistered in `drop`, before the deferred-drop
    /// machinery it uses goes away.
    socket_type: Option<Registration>,
}

impl kernel::Module for LanaCore {
    fn init(module: &'static ThisModule) -> Result<Self> {
        config::init();
        // SAFETY: module init, before anything defers a drop.
        kernel::error::to_result(unsafe { ffi::lana_defer_init() })?;
        if let Err(e) = engine::start() {
            // SAFETY: paired with the successful init above.
            unsafe { ffi::lana_defer_exit() };
            return Err(e);
        }
        if let Err(e) = netdev::init() {
            engine::stop();
            // SAFETY: as above.
            unsafe { ffi::lana_defer_exit() };
            return Err(e);
        }
        if let Err(e) = socket::register_family() {
            netdev::exit();
            engine::stop();
            // SAFETY: as above.
            unsafe { ffi::lana_defer_exit() };
            return Err(e);
        }
        let socket_type = match Registration::new(&socket::SOCKET_TYPE, module) {
            Ok(r) => r,
            Err(e) => {
                socket::unregister_family();
                netdev::exit();
                engine::stop();
                // SAFETY: as above.
                unsafe { ffi::lana_defer_exit() };
                return Err(e);
            }
        };
        if let Err(e) = netlink::register_family() {
            drop(socket_type);
            socket::unregister_family();
            netdev::exit();
            engine::stop();
            // SAFETY: as above.
            unsafe { ffi::lana_defer_exit() };
            return Err(e);
        }
        pr_info!(
            "loaded (max_hops={}, engine: {}, AF_LANA={})\n",
            engine::max_hops(),
            engine::mechanism(),
            socket::family()
        );
        Ok(LanaCore { socket_type: Some(socket_type) })
    }
}

impl Drop for LanaCore {
    fn drop(&mut self) {
        // No FB module can be loaded here (each holds a reference on us), so no type is
        // registered; instances of core-only types cannot exist either.
        netlink::unregister_family();
        config::flush_all();
        drop(self.socket_type.take());
        socket::unregister_family();
        netdev::exit();
        engine::stop();
        // SAFETY: module exit; nothing defers drops any more.
        unsafe { ffi::lana_defer_exit() };
        pr_info!("unloaded\n");
    }
}
