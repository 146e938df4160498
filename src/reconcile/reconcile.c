/*
 * reconcile(): objects + node config + live view -> desired state.
 * Pure: no I/O, no clock, no globals; the same input gives the same output
 * on every node.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vipgate/log.h"
#include "vipgate/reconcile.h"
#include "vipgate/bgp-plan.h"
#include "vipgate/gw-t.h"

#include "select.h"

#define LABEL_EXCLUDE_LB	"node.kubernetes.io/exclude-from-external-load-balancers"

struct desired *
desired_empty(void)
{
	struct desired *d = xcalloc(1, sizeof(*d));

	d->refcnt = 1;
	d->arena = arena_new();
	return d;
}

struct desired *
desired_ref(struct desired *d)
{
	__atomic_add_fetch(&d->refcnt, 1, __ATOMIC_RELAXED);
	return d;
}

void
desired_unref(struct desired *d)
{
	if (d == NULL)
		return;
	if (__atomic_sub_fetch(&d->refcnt, 1, __ATOMIC_ACQ_REL) == 0) {
		arena_free(d->arena);
		free(d);
	}
}

const struct svc_state *
desired_find_svc(const struct desired *d, const char *ns, const char *name)
{
	size_t lo = 0, hi = d->nsvcs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(d->svcs[mid].ns, ns);

		if (r == 0)
			r = strcmp(d->svcs[mid].name, name);
		if (r == 0)
			return &d->svcs[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct ready {
	int	anywhere, local;
};

/* service_ready's tally, that ready_visit fills for each serving endpoint. */
struct ready_arg {
	struct ready	 r;
	const char	*node;
};

static void
ready_visit(void *arg, const char *node)
{
	struct ready_arg *ra = arg;

	ra->r.anywhere = 1;
	if (str_eq(node, ra->node))
		ra->r.local = 1;
}

/* Whether svc has an endpoint that can serve, anywhere and on this node. */
static struct ready
service_ready(struct store *st, const struct sel_slice *ix, size_t nix,
    const struct object *svc, const char *node)
{
	struct ready_arg ra = { { 0, 0 }, node };

	sel_serving_endpoints(st, ix, nix, svc, ready_visit, &ra);
	return ra.r;
}

/* What L2Advertisement and BGPAdvertisement share for selecting a Service. */
struct adv_sel {
	const char * const	*pools;
	size_t			 npools;
	const struct labelsel	*pool_sels, *node_sels, *svc_sels;
	size_t			 npool_sels, nnode_sels, nsvc_sels;
};

static int
adv_applies(const struct object *adv, const struct adv_sel *a, const struct object *svc,
    const struct object *pool, const struct strmap *nlabels)
{
	return strcmp(adv->meta.ns, pool->meta.ns) == 0 &&
	    sel_adv_selects_pool(a->pools, a->npools, a->pool_sels, a->npool_sels, pool) &&
	    labelsels_match_any(a->node_sels, a->nnode_sels, nlabels) &&
	    labelsels_match_any(a->svc_sels, a->nsvc_sels, &svc->meta.labels);
}

#define ADV_SEL(a) { (a)->ip_address_pools, (a)->nip_address_pools,		\
	(a)->ip_address_pool_selectors, (a)->node_selectors, (a)->service_selectors, \
	(a)->nip_address_pool_selectors, (a)->nnode_selectors, (a)->nservice_selectors }

static unsigned
advertisements(struct store *st, const struct object *svc, const struct object *pool,
    const struct strmap *nlabels)
{
	struct object * const *l;
	unsigned mode = 0;
	size_t n, i;

	l = store_list(st, K_L2ADVERTISEMENT, &n);
	for (i = 0; i < n && !(mode & ANNOUNCE_L2); i++) {
		const struct adv_sel a = ADV_SEL((const struct k_l2advertisement *)l[i]->spec);

		if (adv_applies(l[i], &a, svc, pool, nlabels))
			mode |= ANNOUNCE_L2;
	}
	l = store_list(st, K_BGPADVERTISEMENT, &n);
	for (i = 0; i < n && !(mode & ANNOUNCE_BGP); i++) {
		const struct adv_sel a = ADV_SEL((const struct k_bgpadvertisement *)l[i]->spec);

		if (adv_applies(l[i], &a, svc, pool, nlabels))
			mode |= ANNOUNCE_BGP;
	}
	return mode;
}

static int
cmp_ip(const void *a, const void *b)
{
	return ipaddr_cmp(a, b);
}

struct pool_ip {
	size_t		pool;
	struct ipaddr	ip;
};

static int
cmp_pool_ip(const void *a, const void *b)
{
	const struct pool_ip *x = a, *y = b;

	if (x->pool != y->pool)
		return x->pool < y->pool ? -1 : 1;
	return ipaddr_cmp(&x->ip, &y->ip);
}

/* The pool_state's copy of a pool name (pools are few), else a copy of it. */
static const char *
pool_name(const struct desired *d, struct vg_arena *a, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < d->npools; i++)
		if (strcmp(d->pools[i].name, name) == 0)
			return d->pools[i].name;
	return arena_strdup(a, name);
}

