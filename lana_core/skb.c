// SPDX-License-Identifier: GPL-2.0
/*
 * Socket buffers, per-CPU memory, bottom halves and classic BPF: wrappers for the static
 * inlines and macros Rust cannot reach through the bindings (packet.rs, percpu.rs, bpf.rs).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/module.h>
#include <linux/filter.h>
#include <linux/percpu.h>
#include <linux/skbuff.h>
#include <linux/etherdevice.h>

#include "ffi.h"
#include "lana_uapi.h"

void __percpu *lana_percpu_alloc(size_t size, size_t align)
{
	/* charged to the memory cgroup of the command's sender (a container's blocks are its own) */
	return __alloc_percpu_gfp(size, align, GFP_KERNEL_ACCOUNT);
}

/* Returns NULL past the last possible CPU; iterate from 0 while it does not. */
void *lana_percpu_cpu(void __percpu *p, unsigned int cpu)
{
	if (cpu >= nr_cpu_ids || !cpu_possible(cpu))
		return NULL;
	return per_cpu_ptr(p, cpu);
}

/*
 * This CPU's per-CPU offset: this_cpu_ptr(p) == p + offset for every per-CPU pointer. Used
 * where Rust cannot read it inline (percpu.rs reads this_cpu_off on x86-64 SMP).
 */
static DEFINE_PER_CPU(u8, lana_cpu_anchor);	/* the offset is &it here - &it */

unsigned long lana_this_cpu_offset(void)
{
	return (unsigned long)this_cpu_ptr(&lana_cpu_anchor) - (unsigned long)&lana_cpu_anchor;
}

void lana_bh_disable(void)
{
	local_bh_disable();
}

void lana_bh_enable(void)
{
	local_bh_enable();
}

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

unsigned int lana_skb_headlen(const struct sk_buff *skb)
{
	return skb_headlen(skb);
}
