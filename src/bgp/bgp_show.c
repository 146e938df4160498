/*
 * What the BGP speaker shows: its peers and routes as JSON for vipgatectl
 * ("bgp", "routes") and its counters as Prometheus metrics, with MetalLB's
 * metric names. Reads the speaker's state (bgp-int-t.h); bgp.c installs
 * these in its applier and never calls them itself.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bgp-int.h"
#include "vipgate/bfd.h"
#include "vipgate/bgp-t.h"
#include "vipgate/ctl.h"
#include "vipgate/util.h"

/* The attributes of a route, into its object o. */
static json_t *
attrs_json(const struct bgp_attrset *as, json_t *o)
{
	json_t *c = json_array(), *l = json_array();
	size_t i;
	char buf[64];

	for (i = 0; i < as->ncomms; i++) {
		snprintf(buf, sizeof(buf), "%u:%u", as->comms[i] >> 16, as->comms[i] & 0xffff);
		json_array_append_new(c, json_string(buf));
	}
	for (i = 0; i < as->nlarge; i++) {
		snprintf(buf, sizeof(buf), "%u:%u:%u", as->large[i].global, as->large[i].local1,
		    as->large[i].local2);
		json_array_append_new(l, json_string(buf));
	}
	json_object_set_new(o, "communities", c);
	json_object_set_new(o, "large_communities", l);
	if (as->has_local_pref)
		json_object_set_new(o, "local_pref", json_integer(as->local_pref));
	else
		json_object_set_new(o, "local_pref", json_null());
	return o;
}

/* "off", the BFD state, or why it is off. */
static json_t *
bfd_summary(const struct peer *p)
{
	char buf[200];

	if (p->pd->bfd_profile == NULL)
		return json_string("off");
	if (p->bfd == NULL)
		return json_string(p->pd->bfd_note ? p->pd->bfd_note : "off");
	snprintf(buf, sizeof(buf), "%s%s", bfd_state_name(bfd_peer_state(p->bfd)),
	    p->bfd_held ? " (holds BGP down)" : "");
	return json_string(buf);
}

json_t *
bgp_show(struct applier *ap, const struct ctl_request *req, char **err)
{
	struct bgp *b = ap->ctx;
	json_t *arr = json_array();
	size_t i, j;
	char buf[IPADDR_STRLEN];

	(void)err;
	if (strcmp(req->command, "bgp") == 0) {
		for (i = 0; i < b->npeers; i++) {
			struct peer *p = b->peers[i];
			const struct bgp_peer_desired *pd = p->pd;
			json_t *o = json_object();

			json_object_set_new(o, "peer", json_string(p->label));
			json_object_set_new(o, "name", json_string(pd->name));
			if (pd->iface)	/* unnumbered: the link-local address learned */
				json_object_set_new(o, "neighbor", p->nbr.family ?
				    json_string(ipaddr_fmt(&p->nbr, buf)) : json_null());
			json_object_set_new(o, "my_asn", json_integer(pd->my_asn));
			json_object_set_new(o, "peer_asn", pd->peer_asn ? json_integer(pd->peer_asn) :
			    json_string(pd->dynamic == BGP_DYN_INTERNAL ? "internal" : "external"));
			json_object_set_new(o, "state", json_string(bgp_state_name(p->fsm.state)));
			json_object_set_new(o, "uptime_s", json_integer(p->up_since ?
			    (json_int_t)(time(NULL) - p->up_since) : 0));
			json_object_set_new(o, "flaps", json_integer(p->flaps));
			json_object_set_new(o, "prefixes_sent", json_integer((json_int_t)p->pfx_sent));
			json_object_set_new(o, "prefixes_received",
			    json_integer((json_int_t)p->pfx_rcvd));
			json_object_set_new(o, "hold_s", json_integer(p->fsm.state >= BGP_OPENCONFIRM ?
			    p->fsm.hold : pd->hold_s));
			json_object_set_new(o, "md5", json_boolean(pd->password != NULL));
			json_object_set_new(o, "graceful_restart", json_boolean(p->gr));
			json_object_set_new(o, "bfd", bfd_summary(p));
			json_object_set_new(o, "last_error", json_string(p->last_error));
			json_array_append_new(arr, o);
		}
		return json_pack("{s:o}", "peers", arr);
	}
	if (strcmp(req->command, "bfd") == 0) {
		for (i = 0; i < b->npeers; i++) {
			struct peer *p = b->peers[i];
			json_t *o;

			if (p->pd->bfd_profile == NULL)
				continue;
			if (p->bfd)
				o = bfd_peer_json(p->bfd);
			else {
				o = json_object();
				json_object_set_new(o, "peer", json_string(ipaddr_fmt(&p->pd->addr,
				    buf)));
				json_object_set_new(o, "profile", json_string(p->pd->bfd_profile));
				json_object_set_new(o, "state", json_string("off"));
			}
			json_object_set_new(o, "bgp_peer", json_string(p->label));
			json_object_set_new(o, "bgp_state", json_string(bgp_state_name(p->fsm.state)));
			json_object_set_new(o, "holds_bgp_down", json_boolean(p->bfd_held));
			json_object_set_new(o, "note", p->pd->bfd_note ? json_string(p->pd->bfd_note) :
			    json_null());
			json_array_append_new(arr, o);
		}
		return json_pack("{s:o}", "sessions", arr);
	}
	if (strcmp(req->command, "routes") == 0) {
		for (i = 0; i < b->npeers; i++) {
			struct peer *p = b->peers[i];
			const struct bgp_peer_desired *pd = p->synced ? p->synced : p->pd;
			struct bgp_tx_session s;

			bgp_peer_tx_session(p, &s);
			for (j = 0; j < pd->nroutes; j++) {
				const struct bgp_route *r = &pd->routes[j];
				json_t *o = json_object();
				char pfx[IPADDR_STRLEN + 8];

				snprintf(pfx, sizeof(pfx), "%s/%u", ipaddr_fmt(&r->pfx.addr, buf),
				    r->pfx.plen);
				json_object_set_new(o, "peer", json_string(p->label));
				json_object_set_new(o, "prefix", json_string(pfx));
				json_object_set_new(o, "advertised", json_boolean(p->synced != NULL &&
				    bgp_peer_family_ok(p, &r->pfx)));
				if (p->fsm.state == BGP_ESTABLISHED)
					json_object_set_new(o, "next_hop", json_string(ipaddr_fmt(
					    r->pfx.addr.family == AF_INET ? &s.nh4 : &s.nh6, buf)));
				else
					json_object_set_new(o, "next_hop", json_null());
				attrs_json(r->attrs, o);
				json_object_set_new(o, "service", json_string(r->svc));
				json_array_append_new(arr, o);
			}
		}
		return json_pack("{s:o}", "routes", arr);
	}
	json_decref(arr);
	return NULL;
}

