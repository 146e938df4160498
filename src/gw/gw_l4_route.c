/*
 * Which tcp[] or tls[] rule a connection takes (Envoy's filter chain
 * match for the chains istiod makes of them): pure, on the compiled
 * listener (gw-l4-t.h), so the tests drive it without sockets.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "vipgate/gw-l4.h"

int
gw_cidr_has(const struct gw_cidr *c, const struct ipaddr *a)
{
	int bits, full, rest;

	if (a == NULL || a->family != c->addr.family)
		return 0;
	bits = c->plen;
	if (bits < 0 || bits > ipaddr_bits(a))
		return 0;
	full = bits / 8;
	rest = bits % 8;
	if (memcmp(a->a, c->addr.a, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a->a[full] ^ c->addr.a[full]) & (0xff << (8 - rest))) == 0;
}

static int
cidrs_have(const struct gw_cidr *v, size_t n, const struct ipaddr *a)
{
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (gw_cidr_has(&v[i], a))
			return 1;
	return 0;
}

/*
 * How well server name pattern pat takes sni: 0 not at all; "*" 1 (it
 * also takes no SNI, as a chain without server_names does); a wildcard
 * 2 + its length; an exact name above every wildcard.
 */
static size_t
sni_score(const char *pat, const char *sni)
{
	size_t lp, ln;

	if (strcmp(pat, "*") == 0)
		return 1;
	if (sni == NULL || *sni == '\0')
		return 0;
	if (strcasecmp(pat, sni) == 0)
		return 1000;
	if (pat[0] != '*')
		return 0;
	/* "*.example.com" takes "a.example.com", "a.b.example.com", not "example.com" */
	lp = strlen(pat + 1);
	ln = strlen(sni);
	if (ln > lp && strcasecmp(sni + ln - lp, pat + 1) == 0)
		return 2 + lp;
	return 0;
}

/*
 * AUTO_PASSTHROUGH. istiod (gateway.go builtAutoPassthroughFilterChains)
 * gives such a server one filter chain per cluster of every Service and
 * MESH_INTERNAL ServiceEntry whose hostname is within the server's hosts
 * (hostnames alone, a "ns/" part cut off): each port but UDP ones,
 * without a subset and with each subset of the host's DestinationRule,
 * server_names the cluster's name "outbound_.<port>_.<subset>_.<host>",
 * ending in a tcp_proxy to an SNI-DNAT cluster of that name (the
 * DestinationRule's load balancing and outlier detection, no TLS of its
 * own: the client's bytes go as they came). Envoy compares the SNI with
 * server_names whole, so a name of any other form, or of a cluster that
 * is not built (no such host, port or subset), matches no chain and the
 * connection is closed. Those chains also require an Istio ALPN
 * ("istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1",
 * "istio-h2": a sidecar's mTLS), so that only Istio's mTLS reaches a
 * workload this way: the caller says whether the hello offered one
 * (gw_sni_istio_alpn).
 */
static int
label_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-';
}

int
gw_autopass_parse(const char *sni, struct gw_autopass_name *out)
{
	static const char pfx[] = "outbound_.";
	const char *s;
	unsigned long port = 0;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (sni == NULL || strncasecmp(sni, pfx, sizeof(pfx) - 1) != 0)
		return -1;
	s = sni + sizeof(pfx) - 1;
	/* the port as istiod prints it: no sign, no leading zero */
	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++) {
		if (n == 5)
			return -1;
		port = port * 10 + (unsigned long)(s[n] - '0');
	}
	if (n == 0 || s[0] == '0' || port > 65535 || s[n] != '_' || s[n + 1] != '.')
		return -1;
	out->port = (uint16_t)port;
	s += n + 2;
	/* the subset: a DNS label (a DestinationRule's subset name), or empty */
	for (n = 0; label_char((unsigned char)s[n]); n++)
		;
	if (n > 63 || s[n] != '_' || s[n + 1] != '.')
		return -1;
	out->subset = s;
	out->subset_len = n;
	s += n + 2;
	n = strlen(s);
	if (n == 0 || n > 253)
		return -1;
	out->host = s;
	out->host_len = n;
	return 0;
}

static int
cmp_part(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = strncasecmp(a, b, alen < blen ? alen : blen);

	if (r)
		return r;
	return alen < blen ? -1 : alen > blen;
}

int
gw_l4_auto_cmp(const struct gw_l4_auto *a, const struct gw_l4_auto *b)
{
	int r = cmp_part(a->host, strlen(a->host), b->host, strlen(b->host));

	if (r)
		return r;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return cmp_part(a->subset, strlen(a->subset), b->subset, strlen(b->subset));
}

const struct gw_l4_route *
gw_l4_auto_find(const struct gw_l4 *l4, const char *sni)
{
	struct gw_autopass_name nm;
	size_t lo = 0, hi;

	if (l4 == NULL || l4->nautos == 0 || gw_autopass_parse(sni, &nm) == -1)
		return NULL;
	hi = l4->nautos;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct gw_l4_auto *a = &l4->autos[mid];
		int r = cmp_part(nm.host, nm.host_len, a->host, strlen(a->host));

		if (r == 0 && nm.port != a->port)
			r = nm.port < a->port ? -1 : 1;
		if (r == 0)
			r = cmp_part(nm.subset, nm.subset_len, a->subset, strlen(a->subset));
		if (r == 0)
			return &a->route;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct gw_l4_route *
gw_l4_route_find(const struct gw_l4 *l4, uint16_t port, const struct ipaddr *dst,
    const struct ipaddr *src, const char *sni, int istio_alpn)
{
	const struct gw_l4_route *best = NULL;
	size_t i, j, k, bestscore = 0;

	if (l4 == NULL)
		return NULL;
	if (l4->nautos && sni && istio_alpn && (best = gw_l4_auto_find(l4, sni)) != NULL)
		return best;
	for (i = 0; i < l4->nroutes; i++) {
		const struct gw_l4_route *r = &l4->routes[i];

		if (r->nmatches == 0 && l4->kind != GW_L4_PASSTHROUGH)
			return r;	/* TCP: a rule without matches takes all */
		for (j = 0; j < r->nmatches; j++) {
			const struct gw_l4_match *m = &r->matches[j];
			size_t score = 1;

			if ((m->port && m->port != port) || !cidrs_have(m->dst, m->ndst, dst) ||
			    !cidrs_have(m->src, m->nsrc, src))
				continue;
			if (l4->kind == GW_L4_PASSTHROUGH) {
				score = 0;
				for (k = 0; k < m->nsni; k++) {
					size_t s = sni_score(m->sni[k], sni);

					if (s > score)
						score = s;
				}
				if (score == 0)
					continue;
			} else
				return r;	/* TCP (TLS ended or not): the first rule that applies */
			if (score > bestscore) {
				best = r;
				bestscore = score;
			}
		}
	}
	return best;
}

const struct gw_dest *
gw_l4_pick_dest(const struct gw_l4_route *r, uint32_t rnd)
{
	uint32_t x;
	size_t i;

	if (r == NULL || r->ndests == 0 || r->total_weight == 0)
		return NULL;
	x = (uint32_t)(((uint64_t)rnd * r->total_weight) >> 32);
	for (i = 0; i < r->ndests; i++) {
		if (x < r->dests[i].weight)
			return &r->dests[i];
		x -= r->dests[i].weight;
	}
	return &r->dests[r->ndests - 1];
}
