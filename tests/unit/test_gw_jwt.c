/*
 * gw_jwt: keys made here with OpenSSL, JWKS built from them, tokens signed
 * here (EVP_DigestSign; ES signatures converted from DER to R || S), then
 * decoded, verified and checked as jwt_authn would.
 */
#include "config.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "cu.h"
#include "vipgate/util.h"
#include "../../src/gw/gw-jwt.h"

#define NOW	1700000000

enum { K_RSA, K_RSA2, K_P256, K_P384, K_P521, K_P256B, K_ED, K_ED2, K_HMAC, K_HMAC2, K_MAX };

static EVP_PKEY *keys[K_MAX];
static uint8_t secret[K_MAX][32];

/* ---- helpers: base64url, keys, JWK JSON, signing ---- */

static char *
b64url(const uint8_t *p, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *o = xmalloc(n / 3 * 4 + 5), *q = o;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		*q++ = al[v >> 18];
		*q++ = al[(v >> 12) & 63];
		*q++ = al[(v >> 6) & 63];
		*q++ = al[v & 63];
	}
	if (n - i == 1) {
		*q++ = al[p[i] >> 2];
		*q++ = al[(p[i] & 3) << 4];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];

		*q++ = al[v >> 10];
		*q++ = al[(v >> 4) & 63];
		*q++ = al[(v & 15) << 2];
	}
	*q = 0;
	return o;
}

static char *
b64url_str(const char *s)
{
	return b64url((const uint8_t *)s, strlen(s));
}

static char *
bn_b64(EVP_PKEY *pk, const char *param, int pad)
{
	BIGNUM *bn = NULL;
	uint8_t buf[1024];
	int n;
	char *s;

	CU_ASSERT_FATAL(EVP_PKEY_get_bn_param(pk, param, &bn) == 1);
	n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	s = b64url(buf, (size_t)n);
	BN_free(bn);
	return s;
}

static void
setup_keys(void)
{
	static const char *const curve[] = { [K_P256] = "P-256", [K_P384] = "P-384",
	    [K_P521] = "P-521", [K_P256B] = "P-256" };
	int i;

	if (keys[K_RSA])
		return;
	keys[K_RSA] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	keys[K_RSA2] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	for (i = K_P256; i <= K_P256B; i++)
		keys[i] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve[i]);
	keys[K_ED] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	keys[K_ED2] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	RAND_bytes(secret[K_HMAC], 32);
	RAND_bytes(secret[K_HMAC2], 32);
	for (i = 0; i < K_MAX; i++)
		CU_ASSERT_FATAL(i == K_HMAC || i == K_HMAC2 || keys[i] != NULL);
}

static int
ec_size(int k)
{
	return k == K_P384 ? 48 : k == K_P521 ? 66 : 32;
}

/* One JWK of key k; extra is spliced in ("\"alg\":\"RS256\"," ...). */
static void
jwk_json(struct vg_buf *b, int k, const char *kid, const char *extra)
{
	char *x, *y;

	buf_puts(b, "{");
	if (kid)
		buf_printf(b, "\"kid\":\"%s\",", kid);
	buf_puts(b, extra ? extra : "");
	switch (k) {
	case K_RSA:
	case K_RSA2:
		x = bn_b64(keys[k], OSSL_PKEY_PARAM_RSA_N, 0);
		y = bn_b64(keys[k], OSSL_PKEY_PARAM_RSA_E, 0);
		buf_printf(b, "\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", x, y);
		break;
	case K_P256:
	case K_P384:
	case K_P521:
	case K_P256B:
		x = bn_b64(keys[k], OSSL_PKEY_PARAM_EC_PUB_X, ec_size(k));
		y = bn_b64(keys[k], OSSL_PKEY_PARAM_EC_PUB_Y, ec_size(k));
		buf_printf(b, "\"kty\":\"EC\",\"crv\":\"P-%d\",\"x\":\"%s\",\"y\":\"%s\"}",
		    k == K_P521 ? 521 : ec_size(k) * 8, x, y);
		break;
	case K_ED:
	case K_ED2: {
		uint8_t raw[32];
		size_t rl = sizeof(raw);

		CU_ASSERT_FATAL(EVP_PKEY_get_raw_public_key(keys[k], raw, &rl) == 1);
		x = b64url(raw, rl);
		y = NULL;
		buf_printf(b, "\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", x);
		break;
	}
	default:
		x = b64url(secret[k], 32);
		y = NULL;
		buf_printf(b, "\"kty\":\"oct\",\"k\":\"%s\"}", x);
	}
	free(x);
	free(y);
}

static struct gw_jwks *
jwks_of(const char *json)
{
	char err[256];
	struct gw_jwks *ks = gw_jwks_parse(json, strlen(json), err, sizeof(err));

	if (ks == NULL)
		fprintf(stderr, "jwks: %s\n", err);
	return ks;
}

static const char *
md_of(const char *alg)
{
	if (strcmp(alg, "EdDSA") == 0)
		return NULL;
	return strstr(alg, "384") ? "SHA384" : strstr(alg, "512") ? "SHA512" : "SHA256";
}

