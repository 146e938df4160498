/* metallb.io kinds (api/v1beta1, api/v1beta2). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"

/* ---- IPAddressPool ---- */

static const struct sc_field svcalloc_fields[] = {
	SCF("priority", SC_OPTINT, struct k_service_allocation, priority),
	SCF_LIST("namespaces", struct k_service_allocation, namespaces, nnamespaces),
	SCF_SELS("namespaceSelectors", struct k_service_allocation, namespace_selectors, nnamespace_selectors),
	SCF_SELS("serviceSelectors", struct k_service_allocation, service_selectors, nservice_selectors),
	SCF_END
};
static const struct sc_schema svcalloc_schema = {
	"ServiceAllocation", sizeof(struct k_service_allocation), svcalloc_fields, NULL
};

/*
 * "10.0.0.0/24", "10.0.0.1-10.0.0.9" (spaces around '-' allowed), IPv4 or
 * IPv6 (MetalLB internal/config/config.go parseCIDR / parseRange).
 */
int
pool_parse_range(const char *s, struct pool_range *r, char *err, size_t errlen)
{
	char buf[128], *dash;

	memset(r, 0, sizeof(*r));
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "\"%s\" is too long", s);
		return -1;
	}
	strcpy(buf, s);
	if (strchr(buf, '/')) {
		int plen;

		if (ipaddr_parse_cidr(buf, &r->first, &plen, 0) == -1) {
			snprintf(err, errlen, "\"%s\" is not a CIDR (network/length with no host bits set)", s);
			return -1;
		}
		ipaddr_prefix_last(&r->first, plen, &r->last);
		r->is_cidr = 1;
		r->plen = plen;
		return 0;
	}
	dash = strchr(buf, '-');
	if (dash == NULL) {
		snprintf(err, errlen, "\"%s\" is neither a CIDR nor a range a-b", s);
		return -1;
	}
	*dash = '\0';
	{
		char *a = buf, *b = dash + 1, *e;

		while (*a == ' ')
			a++;
		for (e = dash - 1; e >= a && *e == ' '; e--)
			*e = '\0';
		while (*b == ' ')
			b++;
		for (e = b + strlen(b) - 1; e >= b && *e == ' '; e--)
			*e = '\0';
		if (ipaddr_parse(a, &r->first) == -1 || ipaddr_parse(b, &r->last) == -1) {
			snprintf(err, errlen, "\"%s\": the range ends must be IP addresses", s);
			return -1;
		}
	}
	if (r->first.family != r->last.family) {
		snprintf(err, errlen, "\"%s\": the range mixes IPv4 and IPv6", s);
		return -1;
	}
	if (ipaddr_cmp(&r->first, &r->last) > 0) {
		snprintf(err, errlen, "\"%s\": the range's start is after its end", s);
		return -1;
	}
	return 0;
}

static int
range_overlap(const struct pool_range *a, const struct pool_range *b)
{
	return a->first.family == b->first.family &&
	    ipaddr_cmp(&a->first, &b->last) <= 0 && ipaddr_cmp(&b->first, &a->last) <= 0;
}

static int
range_first_cmp(const void *a, const void *b, void *arg)
{
	const struct pool_range *r = arg;

	return ipaddr_cmp(&r[*(const size_t *)a].first, &r[*(const size_t *)b].first);
}

/* Whether two of the first k ranges overlap: sorted by start, a range
 * overlaps one before it when it starts before the furthest end so far. */
static int
ranges_overlap(const struct pool_range *r, size_t k, size_t *idx)
{
	const struct ipaddr *end = NULL;
	size_t i;

	for (i = 0; i < k; i++)
		idx[i] = i;
	qsort_r(idx, k, sizeof(*idx), range_first_cmp, (void *)(uintptr_t)r);
	for (i = 0; i < k; i++) {
		const struct pool_range *x = &r[idx[i]];

		if (end != NULL && end->family == x->first.family &&
		    ipaddr_cmp(&x->first, end) <= 0)
			return 1;
		if (end == NULL || end->family != x->first.family ||
		    ipaddr_cmp(&x->last, end) > 0)
			end = &x->last;
	}
	return 0;
}

