#!/usr/bin/env bash
# A manifest edit is served within 30 ms, and an editor's burst of writes
# makes one reconcile; in a network namespace this test makes, vipgated's
# gateway on 127.0.0.1:8080 and a VirtualService whose directResponse body
# the test rewrites:
# - written in place, renamed into place (an atomic writer), and saved the
#   way vim saves (rename to a backup, create, write in two parts, close,
#   chmod, remove the backup, a swap file beside it): each time the time
#   from the start of the write to the first answer with the new body,
#   printed; the median of each way under VG_WATCH_MS (default 60 ms: the
#   goal is 30 ms, 4 to 10 ms seen on a quiet machine, but a test shares the
#   CPUs with another and may run under AddressSanitizer), each within 1 s;
# - each vim-like save and each atomic write adds exactly one reconcile
#   (vipgatectl status "reconciles"), and the files that are no manifests
#   (swap, backup, temporary) add none.
set -u
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
ip netns add vg-probe-$$ 2>/dev/null || { echo "SKIP: ip netns unavailable"; exit 77; }
ip netns del vg-probe-$$

bld=$(pwd)
. "$(dirname "$0")/../lib.sh"
vipgated=$bld/vipgated
ctl=$bld/vipgatectl
ns=vg-mw-$$
tmp=$(mktemp -d /tmp/vg-mw.XXXXXX)
pid=
fails=0 passes=0

cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" TERM INT HUP
fail() { fails=$((fails + 1)); echo "FAIL: $*"; [ -f "$tmp/log" ] && tail -15 "$tmp/log"; }

ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$tmp/objs" "$tmp/state"
cat > "$tmp/vipgate.yaml" <<EOC
node: {name: node-a, address: 127.0.0.1}
objects: {paths: [objs]}
control: {socket: $tmp/sock}
addresses: {interface: lo}
state_dir: state
gateway: {workers: 1, bind: ["127.0.0.1"], drain_timeout: 1s}
log: {level: info}
EOC
cat > "$tmp/objs/gw.yaml" <<'EOC'
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
EOC
vs() {
	cat <<EOC
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: answer, namespace: default}
spec:
  hosts: ["*"]
  gateways: [edge]
  http:
  - directResponse: {status: 200, body: {string: "$1"}}
EOC
}
vs gen-0 > "$tmp/objs/vs.yaml"

(cd "$tmp" && exec ip netns exec "$ns" "$vipgated" -f -c "$tmp/vipgate.yaml") >"$tmp/log" 2>&1 &
pid=$!
check "vipgated starts and serves the first body" wait_for 10 sh -c \
	"ip netns exec $ns python3 -c 'import urllib.request,sys; sys.exit(b\"gen-0\" not in urllib.request.urlopen(\"http://127.0.0.1:8080/\", timeout=1).read())' 2>/dev/null"

# The measuring side: it writes the file (three ways), then asks the
# gateway on fresh connections until the new body comes, and reads the
# reconcile counter before and after on the control socket.
cat > "$tmp/measure.py" <<'PY'
import json, os, socket, statistics, sys, time

objs, sock_path, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
limit = int(os.environ.get("VG_WATCH_MS", "60"))
path = os.path.join(objs, "vs.yaml")
TEMPLATE = open(path).read().replace("gen-0", "%s")

def ctl(cmd):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sock_path)
    s.sendall((json.dumps({"command": cmd}) + "\n").encode())
    out = b""
    while not out.endswith(b"\n"):
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return json.loads(out)["result"]

def reconciles():
    return ctl("status")["reconciles"]

def body():
    try:
        s = socket.create_connection(("127.0.0.1", 8080), timeout=1)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        out = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            out += b
        s.close()
        return out
    except OSError:
        return b""

def in_place(text):
    with open(path, "w") as f:
        f.write(text)

def atomic(text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)

def vim(text):
    # vim's :w with 'backup' on: a swap file, a probe file, the backup
    # rename, the new file written in two parts, its mode, the backup gone
    swap = os.path.join(objs, ".vs.yaml.swp")
    with open(swap, "w") as f:
        f.write("swap")
    probe = os.path.join(objs, "4913")
    open(probe, "w").close()
    os.unlink(probe)
    os.rename(path, path + "~")
    with open(path, "w") as f:
        half = len(text) // 2
        f.write(text[:half])
        f.flush()
        time.sleep(0.005)
        f.write(text[half:])
    os.chmod(path, 0o644)
    os.unlink(path + "~")
    os.unlink(swap)

gen = 0
fails = 0
for name, write in (("in place", in_place), ("atomic rename", atomic), ("vim save", vim)):
    figures = []
    extra = []
    for _ in range(rounds):
        gen += 1
        want = ("gen-%d" % gen).encode()
        text = TEMPLATE % ("gen-%d" % gen)
        time.sleep(0.2)
        before = reconciles()
        t0 = time.monotonic()
        write(text)
        while want not in body():
            if time.monotonic() - t0 > 1.0:
                break
        ms = (time.monotonic() - t0) * 1000
        figures.append(ms)
        # past the longest wait a burst can make (1 s), the count settles
        time.sleep(1.1)
        extra.append(reconciles() - before)
    med = statistics.median(figures)
    print("edit -> served, %s: median %.1f ms, max %.1f ms (%s); reconciles each: %s"
          % (name, med, max(figures), " ".join("%.1f" % x for x in figures),
             " ".join(str(x) for x in extra)))
    if med >= limit:
        print("FAIL: %s: median %.1f ms, not under %d ms" % (name, med, limit)); fails += 1
    if max(figures) >= 1000:
        print("FAIL: %s: a change not served within 1 s" % name); fails += 1
    if name != "in place" and any(x != 1 for x in extra):
        print("FAIL: %s: not one reconcile a save: %s" % (name, extra)); fails += 1
    if name == "in place" and any(x < 1 for x in extra):
        print("FAIL: %s: a write without a reconcile: %s" % (name, extra)); fails += 1
sys.exit(1 if fails else 0)
PY
echo "measuring (3 ways, ${VG_WATCH_ROUNDS:-5} rounds each)"
check "edits served within ${VG_WATCH_MS:-60} ms (median), one reconcile a save" \
	ip netns exec "$ns" python3 "$tmp/measure.py" "$tmp/objs" "$tmp/sock" "${VG_WATCH_ROUNDS:-5}"

# -- files that are not manifests change nothing --
before=$("$ctl" -s "$tmp/sock" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["reconciles"])')
echo swap > "$tmp/objs/.vs.yaml.swp"; echo x > "$tmp/objs/vs.yaml~"; echo y > "$tmp/objs/notes.txt"
rm -f "$tmp/objs/.vs.yaml.swp" "$tmp/objs/vs.yaml~" "$tmp/objs/notes.txt"
sleep 1.2
after=$("$ctl" -s "$tmp/sock" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["reconciles"])')
check "swap, backup and other files: no reconcile ($before -> $after)" test "$before" = "$after"

kill -TERM "$pid"
wait "$pid"; rc=$?
pid=
check "SIGTERM exits 0 (rc $rc)" test $rc -eq 0

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
