/*
 * The BGP part of the desired state (MetalLB semantics,
 * metallb-semantics.md §1): the BGPPeers of this node with their settings
 * resolved, and for each the prefixes the BGPAdvertisements give it, with
 * their attributes. Pure; allocates from d->arena only; deterministic.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/bgp-plan.h"
#include "vipgate/community.h"
#include "vipgate/log.h"
#include "vipgate/objects.h"
#include "vipgate/reconcile.h"

#include "select.h"

#define LABEL_EXCLUDE_LB	"node.kubernetes.io/exclude-from-external-load-balancers"
#define MAX_COMMS		255	/* per attribute set; more are dropped */
/*
 * What the two COMMUNITIES attributes may take of one UPDATE (4,096 bytes):
 * 255 standard (4 bytes each) and 255 large (12) do not fit together with
 * the other attributes and a prefix, and a route whose attributes do not
 * fit is not announced at all. Standard ones first; large ones get the rest.
 */
#define COMM_BYTES		3072

int
bgp_prefix_cmp(const struct bgp_prefix *a, const struct bgp_prefix *b)
{
	int r = ipaddr_cmp(&a->addr, &b->addr);

	if (r)
		return r;
	return a->plen < b->plen ? -1 : a->plen > b->plen;
}

int
bgp_peer_key_cmp(const struct bgp_peer_desired *a, const struct bgp_peer_desired *b)
{
	int r = ipaddr_cmp(&a->addr, &b->addr);

	if (r)
		return r;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if ((r = strcmp(a->vrf, b->vrf)) != 0)
		return r;
	return str_cmp_null(a->iface, b->iface);
}

int
bgp_peer_session_differs(const struct bgp_peer_desired *a, const struct bgp_peer_desired *b)
{
	return a->my_asn != b->my_asn || a->peer_asn != b->peer_asn ||
	    a->dynamic != b->dynamic || !ipaddr_eq(&a->src, &b->src) ||
	    a->router_id != b->router_id || a->hold_s != b->hold_s ||
	    a->keepalive_s != b->keepalive_s || !str_eq(a->password, b->password) ||
	    a->ebgp_multihop != b->ebgp_multihop ||
	    a->graceful_restart != b->graceful_restart || a->disable_mp != b->disable_mp ||
	    !str_eq(a->problem, b->problem);
}

int
bgp_attrset_eq(const struct bgp_attrset *a, const struct bgp_attrset *b)
{
	if (a == b)
		return 1;
	return a->has_local_pref == b->has_local_pref &&
	    (!a->has_local_pref || a->local_pref == b->local_pref) &&
	    a->ncomms == b->ncomms && a->nlarge == b->nlarge &&
	    (a->ncomms == 0 || memcmp(a->comms, b->comms, a->ncomms * sizeof(uint32_t)) == 0) &&
	    (a->nlarge == 0 ||
	    memcmp(a->large, b->large, a->nlarge * sizeof(*a->large)) == 0);
}

/* One contribution of an advertisement to a prefix, before merging. */
struct contrib {
	struct bgp_prefix	 pfx;
	const struct object	*adv;
	const char		*svc;
};

