#!/usr/bin/env bash
# One writer among the nodes, against a real API server (tests/kube/lib.sh):
# three vipgated (node-a, node-b, node-c: their own control sockets, state
# directories and stats ports) in one network namespace, with the account of
# contrib/kubernetes/rbac.yaml.
#   - exactly one holds the Lease vipgate-system/vipgated; the three allocate
#     the same VIPs, only the holder writes Service status and Events (the
#     API server's audit log, by each node's User-Agent);
#   - the Events kubectl describe shows: IPAllocated with the IP,
#     AllocationFailed with the reason, nodeAssigned with the L2 owner; not
#     written again by reconciles, nor by a new leader;
#   - the allocator and client metrics;
#   - kill -9 the holder: another takes over after the lease duration (15 s)
#     and not before the renew deadline (10 s), and writes; SIGTERM the
#     holder: it gives the Lease up and another takes over within seconds;
#     no two nodes ever wrote in the same stretch of time;
#   - contrib/kubernetes/daemonset.yaml is accepted (kubectl apply
#     --dry-run=server).
# Without the control plane this test FAILS, unless VIPGATE_NO_KUBE=1 (skip).
set -u
bld=$(pwd)
src=$(cd "${srcdir:-.}" && pwd)
. "$src/tests/lib.sh"
. "$src/tests/kube/lib.sh"
kube_test "$bld"

kns=vg-klease-$$
tmp=$(mktemp -d /tmp/vg-klease.XXXXXX)
kdir=$tmp/kube
mkdir -p "$kdir"
nodes="node-a node-b node-c"
declare -A pid port
fails=0 passes=0

