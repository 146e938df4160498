#!/usr/bin/env bash
# 100 reloads under load: vipgated serving a gateway VIP announced to BIRD 2,
# a keep-alive wrk load and a WebSocket from the ToR's side, and 100
# SIGHUPs, each with a route change (a response header the VirtualService
# sets, and its prefix route flipped). Nothing fails: no request, no
# WebSocket echo, no BGP session (BIRD's and vipgated's flap counts, BIRD's
# import withdraws), and each change is served once its reload is done.
. "$(dirname "$0")/bgp-lib.sh"
for t in bird birdc wrk nginx curl /usr/bin/python3; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t missing"; exit 77; }
done
NHUP=${NHUP:-100}
VIP=192.0.2.5
BE=10.244.1.10

setup_net
bird_hold3_setup
# hold 9 s, not 3: the reloads under ASan on a busy 2-core machine may keep
# the main loop from a keepalive for more than a second
sed -i 's/hold time 3;/hold time 9;/' "$tmp/bird.conf"
sed -i 's/holdTime: 3s/holdTime: 9s/' "$tmp/objs/metallb.yaml"
ip -n "$nsn" addr add $BE/32 dev lo
ip -n "$nst" route add $VIP/32 via 10.99.0.1
cat > "$tmp/vipgate.yaml" <<EOC
node: {name: node-a, address: 10.99.0.1}
objects: {paths: [objs]}
control: {socket: $tmp/sock}
addresses: {interface: lo}
gateway: {workers: 1, bind: ["0.0.0.0"], drain_timeout: 2s}
drain: {withdraw_after: 0s}
state_dir: state
log: {level: ${HUP_LOG:-info}}
EOC

# backends in the node's namespace: nginx for HTTP, an upgrade echo for the WebSocket
mkdir -p "$tmp/ngx"
cat > "$tmp/ngx/nginx.conf" <<EOC
daemon off; user root; worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/ngx/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $tmp/ngx; keepalive_requests 1000000;
  server { listen $BE:9080; location / { default_type text/plain; return 200 "app \$request_uri\n"; } } }
EOC
ip netns exec "$nsn" nginx -c "$tmp/ngx/nginx.conf" -p "$tmp/ngx" >"$tmp/ngx/out" 2>&1 &
peer_pids="$peer_pids $!"
cat > "$tmp/ws.py" <<'PY'
import socket, sys, threading
def serve(c):
    h = b""
    while b"\r\n\r\n" not in h:
        d = c.recv(4096)
        if not d:
            return
        h += d
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9090))
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
ip netns exec "$nsn" /usr/bin/python3 "$tmp/ws.py" $BE &
peer_pids="$peer_pids $!"

cat >> "$tmp/objs/metallb.yaml" <<EOC
---
apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
  annotations: {metallb.universe.tf/loadBalancerIPs: $VIP}
