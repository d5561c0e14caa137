// SPDX-License-Identifier: GPL-2.0
//! A generic-netlink client: resolve a family, send a request, collect the replies, and bring
//! the kernel's errors back with their extended-ack messages.
//!
//! The protocol is the rust-netlink crates': `netlink-sys` owns the socket and its netlink
//! options, `netlink-packet-core` frames and parses the messages (data, ACK, error, DONE),
//! `netlink-packet-generic` adds the genl header and speaks to `nlctrl`. What they leave to
//! the caller is here: the request/reply loop (sequence numbers, dumps, NLM_F_DUMP_INTR),
//! the extended-ack message (netlink-packet-core hands an error's TLVs over as bytes), the
//! receive timeout and the send buffer of a large batch.

use crate::attr::{self, AttrWriter};
use netlink_packet_core::{
    DecodeError, Emitable, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    ParseableParametrized, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_DUMP_INTR,
    NLM_F_REQUEST,
};
use netlink_packet_core::{NlasIterator, Parseable};
use netlink_packet_generic::ctrl::nlas::{GenlCtrlAttrs, McastGrpAttrs};
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};
use std::fmt::Debug;
use std::io;
use std::os::fd::AsRawFd;

/// Attempts at a dump that keeps being interrupted by concurrent changes.
const DUMP_TRIES: usize = 10;
/// `NLMSGERR_ATTR_MSG`: the extended ack's text.
const NLMSGERR_ATTR_MSG: u16 = 1;

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

    fn malformed(e: DecodeError) -> Self {
        NlError {
            errno: libc::EBADMSG,
            msg: Some(format!("malformed netlink reply: {e}")),
        }
    }
}

/// A message of any family: its command, version and attributes as they are (a request of
/// the fuzzer's may be malformed on purpose; a reply's are decoded by the caller).
#[derive(Debug)]
struct Raw {
    cmd: u8,
    version: u8,
    attrs: Vec<u8>,
}

impl GenlFamily for Raw {
    fn family_name() -> &'static str {
        "" // any: the id is resolved at run time and set on the message
    }
    fn command(&self) -> u8 {
        self.cmd
    }
    fn version(&self) -> u8 {
        self.version
    }
}

impl Emitable for Raw {
    fn buffer_len(&self) -> usize {
        self.attrs.len()
    }
    fn emit(&self, buffer: &mut [u8]) {
        buffer.copy_from_slice(&self.attrs);
    }
}

impl ParseableParametrized<[u8], GenlHeader> for Raw {
    fn parse_with_param(buf: &[u8], h: GenlHeader) -> Result<Self, DecodeError> {
        let (cmd, version, attrs) = (h.cmd, h.version, buf.to_vec());
        Ok(Raw {
            cmd,
            version,
            attrs,
        })
    }
}

type Reply = NetlinkMessage<GenlMessage<Raw>>;

/// The messages in one datagram (a malformed one ends the list with an error).
fn messages(mut rest: &[u8]) -> impl Iterator<Item = Result<Reply, DecodeError>> + '_ {
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let len = NetlinkBuffer::new_checked(rest).map(|b| b.length() as usize);
        let one = len.and_then(|len| Reply::deserialize(&rest[..len]).map(|m| (len, m)));
        rest = match one {
            Ok((len, _)) => &rest[attr::align4(len).min(rest.len())..],
            Err(_) => &[],
        };
        Some(one.map(|(_, m)| m))
    })
}

/// Room for the largest event the kernel sends: a `set` of 16 settings of 8 KiB, both as
/// strings and typed, is about 263 KiB. A datagram longer than the buffer would be cut and
/// its event lost without a word.
const EVENT_MAX: usize = 512 * 1024;

/// An open generic-netlink socket.
pub struct Genl {
    sock: Socket,
    seq: u32,
    /// Bytes read per recv(2): the kernel sizes the parts of a dump to what the reader takes.
    pub recv_size: usize,
    /// A pause after each recv(2) of a reply (test tools: a slow reader widens the window in
    /// which a dump can race with changes).
    pub pause: Option<std::time::Duration>,
}

/// setsockopt(2) of an option netlink-sys has no setter for.
fn setsockopt<T>(sock: &Socket, level: i32, opt: i32, value: &T) -> io::Result<()> {
    // SAFETY: a valid fd, and a pointer to a value of the size given.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            opt,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The receive timeout: `secs` seconds, or none (0).
fn recv_timeout(sock: &Socket, secs: libc::time_t) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: secs,
        tv_usec: 0,
    };
    setsockopt(sock, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)
}

