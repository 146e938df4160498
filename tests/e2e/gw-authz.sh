#!/usr/bin/env bash
# AuthorizationPolicy at the ingress, end to end with curl, as Istio's
# ingress tasks use it: IP-based allow and deny (the peer, and the client
# from x-forwarded-for with gateway.num_trusted_proxies), path and method
# rules, path tricks against a DENY rule (none reaches the backend), a
# policy that does not decode (every request denied until it is fixed),
# and the evidence of a denial (403 "RBAC: access denied", access log,
# istio_requests_total).
. "${srcdir:-.}/tests/e2e/gw-lib.sh"

gw_ns_up 10.244.9.1 10.244.9.10 10.244.9.20
mkdir -p "$tmp/ngx"
{
	echo "daemon off; user root; worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/ngx/error.log;"
	echo "events { worker_connections 256; }"
	echo "http { access_log $tmp/ngx/access.log; client_body_temp_path $tmp/ngx;"
	echo "  server { listen 10.244.9.1:8080; location / { default_type text/plain;"
	echo "    return 200 \"backend \$request_uri\\n\"; } }"
	echo "}"
} > "$tmp/ngx/nginx.conf"
inns nginx -c "$tmp/ngx/nginx.conf" -p "$tmp/ngx" >"$tmp/ngx/out" 2>&1 &
wait_for 5 test -s "$tmp/nginx.pid" || { fail "nginx did not start"; exit 1; }

mkdir -p "$tmp/objs"
app_objs 10.244.9.1 > "$tmp/objs/app.yaml"

# code FROM-ADDR [curl args...]: the status of a request from that source address
code() {
	local from=$1
	shift
	inns curl -s -o "$tmp/body" -w '%{http_code}' --max-time 5 --interface "$from" "$@"
}
policy() { cat > "$tmp/objs/policy.yaml"; "$ctl" -s "$tmp/sock" reload > "$tmp/reload.out" 2>&1; }
backend_saw() { grep -c "$1" "$tmp/ngx/access.log" 2>/dev/null || true; }

GW_EXTRA="num_trusted_proxies: 1" vipgated_start || { fail "vipgated did not start"; exit 1; }
check "no policy: served" test "$(code 10.244.9.10 http://10.244.9.20/)" = 200

# ---- IP allow-list at the ingress (ipBlocks: the peer) ----
policy <<'EOC'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ingress-policy, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: ALLOW
  rules:
  - from: [{source: {ipBlocks: ["10.244.9.10/32"]}}]
EOC
check "ipBlocks ALLOW: listed peer served" test "$(code 10.244.9.10 http://10.244.9.20/)" = 200
check "ipBlocks ALLOW: other peer 403" test "$(code 10.244.9.20 http://10.244.9.20/)" = 403
check "the denial's body is Envoy's" grep -qx "RBAC: access denied" "$tmp/body"
check "XFF does not change ipBlocks" \
	test "$(code 10.244.9.20 -H 'x-forwarded-for: 10.244.9.10' http://10.244.9.20/)" = 403

# ---- remoteIpBlocks: the client from XFF with one trusted proxy ----
policy <<'EOC'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ingress-policy, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules:
  - from: [{source: {remoteIpBlocks: ["198.51.100.0/24"]}}]
EOC
check "remoteIpBlocks DENY: client from XFF denied" \
	test "$(code 10.244.9.10 -H 'x-forwarded-for: 198.51.100.7' http://10.244.9.20/)" = 403
check "remoteIpBlocks DENY: other client served" \
	test "$(code 10.244.9.10 -H 'x-forwarded-for: 203.0.113.9' http://10.244.9.20/)" = 200
check "remoteIpBlocks DENY: a spoofed hop left of the trusted one does not count" \
	test "$(code 10.244.9.10 -H 'x-forwarded-for: 198.51.100.7, 203.0.113.9' http://10.244.9.20/)" = 200
check "remoteIpBlocks DENY: without XFF the peer is the client" \
	test "$(code 10.244.9.10 http://10.244.9.20/)" = 200

# ---- paths and methods ----
policy <<'EOC'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: istio-system}
spec:
  action: DENY
  rules:
  - to: [{operation: {paths: ["/admin", "/admin/*"]}}]
  - to: [{operation: {methods: [DELETE]}}]
