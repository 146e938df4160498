#!/usr/bin/env bash
# vipgated against a mock Kubernetes API server (tests/daemon/kube-mock.py),
# in a network namespace this test makes: LIST then WATCH, VIPs for
# Services from the API, Service status PATCHes, watch ADDED and DELETED,
# a 410 Gone making a re-list, the API server restarting, a malformed
# object rejected alone (a Secret whose key is not its certificate's too), objects from files beside the API's, and the
# in-cluster mode (VIPGATE_TEST_SA_DIR).
set -u
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
for t in python3 openssl curl; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
ip netns add vg-probe-$$ 2>/dev/null || { echo "SKIP: ip netns unavailable"; exit 77; }
ip netns del vg-probe-$$

bld=$(pwd)
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
vipgated=$bld/vipgated
ctl=$bld/vipgatectl
mock=$(cd "${srcdir:-.}" && pwd)/tests/daemon/kube-mock.py
ns=vg-kube-$$
tmp=$(mktemp -d /tmp/vg-kube.XXXXXX)
port=6443
token=test-token-$$
pid= mpid=
fails=0 passes=0

cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$mpid" ] && kill -9 "$mpid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	# the logs stay next to the test's when something failed
	[ "$fails" -gt 0 ] && cp "$tmp/log" "$bld/kube-source.daemon.log" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	fails=$((fails + 1)); echo "FAIL: $*"
	[ -f "$tmp/log" ] && tail -15 "$tmp/log"
	[ -f "$tmp/mock.log" ] && tail -5 "$tmp/mock.log"
}


