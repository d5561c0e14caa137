// SPDX-License-Identifier: GPL-2.0
//! The core's tunables: module parameters an admin may change at runtime in
//! `/sys/module/lana_core/parameters/` (the kernel crate's `module!` parameters are
//! load-time only, so they live in `params.c`).

use crate::ffi;

/// Blocks one packet's path may visit before the engine drops it (`max_hops`).
#[inline]
pub(crate) fn max_hops() -> u32 {
    // SAFETY: a module parameter: a static that lives as long as the module; sysfs writes it
    // whole, so a volatile read (READ_ONCE) sees the old value or the new one.
    unsafe { core::ptr::read_volatile(&raw const ffi::lana_param_max_hops) }
}

/// Copies one packet's fan-outs may make in all (`max_copies`): with `max_hops` it bounds the
/// work one packet can cause, whatever the graph.
#[inline]
pub(crate) fn max_copies() -> u32 {
    // SAFETY: as in `max_hops`.
    unsafe { core::ptr::read_volatile(&raw const ffi::lana_param_max_copies) }
}

/// The most blocks a graph may hold (`max_blocks`).
pub(crate) fn max_blocks() -> u32 {
    // SAFETY: reads a module parameter.
    unsafe { ffi::lana_max_blocks() }
}