cleanup() {
	local n
	for n in $nodes; do
		[ -n "${pid[$n]:-}" ] && kill -9 "${pid[$n]}" 2>/dev/null
	done
	kube_cleanup
	ip netns del "$kns" 2>/dev/null
	if [ "$fails" -gt 0 ]; then
		for n in $nodes; do cp "$tmp/$n/log" "$bld/kube-lease.$n.log" 2>/dev/null; done
		cp "$kdir/apiserver.log" "$bld/kube-lease.apiserver.log" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() { fails=$((fails + 1)); echo "FAIL: $*"; }

json() { local n=$1; shift; "$ctl" -s "$tmp/$n/sock" --json "$@"; }
# a field of `vipgatectl status`'s kubernetes part (dotted path)
kstatus() { json "$1" status | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)["kubernetes"]
for k in sys.argv[1].split("."):
    d = d[k]
print(d if isinstance(d, str) else json.dumps(d))' "$2"; }
synced() { [ "$(kstatus "$1" synced)" = true ]; }
all_synced() { local n; for n in $nodes; do alive "$n" && { synced "$n" || return 1; }; done; }
alive() { [ -n "${pid[$1]:-}" ]; }
# the nodes that say they lead, one a line
leaders() { local n; for n in $nodes; do alive "$n" && [ "$(kstatus "$n" lease.leader)" = true ] && echo "$n"; done; }
one_leader() { [ "$(leaders | wc -l)" = 1 ]; }
leader_is_not() { local l; l=$(leaders); [ "$(echo "$l" | grep -c .)" = 1 ] && [ "$l" != "$1" ]; }
holder() { kctl get lease -n vipgate-system vipgated -o jsonpath='{.spec.holderIdentity}'; }
holder_is() { [ "$(holder)" = "$1" ]; }
vips() { json "$1" services | /usr/bin/python3 -c '
import json, sys
for s in sorted(json.load(sys.stdin)["services"], key=lambda s: (s["namespace"], s["name"])):
    print(s["namespace"] + "/" + s["name"], " ".join(s["vips"]) or "-", s["pending"] or "")'; }
svc_vip() { vips "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
same_vips() { vips node-a > "$tmp/v.a" && vips node-b > "$tmp/v.b" && vips node-c > "$tmp/v.c" &&
	[ -s "$tmp/v.a" ] && cmp -s "$tmp/v.a" "$tmp/v.b" && cmp -s "$tmp/v.a" "$tmp/v.c"; }
api_status() { kctl get svc -n default "$1" -o jsonpath='{.status.loadBalancer.ingress[*].ip}'; }
status_is() { [ "$(api_status "$1")" = "$2" ]; }
# the Events on a Service: reason<TAB>message<TAB>source.host, one a line
events() { kctl get events -n default --field-selector "involvedObject.name=$1" \
	-o jsonpath='{range .items[*]}{.reason}{"\t"}{.message}{"\t"}{.source.host}{"\n"}{end}'; }
has_event() { events "$1" | grep -q -- "$2"; }
n_events() { kctl get events -A -o name | grep -c .; }
metrics() { kx curl -sf --max-time 5 "http://127.0.0.1:${port[$1]}/stats/prometheus"; }
metric_is() { metrics "$1" | grep -qxF -- "$2"; }
metric_has() { metrics "$1" | grep -q -- "$2"; }
# the writes of Service status and Events in the audit log: time verb
# resource node (from the User-Agent), in time order
writes() { /usr/bin/python3 - "$kdir/audit.log" <<'EOF'
import datetime, json, sys
rows = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    ua = e.get("userAgent", "")
    if not ua.startswith("vipgated/"):
        continue
    r = e.get("objectRef", {})
    res = r.get("resource", "") + ("/" + r["subresource"] if r.get("subresource") else "")
    if res not in ("services/status", "events"):
        continue
    code = e.get("responseStatus", {}).get("code", 0)
    t = datetime.datetime.strptime(e["requestReceivedTimestamp"][:26].rstrip("Z"),
        "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc).timestamp()
    node = ua.split("node/")[1].split()[0] if "node/" in ua else "?"
    rows.append((t, e["verb"], res, node, code))
for r in sorted(rows):
    print("%.3f %s %s %s %d" % r)
EOF
}
writers() { writes | awk '{print $4}' | sort -u | tr '\n' ' ' | sed 's/ $//'; }

start_node() { # NODE
	local n=$1
	ip netns exec "$kns" "$vipgated" -f -c "$tmp/$n/vipgate.yaml" >>"$tmp/$n/log" 2>&1 &
	pid[$n]=$!
	wait_for 10 json "$n" status
}

ip netns add "$kns"
ip -n "$kns" link set lo up

check "etcd and kube-apiserver start (TLS, RBAC, service-account issuer)" kube_init
[ $fails -eq 0 ] || exit 1
check "rbac.yaml is accepted" kctl apply -f "$src/contrib/kubernetes/rbac.yaml"
kctl create token vipgated -n vipgate-system --duration 2h > "$tmp/token" 2>/dev/null
check "a token for the vipgated account" test -s "$tmp/token"
kube_token_kubeconfig "$tmp/kubeconfig" "$tmp/token"

# --- the in-cluster deployment is accepted by the API server ---------------
check "daemonset.yaml is accepted (kubectl apply --dry-run=server)" \
    kctl apply --dry-run=server -f "$src/contrib/kubernetes/daemonset.yaml"

# --- the cluster: three nodes, a pool, an L2 advertisement, Services -------
cat > "$tmp/objs.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata: {name: metallb-system}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lb, namespace: metallb-system}
spec: {addresses: [192.168.10.0/29]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
spec: {ipAddressPools: [lb]}
---
apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {kubernetes.io/hostname: node-a}}
---
apiVersion: v1
kind: Node
metadata: {name: node-b, labels: {kubernetes.io/hostname: node-b}}
---
apiVersion: v1
kind: Node
metadata: {name: node-c, labels: {kubernetes.io/hostname: node-c}}
---
# its endpoint is on node-b (Local): node-b answers ARP for it
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-x
  namespace: default
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
endpoints: [{addresses: [10.9.0.2], nodeName: node-b, conditions: {ready: true}}]
ports: [{port: 80, protocol: TCP}]
---
# asks for an address no pool has
apiVersion: v1
kind: Service
metadata:
  name: stray
  namespace: default
  annotations: {metallb.io/loadBalancerIPs: 10.99.99.99}
spec:
  type: LoadBalancer
  selector: {app: stray}
  ports: [{port: 80}]
EOF
check "kubectl applies the pool, the nodes and the Services" kctl apply -f "$tmp/objs.yaml"

i=0
for n in $nodes; do
	mkdir -p "$tmp/$n/state" "$tmp/$n/empty"
	port[$n]=$((15120 + i))
	cat > "$tmp/$n/vipgate.yaml" <<EOF
node: {name: $n}
objects: {paths: [$tmp/$n/empty]}
kubernetes: {kubeconfig: $tmp/kubeconfig}
control: {socket: $tmp/$n/sock}
addresses: {interface: lo}
gateway: {enabled: true, bind: [127.0.0.1], workers: 1, health_port: $((15220 + i)), stats_port: ${port[$n]}}
state_dir: $tmp/$n/state
log: {level: debug}
EOF
	i=$((i + 1))
done
t0=$EPOCHREALTIME
for n in $nodes; do start_node "$n"; done
check "the three nodes list every kind" wait_for 60 all_synced
check "exactly one of them holds the Lease" wait_for 20 one_leader
lead=$(leaders)
t1=$EPOCHREALTIME
echo "leader: $lead, $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s after the start"
check "the Lease in the API names it ($lead)" holder_is "$lead"
check "vipgatectl status says who writes" sh -c \
    "'$ctl' -s '$tmp/$lead/sock' status | grep -q 'kubernetes lease.*vipgate-system/vipgated held by $lead (this node'"
for n in $nodes; do
	[ "$n" = "$lead" ] && continue
	check "$n knows $lead holds it" test "$(kstatus "$n" lease.holder)" = "$lead"
done

check "the three nodes allocate the same VIPs" wait_for 20 same_vips
web=$(svc_vip node-a default/web)
sed 's/^/  /' "$tmp/v.a"
check "web has a VIP ($web)" test -n "$web" -a "$web" != -
check "its status is written ($web)" wait_for 20 status_is web "$web"
check "kubectl describe svc web shows IPAllocated with the IP" wait_for 20 sh -c \
    "ip netns exec '$kns' '$kbin/kubectl' --kubeconfig '$kdir/admin.kubeconfig' describe svc web |
    grep -A20 '^Events:' | grep 'IPAllocated' | grep -qF 'Assigned IP [\"$web\"]'"
check "and nodeAssigned: announced from node-b with layer2" wait_for 20 has_event web \
    'nodeAssigned.announcing from node "node-b" with protocol "layer2"'
check "stray: AllocationFailed with the reason" wait_for 20 has_event stray "AllocationFailed.Failed to allocate IP for \"default/stray\": "
events stray | sed 's/^/  stray: /'
events web | sed 's/^/  web: /'
check "the Events come from the leader ($lead)" sh -c "! ip netns exec '$kns' '$kbin/kubectl' \
    --kubeconfig '$kdir/admin.kubeconfig' get events -n default -o jsonpath='{range .items[*]}{.source.host}{\"\\n\"}{end}' |
    grep -v '^$lead\$' | grep -q ."
sleep 3
check "only the leader wrote status and Events (audit log: $(writers))" test "$(writers)" = "$lead"

# --- no repeats: reconciles, a new Service, a restart of a follower --------
nev=$(n_events)
kctl label svc web touched=1 >/dev/null
kctl label svc stray touched=1 >/dev/null
kctl create service loadbalancer second --tcp=80:80 >/dev/null
check "a second Service gets a VIP on every node" wait_for 20 sh -c \
    "[ -n \"\$('$ctl' -s '$tmp/node-a/sock' --json services | grep -o second)\" ]"
check "and IPAllocated" wait_for 20 has_event second IPAllocated
sleep 3
check "reconciles wrote no Event again ($nev + 1 for the new Service)" test "$(n_events)" = $((nev + 1))

# --- an Event that happens again: web's L2 owner gone, then back ------------
ev_last() { kctl get events -n default --field-selector involvedObject.name=web,reason=nodeAssigned \
	-o jsonpath='{.items[0].lastTimestamp}'; }
first=$(ev_last)
kctl get endpointslice -n default web-x -o json > "$tmp/web-x.json"
kctl delete endpointslice -n default web-x >/dev/null
web_unready() { json "$lead" services | /usr/bin/python3 -c 'import json, sys
sys.exit(0 if [s for s in json.load(sys.stdin)["services"] if s["name"] == "web" and not s["ready_anywhere"]] else 1)'; }
check "web without endpoints: nobody answers ARP for it" wait_for 20 web_unready
sleep 1.5
/usr/bin/python3 -c 'import json, sys
o = json.load(open(sys.argv[1])); m = o["metadata"]
o["metadata"] = {k: m[k] for k in ("name", "namespace", "labels")}
json.dump(o, open(sys.argv[1], "w"))' "$tmp/web-x.json"
kctl create -f "$tmp/web-x.json" >/dev/null
ev_later() { [ "$(ev_last)" != "$first" ]; }
check "its endpoint back: the nodeAssigned Event says it again (lastTimestamp $first -> later)" wait_for 20 ev_later
check "and is not written twice" test "$(events web | grep -c .)" = 2

# --- metrics ---------------------------------------------------------------
check "metallb_allocator_addresses_in_use_total per pool" wait_for 10 metric_is "$lead" \
    'metallb_allocator_addresses_in_use_total{pool="lb"} 2'
check "metallb_allocator_addresses_total per pool" metric_is "$lead" \
    'metallb_allocator_addresses_total{pool="lb"} 8'
check "requests by verb and code" metric_has "$lead" 'vipgate_kube_requests_total{verb="list",code="200"} '
check "status patches and Event creates among them" sh -c \
    "curl_out=\$(ip netns exec '$kns' curl -sf http://127.0.0.1:${port[$lead]}/stats/prometheus) &&
    echo \"\$curl_out\" | grep -q 'vipgate_kube_requests_total{verb=\"patch\",code=\"200\"}' &&
    echo \"\$curl_out\" | grep -q 'vipgate_kube_requests_total{verb=\"create\",code=\"201\"}'"
check "watch restarts, by kind" metric_has "$lead" 'vipgate_kube_watch_restarts_total{kind="Service"} '
check "the leader's vipgate_kube_leader is 1" metric_is "$lead" 'vipgate_kube_leader{lease="vipgate-system/vipgated"} 1'
for n in $nodes; do
	[ "$n" = "$lead" ] && continue
	check "$n's is 0" metric_is "$n" 'vipgate_kube_leader{lease="vipgate-system/vipgated"} 0'
done

# --- kill -9 the leader ----------------------------------------------------
old=$lead
tk=$EPOCHREALTIME
kill -9 "${pid[$old]}"; wait "${pid[$old]}" 2>/dev/null; pid[$old]=
# created while nobody writes: the next holder writes its status
kctl create service loadbalancer gap --tcp=80:80 >/dev/null
# at most 15 s after the last renewal it saw, which is at most a retry
# period (2 s + 20%) old, seen at most a retry period late: 19.8 s
check "another node takes over within the lease duration (15 s) + 2 retry periods + slack" \
    wait_for 30 leader_is_not "$old"
tn=$EPOCHREALTIME
lead=$(leaders)
dt=$(awk -v a="$tk" -v b="$tn" 'BEGIN {printf "%.1f", b - a}')
echo "takeover: $lead, $dt s after kill -9 $old"
check "not before the renew deadline (10 s): no two writers ($dt s)" awk -v d="$dt" 'BEGIN { exit !(d >= 10) }'
check "the Lease names $lead" holder_is "$lead"
kctl create service loadbalancer third --tcp=80:80 >/dev/null
check "the new leader writes a new Service's status" wait_for 20 sh -c \
    "[ -n \"\$(ip netns exec '$kns' '$kbin/kubectl' --kubeconfig '$kdir/admin.kubeconfig' get svc third \
    -o jsonpath='{.status.loadBalancer.ingress[0].ip}')\" ]"
check "and its IPAllocated" wait_for 20 has_event third IPAllocated
check "and the status of the one created while nobody held the Lease" wait_for 20 sh -c \
    "[ -n \"\$(ip netns exec '$kns' '$kbin/kubectl' --kubeconfig '$kdir/admin.kubeconfig' get svc gap \
    -o jsonpath='{.status.loadBalancer.ingress[0].ip}')\" ]"
sleep 3
check "web's Events were not written again by the new leader" test "$(events web | grep -c .)" = 2

# the writes in time: the old leader's before the kill, the new one's after
writes > "$tmp/writes"
check "writers: the old leader until the kill, then only the new one, 10 s later at the earliest" /usr/bin/python3 - "$tmp/writes" "$old" "$lead" "$tk" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
old, new, tk = sys.argv[2], sys.argv[3], float(sys.argv[4])
# (the old one's last request may reach the server a moment after the kill;
# the new one may write only once the Lease expired, 10 s at the least)
bad = [r for r in rows if (r[3] == old and float(r[0]) > tk + 0.5) or
       (r[3] == new and float(r[0]) < tk + 10) or r[3] not in (old, new)]
print("  %d writes: %d by %s, %d by %s" % (len(rows), sum(r[3] == old for r in rows), old,
      sum(r[3] == new for r in rows), new))
for r in bad[:5]:
    print("  out of turn:", " ".join(r))
sys.exit(1 if bad else 0)
EOF

# --- the killed node comes back: a follower -------------------------------
check "$old starts again" start_node "$old"
check "it lists every kind" wait_for 60 synced "$old"
sleep 4
check "it does not take the Lease back" test "$(leaders)" = "$lead"

# --- SIGTERM the leader: it gives the Lease up -----------------------------
prev=$lead
tk=$EPOCHREALTIME
stop "${pid[$prev]}"; rc=$?; pid[$prev]=
check "SIGTERM exits 0" test $rc = 0
check "another takes over within 2 retry periods (the Lease given up)" wait_for 8 leader_is_not "$prev"
lead=$(leaders)
echo "after SIGTERM of $prev: $lead leads, $(awk -v a="$tk" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}') s later"
sleep 3
check "web's Events still not written again" test "$(events web | grep -c .)" = 2
check "web's status unchanged" status_is web "$web"

# --- the API server denied the account nothing; verbs ---------------------
/usr/bin/python3 - "$kdir/audit.log" > "$tmp/audit.txt" <<'EOF'
import collections, json, sys
verbs, denied = collections.Counter(), []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if not e.get("userAgent", "").startswith("vipgated/"):
        continue
    r = e.get("objectRef", {})
    verbs["%s %s" % (e["verb"], r.get("resource", "") + ("/" + r["subresource"] if r.get("subresource") else ""))] += 1
    if e.get("responseStatus", {}).get("code") in (401, 403):
        denied.append("%s %s" % (e["verb"], e["requestURI"]))
for v, c in sorted(verbs.items()):
    print("verb %s %d" % (v, c))
print("denied %d" % len(denied))
for d in denied[:5]:
    print("  " + d)
EOF
grep -E '^verb (get|create|update) |^verb patch|^denied' "$tmp/audit.txt" | sed 's/^/  audit: /'
check "the API server denied the account nothing" grep -q '^denied 0$' "$tmp/audit.txt"
conflicts=0
for n in $nodes; do
	alive "$n" && conflicts=$((conflicts + $(kstatus "$n" lease.conflicts)))
done
echo "lease writes another node made first (409), on the nodes alive: $conflicts"

echo "kube-lease: $passes passed, $fails failed"
[ $fails -eq 0 ]
