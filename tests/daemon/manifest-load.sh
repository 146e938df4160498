#!/usr/bin/env bash
# Manifest loads and reload answers, in namespaces this test makes (a node
# running vipgated, a ToR running BIRD 2 when it is installed, joined by a
# veth pair):
# - vipgatectl reload with one bad object and one good one: the good one
#   takes effect and the answer says "applied in part", exit 3; a reload
#   that applies nothing says so, exit 1; a clean one exits 0;
# - an AuthorizationPolicy that breaks is reported and stays, broken, in
#   place of its good version (it fails closed), not as a rejection;
# - while a file of 100,000 anchors and a 50 MB file of unknown kinds load,
#   vipgatectl status answers within 1 s each time and a BGP session with a
#   3 s hold time stays up; the unknown kinds make 20 warnings and one line
#   that counts the rest, not half a million; once the files are gone
#   vipgated's RSS comes back to within 20 MB of what it was before;
# - SIGTERM while a file is read exits at once.
. "$(dirname "$0")/../interop/bgp-lib.sh"
gen=$(dirname "$0")/../bench/gen-stress.py
have_bird=0
command -v bird >/dev/null && command -v birdc >/dev/null && have_bird=1

setup_net
bird_hold3_setup
# the SIGTERM check below is about a load in progress, not the routers'
# time to move traffic (drain.withdraw_after, tests/interop/drain-bird.sh)
echo "drain: {withdraw_after: 0s}" >> "$tmp/vipgate.yaml"
has_route() { bc show route table t4 | grep -q "^$1 "; }
svc web > "$tmp/objs/web.yaml"
vip() { json services | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] == sys.argv[1]:
        print(" ".join(s["vips"]))' "$1"; }
rss_mb() { awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$pid/status"; }

if [ $have_bird -eq 1 ]; then
	ip netns exec "$nst" bird -f -c "$tmp/bird.conf" -s "$birdsock" >>"$tmp/bird.log" 2>&1 &
	peer_pids="$peer_pids $!"
	check "BIRD starts" wait_for 5 test -S "$birdsock"
fi
check "vipgated starts" start_vipgated
[ $have_bird -eq 1 ] && check "the BGP session (hold time 3 s) is established" wait_for 10 proto_up

# -- a reload with a bad object and a good one: the good one is in force --
svc api > "$tmp/objs/api.yaml"
cat > "$tmp/objs/bad.yaml" <<'EOC'
apiVersion: v1
kind: Service
metadata: {name: bad, namespace: default}
spec: {type: Bad, ports: [{port: 80}]}
EOC
"$ctl" -s "$tmp/sock" reload > "$tmp/out" 2>&1
rc=$?
check "a reload that rejects one object exits 3" test $rc -eq 3
check "... says it applied in part" grep -q "ctl: applied in part, 1 error; 1 rejected object not loaded; everything else is in force" "$tmp/out"
check "... not that the running configuration is kept" sh -c "! grep -q 'running configuration is kept' '$tmp/out'"
check "... and names the rejected object" grep -q "bad.yaml:4:7: Service default/bad: spec: type" "$tmp/out"
check "the good Service of that reload has its VIP" test -n "$(vip api)"
[ $have_bird -eq 1 ] && check "... announced to BIRD" wait_for 3 has_route "$(vip api)/32"
check "--json says the same: applied part, exit 3" sh -c "\"$ctl\" -s \"$tmp/sock\" --json reload > \"$tmp/out.json\"; [ \$? -eq 3 ]"
check "... with what was rejected" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["applied"] == "part" and r["config"] == "applied", r
assert r["objects"]["rejected_not_loaded"] == 1, r' "$tmp/out.json"

# -- a reload that applies nothing: the main config is invalid, no manifest changed --
cp "$tmp/vipgate.yaml" "$tmp/vipgate.yaml.good"
echo "bogus: 1" >> "$tmp/vipgate.yaml"
"$ctl" -s "$tmp/sock" reload > "$tmp/out" 2>&1
rc=$?
check "a reload that applies nothing exits 1" test $rc -eq 1
check "... saying nothing changed" grep -q "ctl: failed, 3 errors; the main config is invalid, the running one stays; 1 rejected object not loaded; nothing changed, the running configuration is kept" "$tmp/out"
cp "$tmp/vipgate.yaml.good" "$tmp/vipgate.yaml"
rm -f "$tmp/objs/bad.yaml"
"$ctl" -s "$tmp/sock" reload > "$tmp/out" 2>&1
rc=$?
check "a clean reload exits 0, ok" sh -c "[ $rc -eq 0 ] && grep -q 'ctl: ok' '$tmp/out'"

# -- VirtualServices: one breaks and keeps its last good version, a new one applies --
nobj() { json status | python3 -c 'import json, sys; print(json.load(sys.stdin)["objects"])'; }
vs() { # name hosts
	cat <<EOC
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: $1, namespace: default}
spec:
  hosts: $2
  gateways: [gw]
  http: [{route: [{destination: {host: web}}]}]
EOC
}
vs routed "[a.example.com]" > "$tmp/objs/vs.yaml"
"$ctl" -s "$tmp/sock" reload > "$tmp/out" 2>&1
check "a VirtualService loads" test $? -eq 0
n0=$(nobj)
{ vs routed "[]"; vs fresh "[b.example.com]"; } > "$tmp/objs/vs.yaml"
"$ctl" -s "$tmp/sock" reload > "$tmp/out" 2>&1
rc=$?
check "a reload that breaks one VirtualService and adds another exits 3" test $rc -eq 3
check "... says the broken one keeps its last good version" grep -q "ctl: applied in part, 1 error; 1 rejected object keeps the last good version; everything else is in force" "$tmp/out"
check "... names it" grep -q "vs.yaml:6:10: VirtualService default/routed: spec: hosts is required" "$tmp/out"
check "the new VirtualService is in force, the old one kept" test "$(nobj)" -eq $((n0 + 1))
rm -f "$tmp/objs/vs.yaml"
"$ctl" -s "$tmp/sock" reload > /dev/null 2>&1

