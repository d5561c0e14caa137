// SPDX-License-Identifier: GPL-2.0
//! The generic-netlink family `lana`: request parsing, replies and dumps.
//!
//! The family, its ops and its strict attribute policies are static C data in `genl.c`;
//! every op lands in [`lana_rust_doit`] or [`lana_rust_dumpit`]. Attributes arrive validated
//! by the policy (types, lengths, NUL-terminated strings); the checks here are about
//! meaning.
//!
//! The family is netns-aware: every command acts on the graph of the caller's network
//! namespace ([`Space`]). Changing commands carry `GENL_UNS_ADMIN_PERM` (CAP_NET_ADMIN in
//! the user namespace owning that network namespace), the engine's settings, which are the
//! machine's, `GENL_ADMIN_PERM`; genetlink checks both. Reads need no privilege.

use crate::binding;
use crate::block::KeyInfo;
use crate::commands::{self, MAX_PROPS};
use crate::config::{self, Config};
use crate::ffi;
use crate::generation;
use crate::mechanism;
use crate::msg::{fail, CmdResult, MsgBuf, PROP_LEN};
use crate::nlmsg::{DumpPart, Event, Reply, Writer};
use crate::params;
use crate::props::PropSink;
use crate::runtime;
use crate::space::Space;
use crate::txn;
use crate::types;
use crate::uapi::*;
use core::fmt::{self, Write};
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;

/// The family, registered while the core is loaded.
pub(crate) struct Family(());

impl Family {
    /// Register it (module init).
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: registers the static family defined in genl.c; unregistered in drop.
        kernel::error::to_result(unsafe { ffi::lana_genl_register() })?;
        Ok(Family(()))
    }
}

impl Drop for Family {
    fn drop(&mut self) {
        // SAFETY: registered in `register`; waits for running ops to finish.
        unsafe { ffi::lana_genl_unregister() };
    }
}

/// A request being handled by a `doit`.
///
/// # Invariants
///
/// `info` is the valid `genl_info` of the running op; `attrs` its attributes (`info->attrs`)
/// or those of one change nested in a batch, `LANA_A_MAX + 1` entries validated by the
/// policy, which live in the request skb for the whole op.
struct Request {
    info: *mut bindings::genl_info,
    attrs: *mut *mut bindings::nlattr,
}

/// A NUL-terminated string payload as `&str`: valid UTF-8 with the NUL as its last byte
/// (the policy checks only that it ends with one; bytes hidden after an earlier NUL would
/// be ignored here but copied into the change's event, so they are refused).
fn nul_str(b: &[u8]) -> Option<&str> {
    match b.split_last() {
        Some((0, s)) if !s.contains(&0) => core::str::from_utf8(s).ok(),
        _ => None,
    }
}

/// The attributes in `buf`, in order: (type without flags, the whole attribute, header
/// included, unpadded); stops at the first malformed one (the policy has checked them, so
/// there is none).
fn nlas(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = buf;
    core::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
        let ty = u16::from_ne_bytes([rest[2], rest[3]]) & 0x3fff;
        if len < 4 || len > rest.len() {
            return None;
        }
        let whole = &rest[..len];
        rest = &rest[((len + 3) & !3).min(rest.len())..];
        Some((ty, whole))
    })
}

/// The attributes nested in `nest`: (type without flags, payload).
fn attrs_in(nest: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    nlas(nest).map(|(ty, whole)| (ty, &whole[4..]))
}

/// A `set`'s settings: `key=value` strings as sent, and typed values written out.
struct Settings<'a> {
    sent: KVec<&'a str>,
    typed: KVec<KVec<u8>>,
}

