#!/usr/bin/env bash
# The PROXY protocol end to end (issue 20): gateway.proxy_protocol with
# HAProxy in front as the client's proxy (send-proxy and send-proxy-v2) to
# plain HTTP, terminated HTTPS, TLS passthrough and TCP listeners; the
# carried client address in x-forwarded-for, remoteIpBlocks and the access
# log; DestinationRule proxyProtocol to HAProxy as the receiving backend
# (accept-proxy, plain and under TLS, for TCP and HTTP routes), which answers with the source it
# read; a header in 1-byte segments, LOCAL, a connection without a header
# and one that sends nothing, closed and counted.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"
for t in haproxy openssl; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

H=10.244.5.10 B=10.244.1.10 HB=10.244.6.10 C1=10.244.7.10 C2=10.244.7.20
gw_ns_up $H $B $HB $C1 $C2
VIP=192.168.1.200

pki=$tmp/pki
for n in gw be hb; do gw_selfsigned $n $n.test; done
cat "$pki/hb.crt" "$pki/hb.key" > "$pki/hb.pem"

# nginx: plain HTTP answering with the x-forwarded-for it got; TLS for the passthrough
NGX_EXTRA="  server { listen $B:8080; location / { default_type text/plain;
    return 200 \"xff=\$http_x_forwarded_for\\n\"; } }" \
	nginx_tls_start "$B:8443 be pass" || { fail "nginx did not start"; exit 1; }

# HAProxy: in front as the client's proxy (send-proxy, send-proxy-v2), and
# behind as a backend that takes the gateway's header (accept-proxy) and
# answers with the addresses it read
cat > "$tmp/haproxy.cfg" <<EOC
global
	maxconn 256
defaults
	mode tcp
	timeout connect 5s
	timeout client 10s
	timeout server 10s
listen http-v1
	bind $H:8080
	server gw $VIP:80 send-proxy
listen http-v2
	bind $H:8082
	server gw $VIP:80 send-proxy-v2
listen https-v2
	bind $H:8443
	server gw $VIP:443 send-proxy-v2
listen pass-v1
	bind $H:9443
	server gw $VIP:9443 send-proxy
listen tcp-v2
	bind $H:7000
	server gw $VIP:7000 send-proxy-v2
listen tcp-v1-tlsup
	bind $H:7003
	server gw $VIP:7003 send-proxy
frontend seen
	mode http
	bind $HB:17001 accept-proxy
	bind $HB:17002 accept-proxy
	bind $HB:17003 accept-proxy ssl crt $pki/hb.pem
	bind $HB:17004 accept-proxy
	http-request return status 200 content-type text/plain lf-string "src=%[src]:%[src_port] dst=%[dst]:%[dst_port] ssl=%[ssl_fc]\n"
EOC
inns haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.out" 2>&1 &
wait_for 5 sh -c "ip netns exec $ns ss -Hltn | grep -q '$HB:17003'" ||
	{ fail "haproxy did not start"; cat "$tmp/haproxy.out"; exit 1; }

