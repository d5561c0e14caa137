#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make test`: the guest suite (KTAP, in QEMU) and the userspace crates' `cargo test`.
# Exits non-zero on any failure, a guest timeout, or a kernel report in the guest's log.
# Ends with the plain summary line "N passed, N failed[, N skipped]".
# Optional: TESTS=<substring> selects guest tests; SUITE=soak runs the long soak suite
# (tests/soak) instead, without cargo test.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

suite=${SUITE:-guest}
phase "test: $suite suite"
LANA_GUEST_ENV="LANA_SUITE=$suite ${LANA_GUEST_ENV:-}" bash "$LANA_ROOT/scripts/vm.sh" test ${TESTS:-}
vm_rc=$?
out=$LANA_OUT/results/guest-test.out
cp "$out" "$LANA_OUT/results/guest.ktap" 2>/dev/null || true
g_pass=$(grep -cE '^ok [0-9]+ [^#]*(# [0-9.]+s)?$' "$out" 2>/dev/null)
g_skip=$(grep -cE '^ok [0-9]+ .*# SKIP' "$out" 2>/dev/null)
g_fail=$(grep -cE '^not ok [0-9]+ ' "$out" 2>/dev/null)
planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out" | head -n 1)
grep -E '^(ok|not ok) ' "$out" || true
if [ "${planned:-0}" != $((g_pass + g_skip + g_fail)) ]; then
	echo "guest: planned ${planned:-?} tests, reported $((g_pass + g_skip + g_fail))" >&2
	g_fail=$((g_fail + 1))
fi
if [ $vm_rc != 0 ] && [ "$g_fail" = 0 ]; then
	echo "guest run failed (exit $vm_rc) although no test failed" >&2
	g_fail=1
fi

grep '^# Time:' "$out" || true

c_pass=0 c_fail=0
if [ "$suite" = guest ]; then
	phase "test: cargo test (userspace crates)"
	cargo_log=$LANA_OUT/logs/cargo-test.log
	cargo test --locked --workspace >"$cargo_log" 2>&1
	cargo_rc=$?
	grep -E '^test |test result' "$cargo_log" || true
	c_pass=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' "$cargo_log" | awk '{s+=$1} END {print s+0}')
	c_fail=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' "$cargo_log" | awk '{s+=$1} END {print s+0}')
	if [ $cargo_rc != 0 ] && [ "$c_fail" = 0 ]; then
		tail -n 20 "$cargo_log" >&2
		c_fail=1
	fi
	grep -q '^test result' "$cargo_log" || { echo "cargo test did not run" >&2; c_fail=$((c_fail + 1)); }
fi

pass=$((g_pass + c_pass))
failed=$((g_fail + c_fail))
phase "test: guest $g_pass passed, $g_fail failed, $g_skip skipped; cargo $c_pass passed, $c_fail failed"
if [ "$g_skip" -gt 0 ]; then
	echo "$pass passed, $failed failed, $g_skip skipped"
else
	echo "$pass passed, $failed failed"
fi
[ "$failed" = 0 ]
