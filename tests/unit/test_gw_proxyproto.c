/*
 * The PROXY protocol reader (src/gw/gw_proxyproto.c): headers as HAProxy
 * sends them and as the gateway's own writer makes them, whole and a byte
 * at a time, and the ways a peer can get them wrong.
 */
#include "config.h"

#include <sys/socket.h>

#include "cu.h"
#include "../../src/gw/gw-proxyproto.h"

static const uint8_t sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* Fed one byte more at a time: 0 up to the last, then the whole verdict. */
static int
parse_split(const uint8_t *b, size_t len, struct gw_pp_info *pi)
{
	size_t n;
	int r = 0;

	for (n = 0; n <= len; n++) {
		r = gw_pp_parse(b, n, pi);
		if (r != 0)
			return n == len || r == -1 ? r : -2;
	}
	return r;
}

static void
t_v1(void)
{
	static const char *h = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n";
	static const char *h6 = "PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n";
	struct gw_pp_info pi;
	char a[IPADDR_STRLEN];
	size_t hl = strlen("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n");

	CU_ASSERT_EQUAL(gw_pp_parse((const uint8_t *)h, strlen(h), &pi), (int)hl);
	CU_ASSERT_EQUAL(pi.version, 1);
	CU_ASSERT_EQUAL(pi.local, 0);
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&pi.src, a), "192.0.2.10");
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&pi.dst, a), "198.51.100.1");
	CU_ASSERT_EQUAL(pi.sport, 56324);
	CU_ASSERT_EQUAL(pi.dport, 443);
	CU_ASSERT_EQUAL(parse_split((const uint8_t *)h, hl, &pi), (int)hl);
	CU_ASSERT_EQUAL(pi.sport, 56324);

	CU_ASSERT_EQUAL(parse_split((const uint8_t *)h6, strlen(h6), &pi), (int)strlen(h6));
	CU_ASSERT_EQUAL(pi.src.family, AF_INET6);
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&pi.dst, a), "2001:db8::2");
	CU_ASSERT_EQUAL(pi.dport, 65535);

	CU_ASSERT_EQUAL(gw_pp_parse((const uint8_t *)"PROXY UNKNOWN\r\n", 15, &pi), 15);
	CU_ASSERT_EQUAL(pi.local, 1);
	/* UNKNOWN: what follows it on the line is ignored */
	h = "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n";
	CU_ASSERT_EQUAL(gw_pp_parse((const uint8_t *)h, strlen(h), &pi), (int)strlen(h));
	CU_ASSERT_EQUAL(pi.local, 1);
}

static void
t_v1_bad(void)
{
	static const char *bad[] = {
		"GET / HTTP/1.1\r\n",
		"PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\n",	/* bare LF */
		"PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\rx",
		"PROXY TCP4 192.0.2.10  198.51.100.1 56324 443\r\n",	/* two spaces */
		"PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n",		/* family */
		"PROXY TCP6 192.0.2.1 2001:db8::1 1 2\r\n",
		"PROXY TCP4 192.0.2.10 198.51.100.1 65536 443\r\n",	/* port */
		"PROXY TCP4 192.0.2.10 198.51.100.1 -1 443\r\n",
		"PROXY TCP4 192.0.2.10 198.51.100.1 1 443 7\r\n",	/* a field more */
		"PROXY TCP4 192.0.2.10 198.51.100.1 1\r\n",		/* one less */
		"PROXY UDP4 192.0.2.10 198.51.100.1 1 2\r\n",
		"PROXY \r\n",
		"PROXY TCP4 192.0.2.10 198.51.100.1 1 2\x01\r\n",
		"proxy TCP4 192.0.2.10 198.51.100.1 1 2\r\n",
		"PROXYTCP4\r\n",
	};
	struct gw_pp_info pi;
	uint8_t longline[200];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = gw_pp_parse((const uint8_t *)bad[i], strlen(bad[i]), &pi);

		if (r != -1)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CU_ASSERT_EQUAL(r, -1);
		CU_ASSERT_EQUAL(parse_split((const uint8_t *)bad[i], strlen(bad[i]), &pi), -1);
	}
	/* refused at the first byte that is not a header's */
	CU_ASSERT_EQUAL(gw_pp_parse((const uint8_t *)"G", 1, &pi), -1);
	CU_ASSERT_EQUAL(gw_pp_parse((const uint8_t *)"PROX", 4, &pi), 0);
	CU_ASSERT_EQUAL(gw_pp_parse((const uint8_t *)"PROXZ", 5, &pi), -1);
	/* no CRLF within 107 bytes: refused there, not later */
	memcpy(longline, "PROXY UNKNOWN ", 14);
	memset(longline + 14, 'a', sizeof(longline) - 14);
	CU_ASSERT_EQUAL(gw_pp_parse(longline, GW_PP_V1_MAX - 1, &pi), 0);
	CU_ASSERT_EQUAL(gw_pp_parse(longline, GW_PP_V1_MAX, &pi), -1);
	CU_ASSERT_EQUAL(gw_pp_parse(longline, sizeof(longline), &pi), -1);
	/* a line of exactly 107 bytes with its CRLF is one; 108 is not */
	longline[GW_PP_V1_MAX - 2] = '\r';
	longline[GW_PP_V1_MAX - 1] = '\n';
	CU_ASSERT_EQUAL(parse_split(longline, GW_PP_V1_MAX, &pi), GW_PP_V1_MAX);
	longline[GW_PP_V1_MAX - 2] = 'a';
	longline[GW_PP_V1_MAX - 1] = '\r';
	longline[GW_PP_V1_MAX] = '\n';
	CU_ASSERT_EQUAL(gw_pp_parse(longline, GW_PP_V1_MAX + 1, &pi), -1);
	CU_ASSERT_EQUAL(gw_pp_parse(longline, GW_PP_V1_MAX, &pi), -1);
}

