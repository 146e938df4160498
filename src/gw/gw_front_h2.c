/*
 * HTTP/2 downstream (RFC 9113), libnghttp2 as the codec. The front
 * (gw_front.c) hands a connection over after ALPN "h2" or, on a plain
 * port, the client preface (h2c with prior knowledge: Envoy's codec AUTO).
 * Each HTTP/2 stream is a gw_front of its own (h2_front_ops) carrying one
 * gw_stream, so routing, policies, retries and the access log are those of
 * HTTP/1.1.
 *
 * Flow control: the request body is handed to the stream as it comes and
 * its window is given back (nghttp2_session_consume) only once the stream
 * took it without asking to stop, so a slow upstream stops the client at
 * its window instead of filling memory. The answer's body waits in the
 * stream's own buffer for the client's window; above GW_HWM the stream
 * stops reading its upstream (pending), and is woken when it went out.
 *
 * Nothing here sends from inside a codec callback: stream code that
 * answers at once only submits, and output is produced at the end of the
 * outermost callback (depth), as gw_front.c stages HTTP/1.1 output.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <http_parser.h>
#include <nghttp2/nghttp2.h>

#include "gw-front-h2.h"
#include "gw-hdr.h"
#include "gw-io.h"
#include "gw-local.h"
#include "gw-pagepool.h"
#include "gw-path.h"
#include "gw-snap.h"
#include "gw-stats-t.h"
#include "gw-stream.h"
#include "gw-uphead.h"
#include "gw-worker-t.h"

/*
 * Envoy's downstream defaults since 1.36 (Istio leaves them unset):
 * max_concurrent_streams 1024, initial_stream_window_size 16 MiB,
 * initial_connection_window_size 24 MiB; the HPACK table 4096.
 */
#define H2_MAX_STREAMS		1024
#define H2_STREAM_WINDOW	(16 * 1024 * 1024)
#define H2_CONN_WINDOW		(24 * 1024 * 1024)
/* nghttp2's own guards, set explicitly: CVE-2023-44487 and CVE-2024-27316 */
#define H2_RESET_BURST		1000
#define H2_RESET_RATE		33
#define H2_MAX_CONTINUATIONS	8
#define H2_MAX_SETTINGS		32
#define H2_MAX_OUTBOUND_ACK	1000	/* Envoy's DEFAULT_MAX_OUTBOUND_CONTROL_FRAMES */
#define H2_GAPS			8	/* skipped stream id ranges remembered */
#define H2_CLOSED		32	/* closed streams remembered (h2_closed_frame) */
#define H2_DEFLATE_TABLE	0	/* our encoder's dynamic table (bytes) */

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct h2s {
	struct gw_front		 f;		/* first: the stream reaches it as a gw_front */
	struct gw_h2		*c;
	struct gw_stream	*st;		/* NULL once the stream is over */
	int32_t			 id;
	/* the request's pseudo-header fields, until the head is complete */
	char			*method, *path, *authority, *scheme;
	struct vg_buf		 cookie;	/* cookie fields joined with "; " (RFC 9113 8.2.3) */
	int			 regular;	/* a regular field came: the target is in hh */
	int			 has_host;
	int64_t			 clen;		/* content-length, -1: none */
	size_t			 hbytes;	/* decoded head bytes (HPACK bombs) */
	int			 bad;		/* a local answer the head earned */
	const char		*badmsg;
	/* the request body */
	struct evbuffer		*in;		/* bytes the stream cannot take yet */
	size_t			 owed;		/* taken bytes whose window is not given back */
	int			 held, bp;
	int			 eos, eos_given;
	/* the answer */
	struct evbuffer		*out;		/* its body, waiting for the client's window */
	int			 answering, ended, no_body;
	int			 want_w;	/* the stream stopped reading upstream */
	int			 rst_after;	/* the request is not read: RST_STREAM(NO_ERROR) after the answer */
	int			 peer_rst;	/* the client reset it */
	nghttp2_nv		*tr;		/* the answer's trailers, sent after its body */
	size_t			 ntr;
	char			*trbuf;
	TAILQ_ENTRY(h2s)	 link;
};

/* Where the client's frames begin (h2_scan). */
struct h2_scan {
	uint32_t		 skip;		/* bytes until the next frame header */
	uint8_t			 hdr[9];
	uint8_t			 have;
};

struct gw_h2 {
	nghttp2_session		*s;
	struct gw_h2_env	 env;
	TAILQ_HEAD(, h2s)	 streams;
	size_t			 nstreams;
	struct gw_stream	*dead[16];	/* streams reset by their own code: freed at depth 0 */
	size_t			 ndead;
	int			 depth;
	int			 over;		/* the session is done: the connection closes */
	int			 failed;
	int			 shutdown;
	uint64_t		 sent, sent_at_timeout;
	/*
	 * Client stream ids a HEADERS skipped (RFC 9113 5.1.1: closed at
	 * once, never to be opened): nghttp2 ignores a HEADERS on one, the
	 * RFC wants a connection error. The latest H2_GAPS ranges.
	 */
	int32_t			 max_id;
	struct { int32_t lo, hi; } gap[H2_GAPS];
	unsigned		 gapn;
	/*
	 * The codec keeps no closed stream (a connection that had served
	 * 1024 streams kept 250 kB of them while it idled): the latest
	 * H2_CLOSED streams closed after the client ended its request are
	 * remembered here, and the input's frame headers are followed to
	 * find DATA and HEADERS on them (h2_scan).
	 */
	int32_t			 closed[H2_CLOSED];
	unsigned		 closedn;
	struct h2_scan		 scan;
	/*
	 * The codec's frame buffer, a page pool block (NULL: on the heap).
	 * Between frames its content is dead: a session idle for
	 * H2_IDLE_RELEASE gives its pages back (written again by the next frame).
	 */
	void			*fb;
	/*
	 * The codec's stream map (4 KiB, made with the session), a page of
	 * the pool: with no stream it holds zeros, and its page goes back
	 * with the frame buffer's (gw_pp_trim: only pages of zeros).
	 */
	void			*map;
	unsigned		 creating:1;	/* inside nghttp2_session_server_new3 */
	unsigned		 fb_dirty:1;	/* frames written since the pages were given back */
	unsigned		 ob_idle:1;	/* the codec has no frame in hand (mem_send said 0) */
	unsigned		 on_idle:1;
	unsigned		 idle_counted:1;	/* in h2_idle->sessions */
	int64_t			 idle_since;
	TAILQ_ENTRY(gw_h2)	 idle_link;
};

