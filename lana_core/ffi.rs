// SPDX-License-Identifier: GPL-2.0
//! Declarations of the C helpers (`ffi.h` lists them, one C file per subsystem).
//!
//! Only the FFI-layer modules of this crate call these; each call site carries its own
//! `// SAFETY:` argument.

use core::sync::atomic::AtomicU32;
use kernel::bindings;
use kernel::prelude::*;

/// The static keys (`struct lana_static_keys` in `ffi.h`).
#[repr(C)]
pub(crate) struct LanaStaticKeys {
    /// The per-block runtime view is on.
    pub(crate) runtime: bindings::static_key_false,
}

/// The C half of a port (`struct lana_port` in `netdev.c`), known here only by pointer.
pub(crate) enum LanaPortC {}

// `genl_info` contains a zero-sized bindgen array; only pointers to it cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    // params.c
    /// `max_hops` (a C `unsigned int`), written by sysfs at any time: an atomic here, read
    /// with a relaxed load (READ_ONCE).
    pub(crate) static lana_param_max_hops: AtomicU32;
    /// `max_copies`, as `lana_param_max_hops`.
    pub(crate) static lana_param_max_copies: AtomicU32;
    pub(crate) static lana_static_keys: LanaStaticKeys;

    // netdev.c
    /// `offsetof(struct net_device, rx_handler_data)` (`net_device` is opaque to bindgen).
    pub(crate) static lana_rx_handler_data_offset: usize;

    // The kernel's: this CPU's per-CPU offset, a per-CPU variable, named by `asm!` only (a
    // plain read would reach the boot-time template, not this CPU's copy): no type to read.
    #[cfg(all(target_arch = "x86_64", CONFIG_SMP))]
    pub(crate) static this_cpu_off: [u8; 0];

    // trace.c (lana_trace.h)
    #[cfg(CONFIG_TRACEPOINTS)]
    pub(crate) static __tracepoint_lana_drop: bindings::tracepoint;
    #[cfg(CONFIG_TRACEPOINTS)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn rust_do_trace_lana_drop(
        skbaddr: *const c_void,
        block_id: u32,
        block: *const u8,
        block_len: u32,
        ty: *const u8,
        ty_len: u32,
        reason: *const u8,
        reason_len: u32,
    );
    pub(crate) fn lana_runtime_set(on: bool);
    pub(crate) fn lana_runtime_on() -> bool;
    pub(crate) fn lana_now_ns() -> u64;
    pub(crate) fn lana_set_max_hops(n: c_uint);
    pub(crate) fn lana_event_new(
        net: *mut bindings::net,
        cmd: u8,
        size: usize,
        hdr: *mut *mut c_void,
    ) -> *mut bindings::sk_buff;
    pub(crate) fn lana_event_send(
        net: *mut bindings::net,
        msg: *mut bindings::sk_buff,
        hdr: *mut c_void,
    );
    pub(crate) fn lana_event_lost(net: *mut bindings::net);
    pub(crate) fn lana_max_blocks() -> c_uint;
    pub(crate) fn lana_max_ns_blocks() -> c_uint;
    pub(crate) fn lana_net_container_owner(net: *const bindings::net) -> i64;

    // defer.c
    pub(crate) fn lana_defer(f: Option<unsafe extern "C" fn(*mut c_void)>, obj: *mut c_void);
    pub(crate) fn lana_defer_flush();
    pub(crate) fn lana_defer_init() -> c_int;
    pub(crate) fn lana_defer_exit();

    // genl.c
    pub(crate) fn lana_genl_register() -> c_int;
    pub(crate) fn lana_genl_unregister();
    pub(crate) fn lana_extack_msg(extack: *mut bindings::netlink_ext_ack, msg: *const c_char);
    pub(crate) fn lana_reply_new(
        info: *mut bindings::genl_info,
        cmd: u8,
        hdr: *mut *mut c_void,
    ) -> *mut bindings::sk_buff;
    pub(crate) fn lana_reply_send(
        msg: *mut bindings::sk_buff,
        hdr: *mut c_void,
        info: *mut bindings::genl_info,
    ) -> c_int;
    pub(crate) fn lana_genl_info_net(info: *mut bindings::genl_info) -> *mut bindings::net;
    pub(crate) fn lana_genl_attrs(info: *mut bindings::genl_info, len: *mut c_int)
        -> *const c_void;
    pub(crate) fn lana_batch_parse(
        nla: *const bindings::nlattr,
        tb: *mut *mut bindings::nlattr,
    ) -> c_int;
    pub(crate) fn lana_dump_net(cb: *mut bindings::netlink_callback) -> *mut bindings::net;
    pub(crate) fn lana_dump_put(
        skb: *mut bindings::sk_buff,
        cb: *mut bindings::netlink_callback,
        cmd: u8,
        generation: u32,
    ) -> *mut c_void;
    pub(crate) fn lana_nla_nest_start(
        skb: *mut bindings::sk_buff,
        ty: c_int,
    ) -> *mut bindings::nlattr;
    pub(crate) fn lana_nla_nest_end(skb: *mut bindings::sk_buff, nest: *mut bindings::nlattr);

    // skb.c
    pub(crate) fn lana_percpu_alloc(size: usize, align: usize) -> *mut c_void;
    pub(crate) fn lana_percpu_cpu(p: *mut c_void, cpu: c_uint) -> *mut c_void;
    #[cfg(not(all(target_arch = "x86_64", CONFIG_SMP)))]
    pub(crate) fn lana_this_cpu_offset() -> usize;
    pub(crate) fn lana_bh_disable();
    pub(crate) fn lana_bh_enable();
    pub(crate) fn lana_bpf_create(
        insns: *const SockFilter,
        len: c_uint,
        out: *mut *mut c_void,
    ) -> c_int;
    pub(crate) fn lana_bpf_run(prog: *const c_void, skb: *mut bindings::sk_buff) -> c_uint;
    pub(crate) fn lana_bpf_destroy(prog: *mut c_void);
    pub(crate) fn lana_skb_headlen(skb: *const bindings::sk_buff) -> c_uint;

    // netdev.c
    pub(crate) fn lana_port_new(owner: *mut c_void) -> *mut LanaPortC;
    pub(crate) fn lana_port_free(port: *mut LanaPortC);
    pub(crate) fn lana_port_match(
        port: *mut LanaPortC,
        ifname: *const c_char,
        net: *mut bindings::net,
        other: *mut *mut c_void,
    ) -> c_int;
    pub(crate) fn lana_port_attach(
        port: *mut LanaPortC,
        ifname: *const c_char,
        net: *mut bindings::net,
    ) -> c_int;
    pub(crate) fn lana_port_detach(port: *mut LanaPortC);
    pub(crate) fn lana_port_ifname(port: *mut LanaPortC, buf: *mut c_char, len: usize);
    pub(crate) fn lana_port_link(port: *mut LanaPortC, up: *mut bool, mtu: *mut u32) -> bool;
    pub(crate) fn lana_port_xmit(
        port: *mut LanaPortC,
        skb: *mut bindings::sk_buff,
        proto: u16,
        peer: *const u8,
    ) -> c_int;
    pub(crate) fn lana_netdev_notifier_register() -> c_int;
    pub(crate) fn lana_netdev_notifier_unregister();
    pub(crate) fn lana_pernet_register() -> c_int;
    pub(crate) fn lana_pernet_unregister();

    // mechanism.c
    /// `ppe_mode`, fixed once the module is loaded.
    pub(crate) static lana_param_ppe_mode: c_uint;
    pub(crate) fn lana_ppe_mode_name() -> *const c_char;
    pub(crate) fn lana_ppe_enqueue(skb: *mut bindings::sk_buff, entry: u64, space: *const c_void);
    pub(crate) fn lana_ppe_start() -> c_int;
    pub(crate) fn lana_ppe_stop();

    // socket.c
    pub(crate) fn lana_sock_register() -> c_int;
    pub(crate) fn lana_sock_unregister();
    pub(crate) fn lana_sock_family() -> c_int;
    pub(crate) fn lana_sock_deliver(sk: *mut bindings::sock, skb: *mut bindings::sk_buff) -> c_int;
}

/// One classic BPF instruction, as `struct sock_filter` (and `tcpdump -ddd` lines).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockFilter {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Constant.
    pub k: u32,
}

/// `lana_sock_deliver`'s results (`ffi.h`): the socket queued the skb.
pub(crate) const LANA_SOCK_QUEUED: c_int = 0;
/// The socket's receive queue is full; the skb is still the caller's.
pub(crate) const LANA_SOCK_FULL: c_int = 1;
/// No memory to queue it (a frame from memory reserves, a failed trim); still the caller's.
pub(crate) const LANA_SOCK_NOMEM: c_int = 3;
