#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make lint`: the habits that keep the build clean. Exits non-zero on any finding.
#   - kernel side: the kernel's clippy (the module build runs with CLIPPY=1, see
#     build-modules.sh, and fails on any warning) and rustfmt with the kernel's .rustfmt.toml;
#   - userspace: cargo clippy -D warnings and cargo fmt --check.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

rc=0
src=$(kernel_src)
phase "lint: rustfmt (the kernel's .rustfmt.toml) on the kernel-side crates"
if ! rustfmt --edition 2021 --config-path "$src/.rustfmt.toml" --check \
	"$LANA_ROOT"/lana_core/lana.rs "$LANA_ROOT"/fb_*/*.rs "$LANA_ROOT"/tests/fb_dup/*.rs "$LANA_ROOT"/tests/fb_turn/*.rs "$LANA_ROOT"/tests/fb_hub/*.rs \
	"$LANA_ROOT"/uapi/lana_uapi.rs >"$LANA_OUT/logs/rustfmt.log" 2>&1; then
	grep '^Diff in' "$LANA_OUT/logs/rustfmt.log" | head -n 20
	echo "lint: kernel-side Rust is not formatted (rustfmt --config-path $src/.rustfmt.toml)" >&2
	rc=1
fi
phase "lint: cargo fmt --check"
if ! (cd "$LANA_ROOT" && cargo fmt --check >"$LANA_OUT/logs/cargo-fmt.log" 2>&1); then
	grep '^Diff in' "$LANA_OUT/logs/cargo-fmt.log" | head -n 20
	echo "lint: userspace Rust is not formatted (cargo fmt)" >&2
	rc=1
fi
phase "lint: cargo clippy -D warnings"
if ! (cd "$LANA_ROOT" && cargo clippy -q --locked --workspace --all-targets -- -D warnings \
	>"$LANA_OUT/logs/cargo-clippy.log" 2>&1); then
	head -n 40 "$LANA_OUT/logs/cargo-clippy.log"
	echo "lint: cargo clippy found something" >&2
	rc=1
fi
phase "lint: the YNL spec (schema, ynl_gen_c, numbers against uapi/lana_uapi.rs)"
if ! python3 "$LANA_ROOT/scripts/check-ynl.py" "$src"; then
	echo "lint: uapi/lana.yaml is invalid or disagrees with uapi/lana_uapi.rs" >&2
	rc=1
fi
# the kernel's clippy ran with the module build (any warning failed it)
grep -q "CLIPPY=1" "$LANA_OUT/logs/modules.log.cmd" 2>/dev/null ||
	{ echo "lint: the modules were not built with the kernel's clippy" >&2; rc=1; }
[ $rc = 0 ] && phase "lint: clean (kernel clippy, rustfmt, cargo clippy, cargo fmt, YNL spec)"
exit $rc
