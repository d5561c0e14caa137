// SPDX-License-Identifier: GPL-2.0
//! Test-only FB module: a `hub` block passes packets on unchanged like `fwd` (the engine jumps
//! over it), but up to 256 blocks may bind to it: many blocks can lead into one chain of
//! pass-through blocks, which compiling the graph must keep linear in size. It has state to
//! carry over in a replace (none but the engine's counts), which `fwd` has not.

use lana::prelude::*;

struct Hub;

#[vtable]
impl Block for Hub {
    const NAME: &'static str = "hub";
    const DESCRIPTION: &'static str =
        "test: passes packets on unchanged; 256 blocks may bind to it";
    const MAX_EGRESS: u32 = 256;

    fn new(_: &NewInstance<'_>) -> Result<Self> {
        Ok(Hub)
    }

    fn adopt_state(&self, _old: &Self) {}
}

lana::fb_module! { block: Hub, name: "fb_hub", description: "LANA test module: a pass-through block many blocks bind to" }