void
bgp_metrics(struct applier *ap, struct vg_buf *out)
{
	struct bgp *b = ap->ctx;
	static const struct {
		const char	*name, *help;
		size_t		 off;
	} ctrs[] = {
#define C(n, h, f) { "metallb_bgp_" n, h, offsetof(struct peer, f) }
		C("updates_total", "Number of BGP UPDATE messages sent", updates_sent),
		C("updates_total_received", "Number of BGP UPDATE messages received", updates_rcvd),
		C("opens_sent", "Number of BGP open messages sent", opens_sent),
		C("opens_received", "Number of BGP open messages received", opens_rcvd),
		C("notifications_sent", "Number of BGP notification messages sent", notifs_sent),
		C("keepalives_sent", "Number of BGP keepalive messages sent", ka_sent),
		C("keepalives_received", "Number of BGP keepalive messages received", ka_rcvd),
		C("route_refresh_received", "Number of BGP route refresh messages received",
		    rr_rcvd),
		C("total_sent", "Number of total BGP messages sent", msgs_sent),
		C("total_received", "Number of total BGP messages received", msgs_rcvd),
#undef C
	};
	size_t i, c;

	buf_puts(out, "# HELP metallb_bgp_session_up BGP session state (1 is up, 0 is down)\n"
	    "# TYPE metallb_bgp_session_up gauge\n");
	for (i = 0; i < b->npeers; i++)
		buf_printf(out, "metallb_bgp_session_up{peer=\"%s\"} %d\n", b->peers[i]->label,
		    b->peers[i]->fsm.state == BGP_ESTABLISHED);
	buf_puts(out, "# HELP metallb_bgp_announced_prefixes_total Number of prefixes currently"
	    " being advertised on the BGP session\n"
	    "# TYPE metallb_bgp_announced_prefixes_total gauge\n");
	for (i = 0; i < b->npeers; i++)
		buf_printf(out, "metallb_bgp_announced_prefixes_total{peer=\"%s\"} %zu\n",
		    b->peers[i]->label, b->peers[i]->pfx_sent);
	for (c = 0; c < sizeof(ctrs) / sizeof(ctrs[0]); c++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", ctrs[c].name, ctrs[c].help,
		    ctrs[c].name);
		for (i = 0; i < b->npeers; i++)
			buf_printf(out, "%s{peer=\"%s\"} %llu\n", ctrs[c].name, b->peers[i]->label,
			    (unsigned long long)*(const uint64_t *)((const char *)b->peers[i] +
			    ctrs[c].off));
	}
	bfd_metrics(b->bfd, out);
	buf_puts(out, "# HELP vipgate_bgp_session_flaps_total Times the session left Established\n"
	    "# TYPE vipgate_bgp_session_flaps_total counter\n");
	for (i = 0; i < b->npeers; i++)
		buf_printf(out, "vipgate_bgp_session_flaps_total{peer=\"%s\"} %u\n",
		    b->peers[i]->label, b->peers[i]->flaps);
}
