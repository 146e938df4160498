/*
 * Gateways to listeners: the servers of the Gateways each deployment's
 * labels select (gateway.deployments), one listener a port, deployment
 * and bind address, its filter chains (one for plain HTTP, one
 * an HTTPS server, by SNI) with their TLS, and the virtual hosts in them
 * (pilot/pkg/networking/core/gateway.go).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vipgate/log.h"
#include "vipgate/reconcile.h"

#include "gw-plan.h"
#include "select.h"

/* Whether the deployment being planned serves the Gateway: its selector matches the labels. */
static int
gw_selected(const struct plan *p, const struct object *o)
{
	const struct k_gateway *g = OBJ_SPEC(o, k_gateway);

	return sel_strmap_subset(&g->selector, p->labels);
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

/* A TCP or TLS server (gw_plan_l4.c plans it), and its kind; why: a note when it is not served. */
int
gwp_server_is_l4(const struct k_gw_server *s, enum gw_l4_kind *kind, const char **why)
{
	*why = NULL;
	switch (s->port.proto) {
	case K_PROTO_TCP:
	case K_PROTO_MONGO:
	case K_PROTO_REDIS:
	case K_PROTO_MYSQL:
		/* Istio serves these as opaque TCP at a gateway */
		*kind = GW_L4_TCP;
		return 1;
	case K_PROTO_TLS:
	case K_PROTO_HTTPS:
		if (s->tls == NULL)
			return 0;
		switch (s->tls->mode) {
		case K_GW_TLS_PASSTHROUGH:
		case K_GW_TLS_AUTO_PASSTHROUGH:		/* gw_plan_l4.c: clusters by SNI */
			*kind = GW_L4_PASSTHROUGH;
			return 1;
		case K_GW_TLS_SIMPLE:
		case K_GW_TLS_MUTUAL:
		case K_GW_TLS_OPTIONAL_MUTUAL:
			if (s->port.proto != K_PROTO_TLS)
				return 0;	/* HTTPS: terminated, then HTTP (gw_plan_listen.c) */
			*kind = GW_L4_TERMINATE;
			return 1;
		default:
			if (s->port.proto == K_PROTO_TLS)
				*why = "a TLS server in ISTIO_MUTUAL mode is not served";
			return 0;
		}
	default:
		return 0;
	}
}

int
gwp_server_is_https(const struct k_gw_server *s)
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

/*
 * One listener a port, deployment and bind address: Envoy's listener is
 * its address and port, so servers of one deployment with the same bind
 * share it, and each deployment has its own on its own VIPs.
 */
struct lis_build *
gwp_listener_get(struct plan *p, const struct k_gw_server *srv, int tls)
{
	uint16_t port = (uint16_t)srv->port.number;
	const char *bind = srv->bind;
	struct lis_build *l;
	size_t i;

	for (i = 0; i < p->lis.n; i++) {
		l = p->lis.v[i];
		if (l->port == port && l->dep == p->dep &&
		    (l->bind == NULL ? bind == NULL : bind != NULL && strcmp(l->bind, bind) == 0))
			return l;
	}
	l = xcalloc(1, sizeof(*l));
	l->port = port;
	l->tls = tls;
	l->dep = p->dep;
	l->bind = bind;
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

/* "a; b" in the arena: one more reason beside others. */
static const char *
also(struct plan *p, const char *a, const char *b)
{
	if (b == NULL)
		return a;
	return a ? arena_printf(p->a, "%s; %s", a, b) : b;
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
		gwp_note(p, gwo, "server %s: tls without credentialName (file paths are not served)",
		    srv->name ? srv->name : "");
		return g;
	}
	g->credential = arena_printf(p->a, "%s/%s", ns, cred);
	sec = gwp_secret_get(p, ns, cred, &why);
	if (sec == NULL) {
		/* never good: not served, as a Secret not found (Envoy does not
		 * serve a filter chain whose secret is not ready) */
		g->error = why ? why : arena_printf(p->a, "Secret %s/%s not found", ns, cred);
		gwp_note(p, gwo, "%s", g->error);
		return g;
	}
	g->rejected = why;
	g->not_before = OBJ_SPEC(sec, k_secret)->not_before;
	g->not_after = OBJ_SPEC(sec, k_secret)->not_after;
	g->cert = gwp_secret_pick(p, sec, "tls.crt", "cert", &g->cert_len);
	g->key = gwp_secret_pick(p, sec, "tls.key", "key", &g->key_len);
	if (g->cert == NULL || g->key == NULL) {
		g->error = arena_printf(p->a, "Secret %s/%s has no tls.crt/tls.key (or cert/key)", ns, cred);
		gwp_note(p, gwo, "%s", g->error);
		return g;
	}
	/* credentialNames: a second pair (Istio: RSA and ECDSA), served side by side */
	if (t->ncredential_names > 1 && cred == t->credential_names[0]) {
		const struct object *s2 = gwp_secret_get(p, ns, t->credential_names[1], &why);

		g->rejected = also(p, g->rejected, why);
		g->cert2 = gwp_secret_pick(p, s2, "tls.crt", "cert", &g->cert2_len);
		g->key2 = gwp_secret_pick(p, s2, "tls.key", "key", &g->key2_len);
		if (g->cert2 == NULL || g->key2 == NULL) {
			g->cert2 = g->key2 = NULL;
			gwp_note(p, gwo, "Secret %s/%s (second credentialNames entry) missing or incomplete%s%s",
			    ns, t->credential_names[1], s2 == NULL && why ? ": " : "",
			    s2 == NULL && why ? why : "");
		}
	}
	if (g->mode != GW_TLS_SIMPLE) {
		const char *caname = t->ca_cert_credential_name;

		g->ca = gwp_secret_pick(p, sec, "ca.crt", "cacert", &g->ca_len);
		if (g->ca == NULL) {
			const struct object *cs = gwp_secret_get(p, ns,
			    caname ? caname : arena_printf(p->a, "%s-cacert", cred), &why);

			g->ca = gwp_secret_pick(p, cs, "ca.crt", "cacert", &g->ca_len);
			if (cs != NULL)
				g->rejected = also(p, g->rejected, why);
			else if (why != NULL && g->ca == NULL)
				cawhy = why;
		}
		if (g->ca == NULL) {
			g->error = arena_printf(p->a, "Secret %s/%s: MUTUAL needs ca.crt (or %s-cacert)%s%s",
			    ns, cred, cred, cawhy ? ": " : "", cawhy ? cawhy : "");
			gwp_note(p, gwo, "%s", g->error);
		}
	}
	return g;
}

static struct chain_build *
chain_for_server(struct plan *p, const struct object *gwo, const struct k_gw_server *srv, size_t idx)
{
	uint16_t port = (uint16_t)srv->port.number;
	int https = gwp_server_is_https(srv);
	struct lis_build *l = gwp_listener_get(p, srv, https);
	struct chain_build *cb;

	if (l->l4) {
		gwp_note(p, gwo, "server %s: port %u has TCP or TLS passthrough servers; ignored",
		    srv->name ? srv->name : "", port);
		return NULL;
	}
	if (l->tls != https) {
		gwp_note(p, gwo, "server %s: port %u mixes plain text and TLS servers; ignored",
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
		cb = l->chains.v[0];
		if (srv->port.proto == K_PROTO_GRPC_WEB)
			cb->c.grpc_web = 1;	/* istiod adds grpc_web to the port's HCM */
		return cb;
	}
	return gwp_tls_chain(p, gwo, srv, idx, l, "https");
}

struct chain_build *
gwp_tls_chain(struct plan *p, const struct object *gwo, const struct k_gw_server *srv,
    size_t idx, struct lis_build *l, const char *prefix)
{
	uint16_t port = (uint16_t)srv->port.number;
	struct chain_build *cb;
	size_t i;

	cb = xcalloc(1, sizeof(*cb));
	cb->gw = gwo;
	cb->srv = srv;
	cb->c.name = arena_printf(p->a, "%s.%u.%s.%s.%s", prefix, port,
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
					gwp_note(p, gwo, "server %s: host %s is already served on this port "
					    "by another server; SNI picks the first", srv->name ? srv->name : "", dns);
		}
		cb->c.sni[cb->c.nsni++] = gwp_lower_dup(p->a, dns);
	}
	cb->c.tls = tls_compile(p, gwo, srv);
	cb->c.grpc_web = srv->port.proto == K_PROTO_GRPC_WEB;
	ptrvec_push(&l->chains, cb);
	return cb;
}

struct vh_build *
gwp_vhost_get(struct chain_build *cb, struct plan *p, const char *name)
{
	struct vh_build *v;
	size_t i;

	for (i = 0; i < cb->vhosts.n; i++) {
		v = cb->vhosts.v[i];
		if (strcasecmp(v->name, name) == 0)
			return v;
	}
	v = xcalloc(1, sizeof(*v));
	v->name = gwp_lower_dup(p->a, name);
	ptrvec_push(&cb->vhosts, v);
	return v;
}

/* The servers of one Gateway the deployment p->dep serves, appended to *srvs. */
static void
gw_servers(struct plan *p, const struct object *gwo, struct srv_ref **srvs, size_t *nsrvs,
    size_t *cap)
{
	const struct k_gateway *g = OBJ_SPEC(gwo, k_gateway);
	size_t j;

	for (j = 0; j < g->nservers; j++) {
		const struct k_gw_server *s = &g->servers[j];
		struct srv_ref *sr;
		enum gw_l4_kind kind;
		const char *why = NULL;
		int l4 = 0;

		if (s->bind && strncmp(s->bind, "unix://", 7) == 0) {
			gwp_note(p, gwo, "server port %lld: bind %s: a unix socket is not "
			    "served (an IP address is)", (long long)s->port.number, s->bind);
			continue;
		}
		if (!server_is_http(s) && !gwp_server_is_https(s)) {
			if (!gwp_server_is_l4(s, &kind, &why)) {
				if (why)
					gwp_note(p, gwo, "server port %lld: %s", (long long)s->port.number, why);
				else
					gwp_note(p, gwo, "server port %lld: protocol %s is not served (HTTP, "
					    "terminated HTTPS, TCP and TLS PASSTHROUGH only)",
					    (long long)s->port.number, s->port.protocol ? s->port.protocol : "?");
				continue;
			}
			l4 = 1;		/* planned by gw_plan.c (gwp_l4_server), in this order */
		} else if (s->port.number <= 0 || s->port.number > 65535 || s->host_parts == NULL)
			continue;
		if (*nsrvs == *cap) {
			*cap = *cap ? *cap * 2 : 8;
			*srvs = xreallocarray(*srvs, *cap, sizeof(**srvs));
		}
		sr = &(*srvs)[(*nsrvs)++];
		memset(sr, 0, sizeof(*sr));
		sr->dep = p->dep;
		sr->gw = gwo;
		sr->srv = s;
		sr->idx = j;
		if (l4) {
			sr->l4 = 1;
			sr->l4kind = kind;
		} else
			sr->chain = chain_for_server(p, gwo, s, j);
	}
}

/*
 * The servers of the Gateways each deployment's labels select, deployment
 * by deployment: HTTP and HTTPS ones with the filter chain they feed (NULL
 * when ignored), TCP and TLS ones marked l4. malloc'd.
 */
struct srv_ref *
gwp_servers(struct plan *p, struct object * const *gws, size_t ngws, size_t *np)
{
	struct srv_ref *srvs = NULL;
	size_t nsrvs = 0, cap = 0, i, dep;

	for (dep = 0; dep < p->cfg->gateway.ndeployments; dep++) {
		gwp_dep_set(p, dep);
		for (i = 0; i < ngws; i++)
			if (gw_selected(p, gws[i]))
				gw_servers(p, gws[i], &srvs, &nsrvs, &cap);
	}
	*np = nsrvs;
	return srvs;
}
