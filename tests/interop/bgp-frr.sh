#!/usr/bin/env bash
# vipgated against FRR 8 bgpd (with zebra) as the ToR: a TCP MD5 eBGP IPv4
# session carrying IPv4 and IPv6 (MP-BGP), an iBGP IPv6 session (MD5 too); exact
# prefixes, next hops, communities, large communities, local-pref as FRR
# sees them; withdraw within 1 s; graceful restart keeps FRR's routes
# while vipgated restarts; a wrong MD5 key never comes up; bgpd restarted
# (three times in a row: connection collisions) -> both sessions back;
# bgpd frozen (SIGSTOP) -> declared down at hold time.
. "$(dirname "$0")/bgp-lib.sh"
frrbin=/usr/lib/frr
[ -x $frrbin/bgpd ] && [ -x $frrbin/zebra ] && command -v vtysh >/dev/null ||
	{ echo "SKIP: frr missing"; exit 77; }
id frr >/dev/null 2>&1 || { echo "SKIP: no frr user"; exit 77; }

setup_net
fd=$tmp/frr
mkdir -p "$fd"
cat > "$fd/zebra.conf" <<'EOC'
hostname tor
EOC
cat > "$fd/bgpd.conf" <<'EOC'
frr defaults traditional
hostname tor
router bgp 64501
 bgp router-id 10.99.0.2
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 bgp graceful-restart
 neighbor 10.99.0.1 remote-as 64500
 neighbor 10.99.0.1 password s3cret
 neighbor 10.99.0.1 timers 3 9
 neighbor 10.99.0.1 timers connect 1
 neighbor fd99::1 remote-as 64501
 neighbor fd99::1 password v6key
 neighbor fd99::1 timers 3 9
 neighbor fd99::1 timers connect 1
 address-family ipv4 unicast
  neighbor 10.99.0.1 activate
  neighbor fd99::1 activate
 exit-address-family
 address-family ipv6 unicast
  neighbor 10.99.0.1 activate
  neighbor fd99::1 activate
 exit-address-family
EOC
chown -R frr:frr "$fd"
start_frr() {
	ip netns exec "$nst" $frrbin/zebra -f "$fd/zebra.conf" -i "$fd/zebra.pid" -z "$fd/zserv.api" \
		--vty_socket "$fd" -u frr -g frr -P 0 >>"$fd/zebra.log" 2>&1 &
	zebra_pid=$!
	wait_for 5 test -S "$fd/zserv.api" || return 1
	ip netns exec "$nst" $frrbin/bgpd -f "$fd/bgpd.conf" -i "$fd/bgpd.pid" -z "$fd/zserv.api" \
		--vty_socket "$fd" -u frr -g frr -P 0 >>"$fd/bgpd.log" 2>&1 &
	bgpd_pid=$!
	peer_pids="$peer_pids $zebra_pid $bgpd_pid"
	wait_for 5 test -S "$fd/bgpd.vty"
}
vt() { ip netns exec "$nst" vtysh --vty_socket "$fd" -c "$*"; }
nbr_up() { vt "show bgp neighbors $1 json" | grep -q '"bgpState":"Established"'; }
has_route() { vt "show bgp $1 unicast $2 json" | grep -q '"prefix":"'"$2"'"'; }
no_route() { ! has_route "$@"; }
# route_field AFI PREFIX PEER EXPR: a python expression on the path from PEER
route_json() { vt "show bgp $1 unicast $2 json"; }

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
  localPref: 150
---
apiVersion: v1
kind: Secret
metadata: {name: md5, namespace: metallb-system}
type: kubernetes.io/basic-auth
stringData: {password: s3cret}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor4, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.99.0.2, holdTime: 9s,
  passwordSecret: {name: md5}, enableGracefulRestart: true}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor6, namespace: metallb-system}
spec: {myASN: 64501, peerASN: 64501, peerAddress: "fd99::2", holdTime: 9s, routerID: 10.99.0.1,
  password: v6key}
EOC
{ svc web Cluster RequireDualStack "IPv4, IPv6"; svc tmp1; } > "$tmp/objs/svcs.yaml"

