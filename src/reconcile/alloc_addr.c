/*
 * The addresses of an allocation run: which are taken and by which
 * Services (a table by address), who may share one (MetalLB checkSharing),
 * and a pool's first free or shareable address of a family (MetalLB
 * getIPFromCIDR).
 */
#include "config.h"

#include <string.h>

#include "vipgate/alloc.h"
#include "vipgate/util.h"

#include "alloc-int.h"

struct ipuse **
alloc_used_slot(const struct actx *c, const struct ipaddr *ip)
{
	size_t i = (size_t)ipaddr_hash(ip) & c->usedmask;

	while (c->used[i] != NULL && !ipaddr_eq(&c->used[i]->ip, ip))
		i = (i + 1) & c->usedmask;
	return &c->used[i];
}

static struct portcnt *
port_slot(const struct actx *c, const struct group *g, const struct k_svc_port *pt)
{
	uint64_t h = hash_bytes(HASH_INIT, &g, sizeof(g));
	size_t i;

	h = hash_str(hash_bytes(h, &pt->port, sizeof(pt->port)), pt->protocol);
	for (i = (size_t)h & c->portmask; c->ports[i].g != NULL; i = (i + 1) & c->portmask)
		if (c->ports[i].g == g && c->ports[i].port == pt->port &&
		    strcmp(c->ports[i].proto, pt->protocol) == 0)
			break;
	return &c->ports[i];
}

static int
strmap_equal(const struct strmap *a, const struct strmap *b)
{
	static const struct strmap empty;
	size_t i;

	if (a == NULL)
		a = &empty;
	if (b == NULL)
		b = &empty;
	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->k[i], b->k[i]) != 0 || strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

/*
 * MetalLB checkSharing and sharingOK: an address already held may be shared
 * only under the same non-empty key, with the same backend key (the selector
 * when externalTrafficPolicy is Local, k8salloc.BackendKey: nodes announce
 * such an address only where its endpoints are, so all its Services must
 * have the same ones) and no port/protocol in common.
 */
enum share
alloc_share_check(const struct ipuse *u, const struct asvc *s,
    const struct asvc **with, const struct k_svc_port **port)
{
	const struct ipuser *x;
	size_t i, j;

	if (u == NULL)
		return SH_OK;
	for (x = &u->users; x != NULL; x = x->next) {
		const struct asvc *o = x->svc;

		*with = o;
		if (s->key == NULL || o->key == NULL || strcmp(s->key, o->key) != 0)
			return SH_KEY;
		if (!strmap_equal(s->backend, o->backend))
			return SH_BACKEND;
		for (i = 0; i < s->k->nports; i++)
			for (j = 0; j < o->k->nports; j++)
				if (s->k->ports[i].port == o->k->ports[j].port &&
				    strcmp(s->k->ports[i].protocol, o->k->ports[j].protocol) == 0) {
					*port = &s->k->ports[i];
					return SH_PORT;
				}
	}
	return SH_OK;
}

static int
sig_ports_equal(const struct k_service *a, const struct k_service *b)
{
	size_t i, j;

	if (a->nports != b->nports)
		return 0;
	for (i = 0; i < a->nports; i++) {
		for (j = 0; j < b->nports; j++)
			if (a->ports[i].port == b->ports[j].port &&
			    strcmp(a->ports[i].protocol, b->ports[j].protocol) == 0)
				break;
		if (j == b->nports)
			return 0;
	}
	return 1;
}

struct group *
alloc_group_get(struct actx *c, const struct asvc *s)
{
	uint64_t h = hash_str(HASH_INIT, s->key);
	struct group *g, **b;
	size_t i;

	if (s->backend != NULL)
		for (i = 0; i < s->backend->n; i++)
			h = hash_str(hash_str(h, s->backend->k[i]), s->backend->v[i]);
	b = &c->groups[(size_t)h & c->keymask];
	for (g = *b; g != NULL; g = g->next)
		if (g->h == h && strcmp(g->rep->key, s->key) == 0 &&
		    strmap_equal(g->rep->backend, s->backend))
			return g;
	g = arena_alloc(c->arena, sizeof(*g));
	g->h = h;
	g->rep = s;
	g->next = *b;
	*b = g;
	return g;
}

struct sig *
alloc_sig_get(struct actx *c, const struct asvc *s)
{
	uint64_t h = hash_bytes(HASH_INIT, &s->grp, sizeof(s->grp)), ph = 0;
	struct sig *g, **b;
	size_t i;

	/* ports are a set: combine their hashes in an order-free way */
	for (i = 0; i < s->k->nports; i++)
		ph += hash_str(hash_bytes(HASH_INIT, &s->k->ports[i].port,
		    sizeof(s->k->ports[i].port)), s->k->ports[i].protocol);
	h ^= ph;
	b = &c->sigs[(size_t)h & c->keymask];
	for (g = *b; g != NULL; g = g->next)
		if (g->h == h && g->rep->grp == s->grp && sig_ports_equal(g->rep->k, s->k))
			return g;
	g = arena_alloc(c->arena, sizeof(*g));
	g->h = h;
	g->rep = s;
	g->next = *b;
	*b = g;
	return g;
}

