/*
 * JWT validation as Envoy's jwt_authn with google/jwt_verify_lib does it
 * (see gw-jwt.h), written from RFC 7515, 7517, 7518, 7519 and 8037. The
 * file goes: status strings, base64url, algorithms, JWKS, token decoding,
 * signature checks, time/audience/claims, the verified-token cache.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "gw-jwt.h"
#include "vipgate/util.h"

/* jwt_verify_lib src/status.cc getStatusString(), the current wording. */
static const char *const status_str[GW_JWT_STATUS_MAX] = {
	[GW_JWT_OK] = "OK",
	[GW_JWT_MISSING] = "Jwt is missing",
	[GW_JWT_NOT_YET_VALID] = "Jwt not yet valid",
	[GW_JWT_EXPIRED] = "Jwt is expired",
	[GW_JWT_BAD_FORMAT] = "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections",
	[GW_JWT_HEADER_BAD_BASE64] = "Jwt header is an invalid Base64url encoded",
	[GW_JWT_HEADER_BAD_JSON] = "Jwt header is an invalid JSON",
	[GW_JWT_HEADER_BAD_ALG] = "Jwt header [alg] field is required and must be a string",
	[GW_JWT_HEADER_ALG_UNSUPPORTED] = "Jwt header [alg] is not supported",
	[GW_JWT_HEADER_BAD_KID] = "Jwt header [kid] field is not a string",
	[GW_JWT_PAYLOAD_BAD_BASE64] = "Jwt payload is an invalid Base64url encoded",
	[GW_JWT_PAYLOAD_BAD_JSON] = "Jwt payload is an invalid JSON",
	[GW_JWT_PAYLOAD_ISS_NOT_STRING] = "Jwt payload [iss] field is not a string",
	[GW_JWT_PAYLOAD_SUB_NOT_STRING] = "Jwt payload [sub] field is not a string",
	[GW_JWT_PAYLOAD_IAT_NOT_INTEGER] = "Jwt payload [iat] field is not an integer",
	[GW_JWT_PAYLOAD_NBF_NOT_INTEGER] = "Jwt payload [nbf] field is not an integer",
	[GW_JWT_PAYLOAD_EXP_NOT_INTEGER] = "Jwt payload [exp] field is not an integer",
	[GW_JWT_PAYLOAD_JTI_NOT_STRING] = "Jwt payload [jti] field is not a string",
	[GW_JWT_PAYLOAD_AUD_NOT_STRING] = "Jwt payload [aud] field is not a string or string list",
	[GW_JWT_SIG_BAD_BASE64] = "Jwt signature is an invalid Base64url encoded",
	[GW_JWT_ED25519_SIG_LENGTH] = "Jwt ED25519 signature is wrong length",
	[GW_JWT_UNKNOWN_ISSUER] = "Jwt issuer is not configured",
	[GW_JWT_AUDIENCE_NOT_ALLOWED] = "Audiences in Jwt are not allowed",
	[GW_JWT_VERIFICATION_FAIL] = "Jwt verification fails",
	[GW_JWT_MULTIPLE_TOKENS] = "Found multiple Jwt tokens",
	[GW_JWKS_PARSE_ERROR] = "Jwks is an invalid JSON",
	[GW_JWKS_NO_VALID_KEYS] = "Jwks doesn't have any valid public key",
	[GW_JWKS_KID_ALG_MISMATCH] = "Jwks doesn't have key to match kid or alg from Jwt",
	[GW_JWKS_FETCH_FAIL] = "Jwks remote fetch is failed",
};

const char *
gw_jwt_status_str(enum gw_jwt_status st)
{
	if ((unsigned)st >= GW_JWT_STATUS_MAX || status_str[st] == NULL)
		return "";
	return status_str[st];
}

/* ---- base64url (RFC 4648 5) ---- */

static int
b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Decode base64url into a new buffer (*outlen bytes, NUL-terminated for
 * JSON). strict, for token sections: no padding (RFC 7515 2) and the unused
 * bits of the last character zero, so one token has one spelling. JWKS
 * members may carry "=" padding, which some issuers emit.
 */
static uint8_t *
b64url_decode(const char *s, size_t len, size_t *outlen, int strict)
{
	uint8_t *out, *o;
	uint32_t acc = 0;
	size_t i, pad = 0;
	int bits = 0;

	if (!strict) {
		while (len > 0 && s[len - 1] == '=' && pad < 2) {
			len--;
			pad++;
		}
		if (pad && (len + pad) % 4 != 0)
			return NULL;
	}
	if (len % 4 == 1)
		return NULL;
	out = o = xmalloc(len / 4 * 3 + 3);
	for (i = 0; i < len; i++) {
		int v = b64url_val((unsigned char)s[i]);

		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (uint8_t)(acc >> bits);
		}
	}
	if (strict && (acc & ((1u << bits) - 1)) != 0) {
		free(out);
		return NULL;
	}
	*o = 0;
	*outlen = (size_t)(o - out);
	return out;
}

