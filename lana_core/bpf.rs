// SPDX-License-Identifier: GPL-2.0
//! [`Filter`]: a classic BPF program, validated and run by the kernel's own BPF machinery
//! (`bpf_prog_create`, the same path as `SO_ATTACH_FILTER`).

use crate::ffi;
use crate::packet::Packet;
use crate::percpu::PacketContext;
use core::ptr::NonNull;
use kernel::prelude::*;

pub use crate::ffi::SockFilter;

/// Longest program accepted (the kernel's `BPF_MAXINSNS`).
pub const MAX_INSNS: usize = 4096;

/// A validated classic BPF program.
///
/// # Invariants
///
/// `prog` is a `struct bpf_prog` from `bpf_prog_create`, destroyed only by `drop`.
pub struct Filter {
    prog: NonNull<c_void>,
    len: usize,
}

// SAFETY: a bpf_prog is immutable once created and may be run concurrently on any CPU.
unsafe impl Send for Filter {}
// SAFETY: as above.
unsafe impl Sync for Filter {}

impl Filter {
    /// Validate `insns` and prepare them to run. `EINVAL` for an invalid program (bad
    /// opcode, jump out of range, no final return, ...).
    pub fn new(insns: &[SockFilter]) -> Result<Self> {
        if insns.is_empty() || insns.len() > MAX_INSNS {
            return Err(EINVAL);
        }
        let mut prog: *mut c_void = core::ptr::null_mut();
        // SAFETY: `insns` is a valid array of `len` sock_filter (same layout, `#[repr(C)]`);
        // the kernel copies it; `prog` is written on success.
        kernel::error::to_result(unsafe {
            ffi::lana_bpf_create(insns.as_ptr(), insns.len() as c_uint, &mut prog)
        })?;
        // INVARIANT: bpf_prog_create succeeded, so `prog` is a live program.
        NonNull::new(prog)
            .map(|prog| Filter {
                prog,
                len: insns.len(),
            })
            .ok_or(EINVAL)
    }

    /// Run the program on `pkt` (from its Ethernet header): the length to keep, 0 to drop.
    /// In the packet path only (`_ctx`: bottom halves off, as `bpf_prog_run` needs).
    #[inline]
    pub fn run(&self, _ctx: &PacketContext, pkt: &Packet) -> u32 {
        // SAFETY: `prog` is live (invariant) and `pkt` owns a valid skb.
        unsafe { ffi::lana_bpf_run(self.prog.as_ptr(), pkt.as_raw()) }
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the program is empty (never: `new` refuses that).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for Filter {
    fn drop(&mut self) {
        // SAFETY: `prog` came from bpf_prog_create and nobody runs it any more (owners keep
        // it behind RCU and drop it after a grace period).
        unsafe { ffi::lana_bpf_destroy(self.prog.as_ptr()) };
    }
}

/// Parse `tcpdump -ddd` output, with lines separated by newlines or commas: the instruction
/// count, then `code jt jf k` per instruction. The error is a message for the user.
pub fn parse_ddd(text: &str) -> core::result::Result<KVec<SockFilter>, &'static str> {
    let mut lines = text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty());
    let count: usize = lines
        .next()
        .and_then(|l| l.parse().ok())
        .ok_or("filter-ddd starts with the instruction count")?;
    if count == 0 || count > MAX_INSNS {
        return Err("a filter has 1 to 4096 instructions");
    }
    let mut out = KVec::with_capacity(count, GFP_KERNEL_ACCOUNT).map_err(|_| "out of memory")?;
    for line in lines {
        let mut f = line.split_ascii_whitespace();
        let mut next = || f.next().and_then(|x| x.parse::<u32>().ok());
        let (Some(code), Some(jt), Some(jf), Some(k)) = (next(), next(), next(), next()) else {
            return Err("each instruction is 'code jt jf k' in decimal");
        };
        if code > u32::from(u16::MAX) || jt > 255 || jf > 255 || next().is_some() {
            return Err("instruction field out of range");
        }
        out.push(
            SockFilter {
                code: code as u16,
                jt: jt as u8,
                jf: jf as u8,
                k,
            },
            GFP_KERNEL,
        )
        .map_err(|_| "out of memory")?;
    }
    if out.len() != count {
        return Err("instruction count does not match the instructions given");
    }
    Ok(out)
}

#[kernel::macros::kunit_tests(lana_bpf)]
mod tests {
    use super::parse_ddd;

    #[test]
    fn ddd_bytecode_parses_and_checks_its_count() {
        let p = parse_ddd("4,40 0 0 12,21 0 1 2048,6 0 0 262144,6 0 0 0");
        assert!(
            matches!(p, Ok(ref v) if v.len() == 4 && v[1].code == 21 && v[1].jf == 1 && v[1].k == 2048)
        );
        assert!(parse_ddd("3,6 0 0 0").is_err());
        assert!(parse_ddd("1,6 0 0").is_err());
        assert!(parse_ddd("1,6 0 256 0").is_err());
        assert!(parse_ddd("0").is_err());
        assert!(parse_ddd("").is_err());
        assert!(parse_ddd("5000,6 0 0 0").is_err());
    }
}
