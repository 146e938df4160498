/* reconcile_bgp: peers of this node, settings, routes and attributes. */
#include "config.h"

#include "cu.h"
#include "fixture.h"
#include "vipgate/bgp-msg.h"
#include "vipgate/bgp-plan.h"
#include "vipgate/config.h"
#include "vipgate/reconcile.h"

static struct desired *
run(struct fixture *fx)
{
	struct live_view live = { 0 };

	return reconcile(fx->st, fx->cfg, &live);
}

#define CFG "node: {name: node-a, address: 10.0.0.1}\ngateway: {enabled: false}\n"

static const char *BASE =
    "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
    "metadata: {name: p, namespace: metallb-system, labels: {zone: a}}\n"
    "spec: {addresses: [192.0.2.0/28, '2001:db8::/124']}\n"
    "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default,"
    " labels: {tier: front}}\n"
    "spec:\n  type: LoadBalancer\n  ipFamilyPolicy: RequireDualStack\n"
    "  ipFamilies: [IPv4, IPv6]\n  selector: {app: web}\n  ports: [{port: 80}]\n"
    "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
    "metadata: {name: web-x, namespace: default, labels: {kubernetes.io/service-name: web}}\n"
    "addressType: IPv4\nendpoints: [{addresses: [10.9.0.1], nodeName: node-b}]\n"
    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
    "metadata: {name: ebgp, namespace: metallb-system}\n"
    "spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.2}\n"
    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
    "metadata: {name: ibgp, namespace: metallb-system}\n"
    "spec: {myASN: 64500, peerASN: 64500, peerAddress: 'fd00::2', peerPort: 1179,"
    " holdTime: 30s, keepaliveTime: 5s, routerID: 10.1.1.1, password: s3cret}\n";

static char *
with(const char *extra)
{
	size_t n = strlen(BASE) + strlen(extra) + 1;
	char *s = xmalloc(n);

	snprintf(s, n, "%s%s", BASE, extra);
	return s;
}

static const struct bgp_peer_desired *
peer(const struct desired *d, const char *name)
{
	size_t i;

	if (d->bgp == NULL)
		return NULL;
	for (i = 0; i < d->bgp->npeers; i++)
		if (strcmp(d->bgp->peers[i].name, name) == 0)
			return &d->bgp->peers[i];
	return NULL;
}

static const struct bgp_route *
route(const struct bgp_peer_desired *p, const char *pfx, int plen)
{
	struct bgp_prefix x;
	size_t i;

	memset(&x, 0, sizeof(x));
	ipaddr_parse(pfx, &x.addr);
	x.plen = (uint8_t)plen;
	for (i = 0; p && i < p->nroutes; i++)
		if (bgp_prefix_cmp(&p->routes[i].pfx, &x) == 0)
			return &p->routes[i];
	return NULL;
}

static void
t_peers(void)
{
	struct fixture fx;
	struct desired *d;
	const struct bgp_peer_desired *e, *i;
	char *o = with("");

	fx_load(&fx, CFG, o);
	d = run(&fx);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d->bgp);
	CU_ASSERT_EQUAL(d->bgp->npeers, 2);
	/* sorted by key: IPv4 first */
	CU_ASSERT_STRING_EQUAL(d->bgp->peers[0].name, "ebgp");
	e = peer(d, "ebgp");
	i = peer(d, "ibgp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(i);
	/* MetalLB defaults */
	CU_ASSERT_EQUAL(e->port, 179);
	CU_ASSERT_EQUAL(e->hold_s, 90);
	CU_ASSERT_EQUAL(e->keepalive_s, 0);
	CU_ASSERT_EQUAL(e->router_id, 0x0a000001);	/* node.address */
	CU_ASSERT_EQUAL(e->nh4.family, AF_INET);
	CU_ASSERT_PTR_NULL(e->password);
	CU_ASSERT_PTR_NULL(e->problem);
	CU_ASSERT_EQUAL(i->port, 1179);
	CU_ASSERT_EQUAL(i->hold_s, 30);
	CU_ASSERT_EQUAL(i->keepalive_s, 5);
	CU_ASSERT_EQUAL(i->router_id, 0x0a010101);
	CU_ASSERT_STRING_EQUAL(i->password, "s3cret");
	/* no advertisement yet: no routes */
	CU_ASSERT_EQUAL(e->nroutes, 0);
	desired_unref(d);
	fx_free(&fx);
	free(o);
}

