/* The object store: a hash table on kind/namespace/name. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vipgate/log.h"
#include "vipgate/store.h"

struct entry {
	struct entry	*next;
	uint64_t	 h;
	struct object	*obj;
};

struct store {
	struct entry	**buckets;
	size_t		  nbuckets;
	size_t		  count;
	uint64_t	  generation;
	/* per-kind sorted lists, rebuilt lazily after a change */
	struct object	**sorted[K__COUNT];
	size_t		  nsorted[K__COUNT];
	int		  dirty[K__COUNT];
	size_t		  nkind[K__COUNT];
};

static uint64_t
key_hash(enum obj_kind k, const char *ns, const char *name)
{
	uint64_t h = hash_bytes(HASH_INIT, &k, sizeof(k));

	h = hash_str(h, ns);
	return hash_str(h, name);
}

struct store *
store_new(void)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int k;

	s->nbuckets = 1024;
	s->buckets = xcalloc(s->nbuckets, sizeof(*s->buckets));
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
	for (i = 0; i < s->nbuckets; i++) {
		struct entry *e, *n;

		for (e = s->buckets[i]; e; e = n) {
			n = e->next;
			object_unref(e->obj);
			free(e);
		}
	}
	for (k = 0; k < K__COUNT; k++)
		free(s->sorted[k]);
	free(s->buckets);
	free(s);
}

static struct entry **
find(const struct store *s, enum obj_kind k, const char *ns, const char *name, uint64_t h)
{
	struct entry **ep = &s->buckets[h & (s->nbuckets - 1)];

	for (; *ep; ep = &(*ep)->next) {
		struct object *o = (*ep)->obj;

		if ((*ep)->h == h && o->kind == k && strcmp(o->meta.name, name) == 0 &&
		    strcmp(o->meta.ns, ns) == 0)
			return ep;
	}
	return ep;
}

static void
grow(struct store *s)
{
	size_t i, nb = s->nbuckets * 2;
	struct entry **b = xcalloc(nb, sizeof(*b));

	for (i = 0; i < s->nbuckets; i++) {
		struct entry *e, *n;

		for (e = s->buckets[i]; e; e = n) {
			n = e->next;
			e->next = b[e->h & (nb - 1)];
			b[e->h & (nb - 1)] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = nb;
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

struct object *
store_get(const struct store *s, enum obj_kind k, const char *ns, const char *name)
{
	struct entry **ep = find(s, k, ns, name, key_hash(k, ns, name));

	return *ep ? (*ep)->obj : NULL;
}

int
store_put(struct store *s, struct object *o)
{
	uint64_t h = key_hash(o->kind, o->meta.ns, o->meta.name);
	struct entry **ep = find(s, o->kind, o->meta.ns, o->meta.name, h);

	if (*ep) {
		struct object *old = (*ep)->obj;

		if (old->hash == o->hash) {
			/* same content: no change, its generation stays. The new
			 * copy is kept all the same: the old one may hold the
			 * shared arena of a file read before, which then goes
			 * once its last object is replaced (decoded_list_share) */
			o->generation = old->generation;
			if (o != old) {
				(*ep)->obj = o;
				sorted_replace(s, old, o);
			}
			object_unref(old);
			return 0;
		}
		o->generation = ++s->generation;
		(*ep)->obj = o;
		object_unref(old);
	} else {
		struct entry *e = xcalloc(1, sizeof(*e));

		e->h = h;
		e->obj = o;
		*ep = e;
		o->generation = ++s->generation;
		s->count++;
		s->nkind[o->kind]++;
		if (s->count > s->nbuckets)
			grow(s);
	}
	s->dirty[o->kind] = 1;
	return 1;
}

int
store_del(struct store *s, enum obj_kind k, const char *ns, const char *name)
{
	struct entry **ep = find(s, k, ns, name, key_hash(k, ns, name));
	struct entry *e = *ep;

	if (e == NULL)
		return 0;
	*ep = e->next;
	object_unref(e->obj);
	free(e);
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
		for (i = 0; i < s->nbuckets; i++) {
			struct entry *e;

			for (e = s->buckets[i]; e; e = e->next)
				if (e->obj->kind == k)
					s->sorted[k][j++] = e->obj;
		}
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
