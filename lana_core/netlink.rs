// SPDX-License-Identifier: GPL-2.0
//! The generic-netlink family `lana`: request parsing, replies and dumps.
//!
//! The family, its ops and its strict attribute policies are static C data in `ffi.c`; every
//! op lands in [`lana_rust_doit`] or [`lana_rust_dumpit`]. Attributes arrive validated by the
//! policy (types, lengths, NUL-terminated strings); the checks here are about meaning.
//! Changing commands carry `GENL_ADMIN_PERM` (CAP_NET_ADMIN), checked by genetlink.

use crate::ffi;
use crate::props::PropSink;
use crate::config::{self, Config, MAX_PROPS};
use crate::msg::{fail, CmdResult, MsgBuf};
use crate::uapi::*;
use core::fmt::{self, Write};
use kernel::bindings;
use kernel::prelude::*;

/// Register the family (module init).
pub(crate) fn register_family() -> Result {
    // SAFETY: registers the static family defined in ffi.c; unregistered in module exit.
    kernel::error::to_result(unsafe { ffi::lana_genl_register() })
}

/// Unregister the family (module exit). Waits for running ops to finish.
pub(crate) fn unregister_family() {
    // SAFETY: registered in module init.
    unsafe { ffi::lana_genl_unregister() };
}

/// A request being handled by a `doit`.
///
/// # Invariants
///
/// `info` is the valid `genl_info` of the running op, its attributes validated by the policy.
struct Request {
    info: *mut bindings::genl_info,
}

/// The payload of attribute `nla`, or an empty slice.
///
/// # Safety
///
/// `nla` must be NULL or a valid attribute that outlives `'a`.
unsafe fn nla_bytes<'a>(nla: *const bindings::nlattr) -> &'a [u8] {
    if nla.is_null() {
        return &[];
    }
    // SAFETY: `nla` is a valid attribute (caller); its payload has `nla_len` bytes.
    unsafe {
        let len = ffi::lana_nla_len(nla);
        if len <= 0 {
            return &[];
        }
        core::slice::from_raw_parts(ffi::lana_nla_data(nla).cast::<u8>(), len as usize)
    }
}

/// A NUL-terminated string payload as `&str` (the policy guarantees the NUL).
fn nul_str(b: &[u8]) -> Option<&str> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    core::str::from_utf8(&b[..end]).ok()
}

impl Request {
    fn attr(&self, ty: u16) -> &[u8] {
        // SAFETY: `info` is valid (type invariant); attrs[] has maxattr + 1 entries and
        // `ty` <= LANA_A_MAX; the attribute lives in the request skb for the whole op.
        unsafe { nla_bytes(ffi::lana_info_attr(self.info, ty as c_int)) }
    }

    fn has(&self, ty: u16) -> bool {
        // SAFETY: as in `attr`.
        !unsafe { ffi::lana_info_attr(self.info, ty as c_int) }.is_null()
    }

    fn string(&self, ty: u16, what: &str) -> CmdResult<&str> {
        if !self.has(ty) {
            fail!(EINVAL, "missing attribute: {}", what);
        }
        match nul_str(self.attr(ty)) {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => fail!(EINVAL, "empty {}", what),
            None => fail!(EINVAL, "{} is not valid UTF-8", what),
        }
    }

    fn flags(&self) -> u32 {
        let b = self.attr(LANA_A_FLAGS);
        if b.len() == 4 {
            u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
        } else {
            0
        }
    }

    /// The `LANA_A_PROP` strings nested in `LANA_A_PROPS`.
    fn props(&self) -> CmdResult<KVec<&str>> {
        let mut out = KVec::new();
        let mut rest = self.attr(LANA_A_PROPS);
        // Walk the nested attributes (already validated by the policy: well-formed, each a
        // NUL-terminated LANA_A_PROP).
        while rest.len() >= 4 {
            let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
            let ty = u16::from_ne_bytes([rest[2], rest[3]]) & 0x3fff;
            if len < 4 || len > rest.len() {
                fail!(EINVAL, "malformed property list");
            }
            if ty == LANA_A_PROP {
                if out.len() >= MAX_PROPS {
                    fail!(E2BIG, "at most {} properties in one set", MAX_PROPS);
                }
                match nul_str(&rest[4..len]) {
                    Some(s) => out.push(s, GFP_KERNEL)?,
                    None => fail!(EINVAL, "property is not valid UTF-8"),
                }
            }
            rest = &rest[((len + 3) & !3).min(rest.len())..];
        }
        Ok(out)
    }

