// SPDX-License-Identifier: GPL-2.0
//! tcpdump-style filter expressions, compiled by libpcap (the compiler tcpdump uses) for
//! Ethernet frames, into the `tcpdump -ddd` text the `bpf` block takes.

use std::ffi::{c_char, c_int, c_uint, CStr, CString};

#[repr(C)]
struct BpfInsn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

#[repr(C)]
struct BpfProgram {
    bf_len: c_uint,
    bf_insns: *mut BpfInsn,
}

enum Pcap {}

const DLT_EN10MB: c_int = 1;
const PCAP_NETMASK_UNKNOWN: u32 = 0xffff_ffff;

#[link(name = "pcap")]
extern "C" {
    fn pcap_open_dead(linktype: c_int, snaplen: c_int) -> *mut Pcap;
    fn pcap_compile(p: *mut Pcap, fp: *mut BpfProgram, s: *const c_char, optimize: c_int, netmask: u32) -> c_int;
    fn pcap_geterr(p: *mut Pcap) -> *const c_char;
    fn pcap_freecode(fp: *mut BpfProgram);
    fn pcap_close(p: *mut Pcap);
}

/// Compile `expr` into `tcpdump -ddd` lines joined by commas ("count,code jt jf k,...").
pub fn compile_ddd(expr: &str) -> Result<String, String> {
    let c_expr = CString::new(expr).map_err(|_| "the expression contains a NUL byte".to_string())?;
    // SAFETY: pcap_open_dead has no preconditions; the handle is closed below.
    let p = unsafe { pcap_open_dead(DLT_EN10MB, 262144) };
    if p.is_null() {
        return Err("libpcap: cannot open a dead handle".into());
    }
    let mut prog = BpfProgram { bf_len: 0, bf_insns: std::ptr::null_mut() };
    // SAFETY: valid handle, program struct and NUL-terminated expression.
    let r = unsafe { pcap_compile(p, &mut prog, c_expr.as_ptr(), 1, PCAP_NETMASK_UNKNOWN) };
    let out = if r != 0 {
        // SAFETY: pcap_geterr returns a NUL-terminated string owned by the handle.
        let msg = unsafe { CStr::from_ptr(pcap_geterr(p)) }.to_string_lossy().into_owned();
        Err(format!("filter '{expr}' does not compile: {msg}"))
    } else {
        // SAFETY: on success bf_insns points to bf_len instructions until pcap_freecode.
        let insns = unsafe { std::slice::from_raw_parts(prog.bf_insns, prog.bf_len as usize) };
        let mut s = insns.len().to_string();
        for i in insns {
            s.push_str(&format!(",{} {} {} {}", i.code, i.jt, i.jf, i.k));
        }
        // SAFETY: compiled above, freed once.
        unsafe { pcap_freecode(&mut prog) };
        Ok(s)
    };
    // SAFETY: opened above, closed once.
    unsafe { pcap_close(p) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_like_tcpdump() {
        // tcpdump -ddd ip: ldh [12]; jeq 0x800; ret 262144; ret 0
        assert_eq!(compile_ddd("ip").ok().as_deref(), Some("4,40 0 0 12,21 0 1 2048,6 0 0 262144,6 0 0 0"));
        let udp53 = compile_ddd("udp and dst port 53").unwrap_or_default();
        assert!(udp53.split(',').count() > 5, "{udp53}");
    }

    #[test]
    fn reports_syntax_errors() {
        let e = compile_ddd("udp and and").err().unwrap_or_default();
        assert!(e.contains("does not compile"), "{e}");
    }
}
