/*
 * VirtualServices to routes: which servers a VirtualService attaches to
 * (its gateways and hosts), and each http[] rule compiled for the proxy:
 * matches, action, rewrite, CORS, mirrors, headers, timeout, retries and
 * fault.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vipgate/gw-retry.h"
#include "vipgate/log.h"
#include "vipgate/reconcile.h"

#include "gw-plan.h"


static int
ts_cmp(const char *a, const char *b)
{
	/* no timestamp sorts first: Go's zero time */
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int
vs_order(const void *x, const void *y)
{
	const struct object *a = *(const struct object * const *)x;
	const struct object *b = *(const struct object * const *)y;
	int r = ts_cmp(a->meta.creation_ts, b->meta.creation_ts);

	if (r == 0)
		r = strcmp(a->meta.ns, b->meta.ns);
	if (r == 0)
		r = strcmp(a->meta.name, b->meta.name);
	return r;
}

static int
regex_index(struct plan *p, const char *pat)
{
	size_t i;

	for (i = 0; i < p->regexes.n; i++)
		if (strcmp(p->regexes.v[i], pat) == 0)
			return (int)i;
	ptrvec_push(&p->regexes, arena_strdup(p->a, pat));
	return (int)(p->regexes.n - 1);
}

static void
strmatch_compile(struct plan *p, const struct k_istio_strmatch *in, int presence,
    int icase, struct gw_strmatch *out)
{
	out->rx = -1;
	switch (in->type) {
	case K_MATCH_NONE:
		out->type = presence ? GW_MT_PRESENT : GW_MT_ANY;
		return;
	case K_MATCH_EXACT:
		out->type = GW_MT_EXACT;
		break;
	case K_MATCH_PREFIX:
		out->type = GW_MT_PREFIX;
		break;
	case K_MATCH_REGEX:
		out->type = GW_MT_REGEX;
		out->rx = regex_index(p, in->value ? in->value : "");
		break;
	}
	out->value = arena_strdup(p->a, in->value ? in->value : "");
	out->len = strlen(out->value);
	out->icase = icase && out->type != GW_MT_REGEX;
}

static struct gw_keymatch *
keymatches_compile(struct plan *p, const struct k_vs_keymatches *in, int lower)
{
	struct gw_keymatch *v;
	size_t i;

	if (in->n == 0)
		return NULL;
	v = arena_alloc(p->a, sizeof(*v) * in->n);
	for (i = 0; i < in->n; i++) {
		v[i].name = lower ? gwp_lower_dup(p->a, in->v[i].name) : arena_strdup(p->a, in->v[i].name);
		strmatch_compile(p, &in->v[i].match, 1, 0, &v[i].m);
	}
	return v;
}

static void
header_ops_compile(struct plan *p, const struct k_vs_header_ops *in, struct gw_header_ops *out)
{
	size_t i;

	if (in->set.n) {
		out->set = arena_alloc(p->a, sizeof(*out->set) * in->set.n);
		for (i = 0; i < in->set.n; i++) {
			out->set[i].name = gwp_lower_dup(p->a, in->set.k[i]);
			out->set[i].value = arena_strdup(p->a, in->set.v[i]);
		}
		out->nset = in->set.n;
	}
	if (in->add.n) {
		out->add = arena_alloc(p->a, sizeof(*out->add) * in->add.n);
		for (i = 0; i < in->add.n; i++) {
			out->add[i].name = gwp_lower_dup(p->a, in->add.k[i]);
			out->add[i].value = arena_strdup(p->a, in->add.v[i]);
		}
		out->nadd = in->add.n;
	}
	if (in->nremove) {
		out->remove = arena_alloc(p->a, sizeof(char *) * in->nremove);
		for (i = 0; i < in->nremove; i++)
			out->remove[i] = gwp_lower_dup(p->a, in->remove[i]);
		out->nremove = in->nremove;
	}
}

