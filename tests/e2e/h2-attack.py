#!/usr/bin/env python3
# HTTP/2 attacks on the gateway, one connection each (argv: host port attack):
# prints what the connection ended with. Every wait is bounded.
import socket, struct, sys, time

def frame(t, f, sid, p=b''):
    return struct.pack('>I', len(p))[1:] + bytes([t, f]) + struct.pack('>I', sid) + p

def lit(n, v, index=False):
    # literal field; with index: "with incremental indexing", new name
    h = b'\x40' if index else b'\x00'
    def s(x):
        if len(x) < 127:
            return bytes([len(x)]) + x
        n, out = len(x) - 127, bytearray([127])
        while n >= 128:
            out.append((n & 127) | 128); n >>= 7
        out.append(n)
        return bytes(out) + x
    return h + s(n) + s(v)

def req(path, extra=b'', authority=b'x.test'):
    return (lit(b':method', b'GET') + lit(b':scheme', b'http') + lit(b':path', path) +
            lit(b':authority', authority) + extra)

PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'

def conn(host, port):
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(PREFACE + frame(4, 0, 0))
    return s

# what a read left after its last whole frame, by socket: the next read of
# the same connection goes on from there (a frame split across two reads)
_rest = {}

def read_frames(s, until, limit=8.0):
    """Frames until until(frames) or EOF/timeout; returns (frames, how)."""
    buf, frames, end = _rest.pop(s.fileno(), b''), [], time.time() + limit
    s.settimeout(0.5)
    while time.time() < end:
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return frames, 'reset'
        if not d:
            return frames, 'eof'
        buf += d
        while len(buf) >= 9:
            l = int.from_bytes(buf[:3], 'big')
            if len(buf) < 9 + l:
                break
            frames.append((buf[3], buf[4], int.from_bytes(buf[5:9], 'big') & 0x7fffffff, buf[9:9 + l]))
            buf = buf[9 + l:]
        if until(frames):
            _rest[s.fileno()] = buf
            return frames, 'done'
    return frames, 'timeout'

def goaway(frames):
    for t, f, sid, p in frames:
        if t == 7:
            return int.from_bytes(p[4:8], 'big')
    return None

def send_all(s, data):
    try:
        s.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        return False

def rapid_reset(h, p):
    s = conn(h, p)
    out = b''
    for i in range(3000):
        sid = 2 * i + 1
        out += frame(1, 5, sid, req(b'/rr')) + frame(3, 0, sid, struct.pack('>I', 8))
    send_all(s, out)
    fr, how = read_frames(s, lambda fr: goaway(fr) is not None)
    return 'goaway %s' % goaway(fr) if goaway(fr) is not None else how

def continuation_flood(h, p):
    s = conn(h, p)
    out = frame(1, 0, 1, req(b'/cf'))      # HEADERS without END_HEADERS
    for i in range(200):
        out += frame(9, 0, 1, lit(b'x-c%d' % i, b'v'))
    send_all(s, out)
    fr, how = read_frames(s, lambda fr: goaway(fr) is not None)
    return 'goaway %s' % goaway(fr) if goaway(fr) is not None else how

def ping_flood(h, p):
    # PINGs without reading the acks: the queue of acks is bounded
    s = conn(h, p)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    pings = frame(6, 0, 0, b'12345678') * 1000
    sent = 0
    end = time.time() + 10
    while time.time() < end and send_all(s, pings):
        sent += 1000
    # closed by the gateway: sending failed, or reading ends
    fr, how = read_frames(s, lambda fr: False, limit=6)
    return 'closed' if how in ('eof', 'reset') or sent < 10000000 else 'open %d' % sent

def settings_flood(h, p):
    s = conn(h, p)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    st = frame(4, 0, 0, struct.pack('>HI', 3, 100)) * 1000
    sent = 0
    end = time.time() + 10
    while time.time() < end and send_all(s, st):
        sent += 1000
    fr, how = read_frames(s, lambda fr: False, limit=6)
    return 'closed' if how in ('eof', 'reset') or sent < 10000000 else 'open %d' % sent

def hpack_bomb(h, p):
    # one 4000-byte field indexed, then one stream referring to it 16000 times
    s = conn(h, p)
    first = req(b'/seed', lit(b'x-big', b'a' * 4000, index=True))
    bomb = req(b'/bomb') + b'\xbe' * 16000     # index 62: the newest dynamic entry
    send_all(s, frame(1, 5, 1, first) + frame(1, 5, 3, bomb) + frame(1, 5, 5, req(b'/after')))
    fr, how = read_frames(s, lambda fr: len([1 for t, f, sid, _ in fr if t == 1 and sid == 5]) > 0
                          or goaway(fr) is not None)
    st3 = 'none'
    for t, f, sid, pl in fr:
        if sid == 3 and t == 3:
            st3 = 'rst'
        if sid == 3 and t == 1 and st3 == 'none':
            st3 = 'headers'
    ok5 = any(t == 1 and sid == 5 for t, f, sid, _ in fr)
    return 'bomb %s next %s' % (st3, 'answered' if ok5 else 'not answered')

