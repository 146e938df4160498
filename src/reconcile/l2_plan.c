/*
 * The l2 part of the desired state: for every Service an L2Advertisement
 * selects, the node that answers for its VIPs. Every node computes the same
 * (MetalLB speaker/layer2_controller.go ShouldAnnounce):
 *
 *  - nobody when no endpoint is ready or serving anywhere;
 *  - candidates are the live speakers: this node plus the heartbeat peers
 *    heard alive; with no heartbeat peers configured, every Node object
 *    (MetalLB with memberlist disabled) plus this node;
 *  - for the gateway's own Service, minus nodes where the gateway
 *    deployment it selects cannot serve (this one by the desired state,
 *    the others by their heartbeat's flag and the deployments it names);
 *  - minus nodes with NetworkUnavailable or labelled
 *    exclude-from-external-load-balancers, minus nodes no matching
 *    L2Advertisement's nodeSelectors select, and for externalTrafficPolicy
 *    Local minus nodes without a ready or serving local endpoint;
 *  - ordered by the sum of matching preferredNodeSelectors weights, then
 *    sha256(node + "#" + first VIP) (l2_elect).
 *
 * A peer without a Node object is known by its name alone: its labels are
 * just kubernetes.io/hostname.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vipgate/l2.h"
#include "vipgate/reconcile.h"

#include "select.h"

#define LABEL_EXCLUDE_LB	"node.kubernetes.io/exclude-from-external-load-balancers"
#define LABEL_HOSTNAME		"kubernetes.io/hostname"

struct l2_node {
	const char	*name;
	struct strmap	 labels;
	int		 blocked;	/* NetworkUnavailable or excluded */
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A Node's labels, with kubernetes.io/hostname implied as the kubelet sets it. */
static struct strmap
with_hostname(struct vg_arena *a, const struct strmap *l, const char *name)
{
	struct strmap m;
	size_t i, n = l ? l->n : 0, j = 0;
	int done = 0;

	if (l && strmap_get(l, LABEL_HOSTNAME))
		return *l;
	m.k = arena_alloc(a, sizeof(char *) * (n + 1));
	m.v = arena_alloc(a, sizeof(char *) * (n + 1));
	for (i = 0; i <= n; i++) {
		if (!done && (i == n || strcmp(l->k[i], LABEL_HOSTNAME) > 0)) {
			m.k[j] = LABEL_HOSTNAME;
			m.v[j++] = name;
			done = 1;
		}
		if (i < n) {
			m.k[j] = l->k[i];
			m.v[j++] = l->v[i];
		}
	}
	m.n = j;
	return m;
}

/* The speakers: names sorted and unique, with labels and whether they may announce. */
static struct l2_node *
speakers(struct vg_arena *a, struct store *st, const struct config *cfg,
    const struct l2_live *live, size_t *np)
{
	struct object * const *nodes;
	const char **names;
	struct l2_node *v;
	size_t nnodes, n = 0, i, j;

	nodes = store_list(st, K_NODE, &nnodes);
	names = arena_alloc(a, sizeof(char *) * (nnodes + (live ? live->nnodes : 0) + 1));
	names[n++] = cfg->node.name;
	if (live && live->heartbeat) {
		for (i = 0; i < live->nnodes; i++)
			names[n++] = live->nodes[i];
	} else {
		for (i = 0; i < nnodes; i++)
			names[n++] = nodes[i]->meta.name;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0, j = 0; i < n; i++)
		if (j == 0 || strcmp(names[j - 1], names[i]) != 0)
			names[j++] = names[i];
	n = j;
	v = arena_alloc(a, sizeof(*v) * n);
	for (i = 0; i < n; i++) {
		const struct object *o = store_get(st, K_NODE, "", names[i]);

		v[i].name = arena_strdup(a, names[i]);
		if (strcmp(names[i], cfg->node.name) == 0) {
			v[i].labels = reconcile_node_labels(a, o, cfg);
		} else {
			v[i].labels = with_hostname(a, o ? &o->meta.labels : NULL, v[i].name);
		}
		v[i].blocked = strmap_get(&v[i].labels, LABEL_EXCLUDE_LB) != NULL ||
		    (o && OBJ_SPEC(o, k_node)->network_unavailable);
	}
	*np = n;
	return v;
}

static int
adv_selects(const struct k_l2advertisement *adv, const struct object *pool,
    const struct object *svc)
{
	return sel_adv_selects_pool(adv->ip_address_pools, adv->nip_address_pools,
	    adv->ip_address_pool_selectors, adv->nip_address_pool_selectors, pool) &&
	    labelsels_match_any(adv->service_selectors, adv->nservice_selectors,
	    &svc->meta.labels);
}

