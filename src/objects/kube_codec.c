/*
 * The pure half of the Kubernetes API source (see source-kube.h):
 * kubeconfig, List responses, watch events. No I/O but reading the files a
 * kubeconfig names.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "vipgate/ipaddr.h"
#include "vipgate/log.h"
#include "vipgate/reconcile-t.h"
#include "vipgate/source-kube.h"
#include "vipgate/ynode.h"

/* Collections as the API server serves them, at the versions to ask for. */
static const struct {
	enum obj_kind	 kind;
	const char	*apiversion;
	const char	*path;
} kube_kinds[] = {
	{ K_SERVICE, "v1", "/api/v1/services" },
	{ K_ENDPOINTS, "v1", "/api/v1/endpoints" },
	{ K_POD, "v1", "/api/v1/pods" },
	{ K_NODE, "v1", "/api/v1/nodes" },
	{ K_SECRET, "v1", "/api/v1/secrets" },
	{ K_NAMESPACE, "v1", "/api/v1/namespaces" },
	{ K_ENDPOINTSLICE, "discovery.k8s.io/v1", "/apis/discovery.k8s.io/v1/endpointslices" },
	{ K_IPADDRESSPOOL, "metallb.io/v1beta1", "/apis/metallb.io/v1beta1/ipaddresspools" },
	{ K_L2ADVERTISEMENT, "metallb.io/v1beta1", "/apis/metallb.io/v1beta1/l2advertisements" },
	{ K_BGPADVERTISEMENT, "metallb.io/v1beta1", "/apis/metallb.io/v1beta1/bgpadvertisements" },
	/* MetalLB stores BGPPeer as v1beta2 */
	{ K_BGPPEER, "metallb.io/v1beta2", "/apis/metallb.io/v1beta2/bgppeers" },
	{ K_BFDPROFILE, "metallb.io/v1beta1", "/apis/metallb.io/v1beta1/bfdprofiles" },
	{ K_COMMUNITY, "metallb.io/v1beta1", "/apis/metallb.io/v1beta1/communities" },
	/* v1beta1: served by every Istio release since 1.5 (v1 only since 1.22) */
	{ K_GATEWAY, "networking.istio.io/v1beta1",
	    "/apis/networking.istio.io/v1beta1/gateways" },
	{ K_VIRTUALSERVICE, "networking.istio.io/v1beta1",
	    "/apis/networking.istio.io/v1beta1/virtualservices" },
	{ K_DESTINATIONRULE, "networking.istio.io/v1beta1",
	    "/apis/networking.istio.io/v1beta1/destinationrules" },
	{ K_SERVICEENTRY, "networking.istio.io/v1beta1",
	    "/apis/networking.istio.io/v1beta1/serviceentries" },
	{ K_WORKLOADENTRY, "networking.istio.io/v1beta1",
	    "/apis/networking.istio.io/v1beta1/workloadentries" },
	{ K_PEERAUTHENTICATION, "security.istio.io/v1beta1",
	    "/apis/security.istio.io/v1beta1/peerauthentications" },
	{ K_AUTHORIZATIONPOLICY, "security.istio.io/v1beta1",
	    "/apis/security.istio.io/v1beta1/authorizationpolicies" },
	{ K_REQUESTAUTHENTICATION, "security.istio.io/v1beta1",
	    "/apis/security.istio.io/v1beta1/requestauthentications" },
};

const char *
kube_kind_path(enum obj_kind k)
{
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(kube_kinds); i++)
		if (kube_kinds[i].kind == k)
			return kube_kinds[i].path;
	return NULL;
}

const char *
kube_kind_apiversion(enum obj_kind k)
{
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(kube_kinds); i++)
		if (kube_kinds[i].kind == k)
			return kube_kinds[i].apiversion;
	return NULL;
}

/* kubeconfig */

void
kube_auth_free(struct kube_auth *a)
{
	free(a->server);
	free(a->ca_file);
	free(a->ca_pem);
	free(a->cert_file);
	free(a->key_file);
	free(a->cert_pem);
	free(a->key_pem);
	free(a->token);
	free(a->token_file);
	memset(a, 0, sizeof(*a));
}

