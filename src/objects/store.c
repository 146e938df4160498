/* The object store: a hash table on kind/namespace/name. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vipgate/log.h"
#include "vipgate/store.h"

/*
 * Open addressing on the objects themselves (linear probing, at most half
 * full): 8 bytes a slot, where a chained entry took 32 and its bucket 8.
 */
struct store {
	struct object	**slots;
	size_t		  mask;
	size_t		  count;
	uint64_t	  generation;
	/* per-kind sorted lists, rebuilt lazily after a change */
	struct object	**sorted[K__COUNT];
	size_t		  nsorted[K__COUNT];
	int		  dirty[K__COUNT];
	size_t		  nkind[K__COUNT];
	struct store_rej *rej;		/* few: a linear list */
	size_t		  nrej;
};

struct store_rej {
	enum obj_kind	 kind;
	int		 from_api;
	char		*ns, *name, *msg;
};

static uint64_t
key_hash(enum obj_kind k, const char *ns, const char *name)
{
	uint64_t h = hash_bytes(HASH_INIT, &k, sizeof(k));

	h = hash_str(h, ns);
	return hash_str(h, name);
}

static size_t
home(const struct store *s, const struct object *o)
{
	return (size_t)key_hash(o->kind, o->meta.ns, o->meta.name) & s->mask;
}

struct store *
store_new(void)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int k;

	s->mask = 1023;
	s->slots = xcalloc(s->mask + 1, sizeof(*s->slots));
	for (k = 0; k < K__COUNT; k++)
		s->dirty[k] = 1;
	return s;
}

void
store_free(struct store *s)
{
	size_t i;
	int k;

	if (s == NULL)
		return;
	for (i = 0; i <= s->mask; i++)
		object_unref(s->slots[i]);
	for (k = 0; k < K__COUNT; k++)
		free(s->sorted[k]);
	for (i = 0; i < s->nrej; i++) {
		free(s->rej[i].ns);
		free(s->rej[i].name);
		free(s->rej[i].msg);
	}
	free(s->rej);
	free(s->slots);
	free(s);
}

/* The slot holding the key, or the empty slot where it would go. */
static size_t
find(const struct store *s, enum obj_kind k, const char *ns, const char *name)
{
	size_t i;

	for (i = (size_t)key_hash(k, ns, name) & s->mask; s->slots[i] != NULL;
	    i = (i + 1) & s->mask) {
		const struct object *o = s->slots[i];

		if (o->kind == k && strcmp(o->meta.name, name) == 0 &&
		    strcmp(o->meta.ns, ns) == 0)
			break;
	}
	return i;
}

static void
grow(struct store *s)
{
	struct object **old = s->slots;
	size_t i, j, omask = s->mask;

	s->mask = s->mask * 2 + 1;
	s->slots = xcalloc(s->mask + 1, sizeof(*s->slots));
	for (i = 0; i <= omask; i++) {
		if (old[i] == NULL)
			continue;
		for (j = home(s, old[i]); s->slots[j] != NULL; j = (j + 1) & s->mask)
			;
		s->slots[j] = old[i];
	}
	free(old);
}

struct object *
store_get(const struct store *s, enum obj_kind k, const char *ns, const char *name)
{
	return s->slots[find(s, k, ns, name)];
}

static int cmp_obj(const void *, const void *);

/* A valid sorted list points at the new copy of an object. */
static void
sorted_replace(struct store *s, const struct object *old, struct object *o)
{
	struct object **v = s->sorted[o->kind];
	size_t lo = 0, hi = s->nsorted[o->kind];

	if (s->dirty[o->kind])
		return;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = cmp_obj(&v[mid], &old);

		if (r == 0) {
			v[mid] = o;
			return;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	s->dirty[o->kind] = 1;	/* not found: cannot be, but stay correct */
}

static size_t
rej_find(const struct store *s, enum obj_kind k, const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < s->nrej; i++)
		if (s->rej[i].kind == k && strcmp(s->rej[i].name, name) == 0 &&
		    strcmp(s->rej[i].ns, ns) == 0)
			break;
	return i;
}

static void
rej_drop(struct store *s, size_t i)
{
	free(s->rej[i].ns);
	free(s->rej[i].name);
	free(s->rej[i].msg);
	s->rej[i] = s->rej[--s->nrej];
	s->generation++;
}

/* A good version ends a rejection: 1 when there was one. */
static int
rej_clear(struct store *s, enum obj_kind k, const char *ns, const char *name)
{
	size_t i = rej_find(s, k, ns, name);

	if (i == s->nrej)
		return 0;
	rej_drop(s, i);
	return 1;
}

int
store_reject(struct store *s, enum obj_kind k, const char *ns, const char *name,
    const char *msg, int from_api)
{
	size_t i = rej_find(s, k, ns, name);

	if (i < s->nrej) {
		if (strcmp(s->rej[i].msg, msg) == 0 && s->rej[i].from_api == from_api)
			return 0;
		free(s->rej[i].msg);
		s->rej[i].msg = xstrdup(msg);
		s->rej[i].from_api = from_api;
		s->generation++;
		return 1;
	}
	s->rej = xreallocarray(s->rej, s->nrej + 1, sizeof(*s->rej));
	s->rej[i].kind = k;
	s->rej[i].from_api = from_api;
	s->rej[i].ns = xstrdup(ns);
	s->rej[i].name = xstrdup(name);
	s->rej[i].msg = xstrdup(msg);
	s->nrej++;
	s->generation++;
	return 1;
}

