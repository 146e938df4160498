#!/usr/bin/env bash
# Route timeouts, retries, fault injection and mirrors end to end, as
# Envoy's router and fault filter behave under Istio: nginx backends that
# answer 200, 500 or 503, a small python backend that is slow, echoes the
# body it got, or records what was mirrored to it, and a closed port.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"

gw_ns_up 10.244.5.1 10.244.5.2 10.244.5.3 10.244.5.4 10.244.6.1 10.244.6.2 10.244.6.3 10.244.6.4 10.244.6.5 10.244.6.6
nginx_start "10.244.5.1:9080 good-a" "10.244.5.2:9080 good-b" "10.244.5.3:9080 bad 503" \
	"10.244.5.4:9080 err 500" ||
	{ fail "nginx did not start"; cat "$tmp/ngx/out" "$tmp/ngx/error.log"; exit 1; }

# slow: answers after 2 s; echo: answers with what it received; shadow:
# records what it received (mirror target); fail: reads the whole body, then
# answers 503; stall: sends its head and 10 of 100 bytes, then nothing for
# 2 s. Each logs "name method path host len md5". 10.244.6.5 answers bytes
# that are not HTTP.
cat > "$tmp/backend.py" <<'PY'
import hashlib, socketserver, sys, threading, time
from http.server import BaseHTTPRequestHandler

log = open(sys.argv[1], "a")
lock = threading.Lock()

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))
    def handle_any(self):
        b = self.body()
        name = self.server.name
        line = "%s %s %s %s %d %s" % (name, self.command, self.path, self.headers.get("Host"),
                                       len(b), hashlib.md5(b).hexdigest())
        with lock:
            log.write(line + "\n")
            log.flush()
        if name == "slow":
            time.sleep(2)
        out = (line + "\n").encode()
        if name == "stall":
            try:
                self.send_response(200)
                self.send_header("Content-Length", "100")
                self.end_headers()
                self.wfile.write(b"0123456789")
                self.wfile.flush()
                time.sleep(2)
            except OSError:
                pass
            self.close_connection = True
            return
        try:
            self.send_response(503 if name == "fail" else 200)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except OSError:
            pass
    do_GET = do_POST = do_PUT = handle_any

