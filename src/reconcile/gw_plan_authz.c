/*
 * The gateway's AuthorizationPolicies, compiled as istiod compiles them for
 * a classic ingress gateway (pilot/pkg/security/authz: builder.go,
 * model.go, generator.go):
 *
 * - which apply: policies of the gateway's namespace and of the root
 *   namespace (istio-system) whose selector matches the deployment's
 *   labels (no selector: all); policies with targetRef(s) do not attach to a classic
 *   gateway;
 * - a field or value vipgated does not support: an ALLOW rule is dropped
 *   (it allows less), a DENY rule loses only that condition (it denies
 *   more); CUSTOM without its extension provider turns its rules into DENY
 *   rules;
 * - what Istio's validation would refuse (an unknown field or when key, a
 *   policy that did not decode): the policy denies every request, since no
 *   webhook stands in front of files. Fail closed.
 *
 * Each decision that loses or changes something is a note for
 * vipgatectl analyze naming the policy and the field.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/config-t.h"
#include "vipgate/gw-authz.h"
#include "vipgate/reconcile.h"
#include "vipgate/store.h"

#include "gw-plan.h"

#define AZ_ROOT_NS	"istio-system"	/* meshConfig rootNamespace's default */

enum az_verdict {
	AZ_OK,
	AZ_UNSUPPORTED,		/* istiod's generator error: per action */
	AZ_INVALID,		/* Istio's validation refuses it: the policy is broken */
};

struct az_field_def {
	const char	*name;
	enum gw_az_attr	 attr;
	int		 negate;
};

static const struct az_field_def source_fields[] = {
	{ "principals", GW_AZ_PRINCIPAL, 0 },
	{ "notPrincipals", GW_AZ_PRINCIPAL, 1 },
	{ "requestPrincipals", GW_AZ_REQ_PRINCIPAL, 0 },
	{ "notRequestPrincipals", GW_AZ_REQ_PRINCIPAL, 1 },
	{ "namespaces", GW_AZ_NAMESPACE, 0 },
	{ "notNamespaces", GW_AZ_NAMESPACE, 1 },
	{ "ipBlocks", GW_AZ_PEER_IP, 0 },
	{ "notIpBlocks", GW_AZ_PEER_IP, 1 },
	{ "remoteIpBlocks", GW_AZ_REMOTE_IP, 0 },
	{ "notRemoteIpBlocks", GW_AZ_REMOTE_IP, 1 },
	{ "serviceAccounts", GW_AZ_PRINCIPAL, 0 },
	{ "notServiceAccounts", GW_AZ_PRINCIPAL, 1 },
	{ NULL, 0, 0 }
};

static const struct az_field_def operation_fields[] = {
	{ "hosts", GW_AZ_HOST, 0 },
	{ "notHosts", GW_AZ_HOST, 1 },
	{ "ports", GW_AZ_PORT, 0 },
	{ "notPorts", GW_AZ_PORT, 1 },
	{ "methods", GW_AZ_METHOD, 0 },
	{ "notMethods", GW_AZ_METHOD, 1 },
	{ "paths", GW_AZ_PATH, 0 },
	{ "notPaths", GW_AZ_PATH, 1 },
	{ NULL, 0, 0 }
};

