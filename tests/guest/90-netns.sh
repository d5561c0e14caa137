# SPDX-License-Identifier: GPL-2.0
# One graph per network namespace: names, blocks, statistics, generations and events belong
# to the caller's namespace; root in a container (a user namespace owning a network
# namespace) manages its own graph and nothing else; a namespace going away takes its graph
# with it, under traffic, without touching the others; the core unloads cleanly with graphs
# in many namespaces.

# ns_balance NS: NS's engine accounting is balanced (every packet that entered ended)
ns_balance() {
	local s i
	for i in $(seq 50); do
		s=$(in_ns "$1" fbctl -j stats) || { fail "fbctl stats in $1"; return 1; }
		[ "$(echo "$s" | jq -r .in_flight)" = 0 ] && return 0
		sleep 0.1
	done
	fail "$1's engine not balanced: $(echo "$s" | jq -c '{entered, copies, delivered, transmitted, dropped, in_flight}')"
}

# wait_gone NS: wait until the namespace of NS's (killed) process is dismantled: its graph's
# blocks no longer hold the type modules
wait_gone() {
	local i
	for i in $(seq 100); do
		[ "$(awk '$1 == "fb_counter" {print $3}' /proc/modules)" = "${2:-0}" ] && return 0
		sleep 0.1
	done
	fail "the namespace's blocks are still there: $(grep fb_ /proc/modules)"
}

test_each_namespace_has_its_own_graph() {
	load lana_core fb_counter fb_fwd || return 1
	new_ns a
	new_ns b
	check fbctl add c counter
	# the same names in three namespaces, three different blocks
	for ns in a b; do
		check in_ns $ns fbctl -b /dev/stdin <<-'CMDS'
		add c counter
		add f fwd
		bind c f
		CMDS
	done
	check in_ns b fbctl add only-in-b fwd
	eq "$(fbctl -j list | jq -c '[.[].name]')" '["c"]' "the initial namespace sees its block only"
	eq "$(in_ns a fbctl -j list | jq -c '[.[].name] | sort')" '["c","f"]' "a sees its own"
	eq "$(in_ns b fbctl -j list | jq -c '[.[].name] | sort')" '["c","f","only-in-b"]' "b sees its own"
	expect_err 1 ENOENT "no functional block named 'only-in-b'" in_ns a fbctl show only-in-b || return 1
	expect_err 1 ENOENT "no functional block named 'only-in-b'" in_ns a fbctl bind c only-in-b || return 1
	eq "$(in_ns a fbctl -j types | jq -r '.[] | select(.type == "counter") | .instances')" 1 "types counts a's instances"
	eq "$(in_ns b fbctl -j stats | jq -r .blocks)" 3 "b's stats count b's blocks"
	# generations are per namespace: a change in b does not make a's --expect-gen stale
	ga=$(in_ns a fbctl -j stats | jq -r .generation)
	check in_ns b fbctl add more fwd
	check in_ns a fbctl --expect-gen "$ga" add g fwd
	expect_err 1 ESTALE "changed since generation $ga" in_ns a fbctl --expect-gen "$ga" add h fwd || return 1
	# a flush empties the caller's graph only
	check in_ns a fbctl flush
	eq "$(in_ns a fbctl -j list | jq length)" 0 "a is empty"
	eq "$(in_ns b fbctl -j list | jq length)" 4 "b kept its blocks"
	eq "$(fbctl -j list | jq length)" 1 "and so did the initial namespace"
	del_ns a
	del_ns b
	check fbctl rm c
	wait_gone b
}

test_events_stay_in_their_namespace() {
	load lana_core fb_fwd || return 1
	new_ns a
	new_ns b
	# (nsenter execs fbctl: $! is the monitor itself, which the kill below ends)
	nsenter -t "$(cat /tmp/ns.a)" -n fbctl -j monitor >/tmp/mon.a 2>/tmp/mon.a.err &
	mon=$!
	# listening once a probe change in a reached it
	for i in $(seq 50); do
		grep -q probe /tmp/mon.a && break
		in_ns a fbctl add probe fwd >/dev/null && in_ns a fbctl rm probe >/dev/null
		sleep 0.1
	done
	grep -q probe /tmp/mon.a || { kill $mon; fail "a's monitor never saw a change: $(cat /tmp/mon.a.err)"; return 1; }
	check in_ns b fbctl add x fwd
	check fbctl add y fwd
	check in_ns a fbctl add z fwd
	for i in $(seq 50); do grep -q '"name":"z"' /tmp/mon.a && break; sleep 0.1; done
	kill $mon
	grep -q '"name":"z"' /tmp/mon.a || fail "a's monitor missed a's change"
	grep -q '"name":"[xy]"' /tmp/mon.a && fail "a's monitor saw other namespaces' changes: $(cat /tmp/mon.a)"
	check fbctl rm y
	del_ns a
	del_ns b
}

