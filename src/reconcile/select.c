/*
 * Selection that the parts of reconcile share: reconcile.c (which Services
 * this node announces), bgp_plan.c and l2_plan.c (to whom and where), and
 * gw_plan*.c (the gateway's workloads). A leaf: it calls no other file of
 * reconcile/, so that the parts can all call it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vipgate/log.h"
#include "vipgate/reconcile.h"

#include "select.h"

int
sel_in_list(const char *const *l, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(l[i], s) == 0)
			return 1;
	return 0;
}

int
sel_strmap_subset(const struct strmap *a, const struct strmap *b)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		const char *v = strmap_get(b, a->k[i]);

		if (v == NULL || strcmp(v, a->v[i]) != 0)
			return 0;
	}
	return 1;
}

/*
 * A gateway's own Service selects its pods: its selector matches the
 * deployment's labels. Istio's chart selects {app, istio}, while the
 * default gateway.labels is {istio: ingressgateway}, so either inclusion
 * counts. The first deployment that matches owns the Service.
 */
int
reconcile_gateway_deployment(const struct object *svc, const struct config *cfg)
{
	const struct k_service *s = svc->spec;
	size_t i;

	if (!cfg->gateway.enabled || s->selector.n == 0)
		return -1;
	for (i = 0; i < cfg->gateway.ndeployments; i++) {
		const struct strmap *l = &cfg->gateway.deployments[i].labels;

		if (l->n && (sel_strmap_subset(&s->selector, l) || sel_strmap_subset(l, &s->selector)))
			return (int)i;
	}
	return -1;
}

int
reconcile_is_gateway_service(const struct object *svc, const struct config *cfg)
{
	return reconcile_gateway_deployment(svc, cfg) >= 0;
}

/* This node's labels: its Node object's, overlaid with the config's. */
struct strmap
reconcile_node_labels(struct vg_arena *a, const struct object *node, const struct config *cfg)
{
	const struct strmap *nl = node ? &node->meta.labels : NULL;
	const struct strmap *cl = &cfg->node.labels;
	struct strmap m;
	size_t i = 0, j = 0, n = 0, cap = (nl ? nl->n : 0) + cl->n;

	m.k = arena_alloc(a, sizeof(char *) * (cap ? cap : 1));
	m.v = arena_alloc(a, sizeof(char *) * (cap ? cap : 1));
	while ((nl && i < nl->n) || j < cl->n) {
		int r;

		if (!nl || i == nl->n)
			r = 1;
		else if (j == cl->n)
			r = -1;
		else
			r = strcmp(nl->k[i], cl->k[j]);
		if (r < 0) {
			m.k[n] = nl->k[i];
			m.v[n++] = nl->v[i++];
		} else {
			if (r == 0)
				i++;
			m.k[n] = cl->k[j];
			m.v[n++] = cl->v[j++];
		}
	}
	m.n = n;
	return m;
}

int
sel_adv_selects_pool(const char *const *names, size_t nnames, const struct labelsel *sels,
    size_t nsels, const struct object *pool)
{
	if (nnames == 0 && nsels == 0)
		return 1;
	if (sel_in_list(names, nnames, pool->meta.name))
		return 1;
	return nsels > 0 && labelsels_match_any(sels, nsels, &pool->meta.labels);
}

const struct object *
sel_find_pool(struct object * const *pools, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(pools[i]->meta.name, name) == 0)
			return pools[i];
	return NULL;
}

/* ---- endpoints that can serve ---- */

/* MetalLB EndpointCanServe: ready, or serving (an unset condition counts as true). */
static int
ep_can_serve(const struct k_slice_endpoint *e)
{
	int ready = !e->ready.set || e->ready.v;
	int serving = e->serving.set ? (int)e->serving.v : ready;

	return e->naddresses > 0 && (ready || serving);
}

/*
 * EndpointSlices name their Service by label, not by object name: an index
 * by namespace and Service, made once a pass, keeps the look-up for every
 * Service logarithmic (a scan per Service was quadratic when a namespace
 * holds thousands of slices).
 */
struct sel_slice {
	const char			*ns, *svc;
	const struct k_endpointslice	*es;
};

static int
slice_cmp(const void *a, const void *b)
{
	const struct sel_slice *x = a, *y = b;
	int r = strcmp(x->ns, y->ns);

	return r ? r : strcmp(x->svc, y->svc);
}

struct sel_slice *
sel_slice_index(struct store *st, size_t *np)
{
	struct object * const *l;
	struct sel_slice *ix;
	size_t n, i, m = 0;

	l = store_list(st, K_ENDPOINTSLICE, &n);
	ix = xcalloc(n ? n : 1, sizeof(*ix));
	for (i = 0; i < n; i++) {
		const struct k_endpointslice *es = l[i]->spec;

		/* a slice without the label serves nobody */
		if (es->service_name == NULL)
			continue;
		ix[m].ns = l[i]->meta.ns;
		ix[m].svc = es->service_name;
		ix[m].es = es;
		m++;
	}
	qsort(ix, m, sizeof(*ix), slice_cmp);
	*np = m;
	return ix;
}

void
sel_serving_endpoints(struct store *st, const struct sel_slice *ix, size_t nix,
    const struct object *svc, void (*fn)(void *, const char *), void *arg)
{
	const struct sel_slice key = { svc->meta.ns, svc->meta.name, NULL };
	const struct object *ep;
	size_t lo = 0, hi = nix, i, j, k;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (slice_cmp(&ix[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < nix && slice_cmp(&ix[i], &key) == 0; i++) {
		const struct k_endpointslice *es = ix[i].es;

		for (j = 0; j < es->nendpoints; j++)
			if (ep_can_serve(&es->endpoints[j]))
				fn(arg, es->endpoints[j].node_name);
	}
	ep = store_get(st, K_ENDPOINTS, svc->meta.ns, svc->meta.name);
	if (ep) {
		const struct k_endpoints *e = ep->spec;

		for (j = 0; j < e->nsubsets; j++)
			for (k = 0; k < e->subsets[j].naddresses; k++)
				fn(arg, e->subsets[j].addresses[k].node_name);
	}
}
