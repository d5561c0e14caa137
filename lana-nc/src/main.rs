// SPDX-License-Identifier: GPL-2.0
//! lana-nc: `nc` over LANA. Binds an AF_LANA socket to a `socket` block and sends messages
//! (stdin lines, or numbered test messages) or prints what arrives. With --count/--check the
//! messages carry a sequence number and a checksum, and the receiver reports what was lost,
//! duplicated, reordered or corrupted: the exit code says whether all arrived intact, in order.

use clap::{Parser, Subcommand};
use std::io::{self, BufRead, Write};
use std::time::{Duration, Instant};

use lana_client::uapi;

#[derive(Parser)]
#[command(
    name = "lana-nc",
    version,
    about = "send and receive through an AF_LANA socket block"
)]
struct Cli {
    /// Address family number of AF_LANA (default: lana_core's sock_family parameter)
    #[arg(long)]
    family: Option<i32>,
    /// Attach this classic BPF program to the socket (SO_ATTACH_FILTER), in tcpdump's -ddd
    /// form as `fbctl filter` prints it: the count, then "code jt jf k" per instruction
    #[arg(long, global = true)]
    filter: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Send stdin lines, or --count numbered messages, through BLOCK ("-": do not bind)
    Send {
        block: String,
        /// Send this many numbered, checksummed messages instead of stdin
        #[arg(long)]
        count: Option<u32>,
        /// Payload bytes per numbered message
        #[arg(long, default_value_t = 64)]
        size: usize,
        /// Pause between messages, microseconds
        #[arg(long, default_value_t = 0)]
        interval_us: u64,
    },
    /// Print what arrives at BLOCK, or check --count numbered messages
    Recv {
        block: String,
        /// Expect this many numbered messages; report and exit when they are in (or at timeout)
        #[arg(long)]
        count: Option<u32>,
        /// Verify sequence numbers and checksums (with --count)
        #[arg(long)]
        check: bool,
        /// Give up after this many seconds without a message
        #[arg(long, default_value_t = 10)]
        timeout: u64,
        /// Non-blocking socket, waiting with poll(2)
        #[arg(long)]
        nonblock: bool,
    },
    /// Bind to BLOCK and keep the socket open for SECONDS
    Hold { block: String, seconds: u64 },
}

const MAGIC: &[u8; 4] = b"LANA";

fn errno_name(e: &io::Error) -> &'static str {
    match e.raw_os_error().unwrap_or(0) {
        libc::EPERM => "EPERM",
        libc::EACCES => "EACCES",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EPROTOTYPE => "EPROTOTYPE",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EDESTADDRREQ => "EDESTADDRREQ",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::ENOTCONN => "ENOTCONN",
        libc::ENETDOWN => "ENETDOWN",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EINVAL => "EINVAL",
        libc::EAGAIN => "EAGAIN",
        _ => "E?",
    }
}

fn fail(what: &str, e: io::Error) -> ! {
    let hint = match e.raw_os_error().unwrap_or(0) {
        libc::EAFNOSUPPORT => " (is lana_core loaded?)",
        libc::EPERM => " (AF_LANA sockets need CAP_NET_RAW, as packet sockets do)",
        libc::EADDRNOTAVAIL => " (no block of that name)",
        libc::EPROTOTYPE => " (that block is not a socket block)",
        libc::EADDRINUSE => " (another socket is bound to that block)",
        libc::EDESTADDRREQ => " (the socket is not bound to a block)",
        libc::ENOTCONN => " (the socket block was removed)",
        libc::ENETDOWN => " (the device at the end of the block's path is down)",
        _ => "",
    };
    eprintln!("lana-nc: {what}: {e} ({}){hint}", errno_name(&e));
    std::process::exit(1);
}

struct Sock(i32);

impl Drop for Sock {
    fn drop(&mut self) {
        // SAFETY: we own the fd.
        unsafe { libc::close(self.0) };
    }
}

fn family(cli: Option<i32>) -> i32 {
    cli.or_else(|| {
        std::fs::read_to_string("/sys/module/lana_core/parameters/sock_family")
            .ok()?
            .trim()
            .parse()
            .ok()
    })
    .unwrap_or(uapi::LANA_AF_DEFAULT)
}

