/*
 * Circuit breakers and outlier ejection at run time (gw_resil.c): the
 * shared per-cluster and per-endpoint state, a request's and a connection's
 * shares, the per-worker pending queue.
 */
#ifndef VIPGATE_GW_RESIL_T_H
#define VIPGATE_GW_RESIL_T_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "gw-outlier-t.h"

struct event;
struct gw_cluster;
struct gw_worker;

/* An endpoint of a cluster; refcounted (the cluster, snapshots, connections). */
struct gw_ep_rt {
	int			 refcnt;
	char			 key[64];	/* "ip|port" */
	uint32_t		 rq_active;	/* picked and in flight: least request compares it */
	uint32_t		 cx_active;	/* upstream connections of all workers */
	int			 ejected;	/* atomic copy of od.ejected, for the pickers */
	int			 dirty;		/* atomic: a consecutive counter is not 0 */
	int			 removed;	/* under the cluster's mu: left the cluster */
	struct gw_od_host	 od;		/* under the cluster's mu */
	size_t			 nw;
	uint32_t		*wcx;		/* [worker]: that worker's pool size ... */
	uint32_t		*widle;		/* ... and idle part; only that worker touches them */
};

/* A cluster, shared by the workers; refcounted (the gateway, snapshots, connections). */
struct gw_cl_rt {
	int			 refcnt;
	char			*name;
	pthread_mutex_t		 mu;		/* outlier decisions (Envoy posts them to its main thread) */
	/* atomics: Envoy's resource manager, shared by all workers */
	uint32_t		 rq_active;	/* picked (the load balancer's) */
	uint32_t		 rq_attached;	/* on a connection: max_requests */
	uint32_t		 rq_pending;	/* waiting for a connection: max_pending_requests */
	uint32_t		 cx_active;	/* max_connections */
	uint32_t		 retries_active;	/* max_retries */
	uint64_t		 rq_pending_overflow, cx_overflow, retry_overflow;
	/* under mu */
	int			 od_on;
	struct gw_od		 od;
	struct gw_ep_rt		**eps;		/* the newest snapshot's, sorted by key */
	size_t			 neps;
	/* main thread only */
	struct event		*sweep;
	int64_t			 sweep_ms;
};

/* A request's share of the breakers; lives in the request. */
enum gw_rs_resume {
	GW_RS_DISPATCH,		/* a connection freed up: dr_connect again */
	GW_RS_ROUTE_TIMEOUT,	/* 504 UT */
	GW_RS_STREAM_TIMEOUT,	/* 504 SI (Envoy's stream_idle_timeout, 5 min) */
	GW_RS_CONNECT_FAILED,	/* the connection it waited for failed: 503 UF (or a retry) */
};

struct gw_rs_req {
	struct gw_cl_rt		*cl;		/* the snapshot's: alive while the request is */
	struct gw_ep_rt		*ep;
	const struct gw_cluster	*c;
	struct gw_worker	*w;
	void			*owner;		/* the stream waiting or attached */
	/* how a queued request hears its turn or its bound (the stream's callback) */
	void			(*resume)(void *owner, enum gw_rs_resume);
	unsigned		 attached:1, pending:1, queued:1, dispatching:1, retry:1, tmo_route:1;
	unsigned		 failed:1;	/* its endpoint's connection attempt failed */
	struct event		*timer;		/* bounds the wait in the queue */
	TAILQ_ENTRY(gw_rs_req)	 link;
};
TAILQ_HEAD(gw_rs_q, gw_rs_req);

/* An upstream connection's share; lives in the connection. */
struct gw_rs_cx {
	struct gw_cl_rt		*cl;		/* referenced: a pooled connection outlives snapshots */
	struct gw_ep_rt		*ep;
	int			 idle;
};

/* Per worker: requests waiting for a connection, FIFO. */
struct gw_rs_worker {
	struct gw_rs_q		 q;
	size_t			 nq;
	struct event		*kick;
};

enum gw_rs_admit {
	GW_RS_IDLE,		/* take a pooled connection */
	GW_RS_CONNECT,		/* open a new one */
	GW_RS_QUEUED,		/* wait: the stream hears again through its resume callback */
	GW_RS_OVERFLOW,		/* answer 503 UO */
};

/* What the worker's pool holds for the endpoint. */
enum gw_rs_idle {
	GW_RS_NO_IDLE,
	GW_RS_IDLE_OK,		/* a pooled connection */
	GW_RS_IDLE_AVOID,	/* one, but the request would rather have a fresh one */
};

/* Envoy's overflow answer (router.cc) */
#define GW_RS_OVERFLOW_BODY \
	"upstream connect error or disconnect/reset before headers. reset reason: overflow"

#endif
