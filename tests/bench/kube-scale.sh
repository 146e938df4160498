#!/usr/bin/env bash
# Benchmark (not a timed test): the Kubernetes API source at scale, against
# a real API server (etcd and kube-apiserver of tests/kube, as the account
# of contrib/kubernetes/rbac.yaml) and against the mock
# (tests/daemon/kube-mock.py), side by side:
#   - NSVC (10,000) LoadBalancer Services and as many EndpointSlices (an
#     endpoint on this node: every VIP is served here, a local address),
#     created through the API before vipgated starts; the time from its
#     start to every kind listed, every VIP allocated, every VIP a local
#     address (served), every status written; its peak RSS;
#   - NLAT (1,000) more created one at a time, every LAT_GAP_MS (50) ms
#     (the EndpointSlice first, then the Service): the latency from the
#     Service's creation (its POST sent) to its VIP served (the address
#     seen by `ip monitor`), p50, p99, max.
# KUBE_SCALE_SERVERS picks ("real mock" by default). Run from the build
# directory, as root: make bench-kube.
set -u
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 77; }
N=${NSVC:-10000}
NLAT=${NLAT:-1000}
GAP=${LAT_GAP_MS:-50}
servers=${KUBE_SCALE_SERVERS:-real mock}
bld=$(pwd)
src=$(cd "${srcdir:-$(dirname "$0")/../..}" && pwd)
. "$src/tests/lib.sh"
export WAIT_POLL=0.2
ctl=$bld/vipgatectl
tmp=$(mktemp -d /tmp/vg-kscale.XXXXXX)
kdir=$tmp/kube
mkdir -p "$kdir"
kns=vg-kscale-$$
kbin=${VIPGATE_KUBE_BIN:-$bld/tests/kube/bin}
. "$src/tests/kube/lib.sh"
pid= mpid= monpid=
cleanup() {
	[ -n "$pid" ] && kill -9 $pid 2>/dev/null
	[ -n "$mpid" ] && kill -9 $mpid 2>/dev/null
	[ -n "$monpid" ] && kill $monpid 2>/dev/null
	kube_cleanup
	ip netns del $kns 2>/dev/null
	rm -rf $tmp
}
trap cleanup EXIT
ip netns add $kns
ip -n $kns link set lo up

# objects and the client that creates them (one connection per thread)
cat > $tmp/load.py <<'EOF'
import http.client, json, ssl, sys, threading, time

def obj_svc(i, prefix, ns):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "%s%05d" % (prefix, i), "namespace": ns,
                         "annotations": {"metallb.io/address-pool": "bulk"}},
            "spec": {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": False,
                     "selector": {"app": "%s%05d" % (prefix, i)},
                     "ports": [{"port": 80, "protocol": "TCP"}]}}

def obj_slice(i, prefix, ns):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "%s%05d-x" % (prefix, i), "namespace": ns,
                         "labels": {"kubernetes.io/service-name": "%s%05d" % (prefix, i)}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.9.%d.%d" % (i // 250, i % 250 + 1)],
                           "nodeName": "node-a", "conditions": {"ready": True}}],
            "ports": [{"port": 80, "protocol": "TCP"}]}

class Api:
    def __init__(self, a):
        self.mode, self.port = a["mode"], a["port"]
        self.ctx = ssl.create_default_context(cafile=a["ca"])
        if a.get("cert"):
            self.ctx.load_cert_chain(a["cert"], a["key"])
        self.hdr = {"Content-Type": "application/json"}
        if a.get("token"):
            self.hdr["Authorization"] = "Bearer " + a["token"]
        self.local = threading.local()

    def conn(self):
        if not hasattr(self.local, "c"):
            self.local.c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx)
        return self.local.c

    def create(self, o):
        if self.mode == "mock":
            path = "/_mock/apply"
        elif o["kind"] == "Service":
            path = "/api/v1/namespaces/%s/services" % o["metadata"]["namespace"]
        else:
            path = "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices" % o["metadata"]["namespace"]
        for attempt in range(5):
            try:
                c = self.conn()
                c.request("POST", path, json.dumps(o), self.hdr)
                r = c.getresponse()
                r.read()
                if r.status in (200, 201):
                    return
                raise RuntimeError("%s %s: HTTP %d" % (o["kind"], o["metadata"]["name"], r.status))
            except (OSError, http.client.HTTPException):
                del self.local.c
                time.sleep(0.2)
        raise RuntimeError("cannot create " + o["metadata"]["name"])

a = json.loads(sys.argv[2])
api = Api(a)
if sys.argv[1] == "bulk":
    n, threads = a["n"], 4
    def work(k):
        for i in range(k, n, threads):
            api.create(obj_slice(i, "s", "bulk"))
            api.create(obj_svc(i, "s", "bulk"))
    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    [t.start() for t in ts]
    [t.join() for t in ts]