check "FRR (zebra + bgpd) starts" start_frr
check "vipgated starts" start_vipgated
check "MD5 eBGP session established (FRR side)" wait_for 10 nbr_up 10.99.0.1
check "iBGP IPv6 session with TCP MD5 established (FRR side)" wait_for 10 nbr_up fd99::1
vip() { json services | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] == sys.argv[1]:
        print(s["vips"][int(sys.argv[2])])' "$1" "$2"; }
web4=$(vip web 0); web6=$(vip web 1); t1=$(vip tmp1 0)
echo "VIPs: web $web4 $web6, tmp1 $t1"
check "IPv4 /32 at FRR" wait_for 5 has_route ipv4 "$web4/32"
check "IPv6 /128 at FRR" wait_for 5 has_route ipv6 "$web6/128"

# python checks over FRR's JSON for a path learned from a given peer
pathcheck() { # afi prefix peer python-expr-on-p
	route_json "$1" "$2" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for p in d.get("paths", []):
    if p.get("peer", {}).get("peerId") == sys.argv[1]:
        ok = eval(sys.argv[2])
        if not ok:
            print(json.dumps(p, indent=1)[:1500], file=sys.stderr)
        sys.exit(0 if ok else 1)
sys.exit(1)' "$3" "$4"; }
check "eBGP v4: next hop 10.99.0.1" pathcheck ipv4 "$web4/32" 10.99.0.1 'p["nexthops"][0]["ip"] == "10.99.0.1"'
check "eBGP v4: AS path 64500" pathcheck ipv4 "$web4/32" 10.99.0.1 'p["aspath"]["string"] == "64500"'
check "eBGP v4: communities" pathcheck ipv4 "$web4/32" 10.99.0.1 'p["community"]["string"] == "65000:100 no-export"'
check "eBGP v4: large community" pathcheck ipv4 "$web4/32" 10.99.0.1 'p["largeCommunity"]["string"] == "64500:1:2"'
check "eBGP v4: no LOCAL_PREF sent" pathcheck ipv4 "$web4/32" 10.99.0.1 '"locPrf" not in p or p.get("locPrf") == 100'
check "iBGP v6: next hop fd99::1" pathcheck ipv6 "$web6/128" fd99::1 'p["nexthops"][0]["ip"] == "fd99::1"'
check "iBGP v6: LOCAL_PREF 150" pathcheck ipv6 "$web6/128" fd99::1 'p["locPrf"] == 150'
check "iBGP v6: empty AS path" pathcheck ipv6 "$web6/128" fd99::1 'p["aspath"]["string"] == "Local"'
check "eBGP IPv6 over the IPv4 session: mapped next hop ::ffff:10.99.0.1" \
	pathcheck ipv6 "$web6/128" 10.99.0.1 'p["nexthops"][0]["ip"] in ("::ffff:10.99.0.1", "::ffff:a63:1")'

# withdraw within 1 s
python3 - "$tmp/objs/svcs.yaml" <<'EOP'
import sys
p = sys.argv[1]
docs = open(p).read().split("---\n")
open(p, "w").write("---\n".join(d for d in docs if "tmp1" not in d))
EOP
t0=$(date +%s%N)
check "deleted Service withdrawn at FRR within 1 s" wait_for 1 no_route ipv4 "$t1/32"
echo "  withdraw took $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# SIGHUP with an unrelated change: FRR counts no new connection
conns() { vt "show bgp neighbors $1 json" | python3 -c '
import json, sys
print(list(json.load(sys.stdin).values())[0]["connectionsEstablished"])'; }
c4=$(conns 10.99.0.1); c6=$(conns fd99::1)
svc other >> "$tmp/objs/svcs.yaml"
kill -HUP "$pid"
# the VIP is read once the reload allocated it (read at once, it raced the
# reload and was sometimes empty)
oth=
other_vip() { oth=$(vip other 0); [ -n "$oth" ]; }
check "SIGHUP: the new Service has a VIP" wait_for 5 other_vip
check "SIGHUP: the new Service reaches FRR" wait_for 5 has_route ipv4 "$oth/32"
check "SIGHUP: MD5 session not reset" test "$(conns 10.99.0.1)" = "$c4"
check "SIGHUP: iBGP session not reset" test "$(conns fd99::1)" = "$c6"

# FRR restarted: the sessions come back
kill -9 "$bgpd_pid"; wait "$bgpd_pid" 2>/dev/null
ip netns exec "$nst" $frrbin/bgpd -f "$fd/bgpd.conf" -i "$fd/bgpd.pid" -z "$fd/zserv.api" \
	--vty_socket "$fd" -u frr -g frr -P 0 >>"$fd/bgpd.log" 2>&1 &
bgpd_pid=$!; peer_pids="$peer_pids $bgpd_pid"
check "bgpd restarted: MD5 session back" wait_for 15 nbr_up 10.99.0.1
check "bgpd restarted: routes back" wait_for 3 has_route ipv4 "$web4/32"
check "bgpd restarted: IPv6 MD5 session back" wait_for 15 nbr_up fd99::1

# restarts in a row: both sides connect at once, and a collision (RFC 4271
# 6.8) must settle on one connection instead of cycling through Idle
restart_bgpd() {
	kill -9 "$bgpd_pid"; wait "$bgpd_pid" 2>/dev/null
	ip netns exec "$nst" $frrbin/bgpd -f "$fd/bgpd.conf" -i "$fd/bgpd.pid" -z "$fd/zserv.api" \
		--vty_socket "$fd" -u frr -g frr -P 0 >>"$fd/bgpd.log" 2>&1 &
	bgpd_pid=$!; peer_pids="$peer_pids $bgpd_pid"
}
both_up() { nbr_up 10.99.0.1 && nbr_up fd99::1; }
for i in 1 2 3; do
	restart_bgpd
	check "restart $i: both MD5 sessions back within 15 s" wait_for 15 both_up
done
grep -c "collision\|6.8" "$tmp/log" | sed 's/^/  collisions seen by vipgated: /'

# bgpd frozen (SIGSTOP): declared down at hold time (9 s), back after SIGCONT
hold_expired() { peer_field 10.99.0.2:179 last_error | grep -qi 'hold timer expired'; }
kill -STOP "$bgpd_pid"
t0=$(date +%s%N)
check "frozen bgpd declared down within hold time + 1 s" wait_for 10.5 hold_expired
el=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "  declared down after $el ms (hold 9 s)"
# the hold timer runs from the peer's last message, up to one keepalive
# interval (hold / 3) before the freeze: never before 6 s
check "... not before 6 s" test "$el" -ge 6000
kill -CONT "$bgpd_pid"
check "session back after thaw" wait_for 20 nbr_up 10.99.0.1
check "IPv6 session back after thaw" wait_for 20 nbr_up fd99::1
check "routes back after thaw" wait_for 5 has_route ipv4 "$web4/32"

# graceful restart: FRR keeps the routes learned on the GR session
stop "$pid"; pid=
check "GR: FRR keeps $web4/32 while vipgated is down" has_route ipv4 "$web4/32"
check "GR: ... marked stale" sh -c "vt() { ip netns exec $nst vtysh --vty_socket $fd -c \"\$*\"; }; vt 'show bgp ipv4 unicast $web4/32 json' | grep -q '\"stale\":true'"
check "vipgated back" start_vipgated
check "GR: session back" wait_for 10 nbr_up 10.99.0.1
check "GR: route refreshed, no longer stale" wait_for 3 sh -c "ip netns exec $nst vtysh --vty_socket $fd -c 'show bgp ipv4 unicast $web4/32 json' | grep -q '\"valid\":true' && ! ip netns exec $nst vtysh --vty_socket $fd -c 'show bgp ipv4 unicast $web4/32 json' | grep -q '\"stale\":true'"

# a wrong MD5 key: the session never comes up
sed -i 's/password: s3cret/password: wrong/' "$tmp/objs/metallb.yaml"
kill -HUP "$pid"
sleep 3
check "wrong MD5 key: no session" sh -c "! ip netns exec $nst vtysh --vty_socket $fd -c 'show bgp neighbors 10.99.0.1 json' | grep -q '\"bgpState\":\"Established\"'"
sed -i 's/password: wrong/password: s3cret/' "$tmp/objs/metallb.yaml"
kill -HUP "$pid"
check "right key again: session back" wait_for 10 nbr_up 10.99.0.1

stop "$pid"; pid=
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
