// SPDX-License-Identifier: GPL-2.0
/*
 * The trace event's definitions (lana_trace.h), and the helper Rust calls it through.
 */
#include <linux/module.h>

#define CREATE_TRACE_POINTS
#define CREATE_RUST_TRACE_POINTS
#include "lana_trace.h"
