// SPDX-License-Identifier: GPL-2.0
//! lana-bpfc EXPRESSION...: compile a tcpdump filter expression for Ethernet frames with
//! libpcap (the compiler tcpdump uses) and print it in `tcpdump -ddd` form on one line,
//! comma-separated ("count,code jt jf k,..."), as the `bpf` block's `filter-ddd=` key takes.
//!
//! It is its own program so that fbctl can be a static binary: libpcap (and the libraries
//! Debian links it with) is loaded only when a filter is compiled, not by every fbctl
//! command. Exit codes: 0 compiled, 2 the expression does not compile.

use pcap::{Capture, Linktype};
use std::process::ExitCode;

/// The expression as `tcpdump -ddd` lines joined by commas.
fn compile_ddd(expr: &str) -> Result<String, String> {
    let dead = Capture::dead(Linktype::ETHERNET).map_err(|e| format!("libpcap: {e}"))?;
    let prog = dead
        .compile(expr, true)
        .map_err(|e| format!("filter '{expr}' does not compile: {e}"))?;
    let insns = prog.get_instructions();
    let mut out = insns.len().to_string();
    for i in insns {
        out.push_str(&format!(",{i}"));
    }
    Ok(out)
}

fn main() -> ExitCode {
    let expr = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    if expr == "--version" {
        println!("lana-bpfc {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if expr.is_empty() {
        eprintln!("usage: lana-bpfc EXPRESSION...");
        return ExitCode::from(2);
    }
    match compile_ddd(&expr) {
        Ok(ddd) => {
            println!("{ddd}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_like_tcpdump() {
        // tcpdump -ddd ip (snapshot length 65535): ldh [12]; jeq 0x800; ret 65535; ret 0
        assert_eq!(
            compile_ddd("ip").ok().as_deref(),
            Some("4,40 0 0 12,21 0 1 2048,6 0 0 65535,6 0 0 0")
        );
        let udp53 = compile_ddd("udp and dst port 53").unwrap_or_default();
        assert!(udp53.split(',').count() > 5, "{udp53}");
    }

    #[test]
    fn reports_syntax_errors() {
        let e = compile_ddd("udp and and").err().unwrap_or_default();
        assert!(e.contains("does not compile"), "{e}");
    }
}
