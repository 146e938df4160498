/*
 * security.istio.io AuthorizationPolicy (security/v1beta1/authorization_policy.proto)
 * and RequestAuthentication (request_authentication.proto), checked as
 * Istio's ValidateAuthorizationPolicy and ValidateRequestAuthentication do
 * (pkg/config/validation/validation.go).
 *
 * A source or an operation is read generically: each key whose value is a
 * list of strings is a field, in the order written, names vipgated does not
 * know included. Which names mean something is decided where the policies
 * are compiled, as istiod's generators decide it (an ALLOW rule with an
 * unknown condition is dropped, a DENY rule only loses the condition), so
 * no name is refused here; a value that is not a list of strings is.
 *
 * Both kinds fail closed (kind_info.fail_closed): a policy that does not
 * decode stays, marked broken, with what can be read of its scope.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "istio_common.h"

/* targetRefs holds at most 16 entries (CRD maxItems). */
#define TARGET_REFS_MAX	16

static const char *
node_type(const struct ynode *n)
{
	if (n->type == YN_MAP)
		return "a map";
	if (n->type == YN_SEQ)
		return "a list";
	return yn_is_null(n) ? "null" : "a scalar";
}

/* ---- scope: selector, targetRef, targetRefs ---- */

/*
 * validatePolicyTargetReference: a name, no namespace (cross-namespace
 * references are not supported), and a kind of allowedTargetRefs.
 */
static int
target_ref_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	static const struct {
		const char *group, *kind;
	} allowed[] = {
		{ "", "Service" },
		{ "networking.istio.io", "ServiceEntry" },
		{ "gateway.networking.k8s.io", "Gateway" },
		{ "gateway.networking.k8s.io", "GatewayClass" },
	};
	const struct k_target_ref *t = obj;
	const char *group = t->group ? t->group : "";
	size_t i;

	if (!istio_has(t->name)) {
		sc_error(c, istio_at(n, "name", -1), "name must be set");
		return -1;
	}
	if (istio_has(t->ns)) {
		sc_error(c, istio_at(n, "namespace", -1), "namespace must not be set: "
		    "cross-namespace references are not supported");
		return -1;
	}
	for (i = 0; i < VG_ARRAY_SIZE(allowed); i++)
		if (strcmp(allowed[i].group, group) == 0 && str_eq(allowed[i].kind, t->kind))
			return 0;
	sc_error(c, istio_at(n, "kind", -1), "%s/%s is not one of Service, "
	    "networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway or "
	    "gateway.networking.k8s.io/GatewayClass", *group ? group : "core",
	    t->kind ? t->kind : "");
	return -1;
}

static const struct sc_field target_ref_fields[] = {
	SCF("group", SC_STR, struct k_target_ref, group),
	SCF_REQ("kind", SC_STR, struct k_target_ref, kind),
	SCF_REQ("name", SC_STR, struct k_target_ref, name),
	SCF("namespace", SC_STR, struct k_target_ref, ns),
	SCF_END
};
static const struct sc_schema target_ref_schema = {
	"PolicyTargetReference", sizeof(struct k_target_ref), target_ref_fields,
	target_ref_check
};

/* validateWorkloadSelector: no empty key, no wildcard. */
static int
scope_selector(struct sc_ctx *c, const struct ynode *n, struct strmap *sel, int *has)
{
	size_t i;

	if (yn_is_null(n))
		return 0;
	if (sc_decode(c, &istio_matchlabels_schema, n, sel) == -1)
		return -1;
	*has = 1;
	for (i = 0; i < sel->n; i++) {
		if (*sel->k[i] == '\0') {
			sc_error(c, istio_at(n, "matchLabels", -1), "an empty label name is not "
			    "supported in a selector");
			return -1;
		}
		if (strchr(sel->k[i], '*') || strchr(sel->v[i], '*')) {
			sc_error(c, istio_at(n, "matchLabels", -1), "%s: a wildcard is not "
			    "supported in a selector", sel->k[i]);
			return -1;
		}
	}
	return 0;
}

