# SPDX-License-Identifier: GPL-2.0
# The control plane: every fbctl command's success path (read back with -j), and every error
# path with its errno and message, leaving the state unchanged.

setup_blocks() {
	load lana_core fb_fwd fb_counter fb_eth || return 1
}

# block_field NAME JQ_FILTER
block_field() {
	fbctl -j show "$1" | jq -r "$2"
}

test_types_lists_loaded_modules() {
	setup_blocks || return 1
	types=$(fbctl -j types | jq -r '[.[].type] | sort | join(",")')
	eq "$types" "counter,eth,fwd,socket" "registered types (socket is the core's own)"
	eq "$(fbctl -j types | jq -c '.[] | select(.type=="counter") | .keys')" \
		'[{"key":"reset","kind":"bool","help":"1 zeroes the counts"}]' "counter's keys, typed"
	fbctl types counter | grep -qx '    reset=bool: 1 zeroes the counts' || fail "fbctl types counter lists its key"
	check rmmod fb_eth
	eq "$(fbctl -j types | jq -r '[.[].type] | sort | join(",")')" "counter,fwd,socket" "types after rmmod fb_eth"
}

test_add_show_list_rm() {
	setup_blocks || return 1
	check fbctl add f1 fwd
	check fbctl add c1 counter
	eq "$(block_field f1 .type)" fwd "type of f1"
	eq "$(block_field c1 .state.packets)" 0 "fresh counter"
	eq "$(fbctl -j list | jq -r '[.[].name] | sort | join(",")')" "c1,f1" "list"
	id1=$(block_field f1 .id)
	id2=$(block_field c1 .id)
	[ "$id1" != "$id2" ] || fail "ids not unique: $id1 $id2"
	eq "$(fbctl -j types | jq -r '.[] | select(.type=="fwd") | .instances')" 1 "fwd instance count"
	check fbctl rm f1
	eq "$(fbctl -j list | jq -r '[.[].name] | join(",")')" "c1" "list after rm"
}

test_bind_unbind_directions() {
	setup_blocks || return 1
	check fbctl add a fwd
	check fbctl add b counter
	check fbctl bind a b
	eq "$(block_field a '.ingress | join(",")')" b "a passes ingress to b"
	eq "$(block_field b '.egress | join(",")')" a "b passes egress to a"
	eq "$(block_field a '.egress | length')" 0 "a has no egress next"
	eq "$(fbctl -j graph | jq -c .bindings)" '[{"from":"a","to":"b"}]' "graph bindings"
	fbctl graph --dot | grep -q '"a" -> "b"' || fail "dot output lacks the edge"
	check fbctl unbind a b
	eq "$(block_field a '.ingress | length')" 0 "a unbound"
	eq "$(block_field b '.egress | length')" 0 "b unbound"
}

test_set_properties() {
	setup_blocks || return 1
	check fbctl add c counter
	check fbctl set c reset=1
	check fbctl add e eth
	ip link add d0 type dummy || return 1
	check fbctl set e dev=d0 ethertype=0x88b5
	eq "$(block_field e .config.dev)" d0 "eth attached"
	eq "$(block_field e .config.ethertype)" 34997 "eth ethertype (0x88b5, a typed number)"
	ip link del d0
}

