#!/usr/bin/env bash
# vipgate quickstart.
#
#   sudo contrib/quickstart.sh          install what is missing, build, and run
#                                       vipgated on the sample config in a
#                                       network-namespace lab, in the foreground
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
      libmnl-dev libpcre2-dev libhttp-parser-dev libnghttp2-dev clang
      iproute2 procps curl python3 openssl
      bird2 frr gobgpd exabgp arping ndisc6 tcpdump
      nginx-light haproxy wrk nghttp2-client)

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
	local ns=vg-demo-$$ run
	run=$(mktemp -d /tmp/vipgate-demo.XXXXXX)
	cleanup() {
		ip -n "$ns" link del veth-node 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "$run"
	}
	trap cleanup EXIT
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	# the node's own address: one end of a veth pair (no dummy driver needed)
	ip link add veth-node netns "$ns" type veth peer name veth-rack netns "$ns"
	ip -n "$ns" addr add 10.0.0.2/24 dev veth-node
	ip -n "$ns" link set veth-node up
	ip -n "$ns" link set veth-rack up

	cp -r "$top/etc/objects.d" "$run/objects.d"
	sed -e "s|^\(\s*\)#\?socket:.*|\1socket: $run/vipgated.sock|" \
	    -e "s|^#\?state_dir:.*|state_dir: $run/state|" \
	    "$top/etc/vipgate.yaml" > "$run/vipgate.yaml"
	echo "quickstart: vipgated on $run/vipgate.yaml in namespace $ns (Ctrl-C stops it)"
	echo "quickstart: in another shell: $top/build/vipgatectl -s $run/vipgated.sock services"
	ip netns exec "$ns" "$top/build/vipgated" -f -c "$run/vipgate.yaml" || true
}

check() {
	local failed=0
	echo "== unit, daemon and netns tests"
	(cd "$top/build" && make -s -j"$jobs" check) || { failed=1; cat_failed "$top/build"; }
	echo "== the same under AddressSanitizer and UBSan"
	build "$top/build-asan" --enable-sanitizers
	(cd "$top/build-asan" && ASAN_OPTIONS=detect_leaks=1 make -s -j"$jobs" check) ||
		{ failed=1; cat_failed "$top/build-asan"; }
	echo "== fuzz harnesses (clang, libFuzzer): a short smoke run each"
	build "$top/build-fuzz" CC=clang --enable-fuzzing
	(cd "$top/build-fuzz" && make -s -j"$jobs" fuzz-smoke) || failed=1
	echo "== make distcheck"
	(cd "$top/build" && make -s distcheck >/dev/null) || failed=1
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
