/*
 * Circuit breakers and outlier ejection at run time (gw_resil.c): the
 * state the workers share per cluster and per endpoint, kept by the
 * gateway across reloads (by cluster name and by address:port), the
 * per-worker pending queue, and the hooks the proxy calls.
 */
#ifndef VIPGATE_GW_RESIL_H
#define VIPGATE_GW_RESIL_H

#include <stdint.h>

#include <event2/util.h>

#include "gw-resil-t.h"
#include "vipgate/gw-t.h"

struct gw_ctx;
struct gw_snap;

/* main thread: snapshots and the gateway */

/*
 * A new snapshot's cluster and endpoint state: kept from the last snapshot
 * by cluster name and address:port, made for new ones.
 */
void gw_rs_snap_init(struct gw_ctx *, struct gw_snap *);
/* Drops a snapshot's references to that state. */
void gw_rs_snap_free(struct gw_snap *);
/* Drops the gateway's own references (it stops). */
void gw_rs_ctx_free(struct gw_ctx *);
/* Frees the worker's pending-queue event. */
void gw_rs_worker_free(struct gw_worker *);
/* The kept state of a cluster by name, or NULL. */
struct gw_cl_rt *gw_rs_cluster_find(struct gw_ctx *, const char *name);

/* data plane */

/*
 * Whether a request for ep may go now (Envoy's resource manager):
 * max_requests, max_pending_requests and max_connections decide between a
 * pooled connection, a new one, the queue and 503 UO.
 */
enum gw_rs_admit gw_rs_admit(struct gw_worker *, struct gw_snap *, const struct gw_cluster *,
    const struct gw_endpoint *, struct gw_rs_req *, void *owner,
    void (*resume)(void *, enum gw_rs_resume), enum gw_rs_idle,
    int64_t route_timeout_ms);
/* Gives back every share the request holds and leaves the queue. */
void gw_rs_req_release(struct gw_rs_req *);
/* Its connection is up: the request is no longer pending. */
void gw_rs_connected(struct gw_rs_req *);
/* max_retries: 1 and a retry share taken when a retry may start, 0 on overflow. */
int gw_breaker_retry_ok(struct gw_rs_req *, struct gw_snap *, const struct gw_cluster *);
/* An upstream connection opens for r's endpoint: counted in max_connections. */
void gw_rs_cx_open(struct gw_worker *, struct gw_rs_cx *, const struct gw_rs_req *);
/* The connection goes to (1) or leaves (0) the worker's pool. */
void gw_rs_cx_idle(struct gw_worker *, struct gw_rs_cx *, int idle);
/*
 * The connection closes; connected 0: its attempt failed, and so do the
 * queued requests for its endpoint.
 */
void gw_rs_cx_close(struct gw_worker *, struct gw_rs_cx *, int connected);
/* An upstream answer's status code, for outlier detection. */
void gw_rs_result(struct gw_snap *, const struct gw_cluster *, const struct gw_endpoint *, int code);
/* A locally originated result (connect failure, timeout ...), for outlier detection. */
void gw_rs_local(struct gw_snap *, const struct gw_cluster *, const struct gw_endpoint *,
    enum gw_od_local);
/* The cluster's TCP keepalive on an upstream socket (tcpKeepalive). */
void gw_rs_keepalive(evutil_socket_t, const struct gw_cluster *);

#endif
