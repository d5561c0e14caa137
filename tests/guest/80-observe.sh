# SPDX-License-Identifier: GPL-2.0
# Seeing what the engine does: the per-block runtime view (fbctl stats --runtime, behind a
# static key), engine settings over netlink (fbctl engine), and the lana:lana_drop trace event.

make_rx_dev() {
	ip link add "$1" type dummy && ip link set "$1" up
}

# runtime_of NAME FIELD: a block's figure in fbctl -j stats --runtime
runtime_of() {
	fbctl -j stats --runtime | jq -r ".blocks[] | select(.name == \"$1\") | .$2"
}

# rx -> in (eth) -> c1 (counter) -> f1 (fwd) -> c2 (counter, the end: drops, counted)
counter_fwd_path() {
	load lana_core fb_eth fb_fwd fb_counter || return 1
	make_rx_dev rx0 || return 1
	fbctl -b /dev/stdin <<-'CMDS' || fail "building the path"
	add in eth
	add c1 counter
	add f1 fwd
	add c2 counter
	set in dev=rx0
	bind in c1
	bind c1 f1
	bind f1 c2
	CMDS
}

test_runtime_view_counts_calls_of_called_blocks() {
	counter_fwd_path || return 1
	eq "$(fbctl -j stats | jq -r .runtime)" false "the view starts off"
	pktgen_inject rx0 1000 || return 1
	eq "$(runtime_of c1 calls)" 0 "off: no calls counted"
	check fbctl engine runtime=on
	eq "$(fbctl -j stats | jq -r .runtime)" true "the view is on"
	pktgen_inject rx0 2000 || return 1
	eq "$(runtime_of c1 calls)" 2000 "c1 called for every packet"
	eq "$(runtime_of c2 calls)" 2000 "c2 called for every packet"
	# fwd keeps the default receive: the engine forwards for it and never calls it
	eq "$(runtime_of f1 calls)" 0 "pass-through f1 never called"
	eq "$(runtime_of f1 packets)" 3000 "f1 still counts every packet"
	[ "$(runtime_of c1 runtime_ns)" -gt 0 ] || fail "c1 took no time"
	fbctl stats --runtime | grep -q "^c1 " || fail "no text row for c1"
	check fbctl engine runtime=off
	pktgen_inject rx0 500 || return 1
	eq "$(runtime_of c1 calls)" 2000 "off again: counts kept, none added"
	check fbctl engine runtime=on
	eq "$(runtime_of c1 calls)" 0 "on again: counts start from zero"
	check fbctl engine runtime=off
	check_balance
	ip link del rx0
}

test_engine_settings_over_netlink() {
	load lana_core || return 1
	check fbctl engine max_hops=9
	eq "$(cat /sys/module/lana_core/parameters/max_hops)" 9 "the parameter follows"
	eq "$(fbctl -j stats | jq -r .max_hops)" 9 "stats shows it"
	expect_err 2 "" "max_hops takes 1 to 4096" fbctl engine max_hops=0 || return 1
	expect_err 2 "" "max_hops takes 1 to 4096" fbctl engine max_hops=4097 || return 1
	expect_err 2 "" "runtime takes on or off" fbctl engine runtime=maybe || return 1
	expect_err 2 "" "settings are max_hops" fbctl engine mtu=1 || return 1
	eq "$(fbctl -j stats | jq -r .max_hops)" 9 "refusals changed nothing"
	# the kernel checks too (sysfs and load time go through the same range)
	echo 0 >/sys/module/lana_core/parameters/max_hops 2>/dev/null && fail "sysfs took max_hops=0"
	echo 5000 >/sys/module/lana_core/parameters/max_hops 2>/dev/null && fail "sysfs took 5000"
	eq "$(cat /sys/module/lana_core/parameters/max_hops)" 9 "sysfs refusals changed nothing"
	# a batch file is one transaction of graph changes: engine settings are not part of it
	expect_err 2 "" "-:1: a batch is one transaction of changes to the graph" \
		sh -c "printf 'engine max_hops=64\n' | fbctl -b -" || return 1
	eq "$(cat /sys/module/lana_core/parameters/max_hops)" 9 "nothing set from the refused batch"
}