/* The entry of a named list (clusters, users, contexts) called name. */
static const struct ynode *
named_entry(const struct ynode *list, const char *name, const char *field)
{
	size_t i;

	if (list == NULL || list->type != YN_SEQ)
		return NULL;
	for (i = 0; i < list->n; i++) {
		const char *n = yn_getstr(list->vals[i], "name");

		if (n && strcmp(n, name) == 0)
			return yn_get(list->vals[i], field);
	}
	return NULL;
}

static char *
b64_decode(const char *s)
{
	size_t n = strlen(s), i, j = 0, pad = 0;
	char *clean = xmalloc(n + 1), *out;
	int r;

	for (i = 0; i < n; i++)
		if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ')
			clean[j++] = s[i];
	clean[j] = '\0';
	if (j == 0 || j % 4 != 0) {
		free(clean);
		return NULL;
	}
	if (clean[j - 1] == '=')
		pad++;
	if (clean[j - 2] == '=')
		pad++;
	out = xmalloc(j / 4 * 3 + 1);
	r = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)clean, (int)j);
	free(clean);
	if (r < 0 || (size_t)r < pad) {
		free(out);
		return NULL;
	}
	out[r - (int)pad] = '\0';
	return out;
}

static char *
path_in(const char *dir, const char *p)
{
	char *r;

	if (p[0] == '/' || dir == NULL || *dir == '\0')
		return xstrdup(p);
	xasprintf(&r, "%s/%s", dir, p);
	return r;
}

struct kc_arg {
	const char		*file, *dir;
	struct kube_auth	*a;
	struct vg_errs		*errs;
	int			 done, bad;
};

static int
kc_str(struct kc_arg *k, const struct ynode *m, const char *key, char **dst, int is_path,
    int is_b64)
{
	const struct ynode *n = yn_get(m, key);

	if (yn_is_null(n))
		return 0;
	if (n->type != YN_SCALAR) {
		errs_add(k->errs, ERR_ERROR, k->file, n->line, n->col, "%s must be a string", key);
		k->bad = 1;
		return -1;
	}
	if (is_b64) {
		if ((*dst = b64_decode(n->str)) == NULL) {
			errs_add(k->errs, ERR_ERROR, k->file, n->line, n->col,
			    "%s is not valid base64", key);
			k->bad = 1;
			return -1;
		}
	} else
		*dst = is_path ? path_in(k->dir, n->str) : xstrdup(n->str);
	return 1;
}