/* ---- algorithms (RFC 7518 3.1, RFC 8037 3.1) ---- */

static const struct {
	const char	*name;
	enum gw_jwt_alg	 alg;
	enum gw_jwk_kty	 kty;
	const char	*md;	/* NULL: EdDSA hashes internally */
	int		 ec_bits;
} algs[] = {
	{ "RS256", GW_JWT_RS256, GW_JWK_RSA, "SHA256", 0 },
	{ "RS384", GW_JWT_RS384, GW_JWK_RSA, "SHA384", 0 },
	{ "RS512", GW_JWT_RS512, GW_JWK_RSA, "SHA512", 0 },
	{ "PS256", GW_JWT_PS256, GW_JWK_RSA, "SHA256", 0 },
	{ "PS384", GW_JWT_PS384, GW_JWK_RSA, "SHA384", 0 },
	{ "PS512", GW_JWT_PS512, GW_JWK_RSA, "SHA512", 0 },
	{ "ES256", GW_JWT_ES256, GW_JWK_EC, "SHA256", 256 },
	{ "ES384", GW_JWT_ES384, GW_JWK_EC, "SHA384", 384 },
	{ "ES512", GW_JWT_ES512, GW_JWK_EC, "SHA512", 521 },
	{ "HS256", GW_JWT_HS256, GW_JWK_OCT, "SHA256", 0 },
	{ "HS384", GW_JWT_HS384, GW_JWK_OCT, "SHA384", 0 },
	{ "HS512", GW_JWT_HS512, GW_JWK_OCT, "SHA512", 0 },
	{ "EdDSA", GW_JWT_EDDSA, GW_JWK_OKP, NULL, 0 },
};

static enum gw_jwt_alg
alg_by_name(const char *s)
{
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(algs); i++)
		if (strcmp(s, algs[i].name) == 0)
			return algs[i].alg;
	return GW_JWT_ALG_UNKNOWN;
}

_Static_assert(GW_JWT_RS256 == 1 && GW_JWT_EDDSA == 13, "algs[] follows enum gw_jwt_alg");

static size_t
alg_index(enum gw_jwt_alg a)
{
	return (size_t)a - 1;	/* algs[] follows the enum */
}

static int
alg_is_pss(enum gw_jwt_alg a)
{
	return a == GW_JWT_PS256 || a == GW_JWT_PS384 || a == GW_JWT_PS512;
}

/* ---- JWKS (RFC 7517 4-5, RFC 7518 6, RFC 8037 2) ---- */

static void
jwk_clear(struct gw_jwk *k)
{
	free(k->kid);
	EVP_PKEY_free(k->pkey);
	if (k->secret) {
		OPENSSL_cleanse(k->secret, k->secret_len);
		free(k->secret);
	}
	memset(k, 0, sizeof(*k));
}

void
gw_jwks_free(struct gw_jwks *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++)
		jwk_clear(&ks->keys[i]);
	free(ks->keys);
	free(ks);
}

/* A base64url string member of a JWK, decoded; NULL if absent or bad. */
static uint8_t *
jwk_bytes(json_t *o, const char *name, size_t *len)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_string(v))
		return NULL;
	return b64url_decode(json_string_value(v), json_string_length(v), len, 0);
}

