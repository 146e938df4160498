/*
 * VIP allocation with MetalLB's semantics (controller/service.go,
 * internal/allocator/allocator.go), recomputed from scratch on every call.
 *
 * MetalLB's controller holds its allocations in memory and reacts to events
 * one Service at a time, so its answer depends on the order events arrived
 * in. Every vipgated computes the answer on its own and they must agree, so
 * here the answer depends only on the objects: pass 1 lets every Service keep
 * its previous addresses while they are still valid for it, pass 2 gives the
 * others fresh ones, oldest Service first.
 *
 * The allocator's files: alloc.c, the run and its decisions (which pool,
 * which addresses, or why none); alloc_svc.c, what a Service asks for;
 * alloc_pool.c, the pools and whom they accept; alloc_addr.c, the
 * addresses taken, shared and free. Their shared types are in
 * alloc-int-t.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vipgate/alloc.h"
#include "vipgate/util.h"

#include "alloc-int.h"

static int
other_af(int af)
{
	return af == AF_INET6 ? AF_INET : AF_INET6;
}

static size_t
pow2_at_least(size_t n)
{
	size_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

static void
assign(struct actx *c, struct asvc *s, struct apool *p, const struct ipaddr *ips, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		alloc_take(c, s, &ips[i]);
		s->res->ips[s->res->nips++] = ips[i];
	}
	alloc_sort_v4_first(s->res->ips, s->res->nips);
	s->res->pool = p->name;
	s->res->pending = NULL;
	s->pool = p;
	s->done = 1;
}

static void
pend(struct asvc *s, const char *why)
{
	s->res->nips = 0;
	s->res->pool = NULL;
	s->res->pending = why;
	s->done = 1;
}

/*
 * MetalLB findBestPoolForService: the first pool that gives every family
 * the policy needs; for PreferDualStack, failing that, the first pool with
 * the primary family, then the first with the other one.
 */
static int
pick_from_pools(struct actx *c, struct asvc *s, struct apool **pools, size_t n)
{
	struct apool *prim = NULL, *sec = NULL;
	struct ipaddr pv, sv, two[2];
	int af2 = other_af(s->af);
	size_t i;

	memset(&pv, 0, sizeof(pv));
	memset(&sv, 0, sizeof(sv));
	for (i = 0; i < n; i++) {
		struct apool *p = pools[i];
		int ha, hb;

		ha = alloc_pool_pick(c, p, s, s->af, &two[0]);
		if (s->pol == POL_SINGLE) {
			if (ha) {
				assign(c, s, p, two, 1);
				return 1;
			}
			continue;
		}
		hb = alloc_pool_pick(c, p, s, af2, &two[1]);
		if (ha && hb) {
			assign(c, s, p, two, 2);
			return 1;
		}
		if (s->pol != POL_PREFER)
			continue;
		if (ha && prim == NULL) {
			prim = p;
			pv = two[0];
		}
		if (hb && sec == NULL) {
			sec = p;
			sv = two[1];
		}
	}
	if (prim != NULL) {
		assign(c, s, prim, &pv, 1);
		return 1;
	}
	if (sec != NULL) {
		assign(c, s, sec, &sv, 1);
		return 1;
	}
	return 0;
}

static const char *
used_reason(struct actx *c, const struct ipaddr *ip, enum share sh,
    const struct asvc *s, const struct asvc *w, const struct k_svc_port *pt)
{
	char b[IPADDR_STRLEN];
	const char *why = "";

	switch (sh) {
	case SH_KEY:
		why = s->key ? " (allow-shared-ip differs)" : "";
		break;
	case SH_BACKEND:
		why = " (externalTrafficPolicy Local needs the same selector)";
		break;
	case SH_PORT:
		return arena_printf(c->out, "requested IP %s is used by %s/%s (port %lld/%s clashes)",
		    ipaddr_fmt(ip, b), w->obj->meta.ns, w->obj->meta.name,
		    (long long)pt->port, pt->protocol);
	case SH_OK:
		break;
	}
	return arena_printf(c->out, "requested IP %s is used by %s/%s%s",
	    ipaddr_fmt(ip, b), w->obj->meta.ns, w->obj->meta.name, why);
}

