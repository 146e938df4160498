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

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "vipgatectl l2 and metrics", test_show_and_metrics },
		{ "heartbeat peers without a key", test_missing_key },
		{ NULL, NULL },
	};

	return cu_run("l2 applier", tests);
}
