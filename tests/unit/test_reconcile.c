#include "config.h"

#include "cu.h"
#include "fixture.h"
#include "vipgate/config.h"
#include "vipgate/reconcile.h"
#include "vipgate/source.h"

static struct desired *
run(struct fixture *fx, int gateway_ready)
{
	struct live_view live = { 0 };

	live.gateway_ready = gateway_ready;
	return reconcile(fx->st, fx->cfg, &live);
}

static const char *POOL =
    "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
    "metadata: {name: p, namespace: metallb-system, labels: {zone: a}}\n"
    "spec: {addresses: [192.0.2.0/30, '2001:db8::/126']}\n";

static const char *
svc(const char *name, const char *extra)
{
	static char buf[8][1024];
	static int k;
	char *b = buf[k++ % 8];

	snprintf(b, sizeof(buf[0]),
	    "---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\n"
	    "spec:\n  type: LoadBalancer\n  selector: {app: %s}\n  ports: [{port: 80}]\n%s",
	    name, name, extra ? extra : "");
	return b;
}

static const char *
slice(const char *svcname, const char *node, const char *cond)
{
	static char buf[8][1024];
	static int k;
	char *b = buf[k++ % 8];

	snprintf(b, sizeof(buf[0]),
	    "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	    "metadata: {name: %s-%s, namespace: default, labels: {kubernetes.io/service-name: %s}}\n"
	    "addressType: IPv4\nendpoints:\n- addresses: [10.0.0.1]\n  nodeName: %s\n  conditions: %s\n",
	    svcname, node, svcname, node, cond ? cond : "{}");
	return b;
}

static char *
cat(const char *a, const char *b, const char *c, const char *d)
{
	char *s;

	xasprintf(&s, "%s%s%s%s", a, b ? b : "", c ? c : "", d ? d : "");
	return s;
}

