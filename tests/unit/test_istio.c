/* Decoding of the Istio kinds: field values, defaults, and every check's message and line. */
#include "config.h"

#include <math.h>
#include <strings.h>

#include "cu.h"

/* One object of kind/apiVersion; spec body lines start at line 5. */
static char *
doc(const char *apiv, const char *kind, const char *body)
{
	char *s;

	xasprintf(&s, "apiVersion: %s\nkind: %s\nmetadata: {name: t, namespace: ns1}\n"
	    "spec:\n%s", apiv, kind, body);
	return s;
}

#define NET "networking.istio.io/v1"
#define SEC "security.istio.io/v1"

struct fixture {
	struct vg_errs		errs;
	struct decoded_list	out;
};

/* Decode and expect exactly one object, decoded without errors or warnings. */
static const void *
decode_one(struct fixture *f, const char *apiv, const char *kind, const char *body)
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
	return f->out.v[0].obj->spec;
}

static void
fixture_free(struct fixture *f)
{
	decoded_list_free(&f->out);
	errs_clear(&f->errs);
}

static const void *
seed(struct fixture *f, const char *file, size_t idx)
{
	size_t len;
	char *buf = read_file(cu_datapath(file), &len);

	memset(f, 0, sizeof(*f));
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_EQUAL(manifest_decode_buf(buf, len, file, &f->errs, &f->out), 0);
	free(buf);
	CU_ASSERT_EQUAL(f->errs.n, 0);
	CU_ASSERT_FATAL(f->out.n > idx);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->out.v[idx].obj);
	return f->out.v[idx].obj->spec;
}

/* ---- the seed walk-through ---- */

static void
test_seed_gateway(void)
{
	struct fixture f;
	const struct k_gateway *g = seed(&f, "seed/istio-gateway.yaml", 0);

	CU_ASSERT_EQUAL(f.out.v[0].obj->kind, K_GATEWAY);
	CU_ASSERT_EQUAL(g->selector.n, 1);
	CU_ASSERT_STRING_EQUAL(strmap_get(&g->selector, "istio"), "ingressgateway");
	CU_ASSERT_EQUAL_FATAL(g->nservers, 2);
	CU_ASSERT_EQUAL(g->servers[0].port.number, 80);
	CU_ASSERT_STRING_EQUAL(g->servers[0].port.name, "http");
	CU_ASSERT_STRING_EQUAL(g->servers[0].port.protocol, "HTTP");
	CU_ASSERT_EQUAL(g->servers[0].port.proto, K_PROTO_HTTP);
	CU_ASSERT_EQUAL_FATAL(g->servers[0].nhosts, 1);
	CU_ASSERT_STRING_EQUAL(g->servers[0].hosts[0], "bookinfo.example.com");
	CU_ASSERT_STRING_EQUAL(g->servers[0].host_parts[0].ns, "*");
	CU_ASSERT_STRING_EQUAL(g->servers[0].host_parts[0].dns, "bookinfo.example.com");
	CU_ASSERT_PTR_NULL(g->servers[0].tls);
	CU_ASSERT_EQUAL(g->servers[1].port.number, 443);
	CU_ASSERT_EQUAL(g->servers[1].port.proto, K_PROTO_HTTPS);
	CU_ASSERT_STRING_EQUAL(g->servers[1].hosts[0], "bookinfo.example.com");
	CU_ASSERT_PTR_NOT_NULL_FATAL(g->servers[1].tls);
	CU_ASSERT_EQUAL(g->servers[1].tls->mode, K_GW_TLS_SIMPLE);
	CU_ASSERT_STRING_EQUAL(g->servers[1].tls->credential_name, "bookinfo-tls-secret");
	CU_ASSERT_EQUAL(g->servers[1].tls->https_redirect, 0);
	CU_ASSERT_EQUAL(g->servers[1].tls->min_protocol_version, K_TLS_AUTO);
	fixture_free(&f);
}

static void
test_seed_virtualservice(void)
{
	struct fixture f;
	const struct k_virtualservice *v = seed(&f, "seed/istio-gateway.yaml", 1);
	const struct k_vs_http *h;

	CU_ASSERT_EQUAL(f.out.v[1].obj->kind, K_VIRTUALSERVICE);
	CU_ASSERT_EQUAL_FATAL(v->nhosts, 1);
	CU_ASSERT_STRING_EQUAL(v->hosts[0], "bookinfo.example.com");
	CU_ASSERT_EQUAL_FATAL(v->ngateways, 1);
	CU_ASSERT_STRING_EQUAL(v->gateways[0], "app-gateway");
	CU_ASSERT_EQUAL_FATAL(v->nhttp, 1);
	h = &v->http[0];
	CU_ASSERT_EQUAL_FATAL(h->nmatch, 1);
	CU_ASSERT_EQUAL(h->match[0].uri.type, K_MATCH_PREFIX);
	CU_ASSERT_STRING_EQUAL(h->match[0].uri.value, "/");
	CU_ASSERT_EQUAL(h->match[0].method.type, K_MATCH_NONE);
	CU_ASSERT_EQUAL_FATAL(h->nroute, 1);
	CU_ASSERT_STRING_EQUAL(h->route[0].destination.host, "productpage");
	CU_ASSERT_EQUAL(h->route[0].destination.port, 9080);
	CU_ASSERT_PTR_NULL(h->route[0].destination.subset);
	CU_ASSERT_EQUAL(h->route[0].weight, 0);
	CU_ASSERT_FALSE(h->timeout_ms.set);
	CU_ASSERT_PTR_NULL(h->retries);
	fixture_free(&f);
}

static void
test_seed_canary(void)
{
	struct fixture f;
	const struct k_virtualservice *v = seed(&f, "seed/canary-routing.yaml", 0);
	const struct k_destinationrule *d = f.out.v[1].obj->spec;

	CU_ASSERT_EQUAL(v->ngateways, 0);
	CU_ASSERT_EQUAL_FATAL(v->nhttp, 1);
	CU_ASSERT_EQUAL(v->http[0].nmatch, 0);
	CU_ASSERT_EQUAL_FATAL(v->http[0].nroute, 2);
	CU_ASSERT_STRING_EQUAL(v->http[0].route[0].destination.host, "reviews");
	CU_ASSERT_STRING_EQUAL(v->http[0].route[0].destination.subset, "v1");
	CU_ASSERT_EQUAL(v->http[0].route[0].weight, 90);
	CU_ASSERT_STRING_EQUAL(v->http[0].route[1].destination.subset, "v2");
	CU_ASSERT_EQUAL(v->http[0].route[1].weight, 10);
	CU_ASSERT_EQUAL(v->http[0].route[1].destination.port, 0);

	CU_ASSERT_EQUAL(f.out.v[1].obj->kind, K_DESTINATIONRULE);
	CU_ASSERT_STRING_EQUAL(d->host, "reviews");
	CU_ASSERT_PTR_NULL(d->traffic_policy);
	CU_ASSERT_EQUAL_FATAL(d->nsubsets, 2);
	CU_ASSERT_STRING_EQUAL(d->subsets[0].name, "v1");
	CU_ASSERT_STRING_EQUAL(strmap_get(&d->subsets[0].labels, "version"), "v1");
	CU_ASSERT_STRING_EQUAL(d->subsets[1].name, "v2");
	CU_ASSERT_STRING_EQUAL(strmap_get(&d->subsets[1].labels, "version"), "v2");
	CU_ASSERT_PTR_NULL(d->subsets[1].traffic_policy);
	fixture_free(&f);
}

static void
test_seed_circuit_breaker(void)
{
	struct fixture f;
	const struct k_destinationrule *d = seed(&f, "seed/circuit-breaker.yaml", 0);
	const struct k_dr_policy *p = d->traffic_policy;

	CU_ASSERT_STRING_EQUAL(d->host, "productpage");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NULL(p->load_balancer);
	CU_ASSERT_PTR_NULL(p->tls);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->connection_pool);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->connection_pool->tcp);
	CU_ASSERT_EQUAL(p->connection_pool->tcp->max_connections, 100);
	CU_ASSERT_FALSE(p->connection_pool->tcp->connect_timeout_ms.set);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->connection_pool->http);
	CU_ASSERT_EQUAL(p->connection_pool->http->max_requests_per_connection, 10);
	CU_ASSERT_EQUAL(p->connection_pool->http->h2_upgrade_policy, K_DR_H2_DEFAULT);
	CU_ASSERT_EQUAL(p->connection_pool->http->http1_max_pending_requests, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->outlier_detection);
	CU_ASSERT_TRUE(p->outlier_detection->consecutive_5xx_errors.set);
	CU_ASSERT_EQUAL(p->outlier_detection->consecutive_5xx_errors.v, 3);
	CU_ASSERT_FALSE(p->outlier_detection->consecutive_gateway_errors.set);
	CU_ASSERT_TRUE(p->outlier_detection->interval_ms.set);
	CU_ASSERT_EQUAL(p->outlier_detection->interval_ms.v, 30000);
	CU_ASSERT_EQUAL(p->outlier_detection->base_ejection_time_ms.v, 60000);
	CU_ASSERT_FALSE(p->outlier_detection->max_ejection_percent.set);
	CU_ASSERT_EQUAL(p->outlier_detection->min_health_percent, 0);
	fixture_free(&f);
}

/* ---- versions, unknown fields ---- */

