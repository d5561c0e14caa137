// SPDX-License-Identifier: GPL-2.0
//! fbctl: build and change LANA functional-block graphs at runtime.
//!
//! Exit codes (scripts may rely on them): 0 success; 1 the kernel refused the command (the
//! message says why); 2 bad usage or a malformed batch file; 3 LANA is not loaded; 4 another
//! system error.

mod pcap;

use clap::{Parser, Subcommand};
use lana_client::attr::AttrWriter;
use lana_client::genl::NlError;
use lana_client::uapi::*;
use lana_client::{Block, ConnectError, Stats, Values};
use std::process::ExitCode;

const EXIT_REFUSED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_NOT_LOADED: u8 = 3;
const EXIT_SYSTEM: u8 = 4;

#[derive(Parser, Debug)]
#[command(
    name = "fbctl",
    version,
    about = "Configure LANA functional-block graphs",
    after_help = "Exit codes: 0 ok, 1 refused by the kernel, 2 usage, 3 LANA not loaded, 4 system error."
)]
struct Cli {
    /// Print results as JSON (errors too, on standard error)
    #[arg(short = 'j', long = "json", global = true)]
    json: bool,
    /// Pretty-print the JSON (with -j)
    #[arg(short = 'p', long = "pretty", global = true)]
    pretty: bool,
    /// Show statistics: the figures blocks keep and what the engine counted for each (as
    /// `ip -s`; JSON always has them)
    #[arg(short = 's', long = "stats", global = true)]
    stats: bool,
    /// Apply the changes in FILE ('-': standard input), one per line ('#' starts a comment),
    /// as one transaction: all of them, published at once, or none (as `nft -f`)
    #[arg(short = 'b', long = "batch", value_name = "FILE")]
    batch: Option<String>,
    /// Change only if the graph is still at generation N (see `fbctl stats`), else ESTALE
    /// and nothing changes; in a batch, every line must follow the one before with no
    /// change by anyone else in between
    #[arg(long = "expect-gen", value_name = "N")]
    expect_gen: Option<u32>,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand, Debug, PartialEq)]
enum Cmd {
    /// Create a block NAME of type TYPE
    Add {
        /// The new block's name (at most 31 characters)
        name: String,
        /// Its type (see `fbctl types`)
        r#type: String,
    },
    /// Remove an unbound block
    Rm {
        /// The block
        name: String,
    },
    /// Set properties, all or none: KEY=VALUE... (a type's keys: `fbctl types TYPE`)
    Set {
        /// The block
        name: String,
        /// The properties to set
        #[arg(required = true, value_name = "KEY=VALUE")]
        props: Vec<String>,
    },
    /// Make TO the next block of FROM (ingress) and FROM the next block of TO (egress)
    Bind {
        /// The block nearer the wire
        from: String,
        /// The block nearer the applications
        to: String,
    },
    /// Undo a bind
    Unbind {
        /// As in `bind`
        from: String,
        /// As in `bind`
        to: String,
    },
    /// Put block NEW (unbound) in the place of OLD, carrying OLD's state over; OLD is removed
    Replace {
        /// The block to replace
        old: String,
        /// The unbound block that takes its place
        new: String,
        /// Do not carry the old block's state over
        #[arg(long)]
        drop_state: bool,
    },
    /// List the blocks
    #[command(alias = "ls")]
    List,
    /// Show one block
    Show {
        /// The block
        name: String,
    },
    /// List the block types the loaded modules provide, or one type with its keys
    Types {
        /// Only this type
        r#type: Option<String>,
    },
    /// Show the bindings; --dot for Graphviz
    Graph {
        /// Graphviz's dot language
        #[arg(long)]
        dot: bool,
    },
    /// Show the packet engine's counters; --runtime: per block, calls and time per call
    Stats {
        /// Per-block runtime view (turn it on with `fbctl engine runtime=on`)
        #[arg(long)]
        runtime: bool,
    },
    /// Change the engine's settings: max_hops=N (1-4096), runtime=on|off
    Engine {
        /// The settings to change
        #[arg(required = true, value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
    /// Unbind and remove every block
    Flush,
    /// Print every change as it happens (one JSON object per line with -j), like `ip monitor`
    Monitor,
    /// Compile a tcpdump expression and print it in `tcpdump -ddd` format (no kernel needed)
    Filter {
        /// The expression, as tcpdump takes it
        expression: Vec<String>,
    },
    /// Print fbctl's shell completions (bash, zsh, fish) or its man page (man) to standard
    /// output (make puts both in the guest)
    #[command(hide = true)]
    Generate {
        /// bash, zsh, fish or man
        what: String,
    },
    /// For shell completion: the words that may come next, one per line (names: the
    /// blocks of this namespace; types: the loaded types; keys TYPE_OR_BLOCK: its keys as
    /// `key=`); prints nothing when LANA is not loaded
    #[command(hide = true)]
    Complete {
        /// names, types or keys
        what: String,
        /// For keys: a block or a type
        of: Option<String>,
    },
}

/// Why a command failed, and the exit code that says so.
struct Failure {
    code: u8,
    /// The kernel's errno, when it refused.
    errno: Option<i32>,
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
        libc::ESTALE => "ESTALE",
        libc::ENOBUFS => "ENOBUFS",
        libc::EAGAIN => "EAGAIN",
        libc::EINTR => "EINTR",
        libc::EBADMSG => "EBADMSG",
        _ => "E?",
    }
}

