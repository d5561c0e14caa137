// SPDX-License-Identifier: GPL-2.0
//! Test-only FB module: registers a second type named `fwd`, which the core must refuse
//! while fb_fwd is loaded (and fb_fwd must then be refused in turn).

use lana::prelude::*;

struct Dup;

#[vtable]
impl Block for Dup {
    const NAME: &'static str = "fwd";
    const DESCRIPTION: &'static str = "test: same name as fb_fwd's type";

    fn new(_: &NewInstance<'_>) -> Result<Self> {
        Ok(Dup)
    }

    fn receive(&self, _: &PacketContext, pkt: Packet, _: Direction) -> Verdict {
        Verdict::drop(pkt, DropReason::Filtered)
    }
}

lana::fb_module! { block: Dup, name: "fb_dup", description: "LANA test module: a duplicate FB type name" }
