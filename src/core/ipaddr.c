#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/ipaddr.h"
#include "vipgate/util.h"

int
ipaddr_parse(const char *s, struct ipaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (s == NULL)
		return -1;
	if (strchr(s, ':') == NULL) {
		if (inet_pton(AF_INET, s, a->a) != 1)
			return -1;
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->a) != 1)
		return -1;
	a->family = AF_INET6;
	return 0;
}

int
ipaddr_bits(const struct ipaddr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

int
ipaddr_parse_cidr(const char *s, struct ipaddr *a, int *plen, int loose)
{
	char buf[64], *slash, *end;
	struct ipaddr first;
	long l;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash == NULL)
		return -1;
	*slash++ = '\0';
	if (*slash == '\0' || ipaddr_parse(buf, a) == -1)
		return -1;
	l = strtol(slash, &end, 10);
	if (*end != '\0' || l < 0 || l > ipaddr_bits(a))
		return -1;
	*plen = (int)l;
	ipaddr_prefix_first(a, *plen, &first);
	if (!ipaddr_eq(&first, a)) {
		if (!loose)
			return -1;
		*a = first;
	}
	return 0;
}

const char *
ipaddr_fmt(const struct ipaddr *a, char *buf)
{
	if (a->family == 0 ||
	    inet_ntop(a->family, a->a, buf, IPADDR_STRLEN) == NULL)
		strcpy(buf, "?");
	return buf;
}

int
ipaddr_cmp(const struct ipaddr *x, const struct ipaddr *y)
{
	if (x->family != y->family)
		return x->family == AF_INET ? -1 : (y->family == AF_INET ? 1 :
		    (int)x->family - (int)y->family);
	return memcmp(x->a, y->a, 16);
}

int
ipaddr_eq(const struct ipaddr *x, const struct ipaddr *y)
{
	return ipaddr_cmp(x, y) == 0;
}

int
ipaddr_inc(struct ipaddr *a)
{
	int i = ipaddr_bits(a) / 8 - 1;

	for (; i >= 0; i--)
		if (++a->a[i] != 0)
			return 0;
	return -1;
}

int
ipaddr_dec(struct ipaddr *a)
{
	int i = ipaddr_bits(a) / 8 - 1;

	for (; i >= 0; i--)
		if (a->a[i]-- != 0)
			return 0;
	return -1;
}

static void
mask(const struct ipaddr *a, int plen, struct ipaddr *out, int set)
{
	int i, bytes = ipaddr_bits(a) / 8;

	*out = *a;
	for (i = 0; i < bytes; i++) {
		int bit0 = i * 8;
		uint8_t m;

		if (plen >= bit0 + 8)
			continue;
		m = plen <= bit0 ? 0 : (uint8_t)(0xff << (8 - (plen - bit0)));
		out->a[i] = set ? (out->a[i] | (uint8_t)~m) : (out->a[i] & m);
	}
}

void
ipaddr_prefix_first(const struct ipaddr *a, int plen, struct ipaddr *out)
{
	mask(a, plen, out, 0);
}

void
ipaddr_prefix_last(const struct ipaddr *a, int plen, struct ipaddr *out)
{
	mask(a, plen, out, 1);
}

uint64_t
ipaddr_span(const struct ipaddr *lo, const struct ipaddr *hi)
{
	uint8_t d[16];
	int i, borrow = 0, bytes = ipaddr_bits(lo) / 8;
	uint64_t v = 0;

	if (lo->family != hi->family || ipaddr_cmp(lo, hi) > 0)
		return 0;
	for (i = bytes - 1; i >= 0; i--) {
		int x = (int)hi->a[i] - (int)lo->a[i] - borrow;

		borrow = x < 0;
		d[i] = (uint8_t)(x + (borrow ? 256 : 0));
	}
	for (i = 0; i < bytes - 8; i++)
		if (d[i])
			return UINT64_MAX;
	for (i = bytes > 8 ? bytes - 8 : 0; i < bytes; i++)
		v = (v << 8) | d[i];
	return v == UINT64_MAX ? v : v + 1;
}

uint64_t
ipaddr_hash(const struct ipaddr *a)
{
	return hash_bytes(hash_bytes(HASH_INIT, &a->family, 1), a->a, 16);
}

int
ipaddr_list_eq(const struct ipaddr *a, size_t na, const struct ipaddr *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (!ipaddr_eq(&a[i], &b[i]))
			return 0;
	return 1;
}
