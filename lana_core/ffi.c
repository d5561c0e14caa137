// SPDX-License-Identifier: GPL-2.0
/*
 * lana_core's C helpers: one-line wrappers around static inlines and macros, and the callbacks
 * the kernel owns (generic netlink family, rx_handler trampoline, notifier trampolines), each
 * forwarding straight to Rust. No logic lives here; see the Rust files beside it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/filter.h>
#include <linux/notifier.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "ffi.h"
#include "lana_uapi.h"

/* ---- module parameters ------------------------------------------------------------------ */

static unsigned int max_hops = 64;
module_param(max_hops, uint, 0644);
MODULE_PARM_DESC(max_hops, "blocks one packet may visit before the engine drops it (default 64)");

unsigned int lana_max_hops(void)
{
	return READ_ONCE(max_hops);
}

/* Fan-outs multiply work: a packet may visit max_hops blocks per path, and make at most
 * max_copies copies in all, so one frame costs at most (max_copies + 1) * max_hops visits. */
static unsigned int max_copies = 64;
module_param(max_copies, uint, 0644);
MODULE_PARM_DESC(max_copies, "copies fan-outs may make of one packet, in all (default 64)");

unsigned int lana_max_copies(void)
{
	return READ_ONCE(max_copies);
}

static unsigned int max_blocks = 65536;
module_param(max_blocks, uint, 0644);
MODULE_PARM_DESC(max_blocks, "most blocks the graph may hold (default 65536)");

unsigned int lana_max_blocks(void)
{
	return READ_ONCE(max_blocks);
}

/* ---- deferred frees: objects readers may still see, dropped after a grace period -------- */

/*
 * queue_rcu_work runs the function in process context once a grace period has passed, so
 * destructors may sleep (detach a device, take rtnl). lana_defer_flush waits for all of them:
 * rcu_barrier() runs the pending RCU callbacks, which queue the work; flush_workqueue runs it.
 * A deferred function may defer again, hence the loop on the pending count.
 */
struct lana_deferred {
	struct rcu_work rw;
	void (*fn)(void *obj);
	void *obj;
};

static struct workqueue_struct *lana_wq;
static atomic_t lana_deferred_pending = ATOMIC_INIT(0);

/* Retired snapshots of a big graph are big: a burst of commands waits for the pending ones
 * beyond this many instead of piling them up. */
#define LANA_DEFER_MAX 256

static void lana_deferred_run(struct work_struct *work)
{
	struct lana_deferred *d = container_of(to_rcu_work(work), struct lana_deferred, rw);

	d->fn(d->obj);
	kfree(d);
	atomic_dec(&lana_deferred_pending);
}

void lana_defer(void (*fn)(void *obj), void *obj)
{
	struct lana_deferred *d = kmalloc(sizeof(*d), GFP_KERNEL);

	might_sleep();
	if (!d) {
		synchronize_rcu();
		fn(obj);
		return;
	}
	d->fn = fn;
	d->obj = obj;
	atomic_inc(&lana_deferred_pending);
	INIT_RCU_WORK(&d->rw, lana_deferred_run);
	queue_rcu_work(lana_wq, &d->rw);
	if (atomic_read(&lana_deferred_pending) > LANA_DEFER_MAX && !current_work())
		lana_defer_flush();
}

void lana_defer_flush(void)
{
	do {
		rcu_barrier();
		flush_workqueue(lana_wq);
	} while (atomic_read(&lana_deferred_pending));
}

int lana_defer_init(void)
{
	lana_wq = alloc_workqueue("lana", WQ_UNBOUND, 0);
	return lana_wq ? 0 : -ENOMEM;
}

void lana_defer_exit(void)
{
	lana_defer_flush();
	destroy_workqueue(lana_wq);
}

/* ---- generic netlink family "lana" ------------------------------------------------------- */

static const struct nla_policy lana_prop_policy[LANA_A_MAX + 1] = {
	[LANA_A_PROP] = { .type = NLA_NUL_STRING, .len = LANA_PROP_MAX },
};

static const struct nla_policy lana_policy[LANA_A_MAX + 1] = {
	[LANA_A_NAME] = { .type = NLA_NUL_STRING, .len = LANA_NAME_MAX },
	[LANA_A_TYPE] = { .type = NLA_NUL_STRING, .len = LANA_NAME_MAX },
	[LANA_A_PEER] = { .type = NLA_NUL_STRING, .len = LANA_NAME_MAX },
	[LANA_A_PROPS] = NLA_POLICY_NESTED(lana_prop_policy),
	[LANA_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, LANA_F_DROP_STATE),
};