fn refused(what: &str, e: NlError) -> Failure {
    let sys = std::io::Error::from_raw_os_error(e.errno);
    let sys = sys.to_string();
    let sys = sys.split(" (os error").next().unwrap_or("").to_string();
    // The kernel's message says what went wrong; strerror's text for the same number often
    // says something else (ELOOP: "Too many levels of symbolic links"), so it is shown only
    // when there is no message.
    let text = match e.msg {
        Some(m) => format!("{what}: {m} ({})", errno_name(e.errno)),
        None => format!("{what}: {sys} ({})", errno_name(e.errno)),
    };
    // No answer in time, a list that kept changing, a garbled reply: not the kernel refusing.
    let local = matches!(e.errno, libc::EAGAIN | libc::EINTR | libc::EBADMSG);
    Failure {
        code: if local { EXIT_SYSTEM } else { EXIT_REFUSED },
        errno: Some(e.errno),
        text,
    }
}

/// A connection to the family, with fbctl's failures; `.1` the generation the next change
/// expects (`--expect-gen`), followed from change to change.
struct Lana(lana_client::Lana, Option<u32>);

impl Lana {
    fn connect() -> Result<Self, Failure> {
        match lana_client::Lana::connect() {
            Ok(l) => Ok(Lana(l, None)),
            Err(ConnectError::NotLoaded) => Err(Failure {
                code: EXIT_NOT_LOADED,
                errno: None,
                text: "LANA core module not loaded: generic netlink family 'lana' not found (insmod lana_core.ko)".into(),
            }),
            Err(ConnectError::Socket(e)) => Err(Failure {
                code: EXIT_SYSTEM,
                errno: None,
                text: format!("netlink socket: {}", std::io::Error::from_raw_os_error(e.errno)),
            }),
            Err(ConnectError::Other(e)) => Err(refused("resolving the 'lana' family", e)),
        }
    }

    fn call(&mut self, cmd: u8, attrs: &AttrWriter, what: &str) -> Result<(), Failure> {
        let Some(gen) = self.1 else {
            return self
                .0
                .call(cmd, attrs, false)
                .map(drop)
                .map_err(|e| refused(what, e));
        };
        let mut a = attrs.clone();
        a.put_u32(LANA_A_EXPECT_GEN, gen);
        let replies = self.0.call(cmd, &a, false).map_err(|e| refused(what, e))?;
        // the generation this change made: the next change of the chain expects it
        let next = replies
            .iter()
            .find_map(|p| lana_client::attr::find(p, LANA_A_GENERATION).map(|_| p))
            .map(|p| lana_client::attr::find_u32(p, LANA_A_GENERATION));
        self.1 = Some(next.ok_or_else(|| Failure {
            code: EXIT_SYSTEM,
            errno: None,
            text: format!("{what}: applied, but the kernel sent no new generation"),
        })?);
        Ok(())
    }
}

/// `-` for an empty list, the names joined by commas otherwise.
fn names(v: &[String]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.join(",")
    }
}

/// `key value` pairs on one line, `(none)` for none.
fn values_line(v: &Values) -> String {
    if v.is_empty() {
        return "(none)".into();
    }
    v.0.iter()
        .map(|(k, v)| format!("{k} {}", quoted(&v.to_string())))
        .collect::<Vec<_>>()
        .join("  ")
}

/// `fbctl show`: the block, its bindings, its settings and what it keeps; with `-s`, what
/// the engine counted for it.
fn print_block(b: &Block, stats: bool) {
    println!("{} (id {}, type {})", b.name, b.id, b.kind);
    println!("  ingress -> {}", names(&b.ingress));
    println!("  egress  -> {}", names(&b.egress));
    println!("  config: {}", values_line(&b.config));
    if !b.state.is_empty() {
        println!("  state:  {}", values_line(&b.state));
    }
    if stats {
        let s = &b.stats;
        println!(
            "  engine: packets {}  bytes {}  drops {}  calls {}  runtime_ns {}",
            s.packets, s.bytes, s.drops, s.calls, s.runtime_ns
        );
    }
}

/// `-p`: pretty JSON.
static PRETTY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn json<T: serde::Serialize>(v: &T) -> String {
    if PRETTY.load(std::sync::atomic::Ordering::Relaxed) {
        serde_json::to_string_pretty(v).unwrap_or_default()
    } else {
        serde_json::to_string(v).unwrap_or_default()
    }
}

