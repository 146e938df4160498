#!/usr/bin/env bash
# AUTO_PASSTHROUGH end to end (Istio's east-west gateway mode): no
# VirtualService; the client's SNI outbound_.PORT_.SUBSET_.HOST names the
# Service, its port and a DestinationRule subset; two nginx TLS backends with
# their own certificates (the client sees the backend's); an unknown
# service, a wrong port, an undefined subset, a non-Istio SNI, a host
# outside the server's hosts and a hello without an Istio ALPN are closed.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }
command -v nginx >/dev/null || { echo "SKIP: nginx missing"; exit 77; }

A=10.244.1.10 B=10.244.2.10
gw_ns_up $A $B
VIP=192.168.1.200

pki=$tmp/pki
gw_selfsigned a a.test backend-a
gw_selfsigned b b.test backend-b
nginx_tls_start "$A:8443 a backend-a" "$B:8443 b backend-b" ||
	{ fail "nginx did not start"; exit 1; }

mkdir -p "$tmp/objs"
cp "$src"/etc/objects.d/*.yaml "$tmp/objs/"
cat > "$tmp/objs/60-autopass.yaml" <<EOC
---
apiVersion: v1
kind: Service
metadata: {name: svc-a, namespace: default}
spec: {ports: [{port: 8443, name: tls}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: svc-a, namespace: default}
subsets: [{addresses: [{ip: $A}], ports: [{port: 8443, name: tls}]}]
---
apiVersion: v1
kind: Service
metadata: {name: rev, namespace: default}
spec: {selector: {app: rev}, ports: [{port: 8443, name: tls}]}	# its endpoints: the Pods
---
apiVersion: v1
kind: Pod
metadata: {name: rev-v1, namespace: default, labels: {app: rev, version: v1}}
spec: {nodeName: node-a, containers: [{name: rev}]}
status: {phase: Running, podIP: $A, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: rev-v2, namespace: default, labels: {app: rev, version: v2}}
spec: {nodeName: node-a, containers: [{name: rev}]}
status: {phase: Running, podIP: $B, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: rev, namespace: default}
spec:
  host: rev
  # upstream TLS of a VirtualService route; AUTO_PASSTHROUGH adds none
  trafficPolicy: {tls: {mode: SIMPLE, insecureSkipVerify: true}}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: v1
kind: Service
metadata: {name: outside, namespace: other}
spec: {ports: [{port: 8443, name: tls}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: outside, namespace: other}
subsets: [{addresses: [{ip: $A}], ports: [{port: 8443, name: tls}]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: eastwest, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 15443, name: tls, protocol: TLS}
    hosts: ["*.default.svc.cluster.local"]
    tls: {mode: AUTO_PASSTHROUGH}
EOC

GW_ALOG_FORMAT=json vipgated_start || { fail "vipgated not ready"; exit 1; }
wait_for 5 sh -c "ip -n $ns -o addr show dev lo | grep -q ' $VIP/'" || fail "VIP not local"

D=default.svc.cluster.local
# the client offers Istio's ALPN as a sidecar does (istiod's chains require one), and
# http/1.1, which nginx takes (it refuses a hello with no protocol it knows)
subj() { # sni [alpn]: the certificate subject the client sees through the gateway
	inns timeout 5 openssl s_client -connect $VIP:15443 -servername "$1" -alpn "${2:-istio,http/1.1}" \
		</dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null | tr -d ' '; }
get() { # sni: the backend's answer to a request inside the TLS
	printf 'GET / HTTP/1.0\r\n\r\n' | inns timeout 5 openssl s_client -quiet -connect $VIP:15443 \
		-servername "$1" -alpn istio-http/1.1,http/1.1 2>/dev/null | tail -1; }

s=$(subj outbound_.8443_._.svc-a.$D)
check "svc-a, no subset: backend a's own certificate ($s)" sh -c "echo '$s' | grep -q 'O=backend-a'"
out=$(get outbound_.8443_._.svc-a.$D)
check "the request inside reaches backend a, SNI intact (got '$out')" \
	test "$out" = "backend-a outbound_.8443_._.svc-a.$D"
s=$(subj outbound_.8443_.v2_.rev.$D)
check "rev subset v2: backend b's certificate ($s)" sh -c "echo '$s' | grep -q 'O=backend-b'"
s=$(subj outbound_.8443_.v1_.rev.$D)
check "rev subset v1: backend a's certificate ($s)" sh -c "echo '$s' | grep -q 'O=backend-a'"
# no subset: both endpoints, the client's TLS to each (no TLS of the gateway's
# own though the DestinationRule has tls SIMPLE)
seen=
for i in $(seq 12); do seen="$seen $(subj outbound_.8443_._.rev.$D)"; done
check "rev without a subset: both backends over 12 connections" \
	sh -c "echo '$seen' | grep -q backend-a && echo '$seen' | grep -q backend-b"
for sni in outbound_.8443_._.nope.$D outbound_.9443_._.svc-a.$D outbound_.8443_.v3_.rev.$D \
	svc-a.$D outbound_.8443_._.outside.other.svc.cluster.local "outbound_.08443_._.svc-a.$D"; do
	s=$(subj "$sni")
	check "SNI $sni: closed, no certificate ('$s')" test -z "$s"
done
s=$(subj outbound_.8443_._.svc-a.$D http/1.1)
check "svc-a without an Istio ALPN: closed ('$s')" test -z "$s"
s=$(inns timeout 5 openssl s_client -connect $VIP:15443 -noservername </dev/null 2>/dev/null | grep -c 'BEGIN CERT')
check "no SNI: closed ($s certificates)" test "$s" = 0
out=$(raw $VIP 15443 'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n')
check "not TLS: closed without an answer (got '${out:0:40}')" test -z "$out"
check "access log: a closed one flagged NR" sh -c "grep -q '\"response_flags\":\"NR\"' '$tmp/access.log'"
check "access log: the cluster outbound_.8443_.v2_.rev" \
	sh -c "grep -q 'outbound_.8443_.v2_.rev.$D' '$tmp/access.log'"

# control: listeners and routes show the clusters by name; analyze says nothing of it
"$ctl" -s "$tmp/sock" gateway listeners > "$tmp/lis.txt" 2>&1
check "gateway listeners: 15443 TLS, AUTO_PASSTHROUGH to 5 clusters" \
	sh -c "grep '15443 *TLS' '$tmp/lis.txt' | grep -q 'AUTO_PASSTHROUGH: outbound_.\\* (5 clusters)'"
"$ctl" -s "$tmp/sock" --json gateway listeners > "$tmp/lis.json" 2>&1
check "gateway listeners (JSON): the cluster names" grep -q "outbound_.8443_.v1_.rev.$D" "$tmp/lis.json"
"$ctl" -s "$tmp/sock" gateway routes > "$tmp/routes.txt" 2>&1
check "gateway routes: an AUTO_PASSTHROUGH row to the SNI-DNAT cluster" \
	sh -c "grep 'AUTO_PASSTHROUGH' '$tmp/routes.txt' | grep -q 'outbound_.8443_.v2_.rev.$D'"
check "gateway routes: the Gateway named" sh -c "grep -q 'Gateway default/eastwest' '$tmp/routes.txt'"
check "gateway routes: not the service outside the hosts" sh -c "! grep -q 'outside.other' '$tmp/routes.txt'"
check "analyze: no AUTO_PASSTHROUGH note" sh -c "! '$ctl' -s '$tmp/sock' analyze | grep -q 'AUTO_PASSTHROUGH'"

[ -n "${AP_SHOW:-}" ] && { cat "$tmp/lis.txt" "$tmp/routes.txt"; "$ctl" -s "$tmp/sock" analyze; }
term_check
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
