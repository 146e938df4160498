/*
 * vipgatectl's text for the gateway views and analyze, laid out as
 * `istioctl proxy-config listeners|routes|endpoints` lays out Envoy's
 * config dump: one row a filter chain, a route, an endpoint; matches as
 * istioctl writes them (`/productpage*` a prefix, `/login` an exact path),
 * destinations as `reviews:9080 v2 10%`. The JSON the daemon sends (and
 * --json prints) is the full story; these tables leave out the counters.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vipgate/ctl.h"
#include "vipgate/log.h"
#include "vipgate/util.h"

#define NONE		"<none>"

static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int
jint(const json_t *o, const char *k, long long *v)
{
	const json_t *n = json_object_get(o, k);

	if (!json_is_integer(n))
		return 0;
	*v = json_integer_value(n);
	return 1;
}

/* ---- listeners ---- */

static void
chain_row(struct ctl_table *t, const json_t *l, long long port, int deps, int addrs,
    const json_t *c)
{
	const char *proto = jstr(l, "protocol");
	const json_t *as = json_object_get(l, "addresses"), *a;
	struct vg_buf ab = { 0 };
	const char *rc = jstr(c, "route_config"), *cred = jstr(c, "credential");
	const char *err = jstr(c, "tls_error"), *rej = jstr(c, "secret_rejected");
	const char *na = jstr(c, "not_after");
	const json_t *sni = json_object_get(c, "sni"), *v;
	struct vg_buf m = { 0 }, st = { 0 };
	long long nvh;
	size_t i;

	json_array_foreach(sni, i, v)
		if (json_is_string(v))
			buf_printf(&m, "%s%s", m.len ? "," : "SNI: ", json_string_value(v));
	/* AUTO_PASSTHROUGH: the SNI names a cluster (outbound_.PORT_.SUBSET_.HOST) */
	if (jint(c, "auto_passthrough", &nvh))
		buf_printf(&m, "%sAUTO_PASSTHROUGH: outbound_.* (%lld cluster%s)", m.len ? ", " : "",
		    nvh, nvh == 1 ? "" : "s");
	if (err)
		buf_printf(&st, "not served: %s", err);
	else if (rej)
		buf_printf(&st, "last good secret served; rejected: %s", rej);
	else if (na)
		buf_printf(&st, "certificate valid until %s", na);
	else
		buf_puts(&st, cred ? "ok" : "-");
	json_array_foreach(as, i, a)
		if (json_is_string(a))
			buf_printf(&ab, "%s%s", ab.len ? "," : "", json_string_value(a));
	ctl_table_row(t);
	if (deps)
		ctl_table_cell(t, jstr(l, "deployment") ? jstr(l, "deployment") : "?");
	/* no address: a deployment whose Services have no VIP yet listens nowhere */
	if (addrs)
		ctl_table_cell(t, ab.s ? ab.s : (json_is_array(as) ? "(none)" : "?"));
	if (port >= 0)
		ctl_table_cellf(t, "%lld", port);
	else
		ctl_table_cell(t, "?");
	ctl_table_cell(t, proto ? proto : "?");
	ctl_table_cell(t, m.s ? m.s : "ALL");
	ctl_table_cellf(t, "Route: %s", rc ? rc : NONE);
	if (jint(c, "virtual_hosts", &nvh) || jint(c, "routes", &nvh))	/* TCP, TLS: rules */
		ctl_table_cellf(t, "%lld", nvh);
	else
		ctl_table_cell(t, "?");
	ctl_table_cell(t, cred ? cred : "-");
	ctl_table_cell(t, st.s);
	buf_free(&m);
	buf_free(&st);
	buf_free(&ab);
}

/* Whether the rows name more than one gateway deployment (then a column says which). */
static int
several_deployments(const json_t *rows)
{
	const char *d0 = NULL, *d;
	const json_t *r;
	size_t i;

	json_array_foreach(rows, i, r) {
		d = json_is_object(r) ? jstr(r, "deployment") : NULL;
		if (d && d0 && strcmp(d, d0) != 0)
			return 1;
		if (d && !d0)
			d0 = d;
	}
	return 0;
}

