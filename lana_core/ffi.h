/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C half of lana_core's FFI layer: what Rust cannot reach through kernel::bindings
 * (static inlines, macros, headers bindgen does not see) and the callbacks the kernel owns
 * (generic netlink ops, rx_handler, notifiers, proto_ops, engine threads), one file per
 * subsystem. Every Rust -> C function has exactly one declaration in lana_core/ffi.rs.
 */
#ifndef LANA_FFI_H
#define LANA_FFI_H
#include <linux/types.h>
#include <linux/jump_label.h>
#include <linux/netdevice.h>	/* rx_handler_result_t */

struct sk_buff;
struct genl_info;
struct netlink_callback;
struct net_device;
struct nlattr;
struct netlink_ext_ack;
struct lana_port;
struct sock_filter;
struct bpf_prog;
struct sock;
struct net;

/* C -> Rust (netlink.rs, netdev.rs, mechanism.rs, socket.rs, generation.rs) */
int lana_rust_doit(u8 cmd, struct genl_info *info);
int lana_rust_dumpit(u8 cmd, struct sk_buff *skb, struct netlink_callback *cb);
rx_handler_result_t lana_rust_rx(struct sk_buff **pskb);	/* the ports' rx_handler */
bool lana_rust_port_link_changed(void *port);
void lana_rust_ppe_run(struct sk_buff *skb, u64 entry, const void *space);
void lana_rust_ppe_drop(struct sk_buff *skb, const void *space, u32 reason);
int lana_rust_sock_bind(struct sock *sk, struct net *net, const char *name, void **link);
void lana_rust_sock_unbind(void *link);
int lana_rust_sock_send(void *link, struct sk_buff *skb);
void lana_rust_port_gone(void *port);
unsigned int lana_rust_net_exit(struct net *net);

/* Rust -> C: params.c */
extern unsigned int lana_param_max_hops, lana_param_max_copies;
extern const unsigned long lana_rx_handler_data_offset;	/* netdev.c */
struct lana_static_keys {
	struct static_key_false runtime;	/* the per-block runtime view is on */
};
extern struct lana_static_keys lana_static_keys;
void lana_runtime_set(bool on);
bool lana_runtime_on(void);
u64 lana_now_ns(void);
void lana_set_max_hops(unsigned int n);
struct sk_buff *lana_event_new(struct net *net, u8 cmd, size_t size, void **hdr);
void lana_event_send(struct net *net, struct sk_buff *msg, void *hdr);
void lana_event_lost(struct net *net);
unsigned int lana_max_blocks(void);
unsigned int lana_max_ns_blocks(void);
s64 lana_net_container_owner(const struct net *net);

/* defer.c */
void lana_defer(void (*fn)(void *obj), void *obj);
void lana_defer_flush(void);
int lana_defer_init(void);
void lana_defer_exit(void);

/* genl.c */
int lana_genl_register(void);
void lana_genl_unregister(void);
void lana_extack_msg(struct netlink_ext_ack *extack, const char *msg);
struct sk_buff *lana_reply_new(struct genl_info *info, u8 cmd, void **hdr);
int lana_reply_send(struct sk_buff *msg, void *hdr, struct genl_info *info);
struct net *lana_genl_info_net(struct genl_info *info);
const void *lana_genl_attrs(struct genl_info *info, int *len);
int lana_batch_parse(const struct nlattr *nla, struct nlattr **tb);
struct net *lana_dump_net(struct netlink_callback *cb);
void *lana_dump_put(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd, u32 generation);
struct nlattr *lana_nla_nest_start(struct sk_buff *skb, int type);
void lana_nla_nest_end(struct sk_buff *skb, struct nlattr *nest);

/* skb.c */
void __percpu *lana_percpu_alloc(size_t size, size_t align);
void *lana_percpu_cpu(void __percpu *p, unsigned int cpu);
unsigned long lana_this_cpu_offset(void);
void lana_bh_disable(void);
void lana_bh_enable(void);
int lana_bpf_create(const struct sock_filter *insns, unsigned int len, struct bpf_prog **out);
unsigned int lana_bpf_run(const struct bpf_prog *prog, struct sk_buff *skb);
void lana_bpf_destroy(struct bpf_prog *prog);
unsigned int lana_skb_headlen(const struct sk_buff *skb);

/* netdev.c */
struct lana_port *lana_port_new(void *owner);
void lana_port_free(struct lana_port *port);
int lana_port_match(struct lana_port *port, const char *ifname, struct net *net, void **other);
int lana_port_attach(struct lana_port *port, const char *ifname, struct net *net);
void lana_port_detach(struct lana_port *port);
void lana_port_ifname(struct lana_port *port, char *buf, size_t len);
bool lana_port_link(struct lana_port *port, bool *up, u32 *mtu);
int lana_port_xmit(struct lana_port *port, struct sk_buff *skb, u16 proto, const u8 *peer);
int lana_netdev_notifier_register(void);
void lana_netdev_notifier_unregister(void);
int lana_pernet_register(void);
void lana_pernet_unregister(void);

/* mechanism.c */
extern unsigned int lana_param_ppe_mode;
const char *lana_ppe_mode_name(void);
void lana_ppe_enqueue(struct sk_buff *skb, u64 entry, const void *space);
void lana_ppe_flush_dev(struct net_device *dev);
int lana_ppe_start(void);
void lana_ppe_stop(void);

/* socket.c */
int lana_sock_register(void);
void lana_sock_unregister(void);
int lana_sock_family(void);
enum { LANA_SOCK_QUEUED, LANA_SOCK_FULL, LANA_SOCK_FILTERED, LANA_SOCK_NOMEM };
int lana_sock_deliver(struct sock *sk, struct sk_buff *skb);

#endif