static EVP_PKEY *
pkey_fromdata(const char *type, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pk = NULL;

	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/*
 * RFC 7518 6.3.1: n and e, unsigned big-endian. OpenSSL's public check
 * (SP 800-56B) refuses e < 65537, which jwt_verify_lib accepts, so the
 * checks here are the ones that keep verification meaningful.
 */
static EVP_PKEY *
jwk_rsa(json_t *o)
{
	uint8_t *nb = NULL, *eb = NULL;
	size_t nl = 0, el = 0;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pk = NULL;
	int nbits;

	if ((nb = jwk_bytes(o, "n", &nl)) == NULL || (eb = jwk_bytes(o, "e", &el)) == NULL)
		goto out;
	n = BN_bin2bn(nb, (int)nl, NULL);
	e = BN_bin2bn(eb, (int)el, NULL);
	if (n == NULL || e == NULL)
		goto out;
	nbits = BN_num_bits(n);
	if (nbits < 512 || nbits > 16384 || !BN_is_odd(n) || !BN_is_odd(e) ||
	    BN_is_one(e) || BN_cmp(e, n) >= 0)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	pk = pkey_fromdata("RSA", params);
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(nb);
	free(eb);
	return pk;
}

static const struct {
	const char	*crv;		/* RFC 7518 6.2.1.1 */
	const char	*group;		/* OpenSSL's name */
	size_t		 size;		/* bytes of a coordinate */
	int		 bits;
} curves[] = {
	{ "P-256", "prime256v1", 32, 256 },
	{ "P-384", "secp384r1", 48, 384 },
	{ "P-521", "secp521r1", 66, 521 },
};

/*
 * RFC 7518 6.2.1: x and y are the full coordinate size; a shorter value
 * (a producer that dropped leading zeros) is left-padded rather than
 * refused, as jwt_verify_lib's BIGNUM parse does. The point must be on the
 * curve.
 */
static EVP_PKEY *
jwk_ec(json_t *o, enum gw_jwt_alg alg, int *bits)
{
	json_t *cv = json_object_get(o, "crv");
	const char *crv = json_string_value(cv);
	uint8_t *x = NULL, *y = NULL, pub[1 + 2 * 66];
	size_t xl = 0, yl = 0, c, sz;
	OSSL_PARAM params[3];
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx;

	if (cv && crv == NULL)
		return NULL;
	for (c = 0; c < VG_ARRAY_SIZE(curves); c++)
		if (crv ? strcmp(crv, curves[c].crv) == 0 :
		    alg != GW_JWT_ALG_UNKNOWN && algs[alg_index(alg)].ec_bits == curves[c].bits)
			break;	/* no crv: the alg's curve, as jwt_verify_lib */
	if (c == VG_ARRAY_SIZE(curves))
		return NULL;
	if (alg != GW_JWT_ALG_UNKNOWN && algs[alg_index(alg)].ec_bits != curves[c].bits)
		return NULL;	/* crv not compatible with alg */
	sz = curves[c].size;
	if ((x = jwk_bytes(o, "x", &xl)) == NULL || (y = jwk_bytes(o, "y", &yl)) == NULL ||
	    xl == 0 || yl == 0 || xl > sz || yl > sz)
		goto out;
	memset(pub, 0, sizeof(pub));
	pub[0] = 0x04;	/* SEC 1 2.3.3 uncompressed point */
	memcpy(pub + 1 + sz - xl, x, xl);
	memcpy(pub + 1 + 2 * sz - yl, y, yl);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)curves[c].group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * sz);
	params[2] = OSSL_PARAM_construct_end();
	if ((pk = pkey_fromdata("EC", params)) == NULL)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	if (ctx == NULL || EVP_PKEY_public_check(ctx) != 1) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	*bits = curves[c].bits;
out:
	free(x);
	free(y);
	return pk;
}

/* RFC 8037 2: crv Ed25519 and a 32-byte x (Ed448 and the X curves are not for JWS here). */
static EVP_PKEY *
jwk_okp(json_t *o)
{
	const char *crv = json_string_value(json_object_get(o, "crv"));
	uint8_t *x;
	size_t xl = 0;
	EVP_PKEY *pk = NULL;

	if (crv == NULL || strcmp(crv, "Ed25519") != 0 || (x = jwk_bytes(o, "x", &xl)) == NULL)
		return NULL;
	if (xl == 32)
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xl);
	free(x);
	return pk;
}

/* One element of "keys" into *k; 0, or -1 to skip it. */
static int
jwk_parse(json_t *o, struct gw_jwk *k)
{
	json_t *kty = json_object_get(o, "kty"), *use = json_object_get(o, "use");
	json_t *alg = json_object_get(o, "alg"), *kid = json_object_get(o, "kid");
	const char *t;

	memset(k, 0, sizeof(*k));
	if (!json_is_object(o) || !json_is_string(kty))
		return -1;
	/* RFC 7517 4.2: a key for encryption is not for checking signatures */
	if (use && (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0))
		return -1;
	if (kid && !json_is_string(kid))
		return -1;
	if (alg) {
		if (!json_is_string(alg) || (k->alg = alg_by_name(json_string_value(alg))) == GW_JWT_ALG_UNKNOWN)
			return -1;
	}
	t = json_string_value(kty);
	if (strcmp(t, "RSA") == 0)
		k->kty = GW_JWK_RSA;
	else if (strcmp(t, "EC") == 0)
		k->kty = GW_JWK_EC;
	else if (strcmp(t, "OKP") == 0)
		k->kty = GW_JWK_OKP;
	else if (strcmp(t, "oct") == 0)
		k->kty = GW_JWK_OCT;
	else
		return -1;
	/* jwt_verify_lib: an RSA key's alg starts with RS or PS, an EC key's with ES, ... */
	if (k->alg != GW_JWT_ALG_UNKNOWN && algs[alg_index(k->alg)].kty != k->kty)
		return -1;
	switch (k->kty) {
	case GW_JWK_RSA:
		k->pkey = jwk_rsa(o);
		break;
	case GW_JWK_EC:
		k->pkey = jwk_ec(o, k->alg, &k->ec_bits);
		break;
	case GW_JWK_OKP:
		k->pkey = jwk_okp(o);
		break;
	case GW_JWK_OCT:
		k->secret = jwk_bytes(o, "k", &k->secret_len);
		if (k->secret && k->secret_len == 0) {
			free(k->secret);
			k->secret = NULL;
		}
		break;
	}
	ERR_clear_error();
	if (k->pkey == NULL && k->secret == NULL)
		return -1;
	if (kid)
		k->kid = xstrdup(json_string_value(kid));
	return 0;
}

