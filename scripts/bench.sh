#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: boot the guest with instruction-counted time (QEMU -icount: rates become
# deterministic "per instruction" figures; see the README), run tests/bench.sh, and write
# the table (Markdown, JSON) and a bar chart (PNG) under $LANA_OUT/results/bench/.
# Env: BENCH_PACKETS (default 200000), BENCH_REPS (default 5), ICOUNT=0 for plain TCG;
# BENCH_ONLY="row ..." (e.g. "rxdrop-unshare lana-softirq counters-1"), BENCH_CP_REPS=0 and
# BENCH_NIC_REPS=0 for a quick partial run.
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
	# (for a quick look while developing: only these rows, no control-plane or NIC runs)
	for v in BENCH_ONLY BENCH_CP_REPS BENCH_NIC_REPS; do
		[ -z "${!v:-}" ] || echo "$v='${!v}'"
	done
	cat "$LANA_ROOT/tests/bench.sh"
} >"$args"
# The NIC-fed rows: a host process floods the guest's virtio-net NIC (through QEMU's UDP
# socket netdev) for the whole run; the guest keeps the NIC down except while it measures.
nic_port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nic_mac=52:54:00:4c:41:4e
(cd "$LANA_ROOT" && cargo build -q --release --locked -p lana-nicblast)
"$LANA_ROOT/target/release/lana-nicblast" "127.0.0.1:$nic_port" "$nic_mac" &
blaster=$!
trap 'kill $blaster 2>/dev/null || true' EXIT
phase "bench: booting the guest (icount=${ICOUNT:-1}, NIC fed on udp port $nic_port); this takes a few minutes"
ICOUNT=${ICOUNT:-1} VM_TIMEOUT=${VM_TIMEOUT:-3000} VM_NIC_PORT=$nic_port VM_NIC_MAC=$nic_mac \
	bash "$LANA_ROOT/scripts/vm.sh" run "$args" |
	tee "$out/raw.txt" | grep -E '^BENCH-(INFO|ERROR)' || true
kill $blaster 2>/dev/null || true
rm -f "$args"
grep -q '^BENCH-DONE' "$out/raw.txt" || die "the benchmark did not finish (see $out/raw.txt)"
"$venv/bin/python" "$LANA_ROOT/scripts/bench-report.py" "$out" "icount=${ICOUNT:-1}"
cat "$out/bench.md"
