/*
 * AuthorizationPolicy and RequestAuthentication: the fields as decoded, every
 * check's message and line, and fail closed: a policy that does not decode
 * is kept broken, with what could be read of its scope, by the decoder and
 * by both sources.
 */
#include "config.h"

#include <unistd.h>

#include "cu.h"
#include "vipgate/source.h"
#include "vipgate/source-kube.h"
#include "vipgate/store.h"

#define SEC "security.istio.io/v1"
#define AP "AuthorizationPolicy"
#define RA "RequestAuthentication"

/* One object of kind/apiVersion; spec body lines start at line 5. */
static char *
doc(const char *apiv, const char *kind, const char *body)
{
	char *s;

	xasprintf(&s, "apiVersion: %s\nkind: %s\nmetadata: {name: t, namespace: ns1}\n"
	    "spec:\n%s", apiv, kind, body);
	return s;
}

struct fixture {
	struct vg_errs		errs;
	struct decoded_list	out;
};

static void
fixture_free(struct fixture *f)
{
	decoded_list_free(&f->out);
	errs_clear(&f->errs);
}

/* Decode and expect exactly one object, without errors or warnings, not broken. */
static const void *
decode_good(struct fixture *f, const char *apiv, const char *kind, const char *body)
{
	char *y = doc(apiv, kind, body);

	memset(f, 0, sizeof(*f));
	cu_decode(y, &f->errs, &f->out);
	free(y);
	if (f->errs.n)
		errs_print(&f->errs, stderr);
	CU_ASSERT_EQUAL(f->errs.n, 0);
	CU_ASSERT_EQUAL_FATAL(f->out.n, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->out.v[0].obj);
	CU_ASSERT_FALSE(f->out.v[0].failed);
	return f->out.v[0].obj->spec;
}

static int
field_is(const struct k_ap_field *f, const char *name, uint32_t line, uint32_t col,
    size_t n, const char *v0)
{
	int ok = strcmp(f->name, name) == 0 && f->line == line && f->col == col &&
	    f->nvalues == n && (v0 == NULL || strcmp(f->values[0], v0) == 0);

	if (!ok)
		fprintf(stderr, "\nfield %s %u:%u (%zu values, %s): want %s %u:%u (%zu, %s)\n",
		    f->name, f->line, f->col, f->nvalues, f->nvalues ? f->values[0] : "-",
		    name, line, col, n, v0 ? v0 : "-");
	return ok;
}

/* ---- AuthorizationPolicy: what decodes ---- */

static void
test_ap_fields(void)
{
	struct fixture f;
	const struct k_authorizationpolicy *p = decode_good(&f, SEC, AP,
	    "  selector:\n"				/* 5 */
	    "    matchLabels: {app: web}\n"
	    "  action: DENY\n"
	    "  rules:\n"
	    "  - from:\n"				/* 9 */
	    "    - source:\n"
	    "        principals: [cluster.local/ns/a/sa/b]\n"	/* 11 */
	    "        notIpBlocks: [10.0.0.0/8, 192.168.1.1]\n"
	    "        sourceLabelz: [typo]\n"
	    "        requestPrincipals: []\n"		/* unset */
	    "        namespaces:\n"			/* unset */
	    "    - source: {remoteIpBlocks: [1.2.3.4]}\n"	/* 16 */
	    "    to:\n"
	    "    - operation:\n"
	    "        methods: [GET, POST]\n"		/* 19 */
	    "        paths: [\"/admin*\"]\n"
	    "        ports: [\"8080\"]\n"
	    "    when:\n"
	    "    - key: request.headers[x-token]\n"	/* 23 */
	    "      values: [a]\n"
	    "      notValues: [b, c]\n"
	    "    - key: source.ip\n"			/* 26 */
	    "      notValues: [10.1.0.0/16]\n"
	    "  - {}\n");				/* 28 */
	const struct k_ap_rule *r;

	CU_ASSERT_EQUAL(f.out.v[0].obj->kind, K_AUTHORIZATIONPOLICY);
	CU_ASSERT_STRING_EQUAL(f.out.v[0].obj->api_version, SEC);
	CU_ASSERT_TRUE(p->has_selector);
	CU_ASSERT_EQUAL(p->selector.n, 1);
	CU_ASSERT_STRING_EQUAL(strmap_get(&p->selector, "app"), "web");
	CU_ASSERT_EQUAL(p->ntarget_refs, 0);
	CU_ASSERT_EQUAL(p->action, K_AP_DENY);
	CU_ASSERT_PTR_NULL(p->provider);
	CU_ASSERT_FALSE(p->broken);
	CU_ASSERT_PTR_NULL(p->broken_why);
	CU_ASSERT_EQUAL_FATAL(p->nrules, 2);
	r = &p->rules[0];
	CU_ASSERT_EQUAL(r->line, 9);
	CU_ASSERT_EQUAL(r->col, 5);
	CU_ASSERT_EQUAL_FATAL(r->nfrom, 2);
	/* in the order written, the name vipgated does not know included */
	CU_ASSERT_EQUAL_FATAL(r->from[0].nfields, 3);
	CU_ASSERT_EQUAL(r->from[0].line, 11);
	CU_ASSERT_TRUE(field_is(&r->from[0].fields[0], "principals", 11, 9, 1,
	    "cluster.local/ns/a/sa/b"));
	CU_ASSERT_TRUE(field_is(&r->from[0].fields[1], "notIpBlocks", 12, 9, 2, "10.0.0.0/8"));
	CU_ASSERT_STRING_EQUAL(r->from[0].fields[1].values[1], "192.168.1.1");
	CU_ASSERT_TRUE(field_is(&r->from[0].fields[2], "sourceLabelz", 13, 9, 1, "typo"));
	CU_ASSERT_EQUAL_FATAL(r->from[1].nfields, 1);
	CU_ASSERT_EQUAL(r->from[1].line, 16);
	CU_ASSERT_TRUE(field_is(&r->from[1].fields[0], "remoteIpBlocks", 16, 16, 1, "1.2.3.4"));
	CU_ASSERT_EQUAL_FATAL(r->nto, 1);
	CU_ASSERT_EQUAL_FATAL(r->to[0].nfields, 3);
	CU_ASSERT_TRUE(field_is(&r->to[0].fields[0], "methods", 19, 9, 2, "GET"));
	CU_ASSERT_STRING_EQUAL(r->to[0].fields[0].values[1], "POST");
	CU_ASSERT_TRUE(field_is(&r->to[0].fields[1], "paths", 20, 9, 1, "/admin*"));
	CU_ASSERT_TRUE(field_is(&r->to[0].fields[2], "ports", 21, 9, 1, "8080"));
	CU_ASSERT_EQUAL_FATAL(r->nwhen, 2);
	CU_ASSERT_STRING_EQUAL(r->when[0].key, "request.headers[x-token]");
	CU_ASSERT_EQUAL(r->when[0].line, 23);
	CU_ASSERT_EQUAL(r->when[0].col, 7);
	CU_ASSERT_EQUAL_FATAL(r->when[0].nvalues, 1);
	CU_ASSERT_STRING_EQUAL(r->when[0].values[0], "a");
	CU_ASSERT_EQUAL_FATAL(r->when[0].nnot_values, 2);
	CU_ASSERT_STRING_EQUAL(r->when[0].not_values[1], "c");
	CU_ASSERT_STRING_EQUAL(r->when[1].key, "source.ip");
	CU_ASSERT_EQUAL(r->when[1].line, 26);
	CU_ASSERT_EQUAL(r->when[1].nvalues, 0);
	CU_ASSERT_EQUAL(r->when[1].nnot_values, 1);
	/* rules: [{}]: a rule that always matches */
	r = &p->rules[1];
	CU_ASSERT_EQUAL(r->line, 28);
	CU_ASSERT_EQUAL(r->nfrom + r->nto + r->nwhen, 0);
	fixture_free(&f);
}

