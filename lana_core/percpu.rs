// SPDX-License-Identifier: GPL-2.0
//! Per-CPU memory: [`PerCpu`] holds one `T` per possible CPU, so the packet path updates
//! CPU-local memory with plain (non-atomic) instructions; [`PerCpuCounters`] is the packet,
//! byte and drop count every block has.

use crate::ffi;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::prelude::*;

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
    ///
    /// On x86-64 (SMP) one `%gs`-relative load of the kernel's `this_cpu_off`, as C's
    /// `this_cpu_ptr` does it inline; elsewhere a call.
    #[inline(always)]
    pub(crate) fn this_cpu() -> Self {
        #[cfg(all(target_arch = "x86_64", CONFIG_SMP))]
        {
            let off: usize;
            // SAFETY: `%gs` points to this CPU's per-CPU area in the kernel, where
            // `this_cpu_off` holds that area's offset (`this_cpu_ptr(p) == p + this_cpu_off`);
            // the load changes nothing and needs no stack.
            unsafe {
                core::arch::asm!(
                    "mov {off}, qword ptr gs:[rip + {sym}]",
                    off = out(reg) off,
                    sym = sym ffi::this_cpu_off,
                    options(nostack, readonly, preserves_flags),
                )
            };
            CpuOffset(off)
        }
        #[cfg(not(all(target_arch = "x86_64", CONFIG_SMP)))]
        // SAFETY: reads this CPU's per-CPU offset; no preconditions.
        CpuOffset(unsafe { ffi::lana_this_cpu_offset() })
    }
}

/// Plain data that may live in per-CPU memory: all-zero bytes are a valid value and copies
/// are plain loads.
///
/// # Safety
///
/// The all-zero bit pattern must be a valid `Self`.
pub unsafe trait Zeroed: Copy + Send + 'static {}

// SAFETY: zero is a valid u64.
unsafe impl Zeroed for u64 {}
// SAFETY: arrays of zeroable values are zeroable.
unsafe impl<T: Zeroed, const N: usize> Zeroed for [T; N] {}

/// One `T` per possible CPU, zeroed at allocation.
///
/// Each CPU writes only its own copy, with bottom halves disabled (softirq, a PPE thread with
/// bottom halves off, or a configuration path that disables them), so writers never race.
/// Readers of other CPUs' copies see each aligned 64-bit word whole.
///
/// # Invariants
///
/// `pcpu` is a live per-CPU allocation of one `T`, freed only by `drop`.
pub struct PerCpu<T: Zeroed> {
    pcpu: NonNull<c_void>,
    _t: PhantomData<T>,
}

// SAFETY: each CPU writes only its own copy (type docs); `T: Send`.
unsafe impl<T: Zeroed> Send for PerCpu<T> {}
// SAFETY: as above.
unsafe impl<T: Zeroed> Sync for PerCpu<T> {}

impl<T: Zeroed> PerCpu<T> {
    /// Zeroed memory on every possible CPU.
    pub fn new() -> Result<Self> {
        // SAFETY: plain allocation; __alloc_percpu returns zeroed memory or NULL.
        let p = unsafe {
            ffi::lana_percpu_alloc(core::mem::size_of::<T>(), core::mem::align_of::<T>())
        };
        // INVARIANT: a non-NULL result is a live per-CPU allocation of a T.
        NonNull::new(p)
            .map(|pcpu| Self {
                pcpu,
                _t: PhantomData,
            })
            .ok_or(ENOMEM)
    }

    /// This CPU's copy, at an offset the engine took once for the packet.
    #[inline]
    pub(crate) fn on(&self, cpu: CpuOffset) -> *mut T {
        // `pcpu` plus this CPU's offset is this CPU's copy (the per-CPU allocator's layout,
        // as this_cpu_ptr computes it).
        (self.pcpu.as_ptr() as usize).wrapping_add(cpu.0) as *mut T
    }

