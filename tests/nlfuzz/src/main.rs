// SPDX-License-Identifier: GPL-2.0
//! lana-nlfuzz SEED COUNT: send COUNT generated and mutated messages to the `lana` family
//! (valid commands in random order, wrong attribute types and lengths, missing and repeated
//! attributes, huge strings, unknown commands and attributes, random flags), then check that
//! the graph the kernel reports is consistent. Prints counts; exits 1 on an inconsistency or
//! a request that got no answer.
//!
//! lana-nlfuzz dump-check ROUNDS PAUSE_MS PREFIX COUNT: list the graph ROUNDS times as a
//! slow reader (small parts, PAUSE_MS between them) while something else changes it; every
//! list must either hold each block whose name starts with PREFIX exactly once (COUNT of
//! them, no name twice) or be flagged NLM_F_DUMP_INTR by the kernel. Prints the counts;
//! exits 1 on an inconsistent list the kernel did not flag.
//!
//! lana-nlfuzz typed-edges BPF_BLOCK: send typed settings (`LANA_A_CONFIG`) a generic
//! client could send but no JSON can (an attribute twice, bytes after a string's NUL, '='
//! in a key, a value longer than a reply's text) to bpf block BPF_BLOCK; print one line per
//! case, `CASE errno MESSAGE` (errno 0: taken).
//!
//! Reuses fbctl's netlink client, so the fuzzer speaks exactly what fbctl speaks.

use lana_client::attr::{self, AttrWriter};
use lana_client::genl::Genl;
use lana_client::uapi;
use std::collections::{BTreeMap, HashMap};
use uapi::*;

/// xorshift64*: small, seedable, good enough to pick cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const NAMES: &[&str] = &["a", "b", "c", "d", "e", "tee0", "bpf0", "eth0", "x"];
const TYPES: &[&str] = &["fwd", "counter", "tee", "bpf", "eth", "nosuch", ""];
const PROPS: &[&str] = &[
    "reset=1",
    "reset=0",
    "reset=maybe",
    "dev=rx0",
    "dev=nope0",
    "dev=",
    "ethertype=0x88b5",
    "ethertype=70000",
    "dst=any",
    "dst=02:00:00:00:00:01",
    "dst=zz",
    "filter-ddd=1,6 0 0 65535",
    "filter-ddd=2,21 0 5 2048,6 0 0 0",
    "filter-ddd=x",
    "filter=udp",
    "noequals",
    "=v",
    "colour=red",
];

/// A well-formed request: one command, or (15%) a transaction of up to 20 changes, which
/// fails whole when one of them fails.
fn valid(rng: &mut Rng) -> (u8, AttrWriter, bool) {
    if rng.chance(15) {
        let mut changes = AttrWriter::new();
        for _ in 0..rng.below(20) + 1 {
            let (c, mut e, _) = valid_one(rng);
            if matches!(c, LANA_CMD_GET | LANA_CMD_TYPES | LANA_CMD_STATS) {
                continue;
            }
            e.put_u32(LANA_A_CMD, u32::from(c));
            changes.put_nested(LANA_A_BATCH_CMD, &e);
        }
        return (LANA_CMD_BATCH, changes, false);
    }
    valid_one(rng)
}

