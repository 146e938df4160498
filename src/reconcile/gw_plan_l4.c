/*
 * TCP and TLS passthrough at the gateway, as istiod builds them
 * (pilot/pkg/networking/core/gateway.go): a TCP server gets a filter chain
 * whose tcp_proxy goes to the first tcp[] rule that applies; a PASSTHROUGH
 * server gets one filter chain a tls[] match, its server_names the
 * match's sniHosts within the server's hosts. A rule applies on a server
 * when its VirtualService names the server's Gateway and shares a host
 * with it, and a match applies when its gateways (if any) name that
 * Gateway and its port (if any) is the server's.
 *
 * Beyond istiod's gateway, which picks a TCP server's rule by port and
 * gateways alone, destinationSubnets and sourceSubnet are kept and checked
 * per connection (gw_l4_route.c), as a sidecar's filter chain match does.
 *
 * An AUTO_PASSTHROUGH server needs no VirtualService: istiod
 * (builtAutoPassthroughFilterChains) makes a filter chain for every
 * cluster of each Service and MESH_INTERNAL ServiceEntry whose hostname
 * its hosts cover, every port (but UDP ones), without a subset and with
 * each subset of the host's DestinationRules, server_names the cluster
 * name "outbound_.<port>_.<subset>_.<host>" and application_protocols
 * Istio's mTLS ALPNs, to an SNI-DNAT cluster of that name. Here they are a table on the listener (gw_l4.autos) that the
 * connection's SNI is looked up in (gw_l4_auto_find).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vipgate/log.h"
#include "vipgate/reconcile.h"

#include "gw-plan.h"
#include "vipgate/gw-l4.h"

struct l4_build {
	enum gw_l4_kind	 kind;
	struct vg_ptrvec srvs;		/* struct srv_ref * (malloc) */
	struct vg_ptrvec routes;	/* struct gw_l4_route * (arena) */
	struct vg_ptrvec autos;		/* struct gw_l4_auto * (arena) */
	const struct object *last_vs;	/* TCP: a VirtualService's rules are added once */
};

static void
auto_add(struct plan *p, struct l4_build *b, const struct object *gwo, const char *fqdn,
    const char *svc_ns, uint16_t port)
{
	const char *subs[64];
	size_t nsub, i;

	nsub = gwp_subsets(p, fqdn, svc_ns, subs, VG_ARRAY_SIZE(subs));
	for (i = 0; i <= nsub; i++) {
		struct gw_l4_auto *a = arena_alloc(p->a, sizeof(*a));
		struct gw_l4_route *r = &a->route;

		memset(a, 0, sizeof(*a));
		a->host = gwp_lower_dup(p->a, fqdn);
		a->subset = i == 0 ? "" : arena_strdup(p->a, subs[i - 1]);
		a->port = port;
		r->vs_ns = arena_strdup(p->a, gwo->meta.ns);
		r->vs_name = arena_printf(p->a, "%s/%s", gwo->meta.ns, gwo->meta.name);
		r->matches = arena_alloc(p->a, sizeof(*r->matches));
		memset(r->matches, 0, sizeof(*r->matches));
		r->matches->sni = arena_alloc(p->a, sizeof(char *));
		r->matches->sni[0] = arena_printf(p->a, "outbound_.%u_.%s_.%s", port, a->subset,
		    a->host);
		r->matches->nsni = 1;
		r->nmatches = 1;
		r->dests = arena_alloc(p->a, sizeof(*r->dests));
		memset(r->dests, 0, sizeof(*r->dests));
		r->dests->cluster = gwp_cluster_sni_dnat(p, a->host, port, i == 0 ? NULL : a->subset);
		r->dests->weight = 100;
		r->ndests = 1;
		r->total_weight = 100;
		ptrvec_push(&b->autos, a);
	}
}

/*
 * Whether one of the server's hosts covers a service's hostname. istiod
 * matches the hostnames alone here (the server's SNI hosts, a "ns/" part
 * cut off), so a namespace part does not restrict it.
 */
