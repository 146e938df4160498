/*
 * Manifests to objects: apiVersion and kind pick the schema, metadata is
 * common, a v1 List holds several objects. A bad object is rejected alone,
 * but for the kinds that fail closed (kind_info.fail_closed): those are
 * kept, marked broken.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "vipgate/log.h"

__thread const struct object *kinds_current;
static __thread size_t size_hint[K__COUNT];

/* accepted apiVersions: group/version, "v1" for the core group */
static const char *const v1[] = { "v1", NULL };
static const char *const discovery_v1[] = { "discovery.k8s.io/v1", NULL };
static const char *const apps_v1[] = { "apps/v1", NULL };
static const char *const metallb_v1b1[] = { "metallb.io/v1beta1", NULL };
static const char *const metallb_v1b12[] = { "metallb.io/v1beta1", "metallb.io/v1beta2", NULL };
static const char *const istio_net[] = { "networking.istio.io/v1",
    "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3", NULL };
static const char *const istio_sec[] = { "security.istio.io/v1", "security.istio.io/v1beta1",
    NULL };

#define KIND(k, n, g, v, ns, s, st) { k, n, g, v, ns, &s, sizeof(st), NULL }
#define KIND_FC(k, n, g, v, ns, s, st, fc) { k, n, g, v, ns, &s, sizeof(st), fc }
static const struct kind_info kinds[K__COUNT] = {
	KIND(K_SERVICE, "Service", "", v1, 1, service_schema, struct k_service),
	KIND(K_ENDPOINTS, "Endpoints", "", v1, 1, endpoints_schema, struct k_endpoints),
	KIND(K_POD, "Pod", "", v1, 1, pod_schema, struct k_pod),
	KIND(K_NODE, "Node", "", v1, 0, node_schema, struct k_node),
	KIND(K_SECRET, "Secret", "", v1, 1, secret_schema, struct k_secret),
	KIND(K_NAMESPACE, "Namespace", "", v1, 0, namespace_schema, struct k_namespace),
	KIND(K_ENDPOINTSLICE, "EndpointSlice", "discovery.k8s.io", discovery_v1, 1,
	    endpointslice_schema, struct k_endpointslice),
	KIND(K_DEPLOYMENT, "Deployment", "apps", apps_v1, 1, deployment_schema, struct k_deployment),
	KIND(K_IPADDRESSPOOL, "IPAddressPool", "metallb.io", metallb_v1b1, 1,
	    ipaddresspool_schema, struct k_ipaddresspool),
	KIND(K_L2ADVERTISEMENT, "L2Advertisement", "metallb.io", metallb_v1b1, 1,
	    l2advertisement_schema, struct k_l2advertisement),
	KIND(K_BGPADVERTISEMENT, "BGPAdvertisement", "metallb.io", metallb_v1b1, 1,
	    bgpadvertisement_schema, struct k_bgpadvertisement),
	KIND(K_BGPPEER, "BGPPeer", "metallb.io", metallb_v1b12, 1, bgppeer_schema, struct k_bgppeer),
	KIND(K_BFDPROFILE, "BFDProfile", "metallb.io", metallb_v1b1, 1, bfdprofile_schema,
	    struct k_bfdprofile),
	KIND(K_COMMUNITY, "Community", "metallb.io", metallb_v1b1, 1, community_schema,
	    struct k_community),
	KIND(K_GATEWAY, "Gateway", "networking.istio.io", istio_net, 1, gateway_schema,
	    struct k_gateway),
	KIND(K_VIRTUALSERVICE, "VirtualService", "networking.istio.io", istio_net, 1,
	    virtualservice_schema, struct k_virtualservice),
	KIND(K_DESTINATIONRULE, "DestinationRule", "networking.istio.io", istio_net, 1,
	    destinationrule_schema, struct k_destinationrule),
	KIND(K_SERVICEENTRY, "ServiceEntry", "networking.istio.io", istio_net, 1,
	    serviceentry_schema, struct k_serviceentry),
	KIND(K_WORKLOADENTRY, "WorkloadEntry", "networking.istio.io", istio_net, 1,
	    workloadentry_schema, struct k_workloadentry),
	KIND(K_PEERAUTHENTICATION, "PeerAuthentication", "security.istio.io", istio_sec, 1,
	    peerauthentication_schema, struct k_peerauthentication),
	/* a policy that does not decode must not fall away: it fails closed */
	KIND_FC(K_AUTHORIZATIONPOLICY, "AuthorizationPolicy", "security.istio.io", istio_sec, 1,
	    authorizationpolicy_schema, struct k_authorizationpolicy,
	    authorizationpolicy_fail_closed),
	KIND_FC(K_REQUESTAUTHENTICATION, "RequestAuthentication", "security.istio.io", istio_sec,
	    1, requestauthentication_schema, struct k_requestauthentication,
	    requestauthentication_fail_closed),
};

