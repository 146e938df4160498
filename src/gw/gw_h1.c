/* HTTP/1.1 rules: framing, upgrades and the raw line scan (see gw-h1.h). */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw-h1.h"
#include "gw-hdr.h"


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
		if (HNAME_IS(hh, i, "upgrade") && gw_hdr_each_token(HV(hh, i), hh->h[i].vl, is_websocket, NULL))
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
