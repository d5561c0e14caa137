# SPDX-License-Identifier: GPL-2.0
# The paper's five blocks on real traffic: eth (veth pairs, namespaces), bpf (checked against
# the kernel's own SO_ATTACH_FILTER), tee, counter, fwd.

stat_of() {
	cat /sys/class/net/$1/statistics/$2
}

counter_packets() {
	fbctl -j show "$1" | jq -r .state.packets
}

# pcount_start IF DDD NAME [NS]: count what DDD accepts on IF, in the background
pcount_start() {
	rm -f /tmp/stop.$3
	if [ -n "${4:-}" ]; then
		in_ns "$4" lana-pcount "$1" "$2" /tmp/stop.$3 >/tmp/pcount.$3 2>&1 &
	else
		lana-pcount "$1" "$2" /tmp/stop.$3 >/tmp/pcount.$3 2>&1 &
	fi
	echo $! >/tmp/pcount.$3.pid
	for i in $(seq 50); do grep -q ready /tmp/pcount.$3 && return 0; sleep 0.1; done
	cat /tmp/pcount.$3 >&2
	fail "lana-pcount did not start"
}

# pcount_stop NAME: the count (the tool prints it as its second line, then exits)
pcount_stop() {
	touch /tmp/stop.$1
	for i in $(seq 100); do
		[ "$(wc -l </tmp/pcount.$1)" -ge 2 ] && break
		sleep 0.1
	done
	tail -n 1 /tmp/pcount.$1
}

# ns_rx_packets NS IF: received packets of IF inside namespace NS (sysfs shows our own)
ns_rx_packets() {
	in_ns "$1" cat /proc/net/dev | awk -v d="$2:" '$1 == d {print $3}'
}

test_five_block_stack_on_veth() {
	load lana_core fb_eth fb_fwd fb_counter fb_bpf fb_tee || return 1
	new_ns far
	ip link add rx0 type dummy && ip link set rx0 up
	veth_to_ns o0 o1 far || return 1
	check fbctl -b /dev/stdin <<-'CMDS'
	add in eth
	add c1 counter
	add f bpf
	add t tee
	add c2 counter
	add out eth
	set in dev=rx0
	set out dev=o0
	set f filter="udp and dst port 9"
	bind in c1
	bind c1 f
	bind f t
	bind t c2
	bind t out
	CMDS
	eq "$(fbctl -j show f | jq -r .config.filter)" "udp and dst port 9" "filter label"
	ddd=$(fbctl -j filter udp and dst port 9 | jq -r .ddd)
	pcount_start o1 "$ddd" far far || return 1
	tx0=$(stat_of o0 tx_packets)
	rx0=$(ns_rx_packets far o1)
	N1=3000 N2=2000
	PG_EXTRA="udp_dst_min 9;udp_dst_max 9" pktgen_inject rx0 $N1 || return 1
	PG_EXTRA="udp_dst_min 10;udp_dst_max 10" pktgen_inject rx0 $N2 || return 1
	sleep 0.5
	far=$(pcount_stop far)
	eq "$(counter_packets c1)" $((N1 + N2)) "c1 saw everything"
	eq "$(fbctl -j show f | jq -r .stats.drops)" $N2 "bpf dropped the port-10 packets"
	eq "$(counter_packets c2)" $N1 "c2 got one copy of each match"
	eq "$(fbctl -j show out | jq -r .stats.packets)" $N1 "eth(out) got the other copy"
	eq "$(( $(stat_of o0 tx_packets) - tx0 ))" $N1 "o0 transmitted"
	eq "$(( $(ns_rx_packets far o1) - rx0 ))" $N1 "o1 received (far side)"
	eq "$far" $N1 "capture on the far side"
	info "in->c1->bpf->tee->{c2,out}: $((N1 + N2)) in, $N1 matched, $N1 out of o0, $N1 captured on o1"
	ip link del rx0
	ip link del o0
	del_ns far
}