static int lana_nl_doit(struct sk_buff *skb, struct genl_info *info)
{
	return lana_rust_doit(info->genlhdr->cmd, info);
}

static int lana_nl_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	return lana_rust_dumpit(genl_dumpit_info(cb)->op.cmd, skb, cb);
}

#define LANA_ADMIN_OP(c) { .cmd = (c), .doit = lana_nl_doit, .flags = GENL_ADMIN_PERM }

static const struct genl_ops lana_ops[] = {
	LANA_ADMIN_OP(LANA_CMD_ADD),
	LANA_ADMIN_OP(LANA_CMD_RM),
	LANA_ADMIN_OP(LANA_CMD_SET),
	LANA_ADMIN_OP(LANA_CMD_BIND),
	LANA_ADMIN_OP(LANA_CMD_UNBIND),
	LANA_ADMIN_OP(LANA_CMD_REPLACE),
	LANA_ADMIN_OP(LANA_CMD_FLUSH),
	/* Reading needs no privilege, as with `ip link show`. */
	{ .cmd = LANA_CMD_GET, .doit = lana_nl_doit, .dumpit = lana_nl_dumpit },
	{ .cmd = LANA_CMD_TYPES, .dumpit = lana_nl_dumpit },
	{ .cmd = LANA_CMD_STATS, .doit = lana_nl_doit },
};

static struct genl_family lana_family __ro_after_init = {
	.name		= LANA_GENL_NAME,
	.version	= LANA_GENL_VERSION,
	.maxattr	= LANA_A_MAX,
	.policy		= lana_policy,
	/* resv_start_op = 0: strict validation for every command. */
	.netnsok	= false,
	/* LANA serialises its commands with its own mutex: do not hold genl_mutex (and with it
	 * every other generic netlink family) while a command runs. */
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= lana_ops,
	.n_ops		= ARRAY_SIZE(lana_ops),
};

int lana_genl_register(void)
{
	return genl_register_family(&lana_family);
}

void lana_genl_unregister(void)
{
	genl_unregister_family(&lana_family);
}

const struct nlattr *lana_info_attr(const struct genl_info *info, int type)
{
	return info->attrs[type];
}

struct netlink_ext_ack *lana_info_extack(struct genl_info *info)
{
	return info->extack;
}

/* A formatted message: copied into the extack's own buffer (NL_SET_ERR_MSG_FMT's storage). */
void lana_extack_msg(struct netlink_ext_ack *extack, const char *msg)
{
	if (!extack)
		return;
	strscpy(extack->_msg_buf, msg, sizeof(extack->_msg_buf));
	extack->_msg = extack->_msg_buf;
}

const void *lana_nla_data(const struct nlattr *nla)
{
	return nla_data(nla);
}

int lana_nla_len(const struct nlattr *nla)
{
	return nla_len(nla);
}

struct sk_buff *lana_reply_new(struct genl_info *info, u8 cmd, void **hdr)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);

	if (!msg)
		return NULL;
	*hdr = genlmsg_put_reply(msg, info, &lana_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int lana_reply_send(struct sk_buff *msg, void *hdr, struct genl_info *info)
{
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

void lana_msg_free(struct sk_buff *msg)
{
	nlmsg_free(msg);
}

/* One message of a dump; @generation of the configuration it describes flags the message
 * NLM_F_DUMP_INTR if the dump began with another (userspace then retries). */
void *lana_dump_put(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd, u32 generation)
{
	void *hdr;

	cb->seq = generation;
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq, &lana_family,
			  NLM_F_MULTI, cmd);
	if (hdr)
		genl_dump_check_consistent(cb, hdr);
	return hdr;
}

void lana_msg_end(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
}

void lana_msg_cancel(struct sk_buff *skb, void *hdr)
{
	genlmsg_cancel(skb, hdr);
}

long *lana_dump_args(struct netlink_callback *cb)
{
	return cb->args;
}

unsigned int lana_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}

int lana_nla_put_string(struct sk_buff *skb, int type, const char *s)
{
	return nla_put_string(skb, type, s);
}

int lana_nla_put_u32(struct sk_buff *skb, int type, u32 v)
{
	return nla_put_u32(skb, type, v);
}

int lana_nla_put_u64(struct sk_buff *skb, int type, u64 v)
{
	return nla_put_u64_64bit(skb, type, v, LANA_A_PAD);
}

struct nlattr *lana_nla_nest_start(struct sk_buff *skb, int type)
{
	return nla_nest_start(skb, type);
}

