/* The back: upstream connections (gw_back.c). */
#ifndef VIPGATE_GW_BACK_H
#define VIPGATE_GW_BACK_H

#include <sys/socket.h>

#include "gw-back-t.h"

struct gw_cluster;
struct gw_rs_req;
struct vg_buf;
struct gw_endpoint;
struct gw_io;
struct gw_snap;
struct gw_uptls_req;
struct gw_uconn;
struct gw_worker;
struct sockaddr_storage;

/*
 * The pool key and upstream TLS of an attempt (the cluster's
 * DestinationRule, auto mTLS) and a pooled connection if one is idle.
 * pp: the PROXY protocol header a new connection sends first (ppl 0:
 * none); connections only serve requests with the same header, as Envoy
 * keys its pools by the proxy_protocol transport socket's options.
 * -1 with err set: the cluster's TLS secret is missing.
 */
int gw_back_prepare(struct gw_back_prep *, struct gw_worker *, struct gw_snap *,
    const struct gw_cluster *, const struct gw_endpoint *, const struct vg_buf *uphead,
    int h2, const uint8_t *pp, size_t ppl, char *err, size_t errlen);
/* Releases what gw_back_prepare held (the TLS request). */
void gw_back_prep_done(struct gw_back_prep *);
/* Takes the idle connection out of the pool. */
struct gw_uconn *gw_back_take_idle(struct gw_back_prep *);
/*
 * Opens a new connection for st (connect timeout of the cluster), or NULL
 * with errno set: a connect() that failed at once.
 */
struct gw_uconn *gw_back_connect(struct gw_back_prep *, const struct gw_rs_req *,
    const struct gw_cluster *, const struct gw_endpoint *);
/* The cluster's reuse limits, and st served by uc from now on (reports go to st's ops). */
void gw_back_attach(struct gw_uconn *, struct gw_stream *, const struct gw_back_ops *,
    const struct gw_cluster *);
/* Sends bytes now when nothing waits before them; the rest on EV_WRITE. */
void gw_back_send(struct gw_uconn *, const void *a, size_t al, const void *b, size_t bl,
    const void *c, size_t cl);
/* Bytes queued towards the upstream. */
size_t gw_back_pending(const struct gw_uconn *);
/* The connection is up (and its TLS handshake done). */
int gw_back_connected(const struct gw_uconn *);
/* An answer being read to be dropped (GW_BACK_DISCARD). */
int gw_back_discarding(const struct gw_uconn *);
/* The client took the answer's bytes: read the upstream on if it waited. */
void gw_back_resume(struct gw_uconn *);
/* Ends the exchange: back to the pool when keep, else closed. */
void gw_back_release(struct gw_uconn *, int keep);
/* Closes a connection whatever its state (its stream is gone or gave up on it). */
void gw_back_close(struct gw_uconn *);
/* Ends the attempt as a timeout would (route or per-try): reported through fail. */
void gw_back_timeout(struct gw_uconn *);
/* After a 101: uc and the client's io pipe bytes both ways. */
void gw_back_tunnel(struct gw_uconn *, struct gw_io *client);
/* The client's side of a pipe has room again. */
void gw_back_tunnel_writable(struct gw_uconn *);
/* Closes every idle pooled connection of the worker. */
void gw_back_idle_close_all(struct gw_worker *);
/* Istio's ALPN offer on an HTTP/2 upstream's TLS (a no-op without TLS). */
void gw_back_h2_alpn(struct gw_io *, const struct gw_uptls_req *);
/* An endpoint's socket address. */
void gw_back_sockaddr(const struct gw_endpoint *, struct sockaddr_storage *, socklen_t *);

#endif
