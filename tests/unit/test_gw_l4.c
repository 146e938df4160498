/*
 * TCP and TLS passthrough compiled from manifests (gw_plan_l4.c) and the
 * rule a connection takes (gw_l4_route.c): sniHosts with wildcards within
 * the server's hosts, port, destinationSubnets, sourceSubnet, weights,
 * subsets, match.gateways, and the analyze notes.
 */
#include "config.h"

#include "cu.h"
#include "vipgate/config.h"
#include "vipgate/gw-l4.h"
#include "vipgate/reconcile.h"
#include "../../src/gw/gw-proxyproto.h"

struct fixture {
	struct store		*st;
	struct config		*cfg;
	struct desired		*d;
	const struct gw_desired	*gw;
};

static void
fx_load(struct fixture *fx, const char *objs)
{
	static const char cfgyaml[] = "node: {name: node-a}\n";
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	struct live_view live = { 0 };
	size_t i;

	memset(fx, 0, sizeof(*fx));
	fx->cfg = config_parse(cfgyaml, strlen(cfgyaml), "vipgate.yaml", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx->cfg);
	errs_clear(&errs);
	fx->st = store_new();
	manifest_decode_buf(objs, strlen(objs), "test.yaml", &errs, &out);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.nerrors, 0);
	for (i = 0; i < out.n; i++)
		if (out.v[i].obj)
			store_put(fx->st, object_ref(out.v[i].obj));
	decoded_list_free(&out);
	errs_clear(&errs);
	live.gateway_ready = 1;
	fx->d = reconcile(fx->st, fx->cfg, &live);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx->d);
	fx->gw = fx->d->gw;
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx->gw);
}

static void
fx_free(struct fixture *fx)
{
	desired_unref(fx->d);
	store_free(fx->st);
	config_free(fx->cfg);
}

static const struct gw_l4 *
l4(const struct fixture *fx, uint16_t port)
{
	size_t i;

	for (i = 0; i < fx->gw->nlisteners; i++)
		if (fx->gw->listeners[i].port == port)
			return fx->gw->listeners[i].l4;
	return NULL;
}

static int
noted(const struct fixture *fx, const char *needle)
{
	size_t i;

	for (i = 0; i < fx->gw->nnotes; i++)
		if (strstr(fx->gw->notes[i].msg, needle))
			return 1;
	return 0;
}

static struct ipaddr
ip(const char *s)
{
	struct ipaddr a;

	CU_ASSERT_EQUAL(ipaddr_parse(s, &a), 0);
	return a;
}

/* The cluster a connection goes to with weight draw rnd, or NULL. */
static const char *
to(const struct gw_l4 *l, uint16_t port, const char *dst, const char *src, const char *sni)
{
	struct ipaddr d = ip(dst), s = ip(src);
	const struct gw_l4_route *r = gw_l4_route_find(l, port, &d, &s, sni, 1);
	const struct gw_dest *x = gw_l4_pick_dest(r, 0);

	return x ? x->cluster->name : NULL;
}

#define SVC(name, port) \
	"---\napiVersion: v1\nkind: Service\nmetadata: {name: " name ", namespace: default}\n" \
	"spec: {ports: [{port: " #port ", name: tcp}]}\n" \
	"---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: " name ", namespace: default}\n" \
	"subsets: [{addresses: [{ip: 10.1.0.1}], ports: [{port: " #port ", name: tcp}]}]\n"

