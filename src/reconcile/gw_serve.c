/*
 * Which gateway deployments can serve on this node (d->gateway_deps), for
 * reconcile.c (a gateway Service is withdrawn from this node only when its
 * own deployment cannot serve) and l2_plan.c (this node is no candidate for
 * such a Service's VIPs). A deployment cannot serve while the data plane as
 * a whole cannot (starting, draining: live->gateway_ready), while one of its
 * listeners is not bound (live->gateway_unbound), or, with
 * gateway.require_endpoints, while none of its routes reaches a ready
 * endpoint. Pure; a leaf of reconcile/ besides select.c.
 */
#include "config.h"

#include <string.h>

#include "vipgate/gw-l4-t.h"
#include "vipgate/reconcile.h"
#include "select.h"

static int
cluster_serves(const struct gw_cluster *c)
{
	return c && c->missing == NULL && c->neps > 0;
}

static int
dests_serve(const struct gw_dest *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cluster_serves(d[i].cluster))
			return 1;
	return 0;
}

/* Whether a route of an HTTP listener reaches a ready endpoint (mirrors count, as before). */
static int
http_serves(const struct gw_listener *l)
{
	size_t c, v, r, m;

	for (c = 0; c < l->nchains; c++)
		for (v = 0; v < l->chains[c].nvhosts; v++)
			for (r = 0; r < l->chains[c].vhosts[v].nroutes; r++) {
				const struct gw_route *rt = &l->chains[c].vhosts[v].routes[r];

				if (dests_serve(rt->dests, rt->ndests))
					return 1;
				for (m = 0; m < rt->nmirrors; m++)
					if (cluster_serves(rt->mirrors[m].cluster))
						return 1;
			}
	return 0;
}

static int
l4_serves(const struct gw_l4 *l4)
{
	size_t i;

	for (i = 0; i < l4->nroutes; i++)
		if (dests_serve(l4->routes[i].dests, l4->routes[i].ndests))
			return 1;
	for (i = 0; i < l4->nautos; i++)
		if (dests_serve(l4->autos[i].route.dests, l4->autos[i].route.ndests))
			return 1;
	return 0;
}

/*
 * Whether some route of deployment dep reaches a ready endpoint. With one
 * deployment every cluster is its own: any cluster with an endpoint will
 * do, as it always did.
 */
int
reconcile_gw_dep_reaches(const struct gw_desired *g, size_t dep)
{
	size_t i;

	if (g == NULL)
		return 0;
	if (g->ndeps <= 1) {
		for (i = 0; i < g->nclusters; i++)
			if (cluster_serves(g->clusters[i]))
				return 1;
		return 0;
	}
	for (i = 0; i < g->nlisteners; i++) {
		const struct gw_listener *l = &g->listeners[i];

		if (l->dep == dep && (l->l4 ? l4_serves(l->l4) : http_serves(l)))
			return 1;
	}
	return 0;
}

void
reconcile_gw_serving(struct desired *d, const struct config *cfg, const struct live_view *live)
{
	const struct cfg_gateway *gc = &cfg->gateway;
	const char *node_why = NULL;
	size_t i;

	d->gateway_deps = NULL;
	d->ngateway_deps = d->ngateway_deps_down = 0;
	d->gateway_down = NULL;
	if (!gc->enabled || gc->ndeployments == 0)
		return;
	if (live == NULL || !live->gateway_ready)
		node_why = live && live->gateway_why ? live->gateway_why : "not ready";
	d->gateway_deps = arena_alloc(d->arena, sizeof(*d->gateway_deps) * gc->ndeployments);
	d->ngateway_deps = gc->ndeployments;
	for (i = 0; i < gc->ndeployments; i++) {
		struct gw_dep_state *ds = &d->gateway_deps[i];

		ds->name = arena_strdup(d->arena, gc->deployments[i].name);
		if (node_why)
			ds->why = node_why;
		else if (sel_in_list(live->gateway_unbound, live->ngateway_unbound, ds->name))
			ds->why = "a listener is not bound";
		else if (gc->require_endpoints && !reconcile_gw_dep_reaches(d->gw, i))
			ds->why = "no route has a ready endpoint";
		else
			ds->why = NULL;
		if (ds->why) {
			ds->why = arena_strdup(d->arena, ds->why);
			d->ngateway_deps_down++;
		}
	}
	if (d->ngateway_deps_down < d->ngateway_deps)
		return;
	/* none can serve: the node as a whole cannot (one deployment: its reason) */
	if (node_why)
		d->gateway_down = arena_strdup(d->arena, node_why);
	else if (d->ngateway_deps == 1)
		d->gateway_down = d->gateway_deps[0].why;
	else
		d->gateway_down = "no deployment can serve";
}

const struct gw_dep_state *
desired_svc_dep(const struct desired *d, const struct object *svc, const struct config *cfg)
{
	int i = reconcile_gateway_deployment(svc, cfg);

	if (i < 0 || (size_t)i >= d->ngateway_deps)
		return NULL;
	return &d->gateway_deps[i];
}
