// SPDX-License-Identifier: GPL-2.0
//! Test-only FB module: registers a second type named `fwd`, which the core must refuse
//! while fb_fwd is loaded (and fb_fwd must then be refused in turn). Its blocks try to send
//! every packet back the way it came without declaring `TURNS`: the engine must keep them
//! going in their direction.

use lana::prelude::*;

struct Dup;

#[vtable]
impl Block for Dup {
    const NAME: &'static str = "fwd";
    const DESCRIPTION: &'static str = "test: same name as fb_fwd's type";

    fn new(_: &NewInstance<'_>) -> Result<Self> {
        Ok(Dup)
    }

    fn receive(&self, _: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
        let back = match dir {
            Direction::Ingress => Direction::Egress,
            Direction::Egress => Direction::Ingress,
        };
        Verdict::next(pkt, back)
    }
}

lana::fb_module! { block: Dup, name: "fb_dup", description: "LANA test module: a duplicate FB type name" }
