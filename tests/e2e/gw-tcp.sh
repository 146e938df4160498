#!/usr/bin/env bash
# TCP and TLS passthrough end to end (issue 20): a PASSTHROUGH server routes
# by SNI to two nginx TLS backends that hold their own certificates (the
# client sees the backend's), an unknown SNI and a non-TLS client are
# closed, a ClientHello in 1-byte TCP segments, weights over a few hundred
# connections; a TCP server to an echo backend with half-close both ways,
# sourceSubnet, a backend killed mid-stream, PostgreSQL driven by psql,
# maxConnections, Istio's TCP series and the access log.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }

A=10.244.1.10 B=10.244.2.10 E=10.244.3.10 K=10.244.3.11 D=10.244.3.12 P=10.244.4.10
gw_ns_up $A $B $E $K $D $P
VIP=192.168.1.200

pki=$tmp/pki
gw_selfsigned a a.test backend-a
gw_selfsigned b b.test backend-b
# the gateway's own certificate for a TLS server that ends TLS before a tcp route
gw_selfsigned gw echo.test gateway-tls

# nginx: each backend terminates TLS with its own certificate on :8443
nginx_tls_start "$A:8443 a backend-a" "$B:8443 b backend-b" ||
	{ fail "nginx did not start"; exit 1; }

# an echo backend that half-closes after the client does, and one to kill
cat > "$tmp/echo.py" <<'PY'
import socket, sys, threading
def serve(c):
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            c.sendall(d)
        c.sendall(b'bye\n')		# after the client's FIN: the half-closed way still carries
        c.shutdown(socket.SHUT_WR)
        c.recv(1)
    except OSError:
        pass
    c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(128)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
cat > "$tmp/stall.py" <<'PY'
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
cs = []
while True:
    c, _ = s.accept(); c.sendall(b'hi\n'); cs.append(c)
PY
ip netns exec "$ns" python3 "$tmp/echo.py" $E 17000 & echo_pid=$!
# a backend that answers with the PROXY protocol header it was sent
cat > "$tmp/pp.py" <<'PY'
import socket, struct, sys, threading
def serve(c):
    b = b''
    while len(b) < 16:
        d = c.recv(256)
        if not d:
            return
        b += d
    if b.startswith(b'PROXY '):
        while b'\r\n' not in b:
            b += c.recv(256)
        c.sendall(b'v1 ' + b.split(b'\r\n')[0] + b'\n')
    elif b[:12] == b'\r\n\r\n\x00\r\nQUIT\n' and b[12] == 0x21 and b[13] == 0x11:
        while len(b) < 28:
            b += c.recv(256)
        sa, da = socket.inet_ntoa(b[16:20]), socket.inet_ntoa(b[20:24])
        sp, dp = struct.unpack('!HH', b[24:28])
        c.sendall(('v2 %s %s %d %d\n' % (sa, da, sp, dp)).encode())
    else:
        c.sendall(b'none\n')
    c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
ip netns exec "$ns" python3 "$tmp/pp.py" $E 17500 & pp_pid=$!
ip netns exec "$ns" python3 "$tmp/stall.py" $K 17100 & stall_pid=$!	# $!: python itself

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
	svc be-a $A 8443; svc be-b $B 8443; svc be-atls $A 8443; svc echo $E 17000; svc short $E 17000; svc pp1 $E 17500; svc pp2 $E 17500; svc stall $K 17100; svc pg $P 15432
	# two endpoints, one of them refusing connections ($D has no listener)
	cat <<EOC
