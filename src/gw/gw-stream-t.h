/*
 * A stream: one request through the gateway, whatever carries it. The
 * connection below it (the front: HTTP/1.1 today) fills its head and hands
 * it on through gw-stream.h; the stream answers through the front's ops
 * table and reaches its upstream through the back (gw-back.h), which
 * reports upward through the back's ops table. See doc/architecture.md.
 */
#ifndef VIPGATE_GW_STREAM_T_H
#define VIPGATE_GW_STREAM_T_H

#include <netinet/in.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>

#include "gw-grpcweb-t.h"
#include "gw-hdr-t.h"
#include "gw-resil-t.h"
#include "vipgate/gw-route-t.h"
#include "vipgate/gw-t.h"
#include "vipgate/ipaddr.h"
#include "vipgate/util.h"

struct event;
struct evbuffer;
struct gw_io;
struct gw_jwt;
struct gw_lbstate;
struct gw_snap;
struct gw_uconn;
struct gw_worker;

/* An answer's head as the stream hands it to the front. */
struct gw_resp {
	int			 status;
	const struct gw_hdr	*f;		/* fields in order; framing fields are the front's */
	size_t			 n;
	int			 has_length;	/* a content-length is among f */
	int			 no_body;	/* HEAD, 204, 304 */
	int			 local;		/* the gateway's own answer */
	int			 upgrade;	/* 101 to the upgrade asked for: fields as they came */
	int			 end;		/* the head is the whole answer (HTTP/2: END_STREAM on it) */
};

/* The client certificate of a TLS connection, as x-forwarded-client-cert and the policies see it. */
struct gw_peer_id {
	const char	*uri;		/* its first URI SAN, or NULL */
	const char	*principal;	/* the URI without "spiffe://" when it is a SPIFFE ID, or NULL */
	const char	*dns;		/* its first DNS SAN, or NULL */
	const char	*subject;	/* RFC 2253 */
	char		 hash[65];	/* SHA-256 of the DER, hex */
};

/* What a stream asks of the connection that carries it (its front). */
struct gw_front_ops;
/* Every front connection starts with this: a stream reaches it through its ops. */
struct gw_front {
	const struct gw_front_ops *ops;
};

struct gw_front_ops {
	/* the answer's head; a local answer's body follows at once */
	void	(*head)(struct gw_front *, const struct gw_resp *);
	void	(*body)(struct gw_front *, const void *, size_t);
	/* the answer is complete */
	void	(*end)(struct gw_front *);
	/* "100 Continue": the body is wanted now */
	void	(*cont)(struct gw_front *);
	/* bytes waiting to go to the client (back-pressure) */
	size_t	(*pending)(struct gw_front *);
	/* stop (1) or resume (0) reading the request: its body, or what follows it */
	void	(*hold)(struct gw_front *, int);
	/* the upstream took what was queued for it: read the body on, if that waited */
	void	(*drained)(struct gw_front *);
	/* the stream is over (answered and read): the front frees it and goes on */
	void	(*done)(struct gw_front *);
	/* the answer broke after it started: only closing can tell the client */
	void	(*reset)(struct gw_front *);
	/* a callback of the stream's own (a timer, the breaker queue, the back) begins / ends */
	void	(*enter)(struct gw_front *);
	void	(*leave)(struct gw_front *);
	/* 101: the connection becomes a byte pipe to io (rest: bytes io already
	 * read, for the client); returns the client's io for the other way */
	struct gw_io *(*tunnel)(struct gw_front *, struct gw_io *io, struct evbuffer *rest);
	/* the pipe's other end closed: finish what is queued and close */
	void	(*untunnel)(struct gw_front *);
	/* the answer's trailers, before end (HTTP/1.1 drops them, as Envoy's codec) */
	void	(*trailers)(struct gw_front *, const struct gw_hdr *, size_t);
	/* the client certificate (found once a connection), or NULL: none */
	const struct gw_peer_id *(*peer_id)(struct gw_front *);
	/* the connection's local address; -1: unknown */
	int	(*local_addr)(struct gw_front *, struct ipaddr *);
	/* the client's address and port and the ones it reached (a PROXY
	 * header's when one came), for the header sent upstream; -1: unknown */
	int	(*addrs)(struct gw_front *, struct ipaddr *src, uint16_t *sport,
		    struct ipaddr *dst, uint16_t *dport);
};

