/*
 * Upstream HTTP/2 (RFC 9113), libnghttp2 as the codec, under the back's
 * HTTP/1.1 interface (gw-back-h2.h): the stream writes its request as it
 * writes it to an HTTP/1.1 upstream; libhttp-parser reads those bytes back
 * (they are ours: gw_uphead.c's head, the body framed by gw_stream.c) and
 * each request becomes one HTTP/2 stream of the connection's session, which
 * carries many at once. The answer is reported through the request's
 * callbacks; its end or failure is a state the connection reads once the
 * codec returned, never from inside a codec callback. Each stream's window
 * is given back only as its client takes the answer (no automatic window
 * updates), so a slow client holds its own stream, never the connection's
 * other streams.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <http_parser.h>
#include <nghttp2/nghttp2.h>

#include "gw-back-h2.h"
#include "gw-hdr.h"
#include "gw-io.h"
#include "gw-snap-t.h"

/*
 * The connection's window is Envoy's (24 MiB, given back at once); a
 * stream's is 1 MiB, not Envoy's 16: it bounds what the gateway holds for a
 * client that stops reading, one stream among up to a thousand a client
 * may open, and 1 MiB still covers a data centre's bandwidth-delay product.
 */
#define UH2_STREAM_WINDOW	(1024 * 1024)
#define UH2_CONN_WINDOW		(24 * 1024 * 1024)

struct gw_uh2_rq {
	struct gw_uh2		*u;		/* NULL once the session is gone */
	const struct gw_uh2_cb	*cb;
	void			*arg;
	TAILQ_ENTRY(gw_uh2_rq)	 link;
	/* the request, read back from the stream's bytes */
	http_parser		 p;
	struct hhead		 rq;
	int			 rq_sent, rq_eof;
	struct evbuffer		*body;		/* waiting for the upstream's window */
	int32_t			 id;		/* its stream, -1: not submitted */
	/* the answer */
	struct hhead		 hh, th;	/* head and trailers */
	int			 status, got_final, nobody, discard;
	enum gw_uh2_state	 state;
	int			 held, drained;
	int			 settled;	/* told once with all the request gone */
	size_t			 unconsumed;	/* taken in while held: its window waits */
};

struct gw_uh2 {
	nghttp2_session		*s;
	struct gw_io		*io;
	int			 tls;
	int			 goaway, broken;
	unsigned		 nopen;
	TAILQ_HEAD(, gw_uh2_rq)	 rqs;
};

static http_parser_settings rqset;

/* The request on stream id; told to its connection first (it may act after the read). */
static struct gw_uh2_rq *
rq_of(struct gw_uh2 *u, int32_t id)
{
	struct gw_uh2_rq *r = nghttp2_session_get_stream_user_data(u->s, id);

	if (r && r->cb->touch)
		r->cb->touch(r->arg);
	return r;
}

/* ---- the request ---- */

static int
rq_url(http_parser *p, const char *at, size_t len)
{
	struct gw_uh2_rq *r = p->data;

	if (!hh_room(&r->rq, len))
		return -1;
	buf_append(&r->rq.b, at, len);
	r->rq.url_l += (uint32_t)len;
	return 0;
}

static int
rq_field(http_parser *p, const char *at, size_t len)
{
	return hh_field(&((struct gw_uh2_rq *)p->data)->rq, at, len);
}

static int
rq_value(http_parser *p, const char *at, size_t len)
{
	return hh_value(&((struct gw_uh2_rq *)p->data)->rq, at, len);
}

static ssize_t
rq_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
    nghttp2_data_source *src, void *arg)
{
	struct gw_uh2_rq *r = src->ptr;
	int n;

	(void)s;
	(void)id;
	(void)arg;
	n = evbuffer_remove(r->body, buf, len);
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (n > 0)
		r->drained = 1;
	if (evbuffer_get_length(r->body) == 0) {
		if (r->rq_eof)
			*flags |= NGHTTP2_DATA_FLAG_EOF;
		else if (n == 0)
			return NGHTTP2_ERR_DEFERRED;
	}
	return n;
}