---
apiVersion: v1
kind: Service
metadata: {name: flaky, namespace: default}
spec: {ports: [{port: 17000, name: tcp}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: flaky, namespace: default}
subsets: [{addresses: [{ip: $E}, {ip: $D}], ports: [{port: 17000, name: tcp}]}]
EOC
	cat <<'EOC'
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: l4, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 9443, name: tls-pass, protocol: TLS}
    hosts: [a.test, b.test, "*.w.test"]
    tls: {mode: PASSTHROUGH}
  - port: {number: 7000, name: tcp-echo, protocol: TCP}
    hosts: ["*"]
  - port: {number: 7100, name: tcp-stall, protocol: TCP}
    hosts: ["*"]
  - port: {number: 5432, name: tcp-pg, protocol: TCP}
    hosts: ["*"]
  - port: {number: 7501, name: tcp-pp1, protocol: TCP}
    hosts: ["*"]
  - port: {number: 7502, name: tcp-pp2, protocol: TCP}
    hosts: ["*"]
  - port: {number: 7600, name: tcp-origination, protocol: TCP}
    hosts: ["*"]
  - port: {number: 7300, name: tcp-short, protocol: TCP}
    hosts: ["*"]
  - port: {number: 7200, name: tcp-flaky, protocol: TCP}
    hosts: ["*"]
  - port: {number: 7443, name: tls-echo, protocol: TLS}
    hosts: [echo.test]
    tls: {mode: SIMPLE, credentialName: tcp-cred}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pass, namespace: default}
spec:
  hosts: [a.test, b.test, "*.w.test"]
  gateways: [l4]
  tls:
  - match: [{sniHosts: [a.test]}]
    route: [{destination: {host: be-a, port: {number: 8443}}}]
  - match: [{sniHosts: [b.test]}]
    route: [{destination: {host: be-b, port: {number: 8443}}}]
  - match: [{sniHosts: ["*.w.test"]}]
    route:
    - {destination: {host: be-a, port: {number: 8443}}, weight: 20}
    - {destination: {host: be-b, port: {number: 8443}}, weight: 80}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp, namespace: default}