impl Settings<'_> {
    /// One more setting, within the bound.
    fn count_one(&self) -> CmdResult {
        if self.sent.len() + self.typed.len() >= MAX_PROPS {
            fail!(E2BIG, "at most {} properties in one set", MAX_PROPS);
        }
        Ok(())
    }

    /// All of them, as sent first.
    fn all(&self) -> CmdResult<KVec<&str>> {
        let mut v = KVec::with_capacity(self.sent.len() + self.typed.len(), GFP_KERNEL)?;
        for s in self.sent.iter() {
            v.push(*s, GFP_KERNEL)?;
        }
        for t in self.typed.iter() {
            // written from `&str`s and decimal digits above
            match core::str::from_utf8(t) {
                Ok(s) => v.push(s, GFP_KERNEL)?,
                Err(_) => fail!(EINVAL, "property is not valid UTF-8"),
            }
        }
        Ok(v)
    }
}

impl Request {
    /// Attribute `ty`, if the request has it.
    fn nla(&self, ty: u16) -> Option<&bindings::nlattr> {
        if ty > LANA_A_MAX {
            return None;
        }
        // SAFETY: `attrs` has LANA_A_MAX + 1 entries (type invariant), `ty` is at most
        // LANA_A_MAX; attributes live in the request skb for the whole op.
        unsafe { (*self.attrs.add(ty as usize)).as_ref() }
    }

    /// Attribute `ty`'s payload (empty when absent).
    fn attr(&self, ty: u16) -> &[u8] {
        let Some(nla) = self.nla(ty) else {
            return &[];
        };
        let len = (nla.nla_len as usize).saturating_sub(core::mem::size_of::<bindings::nlattr>());
        // SAFETY: a policy-validated attribute: its payload follows the 4-byte header and
        // has `nla_len - 4` bytes in the request skb.
        unsafe { core::slice::from_raw_parts(core::ptr::from_ref(nla).add(1).cast::<u8>(), len) }
    }

    fn string(&self, ty: u16, what: &str) -> CmdResult<&str> {
        if self.nla(ty).is_none() {
            fail!(EINVAL, "missing attribute: {}", what);
        }
        match nul_str(self.attr(ty)) {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => fail!(EINVAL, "empty {}", what),
            None => fail!(EINVAL, "{} is not one NUL-terminated UTF-8 string", what),
        }
    }

    fn flags(&self) -> u32 {
        self.u32(LANA_A_FLAGS).unwrap_or(0)
    }

    /// A u32 attribute (the policy checked its length), if the request has it.
    fn u32(&self, ty: u16) -> Option<u32> {
        match *self.attr(ty) {
            [a, b, c, d] => Some(u32::from_ne_bytes([a, b, c, d])),
            _ => None,
        }
    }

