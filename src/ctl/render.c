/*
 * vipgatectl's text output: one renderer a command whose result it knows
 * (status, services, reload), and a generic one for the rest. A renderer
 * prints what it finds and skips what is missing, so a client and a daemon
 * of different versions still work together; --json shows everything.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vipgate/ctl.h"
#include "vipgate/log.h"
#include "vipgate/util.h"

#define KEY_WIDTH	17	/* "last reload" and room to breathe */
#define NONE		"<none>"	/* kubectl's mark for an empty value */

static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int
jnum(const json_t *o, const char *k, long long *v)
{
	const json_t *n = json_object_get(o, k);

	if (json_is_integer(n))
		*v = json_integer_value(n);
	else if (json_is_real(n)) {
		double d = json_real_value(n);

		/* a daemon sends integers; a real out of range is no number at all */
		if (!(d > -9.2e18 && d < 9.2e18))
			return 0;
		*v = (long long)d;
	} else
		return 0;
	return 1;
}

/* "key" padded to width, then the value, cleaned of control characters. */
static void VG_PRINTF(4, 5)
kv(FILE *f, int width, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *s, *clean;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	clean = ctl_sanitize(s);
	fprintf(f, "%-*s%s\n", width, key, clean);
	free(clean);
	free(s);
}

/* The strings of an array, comma-separated; NULL when there are none. */
static char *
join_strings(const json_t *a)
{
	struct vg_buf b = { 0 };
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			continue;
		if (b.len)
			buf_puts(&b, ",");
		buf_puts(&b, json_string_value(v));
	}
	return b.s;
}

void
ctl_format_age(long long s, char *buf, size_t len)
{
	static const struct { long long secs; char unit; } u[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' }
	};
	size_t i;

	if (s < 60) {
		snprintf(buf, len, "%llds", s < 0 ? 0 : s);
		return;
	}
	for (i = 0; s < u[i].secs; i++)
		;
	if ((s % u[i].secs) / u[i + 1].secs == 0)
		snprintf(buf, len, "%lld%c", s / u[i].secs, u[i].unit);
	else
		snprintf(buf, len, "%lld%c%lld%c", s / u[i].secs, u[i].unit,
		    (s % u[i].secs) / u[i + 1].secs, u[i + 1].unit);
}

/* ---- status and reload ---- */

/*
 * What a reload did, as the exit status says it: 0 everything applied, 1
 * nothing applied, CTL_EXIT_PART errors but the rest applied (a rejected
 * object alone, or manifests read with the main config invalid). A daemon
 * before "applied" has only "ok", which said no more than "errors".
 */
static int
reload_status(const json_t *r)
{
	const json_t *ok = json_object_get(r, "ok"), *e;
	const char *applied = jstr(r, "applied");

	if (applied != NULL)
		return strcmp(applied, "all") == 0 ? 0 :
		    strcmp(applied, "part") == 0 ? CTL_EXIT_PART : 1;
	if (json_is_boolean(ok))
		return json_is_false(ok);
	e = json_object_get(r, "errors");
	return json_is_array(e) && json_array_size(e) > 0;
}

/* "; 2 rejected objects keep their last good version" and the like */
static void
reload_details(struct vg_buf *b, const json_t *r)
{
	const json_t *o = json_object_get(r, "objects");
	const char *config = jstr(r, "config");
	long long n;

	if (config != NULL && strcmp(config, "kept") == 0)
		buf_puts(b, "; the main config is invalid, the running one stays");
	if (!json_is_object(o))
		return;
	if (jnum(o, "rejected_kept", &n) && n > 0)
		buf_printf(b, "; %lld rejected object%s keep%s the last good version",
		    n, n == 1 ? "" : "s", n == 1 ? "s" : "");
	if (jnum(o, "rejected_not_loaded", &n) && n > 0)
		buf_printf(b, "; %lld rejected object%s not loaded", n,
		    n == 1 ? "" : "s");
	if (jnum(o, "ignored_duplicates", &n) && n > 0)
		buf_printf(b, "; %lld duplicate%s ignored", n, n == 1 ? "" : "s");
	if (jnum(o, "files_kept", &n) && n > 0)
		buf_printf(b, "; %lld file%s not read, what %s defined stays", n,
		    n == 1 ? "" : "s", n == 1 ? "it" : "they");
}

