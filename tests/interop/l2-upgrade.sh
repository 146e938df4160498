#!/usr/bin/env bash
# A binary upgrade (vipgated -x) of the node that owns the gateway VIP in L2
# mode: three vipgated nodes and a client on one bridge, in namespaces this
# test makes. While the client sends requests in a loop and arping asks for
# the VIP every 50 ms, the owner's vipgated is replaced: every ARP request
# is answered, always from the owner's MAC; no other node claims the VIP
# (no leave was sent); the speakers agree on the same owner afterwards; no
# request fails; the old process exits 0.
set -u
bld=$(pwd)
srcdir=${srcdir:-.}
tmp=$(mktemp -d /tmp/vg-l2u.XXXXXX)
. "$srcdir/tests/interop/l2-lib.sh"
l2_need
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl missing"; exit 77; }
fails=0 passes=0
new_pid=

cleanup() { [ -n "$new_pid" ] && kill -9 $new_pid 2>/dev/null; l2_cleanup; rm -rf "$tmp"; }
trap cleanup EXIT

fail() {
	fails=$((fails + 1)); echo "FAIL: $*"
	for n in $L2_NODES; do echo "--- $n"; tail -15 "$tmp/$n.log" 2>/dev/null; done
}
now_ns() { date +%s%N; }
GW_VIP=10.77.0.205

l2_gw_lab $GW_VIP

l2_gw_loop $GW_VIP 7
# one ARP request every 50 ms (an unanswered one prints Timeout)
ip netns exec $L2_PFX-cl timeout 15 arping -i eth0 -W 0.05 -c 120 $GW_VIP \
	> "$tmp/arping" 2>&1 &
arp=$!
sleep 1.5
t0=$(now_ns)
(cd "$tmp" && exec ip netns exec $L2_PFX-$o "$bld/vipgated" -f -c "$tmp/$o.yaml" -x "$tmp/$o.sock") \
	>>"$tmp/$o-new.log" 2>&1 &
new_pid=$!
opid=${L2_PID[$o]}
wait_for 10 sh -c "! kill -0 $opid 2>/dev/null"
wait $opid; rc=$?
L2_PID[$o]=$new_pid
check "the old vipgated exited 0 (rc $rc)" test $rc -eq 0
wait $loop $arp
t1=$(now_ns)
read -r sent failed < "$tmp/loop.out"
echo "  requests during the upgrade: ${sent:-0} sent, ${failed:-?} failed"
check "no request failed (${failed:-?} of ${sent:-0})" test "${failed:-1}" -eq 0 -a "${sent:-0}" -gt 20
got=$(grep -c 'bytes from' "$tmp/arping")
lost=$(grep -c -i 'timeout' "$tmp/arping")
echo "  arping: $got answered, $lost unanswered"
check "arping: every request answered ($got, $lost lost)" test "$got" -ge 100 -a "$lost" -eq 0
others=$(grep 'bytes from' "$tmp/arping" | grep -vic "from ${L2_MAC[$o]}")
check "... always from the owner's MAC ($others from others)" test "$others" -eq 0
claim=$(l2_claimers $GW_VIP $t0 $t1)
check "no other node claimed the VIP (claimers: ${claim:-none})" \
	sh -c "[ -z '$claim' ] || [ '$claim' = '$(echo ${L2_MAC[$o]} | tr A-F a-f)' ]"
same() { [ "$(l2_converged $GW_VIP 3)" = "$owner" ]; }
check "the three speakers agree on the same owner" wait_for 5 same
check "the others never heard a leave" sh -c "! grep -h 'leaves' $tmp/*.log | grep -q node-$o"
check "the client reaches the gateway" ip netns exec $L2_PFX-cl curl -sf -m 1 -o /dev/null http://$GW_VIP/
grep -E 'upgrade' "$tmp/$o.log" "$tmp/$o-new.log" | sed 's/^/  /'

echo "l2-upgrade: $passes passed, $fails failed"
[ $fails -eq 0 ]
