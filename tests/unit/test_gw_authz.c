/*
 * AuthorizationPolicy at the gateway, table-driven: each case is a set of
 * manifests, compiled by reconcile as the daemon does, and requests with
 * the decision Istio's semantics give (DENY first, then ALLOW; empty spec
 * and empty rule; unsupported fields per action; fail closed).
 */
#include "config.h"

#include "cu.h"
#include "fixture.h"
#include "vipgate/gw-authz.h"
#include "vipgate/gw-t.h"

/* A request as a case writes it; NULL fields stay unset. */
struct areq {
	const char	*method, *path, *host, *peer, *remote, *principal, *sni;
	uint16_t	 port;
	const char	*hname, *hval;		/* one header */
	int		 allow;			/* the expected decision */
};

struct acase {
	const char	*name;
	const char	*objs;			/* the policies (the gateway is implied) */
	int		 errors;		/* the manifests have decode errors (fail closed) */
	struct areq	 r[6];
};

#define AP(ns, body) \
	"---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n" \
	"metadata: {name: p" #ns ", namespace: " #ns "}\n" body

static const struct acase cases[] = {
	{ "no policy: everything passes", "", 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 1 },
	} },
	{ "spec {} ALLOW: allow-nothing", AP(istio-system, "spec: {}\n"), 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
	} },
	{ "rules [{}]: allow-all", AP(istio-system, "spec: {rules: [{}]}\n"), 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 1 },
	} },
	{ "DENY with no rules denies nothing", AP(istio-system, "spec: {action: DENY}\n"), 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 1 },
	} },
	{ "DENY paths: prefix, exact, query ignored",
	    AP(istio-system, "spec:\n  action: DENY\n  rules: [{to: [{operation: {paths: [\"/admin*\", /x]}}]}]\n"), 0, {
		{ "GET", "/admin", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
		{ "GET", "/admin/users?q=1", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
		{ "GET", "/x?y", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
		{ "GET", "/xy", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 1 },
		{ "GET", "/public", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 1 },
	} },
	{ "ALLOW ipBlocks on the peer, remoteIpBlocks on the client",
	    AP(istio-system, "spec:\n  rules:\n  - from: [{source: {ipBlocks: [10.0.0.0/8]}}]\n"
	    "  - from: [{source: {remoteIpBlocks: [\"203.0.113.7\"]}}]\n"), 0, {
		{ "GET", "/", "a.test", "10.9.8.7", "198.51.100.1", NULL, NULL, 80, NULL, NULL, 1 },
		{ "GET", "/", "a.test", "192.168.1.1", "198.51.100.1", NULL, NULL, 80, NULL, NULL, 0 },
		{ "GET", "/", "a.test", "192.168.1.1", "203.0.113.7", NULL, NULL, 80, NULL, NULL, 1 },
	} },
	{ "operation fields ANDed, operations ORed, not* negated",
	    AP(istio-system, "spec:\n  rules:\n  - to:\n    - operation: {methods: [GET], paths: [\"/api/*\"]}\n"
	    "    - operation: {notMethods: [GET, POST], hosts: [\"*.example.com\"]}\n"), 0, {
		{ "GET", "/api/v1", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 1 },
		{ "POST", "/api/v1", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
		{ "DELETE", "/other", "WWW.Example.COM", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 1 },
		{ "GET", "/other", "www.example.com", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
	} },
	{ "when: headers with values and notValues, destination.port, connection.sni",
	    AP(istio-system, "spec:\n  rules:\n  - when:\n    - {key: \"request.headers[x-token]\", values: [\"abc*\"], notValues: [abcd]}\n"
	    "    - {key: destination.port, values: [\"443\"]}\n    - {key: connection.sni, values: [\"*.test\"]}\n"), 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, "a.test", 443, "X-Token", "abc1", 1 },
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, "a.test", 443, "X-Token", "abcd", 0 },
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, "a.test", 80, "X-Token", "abc1", 0 },
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, "a.other", 443, "X-Token", "abc1", 0 },
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, "a.test", 443, NULL, NULL, 0 },
	} },
	{ "principals and namespaces from the client certificate; notPrincipals without one",
	    AP(istio-system, "spec:\n  rules:\n  - from: [{source: {namespaces: [shop]}}]\n"
	    "  - from: [{source: {principals: [\"cluster.local/ns/ops/sa/admin\"]}}]\n") "---\n"
	    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
	    "metadata: {name: deny-anon, namespace: istio-system}\n"
	    "spec:\n  action: DENY\n  rules: [{from: [{source: {notPrincipals: [\"*\"]}}], to: [{operation: {paths: [/private]}}]}]\n", 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, "cluster.local/ns/shop/sa/web", NULL, 443, NULL, NULL, 1 },
		{ "GET", "/", "a.test", "10.0.0.1", NULL, "cluster.local/ns/ops/sa/admin", NULL, 443, NULL, NULL, 1 },
		{ "GET", "/", "a.test", "10.0.0.1", NULL, "cluster.local/ns/ops/sa/other", NULL, 443, NULL, NULL, 0 },
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 443, NULL, NULL, 0 },
		{ "GET", "/private", "a.test", "10.0.0.1", NULL, "cluster.local/ns/shop/sa/web", NULL, 443, NULL, NULL, 1 },
	} },
	{ "requestPrincipals [*] without a verified JWT: not allowed",
	    AP(istio-system, "spec: {rules: [{from: [{source: {requestPrincipals: [\"*\"]}}]}]}\n"), 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
	} },
	{ "DENY with an unsupported value (a path template) loses that condition: it denies more",
	    AP(istio-system, "spec:\n  action: DENY\n  rules: [{from: [{source: {ipBlocks: [192.168.0.0/16]}}], to: [{operation: {paths: [\"/x/{*}\"]}}]}]\n"), 0, {
		{ "GET", "/other", "a.test", "192.168.1.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
		{ "GET", "/other", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 1 },
	} },
	{ "ALLOW with an unsupported value drops the rule: it allows less",
	    AP(istio-system, "spec:\n  rules:\n  - to: [{operation: {paths: [\"/a/{**}\"]}}]\n  - to: [{operation: {paths: [/ok]}}]\n"), 0, {
		{ "GET", "/ok", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 1 },
		{ "GET", "/a/b", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
	} },
	{ "ALLOW whose only rule is dropped: allow-nothing",
	    AP(istio-system, "spec: {rules: [{when: [{key: experimental.envoy.filters.x, values: [y]}]}]}\n"), 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
	} },
	{ "a bad CIDR (Istio's validation refuses it): the policy denies everything",
	    AP(istio-system, "spec:\n  action: DENY\n  rules: [{from: [{source: {ipBlocks: [10.0.0.300]}}], to: [{operation: {paths: [/a]}}]}]\n"), 1, {
		{ "GET", "/b", "a.test", "192.168.1.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
	} },
	{ "a bad port: the policy denies everything",
	    AP(istio-system, "spec: {rules: [{to: [{operation: {ports: [http]}}]}]}\n"), 1, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
	} },
	{ "an unknown source field (a typo): the policy denies everything",
	    AP(istio-system, "spec:\n  action: DENY\n  rules: [{from: [{source: {principles: [x]}}]}]\n"), 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
	} },
	{ "an unknown when key: the policy denies everything",
	    AP(istio-system, "spec: {rules: [{when: [{key: request.bogus, values: [x]}]}]}\n"), 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
	} },
	{ "CUSTOM without its provider: its rules deny",
	    AP(istio-system, "spec:\n  action: CUSTOM\n  provider: {name: ext}\n  rules: [{to: [{operation: {paths: [/ext]}}]}]\n"), 0, {
		{ "GET", "/ext", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
		{ "GET", "/other", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 1 },
	} },
	{ "scope: other namespaces, other selectors and targetRefs do not apply",
	    AP(default, "spec: {}\n") AP(istio-system, "spec: {selector: {matchLabels: {app: other}}}\n")
	    "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
	    "metadata: {name: tr, namespace: istio-system}\n"
	    "spec: {targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]}\n", 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 1 },
	} },
	{ "scope: a matching selector applies",
	    AP(istio-system, "spec: {selector: {matchLabels: {istio: ingressgateway}}}\n"), 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
	} },
	{ "AUDIT and dry-run change nothing",
	    AP(istio-system, "spec: {action: AUDIT, rules: [{}]}\n") "---\n"
	    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
	    "metadata: {name: dry, namespace: istio-system, annotations: {istio.io/dry-run: \"true\"}}\n"
	    "spec: {}\n", 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 1 },
	} },
	{ "a policy that does not decode denies everything (fail closed)",
	    AP(istio-system, "spec: {action: BOGUS}\n"), 1, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
	} },
	{ "a malformed rule denies everything (fail closed)",
	    AP(istio-system, "spec: {action: DENY, rules: [{to: [{operation: {paths: /a}}]}]}\n"), 1, {
		{ "GET", "/b", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
	} },
	{ "DENY wins over ALLOW",
	    AP(istio-system, "spec: {rules: [{}]}\n") "---\n"
	    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
	    "metadata: {name: d, namespace: istio-system}\n"
	    "spec: {action: DENY, rules: [{to: [{operation: {methods: [DELETE]}}]}]}\n", 0, {
		{ "GET", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 1 },
		{ "DELETE", "/", "a.test", "10.0.0.1", NULL, NULL, NULL, 80, NULL, NULL, 0 },
	} },
};

