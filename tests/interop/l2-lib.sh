# Shared by tests/interop/l2-netns.sh and tests/bench/l2-failover: three
# vipgated nodes and a client on one bridge, every piece in namespaces this
# script makes (the bridge too: nothing touches the host's network).
#
#   vgl2-$$-a/b/c   eth0 10.77.0.1-3/24, fd77::1-3/64, MAC 02:00:00:00:00:0a-0c
#   vgl2-$$-cl      eth0 10.77.0.100/24, fd77::100/64, MAC 02:00:00:00:00:99
#   vgl2-$$-br      br0, and the bridge ends pa pb pc pcl
#
# The caller sets bld (the build directory) and tmp; VIPs 10.77.0.200 and
# fd77::200 belong to Services web4 and web6 with endpoints on every node.
# With L2_HB_NET=1 the heartbeats use a second bridge (br1, eth1,
# 10.78.0.1-3) and the L2Advertisement names eth0 as its only interface.

L2_NODES="a b c"
L2_PFX=vgl2-$$
L2_VIP4=10.77.0.200
L2_VIP6=fd77::200
declare -A L2_PID L2_MAC
L2_MAC[a]=02:00:00:00:00:0a
L2_MAC[b]=02:00:00:00:00:0b
L2_MAC[c]=02:00:00:00:00:0c
L2_IDX_a=1 L2_IDX_b=2 L2_IDX_c=3
WAIT_POLL=0.02
# (also sourced by sh -c snippets for l2_first_garp_ms: bash only here)
if [ -n "${BASH_VERSION:-}" ]; then eval '. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"'; fi

l2_need() {
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
	for t in ip arping ndisc6 tcpdump python3; do
		command -v $t >/dev/null 2>&1 || { echo "SKIP: $t missing"; exit 77; }
	done
	ip netns add $L2_PFX-probe 2>/dev/null || { echo "SKIP: ip netns unavailable"; exit 77; }
	ip netns del $L2_PFX-probe
}


# l2_port_test: what the tests that hold a node's gateway port share
# (l2-health, l2-deploy-health): curl, the counters, fail() showing each
# node's log, and on exit the holder ($hold_pid) killed and the lab removed
l2_port_test() {
	l2_need
	command -v curl >/dev/null 2>&1 || { echo "SKIP: curl missing"; exit 77; }
	fails=0 passes=0
	hold_pid=
	trap '[ -n "$hold_pid" ] && kill -9 $hold_pid 2>/dev/null; l2_cleanup; rm -rf "$tmp"' EXIT
	fail() {
		fails=$((fails + 1)); echo "FAIL: $*"
		for n in $L2_NODES; do echo "--- $n"; tail -15 "$tmp/$n.log" 2>/dev/null; done
	}
}

l2_cleanup() {
	local n
	for n in $L2_NODES; do
		[ -n "${L2_PID[$n]:-}" ] && kill -9 "${L2_PID[$n]}" 2>/dev/null
	done
	[ -n "${L2_DUMP_PID:-}" ] && kill "$L2_DUMP_PID" 2>/dev/null
	wait 2>/dev/null
	# links before namespaces: namespace deletion is asynchronous
	for n in $L2_NODES cl; do
		ip -n $L2_PFX-br link del p$n 2>/dev/null
		ip -n $L2_PFX-br link del q$n 2>/dev/null
	done
	ip -n $L2_PFX-br link del br0 2>/dev/null
	ip -n $L2_PFX-br link del br1 2>/dev/null
	for n in $L2_NODES cl br; do
		ip netns del $L2_PFX-$n 2>/dev/null
	done
}

