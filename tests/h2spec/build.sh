#!/usr/bin/env bash
# tests/h2spec/build.sh BUILDDIR: build the h2spec conformance suite pinned
# by tests/h2spec/go.mod into BUILDDIR/tests/h2spec/h2spec, only when that
# binary is missing or older than go.mod/go.sum. The first build downloads
# the modules from the Go module proxy into Go's module cache and compiles;
# a later run with the binary in place costs nothing, and one in a new build
# directory (distcheck, the ASan build) compiles from Go's caches, offline.
#
# Exit 0: the binary is there. Exit 77 (skip): no `go`, or the modules are
# neither in the module cache nor reachable through the proxy; the reason is
# printed. Any other non-zero: the build itself failed.
set -u
[ $# -eq 1 ] || { echo "usage: $0 BUILDDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1/tests/h2spec" || exit 1
dir=$(cd "$1/tests/h2spec" && pwd)
out=$dir/h2spec

fresh() {
	[ -x "$out" ] && [ "$out" -nt "$here/go.mod" ] && [ "$out" -nt "$here/go.sum" ] &&
		"$out" --version >/dev/null 2>&1
}
if fresh; then
	echo "h2spec: $out up to date, not rebuilt (0 s)"
	exit 0
fi

if ! command -v go >/dev/null 2>&1; then
	if [ -x /usr/local/go/bin/go ]; then
		PATH=$PATH:/usr/local/go/bin
	else
		echo "SKIP: h2spec: no \`go\` in PATH nor /usr/local/go/bin (Go builds the test peer)"
		exit 77
	fi
fi
# Never fetch a toolchain; never touch go.mod/go.sum (the source tree may be
# read-only, as under distcheck). Without a HOME, Go's caches go in the
# build directory.
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false"
if [ -z "${HOME:-}" ] || [ -z "$(go env GOCACHE 2>/dev/null)" ]; then
	export GOCACHE=$dir/go-cache GOPATH=$dir/go-path
fi

# one build at a time per build directory
exec 9>"$dir/.build.lock"
if command -v flock >/dev/null 2>&1; then
	flock -w 900 9 || { echo "h2spec: another build holds $dir/.build.lock" >&2; exit 1; }
	if fresh; then echo "h2spec: $out built by another run"; exit 0; fi
fi

t0=$EPOCHREALTIME
cd "$here" || exit 1
# the modules: from the module cache when they are there, else the proxy
if ! GOPROXY=off go mod download >/dev/null 2>&1; then
	echo "h2spec: downloading the modules pinned in tests/h2spec/go.mod ($(go env GOPROXY))"
	if ! err=$(timeout 300 go mod download 2>&1); then
		echo "SKIP: h2spec: the Go module proxy is unreachable and the modules are not in the module cache:"
		printf '%s\n' "$err" | tail -5 | sed 's/^/  /'
		exit 77
	fi
fi
ver=$(go list -m -f '{{.Version}}' github.com/summerwind/h2spec) || exit 1
num=${ver#v}; num=${num%%+*}
echo "h2spec: building github.com/summerwind/h2spec/cmd/h2spec@$ver with $(go version | cut -d' ' -f3)"
tmpout=$out.tmp.$$
if ! timeout 900 nice -n 19 go build -trimpath \
	-ldflags "-X main.VERSION=$num -X main.COMMIT=$ver" \
	-o "$tmpout" github.com/summerwind/h2spec/cmd/h2spec; then
	rm -f "$tmpout"
	echo "h2spec: go build failed" >&2
	exit 1
fi
mv -f "$tmpout" "$out" || exit 1
t1=$EPOCHREALTIME
echo "h2spec: built $out in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"
