/*
 * The gw part of the desired state: Gateways, VirtualServices,
 * DestinationRules and endpoints compiled as istiod translates them for an
 * ingress gateway (pilot/pkg/networking/core/gateway.go,
 * cluster_traffic_policy.go). Pure: reads the store and the config, writes
 * only into d->arena, copies every string it keeps.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/gw-retry.h"
#include "vipgate/gw-t.h"
#include "vipgate/log.h"
#include "vipgate/reconcile.h"

#include "select.h"

#define CLUSTER_DOMAIN	"svc.cluster.local"

struct vh_build {
	char		*name;		/* arena */
	int		 require_tls;
	struct vg_ptrvec routes;	/* struct gw_route * (arena) */
	const struct object *last_vs;	/* a VS whose hosts meet twice here adds its rules once */
};

struct chain_build {
	struct gw_chain	 c;		/* sni, tls, name set; vhosts filled at the end */
	struct vg_ptrvec vhosts;	/* struct vh_build * (malloc) */
	const struct object *gw;	/* HTTPS: the server's Gateway */
	const struct k_gw_server *srv;
};

struct lis_build {
	uint16_t	 port;
	int		 tls;
	struct vg_ptrvec chains;	/* struct chain_build * (malloc) */
};

struct plan {
	struct desired		*d;
	struct vg_arena		*a;
	struct store		*st;
	const struct config	*cfg;
	struct vg_ptrvec	 lis;		/* struct lis_build * */
	struct vg_ptrvec	 clusters;	/* struct gw_cluster * (arena) */
	struct vg_ptrvec	 regexes;	/* const char * (arena) */
	struct vg_ptrvec	 notes;		/* struct gw_note * (arena) */
};

/* A server of a selected Gateway, and the chain it feeds. */
struct srv_ref {
	const struct object	*gw;
	const struct k_gw_server *srv;
	struct chain_build	*chain;
};

