#!/usr/bin/env bash
# L2 mode end to end: three vipgated nodes and a client on a bridge, all in
# namespaces this test makes. arping/ndisc6 from the client see only the
# elected owner's MAC; tcpdump sees the GARP burst; SIGTERM hands over within
# 100 ms, SIGKILL and a cut link fail over within 1 s; one MAC per VIP.
set -u
bld=$(pwd)
srcdir=${srcdir:-.}
tmp=$(mktemp -d /tmp/vg-l2.XXXXXX)
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
now_ns() { date +%s%N; }

l2_setup
l2_dump_start
t_start=$(now_ns)
for n in $L2_NODES; do l2_start $n; done

owner=
converged() { owner=$(l2_converged $L2_VIP4 3) && [ -n "$owner" ]; }
check "three speakers agree on the owner" wait_for 5 converged
t_conv=$(now_ns)
o=${owner#node-}
echo "owner: $owner (${L2_MAC[$o]})"
check "arp_ignore=1 on the announcing interface" \
	test "$(ip netns exec $L2_PFX-$o cat /proc/sys/net/ipv4/conf/eth0/arp_ignore)" = 1
check "arp_announce=2 on the announcing interface" \
	test "$(ip netns exec $L2_PFX-$o cat /proc/sys/net/ipv4/conf/eth0/arp_announce)" = 2

# arping: every answer comes from the owner's MAC
ip netns exec $L2_PFX-cl timeout 5 arping -c 3 -i eth0 $L2_VIP4 > "$tmp/arping" 2>&1
macs=$(grep -oE 'from ([0-9a-f]{2}:){5}[0-9a-f]{2}' "$tmp/arping" | sort -u | awk '{print $2}')
check "arping gets an answer" test -n "$macs"
check "arping sees only the owner's MAC ($macs)" test "$macs" = "${L2_MAC[$o]}"

# ndisc6: the IPv6 VIP resolves to its owner's MAC
owner6=$(l2_owner a $L2_VIP6)
mac6=$(ip netns exec $L2_PFX-cl timeout 5 ndisc6 -1 -r 3 -w 500 $L2_VIP6 eth0 2>&1 |
	awk '/Target link-layer address/ {print tolower($NF)}')
check "ndisc6 resolves $L2_VIP6 to its owner's MAC ($mac6, owner $owner6)" \
	test -n "$mac6" -a "$mac6" = "${L2_MAC[${owner6#node-}]:-none}"

check "the owner joined the solicited-node group of $L2_VIP6" sh -c \
	"ip -n $L2_PFX-${owner6#node-} maddr show dev eth0 | grep -q 33:33:ff:00:02:00"

# the burst: at once, then every 1.1 s for 5 s (5 rounds), then quiet
garp_times() { # mac vip: epoch seconds of each GARP request
	grep "$1 > ff:ff:ff:ff:ff:ff, ethertype ARP.*Request who-has $2 tell $2," "$tmp/dump" |
		awk '{print $1}'
}
burst_done() { [ $(( $(now_ns) - t_start )) -gt 6500000000 ]; }
wait_for 8 burst_done
times=$(garp_times ${L2_MAC[$o]} $L2_VIP4 | tr '\n' ' ')
# (5 consecutive rounds: a slow start may have moved the VIP once before)
check "tcpdump sees the GARP burst: 5 rounds 1.1 s apart ($times)" python3 -c '
import sys
t = [float(x) for x in sys.argv[1:]]
ok = any(all(1.0 < b - a < 1.4 for a, b in zip(t[i:i + 5], t[i + 1:i + 5]))
         for i in range(len(t) - 4))
sys.exit(0 if ok else 1)' $times
check "GARP reply form too" grep -q "${L2_MAC[$o]} > ff:ff:ff:ff:ff:ff, ethertype ARP.*Reply $L2_VIP4 is-at" "$tmp/dump"
check "unsolicited NA to ff02::1" grep -q "> 33:33:00:00:00:01, ethertype IPv6.*neighbor advertisement, tgt is $L2_VIP6" "$tmp/dump"
t_healthy=$(now_ns)
claim=$(l2_claimers $L2_VIP4 $t_conv $t_healthy)
check "one MAC claims $L2_VIP4 in a healthy segment ($claim)" test "$claim" = "${L2_MAC[$o]}"

# SIGTERM: the leave message hands over at once
t0=$(now_ns)
kill -TERM ${L2_PID[$o]}
next=
converged2() { next=$(l2_converged $L2_VIP4 2) && [ -n "$next" ] && [ "$next" != "$owner" ]; }
wait ${L2_PID[$o]}; rc=$?
L2_PID[$o]=
check "SIGTERM exits 0" test $rc -eq 0
check "the others agree on a new owner" wait_for 3 converged2
n2=${next#node-}
ms=$(l2_first_garp_ms ${L2_MAC[$n2]} $L2_VIP4 $t0)
echo "SIGTERM -> GARP of $next: ${ms:-none} ms"
check "SIGTERM: new owner's GARP within 100 ms (${ms:-none} ms)" \
	python3 -c "import sys; sys.exit(0 if float('${ms:-1e9}') <= 100 else 1)"

# SIGKILL: the dead-peer timeout (5 x 50 ms) moves it
t0=$(now_ns)
kill -9 ${L2_PID[$n2]}
wait ${L2_PID[$n2]} 2>/dev/null
L2_PID[$n2]=
rest=$(echo $L2_NODES | tr ' ' '\n' | grep -v -e "^$o\$" -e "^$n2\$")
check "SIGKILL: new owner's GARP within 1 s" wait_for 2 l2_first_garp_ms ${L2_MAC[$rest]} $L2_VIP4 $t0
echo "SIGKILL -> GARP of node-$rest: $(l2_first_garp_ms ${L2_MAC[$rest]} $L2_VIP4 $t0) ms"
ms=$(l2_first_garp_ms ${L2_MAC[$rest]} $L2_VIP4 $t0)
check "SIGKILL: within 1000 ms (${ms:-none} ms)" \
	python3 -c "import sys; sys.exit(0 if float('${ms:-1e9}') <= 1000 else 1)"

# link cut: bring the others back, then cut the owner's port
l2_start $o
l2_start $n2
check "three speakers again" wait_for 5 converged
o=${owner#node-}
t0=$(now_ns)
ip -n $L2_PFX-br link set p$o down
check "link cut: another node's GARP within 1 s" wait_for 2 sh -c "
	for m in $(for n in $L2_NODES; do [ $n != $o ] && printf '%s ' ${L2_MAC[$n]}; done); do
		. '$srcdir/tests/interop/l2-lib.sh' 2>/dev/null; tmp='$tmp' l2_first_garp_ms \$m $L2_VIP4 $t0 && exit 0
	done; exit 1"
ip -n $L2_PFX-br link set p$o up
check "link back: three speakers agree again" wait_for 5 converged

# conflict: the client claims the VIP; the owner sees another MAC
o=${owner#node-}
ip netns exec $L2_PFX-cl timeout 3 arping -q -U -c 1 -S $L2_VIP4 -i eth0 $L2_VIP4 >/dev/null 2>&1
conflict() { l2_ctl $o l2 | grep -q '"conflict": "02:00:00:00:00:99"'; }
check "a GARP for an owned VIP from another MAC is a conflict in vipgatectl l2" wait_for 3 conflict
check "the conflict is logged" grep -q "conflict: $L2_VIP4 .*02:00:00:00:00:99" "$tmp/$o.log"
check "vipgatectl l2 renders a table" sh -c "'$bld/vipgatectl' -s '$tmp/$o.sock' l2 | grep -q '^VIP .*OWNER'"

# IPv6 after all that churn: still exactly its owner
owner6=$(l2_owner a $L2_VIP6)
mac6=$(ip netns exec $L2_PFX-cl timeout 5 ndisc6 -1 -r 3 -w 500 $L2_VIP6 eth0 2>&1 |
	awk '/Target link-layer address/ {print tolower($NF)}')
check "ndisc6 after failovers: $L2_VIP6 -> $mac6 (owner $owner6)" \
	test -n "$mac6" -a "$mac6" = "${L2_MAC[${owner6#node-}]:-none}"

# l2.refresh, changed by a reload: 200 ms gives 5 or more rounds a second
sed -i 's/refresh: .*/refresh: 200ms/' "$tmp/$o.yaml"
kill -HUP ${L2_PID[$o]}
sleep 0.3
t0=$(now_ns)
sleep 1.2
n=$(python3 - "$tmp/dump" ${L2_MAC[$o]} $L2_VIP4 $t0 <<'EOP'
import re, sys
path, mac, vip, t0 = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
n = 0
for line in open(path, errors="replace"):
    m = re.match(r"(\d+)\.(\d+) (\S+) > ff:ff:ff:ff:ff:ff, ethertype ARP.*Request who-has (\S+) tell (\S+),", line)
    if m and m.group(3) == mac and m.group(4) == vip == m.group(5):
        if int(m.group(1)) * 10**9 + int(m.group(2).ljust(9, "0")) >= t0:
            n += 1
print(n)
EOP
)
check "l2.refresh 200ms after SIGHUP: $n GARP rounds in 1.2 s" test "$n" -ge 5

# externalTrafficPolicy Local: only the node with the endpoint may answer
python3 - "$tmp/objs/l2.yaml" <<'EOP'
import sys
p = sys.argv[1]
docs = open(p).read().split("---\n")
for i, d in enumerate(docs):
    if "kind: Service\n" in d and "name: web4\n" in d:
        docs[i] = d.replace("  type: LoadBalancer\n", "  type: LoadBalancer\n  externalTrafficPolicy: Local\n")
    if "name: web4-x" in d:
        docs[i] = "\n".join(l for l in d.split("\n") if "node-a" not in l and "node-c" not in l)
open(p + ".tmp", "w").write("---\n".join(docs))
EOP
mv "$tmp/objs/l2.yaml.tmp" "$tmp/objs/l2.yaml"
etp_b() { [ "$(l2_converged $L2_VIP4 3)" = node-b ]; }
check "ETP Local: every node elects the endpoint's node-b" wait_for 10 etp_b
check "ETP Local: the client resolves $L2_VIP4 to node-b" wait_for 5 sh -c \
	"ip netns exec $L2_PFX-cl timeout 2 arping -c 1 -i eth0 $L2_VIP4 | grep -q 'from ${L2_MAC[b]}'"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