    /// Change this CPU's copy with `f`. Bottom halves are disabled around it, so this is
    /// usable from any context but the hard-interrupt one.
    pub(crate) fn update(&self, f: impl FnOnce(&mut T)) {
        let _bh = BhGuard::new();
        let cpu = CpuOffset::this_cpu();
        // SAFETY: this CPU's copy; bottom halves are off, so no other writer runs on this CPU
        // and the CPU cannot change under us.
        f(unsafe { &mut *self.on(cpu) });
    }

    /// Visit every possible CPU's copy (a racing writer changes it one word at a time).
    pub fn fold<A>(&self, init: A, mut f: impl FnMut(A, T) -> A) -> A {
        // SAFETY: `nr_cpu_ids` is set once during boot, before modules load.
        let n = unsafe { bindings::nr_cpu_ids };
        let mut acc = init;
        for cpu in 0..n {
            // SAFETY: `pcpu` is live; the helper returns NULL for impossible CPUs.
            let p = unsafe { ffi::lana_percpu_cpu(self.pcpu.as_ptr(), cpu) }.cast::<T>();
            if !p.is_null() {
                // SAFETY: a copy of a live allocation; racing writers store aligned words.
                acc = f(acc, unsafe { core::ptr::read_volatile(p) });
            }
        }
        acc
    }

    /// Zero every CPU's copy. Counts a CPU adds while this runs may survive.
    pub fn reset(&self) {
        // SAFETY: `nr_cpu_ids` is set once during boot, before modules load.
        let n = unsafe { bindings::nr_cpu_ids };
        for cpu in 0..n {
            // SAFETY: as in `fold`.
            let p = unsafe { ffi::lana_percpu_cpu(self.pcpu.as_ptr(), cpu) }.cast::<T>();
            if !p.is_null() {
                // SAFETY: a copy of a live allocation; zero is a valid T (`Zeroed`).
                unsafe { core::ptr::write_bytes(p, 0, 1) };
            }
        }
    }
}

impl<T: Zeroed> Drop for PerCpu<T> {
    fn drop(&mut self) {
        // SAFETY: `pcpu` is live and no one else uses it any more (we are being dropped).
        unsafe { bindings::free_percpu(self.pcpu.as_ptr()) };
    }
}

/// Proof that this code runs in the packet path: bottom halves are disabled and a read-side
/// RCU section is held, on one CPU, for the token's lifetime. Only the engine makes one; it
/// hands it to blocks' `receive`, so functions that need that context can ask for it.
pub struct PacketContext {
    pub(crate) cpu: CpuOffset,
    _not_send: PhantomData<*mut ()>,
}

impl PacketContext {
    /// # Safety
    ///
    /// Bottom halves must be disabled (which makes this an RCU read-side section too) for
    /// the token's whole lifetime, on this CPU.
    #[inline]
    pub(crate) unsafe fn new() -> Self {
        Self {
            cpu: CpuOffset::this_cpu(),
            _not_send: PhantomData,
        }
    }
}

/// Packet, byte and drop counts, one set per CPU.
#[repr(C)]
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    /// Packets counted.
    pub packets: u64,
    /// Bytes counted.
    pub bytes: u64,
    /// Drops counted.
    pub drops: u64,
}

// SAFETY: three u64s; zero is valid.
unsafe impl Zeroed for Totals {}

/// Where a [`PerCpuCounters`] counts, without owning it: one pointer, for the engine's
/// compiled graph (counting at a hop is then one load less).
///
/// # Invariants
///
/// `pcpu` is the per-CPU allocation of a [`PerCpuCounters`] (which may since be gone: using
/// it needs the caller to know it is alive).
#[derive(Clone, Copy)]
pub(crate) struct CountersRef {
    pcpu: NonNull<c_void>,
}

