// SPDX-License-Identifier: GPL-2.0
//! fbctl: build and change LANA functional-block graphs at runtime.
//!
//! Exit codes (scripts may rely on them): 0 success; 1 the kernel refused the command (the
//! message says why); 2 bad usage or a malformed batch file; 3 LANA is not loaded; 4 another
//! system error.

mod attr;
mod genl;
mod pcap;
mod uapi;

use attr::AttrWriter;
use clap::{Parser, Subcommand};
use genl::{Genl, NlError};
use serde_json::{json, Value};
use std::process::ExitCode;
use uapi::*;

const EXIT_REFUSED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_NOT_LOADED: u8 = 3;
const EXIT_SYSTEM: u8 = 4;

#[derive(Parser, Debug)]
#[command(name = "fbctl", version, about = "Configure LANA functional-block graphs",
    after_help = "Exit codes: 0 ok, 1 refused by the kernel, 2 usage, 3 LANA not loaded, 4 system error.")]
struct Cli {
    /// Print results as JSON
    #[arg(short = 'j', long = "json", global = true)]
    json: bool,
    /// Run the commands in FILE, one per line ('#' starts a comment); stop at the first error
    #[arg(short = 'b', long = "batch", value_name = "FILE")]
    batch: Option<String>,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand, Debug, PartialEq)]
enum Cmd {
    /// Create a block NAME of type TYPE
    Add { name: String, r#type: String },
    /// Remove an unbound block
    Rm { name: String },
    /// Set properties, all or none: KEY=VALUE...
    Set {
        name: String,
        #[arg(required = true, value_name = "KEY=VALUE")]
        props: Vec<String>,
    },
    /// Make TO the next block of FROM (ingress) and FROM the next block of TO (egress)
    Bind { from: String, to: String },
    /// Undo a bind
    Unbind { from: String, to: String },
    /// Put block NEW (unbound) in the place of OLD, carrying OLD's state over; OLD is removed
    Replace {
        old: String,
        new: String,
        /// Do not carry the old block's state over
        #[arg(long)]
        drop_state: bool,
    },
    /// List the blocks
    #[command(alias = "ls")]
    List,
    /// Show one block
    Show { name: String },
    /// List the block types the loaded modules provide
    Types,
    /// Show the bindings; --dot for Graphviz
    Graph {
        #[arg(long)]
        dot: bool,
    },
    /// Show the packet engine's counters
    Stats,
    /// Unbind and remove every block
    Flush,
    /// Compile a tcpdump expression and print it in `tcpdump -ddd` format (no kernel needed)
    Filter { expression: Vec<String> },
}

/// Why a command failed, and the exit code that says so.
struct Failure {
    code: u8,
    text: String,
}

fn errno_name(e: i32) -> &'static str {
    match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EIO => "EIO",
        libc::E2BIG => "E2BIG",
        libc::ENOMEM => "ENOMEM",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ELOOP => "ELOOP",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EACCES => "EACCES",
        libc::ESRCH => "ESRCH",
        libc::ENOTCONN => "ENOTCONN",
        _ => "E?",
    }
}

fn refused(what: &str, e: NlError) -> Failure {
    let sys = std::io::Error::from_raw_os_error(e.errno);
    let sys = sys.to_string();
    let sys = sys.split(" (os error").next().unwrap_or("").to_string();
    let text = match e.msg {
        Some(m) => format!("{what}: {m} ({}: {sys})", errno_name(e.errno)),
        None => format!("{what}: {sys} ({})", errno_name(e.errno)),
    };
    Failure { code: EXIT_REFUSED, text }
}

struct Lana {
    nl: Genl,
    family: u16,
}

impl Lana {
    fn connect() -> Result<Self, Failure> {
        let mut nl = Genl::open().map_err(|e| Failure { code: EXIT_SYSTEM, text: format!("netlink socket: {}", std::io::Error::from_raw_os_error(e.errno)) })?;
        match nl.resolve(LANA_GENL_NAME) {
            Ok(family) => Ok(Lana { nl, family }),
            Err(e) if e.errno == libc::ENOENT => Err(Failure {
                code: EXIT_NOT_LOADED,
                text: "LANA core module not loaded: generic netlink family 'lana' not found (insmod lana_core.ko)".into(),
            }),
            Err(e) => Err(refused("resolving the 'lana' family", e)),
        }
    }

