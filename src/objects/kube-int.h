/*
 * Inside the Kubernetes API source, functions. Calls go down only:
 * source_kube.c (List/Watch, the source's life) calls kube_status.c,
 * kube_lease.c and kube_http.c; kube_status.c calls kube_lease.c (to give
 * the Lease up), kube_events.c and kube_http.c; kube_lease.c and
 * kube_events.c call kube_http.c; kube_http.c reaches its callers only
 * through each transfer's done callback and round_done, kube_lease.c
 * kube_status.c only through ks->leader_changed.
 */
#ifndef VIPGATE_KUBE_INT_H
#define VIPGATE_KUBE_INT_H

#include "curl_lazy.h"
#include "kube-int-t.h"

/*
 * kube_http.c. init loads libcurl (once), takes auth and puts the multi
 * handle on base; round_done(arg) runs after each round of ended
 * transfers.
 */
void	kube_http_init(struct kube_http *, struct event_base *, struct kube_auth *,
	    const char *node, void (*round_done)(void *), void *arg);
void	kube_http_cleanup(struct kube_http *);
/* A GET of url with the credentials; set more options on x->easy, then start it. */
void	kube_http_prepare(struct kube_http *, struct kube_xfer *, const char *url);
void	kube_http_start(struct kube_http *, struct kube_xfer *);
/* Drop x's transfer without calling done (the source is freed). */
void	kube_http_cancel(struct kube_http *, struct kube_xfer *);
/* The error `vipgatectl status` shows, replacing the one before. */
void	kube_http_error(struct kube_http *, const char *, ...) VG_PRINTF(2, 3);
/* The delay before a retry after failures in a row, with jitter. */
int64_t	kube_http_backoff_ms(int failures);
void	kube_timer_in(struct event *, int64_t ms);

/* kube_status.c: the pending status writes go (the source is freed). */
void	kube_status_free(struct kube_source *);
/* kube_status.c: the Lease was gained or lost (ks->leader_changed). */
void	kube_status_leader_changed(struct kube_source *);

/* kube_lease.c: the Lease in ns, this node's identity me, every retry period. */
void	kube_lease_start(struct kube_source *, const char *ns, const char *me);
/* Draining: stop writing and give the Lease up. */
void	kube_lease_release(struct kube_source *);
void	kube_lease_free_state(struct kube_source *);
json_t	*kube_lease_status(const struct kube_source *);

/* kube_show.c: the source's Prometheus metrics. */
void	kube_metrics(const struct kube_source *, struct vg_buf *);

/*
 * kube_events.c: an Event on a Service, written in turn (reason: a static
 * string). refresh: it happens again (not the first time this process
 * says it): when it exists already (409), its lastTimestamp is updated.
 */
void	kube_event_emit(struct kube_source *, const char *ns, const char *name,
	    const char *uid, const char *reason, int warning, const char *message,
	    int refresh);
void	kube_events_drop(struct kube_source *);

#endif