const char *
store_rejected(const struct store *s, enum obj_kind k, const char *ns, const char *name)
{
	size_t i = rej_find(s, k, ns, name);

	return i < s->nrej ? s->rej[i].msg : NULL;
}

size_t
store_reject_sweep(struct store *s, int from_api, int kind,
    int (*keep)(void *, enum obj_kind, const char *, const char *), void *arg)
{
	size_t i = 0, n = 0;

	while (i < s->nrej) {
		const struct store_rej *r = &s->rej[i];

		if (r->from_api == from_api && (kind == K__COUNT || (int)r->kind == kind) &&
		    !keep(arg, r->kind, r->ns, r->name)) {
			rej_drop(s, i);
			n++;
		} else
			i++;
	}
	return n;
}

/* o takes old's place in slot i, with old's generation. */
static void
replace_same(struct store *s, size_t i, struct object *old, struct object *o)
{
	o->generation = old->generation;
	if (o != old) {
		s->slots[i] = o;
		sorted_replace(s, old, o);
	}
	object_unref(old);
}

int
store_replace(struct store *s, struct object *o)
{
	size_t i = find(s, o->kind, o->meta.ns, o->meta.name);
	struct object *old = s->slots[i];

	if (old == NULL || old->from_api != o->from_api)
		return store_put(s, o);
	replace_same(s, i, old, o);
	return s->nrej ? rej_clear(s, o->kind, o->meta.ns, o->meta.name) : 0;
}

int
store_put(struct store *s, struct object *o)
{
	size_t i = find(s, o->kind, o->meta.ns, o->meta.name);
	struct object *old = s->slots[i];
	/* a good version after a rejected one: the rejection ends, and
	 * that is a change even when the content is the last good one */
	int cleared = s->nrej ? rej_clear(s, o->kind, o->meta.ns, o->meta.name) : 0;

	if (old != NULL) {
		if (old->hash == o->hash && old->from_api != o->from_api) {
			/* same content from the other source: the stored copy
			 * stays (which source holds it decides deletions) */
			object_unref(o);
			return cleared;
		}
		if (old->hash == o->hash) {
			/* same content: no change, its generation stays. The new
			 * copy is kept all the same: the old one may hold the
			 * shared arena of a file read before, which then goes
			 * once its last object is replaced (decoded_list_share) */
			replace_same(s, i, old, o);
			return cleared;
		}
		o->generation = ++s->generation;
		s->slots[i] = o;
		object_unref(old);
	} else {
		s->slots[i] = o;
		o->generation = ++s->generation;
		s->count++;
		s->nkind[o->kind]++;
		if (s->count * 2 > s->mask)
			grow(s);
	}
	s->dirty[o->kind] = 1;
	return 1;
}

int
store_del(struct store *s, enum obj_kind k, const char *ns, const char *name)
{
	size_t i = find(s, k, ns, name), j;
	struct object *o = s->slots[i];
	int cleared = s->nrej ? rej_clear(s, k, ns, name) : 0;

	if (o == NULL)
		return cleared;
	s->slots[i] = NULL;
	/* close the gap: a later object of the run moves up unless its home
	 * lies cyclically in (i, j] (it would not be found from there) */
	for (j = (i + 1) & s->mask; s->slots[j] != NULL; j = (j + 1) & s->mask) {
		size_t h = home(s, s->slots[j]);

		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		s->slots[i] = s->slots[j];
		s->slots[j] = NULL;
		i = j;
	}
	object_unref(o);
	s->count--;
	s->nkind[k]--;
	s->generation++;
	s->dirty[k] = 1;
	return 1;
}

static int
cmp_obj(const void *a, const void *b)
{
	const struct object *x = *(struct object *const *)a, *y = *(struct object *const *)b;
	int r = strcmp(x->meta.ns, y->meta.ns);

	return r ? r : strcmp(x->meta.name, y->meta.name);
}

struct object * const *
store_list(struct store *s, enum obj_kind k, size_t *n)
{
	if (s->dirty[k]) {
		size_t i, j = 0;

		free(s->sorted[k]);
		s->sorted[k] = xcalloc(s->nkind[k] ? s->nkind[k] : 1, sizeof(struct object *));
		for (i = 0; i <= s->mask; i++)
			if (s->slots[i] != NULL && s->slots[i]->kind == k)
				s->sorted[k][j++] = s->slots[i];
		qsort(s->sorted[k], j, sizeof(struct object *), cmp_obj);
		s->nsorted[k] = j;
		s->dirty[k] = 0;
	}
	*n = s->nsorted[k];
	return s->sorted[k];
}

size_t
store_count(const struct store *s)
{
	return s->count;
}

uint64_t
store_generation(const struct store *s)
{
	return s->generation;
}
