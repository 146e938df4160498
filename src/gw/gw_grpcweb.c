/*
 * gRPC-Web's codecs (gw-grpcweb.h): pure, unit-tested and fuzzed.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "gw-grpcweb.h"
#include "gw-hdr.h"
#include "vipgate/util.h"

int
gw_grpcweb_kind(const char *ct, size_t len)
{
	if (ct == NULL || len < 20 || strncasecmp(ct, "application/grpc-web", 20) != 0)
		return GW_GRPCWEB_NONE;
	if (len == 20 || ct[20] == '+' || ct[20] == ';')
		return GW_GRPCWEB_BINARY;
	if (len >= 25 && strncasecmp(ct + 20, "-text", 5) == 0 &&
	    (len == 25 || ct[25] == '+' || ct[25] == ';'))
		return GW_GRPCWEB_TEXT;
	return GW_GRPCWEB_NONE;
}

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
gw_b64_decode(struct gw_b64 *b, const char *in, size_t len, uint8_t *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
			continue;
		if (c != '=' && b64_val(c) < 0)
			return -1;
		b->c[b->n++] = c;
		if (b->n < 4)
			continue;
		b->n = 0;
		/* a quad: xx== gives one byte, xxx= two, xxxx three; gRPC-Web text may
		 * concatenate padded pieces, so padding may be followed by more */
		if (b->c[0] == '=' || b->c[1] == '=' || (b->c[2] == '=' && b->c[3] != '='))
			return -1;
		{
			uint32_t v = (uint32_t)b64_val(b->c[0]) << 18 | (uint32_t)b64_val(b->c[1]) << 12;

			out[o++] = (uint8_t)(v >> 16);
			if (b->c[2] != '=') {
				v |= (uint32_t)b64_val(b->c[2]) << 6;
				out[o++] = (uint8_t)(v >> 8);
				if (b->c[3] != '=') {
					v |= (uint32_t)b64_val(b->c[3]);
					out[o++] = (uint8_t)v;
				}
			}
		}
	}
	return (long)o;
}

size_t
gw_b64_encode(struct gw_b64 *b, const uint8_t *in, size_t len, char *out, int final)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i = 0, o = 0;

	while (i < len || (final && b->n > 0)) {
		uint32_t v;
		size_t k;

		while (b->n < 3 && i < len)
			b->c[b->n++] = in[i++];
		if (b->n < 3 && !final)
			break;
		k = b->n;
		v = (uint32_t)b->c[0] << 16 | (k > 1 ? (uint32_t)b->c[1] << 8 : 0) |
		    (k > 2 ? b->c[2] : 0);
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = k > 1 ? tab[v >> 6 & 63] : '=';
		out[o++] = k > 2 ? tab[v & 63] : '=';
		b->n = 0;
	}
	return o;
}

void
gw_grpcweb_trailers(const struct hhead *hh, struct vg_buf *out)
{
	size_t start = out->len, i, j, len;
	uint8_t hd[5] = { 0x80, 0, 0, 0, 0 };

	buf_append(out, (const char *)hd, 5);
	for (i = 0; i < hh->n; i++) {
		for (j = 0; j < hh->h[i].nl; j++) {
			char c = (char)tolower((unsigned char)HN(hh, i)[j]);

			buf_append(out, &c, 1);
		}
		buf_append(out, ":", 1);
		buf_append(out, HV(hh, i), hh->h[i].vl);
		buf_append(out, "\r\n", 2);
	}
	len = out->len - start - 5;
	out->s[start + 1] = (char)(len >> 24);
	out->s[start + 2] = (char)(len >> 16);
	out->s[start + 3] = (char)(len >> 8);
	out->s[start + 4] = (char)len;
}