static void
test_announce_decisions(void)
{
	static const struct {
		const char *name, *adv, *svcextra, *slices, *node;
		unsigned announce;
		const char *why;
	} cases[] = {
		{ "no advertisement", "", NULL, "A", NULL, 0, "no L2Advertisement or BGPAdvertisement" },
		{ "L2 for all pools", "L2", NULL, "A", NULL, ANNOUNCE_L2, NULL },
		{ "BGP by pool name", "BGPp", NULL, "A", NULL, ANNOUNCE_BGP, NULL },
		{ "both", "L2BGPp", NULL, "A", NULL, ANNOUNCE_L2 | ANNOUNCE_BGP, NULL },
		{ "L2 for another pool", "L2q", NULL, "A", NULL, 0, "no L2Advertisement" },
		{ "L2 by pool selector", "L2zone", NULL, "A", NULL, ANNOUNCE_L2, NULL },
		{ "L2 for other nodes", "L2nodeB", NULL, "A", NULL, 0, "no L2Advertisement" },
		{ "no endpoint", "L2", NULL, "", NULL, 0, "no ready endpoint" },
		{ "endpoint not ready", "L2", NULL, "N", NULL, 0, "no ready endpoint" },
		{ "not ready but serving", "L2", NULL, "S", NULL, ANNOUNCE_L2, NULL },
		{ "ETP Local, endpoint elsewhere", "L2", "  externalTrafficPolicy: Local\n", "B", NULL, 0,
		  "externalTrafficPolicy Local" },
		{ "ETP Local, endpoint here", "L2", "  externalTrafficPolicy: Local\n", "A", NULL, ANNOUNCE_L2, NULL },
		{ "ETP Cluster, endpoint elsewhere", "L2", NULL, "B", NULL, ANNOUNCE_L2, NULL },
		{ "node excluded", "L2", NULL, "A",
		  "apiVersion: v1\nkind: Node\nmetadata: {name: node-a, labels: "
		  "{node.kubernetes.io/exclude-from-external-load-balancers: ''}}\n", 0, "exclude-from-external" },
		{ "node network unavailable", "L2", NULL, "A",
		  "apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\n"
		  "status: {conditions: [{type: NetworkUnavailable, status: 'True'}]}\n", 0, "NetworkUnavailable" },
		{ "node labels from the Node object select", "L2nodeRack", NULL, "A",
		  "apiVersion: v1\nkind: Node\nmetadata: {name: node-a, labels: {rack: r1}}\n", ANNOUNCE_L2, NULL },
		{ "service selector", "L2svc", "", "A", NULL, 0, "no L2Advertisement" },
	};
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		struct fixture fx;
		struct vg_buf b = { 0 };
		struct desired *d;
		const struct svc_state *s;
		const char *adv = cases[i].adv;

		buf_puts(&b, POOL);
		if (strstr(adv, "L2")) {
			buf_puts(&b, "---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement\n"
			    "metadata: {name: l2, namespace: metallb-system}\nspec:\n");
			if (strstr(adv, "L2q"))
				buf_puts(&b, "  ipAddressPools: [q]\n");
			if (strstr(adv, "L2zone"))
				buf_puts(&b, "  ipAddressPoolSelectors: [{matchLabels: {zone: a}}]\n");
			if (strstr(adv, "nodeB"))
				buf_puts(&b, "  nodeSelectors: [{matchLabels: {kubernetes.io/hostname: node-b}}]\n");
			if (strstr(adv, "nodeRack"))
				buf_puts(&b, "  nodeSelectors: [{matchLabels: {rack: r1}}]\n");
			if (strstr(adv, "L2svc"))
				buf_puts(&b, "  serviceSelectors: [{matchLabels: {expose: l2}}]\n");
		}
		if (strstr(adv, "BGPp"))
			buf_puts(&b, "---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\n"
			    "metadata: {name: b, namespace: metallb-system}\nspec: {ipAddressPools: [p]}\n");
		buf_puts(&b, svc("web", cases[i].svcextra));
		if (strchr(cases[i].slices, 'A'))
			buf_puts(&b, slice("web", "node-a", NULL));
		if (strchr(cases[i].slices, 'B'))
			buf_puts(&b, slice("web", "node-b", NULL));
		if (strchr(cases[i].slices, 'N'))
			buf_puts(&b, slice("web", "node-a", "{ready: false}"));
		if (strchr(cases[i].slices, 'S'))
			buf_puts(&b, slice("web", "node-a", "{ready: false, serving: true}"));
		if (cases[i].node) {
			buf_puts(&b, "---\n");
			buf_puts(&b, cases[i].node);
		}
		fx_load(&fx, "node: {name: node-a}\n", b.s);
		d = run(&fx, 1);
		s = desired_find_svc(d, "default", "web");
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		if (s->announce != cases[i].announce ||
		    (cases[i].why && (!s->why_not || !strstr(s->why_not, cases[i].why))))
			fprintf(stderr, "case \"%s\": announce %u why_not %s\n", cases[i].name,
			    s->announce, s->why_not ? s->why_not : "-");
		CU_ASSERT_EQUAL(s->announce, cases[i].announce);
		if (cases[i].why) {
			CU_ASSERT_PTR_NOT_NULL(s->why_not);
			CU_ASSERT_PTR_NOT_NULL(s->why_not ? strstr(s->why_not, cases[i].why) : NULL);
			CU_ASSERT_FALSE(s->serve_local);
		} else {
			CU_ASSERT_TRUE(s->serve_local);
			CU_ASSERT_EQUAL(d->nlocal_addrs, 1);
		}
		desired_unref(d);
		fx_free(&fx);
		buf_free(&b);
	}
}