/*
 * loadBalancerIPs or spec.loadBalancerIP: the addresses must be in one pool
 * (autoAssign does not matter), the address-pool one if named, that accepts
 * the Service, and be free or shareable.
 */
static int
alloc_requested(struct actx *c, struct asvc *s)
{
	struct apool *rp = NULL, *p = NULL, *first = NULL;
	char b0[IPADDR_STRLEN], b1[IPADDR_STRLEN];
	size_t i;

	if (s->req_pool != NULL && (rp = alloc_pool_by_name(c, s->req_pool)) == NULL) {
		pend(s, arena_printf(c->out, "pool %s does not exist", s->req_pool));
		return 0;
	}
	for (i = 0; i < s->nreq; i++) {
		size_t j;

		for (j = 0; j < c->npools; j++)
			if (alloc_pool_has_ip(&c->pools[j], &s->req[i]))
				break;
		if (j == c->npools) {
			pend(s, arena_printf(c->out, "requested IP %s is not in any pool",
			    ipaddr_fmt(&s->req[i], b0)));
			return 0;
		}
		if (rp != NULL && !alloc_pool_has_ip(rp, &s->req[i])) {
			pend(s, arena_printf(c->out, "requested IP %s is not in pool %s",
			    ipaddr_fmt(&s->req[i], b0), rp->name));
			return 0;
		}
	}
	/* Pools should not overlap; where they do, the first by name that takes it. */
	for (i = 0; i < c->npools && p == NULL; i++) {
		struct apool *q = &c->pools[i];

		if ((rp != NULL && q != rp) || !alloc_pool_has_all(q, s->req, s->nreq))
			continue;
		if (first == NULL)
			first = q;
		if (alloc_pool_accepts(c, q, s))
			p = q;
	}
	if (first == NULL) {
		pend(s, arena_printf(c->out, "requested IPs %s and %s are not in the same pool",
		    ipaddr_fmt(&s->req[0], b0), ipaddr_fmt(&s->req[1], b1)));
		return 0;
	}
	if (p == NULL) {
		pend(s, arena_printf(c->out, "requested IP %s is in pool %s, which does not accept this service",
		    ipaddr_fmt(&s->req[0], b0), first->name));
		return 0;
	}
	for (i = 0; i < s->nreq; i++) {
		const struct asvc *w = NULL;
		const struct k_svc_port *pt = NULL;
		enum share sh = alloc_share_check(*alloc_used_slot(c, &s->req[i]), s, &w, &pt);

		if (sh != SH_OK) {
			pend(s, used_reason(c, &s->req[i], sh, s, w, pt));
			return 0;
		}
	}
	assign(c, s, p, s->req, s->nreq);
	return 1;
}

/* The address-pool annotation without requested addresses. */
static void
alloc_from_pool(struct actx *c, struct asvc *s)
{
	struct apool *p = alloc_pool_by_name(c, s->req_pool);
	struct ipaddr a;

	if (p == NULL) {
		pend(s, arena_printf(c->out, "pool %s does not exist", s->req_pool));
		return;
	}
	if (!alloc_pool_accepts(c, p, s)) {
		pend(s, arena_printf(c->out, "pool %s does not accept this service", p->name));
		return;
	}
	if (s->pol == POL_SINGLE && !p->has[fi(s->af)]) {
		pend(s, arena_printf(c->out, "pool %s has no %s addresses", p->name, af_name(s->af)));
		return;
	}
	if (s->pol == POL_REQUIRE) {
		static const int afs[] = { AF_INET, AF_INET6 };
		size_t i;

		for (i = 0; i < VG_ARRAY_SIZE(afs); i++)
			if (!p->has[fi(afs[i])]) {
				pend(s, arena_printf(c->out, "pool %s has no %s addresses for RequireDualStack",
				    p->name, af_name(afs[i])));
				return;
			}
		for (i = 0; i < VG_ARRAY_SIZE(afs); i++)
			if (!alloc_pool_pick(c, p, s, afs[i], &a)) {
				pend(s, arena_printf(c->out, "no available %s IPs in pool %s",
				    af_name(afs[i]), p->name));
				return;
			}
	}
	if (!pick_from_pools(c, s, &p, 1))
		pend(s, arena_printf(c->out, "no available IPs in pool %s", p->name));
}

