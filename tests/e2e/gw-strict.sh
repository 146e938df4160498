#!/usr/bin/env bash
# The gateway against hostile request heads, end to end: route rules hold
# whatever form the target takes (absolute form, dot segments, escapes,
# slashes, per gateway.path_normalization), header lines RFC 9112 forbids
# get 400 and never reach the backend, only WebSocket upgrades become
# tunnels, header_timeout is a deadline for the whole head, and HTTP/1.0
# gets no 100 Continue.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"

gw_ns_up 10.244.8.1 10.244.8.2
# a backend that switches to any protocol it is offered and then echoes
# bytes, and logs each head it reads: what a hostile or careless upstream
# does with "Upgrade: h2c"
cat > "$tmp/switch.py" <<'PY'
import socket, sys, threading
log = open(sys.argv[1], 'a', buffering=1)
# answers whose heads break RFC 9112's line rules, and legal oddities
canned = {
    '/r-space': b'HTTP/1.1 200 OK\r\nX Y: z\r\nContent-Length: 2\r\n\r\nok',
    '/r-colon': b'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok',
    '/r-fold': b'HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\nContent-Length: 2\r\n\r\nok',
    '/r-cr': b'HTTP/1.1 200 OK\r\nX-A: b\rSet-Cookie: evil=1\r\nContent-Length: 2\r\n\r\nok',
    '/r-after-100': b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX Y: z\r\nContent-Length: 2\r\n\r\nok',
    '/r-100-ok': b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    '/r-tab': b'HTTP/1.1 200 All\tfine\r\nContent-Length: 2\r\n\r\nok',
    '/r-cl-te': b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    '/r-2cl': b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!',
}
def serve(c):
    buf = b''
    try:
        while True:
            while b'\r\n\r\n' not in buf:
                d = c.recv(65536)
                if not d:
                    return
                buf += d
            head, buf = buf.split(b'\r\n\r\n', 1)
            lines = head.decode('latin-1').split('\r\n')
            log.write(' | '.join(lines) + '\n')
            hdrs = {l.split(':', 1)[0].strip().lower(): l.split(':', 1)[1].strip() for l in lines[1:] if ':' in l}
            if 'upgrade' in hdrs:
                c.sendall(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: ' + hdrs['upgrade'].encode() +
                          b'\r\nConnection: Upgrade\r\n\r\n')
                c.sendall(b'TUNNEL:' + buf)
                while True:
                    d = c.recv(65536)
                    if not d:
                        return
                    c.sendall(b'TUNNEL:' + d)
            path = lines[0].split(' ')[1]
            if path in canned:
                c.sendall(canned[path])
                continue
            body = ('plain ' + path + '\n').encode()
            c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: x-drop-me\r\nX-Drop-Me: 1\r\n\r\n' % len(body) + body)
    except OSError:
        pass
    finally:
        c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('10.244.8.2', 8080))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
inns python3 "$tmp/switch.py" "$tmp/switch.log" &
mkdir -p "$tmp/ngx"
{
	echo "daemon off; user root; worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/ngx/error.log;"
	echo "events { worker_connections 1024; }"
	echo "http { log_format raw '\$request|\$http_host|\$http_transfer_encoding|\$http_content_length|\$http_x_y|\$http_upgrade|\$http_http2_settings';"
	echo "  access_log $tmp/ngx/access.log raw; client_body_temp_path $tmp/ngx;"
	echo "  map \$http_upgrade \$up { default \"\"; websocket ws; h2c h2c; }"
	echo "  server { listen 10.244.8.1:8080; merge_slashes on;"
	echo "    location /ws { if (\$up = ws) { return 200 \"ws\"; } return 200 \"plain\"; }"
	echo "    location / { default_type text/plain; return 200 \"backend host=\$host uri=\$request_uri\\n\"; } }"
	echo "}"
} > "$tmp/ngx/nginx.conf"
inns nginx -c "$tmp/ngx/nginx.conf" -p "$tmp/ngx" >"$tmp/ngx/out" 2>&1 &
wait_for 5 test -s "$tmp/nginx.pid" || { fail "nginx did not start"; cat "$tmp/ngx/error.log"; exit 1; }

