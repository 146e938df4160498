/*
 * The outlier detector's types (gw_outlier.c): its settings, one host's
 * monitor, a cluster's detector and the results it is told.
 */
#ifndef VIPGATE_GW_OUTLIER_T_H
#define VIPGATE_GW_OUTLIER_T_H

#include <stdint.h>

#define GW_OD_MAX_EJECTION_MS	300000	/* Envoy's max_ejection_time default */

struct gw_od_cfg {
	uint32_t	consecutive_5xx;	/* event at this count; 0: never */
	uint32_t	consecutive_gw;
	int		enforce_5xx;		/* enforcing_* is 100 or 0 with Istio */
	int		enforce_gw;
	int		split;			/* split_external_local_origin_errors */
	uint32_t	consecutive_local;	/* split mode: local origin failures */
	int64_t		interval_ms;
	int64_t		base_ms;
	int64_t		max_ms;			/* max(300 s, base) */
	int64_t		jitter_ms;		/* max_ejection_time_jitter: 0 */
	uint32_t	max_percent;		/* min(100, maxEjectionPercent) */
	uint32_t	min_health;		/* healthy_panic_threshold */
};

/* One host's monitor (DetectorHostMonitorImpl). */
struct gw_od_host {
	uint32_t	c5xx, cgw;		/* consecutive counters */
	uint32_t	cloc;			/* split mode: local origin failures */
	int		ejected;		/* FAILED_OUTLIER_CHECK */
	uint32_t	num_ejections;
	uint32_t	backoff;		/* ejection time = base x backoff */
	int64_t		last_ejection_ms;
	int64_t		last_unejection_ms;
	int		unejected_once;		/* last_unejection_ms is set */
	int64_t		jitter_ms;
};

/* Envoy's outlier_detection.* statistics of one cluster. */
struct gw_od_stats {
	uint64_t	active;			/* ejections_active */
	uint64_t	enforced_total;
	uint64_t	overflow;
	uint64_t	detected_5xx, enforced_5xx;
	uint64_t	detected_gw, enforced_gw;
	uint64_t	detected_local, enforced_local;
};

/* A cluster's detector. */
struct gw_od {
	struct gw_od_cfg	cfg;
	struct gw_od_stats	st;
};

enum gw_od_type {
	GW_OD_5XX = 1,
	GW_OD_GATEWAY = 2,
	GW_OD_LOCAL = 4,		/* split mode's consecutive_local_origin_failure */
};

/* Locally originated results, mapped to codes in the default (non-split) mode. */
enum gw_od_local {
	GW_OD_CONNECT_FAILED,		/* 503 */
	GW_OD_TIMEOUT,			/* 504 */
	GW_OD_REQUEST_FAILED,		/* ExtOriginRequestFailed: 500 */
	GW_OD_CONNECT_SUCCESS,		/* ignored, but in split mode it resets the count */
};

enum gw_od_verdict {
	GW_OD_NOTHING,			/* no event */
	GW_OD_IGNORED,			/* the host is already ejected */
	GW_OD_NOT_ENFORCED,		/* detected; enforcing is 0 */
	GW_OD_OVERFLOW,			/* max ejection percent reached */
	GW_OD_EJECTED,
};

#endif
