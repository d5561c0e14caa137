# SPDX-License-Identifier: GPL-2.0
# Hardening: reconfiguration under load with exact packet conservation, unload and teardown
# under traffic, permissions of every command.

test_reconfigure_under_load_conserves_packets() {
	load lana_core fb_eth fb_fwd fb_counter fb_tee fb_bpf || return 1
	ip link add rx0 type dummy && ip link set rx0 up
	check fbctl -b /dev/stdin <<-'CMDS'
	add in eth
	add c0 counter
	add f fwd
	set in dev=rx0
	bind in c0
	bind c0 f
	CMDS
	rm -f /tmp/stop.load
	pktgen_loop rx0 /tmp/stop.load >/tmp/runs &
	loader=$!
	replaces=0 other=0 cur=c0 i=0
	want=${LANA_REPLACES:-100}	# make soak: 1000
	# replaces on the packet path, and random changes beside it, while packets flow
	while [ $replaces -lt "$want" ]; do
		i=$((i + 1))
		fbctl add c$i counter && fbctl replace $cur c$i || { fail "replace $cur c$i"; break; }
		cur=c$i
		replaces=$((replaces + 1))
		case $((i % 5)) in
		0) fbctl add side$i fwd && fbctl add t$i tee && fbctl bind t$i side$i && other=$((other + 3)) ;;
		1) fbctl add b$i bpf && fbctl set b$i "filter-ddd=1,6 0 0 65535" && fbctl rm b$i && other=$((other + 3)) ;;
		2) for s in $(fbctl -j list | jq -r '.[] | select(.type=="tee") | .name'); do
			fbctl unbind $s side${s#t} && fbctl rm $s && fbctl rm side${s#t} && other=$((other + 3))
		   done ;;
		3) fbctl set in ethertype=0 && other=$((other + 1)) ;;
		4) fbctl add x$i fwd && fbctl replace x$i x$i 2>/dev/null; fbctl rm x$i && other=$((other + 2)) ;;
		esac
	done
	touch /tmp/stop.load
	wait $loader
	runs=$(cat /tmp/runs)
	[ "$runs" -ge 1 ] || fail "no traffic ran"
	N=$((runs * 100000))
	eq "$(fbctl -j show $cur | jq -r .state.packets)" $N "packets in = packets counted, across $replaces replaces"
	eq "$(fbctl -j show f | jq -r .stats.packets)" $N "every packet reached the end"
	eq "$(fbctl -j stats | jq -r '.entered')" $N "engine: entered"
	eq "$(fbctl -j stats | jq -r '.dropped.no_next + .dropped.hop_limit')" $N "dropped-and-counted at the end of the path"
	check_balance
	info "$replaces replaces and $other other changes while $N packets flowed: all counted"
	ip link del rx0
}

test_unload_and_teardown_under_traffic() {
	load lana_core fb_eth fb_fwd fb_counter || return 1
	ip link add rx0 type dummy && ip link set rx0 up
	new_ns far
	veth_to_ns a0 a1 far || return 1
	check fbctl -b /dev/stdin <<-'CMDS'
	add in eth
	add c counter
	add f fwd
	add in2 eth
	add c2 counter
	set in dev=rx0
	set in2 dev=a0
	bind in c
	bind c f
	bind in2 c2
	CMDS
	rm -f /tmp/stop.load
	pktgen_loop rx0 /tmp/stop.load >/tmp/runs &
	loader=$!
	sleep 0.5
	for m in fb_counter fb_fwd fb_eth lana_core; do
		rmmod $m 2>/dev/null && fail "rmmod $m succeeded with live blocks under traffic"
	done
	# the namespace goes away: its veth pair with it, and in2 detaches
	del_ns far
	for i in $(seq 50); do [ "$(fbctl -j show in2 | jq -r .state.link)" = detached ] && break; sleep 0.1; done
	eq "$(fbctl -j show in2 | jq -r .state.link)" detached "eth on a0 detached when its namespace went away"
	# tear everything down while packets still arrive on rx0
	check fbctl flush
	check rmmod fb_counter
	check rmmod fb_fwd
	check rmmod fb_eth
	n=0
	until rmmod lana_core 2>/dev/null; do n=$((n + 1)); [ $n -lt 50 ] || { fail "rmmod lana_core"; break; }; sleep 0.1; done
	touch /tmp/stop.load
	wait $loader
	info "unloaded under traffic after $(cat /tmp/runs) pktgen runs"
	ip link del rx0
}

test_every_change_needs_cap_net_admin() {
	load lana_core fb_fwd fb_counter || return 1
	check fbctl add a fwd
	check fbctl add b counter
	check fbctl add spare counter
	check fbctl bind a b
	before=$(fbctl -j list)
	for cmd in "add x fwd" "rm spare" "set b reset=1" "bind b spare" "unbind a b" "replace b spare" "flush" \
		"engine runtime=on" "engine max_hops=9"; do
		expect_err 1 EPERM "" su nobody -s /bin/sh -c "fbctl $cmd" || return 1
	done
	eq "$(fbctl -j list)" "$before" "nothing changed"
	# reading is open to everyone, as the family declares (no GENL_ADMIN_PERM on GET/TYPES/STATS)
	for cmd in "list" "show a" "types" "stats" "graph"; do
		su nobody -s /bin/sh -c "fbctl -j $cmd" >/dev/null || fail "unprivileged 'fbctl $cmd' refused"
	done
}
