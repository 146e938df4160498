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
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/alloc.h"
#include "vipgate/util.h"

enum policy {
	POL_SINGLE,
	POL_PREFER,
	POL_REQUIRE,
};

enum share {
	SH_OK,
	SH_KEY,		/* no sharing key, or another one */
	SH_BACKEND,	/* externalTrafficPolicy Local with other selectors */
	SH_PORT,	/* same port and protocol */
};

struct asvc;

struct ipuser {
	struct asvc	*svc;
	struct ipuser	*next;
};

/*
 * An address taken in this run, and the Services that hold it, in the
 * order they took it: the first in place (most addresses have one).
 */
struct ipuse {
	struct ipaddr	 ip;
	struct ipuser	 users;
	struct ipuser	*last;
	struct ipuse	*next_grp;	/* next address of the same group */
};

/*
 * Services that may share an address have the same sharing key and the
 * same backend key: a group. Its addresses, oldest first, and how many of
 * them use each port.
 */
struct group {
	struct group	 *next;		/* hash chain */
	uint64_t	  h;
	const struct asvc *rep;		/* the first Service in it */
	struct ipuse	 *head, *tail;
	size_t		  nips;
};

struct portcnt {
	const struct group	*g;
	int64_t			 port;
	const char		*proto;
	size_t			 nips;
};

/*
 * A group and a set of ports: all that decides whether a Service may join
 * an address. Holders are only ever added during a run, so an address
 * that cannot take a signature never will: each signature remembers which
 * of its group's addresses are still candidates, and looks at each address
 * once, however many Services clash on a port.
 */
struct sig {
	struct sig	 *next;		/* hash chain */
	uint64_t	  h;
	const struct asvc *rep;		/* the first Service with it */
	const struct ipuse *seen;	/* last address of the group looked at */
	const struct ipuse **cand;	/* addresses it may still share */
	size_t		  ncand, capcand;
};

/*
 * Every address of a range below the cursor is taken (or avoided): addresses
 * are only ever taken during a run, so the scan for a free one never goes
 * back, and a /64 is never walked.
 */
struct cursor {
	struct ipaddr	ip;
	int		done;
};

struct apool {
	struct object			*obj;
	const char			*name;		/* in the result arena */
	const struct k_ipaddresspool	*p;
	struct cursor			*cur;		/* one a range */
	int				 has[2];	/* has IPv4, IPv6 ranges */
	int				 pinned;	/* namespaces or selectors */
	int64_t				 prio;		/* 0 when unset */
};

/* One a LoadBalancer Service; small fields last (50,000 of them at 100k VIPs). */
struct asvc {
	struct object		*obj;
	const struct k_service	*k;
	struct alloc_result	*res;
	const char		*key;		/* allow-shared-ip; NULL when absent or empty */
	const struct strmap	*backend;	/* the selector when ETP Local */
	const char		*req_pool;	/* address-pool */
	const char		*err;		/* invalid request: pending whatever the pools */
	const struct strmap	*nslabels;	/* looked up on first use */
	struct group		*grp;		/* when it has a sharing key */
	struct sig		*sig;
	struct apool		*pool;
	struct ipaddr		 req[2];	/* requested, v4 first */
	struct ipaddr		 prev[2];	/* previous assignment, v4 first */
	uint32_t		 idx;		/* in input order */
	uint8_t			 pol;		/* enum policy */
	uint8_t			 af;		/* the primary family */
	uint8_t			 nreq;
	uint8_t			 nprev;
	uint8_t			 done;
	uint8_t			 extend;	/* PreferDualStack kept one address */
};

struct actx {
	struct vg_arena			*arena;		/* this run's tables: freed at its end */
	struct vg_arena			*out;		/* the results and their strings */
	const struct alloc_input	*in;
	struct apool			*pools;		/* by name */
	size_t				 npools;
	struct apool			**order;	/* by priority, then name */
	struct apool			**cands;	/* scratch, npools long */
	struct ipuse			**used;		/* open addressing on the address */
	size_t				 usedmask;
	struct group			**groups;	/* chained, keymask + 1 buckets */
	struct sig			**sigs;		/* chained, keymask + 1 buckets */
	size_t				 keymask;
	struct portcnt			*ports;		/* open addressing */
	size_t				 portmask;
	const char			*last_ns;	/* namespace labels cache */
	const struct strmap		*last_nslabels;
};

/* Namespaces carry this label, set by the API server (Kubernetes 1.21+). */
#define NS_NAME_LABEL "kubernetes.io/metadata.name"