static int
auto_host_ok(const struct k_gw_server *srv, const char *fqdn)
{
	size_t j;

	for (j = 0; j < srv->nhosts; j++)
		if (gwp_host_covers(srv->host_parts[j].dns, fqdn))
			return 1;
	return 0;
}

/* The clusters an AUTO_PASSTHROUGH server reaches: Services, then ServiceEntries. */
static void
auto_server(struct plan *p, struct l4_build *b, const struct object *gwo,
    const struct k_gw_server *srv)
{
	struct object * const *l;
	size_t n, i, j, k;
	size_t before = b->autos.n;

	l = store_list(p->st, K_SERVICE, &n);
	for (i = 0; i < n; i++) {
		const struct k_service *svc = OBJ_SPEC(l[i], k_service);
		const char *fqdn = arena_printf(p->a, "%s.%s." CLUSTER_DOMAIN, l[i]->meta.name,
		    l[i]->meta.ns);

		if (!auto_host_ok(srv, fqdn))
			continue;
		for (j = 0; j < svc->nports; j++) {
			if (svc->ports[j].protocol && strcasecmp(svc->ports[j].protocol, "UDP") == 0)
				continue;
			if (svc->ports[j].port > 0 && svc->ports[j].port < 65536)
				auto_add(p, b, gwo, fqdn, l[i]->meta.ns, (uint16_t)svc->ports[j].port);
		}
	}
	/* ServiceEntries inside the mesh only: istiod skips MESH_EXTERNAL ones */
	l = store_list(p->st, K_SERVICEENTRY, &n);
	for (i = 0; i < n; i++) {
		const struct k_serviceentry *se = OBJ_SPEC(l[i], k_serviceentry);

		if (se->location != K_SE_MESH_INTERNAL)
			continue;
		for (k = 0; k < se->nhosts; k++) {
			if (strchr(se->hosts[k], '*') || !auto_host_ok(srv, se->hosts[k]))
				continue;
			for (j = 0; j < se->nports; j++) {
				if (se->ports[j].protocol && strcmp(se->ports[j].protocol, "UDP") == 0)
					continue;
				if (se->ports[j].number > 0 && se->ports[j].number < 65536)
					auto_add(p, b, gwo, se->hosts[k], l[i]->meta.ns,
					    (uint16_t)se->ports[j].number);
			}
		}
	}
	if (b->autos.n == before)
		gwp_note(p, gwo, "server %s: AUTO_PASSTHROUGH: no Service or MESH_INTERNAL "
		    "ServiceEntry within its hosts (every connection is closed)",
		    srv->name ? srv->name : "");
}

void
gwp_l4_server(struct plan *p, const struct object *gwo, const struct k_gw_server *srv,
    size_t idx, enum gw_l4_kind kind)
{
	uint16_t port;
	struct lis_build *l;
	struct srv_ref *sr;

	if (srv->port.number <= 0 || srv->port.number > 65535 || srv->host_parts == NULL)
		return;
	port = (uint16_t)srv->port.number;
	l = gwp_listener_get(p, srv, kind == GW_L4_TERMINATE);
	if (l->l4 ? l->l4->kind != kind :
	    (l->chains.n > 0 || l->tls != (kind == GW_L4_TERMINATE))) {
		gwp_note(p, gwo, "server %s: port %u mixes %s with other kinds of servers; ignored",
		    srv->name ? srv->name : "", port, kind == GW_L4_TCP ? "TCP" :
		    kind == GW_L4_PASSTHROUGH ? "TLS passthrough" : "terminated TLS to TCP");
		return;
	}
	if (l->l4 == NULL) {
		l->l4 = xcalloc(1, sizeof(*l->l4));
		l->l4->kind = kind;
	}
	/* TLS ends here: a filter chain by SNI with the server's certificate,
	 * as an HTTPS server's (the handshake is gw_tls.c's) */
	if (kind == GW_L4_TERMINATE)
		gwp_tls_chain(p, gwo, srv, idx, l, "tls");
	if (srv->tls && srv->tls->mode == K_GW_TLS_AUTO_PASSTHROUGH) {
		auto_server(p, l->l4, gwo, srv);
		return;		/* no tls[] routes: VirtualServices do not apply */
	}
	sr = xcalloc(1, sizeof(*sr));
	sr->gw = gwo;
	sr->srv = srv;
	ptrvec_push(&l->l4->srvs, sr);
}