/* One value of an attribute; AZ_UNSUPPORTED with why when it cannot be one. */
static enum az_verdict
az_value(struct plan *p, enum gw_az_attr attr, const char *field, const char *s,
    struct gw_az_value *v, char *why, size_t wl)
{
	memset(v, 0, sizeof(*v));
	switch (attr) {
	case GW_AZ_PEER_IP:
	case GW_AZ_REMOTE_IP:
	case GW_AZ_DEST_IP:
		v->op = GW_AZ_CIDR;
		if (strchr(s, '/') == NULL) {
			if (ipaddr_parse(s, &v->net) == -1)
				goto bad_ip;
			v->plen = v->net.family == AF_INET ? 32 : 128;
		} else if (ipaddr_parse_cidr(s, &v->net, &v->plen, 1) == -1)
			goto bad_ip;
		return AZ_OK;
	case GW_AZ_PORT: {
		char *end;
		long n = strtol(s, &end, 10);

		if (*s == '\0' || *end != '\0' || n < 0 || n > 65535) {
			snprintf(why, wl, "%s: \"%s\" is not a port number", field, s);
			return AZ_UNSUPPORTED;
		}
		v->op = GW_AZ_PORTNUM;
		v->port = (uint32_t)n;
		return AZ_OK;
	}
	case GW_AZ_PATH:
		if (strchr(s, '{') != NULL) {
			/* Istio's {*} and {**} templates: not matched by vipgated */
			snprintf(why, wl, "%s: path template \"%s\" is not supported", field, s);
			return AZ_UNSUPPORTED;
		}
		break;
	default:
		break;
	}
	gw_az_value_str(v, arena_strdup(p->a, s));
	if (v->op != GW_AZ_PRESENT)
		v->s = arena_strndup(p->a, v->s, v->len);
	return AZ_OK;
bad_ip:
	snprintf(why, wl, "%s: \"%s\" is not an IP address or CIDR block", field, s);
	return AZ_UNSUPPORTED;
}

/*
 * serviceAccounts "ns/sa": the principal of any trust domain ending in
 * /ns/<ns>/sa/<sa>.
 */
static enum az_verdict
az_service_account(struct plan *p, const char *field, const char *s, struct gw_az_value *v,
    char *why, size_t wl)
{
	const char *slash = strchr(s, '/');
	char buf[512];

	if (slash == NULL || slash == s || slash[1] == '\0' || strchr(slash + 1, '/')) {
		snprintf(why, wl, "%s: \"%s\" is not <namespace>/<service account>", field, s);
		return AZ_UNSUPPORTED;
	}
	snprintf(buf, sizeof(buf), "/ns/%.*s/sa/%s", (int)(slash - s), s, slash + 1);
	memset(v, 0, sizeof(*v));
	v->op = GW_AZ_SUFFIX;
	v->s = arena_strdup(p->a, buf);
	v->len = strlen(buf);
	return AZ_OK;
}

/*
 * A condition from a field's values. For a DENY policy a bad value is
 * dropped alone (Istio's checkError ignores it there); for ALLOW it fails
 * the condition. A condition left with no value never matches, as Envoy's
 * empty or-matcher.
 */
static enum az_verdict
az_cond(struct plan *p, enum gw_az_attr attr, int negate, const char *arg, const char *field,
    const char *const *vals, size_t nvals, int deny, struct gw_az_cond *c, char *why, size_t wl)
{
	size_t i;
	int sa = strstr(field, "erviceAccounts") != NULL;

	memset(c, 0, sizeof(*c));
	c->attr = attr;
	c->negate = negate;
	c->arg = arg;
	c->v = arena_alloc(p->a, sizeof(*c->v) * (nvals ? nvals : 1));
	for (i = 0; i < nvals; i++) {
		enum az_verdict r = sa ? az_service_account(p, field, vals[i], &c->v[c->n], why, wl) :
		    az_value(p, attr, field, vals[i], &c->v[c->n], why, wl);

		if (r == AZ_OK)
			c->n++;
		else if (!deny)
			return r;
	}
	if (nvals && c->n == 0)
		return AZ_UNSUPPORTED;	/* every value was dropped: the condition goes */
	return AZ_OK;
}

static const struct az_field_def *
field_def(const struct az_field_def *defs, const char *name)
{
	for (; defs->name; defs++)
		if (strcmp(defs->name, name) == 0)
			return defs;
	return NULL;
}

