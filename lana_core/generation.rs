// SPDX-License-Identifier: GPL-2.0
//! The generation: a number that changes with everything a dump or `fbctl stats` shows (a
//! command's change, an engine setting, a type coming or going, a socket binding, a device
//! detaching its block). Dumps that span
//! several messages compare it, so userspace learns when an answer mixes two states
//! (NLM_F_DUMP_INTR) and reads it again.

use core::sync::atomic::{AtomicU32, Ordering};

static GENERATION: AtomicU32 = AtomicU32::new(1);

/// The generation now (never 0).
pub(crate) fn current() -> u32 {
    GENERATION.load(Ordering::Acquire)
}

/// Something a dump shows changed.
pub(crate) fn changed() {
    let _ = GENERATION.fetch_update(Ordering::AcqRel, Ordering::Acquire, |g| {
        Some(g.wrapping_add(1).max(1))
    });
}

/// Called from C when a device going away detached its eth block.
#[no_mangle]
pub(crate) extern "C" fn lana_rust_config_changed() {
    changed();
}
