// SPDX-License-Identifier: GPL-2.0
/*
 * lana_core's tunables: module parameters an admin may change at runtime in
 * /sys/module/lana_core/parameters/ (params.rs reads them).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/module.h>
#include <linux/jump_label.h>
#include <linux/sched/clock.h>

#include "ffi.h"
#include "lana_uapi.h"

/* Read by the packet path in Rust directly (params.rs), as READ_ONCE would. Written here
 * through sysfs or at load, checked as fbctl engine max_hops= is (1..LANA_MAX_HOPS_LIMIT). */
unsigned int lana_param_max_hops = 64;

static int lana_max_hops_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int err = kstrtouint(val, 0, &n);

	if (err)
		return err;
	if (n < 1 || n > LANA_MAX_HOPS_LIMIT)
		return -ERANGE;
	WRITE_ONCE(lana_param_max_hops, n);
	return 0;
}

static const struct kernel_param_ops lana_max_hops_ops = {
	.set = lana_max_hops_set,
	.get = param_get_uint,
};
module_param_cb(max_hops, &lana_max_hops_ops, &lana_param_max_hops, 0644);
MODULE_PARM_DESC(max_hops, "blocks one packet may visit before the engine drops it (default 64)");

/* Fan-outs multiply work: a packet may visit max_hops blocks per path, and make at most
 * max_copies copies in all, so one frame costs at most (max_copies + 1) * max_hops visits. */
unsigned int lana_param_max_copies = 64;
module_param_named(max_copies, lana_param_max_copies, uint, 0644);
MODULE_PARM_DESC(max_copies, "copies fan-outs may make of one packet, in all (default 64)");

static unsigned int max_blocks = 65536;
module_param(max_blocks, uint, 0644);
MODULE_PARM_DESC(max_blocks, "most blocks the graphs of all namespaces may hold (default 65536)");

unsigned int lana_max_blocks(void)
{
	return READ_ONCE(max_blocks);
}

/* A container (a network namespace owned by a user namespace other than the initial one,
 * which any user may make) gets a share of max_blocks, so one cannot take them all. */
static unsigned int max_ns_blocks = 4096;
module_param(max_ns_blocks, uint, 0644);
MODULE_PARM_DESC(max_ns_blocks, "most blocks the graph of a container's namespace may hold (default 4096)");

unsigned int lana_max_ns_blocks(void)
{
	return READ_ONCE(max_ns_blocks);
}

/* The per-block runtime view (runtime.rs): a static key, so it costs nothing while off. */
struct lana_static_keys lana_static_keys = {
	.runtime = STATIC_KEY_FALSE_INIT,
};

void lana_runtime_set(bool on)
{
	if (on)
		static_branch_enable(&lana_static_keys.runtime);
	else
		static_branch_disable(&lana_static_keys.runtime);
}

bool lana_runtime_on(void)
{
	return static_key_enabled(&lana_static_keys.runtime);
}

u64 lana_now_ns(void)
{
	return local_clock();
}

/* max_hops from netlink (fbctl engine max_hops=N), as a write to the parameter would. */
void lana_set_max_hops(unsigned int n)
{
	WRITE_ONCE(lana_param_max_hops, n);
}
