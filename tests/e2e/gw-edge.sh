#!/usr/bin/env bash
# The gateway's edge settings end to end: gateway.num_trusted_proxies
# (x-forwarded-for hops, x-envoy-external-address / x-envoy-internal),
# max_request_headers_kb (431), header_timeout and idle_timeout (the
# connection is closed), slowloris and slow bodies (slowhttptest) leave the
# gateway serving others, a reload that changes them, yield_after under
# load, and the consistent-hash load balancers (ring hash by cookie, Maglev
# by header) with real backends.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"

gw_ns_up 10.244.7.1 10.244.7.2 10.244.7.3
mkdir -p "$tmp/ngx"
{
	echo "daemon off; user root; worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/ngx/error.log;"
	echo "events { worker_connections 1024; }"
	echo "http { access_log off; client_body_temp_path $tmp/ngx; large_client_header_buffers 4 32k;"
	for a in 10.244.7.1 10.244.7.2 10.244.7.3; do
		echo "  server { listen $a:8080; location / { default_type text/plain;"
		echo "    return 200 \"$a ext=[\$http_x_envoy_external_address] int=[\$http_x_envoy_internal] xff=[\$http_x_forwarded_for]\\n\"; } }"
	done
	echo "}"
} > "$tmp/ngx/nginx.conf"
inns nginx -c "$tmp/ngx/nginx.conf" -p "$tmp/ngx" >"$tmp/ngx/out" 2>&1 &
wait_for 5 test -s "$tmp/nginx.pid" || { fail "nginx did not start"; cat "$tmp/ngx/error.log"; exit 1; }

