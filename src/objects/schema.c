/* Table-driven decoding of ynode trees into structs (see schema.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/log.h"
#include "vipgate/schema.h"

static void VG_PRINTF(4, 0)
vreport(struct sc_ctx *c, enum err_sev sev, const struct ynode *at,
    const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	errs_add(c->errs, sev, c->file, at ? at->line : 0, at ? at->col : 0,
	    "%s%s%s%s%s", c->what ? c->what : "", c->what ? ": " : "",
	    c->path, c->path[0] ? ": " : "", msg);
	if (sev == ERR_ERROR)
		c->nerr++;
}

void
sc_error(struct sc_ctx *c, const struct ynode *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, ERR_ERROR, at, fmt, ap);
	va_end(ap);
}

void
sc_warn(struct sc_ctx *c, const struct ynode *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, ERR_WARNING, at, fmt, ap);
	va_end(ap);
}

const char *
strmap_get(const struct strmap *m, const char *key)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(m->k[mid], key);

		if (r == 0)
			return m->v[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int
sc_scalar_int(const struct ynode *n, int64_t *out)
{
	const char *s;
	char *end;
	long long v;

	if (n == NULL || n->type != YN_SCALAR || n->len == 0)
		return -1;
	s = n->str;
	errno = 0;
	if (n->len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		v = strtoll(s, &end, 16);
	else if (n->len > 2 && s[0] == '0' && s[1] == 'o')
		v = strtoll(s + 2, &end, 8);
	else
		v = strtoll(s, &end, 10);
	if (errno || *end != '\0') {
		/* JSON writes integers as 80.0 at times; accept integral floats */
		double d;

		errno = 0;
		d = strtod(s, &end);
		if (errno || *end != '\0' || !(d < 9.2e18 && d > -9.2e18) ||
		    d != (double)(long long)d)
			return -1;
		v = (long long)d;
	}
	*out = v;
	return 0;
}

