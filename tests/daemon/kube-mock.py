#!/usr/bin/env python3
"""A small stand-in for kube-apiserver, for vipgated's tests.

HTTPS with the certificate the test makes, a bearer token, LIST with a
resourceVersion (in pages: limit and continue), WATCH as a chunked stream of JSON lines (with BOOKMARKs),
410 Gone for a compacted resourceVersion, a 404 for the kinds it is told
are not installed, and Service status PATCHes (merge patch) recorded;
Leases (updates conditioned on the resourceVersion) and Events kept.
The state and the event history survive a restart (--state), so a watch
resumes across a restart as it does with a real API server (etcd keeps it).

Test control (same token): POST /_mock/apply (an object), /_mock/delete
({apiVersion, kind, namespace, name}), /_mock/compact (every watch gets a
410 ERROR event and ends); GET /_mock/patches.
"""
import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

KINDS = {
    # (group/version, kind): (collection path, plural, namespaced)
    ("v1", "Service"): ("/api/v1", "services", True),
    ("v1", "Endpoints"): ("/api/v1", "endpoints", True),
    ("v1", "Pod"): ("/api/v1", "pods", True),
    ("v1", "Node"): ("/api/v1", "nodes", False),
    ("v1", "Secret"): ("/api/v1", "secrets", True),
    ("v1", "Namespace"): ("/api/v1", "namespaces", False),
    ("discovery.k8s.io/v1", "EndpointSlice"): ("/apis/discovery.k8s.io/v1", "endpointslices", True),
    ("metallb.io/v1beta1", "IPAddressPool"): ("/apis/metallb.io/v1beta1", "ipaddresspools", True),
    ("metallb.io/v1beta1", "L2Advertisement"): ("/apis/metallb.io/v1beta1", "l2advertisements", True),
    ("metallb.io/v1beta1", "BGPAdvertisement"): ("/apis/metallb.io/v1beta1", "bgpadvertisements", True),
    ("metallb.io/v1beta2", "BGPPeer"): ("/apis/metallb.io/v1beta2", "bgppeers", True),
    ("metallb.io/v1beta1", "BFDProfile"): ("/apis/metallb.io/v1beta1", "bfdprofiles", True),
    ("metallb.io/v1beta1", "Community"): ("/apis/metallb.io/v1beta1", "communities", True),
    ("networking.istio.io/v1beta1", "Gateway"): ("/apis/networking.istio.io/v1beta1", "gateways", True),
    ("networking.istio.io/v1beta1", "VirtualService"): ("/apis/networking.istio.io/v1beta1", "virtualservices", True),
    ("networking.istio.io/v1beta1", "DestinationRule"): ("/apis/networking.istio.io/v1beta1", "destinationrules", True),
    ("networking.istio.io/v1beta1", "ServiceEntry"): ("/apis/networking.istio.io/v1beta1", "serviceentries", True),
    ("networking.istio.io/v1beta1", "WorkloadEntry"): ("/apis/networking.istio.io/v1beta1", "workloadentries", True),
    ("security.istio.io/v1beta1", "PeerAuthentication"): ("/apis/security.istio.io/v1beta1", "peerauthentications", True),
    ("security.istio.io/v1beta1", "AuthorizationPolicy"): ("/apis/security.istio.io/v1beta1", "authorizationpolicies", True),
    ("security.istio.io/v1beta1", "RequestAuthentication"): ("/apis/security.istio.io/v1beta1", "requestauthentications", True),
}
COLLECTIONS = {p + "/" + pl: (gv, k, nsd) for (gv, k), (p, pl, nsd) in KINDS.items()}


class State:
    def __init__(self, path, absent):
        self.path = path
        self.absent = absent
        self.lock = threading.Condition()
        self.rv = 100
        self.compacted = 0
        self.epoch = 0          # bumped by compact: open watches end
        self.objects = {}       # collection -> {"ns/name": obj}
        self.events = []        # (rv, collection, type, obj)
        self.patches = []
        if path and os.path.exists(path):
            with open(path) as f:
                d = json.load(f)
            self.rv, self.compacted = d["rv"], d["compacted"]
            self.objects = d["objects"]
            self.patches = d["patches"]
            self.events = [tuple(e) for e in d["events"]]

    def save(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"rv": self.rv, "compacted": self.compacted,
                       "objects": self.objects, "patches": self.patches,
                       "events": self.events}, f)
        os.replace(tmp, self.path)

    def collection(self, obj):
        key = (obj.get("apiVersion"), obj.get("kind"))
        if key not in KINDS:
            raise ValueError("unknown kind %r" % (key,))
        p, pl, nsd = KINDS[key]
        return p + "/" + pl, nsd

    def emit(self, coll, typ, obj):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self.events.append((self.rv, coll, typ, json.loads(json.dumps(obj))))
        self.save()
        self.lock.notify_all()

    def apply(self, obj):
        with self.lock:
            coll, nsd = self.collection(obj)
            md = obj.setdefault("metadata", {})
            if nsd:
                md.setdefault("namespace", "default")
            key = "%s/%s" % (md.get("namespace", ""), md["name"])
            objs = self.objects.setdefault(coll, {})
            typ = "MODIFIED" if key in objs else "ADDED"
            # an update of the object leaves its status alone, as the API
            # server does (status has its own subresource)
            if key in objs and "status" in objs[key]:
                obj["status"] = objs[key]["status"]
            else:
                obj.pop("status", None)
            objs[key] = obj
            self.emit(coll, typ, obj)

    def delete(self, d):
        with self.lock:
            coll, nsd = self.collection(d)
            key = "%s/%s" % (d.get("namespace", "default") if nsd else "", d["name"])
            obj = self.objects.get(coll, {}).pop(key, None)
            if obj is None:
                return False
            self.emit(coll, "DELETED", obj)
            return True

    def compact(self):
        with self.lock:
            self.compacted = self.rv + 1
            self.epoch += 1
            self.events = []
            self.save()
            self.lock.notify_all()