static const struct gw_front_ops h2_front_ops;

int
gw_h2_preface(const void *p, size_t len, int *full)
{
	size_t n = len < sizeof(preface) - 1 ? len : sizeof(preface) - 1;

	*full = len >= sizeof(preface) - 1;
	return memcmp(p, preface, n) == 0;
}

/* ---- idle sessions' frame buffers ---- */

#define H2_IDLE_RELEASE	1000000		/* us */

/* A worker thread's sessions whose frame buffer holds pages, idle, oldest first. */
struct h2_idle {
	TAILQ_HEAD(, gw_h2)	 q;
	struct event		*ev;
	size_t			 sessions;	/* this thread's, with a pool frame buffer */
};
static __thread struct h2_idle *h2_idle;

static void
h2_idle_del(struct gw_h2 *c)
{
	if (c->on_idle) {
		TAILQ_REMOVE(&h2_idle->q, c, idle_link);
		c->on_idle = 0;
	}
}

static void
h2_idle_arm(void)
{
	struct gw_h2 *c = TAILQ_FIRST(&h2_idle->q);
	struct timeval tv;
	int64_t wait;

	if (c == NULL || evtimer_pending(h2_idle->ev, NULL))
		return;
	wait = c->idle_since + H2_IDLE_RELEASE - now_us();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = (time_t)(wait / 1000000);
	tv.tv_usec = (suseconds_t)(wait % 1000000);
	evtimer_add(h2_idle->ev, &tv);
}

/* Gives back the frame buffers of the sessions idle long enough. */
static void
h2_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	int64_t now = now_us();
	struct gw_h2 *c;

	(void)fd;
	(void)what;
	(void)arg;
	while ((c = TAILQ_FIRST(&h2_idle->q)) != NULL && c->idle_since + H2_IDLE_RELEASE <= now) {
		h2_idle_del(c);
		/* no stream, no frame in the codec's hands: the buffer's bytes are dead */
		if (c->ob_idle && c->nstreams == 0 && !c->over) {
			gw_pp_release(c->fb, 0);
			c->fb_dirty = 0;
			if (c->map)
				(void)gw_pp_trim(c->map);
		}
	}
	h2_idle_arm();
}

/* After output: a session with no stream and written pages waits for their release. */
static void
h2_idle_check(struct gw_h2 *c)
{
	if (c->fb == NULL || h2_idle == NULL)
		return;
	h2_idle_del(c);		/* something happened: the clock restarts */
	if (!c->fb_dirty || !c->ob_idle || c->nstreams)
		return;
	c->idle_since = now_us();
	TAILQ_INSERT_TAIL(&h2_idle->q, c, idle_link);
	c->on_idle = 1;
	h2_idle_arm();
}

/* ---- output ---- */

static void h2_flush(struct gw_h2 *);

static void
h2_begin(struct gw_h2 *c)
{
	c->depth++;
}

static void
h2_end(struct gw_h2 *c)
{
	if (--c->depth > 0)
		return;
	while (c->ndead > 0) {
		struct gw_stream *st = c->dead[--c->ndead];

		gw_stream_free(st, st->snap != NULL);
	}
	h2_flush(c);
}

/* The session's frames to the connection, up to its high mark. */
static void
h2_flush(struct gw_h2 *c)
{
	struct evbuffer *out = gw_io_output(c->env.io);
	struct h2s *hs, *next;

	if (c->over)
		return;
	while (evbuffer_get_length(out) < GW_HWM) {
		const uint8_t *d;
		ssize_t n = nghttp2_session_mem_send(c->s, &d);

		if (n < 0) {
			c->failed = 1;
			break;
		}
		if (n == 0) {
			c->ob_idle = 1;
			break;
		}
		c->ob_idle = 0;
		c->fb_dirty = 1;
		evbuffer_add(out, d, (size_t)n);
		c->sent += (uint64_t)n;
	}
	/*
	 * Not sent here: the connection's queued flush writes once this round's
	 * other ready events ran, so the answers of several streams leave in
	 * one TLS record and one write (a third fewer system calls a request
	 * and 30-40 % less CPU under h2load -c50 -m10, measured).
	 */
	/* streams that stopped reading upstream, now that their answer went out */
	for (hs = TAILQ_FIRST(&c->streams); hs; hs = next) {
		next = TAILQ_NEXT(hs, link);
		if (hs->want_w && hs->st &&
		    evbuffer_get_length(hs->out) + evbuffer_get_length(out) <= GW_LWM) {
			hs->want_w = 0;
			c->depth++;
			gw_stream_writable(hs->st);
			c->depth--;
		}
	}
	if (c->failed || (!nghttp2_session_want_read(c->s) && !nghttp2_session_want_write(c->s))) {
		c->over = 1;
		c->env.over(c->env.arg);
		return;
	}
	h2_idle_check(c);
}

/* Output staged outside any callback of ours goes out now. */
static void
h2_kick(struct gw_h2 *c)
{
	if (c->depth == 0)
		h2_flush(c);
}

/* ---- the request ---- */

static void
h2s_free(struct h2s *hs)
{
	free(hs->method);
	free(hs->path);
	free(hs->authority);
	free(hs->scheme);
	buf_free(&hs->cookie);
	free(hs->tr);
	free(hs->trbuf);
	if (hs->in)
		evbuffer_free(hs->in);
	evbuffer_free(hs->out);
	free(hs);
}

