#!/usr/bin/env bash
# Several gateway deployments on one node (gateway.deployments): an
# ingress gateway and an internal one, each with its own Service and VIP,
# both serving port 443 with their own certificates, Gateways,
# VirtualServices and AuthorizationPolicies. A request to one VIP never
# meets the other gateway's servers; a server's bind address gets a
# listener of its own; a new VIP moves the listeners on reload. Readiness
# is each deployment's: one with a port another process holds has its VIP
# withdrawn from the node while the other's stays and serves, and gets it
# back once the port is free.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }
command -v ss >/dev/null || { echo "SKIP: ss missing"; exit 77; }

PUB=10.250.0.1 INT=10.250.0.2 INT2=10.250.0.3 BIND=10.250.0.9
gw_ns_up 10.244.1.10 10.244.2.10 $BIND
nginx_start "10.244.1.10:9080 public" "10.244.2.10:9080 internal" ||
	{ fail "nginx did not start"; exit 1; }

gw_pki_ca
gw_pki_cert pub pub.test public
gw_pki_cert int int.test internal

mkdir -p "$tmp/objs"
gw_secret pub-cred "$tmp/pki/pub.crt" "$tmp/pki/pub.key" > "$tmp/objs/10-secrets.yaml"
gw_secret int-cred "$tmp/pki/int.crt" "$tmp/pki/int.key" >> "$tmp/objs/10-secrets.yaml"
svc_int() { # the internal gateway's Service, with its VIP
	cat <<EOC
apiVersion: v1
kind: Service
metadata:
  name: internal-gateway
  namespace: istio-system
  annotations: {metallb.universe.tf/loadBalancerIPs: $1}
spec:
  type: LoadBalancer
  selector: {istio: internal-gateway}
  ports: [{name: http, port: 80}, {name: https, port: 443}]
EOC
}
svc_int $INT > "$tmp/objs/21-internal-svc.yaml"
cat > "$tmp/objs/20-objs.yaml" <<EOC
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: vips, namespace: metallb-system}
spec: {addresses: [10.250.0.0/29]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: vips, namespace: metallb-system}
---
apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
  annotations: {metallb.universe.tf/loadBalancerIPs: $PUB}
spec:
  type: LoadBalancer
  selector: {istio: ingressgateway}
  ports: [{name: http, port: 80}, {name: https, port: 443}]