static int
cmp_contrib(const void *x, const void *y)
{
	const struct contrib *a = x, *b = y;
	int r = bgp_prefix_cmp(&a->pfx, &b->pfx);

	if (r)
		return r;
	/* the advertisements in a stable order: namespace/name */
	r = strcmp(a->adv->meta.ns, b->adv->meta.ns);
	if (r == 0)
		r = strcmp(a->adv->meta.name, b->adv->meta.name);
	if (r == 0)
		r = strcmp(a->svc, b->svc);
	return r;
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

static int
cmp_large(const void *x, const void *y)
{
	const struct bgp_large_comm *a = x, *b = y;

	if (a->global != b->global)
		return a->global < b->global ? -1 : 1;
	if (a->local1 != b->local1)
		return a->local1 < b->local1 ? -1 : 1;
	return a->local2 < b->local2 ? -1 : a->local2 > b->local2;
}

/* A community string, or a Community alias in the advertisement's namespace. */
static int
resolve_community(struct store *st, const char *ns, const char *s, uint32_t *c,
    struct bgp_large_comm *lc)
{
	struct object * const *l;
	size_t n, i, j;
	int r = bgp_community_parse(s, c, lc);

	if (r > 0)
		return r;
	l = store_list(st, K_COMMUNITY, &n);
	for (i = 0; i < n; i++) {
		const struct k_community *k = l[i]->spec;

		if (strcmp(l[i]->meta.ns, ns) != 0)
			continue;
		for (j = 0; j < k->ncommunities; j++)
			if (str_eq(k->communities[j].name, s))
				return bgp_community_parse(k->communities[j].value, c, lc);
	}
	return -1;
}

static uint32_t
ipv4_u32(const struct ipaddr *ip)
{
	return (uint32_t)ip->a[0] << 24 | (uint32_t)ip->a[1] << 16 |
	    (uint32_t)ip->a[2] << 8 | ip->a[3];
}

/*
 * The BFDProfile a BGPPeer names (in its namespace), with MetalLB's
 * defaults and ranges (api/v1beta1/bfdprofile_types.go): 300 ms, x3. A
 * missing or out-of-range profile leaves BFD off for the peer, noted; the
 * BGP session runs without it.
 */
static void
bfd_settings(struct vg_arena *a, struct store *st, const struct object *o,
    struct bgp_peer_desired *p)
{
	const struct object *po = store_get(st, K_BFDPROFILE, o->meta.ns, p->bfd_profile);
	const struct k_bfdprofile *b = po ? po->spec : NULL;
	int64_t rx, tx, mult;
	char note[160];

	if (b == NULL) {
		snprintf(note, sizeof(note), "BFDProfile %s/%s not found: BFD off", o->meta.ns,
		    p->bfd_profile);
		p->bfd_note = arena_strdup(a, note);
		return;
	}
	rx = b->receive_interval.set ? b->receive_interval.v : 300;
	tx = b->transmit_interval.set ? b->transmit_interval.v : 300;
	mult = b->detect_multiplier.set ? b->detect_multiplier.v : 3;
	if (rx < 10 || rx > 60000 || tx < 10 || tx > 60000 || mult < 2 || mult > 255) {
		snprintf(note, sizeof(note), "BFDProfile %s: intervals must be 10-60000 ms and "
		    "detectMultiplier 2-255: BFD off", p->bfd_profile);
		p->bfd_note = arena_strdup(a, note);
		return;
	}
	if (p->ebgp_multihop) {
		/* RFC 5883 multihop BFD (where minimumTtl applies) is not run */
		p->bfd_note = "multihop BFD (ebgpMultiHop) is not supported: BFD off";
		return;
	}
	p->bfd_on = 1;
	p->bfd.required_min_rx = (uint32_t)rx * 1000;
	p->bfd.desired_min_tx = (uint32_t)tx * 1000;
	p->bfd.detect_mult = (uint8_t)mult;
	p->bfd.passive = b->passive_mode != 0;
	/* RFC 5881 §5: single hop takes only TTL 255; MetalLB's minimumTtl is
	 * for multihop sessions */
	p->bfd.min_ttl = 255;
	if (b->echo_mode) {
		int64_t echo = b->echo_interval.set ? b->echo_interval.v : 50;

		/* MetalLB: 10-60000 ms, default 50; not with IPv6 (nor multihop) */
		if (echo < 10 || echo > 60000)
			p->bfd_note = "BFDProfile echoInterval must be 10-60000 ms: no echo";
		else if (p->addr.family != AF_INET)
			p->bfd_note = "echoMode is for IPv4 peers only: no echo";
		else
			p->bfd.echo_ivl = (uint32_t)echo * 1000;
	}
}

/* A BGPPeer's settings for this node. 0, or -1 when it cannot be used. */
static int
peer_settings(struct vg_arena *a, struct store *st, const struct config *cfg,
    const struct object *o, struct bgp_peer_desired *p)
{
	const struct k_bgppeer *k = o->spec;
	struct ipaddr node;

	memset(p, 0, sizeof(*p));
	if (k->iface && *k->iface) {
		/* unnumbered: the address is learned on the interface */
		if (k->peer_address)
			p->problem = "peerAddress and interface exclude each other";
		p->addr.family = AF_INET6;
		p->iface = arena_strdup(a, k->iface);
	} else if (k->peer_address == NULL || ipaddr_parse(k->peer_address, &p->addr) < 0)
		return -1;
	p->ns = arena_strdup(a, o->meta.ns);
	p->name = arena_strdup(a, o->meta.name);
	p->port = k->peer_port > 0 && k->peer_port <= 65535 ? (uint16_t)k->peer_port : 179;
	p->vrf = arena_strdup(a, k->vrf ? k->vrf : "");
	p->my_asn = (uint32_t)k->my_asn;
	p->peer_asn = (uint32_t)k->peer_asn;
	if (str_eq(k->dynamic_asn, "internal"))
		p->dynamic = BGP_DYN_INTERNAL;
	else if (str_eq(k->dynamic_asn, "external"))
		p->dynamic = BGP_DYN_EXTERNAL;
	if (k->source_address && ipaddr_parse(k->source_address, &p->src) < 0)
		p->problem = "sourceAddress is not an IP address";
	/* MetalLB: holdTime 90 s, keepalive hold/3 */
	p->hold_s = k->hold_time_ms.set ? (uint32_t)(k->hold_time_ms.v / 1000) : 90;
	p->keepalive_s = k->keepalive_time_ms.set ? (uint32_t)(k->keepalive_time_ms.v / 1000) : 0;
	p->connect_ms = k->connect_time_ms.set ? k->connect_time_ms.v : 0;
	memset(&node, 0, sizeof(node));
	if (cfg->node.address)
		ipaddr_parse(cfg->node.address, &node);
	if (k->router_id) {
		struct ipaddr rid;

		if (ipaddr_parse(k->router_id, &rid) == 0 && rid.family == AF_INET)
			p->router_id = ipv4_u32(&rid);
		else
			p->problem = "routerID is not an IPv4 address";
	} else if (node.family == AF_INET) {
		p->router_id = ipv4_u32(&node);
	}
	if (k->password && *k->password)
		p->password = arena_strdup(a, k->password);
	else if (k->password_secret.name) {
		const char *ns = k->password_secret.ns ? k->password_secret.ns : o->meta.ns;
		const struct object *s = store_get(st, K_SECRET, ns, k->password_secret.name);
		const char *pw = s ? strmap_get(&((const struct k_secret *)s->spec)->data,
		    "password") : NULL;

		if (pw && *pw)
			p->password = arena_strdup(a, pw);
		else
			p->problem = "passwordSecret: no Secret with a \"password\" key";
	}
	p->ebgp_multihop = k->ebgp_multihop;
	p->graceful_restart = k->enable_graceful_restart;
	p->disable_mp = k->disable_mp;
	if (k->bfd_profile && *k->bfd_profile) {
		p->bfd_profile = arena_strdup(a, k->bfd_profile);
		bfd_settings(a, st, o, p);
	}
	if (*p->vrf)
		p->problem = "vrf is not supported";
	if (p->iface && p->password)
		p->problem = "TCP MD5 (password) on an unnumbered peer is not supported";
	if (p->my_asn == 0)
		p->problem = "myASN is missing";
	if (p->peer_asn == 0 && p->dynamic == BGP_DYN_NONE)
		p->problem = "peerASN or dynamicASN is needed";
	/* next hops: sourceAddress, else the node address, per family */
	if (p->src.family == AF_INET)
		p->nh4 = p->src;
	else if (node.family == AF_INET)
		p->nh4 = node;
	if (p->src.family == AF_INET6)
		p->nh6 = p->src;
	else if (node.family == AF_INET6)
		p->nh6 = node;
	return 0;
}

static int
cmp_peer(const void *x, const void *y)
{
	return bgp_peer_key_cmp(x, y);
}

/* Merge the sorted contributions of one peer into routes and attribute sets. */
static void
build_routes(struct vg_arena *a, struct store *st, struct bgp_peer_desired *p,
    struct contrib *c, size_t nc)
{
	uint32_t *comms = xcalloc(MAX_COMMS, sizeof(*comms));
	struct bgp_large_comm *large = xcalloc(MAX_COMMS, sizeof(*large));
	size_t i = 0, j, k, cap = 8;
	int ibgp;

	p->routes = arena_alloc(a, sizeof(*p->routes) * (nc ? nc : 1));
	p->attrsets = xcalloc(cap, sizeof(*p->attrsets));
	ibgp = p->dynamic == BGP_DYN_INTERNAL ||
	    (p->dynamic == BGP_DYN_NONE && p->peer_asn == p->my_asn);
	while (i < nc) {
		struct bgp_attrset as;
		size_t nco = 0, nla = 0;

		memset(&as, 0, sizeof(as));
		/* MetalLB: the same prefix from several advertisements merges */
		for (j = i; j < nc && bgp_prefix_cmp(&c[j].pfx, &c[i].pfx) == 0; j++) {
			const struct k_bgpadvertisement *ad = c[j].adv->spec;

			if (j > i && c[j].adv == c[j - 1].adv)
				continue;
			/* LOCAL_PREF on iBGP only; the highest wins a conflict */
			if (ibgp && ad->local_pref.set && (!as.has_local_pref ||
			    (uint32_t)ad->local_pref.v > as.local_pref)) {
				as.has_local_pref = 1;
				as.local_pref = (uint32_t)ad->local_pref.v;
			}
			for (k = 0; k < ad->ncommunities; k++) {
				uint32_t v;
				struct bgp_large_comm l;
				int r = resolve_community(st, c[j].adv->meta.ns, ad->communities[k],
				    &v, &l);

				if (r == 1 && nco < MAX_COMMS)
					comms[nco++] = v;
				else if (r == 2 && nla < MAX_COMMS)
					large[nla++] = l;
			}
		}
		qsort(comms, nco, sizeof(*comms), cmp_u32);
		qsort(large, nla, sizeof(*large), cmp_large);
		for (k = 0, as.ncomms = 0; k < nco; k++)
			if (k == 0 || comms[k] != comms[k - 1])
				comms[as.ncomms++] = comms[k];
		for (k = 0, as.nlarge = 0; k < nla; k++)
			if (k == 0 || cmp_large(&large[k], &large[k - 1]) != 0)
				large[as.nlarge++] = large[k];
		if (as.ncomms * 4 > COMM_BYTES)
			as.ncomms = COMM_BYTES / 4;
		if (as.nlarge * 12 > COMM_BYTES - as.ncomms * 4)
			as.nlarge = (COMM_BYTES - as.ncomms * 4) / 12;
		as.comms = comms;
		as.large = large;
		for (k = 0; k < p->nattrsets; k++)
			if (bgp_attrset_eq(&p->attrsets[k], &as))
				break;
		if (k == p->nattrsets) {
			if (k == cap) {
				cap *= 2;
				p->attrsets = xreallocarray(p->attrsets, cap, sizeof(*p->attrsets));
			}
			/* never zero bytes: the scratch arrays hold MAX_COMMS, one is there */
			as.comms = arena_memdup(a, comms, (as.ncomms ? as.ncomms : 1) * sizeof(*comms));
			as.large = arena_memdup(a, large, (as.nlarge ? as.nlarge : 1) * sizeof(*large));
			p->attrsets[p->nattrsets++] = as;
		}
		p->routes[p->nroutes].pfx = c[i].pfx;
		p->routes[p->nroutes].svc = c[i].svc;
		/* index for now: the attrsets array moves while it grows */
		p->routes[p->nroutes].attrs = (const void *)(uintptr_t)k;
		p->nroutes++;
		i = j;
	}
	{
		struct bgp_attrset *fin = arena_alloc(a, sizeof(*fin) * (p->nattrsets + 1));

		memcpy(fin, p->attrsets, sizeof(*fin) * p->nattrsets);
		free(p->attrsets);
		p->attrsets = fin;
		for (k = 0; k < p->nroutes; k++)
			p->routes[k].attrs = &fin[(uintptr_t)p->routes[k].attrs];
	}
	free(comms);
	free(large);
}

void
reconcile_bgp(struct desired *d, struct store *st, const struct config *cfg,
    const struct live_view *live)
{
	struct vg_arena *a = d->arena;
	struct object * const *peers, * const *advs, * const *pools;
	size_t npeers, nadvs, npools, i, j, k, v;
	struct bgp_desired *bd;
	struct strmap nlabels;
	const struct object *node;
	const char **svcname;

	(void)live;
	peers = store_list(st, K_BGPPEER, &npeers);
	if (npeers == 0)
		return;
	advs = store_list(st, K_BGPADVERTISEMENT, &nadvs);
	pools = store_list(st, K_IPADDRESSPOOL, &npools);
	node = store_get(st, K_NODE, "", cfg->node.name);
	nlabels = reconcile_node_labels(a, node, cfg);

	bd = arena_alloc(a, sizeof(*bd));
	bd->peers = arena_alloc(a, sizeof(*bd->peers) * npeers);
	for (i = 0; i < npeers; i++) {
		const struct k_bgppeer *kp = peers[i]->spec;
		struct bgp_peer_desired *p = &bd->peers[bd->npeers];

		if (!labelsels_match_any(kp->node_selectors, kp->nnode_selectors, &nlabels))
			continue;
		if (peer_settings(a, st, cfg, peers[i], p) < 0)
			continue;
		/* one peer per key: the first by namespace/name wins */
		for (j = 0; j < bd->npeers; j++)
			if (bgp_peer_key_cmp(&bd->peers[j], p) == 0)
				break;
		if (j < bd->npeers)
			continue;
		bd->npeers++;
	}
	qsort(bd->peers, bd->npeers, sizeof(*bd->peers), cmp_peer);
	svcname = xcalloc(d->nsvcs + 1, sizeof(*svcname));

	for (i = 0; i < bd->npeers; i++) {
		struct bgp_peer_desired *p = &bd->peers[i];
		struct contrib *c = NULL;
		size_t nc = 0, cap = 0;

		/* nodes excluded from load balancers announce nothing */
		if (strmap_get(&nlabels, LABEL_EXCLUDE_LB) == NULL && p->problem == NULL)
		for (j = 0; j < d->nsvcs; j++) {
			const struct svc_state *s = &d->svcs[j];
			const struct object *pool, *so;

			if (!(s->announce & ANNOUNCE_BGP) || s->pool == NULL)
				continue;
			pool = sel_find_pool(pools, npools, s->pool);
			so = store_get(st, K_SERVICE, s->ns, s->name);
			if (pool == NULL || so == NULL)
				continue;
			for (k = 0; k < nadvs; k++) {
				const struct k_bgpadvertisement *ad = advs[k]->spec;

				if (strcmp(advs[k]->meta.ns, pool->meta.ns) != 0 ||
				    !sel_adv_selects_pool(ad->ip_address_pools,
				    ad->nip_address_pools, ad->ip_address_pool_selectors,
				    ad->nip_address_pool_selectors, pool) ||
				    !labelsels_match_any(ad->node_selectors, ad->nnode_selectors,
				    &nlabels) ||
				    !labelsels_match_any(ad->service_selectors,
				    ad->nservice_selectors, &so->meta.labels))
					continue;
				if (ad->npeers > 0 && !sel_in_list(ad->peers, ad->npeers, p->name))
					continue;
				for (v = 0; v < s->nvips; v++) {
					const struct ipaddr *ip = &s->vips[v];
					int64_t len = ip->family == AF_INET ? ad->aggregation_length :
					    ad->aggregation_length_v6;
					int bits = ipaddr_bits(ip);

					/* disableMP: only the session's own family */
					if (p->disable_mp && ip->family != p->addr.family)
						continue;
					if (len <= 0 || len > bits)
						len = bits;
					if (nc == cap) {
						cap = cap ? cap * 2 : 16;
						c = xreallocarray(c, cap, sizeof(*c));
					}
					ipaddr_prefix_first(ip, (int)len, &c[nc].pfx.addr);
					c[nc].pfx.plen = (uint8_t)len;
					c[nc].adv = advs[k];
					/* one "ns/name" a Service, whatever the peers */
					if (svcname[j] == NULL)
						svcname[j] = arena_printf(a, "%s/%s", s->ns,
						    s->name);
					c[nc].svc = svcname[j];
					nc++;
				}
			}
		}
		if (nc > 1)
			qsort(c, nc, sizeof(*c), cmp_contrib);
		build_routes(a, st, p, c, nc);
		free(c);
	}
	free(svcname);
	d->bgp = bd;
}
