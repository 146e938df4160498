#!/usr/bin/env bash
# Client-certificate identity at a MUTUAL server: the client's SPIFFE URI
# SAN is source.principal (principals, namespaces, notPrincipals), and the
# backend gets x-forwarded-client-cert as an Istio gateway sets it
# (SANITIZE_SET: a client's own is dropped, the certificate's hash,
# subject, URI and DNS are set).
. "${srcdir:-.}/tests/e2e/gw-lib.sh"

gw_ns_up 10.244.12.1 10.244.12.20
mkdir -p "$tmp/ngx" "$tmp/objs"
{
	echo "daemon off; user root; worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/ngx/error.log;"
	echo "events { worker_connections 256; }"
	echo "http { access_log off; client_body_temp_path $tmp/ngx;"
	echo "  server { listen 10.244.12.1:8080; location / { default_type text/plain;"
	echo "    return 200 \"xfcc=[\$http_x_forwarded_client_cert]\\n\"; } }"
	echo "}"
} > "$tmp/ngx/nginx.conf"
inns nginx -c "$tmp/ngx/nginx.conf" -p "$tmp/ngx" >"$tmp/ngx/out" 2>&1 &
wait_for 5 test -s "$tmp/nginx.pid" || { fail "nginx did not start"; exit 1; }

pki=$tmp/pki; mkdir -p "$pki"
o() { openssl "$@" >/dev/null 2>&1; }
o req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/CN=vipgate test CA" -keyout "$pki/ca.key" -out "$pki/ca.crt"
cert() { # name cn san
	o req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/O=test/CN=$2" \
		-keyout "$pki/$1.key" -out "$pki/$1.csr"
	printf 'subjectAltName=%s\n' "$3" > "$pki/$1.ext"
	o x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
		-days 2 -extfile "$pki/$1.ext" -out "$pki/$1.crt"
}
cert server mtls.test DNS:mtls.test
cert shop shop-web "URI:spiffe://cluster.local/ns/shop/sa/web,DNS:web.shop"
cert ops ops-admin "URI:spiffe://cluster.local/ns/ops/sa/admin"
cert plain plain-client DNS:plain.client

ind() { sed 's/^/    /' "$1"; }
{
	echo "apiVersion: v1"
	echo "kind: Secret"
	echo "metadata: {name: mtls-cred, namespace: istio-system}"
	echo "stringData:"
	echo "  tls.crt: |"; ind "$pki/server.crt"
	echo "  tls.key: |"; ind "$pki/server.key"
	echo "  ca.crt: |"; ind "$pki/ca.crt"
	echo ---
	app_objs 10.244.12.1 mtls.test \
	    "{port: {number: 443, name: https, protocol: HTTPS}, hosts: [mtls.test], tls: {mode: MUTUAL, credentialName: mtls-cred}}"
	cat <<'EOC'
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: by-identity, namespace: istio-system}
spec:
  rules:
  - from: [{source: {namespaces: [shop]}}]
    to: [{operation: {paths: ["/shop/*"]}}]
  - from: [{source: {principals: ["cluster.local/ns/ops/sa/admin"]}}]
  - from: [{source: {notPrincipals: ["*"]}}]
    to: [{operation: {paths: [/public]}}]
EOC
} > "$tmp/objs/app.yaml"

# as CLIENT PATH [curl args]: the status, body in $tmp/body
as() {
	local who=$1 path=$2
	shift 2
	inns curl -s -o "$tmp/body" -w '%{http_code}' --max-time 5 --cacert "$pki/ca.crt" \
		--cert "$pki/$who.crt" --key "$pki/$who.key" --resolve mtls.test:443:10.244.12.20 \
		"$@" "https://mtls.test$path"
}

vipgated_start || { fail "vipgated did not start"; exit 1; }
check "namespaces [shop]: shop's workload on /shop/x" test "$(as shop /shop/x)" = 200
check "XFCC: hash, subject, URI, DNS of the client's certificate" grep -q \
	"xfcc=\[Hash=$(openssl x509 -in "$pki/shop.crt" -outform der | sha256sum | cut -d' ' -f1);Subject=\"CN=shop-web,O=test\";URI=spiffe://cluster.local/ns/shop/sa/web;DNS=web.shop\]" "$tmp/body"
check "XFCC: a client's own is replaced" test "$(as shop /shop/x -H 'x-forwarded-client-cert: By=evil;URI=spiffe://evil')" = 200
check "XFCC: ... by the gateway's" sh -c "! grep -q evil '$tmp/body'"
check "namespaces [shop]: not on /other" test "$(as shop /other)" = 403
check "principals: ops/admin anywhere" test "$(as ops /other)" = 200
check "no SPIFFE ID: notPrincipals [*] on /public" test "$(as plain /public)" = 200
check "no SPIFFE ID: nothing else" test "$(as plain /shop/x)" = 403
check "vipgated still running" kill -0 "$pid"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
