/* HTTP/1.1 heads: accumulation across split callbacks, the 60 KiB limit, framing rules. */
#include "config.h"

#include "cu.h"
#include "../../src/gw/gw-h1.h"
#include "../../src/gw/gw-hdr.h"
#include "../../src/gw/gw-path.h"

/* "name: value" pairs, NULL-terminated; each fed in two pieces */
static void
fill(struct hhead *hh, const char *const *kv)
{
	hh_reset(hh);
	for (; kv[0]; kv += 2) {
		size_t nl = strlen(kv[0]), vl = strlen(kv[1]);

		CU_ASSERT_EQUAL(hh_field(hh, kv[0], nl / 2), 0);
		CU_ASSERT_EQUAL(hh_field(hh, kv[0] + nl / 2, nl - nl / 2), 0);
		CU_ASSERT_EQUAL(hh_value(hh, kv[1], vl / 2), 0);
		CU_ASSERT_EQUAL(hh_value(hh, kv[1] + vl / 2, vl - vl / 2), 0);
	}
}

static void
test_framing(void)
{
	static const struct {
		const char		*kv[9];
		enum gw_h1_framing	 want;
		int			 expect;
	} cases[] = {
		{ { "Host", "a", "Content-Length", "3", NULL }, GW_H1_OK, 0 },
		{ { "Transfer-Encoding", "chunked", NULL }, GW_H1_OK, 0 },
		{ { "transfer-encoding", "CHUNKED", "Expect", "100-continue", NULL }, GW_H1_OK, 1 },
		{ { "Content-Length", "3", "Transfer-Encoding", "chunked", NULL }, GW_H1_AMBIGUOUS, 0 },
		{ { "Transfer-Encoding", "chunked", "Content-Length", "3", NULL }, GW_H1_AMBIGUOUS, 0 },
		{ { "Content-Length", "3", "content-length", "3", NULL }, GW_H1_AMBIGUOUS, 0 },
		{ { "Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked", NULL }, GW_H1_AMBIGUOUS, 0 },
		{ { "Transfer-Encoding", "gzip, chunked", NULL }, GW_H1_BAD_TE, 0 },
		{ { "Transfer-Encoding", "identity", NULL }, GW_H1_BAD_TE, 0 },
		{ { NULL }, GW_H1_OK, 0 },
	};
	struct hhead hh = { 0 };
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		int expect = -1;

		fill(&hh, cases[i].kv);
		CU_ASSERT_EQUAL(gw_h1_framing(&hh, &expect), cases[i].want);
		CU_ASSERT_EQUAL(expect, cases[i].expect);
	}
	fill(&hh, (const char *const[]){ "Connection", "close", "X-Y", "1", NULL });
	CU_ASSERT_EQUAL(hh.n, 2);
	CU_ASSERT_TRUE(hname_is(&hh, 0, "connection"));
	CU_ASSERT_TRUE(hop_by_hop(&hh, 0));
	CU_ASSERT_FALSE(hop_by_hop(&hh, 1));
	CU_ASSERT_EQUAL(hh.h[1].vl, 1);
	CU_ASSERT_EQUAL(*HV(&hh, 1), '1');
	hh_free(&hh);
}

/* heads past 60 KiB: the callback fails and overflow says why (431) */
static void
test_limit(void)
{
	struct hhead hh = { 0 };
	char big[4096];
	int i, rc = 0;

	memset(big, 'a', sizeof(big));
	hh_reset(&hh);
	for (i = 0; i < 20 && rc == 0; i++) {
		rc = hh_field(&hh, "x", 1);
		if (rc == 0)
			rc = hh_value(&hh, big, sizeof(big));
	}
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_TRUE(hh.overflow);
	CU_ASSERT(hh.b.len <= GW_MAX_HEADERS_BYTES);
	hh_reset(&hh);
	CU_ASSERT_FALSE(hh.overflow);
	for (i = 0, rc = 0; i <= GW_MAX_HEADERS && rc == 0; i++) {
		rc = hh_field(&hh, "x", 1);
		if (rc == 0)
			rc = hh_value(&hh, "1", 1);
	}
	CU_ASSERT_EQUAL(rc, -1);	/* too many fields */
	hh_free(&hh);
}

/* a smaller gateway.max_request_headers_kb */
static void
test_limit_configured(void)
{
	struct hhead hh = { 0 };
	char big[1024];

	memset(big, 'a', sizeof(big));
	hh_reset(&hh);
	hh.max = 2048;
	CU_ASSERT_EQUAL(hh_field(&hh, "x", 1), 0);
	CU_ASSERT_EQUAL(hh_value(&hh, big, sizeof(big)), 0);
	CU_ASSERT_EQUAL(hh_field(&hh, "y", 1), 0);
	CU_ASSERT_EQUAL(hh_value(&hh, big, sizeof(big)), -1);
	CU_ASSERT_TRUE(hh.overflow);
	hh_free(&hh);
}

