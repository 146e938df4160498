/*
 * Route matching as Envoy does it for an Istio gateway: virtual host by
 * Host (port ignored, ignore_port_in_host_matching), routes in order, the
 * first whose match entries (ORed; fields ANDed) hold wins.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vipgate/gw-route.h"

struct gw_rx {
	size_t		 n;
	pcre2_code	**full;		/* anchored both ends: RE2 FullMatch */
	pcre2_code	**search;	/* unanchored: rewrites */
};

static __thread pcre2_match_data *tl_md;

void
gw_rx_thread_done(void)
{
	pcre2_match_data_free(tl_md);
	tl_md = NULL;
}

static pcre2_code *
rx_compile(const char *pat, uint32_t opts, char **err)
{
	int ec;
	PCRE2_SIZE off;
	pcre2_code *c;

	c = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | opts, &ec, &off, NULL);
	if (c == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		xasprintf(err, "regex \"%s\" at offset %zu: %s", pat, (size_t)off, (char *)msg);
		return NULL;
	}
	(void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);	/* falls back to the interpreter */
	return c;
}

struct gw_rx *
gw_rx_new(const struct gw_desired *g, char **err)
{
	struct gw_rx *rx = xcalloc(1, sizeof(*rx));
	size_t i;

	*err = NULL;
	rx->n = g ? g->nregexes : 0;
	rx->full = xcalloc(rx->n ? rx->n : 1, sizeof(*rx->full));
	rx->search = xcalloc(rx->n ? rx->n : 1, sizeof(*rx->search));
	for (i = 0; i < rx->n; i++) {
		rx->full[i] = rx_compile(g->regexes[i], PCRE2_ANCHORED | PCRE2_ENDANCHORED, err);
		if (rx->full[i] == NULL)
			goto fail;
		rx->search[i] = rx_compile(g->regexes[i], 0, err);
		if (rx->search[i] == NULL)
			goto fail;
	}
	return rx;
fail:
	gw_rx_free(rx);
	return NULL;
}

void
gw_rx_free(struct gw_rx *rx)
{
	size_t i;

	if (rx == NULL)
		return;
	for (i = 0; i < rx->n; i++) {
		pcre2_code_free(rx->full[i]);
		pcre2_code_free(rx->search[i]);
	}
	free(rx->full);
	free(rx->search);
	free(rx);
}

int
gw_rx_full(const struct gw_rx *rx, int idx, const char *s, size_t len)
{
	int rc;

	if (rx == NULL || idx < 0 || (size_t)idx >= rx->n)
		return 0;
	if (tl_md == NULL)
		tl_md = pcre2_match_data_create(1, NULL);
	rc = pcre2_match(rx->full[idx], (PCRE2_SPTR)s, len, 0, 0, tl_md, NULL);
	/* 0: matched, the ovector was too small for the groups */
	return rc >= 0;
}