static void
test_api_versions(void)
{
	static const struct {
		const char *apiv, *kind, *body;
	} cases[] = {
		{ "networking.istio.io/v1", "Gateway", NULL },
		{ "networking.istio.io/v1beta1", "Gateway", NULL },
		{ "networking.istio.io/v1alpha3", "Gateway", NULL },
		{ "networking.istio.io/v1", "VirtualService", NULL },
		{ "networking.istio.io/v1beta1", "VirtualService", NULL },
		{ "networking.istio.io/v1alpha3", "VirtualService", NULL },
		{ "networking.istio.io/v1", "DestinationRule", "  host: a\n" },
		{ "networking.istio.io/v1beta1", "DestinationRule", "  host: a\n" },
		{ "networking.istio.io/v1alpha3", "DestinationRule", "  host: a\n" },
		{ "networking.istio.io/v1", "ServiceEntry", "  hosts: [a.example.com]\n" },
		{ "networking.istio.io/v1beta1", "ServiceEntry", "  hosts: [a.example.com]\n" },
		{ "networking.istio.io/v1alpha3", "ServiceEntry", "  hosts: [a.example.com]\n" },
		{ "networking.istio.io/v1", "WorkloadEntry", "  address: 10.0.0.1\n" },
		{ "networking.istio.io/v1beta1", "WorkloadEntry", "  address: 10.0.0.1\n" },
		{ "networking.istio.io/v1alpha3", "WorkloadEntry", "  address: 10.0.0.1\n" },
		{ "security.istio.io/v1", "PeerAuthentication", "  mtls: {mode: STRICT}\n" },
		{ "security.istio.io/v1beta1", "PeerAuthentication", "  mtls: {mode: STRICT}\n" },
	};
	static const char gw[] = "  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n"
	    "    hosts: ['*']\n";
	static const char vs[] = "  hosts: [a]\n  http:\n  - route:\n    - destination: {host: a}\n";
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		struct fixture f;
		const char *body = cases[i].body ? cases[i].body :
		    strcmp(cases[i].kind, "Gateway") == 0 ? gw : vs;

		(void)decode_one(&f, cases[i].apiv, cases[i].kind, body);
		CU_ASSERT_STRING_EQUAL(f.out.v[0].obj->api_version, cases[i].apiv);
		fixture_free(&f);
	}
	/* another version of a known kind: skipped with a warning */
	{
		struct fixture f;
		char *y = doc("networking.istio.io/v2", "Gateway", gw);

		memset(&f, 0, sizeof(f));
		cu_decode(y, &f.errs, &f.out);
		CU_ASSERT_EQUAL(f.out.n, 0);
		CU_ASSERT_EQUAL(f.errs.nerrors, 0);
		CU_ASSERT_TRUE(cu_errs_have(&f.errs, "apiVersion networking.istio.io/v2 is not supported"));
		free(y);
		fixture_free(&f);
	}
}

static void
test_unknown_fields_ignored(void)
{
	struct fixture f;
	const struct k_gateway *g = decode_one(&f, "networking.istio.io/v1beta1", "Gateway",
	    "  futureField: {a: 1}\n"
	    "  selector: {app: gw}\n"
	    "  servers:\n"
	    "  - port: {number: 443, name: https, protocol: https, extra: 1}\n"
	    "    hosts: [\"ns1/*.example.com\"]\n"
	    "    somethingNew: [1, 2]\n"
	    "    tls: {mode: SIMPLE, credentialName: c, ocspStaple: x}\n");
	const struct k_virtualservice *v;

	CU_ASSERT_EQUAL_FATAL(g->nservers, 1);
	CU_ASSERT_STRING_EQUAL(g->servers[0].port.protocol, "HTTPS");
	CU_ASSERT_STRING_EQUAL(g->servers[0].host_parts[0].ns, "ns1");
	CU_ASSERT_STRING_EQUAL(g->servers[0].host_parts[0].dns, "*.example.com");
	fixture_free(&f);

	v = decode_one(&f, NET, "VirtualService",
	    "  hosts: [a.example.com]\n"
	    "  http:\n"
	    "  - statPrefix: x\n"
	    "    newThing: {b: 2}\n"
	    "    route:\n"
	    "    - destination: {host: a, unknownKey: 3}\n");
	CU_ASSERT_EQUAL(v->nhttp, 1);
	fixture_free(&f);
}

/* ---- field values ---- */

static void
test_gateway_fields(void)
{
	struct fixture f;
	const struct k_gateway *g = decode_one(&f, NET, "Gateway",
	    "  selector: {istio: ingressgateway}\n"
	    "  servers:\n"
	    "  - port: {number: 80, name: http, protocol: http}\n"
	    "    hosts: [\"./a.example.com\", \"*/b.example.com\", \"*\"]\n"
	    "    tls: {httpsRedirect: true}\n"
	    "  - port: {number: 443, name: https-mtls, protocol: HTTPS}\n"
	    "    bind: 10.0.0.1\n"
	    "    name: main\n"
	    "    hosts: [a.example.com]\n"
	    "    tls:\n"
	    "      mode: MUTUAL\n"
	    "      credentialNames: [rsa, ecdsa]\n"
	    "      caCertCredentialName: ca\n"
	    "      subjectAltNames: [spiffe://x]\n"
	    "      verifyCertificateSpki: [aaa]\n"
	    "      verifyCertificateHash: [bbb]\n"
	    "      cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256]\n"
	    "      minProtocolVersion: TLSV1_2\n"
	    "      maxProtocolVersion: TLSV1_3\n"
	    "  - port: {number: 8443, name: tls, protocol: TLS}\n"
	    "    hosts: [c.example.com]\n"
	    "    tls: {mode: PASSTHROUGH}\n"
	    "  - port: {number: 9443, name: files, protocol: HTTPS}\n"
	    "    hosts: [d.example.com]\n"
	    "    tls: {mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem}\n"
	    "  - port: {number: 5000, name: grpc-web, protocol: grpc-Web}\n"
	    "    hosts: [e.example.com]\n");
	const struct k_gw_tls *t;

	CU_ASSERT_EQUAL_FATAL(g->nservers, 5);
	CU_ASSERT_EQUAL(g->servers[0].nhosts, 3);
	CU_ASSERT_STRING_EQUAL(g->servers[0].host_parts[0].ns, ".");
	CU_ASSERT_STRING_EQUAL(g->servers[0].host_parts[0].dns, "a.example.com");
	CU_ASSERT_STRING_EQUAL(g->servers[0].host_parts[1].ns, "*");
	CU_ASSERT_STRING_EQUAL(g->servers[0].host_parts[2].dns, "*");
	CU_ASSERT_PTR_NOT_NULL_FATAL(g->servers[0].tls);
	CU_ASSERT_EQUAL(g->servers[0].tls->https_redirect, 1);
	CU_ASSERT_EQUAL(g->servers[0].tls->mode, K_GW_TLS_PASSTHROUGH);
	CU_ASSERT_STRING_EQUAL(g->servers[1].bind, "10.0.0.1");
	CU_ASSERT_STRING_EQUAL(g->servers[1].name, "main");
	t = g->servers[1].tls;
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->mode, K_GW_TLS_MUTUAL);
	CU_ASSERT_EQUAL_FATAL(t->ncredential_names, 2);
	CU_ASSERT_STRING_EQUAL(t->credential_names[1], "ecdsa");
	CU_ASSERT_STRING_EQUAL(t->ca_cert_credential_name, "ca");
	CU_ASSERT_EQUAL(t->nsubject_alt_names, 1);
	CU_ASSERT_EQUAL(t->nverify_certificate_spki, 1);
	CU_ASSERT_EQUAL(t->nverify_certificate_hash, 1);
	CU_ASSERT_EQUAL(t->ncipher_suites, 1);
	CU_ASSERT_EQUAL(t->min_protocol_version, K_TLSV1_2);
	CU_ASSERT_EQUAL(t->max_protocol_version, K_TLSV1_3);
	CU_ASSERT_FALSE(t->insecure_skip_verify.set);
	CU_ASSERT_EQUAL(g->servers[2].tls->mode, K_GW_TLS_PASSTHROUGH);
	CU_ASSERT_EQUAL(g->servers[2].port.proto, K_PROTO_TLS);
	CU_ASSERT_STRING_EQUAL(g->servers[3].tls->server_certificate, "/c.pem");
	CU_ASSERT_STRING_EQUAL(g->servers[4].port.protocol, "GRPC-WEB");
	CU_ASSERT_EQUAL(g->servers[4].port.proto, K_PROTO_GRPC_WEB);
	fixture_free(&f);
}