/* A source or an operation: its fields, all of which must hold. */
static enum az_verdict
az_match(struct plan *p, const struct object *o, const struct k_ap_match *m,
    const struct az_field_def *defs, const char *what, int deny, struct gw_az_all *out,
    char *why, size_t wl)
{
	size_t i;

	out->c = arena_alloc(p->a, sizeof(*out->c) * (m->nfields ? m->nfields : 1));
	out->n = 0;
	for (i = 0; i < m->nfields; i++) {
		const struct k_ap_field *f = &m->fields[i];
		const struct az_field_def *d = field_def(defs, f->name);
		enum az_verdict r;

		if (d == NULL) {
			snprintf(why, wl, "line %u: %s has no field \"%s\"", f->line, what, f->name);
			return AZ_INVALID;
		}
		r = az_cond(p, d->attr, d->negate, NULL, f->name, f->values, f->nvalues, deny,
		    &out->c[out->n], why, wl);
		if (r == AZ_OK) {
			out->n++;
			continue;
		}
		if (!deny)
			return r;
		gwp_note(p, o, "line %u: %s; the condition is dropped, so the rule denies more "
		    "(as istiod does for DENY)", f->line, why);
	}
	return AZ_OK;
}

/* "request.auth.claims[a][b]": the path "a.b"; NULL when it is not well formed. */
static const char *
claim_path(struct plan *p, const char *key)
{
	const char *s = key + strlen("request.auth.claims");
	char buf[512];
	size_t n = 0;

	if (*s != '[')
		return NULL;
	while (*s == '[') {
		const char *e = strchr(s, ']');

		if (e == NULL || e == s + 1 || n + (size_t)(e - s) + 1 >= sizeof(buf))
			return NULL;
		if (n)
			buf[n++] = '.';
		memcpy(buf + n, s + 1, (size_t)(e - s - 1));
		n += (size_t)(e - s - 1);
		s = e + 1;
	}
	if (*s != '\0')
		return NULL;
	buf[n] = '\0';
	return arena_strdup(p->a, buf);
}

/* The attribute of a when key (Istio's documented conditions). */
static enum az_verdict
when_key(struct plan *p, const char *key, enum gw_az_attr *attr, const char **arg, char *why,
    size_t wl)
{
	static const struct { const char *key; enum gw_az_attr attr; } keys[] = {
		{ "source.ip", GW_AZ_PEER_IP },
		{ "remote.ip", GW_AZ_REMOTE_IP },
		{ "source.namespace", GW_AZ_NAMESPACE },
		{ "source.principal", GW_AZ_PRINCIPAL },
		{ "request.auth.principal", GW_AZ_REQ_PRINCIPAL },
		{ "request.auth.audiences", GW_AZ_AUDIENCE },
		{ "request.auth.presenter", GW_AZ_PRESENTER },
		{ "destination.ip", GW_AZ_DEST_IP },
		{ "destination.port", GW_AZ_PORT },
		{ "connection.sni", GW_AZ_SNI },
	};
	size_t i, len = strlen(key);

	*arg = NULL;
	for (i = 0; i < VG_ARRAY_SIZE(keys); i++)
		if (strcmp(key, keys[i].key) == 0) {
			*attr = keys[i].attr;
			return AZ_OK;
		}
	if (strncmp(key, "request.headers[", 16) == 0 && len > 17 && key[len - 1] == ']' &&
	    memchr(key + 16, ']', len - 17) == NULL) {
		*attr = GW_AZ_HEADER;
		*arg = arena_strndup(p->a, key + 16, len - 17);
		return AZ_OK;
	}
	if (strncmp(key, "request.auth.claims", 19) == 0) {
		if ((*arg = claim_path(p, key)) == NULL) {
			snprintf(why, wl, "when key \"%s\" is not request.auth.claims[name]...", key);
			return AZ_INVALID;
		}
		*attr = GW_AZ_CLAIM;
		return AZ_OK;
	}
	if (strncmp(key, "experimental.envoy.filters.", 27) == 0 ||
	    strcmp(key, "source.serviceAccount") == 0) {
		snprintf(why, wl, "when key \"%s\" is not supported by vipgated", key);
		return AZ_UNSUPPORTED;
	}
	snprintf(why, wl, "when key \"%s\" is not one Istio knows", key);
	return AZ_INVALID;
}

