# SPDX-License-Identifier: GPL-2.0
# Packets through the engine: pktgen injects frames into a device's receive path
# (xmit_mode netif_receive), an eth block feeds them into a graph, and every block's count
# must be exact.

# make_rx_dev NAME: a device for pktgen to inject into (a dummy: nothing else receives there)
make_rx_dev() {
	ip link add "$1" type dummy && ip link set "$1" up
}

# counter_packets NAME
counter_packets() {
	fbctl -j show "$1" | jq -r .state.packets
}

# core_field NAME FIELD: the engine's own per-block counters (packets, drops)
core_field() {
	fbctl -j show "$1" | jq -r ".stats.$2"
}

# counter_chain: rx0 -> eth in -> counter c1 -> fwd f1 -> fwd f2 -> counter c2 (the end)
counter_chain() {
	make_rx_dev rx0 || return 1
	check fbctl -b /dev/stdin <<-'CMDS'
	add in eth
	add c1 counter
	add f1 fwd
	add f2 fwd
	add c2 counter
	set in dev=rx0
	bind in c1
	bind c1 f1
	bind f1 f2
	bind f2 c2
	CMDS
}

test_chain_counts_are_exact() {
	load lana_core fb_eth fb_fwd fb_counter || return 1
	counter_chain || return 1
	N=20000
	pktgen_inject rx0 $N 64 || return 1
	eq "$(counter_packets c1)" $N "c1 packets"
	eq "$(counter_packets c2)" $N "c2 packets"
	# blocks see frames from the Ethernet header on: pkt_size 64 is 64 bytes here
	eq "$(fbctl -j show c1 | jq -r .state.bytes)" $((N * 64)) "c1 bytes"
	for b in in c1 f1 f2 c2; do
		eq "$(core_field $b packets)" $N "packets seen by $b"
	done
	# c2 is the end of the chain: it has no next block, so each packet is dropped there
	eq "$(core_field c2 drops)" $N "drops at the end of the chain"
	eq "$(core_field f1 drops)" 0 "no drops in the middle"
	eq "$(fbctl -j stats | jq -r .entered)" $N "engine: entered"
	eq "$(fbctl -j stats | jq -r .dropped.no_next)" $N "engine: end-of-chain drops"
	check_balance
	ip link del rx0
}

test_unclaimed_ethertype_goes_to_the_stack() {
	load lana_core fb_eth fb_counter || return 1
	make_rx_dev rx0 || return 1
	check fbctl add in eth
	check fbctl add c counter
	check fbctl set in dev=rx0 ethertype=0x88b5
	check fbctl bind in c
	# pktgen sends IPv4 (0x0800): not claimed, so LANA must leave it to the Linux stack
	rx0=$(cat /sys/class/net/rx0/statistics/rx_packets)
	pktgen_inject rx0 1000 || return 1
	eq "$(counter_packets c)" 0 "nothing claimed"
	eq "$(fbctl -j show in | jq -r .state.passed_to_stack)" 1000 "frames passed to the stack"
	check fbctl set in ethertype=0
	pktgen_inject rx0 1000 || return 1
	eq "$(counter_packets c)" 1000 "all claimed with ethertype=0"
	ip link del rx0
}

test_hop_limit_drops_and_counts() {
	load lana_core fb_eth fb_fwd || return 1
	make_rx_dev rx0 || return 1
	echo 8 >/sys/module/lana_core/parameters/max_hops
	check fbctl add in eth
	check fbctl set in dev=rx0
	prev=in
	for i in 1 2 3 4 5 6 7 8 9 10; do
		check fbctl add f$i fwd
		check fbctl bind $prev f$i
		prev=f$i
	done
	pktgen_inject rx0 500 || return 1
	echo 64 >/sys/module/lana_core/parameters/max_hops
	eq "$(fbctl -j stats | jq -r .dropped.hop_limit)" 500 "engine hop-limit drops"
	eq "$(fbctl -j stats | jq -r .max_hops)" 64 "max_hops read back"
	# in + f1..f7 are hops 1-8; the packets reach f8, where the limit strikes
	eq "$(core_field f7 packets)" 500 "f7 saw every packet"
	eq "$(core_field f7 drops)" 0 "f7 dropped none"
	eq "$(core_field f8 packets)" 500 "the packets reached f8"
	eq "$(core_field f8 drops)" 500 "f8 dropped them"
	eq "$(core_field f9 packets)" 0 "nothing got past the limit"
	ip link del rx0
}

