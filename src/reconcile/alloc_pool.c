/*
 * The pools of an allocation run: in name and in priority order, which
 * addresses they hold, and which Services they accept (MetalLB
 * serviceAllocation: namespaces, namespaceSelectors, serviceSelectors).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vipgate/alloc.h"
#include "vipgate/util.h"

#include "alloc-int.h"

/* Namespaces carry this label, set by the API server (Kubernetes 1.21+). */
#define NS_NAME_LABEL "kubernetes.io/metadata.name"

int
alloc_pool_has_ip(const struct apool *p, const struct ipaddr *ip)
{
	size_t i;

	if (p->p->avoid_buggy_ips && buggy(ip))
		return 0;
	for (i = 0; i < p->p->nranges; i++)
		if (in_range(&p->p->ranges[i], ip))
			return 1;
	return 0;
}

int
alloc_pool_has_all(const struct apool *p, const struct ipaddr *ips, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!alloc_pool_has_ip(p, &ips[i]))
			return 0;
	return 1;
}

struct apool *
alloc_pool_by_name(const struct actx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->npools; i++)
		if (strcmp(c->pools[i].name, name) == 0)
			return &c->pools[i];
	return NULL;
}

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
int
alloc_pool_accepts(struct actx *c, const struct apool *p, struct asvc *s)
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

void
alloc_pools_prep(struct actx *c)
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