/* The writer's headers read back the same, both versions and families. */
static void
t_roundtrip(void)
{
	struct ipaddr s4, d4, s6, d6;
	uint8_t b[GW_PP_MAX];
	struct gw_pp_info pi;
	int v;

	ipaddr_parse("10.1.2.3", &s4);
	ipaddr_parse("10.9.8.7", &d4);
	ipaddr_parse("fd00::1:2", &s6);
	ipaddr_parse("fd00::9", &d6);
	for (v = 1; v <= 2; v++) {
		size_t n = gw_proxy_hdr(v, &s4, 40000, &d4, 8443, b);

		CU_ASSERT_EQUAL(parse_split(b, n, &pi), (int)n);
		CU_ASSERT_EQUAL(pi.version, v);
		CU_ASSERT_EQUAL(pi.local, 0);
		CU_ASSERT(ipaddr_eq(&pi.src, &s4));
		CU_ASSERT(ipaddr_eq(&pi.dst, &d4));
		CU_ASSERT_EQUAL(pi.sport, 40000);
		CU_ASSERT_EQUAL(pi.dport, 8443);
		n = gw_proxy_hdr(v, &s6, 1, &d6, 2, b);
		CU_ASSERT_EQUAL(parse_split(b, n, &pi), (int)n);
		CU_ASSERT(ipaddr_eq(&pi.src, &s6));
		CU_ASSERT(ipaddr_eq(&pi.dst, &d6));
		/* mixed families: UNKNOWN / LOCAL */
		n = gw_proxy_hdr(v, &s4, 1, &d6, 2, b);
		CU_ASSERT_EQUAL(parse_split(b, n, &pi), (int)n);
		CU_ASSERT_EQUAL(pi.local, 1);
	}
}

static size_t
v2(uint8_t *b, uint8_t vc, uint8_t fam, const uint8_t *body, uint16_t n)
{
	memcpy(b, sig, 12);
	b[12] = vc;
	b[13] = fam;
	b[14] = (uint8_t)(n >> 8);
	b[15] = (uint8_t)n;
	memcpy(b + 16, body, n);
	return 16 + (size_t)n;
}

