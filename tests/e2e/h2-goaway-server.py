#!/usr/bin/env python3
# An HTTP/2 upstream that refuses every request: it answers the first
# HEADERS with GOAWAY (last stream id 0, NO_ERROR) and closes, so the
# gateway must retry the unprocessed stream elsewhere. argv: address port.
import socket, struct, sys, threading

def frame(t, f, sid, p=b''):
    return struct.pack('>I', len(p))[1:] + bytes([t, f]) + struct.pack('>I', sid) + p

def serve(c):
    c.settimeout(10)
    buf = b''
    try:
        c.sendall(frame(4, 0, 0))
        while True:
            d = c.recv(65536)
            if not d:
                return
            buf += d
            if buf.startswith(b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'):
                buf = buf[24:]
            while len(buf) >= 9:
                l = int.from_bytes(buf[:3], 'big')
                if len(buf) < 9 + l:
                    break
                t, f = buf[3], buf[4]
                buf = buf[9 + l:]
                if t == 4 and not f & 1:
                    c.sendall(frame(4, 1, 0))
                if t == 1:
                    c.sendall(frame(7, 0, 0, struct.pack('>II', 0, 0)))
                    c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        c.close()

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
print('serving', flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
