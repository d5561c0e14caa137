#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Receive-rate benchmark, run in the guest by `make bench` (scripts/bench.sh reads its
# "BENCH ..." lines). 64-byte frames are injected with pktgen (xmit_mode netif_receive) into
# dummy devices' receive path; every configuration runs BENCH_REPS times, interleaved.
. /lana/tests/lib.sh
N=${BENCH_PACKETS:-200000}
REPS=${BENCH_REPS:-5}
PG=/proc/net/pktgen
M=/lib/modules
load_pktgen || exit 1
for d in rx0 rx1; do ip link add $d type dummy && ip link set $d up; done

# pg_setup THREAD DEV COUNT
pg_setup() {
	echo "rem_device_all" >$PG/kpktgend_$1
	echo "add_device $2" >$PG/kpktgend_$1
	for c in "count $3" "pkt_size 64" "delay 0" "clone_skb 0" "burst 1" "xmit_mode netif_receive" \
		"dst 10.0.0.2" "dst_mac $(cat /sys/class/net/$2/address)"; do
		echo "$c" >$PG/$2
	done
}

# pg_pps DEV: the rate pktgen measured for DEV's last run
pg_pps() {
	sed -n 's/.* \([0-9]*\)pps.*/\1/p' $PG/$1 | head -n 1
}

pg_usec() {
	sed -n 's/.*Result: OK: \([0-9]*\)(c.*/\1/p' $PG/$1
}

pg_clear() {
	echo "rem_device_all" >$PG/kpktgend_0
	echo "rem_device_all" >$PG/kpktgend_1
}

# lana_stack MODE DEV NAME_PREFIX FWDS: eth on DEV followed by FWDS forwarders (the last drops)
lana_stack() {
	local dev=$2 p=$3 n=$4 prev i
	fbctl add ${p}in eth && fbctl set ${p}in dev=$dev || return 1
	prev=${p}in
	i=1
	while [ $i -le $n ]; do
		fbctl add ${p}f$i fwd && fbctl bind $prev ${p}f$i || return 1
		prev=${p}f$i
		i=$((i + 1))
	done
}

lana_load() {
	insmod $M/lana_core.ko ppe_mode=$1 && insmod $M/fb_eth.ko && insmod $M/fb_fwd.ko
}

lana_unload() {
	fbctl flush && rmmod fb_fwd && rmmod fb_eth && rmmod lana_core
}

# counter_stack DEV PREFIX N: eth on DEV followed by N counters (the last drops)
counter_stack() {
	local prev=${2}in i=1
	fbctl add ${2}in eth && fbctl set ${2}in dev=$1 || return 1
	while [ $i -le $3 ]; do
		fbctl add ${2}c$i counter && fbctl bind $prev ${2}c$i || return 1
		prev=${2}c$i
		i=$((i + 1))
	done
}

# switches THREAD: context switches (voluntary + forced) of the kernel thread named THREAD
switches() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat $p/comm 2>/dev/null)" = "$1" ] || continue
		awk '/ctxt_switches/ { n += $2 } END { print n + 0 }' $p/status
		return
	done
	echo 0
}

# run_one NAME SETUP TEARDOWN CPUS: one measurement
run_one() {
	local name=$1 cpus=$4 pps processed sw0 sw1
	$2 || { echo "BENCH-ERROR $name setup failed"; return 1; }
	pg_setup 0 rx0 $N
	[ "$cpus" = 2 ] && pg_setup 1 rx1 $N
	sw0=$(switches lana_ppe/0)
	echo start >$PG/pgctrl
	sw1=$(switches lana_ppe/0)
	pps=$(pg_pps rx0)
	processed=$N
	case "$name" in
	lana-thread*)
		# threads: what the engine processed while pktgen ran, over pktgen's time
		processed=$(fbctl -j stats | jq -r '.ended - .dropped.queue_full - .dropped.flushed')
		pps=$(awk -v p="$processed" -v u="$(pg_usec rx0)" 'BEGIN { printf "%d", p * 1e6 / u }')
		;;
	esac
	[ "$cpus" = 2 ] && pps=$((pps + $(pg_pps rx1)))
	case "$name" in
	lana-thread*)
		# why a thread mode is slow: how often its thread was switched to and from
		echo "BENCH-SWITCHES name=$name rep=$REP switches=$((sw1 - sw0)) packets=$N"
		;;
	esac
	pg_clear
	$3 || { echo "BENCH-ERROR $name teardown failed"; return 1; }
	echo "BENCH name=$name rep=$REP pps=$pps processed=$processed"
}

