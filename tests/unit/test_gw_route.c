/* The gateway compile (reconcile_gw) and the route matcher, table-driven. */
#include "config.h"

#include "cu.h"
#include "tls-fixture.h"
#include "vipgate/config.h"
#include "vipgate/gw-route.h"
#include "vipgate/reconcile.h"

struct fixture {
	struct store		*st;
	struct config		*cfg;
	struct desired		*d;
	const struct gw_desired	*gw;
	struct gw_rx		*rx;
};

static void
fx_add(struct fixture *fx, const char *objs, const char *file)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	size_t i;

	manifest_decode_buf(objs, strlen(objs), file, &errs, &out);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.nerrors, 0);
	for (i = 0; i < out.n; i++)
		if (out.v[i].obj)
			store_put(fx->st, object_ref(out.v[i].obj));
	decoded_list_free(&out);
	errs_clear(&errs);
}

static void
fx_run(struct fixture *fx)
{
	struct live_view live = { 0 };
	char *err = NULL;

	live.gateway_ready = 1;
	fx->d = reconcile(fx->st, fx->cfg, &live);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx->d);
	fx->gw = fx->d->gw;
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx->gw);
	fx->rx = gw_rx_new(fx->gw, &err);
	if (err)
		fprintf(stderr, "%s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx->rx);
}

static void
fx_load(struct fixture *fx, const char *objs)
{
	static const char cfgyaml[] = "node: {name: node-a}\n";
	struct vg_errs errs = { 0 };

	memset(fx, 0, sizeof(*fx));
	fx->cfg = config_parse(cfgyaml, strlen(cfgyaml), "vipgate.yaml", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx->cfg);
	errs_clear(&errs);
	fx->st = store_new();
	if (objs)
		fx_add(fx, objs, "test.yaml");
	if (objs)
		fx_run(fx);
}

static void
fx_free(struct fixture *fx)
{
	gw_rx_free(fx->rx);
	desired_unref(fx->d);
	store_free(fx->st);
	config_free(fx->cfg);
}

static const struct gw_listener *
listener(const struct gw_desired *g, uint16_t port)
{
	size_t i;

	for (i = 0; i < g->nlisteners; i++)
		if (g->listeners[i].port == port)
			return &g->listeners[i];
	return NULL;
}

static const struct gw_cluster *
cluster(const struct gw_desired *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->nclusters; i++)
		if (strcmp(g->clusters[i]->name, name) == 0)
			return g->clusters[i];
	return NULL;
}

/* A request: "METHOD host path" plus "name: value" header lines. */
struct treq {
	struct gw_req	r;
	struct gw_hdr	h[8];
};

static const struct gw_req *
mkreq(struct treq *t, const char *method, const char *host, const char *path,
    const char *scheme, uint16_t port, const char * const *hdrs)
{
	size_t n = 0;

	memset(t, 0, sizeof(*t));
	t->r.method = method;
	t->r.method_len = strlen(method);
	t->r.authority = host;
	t->r.authority_len = strlen(host);
	t->r.path = path;
	t->r.path_len = strlen(path);
	t->r.scheme = scheme;
	t->r.port = port;
	for (; hdrs && hdrs[0]; hdrs += 2) {
		t->h[n].name = hdrs[0];
		t->h[n].nlen = strlen(hdrs[0]);
		t->h[n].value = hdrs[1];
		t->h[n].vlen = strlen(hdrs[1]);
		n++;
	}
	t->r.hdrs = t->h;
	t->r.nhdrs = n;
	return &t->r;
}

/* Route a request on a port: the route, or NULL (404 NR). */
static const struct gw_route *
route(struct fixture *fx, uint16_t port, const char *method, const char *host,
    const char *path, const char * const *hdrs)
{
	const struct gw_listener *l = listener(fx->gw, port);
	const struct gw_vhost *v;
	const struct gw_match *m;
	struct treq t;

	if (l == NULL)
		return NULL;
	v = gw_vhost_find(gw_chain_find(l, NULL), host, strlen(host));
	return gw_route_find(v, fx->rx, mkreq(&t, method, host, path, "http", port, hdrs), &m);
}

static char *
slurp(const char *rel)
{
	const char *srcdir = getenv("srcdir");
	char path[4096];
	char *s;

	snprintf(path, sizeof(path), "%s/%s", srcdir ? srcdir : ".", rel);
	s = read_file(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

/* The seed's walk-through: etc/objects.d as shipped. */
static void
test_seed(void)
{
	static const char *files[] = {
		"etc/objects.d/00-metallb.yaml", "etc/objects.d/10-istio-ingressgateway.yaml",
		"etc/objects.d/20-bookinfo.yaml", "etc/objects.d/30-istio-gateway.yaml",
		"etc/objects.d/40-traffic.yaml", NULL
	};
	struct fixture fx;
	const struct gw_listener *l80, *l443;
	const struct gw_route *r;
	const struct gw_cluster *c;
	const struct gw_chain *ch;
	size_t i;

	fx_load(&fx, NULL);
	for (i = 0; files[i]; i++) {
		char *s = slurp(files[i]);

		fx_add(&fx, s, files[i]);
		free(s);
	}
	fx_run(&fx);
	CU_ASSERT_EQUAL(fx.gw->nlisteners, 2);
	l80 = listener(fx.gw, 80);
	l443 = listener(fx.gw, 443);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l80);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l443);
	CU_ASSERT_FALSE(l80->tls);
	CU_ASSERT_TRUE(l443->tls);
	CU_ASSERT_EQUAL_FATAL(l80->nchains, 1);
	CU_ASSERT_STRING_EQUAL(l80->chains[0].name, "http.80");
	CU_ASSERT_EQUAL_FATAL(l80->chains[0].nvhosts, 1);
	CU_ASSERT_STRING_EQUAL(l80->chains[0].vhosts[0].name, "bookinfo.example.com");

	r = route(&fx, 80, "GET", "bookinfo.example.com", "/productpage", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(r->vs_name, "bookinfo-vs");
	CU_ASSERT_EQUAL(r->action, GW_ACT_ROUTE);
	CU_ASSERT_EQUAL_FATAL(r->ndests, 1);
	c = r->dests[0].cluster;
	CU_ASSERT_STRING_EQUAL(c->name, "outbound|9080||productpage.default.svc.cluster.local");
	CU_ASSERT_PTR_NULL(c->missing);
	CU_ASSERT_EQUAL_FATAL(c->neps, 2);
	CU_ASSERT_STRING_EQUAL(c->eps[0].ip, "10.244.1.10");
	CU_ASSERT_EQUAL(c->eps[0].port, 9080);
	CU_ASSERT_STRING_EQUAL(c->eps[1].ip, "10.244.2.10");
	CU_ASSERT_STRING_EQUAL(c->eps[1].node, "node-b");
	/* the circuit-breaker DestinationRule applies to the cluster */
	CU_ASSERT_EQUAL(c->max_connections, 100);
	CU_ASSERT_EQUAL(c->max_requests_per_connection, 10);
	CU_ASSERT_TRUE(c->outlier.enabled);
	CU_ASSERT_EQUAL(c->outlier.consecutive_5xx, 3);
	CU_ASSERT_EQUAL(c->outlier.base_ejection_ms, 60000);
	CU_ASSERT_EQUAL(c->lb, GW_LB_LEAST_REQUEST);
	/* port in Host is ignored; case too */
	CU_ASSERT_PTR_NOT_NULL(route(&fx, 80, "GET", "BookInfo.Example.com:80", "/", NULL));
	/* any other host: 404 NR */
	CU_ASSERT_PTR_NULL(route(&fx, 80, "GET", "reviews", "/productpage", NULL));
	CU_ASSERT_PTR_NULL(route(&fx, 80, "GET", "example.com", "/", NULL));
	/* reviews-canary has no gateways: mesh only, not on the gateway */
	CU_ASSERT_PTR_NULL(cluster(fx.gw, "outbound|9080|v1|reviews.default.svc.cluster.local"));
	for (i = 0; i < fx.gw->nnotes; i++)
		if (strcmp(fx.gw->notes[i].name, "reviews-canary") == 0)
			break;
	CU_ASSERT(i < fx.gw->nnotes && strstr(fx.gw->notes[i].msg, "sidecars") != NULL);
	/* HTTPS: SNI picks the server, whose Secret gave cert and key */
	ch = gw_chain_find(l443, "bookinfo.example.com");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch->tls);
	CU_ASSERT_EQUAL(ch->tls->mode, GW_TLS_SIMPLE);
	CU_ASSERT_PTR_NULL(ch->tls->error);
	CU_ASSERT_PTR_NOT_NULL(ch->tls->cert);
	CU_ASSERT_PTR_NOT_NULL(ch->tls->key);
	CU_ASSERT(strstr(ch->tls->cert, "BEGIN CERTIFICATE") != NULL);
	CU_ASSERT_EQUAL(ch->tls->min_version, 0x0303);
	CU_ASSERT_STRING_EQUAL(ch->name, "https.443.https.app-gateway.default");
	fx_free(&fx);
}