static void
test_vs_fields(void)
{
	struct fixture f;
	const struct k_virtualservice *v = decode_one(&f, NET, "VirtualService",
	    "  hosts: [\"*.example.com\", api.other.org]\n"
	    "  gateways: [istio-system/gw, mesh]\n"
	    "  exportTo: [\".\"]\n"
	    "  http:\n"
	    "  - name: main\n"
	    "    match:\n"
	    "    - name: m0\n"
	    "      uri: {regex: \"/v[0-9]+/.*\"}\n"
	    "      scheme: {exact: https}\n"
	    "      method: {exact: GET}\n"
	    "      authority: {prefix: api.}\n"
	    "      headers:\n"
	    "        X-User: {exact: alice}\n"
	    "        x-present: {}\n"
	    "      withoutHeaders: {x-debug: {}}\n"
	    "      queryParams: {v: {regex: \"^[0-9]$\"}}\n"
	    "      port: 8080\n"
	    "      ignoreUriCase: true\n"
	    "      sourceLabels: {app: web}\n"
	    "      gateways: [istio-system/gw]\n"
	    "      sourceNamespace: web\n"
	    "    route:\n"
	    "    - destination: {host: a.ns1.svc.cluster.local, subset: v1, port: {number: 80}}\n"
	    "      weight: 75\n"
	    "      headers:\n"
	    "        request: {set: {x-a: \"1\"}, add: {x-b: \"100%%\"}, remove: [x-c]}\n"
	    "        response: {remove: [server]}\n"
	    "    - destination: {host: b}\n"
	    "      weight: 25\n"
	    "    rewrite: {uri: /new}\n"
	    "    timeout: 1.5s\n"
	    "    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: \"5xx,connect-failure,503\",\n"
	    "      retryRemoteLocalities: true, retryIgnorePreviousHosts: false}\n"
	    "    fault:\n"
	    "      delay: {fixedDelay: 2s, percentage: {value: 0.5}}\n"
	    "      abort: {httpStatus: 503, percentage: {value: 10}}\n"
	    "    mirror: {host: shadow}\n"
	    "    mirrorPercentage: {value: 12.5}\n"
	    "    mirrors:\n"
	    "    - destination: {host: shadow2}\n"
	    "      percentage: {value: 1}\n"
	    "    corsPolicy:\n"
	    "      allowOrigins: [{exact: \"https://a.example.com\"}, {regex: \".*\\\\.example\\\\.com\"}]\n"
	    "      allowMethods: [GET, POST]\n"
	    "      allowHeaders: [x-a, \"*\"]\n"
	    "      exposeHeaders: [x-b]\n"
	    "      maxAge: 24h\n"
	    "      allowCredentials: true\n"
	    "      unmatchedPreflights: IGNORE\n"
	    "    headers:\n"
	    "      request: {set: {\":authority\": c.example.com}}\n"
	    "      response: {add: {x-served-by: vipgate}}\n"
	    "  - match: [{uri: {exact: /old}}]\n"
	    "    redirect: {uri: /new, authority: n.example.com, derivePort: FROM_REQUEST_PORT,\n"
	    "      scheme: https}\n"
	    "  - match: [{uri: {exact: /teapot}}]\n"
	    "    directResponse: {status: 418, body: {bytes: aGVsbG8=}}\n"
	    "  - match: [{uri: {exact: /s}}]\n"
	    "    directResponse: {status: 503, body: {string: down}}\n"
	    "    retries: {attempts: 0}\n"
	    "  tls:\n"
	    "  - match: [{sniHosts: [x.example.com], port: 443}]\n"
	    "    route: [{destination: {host: tls-backend}}]\n"
	    "  tcp:\n"
	    "  - match: [{port: 5432, destinationSubnets: [10.0.0.0/8, 10.1.2.3]}]\n"
	    "    route: [{destination: {host: db, port: {number: 5432}}}]\n");
	const struct k_vs_http *h, *r;
	const struct k_vs_http_match *m;

	CU_ASSERT_EQUAL(v->nhosts, 2);
	CU_ASSERT_EQUAL(v->ngateways, 2);
	CU_ASSERT_EQUAL(v->nexport_to, 1);
	CU_ASSERT_EQUAL_FATAL(v->nhttp, 4);
	h = &v->http[0];
	CU_ASSERT_STRING_EQUAL(h->name, "main");
	m = &h->match[0];
	CU_ASSERT_STRING_EQUAL(m->name, "m0");
	CU_ASSERT_EQUAL(m->uri.type, K_MATCH_REGEX);
	CU_ASSERT_STRING_EQUAL(m->uri.value, "/v[0-9]+/.*");
	CU_ASSERT_EQUAL(m->scheme.type, K_MATCH_EXACT);
	CU_ASSERT_EQUAL(m->method.type, K_MATCH_EXACT);
	CU_ASSERT_STRING_EQUAL(m->method.value, "GET");
	CU_ASSERT_EQUAL(m->authority.type, K_MATCH_PREFIX);
	CU_ASSERT_EQUAL_FATAL(m->headers.n, 2);
	CU_ASSERT_STRING_EQUAL(m->headers.v[0].name, "x-user");	/* lower-cased */
	CU_ASSERT_EQUAL(m->headers.v[0].match.type, K_MATCH_EXACT);
	CU_ASSERT_STRING_EQUAL(m->headers.v[0].match.value, "alice");
	CU_ASSERT_STRING_EQUAL(m->headers.v[1].name, "x-present");
	CU_ASSERT_EQUAL(m->headers.v[1].match.type, K_MATCH_NONE);
	CU_ASSERT_EQUAL_FATAL(m->without_headers.n, 1);
	CU_ASSERT_EQUAL(m->without_headers.v[0].match.type, K_MATCH_NONE);
	CU_ASSERT_EQUAL_FATAL(m->query_params.n, 1);
	CU_ASSERT_EQUAL(m->query_params.v[0].match.type, K_MATCH_REGEX);
	CU_ASSERT_EQUAL(m->port, 8080);
	CU_ASSERT_EQUAL(m->ignore_uri_case, 1);
	CU_ASSERT_STRING_EQUAL(strmap_get(&m->source_labels, "app"), "web");
	CU_ASSERT_EQUAL(m->ngateways, 1);
	CU_ASSERT_STRING_EQUAL(m->source_namespace, "web");

	CU_ASSERT_EQUAL_FATAL(h->nroute, 2);
	CU_ASSERT_STRING_EQUAL(h->route[0].destination.subset, "v1");
	CU_ASSERT_EQUAL(h->route[0].destination.port, 80);
	CU_ASSERT_EQUAL(h->route[0].weight, 75);
	CU_ASSERT_STRING_EQUAL(strmap_get(&h->route[0].headers.request.set, "x-a"), "1");
	CU_ASSERT_STRING_EQUAL(strmap_get(&h->route[0].headers.request.add, "x-b"), "100%%");
	CU_ASSERT_EQUAL(h->route[0].headers.request.nremove, 1);
	CU_ASSERT_STRING_EQUAL(h->route[0].headers.response.remove[0], "server");
	CU_ASSERT_EQUAL(h->route[1].weight, 25);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->rewrite);
	CU_ASSERT_STRING_EQUAL(h->rewrite->uri, "/new");
	CU_ASSERT_PTR_NULL(h->rewrite->uri_regex_rewrite.match);
	CU_ASSERT_TRUE(h->timeout_ms.set);
	CU_ASSERT_EQUAL(h->timeout_ms.v, 1500);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->retries);
	CU_ASSERT_EQUAL(h->retries->attempts, 3);
	CU_ASSERT_EQUAL(h->retries->per_try_timeout_ms.v, 500);
	CU_ASSERT_STRING_EQUAL(h->retries->retry_on, "5xx,connect-failure,503");
	CU_ASSERT_TRUE(h->retries->retry_remote_localities.set && h->retries->retry_remote_localities.v);
	CU_ASSERT_TRUE(h->retries->retry_ignore_previous_hosts.set);
	CU_ASSERT_FALSE(h->retries->retry_ignore_previous_hosts.v);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->fault);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->fault->delay);
	CU_ASSERT_EQUAL(h->fault->delay->fixed_delay_ms, 2000);
	CU_ASSERT_TRUE(h->fault->delay->percentage.set);
	CU_ASSERT_DOUBLE_EQUAL(h->fault->delay->percentage.value, 0.5, 1e-9);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->fault->abort);
	CU_ASSERT_EQUAL(h->fault->abort->http_status, 503);
	CU_ASSERT_DOUBLE_EQUAL(h->fault->abort->percentage.value, 10, 1e-9);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->mirror);
	CU_ASSERT_STRING_EQUAL(h->mirror->host, "shadow");
	CU_ASSERT_DOUBLE_EQUAL(h->mirror_percentage.value, 12.5, 1e-9);
	CU_ASSERT_EQUAL_FATAL(h->nmirrors, 1);
	CU_ASSERT_STRING_EQUAL(h->mirrors[0].destination.host, "shadow2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->cors_policy);
	CU_ASSERT_EQUAL_FATAL(h->cors_policy->nallow_origins, 2);
	CU_ASSERT_EQUAL(h->cors_policy->allow_origins[1].type, K_MATCH_REGEX);
	CU_ASSERT_EQUAL(h->cors_policy->nallow_methods, 2);
	CU_ASSERT_EQUAL(h->cors_policy->max_age_ms.v, 86400000);
	CU_ASSERT_TRUE(h->cors_policy->allow_credentials.v);
	CU_ASSERT_EQUAL(h->cors_policy->unmatched_preflights, K_VS_PREFLIGHT_IGNORE);
	CU_ASSERT_STRING_EQUAL(strmap_get(&h->headers.request.set, ":authority"), "c.example.com");
	CU_ASSERT_STRING_EQUAL(strmap_get(&h->headers.response.add, "x-served-by"), "vipgate");

	r = &v->http[1];
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->redirect);
	CU_ASSERT_STRING_EQUAL(r->redirect->uri, "/new");
	CU_ASSERT_EQUAL(r->redirect->derive_port, K_VS_FROM_REQUEST_PORT);
	CU_ASSERT_EQUAL(r->redirect->redirect_code, 301);	/* default */
	CU_ASSERT_STRING_EQUAL(r->redirect->scheme, "https");
	r = &v->http[2];
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->direct_response);
	CU_ASSERT_EQUAL(r->direct_response->status, 418);
	CU_ASSERT_EQUAL(r->direct_response->body_len, 5);
	CU_ASSERT_STRING_EQUAL(r->direct_response->body, "hello");
	r = &v->http[3];
	CU_ASSERT_STRING_EQUAL(r->direct_response->body, "down");
	CU_ASSERT_EQUAL(r->retries->attempts, 0);

	CU_ASSERT_EQUAL_FATAL(v->ntls, 1);
	CU_ASSERT_STRING_EQUAL(v->tls[0].match[0].sni_hosts[0], "x.example.com");
	CU_ASSERT_EQUAL(v->tls[0].match[0].port, 443);
	CU_ASSERT_STRING_EQUAL(v->tls[0].route[0].destination.host, "tls-backend");
	CU_ASSERT_EQUAL_FATAL(v->ntcp, 1);
	CU_ASSERT_EQUAL(v->tcp[0].match[0].ndestination_subnets, 2);
	CU_ASSERT_EQUAL(v->tcp[0].route[0].destination.port, 5432);
	fixture_free(&f);
}

