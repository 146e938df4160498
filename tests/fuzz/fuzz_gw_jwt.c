/*
 * libFuzzer: bytes -> a token (gw_jwt_decode) verified against a fixed JWKS
 * of one key of each type (gw_jwt_verify), then the time, audience and
 * claim checks and the verified-token cache on what decoded. Input starting
 * with "{" is a JWKS instead (gw_jwks_parse), against which the fixed tokens
 * (the seeds in corpus/gw_jwt, signed by the fixed JWKS's keys) are verified.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/gw/gw-jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char jwks_json[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rsa\",\"n\":\"y3Lhf1Ws1g178k0Vvq79B_sf1"
    "ddFl2UaPBaWEo3YDPVOEwXR-nc557epiCeUMC6TBmrGTgsIDaTuYfMwIty2yx7hg"
    "sBzXrdUIATlpUMBQehClu60o7wrLZfGq_lfNQAE3PwI2q5_L9zgdhXR-UNTaLC9d"
    "wXMkh3L2hSuVSQk_q-IufUV2V7dnM46x5hixXFhHpE-xy7gNd-6IB8kxfJIgeTL5"
    "PRhv9UefR3RmRzkxFaim4QNMXcj5VUALkZCXC0dCkZhnMJbDz_J4PQcJan8FBucH"
    "VQn59hju0P8D-pI4C7zT3-KR9XVh5grIYj7N9q1z7SCjm67L6IoQXrIzBtJ1Q\",\""
    "e\":\"AQAB\"},{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\"P-256\",\"x\":\"ztSJTuR-HET"
    "WsY-lWIxw_tB0Q_tdTay3MQ-4ef6hmtA\",\"y\":\"Ot81olmZ9yfNsRvz79NpT6kYu"
    "0k_uGHWB0FrqH0Vowk\"},{\"kty\":\"OKP\",\"kid\":\"ed\",\"crv\":\"Ed25519\",\"x\""
    ":\"3XsX1Jgdc9M4ddVc-9i8Cnsms_VkHLu5tY5-6C08tZQ\"},{\"kty\":\"oct\",\"ki"
    "d\":\"hs\",\"alg\":\"HS256\",\"k\":\"HjkqWn9ZdUVoZI_QEdK-TsmPY-Z9kBuoZ-KJe"
    "HGt3k0\"}]}";

static const char *const tokens[] = {
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYSIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ"
    "odHRwczovL2lzc3Vlci50ZXN0Iiwic3ViIjoiYWxpY2UiLCJhdWQiOlsiYXBpIiw"
    "iaHR0cHM6Ly9zdmMvIl0sImV4cCI6MTkwMDAwMDAwMCwibmJmIjoxNjAwMDAwMDA"
    "wLCJyZWFsbSI6eyJyb2xlcyI6WyJhIiwiYiJdfSwibiI6M30.FKq4HBdXlaakFkJ"
    "jTwfWp_7FTT7pCR-8DlNt5tL-2EyuVgD9eS2b-H7_MFjOyFwNlA6HAwxXJXFG3xK"
    "5s8c5QVqhifYv1fQ7t6SsPm_cONKwGjM4j1eJFc0C2ZW_Iy9hkHjHAzR28TGrZ6V"
    "-gcoIRYxbR-kyg7RT1DDPVuBepwA5aZhNICGsBPTC5B151mKQH4M3-uHrBE4Oqp2"
    "ZuvCq8oqFeWTPv2Tpn5A_cCQZd5FpEfFBoXpOVsDIgbIFLjkt3D9Fj7bvhzt34NH"
    "Rvg8l0l0yIAfRG7ZN4zQsP3oth2Zb_AF4t7lK735wFMQR1Xqtf3Fl4OwVPi1XJRW"
    "o_5lofw",
    "eyJhbGciOiJQUzI1NiIsImtpZCI6InJzYSIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ"
    "odHRwczovL2lzc3Vlci50ZXN0Iiwic3ViIjoiYWxpY2UiLCJhdWQiOlsiYXBpIiw"
    "iaHR0cHM6Ly9zdmMvIl0sImV4cCI6MTkwMDAwMDAwMCwibmJmIjoxNjAwMDAwMDA"
    "wLCJyZWFsbSI6eyJyb2xlcyI6WyJhIiwiYiJdfSwibiI6M30.Xoy71UgN16jpgTg"
    "gXPX9xvkIpy0uEm37cGW66WUHe6haDtq8obso7ZRUIdZp_orBFEotHa60LAc7ckR"
    "f__v6iZGy8EwMVTsu3fQfedVgUpWb9hvqRvikDv5Z6DX4Pn6T7Mc2JX-E8yuuBpb"
    "W0DGtkGkOMz2c0B4pBZOAqSFFPXKC7ecLJpRJ5UzgDIIXMVaQDheReormJfcY1VN"
    "G-f9K47rg-jnol3mXuSQT6F9b2fRb12hMzrF1-8Gk1S1ym9_P45n-sD60-e9cSiX"
    "n_ovARo_pbI31du-Iwo2peXl6rTzyBRZ_XwyQGAequoj-ZpsDwEVjYH5Zp5yChxl"
    "Zhv2MOQ",
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjIiwidHlwIjoiSldUIn0.eyJpc3MiOiJo"
    "dHRwczovL2lzc3Vlci50ZXN0Iiwic3ViIjoiYWxpY2UiLCJhdWQiOlsiYXBpIiwi"
    "aHR0cHM6Ly9zdmMvIl0sImV4cCI6MTkwMDAwMDAwMCwibmJmIjoxNjAwMDAwMDAw"
    "LCJyZWFsbSI6eyJyb2xlcyI6WyJhIiwiYiJdfSwibiI6M30.k7Sdwp9QfQQs2uPT"
    "_hcinyFgHMNnH32ObcPCvs9mqEWqgVtOJ744ugWXvMywRhf5oxFnQxX5nZExVY_D"
    "eDGK7g",
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkIiwidHlwIjoiSldUIn0.eyJpc3MiOiJo"
    "dHRwczovL2lzc3Vlci50ZXN0Iiwic3ViIjoiYWxpY2UiLCJhdWQiOlsiYXBpIiwi"
    "aHR0cHM6Ly9zdmMvIl0sImV4cCI6MTkwMDAwMDAwMCwibmJmIjoxNjAwMDAwMDAw"
    "LCJyZWFsbSI6eyJyb2xlcyI6WyJhIiwiYiJdfSwibiI6M30.tAgnYITB8TBsWZRZ"
    "XNl91qJ9Bgs9tboHsmNj-VDDxKoHjFeSlHKn-WYDNrDNjg5pG9rzsB5ydTv-0WBi"
    "BpqwBw",
    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzIiwidHlwIjoiSldUIn0.eyJpc3MiOiJo"
    "dHRwczovL2lzc3Vlci50ZXN0Iiwic3ViIjoiYWxpY2UiLCJhdWQiOlsiYXBpIiwi"
    "aHR0cHM6Ly9zdmMvIl0sImV4cCI6MTkwMDAwMDAwMCwibmJmIjoxNjAwMDAwMDAw"
    "LCJyZWFsbSI6eyJyb2xlcyI6WyJhIiwiYiJdfSwibiI6M30.KHjou8cOKlnKATyk"
    "ljfgi153wujCuiyYksC6fYtifes"
};

static struct gw_jwks *jwks;
static struct gw_jwt_cache *cache;

static void
setup(void)
{
	size_t i;

	jwks = gw_jwks_parse(jwks_json, sizeof(jwks_json) - 1, NULL, 0);
	cache = gw_jwt_cache_new(8);
	if (jwks == NULL || jwks->n != 4)
		abort();
	/* the seeds verify: the fixed keys are the ones that signed them */
	for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		struct gw_jwt j;

		if (gw_jwt_decode(tokens[i], strlen(tokens[i]), &j) != GW_JWT_OK ||
		    gw_jwt_verify(&j, jwks) != GW_JWT_OK)
			abort();
		gw_jwt_free(&j);
	}
}

