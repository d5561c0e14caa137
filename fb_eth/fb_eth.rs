// SPDX-License-Identifier: GPL-2.0
//! `eth`: the virtual link. Attached to a net device with `set <fb> dev=<ifname>`, it feeds
//! the frames it claims (all, or those matching `ethertype=` and `dst=`) into the graph: they
//! go to the block bound after it, ingress. Every packet another block passes to it, in
//! either direction, leaves through the device's transmit queue; packets made by a block (a
//! socket's messages) get an Ethernet header to `peer=` with the block's EtherType (0x88b5
//! when `ethertype=0`). Frames it does not claim go on to the Linux stack untouched.
//!
//! A block belongs to the network namespace it was added in and attaches to devices of that
//! namespace only (`ip netns exec NS fbctl ...`); a device moved to another namespace
//! detaches its block, as if it had been deleted.

use core::pin::Pin;
use lana::netdev::{Mac, Port};
use lana::prelude::*;

struct Eth {
    port: Pin<KBox<Port>>,
}

impl Eth {
    /// Apply `props` if `apply`, else only check that they would apply (the device exists
    /// in this namespace, is Ethernet, and is free or already ours).
    fn set(&self, props: &[(&str, PropValue<'_>)], why: &mut Reason, apply: bool) -> Result {
        // Check everything before changing anything; then the port applies the settings
        // and the attachment in one step.
        let mut new = self.port.config();
        let mut dev = None;
        for (key, value) in props.iter() {
            match *key {
                "dev" => dev = Some(value.text()),
                "ethertype" => {
                    if value.num() > 0xffff {
                        why.set("ethertype is a 16-bit number (e.g. 0x88b5), 0 for all");
                        return Err(EINVAL);
                    }
                    new.ethertype = value.num() as u16;
                }
                "dst" => match parse_mac(value.text(), "any") {
                    Some(d) => new.dst = d,
                    None => {
                        why.set("dst takes a MAC address (aa:bb:cc:dd:ee:ff) or 'any'");
                        return Err(EINVAL);
                    }
                },
                "peer" => match parse_mac(value.text(), "broadcast") {
                    Some(p) => new.peer = p,
                    None => {
                        why.set("peer takes a MAC address (aa:bb:cc:dd:ee:ff) or 'broadcast'");
                        return Err(EINVAL);
                    }
                },
                _ => {}
            }
        }
        if let Some(d) = dev {
            if d.is_empty() || d.len() > 15 {
                why.set("dev takes an interface name (at most 15 characters)");
                return Err(EINVAL);
            }
        }
        let r = if apply {
            self.port.configure(new, dev).map(|_| ())
        } else {
            self.port.check(dev)
        };
        match r {
            Ok(()) => Ok(()),
            Err(e) => {
                why.set(if e == ENODEV {
                    "no such network device in this network namespace"
                } else if e == EBUSY && self.port.is_attached() {
                    "attached to another device: remove this block first"
                } else if e == EBUSY {
                    "the device is taken (another eth block, a bridge or a bond)"
                } else if e == EOPNOTSUPP {
                    "not an Ethernet device: eth blocks speak Ethernet"
                } else {
                    "could not attach to the device"
                });
                Err(e)
            }
        }
    }
}

/// `none_word` (None) or `aa:bb:cc:dd:ee:ff`.
fn parse_mac(s: &str, none_word: &str) -> Option<Option<Mac>> {
    if s == none_word {
        return Some(None);
    }
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in mac.iter_mut() {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(Some(mac))
}

#[vtable]
impl Block for Eth {
    const NAME: &'static str = "eth";
    const DESCRIPTION: &'static str =
        "virtual link: frames from a net device in, egress frames out to it";
    const CHECKS_SETTINGS: bool = true;
    const KEYS: &'static [KeyInfo] = &[
        KeyInfo {
            key: "dev",
            kind: Kind::Str,
            help: "network device to attach to",
        },
        KeyInfo {
            key: "ethertype",
            kind: Kind::U32,
            help: "claim only this EtherType (0: all)",
        },
        KeyInfo {
            key: "dst",
            kind: Kind::Str,
            help: "claim only frames to this MAC ('any': all)",
        },
        KeyInfo {
            key: "peer",
            kind: Kind::Str,
            help: "send block-made packets to this MAC (default broadcast)",
        },
    ];

    fn new(inst: &NewInstance<'_>) -> Result<Self> {
        Ok(Eth {
            port: Port::new(inst)?,
        })
    }

    /// Frames from the wire do not come here (the engine passes them to the block bound
    /// after this one); what comes here was sent by another block and goes out.
    fn receive(&self, ctx: &PacketContext, pkt: Packet, _dir: Direction) -> Verdict {
        Verdict::consumed(self.port.xmit(ctx, pkt))
    }

    fn event(&self, event: &Event<'_>, why: &mut Reason) -> Result {
        match event {
            Event::Set(props) => self.set(props, why, true),
            Event::Check(props) => self.set(props, why, false),
            Event::ReplaceOut { .. } | Event::ReplaceIn { .. } => {
                why.set("eth blocks hold a device and cannot be replaced");
                Err(EOPNOTSUPP)
            }
            _ => Ok(()),
        }
    }

    fn detach(&self) {
        // Free the device now, so another block can take it as soon as `rm` returns.
        self.port.detach();
    }

    fn show(&self, out: &mut dyn PropSink) {
        let mut buf = [0u8; 17];
        match self.port.ifname(&mut buf) {
            // (no `dev` when detached: no placeholder a device could be named)
            Some(dev) => {
                out.text("link", format_args!("attached"));
                out.text("dev", format_args!("{}", dev));
            }
            None => out.text("link", format_args!("detached")),
        }
        let cfg = self.port.config();
        out.hex("ethertype", u64::from(cfg.ethertype));
        put_mac(out, "dst", cfg.dst, "any");
        put_mac(out, "peer", cfg.peer, "broadcast");
        out.num("passed_to_stack", self.port.passed());
    }
}

fn put_mac(out: &mut dyn PropSink, key: &str, mac: Option<Mac>, none_word: &str) {
    match mac {
        Some(m) => out.text(
            key,
            format_args!(
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
        ),
        None => out.text(key, format_args!("{}", none_word)),
    }
}

lana::fb_module! { block: Eth, name: "fb_eth", description: "LANA functional block: Ethernet virtual link" }