static int
h2_method(const char *m, size_t len)
{
#define XX(num, name, string) \
	if (len == sizeof(#string) - 1 && memcmp(m, #string, len) == 0) \
		return num;
	HTTP_METHOD_MAP(XX)
#undef XX
	return -1;
}

/* The target goes first in the head's buffer (hhead's layout), before any field. */
static int
h2_target(struct h2s *hs)
{
	struct hhead *hh = &hs->st->hh;
	size_t len;

	if (hs->regular)
		return 0;
	hs->regular = 1;
	if (hs->path == NULL)
		return 0;	/* CONNECT, or malformed: seen when the head ends */
	len = strlen(hs->path);
	if (!hh_room(hh, len))
		return -1;
	buf_append(&hh->b, hs->path, len);
	hh->url_l = (uint32_t)len;
	return 0;
}

static int
h2_field(struct h2s *hs, const char *n, size_t nl, const char *v, size_t vl)
{
	struct hhead *hh = &hs->st->hh;

	if (hh_field(hh, n, nl) == -1 || hh_value(hh, v, vl) == -1)
		return -1;
	return 0;
}


/* ---- the answer ---- */

/* DATA frames from the answer's buffer; deferred while it is empty and not complete. */
static ssize_t
h2_body_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
    nghttp2_data_source *src, void *arg)
{
	struct h2s *hs = src->ptr;
	int n;

	(void)arg;
	n = evbuffer_remove(hs->out, buf, len);
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (evbuffer_get_length(hs->out) == 0) {
		if (hs->ended) {
			*flags |= NGHTTP2_DATA_FLAG_EOF;
			/* trailers end the stream instead (nghttp2 allows it from here) */
			if (hs->ntr && nghttp2_submit_trailer(s, id, hs->tr, hs->ntr) == 0)
				*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
		} else if (n == 0)
			return NGHTTP2_ERR_DEFERRED;
	}
	return n;
}

/*
 * HTTP/1.1's connection-specific fields have no place in HTTP/2
 * (RFC 9113 8.2.2): a client must treat them as malformed.
 */
static int
h2_conn_specific(const char *n, size_t l)
{
	static const char *const names[] = { "connection", "keep-alive", "proxy-connection",
	    "transfer-encoding", "upgrade", "http2-settings" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == l && strncasecmp(names[i], n, l) == 0)
			return 1;
	return 0;
}

/* Submits the answer's HEADERS (fields f[0..n)), its body from hs->out unless none. */
static void
h2_submit(struct h2s *hs, int status, const struct gw_hdr *f, size_t n, int no_body)
{
	nghttp2_nv stack[32], *nv = stack;
	nghttp2_data_provider dp;
	char code[8], *names, *p;
	size_t i, k = 0, nlen = 0;

	for (i = 0; i < n; i++)
		nlen += f[i].nlen;
	if (n + 1 > sizeof(stack) / sizeof(stack[0]))
		nv = xcalloc(n + 1, sizeof(*nv));
	p = names = xmalloc(nlen + 1);
	nv[k++] = (nghttp2_nv){ (uint8_t *)":status", (uint8_t *)code, 7,
	    (size_t)snprintf(code, sizeof(code), "%d", status), NGHTTP2_NV_FLAG_NONE };
	for (i = 0; i < n; i++) {
		size_t j;

		if (h2_conn_specific(f[i].name, f[i].nlen))
			continue;
		for (j = 0; j < f[i].nlen; j++)
			p[j] = (char)tolower((unsigned char)f[i].name[j]);
		nv[k++] = (nghttp2_nv){ (uint8_t *)p, (uint8_t *)f[i].value, f[i].nlen, f[i].vlen,
		    NGHTTP2_NV_FLAG_NONE };
		p += f[i].nlen;
	}
	dp.source.ptr = hs;
	dp.read_callback = h2_body_read;
	hs->answering = 1;
	hs->no_body = no_body;
	/* nghttp2 copies the fields */
	if (nghttp2_submit_response(hs->c->s, hs->id, nv, k, no_body ? NULL : &dp) != 0)
		(void)nghttp2_submit_rst_stream(hs->c->s, NGHTTP2_FLAG_NONE, hs->id,
		    NGHTTP2_INTERNAL_ERROR);
	free(names);
	if (nv != stack)
		free(nv);
}

/* A local answer to a head that cannot be served; the stream is over. */
static void
h2_reject(struct h2s *hs, int code, const char *msg)
{
	struct gw_stream *st = hs->st;
	char clen[24];
	size_t mlen = strlen(msg);
	struct gw_hdr f[5] = {
		{ "content-length", 14, clen, 0 },
		{ "content-type", 12, "text/plain", 10 },
		{ "date", 4, NULL, 0 },
		{ "x-request-id", 12, NULL, 0 },
		{ "server", 6, "istio-envoy", 11 },
	};

	f[0].vlen = (size_t)snprintf(clen, sizeof(clen), "%zu", mlen);
	f[2].value = gw_http_date(&f[2].vlen);
	gw_stream_reqid(st);
	f[3].value = st->reqid;
	f[3].vlen = strlen(st->reqid);
	st->code = code;
	st->flags = "DPE";
	st->resp_started = st->resp_done = 1;
	st->body_done = 1;
	evbuffer_add(hs->out, msg, mlen);
	hs->ended = 1;
	hs->rst_after = !hs->eos;
	h2_submit(hs, code, f, 5, st->is_head);
	hs->st = NULL;
	gw_stream_free(st, 1);
}

/* ---- the request, on ---- */

/* The head is complete: checked, then handed to the stream. */
static void
h2_head(struct h2s *hs)
{
	struct gw_stream *st = hs->st;
	struct gw_h2 *c = hs->c;
	struct hhead *hh = &st->hh;
	struct gw_snap *snap = c->env.w->snap;
	struct gw_target t;
	const char *v;
	size_t vl;
	int m;

	if (hs->bad == 0 && h2_target(hs) == -1)
		hs->bad = 431;
	if (hs->bad == 0 && hs->authority && !hs->has_host &&
	    h2_field(hs, "host", 4, hs->authority, strlen(hs->authority)) == -1)
		hs->bad = 431;
	if (hs->bad == 0 && hs->cookie.len &&
	    h2_field(hs, "cookie", 6, hs->cookie.s, hs->cookie.len) == -1)
		hs->bad = 431;
	if (hs->bad) {
		h2_reject(hs, hs->bad, hs->bad == 431 ? "request header fields too large\n" : hs->badmsg);
		return;
	}
	m = hs->method ? h2_method(hs->method, strlen(hs->method)) : -1;
	st->method = m;
	if (m == -1) {
		h2_reject(hs, 400, "bad request\n");
		return;
	}
	if (m == HTTP_CONNECT) {
		h2_reject(hs, 405, "CONNECT is not served\n");
		return;
	}
	if (hs->authority == NULL && !hs->has_host) {
		h2_reject(hs, 400, "missing host header\n");
		return;
	}
	if ((v = hs->authority) != NULL && !gw_authority_ok(v, strlen(v))) {
		h2_reject(hs, 400, "invalid host header\n");
		return;
	}
	if (hs->path == NULL) {
		h2_reject(hs, 400, "bad request\n");
		return;
	}
	if (gw_target_needs_work(hh->b.s, hh->url_l,
	    (enum gw_pathnorm)(snap ? snap->pathnorm : GW_PATHNORM_BASE))) {
		char *tmp = xmalloc(hh->url_l + 1), msg[128];
		ssize_t n = gw_target_normalize(hh->b.s, hh->url_l,
		    (enum gw_pathnorm)(snap ? snap->pathnorm : GW_PATHNORM_BASE),
		    m == HTTP_OPTIONS, tmp, &t);

		if (n < 0 || t.auth) {
			free(tmp);
			snprintf(msg, sizeof(msg), "invalid request target: %s\n",
			    n < 0 ? t.why : "not origin form");
			h2_reject(hs, 400, msg);
			return;
		}
		memcpy(hh->b.s, tmp, (size_t)n);	/* never longer than it was */
		hh->url_l = (uint32_t)n;
		free(tmp);
	}
	st->proto = "HTTP/2";
	st->port = c->env.port;
	st->scope = c->env.scope;
	st->tls = c->env.tls;
	st->sni = c->env.sni;
	st->peer = c->env.peer;
	st->is_head = m == HTTP_HEAD;
	st->has_body = !hs->eos && hs->clen != 0;
	st->body_chunked = st->has_body && hs->clen < 0;
	st->content_length = hs->clen < 0 ? 0 : (uint64_t)hs->clen;
	st->expect = st->has_body && (v = gw_hdr_get(hh, "expect", &vl)) != NULL &&
	    vl == 12 && strncasecmp(v, "100-continue", 12) == 0;
	st->snap = gw_snap_ref(snap);
	free(hs->method);
	free(hs->path);
	free(hs->authority);
	free(hs->scheme);
	hs->method = hs->path = hs->authority = hs->scheme = NULL;
	buf_free(&hs->cookie);
	gw_stream_head(st);
}

/* The request is complete: the stream hears it once its body is all taken. */
static void
h2_eos(struct h2s *hs)
{
	hs->eos = 1;
	if (hs->st && !hs->eos_given && !hs->held && !hs->bp &&
	    (hs->in == NULL || evbuffer_get_length(hs->in) == 0)) {
		hs->eos_given = 1;
		gw_stream_end(hs->st);
	}
}

/* Gives the window of n taken bytes back (WINDOW_UPDATE once enough). */
static void
h2_consume(struct h2s *hs, size_t n)
{
	if (n)
		(void)nghttp2_session_consume(hs->c->s, hs->id, n);
}

/* Hands body bytes to the stream; what it cannot take yet waits in hs->in. */
static void
h2_give(struct h2s *hs, const uint8_t *d, size_t len)
{
	if (hs->st == NULL) {
		h2_consume(hs, len);	/* answered and over: dropped */
		return;
	}
	if (hs->held || hs->bp || (hs->in && evbuffer_get_length(hs->in))) {
		if (hs->in == NULL)
			hs->in = evbuffer_new();
		evbuffer_add(hs->in, d, len);
		return;
	}
	if (gw_stream_body(hs->st, (const char *)d, len)) {
		hs->bp = 1;
		hs->owed += len;
	} else {
		h2_consume(hs, hs->owed + len);
		hs->owed = 0;
	}
}

/* What waited in hs->in, while the stream takes it. */
static void
h2_deliver(struct h2s *hs)
{
	while (hs->st && !hs->held && !hs->bp && hs->in && evbuffer_get_length(hs->in)) {
		size_t len = evbuffer_get_length(hs->in);
		uint8_t *d;

		if (len > 16384)
			len = 16384;
		d = evbuffer_pullup(hs->in, (ssize_t)len);
		if (gw_stream_body(hs->st, (const char *)d, len)) {
			hs->bp = 1;
			hs->owed += len;
		} else {
			h2_consume(hs, hs->owed + len);
			hs->owed = 0;
		}
		if (hs->in)
			evbuffer_drain(hs->in, len);
	}
	if (hs->eos)
		h2_eos(hs);
}

/* ---- codec callbacks ---- */

/* A HEADERS on a client stream id skipped before: PROTOCOL_ERROR (RFC 9113 5.1.1). */
static int
cb_begin_frame(nghttp2_session *s, const nghttp2_frame_hd *hd, void *arg)
{
	struct gw_h2 *c = arg;
	int32_t id = hd->stream_id;
	unsigned i;

	if (hd->type != NGHTTP2_HEADERS || (id & 1) == 0)
		return 0;
	if (id > c->max_id) {
		int32_t lo = c->max_id ? c->max_id + 2 : 1;

		if (id > lo) {
			c->gap[c->gapn % H2_GAPS].lo = lo;
			c->gap[c->gapn % H2_GAPS].hi = id - 2;
			c->gapn++;
		}
		c->max_id = id;
		return 0;
	}
	for (i = 0; i < H2_GAPS && i < c->gapn; i++)
		if (id >= c->gap[i].lo && id <= c->gap[i].hi) {
			(void)nghttp2_session_terminate_session(s, NGHTTP2_PROTOCOL_ERROR);
			break;
		}
	return 0;
}

static int
cb_begin_headers(nghttp2_session *s, const nghttp2_frame *fr, void *arg)
{
	struct gw_h2 *c = arg;
	struct h2s *hs;
	struct gw_stream *st;

	if (fr->hd.type != NGHTTP2_HEADERS || fr->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	hs = xcalloc(1, sizeof(*hs));
	hs->f.ops = &h2_front_ops;
	hs->c = c;
	hs->id = fr->hd.stream_id;
	hs->clen = -1;
	hs->out = evbuffer_new();
	st = gw_stream_new(c->env.w, &hs->f);
	st->t0_us = now_us();
	st->flags = "-";
	st->method = -1;	/* not read yet */
	st->proto = "HTTP/2";
	st->hh.max = c->env.w->snap ? c->env.w->snap->max_header_bytes : 0;
	hs->st = st;
	TAILQ_INSERT_TAIL(&c->streams, hs, link);
	c->nstreams++;
	nghttp2_session_set_stream_user_data(s, hs->id, hs);
	return 0;
}

static char *
h2_dup(const uint8_t *v, size_t l)
{
	return xstrndup((const char *)v, l);
}

static int
cb_header(nghttp2_session *s, const nghttp2_frame *fr, const uint8_t *name, size_t nl,
    const uint8_t *value, size_t vl, uint8_t flags, void *arg)
{
	struct h2s *hs = nghttp2_session_get_stream_user_data(s, fr->hd.stream_id);
	struct gw_stream *st;
	uint32_t max;

	(void)flags;
	(void)arg;
	if (hs == NULL || (st = hs->st) == NULL || fr->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (fr->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;	/* trailers: not carried to an HTTP/1.1 upstream */
	/* an HPACK bomb decodes far more than its frames carried: bounded */
	max = st->hh.max ? st->hh.max : GW_MAX_HEADERS_BYTES;
	hs->hbytes += nl + vl + 32;
	if (hs->hbytes > 4 * (size_t)max)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;	/* RST_STREAM */
	if (hs->bad)
		return 0;
	if (hs->hbytes > (size_t)max + 32 * 4) {
		hs->bad = 431;
		return 0;
	}
	if (nl > 0 && name[0] == ':') {
		char **slot = NULL;

		if (nl == 7 && memcmp(name, ":method", 7) == 0)
			slot = &hs->method;
		else if (nl == 5 && memcmp(name, ":path", 5) == 0)
			slot = &hs->path;
		else if (nl == 10 && memcmp(name, ":authority", 10) == 0)
			slot = &hs->authority;
		else if (nl == 7 && memcmp(name, ":scheme", 7) == 0)
			slot = &hs->scheme;
		if (slot && *slot == NULL)
			*slot = h2_dup(value, vl);
		return 0;
	}
	if (h2_target(hs) == -1) {
		hs->bad = 431;
		return 0;
	}
	if (nl == 6 && memcmp(name, "cookie", 6) == 0) {
		if (hs->cookie.len)
			buf_append(&hs->cookie, "; ", 2);
		buf_append(&hs->cookie, (const char *)value, vl);
		return 0;
	}
	if (nl == 4 && memcmp(name, "host", 4) == 0) {
		/* :authority wins over a host field (RFC 9113 8.3.1) */
		if (hs->authority)
			return 0;
		if (hs->has_host) {
			hs->bad = 400;
			hs->badmsg = "more than one host header\n";
			return 0;
		}
		hs->has_host = 1;
	}
	if (nl == 14 && memcmp(name, "content-length", 14) == 0) {
		char tmp[24];

		/* nghttp2 checked it is digits and that DATA agrees with it */
		if (vl < sizeof(tmp)) {
			memcpy(tmp, value, vl);
			tmp[vl] = '\0';
			hs->clen = strtoll(tmp, NULL, 10);
		}
	}
	if (h2_field(hs, (const char *)name, nl, (const char *)value, vl) == -1)
		hs->bad = 431;
	return 0;
}

static int
cb_frame_recv(nghttp2_session *s, const nghttp2_frame *fr, void *arg)
{
	struct gw_h2 *c = arg;
	struct h2s *hs;

	if (fr->hd.type == NGHTTP2_RST_STREAM) {
		__atomic_add_fetch(&c->env.w->stats.h2_rx_reset, 1, __ATOMIC_RELAXED);
		if ((hs = nghttp2_session_get_stream_user_data(s, fr->hd.stream_id)) != NULL)
			hs->peer_rst = 1;
	}
	if (fr->hd.type != NGHTTP2_HEADERS && fr->hd.type != NGHTTP2_DATA)
		return 0;
	hs = nghttp2_session_get_stream_user_data(s, fr->hd.stream_id);
	if (hs == NULL)
		return 0;
	if (fr->hd.type == NGHTTP2_HEADERS && fr->headers.cat == NGHTTP2_HCAT_REQUEST) {
		hs->eos = (fr->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
		if (hs->st) {
			h2_head(hs);
			if (hs->st == NULL)
				return 0;
		}
	}
	if (fr->hd.flags & NGHTTP2_FLAG_END_STREAM)
		h2_eos(hs);
	return 0;
}

static int
cb_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *d, size_t len,
    void *arg)
{
	struct h2s *hs = nghttp2_session_get_stream_user_data(s, id);

	(void)flags;
	(void)arg;
	if (hs == NULL) {
		(void)nghttp2_session_consume(s, id, len);
		return 0;
	}
	h2_give(hs, d, len);
	return 0;
}

static int
cb_frame_send(nghttp2_session *s, const nghttp2_frame *fr, void *arg)
{
	struct gw_h2 *c = arg;
	struct gw_stats *ss = &c->env.w->stats;
	struct h2s *hs;

	if (fr->hd.type == NGHTTP2_RST_STREAM && fr->rst_stream.error_code != NGHTTP2_NO_ERROR)
		__atomic_add_fetch(&ss->h2_tx_reset, 1, __ATOMIC_RELAXED);
	if (fr->hd.type == NGHTTP2_GOAWAY) {
		uint32_t e = fr->goaway.error_code;
		int k = e == NGHTTP2_NO_ERROR ? GW_H2_GOAWAY_DRAIN :
		    e == NGHTTP2_ENHANCE_YOUR_CALM ? GW_H2_GOAWAY_FLOOD :
		    e == NGHTTP2_INTERNAL_ERROR ? GW_H2_GOAWAY_INTERNAL : GW_H2_GOAWAY_PROTOCOL;

		__atomic_add_fetch(&ss->h2_goaway[k], 1, __ATOMIC_RELAXED);
	}
	if ((fr->hd.type != NGHTTP2_HEADERS && fr->hd.type != NGHTTP2_DATA) ||
	    !(fr->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	hs = nghttp2_session_get_stream_user_data(s, fr->hd.stream_id);
	/* the answer is complete and the request is not: the rest is not wanted (RFC 9113 8.1) */
	if (hs && hs->rst_after && !hs->eos)
		(void)nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, hs->id, NGHTTP2_NO_ERROR);
	return 0;
}

static int
cb_stream_close(nghttp2_session *s, int32_t id, uint32_t err, void *arg)
{
	struct gw_h2 *c = arg;
	struct h2s *hs = nghttp2_session_get_stream_user_data(s, id);
	struct gw_stream *st;

	(void)err;
	if (hs == NULL)
		return 0;
	/* the client ended it: more of its frames on it are an error (RFC 9113 5.1) */
	if (hs->eos || hs->peer_rst)
		c->closed[c->closedn++ % H2_CLOSED] = id;
	nghttp2_session_set_stream_user_data(s, id, NULL);
	if ((st = hs->st) != NULL) {
		/* reset by the client, or the connection ends, before the stream was over */
		hs->st = NULL;
		gw_stream_client_gone(st);
		gw_stream_free(st, st->snap != NULL);
	}
	TAILQ_REMOVE(&c->streams, hs, link);
	c->nstreams--;
	h2s_free(hs);
	return 0;
}

/* ---- what the stream asks (h2_front_ops) ---- */

static void
f_head(struct gw_front *f, const struct gw_resp *r)
{
	struct h2s *hs = (struct h2s *)f;
	struct gw_hdr *fl = (struct gw_hdr *)r->f;

	if (r->local && hs->st && !hs->st->body_done)
		hs->rst_after = 1;
	h2_submit(hs, r->status, fl, r->n, r->no_body || r->end || (hs->st && hs->st->is_head));
	h2_kick(hs->c);
}

static void
f_body(struct gw_front *f, const void *p, size_t len)
{
	struct h2s *hs = (struct h2s *)f;

	if (hs->no_body)
		return;
	evbuffer_add(hs->out, p, len);
	(void)nghttp2_session_resume_data(hs->c->s, hs->id);
	h2_kick(hs->c);
}

static void
f_end(struct gw_front *f)
{
	struct h2s *hs = (struct h2s *)f;

	hs->ended = 1;
	if (!hs->no_body)
		(void)nghttp2_session_resume_data(hs->c->s, hs->id);
	h2_kick(hs->c);
}

/* Trailers, kept (lower-cased, HTTP/1.1's connection fields left out) for the body's end. */
static void
f_trailers(struct gw_front *f, const struct gw_hdr *h, size_t n)
{
	struct h2s *hs = (struct h2s *)f;
	size_t i, k = 0, len = 0;
	char *p;

	if (hs->no_body || hs->tr || n == 0)
		return;
	for (i = 0; i < n; i++)
		len += h[i].nlen + h[i].vlen;
	hs->tr = xcalloc(n, sizeof(*hs->tr));
	p = hs->trbuf = xmalloc(len + 1);
	for (i = 0; i < n; i++) {
		size_t j;

		if (h2_conn_specific(h[i].name, h[i].nlen))
			continue;
		for (j = 0; j < h[i].nlen; j++)
			p[j] = (char)tolower((unsigned char)h[i].name[j]);
		memcpy(p + h[i].nlen, h[i].value, h[i].vlen);
		hs->tr[k++] = (nghttp2_nv){ (uint8_t *)p, (uint8_t *)p + h[i].nlen, h[i].nlen,
		    h[i].vlen, NGHTTP2_NV_FLAG_NONE };
		p += h[i].nlen + h[i].vlen;
	}
	hs->ntr = k;
}

static void
f_cont(struct gw_front *f)
{
	struct h2s *hs = (struct h2s *)f;
	nghttp2_nv nv = { (uint8_t *)":status", (uint8_t *)"100", 7, 3, NGHTTP2_NV_FLAG_NONE };

	(void)nghttp2_submit_headers(hs->c->s, NGHTTP2_FLAG_NONE, hs->id, NULL, &nv, 1, NULL);
	h2_kick(hs->c);
}

static size_t
f_pending(struct gw_front *f)
{
	struct h2s *hs = (struct h2s *)f;
	size_t n = evbuffer_get_length(hs->out) + evbuffer_get_length(gw_io_output(hs->c->env.io));

	if (n > GW_HWM)
		hs->want_w = 1;
	return n;
}

static void
f_hold(struct gw_front *f, int on)
{
	struct h2s *hs = (struct h2s *)f;

	hs->held = on;
	if (!on)
		h2_deliver(hs);
}

static void
f_drained(struct gw_front *f)
{
	struct h2s *hs = (struct h2s *)f;

	if (!hs->bp)
		return;
	hs->bp = 0;
	h2_consume(hs, hs->owed);
	hs->owed = 0;
	h2_deliver(hs);
}

/* The stream is over (answered; its request read or not wanted). */
static void
f_done(struct gw_front *f)
{
	struct h2s *hs = (struct h2s *)f;
	struct gw_stream *st = hs->st;

	hs->st = NULL;
	if (!hs->eos)
		hs->rst_after = 1;
	if (!hs->answering)
		(void)nghttp2_submit_rst_stream(hs->c->s, NGHTTP2_FLAG_NONE, hs->id,
		    NGHTTP2_INTERNAL_ERROR);
	if (hs->in)
		evbuffer_drain(hs->in, evbuffer_get_length(hs->in));
	h2_consume(hs, hs->owed);
	hs->owed = 0;
	gw_stream_free(st, 1);
}

/* The answer broke after it started: only a reset can tell the client. */
static void
f_reset(struct gw_front *f)
{
	struct h2s *hs = (struct h2s *)f;
	struct gw_h2 *c = hs->c;
	struct gw_stream *st = hs->st;

	(void)nghttp2_submit_rst_stream(c->s, NGHTTP2_FLAG_NONE, hs->id, NGHTTP2_INTERNAL_ERROR);
	if (st == NULL)
		return;
	hs->st = NULL;
	if (c->depth > 0 && c->ndead < sizeof(c->dead) / sizeof(c->dead[0]))
		c->dead[c->ndead++] = st;	/* its code is on the stack: freed at the end */
	else
		gw_stream_free(st, st->snap != NULL);
}

static void
f_enter(struct gw_front *f)
{
	h2_begin(((struct h2s *)f)->c);
}

static void
f_leave(struct gw_front *f)
{
	h2_end(((struct h2s *)f)->c);
}

/* Istio's gateways configure websocket upgrades over HTTP/1.1 only: never asked here. */
static struct gw_io *
f_tunnel(struct gw_front *f, struct gw_io *io, struct evbuffer *rest)
{
	(void)io;
	(void)rest;
	f_reset(f);
	return NULL;
}

static void
f_untunnel(struct gw_front *f)
{
	(void)f;
}

static const struct gw_peer_id *
f_peer_id(struct gw_front *f)
{
	struct gw_front *conn = ((struct h2s *)f)->c->env.conn;

	return conn->ops->peer_id(conn);
}

static int
f_local_addr(struct gw_front *f, struct ipaddr *a)
{
	struct gw_front *conn = ((struct h2s *)f)->c->env.conn;

	return conn->ops->local_addr(conn, a);
}

static int
f_addrs(struct gw_front *f, struct ipaddr *src, uint16_t *sport, struct ipaddr *dst,
    uint16_t *dport)
{
	struct gw_front *conn = ((struct h2s *)f)->c->env.conn;

	return conn->ops->addrs(conn, src, sport, dst, dport);
}

static const struct gw_front_ops h2_front_ops = {
	.head = f_head,
	.body = f_body,
	.end = f_end,
	.cont = f_cont,
	.pending = f_pending,
	.hold = f_hold,
	.drained = f_drained,
	.done = f_done,
	.reset = f_reset,
	.enter = f_enter,
	.leave = f_leave,
	.tunnel = f_tunnel,
	.untunnel = f_untunnel,
	.trailers = f_trailers,
	.peer_id = f_peer_id,
	.local_addr = f_local_addr,
	.addrs = f_addrs,
};

/* ---- the session ---- */

/*
 * libnghttp2's allocations. Its frame buffer (16 KiB and a frame header,
 * allocated with the session and kept for its life) comes from the page
 * pool: of it an idle connection has written a few hundred bytes (its
 * SETTINGS, a HEADERS), the pages it never wrote cost nothing, and those
 * it wrote are given back once it is idle (h2_idle_cb). From the heap the
 * whole buffer would be resident wherever the heap was used before
 * (measured: 39.5 kB per idle TLS connection, 16 kB of them this buffer).
 * The HPACK tables' index arrays (1 KiB each, made with the session) come
 * from the pool's small blocks: our encoder's is never written (it keeps
 * no table), the decoder's only once the client indexes a field. The rest
 * from the heap. (The codec is not instrumented by the sanitizers whatever
 * its memory: the pool is used under them too, so its own code is checked.)
 */
#define H2_POOL_MIN	8192	/* the frame buffer; nothing else the session makes is as large */

/* A block of the pool for what the session makes as it starts, or NULL. */
static void *
h2_pool_get(struct gw_h2 *c, size_t len)
{
	void *p;

	if (!c->creating)
		return NULL;
	if (len > H2_POOL_MIN && c->fb == NULL) {
		if ((p = gw_pp_alloc(len)) != NULL)
			c->fb = p;
		return p;
	}
	if (len == GW_PP_PAGE && c->map == NULL) {
		if ((p = gw_pp_alloc(len)) != NULL)
			c->map = p;
		return p;
	}
	if (len == GW_PP_SMALL)
		return gw_pp_alloc(len);
	return NULL;
}

static void *
h2_malloc(size_t len, void *arg)
{
	void *p = h2_pool_get(arg, len);

	return p ? p : malloc(len);
}

static void
h2_free(void *p, void *arg)
{
	struct gw_h2 *c = arg;

	if (p != NULL && p == c->fb) {
		h2_idle_del(c);
		c->fb = NULL;
		gw_pp_free(p);
	} else if (p != NULL && p == c->map) {
		c->map = NULL;
		gw_pp_free(p);
	} else if (gw_pp_owns(p))
		gw_pp_free(p);
	else
		free(p);
}

static void *
h2_calloc(size_t n, size_t size, void *arg)
{
	void *p = NULL;

	/* the pool's blocks are zeros */
	if (size && n <= GW_PP_BLOCK / size)
		p = h2_pool_get(arg, n * size);
	return p ? p : calloc(n, size);
}

static void *
h2_realloc(void *p, size_t len, void *arg)
{
	size_t have;
	void *q;

	if (p == NULL)
		return h2_malloc(len, arg);
	if ((have = gw_pp_size(p)) == 0)
		return realloc(p, len);
	if (len <= have)
		return p;	/* the block has room for it */
	if ((q = malloc(len)) == NULL)
		return NULL;
	memcpy(q, p, have);
	h2_free(p, arg);
	return q;
}

static nghttp2_session_callbacks *cbs;
static nghttp2_option *opts;
static pthread_once_t cbs_once = PTHREAD_ONCE_INIT;

static void
cbs_init(void)
{
	nghttp2_session_callbacks_new(&cbs);
	nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, cb_begin_frame);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, cb_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, cb_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cb_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cb_data_chunk);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, cb_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cb_stream_close);
	nghttp2_option_new(&opts);
	nghttp2_option_set_no_auto_window_update(opts, 1);
	nghttp2_option_set_stream_reset_rate_limit(opts, H2_RESET_BURST, H2_RESET_RATE);
	nghttp2_option_set_max_continuations(opts, H2_MAX_CONTINUATIONS);
	nghttp2_option_set_max_settings(opts, H2_MAX_SETTINGS);
	nghttp2_option_set_max_outbound_ack(opts, H2_MAX_OUTBOUND_ACK);
	/*
	 * Our HPACK encoder keeps no dynamic table (HAProxy's keeps none
	 * either): the client's 4096 bytes of it would live, entry by entry,
	 * as long as the connection, idle or not. Answers' fields are coded
	 * from the static table or as literals.
	 */
	nghttp2_option_set_max_deflate_dynamic_table_size(opts, H2_DEFLATE_TABLE);
	/* closed streams: remembered here, by id (struct gw_h2's closed) */
	nghttp2_option_set_no_closed_streams(opts, 1);
}

struct gw_h2 *
gw_h2_new(const struct gw_h2_env *env)
{
	struct gw_h2 *c;
	struct gw_snap *snap = env->w->snap;
	nghttp2_settings_entry iv[4] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW },
		{ NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, 4096 },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
		    snap && snap->max_header_bytes ? snap->max_header_bytes : GW_MAX_HEADERS_BYTES },
	};
	nghttp2_mem mem = { NULL, h2_malloc, h2_free, h2_calloc, h2_realloc };
	int r;

	pthread_once(&cbs_once, cbs_init);
	c = xcalloc(1, sizeof(*c));
	c->env = *env;
	TAILQ_INIT(&c->streams);
	c->scan.skip = sizeof(preface) - 1;	/* the client's preface, then frames */
	mem.mem_user_data = c;	/* the session keeps a copy */
	c->creating = 1;
	r = nghttp2_session_server_new3(&c->s, cbs, c, opts, &mem);
	c->creating = 0;
	if (r != 0) {
		free(c);
		return NULL;
	}
	if (c->fb && env->w->base) {
		if (h2_idle == NULL) {
			h2_idle = xcalloc(1, sizeof(*h2_idle));
			TAILQ_INIT(&h2_idle->q);
			h2_idle->ev = evtimer_new(env->w->base, h2_idle_cb, NULL);
		}
		h2_idle->sessions++;
		c->idle_counted = 1;
	}
	if (nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, iv, 4) != 0 ||
	    nghttp2_session_set_local_window_size(c->s, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW) != 0) {
		gw_h2_free(c);
		return NULL;
	}
	return c;
}

