/*
 * The HTTP/2 side of an upstream connection (gw_back_h2.c): the request
 * the stream writes as HTTP/1.1 bytes (its head, then its body, framed as
 * gw_uphead.c and gw_stream.c frame them) is read back with libhttp-parser
 * and submitted as one HTTP/2 stream; the answer comes back through the
 * connection's callbacks as the HTTP/1.1 parser's would. One request at a
 * time on a connection, which the pool keeps between requests.
 */
#ifndef VIPGATE_GW_BACK_H2_H
#define VIPGATE_GW_BACK_H2_H

#include <stddef.h>
#include <stdint.h>

#include "gw-back-t.h"

struct gw_io;
struct hhead;
struct gw_uh2;

/* What the session reports to its connection (gw_back.c), inside its reads. */
struct gw_uh2_cb {
	/* eos: the head ends the answer (a gRPC trailers-only answer) */
	enum gw_back_verdict (*head)(void *, int status, const struct hhead *, int eos);
	/* 1: hold reading (back-pressure) */
	int	(*body)(void *, const void *, size_t);
	void	(*trailers)(void *, const struct hhead *);
};

/* How the request in flight stands, read after gw_uh2_input or gw_uh2_send. */
enum gw_uh2_state {
	GW_UH2_BUSY,		/* under way */
	GW_UH2_DONE,		/* the answer is complete */
	GW_UH2_FAILED,		/* reset, or the connection broke */
	GW_UH2_REFUSED,		/* never processed (REFUSED_STREAM, past a GOAWAY): safe to retry */
	GW_UH2_BAD,		/* the request or the answer broke HTTP's rules */
};

/* A client session on io (tls: the :scheme is https); NULL: out of memory. */
struct gw_uh2 *gw_uh2_new(struct gw_io *io, int tls, const struct gw_uh2_cb *, void *arg);
void gw_uh2_free(struct gw_uh2 *);
/* A new request follows on the connection. */
void gw_uh2_begin(struct gw_uh2 *);
/* The stream's bytes for the upstream: 0, or -1 when they are not HTTP/1.1. */
int gw_uh2_send(struct gw_uh2 *, const void *, size_t);
/* Reads the connection's input (*held: the stream asked to hold); -1: the connection is broken. */
int gw_uh2_input(struct gw_uh2 *, int *held);
/* Frames due go to the connection's output. */
void gw_uh2_flush(struct gw_uh2 *);
enum gw_uh2_state gw_uh2_state(const struct gw_uh2 *);
/* The connection may carry another request (no GOAWAY, no error). */
int gw_uh2_reusable(const struct gw_uh2 *);
/* Request body bytes waiting for the upstream's window. */
size_t gw_uh2_pending(const struct gw_uh2 *);
/* 1 once after the waiting body went out (the stream may send more). */
int gw_uh2_drained(struct gw_uh2 *);

#endif
