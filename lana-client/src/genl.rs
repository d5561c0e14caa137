// SPDX-License-Identifier: GPL-2.0
//! A small generic-netlink client: resolve a family, send a request, collect the replies,
//! and bring the kernel's errors back with their extended-ack messages.

use crate::attr::{self, AttrWriter};
use std::io;
use std::mem::size_of;

const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;
const NETLINK_ADD_MEMBERSHIP: i32 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_DUMP_INTR: u16 = 0x10;
/// Attempts at a dump that keeps being interrupted by concurrent changes.
const DUMP_TRIES: usize = 10;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const SOL_NETLINK: i32 = 270;
const NETLINK_EXT_ACK: i32 = 11;
const NETLINK_CAP_ACK: i32 = 10;
const HDR: usize = 16; // struct nlmsghdr
const GENL_HDR: usize = 4; // struct genlmsghdr

/// An error the kernel (or the socket) returned.
#[derive(Debug)]
pub struct NlError {
    /// Positive errno.
    pub errno: i32,
    /// The extended-ack message, if the kernel sent one.
    pub msg: Option<String>,
}

impl NlError {
    fn io(e: io::Error) -> Self {
        NlError {
            errno: e.raw_os_error().unwrap_or(libc::EIO),
            msg: None,
        }
    }
}

/// An open generic-netlink socket.
pub struct Genl {
    fd: i32,
    seq: u32,
    /// Bytes read per recv(2): the kernel sizes the parts of a dump to what the reader takes.
    pub recv_size: usize,
    /// A pause after each recv(2) of a reply (test tools: a slow reader widens the window in
    /// which a dump can race with changes).
    pub pause: Option<std::time::Duration>,
}

impl Drop for Genl {
    fn drop(&mut self) {
        // SAFETY: `fd` is a socket we opened and still own.
        unsafe { libc::close(self.fd) };
    }
}

