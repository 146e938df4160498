#!/usr/bin/env bash
# Out of file descriptors, end to end: vipgated under `ulimit -n 256` with
# more idle client connections than it has descriptors. With
# gateway.max_connections: 0 (no cap) the workers run out: accept() fails
# with EMFILE, and the gateway must idle (CPU), log a few lines (not a line
# a failure), count the pauses, and serve again (a request, /healthz/ready,
# the control socket) as soon as the clients leave, even when a manifest
# changed meanwhile. With the default
# (auto) the workers stop at their share of the limit, so the health and
# stats ports answer while the clients hold on. With max_connections: 5
# and one worker, the 6th connection waits in the backlog until one of the
# 5 closes, and is then served; a reload that raises the cap lets a
# waiting connection in.
#
# VG_FDLIMIT_UNCAPPED (default "max_connections: 0") is what the first part
# adds to the gateway config: set it empty to run that part against a
# vipgated older than the key.
. "${srcdir:-.}/tests/e2e/gw-lib.sh"

gw_ns_up 10.244.9.1
nginx_start "10.244.9.1:8080 echo" || { fail "nginx did not start"; exit 1; }
mkdir -p "$tmp/objs"
cat > "$tmp/objs/fd.yaml" <<'EOC'
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: fd, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec: {ports: [{port: 8080, name: http}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: echo, namespace: default}
subsets: [{addresses: [{ip: 10.244.9.1}], ports: [{port: 8080, name: http}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: fd, namespace: default}
spec:
  hosts: ["*"]
  gateways: [fd]
  http:
  - route: [{destination: {host: echo.default.svc.cluster.local, port: {number: 8080}}}]
EOC

# hold.py N DIR: N idle connections to 127.0.0.1:80; writes DIR/ready with
# the count once they are open; closes one when DIR/drop-one appears, all
# when DIR/stop appears or after 60 s
cat > "$tmp/hold.py" <<'PY'
import os, resource, socket, sys, time
n, d = int(sys.argv[1]), sys.argv[2]
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
conns = []
for i in range(n):
    s = socket.socket()
    s.settimeout(5)
    s.connect(("127.0.0.1", 80))	# completes in the backlog, accepted or not
    conns.append(s)
open(os.path.join(d, "ready.tmp"), "w").write("%d\n" % len(conns))
os.rename(os.path.join(d, "ready.tmp"), os.path.join(d, "ready"))
end = time.time() + 60
dropped = False
while time.time() < end and not os.path.exists(os.path.join(d, "stop")):
    if not dropped and os.path.exists(os.path.join(d, "drop-one")):
        conns.pop().close()
        dropped = True
    time.sleep(0.02)
for s in conns:
    s.close()
PY
# one.py: one request on a new connection; prints the status line and the
# milliseconds from connect to the answer (5 s at most); with an argument,
# that file is made once connected
cat > "$tmp/one.py" <<'PY'
import socket, sys, time
t = time.time()
s = socket.create_connection(("127.0.0.1", 80), timeout=5)
if len(sys.argv) > 1:
    open(sys.argv[1], "w").close()
s.sendall(b"GET /one HTTP/1.1\r\nHost: fd.example\r\nConnection: close\r\n\r\n")
b = b""
try:
    while b"\r\n" not in b:
        c = s.recv(4096)
        if not c:
            break
        b += c
except socket.timeout:
    pass
print(b.split(b"\r\n")[0].decode("latin-1") or "none", int((time.time() - t) * 1000))
PY

hold_pid=
hold_start() {	# N
	rm -rf "$tmp/hold"; mkdir -p "$tmp/hold"
	inns python3 "$tmp/hold.py" "$1" "$tmp/hold" 2>"$tmp/hold.err" &
	hold_pid=$!
	wait_for 15 test -s "$tmp/hold/ready"
}
hold_stop() {
	[ -n "$hold_pid" ] || return 0
	touch "$tmp/hold/stop"
	wait_for 10 sh -c "! kill -0 $hold_pid" || kill -9 "$hold_pid" 2>/dev/null
	wait "$hold_pid" 2>/dev/null
	hold_pid=
}
# the process's CPU time in clock ticks (user + system, every thread)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
get200() { [ "$(inns curl -s -m 1 -o /dev/null -w '%{http_code}' "$1")" = 200 ]; }
# ms_until SECONDS CMD...: milliseconds until CMD succeeds (empty when it never does)
ms_until() {
	local t0; t0=$(ms_now)
	wait_for "$@" && echo $(( $(ms_now) - t0 ))
}
ge() { [ "${1%%.*}" -ge "$2" ] 2>/dev/null; }
# stop_clean WHAT: SIGTERM; exit 0 and no sanitizer report (sanitizer builds)
stop_clean() {
	local rc
	stop "$pid" >/dev/null; rc=$?; pid=
	check "$1: exit 0 ($rc), no sanitizer report" \
		sh -c "[ $rc = 0 ] && ! grep -q 'Sanitizer\|runtime error' '$tmp/log'"
}

# ---- 1: no cap, the descriptors run out ----
GW_NOFILE=256 GW_EXTRA=${VG_FDLIMIT_UNCAPPED-"max_connections: 0"} vipgated_start ||
	{ fail "vipgated did not start under ulimit -n 256"; exit 1; }
check "a request before the flood" get200 http://127.0.0.1/
lines0=$(wc -l < "$tmp/log")
hold_start 400 || fail "the client could not open 400 connections: $(tail -3 "$tmp/hold.err")"
check "descriptors run out (vipgated holds $(nfds "$pid") of 256)" wait_for 5 sh -c "[ \$(ls /proc/$pid/fd | wc -l) -ge 250 ]"
# the health port and the control socket asked while exhausted: they must
# answer once descriptors are free, within the probes' own 10 s
inns curl -s -m 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:15021/healthz/ready \
	>"$tmp/probe" 2>/dev/null &
probe_pid=$!
timeout 10 "$ctl" -s "$tmp/sock" status >"$tmp/ctlprobe" 2>&1 &
ctl_pid=$!
# a manifest change while exhausted: its directory cannot be listed, and
# what it defines must stay (else the gateway loses its listener)
touch "$tmp/objs/fd.yaml"
sleep 0.5
c0=$(ticks "$pid"); sleep 2; c1=$(ticks "$pid")
cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
lines1=$(wc -l < "$tmp/log")
echo "exhausted: $cpu CPU seconds in 2 s, $((lines1 - lines0)) log lines since the flood began, log $(wc -c < "$tmp/log") bytes"
check "vipgated idles while out of descriptors ($cpu CPU s in 2 s)" \
	awk -v c="$cpu" 'BEGIN { exit !(c < 0.3) }'
check "a few log lines, not a line a failure ($((lines1 - lines0)))" [ $((lines1 - lines0)) -le 20 ]
check "no libevent 'Error from accept()' lines" sh -c "! grep -q 'Error from accept' '$tmp/log'"
check "the pause is logged" grep -q "accept: Too many open files: not accepting" "$tmp/log"
hold_stop
t_req=$(ms_until 5 get200 http://127.0.0.1/)
t_ready=$(ms_until 5 get200 http://127.0.0.1:15021/healthz/ready)
echo "recovery after the clients left: a request in ${t_req:-never} ms, /healthz/ready in ${t_ready:-never} ms"
[ -n "$t_req" ] && [ "$t_req" -le 2000 ] && ok "a request succeeds within 2 s (${t_req} ms)" ||
	fail "request recovery took ${t_req:-forever} ms"
[ -n "$t_ready" ] && [ "$t_ready" -le 2000 ] && ok "/healthz/ready answers within 2 s (${t_ready} ms)" ||
	fail "/healthz/ready recovery took ${t_ready:-forever} ms"
wait "$probe_pid"
check "the health probe made while exhausted is answered ($(cat "$tmp/probe"))" grep -qx 200 "$tmp/probe"
wait "$ctl_pid"
check "the control socket asked while exhausted answers" grep -q "uptime\|generation" "$tmp/ctlprobe"
check "vipgate_gateway_accept_paused_total{reason=emfile} counts the pauses" \
	ge "$(metric vipgate_gateway_accept_paused_total 'reason="emfile"')" 1
check "vipgate_gateway_accept_errors_total{reason=emfile} counts the failures" \
	ge "$(metric vipgate_gateway_accept_errors_total 'reason="emfile"')" 1
check "the health port's pause is counted" \
	ge "$(metric vipgate_listener_accept_paused_total 'listener="health",reason="emfile"')" 1
# an episode ends at a connection accepted a second after its last failure
sleep 1.1
get200 http://127.0.0.1/; get200 http://127.0.0.1:15021/healthz/ready
check "the end of the pause is logged" grep -q "accepting again; accept() failed" "$tmp/log"
echo "accept lines in the log: $(grep -c 'accept' "$tmp/log")"
stop_clean "no cap"

# ---- 2: the default cap keeps descriptors for the admin ports ----
GW_NOFILE=256 GW_EXTRA= vipgated_start || { fail "vipgated did not start"; exit 1; }
max=$(metric vipgate_gateway_max_connections)
echo "max_connections auto under ulimit -n 256, 2 workers: $max a worker"
check "auto leaves room: 2 x $max client connections and their upstreams fit in 256" \
	[ "$max" -ge 8 -a $((4 * max)) -lt 256 ]
hold_start 400 || fail "the client could not open 400 connections: $(tail -3 "$tmp/hold.err")"
check "both workers reach the cap" wait_for 5 sh -c \
	"[ \"\$(ip netns exec $ns curl -s -m 1 http://127.0.0.1:15020/stats/prometheus | awk '\$1 == \"vipgate_gateway_downstream_cx_active\" { print \$2 }')\" = $((2 * max)) ]"
t_ready=$(ms_until 2 get200 http://127.0.0.1:15021/healthz/ready)
check "/healthz/ready answers while 400 clients hold on (${t_ready:-never} ms)" [ -n "$t_ready" ]
check "vipgate_gateway_accept_paused_total{reason=max_connections} counts" \
	ge "$(metric vipgate_gateway_accept_paused_total 'reason="max_connections"')" 2
check "no accept() failed" [ "$(metric vipgate_gateway_accept_errors_total 'reason="emfile"')" = 0 ]
c0=$(ticks "$pid"); sleep 1; c1=$(ticks "$pid")
check "idle at the cap ($(( c1 - c0 )) ticks in 1 s)" [ $(( (c1 - c0) * 10 )) -lt $((hz * 2)) ]
hold_stop
check "served again once the clients leave" wait_for 5 get200 http://127.0.0.1/
stop_clean "auto"

# ---- 3: max_connections: 5, one worker ----
GW_WORKERS=1 GW_EXTRA="max_connections: 5" vipgated_start || { fail "vipgated did not start"; exit 1; }
hold_start 5 || fail "5 connections"
check "the 5 are accepted" wait_for 3 sh -c \
	"[ \"\$(ip netns exec $ns curl -s -m 1 http://127.0.0.1:15020/stats/prometheus | awk '\$1 == \"vipgate_gateway_downstream_cx_active\" { print \$2 }')\" = 5 ]"
inns python3 "$tmp/one.py" "$tmp/sixth.conn" >"$tmp/sixth" 2>&1 &
sixth_pid=$!
# a second in the backlog, counted from its connect (python may start slowly)
wait_for 5 test -e "$tmp/sixth.conn"
sleep 1
check "the 6th waits in the backlog (not accepted: 5 active)" \
	[ "$(metric vipgate_gateway_downstream_cx_active)" = 5 -a ! -s "$tmp/sixth" ]
touch "$tmp/hold/drop-one"
wait_for 4 test -s "$tmp/sixth"
wait "$sixth_pid"
read -r _ code _ ms < "$tmp/sixth" 2>/dev/null
echo "6th connection: $(cat "$tmp/sixth")"
check "the 6th is served once one closes (HTTP $code after ${ms:-?} ms)" \
	[ "${code:-}" = 200 -a "${ms:-0}" -ge 500 ]
check "max_connections pauses counted" ge "$(metric vipgate_gateway_accept_paused_total 'reason="max_connections"')" 1
check "one line about the cap" [ "$(grep -c 'gateway.max_connections' "$tmp/log")" -le 2 ]
# at the cap again (4 held and 1 more), then a reload raises it: the
# waiting connection is served with none closed
mkdir -p "$tmp/hold2"
inns python3 "$tmp/hold.py" 1 "$tmp/hold2" 2>/dev/null &
hold2_pid=$!
wait_for 5 test -s "$tmp/hold2/ready"
check "at the cap again" wait_for 3 sh -c \
	"[ \"\$(ip netns exec $ns curl -s -m 1 http://127.0.0.1:15020/stats/prometheus | awk '\$1 == \"vipgate_gateway_downstream_cx_active\" { print \$2 }')\" = 5 ]"
inns python3 "$tmp/one.py" "$tmp/seventh.conn" >"$tmp/seventh" 2>&1 &
seventh_pid=$!
wait_for 5 test -e "$tmp/seventh.conn"
sleep 0.5
check "a new one waits" [ ! -s "$tmp/seventh" ]
sed -i 's/max_connections: 5/max_connections: 6/' "$tmp/vipgate.yaml"
kill -HUP "$pid"
wait_for 4 test -s "$tmp/seventh"
wait "$seventh_pid"
check "a reload to max_connections: 6 lets it in ($(cat "$tmp/seventh"))" grep -q "^HTTP/1.1 200" "$tmp/seventh"
check "vipgate_gateway_max_connections follows the reload" [ "$(metric vipgate_gateway_max_connections)" = 6 ]
touch "$tmp/hold2/stop"
wait "$hold2_pid" 2>/dev/null
hold_stop
stop_clean "max_connections: 5"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