enum { GW_STEP_NONE, GW_STEP_DELAY, GW_STEP_BACKOFF, GW_STEP_TRY };
enum { GW_TMO_NONE, GW_TMO_ROUTE, GW_TMO_TRY };

struct gw_stream {
	/* the front carrying it */
	struct gw_front		*fc;
	struct gw_worker	*w;
	struct gw_snap		*snap;
	/* the request, as the front hands it over */
	struct hhead		 hh;		/* target and fields; filled by the front */
	int			 method;	/* enum http_method */
	const char		*proto;		/* "HTTP/1.1", for the access log */
	uint16_t		 port;		/* the listener's */
	uint32_t		 scope;		/* ... and its deployment and bind (gw_snap_listener) */
	int			 tls;		/* downstream TLS */
	const char		*sni;		/* the TLS server name, or NULL */
	const char		*peer;		/* the downstream peer's address */
	char			 client[INET6_ADDRSTRLEN];	/* trusted client address (XFF hops) */
	int			 has_body;
	int			 body_chunked;	/* its length is not known in advance */
	uint64_t		 content_length;
	int			 upgrade;	/* a websocket upgrade */
	int			 expect;	/* Expect: 100-continue */
	int			 is_head;
	size_t			 ndrop;		/* fields a Connection field names ... */
	uint8_t			 drop[GW_MAX_HEADERS];	/* ... marked (valid when ndrop) */
	/* its progress */
	int64_t			 t0_us;
	int64_t			 t_up_us;	/* the head went upstream */
	int			 body_done;	/* the request is fully read */
	int			 resp_started, resp_done;
	int			 up_chunked;	/* the body goes upstream re-chunked */
	int			 retried;	/* re-sent once after a stale pooled connection */
	int			 continued;	/* 100-continue answered */
	const char		*cors_origin;	/* an allowed Origin: the answer gets CORS headers */
	struct gw_hdr		 cors_pf[3];	/* a preflight answer's own fields */
	size_t			 ncors_pf;
	char			 cors_age[24];
	int			 overloaded;	/* a local answer says x-envoy-overloaded */
	int			 grpc_status;	/* a fault's gRPC status + 1 for the local answer */
	int			 is_grpc;	/* content-type application/grpc* */
	int			 grpc_sent;	/* the grpc-status of a local answer + 1 */
	int			 grpc_web;	/* GW_GRPCWEB_*: a gRPC-Web request on a GRPC-Web port */
	struct gw_b64		 b64in, b64out;	/* -text: the bodies' base64 */
	struct gw_rs_req	 rs;		/* circuit breakers (gw_resil.c) */
	int			 rs_body;	/* body kept only while it waited for a connection */
	size_t			 cors_len;
	char			 reqid[40];
	struct gw_stream	*next_free;
	int			 code;
	const char		*flags;
	const struct gw_route	*rt;
	const struct gw_cluster	*cl;
	const struct gw_dest	*dest;
	const struct gw_endpoint *ep;
	struct gw_lbstate	*lbs;
	struct gw_uconn		*uc;
	struct vg_buf		 uphead;	/* kept for retries and mirrors */
	uint64_t		 bytes_in, bytes_out;
	/* retries, timeouts, fault delay and mirrors (decisions in gw_retry.c) */
	const struct gw_match	*m;		/* what routing matched, for the upstream head */
	const char		*host;
	size_t			 hostlen;
	int			 routed;	/* uphead is built: mirrors may copy it */
	int			 mirrored;
	int64_t			 retries;	/* retries started */
	const struct gw_endpoint *tried[8];	/* hosts tried (previous_hosts predicate) */
	size_t			 ntried;
	struct evbuffer		*body;		/* the body as framed upstream, for replay and mirrors */
	int			 body_over;	/* it outgrew GW_RETRY_BODY_MAX: no retry, no mirror */
	struct event		*ev_timeout;	/* the route timeout */
	struct event		*ev_step;	/* fault delay, retry back-off or per-try timeout */
	int			 step;		/* GW_STEP_*: what ev_step waits for */
	int			 timed_out;	/* GW_TMO_*: the timeout that ends the attempt */
	char			 tls_reason[256];	/* upstream TLS handshake failure, "" none */
	/* RequestAuthentication (gw_jwtauthn.c) */
	struct vg_buf		 xhdrs;		/* fields added upstream: "name\0value\0" pairs */
	const char		*www_auth;	/* a 401/403's WWW-Authenticate value (xhdrs) */
	struct gw_jwt		*jwt;		/* a verified token the cache did not keep */
};

#endif