static void VG_PRINTF(3, 4)
note(struct plan *p, const struct object *o, const char *fmt, ...)
{
	struct gw_note *n = arena_alloc(p->a, sizeof(*n));
	char buf[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n->kind = kind_name(o->kind);
	n->ns = arena_strdup(p->a, o->meta.ns);
	n->name = arena_strdup(p->a, o->meta.name);
	n->msg = arena_strdup(p->a, buf);
	ptrvec_push(&p->notes, n);
}

static char *
lower_dup(struct vg_arena *a, const char *s)
{
	char *r = arena_strdup(a, s);
	char *q;

	for (q = r; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	return r;
}

/* qsort with n == 0 may get a NULL base, which UBSan rejects */
static void
sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* ---- hosts (pkg/config/host: Name.Matches, intersection) ---- */

/* Whether pattern a covers b: equal, "*", or "*.x" over anything ending in ".x". */
static int
host_covers(const char *a, const char *b)
{
	size_t la, lb;

	if (strcasecmp(a, b) == 0 || strcmp(a, "*") == 0)
		return 1;
	if (a[0] != '*')
		return 0;
	la = strlen(a + 1);
	lb = strlen(b);
	/* "*.example.com" covers "foo.example.com" and "*.foo.example.com" */
	if (b[0] == '*') {
		if (lb - 1 < la)
			return 0;
		return strcasecmp(b + lb - la, a + 1) == 0;
	}
	return lb > la && strcasecmp(b + lb - la, a + 1) == 0;
}

/* The more specific of two intersecting hosts, or NULL. */
static const char *
host_intersect(const char *a, const char *b)
{
	if (host_covers(a, b))
		return b;
	if (host_covers(b, a))
		return a;
	return NULL;
}

/* VirtualService and DestinationRule hosts: short names live in the object's namespace. */
static char *
host_fqdn(struct vg_arena *a, const char *host, const char *ns)
{
	if (strchr(host, '.') == NULL && strchr(host, '*') == NULL)
		return lower_dup(a, arena_printf(a, "%s.%s." CLUSTER_DOMAIN, host, ns));
	return lower_dup(a, host);
}

/* Whether a server host's namespace part admits a VirtualService from vs_ns. */
static int
host_ns_ok(const struct k_gw_host *h, const char *gw_ns, const char *vs_ns)
{
	if (h->ns == NULL || strcmp(h->ns, "*") == 0)
		return 1;
	if (strcmp(h->ns, ".") == 0)
		return strcmp(gw_ns, vs_ns) == 0;
	return strcmp(h->ns, vs_ns) == 0;
}

/* ---- Gateways, servers, listeners ---- */

static int
gw_selected(const struct object *o, const struct config *cfg)
{
	const struct k_gateway *g = OBJ_SPEC(o, k_gateway);

	return sel_strmap_subset(&g->selector, &cfg->gateway.labels);
}

static int
server_is_http(const struct k_gw_server *s)
{
	switch (s->port.proto) {
	case K_PROTO_HTTP:
	case K_PROTO_HTTP2:
	case K_PROTO_GRPC:
	case K_PROTO_GRPC_WEB:
		return s->tls == NULL || s->tls->https_redirect ||
		    s->tls->mode == K_GW_TLS_PASSTHROUGH;
	default:
		return 0;
	}
}

static int
server_is_https(const struct k_gw_server *s)
{
	if (s->port.proto != K_PROTO_HTTPS || s->tls == NULL)
		return 0;
	switch (s->tls->mode) {
	case K_GW_TLS_SIMPLE:
	case K_GW_TLS_MUTUAL:
	case K_GW_TLS_OPTIONAL_MUTUAL:
	case K_GW_TLS_ISTIO_MUTUAL:
		return 1;
	default:
		return 0;
	}
}

static struct lis_build *
listener_get(struct plan *p, uint16_t port, int tls)
{
	struct lis_build *l;
	size_t i;

	for (i = 0; i < p->lis.n; i++) {
		l = p->lis.v[i];
		if (l->port == port)
			return l;
	}
	l = xcalloc(1, sizeof(*l));
	l->port = port;
	l->tls = tls;
	ptrvec_push(&p->lis, l);
	return l;
}

static int
tls_version(enum k_tls_version v)
{
	switch (v) {
	case K_TLSV1_0:
		return 0x0301;
	case K_TLSV1_1:
		return 0x0302;
	case K_TLSV1_2:
		return 0x0303;
	case K_TLSV1_3:
		return 0x0304;
	default:
		return 0;
	}
}

static const char *
secret_value(const struct object *sec, const char *key, size_t *len)
{
	const struct k_secret *s;
	size_t i;

	if (sec == NULL)
		return NULL;
	s = OBJ_SPEC(sec, k_secret);
	for (i = 0; i < s->data.n; i++)
		if (strcmp(s->data.k[i], key) == 0) {
			*len = s->data_len ? s->data_len[i] : strlen(s->data.v[i]);
			/* empty is absent, as the Secret's decoder checks it */
			return *len ? s->data.v[i] : NULL;
		}
	return NULL;
}

/*
 * A Secret the gateway reads. When its latest version was rejected at
 * decode (bad TLS material, src/objects/secret_tls.c) the store keeps the
 * last good one, which is returned and served; *why then says so (or, for
 * a Secret never good, why there is none), and analyze names the Secret
 * once.
 */
static const struct object *
secret_get(struct plan *p, const char *ns, const char *name, const char **why)
{
	const struct object *sec = store_get(p->st, K_SECRET, ns, name);
	const char *rej = store_rejected(p->st, K_SECRET, ns, name);
	size_t i;

	*why = NULL;
	if (rej == NULL)
		return sec;
	if (sec != NULL)
		*why = arena_printf(p->a, "Secret %s/%s: its new version is rejected, the last "
		    "good one stays in force: %s", ns, name, rej);
	else
		*why = arena_printf(p->a, "Secret %s/%s is rejected (no good version was ever "
		    "loaded): %s", ns, name, rej);
	for (i = 0; i < p->notes.n; i++) {
		const struct gw_note *n = p->notes.v[i];

		if (strcmp(n->kind, "Secret") == 0 && strcmp(n->ns, ns) == 0 &&
		    strcmp(n->name, name) == 0)
			return sec;
	}
	{
		struct gw_note *n = arena_alloc(p->a, sizeof(*n));

		n->kind = "Secret";
		n->ns = arena_strdup(p->a, ns);
		n->name = arena_strdup(p->a, name);
		n->msg = *why;
		ptrvec_push(&p->notes, n);
	}
	return sec;
}

/* "a; b" in the arena: one more reason beside others. */
static const char *
also(struct plan *p, const char *a, const char *b)
{
	if (b == NULL)
		return a;
	return a ? arena_printf(p->a, "%s; %s", a, b) : b;
}

static const char *
secret_pick(struct plan *p, const struct object *sec, const char *k1, const char *k2, size_t *len)
{
	const char *v = secret_value(sec, k1, len);

	if (v == NULL)
		v = secret_value(sec, k2, len);
	if (v == NULL)
		return NULL;
	/* NUL-terminated copy: OpenSSL's PEM readers take a BIO of len bytes anyway */
	{
		char *c = arena_alloc(p->a, *len + 1);

		memcpy(c, v, *len);
		return c;
	}
}

/* TLS settings of an HTTPS server, from its credentialName Secret in gateway.namespace. */
static struct gw_tls *
tls_compile(struct plan *p, const struct object *gwo, const struct k_gw_server *srv)
{
	const struct k_gw_tls *t = srv->tls;
	struct gw_tls *g = arena_alloc(p->a, sizeof(*g));
	const char *ns = p->cfg->gateway.ns ? p->cfg->gateway.ns : "istio-system";
	const char *cred = t->credential_name;
	const struct object *sec = NULL;
	const char *why, *cawhy = NULL;
	size_t i;

	switch (t->mode) {
	case K_GW_TLS_SIMPLE:
		g->mode = GW_TLS_SIMPLE;
		break;
	case K_GW_TLS_MUTUAL:
		g->mode = GW_TLS_MUTUAL;
		break;
	case K_GW_TLS_OPTIONAL_MUTUAL:
		g->mode = GW_TLS_OPTIONAL_MUTUAL;
		break;
	default:
		g->mode = GW_TLS_ISTIO_MUTUAL;
		break;
	}
	g->min_version = tls_version(t->min_protocol_version);
	if (g->min_version == 0)
		g->min_version = 0x0303;	/* Istio: TLSV1_2 */
	g->max_version = tls_version(t->max_protocol_version);
	if (t->ncipher_suites) {
		struct vg_buf b = { 0 };

		for (i = 0; i < t->ncipher_suites; i++) {
			if (i)
				buf_puts(&b, ":");
			buf_puts(&b, t->cipher_suites[i]);
		}
		g->ciphers = arena_strdup(p->a, b.s);
		buf_free(&b);
	}
	if (t->nsubject_alt_names) {
		g->sans = arena_alloc(p->a, sizeof(char *) * t->nsubject_alt_names);
		for (i = 0; i < t->nsubject_alt_names; i++)
			g->sans[i] = arena_strdup(p->a, t->subject_alt_names[i]);
		g->nsans = t->nsubject_alt_names;
	}
	if (g->mode == GW_TLS_ISTIO_MUTUAL)
		return g;	/* the workload identity (gateway.identity) */
	if (cred == NULL && t->ncredential_names)
		cred = t->credential_names[0];
	if (cred == NULL) {
		g->error = "no credentialName";
		note(p, gwo, "server %s: tls without credentialName (file paths are not served)",
		    srv->name ? srv->name : "");
		return g;
	}
	g->credential = arena_printf(p->a, "%s/%s", ns, cred);
	sec = secret_get(p, ns, cred, &why);
	if (sec == NULL) {
		/* never good: not served, as a Secret not found (Envoy does not
		 * serve a filter chain whose secret is not ready) */
		g->error = why ? why : arena_printf(p->a, "Secret %s/%s not found", ns, cred);
		note(p, gwo, "%s", g->error);
		return g;
	}
	g->rejected = why;
	g->not_before = OBJ_SPEC(sec, k_secret)->not_before;
	g->not_after = OBJ_SPEC(sec, k_secret)->not_after;
	g->cert = secret_pick(p, sec, "tls.crt", "cert", &g->cert_len);
	g->key = secret_pick(p, sec, "tls.key", "key", &g->key_len);
	if (g->cert == NULL || g->key == NULL) {
		g->error = arena_printf(p->a, "Secret %s/%s has no tls.crt/tls.key (or cert/key)", ns, cred);
		note(p, gwo, "%s", g->error);
		return g;
	}
	/* credentialNames: a second pair (Istio: RSA and ECDSA), served side by side */
	if (t->ncredential_names > 1 && cred == t->credential_names[0]) {
		const struct object *s2 = secret_get(p, ns, t->credential_names[1], &why);

		g->rejected = also(p, g->rejected, why);
		g->cert2 = secret_pick(p, s2, "tls.crt", "cert", &g->cert2_len);
		g->key2 = secret_pick(p, s2, "tls.key", "key", &g->key2_len);
		if (g->cert2 == NULL || g->key2 == NULL) {
			g->cert2 = g->key2 = NULL;
			note(p, gwo, "Secret %s/%s (second credentialNames entry) missing or incomplete%s%s",
			    ns, t->credential_names[1], s2 == NULL && why ? ": " : "",
			    s2 == NULL && why ? why : "");
		}
	}
	if (g->mode != GW_TLS_SIMPLE) {
		const char *caname = t->ca_cert_credential_name;

		g->ca = secret_pick(p, sec, "ca.crt", "cacert", &g->ca_len);
		if (g->ca == NULL) {
			const struct object *cs = secret_get(p, ns,
			    caname ? caname : arena_printf(p->a, "%s-cacert", cred), &why);

			g->ca = secret_pick(p, cs, "ca.crt", "cacert", &g->ca_len);
			if (cs != NULL)
				g->rejected = also(p, g->rejected, why);
			else if (why != NULL && g->ca == NULL)
				cawhy = why;
		}
		if (g->ca == NULL) {
			g->error = arena_printf(p->a, "Secret %s/%s: MUTUAL needs ca.crt (or %s-cacert)%s%s",
			    ns, cred, cred, cawhy ? ": " : "", cawhy ? cawhy : "");
			note(p, gwo, "%s", g->error);
		}
	}
	return g;
}

static struct chain_build *
chain_for_server(struct plan *p, const struct object *gwo, const struct k_gw_server *srv, size_t idx)
{
	uint16_t port = (uint16_t)srv->port.number;
	int https = server_is_https(srv);
	struct lis_build *l = listener_get(p, port, https);
	struct chain_build *cb;
	size_t i;

	if (l->tls != https) {
		note(p, gwo, "server %s: port %u mixes plain text and TLS servers; ignored",
		    srv->name ? srv->name : "", port);
		return NULL;
	}
	if (!https) {
		/* one route config http.<port> for every plain server on the port */
		if (l->chains.n == 0) {
			cb = xcalloc(1, sizeof(*cb));
			cb->c.name = arena_printf(p->a, "http.%u", port);
			ptrvec_push(&l->chains, cb);
		}
		return l->chains.v[0];
	}
	cb = xcalloc(1, sizeof(*cb));
	cb->gw = gwo;
	cb->srv = srv;
	cb->c.name = arena_printf(p->a, "https.%u.%s.%s.%s", port,
	    srv->port.name ? srv->port.name : arena_printf(p->a, "%zu", idx),
	    gwo->meta.name, gwo->meta.ns);
	cb->c.sni = arena_alloc(p->a, sizeof(char *) * (srv->nhosts ? srv->nhosts : 1));
	for (i = 0; i < srv->nhosts; i++) {
		const char *dns = srv->host_parts ? srv->host_parts[i].dns : srv->hosts[i];
		size_t j;

		for (j = 0; j < l->chains.n; j++) {
			struct chain_build *o = l->chains.v[j];
			size_t k;

			for (k = 0; k < o->c.nsni; k++)
				if (strcasecmp(o->c.sni[k], dns) == 0)
					note(p, gwo, "server %s: host %s is already served on this port "
					    "by another server; SNI picks the first", srv->name ? srv->name : "", dns);
		}
		cb->c.sni[cb->c.nsni++] = lower_dup(p->a, dns);
	}
	cb->c.tls = tls_compile(p, gwo, srv);
	ptrvec_push(&l->chains, cb);
	return cb;
}

static struct vh_build *
vhost_get(struct chain_build *cb, struct plan *p, const char *name)
{
	struct vh_build *v;
	size_t i;

	for (i = 0; i < cb->vhosts.n; i++) {
		v = cb->vhosts.v[i];
		if (strcasecmp(v->name, name) == 0)
			return v;
	}
	v = xcalloc(1, sizeof(*v));
	v->name = lower_dup(p->a, name);
	ptrvec_push(&cb->vhosts, v);
	return v;
}

/* ---- VirtualServices ---- */

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

/* Whether a gateways[] entry ("ns/name" or "name" in ref_ns) names the Gateway. */
static int
gw_ref_is(const char *ref, const char *ref_ns, const struct object *gwo)
{
	const char *slash = strchr(ref, '/');

	if (strcmp(ref, "mesh") == 0)
		return 0;
	if (slash)
		return strncmp(ref, gwo->meta.ns, (size_t)(slash - ref)) == 0 &&
		    gwo->meta.ns[slash - ref] == '\0' && strcmp(slash + 1, gwo->meta.name) == 0;
	/* the FQDN form name.ns.svc.cluster.local is accepted by Istio too */
	if (strchr(ref, '.')) {
		size_t ln = strlen(gwo->meta.name), lns = strlen(gwo->meta.ns);

		return strncmp(ref, gwo->meta.name, ln) == 0 && ref[ln] == '.' &&
		    strncmp(ref + ln + 1, gwo->meta.ns, lns) == 0 &&
		    (ref[ln + 1 + lns] == '\0' || ref[ln + 1 + lns] == '.');
	}
	return strcmp(ref_ns, gwo->meta.ns) == 0 && strcmp(ref, gwo->meta.name) == 0;
}

static int
vs_attached(const struct object *vso, const struct object *gwo)
{
	const struct k_virtualservice *vs = OBJ_SPEC(vso, k_virtualservice);
	size_t i;

	for (i = 0; i < vs->ngateways; i++)
		if (gw_ref_is(vs->gateways[i], vso->meta.ns, gwo))
			return 1;
	return 0;
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
		v[i].name = lower ? lower_dup(p->a, in->v[i].name) : arena_strdup(p->a, in->v[i].name);
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
			out->set[i].name = lower_dup(p->a, in->set.k[i]);
			out->set[i].value = arena_strdup(p->a, in->set.v[i]);
		}
		out->nset = in->set.n;
	}
	if (in->add.n) {
		out->add = arena_alloc(p->a, sizeof(*out->add) * in->add.n);
		for (i = 0; i < in->add.n; i++) {
			out->add[i].name = lower_dup(p->a, in->add.k[i]);
			out->add[i].value = arena_strdup(p->a, in->add.v[i]);
		}
		out->nadd = in->add.n;
	}
	if (in->nremove) {
		out->remove = arena_alloc(p->a, sizeof(char *) * in->nremove);
		for (i = 0; i < in->nremove; i++)
			out->remove[i] = lower_dup(p->a, in->remove[i]);
		out->nremove = in->nremove;
	}
}

