/*
 * BGP communities (RFC 1997) and large communities (RFC 8092) in MetalLB's
 * syntax, as BGPAdvertisements and Community objects write them. Here, not
 * in src/bgp/, because the planner (src/reconcile/bgp_plan.c) reads them
 * and the speaker only sends what the planner made of them.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "vipgate/community.h"

static const struct {
	const char	*name;
	uint32_t	 v;
} wellknown[] = {
	{ "graceful-shutdown", 0xFFFF0000u },	/* RFC 8326 */
	{ "accept-own", 0xFFFF0001u },		/* RFC 7611 */
	{ "route-filter-translated-v4", 0xFFFF0002u },
	{ "route-filter-v4", 0xFFFF0003u },
	{ "route-filter-translated-v6", 0xFFFF0004u },
	{ "route-filter-v6", 0xFFFF0005u },
	{ "llgr-stale", 0xFFFF0006u },		/* RFC 9494 */
	{ "no-llgr", 0xFFFF0007u },
	{ "accept-own-nexthop", 0xFFFF0008u },
	{ "blackhole", 0xFFFF029Au },		/* RFC 7999 */
	{ "no-export", 0xFFFFFF01u },
	{ "no-advertise", 0xFFFFFF02u },
	{ "no-export-subconfed", 0xFFFFFF03u },
	{ "local-as", 0xFFFFFF03u },		/* FRR's name for it */
	{ "no-peer", 0xFFFFFF04u },		/* RFC 3765 */
};

/* A decimal number up to max, nothing else: for the fields of a community. */
static int
parse_u32(const char *s, const char **end, uint64_t max, uint32_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return -1;
		p++;
	}
	*out = (uint32_t)v;
	*end = p;
	return 0;
}

int
bgp_community_parse(const char *s, uint32_t *std, struct bgp_large_comm *lc)
{
	const char *p;
	uint32_t a, b, c;
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(wellknown) / sizeof(wellknown[0]); i++)
		if (strcmp(s, wellknown[i].name) == 0) {
			*std = wellknown[i].v;
			return 1;
		}
	if (strncmp(s, "large:", 6) == 0) {
		if (parse_u32(s + 6, &p, 0xffffffffu, &a) || *p++ != ':' ||
		    parse_u32(p, &p, 0xffffffffu, &b) || *p++ != ':' ||
		    parse_u32(p, &p, 0xffffffffu, &c) || *p != 0)
			return -1;
		lc->global = a;
		lc->local1 = b;
		lc->local2 = c;
		return 2;
	}
	if (parse_u32(s, &p, 0xffff, &a) || *p++ != ':' || parse_u32(p, &p, 0xffff, &b) ||
	    *p != 0)
		return -1;
	*std = a << 16 | b;
	return 1;
}
