#!/usr/bin/env bash
# Benchmark (not a timed test): NSVC (10,000) LoadBalancer Services from the
# mock API server (tests/daemon/kube-mock.py). Prints the time to list every
# kind, to allocate every Service, to write every Service's status, the
# latency from a watch event to its allocation (from the daemon's log), the
# reconciles it took, CPU and RSS. Run from the build directory, as root.
set -u
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespace)"; exit 77; }
N=${NSVC:-10000}
bld=$(pwd)
mock=$(cd "${srcdir:-$(dirname "$0")/../..}" && pwd)/tests/daemon/kube-mock.py
ns=vg-kscale-$$
tmp=$(mktemp -d /tmp/vg-kscale.XXXXXX)
token=t$$
pid= mpid=
cleanup() { [ -n "$pid" ] && kill -9 $pid 2>/dev/null; [ -n "$mpid" ] && kill -9 $mpid 2>/dev/null; ip netns del $ns; rm -rf $tmp; }
trap cleanup EXIT
ip netns add $ns; ip -n $ns link set lo up
cd $tmp
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -subj /CN=ca -days 1 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr -subj /CN=api 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > ext
openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 1 -extfile ext 2>/dev/null
python3 - $N > init.json <<'PY'
import json, sys
n = int(sys.argv[1])
objs = [{"apiVersion":"metallb.io/v1beta1","kind":"IPAddressPool","metadata":{"name":"pool","namespace":"metallb-system"},"spec":{"addresses":["10.0.0.0/16"]}}]
for i in range(n):
    objs.append({"apiVersion":"v1","kind":"Service","metadata":{"name":"s%05d"%i,"namespace":"default"},
                 "spec":{"type":"LoadBalancer","selector":{"app":"a%d"%i},"ports":[{"port":80,"protocol":"TCP"}]}})
print(json.dumps(objs))
PY
printf '%s\n' $token > token
cat > kubeconfig <<EOC
current-context: t
contexts: [{name: t, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", certificate-authority: ca.crt}}]
users: [{name: u, user: {tokenFile: token}}]
EOC
mkdir objs state
cat > vipgate.yaml <<EOC
node: {name: node-a}
objects: {paths: [objs]}
kubernetes: {kubeconfig: kubeconfig}
control: {socket: $tmp/sock}
addresses: {interface: lo}
gateway: {enabled: false}
state_dir: state
log: {level: info}
EOC
ip netns exec $ns python3 $mock --port 6443 --cert srv.crt --key srv.key --token $token --init init.json > mock.log 2>&1 &
mpid=$!
api() { ip netns exec $ns curl -sf --max-time 30 --cacert ca.crt -H "Authorization: Bearer $token" -X "$1" ${3:+-d "$3"} "https://127.0.0.1:6443$2"; }
for i in $(seq 100); do api GET /_mock/patches >/dev/null && break; sleep 0.2; done
t0=$(date +%s.%N)
ip netns exec $ns $bld/vipgated -f -c vipgate.yaml > log 2>&1 &
pid=$!
deadline=$(( $(date +%s) + 120 ))
bounded() { [ "$(date +%s)" -lt $deadline ] || { echo "timed out"; tail log; exit 1; }; }
until grep -q "every kind is listed" log; do bounded; sleep 0.05; done
t1=$(date +%s.%N)
until grep -q "reconcile #1\|allocated" log && [ "$($bld/vipgatectl -s sock --json services | python3 -c 'import json,sys; print(sum(1 for s in json.load(sys.stdin)["services"] if s["vips"]))')" -ge $N ]; do bounded; sleep 0.1; done
t2=$(date +%s.%N)
until [ "$(api GET /_mock/patches | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -ge $N ]; do bounded; sleep 0.5; done
t3=$(date +%s.%N)
echo "N=$N: listed in $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s; all allocated at $(awk "BEGIN{printf \"%.2f\", $t2 - $t0}") s; $N status PATCHes received at $(awk "BEGIN{printf \"%.2f\", $t3 - $t0}") s"
sleep 2
# watch event -> allocation latency, from the daemon's log timestamps
for k in 1 2 3 4 5; do
	ts=$(date +%H:%M:%S.%3N)
	api POST /_mock/apply '{"apiVersion":"v1","kind":"Service","metadata":{"name":"late'$k'","namespace":"default"},"spec":{"type":"LoadBalancer","ports":[{"port":80}]}}' >/dev/null
	until grep -q "service default/late$k: allocated" log; do bounded; sleep 0.02; done
	ta=$(grep "service default/late$k: allocated" log | head -1 | cut -c1-12)
	python3 -c "
import sys
def s(t): h,m,x=t.split(':'); return int(h)*3600+int(m)*60+float(x)
print('event -> allocated: %.0f ms (POST at $ts, allocated at $ta)' % ((s('$ta')-s('$ts'))*1000))"
	sleep 0.3
done
echo "status writes logged: $(grep -c "status written" log)"
$bld/vipgatectl -s sock --json status | python3 -c 'import json,sys; d=json.load(sys.stdin); print("reconciles", d["reconciles"])'
ps -o pid=,time=,comm= -p $pid,$mpid
ps -o rss=,vsz= -p $pid | awk '{print "vipgated RSS " $1/1024 " MB"}'
grep -i "warn\|error" log | head -5
