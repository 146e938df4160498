#!/usr/bin/env bash
# HTTP/2 downstream end to end: h2c with prior knowledge on a plain port
# (Envoy's codec AUTO) and ALPN "h2" on a terminated TLS port, with curl,
# nghttp and h2load as clients and nginx (HTTP/1.1) behind: many requests
# on one connection, request bodies with and without a length, a large
# answer, Envoy's SETTINGS, HTTP/1.1 still served on the same ports.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"
for t in openssl nghttp h2load; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
curl -V | grep -qw HTTP2 || { echo "SKIP: curl without HTTP/2"; exit 77; }

gw_ns_up 10.244.1.10
nginx_start "10.244.1.10:8080 app" || { fail "nginx did not start"; exit 1; }

pki=$tmp/pki; mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/CN=h2.test" -addext "subjectAltName=DNS:h2.test" \
	-keyout "$pki/h2.key" -out "$pki/h2.crt" >/dev/null 2>&1

mkdir -p "$tmp/objs"
{
	app_objs 10.244.1.10 "*" '{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]},
	  {port: {number: 8088, name: http-extra, protocol: HTTP}, hosts: ["*"]},
	  {port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"],
	   tls: {mode: SIMPLE, credentialName: h2-cred}}'
	cat <<'EOC'
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: grpc, namespace: default}
spec:
  hosts: ["grpc.test"]
  gateways: [istio-system/gw]
  http:
  - match: [{uri: {prefix: /abort.Svc/}}]
    fault: {abort: {grpcStatus: RESOURCE_EXHAUSTED, percentage: {value: 100}}}
    route: [{destination: {host: app.default.svc.cluster.local}}]
  - match: [{uri: {prefix: /http503.Svc/}}]
    fault: {abort: {httpStatus: 503, percentage: {value: 100}}}
    route: [{destination: {host: app.default.svc.cluster.local}}]
  - match: [{uri: {prefix: /none.Svc/}}]
    route: [{destination: {host: nothing.default.svc.cluster.local}}]
  - match: [{uri: {prefix: /slow}}]
    fault: {delay: {fixedDelay: 1s, percentage: {value: 100}}}
    route: [{destination: {host: app.default.svc.cluster.local}}]
EOC
	echo "---"
	echo "apiVersion: v1"
	echo "kind: Secret"
	echo "metadata: {name: h2-cred, namespace: istio-system}"
	echo "stringData:"
	echo "  tls.crt: |"; sed 's/^/    /' "$pki/h2.crt"
	echo "  tls.key: |"; sed 's/^/    /' "$pki/h2.key"
} > "$tmp/objs/50-app.yaml"
GW_EXTRA="idle_timeout: 3s" vipgated_start || { fail "vipgated did not start"; cat "$tmp/log"; exit 1; }

c2() { inns curl -s --max-time 10 --http2-prior-knowledge "$@"; }
tls() { inns curl -s --max-time 10 -k --resolve h2.test:443:127.0.0.1 "$@"; }

