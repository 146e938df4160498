/*
 * The L2 election, table-driven through reconcile(): candidates (live
 * speakers, selectors, NetworkUnavailable, exclude label, ETP Local),
 * preferred weights, the sha256 order, shared IPs, node loss.
 */
#include "config.h"

#include "cu.h"
#include "vipgate/config.h"
#include "vipgate/l2.h"
#include "vipgate/reconcile.h"
#include "vipgate/source.h"

static const char *CFG = "node: {name: node-a}\nstate_dir: /nonexistent\n";

static const char *BASE =
    "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
    "metadata: {name: p, namespace: metallb-system}\n"
    "spec: {addresses: [192.0.2.0/30]}\n"
    "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
    "spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}\n";

static const char *
node(const char *name, const char *rack, const char *extra)
{
	static char buf[8][512];
	static int k;
	char *b = buf[k++ % 8];

	snprintf(b, sizeof(buf[0]),
	    "---\napiVersion: v1\nkind: Node\nmetadata: {name: %s, labels: {rack: %s%s}}\n%s",
	    name, rack, extra && strstr(extra, "exclude") ?
	    ", node.kubernetes.io/exclude-from-external-load-balancers: ''" : "",
	    extra && strstr(extra, "netunavail") ?
	    "status: {conditions: [{type: NetworkUnavailable, status: 'True'}]}\n" : "");
	return b;
}

static const char *
slice(const char *svc, const char *nodes)
{
	static char buf[4][1024];
	static int k;
	char *b = buf[k++ % 4];
	int off;
	const char *p;

	off = snprintf(b, sizeof(buf[0]),
	    "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	    "metadata: {name: %s-s, namespace: default, labels: {kubernetes.io/service-name: %s}}\n"
	    "addressType: IPv4\nendpoints:\n", svc, svc);
	for (p = nodes; *p; p++)
		off += snprintf(b + off, sizeof(buf[0]) - (size_t)off,
		    "- addresses: [10.0.0.1]\n  nodeName: node-%c\n", *p);
	if (*nodes == 0)
		snprintf(b + off, sizeof(buf[0]) - (size_t)off, "  []\n");
	return b;
}

static int gateway_ready;	/* run()'s live view */
static const char *run_cfg;	/* run()'s config; NULL: CFG */
static const char *const *run_unbound;	/* ... live.gateway_unbound */
static size_t run_nunbound;

static struct desired *
run(const char *objs, const char *svc_patch, const struct l2_live *l2, struct store **stp,
    struct config **cfgp)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	struct live_view live = { 0 };
	struct config *cfg;
	struct store *st;
	struct vg_buf b = { 0 };
	size_t i;

	cfg = config_parse(run_cfg ? run_cfg : CFG, strlen(run_cfg ? run_cfg : CFG), "vipgate.yaml",
	    &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	st = store_new();
	buf_puts(&b, BASE);
	if (svc_patch)
		buf_puts(&b, svc_patch);
	buf_puts(&b, objs);
	cu_decode(b.s, &errs, &out);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.nerrors, 0);
	for (i = 0; i < out.n; i++)
		if (out.v[i].obj)
			store_put(st, object_ref(out.v[i].obj));
	decoded_list_free(&out);
	errs_clear(&errs);
	buf_free(&b);
	live.l2 = l2;
	live.gateway_ready = gateway_ready;
	live.gateway_unbound = run_unbound;
	live.ngateway_unbound = run_nunbound;
	*stp = st;
	*cfgp = cfg;
	return reconcile(st, cfg, &live);
}

#define ADV "---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement\n" \
	"metadata: {name: l2, namespace: metallb-system}\n"
#define ETP_LOCAL "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n" \
	"spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}], " \
	"externalTrafficPolicy: Local}\n"