static void
test_ap_scope_and_actions(void)
{
	struct fixture f;
	const struct k_authorizationpolicy *p;

	/* targetRefs, CUSTOM with its provider */
	p = decode_good(&f, SEC, AP,
	    "  targetRefs:\n"
	    "  - {kind: Gateway, group: gateway.networking.k8s.io, name: gw}\n"
	    "  - {kind: Service, name: svc}\n"
	    "  action: CUSTOM\n"
	    "  provider: {name: ext-authz}\n"
	    "  rules: [{to: [{operation: {paths: [/x]}}]}]\n");
	CU_ASSERT_FALSE(p->has_selector);
	CU_ASSERT_EQUAL_FATAL(p->ntarget_refs, 2);
	CU_ASSERT_STRING_EQUAL(p->target_refs[0].kind, "Gateway");
	CU_ASSERT_STRING_EQUAL(p->target_refs[0].group, "gateway.networking.k8s.io");
	CU_ASSERT_STRING_EQUAL(p->target_refs[0].name, "gw");
	CU_ASSERT_PTR_NULL(p->target_refs[0].ns);
	CU_ASSERT_STRING_EQUAL(p->target_refs[1].kind, "Service");
	CU_ASSERT_PTR_NULL(p->target_refs[1].group);
	CU_ASSERT_STRING_EQUAL(p->target_refs[1].name, "svc");
	CU_ASSERT_EQUAL(p->action, K_AP_CUSTOM);
	CU_ASSERT_STRING_EQUAL(p->provider, "ext-authz");
	CU_ASSERT_EQUAL(p->nrules, 1);
	fixture_free(&f);

	/* targetRef, one */
	p = decode_good(&f, "security.istio.io/v1beta1", AP,
	    "  targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: gw}\n"
	    "  action: AUDIT\n"
	    "  rules: [{}]\n");
	CU_ASSERT_STRING_EQUAL(f.out.v[0].obj->api_version, "security.istio.io/v1beta1");
	CU_ASSERT_EQUAL_FATAL(p->ntarget_refs, 1);
	CU_ASSERT_STRING_EQUAL(p->target_refs[0].name, "gw");
	CU_ASSERT_EQUAL(p->action, K_AP_AUDIT);
	fixture_free(&f);

	/* {}: ALLOW with no rules, allow-nothing; an empty selector is given */
	p = decode_good(&f, SEC, AP, "  {}\n");
	CU_ASSERT_EQUAL(p->action, K_AP_ALLOW);
	CU_ASSERT_EQUAL(p->nrules, 0);
	CU_ASSERT_FALSE(p->has_selector);
	CU_ASSERT_FALSE(p->broken);
	fixture_free(&f);
	p = decode_good(&f, SEC, AP, "  selector: {}\n  action: ALLOW\n");
	CU_ASSERT_TRUE(p->has_selector);
	CU_ASSERT_EQUAL(p->selector.n, 0);
	fixture_free(&f);

	/* no spec at all: the same */
	{
		const char *y = "apiVersion: " SEC "\nkind: " AP "\nmetadata: {name: t}\n";

		memset(&f, 0, sizeof(f));
		cu_decode(y, &f.errs, &f.out);
		CU_ASSERT_EQUAL(f.errs.n, 0);
		CU_ASSERT_EQUAL_FATAL(f.out.n, 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f.out.v[0].obj);
		p = f.out.v[0].obj->spec;
		CU_ASSERT_EQUAL(p->nrules, 0);
		CU_ASSERT_FALSE(p->broken);
		fixture_free(&f);
	}

	/* DENY with no rules: valid, with Istio's warning */
	{
		char *y = doc(SEC, AP, "  action: DENY\n");

		memset(&f, 0, sizeof(f));
		cu_decode(y, &f.errs, &f.out);
		free(y);
		CU_ASSERT_EQUAL(f.errs.nerrors, 0);
		CU_ASSERT_TRUE(cu_errs_have(&f.errs, "action DENY without rules is never triggered"));
		CU_ASSERT_EQUAL_FATAL(f.out.n, 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f.out.v[0].obj);
		CU_ASSERT_FALSE(OBJ_SPEC(f.out.v[0].obj, k_authorizationpolicy)->broken);
		fixture_free(&f);
	}
}