/* targetRef (list = 0) or targetRefs (1), appended to *v in the order written. */
static int
scope_target_refs(struct sc_ctx *c, const struct ynode *n, struct k_target_ref **v,
    size_t *nv, int list)
{
	struct k_target_ref *nvv;
	size_t i, add;
	int rc = 0;

	if (yn_is_null(n))
		return 0;
	if (list && n->type != YN_SEQ) {
		sc_error(c, n, "must be a list, not %s", node_type(n));
		return -1;
	}
	if (list && n->n > TARGET_REFS_MAX) {
		sc_error(c, n->vals[TARGET_REFS_MAX], "targetRefs holds at most %d entries",
		    TARGET_REFS_MAX);
		return -1;
	}
	add = list ? n->n : 1;
	nvv = arena_alloc(c->arena, sizeof(*nvv) * (*nv + add + 1));
	if (*nv)
		memcpy(nvv, *v, sizeof(*nvv) * *nv);
	for (i = 0; i < add; i++) {
		const struct ynode *it = list ? n->vals[i] : n;
		size_t old = list ? istio_path_push(c, "[%zu]", i) : strlen(c->path);

		if (yn_is_null(it)) {
			sc_error(c, it, "must be a map, not null");
			rc = -1;
		} else if (sc_decode(c, &target_ref_schema, it, &nvv[*nv + i]) == -1)
			rc = -1;
		istio_path_pop(c, old);
	}
	*v = nvv;
	*nv += add;
	return rc;
}

/* validateOneOfSelectorType: at most one of selector, targetRef, targetRefs. */
static int
scope_one_of(struct sc_ctx *c, const struct ynode *spec)
{
	const struct ynode *tr = yn_get(spec, "targetRef"), *trs = yn_get(spec, "targetRefs");
	int set = 0;

	set += !yn_is_null(yn_get(spec, "selector"));
	set += !yn_is_null(tr);
	set += !yn_is_null(trs) && trs->type == YN_SEQ && trs->n > 0;
	if (set > 1) {
		sc_error(c, !yn_is_null(trs) ? trs : tr, "only one of selector, targetRef and "
		    "targetRefs may be set");
		return -1;
	}
	return 0;
}

/*
 * What can be read of a broken policy's scope, each part on its own: a
 * part that does not decode stays empty, and an empty selector selects
 * every workload of the namespace, the safe side.
 */
static void
scope_fail_closed(struct sc_ctx *c, const struct ynode *root, struct strmap *sel, int *has,
    struct k_target_ref **v, size_t *nv)
{
	const struct ynode *spec = yn_get(root, "spec");
	struct k_target_ref *tv = NULL;
	size_t tn = 0;
	int nerr;

	if (spec == NULL || spec->type != YN_MAP)
		return;
	nerr = c->nerr;
	if (scope_selector(c, yn_get(spec, "selector"), sel, has) == -1 || c->nerr != nerr) {
		memset(sel, 0, sizeof(*sel));
		*has = 0;
	}
	nerr = c->nerr;
	(void)scope_target_refs(c, yn_get(spec, "targetRef"), &tv, &tn, 0);
	(void)scope_target_refs(c, yn_get(spec, "targetRefs"), &tv, &tn, 1);
	if (c->nerr == nerr) {
		*v = tv;
		*nv = tn;
	}
}

/* The scope fields of a kind's spec struct st (selector, has_selector, target_refs ...). */
#define SCOPE_FNS(pfx, st)							\
	static int pfx##_selector(struct sc_ctx *c, const struct ynode *n, void *dst) \
	{									\
		st *p = (st *)((char *)dst - offsetof(st, selector));		\
										\
		return scope_selector(c, n, &p->selector, &p->has_selector);	\
	}									\
	static int pfx##_target_ref(struct sc_ctx *c, const struct ynode *n, void *dst) \
	{									\
		st *p = (st *)((char *)dst - offsetof(st, target_refs));	\
										\
		return scope_target_refs(c, n, &p->target_refs, &p->ntarget_refs, 0); \
	}									\
	static int pfx##_target_refs(struct sc_ctx *c, const struct ynode *n, void *dst) \
	{									\
		st *p = (st *)((char *)dst - offsetof(st, target_refs));	\
										\
		return scope_target_refs(c, n, &p->target_refs, &p->ntarget_refs, 1); \
	}									\
	void pfx##_fail_closed(struct sc_ctx *c, const struct ynode *root, void *spec, \
	    const char *why)							\
	{									\
		st *p = spec;							\
										\
		p->broken = 1;							\
		p->broken_why = why;						\
		scope_fail_closed(c, root, &p->selector, &p->has_selector,	\
		    &p->target_refs, &p->ntarget_refs);				\
	}

