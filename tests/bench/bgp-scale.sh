#!/usr/bin/env bash
# Benchmark (not a timed test): N VIPs (half /32 over an IPv4 session, half
# /128 over an IPv6 session) advertised to BIRD 2. Prints, for vipgated and
# for ExaBGP sending the same set to the same BIRD, the seconds from the
# sessions' start until BIRD holds every route, and the sender's peak RSS.
# GoBGP (routes injected from an MRT file before the session) too. Run from the build directory as root:
#   N=10000 ../tests/bench/bgp-scale.sh
# For vipgated it also prints the seconds from its start until BIRD holds
# every route, and until every VIP is a local address on lo (the kernel's
# work, done off the main loop). N=100000 runs in a few minutes: at that
# size vipgated is killed at the end rather than asked to remove 100,000
# addresses (the kernel takes over ten minutes for that; BENCH_DRAIN=1
# measures it). BENCH_ADDR_MODE=route runs vipgated with addresses.mode
# route (VIPs as local routes, which the kernel adds in about a second).
set -u
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
command -v bird >/dev/null || { echo "needs bird2"; exit 77; }
bld=$(pwd)
n=${N:-10000}
half=$((n / 2))
nsn=vgbench-n-$$ nst=vgbench-t-$$
tmp=$(mktemp -d /tmp/vg-bgpbench.XXXXXX)
pids=
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	ip -n "$nsn" link del vn 2>/dev/null
	ip netns del "$nsn" 2>/dev/null; ip netns del "$nst" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" TERM INT HUP
ip netns add "$nsn"; ip netns add "$nst"
ip -n "$nsn" link set lo up; ip -n "$nst" link set lo up
ip -n "$nsn" link add vn type veth peer name vt netns "$nst"
ip -n "$nsn" addr add 10.99.0.1/24 dev vn; ip -n "$nst" addr add 10.99.0.2/24 dev vt
ip -n "$nsn" addr add fd99::1/64 dev vn nodad; ip -n "$nst" addr add fd99::2/64 dev vt nodad
ip -n "$nsn" link set vn up; ip -n "$nst" link set vt up

cat > "$tmp/bird.conf" <<'EOC'
router id 10.99.0.2;
timeformat protocol iso long ms;
timeformat route iso long ms;
protocol device { scan time 1; }
template bgp tor { local as 64501; connect delay time 1; connect retry time 1; error wait time 1, 2; }
protocol bgp node4 from tor { neighbor 10.99.0.1 as 64500; ipv4 { import all; export none; }; }
protocol bgp node6 from tor { neighbor fd99::1 as 64500; ipv6 { import all; export none; }; }
EOC
bc() { birdc -s "$tmp/bird.ctl" "$@"; }
start_bird() {
	rm -f "$tmp/bird.ctl"
	ip netns exec "$nst" bird -f -c "$tmp/bird.conf" -s "$tmp/bird.ctl" &
	bird_pid=$!; pids="$pids $bird_pid"
	while [ ! -S "$tmp/bird.ctl" ]; do sleep 0.05; done
}
routes() { bc show route count | awk '/routes/ {s += $1} END {print s + 0}'; }
established() { bc show protocols | grep -q Established; }
# measure: wait for N routes at BIRD, then time each session by BIRD's clock
measure() {
	local deadline=$(( $(date +%s) + 600 ))
	until established; do sleep 0.01; [ "$(date +%s)" -lt $deadline ] || return 1; done
	until [ "$(routes)" -ge "$n" ]; do sleep 0.02; [ "$(date +%s)" -lt $deadline ] || return 1; done
	# BIRD's own timestamps: per session, from Established to its last
	# route; the slower session counts
	{ bc show protocols; echo ===; bc show route; } | python3 -c '
import re, sys, datetime
up, last, part = {}, {}, 0
for line in sys.stdin:
    if line.startswith("==="):
        part = 1
        continue
    m = re.search(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)", line)
    if not m:
        continue
    t = datetime.datetime.fromisoformat(m.group(1))
    if part == 0 and "Established" in line:
        up[line.split()[0]] = t
    elif part == 1:
        pm = re.search(r"\[(\S+) " + re.escape(m.group(1)), line)
        if pm:
            p = pm.group(1)
            last[p] = max(last.get(p, t), t)
print(max(int((last[p] - up[p]).total_seconds() * 1000) for p in last if p in up))'
}
rss() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$1/status"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
addr_mode=${BENCH_ADDR_MODE:-address}
if [ "$addr_mode" = route ]; then
	naddr() { echo $(( $(ip -n "$nsn" -4 route show table local proto 86 | wc -l) + \
		$(ip -n "$nsn" -6 route show table local proto 86 | wc -l) )); }
else
	naddr() { ip -n "$nsn" -o addr show dev lo | grep -c 'lo:vg\|noprefixroute'; }
fi