/* ---- RequestAuthentication: what decodes ---- */

static void
test_ra_fields(void)
{
	struct fixture f;
	const struct k_requestauthentication *ra = decode_good(&f, "security.istio.io/v1beta1", RA,
	    "  selector: {matchLabels: {istio: ingressgateway}}\n"	/* 5 */
	    "  jwtRules:\n"
	    "  - issuer: https://issuer.example.com\n"		/* 7 */
	    "    audiences: [a, b]\n"
	    "    jwksUri: https://issuer.example.com/jwks\n"
	    "    fromHeaders:\n"
	    "    - {name: x-jwt, prefix: \"Bearer \"}\n"
	    "    - name: authorization\n"
	    "    fromParams: [token]\n"
	    "    fromCookies: [session, s2]\n"
	    "    forwardOriginalToken: true\n"
	    "    outputPayloadToHeader: x-payload\n"
	    "    outputClaimToHeaders:\n"
	    "    - {header: x-sub, claim: sub}\n"
	    "    - {header: x-org, claim: org.name}\n"
	    "    timeout: 2s\n"
	    "    spaceDelimitedClaims: [scope2, perms]\n"
	    "  - issuer: other\n"					/* 22 */
	    "    jwks: '{\"keys\": []}'\n");
	const struct k_ra_jwt_rule *j;

	CU_ASSERT_EQUAL(f.out.v[0].obj->kind, K_REQUESTAUTHENTICATION);
	CU_ASSERT_TRUE(ra->has_selector);
	CU_ASSERT_STRING_EQUAL(strmap_get(&ra->selector, "istio"), "ingressgateway");
	CU_ASSERT_EQUAL(ra->ntarget_refs, 0);
	CU_ASSERT_FALSE(ra->broken);
	CU_ASSERT_EQUAL_FATAL(ra->njwt_rules, 2);
	j = &ra->jwt_rules[0];
	CU_ASSERT_EQUAL(j->line, 7);
	CU_ASSERT_EQUAL(j->col, 5);
	CU_ASSERT_STRING_EQUAL(j->issuer, "https://issuer.example.com");
	CU_ASSERT_EQUAL_FATAL(j->naudiences, 2);
	CU_ASSERT_STRING_EQUAL(j->audiences[1], "b");
	CU_ASSERT_STRING_EQUAL(j->jwks_uri, "https://issuer.example.com/jwks");
	CU_ASSERT_PTR_NULL(j->jwks);
	CU_ASSERT_EQUAL_FATAL(j->nfrom_headers, 2);
	CU_ASSERT_STRING_EQUAL(j->from_headers[0].name, "x-jwt");
	CU_ASSERT_STRING_EQUAL(j->from_headers[0].prefix, "Bearer ");
	CU_ASSERT_STRING_EQUAL(j->from_headers[1].name, "authorization");
	CU_ASSERT_PTR_NULL(j->from_headers[1].prefix);
	CU_ASSERT_EQUAL_FATAL(j->nfrom_params, 1);
	CU_ASSERT_STRING_EQUAL(j->from_params[0], "token");
	CU_ASSERT_EQUAL_FATAL(j->nfrom_cookies, 2);
	CU_ASSERT_STRING_EQUAL(j->from_cookies[1], "s2");
	CU_ASSERT_EQUAL(j->forward_original_token, 1);
	CU_ASSERT_STRING_EQUAL(j->output_payload_to_header, "x-payload");
	CU_ASSERT_EQUAL_FATAL(j->noutput_claim_to_headers, 2);
	CU_ASSERT_STRING_EQUAL(j->output_claim_to_headers[0].header, "x-sub");
	CU_ASSERT_STRING_EQUAL(j->output_claim_to_headers[0].claim, "sub");
	CU_ASSERT_STRING_EQUAL(j->output_claim_to_headers[1].claim, "org.name");
	CU_ASSERT_EQUAL(j->timeout_ms, 2000);
	CU_ASSERT_EQUAL_FATAL(j->nspace_delimited_claims, 2);
	CU_ASSERT_STRING_EQUAL(j->space_delimited_claims[1], "perms");
	/* defaults */
	j = &ra->jwt_rules[1];
	CU_ASSERT_EQUAL(j->line, 22);
	CU_ASSERT_STRING_EQUAL(j->issuer, "other");
	CU_ASSERT_STRING_EQUAL(j->jwks, "{\"keys\": []}");
	CU_ASSERT_PTR_NULL(j->jwks_uri);
	CU_ASSERT_EQUAL(j->naudiences + j->nfrom_headers + j->nfrom_params + j->nfrom_cookies, 0);
	CU_ASSERT_EQUAL(j->forward_original_token, 0);
	CU_ASSERT_EQUAL(j->timeout_ms, 0);
	CU_ASSERT_PTR_NULL(j->output_payload_to_header);
	fixture_free(&f);

	/* targetRefs; no rules */
	ra = decode_good(&f, SEC, RA,
	    "  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]\n");
	CU_ASSERT_EQUAL_FATAL(ra->ntarget_refs, 1);
	CU_ASSERT_STRING_EQUAL(ra->target_refs[0].name, "gw");
	CU_ASSERT_EQUAL(ra->njwt_rules, 0);
	fixture_free(&f);
}

