#!/usr/bin/python3
# gRPC unary calls through the gateway with Debian's grpcio (no generated
# code: raw bytes in and out). argv: target authority method...; prints the
# gRPC status name of each call, then the details of the last.
import sys
import grpc

target, authority = sys.argv[1], sys.argv[2]
details = ''
with grpc.insecure_channel(target, options=[('grpc.default_authority', authority)]) as ch:
    for m in sys.argv[3:]:
        try:
            ch.unary_unary(m)(b'\x0a\x03abc', timeout=5)
            print('OK', end=' ')
        except grpc.RpcError as e:
            print(e.code().name, end=' ')
            details = e.details()
print('|', details)