    /// The settings of a `set`: the `LANA_A_PROP` strings nested in `LANA_A_PROPS` as sent,
    /// then the typed values nested in `LANA_A_CONFIG` (what `ynl` sends) written out as the
    /// same `key=value` text (a number in decimal), so both take one path from here on.
    fn settings(&self) -> CmdResult<Settings<'_>> {
        let mut out = Settings {
            sent: KVec::new(),
            typed: KVec::new(),
        };
        // The nests were validated by the policy: well-formed, each attribute of its type.
        for (ty, p) in attrs_in(self.attr(LANA_A_PROPS)) {
            if ty == LANA_A_PROP {
                out.count_one()?;
                match nul_str(p) {
                    Some(s) => out.sent.push(s, GFP_KERNEL)?,
                    None => fail!(EINVAL, "a property is not one NUL-terminated UTF-8 string"),
                }
            }
        }
        for (ty, v) in attrs_in(self.attr(LANA_A_CONFIG)) {
            if ty != LANA_A_VALUE {
                continue;
            }
            out.count_one()?;
            let (mut key, mut num, mut text) = (None, None, None);
            for (ty, p) in attrs_in(v) {
                // Each once, strings without bytes after their NUL: what is applied is
                // exactly what the event (a copy of the request) shows every listener.
                let dup = match ty {
                    LANA_A_KEY => key.replace(nul_str(p)).is_some(),
                    LANA_A_NUM => num
                        .replace(p.try_into().ok().map(u64::from_ne_bytes))
                        .is_some(),
                    LANA_A_TEXT => text.replace(nul_str(p)).is_some(),
                    _ => false,
                };
                if dup {
                    fail!(EINVAL, "a typed value gives its key, num or text twice");
                }
            }
            let Some(Some(key)) = key else {
                fail!(EINVAL, "a typed value without its key");
            };
            if key.is_empty()
                || !key
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
            {
                fail!(
                    EINVAL,
                    "a typed value's key is made of a-z, 0-9, '_' and '-'"
                );
            }
            // key=value, as fbctl would send it (a number in decimal), sized exactly
            let mut digits = MsgBuf::<24>::new();
            let value: &str = match (num, text) {
                (Some(Some(n)), None) => {
                    let _ = write!(digits, "{}", n);
                    digits.as_str()
                }
                (None, Some(Some(t))) => t,
                (None, Some(None)) => fail!(
                    EINVAL,
                    "'{}': the text is not one NUL-terminated UTF-8 string",
                    key
                ),
                _ => fail!(EINVAL, "'{}': give a number or a text, one of them", key),
            };
            let n = key.len() + 1 + value.len();
            if n > LANA_PROP_MAX as usize {
                fail!(
                    E2BIG,
                    "'{}': a value of at most {} bytes",
                    key,
                    LANA_PROP_MAX
                );
            }
            let mut owned = KVec::with_capacity(n, GFP_KERNEL)?;
            for part in [key, "=", value] {
                owned.extend_from_slice(part.as_bytes(), GFP_KERNEL)?;
            }
            out.typed.push(owned, GFP_KERNEL)?;
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
        unsafe { ffi::lana_extack_msg((*self.info).extack, bytes.as_ptr().cast()) };
    }

    /// The namespace of the request's sender (alive while the request is handled).
    fn net(&self) -> *mut bindings::net {
        // SAFETY: `info` is the running op's (type invariant).
        unsafe { ffi::lana_genl_info_net(self.info) }
    }

    /// A reply to this request.
    fn reply(&self, cmd: u8) -> CmdResult<Reply> {
        // SAFETY: `info` is the running op's (type invariant) and outlives the reply, which
        // is sent or freed before the op returns.
        match unsafe { Reply::new(self.info, cmd) } {
            Ok(r) => Ok(r),
            Err(e) => fail!(e, "out of memory for the reply"),
        }
    }
}

/// Entry point of every `doit` (see `genl.c`).
///
/// # Safety
///
/// Called by genetlink only, with the op's valid, policy-checked `info`.
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_doit(cmd: u8, info: *mut bindings::genl_info) -> c_int {
    // INVARIANT: genetlink passes the op's valid, policy-checked info (function docs), whose
    // attribute table has maxattr + 1 = LANA_A_MAX + 1 entries.
    let req = Request {
        info,
        // SAFETY: `info` is valid (function docs).
        attrs: unsafe { (*info).attrs },
    };
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
    if cmd == LANA_CMD_ENGINE {
        if req.u32(LANA_A_EXPECT_GEN).is_some() {
            // (engine settings are the machine's, not a namespace graph's: no generation)
            fail!(
                EINVAL,
                "engine settings have no generation to expect: drop --expect-gen"
            );
        }
        return engine_settings(cfg, req);
    }
    let sp = &cfg.space_for(req.net())?;
    let expect = req.u32(LANA_A_EXPECT_GEN);
    if let Some(want) = expect {
        let now = sp.generation.current();
        if want != now {
            fail!(
                ESTALE,
                "the graph changed since generation {} (it is at {} now)",
                want,
                now
            );
        }
    }
    let done = match cmd {
        LANA_CMD_BATCH => batch(cfg, sp, req),
        _ => change(cfg, sp, cmd, req),
    };
    if done.is_ok() {
        // still under the configuration lock: listeners see changes in the order they took
        // effect (a batch announced each of its changes)
        if cmd != LANA_CMD_BATCH {
            announce(cmd, req, cfg, sp);
        }
        if expect.is_some() || cmd == LANA_CMD_BATCH {
            // the generation this change made, for the next change of a chain
            let _ = reply_generation(req, cmd, sp); // applied either way; fbctl says if it lacks one
        }
    }
    done
}