static void
t_selectors_secret(void)
{
	struct fixture fx;
	struct desired *d;
	char *o = with(
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: other-rack, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.3,"
	    " nodeSelectors: [{matchLabels: {rack: b}}]}\n"
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: this-rack, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.4,"
	    " nodeSelectors: [{matchLabels: {rack: a}}],"
	    " passwordSecret: {name: pw}, bfdProfile: fast}\n"
	    "---\napiVersion: v1\nkind: Secret\nmetadata: {name: pw, namespace: metallb-system}\n"
	    "type: kubernetes.io/basic-auth\nstringData: {password: fromsecret}\n"
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: nosecret, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.5,"
	    " passwordSecret: {name: missing}}\n");

	fx_load(&fx, "node: {name: node-a, labels: {rack: a}}\n", o);
	d = run(&fx);
	CU_ASSERT_PTR_NULL(peer(d, "other-rack"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(peer(d, "this-rack"));
	CU_ASSERT_STRING_EQUAL(peer(d, "this-rack")->password, "fromsecret");
	CU_ASSERT_STRING_EQUAL(peer(d, "this-rack")->bfd_profile, "fast");
	CU_ASSERT_EQUAL(peer(d, "this-rack")->router_id, 0);	/* resolved by the session */
	CU_ASSERT_PTR_NOT_NULL(peer(d, "nosecret")->problem);
	desired_unref(d);
	fx_free(&fx);
	free(o);
}

static void
t_bfd_profile(void)
{
	struct fixture fx;
	struct desired *d;
	const struct bgp_peer_desired *p;
	char *o = with(
	    "---\napiVersion: metallb.io/v1beta1\nkind: BFDProfile\n"
	    "metadata: {name: fast, namespace: metallb-system}\n"
	    "spec: {receiveInterval: 50, transmitInterval: 60, detectMultiplier: 4,"
	    " passiveMode: true, echoMode: true}\n"
	    "---\napiVersion: metallb.io/v1beta1\nkind: BFDProfile\n"
	    "metadata: {name: dflt, namespace: metallb-system}\n"
	    "---\napiVersion: metallb.io/v1beta1\nkind: BFDProfile\n"
	    "metadata: {name: bad, namespace: metallb-system}\n"
	    "spec: {receiveInterval: 5}\n"
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: a, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.3, bfdProfile: fast}\n"
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: b, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.4, bfdProfile: dflt}\n"
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: c, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.5, bfdProfile: bad}\n"
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: d, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.6, bfdProfile: nope}\n"
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: e, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.7, bfdProfile: dflt,"
	    " ebgpMultiHop: true}\n"
	    "---\napiVersion: metallb.io/v1beta1\nkind: BFDProfile\n"
	    "metadata: {name: echo30, namespace: metallb-system}\n"
	    "spec: {echoMode: true, echoInterval: 30}\n"
	    "---\napiVersion: metallb.io/v1beta1\nkind: BFDProfile\n"
	    "metadata: {name: echobad, namespace: metallb-system}\n"
	    "spec: {echoMode: true, echoInterval: 5}\n"
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: f, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, peerAddress: \"2001:db8::1\", bfdProfile: echo30}\n"
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: g, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.8, bfdProfile: echobad}\n"
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: h, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, peerAddress: 10.0.0.9, bfdProfile: echo30}\n");

	fx_load(&fx, "node: {name: node-a}\n", o);
	d = run(&fx);
	p = peer(d, "a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT(p->bfd_on);
	CU_ASSERT_EQUAL(p->bfd.required_min_rx, 50000);
	CU_ASSERT_EQUAL(p->bfd.desired_min_tx, 60000);
	CU_ASSERT_EQUAL(p->bfd.detect_mult, 4);
	CU_ASSERT(p->bfd.passive);
	CU_ASSERT_EQUAL(p->bfd.min_ttl, 255);
	CU_ASSERT_EQUAL(p->bfd.echo_ivl, 50000);	/* echoMode, MetalLB's default interval */
	CU_ASSERT_PTR_NULL(p->bfd_note);
	p = peer(d, "b");
	CU_ASSERT(p->bfd_on);
	CU_ASSERT_EQUAL(p->bfd.required_min_rx, 300000);	/* MetalLB's defaults */
	CU_ASSERT_EQUAL(p->bfd.desired_min_tx, 300000);
	CU_ASSERT_EQUAL(p->bfd.detect_mult, 3);
	CU_ASSERT_FALSE(p->bfd.passive);
	CU_ASSERT_EQUAL(p->bfd.echo_ivl, 0);
	CU_ASSERT_PTR_NULL(p->bfd_note);
	CU_ASSERT_EQUAL(peer(d, "h")->bfd.echo_ivl, 30000);
	/* echo is IPv4 only, as MetalLB allows it; a bad interval: no echo, BFD on */
	CU_ASSERT(peer(d, "f")->bfd_on);
	CU_ASSERT_EQUAL(peer(d, "f")->bfd.echo_ivl, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(peer(d, "f")->bfd_note, "IPv4"));
	CU_ASSERT(peer(d, "g")->bfd_on);
	CU_ASSERT_EQUAL(peer(d, "g")->bfd.echo_ivl, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(peer(d, "g")->bfd_note, "echoInterval"));
	CU_ASSERT_FALSE(peer(d, "c")->bfd_on);
	CU_ASSERT_PTR_NOT_NULL(strstr(peer(d, "c")->bfd_note, "10-60000"));
	CU_ASSERT_FALSE(peer(d, "d")->bfd_on);
	CU_ASSERT_PTR_NOT_NULL(strstr(peer(d, "d")->bfd_note, "not found"));
	CU_ASSERT_FALSE(peer(d, "e")->bfd_on);
	CU_ASSERT_PTR_NOT_NULL(strstr(peer(d, "e")->bfd_note, "multihop"));
	/* the peer itself runs in every case */
	CU_ASSERT_PTR_NULL(peer(d, "d")->problem);
	desired_unref(d);
	fx_free(&fx);
	free(o);
}

