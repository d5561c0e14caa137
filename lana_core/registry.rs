// SPDX-License-Identifier: GPL-2.0
//! The FB type registry, the instances and their bindings, and every configuration command.
//!
//! # Locking
//!
//! All configuration state lives in [`CONFIG`], one mutex taken by netlink commands (already
//! serialised by the generic-netlink mutex, which is always taken first) and by FB modules
//! registering their types. The packet path never takes it: after each change the command
//! publishes a new immutable [`crate::graph::Graph`] with one pointer swap and frees the old
//! one (and removed instances) only after an RCU grace period.
//! Lock order: genl_mutex -> CONFIG -> rtnl (eth blocks attach devices on `set`).

use crate::block::{Direction, Event, FbType, FunctionalBlock, NewInstance};
use crate::ffi;
use crate::graph;
use crate::name::Name;
use crate::notifier::EventChain;
use crate::percpu::PerCpuCounters;
use crate::props::{self, PropValue};
use core::fmt::{self, Write};
use kernel::prelude::*;
use kernel::sync::{Arc, GlobalGuard};

/// A registered type and the module that implements it.
pub(crate) struct TypeEntry {
    pub(crate) ty: &'static FbType,
    module: &'static ThisModule,
}

/// A live instance. Shared read-only between the configuration state and graph snapshots.
pub struct Instance {
    pub(crate) id: u32,
    pub(crate) name: Name,
    pub(crate) ty: &'static FbType,
    /// Packets, bytes and drops of this block, counted by the engine.
    pub(crate) stats: PerCpuCounters,
    pub(crate) chain: EventChain,
    /// Declared before `module` so the block's code runs its drop before the module may go.
    pub(crate) fb: KBox<dyn FunctionalBlock>,
    _module: ModuleRef,
}

