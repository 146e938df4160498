/*
 * Upstream TLS: how DestinationRule tls compiles into clusters (top level,
 * port level, subset precedence; credentialName; auto mTLS), the SNI and
 * SPIFFE SANs, and the per-connection pick and SAN match.
 */
#include "config.h"

#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cu.h"
#include "fixture.h"
#include "tls-fixture.h"
#include "../../src/gw/gw-ctx-t.h"
#include "../../src/gw/gw-snap-t.h"
#include "../../src/gw/gw-uptls.h"
#include "../../src/gw/gw-worker-t.h"
#include "vipgate/gw-t.h"

static const char base_cfg[] = "node: {name: node-a}\n";

/* A gateway, a Service reviews with three ports, two pods, and a VS with one rule per cluster. */
static const char base_objs[] =
    "apiVersion: networking.istio.io/v1\n"
    "kind: Gateway\n"
    "metadata: {name: gw, namespace: istio-system}\n"
    "spec:\n"
    "  selector: {istio: ingressgateway}\n"
    "  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata: {name: reviews, namespace: default}\n"
    "spec:\n"
    "  selector: {app: reviews}\n"
    "  ports: [{name: http, port: 9080}, {name: http2, port: 9081}, {name: http3, port: 9082}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: reviews-v1\n"
    "  namespace: default\n"
    "  labels: {app: reviews, version: v1, security.istio.io/tlsMode: istio}\n"
    "spec:\n"
    "  serviceAccountName: bookinfo-reviews\n"
    "  nodeName: node-a\n"
    "  containers: [{name: c, image: x}]\n"
    "status: {phase: Running, podIP: 10.1.0.1, conditions: [{type: Ready, status: 'True'}]}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: reviews-v2\n"
    "  namespace: default\n"
    "  labels: {app: reviews, version: v2}\n"
    "spec:\n"
    "  nodeName: node-a\n"
    "  containers: [{name: c, image: x}]\n"
    "status: {phase: Running, podIP: 10.1.0.2, conditions: [{type: Ready, status: 'True'}]}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\n"
    "kind: VirtualService\n"
    "metadata: {name: vs, namespace: default}\n"
    "spec:\n"
    "  hosts: ['*']\n"
    "  gateways: [istio-system/gw]\n"
    "  http:\n"
    "  - match: [{uri: {prefix: /a}}]\n"
    "    route: [{destination: {host: reviews, port: {number: 9080}}}]\n"
    "  - match: [{uri: {prefix: /b}}]\n"
    "    route: [{destination: {host: reviews, port: {number: 9081}}}]\n"
    "  - match: [{uri: {prefix: /c}}]\n"
    "    route: [{destination: {host: reviews, port: {number: 9082}}}]\n"
    "  - match: [{uri: {prefix: /d}}]\n"
    "    route: [{destination: {host: reviews, subset: v1, port: {number: 9080}}}]\n"
    "  - match: [{uri: {prefix: /e}}]\n"
    "    route: [{destination: {host: reviews, subset: v2, port: {number: 9081}}}]\n"
    "  - match: [{uri: {prefix: /f}}]\n"
    "    route: [{destination: {host: reviews, subset: v2, port: {number: 9080}}}]\n";

struct tfx {
	struct fixture	 fx;
	struct desired	*d;
};

static void
tfx_load(struct tfx *t, const char *cfg, const char *extra)
{
	struct live_view live = { 0 };
	char *objs = NULL;

	xasprintf(&objs, "%s%s", base_objs, extra ? extra : "");
	fx_load(&t->fx, cfg ? cfg : base_cfg, objs);
	free(objs);
	live.gateway_ready = 1;
	t->d = reconcile(t->fx.st, t->fx.cfg, &live);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t->d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t->d->gw);
}

static void
tfx_free(struct tfx *t)
{
	desired_unref(t->d);
	fx_free(&t->fx);
}

static const struct gw_cluster *
cl(const struct tfx *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->d->gw->nclusters; i++)
		if (strcmp(t->d->gw->clusters[i]->name, name) == 0)
			return t->d->gw->clusters[i];
	fprintf(stderr, "no cluster %s\n", name);
	return NULL;
}

static const struct gw_endpoint *
ep(const struct gw_cluster *c, const char *ip)
{
	size_t i;

	for (i = 0; c && i < c->neps; i++)
		if (strcmp(c->eps[i].ip, ip) == 0)
			return &c->eps[i];
	return NULL;
}

