#!/usr/bin/env bash
# BFD between vipgated and BIRD 2 (`protocol bfd`, `bfd on` in the BGP
# protocol) as the ToR, on an eBGP IPv4 session with MetalLB's default hold
# time (90 s), and an iBGP IPv6 one: BFD Up, then BGP; vipgated frozen
# (SIGSTOP) -> BIRD removes the route within the detection time plus a
# margin; the link cut where both ends keep their carrier (the ToR's
# bridge port disabled) -> both sides detect it by BFD; a BFDProfile
# change on SIGHUP -> BIRD's timeout follows, no BGP flap.
. "$(dirname "$0")/bgp-lib.sh"
command -v bird >/dev/null && command -v birdc >/dev/null || { echo "SKIP: bird2 missing"; exit 77; }

IVL=${BFD_IVL:-100}
MARGIN=${BFD_MARGIN:-1000}
# the tighter bound of what vipgated does itself: the issue's 50 ms holds on a
# quiet machine (make bench-bfd measures it); a test shares the CPUs with
# another test, and with AddressSanitizer, so it allows more
TIGHT=${BFD_TIGHT:-250}

setup_net
# the ToR's address on a bridge, so a port can be cut with both carriers
# up (a second port keeps the bridge itself up)
ip -n "$nst" addr flush dev vt
ip -n "$nst" link add br0 type bridge
ip -n "$nst" link add keep0 type veth peer name keep1
ip -n "$nst" link set keep0 master br0
ip -n "$nst" link set vt master br0
for l in keep0 keep1 br0; do ip -n "$nst" link set "$l" up; done
ip -n "$nst" addr add 10.99.0.2/24 dev br0
ip -n "$nst" addr add fd99::2/64 dev br0 nodad
birdsock=$tmp/bird.ctl
cat > "$tmp/bird.conf" <<EOC
router id 10.99.0.2;
log stderr all;
protocol device { scan time 1; }
protocol bfd {
	interface "br0" { min rx interval $IVL ms; min tx interval $IVL ms; multiplier 3; };
}
ipv4 table t4;
ipv6 table t6;
protocol bgp node4 {
	local 10.99.0.2 as 64501;
	neighbor 10.99.0.1 as 64500;
	connect delay time 1; connect retry time 2; error wait time 1, 5;
	bfd on;
	ipv4 { table t4; import all; export none; };
}
protocol bgp node6 {
	local fd99::2 as 64501;
	neighbor fd99::1 as 64501;
	direct;		# iBGP is multihop in BIRD, and would ask for multihop BFD
	connect delay time 1; connect retry time 2; error wait time 1, 5;
	bfd on;
	ipv6 { table t6; import all; export none; };
}
EOC
start_bird() {
	ip netns exec "$nst" bird -f -c "$tmp/bird.conf" -s "$birdsock" >>"$tmp/bird.log" 2>&1 &
	bird_pid=$!
	peer_pids="$peer_pids $bird_pid"
	wait_for 5 test -S "$birdsock" && kill -0 $bird_pid
}
bc() { birdc -s "$birdsock" "$@"; }
has_route() { bc show route table t4 "$1" | grep -q "^$1 "; }
no_route() { ! has_route "$@"; }
proto_up() { bc show protocols "${1:-node4}" | grep -q Established; }
proto_down() { ! proto_up "$@"; }
has_route6() { bc show route table t6 "$1" | grep -q "^$1 "; }
# the protocol's "since" column: it changes when the session resets
since() { bc show protocols node4 | awk '$1 == "node4" { print $4, $5 }'; }
# BIRD's session line: address, interface, state, since, interval, timeout
bird_bfd() { bc show bfd sessions | awk -v a="${1:-10.99.0.1}" '$1 == a'; }
bird_bfd_up() { bird_bfd "$@" | grep -q ' Up '; }
bird_timeout() { bird_bfd | awk '{ print $NF }'; }
# ours EXPR [PEER]: a python expression on vipgatectl bfd's session (s)
ours() { json bfd | python3 -c '
import json, sys
s = [s for s in json.load(sys.stdin)["sessions"] if s["peer"] == sys.argv[2]][0]
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1" "${2:-10.99.0.2}"; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

profile() {
	cat <<EOC
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: $1, transmitInterval: $1, detectMultiplier: 3}
EOC
}
cat > "$tmp/objs/metallb.yaml" <<'EOC'
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec:
  addresses: [192.0.2.0/28, "2001:db8:99::/124"]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: main, namespace: metallb-system}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor4, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.99.0.2, bfdProfile: fast}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor6, namespace: metallb-system}
spec: {myASN: 64501, peerASN: 64501, peerAddress: "fd99::2", routerID: 10.99.0.1,
  bfdProfile: fast}
EOC
profile "$IVL" > "$tmp/objs/bfd.yaml"
svc web Cluster RequireDualStack "IPv4, IPv6" > "$tmp/objs/svcs.yaml"

