#!/usr/bin/env bash
# Upstream TLS end to end: nginx "sidecars" requiring a client certificate
# (ISTIO_MUTUAL by auto mTLS: the right SPIFFE SAN answers, a wrong one is
# refused with 503 UF and the reason logged), a DestinationRule SIMPLE
# with auto SNI and SAN validation, MUTUAL with a credentialName Secret, a
# missing Secret (503 NC), plain text beside them, the gateway identity
# rotated on disk, and TLS session resumption.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }

REV=10.244.1.10 RAT=10.244.1.11 DET=10.244.1.12 PLN=10.244.1.13 MUT=10.244.1.14 SIL=10.244.1.15
gw_ns_up $REV $RAT $DET $PLN $MUT $SIL

pki=$tmp/pki; mkdir -p "$pki"
o() { openssl "$@" >/dev/null 2>&1; }
o req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/O=cluster.local/CN=mesh root" -keyout "$pki/ca.key" -out "$pki/ca.crt"
cert() { # name CN SAN...
	local n=$1 cn=$2; shift 2
	o req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$cn" \
		-keyout "$pki/$n.key" -out "$pki/$n.csr"
	(IFS=,; printf 'subjectAltName=%s\n' "$*") > "$pki/$n.ext"
	o x509 -req -in "$pki/$n.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
		-days 2 -extfile "$pki/$n.ext" -out "$pki/$n.crt"
}
gwid=spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account
cert reviews reviews URI:spiffe://cluster.local/ns/default/sa/reviews
cert ratings ratings URI:spiffe://cluster.local/ns/default/sa/intruder
cert details details.test DNS:details.test
cert mutual mutual URI:spiffe://cluster.local/ns/default/sa/mutual
cert gw1 gateway-one URI:$gwid
cert gw2 gateway-two URI:$gwid
cert client mutual-client DNS:mutual-client
# a CRL revoking the details certificate (caCrl)
printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s\ncrlnumber = %s\ndefault_md = sha256\ndefault_crl_days = 2\n' \
	"$pki/index.txt" "$pki/crlnumber" > "$pki/ca.cnf"
: > "$pki/index.txt"; echo 01 > "$pki/crlnumber"
o ca -config "$pki/ca.cnf" -keyfile "$pki/ca.key" -cert "$pki/ca.crt" -revoke "$pki/details.crt"
o ca -config "$pki/ca.cnf" -keyfile "$pki/ca.key" -cert "$pki/ca.crt" -gencrl -out "$pki/crl.pem"
mkdir -p "$tmp/identity"
cp "$pki/gw1.crt" "$tmp/identity/cert-chain.pem"
cp "$pki/gw1.key" "$tmp/identity/key.pem"
cp "$pki/ca.crt" "$tmp/identity/root-cert.pem"
serial() { openssl x509 -noout -serial -in "$1" | cut -d= -f2; }

# nginx: mTLS servers echo what they saw of the client and the session
mkdir -p "$tmp/ngx"
head -c 3000000 /dev/urandom > "$tmp/ngx/big.bin"
echo_line='"$server_name $request_uri serial=$ssl_client_serial reused=$ssl_session_reused sni=$ssl_server_name alpn=$ssl_alpn_protocol dn=$ssl_client_s_dn creq=$connection_requests\n"'
tls_server() { # addr name cert verify_client
	echo "  server { listen $1:9080 ssl; server_name $2;"
	echo "    ssl_certificate $pki/$3.crt; ssl_certificate_key $pki/$3.key;"
	echo "    ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:$2:1m;"
	if [ "$4" = on ]; then
		echo "    ssl_client_certificate $pki/ca.crt; ssl_verify_client on;"
		echo "    ssl_conf_command VerifyMode Peer,Request,Require;"
	fi
	echo "    access_log $tmp/ngx/$2.log seen; location = /big.bin { root $tmp/ngx; }"
	echo "    location / { default_type text/plain; return 200 $echo_line; } }"
}
{
	echo "daemon off; user root; worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/ngx/error.log;"
	echo "events { worker_connections 1024; }"
	echo "http { access_log off; keepalive_requests 100000;"
	echo "  log_format seen '\$host \$request_uri serial=\$ssl_client_serial';"
	tls_server $REV reviews reviews on
	tls_server $RAT ratings ratings on
	tls_server $DET details details off
	tls_server $MUT mutual mutual on
	echo "  server { listen $PLN:9080; location / { default_type text/plain; return 200 \"plain \$request_uri\\n\"; } }"
	echo "}"
} > "$tmp/ngx/nginx.conf"
inns nginx -c "$tmp/ngx/nginx.conf" -p "$tmp/ngx" >"$tmp/ngx/out" 2>&1 &
wait_for 5 test -s "$tmp/nginx.pid" || { fail "nginx did not start"; cat "$tmp/ngx/out" "$tmp/ngx/error.log"; exit 1; }

