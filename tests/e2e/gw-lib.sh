# Shared by the gateway e2e tests (tests/e2e/gw-*.sh): a network namespace
# made by the test, nginx backends on addresses inside it, vipgated on the
# seed's manifests plus the test's own. Nothing touches the host namespace.
set -u
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
for t in nginx curl python3 ip; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t missing"; exit 77; }
done
ip netns add vg-probe-$$ 2>/dev/null || { echo "SKIP: ip netns unavailable"; exit 77; }
ip netns del vg-probe-$$

bld=$(pwd)
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
src=${srcdir:-.}
vipgated=$bld/vipgated
ctl=$bld/vipgatectl
ns=vg-gw-$$
tmp=$(mktemp -d /tmp/vg-gw.XXXXXX)
pid=
ngx_pid=
fails=0 passes=0

cleanup() {
	[ -n "${VG_KEEP_LOG:-}" ] && cp "$tmp/log" "$VG_KEEP_LOG" 2>/dev/null
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -f "$tmp/nginx.pid" ] && kill -9 "$(cat "$tmp/nginx.pid")" 2>/dev/null
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

fail() { fails=$((fails + 1)); echo "FAIL: $*"; [ -f "$tmp/log" ] && tail -20 "$tmp/log"; }
inns() { ip netns exec "$ns" "$@"; }
# allowed_cpus: the CPUs this shell may run on, in order, one line
allowed_cpus() { python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))'; }


# gw_setup ADDR...: the namespace, its loopback addresses, nginx answering
# "<name> <addr>" on ADDR:9080 (name from the address table below).
gw_ns_up() {
	ip netns add "$ns"
	inns ip link set lo up
	for a in "$@"; do inns ip addr add "$a/32" dev lo; done
}

# nginx_start "ADDR:PORT NAME [STATUS]" ...: one server each, answering NAME and the path
nginx_start() {
	mkdir -p "$tmp/ngx"
	head -c 3000000 /dev/urandom > "$tmp/ngx/big.bin"	# /big.bin: a large answer
	{
		echo "daemon off; user root; worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/ngx/error.log;"
		echo "events { worker_connections 1024; }"
		echo "http { log_format combined_len '\$server_addr \$request \$status \$request_length \$http_transfer_encoding \$http_x_forwarded_for \$http_x_request_id';"
		echo "  access_log $tmp/ngx/access.log combined_len; client_body_temp_path $tmp/ngx;"
		echo "  keepalive_requests 100000; client_max_body_size 100m;"
		for s in "$@"; do
			set -- $s
			echo "  server { listen $1; client_max_body_size 100m;"
			echo "    location /upload { client_body_buffer_size 1m; proxy_pass http://127.0.0.1:9999/; }"
			echo "    location = /big.bin { root $tmp/ngx; }"
			echo "    location / { default_type text/plain; return ${3:-200} \"$2 \$request_uri\\n\"; } }"
		done
		echo "  server { listen 127.0.0.1:9999; location / { return 200 \"got \$content_length\\n\"; } }"
		echo "}"
	} > "$tmp/ngx/nginx.conf"
	inns nginx -c "$tmp/ngx/nginx.conf" -p "$tmp/ngx" >"$tmp/ngx/out" 2>&1 &
	ngx_pid=$!
	wait_for 5 test -s "$tmp/nginx.pid"
}