check "BIRD starts" start_bird
check "vipgated starts" start_vipgated
check "BFD up (BIRD side)" wait_for 10 bird_bfd_up
check "BFD up (vipgatectl bfd)" wait_for 3 ours 's["state"] == "Up"'
check "BGP established" wait_for 10 proto_up
web=$(json services | python3 -c 'import json,sys; print(json.load(sys.stdin)["services"][0]["vips"][0])')
web6=$(json services | python3 -c 'import json,sys; print(json.load(sys.stdin)["services"][0]["vips"][1])')
check "route $web/32 at BIRD" wait_for 5 has_route "$web/32"
check "IPv6: BFD up (BIRD side, hop limit 255 both ways)" wait_for 10 bird_bfd_up fd99::1
check "IPv6: BFD up (vipgatectl bfd)" wait_for 3 ours 's["state"] == "Up"' fd99::2
check "IPv6: iBGP established" wait_for 10 proto_up node6
check "IPv6: route $web6/128 at BIRD" wait_for 5 has_route6 "$web6/128"
t_ivl=$(awk -v i="$IVL" 'BEGIN { printf "%.3f", 3 * i / 1000 }')
check "BIRD's detection timeout is 3 x $IVL ms" wait_for 3 sh -c "birdc -s $birdsock show bfd sessions | grep -q ' $t_ivl\$'"
check "vipgatectl bfd: detection $((3 * IVL)) ms" ours "s['detect_ms'] == $((3 * IVL))"

# a profile change on reload: no BGP flap, BIRD's timeout follows
s0=$(since)
f0=$(json bfd | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"][0]["flaps"])')
check "BIRD shows when the session came up" test -n "$s0"
profile $((IVL * 2)) > "$tmp/objs/bfd.yaml"
kill -HUP "$pid"
t_2=$(awk -v i="$IVL" 'BEGIN { printf "%.3f", 6 * i / 1000 }')
check "reload: BIRD's timeout now 3 x $((IVL * 2)) ms" wait_for 5 sh -c "birdc -s $birdsock show bfd sessions | grep -q ' $t_2\$'"
check "reload: our detection follows" wait_for 3 ours "s['detect_ms'] == $((6 * IVL)) and not s['poll']"
check "reload: BFD did not flap" ours "s['flaps'] == $f0 and s['state'] == 'Up'"
# read again for up to 3 s: one read under ASan once came back different
# and the next (below) the same; a reset would stay different
same_since() { [ "$(since)" = "$s0" ]; }
check "reload: BGP not reset" wait_for 3 same_since
profile "$IVL" > "$tmp/objs/bfd.yaml"
kill -HUP "$pid"
check "reload back to $IVL ms" wait_for 5 sh -c "birdc -s $birdsock show bfd sessions | grep -q ' $t_ivl\$'"
check "... BGP still not reset" wait_for 3 same_since
sleep 1

det=$((3 * IVL))
kill -STOP "$pid"
t0=$(date +%s%N)
WAIT_POLL=0.01 wait_for 5 no_route "$web/32"
el=$(ms "$t0")
echo "  vipgated frozen: route removed by BIRD after $el ms (detection $det ms, hold 90 s)"
check "frozen vipgated: BIRD removes the route within detection + ${MARGIN} ms" test "$el" -le $((det + MARGIN))
kill -CONT "$pid"
check "thawed: BFD back" wait_for 10 bird_bfd_up
check "thawed: BGP back" wait_for 15 proto_up
check "thawed: route back" wait_for 5 has_route "$web/32"
check "thawed: IPv6 session back" wait_for 15 proto_up node6
sleep 1

# the link cut with both carriers up: BIRD and vipgated both see it by BFD
# only (the hold time is 90 s); vipgated's BGP goes down with it
downs() { grep -c 'bgp 10.99.0.2:179: BFD down' "$tmp/log"; }
n0=$(downs)
check "before the cut: BFD Up, the route at BIRD" wait_for 10 sh -c "$(declare -f bc has_route); birdsock=$birdsock; has_route $web/32 && bc show bfd sessions | grep -q '^10.99.0.1 .* Up '"
ip -n "$nst" link set vt nomaster
t0=$(date +%s%N)
WAIT_POLL=0.01 wait_for 5 no_route "$web/32"
el=$(ms "$t0")
echo "  link cut: route removed by BIRD after $el ms (detection $det ms)"
check "link cut: BIRD removes the route within detection + ${MARGIN} ms" test "$el" -le $((det + MARGIN))
cut_seen() { [ "$(downs)" -gt "$n0" ]; }
check "link cut: vipgated's BFD takes BGP down" wait_for 2 cut_seen
tl=$(grep 'bgp 10.99.0.2:179: BFD down' "$tmp/log" | tail -1 | cut -d' ' -f1)
el=$(( ($(date -d "$(date +%F) $tl" +%s%N) - t0) / 1000000 ))
echo "  link cut: vipgated took BGP down after $el ms"
check "... within detection + ${TIGHT} ms ($el ms, detection $det ms)" test "$el" -le $((det + TIGHT))
v6_down() { grep -qF 'bgp [fd99::2]:179: BFD down' "$tmp/log"; }
check "... the IPv6 session too" wait_for 2 v6_down
ip -n "$nst" link set vt master br0
check "link back: BFD up" wait_for 10 ours 's["state"] == "Up"'
check "link back: BGP up" wait_for 15 proto_up
check "link back: route back" wait_for 5 has_route "$web/32"
check "link back: IPv6 route back" wait_for 15 has_route6 "$web6/128"

stop "$pid"; pid=
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