/* Envoy's xff_num_trusted_hops: the hops-th address from the right */
static void
test_xff(void)
{
	char out[64];
	const char *x = "203.0.113.128, 203.0.113.10,203.0.113.1";

	CU_ASSERT_EQUAL(gw_xff_client(x, strlen(x), 0, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(gw_xff_client(x, strlen(x), 1, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "203.0.113.1");
	CU_ASSERT_EQUAL(gw_xff_client(x, strlen(x), 2, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "203.0.113.10");
	CU_ASSERT_EQUAL(gw_xff_client(x, strlen(x), 3, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "203.0.113.128");
	CU_ASSERT_EQUAL(gw_xff_client(x, strlen(x), 4, out, sizeof(out)), -1);	/* too short */
	x = " 2001:db8::1 ";
	CU_ASSERT_EQUAL(gw_xff_client(x, strlen(x), 1, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "2001:db8::1");
	x = "1.2.3.4, unknown";
	CU_ASSERT_EQUAL(gw_xff_client(x, strlen(x), 1, out, sizeof(out)), -1);	/* not an IP */
	CU_ASSERT_EQUAL(gw_xff_client(x, strlen(x), 2, out, sizeof(out)), 0);
	x = "1.2.3.4,,";
	CU_ASSERT_EQUAL(gw_xff_client(x, strlen(x), 1, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(gw_xff_client(x, strlen(x), 3, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "1.2.3.4");
	CU_ASSERT_EQUAL(gw_xff_client("", 0, 1, out, sizeof(out)), -1);
	CU_ASSERT_TRUE(gw_addr_internal("10.1.2.3"));
	CU_ASSERT_TRUE(gw_addr_internal("172.31.0.1"));
	CU_ASSERT_FALSE(gw_addr_internal("172.32.0.1"));
	CU_ASSERT_TRUE(gw_addr_internal("192.168.1.10"));
	CU_ASSERT_TRUE(gw_addr_internal("127.0.0.1"));
	CU_ASSERT_TRUE(gw_addr_internal("::1"));
	CU_ASSERT_TRUE(gw_addr_internal("fd00::5"));
	CU_ASSERT_TRUE(gw_addr_internal("::ffff:10.0.0.1"));
	CU_ASSERT_FALSE(gw_addr_internal("203.0.113.1"));
	CU_ASSERT_FALSE(gw_addr_internal("2001:db8::1"));
	CU_ASSERT_FALSE(gw_addr_internal("junk"));
}

/* One target through gw_target_normalize; want NULL: refused with 400. */
static void
norm_case(const char *in, enum gw_pathnorm mode, int options, const char *want,
    const char *auth)
{
	size_t len = strlen(in);
	char *out = malloc(len + 1), *inplace = strdup(in);
	struct gw_target t;
	ssize_t n = gw_target_normalize(in, len, mode, options, out, &t);

	if (want == NULL) {
		if (n != -1)
			fprintf(stderr, "%s (%s): want 400, got \"%.*s\"\n", in,
			    gw_pathnorm_name(mode), (int)n, out);
		CU_ASSERT_EQUAL(n, -1);
		CU_ASSERT_PTR_NOT_NULL(t.why);
	} else {
		if (n < 0 || (size_t)n != strlen(want) || memcmp(out, want, (size_t)n) != 0)
			fprintf(stderr, "%s (%s): want \"%s\", got \"%.*s\"\n", in,
			    gw_pathnorm_name(mode), want, n < 0 ? 0 : (int)n, out);
		CU_ASSERT_TRUE(n >= 0 && (size_t)n == strlen(want) && memcmp(out, want, (size_t)n) == 0);
		CU_ASSERT_TRUE((size_t)n <= len);
		if (auth) {
			CU_ASSERT_TRUE(t.auth && t.authlen == strlen(auth) &&
			    memcmp(t.auth, auth, t.authlen) == 0);
		} else {
			CU_ASSERT_PTR_NULL(t.auth);
		}
		/* the fast path may skip only a target that stays as it is */
		if (strcmp(in, want) != 0 || auth != NULL) {
			CU_ASSERT_TRUE(gw_target_needs_work(in, len, mode));
		}
		/* the same in place, as the proxy calls it (auth is overwritten then) */
		n = gw_target_normalize(inplace, len, mode, options, inplace, &t);
		CU_ASSERT_TRUE(n >= 0 && (size_t)n == strlen(want) && memcmp(inplace, want, (size_t)n) == 0);
	}
	free(out);
	free(inplace);
}

/*
 * The route-bypass forms (a rule on /direct must see each of them as
 * /direct), RFC 3986 5.4's dot-segment examples, and Istio's
 * normalization table per mode.
 */
static void
test_target(void)
{
	const enum gw_pathnorm B = GW_PATHNORM_BASE, M = GW_PATHNORM_MERGE_SLASHES,
	    D = GW_PATHNORM_DECODE_AND_MERGE_SLASHES, N = GW_PATHNORM_NONE;

	norm_case("/direct", B, 0, "/direct", NULL);
	norm_case("http://app.test/direct", B, 0, "/direct", "app.test");
	norm_case("HTTPS://app.test:8443/direct?x=1", B, 0, "/direct?x=1", "app.test:8443");
	norm_case("http://app.test", B, 0, "/", "app.test");
	norm_case("http://app.test?q", B, 0, "/?q", "app.test");
	norm_case("http://[::1]:80/a", B, 0, "/a", "[::1]:80");
	norm_case("/x/../direct", B, 0, "/direct", NULL);
	norm_case("/./direct", B, 0, "/direct", NULL);
	norm_case("/%64irect", B, 0, "/direct", NULL);
	norm_case("/%2e%2E/direct", B, 0, "/direct", NULL);
	norm_case("/x/%2e%2e/direct", B, 0, "/direct", NULL);
	norm_case("/%2e/direct", B, 0, "/direct", NULL);
	norm_case("//direct", B, 0, "//direct", NULL);
	norm_case("//direct", M, 0, "/direct", NULL);
	norm_case("/a//b///c", M, 0, "/a/b/c", NULL);
	norm_case("/a%2Fb", B, 0, "/a%2Fb", NULL);
	norm_case("/a%2fb", M, 0, "/a%2fb", NULL);
	norm_case("/a%2fb", D, 0, "/a/b", NULL);
	norm_case("/%2Fdirect", D, 0, "/direct", NULL);
	norm_case("/a%5Cb", B, 0, "/a%5Cb", NULL);
	norm_case("/a%5c..%5cdirect", D, 0, "/direct", NULL);
	norm_case("/a\\b", B, 0, "/a/b", NULL);
	norm_case("/x\\..\\direct", B, 0, "/direct", NULL);
	norm_case("/a\\b", N, 0, "/a\\b", NULL);
	norm_case("/x/../direct", N, 0, "/x/../direct", NULL);
	norm_case("http://app.test/x/../d", N, 0, "/x/../d", "app.test");
	/* once only: %252e is %2e, not a dot */
	norm_case("/%252e%252e/direct", B, 0, "/%252e%252e/direct", NULL);
	/* reserved characters stay escaped; bad escapes are refused where decoding */
	norm_case("/a%3Fb%20c", B, 0, "/a%3Fb%20c", NULL);
	norm_case("/a%zz", B, 0, NULL, NULL);
	norm_case("/a%4", B, 0, NULL, NULL);
	norm_case("/%%32e%%32e/direct", B, 0, NULL, NULL);
	norm_case("/a%zz%4", N, 0, "/a%zz%4", NULL);
	norm_case("/%2541", B, 0, "/%2541", NULL);
	norm_case("/%7e%41%5f%2D", B, 0, "/~A_-", NULL);
	/* the query is not the path */
	norm_case("/a?b=/../c&d=%64", B, 0, "/a?b=/../c&d=%64", NULL);
	norm_case("/a/./b/../c/?x", B, 0, "/a/c/?x", NULL);
	/* RFC 3986 5.2.4 */
	norm_case("/a/b/c/./../../g", B, 0, "/a/g", NULL);
	norm_case("/a/b/..", B, 0, "/a/", NULL);
	norm_case("/a/.", B, 0, "/a/", NULL);
	norm_case("/..", B, 0, "/", NULL);
	norm_case("/../../..", B, 0, "/", NULL);
	norm_case("/.", B, 0, "/", NULL);
	norm_case("/", B, 0, "/", NULL);
	norm_case("/a//..", B, 0, "/a/", NULL);
	norm_case("/...", B, 0, "/...", NULL);
	norm_case("/a/..b/.c", B, 0, "/a/..b/.c", NULL);
	norm_case("*", B, 1, "*", NULL);
	/* refused */
	norm_case("*", B, 0, NULL, NULL);
	norm_case("direct", B, 0, NULL, NULL);
	norm_case("", B, 0, NULL, NULL);
	norm_case("ftp://a/b", B, 0, NULL, NULL);
	norm_case("http:///b", B, 0, NULL, NULL);
	norm_case("http://user@app.test/direct", B, 0, NULL, NULL);
	norm_case("/a#frag", B, 0, NULL, NULL);
	norm_case("/a%00b", B, 0, NULL, NULL);
	norm_case("/a%00b", N, 0, NULL, NULL);
	norm_case("\\direct", B, 0, NULL, NULL);
	/* the fast path: plain targets need nothing */
	CU_ASSERT_FALSE(gw_target_needs_work("/productpage?u=../x%20", 22, B));
	CU_ASSERT_FALSE(gw_target_needs_work("/a//b", 5, B));
	CU_ASSERT_TRUE(gw_target_needs_work("/a//b", 5, M));
	CU_ASSERT_EQUAL(gw_pathnorm_parse("MERGE_SLASHES"), GW_PATHNORM_MERGE_SLASHES);
	CU_ASSERT_EQUAL(gw_pathnorm_parse("base"), -1);
}

/* One head through gw_h1_scan whole and byte by byte; 1 accepted, 0 refused. */
static int
scan_ok(const char *head)
{
	size_t len = strlen(head), i;
	const char *why = NULL;
	uint8_t st = GW_H1_SCAN_START;
	long n = gw_h1_scan(&st, head, len, &why);
	int whole = n >= 0, bytes = 1;

	if (whole) {
		CU_ASSERT_EQUAL(st, GW_H1_SCAN_DONE);
		CU_ASSERT_EQUAL((size_t)n, len);	/* each case ends with its head */
	} else {
		CU_ASSERT_PTR_NOT_NULL(why);
	}
	st = GW_H1_SCAN_START;
	for (i = 0; i < len && st != GW_H1_SCAN_DONE; i++)
		if (gw_h1_scan(&st, head + i, 1, &why) < 0) {
			bytes = 0;
			break;
		}
	CU_ASSERT_EQUAL(whole, bytes);
	return whole;
}

static void
test_scan(void)
{
	static const char *good[] = {
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\nX-Tab:\tb\tc \n\n",
		"GET / HTTP/1.0\r\n\r\n",
		"GET /\xc3\xa9 HTTP/1.1\r\nX-Obs: caf\xc3\xa9\r\nX-Empty:\r\n\r\n",
		"GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09AZaz: v\r\n\r\n",
	};
	static const char *bad[] = {
		"GET / HTTP/1.1\r\nContent-Length : 41\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length\t: 41\r\n\r\n",
		"GET / HTTP/1.1\r\nX Y: z\r\n\r\n",
		"GET / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A: b\r\n\tc\r\n\r\n",
		"GET / HTTP/1.1\r\n: v\r\n\r\n",
		"GET / HTTP/1.1\r\nX(Y): z\r\n\r\n",
		"GET / HTTP/1.1\r\nX\xc3\xa9: z\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A: b\rTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.1\rHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n\rX\r\n",
		"GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n",
		"GET /\x01 HTTP/1.1\r\n\r\n",
		"GET\t/ HTTP/1.1\r\n\r\n",
	};
	size_t i;
	uint8_t st;
	const char *why;
	const char *two = "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nxyGET";

	for (i = 0; i < VG_ARRAY_SIZE(good); i++)
		if (!scan_ok(good[i]))
			CU_FAIL(good[i]);
	for (i = 0; i < VG_ARRAY_SIZE(bad); i++)
		if (scan_ok(bad[i]))
			CU_FAIL(bad[i]);
	/* the head's end is reported: the body and what follows are not scanned */
	st = GW_H1_SCAN_START;
	CU_ASSERT_EQUAL(gw_h1_scan(&st, two, strlen(two), &why), (long)strlen(two) - 5);
	CU_ASSERT_EQUAL(st, GW_H1_SCAN_DONE);
	CU_ASSERT_EQUAL(gw_h1_scan(&st, "\x01\r", 2, &why), 0);
	/* a response's reason phrase may hold HTAB; its fields obey the same rules */
	st = GW_H1_SCAN_STATUS;
	CU_ASSERT_EQUAL(gw_h1_scan(&st, "HTTP/1.1 200 A\tB\r\nX: y\r\n\r\n", 26, &why), 26);
	st = GW_H1_SCAN_STATUS;
	CU_ASSERT_EQUAL(gw_h1_scan(&st, "HTTP/1.1 200 OK\r\nX Y: z\r\n\r\n", 29, &why), -1);
	st = GW_H1_SCAN_STATUS;
	CU_ASSERT_EQUAL(gw_h1_scan(&st, "HTTP/1.1 200 \x01\r\n\r\n", 19, &why), -1);
}

static void
test_connection(void)
{
	struct hhead hh = { 0 };
	uint8_t drop[GW_MAX_HEADERS];

	fill(&hh, (const char *const[]){ "Host", "a", "Connection", "Upgrade, HTTP2-Settings , x-secret",
	    "Upgrade", "h2c", "HTTP2-Settings", "AAMA", "X-Secret", "1", "X-Other", "2",
	    "connection", "keep-alive,X-OTHER", NULL });
	CU_ASSERT_EQUAL(gw_conn_named(&hh, drop), 2);	/* upgrade and http2-settings are hop-by-hop anyway */
	CU_ASSERT_FALSE(drop[0]);
	CU_ASSERT_FALSE(drop[3]);
	CU_ASSERT_TRUE(hop_by_hop(&hh, 3));
	CU_ASSERT_TRUE(drop[4]);
	CU_ASSERT_TRUE(drop[5]);
	CU_ASSERT_FALSE(gw_h1_websocket(&hh));
	fill(&hh, (const char *const[]){ "Upgrade", "h2c, WebSocket", "Connection", "upgrade", NULL });
	CU_ASSERT_TRUE(gw_h1_websocket(&hh));
	CU_ASSERT_EQUAL(gw_conn_named(&hh, drop), 0);
	fill(&hh, (const char *const[]){ "Upgrade", "websocketx", "Connection", ",,", NULL });
	CU_ASSERT_FALSE(gw_h1_websocket(&hh));
	CU_ASSERT_EQUAL(gw_conn_named(&hh, drop), 0);
	hh_free(&hh);
	CU_ASSERT_TRUE(gw_authority_ok("bookinfo.example.com:80", 23));
	CU_ASSERT_TRUE(gw_authority_ok("[fd00::1]:8080", 14));
	CU_ASSERT_TRUE(gw_authority_ok("a_b-c~d%41", 10));
	CU_ASSERT_FALSE(gw_authority_ok("a b", 3));
	CU_ASSERT_FALSE(gw_authority_ok("a/b", 3));
	CU_ASSERT_FALSE(gw_authority_ok("a\"b", 3));
	CU_ASSERT_FALSE(gw_authority_ok("a\0b", 3));
	CU_ASSERT_FALSE(gw_authority_ok("caf\xc3\xa9", 5));
}

/* Field, cookie and query parameter lookups (hash keys, token locations, the access log). */
static void
test_lookups(void)
{
	static const char *const kv[] = { "Host", "a.test", "Cookie", "a=1; user=bob",
	    "cookie", "user=later; x=", "X-Id", "7", NULL };
	static const char target[] = "/p?a=1&token=abc&empty=&t";
	struct hhead hh = { 0 };
	const char *v;
	size_t len = 0;

	fill(&hh, kv);
	v = gw_hdr_get(&hh, "x-id", &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_NSTRING_EQUAL(v, "7", len);
	CU_ASSERT_PTR_NULL(gw_hdr_get(&hh, "x-i", &len));
	v = gw_hdr_cookie(&hh, "user", &len);	/* the first Cookie field's */
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(len, 3);
	CU_ASSERT_NSTRING_EQUAL(v, "bob", 3);
	CU_ASSERT_PTR_NULL(gw_hdr_cookie(&hh, "use", &len));
	/* an empty value is found, with length 0 (the callers decide what it is worth) */
	CU_ASSERT_PTR_NOT_NULL(gw_hdr_cookie(&hh, "x", &len));
	CU_ASSERT_EQUAL(len, 0);
	v = gw_query_param(target, sizeof(target) - 1, "token", &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(len, 3);
	CU_ASSERT_NSTRING_EQUAL(v, "abc", 3);
	CU_ASSERT_PTR_NOT_NULL(gw_query_param(target, sizeof(target) - 1, "empty", &len));
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_PTR_NULL(gw_query_param(target, sizeof(target) - 1, "t", &len));
	CU_ASSERT_PTR_NULL(gw_query_param("/p", 2, "a", &len));
	hh_free(&hh);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "framing rules", test_framing },
		{ "60 KiB and field count limits", test_limit },
		{ "configured head limit", test_limit_configured },
		{ "x-forwarded-for trusted hops", test_xff },
		{ "request target normalization", test_target },
		{ "head line rules", test_scan },
		{ "Connection-named fields, websocket upgrades", test_connection },
		{ "field, cookie and query parameter lookups", test_lookups },
		{ NULL, NULL },
	};

	return cu_run("gw_h1", tests);
}