static const char GW[] =
    "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
    "metadata: {name: gw, namespace: istio-system}\n"
    "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
    "  - port: {number: 80, name: http, protocol: HTTP}\n"
    "    hosts: ['*/*.example.com', 'team/t.example.org', './own.example.net']\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
    "metadata: {name: other, namespace: istio-system}\n"
    "spec:\n  selector: {istio: somethingelse}\n  servers:\n"
    "  - port: {number: 8080, name: http, protocol: HTTP}\n"
    "    hosts: ['*']\n"
    "---\n"
    "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: team}\n"
    "spec: {selector: {app: web}, ports: [{port: 80, name: http, targetPort: web}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1, namespace: team, labels: {app: web, version: v1}}\n"
    "spec: {nodeName: node-a, containers: [{name: c, ports: [{name: web, containerPort: 8081}]}]}\n"
    "status: {phase: Running, podIP: 10.1.0.1, conditions: [{type: Ready, status: 'True'}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web-2, namespace: team, labels: {app: web, version: v2}}\n"
    "spec: {nodeName: node-b, containers: [{name: c, ports: [{name: web, containerPort: 8082}]}]}\n"
    "status: {phase: Running, podIP: 10.1.0.2, conditions: [{type: Ready, status: 'True'}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web-3, namespace: team, labels: {app: web, version: v2}}\n"
    "spec: {nodeName: node-b, containers: [{name: c, ports: [{name: web, containerPort: 8082}]}]}\n"
    "status: {phase: Pending, podIP: 10.1.0.3}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
    "metadata: {name: web, namespace: team}\n"
    "spec:\n  host: web\n  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}\n"
    "  subsets:\n  - {name: v1, labels: {version: v1}}\n"
    "  - {name: v2, labels: {version: v2}, trafficPolicy: {loadBalancer: {simple: RANDOM}}}\n";

static const char *
vs(const char *name, const char *ns, const char *ts, const char *hosts, const char *gws,
    const char *http)
{
	static char buf[8][4096];
	static int k;
	char *b = buf[k++ % 8];

	snprintf(b, sizeof(buf[0]),
	    "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: %s, namespace: %s%s%s}\n"
	    "spec:\n  hosts: %s\n  gateways: %s\n  http:\n%s",
	    name, ns, ts ? ", creationTimestamp: " : "", ts ? ts : "", hosts, gws, http);
	return b;
}

static char *
cat(const char *a, const char *b, const char *c, const char *d)
{
	char *s = NULL;

	xasprintf(&s, "%s%s%s%s", a, b ? b : "", c ? c : "", d ? d : "");
	return s;
}

