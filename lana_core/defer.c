// SPDX-License-Identifier: GPL-2.0
/*
 * Deferred frees: objects readers may still see (retired graph snapshots, removed blocks),
 * dropped after an RCU grace period in process context (rcu.rs: defer_drop).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "ffi.h"
#include "lana_uapi.h"

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
