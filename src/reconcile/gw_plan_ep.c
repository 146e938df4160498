/*
 * A cluster's endpoints: a Service's EndpointSlices, else its Endpoints,
 * else its Pods, plus the WorkloadEntries it selects; a ServiceEntry's
 * inline endpoints and WorkloadEntries; and the SPIFFE identities
 * ISTIO_MUTUAL accepts from them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vipgate/log.h"
#include "vipgate/reconcile.h"

#include "gw-plan.h"
#include "select.h"

struct ep_build {
	struct vg_ptrvec v;	/* struct gw_endpoint * (arena) */
};

/* pkg/spiffe: spiffe://<trust domain>/ns/<ns>/sa/<service account> */
static const char *
spiffe_id(struct plan *p, const char *ns, const char *sa)
{
	const char *td = p->cfg->gateway.identity.trust_domain;

	return arena_printf(p->a, "spiffe://%s/ns/%s/sa/%s", td && *td ? td : "cluster.local", ns, sa);
}

static void
ep_add(struct plan *p, struct ep_build *eb, const char *ip, int64_t port, uint32_t weight,
    const char *node, const struct object *wl, const struct strmap *labels)
{
	struct gw_endpoint *e;
	const char *app, *ver;

	if (ip == NULL || port <= 0 || port > 65535)
		return;
	e = arena_alloc(p->a, sizeof(*e));
	if (ipaddr_parse(ip, &e->addr) != 0)
		return;		/* hostnames (DNS resolution) are not resolved here */
	e->ip = arena_strdup(p->a, ip);
	e->port = (uint16_t)port;
	e->weight = weight ? weight : 1;
	e->node = node ? arena_strdup(p->a, node) : NULL;
	if (wl) {
		e->workload_ns = arena_strdup(p->a, wl->meta.ns);
		e->workload = arena_strdup(p->a, wl->meta.name);
	}
	if (labels) {
		const char *tm = strmap_get(labels, "security.istio.io/tlsMode");

		app = strmap_get(labels, "app");
		ver = strmap_get(labels, "version");
		e->app = app ? arena_strdup(p->a, app) : NULL;
		e->version = ver ? arena_strdup(p->a, ver) : NULL;
		/* auto mTLS: Istio's transport_socket_matches on tlsMode=istio */
		e->istio_mtls = tm != NULL && strcmp(tm, "istio") == 0;
	}
	if (wl && wl->kind == K_POD) {
		const char *sa = OBJ_SPEC(wl, k_pod)->spec.service_account;

		e->spiffe = spiffe_id(p, wl->meta.ns, sa && *sa ? sa : "default");
	} else if (wl && wl->kind == K_WORKLOADENTRY) {
		const char *sa = OBJ_SPEC(wl, k_workloadentry)->service_account;

		if (sa && *sa)
			e->spiffe = spiffe_id(p, wl->meta.ns, sa);
	}
	ptrvec_push(&eb->v, e);
}

static int
ep_cmp(const void *x, const void *y)
{
	const struct gw_endpoint *a = *(const struct gw_endpoint * const *)x;
	const struct gw_endpoint *b = *(const struct gw_endpoint * const *)y;
	int r = ipaddr_cmp(&a->addr, &b->addr);

	if (r == 0)
		r = (a->port > b->port) - (a->port < b->port);
	return r;
}

/* Whether an endpoint's workload labels satisfy a subset's labels. */
static int
subset_ok(const struct strmap *subset, const struct strmap *labels)
{
	if (subset == NULL || subset->n == 0)
		return 1;
	return labels != NULL && sel_strmap_subset(subset, labels);
}

static int
name_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static int64_t
pod_port(const struct k_pod *pod, const struct intstr *tp, int64_t def)
{
	size_t i, j;

	if (!tp->is_str)
		return tp->i ? tp->i : def;
	for (i = 0; i < pod->spec.ncontainers; i++)
		for (j = 0; j < pod->spec.containers[i].nports; j++)
			if (name_eq(pod->spec.containers[i].ports[j].name, tp->s))
				return pod->spec.containers[i].ports[j].container_port;
	return 0;
}

static const struct object *
ref_pod(struct plan *p, const struct k_objref *r, const char *ns)
{
	if (r->kind == NULL || strcmp(r->kind, "Pod") != 0 || r->name == NULL)
		return NULL;
	return store_get(p->st, K_POD, r->ns ? r->ns : ns, r->name);
}

