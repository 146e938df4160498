#!/usr/bin/env bash
# Outlier detection and circuit breakers end to end: a backend answering
# 503 is ejected after consecutive5xxErrors, traffic goes to the others,
# the ejection survives a reload, and the host comes back after the
# ejection time; maxConnections 1 / http1MaxPendingRequests 1 under 20
# concurrent clients gives 503 UO answers, counted, and nothing hangs; the
# seed's circuit-breaker.yaml on two replicas never ejects (as Envoy's 10%
# rule has it) and `vipgatectl analyze` says so.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"

gw_ns_up 10.244.1.10 10.244.2.10 10.244.5.1 10.244.5.2 10.244.5.3 10.244.6.1
nginx_start "10.244.1.10:9080 productpage-1" "10.244.2.10:9080 productpage-2 503" \
	"10.244.5.1:9080 good-1" "10.244.5.2:9080 good-2" "10.244.5.3:9080 bad 503" ||
	{ fail "nginx did not start"; cat "$tmp/ngx/out" "$tmp/ngx/error.log"; exit 1; }

# a backend that takes 0.5 s per answer, so that requests pile up
cat > "$tmp/slow.py" <<'PY'
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        time.sleep(0.5)
        b = b"slow\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        got = 0
        while got < n:
            d = self.rfile.read(min(65536, n - got))
            if not d:
                break
            got += len(d)
        time.sleep(0.5)
        b = ("got %d\n" % got).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
ThreadingHTTPServer(("10.244.6.1", 9080), H).serve_forever()
PY
inns timeout 120 python3 "$tmp/slow.py" &
wait_for 5 inns python3 -c 'import socket; socket.create_connection(("10.244.6.1", 9080), 1)' ||
	fail "slow backend did not start"

