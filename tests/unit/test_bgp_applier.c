/*
 * The BGP applier without the network: a peer that cannot run (a problem
 * in its settings) opens no socket, so show, metrics and the reload diff
 * can be checked in-process.
 */
#include "config.h"

#include <event2/event.h>

#include "cu.h"
#include "vipgate/bgp.h"
#include "vipgate/bgp-t.h"
#include "vipgate/config.h"
#include "vipgate/ctl.h"
#include "vipgate/reconcile.h"

static struct desired *
one_peer(const char *addr, uint32_t hold)
{
	struct desired *d = desired_empty();
	struct bgp_desired *bd = arena_alloc(d->arena, sizeof(*bd));
	struct bgp_peer_desired *p = arena_alloc(d->arena, sizeof(*p));
	struct bgp_attrset *as = arena_alloc(d->arena, sizeof(*as));
	struct bgp_route *r = arena_alloc(d->arena, sizeof(*r));
	uint32_t *c = arena_alloc(d->arena, sizeof(*c));

	ipaddr_parse(addr, &p->addr);
	p->port = 179;
	p->vrf = "";
	p->ns = "metallb-system";
	p->name = "tor";
	p->my_asn = 64500;
	p->peer_asn = 64501;
	p->hold_s = hold;
	p->problem = "vrf is not supported";
	p->bfd_profile = "fast";
	*c = 0xfde80064u;
	as->comms = c;
	as->ncomms = 1;
	ipaddr_parse("192.0.2.10", &r->pfx.addr);
	r->pfx.plen = 32;
	r->attrs = as;
	r->svc = "default/web";
	p->routes = r;
	p->nroutes = 1;
	p->attrsets = as;
	p->nattrsets = 1;
	bd->peers = p;
	bd->npeers = 1;
	d->bgp = bd;
	return d;
}

static void
kick(void *arg)
{
	(void)arg;
}

static json_t *
show(struct applier *a, const char *cmd)
{
	struct ctl_request req = { (char *)cmd, NULL, 0 };
	char *err = NULL;
	json_t *j = a->show(a, &req, &err);

	CU_ASSERT_PTR_NULL(err);
	return j;
}

static void
t_show_metrics(void)
{
	struct vg_errs errs = { 0 };
	const char *y = "node: {name: node-a}\n";
	struct config *cfg = config_parse(y, strlen(y), "vipgate.yaml", &errs);
	struct event_base *base = event_base_new();
	struct applier_env env = { base, cfg, kick, NULL };
	struct applier *a = bgp_applier_new(&env);
	struct desired *empty = desired_empty(), *d1 = one_peer("192.0.2.1", 90);
	struct vg_buf m = { 0 };
	json_t *j, *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->apply(a, empty, d1), 0);
	j = show(a, "bgp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	p = json_array_get(json_object_get(j, "peers"), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "peer")), "192.0.2.1:179");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "state")), "Idle");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "last_error")),
	    "vrf is not supported");
	/* a peer that cannot run has no BFD session either */
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "bfd")), "off");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(p, "peer_asn")), 64501);
	json_decref(j);
	j = show(a, "routes");
	p = json_array_get(json_object_get(j, "routes"), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "prefix")), "192.0.2.10/32");
	CU_ASSERT(json_is_false(json_object_get(p, "advertised")));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(
	    json_object_get(p, "communities"), 0)), "65000:100");
	json_decref(j);
	/* not its command */
	CU_ASSERT_PTR_NULL(show(a, "l2"));
	a->metrics(a, &m);
	CU_ASSERT_PTR_NOT_NULL(strstr(m.s, "metallb_bgp_session_up{peer=\"192.0.2.1:179\"} 0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.s,
	    "metallb_bgp_announced_prefixes_total{peer=\"192.0.2.1:179\"} 0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.s, "metallb_bgp_opens_sent{peer=\"192.0.2.1:179\"} 0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.s, "# TYPE metallb_bgp_updates_total counter\n"));
	buf_free(&m);
	/* the peer goes: nothing left */
	CU_ASSERT_EQUAL(a->apply(a, d1, empty), 0);
	j = show(a, "bgp");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "peers")), 0);
	json_decref(j);
	CU_ASSERT_EQUAL(a->drain(a), 0);
	a->free(a);
	desired_unref(d1);
	desired_unref(empty);
	event_base_free(base);
	config_free(cfg);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "show bgp/routes, metrics, peer removal", t_show_metrics },
		{ NULL, NULL },
	};

	return cu_run("bgp_applier", tests);
}