const struct kind_info *
kind_info(enum obj_kind k)
{
	return k < K__COUNT ? &kinds[k] : NULL;
}

const char *
kind_name(enum obj_kind k)
{
	return k < K__COUNT ? kinds[k].name : "?";
}

/* The kind's static copy of an accepted apiVersion, or NULL. */
static const char *
kind_api_version(const struct kind_info *ki, const char *api_version)
{
	size_t j;

	for (j = 0; ki->versions[j]; j++)
		if (strcmp(ki->versions[j], api_version) == 0)
			return ki->versions[j];
	return NULL;
}

const struct kind_info *
kind_lookup(const char *api_version, const char *kind, int *known_kind)
{
	size_t i;

	*known_kind = 0;
	for (i = 0; i < K__COUNT; i++) {
		const struct kind_info *ki = &kinds[i];

		if (strcmp(ki->name, kind) != 0)
			continue;
		*known_kind = 1;
		if (kind_api_version(ki, api_version) != NULL)
			return ki;
	}
	return NULL;
}

/*
 * Where objects live: an arena of their own, or one shared by the objects
 * of a file (decoded_list_share). Counted: one for each object in it, one
 * for the list still decoding into it.
 */
struct obj_pool {
	int		 refcnt;
	struct vg_arena	*arena;
	struct vg_strtab *strs;		/* while a list decodes into it: strings */
	struct vg_strtab *blobs;	/* and SC_SHARE arrays */
	const char	*file;		/* the file name last copied into it */
};

static struct obj_pool *
pool_new(struct vg_arena *a)
{
	struct obj_pool *p = xcalloc(1, sizeof(*p));

	p->refcnt = 1;
	p->arena = a;
	return p;
}

static void
pool_unref(struct obj_pool *p)
{
	if (p == NULL)
		return;
	if (__atomic_sub_fetch(&p->refcnt, 1, __ATOMIC_ACQ_REL) == 0) {
		strtab_free(p->strs);
		strtab_free(p->blobs);
		arena_free(p->arena);
		free(p);
	}
}

struct object *
object_ref(struct object *o)
{
	__atomic_add_fetch(&o->refcnt, 1, __ATOMIC_RELAXED);
	return o;
}

void
object_unref(struct object *o)
{
	if (o == NULL)
		return;
	if (__atomic_sub_fetch(&o->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		pool_unref(o->pool);
}

void
decoded_list_share(struct decoded_list *l)
{
	if (l->pool != NULL)
		return;
	l->pool = pool_new(arena_new());
	l->pool->strs = strtab_new(l->pool->arena);
	l->pool->blobs = strtab_new_blobs(l->pool->arena);
}

void
decoded_list_seal(struct decoded_list *l)
{
	if (l->pool == NULL)
		return;
	strtab_free(l->pool->strs);
	strtab_free(l->pool->blobs);
	l->pool->strs = NULL;
	l->pool->blobs = NULL;
}

static struct decoded *
decoded_push(struct decoded_list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

void
decoded_list_free(struct decoded_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (l->v[i].obj != NULL) {
			/* ns and name are the object's */
			object_unref(l->v[i].obj);
			continue;
		}
		free((char *)l->v[i].ns);
		free((char *)l->v[i].name);
		free(l->v[i].error);
	}
	free(l->v);
	pool_unref(l->pool);
	memset(l, 0, sizeof(*l));
}

/* DNS-1123 subdomain (253) for most names; labels are checked loosely. */
static int
valid_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.'))
			return 0;
	}
	return s[0] != '-' && s[0] != '.' && s[n - 1] != '-' && s[n - 1] != '.';
}