/* A rule's when list: values and notValues of each key, all of them holding. */
static enum az_verdict
az_when(struct plan *p, const struct object *o, const struct k_ap_rule *ru, int deny,
    struct gw_az_all *out, char *why, size_t wl)
{
	size_t i;

	out->c = arena_alloc(p->a, sizeof(*out->c) * (2 * ru->nwhen + 1));
	out->n = 0;
	for (i = 0; i < ru->nwhen; i++) {
		const struct k_ap_cond *w = &ru->when[i];
		enum gw_az_attr attr;
		const char *arg;
		enum az_verdict r = when_key(p, w->key, &attr, &arg, why, wl);

		if (r == AZ_OK && w->nvalues)
			r = az_cond(p, attr, 0, arg, w->key, w->values, w->nvalues, deny,
			    &out->c[out->n], why, wl);
		if (r == AZ_OK && w->nvalues)
			out->n++;
		if (r == AZ_OK && w->nnot_values)
			r = az_cond(p, attr, 1, arg, w->key, w->not_values, w->nnot_values, deny,
			    &out->c[out->n], why, wl);
		if (r == AZ_OK && w->nnot_values)
			out->n++;
		if (r == AZ_OK)
			continue;
		if (r == AZ_INVALID || !deny)
			return r;
		gwp_note(p, o, "line %u: %s; the condition is dropped, so the rule denies more "
		    "(as istiod does for DENY)", w->line, why);
	}
	return AZ_OK;
}

/* One rule; AZ_UNSUPPORTED drops it (ALLOW), AZ_INVALID breaks the policy. */
static enum az_verdict
az_rule(struct plan *p, const struct object *o, const struct k_ap_rule *ru, int deny,
    struct gw_az_rule *out, char *why, size_t wl)
{
	enum az_verdict r;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->from = arena_alloc(p->a, sizeof(*out->from) * (ru->nfrom ? ru->nfrom : 1));
	out->to = arena_alloc(p->a, sizeof(*out->to) * (ru->nto ? ru->nto : 1));
	for (i = 0; i < ru->nfrom; i++) {
		r = az_match(p, o, &ru->from[i], source_fields, "from.source", deny, &out->from[i],
		    why, wl);
		if (r != AZ_OK)
			return r;
	}
	out->nfrom = ru->nfrom;
	for (i = 0; i < ru->nto; i++) {
		r = az_match(p, o, &ru->to[i], operation_fields, "to.operation", deny, &out->to[i],
		    why, wl);
		if (r != AZ_OK)
			return r;
	}
	out->nto = ru->nto;
	return az_when(p, o, ru, deny, &out->when, why, wl);
}

static int
selector_matches(const struct strmap *sel, const struct strmap *labels)
{
	size_t i;

	for (i = 0; i < sel->n; i++) {
		const char *v = strmap_get(labels, sel->k[i]);

		if (v == NULL || strcmp(v, sel->v[i]) != 0)
			return 0;
	}
	return 1;
}

/*
 * Whether a security policy attaches to this gateway (Istio's
 * ListAuthorizationPolicies and isSelected, the same for
 * RequestAuthentication): its namespace or the root namespace, its
 * selector matching the deployment's labels (gateway.labels, or each of
 * gateway.deployments); targetRef(s) attach only to Gateway API gateways.
 */