static const char *
auto_reason(struct actx *c, const struct asvc *s, struct apool **pools, size_t n, int noauto)
{
	struct vg_buf b = { 0 };
	const char *why;
	size_t i, k = 0;

	if (n == 0)
		return noauto ? "no pool accepts this service (pools with autoAssign false "
		    "need the address-pool annotation)" : "no pool accepts this service";
	for (i = 0; i < n; i++) {
		const struct apool *p = pools[i];
		int fits;

		if (s->pol == POL_SINGLE)
			fits = p->has[fi(s->af)];
		else if (s->pol == POL_REQUIRE)
			fits = p->has[0] && p->has[1];
		else
			fits = 1;
		if (!fits)
			continue;
		buf_puts(&b, k ? ", " : "");
		buf_puts(&b, p->name);
		k++;
	}
	if (k == 0) {
		if (s->pol == POL_REQUIRE)
			return "no pool for this service has both IPv4 and IPv6 addresses for RequireDualStack";
		return arena_printf(c->out, "no pool for this service has %s addresses",
		    af_name(s->af));
	}
	why = arena_printf(c->out, "no available IPs in pool%s %s", k > 1 ? "s" : "", b.s);
	buf_free(&b);
	return why;
}

/*
 * MetalLB Allocate: the pools pinned to the Service by its namespace or
 * labels first, then the others; autoAssign false pools only by name.
 */
static void
alloc_auto(struct actx *c, struct asvc *s)
{
	size_t i, n = 0;
	int pinned, noauto = 0;

	for (pinned = 1; pinned >= 0; pinned--) {
		size_t start = n;

		for (i = 0; i < c->npools; i++) {
			struct apool *p = c->order[i];

			if (p->pinned != pinned || !alloc_pool_accepts(c, p, s))
				continue;
			if (!p->p->auto_assign) {
				noauto = 1;
				continue;
			}
			c->cands[n++] = p;
		}
		if (pick_from_pools(c, s, c->cands + start, n - start))
			return;
	}
	pend(s, auto_reason(c, s, c->cands, n, noauto));
}

/* MetalLB AllocateFromPoolForAdditionalFamily: best effort, same pool. */
static void
alloc_extend(struct actx *c, struct asvc *s)
{
	struct ipaddr a;
	int af = other_af(s->res->ips[0].family);

	if (alloc_pool_pick(c, s->pool, s, af, &a)) {
		alloc_take(c, s, &a);
		s->res->ips[s->res->nips++] = a;
		alloc_sort_v4_first(s->res->ips, s->res->nips);
	}
}

/*
 * Pass 1: the previous addresses stay while they are still what the
 * Service would be allowed to get: the family policy holds, one pool has
 * them all and may give them to it, and nobody kept them already.
 */
static void
keep_prev(struct actx *c, struct asvc *s)
{
	struct apool *p = NULL;
	size_t i;

	if (s->nprev == 0)
		return;
	if (s->nreq > 0) {
		/* MetalLB: a changed request clears the assignment. */
		if (ipaddr_list_eq(s->prev, s->nprev, s->req, s->nreq))
			alloc_requested(c, s);
		return;
	}
	if (s->pol == POL_SINGLE && (s->nprev != 1 || s->prev[0].family != s->af))
		return;
	if (s->pol == POL_REQUIRE && s->nprev != 2)
		return;
	for (i = 0; i < c->npools && p == NULL; i++) {
		struct apool *q = &c->pools[i];

		if (s->req_pool != NULL ? strcmp(q->name, s->req_pool) != 0 : !q->p->auto_assign)
			continue;
		if (alloc_pool_has_all(q, s->prev, s->nprev) && alloc_pool_accepts(c, q, s))
			p = q;
	}
	if (p == NULL)
		return;
	for (i = 0; i < s->nprev; i++)
		if (!alloc_usable(c, s, &s->prev[i]))
			return;
	assign(c, s, p, s->prev, s->nprev);
	s->extend = s->pol == POL_PREFER && s->nprev == 1 &&
	    p->has[fi(other_af(s->prev[0].family))];
}