static void
test_gateway_service(void)
{
	struct fixture fx;
	struct desired *d;
	const struct svc_state *s;
	char *objs = cat(POOL, "---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement\n"
	    "metadata: {name: l2, namespace: metallb-system}\n",
	    "---\napiVersion: v1\nkind: Service\nmetadata: {name: istio-ingressgateway, namespace: istio-system}\n"
	    "spec:\n  type: LoadBalancer\n  externalTrafficPolicy: Local\n"
	    "  selector: {app: istio-ingressgateway, istio: ingressgateway}\n  ports: [{port: 80}]\n",
	    svc("other", NULL));

	fx_load(&fx, "node: {name: node-a}\n", objs);
	/* the gateway counts as this node's ready endpoint when it is ready */
	d = run(&fx, 1);
	s = desired_find_svc(d, "istio-system", "istio-ingressgateway");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_TRUE(s->is_gateway);
	CU_ASSERT_TRUE(s->ready_local);
	CU_ASSERT_EQUAL(s->announce, ANNOUNCE_L2);
	CU_ASSERT_FALSE(desired_find_svc(d, "default", "other")->is_gateway);
	desired_unref(d);
	d = run(&fx, 0);
	s = desired_find_svc(d, "istio-system", "istio-ingressgateway");
	CU_ASSERT_EQUAL(s->announce, 0);
	CU_ASSERT_FALSE(s->serve_local);
	CU_ASSERT_STRING_EQUAL(s->gateway_state, "not ready");
	desired_unref(d);
	fx_free(&fx);

	/* gateway disabled: an ordinary Service */
	fx_load(&fx, "node: {name: node-a}\ngateway: {enabled: false}\n", objs);
	d = run(&fx, 1);
	CU_ASSERT_FALSE(desired_find_svc(d, "istio-system", "istio-ingressgateway")->is_gateway);
	desired_unref(d);
	fx_free(&fx);
	free(objs);
}

static struct desired *
run_why(struct fixture *fx, const char *why)
{
	struct live_view live = { 0 };

	live.gateway_ready = why == NULL;
	live.gateway_why = why;
	return reconcile(fx->st, fx->cfg, &live);
}

/*
 * A node stops announcing the gateway's VIPs while its gateway cannot
 * serve, whatever endpoints the Service lists on other nodes, and says why.
 */
static void
test_gateway_health(void)
{
	struct fixture fx;
	struct desired *d;
	const struct svc_state *s;
	const char *gwsvc =
	    "---\napiVersion: v1\nkind: Service\nmetadata: {name: istio-ingressgateway, namespace: istio-system}\n"
	    "spec:\n  type: LoadBalancer\n"
	    "  selector: {app: istio-ingressgateway, istio: ingressgateway}\n  ports: [{port: 80}]\n"
	    "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	    "metadata: {name: gw-x, namespace: istio-system, labels: {kubernetes.io/service-name: istio-ingressgateway}}\n"
	    "addressType: IPv4\nendpoints: [{addresses: [10.9.0.1], nodeName: node-b}]\n";
	const char *routes =
	    "---\napiVersion: networking.istio.io/v1\nkind: Gateway\n"
	    "metadata: {name: gw, namespace: default}\n"
	    "spec:\n  selector: {istio: ingressgateway}\n"
	    "  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	    "metadata: {name: web, namespace: default}\n"
	    "spec:\n  hosts: ['*']\n  gateways: [gw]\n"
	    "  http: [{route: [{destination: {host: web.default.svc.cluster.local, port: {number: 80}}}]}]\n";
	char *objs = cat(POOL, "---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\n"
	    "metadata: {name: b, namespace: metallb-system}\n", gwsvc, routes),
	    *withep = cat(objs, svc("web", NULL), slice("web", "node-b", "{ready: true}"),
	    "ports: [{port: 8080}]\n");

	fx_load(&fx, "node: {name: node-a}\n", objs);
	d = run_why(&fx, NULL);
	s = desired_find_svc(d, "istio-system", "istio-ingressgateway");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->announce, ANNOUNCE_BGP);
	CU_ASSERT_STRING_EQUAL(s->gateway_state, "serving");
	CU_ASSERT_PTR_NULL(s->why_not);
	CU_ASSERT_EQUAL(d->nlocal_addrs, 1);
	desired_unref(d);
	/* a listener not bound, or draining: not announced though node-b is ready */
	d = run_why(&fx, "a listener is not bound");
	s = desired_find_svc(d, "istio-system", "istio-ingressgateway");
	CU_ASSERT_EQUAL(s->announce, 0);
	CU_ASSERT_FALSE(s->serve_local);
	CU_ASSERT_STRING_EQUAL(s->why_not, "gateway cannot serve: a listener is not bound");
	CU_ASSERT_STRING_EQUAL(s->gateway_state, "a listener is not bound");
	CU_ASSERT_EQUAL(d->nlocal_addrs, 0);
	desired_unref(d);
	fx_free(&fx);

	/* require_endpoints: no route reaches a ready endpoint */
	fx_load(&fx, "node: {name: node-a}\ngateway: {require_endpoints: true}\n", objs);
	d = run_why(&fx, NULL);
	s = desired_find_svc(d, "istio-system", "istio-ingressgateway");
	CU_ASSERT_EQUAL(s->announce, 0);
	CU_ASSERT_STRING_EQUAL(s->why_not, "gateway cannot serve: no route has a ready endpoint");
	desired_unref(d);
	fx_free(&fx);
	fx_load(&fx, "node: {name: node-a}\ngateway: {require_endpoints: true}\n", withep);
	d = run_why(&fx, NULL);
	s = desired_find_svc(d, "istio-system", "istio-ingressgateway");
	CU_ASSERT_EQUAL(s->announce, ANNOUNCE_BGP);
	CU_ASSERT_STRING_EQUAL(s->gateway_state, "serving");
	desired_unref(d);
	fx_free(&fx);
	free(objs);
	free(withep);
}

