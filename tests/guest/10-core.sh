# SPDX-License-Identifier: GPL-2.0
# lana_core as a module: loading, the generic-netlink family, unloading without leftovers.

test_core_loads_and_registers_family() {
	check load lana_core
	grep -q '^lana_core ' /proc/modules || fail "lana_core not in /proc/modules"
	# fbctl resolves the family and gets an empty graph.
	out=$(fbctl -j list) || fail "fbctl list failed after insmod"
	eq "$out" "[]" "block list of a fresh core"
	dmesg | grep -q 'lana_core: loaded' || fail "no load message in dmesg"
}

test_error_after_unload_is_clear() {
	check load lana_core
	check rmmod lana_core
	expect_err 3 "" "LANA core module not loaded" fbctl list
	# Nothing of ours is left: no module, and a fresh load works again.
	grep -q '^lana_core ' /proc/modules && fail "lana_core still loaded"
	check load lana_core
	check fbctl list
}

test_core_unload_reload_cycles() {
	for i in 1 2 3 4 5; do
		check load lana_core fb_fwd fb_counter
		check fbctl add "a$i" fwd
		check fbctl add "c$i" counter
		check fbctl bind "a$i" "c$i"
		check unload_all
	done
	expect_err 3 "" "not loaded" fbctl types
}

test_fb_module_pins_core() {
	check load lana_core fb_fwd
	# The FB module uses the core's symbols: the core cannot go first.
	rmmod lana_core 2>/dev/null && fail "rmmod lana_core succeeded with fb_fwd loaded"
	check rmmod fb_fwd
	check rmmod lana_core
}

test_duplicate_type_name_is_refused() {
	check load lana_core fb_fwd
	check fbctl add f fwd
	insmod /lib/modules/fb_dup.ko 2>/tmp/dup.err && fail "a second type named fwd was accepted"
	# the core says EEXIST; the module loader reports it as EBUSY (EEXIST means "loaded")
	grep -q "resource busy" /tmp/dup.err || fail "insmod fb_dup: expected EBUSY, got: $(cat /tmp/dup.err)"
	dmesg | grep -q "an FB type named 'fwd' is registered already" || fail "no message in dmesg"
	eq "$(fbctl -j types | jq -r '[.[] | select(.type=="fwd")] | length')" 1 "one fwd type"
	eq "$(fbctl -j show f | jq -r .type)" fwd "instance untouched"
	check fbctl rm f
	check rmmod fb_fwd
	# the other way round: the first one wins
	check insmod /lib/modules/fb_dup.ko
	insmod /lib/modules/fb_fwd.ko 2>/dev/null && fail "fb_fwd loaded although fb_dup owns 'fwd'"
	check rmmod fb_dup
}

test_kunit_suite_passes() {
	# KUnit is built only into the debug kernel (make test-debug): skipped elsewhere.
	grep -q " kunit_run_tests$" /proc/kallsyms || return $KSFT_SKIP
	local mark="lana-kunit-test-$$" suites="lana_binding lana_bpf lana_commands lana_heapsort lana_msg lana_name lana_props lana_txn" s i
	echo "$mark" >/dev/kmsg
	check load lana_core
	# the suites run at load, one after the other: wait for all of them
	for i in $(seq 100); do
		[ "$(dmesg | sed -n "/$mark/,\$p" | grep -cE "\] *(not )?ok [0-9]+ lana_[a-z]+$")" -ge 8 ] && break
		sleep 0.1
	done
	dmesg | sed -n "/$mark/,\$p" >/tmp/kunit.log
	grep -E "# lana_|ok [0-9]+ lana_" /tmp/kunit.log
	grep -qE "not ok [0-9]+ " /tmp/kunit.log && fail "a KUnit test failed"
	for s in $suites; do
		grep -qE "^\[.*\] *ok [0-9]+ $s$" /tmp/kunit.log || fail "KUnit suite $s did not report ok"
	done
	# a suite added to the code but not to the list above is a failure too
	n=$(grep -cE "\] *(not )?ok [0-9]+ lana_[a-z]+$" /tmp/kunit.log)
	eq "$n" 8 "KUnit suites reported"
}

test_genl_describes_the_family() {
	load lana_core || return 1
	# Debian's iproute2 in the guest (not busybox's ip)
	ip -V | grep -q iproute2 || fail "ip is not iproute2: $(ip -V 2>&1)"
	genl ctrl get name lana >/tmp/genl.out 2>&1 || { cat /tmp/genl.out >&2; fail "genl ctrl get"; return 1; }
	cat /tmp/genl.out
	grep -q "Name: lana" /tmp/genl.out || fail "no family name"
	grep -q "name: config" /tmp/genl.out || fail "no multicast group 'config'"
	# every command is listed (genl prints their numbers: 0x1 add ... 0xb engine)
	sed -n '/commands supported/,/multicast groups/p' /tmp/genl.out >/tmp/genl.cmds
	for n in 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8 0x9 0xa 0xb; do
		grep -qi "ID-$n " /tmp/genl.cmds || fail "command $n not listed"
	done
}
