#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The LANA guest test runner: runs every test_* function of tests/<suite>/NN-*.sh, each in its
# own subshell, prints KTAP (one line per test), the time each took and the suite's total,
# then a summary and "LANA-EXIT: <status>". A test that leaves a kernel warning/oops in dmesg,
# an unbalanced engine, or LANA modules it cannot unload, fails. Optional argument: a
# substring that selects the tests to run. /lana/profile (written by the host's vm.sh from
# LANA_GUEST_ENV) may set LANA_SUITE (guest, the default, or soak) and the tests' knobs.
. /lana/tests/lib.sh
[ -f /lana/profile ] && . /lana/profile
filter=${1:-}
dir=/lana/tests/${LANA_SUITE:-guest}
suite_start=$(cut -d' ' -f1 /proc/uptime)
report_re='WARNING:|BUG:|Oops|KASAN|RCU stall|detected stall|circular locking|suspicious RCU usage|general protection|kmemleak: [1-9]'
# Messages that contain a report word but are no report: pktgen's notice when the device it
# sends on goes away (tests delete a namespace under traffic on purpose).
expected_re='pktgen: WARNING: trying to remove a running interface, stopping it now'

list_tests() {
	for f in "$dir"/[0-9]*.sh; do
		for t in $(sed -n 's/^\(test_[a-z0-9_]*\)() *{.*/\1/p' "$f"); do
			case "$f:$t" in *"$filter"*) echo "$f $t" ;; esac
		done
	done
}

list_tests >/tmp/tests.list
kmemleak=/sys/kernel/debug/kmemleak
# debug kernels run several times slower: longer per-test limit, fewer replaces under load
[ -e $kmemleak ] && LANA_TEST_TIMEOUT=${LANA_TEST_TIMEOUT:-1800}
total=$(wc -l </tmp/tests.list)
# Debug kernels: forget what kmemleak saw at boot; one more test checks for leaks at the end.
if [ -w $kmemleak ]; then
	echo clear >$kmemleak
	total=$((total + 1))
fi
echo "KTAP version 1"
echo "1..$total"
n=0 pass=0 failed=0 skip=0
while read -r f t; do
	n=$((n + 1))
	# a mark in the kernel log: the reports of this test are what follows it (a line count
	# would shift once the ring buffer wraps)
	mark="lana-test-$n-start"
	echo "$mark" >/dev/kmsg
	start=$(cut -d' ' -f1 /proc/uptime)
	rm -f /tmp/test-failures
	# A hung test is killed (after 900 s; the slowest, 1,000 replaces under load in the soak
	# suite, takes about 470 s here) and fails; the rest of the suite still runs.
	timeout -s KILL "${LANA_TEST_TIMEOUT:-900}" sh -c ". /lana/tests/lib.sh; . $f; $t" \
		>/tmp/case.log 2>&1 </dev/null
	rc=$?
	[ $rc = 137 ] && echo "test killed after ${LANA_TEST_TIMEOUT:-900}s" >>/tmp/case.log
	# A failed check fails the test even if the test went on and returned 0.
	if [ $rc = 0 ] && [ -s /tmp/test-failures ]; then
		rc=1
		sed 's/^/failed check: /' /tmp/test-failures >>/tmp/case.log
	fi
	# Every packet that entered the engine during the test ended in one counted fate.
	if grep -q '^lana_core ' /proc/modules && ! (check_balance "after the test, the engine is") >>/tmp/case.log 2>&1; then
		[ $rc = 0 ] && rc=1
	fi
	# Namespaces a failed test left behind would keep their graphs (and the block modules).
	for ns in /tmp/ns.*; do
		[ -f "$ns" ] && (del_ns "${ns#/tmp/ns.}")
	done
	# Every test leaves the machine clean: no instances, no LANA modules.
	if ! (unload_all) >>/tmp/case.log 2>&1; then
		[ $rc = 0 ] && rc=1
		echo "cleanup after the test failed" >>/tmp/case.log
	fi
	# Devices a failed test left behind would make the next one fail for the wrong reason.
	for d in $(ls /sys/class/net); do
		[ "$d" = lo ] || ip link del "$d" 2>/dev/null
	done
	if dmesg | sed -n "/$mark/,\$p" | grep -E "$report_re" | grep -vE "$expected_re" >>/tmp/case.log; then
		rc=1
		echo "kernel reported a problem during this test" >>/tmp/case.log
	fi
	secs=$(awk -v a="$start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{printf "%.1f", b-a}')
	name="$(basename "$f" .sh):${t#test_}"
	case $rc in
	0) pass=$((pass + 1)); sed -n "s/^INFO: /# $name: /p" /tmp/case.log; echo "ok $n $name # ${secs}s" ;;
	4) skip=$((skip + 1)); sed 's/^/# /' /tmp/case.log; echo "ok $n $name # SKIP" ;;
	*) failed=$((failed + 1)); sed 's/^/# /' /tmp/case.log; echo "not ok $n $name # exit $rc" ;;
	esac
done </tmp/tests.list
if [ -w $kmemleak ]; then
	n=$((n + 1))
	# two scans, some seconds apart, as kmemleak's documentation advises
	echo scan >$kmemleak; sleep 6; echo scan >$kmemleak
	leaks=$(grep -c "unreferenced object" $kmemleak)
	if [ "$leaks" = 0 ]; then
		pass=$((pass + 1)); echo "ok $n kmemleak:no_leaks_after_suite"
	else
		failed=$((failed + 1)); head -n 60 $kmemleak | sed 's/^/# /'
		echo "not ok $n kmemleak:no_leaks_after_suite # $leaks objects"
	fi
fi
echo "# Totals: pass:$pass fail:$failed xfail:0 xpass:0 skip:$skip error:0"
echo "# Time: $(awk -v a="$suite_start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{printf "%.1f", b-a}')s for the ${LANA_SUITE:-guest} suite"
echo "LANA-GUEST: $pass passed, $failed failed, $skip skipped"
[ $failed = 0 ] && [ $total -gt 0 ]
echo "LANA-EXIT: $?"
