/*
 * Envoy's outlier detector (source/common/upstream/outlier_detection_impl.cc)
 * as Istio configures it: consecutive 5xx and consecutive gateway failure,
 * success-rate ejection off. Pure: no I/O, no clock, no locks; the caller
 * passes the time and the random number and serialises the calls that
 * touch one cluster.
 */
#ifndef VIPGATE_GW_OUTLIER_H
#define VIPGATE_GW_OUTLIER_H

#include <stddef.h>
#include <stdint.h>

#include "gw-outlier-t.h"
#include "vipgate/gw-t.h"

/* Envoy's detector settings as Istio derives them from outlierDetection. */
void gw_od_cfg_from(struct gw_od_cfg *, const struct gw_outlier *);
/* The response code a local result counts as (resultToHttpCode). */
int gw_od_local_code(enum gw_od_local);
/* putHttpResponseCode: counts; returns the events (GW_OD_* bits) it fires. */
unsigned gw_od_count(const struct gw_od_cfg *, struct gw_od_host *, int code);
/* onConsecutiveErrorWorker and ejectHost for one event on a host of nhosts. */
enum gw_od_verdict gw_od_event(struct gw_od *, struct gw_od_host *, size_t nhosts,
    enum gw_od_type, int64_t now_ms, uint64_t rnd);
/* Both: one response code; the strongest verdict of the events it fired. */
enum gw_od_verdict gw_od_report(struct gw_od *, struct gw_od_host *, size_t nhosts, int code,
    int64_t now_ms, uint64_t rnd);
/* putResult for a locally originated result, in the default or split mode. */
enum gw_od_verdict gw_od_local(struct gw_od *, struct gw_od_host *, size_t nhosts,
    enum gw_od_local, int64_t now_ms, uint64_t rnd);
/* onIntervalTimer: un-eject and decay backoff; returns how many were un-ejected. */
size_t gw_od_sweep(struct gw_od *, struct gw_od_host **, size_t n, int64_t now_ms);
/* The ejection time a host's next un-ejection waits for (from its last ejection). */
int64_t gw_od_ejection_ms(const struct gw_od_cfg *, const struct gw_od_host *);
/* Brings an ejected host back and clears its counters. */
void gw_od_uneject(struct gw_od *, struct gw_od_host *, int64_t now_ms);
/* A host left the cluster (ejections_active follows). */
void gw_od_host_removed(struct gw_od *, struct gw_od_host *);
/* Envoy's isHostSetInPanic: fewer healthy hosts than the threshold. */
int gw_od_panic(uint32_t min_health, size_t nhealthy, size_t ntotal);

#endif
