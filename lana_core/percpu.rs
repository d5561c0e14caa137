// SPDX-License-Identifier: GPL-2.0
//! [`PerCpuCounters`]: packet, byte and drop counts kept per CPU, so the hot path adds to
//! CPU-local memory with plain (non-atomic) instructions.

use crate::ffi;
use core::ptr::NonNull;
use kernel::prelude::*;

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct Slot {
    packets: u64,
    bytes: u64,
    drops: u64,
}

/// This CPU's per-CPU offset, taken once per packet by the engine so that per-hop counter
/// updates are plain arithmetic and stores.
///
/// # Invariants
///
/// Valid only on the CPU it was taken on, while bottom halves stay disabled (the engine
/// holds it only inside one packet's processing).
#[derive(Clone, Copy)]
pub(crate) struct CpuOffset(usize);

impl CpuOffset {
    /// This CPU's offset. The caller must keep bottom halves disabled while using it.
    #[inline]
    pub(crate) fn this_cpu() -> Self {
        // SAFETY: reads this CPU's per-CPU offset; no preconditions.
        CpuOffset(unsafe { ffi::lana_this_cpu_offset() })
    }
}

/// A sum of [`PerCpuCounters`] over all CPUs.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    /// Packets counted.
    pub packets: u64,
    /// Bytes counted.
    pub bytes: u64,
    /// Drops counted.
    pub drops: u64,
}

/// Counters with one slot per possible CPU.
///
/// Writers must not be preempted or interrupted by another writer on the same CPU: the engine
/// runs with bottom halves disabled (softirq or `local_bh_disable`), which guarantees it.
/// Readers sum the slots; a sum taken while packets flow is a snapshot, each slot exact.
///
/// # Invariants
///
/// `pcpu` is a live per-CPU allocation of one `Slot`, freed only by `drop`.
pub struct PerCpuCounters {
    pcpu: NonNull<c_void>,
}

// SAFETY: each CPU writes only its own slot (see the type's docs); reads of other CPUs'
// 64-bit slots are single aligned loads on the 64-bit machines LANA builds for.
unsafe impl Send for PerCpuCounters {}
// SAFETY: as above.
unsafe impl Sync for PerCpuCounters {}

impl PerCpuCounters {
    /// Zeroed counters.
    pub fn new() -> Result<Self> {
        // SAFETY: plain allocation; __alloc_percpu returns zeroed memory or NULL.
        let p = unsafe { ffi::lana_percpu_alloc(core::mem::size_of::<Slot>()) };
        // INVARIANT: a non-NULL result is a live per-CPU allocation of a Slot.
        NonNull::new(p).map(|pcpu| Self { pcpu }).ok_or(ENOMEM)
    }

    #[inline]
    fn this_cpu(&self) -> *mut Slot {
        // SAFETY: `pcpu` is live (type invariant).
        unsafe { ffi::lana_percpu_this(self.pcpu.as_ptr()).cast::<Slot>() }
    }

    /// Count one packet of `bytes` bytes on this CPU.
    #[inline]
    pub fn add(&self, bytes: u32) {
        let s = self.this_cpu();
        // SAFETY: `s` is this CPU's slot; the caller cannot be preempted by another writer
        // (type docs), so no other reference to the slot is live.
        unsafe {
            (*s).packets = (*s).packets.wrapping_add(1);
            (*s).bytes = (*s).bytes.wrapping_add(bytes as u64);
        }
    }

    /// [`Self::add`] with an offset the caller already took (the engine, once per packet).
    #[inline]
    pub(crate) fn add_on(&self, cpu: CpuOffset, bytes: u32) {
        let s = (self.pcpu.as_ptr() as usize).wrapping_add(cpu.0) as *mut Slot;
        // SAFETY: `pcpu` plus this CPU's offset is this CPU's slot (the per-CPU allocator's
        // layout, as this_cpu_ptr computes it); `cpu` is valid here (CpuOffset invariant),
        // and no other writer runs on this CPU.
        unsafe {
            (*s).packets = (*s).packets.wrapping_add(1);
            (*s).bytes = (*s).bytes.wrapping_add(bytes as u64);
        }
    }

    /// Count one drop on this CPU.
    #[inline]
    pub fn add_drop(&self) {
        let s = self.this_cpu();
        // SAFETY: as in `add`.
        unsafe { (*s).drops = (*s).drops.wrapping_add(1) };
    }

    fn for_each_slot(&self, mut f: impl FnMut(*mut Slot)) {
        // SAFETY: reading a global.
        let n = unsafe { ffi::lana_nr_cpu_ids() };
        for cpu in 0..n {
            // SAFETY: `pcpu` is live; the helper returns NULL for impossible CPUs.
            let s = unsafe { ffi::lana_percpu_cpu(self.pcpu.as_ptr(), cpu) }.cast::<Slot>();
            if !s.is_null() {
                f(s);
            }
        }
    }

    /// The sum over all CPUs.
    pub fn sum(&self) -> Totals {
        let mut t = Totals::default();
        self.for_each_slot(|s| {
            // SAFETY: `s` is a slot of a live allocation; a racing writer on its own CPU
            // changes it one aligned 64-bit word at a time.
            let v = unsafe { core::ptr::read_volatile(s) };
            t.packets = t.packets.wrapping_add(v.packets);
            t.bytes = t.bytes.wrapping_add(v.bytes);
            t.drops = t.drops.wrapping_add(v.drops);
        });
        t
    }

    /// Add `t` to this CPU's slot (used to carry counts over from a replaced block).
    pub fn add_totals(&self, t: Totals) {
        // Configuration context: keep the slot ours while we write it.
        let _bh = BhGuard::new();
        let s = self.this_cpu();
        // SAFETY: bottom halves are off, so no writer on this CPU runs concurrently.
        unsafe {
            (*s).packets = (*s).packets.wrapping_add(t.packets);
            (*s).bytes = (*s).bytes.wrapping_add(t.bytes);
            (*s).drops = (*s).drops.wrapping_add(t.drops);
        }
    }

    /// Zero every slot. Packets counted on other CPUs while this runs may survive the reset.
    pub fn reset(&self) {
        self.for_each_slot(|s| {
            // SAFETY: slot of a live allocation; see `reset`'s docs for the race.
            unsafe { core::ptr::write_volatile(s, Slot::default()) };
        });
    }
}

impl Drop for PerCpuCounters {
    fn drop(&mut self) {
        // SAFETY: `pcpu` is live and no one else uses it any more (we are being dropped).
        unsafe { ffi::lana_percpu_free(self.pcpu.as_ptr()) };
    }
}

/// Bottom halves disabled on this CPU for the guard's lifetime.
struct BhGuard(());

impl BhGuard {
    fn new() -> Self {
        // SAFETY: always allowed in process context; undone in `drop`.
        unsafe { ffi::lana_bh_disable() };
        BhGuard(())
    }
}

impl Drop for BhGuard {
    fn drop(&mut self) {
        // SAFETY: paired with the local_bh_disable in `new`.
        unsafe { ffi::lana_bh_enable() };
    }
}