spec:
  type: LoadBalancer
  selector: {istio: ingressgateway}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec: {ports: [{port: 9080, name: http}, {port: 9090, name: ws}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: app, namespace: default}
subsets: [{addresses: [{ip: $BE}], ports: [{port: 9080, name: http}, {port: 9090, name: ws}]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
EOC
# vs GEN: the VirtualService of reload GEN; /ws to the echo, / to nginx with
# x-gen: GEN, and /flip to nginx as /a or /b by GEN's parity. Written aside
# and renamed, as kubectl and config managers do: the inotify watch would
# otherwise load the file truncated, with no route, now and then
vs() {
	cat > "$tmp/vs.yaml.new" <<EOC
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: default}
spec:
  hosts: ["*"]
  gateways: [istio-system/gw]
  http:
  - match: [{uri: {prefix: /ws}}]
    route: [{destination: {host: app, port: {number: 9090}}}]
  - match: [{uri: {prefix: /flip}}]
    rewrite: {uri: /$([ $(($1 % 2)) -eq 0 ] && echo a || echo b)}
    route: [{destination: {host: app, port: {number: 9080}}}]
  - route: [{destination: {host: app, port: {number: 9080}}}]
    headers: {response: {set: {x-gen: "$1"}}}
EOC
	mv "$tmp/vs.yaml.new" "$tmp/objs/vs.yaml"
}
vs 0

ip netns exec "$nst" bird -f -c "$tmp/bird.conf" -s "$birdsock" >>"$tmp/bird.log" 2>&1 &
peer_pids="$peer_pids $!"
start_vipgated
check "BIRD has the session" wait_for 15 proto_up
check "BIRD has the VIP" wait_for 10 sh -c "birdc -s $birdsock show route table t4 | grep -q '^$VIP/32'"
check "the VIP answers from the ToR" wait_for 5 ip netns exec "$nst" curl -sf -m 1 -o /dev/null http://$VIP/
since0=$(bc show protocols node4 | awk '/node4/ {print $4, $5}')
flaps0=$(peer_field 10.99.0.2:179 flaps)
wd() { bc show protocols all node4 | awk '/Import withdraws:/ {print $3}'; }
wd0=$(wd)

# the WebSocket: an echo every 50 ms until told to stop; prints "echoes failures"
cat > "$tmp/wsc.py" <<'PY'
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=3)
s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
h = b""
while b"\r\n\r\n" not in h:
    h += s.recv(4096)
ok = bad = 0
if not h.startswith(b"HTTP/1.1 101"):
    bad += 1
deadline = time.time() + 120
while not os.path.exists(sys.argv[2]) and time.time() < deadline:
    m = b"ping %d" % ok
    try:
        s.sendall(m)
        got = b""
        while len(got) < len(m):
            d = s.recv(4096)
            if not d:
                raise OSError("closed")
            got += d
        if got == m:
            ok += 1
        else:
            bad += 1
    except OSError:
        bad += 1
        break
    time.sleep(0.05)
print(ok, bad)
PY
# p99 before the reloads, to set beside the one under them
ip netns exec "$nst" wrk -t1 -c8 -d3s --timeout 3s --latency http://$VIP/ > "$tmp/wrk0.out" 2>&1
p99() { awk '$1 == "99%" { print $2 }' "$1"; }
ip netns exec "$nst" /usr/bin/python3 "$tmp/wsc.py" $VIP "$tmp/ws.stop" > "$tmp/ws.out" 2>&1 &
ws_pid=$!
ip netns exec "$nst" wrk -t1 -c8 -d60s --timeout 3s --latency ${WRK_SCRIPT:+-s $WRK_SCRIPT} http://$VIP/ > "$tmp/wrk.out" 2>&1 &
wrk_pid=$!
sleep 1

reloads() { grep -c 'reload (sighup): ok' "$tmp/log"; }
r0=$(reloads)
bad_gen=0 bad_flip=0 slow=0
t0=$(date +%s%N)
for i in $(seq 1 "$NHUP"); do
	vs $i
	kill -HUP "$pid"
	wait_for 5 sh -c "[ \$(grep -c 'reload (sighup): ok' '$tmp/log') -ge $((r0 + i)) ]" || { slow=$((slow + 1)); break; }
	if [ $((i % 10)) -eq 0 ]; then
		g=$(ip netns exec "$nst" curl -s -m 2 -D - -o /dev/null http://$VIP/ | tr -d '\r' | awk -F': ' 'tolower($1) == "x-gen" {print $2}')
		[ "$g" = "$i" ] || { bad_gen=$((bad_gen + 1)); echo "  reload $i: x-gen '$g'"; }
		f=$(ip netns exec "$nst" curl -s -m 2 http://$VIP/flip)
		[ "$f" = "app /$([ $((i % 2)) -eq 0 ] && echo a || echo b)" ] || { bad_flip=$((bad_flip + 1)); echo "  reload $i: /flip '$f'"; }
	fi
done
t_hups=$((($(date +%s%N) - t0) / 1000000))
touch "$tmp/ws.stop"
kill -INT $wrk_pid 2>/dev/null
wait $wrk_pid
wait $ws_pid
sed 's/^/  wrk: /' "$tmp/wrk.out"

check "$NHUP SIGHUPs, each reload done within 5 s ($((r0 + NHUP)) reloads wanted, $(reloads) done, in $t_hups ms)" \
	test $slow -eq 0 -a "$(reloads)" -ge $((r0 + NHUP))
check "each change served once its reload was done (x-gen wrong $bad_gen, /flip wrong $bad_flip)" \
	test $bad_gen -eq 0 -a $bad_flip -eq 0
reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
echo "figures: $NHUP reloads in $t_hups ms; ${reqs:-0} requests, $(awk '/Non-2xx/ {print $NF}' "$tmp/wrk.out" | grep . || echo 0) failed; p99 $(p99 "$tmp/wrk0.out") before, $(p99 "$tmp/wrk.out") during"
check "wrk ran (${reqs:-0} requests)" test "${reqs:-0}" -gt 1000
check "no socket error under the reloads" sh -c "! grep -q 'Socket errors' $tmp/wrk.out"
check "no failed request under the reloads" sh -c "! grep -q 'Non-2xx' $tmp/wrk.out"
read -r wok wbad < "$tmp/ws.out"
check "the WebSocket held across every reload (${wok:-0} echoes, ${wbad:-?} failed)" \
	test "${wbad:-1}" -eq 0 -a "${wok:-0}" -gt 20
since1=$(bc show protocols node4 | awk '/node4/ {print $4, $5}')
check "BIRD's session never went down (up since '$since0', now '$since1')" test "$since0" = "$since1"
check "BIRD saw no withdraw (import withdraws $wd0 -> $(wd))" test "$(wd)" = "$wd0"
check "vipgated counts no flap ($flaps0 -> $(peer_field 10.99.0.2:179 flaps))" test -n "$flaps0" -a "$(peer_field 10.99.0.2:179 flaps)" = "$flaps0"
check "the log has no error" sh -c "! grep -q 'error:' '$tmp/log'"

term_check
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