/* Fields that name HTTP/1.1's connection have no place in HTTP/2 (RFC 9113 8.2.2). */
static int
rq_skip(const struct hhead *hh, size_t i)
{
	return HNAME_IS(hh, i, "connection") || HNAME_IS(hh, i, "keep-alive") ||
	    HNAME_IS(hh, i, "proxy-connection") || HNAME_IS(hh, i, "transfer-encoding") ||
	    HNAME_IS(hh, i, "upgrade") || HNAME_IS(hh, i, "te") || HNAME_IS(hh, i, "host") ||
	    HNAME_IS(hh, i, "http2-settings");
}

static int
rq_headers_done(http_parser *p)
{
	struct gw_uh2_rq *r = p->data;
	struct gw_uh2 *u = r->u;
	struct hhead *hh = &r->rq;
	nghttp2_nv *nv;
	nghttp2_data_provider dp;
	char *lower, *q;
	const char *m = http_method_str((enum http_method)p->method), *host;
	size_t i, k = 0, nlen = 0, hl = 0;
	int has_body = (p->flags & F_CHUNKED) ||
	    (p->content_length > 0 && p->content_length != ULLONG_MAX);

	if (u == NULL || u->goaway || u->broken) {
		/* never sent: safe to try elsewhere */
		r->state = GW_UH2_REFUSED;
		return -1;
	}
	for (i = 0; i < hh->n; i++)
		nlen += hh->h[i].nl;
	nv = xcalloc(hh->n + 5, sizeof(*nv));
	q = lower = xmalloc(nlen + 1);
	host = gw_hdr_get(hh, "host", &hl);
#define NV(n, nl, v, vl) (nghttp2_nv){ (uint8_t *)(n), (uint8_t *)(v), (nl), (vl), NGHTTP2_NV_FLAG_NONE }
	nv[k++] = NV(":method", 7, m, strlen(m));
	nv[k++] = NV(":scheme", 7, u->tls ? "https" : "http", u->tls ? 5 : 4);
	nv[k++] = NV(":authority", 10, host ? host : "", hl);
	nv[k++] = NV(":path", 5, hh->b.s, hh->url_l);
	for (i = 0; i < hh->n; i++) {
		size_t j;

		if (rq_skip(hh, i))
			continue;
		for (j = 0; j < hh->h[i].nl; j++)
			q[j] = (char)tolower((unsigned char)HN(hh, i)[j]);
		nv[k++] = NV(q, hh->h[i].nl, HV(hh, i), hh->h[i].vl);
		q += hh->h[i].nl;
	}
	/* gRPC asks for it; HTTP/1.1's rules took it off as hop-by-hop */
	if (gw_is_grpc(hh))
		nv[k++] = NV("te", 2, "trailers", 8);
#undef NV
	dp.source.ptr = r;
	dp.read_callback = rq_read;
	r->id = nghttp2_submit_request(u->s, NULL, nv, k, has_body ? &dp : NULL, r);
	r->rq_sent = 1;
	free(lower);
	free(nv);
	if (r->id < 0) {
		/* no stream id left, or the session is closing: never processed */
		r->state = GW_UH2_REFUSED;
		return -1;
	}
	return 0;
}

static int
rq_body(http_parser *p, const char *at, size_t len)
{
	struct gw_uh2_rq *r = p->data;

	evbuffer_add(r->body, at, len);
	if (r->id > 0 && r->u)
		(void)nghttp2_session_resume_data(r->u->s, r->id);
	return 0;
}

static int
rq_complete(http_parser *p)
{
	struct gw_uh2_rq *r = p->data;

	r->rq_eof = 1;
	if (r->id > 0 && r->u)
		(void)nghttp2_session_resume_data(r->u->s, r->id);
	return 0;
}

/* ---- the answer ---- */

static int
cb_begin_headers(nghttp2_session *s, const nghttp2_frame *fr, void *arg)
{
	struct gw_uh2_rq *r;

	(void)s;
	if (fr->hd.type != NGHTTP2_HEADERS || (r = rq_of(arg, fr->hd.stream_id)) == NULL)
		return 0;
	if (r->got_final)
		hh_reset(&r->th);
	else
		hh_reset(&r->hh);
	return 0;
}

