#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Turn uapi/lana_uapi.rs (`pub const NAME: TYPE = VALUE;` lines) into a C header.
# Usage: uapi-to-c.sh lana_uapi.rs > lana_uapi.h
set -e
echo "/* SPDX-License-Identifier: GPL-2.0 */"
echo "/* Generated from uapi/lana_uapi.rs by scripts/uapi-to-c.sh: do not edit. */"
echo "#ifndef LANA_UAPI_H"
echo "#define LANA_UAPI_H"
sed -n 's/^pub const \([A-Z0-9_]*\): [^=]* = \(.*\);$/#define \1 \2/p' "$1"
echo "#endif"
