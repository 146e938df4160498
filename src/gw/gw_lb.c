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

#include "gw-int.h"

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
		st->cl = &s->crt[c->id];
		st->shared = st->cl->eps;
	}
	return st;
}

void
gw_lb_acquire(struct gw_lbstate *st, const struct gw_endpoint *e)
{
	if (e->id >= st->n)
		return;
	if (st->shared) {
		__atomic_add_fetch(&st->shared[e->id].rq_active, 1, __ATOMIC_RELAXED);
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
		__atomic_sub_fetch(&st->shared[e->id].rq_active, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&st->cl->rq_active, 1, __ATOMIC_RELAXED);
	} else if (st->active[e->id])
		st->active[e->id]--;
}

static uint32_t
active_of(const struct gw_lbstate *st, size_t i)
{
	return st->shared ? __atomic_load_n(&st->shared[i].rq_active, __ATOMIC_RELAXED) : st->active[i];
}

const struct gw_endpoint *
gw_lb_pick(const struct gw_cluster *c, struct gw_lbstate *st,
    uint64_t (*rnd)(void *), void *rarg, uint64_t hash, int have_hash)
{
	uint64_t total = 0, r;
	size_t i, best = 0;

	if (c->neps == 0)
		return NULL;
	if (c->neps == 1)
		return &c->eps[0];
	for (i = 0; i < c->neps; i++)
		total += c->eps[i].weight;
	switch (c->lb) {
	case GW_LB_ROUND_ROBIN:
		/* nginx's smooth weighted round robin: even spread, weights honoured */
		for (i = 0; i < c->neps; i++) {
			st->cur[i] += c->eps[i].weight;
			if (st->cur[i] > st->cur[best])
				best = i;
		}
		st->cur[best] -= (int64_t)total;
		return &c->eps[best];
	case GW_LB_RING_HASH:
	case GW_LB_MAGLEV:
		if (have_hash) {
			if (st->ht == NULL)
				st->ht = gw_hashtab_new(c);
			return &c->eps[gw_hashtab_pick(st->ht, hash, 0)];
		}
		/* no key in this request: Envoy picks at random */
		__attribute__((fallthrough));
	case GW_LB_RANDOM:
	case GW_LB_PASSTHROUGH:
		r = rnd(rarg) % total;
		for (i = 0; i < c->neps; i++) {
			if (r < c->eps[i].weight)
				return &c->eps[i];
			r -= c->eps[i].weight;
		}
		return &c->eps[c->neps - 1];
	case GW_LB_LEAST_REQUEST:
	default: {
		/* P2C (Envoy's choice_count 2): two random endpoints, the less busy */
		size_t a = (size_t)(rnd(rarg) % c->neps), b = (size_t)(rnd(rarg) % c->neps);

		if (b == a)
			b = (a + 1) % c->neps;
		return &c->eps[active_of(st, b) < active_of(st, a) ? b : a];
	}
	}
}
