#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vipgate/log.h"
#include "vipgate/state.h"

void
state_free(struct alloc_state *s)
{
	arena_free(s->arena);
	memset(s, 0, sizeof(*s));
}

static int
cmp_prev(const void *a, const void *b)
{
	const struct alloc_prev *x = a, *y = b;
	int r = strcmp(x->ns, y->ns);

	return r ? r : strcmp(x->name, y->name);
}

static int state_decode(json_t *, const char *, struct alloc_state *);

int
state_load(const char *path, struct alloc_state *s)
{
	json_error_t jerr;
	json_t *root;

	memset(s, 0, sizeof(*s));
	s->arena = arena_new();
	root = json_load_file(path, 0, &jerr);
	if (root == NULL) {
		FILE *f = fopen(path, "r");

		if (f == NULL && errno == ENOENT)
			return 0;
		if (f)
			fclose(f);
		log_warnx("%s:%d: state file unreadable, starting with no sticky allocations: %s",
		    path, jerr.line, jerr.text);
		return -1;
	}
	return state_decode(root, path, s);
}

int
state_parse(const char *buf, size_t len, const char *name, struct alloc_state *s)
{
	json_error_t jerr;
	json_t *root;

	memset(s, 0, sizeof(*s));
	s->arena = arena_new();
	root = json_loadb(buf, len, 0, &jerr);
	if (root == NULL) {
		log_warnx("%s:%d: state file unreadable, starting with no sticky allocations: %s",
		    name, jerr.line, jerr.text);
		return -1;
	}
	return state_decode(root, name, s);
}

/* Takes root's reference. */
static int
state_decode(json_t *root, const char *path, struct alloc_state *s)
{
	json_t *allocs, *e;
	size_t i, k = 0;

	allocs = json_object_get(root, "allocations");
	if (!json_is_array(allocs)) {
		log_warnx("%s: no allocations array; ignored", path);
		json_decref(root);
		return -1;
	}
	s->v = arena_alloc(s->arena, sizeof(*s->v) * (json_array_size(allocs) + 1));
	json_array_foreach(allocs, i, e) {
		const char *ns = json_string_value(json_object_get(e, "namespace"));
		const char *name = json_string_value(json_object_get(e, "name"));
		json_t *ips = json_object_get(e, "ips"), *ip;
		struct alloc_prev *p = &s->v[k];
		size_t j;

		if (ns == NULL || name == NULL || *ns == '\0' || *name == '\0' ||
		    !json_is_array(ips))
			continue;
		memset(p, 0, sizeof(*p));
		json_array_foreach(ips, j, ip) {
			if (p->nips < 2 &&
			    ipaddr_parse(json_string_value(ip), &p->ips[p->nips]) == 0)
				p->nips++;
		}
		if (p->nips == 0)
			continue;
		p->ns = arena_strdup(s->arena, ns);
		p->name = arena_strdup(s->arena, name);
		k++;
	}
	s->n = k;
	qsort(s->v, s->n, sizeof(*s->v), cmp_prev);
	json_decref(root);
	return 0;
}

/*
 * Written straight into one buffer: at 100,000 Services a jansson tree of
 * the same took 32 MB for a moment, more than the file itself (5 MB).
 */
int
state_save(const char *path, const struct desired *d)
{
	struct vg_buf b = { 0 };
	char ip[IPADDR_STRLEN];
	size_t i, j, n = 0;
	int rc;

	buf_puts(&b, "{\n \"version\": 1,\n \"allocations\": [");
	for (i = 0; i < d->nsvcs; i++) {
		const struct svc_state *sv = &d->svcs[i];

		if (sv->nvips == 0)
			continue;
		buf_puts(&b, n++ ? ",\n  {\"namespace\": " : "\n  {\"namespace\": ");
		buf_json_str(&b, sv->ns, strlen(sv->ns), 0);
		buf_puts(&b, ", \"name\": ");
		buf_json_str(&b, sv->name, strlen(sv->name), 0);
		buf_puts(&b, ", \"ips\": [");
		for (j = 0; j < sv->nvips; j++) {
			const char *t = ipaddr_fmt(&sv->vips[j], ip);

			if (j)
				buf_puts(&b, ", ");
			buf_json_str(&b, t, strlen(t), 0);
		}
		buf_puts(&b, "]}");
	}
	buf_puts(&b, n ? "\n ]\n}\n" : "]\n}\n");
	rc = write_file_atomic(path, b.s, b.len);
	if (rc == -1)
		log_warn("cannot write state file %s", path);
	buf_free(&b);
	return rc;
}

void
state_from_desired(const struct desired *d, struct alloc_state *s)
{
	size_t i, k = 0;

	state_free(s);
	s->arena = arena_new();
	s->v = arena_alloc(s->arena, sizeof(*s->v) * (d->nsvcs + 1));
	for (i = 0; i < d->nsvcs; i++) {
		const struct svc_state *sv = &d->svcs[i];

		if (sv->nvips == 0)
			continue;
		s->v[k].ns = arena_strdup(s->arena, sv->ns);
		s->v[k].name = arena_strdup(s->arena, sv->name);
		memcpy(s->v[k].ips, sv->vips, sizeof(sv->vips));
		s->v[k].nips = sv->nvips;
		k++;
	}
	s->n = k;
}

int
state_differs(const struct alloc_state *s, const struct desired *d)
{
	size_t i, k = 0, j;

	for (i = 0; i < d->nsvcs; i++) {
		const struct svc_state *sv = &d->svcs[i];

		if (sv->nvips == 0)
			continue;
		if (k == s->n || strcmp(s->v[k].ns, sv->ns) || strcmp(s->v[k].name, sv->name) ||
		    s->v[k].nips != sv->nvips)
			return 1;
		for (j = 0; j < sv->nvips; j++)
			if (!ipaddr_eq(&s->v[k].ips[j], &sv->vips[j]))
				return 1;
		k++;
	}
	return k != s->n;
}