    fn set_msg(&self, msg: &mut MsgBuf) {
        let bytes = msg.as_bytes_with_nul();
        if bytes.len() <= 1 {
            return;
        }
        // SAFETY: `info` is valid; lana_extack_msg copies the NUL-terminated message into the
        // extack's own buffer (and ignores a NULL extack).
        unsafe {
            ffi::lana_extack_msg(ffi::lana_info_extack(self.info), bytes.as_ptr().cast());
        }
    }
}

/// Entry point of every `doit` (see `ffi.c`).
#[no_mangle]
pub extern "C" fn lana_rust_doit(cmd: u8, info: *mut bindings::genl_info) -> c_int {
    // INVARIANT: genetlink passes the op's valid, policy-checked info.
    let req = Request { info };
    match doit(cmd, &req) {
        Ok(()) => 0,
        Err(mut f) => {
            req.set_msg(&mut f.msg);
            f.err.to_errno()
        }
    }
}

fn doit(cmd: u8, req: &Request) -> CmdResult {
    match cmd {
        LANA_CMD_STATS => return reply_stats(req),
        LANA_CMD_GET => return reply_get(req),
        _ => {}
    }
    let mut cfg = config::lock();
    let cfg: &mut Config = &mut cfg;
    match cmd {
        LANA_CMD_ADD => config::add(cfg, req.string(LANA_A_NAME, "name")?, req.string(LANA_A_TYPE, "type")?),
        LANA_CMD_RM => config::rm(cfg, req.string(LANA_A_NAME, "name")?),
        LANA_CMD_SET => {
            let props = req.props()?;
            config::set(cfg, req.string(LANA_A_NAME, "name")?, &props)
        }
        LANA_CMD_BIND => config::bind(cfg, req.string(LANA_A_NAME, "name")?, req.string(LANA_A_PEER, "peer")?),
        LANA_CMD_UNBIND => config::unbind(cfg, req.string(LANA_A_NAME, "name")?, req.string(LANA_A_PEER, "peer")?),
        LANA_CMD_REPLACE => config::replace(
            cfg,
            req.string(LANA_A_NAME, "name")?,
            req.string(LANA_A_PEER, "peer")?,
            req.flags() & LANA_F_DROP_STATE != 0,
        ),
        LANA_CMD_FLUSH => config::flush(cfg),
        _ => fail!(EOPNOTSUPP, "unknown command {}", cmd),
    }
}

/// A message being filled with attributes.
///
/// # Invariants
///
/// `skb` is a valid netlink message under construction, owned by the caller.
struct Writer {
    skb: *mut bindings::sk_buff,
}

impl Writer {
    fn check(r: c_int) -> Result {
        if r == 0 {
            Ok(())
        } else {
            Err(EMSGSIZE)
        }
    }

    fn put_str(&mut self, ty: u16, s: &str) -> Result {
        let mut buf = [0u8; 288];
        let n = s.len().min(buf.len() - 1);
        buf[..n].copy_from_slice(&s.as_bytes()[..n]);
        // SAFETY: `skb` is valid (invariant); `buf` is NUL-terminated.
        Self::check(unsafe { ffi::lana_nla_put_string(self.skb, ty as c_int, buf.as_ptr().cast()) })
    }

    fn put_u32(&mut self, ty: u16, v: u32) -> Result {
        // SAFETY: `skb` is valid (invariant).
        Self::check(unsafe { ffi::lana_nla_put_u32(self.skb, ty as c_int, v) })
    }

    fn put_u64(&mut self, ty: u16, v: u64) -> Result {
        // SAFETY: `skb` is valid (invariant).
        Self::check(unsafe { ffi::lana_nla_put_u64(self.skb, ty as c_int, v) })
    }