static int
cb_header(nghttp2_session *s, const nghttp2_frame *fr, const uint8_t *name, size_t nl,
    const uint8_t *value, size_t vl, uint8_t flags, void *arg)
{
	struct gw_uh2_rq *r;
	struct hhead *hh;

	(void)s;
	(void)flags;
	if (fr->hd.type != NGHTTP2_HEADERS || (r = rq_of(arg, fr->hd.stream_id)) == NULL)
		return 0;
	hh = r->got_final ? &r->th : &r->hh;
	if (nl > 0 && name[0] == ':') {
		/* nghttp2 took three digits; 000-099 are no status (RFC 9110 15) */
		if (nl == 7 && memcmp(name, ":status", 7) == 0 && vl == 3)
			r->status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
		return 0;
	}
	if (hh_field(hh, (const char *)name, nl) == -1 || hh_value(hh, (const char *)value, vl) == -1)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;	/* too large: the stream is reset */
	return 0;
}

static int
cb_frame_recv(nghttp2_session *s, const nghttp2_frame *fr, void *arg)
{
	struct gw_uh2 *u = arg;
	struct gw_uh2_rq *r;

	(void)s;
	if (fr->hd.type == NGHTTP2_GOAWAY) {
		u->goaway = 1;
		return 0;
	}
	if (fr->hd.stream_id == 0 || (r = rq_of(u, fr->hd.stream_id)) == NULL ||
	    r->state != GW_UH2_BUSY)
		return 0;
	if (fr->hd.type == NGHTTP2_HEADERS) {
		if (!r->got_final && (r->status < 100 || r->status > 999)) {
			r->state = GW_UH2_BAD;	/* 502, as a broken HTTP/1.1 answer */
			return 0;
		}
		if (!r->got_final) {
			if (r->status < 200) {
				/* 1xx: not passed on (the stream says INTERIM), the final head follows */
				(void)r->cb->head(r->arg, r->status, &r->hh, 0);
				return 0;
			}
			r->got_final = 1;
			switch (r->cb->head(r->arg, r->status, &r->hh,
			    (fr->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0)) {
			case GW_BACK_DISCARD:
				r->discard = 1;
				break;
			case GW_BACK_DISCARD_NOBODY:
				r->discard = r->nobody = 1;
				break;
			case GW_BACK_PASS_NOBODY:
				r->nobody = 1;
				break;
			case GW_BACK_UPGRADE:
			case GW_BACK_INTERIM:
				r->state = GW_UH2_BAD;
				return 0;
			case GW_BACK_PASS:
				break;
			}
		} else if (!r->discard && r->cb->trailers)
			r->cb->trailers(r->arg, &r->th);
	}
	if ((fr->hd.flags & NGHTTP2_FLAG_END_STREAM) && r->state == GW_UH2_BUSY)
		r->state = GW_UH2_DONE;
	return 0;
}

static int
cb_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *d, size_t len,
    void *arg)
{
	struct gw_uh2_rq *r = rq_of(arg, id);

	(void)flags;
	/* the connection's window always comes back: a held stream holds only its own */
	(void)nghttp2_session_consume_connection(s, len);
	if (r == NULL)
		return 0;
	if (r->state == GW_UH2_BUSY && !r->discard && !r->nobody && r->got_final &&
	    r->cb->body(r->arg, d, len))
		r->held = 1;
	if (r->held)
		r->unconsumed += len;
	else
		(void)nghttp2_session_consume_stream(s, id, len);
	return 0;
}

static int
cb_stream_close(nghttp2_session *s, int32_t id, uint32_t err, void *arg)
{
	struct gw_uh2_rq *r = rq_of(arg, id);

	(void)s;
	if (r == NULL || r->state != GW_UH2_BUSY)
		return 0;
	/* closed before its answer ended: never processed (RFC 9113 8.7), or reset */
	r->state = err == NGHTTP2_REFUSED_STREAM && !r->got_final ? GW_UH2_REFUSED : GW_UH2_FAILED;
	return 0;
}

