// SPDX-License-Identifier: GPL-2.0
//! `tee`: duplicates each packet to the two blocks bound after it (the paper's "Tee"). The
//! engine clones the packet (`skb_clone`) and processes both copies. With one block bound it
//! passes packets through unchanged; a third bind is refused.

use lana::prelude::*;

struct Tee;

#[vtable]
impl Block for Tee {
    const NAME: &'static str = "tee";
    const DESCRIPTION: &'static str = "duplicates each packet to both blocks bound after it";
    const MAX_INGRESS: u32 = 2;
    const MAX_EGRESS: u32 = 2;

    fn new(_: &NewInstance<'_>) -> Result<Self> {
        Ok(Tee)
    }

    fn receive(&self, _: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
        Verdict::fanout(pkt, dir)
    }
}

lana::fb_module! { block: Tee, name: "fb_tee", description: "LANA functional block: tee (duplicate)" }