/// One change `cmd` of space `sp`, as `req` describes it.
fn change(cfg: &mut Config, sp: &Arc<Space>, cmd: u8, req: &Request) -> CmdResult {
    let name = || req.string(LANA_A_NAME, "name");
    let peer = || req.string(LANA_A_PEER, "peer");
    match cmd {
        LANA_CMD_ADD => commands::add(cfg, sp, name()?, req.string(LANA_A_TYPE, "type")?),
        LANA_CMD_RM => commands::rm(cfg, sp, name()?),
        LANA_CMD_SET => commands::set(cfg, sp, name()?, &req.settings()?.all()?),
        LANA_CMD_BIND => binding::bind(cfg, sp, name()?, peer()?),
        LANA_CMD_UNBIND => binding::unbind(cfg, sp, name()?, peer()?),
        LANA_CMD_REPLACE => binding::replace(
            cfg,
            sp,
            name()?,
            peer()?,
            req.flags() & LANA_F_DROP_STATE != 0,
        ),
        LANA_CMD_FLUSH => commands::flush(cfg, sp),
        _ => fail!(EOPNOTSUPP, "command {} is not a change of the graph", cmd),
    }
}

/// `LANA_CMD_BATCH` (`fbctl -b FILE`): the changes nested in `LANA_A_BATCH`, as one
/// transaction (`txn.rs`): all of them, published at once, or none. A failure names the
/// change by its number (from 1). Each change is announced after the commit, in order.
fn batch(cfg: &mut Config, sp: &Arc<Space>, req: &Request) -> CmdResult {
    if req.nla(LANA_A_BATCH_CMD).is_none() {
        fail!(EINVAL, "an empty batch");
    }
    txn::begin(cfg);
    let made = each_change(req, |index, c| {
        if let Some(j) = cfg.txn.as_mut() {
            j.index = index;
        }
        let cmd = match c.u32(LANA_A_CMD) {
            Some(cmd) => cmd as u8,
            None => fail!(EINVAL, "missing attribute: cmd"),
        };
        change(cfg, sp, cmd, c).map_err(|f| txn::numbered(index, f))
    });
    if let Err(f) = made {
        txn::rollback(cfg);
        return Err(f);
    }
    txn::commit(cfg, sp)?;
    let _ = each_change(req, |_, c| {
        if let Some(cmd) = c.u32(LANA_A_CMD) {
            announce(cmd as u8, c, cfg, sp);
        }
        Ok(())
    });
    Ok(())
}