/* IPAddressPools in the desired state: names and sizes (assigned_* come later). */
static void
pools_fill(struct desired *d, struct object * const *pools, size_t npools)
{
	struct vg_arena *a = d->arena;
	size_t i, j;

	d->pools = arena_alloc(a, sizeof(*d->pools) * (npools ? npools : 1));
	d->npools = npools;
	for (i = 0; i < npools; i++) {
		const struct k_ipaddresspool *p = pools[i]->spec;
		struct pool_state *ps = &d->pools[i];
		uint64_t *tot;

		ps->name = arena_strdup(a, pools[i]->meta.name);
		ps->ns = arena_strdup(a, pools[i]->meta.ns);
		for (j = 0; j < p->nranges; j++) {
			uint64_t span = ipaddr_span(&p->ranges[j].first, &p->ranges[j].last);

			tot = p->ranges[j].first.family == AF_INET ? &ps->total_v4 : &ps->total_v6;
			*tot = *tot + span < *tot ? UINT64_MAX : *tot + span;
		}
	}
}

/* The VIPs of every LoadBalancer Service (alloc.c), in tmp. */
static struct alloc_result *
allocate(struct vg_arena *tmp, struct store *st, const struct live_view *live,
    struct object * const *pools, size_t npools, size_t *nres)
{
	struct alloc_input in;
	struct alloc_result *res;

	memset(&in, 0, sizeof(in));
	in.pools = pools;
	in.npools = npools;
	in.services = store_list(st, K_SERVICE, &in.nservices);
	in.namespaces = store_list(st, K_NAMESPACE, &in.nnamespaces);
	in.prev = live ? live->prev : NULL;
	in.nprev = live ? live->nprev : 0;
	alloc_run(tmp, &in, &res, nres);
	return res;
}

/* Why this node announces nothing at all, or NULL. */
static const char *
node_block(const struct object *node, const struct strmap *nlabels)
{
	/* MetalLB: such nodes never announce */
	if (strmap_get(nlabels, LABEL_EXCLUDE_LB))
		return "node is labelled " LABEL_EXCLUDE_LB;
	if (node && ((const struct k_node *)node->spec)->network_unavailable)
		return "node condition NetworkUnavailable is True";
	return NULL;
}

/* What one pass reads while it decides each Service (svc_fill). */
struct pass {
	struct store		*st;
	const struct config	*cfg;
	const struct live_view	*live;
	struct object * const	*pools;
	size_t			 npools;
	struct strmap		 nlabels;	/* this node's */
	const char		*node_block;	/* node_block() */
	struct sel_slice	*six;		/* EndpointSlices by Service */
	size_t			 nsix;
};

/*
 * One Service's state from its allocation: its VIPs, its readiness, and
 * whether this node announces it (serve_local), else why not.
 */
static void
svc_fill(struct desired *d, struct svc_state *s, const struct alloc_result *r,
    const struct pass *p)
{
	struct vg_arena *a = d->arena;
	const struct object *o = r->svc;
	const struct k_service *ks = o->spec;
	const struct object *pool;
	const struct gw_dep_state *dep = NULL;
	const char *gw_why = NULL;	/* why its deployment cannot serve here */
	struct ready rd;

	/* the desired state outlives the objects: it owns its strings */
	s->ns = arena_strdup(a, o->meta.ns);
	s->name = arena_strdup(a, o->meta.name);
	memcpy(s->vips, r->ips, sizeof(s->vips));
	s->nvips = r->nips;
	/* one copy of a pool's name for all its Services */
	s->pool = pool_name(d, a, r->pool);
	s->pending = arena_strdup(a, r->pending);
	s->sharing_key = arena_strdup(a, r->sharing_key);
	s->etp_local = strcmp(ks->external_traffic_policy, "Local") == 0;
	s->is_gateway = reconcile_is_gateway_service(o, p->cfg);
	rd = service_ready(p->st, p->six, p->nsix, o, p->cfg->node.name);
	if (s->is_gateway) {
		dep = desired_svc_dep(d, o, p->cfg);
		gw_why = dep ? dep->why : "not ready";
		/* with several deployments, say which one cannot serve (unless
		 * none can, for a reason of the whole data plane) */
		if (gw_why && dep && d->ngateway_deps > 1 && p->live && p->live->gateway_ready)
			gw_why = arena_printf(a, "deployment %s: %s", dep->name, gw_why);
		s->gateway_state = gw_why ? gw_why : "serving";
		if (gw_why == NULL)
			rd.local = rd.anywhere = 1;
	}
	s->ready_anywhere = rd.anywhere;
	s->ready_local = rd.local;
	if (s->pending) {
		s->why_not = "no VIP allocated";
		return;
	}
	if (p->node_block) {
		s->why_not = p->node_block;
		return;
	}
	/*
	 * Traffic to a gateway VIP ends at this node's own listeners, whatever
	 * endpoints the Service lists elsewhere: a node whose gateway cannot
	 * serve does not draw it (and takes it again when it can). Only the
	 * deployment the Service selects counts: another one's listener not
	 * bound leaves this one's VIPs where they are.
	 */
	if (s->is_gateway && gw_why) {
		s->why_not = arena_printf(a, "gateway cannot serve: %s", gw_why);
		return;
	}
	if (!rd.anywhere) {
		s->why_not = "no ready endpoint";
		return;
	}
	if (s->etp_local && !rd.local) {
		s->why_not = "externalTrafficPolicy Local and no ready endpoint on this node";
		return;
	}
	pool = sel_find_pool(p->pools, p->npools, r->pool);
	s->announce = pool ? advertisements(p->st, o, pool, &p->nlabels) : 0;
	if (s->announce == 0) {
		s->why_not = "no L2Advertisement or BGPAdvertisement selects it for this node";
		return;
	}
	s->serve_local = 1;
}

