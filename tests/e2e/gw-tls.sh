#!/usr/bin/env bash
# TLS termination end to end: the seed's HTTPS server (SIMPLE, its
# credentialName Secret), SNI choosing between servers on one port, MUTUAL
# refusing a client without a certificate, httpsRedirect, a Secret change
# taking effect for new handshakes, and a reload that keeps listeners open.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }

gw_ns_up 10.244.1.10 10.244.2.10
nginx_start "10.244.1.10:9080 productpage-1" "10.244.2.10:9080 productpage-2" ||
	{ fail "nginx did not start"; exit 1; }

# a CA, a server certificate each for mtls.test and other.test, a client certificate
pki=$tmp/pki
o() { openssl "$@" >/dev/null 2>&1; }
gw_pki_ca
cert() { gw_pki_cert "$@"; }	# name cn O
cert mtls mtls.test first; cert other other.test first; cert client client.test first
cert other2 other.test second; cert dual-ec dual.test ec
# and an RSA pair for dual.test (credentialNames: RSA and ECDSA side by side)
o req -newkey rsa:2048 -nodes -subj "/O=rsa/CN=dual.test" -keyout "$pki/dual-rsa.key" -out "$pki/dual-rsa.csr"
printf 'subjectAltName=DNS:dual.test\n' > "$pki/dual-rsa.ext"
o x509 -req -in "$pki/dual-rsa.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
	-days 2 -extfile "$pki/dual-rsa.ext" -out "$pki/dual-rsa.crt"
# an RSA pair for legacy.test, whose server names its own cipherSuites
o req -newkey rsa:2048 -nodes -subj "/O=legacy/CN=legacy.test" -keyout "$pki/legacy.key" -out "$pki/legacy.csr"
printf 'subjectAltName=DNS:legacy.test\n' > "$pki/legacy.ext"
o x509 -req -in "$pki/legacy.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
	-days 2 -extfile "$pki/legacy.ext" -out "$pki/legacy.crt"

# an expired certificate for old.test (served all the same, as Envoy serves it)
python3 - "$pki" <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
k = ec.generate_private_key(ec.SECP256R1())
n = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "old"), x509.NameAttribute(NameOID.COMMON_NAME, "old.test")])
t = datetime.datetime.now(datetime.timezone.utc)
c = (x509.CertificateBuilder().subject_name(n).issuer_name(n).public_key(k.public_key())
     .serial_number(x509.random_serial_number()).not_valid_before(t - datetime.timedelta(days=2))
     .not_valid_after(t - datetime.timedelta(days=1)).sign(k, hashes.SHA256()))
