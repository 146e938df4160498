/* A fresh self-signed certificate for TLS tests (P-256, valid one hour). */
#ifndef VIPGATE_TESTS_TLS_FIXTURE_H
#define VIPGATE_TESTS_TLS_FIXTURE_H

#include <openssl/evp.h>
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

#endif
