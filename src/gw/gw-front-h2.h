/*
 * HTTP/2 downstream (gw_front_h2.c): a connection the front hands over
 * after ALPN "h2" or the h2c preface. Each HTTP/2 stream is a gw_front of
 * its own carrying one gw_stream.
 */
#ifndef VIPGATE_GW_FRONT_H2_H
#define VIPGATE_GW_FRONT_H2_H

#include <stddef.h>
#include <stdint.h>

struct gw_front;
struct gw_io;
struct gw_worker;
struct gw_h2;

/* Why a GOAWAY was sent, as counted (vipgate_gateway_http2_goaway_total). */
enum gw_h2_goaway {
	GW_H2_GOAWAY_DRAIN,	/* NO_ERROR: drain, idle, a stalled client */
	GW_H2_GOAWAY_PROTOCOL,	/* the client broke the protocol */
	GW_H2_GOAWAY_FLOOD,	/* ENHANCE_YOUR_CALM: floods, CONTINUATION, bad preface */
	GW_H2_GOAWAY_INTERNAL,	/* INTERNAL_ERROR: the stream reset rate limit among them */
};

/* What the connection below gives the session. */
struct gw_h2_env {
	struct gw_worker	*w;
	struct gw_io		*io;
	struct gw_front		*conn;	/* its peer_id and local_addr serve every stream */
	uint16_t		 port;
	uint32_t		 scope;		/* the listener's */
	int			 tls;
	const char		*sni;
	const char		*peer;
	/* the session is over (GOAWAY sent, streams done): close when written */
	void			(*over)(void *);
	void			*arg;
};

/* 1: the bytes begin the HTTP/2 client preface (all of it when full); 0: they do not. */
int gw_h2_preface(const void *, size_t, int *full);
/* A session on env's connection; NULL: out of memory. */
struct gw_h2 *gw_h2_new(const struct gw_h2_env *);
/* The connection's input is read; -1: a connection error, close once written. */
int gw_h2_input(struct gw_h2 *);
/* The connection's output went below its low mark. */
void gw_h2_writable(struct gw_h2 *);
/* The read timeout fired; 1: keep the connection, 0: close it. */
int gw_h2_timeout(struct gw_h2 *);
/* Drain: GOAWAY, the streams in flight finish. */
void gw_h2_shutdown(struct gw_h2 *);
/* The connection is gone: its streams end (client gone), the session is freed. */
void gw_h2_free(struct gw_h2 *);

#endif