open(sys.argv[1] + "/old.crt", "wb").write(c.public_bytes(serialization.Encoding.PEM))
open(sys.argv[1] + "/old.key", "wb").write(k.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
PY

mkdir -p "$tmp/objs"
cp "$src"/etc/objects.d/*.yaml "$tmp/objs/"
secret() { gw_secret "$@"; }	# name crt key [ca]
{
	secret mtls-cred "$pki/mtls.crt" "$pki/mtls.key" "$pki/ca.crt"
	secret dual-ec "$pki/dual-ec.crt" "$pki/dual-ec.key"
	secret dual-rsa "$pki/dual-rsa.crt" "$pki/dual-rsa.key"
	secret legacy-cred "$pki/legacy.crt" "$pki/legacy.key"
	secret old-cred "$pki/old.crt" "$pki/old.key"
	cat <<'EOC'
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: secure, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-mtls, protocol: HTTPS}
    hosts: [mtls.test]
    tls: {mode: MUTUAL, credentialName: mtls-cred}
  - port: {number: 443, name: https-other, protocol: HTTPS}
    hosts: [other.test]
    tls: {mode: SIMPLE, credentialName: other-cred}
  - port: {number: 443, name: https-dual, protocol: HTTPS}
    hosts: [dual.test]
    tls: {mode: SIMPLE, credentialNames: [dual-ec, dual-rsa]}
  - port: {number: 443, name: https-old, protocol: HTTPS}
    hosts: [old.test]
    tls: {mode: SIMPLE, credentialName: old-cred}
  - port: {number: 443, name: https-legacy, protocol: HTTPS}
    hosts: [legacy.test]
    tls: {mode: SIMPLE, credentialName: legacy-cred, cipherSuites: [ECDHE-RSA-AES128-SHA]}
  - port: {number: 8443, name: https-any, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: other-cred}
  - port: {number: 8080, name: http-redirect, protocol: HTTP}
    hosts: ["*"]
    tls: {httpsRedirect: true}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: secure, namespace: default}
spec:
  hosts: [mtls.test, other.test]
  gateways: [secure]
  http:
  - route: [{destination: {host: productpage}}]
EOC
} > "$tmp/objs/60-tls.yaml"
secret other-cred "$pki/other.crt" "$pki/other.key" > "$tmp/objs/61-other.yaml"

GW_ALOG_FORMAT=json vipgated_start || { fail "vipgated not ready"; exit 1; }
VIP=192.168.1.200
wait_for 5 sh -c "ip -n $ns -o addr show dev lo | grep -q ' $VIP/'" || fail "VIP not local"
c() { inns curl -s --max-time 5 "$@"; }

out=$(c -k --resolve bookinfo.example.com:443:$VIP https://bookinfo.example.com/productpage)
case $out in productpage-*" /productpage") ok "seed HTTPS: $out";; *) fail "seed HTTPS: got '$out'";; esac

subj() { inns openssl s_client -connect $VIP:443 -servername "$1" </dev/null 2>/dev/null |
	openssl x509 -noout -subject 2>/dev/null | tr -d ' '; }
check "SNI other.test gets its certificate ($(subj other.test))" sh -c "echo '$(subj other.test)' | grep -q 'O=first,CN=other.test'"
check "SNI bookinfo.example.com gets the seed's ($(subj bookinfo.example.com))" sh -c "echo '$(subj bookinfo.example.com)' | grep -q 'CN=bookinfo.example.com'"
# Envoy's filter chain match: no SNI, or an SNI no server of the port names,
# matches no chain and the connection is closed at the handshake; a "*"
# server takes every name and none
hs() { # port [s_client options]: 0 when a certificate came back
	local port=$1; shift
	inns timeout 5 openssl s_client -connect $VIP:$port "$@" </dev/null 2>/dev/null | grep -q '^subject='; }
nohs() { ! hs "$@"; }
check "no SNI on 443 (every server names hosts): refused" nohs 443 -noservername
check "unknown SNI nobody.test on 443: refused" nohs 443 -servername nobody.test
check "known SNI other.test on 443: served" hs 443 -servername other.test
check "a \"*\" server takes no SNI" hs 8443 -noservername
check "a \"*\" server takes any SNI" hs 8443 -servername whatever.example
out=$(c --cacert "$pki/ca.crt" --resolve other.test:443:$VIP https://other.test/x)
check "SIMPLE other.test verified by its CA (got '$out')" sh -c "echo '$out' | grep -q '^productpage-. /x$'"

# large bodies both ways through TLS, one side slow (back-pressure on a TLS connection)
sum=$(sha256sum < "$tmp/ngx/big.bin")
got=$(inns curl -s --max-time 20 --cacert "$pki/ca.crt" --resolve other.test:443:$VIP https://other.test/big.bin | sha256sum)
check "3 MB answer through TLS arrives whole" test "$got" = "$sum"
got=$(inns curl -s --max-time 20 --limit-rate 1500k --cacert "$pki/ca.crt" --resolve other.test:443:$VIP https://other.test/big.bin | sha256sum)
check "3 MB answer to a slow TLS reader arrives whole" test "$got" = "$sum"
out=$(c --max-time 20 -H "Transfer-Encoding: chunked" --data-binary @"$tmp/ngx/big.bin" --cacert "$pki/ca.crt" --resolve other.test:443:$VIP https://other.test/upload)
check "3 MB chunked upload through TLS (got '$out')" test "$out" = "got 3000000"
out=$(c --max-time 20 --data-binary @"$tmp/ngx/big.bin" --cacert "$pki/ca.crt" --resolve other.test:443:$VIP https://other.test/upload)
check "3 MB content-length upload through TLS (got '$out')" test "$out" = "got 3000000"

c --cacert "$pki/ca.crt" --resolve mtls.test:443:$VIP -o /dev/null https://mtls.test/
check "MUTUAL refuses a client without a certificate (curl rc $?)" test $? -ne 0
out=$(c --cacert "$pki/ca.crt" --cert "$pki/client.crt" --key "$pki/client.key" --resolve mtls.test:443:$VIP https://mtls.test/m)
check "MUTUAL accepts the client certificate (got '$out')" sh -c "echo '$out' | grep -q '^productpage-. /m$'"

sig() { inns openssl s_client -connect $VIP:443 -servername dual.test -tls1_2 -sigalgs "$1" </dev/null 2>/dev/null |
	openssl x509 -noout -subject 2>/dev/null | tr -d ' '; }
check "credentialNames: ECDSA client gets the EC pair ($(sig ECDSA+SHA256))" sh -c "echo '$(sig ECDSA+SHA256)' | grep -q 'O=ec,'"
check "credentialNames: RSA-only client gets the RSA pair ($(sig RSA+SHA256))" sh -c "echo '$(sig RSA+SHA256)' | grep -q 'O=rsa,'"

check "expired certificate: still served ($(subj old.test))" sh -c "echo '$(subj old.test)' | grep -q 'O=old,CN=old.test'"
check "expired certificate: analyze says so" sh -c "'$ctl' -s '$tmp/sock' analyze | grep -q 'old-cred expired at'"
check "expired certificate: the load warns" grep -q 'warning: .*Secret istio-system/old-cred: stringData.tls.crt: the certificate expired at' "$tmp/log"

# cipher suites: Envoy's server defaults (ECDHE and AEAD only) unless cipherSuites names others
suite() { # sni cipher: the TLS 1.2 suite the handshake agreed on, or (NONE)
	inns timeout 5 openssl s_client -connect $VIP:443 -servername "$1" -tls1_2 -cipher "$2" </dev/null 2>/dev/null |
		sed -n 's/.*Cipher is \([^ ]*\).*/\1/p' | head -1; }
check "default suites: RSA key exchange with CBC (AES128-SHA) refused ($(suite dual.test AES128-SHA))" \
	test "$(suite dual.test AES128-SHA)" != AES128-SHA
check "default suites: ECDHE with CBC (ECDHE-RSA-AES128-SHA) refused ($(suite dual.test ECDHE-RSA-AES128-SHA))" \
	test "$(suite dual.test ECDHE-RSA-AES128-SHA)" != ECDHE-RSA-AES128-SHA
check "default suites: RSA key exchange with GCM (AES128-GCM-SHA256) refused" \
	test "$(suite dual.test AES128-GCM-SHA256)" != AES128-GCM-SHA256
check "default suites: ECDHE-RSA-AES128-GCM-SHA256 accepted ($(suite dual.test ECDHE-RSA-AES128-GCM-SHA256))" \
	test "$(suite dual.test ECDHE-RSA-AES128-GCM-SHA256)" = ECDHE-RSA-AES128-GCM-SHA256
check "default suites: ECDHE-ECDSA-CHACHA20-POLY1305 accepted" \
	test "$(suite dual.test ECDHE-ECDSA-CHACHA20-POLY1305)" = ECDHE-ECDSA-CHACHA20-POLY1305
check "cipherSuites override: ECDHE-RSA-AES128-SHA accepted ($(suite legacy.test ECDHE-RSA-AES128-SHA))" \
	test "$(suite legacy.test ECDHE-RSA-AES128-SHA)" = ECDHE-RSA-AES128-SHA
check "cipherSuites override: a default suite not named there refused" \
	test "$(suite legacy.test ECDHE-RSA-AES128-GCM-SHA256)" != ECDHE-RSA-AES128-GCM-SHA256
ver=$(inns timeout 5 openssl s_client -connect $VIP:443 -servername dual.test -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null 2>/dev/null |
	sed -n 's/^New, \([^,]*\),.*/\1/p' | head -1)
check "minimum version TLS 1.2: a TLS 1.1 client refused (got '$ver')" test "$ver" != TLSv1.1

hdr=$(c -D - -o /dev/null -H "Host: mtls.test" "http://$VIP:8080/r?x=1" | tr -d '\r')
check "httpsRedirect: 301 to https" sh -c "echo '$hdr' | grep -q '^HTTP/1.1 301' && echo '$hdr' | grep -qi '^location: https://mtls.test/r?x=1'"

# a reload keeps the listeners: new connections all along while manifests change
inns python3 - $VIP > "$tmp/reload.out" <<'PY' &
import socket, sys, time
ok = bad = 0
end = time.time() + 3
while time.time() < end:
    try:
        s = socket.create_connection((sys.argv[1], 80), timeout=2)
        s.sendall(b'GET /r HTTP/1.1\r\nHost: bookinfo.example.com\r\nConnection: close\r\n\r\n')
        d = s.recv(100)
        s.close()
        if d.startswith(b'HTTP/1.1 200'):
            ok += 1
        else:
            bad += 1
    except OSError:
        bad += 1
print(ok, bad)
PY
loop=$!
# a Secret change: new handshakes get the new certificate
sleep 0.5
secret other-cred "$pki/other2.crt" "$pki/other2.key" > "$tmp/objs/61-other.yaml"
sleep 0.5
kill -HUP $pid
sleep 0.5
kill -HUP $pid
wait $loop
read -r good bad < "$tmp/reload.out"
check "no request lost across reloads ($good ok, $bad failed)" test "$bad" -eq 0 -a "$good" -gt 10
wait_for 5 sh -c "ip netns exec $ns openssl s_client -connect $VIP:443 -servername other.test </dev/null 2>/dev/null | openssl x509 -noout -subject | grep -q 'O = second'" &&
	ok "Secret change applies to new handshakes" || fail "Secret change applies to new handshakes ($(subj other.test))"

# a Secret rewritten unusable (a key not its certificate's, then garbage) is
# rejected as a bad object: its last good version serves on, the reload
# says it applied in part with the Secret rejected (exit 3), listeners and analyze show OpenSSL's reason, the log
# names it; a good version then applies. Files are replaced whole, as
# kubectl replaces an object (a half-written one is another test).
put() { # file command...: its output replaces objs/file at once
	f=$1; shift; "$@" > "$tmp/put.tmp" && mv "$tmp/put.tmp" "$tmp/objs/$f"; }
put 61-other.yaml secret other-cred "$pki/other2.crt" "$pki/other.key"
"$ctl" -s "$tmp/sock" reload > "$tmp/reload.txt" 2>&1; rrc=$?
check "mismatched key: the reload applies in part, the Secret rejected (rc $rrc)" \
	sh -c "[ $rrc -eq 3 ] && grep -q 'applied in part' '$tmp/reload.txt'"
check "mismatched key: the reload names the Secret and OpenSSL's reason" grep -q \
	"Secret istio-system/other-cred: stringData.tls.key: the private key is not the certificate's (error:05800074:x509 certificate routines::key values mismatch)" \
	"$tmp/reload.txt"
out=$(c --cacert "$pki/ca.crt" --resolve other.test:443:$VIP https://other.test/kept)
check "mismatched key: HTTPS still served (got '$out')" sh -c "echo '$out' | grep -q '^productpage-. /kept$'"
check "mismatched key: with the last good certificate ($(subj other.test))" sh -c "echo '$(subj other.test)' | grep -q 'O=second,CN=other.test'"
check "mismatched key: gateway listeners shows the rejection" sh -c \
	"'$ctl' -s '$tmp/sock' --json gateway listeners | grep -q 'secret_rejected.*other-cred.*key values mismatch'"
check "mismatched key: analyze names the Secret" sh -c \
	"'$ctl' -s '$tmp/sock' analyze | grep 'other-cred' | grep -q 'key values mismatch'"
check "mismatched key: the log names the Secret with OpenSSL's reason" \
	grep -q 'Secret istio-system/other-cred: stringData.tls.key: .*key values mismatch' "$tmp/log"
echo garbage > "$pki/garbage.key"
put 61-other.yaml secret other-cred "$pki/other2.crt" "$pki/garbage.key"
"$ctl" -s "$tmp/sock" reload > "$tmp/reload.txt" 2>&1; rrc=$?
check "garbage key: the reload rejects it by name (rc $rrc)" sh -c \
	"[ $rrc -eq 3 ] && grep -q 'other-cred: stringData.tls.key: not PEM: no private key (error:' '$tmp/reload.txt'"
out=$(c --cacert "$pki/ca.crt" --resolve other.test:443:$VIP https://other.test/kept2)
check "garbage key: HTTPS still served (got '$out')" sh -c "echo '$out' | grep -q '^productpage-. /kept2$'"
echo garbage > "$pki/garbage.crt"
put 61-other.yaml secret other-cred "$pki/garbage.crt" "$pki/other.key"
"$ctl" -s "$tmp/sock" reload > "$tmp/reload.txt" 2>&1; rrc=$?
check "garbage certificate: the reload rejects it by name (rc $rrc)" sh -c \
	"[ $rrc -eq 3 ] && grep -q 'other-cred: stringData.tls.crt: not PEM: no certificate (error:0480006C:PEM routines::no start line)' '$tmp/reload.txt'"
out=$(c --cacert "$pki/ca.crt" --resolve other.test:443:$VIP https://other.test/kept3)
check "garbage certificate: HTTPS still served (got '$out')" sh -c "echo '$out' | grep -q '^productpage-. /kept3$'"
check "no stale OpenSSL error (error:00000000) in the log" sh -c "! grep -q 'error:00000000' '$tmp/log'"
# a Secret never good: its server is not served (as a Secret not found), and says why
{ cat "$tmp/objs/60-tls.yaml"; cat <<'EOC'
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: fresh, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-fresh, protocol: HTTPS}
    hosts: [fresh.test]
    tls: {mode: SIMPLE, credentialName: fresh-cred}
EOC
} > "$tmp/put.tmp"
mv "$tmp/put.tmp" "$tmp/objs/60-tls.yaml"
put 62-fresh.yaml secret fresh-cred "$pki/other2.crt" "$pki/garbage.key"
"$ctl" -s "$tmp/sock" reload >/dev/null 2>&1
check "never good: fresh.test is not served" sh -c "! ip netns exec $ns timeout 5 openssl s_client -connect $VIP:443 -servername fresh.test </dev/null 2>/dev/null | grep -q 'BEGIN CERTIFICATE\|subject='"
check "never good: gateway listeners says why" sh -c \
	"'$ctl' -s '$tmp/sock' --json gateway listeners | grep -q 'tls_error.*fresh-cred is rejected (no good version was ever loaded)'"
# good again: applies, the rejection ends
put 61-other.yaml secret other-cred "$pki/other.crt" "$pki/other.key"
rm -f "$tmp/objs/62-fresh.yaml"
"$ctl" -s "$tmp/sock" reload > "$tmp/reload.txt" 2>&1; rrc=$?
check "good again: the reload is ok (rc $rrc)" test $rrc -eq 0
wait_for 5 sh -c "ip netns exec $ns openssl s_client -connect $VIP:443 -servername other.test </dev/null 2>/dev/null | openssl x509 -noout -subject | grep -q 'O = first'" &&
	ok "good again: new handshakes get it" || fail "good again: new handshakes get it ($(subj other.test))"
check "good again: no rejection left in listeners" sh -c "! '$ctl' -s '$tmp/sock' --json gateway listeners | grep -q secret_rejected"

check "JSON access log" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert any(l["path"] == "/x" and l["response_code"] == "200" and l["authority"] == "other.test" for l in lines)
' "$tmp/access.log"

term_check
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