static void
test_table(void)
{
	static const char *live_b[] = { "node-b" };
	static const char *live_cx[] = { "node-c", "node-x" };
	static const struct l2_live hb_b = { 1, live_b, 1 };
	static const struct l2_live hb_none = { 1, NULL, 0 };
	static const struct l2_live hb_cx = { 1, live_cx, 2 };
	/* sha256(node "#192.0.2.0") orders node-a, node-c, node-b */
	static const struct {
		const char *name;
		const char *adv;		/* spec lines of the L2Advertisement */
		const char *a, *b, *c;		/* Node extras: exclude, netunavail */
		const char *eps;		/* endpoint nodes */
		int etp_local;
		const struct l2_live *live;
		const char *owner;
		size_t ncand;
	} cases[] = {
		{ "every Node counts without heartbeats", "", 0, 0, 0, "a", 0, NULL, "node-a", 3 },
		{ "endpoint elsewhere, ETP Cluster", "", 0, 0, 0, "b", 0, NULL, "node-a", 3 },
		{ "winner excluded by label", "", "exclude", 0, 0, "a", 0, NULL, "node-c", 2 },
		{ "NetworkUnavailable", "", 0, 0, "netunavail", "a", 0, NULL, "node-a", 2 },
		{ "winner NetworkUnavailable", "", "netunavail", 0, 0, "b", 0, NULL, "node-c", 2 },
		{ "nodeSelectors", "spec: {nodeSelectors: [{matchLabels: {rack: r1}}]}\n",
		  0, 0, 0, "a", 0, NULL, "node-a", 2 },
		{ "nodeSelectors pick one", "spec: {nodeSelectors: [{matchLabels: {rack: r2}}]}\n",
		  0, 0, 0, "a", 0, NULL, "node-c", 1 },
		{ "ETP Local: only endpoint nodes", "", 0, 0, 0, "b", 1, NULL, "node-b", 1 },
		{ "ETP Local: hash among endpoint nodes", "", 0, 0, 0, "bc", 1, NULL, "node-c", 2 },
		{ "no endpoint anywhere: nobody", "", 0, 0, 0, "", 0, NULL, NULL, 3 },
		{ "preferred weight beats the hash",
		  "spec:\n  preferredNodeSelectors:\n  - {weight: 50, preference: {matchLabels: {rack: r2}}}\n",
		  0, 0, 0, "a", 0, NULL, "node-c", 3 },
		{ "preferred weights add up",
		  "spec:\n  preferredNodeSelectors:\n  - {weight: 10, preference: {matchLabels: {rack: r1}}}\n"
		  "  - {weight: 20, preference: {matchLabels: {kubernetes.io/hostname: node-b}}}\n",
		  0, 0, 0, "a", 0, NULL, "node-b", 3 },
		{ "heartbeats: a dead node does not count", "", 0, 0, 0, "a", 0, &hb_b, "node-a", 2 },
		{ "heartbeats: node loss moves the VIP", "", "exclude", 0, 0, "a", 0, &hb_b, "node-b", 1 },
		{ "heartbeats: alone", "", 0, 0, 0, "a", 0, &hb_none, "node-a", 1 },
		{ "heartbeats: a peer without a Node object",
		  "spec: {nodeSelectors: [{matchLabels: {rack: r2}}]}\n",
		  0, 0, 0, "a", 0, &hb_cx, "node-c", 1 },
	};
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		struct vg_buf b = { 0 };
		struct store *st;
		struct config *cfg;
		struct desired *d;
		const struct l2_vip *v;

		buf_puts(&b, node("node-a", "r1", cases[i].a));
		buf_puts(&b, node("node-b", "r1", cases[i].b));
		buf_puts(&b, node("node-c", "r2", cases[i].c));
		buf_puts(&b, ADV);
		buf_puts(&b, cases[i].adv);
		buf_puts(&b, slice("web", cases[i].eps));
		d = run(b.s, cases[i].etp_local ? ETP_LOCAL : NULL, cases[i].live, &st, &cfg);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d->l2);
		CU_ASSERT_EQUAL_FATAL(d->l2->nvips, 1);
		v = &d->l2->vips[0];
		if (!str_eq(v->owner, cases[i].owner) || v->ncandidates != cases[i].ncand)
			fprintf(stderr, "case '%s': owner %s (want %s), %zu candidates (want %zu)\n",
			    cases[i].name, v->owner ? v->owner : "-",
			    cases[i].owner ? cases[i].owner : "-", v->ncandidates,
			    cases[i].ncand);
		CU_ASSERT(str_eq(v->owner, cases[i].owner));
		CU_ASSERT_EQUAL(v->ncandidates, cases[i].ncand);
		/* mine agrees with owner, and a VIP it owns is a local address */
		CU_ASSERT_EQUAL(v->mine, str_eq(v->owner, "node-a"));
		if (v->mine)
			CU_ASSERT_EQUAL(d->nlocal_addrs, 1);
		CU_ASSERT(cases[i].owner != NULL || v->why != NULL);
		desired_unref(d);
		store_free(st);
		config_free(cfg);
		buf_free(&b);
	}
}

