// SPDX-License-Identifier: GPL-2.0
//! The core's tunables: module parameters an admin may change at runtime in
//! `/sys/module/lana_core/parameters/` (the kernel crate's `module!` parameters are
//! load-time only, so they live in `params.c`).

use crate::ffi;
use core::sync::atomic::Ordering;

/// Blocks one packet's path may visit before the engine drops it (`max_hops`).
#[inline]
pub(crate) fn max_hops() -> u32 {
    // SAFETY: a module parameter: a static that lives as long as the module, an `unsigned
    // int` in C (the layout of `AtomicU32`) that sysfs writes whole.
    unsafe { ffi::lana_param_max_hops.load(Ordering::Relaxed) }
}

/// Copies one packet's fan-outs may make in all (`max_copies`): with `max_hops` it bounds the
/// work one packet can cause, whatever the graph.
#[inline]
pub(crate) fn max_copies() -> u32 {
    // SAFETY: as in `max_hops`.
    unsafe { ffi::lana_param_max_copies.load(Ordering::Relaxed) }
}

/// The most blocks the graphs of all namespaces may hold (`max_blocks`).
pub(crate) fn max_blocks() -> u32 {
    // SAFETY: reads a module parameter.
    unsafe { ffi::lana_max_blocks() }
}

/// The most blocks the graph of a container's namespace may hold (`max_ns_blocks`).
pub(crate) fn max_ns_blocks() -> u32 {
    // SAFETY: reads a module parameter.
    unsafe { ffi::lana_max_ns_blocks() }
}

/// Change `max_hops` (from `fbctl engine max_hops=N`, range checked by the policy).
pub(crate) fn set_max_hops(n: u32) {
    // SAFETY: stores the parameter as sysfs would (WRITE_ONCE).
    unsafe { ffi::lana_set_max_hops(n) }
}