static int
has_note(const struct tfx *t, const char *needle)
{
	size_t i;

	for (i = 0; i < t->d->gw->nnotes; i++)
		if (strstr(t->d->gw->notes[i].msg, needle))
			return 1;
	return 0;
}

/* No DestinationRule: auto mTLS by the tlsMode label; SNI and SPIFFE IDs as Istio builds them. */
static void
test_auto_mtls(void)
{
	struct tfx t;
	const struct gw_cluster *c, *c1;
	const struct gw_endpoint *e1, *e2;
	struct gw_uptls_pick pk;

	tfx_load(&t, NULL, NULL);
	c = cl(&t, "outbound|9080||reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NULL(c->tls);
	CU_ASSERT_STRING_EQUAL(c->istio_sni, "outbound_.9080_._.reviews.default.svc.cluster.local");
	e1 = ep(c, "10.1.0.1");
	e2 = ep(c, "10.1.0.2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e2);
	CU_ASSERT_TRUE(e1->istio_mtls);
	CU_ASSERT_FALSE(e2->istio_mtls);
	CU_ASSERT_STRING_EQUAL(e1->spiffe, "spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
	/* no serviceAccountName: the namespace's "default" account */
	CU_ASSERT_STRING_EQUAL(e2->spiffe, "spiffe://cluster.local/ns/default/sa/default");

	gw_uptls_pick(c, e1, "reviews.example.com", 19, &pk);
	CU_ASSERT_EQUAL(pk.mode, GW_UPTLS_ISTIO_MUTUAL);
	CU_ASSERT_STRING_EQUAL(pk.sni, "outbound_.9080_._.reviews.default.svc.cluster.local");
	/* the SAN set is the service's accounts (istiod's ServiceAccounts), sorted */
	CU_ASSERT_EQUAL_FATAL(pk.nsans, 2);
	CU_ASSERT_STRING_EQUAL(pk.sans[0], "spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
	CU_ASSERT_STRING_EQUAL(pk.sans[1], "spiffe://cluster.local/ns/default/sa/default");
	CU_ASSERT_FALSE(pk.verify_host);
	gw_uptls_pick(c, e2, "reviews.example.com", 19, &pk);
	CU_ASSERT_EQUAL(pk.mode, GW_UPTLS_DISABLE);

	/* a subset's SNI names it */
	c1 = cl(&t, "outbound|9080|v1|reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c1);
	CU_ASSERT_STRING_EQUAL(c1->istio_sni, "outbound_.9080_.v1_.reviews.default.svc.cluster.local");
	tfx_free(&t);
}

/* gateway.identity.trust_domain is the SPIFFE trust domain. */
static void
test_trust_domain(void)
{
	struct tfx t;
	const struct gw_cluster *c;

	tfx_load(&t, "node: {name: node-a}\ngateway: {identity: {trust_domain: example.org}}\n", NULL);
	c = cl(&t, "outbound|9080||reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(ep(c, "10.1.0.1")->spiffe,
	    "spiffe://example.org/ns/default/sa/bookinfo-reviews");
	tfx_free(&t);
}

/*
 * Precedence (Istio's MergeTrafficPolicy): rule tls < rule port level
 * (which replaces even without tls) < subset tls < subset port level.
 */
static void
test_precedence(void)
{
	static const char dr[] =
	    "---\n"
	    "apiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\n"
	    "metadata: {name: reviews, namespace: default}\n"
	    "spec:\n"
	    "  host: reviews\n"
	    "  trafficPolicy:\n"
	    "    tls: {mode: SIMPLE, sni: top.example, caCertificates: /ca.pem, caCrl: /crl.pem}\n"
	    "    portLevelSettings:\n"
	    "    - port: {number: 9080}\n"
	    "      tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem}\n"
	    "    - port: {number: 9082}\n"
	    "      connectionPool: {tcp: {maxConnections: 7}}\n"
	    "  subsets:\n"
	    "  - name: v1\n"
	    "    labels: {version: v1}\n"
	    "    trafficPolicy:\n"
	    "      tls: {mode: ISTIO_MUTUAL, subjectAltNames: ['spiffe://cluster.local/ns/x/sa/y']}\n"
	    "  - name: v2\n"
	    "    labels: {version: v2}\n"
	    "    trafficPolicy:\n"
	    "      portLevelSettings:\n"
	    "      - port: {number: 9081}\n"
	    "        tls: {mode: DISABLE}\n";
	struct tfx t;
	const struct gw_cluster *c;
	struct gw_uptls_pick pk;

	tfx_load(&t, NULL, dr);
	c = cl(&t, "outbound|9080||reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->tls);
	CU_ASSERT_PTR_NULL(c->missing);
	CU_ASSERT_EQUAL(c->tls->mode, GW_UPTLS_MUTUAL);
	CU_ASSERT_STRING_EQUAL(c->tls->cert_file, "/c.pem");
	CU_ASSERT_STRING_EQUAL(c->tls->key_file, "/k.pem");
	CU_ASSERT_PTR_NULL(c->tls->sni);	/* port level replaces the whole tls */

	c = cl(&t, "outbound|9081||reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->tls);
	CU_ASSERT_EQUAL(c->tls->mode, GW_UPTLS_SIMPLE);
	CU_ASSERT_STRING_EQUAL(c->tls->sni, "top.example");
	CU_ASSERT_STRING_EQUAL(c->tls->ca_file, "/ca.pem");
	CU_ASSERT_STRING_EQUAL(c->tls->crl_file, "/crl.pem");
	gw_uptls_pick(c, &c->eps[0], "x.example.com", 13, &pk);
	CU_ASSERT_EQUAL(pk.mode, GW_UPTLS_SIMPLE);
	CU_ASSERT_STRING_EQUAL(pk.sni, "top.example");
	CU_ASSERT_FALSE(pk.verify_host);	/* sni given: no auto SAN validation */

	/* a port-level entry without tls: no rule tls, so auto mTLS */
	c = cl(&t, "outbound|9082||reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NULL(c->tls);
	CU_ASSERT_EQUAL(c->max_connections, 7);

	c = cl(&t, "outbound|9080|v1|reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->tls);
	CU_ASSERT_EQUAL(c->tls->mode, GW_UPTLS_ISTIO_MUTUAL);
	CU_ASSERT_EQUAL_FATAL(c->neps, 1);
	gw_uptls_pick(c, &c->eps[0], "x", 1, &pk);
	CU_ASSERT_EQUAL(pk.mode, GW_UPTLS_ISTIO_MUTUAL);
	CU_ASSERT_STRING_EQUAL(pk.sni, "outbound_.9080_.v1_.reviews.default.svc.cluster.local");
	CU_ASSERT_EQUAL_FATAL(pk.nsans, 1);
	/* the rule's subjectAltNames win over the endpoint's SPIFFE ID */
	CU_ASSERT_STRING_EQUAL(pk.sans[0], "spiffe://cluster.local/ns/x/sa/y");
	CU_ASSERT_EQUAL(c->nspiffes, 0);	/* not built when the rule names the SANs */

	c = cl(&t, "outbound|9081|v2|reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->tls);
	CU_ASSERT_EQUAL(c->tls->mode, GW_UPTLS_DISABLE);
	gw_uptls_pick(c, &c->eps[0], "x", 1, &pk);
	CU_ASSERT_EQUAL(pk.mode, GW_UPTLS_DISABLE);

	/* subset v2 has no tls for 9080: the rule's port level applies */
	c = cl(&t, "outbound|9080|v2|reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->tls);
	CU_ASSERT_EQUAL(c->tls->mode, GW_UPTLS_MUTUAL);
	tfx_free(&t);
}

/* A subset cluster under auto mTLS verifies against the whole service's accounts. */
static void
test_subset_sans(void)
{
	static const char dr[] =
	    "---\n"
	    "apiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\n"
	    "metadata: {name: reviews, namespace: default}\n"
	    "spec:\n"
	    "  host: reviews\n"
	    "  subsets: [{name: v1, labels: {version: v1}}]\n";
	struct tfx t;
	const struct gw_cluster *c;
	struct gw_uptls_pick pk;

	tfx_load(&t, NULL, dr);
	c = cl(&t, "outbound|9080|v1|reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NULL(c->tls);
	CU_ASSERT_EQUAL_FATAL(c->neps, 1);
	gw_uptls_pick(c, &c->eps[0], NULL, 0, &pk);
	CU_ASSERT_EQUAL(pk.mode, GW_UPTLS_ISTIO_MUTUAL);
	/* v2's account too, though v2 is not in this subset */
	CU_ASSERT_EQUAL_FATAL(pk.nsans, 2);
	CU_ASSERT_STRING_EQUAL(pk.sans[0], "spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
	CU_ASSERT_STRING_EQUAL(pk.sans[1], "spiffe://cluster.local/ns/default/sa/default");
	tfx_free(&t);
}

/* An explicit DISABLE turns auto mTLS off even for tlsMode=istio endpoints. */
static void
test_disable_beats_auto(void)
{
	static const char dr[] =
	    "---\n"
	    "apiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\n"
	    "metadata: {name: reviews, namespace: default}\n"
	    "spec: {host: reviews.default.svc.cluster.local, trafficPolicy: {tls: {mode: DISABLE}}}\n";
	struct tfx t;
	const struct gw_cluster *c;
	struct gw_uptls_pick pk;

	tfx_load(&t, NULL, dr);
	c = cl(&t, "outbound|9080||reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	gw_uptls_pick(c, ep(c, "10.1.0.1"), NULL, 0, &pk);
	CU_ASSERT_EQUAL(pk.mode, GW_UPTLS_DISABLE);
	tfx_free(&t);
}

/* ServiceEntry endpoints: their serviceAccount; never auto mTLS to a MESH_EXTERNAL entry. */
static void
test_service_entry(void)
{
	static const char objs[] =
	    "---\n"
	    "apiVersion: networking.istio.io/v1\n"
	    "kind: ServiceEntry\n"
	    "metadata: {name: ext, namespace: default}\n"
	    "spec:\n"
	    "  hosts: [ext.example.com]\n"
	    "  location: MESH_EXTERNAL\n"
	    "  resolution: STATIC\n"
	    "  ports: [{number: 443, name: http, protocol: HTTP}]\n"
	    "  endpoints: [{address: 192.0.2.1, labels: {security.istio.io/tlsMode: istio}}]\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1\n"
	    "kind: ServiceEntry\n"
	    "metadata: {name: vm, namespace: apps}\n"
	    "spec:\n"
	    "  hosts: [vm.example.com]\n"
	    "  location: MESH_INTERNAL\n"
	    "  resolution: STATIC\n"
	    "  ports: [{number: 8080, name: http, protocol: HTTP}]\n"
	    "  endpoints:\n"
	    "  - {address: 192.0.2.2, labels: {security.istio.io/tlsMode: istio}, serviceAccount: vm-sa}\n"
	    "  - {address: 192.0.2.3, labels: {security.istio.io/tlsMode: istio, v: '2'}, serviceAccount: vm2-sa}\n"
	    "  subjectAltNames: ['spiffe://other.example/ns/apps/sa/vm']\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\n"
	    "metadata: {name: vm, namespace: apps}\n"
	    "spec:\n"
	    "  host: vm.example.com\n"
	    "  subsets: [{name: two, labels: {v: '2'}}]\n"
	    "---\n"
	    "apiVersion: networking.istio.io/v1\n"
	    "kind: VirtualService\n"
	    "metadata: {name: se, namespace: default}\n"
	    "spec:\n"
	    "  hosts: ['*']\n"
	    "  gateways: [istio-system/gw]\n"
	    "  http:\n"
	    "  - match: [{uri: {prefix: /g}}]\n"
	    "    route: [{destination: {host: ext.example.com}}]\n"
	    "  - match: [{uri: {prefix: /h}}]\n"
	    "    route: [{destination: {host: vm.example.com}}]\n"
	    "  - match: [{uri: {prefix: /i}}]\n"
	    "    route: [{destination: {host: vm.example.com, subset: two}}]\n";
	struct tfx t;
	const struct gw_cluster *c;
	struct gw_uptls_pick pk;

	tfx_load(&t, NULL, objs);
	c = cl(&t, "outbound|443||ext.example.com");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(c->neps, 1);
	CU_ASSERT_FALSE(c->eps[0].istio_mtls);
	gw_uptls_pick(c, &c->eps[0], NULL, 0, &pk);
	CU_ASSERT_EQUAL(pk.mode, GW_UPTLS_DISABLE);
	c = cl(&t, "outbound|8080||vm.example.com");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(c->neps, 2);
	CU_ASSERT_TRUE(c->eps[0].istio_mtls);
	CU_ASSERT_STRING_EQUAL(c->eps[0].spiffe, "spiffe://cluster.local/ns/apps/sa/vm-sa");
	CU_ASSERT_STRING_EQUAL(c->istio_sni, "outbound_.8080_._.vm.example.com");
	/* the entry's subjectAltNames join its endpoints' accounts */
	gw_uptls_pick(c, &c->eps[0], NULL, 0, &pk);
	CU_ASSERT_EQUAL_FATAL(pk.nsans, 3);
	CU_ASSERT_STRING_EQUAL(pk.sans[0], "spiffe://cluster.local/ns/apps/sa/vm-sa");
	CU_ASSERT_STRING_EQUAL(pk.sans[1], "spiffe://cluster.local/ns/apps/sa/vm2-sa");
	CU_ASSERT_STRING_EQUAL(pk.sans[2], "spiffe://other.example/ns/apps/sa/vm");
	/* the entry's subset: one endpoint, the whole entry's set */
	c = cl(&t, "outbound|8080|two|vm.example.com");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->neps, 1);
	CU_ASSERT_EQUAL(c->nspiffes, 3);
	tfx_free(&t);
}

/* credentialName: the Secret in gateway.namespace; missing means the cluster is not activated. */
static void
test_credential(void)
{
	static const char dr[] =
	    "---\n"
	    "apiVersion: networking.istio.io/v1\n"
	    "kind: DestinationRule\n"
	    "metadata: {name: reviews, namespace: default}\n"
	    "spec:\n"
	    "  host: reviews\n"
	    "  trafficPolicy:\n"
	    "    tls: {mode: MUTUAL, credentialName: reviews-client}\n"
	    "    portLevelSettings:\n"
	    "    - port: {number: 9081}\n"
	    "      tls: {mode: SIMPLE, credentialName: nowhere}\n"
	    "    - port: {number: 9082}\n"
	    "      tls: {mode: MUTUAL, credentialName: reviews-client-cacert}\n";
	struct tfx t;
	const struct gw_cluster *c;
	char *cert, *ca, *objs;
	char *s1 = tfx_secret("reviews-client", "client", "tls.crt", "tls.key", NULL, &cert);
	char *s2 = tfx_secret("reviews-client-cacert", "ca", NULL, NULL, "ca.crt", &ca);

	xasprintf(&objs, "%s%s%s", s1, s2, dr);
	tfx_load(&t, NULL, objs);
	free(objs);
	free(s1);
	free(s2);
	c = cl(&t, "outbound|9080||reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NULL(c->missing);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->tls);
	CU_ASSERT_STRING_EQUAL(c->tls->credential, "istio-system/reviews-client");
	CU_ASSERT_STRING_EQUAL(c->tls->cert, cert);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->tls->key, "PRIVATE KEY"));
	CU_ASSERT_STRING_EQUAL(c->tls->ca, ca);	/* from <name>-cacert */
	free(cert);
	free(ca);

	c = cl(&t, "outbound|9081||reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->missing);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->missing, "Secret istio-system/nowhere not found"));
	CU_ASSERT_TRUE(has_note(&t, "Secret istio-system/nowhere not found"));

	c = cl(&t, "outbound|9082||reviews.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->missing);
	/* a CA-only Secret cannot serve MUTUAL */
	CU_ASSERT_PTR_NOT_NULL(strstr(c->missing, "has no tls.crt/tls.key"));
	tfx_free(&t);
}

/* SIMPLE without sni: auto_sni from the Host (no port, no IP literal) and auto SAN validation. */
static void
test_auto_sni(void)
{
	struct gw_uptls u = { 0 };
	struct gw_cluster c = { 0 };
	struct gw_endpoint e = { 0 };
	struct gw_uptls_pick pk;
	static const char *sans[] = { "a.example" };

	u.mode = GW_UPTLS_SIMPLE;
	c.tls = &u;
	gw_uptls_pick(&c, &e, "api.example.com:8443", 20, &pk);
	CU_ASSERT_STRING_EQUAL(pk.sni, "api.example.com");
	CU_ASSERT_TRUE(pk.verify_host);
	gw_uptls_pick(&c, &e, "10.0.0.1:80", 11, &pk);
	CU_ASSERT_STRING_EQUAL(pk.sni, "");
	CU_ASSERT_FALSE(pk.verify_host);
	gw_uptls_pick(&c, &e, "[2001:db8::1]:443", 17, &pk);
	CU_ASSERT_STRING_EQUAL(pk.sni, "");
	u.sans = sans;
	u.nsans = 1;
	gw_uptls_pick(&c, &e, "api.example.com", 15, &pk);
	CU_ASSERT_STRING_EQUAL(pk.sni, "api.example.com");
	CU_ASSERT_FALSE(pk.verify_host);	/* the SANs given are checked instead */
	CU_ASSERT_EQUAL(pk.nsans, 1);
	u.insecure_skip_verify = 1;
	gw_uptls_pick(&c, &e, "api.example.com", 15, &pk);
	CU_ASSERT_TRUE(pk.skip_verify);
	CU_ASSERT_STRING_EQUAL(gw_uptls_mode_name(GW_UPTLS_ISTIO_MUTUAL), "ISTIO_MUTUAL");
}

/* Envoy's exact match_subject_alt_names over URI, DNS and IP SANs. */
static void
test_san_match(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	static const char *want_uri[] = { "spiffe://cluster.local/ns/default/sa/reviews" };
	static const char *want_dns[] = { "nope", "reviews.example.com" };
	static const char *want_ip[] = { "192.0.2.7" };
	static const char *wrong[] = { "spiffe://cluster.local/ns/default/sa/other",
		"spiffe://cluster.local/ns/default/sa/reviews/x", "reviews.example" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(pk);
	X509_set_version(x, 2);
	X509_set_pubkey(x, pk);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    "URI:spiffe://cluster.local/ns/default/sa/reviews,DNS:reviews.example.com,IP:192.0.2.7");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	CU_ASSERT_TRUE(gw_uptls_san_match(x, want_uri, 1));
	CU_ASSERT_TRUE(gw_uptls_san_match(x, want_dns, 2));
	CU_ASSERT_TRUE(gw_uptls_san_match(x, want_ip, 1));
	CU_ASSERT_FALSE(gw_uptls_san_match(x, wrong, 3));
	CU_ASSERT_FALSE(gw_uptls_san_match(x, wrong, 0));
	X509_free(x);
	EVP_PKEY_free(pk);
}

/* A PEM text of a fresh self-signed certificate and its key (for context building). */
static void
self_signed(char **cert, char **key)
{
	EVP_PKEY *pk;
	X509 *x = tfx_self_signed(&pk, "t");
	BIO *b;
	BUF_MEM *m;

	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	BIO_get_mem_ptr(b, &m);
	*cert = strndup(m->data, m->length);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	BIO_get_mem_ptr(b, &m);
	*key = strndup(m->data, m->length);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(pk);
}

/* The snapshot's client contexts: made from good PEM, refused (with a reason) from bad. */
static void
test_snap_contexts(void)
{
	struct gw_uptls good = { 0 }, bad = { 0 }, nofile = { 0 }, istio = { 0 };
	struct gw_cluster c[5], *cp[5];
	struct gw_desired g = { 0 };
	struct gw_uptls_snap u;
	char *cert, *key;
	size_t i;

	self_signed(&cert, &key);
	memset(c, 0, sizeof(c));
	good.mode = GW_UPTLS_MUTUAL;
	good.credential = "istio-system/good";
	good.cert = cert;
	good.cert_len = strlen(cert);
	good.key = key;
	good.key_len = strlen(key);
	good.ca = cert;
	good.ca_len = strlen(cert);
	bad = good;
	bad.credential = "istio-system/bad";
	bad.ca = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
	bad.ca_len = strlen(bad.ca);
	nofile.mode = GW_UPTLS_SIMPLE;
	nofile.ca_file = "/nonexistent/ca.pem";
	istio.mode = GW_UPTLS_ISTIO_MUTUAL;
	c[0].tls = &good;
	c[1].tls = &bad;
	c[2].tls = &nofile;
	c[3].tls = &istio;	/* the identity's, not the snapshot's */
	c[4].tls = NULL;	/* auto mTLS */
	for (i = 0; i < 5; i++) {
		c[i].name = "outbound|1||x";
		c[i].id = i;
		cp[i] = &c[i];
	}
	g.clusters = cp;
	g.nclusters = 5;
	gw_uptls_snap_init(&u, &g, NULL);
	CU_ASSERT_EQUAL_FATAL(u.n, 5);
	CU_ASSERT_PTR_NOT_NULL(u.ctx[0]);
	CU_ASSERT_PTR_NULL(u.err[0]);
	CU_ASSERT_PTR_NULL(u.ctx[1]);
	CU_ASSERT_PTR_NOT_NULL(u.err[1] ? strstr(u.err[1], "holds no certificate") : NULL);
	/* with OpenSSL's reason for it, not a stale or empty queue */
	CU_ASSERT_PTR_NOT_NULL(u.err[1] ? strstr(u.err[1], "holds no certificate: error:") : NULL);
	CU_ASSERT_PTR_NULL(u.err[1] ? strstr(u.err[1], "error:00000000") : "");
	CU_ASSERT_PTR_NULL(u.ctx[2]);
	CU_ASSERT_PTR_NOT_NULL(u.err[2] ? strstr(u.err[2], "/nonexistent/ca.pem") : NULL);
	CU_ASSERT_PTR_NULL(u.ctx[3]);
	CU_ASSERT_PTR_NULL(u.err[3]);
	CU_ASSERT_PTR_NULL(u.ctx[4]);
	/* the pool key's part: equal settings, equal hash */
	CU_ASSERT_NOT_EQUAL(u.hash[0], 0);
	CU_ASSERT_NOT_EQUAL(u.hash[0], u.hash[1]);
	gw_uptls_snap_free(&u);
	free(cert);
	free(key);
}

/* Envoy's client defaults: ECDHE with an AEAD only, TLS 1.2 at least. */
static void
test_client_ciphers(void)
{
	struct gw_uptls simple = { 0 };
	struct gw_cluster c, *cp = &c;
	struct gw_desired g = { 0 };
	struct gw_uptls_snap u;
	STACK_OF(SSL_CIPHER) *sk;
	int i, n_ecdhe_gcm = 0;

	memset(&c, 0, sizeof(c));
	simple.mode = GW_UPTLS_SIMPLE;
	simple.insecure_skip_verify = 1;
	c.tls = &simple;
	c.name = "outbound|443||x";
	g.clusters = &cp;
	g.nclusters = 1;
	gw_uptls_snap_init(&u, &g, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(u.ctx[0]);
	sk = SSL_CTX_get_ciphers(u.ctx[0]);
	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *ci = sk_SSL_CIPHER_value(sk, i);
		int kx = SSL_CIPHER_get_kx_nid(ci);

		if (kx != NID_kx_ecdhe && kx != NID_kx_any)
			fprintf(stderr, "offered, not an ECDHE AEAD suite: %s\n", SSL_CIPHER_get_name(ci));
		CU_ASSERT_TRUE(kx == NID_kx_ecdhe || kx == NID_kx_any);
		CU_ASSERT_TRUE(SSL_CIPHER_is_aead(ci));
		n_ecdhe_gcm += strcmp(SSL_CIPHER_get_name(ci), "ECDHE-RSA-AES128-GCM-SHA256") == 0;
	}
	CU_ASSERT_EQUAL(n_ecdhe_gcm, 1);
	CU_ASSERT_EQUAL(SSL_CTX_get_min_proto_version(u.ctx[0]), TLS1_2_VERSION);
	gw_uptls_snap_free(&u);
}

/* The files a context was read from are watched: a change, a new file, a removal. */
static void
test_snap_files(void)
{
	struct gw_uptls simple = { 0 };
	struct gw_cluster c, *cp = &c;
	struct gw_desired g = { 0 };
	struct gw_uptls_snap u, u2;
	char dir[] = "/tmp/vg-uptls.XXXXXX", path[64], late[64];
	const char *which = NULL;
	char *cert, *key;
	uint64_t h0;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	snprintf(late, sizeof(late), "%s/late.pem", dir);
	self_signed(&cert, &key);
	f = fopen(path, "w");
	fputs(cert, f);
	fclose(f);
	memset(&c, 0, sizeof(c));
	simple.mode = GW_UPTLS_SIMPLE;
	simple.ca_file = path;
	simple.crl_file = NULL;
	c.tls = &simple;
	c.name = "outbound|443||x";
	g.clusters = &cp;
	g.nclusters = 1;
	gw_uptls_snap_init(&u, &g, NULL);
	CU_ASSERT_PTR_NOT_NULL(u.ctx[0]);
	CU_ASSERT_EQUAL(u.nfiles, 1);
	CU_ASSERT_FALSE(gw_uptls_snap_files_changed(&u, &which));
	h0 = u.hash[0];
	/* rewritten with other content: changed, and a new snapshot gets another pool key */
	f = fopen(path, "w");
	fputs(cert, f);
	fputs(cert, f);
	fclose(f);
	CU_ASSERT_TRUE(gw_uptls_snap_files_changed(&u, &which));
	CU_ASSERT_STRING_EQUAL(which, path);
	gw_uptls_snap_free(&u);
	gw_uptls_snap_init(&u, &g, NULL);
	CU_ASSERT_FALSE(gw_uptls_snap_files_changed(&u, &which));
	CU_ASSERT_NOT_EQUAL(u.hash[0], h0);
	/* rewritten broken: the next snapshot keeps the last good context and pool key */
	f = fopen(path, "w");
	fputs("-----BEGIN CERTIFICATE-----\nbroken\n", f);
	fclose(f);
	CU_ASSERT_TRUE(gw_uptls_snap_files_changed(&u, &which));
	gw_uptls_snap_init(&u2, &g, &u);
	CU_ASSERT_PTR_EQUAL(u2.ctx[0], u.ctx[0]);
	CU_ASSERT_EQUAL(u2.hash[0], u.hash[0]);
	CU_ASSERT_PTR_NULL(u2.err[0]);
	CU_ASSERT_FALSE(gw_uptls_snap_files_changed(&u2, &which));	/* no loop on the broken file */
	gw_uptls_snap_free(&u);
	/* kept again from a snapshot that kept it, and it outlives the one that made it */
	gw_uptls_snap_init(&u, &g, &u2);
	CU_ASSERT_PTR_NOT_NULL(u.ctx[0]);
	CU_ASSERT_EQUAL(u.hash[0], u2.hash[0]);
	gw_uptls_snap_free(&u2);
	/* no previous snapshot: 503 NC */
	gw_uptls_snap_init(&u2, &g, NULL);
	CU_ASSERT_PTR_NULL(u2.ctx[0]);
	CU_ASSERT_PTR_NOT_NULL(u2.err[0]);
	gw_uptls_snap_free(&u2);
	/* other settings (another cluster name) are not the same cluster's */
	c.name = "outbound|443||y";
	gw_uptls_snap_init(&u2, &g, &u);
	CU_ASSERT_PTR_NULL(u2.ctx[0]);
	gw_uptls_snap_free(&u2);
	c.name = "outbound|443||x";
	/* repaired: a fresh context */
	f = fopen(path, "w");
	fputs(cert, f);
	fclose(f);
	CU_ASSERT_TRUE(gw_uptls_snap_files_changed(&u, &which));
	gw_uptls_snap_init(&u2, &g, &u);
	CU_ASSERT_PTR_NOT_NULL(u2.ctx[0]);
	CU_ASSERT_PTR_NOT_EQUAL(u2.ctx[0], u.ctx[0]);
	gw_uptls_snap_free(&u);
	u = u2;
	/* removed: changed too */
	unlink(path);
	CU_ASSERT_TRUE(gw_uptls_snap_files_changed(&u, &which));
	gw_uptls_snap_free(&u);
	/* missing at first (503 NC): its arrival is a change */
	simple.ca_file = late;
	gw_uptls_snap_init(&u, &g, NULL);
	CU_ASSERT_PTR_NULL(u.ctx[0]);
	CU_ASSERT_FALSE(gw_uptls_snap_files_changed(&u, &which));
	f = fopen(late, "w");
	fputs(cert, f);
	fclose(f);
	CU_ASSERT_TRUE(gw_uptls_snap_files_changed(&u, &which));
	gw_uptls_snap_free(&u);
	unlink(late);
	rmdir(dir);
	free(cert);
	free(key);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "auto mTLS by tlsMode, SNI and SPIFFE IDs", test_auto_mtls },
		{ "trust_domain in SPIFFE IDs", test_trust_domain },
		{ "tls precedence: rule, port level, subset, subset port level", test_precedence },
		{ "DISABLE turns auto mTLS off", test_disable_beats_auto },
		{ "a subset's SAN set is the service's", test_subset_sans },
		{ "credentialName Secrets; missing ones deactivate the cluster", test_credential },
		{ "ServiceEntry endpoints: service accounts, no auto mTLS outside the mesh", test_service_entry },
		{ "auto_sni and auto SAN validation", test_auto_sni },
		{ "SAN exact match", test_san_match },
		{ "snapshot client contexts from good and bad PEM", test_snap_contexts },
		{ "DestinationRule TLS files watched, the last good context kept", test_snap_files },
		{ "client ciphers: Envoy's defaults", test_client_ciphers },
		{ NULL, NULL }
	};

	return cu_run("gw_uptls", tests);
}