# app_objs IP [HOST [SERVER]]: a Gateway istio-system/gw (SERVER: its server,
# default plain HTTP on 80 for every host) and Service, Endpoints and
# VirtualService "app" in default routing HOST (default "*") to IP:8080
app_objs() {
	local ip=$1 host=${2:-*} srv=${3:-"{port: {number: 80, name: http, protocol: HTTP}, hosts: [\"*\"]}"}
	cat <<EOC
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec: {selector: {istio: ingressgateway}, servers: [$srv]}
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec: {ports: [{port: 8080, name: http}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: app, namespace: default}
subsets: [{addresses: [{ip: $ip}], ports: [{port: 8080, name: http}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: default}
spec:
  hosts: ["$host"]
  gateways: [istio-system/gw]
  http: [{route: [{destination: {host: app.default.svc.cluster.local}}]}]
EOC
}

# gw_pki_ca: a test CA in $tmp/pki (ca.crt, ca.key)
gw_pki_ca() {
	mkdir -p "$tmp/pki"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=vipgate test CA" -keyout "$tmp/pki/ca.key" -out "$tmp/pki/ca.crt" >/dev/null 2>&1
}

# gw_pki_cert NAME CN [O]: $tmp/pki/NAME.crt and .key for DNS name CN, signed by the CA
gw_pki_cert() {
	local p=$tmp/pki
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/O=${3:-vipgate}/CN=$2" \
		-keyout "$p/$1.key" -out "$p/$1.csr" >/dev/null 2>&1
	printf 'subjectAltName=DNS:%s\n' "$2" > "$p/$1.ext"
	openssl x509 -req -in "$p/$1.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
		-days 2 -extfile "$p/$1.ext" -out "$p/$1.crt" >/dev/null 2>&1
}

# gw_selfsigned NAME CN [O]: a self-signed $tmp/pki/NAME.crt and .key for DNS name CN
gw_selfsigned() {
	mkdir -p "$tmp/pki"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/O=${3:-$1}/CN=$2" -addext "subjectAltName=DNS:$2" \
		-keyout "$tmp/pki/$1.key" -out "$tmp/pki/$1.crt" >/dev/null 2>&1
}

# nginx_tls_start "ADDR:PORT CERT BODY"...: nginx ending TLS with
# $tmp/pki/CERT.crt on each, answering "BODY <the SNI it saw>";
# $NGX_EXTRA: more server blocks, as they go in nginx's http block
nginx_tls_start() {
	local s
	mkdir -p "$tmp/ngx"
	{
		echo "daemon off; user root; worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/ngx/error.log;"
		echo "events { worker_connections 1024; }"
		echo "http { access_log off; client_body_temp_path $tmp/ngx;"
		echo "${NGX_EXTRA:-}"
		for s in "$@"; do
			set -- $s
			echo "  server { listen $1 ssl; ssl_certificate $tmp/pki/$2.crt; ssl_certificate_key $tmp/pki/$2.key;"
			echo "    location / { default_type text/plain; return 200 \"$3 \$ssl_server_name\\n\"; } }"
		done
		echo "}"
	} > "$tmp/ngx/nginx.conf"
	inns nginx -c "$tmp/ngx/nginx.conf" -p "$tmp/ngx" >"$tmp/ngx/out" 2>&1 &
	ngx_pid=$!
	wait_for 5 test -s "$tmp/nginx.pid"
}

# gw_secret NAME CRT KEY [CA]: a kubernetes.io/tls Secret in istio-system, as YAML
gw_secret() {
	python3 - "$@" <<'PY'
import sys
name, crt, key = sys.argv[1:4]
ind = lambda p: ''.join('    ' + l for l in open(p))
print('---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: istio-system}\nstringData:' % name)
print('  tls.crt: |\n' + ind(crt) + '  tls.key: |\n' + ind(key), end='')
if len(sys.argv) > 4:
    print('  ca.crt: |\n' + ind(sys.argv[4]), end='')
PY
}

# vipgated_start: config in $tmp/vipgate.yaml, objects in $tmp/objs
vipgated_start() {
	cat > "$tmp/vipgate.yaml" <<EOC
node: {name: node-a}
objects: {paths: [objs]}
control: {socket: $tmp/sock}
addresses: {interface: lo}
state_dir: state
gateway: {workers: ${GW_WORKERS:-2}, bind: ["0.0.0.0"], drain_timeout: 2s, access_log: {path: ${GW_ALOG:-$tmp/access.log}, format: ${GW_ALOG_FORMAT:-envoy}}${GW_EXTRA:+, $GW_EXTRA}}
log: {level: debug}
EOC
	mkdir -p "$tmp/state"
	# GW_NOFILE: the descriptor limit it runs with (ulimit -n)
	(cd "$tmp" && { [ -z "${GW_NOFILE:-}" ] || ulimit -n "$GW_NOFILE"; } &&
		exec ip netns exec "$ns" "$vipgated" -f -c "$tmp/vipgate.yaml") >"$tmp/log" 2>&1 &
	pid=$!
	wait_for 10 inns curl -sf -o /dev/null http://127.0.0.1:15021/healthz/ready
}

# raw HOST PORT 'REQUEST' : send the request (printf escapes), print the
# whole answer until the gateway closes or 3 s pass
cat > "$tmp/raw.py" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.sendall(sys.argv[3].encode().decode('unicode_escape').encode('latin-1'))
out = b''
end = time.time() + 3
try:
    while time.time() < end:
        b = s.recv(65536)
        if not b:
            break
        out += b
except (socket.timeout, ConnectionResetError):
    pass
sys.stdout.write(out.decode('latin-1'))
PY
raw() { inns python3 "$tmp/raw.py" "$@"; }

# metric NAME [LABEL-SUBSTRING]: a series' value from :15020 (0 when
# absent); without a label substring, the series without labels
metric() {
	inns curl -s --max-time 5 http://127.0.0.1:15020/stats/prometheus |
		awk -v n="$1" -v k="${2:-}" '(k == "" ? $1 == n : index($0, n "{") == 1 && index($0, k)) {
			print $2; f=1} END {if (!f) print 0}'
}