test_drops_are_traced_with_block_and_reason() {
	ev=/sys/kernel/tracing/events/lana/lana_drop
	counter_fwd_path || return 1
	[ -d $ev ] || { fail "no trace event $ev"; return 1; }
	echo >/sys/kernel/tracing/trace
	echo 1 >$ev/enable
	pktgen_inject rx0 20 || return 1
	echo 0 >$ev/enable
	n=$(grep -c "lana_drop: .* block=c2 id=[0-9]* type=counter reason=no_next" /sys/kernel/tracing/trace)
	eq "$n" 20 "one event per drop, naming the block, its type and the reason"
	eq "$(grep -c lana_drop /sys/kernel/tracing/trace)" 20 "no other drops"
	# off again: no more events
	echo >/sys/kernel/tracing/trace
	pktgen_inject rx0 20 || return 1
	eq "$(grep -c lana_drop /sys/kernel/tracing/trace)" 0 "disabled: nothing traced"
	check_balance
	ip link del rx0
}

# wait_grep FILE PATTERN WHAT: wait up to 5 s for a line matching PATTERN in FILE (a
# monitor's output), fail naming WHAT if none comes
wait_grep() {
	local i=0
	until grep -q "$2" "$1"; do
		i=$((i + 1))
		[ $i -lt 50 ] || { fail "$3"; return 1; }
		sleep 0.1
	done
}

# start_monitor FILE [ARGS]: fbctl monitor into FILE in the background ($mon: its pid), once
# it demonstrably listens (a probe change reached it)
start_monitor() {
	local f=$1 i=0
	shift
	fbctl "$@" monitor >"$f" 2>"$f.err" &
	mon=$!
	until grep -q probe "$f"; do
		fbctl add probe fwd >/dev/null && fbctl rm probe >/dev/null
		i=$((i + 1))
		[ $i -lt 50 ] || { cat "$f.err" >&2; fail "monitor never saw a change"; return 1; }
		sleep 0.1
	done
}

