#!/usr/bin/env bash
# Gateway readiness by deployment, in L2 mode: three vipgated nodes, each
# running two gateway deployments (ingress on port 80, internal on port 80
# and, after a reload, 82), and a client on one bridge, all in namespaces
# this test makes. On the node that owns the internal gateway's VIP, port
# 82 is held by another process: that node's heartbeat names the internal
# deployment, so every node elects another owner for the internal VIP only,
# while that node stays a candidate for the ingress VIP and the client
# reaches both. The port freed, the node owns the internal VIP again.
set -u
bld=$(pwd)
srcdir=${srcdir:-.}
tmp=$(mktemp -d /tmp/vg-l2d.XXXXXX)
. "$srcdir/tests/interop/l2-lib.sh"
l2_port_test
ING=10.77.0.205 INT=10.77.0.206

l2_setup
for n in $L2_NODES; do
	sed -i 's/^gateway: {enabled: false}/gateway: {workers: 1, drain_timeout: 5s, deployments: [{name: ingress, labels: {istio: ingressgateway}}, {name: internal, labels: {istio: internal-gateway}}]}/' "$tmp/$n.yaml"
done
gw_objs() { # name selector vip port...
	local name=$1 sel=$2 vip=$3 p servers=
	shift 3
	for p in "$@"; do
		servers="$servers{port: {number: $p, name: http-$p, protocol: HTTP}, hosts: [\"*\"]}, "
	done
	cat <<EOC
---
apiVersion: v1
kind: Service
metadata:
  name: $name
  namespace: istio-system
  annotations: {metallb.io/loadBalancerIPs: '$vip'}
spec:
  type: LoadBalancer
  selector: {istio: $sel}
  ports: [{name: http, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: $name, namespace: default}
spec:
  selector: {istio: $sel}
  servers: [${servers%, }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: $name, namespace: default}
spec:
  hosts: ["*"]
  gateways: [$name]
  http: [{directResponse: {status: 200, body: {string: "$name\n"}}}]
EOC
}
gw_objs ingress ingressgateway $ING 80 > "$tmp/objs/gw-ingress.yaml"
gw_objs internal internal-gateway $INT 80 > "$tmp/objs/gw-internal.yaml"
l2_dump_start
for n in $L2_NODES; do l2_start $n; done

owner_i= owner_g=
agree() { owner_i=$(l2_converged $INT 3) && [ -n "$owner_i" ] && owner_g=$(l2_converged $ING 3) && [ -n "$owner_g" ]; }
check "three speakers agree on both gateway VIPs' owners" wait_for 10 agree
echo "owners: internal $owner_i, ingress $owner_g"
o=${owner_i#node-}
get() { ip netns exec $L2_PFX-cl curl -sf -m 1 http://$1/; }
check "the client reaches the ingress gateway on $ING" wait_for 5 sh -c "ip netns exec $L2_PFX-cl curl -sf -m 1 http://$ING/ | grep -q ingress"
check "the client reaches the internal gateway on $INT" wait_for 5 sh -c "ip netns exec $L2_PFX-cl curl -sf -m 1 http://$INT/ | grep -q internal"

# candidates for a VIP as node N counts them
cands() { # node vip
	l2_ctl $1 l2 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for v in json.load(sys.stdin)["vips"]:
    if v["vip"] == sys.argv[1]: print(v["candidates"]); break' "$2"
}
all_cands() { # vip n: every node counts n candidates
	local n
	for n in $L2_NODES; do [ "$(cands $n $1)" = "$2" ] || return 1; done
}

# port 82 held on the internal VIP's owner, then the internal gateway gets a server there
ip netns exec $L2_PFX-$o /usr/bin/python3 -c '
import socket, time
s = socket.socket(); s.bind(("0.0.0.0", 82)); s.listen(1); time.sleep(60)' &
hold_pid=$!
wait_for 5 sh -c "ip netns exec $L2_PFX-$o ss -ltn | grep -q ':82 '" || fail "the port holder did not start"
gw_objs internal internal-gateway $INT 80 82 > "$tmp/objs/gw-internal.yaml"
for n in $L2_NODES; do "$bld/vipgatectl" -s "$tmp/$n.sock" reload > /dev/null 2>&1; done
moved() { next=$(l2_converged $INT 3) && [ -n "$next" ] && [ "$next" != "$owner_i" ]; }
next=
check "the internal VIP moves off $owner_i (its internal deployment cannot serve)" wait_for 5 moved
check "every node counts 2 candidates for the internal VIP" wait_for 3 all_cands $INT 2
check "... and still 3 for the ingress VIP: $owner_i serves it" all_cands $ING 3
check "the ingress VIP's owner stays $owner_g" test "$(l2_converged $ING 3)" = "$owner_g"
check "the others heard which deployment from its heartbeat" \
	grep -q "$owner_i.*its gateway cannot serve deployment internal" "$tmp/${next#node-}.log"
why=$(l2_ctl $o services | /usr/bin/python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] in ("internal", "ingress"): print(s["name"], s["why_not"])' | sort | tr '\n' ';')
check "vipgatectl services on $owner_i: internal withdrawn, ingress not ($why)" \
	test "$why" = "ingress None;internal gateway cannot serve: deployment internal: a listener is not bound;"
check "the client reaches the internal gateway through $next" wait_for 3 sh -c "ip netns exec $L2_PFX-cl curl -sf -m 1 http://$INT/ | grep -q internal"
check "... and the ingress gateway" sh -c "ip netns exec $L2_PFX-cl curl -sf -m 1 http://$ING/ | grep -q ingress"

# the port freed: the node serves the internal deployment again and wins its VIP back
kill $hold_pid; wait $hold_pid 2>/dev/null; hold_pid=
back() { [ "$(l2_converged $INT 3)" = "$owner_i" ] && all_cands $INT 3; }
check "the port free, $owner_i owns the internal VIP again (sha256 order)" wait_for 5 back
check "the client reaches the internal gateway on it" wait_for 3 sh -c "ip netns exec $L2_PFX-cl curl -sf -m 1 http://$INT:82/ | grep -q internal"

# SIGTERM: each node drains and exits 0 (under ASan: no error, no leak)
for n in $L2_NODES; do
	p=${L2_PID[$n]}; L2_PID[$n]=
	kill -TERM $p; wait $p; rc=$?
	check "node-$n exited 0 on SIGTERM (rc $rc)" test $rc -eq 0
done

echo "l2-deploy-health: $passes passed, $fails failed"
[ $fails -eq 0 ]