static int
pool_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_ipaddresspool *p = obj;
	const struct ynode *an = yn_get(n, "addresses");
	size_t i, j, nok, lo, hi, *idx;
	char err[256];

	if (p->naddresses == 0) {
		sc_error(c, an ? an : n, "addresses: at least one CIDR or range is required");
		return -1;
	}
	p->ranges = arena_alloc(c->arena, sizeof(*p->ranges) * p->naddresses);
	for (nok = 0; nok < p->naddresses; nok++)
		if (pool_parse_range(p->addresses[nok], &p->ranges[nok], err, sizeof(err)) == -1)
			break;
	/*
	 * The first range that overlaps one before it, and the first of
	 * those (as a scan of the ranges before each finds them, without
	 * its n^2): the shortest prefix with an overlap, by bisection.
	 */
	idx = xreallocarray(NULL, nok + 1, sizeof(*idx));
	if (nok >= 2 && ranges_overlap(p->ranges, nok, idx)) {
		for (lo = 2, hi = nok; lo < hi; ) {
			size_t mid = lo + (hi - lo) / 2;

			if (ranges_overlap(p->ranges, mid, idx))
				hi = mid;
			else
				lo = mid + 1;
		}
		i = lo - 1;
		for (j = 0; !range_overlap(&p->ranges[i], &p->ranges[j]); j++)
			;
		free(idx);
		sc_error(c, an && an->type == YN_SEQ && i < an->n ? an->vals[i] : n,
		    "addresses[%zu]: \"%s\" overlaps \"%s\"", i, p->addresses[i],
		    p->addresses[j]);
		return -1;
	}
	free(idx);
	if (nok < p->naddresses) {
		i = nok;
		/* err still says why it did not parse */
		sc_error(c, an && an->type == YN_SEQ && i < an->n ? an->vals[i] : n,
		    "addresses[%zu]: %s", i, err);
		return -1;
	}
	p->nranges = p->naddresses;
	return 0;
}

static const struct sc_field pool_spec_fields[] = {
	SCF_LIST("addresses", struct k_ipaddresspool, addresses, naddresses),
	SCF_DEF("autoAssign", SC_BOOL, struct k_ipaddresspool, auto_assign, 1),
	SCF("avoidBuggyIPs", SC_BOOL, struct k_ipaddresspool, avoid_buggy_ips),
	SCF_OBJPTR("serviceAllocation", struct k_ipaddresspool, service_allocation, &svcalloc_schema),
	SCF_END
};
static const struct sc_schema pool_spec_schema = {
	"IPAddressPoolSpec", sizeof(struct k_ipaddresspool), pool_spec_fields, pool_check
};

KIND_SPEC_ONLY(ipaddresspool, struct k_ipaddresspool, pool_spec_schema, "IPAddressPool", 0);

/* ---- L2Advertisement ---- */

static int
preferred_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_preferred_node *p = obj;

	if (p->weight < 1 || p->weight > 100) {
		sc_error(c, n, "weight %lld is out of range 1-100", (long long)p->weight);
		return -1;
	}
	return 0;
}
static const struct sc_field preferred_fields[] = {
	SCF_REQ("weight", SC_INT, struct k_preferred_node, weight),
	SCF_OBJ("preference", struct k_preferred_node, preference, &labelsel_schema),
	SCF_END
};
static const struct sc_schema preferred_schema = {
	"PreferredNodeSelector", sizeof(struct k_preferred_node), preferred_fields, preferred_check
};

static const struct sc_field l2_spec_fields[] = {
	SCF_LIST("ipAddressPools", struct k_l2advertisement, ip_address_pools, nip_address_pools),
	SCF_SELS("ipAddressPoolSelectors", struct k_l2advertisement, ip_address_pool_selectors, nip_address_pool_selectors),
	SCF_SELS("nodeSelectors", struct k_l2advertisement, node_selectors, nnode_selectors),
	SCF_SELS("serviceSelectors", struct k_l2advertisement, service_selectors, nservice_selectors),
	SCF_LIST("interfaces", struct k_l2advertisement, interfaces, ninterfaces),
	SCF_OBJS("preferredNodeSelectors", struct k_l2advertisement, preferred, npreferred, &preferred_schema),
	SCF_END
};
static const struct sc_schema l2_spec_schema = {
	"L2AdvertisementSpec", sizeof(struct k_l2advertisement), l2_spec_fields, NULL
};
KIND_SPEC_ONLY(l2advertisement, struct k_l2advertisement, l2_spec_schema, "L2Advertisement", 0);

/* ---- BGPAdvertisement ---- */

