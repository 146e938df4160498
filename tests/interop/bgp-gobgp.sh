#!/usr/bin/env bash
# vipgated against GoBGP 3 (IPv6 session carrying IPv4 and IPv6) and, at the
# same time, a hostile peer (tests/interop/bgp-hostile.py) on IPv4 that sends
# malformed messages: every one answered with the exact NOTIFICATION, and
# the GoBGP session is never disturbed. Then GoBGP restarted -> session
# back; GoBGP frozen (SIGSTOP) -> declared down at hold time.
. "$(dirname "$0")/bgp-lib.sh"
command -v gobgpd >/dev/null && command -v gobgp >/dev/null || { echo "SKIP: gobgp missing"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)

setup_net
api=50151
cat > "$tmp/gobgpd.toml" <<'EOC'
[global.config]
  as = 64502
  router-id = "10.99.0.2"
  port = 179
  local-address-list = ["fd99::2"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "fd99::1"
    peer-as = 64500
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 9
    keepalive-interval = 3
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
EOC
gb() { ip netns exec "$nst" gobgp -p $api "$@"; }
ip netns exec "$nst" gobgpd -f "$tmp/gobgpd.toml" -t toml --api-hosts 127.0.0.1:$api \
	>"$tmp/gobgpd.log" 2>&1 &
gob_pid=$!
peer_pids="$peer_pids $gob_pid"
nbr_up() { gb neighbor fd99::1 | grep -qi 'BGP state = .*established'; }
has_route() { gb global rib -a "$1" "$2" 2>/dev/null | grep -q "$2"; }
no_route() { ! has_route "$@"; }

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
spec:
  communities: ["65000:100", no-export, "large:64500:1:2"]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: gobgp, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64502, peerAddress: "fd99::2", holdTime: 9s}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: hostile, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.99.0.2, holdTime: 9s, connectTime: 100ms}
EOC
{ svc web Cluster RequireDualStack "IPv4, IPv6"; svc tmp1; } > "$tmp/objs/svcs.yaml"

check "vipgated starts" start_vipgated
check "GoBGP session established" wait_for 10 nbr_up
vip() { json services | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] == sys.argv[1]:
        print(s["vips"][int(sys.argv[2])])' "$1" "$2"; }
web4=$(vip web 0); web6=$(vip web 1); t1=$(vip tmp1 0)
check "IPv4 /32 at GoBGP" wait_for 3 has_route ipv4 "$web4/32"
check "IPv6 /128 at GoBGP" wait_for 3 has_route ipv6 "$web6/128"
l4=$(gb global rib -a ipv4 "$web4/32")
l6=$(gb global rib -a ipv6 "$web6/128")
echo "$l4" | sed 's/^/  /'; echo "$l6" | sed 's/^/  /'
check "v4 over the v6 session: next hop 10.99.0.1 (node.address)" sh -c "echo '$l4' | grep -q '10.99.0.1 '"
check "v6: next hop fd99::1" sh -c "echo '$l6' | grep -q 'fd99::1 '"
check "AS path 64500" sh -c "echo '$l6' | grep -q ' 64500 '"
check "communities" sh -c "echo '$l6' | grep -q 'Communities: 65000:100, no-export'"
check "large community" sh -c "echo '$l6' | grep -q 'LargeCommunity: \[ *64500:1:2\]'"

# what the peer sends is parsed and counted, never installed
gb global rib add 203.0.113.0/24 -a ipv4 >/dev/null
gb global rib add 2001:db8:ff::/48 -a ipv6 >/dev/null
check "received prefixes counted (2)" wait_for 3 sh -c "[ \"\$(\"$ctl\" -s \"$tmp/sock\" --json bgp | python3 -c 'import json,sys; print([p[\"prefixes_received\"] for p in json.load(sys.stdin)[\"peers\"] if p[\"peer\"] == \"[fd99::2]:179\"][0])')\" = 2 ]"
check "... and not installed in the kernel" sh -c "! ip -n $nsn route show 203.0.113.0/24 | grep -q ."
gb global rib del 203.0.113.0/24 -a ipv4 >/dev/null
check "a withdraw lowers the count (1)" wait_for 3 sh -c "[ \"\$(\"$ctl\" -s \"$tmp/sock\" --json bgp | python3 -c 'import json,sys; print([p[\"prefixes_received\"] for p in json.load(sys.stdin)[\"peers\"] if p[\"peer\"] == \"[fd99::2]:179\"][0])')\" = 1 ]"