elif sys.argv[1] == "latency":
    # one at a time, at a pace; the time each Service's POST is sent
    out = open(a["out"], "w")
    for i in range(a["n"]):
        api.create(obj_slice(i, "l", "bulk"))
        t = time.time()
        api.create(obj_svc(i, "l", "bulk"))
        out.write("bulk/l%05d %.6f\n" % (i, t))
        time.sleep(a["gap"] / 1000.0)
EOF

# the VIPs each Service got (from vipgatectl), the time each was seen added
# (ip -ts monitor) and the POST times: the latencies
cat > $tmp/lat.py <<'EOF'
import datetime, json, sys
posts = dict(l.split() for l in open(sys.argv[1]))
vips = {}
for s in json.load(open(sys.argv[2]))["services"]:
    if s["vips"]:
        vips[s["vips"][0]] = s["namespace"] + "/" + s["name"]
seen = {}
for l in open(sys.argv[3]):
    if not l.startswith("[") or " inet " not in l:
        continue
    t = datetime.datetime.strptime(l[1:27], "%Y-%m-%dT%H:%M:%S.%f").timestamp()
    ip = l.split(" inet ")[1].split("/")[0]
    if ip in vips and vips[ip] not in seen:
        seen[vips[ip]] = t
lat = sorted((seen[k] - float(t)) * 1000 for k, t in posts.items() if k in seen)
if not lat:
    print("no latency measured"); sys.exit(0)
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print("%d/%d served: p50 %.0f ms, p99 %.0f ms, max %.0f ms" % (len(lat), len(posts), p(0.5), p(0.99), lat[-1]))
EOF

cat > $tmp/pool.yaml <<'EOF'
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bulk, namespace: metallb-system}
spec:
  addresses: [10.128.0.0/16]
  autoAssign: false
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: bulk, namespace: metallb-system}
spec: {ipAddressPools: [bulk]}
EOF

el() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }
kstat() { "$ctl" -s $tmp/sock --json status | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)["kubernetes"]
for k in sys.argv[1].split("."):
    d = d[k]