int
sc_scalar_bool(const struct ynode *n, int *out)
{
	static const char *yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
	static const char *no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };
	size_t i;

	if (n == NULL || n->type != YN_SCALAR)
		return -1;
	for (i = 0; i < VG_ARRAY_SIZE(yes); i++) {
		if (strcmp(n->str, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(n->str, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

struct ynode *
yn_copy(struct vg_arena *a, const struct ynode *n)
{
	struct ynode *c;
	size_t i;

	if (n == NULL)
		return NULL;
	c = arena_memdup(a, n, sizeof(*n));
	switch (n->type) {
	case YN_SCALAR:
		c->str = arena_strndup(a, n->str, n->len);
		break;
	case YN_MAP:
		c->keys = arena_alloc(a, sizeof(*c->keys) * (n->n ? n->n : 1));
		/* fallthrough */
	case YN_SEQ:
		c->vals = arena_alloc(a, sizeof(*c->vals) * (n->n ? n->n : 1));
		for (i = 0; i < n->n; i++) {
			if (n->type == YN_MAP)
				c->keys[i] = yn_copy(a, n->keys[i]);
			c->vals[i] = yn_copy(a, n->vals[i]);
		}
		break;
	}
	return c;
}

static const char *
type_name(const struct ynode *n)
{
	if (n->type == YN_MAP)
		return "a map";
	if (n->type == YN_SEQ)
		return "a list";
	return "a scalar";
}

static int
want_scalar(struct sc_ctx *c, const struct ynode *n, const char *what)
{
	if (n->type != YN_SCALAR) {
		sc_error(c, n, "must be %s, not %s", what, type_name(n));
		return -1;
	}
	return 0;
}

static int
cmp_pair(const void *a, const void *b)
{
	return strcmp(((const char *const *)a)[0], ((const char *const *)b)[0]);
}

/*
 * Where a decoded array goes: for a shared field, the array was built in
 * scratch memory (tmp) and becomes the blob table's copy; otherwise it was
 * built in the arena and stays.
 */
static int
sharing(const struct sc_ctx *c, const struct sc_field *f)
{
	return f != NULL && (f->flags & SC_SHARE) && c->blobs != NULL;
}

static void *
array_new(struct sc_ctx *c, int share, size_t size)
{
	return share ? xcalloc(1, size) : arena_alloc(c->arena, size);
}

static void *
array_done(struct sc_ctx *c, int share, void *v, size_t size)
{
	const void *p;

	if (!share)
		return v;
	p = strtab_intern_blob(c->blobs, v, size);
	free(v);
	return (void *)(uintptr_t)p;
}

static int
decode_strmap(struct sc_ctx *c, const struct ynode *n, struct strmap *m, int share)
{
	const char **pairs;
	size_t i;
	int rc = 0;

	if (n->type != YN_MAP) {
		sc_error(c, n, "must be a map of strings, not %s", type_name(n));
		return -1;
	}
	pairs = xcalloc(n->n ? n->n * 2 : 2, sizeof(*pairs));
	for (i = 0; i < n->n; i++) {
		if (n->keys[i]->type != YN_SCALAR || n->vals[i]->type != YN_SCALAR) {
			sc_error(c, n->vals[i], "must be a map of strings");
			rc = -1;
			continue;
		}
		pairs[2 * i] = n->keys[i]->str;
		pairs[2 * i + 1] = yn_is_null(n->vals[i]) ? "" : n->vals[i]->str;
	}
	if (rc == 0) {
		qsort(pairs, n->n, 2 * sizeof(*pairs), cmp_pair);
		m->n = n->n;
		size_t sz = sizeof(*m->k) * (n->n ? n->n : 1);
		const char **k = array_new(c, share, sz), **v = array_new(c, share, sz);

		for (i = 0; i < n->n; i++) {
			if (i > 0 && strcmp(pairs[2 * i], pairs[2 * i - 2]) == 0) {
				sc_error(c, n, "duplicate key \"%s\"", pairs[2 * i]);
				rc = -1;
			}
			k[i] = sc_strndup(c, pairs[2 * i], strlen(pairs[2 * i]));
			v[i] = sc_strndup(c, pairs[2 * i + 1], strlen(pairs[2 * i + 1]));
		}
		m->k = array_done(c, share, k, sz);
		m->v = array_done(c, share, v, sz);
	}
	free(pairs);
	return rc;
}

const char *
sc_strndup(struct sc_ctx *c, const char *s, size_t len)
{
	if (c->strs != NULL)
		return strtab_intern(c->strs, s, len);
	return arena_strndup(c->arena, s, len);
}

/* Append to the path for nested messages; returns the old length. */
static size_t
path_push(struct sc_ctx *c, const char *name, long idx)
{
	size_t old = strlen(c->path);

	if (name)
		snprintf(c->path + old, sizeof(c->path) - old, "%s%s",
		    old ? "." : "", name);
	else
		snprintf(c->path + old, sizeof(c->path) - old, "[%ld]", idx);
	return old;
}

/* An optional number's field (struct opt_i64): now set, to v. */
static void
opt_set(void *dst, int64_t v)
{
	((struct opt_i64 *)dst)->set = 1;
	((struct opt_i64 *)dst)->v = v;
}

/* SC_INT and SC_OPTINT. */
static int
decode_int(struct sc_ctx *c, const struct sc_field *f, const struct ynode *n, void *dst)
{
	int64_t iv;

	if (want_scalar(c, n, "an integer"))
		return -1;
	if (yn_is_null(n))
		return 0;
	if (sc_scalar_int(n, &iv) == -1) {
		sc_error(c, n, "\"%s\" is not an integer", n->str);
		return -1;
	}
	if (f->type == SC_INT)
		*(int64_t *)dst = iv;
	else
		opt_set(dst, iv);
	return 0;
}

/* SC_BOOL (an int) and SC_OPTBOOL. */
static int
decode_bool(struct sc_ctx *c, const struct sc_field *f, const struct ynode *n, void *dst)
{
	int bv;

	if (want_scalar(c, n, "true or false"))
		return -1;
	if (yn_is_null(n))
		return 0;
	if (sc_scalar_bool(n, &bv) == -1) {
		sc_error(c, n, "\"%s\" is not true or false", n->str);
		return -1;
	}
	if (f->type == SC_BOOL)
		*(int *)dst = bv;
	else
		opt_set(dst, bv);
	return 0;
}

/* SC_DURATION and SC_OPTDURATION, in ms. */
static int
decode_duration(struct sc_ctx *c, const struct sc_field *f, const struct ynode *n, void *dst)
{
	int64_t iv;

	if (want_scalar(c, n, "a duration"))
		return -1;
	if (yn_is_null(n))
		return 0;
	if (parse_duration_ms(n->str, &iv) == -1 || iv < 0) {
		sc_error(c, n, "\"%s\" is not a duration (like 100ms, 10s, 1m)", n->str);
		return -1;
	}
	if (f->type == SC_DURATION)
		*(int64_t *)dst = iv;
	else
		opt_set(dst, iv);
	return 0;
}

/* SC_STRLIST: the array at dst, its length at base + f->cnt_off. */
static int
decode_strlist(struct sc_ctx *c, const struct sc_field *f, const struct ynode *n, void *base,
    void *dst)
{
	const char **v;
	size_t i;
	int rc = 0;

	if (yn_is_null(n))
		return 0;
	if (n->type != YN_SEQ) {
		sc_error(c, n, "must be a list of strings, not %s", type_name(n));
		return -1;
	}
	v = array_new(c, sharing(c, f), sizeof(*v) * (n->n ? n->n : 1));
	for (i = 0; i < n->n; i++) {
		if (n->vals[i]->type != YN_SCALAR) {
			size_t old = path_push(c, NULL, (long)i);

			sc_error(c, n->vals[i], "must be a string, not %s",
			    type_name(n->vals[i]));
			c->path[old] = '\0';
			rc = -1;
			continue;
		}
		v[i] = sc_strndup(c, n->vals[i]->str, n->vals[i]->len);
	}
	*(const char ***)dst = array_done(c, sharing(c, f), v, sizeof(*v) * (n->n ? n->n : 1));
	*(size_t *)((char *)base + f->cnt_off) = n->n;
	return rc;
}

/* SC_INTSTR: a plain integer is a number, anything else a string. */
static int
decode_intstr(struct sc_ctx *c, const struct ynode *n, struct intstr *is)
{
	int64_t iv;

	if (want_scalar(c, n, "an integer or a string"))
		return -1;
	if (yn_is_null(n))
		return 0;
	if (n->plain && sc_scalar_int(n, &iv) == 0) {
		is->is_str = 0;
		is->i = iv;
	} else {
		is->is_str = 1;
		is->s = sc_strndup(c, n->str, n->len);
	}
	return 0;
}

/* SC_OBJLIST: the array at dst, its length at base + f->cnt_off. */
static int
decode_objlist(struct sc_ctx *c, const struct sc_field *f, const struct ynode *n, void *base,
    void *dst)
{
	char *v;
	size_t i;
	int rc = 0;

	if (yn_is_null(n))
		return 0;
	if (n->type != YN_SEQ) {
		sc_error(c, n, "must be a list, not %s", type_name(n));
		return -1;
	}
	v = array_new(c, sharing(c, f), f->sub->size * (n->n ? n->n : 1));
	for (i = 0; i < n->n; i++) {
		size_t old = path_push(c, NULL, (long)i);

		if (yn_is_null(n->vals[i])) {
			sc_error(c, n->vals[i], "must be a map, not null");
			rc = -1;
		} else if (sc_decode(c, f->sub, n->vals[i], v + i * f->sub->size) == -1)
			rc = -1;
		c->path[old] = '\0';
	}
	*(void **)dst = array_done(c, sharing(c, f), v, f->sub->size * (n->n ? n->n : 1));
	*(size_t *)((char *)base + f->cnt_off) = n->n;
	return rc;
}

int
sc_decode_field(struct sc_ctx *c, const struct sc_field *f,
    const struct ynode *n, void *base)
{
	void *dst = (char *)base + f->off;
	int rc;

	switch (f->type) {
	case SC_STR:
		if (want_scalar(c, n, "a string"))
			return -1;
		/* null is unset, as the API server takes it: the default stays */
		*(const char **)dst = yn_is_null(n) ? f->dflt_str :
		    sc_strndup(c, n->str, n->len);
		return 0;
	case SC_INT:
	case SC_OPTINT:
		return decode_int(c, f, n, dst);
	case SC_BOOL:
	case SC_OPTBOOL:
		return decode_bool(c, f, n, dst);
	case SC_DURATION:
	case SC_OPTDURATION:
		return decode_duration(c, f, n, dst);
	case SC_STRLIST:
		return decode_strlist(c, f, n, base, dst);
	case SC_STRMAP:
		if (yn_is_null(n))
			return 0;
		return decode_strmap(c, n, dst, sharing(c, f));
	case SC_INTSTR:
		return decode_intstr(c, n, dst);
	case SC_OBJ:
		if (yn_is_null(n))
			return sc_decode(c, f->sub, NULL, dst);
		return sc_decode(c, f->sub, n, dst);
	case SC_OBJPTR: {
		void *o;

		if (yn_is_null(n))
			return 0;
		o = arena_alloc(c->arena, f->sub->size);
		rc = sc_decode(c, f->sub, n, o);
		*(void **)dst = o;
		return rc;
	}
	case SC_OBJLIST:
		return decode_objlist(c, f, n, base, dst);
	case SC_NODE:
		*(const struct ynode **)dst = yn_copy(c->arena, n);
		return 0;
	case SC_CUSTOM:
		return f->fn(c, n, dst);
	case SC_IGNORE:
		return 0;
	}
	return -1;
}

static void
apply_default(struct sc_ctx *c, const struct sc_field *f, void *base)
{
	void *dst = (char *)base + f->off;

	switch (f->type) {
	case SC_STR:
		if (f->dflt_str)
			*(const char **)dst = f->dflt_str;
		break;
	case SC_INT:
	case SC_DURATION:
		*(int64_t *)dst = f->dflt;
		break;
	case SC_BOOL:
		*(int *)dst = (int)f->dflt;
		break;
	case SC_OBJ:
		(void)sc_decode(c, f->sub, NULL, dst);
		break;
	default:
		break;
	}
}

int
sc_decode(struct sc_ctx *c, const struct sc_schema *s, const struct ynode *n,
    void *dst)
{
	const struct sc_field *f;
	size_t i, nf = 0;
	int rc = 0, nerr0 = c->nerr;
	/* where each field was first given (+1): a key given twice is found
	 * in one step (a scan of the keys before it made a map of 100,000
	 * keys quadratic) */
	uint32_t first_small[64], *first = first_small;

	if (yn_is_null(n))
		n = NULL;	/* "spec:" with nothing after it */
	if (n != NULL && n->type != YN_MAP) {
		sc_error(c, n, "must be a map, not %s", type_name(n));
		return -1;
	}
	/* defaults first, so decoded values override them */
	for (f = s->fields; f->name; f++)
		apply_default(c, f, dst);
	if (n != NULL) {
		for (f = s->fields; f->name; f++)
			nf++;
		if (nf > VG_ARRAY_SIZE(first_small))
			first = xcalloc(nf, sizeof(*first));
		else
			memset(first, 0, nf * sizeof(*first));
		for (i = 0; i < n->n; i++) {
			const struct ynode *k = n->keys[i];

			if (k->type != YN_SCALAR) {
				sc_error(c, k, "a key must be a string");
				continue;
			}
			for (f = s->fields; f->name; f++)
				if (strcmp(f->name, k->str) == 0)
					break;
			if (f->name == NULL) {
				if (c->strict) {
					size_t old = path_push(c, k->str, 0);

					sc_error(c, k, "unknown key");
					c->path[old] = '\0';
				}
				continue;
			}
			{
				size_t fi = (size_t)(f - s->fields), old;

				/* YAML allows a key twice; a config must not */
				old = path_push(c, k->str, 0);
				if (first[fi] != 0)
					sc_error(c, k, "given twice (line %d)",
					    n->keys[first[fi] - 1]->line);
				else {
					first[fi] = (uint32_t)i + 1;
					(void)sc_decode_field(c, f, n->vals[i], dst);
				}
				c->path[old] = '\0';
			}
		}
		if (first != first_small)
			free(first);
	}
	for (f = s->fields; f->name; f++) {
		if (!(f->flags & SC_REQUIRED))
			continue;
		if (yn_is_null(yn_get(n, f->name))) {
			size_t old = path_push(c, f->name, 0);

			sc_error(c, n, "is required");
			c->path[old] = '\0';
		}
	}
	if (c->nerr != nerr0)
		rc = -1;
	if (rc == 0 && s->check && s->check(c, n, dst) == -1)
		rc = -1;
	if (c->nerr != nerr0)
		rc = -1;
	return rc;
}

int
sc_map_key_cmp(size_t a, size_t b, void *arg)
{
	const struct ynode *n = arg;
	const struct ynode *x = n->keys[a], *y = n->keys[b];
	int xs = x->type == YN_SCALAR, ys = y->type == YN_SCALAR;

	if (!xs || !ys)
		return xs != ys ? ys - xs : (a > b) - (a < b);
	return strcmp(x->str, y->str);
}