# ---- vipgated ----
python3 - "$tmp/objs" "$half" <<'EOP'
import os, sys
out, half = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
with open(os.path.join(out, "00.yaml"), "w") as f:
    f.write("""apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bench, namespace: metallb-system}
spec: {addresses: [10.128.0.0/14, 'fd00:bec::/108']}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bench, namespace: metallb-system}
spec: {communities: ['65000:100']}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor4, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.99.0.2, disableMP: true}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor6, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 'fd99::2', disableMP: true}
""")
# 1000 Services a namespace, as a cluster's are spread
for start in range(0, half, 1000):
    with open(os.path.join(out, "10-%06d.yaml" % start), "w") as f:
        for i in range(start, min(half, start + 1000)):
            f.write("""---
apiVersion: v1
kind: Service
metadata: {name: s%d, namespace: ns%d}
spec: {type: LoadBalancer, ipFamilyPolicy: RequireDualStack, ipFamilies: [IPv4, IPv6], selector: {app: a}, ports: [{port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s%d, namespace: ns%d, labels: {kubernetes.io/service-name: s%d}}
addressType: IPv4
endpoints: [{addresses: [10.9.0.1], nodeName: other}]
""" % (i, i // 1000, i, i // 1000, i))
EOP
cat > "$tmp/vipgate.yaml" <<EOC
node: {name: node-a, address: 10.99.0.1}
objects: {paths: [objs]}
control: {socket: $tmp/sock}
addresses: {interface: lo, mode: $addr_mode}
gateway: {enabled: false}
state_dir: state
log: {level: warn}
EOC
mkdir -p "$tmp/state"
start_bird
t0=$(now_ms)
ip netns exec "$nsn" "$bld/vipgated" -f -c "$tmp/vipgate.yaml" 2>"$tmp/vg.log" &
vg=$!; pids="$pids $vg"
vg_ms=$(measure) || vg_ms=timeout
vg_full_ms=$(( $(now_ms) - t0 ))
[ "$vg_ms" = timeout ] && vg_full_ms=timeout
vg_rss=$(rss $vg)
vg_addrs=$(naddr)
# the VIPs as local addresses, made by the applier's worker meanwhile
deadline=$(( $(date +%s) + 900 ))
until [ "$(naddr)" -ge "$n" ] || [ "$(date +%s)" -ge $deadline ]; do sleep 0.5; done
vg_addr_ms=$(( $(now_ms) - t0 ))
[ "$(naddr)" -ge "$n" ] || vg_addr_ms=timeout
vg_rss_end=$(rss $vg)
if [ "$n" -le 20000 ] || [ -n "${BENCH_DRAIN:-}" ]; then
	t1=$(now_ms)
	kill -TERM $vg; wait $vg 2>/dev/null
	vg_exit_ms=$(( $(now_ms) - t1 ))
else
	kill -9 $vg; wait $vg 2>/dev/null
	vg_exit_ms="n/a (killed)"
fi
kill -9 $bird_pid; wait $bird_pid 2>/dev/null

# ---- ExaBGP, the same prefixes from a static config ----
exa_ms=n/a exa_rss=n/a
if command -v exabgp >/dev/null; then
	python3 - "$tmp/exabgp.conf" "$half" <<'EOP'
import ipaddress, sys
p, half = sys.argv[1], int(sys.argv[2])
v4 = ipaddress.ip_address("10.128.0.0")
v6 = ipaddress.ip_address("fd00:bec::")
with open(p, "w") as f:
    for fam, peer, loc, base, plen, nh in (("ipv4", "10.99.0.2", "10.99.0.1", v4, 32, "10.99.0.1"),
                                           ("ipv6", "fd99::2", "fd99::1", v6, 128, "fd99::1")):
        f.write("neighbor %s {\n router-id 10.99.0.1;\n local-address %s;\n local-as 64500;\n peer-as 64501;\n"
                " family { %s unicast; }\n static {\n" % (peer, loc, fam))
        for i in range(half):
            f.write("  route %s/%d next-hop %s community [65000:100];\n" % (base + i, plen, nh))
        f.write(" }\n}\n")
EOP
	start_bird
	env exabgp_daemon_user=root exabgp_log_destination=stderr exabgp_log_level=WARNING \
		ip netns exec "$nsn" exabgp "$tmp/exabgp.conf" 2>"$tmp/exa.log" &
	exa=$!; pids="$pids $exa"
	exa_ms=$(measure) || exa_ms=timeout
	exa_rss=$(for p in $exa $(pgrep -P $exa) $(pgrep -f "exabgp $tmp"); do rss $p 2>/dev/null; done | sort -n | tail -1)
	kill -9 $exa $(pgrep -f "exabgp $tmp") 2>/dev/null; wait $exa 2>/dev/null
	kill -9 $bird_pid; wait $bird_pid 2>/dev/null
fi

# ---- GoBGP: the same prefixes injected from an MRT TABLE_DUMP_V2 file ----
gob_ms=n/a gob_rss=n/a
if command -v gobgpd >/dev/null; then
	python3 - "$tmp/rib.mrt" "$half" <<'EOP'
import ipaddress, struct, sys
p, half = sys.argv[1], int(sys.argv[2])
def mrt(sub, body):
    return struct.pack(">IHHI", 0, 13, sub, len(body)) + body
def attrs(v6):
    a = bytes([0x40, 1, 1, 0]) + bytes([0x40, 2, 6, 2, 1]) + struct.pack(">I", 64500)
    a += bytes([0xc0, 8, 4]) + struct.pack(">HH", 65000, 100)
    if v6:
        nh = ipaddress.ip_address("fd99::1").packed
        # GoBGP reads the full MP_REACH form here (RFC 6396 §4.3.4 has the short one)
        a += bytes([0x80, 14, 21, 0, 2, 1, 16]) + nh + b"\x00"
    else:
        a += bytes([0x40, 3, 4]) + ipaddress.ip_address("10.99.0.1").packed
    return a
out = [mrt(1, struct.pack(">IHH", 0x0a630001, 0, 1) + bytes([2]) + struct.pack(">I", 0x0a630001)
           + ipaddress.ip_address("10.99.0.1").packed + struct.pack(">I", 64500))]
seq = 0
for fam, base, plen, sub in ((4, ipaddress.ip_address("10.128.0.0"), 32, 2),
                             (6, ipaddress.ip_address("fd00:bec::"), 128, 4)):
    a = attrs(fam == 6)
    for i in range(half):
        pfx = (base + i).packed[: plen // 8]
        body = struct.pack(">IB", seq, plen) + pfx + struct.pack(">HHIH", 1, 0, 0, len(a)) + a
        out.append(mrt(sub, body))
        seq += 1
open(p, "wb").write(b"".join(out))
EOP
	cat > "$tmp/gobgpd.toml" <<'EOC'
[global.config]
  as = 64500
  router-id = "10.99.0.1"
  local-address-list = ["10.99.0.1", "fd99::1"]
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.99.0.2"
    peer-as = 64501
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "fd99::2"
    peer-as = 64501
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
EOC
	ip netns exec "$nsn" gobgpd -f "$tmp/gobgpd.toml" -t toml --api-hosts 127.0.0.1:50161 \
		>"$tmp/gobgpd.log" 2>&1 &
	gob=$!; pids="$pids $gob"
	gb() { ip netns exec "$nsn" gobgp -p 50161 "$@"; }
	for i in $(seq 100); do gb global >/dev/null 2>&1 && break; sleep 0.1; done
	count() { echo $(( $(gb global rib -a ipv4 summary | awk '/Destination/ {print $2}' | tr -d ,) + \
		$(gb global rib -a ipv6 summary | awk '/Destination/ {print $2}' | tr -d ,) )); }
	# the CLI can exit before its stream is flushed: inject again (idempotent) until all are in
	for i in 1 2 3 4 5 6 7 8; do
		gb mrt inject global "$tmp/rib.mrt" >/dev/null 2>&1
		got=$(count)
		[ "$got" -ge "$n" ] && break
	done
	[ "$got" -eq "$n" ] || echo "GoBGP: injected $got of $n routes (the CLI can drop the tail)"
	start_bird
	gob_ms=$(n=$got measure) || gob_ms=timeout
	gob_rss=$(rss $gob)
	kill -9 $gob; wait $gob 2>/dev/null
	kill -9 $bird_pid; wait $bird_pid 2>/dev/null
fi

echo "bgp-scale: $n prefixes ($half /32 + $half /128) to BIRD, ms from a session's Established to its last route at BIRD (the slower of the two sessions)"
printf "%-10s %10s %12s\n" sender "ms" "peak RSS MB"
printf "%-10s %10s %12s\n" vipgated "$vg_ms" "$vg_rss"
printf "%-10s %10s %12s\n" exabgp "$exa_ms" "$exa_rss"
printf "%-10s %10s %12s\n" gobgp "$gob_ms" "$gob_rss"
echo "vipgated: ms from its start to BIRD's full table: $vg_full_ms (VIPs local on lo by then: $vg_addrs of $n)"
echo "vipgated: ms from its start until every VIP was local (addresses.mode $addr_mode): $vg_addr_ms; peak RSS then $vg_rss_end MB"
echo "vipgated: ms to exit on SIGTERM (withdraw, remove the addresses): $vg_exit_ms"
if [ "$vg_ms" != timeout ] && [ "$exa_ms" != timeout ] && [ "$exa_ms" != n/a ]; then
	echo "ratio exabgp/vipgated time: $(awk -v a="$exa_ms" -v b="$vg_ms" 'BEGIN {printf "%.1f", a / (b ? b : 1)}')"
fi
if [ "$vg_ms" != timeout ] && [ "$gob_ms" != timeout ] && [ "$gob_ms" != n/a ]; then
	echo "ratio gobgp/vipgated time: $(awk -v a="$gob_ms" -v b="$vg_ms" 'BEGIN {printf "%.1f", a / (b ? b : 1)}')"
	echo "ratio vipgated/gobgpd peak RSS: $(awk -v a="$vg_rss" -v b="$gob_rss" 'BEGIN {printf "%.2f", a / (b ? b : 1)}')"
fi
