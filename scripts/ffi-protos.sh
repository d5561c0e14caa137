#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the prototypes of ffi.c's non-static functions (for the ffi.c part of ffi.h).
awk 'prev !~ /^static/ && prev ~ /^[a-z_].*\)$/ && $0 == "{" { print prev ";" } { prev = $0 }' \
	"${1:-lana_core/ffi.c}"
