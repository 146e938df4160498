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
 *
 * Nor does a worker that spent half the period or more in TLS handshakes.
 * A handshake is a long burst of CPU (0.2 ms of signing and key exchange)
 * that its client waits for anyway, and when handshakes saturate a CPU the
 * tasks beside the worker are busy too: a yield hands them the CPU for
 * their whole slice (2-8 ms measured) and shortens no wait. Measured on the
 * gateway benchmark: yielding through handshakes cost 4-8 % of the
 * handshake rate with no better p99. A few handshakes among many requests
 * do not stop the yields.
 */
#ifndef VIPGATE_GW_YIELD_H
#define VIPGATE_GW_YIELD_H

#include <stdint.h>

#include "gw-yield-t.h"

/* A check is due: at least after_us since the last one (after_us > 0). */
static inline int
gw_yield_check_due(const struct gw_yield *y, int64_t now_us, int64_t after_us)
{
	return after_us > 0 && now_us - y->mark_us >= after_us;
}

/*
 * The check itself, with the thread's voluntary context switches and time
 * in handshakes now: returns 1 when the worker has not slept since the
 * previous check and spent less than half of the period since in
 * handshakes (so it should yield), 0 otherwise, and starts a new period
 * at now_us.
 */
static inline int
gw_yield_check(struct gw_yield *y, int64_t now_us, long nvcsw, int64_t hs_us)
{
	int due = nvcsw != -1 && y->nvcsw == nvcsw &&
	    (hs_us - y->hs_us) * 2 < now_us - y->mark_us;

	y->mark_us = now_us;
	y->nvcsw = nvcsw;
	y->hs_us = hs_us;
	return due;
}

#endif /* VIPGATE_GW_YIELD_H */