int
alloc_usable(const struct actx *c, const struct asvc *s, const struct ipaddr *ip)
{
	const struct asvc *w;
	const struct k_svc_port *pt;

	return alloc_share_check(*alloc_used_slot(c, ip), s, &w, &pt) == SH_OK;
}

void
alloc_take(struct actx *c, struct asvc *s, const struct ipaddr *ip)
{
	struct ipuse **slot = alloc_used_slot(c, ip), *u = *slot;
	struct group *g = s->grp;
	size_t i;

	if (u != NULL) {
		struct ipuser *x = arena_alloc(c->arena, sizeof(*x));

		x->svc = s;
		u->last->next = x;
		u->last = x;
	} else {
		u = *slot = arena_alloc(c->arena, sizeof(*u));
		u->ip = *ip;
		u->users.svc = s;
		u->last = &u->users;
		if (g != NULL) {
			if (g->tail != NULL)
				g->tail->next_grp = u;
			else
				g->head = u;
			g->tail = u;
			g->nips++;
		}
	}
	/* Joining needs the same group and other ports: an address of the
	 * group never has a port twice. */
	for (i = 0; g != NULL && i < s->k->nports; i++) {
		struct portcnt *pc = port_slot(c, g, &s->k->ports[i]);

		pc->g = g;
		pc->port = s->k->ports[i].port;
		pc->proto = s->k->ports[i].protocol;
		pc->nips++;
	}
}

static int
range_first_free(const struct actx *c, struct apool *p, size_t r, struct ipaddr *out)
{
	struct cursor *cu = &p->cur[r];
	const struct pool_range *pr = &p->p->ranges[r];

	while (!cu->done) {
		if (!(p->p->avoid_buggy_ips && buggy(&cu->ip)) &&
		    *alloc_used_slot(c, &cu->ip) == NULL) {
			*out = cu->ip;
			return 1;
		}
		if (ipaddr_eq(&cu->ip, &pr->last) || ipaddr_inc(&cu->ip) == -1)
			cu->done = 1;
	}
	return 0;
}

static int
usable_u(const struct ipuse *u, const struct asvc *s)
{
	const struct asvc *w;
	const struct k_svc_port *pt;

	return alloc_share_check(u, s, &w, &pt) == SH_OK;
}

/* The lowest address of the range held by Services s may share with. */
static int
range_first_shareable(struct actx *c, const struct apool *p, size_t r,
    const struct asvc *s, struct ipaddr *out)
{
	const struct pool_range *pr = &p->p->ranges[r];
	struct sig *g = s->sig;
	const struct ipuse *u;
	size_t i, j;
	int have = 0;

	if (g == NULL)
		return 0;
	/* Every address of the group uses one of its ports: the common case
	 * of many Services with one key and one port, settled at once. */
	for (i = 0; i < s->k->nports; i++)
		if (port_slot(c, s->grp, &s->k->ports[i])->nips == s->grp->nips)
			return 0;
	for (u = g->seen ? g->seen->next_grp : s->grp->head; u != NULL; u = u->next_grp) {
		g->seen = u;
		if (!usable_u(u, s))
			continue;
		if (g->ncand == g->capcand) {
			const struct ipuse **n;

			g->capcand = g->capcand ? 2 * g->capcand : 8;
			n = arena_alloc(c->arena, sizeof(*n) * g->capcand);
			if (g->ncand > 0)
				memcpy(n, g->cand, sizeof(*n) * g->ncand);
			g->cand = n;
		}
		g->cand[g->ncand++] = u;
	}
	for (i = 0, j = 0; i < g->ncand; i++) {
		u = g->cand[i];
		if (!usable_u(u, s))
			continue;	/* for good */
		g->cand[j++] = u;
		if (!in_range(pr, &u->ip) || (p->p->avoid_buggy_ips && buggy(&u->ip)))
			continue;
		if (!have || ipaddr_cmp(&u->ip, out) < 0) {
			*out = u->ip;
			have = 1;
		}
	}
	g->ncand = j;
	return have;
}

/*
 * MetalLB getIPFromCIDR: ranges in the order the pool lists them, the first
 * address of a range that is free or shareable.
 */
int
alloc_pool_pick(struct actx *c, struct apool *p, const struct asvc *s, int af,
    struct ipaddr *out)
{
	size_t r;

	if (!p->has[fi(af)])
		return 0;
	for (r = 0; r < p->p->nranges; r++) {
		struct ipaddr fr, sh;
		int hf, hs;

		if (p->p->ranges[r].first.family != af)
			continue;
		hf = range_first_free(c, p, r, &fr);
		hs = range_first_shareable(c, p, r, s, &sh);
		if (hs && (!hf || ipaddr_cmp(&sh, &fr) < 0)) {
			*out = sh;
			return 1;
		}
		if (hf) {
			*out = fr;
			return 1;
		}
	}
	return 0;
}
