#!/usr/bin/env bash
# RequestAuthentication at the ingress, end to end as Istio's "JWT at the
# ingress" task does it: keys made by openssl, tokens signed by python3-jwt
# (valid, expired, not yet valid, wrong issuer, wrong audience, bad
# signature, alg none), a missing token passing RequestAuthentication but
# not an AuthorizationPolicy that requires a principal, claims in a when
# condition, and the output headers the backend gets.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"
pyjwt=/usr/bin/python3
$pyjwt -c 'import jwt, cryptography' 2>/dev/null || { echo "SKIP: python3-jwt missing"; exit 77; }

gw_ns_up 10.244.10.1 10.244.10.20
mkdir -p "$tmp/ngx" "$tmp/keys" "$tmp/www"
{
	echo "daemon off; user root; worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/ngx/error.log;"
	echo "events { worker_connections 256; }"
	echo "http { access_log off; client_body_temp_path $tmp/ngx;"
	echo "  server { listen 10.244.10.1:8080; location / { default_type text/plain;"
	echo "    return 200 \"auth=[\$http_authorization] grp=[\$http_x_jwt_group] payload=[\$http_x_jwt_payload]\\n\"; } }"
	echo "  server { listen 10.244.10.1:8081; root $tmp/www; }"
	echo "}"
} > "$tmp/ngx/nginx.conf"
inns nginx -c "$tmp/ngx/nginx.conf" -p "$tmp/ngx" >"$tmp/ngx/out" 2>&1 &
wait_for 5 test -s "$tmp/nginx.pid" || { fail "nginx did not start"; exit 1; }

k=$tmp/keys
openssl genrsa -out "$k/rsa.pem" 2048 2>/dev/null
openssl genrsa -out "$k/other.pem" 2048 2>/dev/null
openssl genrsa -out "$k/rsa2.pem" 2048 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$k/ec.pem" 2>/dev/null
# the JWKS of rsa.pem (kid rsa1) and ec.pem (kid ec1)
$pyjwt - "$k" > "$k/jwks.json" <<'PY'
import json, sys
from jwt.algorithms import RSAAlgorithm, ECAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_private_key
d = sys.argv[1]
keys = []
for name, alg, kid, cls in (("rsa.pem", "RS256", "rsa1", RSAAlgorithm), ("ec.pem", "ES256", "ec1", ECAlgorithm)):
    priv = load_pem_private_key(open(d + "/" + name, "rb").read(), None)
    j = json.loads(cls.to_jwk(priv.public_key()))
    j.update({"kid": kid, "alg": alg, "use": "sig"})
    keys.append(j)
print(json.dumps({"keys": keys}))
PY
# tok KEYFILE ALG KID [claim=value ...]: a signed token (numbers stay numbers; exp=+N is now+N)
tok() {
	$pyjwt - "$@" <<'PY'
import json, sys, time, jwt
key, alg, kid = sys.argv[1], sys.argv[2], sys.argv[3]
claims = {"iss": "testing@secure.istio.io", "sub": "testing@secure.istio.io",
          "exp": int(time.time()) + 3600, "group": "group1"}
for a in sys.argv[4:]:
    n, v = a.split("=", 1)
    if v.startswith(("+", "-")) and v[1:].isdigit():
        v = int(time.time()) + int(v)
    elif v.startswith("[") or v.startswith("{"):
        v = json.loads(v)
    claims[n] = v
if alg == "none":
    print(jwt.encode(claims, None, algorithm="none"))
else:
    print(jwt.encode(claims, open(key).read(), algorithm=alg, headers={"kid": kid}))
PY
}

jwks=$(cat "$k/jwks.json")
mkdir -p "$tmp/objs"
{
app_objs 10.244.10.1
cat <<EOC
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt-example, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules:
  - issuer: testing@secure.istio.io
    jwks: '$jwks'
    outputPayloadToHeader: x-jwt-payload
    outputClaimToHeaders: [{header: x-jwt-group, claim: group}]
EOC
} > "$tmp/objs/app.yaml"

# req [curl args...]: "<code> <body>"
req() {
	inns curl -s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' --max-time 5 "$@" \
		http://10.244.10.20/headers
}
bearer() { req -H "Authorization: Bearer $1"; }

