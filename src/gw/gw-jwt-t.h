/*
 * JWT validation types (gw_jwt.c): the statuses of google/jwt_verify_lib
 * that Envoy's jwt_authn answers with, a decoded token, a parsed JWKS and
 * the per-worker cache of verified tokens.
 */
#ifndef VIPGATE_GW_JWT_T_H
#define VIPGATE_GW_JWT_T_H

#include <stddef.h>
#include <stdint.h>

struct json_t;		/* jansson's, kept opaque here */
struct evp_pkey_st;	/* OpenSSL's EVP_PKEY */

/*
 * jwt_verify_lib's Status values that a gateway can meet (src/status.cc,
 * current strings: gw_jwt_status_str). Envoy answers 403 for
 * GW_JWT_AUDIENCE_NOT_ALLOWED and 401 for every other failure, the string
 * as body.
 */
enum gw_jwt_status {
	GW_JWT_OK,
	GW_JWT_MISSING,
	GW_JWT_NOT_YET_VALID,
	GW_JWT_EXPIRED,
	GW_JWT_BAD_FORMAT,		/* not three base64url sections and two dots */
	GW_JWT_HEADER_BAD_BASE64,
	GW_JWT_HEADER_BAD_JSON,
	GW_JWT_HEADER_BAD_ALG,		/* alg missing or not a string */
	GW_JWT_HEADER_ALG_UNSUPPORTED,	/* "none" and anything not in RFC 7518 3.1 we implement */
	GW_JWT_HEADER_BAD_KID,
	GW_JWT_PAYLOAD_BAD_BASE64,
	GW_JWT_PAYLOAD_BAD_JSON,	/* not JSON, or not an object */
	GW_JWT_PAYLOAD_ISS_NOT_STRING,
	GW_JWT_PAYLOAD_SUB_NOT_STRING,
	GW_JWT_PAYLOAD_IAT_NOT_INTEGER,
	GW_JWT_PAYLOAD_NBF_NOT_INTEGER,
	GW_JWT_PAYLOAD_EXP_NOT_INTEGER,
	GW_JWT_PAYLOAD_JTI_NOT_STRING,
	GW_JWT_PAYLOAD_AUD_NOT_STRING,	/* neither a string nor a list of strings */
	GW_JWT_SIG_BAD_BASE64,
	GW_JWT_ED25519_SIG_LENGTH,
	GW_JWT_UNKNOWN_ISSUER,
	GW_JWT_AUDIENCE_NOT_ALLOWED,
	GW_JWT_VERIFICATION_FAIL,
	GW_JWT_MULTIPLE_TOKENS,
	GW_JWKS_PARSE_ERROR,
	GW_JWKS_NO_VALID_KEYS,
	GW_JWKS_KID_ALG_MISMATCH,
	GW_JWKS_FETCH_FAIL,
	GW_JWT_STATUS_MAX
};

/* The JWS algorithms of RFC 7518 3.1 and RFC 8037 3.1 that Envoy implements. */
enum gw_jwt_alg {
	GW_JWT_ALG_UNKNOWN,
	GW_JWT_RS256, GW_JWT_RS384, GW_JWT_RS512,
	GW_JWT_PS256, GW_JWT_PS384, GW_JWT_PS512,
	GW_JWT_ES256, GW_JWT_ES384, GW_JWT_ES512,
	GW_JWT_HS256, GW_JWT_HS384, GW_JWT_HS512,
	GW_JWT_EDDSA,
};

/* RFC 7517 4.1 key types we build keys of. */
enum gw_jwk_kty {
	GW_JWK_RSA,
	GW_JWK_EC,
	GW_JWK_OKP,	/* RFC 8037: Ed25519 only, as jwt_verify_lib */
	GW_JWK_OCT,
};

/*
 * A token in the JWS compact serialization (RFC 7515 7.1), decoded but not
 * verified. Claims that jwt_verify_lib reads are pulled out; the rest stay
 * in payload. Absent iss/sub are NULL, absent exp/nbf/iat 0 (as Envoy,
 * which also takes exp 0 as "no exp").
 */
struct gw_jwt {
	enum gw_jwt_alg	 alg;
	char		*kid;		/* NULL when absent */
	struct json_t	*header;	/* the JOSE header object */
	struct json_t	*payload;	/* the claims object */
	const char	*iss, *sub;	/* in payload */
	const char	**aud;		/* naud strings in payload; a string aud is one */
	size_t		 naud;
	int64_t		 exp, nbf, iat;
	char		*input;		/* the JWS signing input: header "." payload, base64url */
	size_t		 input_len;
	size_t		 payload_b64_off; /* where the base64url payload starts in input */
	uint8_t		*sig;
	size_t		 sig_len;
};

/* One key of a JWKS, turned into an OpenSSL key once at parse. */
struct gw_jwk {
	enum gw_jwk_kty		 kty;
	enum gw_jwt_alg		 alg;	/* GW_JWT_ALG_UNKNOWN: the JWK has no alg */
	char			*kid;	/* NULL when absent */
	struct evp_pkey_st	*pkey;	/* RSA, EC and OKP */
	uint8_t			*secret;	/* oct */
	size_t			 secret_len;
	int			 ec_bits;	/* EC: 256, 384 or 521 */
};

/* An RFC 7517 5 key set: the keys we could use, in document order. */
struct gw_jwks {
	struct gw_jwk	*keys;
	size_t		 n;
	size_t		 skipped;	/* keys left out: unknown kty, "use": "enc", bad fields */
	uint64_t	 id;		/* content hash: the cache's JWKS identity */
};

struct gw_jwt_cache;	/* gw_jwt.c: one per worker, never shared */

#endif