/// One well-formed command.
fn valid_one(rng: &mut Rng) -> (u8, AttrWriter, bool) {
    let mut a = AttrWriter::new();
    let cmd = *rng.pick(&[
        LANA_CMD_ADD,
        LANA_CMD_ADD,
        LANA_CMD_RM,
        LANA_CMD_SET,
        LANA_CMD_BIND,
        LANA_CMD_BIND,
        LANA_CMD_UNBIND,
        LANA_CMD_REPLACE,
        LANA_CMD_GET,
        LANA_CMD_TYPES,
        LANA_CMD_STATS,
        LANA_CMD_FLUSH,
    ]);
    let name = *rng.pick(NAMES);
    let peer = *rng.pick(NAMES);
    match cmd {
        LANA_CMD_ADD => {
            a.put_str(LANA_A_NAME, name)
                .put_str(LANA_A_TYPE, rng.pick::<&str>(TYPES));
        }
        LANA_CMD_RM | LANA_CMD_GET => {
            a.put_str(LANA_A_NAME, name);
        }
        LANA_CMD_SET => {
            let mut inner = AttrWriter::new();
            for _ in 0..rng.below(4) + 1 {
                inner.put_str(LANA_A_PROP, rng.pick::<&str>(PROPS));
            }
            a.put_str(LANA_A_NAME, name)
                .put_nested(LANA_A_PROPS, &inner);
            if rng.chance(40) {
                // typed values too (what ynl sends): a known key's text as a number or text,
                // sometimes with both, neither, or a number too big for the key
                let mut values = AttrWriter::new();
                for _ in 0..rng.below(3) + 1 {
                    let kv = rng.pick::<&str>(PROPS);
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    let mut one = AttrWriter::new();
                    if !rng.chance(5) {
                        one.put_str(LANA_A_KEY, k);
                    }
                    match (v.parse::<u64>(), rng.below(10)) {
                        (_, 0) => {
                            one.put(LANA_A_NUM, &u64::MAX.to_ne_bytes());
                        }
                        (_, 1) => {
                            one.put(LANA_A_NUM, &1u64.to_ne_bytes())
                                .put_str(LANA_A_TEXT, v);
                        }
                        (Ok(n), _) => {
                            one.put(LANA_A_NUM, &n.to_ne_bytes());
                        }
                        (Err(_), _) => {
                            one.put_str(LANA_A_TEXT, v);
                        }
                    }
                    values.put_nested(LANA_A_VALUE, &one);
                }
                a.put_nested(LANA_A_CONFIG, &values);
            }
        }
        LANA_CMD_BIND | LANA_CMD_UNBIND => {
            a.put_str(LANA_A_NAME, name).put_str(LANA_A_PEER, peer);
        }
        LANA_CMD_REPLACE => {
            a.put_str(LANA_A_NAME, name).put_str(LANA_A_PEER, peer);
            if rng.chance(50) {
                a.put_u32(LANA_A_FLAGS, LANA_F_DROP_STATE);
            }
        }
        _ => {}
    }
    let dump = matches!(cmd, LANA_CMD_TYPES) || (cmd == LANA_CMD_GET && rng.chance(50));
    (cmd, a, dump)
}

fn mutate(rng: &mut Rng, a: &mut AttrWriter) {
    match rng.below(9) {
        // flip bytes
        0 => {
            for _ in 0..rng.below(4) + 1 {
                if !a.buf.is_empty() {
                    let i = rng.below(a.buf.len() as u64) as usize;
                    a.buf[i] ^= 1 << rng.below(8);
                }
            }
        }
        // truncate
        1 => {
            let n = rng.below(a.buf.len() as u64 + 1) as usize;
            a.buf.truncate(n);
        }
        // wrong type: a u32 where strings go, a string where flags go
        2 => {
            a.put_u32(
                *rng.pick(&[LANA_A_NAME, LANA_A_TYPE, LANA_A_PEER, LANA_A_PROPS]),
                rng.next() as u32,
            );
        }
        3 => {
            a.put_str(LANA_A_FLAGS, "notanumber");
        }
        // huge strings
        4 => {
            let s = "A".repeat(rng.below(9000) as usize);
            a.put_str(*rng.pick(&[LANA_A_NAME, LANA_A_TYPE, LANA_A_PEER]), &s);
        }
        5 => {
            let mut inner = AttrWriter::new();
            inner.put_str(
                LANA_A_PROP,
                &format!("filter-ddd={}", "6 0 0 0,".repeat(rng.below(1200) as usize)),
            );
            a.put_nested(LANA_A_PROPS, &inner);
        }
        // unknown attributes, repeated attributes
        6 => {
            a.put(rng.below(64) as u16, &[0u8; 7]);
        }
        7 => {
            let copy = a.buf.clone();
            a.buf.extend_from_slice(&copy);
        }
        // bad flag bits, empty strings, non-UTF-8
        _ => {
            a.put_u32(LANA_A_FLAGS, rng.next() as u32);
            a.put(LANA_A_NAME, &[0xff, 0xfe, 0]);
        }
    }
}

/// A socket and the family's id, or exit.
fn connect() -> (Genl, u16) {
    let mut nl = match Genl::open() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("socket: errno {}", e.errno);
            std::process::exit(1);
        }
    };
    match nl.resolve(LANA_GENL_NAME) {
        Ok(f) => (nl, f),
        Err(_) => {
            eprintln!("lana family not found");
            std::process::exit(1);
        }
    }
}

#[derive(Default, Debug)]
struct Block {
    ingress: Vec<String>,
    egress: Vec<String>,
}