void lana_nla_nest_end(struct sk_buff *skb, struct nlattr *nest)
{
	nla_nest_end(skb, nest);
}

/* ---- per-CPU memory --------------------------------------------------------------------- */

void __percpu *lana_percpu_alloc(size_t size, size_t align)
{
	return __alloc_percpu(size, align);
}

void lana_percpu_free(void __percpu *p)
{
	free_percpu(p);
}

/* Returns NULL past the last possible CPU; iterate from 0 while it does not. */
void *lana_percpu_cpu(void __percpu *p, unsigned int cpu)
{
	if (cpu >= nr_cpu_ids || !cpu_possible(cpu))
		return NULL;
	return per_cpu_ptr(p, cpu);
}

/* This CPU's per-CPU offset: this_cpu_ptr(p) == p + offset for every per-CPU pointer. */
static DEFINE_PER_CPU(u8, lana_cpu_anchor);

unsigned long lana_this_cpu_offset(void)
{
	return (unsigned long)this_cpu_ptr(&lana_cpu_anchor) - (unsigned long)&lana_cpu_anchor;
}

unsigned int lana_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

/* ---- socket buffers --------------------------------------------------------------------- */

void lana_kfree_skb(struct sk_buff *skb)
{
	kfree_skb(skb);
}

/* LANA's drop reasons (DropReason in block.rs, LANA_DROP_REASON_NAMES) as the kernel's, for
 * drop monitors; NOT_SPECIFIED where the kernel has none that fits. */
static const enum skb_drop_reason lana_drop_reasons[] = {
	SKB_DROP_REASON_SOCKET_FILTER,		/* filtered */
	SKB_DROP_REASON_NO_TX_TARGET,		/* no_next */
	SKB_DROP_REASON_RECURSION_LIMIT,	/* hop_limit */
	SKB_DROP_REASON_NOT_SPECIFIED,		/* no_block */
	SKB_DROP_REASON_CPU_BACKLOG,		/* queue_full */
	SKB_DROP_REASON_SOCKET_RCVBUFF,		/* socket_full */
	SKB_DROP_REASON_NO_SOCKET,		/* no_socket */
	SKB_DROP_REASON_NOMEM,			/* fanout_failed */
	SKB_DROP_REASON_DEV_READY,		/* device_down */
	SKB_DROP_REASON_NOT_SPECIFIED,		/* tx_error (the device freed it) */
	SKB_DROP_REASON_QUEUE_PURGE,		/* flushed */
};

void lana_kfree_skb_reason(struct sk_buff *skb, u32 reason)
{
	kfree_skb_reason(skb, reason < ARRAY_SIZE(lana_drop_reasons) ?
			 lana_drop_reasons[reason] : SKB_DROP_REASON_NOT_SPECIFIED);
}

struct sk_buff *lana_skb_clone(struct sk_buff *skb)
{
	return skb_clone(skb, GFP_ATOMIC);
}

struct sk_buff *lana_skb_share_check(struct sk_buff *skb)
{
	return skb_share_check(skb, GFP_ATOMIC);
}

const u8 *lana_skb_data(const struct sk_buff *skb)
{
	return skb->data;
}

unsigned int lana_skb_headlen(const struct sk_buff *skb)
{
	return skb_headlen(skb);
}

/* ---- notifier chains -------------------------------------------------------------------- */

static int lana_nb_tramp(struct notifier_block *nb, unsigned long action, void *data)
{
	return notifier_from_errno(lana_rust_fb_event(nb, action, data));
}

void lana_nb_init(struct notifier_block *nb)
{
	nb->notifier_call = lana_nb_tramp;
	nb->next = NULL;
	nb->priority = 0;
}

void lana_chain_init(struct raw_notifier_head *head)
{
	RAW_INIT_NOTIFIER_HEAD(head);
}

int lana_chain_register(struct raw_notifier_head *head, struct notifier_block *nb)
{
	return raw_notifier_chain_register(head, nb);
}

void lana_chain_unregister(struct raw_notifier_head *head, struct notifier_block *nb)
{
	raw_notifier_chain_unregister(head, nb);
}

/* Returns 0 or the negative errno of the first subscriber that vetoed. */
int lana_chain_call(struct raw_notifier_head *head, unsigned long action, void *data)
{
	return notifier_to_errno(raw_notifier_call_chain(head, action, data));
}

/* ---- modules ---------------------------------------------------------------------------- */

bool lana_module_get(struct module *m)
{
	return try_module_get(m);
}

void lana_module_put(struct module *m)
{
	module_put(m);
}

/* ---- net devices: the virtual-link attachment ------------------------------------------- */