/* Endpoints of a Kubernetes Service port: EndpointSlices, else Endpoints, else Pods; plus WorkloadEntries. */
static void
svc_endpoints(struct plan *p, const struct object *so, const struct k_svc_port *sp,
    const struct strmap *subset, struct ep_build *eb)
{
	const struct k_service *svc = OBJ_SPEC(so, k_service);
	struct object * const *l;
	size_t n, i, j, k;
	int have_slices = 0;
	const struct object *epo;

	l = store_list(p->st, K_ENDPOINTSLICE, &n);
	for (i = 0; i < n; i++) {
		const struct k_endpointslice *es = OBJ_SPEC(l[i], k_endpointslice);
		int64_t port = 0;

		if (strcmp(l[i]->meta.ns, so->meta.ns) != 0 || es->service_name == NULL ||
		    strcmp(es->service_name, so->meta.name) != 0)
			continue;
		have_slices = 1;
		if (es->address_type && strcmp(es->address_type, "FQDN") == 0)
			continue;
		for (j = 0; j < es->nports; j++)
			if (name_eq(es->ports[j].name, sp->name))
				port = es->ports[j].port;
		for (j = 0; j < es->nendpoints; j++) {
			const struct k_slice_endpoint *e = &es->endpoints[j];
			const struct object *pod = ref_pod(p, &e->target_ref, so->meta.ns);
			const struct strmap *lab = pod ? &pod->meta.labels : NULL;

			if (e->ready.set && !e->ready.v)
				continue;
			if (!subset_ok(subset, lab))
				continue;
			for (k = 0; k < e->naddresses; k++)
				ep_add(p, eb, e->addresses[k], port, 1, e->node_name, pod, lab);
		}
	}
	if (!have_slices && (epo = store_get(p->st, K_ENDPOINTS, so->meta.ns, so->meta.name))) {
		const struct k_endpoints *ep = OBJ_SPEC(epo, k_endpoints);

		for (i = 0; i < ep->nsubsets; i++) {
			const struct k_ep_subset *s = &ep->subsets[i];
			int64_t port = 0;

			for (j = 0; j < s->nports; j++)
				if (name_eq(s->ports[j].name, sp->name) || s->nports == 1)
					port = s->ports[j].port;
			for (j = 0; j < s->naddresses; j++) {
				const struct k_ep_address *a = &s->addresses[j];
				const struct object *pod = ref_pod(p, &a->target_ref, so->meta.ns);
				const struct strmap *lab = pod ? &pod->meta.labels : NULL;

				if (subset_ok(subset, lab))
					ep_add(p, eb, a->ip, port, 1, a->node_name, pod, lab);
			}
		}
		have_slices = 1;
	}
	if (svc->selector.n == 0)
		return;
	if (!have_slices) {
		l = store_list(p->st, K_POD, &n);
		for (i = 0; i < n; i++) {
			const struct k_pod *pod = OBJ_SPEC(l[i], k_pod);

			if (strcmp(l[i]->meta.ns, so->meta.ns) != 0 || !pod->ready ||
			    !sel_strmap_subset(&svc->selector, &l[i]->meta.labels) ||
			    !subset_ok(subset, &l[i]->meta.labels))
				continue;
			ep_add(p, eb, pod->pod_ip, pod_port(pod, &sp->target_port, sp->port), 1,
			    pod->spec.node_name, l[i], &l[i]->meta.labels);
		}
	}
	/* WorkloadEntries selected by the Service (Istio's VM workloads) */
	l = store_list(p->st, K_WORKLOADENTRY, &n);
	for (i = 0; i < n; i++) {
		const struct k_workloadentry *we = OBJ_SPEC(l[i], k_workloadentry);
		int64_t port = sp->target_port.is_str ? 0 :
		    (sp->target_port.i ? sp->target_port.i : sp->port);

		if (strcmp(l[i]->meta.ns, so->meta.ns) != 0 ||
		    !sel_strmap_subset(&svc->selector, &we->labels) || !subset_ok(subset, &we->labels))
			continue;
		for (j = 0; j < we->nports; j++)
			if (name_eq(we->ports[j].name, sp->name) ||
			    (sp->target_port.is_str && name_eq(we->ports[j].name, sp->target_port.s)))
				port = we->ports[j].number;
		ep_add(p, eb, we->address, port, (uint32_t)we->weight, NULL, l[i], &we->labels);
	}
}

static void
we_endpoint(struct plan *p, struct ep_build *eb, const struct k_workloadentry *we,
    const struct object *wl, const struct k_istio_port *sp, const struct strmap *subset,
    const char *se_ns)
{
	int64_t port = sp->target_port ? sp->target_port : sp->number;
	size_t j, n = eb->v.n;

	if (!subset_ok(subset, &we->labels))
		return;
	for (j = 0; j < we->nports; j++)
		if (name_eq(we->ports[j].name, sp->name))
			port = we->ports[j].number;
	ep_add(p, eb, we->address, port, (uint32_t)we->weight, NULL, wl, &we->labels);
	/* an inline ServiceEntry endpoint: its serviceAccount lives in the entry's namespace */
	if (wl == NULL && eb->v.n > n && we->service_account && *we->service_account)
		((struct gw_endpoint *)eb->v.v[n])->spiffe = spiffe_id(p, se_ns, we->service_account);
}