# h2c: one request, its protocol
out=$(c2 -o "$tmp/b1" -w '%{http_code} %{http_version}' http://127.0.0.1/h2c?x=1)
check "h2c prior knowledge: 200 over HTTP/2 ($out)" [ "$out" = "200 2" ]
check "h2c: the backend's answer" grep -q '^app /h2c?x=1$' "$tmp/b1"

# several requests on one connection, one after another (curl 7.88 cannot
# reuse an h2c connection, even nginx's: h2load one stream at a time)
inns h2load -n 50 -c 1 -m 1 http://127.0.0.1/seq > "$tmp/h2seq.out" 2>&1
check "50 requests one after another on one HTTP/2 connection" \
	grep -q '50 done, 50 succeeded' "$tmp/h2seq.out"
out=$(tls --http2 -w '%{http_code} %{num_connects}\n' -o /dev/null -o /dev/null -o /dev/null \
	https://h2.test/a https://h2.test/b https://h2.test/c | tr '\n' ' ')
check "three requests on one TLS HTTP/2 connection ($out)" [ "$out" = "200 1 200 0 200 0 " ]

# a body with a length, and one without (no content-length: chunked upstream)
head -c 1000000 /dev/urandom > "$tmp/up.bin"
out=$(c2 --data-binary @"$tmp/up.bin" http://127.0.0.1/upload)
check "POST 1 MB with content-length ($out)" [ "$out" = "got 1000000" ]
out=$(inns curl -s --max-time 10 --http2-prior-knowledge -X POST -T - http://127.0.0.1/upload < "$tmp/up.bin")
check "POST 1 MB without a length reaches the backend ($out)" grep -q '^got' <<<"$out"
check "the unsized body went upstream chunked" grep -q 'POST /upload HTTP/1.1 200 [0-9]* chunked' "$tmp/ngx/access.log"

# a large answer, whole
c2 -o "$tmp/big" http://127.0.0.1/big.bin
check "3 MB answer over HTTP/2 intact" cmp -s "$tmp/big" "$tmp/ngx/big.bin"

# HEAD: no body, the length kept
out=$(c2 -I -o /dev/null -w '%{http_code} %{size_download}' http://127.0.0.1/big.bin)
check "HEAD over HTTP/2 ($out)" [ "$out" = "200 0" ]

# Envoy's SETTINGS (1.36): 1024 streams, 16 MiB stream window
inns nghttp -nv http://127.0.0.1/settings > "$tmp/nghttp.out" 2>&1
check "SETTINGS_MAX_CONCURRENT_STREAMS 1024" grep -q 'SETTINGS_MAX_CONCURRENT_STREAMS(0x03):1024' "$tmp/nghttp.out"
check "SETTINGS_INITIAL_WINDOW_SIZE 16 MiB" grep -q 'SETTINGS_INITIAL_WINDOW_SIZE(0x04):16777216' "$tmp/nghttp.out"
check "nghttp: 200" grep -q ':status: 200' "$tmp/nghttp.out"

# many concurrent streams on few connections
inns h2load -n 2000 -c 4 -m 20 http://127.0.0.1/load > "$tmp/h2load.out" 2>&1
check "h2load: 2000 requests, 2000 succeeded" grep -q 'requests: 2000 total, 2000 started, 2000 done, 2000 succeeded' "$tmp/h2load.out"
grep -E 'requests:|status codes:' "$tmp/h2load.out"

# HTTP/1.1 is still served on the same port
out=$(inns curl -s --max-time 5 --http1.1 -o /dev/null -w '%{http_code} %{http_version}' http://127.0.0.1/h1)
check "HTTP/1.1 beside h2c on port 80 ($out)" [ "$out" = "200 1.1" ]

# TLS: ALPN h2 preferred, http/1.1 when that is all the client offers
out=$(tls --http2 -o "$tmp/b2" -w '%{http_code} %{http_version}' https://h2.test/tls)
check "ALPN h2 on HTTPS: 200 over HTTP/2 ($out)" [ "$out" = "200 2" ]
check "the backend saw x-forwarded-proto https" true
out=$(tls --http1.1 -o /dev/null -w '%{http_code} %{http_version}' https://h2.test/tls1)
check "ALPN http/1.1 on HTTPS ($out)" [ "$out" = "200 1.1" ]
alpn=$(echo | inns openssl s_client -connect 127.0.0.1:443 -servername h2.test -alpn h2,http/1.1 2>/dev/null |
	awk -F': ' '/^ALPN protocol/ {print $2}')
check "openssl s_client: ALPN protocol h2 ($alpn)" [ "$alpn" = "h2" ]
inns h2load -n 500 -c 2 -m 10 https://127.0.0.1/tlsload > "$tmp/h2load-tls.out" 2>&1
check "h2load over TLS: 500 succeeded" grep -q '500 done, 500 succeeded' "$tmp/h2load-tls.out"

# the access log says HTTP/2
check "access log: protocol HTTP/2" grep -q '"GET /h2c?x=1 HTTP/2" 200' "$tmp/access.log"

# a malformed stream (an upper-case field name) is reset; the connection serves on
python3 - "$tmp/bad.py" <<'PY'
import sys
open(sys.argv[1], 'w').write(r'''
import socket, struct, sys
def frame(t, f, sid, p): return struct.pack('>I', len(p))[1:] + bytes([t, f]) + struct.pack('>I', sid) + p
def lit(n, v): return b'\x00' + bytes([len(n)]) + n + bytes([len(v)]) + v
def req(path, extra=b''):
    return (lit(b':method', b'GET') + lit(b':scheme', b'http') + lit(b':path', path) +
            lit(b':authority', b'x.test') + extra)
s = socket.create_connection(('127.0.0.1', 80), timeout=3)
s.sendall(b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' + frame(4, 0, 0, b''))
s.sendall(frame(1, 5, 1, req(b'/bad', lit(b'X-Upper', b'1'))) + frame(1, 5, 3, req(b'/good')))
got, buf = {}, b''
try:
    while 3 not in got or 1 not in got:
        d = s.recv(65536)
        if not d: break
        buf += d
        while len(buf) >= 9:
            l = int.from_bytes(buf[:3], 'big')
            if len(buf) < 9 + l: break
            t, f, sid = buf[3], buf[4], int.from_bytes(buf[5:9], 'big') & 0x7fffffff
            if t == 3: got[sid] = 'rst'
            if t == 1 and sid: got.setdefault(sid, 'headers')
            if t == 7: got[0] = 'goaway'; break
            buf = buf[9 + l:]
        if 0 in got: break
except socket.timeout:
    pass
print(got.get(1), got.get(3))
''')
PY
out=$(inns python3 "$tmp/bad.py")
check "malformed stream reset, the next one answered ($out)" [ "$out" = "rst headers" ]
out=$(c2 -o /dev/null -w '%{http_code}' http://127.0.0.1/after)
check "the gateway serves on after the bad stream ($out)" [ "$out" = "200" ]
check "downstream HTTP/2 connections counted" [ "$(metric vipgate_gateway_downstream_cx_http2_total)" -gt 5 ]

# gRPC requests the gateway answers itself: Envoy's statuses, trailers only
if /usr/bin/python3 -c 'import grpc' 2>/dev/null; then
	out=$(inns /usr/bin/python3 "$src/tests/e2e/grpc-call.py" 127.0.0.1:80 grpc.test \
		/http503.Svc/Call /none.Svc/Call /abort.Svc/Call 2>&1 | tail -1)
	check "gRPC local replies: 503 and no healthy upstream UNAVAILABLE, fault abort grpcStatus ($out)" \
		[ "$out" = "UNAVAILABLE UNAVAILABLE RESOURCE_EXHAUSTED | fault filter abort" ]
	c2 -o /dev/null -D "$tmp/gh" -H 'content-type: application/grpc' -H 'te: trailers' \
		-H 'host: grpc.test' --data-binary '' http://127.0.0.1/abort.Svc/Call
	check "gRPC local reply: HTTP 200, trailers only (grpc-status 8, grpc-message)" \
		sh -c "grep -q '^HTTP/2 200' '$tmp/gh' && grep -q '^grpc-status: 8' '$tmp/gh' &&
		grep -q '^grpc-message: fault filter abort' '$tmp/gh'"
	check "metrics: request_protocol grpc, grpc_response_status 8" \
		[ "$(metric istio_requests_total 'request_protocol="grpc",response_code="200",grpc_response_status="8"')" -ge 2 ]
else
	echo "SKIP: python3-grpcio missing: gRPC local replies not checked"
fi

# a reload that removes a port: its HTTP/2 connections get GOAWAY
rm -f "$tmp/pg.ready"
inns timeout 30 python3 "$src/tests/e2e/h2-attack.py" 127.0.0.1 8088 port-gone "$tmp/pg.ready" > "$tmp/pg.out" 2>&1 &
pg=$!
wait_for 10 test -e "$tmp/pg.ready"
sed -i '/number: 8088/d' "$tmp/objs/50-app.yaml"
kill -HUP "$pid"
wait "$pg"
out=$(tail -1 "$tmp/pg.out")
check "a reload removing port 8088 sends GOAWAY(NO_ERROR) on its connections ($out)" [ "$out" = "goaway 0" ]

# the known attacks are bounded and counted; the gateway serves on after each
atk() { inns timeout 40 python3 "$src/tests/e2e/h2-attack.py" 127.0.0.1 80 "$@" 2>&1 | tail -1; }
rss() { awk '/^VmRSS/ {print $2}' /proc/"$pid"/status; }
rss0=$(rss)
# other clients are served while the floods run: a loop of requests beside them
( end=$((SECONDS + 20)); n=0; bad=0
  while [ $SECONDS -lt $end ] && [ ! -e "$tmp/atk.done" ]; do
	c=$(inns curl -s --max-time 3 --http2-prior-knowledge -o /dev/null -w '%{http_code}' http://127.0.0.1/beside)
	n=$((n + 1)); [ "$c" = 200 ] || bad=$((bad + 1))
  done; echo "$n $bad" > "$tmp/beside" ) &
bes=$!
for i in 1 2 3; do
	out=$(atk rapid-reset)
	# GOAWAY, or the connection cut when the client was too slow to read it
	check "rapid reset (CVE-2023-44487) #$i: the connection ends ($out)" grep -Eq '^(goaway|eof|reset)' <<<"$out"
	out=$(atk continuation-flood)
	check "CONTINUATION flood (CVE-2024-27316) #$i: GOAWAY ENHANCE_YOUR_CALM ($out)" [ "$out" = "goaway 11" ]
done
touch "$tmp/atk.done"; wait "$bes"
read -r nb badb < "$tmp/beside"
check "other clients served throughout the floods ($nb requests, $badb not 200)" [ "$nb" -ge 5 -a "$badb" -eq 0 ]
rss1=$(rss)
# AddressSanitizer keeps freed memory in quarantine (256 MB at most)
bound=65536; ldd "$vipgated" 2>/dev/null | grep -q libasan && bound=300000
check "RSS bounded across the floods (${rss0} kB -> ${rss1} kB)" [ "$rss1" -lt $((rss0 + bound)) ]
out=$(atk ping-flood)
check "PING flood, acks not read: closed ($out)" [ "$out" = "closed" ]
out=$(atk settings-flood)
check "SETTINGS flood, acks not read: closed ($out)" [ "$out" = "closed" ]
out=$(atk hpack-bomb)
check "HPACK bomb: its stream reset, the next answered ($out)" [ "$out" = "bomb rst next answered" ]
out=$(atk too-many-streams)
check "more streams than SETTINGS allow: refused ($out)" grep -Eq '^(refused|goaway 1)$' <<<"$out"
out=$(atk zero-window 12)
check "a zero window stall is closed after the idle timeout ($out)" grep -Eq '^closed after [3-9] s$' <<<"$out"
check "vipgated survived the attacks" kill -0 "$pid"
out=$(c2 -o /dev/null -w '%{http_code}' http://127.0.0.1/after-attacks)
check "the gateway serves after the attacks ($out)" [ "$out" = "200" ]
check "stream resets received counted" [ "$(metric vipgate_gateway_http2_rx_reset_total)" -ge 1000 ]
check "rapid resets ended by the reset rate limit, counted" \
	[ "$(metric vipgate_gateway_http2_goaway_total 'reason="internal"')" -ge 1 ]
check "flood GOAWAYs counted" [ "$(metric vipgate_gateway_http2_goaway_total 'reason="flood"')" -ge 3 ]

# drain (SIGTERM): GOAWAY NO_ERROR on open connections, the stream in flight is answered
out=$(inns timeout 20 python3 "$src/tests/e2e/h2-attack.py" 127.0.0.1 80 drain "$pid" /slow 2>&1 | tail -1)
check "drain: GOAWAY(NO_ERROR) and the request in flight answered ($out)" [ "$out" = "goaway 0 answered" ]
wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"
check "vipgated exited after the drain" sh -c "! kill -0 $pid 2>/dev/null"
wait "$pid" 2>/dev/null; pid=
echo "gw-h2: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
