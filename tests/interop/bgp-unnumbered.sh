#!/usr/bin/env bash
# Unnumbered BGP (BGPPeer.interface): the link between the node and the ToR
# has only IPv6 link-local addresses. vipgated learns the ToR's from its
# Router Advertisements or its answer to an echo to ff02::1, sends RAs so
# that FRR learns its own, and carries the IPv4 VIPs with its link-local
# address as next hop (RFC 8950 extended next hop). FRR 8 (`neighbor vt
# interface`) and BIRD 2 (a link-local neighbor, `extended next hop on`):
# session up, IPv4 and IPv6 VIPs installed with IPv6 next hops. With BIRD,
# BFD over the link-local addresses too: Up, and a frozen vipgated seen by
# BFD.
. "$(dirname "$0")/bgp-lib.sh"
frrbin=/usr/lib/frr
have_frr=1 have_bird=1
[ -x $frrbin/bgpd ] && [ -x $frrbin/zebra ] && command -v vtysh >/dev/null && id frr >/dev/null 2>&1 ||
	have_frr=
command -v bird >/dev/null && command -v birdc >/dev/null || have_bird=
[ -n "$have_frr$have_bird" ] || { echo "SKIP: neither FRR nor BIRD 2"; exit 77; }

setup_net
# no global address on the link: link-local only
ip -n "$nsn" addr flush dev vn scope global
ip -n "$nst" addr flush dev vt scope global
ll_of() { ip -n "$1" -6 addr show dev "$2" scope link | awk '/inet6/ { sub("/.*", "", $2); print $2 }'; }
wait_for 5 sh -c "ip -n $nsn -6 addr show dev vn scope link | grep -q 'inet6 fe80' && ! ip -n $nsn -6 addr show dev vn | grep -q tentative"
wait_for 5 sh -c "ip -n $nst -6 addr show dev vt scope link | grep -q 'inet6 fe80' && ! ip -n $nst -6 addr show dev vt | grep -q tentative"
node_ll=$(ll_of "$nsn" vn)
tor_ll=$(ll_of "$nst" vt)
echo "node $node_ll, ToR $tor_ll"

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
metadata: {name: tor, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, interface: vn, holdTime: 9s, connectTime: 1s,
  bfdProfile: fast}
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: 100, transmitInterval: 100}
EOC
svc web Cluster RequireDualStack "IPv4, IPv6" > "$tmp/objs/svcs.yaml"
vip() { json services | python3 -c 'import json,sys; print(json.load(sys.stdin)["services"][0]["vips"][int(sys.argv[1])])' "$1"; }
peer_state() { peer_field vn:179 state; }

if [ -n "$have_frr" ]; then
	fd=$tmp/frr
	mkdir -p "$fd"
	echo "hostname tor" > "$fd/zebra.conf"
	cat > "$fd/bgpd.conf" <<'EOC'
frr defaults traditional
hostname tor
router bgp 64501
 bgp router-id 10.99.0.2
 no bgp ebgp-requires-policy
 neighbor vt interface remote-as external
 neighbor vt timers 3 9
 neighbor vt timers connect 1
 address-family ipv4 unicast
  neighbor vt activate
 exit-address-family
 address-family ipv6 unicast
  neighbor vt activate
 exit-address-family
