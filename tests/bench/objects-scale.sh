#!/usr/bin/env bash
# Benchmark (not a timed test): 10,000 LoadBalancer Services, 10,000
# EndpointSlices and 1,000 VirtualServices in files. Prints the time and
# peak RSS of `vipgated -t`, of the start-up, and of a full reload.
# Goal: each at most 1 s and 100 MB. Run from the build directory, as root
# (the daemon runs in a network namespace of its own).
set -eu
bld=$(pwd)
src=${srcdir:-$(dirname "$0")/../..}
nsvc=${NSVC:-10000}
nvs=${NVS:-1000}
tmp=$(mktemp -d /tmp/vg-bench.XXXXXX)
ns=vg-bench-$$
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

python3 "$src/tests/bench/gen-objects.py" "$tmp/objs" "$nsvc" "$nvs"
cat > "$tmp/vipgate.yaml" <<EOC
node: {name: node-a}
objects: {paths: [objs]}
control: {socket: $tmp/sock}
addresses: {interface: lo}
state_dir: state
log: {level: warn}
EOC
echo "objects: $nsvc Services, $nsvc EndpointSlices, $nvs VirtualServices ($(du -sh "$tmp/objs" | cut -f1) of YAML)"

/usr/bin/time -f "%e %M" -o "$tmp/t" "$bld/vipgated" -t -c "$tmp/vipgate.yaml" >/dev/null
read -r secs kb < "$tmp/t"
printf 'vipgated -t:        %6.3f s  peak RSS %6.1f MB\n' "$secs" "$(awk "BEGIN{print $kb/1024}")"

ms() { date +%s%N | cut -c1-13; }
ip netns add "$ns"
ip -n "$ns" link set lo up
t0=$(ms)
ip netns exec "$ns" "$bld/vipgated" -f -c "$tmp/vipgate.yaml" 2>"$tmp/log" &
pid=$!
for _ in $(seq 1 600); do
	"$bld/vipgatectl" -s "$tmp/sock" status >/dev/null 2>&1 && break
	sleep 0.05
done
t1=$(ms)
naddr=$(ip -n "$ns" -o addr show dev lo | grep -c ' lo:vg' || true)
printf 'start-up:           %6.3f s  (%d VIPs made local addresses)\n' \
    "$(awk "BEGIN{print ($t1-$t0)/1000}")" "$naddr"
rss() { awk '/^'"$1"':/ {printf "%.1f", $2/1024}' /proc/$pid/status; }

t0=$(ms); "$bld/vipgatectl" -s "$tmp/sock" reload >/dev/null; t1=$(ms)
printf 'reload, unchanged:  %6.3f s\n' "$(awk "BEGIN{print ($t1-$t0)/1000}")"

# every file rewritten with a change: all of it parsed and decoded again
sed -i 's/tier: web/tier: web2/' "$tmp"/objs/10-svc-*.yaml
sed -i 's/timeout: 5s/timeout: 6s/' "$tmp"/objs/20-vs.yaml
t0=$(ms); "$bld/vipgatectl" -s "$tmp/sock" reload >/dev/null; t1=$(ms)
printf 'reload, all changed:%6.3f s  RSS %s MB, peak RSS %s MB\n' \
    "$(awk "BEGIN{print ($t1-$t0)/1000}")" "$(rss VmRSS)" "$(rss VmHWM)"
kill -TERM "$pid"; wait "$pid" || true; pid=
