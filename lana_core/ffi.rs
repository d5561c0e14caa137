// SPDX-License-Identifier: GPL-2.0
//! Declarations of the C helpers in `ffi.c` (one line each there; see `ffi.h`).
//!
//! Only the FFI-layer modules of this crate call these; each call site carries its own
//! `// SAFETY:` argument.

use kernel::bindings;
use kernel::prelude::*;

// `genl_info` contains a zero-sized bindgen array; only pointers to it cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn lana_max_hops() -> c_uint;
    pub(crate) fn lana_max_blocks() -> c_uint;
    pub(crate) fn lana_max_copies() -> c_uint;
    pub(crate) fn lana_defer(f: Option<unsafe extern "C" fn(*mut c_void)>, obj: *mut c_void);
    pub(crate) fn lana_defer_flush();
    pub(crate) fn lana_defer_init() -> c_int;
    pub(crate) fn lana_defer_exit();

    pub(crate) fn lana_genl_register() -> c_int;
    pub(crate) fn lana_genl_unregister();
    pub(crate) fn lana_info_attr(info: *const bindings::genl_info, ty: c_int) -> *const bindings::nlattr;
    pub(crate) fn lana_info_extack(info: *mut bindings::genl_info) -> *mut bindings::netlink_ext_ack;
    pub(crate) fn lana_extack_msg(extack: *mut bindings::netlink_ext_ack, msg: *const c_char);
    pub(crate) fn lana_nla_data(nla: *const bindings::nlattr) -> *const c_void;
    pub(crate) fn lana_nla_len(nla: *const bindings::nlattr) -> c_int;
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
    pub(crate) fn lana_msg_free(msg: *mut bindings::sk_buff);
    pub(crate) fn lana_dump_put(
        skb: *mut bindings::sk_buff,
        cb: *mut bindings::netlink_callback,
        cmd: u8,
        generation: u32,
    ) -> *mut c_void;
    pub(crate) fn lana_msg_end(skb: *mut bindings::sk_buff, hdr: *mut c_void);
    pub(crate) fn lana_msg_cancel(skb: *mut bindings::sk_buff, hdr: *mut c_void);
    pub(crate) fn lana_dump_args(cb: *mut bindings::netlink_callback) -> *mut c_long;
    pub(crate) fn lana_skb_len(skb: *const bindings::sk_buff) -> c_uint;
    pub(crate) fn lana_nla_put_string(skb: *mut bindings::sk_buff, ty: c_int, s: *const c_char) -> c_int;
    pub(crate) fn lana_nla_put_u32(skb: *mut bindings::sk_buff, ty: c_int, v: u32) -> c_int;
    pub(crate) fn lana_nla_put_u64(skb: *mut bindings::sk_buff, ty: c_int, v: u64) -> c_int;
    pub(crate) fn lana_nla_nest_start(skb: *mut bindings::sk_buff, ty: c_int) -> *mut bindings::nlattr;
    pub(crate) fn lana_nla_nest_end(skb: *mut bindings::sk_buff, nest: *mut bindings::nlattr);

    pub(crate) fn lana_percpu_alloc(size: usize, align: usize) -> *mut c_void;
    pub(crate) fn lana_percpu_free(p: *mut c_void);
    pub(crate) fn lana_percpu_cpu(p: *mut c_void, cpu: c_uint) -> *mut c_void;
    pub(crate) fn lana_nr_cpu_ids() -> c_uint;
    pub(crate) fn lana_this_cpu_offset() -> usize;

    pub(crate) fn lana_kfree_skb(skb: *mut bindings::sk_buff);
    pub(crate) fn lana_kfree_skb_reason(skb: *mut bindings::sk_buff, reason: u32);
    pub(crate) fn lana_skb_clone(skb: *mut bindings::sk_buff) -> *mut bindings::sk_buff;
    pub(crate) fn lana_skb_share_check(skb: *mut bindings::sk_buff) -> *mut bindings::sk_buff;
    pub(crate) fn lana_skb_data(skb: *const bindings::sk_buff) -> *const u8;
    pub(crate) fn lana_skb_headlen(skb: *const bindings::sk_buff) -> c_uint;

    pub(crate) fn lana_nb_init(nb: *mut bindings::notifier_block);
    pub(crate) fn lana_chain_init(head: *mut bindings::raw_notifier_head);
    pub(crate) fn lana_chain_register(
        head: *mut bindings::raw_notifier_head,
        nb: *mut bindings::notifier_block,
    ) -> c_int;
    pub(crate) fn lana_chain_unregister(
        head: *mut bindings::raw_notifier_head,
        nb: *mut bindings::notifier_block,
    );
    pub(crate) fn lana_chain_call(
        head: *mut bindings::raw_notifier_head,
        action: c_ulong,
        data: *mut c_void,
    ) -> c_int;

    pub(crate) fn lana_ppe_mode() -> c_uint;
    pub(crate) fn lana_ppe_mode_name() -> *const c_char;
    pub(crate) fn lana_ppe_enqueue(skb: *mut bindings::sk_buff, entry: u64);
    pub(crate) fn lana_ppe_start() -> c_int;
    pub(crate) fn lana_ppe_stop();

    pub(crate) fn lana_sock_register() -> c_int;
    pub(crate) fn lana_sock_unregister();
    pub(crate) fn lana_sock_family() -> c_int;
    pub(crate) fn lana_sock_deliver(sk: *mut bindings::sock, skb: *mut bindings::sk_buff) -> bool;

    pub(crate) fn lana_bh_disable();
    pub(crate) fn lana_bh_enable();

    pub(crate) fn lana_module_get(m: *mut bindings::module) -> bool;
    pub(crate) fn lana_module_put(m: *mut bindings::module);

    pub(crate) fn lana_netdev_notifier_register() -> c_int;
    pub(crate) fn lana_netdev_notifier_unregister();
    pub(crate) fn lana_netns_get(pid: u32, out: *mut *mut bindings::net) -> c_int;
    pub(crate) fn lana_netns_put(net: *mut bindings::net);
    pub(crate) fn lana_port_match(port: *mut LanaPortC, ifname: *const c_char, net: *mut bindings::net) -> c_int;
    pub(crate) fn lana_port_attach(port: *mut LanaPortC, ifname: *const c_char, net: *mut bindings::net) -> c_int;
    pub(crate) fn lana_skb_has_eth_header(skb: *const bindings::sk_buff) -> bool;
    pub(crate) fn lana_port_detach(port: *mut LanaPortC);
    pub(crate) fn lana_port_ifname(port: *mut LanaPortC, buf: *mut c_char, len: usize);
    pub(crate) fn lana_port_xmit(port: *mut LanaPortC, skb: *mut bindings::sk_buff, proto: u16, peer: u64) -> c_int;
    pub(crate) fn lana_skb_push_mac(skb: *mut bindings::sk_buff);
    pub(crate) fn lana_skb_protocol(skb: *const bindings::sk_buff) -> u16;
    pub(crate) fn lana_skb_mac_dst(skb: *const bindings::sk_buff) -> u64;

    pub(crate) fn lana_bpf_create(insns: *const SockFilter, len: c_uint, out: *mut *mut c_void) -> c_int;
    pub(crate) fn lana_bpf_run(prog: *const c_void, skb: *mut bindings::sk_buff) -> c_uint;
    pub(crate) fn lana_bpf_destroy(prog: *mut c_void);
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

/// Mirror of `struct lana_port` in `ffi.c`.
#[repr(C)]
pub(crate) struct LanaPortC {
    pub(crate) dev: *mut bindings::net_device,
}