static size_t
count_strings(const json_t *a)
{
	const json_t *v;
	size_t i, n = 0;

	json_array_foreach(a, i, v)
		n += json_is_string(v);
	return n;
}

/*
 * "2026-11-27T07:00:00Z sighup: failed, 2 errors; ..." under label, then the
 * errors and warnings one a line, aligned with the value.
 */
static int
print_reload(FILE *f, const char *label, const json_t *r)
{
	const json_t *errors = json_object_get(r, "errors");
	const json_t *warnings = json_object_get(r, "warnings");
	const char *time = jstr(r, "time"), *trigger = jstr(r, "trigger");
	size_t ne = count_strings(errors), nw = count_strings(warnings), i;
	int status = reload_status(r);
	struct vg_buf b = { 0 };
	const json_t *v;
	long long changes;

	if (time)
		buf_printf(&b, "%s ", time);
	if (trigger)
		buf_printf(&b, "%s: ", trigger);
	if (status == 0) {
		buf_puts(&b, "ok");
		if (nw)
			buf_printf(&b, ", %zu warning%s", nw, nw == 1 ? "" : "s");
	} else {
		buf_puts(&b, status == CTL_EXIT_PART ? "applied in part" : "failed");
		if (ne)
			buf_printf(&b, ", %zu error%s", ne, ne == 1 ? "" : "s");
		reload_details(&b, r);
		if (status == CTL_EXIT_PART) {
			buf_puts(&b, "; everything else is in force");
			if (jnum(json_object_get(r, "objects"), "changes", &changes))
				buf_printf(&b, " (%lld object change%s)", changes,
				    changes == 1 ? "" : "s");
		} else if (jstr(r, "applied") != NULL)
			buf_puts(&b, "; nothing changed, the running configuration is kept");
		else	/* a daemon that does not say what it applied */
			buf_puts(&b, "; the running configuration is kept");
	}
	kv(f, KEY_WIDTH, label, "%s", b.s);
	buf_free(&b);
	json_array_foreach(errors, i, v)
		if (json_is_string(v))
			kv(f, KEY_WIDTH, "", "%s", json_string_value(v));
	json_array_foreach(warnings, i, v)
		if (json_is_string(v))
			kv(f, KEY_WIDTH, "", "%s%s",
			    strstr(json_string_value(v), "warning:") ? "" : "warning: ",
			    json_string_value(v));
	return status;
}