    /// Put a nested attribute filled by `f`.
    fn nest(&mut self, ty: u16, f: impl FnOnce(&mut Self) -> Result) -> Result {
        // SAFETY: `skb` is valid (invariant).
        let nest = unsafe { ffi::lana_nla_nest_start(self.skb, ty as c_int) };
        if nest.is_null() {
            return Err(EMSGSIZE);
        }
        f(self)?;
        // SAFETY: `nest` was started on this skb and nothing was cancelled since.
        unsafe { ffi::lana_nla_nest_end(self.skb, nest) };
        Ok(())
    }
}

/// Formats `key=value` pairs from a block's `show` into `LANA_A_PROP` strings.
struct PropWriter<'a> {
    w: &'a mut Writer,
    err: Result,
}

impl PropSink for PropWriter<'_> {
    fn put(&mut self, key: &str, value: fmt::Arguments<'_>) {
        let mut s = MsgBuf::new_long();
        let _ = write!(s, "{}={}", key, value);
        if self.err.is_ok() {
            self.err = self.w.put_str(LANA_A_PROP, s.as_str());
        }
    }
}

/// Describe the block in `slot` of `cfg`.
fn fill_instance(w: &mut Writer, cfg: &Config, slot: u32) -> Result {
    let node = cfg.node(slot).ok_or(ENOENT)?;
    let inst = &node.inst;
    w.put_u32(LANA_A_ID, inst.id)?;
    w.put_str(LANA_A_NAME, inst.name.as_str())?;
    w.put_str(LANA_A_TYPE, inst.ty.name)?;
    for (attr, ports) in [(LANA_A_INGRESS, &node.ingress), (LANA_A_EGRESS, &node.egress)] {
        w.nest(attr, |w| {
            for &id in ports.iter() {
                w.put_str(LANA_A_NAME, cfg.name_of(id))?;
            }
            Ok(())
        })?;
    }
    let t = inst.stats.sum();
    w.put_u64(LANA_A_PACKETS, t.packets)?;
    w.put_u64(LANA_A_BYTES, t.bytes)?;
    w.put_u64(LANA_A_DROPS, t.drops)?;
    w.nest(LANA_A_PROPS, |w| {
        let mut pw = PropWriter { w, err: Ok(()) };
        inst.fb.show(&mut pw);
        pw.err
    })
}

/// Describe type `i` of `cfg`.
fn fill_type(w: &mut Writer, cfg: &Config, i: usize) -> Result {
    let ty = cfg.types[i].ty;
    w.put_str(LANA_A_TYPE, ty.name)?;
    w.put_str(LANA_A_DESC, ty.description)?;
    w.put_u32(LANA_A_MAX_INGRESS, ty.max_ingress)?;
    w.put_u32(LANA_A_MAX_EGRESS, ty.max_egress)?;
    w.put_u32(LANA_A_INSTANCES, cfg.instances_of(ty))?;
    w.nest(LANA_A_KEYS, |w| {
        for k in ty.keys {
            let mut s = MsgBuf::new_long();
            let _ = write!(s, "{}={}: {}", k.key, k.kind.as_str(), k.help);
            w.put_str(LANA_A_PROP, s.as_str())?;
        }
        Ok(())
    })
}

/// Send a single reply to a `doit`, filled by `f`.
fn reply(req: &Request, cmd: u8, f: impl FnOnce(&mut Writer) -> Result) -> CmdResult {
    let mut hdr: *mut c_void = core::ptr::null_mut();
    // SAFETY: `info` is valid (Request invariant); `hdr` is written on success.
    let skb = unsafe { ffi::lana_reply_new(req.info, cmd, &mut hdr) };
    if skb.is_null() {
        fail!(ENOMEM, "out of memory for the reply");
    }
    // INVARIANT: a fresh reply message we own.
    let mut w = Writer { skb };
    if let Err(e) = f(&mut w) {
        // SAFETY: we own `skb` and have not sent it.
        unsafe { ffi::lana_msg_free(skb) };
        fail!(e, "reply does not fit a netlink message");
    }
    // SAFETY: `skb` and `hdr` come from lana_reply_new; genlmsg_reply consumes the skb.
    kernel::error::to_result(unsafe { ffi::lana_reply_send(skb, hdr, req.info) })?;
    Ok(())
}

