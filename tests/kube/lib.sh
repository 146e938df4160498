# tests/kube/lib.sh: a Kubernetes control plane for the tests, on loopback
# in a network namespace the test made: etcd, kube-apiserver with TLS (a CA
# and certificates made here with openssl), the RBAC authorizer, a
# service-account issuer and signing key, an audit log, and the
# CustomResourceDefinitions of tests/kube/crds.yaml. Sourced by the test,
# which sets before kube_init:
#
#   kns        the network namespace to run in (made and deleted by the test)
#   kbin       the directory with etcd, kube-apiserver, kubectl
#              (tests/kube/build.sh)
#   kdir       a temporary directory of the test's (removed by the test)
#
# and calls kube_cleanup from its EXIT trap. Every wait is bounded.
# After kube_init: $kport (the API server's port), $kurl, $kdir/ca.crt,
# $kdir/admin.kubeconfig (system:masters) and kctl (kubectl as admin).

khere=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ketcd_pid= kapi_pid= kapi2_pid=

# kube_need BUILDDIR: skip (exit 77) with VIPGATE_NO_KUBE=1; else $kbin:
# VIPGATE_KUBE_BIN, or the peers tests/kube/build.sh builds (and caches)
# in BUILDDIR; fails when one is missing
kube_need() {
	local rc b
	if [ "${VIPGATE_NO_KUBE:-0}" = 1 ]; then
		echo "SKIP: VIPGATE_NO_KUBE=1: no Kubernetes control plane on this machine"
		exit 77
	fi
	if [ -n "${VIPGATE_KUBE_BIN:-}" ]; then
		kbin=$VIPGATE_KUBE_BIN
	else
		"$khere/build.sh" "$1"
		rc=$?
		[ $rc -eq 0 ] || { echo "FAIL: tests/kube/build.sh: exit $rc (VIPGATE_NO_KUBE=1 skips this test)"; exit 1; }
		kbin=$1/tests/kube/bin
	fi
	for b in etcd kube-apiserver kubectl; do
		[ -x "$kbin/$b" ] || { echo "FAIL: $kbin/$b missing"; exit 1; }
	done
}

# kube_test BUILDDIR: what a test against the real API server needs first:
# root, network namespaces, openssl, curl, Debian's python3 (each a skip),
# $vipgated, $ctl, a slower wait poll, and the control plane (kube_need)
kube_test() {
	local t
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
	for t in openssl curl; do
		command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
	done
	[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }
	ip netns add vg-probe-$$ 2>/dev/null || { echo "SKIP: ip netns unavailable"; exit 77; }
	ip netns del vg-probe-$$
	vipgated=$1/vipgated
	ctl=$1/vipgatectl
	export WAIT_POLL=0.2
	kube_need "$1"
}

kx() { ip netns exec "$kns" "$@"; }
kctl() { kx "$kbin/kubectl" --kubeconfig "$kdir/admin.kubeconfig" --request-timeout=20s "$@"; }

