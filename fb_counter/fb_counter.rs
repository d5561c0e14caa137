// SPDX-License-Identifier: GPL-2.0
//! `counter`: counts packets and bytes per CPU and passes them on (the paper's "Packet
//! Counter"). `fbctl show` reads the sums; `set <fb> reset=1` zeroes them. A replace by
//! another counter carries the counts over.

use core::any::Any;
use kernel::prelude::*;
use lana::block::{NewInstance, Reason};
use lana::props::Kind;
use lana::{Direction, Event, FbType, FunctionalBlock, KeyInfo, Packet, PacketContext, PerCpuCounters, PropSink};
use lana::{Verdict};

struct Counter {
    counts: PerCpuCounters,
}

impl FunctionalBlock for Counter {
    fn receive(&self, ctx: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
        self.counts.add(ctx, pkt.len());
        Verdict::Next(pkt, dir)
    }

    fn event(&self, event: &Event<'_>, why: &mut Reason) -> Result {
        if let Event::Set(props) = event {
            for (key, value) in props.iter() {
                if *key == "reset" {
                    if !value.flag() {
                        why.set("reset takes 1 (reset=0 does nothing)");
                        return Err(EINVAL);
                    }
                }
            }
            self.counts.reset();
        }
        Ok(())
    }

    fn show(&self, out: &mut dyn PropSink) {
        let t = self.counts.sum();
        out.put("packets", format_args!("{}", t.packets));
        out.put("bytes", format_args!("{}", t.bytes));
    }

    fn adopt_state(&self, old: &dyn Any) {
        if let Some(old) = old.downcast_ref::<Counter>() {
            self.counts.add_totals(old.counts.sum());
        }
    }
}

fn new_counter(_: &NewInstance<'_>) -> Result<KBox<dyn FunctionalBlock>> {
    Ok(KBox::new(Counter { counts: PerCpuCounters::new()? }, GFP_KERNEL)?)
}

static COUNTER_TYPE: FbType = FbType {
    name: "counter",
    description: "counts packets and bytes (per CPU), passes them on",
    keys: &[KeyInfo { key: "reset", kind: Kind::Bool, help: "1 zeroes the counts" }],
    max_ingress: 1,
    max_egress: 1,
    has_state: true,
    new: new_counter,
};

lana::fb_module! {
    block_type: COUNTER_TYPE,
    name: "fb_counter",
    description: "LANA functional block: packet counter",
}
