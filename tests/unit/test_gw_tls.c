/*
 * TLS termination: the server contexts a snapshot makes (Envoy's default
 * cipher list, the Gateway's cipherSuites override, TLS 1.2 at least), and
 * Secrets whose TLS material cannot be used: rejected at decode with
 * OpenSSL's reason, their last good version served, the rejection shown.
 */
#include "config.h"

#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "cu.h"
#include "tls-fixture.h"
#include "../../src/gw/gw-snap-t.h"
#include "../../src/gw/gw-tls.h"
#include "vipgate/gw-route.h"
#include "vipgate/config.h"
#include "vipgate/gw-t.h"
#include "vipgate/reconcile.h"
#include "vipgate/source-kube.h"
#include "vipgate/source.h"
#include "vipgate/store.h"

static char *
pem_of(int (*wr)(BIO *, void *), void *what)
{
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	char *s;

	wr(b, what);
	BIO_get_mem_ptr(b, &m);
	s = strndup(m->data, m->length);
	BIO_free(b);
	return s;
}

static int
wr_cert(BIO *b, void *x)
{
	return PEM_write_bio_X509(b, x);
}

static int
wr_key(BIO *b, void *k)
{
	return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

/* A self-signed P-256 pair as PEM texts (malloc'd). */
static void
pem_pair(const char *cn, char **cert, char **key)
{
	EVP_PKEY *pk;
	X509 *x = tfx_self_signed(&pk, cn);

	*cert = pem_of(wr_cert, x);
	*key = pem_of(wr_key, pk);
	X509_free(x);
	EVP_PKEY_free(pk);
}

/* Whether the context offers the suite, by OpenSSL name. */
static int
offers(SSL_CTX *ctx, const char *name)
{
	STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
	int i;

	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++)
		if (strcmp(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i)), name) == 0)
			return 1;
	return 0;
}

/* Every suite has forward secrecy (ECDHE, or TLS 1.3's) and is an AEAD: no CBC, no RSA kx. */
static int
all_fs_aead(SSL_CTX *ctx)
{
	STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
	int i, ok = sk_SSL_CIPHER_num(sk) > 0;

	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
		int kx = SSL_CIPHER_get_kx_nid(c);

		if ((kx != NID_kx_ecdhe && kx != NID_kx_any) || !SSL_CIPHER_is_aead(c)) {
			fprintf(stderr, "offered: %s\n", SSL_CIPHER_get_name(c));
			ok = 0;
		}
	}
	return ok;
}