static int
sec_applies(struct plan *p, const struct object *o, const struct strmap *selector,
    size_t ntarget_refs)
{
	const struct cfg_gateway *g = &p->cfg->gateway;

	if (strcmp(o->meta.ns, g->ns) != 0 && strcmp(o->meta.ns, AZ_ROOT_NS) != 0)
		return 0;
	if (ntarget_refs) {
		gwp_note(p, o, "targetRef(s) name a Gateway API resource: the policy does not "
		    "attach to this gateway, which is selected by its labels");
		return 0;
	}
	return selector_matches(selector, p->labels);
}

/* The attributes a list of conditions looks at, as bits (gw_authz.attrs). */
static uint32_t
az_attrs(const struct gw_az_all *a, size_t n)
{
	uint32_t m = 0;
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < a[i].n; j++)
			m |= 1u << a[i].c[j].attr;
	return m;
}

/* The policies of a list as one array; *attrs gains what they look at. */
static struct gw_az_policy *
az_flatten(struct plan *p, struct vg_ptrvec *v, size_t *n, uint32_t *attrs)
{
	struct gw_az_policy *out = arena_alloc(p->a, sizeof(*out) * (v->n ? v->n : 1));
	size_t i, r;

	for (i = 0; i < v->n; i++) {
		out[i] = *(struct gw_az_policy *)v->v[i];
		for (r = 0; r < out[i].nrules; r++)
			*attrs |= az_attrs(out[i].rules[r].from, out[i].rules[r].nfrom) |
			    az_attrs(out[i].rules[r].to, out[i].rules[r].nto) |
			    az_attrs(&out[i].rules[r].when, 1);
	}
	*n = v->n;
	ptrvec_free(v);
	return out;
}

/* One policy into its list (deny, allow or audit); broken ones deny everything. */
static void
az_policy(struct plan *p, const struct object *o, const struct k_authorizationpolicy *ap,
    struct vg_ptrvec *deny, struct vg_ptrvec *allow, struct vg_ptrvec *audit, int *enforce_allow)
{
	struct gw_az_policy *pol = arena_alloc(p->a, sizeof(*pol));
	char name[512], why[768];
	int is_deny;
	size_t i;

	snprintf(name, sizeof(name), "%s/%s", o->meta.ns, o->meta.name);
	memset(pol, 0, sizeof(*pol));
	pol->name = arena_strdup(p->a, name);
	if (ap->broken) {
		gwp_note(p, o, "did not decode (%s): it denies every request until it is fixed",
		    ap->broken_why ? ap->broken_why : "?");
		pol->action = GW_AZ_DENY;
		pol->match_all = 1;
		ptrvec_push(deny, pol);
		return;
	}
	switch (ap->action) {
	case K_AP_ALLOW:
		pol->action = GW_AZ_ALLOW;
		break;
	case K_AP_DENY:
		pol->action = GW_AZ_DENY;
		break;
	case K_AP_AUDIT:
		pol->action = GW_AZ_AUDIT;
		break;
	case K_AP_CUSTOM:
		gwp_note(p, o, "action CUSTOM: extension provider \"%s\" is not configured "
		    "(vipgated has none), so its rules deny, as istiod does",
		    ap->provider ? ap->provider : "");
		pol->action = GW_AZ_DENY;
		break;
	}
	is_deny = pol->action != GW_AZ_ALLOW;
	pol->rules = arena_alloc(p->a, sizeof(*pol->rules) * (ap->nrules ? ap->nrules : 1));
	for (i = 0; i < ap->nrules; i++) {
		enum az_verdict r = az_rule(p, o, &ap->rules[i], is_deny, &pol->rules[pol->nrules],
		    why, sizeof(why));

		if (r == AZ_OK) {
			pol->nrules++;
			continue;
		}
		if (r == AZ_INVALID) {
			gwp_note(p, o, "rule %zu: %s (Istio's validation refuses it): the policy "
			    "denies every request until it is fixed", i, why);
			pol->action = GW_AZ_DENY;
			pol->match_all = 1;
			ptrvec_push(deny, pol);
			return;
		}
		gwp_note(p, o, "rule %zu: %s; the ALLOW rule is dropped, so it allows less "
		    "(as istiod does)", i, why);
	}
	if (pol->action == GW_AZ_ALLOW) {
		*enforce_allow = 1;
		ptrvec_push(allow, pol);
	} else if (pol->action == GW_AZ_DENY)
		ptrvec_push(deny, pol);
	else
		ptrvec_push(audit, pol);
}