int
ctl_render_gw_listeners(FILE *f, const json_t *res)
{
	const json_t *ls = json_object_get(res, "listeners"), *l, *c, *ready;
	struct ctl_table *t;
	long long n, port;
	size_t i, j;
	int deps = 0, addrs = 0;

	if (!json_is_object(res) || !json_is_array(ls))
		return ctl_render_generic(f, res);
	ready = json_object_get(res, "ready");
	if (json_is_boolean(ready) || jint(res, "workers", &n)) {
		fprintf(f, "gateway %s", json_is_boolean(ready) ?
		    (json_is_true(ready) ? "ready" : "not ready") : "");
		if (jint(res, "workers", &n))
			fprintf(f, "%s%lld worker%s", json_is_boolean(ready) ? ", " : "",
			    n, n == 1 ? "" : "s");
		fprintf(f, "\n\n");
	}
	/* several gateway deployments: which one each listener is */
	deps = several_deployments(ls);
	json_array_foreach(ls, i, l)
		if (json_is_object(l) && json_is_array(json_object_get(l, "addresses")))
			addrs = 1;
	t = ctl_table_new();
	if (deps)
		ctl_table_column(t, "deployment");
	if (addrs)
		ctl_table_column(t, "addresses");
	ctl_table_column(t, "port");
	ctl_table_column(t, "protocol");
	ctl_table_column(t, "match");
	ctl_table_column(t, "destination");
	ctl_table_column(t, "vhosts");
	ctl_table_column(t, "credential");
	ctl_table_column(t, "tls");
	json_array_foreach(ls, i, l) {
		const json_t *chains = json_object_get(l, "chains");

		if (!json_is_object(l))
			continue;
		if (!jint(l, "port", &port))
			port = -1;
		json_array_foreach(chains, j, c)
			if (json_is_object(c))
				chain_row(t, l, port, deps, addrs, c);
	}
	if (ctl_table_nrows(t))
		ctl_table_print(t, f);
	else
		fprintf(f, "no listeners\n");
	ctl_table_free(t);
	return 0;
}

/* ---- routes ---- */

/* A string match as istioctl writes it: "/a*" a prefix, "~re" a regex. */
static void
strmatch(struct vg_buf *b, const char *name, const json_t *m)
{
	const char *type = jstr(m, "type"), *val = jstr(m, "value");

	if (name)
		buf_printf(b, "%s%s", b->len ? " " : "", name);
	else if (b->len)
		buf_puts(b, " ");
	if (type == NULL)
		type = "?";
	if (strcmp(type, "present") == 0) {
		if (name == NULL)
			buf_puts(b, "*");
		return;
	}
	if (strcmp(type, "any") == 0) {
		buf_puts(b, name ? "=*" : "*");
		return;
	}
	if (name)
		buf_puts(b, strcmp(type, "regex") == 0 ? "~" : "=");
	else if (strcmp(type, "regex") == 0)
		buf_puts(b, "~");
	buf_puts(b, val ? val : "");
	if (strcmp(type, "prefix") == 0)
		buf_puts(b, "*");
	if (json_is_true(json_object_get(m, "ignore_case")))
		buf_puts(b, " (any case)");
}

/* "GET /productpage* end-user=jason :8080"; "*" when it matches all. */
/* "sni=a.test|b.test" from an array of strings, after what b holds */
static void
l4_list(struct vg_buf *b, const char *label, const json_t *a)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return;
	buf_printf(b, "%s%s", b->len ? " " : "", label);
	json_array_foreach(a, i, v)
		if (json_is_string(v))
			buf_printf(b, "%s%s", i ? "|" : "", json_string_value(v));
}

static void
match_text(struct vg_buf *b, const json_t *m)
{
	const json_t *v;
	const char *k;
	long long port;
	struct vg_buf one = { 0 };

	if ((v = json_object_get(m, "method")) && json_is_object(v))
		strmatch(&one, NULL, v);
	if ((v = json_object_get(m, "uri")) && json_is_object(v))
		strmatch(&one, NULL, v);
	json_object_foreach((json_t *)m, k, v) {
		if (strcmp(k, "uri") == 0 || strcmp(k, "method") == 0 ||
		    !json_is_object(v))
			continue;
		strmatch(&one, k, v);
	}
	if (jint(m, "port", &port))
		buf_printf(&one, "%s:%lld", one.len ? " " : "", port);
	/* tcp and tls rules: SNI names, destination and source subnets */
	l4_list(&one, "sni=", json_object_get(m, "sni_hosts"));
	l4_list(&one, "dst=", json_object_get(m, "destination_subnets"));
	l4_list(&one, "src=", json_object_get(m, "source_subnet"));
	buf_puts(b, one.s ? one.s : "*");
	buf_free(&one);
}

/*
 * "reviews.default:9080 v2" from "outbound|9080|v2|reviews.default.svc.cluster.local":
 * a Service's host loses ".svc.<domain>" (the namespace stays: the
 * VirtualService's is not in the answer); other hosts and names stay whole.
 */
