// SPDX-License-Identifier: GPL-2.0
/*
 * PPE execution mechanisms (the paper's Table 1), chosen when lana_core loads (ppe_mode=):
 *   0 softirq       the engine runs inline in the receive softirq (default)
 *   1 thread        a kernel thread per CPU, normal priority, woken for every packet
 *   2 thread-rt     the same at SCHED_FIFO priority
 *   3 thread-batch  normal priority, woken only when its queue was empty, processes up to
 *                   ppe_batch packets with bottom halves off once, then yields
 * In the thread modes the rx_handler queues each frame on a bounded per-CPU queue (drops
 * counted) and the CPU's thread runs the engine on it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/cpu.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/skbuff.h>

#include "ffi.h"

enum { PPE_SOFTIRQ, PPE_THREAD, PPE_THREAD_RT, PPE_THREAD_BATCH, PPE_MODES };

static const char *const ppe_mode_names[PPE_MODES] = {
	"softirq", "thread", "thread-rt", "thread-batch",
};

static unsigned int ppe_mode;
module_param(ppe_mode, uint, 0444);
MODULE_PARM_DESC(ppe_mode, "0 softirq (default), 1 thread, 2 thread-rt, 3 thread-batch");

static unsigned int ppe_queue_len = 4096;
module_param(ppe_queue_len, uint, 0444);
MODULE_PARM_DESC(ppe_queue_len, "per-CPU queue length in the thread modes");

static unsigned int ppe_batch = 64;
module_param(ppe_batch, uint, 0444);
MODULE_PARM_DESC(ppe_batch, "packets per batch in thread-batch mode");

struct lana_ppe_cpu {
	struct sk_buff_head queue;
	struct task_struct *thread;
	u64 queue_drops;	/* written by this CPU's rx path only */
};

static DEFINE_PER_CPU(struct lana_ppe_cpu, lana_ppe);

/* The entry block's id travels in the skb's control buffer, which is ours once consumed. */
struct lana_ppe_cb {
	u32 entry;
};

unsigned int lana_ppe_mode(void)
{
	return ppe_mode;
}

const char *lana_ppe_mode_name(void)
{
	return ppe_mode < PPE_MODES ? ppe_mode_names[ppe_mode] : "?";
}

/* rx path, softirq on this CPU: hand @skb (ours) to this CPU's thread. */
void lana_ppe_enqueue(struct sk_buff *skb, u32 entry)
{
	struct lana_ppe_cpu *c = this_cpu_ptr(&lana_ppe);
	unsigned int len;

	if (skb_queue_len_lockless(&c->queue) >= ppe_queue_len) {
		c->queue_drops++;
		kfree_skb(skb);
		return;
	}
	((struct lana_ppe_cb *)skb->cb)->entry = entry;
	skb_queue_tail(&c->queue, skb);
	len = skb_queue_len_lockless(&c->queue);
	/* thread-batch: a running thread finds the packet when it looks again */
	if (ppe_mode != PPE_THREAD_BATCH || len == 1)
		wake_up_process(c->thread);
}

u64 lana_ppe_queue_drops(void)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(&lana_ppe, cpu)->queue_drops);
	return sum;
}

static void lana_ppe_run(struct sk_buff *skb)
{
	lana_rust_ppe_run(skb, ((struct lana_ppe_cb *)skb->cb)->entry);
}

static int lana_ppe_thread(void *arg)
{
	struct lana_ppe_cpu *c = arg;
	struct sk_buff_head batch;
	struct sk_buff *skb;
	unsigned int n;

	__skb_queue_head_init(&batch);
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (skb_queue_empty_lockless(&c->queue)) {
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		if (ppe_mode == PPE_THREAD_BATCH) {
			spin_lock_bh(&c->queue.lock);
			for (n = 0; n < ppe_batch && (skb = __skb_dequeue(&c->queue)); n++)
				__skb_queue_tail(&batch, skb);
			spin_unlock_bh(&c->queue.lock);
			local_bh_disable();
			while ((skb = __skb_dequeue(&batch)))
				lana_ppe_run(skb);
			local_bh_enable();
			cond_resched();
		} else {
			skb = skb_dequeue(&c->queue);
			if (skb) {
				local_bh_disable();
				lana_ppe_run(skb);
				local_bh_enable();
			}
			cond_resched();
		}
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static void lana_ppe_stop_threads(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct lana_ppe_cpu *c = per_cpu_ptr(&lana_ppe, cpu);

		if (c->thread) {
			kthread_stop(c->thread);
			c->thread = NULL;
		}
		skb_queue_purge(&c->queue);
	}
}

/* Module init: one thread per online CPU in the thread modes (CPU hotplug is not handled). */
int lana_ppe_start(void)
{
	int cpu;

	if (ppe_mode >= PPE_MODES) {
		pr_err("ppe_mode=%u: use 0 softirq, 1 thread, 2 thread-rt, 3 thread-batch\n", ppe_mode);
		return -EINVAL;
	}
	if (!ppe_queue_len || !ppe_batch)
		return -EINVAL;
	for_each_possible_cpu(cpu)
		skb_queue_head_init(&per_cpu_ptr(&lana_ppe, cpu)->queue);
	if (ppe_mode == PPE_SOFTIRQ)
		return 0;
	for_each_online_cpu(cpu) {
		struct lana_ppe_cpu *c = per_cpu_ptr(&lana_ppe, cpu);
		struct task_struct *t;

		t = kthread_create_on_cpu(lana_ppe_thread, c, cpu, "lana_ppe/%u");
		if (IS_ERR(t)) {
			lana_ppe_stop_threads();
			return PTR_ERR(t);
		}
		if (ppe_mode == PPE_THREAD_RT)
			sched_set_fifo(t);
		c->thread = t;
		wake_up_process(t);
	}
	pr_info("packet engine runs in %s mode\n", lana_ppe_mode_name());
	return 0;
}

/* Module exit, after every device is detached: no packet can be queued any more. */
void lana_ppe_stop(void)
{
	lana_ppe_stop_threads();
}
