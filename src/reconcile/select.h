/*
 * What the parts of reconcile share for selecting (select.c): this node's
 * labels, the gateway's own Service, which pools an advertisement selects,
 * and which endpoints of a Service can serve. Pure; a leaf: it calls no
 * other file of reconcile/.
 */
#ifndef VIPGATE_RECONCILE_SELECT_H
#define VIPGATE_RECONCILE_SELECT_H

#include <stddef.h>

#include "vipgate/objects-t.h"

struct store;

/* Whether s is one of the n strings of l. */
int sel_in_list(const char *const *l, size_t n, const char *s);
/* Every entry of a is in b with the same value. */
int sel_strmap_subset(const struct strmap *a, const struct strmap *b);
/*
 * Whether an advertisement selects a pool: by one of its names, or by its
 * labels matching one of sels; with neither it selects every pool (MetalLB).
 */
int sel_adv_selects_pool(const char *const *names, size_t nnames,
    const struct labelsel *sels, size_t nsels, const struct object *pool);
/* The pool of that name among n pools, or NULL. */
const struct object *sel_find_pool(struct object * const *pools, size_t n, const char *name);

/* EndpointSlices indexed by namespace and the Service their label names. */
struct sel_slice;

/* The index of every EndpointSlice of the store (malloc'd; free it). */
struct sel_slice *sel_slice_index(struct store *, size_t *np);
/*
 * Call fn once for every endpoint of svc that can serve (MetalLB
 * EndpointCanServe over its EndpointSlices, every address of its Endpoints),
 * with the endpoint's node name or NULL.
 */
void sel_serving_endpoints(struct store *, const struct sel_slice *ix, size_t nix,
    const struct object *svc, void (*fn)(void *arg, const char *node), void *arg);

#endif