# The compiled graph jumps over pass-through blocks (fwd) and counts the jump once; the
# blocks it skipped must still show exact counts, across republished graphs (counts of a
# retired snapshot are credited to its blocks), behind a fan-out and along a long chain.
test_skipped_blocks_count_exactly() {
	load lana_core fb_eth fb_fwd fb_counter fb_tee || return 1
	counter_chain || return 1
	N=3000
	pktgen_inject rx0 $N || return 1
	# a change republishes the graph right away: the old one's counts must not vanish
	check fbctl add f3 fwd
	check fbctl bind c2 f3
	for b in f1 f2; do
		eq "$(core_field $b packets)" $N "$b, skipped, counted"
		eq "$(core_field $b bytes)" $((N * 64)) "$b bytes"
	done
	pktgen_inject rx0 $N || return 1
	sleep 0.2 # a grace period: the next change credits the retired graphs to the blocks
	check fbctl unbind f1 f2
	eq "$(core_field f1 packets)" $((2 * N)) "f1 after two graphs"
	eq "$(core_field f2 packets)" $((2 * N)) "f2 after two graphs"
	eq "$(core_field f3 packets)" $N "f3, the new dead end"
	eq "$(core_field f3 drops)" $N "the dead end after skipped blocks is charged to the last"
	# f1 is a dead end now: its drops are its own
	pktgen_inject rx0 $N || return 1
	eq "$(core_field f1 packets)" $((3 * N)) "f1 counts on"
	eq "$(core_field f1 drops)" $N "f1 dropped what came after the unbind"
	eq "$(core_field f2 packets)" $((2 * N)) "f2 no more"
	eq "$(core_field c2 packets)" $((2 * N)) "c2 no more"
	# behind a fan-out the copies start at the blocks bound (no jump), and still count
	check fbctl -b /dev/stdin <<-'CMDS'
	add t tee
	add g1 fwd
	add g2 fwd
	add g3 fwd
	unbind in c1
	bind in t
	bind t g1
	bind t g2
	bind g2 g3
	CMDS
	pktgen_inject rx0 1000 || return 1
	for b in g1 g2 g3; do
		eq "$(core_field $b packets)" 1000 "$b behind the fan-out"
	done
	eq "$(core_field g1 drops)" 1000 "g1 ends its copies"
	eq "$(core_field g3 drops)" 1000 "g3 ends its copies"
	# a chain of 40: one jump, still counted at each block
	{
		echo "unbind in t"
		echo "add h1 fwd"
		echo "bind in h1"
		for i in $(seq 2 40); do
			echo "add h$i fwd"
			echo "bind h$((i - 1)) h$i"
		done
	} >/tmp/chain.txt
	check fbctl -b /tmp/chain.txt
	pktgen_inject rx0 1000 || return 1
	for i in 1 32 33 40; do
		eq "$(core_field h$i packets)" 1000 "h$i of 40"
	done
	eq "$(core_field h40 drops)" 1000 "h40 ends the chain"
	check_balance
	ip link del rx0
}

