/*
 * security.istio.io PeerAuthentication (security/v1beta1/peer_authentication.proto),
 * checked as Istio's ValidatePeerAuthentication does.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "istio_common.h"

static const struct istio_enum mtls_modes[] = {
	{ "UNSET", K_PA_UNSET, 0 },
	{ "DISABLE", K_PA_DISABLE, 0 },
	{ "PERMISSIVE", K_PA_PERMISSIVE, 0 },
	{ "STRICT", K_PA_STRICT, 0 },
};
ISTIO_ENUM_FN(mtls_mode, mtls_modes)

static const struct sc_field mtls_fields[] = {
	{ .name = "mode", .type = SC_CUSTOM, .off = 0, .fn = mtls_mode },
	SCF_END
};
static const struct sc_schema mtls_schema = {
	"MutualTLS", sizeof(enum k_pa_mtls_mode), mtls_fields, NULL
};

static int
cmp_port(const void *a, const void *b)
{
	const struct k_pa_port_mtls *x = a, *y = b;

	return x->port < y->port ? -1 : x->port > y->port;
}

/* map<uint32, MutualTLS>: the keys are port numbers */
/* map keys as port numbers; a key that is not one is unlike any other */
static int
port_key_cmp(size_t a, size_t b, void *arg)
{
	const struct ynode *n = arg;
	int64_t x, y;
	int xa = sc_scalar_int(n->keys[a], &x) == 0, ya = sc_scalar_int(n->keys[b], &y) == 0;

	if (!xa || !ya)
		return xa != ya ? xa - ya : (a > b) - (a < b);
	return (x > y) - (x < y);
}

static int
port_level_mtls(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	struct k_peerauthentication *p = (struct k_peerauthentication *)((char *)dst -
	    offsetof(struct k_peerauthentication, port_level_mtls));
	size_t i, j, dup;
	int rc = 0;

	if (yn_is_null(n))
		return 0;
	if (n->type != YN_MAP) {
		sc_error(c, n, "must be a map of port numbers to {mode: ...}");
		return -1;
	}
	if (n->n == 0) {
		sc_error(c, n, "must have at least one port when given");
		return -1;
	}
	p->port_level_mtls = arena_alloc(c->arena, sizeof(*p->port_level_mtls) * n->n);
	/* found by sorting: a scan of the ports before each was quadratic */
	if (!first_dup(n->n, port_key_cmp, (void *)(uintptr_t)n, &dup, &j))
		dup = SIZE_MAX;
	for (i = 0; i < n->n; i++) {
		const struct ynode *k = n->keys[i];
		struct k_pa_port_mtls *e = &p->port_level_mtls[i];
		size_t old;

		if (sc_scalar_int(k, &e->port) == -1) {
			sc_error(c, k, "\"%s\" is not a port number", k->type == YN_SCALAR ?
			    k->str : "?");
			return -1;
		}
		if (istio_port_check(c, k, "port", e->port) == -1)
			return -1;
		if (i == dup) {
			sc_error(c, k, "port %lld is given twice", (long long)e->port);
			return -1;
		}
		old = istio_path_push(c, ".%lld", (long long)e->port);
		if (sc_decode(c, &mtls_schema, yn_is_null(n->vals[i]) ? NULL : n->vals[i],
		    &e->mode) == -1)
			rc = -1;
		istio_path_pop(c, old);
	}
	p->nport_level_mtls = n->n;
	if (p->nport_level_mtls > 1)
		qsort(p->port_level_mtls, p->nport_level_mtls, sizeof(*p->port_level_mtls), cmp_port);
	return rc;
}

static int
pa_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_peerauthentication *p = obj;

	if (p->nport_level_mtls && p->selector.n == 0) {
		sc_error(c, istio_at(n, "portLevelMtls", -1), "portLevelMtls needs a selector "
		    "with matchLabels: a mesh or namespace policy cannot set it");
		return -1;
	}
	return 0;
}

static int
pa_mtls(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	if (yn_is_null(n))
		return 0;
	return sc_decode(c, &mtls_schema, n, dst);
}

static const struct sc_field pa_fields[] = {
	SCF_OBJ("selector", struct k_peerauthentication, selector, &istio_matchlabels_schema),
	SCF_FN("mtls", struct k_peerauthentication, mtls_mode, pa_mtls),
	SCF_FN("portLevelMtls", struct k_peerauthentication, port_level_mtls, port_level_mtls),
	SCF_END
};
static const struct sc_schema pa_spec_schema = {
	"PeerAuthenticationSpec", sizeof(struct k_peerauthentication), pa_fields, pa_check
};
/* An empty PeerAuthentication is valid: mode UNSET for the namespace. */
KIND_SPEC_ONLY(peerauthentication, struct k_peerauthentication, pa_spec_schema,
    "PeerAuthentication", 0);
