/*
 * TLS termination: one SSL_CTX per HTTPS server (filter chain) of a
 * snapshot, made from its credentialName Secret; the client's SNI picks
 * the chain at the handshake (Envoy's filter chain match on server_names).
 * A new snapshot makes new contexts, so a changed Secret applies to new
 * handshakes without a restart.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "gw-tls.h"
#include "vipgate/gw-route.h"
#include "vipgate/log.h"

/*
 * Log a failure with OpenSSL's reason: the earliest entry of the queue,
 * the root cause (the loaders below leave the failing call's entries and
 * only those), then empty the queue.
 */
static void
tls_log(const char *what, const struct gw_tls *t)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "no OpenSSL error recorded");
	log_warnx("gateway: %s %s: %s", what, t->credential ? t->credential : "", buf);
	ERR_clear_error();
}

/*
 * The server's list is Istio's for terminated gateway servers, ["h2",
 * "http/1.1"], in the server's order of preference: h2 when offered.
 */
static int
alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
    unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = "\x02h2\x08http/1.1";
	unsigned char *sel = NULL;
	unsigned char sl = 0;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, &sl, ours, sizeof(ours) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	*outlen = sl;
	return SSL_TLSEXT_ERR_OK;
}

static int
sni_cb(SSL *ssl, int *ad, void *arg)
{
	struct gw_tlsl *t = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const struct gw_listener *l = &t->s->g->listeners[t->li];
	const struct gw_chain *c = gw_chain_find(l, name);
	SSL_CTX *x;
	struct gw_tls_conn *tc = SSL_get_app_data(ssl);

	if (c == NULL || (x = t->s->ssl[t->li][c - l->chains]) == NULL) {
		*ad = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	if (x != SSL_get_SSL_CTX(ssl)) {
		SSL_set_SSL_CTX(ssl, x);
		/* the verify mode is copied at SSL_new: MUTUAL chains need theirs */
		SSL_set_verify(ssl, SSL_CTX_get_verify_mode(x), NULL);
	}
	if (tc)
		tc->chain = (size_t)(c - l->chains);
	return SSL_TLSEXT_ERR_OK;
}

static int
load_pair(SSL_CTX *ctx, const char *cert, size_t cert_len, const char *key, size_t key_len)
{
	BIO *b = BIO_new_mem_buf(cert, (int)cert_len);
	X509 *x;
	EVP_PKEY *k;
	int first = 1, ok = 1;

	ERR_clear_error();
	while (ok && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (first)
			ok = SSL_CTX_use_certificate(ctx, x) == 1;
		else
			ok = SSL_CTX_add0_chain_cert(ctx, x) == 1;
		if (first || !ok)
			X509_free(x);
		first = 0;
	}
	BIO_free(b);
	if (first || !ok)
		return -1;	/* the reason stays queued for tls_log */
	ERR_clear_error();	/* the end of the text */
	b = BIO_new_mem_buf(key, (int)key_len);
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL)
		return -1;
	ok = SSL_CTX_use_PrivateKey(ctx, k) == 1 && SSL_CTX_check_private_key(ctx) == 1;
	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

/* OpenSSL keeps one certificate a key type: RSA and ECDSA pairs live side by side. */
static int
load_certs(SSL_CTX *ctx, const struct gw_tls *t)
{
	if (load_pair(ctx, t->cert, t->cert_len, t->key, t->key_len) == -1)
		return -1;
	if (t->cert2 && load_pair(ctx, t->cert2, t->cert2_len, t->key2, t->key2_len) == -1)
		tls_log("cannot use the second credentialNames pair beside", t);
	return 0;
}

static int
load_ca(SSL_CTX *ctx, const struct gw_tls *t)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	BIO *b = BIO_new_mem_buf(t->ca, (int)t->ca_len);
	X509 *x;
	int n = 0;

	ERR_clear_error();
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(st, x) == 1)
			n++;
		X509_free(x);
	}
	BIO_free(b);
	if (n == 0)
		return -1;	/* the reason stays queued for tls_log */
	ERR_clear_error();
	return 0;
}

SSL_CTX *
gw_tls_ctx_new(const struct gw_tls *t, struct gw_tlsl *tl)
{
	SSL_CTX *ctx;

	if (t == NULL || t->error || t->cert == NULL || t->key == NULL)
		return NULL;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, t->min_version ? t->min_version : TLS1_2_VERSION);
	if (t->max_version)
		SSL_CTX_set_max_proto_version(ctx, t->max_version);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_PRIORITIZE_CHACHA);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* Envoy's server defaults, unless the Gateway's cipherSuites name some
	 * OpenSSL knows (a list of none leaves the defaults, as Istio drops
	 * the names it does not support) */
	if (SSL_CTX_set_cipher_list(ctx, GW_TLS_ENVOY_CIPHERS) != 1)
		tls_log("cannot set the default cipher list for", t);
	if (t->ciphers && SSL_CTX_set_cipher_list(ctx, t->ciphers) != 1) {
		tls_log("cipherSuites not understood for", t);
		/* OpenSSL has replaced the list with an empty one all the same */
		SSL_CTX_set_cipher_list(ctx, GW_TLS_ENVOY_CIPHERS);
	}
	if (load_certs(ctx, t) == -1) {
		tls_log("cannot use the certificate and key of", t);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (t->mode == GW_TLS_MUTUAL || t->mode == GW_TLS_OPTIONAL_MUTUAL) {
		if (t->ca == NULL || load_ca(ctx, t) == -1) {
			tls_log("no usable CA certificate in", t);
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    (t->mode == GW_TLS_MUTUAL ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, tl);
	return ctx;
}