static int
bgpadv_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_bgpadvertisement *a = obj;

	if (a->aggregation_length < 0 || a->aggregation_length > 32) {
		sc_error(c, n, "aggregationLength %lld is out of range 0-32",
		    (long long)a->aggregation_length);
		return -1;
	}
	if (a->aggregation_length_v6 < 0 || a->aggregation_length_v6 > 128) {
		sc_error(c, n, "aggregationLengthV6 %lld is out of range 0-128",
		    (long long)a->aggregation_length_v6);
		return -1;
	}
	if (a->local_pref.set && (a->local_pref.v < 0 || a->local_pref.v > 4294967295LL)) {
		sc_error(c, n, "localPref %lld is out of range", (long long)a->local_pref.v);
		return -1;
	}
	/* MetalLB: serviceSelectors only with /32 and /128 aggregation */
	if (a->nservice_selectors && (a->aggregation_length != 32 ||
	    a->aggregation_length_v6 != 128)) {
		sc_error(c, n, "serviceSelectors need aggregationLength 32 and aggregationLengthV6 128");
		return -1;
	}
	return 0;
}
static const struct sc_field bgpadv_spec_fields[] = {
	SCF_DEF("aggregationLength", SC_INT, struct k_bgpadvertisement, aggregation_length, 32),
	SCF_DEF("aggregationLengthV6", SC_INT, struct k_bgpadvertisement, aggregation_length_v6, 128),
	SCF("localPref", SC_OPTINT, struct k_bgpadvertisement, local_pref),
	SCF_LIST("communities", struct k_bgpadvertisement, communities, ncommunities),
	SCF_LIST("peers", struct k_bgpadvertisement, peers, npeers),
	SCF_SELS("nodeSelectors", struct k_bgpadvertisement, node_selectors, nnode_selectors),
	SCF_LIST("ipAddressPools", struct k_bgpadvertisement, ip_address_pools, nip_address_pools),
	SCF_SELS("ipAddressPoolSelectors", struct k_bgpadvertisement, ip_address_pool_selectors, nip_address_pool_selectors),
	SCF_SELS("serviceSelectors", struct k_bgpadvertisement, service_selectors, nservice_selectors),
	SCF_END
};
static const struct sc_schema bgpadv_spec_schema = {
	"BGPAdvertisementSpec", sizeof(struct k_bgpadvertisement), bgpadv_spec_fields, bgpadv_check
};
KIND_SPEC_ONLY(bgpadvertisement, struct k_bgpadvertisement, bgpadv_spec_schema, "BGPAdvertisement", 0);

/* ---- BGPPeer ---- */