static void
t_v2(void)
{
	/* addresses, ports, then an ALPN TLV (type 0x01) and a NOOP (0x04) */
	static const uint8_t body[] = {
		192, 0, 2, 10, 198, 51, 100, 1, 0xdc, 0x04, 0x01, 0xbb,
		0x01, 0x00, 0x02, 'h', '2', 0x04, 0x00, 0x00,
	};
	uint8_t b[GW_PP_MAX + 64];
	struct gw_pp_info pi;
	char a[IPADDR_STRLEN];
	size_t n;

	n = v2(b, 0x21, 0x11, body, sizeof(body));
	memcpy(b + n, "GET", 3);
	CU_ASSERT_EQUAL(gw_pp_parse(b, n + 3, &pi), (int)n);
	CU_ASSERT_EQUAL(pi.version, 2);
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&pi.src, a), "192.0.2.10");
	CU_ASSERT_EQUAL(pi.sport, 56324);
	CU_ASSERT_EQUAL(pi.dport, 443);
	CU_ASSERT_EQUAL(parse_split(b, n, &pi), (int)n);
	/* a TLV that runs past the end */
	n = v2(b, 0x21, 0x11, body, sizeof(body) - 1);
	CU_ASSERT_EQUAL(gw_pp_parse(b, n, &pi), -1);
	/* shorter than its addresses */
	n = v2(b, 0x21, 0x11, body, 11);
	CU_ASSERT_EQUAL(gw_pp_parse(b, n, &pi), -1);
	n = v2(b, 0x21, 0x21, body, sizeof(body));
	CU_ASSERT_EQUAL(gw_pp_parse(b, n, &pi), -1);
	/* LOCAL: the addresses are ignored, whatever they are */
	n = v2(b, 0x20, 0x11, body, 3);
	CU_ASSERT_EQUAL(parse_split(b, n, &pi), (int)n);
	CU_ASSERT_EQUAL(pi.local, 1);
	/* UNSPEC and UDP and unix: as LOCAL */
	n = v2(b, 0x21, 0x00, body, 0);
	CU_ASSERT_EQUAL(gw_pp_parse(b, n, &pi), (int)n);
	CU_ASSERT_EQUAL(pi.local, 1);
	n = v2(b, 0x21, 0x12, body, 12);
	CU_ASSERT_EQUAL(gw_pp_parse(b, n, &pi), (int)n);
	CU_ASSERT_EQUAL(pi.local, 1);
	/* version 1 in the binary head, commands and families unknown */
	n = v2(b, 0x11, 0x11, body, 12);
	CU_ASSERT_EQUAL(gw_pp_parse(b, n, &pi), -1);
	n = v2(b, 0x22, 0x11, body, 12);
	CU_ASSERT_EQUAL(gw_pp_parse(b, n, &pi), -1);
	n = v2(b, 0x21, 0x41, body, 12);
	CU_ASSERT_EQUAL(gw_pp_parse(b, n, &pi), -1);
	n = v2(b, 0x21, 0x13, body, 12);
	CU_ASSERT_EQUAL(gw_pp_parse(b, n, &pi), -1);
	/* a wrong signature byte, told at that byte */
	memcpy(b, sig, 12);
	b[5] = 0;
	CU_ASSERT_EQUAL(gw_pp_parse(b, 5, &pi), 0);
	CU_ASSERT_EQUAL(gw_pp_parse(b, 6, &pi), -1);
	/* the length bound: refused from the head, before the bytes come */
	memcpy(b, sig, 12);
	b[12] = 0x21;
	b[13] = 0x11;
	b[14] = (uint8_t)((GW_PP_V2_MAX - 15) >> 8);
	b[15] = (uint8_t)(GW_PP_V2_MAX - 15);
	CU_ASSERT_EQUAL(gw_pp_parse(b, 16, &pi), -1);
	b[14] = 0xff;
	b[15] = 0xff;
	CU_ASSERT_EQUAL(gw_pp_parse(b, 16, &pi), -1);
	/* the largest one taken: addresses and a TLV to GW_PP_V2_MAX */
	memset(b + 16, 0, GW_PP_V2_MAX - 16);
	memcpy(b + 16, body, 12);
	b[28] = 0x04;
	b[29] = (uint8_t)((GW_PP_V2_MAX - 16 - 12 - 3) >> 8);
	b[30] = (uint8_t)(GW_PP_V2_MAX - 16 - 12 - 3);
	b[14] = (uint8_t)((GW_PP_V2_MAX - 16) >> 8);
	b[15] = (uint8_t)(GW_PP_V2_MAX - 16);
	CU_ASSERT_EQUAL(gw_pp_parse(b, GW_PP_V2_MAX - 1, &pi), 0);
	CU_ASSERT_EQUAL(gw_pp_parse(b, GW_PP_V2_MAX, &pi), GW_PP_V2_MAX);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "v1 TCP4, TCP6 and UNKNOWN, whole and a byte at a time", t_v1 },
		{ "v1 malformed, and the 107-byte bound", t_v1_bad },
		{ "the writer's headers read back", t_roundtrip },
		{ "v2 addresses, TLVs, LOCAL, bounds and bad heads", t_v2 },
		{ NULL, NULL },
	};

	return cu_run("gw_proxyproto", tests);
}
