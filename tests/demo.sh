#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The main demonstration (make demo), run inside the guest.
set -e
echo "== loading LANA"
insmod /lib/modules/lana_core.ko
for m in fb_eth fb_fwd fb_counter; do insmod /lib/modules/$m.ko; done
fbctl types
echo "== a stack: eth(rx0) -> counter -> fwd -> fwd -> counter"
ip link add rx0 type dummy
ip link set rx0 up
fbctl -b /dev/stdin <<'CMDS'
add in eth
add count counter
add fwd1 fwd
add fwd2 fwd
add tail counter
set in dev=rx0
bind in count
bind count fwd1
bind fwd1 fwd2
bind fwd2 tail
CMDS
fbctl graph
. /lana/tests/lib.sh
echo "== pushing 50000 64-byte packets into rx0's receive path with pktgen"
pktgen_inject rx0 50000
fbctl list
fbctl stats
echo "== replacing the first counter while packets flow (counts carried over)"
pktgen_inject rx0 200000 &
fbctl add count2 counter
sleep 0.2
fbctl replace count count2
wait
fbctl show count2
fbctl show tail
echo "== the graph, for Graphviz"
fbctl graph --dot