/*
 * A port is how an eth block holds a device. Rust embeds it as the first field of its own
 * port object (lana_core/netdev.rs) and passes it as the rx_handler's private data.
 * @dev is written under rtnl only; the rx path reads it under RCU.
 */
struct lana_port {
	struct net_device *dev;
};

static_assert(RX_HANDLER_CONSUMED == 0 && RX_HANDLER_PASS == 3);	/* mirrored in netdev.rs */

/* Runs in the receive softirq, under rcu_read_lock. */
static rx_handler_result_t lana_rx_tramp(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;

	return (rx_handler_result_t)lana_rust_rx(skb, rcu_dereference(skb->dev->rx_handler_data));
}

/* The namespace of process @pid (0: the initial one), referenced in *@out: release it with
 * lana_netns_put. -ESRCH if there is no such process. */
int lana_netns_get(u32 pid, struct net **out)
{
	struct net *net = pid ? get_net_ns_by_pid(pid) : get_net(&init_net);

	if (IS_ERR(net))
		return PTR_ERR(net);
	*out = net;
	return 0;
}

void lana_netns_put(struct net *net)
{
	put_net(net);
}

/* eth blocks speak Ethernet: frames start with a 14-byte header with 6-byte addresses. */
static bool lana_is_ethernet(const struct net_device *dev)
{
	return dev->type == ARPHRD_ETHER && dev->hard_header_len == ETH_HLEN &&
	       dev->addr_len == ETH_ALEN;
}

/*
 * Whether @port is attached to device @ifname of @net: 1 yes (same namespace and ifindex),
 * 0 the port is detached and the device exists, -EBUSY attached to another device, -ENODEV
 * no such device, -EOPNOTSUPP not an Ethernet device.
 */
int lana_port_match(struct lana_port *port, const char *ifname, struct net *net)
{
	struct net_device *dev;
	int ret;

	rtnl_lock();
	dev = __dev_get_by_name(net, ifname);
	if (!dev)
		ret = -ENODEV;
	else if (port->dev == dev)
		ret = 1;
	else if (port->dev)
		ret = -EBUSY;
	else
		ret = lana_is_ethernet(dev) ? 0 : -EOPNOTSUPP;
	rtnl_unlock();
	return ret;
}

/* Attach the detached @port to device @ifname of @net. */
int lana_port_attach(struct lana_port *port, const char *ifname, struct net *net)
{
	struct net_device *dev;
	int err;

	rtnl_lock();
	dev = __dev_get_by_name(net, ifname);
	if (!dev) {
		err = -ENODEV;
		goto out;
	}
	if (!lana_is_ethernet(dev)) {
		err = -EOPNOTSUPP;
		goto out;
	}
	if (port->dev || netdev_is_rx_handler_busy(dev)) {
		err = -EBUSY;
		goto out;
	}
	err = netdev_rx_handler_register(dev, lana_rx_tramp, port);
	if (err)
		goto out;
	dev_hold(dev);
	WRITE_ONCE(port->dev, dev);
out:
	rtnl_unlock();
	return err;
}

static void lana_port_release(struct lana_port *port)
{
	struct net_device *dev = port->dev;

	ASSERT_RTNL();
	netdev_rx_handler_unregister(dev);	/* waits for running handlers (synchronize_net) */
	WRITE_ONCE(port->dev, NULL);
	dev_put(dev);
}

void lana_port_detach(struct lana_port *port)
{
	rtnl_lock();
	if (port->dev)
		lana_port_release(port);
	rtnl_unlock();
}

/* Fills @buf with the attached device's name, or "" when detached. */
void lana_port_ifname(struct lana_port *port, char *buf, size_t len)
{
	struct net_device *dev;

	rcu_read_lock();
	dev = READ_ONCE(port->dev);
	strscpy(buf, dev ? dev->name : "", len);
	rcu_read_unlock();
}

/*
 * Transmit on the port's device; consumes @skb in every case. Frames that came from a wire
 * carry their Ethernet header and go out as they are; packets made by a block (a socket's
 * messages) get one: to @peer (48-bit MAC, 0 for broadcast), EtherType @proto.
 */
