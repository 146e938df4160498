#!/bin/sh
# vipgatectl's command line without a daemon: exit codes, messages, --help.
# (The exchange with a server is tested in test_ctl.)

ctl=${VIPGATECTL:-./vipgatectl}
if [ ! -x "$ctl" ]; then
	echo "SKIP: $ctl not built"
	exit 77
fi
tmp=${TMPDIR:-/tmp}/ctl-cli.$$
mkdir "$tmp" || exit 99
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# run EXPECTED-STATUS ARGS...: output in $tmp/out, $tmp/err
run() {
	want=$1
	shift
	"$ctl" "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	[ "$got" -eq "$want" ] || fail "vipgatectl $*: exit $got, want $want"
}

has() {
	grep -qF -- "$2" "$tmp/$1" || fail "$1 lacks: $2 (got: $(cat "$tmp/$1"))"
}

run 2 -s /nonexistent status
has err "vipgatectl: cannot connect to /nonexistent: No such file or directory (is vipgated running?)"

# VIPGATE_SOCKET replaces the default; -s wins over it.
VIPGATE_SOCKET=/nonexistent-env "$ctl" status >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "VIPGATE_SOCKET: exit status"
has err "cannot connect to /nonexistent-env:"
VIPGATE_SOCKET=/nonexistent-env "$ctl" -s /nonexistent-flag status >/dev/null 2>"$tmp/err"
has err "cannot connect to /nonexistent-flag:"

# A socket file nobody listens on.
: >"$tmp/not-a-socket"
run 2 -s "$tmp/not-a-socket" --json services
has err "cannot connect to $tmp/not-a-socket: Connection refused (is vipgated running?)"

run 0 --help
for c in status services bgp routes bfd l2 "gateway listeners" "gateway routes" \
    "gateway clusters" analyze reload; do
	grep -q "^  $c  " "$tmp/out" || fail "--help does not list $c"
done
has out "usage: vipgatectl [-s SOCKET] [--json] COMMAND [ARGS]"
has out "VIPGATE_SOCKET"
run 0 -h
has out "usage: vipgatectl"

run 0 --version
grep -q '^vipgatectl [0-9][0-9.]*$' "$tmp/out" || fail "--version: $(cat "$tmp/out")"

run 2
has err "vipgatectl: no command given"
has err "usage: vipgatectl"
run 2 --no-such-option status
has err "usage: vipgatectl"

[ "$fails" -eq 0 ] || exit 1
echo "PASS: ctl-cli"
