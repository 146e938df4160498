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

#include "vipgate/alloc.h"
#include "vipgate/ipaddr.h"
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

	if (a->port != b->port)
		return (a->port > b->port) - (a->port < b->port);
	if (a->dep != b->dep)
		return (a->dep > b->dep) - (a->dep < b->dep);
	if (a->bind == NULL || b->bind == NULL)
		return (a->bind != NULL) - (b->bind != NULL);
	return strcmp(a->bind, b->bind);
}

/* A VIP of a gateway deployment's Service. */
struct dep_ip {
	size_t		dep;
	struct ipaddr	ip;
};

static int
dep_ip_cmp(const void *x, const void *y)
{
	const struct dep_ip *a = x, *b = y;

	if (a->dep != b->dep)
		return (a->dep > b->dep) - (a->dep < b->dep);
	return ipaddr_cmp(&a->ip, &b->ip);
}

/*
 * With gateway.deployments, each deployment's VIPs, once a plan: those the
 * allocation gave the Services that select it, sorted, each once.
 */
static void
dep_vips(struct plan *p, const struct alloc_result *res, size_t nres)
{
	size_t nd = p->cfg->gateway.ndeployments, n = 0, i, j;
	struct dep_ip *v;
	char b[IPADDR_STRLEN];

	if (!p->cfg->gateway.deployments_set)
		return;
	p->dep_vips = arena_alloc(p->a, sizeof(*p->dep_vips) * nd);
	p->ndep_vips = arena_alloc(p->a, sizeof(*p->ndep_vips) * nd);
	memset(p->ndep_vips, 0, sizeof(*p->ndep_vips) * nd);
	v = xcalloc(nres * 2 + 1, sizeof(*v));
	for (i = 0; i < nres; i++) {
		int k;

		if (res[i].pending || (k = reconcile_gateway_deployment(res[i].svc, p->cfg)) < 0)
			continue;
		for (j = 0; j < res[i].nips; j++) {
			v[n].dep = (size_t)k;
			v[n++].ip = res[i].ips[j];
		}
	}
	gwp_sort(v, n, sizeof(*v), dep_ip_cmp);
	for (j = 0; j < nd; j++)
		p->dep_vips[j] = arena_alloc(p->a, sizeof(char *) * (n ? n : 1));
	for (i = 0; i < n; i++)
		if (i == 0 || dep_ip_cmp(&v[i - 1], &v[i]) != 0)
			p->dep_vips[v[i].dep][p->ndep_vips[v[i].dep]++] =
			    arena_strdup(p->a, ipaddr_fmt(&v[i].ip, b));
	free(v);
}

/*
 * Where a listener listens: its servers' bind address; with
 * gateway.deployments, its deployment's VIPs; else gateway.bind (addrs
 * NULL).
 */
static void
listener_addrs(struct plan *p, const struct lis_build *lb, struct gw_listener *l)
{
	if (lb->bind) {
		l->addrs = arena_alloc(p->a, sizeof(char *));
		l->addrs[0] = arena_strdup(p->a, lb->bind);
		l->naddrs = 1;
	} else if (p->dep_vips) {
		l->addrs = p->dep_vips[lb->dep];
		l->naddrs = p->ndep_vips[lb->dep];
	}
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
		l->dep = lb->dep;
		l->bind = lb->bind ? arena_strdup(p->a, lb->bind) : NULL;
		listener_addrs(p, lb, l);
		{
			const char *dn = p->cfg->gateway.deployments[lb->dep].name;
			uint64_t h = hash_bytes(HASH_INIT, dn, strlen(dn) + 1);

			if (lb->bind)
				h = hash_bytes(h, lb->bind, strlen(lb->bind));
			l->scope = (uint32_t)(h ^ (h >> 32));
		}
		l->hash = hash_bytes(HASH_INIT, &l->port, sizeof(l->port));
		l->hash = hash_bytes(l->hash, &l->tls, sizeof(l->tls));
		l->hash = hash_bytes(l->hash, &l->scope, sizeof(l->scope));
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
    const struct live_view *live, const struct alloc_result *res, size_t nres)
{
	struct plan p = { 0 };
	struct object * const *gws;
	struct srv_ref *srvs;
	size_t ngws, nsrvs, i;

	(void)live;
	if (!cfg->gateway.enabled || cfg->gateway.ndeployments == 0)
		return;
	p.d = d;
	p.a = d->arena;
	p.st = st;
	p.cfg = cfg;
	dep_vips(&p, res, nres);
	gwp_dep_set(&p, 0);

	gws = store_list(st, K_GATEWAY, &ngws);
	/* every deployment's servers (gw_plan_listen.c), then TCP and TLS
	 * servers (gw_plan_l4.c) after the HTTP ones were given their chains */
	srvs = gwp_servers(&p, gws, ngws, &nsrvs);
	for (i = 0; i < nsrvs; i++)
		if (srvs[i].l4) {
			gwp_dep_set(&p, srvs[i].dep);
			gwp_l4_server(&p, srvs[i].gw, srvs[i].srv, srvs[i].idx, srvs[i].l4kind);
		}
	gwp_vs_attach_all(&p, gws, ngws, srvs, nsrvs);
	free(srvs);

	d->gw = arena_alloc(p.a, sizeof(*d->gw));
	memset(d->gw, 0, sizeof(*d->gw));
	d->gw->ndeps = cfg->gateway.ndeployments;
	d->gw->deps = arena_alloc(p.a, sizeof(*d->gw->deps) * d->gw->ndeps);
	memset(d->gw->deps, 0, sizeof(*d->gw->deps) * d->gw->ndeps);
	for (i = 0; i < d->gw->ndeps; i++) {
		struct gw_deploy *gd = &d->gw->deps[i];

		gwp_dep_set(&p, i);
		gd->name = arena_strdup(p.a, cfg->gateway.deployments[i].name);
		gwp_authz(&p, gd);
		gwp_reqauthn(&p, gd);
	}
	plan_finish(&p, d->gw);
}
