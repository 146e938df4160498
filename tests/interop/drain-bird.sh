#!/usr/bin/env bash
# Three vipgated nodes serving one gateway VIP, BIRD 2 as the top-of-rack
# router peering with all three, a client behind it; all in namespaces this
# test makes.
#
#  health  a node whose gateway cannot serve does not announce the VIP: its
#          listener port held by another process (BIRD has only the other
#          node's route; back within 2 s of the port's release); with
#          gateway.require_endpoints, its routes' endpoints gone (lost, then
#          back when they return); vipgatectl services says why.
#  drain   under a keep-alive wrk load through the ToR, SIGTERM to one node:
#          BIRD sees its route with GRACEFUL_SHUTDOWN (65535,0) first, the
#          withdraw only after drain.withdraw_after, the node exits 0 well
#          under 15 s, and the load sees no failed request (the other two
#          nodes' flows stay where they are); started again, it takes
#          traffic back, again with no failed request.
#
# BIRD's import filter lowers the preference of routes with (65535,0), as
# RFC 8326 asks of receivers; its kernel protocol exports the ECMP route
# (merge paths) to table 100, where the test reads it. Forwarding uses a
# resilient nexthop group kept in step with BIRD's routes by a loop over
# birdc (BIRD does not program nexthop groups): a route's node is in the
# group with weight 255 while its route is among the best, with weight 1
# while it carries (65535,0) (its busy buckets stay until idle, so its
# established flows are not moved), and leaves when the route is withdrawn.
# TOR_PLAIN=1 forwards by BIRD's plain multipath route instead, for
# comparison: a path that leaves moves its flows at once (wrk then counts
# errors, and the test fails).
LAB_TAG=vgd
WAIT_S=3		# drain.withdraw_after
. "$(dirname "$0")/lab-lib.sh"

lab_net
lab_bird
node_setup a 10.99.1.1 10.99.1.254 true
node_setup b 10.99.2.1 10.99.2.254 false
node_setup c 10.99.3.1 10.99.3.254 false

# ---- health: a port held by another process ----
ip netns exec $nsa /usr/bin/python3 -c '
import socket, time
s = socket.socket(); s.bind(("0.0.0.0", 80)); s.listen(1); time.sleep(120)' &
hold_pid=$!
wait_for 5 sh -c "ip netns exec $nsa ss -ltn | grep -q ':80 '" || fail "the port holder did not start"
start_node a $nsa
start_node b $nsb
start_node c $nsd
check "node b's and c's routes reach BIRD" wait_for 15 sh -c \
	"birdc -s $tmp/bird.ctl show route for $VIP/32 all | grep -c 'via 10.99.[23].1' | grep -qx 2"
check "BIRD has a session with node a" wait_for 10 sh -c "birdc -s $tmp/bird.ctl show protocols a | grep -q Established"
sleep 1
check "node a does not announce while its port 80 is taken" no_nh 10.99.1.1
out=$(svc_field a why_not)
check "vipgatectl services says why ($out)" test "$out" = "gateway cannot serve: a listener is not bound"
kill $hold_pid; wait $hold_pid 2>/dev/null; hold_pid=
t0=$(now_ms)
check "node a announces once the port is free" wait_for 5 has_nh 10.99.1.1
echo "  route from node a at BIRD $(( $(now_ms) - t0 )) ms after the port was freed"
check "node a's state: serving" test "$(svc_field a gateway_state)" = serving

# ---- health: require_endpoints, the routes' endpoints gone and back ----
rm "$tmp/a/objs/slice.yaml"
check "node a withdraws when no route has a ready endpoint" wait_for 5 no_nh 10.99.1.1
check "node b keeps its route" has_nh 10.99.2.1
out=$(svc_field a why_not)
check "... and says why ($out)" test "$out" = "gateway cannot serve: no route has a ready endpoint"
slice > "$tmp/a/objs/slice.yaml"
check "node a announces again when an endpoint is back" wait_for 5 has_nh 10.99.1.1
check "BIRD's kernel route is ECMP over the three nodes (merge paths)" wait_for 5 sh -c \
	"ip -n $nst route show table $ktable $VIP | grep -c 'nexthop via' | grep -qx 3"

[ -n "${TOR_PLAIN:-}" ] || lab_resil 90
check "the ToR forwards to the VIP" wait_for 5 ip netns exec $nsc curl -sf -m 1 http://$VIP/

