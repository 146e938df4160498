#!/usr/bin/env bash
# vipgated against BIRD 2 as the top-of-rack router, in namespaces this test
# makes: an eBGP IPv4 session and an iBGP IPv6 session; exact prefixes, next
# hops, communities, large communities and local-pref as BIRD sees them;
# withdraw within 1 s (Service deleted, last local endpoint gone with ETP
# Local); SIGHUP with an unrelated change keeps the sessions; BIRD restarted
# -> session back; BIRD frozen -> declared down at hold time; graceful
# restart keeps BIRD's routes while vipgated restarts.
. "$(dirname "$0")/bgp-lib.sh"
command -v bird >/dev/null && command -v birdc >/dev/null || { echo "SKIP: bird2 missing"; exit 77; }

setup_net
birdsock=$tmp/bird.ctl
cat > "$tmp/bird.conf" <<'EOC'
router id 10.99.0.2;
log stderr all;
protocol device { scan time 1; }
ipv4 table t4;
ipv6 table t6;
template bgp tor {
	local port 179;
	connect delay time 1; connect retry time 2; error wait time 1, 5;
	hold time 9;
	graceful restart on;
}
protocol bgp node4 from tor {
	local 10.99.0.2 as 64501;
	neighbor 10.99.0.1 as 64500;
	ipv4 { table t4; import all; export none; };
	ipv6 { table t6; import all; export none; };
}
protocol bgp node6 from tor {
	local fd99::2 as 64500;
	neighbor fd99::1 as 64500;
	direct;
	ipv4 { table t4; import all; export none; gateway direct; };
	ipv6 { table t6; import all; export none; gateway direct; };
}
EOC
start_bird() {
	ip netns exec "$nst" bird -f -c "$tmp/bird.conf" -s "$birdsock" >>"$tmp/bird.log" 2>&1 &
	bird_pid=$!
	peer_pids="$peer_pids $bird_pid"
	wait_for 5 test -S "$birdsock" && kill -0 $bird_pid
}
routes() { bc show route all table "$1"; }
has_route() { bc show route table "$1" ${3:+protocol $3} | grep -q "^$2 "; }
no_route() { ! has_route "$@"; }

cat > "$tmp/objs/metallb.yaml" <<'EOC'
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec:
  addresses: [192.0.2.0/28, "2001:db8:99::/124"]
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: agg, namespace: metallb-system}
spec:
  addresses: [198.51.100.0/28]
  autoAssign: false
---
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: comms, namespace: metallb-system}
spec:
  communities:
  - {name: vpn-only, value: "65000:200"}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: main, namespace: metallb-system}
spec:
  ipAddressPools: [pool]
  communities: ["65000:100", no-export, "large:64500:1:2", vpn-only]
  localPref: 150
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: extra, namespace: metallb-system}
spec:
  ipAddressPools: [pool]
  communities: ["65000:300"]
  peers: [tor4]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: aggregated, namespace: metallb-system}
spec:
  ipAddressPools: [agg]
  aggregationLength: 24
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor4, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.99.0.2, holdTime: 9s}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor6, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64500, peerAddress: "fd99::2", holdTime: 9s,
  enableGracefulRestart: true, bfdProfile: fast}