mkdir -p "$tmp/objs"
cat > "$tmp/objs/edge.yaml" <<'EOC'
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec: {ports: [{port: 8080, name: http}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: echo, namespace: default}
subsets: [{addresses: [{ip: 10.244.7.1}, {ip: 10.244.7.2}, {ip: 10.244.7.3}], ports: [{port: 8080, name: http}]}]
---
apiVersion: v1
kind: Service
metadata: {name: echo2, namespace: default}
spec: {ports: [{port: 8080, name: http}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: echo2, namespace: default}
subsets: [{addresses: [{ip: 10.244.7.1}, {ip: 10.244.7.2}, {ip: 10.244.7.3}], ports: [{port: 8080, name: http}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo, namespace: default}
spec:
  host: echo
  trafficPolicy:
    loadBalancer: {consistentHash: {httpCookie: {name: user, ttl: 0s}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo2, namespace: default}
spec:
  host: echo2
  trafficPolicy:
    loadBalancer: {consistentHash: {httpHeaderName: x-user, maglev: {tableSize: 65537}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: edge, namespace: default}
spec:
  hosts: ["*"]
  gateways: [edge]
  http:
  - match: [{uri: {prefix: /maglev}}]
    route: [{destination: {host: echo2}}]
  - route: [{destination: {host: echo}}]
EOC

GW_EXTRA="num_trusted_proxies: 1, max_request_headers_kb: 8, header_timeout: 1s, idle_timeout: 1s, cpu_affinity: auto" vipgated_start ||
	{ fail "vipgated did not become ready"; cat "$tmp/log"; exit 1; }

# cpu_affinity auto: worker i runs only on the i-th CPU this test may use
read -ra cpus < <(allowed_cpus)
for i in 0 1; do
	want=${cpus[$((i % ${#cpus[@]}))]}
	got=
	for t in /proc/$pid/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "gw-worker-$i" ] &&
			got=$(awk '/^Cpus_allowed_list/ {print $2}' "$t/status")
	done
	check "gw-worker-$i bound to CPU $want (allowed: ${got:-no such thread})" test "$got" = "$want"
done

get() { inns curl -s --max-time 5 "$@"; }

# num_trusted_proxies 1: the right-most XFF entry is the client
r=$(get -H "X-Forwarded-For: 198.51.100.9, 203.0.113.7" http://127.0.0.1/)
check "external client from XFF hop 1: $r" \
	grep -q "ext=\[203.0.113.7\] int=\[\] xff=\[198.51.100.9, 203.0.113.7,127.0.0.1\]" <<<"$r"
r=$(get -H "X-Forwarded-For: 10.9.9.9" -H "X-Envoy-External-Address: 1.1.1.1" http://127.0.0.1/)
check "internal client from XFF, a forged external address dropped: $r" \
	grep -q "ext=\[\] int=\[true\]" <<<"$r"
r=$(get http://127.0.0.1/)
check "no XFF: the peer (loopback, internal) counts: $r" grep -q "ext=\[\] int=\[true\] xff=\[127.0.0.1\]" <<<"$r"

# max_request_headers_kb 8
big=$(head -c 9000 /dev/zero | tr '\0' a)
code=$(get -o /dev/null -w '%{http_code}' -H "X-Big: $big" http://127.0.0.1/)
check "a 9 KB head gets 431 with max_request_headers_kb 8 ($code)" test "$code" = 431
code=$(get -o /dev/null -w '%{http_code}' -H "X-Big: ${big:0:6000}" http://127.0.0.1/)
check "a 6 KB head passes ($code)" test "$code" = 200

# header_timeout 1s: a client that never finishes its head is cut off
cat > "$tmp/slow.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", 80), timeout=6)
t0 = time.time()
if sys.argv[1] == "head":
    s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ")
else:
    s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    s.recv(65536)
    t0 = time.time()
try:
    while s.recv(65536):
        pass
except (socket.timeout, ConnectionResetError):
    print("timeout")
    sys.exit(0)
print("%.2f" % (time.time() - t0))
PY
t=$(inns python3 "$tmp/slow.py" head)
check "header_timeout 1s closes an unfinished head (${t}s)" \
	python3 -c "import sys; sys.exit(0 if 0.8 <= float('$t') <= 2.5 else 1)"
t=$(inns python3 "$tmp/slow.py" idle)
check "idle_timeout 1s closes an idle keep-alive connection (${t}s)" \
	python3 -c "import sys; sys.exit(0 if 0.8 <= float('$t') <= 2.5 else 1)"

# ring hash by cookie: one user sticks to one backend, users spread
for i in $(seq 1 20); do get -b "user=alice" http://127.0.0.1/ring | cut -d' ' -f1; done | sort -u > "$tmp/alice"
check "ring hash: 20 requests of one cookie hit one backend ($(tr '\n' ' ' < "$tmp/alice"))" \
	test "$(wc -l < "$tmp/alice")" -eq 1
for i in $(seq 1 40); do get -b "theme=x; user=u$i" http://127.0.0.1/ring | cut -d' ' -f1; done | sort | uniq -c > "$tmp/spread"
check "ring hash: 40 users reach all 3 backends ($(tr -s ' \n' ' ' < "$tmp/spread"))" \
	test "$(wc -l < "$tmp/spread")" -eq 3
for i in $(seq 1 20); do get -H "x-user: bob" http://127.0.0.1/maglev | cut -d' ' -f1; done | sort -u > "$tmp/bob"
check "maglev: 20 requests of one header value hit one backend" test "$(wc -l < "$tmp/bob")" -eq 1
for i in $(seq 1 40); do get -H "x-user: u$i" http://127.0.0.1/maglev | cut -d' ' -f1; done | sort -u > "$tmp/mspread"
check "maglev: 40 users reach all 3 backends" test "$(wc -l < "$tmp/mspread")" -eq 3
# the same key keeps its backend across a reload
first=$(get -b "user=alice" http://127.0.0.1/ring | cut -d' ' -f1)

# slowloris and slow bodies (slowhttptest): others are still served at once
if command -v slowhttptest >/dev/null 2>&1; then
	for mode in -H -B; do
		inns slowhttptest $mode -c 600 -r 300 -i 2 -l 6 -s 65536 -p 2 \
			-u http://127.0.0.1/ring >"$tmp/slow$mode.out" 2>&1 &
		sp=$!
		sleep 2
		# slow heads stay open up to header_timeout; slow bodies end at the
		# backend's early answer (nginx's return does not read the body)
		active=$(get http://127.0.0.1:15020/stats/prometheus | awk '/^vipgate_gateway_downstream_cx_active /{print $2}')
		[ "$mode" = -H ] &&
			check "slowhttptest -H holds connections open ($active active)" test "${active:-0}" -ge 100
		slow=0
		for i in $(seq 1 20); do
			t=$(get -o /dev/null -w '%{http_code} %{time_total}' http://127.0.0.1/ring)
			case "$t" in 200\ 0.[0-4]*) ;; *) slow=$((slow + 1)); echo "probe: $t";; esac
			sleep 0.1
		done
		check "slowhttptest $mode (600 connections): 20 probes answered under 0.5 s ($slow slow)" test $slow -eq 0
		kill $sp 2>/dev/null; wait $sp 2>/dev/null
		check "vipgated alive after slowhttptest $mode" kill -0 "$pid"
	done
else
	echo "slowhttptest missing: slow client cases not run"
fi

# a reload changes the limits for new requests: 16 KB heads now pass
sed -i 's/max_request_headers_kb: 8/max_request_headers_kb: 16/' "$tmp/vipgate.yaml"
kill -HUP "$pid"
wait_for 5 sh -c "[ \"\$(ip netns exec $ns curl -s -o /dev/null -w '%{http_code}' -H 'X-Big: $big' http://127.0.0.1/)\" = 200 ]"
check "SIGHUP: max_request_headers_kb 16 lets the 9 KB head through" \
	test "$(get -o /dev/null -w '%{http_code}' -H "X-Big: $big" http://127.0.0.1/)" = 200
check "ring hash: the cookie keeps its backend across the reload" \
	test "$(get -b "user=alice" http://127.0.0.1/ring | cut -d' ' -f1)" = "$first"

# gateway.yield_after (default 1ms): a worker that has run that long
# without sleeping yields its CPU; saturating load makes that happen, and a
# reload to 0 stops it
yields() { metric vipgate_gateway_worker_yields_total; }
if command -v wrk >/dev/null; then
	y0=$(yields); y1=$y0
	for i in 1 2 3; do
		inns wrk -t2 -c64 -d2s http://127.0.0.1/ >/dev/null 2>&1
		y1=$(yields)
		[ "${y1:-0}" -gt "${y0:-0}" ] && break
	done
	check "yield_after 1ms: busy workers yielded under wrk (yields $y0 -> $y1)" test "${y1:-0}" -gt "${y0:-0}"
	n=$(grep -c "reload ok" "$tmp/log")
	sed -i 's/^gateway: {/gateway: {yield_after: 0, /' "$tmp/vipgate.yaml"
	kill -HUP "$pid"
	wait_for 5 sh -c "[ \$(grep -c 'reload ok' $tmp/log) -gt $n ]"
	sleep 0.2
	y0=$(yields)
	inns wrk -t2 -c64 -d2s http://127.0.0.1/ >/dev/null 2>&1
	y1=$(yields)
	check "yield_after 0: no yields under wrk after the reload (yields $y0 -> $y1)" test "${y1:-x}" = "$y0"
	check "vipgated answers after the load" test "$(get -o /dev/null -w '%{http_code}' http://127.0.0.1/)" = 200
else
	echo "wrk missing: yield_after cases not run"
fi
check "vipgated still running" kill -0 "$pid"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