/* ---- clusters and endpoints ---- */

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
	sort(v, n, sizeof(*v), str_cmp);
	for (i = 0; i < n; i++)
		if (k == 0 || strcmp(v[i], v[k - 1]) != 0)
			v[k++] = v[i];
	c->spiffes = v;
	c->nspiffes = k;
}

/* DestinationRules for a host, best first: gateway namespace, then the service's, then the rest. */
static size_t
find_drs(struct plan *p, const char *fqdn, const char *svc_ns, const struct object **out, size_t max)
{
	struct object * const *l;
	size_t n, i, no = 0;
	int pass;

	l = store_list(p->st, K_DESTINATIONRULE, &n);
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < n && no < max; i++) {
			const struct k_destinationrule *dr = OBJ_SPEC(l[i], k_destinationrule);
			const char *ns = l[i]->meta.ns;
			int in_gw = p->cfg->gateway.ns && strcmp(ns, p->cfg->gateway.ns) == 0;
			int in_svc = svc_ns && strcmp(ns, svc_ns) == 0;
			char *h;

			if (dr->host == NULL)
				continue;
			if ((pass == 0 && !in_gw) || (pass == 1 && (in_gw || !in_svc)) ||
			    (pass == 2 && (in_gw || in_svc)))
				continue;
			if (dr->workload_selector.n &&
			    !sel_strmap_subset(&dr->workload_selector, &p->cfg->gateway.labels))
				continue;
			h = host_fqdn(p->a, dr->host, ns);
			if (host_covers(h, fqdn))
				out[no++] = l[i];
		}
	return no;
}

