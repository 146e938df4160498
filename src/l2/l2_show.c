/*
 * The L2 applier's display, kept out of the engine (as BIRD keeps
 * rt-show.c beside rt-table.c): `vipgatectl l2` as JSON, and the
 * Prometheus metrics, MetalLB's per-VIP counters under MetalLB's names
 * plus vipgate's own. It only reads the state l2.c and hb_io.c keep.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "l2-int.h"
#include "vipgate/config-t.h"
#include "vipgate/ctl.h"
#include "vipgate/reconcile.h"
#include "vipgate/util.h"

json_t *
l2_show(struct applier *app, const struct ctl_request *req, char **err)
{
	struct l2_ctx *c = app->ctx;
	const struct l2_desired *l2 = c->cur ? c->cur->l2 : NULL;
	json_t *res, *rows;
	struct vg_buf sp = { 0 }, ifs = { 0 };
	char b[IPADDR_STRLEN];
	size_t i, j;

	(void)err;
	if (strcmp(req->command, "l2") != 0)
		return NULL;
	res = json_object();
	rows = json_array();
	for (i = 0; l2 && i < l2->nspeakers; i++)
		buf_printf(&sp, "%s%s", i ? "," : "", l2->speakers[i]);
	for (i = 0; i < c->nifs; i++)
		buf_printf(&ifs, "%s%s", i ? "," : "", c->ifs[i]->name);
	json_object_set_new(res, "node", json_string(c->env->cfg->node.name));
	json_object_set_new(res, "heartbeat", json_string(!c->hb_on ? "off (every Node counts)" :
	    c->settled ? "on" : "starting"));
	json_object_set_new(res, "speakers", json_string(sp.s ? sp.s : ""));
	json_object_set_new(res, "interfaces", json_string(ifs.s ? ifs.s : ""));
	json_object_set_new(res, "conflicts", json_integer((json_int_t)c->conflicts));
	for (i = 0; l2 && i < l2->nvips; i++) {
		const struct l2_vip *v = &l2->vips[i];
		const struct l2_owned *o = l2_owned_find(c, v->vip.family, v->vip.a);
		json_t *row = json_object(), *ia = json_array();

		json_object_set_new(row, "vip", json_string(ipaddr_fmt(&v->vip, b)));
		{
			char *sv;

			xasprintf(&sv, "%s/%s", v->ns, v->name);
			json_object_set_new(row, "service", json_string(sv));
			free(sv);
		}
		json_object_set_new(row, "owner", v->owner ? json_string(v->owner) : json_null());
		json_object_set_new(row, "here", json_string(o ? "yes" : "no"));
		if (o && o->ifaces)
			for (j = 0; j < o->nifaces; j++)
				json_array_append_new(ia, json_string(o->ifaces[j]));
		else if (o)
			for (j = 0; j < c->nifs; j++)
				json_array_append_new(ia, json_string(c->ifs[j]->name));
		json_object_set_new(row, "interfaces", ia);
		json_object_set_new(row, "candidates", json_integer((json_int_t)v->ncandidates));
		json_object_set_new(row, "conflict", o && o->conflict ?
		    json_string(o->conflict_mac) : json_null());
		if (v->why)
			json_object_set_new(row, "why", json_string(v->why));
		json_array_append_new(rows, row);
	}
	json_object_set_new(res, "vips", rows);
	buf_free(&sp);
	buf_free(&ifs);
	return res;
}

void
l2_metrics(struct applier *app, struct vg_buf *out)
{
	struct l2_ctx *c = app->ctx;
	static const struct {
		const char *name, *help;
		size_t off;
	} m[] = {
		{ "metallb_layer2_requests_received", "Number of layer2 requests received for owned IPs",
		  offsetof(struct l2_counter, requests) },
		{ "metallb_layer2_responses_sent", "Number of layer2 responses sent for owned IPs",
		  offsetof(struct l2_counter, responses) },
		{ "metallb_layer2_gratuitous_sent", "Number of gratuitous layer2 packets sent for owned IPs",
		  offsetof(struct l2_counter, gratuitous) },
	};
	char b[IPADDR_STRLEN];
	size_t i, k;

	for (k = 0; k < VG_ARRAY_SIZE(m); k++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", m[k].name, m[k].help,
		    m[k].name);
		for (i = 0; i < c->nctr; i++)
			buf_printf(out, "%s{ip=\"%s\"} %llu\n", m[k].name,
			    ipaddr_fmt(&c->ctr[i].vip, b),
			    (unsigned long long)*(const uint64_t *)(const void *)
			    ((const char *)&c->ctr[i] + m[k].off));
	}
	buf_printf(out, "# HELP vipgate_l2_conflicts_total ARP/NDP claims for owned VIPs from other MACs\n"
	    "# TYPE vipgate_l2_conflicts_total counter\nvipgate_l2_conflicts_total %llu\n",
	    (unsigned long long)c->conflicts);
	buf_printf(out, "# HELP vipgate_l2_heartbeats_rejected_total heartbeats dropped "
	    "(unknown source, HMAC, replay)\n# TYPE vipgate_l2_heartbeats_rejected_total counter\n"
	    "vipgate_l2_heartbeats_rejected_total %llu\n", (unsigned long long)c->hb_rejected);
	buf_printf(out, "# HELP vipgate_l2_speakers_alive heartbeat peers heard alive\n"
	    "# TYPE vipgate_l2_speakers_alive gauge\nvipgate_l2_speakers_alive %zu\n",
	    c->live.nnodes);
}
