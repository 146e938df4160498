# The three-node lab shared by the BIRD ToR tests (drain-bird.sh,
# upgrade-bird.sh): namespaces for a BIRD 2 top-of-rack router, a client
# behind it and three vipgated nodes, each on its own link to the ToR:
#
#   client 10.98.0.1 -- tor -- 10.99.1.1 node a (netns $nsa)
#                           -- 10.99.2.1 node b ($nsb)
#                           -- 10.99.3.1 node c ($nsd)
#
# The nodes serve the gateway VIP $VIP on port 80 and announce it to BIRD
# (AS 64501) from AS 64500; BIRD merges the paths into one ECMP route in
# kernel table 100 (main with TOR_PLAIN=1), and lab_resil forwards by a
# resilient nexthop group kept in step with BIRD's best paths.
#
# Before sourcing: LAB_TAG (namespace prefix, 3 letters), WAIT_S
# (drain.withdraw_after, s). Knobs: LAB_GR=1 (BGPPeer enableGracefulRestart),
# LAB_BIRD_EXTRA (lines for BIRD's bgp template), LAB_TOR_AS (BIRD's AS,
# 64501 by default; 64500 makes the sessions iBGP).
set -u
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
for t in bird birdc wrk curl ip ss /usr/bin/python3; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t missing"; exit 77; }
done
ip netns add vg-probe-$$ 2>/dev/null || { echo "SKIP: ip netns unavailable"; exit 77; }
ip netns del vg-probe-$$

bld=$(pwd)
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
vipgated=$bld/vipgated
ctl=$bld/vipgatectl
nst=$LAB_TAG-t-$$ nsc=$LAB_TAG-c-$$
nsa=$LAB_TAG-a-$$ nsb=$LAB_TAG-b-$$ nsd=$LAB_TAG-d-$$	# nsd: node c
tmp=$(mktemp -d /tmp/vg-lab.XXXXXX)
chmod 755 "$tmp"
VIP=192.0.2.10
pid_a= pid_b= pid_c= bird_pid= loop_pid= hold_pid= LAB_PIDS=
fails=0 passes=0

cleanup() {
	for p in $pid_a $pid_b $pid_c $bird_pid $loop_pid $hold_pid $LAB_PIDS; do
		kill -9 "$p" 2>/dev/null
	done
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

lab_net() {
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
}

lab_bird() {
	cat > "$tmp/bird.conf" <<-'EOC'
	router id 10.99.1.254;
	log stderr all;
	protocol device { scan time 1; }
	# RFC 8326 section 4.2: a receiver lowers the preference of GRACEFUL_SHUTDOWN routes
	filter gshut {
		if (65535, 0) ~ bgp_community then preference = 10;
		accept;
	}
	template bgp node {
		local as LAB_TOR_AS;
		connect delay time 1; connect retry time 1; error wait time 1, 2;
		hold time 9;
		LAB_BIRD_EXTRA
		ipv4 { import filter gshut; export none; };
	}
	protocol bgp a from node { neighbor 10.99.1.1 as 64500; }
	protocol bgp b from node { neighbor 10.99.2.1 as 64500; }
	protocol bgp c from node { neighbor 10.99.3.1 as 64500; }
	protocol kernel { kernel table KTABLE; merge paths on; ipv4 { export all; }; }
	EOC
	sed -i "s/LAB_BIRD_EXTRA/${LAB_BIRD_EXTRA:-}/; s/LAB_TOR_AS/${LAB_TOR_AS:-64501}/; s/KTABLE/$([ -n "${TOR_PLAIN:-}" ] && echo 254 || echo 100)/" "$tmp/bird.conf"
	ktable=$([ -n "${TOR_PLAIN:-}" ] && echo main || echo 100)
	ip netns exec $nst bird -f -c "$tmp/bird.conf" -s "$tmp/bird.ctl" >"$tmp/bird.log" 2>&1 &
	bird_pid=$!
	wait_for 5 test -S "$tmp/bird.ctl" || { echo "FAIL: bird did not start"; cat "$tmp/bird.log"; exit 1; }
}

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
spec: {myASN: 64500, peerASN: ${LAB_TOR_AS:-64501}, peerAddress: $1, holdTime: 9s${LAB_GR:+, enableGracefulRestart: true}}
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


# ---- the ToR's forwarding: a resilient nexthop group following BIRD ----
lab_resil() {	# SECONDS: nexthops, then the loop in the background (loop_pid)
	ip -n $nst nexthop add id 1 via 10.99.1.1 dev va
	ip -n $nst nexthop add id 2 via 10.99.2.1 dev vb
	ip -n $nst nexthop add id 3 via 10.99.3.1 dev vd
	resil_loop "$1" &
	loop_pid=$!
}
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
buckets() { ip -n $nst nexthop bucket show id 10 | grep -o 'nhid [0-9]*' | sort | uniq -c | awk '{printf "%s%s:%s", sep, $3, $1; sep=" "}'; }