# What a block reports comes in two parts: `config`, exactly the keys `fbctl set` takes, and
# `state`, the figures it keeps; the engine's own figures are apart under `stats`. Numbers are
# typed, in JSON and on the wire.
test_show_splits_settings_from_figures() {
	setup_blocks || return 1
	ip link add d1 type dummy || return 1
	check fbctl add e eth
	check fbctl set e dev=d1 ethertype=0x88b5
	check fbctl add c counter
	eq "$(block_field e '.config | keys | sort | join(",")')" "dev,dst,ethertype,peer" \
		"eth's config: its type's keys, nothing else"
	eq "$(fbctl -j types | jq -r '.[] | select(.type=="eth") | [.keys[].key] | sort | join(",")')" \
		"dev,dst,ethertype,peer" "the keys eth takes"
	eq "$(block_field e '.state | keys | sort | join(",")')" link,passed_to_stack "link and passed_to_stack are figures"
	eq "$(block_field e '.state.passed_to_stack | type')" number "typed number"
	eq "$(block_field c '.config | length')" 0 "a counter reports no setting (reset is an action)"
	eq "$(block_field c '[.state.packets, .state.bytes] | map(type) | join(",")')" number,number \
		"the counter's counts are numbers"
	eq "$(block_field c '.stats | keys | join(",")')" bytes,calls,drops,packets,runtime_ns \
		"the engine's figures, apart"
	# Text: settings and figures labelled; the engine's line only with -s, as `ip -s`.
	fbctl show e >/tmp/show.txt || fail "fbctl show e"
	grep -q '^  config: dev d1  ethertype 0x88b5  dst any  peer broadcast$' /tmp/show.txt ||
		fail "config line: $(cat /tmp/show.txt)"
	grep -q '^  state:  link attached  passed_to_stack 0$' /tmp/show.txt || fail "state line: $(cat /tmp/show.txt)"
	grep -q 'engine:' /tmp/show.txt && fail "engine figures without -s"
	fbctl -s show c | grep -q '^  engine: packets 0  bytes 0  drops 0' || fail "fbctl -s show: engine line"
	fbctl -s show c | grep -q '^  state:  packets 0  bytes 0$' || fail "fbctl -s show: counter's own line"
	fbctl list | head -1 | grep -q PACKETS && fail "fbctl list: counts without -s"
	fbctl -s list | head -1 | grep -q 'PACKETS.*BYTES.*DROPS' || fail "fbctl -s list: counts"
	ip link del d1
}

test_batch_file() {
	setup_blocks || return 1
	cat >/tmp/stack.txt <<-'CMDS'
	# a small stack
	add b1 fwd
	add b2 counter   # trailing comment
	bind b1 b2
	CMDS
	check fbctl -b /tmp/stack.txt
	eq "$(block_field b1 '.ingress | join(",")')" b2 "batch bound b1 -> b2"
}

test_errors_unknown_type_duplicate_missing() {
	setup_blocks || return 1
	expect_err 1 ENOENT "unknown FB type 'nosuch'" fbctl add x nosuch || return 1
	check fbctl add x fwd
	expect_err 1 EEXIST "named 'x' exists already" fbctl add x counter || return 1
	expect_err 1 ENOENT "no functional block named 'y'" fbctl rm y || return 1
	expect_err 1 ENOENT "no functional block named 'y'" fbctl bind x y || return 1
	expect_err 1 ENOENT "no functional block named 'y'" fbctl show y || return 1
	expect_err 1 EINVAL "bad name" fbctl add 'bad/name' fwd || return 1
	expect_err 2 "" "must be 1 to 31 characters" fbctl add aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa fwd || return 1
	eq "$(fbctl -j list | jq -r '[.[].name] | join(",")')" x "state unchanged by the errors"
	eq "$(block_field x .type)" fwd "x keeps its type"
}

test_errors_bind_limits_and_cycles() {
	setup_blocks || return 1
	for b in a b c; do check fbctl add $b fwd; done
	check fbctl bind a b
	expect_err 1 EEXIST "bound to 'b' already" fbctl bind a b || return 1
	expect_err 1 ENOSPC "at most 1 block" fbctl bind a c || return 1
	check fbctl bind b c
	expect_err 1 ELOOP "cycle" fbctl bind c a || return 1
	expect_err 1 ELOOP "itself" fbctl bind a a || return 1
	expect_err 1 ENOENT "is not bound to" fbctl unbind c a || return 1
	expect_err 1 EBUSY "unbind it first" fbctl rm b || return 1
	eq "$(fbctl -j graph | jq -c '[.bindings[] | .from + ">" + .to] | sort')" '["a>b","b>c"]' "graph unchanged"
}

