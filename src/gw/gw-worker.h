/* Gateway workers (gw_worker.c). */
#ifndef VIPGATE_GW_WORKER_H
#define VIPGATE_GW_WORKER_H

#include <stdint.h>

#include "gw-worker-t.h"

/* Starts the worker's thread; -1 when it could not. */
int gw_worker_start(struct gw_worker *);
/* Wakes the worker: a new snapshot, a drain or a stop is waiting. */
void gw_worker_poke(struct gw_worker *);

/* The worker's random numbers: xorshift64*, no locks. */
static inline uint64_t
gw_rand(struct gw_worker *w)
{
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

#endif
