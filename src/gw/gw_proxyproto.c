/*
 * The PROXY protocol header a DestinationRule's proxyProtocol asks for on
 * upstream TCP connections (Envoy's proxy_protocol transport socket, as
 * istiod sets it): version 1 is one text line, version 2 a 16-byte binary
 * head and the addresses (haproxy's doc/proxy-protocol.txt, 2.1 and 2.2).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "vipgate/wire.h"

#include "gw-proxyproto.h"

static const uint8_t v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

size_t
gw_proxy_hdr(int version, const struct ipaddr *src, uint16_t sport, const struct ipaddr *dst,
    uint16_t dport, uint8_t *buf)
{
	int known = src && dst && src->family && src->family == dst->family;
	struct wire_wr w;

	if (version != 2) {
		char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
		int n;

		if (!known)
			n = snprintf((char *)buf, GW_PROXY_HDR_MAX, "PROXY UNKNOWN\r\n");
		else
			n = snprintf((char *)buf, GW_PROXY_HDR_MAX, "PROXY %s %s %s %u %u\r\n",
			    src->family == AF_INET ? "TCP4" : "TCP6", ipaddr_fmt(src, a),
			    ipaddr_fmt(dst, b), sport, dport);
		return n > 0 && n < GW_PROXY_HDR_MAX ? (size_t)n : 0;
	}
	wire_wr_init(&w, buf, GW_PROXY_HDR_MAX);
	wire_put_bytes(&w, v2sig, sizeof(v2sig));
	if (!known) {
		wire_put_u8(&w, 0x20);		/* version 2, LOCAL */
		wire_put_u8(&w, 0x00);		/* UNSPEC */
		wire_put_u16(&w, 0);
		return w.len;
	}
	wire_put_u8(&w, 0x21);			/* version 2, PROXY */
	if (src->family == AF_INET) {
		wire_put_u8(&w, 0x11);		/* TCP over IPv4 */
		wire_put_u16(&w, 12);
		wire_put_bytes(&w, src->a, 4);
		wire_put_bytes(&w, dst->a, 4);
	} else {
		wire_put_u8(&w, 0x21);		/* TCP over IPv6 */
		wire_put_u16(&w, 36);
		wire_put_bytes(&w, src->a, 16);
		wire_put_bytes(&w, dst->a, 16);
	}
	wire_put_u16(&w, sport);
	wire_put_u16(&w, dport);
	return w.overflow ? 0 : w.len;
}