/* Server hosts: ns/ prefixes, wildcards; VS hosts intersected; Gateway selector. */
static void
test_hosts(void)
{
	struct fixture fx;
	const struct gw_chain *ch;
	const struct gw_route *r;
	char *objs = cat(GW,
	    vs("a", "team", NULL, "[a.example.com, t.example.org, own.example.net]", "[istio-system/gw]",
		"  - route: [{destination: {host: web}}]\n"),
	    vs("b", "istio-system", NULL, "['*.example.net', '*.sub.example.com']", "[gw]",
		"  - route: [{destination: {host: web.team.svc.cluster.local}}]\n"),
	    vs("c", "other", NULL, "[t.example.org]", "[istio-system/gw, mesh]",
		"  - route: [{destination: {host: web.team.svc.cluster.local}}]\n"));

	fx_load(&fx, objs);
	free(objs);
	/* the Gateway whose selector is not ours makes no listener */
	CU_ASSERT_EQUAL(fx.gw->nlisteners, 1);
	CU_ASSERT_PTR_NULL(listener(fx.gw, 8080));
	ch = &listener(fx.gw, 80)->chains[0];
	/* a.example.com (any ns), t.example.org (team only), own.example.net from b
	 * (istio-system = the Gateway's ns), *.sub.example.com; a's own.example.net refused */
	CU_ASSERT_EQUAL(ch->nvhosts, 4);
	CU_ASSERT_PTR_NOT_NULL(gw_vhost_find(ch, "a.example.com", 13));
	CU_ASSERT_PTR_NOT_NULL(gw_vhost_find(ch, "x.sub.example.com", 17));
	r = route(&fx, 80, "GET", "own.example.net", "/", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(r->vs_name, "b");
	r = route(&fx, 80, "GET", "t.example.org", "/", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(r->vs_name, "a");
	/* c is in namespace other: t.example.org admits team only */
	CU_ASSERT_EQUAL(gw_vhost_find(ch, "t.example.org", 13)->nroutes, 1);
	CU_ASSERT_PTR_NULL(route(&fx, 80, "GET", "b.example.com", "/", NULL));
	/* named target port resolved per pod; the pending pod is out */
	r = route(&fx, 80, "GET", "a.example.com", "/", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(r->dests[0].cluster->neps, 2);
	CU_ASSERT_EQUAL(r->dests[0].cluster->eps[0].port, 8081);
	CU_ASSERT_EQUAL(r->dests[0].cluster->eps[1].port, 8082);
	CU_ASSERT_STRING_EQUAL(r->dests[0].cluster->eps[1].version, "v2");
	CU_ASSERT_EQUAL(r->dests[0].cluster->lb, GW_LB_ROUND_ROBIN);
	fx_free(&fx);
}

/* Several VirtualServices on one host merge: creationTimestamp, then ns/name. */
static void
test_merge(void)
{
	struct fixture fx;
	const struct gw_vhost *v;
	char *objs = cat(GW,
	    vs("zz", "team", "'2024-01-01T00:00:00Z'", "[m.example.com]", "[istio-system/gw]",
		"  - match: [{uri: {prefix: /z}}]\n    route: [{destination: {host: web}}]\n"),
	    vs("aa", "team", "'2024-06-01T00:00:00Z'", "[m.example.com]", "[istio-system/gw]",
		"  - match: [{uri: {prefix: /a}}]\n    route: [{destination: {host: web}}]\n"
		"  - route: [{destination: {host: web}}]\n"),
	    vs("bb", "team", NULL, "[m.example.com]", "[istio-system/gw]",
		"  - match: [{uri: {prefix: /}}]\n    directResponse: {status: 418}\n"));

	fx_load(&fx, objs);
	free(objs);
	v = gw_vhost_find(&listener(fx.gw, 80)->chains[0], "m.example.com", 13);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL_FATAL(v->nroutes, 4);
	/* no timestamp sorts first (Go's zero time) */
	CU_ASSERT_STRING_EQUAL(v->routes[0].vs_name, "bb");
	CU_ASSERT_STRING_EQUAL(v->routes[1].vs_name, "zz");
	CU_ASSERT_STRING_EQUAL(v->routes[2].vs_name, "aa");
	CU_ASSERT_EQUAL(v->routes[3].rule, 1);
	CU_ASSERT_EQUAL(route(&fx, 80, "GET", "m.example.com", "/z", NULL)->action, GW_ACT_DIRECT);
	fx_free(&fx);
}

struct mcase {
	const char	*method, *path;
	const char	*hdrs[7];
	const char	*want;		/* route name, NULL: 404 */
};

/* Every match kind, first match wins. */
static void
test_match(void)
{
	static const char http[] =
	    "  - name: exact\n    match: [{uri: {exact: /exact}}]\n    route: [{destination: {host: web}}]\n"
	    "  - name: icase\n    match: [{uri: {prefix: /ICase}, ignoreUriCase: true}]\n"
	    "    route: [{destination: {host: web}}]\n"
	    "  - name: regex\n    match: [{uri: {regex: '/r/[0-9]+'}}]\n    route: [{destination: {host: web}}]\n"
	    "  - name: method\n    match: [{method: {exact: POST}, uri: {prefix: /m}}]\n"
	    "    route: [{destination: {host: web}}]\n"
	    "  - name: hdr\n    match: [{headers: {x-user: {exact: bob}}}, {headers: {x-re: {regex: 'a+b'}}}]\n"
	    "    route: [{destination: {host: web}}]\n"
	    "  - name: present\n    match: [{headers: {x-any: {}}, withoutHeaders: {x-no: {}}}]\n"
	    "    route: [{destination: {host: web}}]\n"
	    "  - name: hprefix\n    match: [{headers: {x-p: {prefix: ab}}, withoutHeaders: {x-w: {exact: bad}}}]\n"
	    "    route: [{destination: {host: web}}]\n"
	    "  - name: query\n    match: [{queryParams: {v: {exact: '2'}, on: {}}}]\n"
	    "    route: [{destination: {host: web}}]\n"
	    "  - name: port\n    match: [{port: 8080}]\n    route: [{destination: {host: web}}]\n"
	    "  - name: authority\n    match: [{authority: {prefix: q.example}, uri: {prefix: /auth}}]\n"
	    "    route: [{destination: {host: web}}]\n"
	    "  - name: scheme\n    match: [{scheme: {exact: https}}]\n    route: [{destination: {host: web}}]\n"
	    "  - name: last\n    match: [{uri: {prefix: /last}}]\n    route: [{destination: {host: web}}]\n";
	static const struct mcase cases[] = {
		{ "GET", "/exact", { NULL }, "exact" },
		{ "GET", "/exact?x=1", { NULL }, "exact" },
		{ "GET", "/exact/", { NULL }, NULL },
		{ "GET", "/icase/x", { NULL }, "icase" },
		{ "GET", "/ICASE", { NULL }, "icase" },
		{ "GET", "/r/123", { NULL }, "regex" },
		{ "GET", "/r/123?q", { NULL }, "regex" },
		{ "GET", "/r/12a", { NULL }, NULL },		/* full match */
		{ "GET", "/x/r/1", { NULL }, NULL },
		{ "POST", "/m", { NULL }, "method" },
		{ "GET", "/m", { NULL }, NULL },
		{ "GET", "/", { "X-User", "bob", NULL }, "hdr" },
		{ "GET", "/", { "x-user", "bobby", NULL }, NULL },
		{ "GET", "/", { "x-re", "aaab", NULL }, "hdr" },
		{ "GET", "/", { "x-re", "aaabc", NULL }, NULL },
		{ "GET", "/", { "x-any", "", NULL }, "present" },
		{ "GET", "/", { "x-any", "1", "x-no", "1", NULL }, NULL },
		{ "GET", "/", { "x-p", "abc", NULL }, "hprefix" },
		{ "GET", "/", { "x-p", "abc", "x-w", "bad", NULL }, NULL },
		{ "GET", "/", { "x-p", "abc", "x-w", "good", NULL }, "hprefix" },
		/* two fields of one name are joined with "," */
		{ "GET", "/", { "x-user", "bob", "x-user", "al", NULL }, NULL },
		{ "GET", "/q?v=2&on", { NULL }, "query" },
		{ "GET", "/q?on=1&v=2", { NULL }, "query" },
		{ "GET", "/q?v=22&on", { NULL }, NULL },
		{ "GET", "/q?v=2", { NULL }, NULL },
		{ "GET", "/auth", { NULL }, "authority" },
		{ "GET", "/last/x", { NULL }, "last" },
		{ NULL, NULL, { NULL }, NULL },
	};
	struct fixture fx;
	const struct mcase *c;
	const struct gw_route *r;
	char *objs = cat(GW, vs("m", "team", NULL, "[q.example.com]", "[istio-system/gw]", http),
	    NULL, NULL);

	fx_load(&fx, objs);
	free(objs);
	for (c = cases; c->method; c++) {
		r = route(&fx, 80, c->method, "q.example.com", c->path, c->hdrs);
		if (c->want == NULL) {
			if (r != NULL)
				fprintf(stderr, "%s %s: want 404, got %s\n", c->method, c->path, r->name);
			CU_ASSERT_PTR_NULL(r);
		} else {
			if (r == NULL || strcmp(r->name, c->want) != 0)
				fprintf(stderr, "%s %s: want %s, got %s\n", c->method, c->path,
				    c->want, r ? r->name : "404");
			CU_ASSERT(r != NULL && strcmp(r->name, c->want) == 0);
		}
	}
	/* port and scheme come from the listener */
	{
		const struct gw_vhost *v = gw_vhost_find(&listener(fx.gw, 80)->chains[0],
		    "q.example.com", 13);
		const struct gw_match *m;
		struct treq t;

		r = gw_route_find(v, fx.rx, mkreq(&t, "GET", "q.example.com", "/", "http", 8080, NULL), &m);
		CU_ASSERT(r && strcmp(r->name, "port") == 0);
		r = gw_route_find(v, fx.rx, mkreq(&t, "GET", "q.example.com", "/", "https", 80, NULL), &m);
		CU_ASSERT(r && strcmp(r->name, "scheme") == 0);
	}
	fx_free(&fx);
}

/* The seed's canary: 90/10 over the whole random range, and subsets. */
static void
test_weights(void)
{
	static const char http[] =
	    "  - route:\n"
	    "    - {destination: {host: web, subset: v1}, weight: 90}\n"
	    "    - {destination: {host: web, subset: v2}, weight: 10}\n"
	    "  - match: [{uri: {prefix: /nc}}]\n"
	    "    route: [{destination: {host: web, subset: v9}}]\n";
	struct fixture fx;
	const struct gw_route *r;
	unsigned hits[2] = { 0, 0 };
	uint32_t i, x = 12345;
	const struct gw_cluster *c;
	char *objs = cat(GW, vs("w", "team", NULL, "[w.example.com]", "[istio-system/gw]", http),
	    NULL, NULL);

	fx_load(&fx, objs);
	free(objs);
	r = route(&fx, 80, "GET", "w.example.com", "/", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(r->ndests, 2);
	CU_ASSERT_EQUAL(r->total_weight, 100);
	for (i = 0; i < 100000; i++) {
		const struct gw_dest *d;

		x = x * 1664525u + 1013904223u;
		d = gw_pick_dest(r, x);
		hits[d == &r->dests[0] ? 0 : 1]++;
	}
	CU_ASSERT(hits[0] > 89000 && hits[0] < 91000);
	/* the extremes of the range */
	CU_ASSERT_PTR_EQUAL(gw_pick_dest(r, 0), &r->dests[0]);
	CU_ASSERT_PTR_EQUAL(gw_pick_dest(r, UINT32_MAX), &r->dests[1]);
	c = r->dests[0].cluster;
	CU_ASSERT_STRING_EQUAL(c->name, "outbound|80|v1|web.team.svc.cluster.local");
	CU_ASSERT_EQUAL_FATAL(c->neps, 1);
	CU_ASSERT_STRING_EQUAL(c->eps[0].ip, "10.1.0.1");
	CU_ASSERT_EQUAL(c->lb, GW_LB_ROUND_ROBIN);
	c = r->dests[1].cluster;
	CU_ASSERT_EQUAL_FATAL(c->neps, 1);
	CU_ASSERT_STRING_EQUAL(c->eps[0].ip, "10.1.0.2");
	CU_ASSERT_EQUAL(c->lb, GW_LB_RANDOM);	/* the subset's policy wins */
	/* r's first rule has no match: it takes /nc too (first match wins) */
	c = cluster(fx.gw, "outbound|80|v9|web.team.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL(c->missing);	/* 503 NC */
	{
		size_t k;
		int found = 0;

		for (k = 0; k < fx.gw->nnotes; k++)
			if (strstr(fx.gw->notes[k].msg, "no subset v9") && strcmp(fx.gw->notes[k].name, "w") == 0)
				found = 1;
		CU_ASSERT_TRUE(found);	/* vipgatectl analyze reports it */
	}
	fx_free(&fx);
}

/* EndpointSlices (ready only, Pod labels for subsets), ServiceEntry, WorkloadEntry, missing things. */
static void
test_endpoints(void)
{
	static const char objs2[] =
	    "---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: team}\n"
	    "spec: {selector: {app: api}, ports: [{port: 8000, name: http}, {port: 9000, name: grpc}]}\n"
	    "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	    "metadata: {name: api-1, namespace: team, labels: {kubernetes.io/service-name: api}}\n"
	    "addressType: IPv4\nports: [{name: http, port: 18000}, {name: grpc, port: 19000}]\n"
	    "endpoints:\n- addresses: [10.2.0.1]\n  conditions: {ready: true}\n"
	    "  targetRef: {kind: Pod, name: api-a, namespace: team}\n"
	    "- addresses: [10.2.0.2]\n  conditions: {ready: false}\n"
	    "- addresses: [10.2.0.3]\n"
	    "---\napiVersion: v1\nkind: Pod\nmetadata: {name: api-a, namespace: team, labels: {app: api, version: v1}}\n"
	    "spec: {containers: [{name: c}]}\nstatus: {phase: Running, podIP: 10.2.0.1}\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	    "metadata: {name: api, namespace: istio-system}\n"
	    "spec:\n  host: api.team.svc.cluster.local\n  subsets: [{name: v1, labels: {version: v1}}]\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	    "metadata: {name: ext, namespace: team}\n"
	    "spec:\n  hosts: [ext.example.org]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n"
	    "  resolution: STATIC\n  endpoints: [{address: 192.0.2.10, ports: {http: 8080}}]\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	    "metadata: {name: vm, namespace: team}\n"
	    "spec:\n  hosts: [vm.example.org]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n"
	    "  resolution: STATIC\n  workloadSelector: {labels: {app: vm}}\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
	    "metadata: {name: vm-1, namespace: team}\n"
	    "spec: {address: 192.0.2.11, labels: {app: vm, version: v1}, weight: 3}\n";
	static const char http[] =
	    "  - match: [{uri: {prefix: /api}}]\n    route: [{destination: {host: api, port: {number: 9000}}}]\n"
	    "  - match: [{uri: {prefix: /v1}}]\n    route: [{destination: {host: api, port: {number: 8000}, subset: v1}}]\n"
	    "  - match: [{uri: {prefix: /ext}}]\n    route: [{destination: {host: ext.example.org}}]\n"
	    "  - match: [{uri: {prefix: /vm}}]\n    route: [{destination: {host: vm.example.org}}]\n"
	    "  - match: [{uri: {prefix: /gone}}]\n    route: [{destination: {host: nothere}}]\n"
	    "  - match: [{uri: {prefix: /noport}}]\n    route: [{destination: {host: api}}]\n";
	struct fixture fx;
	const struct gw_cluster *c;
	char *objs = cat(GW, objs2, vs("e", "team", NULL, "[e.example.com]", "[istio-system/gw]", http), NULL);

	fx_load(&fx, objs);
	free(objs);
	c = route(&fx, 80, "GET", "e.example.com", "/api", NULL)->dests[0].cluster;
	CU_ASSERT_STRING_EQUAL(c->name, "outbound|9000||api.team.svc.cluster.local");
	CU_ASSERT_EQUAL_FATAL(c->neps, 2);	/* the not-ready one is out; unset means ready */
	CU_ASSERT_EQUAL(c->eps[0].port, 19000);
	CU_ASSERT_STRING_EQUAL(c->eps[1].ip, "10.2.0.3");
	CU_ASSERT_STRING_EQUAL(c->eps[0].workload, "api-a");
	c = route(&fx, 80, "GET", "e.example.com", "/v1", NULL)->dests[0].cluster;
	CU_ASSERT_PTR_NULL(c->missing);
	CU_ASSERT_EQUAL_FATAL(c->neps, 1);	/* only the Pod labelled version v1 */
	CU_ASSERT_EQUAL(c->eps[0].port, 18000);
	c = route(&fx, 80, "GET", "e.example.com", "/ext", NULL)->dests[0].cluster;
	CU_ASSERT_STRING_EQUAL(c->name, "outbound|80||ext.example.org");
	CU_ASSERT_EQUAL_FATAL(c->neps, 1);
	CU_ASSERT_EQUAL(c->eps[0].port, 8080);
	c = route(&fx, 80, "GET", "e.example.com", "/vm", NULL)->dests[0].cluster;
	CU_ASSERT_EQUAL_FATAL(c->neps, 1);
	CU_ASSERT_STRING_EQUAL(c->eps[0].ip, "192.0.2.11");
	CU_ASSERT_EQUAL(c->eps[0].port, 80);
	CU_ASSERT_EQUAL(c->eps[0].weight, 3);
	CU_ASSERT_STRING_EQUAL(c->eps[0].workload, "vm-1");
	c = route(&fx, 80, "GET", "e.example.com", "/gone", NULL)->dests[0].cluster;
	CU_ASSERT_PTR_NOT_NULL(c->missing);
	c = route(&fx, 80, "GET", "e.example.com", "/noport", NULL)->dests[0].cluster;
	CU_ASSERT_PTR_NOT_NULL(c->missing);	/* two ports and none named */
	fx_free(&fx);
}

/* Redirect, rewrite, header ops, httpsRedirect, notes. */
static void
test_actions(void)
{
	static const char http[] =
	    "  - match: [{uri: {prefix: /old}}]\n    redirect: {uri: /new, redirectCode: 302}\n"
	    "  - match: [{uri: {prefix: /api/}}]\n    rewrite: {uri: /v2/, authority: be.local}\n"
	    "    headers: {request: {set: {X-A: '1'}, remove: [X-B]}, response: {add: {X-C: '2'}}}\n"
	    "    route: [{destination: {host: web}}]\n"
	    "  - match: [{uri: {exact: /e}}]\n    rewrite: {uri: /f}\n    route: [{destination: {host: web}}]\n"
	    "  - match: [{uri: {prefix: /rx}}]\n"
	    "    rewrite: {uriRegexRewrite: {match: '^/rx/([a-z]+)', rewrite: '/\\1/x'}}\n"
	    "    route: [{destination: {host: web}}]\n"
	    "  - match: [{uri: {prefix: /c}}]\n"
	    "    corsPolicy: {allowOrigins: [{exact: 'https://a'}, {regex: 'https://.*'}], allowOrigin: [x],\n"
	    "      allowMethods: [GET, PUT], maxAge: 90s, allowCredentials: false}\n"
	    "    mirror: {host: web}\n    mirrorPercentage: {value: 12.5}\n"
	    "    mirrors: [{destination: {host: web, subset: v2}}]\n"
	    "    route: [{destination: {host: web}}]\n"
	    "  - rewrite: {uri: /root}\n    route: [{destination: {host: web}}]\n";
	static const char redir_gw[] =
	    "---\napiVersion: networking.istio.io/v1\nkind: Gateway\n"
	    "metadata: {name: red, namespace: istio-system}\n"
	    "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
	    "  - port: {number: 81, name: http, protocol: HTTP}\n"
	    "    hosts: ['*']\n    tls: {httpsRedirect: true}\n"
	    "  - port: {number: 8443, name: https, protocol: HTTPS}\n"
	    "    hosts: ['*']\n    tls: {mode: SIMPLE, credentialName: nosuch}\n";
	struct fixture fx;
	const struct gw_route *r;
	const struct gw_match *m;
	const struct gw_vhost *v;
	struct vg_buf out = { 0 };
	struct treq t;
	char *objs = cat(GW, redir_gw, vs("a", "team", NULL, "[a.example.com]",
	    "[istio-system/gw, istio-system/red]", http), NULL);
	size_t i;
	int found;

	fx_load(&fx, objs);
	free(objs);
	r = route(&fx, 80, "GET", "a.example.com", "/old/x", NULL);
	CU_ASSERT_EQUAL(r->action, GW_ACT_REDIRECT);
	CU_ASSERT_EQUAL(r->redirect.code, 302);
	CU_ASSERT_STRING_EQUAL(r->redirect.uri, "/new");

	v = gw_vhost_find(&listener(fx.gw, 80)->chains[0], "a.example.com", 13);
	r = gw_route_find(v, fx.rx, mkreq(&t, "GET", "a.example.com", "/api/users?id=1", "http", 80, NULL), &m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	gw_rewrite_path(r, m, fx.rx, t.r.path, t.r.path_len, &out);
	buf_append(&out, "", 1);
	CU_ASSERT_STRING_EQUAL(out.s, "/v2/users?id=1");
	CU_ASSERT_STRING_EQUAL(r->rewrite->authority, "be.local");
	CU_ASSERT_EQUAL(r->req.nset, 1);
	CU_ASSERT_STRING_EQUAL(r->req.set[0].name, "x-a");
	CU_ASSERT_STRING_EQUAL(r->req.remove[0], "x-b");
	CU_ASSERT_STRING_EQUAL(r->resp.add[0].name, "x-c");

	r = gw_route_find(v, fx.rx, mkreq(&t, "GET", "a.example.com", "/e?z", "http", 80, NULL), &m);
	gw_rewrite_path(r, m, fx.rx, t.r.path, t.r.path_len, &out);
	buf_append(&out, "", 1);
	CU_ASSERT_STRING_EQUAL(out.s, "/f?z");

	r = gw_route_find(v, fx.rx, mkreq(&t, "GET", "a.example.com", "/rx/abc/def", "http", 80, NULL), &m);
	gw_rewrite_path(r, m, fx.rx, t.r.path, t.r.path_len, &out);
	buf_append(&out, "", 1);
	CU_ASSERT_STRING_EQUAL(out.s, "/abc/x/def");

	r = gw_route_find(v, fx.rx, mkreq(&t, "GET", "a.example.com", "/zz", "http", 80, NULL), &m);
	gw_rewrite_path(r, m, fx.rx, t.r.path, t.r.path_len, &out);
	buf_append(&out, "", 1);
	CU_ASSERT_STRING_EQUAL(out.s, "/rootzz");
	buf_free(&out);

	/* corsPolicy and mirrors */
	r = gw_route_find(v, fx.rx, mkreq(&t, "GET", "a.example.com", "/c", "http", 80, NULL), &m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->cors);
	CU_ASSERT_EQUAL(r->cors->norigins, 3);
	CU_ASSERT_EQUAL(r->cors->origins[1].type, GW_MT_REGEX);
	CU_ASSERT_TRUE(gw_strmatch_eval(&r->cors->origins[1], fx.rx, "https://b.test", 14));
	CU_ASSERT_STRING_EQUAL(r->cors->methods, "GET,PUT");
	CU_ASSERT_EQUAL(r->cors->max_age_s, 90);
	CU_ASSERT_EQUAL(r->cors->credentials, 0);
	CU_ASSERT_TRUE(r->cors->forward_unmatched);
	CU_ASSERT_EQUAL_FATAL(r->nmirrors, 2);
	CU_ASSERT_DOUBLE_EQUAL(r->mirrors[0].percent, 12.5, 0.001);
	CU_ASSERT_DOUBLE_EQUAL(r->mirrors[1].percent, 100.0, 0.001);
	CU_ASSERT_STRING_EQUAL(r->mirrors[1].cluster->name, "outbound|80|v2|web.team.svc.cluster.local");

	/* httpsRedirect marks the virtual host */
	v = gw_vhost_find(&listener(fx.gw, 81)->chains[0], "a.example.com", 13);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_TRUE(v->require_tls);
	/* a missing Secret is noted and the chain carries the error */
	CU_ASSERT_PTR_NOT_NULL(listener(fx.gw, 8443)->chains[0].tls->error);
	for (i = 0, found = 0; i < fx.gw->nnotes; i++)
		if (strstr(fx.gw->notes[i].msg, "nosuch"))
			found = 1;
	CU_ASSERT_TRUE(found);
	fx_free(&fx);
}

/* Several Gateways on one port: HTTP servers share a route config, HTTPS servers are chosen by SNI. */
static void
test_shared_port(void)
{
	static const char objs[] =
	    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g1, namespace: a}\n"
	    "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
	    "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [one.test]\n"
	    "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [one.test, '*.wild.test']\n"
	    "    tls: {mode: SIMPLE, credentialName: c1}\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g2, namespace: b}\n"
	    "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
	    "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [two.test]\n"
	    "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [two.test, one.test]\n"
	    "    tls: {mode: MUTUAL, credentialName: c2}\n";
	struct fixture fx;
	const struct gw_listener *l80, *l443;
	const struct gw_chain *c;
	char *c1, *c2, *ca2;
	char *s1 = tfx_secret("c1", "one.test", "tls.crt", "tls.key", NULL, &c1);
	char *s2 = tfx_secret("c2", "two.test", "cert", "key", NULL, &c2);
	char *s3 = tfx_secret("c2-cacert", "ca", NULL, NULL, "cacert", &ca2);
	char *o0 = cat(objs, s1, s2, s3);
	char *o = cat(o0, vs("v1", "a", NULL, "[one.test, x.wild.test]", "[g1]",
	    "  - route: [{destination: {host: s}}]\n"),
	    vs("v2", "b", NULL, "[two.test, one.test]", "[g2]", "  - route: [{destination: {host: s}}]\n"), NULL);
	size_t i;
	int clash = 0;

	fx_load(&fx, o);
	free(o);
	free(o0);
	free(s1);
	free(s2);
	free(s3);
	l80 = listener(fx.gw, 80);
	l443 = listener(fx.gw, 443);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l80);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l443);
	CU_ASSERT_EQUAL(l80->nchains, 1);	/* http.80 for both Gateways */
	CU_ASSERT_EQUAL(l80->chains[0].nvhosts, 2);
	CU_ASSERT_PTR_NOT_NULL(route(&fx, 80, "GET", "one.test", "/", NULL));
	CU_ASSERT_PTR_NOT_NULL(route(&fx, 80, "GET", "two.test", "/", NULL));
	CU_ASSERT_EQUAL_FATAL(l443->nchains, 2);
	c = gw_chain_find(l443, "two.test");
	CU_ASSERT_STRING_EQUAL(c->name, "https.443.https.g2.b");
	CU_ASSERT_EQUAL(c->tls->mode, GW_TLS_MUTUAL);
	CU_ASSERT_STRING_EQUAL(c->tls->cert, c2);	/* cert/key form */
	CU_ASSERT_STRING_EQUAL(c->tls->ca, ca2);	/* from <name>-cacert */
	CU_ASSERT_PTR_NULL(c->tls->error);
	c = gw_chain_find(l443, "a.x.wild.test");
	CU_ASSERT_STRING_EQUAL(c->name, "https.443.https.g1.a");
	CU_ASSERT_STRING_EQUAL(c->tls->cert, c1);
	/* one.test on two HTTPS servers: the first wins, analyze says so */
	CU_ASSERT_STRING_EQUAL(gw_chain_find(l443, "one.test")->name, "https.443.https.g1.a");
	/* Envoy: no SNI, or a name no server has, matches no chain (no "*" server here) */
	CU_ASSERT_PTR_NULL(gw_chain_find(l443, NULL));
	CU_ASSERT_PTR_NULL(gw_chain_find(l443, "three.test"));
	CU_ASSERT_PTR_NULL(gw_chain_find(l443, "wild.test"));	/* *.wild.test needs a label more */
	/* a plain listener has one chain for every name */
	CU_ASSERT_PTR_EQUAL(gw_chain_find(l80, NULL), &l80->chains[0]);
	for (i = 0; i < fx.gw->nnotes; i++)
		if (strstr(fx.gw->notes[i].msg, "one.test is already served"))
			clash = 1;
	CU_ASSERT_TRUE(clash);
	fx_free(&fx);
	free(c1);
	free(c2);
	free(ca2);
}

/*
 * gateway.deployments: two gateways on port 443, each on its own Service's
 * VIP with its own Gateways, VirtualServices, policies and
 * DestinationRules; a server's bind gets a listener of its own.
 */
static void
test_deployments(void)
{
	static const char cfgyaml[] =
	    "node: {name: node-a}\n"
	    "gateway:\n  deployments:\n"
	    "  - {name: ingress, labels: {istio: ingressgateway}}\n"
	    "  - {name: internal, labels: {istio: internal-gateway}}\n";
	static const char objs[] =
	    "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
	    "metadata: {name: p, namespace: metallb-system}\n"
	    "spec: {addresses: [192.0.2.0/28]}\n"
	    "---\napiVersion: v1\nkind: Service\nmetadata: {name: ingress, namespace: istio-system}\n"
	    "spec: {type: LoadBalancer, loadBalancerIP: 192.0.2.1, selector: {istio: ingressgateway},"
	    " ports: [{port: 443}]}\n"
	    "---\napiVersion: v1\nkind: Service\nmetadata: {name: internal, namespace: istio-system}\n"
	    "spec: {type: LoadBalancer, loadBalancerIP: 192.0.2.2, selector: {istio: internal-gateway},"
	    " ports: [{port: 443}]}\n"
	    "---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\n"
	    "spec: {selector: {app: s}, ports: [{port: 80, name: http}]}\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: pub, namespace: a}\n"
	    "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
	    "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [pub.test]\n"
	    "    tls: {mode: SIMPLE, credentialName: c1}\n"
	    "  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: ['*']\n"
	    "    bind: 198.51.100.7\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: int, namespace: a}\n"
	    "spec:\n  selector: {istio: internal-gateway}\n  servers:\n"
	    "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [int.test]\n"
	    "    tls: {mode: SIMPLE, credentialName: c2}\n"
	    "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
	    "metadata: {name: internal-only, namespace: istio-system}\n"
	    "spec: {selector: {matchLabels: {istio: internal-gateway}}, action: DENY,"
	    " rules: [{to: [{operation: {paths: [/admin]}}]}]}\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	    "metadata: {name: s, namespace: istio-system}\n"
	    "spec: {host: s.a.svc.cluster.local, workloadSelector: {matchLabels: {istio: internal-gateway}},"
	    " trafficPolicy: {loadBalancer: {simple: RANDOM}}}\n";
	struct fixture fx;
	struct vg_errs errs = { 0 };
	const struct gw_desired *g;
	const struct gw_listener *pub = NULL, *in = NULL, *bound = NULL;
	char *c1, *c2;
	char *s1 = tfx_secret("c1", "pub.test", "tls.crt", "tls.key", NULL, &c1);
	char *s2 = tfx_secret("c2", "int.test", "tls.crt", "tls.key", NULL, &c2);
	char *o0 = cat(objs, s1, s2, NULL);
	char *o = cat(o0, vs("vp", "a", NULL, "[pub.test]", "[pub]",
	    "  - route: [{destination: {host: s}}]\n"),
	    vs("vi", "a", NULL, "[int.test]", "[int]", "  - route: [{destination: {host: s}}]\n"),
	    vs("vb", "a", NULL, "['*']", "[pub]", "  - route: [{destination: {host: s}}]\n"));
	size_t i;

	memset(&fx, 0, sizeof(fx));
	fx.cfg = config_parse(cfgyaml, strlen(cfgyaml), "vipgate.yaml", &errs);
	cu_errs_dump(&errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx.cfg);
	errs_clear(&errs);
	CU_ASSERT_EQUAL(fx.cfg->gateway.ndeployments, 2);
	CU_ASSERT_TRUE(fx.cfg->gateway.deployments_set);
	fx.st = store_new();
	fx_add(&fx, o, "test.yaml");
	fx_run(&fx);
	g = fx.gw;
	CU_ASSERT_EQUAL_FATAL(g->ndeps, 2);
	CU_ASSERT_STRING_EQUAL(g->deps[0].name, "ingress");
	CU_ASSERT_STRING_EQUAL(g->deps[1].name, "internal");
	for (i = 0; i < g->nlisteners; i++) {
		const struct gw_listener *l = &g->listeners[i];

		if (l->port == 443 && l->dep == 0)
			pub = l;
		else if (l->port == 443 && l->dep == 1)
			in = l;
		else if (l->port == 8080)
			bound = l;
	}
	CU_ASSERT_EQUAL(g->nlisteners, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bound);
	/* each on its own Service's VIP, told apart by scope */
	CU_ASSERT_EQUAL_FATAL(pub->naddrs, 1);
	CU_ASSERT_STRING_EQUAL(pub->addrs[0], "192.0.2.1");
	CU_ASSERT_EQUAL_FATAL(in->naddrs, 1);
	CU_ASSERT_STRING_EQUAL(in->addrs[0], "192.0.2.2");
	CU_ASSERT_NOT_EQUAL(pub->scope, in->scope);
	/* the bind address, not the VIP */
	CU_ASSERT_EQUAL_FATAL(bound->naddrs, 1);
	CU_ASSERT_STRING_EQUAL(bound->addrs[0], "198.51.100.7");
	CU_ASSERT_STRING_EQUAL(bound->bind, "198.51.100.7");
	/* a name reaches only its own gateway's chain: no SNI match across */
	CU_ASSERT_PTR_NOT_NULL(gw_chain_find(pub, "pub.test"));
	CU_ASSERT_PTR_NULL(gw_chain_find(pub, "int.test"));
	CU_ASSERT_PTR_NOT_NULL(gw_chain_find(in, "int.test"));
	CU_ASSERT_PTR_NULL(gw_chain_find(in, "pub.test"));
	CU_ASSERT_STRING_EQUAL(gw_chain_find(pub, "pub.test")->tls->cert, c1);
	CU_ASSERT_STRING_EQUAL(gw_chain_find(in, "int.test")->tls->cert, c2);
	/* the policy selects the internal gateway only */
	CU_ASSERT_PTR_NULL(g->deps[0].authz);
	CU_ASSERT_PTR_NOT_NULL(g->deps[1].authz);
	/* the DestinationRule's workloadSelector: a cluster a deployment */
	CU_ASSERT_PTR_NOT_NULL_FATAL(cluster(g, "outbound|80||s.a.svc.cluster.local@ingress"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(cluster(g, "outbound|80||s.a.svc.cluster.local@internal"));
	CU_ASSERT_EQUAL(cluster(g, "outbound|80||s.a.svc.cluster.local@internal")->lb, GW_LB_RANDOM);
	CU_ASSERT_EQUAL(cluster(g, "outbound|80||s.a.svc.cluster.local@ingress")->lb,
	    GW_LB_LEAST_REQUEST);
	/* the Services select a deployment each */
	CU_ASSERT_TRUE(desired_find_svc(fx.d, "istio-system", "ingress")->is_gateway);
	CU_ASSERT_TRUE(desired_find_svc(fx.d, "istio-system", "internal")->is_gateway);
	fx_free(&fx);
	free(o);
	free(o0);
	free(s1);
	free(s2);
	free(c1);
	free(c2);
}

/* gateway.deployments: what the config refuses. */
static void
test_deployments_config(void)
{
	static const char *const bad[] = {
	    "gateway:\n  labels: {a: b}\n  deployments: [{name: x, labels: {c: d}}]\n",
	    "gateway:\n  deployments: []\n",
	    "gateway:\n  deployments: [{name: x}]\n",
	    "gateway:\n  deployments: [{labels: {a: b}}]\n",
	    "gateway:\n  deployments: [{name: !, labels: {a: b}}]\n",
	    "gateway:\n  deployments: [{name: ~, labels: {a: b}}]\n",
	    "gateway:\n  deployments: [{name: X_y, labels: {a: b}}]\n",
	    "gateway:\n  deployments: [{name: x, labels: {a: b}}, {name: x, labels: {c: d}}]\n",
	    "gateway:\n  deployments: [{name: x, labels: {a: b}}, {name: y, labels: {a: b}}]\n",
	};
	static const char good[] = "node: {name: n}\n";
	struct vg_errs errs = { 0 };
	struct config *cfg;
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(bad); i++) {
		cfg = config_parse(bad[i], strlen(bad[i]), "vipgate.yaml", &errs);
		CU_ASSERT_PTR_NULL(cfg);
		CU_ASSERT_TRUE(errs.nerrors > 0);
		if (cfg)
			config_free(cfg);
		errs_clear(&errs);
	}
	/* without deployments: one from gateway.labels, on gateway.bind */
	cfg = config_parse(good, strlen(good), "vipgate.yaml", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->gateway.ndeployments, 1);
	CU_ASSERT_FALSE(cfg->gateway.deployments_set);
	CU_ASSERT_STRING_EQUAL(cfg->gateway.deployments[0].name, "istio=ingressgateway");
	config_free(cfg);
	errs_clear(&errs);
}

/* Envoy's virtual host order: exact, longest wildcard, "*". */
static void
test_vhost_order(void)
{
	static struct gw_vhost vh[] = {
		{ .name = "*" }, { .name = "*.a.example.com" }, { .name = "*.example.com" },
		{ .name = "b.a.example.com" },
	};
	struct gw_chain c = { .vhosts = vh, .nvhosts = 4 };

	CU_ASSERT_PTR_EQUAL(gw_vhost_find(&c, "b.a.example.com", 15), &vh[3]);
	CU_ASSERT_PTR_EQUAL(gw_vhost_find(&c, "c.a.example.com:8080", 20), &vh[1]);
	CU_ASSERT_PTR_EQUAL(gw_vhost_find(&c, "x.y.a.example.com", 17), &vh[1]);
	CU_ASSERT_PTR_EQUAL(gw_vhost_find(&c, "C.Example.COM", 13), &vh[2]);
	CU_ASSERT_PTR_EQUAL(gw_vhost_find(&c, "example.com", 11), &vh[0]);
	CU_ASSERT_PTR_EQUAL(gw_vhost_find(&c, "", 0), &vh[0]);
	CU_ASSERT_PTR_EQUAL(gw_vhost_find(&c, "[::1]:80", 8), &vh[0]);
}

/*
 * The upstream protocol, as Istio's setUpstreamProtocol picks it: HTTP/2
 * ports by name or appProtocol, h2UpgradePolicy, useClientProtocol; and the
 * grpc_web filter on GRPC-Web servers only.
 */
static void
test_upstream_proto(void)
{
	static const char objs[] =
	    "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	    "metadata: {name: gw, namespace: default}\n"
	    "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
	    "  - {port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}\n"
	    "  - {port: {number: 81, name: web, protocol: GRPC-Web}, hosts: ['*']}\n"
	    "---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: default}\n"
	    "spec: {ports: [{port: 1, name: grpc}, {port: 2, name: http2-x}, {port: 3, name: http},"
	    " {port: 4, name: web, appProtocol: kubernetes.io/h2c}, {port: 5, name: grpc-web},"
	    " {port: 6, name: http, appProtocol: http2}, {port: 7, name: grpcx},"
	    " {port: 8, name: http}, {port: 9, name: http}, {port: 10, name: grpc, appProtocol: http}]}\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	    "metadata: {name: s, namespace: default}\n"
	    "spec:\n  host: s.default.svc.cluster.local\n  trafficPolicy:\n    portLevelSettings:\n"
	    "    - {port: {number: 8}, connectionPool: {http: {h2UpgradePolicy: UPGRADE}}}\n"
	    "    - {port: {number: 9}, connectionPool: {http: {useClientProtocol: true}}}\n"
	    "    - {port: {number: 1}, connectionPool: {http: {h2UpgradePolicy: DO_NOT_UPGRADE}}}\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: vs, namespace: default}\n"
	    "spec:\n  hosts: ['*']\n  gateways: [gw]\n  http:\n"
	    "  - match: [{uri: {prefix: /1}}]\n    route: [{destination: {host: s, port: {number: 1}}}]\n"
	    "  - match: [{uri: {prefix: /2}}]\n    route: [{destination: {host: s, port: {number: 2}}}]\n"
	    "  - match: [{uri: {prefix: /3}}]\n    route: [{destination: {host: s, port: {number: 3}}}]\n"
	    "  - match: [{uri: {prefix: /4}}]\n    route: [{destination: {host: s, port: {number: 4}}}]\n"
	    "  - match: [{uri: {prefix: /5}}]\n    route: [{destination: {host: s, port: {number: 5}}}]\n"
	    "  - match: [{uri: {prefix: /6}}]\n    route: [{destination: {host: s, port: {number: 6}}}]\n"
	    "  - match: [{uri: {prefix: /7}}]\n    route: [{destination: {host: s, port: {number: 7}}}]\n"
	    "  - match: [{uri: {prefix: /8}}]\n    route: [{destination: {host: s, port: {number: 8}}}]\n"
	    "  - match: [{uri: {prefix: /9}}]\n    route: [{destination: {host: s, port: {number: 9}}}]\n"
	    "  - route: [{destination: {host: s, port: {number: 10}}}]\n";
	static const struct { int port, proto; } want[] = {
		{ 1, GW_UP_H2 },	/* an HTTP/2 port stays HTTP/2 whatever the rule says */
		{ 2, GW_UP_H2 }, { 3, GW_UP_H1 }, { 4, GW_UP_H2 }, { 5, GW_UP_H2 }, { 6, GW_UP_H2 },
		{ 7, GW_UP_H1 },	/* "grpcx" is not grpc */
		{ 8, GW_UP_H2 }, { 9, GW_UP_CLIENT },
		{ 10, GW_UP_H1 },	/* appProtocol wins over the name */
	};
	struct fixture fx;
	const struct gw_listener *l;
	char name[96];
	size_t i;

	fx_load(&fx, objs);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct gw_cluster *c;

		snprintf(name, sizeof(name), "outbound|%d||s.default.svc.cluster.local", want[i].port);
		c = cluster(fx.gw, name);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		if ((int)c->up_proto != want[i].proto)
			fprintf(stderr, "port %d: up_proto %d, want %d\n", want[i].port, (int)c->up_proto,
			    want[i].proto);
		CU_ASSERT_EQUAL((int)c->up_proto, want[i].proto);
	}
	l = listener(fx.gw, 80);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(l->chains[0].grpc_web, 0);
	l = listener(fx.gw, 81);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(l->chains[0].grpc_web, 1);
	fx_free(&fx);
}

/* A pattern PCRE2 refuses names itself. */
static void
test_bad_regex(void)
{
	const char *pats[] = { "a(" };
	struct gw_desired g = { .regexes = pats, .nregexes = 1 };
	char *err = NULL;

	CU_ASSERT_PTR_NULL(gw_rx_new(&g, &err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT(strstr(err, "a(") != NULL);
	free(err);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "seed walk-through", test_seed },
		{ "hosts, ns/ rules, selector", test_hosts },
		{ "VirtualService merge order", test_merge },
		{ "match kinds", test_match },
		{ "weighted pick and subsets", test_weights },
		{ "endpoints", test_endpoints },
		{ "redirect, rewrite, headers", test_actions },
		{ "several Gateways on one port", test_shared_port },
		{ "several gateway deployments", test_deployments },
		{ "gateway.deployments config", test_deployments_config },
		{ "virtual host order", test_vhost_order },
		{ "bad regex", test_bad_regex },
		{ "upstream protocol and gRPC-Web chains", test_upstream_proto },
		{ NULL, NULL },
	};
	int rc = cu_run("gw_route", tests);

	gw_rx_thread_done();
	return rc;
}
