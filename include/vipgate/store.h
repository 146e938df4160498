/*
 * The store: every object by kind/namespace/name, with where it came from.
 * Changes bump a generation counter; reconcile reads sorted per-kind lists.
 */
#ifndef VIPGATE_STORE_H
#define VIPGATE_STORE_H

#include "vipgate/objects.h"

struct store;

struct store *store_new(void);
void store_free(struct store *);

struct object *store_get(const struct store *, enum obj_kind, const char *ns, const char *name);
/* Objects of one kind sorted by namespace/name; valid until the next change. */
struct object * const *store_list(struct store *, enum obj_kind, size_t *n);
size_t store_count(const struct store *);
uint64_t store_generation(const struct store *);

/*
 * Put obj (takes the reference). If an object with the same key is there and
 * has the same content hash, nothing changes (returns 0, the generation
 * stays) but obj takes the old copy's place, so that the old copy and the
 * arena it may share with others can go; unless one is from the API and
 * the other not: then the stored copy stays. Returns 1 when the store
 * changed.
 */
int store_put(struct store *, struct object *);
/* Returns 1 when the store changed. */
int store_del(struct store *, enum obj_kind, const char *ns, const char *name);

#endif
