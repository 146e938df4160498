/*
 * gRPC-Web's codecs (src/gw/gw_grpcweb.c): the content types, base64 in
 * pieces both ways (every split of a message), the trailers frame.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cu.h"
#include "../../src/gw/gw-grpcweb.h"
#include "../../src/gw/gw-hdr.h"
#include "vipgate/util.h"

static void
t_kind(void)
{
#define K(s) gw_grpcweb_kind(s, strlen(s))
	CU_ASSERT_EQUAL(K("application/grpc-web"), GW_GRPCWEB_BINARY);
	CU_ASSERT_EQUAL(K("application/grpc-web+proto"), GW_GRPCWEB_BINARY);
	CU_ASSERT_EQUAL(K("Application/GRPC-Web+json"), GW_GRPCWEB_BINARY);
	CU_ASSERT_EQUAL(K("application/grpc-web-text"), GW_GRPCWEB_TEXT);
	CU_ASSERT_EQUAL(K("application/grpc-web-text+proto"), GW_GRPCWEB_TEXT);
	CU_ASSERT_EQUAL(K("application/grpc-web-textile"), GW_GRPCWEB_NONE);
	CU_ASSERT_EQUAL(K("application/grpc-webx"), GW_GRPCWEB_NONE);
	CU_ASSERT_EQUAL(K("application/grpc"), GW_GRPCWEB_NONE);
	CU_ASSERT_EQUAL(K("text/plain"), GW_GRPCWEB_NONE);
	CU_ASSERT_EQUAL(gw_grpcweb_kind(NULL, 0), GW_GRPCWEB_NONE);
#undef K
}

/* Encodes msg in pieces of every size, decodes the text in pieces of every size. */
static void
t_b64_pieces(void)
{
	static const char *const msgs[] = { "", "a", "ab", "abc", "abcd", "\x00\x01\x02\xff\xfe",
	    "gRPC-Web text mode, a longer message" };
	size_t m;

	for (m = 0; m < sizeof(msgs) / sizeof(msgs[0]); m++) {
		const uint8_t *in = (const uint8_t *)msgs[m];
		size_t len = m == 5 ? 5 : strlen(msgs[m]), piece;

		for (piece = 1; piece <= len + 1; piece++) {
			struct gw_b64 e = { { 0 }, 0 }, d = { { 0 }, 0 };
			char txt[256];
			uint8_t out[256];
			size_t tl = 0, i, ol = 0;
			int ok = 1;

			for (i = 0; i < len; i += piece)
				tl += gw_b64_encode(&e, in + i, len - i < piece ? len - i : piece, txt + tl, 0);
			tl += gw_b64_encode(&e, NULL, 0, txt + tl, 1);
			CU_ASSERT_EQUAL(tl % 4, 0);
			for (i = 0; i < tl; i += piece) {
				long n = gw_b64_decode(&d, txt + i, tl - i < piece ? tl - i : piece, out + ol);

				if (n < 0)
					ok = 0;
				else
					ol += (size_t)n;
			}
			CU_ASSERT(ok);
			CU_ASSERT_EQUAL(ol, len);
			CU_ASSERT(memcmp(out, in, len) == 0);
		}
	}
}

static void
t_b64_known(void)
{
	struct gw_b64 d = { { 0 }, 0 }, e = { { 0 }, 0 };
	uint8_t out[32];
	char txt[32];
	long n;

	n = gw_b64_decode(&d, "aGVsbG8=\r\nd29ybGQ=", 18, out);	/* two padded pieces */
	CU_ASSERT_EQUAL(n, 10);
	CU_ASSERT(memcmp(out, "helloworld", 10) == 0);
	memset(&d, 0, sizeof(d));
	CU_ASSERT_EQUAL(gw_b64_decode(&d, "aG*s", 4, out), -1);
	memset(&d, 0, sizeof(d));
	CU_ASSERT_EQUAL(gw_b64_decode(&d, "a===", 4, out), -1);
	memset(&d, 0, sizeof(d));
	CU_ASSERT_EQUAL(gw_b64_decode(&d, "ab=c", 4, out), -1);
	CU_ASSERT_EQUAL(gw_b64_encode(&e, (const uint8_t *)"hello", 5, txt, 1), 8);
	CU_ASSERT(memcmp(txt, "aGVsbG8=", 8) == 0);
}

static void
t_trailers(void)
{
	struct hhead hh;
	struct vg_buf b = { 0 };

	memset(&hh, 0, sizeof(hh));
	hh_reset(&hh);
	CU_ASSERT_EQUAL(hh_field(&hh, "Grpc-Status", 11), 0);
	CU_ASSERT_EQUAL(hh_value(&hh, "0", 1), 0);
	CU_ASSERT_EQUAL(hh_field(&hh, "grpc-message", 12), 0);
	CU_ASSERT_EQUAL(hh_value(&hh, "ok", 2), 0);
	gw_grpcweb_trailers(&hh, &b);
	CU_ASSERT_EQUAL(b.len, 5 + 32);
	CU_ASSERT_EQUAL((uint8_t)b.s[0], 0x80);
	CU_ASSERT_EQUAL((uint8_t)b.s[4], 32);
	CU_ASSERT(memcmp(b.s + 5, "grpc-status:0\r\ngrpc-message:ok\r\n", 32) == 0);
	buf_free(&b);
	hh_free(&hh);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "content types", t_kind },
		{ "base64 in pieces both ways", t_b64_pieces },
		{ "base64: known text, bad text", t_b64_known },
		{ "trailers frame", t_trailers },
		{ NULL, NULL },
	};

	return cu_run("gw_grpcweb", tests);
}