void
gwp_authz(struct plan *p, struct gw_deploy *g)
{
	struct object * const *aps;
	struct vg_ptrvec deny = { 0 }, allow = { 0 }, audit = { 0 };
	struct gw_authz *az;
	size_t n, i;
	int enforce_allow = 0;

	aps = store_list(p->st, K_AUTHORIZATIONPOLICY, &n);
	for (i = 0; i < n; i++) {
		const struct object *o = aps[i];
		const struct k_authorizationpolicy *ap = o->spec;
		const char *dry = strmap_get(&o->meta.annotations, "istio.io/dry-run");

		if (!sec_applies(p, o, &ap->selector, ap->ntarget_refs))
			continue;
		if (dry && strcmp(dry, "true") == 0 && !ap->broken) {
			gwp_note(p, o, "istio.io/dry-run: evaluated by nobody, enforced by nobody "
			    "(shadow rules are not kept by vipgated)");
			continue;
		}
		az_policy(p, o, ap, &deny, &allow, &audit, &enforce_allow);
	}
	if (deny.n + allow.n + audit.n == 0 && !enforce_allow) {
		ptrvec_free(&deny);
		ptrvec_free(&allow);
		ptrvec_free(&audit);
		g->authz = NULL;
		return;
	}
	az = arena_alloc(p->a, sizeof(*az));
	memset(az, 0, sizeof(*az));
	az->deny = az_flatten(p, &deny, &az->ndeny, &az->attrs);
	az->allow = az_flatten(p, &allow, &az->nallow, &az->attrs);
	az->audit = az_flatten(p, &audit, &az->naudit, &az->attrs);
	az->enforce_allow = enforce_allow;
	g->authz = az;
}

/* The token locations of a jwtRule: its own, or Envoy's default (Authorization: Bearer, access_token). */
static void
ra_locs(struct plan *p, const struct k_ra_jwt_rule *r, struct gw_jwt_provider *jp)
{
	size_t i, n = r->nfrom_headers + r->nfrom_params + r->nfrom_cookies;

	if (n == 0) {
		jp->locs = arena_alloc(p->a, sizeof(*jp->locs) * 2);
		jp->locs[0] = (struct gw_jwt_loc){ GW_JWT_LOC_HEADER, "authorization", "Bearer " };
		jp->locs[1] = (struct gw_jwt_loc){ GW_JWT_LOC_PARAM, "access_token", "" };
		jp->nlocs = 2;
		return;
	}
	jp->locs = arena_alloc(p->a, sizeof(*jp->locs) * n);
	for (i = 0; i < r->nfrom_headers; i++)
		jp->locs[jp->nlocs++] = (struct gw_jwt_loc){ GW_JWT_LOC_HEADER,
		    gwp_lower_dup(p->a, r->from_headers[i].name),
		    r->from_headers[i].prefix ? r->from_headers[i].prefix : "" };
	for (i = 0; i < r->nfrom_params; i++)
		jp->locs[jp->nlocs++] = (struct gw_jwt_loc){ GW_JWT_LOC_PARAM, r->from_params[i], "" };
	for (i = 0; i < r->nfrom_cookies; i++)
		jp->locs[jp->nlocs++] = (struct gw_jwt_loc){ GW_JWT_LOC_COOKIE, r->from_cookies[i], "" };
}

/* One jwtRules entry as a provider. */
static void
ra_provider(struct plan *p, const struct object *o, const struct k_ra_jwt_rule *r,
    struct gw_jwt_provider *jp, const char *name)
{
	size_t i;