EOC
check "DENY /admin" test "$(code 10.244.9.10 http://10.244.9.20/admin)" = 403
check "DENY /admin/*" test "$(code 10.244.9.10 http://10.244.9.20/admin/users)" = 403
check "DENY DELETE" test "$(code 10.244.9.10 -X DELETE http://10.244.9.20/x)" = 403
check "GET /x served" test "$(code 10.244.9.10 http://10.244.9.20/x)" = 200
"$ctl" -s "$tmp/sock" gateway policies > "$tmp/policies.out" 2>&1
check "vipgatectl gateway policies lists the DENY policy" \
	grep -q "istio-system/deny-admin.*DENY\|DENY.*istio-system/deny-admin" "$tmp/policies.out"
check "vipgatectl gateway policies: no ALLOW policy, the rest is allowed" \
	grep -q "no ALLOW policy" "$tmp/policies.out"
before=$(backend_saw admin)
for t in '/x/../admin' '/%61dmin' '/./admin' '/admin/./users' '/x/%2e%2e/admin' '/%2e/admin'; do
	check "path trick $t: 403" test "$(code 10.244.9.10 --path-as-is "http://10.244.9.20$t")" = 403
done
r=$(raw 10.244.9.20 80 'GET http://anything/admin HTTP/1.1\r\nHost: 10.244.9.20\r\nConnection: close\r\n\r\n')
check "absolute-form /admin: 403" grep -q "^HTTP/1.1 403" <<<"$r"
check "no trick reached the backend" test "$(backend_saw admin)" = "$before"
# a 403 is counted and logged
check "istio_requests_total counts the 403s" \
	test "$(metric istio_requests_total 'response_code="403"')" -gt 0
check "the access log has the 403" grep -q '" 403 ' "$tmp/access.log"

# slashes: Istio's BASE keeps //admin; MERGE_SLASHES folds it and the rule holds
stop "$pid"
GW_EXTRA="num_trusted_proxies: 1, path_normalization: MERGE_SLASHES" vipgated_start ||
	{ fail "vipgated did not restart"; exit 1; }
check "MERGE_SLASHES: //admin denied" test "$(code 10.244.9.10 --path-as-is http://10.244.9.20//admin)" = 403
check "MERGE_SLASHES: /admin//users denied" \
	test "$(code 10.244.9.10 --path-as-is http://10.244.9.20/admin//users)" = 403
check "no trick reached the backend" test "$(backend_saw admin)" = "$before"

# ---- fail closed: a policy that does not decode ----
policy <<'EOC'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: istio-system}
spec:
  action: DENYY
  rules:
  - to: [{operation: {paths: ["/admin"]}}]
EOC
check "a broken policy: the reload reports it" grep -q "DENYY\|action" "$tmp/reload.out"
check "a broken policy denies everything" test "$(code 10.244.9.10 http://10.244.9.20/x)" = 403
"$ctl" -s "$tmp/sock" analyze > "$tmp/analyze.out" 2>&1
check "analyze names the broken policy" grep -q "deny-admin" "$tmp/analyze.out"
check "the log names the broken policy and what it does" \
	grep -q "AuthorizationPolicy istio-system/deny-admin: did not decode.*denies every request" "$tmp/log"
"$ctl" -s "$tmp/sock" gateway policies > "$tmp/policies.out" 2>&1
check "vipgatectl gateway policies: the broken one denies every request" \
	grep -q "denies every request" "$tmp/policies.out"
policy <<'EOC'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: istio-system}
spec:
  action: DENY
  rules:
  - to: [{operation: {paths: ["/admin"]}}]
EOC
check "fixed: served again" test "$(code 10.244.9.10 http://10.244.9.20/x)" = 200
check "fixed: /admin still denied" test "$(code 10.244.9.10 http://10.244.9.20/admin)" = 403

# ---- the policy file removed: nothing applies ----
rm -f "$tmp/objs/policy.yaml"
"$ctl" -s "$tmp/sock" reload > /dev/null 2>&1
check "policy removed: /admin served" test "$(code 10.244.9.10 http://10.244.9.20/admin)" = 200
check "vipgated still running" kill -0 "$pid"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