/// The longest block or type name the kernel takes (without the NUL).
const NAME_MAX: usize = LANA_NAME_MAX as usize;

/// Refuse a name the kernel would refuse, before sending anything.
fn check_name(what: &str, name: &str) -> Result<(), Failure> {
    if name.is_empty() || name.len() > NAME_MAX {
        return Err(Failure {
            code: EXIT_USAGE,
            errno: None,
            text: format!(
                "{what}: name '{name}' must be 1 to {NAME_MAX} characters (it has {})",
                name.len()
            ),
        });
    }
    Ok(())
}

/// The request for a change of the graph (add, rm, set, bind, unbind, replace, flush):
/// command, attributes and how to name it in errors; `None` for any other command.
fn change_request(cmd: &Cmd) -> Result<Option<(u8, AttrWriter, String)>, Failure> {
    let mut a = AttrWriter::new();
    match cmd {
        Cmd::Add { name, r#type } => {
            check_name("add", name)?;
            check_name("add", r#type)?;
            a.put_str(LANA_A_NAME, name).put_str(LANA_A_TYPE, r#type);
            Ok(Some((
                LANA_CMD_ADD,
                a,
                format!("add {name} {type}", type = r#type),
            )))
        }
        Cmd::Rm { name } => {
            check_name("rm", name)?;
            a.put_str(LANA_A_NAME, name);
            Ok(Some((LANA_CMD_RM, a, format!("rm {name}"))))
        }
        Cmd::Set { name, props } => {
            check_name("set", name)?;
            let mut inner = AttrWriter::new();
            for p in props {
                let Some((key, value)) = p.split_once('=') else {
                    return Err(Failure {
                        code: EXIT_USAGE,
                        errno: None,
                        text: format!("set {name}: '{p}' is not KEY=VALUE"),
                    });
                };
                // Filter expressions are compiled here (libpcap) and sent as bytecode too.
                if key == "filter" {
                    let ddd = pcap::compile_ddd(value).map_err(|e| Failure {
                        code: EXIT_USAGE,
                        errno: None,
                        text: format!("set {name}: {e}"),
                    })?;
                    inner.put_str(LANA_A_PROP, &format!("filter-ddd={ddd}"));
                }
                inner.put_str(LANA_A_PROP, p);
            }
            a.put_str(LANA_A_NAME, name)
                .put_nested(LANA_A_PROPS, &inner);
            if a.too_large() {
                return Err(Failure {
                    code: EXIT_USAGE,
                    errno: None,
                    text: format!(
                        "set {name}: the settings exceed 64 KiB, netlink's bound for one \
                         attribute: split them over several set commands"
                    ),
                });
            }
            Ok(Some((LANA_CMD_SET, a, format!("set {name}"))))
        }
        Cmd::Bind { from, to } => {
            check_name("bind", from)?;
            check_name("bind", to)?;
            a.put_str(LANA_A_NAME, from).put_str(LANA_A_PEER, to);
            Ok(Some((LANA_CMD_BIND, a, format!("bind {from} {to}"))))
        }
        Cmd::Unbind { from, to } => {
            check_name("unbind", from)?;
            check_name("unbind", to)?;
            a.put_str(LANA_A_NAME, from).put_str(LANA_A_PEER, to);
            Ok(Some((LANA_CMD_UNBIND, a, format!("unbind {from} {to}"))))
        }
        Cmd::Replace {
            old,
            new,
            drop_state,
        } => {
            check_name("replace", old)?;
            check_name("replace", new)?;
            a.put_str(LANA_A_NAME, old).put_str(LANA_A_PEER, new);
            a.put_u32(
                LANA_A_FLAGS,
                if *drop_state { LANA_F_DROP_STATE } else { 0 },
            );
            Ok(Some((LANA_CMD_REPLACE, a, format!("replace {old} {new}"))))
        }
        Cmd::Flush => Ok(Some((LANA_CMD_FLUSH, a, "flush".to_string()))),
        _ => Ok(None),
    }
}

fn run(lana: &mut Lana, cmd: &Cmd, json_out: bool, stats: bool) -> Result<(), Failure> {
    if let Cmd::Filter { expression } = cmd {
        return print_filter(&expression.join(" "), json_out);
    }
    if let Some((n, a, what)) = change_request(cmd)? {
        return lana.call(n, &a, &what);
    }
    let mut a = AttrWriter::new();
    match cmd {
        // (sent above)
        Cmd::Add { .. }
        | Cmd::Rm { .. }
        | Cmd::Set { .. }
        | Cmd::Bind { .. }
        | Cmd::Unbind { .. }
        | Cmd::Replace { .. }
        | Cmd::Flush => {}
        Cmd::List => {
            let blocks = lana.0.list().map_err(|e| refused("list", e))?;
            if json_out {
                println!("{}", json(&blocks));
            } else {
                let counts = |p: &dyn std::fmt::Display,
                              by: &dyn std::fmt::Display,
                              d: &dyn std::fmt::Display| {
                    if stats {
                        format!(" {p:>12} {by:>14} {d:>8}")
                    } else {
                        String::new()
                    }
                };
                println!(
                    "{:>4}  {:<16} {:<10} {:<20} {:<20}{}",
                    "ID",
                    "NAME",
                    "TYPE",
                    "INGRESS",
                    "EGRESS",
                    counts(&"PACKETS", &"BYTES", &"DROPS")
                );
                for b in &blocks {
                    println!(
                        "{:>4}  {:<16} {:<10} {:<20} {:<20}{}",
                        b.id,
                        b.name,
                        b.kind,
                        names(&b.ingress),
                        names(&b.egress),
                        counts(&b.stats.packets, &b.stats.bytes, &b.stats.drops)
                    );
                }
            }
        }
        Cmd::Show { name } => {
            check_name("show", name)?;
            let b = lana
                .0
                .show(name)
                .map_err(|e| refused(&format!("show {name}"), e))?;
            match (b, json_out) {
                (Some(b), true) => println!("{}", json(&b)),
                (Some(b), false) => print_block(&b, stats),
                (None, _) => {}
            }
        }
        Cmd::Types { r#type } => {
            let mut types = lana.0.types().map_err(|e| refused("types", e))?;
            if let Some(t) = r#type {
                types.retain(|x| &x.name == t);
                if types.is_empty() {
                    return Err(Failure {
                        code: EXIT_REFUSED,
                        errno: Some(libc::ENOENT),
                        text: format!(
                            "types: no block type '{t}' (is its module loaded?) (ENOENT)"
                        ),
                    });
                }
            }
            if json_out {
                println!("{}", json(&types));
            } else {
                for t in &types {
                    println!(
                        "{}: {} (ingress {}, egress {}, {} instance(s))",
                        t.name, t.description, t.max_ingress, t.max_egress, t.instances
                    );
                    for k in &t.keys {
                        println!("    {}={}: {}", k.key, k.kind, k.help);
                    }
                }
            }
        }
        Cmd::Graph { dot } => {
            let blocks = lana.0.list().map_err(|e| refused("graph", e))?;
            let edges: Vec<(&str, &str)> = blocks
                .iter()
                .flat_map(|b| {
                    b.ingress
                        .iter()
                        .map(move |to| (b.name.as_str(), to.as_str()))
                })
                .collect();
            if json_out {
                let e: Vec<_> = edges
                    .iter()
                    .map(|(f, t)| serde_json::json!({"from": f, "to": t}))
                    .collect();
                let n: Vec<_> = blocks
                    .iter()
                    .map(|b| serde_json::json!({"name": b.name, "type": b.kind}))
                    .collect();
                println!("{}", serde_json::json!({"blocks": n, "bindings": e}));
            } else if *dot {
                println!("digraph lana {{\n  rankdir=LR;");
                for b in &blocks {
                    println!(
                        "  \"{}\" [label=\"{}\\n{}\\n{} pkts\"];",
                        b.name, b.name, b.kind, b.stats.packets
                    );
                }
                for (f, t) in &edges {
                    println!("  \"{f}\" -> \"{t}\";");
                }
                println!("}}");
            } else {
                for b in blocks
                    .iter()
                    .filter(|b| b.ingress.is_empty() && b.egress.is_empty())
                {
                    println!("{} ({}) unbound", b.name, b.kind);
                }
                for (f, t) in &edges {
                    println!("{f} -> {t}   (egress: {t} -> {f})");
                }
            }
        }
        Cmd::Filter { .. } | Cmd::Generate { .. } | Cmd::Complete { .. } => {}
        Cmd::Monitor => return monitor(lana, json_out),
        Cmd::Stats { runtime: false } => {
            let v = lana.0.stats().map_err(|e| refused("stats", e))?;
            if json_out {
                println!("{}", json(&v));
            } else {
                print_stats(&v);
            }
        }
        Cmd::Stats { runtime: true } => {
            let v = lana.0.stats().map_err(|e| refused("stats", e))?;
            let blocks = lana.0.list().map_err(|e| refused("stats", e))?;
            print_runtime(&v, &blocks, json_out);
        }
        Cmd::Engine { settings } => {
            for kv in settings {
                let bad = |why: &str| Failure {
                    code: EXIT_USAGE,
                    errno: None,
                    text: format!("engine: '{kv}': {why}"),
                };
                match kv.split_once('=') {
                    Some(("max_hops", v)) => {
                        let n: u32 = v
                            .parse()
                            .ok()
                            .filter(|n| (1..=LANA_MAX_HOPS_LIMIT).contains(n))
                            .ok_or_else(|| {
                                bad(&format!("max_hops takes 1 to {LANA_MAX_HOPS_LIMIT}"))
                            })?;
                        a.put_u32(LANA_A_ENGINE_MAX_HOPS, n);
                    }
                    Some(("runtime", v)) => {
                        let on = match v {
                            "on" | "1" => 1,
                            "off" | "0" => 0,
                            _ => return Err(bad("runtime takes on or off")),
                        };
                        a.put_u32(LANA_A_ENGINE_RUNTIME, on);
                    }
                    _ => {
                        return Err(bad(
                            "the engine's settings are max_hops=N and runtime=on|off",
                        ))
                    }
                }
            }
            lana.call(LANA_CMD_ENGINE, &a, "engine")?;
        }
    }
    Ok(())
}

fn print_stats(v: &Stats) {
    println!(
        "engine: {} mechanism, max_hops {}, {} of {} blocks, generation {}, runtime view {}",
        v.mechanism,
        v.max_hops,
        v.blocks,
        v.max_blocks,
        v.generation,
        if v.runtime { "on" } else { "off" }
    );
    println!(
        "  compiled: {} jumps over pass-through blocks, {} blocks jumped",
        v.jumps, v.jumped
    );
    println!(
        "  entered     {:>14}  ({} bytes)",
        v.entered, v.entered_bytes
    );
    println!("  copies      {:>14}", v.copies);
    println!("  delivered   {:>14}", v.delivered);
    println!("  transmitted {:>14}", v.transmitted);
    println!("  dropped     {:>14}", v.dropped_total);
    for (k, n) in v.dropped.iter().filter(|(_, n)| **n != 0) {
        println!("    {k:<13}{n:>12}");
    }
    println!(
        "  in flight   {:>14}  (entered + copies - delivered - transmitted - dropped)",
        v.in_flight
    );
}

/// `fbctl monitor`: subscribe to the change events and print each, until killed.
fn monitor(lana: &mut Lana, json_out: bool) -> Result<(), Failure> {
    use std::io::Write;
    lana.0
        .subscribe()
        .map_err(|e| refused("monitor: subscribing to the change events", e))?;
    let mut out = std::io::stdout().lock();
    loop {
        let events = match lana.0.events() {
            Ok(v) => v,
            Err(e) if e.errno == libc::ENOBUFS => {
                // the kernel dropped events: say so, in the stream, and go on
                if json_out {
                    let _ = writeln!(out, "{}", serde_json::json!({"event": "lost"}));
                } else {
                    let _ = writeln!(
                        out,
                        "lost: some events were dropped (this reader was too slow, or the kernel could not build one)"
                    );
                }
                let _ = out.flush();
                continue;
            }
            Err(e) => return Err(refused("monitor", e)),
        };
        for ev in &events {
            let line = if json_out { json(ev) } else { event_line(ev) };
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return Ok(()); // the reader went away (a closed pipe)
            }
        }
    }
}

/// `s` as one word: quoted and escaped when it has blanks, quotes or control characters
/// (settings come from admins; readers need no privilege, and a terminal must not run what
/// a setting holds).
fn quoted(s: &str) -> String {
    if s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || c == '"' || c.is_control())
    {
        format!("{s:?}")
    } else {
        s.to_string()
    }
}