int
gw_rx_replace(const struct gw_rx *rx, int idx, const char *s, size_t len,
    const char *subst, struct vg_buf *out)
{
	pcre2_match_data *md;
	PCRE2_SIZE start = 0, *ov;
	int rc, n = 0;

	if (rx == NULL || idx < 0 || (size_t)idx >= rx->n)
		return -1;
	md = pcre2_match_data_create_from_pattern(rx->search[idx], NULL);
	while (start <= len) {
		const char *q;

		rc = pcre2_match(rx->search[idx], (PCRE2_SPTR)s, len, start, 0, md, NULL);
		if (rc < 0)
			break;
		ov = pcre2_get_ovector_pointer(md);
		buf_append(out, s + start, ov[0] - start);
		/* RE2 rewrites name groups \1; Envoy docs show both \1 and $1 forms in use */
		for (q = subst; *q; q++) {
			if ((*q == '\\' || *q == '$') && q[1] >= '0' && q[1] <= '9') {
				int g = q[1] - '0';

				if (g < rc && ov[2 * g] != PCRE2_UNSET)
					buf_append(out, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
				q++;
			} else
				buf_append(out, q, 1);
		}
		n++;
		if (ov[1] == ov[0]) {
			/* empty match: copy one byte and move on */
			if (ov[1] < len)
				buf_append(out, s + ov[1], 1);
			start = ov[1] + 1;
		} else
			start = ov[1];
	}
	if (start < len)
		buf_append(out, s + start, len - start);
	pcre2_match_data_free(md);
	return n;
}

/* ---- hosts ---- */

static int
sni_covers(const char *pat, const char *name)
{
	size_t lp, ln;

	if (strcasecmp(pat, name) == 0 || strcmp(pat, "*") == 0)
		return 2;
	if (pat[0] != '*')
		return 0;
	lp = strlen(pat + 1);
	ln = strlen(name);
	return ln > lp && strcasecmp(name + ln - lp, pat + 1) == 0;
}

const struct gw_chain *
gw_chain_find(const struct gw_listener *l, const char *sni)
{
	const struct gw_chain *best = NULL;
	size_t i, j, bestlen = 0;

	if (l->nchains == 0)
		return NULL;
	if (!l->tls)
		return &l->chains[0];	/* plain text: one chain, http.<port> */
	if (sni == NULL)
		sni = "";
	/*
	 * Envoy's filter chain match on server_names: no fallback to another
	 * chain. No SNI, or one no server names, matches only a server whose
	 * hosts hold "*" (istiod gives that chain no server_names); else no
	 * chain matches and the handshake is refused.
	 */
	for (i = 0; i < l->nchains; i++)
		for (j = 0; j < l->chains[i].nsni; j++) {
			const char *p = l->chains[i].sni[j];
			int r = *sni ? sni_covers(p, sni) : 2 * (strcmp(p, "*") == 0);

			if (r == 2 && strcmp(p, "*") != 0)
				return &l->chains[i];
			/* Envoy: the longest wildcard server name wins, "*" last */
			if (r && (best == NULL || strlen(p) > bestlen)) {
				best = &l->chains[i];
				bestlen = strcmp(p, "*") == 0 ? 0 : strlen(p);
			}
		}
	return best;
}

static const struct gw_vhost *
vhost_exact(const struct gw_chain *c, const char *name, size_t len)
{
	size_t lo = 0, hi = c->nvhosts;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *v = c->vhosts[mid].name;
		int r = strncmp(v, name, len);

		if (r == 0 && v[len] != '\0')
			r = 1;
		if (r == 0)
			return &c->vhosts[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct gw_vhost *
gw_vhost_find(const struct gw_chain *c, const char *host, size_t len)
{
	char buf[256];
	const struct gw_vhost *v;
	size_t i;

	if (c == NULL)
		return NULL;
	/* strip the port: "[::1]:80" keeps its brackets, "a.b:80" loses ":80" */
	if (len && host[0] == '[') {
		const char *rb = memchr(host, ']', len);

		if (rb)
			len = (size_t)(rb - host) + 1;
	} else {
		const char *colon = memchr(host, ':', len);

		if (colon)
			len = (size_t)(colon - host);
	}
	if (len >= sizeof(buf) - 1)
		len = sizeof(buf) - 2;
	for (i = 0; i < len; i++)
		buf[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] + 32 : host[i]);
	buf[len] = '\0';
	if (len && (v = vhost_exact(c, buf, len)) != NULL)
		return v;
	/* "*.b.c" before "*.c": the first dot gives the longest suffix */
	for (i = 1; i < len; i++)
		if (buf[i] == '.') {
			char cand[256];

			cand[0] = '*';
			memcpy(cand + 1, buf + i, len - i);
			cand[len - i + 1] = '\0';
			if ((v = vhost_exact(c, cand, len - i + 1)) != NULL)
				return v;
		}
	return vhost_exact(c, "*", 1);
}

/* ---- matching ---- */

static int
strmatch(const struct gw_strmatch *m, const struct gw_rx *rx, const char *s, size_t len)
{
	switch (m->type) {
	case GW_MT_ANY:
	case GW_MT_PRESENT:
		return 1;
	case GW_MT_EXACT:
		if (len != m->len)
			return 0;
		return m->icase ? strncasecmp(s, m->value, len) == 0 : memcmp(s, m->value, len) == 0;
	case GW_MT_PREFIX:
		if (len < m->len)
			return 0;
		return m->icase ? strncasecmp(s, m->value, m->len) == 0 :
		    memcmp(s, m->value, m->len) == 0;
	case GW_MT_REGEX:
		return gw_rx_full(rx, m->rx, s, len);
	}
	return 0;
}

/*
 * The value of a header for matching; several fields of one name are
 * joined with "," as Envoy's getAllOfHeaderAsString does. Returns 0 when
 * absent. Pseudo-headers name the request's own parts.
 */
static int
header_value(const struct gw_req *r, const char *name, struct vg_buf *tmp,
    const char **v, size_t *vl)
{
	size_t i, nlen = strlen(name), hits = 0;

	if (name[0] == ':') {
		if (strcmp(name, ":authority") == 0) {
			*v = r->authority;
			*vl = r->authority_len;
		} else if (strcmp(name, ":method") == 0) {
			*v = r->method;
			*vl = r->method_len;
		} else if (strcmp(name, ":path") == 0) {
			*v = r->path;
			*vl = r->path_len;
		} else if (strcmp(name, ":scheme") == 0) {
			*v = r->scheme;
			*vl = strlen(r->scheme);
		} else
			return 0;
		return *v != NULL;
	}
	tmp->len = 0;
	for (i = 0; i < r->nhdrs; i++) {
		const struct gw_hdr *h = &r->hdrs[i];

		if (h->nlen != nlen || strncasecmp(h->name, name, nlen) != 0)
			continue;
		if (hits == 0) {
			*v = h->value;
			*vl = h->vlen;
		} else {
			if (hits == 1)
				buf_append(tmp, *v, *vl);
			buf_append(tmp, ",", 1);
			buf_append(tmp, h->value, h->vlen);
			*v = tmp->s;
			*vl = tmp->len;
		}
		hits++;
	}
	return hits > 0;
}

static int
keymatch(const struct gw_keymatch *k, const struct gw_rx *rx, const struct gw_req *r,
    struct vg_buf *tmp)
{
	const char *v = NULL;
	size_t vl = 0;

	if (!header_value(r, k->name, tmp, &v, &vl))
		return 0;
	return strmatch(&k->m, rx, v, vl);
}

/* The first value of query parameter name (no decoding, as Envoy's route matcher). */
static int
query_value(const char *path, size_t len, const char *name, const char **v, size_t *vl)
{
	const char *q = memchr(path, '?', len), *end = path + len;
	size_t nlen = strlen(name);

	if (q == NULL)
		return 0;
	q++;
	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *pe = amp ? amp : end;
		const char *eq = memchr(q, '=', (size_t)(pe - q));
		const char *ke = eq ? eq : pe;

		if ((size_t)(ke - q) == nlen && memcmp(q, name, nlen) == 0) {
			*v = eq ? eq + 1 : pe;
			*vl = (size_t)(pe - *v);
			return 1;
		}
		q = pe + 1;
	}
	return 0;
}

int
gw_match_eval(const struct gw_match *m, const struct gw_rx *rx, const struct gw_req *r)
{
	struct vg_buf tmp = { 0 };
	size_t i, plen;
	int ok = 0;

	if (m->port && m->port != r->port)
		return 0;
	if (m->uri.type != GW_MT_ANY) {
		/* exact and regex paths exclude the query string; prefix sees the whole target */
		const char *q = memchr(r->path, '?', r->path_len);

		plen = m->uri.type == GW_MT_PREFIX || q == NULL ? r->path_len : (size_t)(q - r->path);
		if (!strmatch(&m->uri, rx, r->path, plen))
			return 0;
	}
	if (m->scheme.type != GW_MT_ANY &&
	    !strmatch(&m->scheme, rx, r->scheme, r->scheme ? strlen(r->scheme) : 0))
		return 0;
	if (m->method.type != GW_MT_ANY && !strmatch(&m->method, rx, r->method, r->method_len))
		return 0;
	if (m->authority.type != GW_MT_ANY &&
	    !strmatch(&m->authority, rx, r->authority ? r->authority : "", r->authority_len))
		return 0;
	for (i = 0; i < m->nheaders; i++)
		if (!keymatch(&m->headers[i], rx, r, &tmp))
			goto out;
	for (i = 0; i < m->nwithout_headers; i++)
		if (keymatch(&m->without_headers[i], rx, r, &tmp))
			goto out;
	for (i = 0; i < m->nquery; i++) {
		const char *v;
		size_t vl;

		if (!query_value(r->path, r->path_len, m->query[i].name, &v, &vl) ||
		    !strmatch(&m->query[i].m, rx, v, vl))
			goto out;
	}
	ok = 1;
out:
	buf_free(&tmp);
	return ok;
}

int
gw_strmatch_eval(const struct gw_strmatch *m, const struct gw_rx *rx, const char *s, size_t len)
{
	return strmatch(m, rx, s, len);
}

const struct gw_route *
gw_route_find(const struct gw_vhost *v, const struct gw_rx *rx, const struct gw_req *r,
    const struct gw_match **which)
{
	size_t i, j;

	*which = NULL;
	if (v == NULL)
		return NULL;
	for (i = 0; i < v->nroutes; i++) {
		const struct gw_route *rt = &v->routes[i];

		if (rt->nmatches == 0)
			return rt;
		for (j = 0; j < rt->nmatches; j++)
			if (gw_match_eval(&rt->matches[j], rx, r)) {
				*which = &rt->matches[j];
				return rt;
			}
	}
	return NULL;
}

const struct gw_dest *
gw_pick_dest(const struct gw_route *rt, uint32_t rnd)
{
	uint32_t x;
	size_t i;

	if (rt->ndests == 0 || rt->total_weight == 0)
		return NULL;
	x = (uint32_t)(((uint64_t)rnd * rt->total_weight) >> 32);
	for (i = 0; i < rt->ndests; i++) {
		if (x < rt->dests[i].weight)
			return &rt->dests[i];
		x -= rt->dests[i].weight;
	}
	return &rt->dests[rt->ndests - 1];
}

void
gw_rewrite_path(const struct gw_route *rt, const struct gw_match *m, const struct gw_rx *rx,
    const char *path, size_t len, struct vg_buf *out)
{
	const char *q = memchr(path, '?', len);
	size_t plen = q ? (size_t)(q - path) : len;
	const struct gw_rewrite *rw = rt->rewrite;

	out->len = 0;
	if (rw == NULL || (rw->uri == NULL && rw->rx < 0)) {
		buf_append(out, path, len);
		return;
	}
	if (rw->rx >= 0) {
		gw_rx_replace(rx, rw->rx, path, plen, rw->rx_subst, out);
	} else if (m && m->uri.type == GW_MT_EXACT) {
		buf_puts(out, rw->uri);
	} else {
		/* Istio turns no uri match (and regex) into prefix "/" */
		size_t skip = m && m->uri.type == GW_MT_PREFIX ? m->uri.len : 1;

		if (skip > plen)
			skip = plen;
		buf_puts(out, rw->uri);
		buf_append(out, path + skip, plen - skip);
	}
	if (out->len == 0)
		buf_append(out, "/", 1);
	if (q)
		buf_append(out, q, len - plen);
}
