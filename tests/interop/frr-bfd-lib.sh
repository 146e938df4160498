# Shared by tests/interop/bfd-frr.sh and bfd-echo-frr.sh: FRR 8 (zebra,
# bfdd, bgpd) as the ToR in bgp-lib.sh's ToR namespace, one eBGP IPv4
# session to vipgated with `neighbor ... bfd profile fast`; the test writes
# $fd/bfdd.conf (the profile) before frr_setup's start_frr runs, and the
# helpers to read both sides' view of the BFD session.
. "$(dirname "${BASH_SOURCE[0]}")/bgp-lib.sh"
frrbin=/usr/lib/frr
[ -x $frrbin/bgpd ] && [ -x $frrbin/zebra ] && [ -x $frrbin/bfdd ] &&
	command -v vtysh >/dev/null || { echo "SKIP: frr (bgpd, zebra, bfdd) missing"; exit 77; }
id frr >/dev/null 2>&1 || { echo "SKIP: no frr user"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 77; }

# frr_setup: after setup_net; writes zebra's and bgpd's configurations
frr_setup() {
	fd=$tmp/frr
	mkdir -p "$fd"
	echo "hostname tor" > "$fd/zebra.conf"
	cat > "$fd/bgpd.conf" <<'EOC'
frr defaults traditional
hostname tor
router bgp 64501
 bgp router-id 10.99.0.2
 no bgp ebgp-requires-policy
 neighbor 10.99.0.1 remote-as 64500
 neighbor 10.99.0.1 timers connect 1
 neighbor 10.99.0.1 bfd
 neighbor 10.99.0.1 bfd profile fast
 address-family ipv4 unicast
  neighbor 10.99.0.1 activate
 exit-address-family
EOC
}
# frr_bfd_objs: the pool, an advertisement and the BGPPeer to the ToR naming
# BFDProfile "fast" (the test writes the profile)
frr_bfd_objs() {
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
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor4, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.99.0.2, bfdProfile: fast}
EOC
	svc web > "$tmp/objs/svcs.yaml"
}
start_frr() {
	chown -R frr:frr "$fd"
	ip netns exec "$nst" $frrbin/zebra -f "$fd/zebra.conf" -i "$fd/zebra.pid" -z "$fd/zserv.api" \
		--vty_socket "$fd" -u frr -g frr -P 0 >>"$fd/zebra.log" 2>&1 &
	zebra_pid=$!
	peer_pids="$peer_pids $zebra_pid"
	wait_for 5 test -S "$fd/zserv.api" || return 1
	ip netns exec "$nst" $frrbin/bfdd -f "$fd/bfdd.conf" -i "$fd/bfdd.pid" -z "$fd/zserv.api" \
		--bfdctl "$fd/bfdd.sock" --vty_socket "$fd" -u frr -g frr -P 0 >>"$fd/bfdd.log" 2>&1 &
	bfdd_pid=$!
	peer_pids="$peer_pids $bfdd_pid"
	wait_for 5 test -S "$fd/bfdd.vty" || return 1
	ip netns exec "$nst" $frrbin/bgpd -f "$fd/bgpd.conf" -i "$fd/bgpd.pid" -z "$fd/zserv.api" \
		--vty_socket "$fd" -u frr -g frr -P 0 >>"$fd/bgpd.log" 2>&1 &
	bgpd_pid=$!
	peer_pids="$peer_pids $bgpd_pid"
	wait_for 5 test -S "$fd/bgpd.vty"
}
vt() { ip netns exec "$nst" vtysh --vty_socket "$fd" -c "$*"; }
# bgpd alone: vtysh waits for every daemon, and one test freezes bfdd
vb() { ip netns exec "$nst" vtysh --vty_socket "$fd" -d bgpd -c "$*"; }
nbr_up() { vb "show bgp neighbors $1 json" | grep -q '"bgpState":"Established"'; }
has_route() { vb "show bgp ipv4 unicast $1 json" | grep -q '"prefix":"'"$1"'"'; }
no_route() { ! has_route "$@"; }
# bfd_peer EXPR: a python expression on FRR's view of the session (p)
frr_bfd() { vt "show bfd peer 10.99.0.1 json" | python3 -c '
import json, sys
p = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1"; }
conns() { vb "show bgp neighbors 10.99.0.1 json" | python3 -c '
import json, sys
print(list(json.load(sys.stdin).values())[0]["connectionsEstablished"])'; }
# ours EXPR: a python expression on vipgatectl bfd's session (s)
ours() { json bfd | python3 -c '
import json, sys
s = json.load(sys.stdin)["sessions"][0]
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1"; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