/* Two gateway deployments, each with its Service, Gateway and route. */
static const char *DEPS_CFG =
    "node: {name: node-a}\n"
    "gateway:\n  deployments: [{name: ingress, labels: {istio: ingressgateway}},\n"
    "    {name: internal, labels: {istio: internal-gateway}}]\n";

static struct desired *
run_deps(struct fixture *fx, const char *why, const char *const *unbound, size_t nunbound)
{
	struct live_view live = { 0 };

	live.gateway_ready = why == NULL;
	live.gateway_why = why;
	live.gateway_unbound = unbound;
	live.ngateway_unbound = nunbound;
	return reconcile(fx->st, fx->cfg, &live);
}

static const struct svc_state *
gw_svc(const struct desired *d, const char *name)
{
	const struct svc_state *s = desired_find_svc(d, "istio-system", name);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT(s->is_gateway);
	return s;
}

/*
 * Readiness by deployment: a deployment with a listener not bound (or,
 * with require_endpoints, no route to a ready endpoint) withdraws its own
 * Service's VIPs from this node, and the other deployment's stay.
 */
static void
test_gateway_deployments(void)
{
	static const char *internal[] = { "internal" };
	static const char *both[] = { "internal", "ingress" };
	struct fixture fx;
	struct desired *d;
	const struct svc_state *pub, *in;
	const char *objs_gw =
	    "---\napiVersion: v1\nkind: Service\nmetadata: {name: istio-ingressgateway, namespace: istio-system}\n"
	    "spec: {type: LoadBalancer, selector: {istio: ingressgateway}, ports: [{port: 80}]}\n"
	    "---\napiVersion: v1\nkind: Service\nmetadata: {name: internal-gateway, namespace: istio-system}\n"
	    "spec: {type: LoadBalancer, selector: {istio: internal-gateway}, ports: [{port: 80}]}\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: pub, namespace: default}\n"
	    "spec:\n  selector: {istio: ingressgateway}\n"
	    "  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: int, namespace: default}\n"
	    "spec:\n  selector: {istio: internal-gateway}\n"
	    "  servers: [{port: {number: 81, name: http, protocol: HTTP}, hosts: ['*']}]\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: pub, namespace: default}\n"
	    "spec:\n  hosts: ['*']\n  gateways: [pub]\n"
	    "  http: [{route: [{destination: {host: web.default.svc.cluster.local, port: {number: 80}}}]}]\n"
	    "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: int, namespace: default}\n"
	    "spec:\n  hosts: ['*']\n  gateways: [int]\n"
	    "  http: [{route: [{destination: {host: back.default.svc.cluster.local, port: {number: 80}}}]}]\n";
	char *web = cat(svc("web", NULL), slice("web", "node-b", "{ready: true}"),
	    "ports: [{port: 8080}]\n", "");
	char *objs = cat(POOL, "---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\n"
	    "metadata: {name: b, namespace: metallb-system}\n", objs_gw, web);
	char *cfg_req = cat(DEPS_CFG, "  require_endpoints: true\n", "", "");

	fx_load(&fx, DEPS_CFG, objs);
	d = run_deps(&fx, NULL, NULL, 0);
	pub = gw_svc(d, "istio-ingressgateway");
	in = gw_svc(d, "internal-gateway");
	CU_ASSERT_STRING_EQUAL(pub->gateway_state, "serving");
	CU_ASSERT_STRING_EQUAL(in->gateway_state, "serving");
	CU_ASSERT(pub->serve_local && in->serve_local);
	CU_ASSERT_EQUAL(d->ngateway_deps, 2);
	CU_ASSERT_EQUAL(d->ngateway_deps_down, 0);
	CU_ASSERT_PTR_NULL(d->gateway_down);
	desired_unref(d);

	/* the internal deployment's listener not bound: only its VIP goes */
	d = run_deps(&fx, NULL, internal, 1);
	pub = gw_svc(d, "istio-ingressgateway");
	in = gw_svc(d, "internal-gateway");
	CU_ASSERT_STRING_EQUAL(pub->gateway_state, "serving");
	CU_ASSERT(pub->serve_local);
	CU_ASSERT_EQUAL(pub->announce, ANNOUNCE_BGP);
	CU_ASSERT_FALSE(in->serve_local);
	CU_ASSERT_EQUAL(in->announce, 0);
	CU_ASSERT_STRING_EQUAL(in->gateway_state, "deployment internal: a listener is not bound");
	CU_ASSERT_STRING_EQUAL(in->why_not,
	    "gateway cannot serve: deployment internal: a listener is not bound");
	CU_ASSERT_EQUAL(d->ngateway_deps_down, 1);
	CU_ASSERT_STRING_EQUAL(d->gateway_deps[1].name, "internal");
	CU_ASSERT_STRING_EQUAL(d->gateway_deps[1].why, "a listener is not bound");
	CU_ASSERT_PTR_NULL(d->gateway_deps[0].why);
	CU_ASSERT_PTR_NULL(d->gateway_down);
	CU_ASSERT_PTR_NOT_NULL(desired_find_svc(d, "default", "web"));
	desired_unref(d);

	/* both not bound: the node as a whole cannot serve */
	d = run_deps(&fx, NULL, both, 2);
	CU_ASSERT_FALSE(gw_svc(d, "istio-ingressgateway")->serve_local);
	CU_ASSERT_FALSE(gw_svc(d, "internal-gateway")->serve_local);
	CU_ASSERT_EQUAL(d->ngateway_deps_down, 2);
	CU_ASSERT_STRING_EQUAL(d->gateway_down, "no deployment can serve");
	desired_unref(d);

	/* draining: every deployment, said without naming one */
	d = run_deps(&fx, "draining", NULL, 0);
	in = gw_svc(d, "internal-gateway");
	CU_ASSERT_STRING_EQUAL(in->why_not, "gateway cannot serve: draining");
	CU_ASSERT_STRING_EQUAL(gw_svc(d, "istio-ingressgateway")->gateway_state, "draining");
	CU_ASSERT_STRING_EQUAL(d->gateway_down, "draining");
	desired_unref(d);
	fx_free(&fx);

	/* require_endpoints judged on each deployment's own routes: the
	 * internal one's destination has no endpoint */
	fx_load(&fx, cfg_req, objs);
	d = run_deps(&fx, NULL, NULL, 0);
	pub = gw_svc(d, "istio-ingressgateway");
	in = gw_svc(d, "internal-gateway");
	CU_ASSERT_STRING_EQUAL(pub->gateway_state, "serving");
	CU_ASSERT(pub->serve_local);
	CU_ASSERT_STRING_EQUAL(in->why_not,
	    "gateway cannot serve: deployment internal: no route has a ready endpoint");
	CU_ASSERT_PTR_NULL(d->gateway_down);
	CU_ASSERT(reconcile_gw_dep_reaches(d->gw, 0));
	CU_ASSERT_FALSE(reconcile_gw_dep_reaches(d->gw, 1));
	desired_unref(d);
	fx_free(&fx);

	/* the internal deployment reaches an endpoint by a TCP server, or by
	 * a mirror: it serves */
	{
		const char *tcp =
		    "---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: int-tcp, namespace: default}\n"
		    "spec:\n  selector: {istio: internal-gateway}\n"
		    "  servers: [{port: {number: 9000, name: tcp, protocol: TCP}, hosts: ['*']}]\n"
		    "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: int-tcp, namespace: default}\n"
		    "spec:\n  hosts: ['*']\n  gateways: [int-tcp]\n"
		    "  tcp: [{route: [{destination: {host: web.default.svc.cluster.local, port: {number: 80}}}]}]\n";
		const char *mirror =
		    "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: int, namespace: default}\n"
		    "spec:\n  hosts: ['*']\n  gateways: [int]\n"
		    "  http: [{route: [{destination: {host: back.default.svc.cluster.local, port: {number: 80}}}],\n"
		    "    mirror: {host: web.default.svc.cluster.local, port: {number: 80}}}]\n";
		char *o2 = cat(objs, tcp, "", ""), *o3 = cat(objs, mirror, "", "");

		fx_load(&fx, cfg_req, o2);
		d = run_deps(&fx, NULL, NULL, 0);
		CU_ASSERT(reconcile_gw_dep_reaches(d->gw, 1));
		CU_ASSERT_STRING_EQUAL(gw_svc(d, "internal-gateway")->gateway_state, "serving");
		desired_unref(d);
		fx_free(&fx);
		fx_load(&fx, cfg_req, o3);
		d = run_deps(&fx, NULL, NULL, 0);
		CU_ASSERT(reconcile_gw_dep_reaches(d->gw, 1));
		CU_ASSERT(gw_svc(d, "internal-gateway")->serve_local);
		desired_unref(d);
		fx_free(&fx);
		free(o2);
		free(o3);
	}
	free(objs);
	free(web);
	free(cfg_req);
}

