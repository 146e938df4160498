#!/usr/bin/env bash
# tests/kube/build.sh BUILDDIR: build the Kubernetes control plane the kube
# tests run against (etcd, kube-apiserver, kubectl, pinned by
# tests/kube/go.mod) into BUILDDIR/tests/kube/bin, only when a binary is
# missing or older than go.mod/go.sum. The first build downloads the
# modules from the Go module proxy into Go's module cache and compiles
# (several minutes on two cores); a later run with the binaries in place
# costs nothing, and one in a new build directory (distcheck, the ASan
# build) compiles from Go's caches, offline, and links again.
#
# Exit 0: the binaries are there. Exit 77: no `go`, or the modules are
# neither in the module cache nor reachable through the proxy; the reason is
# printed. Any other non-zero: the build itself failed.
set -u
[ $# -eq 1 ] || { echo "usage: $0 BUILDDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1/tests/kube/bin" || exit 1
dir=$(cd "$1/tests/kube" && pwd)
bin=$dir/bin

fresh() {
	local b
	for b in etcd kube-apiserver kubectl; do
		[ -x "$bin/$b" ] && [ "$bin/$b" -nt "$here/go.mod" ] &&
			[ "$bin/$b" -nt "$here/go.sum" ] || return 1
	done
	"$bin/etcd" --version >/dev/null 2>&1 &&
		"$bin/kube-apiserver" --version >/dev/null 2>&1 &&
		"$bin/kubectl" version --client >/dev/null 2>&1
}
if fresh; then
	echo "kube: $bin up to date, not rebuilt (0 s)"
	exit 0
fi

if ! command -v go >/dev/null 2>&1; then
	if [ -x /usr/local/go/bin/go ]; then
		PATH=$PATH:/usr/local/go/bin
	else
		echo "SKIP: kube: no \`go\` in PATH nor /usr/local/go/bin (Go builds the control plane)"
		exit 77
	fi
fi
# Never fetch a toolchain; never touch go.mod/go.sum (the source tree may be
# read-only, as under distcheck). Without a HOME, Go's caches go in the
# build directory.
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false -trimpath"
if [ -z "${HOME:-}" ] || [ -z "$(go env GOCACHE 2>/dev/null)" ]; then
	export GOCACHE=$dir/go-cache GOPATH=$dir/go-path
fi

# one build at a time per build directory
exec 9>"$dir/.build.lock"
if command -v flock >/dev/null 2>&1; then
	flock -w 3600 9 || { echo "kube: another build holds $dir/.build.lock" >&2; exit 1; }
	if fresh; then echo "kube: $bin built by another run"; exit 0; fi
fi

t0=$EPOCHREALTIME
cd "$here" || exit 1
# the modules: from the module cache when they are there, else the proxy
if ! GOPROXY=off go mod download >/dev/null 2>&1; then
	echo "kube: downloading the modules pinned in tests/kube/go.mod ($(go env GOPROXY))"
	if ! err=$(timeout 1200 go mod download 2>&1); then
		echo "SKIP: kube: the Go module proxy is unreachable and the modules are not in the module cache:"
		printf '%s\n' "$err" | tail -5 | sed 's/^/  /'
		exit 77
	fi
fi
kver=$(go list -m -f '{{.Version}}' k8s.io/kubernetes) || exit 1
ever=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3) || exit 1
t1=$EPOCHREALTIME
echo "kube: building kube-apiserver and kubectl $kver, etcd $ever with $(go version | cut -d' ' -f3)"
# the version the binaries report, as Kubernetes' own build stamps it
pkg=k8s.io/component-base/version
ld="-s -w -X $pkg.gitVersion=$kver -X $pkg.gitMajor=$(echo "${kver#v}" | cut -d. -f1)"
ld="$ld -X $pkg.gitMinor=$(echo "$kver" | cut -d. -f2) -X $pkg.gitTreeState=clean"
tmp=$dir/bin.tmp.$$
rm -rf "$tmp"; mkdir -p "$tmp"
for p in "etcd go.etcd.io/etcd/server/v3" \
    "kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver" \
    "kubectl k8s.io/kubernetes/cmd/kubectl"; do
	set -- $p
	if ! timeout 3600 nice -n 19 go build -ldflags "$ld" -o "$tmp/$1" "$2"; then
		rm -rf "$tmp"
		echo "kube: go build $2 failed" >&2
		exit 1
	fi
done
mv -f "$tmp"/* "$bin"/ && rmdir "$tmp" || exit 1
t2=$EPOCHREALTIME
echo "kube: built $bin in $(awk -v a="$t0" -v b="$t2" 'BEGIN {printf "%.1f", b - a}') s" \
    "(modules $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s)," \
    "$(du -sh "$bin" | cut -f1) on disk"
