/* A fresh self-signed certificate for TLS tests (P-256, valid one hour). */
#ifndef VIPGATE_TESTS_TLS_FIXTURE_H
#define VIPGATE_TESTS_TLS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static inline X509 *
tfx_self_signed(EVP_PKEY **pkp, const char *cn)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_sign(x, pk, EVP_sha256());
	*pkp = pk;
	return x;
}

/* x's or pk's PEM text (malloc'd). */
static inline char *
tfx_pem(X509 *x, EVP_PKEY *pk)
{
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	char *s;

	if (x)
		PEM_write_bio_X509(b, x);
	else
		PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	BIO_get_mem_ptr(b, &m);
	s = strndup(m->data, m->length);
	BIO_free(b);
	return s;
}

/* A YAML block scalar's lines: text indented by four spaces (malloc'd). */
static inline char *
tfx_indent(const char *text)
{
	char *out = malloc(strlen(text) * 2 + 8), *o = out;
	int bol = 1;

	for (; *text; text++) {
		if (bol) {
			memcpy(o, "    ", 4);
			o += 4;
		}
		*o++ = *text;
		bol = *text == '\n';
	}
	*o = '\0';
	return out;
}

/*
 * A Secret manifest in istio-system (YAML, malloc'd) with a fresh
 * self-signed pair for cn under the keys ck and kk, and that certificate
 * again as a CA under cak (each NULL: left out). *cert: the certificate's
 * PEM (malloc'd), when cert is not NULL.
 */
static inline char *
tfx_secret(const char *name, const char *cn, const char *ck, const char *kk,
    const char *cak, char **cert)
{
	EVP_PKEY *pk;
	X509 *x = tfx_self_signed(&pk, cn);
	char *c = tfx_pem(x, NULL), *k = tfx_pem(NULL, pk);
	char *ci = tfx_indent(c), *ki = tfx_indent(k), *out;
	size_t len = strlen(ci) * 2 + strlen(ki) + strlen(name) + 256;

	out = malloc(len);
	snprintf(out, len, "---\napiVersion: v1\nkind: Secret\n"
	    "metadata: {name: %s, namespace: istio-system}\nstringData:\n%s%s%s%s%s%s%s%s%s",
	    name, ck ? "  " : "", ck ? ck : "", ck ? ": |\n" : "", ck ? ci : "",
	    kk ? "  " : "", kk ? kk : "", kk ? ": |\n" : "", kk ? ki : "", "");
	if (cak) {
		size_t n = strlen(out);

		snprintf(out + n, len - n, "  %s: |\n%s", cak, ci);
	}
	if (cert)
		*cert = c;
	else
		free(c);
	free(k);
	free(ci);
	free(ki);
	X509_free(x);
	EVP_PKEY_free(pk);
	return out;
}

#endif
