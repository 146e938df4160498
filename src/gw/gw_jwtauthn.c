/*
 * RequestAuthentication at request time, as Envoy's jwt_authn filter runs
 * what istiod gives it: every provider (a jwtRules entry) looks for its
 * token where it was told to (Authorization: Bearer and access_token by
 * default); no token anywhere passes (an AuthorizationPolicy may then
 * require a principal); a token that no provider verifies gets 401 with
 * jwt_verify_lib's reason and WWW-Authenticate, or 403 when only its
 * audience is not allowed. A verified token gives the policies their
 * request.auth attributes and the upstream its output headers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "gw-hdr.h"
#include "gw-jwt.h"
#include "gw-jwtauthn.h"
#include "gw-local.h"
#include "gw-snap-t.h"
#include "gw-stream-t.h"
#include "gw-worker-t.h"
#include "vipgate/gw-authz-t.h"
#include "vipgate/gw-t.h"
#include "vipgate/log.h"

/* A token found for a provider, and where. */
struct found {
	const char	*tok;
	size_t		 len;
	int		 hdr;		/* index of the field it came from; -1: not a field */
};

/* The first token in a provider's locations (Envoy's extractor), if any. */
static int
extract(const struct gw_jwt_provider *p, const struct gw_stream *st, struct found *f)
{
	const struct hhead *hh = &st->hh;
	size_t i, k;

	for (k = 0; k < p->nlocs; k++) {
		const struct gw_jwt_loc *l = &p->locs[k];

		switch (l->kind) {
		case GW_JWT_LOC_HEADER:
			for (i = 0; i < hh->n; i++) {
				size_t pl = strlen(l->prefix), vl = hh->h[i].vl;
				const char *v = HV(hh, i);

				if (!hname_is(hh, i, l->name))
					continue;
				/* the prefix is matched without regard to case, as Envoy's "Bearer " */
				if (vl <= pl || strncasecmp(v, l->prefix, pl) != 0)
					continue;
				f->tok = v + pl;
				f->len = vl - pl;
				while (f->len && f->tok[0] == ' ') {
					f->tok++;
					f->len--;
				}
				f->hdr = (int)i;
				return f->len > 0;
			}
			break;
		case GW_JWT_LOC_PARAM:
			if ((f->tok = gw_query_param(hh->b.s, hh->url_l, l->name, &f->len)) != NULL &&
			    f->len) {
				f->hdr = -1;
				return 1;
			}
			break;
		case GW_JWT_LOC_COOKIE:
			if ((f->tok = gw_hdr_cookie(hh, l->name, &f->len)) != NULL && f->len) {
				f->hdr = -1;
				return 1;
			}
			break;
		}
	}
	return 0;
}

/* A field to add upstream ("name\0value\0" in st->xhdrs). */
static void
xhdr_add(struct gw_stream *st, const char *name, const char *v, size_t vl)
{
	buf_append(&st->xhdrs, name, strlen(name) + 1);
	buf_append(&st->xhdrs, v, vl);
	buf_append(&st->xhdrs, "", 1);
}

/* base64url of the payload as it came (outputPayloadToHeader: Envoy forwards it so). */
static void
payload_header(struct gw_stream *st, const struct gw_jwt_provider *p, const struct gw_jwt *jwt)
{
	const char *b64 = jwt->input + jwt->payload_b64_off;
	size_t len = jwt->input_len - jwt->payload_b64_off;

	xhdr_add(st, p->payload_header, b64, len);
}

/* What a verified token gives: upstream fields, the token dropped unless forwarded. */
static void
apply_outputs(struct gw_stream *st, const struct gw_jwt_provider *p, const struct gw_jwt *jwt,
    const struct found *f)
{
	char val[1024];
	size_t i;

	if (!p->forward && f->hdr >= 0) {
		if (st->ndrop == 0)
			memset(st->drop, 0, st->hh.n);
		st->drop[f->hdr] = 1;
		st->ndrop++;
	}
	if (p->payload_header)
		payload_header(st, p, jwt);
	for (i = 0; i < p->nclaim_hdrs; i++) {
		int n = gw_jwt_claim_str(gw_jwt_claim(jwt, p->claim_hdrs[i].claim), val,
		    sizeof(val));

		if (n > 0)
			xhdr_add(st, p->claim_hdrs[i].header, val, (size_t)n);
	}
}

