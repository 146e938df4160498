#!/usr/bin/python3
# A gRPC server for the gateway tests, with Debian's grpcio and no
# generated code (raw bytes): argv: address:port name [cert key ca] (with
# them: TLS requiring a client certificate, as a sidecar). Methods of
# /echo.Echo/: Unary (answers "<name>:<request>"), ServerStream (three
# answers), ClientStream (the requests joined), Bidi (each request echoed),
# Fail (aborts with the status named in the request), Slow (answers after
# the seconds in the request), Flaky and FlakyNoRetry (UNAVAILABLE on the
# server named "a"), Who (the client certificate's identities).
import sys, time
from concurrent import futures
import grpc

addr, name = sys.argv[1], sys.argv[2].encode()

def unary(req, ctx):
    if req.startswith(b'log:'):
        # a call the test looks for (a mirrored copy): said in the log
        print('unary', req.decode(errors='replace'), flush=True)
    return name + b':' + req

def server_stream(req, ctx):
    for i in range(3):
        yield name + b':' + req + b':' + str(i).encode()

def client_stream(it, ctx):
    return name + b':' + b'+'.join(it)

def bidi(it, ctx):
    for r in it:
        yield name + b':' + r

def fail(req, ctx):
    ctx.abort(getattr(grpc.StatusCode, req.decode()), 'failed on purpose')

def flaky(req, ctx):
    # the server named "a" is unavailable, the others answer
    if name == b'a':
        ctx.abort(grpc.StatusCode.UNAVAILABLE, 'a is down')
    return name + b':' + req

def who(req, ctx):
    return b','.join(ctx.peer_identities() or [b'none'])

def slow(req, ctx):
    time.sleep(float(req.decode()))
    return name + b':slow'

h = grpc.method_handlers_generic_handler('echo.Echo', {
    'Unary': grpc.unary_unary_rpc_method_handler(unary),
    'ServerStream': grpc.unary_stream_rpc_method_handler(server_stream),
    'ClientStream': grpc.stream_unary_rpc_method_handler(client_stream),
    'Bidi': grpc.stream_stream_rpc_method_handler(bidi),
    'Fail': grpc.unary_unary_rpc_method_handler(fail),
    'Slow': grpc.unary_unary_rpc_method_handler(slow),
    'Flaky': grpc.unary_unary_rpc_method_handler(flaky),
    'Who': grpc.unary_unary_rpc_method_handler(who),
    'FlakyNoRetry': grpc.unary_unary_rpc_method_handler(flaky),
})
s = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=[('grpc.max_receive_message_length', 8 << 20)])
s.add_generic_rpc_handlers((h,))
if len(sys.argv) > 5:
    rd = lambda p: open(p, 'rb').read()
    creds = grpc.ssl_server_credentials([(rd(sys.argv[4]), rd(sys.argv[3]))],
                                        root_certificates=rd(sys.argv[5]), require_client_auth=True)
    s.add_secure_port(addr, creds)
else:
    s.add_insecure_port(addr)
s.start()
print('serving', addr, flush=True)
s.wait_for_termination(timeout=600)