/* A ServiceEntry's endpoints: inline ones and the WorkloadEntries it selects. */
static void
se_endpoints(struct plan *p, const struct object *seo, const struct k_istio_port *sep,
    const struct strmap *subset_labels, struct ep_build *eb)
{
	const struct k_serviceentry *se = OBJ_SPEC(seo, k_serviceentry);
	struct object * const *l;
	size_t i, n;

	for (i = 0; i < se->nendpoints; i++)
		we_endpoint(p, eb, &se->endpoints[i], NULL, sep, subset_labels, seo->meta.ns);
	if (!se->has_workload_selector)
		return;
	l = store_list(p->st, K_WORKLOADENTRY, &n);
	for (i = 0; i < n; i++) {
		const struct k_workloadentry *we = OBJ_SPEC(l[i], k_workloadentry);

		if (strcmp(l[i]->meta.ns, seo->meta.ns) == 0 &&
		    sel_strmap_subset(&se->workload_selector, &we->labels))
			we_endpoint(p, eb, we, l[i], sep, subset_labels, seo->meta.ns);
	}
}

static int
any_istio_mtls(const struct gw_cluster *c)
{
	size_t i;

	for (i = 0; i < c->neps; i++)
		if (c->eps[i].istio_mtls)
			return 1;
	return 0;
}

static int
str_cmp(const void *x, const void *y)
{
	return strcmp(*(const char * const *)x, *(const char * const *)y);
}

/*
 * The SAN set ISTIO_MUTUAL verifies against: istiod gives a cluster the
 * service accounts of all the service's workloads (ServiceAccounts(host)),
 * so any of them is accepted from any endpoint, a subset's too; a
 * ServiceEntry adds its subjectAltNames.
 */
static void
cluster_spiffes(struct plan *p, struct gw_cluster *c, const struct object *so,
    const struct k_svc_port *sp, const struct object *seo, const struct k_istio_port *sep,
    const struct strmap *subset_labels)
{
	const struct k_serviceentry *se = seo ? OBJ_SPEC(seo, k_serviceentry) : NULL;
	struct ep_build all;
	const char **v;
	size_t i, n = 0, k = 0, nse = se ? se->nsubject_alt_names : 0;

	/* only ISTIO_MUTUAL without the rule's subjectAltNames, or auto mTLS, reads it */
	if (c->tls ? c->tls->mode != GW_UPTLS_ISTIO_MUTUAL || c->tls->nsans : !any_istio_mtls(c))
		return;
	memset(&all, 0, sizeof(all));
	if (so && subset_labels)
		svc_endpoints(p, so, sp, NULL, &all);
	else if (seo && subset_labels)
		se_endpoints(p, seo, sep, NULL, &all);
	else
		for (i = 0; i < c->neps; i++)
			ptrvec_push(&all.v, &c->eps[i]);
	v = arena_alloc(p->a, sizeof(*v) * (all.v.n + nse + 1));
	for (i = 0; i < nse; i++)
		v[n++] = se->subject_alt_names[i];
	for (i = 0; i < all.v.n; i++) {
		const struct gw_endpoint *e = all.v.v[i];

		if (e->spiffe)
			v[n++] = e->spiffe;
	}
	ptrvec_free(&all.v);
	if (n == 0)
		return;
	gwp_sort(v, n, sizeof(*v), str_cmp);
	for (i = 0; i < n; i++)
		if (k == 0 || strcmp(v[i], v[k - 1]) != 0)
			v[k++] = v[i];
	c->spiffes = v;
	c->nspiffes = k;
}

/* A cluster's endpoints, sorted, each address once; and the SANs ISTIO_MUTUAL accepts. */
void
gwp_cluster_endpoints(struct plan *p, struct gw_cluster *c, const struct dest_target *t,
    const struct strmap *subset_labels)
{
	struct ep_build eb = { { 0 } };
	size_t i;

	if (t->so)
		svc_endpoints(p, t->so, t->sp, subset_labels, &eb);
	else
		se_endpoints(p, t->seo, t->sep, subset_labels, &eb);
	if (eb.v.n) {
		size_t k = 0;

		gwp_sort(eb.v.v, eb.v.n, sizeof(void *), ep_cmp);
		c->eps = arena_alloc(p->a, sizeof(*c->eps) * eb.v.n);
		for (i = 0; i < eb.v.n; i++) {
			if (k && ep_cmp(&eb.v.v[i], &eb.v.v[i - 1]) == 0)
				continue;	/* one address in two slices */
			c->eps[k] = *(struct gw_endpoint *)eb.v.v[i];
			c->eps[k].id = k;
			/* buildAutoMtlsSettings: never auto mTLS to a MESH_EXTERNAL entry */
			if (t->seo && OBJ_SPEC(t->seo, k_serviceentry)->location == K_SE_MESH_EXTERNAL)
				c->eps[k].istio_mtls = 0;
			k++;
		}
		c->neps = k;
	}
	ptrvec_free(&eb.v);
	cluster_spiffes(p, c, t->so, t->sp, t->seo, t->sep, subset_labels);
}