static int
auto_cmp(const void *a, const void *b)
{
	return gw_l4_auto_cmp(*(const struct gw_l4_auto * const *)a,
	    *(const struct gw_l4_auto * const *)b);
}

/* An IP address or a CIDR (the object decoder checked which). */
static int
cidr_parse(const char *s, struct gw_cidr *c)
{
	if (strchr(s, '/'))
		return ipaddr_parse_cidr(s, &c->addr, &c->plen, 1);
	if (ipaddr_parse(s, &c->addr) == -1)
		return -1;
	c->plen = ipaddr_bits(&c->addr);
	return 0;
}

static struct gw_cidr *
cidrs_compile(struct plan *p, const char * const *v, size_t n, size_t *np)
{
	struct gw_cidr *c = arena_alloc(p->a, sizeof(*c) * (n ? n : 1));
	size_t i;

	*np = 0;
	for (i = 0; i < n; i++)
		if (cidr_parse(v[i], &c[*np]) == 0)
			(*np)++;
	return c;
}

/* Whether a match's gateways (none: the VirtualService's) let it apply on gwo. */
static int
match_gw_ok(const char **gws, size_t ngws, const struct object *vso, const struct object *gwo)
{
	size_t i;

	if (ngws == 0)
		return 1;
	for (i = 0; i < ngws; i++)
		if (gwp_gw_ref_is(gws[i], vso->meta.ns, gwo))
			return 1;
	return 0;
}

/* The sniHosts of a match within the server's hosts (their intersections). */
static void
sni_compile(struct plan *p, struct gw_l4_match *m, const struct k_vs_tls_match *tm,
    const struct k_gw_server *srv)
{
	size_t i, j, k;

	m->sni = arena_alloc(p->a, sizeof(char *) * (tm->nsni_hosts * srv->nhosts + 1));
	for (i = 0; i < tm->nsni_hosts; i++)
		for (j = 0; j < srv->nhosts; j++) {
			const char *x = gwp_host_intersect(tm->sni_hosts[i], srv->host_parts[j].dns);
			int dup = 0;

			if (x == NULL)
				continue;
			for (k = 0; k < m->nsni; k++)
				if (strcasecmp(m->sni[k], x) == 0)
					dup = 1;
			if (!dup)
				m->sni[m->nsni++] = gwp_lower_dup(p->a, x);
		}
}

static void
dests_compile(struct plan *p, struct gw_l4_route *r, const struct k_vs_l4_dest *v, size_t n,
    const struct object *vso, const char *what)
{
	size_t i;

	r->dests = arena_alloc(p->a, sizeof(*r->dests) * (n ? n : 1));
	for (i = 0; i < n; i++) {
		struct gw_dest *d = &r->dests[i];

		memset(d, 0, sizeof(*d));
		d->cluster = gwp_cluster_get(p, &v[i].destination, vso->meta.ns);
		if (d->cluster->missing && !d->cluster->noted) {
			/* istioctl analyze: Envoy's tcp_proxy closes such connections */
			gwp_note(p, vso, "%s[%zu]: %s (connections are closed)", what, r->rule,
			    d->cluster->missing);
			d->cluster->noted = 1;
		}
		/* a lone destination takes everything (Istio: weight 100) */
		d->weight = n == 1 ? 100 : (uint32_t)(v[i].weight > 0 ? v[i].weight : 0);
		r->total_weight += d->weight;
	}
	r->ndests = n;
	if (r->total_weight == 0)
		for (i = 0; i < n; i++) {
			r->dests[i].weight = 1;
			r->total_weight++;
		}
}

