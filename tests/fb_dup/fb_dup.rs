// SPDX-License-Identifier: GPL-2.0
//! Test-only FB module: registers a second type named `fwd`, which the core must refuse
//! while fb_fwd is loaded (and fb_fwd must then be refused in turn).

use kernel::prelude::*;
use lana::block::NewInstance;
use lana::{Direction, DropReason, FbType, FunctionalBlock, Packet, PacketContext, Verdict};

struct Dup;

impl FunctionalBlock for Dup {
    fn receive(&self, _ctx: &PacketContext, pkt: Packet, _dir: Direction) -> Verdict {
        Verdict::Drop(pkt, DropReason::Filtered)
    }
}

fn new_dup(_: &NewInstance<'_>) -> Result<KBox<dyn FunctionalBlock>> {
    Ok(KBox::new(Dup, GFP_KERNEL)?)
}

static DUP_TYPE: FbType = FbType {
    name: "fwd",
    description: "test: same name as fb_fwd's type",
    keys: &[],
    max_ingress: 1,
    max_egress: 1,
    has_state: false,
    new: new_dup,
};

lana::fb_module! {
    block_type: DUP_TYPE,
    name: "fb_dup",
    description: "LANA test module: a duplicate FB type name",
}