/// One change, as `fbctl monitor` prints it: the command line that would make it.
fn event_line(ev: &lana_client::Event) -> String {
    let name = ev.name.as_deref().unwrap_or("");
    let peer = ev.peer.as_deref().unwrap_or("");
    let onoff = |b: bool| if b { "on" } else { "off" };
    let what = match ev.event.as_str() {
        "add" => format!(
            "add {name} {} (id {})",
            ev.kind.as_deref().unwrap_or(""),
            ev.id.unwrap_or(0)
        ),
        "set" => format!(
            "set {name} {}",
            ev.props
                .iter()
                .map(|p| quoted(p))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        "bind" | "unbind" => format!("{} {name} {peer}", ev.event),
        "replace" => format!(
            "replace {name} {peer}{}",
            if ev.drop_state == Some(true) {
                " --drop-state"
            } else {
                ""
            }
        ),
        "engine" => {
            let mut s = String::from("engine");
            if let Some(n) = ev.max_hops {
                s += &format!(" max_hops={n}");
            }
            if let Some(r) = ev.runtime {
                s += &format!(" runtime={}", onoff(r));
            }
            s
        }
        "link" => match (ev.attached, ev.link_up) {
            (Some(false), _) => format!("link {name} detached (device gone)"),
            (_, Some(up)) => format!(
                "link {name} {} mtu {}",
                if up { "up" } else { "down" },
                ev.mtu.unwrap_or(0)
            ),
            _ => format!("link {name}"),
        },
        "rm" => format!("rm {name}"),
        other => other.to_string(),
    };
    format!("{what}  [generation {}]", ev.generation)
}

/// `fbctl stats --runtime`: where each packet's cost goes, block by block (VPP's `show
/// runtime`). Pass-through blocks are never called: they show packets, no calls.
fn print_runtime(v: &Stats, blocks: &[Block], json_out: bool) {
    let per = |ns: u64, n: u64| if n == 0 { 0.0 } else { ns as f64 / n as f64 };
    if json_out {
        let rows: Vec<_> = blocks
            .iter()
            .map(|b| {
                serde_json::json!({
                    "name": b.name, "type": b.kind, "packets": b.stats.packets,
                    "calls": b.stats.calls, "runtime_ns": b.stats.runtime_ns,
                    "ns_per_call": per(b.stats.runtime_ns, b.stats.calls),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"runtime": v.runtime, "blocks": rows})
        );
        return;
    }
    if !v.runtime {
        println!(
            "runtime view: off (turn it on: fbctl engine runtime=on); counts since it was last on"
        );
    }
    println!(
        "{:<16} {:<10} {:>12} {:>12} {:>14} {:>10}",
        "NAME", "TYPE", "PACKETS", "CALLS", "NS", "NS/CALL"
    );
    for b in blocks {
        println!(
            "{:<16} {:<10} {:>12} {:>12} {:>14} {:>10.1}",
            b.name,
            b.kind,
            b.stats.packets,
            b.stats.calls,
            b.stats.runtime_ns,
            per(b.stats.runtime_ns, b.stats.calls)
        );
    }
}

fn print_filter(expr: &str, json_out: bool) -> Result<(), Failure> {
    let ddd = pcap::compile_ddd(expr).map_err(|e| Failure {
        code: EXIT_USAGE,
        errno: None,
        text: e,
    })?;
    if json_out {
        println!("{}", serde_json::json!({"expression": expr, "ddd": ddd}));
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
    use clap::{CommandFactory, FromArgMatches};
    let mut cmds = Vec::new();
    // One grammar for every line: building clap's command anew per line cost ~35 us, most
    // of a large file's time (5,000 lines: 0.18 s here, seconds in the guest).
    let mut grammar = Cli::command();
    grammar.build();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let words = split_words(line).map_err(|e| Failure {
            code: EXIT_USAGE,
            errno: None,
            text: format!("{file}:{n}: {e}"),
        })?;
        if words.is_empty() {
            continue;
        }
        let argv = std::iter::once("fbctl".to_string()).chain(words);
        let parsed = grammar
            .try_get_matches_from_mut(argv)
            .and_then(|m| Cli::from_arg_matches(&m));
        match parsed {
            Ok(Cli {
                cmd: Some(cmd),
                batch: None,
                expect_gen: None,
                ..
            }) => cmds.push((n, cmd)),
            Ok(_) => {
                return Err(Failure {
                    code: EXIT_USAGE,
                    errno: None,
                    text: format!("{file}:{n}: expected one command"),
                })
            }
            Err(e) => {
                let first = e
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("error: ")
                    .to_string();
                return Err(Failure {
                    code: EXIT_USAGE,
                    errno: None,
                    text: format!("{file}:{n}: {first}"),
                });
            }
        }
    }
    Ok(cmds)
}

fn main_inner(cli: Cli) -> Result<(), Failure> {
    if let Some(file) = &cli.batch {
        if cli.cmd.is_some() {
            return Err(Failure {
                code: EXIT_USAGE,
                errno: None,
                text: "-b FILE takes no command".into(),
            });
        }
        let text = if file == "-" {
            std::io::read_to_string(std::io::stdin())
        } else {
            std::fs::read_to_string(file)
        }
        .map_err(|e| Failure {
            code: EXIT_USAGE,
            errno: None,
            text: format!("{file}: {e}"),
        })?;
        // The whole file must parse before anything is sent; then it is one transaction.
        let cmds = parse_batch(&text, file)?;
        let mut changes = AttrWriter::new();
        for (n, cmd) in &cmds {
            let Some((num, mut a, _)) = change_request(cmd).map_err(|f| Failure {
                text: format!("{file}:{n}: {}", f.text),
                ..f
            })?
            else {
                return Err(Failure {
                    code: EXIT_USAGE,
                    errno: None,
                    text: format!(
                        "{file}:{n}: a batch is one transaction of changes to the graph \
                         (add, rm, set, bind, unbind, replace, flush); run this on its own"
                    ),
                });
            };
            a.put_u32(LANA_A_CMD, u32::from(num));
            changes.put_nested(LANA_A_BATCH_CMD, &a);
        }
        if cmds.is_empty() {
            return Ok(());
        }
        // (the changes go at the top level: a nest cannot exceed 64 KiB, a message can)
        let req = changes;
        let mut lana = Lana::connect()?;
        lana.0.nl.reserve_send(req.buf.len());
        lana.1 = cli.expect_gen;
        return lana.call(LANA_CMD_BATCH, &req, "").map_err(|f| {
            // The kernel numbers the failing change: name its line instead.
            let msg = f.text.trim_start_matches(": ");
            let (num, rest) = msg.split_once(": ").unwrap_or(("", msg));
            match num
                .parse::<usize>()
                .ok()
                .and_then(|i| cmds.get(i.wrapping_sub(1)))
            {
                Some((line, _)) => Failure {
                    text: format!("{file}:{line}: {rest} (nothing applied)"),
                    ..f
                },
                None => Failure {
                    text: format!("{file}: {msg} (nothing applied)"),
                    ..f
                },
            }
        });
    }
    let Some(cmd) = &cli.cmd else {
        return Err(Failure {
            code: EXIT_USAGE,
            errno: None,
            text: "no command given (see fbctl --help)".into(),
        });
    };
    if let Cmd::Filter { expression } = cmd {
        return print_filter(&expression.join(" "), cli.json);
    }
    if cli.expect_gen.is_some() && !changes(cmd) {
        return Err(Failure {
            code: EXIT_USAGE,
            errno: None,
            text: "--expect-gen goes with a change of the graph (add, rm, set, bind, unbind, replace, flush)"
                .into(),
        });
    }
    let mut lana = Lana::connect()?;
    lana.1 = cli.expect_gen;
    run(&mut lana, cmd, cli.json, cli.stats)
}

/// Whether `cmd` changes the configuration (and so may carry `--expect-gen`).
fn changes(cmd: &Cmd) -> bool {
    matches!(
        cmd,
        Cmd::Add { .. }
            | Cmd::Rm { .. }
            | Cmd::Set { .. }
            | Cmd::Bind { .. }
            | Cmd::Unbind { .. }
            | Cmd::Replace { .. }
            | Cmd::Flush
    )
}

/// `fbctl generate bash|zsh|fish|man`: completions or the man page, from the CLI definition.
fn generate(what: &str) -> Result<(), Failure> {
    generate_into(what, &mut std::io::stdout())
}

fn generate_into(what: &str, out: &mut dyn std::io::Write) -> Result<(), Failure> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let shell = match what {
        "bash" => clap_complete::Shell::Bash,
        "zsh" => clap_complete::Shell::Zsh,
        "fish" => clap_complete::Shell::Fish,
        "man" => {
            return clap_mangen::Man::new(cmd).render(out).map_err(|e| Failure {
                code: EXIT_SYSTEM,
                errno: None,
                text: format!("generate man: {e}"),
            })
        }
        _ => {
            return Err(Failure {
                code: EXIT_USAGE,
                errno: None,
                text: format!("generate: '{what}': bash, zsh, fish or man"),
            })
        }
    };
    clap_complete::generate(shell, &mut cmd, "fbctl", out);
    if shell == clap_complete::Shell::Bash {
        // block names, types and keys come from the running kernel
        let _ = out.write_all(BASH_DYNAMIC.as_bytes());
    }
    Ok(())
}

/// Bash: complete block names, types and `key=` from `fbctl complete`, the rest (commands,
/// options) with clap's generated `_fbctl`.
const BASH_DYNAMIC: &str = r#"
_fbctl_lana() {
    local cur=${COMP_WORDS[COMP_CWORD]} sub="" subi=0 n=0 w i words
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
        -b|--batch|--expect-gen) ((i++)) ;;
        -*) ;;
        *) if [ -z "$sub" ]; then sub=$w subi=$i; else ((n++)); fi ;;
        esac
    done
    case $sub:$n in
    show:0|rm:0|set:0|bind:0|bind:1|unbind:0|unbind:1|replace:0|replace:1)
        words=$(fbctl complete names 2>/dev/null) ;;
    add:1|types:0) words=$(fbctl complete types 2>/dev/null) ;;
    set:*) words=$(fbctl complete keys "${COMP_WORDS[subi + 1]}" 2>/dev/null)
        compopt -o nospace 2>/dev/null ;;
    *) _fbctl "$@"; return ;;
    esac
    [[ $cur == -* ]] && { _fbctl "$@"; return; }
    # word by word (compgen -W would expand $(...) in the words)
    COMPREPLY=()
    while IFS= read -r w; do
        [[ -n $w && $w == "$cur"* ]] && COMPREPLY+=("$w")
    done <<<"$words"
}
complete -F _fbctl_lana -o bashdefault -o default fbctl
"#;