# A free TCP port on the namespace's loopback.
kube_free_port() {
	kx /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The CA, the API server's certificate, the admin's client certificate and
# the service-account signing key, all made here.
kube_certs() {
	local d=$kdir
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$d/ca.key" -out "$d/ca.crt" -subj /CN=kube-test-ca -days 1 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$d/apiserver.key" -out "$d/apiserver.csr" -subj /CN=kube-apiserver 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' > "$d/apiserver.ext" &&
	openssl x509 -req -in "$d/apiserver.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
	    -CAcreateserial -out "$d/apiserver.crt" -days 1 -extfile "$d/apiserver.ext" 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$d/admin.key" -out "$d/admin.csr" -subj "/O=system:masters/CN=kube-test-admin" 2>/dev/null &&
	printf 'extendedKeyUsage=clientAuth\n' > "$d/client.ext" &&
	openssl x509 -req -in "$d/admin.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
	    -CAcreateserial -out "$d/admin.crt" -days 1 -extfile "$d/client.ext" 2>/dev/null &&
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/sa.key" 2>/dev/null &&
	openssl pkey -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
}

# (not through kx: $! must be the process itself, not a subshell)
kube_etcd_start() {
	ip netns exec "$kns" nice "$kbin/etcd" --name kube-test --data-dir "$kdir/etcd" \
	    --listen-client-urls "http://127.0.0.1:$ketcd_port" \
	    --advertise-client-urls "http://127.0.0.1:$ketcd_port" \
	    --listen-peer-urls "http://127.0.0.1:$ketcd_peer" \
	    --initial-advertise-peer-urls "http://127.0.0.1:$ketcd_peer" \
	    --initial-cluster "kube-test=http://127.0.0.1:$ketcd_peer" \
	    --unsafe-no-fsync --log-level warn >>"$kdir/etcd.log" 2>&1 &
	ketcd_pid=$!
	wait_for 30 kx curl -sf --max-time 2 "http://127.0.0.1:$ketcd_port/health"
}

# etcd's JSON gateway: the current revision, and a compaction up to it.
kube_etcd_rev() {
	kx curl -sf --max-time 5 -X POST -d '{"key":"AA==","limit":1}' \
	    "http://127.0.0.1:$ketcd_port/v3/kv/range" |
	    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["header"]["revision"])'
}
kube_etcd_compact() {
	local rev
	rev=$(kube_etcd_rev) || return 1
	kx curl -sf --max-time 30 -X POST -d "{\"revision\":\"$rev\",\"physical\":true}" \
	    "http://127.0.0.1:$ketcd_port/v3/kv/compaction" >/dev/null && echo "$rev"
}

kube_readyz() {
	kx curl -sf --max-time 3 --cacert "$kdir/ca.crt" --cert "$kdir/admin.crt" \
	    --key "$kdir/admin.key" "https://127.0.0.1:${1:-$kport}/readyz" >/dev/null
}

# kube_apiserver_start [PORT [PIDVAR [MORE FLAGS...]]]: start (or start
# again) an API server on the same etcd and wait for /readyz (bounded).
kube_apiserver_start() {
	local port=${1:-$kport} var=${2:-kapi_pid}
	shift 2 2>/dev/null || shift $#
	echo "start $EPOCHREALTIME" >> "$kdir/apiserver-events"
	ip netns exec "$kns" nice "$kbin/kube-apiserver" \
	    --etcd-servers "http://127.0.0.1:$ketcd_port" \
	    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$port" \
	    --tls-cert-file "$kdir/apiserver.crt" --tls-private-key-file "$kdir/apiserver.key" \
	    --client-ca-file "$kdir/ca.crt" \
	    --authorization-mode Node,RBAC \
	    --service-account-issuer https://kubernetes.default.svc \
	    --service-account-key-file "$kdir/sa.pub" \
	    --service-account-signing-key-file "$kdir/sa.key" \
	    --api-audiences https://kubernetes.default.svc \
	    --service-cluster-ip-range 10.96.0.0/16 \
	    --audit-policy-file "$khere/audit-policy.yaml" \
	    --audit-log-path "$kdir/audit.log" --audit-log-format json \
	    --cert-dir "$kdir/apiserver-certs" \
	    --enable-priority-and-fairness=false \
	    "$@" >>"$kdir/apiserver.log" 2>&1 &
	printf -v "$var" '%s' $!
	wait_for 90 kube_readyz "$port" || return 1
	# when it started, became ready, stopped: the RBAC authorizer answers
	# from informers, empty until they have synced and again while the
	# server shuts down (kube-real.sh's audit check)
	echo "ready $EPOCHREALTIME" >> "$kdir/apiserver-events"
}

kube_apiserver_stop() { # [PIDVAR]
	local var=${1:-kapi_pid} p
	p=${!var}
	[ -n "$p" ] || return 0
	echo "stop $EPOCHREALTIME" >> "$kdir/apiserver-events"
	kill -TERM "$p" 2>/dev/null
	wait_for 20 sh -c "! kill -0 $p 2>/dev/null" || kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	echo "stopped $EPOCHREALTIME" >> "$kdir/apiserver-events"
	printf -v "$var" '%s' ""
}