static void
test_local_addrs_and_pools(void)
{
	struct fixture fx;
	struct desired *d;
	char buf[IPADDR_STRLEN];
	struct vg_buf b = { 0 };

	buf_puts(&b, POOL);
	buf_puts(&b, "---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement\n"
	    "metadata: {name: l2, namespace: metallb-system}\n");
	/* two Services sharing one IP, one dual-stack */
	buf_puts(&b, svc("a", "  ipFamilyPolicy: RequireDualStack\n"));
	buf_puts(&b, slice("a", "node-a", NULL));
	buf_puts(&b, "---\napiVersion: v1\nkind: Service\nmetadata: {name: s1, namespace: default, "
	    "annotations: {metallb.io/allow-shared-ip: k, metallb.io/loadBalancerIPs: 192.0.2.3}}\n"
	    "spec: {type: LoadBalancer, selector: {app: s}, ports: [{port: 80}]}\n");
	buf_puts(&b, "---\napiVersion: v1\nkind: Service\nmetadata: {name: s2, namespace: default, "
	    "annotations: {metallb.io/allow-shared-ip: k, metallb.io/loadBalancerIPs: 192.0.2.3}}\n"
	    "spec: {type: LoadBalancer, selector: {app: s}, ports: [{port: 443}]}\n");
	buf_puts(&b, slice("s1", "node-a", NULL));
	buf_puts(&b, slice("s2", "node-a", NULL));
	buf_puts(&b, "---\napiVersion: v1\nkind: Service\nmetadata: {name: plain, namespace: default}\n"
	    "spec: {selector: {app: s}, ports: [{port: 80}]}\n");
	fx_load(&fx, "node: {name: node-a}\n", b.s);
	d = run(&fx, 1);
	CU_ASSERT_EQUAL(d->nsvcs, 3);	/* the ClusterIP one is not there */
	CU_ASSERT_EQUAL_FATAL(d->nlocal_addrs, 3);
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&d->local_addrs[0], buf), "192.0.2.0");
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&d->local_addrs[1], buf), "192.0.2.3");
	CU_ASSERT_STRING_EQUAL(ipaddr_fmt(&d->local_addrs[2], buf), "2001:db8::");
	CU_ASSERT_EQUAL_FATAL(d->npools, 1);
	CU_ASSERT_EQUAL(d->pools[0].total_v4, 4);
	CU_ASSERT_EQUAL(d->pools[0].total_v6, 4);
	CU_ASSERT_EQUAL(d->pools[0].assigned_v4, 2);	/* the shared IP once */
	CU_ASSERT_EQUAL(d->pools[0].assigned_v6, 1);
	CU_ASSERT_STRING_EQUAL(desired_find_svc(d, "default", "s2")->sharing_key, "k");
	desired_unref(d);
	fx_free(&fx);
	buf_free(&b);
}