static void
kc_doc(struct ydoc *doc, void *arg)
{
	struct kc_arg *k = arg;
	const struct ynode *root = doc->root, *cl, *us, *ctx, *ins;
	const char *cur, *cname, *uname;
	struct kube_auth *a = k->a;

	if (k->done || root == NULL) {
		arena_free(doc->arena);
		return;
	}
	k->done = 1;
	if (root->type != YN_MAP) {
		errs_add(k->errs, ERR_ERROR, k->file, root->line, root->col,
		    "a kubeconfig must be a map");
		k->bad = 1;
		goto out;
	}
	cur = yn_getstr(root, "current-context");
	if (cur == NULL || *cur == '\0') {
		errs_add(k->errs, ERR_ERROR, k->file, root->line, root->col,
		    "no current-context");
		k->bad = 1;
		goto out;
	}
	ctx = named_entry(yn_get(root, "contexts"), cur, "context");
	if (ctx == NULL) {
		errs_add(k->errs, ERR_ERROR, k->file, root->line, root->col,
		    "current-context %s is not among contexts", cur);
		k->bad = 1;
		goto out;
	}
	cname = yn_getstr(ctx, "cluster");
	uname = yn_getstr(ctx, "user");
	cl = cname ? named_entry(yn_get(root, "clusters"), cname, "cluster") : NULL;
	if (cl == NULL || cl->type != YN_MAP) {
		errs_add(k->errs, ERR_ERROR, k->file, ctx->line, ctx->col,
		    "context %s: cluster %s is not among clusters", cur, cname ? cname : "(none)");
		k->bad = 1;
		goto out;
	}
	if (kc_str(k, cl, "server", &a->server, 0, 0) <= 0) {
		if (!k->bad)
			errs_add(k->errs, ERR_ERROR, k->file, cl->line, cl->col,
			    "cluster %s: no server", cname);
		k->bad = 1;
		goto out;
	}
	if (strncmp(a->server, "https://", 8) != 0 && strncmp(a->server, "http://", 7) != 0) {
		errs_add(k->errs, ERR_ERROR, k->file, cl->line, cl->col,
		    "cluster %s: server %s is not an http(s) URL", cname, a->server);
		k->bad = 1;
		goto out;
	}
	while (str_has_suffix(a->server, "/"))
		a->server[strlen(a->server) - 1] = '\0';
	(void)kc_str(k, cl, "certificate-authority", &a->ca_file, 1, 0);
	(void)kc_str(k, cl, "certificate-authority-data", &a->ca_pem, 0, 1);
	ins = yn_get(cl, "insecure-skip-tls-verify");
	if (!yn_is_null(ins) && ins->type == YN_SCALAR && strcmp(ins->str, "true") == 0)
		a->insecure = 1;
	us = uname ? named_entry(yn_get(root, "users"), uname, "user") : NULL;
	if (uname && us == NULL) {
		errs_add(k->errs, ERR_ERROR, k->file, ctx->line, ctx->col,
		    "context %s: user %s is not among users", cur, uname);
		k->bad = 1;
		goto out;
	}
	if (us) {
		(void)kc_str(k, us, "client-certificate", &a->cert_file, 1, 0);
		(void)kc_str(k, us, "client-key", &a->key_file, 1, 0);
		(void)kc_str(k, us, "client-certificate-data", &a->cert_pem, 0, 1);
		(void)kc_str(k, us, "client-key-data", &a->key_pem, 0, 1);
		(void)kc_str(k, us, "token", &a->token, 0, 0);
		(void)kc_str(k, us, "tokenFile", &a->token_file, 1, 0);
		if (yn_get(us, "exec") || yn_get(us, "auth-provider")) {
			errs_add(k->errs, ERR_ERROR, k->file, us->line, us->col,
			    "user %s: exec and auth-provider credentials are not supported; "
			    "use a token, a tokenFile or a client certificate", uname);
			k->bad = 1;
		}
		if ((a->cert_file || a->cert_pem) != (a->key_file || a->key_pem)) {
			errs_add(k->errs, ERR_ERROR, k->file, us->line, us->col,
			    "user %s: a client certificate needs its key, and a key its certificate",
			    uname);
			k->bad = 1;
		}
	}
out:
	arena_free(doc->arena);
}

int
kube_config_parse(const char *buf, size_t len, const char *file, const char *dir,
    struct kube_auth *a, struct vg_errs *errs)
{
	struct kc_arg k;

	memset(a, 0, sizeof(*a));
	k = (struct kc_arg){ file, dir, a, errs, 0, 0 };
	if (yn_parse(buf, len, file, kc_doc, &k, errs) == -1)
		k.bad = 1;
	else if (!k.done) {
		errs_add(errs, ERR_ERROR, file, 0, 0, "empty kubeconfig");
		k.bad = 1;
	}
	if (k.bad) {
		kube_auth_free(a);
		return -1;
	}
	return 0;
}

