# SPDX-License-Identifier: GPL-2.0
# Helpers for LANA's guest tests (sourced). A test is a shell function named test_* in a file
# tests/guest/NN-topic.sh; it passes by returning 0, is skipped by returning $KSFT_SKIP and
# fails otherwise. Exit codes follow kselftest: PASS 0, FAIL 1, SKIP 4.
KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4
MODDIR=/lib/modules

# Debian's iproute2 is in the guest; busybox's shell would run its own applets of these names
# before anything on PATH, so name the real ones.
ip() { /bin/ip "$@"; }
tc() { /bin/tc "$@"; }

# fail MESSAGE: print why a test failed and fail it. The failure is also recorded, so a test
# fails even if it goes on after a failed check (FAIL_FILE=/dev/null for a helper whose
# failure is expected, such as traffic cut off on purpose).
fail() {
	echo "FAIL: $*" >&2
	echo "$*" >>"${FAIL_FILE:-/tmp/test-failures}"
	return 1
}

# check CMD...: run CMD, fail the test if it fails.
check() {
	"$@" || fail "command failed (exit $?): $*"
}

# eq ACTUAL EXPECTED WHAT
eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

# expect_err EXIT ERRNO TEXT CMD...: CMD must exit with EXIT and print ERRNO (e.g. EINVAL) and
# TEXT (a substring of the kernel's message) on stderr.
expect_err() {
	local want_rc=$1 errno=$2 text=$3 rc=0
	shift 3
	"$@" >/tmp/expect.out 2>/tmp/expect.err || rc=$?
	if [ "$rc" != "$want_rc" ]; then
		cat /tmp/expect.out /tmp/expect.err >&2
		fail "'$*' exited $rc, expected $want_rc"
		return 1
	fi
	grep -q -- "$errno" /tmp/expect.err || { cat /tmp/expect.err >&2; fail "'$*': no $errno in the error"; return 1; }
	grep -qi -- "$text" /tmp/expect.err || { cat /tmp/expect.err >&2; fail "'$*': no '$text' in the error"; return 1; }
	echo "expected error: $(cat /tmp/expect.err)"
}

# load MODULE...: insmod each LANA module (by name) unless it is loaded.
load() {
	local m
	for m in "$@"; do
		grep -q "^$m " /proc/modules || insmod "$MODDIR/$m.ko" || { fail "insmod $m"; return 1; }
	done
}

# unload_all: remove every FB instance, then every LANA module. Fails if something is left.
unload_all() {
	local n m
	if grep -q '^lana_core ' /proc/modules; then
		# Unbind everything, then remove every instance (fbctl's own flush does both).
		fbctl flush || { fail "fbctl flush"; return 1; }
	fi
	# A namespace that went away takes its graph down asynchronously (the kernel dismantles
	# namespaces in a workqueue): block modules may stay busy a moment; wait up to 5 s.
	for m in $(awk '$1 ~ /^(fb_|lana_)/ && $1 != "lana_core" {print $1}' /proc/modules); do
		n=0
		until rmmod "$m" 2>/tmp/rmmod.err; do
			n=$((n + 1))
			[ $n -lt 50 ] || { cat /tmp/rmmod.err >&2; fail "rmmod $m"; return 1; }
			sleep 0.1
		done
	done
	# Closed AF_LANA sockets are freed after an RCU grace period (SOCK_RCU_FREE) and keep
	# the module referenced until then: retry for up to 5 seconds, as modprobe -r users do.
	if grep -q '^lana_core ' /proc/modules; then
		n=0
		until rmmod lana_core 2>/tmp/rmmod.err; do
			n=$((n + 1))
			[ $n -lt 50 ] || { cat /tmp/rmmod.err >&2; fail "rmmod lana_core"; return 1; }
			sleep 0.1
		done
	fi
	n=$(awk '$1 ~ /^(fb_|lana_)/' /proc/modules | wc -l)
	[ "$n" = 0 ] || fail "modules left loaded: $(cat /proc/modules)"
}