/* The store and config of a case; decode errors are expected when the case says so. */
static void
load(struct fixture *fx, const char *objs, int errors)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	size_t i;

	fx->cfg = config_parse("node: {name: node-a}\n", 20, "vipgate.yaml", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx->cfg);
	fx->st = store_new();
	cu_decode(objs, &errs, &out);
	if (!errors)
		cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.nerrors != 0, errors != 0);
	for (i = 0; i < out.n; i++)
		if (out.v[i].obj)
			store_put(fx->st, object_ref(out.v[i].obj));
	decoded_list_free(&out);
	errs_clear(&errs);
}

static int
decide(const struct gw_authz *az, const struct areq *q)
{
	struct gw_az_req r;
	struct gw_hdr h;

	memset(&r, 0, sizeof(r));
	r.method = q->method;
	r.method_len = strlen(q->method);
	r.path = q->path;
	r.path_len = strlen(q->path);
	r.host = q->host;
	r.host_len = strlen(q->host);
	r.port = q->port;
	if (q->peer) {
		CU_ASSERT_EQUAL(ipaddr_parse(q->peer, &r.peer), 0);
	}
	if (q->remote) {
		CU_ASSERT_EQUAL(ipaddr_parse(q->remote, &r.remote), 0);
	} else
		r.remote = r.peer;
	r.principal = q->principal;
	r.sni = q->sni;
	if (q->hname) {
		h.name = q->hname;
		h.nlen = strlen(q->hname);
		h.value = q->hval;
		h.vlen = strlen(q->hval);
		r.hdrs = &h;
		r.nhdrs = 1;
	}
	return gw_authz_check(az, &r).allow;
}

