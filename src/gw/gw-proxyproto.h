/*
 * The PROXY protocol (gw_proxyproto.c), pure: the header a TCP upstream
 * gets, and the reader of the one a client's proxy sends to a listener.
 */
#ifndef VIPGATE_GW_PROXYPROTO_H
#define VIPGATE_GW_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "vipgate/ipaddr.h"

/* Room for either version's header with IPv6 addresses. */
#define GW_PROXY_HDR_MAX	108

/*
 * gw_proxy_hdr - the PROXY protocol header (haproxy's proxy-protocol.txt)
 * for a connection from src:sport to dst:dport
 * @version: 1 (text) or 2 (binary, command PROXY over TCP)
 * @buf: at least GW_PROXY_HDR_MAX bytes
 *
 * Returns its length. Addresses of different families, or none, give
 * "PROXY UNKNOWN" (v1) or the LOCAL command (v2), as the text says.
 */
size_t gw_proxy_hdr(int version, const struct ipaddr *src, uint16_t sport,
    const struct ipaddr *dst, uint16_t dport, uint8_t *buf);

/*
 * Reading a header (gateway.proxy_protocol, Envoy's proxy_protocol listener
 * filter). Version 1 is one line of at most 107 bytes with its CRLF;
 * version 2 a 16-byte head and up to GW_PP_V2_MAX in all with its
 * addresses and TLVs (a longer one is refused, as a bound on what a
 * connection may make the gateway hold before it is known).
 */
#define GW_PP_V1_MAX	107
#define GW_PP_V2_MAX	2048
#define GW_PP_MAX	GW_PP_V2_MAX

struct gw_pp_info {
	int		version;	/* 1 or 2 */
	int		local;		/* no addresses (v1 UNKNOWN, v2 LOCAL or a family
					 * other than TCP): the connection's own count */
	struct ipaddr	src, dst;
	uint16_t	sport, dport;
};

/*
 * gw_pp_parse - read the header at the start of buf, the bytes a
 * connection has sent so far (a caller that gets them in pieces calls
 * again with all it has: the result is the same however they were split)
 *
 * Returns the header's length (the connection's own bytes follow it), 0
 * when it is not whole yet, or -1 when buf cannot start a valid header:
 * that is told as soon as a byte shows it, and at the latest when
 * GW_PP_MAX bytes are not a header.
 */
int gw_pp_parse(const uint8_t *buf, size_t len, struct gw_pp_info *);

#endif
