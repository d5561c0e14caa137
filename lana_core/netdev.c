// SPDX-License-Identifier: GPL-2.0
/*
 * The virtual-link attachment (netdev.rs): a port holds a net device, hooks its receive
 * path with an rx_handler, transmits on it, and hears the device's events.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include "ffi.h"

/*
 * A port: the C half of a Rust Port (netdev.rs), which owns it (lana_port_new/free) and
 * which @owner points back to. It is the rx_handler's private data. @dev is written under
 * rtnl only; the rx path reads it under RCU. @link_work tells the Rust side that the
 * device's state changed (the netdevice notifier runs under rtnl, which the configuration
 * mutex must not be taken under).
 */
struct lana_port {
	void *owner;	/* first: the Rust rx_handler reads it at offset 0 */
	struct net_device *dev;
	struct delayed_work link_work;
};

static_assert(offsetof(struct lana_port, owner) == 0);
static_assert(RX_HANDLER_CONSUMED == 0 && RX_HANDLER_PASS == 3);	/* mirrored in netdev.rs */

/*
 * Where a device keeps its rx_handler's data (the port), for the Rust rx_handler: struct
 * net_device is opaque to Rust's bindings.
 */
const unsigned long lana_rx_handler_data_offset = offsetof(struct net_device, rx_handler_data);

/*
 * The rx_handler is Rust's lana_rust_rx (netdev.rs), registered directly. Under kCFI the
 * stack's indirect call checks a type hash that names the enum rx_handler_result, which a
 * module's Rust cannot give its function (cfi_encoding is not an allowed feature): there
 * a C handler tail-calls it.
 */
#ifdef CONFIG_CFI
static rx_handler_result_t lana_rx_handler(struct sk_buff **pskb)
{
	return lana_rust_rx(pskb);
}
#else
#define lana_rx_handler lana_rust_rx
#endif

/*
 * The Rust side takes the configuration mutex without waiting: a command holding it may be
 * waiting for a port to be freed (deferred block drops), and freeing a port waits for this
 * work (cancel_delayed_work_sync). When the mutex is busy, the work tries again a jiffy later.
 */
static void lana_port_link_work(struct work_struct *work)
{
	struct lana_port *port = container_of(to_delayed_work(work), struct lana_port, link_work);

	if (!lana_rust_port_link_changed(port->owner))
		schedule_delayed_work(&port->link_work, 1);
}

struct lana_port *lana_port_new(void *owner)
{
	struct lana_port *port = kzalloc(sizeof(*port), GFP_KERNEL);

	if (!port)
		return NULL;
	INIT_DELAYED_WORK(&port->link_work, lana_port_link_work);
	port->owner = owner;
	return port;
}

/* The port must be detached: no rx_handler and no notifier can reach it any more. */
void lana_port_free(struct lana_port *port)
{
	cancel_delayed_work_sync(&port->link_work);
	kfree(port);
}

static bool lana_is_ethernet(const struct net_device *dev)
{
	return dev->type == ARPHRD_ETHER && dev->hard_header_len == ETH_HLEN &&
	       dev->addr_len == ETH_ALEN;
}

/*
 * Whether @port is attached to device @ifname of @net: 1 yes (same namespace and ifindex),
 * 0 the port is detached and the device exists and is free, 2 another port holds the
 * device (its owner in *@other), -EBUSY attached to another device or the device has
 * another rx_handler, -ENODEV no such device, -EOPNOTSUPP not an Ethernet device.
 */
int lana_port_match(struct lana_port *port, const char *ifname, struct net *net, void **other)
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
	else if (!lana_is_ethernet(dev))
		ret = -EOPNOTSUPP;
	else if (rcu_access_pointer(dev->rx_handler) == lana_rx_handler) {
		struct lana_port *holder = rtnl_dereference(dev->rx_handler_data);

		*other = holder->owner;
		ret = 2;
	} else
		ret = netdev_is_rx_handler_busy(dev) ? -EBUSY : 0;
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
	err = netdev_rx_handler_register(dev, lana_rx_handler, port);
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
	/* Frames of this device waiting for an engine thread go too (as flush_backlog does
	 * for the kernel's own backlog): dropped and counted. Queued frames point to the
	 * port's namespace space, which the port's block keeps alive: none may outlive it. */
	lana_ppe_flush_dev(dev);
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

