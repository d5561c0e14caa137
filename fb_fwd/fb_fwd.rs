// SPDX-License-Identifier: GPL-2.0
//! `fwd`: passes every packet on to the block bound next in its direction (the paper's
//! "Forward" block). No keys, no state.

use lana::prelude::*;

struct Fwd;

#[vtable]
impl Block for Fwd {
    const NAME: &'static str = "fwd";
    const DESCRIPTION: &'static str = "forwards each packet to the next block in its direction";
    // The engine forwards for it (and still counts at it): `receive` below is what it does.
    const PASS_THROUGH: bool = true;

    fn new(_: &NewInstance<'_>) -> Result<Self> {
        Ok(Fwd)
    }

    fn receive(&self, _: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
        Verdict::next(pkt, dir)
    }
}

lana::fb_module! { block: Fwd, name: "fb_fwd", description: "LANA functional block: forward" }
