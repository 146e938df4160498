/* Per-worker gateway statistics and their Prometheus text (gw_stats.c). */
#ifndef VIPGATE_GW_STATS_H
#define VIPGATE_GW_STATS_H

#include <stdint.h>

#include "gw-stats-t.h"

struct gw_ctx;
struct vg_buf;

/* Envoy's default histogram bucket bounds, in ms (+Inf is the 20th bucket). */
extern const double gw_buckets_ms[19];

void gw_stats_init(struct gw_stats *);
void gw_stats_free(struct gw_stats *);
/* The series of a label text (made when new); the caller holds the lock. */
struct gw_stat *gw_stats_series(struct gw_stats *, const char *key);
/* One request into a series: its duration and sizes. */
void gw_stats_add(struct gw_stat *, double ms, uint64_t req_bytes, uint64_t resp_bytes);
/* The same for a label text, taking the lock. */
void gw_stats_record(struct gw_stats *, const char *key, double ms,
    uint64_t req_bytes, uint64_t resp_bytes);
/* istio_requests_total and friends, summed over the workers. */
void gw_stats_render(struct gw_ctx *, struct vg_buf *);
/* Count one event of a cluster (takes the lock). */
void gw_stats_cluster(struct gw_stats *, const char *cluster, enum gw_cstat_kind);
/* Envoy's per-cluster counters, summed over the workers. */
void gw_stats_render_clusters(struct gw_ctx *, struct vg_buf *);

#endif