spec:
  hosts: ["*"]
  gateways: [l4]
  tcp:
  - match: [{port: 7000, sourceSubnet: 10.99.0.0/16}]
    route: [{destination: {host: stall, port: {number: 17100}}}]
  - match: [{port: 7000}]
    route: [{destination: {host: echo, port: {number: 17000}}}]
  - match: [{port: 7100}]
    route: [{destination: {host: stall, port: {number: 17100}}}]
  - match: [{port: 5432}]
    route: [{destination: {host: pg, port: {number: 15432}}}]
  - match: [{port: 7443}]
    route: [{destination: {host: echo, port: {number: 17000}}}]
  - match: [{port: 7200}]
    route: [{destination: {host: flaky, port: {number: 17000}}}]
  - match: [{port: 7300}]
    route: [{destination: {host: short, port: {number: 17000}}}]
  - match: [{port: 7501}]
    route: [{destination: {host: pp1, port: {number: 17500}}}]
  - match: [{port: 7502}]
    route: [{destination: {host: pp2, port: {number: 17500}}}]
  - match: [{port: 7600}]
    route: [{destination: {host: be-atls, port: {number: 8443}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: pp1, namespace: default}
spec: {host: pp1, trafficPolicy: {proxyProtocol: {version: V1}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: pp2, namespace: default}
spec: {host: pp2, trafficPolicy: {proxyProtocol: {version: V2}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: be-atls, namespace: default}
spec:
  host: be-atls
  trafficPolicy: {tls: {mode: SIMPLE, sni: a.test, insecureSkipVerify: true}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: short, namespace: default}
spec:
  host: short
  trafficPolicy: {connectionPool: {tcp: {maxConnectionDuration: 1s}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: flaky, namespace: default}
spec:
  host: flaky
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 60s, maxEjectionPercent: 100}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo, namespace: default}
spec:
  host: echo
  trafficPolicy: {connectionPool: {tcp: {idleTimeout: 1s}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: stall, namespace: default}
spec:
  host: stall
  trafficPolicy: {connectionPool: {tcp: {maxConnections: 2}}}
EOC
} > "$tmp/objs/60-l4.yaml"
gw_secret tcp-cred "$pki/gw.crt" "$pki/gw.key" >> "$tmp/objs/60-l4.yaml"

GW_ALOG_FORMAT=json vipgated_start || { fail "vipgated not ready"; exit 1; }
wait_for 5 sh -c "ip -n $ns -o addr show dev lo | grep -q ' $VIP/'" || fail "VIP not local"

# ---- TLS passthrough ----
subj() { # sni: the subject the client sees through the gateway
	inns timeout 5 openssl s_client -connect $VIP:9443 -servername "$1" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null | tr -d ' '; }
s=$(subj a.test); check "SNI a.test: backend a's own certificate ($s)" sh -c "echo '$s' | grep -q 'O=backend-a'"
s=$(subj b.test); check "SNI b.test: backend b's own certificate ($s)" sh -c "echo '$s' | grep -q 'O=backend-b'"
out=$(inns curl -sk --max-time 5 --resolve b.test:9443:$VIP https://b.test:9443/x)
check "HTTP inside the passthrough reaches backend b, SNI intact (got '$out')" test "$out" = "backend-b b.test"
s=$(subj nobody.test); check "unknown SNI: closed, no certificate ('$s')" test -z "$s"
s=$(inns timeout 5 openssl s_client -connect $VIP:9443 -noservername </dev/null 2>/dev/null | grep -c 'BEGIN CERT')
check "no SNI: closed ($s certificates)" test "$s" = 0
out=$(raw $VIP 9443 'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n')
check "not TLS: closed without an answer (got '${out:0:40}')" test -z "$out"

# a ClientHello in 1-byte TCP segments, then the handshake as usual
cat > "$tmp/split.py" <<'PY'
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
o = ctx.wrap_bio(inc, out, server_hostname=sys.argv[3])
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
try:
    o.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
for i in range(len(hello)):
    s.send(hello[i:i + 1]); time.sleep(0.001)
while True:
    d = s.recv(65536)
    if not d:
        print("closed"); sys.exit(0)
    inc.write(d)
    try:
        o.do_handshake(); break
    except ssl.SSLWantReadError:
        pass
    s.sendall(out.read())
s.sendall(out.read())
print(len(hello), b'backend-a' in o.getpeercert(True))
PY
out=$(inns timeout 10 python3 "$tmp/split.py" $VIP 9443 a.test 2>&1)
check "ClientHello in 1-byte segments: routed by its SNI ($out)" sh -c "echo '$out' | grep -q ' True$'"

# weights 20/80 over 300 connections
cat > "$tmp/weights.py" <<'PY'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
a = b = bad = 0
for i in range(int(sys.argv[3])):
    try:
        with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="n%d.w.test" % i) as t:
                c = t.getpeercert(True)
                if b'backend-a' in c: a += 1
                elif b'backend-b' in c: b += 1
                else: bad += 1
    except OSError:
        bad += 1
print(a, b, bad)
PY
read -r wa wb wbad < <(inns timeout 60 python3 "$tmp/weights.py" $VIP 9443 300)
check "weights 20/80 over 300 connections: a=$wa b=$wb failed=$wbad" \
	sh -c "[ '$wbad' = 0 ] && [ $wa -ge 35 ] && [ $wa -le 85 ] && [ $((wa + wb)) = 300 ]"

# ---- TCP ----
cat > "$tmp/half.py" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b'hello\n')
s.shutdown(socket.SHUT_WR)		# our FIN: the echo still answers on the other half
out = b''
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
print(repr(out))
PY
out=$(inns python3 "$tmp/half.py" $VIP 7000 2>&1)
check "TCP echo with the client's half-close: answer, then the server's FIN ($out)" test "$out" = "b'hello\\nbye\\n'"
cat > "$tmp/bulk.py" <<'PY'
import hashlib, os, socket, sys, threading
data = os.urandom(4 << 20)
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
def send():
    s.sendall(data); s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send); t.start()
h = hashlib.sha256(); n = 0
while True:
    d = s.recv(1 << 16)
    if not d:
        break
    h.update(d); n += len(d)
t.join()
print(n == len(data) + 4 and h.hexdigest() == hashlib.sha256(data + b'bye\n').hexdigest(), n)
PY
out=$(inns timeout 30 python3 "$tmp/bulk.py" $VIP 7000 2>&1)
check "4 MiB both ways at once through TCP, whole ($out)" sh -c "echo '$out' | grep -q '^True'"
# a TLS server in SIMPLE mode: TLS ends at the gateway, the bytes go on by a tcp route
cat > "$tmp/tlsecho.py" <<'PY'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=sys.argv[3] or None) as t:
            t.sendall(b'over tls\n'); d = b''
            while len(d) < 9:
                x = t.recv(100)
                if not x:
                    break
                d += x
            print(b'gateway-tls' in t.getpeercert(True), d)
