# SPDX-License-Identifier: GPL-2.0
# Applications on LANA: AF_LANA sockets bound to socket blocks, two stacks joined by a veth
# pair: A: socket sa <-> counter ca <-> eth ea (a0), B: socket sb <-> counter cb <-> eth eb (b0).

# two_stacks [ns]: with "ns", the two stacks are two hosts: A's blocks and a0 live in
# network namespace hostA, B's in hostB, each graph configured from inside its namespace
# ($ON_A / $ON_B run a command there; empty without "ns").
two_stacks() {
	load lana_core fb_eth fb_counter || return 1
	ip link add a0 type veth peer name b0 || return 1
	[ -e /sys/class/net/b0 ] || ip link set veth0 name b0
	local amac bmac
	amac=$(cat /sys/class/net/a0/address)
	bmac=$(cat /sys/class/net/b0/address)
	ON_A="" ON_B=""
	if [ "${1:-}" = ns ]; then
		new_ns hostA
		new_ns hostB
		ip link set a0 netns "$(cat /tmp/ns.hostA)" || return 1
		ip link set b0 netns "$(cat /tmp/ns.hostB)" || return 1
		ON_A="in_ns hostA" ON_B="in_ns hostB"
	fi
	$ON_A ip link set a0 up && $ON_B ip link set b0 up || return 1
	$ON_A fbctl -b /dev/stdin <<-CMDS || return 1
	add sa socket
	add ca counter
	add ea eth
	set ea dev=a0 ethertype=0x88b5 peer=$bmac
	bind ea ca
	bind ca sa
	CMDS
	$ON_B fbctl -b /dev/stdin <<-CMDS || return 1
	add sb socket
	add cb counter
	add eb eth
	set eb dev=b0 ethertype=0x88b5 peer=$amac
	bind eb cb
	bind cb sb
	CMDS
}

# no_stacks: remove the veth pair (and the hosts' namespaces, if any)
no_stacks() {
	ip link del a0 2>/dev/null || true
	del_ns hostA
	del_ns hostB
	return 0
}

# recv_start BLOCK NAME ARGS...: a receiver in the background, ready when this returns
recv_start() {
	local block=$1 name=$2
	shift 2
	${RECV_IN:-} lana-nc recv "$block" "$@" >/tmp/recv.$name 2>&1 &
	echo $! >/tmp/recv.$name.pid
	for i in $(seq 50); do grep -q ready /tmp/recv.$name && return 0; sleep 0.1; done
	cat /tmp/recv.$name >&2
	fail "receiver on $block did not start"
}

# recv_wait NAME: wait for the receiver to finish; fail unless everything arrived intact and
# in order. Must run in the shell that started the receiver (not in $(...)): only that shell
# can reap it, and an unreaped receiver would look alive forever.
recv_wait() {
	wait "$(cat /tmp/recv.$1.pid)" 2>/dev/null
	res=$(tail -n 1 /tmp/recv.$1)
	echo "$res" | grep -q "lost 0, duplicated 0, reordered 0, corrupted 0"
}

test_messages_both_ways_intact_in_order() {
	two_stacks ns || return 1
	# each host's graph lives in its namespace: the initial one sees neither
	eq "$(fbctl -j list | jq length)" 0 "the initial namespace's graph is empty"
	eq "$($ON_A fbctl -j list | jq -c '[.[].name] | sort')" '["ca","ea","sa"]' "hostA sees its own blocks only"
	eq "$($ON_A fbctl -j show ea | jq -r .config.dev)" a0 "ea attached to a0 of hostA"
	N=2000
	RECV_IN=$ON_B
	recv_start sb b --count $N --check || return 1
	check $ON_A lana-nc send sa --count $N --size 200 --interval-us 100
	recv_wait b || fail "A->B: $res"
	info "A->B: $res"
	eq "$($ON_A fbctl -j show ca | jq -r .state.packets)" $N "ca counted the messages going out"
	eq "$($ON_B fbctl -j show cb | jq -r .state.packets)" $N "cb counted them coming in"
	RECV_IN=$ON_A
	recv_start sa a --count $N --check --nonblock || return 1
	check $ON_B lana-nc send sb --count $N --size 1000 --interval-us 100
	recv_wait a || fail "B->A (non-blocking, poll): $res"
	info "B->A: $res"
	# each namespace's engine counted its own packets: A sent N and received N, so did B
	eq "$($ON_A fbctl -j stats | jq -c '[.entered, .delivered, .transmitted]')" "[$((2 * N)),$N,$N]" "hostA's accounting"
	eq "$($ON_B fbctl -j stats | jq -c '[.entered, .delivered, .transmitted]')" "[$((2 * N)),$N,$N]" "hostB's accounting"
	eq "$(fbctl -j stats | jq -r .entered)" 0 "nothing counted in the initial namespace"
	# stdin mode: lines arrive as messages
	RECV_IN=$ON_B
	recv_start sb s --timeout 2 || return 1
	RECV_IN=""
	eq "$($ON_B fbctl -j show sb | jq -r .state.socket)" bound "show reports the bound socket"
	printf 'hello\nlana\n' | $ON_A lana-nc send sa
	wait "$(cat /tmp/recv.s.pid)"
	grep -qx hello /tmp/recv.s && grep -qx lana /tmp/recv.s || fail "stdin lines did not arrive: $(cat /tmp/recv.s)"
	# a socket binds to blocks of its own namespace only
	expect_err 1 EADDRNOTAVAIL "no block" lana-nc send sa --count 1 || return 1
	# host B goes away: its namespace takes b0 (and the veth pair) and its graph with it
	del_ns hostB
	for i in $(seq 50); do [ "$($ON_A fbctl -j show ea | jq -r .state.link)" = detached ] && break; sleep 0.1; done
	eq "$($ON_A fbctl -j show ea | jq -r .state.link)" detached "ea detached with the veth pair"
	eq "$($ON_A fbctl -j list | jq length)" 3 "hostA's graph stays"
	no_stacks
}