test_errors_set_keys_and_values() {
	setup_blocks || return 1
	check fbctl add c counter
	check fbctl add e eth
	expect_err 1 EINVAL "has no key 'colour'" fbctl set c colour=red || return 1
	expect_err 1 EINVAL "bad value for 'reset'" fbctl set c reset=maybe || return 1
	expect_err 1 EINVAL "bad value for 'ethertype'" fbctl set e ethertype=0x1000000000 || return 1
	expect_err 1 EINVAL "16-bit" fbctl set e ethertype=0x10000 || return 1
	expect_err 1 ENODEV "no such network device" fbctl set e dev=nosuch0 || return 1
	expect_err 2 "" "is not KEY=VALUE" fbctl set c reset || return 1
	# all or nothing: a bad key next to a good one changes nothing
	expect_err 1 EINVAL "has no key" fbctl set e ethertype=0x88b5 bogus=1 || return 1
	eq "$(block_field e .config.ethertype)" 0 "ethertype unchanged"
	eq "$(block_field e .state.link)" detached "eth still detached"
	eq "$(block_field e '.config | has("dev")')" false "a detached eth block has no device setting"
}

test_errors_replace() {
	setup_blocks || return 1
	check fbctl add c1 counter
	check fbctl add f1 fwd
	check fbctl add f0 fwd
	check fbctl bind f0 c1
	expect_err 1 EINVAL "--drop-state" fbctl replace c1 f1 || return 1
	eq "$(block_field f0 '.ingress | join(",")')" c1 "graph unchanged after the refused replace"
	check fbctl add f2 fwd
	check fbctl bind f1 f2
	expect_err 1 EBUSY "must be unbound" fbctl replace c1 f1 || return 1
	expect_err 1 EINVAL "with itself" fbctl replace c1 c1 || return 1
	check fbctl add e eth
	check fbctl add e2 eth
	expect_err 1 EOPNOTSUPP "cannot be replaced" fbctl replace e e2 || return 1
}

test_replace_keeps_bindings() {
	setup_blocks || return 1
	for b in a m z; do check fbctl add $b fwd; done
	check fbctl add m2 fwd
	check fbctl bind a m
	check fbctl bind m z
	check fbctl replace m m2
	eq "$(block_field a '.ingress | join(",")')" m2 "a now passes to m2"
	eq "$(block_field m2 '.ingress | join(",")')" z "m2 passes to z"
	eq "$(block_field m2 '.egress | join(",")')" a "m2 passes egress to a"
	eq "$(block_field z '.egress | join(",")')" m2 "z passes egress to m2"
	fbctl show m >/dev/null 2>&1 && fail "old block still exists"
	return 0
}

test_errors_non_root_gets_eperm() {
	setup_blocks || return 1
	check fbctl add keep fwd
	expect_err 1 EPERM "" su nobody -s /bin/sh -c "fbctl add x fwd" || return 1
	expect_err 1 EPERM "" su nobody -s /bin/sh -c "fbctl rm keep" || return 1
	expect_err 1 EPERM "" su nobody -s /bin/sh -c "fbctl flush" || return 1
	# reading is allowed, as with ip link show
	su nobody -s /bin/sh -c "fbctl -j list" >/tmp/l.json || fail "unprivileged list failed"
	eq "$(jq -r '[.[].name] | join(",")' /tmp/l.json)" keep "unchanged and readable"
}

test_errors_malformed_batch() {
	setup_blocks || return 1
	printf 'add b1 fwd\nbind b1\nadd b2 fwd\n' >/tmp/bad.txt
	expect_err 2 "" "/tmp/bad.txt:2:" fbctl -b /tmp/bad.txt || return 1
	# nothing ran: the file is checked before anything is sent
	eq "$(fbctl -j list)" "[]" "no block created by a malformed batch"
	printf 'add b1 fwd\nadd b1 fwd\nadd b3 fwd\n' >/tmp/dup.txt
	expect_err 1 EEXIST "/tmp/dup.txt:2: a functional block named 'b1' exists already" fbctl -b /tmp/dup.txt || return 1
	grep -q "nothing applied" /tmp/expect.err || fail "the error does not say nothing was applied"
	eq "$(fbctl -j list)" "[]" "a batch is all or nothing: line 1 did not stay"
}