static void
t_unnumbered(void)
{
	struct fixture fx;
	struct desired *d;
	const struct bgp_peer_desired *p;
	char *o = with(
	    "---\napiVersion: metallb.io/v1beta1\nkind: BFDProfile\n"
	    "metadata: {name: fast, namespace: metallb-system}\n"
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: u1, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, interface: eth1, bfdProfile: fast}\n"
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: u2, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, interface: eth2, password: x}\n"
	    "---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\n"
	    "metadata: {name: u3, namespace: metallb-system}\n"
	    "spec: {myASN: 64500, peerASN: 64501, interface: eth3, peerAddress: 10.0.0.9}\n");

	fx_load(&fx, "node: {name: node-a, address: 10.0.0.1}\n", o);
	d = run(&fx);
	p = peer(d, "u1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(p->iface, "eth1");
	CU_ASSERT_EQUAL(p->addr.family, AF_INET6);
	CU_ASSERT_PTR_NULL(p->problem);
	CU_ASSERT_EQUAL(p->port, 179);
	CU_ASSERT(p->bfd_on);		/* to the neighbor's link-local address */
	CU_ASSERT_PTR_NOT_NULL(strstr(peer(d, "u2")->problem, "MD5"));
	CU_ASSERT_PTR_NOT_NULL(strstr(peer(d, "u3")->problem, "exclude"));
	/* two unnumbered peers differ by their interface alone */
	CU_ASSERT(bgp_peer_key_cmp(peer(d, "u1"), peer(d, "u2")) != 0);
	desired_unref(d);
	fx_free(&fx);
	free(o);
}