test_monitor_sees_every_change_once_in_order() {
	load lana_core fb_eth fb_fwd fb_counter || return 1
	make_rx_dev rx0 || return 1
	start_monitor /tmp/mon.json -j || return 1
	m1=$mon
	start_monitor /tmp/mon.txt || { kill $m1; return 1; }
	m2=$mon
	check fbctl -b /dev/stdin <<-'CMDS'
	add in eth
	add c1 counter
	add c2 counter
	add f1 fwd
	set in dev=rx0 ethertype=0x88b5
	bind in c1
	bind c1 f1
	replace c1 c2 --drop-state
	unbind c2 f1
	rm f1
	CMDS
	check fbctl engine runtime=on
	check fbctl engine runtime=off
	# a refused command changes nothing and announces nothing
	fbctl rm nosuch 2>/dev/null && fail "rm of a missing block succeeded"
	ip link del rx0 # the eth block lets go of its device: a link event
	wait_grep /tmp/mon.json '"event":"link".*"attached":false' "no link event for the deleted device"
	check fbctl flush
	wait_grep /tmp/mon.json '"event":"flush"' "no flush event (JSON monitor)"
	wait_grep /tmp/mon.txt '^flush ' "no flush event (text monitor)"
	kill $m1 $m2
	wait $m1 $m2 2>/dev/null
	jq -r 'select(.name != "probe" and .event != "link") |
		[.event, .name // "-", .peer // .type // "-"] | join(" ")' /tmp/mon.json >/tmp/seen
	cat >/tmp/want <<-'EOF2'
	add in eth
	add c1 counter
	add c2 counter
	add f1 fwd
	set in -
	bind in c1
	bind c1 f1
	replace c1 c2
	unbind c2 f1
	rm f1 -
	engine - -
	engine - -
	flush - -
	EOF2
	diff /tmp/want /tmp/seen >&2 || fail "events differ from the changes made"
	jq -e 'select(.event == "set") | .props == ["dev=rx0", "ethertype=0x88b5"]' /tmp/mon.json \
		>/dev/null || fail "set event without its properties"
	jq -e 'select(.event == "replace") | .drop_state == true' /tmp/mon.json >/dev/null ||
		fail "replace event without --drop-state"
	# generations never go back; the batch was one transaction: one generation for all of it
	jq -r 'select(.event != "link") | .generation' /tmp/mon.json >/tmp/gens
	awk 'NR > 1 && $1 < prev { exit 1 } { prev = $1 }' /tmp/gens ||
		fail "generations go back: $(tr '\n' ' ' </tmp/gens)"
	eq "$(jq -r 'select(.name != "probe" and .event != "link" and .event != "engine" and .event != "flush") | .generation' /tmp/mon.json | sort -u | wc -l)" 1 \
		"the batch's ten changes share one generation"
	grep -q "^bind c1 f1  \[generation [0-9]*\]$" /tmp/mon.txt || fail "no text line for bind"
	grep -q "^link in detached" /tmp/mon.txt || fail "no text line for the detach"
	# changes carry what admins sent: listening takes CAP_NET_ADMIN, as changing does
	expect_err 1 EPERM "subscribing" su nobody -s /bin/sh -c "fbctl monitor" || return 1
	# a large set (a long filter) is announced whole, not lost
	load fb_bpf || return 1
	start_monitor /tmp/mon2.json -j || return 1
	expr="ip and ($(seq 1 200 | sed 's/.*/udp port &/' | paste -sd'|' | sed 's/|/ or /g'))"
	check fbctl add flt bpf
	check fbctl set flt "filter=$expr"
	wait_grep /tmp/mon2.json '"event":"set","name":"flt"' "the long set was not announced"
	kill $mon
	wait $mon 2>/dev/null
	grep -q '"event":"lost"' /tmp/mon2.json && fail "events lost: $(cat /tmp/mon2.json)"
	[ "$(jq -r 'select(.event == "set") | .props | map(length) | add' /tmp/mon2.json)" -gt 4000 ] ||
		fail "the set event lacks its long properties"
	# the largest sets there are, announced whole: 8 settings of 7.9 KiB from fbctl (one
	# netlink attribute holds 64 KiB: a 9th is refused before sending, exit 2), then 8 more
	# as typed values with them (typed-edges' big-event): an event of ~127 KiB
	local prog="660$(printf ',6 0 0 65535%.0s' $(seq 660))" i
	start_monitor /tmp/mon3.json -j || return 1
	set --
	for i in $(seq 8); do set -- "$@" "filter-ddd=$prog"; done
	check fbctl set flt "$@"
	expect_err 2 "" "exceed 64 KiB" fbctl set flt "$@" "filter-ddd=$prog" || return 1
	lana-nlfuzz typed-edges flt >/tmp/edges3.out
	grep -qx "big-event 0" /tmp/edges3.out || fail "big-event: $(cat /tmp/edges3.out)"
	wait_grep /tmp/mon3.json '"props":\["filter-ddd=[^"]*"\(,"filter-ddd=[^"]*"\)\{15\}\]' \
		"the 127 KiB set event was not announced whole"
	kill $mon
	wait $mon 2>/dev/null
	grep -q '"event":"lost"' /tmp/mon3.json && fail "events lost: $(head -c 300 /tmp/mon3.json)"
	eq "$(jq -r 'select(.event == "set") | .props | length' /tmp/mon3.json | sort -n | tail -1)" 16 \
		"the largest event holds its 16 settings"
	eq "$(jq -r 'select(.event == "set" and (.props | length) == 8) | .props | map(length) | add' /tmp/mon3.json)" \
		$((8 * (11 + ${#prog}))) "fbctl's 8 settings, whole"
	return 0
}

# The kernel's own netlink CLI (tools/net/ynl) reads the graph by LANA's YNL spec alone:
# typed numbers (no "k=v" strings to parse), settings apart from figures, and the change
# events, with no fbctl involved. Its figures agree with fbctl's.
test_ynl_reads_the_graph_and_events_by_the_spec() {
	counter_fwd_path || return 1
	pktgen_inject rx0 300 || return 1
	ynl --family lana --dump get --output-json >/tmp/ynl-get.json || fail "ynl --dump get"
	local in='.[] | select(.name == "in")' c1='.[] | select(.name == "c1")'
	eq "$(jq -c "$in | .config.value[] | select(.key == \"dev\")" /tmp/ynl-get.json)" \
		'{"key":"dev","text":"rx0"}' "in's device, a setting"
	eq "$(jq -c "$in | .config.value[] | select(.key == \"ethertype\")" /tmp/ynl-get.json)" \
		'{"key":"ethertype","num":0,"hex":true}' "ethertype: a number, read best in hex"
	eq "$(jq -r "$c1 | .state.value[] | select(.key == \"packets\") | .num" /tmp/ynl-get.json)" 300 \
		"c1's count, a typed number"
	eq "$(jq -r "$c1 | .packets" /tmp/ynl-get.json)" "$(fbctl -j show c1 | jq -r .stats.packets)" \
		"the engine's count agrees with fbctl"
	eq "$(jq -r "$c1 | .ingress.name | join(\",\")" /tmp/ynl-get.json)" f1 "c1's binding"
	ynl --family lana --do stats --output-json >/tmp/ynl-stats.json || fail "ynl --do stats"
	eq "$(jq -r '."engine-rx"' /tmp/ynl-stats.json)" "$(fbctl -j stats | jq -r .entered)" "engine rx"
	eq "$(ynl --family lana --dump types --output-json |
		jq -c '.[] | select(.type == "counter") | .keys."key-info"')" \
		'[{"key":"reset","kind":"bool","desc":"1 zeroes the counts"}]' "a type's keys"
	# typed settings, as ynl sends them: the same checks as fbctl's key=value text
	ynl --family lana --do set --json \
		'{"name": "in", "config": {"value": [{"key": "ethertype", "num": 2048}]}}' ||
		fail "ynl --do set with a typed number"
	eq "$(fbctl -j show in | jq -r .config.ethertype)" 2048 "set by a typed number"
	ynl --family lana --do set --json \
		'{"name": "c1", "config": {"value": [{"key": "reset", "num": 1}]}}' || fail "typed bool"
	eq "$(fbctl -j show c1 | jq -r .state.packets)" 0 "reset=1, sent typed"
	# refused with the kernel's reason (each as in fbctl's tests: one path from here on)
	local bad why
	while IFS='|' read -r bad why; do
		ynl --family lana --do set --json "{\"name\": \"in\", \"config\": {\"value\": [$bad]}}" \
			>/tmp/ynl-bad.out 2>&1 && fail "ynl set $bad was taken"
		grep -q "Netlink error: $why: Invalid argument" /tmp/ynl-bad.out ||
			fail "$bad: not refused with '$why': $(tail -c 300 /tmp/ynl-bad.out)"
	done <<-'BAD'
	{"key": "ethertype", "num": 4294967296}|bad value for 'ethertype': expected a number from 0 to 4294967295
	{"key": "ethertype", "num": 1, "text": "1"}|'ethertype': give a number or a text, one of them
	{"num": 1}|a typed value without its key
	BAD
	eq "$(fbctl -j show in | jq -r .config.ethertype)" 2048 "the refused settings changed nothing"
	# what no JSON can say but a raw client can: each refused, none half-read
	load fb_bpf || return 1
	check fbctl add tf bpf
	lana-nlfuzz typed-edges tf >/tmp/edges.out || fail "typed-edges"
	local line
	for line in "key-twice 22 a typed value gives its key, num or text twice" \
		"text-twice 22 a typed value gives its key, num or text twice" \
		"bytes-after-nul 22 'filter': the text is not one NUL-terminated UTF-8 string" \
		"equals-in-key 22 a typed value's key is made of a-z, 0-9, '_' and '-'" \
		"no-value 22 'filter': give a number or a text, one of them" \
		"long-program 0"; do
		grep -qxF "$line" /tmp/edges.out || fail "expected '$line' in: $(cat /tmp/edges.out)"
	done
	eq "$(fbctl -j show tf | jq -r .state.instructions)" 40 "a 40-instruction program, typed, taken whole"
	# the change events, as ynl decodes them
	ynl --family lana --subscribe config --duration 4 --output-json >/tmp/ynl-ntf.json 2>&1 &
	local y=$!
	sleep 2.5
	check fbctl add late counter
	check fbctl bind c2 late
	wait $y
	eq "$(jq -r 'select(.name == "add-ntf") | .msg.name' /tmp/ynl-ntf.json)" late \
		"ynl saw the add: $(head -c 300 /tmp/ynl-ntf.json)"
	eq "$(jq -r 'select(.name == "bind-ntf") | "\(.msg.name) \(.msg.peer)"' /tmp/ynl-ntf.json)" \
		"c2 late" "and the bind"
}
