#!/usr/bin/env bash
# The h2spec HTTP/2 conformance suite (tests/h2spec: built here from the Go
# module proxy on the first run, then kept in the build directory) against
# the gateway's downstream HTTP/2: h2c with prior knowledge on the plain
# port 80 and ALPN h2 on the TLS port 443 (a self-signed certificate
# Secret), both routing every path to nginx. Prints h2spec's summary for
# each and one line per failing case (its id, what h2spec expected, what it
# got); fails when any case fails.
#
# The path h2spec requests is /upload, where nginx reads the whole request
# before it answers (proxy_pass with request buffering), as most
# applications do. At "/" nginx answers at once, unread body and all: the
# gateway then completes the answer and ends the stream with RST_STREAM
# NO_ERROR (RFC 9113 8.1), and ignores what the client sends on it after
# (5.1), so the cases that send a faulty frame after an unfinished request
# (5.1/9, 6.1/3, 8.1/1, 8.1.2.1/3) become a race with the backend's answer.
#
#   H2SPEC_ARGS   more arguments for h2spec (e.g. "-S" for the strict cases,
#                 or section ids such as "http2/6.5" to run only those)
#   H2SPEC_PATH   the path h2spec requests (default /upload)
#   H2SPEC_XFAIL  case ids expected to fail, reported but not failing the
#                 test: "ID" for both runs, "h2c:ID" or "tls:ID" for one.
#                 Default "h2c:http2/3.5/2": on a plain port the first bytes
#                 choose HTTP/1.1 or HTTP/2 (Envoy's codec AUTO), so an
#                 invalid preface is an HTTP/1.1 request and gets a 400, as
#                 Envoy answers it; h2spec wanted the connection closed.
#   H2SPEC_KEEP   a directory to copy the outputs and JUnit reports into
. "${srcdir:-.}/tests/e2e/gw-lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }

"$src/tests/h2spec/build.sh" "$bld"
rc=$?
[ $rc -eq 77 ] && exit 77
[ $rc -eq 0 ] || { echo "FAIL: tests/h2spec/build.sh: exit $rc"; exit 1; }
h2spec=$bld/tests/h2spec/h2spec
echo "h2spec: $("$h2spec" --version)"

gw_ns_up 10.244.1.10
nginx_start "10.244.1.10:8080 app" || { fail "nginx did not start"; exit 1; }

pki=$tmp/pki; mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/CN=h2spec.test" -addext "subjectAltName=DNS:h2spec.test,IP:127.0.0.1" \
	-keyout "$pki/tls.key" -out "$pki/tls.crt" >/dev/null 2>&1 ||
	{ fail "openssl could not make a certificate"; exit 1; }
mkdir -p "$tmp/objs"
{
	app_objs 10.244.1.10 "*" '{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]},
	  {port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"],
	   tls: {mode: SIMPLE, credentialName: h2spec-cred}}'
	echo "---"
	echo "apiVersion: v1"
	echo "kind: Secret"
	echo "metadata: {name: h2spec-cred, namespace: istio-system}"
	echo "stringData:"
	echo "  tls.crt: |"; sed 's/^/    /' "$pki/tls.crt"
	echo "  tls.key: |"; sed 's/^/    /' "$pki/tls.key"
} > "$tmp/objs/50-app.yaml"
vipgated_start || { fail "vipgated did not start"; cat "$tmp/log"; exit 1; }
# from here on a failure is a conformance case: the daemon's log tail that
# gw-lib's fail() shows says nothing about it (H2SPEC_KEEP keeps the log)
fail() { fails=$((fails + 1)); echo "FAIL: $*"; }

# the path h2spec requests answers 200 over both, before the suite runs
path=${H2SPEC_PATH:-/upload}
out=$(inns curl -s --max-time 5 --http2-prior-knowledge -o /dev/null -w '%{http_code} %{http_version}' "http://127.0.0.1$path")
check "h2c prior knowledge: GET $path is 200 over HTTP/2 ($out)" [ "$out" = "200 2" ]
out=$(inns curl -s --max-time 5 --http2 -k -o /dev/null -w '%{http_code} %{http_version}' "https://127.0.0.1$path")
check "TLS, ALPN h2: GET $path is 200 over HTTP/2 ($out)" [ "$out" = "200 2" ]

