# Shared by the tests/interop/bgp-*.sh scripts: a node namespace running
# vipgated and a ToR namespace running a peer, joined by a veth pair.
# node: 10.99.0.1 / fd99::1, tor: 10.99.0.2 / fd99::2.
set -u
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
ip netns add vg-probe-$$ 2>/dev/null || { echo "SKIP: ip netns unavailable"; exit 77; }
ip netns del vg-probe-$$

bld=$(pwd)
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
vipgated=$bld/vipgated
ctl=$bld/vipgatectl
nsn=vgb-n-$$
nst=vgb-t-$$
tmp=$(mktemp -d /tmp/vg-bgp.XXXXXX)
chmod 755 "$tmp"
pid=
peer_pids=
fails=0 passes=0

cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	for p in $peer_pids; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	# what the peers left (nginx's workers outlive a killed master)
	for n in "$nsn" "$nst"; do ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null; done
	ip -n "$nsn" link del vn 2>/dev/null
	ip netns del "$nsn" 2>/dev/null
	ip netns del "$nst" 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" TERM INT HUP

fail() { fails=$((fails + 1)); echo "FAIL: $*"; [ -f "$tmp/log" ] && tail -15 "$tmp/log"; }



json() { "$ctl" -s "$tmp/sock" --json "$@"; }
# peer_field PEER FIELD: from vipgatectl bgp
peer_field() { json bgp | python3 -c '
import json, sys
for p in json.load(sys.stdin)["peers"]:
    if p["peer"] == sys.argv[1]:
        print(p[sys.argv[2]])' "$1" "$2"; }

setup_net() {
	ip netns add "$nsn"
	ip netns add "$nst"
	ip -n "$nsn" link set lo up
	ip -n "$nst" link set lo up
	ip -n "$nsn" link add vn type veth peer name vt netns "$nst"
	ip -n "$nsn" addr add 10.99.0.1/24 dev vn
	ip -n "$nst" addr add 10.99.0.2/24 dev vt
	ip -n "$nsn" addr add fd99::1/64 dev vn nodad
	ip -n "$nst" addr add fd99::2/64 dev vt nodad
	ip -n "$nsn" link set vn up
	ip -n "$nst" link set vt up
	mkdir -p "$tmp/objs" "$tmp/state"
	cat > "$tmp/vipgate.yaml" <<EOC
node: {name: node-a, address: 10.99.0.1}
objects: {paths: [objs]}
control: {socket: $tmp/sock}
addresses: {interface: lo}
gateway: {enabled: false}
state_dir: state
log: {level: debug}
EOC
}

# svc NAME [ETP]: a LoadBalancer Service with a ready endpoint on node-a
svc() {
	cat <<EOC
---
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: default, labels: {app: $1}}
spec:
  type: LoadBalancer
  externalTrafficPolicy: ${2:-Cluster}
  ipFamilyPolicy: ${3:-SingleStack}
  ipFamilies: [${4:-IPv4}]
  selector: {app: $1}
  ports: [{port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: $1-x, namespace: default, labels: {kubernetes.io/service-name: $1}}
addressType: IPv4
endpoints: [{addresses: [10.9.0.1], nodeName: ${5:-node-a}}]
EOC
}

start_vipgated() {
	ip netns exec "$nsn" "$vipgated" -f -c "$tmp/vipgate.yaml" >>"$tmp/log" 2>&1 &
	pid=$!
	wait_for 5 json status
}

# bird_hold3_setup: BIRD's config for one IPv4 session to vipgated with a
# 3 s hold time (so a main loop that stalls 3 s loses it), the MetalLB
# objects that peer with it, bc and proto_up; for the tests that load the
# main loop (tests/daemon/manifest-load.sh, tests/bench/manifest-stress.sh)
bird_hold3_setup() {
	birdsock=$tmp/bird.ctl
	cat > "$tmp/bird.conf" <<'EOC'
router id 10.99.0.2;
log stderr all;
protocol device { scan time 1; }
ipv4 table t4;
protocol bgp node4 {
	local 10.99.0.2 as 64501;
	neighbor 10.99.0.1 as 64500;
	connect delay time 1; connect retry time 2; error wait time 1, 5;
	hold time 3;
	ipv4 { table t4; import all; export none; };
}
EOC
	cat > "$tmp/objs/metallb.yaml" <<'EOC'
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec:
  addresses: [192.0.2.0/28]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: main, namespace: metallb-system}
spec:
  ipAddressPools: [pool]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor4, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.99.0.2, holdTime: 3s}
EOC
}
bc() { birdc -s "$birdsock" "$@"; }
proto_up() { bc show protocols "${1:-node4}" | grep -q Established; }