struct gw_jwks *
gw_jwks_parse(const char *json, size_t len, char *err, size_t errlen)
{
	struct gw_jwks *ks;
	json_error_t je;
	json_t *root, *keys, *o;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t i;

	if (err && errlen)
		err[0] = 0;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(root)) {
		if (err)
			snprintf(err, errlen, "%s: %s", gw_jwt_status_str(GW_JWKS_PARSE_ERROR),
			    root ? "not an object" : je.text);
		json_decref(root);
		return NULL;
	}
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys)) {
		if (err)
			snprintf(err, errlen, keys ? "[keys] in Jwks is not an array" :
			    "Jwks does not have [keys] field");
		json_decref(root);
		return NULL;
	}
	ks = xcalloc(1, sizeof(*ks));
	ks->keys = xcalloc(json_array_size(keys) + 1, sizeof(*ks->keys));
	json_array_foreach(keys, i, o) {
		if (jwk_parse(o, &ks->keys[ks->n]) == 0)
			ks->n++;
		else {
			jwk_clear(&ks->keys[ks->n]);
			ks->skipped++;
		}
	}
	json_decref(root);
	if (ks->n == 0) {
		if (err)
			snprintf(err, errlen, "%s (%zu skipped)", gw_jwt_status_str(GW_JWKS_NO_VALID_KEYS),
			    ks->skipped);
		gw_jwks_free(ks);
		return NULL;
	}
	/* the content decides identity: a reload with the same keys keeps cache hits */
	if (EVP_Digest(json, len, md, &mdlen, EVP_sha256(), NULL) == 1)
		memcpy(&ks->id, md, sizeof(ks->id));
	return ks;
}

/* ---- token decoding (RFC 7515 7.1, RFC 7519 4.1) ---- */

void
gw_jwt_free(struct gw_jwt *t)
{
	if (t == NULL)
		return;
	free(t->kid);
	json_decref(t->header);
	json_decref(t->payload);
	free(t->aud);
	free(t->input);
	free(t->sig);
	memset(t, 0, sizeof(*t));
}