/* ---- errors: each at its line, and the object kept broken ---- */

struct err_case {
	const char	*kind;
	const char	*body;		/* spec lines, the first is line 5 */
	const char	*needle;
	int		 line;
	const char	*app;		/* selector matchLabels app kept, or NULL: none */
	size_t		 ntarget_refs;	/* kept */
};

#define SEL "  selector: {matchLabels: {app: web}}\n"	/* line 5 */
#define GW_REF "{kind: Gateway, group: gateway.networking.k8s.io, name: gw}"

static const struct err_case err_cases[] = {
	/* AuthorizationPolicy: action and provider */
	{ AP, SEL "  action: MAYBE\n",
	    "\"MAYBE\" is not one of ALLOW, DENY, AUDIT or CUSTOM", 6, "web", 0 },
	{ AP, SEL "  provider: {name: ext}\n  rules: [{}]\n",
	    "provider is only allowed with action CUSTOM", 6, "web", 0 },
	{ AP, SEL "  action: CUSTOM\n  rules: [{}]\n",
	    "action CUSTOM needs provider.name", 5, "web", 0 },
	{ AP, SEL "  action: CUSTOM\n  provider: {name: ''}\n  rules: [{}]\n",
	    "action CUSTOM needs provider.name", 7, "web", 0 },
	{ AP, SEL "  action: CUSTOM\n  provider: {name: ext}\n",
	    "action CUSTOM without rules is never triggered", 5, "web", 0 },
	{ AP, SEL "  action: CUSTOM\n  provider: {name: ext}\n  rules:\n"
	    "  - from: [{source: {principals: [a]}}]\n",
	    "from.source.principals is not supported with action CUSTOM", 9, "web", 0 },
	{ AP, SEL "  action: CUSTOM\n  provider: {name: ext}\n  rules:\n"
	    "  - when:\n    - {key: 'request.auth.claims[iss]', values: [a]}\n",
	    "when key request.auth.claims[iss] is not supported with action CUSTOM", 10, "web", 0 },
	/* scope */
	{ AP, SEL "  targetRefs: [" GW_REF "]\n",
	    "only one of selector, targetRef and targetRefs may be set", 6, "web", 1 },
	{ AP, "  targetRef: " GW_REF "\n  targetRefs: [" GW_REF "]\n",
	    "only one of selector, targetRef and targetRefs may be set", 6, NULL, 2 },
	{ AP, "  targetRefs:\n"
	    "  - " GW_REF "\n  - " GW_REF "\n  - " GW_REF "\n  - " GW_REF "\n"
	    "  - " GW_REF "\n  - " GW_REF "\n  - " GW_REF "\n  - " GW_REF "\n"
	    "  - " GW_REF "\n  - " GW_REF "\n  - " GW_REF "\n  - " GW_REF "\n"
	    "  - " GW_REF "\n  - " GW_REF "\n  - " GW_REF "\n  - " GW_REF "\n"
	    "  - " GW_REF "\n",
	    "targetRefs holds at most 16 entries", 22, NULL, 0 },
	{ AP, SEL "  targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: gw, "
	    "namespace: other}\n",
	    "namespace must not be set", 6, "web", 0 },
	{ AP, "  targetRefs:\n  - " GW_REF "\n  - {kind: Pod, name: p}\n",
	    "core/Pod is not one of Service", 7, NULL, 0 },
	{ AP, "  targetRef: {kind: Gateway, group: gateway.networking.k8s.io}\n  rules: [{}]\n",
	    "targetRef.name: is required", 5, NULL, 0 },
	{ AP, "  selector: {matchLabels: {app: 'web*'}}\n  rules: [{}]\n",
	    "app: a wildcard is not supported in a selector", 5, NULL, 0 },
	{ AP, "  selector: [app]\n  targetRef: " GW_REF "\n",
	    "must be a map, not a list", 5, NULL, 1 },
	/* rules, sources, operations */
	{ AP, SEL "  rules:\n  - from:\n    - source:\n        principals: a\n",
	    "from[0].source.principals: must be a list of strings, not a scalar", 9, "web", 0 },
	{ AP, SEL "  rules:\n  - to:\n    - operation:\n        methods: [GET, {a: b}]\n",
	    "to[0].operation.methods[1]: must be a string, not a map", 9, "web", 0 },
	{ AP, SEL "  rules:\n  - to:\n    - operation:\n        paths: [\"\"]\n",
	    "an empty value is not allowed", 9, "web", 0 },
	{ AP, SEL "  rules:\n  - to:\n    - operation:\n        paths: [/a]\n        paths: [/b]\n",
	    "paths: given twice (line 9)", 10, "web", 0 },
	{ AP, SEL "  rules:\n  - from: []\n",
	    "rules[0].from: must not be empty when given", 7, "web", 0 },
	{ AP, SEL "  rules:\n  - from:\n    - source: {}\n",
	    "from[0].source: must not be empty", 8, "web", 0 },
	{ AP, SEL "  rules:\n  - from:\n    - source: {principals: []}\n",
	    "from[0].source: must not be empty", 8, "web", 0 },
	{ AP, SEL "  rules:\n  - from:\n    - {}\n",
	    "from[0]: source is required", 8, "web", 0 },
	{ AP, SEL "  rules:\n  - to:\n    - operation:\n",
	    "to[0]: operation is required", 8, "web", 0 },
	{ AP, SEL "  rules:\n  -\n",
	    "rules[0]: must be a map, not null", 7, "web", 0 },
	{ AP, SEL "  rules:\n  - from:\n    - source:\n        ipBlocks: [10.0.0.0/33]\n",
	    "\"10.0.0.0/33\" is not an IP address or CIDR", 9, "web", 0 },
	{ AP, SEL "  rules:\n  - to:\n    - operation:\n        notPorts: [\"80\", \"65536\"]\n",
	    "\"65536\" is not a port number 0-65535", 9, "web", 0 },
	{ AP, SEL "  rules:\n  - from:\n    - source:\n        principals: [a]\n"
	    "        serviceAccounts: [ns/sa]\n",
	    "serviceAccounts cannot be set with namespaces or principals", 9, "web", 0 },
	{ AP, SEL "  rules:\n  - when:\n    - key: source.ip\n",
	    "at least one of values or notValues must be set for key source.ip", 8, "web", 0 },
	{ AP, SEL "  rules:\n  - when:\n    - {key: '', values: [a]}\n",
	    "key must not be empty", 8, "web", 0 },
	{ AP, SEL "  rules:\n  - when:\n    - {key: a, values: [b], notValues: ['']}\n",
	    "notValues[0]: an empty value is not allowed", 8, "web", 0 },
	/* RequestAuthentication */
	{ RA, SEL "  jwtRules:\n  - audiences: [a]\n",
	    "issuer must be set", 7, "web", 0 },
	{ RA, SEL "  jwtRules:\n  - issuer: ''\n",
	    "issuer must be set", 7, "web", 0 },
	{ RA, SEL "  jwtRules:\n  - issuer: a\n    jwksUri: ftp://a/jwks\n",
	    "\"ftp://a/jwks\" is not an http or https URI", 8, "web", 0 },
	{ RA, SEL "  jwtRules:\n  - issuer: a\n    jwksUri: https:///jwks\n",
	    "is not an http or https URI", 8, "web", 0 },
	{ RA, SEL "  jwtRules:\n  - issuer: a\n    jwksUri: https://a/jwks\n"
	    "    jwks: '{\"keys\": []}'\n",
	    "only one of jwksUri and jwks may be set", 9, "web", 0 },
	{ RA, SEL "  jwtRules:\n  - issuer: a\n    jwks: not json\n",
	    "jwks must be a JSON Web Key Set", 8, "web", 0 },
	{ RA, SEL "  jwtRules:\n  - issuer: a\n    fromHeaders: [{prefix: 'Bearer '}]\n",
	    "the header name must not be empty", 8, "web", 0 },
	{ RA, SEL "  jwtRules:\n  - issuer: a\n    fromParams: [t, '']\n",
	    "fromParams[1] must not be empty", 8, "web", 0 },
	{ RA, SEL "  jwtRules:\n  - issuer: a\n    audiences: ['']\n",
	    "audiences[0] must not be empty", 8, "web", 0 },
	{ RA, SEL "  jwtRules:\n  - issuer: a\n    outputClaimToHeaders: [{header: 'x y', claim: c}]\n",
	    "\"x y\" is not a valid header name", 8, "web", 0 },
	{ RA, SEL "  jwtRules:\n  - issuer: a\n    outputClaimToHeaders: [{header: x}]\n",
	    "header and claim must not be empty", 8, "web", 0 },
	{ RA, SEL "  jwtRules:\n  - issuer: a\n    timeout: 5 parsecs\n",
	    "timeout: \"5 parsecs\" is not a duration", 8, "web", 0 },
	{ RA, SEL "  jwtRules:\n  - issuer: a\n    timeout: 0s\n",
	    "timeout: must be at least 1ms", 8, "web", 0 },
	{ RA, SEL "  jwtRules:\n  - issuer: a\n    forwardOriginalToken: maybe\n",
	    "\"maybe\" is not true or false", 8, "web", 0 },
	{ RA, SEL "  jwtRules: [a]\n",
	    "jwtRules[0]: must be a map, not a scalar", 6, "web", 0 },
	{ RA, "  targetRef: " GW_REF "\n  selector: {matchLabels: {app: web}}\n",
	    "only one of selector, targetRef and targetRefs may be set", 5, "web", 1 },
	/* metadata errors break the policy too */
	{ AP, "  rules: [{}]\n",
	    "labels: must be a map of strings", 0, NULL, 0 },
};

