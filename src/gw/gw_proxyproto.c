/*
 * The PROXY protocol (haproxy's doc/proxy-protocol.txt: version 1 is one
 * text line, 2.1; version 2 a 16-byte binary head, the addresses and TLVs,
 * 2.2). The header a DestinationRule's proxyProtocol asks for on upstream
 * connections (Envoy's proxy_protocol transport socket, as istiod sets
 * it), and the reader of the header a listener with
 * gateway.proxy_protocol takes from the client's proxy (Envoy's
 * proxy_protocol listener filter, Istio's gatewayTopology.proxyProtocol).
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

/* ---- reading ---- */

static const char v1sig[6] = { 'P', 'R', 'O', 'X', 'Y', ' ' };

/* A v1 port: 1 to 5 digits, at most 65535. */
static int
v1_port(const char *s, size_t n, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
v1_addr(const char *s, size_t n, int family, struct ipaddr *a)
{
	char b[IPADDR_STRLEN];

	if (n == 0 || n >= sizeof(b))
		return -1;
	memcpy(b, s, n);
	b[n] = '\0';
	if (ipaddr_parse(b, a) == -1 || a->family != family)
		return -1;
	return 0;
}

/* "PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\n", or "PROXY UNKNOWN...\r\n". */
static int
v1_parse(const uint8_t *buf, size_t len, struct gw_pp_info *out)
{
	const char *line = (const char *)buf, *tok[6];
	size_t toklen[6], end, i, ntok = 0, max = len < GW_PP_V1_MAX ? len : GW_PP_V1_MAX;
	int family;

	for (end = 0; end < max; end++) {
		if (buf[end] == '\n')
			return -1;		/* a bare LF */
		if (buf[end] == '\r')
			break;
		if (buf[end] < 0x20 || buf[end] > 0x7e)
			return -1;
	}
	if (end == max)
		return len >= GW_PP_V1_MAX ? -1 : 0;
	if (end + 1 >= len)
		return end + 2 > GW_PP_V1_MAX ? -1 : 0;
	if (buf[end + 1] != '\n' || end + 2 > GW_PP_V1_MAX)
		return -1;
	/* single spaces between the fields; UNKNOWN ignores what follows it */
	for (i = 0;;) {
		size_t j = i;

		while (j < end && line[j] != ' ')
			j++;
		if (ntok == 6)
			return -1;	/* more fields than TCP4/TCP6 have */
		tok[ntok] = line + i;
		toklen[ntok++] = j - i;
		if (ntok == 2 && toklen[1] == 7 && memcmp(tok[1], "UNKNOWN", 7) == 0)
			break;
		if (j == end)
			break;
		i = j + 1;
	}
	memset(out, 0, sizeof(*out));
	out->version = 1;
	if (ntok < 2)
		return -1;
	if (toklen[1] == 7 && memcmp(tok[1], "UNKNOWN", 7) == 0) {
		out->local = 1;
		return (int)end + 2;
	}
	if (toklen[1] == 4 && memcmp(tok[1], "TCP4", 4) == 0)
		family = AF_INET;
	else if (toklen[1] == 4 && memcmp(tok[1], "TCP6", 4) == 0)
		family = AF_INET6;
	else
		return -1;
	if (ntok != 6 || v1_addr(tok[2], toklen[2], family, &out->src) == -1 ||
	    v1_addr(tok[3], toklen[3], family, &out->dst) == -1 ||
	    v1_port(tok[4], toklen[4], &out->sport) == -1 ||
	    v1_port(tok[5], toklen[5], &out->dport) == -1)
		return -1;
	return (int)end + 2;
}

static int
v2_parse(const uint8_t *buf, size_t len, struct gw_pp_info *out)
{
	struct wire_rd r, tlv;
	uint8_t vc, fam;
	size_t total;
	uint16_t n;

	if (len < 16)
		return 0;
	wire_rd_init(&r, buf, len);
	wire_skip(&r, sizeof(v2sig));
	vc = wire_get_u8(&r);
	fam = wire_get_u8(&r);
	n = wire_get_u16(&r);
	if ((vc >> 4) != 2 || (vc & 0x0f) > 1 || (fam >> 4) > 3 || (fam & 0x0f) > 2)
		return -1;
	total = 16 + (size_t)n;
	if (total > GW_PP_V2_MAX)
		return -1;
	if (len < total)
		return 0;
	memset(out, 0, sizeof(*out));
	out->version = 2;
	if ((vc & 0x0f) == 0 || (fam != 0x11 && fam != 0x21)) {
		/* LOCAL (a health check of the proxy itself), or addresses that
		 * are not TCP's: the connection's own are the client's (2.2) */
		out->local = 1;
		return (int)total;
	}
	wire_get_sub(&r, n, &tlv);
	if (fam == 0x11) {
		out->src.family = out->dst.family = AF_INET;
		wire_get_bytes(&tlv, out->src.a, 4);
		wire_get_bytes(&tlv, out->dst.a, 4);
	} else {
		out->src.family = out->dst.family = AF_INET6;
		wire_get_bytes(&tlv, out->src.a, 16);
		wire_get_bytes(&tlv, out->dst.a, 16);
	}
	out->sport = wire_get_u16(&tlv);
	out->dport = wire_get_u16(&tlv);
	if (tlv.err)
		return -1;		/* shorter than its addresses */
	/* the TLVs after them must fill the rest exactly (2.2.7) */
	while (wire_left(&tlv) > 0) {
		(void)wire_get_u8(&tlv);
		wire_skip(&tlv, wire_get_u16(&tlv));
		if (tlv.err)
			return -1;
	}
	return (int)total;
}

int
gw_pp_parse(const uint8_t *buf, size_t len, struct gw_pp_info *out)
{
	size_t k;

	if (len == 0)
		return 0;
	if (buf[0] == v1sig[0]) {
		k = len < sizeof(v1sig) ? len : sizeof(v1sig);
		if (memcmp(buf, v1sig, k) != 0)
			return -1;
		return len < sizeof(v1sig) ? 0 : v1_parse(buf, len, out);
	}
	k = len < sizeof(v2sig) ? len : sizeof(v2sig);
	if (memcmp(buf, v2sig, k) != 0)
		return -1;
	return v2_parse(buf, len, out);
}
