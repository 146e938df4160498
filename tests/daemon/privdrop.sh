#!/usr/bin/env bash
# Least privilege, in namespaces this test makes (a node running vipgated,
# a ToR running BIRD 2 when it is installed, joined by a veth pair):
# - with user: nobody and group: <a group the test makes>, vipgated started
#   as root runs as nobody, every thread with only CAP_NET_ADMIN, CAP_NET_RAW
#   and CAP_NET_BIND_SERVICE (CapEff = CapPrm = CapBnd = 0x3400, the same
#   three ambient for the successor a SIGUSR2 starts, no supplementary
#   groups);
# - its control socket is root:<group> 0660: a process of that group gets
#   answers, one outside it is refused, before and after a reload;
# - still works: the BGP session with BIRD (port 179) and the route of a
#   Service's VIP, the VIP as a local address, the gateway on port 80 and,
#   after a SIGHUP, on port 81 (bound by a worker thread), allocations.json
#   written as nobody; a key file only root can read is named in a warning;
# - started as root without user:, it stays root with the same three
#   capabilities, the bounding set the same three; started as nobody with the
#   three as ambient capabilities (systemd's User= and
#   AmbientCapabilities=), it keeps them and serves; in both, the successor
#   a SIGUSR2 starts (a binary upgrade) has the same user and three
#   capabilities and takes over;
# - vipgated -t rejects a user: that names no account.
. "$(dirname "$0")/../interop/bgp-lib.sh"
command -v setpriv >/dev/null && command -v groupadd >/dev/null && command -v curl >/dev/null ||
	{ echo "SKIP: setpriv, groupadd or curl missing"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit 77; }
have_bird=0
command -v bird >/dev/null && command -v birdc >/dev/null && have_bird=1
grp=vgt$$
groupadd "$grp" || { echo "SKIP: cannot add a group"; exit 77; }
gid=$(getent group "$grp" | cut -d: -f3)
trap 'cleanup; groupdel "$grp" 2>/dev/null' EXIT

setup_net
bird_hold3_setup
has_route() { bc show route table t4 | grep -q "^$1 "; }
svc web > "$tmp/objs/web.yaml"
cat > "$tmp/objs/gw.yaml" <<'EOC'
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: answer, namespace: default}
spec:
  hosts: ["*"]
  gateways: [edge]
  http:
  - directResponse: {status: 200, body: {string: "served"}}
EOC
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$tmp/l2.key"
chmod 600 "$tmp/l2.key"
chmod 644 "$tmp/objs/"*
sed -i 's/^gateway: {enabled: false}$/gateway: {workers: 2, bind: ["0.0.0.0"], drain_timeout: 1s}/' "$tmp/vipgate.yaml"
cat >> "$tmp/vipgate.yaml" <<EOC
user: nobody
group: $grp
l2: {heartbeat: {key_file: l2.key}}
EOC

vip() { json services | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] == sys.argv[1]:
        print(" ".join(s["vips"]))' "$1"; }