fn open(fam: i32, block: &str, nonblock: bool) -> Sock {
    let flags = if nonblock { libc::SOCK_NONBLOCK } else { 0 };
    // SAFETY: plain socket(2).
    let fd = unsafe { libc::socket(fam, libc::SOCK_RAW | libc::SOCK_CLOEXEC | flags, 0) };
    if fd < 0 {
        fail("socket", io::Error::last_os_error());
    }
    let s = Sock(fd);
    if let Some(ddd) = FILTER.get() {
        attach_filter(&s, ddd);
    }
    if block != "-" {
        // struct sockaddr_lana { sa_family_t family; char name[32]; }
        let mut addr = [0u8; 2 + 32];
        addr[..2].copy_from_slice(&(fam as u16).to_ne_bytes());
        let n = block.len().min(32);
        addr[2..2 + n].copy_from_slice(&block.as_bytes()[..n]);
        // SAFETY: a buffer of the stated length.
        if unsafe { libc::bind(fd, addr.as_ptr().cast(), addr.len() as u32) } < 0 {
            fail(&format!("bind to '{block}'"), io::Error::last_os_error());
        }
    }
    s
}

fn fnv1a(b: &[u8]) -> u32 {
    b.iter().fold(0x811c_9dc5u32, |h, &x| {
        (h ^ x as u32).wrapping_mul(0x0100_0193)
    })
}

fn numbered(seq: u32, size: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..size)
        .map(|i| (seq as usize).wrapping_mul(31).wrapping_add(i) as u8)
        .collect();
    let mut m = MAGIC.to_vec();
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&fnv1a(&payload).to_be_bytes());
    m.extend_from_slice(&payload);
    m
}

/// (seq, intact) of a numbered message, None if it is not one.
fn parse_numbered(m: &[u8]) -> Option<(u32, bool)> {
    if m.len() < 12 || &m[..4] != MAGIC {
        return None;
    }
    let seq = u32::from_be_bytes(m[4..8].try_into().ok()?);
    let sum = u32::from_be_bytes(m[8..12].try_into().ok()?);
    Some((seq, fnv1a(&m[12..]) == sum))
}

fn send_one(s: &Sock, m: &[u8]) {
    // SAFETY: valid fd and buffer.
    if unsafe { libc::send(s.0, m.as_ptr().cast(), m.len(), 0) } < 0 {
        fail("send", io::Error::last_os_error());
    }
}

/// The --filter program, for every socket this run opens.
static FILTER: std::sync::OnceLock<Vec<libc::sock_filter>> = std::sync::OnceLock::new();

/// A program in tcpdump's -ddd form: the instruction count, then four numbers each.
fn parse_ddd(text: &str) -> Result<Vec<libc::sock_filter>, String> {
    let nums = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<u32>()
                .map_err(|_| format!("'{t}' is not a number"))
        })
        .collect::<Result<Vec<u32>, String>>()?;
    let (&n, rest) = nums.split_first().ok_or("an empty program")?;
    if rest.len() != 4 * n as usize || n == 0 {
        return Err(format!(
            "{n} instructions announced, {} numbers follow (4 each)",
            rest.len()
        ));
    }
    rest.chunks(4)
        .map(|c| {
            Ok(libc::sock_filter {
                code: u16::try_from(c[0]).map_err(|_| "an opcode over 16 bits")?,
                jt: u8::try_from(c[1]).map_err(|_| "a jump over 8 bits")?,
                jf: u8::try_from(c[2]).map_err(|_| "a jump over 8 bits")?,
                k: c[3],
            })
        })
        .collect()
}

fn attach_filter(s: &Sock, prog: &[libc::sock_filter]) {
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr().cast_mut(),
    };
    // SAFETY: valid fd; `fprog` points to `prog`, which outlives the call.
    let r = unsafe {
        libc::setsockopt(
            s.0,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&fprog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as u32,
        )
    };
    if r < 0 {
        fail("SO_ATTACH_FILTER", io::Error::last_os_error());
    }
}