int
ctl_render_status(FILE *f, const json_t *st)
{
	const char *s, *file;
	const json_t *lr;
	long long n, gen;
	char age[32];

	if (!json_is_object(st))
		return ctl_render_generic(f, st);
	if ((s = jstr(st, "version")))
		kv(f, KEY_WIDTH, "version", "%s", s);
	if (jnum(st, "pid", &n))
		kv(f, KEY_WIDTH, "pid", "%lld", n);
	if (jnum(st, "uptime_s", &n)) {
		ctl_format_age(n, age, sizeof(age));
		kv(f, KEY_WIDTH, "uptime", "%s", age);
	}
	file = jstr(st, "config_file");
	if (jnum(st, "config_generation", &gen))
		kv(f, KEY_WIDTH, "config", "%s%s(generation %lld)",
		    file ? file : "", file ? " " : "", gen);
	else if (file)
		kv(f, KEY_WIDTH, "config", "%s", file);
	if ((s = jstr(st, "node")))
		kv(f, KEY_WIDTH, "node", "%s", s);
	if (jnum(st, "objects", &n)) {
		if (jnum(st, "store_generation", &gen))
			kv(f, KEY_WIDTH, "objects", "%lld (store generation %lld)", n, gen);
		else
			kv(f, KEY_WIDTH, "objects", "%lld", n);
	}
	/* the Kubernetes API source, when vipgated has one */
	lr = json_object_get(st, "kubernetes");
	if (json_is_object(lr)) {
		const json_t *le;
		long long ks, kt;

		if (jnum(lr, "kinds_synced", &ks) && jnum(lr, "kinds_total", &kt))
			kv(f, KEY_WIDTH, "kubernetes", "%s %s, %lld/%lld kinds listed",
			    jstr(lr, "server") ? jstr(lr, "server") : "",
			    json_is_true(json_object_get(lr, "synced")) ? "synced" : "syncing",
			    ks, kt);
		if ((s = jstr(lr, "last_error")))
			kv(f, KEY_WIDTH, "kubernetes error", "%s", s);
		/* who writes Service status and Events */
		le = json_object_get(lr, "lease");
		if (json_is_object(le))
			kv(f, KEY_WIDTH, "kubernetes lease", "%s/%s held by %s%s",
			    jstr(le, "namespace") ? jstr(le, "namespace") : "",
			    jstr(le, "name") ? jstr(le, "name") : "",
			    jstr(le, "holder") ? jstr(le, "holder") : "nobody",
			    json_is_true(json_object_get(le, "leader")) ?
			    " (this node: it writes status and Events)" : "");
	}
	if (json_is_true(json_object_get(st, "loading")))
		kv(f, KEY_WIDTH, "manifests", "loading");
	lr = json_object_get(st, "last_reload");
	if (json_is_object(lr))
		print_reload(f, "last reload", lr);
	else if (json_is_null(lr))
		kv(f, KEY_WIDTH, "last reload", "none");
	return 0;
}

int
ctl_render_reload(FILE *f, const json_t *r)
{
	if (!json_is_object(r))
		return ctl_render_generic(f, r);
	return print_reload(f, "reload", r);
}

/* ---- services ---- */

static void
service_row(struct ctl_table *t, const json_t *svc)
{
	const char *ns = jstr(svc, "namespace"), *name = jstr(svc, "name");
	const char *pool = jstr(svc, "pool"), *pending = jstr(svc, "pending");
	const char *why_not = jstr(svc, "why_not");
	char *vips = join_strings(json_object_get(svc, "vips"));
	char *announce = join_strings(json_object_get(svc, "announce"));

	ctl_table_row(t);
	ctl_table_cell(t, ns ? ns : NONE);
	ctl_table_cell(t, name ? name : NONE);
	ctl_table_cell(t, vips ? vips : NONE);
	ctl_table_cell(t, pool ? pool : NONE);
	if (pending)
		ctl_table_cellf(t, "pending: %s", pending);
	else
		ctl_table_cell(t, vips ? "allocated" : "pending");
	if (why_not)
		ctl_table_cellf(t, "no: %s", why_not);
	else
		ctl_table_cell(t, announce ? announce : "no");
	free(vips);
	free(announce);
}

/* "assigned/total" for one address family; "?" for a number not given. */
static void
pool_cell(struct ctl_table *t, const json_t *p, const char *assigned,
    const char *total)
{
	char sa[32] = "?", sn[32] = "?";
	long long v;

	if (jnum(p, assigned, &v))
		snprintf(sa, sizeof(sa), "%lld", v);
	if (jnum(p, total, &v))
		snprintf(sn, sizeof(sn), "%lld", v);
	ctl_table_cellf(t, "%s/%s", sa, sn);
}