static void
t_routes(void)
{
	struct fixture fx;
	struct desired *d;
	const struct bgp_peer_desired *e, *i;
	const struct bgp_route *r;
	char *o = with(
	    "---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\n"
	    "metadata: {name: a, namespace: metallb-system}\n"
	    "spec: {communities: ['65000:100', no-export, 'large:1:2:3', alias], localPref: 150}\n"
	    "---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\n"
	    "metadata: {name: b, namespace: metallb-system}\n"
	    "spec: {communities: ['65000:100', '65000:7'], localPref: 120, peers: [ibgp]}\n"
	    "---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\n"
	    "metadata: {name: c, namespace: metallb-system}\n"
	    "spec: {aggregationLength: 24, aggregationLengthV6: 64,"
	    " ipAddressPoolSelectors: [{matchLabels: {zone: a}}]}\n"
	    "---\napiVersion: metallb.io/v1beta1\nkind: Community\n"
	    "metadata: {name: c, namespace: metallb-system}\n"
	    "spec: {communities: [{name: alias, value: '65001:1'}]}\n");

	fx_load(&fx, CFG, o);
	d = run(&fx);
	e = peer(d, "ebgp");
	i = peer(d, "ibgp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(i);
	/* /32, /128 and the aggregated /24, /64 for each family */
	CU_ASSERT_EQUAL(e->nroutes, 4);
	CU_ASSERT_EQUAL(i->nroutes, 4);
	r = route(e, "192.0.2.0", 32);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	/* eBGP: no LOCAL_PREF; a's communities, sorted, b not for this peer */
	CU_ASSERT_EQUAL(r->attrs->has_local_pref, 0);
	CU_ASSERT_EQUAL(r->attrs->ncomms, 3);
	CU_ASSERT_EQUAL(r->attrs->comms[0], 0xfde80064u);
	CU_ASSERT_EQUAL(r->attrs->comms[1], 0xfde90001u);
	CU_ASSERT_EQUAL(r->attrs->comms[2], 0xFFFFFF01u);
	CU_ASSERT_EQUAL(r->attrs->nlarge, 1);
	CU_ASSERT_EQUAL(r->attrs->large[0].local2, 3);
	CU_ASSERT_STRING_EQUAL(r->svc, "default/web");
	/* iBGP: a and b merge: communities unioned, the higher LOCAL_PREF */
	r = route(i, "192.0.2.0", 32);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT(r->attrs->has_local_pref);
	CU_ASSERT_EQUAL(r->attrs->local_pref, 150);
	CU_ASSERT_EQUAL(r->attrs->ncomms, 4);
	/* the aggregated ones carry c's attributes: none */
	r = route(i, "192.0.2.0", 24);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->attrs->ncomms, 0);
	CU_ASSERT_EQUAL(r->attrs->has_local_pref, 0);
	CU_ASSERT_PTR_NOT_NULL(route(i, "2001:db8::", 64));
	CU_ASSERT_PTR_NOT_NULL(route(i, "2001:db8::", 128));
	/* identical attribute sets are shared */
	CU_ASSERT_EQUAL(i->nattrsets, 2);
	desired_unref(d);
	fx_free(&fx);
	free(o);
}

static void
t_exclusion_and_etp(void)
{
	struct fixture fx;
	struct desired *d;
	char *o = with(
	    "---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\n"
	    "metadata: {name: a, namespace: metallb-system}\n"
	    "---\napiVersion: v1\nkind: Node\nmetadata: {name: node-a,"
	    " labels: {node.kubernetes.io/exclude-from-external-load-balancers: ''}}\n");

	fx_load(&fx, CFG, o);
	d = run(&fx);
	/* the sessions stay, nothing is announced */
	CU_ASSERT_PTR_NOT_NULL_FATAL(peer(d, "ebgp"));
	CU_ASSERT_EQUAL(peer(d, "ebgp")->nroutes, 0);
	desired_unref(d);
	fx_free(&fx);
	free(o);

	/* ETP Local with the endpoint on another node: nothing from here */
	o = with("---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\n"
	    "metadata: {name: a, namespace: metallb-system}\n");
	fx_load(&fx, CFG, o);
	d = run(&fx);
	CU_ASSERT_EQUAL(peer(d, "ebgp")->nroutes, 2);	/* ETP Cluster: announced */
	desired_unref(d);
	fx_free(&fx);
	free(o);
	{
		char *s;

		xasprintf(&s, "%s%s", BASE,
		    "---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\n"
		    "metadata: {name: a, namespace: metallb-system}\n");
		{
			const char *at = strstr(s, "  selector: {app: web}");

			xasprintf(&o, "%.*s  externalTrafficPolicy: Local\n%s", (int)(at - s), s, at);
		}
		free(s);
	}
	fx_load(&fx, CFG, o);
	d = run(&fx);
	CU_ASSERT_EQUAL(peer(d, "ebgp")->nroutes, 0);
	desired_unref(d);
	fx_free(&fx);
	free(o);
}

