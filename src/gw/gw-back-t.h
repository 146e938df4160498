/*
 * The back: upstream connections (HTTP/1.1, or HTTP/2 in gw_back_h2.c), each from the worker's
 * pool or new, TLS below it when the cluster says so. It reports what
 * happens to the stream it serves through gw_back_ops and decides nothing:
 * no retry, no outlier verdict, no answer to the client.
 */
#ifndef VIPGATE_GW_BACK_T_H
#define VIPGATE_GW_BACK_T_H

#include <stddef.h>
#include <stdint.h>

#include "gw-uptls-t.h"

struct evbuffer;
struct gw_io;
struct gw_stream;
struct gw_uconn;
struct gw_worker;
struct hhead;

/* What the stream makes of an answer's head (gw_back_ops.head). */
enum gw_back_verdict {
	GW_BACK_PASS,		/* its body goes to the stream */
	GW_BACK_PASS_NOBODY,	/* the same, and there is no body to read (HEAD) */
	GW_BACK_DISCARD,	/* read and dropped: a retry follows its end */
	GW_BACK_DISCARD_NOBODY,
	GW_BACK_INTERIM,	/* a 1xx that is not passed on: the final head follows */
	GW_BACK_UPGRADE,	/* 101 accepted: a byte pipe after the head */
};

/* How an attempt ended without a complete answer (gw_back_ops.fail). */
enum gw_back_fail {
	GW_BACK_F_CONNECT,	/* never connected (TLS handshake included) */
	GW_BACK_F_RESET,	/* closed, reset or timed out after connecting */
	GW_BACK_F_PROTOCOL,	/* the answer broke HTTP's rules: 502 UPE */
	GW_BACK_F_REFUSED,	/* HTTP/2: REFUSED_STREAM, or past a GOAWAY: never processed */
};

/* The answer's framing as the back read it. */
struct gw_back_head {
	int		 chunked;	/* transfer-encoding: chunked */
	int		 eos;		/* the head ends the answer (HTTP/2 END_STREAM) */
	size_t		 ndrop;		/* fields its Connection field names ... */
	const uint8_t	*drop;		/* ... marked */
};

/* What the back reports to the stream it serves. */
struct gw_back_ops {
	/* the connection is up (TLS: handshake done) */
	void	(*connected)(struct gw_stream *);
	enum gw_back_verdict (*head)(struct gw_stream *, int status, const struct hhead *,
		    const struct gw_back_head *);
	/* a piece of the answer's body; 1: hold reading (back-pressure) */
	int	(*body)(struct gw_stream *, const void *, size_t);
	/* the answer is complete; reusable: the connection may go back to the pool */
	void	(*done)(struct gw_stream *, int reusable);
	/* the attempt ended without an answer; stale: a pooled connection that
	 * the upstream had closed before it saw a byte of ours; tls: why the
	 * TLS handshake failed, or NULL; timeout: the connect timeout ran out */
	void	(*fail)(struct gw_stream *, enum gw_back_fail, int stale, const char *tls);
	/* after a 101 the connection is a byte pipe: io is its end, rest what
	 * followed the head (for the client) */
	void	(*upgraded)(struct gw_stream *, struct gw_io *io, struct evbuffer *rest);
	/* the upgraded pipe closed upstream (what it sent is passed on) */
	void	(*tunnel_closed)(struct gw_stream *);
	/* the answer's trailers (HTTP/2), before done */
	void	(*trailers)(struct gw_stream *, const struct hhead *);
	/* the upstream took what was queued: the request body may flow again */
	void	(*drained)(struct gw_stream *);
	/* around the back's own callbacks: what they pass to the client goes out
	 * in one write at leave; enter's token stays valid if the stream ends */
	void	*(*enter)(struct gw_stream *);
	void	(*leave)(void *token);
};

/* An upstream connection being chosen: its pool key, TLS, and any idle one. */
struct gw_back_prep {
	struct gw_worker	*w;
	struct gw_uptls_req	 tr;
	char			 key[96];	/* ip|port, plus |t<TLS identity> for TLS */
	uint64_t		 khash;
	struct gw_uconn		*idle;		/* a pooled connection for the key, or NULL */
	int			 h2;		/* the connection speaks HTTP/2 */
	uint8_t			 pp[128];	/* PROXY protocol header (GW_PROXY_HDR_MAX) */
	size_t			 ppl;		/* its length; 0: none */
};

#endif
