#!/bin/bash
# The addr applier against a real kernel, in network namespaces of its own
# (the host's is never touched): VIPs appear as tagged local addresses, the
# kernel accepts connections to them, and only vipgated's are ever removed.
# Run from the build directory (make check does); exit 77 skips.
set -u

tool=./tests/daemon/addrtool
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v ip >/dev/null 2>&1 || { echo "SKIP: no ip"; exit 77; }
[ -x "$tool" ] || { echo "ERROR: $tool not built (run from the build dir)"; exit 99; }

NS=vgaddr$$
PEER=vgpeer$$

cleanup() {
	# Deleting a namespace is asynchronous: its links go first.
	ip -n "$NS" link del vgn0 2>/dev/null
	ip -n "$NS" link del vipgate0 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip netns del "$PEER" 2>/dev/null
}
trap cleanup EXIT

ip netns add "$NS" 2>/dev/null || { echo "SKIP: ip netns add failed"; exit 77; }
ip netns add "$PEER" || exit 99
ip -n "$NS" link set lo up || exit 99

fail() {
	echo "FAIL: $*"
	echo "--- addresses on $IF in $NS:"
	ip -n "$NS" addr show dev "$IF"
	exit 1
}
# addrtool inside the namespace; stdout is kept, the log goes to the test log
run() {
	timeout 10 ip netns exec "$NS" "$tool" "$@"
}
# Whether ADDR is on the interface, as a /32 or /128
has() {
	ip -n "$NS" -o addr show dev "$IF" | grep -qF " $1/"
}
expect_on() {
	local a
	for a; do has "$a" || fail "$a missing"; done
}
expect_off() {
	local a
	for a; do ! has "$a" || fail "$a still there"; done
}
expect_list() {
	local got
	got=$(run "$IF" list | tr '\n' ' ')
	[ "$got" = "$*${*:+ }" ] || fail "owned: got '$got', want '$*'"
}
# A TCP connection to ADDR port 9 from the peer namespace: refused (RST)
# means the kernel took the packet as addressed to itself.
accepted() {
	local out
	out=$(timeout 3 ip netns exec "$PEER" bash -c "exec 3<>/dev/tcp/$1/9" 2>&1)
	case $out in *refused*) return 0 ;; esac
	return 1
}

# Which interface "auto" must choose: vipgate0 where the kernel has the
# dummy driver, lo where it has not (as on the CI machines).
if ip -n "$NS" link add vgprobe type dummy 2>/dev/null; then
	ip -n "$NS" link del vgprobe
	IF=vipgate0
else
	IF=lo
fi
echo "dummy driver: $([ $IF = lo ] && echo no || echo yes), expecting $IF"

# 1. auto: the fallback, v4 and v6 added, tagged
chosen=$(run auto set 192.0.2.1 2001:db8::1) || fail "auto set failed"
[ "$chosen" = "$IF" ] || fail "auto chose '$chosen', want $IF"
expect_on 192.0.2.1 2001:db8::1
expect_list 192.0.2.1 2001:db8::1
ip -n "$NS" -o -4 addr show dev "$IF" | grep -qF "192.0.2.1/32 scope host $IF:vg" ||
	fail "192.0.2.1 not scope host with label $IF:vg"
[ -z "$(ip -n "$NS" -6 route show 2001:db8::1)" ] || fail "prefix route for the v6 VIP"

# 2. the kernel accepts connections to the VIPs from another node
ip -n "$NS" link add vgn0 type veth peer name vgp0 netns "$PEER" || exit 99
ip -n "$NS" addr add 198.51.100.1/24 dev vgn0
ip -n "$NS" addr add fd99::1/64 dev vgn0 nodad
ip -n "$PEER" addr add 198.51.100.2/24 dev vgp0
ip -n "$PEER" addr add fd99::2/64 dev vgp0 nodad
ip -n "$NS" link set vgn0 up
ip -n "$PEER" link set vgp0 up
ip -n "$PEER" link set lo up
ip -n "$PEER" route add 192.0.2.0/24 via 198.51.100.1
ip -n "$PEER" -6 route add 2001:db8::/64 via fd99::1
accepted 198.51.100.1 || fail "control: the node's own address does not answer"
accepted 192.0.2.1 || fail "192.0.2.1 (scope host on $IF) not accepted"
accepted 2001:db8::1 || fail "2001:db8::1 on $IF not accepted"
! accepted 192.0.2.200 || fail "control: an address the node lacks was accepted"

# 3. addresses put there by hand are not ours: used, never removed
ip -n "$NS" addr add 192.0.2.99/32 dev "$IF"
ip -n "$NS" addr add 2001:db8::99/128 dev "$IF"
ip -n "$NS" addr add 192.0.2.50/32 dev "$IF"
run "$IF" set 192.0.2.1 192.0.2.50 2001:db8::1 >/dev/null ||
	fail "set over a hand-made address failed"
expect_list 192.0.2.1 2001:db8::1

