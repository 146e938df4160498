#!/usr/bin/env bash
# Benchmark (not a timed test): large manifests against the main loop.
# A file of N anchors (100,000) referred to once each and a file of MB (50)
# megabytes of an unknown kind are dropped into the objects directory of a
# running vipgated that holds a BGP session with a 3 s hold time to BIRD 2
# (namespaces this script makes). Prints: the time to load the anchors
# (vipgated -t), the time of the reload that reads both, the slowest
# `vipgatectl status` answer meanwhile (the main loop's latency), whether the
# BGP session stayed up, the log lines the unknown kinds made, and RSS with
# the files loaded and after they are removed. Run from the build directory
# as root: make -C build bench-manifests.
. "$(dirname "$0")/../interop/bgp-lib.sh"
command -v bird >/dev/null && command -v birdc >/dev/null || { echo "SKIP: bird2 missing"; exit 77; }
gen=$(dirname "$0")/gen-stress.py
n=${N:-100000}
mb=${MB:-50}

setup_net
bird_hold3_setup
svc web > "$tmp/objs/web.yaml"
mkdir -p "$tmp/gen"
python3 "$gen" anchors "$tmp/gen/anchors.yaml" "$n"
python3 "$gen" unknown "$tmp/gen/unknown.yaml" "$mb"
printf 'files: %d anchors (%s), %s of an unknown kind (%d documents)\n' "$n" \
	"$(du -h "$tmp/gen/anchors.yaml" | cut -f1)" "$(du -h "$tmp/gen/unknown.yaml" | cut -f1)" \
	"$(grep -c '^---' "$tmp/gen/unknown.yaml")"

# the anchors alone, with no daemon: the decoder's time
mkdir -p "$tmp/t/objs"
cp "$tmp/gen/anchors.yaml" "$tmp/t/objs/"
sed "s|objs|$tmp/t/objs|; s|control: .*|control: {socket: $tmp/t/sock}|" "$tmp/vipgate.yaml" > "$tmp/t/vipgate.yaml"
/usr/bin/time -f "%e %M" -o "$tmp/time" "$vipgated" -t -c "$tmp/t/vipgate.yaml" >/dev/null 2>&1
read -r secs kb < "$tmp/time"
printf 'vipgated -t, %d anchors:          %8.2f s, peak RSS %6.1f MB\n' "$n" "$secs" \
	"$(awk -v k="$kb" 'BEGIN { print k / 1024 }')"

ip netns exec "$nst" bird -f -c "$tmp/bird.conf" -s "$birdsock" >>"$tmp/bird.log" 2>&1 &
peer_pids="$peer_pids $!"
wait_for 5 test -S "$birdsock" || { echo "BIRD did not start"; exit 1; }
start_vipgated || { echo "vipgated did not start"; exit 1; }
wait_for 10 proto_up || { echo "no BGP session"; tail "$tmp/log"; exit 1; }
rss() { awk "/^$1/ { printf \"%.1f\", \$2 / 1024 }" "/proc/$pid/status"; }
printf 'vipgated RSS before:                   %6s MB\n' "$(rss VmRSS)"
flaps0=$(peer_field 10.99.0.2:179 flaps)
lines0=$(wc -l < "$tmp/log")

mv "$tmp/gen/anchors.yaml" "$tmp/gen/unknown.yaml" "$tmp/objs/"
t0=$(date +%s%N)
timeout 300 "$ctl" -s "$tmp/sock" reload > "$tmp/out" 2>&1 &
rpid=$!
worst=0 probes=0 down=0
while kill -0 $rpid 2>/dev/null; do
	s=$(date +%s%N)
	timeout 10 "$ctl" -s "$tmp/sock" status >/dev/null 2>&1
	e=$(( ($(date +%s%N) - s) / 1000000 ))
	[ $e -gt $worst ] && worst=$e
	probes=$((probes + 1))
	proto_up || down=1
	sleep 0.2
done
wait $rpid
rc=$?
# a vipgated that reads on its main loop answers nothing until it is done
s=$(date +%s%N)
wait_for 600 json status
e=$(( ($(date +%s%N) - s) / 1000000 ))
[ $e -gt $worst ] && worst=$e
took=$(( ($(date +%s%N) - t0) / 1000000 ))
printf 'files dropped in to reload answered:   %6d ms, vipgatectl exit %d\n' "$took" "$rc"
printf 'slowest vipgatectl status meanwhile:   %6d ms (%d probes)\n' "$worst" "$probes"
proto_up || down=1
printf 'BGP session, hold time 3 s:            %s; flaps counted by vipgated: %s\n' \
	"$([ $down -eq 0 ] && echo 'stayed up' || echo 'WENT DOWN')" \
	"$(( $(peer_field 10.99.0.2:179 flaps) - flaps0 ))"
printf 'log lines about the unknown kind:      %6d\n' \
	"$(tail -n +"$lines0" "$tmp/log" | grep -c 'unknown kind\|more warnings not listed')"
printf 'vipgated RSS with the files loaded:    %6s MB (peak %s MB)\n' "$(rss VmRSS)" "$(rss VmHWM)"
rm -f "$tmp/objs/anchors.yaml" "$tmp/objs/unknown.yaml"
"$ctl" -s "$tmp/sock" reload >/dev/null 2>&1
wait_for 600 json status
sleep 0.5
printf 'vipgated RSS after they are removed:   %6s MB\n' "$(rss VmRSS)"
stop "$pid" >/dev/null; pid=