EOC
{
	svc web Cluster RequireDualStack "IPv4, IPv6"
	svc local Local
	cat <<'EOC'
---
apiVersion: v1
kind: Service
metadata:
  name: aggsvc
  namespace: default
  annotations: {metallb.io/address-pool: agg}
spec:
  type: LoadBalancer
  selector: {app: aggsvc}
  ports: [{port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: aggsvc-x, namespace: default, labels: {kubernetes.io/service-name: aggsvc}}
addressType: IPv4
endpoints: [{addresses: [10.9.0.3], nodeName: node-b}]
EOC
} > "$tmp/objs/svcs.yaml"

check "BIRD starts" start_bird
check "vipgated starts" start_vipgated
check "eBGP IPv4 session established (BIRD side)" wait_for 8 proto_up node4
check "iBGP IPv6 session established (BIRD side)" wait_for 8 proto_up node6
check "vipgatectl bgp shows Established" sh -c "[ \"\$(\"$ctl\" -s \"$tmp/sock\" --json bgp | grep -c Established)\" -eq 2 ]"

vip() { json services | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] == sys.argv[1]:
        print(s["vips"][int(sys.argv[2])])' "$1" "$2"; }
web4=$(vip web 0); web6=$(vip web 1); loc=$(vip local 0); agg=$(vip aggsvc 0)
echo "VIPs: web $web4 $web6, local $loc, aggsvc $agg"

check "web's IPv4 /32 at BIRD (t4)" wait_for 3 has_route t4 "$web4/32"
check "web's IPv6 /128 at BIRD (t6)" wait_for 3 has_route t6 "$web6/128"
check "aggregated /24 at BIRD" wait_for 3 has_route t4 "198.51.100.0/24"
check "local (ETP Local, local endpoint) at BIRD" has_route t4 "$loc/32"

r4=$(routes t4)
r6=$(routes t6)
echo "$r4" > "$tmp/r4"; echo "$r6" > "$tmp/r6"
block() { awk -v p="$2" '$1 == p { on = 1; print; next } /^[0-9a-f]/ && $1 != p { on = 0 } on' "$1"; }
b4=$(block "$tmp/r4" "$web4/32")
b6=$(block "$tmp/r6" "$web6/128")
echo "$b4" | sed 's/^/  /'
echo "$b6" | sed 's/^/  /'
# the IPv4 route comes twice (eBGP and iBGP sessions both carry IPv4)
e4=$(echo "$b4" | awk '/node4/ { on = 1 } /node6/ { on = 0 } on')
i6=$(echo "$b6" | awk '/node6/ { on = 1 } /node4/ { on = 0 } on')
check "eBGP: AS_PATH [64500]" sh -c "echo '$e4' | grep -q 'BGP.as_path: 64500\$'"
check "eBGP: next hop 10.99.0.1" sh -c "echo '$e4' | grep -q 'BGP.next_hop: 10.99.0.1\$'"
check "eBGP: origin IGP" sh -c "echo '$e4' | grep -q 'BGP.origin: IGP'"
check "eBGP: no LOCAL_PREF from us (BIRD's default 100)" sh -c "echo '$e4' | grep -q 'BGP.local_pref: 100'"
check "eBGP: communities merged from two advertisements + alias + no-export" \
	sh -c "echo '$e4' | grep -q 'BGP.community: (65000,100) (65000,200) (65000,300) (65535,65281)'"
check "eBGP: large community" sh -c "echo '$e4' | grep -q 'BGP.large_community: (64500, 1, 2)'"
check "iBGP: empty AS_PATH" sh -c "echo '$i6' | grep -q 'BGP.as_path: *\$'"
check "iBGP: LOCAL_PREF 150" sh -c "echo '$i6' | grep -q 'BGP.local_pref: 150'"
check "iBGP: IPv6 next hop fd99::1 + the link-local (RFC 2545)" sh -c "echo '$i6' | grep -q 'BGP.next_hop: fd99::1 fe80::'"
check "iBGP: the 'extra' advertisement (peers: [tor4]) is not on tor6" \
	sh -c "echo '$i6' | grep -q 'BGP.community: (65000,100) (65000,200) (65535,65281)'"
check "aggsvc (no local endpoint, ETP Cluster) is announced" has_route t4 "198.51.100.0/24"
ctl_has() { json "$1" | grep -q -- "$2"; }
check "vipgatectl routes lists the IPv6 route" ctl_has routes "$web6/128"
check "vipgatectl routes shows the next hop" ctl_has routes '"next_hop": "fd99::1"'
check "vipgatectl bgp notes the missing BFDProfile" ctl_has bgp 'not found: BFD off'
check "vipgatectl bgp (table) renders" sh -c "\"$ctl\" -s \"$tmp/sock\" bgp | grep -q Established"

# SIGHUP with an unrelated change: sessions untouched
up0=$(bc show protocols node4 | awk '/node4/ {print $5}')
flaps0=$(peer_field 10.99.0.2:179 flaps)
svc other >> "$tmp/objs/svcs.yaml"
kill -HUP "$pid"
sleep 1.5
check "SIGHUP: eBGP session still up" proto_up node4
up1=$(bc show protocols node4 | awk '/node4/ {print $5}')
# BIRD prints the start as wall time less the session's age: a millisecond
# either way is its rounding, a restart moves it by the time since
same_time() { awk -v a="$1" -v b="$2" 'function ms(t, p) { split(t, p, ":"); return (p[1] * 3600 + p[2] * 60 + p[3]) * 1000 }
	BEGIN { d = ms(a) - ms(b); exit !(d < 200 && d > -200) }'; }
check "SIGHUP: BIRD's session start time unchanged ($up0, now $up1; $(bc show protocols node4 | awk '/node4/ {print $4, $6}'))" same_time "$up1" "$up0"
check "SIGHUP: no flap counted" test "$(peer_field 10.99.0.2:179 flaps)" = "$flaps0"
oth=$(vip other 0)
check "the new Service's VIP arrives as an UPDATE on the live session" wait_for 1 has_route t4 "$oth/32"

# a changed advertisement: the new attributes on the live session
sed -i 's/communities: \["65000:100", no-export/communities: ["65000:100", "65000:999", no-export/' "$tmp/objs/metallb.yaml"
kill -HUP "$pid"
check "changed communities re-announced within 1 s" wait_for 1 sh -c \
	"birdc -s $birdsock show route all table t4 $web4/32 protocol node4 | grep -q '(65000,999)'"
check "... without resetting the session" test "$(bc show protocols node4 | awk '/node4/ {print $5}')" = "$up0"

# withdraw within 1 s: Service deleted
python3 - "$tmp/objs/svcs.yaml" <<'EOP'
import sys
p = sys.argv[1]
docs = open(p).read().split("---\n")
keep = [d for d in docs if "name: other" not in d and "name: other-x" not in d]
open(p, "w").write("---\n".join(keep))
EOP
t0=$(date +%s%N)
check "deleted Service withdrawn within 1 s" wait_for 1 no_route t4 "$oth/32"
echo "  withdraw took $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# ETP Local: the last local endpoint goes -> withdrawn within 1 s
python3 - "$tmp/objs/svcs.yaml" <<'EOP'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("name: local-x, namespace: default, labels: {kubernetes.io/service-name: local}}\naddressType: IPv4\nendpoints: [{addresses: [10.9.0.1], nodeName: node-a}]",
              "name: local-x, namespace: default, labels: {kubernetes.io/service-name: local}}\naddressType: IPv4\nendpoints: [{addresses: [10.9.0.1], nodeName: node-b}]")
open(p, "w").write(s)
EOP
check "ETP Local without a local endpoint: withdrawn within 1 s" wait_for 1 no_route t4 "$loc/32"
check "web is still there" has_route t4 "$web4/32"

# route refresh: BIRD asks, we re-send
imported() { bc show protocols all node4 | awk '/Import updates:/ {print $3; exit}'; }
i0=$(imported)
bc reload in node4 >/dev/null
check "route refresh answered: the table is sent again" wait_for 2 sh -c "[ \$(birdc -s $birdsock show protocols all node4 | awk '/Import updates:/ {print \$3; exit}') -gt $i0 ]"
check "route refresh: routes still there" has_route t4 "$web4/32"

# BIRD restarted -> session back
kill -TERM "$bird_pid"; wait "$bird_pid" 2>/dev/null
rm -f "$birdsock"
check "BIRD restarted" start_bird
check "session back after BIRD restart" wait_for 10 proto_up node4
check "routes back after BIRD restart" wait_for 3 has_route t4 "$web4/32"

# BIRD frozen: declared down at hold time (9 s)
kill -STOP "$bird_pid"
t0=$(date +%s%N)
check "frozen BIRD declared down within hold time + 1 s" \
	wait_for 10.5 sh -c "\"$ctl\" -s \"$tmp/sock\" --json bgp | grep -qi 'hold timer expired'"
el=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "  declared down after $el ms (hold 9 s)"
# the hold timer runs from the peer's last message, up to one keepalive
# interval (hold / 3) before the freeze: never before 6 s
check "... not before 6 s" test "$el" -ge 6000
kill -CONT "$bird_pid"
check "session back after thaw" wait_for 15 proto_up node4

# graceful restart (tor6 has it): BIRD keeps the IPv6 route while vipgated restarts
check "IPv6 session up before the restart" wait_for 10 proto_up node6
stop "$pid"; rc=$?; pid=
check "SIGTERM exits 0" test $rc -eq 0
check "GR: BIRD keeps the IPv6 route (stale) while vipgated is down" has_route t6 "$web6/128"
check "no GR on tor4: its routes are withdrawn at shutdown" wait_for 2 no_route t4 "$web4/32" node4
check "tor4 got Cease/Administrative Shutdown with the RFC 9003 message" \
	wait_for 2 grep -q 'shutting down' "$tmp/bird.log"
check "vipgated back" start_vipgated
check "GR: session re-established" wait_for 10 proto_up node6
check "GR: route still there after End-of-RIB" wait_for 3 has_route t6 "$web6/128"
check "eBGP back" wait_for 10 proto_up node4
check "eBGP routes back" wait_for 3 has_route t4 "$web4/32"

stop "$pid"; pid=
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