def merge_patch(dst, patch):
    for k, v in patch.items():
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, dict) and isinstance(dst.get(k), dict):
            merge_patch(dst[k], v)
        else:
            dst[k] = json.loads(json.dumps(v))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    st = None
    token = None
    max_page = 0
    pages = 0

    def setup(self):
        # headers and body go out as two writes: without this, Nagle and
        # the client's delayed ACK hold every answer ~40 ms
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def log_message(self, fmt, *args):
        sys.stderr.write("kube-mock: %s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def status(self, code, reason, msg):
        self.send_json(code, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                              "status": "Failure", "message": msg, "reason": reason,
                              "code": code})

    def authorized(self):
        if self.headers.get("Authorization") == "Bearer " + self.token:
            return True
        self.status(401, "Unauthorized", "Unauthorized")
        return False

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return json.loads(self.rfile.read(n) or b"{}")

    def do_GET(self):
        if not self.authorized():
            return
        u = urlparse(self.path)
        q = parse_qs(u.query)
        st = self.st
        if u.path == "/_mock/patches":
            with st.lock:
                return self.send_json(200, st.patches)
        if u.path == "/_mock/events":
            with st.lock:
                return self.send_json(200, list(EVENTS.values()))
        if u.path.startswith(LEASES):
            with st.lock:
                lease = LEASE_OBJS.get(u.path)
            if lease is None:
                return self.status(404, "NotFound", "leases.coordination.k8s.io not found")
            return self.send_json(200, lease)
        if u.path not in COLLECTIONS:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        gv, kind, _ = COLLECTIONS[u.path]
        if kind in st.absent:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        if q.get("watch", ["0"])[0] in ("1", "true"):
            return self.watch(u.path, gv, kind, q)
        with st.lock:
            keys = sorted(st.objects.get(u.path, {}))
            # pages: limit (capped by --max-page), continue = the next offset
            limit = int(q.get("limit", ["0"])[0] or 0)
            if self.max_page:
                limit = min(limit or self.max_page, self.max_page)
            start = int(q.get("continue", ["off-0"])[0][4:] or 0)
            end = start + limit if limit else len(keys)
            items = []
            for key in keys[start:end]:
                o = json.loads(json.dumps(st.objects[u.path][key]))
                o.pop("apiVersion", None)   # List items lack them, as the real server's
                o.pop("kind", None)
                items.append(o)
            md = {"resourceVersion": str(st.rv)}
            if end < len(keys):
                md["continue"] = "off-%d" % end
            self.pages += 1
            self.send_json(200, {"kind": kind + "List", "apiVersion": gv,
                                 "metadata": md, "items": items})

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, coll, gv, kind, q):
        st = self.st
        rv = int(q.get("resourceVersion", ["0"])[0] or 0)
        timeout = int(q.get("timeoutSeconds", ["300"])[0])
        bookmarks = q.get("allowWatchBookmarks", ["false"])[0] == "true"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        gone = {"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                "metadata": {}, "status": "Failure", "code": 410, "reason": "Expired",
                "message": "too old resource version: %d (%d)" % (rv, st.compacted)}}
        end = time.time() + timeout
        try:
            with st.lock:
                epoch = st.epoch
                if rv < st.compacted - 1:
                    self.chunk(json.dumps(gone).encode() + b"\n")
                    self.chunk(b"")
                    return
                last_bm = time.time()
                pos = 0
                while time.time() < end:
                    if st.epoch != epoch:
                        gone["object"]["message"] = "too old resource version: %d" % rv
                        self.chunk(json.dumps(gone).encode() + b"\n")
                        break
                    # events are in resourceVersion order: go on from pos
                    while pos < len(st.events):
                        erv, ecoll, typ, obj = st.events[pos]
                        pos += 1
                        if erv > rv and ecoll == coll:
                            self.chunk(json.dumps({"type": typ, "object": obj}).encode() + b"\n")
                            rv = erv
                    if bookmarks and time.time() - last_bm > 2:
                        bm = {"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": gv,
                              "metadata": {"resourceVersion": str(st.rv)}}}
                        self.chunk(json.dumps(bm).encode() + b"\n")
                        rv = max(rv, st.rv)
                        last_bm = time.time()
                    st.lock.wait(0.5)
                self.chunk(b"")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def do_PUT(self):
        if not self.authorized():
            return
        path = urlparse(self.path).path
        if not path.startswith(LEASES):
            return self.status(405, "MethodNotAllowed", "only Leases are updated here")
        obj = self.body()
        with self.st.lock:
            cur = LEASE_OBJS.get(path)
            if cur is None:
                return self.status(404, "NotFound", "leases.coordination.k8s.io not found")
            # an update names the resourceVersion it read: another is a conflict
            if obj.get("metadata", {}).get("resourceVersion") != cur["metadata"]["resourceVersion"]:
                return self.status(409, "Conflict", "the object has been modified")
            LEASE_RV[0] += 1
            obj["metadata"]["resourceVersion"] = str(LEASE_RV[0])
            LEASE_OBJS[path] = obj
        self.send_json(200, obj)

    def create(self, path):
        obj = self.body()
        name = obj.get("metadata", {}).get("name", "")
        with self.st.lock:
            if path.startswith(LEASES):
                key = path + "/" + name
                if key in LEASE_OBJS:
                    return self.status(409, "AlreadyExists", "already exists")
                LEASE_RV[0] += 1
                obj["metadata"]["resourceVersion"] = str(LEASE_RV[0])
                LEASE_OBJS[key] = obj
            else:
                key = path + "/" + name
                if key in EVENTS:
                    return self.status(409, "AlreadyExists", "already exists")
                EVENTS[key] = obj
        self.send_json(201, obj)

    def do_POST(self):
        if not self.authorized():
            return
        st = self.st
        path = urlparse(self.path).path
        if path.startswith(LEASES) or (path.startswith("/api/v1/namespaces/") and
                                       path.endswith("/events")):
            return self.create(path)
        try:
            if self.path == "/_mock/apply":
                st.apply(self.body())
            elif self.path == "/_mock/delete":
                if not st.delete(self.body()):
                    return self.status(404, "NotFound", "no such object")
            elif self.path == "/_mock/compact":
                st.compact()
            else:
                return self.status(404, "NotFound", "no such control")
        except (ValueError, KeyError) as e:
            return self.status(400, "BadRequest", str(e))
        self.send_json(200, {"rv": st.rv})

    def do_PATCH(self):
        if not self.authorized():
            return
        parts = urlparse(self.path).path.split("/")
        # /api/v1/namespaces/NS/services/NAME/status
        if len(parts) != 8 or parts[1:4] != ["api", "v1", "namespaces"] or \
                parts[5] != "services" or parts[7] != "status":
            return self.status(405, "MethodNotAllowed", "only Service status is patched here")
        if self.headers.get("Content-Type") != "application/merge-patch+json":
            return self.status(415, "UnsupportedMediaType", "want a merge patch")
        ns, name = parts[4], parts[6]
        patch = self.body()
        st = self.st
        with st.lock:
            coll = "/api/v1/services"
            obj = st.objects.get(coll, {}).get("%s/%s" % (ns, name))
            if obj is None:
                return self.status(404, "NotFound", 'services "%s" not found' % name)
            st.patches.append({"namespace": ns, "name": name, "patch": patch,
                               "time": time.time()})
            merge_patch(obj, {"status": patch.get("status", {})})
            st.emit(coll, "MODIFIED", obj)
            self.send_json(200, obj)


# coordination.k8s.io Leases (one writer among the nodes) and Events
LEASES = "/apis/coordination.k8s.io/v1/namespaces/"
LEASE_OBJS, LEASE_RV, EVENTS = {}, [0], {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--state")
    ap.add_argument("--init", help="a JSON list of objects to start with")
    ap.add_argument("--max-page", type=int, default=0,
                    help="at most this many items a LIST page")
    ap.add_argument("--absent", default="", help="kinds not installed, comma-separated")
    a = ap.parse_args()
    st = State(a.state, set(filter(None, a.absent.split(","))))
    if a.init and not st.objects:
        with open(a.init) as f:
            for o in json.load(f):
                st.apply(o)
    Handler.st, Handler.token, Handler.max_page = st, a.token, a.max_page
    srv = ThreadingHTTPServer((a.listen, a.port), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("kube-mock: listening on %s:%d" % (a.listen, a.port), file=sys.stderr, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
