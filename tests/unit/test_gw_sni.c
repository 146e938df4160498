/*
 * The ClientHello SNI reader (src/gw/gw_sni.c) on hellos OpenSSL's client
 * writes, fed whole, a byte at a time, re-cut into 1-byte records, and
 * broken in the ways a hostile client would break them.
 */
#include "config.h"

#include <openssl/ssl.h>

#include "cu.h"
#include "../../src/gw/gw-sni.h"

/* A real ClientHello (sni NULL: none; alpn: wire-format list or NULL); malloc'd. */
static uint8_t *
hello_alpn(const char *sni, const char *alpn, size_t alpn_len, size_t *len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *s = SSL_new(ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	char *p;
	uint8_t *out;
	long n;

	SSL_set_bio(s, rb, wb);
	if (sni)
		SSL_set_tlsext_host_name(s, sni);
	if (alpn)
		SSL_set_alpn_protos(s, (const unsigned char *)alpn, (unsigned)alpn_len);
	SSL_set_connect_state(s);
	(void)SSL_do_handshake(s);
	n = BIO_get_mem_data(wb, &p);
	out = malloc((size_t)n);
	memcpy(out, p, (size_t)n);
	*len = (size_t)n;
	SSL_free(s);
	SSL_CTX_free(ctx);
	return out;
}

static uint8_t *
hello(const char *sni, size_t *len)
{
	return hello_alpn(sni, NULL, 0, len);
}

static enum gw_sni_res
parse_all(const uint8_t *b, size_t len, char *name)
{
	struct gw_sni_rd rd;

	gw_sni_init(&rd);
	return gw_sni_parse(&rd, b, len, name);
}

static void
t_whole(void)
{
	size_t len;
	uint8_t *h = hello("Api.Example.COM", &len);
	char name[256];

	CU_ASSERT_EQUAL(parse_all(h, len, name), GW_SNI_FOUND);
	CU_ASSERT_STRING_EQUAL(name, "api.example.com");	/* lower-cased */
	free(h);
	h = hello(NULL, &len);
	CU_ASSERT_EQUAL(parse_all(h, len, name), GW_SNI_NONE);
	free(h);
}

/* Every prefix is "more", then the whole is the name: one byte a read. */
static void
t_byte_by_byte(void)
{
	size_t len, i;
	uint8_t *h = hello("one.test", &len);
	struct gw_sni_rd rd;
	char name[256];
	int more = 1;

	gw_sni_init(&rd);
	for (i = 0; i < len - 1; i++)
		if (gw_sni_parse(&rd, h, i, name) != GW_SNI_MORE)
			more = 0;
	CU_ASSERT_TRUE(more);
	CU_ASSERT_EQUAL(gw_sni_parse(&rd, h, len, name), GW_SNI_FOUND);
	CU_ASSERT_STRING_EQUAL(name, "one.test");
	free(h);
}

/* The hello's handshake bytes cut into records of n bytes each. */
static uint8_t *
recut(const uint8_t *h, size_t len, size_t n, size_t *outlen)
{
	size_t body = len - 5, i, o = 0;
	uint8_t *out = malloc(body / n * (5 + n) + 5 + n);

	for (i = 0; i < body; i += n) {
		size_t k = body - i < n ? body - i : n;

		out[o++] = 22;
		out[o++] = 3;
		out[o++] = 1;
		out[o++] = (uint8_t)(k >> 8);
		out[o++] = (uint8_t)k;
		memcpy(out + o, h + 5 + i, k);
		o += k;
	}
	*outlen = o;
	return out;
}

static void
t_records_split(void)
{
	size_t len, rlen, i;
	uint8_t *h = hello("two.test", &len);
	uint8_t *r = recut(h, len, 1, &rlen);
	struct gw_sni_rd rd;
	char name[256];
	int more = 1;

	CU_ASSERT_EQUAL(parse_all(r, rlen, name), GW_SNI_FOUND);
	CU_ASSERT_STRING_EQUAL(name, "two.test");
	/* and each of those 1-byte records in 1-byte reads */
	gw_sni_init(&rd);
	for (i = 0; i < rlen - 1; i++)
		if (gw_sni_parse(&rd, r, i, name) != GW_SNI_MORE)
			more = 0;
	CU_ASSERT_TRUE(more);
	CU_ASSERT_EQUAL(gw_sni_parse(&rd, r, rlen, name), GW_SNI_FOUND);
	CU_ASSERT(rd.off == rlen);
	free(r);
	r = recut(h, len, 100, &rlen);
	CU_ASSERT_EQUAL(parse_all(r, rlen, name), GW_SNI_FOUND);
	free(r);
	free(h);
}

static void
t_not_tls(void)
{
	static const uint8_t get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t ssl2[] = { 0x80, 0x2e, 0x01, 0x00, 0x02 };
	static const uint8_t alert[] = { 21, 3, 3, 0, 2, 2, 40 };
	char name[256];

	CU_ASSERT_EQUAL(parse_all(get, 1, name), GW_SNI_ERROR);	/* at once */
	CU_ASSERT_EQUAL(parse_all(get, sizeof(get) - 1, name), GW_SNI_ERROR);
	CU_ASSERT_EQUAL(parse_all(ssl2, sizeof(ssl2), name), GW_SNI_ERROR);
	CU_ASSERT_EQUAL(parse_all(alert, sizeof(alert), name), GW_SNI_ERROR);
	CU_ASSERT_EQUAL(parse_all(get, 0, name), GW_SNI_MORE);
}

static void
t_hostile(void)
{
	size_t len, i;
	uint8_t *h = hello("abc.test", &len), *c;
	char name[256];
	/* a hello that says it is larger than the bound */
	static const uint8_t big[] = { 22, 3, 1, 0, 4, 1, 0x01, 0x00, 0x00 };
	/* a record over the TLS bound */
	static const uint8_t rec[] = { 22, 3, 1, 0x48, 0x01, 1 };
	/* a ServerHello where the hello should be */
	static const uint8_t sh[] = { 22, 3, 3, 0, 4, 2, 0, 0, 40 };
	struct gw_sni_rd rd;

	CU_ASSERT_EQUAL(parse_all(big, sizeof(big), name), GW_SNI_ERROR);
	CU_ASSERT_EQUAL(parse_all(rec, sizeof(rec), name), GW_SNI_ERROR);
	CU_ASSERT_EQUAL(parse_all(sh, sizeof(sh), name), GW_SNI_ERROR);
	/* a NUL inside the name: refused, not cut short */
	c = malloc(len);
	memcpy(c, h, len);
	for (i = 0; i + 8 <= len; i++)
		if (memcmp(c + i, "abc.test", 8) == 0)
			c[i + 3] = '\0';
	CU_ASSERT_EQUAL(parse_all(c, len, name), GW_SNI_ERROR);
	/* every truncation of the handshake length makes an inner length
	 * run past the end: an error or a verdict, never a read past len */
	for (i = 0; i < len; i++) {
		memcpy(c, h, len);
		c[i] ^= 0xff;
		(void)parse_all(c, len, name);
	}
	free(c);
	/* the largest hello there may be, in 1-byte records: a verdict within
	 * GW_SNI_MAX_INPUT (empty records are refused, so none can be longer) */
	c = calloc(1, GW_SNI_MAX_INPUT);
	memcpy(c, (const uint8_t []){ 22, 3, 1, 0, 4, 1, 0, 0x40, 0 }, 9);
	for (i = 9; i + 6 <= GW_SNI_MAX_INPUT; i += 6) {
		c[i] = 22;
		c[i + 1] = 3;
		c[i + 2] = 1;
		c[i + 3] = 0;
		c[i + 4] = 1;
	}
	gw_sni_init(&rd);
	CU_ASSERT_NOT_EQUAL(gw_sni_parse(&rd, c, i, name), GW_SNI_MORE);
	CU_ASSERT(rd.off <= GW_SNI_MAX_INPUT);
	free(c);
	free(h);
}

/* Istio's mTLS ALPNs in the hello, as AUTO_PASSTHROUGH requires one. */
static void
t_istio_alpn(void)
{
	static const struct {
		const char	*alpn;
		size_t		 len;
		int		 istio;
	} cases[] = {
		{ NULL, 0, 0 },
		{ "\x02h2\x08http/1.1", 12, 0 },
		{ "\x05istio", 6, 1 },
		{ "\x02h2\x08istio-h2", 12, 1 },
		{ "\x0eistio-http/1.1", 15, 1 },
		{ "\x13istio-peer-exchange\x05istio", 26, 1 },
		{ "\x06istiox", 7, 0 },
		{ "\x04isti", 5, 0 },
	};
	struct gw_sni_rd rd;
	char name[256];
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *h = hello_alpn("outbound_.8443_._.a.test", cases[i].alpn, cases[i].len, &len);

		gw_sni_init(&rd);
		CU_ASSERT_EQUAL(gw_sni_istio_alpn(&rd), 0);	/* no hello yet */
		CU_ASSERT_EQUAL(gw_sni_parse(&rd, h, len, name), GW_SNI_FOUND);
		CU_ASSERT_EQUAL(gw_sni_istio_alpn(&rd), cases[i].istio);
		if (gw_sni_istio_alpn(&rd) != cases[i].istio)
			fprintf(stderr, "case %zu\n", i);
		free(h);
	}
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "a whole hello: its name lower-cased; none without SNI", t_whole },
		{ "a hello a byte at a time", t_byte_by_byte },
		{ "a hello in 1-byte and 100-byte records", t_records_split },
		{ "not TLS: refused at the first byte", t_not_tls },
		{ "hostile lengths, names and endless records", t_hostile },
		{ "Istio's mTLS ALPNs offered or not", t_istio_alpn },
		{ NULL, NULL },
	};

	return cu_run("gw_sni", tests);
}