int
ctl_render_services(FILE *f, const json_t *res)
{
	const json_t *svcs = json_object_get(res, "services");
	const json_t *pools = json_object_get(res, "pools");
	struct ctl_table *t;
	const json_t *v;
	size_t i;

	if (!json_is_object(res) || !json_is_array(svcs))
		return ctl_render_generic(f, res);
	t = ctl_table_new();
	ctl_table_column(t, "namespace");
	ctl_table_column(t, "name");
	ctl_table_column(t, "vips");
	ctl_table_column(t, "pool");
	ctl_table_column(t, "status");
	ctl_table_column(t, "announce");
	json_array_foreach(svcs, i, v)
		if (json_is_object(v))
			service_row(t, v);
	if (ctl_table_nrows(t))
		ctl_table_print(t, f);
	else
		fprintf(f, "no LoadBalancer Services\n");
	ctl_table_free(t);
	if (!json_is_array(pools))
		return 0;
	fprintf(f, "\n");
	t = ctl_table_new();
	ctl_table_column(t, "pool");
	ctl_table_column(t, "v4");
	ctl_table_column(t, "v6");
	json_array_foreach(pools, i, v) {
		const char *name = jstr(v, "name");

		if (!json_is_object(v))
			continue;
		ctl_table_row(t);
		ctl_table_cell(t, name ? name : NONE);
		pool_cell(t, v, "assigned_v4", "total_v4");
		pool_cell(t, v, "assigned_v6", "total_v6");
	}
	if (ctl_table_nrows(t))
		ctl_table_print(t, f);
	else
		fprintf(f, "no address pools\n");
	ctl_table_free(t);
	return 0;
}

/* ---- anything else ---- */

static int
is_scalar(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

static int
is_object_array(const json_t *v)
{
	const json_t *e;
	size_t i;

	if (!json_is_array(v))
		return 0;
	json_array_foreach(v, i, e)
		if (!json_is_object(e))
			return 0;
	return 1;
}

/* A value as a table cell: strings bare, lists of scalars comma-separated,
 * anything deeper as compact JSON. malloc'd. */
static char *
cell_text(const json_t *v)
{
	struct vg_buf b = { 0 };
	const json_t *e;
	size_t i;
	char *s;

	if (v == NULL || json_is_null(v))
		return xstrdup(NONE);
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_array(v) && json_array_size(v) == 0)
		return xstrdup(NONE);
	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (!is_scalar(e))
				goto deep;
		json_array_foreach(v, i, e) {
			s = cell_text(e);
			if (i)
				buf_puts(&b, ",");
			buf_puts(&b, s);
			free(s);
		}
		return b.s;
	}
deep:
	if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		fatalx("ctl: cannot encode JSON");
	return s;
}

static void
print_object_table(FILE *f, const json_t *rows)
{
	struct ctl_table *t = ctl_table_new();
	struct vg_ptrvec keys = { 0 };
	const json_t *row, *v;
	const char *k;
	size_t i, j;

	/* Columns: the union of the members, in the order first seen. */
	json_array_foreach(rows, i, row) {
		json_object_foreach((json_t *)row, k, v) {
			for (j = 0; j < keys.n; j++)
				if (strcmp(keys.v[j], k) == 0)
					break;
			if (j == keys.n) {
				ptrvec_push(&keys, (void *)k);
				ctl_table_column(t, k);
			}
		}
	}
	json_array_foreach(rows, i, row) {
		ctl_table_row(t);
		for (j = 0; j < keys.n; j++) {
			char *s = cell_text(json_object_get(row, keys.v[j]));

			ctl_table_cell(t, s);
			free(s);
		}
	}
	ctl_table_print(t, f);
	ctl_table_free(t);
	ptrvec_free(&keys);
}

/* The one member that is an array of objects, when all the others are
 * scalars; NULL otherwise. */
static const char *
table_member(const json_t *o)
{
	const char *found = NULL, *k;
	const json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		if (is_scalar(v))
			continue;
		if (found || !is_object_array(v))
			return NULL;
		found = k;
	}
	return found;
}

int
ctl_render_generic(FILE *f, const json_t *res)
{
	const char *tk, *k;
	const json_t *v, *rows;
	size_t w = 0;
	char *s;

	if (is_object_array(res) && json_array_size(res) > 0) {
		print_object_table(f, res);
		return 0;
	}
	if (json_is_object(res) && (tk = table_member(res))) {
		json_object_foreach((json_t *)res, k, v)
			if (is_scalar(v) && strlen(k) > w)
				w = strlen(k);
		json_object_foreach((json_t *)res, k, v) {
			if (!is_scalar(v))
				continue;
			s = cell_text(v);
			kv(f, (int)w + 3, k, "%s", s);
			free(s);
		}
		if (w)
			fprintf(f, "\n");
		rows = json_object_get(res, tk);
		if (json_array_size(rows) > 0)
			print_object_table(f, rows);
		else
			kv(f, 0, "", "no %s", tk);
		return 0;
	}
	if ((s = json_dumps(res, JSON_INDENT(2) | JSON_ENCODE_ANY)) == NULL)
		fatalx("ctl: cannot encode JSON");
	fprintf(f, "%s\n", s);
	free(s);
	return 0;
}

