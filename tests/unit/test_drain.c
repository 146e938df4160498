/* The order of a drain (drain.h). */
#include "config.h"

#include "cu.h"
#include "vipgate/drain.h"

static struct drain_in
at(enum drain_phase ph, int64_t since, int64_t now, int bgp, size_t inflight)
{
	struct drain_in in = { 0 };

	in.phase = ph;
	in.since = since;
	in.now = now;
	in.withdraw_after = 5000;
	in.timeout = 30000;
	in.bgp_routes = bgp;
	in.inflight = inflight;
	return in;
}

static void
t_leaving(void)
{
	struct drain_in in = at(DRAIN_NONE, 0, 0, 1, 3);
	struct drain_step st = drain_next(&in);

	CU_ASSERT_EQUAL(st.next, DRAIN_LEAVING);
	/* routes out there: wait for the routers, listeners open */
	in = at(DRAIN_LEAVING, 1000, 1000, 1, 3);
	st = drain_next(&in);
	CU_ASSERT_EQUAL(st.next, DRAIN_LEAVING);
	CU_ASSERT_EQUAL(st.recheck, 5000);
	in.now = 5999;
	st = drain_next(&in);
	CU_ASSERT_EQUAL(st.next, DRAIN_LEAVING);
	CU_ASSERT_EQUAL(st.recheck, 1);
	/* in flight or not, the wait ends on time */
	in.now = 6000;
	st = drain_next(&in);
	CU_ASSERT_EQUAL(st.next, DRAIN_CLOSING);
	CU_ASSERT_EQUAL(st.recheck, 0);
	in.inflight = 0;
	in.now = 7000;
	CU_ASSERT_EQUAL(drain_next(&in).next, DRAIN_CLOSING);
	/* no BGP route (L2 only, or no session up): nothing to wait for */
	in = at(DRAIN_LEAVING, 1000, 1000, 0, 3);
	CU_ASSERT_EQUAL(drain_next(&in).next, DRAIN_CLOSING);
	/* withdraw_after 0: the old order, at once */
	in = at(DRAIN_LEAVING, 1000, 1000, 1, 3);
	in.withdraw_after = 0;
	CU_ASSERT_EQUAL(drain_next(&in).next, DRAIN_CLOSING);
}

static void
t_handed_over(void)
{
	struct drain_in in = at(DRAIN_LEAVING, 1000, 1000, 0, 3);
	struct drain_step st;

	/* an upgrade: no route waits, keep-alive clients and the successor's
	 * L2 get their time */
	in.handed_over = 1;
	in.handover = 1250;
	st = drain_next(&in);
	CU_ASSERT_EQUAL(st.next, DRAIN_LEAVING);
	CU_ASSERT_EQUAL(st.recheck, 1250);
	/* withdraw_after does not count: nothing is withdrawn */
	in.bgp_routes = 1;
	in.now = 2250;
	st = drain_next(&in);
	CU_ASSERT_EQUAL(st.next, DRAIN_CLOSING);
	CU_ASSERT_EQUAL(st.recheck, 0);
	/* no client left: the wait is the same (L2 answers go on meanwhile) */
	in = at(DRAIN_LEAVING, 1000, 1100, 1, 0);
	in.handed_over = 1;
	in.handover = 1250;
	CU_ASSERT_EQUAL(drain_next(&in).next, DRAIN_LEAVING);
}

static void
t_closing(void)
{
	struct drain_in in = at(DRAIN_CLOSING, 10000, 10000, 1, 2);
	struct drain_step st = drain_next(&in);

	/* requests in flight: look again soon */
	CU_ASSERT_EQUAL(st.next, DRAIN_CLOSING);
	CU_ASSERT_EQUAL(st.recheck, DRAIN_POLL_MS);
	/* all done, but the withdraws and NOTIFICATIONs get their time */
	in.inflight = 0;
	in.now = 10050;
	st = drain_next(&in);
	CU_ASSERT_EQUAL(st.next, DRAIN_CLOSING);
	CU_ASSERT_EQUAL(st.recheck, DRAIN_FLUSH_MS - 50);
	in.now = 10000 + DRAIN_FLUSH_MS;
	CU_ASSERT_EQUAL(drain_next(&in).next, DRAIN_DONE);
	/* drain_timeout ends what is still in flight */
	in = at(DRAIN_CLOSING, 10000, 39990, 1, 7);
	st = drain_next(&in);
	CU_ASSERT_EQUAL(st.next, DRAIN_CLOSING);
	CU_ASSERT_EQUAL(st.recheck, 10);
	in.now = 40000;
	CU_ASSERT_EQUAL(drain_next(&in).next, DRAIN_DONE);
	/* done stays done */
	in = at(DRAIN_DONE, 0, 50000, 1, 0);
	st = drain_next(&in);
	CU_ASSERT_EQUAL(st.next, DRAIN_DONE);
	CU_ASSERT_EQUAL(st.recheck, -1);
	CU_ASSERT_STRING_EQUAL(drain_phase_name(DRAIN_LEAVING), "leaving");
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "leaving: routers get withdraw_after when routes are out", t_leaving },
		{ "handed over: keep-alive clients only", t_handed_over },
		{ "closing: in flight up to drain_timeout, flush time", t_closing },
		{ NULL, NULL },
	};

	return cu_run("drain", tests);
}