/*
 * Follows the client's frames through p: the bytes up to and including
 * the header of a DATA or HEADERS frame (*id its stream), or all of them
 * (*id 0).
 */
static size_t
h2_scan(struct h2_scan *sc, const uint8_t *p, size_t len, int32_t *id)
{
	size_t i = 0;

	*id = 0;
	while (i < len) {
		if (sc->skip) {
			size_t k = len - i < sc->skip ? len - i : sc->skip;

			i += k;
			sc->skip -= (uint32_t)k;
			continue;
		}
		sc->hdr[sc->have++] = p[i++];
		if (sc->have < sizeof(sc->hdr))
			continue;
		sc->have = 0;
		sc->skip = (uint32_t)sc->hdr[0] << 16 | (uint32_t)sc->hdr[1] << 8 | sc->hdr[2];
		if (sc->hdr[3] == NGHTTP2_DATA || sc->hdr[3] == NGHTTP2_HEADERS) {
			*id = (int32_t)(((uint32_t)sc->hdr[5] << 24 | (uint32_t)sc->hdr[6] << 16 |
			    (uint32_t)sc->hdr[7] << 8 | sc->hdr[8]) & 0x7fffffff);
			if (*id)
				return i;
		}
	}
	return i;
}

/* 1: a DATA or HEADERS on stream id is one on a stream the client had ended, now closed. */
static int
h2_closed_frame(struct gw_h2 *c, int32_t id)
{
	unsigned i;

	if (nghttp2_session_find_stream(c->s, id) != NULL)
		return 0;
	for (i = 0; i < H2_CLOSED && i < c->closedn; i++)
		if (c->closed[i] == id)
			return 1;
	return 0;
}