/* The JWS signature over in, as the RFC 7518 alg wants it. */
static size_t
sign(const char *alg, int k, const char *in, uint8_t *sig)
{
	const char *md = md_of(alg);
	EVP_MD_CTX *mc;
	EVP_PKEY_CTX *pc = NULL;
	uint8_t der[1024];
	size_t dl = sizeof(der);

	if (alg[0] == 'H') {
		unsigned l = 0;

		HMAC(EVP_get_digestbyname(md), secret[k], 32, (const uint8_t *)in, strlen(in), sig, &l);
		return l;
	}
	mc = EVP_MD_CTX_new();
	CU_ASSERT_FATAL(EVP_DigestSignInit_ex(mc, &pc, md, NULL, NULL, keys[k], NULL) == 1);
	if (alg[0] == 'P') {
		CU_ASSERT(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1);
		CU_ASSERT(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pc, md, NULL) == 1);
		CU_ASSERT(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) == 1);
	}
	CU_ASSERT_FATAL(EVP_DigestSign(mc, der, &dl, (const uint8_t *)in, strlen(in)) == 1);
	EVP_MD_CTX_free(mc);
	if (alg[0] == 'E' && alg[1] == 'S') {
		/* DER ECDSA-Sig-Value -> R || S, each the coordinate size */
		const uint8_t *p = der;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dl);
		int half = ec_size(k);

		CU_ASSERT_FATAL(es != NULL);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, half);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + half, half);
		ECDSA_SIG_free(es);
		return (size_t)half * 2;
	}
	memcpy(sig, der, dl);
	return dl;
}