static int
match_applies(const struct k_vs_http_match *m, const struct object *vso, const struct object *gwo)
{
	size_t i;

	if (m->ngateways == 0)
		return 1;
	for (i = 0; i < m->ngateways; i++)
		if (gwp_gw_ref_is(m->gateways[i], vso->meta.ns, gwo))
			return 1;
	return 0;
}

static const char *
join(struct plan *p, const char **v, size_t n)
{
	struct vg_buf b = { 0 };
	const char *r;
	size_t i;

	if (n == 0)
		return NULL;
	for (i = 0; i < n; i++) {
		if (i)
			buf_puts(&b, ",");
		buf_puts(&b, v[i]);
	}
	r = arena_strdup(p->a, b.s);
	buf_free(&b);
	return r;
}

static struct gw_cors *
cors_compile(struct plan *p, const struct k_vs_cors *in)
{
	struct gw_cors *c = arena_alloc(p->a, sizeof(*c));
	size_t i, n = in->nallow_origins + in->nallow_origin;

	c->origins = arena_alloc(p->a, sizeof(*c->origins) * (n ? n : 1));
	for (i = 0; i < in->nallow_origins; i++)
		strmatch_compile(p, &in->allow_origins[i], 0, 0, &c->origins[c->norigins++]);
	for (i = 0; i < in->nallow_origin; i++) {
		struct k_istio_strmatch m = { K_MATCH_EXACT, in->allow_origin[i] };

		strmatch_compile(p, &m, 0, 0, &c->origins[c->norigins++]);
	}
	c->methods = join(p, in->allow_methods, in->nallow_methods);
	c->headers = join(p, in->allow_headers, in->nallow_headers);
	c->expose = join(p, in->expose_headers, in->nexpose_headers);
	c->max_age_s = in->max_age_ms.set ? in->max_age_ms.v / 1000 : -1;
	c->credentials = in->allow_credentials.set ? (int)in->allow_credentials.v : -1;
	c->forward_unmatched = in->unmatched_preflights != K_VS_PREFLIGHT_IGNORE;
	return c;
}

/* The matches of rule h that apply on Gateway gwo; 0 when it has matches and none does. */
static int
matches_compile(struct plan *p, struct gw_route *r, const struct k_vs_http *h,
    const struct object *vso, const struct object *gwo)
{
	size_t i;

	if (h->nmatch == 0)
		return 1;
	r->matches = arena_alloc(p->a, sizeof(*r->matches) * h->nmatch);
	for (i = 0; i < h->nmatch; i++) {
		const struct k_vs_http_match *m = &h->match[i];
		struct gw_match *g = &r->matches[r->nmatches];

		if (!match_applies(m, vso, gwo))
			continue;
		strmatch_compile(p, &m->uri, 0, m->ignore_uri_case, &g->uri);
		strmatch_compile(p, &m->scheme, 0, 0, &g->scheme);
		strmatch_compile(p, &m->method, 0, 0, &g->method);
		strmatch_compile(p, &m->authority, 0, 0, &g->authority);
		g->headers = keymatches_compile(p, &m->headers, 1);
		g->nheaders = m->headers.n;
		g->without_headers = keymatches_compile(p, &m->without_headers, 1);
		g->nwithout_headers = m->without_headers.n;
		g->query = keymatches_compile(p, &m->query_params, 0);
		g->nquery = m->query_params.n;
		g->port = (uint16_t)m->port;
		r->nmatches++;
	}
	return r->nmatches > 0;
}

