/* The PROXY protocol header a TCP upstream gets (gw_proxyproto.c): pure. */
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

#endif
