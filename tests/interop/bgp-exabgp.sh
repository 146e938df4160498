#!/usr/bin/env bash
# vipgated against ExaBGP 4 (eBGP over IPv4, IPv4 and IPv6 families): the
# UPDATEs as ExaBGP parses them (prefixes, next hops, AS path, communities,
# large communities), End-of-RIB for both families, withdraw within 1 s.
# ExaBGP restarted -> session back; ExaBGP frozen (SIGSTOP) -> declared
# down at hold time.
. "$(dirname "$0")/bgp-lib.sh"
command -v exabgp >/dev/null || { echo "SKIP: exabgp missing"; exit 77; }

setup_net
cat > "$tmp/dump.py" <<EOC
import sys
with open("$tmp/exa.json", "a") as f:
    for line in sys.stdin:
        f.write(line)
        f.flush()
EOC
cat > "$tmp/exabgp.conf" <<EOC
process dump {
	run /usr/bin/python3 $tmp/dump.py;
	encoder json;
}
neighbor 10.99.0.1 {
	router-id 10.99.0.2;
	local-address 10.99.0.2;
	local-as 64501;
	peer-as 64500;
	hold-time 9;
	family { ipv4 unicast; ipv6 unicast; }
	api { processes [ dump ]; receive { parsed; update; notification; } }
}
EOC
: > "$tmp/exa.json"
start_exabgp() {
	env exabgp_daemon_user=root exabgp_daemon_drop=false exabgp_log_destination=stderr \
		exabgp_tcp_once=false exabgp_api_ack=false \
		ip netns exec "$nst" exabgp "$tmp/exabgp.conf" >>"$tmp/exabgp.log" 2>&1 &
	exa_pid=$!
	peer_pids="$peer_pids $exa_pid"
}
start_exabgp

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
metadata: {name: exa, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.99.0.2, holdTime: 9s,
  sourceAddress: 10.99.0.1}
EOC
{ svc web Cluster RequireDualStack "IPv4, IPv6"; svc tmp1; } > "$tmp/objs/svcs.yaml"

# the RIB as ExaBGP's parsed UPDATEs build it: prefix -> (next hop, attributes)
rib() { python3 - "$tmp/exa.json" "$@" <<'EOP'
import json, sys
rib, eor = {}, set()
for line in open(sys.argv[1]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    msg = m.get("neighbor", {}).get("message", {})
    if "eor" in msg:
        eor.add(msg["eor"]["afi"])
    u = msg.get("update")
    if not u:
        continue
    attrs = u.get("attribute", {})
    for fam, hops in u.get("announce", {}).items():
        for nh, lst in hops.items():
            for n in lst:
                rib[n["nlri"]] = (nh, attrs)
    for fam, lst in u.get("withdraw", {}).items():
        for n in lst:
            rib.pop(n["nlri"], None)
what = sys.argv[2]
if what == "has":
    sys.exit(0 if sys.argv[3] in rib else 1)
if what == "eor":
    sys.exit(0 if sys.argv[3] in eor else 1)
if what == "grouped":
    # the initial table: one UPDATE carries every IPv4 prefix (same attributes)
    best = 0
    for line in open(sys.argv[1]):
        try:
            u = json.loads(line)["neighbor"]["message"]["update"]
        except (ValueError, KeyError):
            continue
        for hops in u.get("announce", {}).get("ipv4 unicast", {}).values():
            best = max(best, len(hops))
    sys.exit(0 if best >= int(sys.argv[3]) else 1)
if what == "check":
    nh, a = rib[sys.argv[3]]
    ok = eval(sys.argv[4])
    if not ok:
        print(nh, json.dumps(a), file=sys.stderr)
    sys.exit(0 if ok else 1)
EOP
}
has_route() { rib has "$1"; }
no_route() { ! rib has "$1"; }

check "vipgated starts" start_vipgated
check "session established (vipgatectl)" wait_for 10 sh -c "\"$ctl\" -s \"$tmp/sock\" --json bgp | grep -q Established"
vip() { json services | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] == sys.argv[1]:
        print(s["vips"][int(sys.argv[2])])' "$1" "$2"; }
web4=$(vip web 0); web6=$(vip web 1); t1=$(vip tmp1 0)
check "IPv4 /32 at ExaBGP" wait_for 3 has_route "$web4/32"
check "IPv6 /128 at ExaBGP" wait_for 3 has_route "$web6/128"
check "prefixes with identical attributes share one UPDATE" rib grouped 2
check "End-of-RIB IPv4" rib eor ipv4
check "End-of-RIB IPv6" rib eor ipv6
check "v4 next hop 10.99.0.1 (sourceAddress)" rib check "$web4/32" 'nh == "10.99.0.1"'
check "v6 next hop: IPv4-mapped (IPv4 session)" rib check "$web6/128" 'nh == "::ffff:10.99.0.1"'
check "AS path [64500]" rib check "$web4/32" 'a["as-path"] == [64500]'
check "origin igp" rib check "$web4/32" 'a["origin"] == "igp"'
check "communities" rib check "$web4/32" 'a["community"] == [[65000, 100], [65535, 65281]]'
check "large community" rib check "$web6/128" 'a["large-community"] == [[64500, 1, 2]]'
check "no LOCAL_PREF on eBGP" rib check "$web4/32" '"local-preference" not in a'

python3 - "$tmp/objs/svcs.yaml" <<'EOP'
import sys
p = sys.argv[1]
docs = open(p).read().split("---\n")
open(p, "w").write("---\n".join(d for d in docs if "tmp1" not in d))
EOP
t0=$(date +%s%N)
check "deleted Service withdrawn at ExaBGP within 1 s" wait_for 1 no_route "$t1/32"
echo "  withdraw took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "web still there" has_route "$web4/32"

# ExaBGP restarted -> session and routes back (its RIB is read afresh)
exa_state() { peer_field 10.99.0.2:179 state; }
exa_down() { [ "$(exa_state)" != Established ]; }
exa_up() { [ "$(exa_state)" = Established ]; }
both_routes() { has_route "$web4/32" && has_route "$web6/128"; }
hold_expired() { peer_field 10.99.0.2:179 last_error | grep -qi 'hold timer expired'; }
kill -TERM "$exa_pid"; wait "$exa_pid" 2>/dev/null
check "ExaBGP gone: vipgated sees the session down" wait_for 10 exa_down
: > "$tmp/exa.json"
start_exabgp
check "session back after ExaBGP restart" wait_for 15 exa_up
check "IPv4 and IPv6 routes back after ExaBGP restart" wait_for 3 both_routes
check "... and not the deleted Service's" no_route "$t1/32"

# ExaBGP frozen (SIGSTOP): declared down at hold time (9 s), back after SIGCONT
kill -STOP "$exa_pid"
t0=$(date +%s%N)
check "frozen ExaBGP declared down within hold time + 1 s" wait_for 10.5 hold_expired
el=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "  declared down after $el ms (hold 9 s)"
# the hold timer runs from the peer's last message, up to one keepalive
# interval (hold / 3) before the freeze: never before 6 s
check "... not before 6 s" test "$el" -ge 6000
: > "$tmp/exa.json"
kill -CONT "$exa_pid"
check "session back after thaw" wait_for 20 exa_up
check "routes back after thaw" wait_for 5 both_routes

stop "$pid"; rc=$?; pid=
check "SIGTERM exits 0" test $rc -eq 0
check "withdrawn at shutdown" wait_for 2 no_route "$web4/32"
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