/* The weighted destinations of rule ri (h) of vso, and their clusters. */
static void
dests_compile(struct plan *p, struct gw_route *r, const struct k_vs_http *h,
    const struct object *vso, size_t ri)
{
	size_t i;

	r->dests = arena_alloc(p->a, sizeof(*r->dests) * (h->nroute ? h->nroute : 1));
	for (i = 0; i < h->nroute; i++) {
		const struct k_vs_http_dest *hd = &h->route[i];
		struct gw_dest *d = &r->dests[i];

		d->cluster = gwp_cluster_get(p, &hd->destination, vso->meta.ns);
		if (d->cluster->missing && !d->cluster->noted) {
			/* istioctl analyze: a destination with no service or subset (503 NC) */
			gwp_note(p, vso, "http[%zu]: %s (answers 503 NC)", ri, d->cluster->missing);
			d->cluster->noted = 1;
		}
		/* a lone destination takes everything (Istio: weight 100) */
		d->weight = h->nroute == 1 ? 100 : (uint32_t)(hd->weight > 0 ? hd->weight : 0);
		header_ops_compile(p, &hd->headers.request, &d->req);
		header_ops_compile(p, &hd->headers.response, &d->resp);
		r->total_weight += d->weight;
	}
	r->ndests = h->nroute;
	if (r->total_weight == 0)
		for (i = 0; i < r->ndests; i++) {
			r->dests[i].weight = 1;
			r->total_weight++;
		}
}

/* What rule h does: redirect, answer directly, or route to its destinations. */
static void
action_compile(struct plan *p, struct gw_route *r, const struct k_vs_http *h,
    const struct object *vso, size_t ri)
{
	if (h->redirect) {
		const struct k_vs_redirect *rd = h->redirect;

		r->action = GW_ACT_REDIRECT;
		r->redirect.uri = rd->uri ? arena_strdup(p->a, rd->uri) : NULL;
		r->redirect.authority = rd->authority ? arena_strdup(p->a, rd->authority) : NULL;
		r->redirect.scheme = rd->scheme ? arena_strdup(p->a, rd->scheme) : NULL;
		r->redirect.port = (uint16_t)rd->port;
		r->redirect.port_from_request = rd->derive_port == K_VS_FROM_REQUEST_PORT;
		r->redirect.code = rd->redirect_code ? (int)rd->redirect_code : 301;
	} else if (h->direct_response) {
		r->action = GW_ACT_DIRECT;
		r->direct_status = (int)h->direct_response->status;
		if (h->direct_response->body) {
			r->direct_body = arena_memdup(p->a, h->direct_response->body,
			    h->direct_response->body_len);
			r->direct_len = h->direct_response->body_len;
		}
	} else {
		r->action = GW_ACT_ROUTE;
		dests_compile(p, r, h, vso, ri);
	}
}

/* A rule's rewrite: uri, authority, a regex rewrite of the uri. */
static struct gw_rewrite *
rewrite_compile(struct plan *p, const struct k_vs_rewrite *in)
{
	struct gw_rewrite *rw = arena_alloc(p->a, sizeof(*rw));

	rw->uri = in->uri ? arena_strdup(p->a, in->uri) : NULL;
	rw->authority = in->authority ? arena_strdup(p->a, in->authority) : NULL;
	rw->rx = -1;
	if (in->uri_regex_rewrite.match) {
		rw->rx = regex_index(p, in->uri_regex_rewrite.match);
		rw->rx_subst = arena_strdup(p->a,
		    in->uri_regex_rewrite.rewrite ? in->uri_regex_rewrite.rewrite : "");
	}
	return rw;
}

/* mirror (with mirrorPercentage, 100% when unset) and mirrors (each its own) */
static void
mirrors_compile(struct plan *p, struct gw_route *r, const struct k_vs_http *h,
    const struct object *vso)
{
	size_t i;

	r->mirrors = arena_alloc(p->a, sizeof(*r->mirrors) * (h->nmirrors + 1));
	if (h->mirror) {
		r->mirrors[0].cluster = gwp_cluster_get(p, h->mirror, vso->meta.ns);
		r->mirrors[0].percent = h->mirror_percentage.set ? h->mirror_percentage.value :
		    h->mirror_percent.set ? (double)h->mirror_percent.v : 100.0;
		r->nmirrors = 1;
	}
	for (i = 0; i < h->nmirrors; i++) {
		struct gw_mirror *m = &r->mirrors[r->nmirrors++];

		m->cluster = gwp_cluster_get(p, &h->mirrors[i].destination, vso->meta.ns);
		m->percent = h->mirrors[i].percentage.set ? h->mirrors[i].percentage.value : 100.0;
	}
}