test_frames_longer_than_the_mtu_are_dropped_too_big() {
	# in (rx0, no MTU on receive) -> out (o0, MTU 1000): a frame the device cannot take is
	# dropped before the driver, counted too_big, not handed on and called transmitted
	load lana_core fb_eth || return 1
	ip link add rx0 type dummy && ip link set rx0 up
	ip link add o0 type veth peer name o1 || return 1
	check ip link set o0 mtu 1000
	check ip link set o0 up
	check ip link set o1 up
	check fbctl -b /dev/stdin <<-'CMDS'
	add in eth
	add out eth
	set in dev=rx0
	set out dev=o0
	bind in out
	CMDS
	tx0=$(stat_of o0 tx_packets)
	rx0=$(stat_of o1 rx_packets)
	pktgen_inject rx0 20 1400 || return 1
	pktgen_inject rx0 30 1000 || return 1
	eq "$(fbctl -j stats | jq -r .dropped.too_big)" 20 "frames over o0's MTU: too_big"
	eq "$(fbctl -j stats | jq -r .transmitted)" 30 "frames within it: transmitted"
	eq "$(fbctl -j show out | jq -r .stats.drops)" 20 "out dropped the long ones"
	eq "$(( $(stat_of o1 rx_packets) - rx0 ))" 30 "o1 received the 30 within the MTU"
	eq "$(( $(stat_of o0 tx_packets) - tx0 ))" 30 "o0 sent them"
	ip link del rx0
	ip link del o0
}

test_bpf_matches_so_attach_filter() {
	load lana_core fb_eth fb_bpf fb_counter || return 1
	ip link add rx0 type dummy && ip link set rx0 up
	check fbctl add in eth
	check fbctl add f bpf
	check fbctl add c counter
	check fbctl set in dev=rx0
	check fbctl bind in f
	check fbctl bind f c
	# varied traffic: random UDP ports 1-100, random sources 10.0.0.1-10.0.0.20, sizes 60-200
	extra="udp_dst_min 1;udp_dst_max 100;udp_src_min 1;udp_src_max 100;src_min 10.0.0.1;src_max 10.0.0.20;flag UDPDST_RND;flag UDPSRC_RND;flag IPSRC_RND;min_pkt_size 60;max_pkt_size 200;flag TXSIZE_RND"
	n=0
	while read -r expr; do
		[ -n "$expr" ] || continue
		ddd=$(fbctl -j filter "$expr" | jq -r .ddd) || { fail "compile '$expr'"; continue; }
		check fbctl set f "filter=$expr"
		check fbctl set c reset=1
		pcount_start rx0 "$ddd" ref || return 1
		PG_EXTRA="$extra" pktgen_inject rx0 2000 || return 1
		ref=$(pcount_stop ref)
		got=$(counter_packets c)
		eq "$got" "$ref" "'$expr': packets fb_bpf passed vs SO_ATTACH_FILTER accepted"
		info "'$expr': $got of 2000 passed (SO_ATTACH_FILTER: $ref)"
		n=$((n + 1))
	done <<-'EXPRS'
	udp and dst port 53
	udp dst portrange 1-50
	src net 10.0.0.0/29
	src host 10.0.0.7 or udp src port 3
	icmp
	ip and udp and len > 128
	ether dst host 00:00:00:00:00:00 or udp[2:2] < 20
	ip[8] = 32
	EXPRS
	eq "$n" 8 "expressions checked"
	ip link del rx0
}

