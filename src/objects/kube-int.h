/*
 * Inside the Kubernetes API source, functions. Calls go down only:
 * source_kube.c (List/Watch, the source's life) calls kube_status.c and
 * kube_http.c; kube_status.c calls kube_http.c; kube_http.c reaches its
 * callers only through each transfer's done callback and round_done.
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
	    void (*round_done)(void *), void *arg);
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

#endif