/// A reference on the module implementing an instance's type: rmmod refuses while held.
struct ModuleRef(&'static ThisModule);

impl ModuleRef {
    fn get(m: &'static ThisModule) -> Option<Self> {
        // SAFETY: `m` is a loaded module (it registered a type that is still registered).
        unsafe { ffi::lana_module_get(m.as_ptr()) }.then_some(ModuleRef(m))
    }
}

impl Drop for ModuleRef {
    fn drop(&mut self) {
        // SAFETY: paired with the successful try_module_get in `get`.
        unsafe { ffi::lana_module_put(self.0.as_ptr()) };
    }
}

/// An instance with its bindings, as the configuration knows it.
pub(crate) struct Node {
    pub(crate) inst: Arc<Instance>,
    /// Ids of the blocks this one passes packets to, ingress direction, in bind order.
    pub(crate) ingress: KVec<u32>,
    /// Same, egress direction.
    pub(crate) egress: KVec<u32>,
}

impl Node {
    fn ports_mut(&mut self, dir: Direction) -> &mut KVec<u32> {
        match dir {
            Direction::Ingress => &mut self.ingress,
            Direction::Egress => &mut self.egress,
        }
    }

    fn is_bound(&self) -> bool {
        !self.ingress.is_empty() || !self.egress.is_empty()
    }
}

/// All configuration state.
pub(crate) struct Config {
    pub(crate) types: KVec<TypeEntry>,
    pub(crate) nodes: KVec<Node>,
    /// Whether changes are published to the engine: only the global configuration is; a
    /// private one (KUnit tests) exercises the same commands without touching the engine.
    live: bool,
}

kernel::sync::global_lock! {
    // SAFETY: initialised by `init()` in the module initialiser, before anything can use it.
    pub(crate) unsafe(uninit) static CONFIG: Mutex<Config> = Config { types: KVec::new(), nodes: KVec::new(), live: true };
}

pub(crate) type ConfigGuard = GlobalGuard<CONFIG>;

/// Set up the configuration mutex. Called once, first thing in module init.
pub(crate) fn init() {
    // SAFETY: called exactly once, before any other use of CONFIG.
    unsafe { CONFIG.init() };
}

/// Lock the configuration.
pub(crate) fn lock() -> ConfigGuard {
    CONFIG.lock()
}

/// Why a command failed: an errno and a message for the user (sent as the extended ack).
pub(crate) struct Fail {
    pub(crate) err: Error,
    pub(crate) msg: MsgBuf,
}

/// A short message, formatted in place (the extended ack holds 80 bytes; property strings
/// use the longer variant).
pub(crate) struct MsgBuf {
    buf: [u8; 288],
    len: usize,
    cap: usize,
}

impl MsgBuf {
    /// For extended-ack messages (80 bytes with the NUL).
    pub(crate) fn new() -> Self {
        Self { buf: [0; 288], len: 0, cap: 80 }
    }

    /// For property strings (256 bytes with the NUL).
    pub(crate) fn new_long() -> Self {
        Self { buf: [0; 288], len: 0, cap: 256 }
    }

    /// The text so far.
    pub(crate) fn as_str(&self) -> &str {
        // Writes copy whole `str`s but may cut one in a multi-byte character: cut back.
        let mut n = self.len;
        while n > 0 && core::str::from_utf8(&self.buf[..n]).is_err() {
            n -= 1;
        }
        core::str::from_utf8(&self.buf[..n]).unwrap_or("")
    }

    /// The message with a terminating NUL, cut to fit.
    pub(crate) fn as_bytes_with_nul(&mut self) -> &[u8] {
        let n = self.len.min(self.cap - 1);
        self.buf[n] = 0;
        &self.buf[..n + 1]
    }
}

impl Write for MsgBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = (self.cap - 1).saturating_sub(self.len);
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

impl Fail {
    pub(crate) fn new(err: Error, args: fmt::Arguments<'_>) -> Self {
        let mut msg = MsgBuf::new();
        let _ = msg.write_fmt(args);
        Fail { err, msg }
    }
}

impl From<Error> for Fail {
    fn from(err: Error) -> Self {
        Fail::new(err, format_args!(""))
    }
}

/// `fail!(ERRNO, "format", args...)`: return early with a [`Fail`].
macro_rules! fail {
    ($err:expr, $($arg:tt)*) => {
        return Err($crate::registry::Fail::new($err, format_args!($($arg)*)))
    };
}
pub(crate) use fail;

pub(crate) type CmdResult<T = ()> = core::result::Result<T, Fail>;

/// A registered FB type; dropping it unregisters the type.
///
/// FB modules keep one in their module object:
/// `Registration::new(&MY_TYPE, module)?` in `init`.
pub struct Registration {
    ty: &'static FbType,
}

impl Registration {
    /// Register `ty`, implemented by `module`. Fails with `EEXIST` if a type of that name is
    /// registered already.
    pub fn new(ty: &'static FbType, module: &'static ThisModule) -> Result<Self> {
        if Name::new(ty.name).is_err() {
            pr_err!("refusing FB type with an invalid name\n");
            return Err(EINVAL);
        }
        let mut cfg = lock();
        if cfg.types.iter().any(|t| t.ty.name == ty.name) {
            pr_err!("an FB type named '{}' is registered already\n", ty.name);
            return Err(EEXIST);
        }
        cfg.types.push(TypeEntry { ty, module }, GFP_KERNEL)?;
        pr_info!("registered FB type '{}'\n", ty.name);
        Ok(Self { ty })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut cfg = lock();
        // No instance of the type exists: each holds a reference on the type's module.
        cfg.types.retain(|t| !core::ptr::eq(t.ty, self.ty));
        pr_info!("unregistered FB type '{}'\n", self.ty.name);
    }
}

impl TypeEntry {
    /// A type entry, for a private configuration.
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn new(ty: &'static FbType, module: &'static ThisModule) -> Self {
        TypeEntry { ty, module }
    }
}

impl Config {
    /// A configuration of its own, never published to the engine (for KUnit tests).
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn private() -> Self {
        Config { types: KVec::new(), nodes: KVec::new(), live: false }
    }

    /// Publish the graph this configuration describes (see [`graph::publish`]); nothing for
    /// a private configuration, which no packet can see.
    fn publish(&self) -> Result {
        if self.live {
            graph::publish(self)
        } else {
            Ok(())
        }
    }

    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.inst.name == *name)
    }

    fn find_id(&self, id: u32) -> Option<usize> {
        self.nodes.iter().position(|n| n.inst.id == id)
    }

    pub(crate) fn name_of(&self, id: u32) -> &str {
        self.find_id(id).map_or("?", |i| self.nodes[i].inst.name.as_str())
    }

    fn lookup(&self, name: &str) -> CmdResult<usize> {
        match self.find(name) {
            Some(i) => Ok(i),
            None => fail!(ENOENT, "no functional block named '{}'", name),
        }
    }

    /// The lowest id no instance uses.
    fn free_id(&self) -> u32 {
        let mut id = 1;
        while self.find_id(id).is_some() {
            id += 1;
        }
        id
    }

    pub(crate) fn instances_of(&self, ty: &FbType) -> u32 {
        self.nodes.iter().filter(|n| core::ptr::eq(n.inst.ty, ty)).count() as u32
    }

    /// Whether `target` can be reached from `from` following ingress bindings.
    fn reaches(&self, from: u32, target: u32) -> bool {
        // Depth-first walk with an explicit stack; the graph is acyclic (binds refuse cycles),
        // so every walk ends. Bounded by the number of bindings all the same.
        let mut stack: KVec<u32> = KVec::new();
        if stack.push(from, GFP_KERNEL).is_err() {
            return true; // cannot tell: refuse, conservatively
        }
        let mut budget = self.nodes.iter().map(|n| n.ingress.len() + 1).sum::<usize>();
        while let Some(id) = stack.pop() {
            if id == target {
                return true;
            }
            if budget == 0 {
                return true;
            }
            budget -= 1;
            if let Some(i) = self.find_id(id) {
                for &next in self.nodes[i].ingress.iter() {
                    if stack.push(next, GFP_KERNEL).is_err() {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Publish the graph this configuration describes, undoing `undo` if that fails.
    fn publish_or(&mut self, undo: impl FnOnce(&mut Self)) -> CmdResult {
        match self.publish() {
            Ok(()) => Ok(()),
            Err(e) => {
                undo(self);
                fail!(e, "out of memory while publishing the new graph")
            }
        }
    }
}

fn veto(name: &str, what: &str, e: (Error, Option<&'static str>)) -> Fail {
    match e.1 {
        Some(why) => Fail::new(e.0, format_args!("{}: {}", name, why)),
        None => Fail::new(e.0, format_args!("'{}' refused the {}", name, what)),
    }
}

/// `fbctl add <name> <type>`.
pub(crate) fn add(cfg: &mut Config, name: &str, ty: &str) -> CmdResult {
    let name_ok = match Name::new(name) {
        Ok(n) => n,
        Err(why) => fail!(EINVAL, "bad name '{}': {}", name, why),
    };
    if cfg.find(name).is_some() {
        fail!(EEXIST, "a functional block named '{}' exists already", name);
    }
    let Some(entry) = cfg.types.iter().find(|t| t.ty.name == ty) else {
        fail!(ENOENT, "unknown FB type '{}' (is its module loaded? see 'fbctl types')", ty);
    };
    let (fbty, module) = (entry.ty, entry.module);
    let Some(module) = ModuleRef::get(module) else {
        fail!(ENOENT, "the module of type '{}' is going away", ty);
    };
    let id = cfg.free_id();
    let fb = match (fbty.new)(&NewInstance { id, name }) {
        Ok(fb) => fb,
        Err(e) => fail!(e, "type '{}' could not create an instance", ty),
    };
    let inst = Arc::new(
        Instance {
            id,
            name: name_ok,
            ty: fbty,
            stats: PerCpuCounters::new()?,
            chain: EventChain::new(),
            fb,
            _module: module,
        },
        GFP_KERNEL,
    )?;
    inst.chain.subscribe()?;
    let node = Node { inst, ingress: KVec::new(), egress: KVec::new() };
    if let Err(e) = cfg.nodes.push(node, GFP_KERNEL) {
        // The node was dropped with the failed push; its chain is unreachable anyway.
        fail!(ENOMEM, "out of memory ({:?})", e);
    }
    cfg.publish_or(|cfg| {
        if let Some(n) = cfg.nodes.pop() {
            n.inst.chain.unsubscribe();
        }
    })
}

/// Take node `i` out of the configuration and free it after a grace period.
fn remove_node(cfg: &mut Config, i: usize) -> CmdResult {
    let node = match cfg.nodes.remove(i) {
        Ok(n) => n,
        Err(_) => fail!(EINVAL, "internal error: bad node index"),
    };
    if let Err(e) = cfg.publish() {
        // Put it back: nothing changed.
        let _ = cfg.nodes.insert_within_capacity(i, node);
        fail!(e, "out of memory while publishing the new graph");
    }
    // `publish` waited for a grace period: no packet can reach the node any more.
    node.inst.chain.unsubscribe();
    drop(node);
    Ok(())
}

/// `fbctl rm <name>`: only an unbound block can be removed.
pub(crate) fn rm(cfg: &mut Config, name: &str) -> CmdResult {
    let i = cfg.lookup(name)?;
    let node = &cfg.nodes[i];
    if let Some(&peer) = node.ingress.first().or(node.egress.first()) {
        fail!(EBUSY, "'{}' is bound to '{}': unbind it first", name, cfg.name_of(peer));
    }
    node.inst.chain.call(&Event::Remove).map_err(|e| veto(name, "removal", e))?;
    remove_node(cfg, i)
}

/// `fbctl flush`: unbind and remove everything (no veto).
pub(crate) fn flush(cfg: &mut Config) -> CmdResult {
    for n in cfg.nodes.iter_mut() {
        n.ingress.clear();
        n.egress.clear();
        let _ = n.inst.chain.call(&Event::Remove);
    }
    while !cfg.nodes.is_empty() {
        let last = cfg.nodes.len() - 1;
        remove_node(cfg, last)?;
    }
    Ok(())
}

/// Remove everything at module exit (nothing can be left; this is a safety net).
pub(crate) fn flush_all() {
    let mut cfg = lock();
    if !cfg.nodes.is_empty() {
        pr_warn!("{} instances left at unload\n", cfg.nodes.len());
    }
    let _ = flush(&mut cfg);
    graph::unpublish();
    // The mutex is a static that outlives this load of the module: free the vectors' memory
    // now, or every load/unload cycle leaks it (kmemleak found this).
    cfg.nodes = KVec::new();
    cfg.types = KVec::new();
}

/// Maximum number of properties in one `set`.
pub(crate) const MAX_PROPS: usize = 16;

/// `fbctl set <name> key=value...`: all of them or none.
pub(crate) fn set(cfg: &mut Config, name: &str, raw: &[&str]) -> CmdResult {
    let i = cfg.lookup(name)?;
    let inst = &cfg.nodes[i].inst;
    if raw.is_empty() {
        fail!(EINVAL, "nothing to set: give key=value");
    }
    let mut parsed: KVec<(&str, PropValue<'_>)> = KVec::with_capacity(raw.len(), GFP_KERNEL)?;
    for s in raw {
        let Some((key, value)) = props::split_prop(s) else {
            fail!(EINVAL, "'{}' is not key=value", s);
        };
        let Some(info) = inst.ty.keys.iter().find(|k| k.key == key) else {
            fail!(EINVAL, "type '{}' has no key '{}' (see 'fbctl types')", inst.ty.name, key);
        };
        match PropValue::parse(info.kind, value) {
            Ok(v) => parsed.push((key, v), GFP_KERNEL)?,
            Err(why) => fail!(EINVAL, "bad value for '{}': {}", key, why),
        }
    }
    inst.chain.call(&Event::Set(&parsed)).map_err(|e| veto(name, "setting", e))
}

/// `fbctl bind <from> <to>`.
pub(crate) fn bind(cfg: &mut Config, from: &str, to: &str) -> CmdResult {
    let (f, t) = (cfg.lookup(from)?, cfg.lookup(to)?);
    if f == t {
        fail!(ELOOP, "cannot bind '{}' to itself", from);
    }
    let (fid, tid) = (cfg.nodes[f].inst.id, cfg.nodes[t].inst.id);
    if cfg.nodes[f].ingress.contains(&tid) {
        fail!(EEXIST, "'{}' is bound to '{}' already", from, to);
    }
    let (fty, tty) = (cfg.nodes[f].inst.ty, cfg.nodes[t].inst.ty);
    if cfg.nodes[f].ingress.len() as u32 >= fty.max_ingress {
        fail!(ENOSPC, "'{}' ({}) passes packets on to at most {} block(s)", from, fty.name, fty.max_ingress);
    }
    if cfg.nodes[t].egress.len() as u32 >= tty.max_egress {
        fail!(ENOSPC, "'{}' ({}) sends egress to at most {} block(s)", to, tty.name, tty.max_egress);
    }
    if cfg.reaches(tid, fid) {
        fail!(ELOOP, "binding '{}' to '{}' would form a cycle", from, to);
    }
    let fev = Event::Bind { peer: to, dir: Direction::Ingress };
    cfg.nodes[f].inst.chain.call(&fev).map_err(|e| veto(from, "bind", e))?;
    let tev = Event::Bind { peer: from, dir: Direction::Egress };
    if let Err(e) = cfg.nodes[t].inst.chain.call(&tev) {
        let _ = cfg.nodes[f].inst.chain.call(&Event::Unbind { peer: to, dir: Direction::Ingress });
        return Err(veto(to, "bind", e));
    }
    cfg.nodes[f].ingress.reserve(1, GFP_KERNEL)?;
    cfg.nodes[t].egress.reserve(1, GFP_KERNEL)?;
    let _ = cfg.nodes[f].ingress.push_within_capacity(tid);
    let _ = cfg.nodes[t].egress.push_within_capacity(fid);
    cfg.publish_or(|cfg| {
        cfg.nodes[f].ingress.retain(|x| *x != tid);
        cfg.nodes[t].egress.retain(|x| *x != fid);
    })
}

/// `fbctl unbind <from> <to>`.
pub(crate) fn unbind(cfg: &mut Config, from: &str, to: &str) -> CmdResult {
    let (f, t) = (cfg.lookup(from)?, cfg.lookup(to)?);
    let (fid, tid) = (cfg.nodes[f].inst.id, cfg.nodes[t].inst.id);
    let Some(fpos) = cfg.nodes[f].ingress.iter().position(|&x| x == tid) else {
        fail!(ENOENT, "'{}' is not bound to '{}'", from, to);
    };
    let tpos = cfg.nodes[t].egress.iter().position(|&x| x == fid).unwrap_or(0);
    let fev = Event::Unbind { peer: to, dir: Direction::Ingress };
    cfg.nodes[f].inst.chain.call(&fev).map_err(|e| veto(from, "unbind", e))?;
    let tev = Event::Unbind { peer: from, dir: Direction::Egress };
    cfg.nodes[t].inst.chain.call(&tev).map_err(|e| veto(to, "unbind", e))?;
    let _ = cfg.nodes[f].ingress.remove(fpos);
    if cfg.nodes[t].egress.get(tpos) == Some(&fid) {
        let _ = cfg.nodes[t].egress.remove(tpos);
    }
    cfg.publish_or(|cfg| {
        let _ = cfg.nodes[f].ingress.insert_within_capacity(fpos, tid);
        let _ = cfg.nodes[t].egress.insert_within_capacity(tpos, fid);
    })
}

/// `fbctl replace <old> <new> [--drop-state]`: `new` (unbound) takes `old`'s place in one
/// graph swap; `old` is removed afterwards.
pub(crate) fn replace(cfg: &mut Config, old: &str, new: &str, drop_state: bool) -> CmdResult {
    let (o, n) = (cfg.lookup(old)?, cfg.lookup(new)?);
    if o == n {
        fail!(EINVAL, "cannot replace '{}' with itself", old);
    }
    if cfg.nodes[n].is_bound() {
        fail!(EBUSY, "'{}' is bound: the replacement must be unbound", new);
    }
    let (oty, nty) = (cfg.nodes[o].inst.ty, cfg.nodes[n].inst.ty);
    let same_type = core::ptr::eq(oty, nty);
    if oty.has_state && !same_type && !drop_state {
        fail!(EINVAL, "'{}' ({}) has state that '{}' ({}) cannot take: use --drop-state", old, oty.name, new, nty.name);
    }
    if cfg.nodes[o].ingress.len() as u32 > nty.max_ingress || cfg.nodes[o].egress.len() as u32 > nty.max_egress {
        fail!(ENOSPC, "'{}' ({}) cannot take all of '{}''s bindings", new, nty.name, old);
    }
    let oev = Event::ReplaceOut { new };
    cfg.nodes[o].inst.chain.call(&oev).map_err(|e| veto(old, "replace", e))?;
    let nev = Event::ReplaceIn { old };
    cfg.nodes[n].inst.chain.call(&nev).map_err(|e| veto(new, "replace", e))?;

    let (oid, nid) = (cfg.nodes[o].inst.id, cfg.nodes[n].inst.id);
    // Move the bindings; every reference to `old` elsewhere now names `new`.
    let ingress = core::mem::take(&mut cfg.nodes[o].ingress);
    let egress = core::mem::take(&mut cfg.nodes[o].egress);
    cfg.nodes[n].ingress = ingress;
    cfg.nodes[n].egress = egress;
    let rename = |cfg: &mut Config, from: u32, to: u32| {
        for node in cfg.nodes.iter_mut() {
            for dir in [Direction::Ingress, Direction::Egress] {
                for x in node.ports_mut(dir).iter_mut() {
                    if *x == from {
                        *x = to;
                    }
                }
            }
        }
    };
    rename(cfg, oid, nid);
    // `old` leaves the configuration in the same snapshot that puts `new` in its place: one
    // pointer swap, one grace period.
    let old_node = match cfg.nodes.remove(o) {
        Ok(node) => node,
        Err(_) => fail!(EINVAL, "internal error: bad node index"),
    };
    if let Err(e) = cfg.publish() {
        let _ = cfg.nodes.insert_within_capacity(o, old_node);
        rename(cfg, nid, oid);
        let ingress = core::mem::take(&mut cfg.nodes[n].ingress);
        let egress = core::mem::take(&mut cfg.nodes[n].egress);
        cfg.nodes[o].ingress = ingress;
        cfg.nodes[o].egress = egress;
        fail!(e, "out of memory while publishing the new graph");
    }
    // After publish's grace period no packet is inside `old`: its state is final.
    if same_type && oty.has_state && !drop_state {
        if let Some(i) = cfg.find_id(nid) {
            let old_fb: &dyn FunctionalBlock = &*old_node.inst.fb;
            cfg.nodes[i].inst.fb.adopt_state(old_fb as &dyn core::any::Any);
        }
    }
    old_node.inst.chain.unsubscribe();
    drop(old_node);
    Ok(())
}
/// Declare an FB module whose whole job is to register one block type while it is loaded:
///
/// ```ignore
/// lana::fb_module! {
///     block_type: FWD_TYPE,
///     name: "fb_fwd",
///     description: "LANA functional block: forward",
/// }
/// ```
#[macro_export]
macro_rules! fb_module {
    (block_type: $ty:ident, name: $name:tt, description: $desc:tt $(,)?) => {
        ::kernel::prelude::module! {
            type: LanaFbModule,
            name: $name,
            authors: ["LANA developers"],
            description: $desc,
            license: "GPL",
        }

        /// The module: its block type stays registered while it is loaded.
        struct LanaFbModule {
            _registration: $crate::Registration,
        }

        impl ::kernel::Module for LanaFbModule {
            fn init(module: &'static ::kernel::ThisModule) -> ::kernel::error::Result<Self> {
                Ok(Self { _registration: $crate::Registration::new(&$ty, module)? })
            }
        }
    };
}