static void
t_reload_diff(void)
{
	struct fixture fx;
	struct desired *d1, *d2;
	char *o = with("");
	char *o2;

	fx_load(&fx, CFG, o);
	d1 = run(&fx);
	d2 = run(&fx);
	/* deterministic, and an unrelated run keeps the session parameters */
	CU_ASSERT_EQUAL(bgp_peer_session_differs(peer(d1, "ebgp"), peer(d2, "ebgp")), 0);
	CU_ASSERT_EQUAL(bgp_peer_key_cmp(peer(d1, "ibgp"), peer(d2, "ibgp")), 0);
	desired_unref(d2);
	fx_free(&fx);
	/* a new holdTime is a session change */
	o2 = with("");
	strstr(o2, "holdTime: 30s")[10] = '6';
	fx_load(&fx, CFG, o2);
	d2 = run(&fx);
	CU_ASSERT_EQUAL(bgp_peer_session_differs(peer(d1, "ibgp"), peer(d2, "ibgp")), 1);
	CU_ASSERT_EQUAL(bgp_peer_session_differs(peer(d1, "ebgp"), peer(d2, "ebgp")), 0);
	desired_unref(d1);
	desired_unref(d2);
	fx_free(&fx);
	free(o);
	free(o2);
}

/*
 * 255 standard and 255 large communities are the most one advertisement
 * keeps of each, but they do not fit one UPDATE together: the large ones
 * give way, and the route is still announced (bgp_update_build takes it).
 */
static void
t_communities_fit(void)
{
	struct fixture fx;
	struct desired *d;
	const struct bgp_peer_desired *e;
	const struct bgp_route *r;
	struct vg_buf o = { 0 };
	struct bgp_tx_session ts;
	struct bgp_tx_attrs ta;
	struct bgp_prefix pfx;
	uint8_t *msg = xmalloc(BGP_MAX_LEN);
	size_t taken = 0, len, i;
	char *objs;

	buf_puts(&o, "---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\n"
	    "metadata: {name: many, namespace: metallb-system}\nspec: {communities: [");
	for (i = 0; i < 300; i++)
		buf_printf(&o, "%s'65000:%zu', 'large:1:2:%zu'", i ? ", " : "", i, i);
	buf_puts(&o, "]}\n");
	objs = with(o.s);
	fx_load(&fx, CFG, objs);
	d = run(&fx);
	e = peer(d, "ebgp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	r = route(e, "192.0.2.0", 32);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->attrs->ncomms, 255);
	CU_ASSERT(r->attrs->nlarge > 0);
	CU_ASSERT(r->attrs->ncomms * 4 + r->attrs->nlarge * 12 <= 3072);
	memset(&ts, 0, sizeof(ts));
	ts.as4 = 1;
	ts.my_as = 64512;
	CU_ASSERT_EQUAL(ipaddr_parse("192.0.2.254", &ts.nh4), 0);
	memset(&ta, 0, sizeof(ta));
	ta.comms = r->attrs->comms;
	ta.ncomms = r->attrs->ncomms;
	ta.large = r->attrs->large;
	ta.nlarge = r->attrs->nlarge;
	pfx.addr = r->pfx.addr;
	pfx.plen = r->pfx.plen;
	len = bgp_update_build(msg, &ts, &ta, &pfx, 1, &taken);
	CU_ASSERT(len > 0);
	CU_ASSERT_EQUAL(taken, 1);
	free(msg);
	free(objs);
	buf_free(&o);
	desired_unref(d);
	fx_free(&fx);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "peers: settings and MetalLB defaults", t_peers },
		{ "peers: nodeSelectors, passwordSecret, bfdProfile", t_selectors_secret },
		{ "peers: BFDProfile resolved, defaults, ranges, missing", t_bfd_profile },
		{ "peers: unnumbered (interface)", t_unnumbered },
		{ "routes: merge, communities, aliases, local-pref, aggregation", t_routes },
		{ "routes: 255 + 255 communities still fit one UPDATE", t_communities_fit },
		{ "routes: excluded node, ETP Local", t_exclusion_and_etp },
		{ "reload: stable key, session parameters", t_reload_diff },
		{ NULL, NULL },
	};

	return cu_run("bgp_plan", tests);
}