	memset(jp, 0, sizeof(*jp));
	jp->policy = name;
	jp->issuer = r->issuer;
	jp->audiences = r->audiences;
	jp->naudiences = r->naudiences;
	jp->jwks = r->jwks;
	jp->jwks_uri = r->jwks_uri;
	jp->fetch_timeout_ms = r->timeout_ms > 0 ? r->timeout_ms : 5000;
	ra_locs(p, r, jp);
	jp->forward = r->forward_original_token;
	jp->payload_header = r->output_payload_to_header;
	jp->claim_hdrs = arena_alloc(p->a, sizeof(*jp->claim_hdrs) *
	    (r->noutput_claim_to_headers ? r->noutput_claim_to_headers : 1));
	for (i = 0; i < r->noutput_claim_to_headers; i++) {
		jp->claim_hdrs[i].header = gwp_lower_dup(p->a, r->output_claim_to_headers[i].header);
		jp->claim_hdrs[i].claim = r->output_claim_to_headers[i].claim;
	}
	jp->nclaim_hdrs = r->noutput_claim_to_headers;
	jp->space_claims = r->space_delimited_claims;
	jp->nspace_claims = r->nspace_delimited_claims;
	if (r->jwks == NULL && r->jwks_uri == NULL)
		gwp_note(p, o, "issuer %s has neither jwks nor jwksUri: its tokens fail "
		    "(istiod would look the keys up by OIDC discovery)", r->issuer);
}

void
gwp_reqauthn(struct plan *p, struct gw_deploy *g)
{
	struct object * const *ras;
	struct vg_ptrvec v = { 0 };
	struct gw_reqauthn *out;
	size_t n, i, j;

	ras = store_list(p->st, K_REQUESTAUTHENTICATION, &n);
	for (i = 0; i < n; i++) {
		const struct object *o = ras[i];
		const struct k_requestauthentication *ra = o->spec;
		char name[512];

		if (!sec_applies(p, o, &ra->selector, ra->ntarget_refs))
			continue;
		snprintf(name, sizeof(name), "%s/%s", o->meta.ns, o->meta.name);
		if (ra->broken) {
			/* every token is refused; requests without one still pass, as with a
			 * JWKS istiod could not fetch */
			struct gw_jwt_provider *jp = arena_alloc(p->a, sizeof(*jp));

			gwp_note(p, o, "did not decode (%s): every token is refused until it is "
			    "fixed", ra->broken_why ? ra->broken_why : "?");
			memset(jp, 0, sizeof(*jp));
			jp->policy = arena_strdup(p->a, name);
			jp->broken = 1;
			jp->issuer = "";
			jp->locs = arena_alloc(p->a, sizeof(*jp->locs) * 2);
			jp->locs[0] = (struct gw_jwt_loc){ GW_JWT_LOC_HEADER, "authorization", "Bearer " };
			jp->locs[1] = (struct gw_jwt_loc){ GW_JWT_LOC_PARAM, "access_token", "" };
			jp->nlocs = 2;
			ptrvec_push(&v, jp);
			continue;
		}
		for (j = 0; j < ra->njwt_rules; j++) {
			struct gw_jwt_provider *jp = arena_alloc(p->a, sizeof(*jp));

			ra_provider(p, o, &ra->jwt_rules[j], jp, arena_strdup(p->a, name));
			ptrvec_push(&v, jp);
		}
	}
	if (v.n == 0) {
		ptrvec_free(&v);
		g->reqauthn = NULL;
		return;
	}
	out = arena_alloc(p->a, sizeof(*out));
	out->p = arena_alloc(p->a, sizeof(*out->p) * v.n);
	for (i = 0; i < v.n; i++)
		out->p[i] = *(struct gw_jwt_provider *)v.v[i];
	out->n = v.n;
	ptrvec_free(&v);
	g->reqauthn = out;
}