/* header.payload.signature; header from alg and kid (NULL: none) unless hdr is given. */
static char *
token(const char *alg, const char *kid, const char *hdr, const char *payload, int k)
{
	struct vg_buf h = { 0 }, t = { 0 };
	char *hb, *pb, *sb;
	uint8_t sig[1024];
	size_t sl;

	if (hdr)
		buf_puts(&h, hdr);
	else if (kid)
		buf_printf(&h, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg, kid);
	else
		buf_printf(&h, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
	hb = b64url_str(h.s);
	pb = b64url_str(payload);
	buf_printf(&t, "%s.%s", hb, pb);
	sl = sign(alg, k, t.s, sig);
	sb = b64url(sig, sl);
	buf_printf(&t, ".%s", sb);
	free(hb);
	free(pb);
	free(sb);
	buf_free(&h);
	return t.s;
}

static enum gw_jwt_status
decode_verify(const char *tok, const struct gw_jwks *ks)
{
	struct gw_jwt j;
	enum gw_jwt_status st = gw_jwt_decode(tok, strlen(tok), &j);

	if (st == GW_JWT_OK)
		st = gw_jwt_verify(&j, ks);
	gw_jwt_free(&j);
	return st;
}

/* A JWKS of every key kind, each with a kid ("rsa", "p256", ...). */
static struct gw_jwks *
all_keys(void)
{
	static const struct {
		int		 k;
		const char	*kid;
	} v[] = {
		{ K_RSA, "rsa" }, { K_P256, "p256" }, { K_P384, "p384" }, { K_P521, "p521" },
		{ K_ED, "ed" }, { K_HMAC, "hmac" },
	};
	struct vg_buf b = { 0 };
	struct gw_jwks *ks;
	size_t i;

	buf_puts(&b, "{\"keys\":[");
	for (i = 0; i < VG_ARRAY_SIZE(v); i++) {
		if (i)
			buf_puts(&b, ",");
		jwk_json(&b, v[i].k, v[i].kid, NULL);
	}
	buf_puts(&b, "]}");
	ks = jwks_of(b.s);
	buf_free(&b);
	return ks;
}

static const char claims[] = "{\"iss\":\"https://issuer.test\",\"sub\":\"alice\",\"exp\":1700003600}";

/* ---- tests ---- */

static void
test_status_str(void)
{
	static const struct {
		enum gw_jwt_status	 st;
		const char		*s;
	} v[] = {
		{ GW_JWT_MISSING, "Jwt is missing" },
		{ GW_JWT_EXPIRED, "Jwt is expired" },
		{ GW_JWT_NOT_YET_VALID, "Jwt not yet valid" },
		{ GW_JWT_VERIFICATION_FAIL, "Jwt verification fails" },
		{ GW_JWT_UNKNOWN_ISSUER, "Jwt issuer is not configured" },
		{ GW_JWT_AUDIENCE_NOT_ALLOWED, "Audiences in Jwt are not allowed" },
		{ GW_JWKS_KID_ALG_MISMATCH, "Jwks doesn't have key to match kid or alg from Jwt" },
		{ GW_JWT_BAD_FORMAT, "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections" },
		{ GW_JWKS_FETCH_FAIL, "Jwks remote fetch is failed" },
		{ GW_JWT_HEADER_ALG_UNSUPPORTED, "Jwt header [alg] is not supported" },
		{ GW_JWT_HEADER_BAD_BASE64, "Jwt header is an invalid Base64url encoded" },
		{ GW_JWT_PAYLOAD_BAD_JSON, "Jwt payload is an invalid JSON" },
	};
	size_t i;
	int s;

	for (i = 0; i < VG_ARRAY_SIZE(v); i++)
		CU_ASSERT_STRING_EQUAL(gw_jwt_status_str(v[i].st), v[i].s);
	for (s = 0; s < GW_JWT_STATUS_MAX; s++)
		CU_ASSERT(gw_jwt_status_str((enum gw_jwt_status)s)[0] != 0);
	CU_ASSERT_STRING_EQUAL(gw_jwt_status_str(GW_JWT_STATUS_MAX), "");
}

/* every algorithm, with the kid and without (every key tried) */
static void
test_valid(void)
{
	static const struct {
		const char	*alg, *kid;
		int		 k;
	} v[] = {
		{ "RS256", "rsa", K_RSA }, { "RS384", "rsa", K_RSA }, { "RS512", "rsa", K_RSA },
		{ "PS256", "rsa", K_RSA }, { "PS384", "rsa", K_RSA }, { "PS512", "rsa", K_RSA },
		{ "ES256", "p256", K_P256 }, { "ES384", "p384", K_P384 }, { "ES512", "p521", K_P521 },
		{ "EdDSA", "ed", K_ED }, { "HS256", "hmac", K_HMAC }, { "HS384", "hmac", K_HMAC },
		{ "HS512", "hmac", K_HMAC },
	};
	struct gw_jwks *ks;
	size_t i;

	setup_keys();
	ks = all_keys();
	CU_ASSERT_FATAL(ks != NULL);
	CU_ASSERT_EQUAL(ks->n, 6);
	CU_ASSERT_EQUAL(ks->skipped, 0);
	for (i = 0; i < VG_ARRAY_SIZE(v); i++) {
		char *t = token(v[i].alg, v[i].kid, NULL, claims, v[i].k);
		char *t2 = token(v[i].alg, NULL, NULL, claims, v[i].k);
		struct gw_jwt j;

		CU_ASSERT_EQUAL(gw_jwt_decode(t, strlen(t), &j), GW_JWT_OK);
		CU_ASSERT_STRING_EQUAL(j.kid, v[i].kid);
		CU_ASSERT_STRING_EQUAL(j.iss, "https://issuer.test");
		CU_ASSERT_STRING_EQUAL(j.sub, "alice");
		CU_ASSERT_EQUAL(j.exp, 1700003600);
		CU_ASSERT_EQUAL(j.naud, 0);
		if (gw_jwt_verify(&j, ks) != GW_JWT_OK)
			fprintf(stderr, "%s did not verify\n", v[i].alg);
		CU_ASSERT_EQUAL(gw_jwt_verify(&j, ks), GW_JWT_OK);
		gw_jwt_free(&j);
		CU_ASSERT_EQUAL(decode_verify(t2, ks), GW_JWT_OK);
		free(t);
		free(t2);
	}
	gw_jwks_free(ks);
}

static void
test_wrong_key(void)
{
	static const struct {
		const char		*alg, *kid;
		int			 k;
		enum gw_jwt_status	 want;
	} v[] = {
		/* the kid names a key, another key signed: verification fails */
		{ "RS256", "rsa", K_RSA2, GW_JWT_VERIFICATION_FAIL },
		{ "PS256", "rsa", K_RSA2, GW_JWT_VERIFICATION_FAIL },
		{ "ES256", "p256", K_P256B, GW_JWT_VERIFICATION_FAIL },
		{ "EdDSA", "ed", K_ED2, GW_JWT_VERIFICATION_FAIL },
		{ "HS256", "hmac", K_HMAC2, GW_JWT_VERIFICATION_FAIL },
		{ "RS256", NULL, K_RSA2, GW_JWT_VERIFICATION_FAIL },
		/* ES384 against the P-256 key named by the kid: wrong curve for the alg */
		{ "ES384", "p256", K_P384, GW_JWT_VERIFICATION_FAIL },
		/* the kid names a key of another type */
		{ "PS256", "p256", K_RSA, GW_JWT_VERIFICATION_FAIL },
		/* no key has that kid */
		{ "RS256", "nope", K_RSA, GW_JWKS_KID_ALG_MISMATCH },
	};
	struct gw_jwks *ks;
	size_t i;

	setup_keys();
	ks = all_keys();
	for (i = 0; i < VG_ARRAY_SIZE(v); i++) {
		char *t = token(v[i].alg, v[i].kid, NULL, claims, v[i].k);

		CU_ASSERT_EQUAL(decode_verify(t, ks), v[i].want);
		free(t);
	}
	gw_jwks_free(ks);
}

/* a JWK's alg must equal the token's; HS256 over an RSA key's bytes gets nowhere */
static void
test_alg_match(void)
{
	struct vg_buf b = { 0 };
	struct gw_jwks *ks;
	char *t, *n;
	struct gw_jwt j;
	uint8_t sig[64];
	unsigned sl = 0;
	struct vg_buf in = { 0 };
	char *hb, *pb, *sb;

	setup_keys();
	buf_puts(&b, "{\"keys\":[");
	jwk_json(&b, K_RSA, "k1", "\"alg\":\"RS256\",\"use\":\"sig\",");
	buf_puts(&b, "]}");
	ks = jwks_of(b.s);
	CU_ASSERT_FATAL(ks != NULL);
	CU_ASSERT_EQUAL(ks->keys[0].alg, GW_JWT_RS256);

	t = token("RS256", "k1", NULL, claims, K_RSA);
	CU_ASSERT_EQUAL(decode_verify(t, ks), GW_JWT_OK);
	free(t);
	t = token("RS384", "k1", NULL, claims, K_RSA);
	CU_ASSERT_EQUAL(decode_verify(t, ks), GW_JWKS_KID_ALG_MISMATCH);
	free(t);
	t = token("PS256", NULL, NULL, claims, K_RSA);
	CU_ASSERT_EQUAL(decode_verify(t, ks), GW_JWKS_KID_ALG_MISMATCH);
	free(t);
	gw_jwks_free(ks);

	/* the RSA key without alg: the classic confusion, HMAC keyed with n */
	buf_free(&b);
	buf_puts(&b, "{\"keys\":[");
	jwk_json(&b, K_RSA, NULL, NULL);
	buf_puts(&b, "]}");
	ks = jwks_of(b.s);
	n = bn_b64(keys[K_RSA], OSSL_PKEY_PARAM_RSA_N, 0);
	hb = b64url_str("{\"alg\":\"HS256\"}");
	pb = b64url_str(claims);
	buf_printf(&in, "%s.%s", hb, pb);
	HMAC(EVP_sha256(), n, (int)strlen(n), (const uint8_t *)in.s, in.len, sig, &sl);
	sb = b64url(sig, sl);
	buf_printf(&in, ".%s", sb);
	CU_ASSERT_EQUAL(decode_verify(in.s, ks), GW_JWT_VERIFICATION_FAIL);
	CU_ASSERT_EQUAL(gw_jwt_decode(in.s, in.len, &j), GW_JWT_OK);
	gw_jwt_free(&j);
	free(n);
	free(hb);
	free(pb);
	free(sb);
	buf_free(&in);
	buf_free(&b);
	gw_jwks_free(ks);
}

/* header problems, in jwt_verify_lib's order */
static void
test_header(void)
{
	static const struct {
		const char		*hdr;
		enum gw_jwt_status	 want;
	} v[] = {
		{ "{\"alg\":\"none\"}", GW_JWT_HEADER_ALG_UNSUPPORTED },
		{ "{\"alg\":\"None\"}", GW_JWT_HEADER_ALG_UNSUPPORTED },
		{ "{\"alg\":\"RS1\"}", GW_JWT_HEADER_ALG_UNSUPPORTED },
		{ "{\"alg\":\"ES256K\"}", GW_JWT_HEADER_ALG_UNSUPPORTED },
		{ "{\"typ\":\"JWT\"}", GW_JWT_HEADER_BAD_ALG },
		{ "{\"alg\":256}", GW_JWT_HEADER_BAD_ALG },
		{ "{\"alg\":\"RS256\",\"kid\":7}", GW_JWT_HEADER_BAD_KID },
		{ "{\"alg\":\"RS256\",\"alg\":\"none\"}", GW_JWT_HEADER_BAD_JSON },
		{ "[\"alg\",\"RS256\"]", GW_JWT_HEADER_BAD_JSON },
		{ "{alg:RS256}", GW_JWT_HEADER_BAD_JSON },
	};
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(v); i++) {
		struct vg_buf b = { 0 };
		char *h = b64url_str(v[i].hdr), *p = b64url_str(claims);
		struct gw_jwt j;

		buf_printf(&b, "%s.%s.c2ln", h, p);
		CU_ASSERT_EQUAL(gw_jwt_decode(b.s, b.len, &j), v[i].want);
		gw_jwt_free(&j);
		free(h);
		free(p);
		buf_free(&b);
	}
}

