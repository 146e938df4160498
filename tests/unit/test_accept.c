/*
 * accept() failures (src/core/accept.c): which errors pause a listener,
 * one log line when an episode starts, one every VG_ACCEPT_LOG_MS while it
 * lasts, one when a connection is accepted a second after the last failure;
 * counters by reason. And the gateway's
 * max_connections auto (gw_auto_max_conns).
 */
#include "config.h"

#include <errno.h>

#include "cu.h"
#include "vipgate/accept.h"
#include "../../src/gw/gw-ctx.h"

static void
t_which_pause(void)
{
	CU_ASSERT_TRUE(vg_accept_pauses(EMFILE));
	CU_ASSERT_TRUE(vg_accept_pauses(ENFILE));
	CU_ASSERT_TRUE(vg_accept_pauses(ENOBUFS));
	CU_ASSERT_TRUE(vg_accept_pauses(ENOMEM));
	CU_ASSERT_TRUE(vg_accept_pauses(EBADF));	/* would repeat */
	/* the one connection's own: the next may be fine */
	CU_ASSERT_FALSE(vg_accept_pauses(ECONNABORTED));
	CU_ASSERT_FALSE(vg_accept_pauses(EPROTO));
	CU_ASSERT_FALSE(vg_accept_pauses(ENETUNREACH));
	CU_ASSERT_FALSE(vg_accept_pauses(EPERM));
	CU_ASSERT_FALSE(vg_accept_pauses(EAGAIN));
	CU_ASSERT_EQUAL(vg_accept_reason(EMFILE), VG_ACC_EMFILE);
	CU_ASSERT_EQUAL(vg_accept_reason(ENOMEM), VG_ACC_ENOMEM);
	CU_ASSERT_EQUAL(vg_accept_reason(EPROTO), VG_ACC_OTHER);
	CU_ASSERT_STRING_EQUAL(vg_accept_reason_names[VG_ACC_ENFILE], "enfile");
}

static void
t_episode_lines(void)
{
	struct vg_accept_state st = { { 0 } };
	int64_t t;
	int lines = 0;

	CU_ASSERT_EQUAL(vg_accept_ok(&st, 500), VG_ACC_LOG_NONE);
	CU_ASSERT_EQUAL(vg_accept_fail(&st, EMFILE, 1000), VG_ACC_LOG_PAUSED);
	/* a retry every 100 ms for 25 s: a line at 10 s and at 20 s */
	for (t = 1100; t <= 26000; t += VG_ACCEPT_RETRY_MS)
		if (vg_accept_fail(&st, EMFILE, t) == VG_ACC_LOG_STILL)
			lines++;
	CU_ASSERT_EQUAL(lines, 2);
	CU_ASSERT_EQUAL(st.errors[VG_ACC_EMFILE], 1 + 250);
	CU_ASSERT_EQUAL(st.pauses[VG_ACC_EMFILE], 1);
	/* descriptors come free one at a time: accepted, failed, accepted...
	 * all in the same episode, no line */
	for (t = 26010; t < 26500; t += 10)
		CU_ASSERT_EQUAL(vg_accept_ok(&st, t), VG_ACC_LOG_NONE);
	CU_ASSERT_EQUAL(vg_accept_fail(&st, EMFILE, 26500), VG_ACC_LOG_NONE);
	CU_ASSERT_EQUAL(vg_accept_ok(&st, 27499), VG_ACC_LOG_NONE);
	/* a second without a failure: over */
	CU_ASSERT_EQUAL(vg_accept_ok(&st, 27500), VG_ACC_LOG_RESUMED);
	CU_ASSERT_EQUAL(st.last_ms, 25500);
	CU_ASSERT_EQUAL(st.last_failures, 1 + 250 + 1);
	CU_ASSERT_EQUAL(vg_accept_ok(&st, 27600), VG_ACC_LOG_NONE);
	/* the next episode is counted apart, under its own reason */
	CU_ASSERT_EQUAL(vg_accept_fail(&st, ENFILE, 30000), VG_ACC_LOG_PAUSED);
	CU_ASSERT_EQUAL(st.errors[VG_ACC_EMFILE], 1 + 250 + 1);
	CU_ASSERT_EQUAL(st.pauses[VG_ACC_ENFILE], 1);
	CU_ASSERT_EQUAL(st.pauses[VG_ACC_EMFILE], 1);
}

static void
t_connection_errors_do_not_pause(void)
{
	struct vg_accept_state st = { { 0 } };
	int i;

	for (i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(vg_accept_fail(&st, ECONNABORTED, i), VG_ACC_LOG_NONE);
	CU_ASSERT_EQUAL(st.errors[VG_ACC_OTHER], 100);
	CU_ASSERT_EQUAL(st.pauses[VG_ACC_OTHER], 0);
	CU_ASSERT_EQUAL(st.since_ms, 0);
	CU_ASSERT_EQUAL(vg_accept_ok(&st, 200), VG_ACC_LOG_NONE);
}

static void
t_auto_max_conns(void)
{
	size_t n;

	/* ulimit -n 256, 2 workers, one port on one address, 22 open at start */
	n = gw_auto_max_conns(256, 22, 2, 1);
	CU_ASSERT_EQUAL(n, (256 - 22 - 2 - 64) / 4);
	/* what the workers may hold, with an upstream each, leaves the margin */
	CU_ASSERT_TRUE(22 + 2 + 2 * 2 * n + 64 <= 256);
	/* the shipped unit's LimitNOFILE: an eighth kept back */
	n = gw_auto_max_conns(1048576, 30, 2, 2);
	CU_ASSERT_EQUAL(n, (1048576 - 30 - 4 - 131072) / 4);
	/* systemd's default soft limit */
	n = gw_auto_max_conns(1024, 30, 4, 4);
	CU_ASSERT_EQUAL(n, (1024 - 30 - 16 - 128) / 8);
	/* too few descriptors for any: one a worker, EMFILE handling does the rest */
	CU_ASSERT_EQUAL(gw_auto_max_conns(64, 30, 2, 1), 1);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "which accept() errors pause", t_which_pause },
		{ "an episode: a line at its start, every 10 s, at its end", t_episode_lines },
		{ "a connection's own error neither pauses nor logs", t_connection_errors_do_not_pause },
		{ "gateway.max_connections auto", t_auto_max_conns },
		{ NULL, NULL },
	};

	return cu_run("accept", tests);
}
