/*
 * A Secret's TLS material checked as the gateway loads it (src/gw/gw_tls.c,
 * gw_uptls.c), when the Secret is decoded: one whose key or certificates
 * do not load, or whose key is not the certificate's, is a bad object, so
 * its last good version stays in force. Envoy does the same with an SDS
 * secret it cannot use: the listener keeps the last one it accepted.
 * The keys read are the ones the gateway reads: tls.crt/tls.key (else
 * cert/key), ca.crt (else cacert), ca.crl (else crl). An empty value is
 * no value (cert-manager leaves tls.crt empty while it issues).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "kinds.h"
#include "vipgate/schema.h"

/* Whether a value holds a PEM block at all (values may hold NULs). */
static int
has_pem(const char *s, size_t len)
{
	return memmem(s, len, "-----BEGIN", 10) != NULL;
}

/*
 * OpenSSL's reason for the failure just seen: the earliest entry of the
 * thread's queue (the root cause; later ones say which layer gave up),
 * which is then emptied so no stale entry reaches the next report.
 */
static void
ossl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "no OpenSSL error recorded");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

/* After a PEM loop: whether it stopped at the end of the text, not on a bad block. */
static int
pem_clean_end(void)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		ERR_clear_error();
		return 1;
	}
	return 0;
}

static int64_t
asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

/* The certificates of a PEM text: how many, the first (caller frees), -1 with why. */
static int
read_certs(const char *pem, size_t len, X509 **first, char *why, size_t wlen)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x;
	int n = 0;
	char r[256];

	*first = NULL;
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (n++ == 0)
			*first = x;
		else
			X509_free(x);
	}
	BIO_free(b);
	if (n > 0 && pem_clean_end())
		return n;
	ossl_reason(r, sizeof(r));
	if (n == 0 && !has_pem(pem, len))
		snprintf(why, wlen, "not PEM: no certificate (%s)", r);
	else if (n == 0)
		snprintf(why, wlen, "no certificate loads (%s)", r);
	else
		snprintf(why, wlen, "certificate %d does not load (%s)", n + 1, r);
	X509_free(*first);
	*first = NULL;
	return -1;
}

static EVP_PKEY *
read_key(const char *pem, size_t len, char *why, size_t wlen)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k;
	char r[256];

	ERR_clear_error();
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k != NULL) {
		ERR_clear_error();
		return k;
	}
	ossl_reason(r, sizeof(r));
	if (!has_pem(pem, len))
		snprintf(why, wlen, "not PEM: no private key (%s)", r);
	else
		snprintf(why, wlen, "the private key does not load (%s)", r);
	return NULL;
}

static int
read_crls(const char *pem, size_t len, char *why, size_t wlen)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509_CRL *crl;
	int n = 0;
	char r[256];

	ERR_clear_error();
	while ((crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
		X509_CRL_free(crl);
		n++;
	}
	BIO_free(b);
	if (n > 0 && pem_clean_end())
		return n;
	ossl_reason(r, sizeof(r));
	snprintf(why, wlen, "%s (%s)", n ? "a CRL does not load" : "no CRL loads", r);
	return -1;
}

/*
 * One server context for every check: SSL_CTX_new costs about a
 * millisecond in OpenSSL 3.0, which a list of thousands of Secrets would
 * pay each. Each check clears the chain it leaves and checks the pair
 * itself first, so what an earlier Secret put in another key type's slot
 * never counts.
 */
static pthread_mutex_t check_mu = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *check_ctx;

/*
 * The pair as gw_tls.c loads it: into a server context, so that what
 * OpenSSL refuses there (a key too small or a signature too weak for its
 * security level, a chain certificate it cannot add) is refused here.
 */
int
secret_tls_pair(const char *cert, size_t clen, const char *key, size_t klen,
    int64_t *not_before, int64_t *not_after, char *why, size_t wlen)
{
	BIO *b;
	X509 *x;
	EVP_PKEY *k;
	char r[256];
	int n, i, ok = 0;

	if ((n = read_certs(cert, clen, &x, why, wlen)) == -1)
		return -1;
	*not_before = asn1_epoch(X509_get0_notBefore(x));
	*not_after = asn1_epoch(X509_get0_notAfter(x));
	if ((k = read_key(key, klen, why, wlen)) == NULL) {
		X509_free(x);
		return -1;
	}
	ERR_clear_error();
	if (X509_check_private_key(x, k) != 1) {
		ossl_reason(r, sizeof(r));
		snprintf(why, wlen, "the private key is not the certificate's (%s)", r);
		EVP_PKEY_free(k);
		X509_free(x);
		return -1;
	}
	pthread_mutex_lock(&check_mu);
	if (check_ctx == NULL && (check_ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		ossl_reason(r, sizeof(r));
		snprintf(why, wlen, "cannot check it (%s)", r);
		goto out;
	}
	if (SSL_CTX_use_certificate(check_ctx, x) != 1) {
		ossl_reason(r, sizeof(r));
		snprintf(why, wlen, "the certificate cannot be used (%s)", r);
		goto out;
	}
	/* the rest of the chain, as the gateway adds it */
	SSL_CTX_clear_chain_certs(check_ctx);
	b = BIO_new_mem_buf(cert, (int)clen);
	X509_free(PEM_read_bio_X509(b, NULL, NULL, NULL));
	for (i = 1; i < n; i++) {
		X509 *c = PEM_read_bio_X509(b, NULL, NULL, NULL);

		if (c == NULL || SSL_CTX_add0_chain_cert(check_ctx, c) != 1) {
			X509_free(c);
			BIO_free(b);
			ossl_reason(r, sizeof(r));
			snprintf(why, wlen, "chain certificate %d cannot be used (%s)", i + 1, r);
			goto out;
		}
	}
	BIO_free(b);
	if (SSL_CTX_use_PrivateKey(check_ctx, k) != 1) {
		ossl_reason(r, sizeof(r));
		snprintf(why, wlen, "the private key cannot be used (%s)", r);
		goto out;
	}
	ok = 1;
out:
	if (check_ctx)
		SSL_CTX_clear_chain_certs(check_ctx);
	pthread_mutex_unlock(&check_mu);
	EVP_PKEY_free(k);
	X509_free(x);
	ERR_clear_error();
	return ok ? 0 : -1;
}

int
secret_tls_ca(const char *pem, size_t len, char *why, size_t wlen)
{
	X509 *x;

	if (read_certs(pem, len, &x, why, wlen) == -1)
		return -1;
	X509_free(x);
	return 0;
}

int
secret_tls_crl(const char *pem, size_t len, char *why, size_t wlen)
{
	return read_crls(pem, len, why, wlen) == -1 ? -1 : 0;
}