l2_setup() {
	local n i
	ip netns add $L2_PFX-br
	ip -n $L2_PFX-br link add br0 type bridge
	ip -n $L2_PFX-br link set br0 up
	for n in $L2_NODES cl; do
		ip netns add $L2_PFX-$n
		ip -n $L2_PFX-$n link set lo up
		ip -n $L2_PFX-br link add p$n type veth peer name eth0 netns $L2_PFX-$n
		ip -n $L2_PFX-br link set p$n master br0 up
		if [ $n = cl ]; then
			i=100; ip -n $L2_PFX-$n link set eth0 address 02:00:00:00:00:99
		else
			eval i=\$L2_IDX_$n; ip -n $L2_PFX-$n link set eth0 address ${L2_MAC[$n]}
		fi
		# no DAD delay: the link-local address is there at once
		ip netns exec $L2_PFX-$n sysctl -qw net.ipv6.conf.eth0.accept_dad=0
		ip -n $L2_PFX-$n addr add 10.77.0.$i/24 dev eth0
		ip -n $L2_PFX-$n addr add fd77::$i/64 dev eth0 nodad
		ip -n $L2_PFX-$n link set eth0 up
		if [ "${L2_HB_NET:-0}" = 1 ] && [ $n != cl ]; then
			ip -n $L2_PFX-br link show br1 >/dev/null 2>&1 || {
				ip -n $L2_PFX-br link add br1 type bridge
				ip -n $L2_PFX-br link set br1 up
			}
			ip -n $L2_PFX-br link add q$n type veth peer name eth1 netns $L2_PFX-$n
			ip -n $L2_PFX-br link set q$n master br1 up
			ip -n $L2_PFX-$n addr add 10.78.0.$i/24 dev eth1
			ip -n $L2_PFX-$n link set eth1 up
		fi
	done
	local hbnet=10.77.0 adv=
	if [ "${L2_HB_NET:-0}" = 1 ]; then
		hbnet=10.78.0
		adv="spec: {interfaces: [eth0]}"
	fi
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$tmp/l2.key"
	mkdir -p "$tmp/objs"
	cat > "$tmp/objs/l2.yaml" <<EOC
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec:
  addresses: [10.77.0.200-10.77.0.210, 'fd77::200-fd77::210']
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
$adv
EOC
	for s in web4:$L2_VIP4 web6:$L2_VIP6; do
		cat >> "$tmp/objs/l2.yaml" <<EOC
---
apiVersion: v1
kind: Service
metadata:
  name: ${s%%:*}
  namespace: default
  annotations: {metallb.io/loadBalancerIPs: '${s#*:}'}
spec:
  type: LoadBalancer
  selector: {app: ${s%%:*}}
  ports: [{port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${s%%:*}-x, namespace: default, labels: {kubernetes.io/service-name: ${s%%:*}}}
addressType: IPv4
endpoints:
- {addresses: [10.9.0.1], nodeName: node-a}
- {addresses: [10.9.0.2], nodeName: node-b}
- {addresses: [10.9.0.3], nodeName: node-c}
EOC
	done
	for n in $L2_NODES; do
		mkdir -p "$tmp/state-$n"
		cat > "$tmp/$n.yaml" <<EOC
node: {name: node-$n}
objects: {paths: [objs]}
control: {socket: $tmp/$n.sock}
addresses: {interface: lo}
gateway: {enabled: false}
state_dir: state-$n
l2:
  refresh: ${L2_REFRESH:-60s}
  heartbeat:
    port: 7946
    peers: [$hbnet.1, $hbnet.2, $hbnet.3]
    interval: ${L2_INTERVAL:-50ms}
    key_file: l2.key
log: {level: debug}
EOC
	done
}

# l2_gw_setup VIP (after l2_setup): the gateway on every node, serving a
# directResponse "ok" on port 80 of its Service's VIP
l2_gw_setup() {
	local n
	for n in $L2_NODES; do
		sed -i 's/^gateway: {enabled: false}/gateway: {workers: 1, drain_timeout: 5s}/' "$tmp/$n.yaml"
	done
	cat >> "$tmp/objs/l2.yaml" <<EOC
---
apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
  annotations: {metallb.io/loadBalancerIPs: '$1'}
spec:
  type: LoadBalancer
  selector: {istio: ingressgateway}
  ports: [{name: http, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: hello, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http: [{directResponse: {status: 200, body: {string: "ok\n"}}}]
EOC
}

# l2_gw_lab VIP: l2_setup and l2_gw_setup, the nodes started, checked that
# the three speakers agree on the VIP's owner ($owner, $o its letter) and
# that the client reaches the gateway on it
l2_gw_lab() {
	local n
	l2_setup
	l2_gw_setup "$1"
	l2_dump_start
	for n in $L2_NODES; do l2_start $n; done
	owner=
	check "three speakers agree on the gateway VIP's owner" wait_for 10 l2_gw_converged "$1"
	o=${owner#node-}
	echo "owner: $owner (${L2_MAC[$o]})"
	check "the client reaches the gateway on $1" wait_for 5 \
		ip netns exec $L2_PFX-cl curl -sf -m 1 -o /dev/null http://$1/
}
l2_gw_converged() { owner=$(l2_converged "$1" 3) && [ -n "$owner" ]; }

# l2_gw_loop VIP SECONDS: the client's requests in a loop, in the
# background ($loop); "$tmp/loop.out" then holds "requests failures"
l2_gw_loop() {
	ip netns exec $L2_PFX-cl sh -c "end=\$((\$(date +%s) + $2)); n=0; f=0
		while [ \$(date +%s) -lt \$end ]; do
			n=\$((n + 1)); curl -sf -m 2 -o /dev/null http://$1/ || f=\$((f + 1))
			sleep 0.02
		done; echo \"\$n \$f\"" > "$tmp/loop.out" 2>&1 &
	loop=$!
}

l2_start() { # node
	ip netns exec $L2_PFX-$1 "$bld/vipgated" -f -c "$tmp/$1.yaml" >>"$tmp/$1.log" 2>&1 &
	L2_PID[$1]=$!
}

l2_ctl() { # node args...
	local n=$1; shift
	"$bld/vipgatectl" -s "$tmp/$n.sock" --json "$@"
}

# owner of a VIP as node X sees it ("-" when none or unknown)
l2_owner() { # node vip
	l2_ctl $1 l2 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for v in d.get("vips", []):
    if v["vip"] == sys.argv[1]:
        print(v["owner"] or "-"); break
else:
    print("-")' "$2"
}

# every running node agrees on the owner and sees the given number of speakers
l2_converged() { # vip nspeakers
	local n o first=
	for n in $L2_NODES; do
		[ -n "${L2_PID[$n]:-}" ] || continue
		o=$(l2_ctl $n l2 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
sp = [s for s in d["speakers"].split(",") if s]
if d["heartbeat"] != "on" or len(sp) != int(sys.argv[2]): sys.exit(1)
for v in d["vips"]:
    if v["vip"] == sys.argv[1]: print(v["owner"]); break' "$1" "$2") || return 1
		[ -n "$o" ] || return 1
		[ -z "$first" ] && first=$o
		[ "$o" = "$first" ] || return 1
	done
	echo "$first"
}

# capture ARP and ICMPv6 on the client: epoch timestamps and MACs
l2_dump_start() {
	ip netns exec $L2_PFX-cl tcpdump -l -U -n -tt -e -i eth0 'arp or icmp6' \
		>"$tmp/dump" 2>"$tmp/dump.err" &
	L2_DUMP_PID=$!
	wait_for 5 grep -q "listening on" "$tmp/dump.err"
}

# first gratuitous ARP for VIP from MAC after epoch ns T: prints ms since T, or fails
l2_first_garp_ms() { # mac vip t_ns
	python3 - "$tmp/dump" "$1" "$2" "$3" <<'EOP'
import re, sys
path, mac, vip, t0 = sys.argv[1], sys.argv[2].lower(), sys.argv[3], int(sys.argv[4])
for line in open(path, errors="replace"):
    m = re.match(r"(\d+)\.(\d+) (\S+) > (\S+), ethertype ARP.*?: (.*)", line)
    if not m or m.group(3).lower() != mac:
        continue
    t = int(m.group(1)) * 10**9 + int(m.group(2).ljust(9, "0"))
    body = m.group(5)
    garp = (f"who-has {vip} tell {vip}" in body or f"Announcement {vip}" in body or
            (f"Reply {vip} is-at" in body and "ff:ff:ff:ff:ff:ff" in m.group(4)))
    if garp and t >= t0:
        print("%.1f" % ((t - t0) / 1e6)); sys.exit(0)
sys.exit(1)
EOP
}

# distinct MACs that claimed VIP (GARP or ARP reply) in [t0, t1] ns
l2_claimers() { # vip t0 t1
	python3 - "$tmp/dump" "$1" "$2" "$3" <<'EOP'
import re, sys
path, vip, t0, t1 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
macs = set()
for line in open(path, errors="replace"):
    m = re.match(r"(\d+)\.(\d+) (\S+) > (\S+), ethertype ARP.*?: (.*)", line)
    if not m:
        continue
    t = int(m.group(1)) * 10**9 + int(m.group(2).ljust(9, "0"))
    body = m.group(5)
    if t0 <= t <= t1 and (f"Reply {vip} is-at" in body or f"tell {vip}," in body or
                          f"Announcement {vip}" in body):
        macs.add(m.group(3).lower())
print(" ".join(sorted(macs)))
EOP
}
