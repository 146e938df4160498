#!/usr/bin/env bash
# A binary upgrade of one node of the three-node lab (lab-lib.sh), BIRD 2
# as the ToR with graceful restart, under wrk load through the ToR (keep-
# alive connections, and new connections with Connection: close):
#
#  - a second vipgated on node a with -x takes the running one's listening
#    sockets over its control socket; the old one closes its BGP session
#    without a NOTIFICATION (RFC 4724: BIRD keeps the route, stale), drains
#    and exits 0; the new one opens its session with the Restart State bit
#    and sends the route and End-of-RIB;
#  - BIRD's route from node a is there in every sample taken every 50 ms
#    from before the upgrade to after it (never withdrawn), and no GRACEFUL_
#    SHUTDOWN community appears;
#  - wrk counts no failed request and no socket error;
#  - vipgatectl on node a's socket reaches the new process.
LAB_TAG=vgu
WAIT_S=3
LAB_GR=1
LAB_BIRD_EXTRA="graceful restart on; debug { states, events };"
. "$(dirname "$0")/lab-lib.sh"

lab_net
lab_bird
node_setup a 10.99.1.1 10.99.1.254 false
node_setup b 10.99.2.1 10.99.2.254 false
node_setup c 10.99.3.1 10.99.3.254 false
start_node a $nsa
start_node b $nsb
start_node c $nsd
check "the three nodes' routes reach BIRD" wait_for 20 sh -c \
	"birdc -s $tmp/bird.ctl show route for $VIP/32 all | grep -c 'via 10.99.[123].1' | grep -qx 3"
# node a's capabilities as BIRD read them from its OPEN
nbr_has() { bc show protocols all a | awk '/Neighbor capabilities/ { n = 1 } /Session:/ { n = 0 } n' | grep -q "$1"; }
check "node a's OPEN has graceful restart" nbr_has 'Graceful restart'

lab_resil 60
check "the ToR forwards to the VIP" wait_for 5 ip netns exec $nsc curl -sf -m 1 http://$VIP/

# BIRD's next hops for the VIP every 50 ms, until the deadline (s)
watch_routes() {
	local end=$(( $(date +%s) + $1 ))
	while [ "$(date +%s)" -lt $end ]; do
		echo "$(date +%T.%N | cut -c1-12) $(bird_nhs)" >> "$tmp/watch.log"
		sleep 0.05
	done
}
# the benchmark's baseline: p99 before the event, the same load
ip netns exec $nsc wrk -t1 -c8 -d4s --timeout 3s --latency http://$VIP/ > "$tmp/wrk-before.out" 2>&1
watch_routes 16 &
watch_pid=$!
LAB_PIDS=$watch_pid
ip netns exec $nsc wrk -t1 -c8 -d12s --timeout 3s --latency http://$VIP/ > "$tmp/wrk-keep.out" 2>&1 &
wk=$!
ip netns exec $nsc wrk -t1 -c4 -d12s --timeout 3s -H 'Connection: close' http://$VIP/ \
	> "$tmp/wrk-new.out" 2>&1 &
wn=$!
LAB_PIDS="$LAB_PIDS $wk $wn"
sleep 3
old_a=$pid_a
t0=$(now_ms)
ip netns exec $nsa "$vipgated" -f -c "$tmp/a/vipgate.yaml" -x "$tmp/a/sock" >>"$tmp/a2.log" 2>&1 &
new_a=$!
LAB_PIDS="$LAB_PIDS $new_a"
wait_for 15 sh -c "! kill -0 $old_a 2>/dev/null"
t_exit=$(( $(now_ms) - t0 ))
wait $old_a; rc=$?; pid_a=
check "the old vipgated on node a exited 0 (rc $rc) in $t_exit ms" test $rc -eq 0 -a $t_exit -lt 15000
check "the new one runs" kill -0 $new_a
check "BIRD's session with node a is up again" wait_for 10 sh -c \
	"birdc -s $tmp/bird.ctl show protocols a | grep -q Established"
t_up=$(( $(now_ms) - t0 ))
check "the new process's OPEN has the Restart State bit (BIRD: Restart recovery)" \
	nbr_has 'Restart recovery'
check "BIRD took it as a graceful restart" grep -q 'a: Neighbor graceful restart detected' "$tmp/bird.log"
check "... which ended with the new session's End-of-RIB" wait_for 5 \
	grep -q 'a: Neighbor graceful restart done' "$tmp/bird.log"
echo "  upgrade -> old exit $t_exit ms, BGP Established again $t_up ms"
wait $wk $wn
kill $watch_pid 2>/dev/null; wait $watch_pid 2>/dev/null
for w in keep new; do
	sed "s/^/  wrk $w: /" "$tmp/wrk-$w.out" | grep -E 'requests in|errors|Non-2xx|Latency'
	reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk-$w.out")
	check "wrk ($w connections) ran (${reqs:-0} requests)" test "${reqs:-0}" -gt 100
	check "... no failed request, no socket error" sh -c \
		"! grep -q -e 'Socket errors' -e 'Non-2xx' $tmp/wrk-$w.out"
done
p99() { awk '$1 == "99%" { print $2 }' "$1"; }
echo "  keep-alive p99: $(p99 "$tmp/wrk-before.out") before, $(p99 "$tmp/wrk-keep.out") during the upgrade"
n=$(wc -l < "$tmp/watch.log")
miss=$(grep -vc '10\.99\.1\.1' "$tmp/watch.log")
gap=$(awk '{ split($1, t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]; if (p && s - p > g) g = s - p; p = s }
    END { printf "%d", g * 1000 }' "$tmp/watch.log")
check "BIRD had node a's route in all $n samples ($miss without; at most $gap ms apart)" \
	test "$n" -gt 20 -a "$miss" -eq 0 -a "$gap" -lt 1500
check "... and never with GRACEFUL_SHUTDOWN" sh -c "! grep -q '65535,0' $tmp/bird.log"
check "no withdraw from node a in BIRD's log" sh -c \
	"! grep -E '^.*a > .*(withdraw|removed)' $tmp/bird.log | grep -q ."
grep -E ' a: ' "$tmp/bird.log" | grep -ivE 'hold|keepalive' | sed 's/^/  bird: /' | tail -12
grep -E 'upgrade|graceful|drain' "$tmp/a.log" | sed 's/^/  a old: /'
grep -E 'upgrade|bgp' "$tmp/a2.log" | sed 's/^/  a new: /' | head -8
out=$("$ctl" -s "$tmp/a/sock" --json status | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
check "vipgatectl reaches the new process on node a ($out)" test "$out" = "$new_a"
check "the ToR still forwards to node a" sh -c "ip -n $nst route get $VIP | grep -q ."

echo "upgrade-bird: $passes passed, $fails failed"
[ $fails -eq 0 ]