/// Call `f` with the number (from 1) and attributes of each change (`LANA_A_BATCH_CMD`,
/// repeated at the top level of the request), in order, until one fails.
fn each_change(req: &Request, mut f: impl FnMut(usize, &Request) -> CmdResult) -> CmdResult {
    let mut len: c_int = 0;
    // SAFETY: `info` is the running op's (type invariant); `len` a valid out pointer.
    let attrs = unsafe { ffi::lana_genl_attrs(req.info, &mut len) };
    // SAFETY: the request's attributes: `len` bytes in the request skb, for the whole op.
    let all: &[u8] =
        unsafe { core::slice::from_raw_parts(attrs.cast::<u8>(), len.max(0) as usize) };
    let mut index = 0;
    // the nested attributes were validated by the policy: well-formed, each a
    // LANA_A_BATCH_CMD nest of the family's attributes
    for (ty, nla) in nlas(all) {
        if ty != LANA_A_BATCH_CMD {
            continue;
        }
        index += 1;
        let mut tb = [core::ptr::null_mut::<bindings::nlattr>(); LANA_A_MAX as usize + 1];
        // SAFETY: `nla` is a whole, validated attribute in the request skb; `tb` has
        // LANA_A_MAX + 1 entries.
        let r = unsafe { ffi::lana_batch_parse(nla.as_ptr().cast(), tb.as_mut_ptr()) };
        if r < 0 {
            fail!(Error::from_errno(r), "{}: malformed change", index);
        }
        // INVARIANT: the change's attributes, parsed and validated, in the request skb.
        let c = Request {
            info: req.info,
            attrs: tb.as_mut_ptr(),
        };
        if c.nla(LANA_A_BATCH_CMD).is_some() {
            fail!(EINVAL, "{}: a batch cannot nest a batch", index);
        }
        if c.nla(LANA_A_EXPECT_GEN).is_some() {
            // (the batch as a whole may expect a generation, at its top level)
            fail!(
                EINVAL,
                "{}: a change in a batch cannot expect a generation",
                index
            );
        }
        f(index, &c)?;
    }
    if index == 0 {
        fail!(EINVAL, "an empty batch");
    }
    Ok(())
}

/// Reply with the graph's generation (after a change made with `LANA_A_EXPECT_GEN`).
fn reply_generation(req: &Request, cmd: u8, sp: &Space) -> CmdResult {
    let mut r = req.reply(cmd)?;
    if let Err(e) = r
        .writer()
        .put_u32(LANA_A_GENERATION, sp.generation.current())
    {
        fail!(e, "reply does not fit a netlink message");
    }
    Ok(r.send()?)
}

/// Tell the `config` multicast group about the change `req` made: its command, its own
/// attributes (copied as sent), the new block's id for an add, and the new generation.
fn announce(cmd: u8, req: &Request, cfg: &Config, sp: &Arc<Space>) {
    // the event's number, and what the command takes (a request may carry more, which the
    // command ignored)
    let (ntf, takes): (u8, &[u16]) = match cmd {
        LANA_CMD_ADD => (LANA_CMD_ADD_NTF, &[LANA_A_NAME, LANA_A_TYPE]),
        LANA_CMD_RM => (LANA_CMD_RM_NTF, &[LANA_A_NAME]),
        LANA_CMD_SET => (
            LANA_CMD_SET_NTF,
            &[LANA_A_NAME, LANA_A_PROPS, LANA_A_CONFIG],
        ),
        LANA_CMD_BIND => (LANA_CMD_BIND_NTF, &[LANA_A_NAME, LANA_A_PEER]),
        LANA_CMD_UNBIND => (LANA_CMD_UNBIND_NTF, &[LANA_A_NAME, LANA_A_PEER]),
        LANA_CMD_REPLACE => (
            LANA_CMD_REPLACE_NTF,
            &[LANA_A_NAME, LANA_A_PEER, LANA_A_FLAGS],
        ),
        LANA_CMD_FLUSH => (LANA_CMD_FLUSH_NTF, &[]),
        LANA_CMD_ENGINE => (
            LANA_CMD_ENGINE_NTF,
            &[LANA_A_ENGINE_MAX_HOPS, LANA_A_ENGINE_RUNTIME],
        ),
        _ => return,
    };
    // room for what is copied (a set's properties may be long filters)
    let size = takes
        .iter()
        .map(|&ty| req.attr(ty).len() + 8)
        .sum::<usize>()
        + 64;
    let Some(mut ev) = Event::new(sp, ntf, size) else {
        return; // nobody listens
    };
    let w = ev.writer();
    let filled = (|| {
        for &ty in takes.iter() {
            if req.nla(ty).is_some() {
                let nested = if ty == LANA_A_PROPS || ty == LANA_A_CONFIG {
                    NLA_F_NESTED
                } else {
                    0
                };
                w.put_raw(ty | nested, req.attr(ty))?;
            }
        }
        if cmd == LANA_CMD_ADD {
            let id = req
                .string(LANA_A_NAME, "name")
                .ok()
                .and_then(|n| cfg.find(sp, n))
                .and_then(|slot| cfg.node(slot))
                .map(|n| n.inst.id);
            if let Some(id) = id {
                w.put_u32(LANA_A_ID, id)?;
            }
        }
        w.put_u32(LANA_A_GENERATION, sp.generation.current())
    })();
    if filled.is_ok() {
        ev.send();
    } // else dropped: freed, and the listeners learn they lost an event
}