# 4. add keeps ours; removing one from the set removes it, and only it
run "$IF" add 192.0.2.2 >/dev/null || fail "add failed"
expect_list 192.0.2.1 192.0.2.2 2001:db8::1
run "$IF" set 192.0.2.2 2001:db8::1 >/dev/null || fail "set failed"
expect_off 192.0.2.1
expect_on 192.0.2.2 2001:db8::1 192.0.2.99 2001:db8::99 192.0.2.50
! accepted 192.0.2.1 || fail "removed 192.0.2.1 still accepted"

# 5. a leftover tagged only by its label (a run on a kernel without
# IFA_PROTO) is ours: a new process removes it when not wanted
ip -n "$NS" addr add 192.0.2.77/32 dev "$IF" label "$IF:vg"
expect_list 192.0.2.2 192.0.2.77 2001:db8::1
run "$IF" set 192.0.2.2 2001:db8::1 2001:db8::2 >/dev/null || fail "set failed"
expect_off 192.0.2.77
expect_list 192.0.2.2 2001:db8::1 2001:db8::2

# 6. shutdown: set with nothing removes all ours, nothing else
run "$IF" set >/dev/null || fail "empty set failed"
expect_list
expect_off 192.0.2.2 2001:db8::1 2001:db8::2
expect_on 192.0.2.99 2001:db8::99 192.0.2.50
[ "$IF" != lo ] || expect_on 127.0.0.1 ::1

# 7. in bulk: thousands of addresses go in batches from the applier's
# worker, apply() itself returns at once; a hand-made address inside the
# range fails alone (EEXIST) and stays not ours
ip -n "$NS" addr add 10.70.0.5/32 dev "$IF"
out=$(run "$IF" seq 10.70.0.0 3000 fd70:: 3000 | tail -2 | tr '\n' ' ') ||
	fail "seq 3000+3000 failed"
set -- $out
echo "bulk: apply() returned in $1 ms, 6000 addresses in $2 ms"
[ "$1" -lt 500 ] || fail "apply() blocked for $1 ms"
got=$(run "$IF" list | wc -l)
[ "$got" = 5999 ] || fail "bulk: $got owned, want 5999 (3000 + 3000 but the hand-made one)"
expect_on 10.70.0.0 10.70.11.183 fd70::bb7 10.70.0.5
# a newer set posted while one is being applied: the newer one is what holds
run "$IF" seq 10.72.0.0 20000 fd72:: 0 10.72.0.9 fd72::9 >/dev/null || fail "seq then failed"
expect_list 10.72.0.9 fd72::9
run "$IF" seq 10.70.0.0 3000 fd70:: 3000 >/dev/null || fail "seq again failed"
run "$IF" seq 10.70.0.0 1000 fd70:: 0 >/dev/null || fail "seq shrink failed"
[ "$(run "$IF" list | wc -l)" = 999 ] || fail "bulk: shrink left $(run "$IF" list | wc -l)"
expect_off fd70::1 10.70.3.232
run "$IF" set >/dev/null || fail "empty set failed"
expect_list
expect_on 10.70.0.5

# 8. addresses.mode route: each VIP a local route in table local instead
# of an address; the kernel accepts connections to it all the same, only
# vipgated's routes are listed and removed, and 100,000 take the kernel
# seconds (addresses take minutes)
rrun() { VG_ADDR_MODE=route run "$@"; }
has_route() { ip -n "$NS" "$2" route show table local "$1" | grep -q "^local $1 .*proto 86"; }
rrun "$IF" set 192.0.2.21 2001:db8::21 192.0.2.50 >/dev/null || fail "route set failed"
has_route 192.0.2.21 -4 || fail "no local route for 192.0.2.21"
has_route 2001:db8::21 -6 || fail "no local route for 2001:db8::21"
! has 192.0.2.21 || fail "route mode added an address"
[ "$(rrun "$IF" list | tr '\n' ' ')" = "192.0.2.21 2001:db8::21 " ] ||
	fail "route mode owned: $(rrun "$IF" list | tr '\n' ' ')"
expect_list
accepted 192.0.2.21 || fail "192.0.2.21 (local route) not accepted"
accepted 2001:db8::21 || fail "2001:db8::21 (local route) not accepted"
out=$(rrun "$IF" seq 10.71.0.0 50000 fd71:: 50000 | tail -2 | tr '\n' ' ') ||
	fail "route seq 50000+50000 failed"
set -- $out
echo "route mode: apply() returned in $1 ms, 100000 local routes in $2 ms"
[ "$(rrun "$IF" list | wc -l)" = 100000 ] || fail "route mode: not 100000 routes"
ip -n "$PEER" route add 10.71.0.0/16 via 198.51.100.1
accepted 10.71.195.79 || fail "10.71.195.79 (the 50000th) not accepted"
rrun "$IF" set >/dev/null || fail "route mode: empty set failed"
[ -z "$(rrun "$IF" list)" ] || fail "route mode: routes left"
expect_on 192.0.2.50
! accepted 192.0.2.21 || fail "removed route still accepted"

# 9. an explicit interface must exist
if run nosuch0 set 192.0.2.1 >/dev/null 2>&1; then
	fail "a missing interface was accepted"
fi
expect_off 192.0.2.1

echo "PASS"
