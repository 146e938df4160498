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
set -u
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
for t in bird birdc wrk curl ip ss /usr/bin/python3; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t missing"; exit 77; }
done
ip netns add vg-probe-$$ 2>/dev/null || { echo "SKIP: ip netns unavailable"; exit 77; }
ip netns del vg-probe-$$

bld=$(pwd)
. "$(dirname "$0")/../lib.sh"
vipgated=$bld/vipgated
ctl=$bld/vipgatectl
nst=vgd-t-$$ nsc=vgd-c-$$
nsa=vgd-a-$$ nsb=vgd-b-$$ nsd=vgd-d-$$	# nsd: node c
tmp=$(mktemp -d /tmp/vg-drain.XXXXXX)
chmod 755 "$tmp"
VIP=192.0.2.10
WAIT_S=3		# drain.withdraw_after
pid_a= pid_b= pid_c= bird_pid= loop_pid= hold_pid=
fails=0 passes=0

cleanup() {
	for p in $pid_a $pid_b $pid_c $bird_pid $loop_pid $hold_pid; do kill -9 "$p" 2>/dev/null; done
	for n in $nsa $nsb $nsd $nsc $nst; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" TERM INT HUP

fail() {
	fails=$((fails + 1)); echo "FAIL: $*"
	for f in a.log b.log c.log; do [ -f "$tmp/$f" ] && { echo "--- $f"; tail -12 "$tmp/$f"; }; done
}
bc() { birdc -s "$tmp/bird.ctl" "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---- network: client -- tor -- node a, node b, node c ----
for n in $nst $nsc $nsa $nsb $nsd; do ip netns add $n; ip -n $n link set lo up; done
ip -n $nst link add vc type veth peer name c0 netns $nsc
ip -n $nst link add va type veth peer name a0 netns $nsa
ip -n $nst link add vb type veth peer name b0 netns $nsb
ip -n $nst link add vd type veth peer name d0 netns $nsd
ip -n $nst addr add 10.98.0.254/24 dev vc
ip -n $nst addr add 10.99.1.254/24 dev va
ip -n $nst addr add 10.99.2.254/24 dev vb
ip -n $nst addr add 10.99.3.254/24 dev vd
ip -n $nsc addr add 10.98.0.1/24 dev c0
ip -n $nsa addr add 10.99.1.1/24 dev a0
ip -n $nsb addr add 10.99.2.1/24 dev b0
ip -n $nsd addr add 10.99.3.1/24 dev d0
for l in vc va vb vd; do ip -n $nst link set $l up; done
ip -n $nsc link set c0 up; ip -n $nsa link set a0 up; ip -n $nsb link set b0 up
ip -n $nsd link set d0 up
ip -n $nsc route add default via 10.98.0.254
ip -n $nsa route add default via 10.99.1.254
ip -n $nsb route add default via 10.99.2.254
ip -n $nsd route add default via 10.99.3.254
ip netns exec $nst sysctl -qw net.ipv4.ip_forward=1
# the flows of one client spread over the paths by their ports
ip netns exec $nst sysctl -qw net.ipv4.fib_multipath_hash_policy=1

cat > "$tmp/bird.conf" <<'EOC'
router id 10.99.1.254;
log stderr all;
protocol device { scan time 1; }
# RFC 8326 section 4.2: a receiver lowers the preference of GRACEFUL_SHUTDOWN routes
filter gshut {
	if (65535, 0) ~ bgp_community then preference = 10;
	accept;
}
template bgp node {
	local as 64501;
	connect delay time 1; connect retry time 1; error wait time 1, 2;
	hold time 9;
	ipv4 { import filter gshut; export none; };
}
protocol bgp a from node { neighbor 10.99.1.1 as 64500; }
protocol bgp b from node { neighbor 10.99.2.1 as 64500; }
protocol bgp c from node { neighbor 10.99.3.1 as 64500; }
protocol kernel { kernel table KTABLE; merge paths on; ipv4 { export all; }; }
EOC
sed -i "s/KTABLE/$([ -n "${TOR_PLAIN:-}" ] && echo 254 || echo 100)/" "$tmp/bird.conf"
ktable=$([ -n "${TOR_PLAIN:-}" ] && echo main || echo 100)
ip netns exec $nst bird -f -c "$tmp/bird.conf" -s "$tmp/bird.ctl" >"$tmp/bird.log" 2>&1 &
bird_pid=$!
wait_for 5 test -S "$tmp/bird.ctl" || { echo "FAIL: bird did not start"; cat "$tmp/bird.log"; exit 1; }

# ---- the nodes: the same manifests, each its own copy ----
objs() {
	cat <<EOC
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec: {addresses: [192.0.2.0/28]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: main, namespace: metallb-system}
spec: {ipAddressPools: [pool]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: $1, holdTime: 9s}
---
apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
  annotations: {metallb.io/loadBalancerIPs: $VIP}
spec:
  type: LoadBalancer
  selector: {istio: ingressgateway}
  ports: [{name: http, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /app}}]
    route: [{destination: {host: web.default.svc.cluster.local, port: {number: 80}}}]
  - directResponse: {status: 200, body: {string: "ok\n"}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {selector: {app: web}, ports: [{port: 80}]}
EOC
}
slice() {
	cat <<'EOC'
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-x, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.9.0.1], conditions: {ready: true}}]
ports: [{port: 8080}]
EOC
}
node_setup() {	# NAME ADDR TOR_ADDR REQUIRE_ENDPOINTS
	mkdir -p "$tmp/$1/objs" "$tmp/$1/state"
	objs "$3" > "$tmp/$1/objs/objs.yaml"
	slice > "$tmp/$1/objs/slice.yaml"
	cat > "$tmp/$1/vipgate.yaml" <<EOC
node: {name: node-$1, address: $2}
objects: {paths: [objs]}
control: {socket: $tmp/$1/sock}
addresses: {interface: lo}
gateway: {workers: 1, drain_timeout: 10s, require_endpoints: $4}
drain: {withdraw_after: ${WAIT_S}s}
state_dir: state
log: {level: info}
EOC
}
node_setup a 10.99.1.1 10.99.1.254 true
node_setup b 10.99.2.1 10.99.2.254 false
node_setup c 10.99.3.1 10.99.3.254 false
start_node() {	# NAME NS
	ip netns exec $2 "$vipgated" -f -c "$tmp/$1/vipgate.yaml" >>"$tmp/$1.log" 2>&1 &
	eval pid_$1=$!
}
svc_field() {	# NAME FIELD: of the gateway Service, from vipgatectl services
	"$ctl" -s "$tmp/$1/sock" --json services | /usr/bin/python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] == "istio-ingressgateway":
        print(s[sys.argv[1]])' "$2"
}
# the nodes whose route BIRD has for the VIP: "10.99.1.1 10.99.2.1"
bird_nhs() { bc show route for $VIP/32 all | sed -n 's/^[[:space:]]*via \([0-9.]*\) .*/\1/p' | sort | tr '\n' ' '; }
has_nh() { bird_nhs | grep -qw "$1"; }
no_nh() { ! has_nh "$1"; }
# BIRD's route from NH carries (65535,0)
gshut_of() {
	bc show route for $VIP/32 all | awk -v nh="$1" '
	    /^[[:space:]]*via / { cur = $2 }
	    /BGP.community:.*\(65535,0\)/ && cur == nh { f = 1 }
	    END { exit !f }'
}

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

