#!/usr/bin/env bash
# BFD echo (RFC 5880 6.4, RFC 5881 4; MetalLB's echoMode) between vipgated
# and FRR 8's bfdd with `echo-mode`: control packets at a slow 300 ms x 3,
# echo every 50 ms. Each side's echo packets are looped back by the other's
# forwarding plane (IPv4 forwarding on in both namespaces), so both count
# echo packets coming back; vipgatectl bfd and the metallb_bfd_echo_*
# metrics show them. The ToR stops forwarding: our echo fails first, well
# within the control detection time, with diagnostic 2 (echo function
# failed) and BGP taken down; the session comes back on control packets,
# and echo with forwarding. echoMode turned off on reload: no flap.
. "$(dirname "$0")/frr-bfd-lib.sh"

IVL=300
ECHO=50

setup_net
sed -i 's/^gateway: {enabled: false}/gateway: {enabled: true, workers: 1}/' "$tmp/vipgate.yaml"
ip netns exec "$nsn" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$nst" sysctl -qw net.ipv4.ip_forward=1
frr_setup
cat > "$fd/bfdd.conf" <<EOC
hostname tor
bfd
 profile fast
  detect-multiplier 3
  receive-interval $IVL
  transmit-interval $IVL
  echo-mode
  echo transmit-interval $ECHO
  echo receive-interval $ECHO
 !
!
EOC
profile() {
	cat <<EOC
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: $IVL, transmitInterval: $IVL, detectMultiplier: 3, echoMode: $1,
       echoInterval: $ECHO}
