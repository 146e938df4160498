#!/usr/bin/env bash
# Binary upgrade on one node (vipgated -x): under a load of new connections
# (curl in a loop) and keep-alive ones (a python client), a second vipgated
# takes the running one's listening sockets over its control socket; the
# old one drains and exits 0; no connection is refused and no request
# fails. The control socket then answers from the new process; a -x with
# nothing to take over exits 2 and the running one is untouched; so does a
# successor that cannot bind a listener within 15 s. A SIGUSR2 does the
# same hand-over, its successor started by the running process, twice.
. "$(dirname "$0")/gw-lib.sh"
command -v /usr/bin/python3 >/dev/null 2>&1 || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }

gw_ns_up 10.0.0.1
nginx_start "10.0.0.1:8080 app"
mkdir -p "$tmp/objs"
app_objs 10.0.0.1 > "$tmp/objs/app.yaml"
GW_WORKERS=2 vipgated_start || fail "vipgated did not start"
old=$pid
check "the gateway answers" inns curl -sf -o /dev/null http://127.0.0.1/

# new connections, one request each: every failure counted (refused, reset, non-200)
cat > "$tmp/load.py" <<'EOP'
import http.client, sys, time
mode, secs, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
end = time.time() + secs
ok = bad = 0
errs = {}
c = None
while time.time() < end:
    try:
        if c is None or mode == "new":
            c = http.client.HTTPConnection("127.0.0.1", 80, timeout=3)
        c.request("GET", "/x")
        r = c.getresponse()
        r.read()
        if r.status == 200:
            ok += 1
        else:
            bad += 1
            errs[str(r.status)] = errs.get(str(r.status), 0) + 1
        if mode == "new" or r.getheader("connection", "").lower() == "close":
            c.close()
            c = None
    except Exception as e:
        bad += 1
        errs[type(e).__name__] = errs.get(type(e).__name__, 0) + 1
        c = None
with open(out, "w") as f:
    f.write("%d %d %s\n" % (ok, bad, errs))
EOP
inns /usr/bin/python3 "$tmp/load.py" new 6 "$tmp/new.out" &
l1=$!
inns /usr/bin/python3 "$tmp/load.py" keep 6 "$tmp/keep.out" &
l2=$!
sleep 1.5
t0=$(date +%s%N)
(cd "$tmp" && exec ip netns exec "$ns" "$vipgated" -f -c "$tmp/vipgate.yaml" -x "$tmp/sock") \
	>"$tmp/log2" 2>&1 &
pid=$!
new=$pid
wait_for 15 sh -c "! kill -0 $old 2>/dev/null"
wait $old; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "the old vipgated exited 0 (rc $rc) in $ms ms" test "$rc" -eq 0 -a "$ms" -lt 15000
check "the new vipgated runs" kill -0 $new
wait $l1 $l2
read nok nbad nerr < "$tmp/new.out"
read kok kbad kerr < "$tmp/keep.out"
echo "  new connections: $nok ok, $nbad failed $nerr; keep-alive: $kok ok, $kbad failed $kerr"
check "load ran (new $nok, keep-alive $kok)" test "$nok" -gt 50 -a "$kok" -gt 50
check "no new connection failed or was refused" test "$nbad" -eq 0
check "no keep-alive request failed" test "$kbad" -eq 0
grep -E 'upgrade|drain' "$tmp/log" | sed 's/^/  old: /'
grep -E 'upgrade' "$tmp/log2" | sed 's/^/  new: /'
check "the old one sent its sockets" grep -q 'listening sockets sent' "$tmp/log"
check "the new one took them" grep -q 'handed over [1-9][0-9]* listening sockets' "$tmp/log2"
out=$("$ctl" -s "$tmp/sock" --json status | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
check "vipgatectl reaches the new process ($out)" test "$out" = "$new"
check "no SOCKET.new is left" test ! -e "$tmp/sock.new"
check "the new one serves" inns curl -sf -o /dev/null http://127.0.0.1/
check "its readiness is 200" inns curl -sf -o /dev/null http://127.0.0.1:15021/healthz/ready

# -x toward nothing: exit 2, the running one untouched
(cd "$tmp" && exec ip netns exec "$ns" "$vipgated" -f -c "$tmp/vipgate.yaml" -x "$tmp/nosock") \
	>"$tmp/log3" 2>&1
rc=$?
check "-x with nothing to take over exits 2 (rc $rc)" test $rc -eq 2
check "... saying so" grep -q 'cannot take over' "$tmp/log3"
check "... and the running one still answers" "$ctl" -s "$tmp/sock" status

# a successor that cannot get ready (a new port another process holds) gives
# up after 15 s: exit 2, and the running one serves on, reachable as before
# (exec: $hold is the holder itself, so that the kill below frees the port)
(exec ip netns exec "$ns" /usr/bin/python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 81)); s.listen(1); time.sleep(40)') &
hold=$!
wait_for 5 sh -c "ip netns exec $ns ss -ltn | grep -q ':81 '" || fail "the port holder did not start"
app_objs 10.0.0.1 '*' '{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}, {port: {number: 81, name: http2, protocol: HTTP}, hosts: ["*"]}' \
	> "$tmp/objs/app.yaml"