/* ---- AuthorizationPolicy ---- */

SCOPE_FNS(authorizationpolicy, struct k_authorizationpolicy)

static const struct istio_enum ap_actions[] = {
	{ "ALLOW", K_AP_ALLOW, 0 },
	{ "DENY", K_AP_DENY, 0 },
	{ "AUDIT", K_AP_AUDIT, 0 },
	{ "CUSTOM", K_AP_CUSTOM, 0 },
};
ISTIO_ENUM_FN(ap_action, ap_actions)

static int
name_in(const char *name, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(name, *names) == 0)
			return 1;
	return 0;
}

static const char *const ip_fields[] = { "ipBlocks", "notIpBlocks", "remoteIpBlocks",
    "notRemoteIpBlocks", NULL };
static const char *const port_fields[] = { "ports", "notPorts", NULL };

/* security.ValidateIPs and ValidatePorts, for the fields Istio checks so. */
static int
ap_value_check(struct sc_ctx *c, const struct ynode *at, const char *name, const char *v,
    int is_source)
{
	size_t i;
	long port = 0;

	if (is_source && name_in(name, ip_fields) && !istio_is_ip_or_cidr(v)) {
		sc_error(c, at, "\"%s\" is not an IP address or CIDR", v);
		return -1;
	}
	if (!is_source && name_in(name, port_fields)) {
		/* strconv.ParseUint: digits only, no sign */
		for (i = 0; v[i] >= '0' && v[i] <= '9' && port <= 65535; i++)
			port = port * 10 + (v[i] - '0');
		if (v[i] != '\0' || port > 65535) {
			sc_error(c, at, "\"%s\" is not a port number 0-65535", v);
			return -1;
		}
	}
	return 0;
}

/*
 * rules[].from[].source or rules[].to[].operation into m: each key with a
 * list of strings, in order. null and [] are unset, as protojson reads
 * them; an empty string is refused (security.CheckEmptyValues).
 */
static int
ap_match_decode(struct sc_ctx *c, const struct ynode *n, struct k_ap_match *m, int is_source)
{
	static const char *const sa_fields[] = { "serviceAccounts", "notServiceAccounts", NULL };
	static const char *const ns_fields[] = { "principals", "notPrincipals", "namespaces",
	    "notNamespaces", NULL };
	size_t i, j, dup, first, nf = 0;
	int rc = 0, has_sa = 0, has_ns = 0;

	if (n->type != YN_MAP) {
		sc_error(c, n, "must be a map of lists of strings, not %s", node_type(n));
		return -1;
	}
	m->line = (uint32_t)n->line;
	m->col = (uint32_t)n->col;
	m->fields = arena_alloc(c->arena, sizeof(*m->fields) * (n->n ? n->n : 1));
	/* found by sorting: a scan of the keys before each was quadratic */
	if (!first_dup(n->n, sc_map_key_cmp, (void *)(uintptr_t)n, &dup, &first))
		dup = SIZE_MAX;
	for (i = 0; i < n->n; i++) {
		const struct ynode *k = n->keys[i], *v = n->vals[i];
		struct k_ap_field *f = &m->fields[nf];
		size_t old;

		if (k->type != YN_SCALAR) {
			sc_error(c, k, "a key must be a string");
			rc = -1;
			continue;
		}
		old = istio_path_push(c, ".%s", k->str);
		if (i == dup) {
			sc_error(c, k, "given twice (line %d)", n->keys[first]->line);
			rc = -1;
		} else if (yn_is_null(v) || (v->type == YN_SEQ && v->n == 0)) {
			;	/* unset */
		} else if (v->type != YN_SEQ) {
			sc_error(c, v, "must be a list of strings, not %s", node_type(v));
			rc = -1;
		} else {
			f->name = sc_strndup(c, k->str, k->len);
			f->line = (uint32_t)k->line;
			f->col = (uint32_t)k->col;
			f->values = arena_alloc(c->arena, sizeof(*f->values) * v->n);
			for (j = 0; j < v->n; j++) {
				const struct ynode *e = v->vals[j];
				size_t o2 = istio_path_push(c, "[%zu]", j);

				if (e->type != YN_SCALAR || yn_is_null(e)) {
					sc_error(c, e, "must be a string, not %s", node_type(e));
					rc = -1;
				} else if (e->len == 0) {
					sc_error(c, e, "an empty value is not allowed");
					rc = -1;
				} else {
					f->values[j] = sc_strndup(c, e->str, e->len);
					if (ap_value_check(c, e, f->name, f->values[j], is_source) == -1)
						rc = -1;
				}
				istio_path_pop(c, o2);
			}
			f->nvalues = v->n;
			has_sa |= name_in(f->name, sa_fields);
			has_ns |= name_in(f->name, ns_fields);
			nf++;
		}
		istio_path_pop(c, old);
	}
	m->nfields = nf;
	if (rc == 0 && nf == 0) {
		sc_error(c, n, "must not be empty");
		return -1;
	}
	if (rc == 0 && has_sa && has_ns) {
		sc_error(c, n, "serviceAccounts cannot be set with namespaces or principals");
		return -1;
	}
	return rc;
}