test_container_root_manages_its_own_graph_only() {
	load lana_core fb_fwd fb_counter || return 1
	[ -e /proc/self/ns/user ] || { fail "the guest kernel lacks user namespaces"; return 1; }
	check fbctl add host-block fwd
	# an unprivileged user makes a container: a user namespace (root inside, mapped to
	# nobody) owning a new network namespace, and manages that namespace's graph
	su nobody -s /bin/sh -c 'unshare -U -r -n sh -c "
		fbctl add mine counter && fbctl add f fwd && fbctl bind mine f &&
		fbctl -j list && fbctl -j stats"' >/tmp/container.out 2>&1 ||
		fail "root in the container could not manage its graph: $(cat /tmp/container.out)"
	grep -q '"mine"' /tmp/container.out || fail "the container's list lacks its block: $(cat /tmp/container.out)"
	# root of a user namespace without a network namespace of its own is nobody to the
	# initial namespace's graph: reads work, changes do not
	expect_err 1 EPERM "" su nobody -s /bin/sh -c 'unshare -U -r fbctl add evil fwd' || return 1
	expect_err 1 EPERM "" su nobody -s /bin/sh -c 'unshare -U -r fbctl rm host-block' || return 1
	expect_err 1 EPERM "" su nobody -s /bin/sh -c 'unshare -U -r fbctl flush' || return 1
	su nobody -s /bin/sh -c 'unshare -U -r fbctl -j list' >/tmp/l.json || fail "reading failed"
	eq "$(jq -c '[.[].name]' /tmp/l.json)" '["host-block"]' "the initial graph, untouched"
	# the engine's settings are the machine's: not even root in a container sets them
	expect_err 1 EPERM "" su nobody -s /bin/sh -c 'unshare -U -r -n fbctl engine max_hops=3' || return 1
	# the container exited: its namespace, graph and all, is gone
	wait_gone container
	check fbctl rm host-block
}

# The graphs of one user's containers share max_ns_blocks of the machine's blocks, however
# many containers the user makes, so nobody without privilege can take them all; the host's
# namespaces (owned by the initial user namespace) are bound by max_blocks only.
test_a_users_containers_share_their_blocks() {
	load lana_core fb_fwd fb_counter || return 1
	local p=/sys/module/lana_core/parameters
	eq "$(cat $p/max_ns_blocks)" 4096 "the default share"
	echo 5 >$p/max_ns_blocks
	rm -rf /tmp/share && mkdir -m 777 /tmp/share
	# container A holds 3 blocks until B is done
	su nobody -s /bin/sh -c 'unshare -U -r -n sh -c "
		for i in 1 2 3; do fbctl add a\$i counter || exit 1; done
		: >/tmp/share/a.ready
		while [ ! -e /tmp/share/b.done ]; do sleep 0.1; done"' >/tmp/share/a.out 2>&1 &
	local i
	for i in $(seq 100); do [ -e /tmp/share/a.ready ] && break; sleep 0.1; done
	[ -e /tmp/share/a.ready ] || fail "container A did not start: $(cat /tmp/share/a.out)"
	# container B, the same user's: 2 more, then the share is spent
	su nobody -s /bin/sh -c 'unshare -U -r -n sh -c "
		fbctl add b1 counter && fbctl add b2 counter || exit 1
		fbctl add b3 counter; echo rc=\$?; fbctl -j stats"' >/tmp/share.out 2>&1
	: >/tmp/share/b.done
	grep -q "the containers of user 65534 hold max_ns_blocks=5 blocks already" /tmp/share.out ||
		fail "the 6th block of nobody's containers was not refused: $(cat /tmp/share.out)"
	grep -q "ENOSPC" /tmp/share.out || fail "ENOSPC: $(cat /tmp/share.out)"
	grep -q "rc=1" /tmp/share.out || fail "fbctl exit code: $(cat /tmp/share.out)"
	grep -q '"blocks":2' /tmp/share.out || fail "B kept its 2: $(cat /tmp/share.out)"
	wait
	# the host is not a container: 6 blocks are fine here, and so in an admin's netns
	for i in 1 2 3 4 5 6; do check fbctl add h$i fwd; done
	ip netns add adm || return 1
	for i in 1 2 3 4 5 6; do check ip netns exec adm fbctl add a$i fwd; done
	ip netns del adm
	echo 4096 >$p/max_ns_blocks
	wait_gone container
	check fbctl flush
}