# -- an AuthorizationPolicy that breaks stays in force, broken (it fails closed) --
ap() { # extra rule fields
	cat <<EOC
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: default}
spec:
  action: DENY
  rules: [{to: [{operation: {paths: [/admin]}}]$1}]
EOC
}
ap "" > "$tmp/objs/ap.yaml"
"$ctl" -s "$tmp/sock" reload > "$tmp/out" 2>&1
check "an AuthorizationPolicy loads" test $? -eq 0
n0=$(nobj)
ap ", when: [{key: source.ip}]" > "$tmp/objs/ap.yaml"
"$ctl" -s "$tmp/sock" reload > "$tmp/out" 2>&1
rc=$?
check "a reload that breaks it exits 3" test $rc -eq 3
check "... names it" grep -q "ap.yaml:6:57: AuthorizationPolicy default/deny-admin: spec.rules\[0\].when\[0\]: at least one of values or notValues must be set" "$tmp/out"
check "... not as a rejected object: the broken version is in force" sh -c "! grep -q rejected '$tmp/out'"
check "... in place of the good one" test "$(nobj)" -eq "$n0"
rm -f "$tmp/objs/ap.yaml"
"$ctl" -s "$tmp/sock" reload > /dev/null 2>&1
check "the policy goes with its file" test "$(nobj)" -eq $((n0 - 1))

# -- large files: the main loop keeps answering; BGP stays up --
flaps0=$(peer_field 10.99.0.2:179 flaps)
rss0=$(rss_mb)
python3 "$gen" anchors "$tmp/anchors.yaml" 100000
python3 "$gen" unknown "$tmp/unknown.yaml" 50
mv "$tmp/anchors.yaml" "$tmp/unknown.yaml" "$tmp/objs/"
# a reload, and an inotify load before or after it
t0=$(date +%s%N)
"$ctl" -s "$tmp/sock" reload > "$tmp/out" 2>&1 &
rpid=$!
worst=0 n=0 loading=0
while kill -0 $rpid 2>/dev/null; do
	s=$(date +%s%N)
	timeout 5 "$ctl" -s "$tmp/sock" status > "$tmp/status" 2>&1 || worst=5000
	grep -q '^manifests  *loading' "$tmp/status" && loading=1
	e=$(( ($(date +%s%N) - s) / 1000000 ))
	[ $e -gt $worst ] && worst=$e
	n=$((n + 1))
	sleep 0.1
done
wait $rpid
rc=$?
took=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "reload of 100,000 anchors and 50 MB: $took ms; $n status answers meanwhile, the slowest in $worst ms"
check "vipgatectl status answered within 1 s while they loaded" test $worst -lt 1000
check "... and said the manifests were loading" test $loading -eq 1
check "the reload answered, ok with warnings" sh -c "[ $rc -eq 0 ] && grep -q 'ctl: ok, 21 warnings' '$tmp/out'"
check "the unknown kinds: 20 warnings and one that counts the rest" grep -q "unknown.yaml: warning: 0 more errors and [0-9]* more warnings not listed (the first 20 of each are)" "$tmp/out"
check "the log has no more of them than that" test "$(grep -c 'unknown kind Widget' "$tmp/log")" -le 40
check "the anchored Namespace loaded" sh -c "\"$ctl\" -s \"$tmp/sock\" status | grep -q '^objects  *8 '"
if [ $have_bird -eq 1 ]; then
	check "the BGP session stayed up (BIRD side)" proto_up
	check "... and no flap was counted" test "$(peer_field 10.99.0.2:179 flaps)" = "$flaps0"
fi
echo "vipgated RSS with them loaded: $(rss_mb) MB"
rm -f "$tmp/objs/unknown.yaml" "$tmp/objs/anchors.yaml"
"$ctl" -s "$tmp/sock" reload > "$tmp/out" 2>&1
rc=$?
check "removing them is a clean reload" test $rc -eq 0
rss=$(rss_mb)
echo "$(cat /proc/$pid/comm) RSS after the large files went: $rss MB"
# AddressSanitizer's allocator keeps freed memory in quarantine
if ldd "$vipgated" 2>/dev/null | grep -q libasan; then
	echo "skipped under AddressSanitizer: RSS back to where it was"
else
	check "RSS comes back to within 20 MB of what it was before ($rss0 MB)" test "$rss" -le $((rss0 + 20))
fi

# SIGTERM while a load reads: vipgated exits without waiting for it
python3 "$gen" unknown "$tmp/unknown.yaml" 50
mv "$tmp/unknown.yaml" "$tmp/objs/"
loading() { "$ctl" -s "$tmp/sock" status | grep -q '^manifests  *loading'; }
check "a load of 50 MB runs" wait_for 5 loading
t0=$(date +%s%N)
stop "$pid"; rc=$?
pid=
took=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGTERM during it exits 0 (in $took ms)" test $rc -eq 0
# AddressSanitizer's leak check at exit walks the whole heap of the load
limit=1000
ldd "$vipgated" 2>/dev/null | grep -q libasan && limit=15000
check "... within $limit ms" test $took -lt $limit
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
