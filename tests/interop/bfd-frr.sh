#!/usr/bin/env bash
# BFD (RFC 5880/5881) between vipgated and FRR 8 (zebra + bfdd + bgpd,
# `neighbor ... bfd`) as the ToR, on an eBGP IPv4 session with MetalLB's
# default hold time (90 s): BFD Up, then BGP; vipgated frozen (SIGSTOP) ->
# FRR withdraws the route within the detection time plus a margin, not at
# hold time; FRR's bfdd frozen -> vipgated takes BGP down at once with a
# Cease "BFD Down" (RFC 9384) and keeps it down until BFD is back; a
# BFDProfile change on SIGHUP -> new timers through a Poll Sequence, no BGP
# flap; vipgatectl bfd and the metallb_bfd_* metrics.
. "$(dirname "$0")/frr-bfd-lib.sh"

# the profile's interval (ms) and the margin over the detection time that
# the withdrawal may take (FRR's bgpd and zebra, the polling)
# 200 ms: at 100 ms x 3, bfdd and vipgated (nice 19 on two cores shared by
# several builds, load 8) were seen to miss 300 ms once
IVL=${BFD_IVL:-200}
# the margin over the detection time for FRR's withdrawal of the route, as
# polled: bfdd, then zebra and bgpd, share two busy cores here (650 ms seen
# under ASan); FRR's BFD itself must go down within detection + 50 ms (its
# debug log's timestamps)
MARGIN=${BFD_MARGIN:-1000}
# the tighter bound of what vipgated does itself: the issue's 50 ms holds on a
# quiet machine (make bench-bfd measures it); a test shares the CPUs with
# another test, and with AddressSanitizer, so it allows more
TIGHT=${BFD_TIGHT:-250}

setup_net
# the gateway serves the metrics (:15020 in the node's namespace)
sed -i 's/^gateway: {enabled: false}/gateway: {enabled: true, workers: 1}/' "$tmp/vipgate.yaml"
frr_setup
cat > "$fd/bfdd.conf" <<EOC
hostname tor
log file $fd/bfdd-debug.log
log timestamp precision 3
debug bfd peer
bfd
 profile fast
  detect-multiplier 3
  receive-interval $IVL
  transmit-interval $IVL
 !
!
EOC

profile() {
	cat <<EOC
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: $1, transmitInterval: $1, detectMultiplier: 3}
EOC
}
frr_bfd_objs
profile "$IVL" > "$tmp/objs/bfd.yaml"

check "FRR (zebra + bfdd + bgpd) starts" start_frr
check "vipgated starts" start_vipgated
check "BFD up (FRR side)" wait_for 10 frr_bfd 'p["status"] == "up"'
check "BFD up (vipgatectl bfd)" wait_for 3 ours 's["state"] == "Up"'
check "BGP established, hold time 90 s" wait_for 10 nbr_up 10.99.0.1
web=$(json services | python3 -c 'import json,sys; print(json.load(sys.stdin)["services"][0]["vips"][0])')
check "route $web/32 at FRR" wait_for 5 has_route "$web/32"
check "FRR sees our $IVL ms timers" wait_for 3 frr_bfd \
	"p['remote-transmit-interval'] == $IVL and p['remote-receive-interval'] == $IVL and p['remote-detect-multiplier'] == 3"
check "vipgatectl bfd: detection $((3 * IVL)) ms, FRR's multiplier" \
	ours "s['detect_ms'] == $((3 * IVL)) and s['remote_multiplier'] == 3"