static void
test_pure_and_deterministic(void)
{
	struct fixture fx;
	struct desired *d1, *d2;
	size_t i;
	char *objs = cat(POOL, svc("x", NULL), svc("y", NULL), slice("x", "node-a", NULL));

	fx_load(&fx, "node: {name: node-a}\n", objs);
	d1 = run(&fx, 1);
	d2 = run(&fx, 1);
	CU_ASSERT_EQUAL_FATAL(d1->nsvcs, d2->nsvcs);
	for (i = 0; i < d1->nsvcs; i++) {
		CU_ASSERT_STRING_EQUAL(d1->svcs[i].name, d2->svcs[i].name);
		CU_ASSERT_TRUE(ipaddr_eq(&d1->svcs[i].vips[0], &d2->svcs[i].vips[0]));
		CU_ASSERT_EQUAL(d1->svcs[i].announce, d2->svcs[i].announce);
	}
	desired_unref(d1);
	desired_unref(d2);
	fx_free(&fx);
	free(objs);
}

/* The desired state owns its strings: objects may be freed after reconcile. */
static void
test_outlives_objects(void)
{
	struct fixture fx;
	struct desired *d;
	char *objs = cat(POOL, svc("x", "  ipFamilyPolicy: SingleStack\n"), NULL, NULL);

	fx_load(&fx, "node: {name: node-a}\n", objs);
	d = run(&fx, 1);
	fx_free(&fx);
	CU_ASSERT_EQUAL_FATAL(d->nsvcs, 1);
	CU_ASSERT_STRING_EQUAL(d->svcs[0].ns, "default");
	CU_ASSERT_STRING_EQUAL(d->svcs[0].name, "x");
	CU_ASSERT_STRING_EQUAL(d->svcs[0].pool, "p");
	CU_ASSERT_STRING_EQUAL(d->pools[0].name, "p");
	CU_ASSERT_STRING_EQUAL(d->pools[0].ns, "metallb-system");
	desired_unref(d);
	free(objs);
}

static const struct cu_test tests[] = {
	{ "the desired state outlives the objects", test_outlives_objects },
	{ "announce decisions", test_announce_decisions },
	{ "the gateway's own Service", test_gateway_service },
	{ "the gateway's health decides its announcement", test_gateway_health },
	{ "each gateway deployment's health decides its own Services", test_gateway_deployments },
	{ "local addresses and pool counts", test_local_addrs_and_pools },
	{ "same input, same output", test_pure_and_deterministic },
	{ NULL, NULL }
};

int
main(void)
{
	return cu_run("reconcile", tests);
}