static void
cluster_text(struct vg_buf *b, const char *name)
{
	const char *p = name, *f[4];
	size_t n = 0, hl;
	const char *svc;

	while (n < 4) {
		f[n++] = p;
		if ((p = strchr(p, '|')) == NULL)
			break;
		p++;
	}
	if (n != 4 || strncmp(name, "outbound|", 9) != 0) {
		buf_puts(b, name);
		return;
	}
	hl = strlen(f[3]);
	svc = strstr(f[3], ".svc.");
	if (svc)
		hl = (size_t)(svc - f[3]);
	buf_printf(b, "%.*s:%.*s", (int)hl, f[3], (int)(f[2] - f[1] - 1), f[1]);
	if (f[3] - f[2] - 1 > 0)
		buf_printf(b, " %.*s", (int)(f[3] - f[2] - 1), f[2]);
}

static void
dests_text(struct vg_buf *b, const json_t *ds)
{
	const json_t *d;
	long long w, total = 0;
	size_t i, n = json_array_size(ds);

	json_array_foreach(ds, i, d)
		if (jint(d, "weight", &w) && w > 0)
			total += w;
	json_array_foreach(ds, i, d) {
		const char *c = jstr(d, "cluster");

		if (i)
			buf_puts(b, ", ");
		cluster_text(b, c ? c : "?");
		/* a percentage where traffic is split */
		if (n > 1 && total > 0 && jint(d, "weight", &w))
			buf_printf(b, " %lld%%", (w * 100 + total / 2) / total);
	}
}

static void
route_row(struct ctl_table *t, const json_t *r, int deps)
{
	const char *rc = jstr(r, "route_config"), *vh = jstr(r, "virtual_host");
	const char *vs = jstr(r, "virtual_service"), *act = jstr(r, "action");
	const json_t *ms = json_object_get(r, "match"), *m;
	const json_t *ds = json_object_get(r, "destinations");
	struct vg_buf mb = { 0 }, db = { 0 };
	long long rule;
	size_t i;

	json_array_foreach(ms, i, m) {
		if (!json_is_object(m))
			continue;
		if (mb.len)
			buf_puts(&mb, ", ");
		match_text(&mb, m);
	}
	if (act && strcmp(act, "redirect") == 0)
		buf_puts(&db, "redirect");
	else if (act && strcmp(act, "direct_response") == 0)
		buf_puts(&db, "direct response");
	else if (json_array_size(ds) > 0) {
		if (act && strcmp(act, "tcp_proxy") == 0)
			buf_puts(&db, "tcp_proxy: ");
		dests_text(&db, ds);
	}
	ctl_table_row(t);
	if (deps)
		ctl_table_cell(t, jstr(r, "deployment") ? jstr(r, "deployment") : "?");
	ctl_table_cell(t, rc ? rc : NONE);
	ctl_table_cell(t, vh ? vh : NONE);
	ctl_table_cell(t, mb.s ? mb.s : "*");
	ctl_table_cell(t, db.s ? db.s : NONE);
	if (vs == NULL && jstr(r, "gateway"))	/* AUTO_PASSTHROUGH: the Gateway's server */
		ctl_table_cellf(t, "Gateway %s", jstr(r, "gateway"));
	else if (vs && jint(r, "rule", &rule))
		ctl_table_cellf(t, "%s %s[%lld]", vs, act && strcmp(act, "tcp_proxy") == 0 ?
		    (vh && strcmp(vh, "(sni)") == 0 ? "tls" : "tcp") : "http", rule);
	else
		ctl_table_cell(t, vs ? vs : NONE);
	buf_free(&mb);
	buf_free(&db);
}

int
ctl_render_gw_routes(FILE *f, const json_t *res)
{
	const json_t *rs = json_object_get(res, "routes"), *r;
	struct ctl_table *t;
	size_t i;
	int deps;

	if (!json_is_object(res) || !json_is_array(rs))
		return ctl_render_generic(f, res);
	deps = several_deployments(rs);
	t = ctl_table_new();
	if (deps)
		ctl_table_column(t, "deployment");
	ctl_table_column(t, "name");
	ctl_table_column(t, "vhost");
	ctl_table_column(t, "match");
	ctl_table_column(t, "destination");
	ctl_table_column(t, "virtual service");
	json_array_foreach(rs, i, r)
		if (json_is_object(r))
			route_row(t, r, deps);
	if (ctl_table_nrows(t))
		ctl_table_print(t, f);
	else
		fprintf(f, "no routes\n");
	ctl_table_free(t);
	return 0;
}

/* ---- clusters ---- */

