/*
 * JWT validation for RequestAuthentication, as Envoy's jwt_authn with
 * google/jwt_verify_lib: JWKS parsing (RFC 7517, 7518 6, 8037 2), token
 * decoding (RFC 7515 compact serialization, RFC 7519 claims), signature
 * checks (RFC 7518 3, 8037 3.1), time and audience checks, claim lookup
 * and rendering, and a per-worker cache of verified tokens. Pure: no I/O,
 * no clock (callers pass the time), no logging.
 *
 * A request's path through it: gw_jwt_cache_get() on the token; on a miss
 * gw_jwt_decode(), gw_jwt_verify() against the provider's JWKS, then
 * gw_jwt_cache_put(); either way the issuer (caller), gw_jwt_check_time()
 * and gw_jwt_audience_ok() (Envoy checks time and audiences on cache hits
 * too).
 */
#ifndef VIPGATE_GW_JWT_H
#define VIPGATE_GW_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gw-jwt-t.h"

/* Envoy's default clock_skew_seconds (jwt_verify_lib kClockSkewInSecond). */
#define GW_JWT_CLOCK_SKEW	60

/**
 * gw_jwt_status_str - jwt_verify_lib's getStatusString() for a status
 * @st: the status
 *
 * The exact bytes Envoy sends as the body of its 401/403 reply.
 */
const char *gw_jwt_status_str(enum gw_jwt_status st);

/**
 * gw_jwks_parse - parse an RFC 7517 JWK Set
 * @json: the document, len bytes (need not be NUL-terminated)
 * @err: on failure, why (errlen bytes, may be NULL)
 *
 * Keys are RSA (n, e), EC (crv P-256/P-384/P-521, x, y; the point must be
 * on the curve), OKP (crv Ed25519, x) and oct (k). A key of another kty, one
 * with a "use" other than "sig" (RFC 7517 4.2), or one whose fields do not
 * parse or whose alg does not suit its kty is skipped, as
 * Envoy does since it stopped failing the whole set for one bad key.
 * Returns NULL (and err) on invalid JSON, no "keys" array, or no usable key.
 * The set is read-only once parsed: workers may share it.
 */
struct gw_jwks *gw_jwks_parse(const char *json, size_t len, char *err, size_t errlen);
void gw_jwks_free(struct gw_jwks *);

/**
 * gw_jwt_decode - decode a compact-serialized JWS
 * @tok: the token, len bytes
 * @out: filled on GW_JWT_OK; free with gw_jwt_free() whatever the result
 *
 * Strict: exactly two dots, three non-empty sections of unpadded base64url
 * (RFC 7515 2; padding, the standard alphabet and non-zero trailing bits
 * are refused), a header object with a supported string alg ("none" is
 * not) and an optional string kid, a payload object whose registered
 * claims have the types jwt_verify_lib requires.
 */
enum gw_jwt_status gw_jwt_decode(const char *tok, size_t len, struct gw_jwt *out);
void gw_jwt_free(struct gw_jwt *);

/**
 * gw_jwt_verify - check a decoded token's signature against a key set
 *
 * jwt_verify_lib verifyJwtWithoutTimeChecking(): a key is a candidate when
 * its kid equals the token's (or either has none) and its alg equals the
 * token's (or it has none); the first candidate whose type fits the alg
 * and whose signature checks wins. No candidate: GW_JWKS_KID_ALG_MISMATCH;
 * candidates but no valid signature: GW_JWT_VERIFICATION_FAIL; an EdDSA
 * signature that is not 64 bytes: GW_JWT_ED25519_SIG_LENGTH.
 */
enum gw_jwt_status gw_jwt_verify(const struct gw_jwt *, const struct gw_jwks *);

/**
 * gw_jwt_check_time - exp and nbf against the caller's clock
 * @now_s: Unix seconds
 * @skew_s: tolerated clock skew (GW_JWT_CLOCK_SKEW)
 *
 * jwt_verify_lib verifyTimeConstraint(): not yet valid when
 * now + skew < nbf, expired when exp is set and now > exp + skew.
 */
enum gw_jwt_status gw_jwt_check_time(const struct gw_jwt *, int64_t now_s, int64_t skew_s);

/**
 * gw_jwt_audience_ok - the token has one of the allowed audiences
 * @audiences: n allowed values; n == 0 allows any token
 *
 * jwt_verify_lib CheckAudience: an "http://" or "https://" prefix and a
 * trailing "/" are ignored on both sides. A token without aud fails when
 * audiences are configured.
 */
int gw_jwt_audience_ok(const struct gw_jwt *, const char *const *audiences, size_t n);

/**
 * gw_jwt_claim - a claim by name, "." separating nested names
 * @path: "sub", "realm.roles", ... (Istio's request.auth.claims[a][b] and
 *        outputClaimToHeaders name nested claims this way)
 *
 * Returns the value inside the token's payload (borrowed), NULL if absent.
 */
const json_t *gw_jwt_claim(const struct gw_jwt *, const char *path);

/**
 * gw_jwt_claim_str - a claim value as claim_to_headers puts it in a header
 * @v: a claim value (may be NULL)
 * @out: the text, NUL-terminated, outlen bytes
 *
 * A string as is; true/false; a non-negative whole number below 2^64 as an
 * integer, another number as C++ std::to_string(double) prints it ("%f");
 * an array of strings joined with ",". Returns the length written, or -1
 * for what is not rendered (objects, null, other arrays, empty results) and
 * for text that does not fit.
 */
int gw_jwt_claim_str(const json_t *v, char *out, size_t outlen);

/**
 * gw_jwt_cache_new - a verified-token cache for one worker (no locks)
 * @cap: entries kept at most (0: GW_JWT_CACHE_DEFAULT)
 *
 * Keyed by the token's bytes and the JWKS identity (gw_jwks.id), so a key
 * rotation misses. Entries die at the token's exp; when full, the clock
 * algorithm picks the victim.
 */
#define GW_JWT_CACHE_DEFAULT	256
struct gw_jwt_cache *gw_jwt_cache_new(size_t cap);
void gw_jwt_cache_free(struct gw_jwt_cache *);

/**
 * gw_jwt_cache_get - a token verified before against the same JWKS
 * @now_s: Unix seconds; an entry whose exp <= now_s is dropped
 *
 * Returns the decoded token (owned by the cache, valid until the next
 * gw_jwt_cache_put() or gw_jwt_cache_free()), or NULL.
 */
const struct gw_jwt *gw_jwt_cache_get(struct gw_jwt_cache *, const char *tok, size_t len,
    uint64_t jwks_id, int64_t now_s);

/**
 * gw_jwt_cache_put - remember a verified token
 * @jwt: decoded and verified; the cache takes it (its fields, not the
 *       struct: *jwt is zeroed)
 *
 * A token already expired at now_s is freed and not kept.
 */
void gw_jwt_cache_put(struct gw_jwt_cache *, const char *tok, size_t len, uint64_t jwks_id,
    struct gw_jwt *jwt, int64_t now_s);

/* Entries held (tests). */
size_t gw_jwt_cache_count(const struct gw_jwt_cache *);

#endif