impl CountersRef {
    /// [`PerCpuCounters::add_on`].
    ///
    /// # Safety
    ///
    /// The counters this was taken from are alive; `cpu` is this CPU's offset with bottom
    /// halves off (as [`CpuOffset`] requires).
    #[inline]
    pub(crate) unsafe fn add_on(self, cpu: CpuOffset, bytes: u64) {
        let p = (self.pcpu.as_ptr() as usize).wrapping_add(cpu.0) as *mut Totals;
        // SAFETY: this CPU's copy of live counters (function docs), with no other writer.
        let s = unsafe { &mut *p };
        s.packets = s.packets.wrapping_add(1);
        s.bytes = s.bytes.wrapping_add(bytes);
    }

    /// Count one drop (the engine, at a hop).
    ///
    /// # Safety
    ///
    /// As for [`CountersRef::add_on`].
    #[inline]
    pub(crate) unsafe fn add_drop_on(self, cpu: CpuOffset) {
        let p = (self.pcpu.as_ptr() as usize).wrapping_add(cpu.0) as *mut Totals;
        // SAFETY: as in `add_on`.
        let s = unsafe { &mut *p };
        s.drops = s.drops.wrapping_add(1);
    }
}

/// Per-CPU packet/byte/drop counters, written in the packet path without atomics.
pub struct PerCpuCounters(PerCpu<Totals>);

impl PerCpuCounters {
    /// Zeroed counters.
    pub fn new() -> Result<Self> {
        Ok(Self(PerCpu::new()?))
    }

    /// Count one packet of `bytes` bytes on this CPU, in the packet path.
    #[inline]
    pub fn add(&self, ctx: &PacketContext, bytes: u32) {
        self.add_on(ctx.cpu, bytes);
    }

    /// Where these counters count, for the compiled graph.
    pub(crate) fn as_counters_ref(&self) -> CountersRef {
        // INVARIANT: our per-CPU allocation.
        CountersRef { pcpu: self.0.pcpu }
    }

    /// [`Self::add`] for the engine, with an offset it took once for the packet.
    #[inline]
    pub(crate) fn add_on(&self, cpu: CpuOffset, bytes: u32) {
        // SAFETY: `cpu` is this CPU's offset and bottom halves are off (CpuOffset
        // invariant), so this is this CPU's copy and no other writer runs.
        let s = unsafe { &mut *self.0.on(cpu) };
        s.packets = s.packets.wrapping_add(1);
        s.bytes = s.bytes.wrapping_add(u64::from(bytes));
    }

    /// Count one drop on this CPU, in the packet path.
    #[inline]
    pub fn add_drop(&self, ctx: &PacketContext) {
        // SAFETY: as in `add_on` (`ctx` holds this CPU's offset, bottom halves off).
        let s = unsafe { &mut *self.0.on(ctx.cpu) };
        s.drops = s.drops.wrapping_add(1);
    }

    /// The sum over all CPUs.
    pub fn sum(&self) -> Totals {
        self.0.fold(Totals::default(), |a, t| Totals {
            packets: a.packets.wrapping_add(t.packets),
            bytes: a.bytes.wrapping_add(t.bytes),
            drops: a.drops.wrapping_add(t.drops),
        })
    }

    /// Add `t` to this CPU's counts (to carry counts over from a replaced block).
    pub fn add_totals(&self, t: Totals) {
        self.0.update(|s| {
            s.packets = s.packets.wrapping_add(t.packets);
            s.bytes = s.bytes.wrapping_add(t.bytes);
            s.drops = s.drops.wrapping_add(t.drops);
        });
    }

    /// Zero the counts. Packets counted on other CPUs while this runs may survive.
    pub fn reset(&self) {
        self.0.reset();
    }
}

/// A row of [`Totals`] per CPU, one per path of the compiled graph that skips pass-through
/// blocks (`graph.rs`): the engine counts a packet once for the whole path, and the blocks it
/// skipped are credited at read time.
///
/// # Invariants
///
/// `pcpu` is a live per-CPU allocation of `n` `Totals`, freed only by `drop` (dangling and
/// never used when `n` is 0).
pub(crate) struct PerCpuRow {
    pcpu: NonNull<c_void>,
    n: usize,
}