mkdir -p "$tmp/objs"
# the seed's objects; etc/objects.d/40-traffic.yaml carries circuit-breaker.yaml unchanged
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
metadata: {name: three, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: three, namespace: default}
subsets: [{addresses: [{ip: 10.244.5.1}, {ip: 10.244.5.2}, {ip: 10.244.5.3}], ports: [{port: 9080}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: three, namespace: default}
spec:
  host: three
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    outlierDetection: {consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 10s, maxEjectionPercent: 50}
---
apiVersion: v1
kind: Service
metadata: {name: slow, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: slow, namespace: default}
subsets: [{addresses: [{ip: 10.244.6.1}], ports: [{port: 9080}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: slow, namespace: default}
spec:
  host: slow
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 1, tcpKeepalive: {time: 60s, interval: 10s, probes: 3}}
      http: {http1MaxPendingRequests: 1}
---
apiVersion: v1
kind: Service
metadata: {name: slow2, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: slow2, namespace: default}
subsets: [{addresses: [{ip: 10.244.6.1}], ports: [{port: 9080}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: slow2, namespace: default}
spec:
  host: slow2
  trafficPolicy:
    connectionPool: {http: {http2MaxRequests: 2}}
---
apiVersion: v1
kind: Service
metadata: {name: split, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: split, namespace: default}
subsets:
- {addresses: [{ip: 10.244.5.1}], ports: [{port: 9080}]}
- {addresses: [{ip: 10.244.5.2}], ports: [{port: 9999}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: split, namespace: default}
spec:
  host: split
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    outlierDetection: {splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2,
      consecutive5xxErrors: 0, interval: 1s, baseEjectionTime: 60s, maxEjectionPercent: 50}
---
apiVersion: v1
kind: Service
metadata: {name: rbudget, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: rbudget, namespace: default}
subsets: [{addresses: [{ip: 10.244.5.3}], ports: [{port: 9080}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: rbudget, namespace: default}
spec:
  host: rbudget
  trafficPolicy:
    connectionPool: {http: {maxRetries: 1}}
---
apiVersion: v1
kind: Service
metadata: {name: slowpost, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: slowpost, namespace: default}
subsets: [{addresses: [{ip: 10.244.6.1}], ports: [{port: 9080}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: slowpost, namespace: default}
spec:
  host: slowpost
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 10}}
---
apiVersion: v1
kind: Service
metadata: {name: lone, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: lone, namespace: default}
subsets: [{addresses: [{ip: 10.244.5.3}], ports: [{port: 9080}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: lone, namespace: default}
spec:
  host: lone
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 60s, maxEjectionPercent: 100}
---
apiVersion: v1
kind: Service
metadata: {name: retry1, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: retry1, namespace: default}
subsets: [{addresses: [{ip: 10.244.5.1}, {ip: 10.244.5.3}], ports: [{port: 9080}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: retry1, namespace: default}
spec:
  host: retry1
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    connectionPool: {tcp: {maxConnections: 1}, http: {maxRetries: 5}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: resil, namespace: default}
spec:
  hosts: [resil.test]
  gateways: [test-gateway]
  http:
  - match: [{uri: {prefix: /slowpost}}]
    retries: {attempts: 0}
    route: [{destination: {host: slowpost}}]
  - match: [{uri: {prefix: /slow2}}]
    route: [{destination: {host: slow2}}]
  - match: [{uri: {prefix: /slow}}]
    route: [{destination: {host: slow}}]
  - match: [{uri: {prefix: /retry1}}]
    route: [{destination: {host: retry1}}]
  - match: [{uri: {prefix: /split}}]
    retries: {attempts: 0}
    route: [{destination: {host: split}}]
  - match: [{uri: {prefix: /rbudget}}]
    retries: {attempts: 1, retryOn: 5xx, backoff: 1s}
    route: [{destination: {host: rbudget}}]
  - match: [{uri: {prefix: /lone}}]
    retries: {attempts: 0}
    route: [{destination: {host: lone}}]
  - retries: {attempts: 0}
    route: [{destination: {host: three}}]
EOC
vipgated_start || { fail "vipgated not ready"; exit 1; }
ok "vipgated ready"

c() { inns curl -s --max-time 5 "$@"; }
ctl() { "$ctl" -s "$tmp/sock" --json "$@"; }
# ep_field CLUSTER-SUBSTRING ADDRESS FIELD: from `vipgatectl gateway clusters`
ep_field() {
	ctl gateway clusters | python3 -c '
import json, sys
for c in json.load(sys.stdin)["clusters"]:
    if sys.argv[1] in c["name"]:
        for e in c["endpoints"]:
            if e["address"] == sys.argv[2]:
                print(e[sys.argv[3]])' "$@"
}
CL3="||three.default.svc.cluster.local"

# ---- outlier detection: 10.244.5.3 answers 503 ----
# each worker has its own round robin: ask until the third 503 of that host (bounded)
n=0
for i in $(seq 40); do
	c -o /dev/null -H "Host: resil.test" http://127.0.0.1/o; n=$i
	grep -q 'three.default.svc.cluster.local: endpoint 10.244.5.3|9080 ejected' "$tmp/log" && break
done
check "ejected after consecutive 5xx ($n requests)" grep -q '10.244.5.3|9080 ejected (outlier detection, ejection 1)' "$tmp/log"
# a reload (any object change) keeps the ejection and the counts
cat > "$tmp/objs/60-touch.yaml" <<'EOC'
apiVersion: v1
kind: Service
metadata: {name: unrelated, namespace: default}
spec: {ports: [{port: 80}]}
EOC
kill -HUP $pid
wait_for 5 sh -c "test \$(grep -c 'gateway: snapshot' '$tmp/log') -ge 3"
check "vipgatectl gateway clusters: failed_outlier_check, kept across a reload" \
	test "$(ep_field "$CL3" 10.244.5.3 health)" = "/failed_outlier_check"
check "ejection counted on the endpoint" test "$(ep_field "$CL3" 10.244.5.3 num_ejections)" = 1
check "the healthy hosts stay healthy" test "$(ep_field "$CL3" 10.244.5.1 health)" = healthy
check "metric ejections_enforced_total 1" test "$(metric envoy_cluster_outlier_detection_ejections_enforced_total "$CL3")" = 1
check "metric ejections_active 1" test "$(metric envoy_cluster_outlier_detection_ejections_active "$CL3")" = 1
codes=$(for i in $(seq 12); do c -o /dev/null -w '%{http_code} ' -H "Host: resil.test" http://127.0.0.1/o; done)
check "while ejected, traffic goes to the others ($codes)" sh -c "! echo '$codes' | grep -q 503"
# back after baseEjectionTime (10 s), rounded up to the next sweep (interval 1 s)
for i in $(seq 300); do	# bounded: 15 s
	grep -q '10.244.5.3|9080 back from outlier ejection' "$tmp/log" && break
	sleep 0.05
done
ts() { grep "10.244.5.3|9080 $1" "$tmp/log" | head -1 | awk '{split($1, t, ":"); print (t[1] * 3600 + t[2] * 60 + t[3]) * 1000}'; }
te=$(ts ejected); tb=$(ts back)
ejected_ms=$(awk -v a="$te" -v b="$tb" 'BEGIN {printf "%d", b - a}')
check "un-ejected after 10 s rounded up to a sweep (${ejected_ms} ms ejected)" \
	test -n "$tb" -a "$ejected_ms" -ge 10000 -a "$ejected_ms" -le 11500
check "vipgatectl shows it healthy" test "$(ep_field "$CL3" 10.244.5.3 health)" = healthy
check "metric ejections_active back to 0" test "$(metric envoy_cluster_outlier_detection_ejections_active "$CL3")" = 0
codes=$(for i in $(seq 9); do c -o /dev/null -w '%{http_code} ' -H "Host: resil.test" http://127.0.0.1/o; done)
check "traffic reaches it again ($codes)" sh -c "echo '$codes' | grep -q 503"

# every host ejected, panic threshold 0 (Istio's): 503 UH
code=$(c -o /dev/null -w '%{http_code}' -H "Host: resil.test" http://127.0.0.1/lone/1)
check "the lone host's own 503 ($code)" test "$code" = 503
code=$(c -o "$tmp/body" -w '%{http_code}' -H "Host: resil.test" http://127.0.0.1/lone/2)
check "then 503 UH: no healthy upstream ($code: $(cat "$tmp/body"))" \
	sh -c "test '$code' = 503 && grep -q 'no healthy upstream' '$tmp/body'"
check "access log carries UH" grep -q '"GET /lone/2 HTTP/1.1" 503 UH ' "$tmp/access.log"

# splitExternalLocalOriginErrors: refused connections count on their own
for i in $(seq 20); do
	c -o /dev/null -H "Host: resil.test" http://127.0.0.1/split/$i
	grep -q '10.244.5.2|9999 ejected (local origin failures' "$tmp/log" && break
done
check "split mode: ejected after consecutiveLocalOriginFailures ($i requests)" \
	grep -q '10.244.5.2|9999 ejected (local origin failures, ejection 1)' "$tmp/log"
check "metric ejections_enforced_consecutive_local_origin_failure 1" \
	test "$(metric envoy_cluster_outlier_detection_ejections_enforced_consecutive_local_origin_failure '||split.default')" = 1
codes=$(for i in $(seq 6); do c -o /dev/null -w '%{http_code} ' -H "Host: resil.test" http://127.0.0.1/split/x$i; done)
check "then only the live host answers ($codes)" test "$codes" = "200 200 200 200 200 200 "

# ---- circuit breakers: maxConnections 1, http1MaxPendingRequests 1, 20 clients ----
: > "$tmp/cb.out"
t0=$(date +%s%N)
for i in $(seq 20); do
	inns curl -s --max-time 15 -o "$tmp/cb.body.$i" -D "$tmp/cb.hdr.$i" -w '%{http_code}\n' \
		-H "Host: resil.test" http://127.0.0.1/slow >> "$tmp/cb.out" &
done
wait_for 20 sh -c "test \$(wc -l < '$tmp/cb.out') -ge 20"
t1=$(date +%s%N)
n200=$(grep -c '^200$' "$tmp/cb.out"); n503=$(grep -c '^503$' "$tmp/cb.out")
check "20 answers, nothing hangs ($n200 x 200, $n503 x 503 in $(( (t1 - t0) / 1000000 )) ms)" \
	test "$((n200 + n503))" -eq 20
check "overflow gives 503 ($n503) and some are served ($n200)" test "$n503" -ge 10 -a "$n200" -ge 2
uo=$(grep -l 'reset reason: overflow' "$tmp"/cb.body.* 2>/dev/null | head -1)
check "503 UO body is Envoy's" test -n "$uo"
check "x-envoy-overloaded: true on the 503" sh -c "grep -qi '^x-envoy-overloaded: true' '${uo%/*}/cb.hdr.${uo##*.}'"
check "access log carries UO" grep -q '"GET /slow HTTP/1.1" 503 UO ' "$tmp/access.log"
check "metric upstream_rq_pending_overflow = the 503s" \
	test "$(metric envoy_cluster_upstream_rq_pending_overflow '||slow.default')" = "$n503"
check "metric upstream_cx_overflow counted" test "$(metric envoy_cluster_upstream_cx_overflow '||slow.default')" -ge 1
check "queued and pending all drained" test "$(metric envoy_cluster_upstream_rq_pending_active '||slow.default')" = 0
# tcpKeepalive on the pooled upstream connection (time 60s: the kernel's timer shows it)
ka=$(inns ss -tno state established dst 10.244.6.1 | grep -o 'timer:(keepalive,[0-9.]*[a-z]*' | head -1)
check "tcpKeepalive: SO_KEEPALIVE with the idle time set ($ka)" \
	sh -c "echo '$ka' | grep -Eq 'keepalive,(5[0-9]|60)(\.[0-9]+)?sec'"
c http://127.0.0.1:15020/stats/prometheus > "$tmp/metrics"
check "metric upstream_rq_retry_overflow, labelled by cluster_name" \
	grep -q '^envoy_cluster_upstream_rq_retry_overflow{cluster_name="outbound|80||slow.default.svc.cluster.local"} 0$' "$tmp/metrics"

# http2MaxRequests 2 (max_requests, all protocols): 6 at once, 2 served (more if they
# straggle in), the rest 503 UO
: > "$tmp/mr.out"
for i in $(seq 6); do
	inns curl -s --max-time 15 -o /dev/null -w '%{http_code}\n' -H "Host: resil.test" http://127.0.0.1/slow2 >> "$tmp/mr.out" &
done
wait_for 20 sh -c "test \$(wc -l < '$tmp/mr.out') -ge 6"
n200=$(grep -c '^200$' "$tmp/mr.out"); n503=$(grep -c '^503$' "$tmp/mr.out")
check "http2MaxRequests 2: $n200 x 200, $n503 x 503 UO" test "$n200" -ge 2 -a "$n503" -ge 1 -a "$((n200 + n503))" -eq 6
check "counted as upstream_rq_pending_overflow (Envoy's counter for it)" \
	test "$(metric envoy_cluster_upstream_rq_pending_overflow '||slow2.default')" = "$n503"

# requests with bodies wait for the connection and send their whole body after
head -c 100000 /dev/zero > "$tmp/post"
: > "$tmp/sp.out"
for i in $(seq 6); do
	inns curl -s --max-time 15 -H "Host: resil.test" --data-binary @"$tmp/post" \
		http://127.0.0.1/slowpost/$i >> "$tmp/sp.out" &
done
wait_for 20 sh -c "test \$(wc -l < '$tmp/sp.out') -ge 6"
check "6 POSTs of 100 kB through maxConnections 1: all whole ($(sort "$tmp/sp.out" | uniq -c | tr -s ' \n' ' '))" \
	test "$(grep -c '^got 100000$' "$tmp/sp.out")" -eq 6
check "some of them waited (upstream_cx_overflow)" \
	test "$(metric envoy_cluster_upstream_cx_overflow '||slowpost.default')" -ge 1

# breaker counts are the cluster's, kept across a reload
before=$(metric envoy_cluster_upstream_rq_pending_overflow '||slow.default')
sed -i 's/name: unrelated/name: unrelated2/' "$tmp/objs/60-touch.yaml"
kill -HUP $pid
wait_for 5 sh -c "test \$(grep -c 'gateway: snapshot' '$tmp/log') -ge 4"
check "overflow count kept across a reload ($before)" \
	test "$(metric envoy_cluster_upstream_rq_pending_overflow '||slow.default')" = "$before"

# maxRetries 1: while one retry waits out its back-off, the others are not made (UO)
: > "$tmp/rb.out"
for i in $(seq 4); do
	inns curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' -H "Host: resil.test" http://127.0.0.1/rbudget/$i >> "$tmp/rb.out" &
done
wait_for 15 sh -c "test \$(wc -l < '$tmp/rb.out') -ge 4"
check "maxRetries 1: every request answered ($(tr '\n' ' ' < "$tmp/rb.out"))" test "$(grep -c '^503$' "$tmp/rb.out")" -eq 4
ro=$(metric envoy_cluster_upstream_rq_retry_overflow '||rbudget.default')
check "upstream_rq_retry_overflow counted ($ro)" test "$ro" -ge 1
check "access log: the retry not made carries UO" grep -q '"GET /rbudget/[0-9] HTTP/1.1" 503 [A-Z,]*UO' "$tmp/access.log"

# retries (Istio's default: 503 retried on another host) under maxConnections 1:
# the retry takes the pooled connection the breaker leaves, nothing waits
t0=$(date +%s%N)
codes=$(for i in $(seq 12); do c -o /dev/null -w '%{http_code} ' -H "Host: resil.test" http://127.0.0.1/retry1/$i; done)
t1=$(date +%s%N)
check "503s retried within maxConnections 1 ($codes in $(( (t1 - t0) / 1000000 )) ms)" \
	test "$codes" = "200 200 200 200 200 200 200 200 200 200 200 200 "

# ---- the seed's circuit-breaker.yaml: 2 replicas, default 10%: never ejects ----
CLP="||productpage.default.svc.cluster.local"
# 30 requests: each picks productpage-2 first with p = 1/2, and it needs 3 picks
# (consecutive5xxErrors) to reach the ejection decision (p of fewer: 4e-7)
codes=$(for i in $(seq 30); do c -o /dev/null -w '%{http_code} ' -H "Host: bookinfo.example.com" http://127.0.0.1/productpage; done)
check "productpage served (503s retried by Istio's default policy: $codes)" sh -c "echo '$codes' | grep -q 200"
check "productpage-2 not ejected (100*1/2 > 10%)" test "$(ep_field "$CLP" 10.244.2.10 health)" = healthy
check "ejections_overflow counted instead" test "$(metric envoy_cluster_outlier_detection_ejections_overflow "$CLP")" -ge 1
check "ejections_enforced_total stays 0" test "$(metric envoy_cluster_outlier_detection_ejections_enforced_total "$CLP")" = 0
check "vipgatectl analyze warns and says what to set" \
	sh -c "'$ctl' -s '$tmp/sock' analyze | grep 'productpage-cb' | grep 'never ejects' | grep -q 'maxEjectionPercent >= 50'"

# a clean stop (under the sanitizers, a leak or an error fails the exit status)
term_check

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