mkdir -p "$tmp/objs" "$tmp/pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/CN=app.test" -addext "subjectAltName=DNS:app.test" \
	-keyout "$tmp/pki/k.pem" -out "$tmp/pki/c.pem" >/dev/null 2>&1 || fail "openssl req"
{
	echo "apiVersion: v1"
	echo "kind: Secret"
	echo "metadata: {name: strict-cred, namespace: istio-system}"
	echo "stringData:"
	echo "  tls.crt: |"; sed 's/^/    /' "$tmp/pki/c.pem"
	echo "  tls.key: |"; sed 's/^/    /' "$tmp/pki/k.pem"
} > "$tmp/objs/secret.yaml"
cat > "$tmp/objs/strict.yaml" <<'EOC'
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: strict-cred}
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec: {ports: [{port: 8080, name: http}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: app, namespace: default}
subsets: [{addresses: [{ip: 10.244.8.1}], ports: [{port: 8080, name: http}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: default}
spec:
  hosts: [app.test]
  gateways: [edge]
  http:
  - match: [{uri: {prefix: /direct}}]
    directResponse: {status: 403, body: {string: "denied by route\n"}}
  - route: [{destination: {host: app}}]
---
apiVersion: v1
kind: Service
metadata: {name: switch, namespace: default}
spec: {ports: [{port: 8080, name: http}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: switch, namespace: default}
subsets: [{addresses: [{ip: 10.244.8.2}], ports: [{port: 8080, name: http}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: switch, namespace: default}
spec:
  hosts: [switch.test]
  gateways: [edge]
  http:
  - match: [{uri: {prefix: /direct}}]
    directResponse: {status: 403, body: {string: "denied by route\n"}}
  - route: [{destination: {host: switch}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: other, namespace: default}
spec:
  hosts: [other.test]
  gateways: [edge]
  http:
  - route: [{destination: {host: app}}]
    headers: {request: {set: {x-y: other-vhost}}}
EOC

start_with() { # start_with NORMALIZATION
	[ -n "$pid" ] && { stop "$pid"; pid=; }
	GW_EXTRA="path_normalization: $1, header_timeout: 2s" vipgated_start ||
		{ fail "vipgated did not become ready ($1)"; cat "$tmp/log"; exit 1; }
}
status() { head -1 | tr -d '\r' | awk '{print $2}'; }
req() { # req TARGET [HOST]: the status line's code of GET TARGET
	raw 127.0.0.1 80 "GET $1 HTTP/1.1\r\nHost: ${2:-app.test}\r\nConnection: close\r\n\r\n" | status
}

start_with BASE
code=$(req /direct)
check "the rule on /direct answers 403 ($code)" test "$code" = 403
for t in http://app.test/direct HTTP://APP.test/direct /x/../direct /./direct /%64irect \
    '/%2e%2e/direct' '/x/%2E%2e/direct' '/x\\..\\direct' '/x/./../direct'; do
	code=$(req "$t")
	check "BASE: GET $t is the rule on /direct ($code)" test "$code" = 403
done
code=$(req http://app.test/direct other.test)
check "absolute form: the URI's authority, not Host, picks the route ($code)" test "$code" = 403
r=$(raw 127.0.0.1 80 'GET http://other.test/x/../y?q=/../z HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n')
check "absolute form is forwarded in origin form with its authority as Host" \
	grep -q "backend host=other.test uri=/y?q=/../z" <<<"$r"
r=$(raw 127.0.0.1 80 'GET http://other.test/a HTTP/1.0\r\n\r\n')
check "absolute form without Host (HTTP/1.0) routes by its authority" \
	grep -q "backend host=other.test uri=/a" <<<"$r"
r=$(raw 127.0.0.1 80 'GET /a/%2e/b/%7Euser%2Fx?k=%2e HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n')
check "what is forwarded is what was matched (/a/b/~user%2Fx?k=%2e)" grep -q "uri=/a/b/~user%2Fx?k=%2e" <<<"$r"
r=$(raw 127.0.0.1 80 'GET //direct HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n')
check "BASE keeps // (Istio: only MERGE_SLASHES merges)" grep -q "uri=//direct" <<<"$r"
for t in '/a%00b' '/a#frag' 'http://u@app.test/direct' 'ftp://app.test/direct' 'direct' '*' \
    'http:///direct'; do
	code=$(req "$t")
	check "GET $t is refused with 400 ($code)" test "$code" = 400
done
r=$(raw 127.0.0.1 80 'OPTIONS * HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n')
check "OPTIONS * is passed to the backend (nginx itself refuses it)" \
	grep -qi "^x-envoy-upstream-service-time" <<<"$r"

# RFC 9112 5.1, 5.2: 400, the connection closed, nothing forwarded
i=0
for h in 'Content-Length : 5\r\n\r\nhello' 'X Y: z\r\n\r\n' \
    ' Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n' \
    'X-A: b\r\n c\r\n\r\n' 'X-A: b\r\n\tc\r\n\r\n' ': v\r\n\r\n' 'X(Y): z\r\n\r\n' \
    'X-A: b\rTransfer-Encoding: chunked\r\n\r\n' 'X-A: a\x01b\r\n\r\n' 'Content-Length\t: 5\r\n\r\nhello'; do
	i=$((i + 1))
	r=$(raw 127.0.0.1 80 "POST /badhead$i HTTP/1.1\r\nHost: app.test\r\n$h")
	check "bad head $i ($(printf %q "$h" | cut -c1-40)): $(head -1 <<<"$r" | tr -d '\r')" \
		sh -c "head -1 <<'R' | grep -q '^HTTP/1.1 400'
$r
R
! grep -q '^POST /badhead$i ' '$tmp/ngx/access.log'"
done
for h in 'app.test x' 'app.test/x' 'app.test\\x' 'a"b' 'app.test\xc3\xa9'; do
	r=$(raw 127.0.0.1 80 "GET /badhost HTTP/1.1\r\nHost: $h\r\nConnection: close\r\n\r\n")
	check "Host: $h gets 400: $(head -1 <<<"$r" | tr -d '\r')" grep -q "^HTTP/1.1 400" <<<"$r"
done
r=$(raw 127.0.0.1 80 'GET /badhost HTTP/1.0\r\nHost: a b\r\n\r\n')
check "an HTTP/1.0 Host is checked too" grep -q "^HTTP/1.1 400" <<<"$r"
r=$(raw 127.0.0.1 80 'GET /badhost HTTP/1.0\r\nHost: app.test\r\nHost: other.test\r\n\r\n')
check "two Hosts in HTTP/1.0 get 400" grep -q "^HTTP/1.1 400" <<<"$r"
check "no bad Host reached nginx" sh -c "! grep -q badhost '$tmp/ngx/access.log'"
r=$(raw 127.0.0.1 80 'GET /ok HTTP/1.1\r\nHost: app.test\r\nX-Y:\tfine\t\r\nConnection: close\r\n\r\n')
check "a tab around a value is fine" grep -q "uri=/ok" <<<"$r"
r=$(raw 127.0.0.1 80 'GET /p1 HTTP/1.1\r\nHost: app.test\r\n\r\nGET /p2 HTTP/1.1\r\nHost: app.test\r\nX Y: z\r\n\r\n')
check "a pipelined request after a good one is checked too" \
	sh -c "grep -q 'uri=/p1' <<'R' && grep -q '400 Bad Request' <<'R' && ! grep -q '^GET /p2' '$tmp/ngx/access.log'
$r
R
$r
R"

# Upgrade: only websocket becomes a tunnel (Istio's upgrade_configs); h2c
# and others are plain requests without their Upgrade, Connection and the
# fields Connection names, so the next request still meets the rules
wait_for 5 inns bash -c "echo > /dev/tcp/10.244.8.2/8080" || fail "switch backend did not start"
r=$(raw 127.0.0.1 80 'GET /a HTTP/1.1\r\nHost: switch.test\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings, X-Secret\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nX-Secret: s\r\n\r\nGET /direct HTTP/1.1\r\nHost: switch.test\r\nConnection: close\r\n\r\n')
# (a 101 status line or the backend's tunnel answer; "101" alone also
# matches a random x-request-id now and then)
check "h2c: answered as a plain request (no 101)" sh -c "grep -q 'plain /a' <<'R' && ! grep -q '^HTTP/1.1 101\|TUNNEL' <<'R'
$r
R
$r
R"
check "h2c: the request after it on the connection meets the rules (403)" grep -q "denied by route" <<<"$r"
l=$(grep '^GET /a ' "$tmp/switch.log")
check "h2c: Upgrade, HTTP2-Settings and the fields Connection names are not forwarded: $l" \
	sh -c "! grep -qi 'upgrade\|http2-settings\|x-secret' <<'R'
$l
R"
check "an answer's fields named by its Connection are dropped" sh -c "! grep -qi '^x-drop-me' <<'R'
$r
R"
r=$(raw 127.0.0.1 80 'GET /t HTTP/1.1\r\nHost: switch.test\r\nUpgrade: TLS/1.0, foo\r\nConnection: Upgrade\r\n\r\nGET /direct HTTP/1.1\r\nHost: switch.test\r\nConnection: close\r\n\r\n')
check "Upgrade: TLS/1.0 is no tunnel either" sh -c "grep -q 'plain /t' <<'R' && grep -q 'denied by route' <<'R'
$r
R
$r
R"
r=$(raw 127.0.0.1 80 'GET /ws HTTP/1.1\r\nHost: switch.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nping')
check "websocket still becomes a tunnel" sh -c "grep -q '101 Switching' <<'R' && grep -q 'TUNNEL:ping' <<'R'
$r
R
$r
R"
check "websocket: upgrade: websocket forwarded" grep -qi "GET /ws .*upgrade: websocket" "$tmp/switch.log"

# header_timeout (2s here) is a deadline for the head, however it trickles
cat > "$tmp/slow.py" <<'PY'
import socket, ssl, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(('127.0.0.1', port), timeout=10)
t0 = time.time()
if mode == 'head':
    s.sendall(b'GET / HTTP/1.1\r\nHost: app.test\r\n')
    chunks = [b'X-%d: v\r\n' % i for i in range(40)]
else:
    # a real ClientHello, a byte at a time
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(i, o, server_hostname='app.test')
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = o.read()
    chunks = [hello[k:k + 1] for k in range(len(hello) - 1)]
s.settimeout(0.3)
got = b''
for c in chunks:
    if time.time() - t0 > 12:
        break
    try:
        s.sendall(c)
        d = s.recv(4096)
        if not d:
            break
        got += d
        if mode == 'head':
            break
    except socket.timeout:
        continue
    except OSError:
        break
print('%s %.1f' % (got.split(b' ')[1].decode() if got.startswith(b'HTTP/') else 'closed', time.time() - t0))
PY
r=$(inns python3 "$tmp/slow.py" head 80)
check "a head trickled a line each 0.3 s gets 408 at the deadline ($r)" \
	awk -v r="$r" 'BEGIN { split(r, a, " "); exit !(a[1] == 408 && a[2] >= 1.8 && a[2] <= 3.5) }'
r=$(inns python3 "$tmp/slow.py" tls 8443)
check "a ClientHello trickled a byte each 0.3 s is cut off at the deadline ($r)" \
	awk -v r="$r" 'BEGIN { split(r, a, " "); exit !(a[1] == "closed" && a[2] >= 1.8 && a[2] <= 3.5) }'
code=$(inns curl -sk --max-time 5 -o /dev/null -w '%{http_code}' --resolve app.test:8443:127.0.0.1 https://app.test:8443/x)
check "HTTPS still serves ($code)" test "$code" = 200

# RFC 9110 10.1.1: no 100 Continue for HTTP/1.0
cat > "$tmp/expect.py" <<'PY'
import socket, sys
s = socket.create_connection(('127.0.0.1', 80), timeout=1)
s.sendall(('POST /e HTTP/%s\r\nHost: app.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n' % sys.argv[1]).encode())
first = b''
try:
    first = s.recv(4096)
except socket.timeout:
    pass
rest = b''
try:
    # an HTTP/1.0 answer may have come and the connection closed already
    s.sendall(b'hello')
    s.settimeout(3)
    while True:
        d = s.recv(4096)
        if not d:
            break
        rest += d
        if b'backend' in rest:
            break
except OSError:
    pass
print('100' if b'100 Continue' in first else 'no-100', 'final' if b' 200 OK' in first + rest else repr(first + rest))
PY
r=$(inns python3 "$tmp/expect.py" 1.1)
check "HTTP/1.1 with Expect gets 100 Continue ($r)" test "$r" = "100 final"
r=$(inns python3 "$tmp/expect.py" 1.0)
check "HTTP/1.0 with Expect gets no 100 Continue, then its answer ($r)" test "$r" = "no-100 final"

# answers whose heads break the line rules get 502, legal ones pass
for p in r-space r-colon r-fold r-cr r-after-100 r-cl-te r-2cl; do
	code=$(inns curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H 'Host: switch.test' "http://127.0.0.1/$p")
	check "upstream answer /$p is a protocol error: 502 ($code)" test "$code" = 502
done
for p in r-100-ok r-tab; do
	r=$(inns curl -s --max-time 5 -w ' %{http_code}' -H 'Host: switch.test' "http://127.0.0.1/$p")
	check "upstream answer /$p passes ($r)" test "$r" = "ok 200"
done

start_with MERGE_SLASHES
for t in //direct ///direct/x /a/..//direct; do
	code=$(req "$t")
	check "MERGE_SLASHES: GET $t is the rule on /direct ($code)" test "$code" = 403
done
r=$(raw 127.0.0.1 80 'GET /a//..//direct HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n')
check "MERGE_SLASHES after dot segments, as Envoy: /a//..//direct is /a/direct, matched and forwarded" \
	grep -q "uri=/a/direct" <<<"$r"
r=$(raw 127.0.0.1 80 'GET /%2Fdirect HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n')
check "MERGE_SLASHES keeps %2F" grep -q "uri=/%2Fdirect" <<<"$r"

start_with DECODE_AND_MERGE_SLASHES
for t in /%2Fdirect /%2fdirect /a%5C..%5Cdirect /a%2f..%2fdirect; do
	code=$(req "$t")
	check "DECODE_AND_MERGE_SLASHES: GET $t is the rule on /direct ($code)" test "$code" = 403
done

start_with NONE
r=$(raw 127.0.0.1 80 'GET /x/../y HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n')
check "NONE forwards the path as received" grep -q "uri=/x/../y" <<<"$r"
code=$(req http://app.test/direct)
check "NONE still routes an absolute form by its path ($code)" test "$code" = 403

# no request above that the gateway refused reached the backend
check "nginx never saw /direct nor an absolute form" \
	sh -c "! grep -q '^GET /direct\|^GET [a-zA-Z]*:' '$tmp/ngx/access.log'"

echo "gw-strict: $passes passed, $fails failed"
[ $fails -eq 0 ]