static json_t *
json_section(const char *s, size_t len, int *bad_b64)
{
	uint8_t *raw;
	size_t rl = 0;
	json_t *v;

	*bad_b64 = 0;
	if ((raw = b64url_decode(s, len, &rl, 1)) == NULL) {
		*bad_b64 = 1;
		return NULL;
	}
	v = json_loadb((const char *)raw, rl, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (v && !json_is_object(v)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

/*
 * A NumericDate (RFC 7519 2) as jwt_verify_lib reads it: any non-negative
 * number, the fraction dropped; absent is 0. Past INT64_MAX it saturates.
 */
static int
numeric_date(json_t *p, const char *name, int64_t *out)
{
	json_t *v = json_object_get(p, name);
	double d;

	*out = 0;
	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return -1;
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_real(v) || (d = json_real_value(v)) < 0 || isnan(d))
		return -1;
	*out = d >= 9223372036854775807.0 ? INT64_MAX : (int64_t)d;
	return 0;
}

static int
opt_string(json_t *p, const char *name, const char **out)
{
	json_t *v = json_object_get(p, name);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	return 0;
}

static enum gw_jwt_status
payload_claims(struct gw_jwt *t)
{
	json_t *p = t->payload, *aud = json_object_get(p, "aud"), *v;
	const char *jti;
	size_t i;

	if (opt_string(p, "iss", &t->iss) < 0)
		return GW_JWT_PAYLOAD_ISS_NOT_STRING;
	if (opt_string(p, "sub", &t->sub) < 0)
		return GW_JWT_PAYLOAD_SUB_NOT_STRING;
	if (numeric_date(p, "iat", &t->iat) < 0)
		return GW_JWT_PAYLOAD_IAT_NOT_INTEGER;
	if (numeric_date(p, "nbf", &t->nbf) < 0)
		return GW_JWT_PAYLOAD_NBF_NOT_INTEGER;
	if (numeric_date(p, "exp", &t->exp) < 0)
		return GW_JWT_PAYLOAD_EXP_NOT_INTEGER;
	if (opt_string(p, "jti", &jti) < 0)
		return GW_JWT_PAYLOAD_JTI_NOT_STRING;
	/* RFC 7519 4.1.3: one string or an array of them */
	if (json_is_string(aud)) {
		t->aud = xmalloc(sizeof(*t->aud));
		t->aud[t->naud++] = json_string_value(aud);
	} else if (json_is_array(aud)) {
		t->aud = xcalloc(json_array_size(aud) + 1, sizeof(*t->aud));
		json_array_foreach(aud, i, v) {
			if (!json_is_string(v))
				return GW_JWT_PAYLOAD_AUD_NOT_STRING;
			t->aud[t->naud++] = json_string_value(v);
		}
	} else if (aud)
		return GW_JWT_PAYLOAD_AUD_NOT_STRING;
	return GW_JWT_OK;
}

/*
 * Checks in jwt_verify_lib Jwt::parseFromString()'s order, so a token
 * broken two ways gets Envoy's answer. Stricter than it on the shape:
 * Envoy splits skipping empty sections ("a..b.c" passes as a.b.c), here
 * any empty section or extra dot is GW_JWT_BAD_FORMAT.
 */
enum gw_jwt_status
gw_jwt_decode(const char *tok, size_t len, struct gw_jwt *t)
{
	const char *d1, *d2, *alg, *kid;
	size_t hl, pl, sl;
	json_t *v;
	int bad;
	enum gw_jwt_status st;

	memset(t, 0, sizeof(*t));
	if (len == 0)
		return GW_JWT_BAD_FORMAT;
	if ((d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok))) == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) != NULL)
		return GW_JWT_BAD_FORMAT;
	hl = (size_t)(d1 - tok);
	pl = (size_t)(d2 - d1 - 1);
	sl = len - (size_t)(d2 + 1 - tok);
	if (hl == 0 || pl == 0 || sl == 0)
		return GW_JWT_BAD_FORMAT;

	if ((t->header = json_section(tok, hl, &bad)) == NULL)
		return bad ? GW_JWT_HEADER_BAD_BASE64 : GW_JWT_HEADER_BAD_JSON;
	if ((v = json_object_get(t->header, "alg")) == NULL || !json_is_string(v))
		return GW_JWT_HEADER_BAD_ALG;
	alg = json_string_value(v);
	/* RFC 7518 3.6 "none" is not in the list, so it is refused here */
	if ((t->alg = alg_by_name(alg)) == GW_JWT_ALG_UNKNOWN)
		return GW_JWT_HEADER_ALG_UNSUPPORTED;
	if (opt_string(t->header, "kid", &kid) < 0)
		return GW_JWT_HEADER_BAD_KID;
	if (kid)
		t->kid = xstrdup(kid);

	if ((t->payload = json_section(d1 + 1, pl, &bad)) == NULL)
		return bad ? GW_JWT_PAYLOAD_BAD_BASE64 : GW_JWT_PAYLOAD_BAD_JSON;
	if ((st = payload_claims(t)) != GW_JWT_OK)
		return st;

	if ((t->sig = b64url_decode(d2 + 1, sl, &t->sig_len, 1)) == NULL)
		return GW_JWT_SIG_BAD_BASE64;
	/* RFC 7515 5.2 step 8: the signing input is the two sections as sent */
	t->input_len = hl + 1 + pl;
	t->input = xmalloc(t->input_len + 1);
	memcpy(t->input, tok, t->input_len);
	t->input[t->input_len] = 0;
	t->payload_b64_off = hl + 1;
	return GW_JWT_OK;
}

/* ---- signatures (RFC 7518 3.2-3.5, RFC 8037 3.1) ---- */

static int
verify_pkey(EVP_PKEY *pk, const char *md, int pss, const uint8_t *sig, size_t siglen,
    const char *in, size_t inlen)
{
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	int ok;

	ok = mc != NULL && EVP_DigestVerifyInit_ex(mc, &pc, md, NULL, NULL, pk, NULL) == 1;
	/* RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash */
	if (ok && pss)
		ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pc, md, NULL) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) == 1;
	ok = ok && EVP_DigestVerify(mc, sig, siglen, (const unsigned char *)in, inlen) == 1;
	EVP_MD_CTX_free(mc);
	ERR_clear_error();
	return ok;
}

