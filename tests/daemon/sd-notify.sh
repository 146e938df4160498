#!/usr/bin/env bash
# vipgated as systemd's Type=notify service sees it, without systemd: a
# listener on NOTIFY_SOCKET (python3) records what vipgated sends, in a
# network namespace this test makes:
# - READY=1 with a STATUS= line once it serves;
# - WATCHDOG=1 at half of WATCHDOG_USEC (400 ms here: every 200 ms);
# - SIGHUP and vipgatectl reload: RELOADING=1 with MONOTONIC_USEC (the
#   monotonic clock, within a second of ours), then READY=1 again;
# - SIGTERM: STOPPING=1, then exit 0;
# - SIGUSR2 (a binary upgrade the running process starts): the old process
#   sends MAINPID= naming its successor at the hand-over and no STOPPING=1,
#   the successor says nothing before it is named, then READY=1 and its
#   own WATCHDOG=1 (WATCHDOG_PID rewritten to its pid); the old exits 0.
set -u
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
ip netns add vg-probe-$$ 2>/dev/null || { echo "SKIP: ip netns unavailable"; exit 77; }
ip netns del vg-probe-$$

bld=$(pwd)
. "$(dirname "$0")/../lib.sh"
vipgated=$bld/vipgated
ctl=$bld/vipgatectl
grep -q '^#define HAVE_LIBSYSTEMD 1' "$bld/config.h" 2>/dev/null ||
	{ echo "SKIP: built --without-systemd"; exit 77; }
ns=vg-sdn-$$
tmp=$(mktemp -d /tmp/vg-sdn.XXXXXX)
pid=
lpid=
fails=0 passes=0

cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$lpid" ] && kill "$lpid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" TERM INT HUP
fail() { fails=$((fails + 1)); echo "FAIL: $*"; [ -f "$tmp/log" ] && tail -15 "$tmp/log"; cat "$tmp/notify.log" 2>/dev/null | tail -5; }

ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$tmp/objs" "$tmp/state"
cat > "$tmp/vipgate.yaml" <<EOC
node: {name: node-a, address: 127.0.0.1}
objects: {paths: [objs]}
control: {socket: $tmp/sock}
addresses: {interface: lo}
state_dir: state
gateway: {enabled: false}
log: {level: info}
EOC

# the listener: one line a datagram, "<CLOCK_MONOTONIC us> <fields, '|' between>"
cat > "$tmp/listen.py" <<'PY'
import os, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
# and in the second file "<sender's pid> <fields>" (SCM_CREDENTIALS, as systemd reads it)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
byp = open(sys.argv[3], "a", buffering=1)
while True:
    m, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    m = m.decode().strip().replace("\n", "|")
    pid = 0
    for lvl, typ, data in anc:
        if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", data[:12])[0]
    out.write("%d %s\n" % (time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000, m))
    byp.write("%d %s\n" % (pid, m))
PY
/usr/bin/python3 "$tmp/listen.py" "$tmp/notify" "$tmp/notify.log" "$tmp/bypid.log" &
lpid=$!
check "the listener is up" wait_for 5 test -S "$tmp/notify"
: >> "$tmp/notify.log"

(cd "$tmp" && NOTIFY_SOCKET=$tmp/notify WATCHDOG_USEC=400000 \
	exec ip netns exec "$ns" "$vipgated" -f -c "$tmp/vipgate.yaml") >"$tmp/log" 2>&1 &
pid=$!
check "READY=1 with a STATUS line" wait_for 10 grep -q 'READY=1|STATUS=.*objects.*LoadBalancer services' "$tmp/notify.log"
sleep 1.1
n=$(grep -c ' WATCHDOG=1$' "$tmp/notify.log")
check "WATCHDOG=1 about every 200 ms ($n in 1.1 s after READY)" test "$n" -ge 4 -a "$n" -le 8
check "the log says the watchdog period" grep -q 'systemd watchdog: WATCHDOG=1 every 200 ms' "$tmp/log"

