#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The main demonstration (make demo), run inside the guest.
set -e
echo "== loading LANA"
insmod /lib/modules/lana_core.ko
for m in fb_eth fb_fwd fb_counter fb_tee fb_bpf; do insmod /lib/modules/$m.ko; done
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
pg=$!
fbctl add count2 counter
sleep 0.2
fbctl replace count count2
wait $pg
fbctl show count2
fbctl show tail
echo "== the graph, for Graphviz"
fbctl graph --dot
fbctl flush

echo
echo "== two hosts: namespaces hostA (a0) and hostB (b0) joined by a veth pair; LANA stacks socket <-> counter <-> eth(EtherType 0x88b5) on each end"
. /lana/tests/guest/50-socket.sh	# two_stacks: the same setup the socket tests use
two_stacks ns
fbctl list
echo "-- host A sends 3000 numbered messages to B; A's counter is replaced twice mid-stream"
lana-nc recv sb --count 3000 --check > /tmp/b.out &
receiver=$!
sleep 0.3
lana-nc send sa --count 3000 --size 256 --interval-us 300 &
sender=$!
sleep 0.3; fbctl add ca2 counter; fbctl replace ca ca2
sleep 0.3; fbctl add ca3 counter; fbctl replace ca2 ca3
wait $sender $receiver
echo "B: $(tail -n 1 /tmp/b.out)"
echo "-- and B answers with 1000 messages"
lana-nc recv sa --count 1000 --check > /tmp/a.out &
receiver=$!
sleep 0.3
lana-nc send sb --count 1000 --size 64 --interval-us 300
wait $receiver
echo "A: $(tail -n 1 /tmp/a.out)"
echo "-- host A's graph"
fbctl list
fbctl graph
no_stacks