EOC
	chown -R frr:frr "$fd"
	ip netns exec "$nst" $frrbin/zebra -f "$fd/zebra.conf" -i "$fd/zebra.pid" -z "$fd/zserv.api" \
		--vty_socket "$fd" -u frr -g frr -P 0 >>"$fd/zebra.log" 2>&1 &
	peer_pids="$peer_pids $!"
	wait_for 5 test -S "$fd/zserv.api"
	ip netns exec "$nst" $frrbin/bgpd -f "$fd/bgpd.conf" -i "$fd/bgpd.pid" -z "$fd/zserv.api" \
		--vty_socket "$fd" -u frr -g frr -P 0 >>"$fd/bgpd.log" 2>&1 &
	bgpd_pid=$!
	peer_pids="$peer_pids $bgpd_pid"
	check "FRR starts" wait_for 5 test -S "$fd/bgpd.vty"
	vb() { ip netns exec "$nst" vtysh --vty_socket "$fd" -d bgpd -c "$*"; }
	nbr_up() { vb "show bgp neighbors vt json" | grep -q '"bgpState":"Established"'; }
	check "vipgated starts" start_vipgated
	check "FRR: unnumbered session established" wait_for 30 nbr_up
	check "vipgatectl bgp: Established on vn" wait_for 5 sh -c "[ \"\$(\"$ctl\" -s \"$tmp/sock\" --json bgp | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"peers\"][0][\"state\"])')\" = Established ]"
	v4=$(vip 0); v6=$(vip 1)
	frr_nh() { vb "show bgp $1 unicast $2 json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
ips = [n.get("ip") for p in d.get("paths", []) for n in p.get("nexthops", [])]
sys.exit(0 if sys.argv[1] in ips else 1)' "$node_ll"; }
	check "FRR: IPv4 $v4/32 with next hop $node_ll" wait_for 5 frr_nh ipv4 "$v4/32"
	check "FRR: IPv6 $v6/128 with next hop $node_ll" wait_for 5 frr_nh ipv6 "$v6/128"
	k4() { ip -n "$nst" route show "$v4/32" | grep -q "via inet6 $node_ll dev vt"; }
	check "FRR's zebra installs $v4/32 via inet6 $node_ll" wait_for 5 k4
	stop "$pid"; pid=
	kill "$bgpd_pid" 2>/dev/null
fi

if [ -n "$have_bird" ]; then
	birdsock=$tmp/bird.ctl
	cat > "$tmp/bird.conf" <<EOC
router id 10.99.0.2;
log stderr all;
protocol device { scan time 1; }
protocol bfd { interface "vt" { min rx interval 100 ms; min tx interval 100 ms; }; }
ipv4 table t4;
ipv6 table t6;
protocol bgp node {
	local as 64501;
	neighbor $node_ll as 64500;
	interface "vt";
	bfd on;
	connect delay time 1; connect retry time 2; error wait time 1, 5;
	ipv4 { table t4; import all; export none; extended next hop on; };
	ipv6 { table t6; import all; export none; };
}
EOC
	ip netns exec "$nst" bird -f -c "$tmp/bird.conf" -s "$birdsock" >>"$tmp/bird.log" 2>&1 &
	peer_pids="$peer_pids $!"
	check "BIRD starts" wait_for 5 test -S "$birdsock"
	bc() { birdc -s "$birdsock" "$@"; }
	check "vipgated starts (again)" start_vipgated
	check "BIRD: unnumbered session established" wait_for 30 sh -c "birdc -s $birdsock show protocols node | grep -q Established"
	v4=$(vip 0); v6=$(vip 1)
	bird_nh() { bc show route table "$1" "$2" all | grep -q "via $node_ll on vt"; }
	check "BIRD: IPv4 $v4/32 via $node_ll" wait_for 5 bird_nh t4 "$v4/32"
	check "BIRD: IPv6 $v6/128 via $node_ll" wait_for 5 bird_nh t6 "$v6/128"
	check "BFD over link-local: Up at BIRD" wait_for 10 sh -c "birdc -s $birdsock show bfd sessions | grep -q '^$node_ll .* Up '"
	ours_up() { json bfd | python3 -c 'import json,sys; s = json.load(sys.stdin)["sessions"][0]; sys.exit(0 if s["state"] == "Up" and s["peer"] == sys.argv[1] else 1)' "$tor_ll"; }
	check "BFD over link-local: Up at vipgated, to $tor_ll" wait_for 3 ours_up
	kill -STOP "$pid"
	t0=$(date +%s%N)
	WAIT_POLL=0.01 wait_for 5 sh -c "! birdc -s $birdsock show route table t4 $v4/32 | grep -q '^$v4/32 '"
	el=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "  vipgated frozen: BIRD removed $v4/32 after $el ms (BFD 300 ms, hold 9 s)"
	check "frozen vipgated: BIRD removes the route by BFD, within 550 ms" test "$el" -le 550
	kill -CONT "$pid"
	check "thawed: session back" wait_for 15 sh -c "birdc -s $birdsock show protocols node | grep -q Established"
	stop "$pid"; pid=
fi
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