static void
test_dr_fields(void)
{
	struct fixture f;
	const struct k_destinationrule *d = decode_one(&f, "networking.istio.io/v1alpha3",
	    "DestinationRule",
	    "  host: \"*.example.com\"\n"
	    "  exportTo: [\".\"]\n"
	    "  workloadSelector: {matchLabels: {app: gw}}\n"
	    "  trafficPolicy:\n"
	    "    loadBalancer:\n"
	    "      consistentHash:\n"
	    "        httpCookie: {name: sticky, path: /, ttl: 0.5s}\n"
	    "        ringHash: {minimumRingSize: 2048}\n"
	    "      localityLbSetting: {enabled: true, failover: [{from: a, to: b}]}\n"
	    "      warmupDurationSecs: 1m\n"
	    "    connectionPool:\n"
	    "      tcp:\n"
	    "        maxConnections: 50\n"
	    "        connectTimeout: 250ms\n"
	    "        tcpKeepalive: {probes: 3, time: 7200s, interval: 75s}\n"
	    "        maxConnectionDuration: 1h\n"
	    "        idleTimeout: 30m\n"
	    "      http:\n"
	    "        http1MaxPendingRequests: 5\n"
	    "        http2MaxRequests: 1000\n"
	    "        maxRetries: 4\n"
	    "        idleTimeout: 90s\n"
	    "        h2UpgradePolicy: UPGRADE\n"
	    "        maxConcurrentStreams: 100\n"
	    "    outlierDetection:\n"
	    "      consecutive5xxErrors: 0\n"
	    "      consecutiveGatewayErrors: 2\n"
	    "      splitExternalLocalOriginErrors: true\n"
	    "      consecutiveLocalOriginFailures: 4\n"
	    "      maxEjectionPercent: 50\n"
	    "      minHealthPercent: 20\n"
	    "    tls: {mode: SIMPLE, sni: up.example.com, subjectAltNames: [up.example.com],\n"
	    "      caCertificates: /ca.pem, caCrl: /crl.pem}\n"
	    "    proxyProtocol: {version: V2}\n"
	    "    portLevelSettings:\n"
	    "    - port: {number: 8443}\n"
	    "      tls: {mode: MUTUAL, credentialName: client-cert}\n"
	    "      loadBalancer: {simple: ROUND_ROBIN}\n"
	    "  subsets:\n"
	    "  - name: v1\n"
	    "    labels: {version: v1}\n"
	    "    trafficPolicy:\n"
	    "      loadBalancer: {simple: LEAST_CONN}\n"
	    "      tunnel: {protocol: CONNECT, targetHost: proxy, targetPort: 3128}\n"
	    "  - name: v2\n"
	    "    trafficPolicy:\n"
	    "      loadBalancer: {consistentHash: {maglev: {tableSize: 65537}, useSourceIp: true}}\n");
	const struct k_dr_policy *p = d->traffic_policy;
	const struct k_dr_consistent_hash *ch;

	CU_ASSERT_STRING_EQUAL(strmap_get(&d->workload_selector, "app"), "gw");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->load_balancer);
	CU_ASSERT_EQUAL(p->load_balancer->simple, K_DR_LB_UNSPECIFIED);
	ch = p->load_balancer->consistent_hash;
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	CU_ASSERT_EQUAL(ch->key, K_DR_HASH_COOKIE);
	CU_ASSERT_STRING_EQUAL(ch->http_cookie.name, "sticky");
	CU_ASSERT_EQUAL(ch->http_cookie.ttl_ms.v, 500);
	CU_ASSERT_EQUAL(ch->algo, K_DR_HASH_RING);
	CU_ASSERT_EQUAL(ch->minimum_ring_size.v, 2048);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->load_balancer->locality_lb_setting);
	CU_ASSERT_EQUAL(p->load_balancer->locality_lb_setting->type, YN_MAP);
	CU_ASSERT_EQUAL(p->load_balancer->warmup_duration_ms.v, 60000);
	CU_ASSERT_EQUAL(p->connection_pool->tcp->max_connections, 50);
	CU_ASSERT_EQUAL(p->connection_pool->tcp->connect_timeout_ms.v, 250);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->connection_pool->tcp->tcp_keepalive);
	CU_ASSERT_EQUAL(p->connection_pool->tcp->tcp_keepalive->probes.v, 3);
	CU_ASSERT_EQUAL(p->connection_pool->tcp->tcp_keepalive->time_ms.v, 7200000);
	CU_ASSERT_EQUAL(p->connection_pool->tcp->max_connection_duration_ms.v, 3600000);
	CU_ASSERT_EQUAL(p->connection_pool->tcp->idle_timeout_ms.v, 1800000);
	CU_ASSERT_EQUAL(p->connection_pool->http->http2_max_requests, 1000);
	CU_ASSERT_EQUAL(p->connection_pool->http->h2_upgrade_policy, K_DR_H2_UPGRADE);
	CU_ASSERT_EQUAL(p->connection_pool->http->idle_timeout_ms.v, 90000);
	CU_ASSERT_EQUAL(p->connection_pool->http->max_concurrent_streams, 100);
	/* 0 is set, and disables 5xx ejection */
	CU_ASSERT_TRUE(p->outlier_detection->consecutive_5xx_errors.set);
	CU_ASSERT_EQUAL(p->outlier_detection->consecutive_5xx_errors.v, 0);
	CU_ASSERT_EQUAL(p->outlier_detection->consecutive_gateway_errors.v, 2);
	CU_ASSERT_EQUAL(p->outlier_detection->split_external_local_origin_errors, 1);
	CU_ASSERT_FALSE(p->outlier_detection->interval_ms.set);
	CU_ASSERT_EQUAL(p->outlier_detection->max_ejection_percent.v, 50);
	CU_ASSERT_EQUAL(p->outlier_detection->min_health_percent, 20);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->tls);
	CU_ASSERT_EQUAL(p->tls->mode, K_DR_TLS_SIMPLE);
	CU_ASSERT_STRING_EQUAL(p->tls->sni, "up.example.com");
	CU_ASSERT_STRING_EQUAL(p->tls->ca_crl, "/crl.pem");
	CU_ASSERT_TRUE(p->proxy_protocol);
	CU_ASSERT_EQUAL(p->proxy_protocol_version, K_DR_PROXY_PROTOCOL_V2);
	CU_ASSERT_EQUAL_FATAL(p->nport_level_settings, 1);
	CU_ASSERT_EQUAL(p->port_level_settings[0].port, 8443);
	CU_ASSERT_EQUAL(p->port_level_settings[0].tls->mode, K_DR_TLS_MUTUAL);
	CU_ASSERT_EQUAL(p->port_level_settings[0].load_balancer->simple, K_DR_LB_ROUND_ROBIN);
	CU_ASSERT_PTR_NULL(p->port_level_settings[0].connection_pool);
	CU_ASSERT_EQUAL_FATAL(d->nsubsets, 2);
	CU_ASSERT_EQUAL(d->subsets[0].traffic_policy->load_balancer->simple, K_DR_LB_LEAST_REQUEST);
	CU_ASSERT_PTR_NOT_NULL(d->subsets[0].traffic_policy->tunnel);
	ch = d->subsets[1].traffic_policy->load_balancer->consistent_hash;
	CU_ASSERT_EQUAL(ch->key, K_DR_HASH_SOURCE_IP);
	CU_ASSERT_EQUAL(ch->algo, K_DR_HASH_MAGLEV);
	CU_ASSERT_EQUAL(ch->maglev_table_size, 65537);
	CU_ASSERT_EQUAL(d->subsets[1].labels.n, 0);
	fixture_free(&f);
}

