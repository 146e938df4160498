/* HTTP/1.1 heads: accumulation and framing rules (see gw-h1.h). */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw-h1.h"

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
static int
each_token(const char *v, size_t vl, int (*fn)(const char *, size_t, void *), void *arg)
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
gw_h1_conn_named(const struct hhead *hh, uint8_t *drop)
{
	struct conn_named c = { hh, drop, 0 };
	size_t i;
	int zeroed = 0;

	for (i = 0; i < hh->n; i++)
		if (HNAME_IS(hh, i, "connection")) {
			if (!zeroed)
				memset(drop, 0, hh->n);	/* drop[] is read only when this returns more than 0 */
			zeroed = 1;
			each_token(HV(hh, i), hh->h[i].vl, conn_token, &c);
		}
	return c.n;
}

/* Table initializers: 1 for every ASCII letter and digit. */
#define ALNUM_1 \
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, \
	['8'] = 1, ['9'] = 1, \
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, \
	['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, \
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, \
	['Y'] = 1, ['Z'] = 1, \
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, \
	['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, \
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, \
	['y'] = 1, ['z'] = 1

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

static int
is_websocket(const char *t, size_t tl, void *arg)
{
	(void)arg;
	return tl == 9 && strncasecmp(t, "websocket", 9) == 0;
}

int
gw_h1_websocket(const struct hhead *hh)
{
	size_t i;

	for (i = 0; i < hh->n; i++)
		if (HNAME_IS(hh, i, "upgrade") && each_token(HV(hh, i), hh->h[i].vl, is_websocket, NULL))
			return 1;
	return 0;
}

enum gw_h1_framing
gw_h1_framing(const struct hhead *hh, int *expect)
{
	int ncl = 0, nte = 0;
	size_t i;

	*expect = 0;
	for (i = 0; i < hh->n; i++) {
		if (HNAME_IS(hh, i, "content-length"))
			ncl++;
		else if (HNAME_IS(hh, i, "transfer-encoding")) {
			nte++;
			/* only "chunked" is understood (RFC 9112 6.1) */
			if (hh->h[i].vl != 7 || strncasecmp(HV(hh, i), "chunked", 7) != 0)
				return GW_H1_BAD_TE;
		} else if (HNAME_IS(hh, i, "expect") && hh->h[i].vl == 12 &&
		    strncasecmp(HV(hh, i), "100-continue", 12) == 0)
			*expect = 1;
	}
	/* request smuggling: RFC 9112 6.3 lets a proxy reject these; Envoy does */
	if (ncl > 1 || nte > 1 || (ncl && nte))
		return GW_H1_AMBIGUOUS;
	return GW_H1_OK;
}

/* RFC 9110 5.6.2 tchar */
static const uint8_t tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1,
	['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
	ALNUM_1,
};

/* A control character other than HTAB, or DEL: never in a start line or a value. */
#define CTL(c)	(((c) < 0x20 && (c) != '\t') || (c) == 0x7f)

long
gw_h1_scan(uint8_t *st, const char *p, size_t len, const char **why)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned c = s[i];

		switch (*st) {
		case GW_H1_SCAN_START:
			if (c == '\r' || c == '\n')
				break;	/* RFC 9112 2.2: empty lines before a request */
			*st = GW_H1_SCAN_START_LINE;
			/* FALLTHROUGH */
		case GW_H1_SCAN_START_LINE:
		case GW_H1_SCAN_STATUS: {
			/* a reason phrase may hold HTAB; RFC 9112 3 separates a request line by SP */
			int ht = *st == GW_H1_SCAN_STATUS;

			while ((c >= 0x20 || (ht && c == '\t')) && c != 0x7f && i + 1 < len)
				c = s[++i];
			if (c == '\r')
				*st = GW_H1_SCAN_START_CR;
			else if (c == '\n')
				*st = GW_H1_SCAN_LINE;
			else if ((c < 0x20 && !(ht && c == '\t')) || c == 0x7f)
				goto ctl;
			break;
		}
		case GW_H1_SCAN_START_CR:
		case GW_H1_SCAN_VALUE_CR:
			if (c != '\n')
				goto bare_cr;
			*st = GW_H1_SCAN_LINE;
			break;
		case GW_H1_SCAN_LINE:
			if (c == '\r')
				*st = GW_H1_SCAN_END_CR;
			else if (c == '\n') {
				*st = GW_H1_SCAN_DONE;
				return (long)i + 1;
			} else if (c == ' ' || c == '\t') {
				*why = "obsolete line folding or whitespace before a field name";
				return -1;
			} else if (tchar[c])
				*st = GW_H1_SCAN_NAME;
			else
				goto name;
			break;
		case GW_H1_SCAN_NAME:
			/* the common case: a run of name characters */
			while (tchar[c] && i + 1 < len)
				c = s[++i];
			if (tchar[c])
				break;
			if (c == ':')
				*st = GW_H1_SCAN_VALUE;
			else if (c == ' ' || c == '\t') {
				*why = "whitespace between a field name and the colon";
				return -1;
			} else
				goto name;
			break;
		case GW_H1_SCAN_VALUE:
			while (c >= 0x20 && c != 0x7f && i + 1 < len)
				c = s[++i];
			if (c == '\r')
				*st = GW_H1_SCAN_VALUE_CR;
			else if (c == '\n')
				*st = GW_H1_SCAN_LINE;
			else if (CTL(c))
				goto ctl;
			break;
		case GW_H1_SCAN_END_CR:
			if (c != '\n')
				goto bare_cr;
			*st = GW_H1_SCAN_DONE;
			return (long)i + 1;
		default:
			return 0;
		}
	}
	return (long)len;
bare_cr:
	*why = "bare CR in the head";
	return -1;
name:
	*why = "invalid character in a field name";
	return -1;
ctl:
	*why = "control character in the head";
	return -1;
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