fn main() {
    let cli = Cli::parse();
    if let Some(text) = &cli.filter {
        match parse_ddd(text) {
            Ok(prog) => {
                let _ = FILTER.set(prog);
            }
            Err(e) => {
                eprintln!("lana-nc: --filter: {e}");
                std::process::exit(2);
            }
        }
    }
    let fam = family(cli.family);
    match cli.cmd {
        Cmd::Send {
            block,
            count,
            size,
            interval_us,
        } => {
            let s = open(fam, &block, false);
            match count {
                Some(n) => {
                    for seq in 0..n {
                        send_one(&s, &numbered(seq, size));
                        if interval_us > 0 {
                            std::thread::sleep(Duration::from_micros(interval_us));
                        }
                    }
                    println!("sent {n}");
                }
                None => {
                    for line in io::stdin().lock().lines() {
                        let line = line.unwrap_or_default();
                        send_one(&s, line.as_bytes());
                    }
                }
            }
        }
        Cmd::Recv {
            block,
            count,
            check,
            timeout,
            nonblock,
        } => {
            let s = open(fam, &block, nonblock);
            if !nonblock {
                let tv = libc::timeval {
                    tv_sec: timeout as i64,
                    tv_usec: 0,
                };
                // SAFETY: valid fd and timeval.
                unsafe {
                    libc::setsockopt(
                        s.0,
                        libc::SOL_SOCKET,
                        libc::SO_RCVTIMEO,
                        (&tv as *const libc::timeval).cast(),
                        std::mem::size_of::<libc::timeval>() as u32,
                    )
                };
            }
            println!("ready");
            let _ = io::stdout().flush();
            let want = count.unwrap_or(u32::MAX);
            let (mut got, mut bad, mut dups, mut reordered, mut foreign) =
                (0u32, 0u32, 0u32, 0u32, 0u32);
            let mut seen = vec![false; count.unwrap_or(0) as usize];
            let mut last: Option<u32> = None;
            let mut buf = vec![0u8; 65536];
            let mut deadline = Instant::now() + Duration::from_secs(timeout);
            while got < want {
                if nonblock {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let mut p = libc::pollfd {
                        fd: s.0,
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd.
                    let r = unsafe { libc::poll(&mut p, 1, left.as_millis() as i32) };
                    if r == 0 {
                        break;
                    }
                }
                // SAFETY: valid fd and buffer.
                let n = unsafe { libc::recv(s.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
                if n < 0 {
                    let e = io::Error::last_os_error();
                    if e.kind() == io::ErrorKind::WouldBlock
                        && nonblock
                        && Instant::now() < deadline
                    {
                        continue;
                    }
                    if e.kind() == io::ErrorKind::WouldBlock {
                        break; // timeout
                    }
                    fail("recv", e);
                }
                deadline = Instant::now() + Duration::from_secs(timeout);
                let m = &buf[..n as usize];
                if count.is_none() {
                    println!("{}", String::from_utf8_lossy(m));
                    continue;
                }
                match parse_numbered(m) {
                    None => foreign += 1,
                    Some((seq, intact)) => {
                        got += 1;
                        if !intact {
                            bad += 1;
                        }
                        match seen.get_mut(seq as usize) {
                            Some(true) => dups += 1,
                            Some(x) => *x = true,
                            None => foreign += 1,
                        }
                        if last.is_some_and(|l| seq <= l) {
                            reordered += 1;
                        }
                        last = Some(seq);
                    }
                }
            }
            if let Some(n) = count {
                let received = seen.iter().filter(|&&x| x).count() as u32;
                let lost = n - received;
                println!("received {received} of {n}: lost {lost}, duplicated {dups}, reordered {reordered}, corrupted {bad}, other {foreign}");
                if check && (lost > 0 || dups > 0 || reordered > 0 || bad > 0) {
                    std::process::exit(1);
                }
            }
        }
        Cmd::Hold { block, seconds } => {
            let _s = open(fam, &block, false);
            println!("ready");
            let _ = io::stdout().flush();
            std::thread::sleep(Duration::from_secs(seconds));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_messages_round_trip_and_detect_corruption() {
        let m = numbered(42, 100);
        assert_eq!(parse_numbered(&m), Some((42, true)));
        let mut bad = m.clone();
        bad[50] ^= 1;
        assert_eq!(parse_numbered(&bad), Some((42, false)));
        assert_eq!(parse_numbered(b"hello"), None);
    }
}
