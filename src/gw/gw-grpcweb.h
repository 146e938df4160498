/*
 * gRPC-Web (gw_grpcweb.c), as Envoy's grpc_web filter, which istiod puts
 * only on GRPC-Web server ports: application/grpc-web(+proto) goes upstream
 * as application/grpc, -text bodies base64-decoded; the answer goes back as
 * grpc-web, its trailers as a last frame (flag 0x80) in the body. The
 * codecs are pure.
 */
#ifndef VIPGATE_GW_GRPCWEB_H
#define VIPGATE_GW_GRPCWEB_H

#include <stddef.h>
#include <stdint.h>

#include "gw-grpcweb-t.h"

struct hhead;
struct vg_buf;

/* What a request's content-type says: GW_GRPCWEB_*. */
int gw_grpcweb_kind(const char *ct, size_t len);

/* Decodes a piece (whitespace skipped) into out (room: len / 4 * 3 + 3); -1: not base64. */
long gw_b64_decode(struct gw_b64 *, const char *in, size_t len, uint8_t *out);
/* Encodes a piece into out (room: (len + 2) / 3 * 4 + 4); final: pads what is left. */
size_t gw_b64_encode(struct gw_b64 *, const uint8_t *in, size_t len, char *out, int final);
/* The trailers frame: 0x80, a 4-byte length, "name:value\r\n" lower-cased. */
void gw_grpcweb_trailers(const struct hhead *, struct vg_buf *out);

#endif