mkdir -p "$tmp/objs"
svc_pod() { # name addr sa mtls(0/1)
	cat <<EOC
---
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: default}
spec: {selector: {app: $1}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: $1-1
  namespace: default
  labels: {app: $1$([ "$4" = 1 ] && echo ', security.istio.io/tlsMode: istio')}
spec: {serviceAccountName: $3, nodeName: node-a, containers: [{name: app, image: x}]}
status: {phase: Running, podIP: $2, conditions: [{type: Ready, status: "True"}]}
EOC
}
{
	svc_pod reviews $REV reviews 1
	svc_pod ratings $RAT ratings 1
	svc_pod details $DET details 0
	svc_pod plain $PLN plain 0
	svc_pod mutual $MUT mutual 0
	svc_pod lost $MUT mutual 0
	svc_pod detailsplain $DET details 0
	svc_pod badfile $PLN plain 0
	svc_pod silent $SIL silent 1
	svc_pod revoked $DET details 0
	python3 - "$pki/client.crt" "$pki/client.key" "$pki/ca.crt" <<'PY'
import sys
ind = lambda p: ''.join('    ' + l for l in open(p))
print('---\napiVersion: v1\nkind: Secret\nmetadata: {name: mutual-client, namespace: istio-system}\nstringData:')
print('  tls.crt: |\n' + ind(sys.argv[1]) + '  tls.key: |\n' + ind(sys.argv[2]) + '  ca.crt: |\n' + ind(sys.argv[3]), end='')
PY
	cat <<EOC
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mesh, namespace: default}
spec:
  hosts: ["*"]
  gateways: [istio-system/gw]
  http:
  - match: [{uri: {prefix: /reviews}}]
    route: [{destination: {host: reviews}}]
  - match: [{uri: {prefix: /ratings}}]
    route: [{destination: {host: ratings}}]
  - match: [{uri: {prefix: /details}}]
    route: [{destination: {host: details}}]
  - match: [{uri: {prefix: /mutual}}]
    route: [{destination: {host: mutual}}]
  - match: [{uri: {prefix: /lost}}]
    route: [{destination: {host: lost}}]
  - match: [{uri: {prefix: /plain}}]
    route: [{destination: {host: plain}}]
  - match: [{uri: {prefix: /dplain}}]
    route: [{destination: {host: detailsplain}}]
  - match: [{uri: {prefix: /badfile}}]
    route: [{destination: {host: badfile}}]
  - match: [{uri: {prefix: /silent}}]
    route: [{destination: {host: silent}}]
  - match: [{uri: {prefix: /revoked}}]
    route: [{destination: {host: revoked}}]
  - match: [{uri: {exact: /big.bin}}]
    route: [{destination: {host: mutual}}]
  - match: [{uri: {prefix: /mirrored}}]
    route: [{destination: {host: plain}}]
    mirror: {host: reviews}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy: {connectionPool: {http: {maxRequestsPerConnection: 1}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: details, namespace: default}
spec:
  host: details
  trafficPolicy: {tls: {mode: SIMPLE, caCertificates: $pki/ca.crt}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: mutual, namespace: default}
spec:
  host: mutual
  trafficPolicy: {tls: {mode: MUTUAL, credentialName: mutual-client, sni: mutual}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: revoked, namespace: default}
spec:
  host: revoked
  trafficPolicy: {tls: {mode: SIMPLE, caCertificates: $pki/ca.crt, caCrl: $pki/crl.pem, sni: details.test}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: silent, namespace: default}
spec:
  host: silent
  trafficPolicy: {connectionPool: {tcp: {connectTimeout: 1s}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: badfile, namespace: default}
spec:
  host: badfile
  trafficPolicy: {tls: {mode: SIMPLE, caCertificates: $tmp/no-such-ca.pem}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: lost, namespace: default}
spec:
  host: lost
  trafficPolicy: {tls: {mode: MUTUAL, credentialName: no-such-secret}}
EOC
} > "$tmp/objs/50-mtls.yaml"

cat > "$tmp/vipgate.yaml" <<EOC
node: {name: node-a}
objects: {paths: [objs]}
control: {socket: $tmp/sock}
addresses: {interface: lo}
state_dir: state
gateway:
  workers: 1
  bind: ["0.0.0.0"]
  drain_timeout: 2s
  access_log: {path: $tmp/access.log, format: json}
  identity: {cert: identity/cert-chain.pem, key: identity/key.pem, ca: identity/root-cert.pem}
log: {level: debug}
EOC
mkdir -p "$tmp/state"
(cd "$tmp" && exec ip netns exec "$ns" "$vipgated" -f -c "$tmp/vipgate.yaml") >"$tmp/log" 2>&1 &
pid=$!
wait_for 10 inns curl -sf -o /dev/null http://127.0.0.1:15021/healthz/ready || { fail "vipgated not ready"; exit 1; }

c() { inns curl -s --max-time 5 "$@"; }
s1=$(serial "$pki/gw1.crt") s2=$(serial "$pki/gw2.crt")

# ISTIO_MUTUAL by auto mTLS: the backend sees the gateway's certificate, SNI and ALPN
out=$(c http://127.0.0.1/reviews/1)
check "auto mTLS to reviews answers (got '$out')" sh -c "echo '$out' | grep -q '^reviews /reviews/1 serial=$s1 '"
check "SNI is outbound_.9080_._.reviews.default.svc.cluster.local" sh -c \
	"echo '$out' | grep -q 'sni=outbound_.9080_._.reviews.default.svc.cluster.local '"
check "ALPN offer is Istio's (nginx took http/1.1)" sh -c "echo '$out' | grep -q 'alpn=http/1.1 '"
inns curl -sk --max-time 5 -o /dev/null https://$REV:9080/
check "reviews refuses a direct client without a certificate (curl rc $?)" test $? -ne 0

# a wrong SAN is refused: 503 UF, the reason in the daemon's log and the access log
code=$(c -o "$tmp/body" -w '%{http_code}' http://127.0.0.1/ratings/1)
check "wrong SAN: 503 (got $code)" test "$code" = 503
check "wrong SAN: body names the transport failure" grep -q 'transport failure reason: certificate verify failed: SAN spiffe://cluster.local/ns/default/sa/intruder does not match spiffe://cluster.local/ns/default/sa/ratings' "$tmp/body"
check "wrong SAN: logged" grep -q 'TLS handshake: certificate verify failed: SAN spiffe://cluster.local/ns/default/sa/intruder' "$tmp/log"
check "wrong SAN: access log has UF and the reason" python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["path"] == "/ratings/1":
        assert e["response_code"] == "503" and "UF" in e["response_flags"].split(","), e
        assert "does not match" in e["upstream_transport_failure_reason"], e
        sys.exit(0)
sys.exit(1)
' "$tmp/access.log"

# SIMPLE: the CA file, auto SNI from the Host, auto SAN validation
out=$(c -H 'Host: details.test' http://127.0.0.1/details/1)
check "SIMPLE with auto SNI (got '$out')" sh -c "echo '$out' | grep -q '^details /details/1 serial= .*sni=details.test '"
code=$(c -o "$tmp/body" -w '%{http_code}' -H 'Host: elsewhere.test' http://127.0.0.1/details/2)
check "SIMPLE: a Host the certificate does not name is refused (got $code)" sh -c \
	"test '$code' = 503 && grep -q 'hostname mismatch' '$tmp/body'"

code=$(c -o "$tmp/body" -w '%{http_code}' http://127.0.0.1/revoked/1)
check "caCrl: a revoked server certificate is refused (got $code)" sh -c \
	"test '$code' = 503 && grep -q 'certificate revoked' '$tmp/body'"

# one endpoint, a TLS pool and a plain one: a plain request never rides a
# pooled TLS connection (nginx answers plain HTTP on its TLS port with 400)
code=$(c -o "$tmp/body" -w '%{http_code}' -H 'Host: details.test' http://127.0.0.1/details/3)
code2=$(c -o "$tmp/body2" -w '%{http_code}' -H 'Host: details.test' http://127.0.0.1/dplain/1)
check "plain and TLS pools to one ip:port stay apart (TLS $code, plain $code2)" sh -c \
	"test '$code' = 200 && test '$code2' = 400 && grep -q 'plain HTTP request was sent to HTTPS port' '$tmp/body2'"
code=$(c -o "$tmp/body" -w '%{http_code}' http://127.0.0.1/badfile/1)
check "unreadable caCertificates: 503 NC (got $code)" sh -c "test '$code' = 503 && grep -q 'cluster_not_found: caCertificates' '$tmp/body'"
check "unreadable caCertificates: analyze says so" sh -c "'$ctl' -s '$tmp/sock' analyze | grep -q 'no-such-ca.pem'"

# a server that accepts and never answers the handshake: connectTimeout covers it
inns python3 -c '
import socket, time
s = socket.socket(); s.bind(("'$SIL'", 9080)); s.listen(64)
s.settimeout(30); c = []
try:
    while True: c.append(s.accept())
except OSError: pass' &
wait_for 5 inns bash -c "exec 3<>/dev/tcp/$SIL/9080"
t0=$(date +%s%N)
code=$(c -o "$tmp/body" -w '%{http_code}' --max-time 10 http://127.0.0.1/silent/1)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "a silent TLS server: 503 UF after the connect timeout (got $code in $ms ms)" sh -c \
	"test '$code' = 503 && test $ms -lt 6000 && grep -q 'TLS handshake timed out' '$tmp/body'"

# MUTUAL with a credentialName Secret; a missing Secret leaves the cluster out (503 NC)
out=$(c http://127.0.0.1/mutual/1)
check "MUTUAL presents the Secret's certificate (got '$out')" sh -c "echo '$out' | grep -q '^mutual /mutual/1 .*sni=mutual .*dn=CN=mutual-client'"
out=$(c http://127.0.0.1/mutual/2)
check "MUTUAL: the next request reuses the pooled connection (got '$out')" sh -c "echo '$out' | grep -q 'creq=2$'"
code=$(c -o "$tmp/body" -w '%{http_code}' http://127.0.0.1/lost/1)
check "missing Secret: 503 NC (got $code)" sh -c "test '$code' = 503 && grep -q 'cluster_not_found: .*no-such-secret not found' '$tmp/body'"
check "missing Secret: analyze says so" sh -c "'$ctl' -s '$tmp/sock' analyze | grep -q 'no-such-secret not found'"

# a large answer over upstream mTLS, to a fast and to a slow client
sum=$(sha256sum < "$tmp/ngx/big.bin")
check "3 MB answer over upstream mTLS arrives whole" test "$(c --max-time 20 http://127.0.0.1/big.bin | sha256sum)" = "$sum"
check "3 MB answer over upstream mTLS to a slow client arrives whole" \
	test "$(c --max-time 20 --limit-rate 1500k http://127.0.0.1/big.bin | sha256sum)" = "$sum"

# Envoy's cluster TLS counters
check "ssl_fail_verify_san counted for ratings" test "$(metric envoy_cluster_ssl_fail_verify_san '||ratings.')" -ge 1
check "ssl_fail_verify_error counted for revoked (CRL)" test "$(metric envoy_cluster_ssl_fail_verify_error '||revoked.')" -ge 1
check "ssl_connection_error counted for silent (handshake timeout)" test "$(metric envoy_cluster_ssl_connection_error '||silent.')" -ge 1
check "ssl_handshake counted for details" test "$(metric envoy_cluster_ssl_handshake '||details.')" -ge 1
check "no verification failure counted for details" test "$(metric envoy_cluster_ssl_fail_verify_san '||details.')" = 0

# a mirror to an auto-mTLS cluster goes with the cluster's TLS, as Envoy's shadow does
out=$(c http://127.0.0.1/mirrored/1)
check "mirrored request answered by its route (got '$out')" test "$out" = "plain /mirrored/1"
check "the mirror reached reviews over mTLS with the gateway's certificate" \
	wait_for 5 grep -q -- "-shadow /mirrored/1 serial=$s1\$" "$tmp/ngx/reviews.log"

# plain text where nothing asks for TLS
out=$(c http://127.0.0.1/plain/1)
check "plain text to an endpoint without tlsMode (got '$out')" test "$out" = "plain /plain/1"

check "vipgatectl gateway clusters shows the TLS modes" sh -c "'$ctl' -s '$tmp/sock' --json gateway clusters |
	python3 -c 'import json,sys; m={c[\"host\"].split(\".\")[0]: c[\"tls\"] for c in json.load(sys.stdin)[\"clusters\"]}; assert m[\"details\"]==\"SIMPLE\" and m[\"mutual\"]==\"MUTUAL\" and m[\"reviews\"]==\"AUTO\", m'"
check "vipgatectl gateway clusters shows auto mTLS per endpoint" sh -c "'$ctl' -s '$tmp/sock' --json gateway clusters |
	python3 -c 'import json,sys; e={c[\"host\"].split(\".\")[0]: c[\"endpoints\"][0][\"tls\"] for c in json.load(sys.stdin)[\"clusters\"] if c[\"endpoints\"]}; assert e[\"reviews\"]==\"ISTIO_MUTUAL\" and e[\"plain\"]==\"DISABLE\", e'"

# session resumption: reviews closes after each request (maxRequestsPerConnection 1)
c -o /dev/null http://127.0.0.1/reviews/warm
out=$(c http://127.0.0.1/reviews/again)
check "a new connection resumes the session (got '$out')" sh -c "echo '$out' | grep -q 'reused=r '"
check "ssl_session_reused counted for reviews" test "$(metric envoy_cluster_ssl_session_reused '||reviews.')" -ge 1

# rotation: a new identity on disk is presented by new connections, no restart
cp "$pki/gw2.key" "$tmp/identity/key.pem.new" && mv "$tmp/identity/key.pem.new" "$tmp/identity/key.pem"
cp "$pki/gw2.crt" "$tmp/identity/cert-chain.pem.new" && mv "$tmp/identity/cert-chain.pem.new" "$tmp/identity/cert-chain.pem"
check "rotated identity presented within 5 s" wait_for 5 sh -c "ip netns exec $ns curl -s --max-time 2 http://127.0.0.1/reviews/rot | grep -q 'serial=$s2 reused=\\. '"
check "the daemon kept running" kill -0 $pid
out=$(c http://127.0.0.1/reviews/after)
check "after rotation still the new identity (got '$out')" sh -c "echo '$out' | grep -q 'serial=$s2 '"

# a DestinationRule's caCertificates file replaced on disk: taken without a
# reload (Istio's agent watches such files), new connections use it
code() { ip netns exec "$ns" curl -s --max-time 2 -o /dev/null -w '%{http_code}' -H 'Host: details.test' "$@"; }
o req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/CN=another root" -keyout "$pki/other.key" -out "$pki/other.crt"
cp "$pki/ca.crt" "$pki/ca.keep"
check "details answers before the CA file changes" test "$(code http://127.0.0.1/details/r0)" = 200
cp "$pki/other.crt" "$pki/ca.crt.new" && mv "$pki/ca.crt.new" "$pki/ca.crt"
check "another CA in caCertificates: refused within 5 s, no reload" \
	wait_for 5 sh -c "test \$(ip netns exec $ns curl -s --max-time 2 -o /dev/null -w '%{http_code}' -H 'Host: details.test' http://127.0.0.1/details/r1) = 503"
check "the change is logged" grep -q "$pki/ca.crt changed: upstream TLS contexts made again" "$tmp/log"
cp "$pki/ca.keep" "$pki/ca.crt.new" && mv "$pki/ca.crt.new" "$pki/ca.crt"
check "the right CA back: answered within 5 s" \
	wait_for 5 sh -c "test \$(ip netns exec $ns curl -s --max-time 2 -o /dev/null -w '%{http_code}' -H 'Host: details.test' http://127.0.0.1/details/r2) = 200"
# rewritten broken: the last good context stays in force (Envoy keeps the
# last good secret when an update is rejected), the error is logged
printf -- '-----BEGIN CERTIFICATE-----\ntruncated\n' > "$pki/ca.crt.new" && mv "$pki/ca.crt.new" "$pki/ca.crt"
check "a broken CA file is reported, the previous context kept" \
	wait_for 5 grep -q "caCertificates.*the previous context is kept" "$tmp/log"
got=$(code http://127.0.0.1/details/r3)
check "a broken CA file: still answered (got $got)" test "$got" = 200
cp "$pki/ca.keep" "$pki/ca.crt.new" && mv "$pki/ca.crt.new" "$pki/ca.crt"

# a clean exit frees every context and cached session (sanitizer builds report here)
kill -TERM $pid
wait_for 10 sh -c "! kill -0 $pid" && pid=
check "clean exit, no sanitizer report" sh -c "test -z '$pid' && ! grep -q 'Sanitizer' '$tmp/log'"

echo "passed $passes, failed $fails"
[ $fails -eq 0 ]