impl Genl {
    pub fn open() -> Result<Self, NlError> {
        let sock = Socket::new(NETLINK_GENERIC).map_err(NlError::io)?;
        // Error messages with the kernel's text, and without a copy of the request (a batch
        // is hundreds of KiB). Failure only loses the text (older kernels): ignored.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        // Never wait forever for the kernel: a request without an answer is an error.
        let _ = recv_timeout(&sock, 10);
        Ok(Genl {
            sock,
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
            if setsockopt(&self.sock, libc::SOL_SOCKET, opt, &want).is_ok() {
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
        for _ in 0..if dump { DUMP_TRIES } else { 1 } {
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
        if attrs.too_large() {
            return Err(NlError {
                errno: libc::EMSGSIZE,
                msg: Some(format!(
                    "an attribute over {} bytes, netlink's bound for one: nothing sent",
                    attr::ATTR_PAYLOAD_MAX
                )),
            });
        }
        let attrs = attrs.buf.clone();
        self.transact(
            family,
            Raw {
                cmd,
                version,
                attrs,
            },
            dump,
        )
    }

    /// Send `payload` to `family` and collect the replies' attributes.
    fn transact<F: GenlFamily + Emitable + Debug>(
        &mut self,
        family: u16,
        payload: F,
        dump: bool,
    ) -> Result<(Vec<Vec<u8>>, bool), NlError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut genl = GenlMessage::from_payload(payload);
        genl.set_resolved_family_id(family);
        let mut msg = NetlinkMessage::from(genl);
        msg.header.flags = NLM_F_REQUEST | NLM_F_ACK | if dump { NLM_F_DUMP } else { 0 };
        msg.header.sequence_number = seq;
        msg.finalize();
        let mut bytes = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut bytes);
        self.sock
            .send_to(&bytes, &SocketAddr::new(0, 0), 0)
            .map_err(NlError::io)?;
        let mut out = Vec::new();
        let mut interrupted = false;
        let mut buf = Vec::with_capacity(self.recv_size);
        loop {
            if let Some(p) = self.pause {
                std::thread::sleep(p);
            }
            self.recv(&mut buf)?;
            for m in messages(&buf) {
                let m = m.map_err(NlError::malformed)?;
                if m.header.sequence_number != seq {
                    continue;
                }
                interrupted |= m.header.flags & NLM_F_DUMP_INTR != 0;
                match step(m, dump) {
                    Step::Data(p) => out.push(p),
                    Step::End => return Ok((out, interrupted)),
                    Step::Fail(e) => return Err(e),
                    Step::Skip => {}
                }
            }
        }
    }

    /// One recv(2) into `buf`, which it replaces (retried when a signal interrupts it).
    /// EMSGSIZE when the datagram filled the buffer: it may have been cut, and a cut message
    /// must not pass for a whole one (or vanish). The buffers are larger than anything the
    /// kernel sends (a dump part is at most 32 KiB; an event at most ~128 KiB).
    fn recv(&mut self, buf: &mut Vec<u8>) -> Result<(), NlError> {
        loop {
            buf.clear();
            match self.sock.recv(buf, 0) {
                Ok(n) if n >= buf.capacity() => {
                    return Err(NlError {
                        errno: libc::EMSGSIZE,
                        msg: Some(format!(
                            "a netlink message of {n} bytes or more: larger than this reader takes"
                        )),
                    })
                }
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(NlError::io(e)),
            }
        }
    }

    /// The attributes `nlctrl` gives for family `name` (ENOENT if it is not registered),
    /// those this crate version knows.
    fn family_attrs(&mut self, name: &str) -> Result<Vec<GenlCtrlAttrs>, NlError> {
        let get = GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(name.into())],
        };
        let (replies, _) = self.transact(0, get, false)?;
        // One by one: an attribute newer than netlink-packet-generic must not fail the rest.
        Ok(replies
            .iter()
            .flat_map(|p| NlasIterator::new(&p[..]).map_while(Result::ok))
            .filter_map(|nla| GenlCtrlAttrs::parse(&nla).ok())
            .collect())
    }

    /// The id of multicast group `group` of family `family` (ENOENT if either is missing).
    pub fn resolve_group(&mut self, family: &str, group: &str) -> Result<u32, NlError> {
        for a in self.family_attrs(family)? {
            let GenlCtrlAttrs::McastGroups(groups) = a else {
                continue;
            };
            let wanted = McastGrpAttrs::Name(group.into());
            for g in groups.iter().filter(|g| g.contains(&wanted)) {
                if let Some(McastGrpAttrs::Id(id)) =
                    g.iter().find(|a| matches!(a, McastGrpAttrs::Id(_)))
                {
                    return Ok(*id);
                }
            }
        }
        Err(NlError {
            errno: libc::ENOENT,
            msg: Some(format!("family {family} has no multicast group {group}")),
        })
    }

