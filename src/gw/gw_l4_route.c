/*
 * Which tcp[] or tls[] rule a connection takes (Envoy's filter chain
 * match for the chains istiod makes of them): pure, on the compiled
 * listener (gw-l4-t.h), so the tests drive it without sockets.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "vipgate/gw-l4.h"

int
gw_cidr_has(const struct gw_cidr *c, const struct ipaddr *a)
{
	int bits, full, rest;

	if (a == NULL || a->family != c->addr.family)
		return 0;
	bits = c->plen;
	if (bits < 0 || bits > ipaddr_bits(a))
		return 0;
	full = bits / 8;
	rest = bits % 8;
	if (memcmp(a->a, c->addr.a, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a->a[full] ^ c->addr.a[full]) & (0xff << (8 - rest))) == 0;
}

static int
cidrs_have(const struct gw_cidr *v, size_t n, const struct ipaddr *a)
{
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (gw_cidr_has(&v[i], a))
			return 1;
	return 0;
}

/*
 * How well server name pattern pat takes sni: 0 not at all; "*" 1 (it
 * also takes no SNI, as a chain without server_names does); a wildcard
 * 2 + its length; an exact name above every wildcard.
 */
static size_t
sni_score(const char *pat, const char *sni)
{
	size_t lp, ln;

	if (strcmp(pat, "*") == 0)
		return 1;
	if (sni == NULL || *sni == '\0')
		return 0;
	if (strcasecmp(pat, sni) == 0)
		return 1000;
	if (pat[0] != '*')
		return 0;
	/* "*.example.com" takes "a.example.com", "a.b.example.com", not "example.com" */
	lp = strlen(pat + 1);
	ln = strlen(sni);
	if (ln > lp && strcasecmp(sni + ln - lp, pat + 1) == 0)
		return 2 + lp;
	return 0;
}

const struct gw_l4_route *
gw_l4_route_find(const struct gw_l4 *l4, uint16_t port, const struct ipaddr *dst,
    const struct ipaddr *src, const char *sni)
{
	const struct gw_l4_route *best = NULL;
	size_t i, j, k, bestscore = 0;

	if (l4 == NULL)
		return NULL;
	for (i = 0; i < l4->nroutes; i++) {
		const struct gw_l4_route *r = &l4->routes[i];

		if (r->nmatches == 0 && l4->kind != GW_L4_PASSTHROUGH)
			return r;	/* TCP: a rule without matches takes all */
		for (j = 0; j < r->nmatches; j++) {
			const struct gw_l4_match *m = &r->matches[j];
			size_t score = 1;

			if ((m->port && m->port != port) || !cidrs_have(m->dst, m->ndst, dst) ||
			    !cidrs_have(m->src, m->nsrc, src))
				continue;
			if (l4->kind == GW_L4_PASSTHROUGH) {
				score = 0;
				for (k = 0; k < m->nsni; k++) {
					size_t s = sni_score(m->sni[k], sni);

					if (s > score)
						score = s;
				}
				if (score == 0)
					continue;
			} else
				return r;	/* TCP (TLS ended or not): the first rule that applies */
			if (score > bestscore) {
				best = r;
				bestscore = score;
			}
		}
	}
	return best;
}

const struct gw_dest *
gw_l4_pick_dest(const struct gw_l4_route *r, uint32_t rnd)
{
	uint32_t x;
	size_t i;

	if (r == NULL || r->ndests == 0 || r->total_weight == 0)
		return NULL;
	x = (uint32_t)(((uint64_t)rnd * r->total_weight) >> 32);
	for (i = 0; i < r->ndests; i++) {
		if (x < r->dests[i].weight)
			return &r->dests[i];
		x -= r->dests[i].weight;
	}
	return &r->dests[r->ndests - 1];
}