def too_many_streams(h, p):
    # more streams than SETTINGS_MAX_CONCURRENT_STREAMS, each waiting for its body
    s = conn(h, p)
    read_frames(s, lambda fr: any(t == 4 and (f & 1) == 0 for t, f, _, _ in fr), limit=3)
    send_all(s, frame(4, 1, 0))                # ack the server's SETTINGS
    time.sleep(0.2)
    out = b''.join(frame(1, 4, 2 * i + 1, req(b'/slow')) for i in range(1100))
    send_all(s, out)
    fr, how = read_frames(s, lambda fr: any(t == 3 and int.from_bytes(pl[:4], 'big') == 7
                                             for t, f, sid, pl in fr))
    refused = sum(1 for t, f, sid, pl in fr if t == 3 and int.from_bytes(pl[:4], 'big') == 7)
    # nghttp2 (Envoy's codec too) makes going past the acknowledged limit a
    # connection error, PROTOCOL_ERROR; RFC 9113 5.1.2 allows either
    if refused:
        return 'refused'
    return 'goaway %s' % goaway(fr) if goaway(fr) is not None else 'open (%s)' % how

def zero_window(h, p):
    # a window of 0: the answer can never go; the connection is closed in time
    s = socket.create_connection((h, p), timeout=5)
    s.sendall(PREFACE + frame(4, 0, 0, struct.pack('>HI', 4, 0)) + frame(1, 5, 1, req(b'/big.bin')))
    t0 = time.time()
    fr, how = read_frames(s, lambda fr: False, limit=float(sys.argv[4]) if len(sys.argv) > 4 else 10)
    return '%s after %.0f s' % ('closed' if how in ('eof', 'reset') else how, time.time() - t0)

def drain(h, p):
    # not an attack: a request in flight when vipgated is told to stop
    # (argv[4]: its pid, argv[5]: the path); GOAWAY comes, the answer too
    import os, signal
    s = conn(h, p)
    s.sendall(frame(1, 5, 1, req(sys.argv[5].encode(), authority=b'grpc.test')))
    time.sleep(0.3)
    os.kill(int(sys.argv[4]), signal.SIGTERM)
    fr, how = read_frames(s, lambda fr: any(t == 0 and f & 1 and sid == 1 for t, f, sid, _ in fr)
                          and goaway(fr) is not None)
    status = 'answered' if any(t == 0 and f & 1 and sid == 1 for t, f, sid, _ in fr) else 'not answered'
    return 'goaway %s %s' % (goaway(fr), status)

def port_gone(h, p):
    # not an attack: an idle connection on a port a reload removes
    # (argv[4]: a file made once the first answer came); GOAWAY follows
    s = conn(h, p)
    s.sendall(frame(1, 5, 1, req(b'/before')))
    fr, how = read_frames(s, lambda fr: any(t == 0 and f & 1 and sid == 1 for t, f, sid, _ in fr))
    open(sys.argv[4], 'w').close()
    fr, how = read_frames(s, lambda fr: goaway(fr) is not None, limit=15)
    return 'goaway %s' % goaway(fr) if goaway(fr) is not None else how

def held_stream(h, p):
    # a big answer the client never reads (its stream window stays shut)
    # must not hold a small one asked next on the same connection; argv[4]:
    # the authority, argv[5] the big path, argv[6] the small one
    s = conn(h, p)
    auth = sys.argv[4].encode()
    s.sendall(frame(8, 0, 0, struct.pack('>I', 1 << 30)) +     # connection window: open
              frame(1, 5, 1, req(sys.argv[5].encode(), authority=auth)))
    fr, how = read_frames(s, lambda fr: any(t == 0 and sid == 1 for t, f, sid, q in fr), 5)
    if how != 'done':
        return 'big: ' + how
    time.sleep(1)                   # the gateway and the upstream fill what they may
    s.sendall(frame(1, 5, 3, req(sys.argv[6].encode(), authority=auth)))
    t0 = time.time()
    fr, how = read_frames(s, lambda fr: any(sid == 3 and f & 1 for t, f, sid, q in fr), 5)
    return 'small answered' if how == 'done' and time.time() - t0 < 3 else 'small: ' + how

print(globals()[sys.argv[3].replace('-', '_')](sys.argv[1], int(sys.argv[2])))