/* from (key "source") or to (key "operation"): a list, not empty when given. */
static int
ap_matches(struct sc_ctx *c, const struct ynode *n, struct k_ap_match **v, size_t *nv,
    const char *key)
{
	int is_source = strcmp(key, "source") == 0;
	size_t i;
	int rc = 0;

	if (yn_is_null(n))
		return 0;
	if (n->type != YN_SEQ) {
		sc_error(c, n, "must be a list, not %s", node_type(n));
		return -1;
	}
	if (n->n == 0) {
		sc_error(c, n, "must not be empty when given");
		return -1;
	}
	*v = arena_alloc(c->arena, sizeof(**v) * n->n);
	for (i = 0; i < n->n; i++) {
		const struct ynode *it = n->vals[i], *s;
		size_t old = istio_path_push(c, "[%zu]", i);

		if (it->type != YN_MAP) {
			sc_error(c, it, "must be a map with %s, not %s", key, node_type(it));
			rc = -1;
		} else if (yn_is_null(s = yn_get(it, key))) {
			sc_error(c, s ? s : it, "%s is required", key);
			rc = -1;
		} else {
			size_t o2 = istio_path_push(c, ".%s", key);

			if (ap_match_decode(c, s, &(*v)[i], is_source) == -1)
				rc = -1;
			istio_path_pop(c, o2);
		}
		istio_path_pop(c, old);
	}
	*nv = n->n;
	return rc;
}

static int
rule_from(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	struct k_ap_rule *r = (struct k_ap_rule *)((char *)dst - offsetof(struct k_ap_rule, from));

	return ap_matches(c, n, &r->from, &r->nfrom, "source");
}

static int
rule_to(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	struct k_ap_rule *r = (struct k_ap_rule *)((char *)dst - offsetof(struct k_ap_rule, to));

	return ap_matches(c, n, &r->to, &r->nto, "operation");
}

/* A when condition: a key, and values or notValues (what the key means is the compile step's). */
static int
cond_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_ap_cond *w = obj;
	size_t i;

	w->line = (uint32_t)n->line;
	w->col = (uint32_t)n->col;
	if (!istio_has(w->key)) {
		sc_error(c, istio_at(n, "key", -1), "key must not be empty");
		return -1;
	}
	if (w->nvalues == 0 && w->nnot_values == 0) {
		sc_error(c, n, "at least one of values or notValues must be set for key %s",
		    w->key);
		return -1;
	}
	for (i = 0; i < w->nvalues + w->nnot_values; i++) {
		int nv = i >= w->nvalues;
		size_t k = nv ? i - w->nvalues : i;

		if (*(nv ? w->not_values[k] : w->values[k]) == '\0') {
			sc_error(c, istio_at(n, nv ? "notValues" : "values", (long)k),
			    "%s[%zu]: an empty value is not allowed", nv ? "notValues" : "values", k);
			return -1;
		}
	}
	return 0;
}

