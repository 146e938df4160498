/* HTTP/1.1 heads: accumulation across split callbacks, the 60 KiB limit, framing rules. */
#include "config.h"

#include "cu.h"
#include "../../src/gw/gw-h1.h"

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

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "framing rules", test_framing },
		{ "60 KiB and field count limits", test_limit },
		{ "configured head limit", test_limit_configured },
		{ "x-forwarded-for trusted hops", test_xff },
		{ NULL, NULL },
	};

	return cu_run("gw_h1", tests);
}