/* ---- the session ---- */

static nghttp2_session_callbacks *cbs;
static nghttp2_option *opts;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
init(void)
{
	rqset.on_url = rq_url;
	rqset.on_header_field = rq_field;
	rqset.on_header_value = rq_value;
	rqset.on_headers_complete = rq_headers_done;
	rqset.on_body = rq_body;
	rqset.on_message_complete = rq_complete;
	nghttp2_session_callbacks_new(&cbs);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, cb_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, cb_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cb_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cb_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cb_stream_close);
	nghttp2_option_new(&opts);
	nghttp2_option_set_max_outbound_ack(opts, 1000);
	nghttp2_option_set_max_continuations(opts, 8);
	nghttp2_option_set_no_auto_window_update(opts, 1);
}

struct gw_uh2 *
gw_uh2_new(struct gw_io *io, int tls)
{
	struct gw_uh2 *u;
	nghttp2_settings_entry iv[2] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, UH2_STREAM_WINDOW },
	};

	pthread_once(&once, init);
	u = xcalloc(1, sizeof(*u));
	u->io = io;
	u->tls = tls;
	TAILQ_INIT(&u->rqs);
	if (nghttp2_session_client_new2(&u->s, cbs, u, opts) != 0) {
		free(u);
		return NULL;
	}
	(void)nghttp2_submit_settings(u->s, NGHTTP2_FLAG_NONE, iv, 2);
	(void)nghttp2_session_set_local_window_size(u->s, NGHTTP2_FLAG_NONE, 0, UH2_CONN_WINDOW);
	return u;
}

void
gw_uh2_free(struct gw_uh2 *u)
{
	struct gw_uh2_rq *r;

	if (u == NULL)
		return;
	/* requests still open outlive the session, broken */
	while ((r = TAILQ_FIRST(&u->rqs)) != NULL) {
		TAILQ_REMOVE(&u->rqs, r, link);
		r->u = NULL;
		if (r->state == GW_UH2_BUSY)
			r->state = GW_UH2_FAILED;
	}
	nghttp2_session_del(u->s);
	free(u);
}

struct gw_uh2_rq *
gw_uh2_open(struct gw_uh2 *u, const struct gw_uh2_cb *cb, void *arg)
{
	struct gw_uh2_rq *r = xcalloc(1, sizeof(*r));

	r->u = u;
	r->cb = cb;
	r->arg = arg;
	http_parser_init(&r->p, HTTP_REQUEST);
	r->p.data = r;
	r->body = evbuffer_new();
	r->id = -1;
	r->state = GW_UH2_BUSY;
	TAILQ_INSERT_TAIL(&u->rqs, r, link);
	u->nopen++;
	return r;
}

void
gw_uh2_close(struct gw_uh2_rq *r)
{
	struct gw_uh2 *u;

	if (r == NULL)
		return;
	if ((u = r->u) != NULL) {
		TAILQ_REMOVE(&u->rqs, r, link);
		u->nopen--;
		if (r->id > 0) {
			/* its stream ends here: reset unless both sides ended it */
			if (nghttp2_session_find_stream(u->s, r->id) != NULL &&
			    (r->state != GW_UH2_DONE || !r->rq_eof))
				(void)nghttp2_submit_rst_stream(u->s, NGHTTP2_FLAG_NONE, r->id,
				    NGHTTP2_CANCEL);
			(void)nghttp2_session_set_stream_user_data(u->s, r->id, NULL);
		}
	}
	hh_free(&r->rq);
	hh_free(&r->hh);
	hh_free(&r->th);
	evbuffer_free(r->body);
	free(r);
}

int
gw_uh2_send(struct gw_uh2_rq *r, const void *d, size_t len)
{
	size_t n;

	if (len == 0)
		return 0;
	n = http_parser_execute(&r->p, &rqset, d, len);
	if (HTTP_PARSER_ERRNO(&r->p) != HPE_OK || n != len) {
		if (r->state == GW_UH2_BUSY)
			r->state = GW_UH2_BAD;
		return -1;
	}
	if (r->u)
		gw_uh2_flush(r->u);
	return 0;
}

