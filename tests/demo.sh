#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The main demonstration (make demo), run inside the guest.
set -e
echo "== loading LANA"
insmod /lib/modules/lana_core.ko
for m in fb_eth fb_fwd fb_counter; do insmod /lib/modules/$m.ko; done
fbctl types
echo "== a stack: eth(v1) -> counter -> fwd -> eth(v0-out)"
ip link add v0 type veth peer name v1
[ -e /sys/class/net/v1 ] || ip link set veth0 name v1
ip link add o0 type veth peer name o1
[ -e /sys/class/net/o1 ] || ip link set veth0 name o1
for d in v0 v1 o0 o1; do ip link set $d up; done
fbctl -b /dev/stdin <<'CMDS'
add in eth
add count counter
add fwd1 fwd
add out eth
set in dev=v1
set out dev=o0
bind in count
bind count fwd1
bind fwd1 out
CMDS
fbctl graph
echo "== pushing 10000 packets into v1 with pktgen"
. /lana/tests/lib.sh
tx0=$(cat /sys/class/net/o0/statistics/tx_packets)
pktgen_inject v1 10000
tx1=$(cat /sys/class/net/o0/statistics/tx_packets)
fbctl list
fbctl stats
echo "o0 transmitted $((tx1 - tx0)) packets"
echo "== replacing the counter while the graph is live"
fbctl add count2 counter
fbctl replace count count2
fbctl show count2
fbctl graph --dot
