/*
 * Upstream HTTP/2 (RFC 9113), libnghttp2 as the codec, under the back's
 * HTTP/1.1 interface (gw-back-h2.h): the stream writes its request as it
 * writes it to an HTTP/1.1 upstream; libhttp-parser reads those bytes back
 * (they are ours: gw_uphead.c's head, the body framed by gw_stream.c) and
 * each request becomes one HTTP/2 stream. The answer is reported through
 * the connection's callbacks; its end or failure is a state the connection
 * reads once the codec returned, never from inside a codec callback.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <http_parser.h>
#include <nghttp2/nghttp2.h>

#include "gw-back-h2.h"
#include "gw-hdr.h"
#include "gw-io.h"
#include "gw-snap-t.h"

/* Envoy's upstream defaults since 1.36, as downstream */
#define UH2_STREAM_WINDOW	(16 * 1024 * 1024)
#define UH2_CONN_WINDOW		(24 * 1024 * 1024)

struct gw_uh2 {
	nghttp2_session		*s;
	struct gw_io		*io;
	int			 tls;
	const struct gw_uh2_cb	*cb;
	void			*arg;
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
	int			 held;
	int			 goaway, broken, drained;
};

static http_parser_settings rqset;

/* ---- the request ---- */

static int
rq_url(http_parser *p, const char *at, size_t len)
{
	struct gw_uh2 *u = p->data;

	if (!hh_room(&u->rq, len))
		return -1;
	buf_append(&u->rq.b, at, len);
	u->rq.url_l += (uint32_t)len;
	return 0;
}

static int
rq_field(http_parser *p, const char *at, size_t len)
{
	return hh_field(&((struct gw_uh2 *)p->data)->rq, at, len);
}

static int
rq_value(http_parser *p, const char *at, size_t len)
{
	return hh_value(&((struct gw_uh2 *)p->data)->rq, at, len);
}

