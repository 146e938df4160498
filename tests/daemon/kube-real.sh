#!/usr/bin/env bash
# vipgated against a real Kubernetes API server (etcd and kube-apiserver
# built by tests/kube/build.sh, started by tests/kube/lib.sh in a network
# namespace this test makes), as the least-privileged service account of
# contrib/kubernetes/rbac.yaml:
#   - the seed's manifests applied with kubectl give the VIPs, the L2
#     ownership, the gateway's listeners and routes the same files give
#     vipgated's file source;
#   - status.loadBalancer.ingress written through the status subresource,
#     read back as the previous allocation after a restart with no state;
#   - LIST then WATCH with resourceVersions: created and deleted objects;
#   - a CRD installed after vipgated started;
#   - the API server restarted, down longer than a watch timeout: the
#     watches end with 410 (watch cache) and list again, no VIP released;
#   - a watch from a resourceVersion etcd compacted away (410, list again),
#     with a Service deleted and one created meanwhile;
#   - a paged LIST of many Services (KUBE_REAL_BULK, default 10000);
#   - the audit log: the API server denied vipgated's account nothing.
# The faults a real server cannot be made to produce (a malformed object,
# an answer cut short, a wrong token's 401) stay in kube-source.sh's mock.
#
# The control plane is a test peer like BIRD: without it this test FAILS,
# unless VIPGATE_NO_KUBE=1 says the machine has no Go to build it (skip).
# VIPGATE_KUBE_BIN: a directory with etcd, kube-apiserver and kubectl
# already built (contrib/quickstart.sh check shares one between builds).
set -u
bld=$(pwd)
src=$(cd "${srcdir:-.}" && pwd)
. "$src/tests/lib.sh"
. "$src/tests/kube/lib.sh"
kube_test "$bld"
bulk=${KUBE_REAL_BULK:-10000}

kns=vg-kreal-$$
tmp=$(mktemp -d /tmp/vg-kreal.XXXXXX)
kdir=$tmp/kube
mkdir -p "$kdir"
pid=
fails=0 passes=0

cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	kube_cleanup
	ip netns del "$kns" 2>/dev/null
	# the logs stay next to the test's when something failed
	if [ "$fails" -gt 0 ]; then
		cp "$tmp/log" "$bld/kube-real.daemon.log" 2>/dev/null
		cp "$kdir/apiserver.log" "$bld/kube-real.apiserver.log" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	fails=$((fails + 1)); echo "FAIL: $*"
	[ -f "$tmp/log" ] && tail -15 "$tmp/log"
}