python3 - "$tmp/objs/svcs.yaml" <<'EOP'
import sys
p = sys.argv[1]
docs = open(p).read().split("---\n")
open(p, "w").write("---\n".join(d for d in docs if "tmp1" not in d))
EOP
t0=$(date +%s%N)
check "deleted Service withdrawn at GoBGP within 1 s" wait_for 1 no_route ipv4 "$t1/32"
echo "  withdraw took $(( ($(date +%s%N) - t0) / 1000000 )) ms"

echo "hostile peer:"
ip netns exec "$nst" timeout 90 python3 "$here/bgp-hostile.py" 10.99.0.2 64501 64500 > "$tmp/hostile.out" 2>&1
rc=$?
sed 's/^/  /' "$tmp/hostile.out"
passes=$((passes + $(grep -c '^ok:' "$tmp/hostile.out")))
fails=$((fails + $(grep -c '^FAIL:' "$tmp/hostile.out")))
check "hostile peer: all cases answered as expected" test $rc -eq 0
check "vipgated still running" kill -0 "$pid"
check "GoBGP session never disturbed (one Peer Up, no Peer Down in its log)" \
	sh -c "[ \$(grep -c '\"msg\":\"Peer Up\"' '$tmp/gobgpd.log') -eq 1 ] && ! grep -q '\"msg\":\"Peer Down\"' '$tmp/gobgpd.log'"
check "GoBGP session up" nbr_up
check "vipgated counted no flap on GoBGP" test "$(peer_field '[fd99::2]:179' flaps)" = 0

# GoBGP restarted -> session and routes back
start_gobgp() {
	ip netns exec "$nst" gobgpd -f "$tmp/gobgpd.toml" -t toml --api-hosts 127.0.0.1:$api \
		>>"$tmp/gobgpd.log" 2>&1 &
	gob_pid=$!
	peer_pids="$peer_pids $gob_pid"
}
kill -TERM "$gob_pid"; wait "$gob_pid" 2>/dev/null
gob_down() { [ "$(peer_field '[fd99::2]:179' state)" != Established ]; }
both_routes() { has_route ipv4 "$web4/32" && has_route ipv6 "$web6/128"; }
hold_expired() { peer_field '[fd99::2]:179' last_error | grep -qi 'hold timer expired'; }
check "GoBGP gone: vipgated sees the session down" wait_for 10 gob_down
start_gobgp
check "session back after GoBGP restart" wait_for 15 nbr_up
check "IPv4 and IPv6 routes back after GoBGP restart" wait_for 3 both_routes

# GoBGP frozen (SIGSTOP): declared down at hold time (9 s), back after SIGCONT
kill -STOP "$gob_pid"
t0=$(date +%s%N)
check "frozen GoBGP declared down within hold time + 1 s" wait_for 10.5 hold_expired
el=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "  declared down after $el ms (hold 9 s)"
# the hold timer runs from the peer's last message, up to one keepalive
# interval (hold / 3) before the freeze: never before 6 s
check "... not before 6 s" test "$el" -ge 6000
kill -CONT "$gob_pid"
check "session back after thaw" wait_for 20 nbr_up
check "routes back after thaw" wait_for 3 both_routes

stop "$pid"; rc=$?; pid=
check "SIGTERM exits 0" test $rc -eq 0
check "routes withdrawn at shutdown (Cease)" wait_for 2 no_route ipv6 "$web6/128"
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