check "packets from a port in 49152-65535" ours '49152 <= s["source_port"] <= 65535'
check "vipgatectl bfd (table) renders" sh -c "\"$ctl\" -s \"$tmp/sock\" bfd | grep -q 'Up'"
check "vipgatectl bgp shows BFD Up" sh -c "\"$ctl\" -s \"$tmp/sock\" --json bgp | grep -q '\"bfd\": \"Up\"'"
mx() { ip netns exec "$nsn" curl -s http://127.0.0.1:15020/stats/prometheus; }
mxhas() { mx | grep -q "$1"; }
check "metric metallb_bfd_session_up 1" mxhas 'metallb_bfd_session_up{peer="10.99.0.2"} 1'
for m in control_packet_input control_packet_output session_down_events session_up_events \
    zebra_notifications echo_packet_input echo_packet_output; do
	check "metric metallb_bfd_$m" mxhas "^metallb_bfd_$m{peer=\"10.99.0.2\"} "
done

# hostile packets from the ToR's namespace: dropped and counted, the
# session stays Up. A well-formed packet for our session sent with TTL 64
# must fail the RFC 5881 5 check.
disc=$(json bfd | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"][0]["local_disc"])')
flaps() { json bfd | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"][0]["flaps"])'; }
f0=$(flaps)
ip netns exec "$nst" python3 - "$disc" <<'EOP'
import socket, struct, sys
disc = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 64)
def pkt(vers=1, state=1, flags=0, mult=3, ln=24, my=7, your=0):
    return struct.pack("!BBBBIIIII", vers << 5, state << 6 | flags, mult, ln, my, your,
                       1000000, 1000000, 0)
for p in (b"\x20", b"\x00" * 10, pkt(vers=2), pkt(ln=30), pkt(mult=0), pkt(flags=1),
          pkt(my=0), pkt(flags=4, ln=26) + b"\x01\x02", pkt(flags=0x30), pkt(state=3, your=0),
          pkt(state=3, your=disc ^ 1), pkt(state=1, your=disc), b"\xff" * 1400):
    s.sendto(p, ("10.99.0.1", 3784))
EOP
dropped() { mx | awk -v r="$1" 'index($0, "vipgate_bfd_dropped_packets_total{reason=\"" r "\"}") == 1 { print $NF }'; }
two_short() { [ "$(dropped "short packet")" -ge 2 ]; }
check "hostile packets: short ones counted" wait_for 2 two_short
for r in "bad version" "bad length" "zero detect multiplier" "multipoint bit set" \
    "zero my discriminator" "authentication not configured" "poll and final both set" \
    "unknown your discriminator" "TTL below minimum"; do
	check "hostile packets: \"$r\" counted" test "$(dropped "$r")" -ge 1
done
check "hostile packets: the session stays Up, no flap" ours "s['state'] == 'Up' and s['flaps'] == $f0"

# a profile change on reload: a Poll Sequence, no flap of BFD or BGP
c0=$(conns)
f0=$(flaps)
profile $((IVL * 2)) > "$tmp/objs/bfd.yaml"
kill -HUP "$pid"
check "reload: FRR sees the new $((IVL * 2)) ms timers" wait_for 5 frr_bfd \
	"p['remote-transmit-interval'] == $((IVL * 2)) and p['remote-receive-interval'] == $((IVL * 2))"
check "reload: our detection time follows FRR's Final" wait_for 3 ours "s['detect_ms'] == $((3 * IVL * 2)) and not s['poll']"
check "reload: BFD did not flap" ours "s['flaps'] == $f0 and s['state'] == 'Up'"
check "reload: BGP not reset" test "$(conns)" = "$c0"
profile "$IVL" > "$tmp/objs/bfd.yaml"
kill -HUP "$pid"
check "reload back to $IVL ms, no flap" wait_for 5 frr_bfd \
	"p['remote-transmit-interval'] == $IVL and p['status'] == 'up'"
check "... BGP still not reset" test "$(conns)" = "$c0"
sleep 1

# vipgated frozen: FRR's bfdd detects it, bgpd drops the session and the route
det=$((3 * IVL))
kill -STOP "$pid"
t0=$(date +%s%N)
WAIT_POLL=0.01 wait_for 5 no_route "$web/32"
el=$(ms "$t0")
echo "  vipgated frozen: route withdrawn by FRR after $el ms (detection $det ms, hold 90 s)"
check "frozen vipgated: FRR withdraws within detection + ${MARGIN} ms" test "$el" -le $((det + MARGIN))
# FRR's bfdd: the first "up -> down" after the freeze, by its log's clock
frr_down_ms() { python3 - "$fd/bfdd-debug.log" "$t0" <<'EOP'
import sys, datetime
t0 = int(sys.argv[2]) / 1e6
for l in open(sys.argv[1]):
    if "up -> down" not in l:
        continue
    t = datetime.datetime.strptime(l[:23], "%Y/%m/%d %H:%M:%S.%f").timestamp() * 1000
    if t >= t0:
        print(int(t - t0))
        break
EOP
}
fel=$(frr_down_ms)
echo "  vipgated frozen: FRR's BFD down after ${fel:-?} ms"
check "frozen vipgated: FRR's BFD down within detection + ${TIGHT} ms (${fel:-?} ms)" test "${fel:-99999}" -le $((det + TIGHT))
check "... FRR's BFD down" frr_bfd 'p["status"] == "down"'
kill -CONT "$pid"
check "thawed: BFD back" wait_for 10 frr_bfd 'p["status"] == "up"'
check "thawed: BGP back" wait_for 15 nbr_up 10.99.0.1
check "thawed: route back" wait_for 5 has_route "$web/32"

# FRR's bfdd frozen: vipgated's BFD expires, BGP goes down at once with
# Cease/BFD Down, and stays down (RFC 5882) while BFD is down
downs() { grep -c 'bgp 10.99.0.2:179: BFD down' "$tmp/log"; }
n0=$(downs)
kill -STOP "$bfdd_pid"
t0=$(date +%s%N)
bgp_bfd_down() { [ "$(downs)" -gt "$n0" ] && peer_field 10.99.0.2:179 last_error | grep -qi 'BFD down'; }
check "frozen bfdd: vipgated takes BGP down" wait_for 5 bgp_bfd_down
# timed from vipgated's own log line: polling vipgatectl costs more than the margin
tl=$(grep 'bgp 10.99.0.2:179: BFD down' "$tmp/log" | tail -1 | cut -d' ' -f1)
el=$(( ($(date -d "$(date +%F) $tl" +%s%N) - t0) / 1000000 ))
echo "  bfdd frozen: vipgated took BGP down after $el ms (detection $det ms)"
check "... within detection + ${TIGHT} ms ($el ms, detection $det ms)" test "$el" -le $((det + TIGHT))
frr_read_bfd_down() { vb "show bgp neighbors 10.99.0.1" | grep -qi 'BFD Down'; }
check "... with a Cease, subcode 10 (BFD Down) as FRR reads it" wait_for 3 frr_read_bfd_down
sleep 3
check "... BGP held down while BFD is down" sh -c "! ip netns exec $nst vtysh --vty_socket $fd -d bgpd -c 'show bgp neighbors 10.99.0.1 json' | grep -q '\"bgpState\":\"Established\"'"
check "... vipgatectl bfd names the reason" ours \
	's["state"] == "Down" and s["holds_bgp_down"] and "detection time expired" in s["last_down_reason"]'
kill -CONT "$bfdd_pid"
check "bfdd thawed: BFD back" wait_for 10 ours 's["state"] == "Up"'
check "bfdd thawed: BGP back" wait_for 15 nbr_up 10.99.0.1
check "bfdd thawed: route back" wait_for 5 has_route "$web/32"

# the profile removed from the peer: the session goes, telling FRR with
# AdminDown (RFC 5880 6.8.16) rather than leaving it to expire
sed -i 's/, bfdProfile: fast//' "$tmp/objs/metallb.yaml"
kill -HUP "$pid"
check "bfdProfile removed: no BFD session left" wait_for 5 sh -c "\"$ctl\" -s \"$tmp/sock\" bfd | grep -q 'no BFD sessions'"
check "... FRR reads AdminDown from us" wait_for 3 frr_bfd \
	'p["status"] == "down" and "admin" in p.get("remote-diagnostic", "")'
# FRR 8.4's bgpd resets BGP on a remote AdminDown (RFC 5882 3.2 asks it
# not to); the session must come back with no BFD on our side
check "... BGP up without BFD" wait_for 15 nbr_up 10.99.0.1
check "... route at FRR" wait_for 5 has_route "$web/32"

stop "$pid"; pid=
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
