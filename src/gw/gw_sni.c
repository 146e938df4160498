/*
 * A TLS ClientHello's server_name, read from the bytes as they arrive
 * (RFC 8446 5.1 records, 4.1.2 ClientHello; RFC 6066 3 server_name), for
 * PASSTHROUGH servers: the gateway routes on it and forwards the bytes
 * untouched, as Envoy's tls_inspector and sni filter chain match do.
 *
 * The hello may come in several handshake records (RFC 8446 5.1 lets a
 * message span records) and each record in many reads: the fragments are
 * joined into a bounded buffer first, then read through the wire cursor.
 */
#include "config.h"

#include <string.h>

#include "vipgate/wire.h"

#include "gw-sni.h"

#define TLS_REC_HANDSHAKE	22
#define TLS_HS_CLIENT_HELLO	1
#define TLS_EXT_SERVER_NAME	0
#define TLS_EXT_ALPN		16
#define TLS_SNI_HOST_NAME	0
#define TLS_MAX_RECORD		(16384 + 2048)	/* RFC 8446 5.2 TLSCiphertext bound */

/* The host_name of a server_name extension's body; 0 when none is there. */
static enum gw_sni_res
server_name(struct wire_rd *ext, char name[256])
{
	struct wire_rd list;
	uint16_t n = wire_get_u16(ext);

	wire_get_sub(ext, n, &list);
	if (ext->err || wire_left(ext) != 0)
		return GW_SNI_ERROR;
	while (wire_left(&list) > 0) {
		uint8_t type = wire_get_u8(&list);
		uint16_t l = wire_get_u16(&list);
		const uint8_t *p = wire_get_ptr(&list, l);
		size_t i;

		if (list.err || p == NULL)
			return GW_SNI_ERROR;
		if (type != TLS_SNI_HOST_NAME)
			continue;
		/* RFC 6066 3: a DNS name, no trailing dot; bytes outside printable
		 * ASCII (a NUL above all) are refused as BoringSSL refuses them */
		if (l == 0 || l > 255)
			return GW_SNI_ERROR;
		for (i = 0; i < l; i++) {
			uint8_t c = p[i];

			if (c <= 0x20 || c >= 0x7f)
				return GW_SNI_ERROR;
			name[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		name[l] = '\0';
		return GW_SNI_FOUND;
	}
	return GW_SNI_NONE;
}

static enum gw_sni_res
client_hello(const uint8_t *msg, size_t len, char name[256])
{
	struct wire_rd r, exts;
	uint16_t n;

	wire_rd_init(&r, msg, len);
	wire_skip(&r, 2 + 32);			/* legacy_version, random */
	wire_skip(&r, wire_get_u8(&r));		/* legacy_session_id */
	wire_skip(&r, wire_get_u16(&r));	/* cipher_suites */
	wire_skip(&r, wire_get_u8(&r));		/* legacy_compression_methods */
	if (r.err)
		return GW_SNI_ERROR;
	if (wire_left(&r) == 0)
		return GW_SNI_NONE;		/* no extensions at all (TLS 1.0 style) */
	n = wire_get_u16(&r);
	wire_get_sub(&r, n, &exts);
	if (r.err)
		return GW_SNI_ERROR;
	while (wire_left(&exts) > 0) {
		uint16_t type = wire_get_u16(&exts);
		uint16_t l = wire_get_u16(&exts);
		struct wire_rd body;

		wire_get_sub(&exts, l, &body);
		if (exts.err)
			return GW_SNI_ERROR;
		if (type == TLS_EXT_SERVER_NAME)
			return server_name(&body, name);
	}
	return GW_SNI_NONE;
}

/* Whether an ALPN extension's body (RFC 7301 3.1) names one of Istio's. */
static int
alpn_istio(struct wire_rd *ext)
{
	static const char *istio[] = { "istio", "istio-peer-exchange", "istio-http/1.0",
	    "istio-http/1.1", "istio-h2" };
	struct wire_rd list;
	uint16_t n = wire_get_u16(ext);
	size_t i;

	wire_get_sub(ext, n, &list);
	if (ext->err)
		return 0;
	while (wire_left(&list) > 0) {
		uint8_t l = wire_get_u8(&list);
		const uint8_t *p = wire_get_ptr(&list, l);

		if (list.err || p == NULL)
			return 0;
		for (i = 0; i < sizeof(istio) / sizeof(istio[0]); i++)
			if (strlen(istio[i]) == l && memcmp(istio[i], p, l) == 0)
				return 1;
	}
	return 0;
}

int
gw_sni_istio_alpn(const struct gw_sni_rd *rd)
{
	struct wire_rd r, exts;
	uint16_t n;

	if (rd->need < 4 || rd->have < rd->need)
		return 0;	/* no whole hello */
	wire_rd_init(&r, rd->msg + 4, rd->need - 4);
	wire_skip(&r, 2 + 32);
	wire_skip(&r, wire_get_u8(&r));
	wire_skip(&r, wire_get_u16(&r));
	wire_skip(&r, wire_get_u8(&r));
	if (r.err || wire_left(&r) == 0)
		return 0;
	n = wire_get_u16(&r);
	wire_get_sub(&r, n, &exts);
	while (!r.err && !exts.err && wire_left(&exts) > 0) {
		uint16_t type = wire_get_u16(&exts);
		uint16_t l = wire_get_u16(&exts);
		struct wire_rd body;

		wire_get_sub(&exts, l, &body);
		if (exts.err)
			return 0;
		if (type == TLS_EXT_ALPN)
			return alpn_istio(&body);
	}
	return 0;
}

void
gw_sni_init(struct gw_sni_rd *rd)
{
	rd->off = rd->have = rd->need = 0;
	rd->want = 5;
}

enum gw_sni_res
gw_sni_parse(struct gw_sni_rd *rd, const uint8_t *buf, size_t len, char name[256])
{
	struct wire_rd r;

	if (len < rd->off)
		return GW_SNI_ERROR;	/* not the stream it was called with */
	/* the first bytes must look like a handshake record from the start */
	if ((len >= 1 && buf[0] != TLS_REC_HANDSHAKE) || (len >= 2 && buf[1] != 3))
		return GW_SNI_ERROR;
	wire_rd_init(&r, buf + rd->off, len - rd->off);
	for (;;) {
		uint8_t type;
		uint16_t ver, rlen;
		const uint8_t *frag;
		size_t take;

		if (wire_left(&r) < 5) {
			rd->want = rd->off + 5;
			break;
		}
		type = wire_get_u8(&r);
		ver = wire_get_u16(&r);
		rlen = wire_get_u16(&r);
		/* a handshake record of TLS 1.0 to 1.3 (SSL 3.0's 0x0300 is
		 * refused, and so is SSLv2's hello, whose first byte is not 22) */
		if (type != TLS_REC_HANDSHAKE || (ver >> 8) != 3 || (ver & 0xff) == 0 ||
		    rlen == 0 || rlen > TLS_MAX_RECORD)
			return GW_SNI_ERROR;
		if (wire_left(&r) < rlen) {
			rd->want = rd->off + 5 + rlen;
			break;
		}
		frag = wire_get_ptr(&r, rlen);
		rd->off += 5 + (size_t)rlen;
		/* only the hello's own bytes are kept (need <= sizeof(msg)) */
		take = sizeof(rd->msg) - rd->have;
		if (take > rlen)
			take = rlen;
		memcpy(rd->msg + rd->have, frag, take);
		rd->have += take;
		if (rd->have >= 4 && rd->need == 0) {
			const uint8_t *m = rd->msg;
			size_t mlen = (size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3];

			/* 38: version, random and the three length bytes */
			if (m[0] != TLS_HS_CLIENT_HELLO || mlen > GW_SNI_MAX_HELLO || mlen < 38)
				return GW_SNI_ERROR;
			rd->need = 4 + mlen;
		}
		if (rd->need && rd->have >= rd->need)
			return client_hello(rd->msg + 4, rd->need - 4, name);
		if (rd->off >= GW_SNI_MAX_INPUT)
			return GW_SNI_ERROR;
	}
	return GW_SNI_MORE;
}