/* Envoy's server defaults; the Gateway's cipherSuites replace them. */
static void
test_server_ciphers(void)
{
	static const char *const envoy[] = { "ECDHE-ECDSA-AES128-GCM-SHA256",
		"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
		"ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305",
		"ECDHE-RSA-CHACHA20-POLY1305", "TLS_AES_128_GCM_SHA256" };
	struct gw_tls t = { 0 };
	char *cert, *key;
	SSL_CTX *ctx;
	size_t i;

	pem_pair("ciphers.test", &cert, &key);
	t.mode = GW_TLS_SIMPLE;
	t.credential = "istio-system/c";
	t.cert = cert;
	t.cert_len = strlen(cert);
	t.key = key;
	t.key_len = strlen(key);
	ctx = gw_tls_ctx_new(&t, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	CU_ASSERT_TRUE(all_fs_aead(ctx));
	for (i = 0; i < sizeof(envoy) / sizeof(envoy[0]); i++)
		CU_ASSERT_TRUE(offers(ctx, envoy[i]));
	CU_ASSERT_FALSE(offers(ctx, "AES128-SHA"));
	CU_ASSERT_FALSE(offers(ctx, "AES128-GCM-SHA256"));
	CU_ASSERT_FALSE(offers(ctx, "ECDHE-RSA-AES128-SHA"));
	/* Envoy's server minimum: TLS 1.2 */
	CU_ASSERT_EQUAL(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	SSL_CTX_free(ctx);

	/* cipherSuites: what the Gateway names, CBC included */
	t.ciphers = "ECDHE-RSA-AES128-SHA:AES128-SHA";
	ctx = gw_tls_ctx_new(&t, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	CU_ASSERT_TRUE(offers(ctx, "ECDHE-RSA-AES128-SHA"));
	CU_ASSERT_TRUE(offers(ctx, "AES128-SHA"));
	CU_ASSERT_FALSE(offers(ctx, "ECDHE-RSA-AES128-GCM-SHA256"));
	SSL_CTX_free(ctx);
	/* nothing usable in it: the defaults stay */
	t.ciphers = "NO-SUCH-CIPHER";
	ctx = gw_tls_ctx_new(&t, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	CU_ASSERT_TRUE(all_fs_aead(ctx));
	CU_ASSERT_TRUE(offers(ctx, "ECDHE-RSA-AES128-GCM-SHA256"));
	SSL_CTX_free(ctx);
	free(cert);
	free(key);
}

/* ---- Secrets that cannot be used ---- */

static char *
secret_doc(const char *name, const char *body)
{
	char *s;

	xasprintf(&s, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: "
	    "istio-system}\n%s", name, body);
	return s;
}

/* stringData with the given keys and PEM texts (NULL-terminated pairs). */
static char *
string_data(const char *k1, const char *v1, const char *k2, const char *v2,
    const char *k3, const char *v3)
{
	const char *k[3] = { k1, k2, k3 }, *v[3] = { v1, v2, v3 };
	char *out = xstrdup("stringData:\n"), *t;
	int i;

	for (i = 0; i < 3 && k[i]; i++) {
		char *ind = tfx_indent(v[i]);

		xasprintf(&t, "%s  %s: |\n%s", out, k[i], ind);
		free(out);
		free(ind);
		out = t;
	}
	return out;
}

/* Decode one Secret: 0 when it decoded, -1 with errs holding why. */
static int
decode_secret(const char *name, const char *body, struct vg_errs *errs, int64_t *not_after)
{
	struct decoded_list out = { 0 };
	char *doc = secret_doc(name, body);
	int r = -1;

	cu_decode(doc, errs, &out);
	free(doc);
	if (out.n == 1 && out.v[0].obj) {
		r = 0;
		if (not_after)
			*not_after = OBJ_SPEC(out.v[0].obj, k_secret)->not_after;
	} else if (out.n == 1) {
		/* the rejection carries its first error for the store */
		CU_ASSERT_PTR_NOT_NULL(out.v[0].error);
		CU_ASSERT_TRUE(out.v[0].named);
	}
	decoded_list_free(&out);
	return r;
}

/* Decoding body as Secret name fails, with needle in an error; frees body. */
static int
rejected(const char *name, char *body, const char *needle)
{
	struct vg_errs errs = { 0 };
	int r = decode_secret(name, body, &errs, NULL) == -1 && cu_errs_have(&errs, needle);

	if (!r)
		errs_print(&errs, stderr);
	free(body);
	errs_clear(&errs);
	return r;
}


static X509 *
cert_valid(EVP_PKEY **pk, const char *cn, long from, long to)
{
	X509 *x = tfx_self_signed(pk, cn);

	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_sign(x, *pk, EVP_sha256());
	return x;
}

/* Each way a Secret's TLS material can be unusable, with OpenSSL's reason; what is fine. */
static void
test_secret_decode(void)
{
	char *ca, *ka, *cb, *kb, *body;
	EVP_PKEY *pa, *pb, *pe;
	X509 *xa = tfx_self_signed(&pa, "a.test"), *xb = tfx_self_signed(&pb, "b.test");
	X509 *xe = cert_valid(&pe, "old.test", -7200, -3600);
	char *ce = tfx_pem(xe, NULL), *ke = tfx_pem(NULL, pe);
	struct vg_errs errs = { 0 };
	int64_t na = 0;
	static const char garbage_pem[] =
	    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	static const char garbage_crl[] =
	    "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n";

	ca = tfx_pem(xa, NULL);
	ka = tfx_pem(NULL, pa);
	cb = tfx_pem(xb, NULL);
	kb = tfx_pem(NULL, pb);

	/* a good pair, with its CA: fine; its validity is kept */
	body = string_data("tls.crt", ca, "tls.key", ka, "ca.crt", cb);
	CU_ASSERT_EQUAL(decode_secret("good", body, &errs, &na), 0);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_TRUE(na > (int64_t)time(NULL));
	free(body);
	errs_clear(&errs);

	/* the key is not the certificate's */
	body = string_data("tls.crt", ca, "tls.key", kb, NULL, NULL);
	CU_ASSERT_EQUAL(decode_secret("mismatch", body, &errs, NULL), -1);
	cu_errs_dump(&errs);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "Secret istio-system/mismatch: stringData.tls.key: "
	    "the private key is not the certificate's (error:"));
	CU_ASSERT_TRUE(cu_errs_have(&errs, "key values mismatch"));
	CU_ASSERT_FALSE(cu_errs_have(&errs, "error:00000000"));
	free(body);
	errs_clear(&errs);

	/* a key that is not PEM */
	body = string_data("tls.crt", ca, "tls.key", "KEY\n", NULL, NULL);
	CU_ASSERT_EQUAL(decode_secret("nokey", body, &errs, NULL), -1);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "stringData.tls.key: not PEM: no private key (error:"));
	CU_ASSERT_FALSE(cu_errs_have(&errs, "error:00000000"));
	free(body);
	errs_clear(&errs);

	/* a certificate that is not PEM, one whose base64 is garbage */
	CU_ASSERT_TRUE(rejected("nocert", string_data("tls.crt", "CERT\n", "tls.key", ka, NULL, NULL), "stringData.tls.crt: not PEM: no certificate (error:"));
	CU_ASSERT_TRUE(rejected("badcert", string_data("tls.crt", garbage_pem, "tls.key", ka, NULL, NULL), "stringData.tls.crt: no certificate loads (error:"));

	/* the cert/key form, checked the same */
	CU_ASSERT_TRUE(rejected("generic", string_data("cert", ca, "key", kb, NULL, NULL), "stringData.key: the private key is not"));

	/* half a pair */
	CU_ASSERT_TRUE(rejected("half", string_data("tls.key", ka, NULL, NULL, NULL, NULL), "a private key without tls.crt"));

	/* an unusable CA (MUTUAL's ca.crt, a -cacert Secret) and CRL */
	CU_ASSERT_TRUE(rejected("x-cacert", string_data("ca.crt", garbage_pem, NULL, NULL, NULL, NULL), "stringData.ca.crt: no certificate loads (error:"));
	CU_ASSERT_TRUE(rejected("y-cacert", string_data("cacert", "not a CA\n", NULL, NULL, NULL, NULL), "stringData.cacert: not PEM"));
	CU_ASSERT_TRUE(rejected("crl", string_data("ca.crt", ca, "ca.crl", garbage_crl, NULL, NULL), "stringData.ca.crl: no CRL loads (error:"));

	/* base64 data is checked as stringData is */
	{
		char *b64k = malloc(strlen(kb) * 2), *b64c = malloc(strlen(ca) * 2);

		EVP_EncodeBlock((unsigned char *)b64k, (const unsigned char *)kb, (int)strlen(kb));
		EVP_EncodeBlock((unsigned char *)b64c, (const unsigned char *)ca, (int)strlen(ca));
		xasprintf(&body, "type: kubernetes.io/tls\ndata: {tls.crt: %s, tls.key: %s}\n", b64c, b64k);
		CU_ASSERT_EQUAL(decode_secret("b64", body, &errs, NULL), -1);
		CU_ASSERT_TRUE(cu_errs_have(&errs, "data.tls.key: the private key is not"));
		free(body);
		free(b64k);
		free(b64c);
		errs_clear(&errs);
	}

	/* expired: reported, not rejected (Envoy serves it) */
	body = string_data("tls.crt", ce, "tls.key", ke, NULL, NULL);
	CU_ASSERT_EQUAL(decode_secret("expired", body, &errs, NULL), 0);
	CU_ASSERT_EQUAL(errs.nerrors, 0);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "the certificate expired at"));
	free(body);
	errs_clear(&errs);

	/* not TLS material: an Opaque "key", empty values (cert-manager at work) */
	CU_ASSERT_EQUAL(decode_secret("opaque", "stringData: {key: abc, password: x}\n", &errs, NULL), 0);
	CU_ASSERT_EQUAL(decode_secret("empty", "type: kubernetes.io/tls\n"
	    "stringData: {tls.crt: '', tls.key: ''}\n", &errs, NULL), 0);
	CU_ASSERT_EQUAL(errs.n, 0);
	errs_clear(&errs);

	free(ca);
	free(ka);
	free(cb);
	free(kb);
	free(ce);
	free(ke);
	X509_free(xa);
	X509_free(xb);
	X509_free(xe);
	EVP_PKEY_free(pa);
	EVP_PKEY_free(pb);
	EVP_PKEY_free(pe);
}