json() { "$ctl" -s "$tmp/sock" --json "$@"; }
svc_vips() { json services | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in d["services"]:
    if s["namespace"] + "/" + s["name"] == sys.argv[1]:
        print(" ".join(s["vips"]))' "$1"; }
vips_are() { [ "$(svc_vips "$1")" = "$2" ]; }
kstatus() { json status | python3 -c '
import json, sys
d = json.load(sys.stdin)["kubernetes"]
for k in sys.argv[1].split("."):
    d = d[k]
print(d if isinstance(d, str) else json.dumps(d))' "$1"; }
api() { # METHOD PATH [JSON]
	ip netns exec "$ns" curl -sf --max-time 5 --cacert "$tmp/ca.crt" \
	    -H "Authorization: Bearer $token" -X "$1" ${3:+-d "$3"} \
	    "https://127.0.0.1:$port$2"; }
# patched NS/NAME IP: the last status PATCH for it says ingress [IP] ("" = cleared)
patched() { api GET /_mock/patches | python3 -c '
import json, sys
found, ips = False, ""
for p in json.load(sys.stdin):
    if p["namespace"] + "/" + p["name"] == sys.argv[1]:
        found = True
        ing = p["patch"]["status"]["loadBalancer"].get("ingress") or []
        ips = " ".join(i["ip"] for i in ing)
sys.exit(0 if found and ips == sys.argv[2] else 1)' "$1" "$2"; }
npatches() { api GET /_mock/patches | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
svc_json() { # name [spec as JSON]
	local spec=${2:-}
	[ -n "$spec" ] || spec='{"type":"LoadBalancer","selector":{"app":"'$1'"},"ports":[{"port":80,"protocol":"TCP"}]}'
	printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"%s","namespace":"default","uid":"u-%s"},"spec":%s}' \
	    "$1" "$1" "$spec"; }
synced() { [ "$(kstatus synced)" = true ]; }
log_has() { grep -q -- "$1" "$tmp/log"; }

start_mock() {
	ip netns exec "$ns" python3 "$mock" --port $port --cert "$tmp/srv.crt" \
	    --key "$tmp/srv.key" --token "$token" --state "$tmp/mock-state.json" \
	    --init "$tmp/init.json" --absent "$1" --max-page 2 >>"$tmp/mock.log" 2>&1 &
	mpid=$!
	wait_for 10 api GET /_mock/patches
}

ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$tmp/objs" "$tmp/state" "$tmp/sa"

# a CA and the API server's certificate (IP SAN 127.0.0.1)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$tmp/ca.key" -out "$tmp/ca.crt" -subj /CN=kube-ca -days 1 2>/dev/null &&
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$tmp/srv.key" -out "$tmp/srv.csr" -subj /CN=kube-apiserver 2>/dev/null &&
printf 'subjectAltName=IP:127.0.0.1\n' > "$tmp/ext" &&
openssl x509 -req -in "$tmp/srv.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" \
    -CAcreateserial -out "$tmp/srv.crt" -days 1 -extfile "$tmp/ext" 2>/dev/null ||
	{ echo "SKIP: openssl cannot make certificates"; exit 77; }

cat > "$tmp/init.json" <<EOC
[
 {"apiVersion":"metallb.io/v1beta1","kind":"IPAddressPool",
  "metadata":{"name":"pool","namespace":"metallb-system"},
  "spec":{"addresses":["192.0.2.10-192.0.2.20"]}},
 {"apiVersion":"metallb.io/v1beta1","kind":"L2Advertisement",
  "metadata":{"name":"l2","namespace":"metallb-system"}},
 {"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}},
 {"apiVersion":"v1","kind":"Namespace","metadata":{"name":"kube-system"}},
 {"apiVersion":"v1","kind":"Namespace","metadata":{"name":"metallb-system"}},
 $(svc_json web)
]
EOC
cat > "$tmp/kubeconfig" <<EOC
apiVersion: v1
kind: Config
current-context: test
contexts:
- name: test
  context: {cluster: mock, user: vipgated}
clusters:
- name: mock
  cluster:
    server: https://127.0.0.1:$port/
    certificate-authority: ca.crt
users:
- name: vipgated
  user: {tokenFile: token}
EOC
printf '%s\n' "$token" > "$tmp/token"
cat > "$tmp/vipgate.yaml" <<EOC
node: {name: node-a}
objects: {paths: [objs]}
kubernetes: {kubeconfig: kubeconfig}
control: {socket: $tmp/sock}
addresses: {interface: lo}
gateway: {enabled: false}
state_dir: state
log: {level: debug}
EOC
# a Service from a file beside the API's, and a file's copy of an API object
cat > "$tmp/objs/file.yaml" <<'EOC'
apiVersion: v1
kind: Service
metadata: {name: zfile, namespace: default}
spec: {type: LoadBalancer, selector: {app: f}, ports: [{port: 80}]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec: {addresses: [198.51.100.0/24]}
EOC

istio=Gateway,VirtualService,DestinationRule,ServiceEntry,WorkloadEntry,PeerAuthentication
check "the mock API server starts" start_mock $istio

ip netns exec "$ns" "$vipgated" -f -c "$tmp/vipgate.yaml" >"$tmp/log" 2>&1 &
pid=$!
check "vipgatectl status answers" wait_for 5 json status
check "every kind is listed (Istio CRDs absent count as empty)" wait_for 10 synced
check "status counts every kind" test "$(kstatus kinds_synced)" = "$(kstatus kinds_total)"
check "lists come in pages (limit, continue)" \
    grep -q 'GET /api/v1/namespaces?limit=500&continue=off-2 ' "$tmp/mock.log"
check "every page is kept: 7 objects (6 from the API, 1 from a file)" test "$(json status | python3 -c '
import json, sys; print(json.load(sys.stdin)["objects"])')" = 7
check "vipgatectl status shows the source" sh -c \
    "\"$ctl\" -s \"$tmp/sock\" status | grep -q '^kubernetes .* synced, 21/21 kinds listed'"
check "a kind without its CRD is warned about once" \
    test "$(grep -c 'VirtualService is not served' "$tmp/log")" = 1
check "web (from the API) gets the API pool's first VIP" wait_for 5 vips_are default/web 192.0.2.10
check "zfile (from a file) is allocated from the API's pool" \
    wait_for 2 sh -c "\"$ctl\" -s \"$tmp/sock\" --json services | grep -q '\"zfile\"'"
check "the file's copy of the API's pool is reported; the API's wins" \
    log_has "IPAddressPool metallb-system/pool: defined by the API and by .*file.yaml:[0-9]*; the API's version is used"
check "the status PATCH for web carries 192.0.2.10" wait_for 5 patched default/web 192.0.2.10
check "no status PATCH for a file's Service" sh -c "! api GET /_mock/patches | grep -q zfile"

# a Service added by a watch event
api POST /_mock/apply "$(svc_json api)" >/dev/null
check "a Service ADDED by the watch gets a VIP" wait_for 5 sh -c \
    "\"$ctl\" -s \"$tmp/sock\" --json services | grep -q '\"api\"'"
a_vip=$(svc_vips default/api)
check "its VIP is from the pool ($a_vip)" test -n "$a_vip"
check "its status PATCH arrives" wait_for 5 patched default/api "$a_vip"

# DELETED releases it
api POST /_mock/delete '{"apiVersion":"v1","kind":"Service","namespace":"default","name":"api"}' >/dev/null
check "a DELETED Service is released" wait_for 5 sh -c \
    "! \"$ctl\" -s \"$tmp/sock\" --json services | grep -q '\"api\"'"
check "the daemon logs the release" wait_for 2 log_has "service default/api: released"

# a malformed object from the API: reported, rejected alone
api POST /_mock/apply "$(svc_json bad '{"type":"LoadBalancer","ports":"eighty"}')" >/dev/null
check "a malformed Service is reported with kind ns/name" \
    wait_for 5 log_has "Service default/bad: spec.ports"
check "status shows it as the last error" wait_for 2 sh -c \
    "\"$ctl\" -s \"$tmp/sock\" --json status | grep -q 'default/bad'"
api POST /_mock/apply "$(svc_json web '{"type":"LoadBalancer","ports":[{"port":"x"}]}')" >/dev/null
sleep 0.5
check "a malformed update keeps web's last good version" vips_are default/web 192.0.2.10
api POST /_mock/apply "$(svc_json after)" >/dev/null
check "the rest keeps working: a later Service is allocated" wait_for 5 sh -c \
    "\"$ctl\" -s \"$tmp/sock\" --json services | grep -q '\"after\"'"

# a Secret from the API rewritten with a key not its certificate's: rejected
# as a file's would be, with OpenSSL's reason (src/objects/secret_tls.c)
for k in a b; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj "/CN=$k.test" -keyout "$tmp/$k.key" -out "$tmp/$k.crt" >/dev/null 2>&1
done
secret_json() { # crt key
	printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"tls","namespace":"istio-system"},"type":"kubernetes.io/tls","data":{"tls.crt":"%s","tls.key":"%s"}}' \
	    "$(base64 -w0 < "$1")" "$(base64 -w0 < "$2")"; }
api POST /_mock/apply "$(secret_json "$tmp/a.crt" "$tmp/a.key")" >/dev/null
api POST /_mock/apply "$(secret_json "$tmp/a.crt" "$tmp/b.key")" >/dev/null
check "a Secret with a mismatched key is rejected with OpenSSL's reason" wait_for 5 \
    log_has "Secret istio-system/tls: data.tls.key: the private key is not the certificate's (error:05800074"
check "status shows the Secret as the last error" wait_for 2 sh -c \
    "\"$ctl\" -s \"$tmp/sock\" --json status | grep -q 'istio-system/tls: data.tls.key'"

# 410 Gone: every watch ends with an ERROR event; the source lists again
api POST /_mock/compact >/dev/null
check "a 410 makes a re-list" wait_for 5 log_has "watch error 410"
api POST /_mock/apply "$(svc_json late)" >/dev/null
check "after the re-list a new Service converges" wait_for 5 sh -c \
    "\"$ctl\" -s \"$tmp/sock\" --json services | grep -q '\"late\"'"

# a release clears the status: late asks for a pool that does not exist
check "late's status carries its VIP" wait_for 5 patched default/late "$(svc_vips default/late)"
api POST /_mock/apply '{"apiVersion":"v1","kind":"Service","metadata":{"name":"late","namespace":"default","annotations":{"metallb.io/address-pool":"nope"}},"spec":{"type":"LoadBalancer","ports":[{"port":80}]}}' >/dev/null
check "a released Service's status is cleared (ingress: null)" wait_for 5 patched default/late ""

# the API server restarts: watches drop, come back with backoff
kill -9 $mpid; wait $mpid 2>/dev/null; mpid=
check "a dropped watch is noticed" wait_for 5 log_has "watching again"
check "the last error says so" wait_for 2 sh -c "[ \"\$(\"$ctl\" -s \"$tmp/sock\" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"kubernetes\"][\"last_error\"] is not None)')\" = True ]"
check "VIPs stay while the API server is away" vips_are default/web 192.0.2.10
sleep 1
check "the mock API server comes back" start_mock $istio
api POST /_mock/apply "$(svc_json back)" >/dev/null
check "after the restart the watch resumes: a new Service is allocated" wait_for 40 sh -c \
    "\"$ctl\" -s \"$tmp/sock\" --json services | grep -q '\"back\"'"
check "web kept its VIP throughout" vips_are default/web 192.0.2.10

# SIGTERM: exits 0 and leaves the status alone (other nodes still serve)
n0=$(npatches)
stop $pid; rc=$?; pid=
check "SIGTERM exits 0" test $rc = 0
check "draining does not clear Service status" test "$(npatches)" = "$n0"

# in-cluster: the service account directory, overridden for the test
cp "$tmp/ca.crt" "$tmp/sa/ca.crt"
printf '%s' "$token" > "$tmp/sa/token"
sed -i 's|^kubernetes:.*|kubernetes: {in_cluster: true}|' "$tmp/vipgate.yaml"
rm -f "$tmp/objs/file.yaml"
ip netns exec "$ns" env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$port \
    VIPGATE_TEST_SA_DIR="$tmp/sa" "$vipgated" -f -c "$tmp/vipgate.yaml" >"$tmp/log" 2>&1 &
pid=$!
check "in-cluster: the source syncs" wait_for 10 synced
check "in-cluster: after keeps 192.0.2.12 (from the state file)" \
    wait_for 5 vips_are default/after 192.0.2.12
check "in-cluster: web, malformed in the API, is reported and not loaded" \
    sh -c "grep -q 'Service default/web: spec.ports' '$tmp/log' &&
    ! \"$ctl\" -s \"$tmp/sock\" --json services | grep -q '\"web\"'"
check "in-cluster: the file's Service is gone with its file" \
    sh -c "! \"$ctl\" -s \"$tmp/sock\" --json services | grep -q zfile"
api POST /_mock/delete '{"apiVersion":"v1","kind":"Service","namespace":"default","name":"after"}' >/dev/null
check "in-cluster: a deleted Service is released" wait_for 5 sh -c \
    "! \"$ctl\" -s \"$tmp/sock\" --json services | grep -q '\"after\"'"
stop $pid; rc=$?; pid=
check "in-cluster: SIGTERM exits 0" test $rc = 0

# a wrong token: refused, reported, the daemon stays up
printf 'wrong' > "$tmp/sa/token"
ip netns exec "$ns" env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$port \
    VIPGATE_TEST_SA_DIR="$tmp/sa" "$vipgated" -f -c "$tmp/vipgate.yaml" >"$tmp/log" 2>&1 &
pid=$!
check "a wrong token is reported (401)" wait_for 5 log_has "HTTP 401"
check "the daemon stays up and answers" json status
stop $pid; pid=

# a kubeconfig that says nothing usable: vipgated refuses to start, saying why
printf 'apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n' > "$tmp/kubeconfig"
sed -i 's|^kubernetes:.*|kubernetes: {kubeconfig: kubeconfig}|' "$tmp/vipgate.yaml"
"$vipgated" -t -c "$tmp/vipgate.yaml" >"$tmp/log" 2>&1
rc=$?
check "vipgated -t finds the bad kubeconfig (exit 1)" test $rc = 1
check "-t names the problem" log_has "kubeconfig:1:1: current-context nowhere is not among contexts"
ip netns exec "$ns" timeout 10 "$vipgated" -f -c "$tmp/vipgate.yaml" >"$tmp/log" 2>&1
rc=$?
check "a bad kubeconfig stops the start (exit 2)" test $rc = 2
check "and names the problem" log_has "kubeconfig:1:1: current-context nowhere is not among contexts"

echo "kube-source: $passes passed, $fails failed"
[ $fails -eq 0 ]