/* Bytes to the codec; -1 on a connection error. */
static int
h2_recv(struct gw_h2 *c, const uint8_t *p, size_t len)
{
	ssize_t n = 0;

	/* all of it is taken (no callback pauses the codec) */
	for (; len > 0 && !c->over && !c->failed; p += n, len -= (size_t)n)
		if ((n = nghttp2_session_mem_recv(c->s, p, len)) <= 0)
			break;
	if (n < 0) {
		/* a connection error: GOAWAY is queued when the codec could say why */
		c->failed = 1;
		if (n == NGHTTP2_ERR_FLOODED || n == NGHTTP2_ERR_BAD_CLIENT_MAGIC ||
		    n == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS)
			(void)nghttp2_session_terminate_session(c->s, NGHTTP2_ENHANCE_YOUR_CALM);
	}
	return c->failed ? -1 : 0;
}

int
gw_h2_input(struct gw_h2 *c)
{
	struct evbuffer *in = gw_io_input(c->env.io);

	if (c->over) {
		evbuffer_drain(in, evbuffer_get_length(in));	/* closing: not read */
		return -1;
	}
	h2_begin(c);
	while (!c->over && !c->failed && evbuffer_get_length(in)) {
		struct evbuffer_iovec v;
		const uint8_t *p;
		size_t from = 0, at = 0;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		p = v.iov_base;
		/*
		 * Up to the last byte of each DATA or HEADERS frame header, then
		 * its stream looked at: the frames before it are processed,
		 * this one is not begun.
		 */
		while (at < v.iov_len && !c->over && !c->failed) {
			int32_t id;

			at += h2_scan(&c->scan, p + at, v.iov_len - at, &id);
			if (id == 0)
				break;
			if (h2_recv(c, p + from, at - 1 - from) == -1)
				break;
			from = at - 1;
			if (!c->over && h2_closed_frame(c, id))
				(void)nghttp2_session_terminate_session(c->s, NGHTTP2_STREAM_CLOSED);
		}
		(void)h2_recv(c, p + from, v.iov_len - from);
		if (c->failed) {
			evbuffer_drain(in, evbuffer_get_length(in));
			break;
		}
		evbuffer_drain(in, v.iov_len);
	}
	if (c->failed) {
		/* write the GOAWAY, then close */
		const uint8_t *d;
		ssize_t n;

		while ((n = nghttp2_session_mem_send(c->s, &d)) > 0)
			evbuffer_add(gw_io_output(c->env.io), d, (size_t)n);
	}
	h2_end(c);
	return c->failed ? -1 : 0;
}