except (OSError, ssl.SSLError) as e:
    print('refused', type(e).__name__)
PY
out=$(inns timeout 10 python3 "$tmp/tlsecho.py" $VIP 7443 echo.test 2>&1)
check "TLS SIMPLE server to a tcp route: the gateway's certificate, the echo through ($out)" \
	test "$out" = "True b'over tls\\n'"
out=$(inns timeout 10 python3 "$tmp/tlsecho.py" $VIP 7443 other.test 2>&1)
check "TLS SIMPLE server: an SNI it does not name is refused ($out)" sh -c "echo '$out' | grep -q '^refused'"
# outlier detection on connect failures: the refusing endpoint is ejected
cat > "$tmp/flaky.py" <<'PY'
import socket, sys
res = []
for i in range(int(sys.argv[3])):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
        s.sendall(b'x'); res.append('1' if s.recv(1) == b'x' else '0'); s.close()
    except OSError:
        res.append('0')
print(''.join(res))
PY
out=$(inns timeout 30 python3 "$tmp/flaky.py" $VIP 7200 20 2>&1)
check "outlier detection: a refusing endpoint is ejected after its connect failure ($out)" \
	sh -c "echo '$out' | grep -q '^[01]*1111111111111111\$'"
check "the ejection is counted" sh -c "ip netns exec $ns curl -s http://127.0.0.1:15020/stats/prometheus | \
	grep -q '^envoy_cluster_outlier_detection_ejections_enforced_total{cluster_name=\"outbound|17000||flaky.default.svc.cluster.local\"} 1'"