static void
test_errors_fail_closed(void)
{
	size_t i, j;

	for (i = 0; i < VG_ARRAY_SIZE(err_cases); i++) {
		const struct err_case *e = &err_cases[i];
		struct fixture f;
		char *y;
		int found = 0;

		if (e->line == 0)	/* the metadata case */
			xasprintf(&y, "apiVersion: %s\nkind: %s\nmetadata: {name: t, namespace: ns1, "
			    "labels: [a]}\nspec:\n%s", SEC, e->kind, e->body);
		else
			y = doc(SEC, e->kind, e->body);
		memset(&f, 0, sizeof(f));
		cu_decode(y, &f.errs, &f.out);
		for (j = 0; j < f.errs.n; j++)
			if (f.errs.v[j].sev == ERR_ERROR && strstr(f.errs.v[j].msg, e->needle) &&
			    (e->line == 0 || f.errs.v[j].line == e->line))
				found = 1;
		if (!found) {
			fprintf(stderr, "\ncase %zu: want line %d \"%s\", got:\n", i, e->line,
			    e->needle);
			errs_print(&f.errs, stderr);
		}
		CU_ASSERT_TRUE(found);
		CU_ASSERT_EQUAL_FATAL(f.out.n, 1);
		/* kept: not failed, broken, why is the first error */
		CU_ASSERT_FALSE(f.out.v[0].failed);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f.out.v[0].obj);
		CU_ASSERT_PTR_NULL(f.out.v[0].error);
		CU_ASSERT_STRING_EQUAL(f.out.v[0].obj->meta.name, "t");
		CU_ASSERT_STRING_EQUAL(f.out.v[0].obj->meta.ns, "ns1");
		{
			const void *spec = f.out.v[0].obj->spec;
			int broken, has_sel;
			const char *why, *app;
			size_t ntr;
			char *first = NULL;

			for (j = 0; j < f.errs.n && first == NULL; j++)
				if (f.errs.v[j].sev == ERR_ERROR)
					first = errs_format(&f.errs.v[j]);
			if (strcmp(e->kind, AP) == 0) {
				const struct k_authorizationpolicy *p = spec;

				CU_ASSERT_EQUAL(f.out.v[0].obj->kind, K_AUTHORIZATIONPOLICY);
				broken = p->broken, why = p->broken_why, has_sel = p->has_selector;
				app = strmap_get(&p->selector, "app"), ntr = p->ntarget_refs;
				/* nothing else of a broken policy is read */
				CU_ASSERT_EQUAL(p->nrules, 0);
				CU_ASSERT_EQUAL(p->action, K_AP_ALLOW);
				CU_ASSERT_PTR_NULL(p->provider);
			} else {
				const struct k_requestauthentication *ra = spec;

				CU_ASSERT_EQUAL(f.out.v[0].obj->kind, K_REQUESTAUTHENTICATION);
				broken = ra->broken, why = ra->broken_why, has_sel = ra->has_selector;
				app = strmap_get(&ra->selector, "app"), ntr = ra->ntarget_refs;
				CU_ASSERT_EQUAL(ra->njwt_rules, 0);
			}
			CU_ASSERT_TRUE(broken);
			CU_ASSERT_PTR_NOT_NULL_FATAL(why);
			CU_ASSERT_PTR_NOT_NULL_FATAL(first);
			CU_ASSERT_STRING_EQUAL(why, first);
			CU_ASSERT_EQUAL(has_sel, e->app != NULL);
			if (e->app) {
				CU_ASSERT_PTR_NOT_NULL(app);
				if (app)
					CU_ASSERT_STRING_EQUAL(app, e->app);
			} else
				CU_ASSERT_PTR_NULL(app);
			if (ntr != e->ntarget_refs)
				fprintf(stderr, "\ncase %zu: %zu targetRefs kept, want %zu\n", i, ntr,
				    e->ntarget_refs);
			CU_ASSERT_EQUAL(ntr, e->ntarget_refs);
			free(first);
		}
		free(y);
		fixture_free(&f);
	}
}