static const struct sc_field cond_fields[] = {
	SCF("key", SC_STR, struct k_ap_cond, key),
	SCF_LIST("values", struct k_ap_cond, values, nvalues),
	SCF_LIST("notValues", struct k_ap_cond, not_values, nnot_values),
	SCF_END
};
static const struct sc_schema cond_schema = {
	"Condition", sizeof(struct k_ap_cond), cond_fields, cond_check
};

static int
rule_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_ap_rule *r = obj;

	(void)c;
	if (n != NULL) {
		r->line = (uint32_t)n->line;
		r->col = (uint32_t)n->col;
	}
	return 0;
}

/* rules: [{}] is a rule that always matches */
static const struct sc_field rule_fields[] = {
	SCF_FN("from", struct k_ap_rule, from, rule_from),
	SCF_FN("to", struct k_ap_rule, to, rule_to),
	SCF_OBJS("when", struct k_ap_rule, when, nwhen, &cond_schema),
	SCF_END
};
static const struct sc_schema rule_schema = {
	"Rule", sizeof(struct k_ap_rule), rule_fields, rule_check
};

static const struct sc_field provider_fields[] = {
	{ .name = "name", .type = SC_STR, .off = 0 },
	SCF_END
};
static const struct sc_schema provider_schema = {
	"ExtensionProvider", sizeof(const char *), provider_fields, NULL
};

/* The node of rules[i].<list>[j].<key>.<name> (or the nearest that is there). */
static const struct ynode *
rule_node(const struct ynode *spec, size_t i, const char *list, size_t j, const char *key,
    const char *name)
{
	const struct ynode *r = istio_at(istio_at(spec, "rules", (long)i), list, (long)j);

	return key ? istio_at(istio_at(r, key, -1), name, -1) : r;
}

/*
 * CUSTOM: no identity conditions (the ext-authz check runs before the
 * authentication filters: identities are not known yet).
 */
static int
ap_custom_check(struct sc_ctx *c, const struct ynode *n, const struct k_authorizationpolicy *p)
{
	static const char *const src_unsupported[] = { "namespaces", "notNamespaces",
	    "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", NULL };
	static const char *const when_unsupported[] = { "source.namespace", "source.principal",
	    "request.auth.principal", "request.auth.audiences", "request.auth.presenter", NULL };
	size_t i, j, k;
	int rc = 0;

	for (i = 0; i < p->nrules; i++) {
		const struct k_ap_rule *r = &p->rules[i];

		for (j = 0; j < r->nfrom; j++)
			for (k = 0; k < r->from[j].nfields; k++) {
				const char *name = r->from[j].fields[k].name;

				if (!name_in(name, src_unsupported))
					continue;
				sc_error(c, rule_node(n, i, "from", j, "source", name), "rules[%zu]: "
				    "from.source.%s is not supported with action CUSTOM", i, name);
				rc = -1;
			}
		for (j = 0; j < r->nwhen; j++) {
			const char *key = r->when[j].key;

			if (!name_in(key, when_unsupported) &&
			    strncmp(key, "request.auth.claims", 19) != 0)
				continue;
			sc_error(c, rule_node(n, i, "when", j, "key", NULL), "rules[%zu]: when key "
			    "%s is not supported with action CUSTOM", i, key);
			rc = -1;
		}
	}
	return rc;
}

static int
ap_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_authorizationpolicy *p = obj;
	const struct ynode *prov = yn_get(n, "provider");

	if (scope_one_of(c, n) == -1)
		return -1;
	if (p->action == K_AP_CUSTOM) {
		if (p->nrules == 0) {
			sc_error(c, n, "action CUSTOM without rules is never triggered: "
			    "add an empty rule {} to check every request");
			return -1;
		}
		if (!istio_has(p->provider)) {
			sc_error(c, istio_at(n, "provider", -1), "action CUSTOM needs provider.name");
			return -1;
		}
		if (ap_custom_check(c, n, p) == -1)
			return -1;
	} else if (!yn_is_null(prov)) {
		sc_error(c, prov, "provider is only allowed with action CUSTOM");
		return -1;
	}
	if (p->action == K_AP_DENY && p->nrules == 0)
		sc_warn(c, istio_at(n, "action", -1), "action DENY without rules is never "
		    "triggered: add an empty rule {} to deny every request");
	return 0;
}

