/*
 * TLS termination: the server contexts a snapshot makes (Envoy's default
 * cipher list, the Gateway's cipherSuites override, TLS 1.2 at least).
 */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "cu.h"
#include "tls-fixture.h"
#include "../../src/gw/gw-int.h"
#include "vipgate/gw-t.h"

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

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "server ciphers: Envoy's defaults, cipherSuites override", test_server_ciphers },
		{ NULL, NULL },
	};

	return cu_run("gw_tls", tests);
}