static const struct sc_field meta_fields[] = {
	SCF("name", SC_STR, struct obj_meta, name),
	SCF("namespace", SC_STR, struct obj_meta, ns),
	/* SCF_SHARED: no check writes these (nor the arrays marked so in
	 * k8s.c); a file's objects share equal ones (decoded_list_share) */
	SCF_SHARED("labels", SC_STRMAP, struct obj_meta, labels),
	SCF("annotations", SC_STRMAP, struct obj_meta, annotations),
	SCF("creationTimestamp", SC_STR, struct obj_meta, creation_ts),
	SCF("uid", SC_STR, struct obj_meta, uid),
	SCF_END
};
static const struct sc_schema meta_schema = {
	"ObjectMeta", sizeof(struct obj_meta), meta_fields, NULL
};

static void decode_one(const struct ynode *, const char *file, const char *default_ns,
    struct vg_errs *, struct decoded_list *, int in_list);

static void
decode_list(const struct ynode *root, const char *file, const char *default_ns,
    struct vg_errs *errs, struct decoded_list *out)
{
	const struct ynode *items = yn_get(root, "items");
	size_t i;

	if (yn_is_null(items))
		return;
	if (items->type != YN_SEQ) {
		errs_add(errs, ERR_ERROR, file, items->line, items->col,
		    "List: items must be a list");
		return;
	}
	for (i = 0; i < items->n; i++)
		decode_one(items->vals[i], file, default_ns, errs, out, 1);
}

/* The entry of a kind that fails closed, whatever the apiVersion, or NULL. */
static const struct kind_info *
kind_fail_closed(const char *kind)
{
	size_t i;

	for (i = 0; i < K__COUNT; i++)
		if (kinds[i].fail_closed != NULL && strcmp(kinds[i].name, kind) == 0)
			return &kinds[i];
	return NULL;
}

/*
 * The kind's entry for (apiv, kind), or NULL with a warning: the manifest
 * is skipped. A kind that fails closed is not skipped at an apiVersion it
 * does not accept: its entry comes back with *bad_version set, and the
 * object is kept broken.
 */
static const struct kind_info *
kind_for(const struct ynode *root, const char *file, const char *apiv, const char *kind,
    const char *name, struct vg_errs *errs, int *bad_version)
{
	const struct kind_info *ki;
	int known;

	*bad_version = 0;
	ki = kind_lookup(apiv, kind, &known);
	if (ki == NULL && known && (ki = kind_fail_closed(kind)) != NULL) {
		*bad_version = 1;
		return ki;
	}
	if (ki == NULL) {
		if (known)
			errs_add(errs, ERR_WARNING, file, root->line, root->col,
			    "%s %s: apiVersion %s is not supported for this kind; skipped",
			    kind, name ? name : "(unnamed)", apiv);
		else
			errs_add(errs, ERR_WARNING, file, root->line, root->col,
			    "unknown kind %s (%s); skipped", kind, apiv);
	}
	return ki;
}

/*
 * A new object of kind ki from file, and the decoding context c over its
 * pool: the list's shared pool, or one of its own.
 */
static struct object *
object_new(const struct kind_info *ki, const char *apiv, const struct ynode *root,
    const char *file, const char *what, struct decoded_list *out, struct vg_errs *errs,
    struct sc_ctx *c)
{
	struct object *o = xcalloc(1, sizeof(*o));
	struct obj_pool *pool;