static void
policy_apply(struct gw_cluster *c, const struct k_dr_lb *lb, const struct k_dr_pool *pool,
    const struct k_dr_outlier *od, struct vg_arena *a)
{
	if (lb) {
		switch (lb->simple) {
		case K_DR_LB_ROUND_ROBIN:
			c->lb = GW_LB_ROUND_ROBIN;
			break;
		case K_DR_LB_RANDOM:
			c->lb = GW_LB_RANDOM;
			break;
		case K_DR_LB_PASSTHROUGH:
			c->lb = GW_LB_PASSTHROUGH;
			break;
		default:
			c->lb = GW_LB_LEAST_REQUEST;
			break;
		}
		if (lb->consistent_hash) {
			const struct k_dr_consistent_hash *h = lb->consistent_hash;

			c->lb = h->algo == K_DR_HASH_MAGLEV ? GW_LB_MAGLEV : GW_LB_RING_HASH;
			c->ring_size = h->algo == K_DR_HASH_MAGLEV ? (h->maglev_table_size ?
			    h->maglev_table_size : 65537) : (h->minimum_ring_size.set ?
			    h->minimum_ring_size.v : 1024);
			switch (h->key) {
			case K_DR_HASH_HEADER:
				c->hash_key = GW_HASH_HEADER;
				c->hash_name = lower_dup(a, h->http_header_name ? h->http_header_name : "");
				break;
			case K_DR_HASH_COOKIE:
				c->hash_key = GW_HASH_COOKIE;
				c->hash_name = arena_strdup(a, h->http_cookie.name ? h->http_cookie.name : "");
				break;
			case K_DR_HASH_QUERY_PARAM:
				c->hash_key = GW_HASH_QUERY;
				c->hash_name = arena_strdup(a, h->http_query_parameter_name ?
				    h->http_query_parameter_name : "");
				break;
			case K_DR_HASH_SOURCE_IP:
				c->hash_key = GW_HASH_SOURCE_IP;
				break;
			default:
				c->hash_key = GW_HASH_NONE;
				break;
			}
		}
	}
	if (pool && pool->tcp) {
		c->max_connections = pool->tcp->max_connections;
		if (pool->tcp->connect_timeout_ms.set)
			c->connect_timeout_ms = pool->tcp->connect_timeout_ms.v;
		if (pool->tcp->idle_timeout_ms.set)
			c->idle_timeout_ms = pool->tcp->idle_timeout_ms.v;
		if (pool->tcp->tcp_keepalive) {
			const struct k_dr_tcp_keepalive *k = pool->tcp->tcp_keepalive;

			/* Envoy's upstream_connection_options.tcp_keepalive (seconds) */
			c->tcp_keepalive = 1;
			c->keepalive_time_s = k->time_ms.set ? (k->time_ms.v + 999) / 1000 : 0;
			c->keepalive_interval_s = k->interval_ms.set ? (k->interval_ms.v + 999) / 1000 : 0;
			c->keepalive_probes = k->probes.set ? k->probes.v : 0;
		}
	}
	if (pool && pool->http) {
		c->max_pending = pool->http->http1_max_pending_requests;
		c->max_requests = pool->http->http2_max_requests;
		c->max_retries = pool->http->max_retries;
		c->max_requests_per_connection = pool->http->max_requests_per_connection;
		if (pool->http->idle_timeout_ms.set)
			c->idle_timeout_ms = pool->http->idle_timeout_ms.v;
	}
	if (od) {
		c->outlier.enabled = 1;
		c->outlier.consecutive_5xx = od->consecutive_5xx_errors.set ?
		    od->consecutive_5xx_errors.v : 5;
		/* Istio: consecutiveErrors (deprecated) then consecutiveGatewayErrors
		 * set consecutive_gateway_failure, enforced when > 0; unset, Envoy
		 * counts to 5 without enforcing */
		c->outlier.consecutive_gateway = 5;
		c->outlier.gateway_enforced = 0;
		if (od->consecutive_errors > 0) {
			c->outlier.consecutive_gateway = od->consecutive_errors;
			c->outlier.gateway_enforced = 1;
		}
		if (od->consecutive_gateway_errors.set) {
			c->outlier.consecutive_gateway = od->consecutive_gateway_errors.v;
			c->outlier.gateway_enforced = od->consecutive_gateway_errors.v > 0;
		}
		/* split mode: consecutiveLocalOriginFailures when > 0, else Envoy's
		 * default of 5; enforcing_consecutive_local_origin_failure is 100 */
		c->outlier.split_local = od->split_external_local_origin_errors;
		c->outlier.consecutive_local = od->consecutive_local_origin_failures.set &&
		    od->consecutive_local_origin_failures.v > 0 ? od->consecutive_local_origin_failures.v : 5;
		c->outlier.interval_ms = od->interval_ms.set ? od->interval_ms.v : 10000;
		c->outlier.base_ejection_ms = od->base_ejection_time_ms.set ?
		    od->base_ejection_time_ms.v : 30000;
		c->outlier.max_ejection_percent = od->max_ejection_percent.set &&
		    od->max_ejection_percent.v > 0 ? od->max_ejection_percent.v : 10;
		c->outlier.min_health_percent = od->min_health_percent;
	}
}