impl Genl {
    pub fn open() -> Result<Self, NlError> {
        // SAFETY: plain socket(2) call.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_GENERIC,
            )
        };
        if fd < 0 {
            return Err(NlError::io(io::Error::last_os_error()));
        }
        let one: i32 = 1;
        for opt in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
            // SAFETY: valid fd, pointer to an int of the given size. Failure only loses
            // messages, so it is ignored (older kernels).
            unsafe {
                libc::setsockopt(
                    fd,
                    SOL_NETLINK,
                    opt,
                    (&one as *const i32).cast(),
                    size_of::<i32>() as u32,
                );
            }
        }
        // Never wait forever for the kernel: a request without an answer is an error.
        let tv = libc::timeval {
            tv_sec: 10,
            tv_usec: 0,
        };
        // SAFETY: valid fd and a timeval of the given size.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                size_of::<libc::timeval>() as u32,
            );
        }
        Ok(Genl {
            fd,
            seq: 1,
            recv_size: 65536,
            pause: None,
        })
    }

    /// Make the socket's send buffer hold a request of `bytes` (a large batch): forced with
    /// CAP_NET_ADMIN, else as far as `net.core.wmem_max` allows.
    pub fn reserve_send(&mut self, bytes: usize) {
        let want = i32::try_from(bytes.saturating_add(64 * 1024)).unwrap_or(i32::MAX);
        for opt in [libc::SO_SNDBUFFORCE, libc::SO_SNDBUF] {
            // SAFETY: valid fd and a pointer to an int of the given size.
            let r = unsafe {
                libc::setsockopt(
                    self.fd,
                    libc::SOL_SOCKET,
                    opt,
                    (&want as *const i32).cast(),
                    size_of::<i32>() as u32,
                )
            };
            if r == 0 {
                return;
            }
        }
    }

    /// Send one request and collect the payloads (attributes after the genl header) of the
    /// replies, until the ack (or the end of a dump). A dump the kernel flags as interrupted
    /// (the configuration changed while it was read: NLM_F_DUMP_INTR) is read again, so the
    /// answer always describes one state.
    pub fn request(
        &mut self,
        family: u16,
        cmd: u8,
        version: u8,
        attrs: &AttrWriter,
        dump: bool,
    ) -> Result<Vec<Vec<u8>>, NlError> {
        for _ in 0..DUMP_TRIES {
            let (out, interrupted) = self.request_once(family, cmd, version, attrs, dump)?;
            if !interrupted {
                return Ok(out);
            }
        }
        Err(NlError {
            errno: libc::EINTR,
            msg: Some("the graph kept changing while it was read; try again".into()),
        })
    }

    /// [`Self::request`] once: the replies, and whether the kernel flagged the dump as
    /// interrupted by a change.
    pub fn request_once(
        &mut self,
        family: u16,
        cmd: u8,
        version: u8,
        attrs: &AttrWriter,
        dump: bool,
    ) -> Result<(Vec<Vec<u8>>, bool), NlError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut msg = vec![0u8; HDR];
        msg.extend_from_slice(&[cmd, version, 0, 0]);
        msg.extend_from_slice(&attrs.buf);
        let len = msg.len() as u32;
        let flags = NLM_F_REQUEST | NLM_F_ACK | if dump { NLM_F_DUMP } else { 0 };
        msg[0..4].copy_from_slice(&len.to_ne_bytes());
        msg[4..6].copy_from_slice(&family.to_ne_bytes());
        msg[6..8].copy_from_slice(&flags.to_ne_bytes());
        msg[8..12].copy_from_slice(&seq.to_ne_bytes());
        // SAFETY: an all-zero sockaddr_nl is valid; nl_family set below (pid 0: the kernel).
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: valid fd, buffer and address of the stated sizes.
        let r = unsafe {
            libc::sendto(
                self.fd,
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&sa as *const libc::sockaddr_nl).cast(),
                size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if r < 0 {
            return Err(NlError::io(io::Error::last_os_error()));
        }
        let mut out = Vec::new();
        let mut interrupted = false;
        let mut buf = vec![0u8; self.recv_size];
        loop {
            if let Some(p) = self.pause {
                std::thread::sleep(p);
            }
            let n = self.recv(&mut buf)?;
            let mut rest = &buf[..n];
            while rest.len() >= HDR {
                let mlen = u32::from_ne_bytes(rest[0..4].try_into().unwrap_or_default()) as usize;
                let mtype = u16::from_ne_bytes([rest[4], rest[5]]);
                let mflags = u16::from_ne_bytes([rest[6], rest[7]]);
                let mseq = u32::from_ne_bytes(rest[8..12].try_into().unwrap_or_default());
                if mlen < HDR || mlen > rest.len() {
                    return Err(NlError {
                        errno: libc::EBADMSG,
                        msg: Some("malformed netlink reply".into()),
                    });
                }
                let m = &rest[..mlen];
                rest = &rest[attr::align4(mlen).min(rest.len())..];
                if mseq != seq {
                    continue;
                }
                interrupted |= mflags & NLM_F_DUMP_INTR != 0;
                match mtype {
                    NLMSG_ERROR | NLMSG_DONE => {
                        let code = m
                            .get(HDR..HDR + 4)
                            .map(|b| i32::from_ne_bytes(b.try_into().unwrap_or_default()))
                            .unwrap_or(0);
                        if code == 0 {
                            if mtype == NLMSG_DONE && !dump {
                                continue;
                            }
                            return Ok((out, interrupted));
                        }
                        return Err(NlError {
                            errno: -code,
                            msg: ext_ack_msg(m, mtype, mflags),
                        });
                    }
                    _ => out.push(m.get(HDR + GENL_HDR..).unwrap_or(&[]).to_vec()),
                }
            }
        }
    }

    /// One recv(2) into `buf` (retried when a signal interrupts it): the bytes read.
    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, NlError> {
        loop {
            // SAFETY: valid fd and buffer.
            let n = unsafe { libc::recv(self.fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(NlError::io(e));
            }
        }
    }

    /// The id of multicast group `group` of family `family` (ENOENT if either is missing).
    pub fn resolve_group(&mut self, family: &str, group: &str) -> Result<u32, NlError> {
        let mut a = AttrWriter::new();
        a.put_str(CTRL_ATTR_FAMILY_NAME, family);
        let replies = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, &a, false)?;
        for p in &replies {
            let Some(groups) = attr::find(p, CTRL_ATTR_MCAST_GROUPS) else {
                continue;
            };
            for (_, g) in attr::attrs(groups) {
                let name = attr::find(g, CTRL_ATTR_MCAST_GRP_NAME).map(attr::as_str);
                let id = attr::find(g, CTRL_ATTR_MCAST_GRP_ID).and_then(|v| v.get(..4));
                if let (Some(name), Some(id)) = (name, id) {
                    if name == group {
                        return Ok(u32::from_ne_bytes([id[0], id[1], id[2], id[3]]));
                    }
                }
            }
        }
        Err(NlError {
            errno: libc::ENOENT,
            msg: Some(format!("family {family} has no multicast group {group}")),
        })
    }

    /// Receive the messages multicast to group `group` from now on; [`Self::next_event`]
    /// waits for them without a timeout.
    pub fn subscribe(&mut self, group: u32) -> Result<(), NlError> {
        // SAFETY: valid fd, pointer to a u32 of the given size.
        let r = unsafe {
            libc::setsockopt(
                self.fd,
                SOL_NETLINK,
                NETLINK_ADD_MEMBERSHIP,
                (&group as *const u32).cast(),
                size_of::<u32>() as u32,
            )
        };
        if r < 0 {
            return Err(NlError::io(io::Error::last_os_error()));
        }
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        };
        // SAFETY: valid fd and a timeval of the given size (zero: no timeout).
        unsafe {
            libc::setsockopt(
                self.fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                size_of::<libc::timeval>() as u32,
            );
        }
        Ok(())
    }

    /// The next multicast messages a subscription brought, as (command, attributes).
    /// `ENOBUFS` when the kernel had to drop some (the reader was too slow, or an event
    /// could not be built): the caller has missed events.
    pub fn next_events(&mut self, family: u16) -> Result<Vec<(u8, Vec<u8>)>, NlError> {
        let mut buf = vec![0u8; self.recv_size];
        let n = self.recv(&mut buf)?;
        let mut out = Vec::new();
        let mut rest = &buf[..n];
        while rest.len() >= HDR + GENL_HDR {
            let mlen = u32::from_ne_bytes(rest[0..4].try_into().unwrap_or_default()) as usize;
            let mtype = u16::from_ne_bytes([rest[4], rest[5]]);
            if mlen < HDR || mlen > rest.len() {
                break;
            }
            if mtype == family && mlen >= HDR + GENL_HDR {
                out.push((rest[HDR], rest[HDR + GENL_HDR..mlen].to_vec()));
            }
            rest = &rest[attr::align4(mlen).min(rest.len())..];
        }
        Ok(out)
    }

    /// The id of generic-netlink family `name` (ENOENT if it is not registered).
    pub fn resolve(&mut self, name: &str) -> Result<u16, NlError> {
        let mut a = AttrWriter::new();
        a.put_str(CTRL_ATTR_FAMILY_NAME, name);
        let replies = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, &a, false)?;
        replies
            .iter()
            .find_map(|p| {
                attr::find(p, CTRL_ATTR_FAMILY_ID)
                    .and_then(|v| v.get(..2))
                    .map(|v| u16::from_ne_bytes([v[0], v[1]]))
            })
            .ok_or(NlError {
                errno: libc::ENOENT,
                msg: None,
            })
    }
}

/// The extended-ack message of an error (or DONE) message, if any.
fn ext_ack_msg(m: &[u8], mtype: u16, flags: u16) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let tlvs = if mtype == NLMSG_DONE {
        m.get(HDR + 4..)?
    } else {
        // error code, then the original message: its header only when capped.
        let orig_len = if flags & NLM_F_CAPPED != 0 {
            HDR
        } else {
            u32::from_ne_bytes(m.get(HDR + 4..HDR + 8)?.try_into().ok()?) as usize
        };
        m.get(HDR + 4 + attr::align4(orig_len)..)?
    };
    attr::find(tlvs, NLMSGERR_ATTR_MSG)
        .map(attr::as_str)
        .filter(|s| !s.is_empty())
}