# the graph as JSON, with what a batch could change (names, types, bindings, settings)
graph_state() {
	fbctl -j list | jq -S -c 'map({name, type, ingress, egress, config})'
}

test_batch_is_one_transaction() {
	load lana_core fb_eth fb_fwd fb_counter fb_bpf || return 1
	ip link add rx0 type dummy && ip link set rx0 up
	check fbctl -b /dev/stdin <<-'CMDS'
	add in eth
	add c counter
	add f bpf
	add sink fwd
	set in dev=rx0
	set f filter=udp
	bind in c
	bind c f
	bind f sink
	CMDS
	before=$(graph_state)
	g=$(fbctl -j stats | jq -r .generation)
	fbctl -j monitor >/tmp/mon.json 2>/dev/null &
	mon=$!
	sleep 0.3
	# 49 good lines of every kind (a reload: flush, then a new graph), then a bad one
	{
		echo "flush"
		for i in $(seq 10); do echo "add n$i counter"; done
		for i in $(seq 9); do echo "bind n$i n$((i + 1))"; done
		for i in $(seq 8); do echo "set n$i reset=1"; done
		echo "add in eth"
		echo "set in dev=rx0"
		echo "add f2 bpf"
		echo "set f2 filter=tcp"
		echo "bind in n1"
		echo "unbind n9 n10"
		echo "rm n10"
		echo "add r counter"
		echo "replace n9 r"
		echo "bind r f2"
		for i in $(seq 39 49); do echo "add x$i fwd"; done
		echo "bind x49 nosuch"
		echo "add never fwd"
	} >/tmp/t.txt
	eq "$(grep -n 'nosuch' /tmp/t.txt | cut -d: -f1)" 50 "the bad line is line 50"
	expect_err 1 ENOENT "/tmp/t.txt:50: no functional block named 'nosuch'" fbctl -b /tmp/t.txt || return 1
	eq "$(graph_state)" "$before" "the graph is exactly as it was"
	eq "$(fbctl -j stats | jq -r .generation)" "$g" "the generation did not move"
	eq "$(fbctl -j show in | jq -r .config.dev)" rx0 "the eth block kept its device"
	# the same file without its bad line: all of it, at once
	grep -v nosuch /tmp/t.txt >/tmp/t2.txt
	check fbctl -b /tmp/t2.txt
	eq "$(fbctl -j list | jq -r '[.[].name] | sort | join(",")')" \
		"f2,in,n1,n2,n3,n4,n5,n6,n7,n8,never,r,x39,x40,x41,x42,x43,x44,x45,x46,x47,x48,x49" "the file's graph"
	eq "$(fbctl -j show in | jq -r .config.dev)" rx0 "the new eth block holds the device"
	eq "$(fbctl -j show f2 | jq -r .config.filter)" tcp "the settings applied at the commit"
	eq "$(fbctl -j show n8 | jq -r '.ingress | join(",")')" r "r took n9's place"
	eq "$(fbctl -j stats | jq -r .generation)" "$((g + 1))" "one commit, one generation"
	kill $mon
	wait $mon 2>/dev/null
	# the failed file announced nothing; the good one each of its changes, in order
	eq "$(jq -r .event /tmp/mon.json | head -n 1)" flush "the first event is the file's first line"
	eq "$(wc -l </tmp/mon.json)" "$(wc -l </tmp/t2.txt)" "one event per line of the committed file"
	# a device held by a block the file does not remove stays taken: refused at the check
	printf 'add e2 eth\nset e2 dev=rx0\n' >/tmp/t3.txt
	expect_err 1 EBUSY "/tmp/t3.txt:2:" fbctl -b /tmp/t3.txt || return 1
	eq "$(fbctl -j list | jq -r 'map(select(.name == "e2")) | length')" 0 "and e2 was not added"
	# settings of one file that would collide at the commit are refused at their check
	ip link add rx1 type dummy && ip link add rx2 type dummy
	printf 'add a eth\nadd b eth\nset a dev=rx1\nset b dev=rx1\n' >/tmp/t4.txt
	expect_err 1 EBUSY "/tmp/t4.txt:4:" fbctl -b /tmp/t4.txt || return 1
	printf 'add a eth\nset a dev=rx1\nset a dev=rx2\n' >/tmp/t5.txt
	expect_err 1 EBUSY "/tmp/t5.txt:3:" fbctl -b /tmp/t5.txt || return 1
	# a block set and then removed by the same file: refused, nothing applied
	printf 'set n1 reset=1\nunbind in n1\nunbind n1 n2\nrm n1\n' >/tmp/t6.txt
	expect_err 1 EINVAL "/tmp/t6.txt:1: 'n1' is set, then removed by the batch" fbctl -b /tmp/t6.txt || return 1
	eq "$(fbctl -j show in | jq -r '.ingress | join(",")')" n1 "the refused file left n1 bound"
	# settings and carried state apply in the order of the lines
	pktgen_inject rx0 100 >/dev/null || return 1
	eq "$(fbctl -j show n1 | jq -r .state.packets)" 100 "n1 counted 100 frames"
	printf 'add m1 counter\nreplace n1 m1\nset m1 reset=1\n' >/tmp/t7.txt
	check fbctl -b /tmp/t7.txt
	eq "$(fbctl -j show m1 | jq -r .state.packets)" 0 "reset after the replace: 0"
	pktgen_inject rx0 10 >/dev/null || return 1
	printf 'add m2 counter\nset m2 reset=1\nreplace m1 m2\n' >/tmp/t8.txt
	check fbctl -b /tmp/t8.txt
	eq "$(fbctl -j show m2 | jq -r .state.packets)" 10 "reset before the replace: m1's 10 carried"
	ip link del rx0
	ip link del rx1
	ip link del rx2
}

