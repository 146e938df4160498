/*
 * What a LoadBalancer Service asks of the allocator: its sharing key, pool,
 * family policy, requested addresses (loadBalancerIPs or
 * spec.loadBalancerIP) and previous ones (the state file, else its status),
 * read once a run; and the annotations MetalLB reads.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "vipgate/alloc.h"
#include "vipgate/util.h"

#include "alloc-int.h"

void
alloc_sort_v4_first(struct ipaddr *ips, size_t n)
{
	if (n == 2 && ips[0].family == AF_INET6) {
		struct ipaddr t = ips[0];

		ips[0] = ips[1];
		ips[1] = t;
	}
}

/* Up to one address of each family, v4 first; 0 when that is not what it is. */
static size_t
norm_ips(const struct ipaddr *in, size_t n, struct ipaddr out[2])
{
	size_t i;

	if (n == 0 || n > 2)
		return 0;
	for (i = 0; i < n; i++) {
		if (in[i].family != AF_INET && in[i].family != AF_INET6)
			return 0;
		out[i] = in[i];
	}
	if (n == 2 && in[0].family == in[1].family)
		return 0;
	alloc_sort_v4_first(out, n);
	return n;
}

static const struct alloc_prev *
prev_find(const struct alloc_input *in, const char *ns, const char *name)
{
	size_t lo = 0, hi = in->nprev;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct alloc_prev *p = &in->prev[mid];
		int r = strcmp(p->ns, ns);

		if (r == 0)
			r = strcmp(p->name, name);
		if (r == 0)
			return p;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void
svc_prev(const struct actx *c, struct asvc *s)
{
	const struct alloc_prev *p = prev_find(c->in, s->obj->meta.ns, s->obj->meta.name);
	struct ipaddr st[2];
	size_t i;

	if (p != NULL && p->nips > 0) {
		s->nprev = norm_ips(p->ips, p->nips, s->prev);
		return;
	}
	if (s->k->nstatus_ingress_ips == 0 || s->k->nstatus_ingress_ips > 2)
		return;
	for (i = 0; i < s->k->nstatus_ingress_ips; i++)
		if (ipaddr_parse(s->k->status_ingress_ips[i], &st[i]) == -1)
			return;
	s->nprev = norm_ips(st, s->k->nstatus_ingress_ips, s->prev);
}

/* loadBalancerIPs (comma-separated, spaces trimmed) or spec.loadBalancerIP. */
static const char *
svc_requested(struct actx *c, struct asvc *s)
{
	const char *ann = alloc_annotation(s->obj, "loadBalancerIPs");
	const char *lbip = s->k->load_balancer_ip;
	char b0[IPADDR_STRLEN], b1[IPADDR_STRLEN];

	if (ann != NULL && *ann == '\0')
		ann = NULL;
	if (lbip != NULL && *lbip == '\0')
		lbip = NULL;
	if (ann != NULL && lbip != NULL)
		return "both the loadBalancerIPs annotation and spec.loadBalancerIP are set";
	if (lbip != NULL) {
		if (ipaddr_parse(lbip, &s->req[0]) == -1)
			return arena_printf(c->out, "spec.loadBalancerIP \"%s\" is not an IP address", lbip);
		s->nreq = 1;
		return NULL;
	}
	while (ann != NULL) {
		const char *comma = strchr(ann, ','), *e = comma ? comma : ann + strlen(ann);
		char *tok;

		while (ann < e && isspace((unsigned char)*ann))
			ann++;
		while (e > ann && isspace((unsigned char)e[-1]))
			e--;
		if (s->nreq == 2)
			return "loadBalancerIPs: at most one IPv4 and one IPv6 address";
		tok = arena_strndup(c->arena, ann, (size_t)(e - ann));
		if (ipaddr_parse(tok, &s->req[s->nreq]) == -1)
			return arena_printf(c->out, "loadBalancerIPs: \"%s\" is not an IP address", tok);
		s->nreq++;
		ann = comma ? comma + 1 : NULL;
	}
	if (s->nreq == 2 && s->req[0].family == s->req[1].family)
		return arena_printf(c->out, "loadBalancerIPs: %s and %s are of the same family",
		    ipaddr_fmt(&s->req[0], b0), ipaddr_fmt(&s->req[1], b1));
	alloc_sort_v4_first(s->req, s->nreq);
	return NULL;
}

void
alloc_svc_prep(struct actx *c, struct asvc *s)
{
	const struct k_service *k = s->k;
	const char *v;
	char b0[IPADDR_STRLEN], b1[IPADDR_STRLEN];

	v = alloc_annotation(s->obj, "allow-shared-ip");
	s->key = v != NULL && *v != '\0' ? v : NULL;
	if (str_eq(k->external_traffic_policy, "Local"))
		s->backend = &k->selector;
	if (s->key != NULL) {
		s->res->sharing_key = arena_strdup(c->out, s->key);
		s->grp = alloc_group_get(c, s);
		s->sig = alloc_sig_get(c, s);
	}
	v = alloc_annotation(s->obj, "address-pool");
	s->req_pool = v != NULL && *v != '\0' ? v : NULL;
	if (str_eq(k->ip_family_policy, "PreferDualStack"))
		s->pol = POL_PREFER;
	else if (str_eq(k->ip_family_policy, "RequireDualStack"))
		s->pol = POL_REQUIRE;
	else
		s->pol = POL_SINGLE;
	if ((s->err = svc_requested(c, s)) != NULL)
		return;
	/*
	 * The API server fills ipFamilies; a manifest from a file may leave it
	 * out, and then a single requested address says the family.
	 */
	if (k->nip_families > 0)
		s->af = str_eq(k->ip_families[0], "IPv6") ? AF_INET6 : AF_INET;
	else if (s->nreq == 1)
		s->af = s->req[0].family;
	else
		s->af = AF_INET;
	if (s->nreq == 1 && s->pol == POL_SINGLE && s->req[0].family != s->af)
		s->err = arena_printf(c->out, "requested IP %s is not %s, the service's family",
		    ipaddr_fmt(&s->req[0], b0), af_name(s->af));
	else if (s->nreq == 2 && s->pol == POL_SINGLE)
		s->err = arena_printf(c->out, "requested IPs %s and %s need ipFamilyPolicy "
		    "PreferDualStack or RequireDualStack",
		    ipaddr_fmt(&s->req[0], b0), ipaddr_fmt(&s->req[1], b1));
	else if (s->nreq == 1 && s->pol == POL_REQUIRE)
		s->err = "RequireDualStack needs an IPv4 and an IPv6 requested IP";
	if (s->err == NULL)
		svc_prev(c, s);
}

const char *
alloc_annotation(const struct object *svc, const char *suffix)
{
	static const char *prefixes[] = { "metallb.io/", "metallb.universe.tf/" };
	char key[256];
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(prefixes); i++) {
		const char *v;

		if ((size_t)snprintf(key, sizeof(key), "%s%s", prefixes[i], suffix) >= sizeof(key))
			return NULL;
		if ((v = strmap_get(&svc->meta.annotations, key)) != NULL)
			return v;
	}
	return NULL;
}
