// SPDX-License-Identifier: GPL-2.0
//! `bpf`: a classic BPF filter (the paper's "Berkeley Packet Filter"). Packets the program
//! accepts go on to the next block; the others are dropped and counted. The program is
//! validated and run by the kernel's own BPF code, on the frame from its Ethernet header, as
//! tcpdump sees it. `fbctl set f filter="udp and dst port 53"` compiles the expression with
//! libpcap and sends the bytecode as `filter-ddd=` (the `tcpdump -ddd` format); `filter=`
//! alone only labels the program. A block without a program passes everything.

use lana::bpf::{parse_ddd, Filter};
use lana::prelude::*;
use lana::rcu::RcuBox;

/// The program and the text it was compiled from.
struct Program {
    filter: Filter,
    label: KVec<u8>,
}

struct Bpf {
    /// Replaced as a whole by `set`; the packet path reads it under RCU.
    program: RcuBox<Program>,
}

impl Bpf {
    /// Compile the program `props` give; install it if `apply` (else only check it).
    fn set(&self, props: &[(&str, PropValue<'_>)], why: &mut Reason, apply: bool) -> Result {
        let mut ddd = None;
        let mut label = None;
        for (key, value) in props.iter() {
            match *key {
                "filter-ddd" => ddd = Some(value.text()),
                "filter" => label = Some(value.text()),
                _ => {}
            }
        }
        let Some(ddd) = ddd else {
            why.set("filter= needs filter-ddd= with the bytecode (fbctl compiles expressions)");
            return Err(EINVAL);
        };
        let insns = match parse_ddd(ddd) {
            Ok(i) => i,
            Err(msg) => {
                why.set(msg);
                return Err(EINVAL);
            }
        };
        let filter = match Filter::new(&insns) {
            Ok(f) => f,
            Err(e) => {
                why.set("the kernel refused the BPF program as invalid");
                return Err(e);
            }
        };
        if !apply {
            return Ok(()); // the compiled program is freed: the kernel took it
        }
        let text = label.unwrap_or("(bytecode)");
        // charged to the sender's memory cgroup, as the block is
        let mut buf = KVec::with_capacity(text.len(), GFP_KERNEL_ACCOUNT)?;
        buf.extend_from_slice(text.as_bytes(), GFP_KERNEL_ACCOUNT)?;
        let program = KBox::new(Program { filter, label: buf }, GFP_KERNEL_ACCOUNT)?;
        // The old program is freed after a grace period, once no packet runs it.
        self.program.replace(Some(program));
        Ok(())
    }
}

#[vtable]
impl Block for Bpf {
    const NAME: &'static str = "bpf";
    const DESCRIPTION: &'static str =
        "classic BPF filter: accepted packets go on, the others are dropped";
    const CHECKS_SETTINGS: bool = true;
    const KEYS: &'static [KeyInfo] = &[
        KeyInfo {
            key: "filter",
            kind: Kind::Str,
            help: "tcpdump expression (fbctl compiles it)",
        },
        KeyInfo {
            key: "filter-ddd",
            kind: Kind::Str,
            help: "bytecode, tcpdump -ddd format",
        },
    ];

    fn new(_: &NewInstance<'_>) -> Result<Self> {
        Ok(Bpf {
            program: RcuBox::new(),
        })
    }

    fn receive(&self, ctx: &PacketContext, pkt: Packet, dir: Direction) -> Verdict {
        match self.program.read(ctx) {
            Some(p) if p.filter.run(ctx, &pkt) == 0 => Verdict::drop(pkt, DropReason::Filtered),
            _ => Verdict::next(pkt, dir),
        }
    }

    fn event(&self, event: &Event<'_>, why: &mut Reason) -> Result {
        match event {
            Event::Set(props) => self.set(props, why, true),
            Event::Check(props) => self.set(props, why, false),
            _ => Ok(()),
        }
    }

    fn show(&self, out: &mut dyn PropSink) {
        let guard = kernel::sync::rcu::Guard::new();
        match self.program.get(&guard) {
            Some(p) => {
                let label = core::str::from_utf8(&p.label).unwrap_or("?");
                out.text("filter", format_args!("{}", label));
                out.num("instructions", p.filter.len() as u64);
            }
            // no `filter` without a program (it passes everything)
            None => out.num("instructions", 0),
        }
    }
}

lana::fb_module! { block: Bpf, name: "fb_bpf", description: "LANA functional block: classic BPF filter" }