/* One provider's verdict on its token; the decoded token when it verifies. */
static enum gw_jwt_status
verify(struct gw_stream *st, const struct gw_jwt_provider *p, const struct gw_jwks *jwks,
    const struct found *f, int64_t now, const struct gw_jwt **out, int *iss_ok)
{
	struct gw_worker *w = st->w;
	const struct gw_jwt *c;
	struct gw_jwt jwt;
	enum gw_jwt_status r;

	*iss_ok = 0;
	if (w->jwtcache == NULL)
		w->jwtcache = gw_jwt_cache_new(0);
	c = jwks ? gw_jwt_cache_get(w->jwtcache, f->tok, f->len, jwks->id, now) : NULL;
	if (c == NULL) {
		memset(&jwt, 0, sizeof(jwt));
		r = gw_jwt_decode(f->tok, f->len, &jwt);
		if (r != GW_JWT_OK) {
			gw_jwt_free(&jwt);
			return r;
		}
		if (jwt.iss == NULL || strcmp(jwt.iss, p->issuer) != 0) {
			gw_jwt_free(&jwt);
			return GW_JWT_UNKNOWN_ISSUER;
		}
		*iss_ok = 1;
		if (jwks == NULL) {
			gw_jwt_free(&jwt);
			return GW_JWKS_FETCH_FAIL;
		}
		r = gw_jwt_verify(&jwt, jwks);
		if (r != GW_JWT_OK) {
			gw_jwt_free(&jwt);
			return r;
		}
		if (jwt.exp && jwt.exp <= now) {
			/* past exp but maybe within the skew: not cached, the stream keeps it */
			if (st->jwt) {
				gw_jwt_free(st->jwt);
				free(st->jwt);
			}
			st->jwt = xmalloc(sizeof(*st->jwt));
			*st->jwt = jwt;
			c = st->jwt;
		} else {
			gw_jwt_cache_put(w->jwtcache, f->tok, f->len, jwks->id, &jwt, now);
			c = gw_jwt_cache_get(w->jwtcache, f->tok, f->len, jwks->id, now);
			if (c == NULL)
				return GW_JWT_VERIFICATION_FAIL;	/* cannot happen: it was just put */
		}
	}
	if (c->iss == NULL || strcmp(c->iss, p->issuer) != 0)
		return GW_JWT_UNKNOWN_ISSUER;
	*iss_ok = 1;
	/* Envoy checks time and audiences on cache hits too */
	if ((r = gw_jwt_check_time(c, now, GW_JWT_CLOCK_SKEW)) != GW_JWT_OK)
		return r;
	if (!gw_jwt_audience_ok(c, p->audiences, p->naudiences))
		return GW_JWT_AUDIENCE_NOT_ALLOWED;
	*out = c;
	return GW_JWT_OK;
}

/* What the policies' claim lookups see: the token and its provider. */
struct claim_arg {
	const struct gw_jwt		*jwt;
	const struct gw_jwt_provider	*p;
};

/*
 * Whether a claim's string is a list of words: scope and permission always
 * are, and the provider's spaceDelimitedClaims (Envoy's jwt_authn splits
 * them in the payload it gives RBAC, as Istio configures it).
 */
static int
space_delimited(const struct gw_jwt_provider *p, const char *path)
{
	size_t i;

	if (strcmp(path, "scope") == 0 || strcmp(path, "permission") == 0)
		return 1;
	for (i = 0; i < p->nspace_claims; i++)
		if (strcmp(path, p->space_claims[i]) == 0)
			return 1;
	return 0;
}

/*
 * The words of a space-delimited claim, each NUL-terminated in a buffer of
 * this thread's (the caller reads them before it asks again).
 */
static size_t
claim_words(const char *s, const char **out, size_t max)
{
	static __thread char scratch[4096];
	size_t n = 0, len = strlen(s);
	char *w, *save = NULL;

	if (len >= sizeof(scratch))
		len = sizeof(scratch) - 1;
	memcpy(scratch, s, len);
	scratch[len] = '\0';
	for (w = strtok_r(scratch, " ", &save); w && n < max; w = strtok_r(NULL, " ", &save))
		out[n++] = w;
	return n;
}

