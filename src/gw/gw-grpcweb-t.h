/* gRPC-Web's types (gw_grpcweb.c). */
#ifndef VIPGATE_GW_GRPCWEB_T_H
#define VIPGATE_GW_GRPCWEB_T_H

#include <stddef.h>
#include <stdint.h>

enum { GW_GRPCWEB_NONE, GW_GRPCWEB_BINARY, GW_GRPCWEB_TEXT };

/* Base64 across pieces: what is left of the last piece. */
struct gw_b64 {
	uint8_t		 c[4];
	size_t		 n;
};
#endif