sleep 0.5
(cd "$tmp" && exec ip netns exec "$ns" "$vipgated" -f -c "$tmp/vipgate.yaml" -x "$tmp/sock") \
	>"$tmp/log4" 2>&1 &
p4=$!
wait_for 25 sh -c "! kill -0 $p4 2>/dev/null"
wait $p4; rc=$?
kill $hold 2>/dev/null; wait $hold 2>/dev/null
check "a successor not ready in 15 s exits 2 (rc $rc)" test $rc -eq 2
check "... saying why" grep -q 'not ready after 15000 ms' "$tmp/log4"
check "... and the running one still serves" inns curl -sf -o /dev/null http://127.0.0.1/
out=$("$ctl" -s "$tmp/sock" --json status | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
check "... on its control socket ($out)" test "$out" = "$pid"
check "... which logged the upgrade abandoned" grep -q 'abandoned, this one runs on' "$tmp/log2"
check "no SOCKET.new is left" test ! -e "$tmp/sock.new"

# SIGUSR2: the running process starts its successor itself (the binary it
# was started from, its own flags and -x), under the same load, once the
# running one is ready again (port 81 bound, the holder gone)
check "the running vipgated is ready again" \
	wait_for 15 inns curl -sf -o /dev/null http://127.0.0.1:15021/healthz/ready
inns /usr/bin/python3 "$tmp/load.py" new 5 "$tmp/new2.out" &
l1=$!
inns /usr/bin/python3 "$tmp/load.py" keep 5 "$tmp/keep2.out" &
l2=$!
# an idle keep-alive connection to the old process: closed by it as it
# drains, which the client sees only if no other process holds the socket
# (the successor inherits none of the old one's descriptors)
cat > "$tmp/idle.py" <<'EOP'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", 80), timeout=3)
s.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
d = b""
while b"\r\n\r\n" not in d:
    d += s.recv(4096)
open(sys.argv[1], "w").close()
t = time.time()
s.settimeout(15)
try:
    while s.recv(4096):
        pass
    print("closed after %.1f s" % (time.time() - t))
except socket.timeout:
    print("still open after 15 s")
EOP
inns /usr/bin/python3 "$tmp/idle.py" "$tmp/idle.up" > "$tmp/idle.out" 2>&1 &
idle=$!
wait_for 5 test -e "$tmp/idle.up"
sleep 1
prev=$pid
kill -USR2 "$prev"
wait_for 15 gone "$prev"
wait "$prev"; rc=$?
succ=$(successor_pid "$tmp/log2")
check "SIGUSR2: pid $prev started pid $succ, handed over and exited 0 (rc $rc)" \
	test -n "$succ" -a "$rc" -eq 0
pid=$succ
wait $l1 $l2 $idle
check "... an idle keep-alive client of the old process sees its close ($(cat "$tmp/idle.out"))" \
	grep -q '^closed' "$tmp/idle.out"
read nok nbad nerr < "$tmp/new2.out"
read kok kbad kerr < "$tmp/keep2.out"
echo "  new connections: $nok ok, $nbad failed $nerr; keep-alive: $kok ok, $kbad failed $kerr"
check "... no request failed (new $nok, keep-alive $kok)" \
	test "$nbad" -eq 0 -a "$kbad" -eq 0 -a "$nok" -gt 50 -a "$kok" -gt 50
out=$("$ctl" -s "$tmp/sock" --json status | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
check "... vipgatectl reaches the successor ($out)" test "$out" = "$succ"
kill -USR2 "$succ"
check "... which may be upgraded in turn: it starts its own" \
	wait_for 15 sh -c "[ \$(grep -c 'upgrade: started' '$tmp/log2') -ge 2 ]"
wait_for 15 gone "$succ"
pid=$(successor_pid "$tmp/log2")
check "... and hands over to it (pid $pid)" "$ctl" -s "$tmp/sock" status

kill -TERM "$pid"
check "the last vipgated stops (SIGTERM)" wait_for 10 gone "$pid"
pid=
echo "upgrade: $passes passed, $fails failed"
[ $fails -eq 0 ]