/// `fbctl complete names|types|keys X`: completion words, one per line; quiet on errors
/// (a completion must not print into the user's command line).
fn complete(what: &str, of: Option<&str>) {
    let Ok(mut lana) = lana_client::Lana::connect() else {
        return;
    };
    let words: Vec<String> = match what {
        "names" => lana
            .list()
            .map(|v| v.into_iter().map(|b| b.name).collect())
            .unwrap_or_default(),
        "types" => lana
            .types()
            .map(|v| v.into_iter().map(|t| t.name).collect())
            .unwrap_or_default(),
        "keys" => {
            let Some(of) = of else { return };
            // a block's type, or the type itself
            let ty = match lana.show(of) {
                Ok(Some(b)) => b.kind,
                _ => of.to_string(),
            };
            lana.types()
                .map(|v| {
                    v.into_iter()
                        .filter(|t| t.name == ty)
                        .flat_map(|t| t.keys.into_iter().map(|k| format!("{}=", k.key)))
                        .collect()
                })
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    for w in words {
        println!("{w}");
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    PRETTY.store(cli.pretty, std::sync::atomic::Ordering::Relaxed);
    let json_errors = cli.json;
    let result = match &cli.cmd {
        Some(Cmd::Generate { what }) => generate(what),
        Some(Cmd::Complete { what, of }) => {
            complete(what, of.as_deref());
            Ok(())
        }
        _ => main_inner(cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if json_errors {
                // scripts reading -j get errors in the same form (on standard error)
                let errno = f.errno.map(errno_name);
                eprintln!(
                    "{}",
                    serde_json::json!({
                        "error": {"message": f.text, "errno": errno, "exit": f.code}
                    })
                );
            } else {
                eprintln!("fbctl: {}", f.text);
            }
            ExitCode::from(f.code)
        }
    }
}

#[cfg(test)]
mod tests {
    /// The bash completion completes block names, types and a block's keys from
    /// `fbctl complete` (a stand-in here), and the rest from clap's script.
    #[test]
    fn bash_completes_names_types_and_keys() {
        let mut script = Vec::new();
        assert!(super::generate_into("bash", &mut script).is_ok());
        let dir = std::env::temp_dir().join(format!("fbctl-comp-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("fbctl.bash");
        assert!(std::fs::write(&path, &script).is_ok());
        let test = format!(
            r#"source {}
fbctl() {{ case "$1 $2" in "complete names") printf 'in\nc1\n';; "complete types") printf 'counter\neth\n';;
  "complete keys") [ "$3" = in ] && printf 'dev=\nethertype=\n';; esac; }}
try() {{ COMP_WORDS=("$@"); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMPREPLY=()
  _fbctl_lana fbctl "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"; echo "${{COMPREPLY[*]}}"; }}
try fbctl show ""; try fbctl -s show c; try fbctl add x ""; try fbctl set in ""
try fbctl set in dev=x e; try fbctl unbind in ""; try fbctl sh
"#,
            path.display()
        );
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(&test)
            .output();
        let _ = std::fs::remove_dir_all(&dir);
        let out = match out {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
            Err(e) => panic!("bash: {e}"),
        };
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [
                "in c1",
                "c1",
                "counter eth",
                "dev= ethertype=",
                "ethertype=",
                "in c1",
                "show"
            ]
        );
    }

    use super::*;

    #[test]
    fn grammar_parses_every_command() {
        let p = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("fbctl").chain(args.iter().copied())).map(|c| c.cmd)
        };
        assert_eq!(
            p(&["add", "a", "fwd"]).ok().flatten(),
            Some(Cmd::Add {
                name: "a".into(),
                r#type: "fwd".into()
            })
        );
        assert_eq!(
            p(&["replace", "a", "b", "--drop-state"]).ok().flatten(),
            Some(Cmd::Replace {
                old: "a".into(),
                new: "b".into(),
                drop_state: true
            })
        );
        assert_eq!(
            p(&["set", "c", "reset=1", "x=y"]).ok().flatten(),
            Some(Cmd::Set {
                name: "c".into(),
                props: vec!["reset=1".into(), "x=y".into()]
            })
        );
        assert!(
            p(&["set", "c"]).is_err(),
            "set needs at least one KEY=VALUE"
        );
        assert!(p(&["bind", "a"]).is_err());
        assert!(p(&["frobnicate"]).is_err());
        assert!(Cli::try_parse_from(["fbctl", "-j", "list"])
            .map(|c| c.json)
            .unwrap_or(false));
    }

    #[test]
    fn batch_files_name_the_bad_line() {
        let ok = parse_batch(
            "# a stack\nadd a fwd\n\nbind a b  # comment\nset f filter=\"udp and port 53\"\n",
            "f",
        )
        .ok()
        .unwrap_or_default();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[2].0, 5);
        assert_eq!(
            ok[2].1,
            Cmd::Set {
                name: "f".into(),
                props: vec!["filter=udp and port 53".into()]
            }
        );
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
        let f = refused(
            "bind a b",
            NlError {
                errno: libc::ELOOP,
                msg: Some("binding 'a' to 'b' would form a cycle".into()),
            },
        );
        assert_eq!(f.code, EXIT_REFUSED);
        assert!(
            f.text.contains("ELOOP") && f.text.contains("cycle"),
            "{}",
            f.text
        );
        let f = refused(
            "add a fwd",
            NlError {
                errno: libc::EPERM,
                msg: None,
            },
        );
        assert!(f.text.contains("EPERM"), "{}", f.text);
    }
}
