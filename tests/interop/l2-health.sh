#!/usr/bin/env bash
# The gateway's VIP in L2 mode follows the gateways that can serve: three
# vipgated nodes running the gateway and a client on one bridge, all in
# namespaces this test makes. SIGTERM to the owner hands the VIP over at
# once (the leave message) while the client's requests keep being answered;
# the node started again with its port 80 held by another process stays a
# speaker but does not get the VIP back (its heartbeat says its gateway
# cannot serve), and gets it back, with a gratuitous ARP from its MAC, once
# the port is free.
set -u
bld=$(pwd)
srcdir=${srcdir:-.}
tmp=$(mktemp -d /tmp/vg-l2h.XXXXXX)
. "$srcdir/tests/interop/l2-lib.sh"
l2_port_test
now_ns() { date +%s%N; }
GW_VIP=10.77.0.205

l2_gw_lab $GW_VIP

# requests in a loop while the owner drains: none fails
l2_gw_loop $GW_VIP 6
sleep 1
t0=$(now_ns)
opid=${L2_PID[$o]}
L2_PID[$o]=
kill -TERM $opid
next=
moved() { next=$(l2_converged $GW_VIP 2) && [ -n "$next" ] && [ "$next" != "$owner" ]; }
check "SIGTERM: the VIP moves to another node" wait_for 3 moved
n2=${next#node-}
ms=$(l2_first_garp_ms ${L2_MAC[$n2]} $GW_VIP $t0)
check "the new owner's gratuitous ARP ${ms:-never} ms after SIGTERM (under 200 ms)" \
	sh -c "[ -n '$ms' ] && awk -v m='$ms' 'BEGIN { exit !(m < 200) }'"
wait $opid; rc=$?
check "the drained node exited 0 (rc $rc)" test $rc -eq 0
wait $loop
read -r sent failed < "$tmp/loop.out"
echo "  requests during the handover: ${sent:-0} sent, ${failed:-?} failed"
# A connection whose SYN reached the old owner and whose next packets
# follow the new owner's gratuitous ARP meets a node that has no such
# connection (L2 mode moves the address, not the connections; MetalLB's
# does the same): one such straddling request was seen in 166 on a loaded
# machine, none on a quiet one. More than one is a failure.
[ "${failed:-1}" -eq 1 ] && echo "NOTE: one request straddled the ARP change"
check "at most one request failed during the handover (${failed:-?} of ${sent:-0})" \
	test "${failed:-2}" -le 1 -a "${sent:-0}" -gt 20

# started again with its port taken: a speaker, not the owner (the holder
# reuses the address: the drained gateway's closed connections may still
# be in TIME_WAIT on port 80)
ip netns exec $L2_PFX-$o /usr/bin/python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80)); s.listen(1); time.sleep(60)' &
hold_pid=$!
wait_for 5 sh -c "ip netns exec $L2_PFX-$o ss -ltn | grep -q ':80 '" || fail "the port holder did not start"
l2_start $o
back3() { l2_converged $GW_VIP 3 >/dev/null; }
check "the restarted node is a speaker again" wait_for 5 back3
sleep 0.5
check "... but does not own the VIP while its gateway cannot serve" \
	test "$(l2_converged $GW_VIP 3)" = "$next"
why=$(l2_ctl $o services | /usr/bin/python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] == "istio-ingressgateway": print(s["why_not"])')
check "vipgatectl services on it says why ($why)" test "$why" = "gateway cannot serve: a listener is not bound"
check "the others heard it from its heartbeat" grep -q "node-$o.*its gateway cannot serve" "$tmp/$n2.log"
t1=$(now_ns)
kill $hold_pid; wait $hold_pid 2>/dev/null; hold_pid=
regained() { [ "$(l2_converged $GW_VIP 3)" = "$owner" ]; }
check "the port free, it owns the VIP again (sha256 order)" wait_for 5 regained
ms=$(l2_first_garp_ms ${L2_MAC[$o]} $GW_VIP $t1)
check "... and announces it (gratuitous ARP ${ms:-never} ms after the port was freed)" test -n "$ms"
check "the client reaches the gateway" ip netns exec $L2_PFX-cl curl -sf -m 1 -o /dev/null http://$GW_VIP/

echo "l2-health: $passes passed, $fails failed"
[ $fails -eq 0 ]
