// SPDX-License-Identifier: GPL-2.0
//! Host side of `make bench`'s NIC-fed rows: sends 64-byte Ethernet frames (IPv4/UDP to
//! 10.0.0.2, to the guest NIC's MAC), one per UDP datagram, to a QEMU `-netdev socket,udp=`
//! endpoint as fast as it can, until killed. QEMU hands each datagram to the guest's
//! virtio-net device as one received frame; whatever the guest cannot take is dropped on the
//! host (the socket buffer overflows), so the guest's receive queue stays full.

use std::net::UdpSocket;
use std::process::ExitCode;

const USAGE: &str = "usage: lana-nicblast HOST:PORT DST_MAC";

/// The frame: Ethernet, IPv4 (valid header checksum), UDP to port 9 (discard), zero payload
/// up to 60 bytes (64 on the wire with the FCS, which the NIC strips).
fn frame(dst: [u8; 6]) -> [u8; 60] {
    let mut f = [0u8; 60];
    f[0..6].copy_from_slice(&dst);
    f[6..12].copy_from_slice(&[0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let ip = &mut f[14..34];
    ip[0] = 0x45; // IPv4, 20-byte header
    ip[2..4].copy_from_slice(&46u16.to_be_bytes()); // total length: 60 - 14
    ip[8] = 64; // TTL
    ip[9] = 17; // UDP
    ip[12..16].copy_from_slice(&[10, 0, 0, 1]);
    ip[16..20].copy_from_slice(&[10, 0, 0, 2]);
    let sum = ip
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let sum = (sum & 0xffff) + (sum >> 16);
    let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    let udp = &mut f[34..42];
    udp[0..2].copy_from_slice(&9u16.to_be_bytes());
    udp[2..4].copy_from_slice(&9u16.to_be_bytes());
    udp[4..6].copy_from_slice(&26u16.to_be_bytes()); // 8 + 18 bytes of payload
    f
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in mac.iter_mut() {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--version") {
        println!("lana-nicblast {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let to = args
        .get(1)
        .and_then(|a| a.parse::<std::net::SocketAddr>().ok());
    let (Some(to), Some(mac)) = (to, args.get(2).and_then(|m| parse_mac(m))) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let sock = match UdpSocket::bind("127.0.0.1:0") {
        Ok(s) => s,
        Err(e) => {
            eprintln!("lana-nicblast: bind: {e}");
            return ExitCode::from(1);
        }
    };
    let f = frame(mac);
    loop {
        // Unconnected: a QEMU not listening yet (or any more) is not an error here.
        let _ = sock.send_to(&f, to);
    }
}
