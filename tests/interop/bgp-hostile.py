#!/usr/bin/env python3
"""A hostile BGP peer: listens where vipgated dials, sends malformed
messages, and checks the NOTIFICATION (code, subcode, data) that comes back.
Usage: bgp-hostile.py LISTEN_ADDR MY_AS PEER_AS. Prints ok/FAIL lines;
exit status 0 when every case passed."""
import socket, struct, sys, time

addr, my_as, peer_as = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
MARK = b"\xff" * 16


def msg(t, body=b""):
    return MARK + struct.pack(">HB", 19 + len(body), t) + body


def open_body(version=4, asn=None, hold=9, rid=0x0a630002, caps=None):
    asn = my_as if asn is None else asn
    if caps is None:
        caps = bytes([1, 4, 0, 1, 0, 1, 65, 4]) + struct.pack(">I", asn)
    opt = bytes([2, len(caps)]) + caps
    return struct.pack(">BHHIB", version, asn if asn < 65536 else 23456, hold, rid, len(opt)) + opt


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def recv_msg(s):
    h = recv_exact(s, 19)
    ln, t = struct.unpack(">HB", h[16:19])
    return t, recv_exact(s, ln - 19)


ATTRS = bytes([0x40, 1, 1, 0, 0x40, 2, 6, 2, 1]) + struct.pack(">I", my_as) + bytes([0x40, 3, 4, 10, 99, 0, 2])


def update(attrs, nlri=b"", wd=b""):
    return msg(2, struct.pack(">H", len(wd)) + wd + struct.pack(">H", len(attrs)) + attrs + nlri)


# name, phase ("open": instead of our OPEN; "est": once Established), bytes, expected (code, sub, data) or None
CASES = [
    ("OPEN version 3 -> 2/1 data 0004", "open", msg(1, open_body(version=3)), (2, 1, b"\x00\x04")),
    ("OPEN wrong peer AS -> 2/2 data = AS", "open", msg(1, open_body(asn=65111, caps=bytes([65, 4, 0, 0, 0xfe, 0x57]))), (2, 2, b"\xfe\x57")),
    ("OPEN hold time 2 -> 2/6", "open", msg(1, open_body(hold=2)), (2, 6, b"")),
    ("OPEN BGP identifier 0 -> 2/3", "open", msg(1, open_body(rid=0)), (2, 3, b"")),
    ("OPEN unsupported optional parameter -> 2/4", "open",
     msg(1, struct.pack(">BHHIB", 4, my_as, 9, 0x0a630002, 4) + bytes([1, 2, 0, 0])), (2, 4, b"")),
    ("bad marker -> 1/1", "est", b"\x00" * 16 + struct.pack(">HB", 19, 4), (1, 1, b"")),
    ("length 5000 -> 1/2 data 1388", "est", MARK + struct.pack(">HB", 5000, 2), (1, 2, b"\x13\x88")),
    ("type 9 -> 1/3 data 09", "est", msg(9), (1, 3, b"\x09")),
    ("KEEPALIVE of 20 octets -> 1/2 data 0014", "est", MARK + struct.pack(">HB", 20, 4) + b"\x00", (1, 2, b"\x00\x14")),
    ("UPDATE attribute length overrun -> 3/1", "est",
     msg(2, struct.pack(">HH", 0, 40) + ATTRS), (3, 1, b"")),
    ("UPDATE unrecognized well-known attribute -> 3/2 data = attribute", "est",
     update(ATTRS + bytes([0x40, 99, 1, 7]), bytes([32, 192, 0, 2, 200])), (3, 2, bytes([0x40, 99, 1, 7]))),
    ("UPDATE NLRI prefix length 33 -> 3/10", "est", update(ATTRS, bytes([33, 1, 2, 3, 4, 5])), (3, 10, b"")),
    ("UPDATE MP_REACH twice -> 3/1", "est",
     update(ATTRS + (bytes([0x80, 14, 21, 0, 2, 1, 16]) + bytes.fromhex("20010db8" + "00" * 11 + "01") + b"\x00") * 2),
     (3, 1, b"")),
    ("OPEN in Established -> 5/3", "est", msg(1, open_body()), (5, 3, b"")),
    ("ROUTE-REFRESH of 5 octets -> 7/1 with the message", "est",
     msg(5, b"\x00\x01\x00\x01\x00"), (7, 1, msg(5, b"\x00\x01\x00\x01\x00"))),
    ("UPDATE bad ORIGIN: treat-as-withdraw, no NOTIFICATION", "est",
     update(bytes([0x40, 1, 1, 9]) + ATTRS[4:], bytes([32, 192, 0, 2, 201])), None),
]

srv = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr, 179))
srv.listen(4)
srv.settimeout(15)
fails = 0
for name, phase, data, want in CASES:
    try:
        s, _ = srv.accept()
        s.settimeout(5)
        t, _ = recv_msg(s)
        assert t == 1, "first message is not an OPEN"
        if phase == "open":
            s.sendall(data)
        else:
            s.sendall(msg(1, open_body()) + msg(4))
            # their KEEPALIVE, then Established once ours arrives: wait for End-of-RIB
            while True:
                t, b = recv_msg(s)
                if t == 2 and b == b"\x00\x00\x00\x00":
                    break
                assert t != 3, "NOTIFICATION before Established: %r" % b
            s.sendall(data)
        if want is None:
            # the session must stay: a KEEPALIVE exchange later, no NOTIFICATION
            s.sendall(msg(4))
            s.settimeout(1.5)
            try:
                t, b = recv_msg(s)
                ok = t != 3
                got = "message type %d" % t
            except socket.timeout:
                ok, got = True, "nothing (session kept)"
            s.sendall(msg(3, bytes([6, 2])))  # close it politely for the next case
        else:
            while True:
                t, b = recv_msg(s)
                if t == 3:
                    break
            got = (b[0], b[1], b[2:])
            ok = got == want
        s.close()
    except Exception as e:  # noqa: BLE001
        ok, got = False, "error: %s" % e
    print(("ok: " if ok else "FAIL: ") + name + ("" if ok else "  (got %r)" % (got,)), flush=True)
    fails += not ok
sys.exit(1 if fails else 0)