/* A claim's strings for the policies (request.auth.claims[...]). */
static size_t
claim_strings(void *arg, const char *path, const char **out, size_t max)
{
	const struct claim_arg *ca = arg;
	const json_t *v = gw_jwt_claim(ca->jwt, path);
	size_t i, n = 0;

	if (json_is_string(v)) {
		if (space_delimited(ca->p, path))
			return claim_words(json_string_value(v), out, max);
		out[0] = json_string_value(v);
		return max ? 1 : 0;
	}
	if (!json_is_array(v))
		return 0;
	for (i = 0; i < json_array_size(v) && n < max; i++)
		if (json_is_string(json_array_get(v, i)))
			out[n++] = json_string_value(json_array_get(v, i));
	return n;
}

/* 401/403 with jwt_verify_lib's reason and Envoy's WWW-Authenticate. */
static void
refuse(struct gw_stream *st, enum gw_jwt_status why)
{
	const struct hhead *hh = &st->hh;
	const char *host, *q = memchr(hh->b.s, '?', hh->url_l), *msg;
	struct vg_buf wa = { 0 };
	size_t hostlen = 0, plen = q ? (size_t)(q - hh->b.s) : hh->url_l;

	if ((host = gw_hdr_get(hh, "host", &hostlen)) == NULL)
		host = "";
	buf_printf(&wa, "Bearer realm=\"%s://%.*s%.*s\"", st->tls ? "https" : "http",
	    (int)hostlen, host, (int)plen, hh->b.s);
	if (why != GW_JWT_MISSING)
		buf_puts(&wa, ", error=\"invalid_token\"");
	buf_append(&wa, "", 1);
	xhdr_add(st, "www-authenticate", wa.s, strlen(wa.s));
	/* the value as stored in xhdrs lives as long as the stream */
	st->www_auth = st->xhdrs.s + st->xhdrs.len - strlen(wa.s) - 1;
	buf_free(&wa);
	msg = gw_jwt_status_str(why);
	log_debug("gateway: %.*s: token refused: %s", (int)plen, hh->b.s, msg);
	gw_local(st, why == GW_JWT_AUDIENCE_NOT_ALLOWED ? 403 : 401, "-", msg, strlen(msg), NULL);
}

int
gw_jwtauthn(struct gw_stream *st, const struct gw_snap *s, size_t dep, struct gw_az_req *az,
    char *principal, size_t plen)
{
	static __thread struct claim_arg ca;	/* read by the policies right after */
	const struct gw_reqauthn *ra = s->g->deps[dep].reqauthn;
	struct gw_jwks *const *keys = s->jwks ? s->jwks + s->jwks_off[dep] : NULL;
	enum gw_jwt_status err = GW_JWT_MISSING, iss_err = GW_JWT_OK;
	struct timeval tv;
	int64_t now;
	size_t i;
	int found_any = 0;

	event_base_gettimeofday_cached(st->w->base, &tv);
	now = tv.tv_sec;
	for (i = 0; i < ra->n; i++) {
		const struct gw_jwt_provider *p = &ra->p[i];
		const struct gw_jwt *jwt = NULL;
		struct found f;
		enum gw_jwt_status r;
		int iss_ok;

		if (!extract(p, st, &f))
			continue;
		found_any = 1;
		if (p->broken) {
			err = GW_JWT_VERIFICATION_FAIL;	/* its policy did not decode: refused */
			continue;
		}
		r = verify(st, p, keys ? keys[i] : NULL, &f, now, &jwt, &iss_ok);
		if (r != GW_JWT_OK) {
			/* the error of a provider whose issuer matched says the most */
			if (iss_ok && iss_err == GW_JWT_OK)
				iss_err = r;
			err = r;
			continue;
		}
		snprintf(principal, plen, "%s/%s", jwt->iss, jwt->sub ? jwt->sub : "");
		az->req_principal = principal;
		az->audiences = (const char *const *)jwt->aud;
		az->naudiences = jwt->naud;
		az->presenter = json_string_value(gw_jwt_claim(jwt, "azp"));
		ca.jwt = jwt;
		ca.p = p;
		az->claim = claim_strings;
		az->claim_arg = &ca;
		apply_outputs(st, p, jwt, &f);
		return 0;
	}
	if (!found_any)
		return 0;	/* a missing token passes RequestAuthentication */
	refuse(st, iss_err != GW_JWT_OK ? iss_err : err);
	return 1;
}