fn check_graph(nl: &mut Genl, family: u16) -> Result<usize, String> {
    let replies = nl
        .request(
            family,
            LANA_CMD_GET,
            LANA_GENL_VERSION,
            &AttrWriter::new(),
            true,
        )
        .map_err(|e| format!("list failed: errno {}", e.errno))?;
    let mut blocks: BTreeMap<String, Block> = BTreeMap::new();
    for p in &replies {
        let name = attr::find_str(p, LANA_A_NAME);
        if blocks.contains_key(&name) {
            return Err(format!("name {name} listed twice"));
        }
        blocks.insert(
            name,
            Block {
                ingress: attr::nested_strs(p, LANA_A_INGRESS, LANA_A_NAME),
                egress: attr::nested_strs(p, LANA_A_EGRESS, LANA_A_NAME),
            },
        );
    }
    for (name, b) in &blocks {
        for to in &b.ingress {
            let peer = blocks
                .get(to)
                .ok_or(format!("{name} -> missing block {to}"))?;
            if !peer.egress.contains(name) {
                return Err(format!(
                    "{name} -> {to} but {to} does not send egress to {name}"
                ));
            }
        }
        for to in &b.egress {
            let peer = blocks
                .get(to)
                .ok_or(format!("{name} egress -> missing block {to}"))?;
            if !peer.ingress.contains(name) {
                return Err(format!("{name} egress -> {to} without the ingress binding"));
            }
        }
    }
    Ok(blocks.len())
}

/// The `dump-check` mode (see the crate docs).
fn dump_check(family: u16, args: &[String]) -> i32 {
    let arg = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (rounds, pause_ms) = (arg(2, 20), arg(3, 20));
    let prefix = args.get(4).cloned().unwrap_or_else(|| "s".into());
    let want = arg(5, 0) as usize;
    // A fresh socket: the kernel sizes dump parts by the largest read a socket ever made.
    let Ok(mut slow) = Genl::open() else {
        eprintln!("socket failed");
        return 1;
    };
    slow.recv_size = 8192;
    slow.pause = Some(std::time::Duration::from_millis(pause_ms));
    let nl = &mut slow;
    let (mut consistent, mut flagged, mut bad) = (0, 0, 0);
    for round in 0..rounds {
        let (replies, interrupted) = match nl.request_once(
            family,
            LANA_CMD_GET,
            LANA_GENL_VERSION,
            &AttrWriter::new(),
            true,
        ) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("round {round}: list failed: errno {}", e.errno);
                return 1;
            }
        };
        let names: Vec<String> = replies
            .iter()
            .map(|p| attr::find_str(p, LANA_A_NAME))
            .collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        let ours = names.iter().filter(|n| n.starts_with(&prefix)).count();
        let ok = unique.len() == names.len() && ours == want;
        if interrupted {
            flagged += 1;
        } else if ok {
            consistent += 1;
        } else {
            bad += 1;
            eprintln!("round {round}: {} names ({} distinct), {ours} of {want} '{prefix}' blocks, not flagged", names.len(), unique.len());
        }
    }
    println!("dump-check: {rounds} lists: {consistent} consistent, {flagged} flagged NLM_F_DUMP_INTR, {bad} inconsistent and unflagged");
    i32::from(bad > 0)
}

