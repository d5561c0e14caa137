// SPDX-License-Identifier: GPL-2.0
//! Test-only FB module: a `turn` block sends every packet back the way it came (a reflector),
//! and says so (`TURNS`), so the engine honours it and counts hops wherever it is bound.

use lana::prelude::*;

struct Turn;

#[vtable]
impl Block for Turn {
    const NAME: &'static str = "turn";
    const DESCRIPTION: &'static str = "test: sends every packet back the way it came";
    const TURNS: bool = true;

    fn new(_: &NewInstance<'_>) -> Result<Self> {
        Ok(Turn)
    }

    fn receive(&self, _: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
        let back = match dir {
            Direction::Ingress => Direction::Egress,
            Direction::Egress => Direction::Ingress,
        };
        Verdict::next(pkt, back)
    }
}

lana::fb_module! { block: Turn, name: "fb_turn", description: "LANA test module: a block that turns packets back" }