static int
fi(int af)
{
	return af == AF_INET6;
}

static int
other_af(int af)
{
	return af == AF_INET6 ? AF_INET : AF_INET6;
}

static const char *
af_name(int af)
{
	return af == AF_INET6 ? "IPv6" : "IPv4";
}

/* MetalLB ipConfusesBuggyFirmwares: .0 and .255 trip smurf protection in old CPE. */
static int
buggy(const struct ipaddr *ip)
{
	return ip->family == AF_INET && (ip->a[3] == 0 || ip->a[3] == 255);
}

static int
in_range(const struct pool_range *r, const struct ipaddr *ip)
{
	return r->first.family == ip->family && ipaddr_cmp(&r->first, ip) <= 0 &&
	    ipaddr_cmp(ip, &r->last) <= 0;
}

static int
pool_has_ip(const struct apool *p, const struct ipaddr *ip)
{
	size_t i;

	if (p->p->avoid_buggy_ips && buggy(ip))
		return 0;
	for (i = 0; i < p->p->nranges; i++)
		if (in_range(&p->p->ranges[i], ip))
			return 1;
	return 0;
}

static int
pool_has_all(const struct apool *p, const struct ipaddr *ips, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!pool_has_ip(p, &ips[i]))
			return 0;
	return 1;
}

static struct apool *
pool_by_name(const struct actx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->npools; i++)
		if (strcmp(c->pools[i].name, name) == 0)
			return &c->pools[i];
	return NULL;
}

