#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build every LANA kernel module in one Kbuild run against the guest kernel tree $1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$(readlink -f "${1:?usage: build-modules.sh KERNEL_BUILD_DIR}")
if [ -n "${LANA_KDIR_EXTERNAL:-}" ]; then
	# A tree of the user's own (make modules KDIR=...): say what is missing before Kbuild
	# fails in a less readable way.
	[ -f "$kdir/.config" ] && [ -f "$kdir/Module.symvers" ] ||
		die "$kdir is not a built kernel tree (no .config or Module.symvers): build the kernel first"
	grep -q '^CONFIG_RUST=y' "$kdir/.config" || die "$kdir: CONFIG_RUST is not set (LANA is Rust)"
	ver=$(make -s -C "$kdir" kernelversion 2>/dev/null || true)
	case "$ver" in 7.3*) ;; *) die "$kdir is Linux '$ver': LANA needs 7.3" ;; esac
	want=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$kdir/.config")
	have=$(rustc --version)
	[ "$want" = "$have" ] || die "$kdir was built with '$want'; the rustc on PATH is '$have' (Rust modules need the same compiler)"
	grep -q '^CONFIG_CC_IS_CLANG=y' "$kdir/.config" &&
		die "$kdir was built with clang: build with 'make LLVM=1 -C $kdir M=$LANA_ROOT modules'"
	tc=gcc
else
	[ -f "$kdir/.lana-built" ] || die "kernel tree $kdir is not built"
	# the modules are built with the kernel's own toolchain (kernel_toolchain in lib.sh)
	tc=$(cat "$kdir/.lana-toolchain" 2>/dev/null || echo gcc)
fi
stamp=$LANA_OUT/modules.kernel-stamp
want="$kdir $(stat -c %Y "$kdir/vmlinux")"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	phase "modules: kernel tree changed, cleaning old objects"
	kmake "$tc" -s -C "$kdir" M="$LANA_ROOT" clean >/dev/null 2>&1 || true
fi
# With the host's toolchain the build runs the kernel's clippy too (CLIPPY=1): its warnings
# fail the build below, like the compiler's. The LLVM build root has no clippy.
clippy=()
[ "$tc" = gcc ] && command -v clippy-driver >/dev/null && clippy=(CLIPPY=1)
phase "modules: one Kbuild run against $kdir ${clippy[*]}"
echo "${clippy[*]}" >"$LANA_OUT/logs/modules.log.cmd"
run_logged "$LANA_OUT/logs/modules.log" kmake "$tc" -C "$kdir" M="$LANA_ROOT" -j"$JOBS" "${clippy[@]}" modules
echo "$want" >"$stamp"
# Rust warnings do not fail kbuild; they fail ours.
if grep -E '^(warning|error)(\[|:)' "$LANA_OUT/logs/modules.log"; then
	die "compiler warnings in the module build (see $LANA_OUT/logs/modules.log)"
fi
