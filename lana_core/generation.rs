// SPDX-License-Identifier: GPL-2.0
//! The type registry's generation: it changes when a block type comes or goes, and dumps of
//! the types that span several messages compare it (NLM_F_DUMP_INTR). Each namespace's graph
//! has a generation of its own ([`crate::space::Space`]).

use crate::space::Generation;

static TYPES: Generation = Generation::new();

/// The generation now (never 0).
pub(crate) fn current() -> u32 {
    TYPES.current()
}

/// A type came or went.
pub(crate) fn changed() {
    TYPES.changed();
}