static const struct sc_field ap_fields[] = {
	SCF_FN("selector", struct k_authorizationpolicy, selector, authorizationpolicy_selector),
	SCF_FN("targetRef", struct k_authorizationpolicy, target_refs,
	    authorizationpolicy_target_ref),
	SCF_FN("targetRefs", struct k_authorizationpolicy, target_refs,
	    authorizationpolicy_target_refs),
	SCF_FN("action", struct k_authorizationpolicy, action, ap_action),
	SCF_OBJ("provider", struct k_authorizationpolicy, provider, &provider_schema),
	SCF_OBJS("rules", struct k_authorizationpolicy, rules, nrules, &rule_schema),
	SCF_END
};
static const struct sc_schema ap_spec_schema = {
	"AuthorizationPolicySpec", sizeof(struct k_authorizationpolicy), ap_fields, ap_check
};
/* spec {} (or none): ALLOW with no rules, allow-nothing */
KIND_SPEC_ONLY(authorizationpolicy, struct k_authorizationpolicy, ap_spec_schema,
    "AuthorizationPolicy", 0);

/* ---- RequestAuthentication ---- */

SCOPE_FNS(requestauthentication, struct k_requestauthentication)

/* ValidateStrictHTTPHeaderName: an RFC 7230 token. */
static int
header_token(const char *s)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	size_t i;

	if (*s == '\0')
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr(tchar, s[i])))
			return 0;
	return 1;
}

static int
ra_header_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	const struct k_ra_header *h = obj;

	if (!istio_has(h->name)) {
		sc_error(c, istio_at(n, "name", -1), "the header name must not be empty");
		return -1;
	}
	return 0;
}

static const struct sc_field ra_header_fields[] = {
	SCF("name", SC_STR, struct k_ra_header, name),
	SCF("prefix", SC_STR, struct k_ra_header, prefix),
	SCF_END
};
static const struct sc_schema ra_header_schema = {
	"JWTHeader", sizeof(struct k_ra_header), ra_header_fields, ra_header_check
};

static int
ra_claim_header_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	const struct k_ra_claim_header *h = obj;

	if (!istio_has(h->header) || !istio_has(h->claim)) {
		sc_error(c, n, "header and claim must not be empty");
		return -1;
	}
	if (!header_token(h->header)) {
		sc_error(c, istio_at(n, "header", -1), "\"%s\" is not a valid header name",
		    h->header);
		return -1;
	}
	return 0;
}

static const struct sc_field ra_claim_header_fields[] = {
	SCF("header", SC_STR, struct k_ra_claim_header, header),
	SCF("claim", SC_STR, struct k_ra_claim_header, claim),
	SCF_END
};
static const struct sc_schema ra_claim_header_schema = {
	"ClaimToHeader", sizeof(struct k_ra_claim_header), ra_claim_header_fields,
	ra_claim_header_check
};

/* timeout: a duration, at least 1ms when given (0 in timeout_ms: the default) */
static int
ra_timeout(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	static const struct sc_field f = { .name = "timeout", .type = SC_OPTDURATION };
	struct opt_i64 d = { 0, 0 };

	if (sc_decode_field(c, &f, n, &d) == -1)
		return -1;
	if (d.set && d.v < 1) {
		sc_error(c, n, "must be at least 1ms");
		return -1;
	}
	*(int64_t *)dst = d.set ? d.v : 0;
	return 0;
}

/* security.ParseJwksURI: http or https; and a host, or nothing can be fetched. */
static int
jwks_uri_ok(const char *s)
{
	size_t skip;

	if (strncasecmp(s, "https://", 8) == 0)
		skip = 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		skip = 7;
	else
		return 0;
	return strcspn(s + skip, "/?#") > 0;
}

/* Each string of v[0..n) not empty; a message naming list[i] otherwise. */
static int
strs_not_empty(struct sc_ctx *c, const struct ynode *map, const char *list,
    const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (*v[i] == '\0') {
			sc_error(c, istio_at(map, list, (long)i), "%s[%zu] must not be empty",
			    list, i);
			return -1;
		}
	return 0;
}

