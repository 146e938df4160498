/*
 * Request target normalization (see gw-path.h).
 *
 * Envoy with Istio's default (BASE) runs normalize_path: RFC 3986 6.2.2
 * (percent-encoded unreserved characters decoded once, dot segments
 * removed, 5.2.4) plus backslashes turned into slashes; MERGE_SLASHES adds
 * merge_slashes; DECODE_AND_MERGE_SLASHES first decodes %2F and %5C
 * (path_with_escaped_slashes_action UNESCAPE_AND_FORWARD). A %00 in the path
 * and a fragment are always refused (Istio's normalization page: 400), and
 * so is, unlike Envoy, a malformed escape where the path is decoded. The
 * absolute form (RFC 9112 3.2.2) becomes the URI's authority, which the
 * proxy uses as Host, and the origin form: the backend then sees the same
 * path the route rules matched.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "gw-path.h"

static const char *const names[] = {
	"NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"
};

int
gw_pathnorm_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
gw_pathnorm_name(enum gw_pathnorm m)
{
	return (size_t)m < sizeof(names) / sizeof(names[0]) ? names[m] : "?";
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3986 2.3 */
static int
unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

int
gw_target_needs_work(const char *in, size_t len, enum gw_pathnorm mode)
{
	size_t i;

	if (len == 0 || in[0] != '/')
		return 1;
	for (i = 0; i < len; i++)
		switch (in[i]) {
		case '%':
		case '#':
		case '\\':
			return 1;
		case '/':
			if (i + 1 < len && (in[i + 1] == '.' ||
			    (in[i + 1] == '/' && mode >= GW_PATHNORM_MERGE_SLASHES)))
				return 1;
			break;
		case '?':
			return 0;	/* the query is left as it is */
		}
	return 0;
}

/* Scheme and authority of an absolute-form target; the rest is the path. */
static int
split_absolute(const char **pp, const char *end, struct gw_target *t)
{
	const char *p = *pp, *a;

	if ((size_t)(end - p) >= 7 && strncasecmp(p, "http://", 7) == 0)
		p += 7;
	else if ((size_t)(end - p) >= 8 && strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else {
		t->why = "request target is neither origin nor absolute form";
		return -1;
	}
	for (a = p; p < end && *p != '/' && *p != '?' && *p != '#'; p++)
		if (*p == '@') {
			/* RFC 9110 4.2.4: userinfo in an http(s) URI is an error */
			t->why = "userinfo in the request target";
			return -1;
		}
	if (p == a) {
		t->why = "empty authority in the request target";
		return -1;
	}
	t->auth = a;
	t->authlen = (size_t)(p - a);
	*pp = p;
	return 0;
}

/* Percent-decoding as the mode says; backslashes become slashes. */
static ssize_t
decode(const char *p, size_t len, enum gw_pathnorm mode, char *out, struct gw_target *t)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int hi, lo, c;

		if (p[i] != '%') {
			out[o++] = p[i] == '\\' && mode >= GW_PATHNORM_BASE ? '/' : p[i];
			continue;
		}
		if (i + 2 >= len || (hi = hexval(p[i + 1])) < 0 || (lo = hexval(p[i + 2])) < 0) {
			/*
			 * Refused where Envoy passes it on: decoding "%%32e" once
			 * would make "%2e", which a backend decodes into the dot
			 * segment the rules never saw.
			 */
			if (mode >= GW_PATHNORM_BASE) {
				t->why = "malformed percent-encoding in the path";
				return -1;
			}
			out[o++] = p[i];
			continue;
		}
		c = hi << 4 | lo;
		if (c == 0)
			goto nul;
		if (mode >= GW_PATHNORM_BASE && unreserved(c))
			out[o++] = (char)c;
		else if (mode == GW_PATHNORM_DECODE_AND_MERGE_SLASHES && (c == '/' || c == '\\'))
			out[o++] = '/';
		else {
			memcpy(out + o, p + i, 3);
			o += 3;
		}
		i += 2;
	}
	return (ssize_t)o;
nul:
	t->why = "%00 in the path";
	return -1;
}

/* RFC 3986 5.2.4 on an absolute path, into out (never longer than p). */
static size_t
remove_dots(const char *p, size_t len, char *out)
{
	size_t i = 1, o = 0;

	for (;;) {
		size_t s = i, sl;
		int last;

		while (i < len && p[i] != '/')
			i++;
		sl = i - s;
		last = i >= len;
		if (sl == 1 && p[s] == '.') {
			if (last)
				out[o++] = '/';
		} else if (sl == 2 && p[s] == '.' && p[s + 1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;	/* the slash before the removed segment */
			if (last)
				out[o++] = '/';
		} else {
			out[o++] = '/';
			memmove(out + o, p + s, sl);
			o += sl;
		}
		if (last)
			break;
		i++;	/* past the slash */
	}
	if (o == 0)
		out[o++] = '/';
	return o;
}

static size_t
merge_slashes(char *p, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++)
		if (p[i] != '/' || o == 0 || p[o - 1] != '/')
			p[o++] = p[i];
	return o;
}

ssize_t
gw_target_normalize(const char *in, size_t len, enum gw_pathnorm mode, int options,
    char *out, struct gw_target *t)
{
	const char *p = in, *end = in + len, *q, *path;
	size_t plen, qlen, o;
	ssize_t n;
	char *tmp;

	t->auth = NULL;
	t->authlen = 0;
	t->why = NULL;
	if (len == 1 && in[0] == '*') {
		if (!options) {
			t->why = "asterisk form for a method other than OPTIONS";
			return -1;
		}
		out[0] = '*';
		return 1;
	}
	if (len == 0 || in[0] != '/') {
		if (split_absolute(&p, end, t) == -1)
			return -1;
	}
	if (memchr(p, '#', (size_t)(end - p)) != NULL) {
		t->why = "fragment in the request target";
		return -1;
	}
	q = memchr(p, '?', (size_t)(end - p));
	path = p;
	plen = (size_t)((q ? q : end) - p);
	qlen = q ? (size_t)(end - q) : 0;
	/*
	 * Work in the tail of out, then move: the path is at most len bytes
	 * and a path-less absolute form (http://h?q) gains only the slash
	 * its scheme and authority more than pay for.
	 */
	o = 0;
	if (plen == 0)
		out[o++] = '/';
	tmp = out + o;
	n = decode(path, plen, mode, tmp, t);
	if (n == -1)
		return -1;
	if (mode >= GW_PATHNORM_BASE && n > 0) {
		/* remove_dots writes behind where it reads: safe in place */
		n = (ssize_t)remove_dots(tmp, (size_t)n, tmp);
		if (mode >= GW_PATHNORM_MERGE_SLASHES)
			n = (ssize_t)merge_slashes(tmp, (size_t)n);
	}
	o += (size_t)n;
	if (qlen)
		memmove(out + o, q, qlen);
	return (ssize_t)(o + qlen);
}