/// `fbctl engine`: change the engine's settings, the machine's (all checked by the policy
/// first; CAP_NET_ADMIN in the initial user namespace). With the configuration lock held, so
/// concurrent changes apply in order.
fn engine_settings(cfg: &mut Config, req: &Request) -> CmdResult {
    let hops = req.u32(LANA_A_ENGINE_MAX_HOPS);
    let rt = req.u32(LANA_A_ENGINE_RUNTIME);
    if hops.is_none() && rt.is_none() {
        fail!(EINVAL, "nothing to change: give max_hops and/or runtime");
    }
    if let Some(n) = hops {
        params::set_max_hops(n);
    }
    if let Some(on) = rt {
        runtime::switch(cfg, on != 0);
    }
    // The settings are the machine's, not a graph's: no graph's generation changes (a
    // container's `--expect-gen` commit does not fail for them); the sender's namespace
    // hears of them.
    if let Ok(sp) = cfg.space_for(req.net()) {
        announce(LANA_CMD_ENGINE, req, cfg, &sp);
    }
    Ok(())
}

/// Tell the `config` group that eth block `name`'s device changed state (`attached` false:
/// it went away and the block let go of it). Called under the configuration lock.
pub(crate) fn announce_link(sp: &Space, name: &str, attached: bool, up: bool, mtu: u32) {
    let Some(mut ev) = Event::new(sp, LANA_CMD_LINK, 128) else {
        return;
    };
    let w = ev.writer();
    let filled = (|| {
        w.put_str(LANA_A_NAME, name)?;
        w.put_u32(LANA_A_ATTACHED, u32::from(attached))?;
        w.put_u32(LANA_A_LINK_UP, u32::from(up))?;
        w.put_u32(LANA_A_MTU, mtu)?;
        w.put_u32(LANA_A_GENERATION, sp.generation.current())
    })();
    if filled.is_ok() {
        ev.send();
    }
}

/// The nested flag of a netlink attribute type.
const NLA_F_NESTED: u16 = 1 << 15;

/// Writes the values of a block's `show` that belong to one part, its settings (`keys` of
/// its type) or its figures (every other key), as `LANA_A_VALUE` nests.
struct ValueWriter<'a> {
    w: &'a mut Writer,
    keys: &'static [KeyInfo],
    settings: bool,
    err: Result,
}

impl ValueWriter<'_> {
    fn entry(&mut self, key: &str, value: impl FnOnce(&mut Writer) -> Result) {
        let is_setting = self.keys.iter().any(|k| k.key == key);
        if self.err.is_ok() && is_setting == self.settings {
            self.err = self.w.nest(LANA_A_VALUE, |w| {
                w.put_str(LANA_A_KEY, key)?;
                value(w)
            });
        }
    }
}

impl PropSink for ValueWriter<'_> {
    fn num(&mut self, key: &str, value: u64) {
        self.entry(key, |w| w.put_u64(LANA_A_NUM, value));
    }

    fn hex(&mut self, key: &str, value: u64) {
        self.entry(key, |w| {
            w.put_u64(LANA_A_NUM, value)?;
            w.put_raw(LANA_A_HEX, &[])
        });
    }

    fn text(&mut self, key: &str, value: fmt::Arguments<'_>) {
        let mut s = MsgBuf::<PROP_LEN>::new();
        let _ = write!(s, "{}", value);
        // Printable ASCII only: netlink strings are read as ASCII by generic clients (ynl
        // stops at anything else), and a container's text must not break the host admin's
        // view of it. A device or label with other bytes shows '?' for each.
        s.make_printable_ascii();
        self.entry(key, |w| w.put_str(LANA_A_TEXT, s.as_str()));
    }
}