# ready_after_reloading: a READY=1 line after the last RELOADING=1 line
ready_after_reloading() { awk '/RELOADING=1/ { r = 1; ok = 0 } r && /READY=1/ { ok = 1 } END { exit !ok }' "$tmp/notify.log"; }
before=$(grep -c 'RELOADING=1' "$tmp/notify.log")
kill -HUP "$pid"
check "SIGHUP: RELOADING=1" wait_for 5 sh -c "[ \$(grep -c 'RELOADING=1' '$tmp/notify.log') -gt $before ]"
check "... with MONOTONIC_USEC within 1 s of the listener's clock" python3 -c '
import sys
for l in open(sys.argv[1]):
    if "RELOADING=1" in l:
        t, rest = l.split(" ", 1)
        us = int([f for f in rest.strip().split("|") if f.startswith("MONOTONIC_USEC=")][0].split("=")[1])
print(abs(int(t) - us))
sys.exit(abs(int(t) - us) > 1000000)' "$tmp/notify.log"
check "... then READY=1" wait_for 5 ready_after_reloading
before=$(grep -c 'RELOADING=1' "$tmp/notify.log")
"$ctl" -s "$tmp/sock" reload >/dev/null
check "vipgatectl reload: RELOADING=1, then READY=1" wait_for 2 sh -c \
	"[ \$(grep -c 'RELOADING=1' '$tmp/notify.log') -gt $before ] && awk '/RELOADING=1/ { r = 1; ok = 0 } r && /READY=1/ { ok = 1 } END { exit !ok }' '$tmp/notify.log'"

kill -TERM "$pid"
wait "$pid"; rc=$?
pid=
check "SIGTERM: STOPPING=1" grep -q 'STOPPING=1|STATUS=draining (SIGTERM)' "$tmp/notify.log"
check "... and exit 0 (rc $rc)" test $rc -eq 0

# SIGUSR2: the running process starts its successor (vipgated -x) itself;
# at the hand-over it names it to systemd as the main process (MAINPID=),
# and the successor speaks only from then on, its watchdog its own
: > "$tmp/bypid.log"
(cd "$tmp" && NOTIFY_SOCKET=$tmp/notify WATCHDOG_USEC=400000 exec sh -c \
	'WATCHDOG_PID=$$ exec ip netns exec "$0" "$1" -f -c "$2"' "$ns" "$vipgated" "$tmp/vipgate.yaml") \
	>>"$tmp/log" 2>&1 &
pid=$!
old=$pid
check "started again: READY=1 from it" wait_for 10 grep -q "^$old READY=1" "$tmp/bypid.log"
kill -USR2 "$old"
check "SIGUSR2: the old process names its successor (MAINPID=)" \
	wait_for 15 grep -q "^$old MAINPID=" "$tmp/bypid.log"
new=$(sed -n "s/^$old MAINPID=\([0-9]*\).*/\1/p" "$tmp/bypid.log" | head -1)
check "... a new process ($new)" test -n "$new" -a "$new" != "$old"
check "... that said nothing before it was named" awk -v o="$old" -v n="$new" \
	'$1 == n && !named { bad = 1 } $1 == o && $2 ~ /^MAINPID=/ { named = 1 } END { exit bad }' \
	"$tmp/bypid.log"
check "... then READY=1 from it" wait_for 5 grep -q "^$new READY=1" "$tmp/bypid.log"
check "... and WATCHDOG=1 from it" wait_for 2 grep -q "^$new WATCHDOG=1\$" "$tmp/bypid.log"
check "... its WATCHDOG_PID its own pid" sh -c "tr '\\0' '\\n' < /proc/$new/environ | grep -qx 'WATCHDOG_PID=$new'"
check "the old process said no STOPPING=1" sh -c "! grep -q '^$old STOPPING=1' '$tmp/bypid.log'"
wait "$old"; rc=$?
check "the old process drained and exited 0 (rc $rc)" test $rc -eq 0
out=$("$ctl" -s "$tmp/sock" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
check "vipgatectl reaches the successor ($out)" test "$out" = "$new"
pid=$new
kill -TERM "$new"
check "SIGTERM to the successor: STOPPING=1 from it" wait_for 10 grep -q "^$new STOPPING=1" "$tmp/bypid.log"
check "... and it exits" wait_for 10 gone "$new"
pid=

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