static void
test_payload(void)
{
	static const struct {
		const char		*payload;
		enum gw_jwt_status	 want;
	} v[] = {
		{ "{\"iss\":1}", GW_JWT_PAYLOAD_ISS_NOT_STRING },
		{ "{\"sub\":[\"a\"]}", GW_JWT_PAYLOAD_SUB_NOT_STRING },
		{ "{\"iat\":\"1\"}", GW_JWT_PAYLOAD_IAT_NOT_INTEGER },
		{ "{\"nbf\":true}", GW_JWT_PAYLOAD_NBF_NOT_INTEGER },
		{ "{\"exp\":\"1700000000\"}", GW_JWT_PAYLOAD_EXP_NOT_INTEGER },
		{ "{\"exp\":-5}", GW_JWT_PAYLOAD_EXP_NOT_INTEGER },
		{ "{\"exp\":null}", GW_JWT_PAYLOAD_EXP_NOT_INTEGER },
		{ "{\"jti\":{}}", GW_JWT_PAYLOAD_JTI_NOT_STRING },
		{ "{\"aud\":[\"a\",1]}", GW_JWT_PAYLOAD_AUD_NOT_STRING },
		{ "{\"aud\":3}", GW_JWT_PAYLOAD_AUD_NOT_STRING },
		{ "[1,2]", GW_JWT_PAYLOAD_BAD_JSON },
		{ "{\"a\":", GW_JWT_PAYLOAD_BAD_JSON },
		{ "{}", GW_JWT_OK },
		{ "{\"exp\":1700000000.9,\"aud\":[]}", GW_JWT_OK },
	};
	size_t i;
	struct gw_jwt j;
	char *t;

	setup_keys();
	for (i = 0; i < VG_ARRAY_SIZE(v); i++) {
		t = token("HS256", NULL, NULL, v[i].payload, K_HMAC);
		CU_ASSERT_EQUAL(gw_jwt_decode(t, strlen(t), &j), v[i].want);
		gw_jwt_free(&j);
		free(t);
	}
	/* a fractional exp is cut as jwt_verify_lib's uint64 cast */
	t = token("HS256", NULL, NULL, "{\"exp\":1700000000.9,\"nbf\":1e3,\"iat\":12}", K_HMAC);
	CU_ASSERT_EQUAL(gw_jwt_decode(t, strlen(t), &j), GW_JWT_OK);
	CU_ASSERT_EQUAL(j.exp, 1700000000);
	CU_ASSERT_EQUAL(j.nbf, 1000);
	CU_ASSERT_EQUAL(j.iat, 12);
	CU_ASSERT_PTR_NULL(j.iss);
	CU_ASSERT_PTR_NULL(j.kid);
	gw_jwt_free(&j);
	free(t);
}