static const char passthrough[] =
	"apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	"metadata: {name: pt, namespace: default}\n"
	"spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
	"  - port: {number: 443, name: tls, protocol: TLS}\n"
	"    hosts: ['*.a.test', b.test, c.test]\n    tls: {mode: PASSTHROUGH}\n"
	"  - port: {number: 8443, name: https, protocol: HTTPS}\n"
	"    hosts: ['*']\n    tls: {mode: PASSTHROUGH}\n"
	SVC("one", 8443) SVC("two", 8443) SVC("three", 8443)
	"---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	"metadata: {name: two, namespace: default}\n"
	"spec: {host: two, subsets: [{name: v1, labels: {v: '1'}}]}\n"
	"---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	"metadata: {name: pt, namespace: default}\n"
	"spec:\n  hosts: ['*.a.test', b.test, c.test, d.test]\n  gateways: [pt]\n  tls:\n"
	"  - match: [{sniHosts: ['*.a.test'], port: 443}]\n"
	"    route: [{destination: {host: one, port: {number: 8443}}}]\n"
	"  - match: [{sniHosts: [x.a.test, b.test]}]\n"
	"    route: [{destination: {host: two, subset: v1, port: {number: 8443}}, weight: 25},\n"
	"            {destination: {host: three, port: {number: 8443}}, weight: 75}]\n"
	"  - match: [{sniHosts: [c.test], destinationSubnets: [192.168.1.0/24]}]\n"
	"    route: [{destination: {host: three, port: {number: 8443}}}]\n"
	"  - match: [{sniHosts: [d.test]}]\n"
	"    route: [{destination: {host: one, port: {number: 8443}}}]\n"
	"  - match: [{sniHosts: [b.test], port: 9999}]\n"
	"    route: [{destination: {host: one, port: {number: 8443}}}]\n";

static void
t_passthrough(void)
{
	struct fixture fx;
	const struct gw_l4 *l;
	struct ipaddr d, s;
	const struct gw_l4_route *r;
	uint32_t n2 = 0, n3 = 0, i;

	fx_load(&fx, passthrough);
	l = l4(&fx, 443);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(l->kind, GW_L4_PASSTHROUGH);
	CU_ASSERT_STRING_EQUAL(l->name, "tls.443");
	/* d.test is not a host of the 443 server; port 9999 is no port of it */
	CU_ASSERT_EQUAL(l->nroutes, 3);
	CU_ASSERT_STRING_EQUAL(to(l, 443, "192.168.1.200", "10.0.0.1", "y.a.test"),
	    "outbound|8443||one.default.svc.cluster.local");
	/* the exact name wins over the wildcard of an earlier rule (Envoy) */
	CU_ASSERT_STRING_EQUAL(to(l, 443, "192.168.1.200", "10.0.0.1", "X.A.test"),
	    "outbound|8443|v1|two.default.svc.cluster.local");
	CU_ASSERT_PTR_NULL(to(l, 443, "192.168.1.200", "10.0.0.1", "a.test"));
	CU_ASSERT_PTR_NULL(to(l, 443, "192.168.1.200", "10.0.0.1", "d.test"));
	CU_ASSERT_PTR_NULL(to(l, 443, "192.168.1.200", "10.0.0.1", NULL));
	/* destinationSubnets: the address the client reached */
	CU_ASSERT_STRING_EQUAL(to(l, 443, "192.168.1.9", "10.0.0.1", "c.test"),
	    "outbound|8443||three.default.svc.cluster.local");
	CU_ASSERT_PTR_NULL(to(l, 443, "192.168.2.9", "10.0.0.1", "c.test"));
	/* weights 25/75 over the draw */
	d = ip("192.168.1.200");
	s = ip("10.0.0.1");
	r = gw_l4_route_find(l, 443, &d, &s, "b.test", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->total_weight, 100);
	for (i = 0; i < 1000; i++) {
		const struct gw_dest *x = gw_l4_pick_dest(r, i * 4294967u);

		if (strstr(x->cluster->name, "two"))
			n2++;
		else
			n3++;
	}
	CU_ASSERT(n2 >= 240 && n2 <= 260);
	CU_ASSERT_EQUAL(n2 + n3, 1000);
	/* the "*" server on 8443 takes the VirtualService's names, none without SNI */
	l = l4(&fx, 8443);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_STRING_EQUAL(to(l, 8443, "192.168.1.200", "10.0.0.1", "d.test"),
	    "outbound|8443||one.default.svc.cluster.local");
	CU_ASSERT_PTR_NULL(to(l, 8443, "192.168.1.200", "10.0.0.1", NULL));
	CU_ASSERT_FALSE(noted(&fx, "not served"));
	fx_free(&fx);
}