# status_field PID FIELD: a line of /proc/PID/status, without its name
status_field() { awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }
# every thread: "uid caps-eff caps-prm bounding ambient groups"
threads() { for t in /proc/$pid/task/*; do
	awk '$1 == "Uid:" { u = $2 "/" $3 "/" $4 "/" $5 } $1 == "CapEff:" { e = $2 }
	     $1 == "CapPrm:" { p = $2 } $1 == "CapBnd:" { b = $2 } $1 == "CapAmb:" { a = $2 }
	     $1 == "Groups:" { g = $2 } END { print u, e, p, b, a, (g == "" ? "-" : g) }' "$t/status"
	done | sort | uniq -c; }
# all_threads PATTERN: every thread's line (threads) matches it
all_threads() { ! threads | grep -v -- "$1" | grep -q .; }
nobody_caps() {
	[ "$(status_field $pid Uid)" = "65534 65534 65534 65534" ] &&
	[ "$(status_field $pid CapEff)" = 0000000000003400 ] &&
	[ "$(status_field $pid CapPrm)" = 0000000000003400 ]
}
# usr2_upgrade CAPS_CHECK [SOCKET]: SIGUSR2 to $pid; the old one exits 0,
# its successor passes CAPS_CHECK and answers on the control socket; pid
# becomes the successor's
usr2_upgrade() {
	local old=$pid new rc out
	kill -USR2 "$old"
	wait_for 20 gone "$old"
	wait "$old"; rc=$?
	new=$(successor_pid "$tmp/log")
	check "SIGUSR2: the old process (pid $old) hands over to pid $new and exits 0 (rc $rc)" \
		test -n "$new" -a "$rc" -eq 0
	pid=$new
	grep -E "^(Uid|CapEff|CapPrm|CapBnd|CapAmb):" /proc/$pid/status | tr "\t" " " | sed "s/^/    /"
	check "... the successor: the same user and three capabilities" "$1"
	out=$("$ctl" -s "${2:-$tmp/sock}" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	check "... and its control socket answers ($out)" test "$out" = "$new"
}
has_vip() { [ -n "$(vip "$1")" ]; }
applied_all() { json status | grep -q '"applied": "all"'; }
root_caps() {
	[ "$(status_field $pid Uid)" = "0 0 0 0" ] &&
	[ "$(status_field $pid CapEff)" = 0000000000003400 ] &&
	[ "$(status_field $pid CapPrm)" = 0000000000003400 ] &&
	[ "$(status_field $pid CapBnd)" = 0000000000003400 ]
}
as_member() { setpriv --reuid=nobody --regid=nogroup --groups="$gid" "$ctl" -s "$tmp/sock" "$@"; }
as_other() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$ctl" -s "$tmp/sock" "$@"; }

if [ $have_bird -eq 1 ]; then
	ip netns exec "$nst" bird -f -c "$tmp/bird.conf" -s "$birdsock" >>"$tmp/bird.log" 2>&1 &
	peer_pids="$peer_pids $!"
	check "BIRD starts" wait_for 5 test -S "$birdsock"
fi
check "vipgated starts (user: nobody)" start_vipgated
check "the gateway is ready" wait_for 10 ip netns exec "$nsn" curl -sf -o /dev/null http://127.0.0.1:15021/healthz/ready
sleep 0.3	# every worker thread up
echo "threads (count uid eff prm bnd groups):"; threads | sed 's/^/    /'
check "every thread runs as nobody (uid 65534)" all_threads ' 65534/65534/65534/65534 '
check "every thread: CapEff = CapPrm = 0x3400 (NET_BIND_SERVICE, NET_ADMIN, NET_RAW)" \
	all_threads ' 0000000000003400 0000000000003400 '
check "the bounding set and the ambient set the same three, no supplementary groups" \
	all_threads ' 0000000000003400 0000000000003400 -$'
check "the log says so" grep -q 'running as user nobody (uid 65534, gid '"$gid"') with CAP_NET_ADMIN' "$tmp/log"
check "the control socket is root:$grp 0660 ($(stat -c '%U:%G %a' "$tmp/sock"))" \
	test "$(stat -c '%U:%G %a' "$tmp/sock")" = "root:$grp 660"
check "a member of $grp gets answers" as_member status
as_other status > "$tmp/other.out" 2>&1; rc=$?
check "a process outside $grp is refused (exit $rc: $(head -1 "$tmp/other.out"))" \
	sh -c "[ $rc -eq 2 ] && grep -q 'Permission denied' '$tmp/other.out'"
check "the unreadable key file is named in a warning" \
	grep -q 'l2.heartbeat.key_file .*l2.key cannot be read by user nobody' "$tmp/log"

v=$(vip web)
check "the Service has a VIP ($v)" test -n "$v"
check "... a local address of the node" wait_for 5 sh -c "ip -n '$nsn' addr show dev lo | grep -q 'inet $v/'"
[ $have_bird -eq 1 ] && check "the BGP session is established (port 179)" wait_for 10 proto_up
[ $have_bird -eq 1 ] && check "... and BIRD has the VIP's route" wait_for 5 has_route "$v/32"
check "the gateway answers on port 80" sh -c \
	"ip netns exec '$nsn' curl -s --max-time 2 http://$v/ | grep -q served"
check "allocations.json is written by nobody" sh -c \
	"[ \"\$(stat -c %U '$tmp/state/allocations.json')\" = nobody ]"

# a reload as nobody: a second port, bound by the worker threads
sed -i 's/    hosts: \["\*"\]$/    hosts: ["*"]\n  - port: {number: 81, name: http2, protocol: HTTP}\n    hosts: ["*"]/' "$tmp/objs/gw.yaml"
kill -HUP "$pid"
check "after SIGHUP the gateway answers on port 81 too" wait_for 5 sh -c \
	"ip netns exec '$nsn' curl -s --max-time 1 http://$v:81/ | grep -q served"
check "... the reload applied everything" applied_all
check "a member of $grp still gets answers" as_member status
svc api > "$tmp/objs/api.yaml"; chmod 644 "$tmp/objs/api.yaml"
check "a new Service gets a VIP" wait_for 5 has_vip api
[ $have_bird -eq 1 ] && check "... announced to BIRD" wait_for 5 has_route "$(vip api)/32"

kill -TERM "$pid"
wait "$pid"; rc=$?
pid=
check "SIGTERM exits 0 (rc $rc)" test $rc -eq 0

# -- started as root without user: root, three capabilities --
sed -i '/^user: nobody$/d; /^group: /d; /^l2: /d' "$tmp/vipgate.yaml"
check "vipgated starts (no user:)" start_vipgated
grep -E "^(Uid|CapEff|CapPrm|CapBnd):" /proc/$pid/status | tr "\t" " " | sed "s/^/    /"
check "uid 0, CapEff = CapPrm = CapBnd = 0x3400" root_caps
check "the log says how to run it as another user" grep -q 'running as root with only CAP_NET_ADMIN' "$tmp/log"
[ $have_bird -eq 1 ] && check "the BGP session comes back" wait_for 10 proto_up
# SIGUSR2: its successor, started from it, has the same three (through
# the bounding set: it has no CAP_SETPCAP to change it) and serves
usr2_upgrade root_caps
[ $have_bird -eq 1 ] && check "... the BGP session comes back to it" wait_for 10 proto_up
kill -TERM "$pid"
check "SIGTERM: the successor exits" wait_for 10 gone "$pid"
pid=

# -- as systemd's User=nobody with AmbientCapabilities starts it --
mkdir -p "$tmp/run"; chown nobody:nogroup "$tmp/run"
ip netns exec "$nsn" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=-all,+net_admin,+net_raw,+net_bind_service \
	--ambient-caps=-all,+net_admin,+net_raw,+net_bind_service \
	"$vipgated" -f -c "$tmp/vipgate.yaml" -s "$tmp/run/sock" >>"$tmp/log" 2>&1 &
pid=$!
check "vipgated starts as nobody with ambient capabilities" wait_for 5 "$ctl" -s "$tmp/run/sock" status
check "uid 65534, CapEff = CapPrm = 0x3400" nobody_caps
check "the gateway answers on port 80" wait_for 5 sh -c \
	"ip netns exec '$nsn' curl -s --max-time 1 http://$v/ | grep -q served"
[ $have_bird -eq 1 ] && check "the BGP session comes back" wait_for 10 proto_up
# SIGUSR2: its successor keeps the three through the ambient set
usr2_upgrade nobody_caps "$tmp/run/sock"
check "... the gateway answers on port 80" wait_for 5 sh -c \
	"ip netns exec '$nsn' curl -s --max-time 1 http://$v/ | grep -q served"
kill -TERM "$pid"
check "SIGTERM: the successor exits" wait_for 10 gone "$pid"
pid=

# -- an account that does not exist: invalid, at -t as at start --
echo "user: vg-no-such-user" >> "$tmp/vipgate.yaml"
"$vipgated" -t -c "$tmp/vipgate.yaml" > "$tmp/t.out" 2>&1; rc=$?
check "-t: user: naming no account exits 1 ($(head -1 "$tmp/t.out"))" \
	sh -c "[ $rc -eq 1 ] && grep -q 'user: no such user vg-no-such-user' '$tmp/t.out'"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
