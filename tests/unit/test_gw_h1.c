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

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "framing rules", test_framing },
		{ "60 KiB and field count limits", test_limit },
		{ NULL, NULL },
	};

	return cu_run("gw_h1", tests);
}