# ---- drain under load ----
ip netns exec $nsc wrk -t1 -c8 -d12s --timeout 3s http://$VIP/ > "$tmp/wrk.out" 2>&1 &
wrk_pid=$!
sleep 3
b0=$(buckets 2>/dev/null)
[ -n "${TOR_PLAIN:-}" ] ||
check "the three nodes share the ToR's buckets ($b0)" sh -c "echo '$b0' | grep -q '1:' && echo '$b0' | grep -q '2:' && echo '$b0' | grep -q '3:'"
t0=$(now_ms)
kill -TERM $pid_a
check "BIRD sees node a's route with GRACEFUL_SHUTDOWN (65535,0)" wait_for 2 gshut_of 10.99.1.1
t_gs=$(( $(now_ms) - t0 ))
if gshut_of 10.99.2.1 || gshut_of 10.99.3.1; then fail "... and nodes b and c's without it"
else ok "... and nodes b and c's without it"; fi
check "node a's route is not the best one" sh -c \
	"birdc -s $tmp/bird.ctl show route for $VIP/32 primary | grep -q 'via 10.99.[23].1'"
# while the routers move away, node a still serves, unready, without keep-alive
out=$(ip netns exec $nst curl -s -o /dev/null -w '%{http_code}' -m 1 http://10.99.1.1:15021/healthz/ready)
check "node a's readiness is 503 while it drains ($out)" test "$out" = 503
out=$(ip netns exec $nst curl -si -m 1 http://10.99.1.1/ | tr -d '\r')
check "node a still accepts and answers with Connection: close" sh -c \
	"echo '$out' | grep -q '^HTTP/1.1 200' && echo '$out' | grep -qi '^connection: close'"
wait_for $((WAIT_S + 3)) no_nh 10.99.1.1
t_wd=$(( $(now_ms) - t0 ))
echo "  SIGTERM -> (65535,0) at BIRD $t_gs ms, -> withdraw $t_wd ms (withdraw_after ${WAIT_S}s)"
check "the withdraw came after drain.withdraw_after ($t_wd ms)" \
	test $t_wd -ge $((WAIT_S * 1000 - 100)) -a $t_wd -lt $((WAIT_S * 1000 + 2000))
wait_for 15 sh -c "! kill -0 $pid_a 2>/dev/null"
t_exit=$(( $(now_ms) - t0 ))
wait $pid_a; rc=$?; pid_a=
check "node a exited 0 (rc $rc) in $t_exit ms, well under 15 s" test $rc -eq 0 -a $t_exit -lt 15000
grep -E 'drain:|graceful shutdown' "$tmp/a.log" | sed 's/^/  a: /'
wait $wrk_pid
sed 's/^/  wrk: /' "$tmp/wrk.out"
reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
check "wrk ran (${reqs:-0} requests)" test "${reqs:-0}" -gt 100
check "no socket error during the drain" sh -c "! grep -q 'Socket errors' $tmp/wrk.out"
check "no failed request during the drain" sh -c "! grep -q 'Non-2xx' $tmp/wrk.out"
[ -f "$tmp/resil.log" ] && sed 's/^/  tor: /' "$tmp/resil.log"
b1=$(buckets 2>/dev/null)
echo "  ToR buckets by node before the drain: $b0; after: $b1"

# ---- the node returns under load: the others' flows stay put ----
ip netns exec $nsc wrk -t1 -c8 -d8s --timeout 3s http://$VIP/ > "$tmp/wrk2.out" 2>&1 &
wrk_pid=$!
sleep 2
start_node a $nsa
check "node a's route is back at BIRD" wait_for 10 has_nh 10.99.1.1
wait $wrk_pid
sed 's/^/  wrk: /' "$tmp/wrk2.out" | grep -E 'requests in|errors|Non-2xx'
reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk2.out")
check "wrk ran while node a returned (${reqs:-0} requests)" test "${reqs:-0}" -gt 100
check "no failed request while node a returned" sh -c \
	"! grep -q -e 'Socket errors' -e 'Non-2xx' $tmp/wrk2.out"
b2=$(buckets 2>/dev/null)
[ -n "${TOR_PLAIN:-}" ] ||
check "node a has ToR buckets again ($b2)" sh -c "echo '$b2' | grep -q '1:'"

echo "drain-bird: $passes passed, $fails failed"
[ $fails -eq 0 ]