# ---- the ToR's forwarding: a resilient nexthop group following BIRD ----
ip -n $nst nexthop add id 1 via 10.99.1.1 dev va
ip -n $nst nexthop add id 2 via 10.99.2.1 dev vb
ip -n $nst nexthop add id 3 via 10.99.3.1 dev vd
resil_loop() {	# until the deadline (s)
	local end=$(( $(date +%s) + $1 )) want= cur= g nh id w
	while [ "$(date +%s)" -lt $end ]; do
		g=
		for nh in $(bird_nhs); do
			case $nh in 10.99.1.1) id=1;; 10.99.2.1) id=2;; 10.99.3.1) id=3;; *) continue;; esac
			w=255; gshut_of $nh && w=1
			g=$g${g:+/}$id,$w
		done
		# all routes with (65535,0): equal again
		case $g in *,255*) ;; *) g=$(echo "$g" | sed 's/,1\b/,255/g');; esac
		if [ "$g" != "$cur" ]; then
			if [ -z "$g" ]; then
				ip -n $nst route del $VIP/32 2>/dev/null
			else
				ip -n $nst nexthop replace id 10 group $g type resilient buckets 64 \
				    idle_timer 1 unbalanced_timer 0 2>/dev/null ||
					ip -n $nst nexthop add id 10 group $g type resilient buckets 64 \
					    idle_timer 1 unbalanced_timer 0
				ip -n $nst route replace $VIP/32 nhid 10
			fi
			echo "$(date +%T.%N | cut -c1-12) group: ${g:-none}" >> "$tmp/resil.log"
			cur=$g
		fi
		sleep 0.05
	done
}
if [ -z "${TOR_PLAIN:-}" ]; then
	resil_loop 90 &
	loop_pid=$!
fi
check "the ToR forwards to the VIP" wait_for 5 ip netns exec $nsc curl -sf -m 1 http://$VIP/

# ---- drain under load ----
ip netns exec $nsc wrk -t1 -c8 -d12s --timeout 3s http://$VIP/ > "$tmp/wrk.out" 2>&1 &
wrk_pid=$!
sleep 3
buckets() { ip -n $nst nexthop bucket show id 10 | grep -o 'nhid [0-9]*' | sort | uniq -c | awk '{printf "%s%s:%s", sep, $3, $1; sep=" "}'; }
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
