/* The order of a drain (drain.h): pure. */
#include "config.h"

#include "vipgate/drain.h"

static int64_t
left(int64_t since, int64_t len, int64_t now)
{
	int64_t l = since + len - now;

	return l > 0 ? l : 0;
}

struct drain_step
drain_next(const struct drain_in *in)
{
	struct drain_step st = { in->phase, -1 };
	int64_t l;

	switch (in->phase) {
	case DRAIN_NONE:
		/* a signal came: the caller asks only then */
		st.next = DRAIN_LEAVING;
		st.recheck = 0;
		break;
	case DRAIN_LEAVING:
		/*
		 * RFC 8326 section 4: the routers need time to pick the other
		 * paths before the withdraw, else traffic in flight meets no
		 * route. Without a BGP route out there, nothing waits: L2
		 * handed over with its leave message already.
		 */
		if (in->handed_over)
			l = left(in->since, in->handover, in->now);
		else
			l = in->bgp_routes ? left(in->since, in->withdraw_after, in->now) : 0;
		if (l == 0) {
			st.next = DRAIN_CLOSING;
			st.recheck = 0;
		} else
			st.recheck = l;
		break;
	case DRAIN_CLOSING:
		l = left(in->since, in->timeout, in->now);
		if (l == 0 || (in->inflight == 0 &&
		    in->now - in->since >= DRAIN_FLUSH_MS)) {
			st.next = DRAIN_DONE;
			st.recheck = 0;
		} else if (in->inflight == 0)
			st.recheck = left(in->since, DRAIN_FLUSH_MS, in->now);
		else
			st.recheck = l < DRAIN_POLL_MS ? l : DRAIN_POLL_MS;
		break;
	case DRAIN_DONE:
		break;
	}
	return st;
}

const char *
drain_phase_name(enum drain_phase p)
{
	static const char *const names[] = { "running", "leaving", "closing", "done" };

	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "?";
}