static ssize_t
rq_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
    nghttp2_data_source *src, void *arg)
{
	struct gw_uh2 *u = src->ptr;
	int n;

	(void)s;
	(void)id;
	(void)arg;
	n = evbuffer_remove(u->body, buf, len);
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (n > 0)
		u->drained = 1;
	if (evbuffer_get_length(u->body) == 0) {
		if (u->rq_eof)
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
	struct gw_uh2 *u = p->data;
	struct hhead *hh = &u->rq;
	nghttp2_nv *nv;
	nghttp2_data_provider dp;
	char *lower, *q;
	const char *m = http_method_str((enum http_method)p->method), *host;
	size_t i, k = 0, nlen = 0, hl = 0;
	int has_body = (p->flags & F_CHUNKED) ||
	    (p->content_length > 0 && p->content_length != ULLONG_MAX);

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
	dp.source.ptr = u;
	dp.read_callback = rq_read;
	u->id = nghttp2_submit_request(u->s, NULL, nv, k, has_body ? &dp : NULL, u);
	u->rq_sent = 1;
	free(lower);
	free(nv);
	if (u->id < 0) {
		u->state = GW_UH2_FAILED;
		return -1;
	}
	return 0;
}

static int
rq_body(http_parser *p, const char *at, size_t len)
{
	struct gw_uh2 *u = p->data;

	evbuffer_add(u->body, at, len);
	if (u->id > 0)
		(void)nghttp2_session_resume_data(u->s, u->id);
	return 0;
}

static int
rq_complete(http_parser *p)
{
	struct gw_uh2 *u = p->data;

	u->rq_eof = 1;
	if (u->id > 0)
		(void)nghttp2_session_resume_data(u->s, u->id);
	return 0;
}

/* ---- the answer ---- */

static int
cb_begin_headers(nghttp2_session *s, const nghttp2_frame *fr, void *arg)
{
	struct gw_uh2 *u = arg;

	(void)s;
	if (fr->hd.type == NGHTTP2_HEADERS && fr->hd.stream_id == u->id) {
		if (u->got_final)
			hh_reset(&u->th);
		else
			hh_reset(&u->hh);
	}
	return 0;
}

static int
cb_header(nghttp2_session *s, const nghttp2_frame *fr, const uint8_t *name, size_t nl,
    const uint8_t *value, size_t vl, uint8_t flags, void *arg)
{
	struct gw_uh2 *u = arg;
	struct hhead *hh = u->got_final ? &u->th : &u->hh;

	(void)s;
	(void)flags;
	if (fr->hd.type != NGHTTP2_HEADERS || fr->hd.stream_id != u->id)
		return 0;
	if (nl > 0 && name[0] == ':') {
		if (nl == 7 && memcmp(name, ":status", 7) == 0 && vl == 3)
			u->status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
		return 0;
	}
	if (hh_field(hh, (const char *)name, nl) == -1 || hh_value(hh, (const char *)value, vl) == -1)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;	/* too large: the stream is reset */
	return 0;
}

static void
u_complete(struct gw_uh2 *u)
{
	if (u->state == GW_UH2_BUSY)
		u->state = GW_UH2_DONE;
}

static int
cb_frame_recv(nghttp2_session *s, const nghttp2_frame *fr, void *arg)
{
	struct gw_uh2 *u = arg;

	(void)s;
	if (fr->hd.type == NGHTTP2_GOAWAY) {
		u->goaway = 1;
		return 0;
	}
	if (fr->hd.stream_id != u->id || u->state != GW_UH2_BUSY)
		return 0;
	if (fr->hd.type == NGHTTP2_HEADERS) {
		if (!u->got_final) {
			if (u->status < 200) {
				/* 1xx: not passed on (the stream says INTERIM), the final head follows */
				(void)u->cb->head(u->arg, u->status, &u->hh, 0);
				return 0;
			}
			u->got_final = 1;
			switch (u->cb->head(u->arg, u->status, &u->hh,
			    (fr->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0)) {
			case GW_BACK_DISCARD:
				u->discard = 1;
				break;
			case GW_BACK_DISCARD_NOBODY:
				u->discard = u->nobody = 1;
				break;
			case GW_BACK_PASS_NOBODY:
				u->nobody = 1;
				break;
			case GW_BACK_UPGRADE:
			case GW_BACK_INTERIM:
				u->state = GW_UH2_BAD;
				return 0;
			case GW_BACK_PASS:
				break;
			}
		} else if (!u->discard && u->cb->trailers)
			u->cb->trailers(u->arg, &u->th);
	}
	if (fr->hd.flags & NGHTTP2_FLAG_END_STREAM)
		u_complete(u);
	return 0;
}

static int
cb_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *d, size_t len,
    void *arg)
{
	struct gw_uh2 *u = arg;

	(void)s;
	(void)flags;
	if (id != u->id || u->state != GW_UH2_BUSY || u->discard || u->nobody || !u->got_final)
		return 0;
	if (u->cb->body(u->arg, d, len))
		u->held = 1;
	return 0;
}

static int
cb_stream_close(nghttp2_session *s, int32_t id, uint32_t err, void *arg)
{
	struct gw_uh2 *u = arg;

	(void)s;
	if (id != u->id || u->state != GW_UH2_BUSY)
		return 0;
	/* closed before its answer ended: never processed (RFC 9113 8.7), or reset */
	u->state = err == NGHTTP2_REFUSED_STREAM && !u->got_final ? GW_UH2_REFUSED : GW_UH2_FAILED;
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
}

struct gw_uh2 *
gw_uh2_new(struct gw_io *io, int tls, const struct gw_uh2_cb *cb, void *arg)
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
	u->cb = cb;
	u->arg = arg;
	u->id = -1;
	u->body = evbuffer_new();
	if (nghttp2_session_client_new2(&u->s, cbs, u, opts) != 0) {
		evbuffer_free(u->body);
		free(u);
		return NULL;
	}
	(void)nghttp2_submit_settings(u->s, NGHTTP2_FLAG_NONE, iv, 2);
	(void)nghttp2_session_set_local_window_size(u->s, NGHTTP2_FLAG_NONE, 0, UH2_CONN_WINDOW);
	gw_uh2_begin(u);
	return u;
}