// SAFETY: each CPU writes only its own copy (as `PerCpu`).
unsafe impl Send for PerCpuRow {}
// SAFETY: as above.
unsafe impl Sync for PerCpuRow {}

impl PerCpuRow {
    /// The most counters one row holds: the per-CPU allocator serves at most 32 KiB at once.
    pub(crate) const MAX: usize = 1024;

    /// `n` zeroed counters (at most [`Self::MAX`]).
    pub(crate) fn new(n: usize) -> Result<Self> {
        if n == 0 {
            // INVARIANT: empty, never used.
            return Ok(Self {
                pcpu: NonNull::dangling(),
                n,
            });
        }
        if n > Self::MAX {
            return Err(EINVAL);
        }
        // SAFETY: plain allocation; the result is zeroed memory or NULL.
        let p = unsafe {
            ffi::lana_percpu_alloc(
                n * core::mem::size_of::<Totals>(),
                core::mem::align_of::<Totals>(),
            )
        };
        // INVARIANT: a non-NULL result holds `n` Totals per CPU.
        NonNull::new(p).map(|pcpu| Self { pcpu, n }).ok_or(ENOMEM)
    }

    /// Where counter `i` counts, for the engine (`None` past the end).
    pub(crate) fn counters_ref(&self, i: usize) -> Option<CountersRef> {
        if i >= self.n {
            return None;
        }
        let p = (self.pcpu.as_ptr() as usize).wrapping_add(i * core::mem::size_of::<Totals>());
        // INVARIANT: counter `i` of our live allocation (a per-CPU address: adding a CPU's
        // offset gives that CPU's copy, as for the whole allocation).
        NonNull::new(p as *mut c_void).map(|pcpu| CountersRef { pcpu })
    }

    /// Counter `i` summed over all CPUs (zero past the end).
    pub(crate) fn sum(&self, i: usize) -> Totals {
        let mut t = Totals::default();
        if i >= self.n {
            return t;
        }
        // SAFETY: `nr_cpu_ids` is set once during boot, before modules load.
        let n = unsafe { bindings::nr_cpu_ids };
        for cpu in 0..n {
            // SAFETY: `pcpu` is live (invariant); the helper returns NULL for impossible CPUs.
            let p = unsafe { ffi::lana_percpu_cpu(self.pcpu.as_ptr(), cpu) }.cast::<Totals>();
            if !p.is_null() {
                // SAFETY: counter `i` of a copy of a live allocation of `n` (invariant);
                // racing writers store aligned words.
                let c = unsafe { core::ptr::read_volatile(p.add(i)) };
                t.packets = t.packets.wrapping_add(c.packets);
                t.bytes = t.bytes.wrapping_add(c.bytes);
                t.drops = t.drops.wrapping_add(c.drops);
            }
        }
        t
    }
}

impl Drop for PerCpuRow {
    fn drop(&mut self) {
        if self.n > 0 {
            // SAFETY: `pcpu` is live (invariant) and no one uses it any more.
            unsafe { bindings::free_percpu(self.pcpu.as_ptr()) };
        }
    }
}

/// Bottom halves disabled on this CPU for the guard's lifetime.
pub(crate) struct BhGuard(PhantomData<*mut ()>);

impl BhGuard {
    pub(crate) fn new() -> Self {
        // SAFETY: always allowed outside hard-interrupt context; undone in `drop`.
        unsafe { ffi::lana_bh_disable() };
        BhGuard(PhantomData)
    }
}

impl Drop for BhGuard {
    fn drop(&mut self) {
        // SAFETY: paired with the local_bh_disable in `new`.
        unsafe { ffi::lana_bh_enable() };
    }
}