static void
t_cases(void)
{
	size_t i, j;

	for (i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		const struct acase *c = &cases[i];
		struct fixture fx;
		struct live_view live = { 0 };
		struct vg_buf objs = { 0 };
		struct desired *d;

		buf_puts(&objs, "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
		    "metadata: {name: gw, namespace: istio-system}\n"
		    "spec: {selector: {istio: ingressgateway}, servers: [{port: {number: 80, "
		    "name: http, protocol: HTTP}, hosts: [\"*\"]}]}\n");
		buf_puts(&objs, c->objs);
		load(&fx, objs.s, c->errors);
		live.gateway_ready = 1;
		d = reconcile(fx.st, fx.cfg, &live);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d->gw);
		for (j = 0; j < VG_ARRAY_SIZE(c->r) && c->r[j].method; j++) {
			int got = decide(d->gw->deps[0].authz, &c->r[j]);

			if (got != c->r[j].allow) {
				size_t k;

				fprintf(stderr, "case \"%s\", request %zu (%s %s): %s, expected %s\n",
				    c->name, j, c->r[j].method, c->r[j].path, got ? "allowed" : "denied",
				    c->r[j].allow ? "allowed" : "denied");
				for (k = 0; k < d->gw->nnotes; k++)
					fprintf(stderr, "  note %s %s: %s\n", d->gw->notes[k].kind,
					    d->gw->notes[k].name, d->gw->notes[k].msg);
			}
			CU_ASSERT_EQUAL(got, c->r[j].allow);
		}
		desired_unref(d);
		fx_free(&fx);
		buf_free(&objs);
	}
}

/* Every note names the policy; unsupported and broken ones say what happens. */
static void
t_notes(void)
{
	struct fixture fx;
	struct live_view live = { 0 };
	struct desired *d;
	size_t i;
	int custom = 0, dropped = 0, broken = 0;

	load(&fx, "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	    "metadata: {name: gw, namespace: istio-system}\n"
	    "spec: {selector: {istio: ingressgateway}, servers: [{port: {number: 80, "
	    "name: http, protocol: HTTP}, hosts: [\"*\"]}]}\n"
	    AP(istio-system, "spec: {action: CUSTOM, provider: {name: ext}, rules: [{}]}\n")
	    "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
	    "metadata: {name: a, namespace: istio-system}\n"
	    "spec: {rules: [{to: [{operation: {paths: [\"/a/{*}\"]}}]}]}\n"
	    "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
	    "metadata: {name: b, namespace: istio-system}\n"
	    "spec: {rules: [{when: [{key: nope, values: [x]}]}]}\n", 0);
	live.gateway_ready = 1;
	d = reconcile(fx.st, fx.cfg, &live);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	for (i = 0; i < d->gw->nnotes; i++) {
		const struct gw_note *n = &d->gw->notes[i];

		if (strcmp(n->kind, "AuthorizationPolicy") != 0)
			continue;
		if (strcmp(n->name, "pistio-system") == 0 && strstr(n->msg, "CUSTOM"))
			custom = 1;
		if (strcmp(n->name, "a") == 0 && strstr(n->msg, "paths") && strstr(n->msg, "dropped"))
			dropped = 1;
		if (strcmp(n->name, "b") == 0 && strstr(n->msg, "nope") &&
		    strstr(n->msg, "denies every request"))
			broken = 1;
	}
	CU_ASSERT(custom);
	CU_ASSERT(dropped);
	CU_ASSERT(broken);
	desired_unref(d);
	fx_free(&fx);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "policies: Istio's decisions", t_cases },
		{ "analyze notes name the policy and the field", t_notes },
		{ NULL, NULL },
	};

	return cu_run("gw_authz", tests);
}