/*
 * RFC 7518 3.4: the JWS signature is R || S, each the coordinate size;
 * OpenSSL wants the DER ECDSA-Sig-Value. Another length is a failure.
 */
static int
verify_ec(const struct gw_jwk *k, const char *md, const uint8_t *sig, size_t siglen,
    const char *in, size_t inlen)
{
	size_t half = ((size_t)k->ec_bits + 7) / 8;
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	unsigned char *der = NULL, *p;
	int dl, ok = 0;

	if (siglen != 2 * half || (es = ECDSA_SIG_new()) == NULL)
		return 0;
	r = BN_bin2bn(sig, (int)half, NULL);
	s = BN_bin2bn(sig + half, (int)half, NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return 0;
	}
	if ((dl = i2d_ECDSA_SIG(es, NULL)) > 0) {
		der = p = xmalloc((size_t)dl);
		if (i2d_ECDSA_SIG(es, &p) == dl)
			ok = verify_pkey(k->pkey, md, 0, der, (size_t)dl, in, inlen);
	}
	free(der);
	ECDSA_SIG_free(es);
	return ok;
}

static int
verify_hmac(const struct gw_jwk *k, const char *md, const uint8_t *sig, size_t siglen,
    const char *in, size_t inlen)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	const EVP_MD *m = EVP_get_digestbyname(md);

	if (m == NULL || HMAC(m, k->secret, (int)k->secret_len, (const unsigned char *)in, inlen,
	    mac, &maclen) == NULL) {
		ERR_clear_error();
		return 0;
	}
	return maclen == siglen && CRYPTO_memcmp(mac, sig, siglen) == 0;
}

/*
 * The key type must fit the alg; an EC key also needs the alg's curve
 * (RFC 7518 3.4 pairs ES256 with P-256, ...), which jwt_verify_lib does
 * not check but which no honest issuer breaks.
 */
static int
key_fits(const struct gw_jwk *k, enum gw_jwt_alg alg)
{
	size_t a = alg_index(alg);

	return algs[a].kty == k->kty && (k->kty != GW_JWK_EC || algs[a].ec_bits == k->ec_bits);
}

enum gw_jwt_status
gw_jwt_verify(const struct gw_jwt *t, const struct gw_jwks *ks)
{
	int matched = 0;
	size_t i, a;

	if (t->alg == GW_JWT_ALG_UNKNOWN || t->input == NULL)
		return GW_JWT_VERIFICATION_FAIL;
	a = alg_index(t->alg);
	for (i = 0; ks && i < ks->n; i++) {
		const struct gw_jwk *k = &ks->keys[i];
		int ok;

		/* a kid on both sides must agree; a side without kid matches any */
		if (t->kid && k->kid && strcmp(t->kid, k->kid) != 0)
			continue;
		if (k->alg != GW_JWT_ALG_UNKNOWN && k->alg != t->alg)
			continue;
		matched = 1;
		if (!key_fits(k, t->alg))
			continue;
		switch (k->kty) {
		case GW_JWK_RSA:
			ok = verify_pkey(k->pkey, algs[a].md, alg_is_pss(t->alg), t->sig, t->sig_len,
			    t->input, t->input_len);
			break;
		case GW_JWK_EC:
			ok = verify_ec(k, algs[a].md, t->sig, t->sig_len, t->input, t->input_len);
			break;
		case GW_JWK_OKP:
			/* jwt_verify_lib stops at a wrong length rather than trying more keys */
			if (t->sig_len != 64)
				return GW_JWT_ED25519_SIG_LENGTH;
			ok = verify_pkey(k->pkey, NULL, 0, t->sig, t->sig_len, t->input, t->input_len);
			break;
		case GW_JWK_OCT:
			ok = verify_hmac(k, algs[a].md, t->sig, t->sig_len, t->input, t->input_len);
			break;
		default:
			ok = 0;
		}
		if (ok)
			return GW_JWT_OK;
	}
	return matched ? GW_JWT_VERIFICATION_FAIL : GW_JWKS_KID_ALG_MISMATCH;
}

/* ---- time, audiences, claims ---- */

enum gw_jwt_status
gw_jwt_check_time(const struct gw_jwt *t, int64_t now_s, int64_t skew_s)
{
	int64_t lim;

	/* an addition that overflows is a time no token reaches */
	if (t->nbf > 0 && !__builtin_add_overflow(now_s, skew_s, &lim) && lim < t->nbf)
		return GW_JWT_NOT_YET_VALID;
	if (t->exp > 0 && !__builtin_add_overflow(t->exp, skew_s, &lim) && now_s > lim)
		return GW_JWT_EXPIRED;
	return GW_JWT_OK;
}