/* Timeout, retries and fault of rule ri (h) of vso; analyze notes what does not apply. */
static void
resilience_compile(struct plan *p, struct gw_route *r, const struct k_vs_http *h,
    const struct object *vso, size_t ri)
{
	r->timeout_ms = h->timeout_ms.set ? h->timeout_ms.v : 0;
	if (h->retries) {
		r->retry_attempts = h->retries->attempts;
		r->retry_on = h->retries->retry_on ? arena_strdup(p->a, h->retries->retry_on) : NULL;
		r->per_try_timeout_ms = h->retries->per_try_timeout_ms.set ?
		    h->retries->per_try_timeout_ms.v : 0;
	} else {
		r->retry_attempts = 2;	/* route/retry/retry.go */
		r->retry_on = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";
	}
	/* retries, fault: compiled once for the proxy (gw_retry.c) */
	if (gw_retry_policy_compile(h->retries, &r->retry) == -1)
		gwp_note(p, vso, "http[%zu]: retries.retryOn \"%s\" does not parse: Istio's default "
		    "retryOn is used", ri, h->retries->retry_on);
	if (h->fault) {
		struct gw_fault f;

		if (gw_fault_compile(h->fault, &f)) {
			r->fault = arena_alloc(p->a, sizeof(*r->fault));
			*r->fault = f;
		}
		if (h->fault->abort && h->fault->abort->http_status > 0 &&
		    !h->fault->abort->percentage.set)
			gwp_note(p, vso, "http[%zu]: fault.abort has no percentage: it aborts no "
			    "request (Envoy's default 0%%)", ri);
	}
}

/* One http[] rule for one Gateway; NULL when none of its matches applies there. */
static struct gw_route *
route_compile(struct plan *p, const struct object *vso, const struct object *gwo, size_t ri)
{
	const struct k_virtualservice *vs = OBJ_SPEC(vso, k_virtualservice);
	const struct k_vs_http *h = &vs->http[ri];
	struct gw_route *r = arena_alloc(p->a, sizeof(*r));

	r->vs_ns = arena_strdup(p->a, vso->meta.ns);
	r->vs_name = arena_strdup(p->a, vso->meta.name);
	r->name = h->name ? arena_strdup(p->a, h->name) : NULL;
	r->rule = ri;
	if (!matches_compile(p, r, h, vso, gwo))
		return NULL;
	action_compile(p, r, h, vso, ri);
	if (h->rewrite)
		r->rewrite = rewrite_compile(p, h->rewrite);
	if (h->cors_policy)
		r->cors = cors_compile(p, h->cors_policy);
	if (h->mirror || h->nmirrors)
		mirrors_compile(p, r, h, vso);
	header_ops_compile(p, &h->headers.request, &r->req);
	header_ops_compile(p, &h->headers.response, &r->resp);
	resilience_compile(p, r, h, vso, ri);
	return r;
}

