#!/usr/bin/env bash
# The drain's GRACEFUL_SHUTDOWN on iBGP (RFC 8326 section 4.1: LOCAL_PREF 0
# as well as the community), seen by BIRD 2 as the ToR in the same AS as
# the nodes, on the three-node lab (lab-lib.sh; nodes a and b run): before
# the drain both routes have LOCAL_PREF 100; after SIGTERM to node a, its
# route carries (65535,0) and LOCAL_PREF 0 and is not the best, node b's is
# unchanged; the withdraw follows drain.withdraw_after and node a exits 0.
LAB_TAG=vgi
WAIT_S=3
LAB_TOR_AS=64500
LAB_BIRD_EXTRA="direct;"
. "$(dirname "$0")/lab-lib.sh"

lab_net
lab_bird
node_setup a 10.99.1.1 10.99.1.254 false
node_setup b 10.99.2.1 10.99.2.254 false
start_node a $nsa
start_node b $nsb
check "node a's and b's routes reach BIRD over iBGP" wait_for 20 sh -c \
	"birdc -s $tmp/bird.ctl show route for $VIP/32 all | grep -c 'via 10.99.[12].1' | grep -qx 2"
# LOCAL_PREF of BIRD's route from NH
lpref_of() {
	bc show route for $VIP/32 all | awk -v nh="$1" '
	    /^[[:space:]]*via / { cur = $2 }
	    /BGP.local_pref:/ && cur == nh { print $2; exit }'
}
bc show route for $VIP/32 all | sed 's/^/  bird: /'
check "node a's route has LOCAL_PREF 100 ($(lpref_of 10.99.1.1))" test "$(lpref_of 10.99.1.1)" = 100
check "node b's route has LOCAL_PREF 100 ($(lpref_of 10.99.2.1))" test "$(lpref_of 10.99.2.1)" = 100
t0=$(now_ms)
kill -TERM $pid_a
lp0() { [ "$(lpref_of 10.99.1.1)" = 0 ]; }
check "SIGTERM: node a's route comes with LOCAL_PREF 0" wait_for 2 lp0
echo "  LOCAL_PREF 0 at BIRD $(( $(now_ms) - t0 )) ms after SIGTERM"
check "... and with GRACEFUL_SHUTDOWN (65535,0)" gshut_of 10.99.1.1
bc show route for $VIP/32 all | sed 's/^/  bird: /'
b_clean() { [ "$(lpref_of 10.99.2.1)" = 100 ] && ! gshut_of 10.99.2.1; }
check "node b's route keeps LOCAL_PREF 100, without the community" b_clean
check "node b's route is the best" sh -c \
	"birdc -s $tmp/bird.ctl show route for $VIP/32 primary | grep -q 'via 10.99.2.1'"
check "node a's route is withdrawn after drain.withdraw_after" wait_for $((WAIT_S + 3)) no_nh 10.99.1.1
wait_for 15 sh -c "! kill -0 $pid_a 2>/dev/null"
wait $pid_a; rc=$?; pid_a=
check "node a exited 0 (rc $rc)" test $rc -eq 0

echo "drain-ibgp-bird: $passes passed, $fails failed"
[ $fails -eq 0 ]
