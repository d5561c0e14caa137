// SPDX-License-Identifier: GPL-2.0
//! tcpdump-style filter expressions, compiled by `lana-bpfc` (libpcap, the compiler tcpdump
//! uses) into the `tcpdump -ddd` text the `bpf` block takes. A separate program keeps libpcap
//! out of fbctl, which is then a static binary that starts in milliseconds.

use std::path::PathBuf;
use std::process::Command;

const COMPILER: &str = "lana-bpfc";

/// `lana-bpfc` next to this program, or on PATH.
fn compiler() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(COMPILER)))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(COMPILER))
}

/// Compile `expr` into `tcpdump -ddd` lines joined by commas ("count,code jt jf k,...").
pub fn compile_ddd(expr: &str) -> Result<String, String> {
    let out = Command::new(compiler()).arg(expr).output().map_err(|e| {
        format!("cannot run {COMPILER} (the filter compiler, built with fbctl): {e}")
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}