# kube_crds_install [PLURAL.GROUP...]: the CRDs of crds.yaml but the ones
# named (those come later, kube_crd_install), and wait until established.
kube_crds_install() {
	/usr/bin/python3 - "$khere/crds.yaml" "$kdir/crds-now.yaml" "$@" <<'EOF'
import sys
docs = open(sys.argv[1]).read().split("\n---\n")[1:]
skip = set(sys.argv[3:])
out = [d for d in docs if not any(("name: %s\n" % s) in d for s in skip)]
open(sys.argv[2], "w").write("---\n" + "\n---\n".join(out) + "\n")
EOF
	kctl apply -f "$kdir/crds-now.yaml" >/dev/null &&
	    kctl wait --for condition=established --timeout=60s -f "$kdir/crds-now.yaml" >/dev/null
}
kube_crd_install() { # PLURAL.GROUP
	/usr/bin/python3 - "$khere/crds.yaml" "$kdir/crd-$1.yaml" "$1" <<'EOF'
import sys
docs = open(sys.argv[1]).read().split("\n---\n")[1:]
out = [d for d in docs if ("name: %s\n" % sys.argv[3]) in d]
open(sys.argv[2], "w").write("---\n" + "\n---\n".join(out) + "\n")
EOF
	kctl apply -f "$kdir/crd-$1.yaml" >/dev/null &&
	    kctl wait --for condition=established --timeout=60s "crd/$1" >/dev/null
}

# A kubeconfig for a bearer token (kubectl create token).
kube_token_kubeconfig() { # FILE TOKENFILE
	cat > "$1" <<EOF
apiVersion: v1
kind: Config
current-context: test
contexts:
- name: test
  context: {cluster: test, user: sa}
clusters:
- name: test
  cluster:
    server: $kurl
    certificate-authority: $kdir/ca.crt
users:
- name: sa
  user: {tokenFile: $2}
EOF
}

# kube_init [CRD...]: certificates, etcd, the API server, the CRDs but those
# named. Returns non-zero, saying why, when a part does not come up.
kube_init() {
	mkdir -p "$kdir/etcd" "$kdir/apiserver-certs"
	kube_certs || { echo "kube: openssl cannot make the certificates"; return 1; }
	ketcd_port=$(kube_free_port) && ketcd_peer=$(kube_free_port) && kport=$(kube_free_port) ||
		return 1
	kurl=https://127.0.0.1:$kport
	cat > "$kdir/admin.kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: admin
contexts:
- name: admin
  context: {cluster: test, user: admin}
clusters:
- name: test
  cluster:
    server: $kurl
    certificate-authority: $kdir/ca.crt
users:
- name: admin
  user:
    client-certificate: $kdir/admin.crt
    client-key: $kdir/admin.key
EOF
	local t0=$EPOCHREALTIME
	kube_etcd_start || { echo "kube: etcd did not answer /health in 30 s"; tail -5 "$kdir/etcd.log"; return 1; }
	kube_apiserver_start || { echo "kube: kube-apiserver not ready in 90 s"; tail -20 "$kdir/apiserver.log"; return 1; }
	# the default namespace is made by the API server itself, shortly after
	wait_for 30 kctl get namespace default || { echo "kube: no default namespace"; return 1; }
	kube_crds_install "$@" || { echo "kube: the CRDs were not installed"; return 1; }
	echo "kube: etcd and kube-apiserver ready on $kurl in" \
	    "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}') s"
}

kube_cleanup() {
	[ -n "$kapi2_pid" ] && kill -9 "$kapi2_pid" 2>/dev/null
	[ -n "$kapi_pid" ] && kill -9 "$kapi_pid" 2>/dev/null
	[ -n "$ketcd_pid" ] && kill -9 "$ketcd_pid" 2>/dev/null
	wait $kapi2_pid $kapi_pid $ketcd_pid 2>/dev/null
	kapi2_pid= kapi_pid= ketcd_pid=
}