static void
one_token(const char *tok, size_t len, int64_t now)
{
	static const char *const auds[] = { "api", "https://other/" };
	static const char *const paths[] = { "sub", "aud", "realm.roles", "n", "a.b.c", "" };
	enum gw_jwt_status st;
	struct gw_jwt j;
	char out[128];
	int64_t exp;
	size_t i;

	st = gw_jwt_decode(tok, len, &j);
	if (gw_jwt_status_str(st)[0] == 0)
		abort();
	if (st != GW_JWT_OK) {
		gw_jwt_free(&j);
		return;
	}
	/* the signing input is the token up to the second dot */
	if (j.input_len >= len || memcmp(j.input, tok, j.input_len) != 0 || tok[j.input_len] != '.')
		abort();
	st = gw_jwt_verify(&j, jwks);
	if (st != GW_JWT_OK && st != GW_JWT_VERIFICATION_FAIL && st != GW_JWKS_KID_ALG_MISMATCH &&
	    st != GW_JWT_ED25519_SIG_LENGTH)
		abort();
	(void)gw_jwt_check_time(&j, now, GW_JWT_CLOCK_SKEW);
	(void)gw_jwt_audience_ok(&j, auds, 2);
	if (!gw_jwt_audience_ok(&j, auds, 0))
		abort();
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int n = gw_jwt_claim_str(gw_jwt_claim(&j, paths[i]), out, sizeof(out));

		if (n >= (int)sizeof(out) || (n >= 0 && strlen(out) != (size_t)n))
			abort();
	}
	/* whatever decoded goes through the cache; it must find it again unless expired */
	exp = j.exp;
	gw_jwt_cache_put(cache, tok, len, jwks->id, &j, now);
	if (j.payload != NULL)
		abort();
	if ((gw_jwt_cache_get(cache, tok, len, jwks->id, now) != NULL) != !(exp > 0 && exp <= now))
		abort();
	if (gw_jwt_cache_count(cache) > 8)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	size_t i;

	if (jwks == NULL)
		setup();
	if (len > 0 && data[0] == '{') {
		char err[256];
		struct gw_jwks *ks = gw_jwks_parse((const char *)data, len, err, sizeof(err));

		if (ks == NULL) {
			if (err[0] == 0)
				abort();
			return 0;
		}
		if (ks->n == 0)
			abort();
		for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
			struct gw_jwt j;

			if (gw_jwt_decode(tokens[i], strlen(tokens[i]), &j) == GW_JWT_OK)
				(void)gw_jwt_verify(&j, ks);
			gw_jwt_free(&j);
		}
		gw_jwks_free(ks);
		return 0;
	}
	one_token((const char *)data, len, 1700000000 + (len > 0 ? (int64_t)data[len - 1] << 20 : 0));
	return 0;
}
