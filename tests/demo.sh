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
fbctl -s list
fbctl stats
echo "== replacing the first counter while packets flow (counts carried over)"
pktgen_inject rx0 200000 &
pg=$!
fbctl add count2 counter
sleep 0.2
fbctl replace count count2
wait $pg
fbctl -s show count2
fbctl -s show tail
echo "== the graph, for Graphviz"
fbctl graph --dot
fbctl flush

echo
echo "== two hosts: network namespaces hostA and hostB joined by a veth pair (a0 <-> b0),"
echo "   each with its own LANA graph: socket <-> counter <-> eth(EtherType 0x88b5)"
ip netns add hostA
ip netns add hostB
ip link add a0 netns hostA type veth peer name b0 netns hostB
ip -n hostA link set a0 up
ip -n hostB link set b0 up
amac=$(ip netns exec hostA cat /sys/class/net/a0/address)
bmac=$(ip netns exec hostB cat /sys/class/net/b0/address)
ip netns exec hostA fbctl -b /dev/stdin <<CMDS
add sa socket
add ca counter
add ea eth
set ea dev=a0 ethertype=0x88b5 peer=$bmac
bind ea ca
bind ca sa
CMDS
ip netns exec hostB fbctl -b /dev/stdin <<CMDS
add sb socket
add cb counter
add eb eth
set eb dev=b0 ethertype=0x88b5 peer=$amac
bind eb cb
bind cb sb
CMDS
echo "-- the initial namespace's graph is empty now; hostA's and hostB's:"
fbctl -s list
ip netns exec hostA fbctl -s list
ip netns exec hostB fbctl -s list
echo "-- host A sends 3000 numbered messages to B; A's counter is replaced twice mid-stream"
ip netns exec hostB lana-nc recv sb --count 3000 --check > /tmp/b.out &
receiver=$!
sleep 0.3
ip netns exec hostA lana-nc send sa --count 3000 --size 256 --interval-us 300 &
sender=$!
sleep 0.3; ip netns exec hostA fbctl add ca2 counter; ip netns exec hostA fbctl replace ca ca2
sleep 0.3; ip netns exec hostA fbctl add ca3 counter; ip netns exec hostA fbctl replace ca2 ca3
wait $sender $receiver
echo "B: $(tail -n 1 /tmp/b.out)"
echo "-- and B answers with 1000 messages"
ip netns exec hostA lana-nc recv sa --count 1000 --check > /tmp/a.out &
receiver=$!
sleep 0.3
ip netns exec hostB lana-nc send sb --count 1000 --size 64 --interval-us 300
wait $receiver
echo "A: $(tail -n 1 /tmp/a.out)"
echo "-- host A's graph and each host's engine"
ip netns exec hostA fbctl -s list
ip netns exec hostA fbctl graph
ip netns exec hostA fbctl stats
ip netns exec hostB fbctl stats
echo "-- host B goes away, and its graph with it; host A's stays"
ip netns del hostB
sleep 0.5
ip netns exec hostA fbctl -s list
ip netns del hostA