/* Envoy's health flags ("/failed_outlier_check/failed_active_hc") in words. */
static void
health_text(struct vg_buf *b, const char *h)
{
	const char *p, *e;

	if (h == NULL || *h == '\0' || strcmp(h, "healthy") == 0) {
		buf_puts(b, "healthy");
		return;
	}
	for (p = h; *p; p = e) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		if (b->len)
			buf_puts(b, ", ");
		if ((size_t)(e - p) == 20 && strncmp(p, "failed_outlier_check", 20) == 0)
			buf_puts(b, "ejected (outlier check failed)");
		else
			for (; p < e; p++)
				buf_append(b, *p == '_' ? " " : p, 1);
	}
}

static void
endpoint_row(struct ctl_table *t, const json_t *c, const json_t *e)
{
	const char *name = jstr(c, "name"), *addr = e ? jstr(e, "address") : NULL;
	const char *tls = e ? jstr(e, "tls") : jstr(c, "tls");
	struct vg_buf cl = { 0 }, h = { 0 };
	long long port, n, cx, rq;

	cluster_text(&cl, name ? name : "?");
	ctl_table_row(t);
	ctl_table_cell(t, cl.s);
	if (e == NULL) {
		const char *missing = jstr(c, "missing");

		ctl_table_cell(t, NONE);
		if (missing)
			ctl_table_cellf(t, "no such cluster: %s", missing);
		else
			ctl_table_cell(t, "no endpoints");
		ctl_table_cell(t, "");
		ctl_table_cell(t, "");
		ctl_table_cell(t, tls ? tls : "");
		ctl_table_cell(t, name ? name : NONE);
		buf_free(&cl);
		return;
	}
	if (addr && jint(e, "port", &port))
		ctl_table_cellf(t, strchr(addr, ':') ? "[%s]:%lld" : "%s:%lld", addr, port);
	else
		ctl_table_cell(t, addr ? addr : "?");
	health_text(&h, jstr(e, "health"));
	ctl_table_cell(t, h.s);
	if (jint(e, "num_ejections", &n))
		ctl_table_cellf(t, "%lld", n);
	else
		ctl_table_cell(t, "");
	if (jint(e, "cx_active", &cx) && jint(e, "rq_active", &rq))
		ctl_table_cellf(t, "%lld/%lld", cx, rq);
	else
		ctl_table_cell(t, "");
	ctl_table_cell(t, tls ? tls : "");
	ctl_table_cell(t, name ? name : NONE);
	buf_free(&cl);
	buf_free(&h);
}

int
ctl_render_gw_clusters(FILE *f, const json_t *res)
{
	const json_t *cs = json_object_get(res, "clusters"), *c, *e;
	struct ctl_table *t;
	size_t i, j;

	if (!json_is_object(res) || !json_is_array(cs))
		return ctl_render_generic(f, res);
	t = ctl_table_new();
	ctl_table_column(t, "destination");
	ctl_table_column(t, "endpoint");
	ctl_table_column(t, "health");
	ctl_table_column(t, "ejections");
	ctl_table_column(t, "active cx/rq");
	ctl_table_column(t, "tls");
	ctl_table_column(t, "cluster");
	json_array_foreach(cs, i, c) {
		const json_t *eps = json_object_get(c, "endpoints");
		size_t n = 0;

		if (!json_is_object(c))
			continue;
		json_array_foreach(eps, j, e)
			if (json_is_object(e)) {
				endpoint_row(t, c, e);
				n++;
			}
		if (n == 0)
			endpoint_row(t, c, NULL);
	}
	if (ctl_table_nrows(t))
		ctl_table_print(t, f);
	else
		fprintf(f, "no clusters\n");
	ctl_table_free(t);
	return 0;
}

/* ---- analyze ---- */

int
ctl_render_analyze(FILE *f, const json_t *res, int width)
{
	const json_t *ms = json_object_get(res, "messages"), *m;
	struct ctl_table *t;
	size_t i;

	if (!json_is_object(res) || !json_is_array(ms))
		return ctl_render_generic(f, res);
	t = ctl_table_new();
	ctl_table_column(t, "kind");
	ctl_table_column(t, "namespace");
	ctl_table_column(t, "name");
	ctl_table_column(t, "message");
	json_array_foreach(ms, i, m) {
		const char *k = jstr(m, "kind"), *ns = jstr(m, "namespace");
		const char *n = jstr(m, "name"), *msg = jstr(m, "message");

		if (!json_is_object(m))
			continue;
		ctl_table_row(t);
		ctl_table_cell(t, k && *k ? k : "-");
		ctl_table_cell(t, ns && *ns ? ns : "-");
		ctl_table_cell(t, n && *n ? n : "-");
		ctl_table_cell(t, msg ? msg : "");
	}
	if (ctl_table_nrows(t)) {
		if (width > 0)
			ctl_table_wrap(t, (size_t)width);
		ctl_table_print(t, f);
	} else
		fprintf(f, "no problems found\n");
	ctl_table_free(t);
	return 0;
}