static void
test_se_we_pa_fields(void)
{
	struct fixture f;
	const struct k_serviceentry *s = decode_one(&f, NET, "ServiceEntry",
	    "  hosts: [db.internal.example.com]\n"
	    "  addresses: [192.168.0.0/24]\n"
	    "  ports:\n"
	    "  - {number: 5432, protocol: tcp, name: pg, targetPort: 15432}\n"
	    "  location: MESH_INTERNAL\n"
	    "  resolution: STATIC\n"
	    "  endpoints:\n"
	    "  - address: 192.168.0.10\n"
	    "    ports: {pg: 6432}\n"
	    "    labels: {zone: a}\n"
	    "    locality: eu/west-1/a\n"
	    "    weight: 3\n"
	    "  - {address: 192.168.0.11, network: n1, serviceAccount: db}\n"
	    "  exportTo: [\"~\"]\n");
	const struct k_workloadentry *w;
	const struct k_peerauthentication *pa;

	CU_ASSERT_EQUAL_FATAL(s->nports, 1);
	CU_ASSERT_STRING_EQUAL(s->ports[0].protocol, "TCP");
	CU_ASSERT_EQUAL(s->ports[0].target_port, 15432);
	CU_ASSERT_EQUAL(s->location, K_SE_MESH_INTERNAL);
	CU_ASSERT_EQUAL(s->resolution, K_SE_STATIC);
	CU_ASSERT_EQUAL_FATAL(s->nendpoints, 2);
	CU_ASSERT_STRING_EQUAL(s->endpoints[0].address, "192.168.0.10");
	CU_ASSERT_EQUAL_FATAL(s->endpoints[0].nports, 1);
	CU_ASSERT_STRING_EQUAL(s->endpoints[0].ports[0].name, "pg");
	CU_ASSERT_EQUAL(s->endpoints[0].ports[0].number, 6432);
	CU_ASSERT_EQUAL(s->endpoints[0].weight, 3);
	CU_ASSERT_STRING_EQUAL(s->endpoints[0].locality, "eu/west-1/a");
	CU_ASSERT_STRING_EQUAL(s->endpoints[1].service_account, "db");
	CU_ASSERT_FALSE(s->has_workload_selector);
	fixture_free(&f);

	s = decode_one(&f, NET, "ServiceEntry",
	    "  hosts: [api.example.com, www.example.com]\n"
	    "  ports: [{number: 443, protocol: HTTPS, name: https}]\n"
	    "  resolution: DNS\n"
	    "  workloadSelector: {labels: {app: api}}\n");
	CU_ASSERT_EQUAL(s->location, K_SE_MESH_EXTERNAL);
	CU_ASSERT_TRUE(s->has_workload_selector);
	CU_ASSERT_STRING_EQUAL(strmap_get(&s->workload_selector, "app"), "api");
	fixture_free(&f);

	w = decode_one(&f, NET, "WorkloadEntry",
	    "  address: vm1.example.com\n"
	    "  ports: {https: 8443, http: 8080}\n"
	    "  labels: {app: vm}\n"
	    "  network: vpc1\n"
	    "  serviceAccount: vm-sa\n");
	CU_ASSERT_STRING_EQUAL(w->address, "vm1.example.com");
	CU_ASSERT_EQUAL_FATAL(w->nports, 2);
	CU_ASSERT_STRING_EQUAL(w->ports[0].name, "http");	/* sorted */
	CU_ASSERT_EQUAL(w->ports[0].number, 8080);
	CU_ASSERT_STRING_EQUAL(w->network, "vpc1");
	fixture_free(&f);

	pa = decode_one(&f, "security.istio.io/v1beta1", "PeerAuthentication",
	    "  selector: {matchLabels: {app: web}}\n"
	    "  mtls: {mode: STRICT}\n"
	    "  portLevelMtls:\n"
	    "    9090: {mode: PERMISSIVE}\n"
	    "    \"8080\": {mode: DISABLE}\n");
	CU_ASSERT_STRING_EQUAL(strmap_get(&pa->selector, "app"), "web");
	CU_ASSERT_EQUAL(pa->mtls_mode, K_PA_STRICT);
	CU_ASSERT_EQUAL_FATAL(pa->nport_level_mtls, 2);
	CU_ASSERT_EQUAL(pa->port_level_mtls[0].port, 8080);
	CU_ASSERT_EQUAL(pa->port_level_mtls[0].mode, K_PA_DISABLE);
	CU_ASSERT_EQUAL(pa->port_level_mtls[1].mode, K_PA_PERMISSIVE);
	fixture_free(&f);

	/* an empty PeerAuthentication: UNSET, inherits */
	{
		char *y = xstrdup("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
		    "metadata: {name: default, namespace: ns1}\n");

		memset(&f, 0, sizeof(f));
		cu_decode(y, &f.errs, &f.out);
		free(y);
		CU_ASSERT_EQUAL(f.errs.n, 0);
		CU_ASSERT_EQUAL_FATAL(f.out.n, 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f.out.v[0].obj);
		pa = f.out.v[0].obj->spec;
		CU_ASSERT_EQUAL(pa->mtls_mode, K_PA_UNSET);
		fixture_free(&f);
	}
}

/* ---- checks: each rejected with its message, at its line ---- */

struct err_case {
	const char	*apiv;
	const char	*kind;
	const char	*body;		/* spec lines, the first is line 5 */
	const char	*needle;
	int		 line;
};

#define GW_HEAD "  servers:\n"
#define VS_HEAD "  hosts: [a.example.com]\n  http:\n"