# Two namespaces a and b, each fed by a veth pair from the initial namespace (va -> pa,
# vb -> pb) into its graph: e (eth) -> c (counter) -> f (fwd, the end: dropped, no_next).
test_namespace_teardown_under_traffic() {
	load lana_core fb_eth fb_counter fb_fwd || return 1
	for ns in a b; do
		new_ns $ns
		veth_to_ns v$ns p$ns $ns || return 1
		in_ns $ns fbctl -b /dev/stdin <<-CMDS || { fail "graph in $ns"; return 1; }
		add e eth
		add c counter
		add f fwd
		set e dev=p$ns
		bind e c
		bind c f
		CMDS
	done
	# frames from the initial namespace into a while a goes away
	# (its device vanishes mid-run: pktgen's complaint is expected, not the test's failure)
	(
		FAIL_FILE=/tmp/pktgen-a.fail PG_MODE=xmit
		pktgen_inject va 1000000
	) >/dev/null 2>&1 &
	pga=$!
	for i in $(seq 100); do
		[ "$(in_ns a fbctl -j show c | jq -r .state.packets)" -gt 1000 ] 2>/dev/null && break
		sleep 0.1
	done
	ca=$(in_ns a fbctl -j show c | jq -r .state.packets)
	[ "$ca" -gt 0 ] 2>/dev/null || fail "no traffic reached a's graph"
	del_ns a
	# a's veth pair goes with a: pktgen loses its device and stops
	for i in $(seq 100); do [ -e /sys/class/net/va ] || break; sleep 0.1; done
	echo stop >/proc/net/pktgen/pgctrl 2>/dev/null
	wait $pga 2>/dev/null
	info "a's graph counted $ca frames, then a went away under traffic"
	# b's graph is untouched: it counts every frame sent to it, and its engine balances
	PG_MODE=xmit pktgen_inject vb 20000 >/dev/null || fail "pktgen into b"
	eq "$(in_ns b fbctl -j show c | jq -r .state.packets)" 20000 "b counted every frame sent to it"
	ns_balance b || return 1
	eq "$(in_ns b fbctl -j stats | jq -r .dropped.no_next)" 20000 "and ended each at the end of its path"
	del_ns b
	wait_gone b
}

test_unload_with_graphs_in_many_namespaces() {
	load lana_core fb_eth fb_counter fb_fwd || return 1
	for i in $(seq 20); do
		new_ns n$i
		in_ns n$i ip link add d0 type dummy || return 1
		in_ns n$i fbctl -b /dev/stdin <<-'CMDS' || { fail "graph in n$i"; return 1; }
		add e eth
		add c counter
		add f fwd
		set e dev=d0
		bind e c
		bind c f
		CMDS
	done
	eq "$(awk '$1 == "fb_counter" {print $3}' /proc/modules)" 20 "20 counters hold fb_counter"
	# the block modules are held while blocks use them, in any namespace
	rmmod fb_counter 2>/dev/null && fail "fb_counter unloaded while 20 blocks use it"
	grep -q '^fb_counter ' /proc/modules || return 1
	# the namespaces' graphs go with the namespaces
	for i in $(seq 10); do del_ns n$i; done
	wait_gone n 10
	# the others are flushed from inside; their (empty) spaces go when the core unloads
	for i in $(seq 11 20); do
		check in_ns n$i fbctl flush
		del_ns n$i
	done
	wait_gone n
	for i in $(seq 11 20); do new_ns n$i; in_ns n$i fbctl -j stats >/dev/null; done
	check rmmod fb_counter fb_fwd fb_eth lana_core
	grep -q '^lana_core ' /proc/modules && fail "lana_core still loaded"
	for i in $(seq 11 20); do del_ns n$i; done
	return 0
}