void
gw_uh2_free(struct gw_uh2 *u)
{
	if (u == NULL)
		return;
	nghttp2_session_del(u->s);
	hh_free(&u->rq);
	hh_free(&u->hh);
	hh_free(&u->th);
	evbuffer_free(u->body);
	free(u);
}

void
gw_uh2_begin(struct gw_uh2 *u)
{
	http_parser_init(&u->p, HTTP_REQUEST);
	u->p.data = u;
	hh_reset(&u->rq);
	hh_reset(&u->hh);
	hh_reset(&u->th);
	evbuffer_drain(u->body, evbuffer_get_length(u->body));
	u->rq_sent = u->rq_eof = 0;
	u->id = -1;
	u->status = u->got_final = u->nobody = u->discard = 0;
	u->held = u->drained = 0;
	u->state = GW_UH2_BUSY;
}

int
gw_uh2_send(struct gw_uh2 *u, const void *d, size_t len)
{
	size_t n;

	if (len == 0)
		return 0;
	n = http_parser_execute(&u->p, &rqset, d, len);
	if (HTTP_PARSER_ERRNO(&u->p) != HPE_OK || n != len) {
		if (u->state == GW_UH2_BUSY)
			u->state = GW_UH2_BAD;
		return -1;
	}
	gw_uh2_flush(u);
	return 0;
}

void
gw_uh2_flush(struct gw_uh2 *u)
{
	struct evbuffer *out = gw_io_output(u->io);

	while (!u->broken && evbuffer_get_length(out) < GW_HWM) {
		const uint8_t *d;
		ssize_t n = nghttp2_session_mem_send(u->s, &d);

		if (n < 0) {
			u->broken = 1;
			if (u->state == GW_UH2_BUSY)
				u->state = GW_UH2_FAILED;
			break;
		}
		if (n == 0)
			break;
		evbuffer_add(out, d, (size_t)n);
	}
	gw_io_send_now(u->io);	/* now, not after the loop's round */
}

int
gw_uh2_input(struct gw_uh2 *u, int *held)
{
	struct evbuffer *in = gw_io_input(u->io);

	u->held = 0;
	while (!u->broken && !u->held && evbuffer_get_length(in)) {
		struct evbuffer_iovec v;
		ssize_t n;

		if (evbuffer_peek(in, 16384, NULL, &v, 1) < 1)
			break;
		if (v.iov_len > 16384)
			v.iov_len = 16384;
		n = nghttp2_session_mem_recv(u->s, v.iov_base, v.iov_len);
		if (n < 0) {
			u->broken = 1;
			if (u->state == GW_UH2_BUSY)
				u->state = u->got_final ? GW_UH2_FAILED : GW_UH2_BAD;
			break;
		}
		evbuffer_drain(in, (size_t)n);
	}
	*held = u->held;
	gw_uh2_flush(u);
	return u->broken ? -1 : 0;
}

enum gw_uh2_state
gw_uh2_state(const struct gw_uh2 *u)
{
	return u->state;
}

int
gw_uh2_reusable(const struct gw_uh2 *u)
{
	return !u->goaway && !u->broken && nghttp2_session_want_read(u->s) &&
	    u->state == GW_UH2_DONE && u->rq_eof;
}

size_t
gw_uh2_pending(const struct gw_uh2 *u)
{
	return evbuffer_get_length(u->body);
}

int
gw_uh2_drained(struct gw_uh2 *u)
{
	int d = u->drained;

	u->drained = 0;
	return d;
}
