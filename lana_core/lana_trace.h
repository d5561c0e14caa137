/* SPDX-License-Identifier: GPL-2.0 */
/*
 * LANA's trace event: lana:lana_drop, one per packet the engine drops, with the block that
 * dropped it (id, name, type) and why, so `perf trace`, bpftrace or tracefs answer "which
 * block dropped it and why". The Rust engine calls it through the generated
 * rust_do_trace_lana_drop() behind the tracepoint's static key (engine.rs).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM lana

#if !defined(_LANA_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _LANA_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(lana_drop,
	TP_PROTO(const void *skbaddr, u32 block_id, const char *block, u32 block_len,
		 const char *type, u32 type_len, const char *reason, u32 reason_len),
	TP_ARGS(skbaddr, block_id, block, block_len, type, type_len, reason, reason_len),
	TP_STRUCT__entry(
		__field(const void *, skbaddr)
		__field(u32, block_id)
		__string_len(block, block, block_len)
		__string_len(type, type, type_len)
		__string_len(reason, reason, reason_len)
	),
	TP_fast_assign(
		__entry->skbaddr = skbaddr;
		__entry->block_id = block_id;
		__assign_str(block);
		__assign_str(type);
		__assign_str(reason);
	),
	TP_printk("skbaddr=%p block=%s id=%u type=%s reason=%s", __entry->skbaddr,
		  __get_str(block), __entry->block_id, __get_str(type), __get_str(reason))
);

#endif /* _LANA_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE lana_trace
#include <trace/define_trace.h>