class S(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True

for name, addr in (("slow", "10.244.6.1"), ("echo", "10.244.6.2"), ("shadow", "10.244.6.3"),
                   ("fail", "10.244.6.4"), ("stall", "10.244.6.6")):
    s = S((addr, 9080), H)
    s.name = name
    threading.Thread(target=s.serve_forever, daemon=True).start()
def garbage():
    import socket
    g = socket.socket(); g.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    g.bind(("10.244.6.5", 9080)); g.listen(16)
    while True:
        c, _ = g.accept()
        try:
            c.recv(65536); c.sendall(b"this is not http\r\n\r\n")
        except OSError:
            pass
        c.close()
threading.Thread(target=garbage, daemon=True).start()
time.sleep(600)
PY
inns timeout 600 python3 "$tmp/backend.py" "$tmp/backend.log" &
for a in 10.244.6.1 10.244.6.2 10.244.6.3 10.244.6.4 10.244.6.5 10.244.6.6; do
	wait_for 5 inns python3 -c "import socket; socket.create_connection(('$a', 9080), 1)" ||
		fail "python backend $a not up"
done

mkdir -p "$tmp/objs"
cp "$src"/etc/objects.d/*.yaml "$tmp/objs/"
# svc NAME ADDR:PORT...: a Service with Endpoints, round robin
svc() {
	local name=$1 a; shift
	printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\nspec: {ports: [{port: 80}]}\n' "$name"
	printf -- '---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: %s, namespace: default}\nsubsets:\n' "$name"
	for a in "$@"; do
		printf -- '- {addresses: [{ip: %s}], ports: [{port: %s}]}\n' "${a%:*}" "${a#*:}"
	done
	printf -- '---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: %s, namespace: default}\nspec: {host: %s, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}}\n' "$name" "$name"
}
{
	cat <<'EOC'
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: retry-gateway, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["retry.test"]
EOC
	svc gooda 10.244.5.1:9080
	svc slow 10.244.6.1:9080
	svc slowgood 10.244.6.1:9080 10.244.5.1:9080
	svc errgood 10.244.5.4:9080 10.244.5.2:9080
	svc badecho 10.244.5.3:9080 10.244.6.2:9080
	svc bad 10.244.5.3:9080
	svc echo 10.244.6.2:9080
	svc shadow 10.244.6.3:9080
	svc deadgood 127.0.0.1:9 10.244.5.1:9080
	svc dead 127.0.0.1:9
	svc fail 10.244.6.4:9080
	svc garbage 10.244.6.5:9080
	svc stall 10.244.6.6:9080
	svc garbagegood 10.244.6.5:9080 10.244.5.2:9080
	cat <<'EOC'
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: retry-vs, namespace: default}
spec:
  hosts: [retry.test]
  gateways: [retry-gateway]
  http:
  - match: [{uri: {prefix: /timeout}}]
    timeout: 300ms
    route: [{destination: {host: slow}}]
  - match: [{uri: {prefix: /stall}}]
    timeout: 300ms
    route: [{destination: {host: stall}}]
  - match: [{uri: {prefix: /pertry-only}}]
    retries: {attempts: 1, perTryTimeout: 200ms, retryOn: 5xx}
    route: [{destination: {host: slow}}]
  - match: [{uri: {prefix: /pertry}}]
    retries: {attempts: 2, perTryTimeout: 200ms, retryOn: 5xx}
    route: [{destination: {host: slowgood}}]
  - match: [{uri: {prefix: /5xx}}]
    retries: {attempts: 3, retryOn: 5xx}
    route: [{destination: {host: errgood}}]
  - match: [{uri: {prefix: /post}}]
    retries: {attempts: 3, retryOn: gateway-error}
    route: [{destination: {host: badecho}}]
  - match: [{uri: {prefix: /upe-retried}}]
    retries: {attempts: 2, retryOn: reset}
    route: [{destination: {host: garbagegood}}]
  - match: [{uri: {prefix: /upe}}]
    route: [{destination: {host: garbage}}]
  - match: [{uri: {prefix: /big}}]
    retries: {attempts: 2, retryOn: "5xx"}
    route: [{destination: {host: fail}}]
  - match: [{uri: {prefix: /overflow}}]
    retries: {attempts: 10, retryOn: "5xx"}
    route: [{destination: {host: bad}}]
  - match: [{uri: {prefix: /urx}}]
    retries: {attempts: 2, retryOn: "5xx"}
    route: [{destination: {host: bad}}]
  - match: [{uri: {prefix: /cf-all}}]
    route: [{destination: {host: dead}}]
  - match: [{uri: {prefix: /cf}}]
    route: [{destination: {host: deadgood}}]
  - match: [{uri: {prefix: /abort50}}]
    fault: {abort: {httpStatus: 418, percentage: {value: 50}}}
    route: [{destination: {host: gooda}}]
  - match: [{uri: {prefix: /abort}}]
    fault: {abort: {httpStatus: 418, percentage: {value: 100}}}
    route: [{destination: {host: gooda}}]
  - match: [{uri: {prefix: /delay-timeout}}]
    fault: {delay: {fixedDelay: 400ms, percentage: {value: 100}}}
    timeout: 300ms
    route: [{destination: {host: gooda}}]
  - match: [{uri: {prefix: /delay}}]
    fault: {delay: {fixedDelay: 300ms, percent: 100}}
    route: [{destination: {host: echo}}]
  - match: [{uri: {prefix: /mirror-slow}}]
    mirror: {host: slow}
    route: [{destination: {host: gooda}}]
  - match: [{uri: {prefix: /mirror}}]
    mirror: {host: shadow}
    mirrorPercentage: {value: 100}
    route: [{destination: {host: gooda}}]
EOC
} > "$tmp/objs/50-retry.yaml"
vipgated_start || { fail "vipgated not ready"; exit 1; }
ok "vipgated ready"

VIP=192.168.1.200
wait_for 5 sh -c "ip -n $ns -o addr show dev lo | grep -q ' $VIP/'" || fail "VIP $VIP not local"
c() { inns curl -s --max-time 8 -H "Host: retry.test" "$@"; }
# alog PATH: the access log line of the last request for PATH
alog() { wait_for 2 grep -q "\"[A-Z]* $1 HTTP" "$tmp/access.log"; grep "\"[A-Z]* $1 HTTP" "$tmp/access.log" | tail -1; }
# in_range VALUE LOW HIGH (floats)
in_range() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN {exit !(v >= lo && v < hi)}'; }
backend_count() { grep -c "$1" "$tmp/backend.log" 2>/dev/null || true; }

# route timeout: 504 UT, counted from the end of the request
out=$(c -o "$tmp/body" -w '%{http_code} %{time_total}' "http://$VIP/timeout")
set -- $out
check "route timeout: 504 after 0.3 s (got $out)" sh -c "test $1 = 504 && awk -v v=$2 'BEGIN {exit !(v >= 0.29 && v < 0.9)}'"
check "route timeout: body names it" grep -q 'upstream request timeout' "$tmp/body"
check "route timeout: flag UT ($(alog /timeout))" sh -c "echo '$(alog /timeout)' | grep -q '\" 504 UT '"

# the route timeout after the answer started: the client's connection is reset
out=$(c -o "$tmp/body" -w '%{http_code} %{time_total}' "http://$VIP/stall"; echo " rc=$?")
set -- $out
check "route timeout mid-answer: 200 head, then the connection cut at 0.3 s ($out)" sh -c "test $1 = 200 &&
	test '$3' != rc=0 && awk -v v=$2 'BEGIN {exit !(v >= 0.29 && v < 0.9)}' && test \$(wc -c < '$tmp/body') -eq 10"
check "route timeout mid-answer: flag UT" sh -c "echo '$(alog /stall)' | grep -q '\" 200 UT '"

# perTryTimeout: the slow endpoint's attempt is cut at 200 ms and retried on the fast one
# (nginx's answers end in a newline: one line per request with tr)
res=$(for i in 1 2 3 4 5 6; do c -w ' %{http_code} %{time_total}' "http://$VIP/pertry/$i" | tr -d '\n'; echo; done)
check "perTryTimeout retried to the fast endpoint: all 200 from good-a" \
	sh -c "test \$(echo '$res' | grep -c '^good-a /pertry/[0-9] 200 ') -eq 6"
maxt=$(echo "$res" | awk '{if ($4 > m) m = $4} END {print m}')
check "perTryTimeout: every answer well before the slow endpoint's 2 s (max $maxt s)" in_range "$maxt" 0 1.2
check "perTryTimeout: the slow endpoint was tried" sh -c "grep -q '^slow GET /pertry/' '$tmp/backend.log'"
# no other endpoint: the timeout ends every try, 504 UT with URX
out=$(c -o "$tmp/body" -w '%{http_code} %{time_total}' "http://$VIP/pertry-only")
set -- $out
check "perTryTimeout exhausted: 504 after two tries (got $out)" sh -c "test $1 = 504 && awk -v v=$2 'BEGIN {exit !(v >= 0.39 && v < 1.3)}'"
check "perTryTimeout exhausted: flags UT,URX ($(alog /pertry-only))" sh -c "echo '$(alog /pertry-only)' | grep -q '\" 504 UT,URX '"
check "perTryTimeout exhausted: two attempts reached the backend" test "$(backend_count '^slow GET /pertry-only ')" -eq 2

# 5xx retried on the healthy endpoint
res=$(for i in $(seq 8); do c -w ' %{http_code}' "http://$VIP/5xx/$i" | tr -d '\n'; echo; done)
check "5xx retried: 8 of 8 answered 200 by good-b" test "$(echo "$res" | grep -c '^good-b /5xx/[0-9] 200$')" -eq 8
check "5xx retried: the 500 endpoint was tried" grep -q '10.244.5.4 GET /5xx/' "$tmp/ngx/access.log"

# a POST body is replayed on the retry (gateway-error: 503 from bad, then echo)
head -c 5000 /dev/urandom > "$tmp/post.bin"
sum=$(md5sum < "$tmp/post.bin" | cut -d' ' -f1)
okn=0
for i in 1 2 3 4 5 6; do
	out=$(c -X POST --data-binary @"$tmp/post.bin" -H 'Content-Type: application/octet-stream' "http://$VIP/post/$i")
	case $out in "echo POST /post/$i retry.test 5000 $sum") okn=$((okn + 1));; esac
done
check "POST body replayed on retry: 6 of 6 echoed whole ($okn)" test $okn -eq 6
check "POST: the 503 endpoint got some of them first" grep -q '10.244.5.3 POST /post/' "$tmp/ngx/access.log"
okn=0
for i in 1 2 3 4; do
	out=$(c -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/post.bin" "http://$VIP/post/c$i")
	case $out in "echo POST /post/c$i retry.test 5000 $sum") okn=$((okn + 1));; esac
done
check "chunked POST body replayed on retry: 4 of 4 ($okn)" test $okn -eq 4

# retries exhausted: the upstream's last 503 passes, flag URX, 1 + 2 attempts
code=$(c -o "$tmp/body" -w '%{http_code}' "http://$VIP/urx")
check "retries exhausted: 503 from the upstream (got $code: $(cat "$tmp/body"))" sh -c "test $code = 503 && grep -q '^bad /urx' '$tmp/body'"
check "retries exhausted: flag URX ($(alog /urx))" sh -c "echo '$(alog /urx)' | grep -q '\" 503 URX '"
check "retries exhausted: 3 attempts upstream" test "$(grep -c '10.244.5.3 GET /urx ' "$tmp/ngx/access.log")" -eq 3
# a body above the replay limit (64 KiB) is not retried; one below is
head -c 100000 /dev/urandom > "$tmp/big.bin"
code=$(c -o /dev/null -w '%{http_code}' -X POST --data-binary @"$tmp/big.bin" "http://$VIP/big/1")
check "body over 64 KiB: 503 passed on, not retried (got $code)" sh -c "test $code = 503 &&
	test \$(grep -c '^fail POST /big/1 ' '$tmp/backend.log') -eq 1"
check "body over 64 KiB: no URX ($(alog /big/1))" sh -c "echo '$(alog /big/1)' | grep -q '\" 503 - '"
code=$(c -o /dev/null -w '%{http_code}' -X POST --data-binary @"$tmp/post.bin" "http://$VIP/big/2")
check "body under 64 KiB: retried twice, whole each time (got $code)" sh -c "test $code = 503 &&
	test \$(grep -c '^fail POST /big/2 retry.test 5000 $sum' '$tmp/backend.log') -eq 3"

# the body outgrows the buffer while a retry waits for its back-off: 507
# (Envoy's "exceeded request buffer limit while retrying upstream"). The
# client sends 1 KB, then 100 KB 0.3 s later, when nine back-offs of up to
# 250 ms are under way; a try in flight at that moment is ~1% likely, so up to 3 rounds.
cat > "$tmp/overflow.py" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=5)
s.sendall(b"POST /overflow HTTP/1.1\r\nHost: retry.test\r\nContent-Length: 101024\r\n\r\n" + b"a" * 1024)
time.sleep(0.3)
try:
    s.sendall(b"b" * 100000)
except OSError:
    pass
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except OSError:
    pass
sys.stdout.write(out.decode("latin-1"))
PY
for i in 1 2 3; do
	out=$(inns python3 "$tmp/overflow.py" $VIP | tr -d '\r')
	case $out in "HTTP/1.1 507 "*) break;; esac
done
check "body over the buffer during a back-off: 507 ($(echo "$out" | head -1))" sh -c "echo '$out' | head -1 | grep -q '^HTTP/1.1 507 ' &&
	echo '$out' | grep -q 'exceeded request buffer limit while retrying upstream'"

# connect failures retried on another host (Istio's default policy)
res=$(for i in $(seq 10); do c -o /dev/null -w '%{http_code} ' "http://$VIP/cf"; done)
check "connect-failure retried on the live endpoint ($res)" test "$res" = "$(printf '200 %.0s' $(seq 10))"
code=$(c -o "$tmp/body" -w '%{http_code}' "http://$VIP/cf-all")
check "connect failure everywhere: 503 UF,URX (got $code: $(cat "$tmp/body"))" sh -c "test $code = 503 &&
	grep -q 'retried and the latest reset reason: connection failure' '$tmp/body' &&
	echo '$(alog /cf-all)' | grep -q '\" 503 UF,URX '"

# an upstream protocol error: 502 UPE, retried as a reset under retryOn reset
code=$(c -o "$tmp/body" -w '%{http_code}' "http://$VIP/upe")
check "protocol error: 502 UPE (got $code)" sh -c "test $code = 502 && echo '$(alog /upe)' | grep -q '\" 502 UPE '"
res=$(for i in $(seq 6); do c -o /dev/null -w '%{http_code} ' "http://$VIP/upe-retried/$i"; done)
check "protocol error retried under retryOn reset ($res)" test "$res" = "$(printf '200 %.0s' $(seq 6))"

# Envoy's back-off between tries: full jitter below 25 ms, then below 50 ms
# (mean 37.5 ms for two retries; without it a refused connect takes ~1 ms)
ts=$(for i in $(seq 20); do c -o /dev/null -w '%{time_total}\n' "http://$VIP/cf-all"; done)
mean=$(echo "$ts" | awk '{s += $1} END {printf "%.4f", s / NR}')
max=$(echo "$ts" | sort -n | tail -1)
check "back-off: two retries take $mean s on average (max $max)" sh -c "awk -v m=$mean -v x=$max 'BEGIN {exit !(m >= 0.012 && m < 0.15 && x < 0.5)}'"

# fault abort
out=$(c -w ' %{http_code}' "http://$VIP/abort")
check "fault abort 100%: 418 'fault filter abort' (got '$out')" test "$out" = "fault filter abort 418"
check "fault abort: flag FI" sh -c "echo '$(alog /abort)' | grep -q '\" 418 FI '"
urls=$(for i in $(seq 400); do printf 'http://%s/abort50 ' $VIP; done)
codes=$(c -o /dev/null -w '%{http_code}\n' $urls)
n418=$(echo "$codes" | grep -c 418); n200=$(echo "$codes" | grep -c 200)
# 400 draws at p = 0.5: sd 10; 140..260 is 6 sd wide
check "fault abort 50%: $n418 of 400 aborted, $n200 passed" sh -c "test $((n418 + n200)) -eq 400 && test $n418 -ge 140 && test $n418 -le 260"

# fault delay: adds the delay, the body still arrives; the route timeout starts after it
out=$(c -o "$tmp/body" -w '%{http_code} %{time_total}' -X POST --data-binary @"$tmp/post.bin" "http://$VIP/delay")
set -- $out
check "fault delay: 200 after 0.3 s (got $out)" sh -c "test $1 = 200 && awk -v v=$2 'BEGIN {exit !(v >= 0.29 && v < 0.9)}'"
check "fault delay: the body went through whole" grep -q "^echo POST /delay retry.test 5000 $sum" "$tmp/body"
check "fault delay: flag DI" sh -c "echo '$(alog /delay)' | grep -q '\" 200 DI '"
out=$(c -o /dev/null -w '%{http_code} %{time_total}' "http://$VIP/delay-timeout")
set -- $out
check "delay 400 ms with a 300 ms route timeout: 200 (got $out)" sh -c "test $1 = 200 && awk -v v=$2 'BEGIN {exit !(v >= 0.39)}'"

# a client that leaves during the delay or a back-off does not hurt the daemon
inns curl -s -o /dev/null --max-time 0.1 -H "Host: retry.test" "http://$VIP/delay/gone"
inns curl -s -o /dev/null --max-time 0.01 -H "Host: retry.test" "http://$VIP/urx/gone"
inns curl -s -o /dev/null --max-time 0.1 -H "Host: retry.test" "http://$VIP/timeout/gone"
sleep 0.5
out=$(c -w ' %{http_code}' "http://$VIP/abort")
check "clients gone mid-delay, mid-retry, mid-timeout: still serving ($out)" test "$out" = "fault filter abort 418"
check "a client gone mid-delay: flags DI,DC ($(alog /delay/gone))" sh -c "echo '$(alog /delay/gone)' | grep -q '\" 0 DI,DC '"

# mirror with a body: the shadow gets it whole, with Host -shadow; the answer is the main one's
out=$(c -X POST --data-binary @"$tmp/post.bin" "http://$VIP/mirror/post")
check "mirror: the answer is the main route's ($out)" test "$out" = "good-a /mirror/post"
check "mirror: the main backend got the POST" grep -q '10.244.5.1 POST /mirror/post ' "$tmp/ngx/access.log"
wait_for 5 grep -q "^shadow POST /mirror/post retry.test-shadow 5000 $sum" "$tmp/backend.log" &&
	ok "mirror: body and -shadow host reached the shadow" ||
	fail "mirror: body and -shadow host reached the shadow ($(grep shadow "$tmp/backend.log"))"
out=$(inns curl -s --max-time 8 -H "Host: retry.test:80" "http://$VIP/mirror/port")
wait_for 5 grep -q "^shadow GET /mirror/port retry.test-shadow:80 0 " "$tmp/backend.log" &&
	ok "mirror: -shadow goes before the port" ||
	fail "mirror: -shadow goes before the port ($(grep /mirror/port "$tmp/backend.log"))"
code=$(c -o /dev/null -w '%{http_code}' -X POST --data-binary @"$tmp/big.bin" "http://$VIP/mirror/big")
sleep 0.5
check "mirror: a body over 64 KiB is not mirrored, the main answer is 200 ($code)" sh -c "test $code = 200 &&
	! grep -q '/mirror/big' '$tmp/backend.log' && grep -q '10.244.5.1 POST /mirror/big ' '$tmp/ngx/access.log'"
out=$(c -w ' %{time_total}' "http://$VIP/mirror-slow/x")
set -- $out
check "mirror to a slow cluster does not delay the answer ($out)" sh -c "test '$1 $2' = 'good-a /mirror-slow/x' && awk -v v=$3 'BEGIN {exit !(v < 0.5)}'"

# metrics: retries counted per cluster
c http://127.0.0.1:15020/stats/prometheus > "$tmp/metrics"
check "envoy_cluster_upstream_rq_retry counts the 5xx retries" \
	grep -q '^envoy_cluster_upstream_rq_retry{cluster_name="outbound|80||errgood.default.svc.cluster.local"} [1-9]' "$tmp/metrics"
check "envoy_cluster_upstream_rq_retry_limit_exceeded counts /urx" \
	grep -q '^envoy_cluster_upstream_rq_retry_limit_exceeded{cluster_name="outbound|80||bad.default.svc.cluster.local"} [1-9]' "$tmp/metrics"
check "the daemon is still up" kill -0 $pid

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
