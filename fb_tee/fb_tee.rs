// SPDX-License-Identifier: GPL-2.0
//! `tee`: duplicates each packet to the two blocks bound after it (the paper's "Tee"). The
//! engine clones the packet (`skb_clone`) and processes both copies. With one block bound it
//! passes packets through unchanged; a third bind is refused.

use kernel::prelude::*;
use lana::block::NewInstance;
use lana::{Direction, FbType, FunctionalBlock, Packet, PacketContext, Verdict};

struct Tee;

impl FunctionalBlock for Tee {
    fn receive(&self, _ctx: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
        Verdict::Fanout(pkt, dir)
    }
}

fn new_tee(_: &NewInstance<'_>) -> Result<KBox<dyn FunctionalBlock>> {
    Ok(KBox::new(Tee, GFP_KERNEL)?)
}

static TEE_TYPE: FbType = FbType {
    name: "tee",
    description: "duplicates each packet to both blocks bound after it",
    keys: &[],
    max_ingress: 2,
    max_egress: 2,
    has_state: false,
    new: new_tee,
};

lana::fb_module! {
    block_type: TEE_TYPE,
    name: "fb_tee",
    description: "LANA functional block: tee (duplicate)",
}