mkdir -p "$tmp/objs"
cp "$src"/etc/objects.d/*.yaml "$tmp/objs/"
svc() { # name ip port
	cat <<EOC
---
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: default}
spec: {ports: [{port: $3, name: tcp}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: $1, namespace: default}
subsets: [{addresses: [{ip: $2}], ports: [{port: $3, name: tcp}]}]
EOC
}
{
	svc app $B 8080; svc be $B 8443; svc hb1 $HB 17001; svc hb2 $HB 17002; svc hbtls $HB 17003; svc hbh $HB 17004
	cat <<'EOC'
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: pp, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [gw.test]
    tls: {mode: SIMPLE, credentialName: pp-cred}
  - port: {number: 9443, name: tls-pass, protocol: TLS}
    hosts: [be.test]
    tls: {mode: PASSTHROUGH}
  - port: {number: 7000, name: tcp-v2, protocol: TCP}
    hosts: ["*"]
  - port: {number: 7001, name: tcp-v1, protocol: TCP}
    hosts: ["*"]
  - port: {number: 7003, name: tcp-tlsup, protocol: TCP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: ["*"]
  gateways: [pp]
  http:
  - match: [{uri: {prefix: /hb}}]
    route: [{destination: {host: hbh, port: {number: 17004}}}]
  - route: [{destination: {host: app, port: {number: 8080}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: l4, namespace: default}
spec:
  hosts: ["*"]
  gateways: [pp]
  tls:
  - match: [{sniHosts: [be.test]}]
    route: [{destination: {host: be, port: {number: 8443}}}]
  tcp:
  - match: [{port: 7000}]
    route: [{destination: {host: hb2, port: {number: 17002}}}]
  - match: [{port: 7001}]
    route: [{destination: {host: hb1, port: {number: 17001}}}]
  - match: [{port: 7003}]
    route: [{destination: {host: hbtls, port: {number: 17003}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: hb1, namespace: default}
spec: {host: hb1, trafficPolicy: {proxyProtocol: {version: V1}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: hb2, namespace: default}
spec: {host: hb2, trafficPolicy: {proxyProtocol: {version: V2}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: hbh, namespace: default}
spec: {host: hbh, trafficPolicy: {proxyProtocol: {version: V1}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: hbtls, namespace: default}
spec:
  host: hbtls
  trafficPolicy:
    proxyProtocol: {version: V2}
    tls: {mode: SIMPLE, sni: hb.test, insecureSkipVerify: true}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-c2, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules:
  - from: [{source: {remoteIpBlocks: ["10.244.7.20/32"]}}]
EOC
} > "$tmp/objs/60-pp.yaml"
gw_secret pp-cred "$pki/gw.crt" "$pki/gw.key" >> "$tmp/objs/60-pp.yaml"

GW_ALOG_FORMAT=json GW_EXTRA="proxy_protocol: true" vipgated_start ||
	{ fail "vipgated not ready"; exit 1; }
wait_for 5 sh -c "ip -n $ns -o addr show dev lo | grep -q ' $VIP/'" || fail "VIP not local"

# a connection that sends nothing: closed after 15 s (checked at the end)
inns python3 -c "
import socket, time
s = socket.create_connection(('$VIP', 80), timeout=25); t = time.time()
try:
    d = s.recv(10)
except OSError:
    d = b'?'
print(d, round(time.time() - t))" > "$tmp/silent.out" 2>&1 &
silent_pid=$!

# ---- HTTP and HTTPS behind HAProxy ----
get() { inns curl -s --max-time 5 --interface "$@"; }
out=$(get $C1 http://$H:8080/a)
check "send-proxy (v1) to HTTP: x-forwarded-for is the client's ($out)" test "$out" = "xff=$C1"
out=$(get $C1 http://$H:8082/b)
check "send-proxy-v2 to HTTP: x-forwarded-for is the client's ($out)" test "$out" = "xff=$C1"
out=$(get $C1 -k --resolve gw.test:8443:$H https://gw.test:8443/c)
check "send-proxy-v2 to terminated HTTPS: x-forwarded-for is the client's ($out)" test "$out" = "xff=$C1"
code=$(get $C2 -o /dev/null -w '%{http_code}' http://$H:8082/d)
check "remoteIpBlocks DENY of the carried address: 403 ($code)" test "$code" = 403
code=$(get $C1 -o /dev/null -w '%{http_code}' http://$H:8080/e)
check "... another client through the same proxy: 200 ($code)" test "$code" = 200

# ---- TLS passthrough and TCP, and the header sent on upstream ----
s=$(inns timeout 5 openssl s_client -connect $H:9443 -servername be.test </dev/null 2>/dev/null |
	openssl x509 -noout -subject 2>/dev/null | tr -d ' ')
check "send-proxy to a PASSTHROUGH server: the backend's certificate ($s)" sh -c "echo '$s' | grep -q 'O=be'"
out=$(get $C1 -k --resolve be.test:9443:$H https://be.test:9443/)
check "... and the backend's answer through it ($out)" test "$out" = "pass be.test"
out=$(inns curl -s --max-time 5 --interface $C1 http://$H:7000/f)
check "send-proxy-v2 in, V2 out: HAProxy saw the client ($out)" \
	sh -c "echo '$out' | grep -q '^src=$C1:[0-9]* dst=$H:7000 ssl=0$'"
out=$(inns curl -s --max-time 5 --interface $C1 http://$H:7003/g)
check "send-proxy in, V2 out ahead of TLS: HAProxy saw the client over TLS ($out)" \
	sh -c "echo '$out' | grep -q '^src=$C1:[0-9]* dst=$H:7003 ssl=1$'"

# an HTTP route to a cluster with proxyProtocol: the client's connection,
# and a pooled upstream connection never carries another client's header
a=$(get $C1 http://$H:8080/hb1); b=$(get $C1 http://$H:8082/hb2)
check "HTTP route, proxyProtocol V1 upstream: HAProxy saw the client ($a)" \
	sh -c "echo '$a' | grep -q '^src=$C1:[0-9]* dst=$H:8080 ssl=0$'"
check "... a second client connection, its own header ($b)" \
	sh -c "echo '$b' | grep -q '^src=$C1:[0-9]* dst=$H:8082 ssl=0$' && [ '${a%% *}' != '${b%% *}' ]"
out=$(get $C1 -k --http2 --resolve gw.test:8443:$H https://gw.test:8443/hb3)
check "... from HTTP/2 over TLS ($out)" sh -c "echo '$out' | grep -q '^src=$C1:[0-9]* dst=$H:8443 ssl=0$'"

# ---- headers by hand: split, LOCAL, none ----
cat > "$tmp/pp.py" <<'PY'
import socket, sys, time
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
req = b'GET /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
s = socket.create_connection((host, port), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
if mode == 'split':
    for b in b'PROXY TCP4 203.0.113.7 192.168.1.200 40000 80\r\n':
        s.send(bytes([b])); time.sleep(0.002)
    s.sendall(req)
elif mode == 'local':
    s.sendall(b'\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00' + req)
elif mode == 'v2tlv':
    s.sendall(b'\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x11' + bytes([203, 0, 113, 9, 192, 168, 1, 200]) +
              b'\x9c\x40\x00\x50' + b'\x01\x00\x02h1' + req)
else:
    s.sendall(req)
out = b''
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except OSError:
    pass
print(out.split(b'\r\n\r\n', 1)[-1].decode().strip() if out else 'closed')
PY
pp() { inns python3 "$tmp/pp.py" "$@" 2>&1; }
before=$(metric vipgate_gateway_downstream_cx_proxy_proto_error_total)
out=$(pp $VIP 80 split)
check "a v1 header in 1-byte segments: its address in x-forwarded-for ($out)" test "$out" = "xff=203.0.113.7"
out=$(pp $VIP 80 v2tlv)
check "a v2 header with a TLV ($out)" test "$out" = "xff=203.0.113.9"
out=$(pp $VIP 80 local)
check "v2 LOCAL: the connection's own address ($out)" test "$out" = "xff=$VIP"
out=$(pp $VIP 80 none)
check "no header on HTTP: closed without an answer ($out)" test "$out" = closed
s=$(inns timeout 5 openssl s_client -connect $VIP:443 -servername gw.test </dev/null 2>/dev/null | grep -c 'BEGIN CERT')
check "no header on HTTPS: no handshake ($s certificates)" test "$s" = 0
out=$(pp $VIP 7000 none)
check "no header on TCP: closed ($out)" test "$out" = closed
after=$(metric vipgate_gateway_downstream_cx_proxy_proto_error_total)
check "vipgate_gateway_downstream_cx_proxy_proto_error_total counts them ($before -> $after)" \
	test "$after" -ge $((before + 3))

# ---- the access log has the carried addresses ----
wait_for 3 grep -q hbtls "$tmp/access.log"
check "access log: HTTP lines from the carried client" python3 -c '
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
h = [l for l in ls if l.get("path") == "/a"]
assert h and h[0]["downstream_remote_address"] == sys.argv[2], h
d = [l for l in ls if l.get("path") == "/d"]
assert d and d[0]["response_code"] == "403" and d[0]["downstream_remote_address"] == sys.argv[3], d
' "$tmp/access.log" $C1 $C2
check "access log: TCP and passthrough lines from the carried client" python3 -c '
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
t = [l for l in ls if "hb2.default" in (l.get("upstream_cluster") or "")]
assert t and t[0]["downstream_remote_address"] == sys.argv[2], t
p = [l for l in ls if l.get("requested_server_name") == "be.test"]
assert p and any(x["downstream_remote_address"] == sys.argv[2] for x in p), p
' "$tmp/access.log" $C1

wait_for 25 sh -c "! kill -0 $silent_pid 2>/dev/null"
out=$(cat "$tmp/silent.out")
case $out in "b'' 15" | "b'' 16" | "b'' 17") r=0 ;; *) r=1 ;; esac
check "no byte within 15 s: closed ($out)" test $r = 0

term_check
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