static const struct err_case err_cases[] = {
	/* StringMatch */
	{ NET, "VirtualService", VS_HEAD
	    "  - match:\n"
	    "    - uri: {exact: /a, prefix: /b}\n"
	    "    route: [{destination: {host: a}}]\n",
	    "only one of exact, prefix and regex", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - match:\n"
	    "    - uri: {}\n"
	    "    route: [{destination: {host: a}}]\n",
	    "uri: one of exact, prefix or regex is required", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - match:\n"
	    "    - method: {suffix: GET}\n"
	    "    route: [{destination: {host: a}}]\n",
	    "method: one of exact, prefix or regex is required", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - match:\n"
	    "    - headers:\n"
	    "        x-a:\n"
	    "    route: [{destination: {host: a}}]\n",
	    "headers.x-a: must be a StringMatch ({} matches presence), not null", 9 },
	{ NET, "VirtualService", VS_HEAD
	    "  - match:\n"
	    "    - headers: {\"x a\": {exact: b}}\n"
	    "    route: [{destination: {host: a}}]\n",
	    "\"x a\" is not a valid header name", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - match:\n"
	    "    - uri:\n"
	    "        regex: \"/a(b\"\n"
	    "    route: [{destination: {host: a}}]\n",
	    "regex \"/a(b\" does not compile", 9 },
	{ NET, "VirtualService", VS_HEAD
	    "  - match:\n"
	    "    - queryParams:\n"
	    "        q: {regex: \"^(?!admin).*\"}\n"
	    "    route: [{destination: {host: a}}]\n",
	    "uses a lookahead, which RE2", 9 },
	{ NET, "VirtualService", VS_HEAD
	    "  - match:\n"
	    "    - uri: {regex: \"\"}\n"
	    "    route: [{destination: {host: a}}]\n",
	    "regex must not be empty", 8 },
	/* routes */
	{ NET, "VirtualService", VS_HEAD
	    "  - route:\n"
	    "    - destination: {host: a}\n"
	    "      weight: -1\n",
	    "weight -1 is out of range", 9 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route:\n"
	    "    - {destination: {host: a}, weight: 0}\n"
	    "    - {destination: {host: b}, weight: 0}\n",
	    "the weights of the destinations add up to 0", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route:\n"
	    "    - destination: {subset: v1}\n",
	    "route[0].destination: host is required", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route:\n"
	    "    - weight: 100\n",
	    "route[0].destination: is required", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route:\n"
	    "    - destination: {host: a, subset: V_1}\n",
	    "subset name \"V_1\" is not a DNS label", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route:\n"
	    "    - destination: {host: a, port: {number: 70000}}\n",
	    "port.number 70000 is out of range 1-65535", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - match: [{uri: {prefix: /}}]\n",
	    "one of route, redirect or directResponse is required", 7 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route: [{destination: {host: a}}]\n"
	    "    redirect: {uri: /b}\n",
	    "redirect cannot be combined with route", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - redirect: {uri: /b, redirectCode: 200}\n",
	    "redirectCode 200 is not a 3xx code", 7 },
	{ NET, "VirtualService", VS_HEAD
	    "  - redirect: {port: 8443, derivePort: FROM_REQUEST_PORT}\n",
	    "only one of port and derivePort", 7 },
	{ NET, "VirtualService", VS_HEAD
	    "  - directResponse: {status: 99}\n",
	    "status 99 is out of range 200-599", 7 },
	{ NET, "VirtualService", VS_HEAD
	    "  - directResponse: {status: 200, body: {bytes: \"!!\"}}\n",
	    "bytes is not valid base64", 7 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route: [{destination: {host: a}}]\n"
	    "    timeout: 30\n",
	    "\"30\" is not a duration", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route: [{destination: {host: a}}]\n"
	    "    retries: {attempts: 0, perTryTimeout: 1s}\n",
	    "attempts 0 disables retries", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route: [{destination: {host: a}}]\n"
	    "    retries:\n"
	    "      attempts: 2\n"
	    "      retryOn: 5xx,sometimes\n",
	    "retryOn: \"sometimes\" is not a retry policy", 10 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route: [{destination: {host: a}}]\n"
	    "    fault: {abort: {httpStatus: 700}}\n",
	    "httpStatus 700 is out of range", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route: [{destination: {host: a}}]\n"
	    "    fault: {delay: {fixedDelay: 1s, percentage: {value: 101}}}\n",
	    "value 101 is out of range 0-100", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route: [{destination: {host: a}}]\n"
	    "    rewrite: {uri: /x, uriRegexRewrite: {match: a, rewrite: b}}\n",
	    "only one of uri and uriRegexRewrite", 8 },
	/* what goes into a request line, Host or Location cannot split the head */
	{ NET, "VirtualService", VS_HEAD
	    "  - route: [{destination: {host: a}}]\n"
	    "    rewrite: {uri: \"/x\\r\\nX-Injected: 1\"}\n",
	    "has a control character", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route: [{destination: {host: a}}]\n"
	    "    rewrite: {uri: \"/x HTTP/1.0\"}\n",
	    "has a space", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route: [{destination: {host: a}}]\n"
	    "    rewrite: {authority: \"a\\nb\"}\n",
	    "authority \"a\nb\" has a control character", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route: [{destination: {host: a}}]\n"
	    "    rewrite: {uriRegexRewrite: {match: a, rewrite: \"b\\rc\"}}\n",
	    "rewrite \"b\rc\" has a control character", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - redirect: {uri: \"/n\\r\\nSet-Cookie: x=1\"}\n",
	    "has a control character", 7 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route: [{destination: {host: a}}]\n"
	    "    corsPolicy: {allowMethods: [FETCH]}\n",
	    "allowMethods: \"FETCH\" is not an HTTP method", 8 },
	{ NET, "VirtualService", VS_HEAD
	    "  - route: [{destination: {host: a}}]\n"
	    "    headers:\n"
	    "      request: {set: {\":path\": /x}}\n",
	    "header \":path\" cannot be set", 9 },
	{ NET, "VirtualService", VS_HEAD
	    "  - delegate: {name: child}\n",
	    "delegate: is not supported", 7 },
	/* VirtualService */
	{ NET, "VirtualService",
	    "  gateways: [gw]\n"
	    "  http:\n"
	    "  - route: [{destination: {host: a}}]\n",
	    "hosts is required (delegate VirtualServices are not supported)", 5 },
	{ NET, "VirtualService",
	    "  hosts: [a.example.com, \"*.example.com\"]\n"
	    "  http: [{route: [{destination: {host: a}}]}]\n",
	    "\"*.example.com\" overlaps hosts[0]", 5 },
	{ NET, "VirtualService",
	    "  hosts: [\"*\"]\n"
	    "  http: [{route: [{destination: {host: a}}]}]\n",
	    "\"*\" is not allowed for the mesh gateway", 5 },
	{ NET, "VirtualService",
	    "  hosts: [a.example.com]\n"
	    "  gateways: [\"bad ns/gw\"]\n"
	    "  http: [{route: [{destination: {host: a}}]}]\n",
	    "is not namespace/name with DNS labels", 6 },
	{ NET, "VirtualService",
	    "  hosts: [a.example.com]\n",
	    "one of http, tcp or tls is required", 5 },
	{ NET, "VirtualService",
	    "  hosts: [a.example.com]\n"
	    "  tls:\n"
	    "  - match: [{sniHosts: [b.example.com]}]\n"
	    "    route: [{destination: {host: a}}]\n",
	    "\"b.example.com\" is not within the hosts", 7 },
	{ NET, "VirtualService",
	    "  hosts: [a.example.com]\n"
	    "  exportTo: [\"*\", ns2]\n"
	    "  http: [{route: [{destination: {host: a}}]}]\n",
	    "exportTo \"*\" cannot be combined", 6 },
	/* Gateway */
	{ NET, "Gateway", "  selector: {istio: ingressgateway}\n",
	    "servers: at least one server is required", 5 },
	{ NET, "Gateway", GW_HEAD
	    "  - hosts: [a.example.com]\n",
	    "servers[0].port: is required", 6 },
	{ NET, "Gateway", GW_HEAD
	    "  - port:\n"
	    "      number: 0\n"
	    "      name: http\n"
	    "      protocol: HTTP\n"
	    "    hosts: [a.example.com]\n",
	    "port.number 0 is out of range 1-65535", 7 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 80, name: http, protocol: QUIC}\n"
	    "    hosts: [a.example.com]\n",
	    "protocol \"QUIC\" is not one of HTTP, HTTPS", 6 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 80, protocol: HTTP}\n"
	    "    hosts: [a.example.com]\n",
	    "port.name is required", 6 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 80, name: http, protocol: HTTP}\n",
	    "hosts: at least one host is required", 6 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 80, name: http, protocol: HTTP}\n"
	    "    hosts:\n"
	    "    - a.example.com\n"
	    "    - foo.*.example.com\n",
	    "a wildcard is allowed only as the left-most label", 9 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 80, name: http, protocol: HTTP}\n"
	    "    hosts: [\"*foo.example.com\"]\n",
	    "a partial wildcard is not allowed", 7 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 80, name: http, protocol: HTTP}\n"
	    "    hosts: [bookinfo]\n",
	    "short names are not allowed", 7 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 80, name: http, protocol: HTTP}\n"
	    "    hosts: [\"my_ns/a.example.com\"]\n",
	    "namespace \"my_ns\" is not \"*\", \".\" or a DNS label", 7 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 443, name: https, protocol: HTTPS}\n"
	    "    hosts: [a.example.com]\n",
	    "a HTTPS server needs tls settings", 6 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 443, name: https, protocol: HTTPS}\n"
	    "    hosts: [a.example.com]\n"
	    "    tls:\n"
	    "      mode: SIMPLE\n",
	    "mode SIMPLE needs credentialName (or serverCertificate and privateKey)", 9 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 443, name: https, protocol: HTTPS}\n"
	    "    hosts: [a.example.com]\n"
	    "    tls: {mode: MUTUAL, serverCertificate: /c, privateKey: /k}\n",
	    "mode MUTUAL needs credentialName, or caCertificates", 8 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 443, name: https, protocol: HTTPS}\n"
	    "    hosts: [a.example.com]\n"
	    "    tls:\n"
	    "      mode: simple\n"
	    "      credentialName: c\n",
	    "\"simple\" is not one of PASSTHROUGH, SIMPLE, MUTUAL, AUTO_PASSTHROUGH, "
	    "ISTIO_MUTUAL or OPTIONAL_MUTUAL", 9 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 443, name: https, protocol: HTTPS}\n"
	    "    hosts: [a.example.com]\n"
	    "    tls:\n"
	    "      mode: SIMPLE\n"
	    "      credentialName: c\n"
	    "      minProtocolVersion: TLSV1_4\n",
	    "\"TLSV1_4\" is not one of TLS_AUTO, TLSV1_0, TLSV1_1, TLSV1_2 or TLSV1_3", 11 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 443, name: https, protocol: HTTPS}\n"
	    "    hosts: [a.example.com]\n"
	    "    tls: {mode: ISTIO_MUTUAL, credentialName: c}\n",
	    "mode ISTIO_MUTUAL uses the workload certificate", 8 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 80, name: http, protocol: HTTP}\n"
	    "    hosts: [a.example.com]\n"
	    "    tls: {mode: SIMPLE, credentialName: c}\n",
	    "a plain-text HTTP server takes no TLS settings but httpsRedirect", 8 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 80, name: web, protocol: HTTP}\n"
	    "    hosts: [a.example.com]\n"
	    "  - port: {number: 81, name: web, protocol: HTTP}\n"
	    "    hosts: [b.example.com]\n",
	    "servers[1]: port name \"web\" is already used by servers[0]", 8 },
	{ NET, "Gateway", GW_HEAD
	    "  - port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}\n"
	    "    hosts: [a.example.com]\n",
	    "port.targetPort has no effect on a Gateway", 6 },
	/* DestinationRule */
	{ NET, "DestinationRule", "  subsets: [{name: v1}]\n",
	    "host is required", 5 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  subsets:\n"
	    "  - name: v1\n"
	    "  - name: v1\n",
	    "subsets[1]: name \"v1\" is already used by subsets[0]", 8 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  subsets:\n"
	    "  - labels: {version: v1}\n",
	    "subset name must not be empty", 7 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy:\n"
	    "    loadBalancer:\n"
	    "      simple: FASTEST\n",
	    "\"FASTEST\" is not one of UNSPECIFIED, RANDOM, PASSTHROUGH, ROUND_ROBIN or "
	    "LEAST_REQUEST", 8 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy:\n"
	    "    loadBalancer: {simple: RANDOM, consistentHash: {useSourceIp: true}}\n",
	    "only one of simple and consistentHash", 7 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy:\n"
	    "    loadBalancer:\n"
	    "      consistentHash:\n"
	    "        maglev: {tableSize: 65536}\n",
	    "maglev.tableSize must be a prime below 5000011", 9 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy:\n"
	    "    connectionPool:\n"
	    "      http: {h2UpgradePolicy: ALWAYS}\n",
	    "\"ALWAYS\" is not one of DEFAULT, DO_NOT_UPGRADE or UPGRADE", 8 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy:\n"
	    "    connectionPool:\n"
	    "      tcp:\n"
	    "        maxConnections: -1\n",
	    "maxConnections must not be negative", 9 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy:\n"
	    "    outlierDetection:\n"
	    "      interval: 0s\n",
	    "interval must be at least 1ms", 8 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy:\n"
	    "    outlierDetection:\n"
	    "      baseEjectionTime: soon\n",
	    "\"soon\" is not a duration", 8 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy:\n"
	    "    outlierDetection:\n"
	    "      maxEjectionPercent: 150\n",
	    "maxEjectionPercent 150 is out of range 0-100", 8 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy:\n"
	    "    outlierDetection:\n"
	    "      consecutiveLocalOriginFailures: 3\n",
	    "consecutiveLocalOriginFailures needs splitExternalLocalOriginErrors", 8 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy:\n"
	    "    tls: {mode: MUTUAL}\n",
	    "mode MUTUAL needs credentialName (or clientCertificate and privateKey)", 7 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy:\n"
	    "    tls: {mode: STRICT}\n",
	    "\"STRICT\" is not one of DISABLE, SIMPLE, MUTUAL or ISTIO_MUTUAL", 7 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy: {}\n",
	    "trafficPolicy needs at least one setting", 6 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy:\n"
	    "    portLevelSettings:\n"
	    "    - tls: {mode: SIMPLE}\n",
	    "port is required", 8 },
	{ NET, "DestinationRule",
	    "  host: a\n"
	    "  trafficPolicy:\n"
	    "    loadBalancer:\n"
	    "      consistentHash: {httpCookie: {path: /}}\n",
	    "httpCookie.name is required", 8 },
	/* ServiceEntry, WorkloadEntry */
	{ NET, "ServiceEntry",
	    "  hosts: [\"*.example.com\"]\n"
	    "  resolution: DNS\n",
	    "resolution DNS without endpoints needs fully qualified hosts", 5 },
	{ NET, "ServiceEntry",
	    "  hosts: [a.example.com]\n"
	    "  resolution: EVENTUAL\n",
	    "\"EVENTUAL\" is not one of NONE, STATIC, DNS or DNS_ROUND_ROBIN", 6 },
	{ NET, "ServiceEntry",
	    "  hosts: [a.example.com]\n"
	    "  location: OUTSIDE\n",
	    "\"OUTSIDE\" is not one of MESH_EXTERNAL or MESH_INTERNAL", 6 },
	{ NET, "ServiceEntry",
	    "  hosts: [a.example.com]\n"
	    "  ports:\n"
	    "  - {number: 80, name: http, protocol: HTTP}\n"
	    "  - {number: 80, name: http2, protocol: HTTP2}\n",
	    "ports[1]: port 80 is already used", 8 },
	{ NET, "ServiceEntry",
	    "  hosts: [a.example.com]\n"
	    "  resolution: STATIC\n"
	    "  ports: [{number: 80, name: http, protocol: HTTP}]\n"
	    "  endpoints:\n"
	    "  - address: host.example.com\n",
	    "address \"host.example.com\" is not an IP address", 9 },
	{ NET, "ServiceEntry",
	    "  hosts: [a.example.com]\n"
	    "  resolution: STATIC\n"
	    "  ports: [{number: 80, name: http, protocol: HTTP}]\n"
	    "  endpoints:\n"
	    "  - address: 10.0.0.1\n"
	    "    ports: {grpc: 9000}\n",
	    "port \"grpc\" is not a port of the ServiceEntry", 10 },
	{ NET, "ServiceEntry",
	    "  hosts: [a.example.com, b.example.com]\n"
	    "  resolution: DNS\n"
	    "  ports: [{number: 5432, name: pg, protocol: TCP}]\n",
	    "several hosts need HTTP or TLS ports", 7 },
	{ NET, "WorkloadEntry", "  labels: {app: vm}\n",
	    "address is required", 5 },
	{ NET, "WorkloadEntry",
	    "  address: 10.0.0.1\n"
	    "  ports: {http: 0}\n",
	    "http 0 is out of range 1-65535", 6 },
	/* PeerAuthentication */
	{ SEC, "PeerAuthentication",
	    "  mtls:\n"
	    "    mode: MANDATORY\n",
	    "\"MANDATORY\" is not one of UNSET, DISABLE, PERMISSIVE or STRICT", 6 },
	{ SEC, "PeerAuthentication",
	    "  mtls: {mode: STRICT}\n"
	    "  portLevelMtls:\n"
	    "    8080: {mode: DISABLE}\n",
	    "portLevelMtls needs a selector", 7 },
	{ SEC, "PeerAuthentication",
	    "  selector: {matchLabels: {app: a}}\n"
	    "  portLevelMtls:\n"
	    "    http: {mode: DISABLE}\n",
	    "\"http\" is not a port number", 7 },
};