static const char tcp[] =
	"apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	"metadata: {name: tcp, namespace: default}\n"
	"spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
	"  - port: {number: 6379, name: redis, protocol: TCP}\n    hosts: ['*']\n"
	"  - port: {number: 7000, name: echo, protocol: TCP}\n    hosts: ['*']\n"
	"  - port: {number: 7001, name: tls-simple, protocol: TLS}\n    hosts: ['*']\n"
	"    tls: {mode: SIMPLE, credentialName: x}\n"
	"  - port: {number: 7002, name: auto, protocol: TLS}\n    hosts: ['*']\n"
	"    tls: {mode: AUTO_PASSTHROUGH}\n"
	SVC("redis", 6379) SVC("echo", 7000) SVC("lan", 7000)
	"---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	"metadata: {name: tcp, namespace: default}\n"
	"spec:\n  hosts: ['*']\n  gateways: [tcp]\n  tcp:\n"
	"  - match: [{port: 6379}]\n"
	"    route: [{destination: {host: redis, port: {number: 6379}}}]\n"
	"  - match: [{port: 7000, sourceSubnet: 10.9.0.0/16}]\n"
	"    route: [{destination: {host: lan, port: {number: 7000}}}]\n"
	"  - match: [{port: 7000, destinationSubnets: [192.168.1.201]}]\n"
	"    route: [{destination: {host: lan, port: {number: 7000}}}]\n"
	"  - match: [{port: 7000, gateways: [other]}]\n"
	"    route: [{destination: {host: redis, port: {number: 6379}}}]\n"
	"  - route: [{destination: {host: echo, port: {number: 7000}}}]\n"
	"---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	"metadata: {name: lost, namespace: default}\n"
	"spec:\n  hosts: ['*']\n  gateways: [tcp]\n  tcp:\n"
	"  - match: [{port: 5555}]\n"
	"    route: [{destination: {host: redis, port: {number: 6379}}}]\n";