static size_t
pow2_at_least(size_t n)
{
	size_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

/* ---- addresses taken ---- */

static struct ipuse **
used_slot(const struct actx *c, const struct ipaddr *ip)
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
static enum share
share_check(const struct ipuse *u, const struct asvc *s,
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

static struct group *
group_get(struct actx *c, const struct asvc *s)
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

static struct sig *
sig_get(struct actx *c, const struct asvc *s)
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

static int
usable(const struct actx *c, const struct asvc *s, const struct ipaddr *ip)
{
	const struct asvc *w;
	const struct k_svc_port *pt;

	return share_check(*used_slot(c, ip), s, &w, &pt) == SH_OK;
}

static void
take(struct actx *c, struct asvc *s, const struct ipaddr *ip)
{
	struct ipuse **slot = used_slot(c, ip), *u = *slot;
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

/* ---- results ---- */

static void
sort_v4_first(struct ipaddr *ips, size_t n)
{
	if (n == 2 && ips[0].family == AF_INET6) {
		struct ipaddr t = ips[0];

		ips[0] = ips[1];
		ips[1] = t;
	}
}

static void
assign(struct actx *c, struct asvc *s, struct apool *p, const struct ipaddr *ips, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		take(c, s, &ips[i]);
		s->res->ips[s->res->nips++] = ips[i];
	}
	sort_v4_first(s->res->ips, s->res->nips);
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

/* ---- pools ---- */

static const struct strmap *
ns_labels(struct actx *c, const char *ns)
{
	const struct alloc_input *in = c->in;
	const struct strmap *l = NULL;
	struct strmap *m;
	size_t lo = 0, hi = in->nnamespaces, i, j;
	int have = 0;

	if (c->last_ns != NULL && strcmp(c->last_ns, ns) == 0)
		return c->last_nslabels;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(in->namespaces[mid]->meta.name, ns);

		if (r == 0) {
			l = &in->namespaces[mid]->meta.labels;
			break;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* What the API server does: a namespace is labelled with its name,
	 * including one that was never written as a Namespace object. */
	m = arena_alloc(c->arena, sizeof(*m));
	m->k = arena_alloc(c->arena, sizeof(char *) * ((l ? l->n : 0) + 1));
	m->v = arena_alloc(c->arena, sizeof(char *) * ((l ? l->n : 0) + 1));
	for (i = 0, j = 0; l != NULL && i < l->n; i++) {
		int r = strcmp(l->k[i], NS_NAME_LABEL);

		if (r > 0 && !have) {
			m->k[j] = NS_NAME_LABEL;
			m->v[j++] = ns;
			have = 1;
		}
		if (r == 0)
			continue;
		m->k[j] = l->k[i];
		m->v[j++] = l->v[i];
	}
	if (!have) {
		m->k[j] = NS_NAME_LABEL;
		m->v[j++] = ns;
	}
	m->n = j;
	c->last_ns = ns;
	c->last_nslabels = m;
	return m;
}

/*
 * MetalLB serviceAllocation: namespaces and namespaceSelectors together
 * name the namespaces a pool serves (either one matching will do);
 * serviceSelectors, when set, must match too.
 */
static int
pool_accepts(struct actx *c, const struct apool *p, struct asvc *s)
{
	const struct k_service_allocation *sa = p->p->service_allocation;
	size_t i;

	if (sa == NULL)
		return 1;
	if (sa->nnamespaces > 0 || sa->nnamespace_selectors > 0) {
		int ok = 0;

		for (i = 0; i < sa->nnamespaces && !ok; i++)
			ok = strcmp(sa->namespaces[i], s->obj->meta.ns) == 0;
		if (!ok && sa->nnamespace_selectors > 0) {
			if (s->nslabels == NULL)
				s->nslabels = ns_labels(c, s->obj->meta.ns);
			ok = labelsels_match_any(sa->namespace_selectors,
			    sa->nnamespace_selectors, s->nslabels);
		}
		if (!ok)
			return 0;
	}
	if (sa->nservice_selectors > 0 && !labelsels_match_any(sa->service_selectors,
	    sa->nservice_selectors, &s->obj->meta.labels))
		return 0;
	return 1;
}

static int
range_first_free(const struct actx *c, struct apool *p, size_t r, struct ipaddr *out)
{
	struct cursor *cu = &p->cur[r];
	const struct pool_range *pr = &p->p->ranges[r];

	while (!cu->done) {
		if (!(p->p->avoid_buggy_ips && buggy(&cu->ip)) &&
		    *used_slot(c, &cu->ip) == NULL) {
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

	return share_check(u, s, &w, &pt) == SH_OK;
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
static int
pool_pick(struct actx *c, struct apool *p, const struct asvc *s, int af,
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

		ha = pool_pick(c, p, s, s->af, &two[0]);
		if (s->pol == POL_SINGLE) {
			if (ha) {
				assign(c, s, p, two, 1);
				return 1;
			}
			continue;
		}
		hb = pool_pick(c, p, s, af2, &two[1]);
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

/* ---- one Service ---- */

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

	if (s->req_pool != NULL && (rp = pool_by_name(c, s->req_pool)) == NULL) {
		pend(s, arena_printf(c->out, "pool %s does not exist", s->req_pool));
		return 0;
	}
	for (i = 0; i < s->nreq; i++) {
		size_t j;

		for (j = 0; j < c->npools; j++)
			if (pool_has_ip(&c->pools[j], &s->req[i]))
				break;
		if (j == c->npools) {
			pend(s, arena_printf(c->out, "requested IP %s is not in any pool",
			    ipaddr_fmt(&s->req[i], b0)));
			return 0;
		}
		if (rp != NULL && !pool_has_ip(rp, &s->req[i])) {
			pend(s, arena_printf(c->out, "requested IP %s is not in pool %s",
			    ipaddr_fmt(&s->req[i], b0), rp->name));
			return 0;
		}
	}
	/* Pools should not overlap; where they do, the first by name that takes it. */
	for (i = 0; i < c->npools && p == NULL; i++) {
		struct apool *q = &c->pools[i];

		if ((rp != NULL && q != rp) || !pool_has_all(q, s->req, s->nreq))
			continue;
		if (first == NULL)
			first = q;
		if (pool_accepts(c, q, s))
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
		enum share sh = share_check(*used_slot(c, &s->req[i]), s, &w, &pt);

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
	struct apool *p = pool_by_name(c, s->req_pool);
	struct ipaddr a;

	if (p == NULL) {
		pend(s, arena_printf(c->out, "pool %s does not exist", s->req_pool));
		return;
	}
	if (!pool_accepts(c, p, s)) {
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
			if (!pool_pick(c, p, s, afs[i], &a)) {
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

			if (p->pinned != pinned || !pool_accepts(c, p, s))
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

	if (pool_pick(c, s->pool, s, af, &a)) {
		take(c, s, &a);
		s->res->ips[s->res->nips++] = a;
		sort_v4_first(s->res->ips, s->res->nips);
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
		if (pool_has_all(q, s->prev, s->nprev) && pool_accepts(c, q, s))
			p = q;
	}
	if (p == NULL)
		return;
	for (i = 0; i < s->nprev; i++)
		if (!usable(c, s, &s->prev[i]))
			return;
	assign(c, s, p, s->prev, s->nprev);
	s->extend = s->pol == POL_PREFER && s->nprev == 1 &&
	    p->has[fi(other_af(s->prev[0].family))];
}

/* Up to one address of each family, v4 first; 0 when that is not what it is. */
static size_t
norm_ips(const struct ipaddr *in, size_t n, struct ipaddr out[2])
{
	size_t i;

	if (n == 0 || n > 2)
		return 0;
	for (i = 0; i < n; i++) {
		if (in[i].family != AF_INET && in[i].family != AF_INET6)
			return 0;
		out[i] = in[i];
	}
	if (n == 2 && in[0].family == in[1].family)
		return 0;
	sort_v4_first(out, n);
	return n;
}

static const struct alloc_prev *
prev_find(const struct alloc_input *in, const char *ns, const char *name)
{
	size_t lo = 0, hi = in->nprev;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct alloc_prev *p = &in->prev[mid];
		int r = strcmp(p->ns, ns);

		if (r == 0)
			r = strcmp(p->name, name);
		if (r == 0)
			return p;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void
svc_prev(const struct actx *c, struct asvc *s)
{
	const struct alloc_prev *p = prev_find(c->in, s->obj->meta.ns, s->obj->meta.name);
	struct ipaddr st[2];
	size_t i;

	if (p != NULL && p->nips > 0) {
		s->nprev = norm_ips(p->ips, p->nips, s->prev);
		return;
	}
	if (s->k->nstatus_ingress_ips == 0 || s->k->nstatus_ingress_ips > 2)
		return;
	for (i = 0; i < s->k->nstatus_ingress_ips; i++)
		if (ipaddr_parse(s->k->status_ingress_ips[i], &st[i]) == -1)
			return;
	s->nprev = norm_ips(st, s->k->nstatus_ingress_ips, s->prev);
}

/* loadBalancerIPs (comma-separated, spaces trimmed) or spec.loadBalancerIP. */
static const char *
svc_requested(struct actx *c, struct asvc *s)
{
	const char *ann = alloc_annotation(s->obj, "loadBalancerIPs");
	const char *lbip = s->k->load_balancer_ip;
	char b0[IPADDR_STRLEN], b1[IPADDR_STRLEN];

	if (ann != NULL && *ann == '\0')
		ann = NULL;
	if (lbip != NULL && *lbip == '\0')
		lbip = NULL;
	if (ann != NULL && lbip != NULL)
		return "both the loadBalancerIPs annotation and spec.loadBalancerIP are set";
	if (lbip != NULL) {
		if (ipaddr_parse(lbip, &s->req[0]) == -1)
			return arena_printf(c->out, "spec.loadBalancerIP \"%s\" is not an IP address", lbip);
		s->nreq = 1;
		return NULL;
	}
	while (ann != NULL) {
		const char *comma = strchr(ann, ','), *e = comma ? comma : ann + strlen(ann);
		char *tok;

		while (ann < e && isspace((unsigned char)*ann))
			ann++;
		while (e > ann && isspace((unsigned char)e[-1]))
			e--;
		if (s->nreq == 2)
			return "loadBalancerIPs: at most one IPv4 and one IPv6 address";
		tok = arena_strndup(c->arena, ann, (size_t)(e - ann));
		if (ipaddr_parse(tok, &s->req[s->nreq]) == -1)
			return arena_printf(c->out, "loadBalancerIPs: \"%s\" is not an IP address", tok);
		s->nreq++;
		ann = comma ? comma + 1 : NULL;
	}
	if (s->nreq == 2 && s->req[0].family == s->req[1].family)
		return arena_printf(c->out, "loadBalancerIPs: %s and %s are of the same family",
		    ipaddr_fmt(&s->req[0], b0), ipaddr_fmt(&s->req[1], b1));
	sort_v4_first(s->req, s->nreq);
	return NULL;
}

static void
svc_prep(struct actx *c, struct asvc *s)
{
	const struct k_service *k = s->k;
	const char *v;
	char b0[IPADDR_STRLEN], b1[IPADDR_STRLEN];

	v = alloc_annotation(s->obj, "allow-shared-ip");
	s->key = v != NULL && *v != '\0' ? v : NULL;
	if (str_eq(k->external_traffic_policy, "Local"))
		s->backend = &k->selector;
	if (s->key != NULL) {
		s->res->sharing_key = arena_strdup(c->out, s->key);
		s->grp = group_get(c, s);
		s->sig = sig_get(c, s);
	}
	v = alloc_annotation(s->obj, "address-pool");
	s->req_pool = v != NULL && *v != '\0' ? v : NULL;
	if (str_eq(k->ip_family_policy, "PreferDualStack"))
		s->pol = POL_PREFER;
	else if (str_eq(k->ip_family_policy, "RequireDualStack"))
		s->pol = POL_REQUIRE;
	else
		s->pol = POL_SINGLE;
	if ((s->err = svc_requested(c, s)) != NULL)
		return;
	/*
	 * The API server fills ipFamilies; a manifest from a file may leave it
	 * out, and then a single requested address says the family.
	 */
	if (k->nip_families > 0)
		s->af = str_eq(k->ip_families[0], "IPv6") ? AF_INET6 : AF_INET;
	else if (s->nreq == 1)
		s->af = s->req[0].family;
	else
		s->af = AF_INET;
	if (s->nreq == 1 && s->pol == POL_SINGLE && s->req[0].family != s->af)
		s->err = arena_printf(c->out, "requested IP %s is not %s, the service's family",
		    ipaddr_fmt(&s->req[0], b0), af_name(s->af));
	else if (s->nreq == 2 && s->pol == POL_SINGLE)
		s->err = arena_printf(c->out, "requested IPs %s and %s need ipFamilyPolicy "
		    "PreferDualStack or RequireDualStack",
		    ipaddr_fmt(&s->req[0], b0), ipaddr_fmt(&s->req[1], b1));
	else if (s->nreq == 1 && s->pol == POL_REQUIRE)
		s->err = "RequireDualStack needs an IPv4 and an IPv6 requested IP";
	if (s->err == NULL)
		svc_prev(c, s);
}

/* ---- the run ---- */

static int
pool_order_cmp(const void *a, const void *b)
{
	const struct apool *x = *(struct apool * const *)a, *y = *(struct apool * const *)b;
	int r;

	/* MetalLB sortPools: priority 1 first, unset (or 0) last. */
	if ((x->prio > 0) != (y->prio > 0))
		return x->prio > 0 ? -1 : 1;
	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	if ((r = strcmp(x->name, y->name)) != 0)
		return r;
	return strcmp(x->obj->meta.ns, y->obj->meta.ns);
}

static int
pool_name_cmp(const void *a, const void *b)
{
	const struct apool *x = a, *y = b;
	int r;

	if ((r = strcmp(x->name, y->name)) != 0)
		return r;
	return strcmp(x->obj->meta.ns, y->obj->meta.ns);
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

static void
pools_prep(struct actx *c)
{
	const struct alloc_input *in = c->in;
	size_t i, r;

	c->npools = in->npools;
	c->pools = arena_alloc(c->arena, sizeof(*c->pools) * (in->npools + 1));
	c->order = arena_alloc(c->arena, sizeof(*c->order) * (in->npools + 1));
	c->cands = arena_alloc(c->arena, sizeof(*c->cands) * (in->npools + 1));
	for (i = 0; i < in->npools; i++) {
		struct apool *p = &c->pools[i];
		const struct k_service_allocation *sa;

		p->obj = in->pools[i];
		p->name = arena_strdup(c->out, p->obj->meta.name);
		p->p = OBJ_SPEC(p->obj, k_ipaddresspool);
		sa = p->p->service_allocation;
		if (sa != NULL) {
			p->pinned = sa->nnamespaces > 0 || sa->nnamespace_selectors > 0 ||
			    sa->nservice_selectors > 0;
			p->prio = sa->priority.set && sa->priority.v > 0 ? sa->priority.v : 0;
		}
		p->cur = arena_alloc(c->arena, sizeof(*p->cur) * (p->p->nranges + 1));
		for (r = 0; r < p->p->nranges; r++) {
			p->cur[r].ip = p->p->ranges[r].first;
			p->has[fi(p->p->ranges[r].first.family)] = 1;
		}
	}
	qsort(c->pools, c->npools, sizeof(*c->pools), pool_name_cmp);
	for (i = 0; i < c->npools; i++)
		c->order[i] = &c->pools[i];
	qsort(c->order, c->npools, sizeof(*c->order), pool_order_cmp);
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
	pools_prep(&c);

	for (i = 0; i < n; i++) {
		svc_prep(&c, &svcs[i]);
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

const char *
alloc_annotation(const struct object *svc, const char *suffix)
{
	static const char *prefixes[] = { "metallb.io/", "metallb.universe.tf/" };
	char key[256];
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(prefixes); i++) {
		const char *v;

		if ((size_t)snprintf(key, sizeof(key), "%s%s", prefixes[i], suffix) >= sizeof(key))
			return NULL;
		if ((v = strmap_get(&svc->meta.annotations, key)) != NULL)
			return v;
	}
	return NULL;
}