static void
policy_apply_dr(struct gw_cluster *c, const struct k_dr_policy *pol, struct vg_arena *a)
{
	size_t i;

	if (pol == NULL)
		return;
	policy_apply(c, pol->load_balancer, pol->connection_pool, pol->outlier_detection, a);
	for (i = 0; i < pol->nport_level_settings; i++) {
		const struct k_dr_port_policy *pp = &pol->port_level_settings[i];

		if (pp->port == c->port)
			policy_apply(c, pp->load_balancer, pp->connection_pool, pp->outlier_detection, a);
	}
}

/*
 * The ClientTLSSettings a cluster gets, as Istio's MergeTrafficPolicy
 * (pilot/pkg/networking/util) picks it: the rule's tls, replaced by a
 * portLevelSettings entry for the port (even one without tls: port-level
 * policies do not inherit), then by the subset's tls, then by the subset's
 * own port-level entry. NULL: no DestinationRule tls (auto mTLS applies).
 */
static const struct k_dr_tls *
policy_tls(const struct k_dr_policy *pol, int64_t port, const struct k_dr_tls *t)
{
	size_t i;

	if (pol == NULL)
		return t;
	if (pol->tls)
		t = pol->tls;
	for (i = 0; i < pol->nport_level_settings; i++)
		if (pol->port_level_settings[i].port == port)
			return pol->port_level_settings[i].tls;
	return t;
}

/*
 * The upstream TLS of a cluster from its ClientTLSSettings; credentialName
 * is looked up in gateway.namespace (Istio: the gateway's own namespace).
 * A Secret that is missing or lacks what the mode needs leaves the cluster
 * unactivated, as Envoy leaves a cluster whose SDS secret never arrives
 * warming: it is not there for the router, so requests get 503 NC.
 */