/* shape and base64url: Envoy's statuses for each section */
static void
test_format(void)
{
	static const struct {
		const char		*tok;
		enum gw_jwt_status	 want;
	} v[] = {
		{ "", GW_JWT_BAD_FORMAT },
		{ "abc", GW_JWT_BAD_FORMAT },
		{ "H.P", GW_JWT_BAD_FORMAT },
		{ "H.P.S.X", GW_JWT_BAD_FORMAT },
		{ "H..S", GW_JWT_BAD_FORMAT },
		{ ".P.S", GW_JWT_BAD_FORMAT },
		{ "H.P.", GW_JWT_BAD_FORMAT },
		{ "H.P.S.", GW_JWT_BAD_FORMAT },
		{ "..", GW_JWT_BAD_FORMAT },
		/* {"alg":"HS256"} is eyJhbGciOiJIUzI1NiJ9; {} is e30 */
		{ "eyJhbGciOiJIUzI1NiJ9=.e30.c2ln", GW_JWT_HEADER_BAD_BASE64 },
		{ "eyJhbGciOiJIUzI1NiJ9.e30=.c2ln", GW_JWT_PAYLOAD_BAD_BASE64 },
		{ "eyJhbGciOiJIUzI1NiJ9.e30.c2ln==", GW_JWT_SIG_BAD_BASE64 },
		{ "eyJhbGciOiJIUzI1NiJ9.e30.c2l+", GW_JWT_SIG_BAD_BASE64 },
		{ "eyJhbGciOiJIUzI1NiJ9.e30.c2l/", GW_JWT_SIG_BAD_BASE64 },
		{ "eyJhbGciOiJIUzI1NiJ9.e30.c2 n", GW_JWT_SIG_BAD_BASE64 },
		{ "eyJhbGciOiJIUzI1NiJ9.e3+.c2ln", GW_JWT_PAYLOAD_BAD_BASE64 },
		{ "eyJhbGciOiJIUzI1NiJ9.e30.c2lnA", GW_JWT_SIG_BAD_BASE64 },	/* 4n+1 characters */
		{ "eyJhbGciOiJIUzI1NiJ9.e31.c2ln", GW_JWT_PAYLOAD_BAD_BASE64 },	/* trailing bits set */
		{ "eyJhbGciOiJIUzI1NiJ9\n.e30.c2ln", GW_JWT_HEADER_BAD_BASE64 },
		{ "eyJhbGciOiJIUzI1NiJ9.e30.c2ln", GW_JWT_OK },
		{ "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbg", GW_JWT_OK },
	};
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(v); i++) {
		struct gw_jwt j;
		enum gw_jwt_status st = gw_jwt_decode(v[i].tok, strlen(v[i].tok), &j);

		if (st != v[i].want)
			fprintf(stderr, "%s: %d, want %d\n", v[i].tok, st, v[i].want);
		CU_ASSERT_EQUAL(st, v[i].want);
		if (st == GW_JWT_OK) {
			CU_ASSERT_EQUAL(j.alg, GW_JWT_HS256);
			CU_ASSERT_EQUAL(j.input_len, 24);
			CU_ASSERT_NSTRING_EQUAL(j.input, "eyJhbGciOiJIUzI1NiJ9.e30", 24);
			CU_ASSERT_EQUAL(j.payload_b64_off, 21);
		}
		gw_jwt_free(&j);
	}
}

static void
test_tamper(void)
{
	struct gw_jwks *ks;
	size_t i;
	static const struct {
		const char	*alg, *kid;
		int		 k;
	} v[] = {
		{ "RS256", "rsa", K_RSA }, { "ES256", "p256", K_P256 }, { "EdDSA", "ed", K_ED },
		{ "HS256", "hmac", K_HMAC },
	};

	setup_keys();
	ks = all_keys();
	for (i = 0; i < VG_ARRAY_SIZE(v); i++) {
		char *t = token(v[i].alg, v[i].kid, NULL, claims, v[i].k);
		char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
		char *p2 = b64url_str("{\"iss\":\"https://issuer.test\",\"sub\":\"admin\",\"exp\":1700003600}");
		struct vg_buf b = { 0 };

		/* another payload, the same signature */
		buf_append(&b, t, (size_t)(d1 + 1 - t));
		buf_puts(&b, p2);
		buf_puts(&b, d2);
		CU_ASSERT_EQUAL(decode_verify(b.s, ks), GW_JWT_VERIFICATION_FAIL);
		/* one signature bit flipped (second character keeps the trailing bits) */
		d2[1] = d2[1] == 'A' ? 'B' : 'A';
		CU_ASSERT_EQUAL(decode_verify(t, ks), GW_JWT_VERIFICATION_FAIL);
		/* the signature cut short */
		d2[5] = 0;
		CU_ASSERT_EQUAL(decode_verify(t, ks), strcmp(v[i].alg, "EdDSA") == 0 ?
		    GW_JWT_ED25519_SIG_LENGTH : GW_JWT_VERIFICATION_FAIL);
		buf_free(&b);
		free(p2);
		free(t);
	}
	gw_jwks_free(ks);
}

/* jwt_verify_lib: not yet valid when now + skew < nbf, expired when now > exp + skew */
static void
test_time(void)
{
	static const struct {
		int64_t			 exp, nbf, now;
		enum gw_jwt_status	 want;
	} v[] = {
		{ 0, 0, NOW, GW_JWT_OK },
		{ NOW, 0, NOW, GW_JWT_OK },
		{ NOW - 60, 0, NOW, GW_JWT_OK },
		{ NOW - 61, 0, NOW, GW_JWT_EXPIRED },
		{ 1, 0, NOW, GW_JWT_EXPIRED },
		{ 0, NOW + 60, NOW, GW_JWT_OK },
		{ 0, NOW + 61, NOW, GW_JWT_NOT_YET_VALID },
		{ NOW + 100, NOW + 61, NOW, GW_JWT_NOT_YET_VALID },
		{ INT64_MAX, 0, NOW, GW_JWT_OK },
		{ 0, INT64_MAX, NOW, GW_JWT_NOT_YET_VALID },
		{ 0, INT64_MAX, INT64_MAX, GW_JWT_OK },
	};
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(v); i++) {
		struct gw_jwt j = { .exp = v[i].exp, .nbf = v[i].nbf };

		CU_ASSERT_EQUAL(gw_jwt_check_time(&j, v[i].now, GW_JWT_CLOCK_SKEW), v[i].want);
	}
	{
		struct gw_jwt j = { .exp = NOW - 1 };

		CU_ASSERT_EQUAL(gw_jwt_check_time(&j, NOW, 0), GW_JWT_EXPIRED);
		j.exp = NOW;
		CU_ASSERT_EQUAL(gw_jwt_check_time(&j, NOW, 0), GW_JWT_OK);
	}
}

