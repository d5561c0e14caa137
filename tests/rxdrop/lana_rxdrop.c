// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark baseline, not part of LANA: an rx_handler on one device that frees every frame.
 * It is the ceiling any rx_handler-based design (LANA's included) can reach.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

static char *ifname = "rx0";
module_param(ifname, charp, 0444);
MODULE_PARM_DESC(ifname, "device whose received frames are dropped");

static bool unshare;
module_param(unshare, bool, 0444);
MODULE_PARM_DESC(unshare, "take ownership first (skb_share_check), as any handler that keeps packets must");

static struct net_device *rxdrop_dev;

static rx_handler_result_t rxdrop_handler(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;

	if (unshare) {
		skb = skb_share_check(skb, GFP_ATOMIC);
		if (!skb)
			return RX_HANDLER_CONSUMED;
	}
	kfree_skb(skb);
	return RX_HANDLER_CONSUMED;
}

static int __init rxdrop_init(void)
{
	struct net_device *dev;
	int err;

	rtnl_lock();
	dev = __dev_get_by_name(&init_net, ifname);
	err = dev ? netdev_rx_handler_register(dev, rxdrop_handler, NULL) : -ENODEV;
	if (!err) {
		dev_hold(dev);
		rxdrop_dev = dev;
	}
	rtnl_unlock();
	return err;
}

static void __exit rxdrop_exit(void)
{
	rtnl_lock();
	netdev_rx_handler_unregister(rxdrop_dev);
	rtnl_unlock();
	dev_put(rxdrop_dev);
}

module_init(rxdrop_init);
module_exit(rxdrop_exit);
MODULE_DESCRIPTION("Benchmark baseline: drop-only rx_handler");
MODULE_LICENSE("GPL");