/* Oldest first, so that on a fresh start older Services get lower addresses. */
static int
svc_age_cmp(const void *a, const void *b)
{
	const struct asvc *x = *(struct asvc * const *)a, *y = *(struct asvc * const *)b;
	const char *tx = x->obj->meta.creation_ts, *ty = y->obj->meta.creation_ts;
	int r;

	if ((tx == NULL) != (ty == NULL))
		return tx == NULL ? 1 : -1;
	if (tx != NULL && (r = strcmp(tx, ty)) != 0)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void
alloc_run(struct vg_arena *arena, const struct alloc_input *in,
    struct alloc_result **out, size_t *nout)
{
	struct actx c;
	struct asvc *svcs, **late;
	struct alloc_result *res;
	size_t i, n = 0, nlate = 0, nports, nshared;

	memset(&c, 0, sizeof(c));
	/* Only the results outlive the run: the tables (a Service's working
	 * state, the addresses taken) are freed before the caller builds on
	 * the results, so the two do not add up at the peak. */
	c.out = arena;
	c.arena = arena_new_sized(65536);
	c.in = in;
	for (i = 0; i < in->nservices; i++) {
		const struct k_service *k = OBJ_SPEC(in->services[i], k_service);

		if (str_eq(k->type, "LoadBalancer") &&
		    (k->load_balancer_class == NULL || *k->load_balancer_class == '\0'))
			n++;
	}
	res = arena_alloc(c.out, sizeof(*res) * (n + 1));
	svcs = arena_alloc(c.arena, sizeof(*svcs) * (n + 1));
	late = arena_alloc(c.arena, sizeof(*late) * (n + 1));
	*out = res;
	*nout = n;
	for (i = 0, n = 0; i < in->nservices; i++) {
		const struct k_service *k = OBJ_SPEC(in->services[i], k_service);

		if (!str_eq(k->type, "LoadBalancer") ||
		    (k->load_balancer_class != NULL && *k->load_balancer_class != '\0'))
			continue;
		svcs[n].obj = in->services[i];
		svcs[n].k = k;
		svcs[n].idx = n;
		svcs[n].res = &res[n];
		res[n].svc = in->services[i];
		n++;
	}
	if (in->npools == 0) {
		for (i = 0; i < n; i++)
			pend(&svcs[i], "no IPAddressPool");
		arena_free(c.arena);
		return;
	}
	c.usedmask = pow2_at_least(4 * n + 16) - 1;
	c.used = arena_alloc(c.arena, sizeof(*c.used) * (c.usedmask + 1));
	/* groups, signatures and port counts are for Services with a
	 * sharing key only: size their tables by those */
	for (i = 0, nports = 0, nshared = 0; i < n; i++) {
		const char *v = alloc_annotation(svcs[i].obj, "allow-shared-ip");

		if (v == NULL || *v == '\0')
			continue;
		nshared++;
		nports += svcs[i].k->nports;
	}
	c.keymask = pow2_at_least(2 * nshared + 16) - 1;
	c.groups = arena_alloc(c.arena, sizeof(*c.groups) * (c.keymask + 1));
	c.sigs = arena_alloc(c.arena, sizeof(*c.sigs) * (c.keymask + 1));
	c.portmask = pow2_at_least(2 * nports + 16) - 1;
	c.ports = arena_alloc(c.arena, sizeof(*c.ports) * (c.portmask + 1));
	alloc_pools_prep(&c);

	for (i = 0; i < n; i++) {
		alloc_svc_prep(&c, &svcs[i]);
		if (svcs[i].err != NULL)
			pend(&svcs[i], svcs[i].err);
	}
	for (i = 0; i < n; i++)
		if (!svcs[i].done)
			keep_prev(&c, &svcs[i]);

	/* Pass 2: fresh addresses, oldest first; a Service's explicit request
	 * before anybody's automatic pick. */
	for (i = 0; i < n; i++)
		if (!svcs[i].done || svcs[i].extend)
			late[nlate++] = &svcs[i];
	qsort(late, nlate, sizeof(*late), svc_age_cmp);
	for (i = 0; i < nlate; i++)
		if (late[i]->nreq > 0 && !late[i]->done)
			alloc_requested(&c, late[i]);
	for (i = 0; i < nlate; i++) {
		struct asvc *s = late[i];

		if (s->extend)
			alloc_extend(&c, s);
		else if (s->done)
			continue;
		else if (s->req_pool != NULL)
			alloc_from_pool(&c, s);
		else
			alloc_auto(&c, s);
	}
	arena_free(c.arena);
}
