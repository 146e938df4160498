#!/usr/bin/python3
# gRPC calls through the gateway (grpc-server.py behind it): argv: target
# authority what [arg]; prints one line of results.
import sys
import grpc

target, authority, what = sys.argv[1], sys.argv[2], sys.argv[3]
arg = sys.argv[4] if len(sys.argv) > 4 else ''
ch = grpc.insecure_channel(target, options=[('grpc.default_authority', authority),
                                            ('grpc.max_receive_message_length', 8 << 20)])
m = lambda n: '/echo.Echo/' + n
try:
    if what == 'unary':
        print(ch.unary_unary(m('Unary'))(arg.encode(), timeout=5).decode())
    elif what == 'big':
        r = ch.unary_unary(m('Unary'))(b'x' * int(arg), timeout=10)
        print(len(r))
    elif what == 'server-stream':
        print(' '.join(r.decode() for r in ch.unary_stream(m('ServerStream'))(arg.encode(), timeout=5)))
    elif what == 'client-stream':
        print(ch.stream_unary(m('ClientStream'))(iter([b'a', b'b', b'c']), timeout=5).decode())
    elif what == 'bidi':
        print(' '.join(r.decode() for r in ch.stream_stream(m('Bidi'))(iter([b'x', b'y']), timeout=5)))
    elif what == 'fail':
        ch.unary_unary(m('Fail'))(arg.encode(), timeout=5)
        print('OK')
    elif what == 'deadline':
        ch.unary_unary(m('Slow'))(b'3', timeout=float(arg))
        print('OK')
    elif what == 'who':
        print(ch.unary_unary(m('Who'))(b'', timeout=5).decode())
    elif what == 'flaky':
        # arg: method, N calls; prints how many succeeded
        meth, n = arg.split(',')
        ok = 0
        for _ in range(int(n)):
            try:
                ch.unary_unary(m(meth))(b'', timeout=5)
                ok += 1
            except grpc.RpcError:
                pass
        print(ok)
    elif what == 'concurrent':
        # N Slow calls of S seconds at once on the one channel
        import time
        n, secs = arg.split(',')
        t0 = time.time()
        fs = [ch.unary_unary(m('Slow')).future(secs.encode(), timeout=15)
              for _ in range(int(n))]
        ok = sum(1 for f in fs if f.exception() is None)
        print('ok=%d elapsed=%.1f' % (ok, time.time() - t0))
    elif what == 'split':
        # the backends' names over N unary calls
        from collections import Counter
        c = Counter(ch.unary_unary(m('Unary'))(b'', timeout=5).decode().split(':')[0]
                    for _ in range(int(arg)))
        print(' '.join('%s=%d' % kv for kv in sorted(c.items())))
except grpc.RpcError as e:
    print(e.code().name, e.details())