/// Describe the block in `slot` of `cfg`.
fn fill_instance(w: &mut Writer, cfg: &Config, slot: u32) -> Result {
    let node = cfg.node(slot).ok_or(ENOENT)?;
    let inst = &node.inst;
    w.put_u32(LANA_A_ID, inst.id)?;
    w.put_str(LANA_A_NAME, inst.name.as_str())?;
    w.put_str(LANA_A_TYPE, inst.ty.name)?;
    for (attr, ports) in [
        (LANA_A_INGRESS, &node.ingress),
        (LANA_A_EGRESS, &node.egress),
    ] {
        w.nest(attr, |w| {
            for b in ports.iter() {
                w.put_str(LANA_A_NAME, cfg.name_of(b.slot))?;
            }
            Ok(())
        })?;
    }
    let t = cfg.block_totals(slot, inst);
    w.put_u64(LANA_A_PACKETS, t.packets)?;
    w.put_u64(LANA_A_BYTES, t.bytes)?;
    w.put_u64(LANA_A_DROPS, t.drops)?;
    let rt = inst.runtime.sum();
    w.put_u64(LANA_A_CALLS, rt.calls)?;
    w.put_u64(LANA_A_RUNTIME_NS, rt.ns)?;
    // The block describes itself twice, once for each part: show is cheap, and each part is
    // one nest.
    for (attr, settings) in [(LANA_A_CONFIG, true), (LANA_A_STATE, false)] {
        w.nest(attr, |w| {
            let mut vw = ValueWriter {
                w,
                keys: inst.ty.keys,
                settings,
                err: Ok(()),
            };
            inst.fb.show(&mut vw);
            vw.err
        })?;
    }
    Ok(())
}

/// Describe type `ty` (instances: those in space `sp`).
fn fill_type(w: &mut Writer, cfg: &Config, sp: Option<&Space>, ty: &types::FbType) -> Result {
    w.put_str(LANA_A_TYPE, ty.name)?;
    w.put_str(LANA_A_DESC, ty.description)?;
    w.put_u32(LANA_A_MAX_INGRESS, ty.max_ingress)?;
    w.put_u32(LANA_A_MAX_EGRESS, ty.max_egress)?;
    w.put_u32(
        LANA_A_INSTANCES,
        sp.map_or(0, |sp| cfg.instances_of(sp, ty)),
    )?;
    w.nest(LANA_A_KEYS, |w| {
        for k in ty.keys {
            w.nest(LANA_A_KEY_INFO, |w| {
                w.put_str(LANA_A_KEY, k.key)?;
                w.put_str(LANA_A_KIND, k.kind.as_str())?;
                w.put_str(LANA_A_DESC, k.help)
            })?;
        }
        Ok(())
    })
}

fn reply_get(req: &Request) -> CmdResult {
    let name = req.string(LANA_A_NAME, "name")?;
    let cfg = config::lock();
    let Some(slot) = cfg.space_of(req.net()).and_then(|sp| cfg.find(&sp, name)) else {
        fail!(ENOENT, "no functional block named '{}'", name);
    };
    let mut r = req.reply(LANA_CMD_GET)?;
    if let Err(e) = fill_instance(r.writer(), &cfg, slot) {
        fail!(e, "reply does not fit a netlink message");
    }
    Ok(r.send()?)
}