# Every block that leads into a chain of pass-through blocks gets its own jump over it: 120
# counters bound to one hub (a test type: pass-through, 256 may bind to it) in front of 50 fwd
# would want 120 x 51 = 6,120 jumped blocks. A namespace's jumps skip at most four times its
# blocks in all (172 blocks: 688, 13 whole jumps of 51 and one of 25, in slot order); the
# rest go block by block (the runtime view shows the fwd blocks called), counted the same.
test_jumps_stay_linear_in_the_blocks() {
	load lana_core fb_eth fb_fwd fb_counter fb_hub || return 1
	make_rx_dev rx0 || return 1
	{
		echo "add in eth"
		echo "add h hub"
		for i in $(seq 1 50); do echo "add f$i fwd"; done
		echo "bind h f1"
		for i in $(seq 2 50); do echo "bind f$((i - 1)) f$i"; done
		for i in $(seq 1 120); do
			echo "add c$i counter"
			echo "bind c$i h"
		done
		echo "set in dev=rx0"
		echo "bind in c120"
	} >/tmp/fanin.txt
	check fbctl -b /tmp/fanin.txt
	blocks=$(fbctl -j stats | jq -r .blocks)
	eq "$blocks" 172 "blocks"
	eq "$(fbctl -j stats | jq -r .jumped)" $((4 * blocks)) "blocks jumped, all jumps together"
	eq "$(fbctl -j stats | jq -r .jumps)" 14 "jumps compiled up to the budget"
	check fbctl engine runtime=on
	N=2000
	pktgen_inject rx0 $N || return 1
	eq "$(counter_packets c120)" $N "c120 packets"
	for b in h f1 f2 f25 f49 f50; do
		eq "$(core_field $b packets)" $N "$b packets"
		eq "$(fbctl -j stats --runtime | jq -r ".blocks[] | select(.name == \"$b\") | .calls")" \
			$N "$b called: past the budget, walked block by block"
	done
	eq "$(core_field f50 drops)" $N "f50 ends the chain"
	eq "$(fbctl -j stats | jq -r .dropped.no_next)" $N "engine: end-of-chain drops"
	# a change moves the traffic onto a compiled jump: counted exactly, no more calls
	check fbctl unbind in c120
	check fbctl bind in c1
	pktgen_inject rx0 $N || return 1
	eq "$(counter_packets c1)" $N "c1 packets"
	for b in h f25 f50; do
		eq "$(core_field $b packets)" $((2 * N)) "$b, walked then jumped"
	done
	eq "$(fbctl -j stats --runtime | jq -r '.blocks[] | select(.name == "f25") | .calls')" $N \
		"f25 jumped over, not called"
	eq "$(core_field f50 drops)" $((2 * N)) "f50 ends the chain"
	check fbctl engine runtime=off
	check_balance
	ip link del rx0
}

# Only a type that declares it (Block::TURNS) may send a packet back the way it came: the
# engine relies on it to prove walks cannot loop (and then stops counting hops).
test_only_declared_types_turn_packets() {
	load lana_core fb_eth fb_counter fb_turn || return 1
	make_rx_dev rx0 || return 1
	check fbctl -b /dev/stdin <<-'CMDS'
	add in eth
	add c counter
	add t turn
	set in dev=rx0
	bind in c
	bind c t
	CMDS
	N=1000
	tx0=$(cat /sys/class/net/rx0/statistics/tx_packets)
	pktgen_inject rx0 $N || return 1
	# in -> c -> t, turned: t -> c -> in, which transmits on rx0
	eq "$(counter_packets c)" $((2 * N)) "c saw each packet both ways"
	eq "$(core_field t packets)" $N "t turned each"
	eq "$(fbctl -j stats | jq -r .transmitted)" $N "every packet went back out"
	eq "$(($(cat /sys/class/net/rx0/statistics/tx_packets) - tx0))" $N "rx0 sent them"
	check_balance
	check fbctl flush
	check rmmod fb_turn
	# fb_dup's "fwd" asks to turn without declaring it: its packets go on their way
	load fb_dup || return 1
	check fbctl -b /dev/stdin <<-'CMDS'
	add in eth
	add d fwd
	add c counter
	set in dev=rx0
	bind in d
	bind d c
	CMDS
	pktgen_inject rx0 $N || return 1
	eq "$(counter_packets c)" $N "the packets went on to c"
	eq "$(fbctl -j stats | jq -r .transmitted)" $N "none more went back out"
	check_balance
	ip link del rx0
}

# counter_path: rx0 -> eth in -> counter c0 -> fwd sink (the end: drops, counted)
counter_path() {
	load lana_core fb_eth fb_fwd fb_counter || return 1
	make_rx_dev rx0 || return 1
	fbctl -b /dev/stdin <<-'CMDS' || fail "building the counter path"
	add in eth
	add c0 counter
	add sink fwd
	set in dev=rx0
	bind in c0
	bind c0 sink
	CMDS
}

test_replace_counter_carries_counts() {
	counter_path || return 1
	pktgen_inject rx0 3000 || return 1
	check fbctl add c1 counter
	check fbctl replace c0 c1
	eq "$(counter_packets c1)" 3000 "counts carried over"
	pktgen_inject rx0 2000 || return 1
	eq "$(counter_packets c1)" 5000 "counting goes on"
	# the engine's counts for the block go with its state, so the two agree
	eq "$(core_field c1 packets)" 5000 "engine counts carried over too"
	check fbctl add c2 counter
	check fbctl replace c1 c2 --drop-state
	eq "$(counter_packets c2)" 0 "--drop-state starts from zero"
	pktgen_inject rx0 700 || return 1
	eq "$(counter_packets c2)" 700 "new counts only"
	eq "$(core_field c2 packets)" 700 "engine counts start over with the state"
	eq "$(fbctl -j show in | jq -r '.ingress | join(",")')" c2 "eth now feeds c2"
	ip link del rx0
}

