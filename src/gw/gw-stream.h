/*
 * Streams as the front sees them (gw_stream.c, gw_stream_life.c): made for
 * each request, handed its head, body and end, and freed by the front when
 * it is over (its ops done) or when the client goes away.
 */
#ifndef VIPGATE_GW_STREAM_H
#define VIPGATE_GW_STREAM_H

#include <stddef.h>

#include "gw-stream-t.h"

/* A stream for a new request on fc, recycled from the worker's pool. */
struct gw_stream *gw_stream_new(struct gw_worker *, struct gw_front *fc);
/* Ends a stream: its upstream connection closed, counted when record, freed. */
void gw_stream_free(struct gw_stream *, int record);
/* Frees the worker's pool of finished streams (the worker stops). */
void gw_stream_pool_free(struct gw_worker *);
/*
 * The head is complete (hh and the request fields are set, snap taken):
 * route it, then answer locally or go upstream.
 */
void gw_stream_head(struct gw_stream *);
/* A piece of the request body; 1: stop reading it (the upstream is behind). */
int gw_stream_body(struct gw_stream *, const char *, size_t);
/* The request is complete. */
void gw_stream_end(struct gw_stream *);
/* The client took what was queued for it: the upstream may be read again. */
void gw_stream_writable(struct gw_stream *);
/* The client went away before the answer was complete (flag DC). */
void gw_stream_client_gone(struct gw_stream *);

#endif
