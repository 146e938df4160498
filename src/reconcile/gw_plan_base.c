/*
 * What every part of the gateway plan uses: its notes (what vipgatectl
 * analyze reports), sorting, and host names as Istio matches them
 * (pkg/config/host: Name.Matches, intersection). A leaf of the plan's files.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/log.h"
#include "vipgate/reconcile.h"

#include "gw-plan.h"

/* A note on object o for vipgatectl analyze (gw_desired.notes). */
void
gwp_note(struct plan *p, const struct object *o, const char *fmt, ...)
{
	struct gw_note *n;
	char buf[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* several deployments plan an object once each: one note is enough */
	if (p->cfg->gateway.ndeployments > 1) {
		size_t i;

		for (i = 0; i < p->notes.n; i++) {
			const struct gw_note *x = p->notes.v[i];

			if (strcmp(x->msg, buf) == 0 && strcmp(x->name, o->meta.name) == 0 &&
			    strcmp(x->ns, o->meta.ns) == 0 && strcmp(x->kind, kind_name(o->kind)) == 0)
				return;
		}
	}
	n = arena_alloc(p->a, sizeof(*n));
	n->kind = kind_name(o->kind);
	n->ns = arena_strdup(p->a, o->meta.ns);
	n->name = arena_strdup(p->a, o->meta.name);
	n->msg = arena_strdup(p->a, buf);
	ptrvec_push(&p->notes, n);
}

void
gwp_dep_set(struct plan *p, size_t dep)
{
	p->dep = dep;
	p->labels = &p->cfg->gateway.deployments[dep].labels;
}

char *
gwp_lower_dup(struct vg_arena *a, const char *s)
{
	char *r = arena_strdup(a, s);
	char *q;

	for (q = r; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	return r;
}

/* qsort with n == 0 may get a NULL base, which UBSan rejects */
void
gwp_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* Whether pattern a covers b: equal, "*", or "*.x" over anything ending in ".x". */
int
gwp_host_covers(const char *a, const char *b)
{
	size_t la, lb;

	if (strcasecmp(a, b) == 0 || strcmp(a, "*") == 0)
		return 1;
	if (a[0] != '*')
		return 0;
	la = strlen(a + 1);
	lb = strlen(b);
	/* "*.example.com" covers "foo.example.com" and "*.foo.example.com" */
	if (b[0] == '*') {
		if (lb - 1 < la)
			return 0;
		return strcasecmp(b + lb - la, a + 1) == 0;
	}
	return lb > la && strcasecmp(b + lb - la, a + 1) == 0;
}

/* The more specific of two intersecting hosts, or NULL. */
const char *
gwp_host_intersect(const char *a, const char *b)
{
	if (gwp_host_covers(a, b))
		return b;
	if (gwp_host_covers(b, a))
		return a;
	return NULL;
}

/* VirtualService and DestinationRule hosts: short names live in the object's namespace. */
char *
gwp_host_fqdn(struct vg_arena *a, const char *host, const char *ns)
{
	if (strchr(host, '.') == NULL && strchr(host, '*') == NULL)
		return gwp_lower_dup(a, arena_printf(a, "%s.%s." CLUSTER_DOMAIN, host, ns));
	return gwp_lower_dup(a, host);
}

/* Whether a server host's namespace part admits a VirtualService from vs_ns. */
int
gwp_host_ns_ok(const struct k_gw_host *h, const char *gw_ns, const char *vs_ns)
{
	if (h->ns == NULL || strcmp(h->ns, "*") == 0)
		return 1;
	if (strcmp(h->ns, ".") == 0)
		return strcmp(gw_ns, vs_ns) == 0;
	return strcmp(h->ns, vs_ns) == 0;
}

int
gwp_gw_ref_is(const char *ref, const char *ref_ns, const struct object *gwo)
{
	const char *slash = strchr(ref, '/');

	if (strcmp(ref, "mesh") == 0)
		return 0;
	if (slash)
		return strncmp(ref, gwo->meta.ns, (size_t)(slash - ref)) == 0 &&
		    gwo->meta.ns[slash - ref] == '\0' && strcmp(slash + 1, gwo->meta.name) == 0;
	/* the FQDN form name.ns.svc.cluster.local is accepted by Istio too */
	if (strchr(ref, '.')) {
		size_t ln = strlen(gwo->meta.name), lns = strlen(gwo->meta.ns);

		return strncmp(ref, gwo->meta.name, ln) == 0 && ref[ln] == '.' &&
		    strncmp(ref + ln + 1, gwo->meta.ns, lns) == 0 &&
		    (ref[ln + 1 + lns] == '\0' || ref[ln + 1 + lns] == '.');
	}
	return strcmp(ref_ns, gwo->meta.ns) == 0 && strcmp(ref, gwo->meta.name) == 0;
}

int
gwp_vs_attached(const struct object *vso, const struct object *gwo)
{
	const struct k_virtualservice *vs = OBJ_SPEC(vso, k_virtualservice);
	size_t i;

	for (i = 0; i < vs->ngateways; i++)
		if (gwp_gw_ref_is(vs->gateways[i], vso->meta.ns, gwo))
			return 1;
	return 0;
}