/* The VIPs of the Services this node serves, sorted, each once (nlocal: at most). */
static void
local_addrs_fill(struct desired *d, size_t nlocal)
{
	size_t i, j;

	d->local_addrs = arena_alloc(d->arena, sizeof(struct ipaddr) * (nlocal ? nlocal : 1));
	for (i = 0; i < d->nsvcs; i++)
		for (j = 0; d->svcs[i].serve_local && j < d->svcs[i].nvips; j++)
			d->local_addrs[d->nlocal_addrs++] = d->svcs[i].vips[j];
	qsort(d->local_addrs, d->nlocal_addrs, sizeof(struct ipaddr), cmp_ip);
	/* shared IPs appear once */
	for (i = 0, j = 0; i < d->nlocal_addrs; i++)
		if (j == 0 || !ipaddr_eq(&d->local_addrs[j - 1], &d->local_addrs[i]))
			d->local_addrs[j++] = d->local_addrs[i];
	d->nlocal_addrs = j;
}

/* Count distinct assigned IPs per pool (shared IPs once). */
static void
pools_count_assigned(struct desired *d, size_t nlocal)
{
	struct pool_ip *v = xcalloc(nlocal + d->nsvcs * 2 + 1, sizeof(*v));
	size_t nv = 0, i, j;

	for (i = 0; i < d->nsvcs; i++) {
		const struct svc_state *s = &d->svcs[i];
		size_t p;

		if (s->pending || s->pool == NULL)
			continue;
		for (p = 0; p < d->npools; p++)
			if (strcmp(d->pools[p].name, s->pool) == 0)
				break;
		for (j = 0; p < d->npools && j < s->nvips; j++) {
			v[nv].pool = p;
			v[nv++].ip = s->vips[j];
		}
	}
	qsort(v, nv, sizeof(*v), cmp_pool_ip);
	for (i = 0; i < nv; i++) {
		if (i > 0 && v[i].pool == v[i - 1].pool &&
		    ipaddr_eq(&v[i].ip, &v[i - 1].ip))
			continue;
		if (v[i].ip.family == AF_INET)
			d->pools[v[i].pool].assigned_v4++;
		else
			d->pools[v[i].pool].assigned_v6++;
	}
	free(v);
}

struct desired *
reconcile(struct store *st, const struct config *cfg, const struct live_view *live)
{
	struct desired *d = desired_empty();
	/* The allocator's tables and results, the node's labels: needed for
	 * this pass only, so they go when it ends instead of living as long
	 * as the desired state (with two desired states alive while the
	 * appliers switch, that was twice). */
	struct vg_arena *tmp = arena_new_sized(65536);
	struct alloc_result *res;
	const struct object *node;
	struct pass p;
	size_t nres, i, nlocal = 0;

	memset(&p, 0, sizeof(p));
	p.st = st;
	p.cfg = cfg;
	p.live = live;
	d->store_generation = store_generation(st);
	p.pools = store_list(st, K_IPADDRESSPOOL, &p.npools);
	res = allocate(tmp, st, live, p.pools, p.npools, &nres);

	node = store_get(st, K_NODE, "", cfg->node.name);
	p.nlabels = reconcile_node_labels(tmp, node, cfg);
	p.node_block = node_block(node, &p.nlabels);
	pools_fill(d, p.pools, p.npools);

	/* the gateway's plan first: whether each deployment's routes reach an endpoint */
	reconcile_gw(d, st, cfg, live, res, nres);
	reconcile_gw_serving(d, cfg, live);
	p.six = sel_slice_index(st, &p.nsix);
	d->svcs = arena_alloc(d->arena, sizeof(*d->svcs) * (nres ? nres : 1));
	d->nsvcs = nres;
	for (i = 0; i < nres; i++) {
		svc_fill(d, &d->svcs[i], &res[i], &p);
		if (d->svcs[i].serve_local)
			nlocal += d->svcs[i].nvips;
	}
	free(p.six);
	arena_free(tmp);

	local_addrs_fill(d, nlocal);
	pools_count_assigned(d, nlocal);
	reconcile_bgp(d, st, cfg, live);
	reconcile_l2(d, st, cfg, live);
	return d;
}