nothing() { :; }
rxdrop_on() { insmod $M/lana_rxdrop.ko ifname=rx0; }
rxdrop_off() { rmmod lana_rxdrop; }
rxdropu_on() { insmod $M/lana_rxdrop.ko ifname=rx0 unshare=1; }
lana3() { lana_load $1 && lana_stack $1 rx0 a 2; }
softirq3() { lana3 0; }
thread3() { lana3 1; }
threadrt3() { lana3 2; }
threadbatch3() { lana3 3; }
chain() { lana_load 0 && lana_stack 0 rx0 a $1; }
chain1() { chain 1; }
chain2() { chain 2; }
chain4() { chain 4; }
chain8() { chain 8; }
chain16() { chain 16; }
chain32() { chain 32; }
ctrchain() { lana_load 0 && insmod $M/fb_counter.ko && counter_stack rx0 a $1; }
ctr_unload() { fbctl flush && rmmod fb_counter && lana_unload; }
ctrchain1() { ctrchain 1; }
ctrchain2() { ctrchain 2; }
ctrchain4() { ctrchain 4; }
ctrchain8() { ctrchain 8; }
softirq3x2() { lana_load 0 && lana_stack 0 rx0 a 2 && lana_stack 0 rx1 b 2; }

# control_plane N: guest seconds for N adds in one batch file, then for one flush of them
# (under -icount, guest time counts executed instructions: deterministic).
control_plane() {
	local n=$1 i=1 t0 t1 t2
	insmod $M/lana_core.ko && insmod $M/fb_fwd.ko || return 1
	while [ $i -le $n ]; do echo "add f$i fwd"; i=$((i + 1)); done >/tmp/cp.txt
	t0=$(cut -d' ' -f1 /proc/uptime)
	fbctl -b /tmp/cp.txt || return 1
	t1=$(cut -d' ' -f1 /proc/uptime)
	fbctl flush || return 1
	t2=$(cut -d' ' -f1 /proc/uptime)
	rmmod fb_fwd && rmmod lana_core || return 1
	echo "BENCH-CP name=adds-$n rep=$REP seconds=$(awk -v a=$t0 -v b=$t1 'BEGIN{print b-a}')"
	echo "BENCH-CP name=flush-$n rep=$REP seconds=$(awk -v a=$t1 -v b=$t2 'BEGIN{print b-a}')"
}

echo "BENCH-INFO packets=$N reps=$REPS cpus=$(nproc)"
REP=1
while [ $REP -le $REPS ]; do
	run_one stack nothing nothing 1
	run_one rxdrop rxdrop_on rxdrop_off 1
	run_one rxdrop-unshare rxdropu_on rxdrop_off 1
	run_one lana-softirq softirq3 lana_unload 1
	run_one lana-thread thread3 lana_unload 1
	run_one lana-thread-rt threadrt3 lana_unload 1
	run_one lana-thread-batch threadbatch3 lana_unload 1
	for k in 1 2 4 8 16 32; do
		run_one chain-$k chain$k lana_unload 1
	done
	for k in 1 2 4 8; do
		run_one counters-$k ctrchain$k ctr_unload 1
	done
	run_one stack-2cpu nothing nothing 2
	run_one lana-softirq-2cpu softirq3x2 lana_unload 2
	[ $REP -le ${BENCH_CP_REPS:-1} ] && { control_plane ${BENCH_CP_BLOCKS:-5000} || echo "BENCH-ERROR control plane"; }
	REP=$((REP + 1))
done
echo "BENCH-DONE"
