/*
 * TCP and TLS passthrough in `vipgatectl gateway listeners` and `gateway
 * routes`: the same row shapes as the HTTP ones (gw.c), with action
 * "tcp_proxy" and the L4 match fields (sni_hosts, port,
 * destination_subnets, source_subnet).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gw-l4show.h"
#include "vipgate/gw-l4-t.h"

const char *
gw_l4_show_protocol(const struct gw_listener *l)
{
	if (l->l4 && l->l4->kind == GW_L4_PASSTHROUGH)
		return "TLS";
	return l->l4 && l->l4->kind == GW_L4_TERMINATE ? "TLS (terminated)" : "TCP";
}

static json_t *
cidrs(const struct gw_cidr *v, size_t n)
{
	json_t *a = json_array();
	char buf[IPADDR_STRLEN + 8];
	size_t i;

	for (i = 0; i < n; i++) {
		char ip[IPADDR_STRLEN];

		snprintf(buf, sizeof(buf), "%s/%d", ipaddr_fmt(&v[i].addr, ip), v[i].plen);
		json_array_append_new(a, json_string(buf));
	}
	return a;
}

static json_t *
l4_route_row(uint16_t port, const struct gw_l4 *l4, const struct gw_l4_route *rt, int autop)
{
	json_t *ms = json_array(), *ds = json_array();
	size_t m, x;

	for (m = 0; m < rt->nmatches; m++) {
		const struct gw_l4_match *mm = &rt->matches[m];
		json_t *o = json_object(), *sni = json_array();

		for (x = 0; x < mm->nsni; x++)
			json_array_append_new(sni, json_string(mm->sni[x]));
		if (mm->nsni)
			json_object_set_new(o, "sni_hosts", sni);
		else
			json_decref(sni);
		if (mm->port)
			json_object_set_new(o, "port", json_integer(mm->port));
		if (mm->ndst)
			json_object_set_new(o, "destination_subnets", cidrs(mm->dst, mm->ndst));
		if (mm->nsrc)
			json_object_set_new(o, "source_subnet", cidrs(mm->src, mm->nsrc));
		json_array_append_new(ms, o);
	}
	for (x = 0; x < rt->ndests; x++)
		json_array_append_new(ds, json_pack("{s:s,s:i}", "cluster",
		    rt->dests[x].cluster->name, "weight", (int)rt->dests[x].weight));
	if (autop)	/* no VirtualService: the Gateway's server (ns/name) */
		return json_pack("{s:i,s:s,s:s,s:s,s:i,s:s,s:o,s:o}",
		    "port", port, "route_config", l4->name, "virtual_host", "(AUTO_PASSTHROUGH)",
		    "gateway", rt->vs_name, "rule", 0, "action", "tcp_proxy", "match", ms,
		    "destinations", ds);
	return json_pack("{s:i,s:s,s:s,s:s,s:i,s:s,s:o,s:o}",
	    "port", port, "route_config", l4->name,
	    "virtual_host", l4->kind == GW_L4_PASSTHROUGH ? "(sni)" : "*",
	    "virtual_service", rt->vs_name, "rule", (int)rt->rule,
	    "action", "tcp_proxy", "match", ms, "destinations", ds);
}

json_t *
gw_l4_show_chains(const struct gw_listener *l)
{
	json_t *sni = json_array();
	size_t r, m, k, x;

	for (r = 0; r < l->l4->nroutes; r++)
		for (m = 0; m < l->l4->routes[r].nmatches; m++)
			for (k = 0; k < l->l4->routes[r].matches[m].nsni; k++) {
				const char *s = l->l4->routes[r].matches[m].sni[k];
				int dup = 0;

				for (x = 0; x < json_array_size(sni); x++)
					if (strcmp(json_string_value(json_array_get(sni, x)), s) == 0)
						dup = 1;
				if (!dup)
					json_array_append_new(sni, json_string(s));
			}
	if (l->l4->kind == GW_L4_TERMINATE) {
		/* TLS ends here: the chains by SNI, each with its certificate */
		json_t *a = json_array();

		json_decref(sni);
		for (r = 0; r < l->nchains; r++) {
			const struct gw_chain *c = &l->chains[r];
			json_t *cs = json_array();

			for (k = 0; k < c->nsni; k++)
				json_array_append_new(cs, json_string(c->sni[k]));
			json_array_append_new(a, json_pack("{s:s,s:o,s:i,s:s,s:s?,s:s?}",
			    "route_config", c->name, "sni", cs, "routes", (int)l->l4->nroutes,
			    "filter", "tcp_proxy", "credential", c->tls ? c->tls->credential : NULL,
			    "tls_error", c->tls ? c->tls->error : NULL));
		}
		return a;
	}
	if (l->l4->nautos) {
		/* AUTO_PASSTHROUGH: a chain a cluster in Envoy, the cluster's name its
		 * server name; counted in the text, listed in the JSON */
		json_t *as = json_array();

		for (r = 0; r < l->l4->nautos; r++)
			json_array_append_new(as,
			    json_string(l->l4->autos[r].route.matches[0].sni[0]));
		return json_pack("[{s:s,s:o,s:i,s:s,s:i,s:o}]", "route_config", l->l4->name,
		    "sni", sni, "routes", (int)(l->l4->nroutes + l->l4->nautos),
		    "filter", "tcp_proxy", "auto_passthrough", (int)l->l4->nautos, "auto_sni", as);
	}
	return json_pack("[{s:s,s:o,s:i,s:s}]", "route_config", l->l4->name, "sni", sni,
	    "routes", (int)l->l4->nroutes, "filter", "tcp_proxy");
}

void
gw_l4_show_routes(const struct gw_desired *g, json_t *arr)
{
	size_t i, r;

	for (i = 0; g && i < g->nlisteners; i++) {
		const struct gw_l4 *l4 = g->listeners[i].l4;

		const char *dep = g->deps[g->listeners[i].dep].name;
		json_t *row;

		for (r = 0; l4 && r < l4->nroutes; r++) {
			row = l4_route_row(g->listeners[i].port, l4, &l4->routes[r], 0);
			json_object_set_new(row, "deployment", json_string(dep));
			json_array_append_new(arr, row);
		}
		for (r = 0; l4 && r < l4->nautos; r++) {
			row = l4_route_row(g->listeners[i].port, l4, &l4->autos[r].route, 1);
			json_object_set_new(row, "deployment", json_string(dep));
			json_array_append_new(arr, row);
		}
	}
}