json() { "$ctl" -s "$tmp/sock" --json "$@"; }
# ns/name vips, one line per Service, sorted
all_vips() { json services | /usr/bin/python3 -c '
import json, sys
for s in sorted(json.load(sys.stdin)["services"], key=lambda s: (s["namespace"], s["name"])):
    print(s["namespace"] + "/" + s["name"], " ".join(s["vips"]))'; }
svc_vips() { all_vips | awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }'; }
vips_are() { [ "$(svc_vips "$1")" = "$2" ]; }
has_svc() { all_vips | grep -q "^$1 "; }
kstatus() { json status | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)["kubernetes"]
for k in sys.argv[1].split("."):
    d = d[k]
print(d if isinstance(d, str) else json.dumps(d))' "$1"; }
synced() { [ "$(kstatus synced)" = true ]; }
log_has() { grep -q -- "$1" "$tmp/log"; }
# the status the API server has: NS NAME -> "ip ip"
api_status() { kctl get svc -n "$1" "$2" -o jsonpath='{.status.loadBalancer.ingress[*].ip}'; }
status_is() { [ "$(api_status "$1" "$2")" = "$3" ]; }
# the VIP is a local address in the namespace
has_addr() { ip -n "$kns" -o addr show dev lo | grep -q " $1/"; }
count_lines() { grep -c -- "$1" "$tmp/log"; }
no_svc() { ! has_svc "$1"; }
no_addr() { ! has_addr "$1"; }
gw_has_vip() { all_vips | grep -q '^istio-system/istio-ingressgateway 192'; }
vips_as_in() { all_vips | cmp -s - "$1"; }
more_than() { [ "$(count_lines "$1")" -gt "$2" ]; }
n_bulk_vips() { [ "$(all_vips | grep -c '^bulk/')" = "$1" ]; }
n_bulk_status() { [ "$(kctl get svc -n bulk -o jsonpath='{range .items[*]}{.status.loadBalancer.ingress[0].ip}{"\n"}{end}' | grep -c .)" = "$1" ]; }
ra_watched() { [ "$(kstatus kinds.RequestAuthentication.state)" = watching ]; }
sa_kubectl() { kx "$kbin/kubectl" --kubeconfig "$tmp/kubeconfig" --request-timeout=20s "$@"; }
seed_apply() { kctl apply -f "$tmp/seed/zz-services.yaml" >/dev/null && kctl apply -f "$tmp/seed" >/dev/null; }
# the gateway's routes and listeners, as JSON without run-time counters
gw_views() { # PREFIX
	json gateway routes > "$1.routes" && json gateway listeners | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in ("connections", "requests", "since", "uptime")}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o
json.dump(strip(d), sys.stdout, indent=1, sort_keys=True)' > "$1.listeners"; }
gw_views_as() { gw_views "$tmp/kube" && cmp -s "$1.routes" "$tmp/kube.routes"; }
# the VIPs this node answers ARP for, and who owns each
l2_view() { json l2 | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in ("since", "uptime", "age_ms", "changes")}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o
json.dump(strip(d), sys.stdout, indent=1, sort_keys=True)'; }
l2_as() { l2_view > "$tmp/kube.l2" && cmp -s "$1" "$tmp/kube.l2"; }
create_back() { kctl create service loadbalancer back --tcp=80:80 >/dev/null && wait_for 60 has_svc default/back; }

start_vipgated() { # config
	ip netns exec "$kns" env VIPGATE_TEST_WATCH_TIMEOUT=${watch_timeout:-300} \
	    "$vipgated" -f -c "$1" >>"$tmp/log" 2>&1 &
	pid=$!
	wait_for 10 json status
}

ip netns add "$kns"
ip -n "$kns" link set lo up

# --- the control plane, every CRD but one (installed later) ---------------
late_crd=requestauthentications.security.istio.io
check "etcd and kube-apiserver start (TLS, RBAC, service-account issuer)" kube_init "$late_crd"
[ $fails -eq 0 ] || exit 1
echo "kube: $("$kbin/kube-apiserver" --version), etcd $("$kbin/etcd" --version | head -1 | awk '{print $3}')"

# --- least privilege: the account of contrib/kubernetes/rbac.yaml ----------
check "rbac.yaml is accepted" kctl apply -f "$src/contrib/kubernetes/rbac.yaml"
kctl create token vipgated -n vipgate-system --duration 2h > "$tmp/token" 2>"$tmp/token.err"
check "a token for the vipgated account" test -s "$tmp/token"
kube_token_kubeconfig "$tmp/kubeconfig" "$tmp/token"
sa_user=system:serviceaccount:vipgate-system:vipgated
check "the account may not read ConfigMaps (least privilege)" test "$(sa_kubectl auth can-i list configmaps -A)" = no
check "nor update Services" test "$(sa_kubectl auth can-i update services -A)" = no
check "but may patch services/status" test "$(sa_kubectl auth can-i patch services --subresource=status -A)" = yes
check "create Events" test "$(sa_kubectl auth can-i create events -n default)" = yes
check "and update its Lease" test "$(sa_kubectl auth can-i update leases/vipgated -n vipgate-system)" = yes
check "not another" test "$(sa_kubectl auth can-i update leases/kube-scheduler -n vipgate-system)" = no

# --- the seed, from files and from the API --------------------------------
mkdir -p "$tmp/seed" "$tmp/state" "$tmp/empty"
cp "$src"/tests/data/seed/*.yaml "$tmp/seed/"
# what the seed's walk-through installs with istioctl and kubectl: the
# namespaces, the ingress gateway's Service (LoadBalancer), one more
cat > "$tmp/seed/zz-services.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata: {name: metallb-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
  labels: {istio: ingressgateway}
spec:
  type: LoadBalancer
  selector: {istio: ingressgateway}
  ports:
  - {name: status-port, port: 15021, targetPort: 15021}
  - {name: http2, port: 80, targetPort: 8080}
  - {name: https, port: 443, targetPort: 8443}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  type: LoadBalancer
  selector: {app: web}
  ports:
  - {port: 80}
---
# endpoints on this node: the VIPs become local addresses here
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: istio-ingressgateway-x
  namespace: istio-system
  labels: {kubernetes.io/service-name: istio-ingressgateway}
addressType: IPv4
endpoints: [{addresses: [10.9.0.1], nodeName: node-a}]
ports: [{name: http2, port: 8080, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-x
  namespace: default
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
endpoints: [{addresses: [10.9.0.2], nodeName: node-a}]
ports: [{port: 80, protocol: TCP}]
EOF
conf() { # FILE OBJECT-PATHS KUBE-LINE [GATEWAY]
	cat > "$1" <<EOF
node: {name: node-a}
objects: {paths: [$2]}
$3
control: {socket: $tmp/sock}
addresses: {interface: lo}
gateway: {enabled: ${4:-false}}
state_dir: $tmp/state
log: {level: debug}
EOF
}
# the seed's comparison with the gateway on (routes, listeners)
conf "$tmp/files.yaml" "$tmp/seed" "" true
conf "$tmp/kube-gw.yaml" "$tmp/empty" "kubernetes: {kubeconfig: $tmp/kubeconfig}" true
conf "$tmp/kube.yaml" "$tmp/empty" "kubernetes: {kubeconfig: $tmp/kubeconfig}"
start_vipgated "$tmp/files.yaml"
check "the seed from files: the ingress gateway gets a VIP" wait_for 10 gw_has_vip
all_vips > "$tmp/vips.files"
gw_views "$tmp/files"
wait_for 5 has_addr 192.168.1.201
l2_view > "$tmp/files.l2"
check "the seed from files: this node owns the gateway's VIP" grep -q 192.168.1.201 "$tmp/files.l2"
check "the seed from files: the gateway has routes" grep -q bookinfo.example.com "$tmp/files.routes"
stop $pid; pid=
rm -rf "$tmp/state"/*
echo "from files:"; sed 's/^/  /' "$tmp/vips.files"

# namespaces first, as kubectl apply -f DIR applies files in name order
check "kubectl applies the seed's manifests" seed_apply
: > "$tmp/log"
start_vipgated "$tmp/kube-gw.yaml"
check "every kind is listed (one CRD absent counts as empty)" wait_for 30 synced
check "vipgatectl status counts them" test "$(kstatus kinds_synced)" = "$(kstatus kinds_total)"
check "the absent CRD's kind is warned about" log_has "RequestAuthentication is not served"
check "the same VIPs as from the files" wait_for 10 vips_as_in "$tmp/vips.files"
all_vips > "$tmp/vips.kube"
diff "$tmp/vips.files" "$tmp/vips.kube" | sed 's/^/  /'
check "the same gateway routes as from the files" wait_for 10 gw_views_as "$tmp/files"
check "the same gateway listeners" cmp -s "$tmp/files.listeners" "$tmp/kube.listeners"
check "the same L2 ownership (ARP answers)" wait_for 5 l2_as "$tmp/files.l2"
diff "$tmp/files.l2" "$tmp/kube.l2" | head -20 | sed 's/^/  /'
diff "$tmp/files.routes" "$tmp/kube.routes" | head -20 | sed 's/^/  /'
gw_vip=$(svc_vips istio-system/istio-ingressgateway)
web_vip=$(svc_vips default/web)
check "the gateway's VIP is a local address" wait_for 5 has_addr "$gw_vip"
check "the status subresource says the gateway's VIP ($gw_vip)" \
    wait_for 10 status_is istio-system istio-ingressgateway "$gw_vip"
check "and web's ($web_vip)" wait_for 10 status_is default web "$web_vip"
check "no Service but the two LoadBalancers got a status" test -z \
    "$(kctl get svc -A -o jsonpath='{range .items[*]}{.status.loadBalancer.ingress[0].ip}{" "}{.metadata.name}{"\n"}{end}' |
    awk 'NF == 2 && $2 != "istio-ingressgateway" && $2 != "web"')"

# --- LIST then WATCH: an object created after the start, one deleted ------
kctl create service loadbalancer later --tcp=80:80 >/dev/null
check "a Service created after the start gets a VIP (watch ADDED)" wait_for 10 has_svc default/later
later_vip=$(svc_vips default/later)
check "its status is written ($later_vip)" wait_for 10 status_is default later "$later_vip"
kctl delete service later --wait=false >/dev/null
check "a deleted Service is released (watch DELETED)" wait_for 10 no_svc default/later
check "the watches asked for bookmarks from the listed resourceVersion" \
    grep -q 'watch=1&resourceVersion=[0-9][0-9]*&allowWatchBookmarks=true' "$tmp/log"

# --- a CRD installed after vipgated started -------------------------------
check "the late CRD is installed" kube_crd_install "$late_crd"
cat > "$tmp/ra.yaml" <<'EOF'
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules:
  - {issuer: "https://issuer.example.com", jwksUri: "https://issuer.example.com/jwks"}
EOF
kctl apply -f "$tmp/ra.yaml" >/dev/null
# vipgated asks again for an absent kind every 60 s (+ up to 5 s)
check "the late CRD's kind is served, within 70 s" wait_for 70 log_has "RequestAuthentication is served now"
check "its kind is watched" wait_for 5 ra_watched

# --- status read back after a restart with no state ------------------------
stop $pid; rc=$?; pid=
check "SIGTERM exits 0" test $rc = 0
check "draining leaves the status alone" status_is default web "$web_vip"
# web's address (the first) goes; without the state file only the status
# says the gateway had the second, and a first-free allocation would hand
# it the first
kctl delete service web >/dev/null
rm -rf "$tmp/state"/*
watch_timeout=10
start_vipgated "$tmp/kube.yaml"
check "after the restart every kind is listed" wait_for 30 synced
check "the gateway keeps $gw_vip, read back from its status (not $web_vip, the first free)" \
    wait_for 10 vips_are istio-system/istio-ingressgateway "$gw_vip"

# --- the API server restarted, down longer than a watch timeout ------------
nrel=$(count_lines ": released")
kctl create configmap churn --from-literal=a=1 >/dev/null
kube_apiserver_stop
t0=$(date +%s)
check "a dropped watch is noticed" wait_for 30 log_has "watching again"
check "the gateway's VIP stays while the API server is away" vips_are istio-system/istio-ingressgateway "$gw_vip"
left=$(( 25 - ($(date +%s) - t0) ))
[ $left -gt 0 ] && sleep $left
check "the API server comes back after $(( $(date +%s) - t0 )) s (watch timeout ${watch_timeout}-$((2 * watch_timeout)) s)" \
    kube_apiserver_start
check "watches resume (a new Service is allocated)" create_back
echo "after the restart: $(grep -c 'watch error 410' "$tmp/log") watches got 410 and listed again, the others went on from their resourceVersion"
check "the gateway kept its VIP throughout" vips_are istio-system/istio-ingressgateway "$gw_vip"
check "and its local address" has_addr "$gw_vip"
check "no VIP was released" test "$(count_lines ": released")" = "$nrel"
check "the gateway's status is unchanged" status_is istio-system istio-ingressgateway "$gw_vip"

# --- a watch from a resourceVersion etcd compacted away ---------------------
# vipgated watches the API server, which is stopped; meanwhile (through a
# second API server on the same etcd) a Service goes and one comes, and
# etcd compacts. The first API server, back without its watch cache, sends
# vipgated's watches to etcd, which has compacted their resourceVersion.
kube_apiserver_stop
kport2=$(kube_free_port)
check "a second API server on the same etcd" kube_apiserver_start "$kport2" kapi2_pid
kctl --server "https://127.0.0.1:$kport2" delete service back >/dev/null
kctl --server "https://127.0.0.1:$kport2" create service loadbalancer gone-by --tcp=80:80 >/dev/null
kube_apiserver_stop kapi2_pid
crev=$(kube_etcd_compact)
check "etcd compacted (revision $crev)" test -n "$crev"
n410=$(count_lines "watch error 410")
check "the API server is back, without its watch cache" kube_apiserver_start "$kport" kapi_pid --watch-cache=false
check "a watch gets 410 Gone (compacted) and lists again" wait_for 60 more_than "watch error 410" "$n410"
check "after the re-list: the Service created meanwhile has a VIP" wait_for 30 has_svc default/gone-by
check "the Service deleted meanwhile is released" wait_for 10 no_svc default/back
check "the gateway kept its VIP" vips_are istio-system/istio-ingressgateway "$gw_vip"
check "and its local address" has_addr "$gw_vip"

# --- many Services: a paged LIST ------------------------------------------
stop $pid; pid=
cat > "$tmp/bulk-pool.yaml" <<'EOF'
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bulk, namespace: metallb-system}
spec:
  addresses: [10.128.0.0/17]
  autoAssign: false
EOF
kctl apply -f "$tmp/bulk-pool.yaml" >/dev/null
kctl create namespace bulk >/dev/null
/usr/bin/python3 - "$tmp" "$bulk" <<'EOF'
import json, sys
tmp, n = sys.argv[1], int(sys.argv[2])
# four files, created in parallel; no node ports (30000-32767 is too few)
for f in range(4):
    items = [{"apiVersion": "v1", "kind": "Service",
              "metadata": {"name": "s%05d" % i, "namespace": "bulk",
                           "annotations": {"metallb.io/address-pool": "bulk"}},
              "spec": {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": False,
                       "ports": [{"port": 80}]}} for i in range(f, n, 4)]
    json.dump({"apiVersion": "v1", "kind": "List", "items": items},
              open("%s/bulk%d.json" % (tmp, f), "w"))
EOF
t0=$EPOCHREALTIME
cpids=
for f in 0 1 2 3; do
	kctl create -f "$tmp/bulk$f.json" >/dev/null 2>"$tmp/bulk$f.err" &
	cpids="$cpids $!"
done
wait $cpids
t1=$EPOCHREALTIME
nb=$(kctl get svc -n bulk --no-headers 2>/dev/null | wc -l)
check "$bulk Services created through the API ($nb in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", b - a}') s)" \
    test "$nb" = "$bulk"
: > "$tmp/log"
t0=$EPOCHREALTIME
start_vipgated "$tmp/kube.yaml"
check "vipgated lists them all" wait_for 120 synced
t1=$EPOCHREALTIME
npages=$(grep -c 'GET https://127.0.0.1:[0-9]*/api/v1/services?limit=500&continue=' "$tmp/log")
check "in pages of 500 ($npages more after the first)" test "$npages" -ge $(( bulk / 500 ))
check "every one of them gets a VIP" wait_for 120 n_bulk_vips "$bulk"
t2=$EPOCHREALTIME
echo "bulk: $bulk Services listed in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s," \
    "all allocated after $(awk -v a="$t0" -v b="$t2" 'BEGIN {printf "%.1f", b - a}') s," \
    "peak RSS $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
check "their statuses are written" wait_for 600 n_bulk_status "$bulk"
echo "bulk: statuses written after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}') s"
stop $pid; rc=$?; pid=
check "SIGTERM exits 0 with $bulk Services" test $rc = 0

# --- the API server denied vipgated's account nothing -----------------------
/usr/bin/python3 - "$kdir/audit.log" "$sa_user" "$kdir/apiserver-events" > "$tmp/audit.txt" <<'EOF'
import collections, datetime, json, sys
# the windows in which an API server's authorizer is not all there:
# from its start to 5 s after it was ready, from its stop to its end
win, t0 = [], None
for l in open(sys.argv[3]):
    what, t = l.split()
    t = float(t)
    if what in ("start", "stop"):
        t0 = t
    elif t0 is not None:
        win.append((t0, t + 5 if what == "ready" else t))
        t0 = None
n, bad, early, verbs = 0, [], [], collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("user", {}).get("username") != sys.argv[2] or \
            not e.get("userAgent", "").startswith("vipgated/"):
        continue
    n += 1
    code = e.get("responseStatus", {}).get("code", 0)
    r = e.get("objectRef", {})
    verbs["%s %s%s" % (e["verb"], r.get("resource", ""), "/" + r["subresource"] if r.get("subresource") else "")] += 1
    if code in (401, 403):
        t = datetime.datetime.strptime(e["requestReceivedTimestamp"][:26].rstrip("Z"),
            "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc).timestamp()
        # the RBAC authorizer's informers fill for a moment after a start
        s = "%d %s %s" % (code, e["verb"], e["requestURI"])
        (early if any(a <= t <= b for a, b in win) else bad).append(s)
print("requests", n)
print("denied", len(bad))
for b in bad[:10]:
    print("  " + b)
print("denied while an API server started or stopped", len(early))
for b in early[:5]:
    print("  " + b)
for v, c in sorted(verbs.items()):
    print("verb %s %d" % (v, c))
EOF
sed 's/^/  audit: /' "$tmp/audit.txt" | head -30
check "the audit log has vipgated's requests" sh -c "[ \$(awk '/^requests/ {print \$2}' '$tmp/audit.txt') -gt 100 ]"
check "the API server denied vipgated's account nothing (no 401/403 but while an API server started or stopped)" grep -q '^denied 0$' "$tmp/audit.txt"
check "it listed, watched and patched services/status" sh -c \
    "grep -q '^verb list services ' '$tmp/audit.txt' && grep -q '^verb watch services ' '$tmp/audit.txt' &&
    grep -q '^verb patch services/status ' '$tmp/audit.txt'"
check "its Lease: get, create or update; Events: create" sh -c \
    "grep -q '^verb update leases ' '$tmp/audit.txt' && grep -q '^verb create events ' '$tmp/audit.txt'"
check "and no other verb than list, watch, patch (Services), get/create/update (Leases), create/patch (Events)" sh -c \
    "! grep '^verb ' '$tmp/audit.txt' | grep -v '^verb \\(list\\|watch\\) ' |
    grep -v '^verb patch services/status ' | grep -v '^verb \\(get\\|create\\|update\\) leases ' |
    grep -qv '^verb \\(create\\|patch\\) events '"
check "vipgated logged no 403 during the bulk run" sh -c "! grep -q 'HTTP 403' '$tmp/log'"

echo "kube-real: $passes passed, $fails failed"
[ $fails -eq 0 ]
