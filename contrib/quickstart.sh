#!/usr/bin/env bash
# vipgate quickstart.
#
#   sudo contrib/quickstart.sh          install what is missing, build, and run
#                                       vipgated on the sample config in a
#                                       network-namespace lab, in the foreground:
#                                       a BIRD router receives the VIP by BGP, a
#                                       client resolves it by ARP and runs the
#                                       seed's curl through the gateway to a pod
#   sudo contrib/quickstart.sh check    same set-up, then the whole test suite:
#                                       unit, daemon and netns tests, the same
#                                       under ASan+UBSan, a fuzz smoke run and
#                                       make distcheck
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-demo}
jobs=$(nproc 2>/dev/null || echo 2)

# Debian packages: build, test and lab tools.
pkgs=(build-essential autoconf automake libtool pkg-config
      libevent-dev libssl-dev libyaml-dev libjansson-dev libcunit1-dev
      libmnl-dev libpcre2-dev libhttp-parser-dev libnghttp2-dev clang libclang-rt-14-dev
      libcurl4-openssl-dev libsystemd-dev libcap-ng-dev
      iproute2 procps curl python3 python3-jwt openssl
      bird2 frr gobgpd exabgp arping ndisc6 tcpdump
      nginx-light haproxy wrk nghttp2-client nghttp2-server slowhttptest python3-grpcio
      postgresql)

die() { echo "quickstart: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo): the lab uses network namespaces"

install_missing() {
	local missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "quickstart: installing ${missing[*]}"
		apt-get update -q
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
}

build() { # build DIR [configure args...]
	local dir=$1; shift
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs")
}

bootstrap() {
	install_missing
	(cd "$top" && autoreconf -fi >/dev/null 2>&1) || (cd "$top" && autoreconf -fi)
	build "$top/build"
}

demo() {
	# global: the EXIT trap runs after this function has returned
	ns=vg-demo-$$ run=
	run=$(mktemp -d /tmp/vipgate-demo.XXXXXX)
	cleanup() {
		[ -n "${bird_pid:-}" ] && kill "$bird_pid" 2>/dev/null || true
		ip -n "$ns" link del veth-bgp 2>/dev/null || true
		ip netns del "$ns-tor" 2>/dev/null || true
		ip -n "$ns" link del veth-node 2>/dev/null || true
		[ -n "${pod_pid:-}" ] && kill "$pod_pid" 2>/dev/null || true
		ip -n "$ns" link del veth-pods 2>/dev/null || true
		ip netns del "$ns-pods" 2>/dev/null || true
		ip netns del "$ns-client" 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "$run"
	}
	trap cleanup EXIT
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	# the segment: the node (10.0.0.2) and a client (10.0.0.10) on a veth
	# pair (no dummy driver needed); the client reaches the pool on-link,
	# so it ARPs for the VIP and vipgated's L2 responder answers
	ip netns add "$ns-client"
	ip -n "$ns-client" link set lo up
	ip -n "$ns" link add veth-node type veth peer name veth-client netns "$ns-client"
	ip -n "$ns" addr add 10.0.0.2/24 dev veth-node
	ip -n "$ns-client" addr add 10.0.0.10/24 dev veth-client
	ip -n "$ns" link set veth-node up
	ip -n "$ns-client" link set veth-client up
	ip -n "$ns-client" route add 192.168.1.0/24 dev veth-client

	cp -r "$top/etc/objects.d" "$run/objects.d"
	sed -e "s|^\(\s*\)#\?socket:.*|\1socket: $run/vipgated.sock|" \
	    -e "s|^#\?state_dir:.*|state_dir: $run/state|" \
	    "$top/etc/vipgate.yaml" > "$run/vipgate.yaml"
	demo_bgp
	demo_l2
	demo_gw
	echo "quickstart: vipgated on $run/vipgate.yaml in namespace $ns (Ctrl-C stops it)"
	echo "quickstart: in another shell: $top/build/vipgatectl -s $run/vipgated.sock services"
	ip netns exec "$ns" "$top/build/vipgated" -f -c "$run/vipgate.yaml" || true
}

# The rack's top-of-rack router: BIRD in a namespace of its own, peering
# with vipgated over a second veth pair; it prints the routes it receives.
# The seed's productpage pods (10.244.1.10 and 10.244.2.10, port 9080) in a
# namespace behind the node, and the seed's curl from the client.
demo_gw() {
	ip netns add "$ns-pods"
	ip -n "$ns-pods" link set lo up
	ip -n "$ns" link add veth-pods type veth peer name veth-pod netns "$ns-pods"
	ip -n "$ns" addr add 10.244.0.1/16 dev veth-pods
	ip -n "$ns-pods" addr add 10.244.1.10/16 dev veth-pod
	ip -n "$ns-pods" addr add 10.244.2.10/16 dev veth-pod
	ip -n "$ns" link set veth-pods up
	ip -n "$ns-pods" link set veth-pod up
	mkdir -p "$run/www"
	echo "productpage: served by a pod behind vipgate" > "$run/www/productpage"
	(cd "$run/www" && exec ip netns exec "$ns-pods" python3 -m http.server 9080 \
	    >/dev/null 2>&1) &
	pod_pid=$!
	( sleep 6
	  echo "quickstart: from the client: curl -H 'Host: bookinfo.example.com' http://192.168.1.200/productpage"
	  ip netns exec "$ns-client" curl -sS -m 5 -i -H "Host: bookinfo.example.com" \
	      http://192.168.1.200/productpage 2>&1 | sed 's/^/    /'
	  echo "quickstart: metrics: curl http://192.168.1.200:15020/stats/prometheus"
	  ip netns exec "$ns-client" curl -sS -m 5 http://192.168.1.200:15020/stats/prometheus |
	      grep -E '^(istio_requests_total|metallb_bgp_session_up|metallb_layer2_gratuitous_sent)' |
	      sed 's/^/    /' ) &
}
demo_l2() {
	command -v arping >/dev/null || return 0
	( sleep 5
	  mac=$(ip -n "$ns" -o link show veth-node | sed -n 's/.*ether \([0-9a-f:]*\).*/\1/p')
	  echo "quickstart: the client in $ns-client asks who has 192.168.1.200 (node's MAC $mac):"
	  ip netns exec "$ns-client" arping -C1 -w 3 -i veth-client 192.168.1.200 2>&1 | sed 's/^/    /' ) &
}
demo_bgp() {
	command -v bird >/dev/null || return 0
	ip netns add "$ns-tor"
	ip -n "$ns-tor" link set lo up
	ip -n "$ns" link add veth-bgp type veth peer name veth-tor netns "$ns-tor"
	ip -n "$ns" addr add 10.0.1.2/24 dev veth-bgp
	ip -n "$ns-tor" addr add 10.0.1.1/24 dev veth-tor
	ip -n "$ns" link set veth-bgp up
	ip -n "$ns-tor" link set veth-tor up
	cat > "$run/objects.d/50-bgp-demo.yaml" <<'EOC'
# quickstart only: announce the pool to the lab's BIRD router as well
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 10.0.1.1}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: tor, namespace: metallb-system}
spec: {ipAddressPools: [istio-pool], communities: ["64512:100"]}
EOC
	cat > "$run/bird.conf" <<'EOC'