static const char *
shared_svc(const char *name, int port)
{
	static char buf[2][512];
	static int k;
	char *b = buf[k++ % 2];

	snprintf(b, sizeof(buf[0]),
	    "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: default\n"
	    "  annotations: {metallb.io/loadBalancerIPs: 192.0.2.1, metallb.io/allow-shared-ip: k}\n"
	    "spec: {type: LoadBalancer, selector: {app: %s}, ports: [{port: %d}]}\n",
	    name, name, port);
	return b;
}

static void
test_shared_ip_and_interfaces(void)
{
	struct vg_buf b = { 0 };
	struct store *st;
	struct config *cfg;
	struct desired *d;
	const struct l2_desired *l2;

	buf_puts(&b, node("node-a", "r1", NULL));
	buf_puts(&b, node("node-b", "r1", NULL));
	buf_puts(&b, node("node-c", "r2", NULL));
	buf_puts(&b, ADV "spec: {interfaces: [eth1, eth2]}\n");
	/* a second advertisement for other nodes: its interfaces are not ours */
	buf_puts(&b, "---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement\n"
	    "metadata: {name: l2b, namespace: metallb-system}\n"
	    "spec: {interfaces: [eth2, eth3], nodeSelectors: [{matchLabels: {rack: r2}}]}\n");
	buf_puts(&b, shared_svc("s1", 81));
	buf_puts(&b, shared_svc("s2", 82));
	buf_puts(&b, slice("web", "a"));
	buf_puts(&b, slice("s1", "a"));
	buf_puts(&b, slice("s2", "b"));
	d = run(b.s, NULL, NULL, &st, &cfg);
	l2 = d->l2;
	CU_ASSERT_PTR_NOT_NULL_FATAL(l2);
	CU_ASSERT_EQUAL_FATAL(l2->nvips, 3);
	CU_ASSERT_STRING_EQUAL(l2->vips[0].name, "web");
	CU_ASSERT_STRING_EQUAL(l2->vips[1].name, "s1");
	CU_ASSERT_STRING_EQUAL(l2->vips[2].name, "s2");
	/* sha256(node "#192.0.2.1") puts node-c first, for both Services */
	CU_ASSERT(str_eq(l2->vips[1].owner, "node-c"));
	CU_ASSERT(str_eq(l2->vips[2].owner, "node-c"));
	CU_ASSERT(!l2->vips[1].mine && !l2->vips[2].mine);
	CU_ASSERT(l2->vips[0].mine);
	CU_ASSERT_EQUAL_FATAL(l2->vips[0].nifaces, 2);
	CU_ASSERT_STRING_EQUAL(l2->vips[0].ifaces[0], "eth1");
	CU_ASSERT_STRING_EQUAL(l2->vips[0].ifaces[1], "eth2");
	CU_ASSERT_EQUAL(l2->nspeakers, 3);
	desired_unref(d);
	store_free(st);
	config_free(cfg);
	buf_free(&b);
}