static void
test_audience(void)
{
	static const char *const conf[] = { "https://api.example.com", "svc" };
	static const struct {
		const char	*payload;
		int		 ok;
	} v[] = {
		{ "{\"aud\":\"https://api.example.com\"}", 1 },
		{ "{\"aud\":\"api.example.com\"}", 1 },
		{ "{\"aud\":\"http://api.example.com/\"}", 1 },
		{ "{\"aud\":\"https://svc/\"}", 1 },
		{ "{\"aud\":[\"other\",\"svc\"]}", 1 },
		{ "{\"aud\":[\"other\",\"svc2\"]}", 0 },
		{ "{\"aud\":\"https://api.example.com//\"}", 0 },
		{ "{\"aud\":\"HTTPS://api.example.com\"}", 0 },
		{ "{\"aud\":\"api.example.co\"}", 0 },
		{ "{\"aud\":[]}", 0 },
		{ "{}", 0 },
	};
	size_t i;

	setup_keys();
	for (i = 0; i < VG_ARRAY_SIZE(v); i++) {
		char *t = token("HS256", NULL, NULL, v[i].payload, K_HMAC);
		struct gw_jwt j;

		CU_ASSERT_EQUAL_FATAL(gw_jwt_decode(t, strlen(t), &j), GW_JWT_OK);
		CU_ASSERT_EQUAL(gw_jwt_audience_ok(&j, conf, 2), v[i].ok);
		CU_ASSERT_EQUAL(gw_jwt_audience_ok(&j, conf, 0), 1);
		gw_jwt_free(&j);
		free(t);
	}
}

static void
test_claims(void)
{
	static const char payload[] =
	    "{\"sub\":\"bob\",\"n\":42,\"neg\":-1,\"f\":1.5,\"whole\":7.0,\"t\":true,\"no\":false,"
	    "\"groups\":[\"a\",\"b\",\"c\"],\"mixed\":[\"a\",1],\"empty\":\"\",\"none\":null,"
	    "\"realm\":{\"roles\":[\"admin\"],\"deep\":{\"x\":\"y\"}},\"a.b\":\"flat\"}";
	static const struct {
		const char	*path, *want;	/* want NULL: not rendered */
	} v[] = {
		{ "sub", "bob" }, { "n", "42" }, { "neg", "-1.000000" }, { "f", "1.500000" },
		{ "whole", "7" }, { "t", "true" }, { "no", "false" }, { "groups", "a,b,c" },
		{ "mixed", NULL }, { "empty", NULL }, { "none", NULL }, { "realm", NULL },
		{ "realm.roles", "admin" }, { "realm.deep.x", "y" }, { "realm.deep.x.z", NULL },
		{ "realm.nope", NULL }, { "sub.x", NULL }, { "nope", NULL }, { "", NULL },
	};
	char out[64];
	size_t i;
	char *t;
	struct gw_jwt j;

	setup_keys();
	t = token("HS256", NULL, NULL, payload, K_HMAC);
	CU_ASSERT_EQUAL_FATAL(gw_jwt_decode(t, strlen(t), &j), GW_JWT_OK);
	for (i = 0; i < VG_ARRAY_SIZE(v); i++) {
		int n = gw_jwt_claim_str(gw_jwt_claim(&j, v[i].path), out, sizeof(out));

		if (v[i].want == NULL) {
			CU_ASSERT_EQUAL(n, -1);
		} else {
			CU_ASSERT_EQUAL(n, (int)strlen(v[i].want));
			CU_ASSERT_STRING_EQUAL(out, v[i].want);
		}
	}
	/* nested names only: a key holding a dot is not reached */
	CU_ASSERT_PTR_NULL(gw_jwt_claim(&j, "a.b"));
	CU_ASSERT(json_is_object(gw_jwt_claim(&j, "realm")));
	/* too small a buffer: not rendered rather than cut */
	CU_ASSERT_EQUAL(gw_jwt_claim_str(gw_jwt_claim(&j, "groups"), out, 5), -1);
	CU_ASSERT_EQUAL(gw_jwt_claim_str(gw_jwt_claim(&j, "groups"), out, 6), 5);
	CU_ASSERT_EQUAL(gw_jwt_claim_str(gw_jwt_claim(&j, "sub"), out, 3), -1);
	gw_jwt_free(&j);
	free(t);
}

