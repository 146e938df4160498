/*
 * The L2 applier without a network: what vipgatectl l2 answers and the
 * metric names (MetalLB's). Nothing is applied, so no socket is opened on
 * the host's interfaces.
 */
#include "config.h"

#include <event2/event.h>

#include "cu.h"
#include "vipgate/config.h"
#include "vipgate/ctl.h"
#include "vipgate/l2.h"
#include "vipgate/reconcile.h"

static int kicks;

static void
kick(void *arg)
{
	(void)arg;
	kicks++;
}

static void
test_show_and_metrics(void)
{
	static const char *cfgy = "node: {name: node-a}\nstate_dir: /nonexistent\n";
	struct vg_errs errs = { 0 };
	struct applier_env env;
	struct applier *a;
	struct ctl_request req = { 0 };
	struct vg_buf m = { 0 };
	const struct l2_live *live;
	json_t *res;
	char *err = NULL;

	memset(&env, 0, sizeof(env));
	env.base = event_base_new();
	env.cfg = config_parse(cfgy, strlen(cfgy), "vipgate.yaml", &errs);
	env.kick = kick;
	CU_ASSERT_PTR_NOT_NULL_FATAL(env.cfg);
	a = l2_applier_new(&env);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL(a->name, "l2");

	/* no heartbeat peers: every Node object counts, nothing to wait for */
	live = l2_applier_live(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(live);
	CU_ASSERT_EQUAL(live->heartbeat, 0);
	CU_ASSERT_EQUAL(live->nnodes, 0);

	req.command = "bgp";
	CU_ASSERT_PTR_NULL(a->show(a, &req, &err));
	req.command = "l2";
	res = a->show(a, &req, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "node")), "node-a");
	CU_ASSERT(json_is_array(json_object_get(res, "vips")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(res, "conflicts")), 0);
	json_decref(res);

	a->metrics(a, &m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m.s);
	CU_ASSERT(strstr(m.s, "# TYPE metallb_layer2_requests_received counter") != NULL);
	CU_ASSERT(strstr(m.s, "# TYPE metallb_layer2_responses_sent counter") != NULL);
	CU_ASSERT(strstr(m.s, "# TYPE metallb_layer2_gratuitous_sent counter") != NULL);
	CU_ASSERT(strstr(m.s, "vipgate_l2_conflicts_total 0") != NULL);
	buf_free(&m);

	/* draining with no heartbeat: nothing to wait for */
	CU_ASSERT_EQUAL(a->drain(a), 0);
	a->free(a);
	config_free((struct config *)env.cfg);
	event_base_free(env.base);
	errs_clear(&errs);
}

static void
test_missing_key(void)
{
	static const char *cfgy = "node: {name: node-a}\nstate_dir: /nonexistent\n"
	    "l2: {heartbeat: {peers: [192.0.2.2], key_file: /nonexistent/l2.key}}\n";
	struct vg_errs errs = { 0 };
	struct applier_env env;

	memset(&env, 0, sizeof(env));
	env.base = event_base_new();
	env.cfg = config_parse(cfgy, strlen(cfgy), "vipgate.yaml", &errs);
	env.kick = kick;
	CU_ASSERT_PTR_NOT_NULL_FATAL(env.cfg);
	/* peers without a key: refused, not run unauthenticated */
	CU_ASSERT_PTR_NULL(l2_applier_new(&env));
	config_free((struct config *)env.cfg);
	event_base_free(env.base);
	errs_clear(&errs);
}

/* Which VIPs this node owns in a step of the test. */
enum own_set { OWN_ALL, OWN_V4, OWN_V6, OWN_NOT3, OWN_NONE };

static int
mine(enum own_set set, size_t i)
{
	switch (set) {
	case OWN_ALL:
		return 1;
	case OWN_V4:
		return i % 2 == 0;
	case OWN_V6:
		return i % 2 == 1;
	case OWN_NOT3:
		return i % 3 != 0;
	default:
		return 0;
	}
}

/*
 * n VIPs: i even an IPv4 10.0.x.y, i odd an IPv6 with the same first four
 * bytes (0a00:xy00::), so a lookup that looked at the bytes alone would
 * mix them up. set says which this node owns; VIP 0 appears twice
 * (two Services share it). The interface named exists nowhere, so
 * nothing is opened or sent.
 */