static const struct gw_uptls *
uptls_compile(struct plan *p, struct gw_cluster *c, const struct k_dr_tls *t)
{
	struct gw_uptls *u = arena_alloc(p->a, sizeof(*u));
	const char *ns = p->cfg->gateway.ns ? p->cfg->gateway.ns : "istio-system";
	size_t i;

	switch (t->mode) {
	case K_DR_TLS_SIMPLE:
		u->mode = GW_UPTLS_SIMPLE;
		break;
	case K_DR_TLS_MUTUAL:
		u->mode = GW_UPTLS_MUTUAL;
		break;
	case K_DR_TLS_ISTIO_MUTUAL:
		u->mode = GW_UPTLS_ISTIO_MUTUAL;
		break;
	default:
		u->mode = GW_UPTLS_DISABLE;
		return u;
	}
	u->sni = t->sni && *t->sni ? arena_strdup(p->a, t->sni) : NULL;
	u->insecure_skip_verify = t->insecure_skip_verify.set && t->insecure_skip_verify.v;
	if (t->nsubject_alt_names) {
		u->sans = arena_alloc(p->a, sizeof(char *) * t->nsubject_alt_names);
		for (i = 0; i < t->nsubject_alt_names; i++)
			u->sans[i] = arena_strdup(p->a, t->subject_alt_names[i]);
		u->nsans = t->nsubject_alt_names;
	}
	if (u->mode == GW_UPTLS_ISTIO_MUTUAL)
		return u;	/* gateway.identity; files and Secrets are not used */
	if (t->client_certificate)
		u->cert_file = arena_strdup(p->a, t->client_certificate);
	if (t->private_key)
		u->key_file = arena_strdup(p->a, t->private_key);
	if (t->ca_certificates)
		u->ca_file = arena_strdup(p->a, t->ca_certificates);
	if (t->ca_crl)
		u->crl_file = arena_strdup(p->a, t->ca_crl);
	if (t->credential_name && *t->credential_name) {
		const char *cred = t->credential_name, *why;
		const struct object *sec = secret_get(p, ns, cred, &why);

		u->credential = arena_printf(p->a, "%s/%s", ns, cred);
		if (sec == NULL) {
			c->missing = why ? arena_printf(p->a, "DestinationRule tls: %s (the cluster is "
			    "not activated, as Envoy waits for its SDS secret)", why) :
			    arena_printf(p->a, "DestinationRule tls: Secret %s not found "
			    "(the cluster is not activated, as Envoy waits for its SDS secret)", u->credential);
			return u;
		}
		u->ca = secret_pick(p, sec, "ca.crt", "cacert", &u->ca_len);
		u->crl = secret_pick(p, sec, "ca.crl", "crl", &u->crl_len);
		if (u->ca == NULL) {
			const struct object *cs = secret_get(p, ns,
			    arena_printf(p->a, "%s-cacert", cred), &why);

			u->ca = secret_pick(p, cs, "ca.crt", "cacert", &u->ca_len);
			if (u->crl == NULL)
				u->crl = secret_pick(p, cs, "ca.crl", "crl", &u->crl_len);
		}
		if (u->mode == GW_UPTLS_MUTUAL) {
			u->cert = secret_pick(p, sec, "tls.crt", "cert", &u->cert_len);
			u->key = secret_pick(p, sec, "tls.key", "key", &u->key_len);
			if (u->cert == NULL || u->key == NULL) {
				c->missing = arena_printf(p->a, "DestinationRule tls: Secret %s has no "
				    "tls.crt/tls.key (or cert/key) for MUTUAL (the cluster is not activated)",
				    u->credential);
				return u;
			}
		}
		if (u->ca == NULL && u->ca_file == NULL && !u->insecure_skip_verify)
			c->missing = arena_printf(p->a, "DestinationRule tls: Secret %s has no ca.crt "
			    "(nor a Secret %s-cacert) (the cluster is not activated)", u->credential, cred);
		return u;
	}
	if (u->mode == GW_UPTLS_MUTUAL && (u->cert_file == NULL || u->key_file == NULL))
		c->missing = arena_printf(p->a, "DestinationRule tls: MUTUAL needs clientCertificate "
		    "and privateKey, or credentialName (the cluster is not activated)");
	return u;
}

/* What a destination host names: a Service's port, or a ServiceEntry's. */
struct dest_target {
	const char		  *fqdn;
	const struct object	  *so, *seo;	/* the Service, else the ServiceEntry, else neither */
	const struct k_svc_port	  *sp;		/* so's port, when it has the one asked for */
	const struct k_istio_port *sep;		/* seo's */
	int64_t			   port;	/* the destination's, else the lone port's */
};

/* The Service (name.ns.svc.cluster.local) or ServiceEntry a destination names, and its port. */
static void
dest_resolve(struct plan *p, const struct k_vs_destination *dst, const char *vs_ns,
    struct dest_target *t)
{
	struct object * const *l;
	size_t i, j, n;

	memset(t, 0, sizeof(*t));
	t->fqdn = host_fqdn(p->a, dst->host ? dst->host : "", vs_ns);
	t->port = dst->port;
	/* name.ns.svc.cluster.local is a Kubernetes Service */
	if (str_has_suffix(t->fqdn, "." CLUSTER_DOMAIN)) {
		const char *dot = strchr(t->fqdn, '.');
		size_t nslen = strlen(dot + 1) - strlen("." CLUSTER_DOMAIN);
		char *sname = arena_strndup(p->a, t->fqdn, (size_t)(dot - t->fqdn));
		char *sns = arena_strndup(p->a, dot + 1, nslen);

		if (strchr(sns, '.') == NULL)
			t->so = store_get(p->st, K_SERVICE, sns, sname);
	}
	if (t->so) {
		const struct k_service *svc = OBJ_SPEC(t->so, k_service);

		for (i = 0; i < svc->nports; i++)
			if (svc->ports[i].port == t->port || (t->port == 0 && svc->nports == 1))
				t->sp = &svc->ports[i];
		if (t->sp)
			t->port = t->sp->port;
		return;
	}
	l = store_list(p->st, K_SERVICEENTRY, &n);
	for (i = 0; i < n && t->seo == NULL; i++) {
		const struct k_serviceentry *se = OBJ_SPEC(l[i], k_serviceentry);

		for (j = 0; j < se->nhosts; j++)
			if (strcasecmp(se->hosts[j], t->fqdn) == 0)
				t->seo = l[i];
	}
	if (t->seo) {
		const struct k_serviceentry *se = OBJ_SPEC(t->seo, k_serviceentry);

		for (i = 0; i < se->nports; i++)
			if (se->ports[i].number == t->port || (t->port == 0 && se->nports == 1))
				t->sep = &se->ports[i];
		if (t->sep)
			t->port = t->sep->number;
	}
}

/*
 * A cluster's DestinationRule policy (drs: the rules for its host, best
 * first) and its subset's, with the upstream TLS they give. -1 when the
 * cluster cannot be activated (c->missing says why). *subset_labels: the
 * subset's labels, when it has a subset.
 */
static int
cluster_policy(struct plan *p, struct gw_cluster *c, const char *subset,
    const struct object **drs, size_t ndr, const struct strmap **subset_labels)
{
	const struct k_dr_tls *tls = NULL;
	const struct k_dr_subset *sub = NULL;
	size_t i, j;

	if (ndr) {
		policy_apply_dr(c, OBJ_SPEC(drs[0], k_destinationrule)->traffic_policy, p->a);
		tls = policy_tls(OBJ_SPEC(drs[0], k_destinationrule)->traffic_policy, c->port, NULL);
	}
	if (subset) {
		for (i = 0; i < ndr && sub == NULL; i++) {
			const struct k_destinationrule *dr = OBJ_SPEC(drs[i], k_destinationrule);

			for (j = 0; j < dr->nsubsets; j++)
				if (strcmp(dr->subsets[j].name, subset) == 0) {
					sub = &dr->subsets[j];
					break;
				}
		}
		if (sub == NULL) {
			c->missing = arena_printf(p->a, "no subset %s in any DestinationRule for %s",
			    subset, c->host);
			return -1;
		}
		policy_apply_dr(c, sub->traffic_policy, p->a);
		tls = policy_tls(sub->traffic_policy, c->port, tls);
		*subset_labels = &sub->labels;
	}
	if (tls) {
		c->tls = uptls_compile(p, c, tls);
		if (c->missing)
			return -1;
	}
	return 0;
}

