#!/usr/bin/env bash
# Heartbeats on their own network, announcements on the L2Advertisement's
# named interface (eth0) only: when the owner's eth0 loses its carrier it
# stops heartbeating, and another node announces within 1 s although the
# heartbeat network never broke.
set -u
bld=$(pwd)
srcdir=${srcdir:-.}
tmp=$(mktemp -d /tmp/vg-l2hb.XXXXXX)
L2_HB_NET=1
. "$srcdir/tests/interop/l2-lib.sh"
l2_need
fails=0 passes=0

cleanup() { l2_cleanup; rm -rf "$tmp"; }
trap cleanup EXIT

ok() { passes=$((passes + 1)); echo "ok: $*"; }
fail() {
	fails=$((fails + 1)); echo "FAIL: $*"
	for n in $L2_NODES; do echo "--- $n"; tail -15 "$tmp/$n.log" 2>/dev/null; done
}
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

l2_setup
l2_dump_start
for n in $L2_NODES; do l2_start $n; done
owner=
converged() { owner=$(l2_converged $L2_VIP4 3) && [ -n "$owner" ]; }
check "three speakers agree over the heartbeat network" wait_for 5 converged
o=${owner#node-}
ifs() { l2_ctl $o l2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["interfaces"])'; }
check "responders on the named interface only ($(ifs))" test "$(ifs)" = eth0
check "eth1 is not an announcing interface" \
	test "$(ip netns exec $L2_PFX-$o cat /proc/sys/net/ipv4/conf/eth1/arp_announce)" != 2
ip netns exec $L2_PFX-cl timeout 3 arping -c 1 -i eth0 $L2_VIP4 > "$tmp/arping" 2>&1
check "arping reaches the owner" grep -q "from ${L2_MAC[$o]}" "$tmp/arping"

t0=$(date +%s%N)
ip -n $L2_PFX-br link set p$o down
garp() {
	local n
	for n in $L2_NODES; do
		[ $n = $o ] && continue
		l2_first_garp_ms ${L2_MAC[$n]} $L2_VIP4 $t0 && return 0
	done
	return 1
}
check "carrier lost on the owner's eth0: another node's GARP within 1 s" wait_for 2 garp
echo "link down -> GARP: $(garp) ms"
check "the owner says why" grep -q "no responder interface has a carrier" "$tmp/$o.log"
ip -n $L2_PFX-br link set p$o up
check "carrier back: three speakers again" wait_for 5 converged

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
