/*
 * Load-balancer picks over a cluster's endpoints, as Envoy's: smooth
 * weighted round robin, least request with the power of two choices
 * (Istio's default), weighted random, and consistent hashing (ring hash
 * and Maglev, gw_lb_hash.c). Pure: the state and the random source come
 * from the caller.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gw-lb.h"
#include "gw-lb-hash.h"
#include "gw-outlier.h"
#include "gw-resil-t.h"

struct gw_lbstate *
gw_lb_state(struct gw_snap *s, int worker, const struct gw_cluster *c)
{
	struct gw_lbstate *st;

	if (s->lb[worker] == NULL)
		s->lb[worker] = xcalloc(s->g->nclusters ? s->g->nclusters : 1, sizeof(**s->lb));
	st = &s->lb[worker][c->id];
	if (st->n != c->neps) {
		free(st->cur);
		free(st->active);
		st->cur = xcalloc(c->neps ? c->neps : 1, sizeof(*st->cur));
		st->active = xcalloc(c->neps ? c->neps : 1, sizeof(*st->active));
		gw_hashtab_free(st->ht);
		st->ht = NULL;
		st->n = c->neps;
	}
	if (s->crt) {
		st->cl = s->crt[c->id];
		st->shared = s->ert[c->id];
	}
	return st;
}

void
gw_lb_acquire(struct gw_lbstate *st, const struct gw_endpoint *e)
{
	if (e->id >= st->n)
		return;
	if (st->shared) {
		__atomic_add_fetch(&st->shared[e->id]->rq_active, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&st->cl->rq_active, 1, __ATOMIC_RELAXED);
	} else
		st->active[e->id]++;
}

void
gw_lb_release(struct gw_lbstate *st, const struct gw_endpoint *e)
{
	if (e->id >= st->n)
		return;
	if (st->shared) {
		__atomic_sub_fetch(&st->shared[e->id]->rq_active, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&st->cl->rq_active, 1, __ATOMIC_RELAXED);
	} else if (st->active[e->id])
		st->active[e->id]--;
}

static uint32_t
active_of(const struct gw_lbstate *st, size_t i)
{
	return st->shared ? __atomic_load_n(&st->shared[i]->rq_active, __ATOMIC_RELAXED) : st->active[i];
}

/* Ejected by outlier detection (gw_resil.c); the pickers skip it. */
static int
ejected(const struct gw_lbstate *st, size_t i)
{
	return st->shared && __atomic_load_n(&st->shared[i]->ejected, __ATOMIC_ACQUIRE);
}

const struct gw_endpoint *
gw_lb_pick(const struct gw_cluster *c, struct gw_lbstate *st,
    uint64_t (*rnd)(void *), void *rarg, uint64_t hash, int have_hash)
{
	uint64_t total = 0, r;
	size_t i, best = 0, n = 0, nej = 0;
	int all;

	if (c->neps == 0)
		return NULL;
	for (i = 0; i < c->neps; i++)
		nej += ejected(st, i) != 0;
	/*
	 * Only the healthy hosts are used, unless the cluster is in panic
	 * (fewer healthy than minHealthPercent, Envoy's healthy_panic_threshold):
	 * then all of them. Istio sets the threshold to 0 with outlierDetection,
	 * so with every host ejected there is none: 503 UH.
	 */
	all = nej == 0 || gw_od_panic(c->outlier.enabled ? (uint32_t)c->outlier.min_health_percent : 0,
	    c->neps - nej, c->neps);
#define USABLE(i) (all || !ejected(st, (i)))
	if (!all && nej == c->neps)
		return NULL;
	if (c->neps == 1)
		return &c->eps[0];
	for (i = 0; i < c->neps; i++)
		if (USABLE(i)) {
			total += c->eps[i].weight;
			n++;
		}
	if (total == 0)
		return NULL;
	switch (c->lb) {
	case GW_LB_ROUND_ROBIN:
		/* nginx's smooth weighted round robin: even spread, weights honoured */
		best = c->neps;
		for (i = 0; i < c->neps; i++) {
			if (!USABLE(i))
				continue;
			st->cur[i] += c->eps[i].weight;
			if (best == c->neps || st->cur[i] > st->cur[best])
				best = i;
		}
		st->cur[best] -= (int64_t)total;
		return &c->eps[best];
	case GW_LB_RING_HASH:
	case GW_LB_MAGLEV:
		if (have_hash) {
			size_t k;

			if (st->ht == NULL)
				st->ht = gw_hashtab_new(c);
			/* an ejected host's keys go to the next candidates (gw_lb_hash.c) */
			for (k = 0; k < 4 * c->neps + 16; k++) {
				i = gw_hashtab_pick(st->ht, hash, k);
				if (i < c->neps && USABLE(i))
					return &c->eps[i];
			}
			for (i = 0; i < c->neps; i++)
				if (USABLE(i))
					return &c->eps[i];
			return NULL;
		}
		/* no key in this request: Envoy picks at random */
		__attribute__((fallthrough));
	case GW_LB_RANDOM:
	case GW_LB_PASSTHROUGH:
		r = rnd(rarg) % total;
		for (i = 0; i < c->neps; i++) {
			if (!USABLE(i))
				continue;
			if (r < c->eps[i].weight)
				return &c->eps[i];
			r -= c->eps[i].weight;
		}
		return &c->eps[c->neps - 1];
	case GW_LB_LEAST_REQUEST:
	default: {
		/* P2C (Envoy's choice_count 2): two random endpoints, the less busy */
		size_t ka = (size_t)(rnd(rarg) % n), kb = (size_t)(rnd(rarg) % n), k = 0;
		size_t a = 0, b = 0;

		if (kb == ka && n > 1)
			kb = (ka + 1) % n;
		/* the ka-th and kb-th usable endpoints */
		for (i = 0; i < c->neps; i++) {
			if (!USABLE(i))
				continue;
			if (k == ka)
				a = i;
			if (k == kb)
				b = i;
			k++;
		}
		return &c->eps[active_of(st, b) < active_of(st, a) ? b : a];
	}
	}
#undef USABLE
}