test_replace_of_a_skipped_block_carries_retired_counts() {
	# h1 (a pass-through block with state) is counted in its snapshot's jump counts; a later
	# publish retires that snapshot, and a replace must still carry what it counted
	load lana_core fb_eth fb_counter fb_hub || return 1
	make_rx_dev rx0 || return 1
	check fbctl -b /dev/stdin <<-'CMDS'
	add in eth
	add c counter
	add h1 hub
	add h2 hub
	set in dev=rx0
	bind in c
	bind c h1
	CMDS
	pktgen_inject rx0 1000 || return 1
	eq "$(core_field h1 packets)" 1000 "h1, jumped over"
	check fbctl add x counter
	sleep 0.2
	check fbctl replace h1 h2
	eq "$(core_field h2 packets)" 1000 "h2 carries h1's packets, counted in a retired snapshot"
	pktgen_inject rx0 500 || return 1
	eq "$(core_field h2 packets)" 1500 "h2 after 500 more"
	ip link del rx0
}

test_replace_under_traffic_loses_nothing() {
	counter_path || return 1
	N=200000
	pktgen_inject rx0 $N >/tmp/pktgen.log 2>&1 &
	pg=$!
	i=0
	replaces=0
	# replace the counter again and again while pktgen pushes packets through it
	while kill -0 $pg 2>/dev/null && [ $i -lt 200 ]; do
		fbctl add c$((i + 1)) counter || break
		fbctl replace c$i c$((i + 1)) || break
		i=$((i + 1))
		replaces=$((replaces + 1))
	done
	wait $pg || { cat /tmp/pktgen.log; fail "pktgen failed"; return 1; }
	info "$replaces replaces while $N packets flowed"
	[ $replaces -ge 3 ] || fail "only $replaces replaces happened during traffic"
	eq "$(counter_packets c$i)" $N "every packet counted exactly once across $replaces replaces"
	eq "$(core_field sink packets)" $N "sink saw every packet"
	eq "$(fbctl -j list | jq length)" 3 "old counters removed"
	ip link del rx0
}

test_device_removed_under_graph() {
	load lana_core fb_eth fb_counter || return 1
	make_rx_dev rx0 || return 1
	check fbctl add in eth
	check fbctl add c counter
	check fbctl set in dev=rx0
	check fbctl bind in c
	pktgen_inject rx0 100 || return 1
	check ip link del rx0
	eq "$(fbctl -j show in | jq -r .state.link)" detached "eth reports detached"
	# the rest of the graph stays usable: reattach to a new device
	make_rx_dev rx1 || return 1
	check fbctl set in dev=rx1
	pktgen_inject rx1 100 || return 1
	eq "$(counter_packets c)" 200 "counting after reattach"
	ip link del rx1
}

# An atomic batch of 1,000 changes committed while frames flow: 500 counters, each replacing
# the one before, their counts carried over at the commit. Every frame is counted exactly
# once by the counter in place (the last one ends with all of them) and ends in one fate.
test_batch_of_1000_changes_under_traffic_loses_and_duplicates_nothing() {
	counter_path || return 1
	for i in $(seq 500); do
		echo "add c$i counter"
		echo "replace c$((i - 1)) c$i"
	done >/tmp/big.txt
	N=500000
	pktgen_inject rx0 $N &
	pg=$!
	for i in $(seq 100); do
		[ "$(fbctl -j show c0 | jq -r .state.packets)" -gt 1000 ] 2>/dev/null && break
		sleep 0.1
	done
	check fbctl -b /tmp/big.txt
	kill -0 $pg 2>/dev/null || fail "pktgen had finished before the commit: not under traffic"
	wait $pg
	eq "$(fbctl -j list | jq -r '[.[].name] | sort | join(",")')" c500,in,sink "the file's graph"
	eq "$(fbctl -j show c500 | jq -r .state.packets)" $N "every frame counted once, across the commit"
	eq "$(fbctl -j show sink | jq -r .stats.packets)" $N "and reached the end of the path once"
	eq "$(fbctl -j stats | jq -r .dropped.no_next)" $N "where each ended, counted"
	ip link del rx0
}
