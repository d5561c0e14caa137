# SPDX-License-Identifier: GPL-2.0
# The soak suite (make soak; CI runs it after make test): the same properties as the guest
# suite, checked with bigger numbers and for longer. Knobs (LANA_GUEST_ENV): LANA_REPLACES,
# LANA_FUZZ_SEEDS, LANA_FUZZ_MESSAGES, LANA_CHURN_SECONDS, LANA_HOTPLUG_CYCLES.

. /lana/tests/guest/60-hardening.sh
. /lana/tests/guest/70-trust.sh

test_thousands_of_replaces_under_load() {
	LANA_REPLACES=${LANA_REPLACES:-3000} test_reconfigure_under_load_conserves_packets
}

test_fuzz_with_fresh_seeds() {
	load lana_core fb_fwd fb_counter fb_eth fb_tee fb_bpf || return 1
	ip link add rx0 type dummy
	n=${LANA_FUZZ_SEEDS:-12}
	for i in $(seq "$n"); do
		seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
		out=$(lana-nlfuzz "$seed" "${LANA_FUZZ_MESSAGES:-20000}") || { echo "$out"; fail "fuzzer seed $seed (rerun: lana-nlfuzz $seed ${LANA_FUZZ_MESSAGES:-20000})"; return 1; }
		info "$out"
	done
	check fbctl flush
	check fbctl add after fwd
	ip link del rx0
}

# churner NAME STOPFILE: random changes on a private part of the graph (names prefixed NAME)
# until STOPFILE appears; prints how many commands succeeded
churner() {
	local p=$1 ok=0 i=0 r
	while [ ! -e "$2" ]; do
		i=$((i + 1))
		r=$(( $(od -An -N2 -tu2 /dev/urandom) % 8 ))
		case $r in
		0) fbctl add ${p}a$i fwd && fbctl add ${p}b$i counter && fbctl bind ${p}a$i ${p}b$i ;;
		1) fbctl add ${p}t$i tee && fbctl add ${p}x$i fwd && fbctl bind ${p}t$i ${p}x$i && fbctl unbind ${p}t$i ${p}x$i ;;
		2) fbctl -j list >/dev/null ;;
		3) fbctl add ${p}f$i bpf && fbctl set ${p}f$i "filter-ddd=1,6 0 0 65535" && fbctl rm ${p}f$i ;;
		4) for b in $(fbctl -j list | jq -r ".[] | select(.name | startswith(\"${p}a\")) | .name" | head -n 3); do
			fbctl unbind $b ${p}b${b#${p}a} && fbctl rm $b && fbctl rm ${p}b${b#${p}a}
		   done ;;
		5) fbctl add ${p}c$i counter && { fbctl replace "$(fbctl -j show in | jq -r '.ingress[0]')" ${p}c$i || fbctl rm ${p}c$i; } ;;
		6) fbctl -j stats >/dev/null ;;
		7) fbctl add ${p}g$i fwd && fbctl rm ${p}g$i ;;
		esac >/dev/null 2>&1 && ok=$((ok + 1))
	done
	echo $ok
}

test_concurrent_reconfiguration_under_load() {
	load lana_core fb_eth fb_fwd fb_counter fb_tee fb_bpf || return 1
	ip link add rx0 type dummy && ip link set rx0 up
	check fbctl -b /dev/stdin <<-'CMDS'
	add in eth
	add main_c counter
	add sink fwd
	set in dev=rx0
	bind in main_c
	bind main_c sink
	CMDS
	rm -f /tmp/stop.load /tmp/stop.churn
	pktgen_loop rx0 /tmp/stop.load 100000 >/tmp/runs &
	loader=$!
	# four reconfiguration loops at once; one of them also replaces the counter on the path
	churners=
	for p in p q r s; do
		churner $p /tmp/stop.churn >/tmp/churn.$p &
		churners="$churners $!"
	done
	sleep "${LANA_CHURN_SECONDS:-180}"
	touch /tmp/stop.churn
	wait $churners
	touch /tmp/stop.load
	wait $loader
	N=$(( $(cat /tmp/runs) * 100000 ))
	[ "$N" -gt 0 ] || fail "no traffic ran"
	check_balance "after concurrent reconfiguration"
	eq "$(fbctl -j show sink | jq -r .stats.packets)" $N "every frame reached the end of the path"
	cur=$(fbctl -j show in | jq -r '.ingress[0]')
	eq "$(fbctl -j show "$cur" | jq -r .state.packets)" $N "the counter on the path, carried over every replace"
	info "$N frames; successful commands: p $(cat /tmp/churn.p), q $(cat /tmp/churn.q), r $(cat /tmp/churn.r), s $(cat /tmp/churn.s); $(fbctl -j stats | jq -r .blocks) blocks left"
	ip link del rx0
}

test_hotplug_cycles_under_traffic() {
	for mode in 1 2 3; do
		insmod $MODDIR/lana_core.ko ppe_mode=$mode || { fail "insmod ppe_mode=$mode"; return 1; }
		load fb_eth fb_counter fb_fwd || return 1
		veth_path || return 1
		for c in $(seq "${LANA_HOTPLUG_CYCLES:-20}"); do
			taskset -c 1 lana-nc send sa --count 5000 >/tmp/send.log 2>&1 &
			sender=$!
			sleep 0.2
			check cpu1 0
			check cpu1 1
			wait $sender || fail "mode $mode cycle $c: sender: $(cat /tmp/send.log)"
		done
		check_balance "mode $mode after ${LANA_HOTPLUG_CYCLES:-20} offline/online cycles"
		ran_to_the_end "mode $mode, hotplug cycles"
		info "mode $mode: $(fbctl -j stats | jq -r .entered) frames across ${LANA_HOTPLUG_CYCLES:-20} offline/online cycles"
		check unload_all
		ip link del v0
	done
}