void
gw_h2_writable(struct gw_h2 *c)
{
	h2_begin(c);
	h2_end(c);
}

int
gw_h2_timeout(struct gw_h2 *c)
{
	/* idle: no stream; stalled: streams whose answers the client does not take */
	if (c->nstreams == 0 || c->sent == c->sent_at_timeout) {
		(void)nghttp2_session_terminate_session(c->s, NGHTTP2_NO_ERROR);
		h2_begin(c);
		h2_end(c);
		return 0;
	}
	c->sent_at_timeout = c->sent;
	return 1;
}

void
gw_h2_shutdown(struct gw_h2 *c)
{
	if (c->shutdown)
		return;
	c->shutdown = 1;
	h2_begin(c);
	(void)nghttp2_submit_goaway(c->s, NGHTTP2_FLAG_NONE,
	    nghttp2_session_get_last_proc_stream_id(c->s), NGHTTP2_NO_ERROR, NULL, 0);
	h2_end(c);
}

void
gw_h2_free(struct gw_h2 *c)
{
	struct h2s *hs;

	if (c == NULL)
		return;
	c->over = 1;
	while ((hs = TAILQ_FIRST(&c->streams)) != NULL) {
		struct gw_stream *st = hs->st;

		if (st) {
			hs->st = NULL;
			gw_stream_client_gone(st);
			gw_stream_free(st, st->snap != NULL);
		}
		TAILQ_REMOVE(&c->streams, hs, link);
		h2s_free(hs);
	}
	while (c->ndead > 0) {
		struct gw_stream *st = c->dead[--c->ndead];

		gw_stream_free(st, st->snap != NULL);
	}
	nghttp2_session_del(c->s);	/* frees c->fb (h2_free) */
	h2_idle_del(c);
	if (c->idle_counted && --h2_idle->sessions == 0) {
		/* this thread's last: nothing left to look at (a worker that ends frees it) */
		event_free(h2_idle->ev);
		free(h2_idle);
		h2_idle = NULL;
	}
	free(c);
}