test_rmmod_refused_with_live_instances() {
	setup_blocks || return 1
	check fbctl add c counter
	rmmod fb_counter 2>/dev/null && fail "rmmod fb_counter succeeded with a live instance"
	check fbctl rm c
	check rmmod fb_counter
}

test_netlink_fuzz_fixed_seeds() {
	setup_blocks || return 1
	load fb_tee fb_bpf || return 1
	ip link add rx0 type dummy
	for seed in 1 2 3; do
		out=$(lana-nlfuzz $seed 4000) || { echo "$out"; fail "fuzzer seed $seed"; return 1; }
		info "$out"
	done
	# the graph is still usable and removable
	check fbctl flush
	check fbctl add after fwd
	ip link del rx0
}

test_expect_gen_lets_one_of_two_committers_win() {
	load lana_core fb_fwd || return 1
	g=$(fbctl -j stats | jq -r .generation)
	check fbctl --expect-gen "$g" add a fwd
	expect_err 1 ESTALE "changed since generation $g" fbctl --expect-gen "$g" add b fwd || return 1
	eq "$(fbctl -j list | jq -r '[.[].name] | join(",")')" a "a refused change changed nothing"
	# engine settings are the machine's: there is no generation to expect
	expect_err 2 "" "goes with a change of the graph" fbctl --expect-gen "$g" engine max_hops=32 || return 1
	eq "$(cat /sys/module/lana_core/parameters/max_hops)" 64 "the refused setting changed nothing"
	# two committers of a batch each, both from the same generation: one wins whole, the other
	# is refused at its first line and changes nothing
	g=$(fbctl -j stats | jq -r .generation)
	printf 'add x1 fwd\nadd x2 fwd\nbind x1 x2\n' >/tmp/b1
	printf 'add y1 fwd\nadd y2 fwd\nbind y1 y2\n' >/tmp/b2
	fbctl --expect-gen "$g" -b /tmp/b1 2>/tmp/e1 &
	p1=$!
	fbctl --expect-gen "$g" -b /tmp/b2 2>/tmp/e2 &
	p2=$!
	r1=0 r2=0
	wait $p1 || r1=$?
	wait $p2 || r2=$?
	names=$(fbctl -j list | jq -r '[.[].name] | sort | join(",")')
	if [ $r1 = 0 ] && [ $r2 = 1 ]; then
		eq "$names" a,x1,x2 "the first committer's file, whole"
		grep -q "/tmp/b2: the graph changed since generation $g .*(ESTALE)" /tmp/e2 ||
			fail "loser's error: $(cat /tmp/e2)"
	elif [ $r1 = 1 ] && [ $r2 = 0 ]; then
		eq "$names" a,y1,y2 "the second committer's file, whole"
		grep -q "/tmp/b1: the graph changed since generation $g .*(ESTALE)" /tmp/e1 ||
			fail "loser's error: $(cat /tmp/e1)"
	else
		fail "exits $r1 and $r2: expected one 0 and one 1 ($(cat /tmp/e1 /tmp/e2))"
	fi
	# a chain follows its own changes: a 3-line file from the current generation goes through
	printf 'add z1 fwd\nadd z2 fwd\nbind z1 z2\n' |
		check fbctl --expect-gen "$(fbctl -j stats | jq -r .generation)" -b -
	eq "$(fbctl -j show z1 | jq -r '.ingress | join(",")')" z2 "the chained batch applied"
	# reads take no --expect-gen
	expect_err 2 "" "goes with a change" fbctl --expect-gen 1 list || return 1
	# no strerror text that says something else than the kernel's message
	expect_err 1 ELOOP "cannot bind 'a' to itself" fbctl bind a a || return 1
	grep -q "symbolic links" /tmp/expect.err && fail "misleading strerror tail: $(cat /tmp/expect.err)"
	return 0
}

