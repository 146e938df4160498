/*
 * The back: upstream HTTP/1.1 connections, from the worker's keep-alive
 * pool or new (TLS below them as gw_uptls.c decides), their answers parsed
 * with libhttp-parser after gw_h1_scan's line rules, and the byte pipe an
 * upgrade turns one into. What happens is reported to the stream through
 * gw_back_ops; whether to retry, eject or answer is the stream's call.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <http_parser.h>
#include <openssl/ssl.h>

#include "gw-back.h"
#include "gw-back-h2.h"
#include "gw-h1.h"
#include "gw-hdr.h"
#include "gw-io.h"
#include "gw-resil.h"
#include "gw-snap-t.h"
#include "gw-stats.h"
#include "gw-uptls.h"
#include "gw-worker-t.h"
#include "vipgate/log.h"

struct gw_uconn {
	struct gw_worker	*w;
	struct gw_io		*io;
	http_parser		 p;
	struct sockaddr_storage	 sa;
	socklen_t		 salen;
	char			 key[96];	/* ip|port, plus |t<TLS identity> for TLS */
	uint64_t		 khash;		/* of key: the pool scan compares it first */
	struct gw_stream	*req;		/* the stream it serves, or NULL */
	const struct gw_back_ops *ops;		/* ... and how it reports to it */
	const char		*cl_name;	/* its cluster, for the TLS counters */
	int			 connected, reused, got_bytes;
	unsigned		 nreq;
	int64_t			 maxreq;
	int64_t			 idle_ms;
	struct hhead		 hh;
	uint8_t			 drop[GW_MAX_HEADERS];	/* fields its Connection names */
	int			 got_head, msg_done, paused, resume, in_feed, bp;
	int			 in_idle;
	int			 eof;		/* the upstream closed; its buffered bytes still count */
	int			 tunnel;
	struct gw_io		*peer;		/* a pipe's other end (the client's) */
	uint8_t			 hscan;		/* GW_H1_SCAN_*: line rules of the answer's head */
	int			 discard;	/* an answer to be retried: read, not passed on */
	struct gw_rs_cx		 rs;		/* counted against its cluster's breakers */
	int			 tls;		/* an upstream TLS connection */
	TAILQ_ENTRY(gw_uconn)	 link;
	/*
	 * HTTP/2: the connection (h2, its session) carries many requests, each
	 * a handle of its own (phys: the connection, rq2: its request) that
	 * the stream holds as it holds an HTTP/1.1 connection. The connection
	 * stays in the pool while it has room for another request.
	 */
	struct gw_uh2		*h2;		/* a connection's session, or NULL */
	TAILQ_HEAD(, gw_uconn)	 handles;	/* its requests */
	TAILQ_HEAD(, gw_uconn)	 tell;		/* those with request bytes to go */
	unsigned		 nh;
	int			 busy;		/* its handles are being told: frees wait */
	int			 closing;	/* takes no new request */
	int64_t			 maxstreams;	/* maxConcurrentStreams; 0: the peer's */
	struct gw_uconn		**touch;	/* handles a read or a send changed */
	size_t			 ntouch, touchcap;
	struct event		*kick;		/* tells a change a send made, later */
	struct gw_uconn		*phys;		/* a request's handle: its connection */
	struct gw_uh2_rq	*rq2;		/* ... and its request */
	void			*tok;		/* entered while its connection reads */
	const struct gw_back_ops *tok_ops;
	int			 touched, dead;
	unsigned		 ndead;		/* a connection's handles ended while busy */
	TAILQ_ENTRY(gw_uconn)	 hlink;		/* in phys->handles */
	TAILQ_ENTRY(gw_uconn)	 tlink;		/* in phys->tell, while in_tell */
	int			 in_tell;
};

static http_parser_settings uset;

static void uc_free(struct gw_uconn *);
static void u_fail(struct gw_uconn *, short);
static void h2_read(struct gw_uconn *);
static void h2_touch(void *);
static void h2_end(struct gw_uconn *);

size_t
gw_back_pending(const struct gw_uconn *uc)
{
	if (uc->phys)
		return evbuffer_get_length(gw_io_output(uc->phys->io)) + (uc->rq2 ?
		    gw_uh2_pending(uc->rq2) : 0);
	return evbuffer_get_length(gw_io_output(uc->io));
}

int
gw_back_connected(const struct gw_uconn *uc)
{
	return uc->phys ? uc->phys->connected : uc->connected;
}

int
gw_back_discarding(const struct gw_uconn *uc)
{
	return uc->discard;
}