/* endpoint_nodes' visitor: a serving endpoint's node, when it names one. */
static void
node_visit(void *arg, const char *node)
{
	if (node)
		ptrvec_push(arg, (void *)node);
}

/*
 * The nodes with a ready or serving endpoint of a Service, sorted and
 * unique (names borrowed from the store).
 */
static const char **
endpoint_nodes(struct store *st, const struct sel_slice *sl, size_t nsl,
    const struct object *svc, size_t *np)
{
	struct vg_ptrvec v = { 0 };
	size_t i, j;

	sel_serving_endpoints(st, sl, nsl, svc, node_visit, &v);
	if (v.n)
		qsort(v.v, v.n, sizeof(*v.v), cmp_str);
	for (i = 0, j = 0; i < v.n; i++)
		if (j == 0 || strcmp(v.v[j - 1], v.v[i]) != 0)
			v.v[j++] = v.v[i];
	*np = j;
	return (const char **)v.v;
}

static int
cmp_vip(const void *a, const void *b)
{
	const struct l2_vip *x = a, *y = b;
	int r = ipaddr_cmp(&x->vip, &y->vip);

	if (r == 0)
		r = strcmp(x->ns, y->ns);
	if (r == 0)
		r = strcmp(x->name, y->name);
	return r;
}

/*
 * Whether deployment dep cannot serve on peer node (its heartbeat): the
 * flag without a list (an older speaker's, or none of them can) is every
 * deployment.
 */
static int
peer_dep_down(const struct l2_live *live, const char *node, const char *dep)
{
	const char **at;
	const struct l2_gw_down *g;
	size_t i;

	if (live == NULL || live->ngw_down == 0 ||
	    (at = bsearch(&node, live->gw_down, live->ngw_down, sizeof(*live->gw_down),
	    cmp_str)) == NULL)
		return 0;
	if (live->gw_down_deps == NULL || dep == NULL)
		return 1;
	g = &live->gw_down_deps[at - live->gw_down];
	if (g->deps == NULL)
		return 1;
	for (i = 0; i < g->ndeps; i++)
		if (strcmp(g->deps[i], dep) == 0)
			return 1;
	return 0;
}

/*
 * The nodes that may answer for Service s (nodes[self] is this one), with
 * the weight of the matching advertisements' preferredNodeSelectors; eps:
 * the nodes with its endpoints, for externalTrafficPolicy Local.
 */
static size_t
candidates(const struct l2_node *nodes, size_t nnodes, size_t self,
    const struct k_l2advertisement **match, size_t nmatch, const struct svc_state *s,
    const char **eps, size_t neps, const struct gw_dep_state *dep, const struct l2_live *live,
    struct l2_cand *cand)
{
	size_t ncand = 0, j, k, m;

	for (j = 0; j < nnodes; j++) {
		const struct l2_node *nd = &nodes[j];
		int selected = 0, is_self = j == self;
		int64_t w = 0;

		if (nd->blocked)
			continue;
		/* traffic to a gateway VIP ends at its owner's own listeners:
		 * those of the deployment the Service selects */
		if (s->is_gateway && (is_self ? dep == NULL || dep->why != NULL :
		    peer_dep_down(live, nd->name, dep ? dep->name : NULL)))
			continue;
		for (k = 0; k < nmatch; k++) {
			if (!labelsels_match_any(match[k]->node_selectors,
			    match[k]->nnode_selectors, &nd->labels))
				continue;
			selected = 1;
			for (m = 0; m < match[k]->npreferred; m++)
				if (labelsel_match(&match[k]->preferred[m].preference,
				    &nd->labels))
					w += match[k]->preferred[m].weight;
		}
		if (!selected)
			continue;
		if (s->etp_local) {
			/* this node knows its own readiness (the gateway's
			 * included); every speaker runs the gateway */
			if (is_self ? !s->ready_local : !(s->is_gateway ||
			    (neps && bsearch(&nd->name, eps, neps, sizeof(*eps),
			    cmp_str))))
				continue;
		}
		cand[ncand].node = nd->name;
		cand[ncand++].weight = w;
	}
	return ncand;
}

/*
 * The interfaces this node answers on: the union over the advertisements
 * that select it; NULL when one without interfaces does (every suitable
 * interface). Clears the entries of match that do not select it.
 */