/* An error names the file, line, column, object and field path. */
static void
test_error_format(void)
{
	struct fixture f;
	char *y = doc(SEC, AP, SEL
	    "  rules:\n"
	    "  - from:\n"
	    "    - source:\n"
	    "        principals: a\n");
	const char *want = "test.yaml:9:21: AuthorizationPolicy ns1/t: "
	    "spec.rules[0].from[0].source.principals: must be a list of strings, not a scalar";
	const struct k_authorizationpolicy *p;
	char *s;

	memset(&f, 0, sizeof(f));
	cu_decode(y, &f.errs, &f.out);
	CU_ASSERT_EQUAL_FATAL(f.errs.nerrors, 1);
	s = errs_format(&f.errs.v[0]);
	if (strcmp(s, want) != 0)
		fprintf(stderr, "\ngot %s\n", s);
	CU_ASSERT_STRING_EQUAL(s, want);
	CU_ASSERT_EQUAL_FATAL(f.out.n, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f.out.v[0].obj);
	p = f.out.v[0].obj->spec;
	CU_ASSERT_STRING_EQUAL(p->broken_why, want);
	free(s);
	free(y);
	fixture_free(&f);
}

/* Another apiVersion: an error naming the object, and a broken policy all the same. */
static void
test_unsupported_version(void)
{
	static const char *const kinds[] = { AP, RA };
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(kinds); i++) {
		struct fixture f;
		char *y = doc("security.istio.io/v2", kinds[i], SEL "  action: DENY\n"
		    "  rules: [{}]\n");
		const struct object *o;
		char want[256];

		memset(&f, 0, sizeof(f));
		cu_decode(y, &f.errs, &f.out);
		cu_errs_dump(&f.errs);
		CU_ASSERT_EQUAL(f.errs.nerrors, 1);
		snprintf(want, sizeof(want), "test.yaml:1:1: %s ns1/t: apiVersion "
		    "security.istio.io/v2 is not supported for this kind (security.istio.io/v1, "
		    "security.istio.io/v1beta1)", kinds[i]);
		CU_ASSERT_TRUE(cu_errs_have(&f.errs, want));
		CU_ASSERT_EQUAL_FATAL(f.out.n, 1);
		o = f.out.v[0].obj;
		CU_ASSERT_PTR_NOT_NULL_FATAL(o);
		CU_ASSERT_PTR_NULL(o->api_version);
		if (i == 0) {
			const struct k_authorizationpolicy *p = o->spec;

			CU_ASSERT_TRUE(p->broken);
			CU_ASSERT_PTR_NOT_NULL(strstr(p->broken_why, "is not supported"));
			CU_ASSERT_STRING_EQUAL(strmap_get(&p->selector, "app"), "web");
			CU_ASSERT_EQUAL(p->nrules, 0);
		} else {
			const struct k_requestauthentication *ra = o->spec;

			CU_ASSERT_TRUE(ra->broken);
			CU_ASSERT_STRING_EQUAL(strmap_get(&ra->selector, "app"), "web");
		}
		free(y);
		fixture_free(&f);
	}
	/* other kinds are still skipped with a warning */
	{
		struct fixture f;
		char *y = doc("security.istio.io/v2", "PeerAuthentication", "  {}\n");

		memset(&f, 0, sizeof(f));
		cu_decode(y, &f.errs, &f.out);
		CU_ASSERT_EQUAL(f.errs.nerrors, 0);
		CU_ASSERT_EQUAL(f.out.n, 0);
		free(y);
		fixture_free(&f);
	}
}

