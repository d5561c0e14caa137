// SPDX-License-Identifier: GPL-2.0
/*
 * PPE execution mechanisms (the paper's Table 1), chosen when lana_core loads (ppe_mode=):
 *   0 softirq       the engine runs inline in the receive softirq (default)
 *   1 thread        a kernel thread per CPU, normal priority, woken for every packet
 *   2 thread-rt     the same at SCHED_FIFO priority
 *   3 thread-batch  normal priority, woken only when its queue was empty, processes up to
 *                   ppe_batch packets with bottom halves off once, then yields
 * In the thread modes the rx_handler queues each frame on a bounded per-CPU queue and the
 * CPU's thread runs the engine on it.
 *
 * The threads are the kernel's per-CPU hotplug threads (smpboot, as ksoftirqd): a CPU that
 * comes online gets its thread before it runs anything, and a CPU going offline parks it.
 * Frames still queued on a CPU that died are run on the CPU handling its death (as
 * dev_cpu_dead does for the kernel's backlog). Frames that never run (a full queue, a device
 * unregistered while they waited, module unload) are dropped and counted by the engine.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <linux/smpboot.h>

#include "ffi.h"

enum { PPE_SOFTIRQ, PPE_THREAD, PPE_THREAD_RT, PPE_THREAD_BATCH, PPE_MODES };

/* Mirrors DropReason in block.rs. */
enum { LANA_DROP_QUEUE_FULL = 4, LANA_DROP_FLUSHED = 10 };

static const char *const ppe_mode_names[PPE_MODES] = {
	"softirq", "thread", "thread-rt", "thread-batch",
};

unsigned int lana_param_ppe_mode;	/* read by mechanism.rs directly */
module_param_named(ppe_mode, lana_param_ppe_mode, uint, 0444);
MODULE_PARM_DESC(ppe_mode, "0 softirq (default), 1 thread, 2 thread-rt, 3 thread-batch");

static unsigned int ppe_queue_len = 4096;
module_param(ppe_queue_len, uint, 0444);
MODULE_PARM_DESC(ppe_queue_len, "per-CPU queue length in the thread modes");

static unsigned int ppe_batch = 64;
module_param(ppe_batch, uint, 0444);
MODULE_PARM_DESC(ppe_batch, "packets per batch in thread-batch mode");

static DEFINE_PER_CPU(struct sk_buff_head, lana_ppe_queue);
static DEFINE_PER_CPU(struct task_struct *, lana_ppe_thread);

/*
 * ppe_hold=1 stops the engine threads from taking frames: they wait in the queues (bounded by
 * ppe_queue_len, the rest dropped as queue_full) until ppe_hold=0. For debugging and for the
 * tests that need frames queued at a known moment (a CPU or a device going away).
 */
static bool ppe_hold;

static int ppe_hold_set(const char *val, const struct kernel_param *kp)
{
	int cpu, err = param_set_bool(val, kp);

	if (err || READ_ONCE(ppe_hold))
		return err;
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct task_struct *t = per_cpu(lana_ppe_thread, cpu);

		if (t)
			wake_up_process(t);
	}
	cpus_read_unlock();
	return 0;
}

static const struct kernel_param_ops ppe_hold_ops = {
	.set = ppe_hold_set,
	.get = param_get_bool,
};
module_param_cb(ppe_hold, &ppe_hold_ops, &ppe_hold, 0644);
MODULE_PARM_DESC(ppe_hold, "1: engine threads leave queued frames alone until set back to 0 (debugging, tests)");
static enum cpuhp_state lana_ppe_dead_state;

/* The entry block travels in the skb's control buffer, which is ours once consumed. */
struct lana_ppe_cb {
	u64 entry;
	const void *space;	/* the namespace's space, alive while the frame is queued */
};

const char *lana_ppe_mode_name(void)
{
	return lana_param_ppe_mode < PPE_MODES ? ppe_mode_names[lana_param_ppe_mode] : "?";
}

/* rx path, softirq on this CPU: hand @skb (ours, counted as entered) to this CPU's thread. */
void lana_ppe_enqueue(struct sk_buff *skb, u64 entry, const void *space)
{
	struct sk_buff_head *q = this_cpu_ptr(&lana_ppe_queue);
	struct task_struct *t;
	unsigned int len;

	if (skb_queue_len_lockless(q) >= ppe_queue_len) {
		lana_rust_ppe_drop(skb, space, LANA_DROP_QUEUE_FULL);
		return;
	}
	((struct lana_ppe_cb *)skb->cb)->entry = entry;
	((struct lana_ppe_cb *)skb->cb)->space = space;
	skb_queue_tail(q, skb);
	len = skb_queue_len_lockless(q);
	/* thread-batch: a running thread finds the packet when it looks again */
	t = __this_cpu_read(lana_ppe_thread);
	if (t && (lana_param_ppe_mode != PPE_THREAD_BATCH || len == 1))
		wake_up_process(t);
}

static void lana_ppe_run_one(struct sk_buff *skb)
{
	const struct lana_ppe_cb *cb = (const struct lana_ppe_cb *)skb->cb;

	lana_rust_ppe_run(skb, cb->entry, cb->space);
}

static int lana_ppe_should_run(unsigned int cpu)
{
	return !READ_ONCE(ppe_hold) && !skb_queue_empty_lockless(per_cpu_ptr(&lana_ppe_queue, cpu));
}

/* Dequeue and run with bottom halves off the whole time: a frame is always either queued
 * or inside an RCU read-side section, never in between (see lana_ppe_flush_dev). */