/* The device's state: returns false when detached; else *@up (running with carrier), *@mtu. */
bool lana_port_link(struct lana_port *port, bool *up, u32 *mtu)
{
	struct net_device *dev;
	bool attached;

	rcu_read_lock();
	dev = READ_ONCE(port->dev);
	attached = dev;
	if (dev) {
		*up = netif_running(dev) && netif_carrier_ok(dev);
		*mtu = READ_ONCE(dev->mtu);
	}
	rcu_read_unlock();
	return attached;
}

/*
 * Transmit on the port's device; consumes @skb in every case. Frames that came from a wire
 * carry their Ethernet header and go out as they are; packets made by a block (a socket's
 * messages) get one: to @peer (NULL: broadcast), EtherType @proto.
 * 0 sent; -ENETDOWN detached or down, -EMSGSIZE longer than the device's MTU allows
 * (dropped here); -ENOMEM, -ENOBUFS refused.
 */
int lana_port_xmit(struct lana_port *port, struct sk_buff *skb, u16 proto, const u8 *peer)
{
	struct net_device *dev = READ_ONCE(port->dev);
	struct ethhdr *eth;
	int rc;

	/* A detached port, or a device that is down (its qdisc would drop the frame and call
	 * it congestion): dropped here, with the reason. (IFF_UP comes after `running` while
	 * the device opens; the MTU check below wants it.) */
	if (!dev || !netif_running(dev) || !(READ_ONCE(dev->flags) & IFF_UP)) {
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
		/* (the message starts the network header: taps and the tx hash parse it there) */
		skb_reset_network_header(skb);
		eth = skb_push(skb, ETH_HLEN);
		skb_reset_mac_header(skb);
		if (peer)
			ether_addr_copy(eth->h_dest, peer);
		else
			eth_broadcast_addr(eth->h_dest);
		ether_addr_copy(eth->h_source, dev->dev_addr);
		eth->h_proto = htons(proto);
		skb->protocol = eth->h_proto;
	}
	/* A frame from a device with a larger MTU, or a message larger than the path allows:
	 * drivers must not see it. The check bridges and veth make (GSO packets pass; a VLAN
	 * tag's 4 bytes are allowed). */
	if (!is_skb_forwardable(dev, skb)) {
		kfree_skb_reason(skb, SKB_DROP_REASON_PKT_TOO_BIG);
		return -EMSGSIZE;
	}
	/* 0 sent; the qdisc or driver freed the frame otherwise (congestion counts as sent, as
	 * net_xmit_eval says; it evaluates its argument twice, hence rc). */
	rc = dev_queue_xmit(skb);
	return net_xmit_eval(rc) ? -ENOBUFS : 0;
}

/*
 * Device events for devices an eth block holds: a device going away detaches the block (no
 * dangling reference; its queued frames go too); a device going up or down or changing
 * its MTU is news for the blocks along its paths.
 */
static int lana_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct lana_port *port;

	if (rcu_access_pointer(dev->rx_handler) != lana_rx_handler)
		return NOTIFY_DONE;
	port = rtnl_dereference(dev->rx_handler_data);
	switch (event) {
	case NETDEV_UNREGISTER:
		pr_info("%s is going away: detaching its eth block\n", dev->name);
		lana_port_release(port);
		lana_rust_port_gone(port->owner);
		fallthrough;
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
	case NETDEV_CHANGEMTU:
		schedule_delayed_work(&port->link_work, 0);
		return NOTIFY_OK;
	default:
		return NOTIFY_DONE;
	}
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

/*
 * A namespace going away takes its graph with it. Its exit runs after the namespace's
 * devices are gone (device pernet operations exit before subsystems) and once no socket
 * is left in it.
 */
static void __net_exit lana_net_exit(struct net *net)
{
	unsigned int n = lana_rust_net_exit(net);

	/* anyone may make and drop namespaces: rate-limited */
	if (n)
		pr_info_ratelimited("a network namespace went away: removed its %u block(s)\n", n);
}

/*
 * The user who made the container that namespace net belongs to: the owner (in the initial
 * user namespace) of the outermost user namespace above net's, or -1 for a namespace the
 * initial user namespace owns (the host's). Nested user namespaces are the same user's.
 */
s64 lana_net_container_owner(const struct net *net)
{
	const struct user_namespace *ns = net->user_ns;

	if (ns == &init_user_ns)
		return -1;
	while (ns->parent != &init_user_ns)
		ns = ns->parent;
	return from_kuid(&init_user_ns, ns->owner);
}

static struct pernet_operations lana_net_ops = {
	.exit = lana_net_exit,
};

int lana_pernet_register(void)
{
	return register_pernet_subsys(&lana_net_ops);
}

void lana_pernet_unregister(void)
{
	unregister_pernet_subsys(&lana_net_ops);
}