/* The session broke: every request still under way failed with it. */
static void
broke(struct gw_uh2 *u)
{
	struct gw_uh2_rq *r;

	u->broken = 1;
	TAILQ_FOREACH(r, &u->rqs, link)
		if (r->state == GW_UH2_BUSY) {
			if (r->cb->touch)
				r->cb->touch(r->arg);
			/* a request never submitted was never processed */
			r->state = r->id < 0 ? GW_UH2_REFUSED : GW_UH2_FAILED;
		}
}

void
gw_uh2_flush(struct gw_uh2 *u)
{
	struct evbuffer *out = gw_io_output(u->io);

	while (!u->broken && evbuffer_get_length(out) < GW_HWM) {
		const uint8_t *d;
		ssize_t n = nghttp2_session_mem_send(u->s, &d);

		if (n < 0) {
			broke(u);
			break;
		}
		if (n == 0)
			break;
		evbuffer_add(out, d, (size_t)n);
	}
	/* written by the connection's queued flush, after this round's other
	 * ready events: the requests of several streams leave in one write */
}

int
gw_uh2_input(struct gw_uh2 *u)
{
	struct evbuffer *in = gw_io_input(u->io);

	while (!u->broken && evbuffer_get_length(in)) {
		struct evbuffer_iovec v;
		ssize_t n;

		if (evbuffer_peek(in, 16384, NULL, &v, 1) < 1)
			break;
		if (v.iov_len > 16384)
			v.iov_len = 16384;
		n = nghttp2_session_mem_recv(u->s, v.iov_base, v.iov_len);
		if (n < 0) {
			broke(u);
			break;
		}
		evbuffer_drain(in, (size_t)n);
	}
	gw_uh2_flush(u);
	return u->broken ? -1 : 0;
}

void
gw_uh2_resume(struct gw_uh2_rq *r)
{
	r->held = 0;
	if (r->u == NULL || r->unconsumed == 0)
		return;
	if (r->id > 0)
		(void)nghttp2_session_consume_stream(r->u->s, r->id, r->unconsumed);
	r->unconsumed = 0;
	gw_uh2_flush(r->u);
}

int
gw_uh2_held(const struct gw_uh2_rq *r)
{
	return r->held;
}

enum gw_uh2_state
gw_uh2_state(const struct gw_uh2_rq *r)
{
	return r->state;
}

int
gw_uh2_clean(const struct gw_uh2_rq *r)
{
	return r->state == GW_UH2_DONE && r->rq_eof;
}

int
gw_uh2_reusable(const struct gw_uh2 *u)
{
	return !u->goaway && !u->broken && nghttp2_session_want_read(u->s);
}

int
gw_uh2_room(const struct gw_uh2 *u, int64_t local_max)
{
	uint32_t peer = nghttp2_session_get_remote_settings(u->s,
	    NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);

	if (!gw_uh2_reusable(u) || u->nopen >= peer)
		return 0;
	return local_max <= 0 || u->nopen < (uint64_t)local_max;
}

unsigned
gw_uh2_nopen(const struct gw_uh2 *u)
{
	return u->nopen;
}

size_t
gw_uh2_pending(const struct gw_uh2_rq *r)
{
	return evbuffer_get_length(r->body);
}

/* 1 once after the waiting body went out (the stream may send more). */
static int
uh2_drained(struct gw_uh2_rq *r)
{
	int d = r->drained;

	r->drained = 0;
	return d;
}

int
gw_uh2_settled(const struct gw_uh2_rq *r)
{
	return r->settled;
}

int
gw_uh2_tell(struct gw_uh2_rq *r)
{
	if (r->settled || !(uh2_drained(r) || evbuffer_get_length(r->body) == 0))
		return 0;
	/* the whole request is with the codec: nothing more will drain */
	r->settled = r->rq_eof && evbuffer_get_length(r->body) == 0;
	return 1;
}