/// `fbctl stats`: the caller's namespace's accounting.
fn reply_stats(req: &Request) -> CmdResult {
    // (one look under the mutex: the namespace and its compiled jumps of one generation)
    let (sp, (jumps, jumped)) = {
        let cfg = config::lock();
        let sp = cfg.space_of(req.net());
        let jumps = sp.as_ref().map_or((0, 0), |sp| cfg.jumps_of(sp.key));
        (sp, jumps)
    };
    let f = sp.as_ref().map(|sp| sp.totals()).unwrap_or_default();
    let blocks = sp.as_ref().map_or(0, |sp| {
        sp.blocks.load(core::sync::atomic::Ordering::Relaxed)
    });
    let generation = sp.as_ref().map_or(1, |sp| sp.generation.current());
    let mut r = req.reply(LANA_CMD_STATS)?;
    let w = r.writer();
    let filled = (|| {
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
        w.put_u32(LANA_A_ENGINE_MAX_HOPS, params::max_hops())?;
        w.put_u32(LANA_A_ENGINE_MAX_BLOCKS, params::max_blocks())?;
        w.put_u32(LANA_A_ENGINE_BLOCKS, blocks)?;
        w.put_u32(LANA_A_GENERATION, generation)?;
        w.put_u32(LANA_A_ENGINE_RUNTIME, u32::from(runtime::is_on()))?;
        w.put_u32(LANA_A_ENGINE_JUMPS, jumps)?;
        w.put_u32(LANA_A_ENGINE_JUMPED, jumped)?;
        w.put_str(LANA_A_ENGINE_MODE, mechanism::name())
    })();
    if let Err(e) = filled {
        fail!(e, "reply does not fit a netlink message");
    }
    Ok(r.send()?)
}

/// Entry point of every dump (see `genl.c`): one message per block (in slot order) or type,
/// resuming at the slot or index kept in `cb->args[0]`. A dump that spans several calls
/// while the configuration changes is flagged NLM_F_DUMP_INTR (the generation is the
/// sequence number genetlink compares), so userspace retries it.
///
/// # Safety
///
/// Called by genetlink only, with the dump's buffer `skb` and callback `cb`.
#[no_mangle]
pub(crate) unsafe extern "C" fn lana_rust_dumpit(
    cmd: u8,
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
) -> c_int {
    // SAFETY: `cb` is the valid callback of this dump; its args[] are ours.
    let args = unsafe { &mut (*cb).__bindgen_anon_1.args };
    let start = args[0].max(0) as usize;
    let cfg = config::lock();
    // SAFETY: `cb` is the valid callback of this dump.
    let sp = cfg.space_of(unsafe { ffi::lana_dump_net(cb) });
    let generation = match cmd {
        LANA_CMD_GET => sp.as_ref().map_or(1, |sp| sp.generation.current()),
        _ => generation::current(),
    };
    let types = types::lock();
    let total = match cmd {
        LANA_CMD_GET => cfg.slot_count(),
        LANA_CMD_TYPES => types.len(),
        _ => return EOPNOTSUPP.to_errno(),
    };
    let mut i = start;
    let mut first = true;
    while i < total {
        if cmd == LANA_CMD_GET
            && sp
                .as_ref()
                .and_then(|sp| cfg.node_in(sp, i as u32))
                .is_none()
        {
            i += 1;
            continue;
        }
        // SAFETY: `skb` and `cb` belong to this dump (function docs).
        let Some(mut part) = (unsafe { DumpPart::new(skb, cb, cmd, generation) }) else {
            break;
        };
        let r = if cmd == LANA_CMD_GET {
            fill_instance(part.writer(), &cfg, i as u32)
        } else {
            fill_type(part.writer(), &cfg, sp.as_deref(), types[i].ty)
        };
        if r.is_err() {
            // `part` is cancelled as it drops
            if first {
                return EMSGSIZE.to_errno();
            }
            break;
        }
        part.end();
        first = false;
        i += 1;
    }
    args[0] = i as c_long;
    // SAFETY: `skb` is the dump's valid buffer.
    (unsafe { (*skb).len }) as c_int
}