EOC
}
frr_bfd_objs
profile true > "$tmp/objs/bfd.yaml"
# FRR's own counters of the session
frr_ctr() { vt "show bfd peer 10.99.0.1 counters json" | python3 -c '
import json, sys
print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1"; }
field() { json bfd | python3 -c '
import json, sys
print(json.load(sys.stdin)["sessions"][0][sys.argv[1]])' "$1"; }
mx() { ip netns exec "$nsn" curl -s http://127.0.0.1:15020/stats/prometheus; }
metric() { mx | awk -v m="metallb_bfd_$1{peer=\"10.99.0.2\"}" '$1 == m { print $2 }'; }

check "FRR (zebra + bfdd + bgpd) starts" start_frr
check "vipgated starts" start_vipgated
check "BFD up" wait_for 10 ours 's["state"] == "Up"'
check "BGP established" wait_for 10 nbr_up 10.99.0.1
web=$(json services | python3 -c 'import json,sys; print(json.load(sys.stdin)["services"][0]["vips"][0])')
check "route $web/32 at FRR" wait_for 5 has_route "$web/32"
check "we advertise Required Min Echo RX $ECHO ms (FRR reads it)" wait_for 3 frr_bfd \
	"p.get('remote-echo-receive-interval') == $ECHO"
check "echo runs every $ECHO ms, detection 3 x $ECHO ms" wait_for 5 ours \
	"s['echo_interval_ms'] == $ECHO and s['remote_echo_rx_ms'] == $ECHO and s['echo_detect_ms'] == $((3 * ECHO))"
e0=$(field echo_packets_in)
sleep 1
e1=$(field echo_packets_in)
o1=$(field echo_packets_out)
echo "  echo packets back in 1 s: $((e1 - e0)) (sent in all: $o1)"
check "our echo packets come back, about 20 a second ($((e1 - e0)))" test $((e1 - e0)) -ge 10
check "FRR's echo packets come back through our node ($(frr_ctr echo-packet-input))" \
	wait_for 3 sh -c "[ \$(ip netns exec $nst vtysh --vty_socket $fd -c 'show bfd peer 10.99.0.1 counters json' | python3 -c 'import json,sys; print(json.load(sys.stdin).get(\"echo-packet-input\", 0))') -gt 0 ]"
check "metric metallb_bfd_echo_packet_input counts" test "$(metric echo_packet_input)" -gt 0
check "metric metallb_bfd_echo_packet_output counts" test "$(metric echo_packet_output)" -gt 0
check "vipgatectl bfd shows the echo interval" sh -c "\"$ctl\" -s \"$tmp/sock\" bfd | grep -q 'ECHO MS'"
check "no echo packet dropped" ours 's["dropped"] == 0'

# the ToR's forwarding plane fails, its control plane does not: only echo
# can tell
downs() { grep -c 'bgp 10.99.0.2:179: BFD down' "$tmp/log"; }
n0=$(downs)
t0=$(date +%s%N)
ip netns exec "$nst" sysctl -qw net.ipv4.ip_forward=0
bgp_bfd_down() { [ "$(downs)" -gt "$n0" ]; }
check "forwarding off at the ToR: vipgated takes BFD and BGP down" wait_for 5 bgp_bfd_down
tl=$(grep 'bgp 10.99.0.2:179: BFD down' "$tmp/log" | tail -1 | cut -d' ' -f1)
el=$(( ($(date -d "$(date +%F) $tl" +%s%N) - t0) / 1000000 ))
echo "  forwarding off: BFD down after $el ms (echo detection $((3 * ECHO)) ms, control $((3 * IVL)) ms)"
check "... before control detection could have ($el ms < $((3 * IVL)) ms)" test "$el" -lt $((3 * IVL))
check "... the reason: echo function failed" wait_for 3 ours \
	'"echo function failed" in s["last_down_reason"]'
# control packets still pass: the session comes back, echo sent but not back
check "the session comes back on control packets" wait_for 10 ours 's["state"] == "Up"'
ip netns exec "$nst" sysctl -qw net.ipv4.ip_forward=1
check "forwarding back: echo packets come back again" wait_for 5 sh -c \
	"[ \$(\"$ctl\" -s \"$tmp/sock\" --json bfd | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"sessions\"][0][\"echo_packets_in\"])') -gt $e1 ]"
check "BGP back" wait_for 15 nbr_up 10.99.0.1
check "route back" wait_for 5 has_route "$web/32"

# hostile: an echo-looking datagram with our discriminator but not our
# cookie, looped through the ToR like ours: counted, the session stays Up
f0=$(field flaps)
disc=$(field local_disc)
ip netns exec "$nsn" python3 - "$disc" <<'EOP'
import socket, struct, sys
disc = int(sys.argv[1])
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
src = socket.inet_aton("10.99.0.1")
pl = struct.pack("!BBHIII", 1, 16, 0, disc, 0x12345678, 1)
udp = struct.pack("!HHHH", 49999, 3785, 8 + len(pl), 0) + pl
ph = src + src + struct.pack("!BBH", 0, 17, len(udp))
udp = udp[:6] + struct.pack("!H", csum(ph + udp) or 0xffff) + udp[8:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 255, 17, 0, src, src)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
mac = open("/proc/net/arp").read().split("\n")[1].split()[3]
s.sendto(ip + udp, ("vn", 0x0800, 0, 0, bytes.fromhex(mac.replace(":", ""))))
EOP
check "a forged echo (wrong cookie) is counted as not ours" wait_for 3 sh -c "[ \"\$(ip netns exec $nsn curl -s http://127.0.0.1:15020/stats/prometheus | grep -c 'reason=\"not our echo\"} [1-9]')\" -ge 1 ]"
check "... the session stays Up, no flap" ours "s['state'] == 'Up' and s['flaps'] == $f0"

# echoMode off on reload: no flap, nothing advertised, echo stops
c0=$(conns)
profile false > "$tmp/objs/bfd.yaml"
kill -HUP "$pid"
check "echoMode off: echo stops" wait_for 5 ours "s['echo_interval_ms'] == 0 and not s['echo_mode']"
check "... FRR reads Required Min Echo RX 0" wait_for 3 frr_bfd \
	"p.get('remote-echo-receive-interval', 0) == 0"
check "... BFD did not flap" ours "s['flaps'] == $f0 and s['state'] == 'Up'"
check "... BGP not reset" test "$(conns)" = "$c0"

stop "$pid"; pid=
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