    /// Receive the messages multicast to group `group` from now on; [`Self::next_events`]
    /// waits for them without a timeout.
    pub fn subscribe(&mut self, group: u32) -> Result<(), NlError> {
        self.sock.add_membership(group).map_err(NlError::io)?;
        // Room for bursts and for the largest events (~128 KiB of data, twice that in
        // memory): the default receive buffer (~208 KiB) would drop one as an overrun.
        let want: i32 = 4 << 20;
        for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
            if setsockopt(&self.sock, libc::SOL_SOCKET, opt, &want).is_ok() {
                break;
            }
        }
        let _ = recv_timeout(&self.sock, 0);
        Ok(())
    }

    /// The next multicast messages a subscription brought, as (command, attributes).
    /// `ENOBUFS` when the kernel had to drop some (the reader was too slow, or an event
    /// could not be built): the caller has missed events.
    pub fn next_events(&mut self, family: u16) -> Result<Vec<(u8, Vec<u8>)>, NlError> {
        let mut buf = Vec::with_capacity(self.recv_size.max(EVENT_MAX));
        match self.recv(&mut buf) {
            // an event too large to read whole is a lost one, as the kernel's ENOBUFS says
            Err(e) if e.errno == libc::EMSGSIZE => {
                return Err(NlError {
                    errno: libc::ENOBUFS,
                    msg: e.msg,
                })
            }
            r => r?,
        }
        Ok(messages(&buf)
            .map_while(Result::ok)
            .filter_map(|m| match m.payload {
                NetlinkPayload::InnerMessage(g) if m.header.message_type == family => {
                    Some((g.payload.cmd, g.payload.attrs))
                }
                _ => None,
            })
            .collect())
    }

    /// The id of generic-netlink family `name` (ENOENT if it is not registered).
    pub fn resolve(&mut self, name: &str) -> Result<u16, NlError> {
        self.family_attrs(name)?
            .into_iter()
            .find_map(|a| match a {
                GenlCtrlAttrs::FamilyId(id) => Some(id),
                _ => None,
            })
            .ok_or(NlError {
                errno: libc::ENOENT,
                msg: None,
            })
    }
}

/// What one reply to a request means.
#[derive(Debug)]
enum Step {
    /// A reply's attributes.
    Data(Vec<u8>),
    /// The ack, or the end of a dump: the answer is complete.
    End,
    Fail(NlError),
    Skip,
}

/// What reply `m` to a request (a dump if `dump`) means: the errors with their errno and the
/// kernel's text.
fn step(m: Reply, dump: bool) -> Step {
    let flags = m.header.flags;
    match m.payload {
        NetlinkPayload::InnerMessage(g) => Step::Data(g.payload.attrs),
        NetlinkPayload::Error(e) => {
            let Some(code) = e.code else {
                return Step::End;
            };
            // the request comes back first: its header only when capped
            let echo = if flags & NLM_F_CAPPED != 0 {
                NetlinkHeader::default().buffer_len()
            } else {
                NetlinkBuffer::new_checked(&e.header[..])
                    .map_or(e.header.len(), |b| b.length() as usize)
            };
            let tlvs = e.header.get(attr::align4(echo)..).unwrap_or(&[]);
            Step::Fail(NlError {
                errno: code.get().wrapping_neg(),
                msg: ext_ack_msg(flags, tlvs),
            })
        }
        NetlinkPayload::Done(d) if d.code != 0 => Step::Fail(NlError {
            errno: d.code.wrapping_neg(),
            msg: ext_ack_msg(flags, &d.extended_ack),
        }),
        NetlinkPayload::Done(_) if dump => Step::End,
        _ => Step::Skip,
    }
}

