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

# run_one NAME SETUP TEARDOWN CPUS: one measurement (of the rows BENCH_ONLY names, if set)
run_one() {
	local name=$1 cpus=$4 pps processed sw0 sw1
	case " ${BENCH_ONLY:-$name} " in *" $name "*) ;; *) return 0 ;; esac
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

# NIC-fed rows: the host floods the virtio-net NIC (scripts/bench.sh); frames arrive through
# the driver, NAPI and GRO, unshared, as on real hardware. The NIC is up only while a row
# measures; the rate is the driver's received frames over guest time while the queue stays
# full (the row also reports how idle the busiest vCPU was: near 0 means saturated).
NIC_MAC=52:54:00:4c:41:4e
NIC=
for d in /sys/class/net/*; do
	[ "$(cat $d/address)" = $NIC_MAC ] && NIC=${d##*/}
done
NIC_SECONDS=${BENCH_NIC_SECONDS:-2}

# cpu_idle VAR0 VAR1 VAR_TOTAL: idle jiffies of cpu0 and cpu1, and all jiffies of cpu0 (shell
# builtins only: nothing forks while a row measures)
cpu_idle() {
	local name u n s i rest
	while read -r name u n s i rest; do
		case $name in
		cpu0) eval "$1=$i; $3=$((u + n + s + i))" ;;
		cpu1) eval "$2=$i" ;;
		esac
	done </proc/stat
}

# nic_one NAME SETUP TEARDOWN
nic_one() {
	local name=$1 p0 p1 t0 t1 x i0 i1 j0 j1 a0 a1
	case " ${BENCH_ONLY:-nic-$name} " in *" nic-$name "*) ;; *) return 0 ;; esac
	$2 || { echo "BENCH-ERROR nic-$name setup failed"; return 1; }
	ip link set $NIC up
	sleep 0.3 # the queue fills, NAPI runs
	read -r p0 </sys/class/net/$NIC/statistics/rx_packets
	read -r t0 x </proc/uptime
	cpu_idle i0 j0 a0
	sleep $NIC_SECONDS
	read -r p1 </sys/class/net/$NIC/statistics/rx_packets
	read -r t1 x </proc/uptime
	cpu_idle i1 j1 a1
	ip link set $NIC down
	$3 || { echo "BENCH-ERROR nic-$name teardown failed"; return 1; }
	awk -v n=$name -v r=$REP -v p=$((p1 - p0)) -v t0=$t0 -v t1=$t1 -v i=$((i1 - i0)) -v j=$((j1 - j0)) \
		-v a=$((a1 - a0)) 'BEGIN {
		idle = (i < j ? i : j) / (a > 0 ? a : 1)
		printf "BENCH name=nic-%s rep=%d pps=%d processed=%d idle=%.3f\n", n, r, p / (t1 - t0), p, idle
	}'
}

nic_rxdrop_on() { insmod $M/lana_rxdrop.ko ifname=$NIC; }
nic_rxdropu_on() { insmod $M/lana_rxdrop.ko ifname=$NIC unshare=1; }
nic_softirq3() { lana_load 0 && lana_stack 0 $NIC a 2; }
nic_chain8() { lana_load 0 && lana_stack 0 $NIC a 8; }
nic_counters4() { lana_load 0 && insmod $M/fb_counter.ko && counter_stack $NIC a 4; }

echo "BENCH-INFO packets=$N reps=$REPS cpus=$(nproc) nic=${NIC:-none}"
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
if [ -n "$NIC" ]; then
	REP=1
	while [ $REP -le ${BENCH_NIC_REPS:-3} ]; do
		nic_one stack nothing nothing
		nic_one rxdrop nic_rxdrop_on rxdrop_off
		nic_one rxdrop-unshare nic_rxdropu_on rxdrop_off
		nic_one lana-softirq nic_softirq3 lana_unload
		nic_one chain-8 nic_chain8 lana_unload
		nic_one counters-4 nic_counters4 ctr_unload
		REP=$((REP + 1))
	done
else
	echo "BENCH-ERROR no NIC (virtio-net with MAC $NIC_MAC): the NIC-fed rows are missing"
fi
echo "BENCH-DONE"