int
kube_incluster(const char *sa_dir, const char *host, const char *port,
    struct kube_auth *a, struct vg_errs *errs)
{
	memset(a, 0, sizeof(*a));
	if (host == NULL || *host == '\0' || port == NULL || *port == '\0') {
		errs_add(errs, ERR_ERROR, "kubernetes", 0, 0, "in_cluster: "
		    "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
		return -1;
	}
	/* an IPv6 service address needs brackets in a URL */
	if (strchr(host, ':'))
		xasprintf(&a->server, "https://[%s]:%s", host, port);
	else
		xasprintf(&a->server, "https://%s:%s", host, port);
	xasprintf(&a->ca_file, "%s/ca.crt", sa_dir);
	xasprintf(&a->token_file, "%s/token", sa_dir);
	return 0;
}

int
kube_auth_load(const struct cfg_kubernetes *kc, struct kube_auth *a, struct vg_errs *errs)
{
	size_t len;
	char *buf, *dir, *slash;
	int r;

	if (kc->in_cluster) {
		/* VIPGATE_TEST_SA_DIR: for tests only */
		const char *sa = getenv("VIPGATE_TEST_SA_DIR");

		return kube_incluster(sa ? sa : KUBE_SA_DIR, getenv("KUBERNETES_SERVICE_HOST"),
		    getenv("KUBERNETES_SERVICE_PORT"), a, errs);
	}
	memset(a, 0, sizeof(*a));
	if ((buf = read_file(kc->kubeconfig, &len)) == NULL) {
		errs_add(errs, ERR_ERROR, kc->kubeconfig, 0, 0, "%s", strerror(errno));
		return -1;
	}
	dir = xstrdup(kc->kubeconfig);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	r = kube_config_parse(buf, len, kc->kubeconfig, slash ? dir : ".", a, errs);
	free(dir);
	free(buf);
	return r;
}

/* watch streams and List responses */

ssize_t
kube_line_next(const char *buf, size_t len, size_t *used)
{
	const char *nl = memchr(buf, '\n', len);
	size_t n;

	if (nl == NULL)
		return -1;
	n = (size_t)(nl - buf);
	*used = n + 1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	return (ssize_t)n;
}

/* A scalar node in arena a. */
static struct ynode *
yn_scalar(struct vg_arena *a, const char *s, int line, int col)
{
	struct ynode *n = arena_alloc(a, sizeof(*n));

	n->type = YN_SCALAR;
	n->str = arena_strdup(a, s);
	n->len = strlen(s);
	n->line = line;
	n->col = col;
	n->weight = 1;
	return n;
}

/*
 * A copy of map m without the entry named skip (a shallow one: the values
 * are m's).
 */
static struct ynode *
map_without(struct vg_arena *a, const struct ynode *m, const char *const *skip)
{
	struct ynode *n = arena_alloc(a, sizeof(*n));
	size_t i, j = 0, k;

	*n = *m;
	n->keys = arena_alloc(a, (m->n ? m->n : 1) * sizeof(*n->keys));
	n->vals = arena_alloc(a, (m->n ? m->n : 1) * sizeof(*n->vals));
	for (i = 0; i < m->n; i++) {
		const char *key = m->keys[i]->str;

		for (k = 0; key && skip[k]; k++)
			if (strcmp(key, skip[k]) == 0)
				break;
		if (key && skip[k])
			continue;
		n->keys[j] = m->keys[i];
		n->vals[j++] = m->vals[i];
	}
	n->n = j;
	return n;
}

/*
 * ObjectMeta fields the API server changes on every write, which nothing
 * here reads: without them, an object's content hash (manifest.c) changes
 * only with what is decoded, and a MODIFIED event that carries a new
 * resourceVersion alone (a status write, ours or another controller's) is
 * no change to the store. They are also the bulk of a Service's bytes
 * (managedFields).
 */
static const char *const meta_unread[] = {
	"resourceVersion", "managedFields", "generation", "selfLink", NULL
};

/*
 * A copy of map m with apiVersion and kind for k (List items lack them; a
 * watch event's object has them, and they are set to what was asked), and
 * its metadata without meta_unread.
 */
static struct ynode *
with_type(struct vg_arena *a, const struct ynode *m, enum obj_kind k)
{
	struct ynode *n = arena_alloc(a, sizeof(*n));
	size_t i, j = 0;

	*n = *m;
	n->keys = arena_alloc(a, (m->n + 2) * sizeof(*n->keys));
	n->vals = arena_alloc(a, (m->n + 2) * sizeof(*n->vals));
	n->keys[j] = yn_scalar(a, "apiVersion", m->line, m->col);
	n->vals[j++] = yn_scalar(a, kube_kind_apiversion(k), m->line, m->col);
	n->keys[j] = yn_scalar(a, "kind", m->line, m->col);
	n->vals[j++] = yn_scalar(a, kind_name(k), m->line, m->col);
	for (i = 0; i < m->n; i++) {
		const char *key = m->keys[i]->str;

		if (key && (strcmp(key, "apiVersion") == 0 || strcmp(key, "kind") == 0))
			continue;
		n->keys[j] = m->keys[i];
		n->vals[j] = m->vals[i];
		if (key && strcmp(key, "metadata") == 0 && m->vals[i]->type == YN_MAP)
			n->vals[j] = map_without(a, m->vals[i], meta_unread);
		j++;
	}
	n->n = j;
	n->weight = m->weight + 4;
	return n;
}

uint64_t
kube_svc_ingress_hash(const struct object *o)
{
	const struct k_service *k = OBJ_SPEC(o, k_service);
	uint64_t h = hash_bytes(HASH_INIT, "ingress", 8);
	size_t i;

	for (i = 0; i < k->nstatus_ingress_ips; i++)
		h = hash_bytes(h, k->status_ingress_ips[i], strlen(k->status_ingress_ips[i]) + 1);
	return h;
}

/*
 * A Service's content hash covers what its decoder reads of the status,
 * status.loadBalancer.ingress[].ip, and nothing else of it (its conditions,
 * an ingress's ipMode or ports), so that the rest of the object hashes
 * alone: kube_svc_status_echo.
 */
static void
svc_hash(struct vg_arena *a, const struct ynode *root, struct object *o)
{
	static const char *const status[] = { "status", NULL };

	o->hash = yn_hash(map_without(a, root, status), hash_str(HASH_INIT, o->meta.ns)) ^
	    kube_svc_ingress_hash(o);
}

int
kube_svc_status_echo(const struct object *cur, const struct object *o,
    const struct svc_state *s)
{
	const struct k_service *k;
	char b[IPADDR_STRLEN];
	size_t i, n;

	if (cur == NULL || cur->kind != K_SERVICE || o->kind != K_SERVICE ||
	    !cur->from_api || !o->from_api)
		return 0;
	/* the same but for the status */
	if ((cur->hash ^ kube_svc_ingress_hash(cur)) != (o->hash ^ kube_svc_ingress_hash(o)))
		return 0;
	/* which says what the last reconcile gives the Service (none when
	 * it has none: a status cleared), as kube_status.c writes it */
	k = OBJ_SPEC(o, k_service);
	n = s != NULL && s->pending == NULL ? s->nvips : 0;
	if (k->nstatus_ingress_ips != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!str_eq(k->status_ingress_ips[i], ipaddr_fmt(&s->vips[i], b)))
			return 0;
	return 1;
}

static void
mark_api(struct decoded_list *l, size_t from)
{
	size_t i;

	for (i = from; i < l->n; i++)
		if (l->v[i].obj)
			l->v[i].obj->from_api = 1;
}

/* Decode one item (a map) of kind into out. */
static void
decode_item(struct vg_arena *a, const struct ynode *item, enum obj_kind k,
    const char *origin, struct decoded_list *out, struct vg_errs *errs)
{
	struct ydoc d;
	size_t from = out->n;

	memset(&d, 0, sizeof(d));
	d.arena = a;
	d.root = with_type(a, item, k);
	d.file = origin;
	manifest_decode_doc(&d, "default", errs, out);
	mark_api(out, from);
	if (k == K_SERVICE && out->n > from && out->v[from].obj != NULL)
		svc_hash(a, d.root, out->v[from].obj);
}

struct list_arg {
	enum obj_kind		 kind;
	const char		*origin;
	struct decoded_list	*out;
	char			**rv, **cont;
	struct vg_errs		*errs;
	int			 ok, seen;
};

static void
list_doc(struct ydoc *doc, void *arg)
{
	struct list_arg *l = arg;
	const struct ynode *root = doc->root, *items;
	const char *kind, *rv;
	size_t i;

	if (l->seen++ || root == NULL)
		goto out;
	kind = yn_getstr(root, "kind");
	if (root->type != YN_MAP || kind == NULL || !str_has_suffix(kind, "List")) {
		errs_add(l->errs, ERR_ERROR, l->origin, root->line, root->col,
		    "the answer is not a %sList", kind_name(l->kind));
		goto out;
	}
	rv = yn_getstr(yn_get(root, "metadata"), "resourceVersion");
	*l->rv = rv && *rv ? xstrdup(rv) : NULL;
	rv = yn_getstr(yn_get(root, "metadata"), "continue");
	*l->cont = rv && *rv ? xstrdup(rv) : NULL;
	items = yn_get(root, "items");
	l->ok = 1;
	if (yn_is_null(items))
		goto out;
	if (items->type != YN_SEQ) {
		errs_add(l->errs, ERR_ERROR, l->origin, items->line, items->col,
		    "%sList: items must be a list", kind_name(l->kind));
		l->ok = 0;
		goto out;
	}
	for (i = 0; i < items->n; i++) {
		const struct ynode *it = items->vals[i];

		if (it->type != YN_MAP) {
			errs_add(l->errs, ERR_ERROR, l->origin, it->line, it->col,
			    "%sList: an item must be a map", kind_name(l->kind));
			continue;
		}
		decode_item(doc->arena, it, l->kind, l->origin, l->out, l->errs);
	}
out:
	arena_free(doc->arena);
}

int
kube_list_decode(const char *buf, size_t len, enum obj_kind k, const char *origin,
    struct decoded_list *out, char **rv, char **cont, struct vg_errs *errs)
{
	struct list_arg l = { k, origin, out, rv, cont, errs, 0, 0 };