static void
test_errors(void)
{
	size_t i, j;

	for (i = 0; i < VG_ARRAY_SIZE(err_cases); i++) {
		const struct err_case *e = &err_cases[i];
		struct fixture f;
		char *y = doc(e->apiv, e->kind, e->body);
		int found = 0;

		memset(&f, 0, sizeof(f));
		cu_decode(y, &f.errs, &f.out);
		for (j = 0; j < f.errs.n; j++)
			if (f.errs.v[j].sev == ERR_ERROR && strstr(f.errs.v[j].msg, e->needle) &&
			    f.errs.v[j].line == e->line)
				found = 1;
		if (!found) {
			fprintf(stderr, "\ncase %zu: want line %d \"%s\", got:\n", i, e->line,
			    e->needle);
			errs_print(&f.errs, stderr);
		}
		CU_ASSERT_TRUE(found);
		CU_ASSERT_EQUAL(f.out.n, 1);
		if (f.out.n == 1) {
			CU_ASSERT_TRUE(f.out.v[0].failed);
			CU_ASSERT_PTR_NULL(f.out.v[0].obj);
		}
		free(y);
		fixture_free(&f);
	}
}

/* Error messages carry file:line:col, the kind, ns/name and the field path. */
static void
test_error_format(void)
{
	struct fixture f;
	char *y = doc(NET, "VirtualService", VS_HEAD
	    "  - route:\n"
	    "    - destination: {host: a}\n"
	    "      weight: -5\n");
	const char *want = "test.yaml:9:15: VirtualService ns1/t: spec.http[0].route[0]: "
	    "weight -5 is out of range 0-2147483647";
	char *s;

	memset(&f, 0, sizeof(f));
	cu_decode(y, &f.errs, &f.out);
	CU_ASSERT_EQUAL_FATAL(f.errs.nerrors, 1);
	s = errs_format(&f.errs.v[0]);
	if (strcmp(s, want) != 0)
		fprintf(stderr, "\ngot %s\n", s);
	CU_ASSERT_STRING_EQUAL(s, want);
	free(s);
	free(y);
	fixture_free(&f);
}

/* Warnings leave the object in place. */
static void
test_warnings(void)
{
	struct fixture f;
	char *y = doc(NET, "Gateway", GW_HEAD
	    "  - port: {number: 443, name: tls, protocol: TLS}\n"
	    "    hosts: [a.example.com]\n"
	    "    tls: {mode: PASSTHROUGH, credentialName: unused}\n");

	memset(&f, 0, sizeof(f));
	cu_decode(y, &f.errs, &f.out);
	CU_ASSERT_EQUAL(f.errs.nerrors, 0);
	CU_ASSERT_TRUE(cu_errs_have(&f.errs, "mode PASSTHROUGH does not use certificates"));
	CU_ASSERT_EQUAL_FATAL(f.out.n, 1);
	CU_ASSERT_PTR_NOT_NULL(f.out.v[0].obj);
	free(y);
	fixture_free(&f);
}

/* RE2 syntax passes; PCRE-only constructs are refused. */
static void
test_regex_dialect(void)
{
	static const struct {
		const char *re;
		int ok;
	} cases[] = {
		{ "^/api/v[0-9]+(/.*)?$", 1 },
		{ "(?i)/Admin", 1 },
		{ "(?P<ver>v[12])/.*", 1 },
		{ "[(?=]x", 1 },		/* inside a class: literal */
		{ "a\\(?=b", 1 },		/* escaped paren */
		{ "\\d{2,3}", 1 },
		{ "(a)\\1", 0 },
		{ "(?<=a)b", 0 },
		{ "(?>ab)", 0 },
		{ "a++", 0 },
		{ "[", 0 },
	};
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		struct fixture f;
		char *body, *y;

		xasprintf(&body, VS_HEAD "  - match: [{uri: {regex: '%s'}}]\n"
		    "    route: [{destination: {host: a}}]\n", cases[i].re);
		y = doc(NET, "VirtualService", body);
		memset(&f, 0, sizeof(f));
		cu_decode(y, &f.errs, &f.out);
		if ((f.errs.nerrors == 0) != cases[i].ok) {
			fprintf(stderr, "\nregex %s: want %s\n", cases[i].re, cases[i].ok ? "ok" : "error");
			errs_print(&f.errs, stderr);
		}
		CU_ASSERT_EQUAL(f.errs.nerrors == 0, cases[i].ok);
		free(body);
		free(y);
		fixture_free(&f);
	}
}

/* One bad Istio object among good ones is rejected alone, and still named. */
static void
test_invalid_alone(void)
{
	struct fixture f;
	const char *y =
	    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	    "metadata: {name: bad, namespace: ns1}\nspec: {host: a, subsets: [{name: v1}, {name: v1}]}\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	    "metadata: {name: good, namespace: ns1}\nspec: {host: a}\n";

	memset(&f, 0, sizeof(f));
	cu_decode(y, &f.errs, &f.out);
	CU_ASSERT_EQUAL(f.errs.nerrors, 1);
	CU_ASSERT_EQUAL_FATAL(f.out.n, 2);
	CU_ASSERT_TRUE(f.out.v[0].failed);
	CU_ASSERT_TRUE(f.out.v[0].named);
	CU_ASSERT_STRING_EQUAL(f.out.v[0].name, "bad");
	CU_ASSERT_EQUAL(f.out.v[0].kind, K_DESTINATIONRULE);
	CU_ASSERT_PTR_NOT_NULL(f.out.v[1].obj);
	fixture_free(&f);
}

/* Istio's host.Name.Matches, pairwise: what the scan compared. */
static int
naive_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (a[0] != '*' && b[0] != '*')
		return strcasecmp(a, b) == 0;
	if (a[0] == '*' && b[0] == '*')
		return (la >= lb && strcasecmp(a + la - (lb - 1), b + 1) == 0) ||
		    (lb >= la && strcasecmp(b + lb - (la - 1), a + 1) == 0);
	if (a[0] == '*')
		return lb >= la - 1 && strcasecmp(b + lb - (la - 1), a + 1) == 0;
	return la >= lb - 1 && strcasecmp(a + la - (lb - 1), b + 1) == 0;
}