/// The extended-ack message in `tlvs` (what follows an error's code and echoed request, or
/// a DONE's code), if the kernel sent one.
fn ext_ack_msg(flags: u16, tlvs: &[u8]) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    attr::find(tlvs, NLMSGERR_ATTR_MSG)
        .map(attr::as_str)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    //! Against the running kernel's `nlctrl`, the one family every kernel has: the crates'
    //! framing, capped errors with their extended ack, dumps read in small parts.
    use super::*;

    const GENL_ID_CTRL: u16 = 0x10;
    const CTRL_CMD_GETFAMILY: u8 = 3;
    const CTRL_ATTR_FAMILY_NAME: u16 = 2;

    /// A socket, or None where this machine has no generic netlink (then nothing to test).
    fn open() -> Option<Genl> {
        match Genl::open() {
            Ok(nl) => Some(nl),
            Err(e) => {
                eprintln!(
                    "no generic-netlink socket here (errno {}): skipped",
                    e.errno
                );
                None
            }
        }
    }

    #[test]
    fn families_and_groups_resolve_through_nlctrl() {
        let Some(mut nl) = open() else { return };
        assert_eq!(
            nl.resolve("nlctrl").map_err(|e| e.errno).ok(),
            Some(GENL_ID_CTRL)
        );
        assert!(nl.resolve_group("nlctrl", "notify").is_ok());
        let missing = nl.resolve("lana-nosuch").err().map(|e| e.errno);
        assert_eq!(missing, Some(libc::ENOENT));
        let missing = nl
            .resolve_group("nlctrl", "no-such-group")
            .err()
            .map(|e| e.errno);
        assert_eq!(missing, Some(libc::ENOENT));
    }

    #[test]
    fn errors_bring_the_kernels_message_even_for_a_large_request() {
        let Some(mut nl) = open() else { return };
        // a family name longer than nlctrl's policy allows
        let mut a = AttrWriter::new();
        a.put_str(CTRL_ATTR_FAMILY_NAME, &"A".repeat(100));
        let refused = |nl: &mut Genl, a: &AttrWriter| {
            nl.reserve_send(a.buf.len());
            let e = nl
                .request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, a, false)
                .err();
            let e = e.expect("an over-long name was accepted");
            assert_eq!(e.errno, libc::EINVAL);
            assert!(e.msg.is_some(), "no extended ack: {e:?}");
        };
        refused(&mut nl, &a);
        // the same after 300 KiB of other attributes: the error comes back capped
        for _ in 0..6000 {
            a.put(6, &[0u8; 48]);
        }
        refused(&mut nl, &a);
    }

    #[test]
    fn a_dump_read_in_small_parts_is_whole() {
        let Some(mut nl) = open() else { return };
        nl.recv_size = 4096;
        let all = nl.request(
            GENL_ID_CTRL,
            CTRL_CMD_GETFAMILY,
            1,
            &AttrWriter::new(),
            true,
        );
        let all = all.map_err(|e| e.errno).unwrap_or_default();
        let names: Vec<String> = all
            .iter()
            .map(|p| attr::find_str(p, CTRL_ATTR_FAMILY_NAME))
            .collect();
        assert!(names.iter().any(|n| n == "nlctrl"), "{names:?}");
        assert!(names.len() > 1, "{names:?}");
    }

    /// A message of `ty` with `flags` and `payload`, parsed as a reply.
    fn reply(ty: u16, flags: u16, payload: &[u8]) -> Reply {
        let mut m = ((16 + payload.len()) as u32).to_ne_bytes().to_vec();
        m.extend_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(payload);
        Reply::deserialize(&m).expect("well-formed")
    }

    fn ext_ack(text: &str) -> Vec<u8> {
        let mut a = AttrWriter::new();
        a.put_u32(2, 20).put_str(NLMSGERR_ATTR_MSG, text);
        a.buf
    }

    #[test]
    fn error_and_done_messages_give_errno_and_text() {
        const ERROR: u16 = 2;
        const DONE: u16 = 3;
        const MULTI: u16 = 2;
        // an uncapped error: the whole request (28 bytes) comes back before the TLVs
        let mut p = (-libc::ENOENT).to_ne_bytes().to_vec();
        p.extend_from_slice(&28u32.to_ne_bytes());
        p.extend_from_slice(&[0; 24]);
        p.extend_from_slice(&ext_ack("no such block"));
        let Step::Fail(e) = step(reply(ERROR, NLM_F_ACK_TLVS, &p), false) else {
            panic!("an error read as success");
        };
        assert_eq!(
            (e.errno, e.msg.as_deref()),
            (libc::ENOENT, Some("no such block"))
        );
        // the same without ACK_TLVS: no text
        let Step::Fail(e) = step(reply(ERROR, 0, &p), false) else {
            panic!("an error read as success");
        };
        assert_eq!((e.errno, e.msg), (libc::ENOENT, None));
        // a dump that failed part-way: DONE with an error and its text
        let mut p = (-libc::EMSGSIZE).to_ne_bytes().to_vec();
        p.extend_from_slice(&ext_ack("a block does not fit"));
        let Step::Fail(e) = step(reply(DONE, MULTI | NLM_F_ACK_TLVS, &p), true) else {
            panic!("an error read as success");
        };
        assert_eq!(e.errno, libc::EMSGSIZE);
        assert_eq!(e.msg.as_deref(), Some("a block does not fit"));
        // the ends: an ack, a dump's DONE
        let ok = 0i32.to_ne_bytes();
        assert!(matches!(
            step(
                reply(ERROR, 0, &[ok, [0; 4], [0; 4], [0; 4], [0; 4]].concat()),
                false
            ),
            Step::End
        ));
        assert!(matches!(step(reply(DONE, MULTI, &ok), true), Step::End));
        assert!(matches!(step(reply(DONE, MULTI, &ok), false), Step::Skip));
    }
}
