#!/usr/bin/env bash
# A rolling restart of the three-node lab (lab-lib.sh: BIRD 2 as the ToR
# with ECMP over the nodes, a resilient nexthop group, a client behind it)
# under a steady keep-alive wrk load through the ToR to nginx "pods" behind
# the gateway:
#
#  rolling  SIGTERM to each node in turn, started again once it exited:
#           every drain well under 15 s, the node's route back at BIRD, and
#           wrk sees no failed request and no socket error;
#  kill     SIGKILL to one node: only what went to it fails (its
#           connections, and new ones the ToR hashed to it before BIRD saw
#           the session drop: under 1% of the load), its route leaves BIRD
#           when the session drops, nothing fails once it has, and the node
#           comes back when started again.
#
# Prints per scenario: requests sent, failed, and p99 during the event
# beside p99 before it.
LAB_TAG=vgr
WAIT_S=2		# drain.withdraw_after
. "$(dirname "$0")/lab-lib.sh"
command -v nginx >/dev/null || { echo "SKIP: nginx missing"; exit 77; }

lab_net
lab_bird
for n in a b c; do
	case $n in a) i=1;; b) i=2;; c) i=3;; esac
	node_setup $n 10.99.$i.1 10.99.$i.254 false
done

# the pods: nginx on 10.9.0.1:8080 (the web Service's endpoint), reached
# from the nodes through the ToR
ip -n $nst addr add 10.9.0.1/32 dev lo
mkdir -p "$tmp/ngx"
cat > "$tmp/ngx/nginx.conf" <<EOC
daemon off; user root; worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/ngx/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $tmp/ngx; keepalive_requests 1000000;
  server { listen 10.9.0.1:8080; location / { default_type text/plain; return 200 "pod \$request_uri\n"; } } }
EOC
ip netns exec $nst nginx -c "$tmp/ngx/nginx.conf" -p "$tmp/ngx" >"$tmp/ngx/out" 2>&1 &
LAB_PIDS="$LAB_PIDS $!"
wait_for 5 test -s "$tmp/nginx.pid" || fail "nginx did not start"

start_node a $nsa
start_node b $nsb
start_node c $nsd
check "the three nodes' routes reach BIRD" wait_for 20 sh -c \
	"birdc -s $tmp/bird.ctl show route for $VIP/32 all | grep -c 'via 10.99.[123].1' | grep -qx 3"
lab_resil 200
check "the ToR forwards to the pods through the VIP" wait_for 5 sh -c \
	"ip netns exec $nsc curl -sf -m 1 http://$VIP/app/x | grep -qx 'pod /app/x'"

p99() { awk '$1 == "99%" { print $2 }' "$1"; }
wrk_figures() {	# FILE: requests, failed, p99
	echo "$(awk '/requests in/ { print $1 }' "$1") requests," \
	    "$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { for (i = 4; i <= NF; i += 2) n += $i } END { print n + 0 }' "$1") failed," \
	    "p99 $(p99 "$1")"
}
# p99 before any event
ip netns exec $nsc wrk -t1 -c8 -d3s --timeout 3s --latency http://$VIP/app/ > "$tmp/wrk0.out" 2>&1
echo "  before: $(wrk_figures "$tmp/wrk0.out")"

# ---- rolling restart ----
ip netns exec $nsc wrk -t1 -c8 -d120s --timeout 3s --latency http://$VIP/app/ > "$tmp/wrk.out" 2>&1 &
wrk_pid=$!
sleep 2
for n in a b c; do
	case $n in a) i=1;; b) i=2;; c) i=3;; esac
	eval p=\$pid_$n
	t0=$(now_ms)
	kill -TERM $p
	wait_for 15 sh -c "! kill -0 $p 2>/dev/null"
	t_exit=$(( $(now_ms) - t0 ))
	wait $p; rc=$?
	check "node $n drained and exited 0 (rc $rc) in $t_exit ms, well under 15 s" \
		test $rc -eq 0 -a $t_exit -lt 15000
	start_node $n $(eval echo \$ns$([ $n = c ] && echo d || echo $n))
	check "node $n's route is back at BIRD" wait_for 15 has_nh 10.99.$i.1
	# the ToR's group takes it back before the next node leaves
	wait_for 5 sh -c "ip -n $nst nexthop bucket show id 10 | grep -q 'nhid $i '" ||
		echo "  (node $n has no ToR bucket yet)"
	sleep 1
done
kill -INT $wrk_pid 2>/dev/null
wait $wrk_pid
sed 's/^/  wrk: /' "$tmp/wrk.out" | grep -E 'requests in|errors|Non-2xx|99%'
echo "  rolling restart: $(wrk_figures "$tmp/wrk.out") (before: p99 $(p99 "$tmp/wrk0.out"))"
reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
check "wrk ran through the rolling restart (${reqs:-0} requests)" test "${reqs:-0}" -gt 1000
check "no socket error during the rolling restart" sh -c "! grep -q 'Socket errors' $tmp/wrk.out"
check "no failed request during the rolling restart" sh -c "! grep -q 'Non-2xx' $tmp/wrk.out"

# ---- SIGKILL of one node: only what it held fails ----
# what fails is what went to node b until the ToR stopped sending there:
# its connections, and new ones hashed to its buckets before BIRD saw the
# session drop; once its route is gone, nothing fails
ip netns exec $nsc wrk -t1 -c8 -d120s --timeout 3s --latency http://$VIP/app/ > "$tmp/wrk2.out" 2>&1 &
wrk_pid=$!
sleep 2
b0=$(buckets 2>/dev/null)
t0=$(now_ms)
kill -9 $pid_b
wait $pid_b 2>/dev/null; pid_b=
check "node b's route leaves BIRD once its session drops" wait_for 12 no_nh 10.99.2.1
t_gone=$(( $(now_ms) - t0 ))
wait_for 3 sh -c "! ip -n $nst nexthop bucket show id 10 | grep -q 'nhid 2 '"
kill -INT $wrk_pid 2>/dev/null
wait $wrk_pid
ip netns exec $nsc wrk -t1 -c8 -d3s --timeout 3s http://$VIP/app/ > "$tmp/wrk3.out" 2>&1
start_node b $nsb
check "node b's route is back at BIRD" wait_for 15 has_nh 10.99.2.1
sed 's/^/  wrk: /' "$tmp/wrk2.out" | grep -E 'requests in|errors|Non-2xx|99%'
echo "  SIGKILL of node b: $(wrk_figures "$tmp/wrk2.out"), its route gone from BIRD after $t_gone ms (ToR buckets before: $b0)"
reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk2.out")
errs=$(awk '/Socket errors/ { for (i = 4; i <= NF; i += 2) n += $i } /Non-2xx/ { n += $NF } END { print n + 0 }' "$tmp/wrk2.out")
check "wrk carried on past the kill (${reqs:-0} requests)" test "${reqs:-0}" -gt 1000
check "only what went to node b failed ($errs of ${reqs:-0}, under 1%)" test $((errs * 100)) -lt "${reqs:-1}"
reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk3.out")
check "once node b's route was gone, nothing failed (${reqs:-0} requests)" sh -c \
	"test '${reqs:-0}' -gt 100 && ! grep -q -e 'Socket errors' -e 'Non-2xx' '$tmp/wrk3.out'"

for n in a b c; do
	grep -q 'Sanitizer\|runtime error' "$tmp/$n.log" && fail "node $n: sanitizer report"
done
echo "rolling-bird: $passes passed, $fails failed"
[ $fails -eq 0 ]