# check_balance [WHAT]: every packet that entered the engine (and every fan-out copy) ended
# in exactly one counted fate: entered + copies == delivered + transmitted + dropped. Waits up
# to 5 s for packets still in flight (engine threads' queues) to end.
check_balance() {
	local s i
	for i in $(seq 50); do
		s=$(fbctl -j stats) || { fail "fbctl stats"; return 1; }
		[ "$(echo "$s" | jq -r .in_flight)" = 0 ] && break
		sleep 0.1
	done
	echo "$s" | jq -e '.in_flight == 0' >/dev/null && return 0
	fail "${1:-engine} not balanced: $(echo "$s" | jq -c '{entered, copies, delivered, transmitted, dropped, in_flight}')"
}

# json_get JSON_FILTER CMD...: run CMD (an fbctl -j command) and print the jq filter's result.
json_get() {
	local filter=$1
	shift
	"$@" | jq -r "$filter"
}

# pktgen_inject DEV COUNT [SIZE]: inject COUNT packets of SIZE bytes into DEV's receive path
# (xmit_mode netif_receive), as if they had arrived from the wire. Blocks until done.
# PG_EXTRA="cmd;cmd" adds pktgen commands (e.g. "udp_dst_min 9;udp_dst_max 9");
# PG_MODE=xmit sends on DEV instead (to its peer, for veth); PG_THREAD=N uses pktgen's thread
# on CPU N (default 0).
pktgen_inject() {
	local dev=$1 count=$2 size=${3:-64} pg=/proc/net/pktgen t=kpktgend_${PG_THREAD:-0}
	load_pktgen || return 1
	echo "rem_device_all" >$pg/$t
	echo "add_device $dev" >$pg/$t
	{
		echo "count $count"
		echo "pkt_size $size"
		echo "delay 0"
		echo "clone_skb 0"
		echo "burst 1"
		[ "${PG_MODE:-}" = xmit ] || echo "xmit_mode netif_receive"
		echo "dst 10.0.0.2"
		echo "dst_mac ${PG_DST_MAC:-$(cat /sys/class/net/$dev/address)}"
		[ -n "${PG_EXTRA:-}" ] && echo "$PG_EXTRA" | tr ';' '\n'
	} | while read -r line; do
		[ -n "$line" ] || continue
		echo "$line" >$pg/$dev || { echo "pktgen: '$line' refused" >&2; return 1; }
	done
	echo start >$pg/pgctrl
	grep -q "Result: OK" $pg/$dev || { cat $pg/$dev >&2; fail "pktgen on $dev did not finish"; return 1; }
	echo "rem_device_all" >$pg/$t
}

# pktgen_loop DEV STOPFILE [COUNT]: inject COUNT-packet runs (default 100000) into DEV until
# STOPFILE appears; prints the number of runs completed
pktgen_loop() {
	local runs=0
	while [ ! -e "$2" ]; do
		pktgen_inject "$1" "${3:-100000}" >/dev/null 2>&1 || break
		runs=$((runs + 1))
	done
	echo $runs
}

load_pktgen() {
	grep -q '^pktgen ' /proc/modules || insmod $MODDIR/pktgen.ko || { fail "insmod pktgen"; return 1; }
}

# info MESSAGE: a measurement worth keeping; printed as a KTAP diagnostic even when the test
# passes.
info() {
	echo "INFO: $*"
}

# new_ns NAME: a network namespace kept alive by a sleeping process; its pid in /tmp/ns.NAME
new_ns() {
	unshare -n sleep 3600 &
	echo $! >/tmp/ns.$1
	sleep 0.2
}

# in_ns NAME CMD...: run CMD in the namespace
in_ns() {
	local ns=$1
	shift
	nsenter -t "$(cat /tmp/ns.$ns)" -n "$@"
}

del_ns() {
	[ -f /tmp/ns.$1 ] || return 0
	kill "$(cat /tmp/ns.$1)" 2>/dev/null
	rm -f /tmp/ns.$1
}

# veth_to_ns LOCAL PEER NS: a veth pair with PEER moved into namespace NS, both up
veth_to_ns() {
	ip link add "$1" type veth peer name "$2" || return 1
	[ -e /sys/class/net/$2 ] || ip link set veth0 name "$2" || return 1
	ip link set "$2" netns "$(cat /tmp/ns.$3)" || return 1
	ip link set "$1" up
	in_ns "$3" ip link set "$2" up
	in_ns "$3" ip link set lo up
}
