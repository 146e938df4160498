/* HTTP message heads: accumulation and field semantics common to every HTTP version (see gw-hdr.h). */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw-hdr.h"
#include "vipgate/gw-route-t.h"
#include "vipgate/gw-t.h"

void
hh_reset(struct hhead *hh)
{
	hh->b.len = 0;
	hh->n = 0;
	hh->last_value = 0;
	hh->url_l = 0;
	hh->overflow = 0;
}

void
hh_free(struct hhead *hh)
{
	buf_free(&hh->b);
	free(hh->h);
	memset(hh, 0, sizeof(*hh));
}

int
hh_room(struct hhead *hh, size_t len)
{
	if (hh->b.len + len > (hh->max ? hh->max : GW_MAX_HEADERS_BYTES)) {
		hh->overflow = 1;
		return 0;
	}
	return 1;
}

int
hh_field(struct hhead *hh, const char *at, size_t len)
{
	if (!hh_room(hh, len))
		return -1;
	if (hh->n == 0 || hh->last_value) {
		if (hh->n == GW_MAX_HEADERS) {
			hh->overflow = 1;
			return -1;
		}
		if (hh->n == hh->cap) {
			hh->cap = hh->cap ? hh->cap * 2 : 32;
			hh->h = xreallocarray(hh->h, hh->cap, sizeof(*hh->h));
		}
		memset(&hh->h[hh->n], 0, sizeof(hh->h[0]));
		hh->h[hh->n].no = (uint32_t)hh->b.len;
		hh->n++;
		hh->last_value = 0;
	}
	buf_append(&hh->b, at, len);
	hh->h[hh->n - 1].nl += (uint32_t)len;
	return 0;
}

int
hh_value(struct hhead *hh, const char *at, size_t len)
{
	if (!hh_room(hh, len) || hh->n == 0)
		return -1;
	if (!hh->last_value) {
		hh->h[hh->n - 1].vo = (uint32_t)hh->b.len;
		hh->last_value = 1;
	}
	buf_append(&hh->b, at, len);
	hh->h[hh->n - 1].vl += (uint32_t)len;
	return 0;
}

int
hname_is(const struct hhead *hh, size_t i, const char *name)
{
	size_t l = strlen(name);

	return hh->h[i].nl == l && strncasecmp(HN(hh, i), name, l) == 0;
}

/* Hop-by-hop fields (RFC 9110 7.6.1) and those the proxy frames itself. */
int
hop_by_hop(const struct hhead *hh, size_t i)
{
	/* by length first: most fields are none of these */
	switch (hh->h[i].nl) {
	case 2:
		return HNAME_IS(hh, i, "te");
	case 6:
		return HNAME_IS(hh, i, "expect");
	case 7:
		return HNAME_IS(hh, i, "trailer") || HNAME_IS(hh, i, "upgrade");
	case 10:
		return HNAME_IS(hh, i, "connection") || HNAME_IS(hh, i, "keep-alive");
	case 16:
		return HNAME_IS(hh, i, "proxy-connection");
	case 14:
		return HNAME_IS(hh, i, "http2-settings");	/* RFC 9113 3.2.1: h2c only */
	case 17:
		return HNAME_IS(hh, i, "transfer-encoding");
	default:
		return 0;
	}
}

/* Calls fn on each comma-separated token of a field value, OWS trimmed. */
int
gw_hdr_each_token(const char *v, size_t vl, int (*fn)(const char *, size_t, void *), void *arg)
{
	const char *end = v + vl;

	while (v < end) {
		const char *c = memchr(v, ',', (size_t)(end - v)), *e = c ? c : end;

		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > v && fn(v, (size_t)(e - v), arg))
			return 1;
		v = c ? c + 1 : end;
	}
	return 0;
}

struct conn_named {
	const struct hhead	*hh;
	uint8_t			*drop;
	size_t			 n;
};

static int
conn_token(const char *t, size_t tl, void *arg)
{
	struct conn_named *c = arg;
	size_t j;

	for (j = 0; j < c->hh->n; j++)
		if (!c->drop[j] && c->hh->h[j].nl == tl && strncasecmp(HN(c->hh, j), t, tl) == 0 &&
		    !hop_by_hop(c->hh, j)) {
			c->drop[j] = 1;
			c->n++;
		}
	return 0;
}

size_t
gw_conn_named(const struct hhead *hh, uint8_t *drop)
{
	struct conn_named c = { hh, drop, 0 };
	size_t i;
	int zeroed = 0;

	for (i = 0; i < hh->n; i++)
		if (HNAME_IS(hh, i, "connection")) {
			if (!zeroed)
				memset(drop, 0, hh->n);	/* drop[] is read only when this returns more than 0 */
			zeroed = 1;
			gw_hdr_each_token(HV(hh, i), hh->h[i].vl, conn_token, &c);
		}
	return c.n;
}

/* Table initializers: 1 for every ASCII letter and digit. */

/* RFC 3986 3.2: unreserved, sub-delims, ':', '@', '[', ']' and '%' */
static const uint8_t authchar[256] = {
	['!'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['('] = 1, [')'] = 1, ['*'] = 1,
	['+'] = 1, [','] = 1, ['-'] = 1, ['.'] = 1, [':'] = 1, [';'] = 1, ['='] = 1, ['@'] = 1,
	['['] = 1, [']'] = 1, ['_'] = 1, ['~'] = 1,
	ALNUM_1,
};

int
gw_authority_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!authchar[(unsigned char)s[i]])
			return 0;
	return 1;
}

