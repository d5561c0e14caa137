#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Configure and build the guest kernel into the cache, keyed by version + config hash.
# Usage: build-kernel.sh [normal|debug]   Prints nothing but progress; the tree path is in
# $LANA_OUT/kernel-<variant> (a symlink) afterwards.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=${1:-normal}
tc=$(kernel_toolchain "$variant")
[ "$tc" = gcc ] || bash "$LANA_ROOT/scripts/llvm-root.sh" ensure
src=$(kernel_src)
[ -n "$src" ] || die "no kernel source: run scripts/setup.sh or set KSRC"
kb=$(kernel_build_dir "$variant")
mkdir -p "$LANA_OUT"

if [ -f "$kb/.lana-built" ]; then
	phase "kernel ($variant): cached at $kb"
else
	phase "kernel ($variant): configuring in $kb"
	rm -rf "$kb"
	# Seed from the newest built tree of the same source, variant and toolchain, if any: a
	# config change then rebuilds incrementally (about a minute instead of five).
	ver=$(basename "$kb")
	ver=${ver%%-*}
	seed=$(ls -td "$LANA_CACHE/kernel/$ver-$variant-"*/.lana-built 2>/dev/null | head -n 1 || true)
	if [ -n "$seed" ] && [ "$(cat "$(dirname "$seed")/.lana-source" 2>/dev/null)" = "$src" ] &&
		[ "$(cat "$(dirname "$seed")/.lana-toolchain" 2>/dev/null || echo gcc)" = "$tc" ]; then
		phase "kernel ($variant): starting from $(dirname "$seed")"
		cp -a "$(dirname "$seed")" "$kb"
		rm -f "$kb/.lana-built"
	fi
	mkdir -p "$kb"
	echo "$src" >"$kb/.lana-source"
	run_logged "$kb/config.log" kmake "$tc" -C "$src" O="$kb" ARCH=x86_64 rustavailable tinyconfig
	frags=("$LANA_ROOT/config/lana.config")
	[ "$variant" = normal ] || frags+=("$LANA_ROOT/config/lana-$variant.config")
	cat "${frags[@]}" >"$kb/lana-fragment.config"
	(cd "$src" && run_logged "$kb/config.log" \
		./scripts/kconfig/merge_config.sh -m -O "$kb" "$kb/.config" "$kb/lana-fragment.config")
	run_logged "$kb/config.log" kmake "$tc" -C "$src" O="$kb" ARCH=x86_64 olddefconfig
	# Every option we asked for must be what landed: Kconfig drops unmet ones silently.
	bad=0
	while read -r line; do
		case "$line" in
		'# CONFIG_'*' is not set')
			opt=${line#\# }
			opt=${opt%% *}
			if grep -q "^$opt=" "$kb/.config"; then echo "config: $opt should be off" >&2; bad=1; fi ;;
		CONFIG_*)
			grep -qx -- "$line" "$kb/.config" || { echo "config: '$line' did not land" >&2; bad=1; } ;;
		esac
	done <"$kb/lana-fragment.config"
	[ $bad = 0 ] || die "kernel config check failed ($kb/.config)"
	phase "kernel ($variant, $tc): building bzImage + modules with -j$JOBS (cold: ~8 min on 2 cores; log $kb/build.log)"
	run_logged "$kb/build.log" kmake "$tc" -C "$src" O="$kb" ARCH=x86_64 -j"$JOBS" bzImage modules
	echo "$tc" >"$kb/.lana-toolchain"
	touch "$kb/.lana-built"
	phase "kernel ($variant): built"
fi
ln -sfn "$kb" "$LANA_OUT/kernel-$variant"
