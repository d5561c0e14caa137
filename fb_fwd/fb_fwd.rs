// SPDX-License-Identifier: GPL-2.0
//! `fwd`: passes every packet on to the block bound next in its direction (the paper's
//! "Forward" block). No keys, no state.

use kernel::prelude::*;
use lana::block::NewInstance;
use lana::{Direction, FbType, FunctionalBlock, Packet, PacketContext, Verdict};

struct Fwd;

impl FunctionalBlock for Fwd {
    fn receive(&self, _ctx: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
        Verdict::Next(pkt, dir)
    }
}

fn new_fwd(_: &NewInstance<'_>) -> Result<KBox<dyn FunctionalBlock>> {
    Ok(KBox::new(Fwd, GFP_KERNEL)?)
}

static FWD_TYPE: FbType = FbType {
    name: "fwd",
    description: "forwards each packet to the next block in its direction",
    keys: &[],
    max_ingress: 1,
    max_egress: 1,
    has_state: false,
    new: new_fwd,
};

lana::fb_module! {
    block_type: FWD_TYPE,
    name: "fb_fwd",
    description: "LANA functional block: forward",
}