/*
 * VirtualService hosts that overlap are found by tables and a sorted
 * suffix range, not by a scan of every pair: the same first pair as the
 * scan on random lists of exact and wildcard hosts (mixed case), and
 * 50,000 hosts in well under the scan's 12 s.
 */
static void
test_vs_hosts_overlap(void)
{
	static const char *const labels[] = { "a", "b", "ab", "ba", "A", "x-a" };
	struct fixture f;
	struct vg_buf b = { 0 };
	unsigned seed = 7;
	int round, i, k, nover = 0, nclean = 0;

	for (round = 0; round < 400; round++) {
		char hosts[12][64], want[256] = "";
		int nh = 2 + (int)(rand_r(&seed) % 8), wi = -1, wj = -1;

		for (i = 0; i < nh; i++) {
			int nl = 1 + (int)(rand_r(&seed) % 3), w = (int)(rand_r(&seed) % 3);
			char *h = hosts[i];

			*h = '\0';
			if (w == 1)
				strcat(h, "*.");
			else if (w == 2 && nl > 1)
				strcat(h, "*");
			for (k = 0; k < nl; k++) {
				if (k > 0)
					strcat(h, ".");
				strcat(h, labels[rand_r(&seed) % VG_ARRAY_SIZE(labels)]);
			}
			strcat(h, ".com");
		}
		for (i = 0; i < nh && wi < 0; i++)
			for (k = i + 1; k < nh; k++)
				if (naive_overlap(hosts[i], hosts[k])) {
					wi = i;
					wj = k;
					break;
				}
		buf_puts(&b, "  gateways: [gw]\n  hosts: [");
		for (i = 0; i < nh; i++)
			buf_printf(&b, "%s\"%s\"", i ? ", " : "", hosts[i]);
		buf_puts(&b, "]\n  http: [{route: [{destination: {host: a}}]}]\n");
		{
			char *y = doc(NET, "VirtualService", b.s);

			memset(&f, 0, sizeof(f));
			cu_decode(y, &f.errs, &f.out);
			free(y);
		}
		if (wi >= 0)
			nover++;
		else
			nclean++;
		if (wi >= 0) {
			snprintf(want, sizeof(want), "hosts[%d]: \"%s\" overlaps hosts[%d] \"%s\"",
			    wj, hosts[wj], wi, hosts[wi]);
			if (!cu_errs_have(&f.errs, want)) {
				fprintf(stderr, "want %s\n", want);
				errs_print(&f.errs, stderr);
			}
			CU_ASSERT_TRUE(cu_errs_have(&f.errs, want));
		} else {
			if (f.errs.n)
				errs_print(&f.errs, stderr);
			CU_ASSERT_EQUAL(f.errs.n, 0);
		}
		fixture_free(&f);
		b.len = 0;
		b.s[0] = '\0';
	}
	/* both outcomes were tried, often */
	CU_ASSERT_TRUE(nover > 50 && nclean > 50);
	buf_puts(&b, "  gateways: [gw]\n  hosts:\n");
	/* the overlap is between the last two: the scan compared every pair */
	for (i = 0; i < 50000; i++)
		buf_printf(&b, "  - h%d.Example.com\n", i);
	buf_puts(&b, "  - x.Last.com\n  - \"*.last.COM\"\n"
	    "  http: [{route: [{destination: {host: a}}]}]\n");
	{
		char *y = doc(NET, "VirtualService", b.s);

		memset(&f, 0, sizeof(f));
		cu_decode(y, &f.errs, &f.out);
		free(y);
	}
	CU_ASSERT_TRUE(cu_errs_have(&f.errs, "hosts[50001]: \"*.last.COM\" overlaps "
	    "hosts[50000] \"x.Last.com\""));
	fixture_free(&f);
	buf_free(&b);
}

/* Decode kind with body; true when some error has needle (bench-manifests times it). */
static int
long_list_has(const char *apiv, const char *kind, const char *body, const char *needle)
{
	struct fixture f;
	char *y = doc(apiv, kind, body);
	int r;

	memset(&f, 0, sizeof(f));
	cu_decode(y, &f.errs, &f.out);
	free(y);
	r = cu_errs_have(&f.errs, needle);
	if (!r)
		errs_print(&f.errs, stderr);
	fixture_free(&f);
	return r;
}

/*
 * A name or port given twice in a long list is found by sorting, not by
 * a scan of the items before each (100,000 subsets took seconds): the same
 * first repeat is named.
 */
static void
test_long_lists(void)
{
	struct vg_buf b = { 0 };
	int i;

	buf_puts(&b, "  host: a\n  subsets:\n");
	for (i = 0; i < 100000; i++)
		buf_printf(&b, "  - name: s%d\n", i);
	buf_puts(&b, "  - name: s9\n  - name: s3\n");
	CU_ASSERT_TRUE(long_list_has(NET, "DestinationRule", b.s,
	    "subsets[100000]: name \"s9\" is already used by subsets[9]"));
	buf_free(&b);

	buf_puts(&b, "  hosts: [a.example.com]\n  ports:\n");
	for (i = 1; i <= 60000; i++)
		buf_printf(&b, "  - {number: %d, name: p%d, protocol: HTTP}\n", i, i);
	buf_puts(&b, "  - {number: 65000, name: p7, protocol: HTTP}\n");
	CU_ASSERT_TRUE(long_list_has(NET, "ServiceEntry", b.s,
	    "ports[60000]: name \"p7\" is already used"));
	buf_free(&b);
	/* a name and a number both repeated: the earlier one is named */
	CU_ASSERT_TRUE(long_list_has(NET, "ServiceEntry", "  hosts: [a.example.com]\n"
	    "  ports:\n  - {number: 80, name: a, protocol: HTTP}\n"
	    "  - {number: 81, name: b, protocol: HTTP}\n"
	    "  - {number: 80, name: b, protocol: HTTP}\n",
	    "ports[2]: port 80 is already used"));

	buf_puts(&b, GW_HEAD);
	for (i = 1; i <= 60000; i++)
		buf_printf(&b, "  - port: {number: %d, name: p%d, protocol: HTTP}\n"
		    "    hosts: [a.example.com]\n", i, i);
	buf_puts(&b, "  - port: {number: 65000, name: p5, protocol: HTTP}\n"
	    "    hosts: [a.example.com]\n");
	CU_ASSERT_TRUE(long_list_has(NET, "Gateway", b.s,
	    "servers[60000]: port name \"p5\" is already used by servers[4]"));
	buf_free(&b);

	buf_puts(&b, VS_HEAD "  - match:\n    - headers:\n");
	for (i = 0; i < 100000; i++)
		buf_printf(&b, "        x-h%d: {exact: v}\n", i);
	buf_puts(&b, "        X-H17: {exact: v}\n    route: [{destination: {host: a}}]\n");
	CU_ASSERT_TRUE(long_list_has(NET, "VirtualService", b.s,
	    "\"X-H17\" is given twice"));
	buf_free(&b);

	buf_puts(&b, "  host: a\n  exportTo:\n");
	for (i = 0; i < 100000; i++)
		buf_printf(&b, "  - n%d\n", i);
	buf_puts(&b, "  - n12\n");
	CU_ASSERT_TRUE(long_list_has(NET, "DestinationRule", b.s,
	    "exportTo \"n12\" is given twice"));
	buf_free(&b);

	buf_puts(&b, "  selector: {matchLabels: {app: web}}\n  portLevelMtls:\n");
	for (i = 1; i <= 60000; i++)
		buf_printf(&b, "    %d: {mode: STRICT}\n", i);
	buf_puts(&b, "    \"0044\": {mode: STRICT}\n");
	CU_ASSERT_TRUE(long_list_has(SEC, "PeerAuthentication", b.s,
	    "port 44 is given twice"));
	buf_free(&b);

	buf_puts(&b, "  address: 10.0.0.1\n  ports:\n");
	for (i = 0; i < 100000; i++)
		buf_printf(&b, "    p%d: %d\n", i, 1 + i % 60000);
	buf_puts(&b, "    p21: 9\n");
	CU_ASSERT_TRUE(long_list_has(NET, "WorkloadEntry", b.s,
	    "port name \"p21\" is given twice"));
	buf_free(&b);
}

static const struct cu_test tests[] = {
	{ "long lists: repeats by sorting", test_long_lists },
	{ "VirtualService hosts overlap: as the pairwise scan, not its time",
	    test_vs_hosts_overlap },
	{ "seed Gateway fields", test_seed_gateway },
	{ "seed VirtualService fields", test_seed_virtualservice },
	{ "seed canary weights and subsets", test_seed_canary },
	{ "seed circuit breaker", test_seed_circuit_breaker },
	{ "every apiVersion of every kind", test_api_versions },
	{ "unknown fields are ignored", test_unknown_fields_ignored },
	{ "Gateway fields", test_gateway_fields },
	{ "VirtualService fields", test_vs_fields },
	{ "DestinationRule fields", test_dr_fields },
	{ "ServiceEntry, WorkloadEntry, PeerAuthentication fields", test_se_we_pa_fields },
	{ "each check: message and line", test_errors },
	{ "error message format", test_error_format },
	{ "warnings keep the object", test_warnings },
	{ "regex dialect: RE2", test_regex_dialect },
	{ "a bad object is rejected alone", test_invalid_alone },
	{ NULL, NULL }
};

int
main(void)
{
	return cu_run("istio", tests);
}