static void lana_ppe_thread_fn(unsigned int cpu)
{
	struct sk_buff_head *q = per_cpu_ptr(&lana_ppe_queue, cpu);
	unsigned int n = lana_param_ppe_mode == PPE_THREAD_BATCH ? ppe_batch : 1;
	struct sk_buff *skb;

	local_bh_disable();
	while (n-- && (skb = skb_dequeue(q)))
		lana_ppe_run_one(skb);
	local_bh_enable();
	cond_resched();
}

static void lana_ppe_thread_setup(unsigned int cpu)
{
	if (lana_param_ppe_mode == PPE_THREAD_RT)
		sched_set_fifo(current);
}

static struct smp_hotplug_thread lana_ppe_threads = {
	.store			= &lana_ppe_thread,
	.thread_should_run	= lana_ppe_should_run,
	.thread_fn		= lana_ppe_thread_fn,
	.setup			= lana_ppe_thread_setup,
	.thread_comm		= "lana_ppe/%u",
};

/* Run (or, with @drop, drop and count) every frame on @list. Bottom halves must be off
 * since the frames left their queue: then they are always in a queue or in an RCU read-side
 * section, which lana_ppe_flush_dev relies on. */
static void lana_ppe_run_list(struct sk_buff_head *list, bool drop)
{
	struct sk_buff *skb;

	lockdep_assert_in_softirq();
	while ((skb = __skb_dequeue(list))) {
		if (drop)
			lana_rust_ppe_drop(skb, ((struct lana_ppe_cb *)skb->cb)->space,
					   LANA_DROP_FLUSHED);
		else
			lana_ppe_run_one(skb);
	}
}

/* Take everything queued on @cpu. */
static void lana_ppe_take_all(unsigned int cpu, struct sk_buff_head *out)
{
	struct sk_buff_head *q = per_cpu_ptr(&lana_ppe_queue, cpu);
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	skb_queue_splice_tail_init(q, out);
	spin_unlock_irqrestore(&q->lock, flags);
}

/* CPU hotplug, on a surviving CPU once @cpu is dead: run what it left queued here. */
static int lana_ppe_cpu_dead(unsigned int cpu)
{
	struct sk_buff_head left;
	unsigned int n;

	__skb_queue_head_init(&left);
	local_bh_disable();
	lana_ppe_take_all(cpu, &left);
	n = skb_queue_len(&left);
	lana_ppe_run_list(&left, false);
	local_bh_enable();
	if (n)
		pr_info("ran %u frames left queued on CPU %u, which went offline\n", n, cpu);
	return 0;
}

/*
 * @dev lost its port (unregistered, or its eth block let go) and its rx_handler is gone (no
 * new frames): drop the frames of
 * @dev still queued. Frames a thread dequeued already run with bottom halves off, an RCU
 * read-side section, so the synchronize_net() after the flush waits for them.
 */
void lana_ppe_flush_dev(struct net_device *dev)
{
	struct sk_buff_head gone;
	struct sk_buff *skb, *tmp;
	unsigned long flags;
	int cpu;

	if (lana_param_ppe_mode == PPE_SOFTIRQ)
		return;
	__skb_queue_head_init(&gone);
	for_each_possible_cpu(cpu) {
		struct sk_buff_head *q = per_cpu_ptr(&lana_ppe_queue, cpu);

		spin_lock_irqsave(&q->lock, flags);
		skb_queue_walk_safe(q, skb, tmp) {
			if (skb->dev == dev) {
				__skb_unlink(skb, q);
				__skb_queue_tail(&gone, skb);
			}
		}
		spin_unlock_irqrestore(&q->lock, flags);
	}
	local_bh_disable();
	lana_ppe_run_list(&gone, true);
	local_bh_enable();
	synchronize_net();
}

/* Module init: threads on every CPU that is or comes online, in the thread modes. */
int lana_ppe_start(void)
{
	int cpu, ret;

	if (lana_param_ppe_mode >= PPE_MODES) {
		pr_err("ppe_mode=%u: use 0 softirq, 1 thread, 2 thread-rt, 3 thread-batch\n",
		       lana_param_ppe_mode);
		return -EINVAL;
	}
	if (!ppe_queue_len || !ppe_batch)
		return -EINVAL;
	for_each_possible_cpu(cpu)
		skb_queue_head_init(per_cpu_ptr(&lana_ppe_queue, cpu));
	if (lana_param_ppe_mode == PPE_SOFTIRQ)
		return 0;
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "lana/ppe:dead", NULL, lana_ppe_cpu_dead);
	if (ret < 0)
		return ret;
	lana_ppe_dead_state = ret;
	ret = smpboot_register_percpu_thread(&lana_ppe_threads);
	if (ret) {
		cpuhp_remove_state_nocalls(lana_ppe_dead_state);
		return ret;
	}
	pr_info("packet engine runs in %s mode\n", lana_ppe_mode_name());
	return 0;
}

/* Module exit, after every device is detached: nothing is queued any more but what was
 * queued before; drop and count that. */
void lana_ppe_stop(void)
{
	struct sk_buff_head left;
	int cpu;

	if (lana_param_ppe_mode == PPE_SOFTIRQ)
		return;
	/* ppe_hold's setter wakes the threads: keep it out while they go */
	kernel_param_lock(THIS_MODULE);
	smpboot_unregister_percpu_thread(&lana_ppe_threads);
	kernel_param_unlock(THIS_MODULE);
	cpuhp_remove_state_nocalls(lana_ppe_dead_state);
	__skb_queue_head_init(&left);
	local_bh_disable();
	for_each_possible_cpu(cpu)
		lana_ppe_take_all(cpu, &left);
	lana_ppe_run_list(&left, true);
	local_bh_enable();
}
