#!/usr/bin/env bash
# Benchmark (not a timed test): a node's failure (vipgated frozen with
# SIGSTOP: a hung node keeps its link up, so only a liveness protocol sees
# it) until the ToR (BIRD 2, polled every 10 ms) has removed the node's
# route. Two ways, each RUNS times (10 unless set), median printed:
#   bfd:  BFD at 50 ms x 3 (BFD_IVL to change), BGP hold time 90 s
#   hold: no BFD, BGP hold time 3 s (MetalLB's smallest practical)
# Run from the build directory as root: `make bench-bfd`, or
#   RUNS=20 ../tests/bench/bfd-failover.sh
. "$(dirname "$0")/../interop/bgp-lib.sh"
command -v bird >/dev/null || { echo "needs bird2"; exit 77; }
runs=${RUNS:-10}
ivl=${BFD_IVL:-50}
birdsock=$tmp/bird.ctl
bird_pid=

bc() { birdc -s "$birdsock" "$@"; }
has_route() { bc show route table t4 "$1" | grep -q "^$1 "; }
no_route() { ! has_route "$@"; }
proto_up() { bc show protocols node4 | grep -q Established; }
bfd_up() { [ "$1" != bfd ] || bc show bfd sessions | grep -q ' Up '; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
	else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# mode bfd|hold: BIRD and vipgated configured for it
configure() {
	local bfd_bird= bfd_on= hold=90 peer_bfd=
	if [ "$1" = bfd ]; then
		bfd_bird="protocol bfd { interface \"vt\" { min rx interval $ivl ms; min tx interval $ivl ms; multiplier 3; }; }"
		bfd_on="bfd on;"
		peer_bfd=", bfdProfile: fast"
	else
		hold=3
	fi
	cat > "$tmp/bird.conf" <<EOC
router id 10.99.0.2;
log stderr all;
protocol device { scan time 1; }
$bfd_bird
ipv4 table t4;
protocol bgp node4 {
	local 10.99.0.2 as 64501;
	neighbor 10.99.0.1 as 64500;
	connect delay time 1; connect retry time 1; error wait time 1, 2;
	hold time $hold;
	$bfd_on
	ipv4 { table t4; import all; export none; };
}
EOC
	cat > "$tmp/objs/metallb.yaml" <<EOC
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec:
  addresses: [192.0.2.0/28]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: main, namespace: metallb-system}
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: $ivl, transmitInterval: $ivl, detectMultiplier: 3}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor4, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.99.0.2, holdTime: ${hold}s,
  connectTime: 1s$peer_bfd}
EOC
}

# one mode: RUNS failures, the times in ms on stdout
measure() {
	local mode=$1 i t0 web
	configure "$mode"
	rm -f "$birdsock"
	ip netns exec "$nst" bird -f -c "$tmp/bird.conf" -s "$birdsock" >>"$tmp/bird.log" 2>&1 &
	bird_pid=$!; peer_pids="$peer_pids $bird_pid"
	wait_for 5 test -S "$birdsock" || { echo "BIRD did not start" >&2; return 1; }
	start_vipgated || { echo "vipgated did not start" >&2; return 1; }
	web=$(json services | python3 -c 'import json,sys; print(json.load(sys.stdin)["services"][0]["vips"][0])')
	for i in $(seq "$runs"); do
		wait_for 30 proto_up && wait_for 10 bfd_up "$mode" && wait_for 10 has_route "$web/32" ||
			{ echo "$mode run $i: session not up" >&2; return 1; }
		# a little after the last keepalive or packet, at no fixed phase
		sleep "0.$((RANDOM % 9 + 1))"
		kill -STOP "$pid"
		t0=$(date +%s%N)
		WAIT_POLL=0.01 wait_for 10 no_route "$web/32" || echo "$mode run $i: not withdrawn in 10 s" >&2
		echo $(( ($(date +%s%N) - t0) / 1000000 ))
		kill -CONT "$pid"
	done
	stop "$pid"; pid=
	kill "$bird_pid"; wait "$bird_pid" 2>/dev/null; bird_pid=
}

setup_net
svc web > "$tmp/objs/svcs.yaml"
echo "node failure (SIGSTOP) -> BIRD withdraws the route; $runs runs each"
b=$(measure bfd) || exit 1
h=$(measure hold) || exit 1
echo "BFD ${ivl} ms x 3 (hold 90 s): median $(echo "$b" | median) ms  [$(echo $b)]"
echo "hold timer 3 s, no BFD:      median $(echo "$h" | median) ms  [$(echo $h)]"