static void
t_tcp(void)
{
	struct fixture fx;
	const struct gw_l4 *l;
	size_t i;

	fx_load(&fx, tcp);
	l = l4(&fx, 6379);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(l->kind, GW_L4_TCP);
	/* match.port picks the rule; the rule without matches takes the rest */
	CU_ASSERT_STRING_EQUAL(to(l, 6379, "192.168.1.200", "10.0.0.1", NULL),
	    "outbound|6379||redis.default.svc.cluster.local");
	l = l4(&fx, 7000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(l->nroutes, 3);	/* port 6379's and gateway other's rules are not here */
	CU_ASSERT_STRING_EQUAL(to(l, 7000, "192.168.1.200", "10.0.0.1", NULL),
	    "outbound|7000||echo.default.svc.cluster.local");
	CU_ASSERT_STRING_EQUAL(to(l, 7000, "192.168.1.200", "10.9.3.4", NULL),
	    "outbound|7000||lan.default.svc.cluster.local");
	CU_ASSERT_STRING_EQUAL(to(l, 7000, "192.168.1.201", "10.0.0.1", NULL),
	    "outbound|7000||lan.default.svc.cluster.local");
	/* TLS SIMPLE to tcp rules: a TLS listener with the server's chain */
	l = l4(&fx, 7001);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(l->kind, GW_L4_TERMINATE);
	CU_ASSERT_STRING_EQUAL(to(l, 7001, "192.168.1.200", "10.0.0.1", NULL),
	    "outbound|7000||echo.default.svc.cluster.local");
	for (i = 0; i < fx.gw->nlisteners; i++)
		if (fx.gw->listeners[i].port == 7001) {
			const struct gw_listener *gl = &fx.gw->listeners[i];

			CU_ASSERT_TRUE(gl->tls);
			CU_ASSERT_EQUAL_FATAL(gl->nchains, 1);
			CU_ASSERT_STRING_EQUAL(gl->chains[0].name, "tls.7001.tls-simple.tcp.default");
			/* its Secret is missing: the chain is not served, and analyze says so */
			CU_ASSERT_PTR_NOT_NULL(gl->chains[0].tls->error);
		}
	CU_ASSERT_TRUE(noted(&fx, "Secret istio-system/x not found"));
	/* AUTO_PASSTHROUGH with hosts '*': the clusters of every Service */
	CU_ASSERT_PTR_NOT_NULL_FATAL(l4(&fx, 7002));
	CU_ASSERT(l4(&fx, 7002)->nautos > 0);
	CU_ASSERT_TRUE(noted(&fx, "tcp: no TCP server of its gateways"));
	fx_free(&fx);
}

static void
t_cidr(void)
{
	struct gw_cidr c;
	struct ipaddr a;

	CU_ASSERT_EQUAL(ipaddr_parse_cidr("10.1.128.0/17", &c.addr, &c.plen, 1), 0);
	a = ip("10.1.200.1");
	CU_ASSERT_TRUE(gw_cidr_has(&c, &a));
	a = ip("10.1.100.1");
	CU_ASSERT_FALSE(gw_cidr_has(&c, &a));
	a = ip("fd00::1");
	CU_ASSERT_FALSE(gw_cidr_has(&c, &a));
	CU_ASSERT_EQUAL(ipaddr_parse_cidr("fd00::/8", &c.addr, &c.plen, 1), 0);
	CU_ASSERT_TRUE(gw_cidr_has(&c, &a));
	c.plen = 0;
	a = ip("fe80::1");
	CU_ASSERT_TRUE(gw_cidr_has(&c, &a));
}

/* PROXY protocol headers, checked against haproxy's proxy-protocol.txt examples' shape. */
static void
t_proxy(void)
{
	struct ipaddr s = ip("10.0.0.1"), d = ip("192.168.1.200"), s6 = ip("fd00::1"), d6 = ip("fd00::2");
	uint8_t b[GW_PROXY_HDR_MAX];
	size_t n;
	static const uint8_t v2[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
		0x21, 0x11, 0x00, 0x0c, 10, 0, 0, 1, 192, 168, 1, 200, 0xc3, 0x50, 0x1f, 0x90,
	};

	n = gw_proxy_hdr(1, &s, 50000, &d, 8080, b);
	CU_ASSERT_EQUAL(n, strlen("PROXY TCP4 10.0.0.1 192.168.1.200 50000 8080\r\n"));
	CU_ASSERT(memcmp(b, "PROXY TCP4 10.0.0.1 192.168.1.200 50000 8080\r\n", n) == 0);
	n = gw_proxy_hdr(1, &s6, 1, &d6, 2, b);
	CU_ASSERT(n > 0 && memcmp(b, "PROXY TCP6 fd00::1 fd00::2 1 2\r\n", n) == 0);
	n = gw_proxy_hdr(1, &s, 1, &d6, 2, b);
	CU_ASSERT(n == 15 && memcmp(b, "PROXY UNKNOWN\r\n", n) == 0);
	n = gw_proxy_hdr(2, &s, 50000, &d, 8080, b);
	CU_ASSERT_EQUAL(n, sizeof(v2));
	CU_ASSERT(memcmp(b, v2, sizeof(v2)) == 0);
	n = gw_proxy_hdr(2, &s6, 1, &d6, 2, b);
	CU_ASSERT_EQUAL(n, 16 + 36);
	CU_ASSERT_EQUAL(b[13], 0x21);
	n = gw_proxy_hdr(2, NULL, 0, NULL, 0, b);
	CU_ASSERT(n == 16 && b[12] == 0x20);
}

/* Istio's cluster-name SNI, as an AUTO_PASSTHROUGH server reads it. */
static void
t_autopass_parse(void)
{
	struct gw_autopass_name n;
	static const char *bad[] = {
		NULL, "", "reviews.default.svc.cluster.local", "outbound_.", "outbound_.8443_._.",
		"outbound_.8443_.v1_.", "outbound|8443||reviews.default.svc.cluster.local",
		"outbound_.08443_._.a", "outbound_.0_._.a", "outbound_.65536_._.a",
		"outbound_.123456_._.a", "outbound_._._.a", "outbound_.-1_._.a",
		"outbound_.8443._.a", "outbound_.8443_.v1.a", "outbound_.8443_.v_1_.a",
		"outbound_.8443_.v.1_.a", "inbound_.8443_._.a", "outbound.8443_._.a",
		"outbound_.8443__.a", "outbound_.8443_ ._.a",
	};
	size_t i;

	CU_ASSERT_EQUAL(gw_autopass_parse("outbound_.8443_._.reviews.default.svc.cluster.local",
	    &n), 0);
	CU_ASSERT_EQUAL(n.port, 8443);
	CU_ASSERT_EQUAL(n.subset_len, 0);
	CU_ASSERT(n.host_len == 33 && strncmp(n.host, "reviews.default.svc.cluster.local", 33) == 0);
	CU_ASSERT_EQUAL(gw_autopass_parse("OUTBOUND_.1_.v2-canary_.x", &n), 0);
	CU_ASSERT(n.port == 1 && n.subset_len == 9 && strncmp(n.subset, "v2-canary", 9) == 0);
	CU_ASSERT(n.host_len == 1 && n.host[0] == 'x');
	CU_ASSERT_EQUAL(gw_autopass_parse("outbound_.65535_.v1_.a_.b", &n), 0);
	CU_ASSERT(n.port == 65535 && n.host_len == 4);
	for (i = 0; i < VG_ARRAY_SIZE(bad); i++) {
		CU_ASSERT_EQUAL(gw_autopass_parse(bad[i], &n), -1);
		if (bad[i] && gw_autopass_parse(bad[i], &n) != -1)
			fprintf(stderr, "taken: %s\n", bad[i]);
	}
}

static const char autopass[] =
	"apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	"metadata: {name: ew, namespace: istio-system}\n"
	"spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
	"  - port: {number: 15443, name: tls, protocol: TLS}\n"
	"    hosts: ['*.default.svc.cluster.local', 'ext.example.com']\n"
	"    tls: {mode: AUTO_PASSTHROUGH}\n"
	"  - port: {number: 15444, name: tls2, protocol: TLS}\n"
	"    hosts: ['other.test']\n    tls: {mode: AUTO_PASSTHROUGH}\n"
	"  - port: {number: 15443, name: tls3, protocol: TLS}\n"
	"    hosts: ['*.example.org']\n    tls: {mode: PASSTHROUGH}\n"
	"---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	"metadata: {name: org, namespace: istio-system}\n"
	"spec:\n  hosts: ['*.example.org']\n  gateways: [ew]\n  tls:\n"
	"  - match: [{sniHosts: ['*.example.org']}]\n"
	"    route: [{destination: {host: one.default.svc.cluster.local, port: {number: 8443}}}]\n"
	SVC("one", 8443) SVC("two", 8443)
	"---\napiVersion: v1\nkind: Service\nmetadata: {name: three, namespace: other}\n"
	"spec: {ports: [{port: 8443, name: tcp}]}\n"
	"---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	"metadata: {name: ext, namespace: default}\n"
	"spec: {hosts: [ext.example.com], ports: [{number: 443, name: tls, protocol: TLS}],\n"
	"  location: MESH_INTERNAL, resolution: STATIC, endpoints: [{address: 10.2.0.1}]}\n"
	"---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	"metadata: {name: outer, namespace: default}\n"
	"spec: {hosts: [outer.default.svc.cluster.local], ports: [{number: 443, name: tls,\n"
	"  protocol: TLS}], resolution: STATIC, endpoints: [{address: 10.2.0.2}]}\n"
	"---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	"metadata: {name: two, namespace: default}\n"
	"spec: {host: two, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}},\n"
	"  subsets: [{name: v1, labels: {v: '1'}}, {name: v2, labels: {v: '2'}}]}\n";

static void
t_autopass(void)
{
	struct fixture fx;
	const struct gw_l4 *l;
	const struct gw_l4_route *r;
	size_t i;

	fx_load(&fx, autopass);
	l = l4(&fx, 15443);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(l->kind, GW_L4_PASSTHROUGH);
	/* one: 1 cluster, two: 3 (no subset, v1, v2), ext: 1; not three (other ns) */
	CU_ASSERT_EQUAL(l->nautos, 5);
	for (i = 1; i < l->nautos; i++)
		CU_ASSERT(gw_l4_auto_cmp(&l->autos[i - 1], &l->autos[i]) < 0);
	CU_ASSERT_STRING_EQUAL(to(l, 15443, "10.0.0.1", "10.9.0.1",
	    "outbound_.8443_._.one.default.svc.cluster.local"),
	    "outbound_.8443_._.one.default.svc.cluster.local");
	CU_ASSERT_STRING_EQUAL(to(l, 15443, "10.0.0.1", "10.9.0.1",
	    "outbound_.8443_.v2_.two.default.svc.cluster.local"),
	    "outbound_.8443_.v2_.two.default.svc.cluster.local");
	CU_ASSERT_STRING_EQUAL(to(l, 15443, "10.0.0.1", "10.9.0.1",
	    "outbound_.443_._.ext.example.com"), "outbound_.443_._.ext.example.com");
	/* no TLS of its own, though the DestinationRule says ISTIO_MUTUAL */
	r = gw_l4_auto_find(l, "outbound_.8443_.v1_.two.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->dests[0].cluster->tls);
	CU_ASSERT_EQUAL(r->dests[0].cluster->tls->mode, GW_UPTLS_DISABLE);
	CU_ASSERT_PTR_NULL(r->dests[0].cluster->missing);
	r = gw_l4_auto_find(l, "outbound_.8443_._.two.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->dests[0].cluster->neps, 1);
	/* only with an Istio ALPN in the hello, as istiod's chains */
	{
		struct ipaddr d = ip("10.0.0.1"), sa = ip("10.9.0.1");

		CU_ASSERT_PTR_NULL(gw_l4_route_find(l, 15443, &d, &sa,
		    "outbound_.8443_._.one.default.svc.cluster.local", 0));
	}
	/* a MESH_EXTERNAL ServiceEntry is not reachable so (istiod skips it) */
	CU_ASSERT_PTR_NULL(to(l, 15443, "10.0.0.1", "10.9.0.1",
	    "outbound_.443_._.outer.default.svc.cluster.local"));
	/* closed: no such subset, port, host; outside the hosts; not the form */
	CU_ASSERT_PTR_NULL(to(l, 15443, "10.0.0.1", "10.9.0.1",
	    "outbound_.8443_.v3_.two.default.svc.cluster.local"));
	CU_ASSERT_PTR_NULL(to(l, 15443, "10.0.0.1", "10.9.0.1",
	    "outbound_.8444_._.one.default.svc.cluster.local"));
	CU_ASSERT_PTR_NULL(to(l, 15443, "10.0.0.1", "10.9.0.1",
	    "outbound_.8443_._.four.default.svc.cluster.local"));
	CU_ASSERT_PTR_NULL(to(l, 15443, "10.0.0.1", "10.9.0.1",
	    "outbound_.8443_._.three.other.svc.cluster.local"));
	CU_ASSERT_PTR_NULL(to(l, 15443, "10.0.0.1", "10.9.0.1", "one.default.svc.cluster.local"));
	CU_ASSERT_PTR_NULL(to(l, 15443, "10.0.0.1", "10.9.0.1", NULL));
	/* a PASSTHROUGH server on the same port: its tls[] rules beside them */
	CU_ASSERT_EQUAL(l->nroutes, 1);
	CU_ASSERT_STRING_EQUAL(to(l, 15443, "10.0.0.1", "10.9.0.1", "x.example.org"),
	    "outbound|8443||one.default.svc.cluster.local");
	/* names compare without case, as the SNI reader lower-cases them */
	CU_ASSERT_PTR_NOT_NULL(to(l, 15443, "10.0.0.1", "10.9.0.1",
	    "outbound_.8443_._.ONE.default.svc.cluster.local"));
	/* a server whose hosts cover nothing: every connection closed, a note */
	l = l4(&fx, 15444);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(l->nautos, 0);
	CU_ASSERT(noted(&fx, "AUTO_PASSTHROUGH: no Service or MESH_INTERNAL ServiceEntry"));
	CU_ASSERT(!noted(&fx, "AUTO_PASSTHROUGH is not served"));
	fx_free(&fx);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "PASSTHROUGH: sniHosts, exact before wildcard, port, subnets, weights, subsets",
		    t_passthrough },
		{ "TCP: port, sourceSubnet, destinationSubnets, gateways, notes", t_tcp },
		{ "prefixes of both families", t_cidr },
		{ "AUTO_PASSTHROUGH SNI names", t_autopass_parse },
		{ "AUTO_PASSTHROUGH clusters by SNI, hosts, subsets", t_autopass },
		{ "PROXY protocol v1 and v2 headers", t_proxy },
		{ NULL, NULL },
	};

	return cu_run("gw_l4", tests);
}
