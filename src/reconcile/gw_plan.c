/*
 * The gw part of the desired state: Gateways, VirtualServices,
 * DestinationRules and endpoints compiled as istiod translates them for an
 * ingress gateway (pilot/pkg/networking/core/gateway.go,
 * cluster_traffic_policy.go). Pure: reads the store and the config, writes
 * only into d->arena, copies every string it keeps.
 *
 * The plan's files, each calling only files below it in this list:
 *  - gw_plan.c: reconcile_gw(), and the snapshot assembled from what the
 *    others built (plan_finish);
 *  - gw_plan_route.c: VirtualServices attached to servers, http[] rules
 *    compiled to routes;
 *  - gw_plan_listen.c: Gateways' servers to listeners, filter chains and
 *    their TLS, virtual hosts;
 *  - gw_plan_l4.c: TCP and TLS passthrough servers, tcp[] and tls[] rules;
 *  - gw_plan_cluster.c: a destination's cluster and its DestinationRule
 *    policy;
 *  - gw_plan_ep.c: a cluster's endpoints;
 *  - gw_plan_secret.c: the Secrets they read;
 *  - gw_plan_base.c: notes, sorting, host names.
 * The plan under construction (struct plan) is in gw-plan-t.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vipgate/log.h"
#include "vipgate/reconcile.h"

#include "gw-plan.h"

static int
vh_cmp(const void *x, const void *y)
{
	const struct gw_vhost *a = x, *b = y;

	return strcmp(a->name, b->name);
}

static int
lis_cmp(const void *x, const void *y)
{
	const struct lis_build *a = *(const struct lis_build * const *)x;
	const struct lis_build *b = *(const struct lis_build * const *)y;

	return (a->port > b->port) - (a->port < b->port);
}

static int
cl_cmp(const void *x, const void *y)
{
	const struct gw_cluster *a = *(const struct gw_cluster * const *)x;
	const struct gw_cluster *b = *(const struct gw_cluster * const *)y;

	return strcmp(a->name, b->name);
}

static void
plan_finish(struct plan *p, struct gw_desired *g)
{
	size_t i, j, k, r;

	gwp_sort(p->lis.v, p->lis.n, sizeof(void *), lis_cmp);
	g->listeners = arena_alloc(p->a, sizeof(*g->listeners) * (p->lis.n ? p->lis.n : 1));
	g->nlisteners = p->lis.n;
	for (i = 0; i < p->lis.n; i++) {
		struct lis_build *lb = p->lis.v[i];
		struct gw_listener *l = &g->listeners[i];

		l->port = lb->port;
		l->tls = lb->tls;
		l->hash = hash_bytes(HASH_INIT, &l->port, sizeof(l->port));
		l->hash = hash_bytes(l->hash, &l->tls, sizeof(l->tls));
		l->l4 = gwp_l4_finish(p, lb);
		l->chains = arena_alloc(p->a, sizeof(*l->chains) * (lb->chains.n ? lb->chains.n : 1));
		l->nchains = lb->chains.n;
		for (j = 0; j < lb->chains.n; j++) {
			struct chain_build *cb = lb->chains.v[j];
			struct gw_chain *c = &l->chains[j];

			*c = cb->c;
			c->vhosts = arena_alloc(p->a, sizeof(*c->vhosts) * (cb->vhosts.n ? cb->vhosts.n : 1));
			c->nvhosts = cb->vhosts.n;
			for (k = 0; k < cb->vhosts.n; k++) {
				struct vh_build *vb = cb->vhosts.v[k];
				struct gw_vhost *v = &c->vhosts[k];

				v->name = vb->name;
				v->require_tls = vb->require_tls;
				v->nroutes = vb->routes.n;
				v->routes = arena_alloc(p->a, sizeof(*v->routes) * (vb->routes.n ? vb->routes.n : 1));
				for (r = 0; r < vb->routes.n; r++)
					v->routes[r] = *(struct gw_route *)vb->routes.v[r];
				ptrvec_free(&vb->routes);
				free(vb);
			}
			gwp_sort(c->vhosts, c->nvhosts, sizeof(*c->vhosts), vh_cmp);
			ptrvec_free(&cb->vhosts);
			free(cb);
		}
		ptrvec_free(&lb->chains);
		free(lb);
	}
	ptrvec_free(&p->lis);

	gwp_sort(p->clusters.v, p->clusters.n, sizeof(void *), cl_cmp);
	g->clusters = arena_alloc(p->a, sizeof(*g->clusters) * (p->clusters.n ? p->clusters.n : 1));
	for (i = 0; i < p->clusters.n; i++) {
		g->clusters[i] = p->clusters.v[i];
		g->clusters[i]->id = i;
	}
	g->nclusters = p->clusters.n;
	ptrvec_free(&p->clusters);

	g->regexes = arena_alloc(p->a, sizeof(char *) * (p->regexes.n ? p->regexes.n : 1));
	for (i = 0; i < p->regexes.n; i++)
		g->regexes[i] = p->regexes.v[i];
	g->nregexes = p->regexes.n;
	ptrvec_free(&p->regexes);

	g->notes = arena_alloc(p->a, sizeof(*g->notes) * (p->notes.n ? p->notes.n : 1));
	for (i = 0; i < p->notes.n; i++)
		g->notes[i] = *(struct gw_note *)p->notes.v[i];
	g->nnotes = p->notes.n;
	ptrvec_free(&p->notes);
}

void
reconcile_gw(struct desired *d, struct store *st, const struct config *cfg,
    const struct live_view *live)
{
	struct plan p = { 0 };
	struct object * const *gws;
	struct srv_ref *srvs;
	size_t ngws, nsrvs, i;

	(void)live;
	if (!cfg->gateway.enabled)
		return;
	p.d = d;
	p.a = d->arena;
	p.st = st;
	p.cfg = cfg;

	gws = store_list(st, K_GATEWAY, &ngws);
	srvs = gwp_servers(&p, gws, ngws, &nsrvs);
	/* TCP and TLS servers (gw_plan_l4.c) after the HTTP ones were given their chains */
	for (i = 0; i < nsrvs; i++)
		if (srvs[i].l4)
			gwp_l4_server(&p, srvs[i].gw, srvs[i].srv, srvs[i].idx, srvs[i].l4kind);
	gwp_vs_attach_all(&p, gws, ngws, srvs, nsrvs);
	free(srvs);

	d->gw = arena_alloc(p.a, sizeof(*d->gw));
	memset(d->gw, 0, sizeof(*d->gw));
	gwp_authz(&p, d->gw);
	gwp_reqauthn(&p, d->gw);
	plan_finish(&p, d->gw);
}