router id 10.0.1.1;
protocol device { scan time 1; }
protocol bgp node { local 10.0.1.1 as 64513; neighbor 10.0.1.2 as 64512;
	connect delay time 1; connect retry time 2;
	ipv4 { import all; export none; }; }
EOC
	ip netns exec "$ns-tor" bird -f -c "$run/bird.conf" -s "$run/bird.ctl" &
	bird_pid=$!
	( sleep 4; echo "quickstart: the BIRD router in $ns-tor receives:";
	  birdc -s "$run/bird.ctl" show route all 2>/dev/null | sed 's/^/    /' ) &
	echo "quickstart: BIRD router: birdc -s $run/bird.ctl show route all"
}

check() {
	local failed=0 rc=0
	# the Kubernetes control plane tests/daemon/kube-real.sh runs against
	# (Go test peers: etcd, kube-apiserver, kubectl), built once into
	# build/ and shared with the ASan build and distcheck
	echo "== etcd, kube-apiserver and kubectl for the kube tests (tests/kube/build.sh)"
	"$top/tests/kube/build.sh" "$top/build" || rc=$?
	[ $rc -eq 0 ] || { echo "quickstart: tests/kube/build.sh: exit $rc"; failed=1; }
	export VIPGATE_KUBE_BIN=$top/build/tests/kube/bin
	echo "== unit, daemon and netns tests"
	(cd "$top/build" && make -s -j"$jobs" check) || { failed=1; cat_failed "$top/build"; }
	echo "== the same under AddressSanitizer and UBSan"
	build "$top/build-asan" --enable-sanitizers
	# (the 10,000-Service LIST of kube-real.sh runs once, in the plain build)
	(cd "$top/build-asan" && ASAN_OPTIONS=detect_leaks=1 KUBE_REAL_BULK=1000 \
	    make -s -j"$jobs" check) ||
		{ failed=1; cat_failed "$top/build-asan"; }
	echo "== fuzz harnesses (clang, libFuzzer): a short smoke run each"
	build "$top/build-fuzz" CC=clang --enable-fuzzing
	(cd "$top/build-fuzz" && make -s -j"$jobs" fuzz-smoke) || failed=1
	echo "== make distcheck (the tarball builds, installs and passes its unit tests)"
	# the whole suite ran twice above, plain and under ASan: the tarball's
	# own build runs the unit tests, which need no namespaces or peers
	local units
	units=$(cd "$top/build" && for f in tests/unit/test_*; do
		if [ -f "$f" ] && [ -x "$f" ]; then echo "$f"; fi; done | tr '\n' ' ')
	(cd "$top/build" && VIPGATE_NO_KUBE=1 make -s distcheck TESTS="$units" >/dev/null) ||
		failed=1
	summary
	[ $failed -eq 0 ] || die "some tests failed"
	echo "quickstart: all tests passed"
}

# One closing line over both builds' automake summaries.
summary() {
	local p=0 f=0 s=0 x
	for x in "$top/build/test-suite.log" "$top/build-asan/test-suite.log"; do
		[ -f "$x" ] || continue
		p=$((p + $(awk '/^# PASS:/ {print $3}' "$x")))
		f=$((f + $(awk '/^# FAIL:/ {print $3}' "$x") + $(awk '/^# ERROR:/ {print $3}' "$x")))
		s=$((s + $(awk '/^# SKIP:/ {print $3}' "$x")))
	done
	echo "$p passed, $f failed, $s skipped"
}

cat_failed() {
	find "$1/tests" -name '*.log' -newer "$1/Makefile" -print0 2>/dev/null |
	    xargs -0 -r grep -l -E '^(FAIL|ERROR)' 2>/dev/null | while read -r f; do
		echo "---- $f"; tail -50 "$f"
	done
}

case $mode in
demo) bootstrap; demo ;;
check) bootstrap; check ;;
*) die "usage: $0 [check]" ;;
esac