/// `typed-edges`: see the top of the file.
fn typed_edges(nl: &mut Genl, family: u16, block: &str) {
    // one value nest from raw (type, payload) attributes
    let value = |attrs: &[(u16, &[u8])]| {
        let mut v = AttrWriter::new();
        for (ty, p) in attrs {
            v.put(*ty, p);
        }
        v
    };
    let ret = |n: usize| {
        let mut s = format!("{n}");
        for _ in 0..n {
            s += ",6 0 0 65535";
        }
        s + "\0"
    };
    let long = ret(40); // 40 instructions: over 255 bytes of text
    let cases: [(&str, AttrWriter); 6] = [
        (
            "key-twice",
            value(&[
                (LANA_A_KEY, b"filter\0"),
                (LANA_A_KEY, b"filter-ddd\0"),
                (LANA_A_TEXT, b"x\0"),
            ]),
        ),
        (
            "text-twice",
            value(&[
                (LANA_A_KEY, b"filter\0"),
                (LANA_A_TEXT, b"a\0"),
                (LANA_A_TEXT, b"b\0"),
            ]),
        ),
        (
            "bytes-after-nul",
            value(&[(LANA_A_KEY, b"filter\0"), (LANA_A_TEXT, b"tcp\0hidden\0")]),
        ),
        (
            "equals-in-key",
            value(&[(LANA_A_KEY, b"filter=x\0"), (LANA_A_TEXT, b"y\0")]),
        ),
        ("no-value", value(&[(LANA_A_KEY, b"filter\0")])),
        (
            "long-program",
            value(&[
                (LANA_A_KEY, b"filter-ddd\0"),
                (LANA_A_TEXT, long.as_bytes()),
            ]),
        ),
    ];
    // First the largest set: 8 settings of ~7.9 KiB as strings and 8 typed, 16 in all
    // (each nest under netlink's 64 KiB), so its event (a copy of both) is ~127 KiB. (The
    // long program, sent last, is the one the block keeps.)
    let program = ret(660);
    let (mut props, mut config) = (AttrWriter::new(), AttrWriter::new());
    for _ in 0..8 {
        props.put(LANA_A_PROP, format!("filter-ddd={program}").as_bytes());
        config.put_nested(
            LANA_A_VALUE,
            &value(&[
                (LANA_A_KEY, b"filter-ddd\0"),
                (LANA_A_TEXT, program.as_bytes()),
            ]),
        );
    }
    let mut a = AttrWriter::new();
    a.put_str(LANA_A_NAME, block);
    a.put_nested(LANA_A_PROPS, &props)
        .put_nested(LANA_A_CONFIG, &config);
    let mut requests = vec![("big-event", a)];
    for (name, v) in cases {
        let mut config = AttrWriter::new();
        config.put_nested(LANA_A_VALUE, &v);
        let mut a = AttrWriter::new();
        a.put_str(LANA_A_NAME, block);
        a.put_nested(LANA_A_CONFIG, &config);
        requests.push((name, a));
    }
    for (name, a) in requests {
        nl.reserve_send(a.buf.len());
        match nl.request(family, LANA_CMD_SET, LANA_GENL_VERSION, &a, false) {
            Ok(_) => println!("{name} 0"),
            Err(e) => println!("{name} {} {}", e.errno, e.msg.unwrap_or_default()),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("typed-edges") {
        let (mut nl, family) = connect();
        typed_edges(&mut nl, family, args.get(2).map_or("f", String::as_str));
        return;
    }
    if args.get(1).map(String::as_str) == Some("--version") {
        println!("lana-nlfuzz {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    if args.get(1).map(String::as_str) == Some("dump-check") {
        let (_, family) = connect();
        std::process::exit(dump_check(family, &args));
    }
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let count: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10000);
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let (mut nl, family) = connect();
    let mut outcomes: HashMap<i32, u64> = HashMap::new();
    for i in 0..count {
        let (mut cmd, mut a, mut dump) = valid(&mut rng);
        match rng.below(10) {
            0..=4 => {}
            5..=7 => mutate(&mut rng, &mut a),
            8 => cmd = rng.below(256) as u8,
            _ => dump = !dump,
        }
        let version = if rng.chance(3) {
            rng.below(256) as u8
        } else {
            LANA_GENL_VERSION
        };
        let errno = match nl.request(family, cmd, version, &a, dump) {
            Ok(_) => 0,
            Err(e) => e.errno,
        };
        if errno == libc::EAGAIN || errno == libc::EWOULDBLOCK {
            eprintln!("message {i}: no answer from the kernel");
            std::process::exit(1);
        }
        *outcomes.entry(errno).or_default() += 1;
        if i % 500 == 499 {
            if let Err(e) = check_graph(&mut nl, family) {
                eprintln!("after message {i}: inconsistent graph: {e}");
                std::process::exit(1);
            }
        }
    }
    match check_graph(&mut nl, family) {
        Ok(n) => {
            let mut o: Vec<_> = outcomes.into_iter().collect();
            o.sort();
            let summary: Vec<String> = o
                .iter()
                .map(|(e, n)| {
                    format!(
                        "{}:{n}",
                        if *e == 0 {
                            "ok".to_string()
                        } else {
                            format!("errno{e}")
                        }
                    )
                })
                .collect();
            println!(
                "seed {seed}: {count} messages; {}; graph consistent with {n} blocks",
                summary.join(" ")
            );
        }
        Err(e) => {
            eprintln!("inconsistent graph at the end: {e}");
            std::process::exit(1);
        }
    }
}