    fn call(&mut self, cmd: u8, attrs: &AttrWriter, dump: bool, what: &str) -> Result<Vec<Vec<u8>>, Failure> {
        self.nl.request(self.family, cmd, LANA_GENL_VERSION, attrs, dump).map_err(|e| refused(what, e))
    }
}

fn block_json(p: &[u8]) -> Value {
    let props: serde_json::Map<String, Value> = attr::nested_strs(p, LANA_A_PROPS, LANA_A_PROP)
        .into_iter()
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), Value::String(v.to_string()))))
        .collect();
    json!({
        "id": attr::find_u32(p, LANA_A_ID),
        "name": attr::find_str(p, LANA_A_NAME),
        "type": attr::find_str(p, LANA_A_TYPE),
        "ingress": attr::nested_strs(p, LANA_A_INGRESS, LANA_A_NAME),
        "egress": attr::nested_strs(p, LANA_A_EGRESS, LANA_A_NAME),
        "packets": attr::find_u64(p, LANA_A_PACKETS),
        "bytes": attr::find_u64(p, LANA_A_BYTES),
        "drops": attr::find_u64(p, LANA_A_DROPS),
        "props": props,
    })
}

fn type_json(p: &[u8]) -> Value {
    json!({
        "type": attr::find_str(p, LANA_A_TYPE),
        "description": attr::find_str(p, LANA_A_DESC),
        "max_ingress": attr::find_u32(p, LANA_A_MAX_INGRESS),
        "max_egress": attr::find_u32(p, LANA_A_MAX_EGRESS),
        "instances": attr::find_u32(p, LANA_A_INSTANCES),
        "keys": attr::nested_strs(p, LANA_A_KEYS, LANA_A_PROP),
    })
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(s).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn print_block(b: &Value) {
    println!("{} (id {}, type {})", s(&b["name"]), b["id"], s(&b["type"]));
    let dash = |v: &Value| if s(v).is_empty() { "-".to_string() } else { s(v) };
    println!("  ingress -> {}", dash(&b["ingress"]));
    println!("  egress  -> {}", dash(&b["egress"]));
    println!("  packets {}  bytes {}  drops {}", b["packets"], b["bytes"], b["drops"]);
    if let Some(props) = b["props"].as_object() {
        for (k, v) in props {
            println!("  {k}={}", s(v));
        }
    }
}

fn run(lana: &mut Lana, cmd: &Cmd, json_out: bool) -> Result<(), Failure> {
    if let Cmd::Filter { expression } = cmd {
        return print_filter(&expression.join(" "), json_out);
    }
    let mut a = AttrWriter::new();
    match cmd {
        Cmd::Add { name, r#type } => {
            a.put_str(LANA_A_NAME, name).put_str(LANA_A_TYPE, r#type);
            lana.call(LANA_CMD_ADD, &a, false, &format!("add {name} {type}", type = r#type))?;
        }
        Cmd::Rm { name } => {
            a.put_str(LANA_A_NAME, name);
            lana.call(LANA_CMD_RM, &a, false, &format!("rm {name}"))?;
        }
        Cmd::Set { name, props } => {
            let mut inner = AttrWriter::new();
            for p in props {
                let Some((key, value)) = p.split_once('=') else {
                    return Err(Failure { code: EXIT_USAGE, text: format!("set {name}: '{p}' is not KEY=VALUE") });
                };
                // Filter expressions are compiled here (libpcap) and sent as bytecode too.
                if key == "filter" {
                    let ddd = pcap::compile_ddd(value).map_err(|e| Failure { code: EXIT_USAGE, text: format!("set {name}: {e}") })?;
                    inner.put_str(LANA_A_PROP, &format!("filter-ddd={ddd}"));
                }
                inner.put_str(LANA_A_PROP, p);
            }
            a.put_str(LANA_A_NAME, name).put_nested(LANA_A_PROPS, &inner);
            lana.call(LANA_CMD_SET, &a, false, &format!("set {name}"))?;
        }
        Cmd::Bind { from, to } => {
            a.put_str(LANA_A_NAME, from).put_str(LANA_A_PEER, to);
            lana.call(LANA_CMD_BIND, &a, false, &format!("bind {from} {to}"))?;
        }
        Cmd::Unbind { from, to } => {
            a.put_str(LANA_A_NAME, from).put_str(LANA_A_PEER, to);
            lana.call(LANA_CMD_UNBIND, &a, false, &format!("unbind {from} {to}"))?;
        }
        Cmd::Replace { old, new, drop_state } => {
            a.put_str(LANA_A_NAME, old).put_str(LANA_A_PEER, new);
            a.put_u32(LANA_A_FLAGS, if *drop_state { LANA_F_DROP_STATE } else { 0 });
            lana.call(LANA_CMD_REPLACE, &a, false, &format!("replace {old} {new}"))?;
        }
        Cmd::Flush => {
            lana.call(LANA_CMD_FLUSH, &a, false, "flush")?;
        }
        Cmd::List => {
            let blocks: Vec<Value> = lana.call(LANA_CMD_GET, &a, true, "list")?.iter().map(|p| block_json(p)).collect();
            if json_out {
                println!("{}", Value::Array(blocks));
            } else {
                println!("{:>4}  {:<16} {:<10} {:<20} {:<20} {:>12} {:>8}", "ID", "NAME", "TYPE", "INGRESS", "EGRESS", "PACKETS", "DROPS");
                for b in &blocks {
                    let dash = |v: &Value| if s(v).is_empty() { "-".to_string() } else { s(v) };
                    println!("{:>4}  {:<16} {:<10} {:<20} {:<20} {:>12} {:>8}", s(&b["id"]), s(&b["name"]), s(&b["type"]), dash(&b["ingress"]), dash(&b["egress"]), s(&b["packets"]), s(&b["drops"]));
                }
            }
        }
        Cmd::Show { name } => {
            a.put_str(LANA_A_NAME, name);
            let r = lana.call(LANA_CMD_GET, &a, false, &format!("show {name}"))?;
            let b = r.first().map(|p| block_json(p)).unwrap_or(Value::Null);
            if json_out {
                println!("{b}");
            } else {
                print_block(&b);
            }
        }
        Cmd::Types => {
            let types: Vec<Value> = lana.call(LANA_CMD_TYPES, &a, true, "types")?.iter().map(|p| type_json(p)).collect();
            if json_out {
                println!("{}", Value::Array(types));
            } else {
                for t in &types {
                    println!("{}: {} (ingress {}, egress {}, {} instance(s))", s(&t["type"]), s(&t["description"]), t["max_ingress"], t["max_egress"], t["instances"]);
                    for k in t["keys"].as_array().into_iter().flatten() {
                        println!("    {}", s(k));
                    }
                }
            }
        }
        Cmd::Graph { dot } => {
            let blocks: Vec<Value> = lana.call(LANA_CMD_GET, &a, true, "graph")?.iter().map(|p| block_json(p)).collect();
            let edges: Vec<(String, String)> = blocks
                .iter()
                .flat_map(|b| b["ingress"].as_array().into_iter().flatten().map(move |to| (s(&b["name"]), s(to))))
                .collect();
            if json_out {
                let e: Vec<Value> = edges.iter().map(|(f, t)| json!({"from": f, "to": t})).collect();
                let n: Vec<Value> = blocks.iter().map(|b| json!({"name": b["name"], "type": b["type"]})).collect();
                println!("{}", json!({"blocks": n, "bindings": e}));
            } else if *dot {
                println!("digraph lana {{\n  rankdir=LR;");
                for b in &blocks {
                    println!("  \"{}\" [label=\"{}\\n{}\\n{} pkts\"];", s(&b["name"]), s(&b["name"]), s(&b["type"]), b["packets"]);
                }
                for (f, t) in &edges {
                    println!("  \"{f}\" -> \"{t}\";");
                }
                println!("}}");
            } else {
                for b in &blocks {
                    let unbound = b["ingress"].as_array().is_none_or(|v| v.is_empty()) && b["egress"].as_array().is_none_or(|v| v.is_empty());
                    if unbound {
                        println!("{} ({}) unbound", s(&b["name"]), s(&b["type"]));
                    }
                }
                for (f, t) in &edges {
                    println!("{f} -> {t}   (egress: {t} -> {f})");
                }
            }
        }
        Cmd::Filter { .. } => {}
        Cmd::Stats => {
            let r = lana.call(LANA_CMD_STATS, &a, false, "stats")?;
            let p = r.first().map(Vec::as_slice).unwrap_or(&[]);
            let v = stats_json(p);
            if json_out {
                println!("{v}");
            } else {
                print_stats(&v);
            }
        }
    }
    Ok(())
}

/// The engine's accounting: what entered, what became of it, and whether that balances.
fn stats_json(p: &[u8]) -> Value {
    let reasons: Vec<&str> = LANA_DROP_REASON_NAMES.split(',').collect();
    let nest = attr::find(p, LANA_A_ENGINE_DROP_REASONS).unwrap_or(&[]);
    let mut dropped = serde_json::Map::new();
    let mut dropped_total = 0u64;
    for (i, name) in reasons.iter().enumerate() {
        let n = attr::find_u64(nest, i as u16 + 1);
        dropped_total += n;
        dropped.insert(name.to_string(), json!(n));
    }
    let entered = attr::find_u64(p, LANA_A_ENGINE_RX);
    let copies = attr::find_u64(p, LANA_A_ENGINE_COPIES);
    let delivered = attr::find_u64(p, LANA_A_ENGINE_DELIVERED);
    let transmitted = attr::find_u64(p, LANA_A_ENGINE_TRANSMITTED);
    let ended = delivered + transmitted + dropped_total;
    json!({
        "entered": entered,
        "entered_bytes": attr::find_u64(p, LANA_A_BYTES),
        "copies": copies,
        "delivered": delivered,
        "transmitted": transmitted,
        "dropped": dropped,
        "dropped_total": dropped_total,
        "ended": ended,
        "in_flight": (entered + copies) as i128 - ended as i128,
        "max_hops": attr::find_u32(p, LANA_A_ENGINE_MAX_HOPS),
        "max_blocks": attr::find_u32(p, LANA_A_ENGINE_MAX_BLOCKS),
        "blocks": attr::find_u32(p, LANA_A_ENGINE_BLOCKS),
        "generation": attr::find_u32(p, LANA_A_GENERATION),
        "mechanism": attr::find_str(p, LANA_A_ENGINE_MODE),
    })
}

fn print_stats(v: &Value) {
    println!("engine: {} mechanism, max_hops {}, {} of {} blocks, generation {}", s(&v["mechanism"]), v["max_hops"], v["blocks"], v["max_blocks"], v["generation"]);
    println!("  entered     {:>14}  ({} bytes)", v["entered"], v["entered_bytes"]);
    println!("  copies      {:>14}", v["copies"]);
    println!("  delivered   {:>14}", v["delivered"]);
    println!("  transmitted {:>14}", v["transmitted"]);
    println!("  dropped     {:>14}", v["dropped_total"]);
    if let Some(d) = v["dropped"].as_object() {
        for (k, n) in d.iter().filter(|(_, n)| n.as_u64() != Some(0)) {
            println!("    {k:<13}{n:>12}");
        }
    }
    println!("  in flight   {:>14}  (entered + copies - delivered - transmitted - dropped)", v["in_flight"]);
}

fn print_filter(expr: &str, json_out: bool) -> Result<(), Failure> {
    let ddd = pcap::compile_ddd(expr).map_err(|e| Failure { code: EXIT_USAGE, text: e })?;
    if json_out {
        println!("{}", json!({"expression": expr, "ddd": ddd}));
    } else {
        for line in ddd.split(',') {
            println!("{line}");
        }
    }
    Ok(())
}

/// Split a batch line into words: whitespace-separated, double quotes group, '#' comments.
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let (mut in_quotes, mut has) = (false, false);
    for c in line.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                has = true;
            }
            '#' if !in_quotes => break,
            c if c.is_whitespace() && !in_quotes => {
                if has {
                    words.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            c => {
                cur.push(c);
                has = true;
            }
        }
    }
    if in_quotes {
        return Err("unterminated quote".into());
    }
    if has {
        words.push(cur);
    }
    Ok(words)
}

/// Parse a batch file into commands, naming the line of the first malformed one.
fn parse_batch(text: &str, file: &str) -> Result<Vec<(usize, Cmd)>, Failure> {
    let mut cmds = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let words = split_words(line).map_err(|e| Failure { code: EXIT_USAGE, text: format!("{file}:{n}: {e}") })?;
        if words.is_empty() {
            continue;
        }
        let argv = std::iter::once("fbctl".to_string()).chain(words);
        match Cli::try_parse_from(argv) {
            Ok(Cli { cmd: Some(cmd), batch: None, .. }) => cmds.push((n, cmd)),
            Ok(_) => return Err(Failure { code: EXIT_USAGE, text: format!("{file}:{n}: expected one command") }),
            Err(e) => {
                let first = e.to_string().lines().next().unwrap_or("").trim_start_matches("error: ").to_string();
                return Err(Failure { code: EXIT_USAGE, text: format!("{file}:{n}: {first}") });
            }
        }
    }
    Ok(cmds)
}

fn main_inner(cli: Cli) -> Result<(), Failure> {
    if let Some(file) = &cli.batch {
        if cli.cmd.is_some() {
            return Err(Failure { code: EXIT_USAGE, text: "-b FILE takes no command".into() });
        }
        let text = std::fs::read_to_string(file).map_err(|e| Failure { code: EXIT_USAGE, text: format!("{file}: {e}") })?;
        // The whole file must parse before anything is sent.
        let cmds = parse_batch(&text, file)?;
        let mut lana = Lana::connect()?;
        for (n, cmd) in &cmds {
            run(&mut lana, cmd, cli.json).map_err(|f| Failure { code: f.code, text: format!("{file}:{n}: {}", f.text) })?;
        }
        return Ok(());
    }
    let Some(cmd) = &cli.cmd else {
        return Err(Failure { code: EXIT_USAGE, text: "no command given (see fbctl --help)".into() });
    };
    if let Cmd::Filter { expression } = cmd {
        return print_filter(&expression.join(" "), cli.json);
    }
    let mut lana = Lana::connect()?;
    run(&mut lana, cmd, cli.json)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    match main_inner(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("fbctl: {}", f.text);
            ExitCode::from(f.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_parses_every_command() {
        let p = |args: &[&str]| Cli::try_parse_from(std::iter::once("fbctl").chain(args.iter().copied())).map(|c| c.cmd);
        assert_eq!(p(&["add", "a", "fwd"]).ok().flatten(), Some(Cmd::Add { name: "a".into(), r#type: "fwd".into() }));
        assert_eq!(p(&["replace", "a", "b", "--drop-state"]).ok().flatten(), Some(Cmd::Replace { old: "a".into(), new: "b".into(), drop_state: true }));
        assert_eq!(p(&["set", "c", "reset=1", "x=y"]).ok().flatten(), Some(Cmd::Set { name: "c".into(), props: vec!["reset=1".into(), "x=y".into()] }));
        assert!(p(&["set", "c"]).is_err(), "set needs at least one KEY=VALUE");
        assert!(p(&["bind", "a"]).is_err());
        assert!(p(&["frobnicate"]).is_err());
        assert!(Cli::try_parse_from(["fbctl", "-j", "list"]).map(|c| c.json).unwrap_or(false));
    }

    #[test]
    fn batch_files_name_the_bad_line() {
        let ok = parse_batch("# a stack\nadd a fwd\n\nbind a b  # comment\nset f filter=\"udp and port 53\"\n", "f").ok().unwrap_or_default();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[2].0, 5);
        assert_eq!(ok[2].1, Cmd::Set { name: "f".into(), props: vec!["filter=udp and port 53".into()] });
        match parse_batch("add a fwd\nbind a\n", "cmds.txt") {
            Err(f) => {
                assert_eq!(f.code, EXIT_USAGE);
                assert!(f.text.starts_with("cmds.txt:2:"), "{}", f.text);
            }
            Ok(_) => panic!("malformed batch accepted"),
        }
        assert!(parse_batch("add \"a fwd\n", "f").is_err());
    }

    #[test]
    fn errors_carry_errno_name_and_message() {
        let f = refused("bind a b", NlError { errno: libc::ELOOP, msg: Some("binding 'a' to 'b' would form a cycle".into()) });
        assert_eq!(f.code, EXIT_REFUSED);
        assert!(f.text.contains("ELOOP") && f.text.contains("cycle"), "{}", f.text);
        let f = refused("add a fwd", NlError { errno: libc::EPERM, msg: None });
        assert!(f.text.contains("EPERM"), "{}", f.text);
    }
}