static int
bgppeer_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_bgppeer *p = obj;
	struct ipaddr a;

	if (p->peer_address == NULL && p->iface == NULL) {
		sc_error(c, n, "peerAddress is required (or interface)");
		return -1;
	}
	if (p->peer_address && ipaddr_parse(p->peer_address, &a) == -1) {
		sc_error(c, n, "peerAddress \"%s\" is not an IP address", p->peer_address);
		return -1;
	}
	if (p->source_address && ipaddr_parse(p->source_address, &a) == -1) {
		sc_error(c, n, "sourceAddress \"%s\" is not an IP address", p->source_address);
		return -1;
	}
	if (p->router_id && (ipaddr_parse(p->router_id, &a) == -1 || a.family != AF_INET)) {
		sc_error(c, n, "routerID \"%s\" is not an IPv4 address", p->router_id);
		return -1;
	}
	if (p->my_asn < 1 || p->my_asn > 4294967295LL) {
		sc_error(c, n, "myASN %lld is out of range 1-4294967295", (long long)p->my_asn);
		return -1;
	}
	if (p->dynamic_asn == NULL && (p->peer_asn < 1 || p->peer_asn > 4294967295LL)) {
		sc_error(c, n, "peerASN is required, 1-4294967295 (or dynamicASN)");
		return -1;
	}
	if (p->dynamic_asn && strcmp(p->dynamic_asn, "internal") &&
	    strcmp(p->dynamic_asn, "external")) {
		sc_error(c, n, "dynamicASN \"%s\" is not internal or external", p->dynamic_asn);
		return -1;
	}
	if (p->dynamic_asn && p->peer_asn) {
		sc_error(c, n, "peerASN and dynamicASN exclude each other");
		return -1;
	}
	if (p->peer_port < 1 || p->peer_port > 16384) {
		sc_error(c, n, "peerPort %lld is out of range 1-16384", (long long)p->peer_port);
		return -1;
	}
	if (p->hold_time_ms.set && p->hold_time_ms.v != 0 && p->hold_time_ms.v < 3000) {
		sc_error(c, n, "holdTime must be 0 or at least 3s");
		return -1;
	}
	if (p->keepalive_time_ms.set && p->hold_time_ms.set &&
	    p->keepalive_time_ms.v > p->hold_time_ms.v) {
		sc_error(c, n, "keepaliveTime must not exceed holdTime");
		return -1;
	}
	if (p->password && p->password_secret.name) {
		sc_error(c, n, "password and passwordSecret exclude each other");
		return -1;
	}
	if (p->password && strlen(p->password) > 80) {
		sc_error(c, n, "password is longer than TCP MD5's 80 bytes");
		return -1;
	}
	return 0;
}
static const struct sc_field secretref_fields[] = {
	SCF("name", SC_STR, struct k_secretref, name),
	SCF("namespace", SC_STR, struct k_secretref, ns),
	SCF_END
};
static const struct sc_schema secretref_schema = {
	"SecretReference", sizeof(struct k_secretref), secretref_fields, NULL
};
static const struct sc_field bgppeer_spec_fields[] = {
	SCF("myASN", SC_INT, struct k_bgppeer, my_asn),
	SCF("peerASN", SC_INT, struct k_bgppeer, peer_asn),
	SCF("dynamicASN", SC_STR, struct k_bgppeer, dynamic_asn),
	SCF("peerAddress", SC_STR, struct k_bgppeer, peer_address),
	SCF("sourceAddress", SC_STR, struct k_bgppeer, source_address),
	SCF_DEF("peerPort", SC_INT, struct k_bgppeer, peer_port, 179),
	SCF("holdTime", SC_OPTDURATION, struct k_bgppeer, hold_time_ms),
	SCF("keepaliveTime", SC_OPTDURATION, struct k_bgppeer, keepalive_time_ms),
	SCF("connectTime", SC_OPTDURATION, struct k_bgppeer, connect_time_ms),
	SCF("routerID", SC_STR, struct k_bgppeer, router_id),
	SCF_SELS("nodeSelectors", struct k_bgppeer, node_selectors, nnode_selectors),
	SCF("password", SC_STR, struct k_bgppeer, password),
	SCF_OBJ("passwordSecret", struct k_bgppeer, password_secret, &secretref_schema),
	SCF("bfdProfile", SC_STR, struct k_bgppeer, bfd_profile),
	SCF("ebgpMultiHop", SC_BOOL, struct k_bgppeer, ebgp_multihop),
	SCF("enableGracefulRestart", SC_BOOL, struct k_bgppeer, enable_graceful_restart),
	SCF("disableMP", SC_BOOL, struct k_bgppeer, disable_mp),
	SCF("vrf", SC_STR, struct k_bgppeer, vrf),
	SCF("interface", SC_STR, struct k_bgppeer, iface),
	SCF_IGNORE("dualStackAddressFamily"),
	SCF_END
};
static const struct sc_schema bgppeer_spec_schema = {
	"BGPPeerSpec", sizeof(struct k_bgppeer), bgppeer_spec_fields, bgppeer_check
};
KIND_SPEC_ONLY(bgppeer, struct k_bgppeer, bgppeer_spec_schema, "BGPPeer", 0);

/* ---- BFDProfile ---- */

static const struct sc_field bfd_spec_fields[] = {
	SCF("receiveInterval", SC_OPTINT, struct k_bfdprofile, receive_interval),
	SCF("transmitInterval", SC_OPTINT, struct k_bfdprofile, transmit_interval),
	SCF("detectMultiplier", SC_OPTINT, struct k_bfdprofile, detect_multiplier),
	SCF("echoInterval", SC_OPTINT, struct k_bfdprofile, echo_interval),
	SCF("minimumTtl", SC_OPTINT, struct k_bfdprofile, minimum_ttl),
	SCF("echoMode", SC_BOOL, struct k_bfdprofile, echo_mode),
	SCF("passiveMode", SC_BOOL, struct k_bfdprofile, passive_mode),
	SCF_END
};
static const struct sc_schema bfd_spec_schema = {
	"BFDProfileSpec", sizeof(struct k_bfdprofile), bfd_spec_fields, NULL
};
KIND_SPEC_ONLY(bfdprofile, struct k_bfdprofile, bfd_spec_schema, "BFDProfile", 0);

/* ---- Community ---- */

static const struct sc_field alias_fields[] = {
	SCF_REQ("name", SC_STR, struct k_community_alias, name),
	SCF_REQ("value", SC_STR, struct k_community_alias, value),
	SCF_END
};
static const struct sc_schema alias_schema = {
	"CommunityAlias", sizeof(struct k_community_alias), alias_fields, NULL
};
static const struct sc_field community_spec_fields[] = {
	SCF_OBJS("communities", struct k_community, communities, ncommunities, &alias_schema),
	SCF_END
};
static const struct sc_schema community_spec_schema = {
	"CommunitySpec", sizeof(struct k_community), community_spec_fields, NULL
};
KIND_SPEC_ONLY(community, struct k_community, community_spec_schema, "Community", 0);