/* A cluster's endpoints, sorted, each address once; and the SANs ISTIO_MUTUAL accepts. */
static void
cluster_endpoints(struct plan *p, struct gw_cluster *c, const struct dest_target *t,
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

		sort(eb.v.v, eb.v.n, sizeof(void *), ep_cmp);
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

/*
 * Envoy ejects a host only while 100*(ejected+1)/hosts stays within
 * max_ejection_percent (since envoy PR #27909 even the first one), so
 * too few endpoints for the percentage means no ejection ever: a note on
 * the DestinationRule dr says so.
 */
static void
outlier_note(struct plan *p, const struct gw_cluster *c, const struct object *dr)
{
	if (c->outlier.enabled && c->neps &&
	    (c->outlier.consecutive_5xx > 0 || c->outlier.gateway_enforced || c->outlier.split_local) &&
	    100 > c->outlier.max_ejection_percent * (int64_t)c->neps)
		note(p, dr, "outlierDetection for %s never ejects: %zu endpoint(s) with "
		    "maxEjectionPercent %lld allow no ejection (100*(ejected+1)/%zu must be <= %lld); "
		    "set maxEjectionPercent >= %lld", c->name, c->neps,
		    (long long)c->outlier.max_ejection_percent, c->neps,
		    (long long)c->outlier.max_ejection_percent,
		    (long long)((100 + c->neps - 1) / c->neps));
}

/* The cluster of a destination (outbound|port|subset|host), made on its first use. */
static struct gw_cluster *
cluster_get(struct plan *p, const struct k_vs_destination *dst, const char *vs_ns)
{
	const char *subset = dst->subset && *dst->subset ? dst->subset : NULL;
	const struct object *drs[8];
	const struct strmap *subset_labels = NULL;
	struct dest_target t;
	struct gw_cluster *c;
	size_t i, ndr;
	char *name;

	dest_resolve(p, dst, vs_ns, &t);
	name = arena_printf(p->a, "outbound|%lld|%s|%s", (long long)t.port, subset ? subset : "",
	    t.fqdn);
	for (i = 0; i < p->clusters.n; i++) {
		c = p->clusters.v[i];
		if (strcmp(c->name, name) == 0)
			return c;
	}
	c = arena_alloc(p->a, sizeof(*c));
	c->name = name;
	c->host = t.fqdn;
	c->subset = subset ? arena_strdup(p->a, subset) : NULL;
	c->port = t.port > 0 && t.port < 65536 ? (uint16_t)t.port : 0;
	c->connect_timeout_ms = 10000;
	c->idle_timeout_ms = 3600000;
	ptrvec_push(&p->clusters, c);
	if (t.so) {
		c->svc_ns = arena_strdup(p->a, t.so->meta.ns);
		c->svc_name = arena_strdup(p->a, t.so->meta.name);
	}
	if (t.so == NULL && t.seo == NULL) {
		c->missing = arena_printf(p->a, "no Service or ServiceEntry for host %s", t.fqdn);
		return c;
	}
	if (t.sp == NULL && t.sep == NULL) {
		c->missing = arena_printf(p->a, "%s has no port %lld", t.fqdn, (long long)t.port);
		return c;
	}
	c->istio_sni = arena_printf(p->a, "outbound_.%u_.%s_.%s", c->port, subset ? subset : "",
	    t.fqdn);
	ndr = find_drs(p, t.fqdn, t.so ? t.so->meta.ns : t.seo->meta.ns, drs, VG_ARRAY_SIZE(drs));
	if (cluster_policy(p, c, subset, drs, ndr, &subset_labels) == -1)
		return c;
	cluster_endpoints(p, c, &t, subset_labels);
	if (ndr)
		outlier_note(p, c, drs[0]);
	return c;
}

/* ---- routes ---- */

static int
match_applies(const struct k_vs_http_match *m, const struct object *vso, const struct object *gwo)
{
	size_t i;

	if (m->ngateways == 0)
		return 1;
	for (i = 0; i < m->ngateways; i++)
		if (gw_ref_is(m->gateways[i], vso->meta.ns, gwo))
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

		d->cluster = cluster_get(p, &hd->destination, vso->meta.ns);
		if (d->cluster->missing && !d->cluster->noted) {
			/* istioctl analyze: a destination with no service or subset (503 NC) */
			note(p, vso, "http[%zu]: %s (answers 503 NC)", ri, d->cluster->missing);
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
		r->mirrors[0].cluster = cluster_get(p, h->mirror, vso->meta.ns);
		r->mirrors[0].percent = h->mirror_percentage.set ? h->mirror_percentage.value :
		    h->mirror_percent.set ? (double)h->mirror_percent.v : 100.0;
		r->nmirrors = 1;
	}
	for (i = 0; i < h->nmirrors; i++) {
		struct gw_mirror *m = &r->mirrors[r->nmirrors++];

		m->cluster = cluster_get(p, &h->mirrors[i].destination, vso->meta.ns);
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
		note(p, vso, "http[%zu]: retries.retryOn \"%s\" does not parse: Istio's default "
		    "retryOn is used", ri, h->retries->retry_on);
	if (h->fault) {
		struct gw_fault f;

		if (gw_fault_compile(h->fault, &f)) {
			r->fault = arena_alloc(p->a, sizeof(*r->fault));
			*r->fault = f;
		}
		if (h->fault->abort && h->fault->abort->http_status > 0 &&
		    !h->fault->abort->percentage.set)
			note(p, vso, "http[%zu]: fault.abort has no percentage: it aborts no "
			    "request (Envoy's default 0%%)", ri);
		if (h->fault->abort && h->fault->abort->grpc_status)
			note(p, vso, "http[%zu]: fault.abort.grpcStatus is not applied on HTTP/1.1", ri);
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
	struct gw_route **routes = NULL;
	size_t nroutes = 0, s, i, j, k;
	int attached = 0;

	for (s = 0; s < nsrvs; s++) {
		const struct srv_ref *sr = &srvs[s];

		if (sr->chain == NULL || !vs_attached(vso, sr->gw))
			continue;
		if (gw_done != sr->gw) {
			/* matches may name gateways: compile the rules once per Gateway */
			free(routes);
			routes = xcalloc(vs->nhttp ? vs->nhttp : 1, sizeof(*routes));
			nroutes = 0;
			for (i = 0; i < vs->nhttp; i++) {
				struct gw_route *r = route_compile(p, vso, sr->gw, i);

				if (r)
					routes[nroutes++] = r;
			}
			gw_done = sr->gw;
		}
		for (i = 0; i < vs->nhosts; i++) {
			const char *vh = host_fqdn(p->a, vs->hosts[i], vso->meta.ns);

			for (j = 0; j < sr->srv->nhosts; j++) {
				const struct k_gw_host *gh = &sr->srv->host_parts[j];
				const char *x;
				struct vh_build *v;

				if (!host_ns_ok(gh, sr->gw->meta.ns, vso->meta.ns))
					continue;
				x = host_intersect(vh, gh->dns);
				if (x == NULL)
					continue;
				attached = 1;
				v = vhost_get(sr->chain, p, x);
				if (sr->srv->tls && sr->srv->tls->https_redirect && !server_is_https(sr->srv))
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
		note(p, vso, "no server of its gateways accepts any of its hosts");
}

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

	sort(p->lis.v, p->lis.n, sizeof(void *), lis_cmp);
	g->listeners = arena_alloc(p->a, sizeof(*g->listeners) * (p->lis.n ? p->lis.n : 1));
	g->nlisteners = p->lis.n;
	for (i = 0; i < p->lis.n; i++) {
		struct lis_build *lb = p->lis.v[i];
		struct gw_listener *l = &g->listeners[i];

		l->port = lb->port;
		l->tls = lb->tls;
		l->hash = hash_bytes(HASH_INIT, &l->port, sizeof(l->port));
		l->hash = hash_bytes(l->hash, &l->tls, sizeof(l->tls));
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
			sort(c->vhosts, c->nvhosts, sizeof(*c->vhosts), vh_cmp);
			ptrvec_free(&cb->vhosts);
			free(cb);
		}
		ptrvec_free(&lb->chains);
		free(lb);
	}
	ptrvec_free(&p->lis);

	sort(p->clusters.v, p->clusters.n, sizeof(void *), cl_cmp);
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

/*
 * The HTTP and HTTPS servers of the Gateways gateway.labels selects, each
 * with the filter chain it feeds (NULL when it is ignored). malloc'd.
 */
static struct srv_ref *
servers(struct plan *p, struct object * const *gws, size_t ngws, size_t *np)
{
	struct srv_ref *srvs = NULL;
	size_t nsrvs = 0, cap = 0, i, j;

	for (i = 0; i < ngws; i++) {
		const struct k_gateway *g = OBJ_SPEC(gws[i], k_gateway);

		if (!gw_selected(gws[i], p->cfg))
			continue;
		for (j = 0; j < g->nservers; j++) {
			const struct k_gw_server *s = &g->servers[j];
			struct srv_ref *sr;

			if (!server_is_http(s) && !server_is_https(s)) {
				note(p, gws[i], "server port %lld: protocol %s is not served (HTTP and "
				    "terminated HTTPS only)", (long long)s->port.number,
				    s->port.protocol ? s->port.protocol : "?");
				continue;
			}
			if (s->port.number <= 0 || s->port.number > 65535 || s->host_parts == NULL)
				continue;
			if (nsrvs == cap) {
				cap = cap ? cap * 2 : 8;
				srvs = xreallocarray(srvs, cap, sizeof(*srvs));
			}
			sr = &srvs[nsrvs++];
			sr->gw = gws[i];
			sr->srv = s;
			sr->chain = chain_for_server(p, gws[i], s, j);
		}
	}
	*np = nsrvs;
	return srvs;
}

/*
 * Every VirtualService that names a gateway, oldest first (Istio's order),
 * attached to the servers it names; analyze notes the others.
 */
static void
vs_attach_all(struct plan *p, struct object * const *gws, size_t ngws,
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
			note(p, vss[i], "no gateways (or only mesh): for sidecars, not served by the gateway");
	}
	sort(vsort, nv, sizeof(*vsort), vs_order);
	for (i = 0; i < nv; i++) {
		const struct k_virtualservice *vs = OBJ_SPEC(vsort[i], k_virtualservice);
		int found = 0;

		for (j = 0; j < ngws && !found; j++) {
			size_t k;

			for (k = 0; k < vs->ngateways && !found; k++)
				if (gw_ref_is(vs->gateways[k], vsort[i]->meta.ns, gws[j]))
					found = 1;
		}
		if (!found) {
			note(p, vsort[i], "none of its gateways exists");
			continue;
		}
		vs_attach(p, vsort[i], srvs, nsrvs);
	}
	free(vsort);
}

void
reconcile_gw(struct desired *d, struct store *st, const struct config *cfg,
    const struct live_view *live)
{
	struct plan p = { 0 };
	struct object * const *gws;
	struct srv_ref *srvs;
	size_t ngws, nsrvs;

	(void)live;
	if (!cfg->gateway.enabled)
		return;
	p.d = d;
	p.a = d->arena;
	p.st = st;
	p.cfg = cfg;

	gws = store_list(st, K_GATEWAY, &ngws);
	srvs = servers(&p, gws, ngws, &nsrvs);
	vs_attach_all(&p, gws, ngws, srvs, nsrvs);
	free(srvs);

	d->gw = arena_alloc(p.a, sizeof(*d->gw));
	plan_finish(&p, d->gw);
}