test_unclaimed_traffic_keeps_working() {
	load lana_core fb_eth fb_counter || return 1
	new_ns far
	veth_to_ns a0 a1 far || return 1
	ip addr add 10.9.0.1/24 dev a0
	in_ns far ip addr add 10.9.0.2/24 dev a1
	check fbctl add in eth
	check fbctl add c counter
	check fbctl set in dev=a0 ethertype=0x88b5
	check fbctl bind in c
	timeout 20 ping -c 3 -W 2 10.9.0.2 >/tmp/ping.out || { cat /tmp/ping.out; fail "ping with LANA attached (ethertype 0x88b5)"; }
	eq "$(counter_packets c)" 0 "IPv4 and ARP not claimed"
	# claim by destination MAC: frames to another MAC are not ours
	check fbctl set in ethertype=0 dst=02:00:00:00:00:99
	timeout 20 ping -c 2 -W 2 10.9.0.2 >/tmp/ping.out || { cat /tmp/ping.out; fail "ping with dst= set elsewhere"; }
	eq "$(counter_packets c)" 0 "frames to our MAC not claimed"
	eq "$(fbctl -j show in | jq -r .config.dst)" 02:00:00:00:00:99 "dst read back"
	PG_DST_MAC=02:00:00:00:00:99 pktgen_inject a0 100 || return 1
	eq "$(counter_packets c)" 100 "frames to the claimed MAC"
	ip link del a0
	del_ns far
}

test_device_deleted_under_traffic() {
	load lana_core fb_eth fb_counter fb_fwd || return 1
	ip link add v0 type veth peer name v1
	[ -e /sys/class/net/v1 ] || ip link set veth0 name v1
	ip link set v0 up && ip link set v1 up
	check fbctl add in eth
	check fbctl add c counter
	check fbctl set in dev=v1
	check fbctl bind in c
	# pktgen's run is cut short by the delete: its failure is expected
	FAIL_FILE=/dev/null PG_MODE=xmit PG_DST_MAC=$(cat /sys/class/net/v1/address) \
		pktgen_inject v0 400000 >/tmp/pg.log 2>&1 &
	pg=$!
	for i in $(seq 50); do [ "$(counter_packets c)" -gt 1000 ] && break; sleep 0.1; done
	before=$(counter_packets c)
	[ "$before" -gt 0 ] || fail "no traffic reached LANA before the delete"
	check ip link del v1
	wait $pg
	eq "$(fbctl -j show in | jq -r .state.link)" detached "eth detached itself"
	info "deleted v1 after $before packets, during traffic"
	# the rest of the graph stays usable
	check fbctl add f fwd
	check fbctl unbind in c
	check fbctl bind in f
	check fbctl bind f c
	ip link add rx1 type dummy && ip link set rx1 up
	check fbctl set in dev=rx1
	n0=$(counter_packets c)
	pktgen_inject rx1 500 || return 1
	eq "$(( $(counter_packets c) - n0 ))" 500 "graph works after the device went away"
	ip link del rx1
}

test_errors_eth_bpf_tee() {
	load lana_core fb_eth fb_bpf fb_tee fb_fwd || return 1
	ip link add rx0 type dummy
	check fbctl add e1 eth
	check fbctl add e2 eth
	check fbctl set e1 dev=rx0
	expect_err 1 EBUSY "device is taken" fbctl set e2 dev=rx0 || return 1
	eq "$(fbctl -j show e2 | jq -r .state.link)" detached "e2 unchanged"
	expect_err 1 ENODEV "no such network device" fbctl set e2 dev=nope0 || return 1
	expect_err 1 EINVAL "no key 'netns'" fbctl set e2 dev=rx0 netns=1 || return 1
	expect_err 1 EINVAL "MAC address" fbctl set e2 dst=01:02:03 || return 1
	check fbctl add f bpf
	check fbctl set f "filter=udp"
	expect_err 2 "" "does not compile" fbctl set f "filter=udp and and" || return 1
	expect_err 1 EINVAL "refused the BPF program" fbctl set f "filter-ddd=2,21 0 5 2048,6 0 0 0" || return 1
	expect_err 1 EINVAL "instruction count" fbctl set f "filter-ddd=3,6 0 0 0" || return 1
	expect_err 1 EINVAL "code jt jf k" fbctl set f "filter-ddd=1,6 0 0" || return 1
	eq "$(fbctl -j show f | jq -r .config.filter)" udp "filter unchanged by the errors"
	check fbctl add t tee
	for b in a b c; do check fbctl add $b fwd; done
	check fbctl bind t a
	check fbctl bind t b
	expect_err 1 ENOSPC "at most 2" fbctl bind t c || return 1
	ip link del rx0
}
