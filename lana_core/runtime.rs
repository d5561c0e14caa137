// SPDX-License-Identifier: GPL-2.0
//! The per-block runtime view (`fbctl stats --runtime`, like VPP's `show runtime`): calls into
//! each block and the time they took, so users see where a packet's cost goes.
//!
//! It is off by default and switched at runtime (`fbctl engine runtime=on`) through a static
//! key: off, a called block costs the packet path one patched-out jump; pass-through blocks
//! are never called, so they show packets but no calls.

use crate::config::Config;
use crate::ffi;
use crate::percpu::{CpuOffset, PerCpu, Zeroed};
use kernel::prelude::*;

/// Calls into one block and the nanoseconds they took, on one CPU.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct Runtime {
    pub(crate) calls: u64,
    pub(crate) ns: u64,
}

// SAFETY: two u64s; zero is valid.
unsafe impl Zeroed for Runtime {}

/// One block's runtime counters, per CPU.
pub(crate) struct BlockRuntime(PerCpu<Runtime>);

impl BlockRuntime {
    /// Zeroed counters.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self(PerCpu::new()?))
    }

    /// Count one call of `ns` nanoseconds on this CPU.
    #[inline]
    pub(crate) fn add_on(&self, cpu: CpuOffset, ns: u64) {
        // SAFETY: `cpu` is this CPU's offset with bottom halves off (CpuOffset invariant):
        // this CPU's copy, and no other writer runs on it.
        let r = unsafe { &mut *self.0.on(cpu) };
        r.calls = r.calls.wrapping_add(1);
        r.ns = r.ns.wrapping_add(ns);
    }

    /// The sums over all CPUs.
    pub(crate) fn sum(&self) -> Runtime {
        self.0.fold(Runtime::default(), |a, r| Runtime {
            calls: a.calls.wrapping_add(r.calls),
            ns: a.ns.wrapping_add(r.ns),
        })
    }

    /// Start counting from zero.
    pub(crate) fn reset(&self) {
        self.0.reset()
    }
}

/// Whether the view is on: a static branch, a no-op while it is off.
#[inline(always)]
pub(crate) fn enabled() -> bool {
    // SAFETY: `lana_static_keys` is a static defined in C (`params.c`) whose `runtime` field
    // is a `struct static_key_false`, as the macro needs.
    unsafe { kernel::static_branch_unlikely!(ffi::lana_static_keys, ffi::LanaStaticKeys, runtime) }
}

/// Whether the view is on (for the control plane).
pub(crate) fn is_on() -> bool {
    // SAFETY: reads the static key's count.
    unsafe { ffi::lana_runtime_on() }
}

/// Turn the view on or off (process context, under the configuration lock: patching the
/// branch sleeps). Turning it on starts every block's counts from zero.
pub(crate) fn switch(cfg: &Config, on: bool) {
    if on && !is_on() {
        // Off, nothing writes these counters but a call timed just as it went off, on
        // another CPU: its few nanoseconds may survive the reset.
        for (_, n) in cfg.nodes() {
            n.inst.runtime.reset();
        }
    }
    // SAFETY: process context (netlink command), as `static_branch_enable` needs.
    unsafe { ffi::lana_runtime_set(on) }
}

/// The CPU's clock, for timing a call.
#[inline]
pub(crate) fn now_ns() -> u64 {
    // SAFETY: `local_clock` may be called from any context.
    unsafe { ffi::lana_now_ns() }
}