/* ---- the sources keep a broken policy in place of the good one ---- */

static void
put_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

#define DENY_AP(extra) "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n" \
	"metadata: {name: deny-admin, namespace: gw}\n" \
	"spec:\n  selector: {matchLabels: {istio: ingressgateway}}\n  action: DENY\n" \
	"  rules:\n  - to: [{operation: {paths: [/admin]}}]\n" extra

static const struct k_authorizationpolicy *
stored_ap(struct store *st)
{
	const struct object *o = store_get(st, K_AUTHORIZATIONPOLICY, "gw", "deny-admin");

	return o ? o->spec : NULL;
}

static void
test_file_source_replaces(void)
{
	char dir[] = "/tmp/vg-test-sec.XXXXXX";
	const char *paths[1];
	struct store *st = store_new();
	struct file_source *fs = fsrc_new(st);
	struct vg_errs errs = { 0 };
	const struct k_authorizationpolicy *p;
	char cmd[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	paths[0] = dir;
	put_file(dir, "ap.yaml", DENY_AP(""));
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 1);
	CU_ASSERT_EQUAL(errs.n, 0);
	p = stored_ap(st);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_FALSE(p->broken);
	CU_ASSERT_EQUAL(p->nrules, 1);
	errs_clear(&errs);

	/* it breaks: the broken version replaces the good one, the error is reported */
	put_file(dir, "ap.yaml", DENY_AP("    when: [{key: source.ip}]\n"));
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 1);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.nerrors, 1);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "ap.yaml:9:12: AuthorizationPolicy gw/deny-admin: "
	    "spec.rules[0].when[0]: at least one of values or notValues"));
	p = stored_ap(st);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_TRUE(p->broken);
	CU_ASSERT_PTR_NOT_NULL(strstr(p->broken_why, "at least one of values or notValues"));
	CU_ASSERT_STRING_EQUAL(strmap_get(&p->selector, "istio"), "ingressgateway");
	CU_ASSERT_EQUAL(p->nrules, 0);
	/* in force, not a rejection beside a last good version */
	CU_ASSERT_PTR_NULL(store_rejected(st, K_AUTHORIZATIONPOLICY, "gw", "deny-admin"));
	CU_ASSERT_EQUAL(store_count(st), 1);
	errs_clear(&errs);

	/* again: no change, the error is reported again */
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 0);
	CU_ASSERT_EQUAL(errs.nerrors, 1);
	CU_ASSERT_TRUE(stored_ap(st)->broken);
	errs_clear(&errs);

	/* a file that no longer parses keeps the broken version, not an older one */
	put_file(dir, "ap.yaml", "kind: [\n");
	fsrc_sync(fs, paths, 1, &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(stored_ap(st));
	CU_ASSERT_TRUE(stored_ap(st)->broken);
	errs_clear(&errs);

	/* fixed: the good version is back */
	put_file(dir, "ap.yaml", DENY_AP(""));
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 1);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_FALSE(stored_ap(st)->broken);
	errs_clear(&errs);

	/* an unsupported apiVersion: an error, and broken in place of the good one */
	{
		char *y;

		/* DENY_AP with its first line, the apiVersion, replaced */
		xasprintf(&y, "apiVersion: security.istio.io/v9\n%s", strchr(DENY_AP(""), '\n') + 1);
		put_file(dir, "ap.yaml", y);
		free(y);
	}
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 1);
	CU_ASSERT_EQUAL(errs.nerrors, 1);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "AuthorizationPolicy gw/deny-admin: apiVersion "
	    "security.istio.io/v9 is not supported"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(stored_ap(st));
	CU_ASSERT_TRUE(stored_ap(st)->broken);
	errs_clear(&errs);

	/* a new policy that is broken from the start is loaded, broken */
	put_file(dir, "ra.yaml", "apiVersion: security.istio.io/v1beta1\n"
	    "kind: RequestAuthentication\nmetadata: {name: jwt, namespace: gw}\n"
	    "spec:\n  jwtRules: [{issuer: a, jwksUri: 'file:///etc/jwks'}]\n");
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 1);
	CU_ASSERT_EQUAL(errs.nerrors, 2);
	{
		const struct object *o = store_get(st, K_REQUESTAUTHENTICATION, "gw", "jwt");

		CU_ASSERT_PTR_NOT_NULL_FATAL(o);
		CU_ASSERT_TRUE(OBJ_SPEC(o, k_requestauthentication)->broken);
		CU_ASSERT_FALSE(OBJ_SPEC(o, k_requestauthentication)->has_selector);
	}
	errs_clear(&errs);

	/* the files go: so do the policies */
	snprintf(cmd, sizeof(cmd), "%s/ap.yaml", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/ra.yaml", dir);
	unlink(cmd);
	CU_ASSERT_EQUAL(fsrc_sync(fs, paths, 1, &errs), 2);
	CU_ASSERT_EQUAL(store_count(st), 0);
	errs_clear(&errs);

	fsrc_free(fs);
	store_free(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

/* From the API: a broken policy comes as an object, and replaces the good one. */
static void
test_kube_broken(void)
{
#define AP_JSON(when) "{\"apiVersion\":\"security.istio.io/v1beta1\"," \
	"\"kind\":\"AuthorizationPolicy\",\"metadata\":{\"name\":\"deny-admin\"," \
	"\"namespace\":\"gw\",\"resourceVersion\":\"7\"},\"spec\":{\"selector\":" \
	"{\"matchLabels\":{\"istio\":\"ingressgateway\"}},\"action\":\"DENY\",\"rules\":" \
	"[{\"to\":[{\"operation\":{\"paths\":[\"/admin\"]}}]" when "}]}}"
	const char *good = "{\"type\":\"ADDED\",\"object\":" AP_JSON("") "}";
	const char *bad = "{\"type\":\"MODIFIED\",\"object\":" AP_JSON(",\"when\":[{\"key\":\"a\"}]")
	    "}";
	const char *list = "{\"kind\":\"AuthorizationPolicyList\",\"apiVersion\":"
	    "\"security.istio.io/v1beta1\",\"metadata\":{\"resourceVersion\":\"9\"},\"items\":["
	    AP_JSON(",\"when\":[{\"key\":\"a\"}]") "]}";
	struct store *st = store_new();
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	struct kube_event e;
	const struct object *o;
	char *rv = NULL, *cont = NULL;

	CU_ASSERT_STRING_EQUAL(kube_kind_path(K_AUTHORIZATIONPOLICY),
	    "/apis/security.istio.io/v1beta1/authorizationpolicies");
	CU_ASSERT_STRING_EQUAL(kube_kind_path(K_REQUESTAUTHENTICATION),
	    "/apis/security.istio.io/v1beta1/requestauthentications");
	CU_ASSERT_STRING_EQUAL(kube_kind_apiversion(K_REQUESTAUTHENTICATION),
	    "security.istio.io/v1beta1");

	CU_ASSERT_EQUAL_FATAL(kube_event_decode(good, strlen(good), K_AUTHORIZATIONPOLICY, "api",
	    &e, &errs), 0);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_EQUAL_FATAL(e.objs.n, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e.objs.v[0].obj);
	CU_ASSERT_EQUAL(store_put(st, object_ref(e.objs.v[0].obj)), 1);
	kube_event_free(&e);
	o = store_get(st, K_AUTHORIZATIONPOLICY, "gw", "deny-admin");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_FALSE(OBJ_SPEC(o, k_authorizationpolicy)->broken);

	/* what source_kube's apply_event does with an object */
	CU_ASSERT_EQUAL_FATAL(kube_event_decode(bad, strlen(bad), K_AUTHORIZATIONPOLICY, "api",
	    &e, &errs), 0);
	CU_ASSERT_EQUAL(errs.nerrors, 1);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "AuthorizationPolicy gw/deny-admin: "
	    "spec.rules[0].when[0]: at least one of values or notValues"));
	CU_ASSERT_EQUAL_FATAL(e.objs.n, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e.objs.v[0].obj);
	CU_ASSERT_TRUE(e.objs.v[0].obj->from_api);
	CU_ASSERT_EQUAL(store_put(st, object_ref(e.objs.v[0].obj)), 1);
	kube_event_free(&e);
	o = store_get(st, K_AUTHORIZATIONPOLICY, "gw", "deny-admin");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_TRUE(OBJ_SPEC(o, k_authorizationpolicy)->broken);
	CU_ASSERT_STRING_EQUAL(strmap_get(&OBJ_SPEC(o, k_authorizationpolicy)->selector, "istio"),
	    "ingressgateway");
	errs_clear(&errs);

	/* a list: the broken item is an object too */
	CU_ASSERT_EQUAL(kube_list_decode(list, strlen(list), K_AUTHORIZATIONPOLICY, "api", &out,
	    &rv, &cont, &errs), 0);
	CU_ASSERT_EQUAL(errs.nerrors, 1);
	CU_ASSERT_EQUAL_FATAL(out.n, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out.v[0].obj);
	CU_ASSERT_TRUE(out.v[0].obj->from_api);
	CU_ASSERT_TRUE(OBJ_SPEC(out.v[0].obj, k_authorizationpolicy)->broken);
	free(rv);
	free(cont);
	decoded_list_free(&out);
	errs_clear(&errs);
	store_free(st);
#undef AP_JSON
}

static const struct cu_test tests[] = {
	{ "AuthorizationPolicy fields", test_ap_fields },
	{ "AuthorizationPolicy scope and actions", test_ap_scope_and_actions },
	{ "RequestAuthentication fields", test_ra_fields },
	{ "errors fail closed", test_errors_fail_closed },
	{ "error format", test_error_format },
	{ "unsupported apiVersion", test_unsupported_version },
	{ "file source: broken replaces good", test_file_source_replaces },
	{ "API source: broken is an object", test_kube_broken },
	{ NULL, NULL }
};

int
main(void)
{
	return cu_run("istio_sec", tests);
}
