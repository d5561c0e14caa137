// SPDX-License-Identifier: GPL-2.0
//! A block instance: the block a type made, with its identity, the engine's counts for it and
//! its notifier chain. Owned by the configuration while it is there; graph snapshots point to
//! it, so it is dropped only after a grace period once it left.

use crate::name::Name;
use crate::notifier::EventChain;
use crate::percpu::PerCpuCounters;
use crate::runtime::BlockRuntime;
use crate::space::Space;
use crate::types::{DynBlock, FbType};

/// A live block.
pub(crate) struct Instance {
    pub(crate) id: u32,
    pub(crate) name: Name,
    pub(crate) ty: &'static FbType,
    /// Packets, bytes and drops of this block, counted by the engine.
    pub(crate) stats: PerCpuCounters,
    /// Calls into the block and their time, while the runtime view is on.
    pub(crate) runtime: BlockRuntime,
    pub(crate) chain: EventChain,
    /// The namespace's space the block belongs to.
    pub(crate) space: kernel::sync::Arc<Space>,
    pub(crate) fb: kernel::alloc::KBox<dyn DynBlock>,
}