static const char tls_gw[] =
    "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
    "metadata: {name: g, namespace: default}\n"
    "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
    "  - port: {number: 443, name: https-one, protocol: HTTPS}\n    hosts: [one.test]\n"
    "    tls: {mode: SIMPLE, credentialName: one}\n"
    "  - port: {number: 443, name: https-dual, protocol: HTTPS}\n    hosts: [dual.test]\n"
    "    tls: {mode: SIMPLE, credentialNames: [dual-a, dual-b]}\n"
    "  - port: {number: 443, name: https-never, protocol: HTTPS}\n    hosts: [never.test]\n"
    "    tls: {mode: SIMPLE, credentialName: never}\n"
    "---\napiVersion: v1\nkind: Service\nmetadata: {name: up, namespace: default}\n"
    "spec: {ports: [{name: https, port: 443}]}\n"
    "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
    "metadata: {name: up, namespace: default}\n"
    "spec:\n  host: up\n  trafficPolicy: {tls: {mode: MUTUAL, credentialName: client}}\n"
    "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
    "metadata: {name: vs, namespace: default}\n"
    "spec:\n  hosts: ['*']\n  gateways: [g]\n"
    "  http: [{route: [{destination: {host: up, port: {number: 443}}}]}]\n";

struct src {
	char		 dir[64];
	struct store	*st;
	struct file_source *fs;
	struct config	*cfg;
	struct desired	*d;
};

