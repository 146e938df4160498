/*
 * When a busy worker gives its CPU away (gw_worker.c).
 *
 * A worker at saturation can run for whole scheduler ticks (4 ms at
 * HZ=250) without waiting for an event. A task woken on its CPU meanwhile
 * (a pod's process, a backend, a client on the same node) is queued until
 * the tick preempts the worker, and so is every request that task was to
 * send or answer. The worker therefore checks, at most once every
 * yield_after, whether it has slept since the last check (the thread's
 * count of voluntary context switches, getrusage RUSAGE_THREAD; a
 * sched_yield counts as involuntary), and yields when it has not: the
 * tasks queued behind it run, and the worker carries on after them. A
 * worker that sleeps now and then, any worker below saturation, never
 * yields.
 */
#ifndef VIPGATE_GW_YIELD_H
#define VIPGATE_GW_YIELD_H

#include <stdint.h>

struct gw_yield {
	int64_t	mark_us;	/* when the last check was made */
	long	nvcsw;		/* the voluntary context switches then; -1: none yet */
};

/* A check is due: at least after_us since the last one (after_us > 0). */
static inline int
gw_yield_check_due(const struct gw_yield *y, int64_t now_us, int64_t after_us)
{
	return after_us > 0 && now_us - y->mark_us >= after_us;
}

/*
 * The check itself, with the thread's voluntary context switches now:
 * returns 1 when the worker has not slept since the previous check (so it
 * should yield), 0 when it has, and starts a new period at now_us.
 */
static inline int
gw_yield_check(struct gw_yield *y, int64_t now_us, long nvcsw)
{
	int due = y->nvcsw == nvcsw;

	y->mark_us = now_us;
	y->nvcsw = nvcsw;
	return due;
}

#endif /* VIPGATE_GW_YIELD_H */
