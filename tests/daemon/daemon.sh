#!/usr/bin/env bash
# vipgated end to end, in a network namespace this test makes: control
# socket, manifest edits picked up, a broken manifest + SIGHUP keeping the
# running state, VIPs as local addresses that leave with their Service, an
# address vipgated did not add left alone, SIGTERM exiting 0.
set -u
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
ip netns add vg-probe-$$ 2>/dev/null || { echo "SKIP: ip netns unavailable"; exit 77; }
ip netns del vg-probe-$$

bld=$(pwd)
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
vipgated=$bld/vipgated
ctl=$bld/vipgatectl
ns=vg-daemon-$$
tmp=$(mktemp -d /tmp/vg-daemon.XXXXXX)
pid=
fails=0 passes=0

cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() { fails=$((fails + 1)); echo "FAIL: $*"; [ -f "$tmp/log" ] && tail -20 "$tmp/log"; }



json() { "$ctl" -s "$tmp/sock" --json "$@"; }
svc_vips() { json services | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in d["services"]:
    if s["namespace"] + "/" + s["name"] == sys.argv[1]:
        print(" ".join(s["vips"]))' "$1"; }
has_addr() { ip -n "$ns" -o addr show dev lo | grep -q " $1/"; }
no_addr() { ! has_addr "$1"; }
status_field() { json status | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d[k]
print(json.dumps(d))' "$1"; }

ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$tmp/objs" "$tmp/state"
cat > "$tmp/vipgate.yaml" <<EOC
node: {name: node-a}
objects: {paths: [objs]}
control: {socket: $tmp/sock}
addresses: {interface: lo}
state_dir: state
log: {level: debug}
EOC
cat > "$tmp/objs/pool.yaml" <<'EOC'
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec:
  addresses: [192.0.2.10-192.0.2.20]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
EOC
svc() { # name [extra spec lines]
	cat <<EOC
---
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: $1}
  ports: [{port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: $1-x, namespace: default, labels: {kubernetes.io/service-name: $1}}
addressType: IPv4
endpoints: [{addresses: [10.9.0.1], nodeName: node-a}]
EOC
}
svc web > "$tmp/objs/web.yaml"

check "vipgated -t accepts the config" "$vipgated" -t -c "$tmp/vipgate.yaml"

# an address that is not vipgated's, in the pool's range
ip -n "$ns" addr add 192.0.2.99/32 dev lo

ip netns exec "$ns" "$vipgated" -f -c "$tmp/vipgate.yaml" >"$tmp/log" 2>&1 &
pid=$!
check "vipgatectl status answers" wait_for 5 json status
check "web gets the pool's first VIP" test "$(svc_vips default/web)" = "192.0.2.10"
check "the VIP is a local address in the namespace" wait_for 2 has_addr 192.0.2.10

# a manifest edit is picked up within 1 s
svc api >> "$tmp/objs/web.yaml"
check "a new Service in an edited file is allocated within 1 s" \
	wait_for 1 sh -c "[ \"\$(\"$ctl\" -s \"$tmp/sock\" --json services | grep -c '\"192.0.2.11\"')\" -ge 1 ]"
check "its VIP becomes a local address" wait_for 1 has_addr 192.0.2.11

# a broken manifest + SIGHUP: reported, the running state stays
r0=$(status_field reconciles)
sed -i 's/192.0.2.10-192.0.2.20/192.0.2.20-192.0.2.10/' "$tmp/objs/pool.yaml"
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec: {type: [\n' > "$tmp/objs/zz-broken.yaml"
sleep 0.3
kill -HUP "$pid"
check "the reload is reported as failed" wait_for 2 sh -c "\"$ctl\" -s \"$tmp/sock\" --json status | grep -q '\"ok\": false'"
check "the error names file:line" sh -c "\"$ctl\" -s \"$tmp/sock\" --json status | grep -q 'pool.yaml:5:'"
check "the syntax error names file:line" sh -c "\"$ctl\" -s \"$tmp/sock\" --json status | grep -q 'zz-broken.yaml:5:'"
check "the VIPs did not move" test "$(svc_vips default/web) $(svc_vips default/api)" = "192.0.2.10 192.0.2.11"
check "the VIP is still a local address" has_addr 192.0.2.10
sleep 0.3
r1=$(status_field reconciles)
check "one SIGHUP (after an inotify burst) made at most two reconciles" test $((r1 - r0)) -le 2
r0=$(status_field reconciles)
kill -HUP "$pid"
sleep 0.5
r1=$(status_field reconciles)
check "a SIGHUP with nothing changed makes exactly one reconcile" test $((r1 - r0)) -eq 1

# fix the pool, delete a Service: its VIP leaves, the other stays
sed -i 's/192.0.2.20-192.0.2.10/192.0.2.10-192.0.2.20/' "$tmp/objs/pool.yaml"
rm -f "$tmp/objs/zz-broken.yaml"
svc api > "$tmp/objs/web.yaml"
check "the deleted Service's VIP is removed" wait_for 2 no_addr 192.0.2.10
check "the other Service keeps its VIP" test "$(svc_vips default/api)" = "192.0.2.11"
check "the foreign address is untouched" has_addr 192.0.2.99
check "vipgatectl reload succeeds" "$ctl" -s "$tmp/sock" reload

# a second vipgated refuses to start while the first answers
ip netns exec "$ns" "$vipgated" -f -c "$tmp/vipgate.yaml" >"$tmp/log2" 2>&1
rc=$?
check "a second vipgated refuses to start (exit 2)" test $rc -eq 2
check "... saying why" grep -q "another vipgated is running" "$tmp/log2"

# SIGTERM: exit 0, our VIPs gone, the foreign one stays
stop "$pid"; rc=$?
pid=
check "SIGTERM exits 0" test $rc -eq 0
check "SIGTERM removed the VIPs" no_addr 192.0.2.11
check "the foreign address survives" has_addr 192.0.2.99
check "the allocations were saved" grep -q 192.0.2.11 "$tmp/state/allocations.json"

# restart: the VIP is sticky even though an earlier-sorted Service appears
svc aaa >> "$tmp/objs/web.yaml"
ip netns exec "$ns" "$vipgated" -f -c "$tmp/vipgate.yaml" >"$tmp/log" 2>&1 &
pid=$!
check "restarted" wait_for 5 json status
check "api keeps 192.0.2.11 after the restart" test "$(svc_vips default/api)" = "192.0.2.11"
check "the new Service gets a free VIP" test "$(svc_vips default/aaa)" = "192.0.2.10"
stop "$pid"; pid=

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