/* jwt_verify_lib CheckAudience: drop an http:// or https:// prefix and a trailing "/". */
static void
aud_sanitize(const char *s, const char **p, size_t *len)
{
	size_t l = strlen(s);

	if (l >= 7 && strncmp(s, "http://", 7) == 0) {
		s += 7;
		l -= 7;
	} else if (l >= 8 && strncmp(s, "https://", 8) == 0) {
		s += 8;
		l -= 8;
	}
	if (l > 0 && s[l - 1] == '/')
		l--;
	*p = s;
	*len = l;
}

int
gw_jwt_audience_ok(const struct gw_jwt *t, const char *const *audiences, size_t n)
{
	size_t i, j;

	if (n == 0)
		return 1;
	for (i = 0; i < t->naud; i++) {
		const char *a;
		size_t al;

		aud_sanitize(t->aud[i], &a, &al);
		for (j = 0; j < n; j++) {
			const char *b;
			size_t bl;

			aud_sanitize(audiences[j], &b, &bl);
			if (al == bl && memcmp(a, b, al) == 0)
				return 1;
		}
	}
	return 0;
}

const json_t *
gw_jwt_claim(const struct gw_jwt *t, const char *path)
{
	const json_t *v = t->payload;
	const char *dot;

	if (v == NULL || path == NULL)
		return NULL;
	for (;;) {
		dot = strchr(path, '.');
		if (!json_is_object(v))
			return NULL;
		v = json_object_getn(v, path, dot ? (size_t)(dot - path) : strlen(path));
		if (v == NULL || dot == NULL)
			return v;
		path = dot + 1;
	}
}

/* Envoy convertClaimDoubleToString(): whole and in uint64_t range as an integer, else "%f". */
static int
number_str(double d, long long ll, int is_int, char *out, size_t outlen)
{
	double ip;

	if (is_int && ll >= 0)
		return snprintf(out, outlen, "%lld", ll);
	if (!is_int && d >= 0 && d < 18446744073709551616.0 && modf(d, &ip) == 0)
		return snprintf(out, outlen, "%llu", (unsigned long long)d);
	return snprintf(out, outlen, "%f", is_int ? (double)ll : d);
}

int
gw_jwt_claim_str(const json_t *v, char *out, size_t outlen)
{
	size_t i, len = 0;
	const json_t *e;
	int n;

	if (v == NULL || outlen == 0)
		return -1;
	switch (json_typeof(v)) {
	case JSON_STRING:
		len = json_string_length(v);
		if (len == 0 || len >= outlen)
			return -1;
		memcpy(out, json_string_value(v), len);
		out[len] = 0;
		return (int)len;
	case JSON_INTEGER:
		n = number_str(0, json_integer_value(v), 1, out, outlen);
		break;
	case JSON_REAL:
		n = number_str(json_real_value(v), 0, 0, out, outlen);
		break;
	case JSON_TRUE:
		n = snprintf(out, outlen, "true");
		break;
	case JSON_FALSE:
		n = snprintf(out, outlen, "false");
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, e) {
			size_t el;

			if (!json_is_string(e))
				return -1;
			el = json_string_length(e);
			if (len + (i > 0) + el >= outlen)
				return -1;
			if (i > 0)
				out[len++] = ',';
			memcpy(out + len, json_string_value(e), el);
			len += el;
		}
		out[len] = 0;
		return len > 0 ? (int)len : -1;
	default:
		return -1;
	}
	return n > 0 && (size_t)n < outlen ? n : -1;
}

/* ---- the verified-token cache ---- */

struct jc_entry {
	uint64_t	 h;		/* FNV-1a of the token, then of jwks_id */
	uint64_t	 jwks_id;
	char		*tok;
	size_t		 len;
	struct gw_jwt	 jwt;
	int32_t		 next;		/* hash chain, -1 ends */
	uint8_t		 used, ref;	/* slot taken; clock's second-chance bit */
};

struct gw_jwt_cache {
	struct jc_entry	*e;
	size_t		 cap, n, hand;
	int32_t		*bucket;	/* nbucket heads, -1 empty */
	size_t		 nbucket;	/* a power of two */
};

/*
 * The bucket of a token: its length and its last 64 bytes (the signature,
 * which no two tokens share) are enough to spread them, and a byte-wise
 * hash of a whole token cost about 1 us a request; lookups compare the
 * whole token anyway.
 */
static uint64_t
jc_hash(const char *tok, size_t len, uint64_t jwks_id)
{
	size_t tail = len < 64 ? len : 64;
	uint64_t h = hash_bytes(HASH_INIT, tok + len - tail, tail);

	h = hash_bytes(h, &len, sizeof(len));
	return hash_bytes(h, &jwks_id, sizeof(jwks_id));
}