print(d)' "$1"; }
n_alloc() { "$ctl" -s $tmp/sock --json services | /usr/bin/python3 -c '
import json, sys; print(sum(1 for s in json.load(sys.stdin)["services"] if s["vips"]))'; }
n_addr() { ip -n $kns -o addr show dev lo | grep -c 'inet 10\.128\.'; }
ge() { [ "$("$1")" -ge "$2" ] 2>/dev/null; }
synced() { [ "$(kstat synced)" = True ]; }

run() { # real|mock
	local s=$1 t0 t1 t2 t3 t4 args
	mkdir -p $tmp/$s/state $tmp/$s/empty
	if [ $s = real ]; then
		kube_init || exit 1
		kctl apply -f "$src/contrib/kubernetes/rbac.yaml" >/dev/null
		kctl create token vipgated -n vipgate-system --duration 2h > $tmp/token
		kube_token_kubeconfig $tmp/$s/kubeconfig $tmp/token
		kctl create namespace metallb-system >/dev/null
		kctl create namespace bulk >/dev/null
		kctl apply -f $tmp/pool.yaml >/dev/null
		args="{\"mode\":\"real\",\"port\":$kport,\"ca\":\"$kdir/ca.crt\",\"cert\":\"$kdir/admin.crt\",\"key\":\"$kdir/admin.key\""
	else
		local d=$tmp/mock
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $d/ca.key -out $d/ca.crt -subj /CN=ca -days 1 2>/dev/null
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $d/srv.key -out $d/srv.csr -subj /CN=api 2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1\n' > $d/ext
		openssl x509 -req -in $d/srv.csr -CA $d/ca.crt -CAkey $d/ca.key -CAcreateserial -out $d/srv.crt -days 1 -extfile $d/ext 2>/dev/null
		echo tok$$ > $d/token
		local port; port=$(kube_free_port)
		ip netns exec $kns /usr/bin/python3 "$src/tests/daemon/kube-mock.py" --port $port --cert $d/srv.crt \
		    --key $d/srv.key --token tok$$ --max-page 500 > $d/mock.log 2>&1 &
		mpid=$!
		cat > $d/kubeconfig <<EOC
current-context: t
contexts: [{name: t, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://127.0.0.1:$port", certificate-authority: ca.crt}}]
users: [{name: u, user: {tokenFile: token}}]
EOC
		args="{\"mode\":\"mock\",\"port\":$port,\"ca\":\"$d/ca.crt\",\"token\":\"tok$$\""
		wait_for 10 ip netns exec $kns curl -sf --cacert $d/ca.crt -H "Authorization: Bearer tok$$" \
		    https://127.0.0.1:$port/_mock/patches
		ip netns exec $kns curl -sf --cacert $d/ca.crt -H "Authorization: Bearer tok$$" \
		    -X POST -d '{"apiVersion":"metallb.io/v1beta1","kind":"IPAddressPool","metadata":{"name":"bulk","namespace":"metallb-system"},"spec":{"addresses":["10.128.0.0/16"],"autoAssign":false}}' \
		    https://127.0.0.1:$port/_mock/apply >/dev/null
		ip netns exec $kns curl -sf --cacert $d/ca.crt -H "Authorization: Bearer tok$$" \
		    -X POST -d '{"apiVersion":"metallb.io/v1beta1","kind":"L2Advertisement","metadata":{"name":"bulk","namespace":"metallb-system"},"spec":{"ipAddressPools":["bulk"]}}' \
		    https://127.0.0.1:$port/_mock/apply >/dev/null
	fi
	t0=$EPOCHREALTIME
	ip netns exec $kns /usr/bin/python3 $tmp/load.py bulk "$args,\"n\":$N}" || { echo "$s: creating failed"; exit 1; }
	echo "$s: $N Services and $N EndpointSlices created through the API in $(el $t0 $EPOCHREALTIME) s"
	cat > $tmp/$s/vipgate.yaml <<EOC
node: {name: node-a}
objects: {paths: [$tmp/$s/empty]}
kubernetes: {kubeconfig: $tmp/$s/kubeconfig}
control: {socket: $tmp/sock}
addresses: {interface: lo}
gateway: {enabled: false}
state_dir: $tmp/$s/state
log: {level: info}
EOC
	t0=$EPOCHREALTIME
	ip netns exec $kns "$bld/vipgated" -f -c $tmp/$s/vipgate.yaml > $tmp/$s/log 2>&1 &
	pid=$!
	wait_for 10 "$ctl" -s $tmp/sock status >/dev/null
	wait_for 300 synced || { echo "$s: not listed in 300 s"; tail $tmp/$s/log; exit 1; }
	t1=$EPOCHREALTIME
	wait_for 300 ge n_alloc $N || { echo "$s: not all allocated"; exit 1; }
	t2=$EPOCHREALTIME
	wait_for 300 ge n_addr $N || { echo "$s: not all served ($(n_addr))"; exit 1; }
	t3=$EPOCHREALTIME
	until [ "$(kstat status_patches_ok)" -ge $N ] 2>/dev/null; do
		[ "$(el $t0 $EPOCHREALTIME | cut -d. -f1)" -lt 900 ] || break; sleep 1; done
	t4=$EPOCHREALTIME
	local rss; rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' /proc/$pid/status)
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' $s "$(el $t0 $t1)" "$(el $t0 $t2)" "$(el $t0 $t3)" "$(el $t0 $t4)" "$rss" >> $tmp/bulk.tsv
	echo "$s: listed at $(el $t0 $t1) s, all allocated at $(el $t0 $t2) s, all served at $(el $t0 $t3) s, statuses written at $(el $t0 $t4) s; peak RSS $rss MB"
	# latency, one at a time
	ip netns exec $kns ip -ts monitor address > $tmp/$s/mon 2>&1 &
	monpid=$!
	sleep 0.5
	ip netns exec $kns /usr/bin/python3 $tmp/load.py latency "$args,\"n\":$NLAT,\"gap\":$GAP,\"out\":\"$tmp/$s/posts\"}" ||
		{ echo "$s: latency creations failed"; exit 1; }
	wait_for 60 ge n_addr $((N + NLAT))
	kill $monpid; monpid=
	"$ctl" -s $tmp/sock --json services > $tmp/$s/svcs.json
	local lat; lat=$(/usr/bin/python3 $tmp/lat.py $tmp/$s/posts $tmp/$s/svcs.json $tmp/$s/mon)
	echo "$s: creation -> served, $NLAT Services every $GAP ms: $lat"
	printf '%s\t%s\n' $s "$lat" >> $tmp/lat.tsv
	echo "$s: peak RSS at the end $(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' /proc/$pid/status) MB, CPU $(ps -o time= -p $pid)," \
	    "events written $(kstat events.written), watch events unchanged $(kstat watch_events_unchanged)" \
	    "(status echoes $(kstat status_echoes)), reconciles $("$ctl" -s $tmp/sock --json status | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["reconciles"])')"
	stop $pid; pid=
	if [ $s = real ]; then kube_cleanup; else kill -9 $mpid; wait $mpid 2>/dev/null; mpid=; fi
}

for s in $servers; do run $s; done
echo
echo "N=$N   listed   allocated   served   statuses   peak RSS (s from vipgated's start; MB)"
awk -F'\t' '{printf "%-6s %8s %11s %8s %10s %8s MB\n", $1, $2, $3, $4, $5, $6}' $tmp/bulk.tsv
echo "creation -> served, $NLAT Services one by one:"
sed 's/^/  /' $tmp/lat.tsv