	*rv = NULL;
	*cont = NULL;
	if (kube_kind_path(k) == NULL) {
		errs_add(errs, ERR_ERROR, origin, 0, 0, "%s is not read from the API",
		    kind_name(k));
		return -1;
	}
	if (yn_parse(buf, len, origin, list_doc, &l, errs) == -1 || !l.ok) {
		if (!l.seen)
			errs_add(errs, ERR_ERROR, origin, 0, 0, "empty answer");
		free(*rv);
		free(*cont);
		*rv = *cont = NULL;
		return -1;
	}
	return 0;
}

void
kube_event_free(struct kube_event *ev)
{
	free(ev->rv);
	free(ev->ns);
	free(ev->name);
	free(ev->message);
	decoded_list_free(&ev->objs);
	memset(ev, 0, sizeof(*ev));
}

struct ev_arg {
	enum obj_kind		 kind;
	const char		*origin;
	struct kube_event	*ev;
	struct vg_errs		*errs;
	int			 ok, seen;
};

static const char *const ev_types[] = {
	[KEV_ADDED] = "ADDED", [KEV_MODIFIED] = "MODIFIED", [KEV_DELETED] = "DELETED",
	[KEV_BOOKMARK] = "BOOKMARK", [KEV_ERROR] = "ERROR",
};

static void
event_doc(struct ydoc *doc, void *arg)
{
	struct ev_arg *e = arg;
	struct kube_event *ev = e->ev;
	const struct ynode *root = doc->root, *obj, *md;
	const char *type, *s;
	size_t i;

	if (e->seen++ || root == NULL)
		goto out;
	if (root->type != YN_MAP || (type = yn_getstr(root, "type")) == NULL) {
		errs_add(e->errs, ERR_ERROR, e->origin, root->line, root->col,
		    "a watch event needs a type");
		goto out;
	}
	for (i = 0; i < VG_ARRAY_SIZE(ev_types); i++)
		if (strcmp(type, ev_types[i]) == 0)
			break;
	if (i == VG_ARRAY_SIZE(ev_types)) {
		errs_add(e->errs, ERR_ERROR, e->origin, root->line, root->col,
		    "unknown watch event type %.40s", type);
		goto out;
	}
	ev->type = (enum kube_ev_type)i;
	obj = yn_get(root, "object");
	if (obj == NULL || obj->type != YN_MAP) {
		errs_add(e->errs, ERR_ERROR, e->origin, root->line, root->col,
		    "%s event without an object", type);
		goto out;
	}
	if (ev->type == KEV_ERROR) {
		/* a metav1.Status: 410 Gone when the resourceVersion is too old */
		s = yn_getstr(obj, "code");
		ev->code = s ? atoi(s) : 0;
		s = yn_getstr(obj, "message");
		ev->message = xstrdup(s ? s : "");
		e->ok = 1;
		goto out;
	}
	md = yn_get(obj, "metadata");
	s = yn_getstr(md, "resourceVersion");
	ev->rv = s ? xstrdup(s) : NULL;
	if (ev->type == KEV_BOOKMARK) {
		e->ok = 1;
		goto out;
	}
	s = yn_getstr(md, "name");
	if (s == NULL) {
		errs_add(e->errs, ERR_ERROR, e->origin, obj->line, obj->col,
		    "%s %s event: the object has no metadata.name", kind_name(e->kind), type);
		goto out;
	}
	ev->name = xstrdup(s);
	s = kind_info(e->kind)->namespaced ? yn_getstr(md, "namespace") : "";
	ev->ns = xstrdup(s ? s : "default");
	if (ev->type != KEV_DELETED)
		decode_item(doc->arena, obj, e->kind, e->origin, &ev->objs, e->errs);
	e->ok = 1;
out:
	arena_free(doc->arena);
}

int
kube_event_decode(const char *buf, size_t len, enum obj_kind k, const char *origin,
    struct kube_event *ev, struct vg_errs *errs)
{
	struct ev_arg e;