# One line per failing case, from h2spec's JUnit report:
# "ID: description | expected: ... | actual: ...", ID as h2spec's own
# section arguments take it (http2/6.5.3/2: the second case of 6.5.3)
cat > "$tmp/report.py" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
for suite in root.iter('testsuite'):
    for n, case in enumerate(suite.findall('testcase'), 1):
        bad = case.find('failure')
        if bad is None:
            bad = case.find('error')
        if bad is None:
            continue
        text = (bad.text or '').strip()
        if text.startswith('Expect:'):
            exp, _, act = text[len('Expect:'):].partition('\nActual:')
        else:
            lines = text.split('\n')
            exp, act = '\n'.join(lines[:-1]), lines[-1]
        exp = ' / '.join(l.strip() for l in exp.strip().split('\n') if l.strip())
        print('%s/%d: %s | expected: %s | actual: %s' % (
            case.get('package'), n, case.get('classname'), exp or '-', act.strip() or '-'))
PY

xfail() { # NAME ID: listed in H2SPEC_XFAIL
	local x
	for x in ${H2SPEC_XFAIL-h2c:http2/3.5/2}; do
		[ "$x" = "$2" ] || [ "$x" = "$1:$2" ] && return 0
	done
	return 1
}
run_h2spec() { # NAME ARGS...: one run of the suite, its summary in $tmp/summary
	local name=$1; shift
	local t0=$SECONDS rc=0 sum id rest bad=0 xf=0
	# h2spec stops at a connection it cannot open: bounded by timeout
	inns timeout 900 "$h2spec" -h 127.0.0.1 -P "$path" -o 2 -j "$tmp/$name.xml" "$@" ${H2SPEC_ARGS:-} \
		> "$tmp/$name.out" 2>&1 || rc=$?
	sum=$(grep -aE '^[0-9]+ tests, [0-9]+ passed, [0-9]+ skipped, [0-9]+ failed$' "$tmp/$name.out" | tail -1)
	echo "== h2spec $name ($*): ${sum:-no summary}, exit $rc, $((SECONDS - t0)) s"
	if [ -z "$sum" ] || [ ! -s "$tmp/$name.xml" ]; then
		fail "h2spec $name did not finish"
		tail -20 "$tmp/$name.out"
		return
	fi
	while read -r id rest; do
		id=${id%:}
		if xfail "$name" "$id"; then
			xf=$((xf + 1)); echo "  $name XFAIL $id: $rest"
		else
			bad=$((bad + 1)); echo "  $name FAIL $id: $rest"
		fi
	done < <(python3 "$tmp/report.py" "$tmp/$name.xml")
	local nfail=${sum##*skipped, }
	nfail=${nfail%% failed}
	check "h2spec $name: the JUnit report lists its $nfail failures" [ $((bad + xf)) -eq "$nfail" ]
	check "h2spec $name: every case passes$([ $xf -gt 0 ] && echo " but $xf expected to fail") ($sum)" [ "$bad" -eq 0 ]
	echo "$name: $sum$([ $xf -gt 0 ] && echo " ($xf expected to fail)")" >> "$tmp/summary"
}

run_h2spec h2c -p 80
run_h2spec tls -p 443 -t -k
check "vipgated survived the suite" kill -0 "$pid"

if [ -n "${H2SPEC_KEEP:-}" ]; then
	mkdir -p "$H2SPEC_KEEP" && cp "$tmp"/h2c.* "$tmp"/tls.* "$tmp/summary" "$tmp/log" "$H2SPEC_KEEP"/ 2>/dev/null
fi
kill "$pid"; wait "$pid" 2>/dev/null; pid=
cat "$tmp/summary" 2>/dev/null
echo "gw-h2spec: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