	memset(c, 0, sizeof(*c));
	if (out->pool != NULL)
		pool = out->pool;
	else
		/* objects of a kind are alike: size the arena as the last one
		 * was, so most objects take one exact chunk instead of a
		 * doubling chain */
		pool = pool_new(arena_new_sized(size_hint[ki->kind]));
	c->arena = pool->arena;
	c->strs = pool->strs;
	c->blobs = pool->blobs;
	c->errs = errs;
	c->file = file;
	c->what = what;
	o->pool = pool;
	o->kind = ki->kind;
	o->refcnt = 1;
	o->line = root->line;
	if (pool->file == NULL || strcmp(pool->file, file) != 0)
		pool->file = arena_strdup(c->arena, file);
	o->file = pool->file;
	o->api_version = kind_api_version(ki, apiv);
	return o;
}

/*
 * The object had errors (from errs->v[e0] on): d names it and keeps the
 * first error, what a rejection shows; the object goes.
 */
static void
object_reject(struct decoded *d, struct object *o, const struct decoded_list *out,
    const char *ns, const char *name, const struct vg_errs *errs, size_t e0)
{
	struct obj_pool *pool = o->pool;
	size_t e;

	d->failed = 1;
	d->ns = xstrdup(ns);
	d->name = xstrdup(name);
	for (e = e0; e < errs->n && d->error == NULL; e++)
		if (errs->v[e].sev == ERR_ERROR)
			d->error = errs_format(&errs->v[e]);
	free(o);
	/* in a shared arena what it took stays until the arena goes */
	if (pool != out->pool)
		pool_unref(pool);
}

/*
 * The object had errors (from errs->v[e0] on) and its kind fails closed:
 * a fresh spec, broken, with what the kind's hook can read of it on its
 * own. The hook's errors are dropped: they repeat the object's.
 */
static void
object_fail_closed(const struct kind_info *ki, struct object *o, const struct ynode *root,
    const struct sc_ctx *c, const struct vg_errs *errs, size_t e0)
{
	struct vg_errs scratch = { 0 };
	struct sc_ctx fc = *c;
	const char *why = NULL;
	size_t e;

	for (e = e0; e < errs->n && why == NULL; e++)
		if (errs->v[e].sev == ERR_ERROR) {
			char *s = errs_format(&errs->v[e]);

			why = arena_strdup(c->arena, s);
			free(s);
		}
	if (why == NULL)	/* past the list's limit: not kept */
		why = arena_strdup(c->arena, "the manifest does not decode");
	fc.errs = &scratch;
	fc.nerr = 0;
	fc.path[0] = '\0';
	o->spec = arena_alloc(c->arena, ki->spec_size);
	kinds_current = o;
	ki->fail_closed(&fc, root, o->spec, why);
	kinds_current = NULL;
	errs_clear(&scratch);
}

/*
 * The object decoded well: it goes to d, and its struct itself into its
 * pool's arena, so one free releases all.
 */
static void
object_keep(struct decoded *d, struct object *o, const struct decoded_list *out,
    const struct kind_info *ki)
{
	struct obj_pool *pool = o->pool;
	struct object *oa = arena_memdup(pool->arena, o, sizeof(*o));

	free(o);
	if (pool == out->pool)
		__atomic_add_fetch(&pool->refcnt, 1, __ATOMIC_RELAXED);
	else
		size_hint[ki->kind] = arena_used(pool->arena) + 64;
	d->obj = oa;
	d->ns = oa->meta.ns;
	d->name = oa->meta.name;
}

static void
decode_one(const struct ynode *root, const char *file, const char *default_ns,
    struct vg_errs *errs, struct decoded_list *out, int in_list)
{
	const char *apiv, *kind, *name, *ns;
	const struct kind_info *ki;
	const struct ynode *md;
	struct decoded *d;
	struct object *o;
	struct sc_ctx c;
	size_t e0;
	char what[512];
	int bad_version;

