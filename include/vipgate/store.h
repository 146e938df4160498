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
/*
 * Put obj in place of the stored copy with the same key and source, as
 * store_put does for the same content: the caller knows that nothing that
 * reads the store sees a difference (kube_svc_status_echo), so the
 * generation stays. Without such a copy, store_put. Returns 1 when the
 * store changed (a rejection ended).
 */
int store_replace(struct store *, struct object *);
/* Returns 1 when the store changed (an object or a rejection went). */
int store_del(struct store *, enum obj_kind, const char *ns, const char *name);

/*
 * Rejections: a version of an object that failed to decode, kept beside
 * the last good version (if any) that stays in force, so that what uses
 * the object can say so (a Secret the gateway still serves the old
 * certificate of). msg is the decode error ("file:line:col: ..."). A good
 * version put, or the object deleted, ends it. from_api: which source
 * rejected it (each sweeps its own). Returns 1 when something changed.
 */
int store_reject(struct store *, enum obj_kind, const char *ns, const char *name,
    const char *msg, int from_api);
/* The rejection's message, or NULL. */
const char *store_rejected(const struct store *, enum obj_kind, const char *ns,
    const char *name);
/*
 * Drop the rejections of one source (of one kind, or every kind with
 * K__COUNT) for which keep() says no. Returns how many went.
 */
size_t store_reject_sweep(struct store *, int from_api, int kind,
    int (*keep)(void *, enum obj_kind, const char *ns, const char *name), void *arg);

#endif