static void
src_write(struct src *s, const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", s->dir, name);
	f = fopen(p, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/* Sync the files and compile: how many changes the sync made. */
static size_t
src_sync(struct src *s, struct vg_errs *errs)
{
	const char *paths[1] = { s->dir };
	struct live_view live = { 0 };
	size_t n = fsrc_sync(s->fs, paths, 1, errs);

	desired_unref(s->d);
	live.gateway_ready = 1;
	s->d = reconcile(s->st, s->cfg, &live);
	return n;
}

static const struct gw_tls *
chain_tls(const struct src *s, const char *sni)
{
	const struct gw_desired *g = s->d->gw;
	size_t i;

	for (i = 0; i < g->nlisteners; i++)
		if (g->listeners[i].port == 443) {
			const struct gw_chain *c = gw_chain_find(&g->listeners[i], sni);

			return c ? c->tls : NULL;
		}
	return NULL;
}

static const struct gw_cluster *
cluster(const struct src *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->d->gw->nclusters; i++)
		if (strcmp(s->d->gw->clusters[i]->name, name) == 0)
			return s->d->gw->clusters[i];
	return NULL;
}

static int
noted(const struct src *s, const char *needle)
{
	size_t i;

	for (i = 0; i < s->d->gw->nnotes; i++)
		if (strstr(s->d->gw->notes[i].msg, needle))
			return 1;
	return 0;
}

/*
 * A Secret rewritten broken keeps its last good version in force (the
 * chain serves the old certificate, the upstream keeps its client pair),
 * the chain and analyze name the rejection with OpenSSL's reason, and the
 * good version back ends it; a Secret never good leaves its server
 * unserved, as one not found, and says why.
 */
static void
test_secret_last_good(void)
{
	struct src s = { "/tmp/vg-gwtls.XXXXXX" };
	struct vg_errs errs = { 0 };
	char *one_c, *dual_b_c, *client_c, *good, *t, *bad_key, *doc;
	const struct gw_tls *g;
	const struct gw_cluster *c;
	SSL_CTX *ctx;
	EVP_PKEY *pk;
	X509 *x;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(s.dir));
	s.st = store_new();
	s.fs = fsrc_new(s.st);
	s.cfg = config_parse("node: {name: node-a}\n", 21, "vipgate.yaml", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s.cfg);
	/* a key of another pair, to break Secrets with */
	x = tfx_self_signed(&pk, "other");
	bad_key = tfx_pem(NULL, pk);
	X509_free(x);
	EVP_PKEY_free(pk);

	good = tfx_secret("one", "one.test", "tls.crt", "tls.key", NULL, &one_c);
	t = tfx_secret("dual-a", "dual.test", "tls.crt", "tls.key", NULL, NULL);
	doc = tfx_secret("dual-b", "dual.test", "tls.crt", "tls.key", NULL, &dual_b_c);
	{
		char *cl = tfx_secret("client", "client", "tls.crt", "tls.key", "ca.crt", &client_c);
		char *all;

		xasprintf(&all, "%s%s%s%s", tls_gw, t, doc, cl);
		src_write(&s, "a.yaml", all);
		free(all);
		free(cl);
	}
	free(t);
	free(doc);
	src_write(&s, "one.yaml", good);
	src_sync(&s, &errs);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.nerrors, 0);
	errs_clear(&errs);
	g = chain_tls(&s, "one.test");
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_PTR_NULL(g->error);
	CU_ASSERT_PTR_NULL(g->rejected);
	CU_ASSERT_STRING_EQUAL(g->cert, one_c);
	CU_ASSERT_TRUE(g->not_after > 0);

	/* one rewritten with a key that is not its certificate's */
	{
		char *ki = tfx_indent(bad_key);

		xasprintf(&doc, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: one, namespace: "
		    "istio-system}\nstringData:\n  tls.crt: |\n%s  tls.key: |\n%s", t = tfx_indent(one_c), ki);
		free(t);
		free(ki);
	}
	src_write(&s, "one.yaml", doc);
	free(doc);
	CU_ASSERT_TRUE(src_sync(&s, &errs) > 0);	/* a change: the gateway must say so */
	CU_ASSERT_EQUAL(errs.nerrors, 1);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "one.yaml:"));
	CU_ASSERT_TRUE(cu_errs_have(&errs, "Secret istio-system/one: stringData.tls.key: the private "
	    "key is not the certificate's (error:"));
	errs_clear(&errs);
	g = chain_tls(&s, "one.test");
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_PTR_NULL(g->error);
	CU_ASSERT_STRING_EQUAL(g->cert, one_c);		/* the last good version */
	CU_ASSERT_PTR_NOT_NULL_FATAL(g->rejected);
	CU_ASSERT_PTR_NOT_NULL(strstr(g->rejected, "Secret istio-system/one: its new version is rejected"));
	CU_ASSERT_PTR_NOT_NULL(strstr(g->rejected, "key values mismatch"));
	CU_ASSERT_TRUE(noted(&s, "key values mismatch"));
	ctx = gw_tls_ctx_new(g, NULL);
	CU_ASSERT_PTR_NOT_NULL(ctx);			/* still served */
	SSL_CTX_free(ctx);

	/* dual-b (the ECDSA side, say) broken: dual-a and dual-b's last good serve */
	src_write(&s, "b.yaml", "---\napiVersion: v1\nkind: Secret\n"
	    "metadata: {name: never, namespace: istio-system}\nstringData: {tls.crt: CERT, tls.key: KEY}\n");
	{
		char *all;

		xasprintf(&all, "%s%s%s%s", tls_gw,
		    t = tfx_secret("dual-a", "dual.test", "tls.crt", "tls.key", NULL, NULL),
		    "---\napiVersion: v1\nkind: Secret\nmetadata: {name: dual-b, namespace: istio-system}\n"
		    "stringData: {tls.crt: garbage, tls.key: garbage}\n",
		    doc = tfx_secret("client", "client", "tls.crt", "tls.key", "ca.crt", NULL));
		free(t);
		free(doc);
		/* and client's ca.crt broken instead */
		t = strstr(all, "  ca.crt: |\n    -----BEGIN CERTIFICATE-----\n    ");
		CU_ASSERT_PTR_NOT_NULL_FATAL(t);
		t += strlen("  ca.crt: |\n    -----BEGIN CERTIFICATE-----\n    ");
		memcpy(t, "!!!!", 4);
		src_write(&s, "a.yaml", all);
		free(all);
	}
	src_sync(&s, &errs);
	CU_ASSERT_EQUAL(errs.nerrors, 4);	/* one, dual-b, never, client */
	CU_ASSERT_TRUE(cu_errs_have(&errs, "Secret istio-system/dual-b: stringData.tls.crt: not PEM"));
	CU_ASSERT_TRUE(cu_errs_have(&errs, "Secret istio-system/client: stringData.ca.crt:"));
	errs_clear(&errs);
	g = chain_tls(&s, "dual.test");
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_PTR_NULL(g->error);
	CU_ASSERT_STRING_EQUAL(g->cert2, dual_b_c);
	CU_ASSERT_PTR_NOT_NULL(g->rejected ? strstr(g->rejected, "Secret istio-system/dual-b") : NULL);
	/* never good: not served, and why */
	g = chain_tls(&s, "never.test");
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g->error);
	CU_ASSERT_PTR_NOT_NULL(strstr(g->error, "Secret istio-system/never is rejected (no good "
	    "version was ever loaded)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(g->error, "not PEM"));
	CU_ASSERT_PTR_NULL(gw_tls_ctx_new(g, NULL));
	/* upstream: the client Secret's last good version, the rejection noted */
	c = cluster(&s, "outbound|443||up.default.svc.cluster.local");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NULL(c->missing);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->tls);
	CU_ASSERT_STRING_EQUAL(c->tls->cert, client_c);
	CU_ASSERT_TRUE(noted(&s, "Secret istio-system/client: its new version is rejected"));

	/* good again, the very version that was in force: the rejections end */
	src_write(&s, "one.yaml", good);
	src_write(&s, "b.yaml", "");
	CU_ASSERT_TRUE(src_sync(&s, &errs) > 0);
	errs_clear(&errs);
	g = chain_tls(&s, "one.test");
	CU_ASSERT_PTR_NULL(g->rejected);
	CU_ASSERT_FALSE(noted(&s, "Secret istio-system/one"));
	CU_ASSERT_PTR_NULL(store_rejected(s.st, K_SECRET, "istio-system", "one"));
	g = chain_tls(&s, "never.test");
	CU_ASSERT_PTR_NOT_NULL(g->error ? strstr(g->error, "not found") : NULL);

	desired_unref(s.d);
	fsrc_free(s.fs);
	store_free(s.st);
	config_free(s.cfg);
	free(good);
	free(one_c);
	free(dual_b_c);
	free(client_c);
	free(bad_key);
	{
		char p[256];

		snprintf(p, sizeof(p), "%s/a.yaml", s.dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/b.yaml", s.dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/one.yaml", s.dir);
		unlink(p);
		rmdir(s.dir);
	}
}

