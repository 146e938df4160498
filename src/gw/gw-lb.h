/* Load-balancer picks (gw_lb.c): pure, on the worker's own state. */
#ifndef VIPGATE_GW_LB_H
#define VIPGATE_GW_LB_H

#include <stdint.h>

#include "gw-snap-t.h"

/* The worker's state for a cluster in a snapshot, made on first use. */
struct gw_lbstate *gw_lb_state(struct gw_snap *, int worker, const struct gw_cluster *);
/* A picked endpoint starts / ends a request (least request counts them). */
void gw_lb_acquire(struct gw_lbstate *, const struct gw_endpoint *);
void gw_lb_release(struct gw_lbstate *, const struct gw_endpoint *);
/*
 * An endpoint of c by its lb policy, skipping ejected ones unless in panic;
 * hash (when have_hash) keys ring hash and Maglev. NULL: none usable.
 */
const struct gw_endpoint *gw_lb_pick(const struct gw_cluster *, struct gw_lbstate *,
    uint64_t (*rnd)(void *), void *rarg, uint64_t hash, int have_hash);

#endif