# the fetcher refreshes a jwksUri every second here (20 minutes by default)
export VG_JWKS_REFRESH_MS=1000 VG_JWKS_RETRY_MS=500
vipgated_start || { fail "vipgated did not start"; exit 1; }

check "no token: RequestAuthentication alone lets it pass" test "$(req)" = 200
good=$(tok "$k/rsa.pem" RS256 rsa1)
check "valid RS256 token: 200" test "$(bearer "$good")" = 200
check "the token is not forwarded (forwardOriginalToken false)" grep -q "auth=\[\]" "$tmp/body"
check "outputClaimToHeaders: x-jwt-group" grep -q "grp=\[group1\]" "$tmp/body"
check "outputPayloadToHeader: the payload, base64url" \
	grep -q "payload=\[$(cut -d. -f2 <<<"$good")\]" "$tmp/body"
check "valid ES256 token: 200" test "$(bearer "$(tok "$k/ec.pem" ES256 ec1)")" = 200
check "the token in access_token: 200" test "$(inns curl -s -o /dev/null -w '%{http_code}' \
	"http://10.244.10.20/x?access_token=$good")" = 200

check "expired: 401" test "$(bearer "$(tok "$k/rsa.pem" RS256 rsa1 exp=-120)")" = 401
check "expired: jwt_verify_lib's reason" grep -qx "Jwt is expired" "$tmp/body"
check "401 carries WWW-Authenticate with invalid_token" \
	grep -qi '^www-authenticate: Bearer realm="http://10.244.10.20/headers", error="invalid_token"' "$tmp/head"
check "expired within the 60 s skew: 200" test "$(bearer "$(tok "$k/rsa.pem" RS256 rsa1 exp=-30)")" = 200
check "not yet valid: 401" test "$(bearer "$(tok "$k/rsa.pem" RS256 rsa1 nbf=+600)")" = 401
check "not yet valid: reason" grep -qx "Jwt not yet valid" "$tmp/body"
check "wrong issuer: 401" test "$(bearer "$(tok "$k/rsa.pem" RS256 rsa1 iss=evil@example.com)")" = 401
check "wrong issuer: reason" grep -qx "Jwt issuer is not configured" "$tmp/body"
check "signed by another key: 401" test "$(bearer "$(tok "$k/other.pem" RS256 rsa1)")" = 401
check "bad signature: reason" grep -qx "Jwt verification fails" "$tmp/body"
check "unknown kid: 401" test "$(bearer "$(tok "$k/rsa.pem" RS256 nope)")" = 401
check "alg none: 401" test "$(bearer "$(tok "$k/rsa.pem" none x)")" = 401
check "garbage: 401" test "$(bearer "abc.def")" = 401
check "tampered payload: 401" \
	test "$(bearer "$(cut -d. -f1 <<<"$good").$(tok "$k/rsa.pem" RS256 rsa1 sub=admin | cut -d. -f2).$(cut -d. -f3 <<<"$good")")" = 401

# audiences: 403 when only the audience is wrong
sed -i 's|    jwks: |    audiences: [app.example.com]\n    jwks: |' "$tmp/objs/app.yaml"
"$ctl" -s "$tmp/sock" reload > /dev/null 2>&1
check "audience allowed: 200" test "$(bearer "$(tok "$k/rsa.pem" RS256 rsa1 aud=app.example.com)")" = 200
check "audience not allowed: 403" test "$(bearer "$(tok "$k/rsa.pem" RS256 rsa1 aud=other)")" = 403
check "audience: reason" grep -qx "Audiences in Jwt are not allowed" "$tmp/body"
sed -i '/    audiences: \[app.example.com\]/d' "$tmp/objs/app.yaml"

