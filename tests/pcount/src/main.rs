// SPDX-License-Identifier: GPL-2.0
//! lana-pcount IFNAME DDD STOPFILE: attach the classic BPF program DDD (`tcpdump -ddd` lines
//! joined by commas, as `fbctl -j filter` prints) to an AF_PACKET socket on IFNAME with
//! SO_ATTACH_FILTER, print "ready", and when STOPFILE appears print how many packets the
//! kernel's filter accepted (PACKET_STATISTICS, including those the socket had no room for).
//! The reference the `bpf` block is checked against.

use std::ffi::CString;
use std::mem::size_of;
use std::time::{Duration, Instant};

#[repr(C)]
struct SockFilter {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

#[repr(C)]
#[derive(Default)]
struct TpacketStats {
    tp_packets: u32,
    tp_drops: u32,
}

fn parse_ddd(text: &str) -> Result<Vec<SockFilter>, String> {
    let mut parts = text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let n: usize = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or("missing count")?;
    let mut v = Vec::new();
    for p in parts {
        let f: Vec<u32> = p
            .split_whitespace()
            .map(|x| x.parse().map_err(|_| format!("bad number in '{p}'")))
            .collect::<Result<_, _>>()?;
        let [code, jt, jf, k] = f[..] else {
            return Err(format!("bad instruction '{p}'"));
        };
        v.push(SockFilter {
            code: code as u16,
            jt: jt as u8,
            jf: jf as u8,
            k,
        });
    }
    if v.len() != n {
        return Err("count mismatch".into());
    }
    Ok(v)
}

fn check(r: i32, what: &str) -> Result<(), String> {
    if r < 0 {
        Err(format!("{what}: {}", std::io::Error::last_os_error()))
    } else {
        Ok(())
    }
}

fn run(ifname: &str, ddd: &str, stop: &str) -> Result<u32, String> {
    let insns = parse_ddd(ddd)?;
    let prog = SockFprog {
        len: insns.len() as u16,
        filter: insns.as_ptr(),
    };
    let c_if = CString::new(ifname).map_err(|_| "bad interface name")?;
    // SAFETY: plain libc calls with valid pointers and sizes; the fd is closed at exit.
    unsafe {
        // protocol 0: no packets until bind, so none arrives before the filter is attached
        let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0);
        check(fd, "socket")?;
        let rcvbuf: i32 = 1 << 20;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&rcvbuf as *const i32).cast(),
            4,
        );
        check(
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_ATTACH_FILTER,
                (&prog as *const SockFprog).cast(),
                size_of::<SockFprog>() as u32,
            ),
            "SO_ATTACH_FILTER",
        )?;
        let ifindex = libc::if_nametoindex(c_if.as_ptr());
        if ifindex == 0 {
            return Err(format!("no interface {ifname}"));
        }
        let mut sll: libc::sockaddr_ll = std::mem::zeroed();
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        sll.sll_ifindex = ifindex as i32;
        check(
            libc::bind(
                fd,
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as u32,
            ),
            "bind",
        )?;
        println!("ready");
        let t0 = Instant::now();
        while !std::path::Path::new(stop).exists() {
            if t0.elapsed() > Duration::from_secs(300) {
                return Err("timed out waiting for the stop file".into());
            }
            // drain what is queued so the counts do not depend on the buffer size
            let mut buf = [0u8; 2048];
            while libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) > 0 {}
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut st = TpacketStats::default();
        let mut len = size_of::<TpacketStats>() as u32;
        check(
            libc::getsockopt(
                fd,
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut st as *mut TpacketStats).cast(),
                &mut len,
            ),
            "PACKET_STATISTICS",
        )?;
        libc::close(fd);
        Ok(st.tp_packets)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--version") {
        println!("lana-pcount {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    if args.len() != 4 {
        eprintln!("usage: lana-pcount IFNAME DDD STOPFILE");
        std::process::exit(2);
    }
    match run(&args[1], &args[2], &args[3]) {
        Ok(n) => println!("{n}"),
        Err(e) => {
            eprintln!("lana-pcount: {e}");
            std::process::exit(1);
        }
    }
}
