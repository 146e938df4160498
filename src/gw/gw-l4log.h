/*
 * What a TCP or passthrough connection leaves behind (gw_l4_log.c): its
 * access log line and Istio's TCP series.
 */
#ifndef VIPGATE_GW_L4LOG_H
#define VIPGATE_GW_L4LOG_H

#include "gw-l4-t.h"

struct gw_ctx;
struct gw_stats;
struct vg_buf;

/* The access log line of a connection that ends. */
void gw_l4_log(struct gw_l4c *);
/* istio_tcp_connections_opened_total: routed (or refused) now. */
void gw_l4_stats_open(struct gw_l4c *);
/* istio_tcp_connections_closed_total and the byte counts, at its end. */
void gw_l4_stats_close(struct gw_l4c *);
/*
 * One TCP family of every worker, summed (the :15020 scrape): which 0
 * opened, 1 closed (their TYPE lines printed by the caller), 2 sent
 * bytes, 3 received bytes.
 */
void gw_l4_stats_render(struct gw_ctx *, struct vg_buf *, int which);
/* A worker's series freed. */
void gw_l4_stats_free(struct gw_stats *);

#endif
