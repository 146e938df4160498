/*
 * When a busy gateway worker yields its CPU (gw-yield.h): a check at most
 * once every yield_after, a yield only when the thread has not slept since
 * the previous check and spent less than half the period in TLS
 * handshakes, never when yield_after is 0.
 */
#include "config.h"

#include "cu.h"
#include "../../src/gw/gw-yield.h"

static void
t_check_due(void)
{
	struct gw_yield y = { 0, -1, 0 };

	/* 0 turns it off, whatever the time */
	CU_ASSERT_FALSE(gw_yield_check_due(&y, 5000000, 0));
	CU_ASSERT_TRUE(gw_yield_check_due(&y, 1000, 1000));
	CU_ASSERT_FALSE(gw_yield_check_due(&y, 999, 1000));
	y.mark_us = 7000;
	CU_ASSERT_FALSE(gw_yield_check_due(&y, 7999, 1000));
	CU_ASSERT_TRUE(gw_yield_check_due(&y, 8000, 1000));
	CU_ASSERT_TRUE(gw_yield_check_due(&y, 8000, 1));
}

static void
t_yield_only_without_sleep(void)
{
	struct gw_yield y = { 0, -1, 0 };

	/* the first check only learns the count */
	CU_ASSERT_FALSE(gw_yield_check(&y, 1000, 40, 0));
	CU_ASSERT_EQUAL(y.mark_us, 1000);
	CU_ASSERT_EQUAL(y.nvcsw, 40);
	/* slept since: no yield, a new period */
	CU_ASSERT_FALSE(gw_yield_check(&y, 2000, 41, 0));
	CU_ASSERT_EQUAL(y.mark_us, 2000);
	/* ran the whole period without sleeping: yield */
	CU_ASSERT_TRUE(gw_yield_check(&y, 3000, 41, 0));
	CU_ASSERT_EQUAL(y.mark_us, 3000);
	/* and again while it keeps running */
	CU_ASSERT_TRUE(gw_yield_check(&y, 4000, 41, 0));
	/* getrusage failing (-1) after a good count: no yield */
	CU_ASSERT_FALSE(gw_yield_check(&y, 5000, -1, 0));
	CU_ASSERT_FALSE(gw_yield_check(&y, 6000, -1, 0));
}

static void
t_no_yield_through_handshakes(void)
{
	struct gw_yield y = { 0, -1, 0 };

	CU_ASSERT_FALSE(gw_yield_check(&y, 1000, 7, 100));
	/* no sleep, but 600 of the 1000 us in handshakes: no yield */
	CU_ASSERT_FALSE(gw_yield_check(&y, 2000, 7, 700));
	CU_ASSERT_EQUAL(y.hs_us, 700);
	/* exactly half: still no yield */
	CU_ASSERT_FALSE(gw_yield_check(&y, 3000, 7, 1200));
	/* a few handshakes among requests (200 of 1000 us): yield */
	CU_ASSERT_TRUE(gw_yield_check(&y, 4000, 7, 1400));
	/* a period of plain requests: yield */
	CU_ASSERT_TRUE(gw_yield_check(&y, 5000, 7, 1400));
	/* a longer period (the check came late) counts its whole length */
	CU_ASSERT_TRUE(gw_yield_check(&y, 7000, 7, 2300));
	/* slept, few handshakes: no yield */
	CU_ASSERT_FALSE(gw_yield_check(&y, 8000, 8, 2300));
}

static void
t_worker_pattern(void)
{
	struct gw_yield y = { 0, -1, 0 };
	int64_t t;
	long nv = 0;
	int yields = 0, checks = 0;

	/* 10 ms of rounds 100 us apart that never sleep, yield_after 1 ms:
	 * a check every 1 ms from 1 ms on, a yield at each but the first */
	for (t = 0; t <= 10000; t += 100)
		if (gw_yield_check_due(&y, t, 1000)) {
			checks++;
			yields += gw_yield_check(&y, t, nv, 0);
		}
	CU_ASSERT_EQUAL(checks, 10);
	CU_ASSERT_EQUAL(yields, 9);
	/* then 10 ms of rounds that each end in a sleep: no yield */
	yields = 0;
	for (t = 10100; t <= 20000; t += 100) {
		nv++;
		if (gw_yield_check_due(&y, t, 1000))
			yields += gw_yield_check(&y, t, nv, 0);
	}
	CU_ASSERT_EQUAL(yields, 0);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "a check at most every yield_after; 0 is off", t_check_due },
		{ "a yield only without a sleep since the last check", t_yield_only_without_sleep },
		{ "no yield through TLS handshakes, a few do not stop it", t_no_yield_through_handshakes },
		{ "busy then sleeping worker", t_worker_pattern },
		{ NULL, NULL },
	};

	return cu_run("gw_yield", tests);
}