int
gw_xff_client(const char *xff, size_t len, unsigned hops, char *out, size_t outlen)
{
	const char *end = xff + len, *s, *e;
	unsigned n = 0;
	unsigned char a[16];
	char tmp[64];

	if (hops == 0 || xff == NULL)
		return -1;
	/* walk the comma-separated list from the right */
	while (end > xff) {
		s = end;
		while (s > xff && s[-1] != ',')
			s--;
		e = end;
		end = s > xff ? s - 1 : xff;
		if (++n < hops)
			continue;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == s || (size_t)(e - s) >= sizeof(tmp))
			return -1;
		memcpy(tmp, s, (size_t)(e - s));
		tmp[e - s] = '\0';
		if (inet_pton(AF_INET, tmp, a) != 1 && inet_pton(AF_INET6, tmp, a) != 1)
			return -1;
		if (strlen(tmp) >= outlen)
			return -1;
		memcpy(out, tmp, strlen(tmp) + 1);
		return 0;
	}
	return -1;
}

int
gw_addr_internal(const char *addr)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, addr, a) == 1)
		return a[0] == 10 || a[0] == 127 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		    (a[0] == 192 && a[1] == 168);
	if (inet_pton(AF_INET6, addr, a) != 1)
		return 0;
	if ((a[0] & 0xfe) == 0xfc)
		return 1;	/* fc00::/7 */
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		return a[12] == 10 || a[12] == 127 || (a[12] == 172 && (a[13] & 0xf0) == 16) ||
		    (a[12] == 192 && a[13] == 168);
	return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
}

size_t
gw_fmt_u64(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

int
gw_ops_names(const char *name, size_t nl, const struct gw_header_ops *ops)
{
	size_t k;

	for (k = 0; k < ops->nremove; k++)
		if (strlen(ops->remove[k]) == nl && strncasecmp(ops->remove[k], name, nl) == 0)
			return 1;
	for (k = 0; k < ops->nset; k++)
		if (strlen(ops->set[k].name) == nl && strncasecmp(ops->set[k].name, name, nl) == 0)
			return 1;
	return 0;
}

void
gw_hlist_init(struct gw_hlist *l, struct gw_hdr *stack)
{
	l->f = stack;
	l->n = 0;
	l->cap = GW_HLIST_STACK;
	l->heap = NULL;
}

void
gw_hlist_add(struct gw_hlist *l, const char *n, size_t nl, const char *v, size_t vl)
{
	if (l->n == l->cap) {
		struct gw_hdr *f = xcalloc(l->cap * 2, sizeof(*f));

		memcpy(f, l->f, l->n * sizeof(*f));
		free(l->heap);
		l->f = l->heap = f;
		l->cap *= 2;
	}
	l->f[l->n].name = n;
	l->f[l->n].nlen = nl;
	l->f[l->n].value = v;
	l->f[l->n].vlen = vl;
	l->n++;
}

void
gw_hlist_ops(struct gw_hlist *l, const struct gw_header_ops *ops)
{
	size_t k;

	for (k = 0; k < ops->nset; k++)
		gw_hlist_add(l, ops->set[k].name, strlen(ops->set[k].name), ops->set[k].value,
		    strlen(ops->set[k].value));
	for (k = 0; k < ops->nadd; k++)
		gw_hlist_add(l, ops->add[k].name, strlen(ops->add[k].name), ops->add[k].value,
		    strlen(ops->add[k].value));
}

void
gw_hlist_free(struct gw_hlist *l)
{
	free(l->heap);
	l->heap = NULL;
}

const char *
gw_hdr_get(const struct hhead *hh, const char *name, size_t *len)
{
	size_t i;

	for (i = 0; i < hh->n; i++)
		if (hname_is(hh, i, name)) {
			*len = hh->h[i].vl;
			return HV(hh, i);
		}
	return NULL;
}

const char *
gw_hdr_cookie(const struct hhead *hh, const char *name, size_t *len)
{
	size_t i, nl = strlen(name);

	for (i = 0; i < hh->n; i++) {
		const char *v, *end;

		if (!HNAME_IS(hh, i, "cookie"))
			continue;
		v = HV(hh, i);
		end = v + hh->h[i].vl;
		while (v < end) {
			const char *semi = memchr(v, ';', (size_t)(end - v)), *pe = semi ? semi : end;

			while (v < pe && *v == ' ')
				v++;
			if ((size_t)(pe - v) > nl && memcmp(v, name, nl) == 0 && v[nl] == '=') {
				*len = (size_t)(pe - v - (ptrdiff_t)nl - 1);
				return v + nl + 1;
			}
			v = pe + 1;
		}
	}
	return NULL;
}

const char *
gw_query_param(const char *target, size_t tlen, const char *name, size_t *len)
{
	const char *q = memchr(target, '?', tlen), *end = target + tlen;
	size_t nl = strlen(name);

	while (q && q < end) {
		const char *s = q + 1, *amp = memchr(s, '&', (size_t)(end - s));
		const char *pe = amp ? amp : end;

		if ((size_t)(pe - s) > nl && memcmp(s, name, nl) == 0 && s[nl] == '=') {
			*len = (size_t)(pe - s - (ptrdiff_t)nl - 1);
			return s + nl + 1;
		}
		q = amp;
	}
	return NULL;
}

int
gw_is_grpc(const struct hhead *hh)
{
	size_t l = 0;
	const char *ct = gw_hdr_get(hh, "content-type", &l);

	return ct && l >= 16 && strncasecmp(ct, "application/grpc", 16) == 0 &&
	    (l == 16 || ct[16] == '+' || ct[16] == ';');
}