/*
 * ETP Local for several Services of one namespace: each counts the
 * endpoints of the slices its label names, wherever their names sort,
 * and none of a namespace's other, nor of another namespace's.
 */
static void
test_etp_local_slices(void)
{
	static const char *objs =
	    "---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: default}\n"
	    "spec: {type: LoadBalancer, selector: {app: api}, ports: [{port: 80}], "
	    "externalTrafficPolicy: Local}\n"
	    "---\napiVersion: v1\nkind: Service\nmetadata: {name: zz, namespace: default}\n"
	    "spec: {type: LoadBalancer, selector: {app: zz}, ports: [{port: 80}], "
	    "externalTrafficPolicy: Local}\n";
	static const struct {
		const char *ns, *name, *svc, *node;
	} slices[] = {
		{ "default", "web-s", "web", "node-b" },
		{ "default", "aaa", "web", "node-c" },		/* sorts before every other */
		{ "default", "zzz-api", "api", "node-c" },
		{ "default", "web-x", "zz", "node-a" },		/* sorts among web's */
		{ "default", "nolabel", NULL, "node-a" },
		{ "other", "web-o", "web", "node-a" },
		{ "a-first", "api-o", "api", "node-a" },
	};
	struct vg_buf b = { 0 };
	struct store *st;
	struct config *cfg;
	struct desired *d;
	const struct l2_desired *l2;
	size_t i;

	buf_puts(&b, node("node-a", "r1", NULL));
	buf_puts(&b, node("node-b", "r1", NULL));
	buf_puts(&b, node("node-c", "r2", NULL));
	buf_puts(&b, ADV);
	buf_puts(&b, objs);
	for (i = 0; i < VG_ARRAY_SIZE(slices); i++) {
		buf_printf(&b, "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		    "metadata: {name: %s, namespace: %s", slices[i].name, slices[i].ns);
		if (slices[i].svc)
			buf_printf(&b, ", labels: {kubernetes.io/service-name: %s}",
			    slices[i].svc);
		buf_printf(&b, "}\naddressType: IPv4\nendpoints:\n"
		    "- addresses: [10.0.0.1]\n  nodeName: %s\n", slices[i].node);
	}
	d = run(b.s, ETP_LOCAL, NULL, &st, &cfg);
	l2 = d->l2;
	CU_ASSERT_PTR_NOT_NULL_FATAL(l2);
	CU_ASSERT_EQUAL_FATAL(l2->nvips, 3);
	for (i = 0; i < l2->nvips; i++) {
		const struct l2_vip *v = &l2->vips[i];

		if (strcmp(v->name, "web") == 0) {
			CU_ASSERT_EQUAL(v->ncandidates, 2);
			CU_ASSERT(str_eq(v->owner, "node-b") || str_eq(v->owner, "node-c"));
		} else if (strcmp(v->name, "api") == 0) {
			CU_ASSERT_EQUAL(v->ncandidates, 1);
			CU_ASSERT(str_eq(v->owner, "node-c"));
		} else {
			CU_ASSERT_STRING_EQUAL(v->name, "zz");
			CU_ASSERT_EQUAL(v->ncandidates, 1);
			CU_ASSERT(str_eq(v->owner, "node-a"));
			CU_ASSERT(v->mine);
		}
	}
	desired_unref(d);
	store_free(st);
	config_free(cfg);
	buf_free(&b);
}

static void
test_elect_order(void)
{
	struct l2_cand c[3] = { { "node-b", 0 }, { "node-c", 0 }, { "node-a", 0 } };

	/* MetalLB's order, checked against Go's sha256 ordering */
	CU_ASSERT_EQUAL(l2_elect(c, 3, "192.0.2.0"), 2);
	CU_ASSERT_EQUAL(l2_elect(c, 3, "192.0.2.1"), 1);
	CU_ASSERT_EQUAL(l2_elect(c, 3, "2001:db8::"), 1);
	CU_ASSERT_EQUAL(l2_elect(c, 2, "192.0.2.0"), 1);
	c[0].weight = 1;
	CU_ASSERT_EQUAL(l2_elect(c, 3, "192.0.2.0"), 0);
	CU_ASSERT_EQUAL(l2_elect(c, 0, "192.0.2.0"), -1);
}

/*
 * The gateway's own Service: a node whose gateway cannot serve is no
 * candidate, this one by its desired state, the others by their heartbeat.
 */
static void
test_gateway_health(void)
{
	static const char *live_bc[] = { "node-b", "node-c" };
	static const char *down_b[] = { "node-b" };
	static const struct l2_live all_up = { 1, live_bc, 2, NULL, 0 };
	static const struct l2_live b_down = { 1, live_bc, 2, down_b, 1 };
	static const char *gw =
	    "---\napiVersion: v1\nkind: Service\n"
	    "metadata: {name: istio-ingressgateway, namespace: istio-system}\n"
	    "spec: {type: LoadBalancer, selector: {istio: ingressgateway}, ports: [{port: 80}]}\n";
	static const struct {
		const struct l2_live *live;
		int ready;
		size_t ncand;
		const char *owner;	/* NULL: any of the candidates */
		const char *not_owner;
	} cases[] = {
		{ &all_up, 1, 3, NULL, NULL },
		{ &b_down, 1, 2, NULL, "node-b" },
		{ &all_up, 0, 2, NULL, "node-a" },
		{ &b_down, 0, 1, "node-c", NULL },
	};
	size_t i, j;

	for (i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		struct vg_buf b = { 0 };
		struct store *st;
		struct config *cfg;
		struct desired *d;
		const struct l2_vip *v = NULL;

		buf_puts(&b, ADV);
		buf_puts(&b, gw);
		gateway_ready = cases[i].ready;
		d = run(b.s, NULL, cases[i].live, &st, &cfg);
		gateway_ready = 0;
		CU_ASSERT_PTR_NOT_NULL_FATAL(d->l2);
		for (j = 0; j < d->l2->nvips; j++)
			if (strcmp(d->l2->vips[j].name, "istio-ingressgateway") == 0)
				v = &d->l2->vips[j];
		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		CU_ASSERT_EQUAL(v->ncandidates, cases[i].ncand);
		CU_ASSERT_PTR_NOT_NULL(v->owner);
		if (cases[i].owner)
			CU_ASSERT(str_eq(v->owner, cases[i].owner));
		if (cases[i].not_owner)
			CU_ASSERT(!str_eq(v->owner, cases[i].not_owner));
		CU_ASSERT_EQUAL(d->gateway_down != NULL, !cases[i].ready);
		/* other Services keep every speaker */
		for (j = 0; j < d->l2->nvips; j++)
			if (strcmp(d->l2->vips[j].name, "web") == 0)
				CU_ASSERT_EQUAL(d->l2->vips[j].ncandidates, 3);
		desired_unref(d);
		store_free(st);
		config_free(cfg);
		buf_free(&b);
	}
}

/*
 * Two gateway deployments: a node is no candidate for a gateway Service's
 * VIP only where that Service's deployment cannot serve, this node by its
 * desired state, the others by the deployments their heartbeat names; a
 * heartbeat's flag without names (an older speaker) is every deployment.
 */
static void
test_gateway_deployments(void)
{
	static const char *live_bc[] = { "node-b", "node-c" };
	static const char *down_b[] = { "node-b" };
	static const char *down_bc[] = { "node-b", "node-c" };
	static const char *internal[] = { "internal" };
	static const char *ingress[] = { "ingress" };
	static const struct l2_gw_down b_internal[] = { { internal, 1 } };
	static const struct l2_gw_down b_all[] = { { NULL, 0 } };
	static const struct l2_gw_down b_int_c_ing[] = { { internal, 1 }, { ingress, 1 } };
	static const struct l2_live all_up = { 1, live_bc, 2, NULL, 0, NULL };
	static const struct l2_live b_int = { 1, live_bc, 2, down_b, 1, b_internal };
	static const struct l2_live b_old = { 1, live_bc, 2, down_b, 1, NULL };
	static const struct l2_live b_flag = { 1, live_bc, 2, down_b, 1, b_all };
	static const struct l2_live mixed = { 1, live_bc, 2, down_bc, 2, b_int_c_ing };
	static const char *objs =
	    "---\napiVersion: v1\nkind: Service\n"
	    "metadata: {name: ingress-gw, namespace: istio-system}\n"
	    "spec: {type: LoadBalancer, selector: {istio: ingressgateway}, ports: [{port: 80}]}\n"
	    "---\napiVersion: v1\nkind: Service\n"
	    "metadata: {name: internal-gw, namespace: istio-system}\n"
	    "spec: {type: LoadBalancer, selector: {istio: internal-gateway}, ports: [{port: 80}]}\n";
	static const struct {
		const char *name;
		const struct l2_live *live;
		const char *const *unbound;	/* here */
		size_t nunbound;
		const char *ing_out, *int_out;	/* the nodes not candidates, by letter */
	} cases[] = {
		{ "all serve", &all_up, NULL, 0, "", "" },
		{ "internal down on node-b", &b_int, NULL, 0, "", "b" },
		{ "an older node-b: its flag is every deployment", &b_old, NULL, 0, "b", "b" },
		{ "the flag without names", &b_flag, NULL, 0, "b", "b" },
		{ "internal down here", &all_up, internal, 1, "", "a" },
		{ "internal on node-b, ingress on node-c and here", &mixed, ingress, 1, "ac", "b" },
	};
	size_t i, j, k;

	run_cfg = "node: {name: node-a}\nstate_dir: /nonexistent\n"
	    "gateway:\n  deployments: [{name: ingress, labels: {istio: ingressgateway}},\n"
	    "    {name: internal, labels: {istio: internal-gateway}}]\n";
	for (i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		struct vg_buf b = { 0 };
		struct store *st;
		struct config *cfg;
		struct desired *d;

		buf_puts(&b, ADV);
		buf_puts(&b, objs);
		gateway_ready = 1;
		run_unbound = cases[i].unbound;
		run_nunbound = cases[i].nunbound;
		d = run(b.s, NULL, cases[i].live, &st, &cfg);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d->l2);
		CU_ASSERT_PTR_NULL(d->gateway_down);
		for (j = 0; j < d->l2->nvips; j++) {
			const struct l2_vip *v = &d->l2->vips[j];
			const char *out = strcmp(v->name, "ingress-gw") == 0 ? cases[i].ing_out :
			    strcmp(v->name, "internal-gw") == 0 ? cases[i].int_out : "";

			if (v->ncandidates != 3 - strlen(out))
				fprintf(stderr, "%s: %s: %zu candidates\n", cases[i].name, v->name,
				    v->ncandidates);
			CU_ASSERT_EQUAL(v->ncandidates, 3 - strlen(out));
			if (strcmp(v->name, "web") == 0)
				continue;	/* no endpoint: nobody */
			CU_ASSERT_PTR_NOT_NULL(v->owner);
			for (k = 0; v->owner && out[k]; k++)
				CU_ASSERT(v->owner[5] != out[k]);
		}
		desired_unref(d);
		store_free(st);
		config_free(cfg);
		buf_free(&b);
	}
	gateway_ready = 0;
	run_cfg = NULL;
	run_unbound = NULL;
	run_nunbound = 0;
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "election table", test_table },
		{ "shared IPs land together; interfaces", test_shared_ip_and_interfaces },
		{ "ETP Local: each Service's own slices", test_etp_local_slices },
		{ "weight, then sha256 order", test_elect_order },
		{ "the gateway's Service: nodes whose gateway cannot serve", test_gateway_health },
		{ "gateway deployments: nodes where the Service's deployment cannot serve",
		  test_gateway_deployments },
		{ NULL, NULL },
	};

	return cu_run("l2 election", tests);
}