/* tls[ri] of vso on one PASSTHROUGH server; NULL when none of its matches applies there. */
static struct gw_l4_route *
tls_route(struct plan *p, const struct object *vso, size_t ri, const struct srv_ref *sr)
{
	const struct k_vs_tls *t = &OBJ_SPEC(vso, k_virtualservice)->tls[ri];
	struct gw_l4_route *r = arena_alloc(p->a, sizeof(*r));
	size_t i;

	memset(r, 0, sizeof(*r));
	r->matches = arena_alloc(p->a, sizeof(*r->matches) * (t->nmatch ? t->nmatch : 1));
	for (i = 0; i < t->nmatch; i++) {
		const struct k_vs_tls_match *tm = &t->match[i];
		struct gw_l4_match *m = &r->matches[r->nmatches];

		memset(m, 0, sizeof(*m));
		if (!match_gw_ok(tm->gateways, tm->ngateways, vso, sr->gw))
			continue;
		if (tm->port && tm->port != sr->srv->port.number)
			continue;
		sni_compile(p, m, tm, sr->srv);
		if (m->nsni == 0)
			continue;	/* no sniHost within the server's hosts */
		m->dst = cidrs_compile(p, tm->destination_subnets, tm->ndestination_subnets, &m->ndst);
		m->port = (uint16_t)tm->port;
		r->nmatches++;
	}
	if (r->nmatches == 0)
		return NULL;	/* a TLS route needs a match (sniHosts are required) */
	r->vs_ns = arena_strdup(p->a, vso->meta.ns);
	r->vs_name = arena_strdup(p->a, vso->meta.name);
	r->rule = ri;
	dests_compile(p, r, t->route, t->nroute, vso, "tls");
	return r;
}

/* tcp[ri] of vso on one TCP server; NULL when it has matches and none applies there. */
static struct gw_l4_route *
tcp_route(struct plan *p, const struct object *vso, size_t ri, const struct srv_ref *sr)
{
	const struct k_vs_tcp *t = &OBJ_SPEC(vso, k_virtualservice)->tcp[ri];
	struct gw_l4_route *r = arena_alloc(p->a, sizeof(*r));
	size_t i;

	memset(r, 0, sizeof(*r));
	r->matches = arena_alloc(p->a, sizeof(*r->matches) * (t->nmatch ? t->nmatch : 1));
	for (i = 0; i < t->nmatch; i++) {
		const struct k_vs_tcp_match *tm = &t->match[i];
		struct gw_l4_match *m = &r->matches[r->nmatches];

		memset(m, 0, sizeof(*m));
		if (!match_gw_ok(tm->gateways, tm->ngateways, vso, sr->gw))
			continue;
		if (tm->port && tm->port != sr->srv->port.number)
			continue;
		m->dst = cidrs_compile(p, tm->destination_subnets, tm->ndestination_subnets, &m->ndst);
		if (tm->source_subnet)
			m->src = cidrs_compile(p, &tm->source_subnet, 1, &m->nsrc);
		m->port = (uint16_t)tm->port;
		r->nmatches++;
	}
	if (t->nmatch > 0 && r->nmatches == 0)
		return NULL;
	r->vs_ns = arena_strdup(p->a, vso->meta.ns);
	r->vs_name = arena_strdup(p->a, vso->meta.name);
	r->rule = ri;
	dests_compile(p, r, t->route, t->nroute, vso, "tcp");
	return r;
}

/* Whether the VirtualService shares a host with the server (namespaces allowing). */
static int
hosts_meet(struct plan *p, const struct object *vso, const struct srv_ref *sr)
{
	const struct k_virtualservice *vs = OBJ_SPEC(vso, k_virtualservice);
	size_t i, j;

	for (i = 0; i < vs->nhosts; i++) {
		const char *vh = gwp_host_fqdn(p->a, vs->hosts[i], vso->meta.ns);

		for (j = 0; j < sr->srv->nhosts; j++) {
			const struct k_gw_host *gh = &sr->srv->host_parts[j];

			if (gwp_host_ns_ok(gh, sr->gw->meta.ns, vso->meta.ns) &&
			    gwp_host_intersect(vh, gh->dns) != NULL)
				return 1;
		}
	}
	return 0;
}

