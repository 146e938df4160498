#!/usr/bin/env bash
# A binary upgrade of the three nodes of the lab (lab-lib.sh), one after
# the other, BIRD 2 as the ToR with graceful restart, under one wrk load
# through the ToR (keep-alive connections, and new connections with
# Connection: close):
#
#  - on each node, a second vipgated with -x takes the running one's listening
#    sockets over its control socket; the old one closes its BGP session
#    without a NOTIFICATION (RFC 4724: BIRD keeps the route, stale), drains
#    and exits 0; the new one opens its session with the Restart State bit
#    and sends the route and End-of-RIB;
#  - BIRD's routes from the three nodes are there in every sample taken
#    every 50 ms from before the first upgrade to after the last (never
#    withdrawn), and no GRACEFUL_SHUTDOWN community appears;
#  - wrk counts no failed request and no socket error;
#  - vipgatectl on each node's socket reaches its new process; the ToR's
#    resilient group still spreads over the three.
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
# the benchmark's baseline: p99 before the event, under the same two loads
ip netns exec $nsc wrk -t1 -c4 -d4s --timeout 3s -H 'Connection: close' http://$VIP/ \
	> /dev/null 2>&1 &
wb=$!
ip netns exec $nsc wrk -t1 -c8 -d4s --timeout 3s --latency http://$VIP/ > "$tmp/wrk-before.out" 2>&1
wait $wb
watch_routes 26 &
watch_pid=$!
LAB_PIDS=$watch_pid
ip netns exec $nsc wrk -t1 -c8 -d22s --timeout 3s --latency http://$VIP/ > "$tmp/wrk-keep.out" 2>&1 &
wk=$!
ip netns exec $nsc wrk -t1 -c4 -d22s --timeout 3s -H 'Connection: close' http://$VIP/ \
	> "$tmp/wrk-new.out" 2>&1 &
wn=$!
LAB_PIDS="$LAB_PIDS $wk $wn"
sleep 3
# node a, then b, then c, one after the other under the same load
upgrade_node() {	# NAME NETNS
	local n=$1 old new t0 t_exit t_up rc
	eval old=\$pid_$n
	t0=$(now_ms)
	ip netns exec $2 "$vipgated" -f -c "$tmp/$n/vipgate.yaml" -x "$tmp/$n/sock" \
		>>"$tmp/${n}2.log" 2>&1 &
	new=$!
	LAB_PIDS="$LAB_PIDS $new"
	eval new_$n=$new
	wait_for 15 sh -c "! kill -0 $old 2>/dev/null"
	t_exit=$(( $(now_ms) - t0 ))
	wait $old; rc=$?
	eval pid_$n=
	check "node $n: the old vipgated exited 0 (rc $rc) in $t_exit ms" test $rc -eq 0 -a $t_exit -lt 15000
	check "node $n: the new one runs" kill -0 $new
	check "node $n: BIRD's session is up again" wait_for 10 sh -c \
		"birdc -s $tmp/bird.ctl show protocols $n | grep -q Established"
	t_up=$(( $(now_ms) - t0 ))
	check "node $n: BIRD took it as a graceful restart" \
		grep -q "$n: Neighbor graceful restart detected" "$tmp/bird.log"
	check "node $n: ... which ended with the new session's End-of-RIB" wait_for 5 \
		grep -q "$n: Neighbor graceful restart done" "$tmp/bird.log"
	echo "  node $n: upgrade -> old exit $t_exit ms, BGP Established again $t_up ms"
}
upgrade_node a $nsa
check "the new process's OPEN has the Restart State bit (BIRD: Restart recovery)" \
	nbr_has 'Restart recovery'
sleep 2
upgrade_node b $nsb
sleep 2
upgrade_node c $nsd
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
echo "  keep-alive p99: $(p99 "$tmp/wrk-before.out") before, $(p99 "$tmp/wrk-keep.out") during the upgrades"
n=$(wc -l < "$tmp/watch.log")
miss=$(grep -vc '10\.99\.1\.1 10\.99\.2\.1 10\.99\.3\.1' "$tmp/watch.log")
gap=$(awk '{ split($1, t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]; if (p && s - p > g) g = s - p; p = s }
    END { printf "%d", g * 1000 }' "$tmp/watch.log")
check "BIRD had the three nodes' routes in all $n samples ($miss without; at most $gap ms apart)" \
	test "$n" -gt 20 -a "$miss" -eq 0 -a "$gap" -lt 1500
check "no process removed the VIP from its node" sh -c \
	"! grep -h 'removed from' $tmp/a.log $tmp/b.log $tmp/c.log $tmp/a2.log $tmp/b2.log $tmp/c2.log"
check "... and never with GRACEFUL_SHUTDOWN" sh -c "! grep -q '65535,0' $tmp/bird.log"
check "no withdraw in BIRD's log" sh -c \
	"! grep -E '^.* [abc] > .*(withdraw|removed)' $tmp/bird.log | grep -q ."
grep -E ' a: ' "$tmp/bird.log" | grep -ivE 'hold|keepalive' | sed 's/^/  bird: /' | tail -8
grep -E 'upgrade|graceful|drain' "$tmp/a.log" | sed 's/^/  a old: /'
grep -E 'upgrade|bgp' "$tmp/a2.log" | sed 's/^/  a new: /' | head -4
for n in a b c; do
	out=$("$ctl" -s "$tmp/$n/sock" --json status | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	eval want=\$new_$n
	check "vipgatectl reaches the new process on node $n ($out)" test "$out" = "$want"
done
b=$(buckets 2>/dev/null)
check "the three nodes still share the ToR's buckets ($b)" sh -c \
	"echo '$b' | grep -q '1:' && echo '$b' | grep -q '2:' && echo '$b' | grep -q '3:'"

echo "upgrade-bird: $passes passed, $fails failed"
[ $fails -eq 0 ]