void
gw_back_send(struct gw_uconn *uc, const void *a, size_t al, const void *b, size_t bl,
    const void *c, size_t cl)
{
	struct evbuffer *out;
	struct iovec iov[3] = { { (void *)a, al }, { (void *)b, bl }, { (void *)c, cl } };
	size_t done = 0, i;
	ssize_t n;

	if (uc->phys) {
		/* the request as HTTP/1.1 bytes, read back into HTTP/2 frames */
		if (uc->rq2 == NULL)
			return;
		if (gw_uh2_send(uc->rq2, a, al) == 0 && gw_uh2_send(uc->rq2, b, bl) == 0)
			(void)gw_uh2_send(uc->rq2, c, cl);
		/* refused or broken at once: told from the loop, not under the caller */
		if (gw_uh2_state(uc->rq2) != GW_UH2_BUSY)
			h2_touch(uc);
		return;
	}
	out = gw_io_output(uc->io);
	/* straight to the socket when nothing waits; TLS goes through gw_io's flush */
	if (uc->connected && !uc->tls && evbuffer_get_length(out) == 0) {
		/* send() for one piece, sendmsg() for more: both skip writev's VFS layers */
		if (bl == 0 && cl == 0)
			n = send(gw_io_fd(uc->io), a, al, MSG_NOSIGNAL | MSG_DONTWAIT);
		else {
			struct msghdr mh;

			memset(&mh, 0, sizeof(mh));
			mh.msg_iov = iov;
			mh.msg_iovlen = 3;
			n = sendmsg(gw_io_fd(uc->io), &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		if (n > 0)
			done = (size_t)n;
	}
	for (i = 0; i < 3; i++) {
		if (done >= iov[i].iov_len) {
			done -= iov[i].iov_len;
			continue;
		}
		evbuffer_add(out, (char *)iov[i].iov_base + done, iov[i].iov_len - done);
		done = 0;
	}
	/* TLS: sealed and sent now, before the other ready connections are served */
	if (uc->connected && uc->tls)
		gw_io_send_now(uc->io);
}

/* ---- the answer's parser ---- */

static int
u_begin(http_parser *p)
{
	struct gw_uconn *uc = p->data;

	hh_reset(&uc->hh);
	uc->got_head = 0;
	return uc->req ? 0 : -1;
}

static int
u_field(http_parser *p, const char *at, size_t len)
{
	struct gw_uconn *uc = p->data;

	return hh_field(&uc->hh, at, len);
}

static int
u_value(http_parser *p, const char *at, size_t len)
{
	struct gw_uconn *uc = p->data;

	return hh_value(&uc->hh, at, len);
}

static int
u_headers_done(http_parser *p)
{
	struct gw_uconn *uc = p->data;
	struct gw_back_head bh;

	/* 000-099 are no status (RFC 9110 15): a broken answer, 502 */
	if (uc->req == NULL || p->status_code < 100)
		return -1;
	bh.chunked = (p->flags & F_CHUNKED) != 0;
	bh.eos = 0;
	bh.ndrop = 0;
	bh.drop = uc->drop;
	if (p->status_code >= 200 || p->status_code == 101)
		bh.ndrop = gw_conn_named(&uc->hh, uc->drop);	/* RFC 9110 7.6.1, answers too */
	switch (uc->ops->head(uc->req, p->status_code, &uc->hh, &bh)) {
	case GW_BACK_INTERIM:
		return 0;	/* interim answers are not passed on; the final one follows */
	case GW_BACK_DISCARD:
		uc->got_head = 1;
		uc->discard = 1;	/* read and dropped; the retry follows its end */
		return 0;
	case GW_BACK_DISCARD_NOBODY:
		uc->got_head = 1;
		uc->discard = 1;
		return 1;
	case GW_BACK_UPGRADE:
		uc->got_head = 1;
		uc->tunnel = 1;
		return 0;
	case GW_BACK_PASS_NOBODY:
		uc->got_head = 1;
		return 1;
	case GW_BACK_PASS:
		break;
	}
	uc->got_head = 1;
	return 0;
}

static int
u_body(http_parser *p, const char *at, size_t len)
{
	struct gw_uconn *uc = p->data;

	if (uc->req == NULL || !uc->got_head)
		return uc->req ? 0 : -1;
	if (uc->discard)
		return 0;
	if (uc->ops->body(uc->req, at, len)) {
		uc->bp = 1;
		http_parser_pause(p, 1);
	}
	return 0;
}

static int
u_complete(http_parser *p)
{
	struct gw_uconn *uc = p->data;

	uc->hscan = GW_H1_SCAN_STATUS;	/* what follows is another answer's head */
	if (!uc->got_head)
		return 0;	/* the end of a 1xx */
	uc->msg_done = 1;
	http_parser_pause(p, 1);
	return 0;
}

/* ---- the pool ---- */

static void
uc_to_idle(struct gw_uconn *uc)
{
	struct gw_worker *w = uc->w;

	uc->req = NULL;
	uc->msg_done = 0;
	uc->got_head = 0;
	uc->bp = uc->paused = uc->resume = 0;
	hh_reset(&uc->hh);
	http_parser_init(&uc->p, HTTP_RESPONSE);
	uc->p.data = uc;
	uc->hscan = GW_H1_SCAN_STATUS;
	uc->in_idle = 1;
	TAILQ_INSERT_HEAD(&w->idle, uc, link);
	w->nidle++;
	gw_rs_cx_idle(w, &uc->rs, 1);	/* a queued request may take it */
	gw_io_set_timeouts(uc->io, &(struct timeval){ uc->idle_ms / 1000,
	    (uc->idle_ms % 1000) * 1000 }, NULL);
	gw_io_enable(uc->io, EV_READ);
}

void
gw_back_release(struct gw_uconn *uc, int keep)
{
	uc->discard = 0;
	if (uc->phys) {
		/* the request ends; its connection serves the others */
		h2_end(uc);
		return;
	}
	if (keep)
		uc_to_idle(uc);
	else {
		uc->req = NULL;
		uc_free(uc);
	}
}

void
gw_back_close(struct gw_uconn *uc)
{
	if (uc->phys) {
		h2_end(uc);	/* its stream is reset, the connection stays */
		return;
	}
	uc->req = NULL;
	uc_free(uc);
}

/*
 * The answer is complete: whether the connection may serve another request
 * (a retried answer's connection ignores the reuse limit, as before).
 */
static void
u_done(struct gw_uconn *uc)
{
	int reusable = http_should_keep_alive(&uc->p) &&
	    (uc->discard || uc->maxreq <= 0 || uc->nreq < (unsigned)uc->maxreq) &&
	    evbuffer_get_length(gw_io_input(uc->io)) == 0 && !uc->w->draining;

	uc->ops->done(uc->req, reusable);
}

/* Why a connection's TLS handshake failed (logged and counted), or NULL. */
static const char *
tls_failure(struct gw_uconn *uc, short what, char *reason, size_t len)
{
	int tf;

	if (uc->connected || (tf = gw_uptls_failure(uc->io, what, reason, len)) == 0)
		return NULL;
	log_warnx("gateway: upstream %s (%s): TLS handshake: %s", uc->key,
	    uc->cl_name ? uc->cl_name : "-", reason);
	if (uc->cl_name)
		gw_stats_cluster(&uc->w->stats, uc->cl_name,
		    tf == GW_UPTLS_FAIL_SAN ? GW_CS_SSL_FAIL_VERIFY_SAN :
		    tf == GW_UPTLS_FAIL_VERIFY ? GW_CS_SSL_FAIL_VERIFY_ERROR :
		    GW_CS_SSL_CONNECTION_ERROR);
	return reason;
}

static void
u_fail(struct gw_uconn *uc, short what)
{
	struct gw_stream *st = uc->req;
	char reason[256];

	if (st == NULL) {
		uc_free(uc);
		return;
	}
	uc->ops->fail(st, uc->connected ? GW_BACK_F_RESET : GW_BACK_F_CONNECT,
	    uc->reused && !uc->got_bytes, tls_failure(uc, what, reason, sizeof(reason)));
}

void
gw_back_timeout(struct gw_uconn *uc)
{
	if (uc->phys) {
		if (uc->req)
			uc->ops->fail(uc->req, uc->phys->connected ? GW_BACK_F_RESET :
			    GW_BACK_F_CONNECT, 0, NULL);
		return;
	}
	u_fail(uc, BEV_EVENT_TIMEOUT | BEV_EVENT_READING);
}

/* ---- tunnels ---- */

/*
 * The upstream said 101: from now on the connection pair is a byte pipe
 * (WebSocket), outliving reloads: it holds no listener, only its snapshot.
 */
void
gw_back_tunnel(struct gw_uconn *uc, struct gw_io *client)
{
	uc->peer = client;
	gw_io_set_timeouts(uc->io, &(struct timeval){ 3600, 0 }, NULL);
	gw_io_setwatermark(uc->io, EV_READ, 0, 0);
	gw_io_enable(uc->io, EV_READ | EV_WRITE);
}

void
gw_back_tunnel_writable(struct gw_uconn *uc)
{
	gw_io_enable(uc->io, EV_READ);
}

static void
u_feed(struct gw_uconn *uc)
{
	struct evbuffer *in = gw_io_input(uc->io);

	if (uc->in_feed)
		return;
	uc->in_feed = 1;
	for (;;) {
		struct evbuffer_iovec v;
		size_t n;
		enum http_errno e;

		if (uc->resume) {
			uc->resume = 0;
			uc->paused = 0;
			http_parser_pause(&uc->p, 0);
		}
		if (uc->msg_done && uc->tunnel) {
			uc->in_feed = 0;
			/* what followed the head belongs to the new protocol */
			uc->ops->upgraded(uc->req, uc->io, in);
			return;
		}
		if (uc->msg_done) {
			uc->in_feed = 0;
			u_done(uc);
			return;
		}
		if (uc->paused)
			break;
		if (evbuffer_get_length(in) == 0) {
			if (!uc->eof)
				break;
			/* a close-delimited body ends here */
			uc->in_feed = 0;
			http_parser_execute(&uc->p, &uset, NULL, 0);
			if (uc->msg_done) {
				uc->p.flags |= F_CONNECTION_CLOSE;
				u_done(uc);
			} else
				u_fail(uc, BEV_EVENT_EOF);
			return;
		}
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		uc->got_bytes = 1;
		if (uc->hscan != GW_H1_SCAN_DONE) {
			const char *why;
			long k = gw_h1_scan(&uc->hscan, v.iov_base, v.iov_len, &why);

			if (k < 0) {
				log_debug("gateway: upstream %s: %s", uc->key, why);
				e = HPE_INVALID_HEADER_TOKEN;
				goto bad;
			}
			/* the head alone: after a 1xx the next head is scanned too */
			if (uc->hscan == GW_H1_SCAN_DONE)
				v.iov_len = (size_t)k;
		}
		n = http_parser_execute(&uc->p, &uset, v.iov_base, v.iov_len);
		evbuffer_drain(in, n);
		e = HTTP_PARSER_ERRNO(&uc->p);
		if (e == HPE_PAUSED) {
			if (!uc->msg_done)
				uc->paused = 1;
			continue;
		}
bad:
		if (e != HPE_OK || uc->req == NULL) {
			uc->in_feed = 0;
			if (uc->req)
				uc->ops->fail(uc->req, GW_BACK_F_PROTOCOL, 0, NULL);
			else
				u_fail(uc, BEV_EVENT_ERROR);
			return;
		}
	}
	uc->in_feed = 0;
}

void
gw_back_resume(struct gw_uconn *uc)
{
	if (!uc->bp)
		return;
	uc->bp = 0;
	if (uc->phys) {
		if (uc->rq2)
			gw_uh2_resume(uc->rq2);	/* its stream's window comes back */
		return;
	}
	uc->resume = 1;
	u_feed(uc);
}

/* ---- HTTP/2 (gw_back_h2.c) ---- */

static enum gw_back_verdict
h2_head(void *arg, int status, const struct hhead *hh, int eos)
{
	struct gw_uconn *h = arg;
	struct gw_back_head bh = { 0, eos, 0, h->drop };
	enum gw_back_verdict v;

	if (h->req == NULL)
		return GW_BACK_DISCARD;
	v = h->ops->head(h->req, status, hh, &bh);
	if (v == GW_BACK_DISCARD || v == GW_BACK_DISCARD_NOBODY)
		h->discard = 1;	/* read and dropped; the retry follows its end */
	return v;
}

static int
h2_body(void *arg, const void *p, size_t len)
{
	struct gw_uconn *h = arg;

	if (h->req == NULL)
		return 0;
	if (h->ops->body(h->req, p, len)) {
		h->bp = 1;
		return 1;
	}
	return 0;
}

static void
h2_trailers(void *arg, const struct hhead *hh)
{
	struct gw_uconn *h = arg;

	if (h->req && h->ops->trailers)
		h->ops->trailers(h->req, hh);
}

/*
 * A request changed in a read or a send: it is told once the session
 * returned. Inside a read its stream is entered first (what its callbacks
 * pass to the client goes out at leave); a send's change waits for the
 * loop (kick), never under the stream that sent.
 */
static void
h2_touch(void *arg)
{
	struct gw_uconn *h = arg, *pc = h->phys;

	if (h->dead)
		return;
	h->got_bytes = 1;
	if (!h->touched) {
		h->touched = 1;
		if (pc->ntouch == pc->touchcap) {
			pc->touchcap = pc->touchcap ? pc->touchcap * 2 : 8;
			pc->touch = xreallocarray(pc->touch, pc->touchcap, sizeof(*pc->touch));
		}
		pc->touch[pc->ntouch++] = h;
	}
	if (pc->busy && h->tok == NULL && h->req) {
		h->tok = h->ops->enter(h->req);
		h->tok_ops = h->ops;
	} else if (!pc->busy)
		event_active(pc->kick, EV_TIMEOUT, 1);
}

static const struct gw_uh2_cb h2_cb = { h2_touch, h2_head, h2_body, h2_trailers };

/* The connection takes new requests, and is in the pool, while it has room. */
static void
h2_settle(struct gw_uconn *pc)
{
	struct gw_worker *w = pc->w;
	int usable, room;

	if (pc->busy)
		return;
	usable = !pc->closing && gw_uh2_reusable(pc->h2) && !w->draining &&
	    (pc->maxreq <= 0 || pc->nreq < (unsigned)pc->maxreq);
	if (!usable && pc->nh == 0) {
		uc_free(pc);
		return;
	}
	room = usable && gw_uh2_room(pc->h2, pc->maxstreams);
	if (room && !pc->in_idle) {
		pc->in_idle = 1;
		TAILQ_INSERT_HEAD(&w->idle, pc, link);
		w->nidle++;
		gw_rs_cx_idle(w, &pc->rs, 1);	/* a queued request may take it */
	} else if (!room && pc->in_idle) {
		pc->in_idle = 0;
		TAILQ_REMOVE(&w->idle, pc, link);
		w->nidle--;
		gw_rs_cx_idle(w, &pc->rs, 0);
	}
	/* no request: the pool's idle timeout; else the requests' own timers */
	if (pc->connected)
		gw_io_set_timeouts(pc->io, pc->nh ? NULL : &(struct timeval){ pc->idle_ms / 1000,
		    (pc->idle_ms % 1000) * 1000 }, NULL);
}

static void
h2_handle_free(struct gw_uconn *h)
{
	struct gw_uconn *pc = h->phys;

	gw_uh2_close(h->rq2);
	TAILQ_REMOVE(&pc->handles, h, hlink);
	if (h->in_tell)
		TAILQ_REMOVE(&pc->tell, h, tlink);
	pc->nh--;
	free(h);
}

/* Frees the handles that ended while the connection was busy. */
static void
h2_reap(struct gw_uconn *pc)
{
	struct gw_uconn *h, *n;

	if (pc->busy)
		return;
	for (h = TAILQ_FIRST(&pc->handles); pc->ndead && h; h = n) {
		n = TAILQ_NEXT(h, hlink);
		if (h->dead) {
			pc->ndead--;
			h2_handle_free(h);
		}
	}
	h2_settle(pc);
}

/* A request's end: its stream is reset unless it finished both ways. */
static void
h2_end(struct gw_uconn *h)
{
	struct gw_uconn *pc = h->phys;

	if (h->dead)
		return;
	h->req = NULL;
	h->dead = 1;
	if (pc->busy || h->touched) {
		pc->ndead++;
		return;		/* reaped when the connection is done telling */
	}
	h2_handle_free(h);
	h2_settle(pc);
}

/* Tells a touched request how it stands (its stream entered). */
static void
h2_tell(struct gw_uconn *pc, struct gw_uconn *h)
{
	if (h->dead || h->req == NULL)
		return;
	if (h->tok == NULL) {
		h->tok = h->ops->enter(h->req);
		h->tok_ops = h->ops;
	}
	switch (gw_uh2_state(h->rq2)) {
	case GW_UH2_DONE:
		h->ops->done(h->req, gw_uh2_clean(h->rq2) && gw_uh2_reusable(pc->h2) &&
		    !pc->w->draining);
		break;
	case GW_UH2_REFUSED:
		h->ops->fail(h->req, GW_BACK_F_REFUSED, 0, NULL);
		break;
	case GW_UH2_FAILED:
		h->ops->fail(h->req, pc->connected ? GW_BACK_F_RESET : GW_BACK_F_CONNECT,
		    h->reused && !h->got_bytes, NULL);
		break;
	case GW_UH2_BAD:
		h->ops->fail(h->req, GW_BACK_F_PROTOCOL, 0, NULL);
		break;
	case GW_UH2_BUSY:
		break;
	}
}

/*
 * Tells each touched request how it stands, then leaves their streams; a
 * request touched while that ran (a stream that sent more) is told too.
 */
static void
h2_report(struct gw_uconn *pc)
{
	size_t told = 0, left = 0;

	pc->busy++;
	while (told < pc->ntouch) {
		while (told < pc->ntouch)
			h2_tell(pc, pc->touch[told++]);
		while (left < pc->ntouch) {
			struct gw_uconn *h = pc->touch[left++];
			void *tok = h->tok;

			/* touched again from here on: listed again, told again */
			h->touched = 0;
			h->tok = NULL;
			if (tok)
				h->tok_ops->leave(tok);
		}
	}
	pc->ntouch = 0;
	pc->busy--;
	h2_reap(pc);
}

static void
h2_kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	h2_report(arg);
}

/* Reads the session; each request's end or failure is told once it returned. */
static void
h2_read(struct gw_uconn *pc)
{
	struct gw_uconn *h;
	int broken;

	pc->busy++;
	broken = gw_uh2_input(pc->h2) == -1;
	if (broken) {
		pc->closing = 1;
		TAILQ_FOREACH(h, &pc->handles, hlink)
			h2_touch(h);
	}
	pc->busy--;
	h2_report(pc);
}

/* The connection closed, timed out or failed to connect: every request with it. */
static void
h2_broken(struct gw_uconn *pc, short what)
{
	struct gw_uconn *h;
	char reason[256];
	const char *tls;

	pc->closing = 1;
	tls = tls_failure(pc, what, reason, sizeof(reason));
	pc->busy++;
	TAILQ_FOREACH(h, &pc->handles, hlink) {
		const struct gw_back_ops *ops = h->ops;
		void *tok;

		if (h->dead || h->req == NULL)
			continue;
		tok = ops->enter(h->req);
		ops->fail(h->req, pc->connected ? GW_BACK_F_RESET : GW_BACK_F_CONNECT,
		    h->reused && !h->got_bytes, tls);
		ops->leave(tok);
	}
	pc->busy--;
	h2_reap(pc);
}

/* A new request's handle on connection pc. */
static struct gw_uconn *
h2_handle_new(struct gw_uconn *pc)
{
	struct gw_uconn *h = xcalloc(1, sizeof(*h));

	h->w = pc->w;
	h->phys = pc;
	memcpy(h->key, pc->key, sizeof(h->key));
	h->khash = pc->khash;
	h->tls = pc->tls;
	TAILQ_INSERT_TAIL(&pc->handles, h, hlink);
	TAILQ_INSERT_TAIL(&pc->tell, h, tlink);
	h->in_tell = 1;
	pc->nh++;
	return h;
}

/* ---- events ---- */

static void
u_readcb(struct gw_io *io, void *arg)
{
	struct gw_uconn *uc = arg;
	const struct gw_back_ops *ops;
	void *tok;

	if (uc->in_idle && uc->h2 == NULL) {
		uc_free(uc);	/* an idle upstream must not talk */
		return;
	}
	if (uc->peer) {
		gw_io_pump(io, uc->peer, GW_HWM);
		return;
	}
	if (uc->h2) {
		if (evbuffer_get_length(gw_io_input(uc->io)))
			uc->got_bytes = 1;
		h2_read(uc);
		return;
	}
	ops = uc->ops;	/* uc may be gone after u_feed */
	tok = uc->req ? ops->enter(uc->req) : NULL;
	u_feed(uc);
	if (tok)
		ops->leave(tok);
}

static void
u_writecb(struct gw_io *io, void *arg)
{
	struct gw_uconn *uc = arg;

	(void)io;
	if (uc->peer) {
		gw_io_enable(uc->peer, EV_READ);
		return;
	}
	if (uc->h2) {
		struct gw_uconn *h, *n;

		gw_uh2_flush(uc->h2);	/* more of the bodies, as the windows allow */
		uc->busy++;
		/* told: each stream whose body went out or waits for none (a
		 * stream holding its client for room is told so, as over HTTP/1.1);
		 * a stream whose whole request went out leaves the list, so a
		 * write walks only the streams still sending */
		for (h = TAILQ_FIRST(&uc->tell); h; h = n) {
			n = TAILQ_NEXT(h, tlink);
			if (h->dead || h->req == NULL || h->rq2 == NULL)
				continue;
			if (gw_uh2_tell(h->rq2))
				h->ops->drained(h->req);
			if (gw_uh2_settled(h->rq2)) {
				TAILQ_REMOVE(&uc->tell, h, tlink);
				h->in_tell = 0;
			}
		}
		uc->busy--;
		h2_reap(uc);
		return;
	}
	if (uc->req)
		uc->ops->drained(uc->req);
}

static void
u_eventcb(struct gw_io *io, short what, void *arg)
{
	struct gw_uconn *uc = arg;

	if ((what & BEV_EVENT_CONNECTED) && uc->h2) {
		struct gw_uconn *h;

		uc->connected = 1;
		if (uc->tls && uc->cl_name) {
			gw_stats_cluster(&uc->w->stats, uc->cl_name, GW_CS_SSL_HANDSHAKE);
			if (gw_uptls_reused(uc->io))
				gw_stats_cluster(&uc->w->stats, uc->cl_name, GW_CS_SSL_SESSION_REUSED);
		}
		gw_io_set_timeouts(io, NULL, NULL);
		uc->busy++;
		TAILQ_FOREACH(h, &uc->handles, hlink)
			if (!h->dead && h->req)
				h->ops->connected(h->req);
		uc->busy--;
		h2_reap(uc);
		return;
	}
	if (uc->h2) {
		h2_broken(uc, what);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		uc->connected = 1;
		if (uc->tls && uc->req && uc->cl_name) {
			gw_stats_cluster(&uc->w->stats, uc->cl_name, GW_CS_SSL_HANDSHAKE);
			if (gw_uptls_reused(uc->io))
				gw_stats_cluster(&uc->w->stats, uc->cl_name, GW_CS_SSL_SESSION_REUSED);
		}
		/* the connect timeout is over; the route and per-try timeouts are the request's */
		gw_io_set_timeouts(io, NULL, NULL);
		if (uc->req)
			uc->ops->connected(uc->req);
		return;
	}
	if (uc->in_idle) {
		uc_free(uc);	/* closed or timed out in the pool */
		return;
	}
	if (uc->req && uc->peer) {
		/* the upstream closed the pipe: let the client have what is left, then close */
		if (evbuffer_get_length(gw_io_input(uc->io)))
			gw_io_write_buffer(uc->peer, gw_io_input(uc->io));
		uc->peer = NULL;
		uc->ops->tunnel_closed(uc->req);
		return;
	}
	if ((what & BEV_EVENT_EOF) && uc->req && uc->got_bytes) {
		const struct gw_back_ops *ops = uc->ops;
		void *tok = ops->enter(uc->req);

		/* bytes may wait behind back-pressure: u_feed ends the message */
		uc->eof = 1;
		u_feed(uc);
		ops->leave(tok);
		return;
	}
	u_fail(uc, what);
}

static void
uc_free(struct gw_uconn *uc)
{
	struct gw_uconn *h;

	if (uc->phys) {
		h2_end(uc);
		return;
	}
	/* a connection with requests left (the worker stops): they go with it */
	while ((h = TAILQ_FIRST(&uc->handles)) != NULL)
		h2_handle_free(h);
	gw_uh2_free(uc->h2);
	if (uc->kick)
		event_free(uc->kick);
	free(uc->touch);
	if (uc->in_idle) {
		TAILQ_REMOVE(&uc->w->idle, uc, link);
		uc->w->nidle--;
	}
	hh_free(&uc->hh);
	gw_io_free(uc->io);
	__atomic_sub_fetch(&uc->w->stats.upstream_cx_active, 1, __ATOMIC_RELAXED);
	gw_rs_cx_close(uc->w, &uc->rs, uc->connected);	/* a queued request may go */
	free(uc);
}

void
gw_back_idle_close_all(struct gw_worker *w)
{
	struct gw_uconn *uc;

	while ((uc = TAILQ_FIRST(&w->idle)) != NULL)
		uc_free(uc);
}

void
gw_back_sockaddr(const struct gw_endpoint *e, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (e->addr.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(e->port);
		memcpy(&s4->sin_addr, e->addr.a, 4);
		*len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(e->port);
		memcpy(&s6->sin6_addr, e->addr.a, 16);
		*len = sizeof(*s6);
	}
}

/* ---- attaching a connection ---- */

void
gw_back_h2_alpn(struct gw_io *io, const struct gw_uptls_req *tr)
{
	/* Istio's ALPN for HTTP/2 clusters: istio-h2 first under ISTIO_MUTUAL
	 * (the istio.alpn filter), h2 alone for SIMPLE and MUTUAL */
	static const unsigned char istio[] = "\x08istio-h2\x05istio\x02h2", h2[] = "\x02h2";

	if (gw_io_ssl(io) == NULL)
		return;
	if (tr->pick.mode == GW_UPTLS_ISTIO_MUTUAL)
		SSL_set_alpn_protos(gw_io_ssl(io), istio, sizeof(istio) - 1);
	else
		SSL_set_alpn_protos(gw_io_ssl(io), h2, sizeof(h2) - 1);
}

int
gw_back_prepare(struct gw_back_prep *bp, struct gw_worker *w, struct gw_snap *s,
    const struct gw_cluster *c, const struct gw_endpoint *e, const struct vg_buf *uphead,
    int h2, const uint8_t *pp, size_t ppl, char *err, size_t errlen)
{
	struct gw_uconn *uc;
	size_t kl;

	if (uset.on_message_begin == NULL) {
		/* settings are constant: first use fills them */
		uset.on_message_begin = u_begin;
		uset.on_header_field = u_field;
		uset.on_header_value = u_value;
		uset.on_headers_complete = u_headers_done;
		uset.on_body = u_body;
		uset.on_message_complete = u_complete;
	}
	bp->w = w;
	bp->idle = NULL;
	if (gw_uptls_prepare(w->ctx, s, c, e, uphead->s, uphead->len, &bp->tr, err, errlen) == -1)
		return -1;
	/* one pool per TLS identity: plain and TLS to one ip:port never mix */
	if (bp->tr.id)
		snprintf(bp->key, sizeof(bp->key), "%s|%u|t%016llx", e->ip, e->port,
		    (unsigned long long)bp->tr.id);
	else
		snprintf(bp->key, sizeof(bp->key), "%s|%u", e->ip, e->port);
	/* HTTP/2 and HTTP/1.1 connections to one endpoint never mix either */
	bp->h2 = h2;
	if (h2 && (kl = strlen(bp->key)) + 4 < sizeof(bp->key))
		memcpy(bp->key + kl, "|h2", 4);
	/* proxyProtocol: a pool per header, that is per client connection */
	bp->ppl = ppl <= sizeof(bp->pp) ? ppl : 0;
	if (bp->ppl) {
		memcpy(bp->pp, pp, bp->ppl);
		kl = strlen(bp->key);
		snprintf(bp->key + kl, sizeof(bp->key) - kl, "|p%016llx",
		    (unsigned long long)hash_bytes(HASH_INIT, pp, ppl));
	}
	bp->khash = hash_str(HASH_INIT, bp->key);
	TAILQ_FOREACH(uc, &w->idle, link)
		if (uc->khash == bp->khash && strcmp(uc->key, bp->key) == 0 &&
		    uc->rs.cl == s->crt[c->id])
			break;
	bp->idle = uc;
	return 0;
}

void
gw_back_prep_done(struct gw_back_prep *bp)
{
	gw_uptls_done(&bp->tr);
}

struct gw_uconn *
gw_back_take_idle(struct gw_back_prep *bp)
{
	struct gw_worker *w = bp->w;
	struct gw_uconn *uc = bp->idle;

	if (uc->h2) {
		/* a request more on the connection; it leaves the pool when full */
		struct gw_uconn *h = h2_handle_new(uc);

		h->reused = 1;
		__atomic_add_fetch(&w->stats.upstream_reuse, 1, __ATOMIC_RELAXED);
		return h;
	}
	TAILQ_REMOVE(&w->idle, uc, link);
	w->nidle--;
	uc->in_idle = 0;
	gw_rs_cx_idle(w, &uc->rs, 0);
	uc->reused = 1;
	uc->got_bytes = 0;
	__atomic_add_fetch(&w->stats.upstream_reuse, 1, __ATOMIC_RELAXED);
	return uc;
}

struct gw_uconn *
gw_back_connect(struct gw_back_prep *bp, const struct gw_rs_req *rq, const struct gw_cluster *c,
    const struct gw_endpoint *e)
{
	struct gw_worker *w = bp->w;
	struct gw_uconn *uc;
	int one = 1, err;
	evutil_socket_t fd;
	int64_t t = c->connect_timeout_ms;
	struct timeval tv = { t / 1000, (t % 1000) * 1000 };

	uc = xcalloc(1, sizeof(*uc));
	uc->w = w;
	TAILQ_INIT(&uc->handles);
	TAILQ_INIT(&uc->tell);
	snprintf(uc->key, sizeof(uc->key), "%s", bp->key);
	uc->khash = bp->khash;
	gw_back_sockaddr(e, &uc->sa, &uc->salen);
	uc->tls = bp->tr.ctx != NULL;
	uc->io = bp->tr.ctx ? gw_uptls_io_new(w, w->base, &bp->tr, bp->key) :
	    gw_io_new(w->base, -1, NULL, GW_IO_PLAIN);
	if (uc->io == NULL) {
		free(uc);
		errno = ENOMEM;
		return NULL;
	}
	__atomic_add_fetch(&w->stats.upstream_cx_total, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->stats.upstream_cx_active, 1, __ATOMIC_RELAXED);
	if (bp->h2)
		gw_back_h2_alpn(uc->io, &bp->tr);
	if (bp->ppl)
		gw_io_set_preamble(uc->io, bp->pp, bp->ppl);	/* before TLS, as Envoy */
	/* no callbacks yet: a synchronous failure must not free uc under us */
	if (gw_io_connect(uc->io, (struct sockaddr *)&uc->sa, uc->salen) == -1) {
		err = errno;
		uc_free(uc);
		errno = err;
		return NULL;
	}
	gw_rs_cx_open(w, &uc->rs, rq);
	fd = gw_io_fd(uc->io);
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	gw_rs_keepalive(fd, c);	/* tcpKeepalive */
	if (bp->h2 && (uc->h2 = gw_uh2_new(uc->io, uc->tls)) == NULL) {
		uc_free(uc);
		errno = ENOMEM;
		return NULL;
	}
	if (uc->h2)
		uc->kick = evtimer_new(w->base, h2_kick_cb, uc);
	http_parser_init(&uc->p, HTTP_RESPONSE);
	uc->p.data = uc;
	uc->hscan = GW_H1_SCAN_STATUS;
	gw_io_setcb(uc->io, u_readcb, u_writecb, u_eventcb, uc);
	gw_io_setwatermark(uc->io, EV_READ, 0, GW_HWM);
	gw_io_setwatermark(uc->io, EV_WRITE, GW_LWM, 0);
	/* TLS: the handshake waits on reads; Envoy's connect timeout covers it too */
	gw_io_set_timeouts(uc->io, uc->tls ? &tv : NULL, &tv);
	gw_io_enable(uc->io, EV_READ | EV_WRITE);
	/* HTTP/2: the stream holds a request's handle; the connection is shared */
	return uc->h2 ? h2_handle_new(uc) : uc;
}

void
gw_back_attach(struct gw_uconn *uc, struct gw_stream *st, const struct gw_back_ops *ops,
    const struct gw_cluster *c)
{
	if (uc->phys) {
		struct gw_uconn *pc = uc->phys;

		/* the connection's limits are the cluster's; each request counts */
		pc->maxreq = c->max_requests_per_connection;
		pc->maxstreams = c->max_concurrent_streams;
		pc->idle_ms = c->idle_timeout_ms > 0 ? c->idle_timeout_ms : 3600000;
		pc->cl_name = c->name;
		pc->nreq++;
		uc->cl_name = c->name;
		uc->req = st;
		uc->ops = ops;
		uc->rq2 = gw_uh2_open(pc->h2, &h2_cb, uc);
		h2_settle(pc);
		return;
	}
	uc->maxreq = c->max_requests_per_connection;
	uc->idle_ms = c->idle_timeout_ms > 0 ? c->idle_timeout_ms : 3600000;
	uc->cl_name = c->name;
	uc->req = st;
	uc->ops = ops;
	uc->nreq++;
	if (uc->reused)
		gw_io_set_timeouts(uc->io, NULL, NULL);	/* the pool's idle timeout */
}