static const char **
interfaces(struct vg_arena *a, const struct k_l2advertisement **match, size_t nmatch,
    const struct strmap *self_labels, size_t *np)
{
	const char **ifaces;
	size_t nifaces = 0, k, m;
	int all_ifaces = 0;

	for (k = 0; k < nmatch; k++)
		if (!labelsels_match_any(match[k]->node_selectors,
		    match[k]->nnode_selectors, self_labels))
			match[k] = NULL;
		else if (match[k]->ninterfaces == 0)
			all_ifaces = 1;
	*np = 0;
	if (all_ifaces)
		return NULL;
	for (k = 0; k < nmatch; k++)
		nifaces += match[k] ? match[k]->ninterfaces : 0;
	ifaces = arena_alloc(a, sizeof(char *) * (nifaces + 1));
	nifaces = 0;
	for (k = 0; k < nmatch; k++)
		for (m = 0; match[k] && m < match[k]->ninterfaces; m++)
			if (!sel_in_list(ifaces, nifaces, match[k]->interfaces[m]))
				ifaces[nifaces++] = arena_strdup(a, match[k]->interfaces[m]);
	*np = nifaces;
	return ifaces;
}

void
reconcile_l2(struct desired *d, struct store *st, const struct config *cfg,
    const struct live_view *live)
{
	struct vg_arena *a = d->arena;
	struct l2_desired *l2;
	struct l2_node *nodes;
	struct l2_cand *cand;
	struct object * const *advs, * const *pools;
	const struct k_l2advertisement **match;
	struct sel_slice *slices = NULL;
	size_t nnodes, nadvs, npools, nmatch, self, nslices = 0, i, j;

	advs = store_list(st, K_L2ADVERTISEMENT, &nadvs);
	if (nadvs == 0)
		return;
	pools = store_list(st, K_IPADDRESSPOOL, &npools);
	nodes = speakers(a, st, cfg, live ? live->l2 : NULL, &nnodes);
	for (self = 0; strcmp(nodes[self].name, cfg->node.name) != 0; self++)
		;
	l2 = arena_alloc(a, sizeof(*l2));
	l2->speakers = arena_alloc(a, sizeof(char *) * nnodes);
	for (i = 0; i < nnodes; i++)
		l2->speakers[i] = nodes[i].name;
	l2->nspeakers = nnodes;
	l2->vips = arena_alloc(a, sizeof(*l2->vips) * (d->nsvcs * 2 + 1));
	cand = xcalloc(nnodes, sizeof(*cand));
	match = xcalloc(nadvs, sizeof(*match));

	for (i = 0; i < d->nsvcs; i++) {
		const struct svc_state *s = &d->svcs[i];
		const struct object *svc, *pool;
		const char *owner = NULL, *why = NULL, **ifaces, **eps = NULL;
		size_t ncand, nifaces, neps = 0;
		char vipbuf[IPADDR_STRLEN];

		if (s->pending || s->nvips == 0 || s->pool == NULL)
			continue;
		svc = store_get(st, K_SERVICE, s->ns, s->name);
		pool = sel_find_pool(pools, npools, s->pool);
		if (svc == NULL || pool == NULL)
			continue;
		for (j = 0, nmatch = 0; j < nadvs; j++)
			if (strcmp(advs[j]->meta.ns, pool->meta.ns) == 0 &&
			    adv_selects(advs[j]->spec, pool, svc))
				match[nmatch++] = advs[j]->spec;
		if (nmatch == 0)
			continue;
		if (s->etp_local) {
			if (slices == NULL)
				slices = sel_slice_index(st, &nslices);
			eps = endpoint_nodes(st, slices, nslices, svc, &neps);
		}
		ncand = candidates(nodes, nnodes, self, match, nmatch, s, eps, neps,
		    s->is_gateway ? desired_svc_dep(d, svc, cfg) : NULL, live ? live->l2 : NULL, cand);
		/* every speaker runs the gateway: another's serves when this
		 * one's cannot */
		if (!s->ready_anywhere && !(s->is_gateway && ncand > 0)) {
			why = "no ready endpoint";
		} else if (ncand == 0) {
			why = "no candidate node";
		} else {
			ssize_t win = l2_elect(cand, ncand, ipaddr_fmt(&s->vips[0], vipbuf));

			owner = cand[win].node;
		}
		ifaces = interfaces(a, match, nmatch, &nodes[self].labels, &nifaces);
		free(eps);
		for (j = 0; j < s->nvips; j++) {
			struct l2_vip *v = &l2->vips[l2->nvips++];

			v->vip = s->vips[j];
			v->ns = s->ns;
			v->name = s->name;
			v->owner = owner;
			v->why = why;
			v->mine = owner && strcmp(owner, cfg->node.name) == 0 &&
			    (s->announce & ANNOUNCE_L2);
			v->ncandidates = ncand;
			v->ifaces = ifaces;
			v->nifaces = nifaces;
		}
	}
	free(cand);
	free(match);
	free(slices);
	qsort(l2->vips, l2->nvips, sizeof(*l2->vips), cmp_vip);
	d->l2 = l2;
}