fn reply_get(req: &Request) -> CmdResult {
    let name = req.string(LANA_A_NAME, "name")?;
    let cfg = config::lock();
    let Some(slot) = cfg.find(name) else {
        fail!(ENOENT, "no functional block named '{}'", name);
    };
    reply(req, LANA_CMD_GET, |w| fill_instance(w, &cfg, slot))
}

fn reply_stats(req: &Request) -> CmdResult {
    let f = crate::graph::counters().map(|c| c.totals()).unwrap_or_default();
    let (generation, blocks) = {
        let cfg = config::lock();
        (config::generation(), cfg.len() as u32)
    };
    reply(req, LANA_CMD_STATS, |w| {
        w.put_u64(LANA_A_ENGINE_RX, f.entered)?;
        w.put_u64(LANA_A_BYTES, f.entered_bytes)?;
        w.put_u64(LANA_A_ENGINE_COPIES, f.copies)?;
        w.put_u64(LANA_A_ENGINE_DELIVERED, f.delivered)?;
        w.put_u64(LANA_A_ENGINE_TRANSMITTED, f.transmitted)?;
        w.put_u64(LANA_A_DROPS, f.dropped_total())?;
        w.nest(LANA_A_ENGINE_DROP_REASONS, |w| {
            for (i, n) in f.dropped.iter().enumerate() {
                w.put_u64(i as u16 + 1, *n)?;
            }
            Ok(())
        })?;
        w.put_u32(LANA_A_ENGINE_MAX_HOPS, crate::engine::max_hops())?;
        w.put_u32(LANA_A_ENGINE_MAX_BLOCKS, config::max_blocks())?;
        w.put_u32(LANA_A_ENGINE_BLOCKS, blocks)?;
        w.put_u32(LANA_A_GENERATION, generation)?;
        w.put_str(LANA_A_ENGINE_MODE, crate::engine::mechanism())
    })
}

/// Entry point of every dump (see `ffi.c`): one message per block (in slot order) or type,
/// resuming at the slot or index kept in `cb->args[0]`. A dump that spans several calls
/// while the configuration changes is flagged NLM_F_DUMP_INTR (the generation is the
/// sequence number genetlink compares), so userspace retries it.
#[no_mangle]
pub extern "C" fn lana_rust_dumpit(
    cmd: u8,
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
) -> c_int {
    // SAFETY: `cb` is the valid callback of this dump; args[] has 6 entries we own.
    let start = unsafe { *ffi::lana_dump_args(cb) }.max(0) as usize;
    let cfg = config::lock();
    let generation = config::generation();
    let total = match cmd {
        LANA_CMD_GET => cfg.slot_count(),
        LANA_CMD_TYPES => cfg.types.len(),
        _ => return EOPNOTSUPP.to_errno(),
    };
    let mut i = start;
    let mut first = true;
    while i < total {
        if cmd == LANA_CMD_GET && cfg.node(i as u32).is_none() {
            i += 1;
            continue;
        }
        // SAFETY: `skb` and `cb` belong to this dump.
        let hdr = unsafe { ffi::lana_dump_put(skb, cb, cmd, generation) };
        if hdr.is_null() {
            break;
        }
        // INVARIANT: `skb` is the dump's message buffer.
        let mut w = Writer { skb };
        let r = if cmd == LANA_CMD_GET { fill_instance(&mut w, &cfg, i as u32) } else { fill_type(&mut w, &cfg, i) };
        if r.is_err() {
            // SAFETY: `hdr` was put on `skb` above.
            unsafe { ffi::lana_msg_cancel(skb, hdr) };
            if first {
                return EMSGSIZE.to_errno();
            }
            break;
        }
        // SAFETY: `hdr` was put on `skb` above.
        unsafe { ffi::lana_msg_end(skb, hdr) };
        first = false;
        i += 1;
    }
    // SAFETY: as above.
    unsafe { *ffi::lana_dump_args(cb) = i as c_long };
    // SAFETY: `skb` is valid.
    (unsafe { ffi::lana_skb_len(skb) }) as c_int
}