int lana_port_xmit(struct lana_port *port, struct sk_buff *skb, u16 proto, u64 peer)
{
	struct net_device *dev = READ_ONCE(port->dev);
	struct ethhdr *eth;
	int i, rc;

	/* A detached port, or a device that is down (its qdisc would drop the frame and call
	 * it congestion): dropped here, with the reason. */
	if (!dev || !netif_running(dev)) {
		kfree_skb_reason(skb, SKB_DROP_REASON_DEV_READY);
		return -ENETDOWN;
	}
	skb->dev = dev;
	if (skb_mac_header_was_set(skb)) {
		/* Frames taken from the rx path have data past the Ethernet header. */
		if (skb->data > skb_mac_header(skb))
			skb_push(skb, skb->data - skb_mac_header(skb));
	} else {
		if (skb_cow_head(skb, ETH_HLEN)) {
			kfree_skb_reason(skb, SKB_DROP_REASON_NOMEM);
			return -ENOMEM;
		}
		eth = skb_push(skb, ETH_HLEN);
		skb_reset_mac_header(skb);
		if (peer) {
			for (i = 0; i < ETH_ALEN; i++)
				eth->h_dest[i] = peer >> (40 - 8 * i);
		} else {
			eth_broadcast_addr(eth->h_dest);
		}
		ether_addr_copy(eth->h_source, dev->dev_addr);
		eth->h_proto = htons(proto);
		skb->protocol = eth->h_proto;
	}
	/* 0 sent; the qdisc or driver freed the frame otherwise (congestion counts as sent, as
	 * net_xmit_eval says; it evaluates its argument twice, hence rc). */
	rc = dev_queue_xmit(skb);
	return net_xmit_eval(rc) ? -ENOBUFS : 0;
}

/* Whether a received frame carries a whole Ethernet header before its data (ports attach
 * only to Ethernet devices; this guards the header reads against anything else). */
bool lana_skb_has_eth_header(const struct sk_buff *skb)
{
	return skb_mac_header_was_set(skb) && skb_mac_header_len(skb) >= ETH_HLEN;
}

/* Frames handed to blocks start at the Ethernet header, as tcpdump sees them. */
void lana_skb_push_mac(struct sk_buff *skb)
{
	if (skb_mac_header_was_set(skb) && skb->data > skb_mac_header(skb))
		skb_push(skb, skb->data - skb_mac_header(skb));
}

/* A device going away detaches the eth block holding it: no dangling reference. */
static int lana_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct lana_port *port;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	if (rcu_access_pointer(dev->rx_handler) != lana_rx_tramp)
		return NOTIFY_DONE;
	port = rtnl_dereference(dev->rx_handler_data);
	pr_info("%s is going away: detaching its eth block\n", dev->name);
	lana_port_release(port);
	lana_rust_config_changed();
	/* Frames of this device waiting for an engine thread go too (as flush_backlog does
	 * for the kernel's own backlog): dropped and counted. */
	lana_ppe_flush_dev(dev);
	return NOTIFY_OK;
}

static struct notifier_block lana_netdev_nb = {
	.notifier_call = lana_netdev_event,
};

int lana_netdev_notifier_register(void)
{
	return register_netdevice_notifier(&lana_netdev_nb);
}

void lana_netdev_notifier_unregister(void)
{
	unregister_netdevice_notifier(&lana_netdev_nb);
}

/* ---- bottom halves ---------------------------------------------------------------------- */

void lana_bh_disable(void)
{
	local_bh_disable();
}

void lana_bh_enable(void)
{
	local_bh_enable();
}

__be16 lana_skb_protocol(const struct sk_buff *skb)
{
	return skb->protocol;
}

/* Destination MAC of a received frame as a 48-bit number (big-endian order), for claiming. */
u64 lana_skb_mac_dst(const struct sk_buff *skb)
{
	const u8 *d = eth_hdr(skb)->h_dest;

	return ((u64)d[0] << 40) | ((u64)d[1] << 32) | ((u64)d[2] << 24) | ((u64)d[3] << 16) |
	       ((u64)d[4] << 8) | d[5];
}

/* ---- classic BPF ------------------------------------------------------------------------ */

/* Validates and translates a classic BPF program (copied); -EINVAL when it is invalid. */
int lana_bpf_create(const struct sock_filter *insns, unsigned int len, struct bpf_prog **out)
{
	struct sock_fprog_kern fprog = {
		.len = len,
		.filter = (struct sock_filter *)insns,
	};

	if (!len || len > BPF_MAXINSNS)
		return -EINVAL;
	return bpf_prog_create(out, &fprog);
}

/* Runs @prog on @skb (data at the Ethernet header); the accepted length, 0 to drop. */
unsigned int lana_bpf_run(const struct bpf_prog *prog, struct sk_buff *skb)
{
	return bpf_prog_run_save_cb(prog, skb);
}

void lana_bpf_destroy(struct bpf_prog *prog)
{
	bpf_prog_destroy(prog);
}
