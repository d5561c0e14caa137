// SPDX-License-Identifier: GPL-2.0
//! `counter`: counts packets and bytes per CPU and passes them on (the paper's "Packet
//! Counter"). `fbctl show` reads the sums; `set <fb> reset=1` zeroes them. A replace by
//! another counter carries the counts over.

use lana::prelude::*;

struct Counter {
    counts: PerCpuCounters,
}

#[vtable]
impl Block for Counter {
    const NAME: &'static str = "counter";
    const DESCRIPTION: &'static str = "counts packets and bytes (per CPU), passes them on";
    const CHECKS_SETTINGS: bool = true;
    const KEYS: &'static [KeyInfo] = &[KeyInfo {
        key: "reset",
        kind: Kind::Bool,
        help: "1 zeroes the counts",
    }];

    fn new(_: &NewInstance<'_>) -> Result<Self> {
        Ok(Counter {
            counts: PerCpuCounters::new()?,
        })
    }

    fn receive(&self, ctx: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
        self.counts.add(ctx, pkt.len());
        Verdict::next(pkt, dir)
    }

    fn event(&self, event: &Event<'_>, why: &mut Reason) -> Result {
        let (props, apply) = match event {
            Event::Set(props) => (props, true),
            Event::Check(props) => (props, false),
            _ => return Ok(()),
        };
        if props
            .iter()
            .any(|(key, value)| *key == "reset" && !value.flag())
        {
            why.set("reset takes 1 (reset=0 does nothing)");
            return Err(EINVAL);
        }
        if apply {
            self.counts.reset();
        }
        Ok(())
    }

    fn show(&self, out: &mut dyn PropSink) {
        let t = self.counts.sum();
        out.num("packets", t.packets);
        out.num("bytes", t.bytes);
    }

    fn adopt_state(&self, old: &Self) {
        self.counts.add_totals(old.counts.sum());
    }
}

lana::fb_module! { block: Counter, name: "fb_counter", description: "LANA functional block: packet counter" }