test_replace_on_the_path_loses_nothing() {
	two_stacks || return 1
	N=4000
	recv_start sb b --count $N --check || return 1
	lana-nc send sa --count $N --size 100 --interval-us 250 >/tmp/send.out 2>&1 &
	sender=$!
	i=0
	# replace the counters on both hosts while the stream flows; counts carry over
	while kill -0 $sender 2>/dev/null && [ $i -lt 20 ]; do
		fbctl add ca$i counter && fbctl replace $( [ $i = 0 ] && echo ca || echo ca$((i - 1)) ) ca$i || break
		fbctl add cb$i counter && fbctl replace $( [ $i = 0 ] && echo cb || echo cb$((i - 1)) ) cb$i || break
		i=$((i + 1))
	done
	wait $sender || fail "sender failed: $(cat /tmp/send.out)"
	recv_wait b || fail "stream with replaces: $res"
	[ $i -ge 2 ] || fail "only $i replaces during the stream"
	info "$((2 * i)) replaces during a $N-message stream: $res"
	eq "$(fbctl -j show cb$((i - 1)) | jq -r .state.packets)" $N "B's counter, carried over across replaces"
	no_stacks
}

test_socket_errors() {
	two_stacks || return 1
	expect_err 1 EDESTADDRREQ "not bound" lana-nc send - --count 1 || return 1
	expect_err 1 EADDRNOTAVAIL "no block" lana-nc send nosuch --count 1 || return 1
	expect_err 1 EPROTOTYPE "not a socket block" lana-nc send ca --count 1 || return 1
	expect_err 1 EMSGSIZE "" lana-nc send sa --count 1 --size 2000 || return 1
	lana-nc hold sa 30 >/tmp/hold.out 2>&1 &
	holder=$!
	for i in $(seq 50); do grep -q ready /tmp/hold.out && break; sleep 0.1; done
	expect_err 1 EADDRINUSE "another socket" lana-nc send sa --count 1 || return 1
	check fbctl unbind ca sa
	expect_err 1 EBUSY "a socket is bound" fbctl rm sa || return 1
	rmmod lana_core 2>/dev/null && fail "rmmod lana_core succeeded with an open socket"
	kill $holder
	wait $holder 2>/dev/null
	# the socket is gone: the block can be removed now
	check fbctl rm sa
	no_stacks
}

test_close_while_traffic_flows() {
	two_stacks || return 1
	for round in 1 2 3; do
		recv_start sb b --count 100000 --timeout 30 || return 1
		lana-nc send sa --count 20000 --size 64 >/dev/null 2>&1 &
		sender=$!
		sleep 0.3
		kill "$(cat /tmp/recv.b.pid)"	# the receiver goes away mid-stream
		wait $sender
	done
	# flush under a bound socket: the socket's sends then fail cleanly
	lana-nc hold sa 30 >/tmp/hold.out 2>&1 &
	holder=$!
	sleep 0.3
	check fbctl flush
	kill $holder
	wait $holder 2>/dev/null
	check two_stacks_again
	no_stacks
}

two_stacks_again() {
	fbctl add s2 socket && fbctl rm s2
}

