#!/usr/bin/env python3
"""Manifests that stress the decoder (tests/daemon/manifest-load.sh,
tests/bench/manifest-stress.sh).

gen-stress.py anchors FILE N   one Namespace whose N labels are anchored
                               scalars and whose N annotations are aliases
                               of them, in the order they were defined
gen-stress.py unknown FILE MB  documents of an unknown kind, MB megabytes
"""
import sys


def anchors(path, n):
    with open(path, "w") as f:
        f.write("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: anchors\n")
        f.write("  labels:\n")
        for i in range(n):
            f.write("    k%d: &a%d v%d\n" % (i, i, i))
        f.write("  annotations:\n")
        for i in range(n):
            f.write("    k%d: *a%d\n" % (i, i))


def unknown(path, mb):
    limit = mb * 1000 * 1000
    size = 0
    i = 0
    with open(path, "w") as f:
        while size < limit:
            doc = ("apiVersion: example.com/v1\nkind: Widget\n"
                   "metadata: {name: w%d, namespace: default}\n---\n" % i)
            f.write(doc)
            size += len(doc)
            i += 1


if __name__ == "__main__":
    what, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"anchors": anchors, "unknown": unknown}[what](path, n)
