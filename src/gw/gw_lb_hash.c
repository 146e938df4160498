/*
 * Consistent hashing as Envoy's two load balancers do it: a ring hash
 * (every endpoint hashed onto a 64-bit ring minimumRingSize times in all,
 * in proportion to its weight; a key goes to the first point clockwise) and
 * Maglev (a lookup table of a prime size filled by each endpoint's
 * permutation, weighted). Tables are built once per snapshot and worker and
 * never change; pure.
 *
 * Envoy rebuilds its table when a host is ejected. Here the table stays and
 * the caller asks for the next candidate instead (attempt 1, 2, ...): on the
 * ring that is the next point clockwise, which is exactly where a rebuilt
 * ring sends the ejected host's keys; in Maglev it is the next table slot.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw-lb-hash.h"
#include "vipgate/gw-t.h"

#define RING_MAX	(8u << 20)	/* Envoy's maximum_ring_size default */

struct gw_hashtab {
	enum gw_lb	 kind;
	size_t		 n;		/* ring points or table slots */
	uint64_t	*point;		/* ring: sorted hashes */
	uint32_t	*ep;		/* ring: endpoint of each point; maglev: of each slot */
};

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t
ep_hash(const struct gw_endpoint *e, uint64_t salt)
{
	char key[80];
	int n = snprintf(key, sizeof(key), "%s:%u", e->ip, e->port);

	return mix64(hash_bytes(HASH_INIT ^ salt, key, (size_t)n));
}

struct ringpt {
	uint64_t	h;
	uint32_t	ep;
};

static int
ringpt_cmp(const void *a, const void *b)
{
	const struct ringpt *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->ep < y->ep ? -1 : x->ep > y->ep;
}

static void
ring_build(struct gw_hashtab *t, const struct gw_cluster *c)
{
	uint64_t total = 0, min = c->ring_size > 0 ? (uint64_t)c->ring_size : 1024;
	struct ringpt *pts;
	size_t i, k, n = 0, cap;

	for (i = 0; i < c->neps; i++)
		total += c->eps[i].weight ? c->eps[i].weight : 1;
	if (min < c->neps)
		min = c->neps;
	if (min > RING_MAX)
		min = RING_MAX;
	/* each endpoint's share of the ring, rounded up (Envoy's hashes-per-host) */
	cap = 0;
	for (i = 0; i < c->neps; i++)
		cap += (size_t)((min * (c->eps[i].weight ? c->eps[i].weight : 1) + total - 1) / total);
	pts = xcalloc(cap ? cap : 1, sizeof(*pts));
	for (i = 0; i < c->neps; i++) {
		uint64_t w = c->eps[i].weight ? c->eps[i].weight : 1;
		size_t share = (size_t)((min * w + total - 1) / total);

		for (k = 0; k < share; k++) {
			pts[n].h = ep_hash(&c->eps[i], k + 1);
			pts[n].ep = (uint32_t)i;
			n++;
		}
	}
	qsort(pts, n, sizeof(*pts), ringpt_cmp);
	t->n = n;
	t->point = xcalloc(n ? n : 1, sizeof(*t->point));
	t->ep = xcalloc(n ? n : 1, sizeof(*t->ep));
	for (i = 0; i < n; i++) {
		t->point[i] = pts[i].h;
		t->ep[i] = pts[i].ep;
	}
	free(pts);
}

static void
maglev_build(struct gw_hashtab *t, const struct gw_cluster *c)
{
	uint64_t m = c->ring_size > 0 ? (uint64_t)c->ring_size : 65537;
	uint64_t *off, *skip, *next, maxw = 1;
	int64_t *credit;
	size_t i, filled = 0;

	while (!is_prime(m))
		m++;	/* the DR is validated prime; be safe anyway */
	t->n = (size_t)m;
	t->ep = xcalloc(t->n, sizeof(*t->ep));
	for (i = 0; i < t->n; i++)
		t->ep[i] = UINT32_MAX;
	off = xcalloc(c->neps, sizeof(*off));
	skip = xcalloc(c->neps, sizeof(*skip));
	next = xcalloc(c->neps, sizeof(*next));
	credit = xcalloc(c->neps, sizeof(*credit));
	for (i = 0; i < c->neps; i++) {
		off[i] = ep_hash(&c->eps[i], 0x6f6666) % m;
		skip[i] = ep_hash(&c->eps[i], 0x736b6970) % (m - 1) + 1;
		if (c->eps[i].weight > maxw)
			maxw = c->eps[i].weight;
	}
	/*
	 * Rounds over the endpoints; each earns its weight in credit a round
	 * and takes a slot for every maxw of credit: slots in proportion to
	 * weight, each at the next free place of its own permutation.
	 */
	while (filled < t->n) {
		for (i = 0; i < c->neps && filled < t->n; i++) {
			credit[i] += c->eps[i].weight ? c->eps[i].weight : 1;
			while (credit[i] >= (int64_t)maxw && filled < t->n) {
				uint64_t slot;

				credit[i] -= (int64_t)maxw;
				do {
					slot = (off[i] + next[i] * skip[i]) % m;
					next[i]++;
				} while (t->ep[slot] != UINT32_MAX);
				t->ep[slot] = (uint32_t)i;
				filled++;
			}
		}
	}
	free(off);
	free(skip);
	free(next);
	free(credit);
}

struct gw_hashtab *
gw_hashtab_new(const struct gw_cluster *c)
{
	struct gw_hashtab *t = xcalloc(1, sizeof(*t));

	t->kind = c->lb;
	if (c->neps == 0)
		return t;
	if (c->lb == GW_LB_MAGLEV)
		maglev_build(t, c);
	else
		ring_build(t, c);
	return t;
}

void
gw_hashtab_free(struct gw_hashtab *t)
{
	if (t == NULL)
		return;
	free(t->point);
	free(t->ep);
	free(t);
}

size_t
gw_hashtab_pick(const struct gw_hashtab *t, uint64_t hash, size_t attempt)
{
	size_t lo = 0, hi, i;

	if (t->n == 0)
		return 0;
	hash = mix64(hash);
	if (t->kind == GW_LB_MAGLEV)
		return t->ep[(hash + attempt) % t->n];
	/* the first point at or after the key, wrapping */
	hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->point[mid] < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	i = lo == t->n ? 0 : lo;
	if (attempt == 0)
		return t->ep[i];
	/* the attempt-th distinct endpoint clockwise */
	{
		uint32_t seen = t->ep[i];
		size_t k, steps = 0;

		for (k = 1; k < t->n && steps < attempt; k++) {
			uint32_t e = t->ep[(i + k) % t->n];

			if (e != seen) {
				seen = e;
				steps++;
			}
		}
		return seen;
	}
}