void
gwp_l4_attach(struct plan *p, const struct object *vso)
{
	const struct k_virtualservice *vs = OBJ_SPEC(vso, k_virtualservice);
	size_t li, s, i;
	int tls_used = 0, tcp_used = 0;

	if (vs->ntls == 0 && vs->ntcp == 0)
		return;
	for (li = 0; li < p->lis.n; li++) {
		struct lis_build *l = p->lis.v[li];

		if (l->l4 == NULL)
			continue;
		gwp_dep_set(p, l->dep);		/* its clusters: that deployment's DestinationRules */
		for (s = 0; s < l->l4->srvs.n; s++) {
			const struct srv_ref *sr = l->l4->srvs.v[s];

			if (!gwp_vs_attached(vso, sr->gw) || !hosts_meet(p, vso, sr))
				continue;
			if (l->l4->kind == GW_L4_PASSTHROUGH) {
				for (i = 0; i < vs->ntls; i++) {
					struct gw_l4_route *r = tls_route(p, vso, i, sr);

					if (r) {
						ptrvec_push(&l->l4->routes, r);
						tls_used = 1;
					}
				}
				continue;
			}
			if (l->l4->last_vs == vso)
				continue;
			l->l4->last_vs = vso;
			for (i = 0; i < vs->ntcp; i++) {
				struct gw_l4_route *r = tcp_route(p, vso, i, sr);

				if (r) {
					ptrvec_push(&l->l4->routes, r);
					tcp_used = 1;
				}
			}
		}
	}
	if (vs->ntls && !tls_used)
		gwp_note(p, vso, "tls: no PASSTHROUGH server of its gateways takes any of its sniHosts");
	if (vs->ntcp && !tcp_used)
		gwp_note(p, vso, "tcp: no TCP server of its gateways shares a host and port with it");
}

struct gw_l4 *
gwp_l4_finish(struct plan *p, struct lis_build *lb)
{
	struct l4_build *b = lb->l4;
	struct gw_l4 *g;
	size_t i;

	if (b == NULL)
		return NULL;
	g = arena_alloc(p->a, sizeof(*g));
	memset(g, 0, sizeof(*g));
	g->kind = b->kind;
	g->name = arena_printf(p->a, "%s.%u", b->kind == GW_L4_PASSTHROUGH ? "tls" : "tcp", lb->port);
	g->routes = arena_alloc(p->a, sizeof(*g->routes) * (b->routes.n ? b->routes.n : 1));
	for (i = 0; i < b->routes.n; i++)
		g->routes[i] = *(struct gw_l4_route *)b->routes.v[i];
	g->nroutes = b->routes.n;
	/* AUTO_PASSTHROUGH: sorted for the lookup, a cluster once when two
	 * servers of the port cover its host */
	gwp_sort(b->autos.v, b->autos.n, sizeof(void *), auto_cmp);
	g->autos = arena_alloc(p->a, sizeof(*g->autos) * (b->autos.n ? b->autos.n : 1));
	for (i = 0; i < b->autos.n; i++)
		if (g->nautos == 0 || gw_l4_auto_cmp(&g->autos[g->nautos - 1], b->autos.v[i]) != 0)
			g->autos[g->nautos++] = *(struct gw_l4_auto *)b->autos.v[i];
	ptrvec_free(&b->autos);
	for (i = 0; i < b->srvs.n; i++)
		free(b->srvs.v[i]);
	ptrvec_free(&b->srvs);
	ptrvec_free(&b->routes);
	free(b);
	lb->l4 = NULL;
	return g;
}