struct gw_jwt_cache *
gw_jwt_cache_new(size_t cap)
{
	struct gw_jwt_cache *c = xcalloc(1, sizeof(*c));
	size_t i;

	c->cap = cap ? cap : GW_JWT_CACHE_DEFAULT;
	if (c->cap > INT32_MAX / 2)
		c->cap = INT32_MAX / 2;
	c->e = xcalloc(c->cap, sizeof(*c->e));
	for (c->nbucket = 1; c->nbucket < c->cap * 2; c->nbucket <<= 1)
		;
	c->bucket = xmalloc(c->nbucket * sizeof(*c->bucket));
	for (i = 0; i < c->nbucket; i++)
		c->bucket[i] = -1;
	return c;
}

static void
jc_drop(struct gw_jwt_cache *c, size_t idx)
{
	struct jc_entry *e = &c->e[idx];
	int32_t *pp = &c->bucket[e->h & (c->nbucket - 1)];

	while (*pp != (int32_t)idx)
		pp = &c->e[*pp].next;
	*pp = e->next;
	free(e->tok);
	gw_jwt_free(&e->jwt);
	memset(e, 0, sizeof(*e));
	c->n--;
}

void
gw_jwt_cache_free(struct gw_jwt_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->cap; i++)
		if (c->e[i].used) {
			free(c->e[i].tok);
			gw_jwt_free(&c->e[i].jwt);
		}
	free(c->e);
	free(c->bucket);
	free(c);
}

size_t
gw_jwt_cache_count(const struct gw_jwt_cache *c)
{
	return c->n;
}

static int32_t
jc_find(const struct gw_jwt_cache *c, uint64_t h, const char *tok, size_t len, uint64_t jwks_id)
{
	int32_t i;

	for (i = c->bucket[h & (c->nbucket - 1)]; i >= 0; i = c->e[i].next) {
		const struct jc_entry *e = &c->e[i];

		if (e->h == h && e->jwks_id == jwks_id && e->len == len && memcmp(e->tok, tok, len) == 0)
			return i;
	}
	return -1;
}

static int
jc_expired(const struct gw_jwt *t, int64_t now_s)
{
	return t->exp > 0 && t->exp <= now_s;
}

const struct gw_jwt *
gw_jwt_cache_get(struct gw_jwt_cache *c, const char *tok, size_t len, uint64_t jwks_id,
    int64_t now_s)
{
	uint64_t h = jc_hash(tok, len, jwks_id);
	int32_t i = jc_find(c, h, tok, len, jwks_id);

	if (i < 0)
		return NULL;
	if (jc_expired(&c->e[i].jwt, now_s)) {
		jc_drop(c, (size_t)i);
		return NULL;
	}
	c->e[i].ref = 1;
	return &c->e[i].jwt;
}

/* A free slot, evicting when full: an expired entry or the first not used since the hand last passed. */
static size_t
jc_slot(struct gw_jwt_cache *c, int64_t now_s)
{
	size_t i, spins;

	if (c->n < c->cap)
		for (i = 0; i < c->cap; i++)
			if (!c->e[i].used)
				return i;
	for (spins = 0;; spins++) {
		struct jc_entry *e = &c->e[c->hand];

		i = c->hand;
		c->hand = (c->hand + 1) % c->cap;
		if (!e->ref || jc_expired(&e->jwt, now_s) || spins >= 2 * c->cap) {
			jc_drop(c, i);
			return i;
		}
		e->ref = 0;
	}
}

void
gw_jwt_cache_put(struct gw_jwt_cache *c, const char *tok, size_t len, uint64_t jwks_id,
    struct gw_jwt *jwt, int64_t now_s)
{
	uint64_t h = jc_hash(tok, len, jwks_id);
	int32_t old = jc_find(c, h, tok, len, jwks_id);
	struct jc_entry *e;
	size_t i;

	if (old >= 0)
		jc_drop(c, (size_t)old);
	if (jc_expired(jwt, now_s)) {
		gw_jwt_free(jwt);
		return;
	}
	i = jc_slot(c, now_s);
	e = &c->e[i];
	e->h = h;
	e->jwks_id = jwks_id;
	e->tok = xmalloc(len + 1);
	memcpy(e->tok, tok, len);
	e->tok[len] = 0;
	e->len = len;
	e->jwt = *jwt;
	memset(jwt, 0, sizeof(*jwt));
	e->used = 1;
	e->ref = 0;
	e->next = c->bucket[h & (c->nbucket - 1)];
	c->bucket[h & (c->nbucket - 1)] = (int32_t)i;
	c->n++;
}
