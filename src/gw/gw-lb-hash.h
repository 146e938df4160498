/* Envoy's ring hash and Maglev tables (gw_lb_hash.c). */
#ifndef VIPGATE_GW_LB_HASH_H
#define VIPGATE_GW_LB_HASH_H

#include <stddef.h>
#include <stdint.h>

struct gw_cluster;
struct gw_hashtab;

/* The cluster's table (ring hash or Maglev, by its lb), built from its endpoints. */
struct gw_hashtab *gw_hashtab_new(const struct gw_cluster *);
void gw_hashtab_free(struct gw_hashtab *);
/* The endpoint index for a key; attempt > 0: the next candidates in turn. */
size_t gw_hashtab_pick(const struct gw_hashtab *, uint64_t hash, size_t attempt);

#endif