/* The Kubernetes API's Secrets go the same way: a MODIFIED event that fails names why. */
static void
test_secret_kube_event(void)
{
	const char *ev = "{\"type\":\"MODIFIED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
	    "\"metadata\":{\"name\":\"one\",\"namespace\":\"istio-system\",\"resourceVersion\":\"7\"},"
	    "\"type\":\"kubernetes.io/tls\",\"data\":{\"tls.crt\":\"Q0VSVA==\",\"tls.key\":\"S0VZ\"}}}";
	struct kube_event e;
	struct vg_errs errs = { 0 };

	CU_ASSERT_EQUAL_FATAL(kube_event_decode(ev, strlen(ev), K_SECRET, "kubernetes:/api/v1/secrets",
	    &e, &errs), 0);
	CU_ASSERT_EQUAL(errs.nerrors, 1);
	CU_ASSERT_TRUE(cu_errs_have(&errs, "Secret istio-system/one: data.tls.crt: not PEM"));
	CU_ASSERT_EQUAL_FATAL(e.objs.n, 1);
	CU_ASSERT_PTR_NULL(e.objs.v[0].obj);
	CU_ASSERT_TRUE(e.objs.v[0].named);
	CU_ASSERT_PTR_NOT_NULL(e.objs.v[0].error ? strstr(e.objs.v[0].error, "no start line") : NULL);
	kube_event_free(&e);
	errs_clear(&errs);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "server ciphers: Envoy's defaults, cipherSuites override", test_server_ciphers },
		{ "Secrets: unusable TLS material rejected with OpenSSL's reason", test_secret_decode },
		{ "Secrets: the last good version served, the rejection shown", test_secret_last_good },
		{ "Secrets from the API: a failed event names why", test_secret_kube_event },
		{ NULL, NULL },
	};

	return cu_run("gw_tls", tests);
}