/* validateJwtRule */
static int
jwt_rule_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_ra_jwt_rule *r = obj;
	const char *j;

	r->line = (uint32_t)n->line;
	r->col = (uint32_t)n->col;
	if (!istio_has(r->issuer)) {
		sc_error(c, istio_at(n, "issuer", -1), "issuer must be set");
		return -1;
	}
	if (strs_not_empty(c, n, "audiences", r->audiences, r->naudiences) == -1 ||
	    strs_not_empty(c, n, "fromParams", r->from_params, r->nfrom_params) == -1 ||
	    strs_not_empty(c, n, "fromCookies", r->from_cookies, r->nfrom_cookies) == -1)
		return -1;
	if (istio_has(r->jwks_uri) && istio_has(r->jwks)) {
		sc_error(c, istio_at(n, "jwks", -1), "only one of jwksUri and jwks may be set");
		return -1;
	}
	if (istio_has(r->jwks_uri) && !jwks_uri_ok(r->jwks_uri)) {
		sc_error(c, istio_at(n, "jwksUri", -1), "\"%s\" is not an http or https URI",
		    r->jwks_uri);
		return -1;
	}
	if (istio_has(r->jwks)) {
		/* a cheap look short of jwk.Parse: a JWKS is a JSON object */
		for (j = r->jwks; *j == ' ' || *j == '\t' || *j == '\n' || *j == '\r'; j++)
			;
		if (*j != '{') {
			sc_error(c, istio_at(n, "jwks", -1), "jwks must be a JSON Web Key Set "
			    "(a JSON object)");
			return -1;
		}
	}
	return 0;
}

static const struct sc_field jwt_rule_fields[] = {
	SCF("issuer", SC_STR, struct k_ra_jwt_rule, issuer),
	SCF_LIST("audiences", struct k_ra_jwt_rule, audiences, naudiences),
	SCF("jwksUri", SC_STR, struct k_ra_jwt_rule, jwks_uri),
	SCF("jwks", SC_STR, struct k_ra_jwt_rule, jwks),
	SCF_OBJS("fromHeaders", struct k_ra_jwt_rule, from_headers, nfrom_headers,
	    &ra_header_schema),
	SCF_LIST("fromParams", struct k_ra_jwt_rule, from_params, nfrom_params),
	SCF_LIST("fromCookies", struct k_ra_jwt_rule, from_cookies, nfrom_cookies),
	SCF("forwardOriginalToken", SC_BOOL, struct k_ra_jwt_rule, forward_original_token),
	SCF("outputPayloadToHeader", SC_STR, struct k_ra_jwt_rule, output_payload_to_header),
	SCF_OBJS("outputClaimToHeaders", struct k_ra_jwt_rule, output_claim_to_headers,
	    noutput_claim_to_headers, &ra_claim_header_schema),
	SCF_FN("timeout", struct k_ra_jwt_rule, timeout_ms, ra_timeout),
	SCF_LIST("spaceDelimitedClaims", struct k_ra_jwt_rule, space_delimited_claims,
	    nspace_delimited_claims),
	SCF_END
};
static const struct sc_schema jwt_rule_schema = {
	"JWTRule", sizeof(struct k_ra_jwt_rule), jwt_rule_fields, jwt_rule_check
};

static int
ra_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	(void)obj;
	return scope_one_of(c, n);
}

static const struct sc_field ra_fields[] = {
	SCF_FN("selector", struct k_requestauthentication, selector,
	    requestauthentication_selector),
	SCF_FN("targetRef", struct k_requestauthentication, target_refs,
	    requestauthentication_target_ref),
	SCF_FN("targetRefs", struct k_requestauthentication, target_refs,
	    requestauthentication_target_refs),
	SCF_OBJS("jwtRules", struct k_requestauthentication, jwt_rules, njwt_rules,
	    &jwt_rule_schema),
	SCF_END
};
static const struct sc_schema ra_spec_schema = {
	"RequestAuthenticationSpec", sizeof(struct k_requestauthentication), ra_fields, ra_check
};
/* spec {} (or none): no JWT rules, nothing to verify */
KIND_SPEC_ONLY(requestauthentication, struct k_requestauthentication, ra_spec_schema,
    "RequestAuthentication", 0);
