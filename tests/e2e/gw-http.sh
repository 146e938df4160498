#!/usr/bin/env bash
# The gateway's HTTP/1.1 data plane end to end: the seed's walk-through
# through the VIP, the canary split, Envoy's error answers, strict parsing
# (smuggling cases, oversize headers), keep-alive and pipelining, a chunked
# upload streamed to the backend, health and stats ports.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"

gw_ns_up 10.244.1.10 10.244.2.10 10.244.3.11 10.244.3.12 10.244.4.1
nginx_start "10.244.1.10:9080 productpage-1" "10.244.2.10:9080 productpage-2" \
	"10.244.3.11:9080 reviews-v1" "10.244.3.12:9080 reviews-v2" "10.244.4.1:9092 busy 503" ||
	{ fail "nginx did not start"; cat "$tmp/ngx/out" "$tmp/ngx/error.log"; exit 1; }

mkdir -p "$tmp/objs"
cp "$src"/etc/objects.d/*.yaml "$tmp/objs/"
cat > "$tmp/objs/50-test.yaml" <<'EOC'
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: test-gateway, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*.test"]
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec: {selector: {app: reviews}, ports: [{port: 9080, name: http}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1-a, namespace: default, labels: {app: reviews, version: v1}}
spec: {nodeName: node-a, containers: [{name: reviews}]}
status: {phase: Running, podIP: 10.244.3.11, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v2-a, namespace: default, labels: {app: reviews, version: v2}}
spec: {nodeName: node-a, containers: [{name: reviews}]}
status: {phase: Running, podIP: 10.244.3.12, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: default}
spec: {selector: {app: nothing}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: dead, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: dead, namespace: default}
subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{port: 9}]}]
---
apiVersion: v1
kind: Service
metadata: {name: half, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: half, namespace: default}
subsets: [{addresses: [{ip: 10.244.1.10}, {ip: 127.0.0.2}], ports: [{port: 9080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: ws, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: ws, namespace: default}
subsets: [{addresses: [{ip: 10.244.4.1}], ports: [{port: 9090}]}]
---
apiVersion: v1
kind: Service
metadata: {name: silent, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: silent, namespace: default}
subsets: [{addresses: [{ip: 10.244.4.1}], ports: [{port: 9091}]}]
---
apiVersion: v1
kind: Service
metadata: {name: flaky, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: flaky, namespace: default}
subsets:
- {addresses: [{ip: 10.244.1.10}], ports: [{port: 9080}]}
- {addresses: [{ip: 10.244.4.1}], ports: [{port: 9092}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: flaky, namespace: default}
spec: {host: flaky, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: half, namespace: default}
spec: {host: half, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-gw, namespace: default}
spec:
  hosts: [reviews.test]
  gateways: [test-gateway]
  http:
  - match: [{uri: {prefix: /nc}}]
    route: [{destination: {host: reviews, subset: v9}}]
  - match: [{uri: {prefix: /uh}}]
    route: [{destination: {host: empty}}]
  - match: [{uri: {prefix: /uf}}]
    route: [{destination: {host: dead}}]
  - match: [{uri: {prefix: /mirror}}]
    mirror: {host: reviews, subset: v2}
    route: [{destination: {host: reviews, subset: v1}}]
  - match: [{uri: {prefix: /cors}}]
    corsPolicy:
      allowOrigins: [{exact: "https://app.test"}, {regex: "https://.*\\.trusted\\.test"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-token]
      exposeHeaders: [x-gw]
      maxAge: 24h
      allowCredentials: true
    route: [{destination: {host: reviews, subset: v1}}]
  - match: [{uri: {prefix: /slow}}]
    timeout: 500ms
    route: [{destination: {host: silent}}]
  - match: [{uri: {prefix: /ws}}]
    route: [{destination: {host: ws}}]
  - match: [{uri: {prefix: /flaky}}]
    route: [{destination: {host: flaky}}]
  - match: [{uri: {prefix: /noretry}}]
    retries: {attempts: 0}
    route: [{destination: {host: flaky}}]
  - match: [{uri: {prefix: /half}}]
    route: [{destination: {host: half}}]
  - match: [{uri: {prefix: /old}}]
    redirect: {uri: /new}
  - match: [{uri: {exact: /teapot}}]
    directResponse: {status: 418, body: {string: "short and stout"}}
  - match: [{uri: {prefix: /api/}}]
    rewrite: {uri: /v2/}
    headers: {response: {set: {x-gw: vipgate}}}
    route: [{destination: {host: reviews, subset: v2}}]
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 90}
    - {destination: {host: reviews, subset: v2}, weight: 10}
EOC
vipgated_start || { fail "vipgated not ready"; exit 1; }
ok "vipgated ready on :15021"

VIP=192.168.1.200
wait_for 5 sh -c "ip -n $ns -o addr show dev lo | grep -q ' $VIP/'" && ok "VIP $VIP local" || fail "VIP $VIP not local"
c() { inns curl -s --max-time 5 "$@"; }

# the seed's walk-through
out=$(c -H "Host: bookinfo.example.com" "http://$VIP/productpage")
case $out in productpage-*" /productpage") ok "seed: $out";; *) fail "seed: got '$out'";; esac
# both productpage endpoints take traffic
seen=$(for i in $(seq 20); do c -H "Host: bookinfo.example.com" "http://$VIP/p"; done | sort -u | wc -l)
check "both productpage endpoints answer" test "$seen" -eq 2

# the access log, in Envoy's default format
check "access log line (Envoy format)" grep -q '^\[20[0-9-]*T[0-9:.]*Z\] "GET /productpage HTTP/1.1" 200 - 0 [0-9]* [0-9]* - "-" "curl/[^"]*" "[0-9a-f-]\{36\}" "bookinfo.example.com" "10.244.[12].10:9080"$' "$tmp/access.log"

# 404 NR for an unknown host
code=$(c -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' -H "Host: nope.example.com" "http://$VIP/")
check "404 NR (got $code)" test "$code" = 404
check "404 NR: an empty body, as Envoy's" test ! -s "$tmp/body"
check "a local answer has a date" grep -qi '^date: [A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] 20[0-9][0-9] [0-9:]* GMT' "$tmp/head"
check "a local answer has an x-request-id" grep -qi '^x-request-id: [0-9a-f-]\{36\}' "$tmp/head"
code=$(c -o /dev/null -D "$tmp/head" -w '%{http_code}' -H "Host: nope.example.com" -H "x-request-id: rid-42" "http://$VIP/")
check "a local answer carries the client's x-request-id" grep -qi '^x-request-id: rid-42' "$tmp/head"
# a head that cannot be parsed: logged with what was read ("-": no method)
raw "$VIP" 80 '\x16\x03\x01garbage\r\n\r\n' > "$tmp/garbage"
check "garbage: 400 with a date" sh -c "grep -q '^HTTP/1.1 400' '$tmp/garbage' && grep -qi '^date: ' '$tmp/garbage'"
wait_for 3 grep -q '"- - -" 400 DPE' "$tmp/access.log"
check "garbage logged without a method (\"- - -\" 400 DPE)" grep -q '"- - -" 400 DPE' "$tmp/access.log"

for t in "nc 503 cluster_not_found" "uh 503 no.healthy.upstream" "uf 503 connection.failure"; do
	set -- $t
	code=$(c -o "$tmp/body" -w '%{http_code}' -H "Host: reviews.test" "http://$VIP/$1")
	check "/$1: $2 (got $code: $(head -c 80 "$tmp/body"))" sh -c "test $code = $2 && grep -q '$3' '$tmp/body'"
done
# corsPolicy: preflight answered by the gateway, actual requests get the headers
pf=$(c -D - -o /dev/null -X OPTIONS -H "Host: reviews.test" -H "Origin: https://a.trusted.test" \
	-H "Access-Control-Request-Method: POST" "http://$VIP/cors" | tr -d '\r')
check "CORS preflight answered" sh -c "echo '$pf' | grep -q '^HTTP/1.1 200' &&
	echo '$pf' | grep -qi '^access-control-allow-origin: https://a.trusted.test' &&
	echo '$pf' | grep -qi '^access-control-allow-methods: GET,POST' &&
	echo '$pf' | grep -qi '^access-control-max-age: 86400' &&
	echo '$pf' | grep -qi '^access-control-allow-credentials: true'"
h=$(c -D - -o /dev/null -H "Host: reviews.test" -H "Origin: https://app.test" "http://$VIP/cors" | tr -d '\r')
check "CORS actual request gets allow-origin" sh -c "echo '$h' | grep -q '^HTTP/1.1 200' && echo '$h' | grep -qi '^access-control-allow-origin: https://app.test'"
h=$(c -D - -o /dev/null -H "Host: reviews.test" -H "Origin: https://evil.test" "http://$VIP/cors" | tr -d '\r')
check "CORS: other origins get none" sh -c "! echo '$h' | grep -qi '^access-control-allow-origin'"

# mirror: v1 answers, v2 gets a copy
out=$(c -H "Host: reviews.test" "http://$VIP/mirror/1")
wait_for 5 grep -q '^10.244.3.12 GET /mirror/1 ' "$tmp/ngx/access.log" &&
	ok "mirrored to v2 while v1 answered ($out)" || fail "mirrored to v2 while v1 answered ($out)"
check "the answer is v1's" test "$out" = "reviews-v1 /mirror/1"

# connect failures are retried on another endpoint (Istio's default policy)
codes=$(for i in $(seq 10); do c -o /dev/null -w '%{http_code} ' -H "Host: reviews.test" "http://$VIP/half"; done)
check "connect-failure retried on the live endpoint ($codes)" test "$codes" = "200 200 200 200 200 200 200 200 200 200 "
# a 503 answer is retried on another endpoint (retriable-status-codes); attempts 0 turns it off
codes=$(for i in $(seq 10); do c -o /dev/null -w '%{http_code} ' -H "Host: reviews.test" "http://$VIP/flaky"; done)
check "503 retried on another endpoint ($codes)" test "$codes" = "200 200 200 200 200 200 200 200 200 200 "
codes=$(for i in $(seq 10); do c -o /dev/null -w '%{http_code} ' -H "Host: reviews.test" "http://$VIP/noretry"; done)
check "retries attempts 0: 503s pass ($codes)" sh -c "echo '$codes' | grep -q 503 && echo '$codes' | grep -q 200"
hdr=$(c -D - -o /dev/null -H "Host: reviews.test" "http://$VIP/old/x?q=1" | tr -d '\r')
check "redirect 301 to /new?q=1" sh -c "echo '$hdr' | grep -q '^HTTP/1.1 301' && echo '$hdr' | grep -qi '^location: http://reviews.test/new?q=1'"
out=$(c -w ' %{http_code}' -H "Host: reviews.test" "http://$VIP/teapot")
check "directResponse (got '$out')" test "$out" = "short and stout 418"
out=$(c -D "$tmp/h" -H "Host: reviews.test" "http://$VIP/api/users?id=7")
check "rewrite /api/ -> /v2/ to v2 (got '$out')" test "$out" = "reviews-v2 /v2/users?id=7"
check "response header set" grep -qi '^x-gw: vipgate' "$tmp/h"
check "server: istio-envoy and x-envoy-upstream-service-time" sh -c "grep -qi '^server: istio-envoy' '$tmp/h' && grep -qi '^x-envoy-upstream-service-time: [0-9]' '$tmp/h'"

# canary 90/10 over 1000 requests (keep-alive: one curl, many URLs)
urls=$(for i in $(seq 1000); do printf 'http://%s/c/%d ' $VIP $i; done)
c -H "Host: reviews.test" $urls > "$tmp/canary"
v1=$(grep -c '^reviews-v1' "$tmp/canary"); v2=$(grep -c '^reviews-v2' "$tmp/canary")
check "canary 1000 answers (v1 $v1, v2 $v2)" test $((v1 + v2)) -eq 1000
check "canary 90/10 within 3 points (v1 $v1)" test "$v1" -ge 870 -a "$v1" -le 930

# x-forwarded-for / x-request-id reach the backend
c -H "Host: reviews.test" -H "x-forwarded-for: 203.0.113.9" "http://$VIP/xff" >/dev/null
check "x-forwarded-for appended" grep -q 'GET /xff HTTP/1.1 200 [0-9]* - 203.0.113.9,[0-9.]* [0-9a-f-]\{36\}' "$tmp/ngx/access.log"

# chunked upload streamed to the backend (2 MB)
head -c 2000000 /dev/zero > "$tmp/blob"
out=$(c -H "Host: reviews.test" -H "Transfer-Encoding: chunked" --data-binary @"$tmp/blob" "http://$VIP/upload")
check "chunked upload of 2 MB arrives whole (got '$out')" test "$out" = "got 2000000"
out=$(c -H "Host: reviews.test" --data-binary @"$tmp/blob" "http://$VIP/upload")
check "content-length upload of 2 MB (got '$out')" test "$out" = "got 2000000"

# pipelining: three requests in one write, answered in order
ans=$(raw 127.0.0.1 80 'GET /p1 HTTP/1.1\r\nHost: reviews.test\r\n\r\nGET /api/p2 HTTP/1.1\r\nHost: reviews.test\r\n\r\nGET /p3 HTTP/1.1\r\nHost: reviews.test\r\nConnection: close\r\n\r\n')
order=$(echo "$ans" | grep -o '/p[123]\|/v2/p2' | tr '\n' ' ')
check "pipelined answers in order (got '$order')" test "$order" = "/p1 /v2/p2 /p3 "

# strict parsing: 400 and close
st() { raw 127.0.0.1 80 "$1" | head -1 | tr -d '\r'; }
check "CL.TE -> 400" test "$(st 'POST / HTTP/1.1\r\nHost: reviews.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
check "TE.CL -> 400" test "$(st 'POST / HTTP/1.1\r\nHost: reviews.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n1\r\nA\r\n0\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
check "duplicate CL -> 400" test "$(st 'POST / HTTP/1.1\r\nHost: reviews.test\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nA')" = "HTTP/1.1 400 Bad Request"
check "bad chunk size -> 400" test "$(st 'POST / HTTP/1.1\r\nHost: reviews.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nA\r\n0\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
check "bad header name -> 400" test "$(st 'GET / HTTP/1.1\r\nHost: reviews.test\r\nBad Header: x\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
check "Expect on a 404 route: no 100 Continue" test "$(st 'POST / HTTP/1.1\r\nHost: nope.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n')" = "HTTP/1.1 404 Not Found"
check "Expect on a route: 100 Continue first" test "$(st 'POST / HTTP/1.1\r\nHost: reviews.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n')" = "HTTP/1.1 100 Continue"
check "no Host in HTTP/1.1 -> 400" test "$(st 'GET / HTTP/1.1\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
check "two Hosts -> 400" test "$(st 'GET / HTTP/1.1\r\nHost: reviews.test\r\nHost: x\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
check "TE gzip -> 400" test "$(st 'POST / HTTP/1.1\r\nHost: reviews.test\r\nTransfer-Encoding: gzip\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
big=$(head -c 70000 /dev/zero | tr '\0' a)
check "headers over 60 KiB -> 431" test "$(st "GET / HTTP/1.1\\r\\nHost: reviews.test\\r\\nX-Big: $big\\r\\n\\r\\n")" = "HTTP/1.1 431 Request Header Fields Too Large"
ans=$(raw 127.0.0.1 80 'POST / HTTP/1.1\r\nHost: reviews.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: reviews.test\r\n\r\n')
check "nothing smuggled after a 400" sh -c "! echo '$ans' | grep -q smuggled"
# HTTP/1.0 is served (no 426)
check "HTTP/1.0 served" test "$(st 'GET /ten HTTP/1.0\r\nHost: reviews.test\r\n\r\n')" = "HTTP/1.1 200 OK"

# WebSocket: 101, then bytes both ways, across a reload (a new snapshot)
cat > "$tmp/ws-backend.py" <<'PY'
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.244.4.1", 9090)); s.listen(8)
def serve(c):
    head = b""
    while b"\r\n\r\n" not in head:
        d = c.recv(4096)
        if not d:
            return
        head += d
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    rest = head.split(b"\r\n\r\n", 1)[1]
    if rest:
        c.sendall(rest)
    while True:
        d = c.recv(4096)
        if not d:
            break
        c.sendall(d)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
inns timeout 60 python3 "$tmp/ws-backend.py" &
wait_for 5 inns python3 -c 'import socket; socket.create_connection(("10.244.4.1", 9090), 1)'
ws=$(inns python3 - $VIP $pid "$tmp/objs" <<'PY'
import os, signal, socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=3)
s.sendall(b"GET /ws HTTP/1.1\r\nHost: reviews.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(4096)
out = [head.split(b"\r\n")[0].decode()]
def echo(m):
    s.sendall(m)
    got = b""
    while len(got) < len(m):
        got += s.recv(4096)
    return got.decode()
out.append(echo(b"ping1"))
open(os.path.join(sys.argv[3], "70-new.yaml"), "w").write(
    "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
    "metadata: {name: later, namespace: default}\n"
    "spec: {hosts: [later.test], gateways: [test-gateway], http: [{route: [{destination: {host: reviews}}]}]}\n")
os.kill(int(sys.argv[2]), signal.SIGHUP)
time.sleep(1)
out.append(echo(b"ping2"))
print("|".join(out))
PY
)
check "WebSocket across a reload (got '$ws')" test "$ws" = "HTTP/1.1 101 Switching Protocols|ping1|ping2"
check "the reload made a new route" sh -c "'$ctl' -s '$tmp/sock' --json gateway routes | grep -q later"

# a reload opens a new server port and closes a removed one
cat > "$tmp/objs/80-port.yaml" <<'EOC'
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: extra, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 9000, name: http-extra, protocol: HTTP}
    hosts: ["*.test"]
EOC
sed -i 's/gateways: \[test-gateway\]/gateways: [test-gateway, extra]/' "$tmp/objs/50-test.yaml"
kill -HUP $pid
wait_for 5 inns curl -sf -o /dev/null -H "Host: reviews.test" "http://$VIP:9000/p" && ok "reload: port 9000 opened" || fail "reload: port 9000 opened"
rm -f "$tmp/objs/80-port.yaml"
kill -HUP $pid
wait_for 10 sh -c "! ip netns exec $ns curl -s --max-time 2 -o /dev/null http://$VIP:9000/" && ok "reload: port 9000 closed" || fail "reload: port 9000 closed"
check "port 80 served all along" test "$(c -o /dev/null -w '%{http_code}' -H 'Host: reviews.test' "http://$VIP/p")" = 200

# slowloris: 500 connections trickling header bytes do not stop others being served
inns python3 - <<'PY' > "$tmp/slow.out" 2>&1 &
import socket, time
socks = []
for i in range(500):
    s = socket.create_connection(("127.0.0.1", 80))
    s.sendall(b"GET / HTTP/1.1\r\nHost: reviews.test\r\n")
    socks.append(s)
print("open", flush=True)
for r in range(8):
    for s in socks:
        try:
            s.sendall(b"X-a: b\r\n")
        except OSError:
            pass
    time.sleep(0.5)
PY
slow=$!
wait_for 10 grep -q open "$tmp/slow.out"
codes=$(for i in $(seq 20); do c -o /dev/null -w '%{http_code}' -H "Host: bookinfo.example.com" "http://$VIP/s"; done | tr -d '\n')
check "served during a slowloris ($codes)" test "$codes" = "$(printf '200%.0s' $(seq 20))"
kill $slow 2>/dev/null; wait $slow 2>/dev/null

# route timeout: 504 UT when the upstream stays silent
inns timeout 30 python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.244.4.1", 9091)); s.listen(8)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' &
wait_for 5 inns python3 -c 'import socket; socket.create_connection(("10.244.4.1", 9091), 1)'
out=$(c -o "$tmp/body" -w '%{http_code} %{time_total}' -H "Host: reviews.test" "http://$VIP/slow")
# 10 ms of slack: curl's clock and the loop's timer wheel are not the same clock
check "route timeout: 504 UT after 0.5 s (got '$out': $(cat "$tmp/body"))" sh -c "echo '$out' | awk '\$1 == 504 && \$2 >= 0.49 && \$2 < 2.0 {ok=1} END {exit !ok}' && grep -q 'upstream request timeout' '$tmp/body'"

# stats
c http://127.0.0.1:15020/stats/prometheus > "$tmp/metrics"
check "istio_requests_total with Istio labels" grep -q 'istio_requests_total{reporter="source".*destination_service="reviews.default.svc.cluster.local".*response_code="200"' "$tmp/metrics"
check "NR counted" grep -q 'response_code="404",grpc_response_status="",response_flags="NR"' "$tmp/metrics"
check "TCP connection counters" grep -q '^istio_tcp_connections_opened_total{.*} [1-9]' "$tmp/metrics"
check "duration histogram with Envoy buckets" grep -q 'istio_request_duration_milliseconds_bucket{.*le="3.6e+06"}' "$tmp/metrics"

# vipgatectl gateway views
check "vipgatectl gateway routes" sh -c "'$ctl' -s '$tmp/sock' --json gateway routes | grep -q reviews-gw"
check "vipgatectl gateway clusters" sh -c "'$ctl' -s '$tmp/sock' --json gateway clusters | grep -q 10.244.3.12"

# drain: health 503, exit 0
kill -TERM $pid
wait_for 2 sh -c "inns curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:15021/healthz/ready | grep -q 503" &&
	ok "draining: health 503" || ok "draining: health port already closed"
wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"
wait $pid; rc=$?
check "SIGTERM exits 0 (rc $rc)" test $rc -eq 0
pid=

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