/* A number of milliseconds, without trailing zeros. */
static void
ms_cell(struct ctl_table *t, const json_t *v)
{
	if (json_is_number(v))
		ctl_table_cellf(t, "%g", json_number_value(v));
	else
		ctl_table_cell(t, NONE);
}

/* vipgatectl bfd: one line a session; the full record with --json. */
int
ctl_render_bfd(FILE *f, const json_t *res)
{
	const json_t *v, *ss = json_object_get(res, "sessions");
	struct ctl_table *t;
	size_t i;

	if (!json_is_array(ss))
		return ctl_render_generic(f, res);
	t = ctl_table_new();
	ctl_table_column(t, "peer");
	ctl_table_column(t, "profile");
	ctl_table_column(t, "state");
	ctl_table_column(t, "remote");
	ctl_table_column(t, "tx/rx ms");
	ctl_table_column(t, "remote tx/rx ms");
	ctl_table_column(t, "mult");
	ctl_table_column(t, "detect ms");
	ctl_table_column(t, "echo ms");
	ctl_table_column(t, "flaps");
	ctl_table_column(t, "bgp");
	ctl_table_column(t, "last down");
	json_array_foreach(ss, i, v) {
		const char *st = jstr(v, "state"), *why = jstr(v, "last_down_reason");
		const char *note = jstr(v, "note");

		if (!json_is_object(v))
			continue;
		ctl_table_row(t);
		ctl_table_cell(t, jstr(v, "peer") ? jstr(v, "peer") : NONE);
		ctl_table_cell(t, jstr(v, "profile") ? jstr(v, "profile") : NONE);
		ctl_table_cell(t, st ? st : NONE);
		ctl_table_cell(t, jstr(v, "remote_state") ? jstr(v, "remote_state") : NONE);
		ctl_table_cellf(t, "%g/%g", json_number_value(json_object_get(v, "local_tx_ms")),
		    json_number_value(json_object_get(v, "local_rx_ms")));
		ctl_table_cellf(t, "%g/%g", json_number_value(json_object_get(v, "remote_tx_ms")),
		    json_number_value(json_object_get(v, "remote_rx_ms")));
		ctl_table_cellf(t, "%lld", (long long)json_integer_value(json_object_get(v,
		    "multiplier")));
		ms_cell(t, json_object_get(v, "detect_ms"));
		/* the echo interval in force, or off */
		if (json_number_value(json_object_get(v, "echo_interval_ms")) > 0)
			ms_cell(t, json_object_get(v, "echo_interval_ms"));
		else
			ctl_table_cell(t, json_is_true(json_object_get(v, "echo_mode")) ?
			    "waiting" : "off");
		ctl_table_cellf(t, "%lld", (long long)json_integer_value(json_object_get(v,
		    "flaps")));
		ctl_table_cellf(t, "%s%s", jstr(v, "bgp_state") ? jstr(v, "bgp_state") : NONE,
		    json_is_true(json_object_get(v, "holds_bgp_down")) ? " (held)" : "");
		ctl_table_cell(t, note && *note ? note : why && *why ? why : NONE);
	}
	if (ctl_table_nrows(t))
		ctl_table_print(t, f);
	else
		fprintf(f, "no BFD sessions (no BGPPeer names a bfdProfile)\n");
	ctl_table_free(t);
	return 0;
}

int
ctl_result_status(const char *cmd, const json_t *result)
{
	if (strcmp(cmd, "reload") == 0 && json_is_object(result))
		return reload_status(result);
	return 0;
}