# path_of BLOCK: the path state the socket block learned from its neighbours
path_of() {
	fbctl -j show "$1" | jq -r '"\(.state.path) \(.state.path_mtu)"'
}

# wait_path BLOCK STATE: until the block's path state starts with STATE (at most 5 s)
wait_path() {
	for i in $(seq 50); do
		case "$(path_of "$1")" in "$2"*) return 0 ;; esac
		sleep 0.1
	done
	fail "$1: path '$(path_of "$1")', expected '$2'"
}

test_socket_block_hears_its_paths_link_events() {
	two_stacks || return 1
	# a0 (ea's device) goes down: ea tells ca, which passes it on to sa; sends fail at once
	check ip link set a0 down
	wait_path sa "down" || return 1
	expect_err 1 ENETDOWN "" lana-nc send sa --count 1 || return 1
	eq "$(fbctl -j stats | jq -r .entered)" 0 "nothing entered the graph"
	# b0, a0's veth peer, lost its carrier: host B's socket block hears that through eb
	wait_path sb "down" || return 1
	check ip link set a0 up
	wait_path sa "up 1500" || return 1
	wait_path sb "up 1500" || return 1
	# the device's MTU bounds a message
	check ip link set a0 mtu 600
	wait_path sa "up 600" || return 1
	expect_err 1 EMSGSIZE "" lana-nc send sa --count 1 --size 700 || return 1
	recv_start sb b --count 1 --check || return 1
	check lana-nc send sa --count 1 --size 500
	recv_wait b || fail "a message within the MTU: $res"
	# the device goes away: that is a link going down too
	check ip link del a0
	wait_path sa "down" || return 1
	no_stacks
}

test_socket_filter_refusals_count_as_filtered() {
	two_stacks || return 1
	# B's application filters its socket (SO_ATTACH_FILTER): messages of 100 bytes or less
	# are refused. ld len; jgt #100 ? accept : drop
	recv_start sb b --count 10 --check --filter "4,128 0 0 0,37 0 1 100,6 0 0 65535,6 0 0 0" || return 1
	check lana-nc send sa --count 10 --size 40
	check lana-nc send sa --count 10 --size 300
	recv_wait b || fail "the 10 long messages: $res"
	eq "$(fbctl -j stats | jq -r .dropped.filtered)" 10 "refused by the socket's filter: filtered"
	eq "$(fbctl -j stats | jq -r .dropped.socket_full)" 0 "not counted as a full socket"
	eq "$(fbctl -j stats | jq -r .delivered)" 10 "delivered"
	eq "$(fbctl -j show sb | jq -r .stats.drops)" 10 "sb dropped them"
	no_stacks
}

test_link_events_cross_long_paths() {
	# A link event goes from block to block along the path. 3,000 blocks deep: passed on by
	# recursion this overflowed the kernel stack (16 KiB; ~250 bytes a block).
	load lana_core fb_eth fb_fwd || return 1
	ip link add a0 type veth peer name b0 || return 1
	check ip link set a0 up
	check ip link set b0 up
	N=3000
	{
		echo "add sa socket"
		echo "add ea eth"
		echo "set ea dev=a0"
		for i in $(seq 1 $N); do echo "add f$i fwd"; done
		echo "bind ea f1"
		for i in $(seq 2 $N); do echo "bind f$((i - 1)) f$i"; done
		echo "bind f$N sa"
	} >/tmp/longpath.txt
	check fbctl -b /tmp/longpath.txt
	eq "$(fbctl -j stats | jq -r .blocks)" $((N + 2)) "blocks"
	check ip link set a0 down
	wait_path sa "down" || return 1
	check ip link set a0 up
	wait_path sa "up 1500" || return 1
	check ip link set a0 mtu 700
	wait_path sa "up 700" || return 1
	check fbctl flush
	ip link del a0
}

test_family_taken_is_a_clear_error() {
	insmod /lib/modules/lana_core.ko sock_family=1 2>/tmp/insmod.err && fail "lana_core loaded on AF_UNIX's number"
	dmesg | grep -q "address family 1 is taken" || fail "no clear message: $(dmesg | tail -3)"
	grep -q '^lana_core ' /proc/modules && fail "lana_core loaded"
	check insmod /lib/modules/lana_core.ko sock_family=27
	eq "$(cat /sys/module/lana_core/parameters/sock_family)" 27 "family parameter"
	check fbctl add s socket
	lana-nc send - --count 1 2>&1 | grep -q EDESTADDRREQ || fail "AF 27 sockets do not work"
}
