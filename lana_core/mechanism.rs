// SPDX-License-Identifier: GPL-2.0
//! The engine's execution mechanisms (the paper's Table 1), chosen when lana_core loads
//! (`ppe_mode=`): inline in the receive softirq, or per-CPU threads fed by per-CPU queues.
//! The threads, queues and CPU hotplug handling are C (`mechanism.c`: smpboot threads, a
//! cpuhp state); this is the Rust side. The frames the threads run come back through
//! `engine.rs` (`lana_rust_ppe_run`, `lana_rust_ppe_drop`).

use crate::block::Entry;
use crate::ffi;
use crate::packet::Packet;
use crate::space::Space;
use kernel::prelude::*;

/// Whether the engine runs inline in the receive softirq (`ppe_mode=0`).
#[inline]
pub(crate) fn inline() -> bool {
    // SAFETY: a read-only module parameter: a static set before the module's init runs.
    unsafe { ffi::lana_param_ppe_mode == 0 }
}

/// The mechanism's name.
pub(crate) fn name() -> &'static str {
    // SAFETY: returns a pointer to a static NUL-terminated string.
    let name = unsafe { CStr::from_char_ptr(ffi::lana_ppe_mode_name()) };
    name.to_str().unwrap_or("?")
}

/// Queue `pkt` (counted as entered already) for this CPU's engine thread. Softirq.
///
/// The queue keeps a pointer to `sp` without a reference: the frame's port flushes its
/// queued frames when it detaches (`lana_port_release`), before its block, which holds the
/// space, can be dropped.
pub(crate) fn enqueue(pkt: Packet, entry: Entry, sp: &Space) {
    let space: *const Space = sp;
    // SAFETY: hands our unshared skb to this CPU's queue, which owns it now (and counts it
    // through `lana_rust_ppe_drop` if the queue is full).
    unsafe { ffi::lana_ppe_enqueue(pkt.into_raw(), entry.pack(), space.cast()) };
}

/// The engine threads, while the mechanism has them; stopping them (drop) drops and counts
/// the frames still queued.
pub(crate) struct Threads(());

impl Threads {
    /// Start them if the mechanism has them (module init).
    pub(crate) fn start() -> Result<Self> {
        // SAFETY: called once from module init.
        kernel::error::to_result(unsafe { ffi::lana_ppe_start() })?;
        Ok(Threads(()))
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        // SAFETY: `start` succeeded; every device is detached by now (no frame can be
        // queued any more).
        unsafe { ffi::lana_ppe_stop() };
    }
}