/* Attach one VirtualService to every selected server it names and whose hosts it shares. */
static void
vs_attach(struct plan *p, const struct object *vso, struct srv_ref *srvs, size_t nsrvs)
{
	const struct k_virtualservice *vs = OBJ_SPEC(vso, k_virtualservice);
	const struct object *gw_done = NULL;
	size_t dep_done = 0;
	struct gw_route **routes = NULL;
	size_t nroutes = 0, s, i, j, k;
	int attached = 0;

	if (vs->nhttp == 0)
		return;		/* tcp[] and tls[] only: gw_plan_l4.c */
	for (s = 0; s < nsrvs; s++) {
		const struct srv_ref *sr = &srvs[s];

		if (sr->chain == NULL || !gwp_vs_attached(vso, sr->gw))
			continue;
		if (gw_done != sr->gw || dep_done != sr->dep) {
			/* matches may name gateways: compile the rules once per Gateway
			 * (and deployment: DestinationRules may select one) */
			gwp_dep_set(p, sr->dep);
			free(routes);
			routes = xcalloc(vs->nhttp ? vs->nhttp : 1, sizeof(*routes));
			nroutes = 0;
			for (i = 0; i < vs->nhttp; i++) {
				struct gw_route *r = route_compile(p, vso, sr->gw, i);

				if (r)
					routes[nroutes++] = r;
			}
			gw_done = sr->gw;
			dep_done = sr->dep;
		}
		for (i = 0; i < vs->nhosts; i++) {
			const char *vh = gwp_host_fqdn(p->a, vs->hosts[i], vso->meta.ns);

			for (j = 0; j < sr->srv->nhosts; j++) {
				const struct k_gw_host *gh = &sr->srv->host_parts[j];
				const char *x;
				struct vh_build *v;

				if (!gwp_host_ns_ok(gh, sr->gw->meta.ns, vso->meta.ns))
					continue;
				x = gwp_host_intersect(vh, gh->dns);
				if (x == NULL)
					continue;
				attached = 1;
				v = gwp_vhost_get(sr->chain, p, x);
				if (sr->srv->tls && sr->srv->tls->https_redirect && !gwp_server_is_https(sr->srv))
					v->require_tls = 1;
				if (v->last_vs == vso)
					continue;
				v->last_vs = vso;
				for (k = 0; k < nroutes; k++)
					ptrvec_push(&v->routes, routes[k]);
			}
		}
	}
	free(routes);
	if (!attached)
		gwp_note(p, vso, "no server of its gateways accepts any of its hosts");
}

/*
 * Every VirtualService that names a gateway, oldest first (Istio's order),
 * attached to the servers it names; analyze notes the others.
 */
void
gwp_vs_attach_all(struct plan *p, struct object * const *gws, size_t ngws,
    struct srv_ref *srvs, size_t nsrvs)
{
	struct object * const *vss;
	const struct object **vsort;
	size_t nvss, nv = 0, i, j;

	vss = store_list(p->st, K_VIRTUALSERVICE, &nvss);
	vsort = xcalloc(nvss ? nvss : 1, sizeof(*vsort));
	for (i = 0; i < nvss; i++) {
		const struct k_virtualservice *vs = OBJ_SPEC(vss[i], k_virtualservice);
		int any = 0;

		for (j = 0; j < vs->ngateways; j++)
			if (strcmp(vs->gateways[j], "mesh") != 0)
				any = 1;
		if (any)
			vsort[nv++] = vss[i];
		else
			/* CONTRACT.md: mesh-only VirtualServices are for sidecars, and analyze says so */
			gwp_note(p, vss[i], "no gateways (or only mesh): for sidecars, not served by the gateway");
	}
	gwp_sort(vsort, nv, sizeof(*vsort), vs_order);
	for (i = 0; i < nv; i++) {
		const struct k_virtualservice *vs = OBJ_SPEC(vsort[i], k_virtualservice);
		int found = 0;

		for (j = 0; j < ngws && !found; j++) {
			size_t k;

			for (k = 0; k < vs->ngateways && !found; k++)
				if (gwp_gw_ref_is(vs->gateways[k], vsort[i]->meta.ns, gws[j]))
					found = 1;
		}
		if (!found) {
			gwp_note(p, vsort[i], "none of its gateways exists");
			continue;
		}
		vs_attach(p, vsort[i], srvs, nsrvs);
		gwp_l4_attach(p, vsort[i]);
	}
	free(vsort);
}
