// SPDX-License-Identifier: GPL-2.0
//! A network namespace's LANA: the blocks of one namespace form its graph, with their own
//! names, their own accounting and their own generation, as an nftables table or an OVS
//! datapath lives in a namespace.
//!
//! Commands act on the [`Space`] of the caller's namespace (made on the first change there);
//! a block, its eth device and the AF_LANA sockets bound to it all belong to one namespace,
//! and bindings never cross namespaces. The engine walks one published snapshot holding every
//! namespace's blocks (slots and ids are machine-wide, names per namespace): a packet enters
//! at a block of its namespace and only ever meets blocks of the same namespace, so it is
//! counted in that namespace's [`Space`].
//!
//! When a namespace goes away (its pernet exit, after its devices and sockets are gone), its
//! blocks are removed and its space leaves the configuration; the [`Space`] itself is freed
//! with the last block or socket that refers to it.

use crate::engine::Fates;
use crate::fate::Fate;
use crate::ffi;
use crate::percpu::{CpuOffset, PerCpu};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;

/// A number that changes with everything a dump or `fbctl stats` shows: dumps that span
/// several messages compare it (NLM_F_DUMP_INTR), and `--expect-gen` commits compare it.
pub(crate) struct Generation(AtomicU32);

impl Generation {
    pub(crate) const fn new() -> Self {
        Generation(AtomicU32::new(1))
    }

    /// The generation now (never 0).
    pub(crate) fn current(&self) -> u32 {
        self.0.load(Ordering::Acquire)
    }

    /// Something it covers changed.
    pub(crate) fn changed(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |g| {
                Some(g.wrapping_add(1).max(1))
            });
    }
}

/// One namespace's LANA.
///
/// # Invariants
///
/// `net` is null (a private configuration, for KUnit tests) or a network namespace that is
/// alive while this space is in the configuration's list: the namespace's pernet exit takes
/// the space out (under the configuration mutex) before the namespace is freed.
pub(crate) struct Space {
    /// Orders names in the configuration's name tree; never reused.
    pub(crate) key: u64,
    net: *mut bindings::net,
    /// What became of the packets that entered this namespace's graph.
    fates: PerCpu<Fates>,
    /// This namespace's graph's generation.
    pub(crate) generation: Generation,
    /// Blocks in this namespace (changed under the configuration mutex).
    pub(crate) blocks: AtomicU32,
    /// The namespace belongs to a container (a user namespace other than the initial one
    /// owns it) that this user (uid in the initial user namespace) made: the graphs of a
    /// user's containers share `max_ns_blocks` of the machine's blocks.
    pub(crate) container_owner: Option<u32>,
}

// SAFETY: `net` is only compared, and passed to the kernel under the configuration mutex
// while the namespace is alive (type invariant); the rest is atomics and per-CPU counters.
unsafe impl Send for Space {}
// SAFETY: as above.
unsafe impl Sync for Space {}

static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

impl Space {
    /// The space of namespace `net` (null: a private one, for tests).
    ///
    /// # Safety
    ///
    /// `net` is null or a live namespace whose pernet exit will take this space out of the
    /// configuration (see the type invariant).
    pub(crate) unsafe fn new(net: *mut bindings::net) -> Result<Arc<Space>> {
        // INVARIANT: see the function's safety requirement.
        Ok(Arc::new(
            Space {
                key: NEXT_KEY.fetch_add(1, Ordering::Relaxed),
                net,
                fates: PerCpu::new()?,
                generation: Generation::new(),
                blocks: AtomicU32::new(0),
                container_owner: if net.is_null() {
                    None
                } else {
                    // SAFETY: `net` is live (the function's safety requirement).
                    u32::try_from(unsafe { ffi::lana_net_container_owner(net) }).ok()
                },
            },
            GFP_KERNEL,
        )?)
    }

    /// Whether this is namespace `net`'s space.
    pub(crate) fn is_of(&self, net: *const bindings::net) -> bool {
        core::ptr::eq(self.net, net)
    }

    /// The namespace, for calls made under the configuration mutex while this space is in
    /// the configuration (the type invariant keeps it alive then). Null for a private space.
    pub(crate) fn net(&self) -> *mut bindings::net {
        self.net
    }

    /// The sums of the accounting over all CPUs.
    pub(crate) fn totals(&self) -> Fates {
        self.fates.fold(Fates::default(), Fates::add)
    }

    /// Change this CPU's accounting.
    #[inline]
    pub(crate) fn count(&self, cpu: CpuOffset, f: impl FnOnce(&mut Fates)) {
        // SAFETY: `cpu` is this CPU's offset with bottom halves off (CpuOffset invariant):
        // this CPU's copy, and no other writer runs on it while `f` does.
        f(unsafe { &mut *self.fates.on(cpu) })
    }

    /// Count a packet's end.
    #[inline]
    pub(crate) fn fate(&self, cpu: CpuOffset, fate: Fate) {
        self.count(cpu, |f| match fate {
            // counters wrap, as the kernel's do (no overflow check in the packet path)
            Fate::Delivered => f.delivered = f.delivered.wrapping_add(1),
            Fate::Transmitted => f.transmitted = f.transmitted.wrapping_add(1),
            Fate::Dropped(r) => {
                if let Some(d) = f.dropped.get_mut(r as usize) {
                    *d = d.wrapping_add(1);
                }
            }
        });
    }

    /// Count a packet entering the graph.
    #[inline]
    pub(crate) fn entered(&self, cpu: CpuOffset, len: u32) {
        self.count(cpu, |f| {
            f.entered = f.entered.wrapping_add(1);
            f.entered_bytes = f.entered_bytes.wrapping_add(u64::from(len));
        });
    }
}

/// The pernet operations: a namespace going away takes its graph with it. Registered while
/// the core is loaded; unregistering runs the exit for every namespace still there.
pub(crate) struct PernetOps(());

impl PernetOps {
    /// Register them (module init, once the configuration can take commands).
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: registers the static pernet_operations in netdev.c; unregistered in drop.
        kernel::error::to_result(unsafe { ffi::lana_pernet_register() })?;
        Ok(PernetOps(()))
    }
}

impl Drop for PernetOps {
    fn drop(&mut self) {
        // SAFETY: registered in `register`.
        unsafe { ffi::lana_pernet_unregister() };
    }
}

/// Namespace `net` is going away (its pernet exit: its devices are gone, no socket is left
/// in it): remove its blocks and its space; how many blocks it had.
///
/// # Safety
///
/// Called by the pernet exit in `netdev.c` only, with the namespace being dismantled.
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_net_exit(net: *mut bindings::net) -> u32 {
    let mut cfg = crate::config::lock();
    if let Some(sp) = cfg.space_of(net) {
        let n = sp.blocks.load(Ordering::Relaxed);
        // A flush fails only for want of memory for the new snapshot, and the namespace
        // cannot stay: wait for memory (a namespace's exit may sleep).
        while n != 0 && crate::commands::flush(&mut cfg, &sp).is_err() {
            kernel::time::delay::fsleep(kernel::time::Delta::from_millis(10));
        }
        cfg.forget_space(&sp);
        return n; // netdev.c says so, rate-limited
    }
    0
}