test_fbctl_conventions() {
	load lana_core fb_fwd fb_counter fb_eth || return 1
	check fbctl add a fwd
	# errors as JSON under -j (on standard error), with the errno and exit code
	rc=0
	fbctl -j rm nosuch 2>/tmp/err.json || rc=$?
	eq "$rc" 1 "refused: exit 1"
	eq "$(jq -r .error.errno /tmp/err.json)" ENOENT "errno in the JSON error"
	jq -e '.error.message | test("nosuch")' /tmp/err.json >/dev/null || fail "message: $(cat /tmp/err.json)"
	# -p pretty-prints
	[ "$(fbctl -j -p list | wc -l)" -gt 3 ] || fail "-p printed one line"
	eq "$(fbctl -j list | wc -l)" 1 "without -p: one line"
	# one type and its keys
	eq "$(fbctl -j types fwd | jq -r '[.[].type] | join(",")')" fwd "types TYPE"
	expect_err 1 ENOENT "no block type 'nosuch'" fbctl types nosuch || return 1
	# name limits stated before anything is sent
	expect_err 2 "" "must be 1 to 31 characters" fbctl add abcdefghijklmnopqrstuvwxyz0123456 fwd || return 1
	# help for every command and argument
	fbctl help set | grep -q "KEY=VALUE" || fail "no help for set"
	# every binary says its version
	for b in fbctl lana-nc lana-pcount lana-nlfuzz lana-bpfc; do
		$b --version | grep -q "[0-9]\.[0-9]" || fail "$b --version"
	done
	# completions and the man page, generated from the CLI definition
	grep -q monitor /usr/share/bash-completion/completions/fbctl || fail "no bash completion"
	grep -q '^\.TH fbctl' /usr/share/man/man1/fbctl.1 || fail "no man page"
	# ... and the words only the kernel knows: block names, types, a block's keys
	grep -q "complete -F _fbctl_lana" /usr/share/bash-completion/completions/fbctl ||
		fail "the bash completion does not complete block names"
	check fbctl add cc counter
	check fbctl add ee eth
	eq "$(fbctl complete names | sort | tr '\n' ' ')" "a cc ee " "completion: block names"
	eq "$(fbctl complete types | sort | tr '\n' ' ')" "counter eth fwd socket " "completion: types"
	eq "$(fbctl complete keys ee | tr '\n' ' ')" "dev= ethertype= dst= peer= " "completion: a block's keys"
	eq "$(fbctl complete keys counter)" "reset=" "completion: a type's keys"
}