# idleTimeout 1s on the echo cluster: a silent connection is closed after it
out=$(inns python3 -c "
import socket, time; s = socket.create_connection(('$VIP', 7000), timeout=5)
s.sendall(b'x'); s.recv(1); t = time.time(); d = s.recv(10); print(d, round(time.time() - t))" 2>&1)
check "idleTimeout 1s: an idle TCP connection is closed after ~1 s ($out)" sh -c "echo \"\$1\" | grep -q \"^b'' [12]\$\"" _ "$out"
# upstream TLS for a TCP cluster: plain text in, TLS (SNI a.test) to nginx
out=$(raw $VIP 7600 'GET /o HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | tail -1)
check "DestinationRule tls SIMPLE on a TCP cluster: TLS to the backend with its sni ($out)" test "$out" = "backend-a a.test"
# proxyProtocol V1 and V2 to the upstream: the client's address and the VIP:port it reached
ppc() { inns python3 -c "
import socket; s = socket.socket(); s.bind(('$E', 0)); s.settimeout(3); s.connect(('$VIP', $1))
print(s.getsockname()[1], s.recv(200).decode().strip())" 2>&1; }
read -r sp rest < <(ppc 7501)
check "proxyProtocol V1 upstream: '$rest'" test "$rest" = "v1 PROXY TCP4 $E $VIP $sp 7501"
read -r sp rest < <(ppc 7502)
check "proxyProtocol V2 upstream: '$rest'" test "$rest" = "v2 $E $VIP $sp 7502"
# maxConnectionDuration 1s: a busy connection is closed all the same
out=$(inns python3 -c "
import socket, time; s = socket.create_connection(('$VIP', 7300), timeout=5); t = time.time(); n = 0
try:
    while time.time() - t < 4:
        s.sendall(b'x'); d = s.recv(10)
        if not d:
            break
        n += 1; time.sleep(0.1)
except OSError:
    pass
print(n > 3, round(time.time() - t))" 2>&1)
check "maxConnectionDuration 1s: a busy TCP connection ends after ~1 s ($out)" test "$out" = "True 1"
# sourceSubnet: a client from 10.99.0.0/16 takes the first rule (the stall backend says hi)
inns ip addr add 10.99.0.5/32 dev lo
out=$(inns python3 -c "
import socket; s = socket.socket(); s.bind(('10.99.0.5', 0)); s.settimeout(3)
s.connect(('$VIP', 7000)); print(s.recv(10))" 2>&1)
check "sourceSubnet 10.99.0.0/16 picks its rule ($out)" test "$out" = "b'hi\\n'"

# a backend killed mid-stream: the client is told (EOF or reset) at once
cat > "$tmp/kill.py" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
first = s.recv(10).decode().strip()
open(sys.argv[3], 'w').close()
t = time.time()
try:
    d = 'eof' if s.recv(10) == b'' else 'data'
except ConnectionResetError:
    d = 'reset'
except socket.timeout:
    d = 'timeout'
print(first, d, round(time.time() - t, 1))
PY
inns timeout 10 python3 "$tmp/kill.py" $VIP 7100 "$tmp/go" > "$tmp/kill.out" 2>&1 &
kp=$!
wait_for 5 test -e "$tmp/go"
kill -9 $stall_pid
wait $kp
out=$(tr '\n' ' ' < "$tmp/kill.out")
check "backend killed mid-stream: the client's connection ends ($out)" sh -c "echo '$out' | grep -q '^hi \\(eof\\|reset\\) [0-2]\\.'"
ip netns exec "$ns" python3 "$tmp/stall.py" $K 17100 & stall_pid=$!	# $!: python itself
wait_for 5 sh -c "ip netns exec $ns python3 -c \"import socket; socket.create_connection(('$K', 17100), timeout=1)\""

# maxConnections 2 on the stall cluster: a third connection is closed (UO)
cat > "$tmp/maxc.py" <<'PY'
import socket, sys, time
cs = []
for i in range(2):
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3); c.recv(3); cs.append(c)
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
try:
    d = c.recv(3)
except ConnectionResetError:
    d = b''
print(len(cs), d)
PY
out=$(inns timeout 10 python3 "$tmp/maxc.py" $VIP 7100 2>&1)
check "maxConnections 2: the third connection is closed ($out)" test "$out" = "2 b''"

# PostgreSQL through a tcp route, driven by psql
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -n "$pgbin" ] && [ -x "$pgbin/postgres" ] && command -v psql >/dev/null && id postgres >/dev/null 2>&1; then
	pgd=$tmp/pg; mkdir -p "$pgd"; chown postgres "$pgd"; chmod 755 "$tmp"
	runuser -u postgres -- "$pgbin/initdb" -D "$pgd/data" --auth=trust -U postgres >"$tmp/pg.init" 2>&1
	echo "host all all 0.0.0.0/0 trust" >> "$pgd/data/pg_hba.conf"
	inns runuser -u postgres -- "$pgbin/postgres" -D "$pgd/data" -k "$pgd" -h $P -p 15432 >"$tmp/pg.log" 2>&1 &
	wait_for 15 inns "$pgbin/pg_isready" -h $P -p 15432
	out=$(inns psql -h $VIP -p 5432 -U postgres -At -c "select 6 * 7, current_setting('port')" 2>&1)
	check "PostgreSQL through the tcp route: psql gets its answer ($out)" test "$out" = "42|15432"
	inns runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgd/data" -m fast stop >/dev/null 2>&1
else
	echo "skip: PostgreSQL not installed (apt install postgresql)"
fi

# Istio's TCP series and the access log
m=$(inns curl -s --max-time 5 http://127.0.0.1:15020/stats/prometheus)
echo "$m" > "$tmp/metrics"
check "istio_tcp_connections_opened_total for echo" grep -q \
	'^istio_tcp_connections_opened_total{reporter="source",.*destination_service="echo.default.svc.cluster.local".*request_protocol="tcp",response_flags="-".*} [1-9]' "$tmp/metrics"
check "istio_tcp_received_bytes_total for echo counts the 4 MiB" sh -c \
	"grep '^istio_tcp_received_bytes_total{.*destination_service=\"echo.default' '$tmp/metrics' | awk '{s += \$2} END {exit !(s >= 4194304)}'"
check "istio_tcp_sent_bytes_total for be-b" grep -q \
	'^istio_tcp_sent_bytes_total{.*destination_service="be-b.default.svc.cluster.local".*} [1-9]' "$tmp/metrics"
check "istio_tcp_connections_closed_total with flag UO" grep -q \
	'^istio_tcp_connections_closed_total{.*destination_service="stall.default.svc.cluster.local".*response_flags="UO".*} [1-9]' "$tmp/metrics"
check "bulk plain TCP (the 4 MiB echo) went by splice(2)" grep -q \
	'^vipgate_gateway_tcp_spliced_total [1-9]' "$tmp/metrics"
check "access log: a passthrough line with its SNI and cluster" python3 -c '
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
assert any(l["requested_server_name"] == "a.test" and l["upstream_cluster"] == "outbound|8443||be-a.default.svc.cluster.local" and l["response_flags"] == "-" for l in ls if "requested_server_name" in l)
assert any(l.get("requested_server_name") == "nobody.test" and l["response_flags"] == "NR" for l in ls)
assert any(l.get("response_flags") == "UO" for l in ls)
' "$tmp/access.log"
# vipgatectl shows the TCP and TLS listeners, their rules and clusters
"$ctl" -s "$tmp/sock" --json gateway listeners > "$tmp/lis.json"
check "gateway listeners: 9443 TLS and 7000 TCP, tcp_proxy chains" python3 -c '
import json, sys
l = {x["port"]: x for x in json.load(open(sys.argv[1]))["listeners"]}
assert l[9443]["protocol"] == "TLS" and l[9443]["chains"][0]["route_config"] == "tls.9443"
assert sorted(l[9443]["chains"][0]["sni"]) == ["*.w.test", "a.test", "b.test"]
assert l[7000]["protocol"] == "TCP" and l[7000]["chains"][0]["routes"] == 2
' "$tmp/lis.json"
"$ctl" -s "$tmp/sock" --json gateway routes > "$tmp/routes.json"
check "gateway routes: tls and tcp rules with their matches and weights" python3 -c '
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["routes"] if x["action"] == "tcp_proxy"]
w = [x for x in r if x["port"] == 9443 and x["match"][0].get("sni_hosts") == ["*.w.test"]][0]
assert [d["weight"] for d in w["destinations"]] == [20, 80]
s = [x for x in r if x["port"] == 7000 and x["match"][0].get("source_subnet") == ["10.99.0.0/16"]]
assert s and s[0]["destinations"][0]["cluster"] == "outbound|17100||stall.default.svc.cluster.local"
' "$tmp/routes.json"
check "gateway routes (text) lists tcp_proxy" sh -c "'$ctl' -s '$tmp/sock' gateway routes | grep -q 'tcp_proxy'"
check "gateway clusters: the echo cluster with its endpoint" sh -c \
	"'$ctl' -s '$tmp/sock' --json gateway clusters | grep -q 'outbound|17000||echo.default.svc.cluster.local'"
check "analyze: no note left for the tcp and tls routes" sh -c "! '$ctl' -s '$tmp/sock' analyze | grep -q 'VirtualService default/\\(pass\\|tcp\\)'"

kill $echo_pid $stall_pid $pp_pid 2>/dev/null
term_check
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