# requestPrincipals required at the ingress, and a claim in a when condition
cat > "$tmp/objs/policy.yaml" <<'EOC'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-jwt, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: ALLOW
  rules:
  - from: [{source: {requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"]}}]
    when: [{key: "request.auth.claims[groups]", values: [group1]}]
EOC
"$ctl" -s "$tmp/sock" reload > /dev/null 2>&1
check "requestPrincipals required: no token 403" test "$(req)" = 403
check "requestPrincipals required: RBAC's body" grep -qx "RBAC: access denied" "$tmp/body"
check "principal and group claim: 200" \
	test "$(bearer "$(tok "$k/rsa.pem" RS256 rsa1 'groups=["group1","group2"]')")" = 200
check "principal without the group: 403" \
	test "$(bearer "$(tok "$k/rsa.pem" RS256 rsa1 'groups=["group2"]')")" = 403
check "another subject: 403" test "$(bearer "$(tok "$k/rsa.pem" RS256 rsa1 sub=someone 'groups=["group1"]')")" = 403
# scope is space-delimited: "read write" has the word read
cat > "$tmp/objs/policy.yaml" <<'EOC'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-scope, namespace: istio-system}
spec:
  rules: [{when: [{key: "request.auth.claims[scope]", values: [read]}]}]
EOC
"$ctl" -s "$tmp/sock" reload > /dev/null 2>&1
check "scope \"read write\" matches read" test "$(bearer "$(tok "$k/rsa.pem" RS256 rsa1 'scope=read write')")" = 200
check "scope \"write\" does not" test "$(bearer "$(tok "$k/rsa.pem" RS256 rsa1 scope=write)")" = 403

# jwksUri: fetched off the data path, refreshed, rotated
# jwks_of KEYFILE KID: a JWKS with that one RSA key
jwks_of() {
	$pyjwt - "$1" "$2" <<'PY'
import json, sys
from jwt.algorithms import RSAAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_private_key
j = json.loads(RSAAlgorithm.to_jwk(load_pem_private_key(open(sys.argv[1], "rb").read(), None).public_key()))
j.update({"kid": sys.argv[2], "alg": "RS256"})
print(json.dumps({"keys": [j]}))
PY
}
jwks_of "$k/rsa.pem" rsa1 > "$tmp/www/jwks.json"
rm -f "$tmp/objs/policy.yaml"
sed -i "s|    jwks: '.*'|    jwksUri: http://10.244.10.1:8081/jwks.json|" "$tmp/objs/app.yaml"
"$ctl" -s "$tmp/sock" reload > /dev/null 2>&1
good2=$(tok "$k/rsa2.pem" RS256 rsa2)
ok_with() { test "$(bearer "$1")" = 200; }
check "jwksUri: fetched, the token verifies" wait_for 10 ok_with "$good"
check "jwksUri: a key it does not have: 401" test "$(bearer "$good2")" = 401
jwks_of "$k/rsa2.pem" rsa2 > "$tmp/www/jwks.json.new" && mv "$tmp/www/jwks.json.new" "$tmp/www/jwks.json"
check "jwksUri: rotated keys are picked up" wait_for 10 ok_with "$good2"
check "jwksUri: the old key is gone: 401" test "$(bearer "$good")" = 401
sed -i "s|    jwksUri: .*|    jwksUri: http://10.244.10.1:8081/missing.json|" "$tmp/objs/app.yaml"
"$ctl" -s "$tmp/sock" reload > /dev/null 2>&1
check "jwksUri that cannot be fetched: every token is refused" \
	wait_for 5 sh -c "test \"\$(ip netns exec $ns curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $good2' http://10.244.10.20/)\" = 401"
check "jwksUri that cannot be fetched: no token still passes" test "$(req)" = 200
check "the fetch failure is logged with the URI" grep -q "missing.json" "$tmp/log"

# fail closed: a RequestAuthentication that does not decode refuses every token
sed -i 's|  - issuer: testing@secure.istio.io|  - issuer: ""|' "$tmp/objs/app.yaml"
sed -i "s|    jwksUri: .*|    jwks: '$jwks'|" "$tmp/objs/app.yaml"
rm -f "$tmp/objs/policy.yaml"
"$ctl" -s "$tmp/sock" reload > /dev/null 2>&1
check "a broken RequestAuthentication: a good token is refused" test "$(bearer "$good")" = 401
check "a broken RequestAuthentication: no token still passes" test "$(req)" = 200
check "vipgated still running" kill -0 "$pid"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