static struct desired *
vips_desired(size_t n, enum own_set set)
{
	struct desired *d = desired_empty();
	struct l2_desired *l2 = arena_alloc(d->arena, sizeof(*l2));
	const char **ifaces = arena_alloc(d->arena, sizeof(char *));
	size_t i;

	ifaces[0] = "vg-test-none";
	l2->vips = arena_alloc(d->arena, sizeof(*l2->vips) * (n + 1));
	for (i = 0; i <= n; i++) {
		struct l2_vip *v = &l2->vips[l2->nvips++];
		size_t k = i < n ? i : 0;

		v->vip.family = k % 2 ? AF_INET6 : AF_INET;
		v->vip.a[0] = 10;
		v->vip.a[2] = (uint8_t)(k / 2 >> 8);
		v->vip.a[3] = (uint8_t)(k / 2);
		v->ns = "default";
		v->name = i < n ? "svc" : "svc-shared";
		v->owner = mine(set, k) ? "node-a" : "node-b";
		v->mine = mine(set, k);
		v->ifaces = ifaces;
		v->nifaces = 1;
	}
	d->l2 = l2;
	return d;
}

/* Applies next and checks vipgatectl l2's "here" for each VIP against set. */
static void
apply_check(struct applier *a, struct desired **cur, size_t n, enum own_set set)
{
	struct ctl_request req = { 0 };
	char *err = NULL, b[IPADDR_STRLEN];
	struct desired *next = vips_desired(n, set);
	json_t *res, *vips;
	size_t i, bad = 0;

	CU_ASSERT_EQUAL(a->apply(a, *cur, next), 0);
	desired_unref(*cur);
	*cur = next;
	req.command = "l2";
	res = a->show(a, &req, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	vips = json_object_get(res, "vips");
	CU_ASSERT_EQUAL_FATAL(json_array_size(vips), n + 1);
	for (i = 0; i <= n; i++) {
		const char *here = json_string_value(json_object_get(json_array_get(vips, i),
		    "here"));
		size_t k = i < n ? i : 0;

		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(vips,
		    i), "vip")), ipaddr_fmt(&next->l2->vips[i].vip, b));
		if (here == NULL || strcmp(here, mine(set, k) ? "yes" : "no") != 0)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	json_decref(res);
}

static size_t
count_lines(const char *s, const char *prefix)
{
	size_t n = 0;

	for (; (s = strstr(s, prefix)) != NULL; s++)
		n++;
	return n;
}

static void
test_owned_lookup(void)
{
	static const char *cfgy = "node: {name: node-a}\nstate_dir: /nonexistent\n"
	    "l2: {refresh: 0}\n";
	struct vg_errs errs = { 0 };
	struct applier_env env;
	struct applier *a;
	struct desired *cur = desired_empty();
	struct vg_buf m = { 0 };
	const size_t many = 6000;

	memset(&env, 0, sizeof(env));
	env.base = event_base_new();
	env.cfg = config_parse(cfgy, strlen(cfgy), "vipgate.yaml", &errs);
	env.kick = kick;
	CU_ASSERT_PTR_NOT_NULL_FATAL(env.cfg);
	a = l2_applier_new(&env);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);

	/* IPv4 and IPv6 with the same leading bytes are different VIPs */
	apply_check(a, &cur, 2, OWN_V4);
	apply_check(a, &cur, 2, OWN_V6);
	apply_check(a, &cur, 2, OWN_ALL);
	/*
	 * many: gained, unchanged, a third lost (the rest move down), the
	 * IPv4 ones lost and some IPv6 back, all back, all lost, some again
	 */
	apply_check(a, &cur, many, OWN_ALL);
	apply_check(a, &cur, many, OWN_ALL);
	apply_check(a, &cur, many, OWN_NOT3);
	apply_check(a, &cur, many, OWN_V6);
	apply_check(a, &cur, many, OWN_ALL);
	apply_check(a, &cur, many, OWN_NONE);
	apply_check(a, &cur, many, OWN_NOT3);

	/* one counter a VIP ever owned, the shared one once */
	a->metrics(a, &m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m.s);
	CU_ASSERT_EQUAL(count_lines(m.s, "metallb_layer2_gratuitous_sent{"), many);
	CU_ASSERT(strstr(m.s, "metallb_layer2_gratuitous_sent{ip=\"10.0.0.0\"} 0\n") != NULL);
	CU_ASSERT(strstr(m.s, "metallb_layer2_gratuitous_sent{ip=\"a00::\"} 0\n") != NULL);
	buf_free(&m);

	a->free(a);
	desired_unref(cur);
	config_free((struct config *)env.cfg);
	event_base_free(env.base);
	errs_clear(&errs);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "vipgatectl l2 and metrics", test_show_and_metrics },
		{ "heartbeat peers without a key", test_missing_key },
		{ "owned VIPs found by family and address", test_owned_lookup },
		{ NULL, NULL },
	};

	return cu_run("l2 applier", tests);
}