static void
test_jwks(void)
{
	static const struct {
		const char	*json;
		size_t		 n, skipped;	/* n 0: parse fails */
	} v[] = {
		{ "{\"keys\":[]}", 0, 0 },
		{ "{\"keys\":{}}", 0, 0 },
		{ "{\"key\":[]}", 0, 0 },
		{ "{\"keys\":[", 0, 0 },
		{ "[]", 0, 0 },
		{ "", 0, 0 },
		{ "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}", 1, 0 },
		{ "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},{\"kty\":\"XYZ\"},{\"k\":\"a\"},7,"
		  "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"use\":\"enc\"},"
		  "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"alg\":\"RS256\"},"
		  "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"alg\":\"HS999\"},"
		  "{\"kty\":\"oct\",\"k\":\"\"},{\"kty\":\"oct\",\"k\":\"c2Vj*mV0\"},"
		  "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":3},"
		  "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
		  "{\"kty\":\"RSA\",\"e\":\"AQAB\"},"
		  "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQAB\",\"y\":\"AQAB\"},"
		  "{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AQAB\",\"y\":\"AQAB\"},"
		  "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AQAB\"},"
		  "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AQAB\"}]}", 1, 15 },
		{ "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}", 0, 1 },
		/* padding tolerated in JWKS members */
		{ "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0MQ==\"}]}", 1, 0 },
	};
	char err[200];
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(v); i++) {
		struct gw_jwks *ks = gw_jwks_parse(v[i].json, strlen(v[i].json), err, sizeof(err));

		if (v[i].n == 0) {
			CU_ASSERT_PTR_NULL(ks);
			CU_ASSERT(err[0] != 0);
		} else {
			CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
			CU_ASSERT_EQUAL(ks->n, v[i].n);
			CU_ASSERT_EQUAL(ks->skipped, v[i].skipped);
		}
		gw_jwks_free(ks);
	}
	CU_ASSERT_PTR_NULL(gw_jwks_parse("{\"keys\":[", 9, err, sizeof(err)));
	CU_ASSERT(strstr(err, "Jwks is an invalid JSON") != NULL);
}