	/* an empty document: "---" with nothing after it (kubectl skips it) */
	if (root == NULL || yn_is_null(root))
		return;
	if (root->type != YN_MAP) {
		errs_add(errs, ERR_ERROR, file, root->line, root->col,
		    "a manifest must be a map with apiVersion and kind");
		return;
	}
	apiv = yn_getstr(root, "apiVersion");
	kind = yn_getstr(root, "kind");
	if (apiv == NULL || kind == NULL) {
		errs_add(errs, ERR_ERROR, file, root->line, root->col,
		    "a manifest needs apiVersion and kind");
		return;
	}
	if (!in_list && strcmp(kind, "List") == 0 && strcmp(apiv, "v1") == 0) {
		decode_list(root, file, default_ns, errs, out);
		return;
	}
	md = yn_get(root, "metadata");
	name = yn_getstr(md, "name");
	ns = yn_getstr(md, "namespace");
	if ((ki = kind_for(root, file, apiv, kind, name, errs, &bad_version)) == NULL)
		return;
	if (!ki->namespaced)
		ns = "";
	else if (ns == NULL)
		ns = default_ns;
	snprintf(what, sizeof(what), "%s %s%s%s", ki->name, ns, *ns ? "/" : "",
	    name ? name : "(unnamed)");

	d = decoded_push(out);
	d->line = root->line;
	d->kind = ki->kind;
	if (name == NULL || !valid_name(name) || (*ns && !valid_name(ns))) {
		d->failed = 1;
		errs_add(errs, ERR_ERROR, file, md ? md->line : root->line,
		    md ? md->col : root->col, "%s: metadata.name%s must be a lower-case "
		    "DNS name (a-z, 0-9, '-', '.')", what, name && !valid_name(name) ? "" :
		    name ? " and namespace" : " is required and");
		return;
	}
	d->named = 1;

	e0 = errs->n;
	o = object_new(ki, apiv, root, file, what, out, errs, &c);
	strcpy(c.path, "metadata");
	(void)sc_decode(&c, &meta_schema, md, &o->meta);
	c.path[0] = '\0';
	o->meta.ns = sc_strndup(&c, ns, strlen(ns));
	o->spec = arena_alloc(c.arena, ki->spec_size);
	if (bad_version) {
		char vers[256];
		size_t j, len = 0;

		vers[0] = '\0';
		for (j = 0; ki->versions[j] && len < sizeof(vers); j++)
			len += (size_t)snprintf(vers + len, sizeof(vers) - len, "%s%s",
			    j ? ", " : "", ki->versions[j]);
		sc_error(&c, root, "apiVersion %s is not supported for this kind (%s); "
		    "kept as a broken policy, which fails closed", apiv, vers);
	} else {
		kinds_current = o;
		(void)sc_decode(&c, ki->spec_schema, root, o->spec);
		kinds_current = NULL;
	}
	o->hash = yn_hash(root, hash_str(HASH_INIT, ns));
	if (c.nerr && ki->fail_closed != NULL)
		object_fail_closed(ki, o, root, &c, errs, e0);
	if (c.nerr && ki->fail_closed == NULL)
		object_reject(d, o, out, ns, name, errs, e0);
	else
		object_keep(d, o, out, ki);
}

void
manifest_decode_doc(const struct ydoc *doc, const char *default_ns,
    struct vg_errs *errs, struct decoded_list *out)
{
	decode_one(doc->root, doc->file, default_ns, errs, out, 0);
}

struct buf_arg {
	struct vg_errs		*errs;
	struct decoded_list	*out;
};

static void
buf_doc(struct ydoc *doc, void *arg)
{
	struct buf_arg *a = arg;

	manifest_decode_doc(doc, "default", a->errs, a->out);
	arena_free(doc->arena);
}

int
manifest_decode_buf(const char *buf, size_t len, const char *file,
    struct vg_errs *errs, struct decoded_list *out)
{
	struct buf_arg a = { errs, out };

	return yn_parse(buf, len, file, buf_doc, &a, errs);
}