	memset(ev, 0, sizeof(*ev));
	e = (struct ev_arg){ k, origin, ev, errs, 0, 0 };
	if (kube_kind_path(k) == NULL) {
		errs_add(errs, ERR_ERROR, origin, 0, 0, "%s is not read from the API",
		    kind_name(k));
		return -1;
	}
	if (yn_parse(buf, len, origin, event_doc, &e, errs) == -1 || !e.ok) {
		if (!e.seen)
			errs_add(errs, ERR_ERROR, origin, 0, 0, "empty watch event");
		kube_event_free(ev);
		return -1;
	}
	return 0;
}

int64_t
kube_backoff_ms(int failures, uint32_t rnd)
{
	int64_t d = KUBE_BACKOFF_MIN_MS;

	while (failures-- > 1 && d < KUBE_BACKOFF_MAX_MS)
		d *= 2;
	if (d > KUBE_BACKOFF_MAX_MS)
		d = KUBE_BACKOFF_MAX_MS;
	return d / 2 + (int64_t)(rnd % (uint32_t)(d / 2 + 1));
}

int
kube_failure_loud(int failures)
{
	return failures > 0 && (failures & (failures - 1)) == 0;
}

char *
kube_status_message(const char *body, size_t len)
{
	json_t *j;
	const char *kind, *msg;
	char *out = NULL;
	size_t i, n;

	if (body == NULL || len == 0)
		return NULL;
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (j == NULL)
		return NULL;
	kind = json_string_value(json_object_get(j, "kind"));
	msg = json_string_value(json_object_get(j, "message"));
	if (kind && strcmp(kind, "Status") == 0 && msg && *msg) {
		n = strlen(msg);
		if (n > 300)
			n = 300;
		out = xmalloc(n + 1);
		for (i = 0; i < n; i++)
			out[i] = (msg[i] >= 0x20 && msg[i] < 0x7f) ? msg[i] : '?';
		out[n] = '\0';
	}
	json_decref(j);
	return out;
}

char *
kube_status_body(const char *const *ips, size_t n)
{
	struct vg_buf b = { 0 };
	size_t i;

	/* a JSON merge patch (RFC 7386): null removes the ingress list */
	if (n == 0)
		return xstrdup("{\"status\":{\"loadBalancer\":{\"ingress\":null}}}");
	buf_puts(&b, "{\"status\":{\"loadBalancer\":{\"ingress\":[");
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s{\"ip\":\"%s\"}", i ? "," : "", ips[i]);
	buf_puts(&b, "]}}}");
	return b.s;
}
