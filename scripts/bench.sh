#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: boot the guest with instruction-counted time (QEMU -icount: rates become
# deterministic "per instruction" figures; see the README), run tests/bench.sh, and write
# the table (Markdown, JSON) and a bar chart (PNG) under $LANA_OUT/results/bench/.
# Env: BENCH_PACKETS (default 200000), BENCH_REPS (default 5), ICOUNT=0 for plain TCG.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$LANA_OUT/results/bench
mkdir -p "$out"
venv=$LANA_CACHE/venv
if ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
	phase "bench: installing matplotlib into $venv (for the chart)"
	python3 -m venv "$venv"
	run_logged "$LANA_CACHE/logs/pip.log" "$venv/bin/pip" install -q matplotlib
fi
args=$(mktemp)
{
	echo "BENCH_PACKETS=${BENCH_PACKETS:-200000}"
	echo "BENCH_REPS=${BENCH_REPS:-5}"
	cat "$LANA_ROOT/tests/bench.sh"
} >"$args"
phase "bench: booting the guest (icount=${ICOUNT:-1}); this takes a few minutes"
ICOUNT=${ICOUNT:-1} VM_TIMEOUT=${VM_TIMEOUT:-3000} bash "$LANA_ROOT/scripts/vm.sh" run "$args" |
	tee "$out/raw.txt" | grep -E '^BENCH-(INFO|ERROR)' || true
rm -f "$args"
grep -q '^BENCH-DONE' "$out/raw.txt" || die "the benchmark did not finish (see $out/raw.txt)"
"$venv/bin/python" "$LANA_ROOT/scripts/bench-report.py" "$out" "icount=${ICOUNT:-1}"
cat "$out/bench.md"