/* real keys broken one field at a time are skipped, the good one kept */
static void
test_jwks_bad_fields(void)
{
	struct vg_buf b = { 0 }, good = { 0 };
	struct gw_jwks *ks;
	char *t, *bad;
	size_t i;
	static const struct {
		int		 k;
		const char	*field;
		char		 to;	/* 0: B and C swapped (another number) */
	} v[] = {
		{ K_RSA, "\"n\":\"", 0 }, { K_RSA, "\"e\":\"", '!' }, { K_P256, "\"x\":\"", 0 },
		{ K_P256, "\"y\":\"", 0 }, { K_ED, "\"x\":\"", '*' },
	};

	setup_keys();
	for (i = 0; i < VG_ARRAY_SIZE(v); i++) {
		char *p;

		buf_free(&good);
		jwk_json(&good, v[i].k, "bad", NULL);
		bad = xstrdup(good.s);
		p = strstr(bad, v[i].field) + strlen(v[i].field);
		/* one character changed: off the curve, or not base64url */
		*p = v[i].to ? v[i].to : *p == 'B' ? 'C' : 'B';
		buf_free(&b);
		buf_printf(&b, "{\"keys\":[%s,", bad);
		jwk_json(&b, K_HMAC, "good", NULL);
		buf_puts(&b, "]}");
		ks = jwks_of(b.s);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
		if (v[i].k == K_RSA && v[i].field[1] == 'n') {
			/* a changed n is still a valid modulus: kept, and signatures fail */
			CU_ASSERT_EQUAL(ks->n, 2);
			t = token("RS256", "bad", NULL, claims, K_RSA);
			CU_ASSERT_EQUAL(decode_verify(t, ks), GW_JWT_VERIFICATION_FAIL);
			free(t);
		} else {
			CU_ASSERT_EQUAL(ks->n, 1);
			CU_ASSERT_EQUAL(ks->skipped, 1);
			CU_ASSERT_STRING_EQUAL(ks->keys[0].kid, "good");
		}
		gw_jwks_free(ks);
		free(bad);
	}
	/* an EC key's crv must agree with its alg */
	buf_free(&b);
	buf_puts(&b, "{\"keys\":[");
	jwk_json(&b, K_P256, "e1", "\"alg\":\"ES384\",");
	buf_puts(&b, ",");
	jwk_json(&b, K_P256, "e2", "\"alg\":\"ES256\",");
	buf_puts(&b, "]}");
	ks = jwks_of(b.s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	CU_ASSERT_EQUAL(ks->n, 1);
	CU_ASSERT_STRING_EQUAL(ks->keys[0].kid, "e2");
	/* the same text is the same identity, another text another */
	{
		struct gw_jwks *k2 = jwks_of(b.s);

		CU_ASSERT_EQUAL(ks->id, k2->id);
		gw_jwks_free(k2);
		buf_puts(&b, " ");
		k2 = jwks_of(b.s);
		CU_ASSERT_NOT_EQUAL(ks->id, k2->id);
		gw_jwks_free(k2);
	}
	gw_jwks_free(ks);
	buf_free(&b);
	buf_free(&good);
}

/* ES: R || S of the wrong size fails, not crashes */
static void
test_es_lengths(void)
{
	struct gw_jwks *ks;
	struct gw_jwt j;
	char *t;

	setup_keys();
	ks = all_keys();
	t = token("ES256", "p256", NULL, claims, K_P256);
	CU_ASSERT_EQUAL_FATAL(gw_jwt_decode(t, strlen(t), &j), GW_JWT_OK);
	CU_ASSERT_EQUAL(j.sig_len, 64);
	CU_ASSERT_EQUAL(gw_jwt_verify(&j, ks), GW_JWT_OK);
	j.sig_len = 63;
	CU_ASSERT_EQUAL(gw_jwt_verify(&j, ks), GW_JWT_VERIFICATION_FAIL);
	j.sig_len = 64;
	memset(j.sig, 0, 64);
	CU_ASSERT_EQUAL(gw_jwt_verify(&j, ks), GW_JWT_VERIFICATION_FAIL);
	gw_jwt_free(&j);
	free(t);
	gw_jwks_free(ks);
}

static struct gw_jwt
decoded(const char *t)
{
	struct gw_jwt j;

	CU_ASSERT_EQUAL(gw_jwt_decode(t, strlen(t), &j), GW_JWT_OK);
	return j;
}

static void
test_cache(void)
{
	struct gw_jwt_cache *c = gw_jwt_cache_new(4);
	char *tok[10];
	const struct gw_jwt *g;
	struct gw_jwt j;
	size_t i;

	setup_keys();
	for (i = 0; i < 10; i++) {
		char p[64];

		snprintf(p, sizeof(p), "{\"sub\":\"u%zu\",\"exp\":%d}", i, NOW + 100 + (int)i);
		tok[i] = token("HS256", NULL, NULL, p, K_HMAC);
	}
	CU_ASSERT_PTR_NULL(gw_jwt_cache_get(c, tok[0], strlen(tok[0]), 1, NOW));
	j = decoded(tok[0]);
	gw_jwt_cache_put(c, tok[0], strlen(tok[0]), 1, &j, NOW);
	CU_ASSERT_PTR_NULL(j.payload);	/* taken */
	g = gw_jwt_cache_get(c, tok[0], strlen(tok[0]), 1, NOW);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->sub, "u0");
	/* another JWKS, a prefix of the token: misses */
	CU_ASSERT_PTR_NULL(gw_jwt_cache_get(c, tok[0], strlen(tok[0]), 2, NOW));
	CU_ASSERT_PTR_NULL(gw_jwt_cache_get(c, tok[0], strlen(tok[0]) - 1, 1, NOW));
	/* dies at exp */
	CU_ASSERT_PTR_NOT_NULL(gw_jwt_cache_get(c, tok[0], strlen(tok[0]), 1, NOW + 99));
	CU_ASSERT_PTR_NULL(gw_jwt_cache_get(c, tok[0], strlen(tok[0]), 1, NOW + 100));
	CU_ASSERT_EQUAL(gw_jwt_cache_count(c), 0);
	/* an expired token is not kept */
	j = decoded(tok[1]);
	gw_jwt_cache_put(c, tok[1], strlen(tok[1]), 1, &j, NOW + 500);
	CU_ASSERT_EQUAL(gw_jwt_cache_count(c), 0);
	/* bounded; the entry used since the hand passed survives */
	for (i = 0; i < 10; i++) {
		j = decoded(tok[i]);
		gw_jwt_cache_put(c, tok[i], strlen(tok[i]), 1, &j, NOW);
		CU_ASSERT(gw_jwt_cache_count(c) <= 4);
		CU_ASSERT_PTR_NOT_NULL(gw_jwt_cache_get(c, tok[0], strlen(tok[0]), 1, NOW));
	}
	CU_ASSERT_EQUAL(gw_jwt_cache_count(c), 4);
	CU_ASSERT_PTR_NOT_NULL(gw_jwt_cache_get(c, tok[9], strlen(tok[9]), 1, NOW));
	CU_ASSERT_PTR_NULL(gw_jwt_cache_get(c, tok[1], strlen(tok[1]), 1, NOW));
	/* a second put of the same key replaces */
	j = decoded(tok[9]);
	gw_jwt_cache_put(c, tok[9], strlen(tok[9]), 1, &j, NOW);
	CU_ASSERT_EQUAL(gw_jwt_cache_count(c), 4);
	/* still bounded when the others have expired */
	{
		char *t = token("HS256", NULL, NULL, "{\"sub\":\"x\",\"exp\":1800000000}", K_HMAC);

		j = decoded(t);
		gw_jwt_cache_put(c, t, strlen(t), 3, &j, NOW + 108);
		CU_ASSERT_EQUAL(gw_jwt_cache_count(c), 4);
		CU_ASSERT_PTR_NOT_NULL(gw_jwt_cache_get(c, t, strlen(t), 3, NOW + 108));
		CU_ASSERT_PTR_NULL(gw_jwt_cache_get(c, tok[0], strlen(tok[0]), 1, NOW + 108));
		free(t);
	}
	/* a token without exp stays until pushed out */
	{
		struct gw_jwt_cache *c1 = gw_jwt_cache_new(0);
		char *t = token("HS256", NULL, NULL, "{\"sub\":\"x\"}", K_HMAC);

		j = decoded(t);
		gw_jwt_cache_put(c1, t, strlen(t), 1, &j, NOW);
		CU_ASSERT_PTR_NOT_NULL(gw_jwt_cache_get(c1, t, strlen(t), 1, INT64_MAX));
		gw_jwt_cache_free(c1);
		free(t);
	}
	for (i = 0; i < 10; i++)
		free(tok[i]);
	gw_jwt_cache_free(c);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "status strings", test_status_str },
		{ "valid tokens, every alg", test_valid },
		{ "wrong key, unknown kid", test_wrong_key },
		{ "JWK alg match", test_alg_match },
		{ "header checks", test_header },
		{ "payload claims", test_payload },
		{ "format and base64url", test_format },
		{ "tampered tokens", test_tamper },
		{ "exp and nbf with skew", test_time },
		{ "audiences", test_audience },
		{ "claims and rendering", test_claims },
		{ "JWKS parsing", test_jwks },
		{ "JWKS bad fields", test_jwks_bad_fields },
		{ "ES signature lengths", test_es_lengths },
		{ "verified-token cache", test_cache },
		{ NULL, NULL },
	};
	int rc = cu_run("gw_jwt", tests);
	int i;

	for (i = 0; i < K_MAX; i++)
		EVP_PKEY_free(keys[i]);
	return rc;
}
