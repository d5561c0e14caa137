// SPDX-License-Identifier: GPL-2.0
//! `fwd`: passes every packet on to the block bound next in its direction (the paper's
//! "Forward" block). No keys, no state. It keeps `Block::receive`'s default (forward
//! unchanged), so the engine passes its packets on without calling it.

use lana::prelude::*;

struct Fwd;

#[vtable]
impl Block for Fwd {
    const NAME: &'static str = "fwd";
    const DESCRIPTION: &'static str = "forwards each packet to the next block in its direction";

    fn new(_: &NewInstance<'_>) -> Result<Self> {
        Ok(Fwd)
    }
}

lana::fb_module! { block: Fwd, name: "fb_fwd", description: "LANA functional block: forward" }
