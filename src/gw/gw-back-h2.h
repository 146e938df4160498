/*
 * The HTTP/2 side of an upstream connection (gw_back_h2.c): each request
 * the streams write as HTTP/1.1 bytes (its head, then its body, framed as
 * gw_uphead.c and gw_stream.c frame them) is read back with libhttp-parser
 * and submitted as one HTTP/2 stream of the connection's session, many at
 * once; each answer comes back through its request's callbacks as the
 * HTTP/1.1 parser's would.
 */
#ifndef VIPGATE_GW_BACK_H2_H
#define VIPGATE_GW_BACK_H2_H

#include <stddef.h>
#include <stdint.h>

#include "gw-back-t.h"

struct gw_io;
struct hhead;
struct gw_uh2;		/* a connection's session */
struct gw_uh2_rq;	/* one request on it */

/* What a request reports to its owner (gw_back.c), inside the session's reads. */
struct gw_uh2_cb {
	/* first, before anything of the request changes in this read */
	void	(*touch)(void *);
	/* eos: the head ends the answer (a gRPC trailers-only answer) */
	enum gw_back_verdict (*head)(void *, int status, const struct hhead *, int eos);
	/* 1: hold (back-pressure): its window is not given back until resumed */
	int	(*body)(void *, const void *, size_t);
	void	(*trailers)(void *, const struct hhead *);
};

/* How a request stands, read after the session's input or its send. */
enum gw_uh2_state {
	GW_UH2_BUSY,		/* under way */
	GW_UH2_DONE,		/* the answer is complete */
	GW_UH2_FAILED,		/* reset, or the connection broke */
	GW_UH2_REFUSED,		/* never processed (REFUSED_STREAM, past a GOAWAY): safe to retry */
	GW_UH2_BAD,		/* the request or the answer broke HTTP's rules */
};

/* A client session on io (tls: the :scheme is https); NULL: out of memory. */
struct gw_uh2 *gw_uh2_new(struct gw_io *io, int tls);
/* Requests still open fail (FAILED) and must still be closed. */
void gw_uh2_free(struct gw_uh2 *);
/* Reads the connection's input; -1: the session is broken. */
int gw_uh2_input(struct gw_uh2 *);
/* Frames due go to the connection's output. */
void gw_uh2_flush(struct gw_uh2 *);
/* No GOAWAY, no error: the session may take new requests. */
int gw_uh2_reusable(const struct gw_uh2 *);
/* Room for one more request: under the peer's SETTINGS and local_max (0: none). */
int gw_uh2_room(const struct gw_uh2 *, int64_t local_max);
/* Requests open. */
unsigned gw_uh2_nopen(const struct gw_uh2 *);

/* A new request on the session. */
struct gw_uh2_rq *gw_uh2_open(struct gw_uh2 *, const struct gw_uh2_cb *, void *arg);
/* Ends it: its stream is reset (CANCEL) unless both sides finished it. */
void gw_uh2_close(struct gw_uh2_rq *);
/* The stream's bytes for the upstream: 0, or -1 when they are not HTTP/1.1. */
int gw_uh2_send(struct gw_uh2_rq *, const void *, size_t);
/* The client took what was held: the stream's window is given back. */
void gw_uh2_resume(struct gw_uh2_rq *);
int gw_uh2_held(const struct gw_uh2_rq *);
enum gw_uh2_state gw_uh2_state(const struct gw_uh2_rq *);
/* The answer is complete and the whole request went out. */
int gw_uh2_clean(const struct gw_uh2_rq *);
/* Request body bytes waiting for the upstream's window. */
size_t gw_uh2_pending(const struct gw_uh2_rq *);
/*
 * Whether the stream should hear that its body drained, after the
 * connection wrote: its waiting body went out or none waits; once the
 * whole request went out it is told once, not at every later write.
 */
int gw_uh2_tell(struct gw_uh2_rq *);
/* Told once with the whole request gone: gw_uh2_tell says no more. */
int gw_uh2_settled(const struct gw_uh2_rq *);

#endif