---
apiVersion: v1
kind: Service
metadata: {name: public, namespace: default}
spec: {ports: [{port: 9080, name: http}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: public, namespace: default}
subsets: [{addresses: [{ip: 10.244.1.10}], ports: [{port: 9080, name: http}]}]
---
apiVersion: v1
kind: Service
metadata: {name: internal, namespace: default}
spec: {ports: [{port: 9080, name: http}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: internal, namespace: default}
subsets: [{addresses: [{ip: 10.244.2.10}], ports: [{port: 9080, name: http}]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: pub, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [pub.test]
    tls: {mode: SIMPLE, credentialName: pub-cred}
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 9000, name: tcp, protocol: TCP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bound, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http-bound, protocol: HTTP}
    hosts: ["*"]
    bind: $BIND
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: int, namespace: istio-system}
spec:
  selector: {istio: internal-gateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [int.test]
    tls: {mode: SIMPLE, credentialName: int-cred}
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 9000, name: tcp, protocol: TCP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pub, namespace: default}
spec:
  hosts: ["*"]
  gateways: [istio-system/pub, istio-system/bound]
  http: [{route: [{destination: {host: public}}]}]
  tcp: [{match: [{port: 9000}], route: [{destination: {host: public, port: {number: 9080}}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: int, namespace: default}
spec:
  hosts: ["*"]
  gateways: [istio-system/int]
  http: [{route: [{destination: {host: internal}}]}]
  tcp: [{match: [{port: 9000}], route: [{destination: {host: internal, port: {number: 9080}}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: internal-no-admin, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: internal-gateway}}
  action: DENY
  rules: [{to: [{operation: {paths: ["/admin*"]}}]}]
EOC

GW_EXTRA="deployments: [{name: ingress, labels: {istio: ingressgateway}}, {name: internal, labels: {istio: internal-gateway}}]" \
	vipgated_start || { fail "vipgated not ready"; exit 1; }
for v in $PUB $INT; do
	wait_for 5 sh -c "ip -n $ns -o addr show dev lo | grep -q ' $v/'" || fail "VIP $v not local"
done
wait_for 5 sh -c "ip netns exec $ns ss -ltnH | grep -q '$INT:443'" || fail "no listener on $INT:443"

c() { inns curl -s --max-time 5 --cacert "$tmp/pki/ca.crt" "$@"; }
subj() { # addr sni: the certificate's subject, or nothing when refused
	inns timeout 5 openssl s_client -connect "$1:443" -servername "$2" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null | tr -d ' '; }
listening() { inns ss -ltnH | awk '{print $4}' | sort -u; }

check "ingress VIP, pub.test: its certificate ($(subj $PUB pub.test))" sh -c "echo '$(subj $PUB pub.test)' | grep -q 'O=public,CN=pub.test'"
check "internal VIP, int.test: its certificate ($(subj $INT int.test))" sh -c "echo '$(subj $INT int.test)' | grep -q 'O=internal,CN=int.test'"
check "ingress VIP, int.test: refused (the other gateway's server)" test -z "$(subj $PUB int.test)"
check "internal VIP, pub.test: refused (the other gateway's server)" test -z "$(subj $INT pub.test)"
out=$(c --resolve pub.test:443:$PUB https://pub.test/p)
check "HTTPS pub.test on the ingress VIP routes to public (got '$out')" test "$out" = "public /p"
out=$(c --resolve int.test:443:$INT https://int.test/i)
check "HTTPS int.test on the internal VIP routes to internal (got '$out')" test "$out" = "internal /i"
out=$(c http://$PUB/x)
check "port 80 on the ingress VIP: the ingress gateway's routes (got '$out')" test "$out" = "public /x"
out=$(c http://$INT/x)
check "port 80 on the internal VIP: the internal gateway's routes (got '$out')" test "$out" = "internal /x"
out=$(c http://$PUB:9000/t)
check "TCP port 9000 on the ingress VIP: its tcp route (got '$out')" test "$out" = "public /t"
out=$(c http://$INT:9000/t)
check "TCP port 9000 on the internal VIP: its tcp route (got '$out')" test "$out" = "internal /t"
code() { inns curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$@"; }
check "the internal gateway's policy denies /admin there ($(code http://$INT/admin))" test "$(code http://$INT/admin)" = 403
check "... and not on the ingress gateway ($(code http://$PUB/admin))" test "$(code http://$PUB/admin)" = 200

# each gateway listens on its own VIPs, nothing on the wildcard
l=$(listening | tr '\n' ' ')
check "listeners on $PUB:443 and $INT:443 ($l)" sh -c "echo '$l' | grep -q '$PUB:443' && echo '$l' | grep -q '$INT:443'"
check "no wildcard listener on 443 or 80" sh -c "! echo '$l' | grep -qE '(0\.0\.0\.0|\*|\[::\]):(443|80) '"
check "a server's bind: its own listener on $BIND:8080" sh -c "echo '$l' | grep -q '$BIND:8080'"
out=$(c http://$BIND:8080/b)
check "the bound server routes (got '$out')" test "$out" = "public /b"
code http://$PUB:8080/ >/dev/null
check "port 8080 is not on the VIPs (curl rc $?)" test "$(code http://$PUB:8080/)" = 000

"$ctl" -s "$tmp/sock" gateway listeners > "$tmp/listeners.out" 2>&1
check "vipgatectl gateway listeners names each deployment and its addresses" sh -c \
	"grep -q '^DEPLOYMENT *ADDRESSES' '$tmp/listeners.out' && grep -q '^internal *$INT *443' '$tmp/listeners.out' && grep -q '^ingress *$PUB *443' '$tmp/listeners.out' && grep -q '^ingress *$BIND *8080' '$tmp/listeners.out'"
"$ctl" -s "$tmp/sock" gateway routes > "$tmp/routes.out" 2>&1
check "vipgatectl gateway routes names each route's deployment" sh -c \
	"grep -q '^DEPLOYMENT' '$tmp/routes.out' && grep -q '^internal .*int' '$tmp/routes.out' && grep -q '^ingress .*pub' '$tmp/routes.out'"
"$ctl" -s "$tmp/sock" gateway policies > "$tmp/policies.out" 2>&1
check "vipgatectl gateway policies: the policy is the internal gateway's" \
	grep -q "internal.*internal-no-admin\|internal-no-admin.*internal" "$tmp/policies.out"
"$ctl" -s "$tmp/sock" services > "$tmp/services.out" 2>&1
check "both gateway Services are served here" sh -c \
	"grep -q 'internal-gateway.*$INT' '$tmp/services.out' && grep -q 'istio-ingressgateway.*$PUB' '$tmp/services.out'"

# a new VIP for the internal gateway: its listeners move, requests keep working on the ingress VIP
# load.py VIP SECONDS: new connections to VIP:80 for SECONDS, one request
# each, 10 ms apart: prints "ok bad"
cat > "$tmp/load.py" <<'PY'
import socket, sys, time
ok = bad = 0
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        s = socket.create_connection((sys.argv[1], 80), timeout=2)
        s.sendall(b"GET /l HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        d = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            d += b
        s.close()
        if d.startswith(b"HTTP/1.1 200") and d.endswith(b"public /l\n"):
            ok += 1
        else:
            bad += 1
    except OSError:
        bad += 1
    time.sleep(0.01)
print(ok, bad)
PY
inns /usr/bin/python3 "$tmp/load.py" $PUB 4 > "$tmp/load.out" &
loadpid=$!
sleep 1
svc_int $INT2 > "$tmp/objs/21-internal-svc.yaml"
"$ctl" -s "$tmp/sock" reload > /dev/null 2>&1
wait_for 5 sh -c "ip netns exec $ns ss -ltnH | grep -q '$INT2:443'" || fail "no listener on $INT2:443 after the reload"
wait $loadpid
read -r lok lbad < "$tmp/load.out"
check "the ingress VIP served all along ($lok ok, $lbad failed)" test "${lbad:-1}" -eq 0 -a "${lok:-0}" -gt 0
check "the internal gateway now on $INT2 ($(subj $INT2 int.test))" sh -c "echo '$(subj $INT2 int.test)' | grep -q 'CN=int.test'"
wait_for 5 sh -c "! ip netns exec $ns ss -ltnH | grep -q '$INT:443'" || fail "$INT:443 still listening"
check "nothing listens on the old VIP $INT any more" sh -c "! ip netns exec $ns ss -ltnH | grep -q '$INT:'"

# readiness by deployment: the internal gateway gets a port another process
# holds. Only its VIP is withdrawn from this node; the ingress VIP stays
# and serves all along; the port freed, the internal VIP comes back.
svc_gw() { # name: "gateway_state|why_not" of a gateway Service
	"$ctl" -s "$tmp/sock" --json services | /usr/bin/python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] == sys.argv[1]: print("%s|%s" % (s.get("gateway_state"), s.get("why_not")))' "$1"; }
local_vip() { ip -n $ns -o addr show dev lo | grep -q " $1/"; }
ip netns exec $ns /usr/bin/python3 -c '
import socket, time
s = socket.socket(); s.bind(("0.0.0.0", 7070)); s.listen(1); time.sleep(60)' &
holder=$!	# the python itself (ip netns exec execs it), not a subshell
wait_for 5 sh -c "ip netns exec $ns ss -ltnH | grep -q '0.0.0.0:7070 '" || fail "the port holder did not start"
cat > "$tmp/objs/30-int-extra.yaml" <<EOC
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: int-extra, namespace: istio-system}
spec:
  selector: {istio: internal-gateway}
  servers:
  - port: {number: 7070, name: http-extra, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: int-extra, namespace: default}
spec:
  hosts: ["*"]
  gateways: [istio-system/int-extra]
  http: [{route: [{destination: {host: internal}}]}]
EOC
inns /usr/bin/python3 "$tmp/load.py" $PUB 6 > "$tmp/load2.out" &
loadpid=$!
"$ctl" -s "$tmp/sock" reload > /dev/null 2>&1
int_down() { ! local_vip $INT2 && svc_gw internal-gateway | grep -q 'deployment internal: a listener is not bound'; }
check "port 7070 held: the internal gateway's VIP $INT2 is withdrawn ($(svc_gw internal-gateway))" wait_for 5 int_down
"$ctl" -s "$tmp/sock" services > "$tmp/services2.out" 2>&1
check "vipgatectl services says which deployment cannot serve" \
	grep -q "internal-gateway.*no: gateway cannot serve: deployment internal: a listener is not bound" "$tmp/services2.out"
check "the ingress gateway's VIP $PUB stays local" local_vip $PUB
check "... and its state is serving" test "$(svc_gw istio-ingressgateway)" = "serving|None"
check "the log names the deployment that cannot serve" \
	grep -q "gateway: deployment internal cannot serve: a listener is not bound" "$tmp/log"
out=$(c http://$PUB/w)
check "the ingress VIP answers meanwhile (got '$out')" test "$out" = "public /w"
sleep 1
kill $holder 2>/dev/null; wait $holder 2>/dev/null
int_up() { local_vip $INT2 && [ "$(svc_gw internal-gateway)" = "serving|None" ]; }
check "the port freed: the internal VIP $INT2 is back, its state serving" wait_for 5 int_up
out=$(c http://$INT2:7070/x)
check "the internal gateway serves on the freed port (got '$out')" test "$out" = "internal /x"
check "the log says it serves again" grep -q "gateway: deployment internal serves again" "$tmp/log"
wait $loadpid
read -r lok lbad < "$tmp/load2.out"
check "the ingress VIP served all along ($lok ok, $lbad failed)" test "${lbad:-1}" -eq 0 -a "${lok:-0}" -gt 0
rm -f "$tmp/objs/30-int-extra.yaml"

# the single-gateway config still refuses labels and deployments together
printf 'gateway:\n  labels: {a: b}\n  deployments: [{name: x, labels: {c: d}}]\n' > "$tmp/bad.yaml"
"$vipgated" -t -c "$tmp/bad.yaml" > "$tmp/bad.out" 2>&1
check "gateway.labels with gateway.deployments is refused, with the line" \
	grep -q "bad.yaml:2.*gateway.labels or gateway.deployments" "$tmp/bad.out"

term_check
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
