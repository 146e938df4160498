/*
 * The front: downstream HTTP/1.1 connections. Requests are parsed with
 * libhttp-parser in strict mode after gw_h1_scan's line rules, one at a
 * time per connection (pipelined requests wait in the input buffer and are
 * answered in order), each handed to a stream (gw-stream.h); answers come
 * back through h1_front_ops and are framed here (content-length, chunked
 * or close-delimited, keep-alive). TLS is below, in gw_io. A connection
 * that negotiates "h2" by ALPN, or opens with the HTTP/2 preface on a plain
 * port (Envoy's codec AUTO), is handed to gw_front_h2.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <http_parser.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "gw-front.h"
#include "gw-front-h2.h"
#include "gw-h1.h"
#include "gw-hdr.h"
#include "gw-io.h"
#include "gw-local.h"
#include "gw-path.h"
#include "gw-snap.h"
#include "gw-stats-t.h"
#include "gw-stream.h"
#include "gw-uphead.h"
#include "gw-worker-t.h"
#include "vipgate/gw-route-t.h"

struct gw_dconn {
	struct gw_front		 f;		/* first: streams reach it as a gw_front */
	struct gw_worker	*w;
	struct gw_io		*io;
	http_parser		 p;
	uint16_t		 port;
	uint32_t		 scope;		/* the listener's deployment and bind */
	int			 tls;
	char			 peer[INET6_ADDRSTRLEN];
	struct ipaddr		 local;		/* from a PROXY header; family 0: the socket's */
	struct ipaddr		 src;		/* the client's address and port */
	uint16_t		 sport, lport;	/* lport: a PROXY header's destination port */
	struct gw_stream	*req;		/* the request being served */
	/* the answer to it, as this connection frames it */
	int			 keepalive;
	int			 http10;
	int			 down_chunked;	/* the answer goes chunked */
	int			 down_close;	/* ... or delimited by the close */
	int			 paused, resume, in_feed, bp;
	uint8_t			 hscan;		/* GW_H1_SCAN_*: line rules of the head being read */
	int			 closing;
	int			 lingering;	/* write side shut, reading what is left */
	int			 depth;		/* inside a callback that stages output */
	int			 dead;		/* freed while staged: free at the end */
	struct evbuffer		*stage;		/* output written while depth > 0 */
	struct gw_tls_conn	 tc;
	struct gw_snap		*hs_snap;	/* TLS: the snapshot its contexts come from */
	struct gw_io		*tpeer;		/* after a 101: bytes go both ways as they are */
	struct gw_peer_id	*pid;		/* the client certificate, once looked at */
	int			 pid_done;
	int			 fresh;		/* nothing read yet: HTTP/2 may begin */
	int			 port_gone;	/* a reload removed its port: no keep-alive */
	struct gw_h2		*h2;		/* HTTP/2: the session carries the streams */
	struct event		*ev_over;	/* its end, looked at after its callback */
	TAILQ_ENTRY(gw_dconn)	 link;
};

static const struct gw_front_ops h1_front_ops;
static http_parser_settings dset;

static void dc_feed(struct gw_dconn *);
static int dc_choose(struct gw_dconn *);
static void dc_h2_over(void *);
static void dc_free(struct gw_dconn *);
static void dc_free_now(struct gw_dconn *);
static int dc_close_if_done(struct gw_dconn *);

/*
 * Speculative sending, as HAProxy does: what a callback writes to the
 * client is staged and written straight to the socket at the end of it;
 * only what the socket refuses waits for EV_WRITE. This saves the event
 * add/remove pair (two epoll_ctl) and a loop round per answer.
 */
static struct evbuffer *
dc_out(struct gw_dconn *dc)
{
	return dc->depth ? dc->stage : gw_io_output(dc->io);
}

static size_t
dc_pending(struct gw_dconn *dc)
{
	return evbuffer_get_length(gw_io_output(dc->io)) +
	    evbuffer_get_length(dc->stage);
}

static void
dc_begin(struct gw_dconn *dc)
{
	dc->depth++;
}

static void
dc_end(struct gw_dconn *dc)
{
	struct evbuffer *out;

	if (--dc->depth > 0)
		return;
	if (dc->dead) {
		dc_free_now(dc);
		return;
	}
	out = gw_io_output(dc->io);
	if (evbuffer_get_length(dc->stage)) {
		if (evbuffer_get_length(out) == 0 && !dc->tls)
			(void)gw_io_sendbuf(gw_io_fd(dc->io), dc->stage);
		if (evbuffer_get_length(dc->stage))
			evbuffer_add_buffer(out, dc->stage);
		if (dc->tls)
			gw_io_send_now(dc->io);	/* sealed and sent now, not after the round */
	}
	dc_close_if_done(dc);
}

static const char *
reason(int code)
{
	const char *r = http_status_str((enum http_status)code);

	return r && *r && strcmp(r, "<unknown>") != 0 ? r : "Unknown";
}

/* A parse error before any request could be answered: 400/431 and close. */
static void
dc_reject(struct gw_dconn *dc, int code, const char *msg)
{
	struct evbuffer *out = dc_out(dc);
	size_t len = strlen(msg), dlen;
	const char *date;

	if (dc->req && dc->req->resp_started) {
		dc->closing = 1;
		return;
	}
	date = gw_http_date(&dlen);
	if (dc->req)
		gw_stream_reqid(dc->req);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\ncontent-length: %zu\r\ncontent-type: text/plain\r\n"
	    "date: %.*s\r\n%s%s%sserver: istio-envoy\r\nconnection: close\r\n\r\n%s",
	    code, reason(code), len, (int)dlen, date, dc->req ? "x-request-id: " : "",
	    dc->req ? dc->req->reqid : "", dc->req ? "\r\n" : "", msg);
	if (dc->req) {
		dc->req->code = code;
		dc->req->flags = "DPE";
	}
	dc->closing = 1;
}

/* A downstream read timeout in ms; 0 turns it off. */
static void
dc_timeout(struct gw_dconn *dc, int64_t ms)
{
	if (ms > 0)
		gw_io_set_timeouts(dc->io, &(struct timeval){ ms / 1000, (ms % 1000) * 1000 }, NULL);
	else
		gw_io_set_timeouts(dc->io, NULL, NULL);
}

/* ---- what the stream asks (h1_front_ops) ---- */

static void
f_head(struct gw_front *f, const struct gw_resp *r)
{
	struct gw_dconn *dc = (struct gw_dconn *)f;
	struct gw_stream *st = dc->req;
	struct evbuffer *out = dc_out(dc);
	const char *rs = reason(r->status);
	char line[64];
	size_t n = 9, i;

	memcpy(line, "HTTP/1.1 ", 9);
	n += gw_fmt_u64(line + n, (uint64_t)r->status);
	line[n++] = ' ';
	evbuffer_add(out, line, n);
	evbuffer_add(out, rs, strlen(rs));
	evbuffer_add(out, "\r\n", 2);
	for (i = 0; i < r->n; i++) {
		evbuffer_add(out, r->f[i].name, r->f[i].nlen);
		evbuffer_add(out, ": ", 2);
		evbuffer_add(out, r->f[i].value, r->f[i].vlen);
		evbuffer_add(out, "\r\n", 2);
	}
	if (r->upgrade) {
		evbuffer_add(out, "\r\n", 2);
		return;
	}
	if (r->local) {
		int close_after = !st->body_done || !dc->keepalive;

		evbuffer_add_printf(out, "%s\r\n", close_after ? "connection: close\r\n" :
		    dc->http10 ? "connection: keep-alive\r\n" : "");
		if (close_after)
			dc->closing = 1;
		return;
	}
	if (st->upgrade)
		dc->keepalive = 0;	/* refused: the parser is past the request */
	if (!r->no_body && !r->has_length) {
		if (dc->http10)
			dc->down_close = 1;
		else {
			evbuffer_add(out, "transfer-encoding: chunked\r\n", 28);
			dc->down_chunked = 1;
		}
	}
	if (dc->down_close || !dc->keepalive || !st->body_done) {
		evbuffer_add(out, "connection: close\r\n", 19);
		dc->keepalive = 0;	/* closed when the answer is complete */
	} else if (dc->http10)
		evbuffer_add(out, "connection: keep-alive\r\n", 24);
	evbuffer_add(out, "\r\n", 2);
}

static void
f_body(struct gw_front *f, const void *p, size_t len)
{
	struct gw_dconn *dc = (struct gw_dconn *)f;
	struct evbuffer *out = dc_out(dc);

	if (dc->req->is_head)
		return;
	if (dc->down_chunked)
		evbuffer_add_printf(out, "%zx\r\n", len);
	evbuffer_add(out, p, len);
	if (dc->down_chunked)
		evbuffer_add(out, "\r\n", 2);
}

static void
f_end(struct gw_front *f)
{
	struct gw_dconn *dc = (struct gw_dconn *)f;

	if (dc->down_chunked)
		evbuffer_add(dc_out(dc), "0\r\n\r\n", 5);
	if (dc->down_close || !dc->keepalive)
		dc->closing = 1;
}

static void
f_cont(struct gw_front *f)
{
	struct gw_dconn *dc = (struct gw_dconn *)f;

	evbuffer_add(dc_out(dc), "HTTP/1.1 100 Continue\r\n\r\n", 25);
}

static size_t
f_pending(struct gw_front *f)
{
	return dc_pending((struct gw_dconn *)f);
}

static void
f_hold(struct gw_front *f, int on)
{
	struct gw_dconn *dc = (struct gw_dconn *)f;

	if (on)
		http_parser_pause(&dc->p, 1);
	else if (!dc->dead && dc->paused) {
		dc->resume = 1;
		dc_feed(dc);
	}
}

static void
f_drained(struct gw_front *f)
{
	struct gw_dconn *dc = (struct gw_dconn *)f;

	if (!dc->bp)
		return;
	dc->bp = 0;
	dc->resume = 1;
	dc_feed(dc);
	dc_close_if_done(dc);
}

/* The stream is over: free it and go on with the next request, or close. */
static void
f_done(struct gw_front *f)
{
	struct gw_dconn *dc = (struct gw_dconn *)f;
	struct gw_stream *st = dc->req;

	if (!st->body_done)
		dc->closing = 1;	/* the rest of its body is not read */
	dc->req = NULL;
	dc->hscan = GW_H1_SCAN_START;	/* what follows is the next request */
	gw_stream_free(st, 1);
	if (dc->closing) {
		gw_io_setwatermark(dc->io, EV_WRITE, 0, 0);
		return;
	}
	dc_timeout(dc, dc->w->snap ? dc->w->snap->idle_timeout_ms : GW_IDLE_TIMEOUT_MS);
	dc->resume = 1;
	if (!dc->in_feed)
		dc_feed(dc);
}

static void
f_reset(struct gw_front *f)
{
	dc_free((struct gw_dconn *)f);
}

static void
f_enter(struct gw_front *f)
{
	dc_begin((struct gw_dconn *)f);
}

static void
f_leave(struct gw_front *f)
{
	dc_end((struct gw_dconn *)f);
}

static struct gw_io *
f_tunnel(struct gw_front *f, struct gw_io *io, struct evbuffer *rest)
{
	struct gw_dconn *dc = (struct gw_dconn *)f;

	dc->tpeer = io;
	gw_io_set_timeouts(dc->io, &(struct timeval){ 3600, 0 }, NULL);
	gw_io_setwatermark(dc->io, EV_READ, 0, 0);
	/* what followed the heads on either side belongs to the new protocol */
	if (evbuffer_get_length(rest))
		evbuffer_add_buffer(dc_out(dc), rest);
	if (evbuffer_get_length(gw_io_input(dc->io)))
		gw_io_write_buffer(io, gw_io_input(dc->io));
	gw_io_enable(dc->io, EV_READ | EV_WRITE);
	return dc->io;
}

static void
f_untunnel(struct gw_front *f)
{
	struct gw_dconn *dc = (struct gw_dconn *)f;

	dc->tpeer = NULL;
	dc->closing = 1;
}

/* The first SAN of a type, copied; NULL when none. */
static char *
san_first(X509 *x, int type)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	char *r = NULL;
	int i;

	for (i = 0; names && r == NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const ASN1_IA5STRING *s;

		if (g->type != type)
			continue;
		s = type == GEN_URI ? g->d.uniformResourceIdentifier : g->d.dNSName;
		r = xstrndup((const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	}
	GENERAL_NAMES_free(names);
	return r;
}

/* The client certificate of a TLS connection, read once and kept. */
static const struct gw_peer_id *
f_peer_id(struct gw_front *f)
{
	struct gw_dconn *dc = (struct gw_dconn *)f;
	struct gw_peer_id *p;
	SSL *ssl;
	X509 *x;
	BIO *b;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdl = 0, i;

	if (dc->pid_done)
		return dc->pid;
	dc->pid_done = 1;
	if (!dc->tls || (ssl = gw_io_ssl(dc->io)) == NULL ||
	    (x = SSL_get1_peer_certificate(ssl)) == NULL)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->uri = san_first(x, GEN_URI);
	if (p->uri && strncmp(p->uri, "spiffe://", 9) == 0)
		p->principal = p->uri + 9;
	p->dns = san_first(x, GEN_DNS);
	if ((b = BIO_new(BIO_s_mem())) != NULL) {
		char *s;
		long n;

		X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
		n = BIO_get_mem_data(b, &s);
		p->subject = xstrndup(s, n > 0 ? (size_t)n : 0);
		BIO_free(b);
	}
	if (X509_digest(x, EVP_sha256(), md, &mdl) == 1)
		for (i = 0; i < mdl && i < 32; i++)
			snprintf(p->hash + 2 * i, 3, "%02x", md[i]);
	X509_free(x);
	dc->pid = p;
	return p;
}

static void
peer_id_free(struct gw_peer_id *p)
{
	if (p == NULL)
		return;
	free((char *)p->uri);
	free((char *)p->dns);
	free((char *)p->subject);
	free(p);
}

static int
f_local_addr(struct gw_front *f, struct ipaddr *a)
{
	struct gw_dconn *dc = (struct gw_dconn *)f;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (dc->local.family) {
		*a = dc->local;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	if (getsockname(gw_io_fd(dc->io), (struct sockaddr *)&ss, &sl) == -1)
		return -1;
	if (ss.ss_family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->a, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			a->family = AF_INET;
			memcpy(a->a, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			a->family = AF_INET6;
			memcpy(a->a, &s6->sin6_addr, 16);
		}
	} else
		return -1;
	return 0;
}

static int
f_addrs(struct gw_front *f, struct ipaddr *src, uint16_t *sport, struct ipaddr *dst,
    uint16_t *dport)
{
	struct gw_dconn *dc = (struct gw_dconn *)f;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (dc->src.family == 0 || f_local_addr(f, dst) == -1)
		return -1;
	*src = dc->src;
	*sport = dc->sport;
	*dport = dc->lport;
	if (dc->local.family == 0 && getsockname(gw_io_fd(dc->io), (struct sockaddr *)&ss, &sl) == 0)
		*dport = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
		    ((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/* Envoy's HTTP/1.1 codec drops trailers (enable_trailers is off) */
static void
f_trailers(struct gw_front *f, const struct gw_hdr *h, size_t n)
{
	(void)f;
	(void)h;
	(void)n;
}

static const struct gw_front_ops h1_front_ops = {
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

/* ---- the request's parser ---- */

/*
 * The request target as it is routed and forwarded (gw-path.h): normalized
 * in place, and an absolute form's authority made the Host (RFC 9112 3.2.2:
 * it takes precedence; Envoy's codec does the same). -1: answered 400/431.
 */
static int
dc_target(struct gw_dconn *dc, struct hhead *hh, int mode)
{
	struct gw_target t;
	char *tmp, *auth = NULL, msg[128];
	ssize_t n;
	size_t i;

	if (!gw_target_needs_work(hh->b.s, hh->url_l, (enum gw_pathnorm)mode))
		return 0;
	tmp = xmalloc(hh->url_l + 1);
	n = gw_target_normalize(hh->b.s, hh->url_l, (enum gw_pathnorm)mode,
	    dc->p.method == HTTP_OPTIONS, tmp, &t);
	if (n < 0) {
		free(tmp);
		snprintf(msg, sizeof(msg), "invalid request target: %s\n", t.why);
		dc_reject(dc, 400, msg);
		return -1;
	}
	if (t.auth && !gw_authority_ok(t.auth, t.authlen)) {
		free(tmp);
		dc_reject(dc, 400, "invalid request target: bad authority\n");
		return -1;
	}
	if (t.auth)
		auth = xstrndup(t.auth, t.authlen);
	memcpy(hh->b.s, tmp, (size_t)n);
	hh->url_l = (uint32_t)n;
	free(tmp);
	if (auth == NULL)
		return 0;
	if (!hh_room(hh, t.authlen + 4)) {
		free(auth);
		dc_reject(dc, 431, "request header fields too large\n");
		return -1;
	}
	for (i = 0; i < hh->n; i++)
		if (HNAME_IS(hh, i, "host")) {
			hh->h[i].vo = (uint32_t)hh->b.len;
			hh->h[i].vl = (uint32_t)t.authlen;
			buf_append(&hh->b, auth, t.authlen);
			break;
		}
	if (i == hh->n && (hh_field(hh, "host", 4) == -1 || hh_value(hh, auth, t.authlen) == -1)) {
		free(auth);
		dc_reject(dc, 431, "request header fields too large\n");
		return -1;
	}
	free(auth);
	return 0;
}

static int
d_begin(http_parser *p)
{
	struct gw_dconn *dc = p->data;
	struct gw_stream *st;

	if (dc->closing)
		return -1;
	st = gw_stream_new(dc->w, &dc->f);
	st->t0_us = now_us();
	st->flags = "-";
	st->method = -1;	/* not read yet */
	dc->req = st;
	dc->keepalive = dc->http10 = dc->down_chunked = dc->down_close = 0;
	st->hh.max = dc->w->snap ? dc->w->snap->max_header_bytes : 0;
	dc_timeout(dc, dc->w->snap ? dc->w->snap->header_timeout_ms : GW_HEADER_TIMEOUT_MS);
	return 0;
}

static int
d_url(http_parser *p, const char *at, size_t len)
{
	struct gw_dconn *dc = p->data;
	struct gw_stream *st = dc->req;

	if (st == NULL || !hh_room(&st->hh, len))
		return -1;
	st->method = p->method;	/* the request line's method is read */
	buf_append(&st->hh.b, at, len);
	st->hh.url_l += (uint32_t)len;
	return 0;
}

static int
d_field(http_parser *p, const char *at, size_t len)
{
	struct gw_dconn *dc = p->data;

	return dc->req ? hh_field(&dc->req->hh, at, len) : -1;
}

static int
d_value(http_parser *p, const char *at, size_t len)
{
	struct gw_dconn *dc = p->data;

	return dc->req ? hh_value(&dc->req->hh, at, len) : -1;
}

/* Exactly one valid Host in HTTP/1.1, at most one before (RFC 9112 3.2; Envoy: 400). */
static int
dc_check_host(struct gw_dconn *dc, const struct hhead *hh)
{
	size_t i, nhost = 0;

	for (i = 0; i < hh->n; i++)
		if (HNAME_IS(hh, i, "host")) {
			nhost++;
			if (!gw_authority_ok(HV(hh, i), hh->h[i].vl)) {
				dc_reject(dc, 400, "invalid host header\n");
				return -1;
			}
		}
	if (nhost > 1 || (nhost == 0 && dc->p.http_major == 1 && dc->p.http_minor == 1)) {
		dc_reject(dc, 400, nhost ? "more than one host header\n" : "missing host header\n");
		return -1;
	}
	return 0;
}

static int
d_headers_done(http_parser *p)
{
	struct gw_dconn *dc = p->data;
	struct gw_stream *st = dc->req;
	struct hhead *hh;
	int expect = 0;

	if (st == NULL)
		return -1;
	hh = &st->hh;
	if (dc->hscan != GW_H1_SCAN_DONE) {
		/* the parser and the line rules disagree on where the head ends */
		dc_reject(dc, 400, "bad request\n");
		return -1;
	}
	switch (gw_h1_framing(hh, &expect)) {
	case GW_H1_OK:
		break;
	case GW_H1_BAD_TE:
		dc_reject(dc, 400, "bad transfer-encoding\n");
		return -1;
	default:
		dc_reject(dc, 400, "ambiguous message framing\n");
		return -1;
	}
	if (dc_check_host(dc, hh) == -1)
		return -1;
	if (p->http_major != 1) {
		dc_reject(dc, 505, "http version not supported\n");
		return -1;
	}
	dc->http10 = p->http_minor == 0;
	/* draining: answer, then close, so clients move to another node (Envoy's drain) */
	dc->keepalive = http_should_keep_alive(p) && !dc->w->draining && !dc->port_gone;
	/*
	 * Istio configures only websocket upgrades (upgrade_configs); any
	 * other (h2c, TLS/1.0 ...) is served as a plain request without its
	 * Upgrade field, as Envoy does, and the parser goes on after it.
	 */
	st->upgrade = p->upgrade && p->method != HTTP_CONNECT && gw_h1_websocket(hh);
	if (p->upgrade && !st->upgrade && p->method != HTTP_CONNECT)
		p->upgrade = 0;
	st->has_body = (p->flags & F_CHUNKED) ||
	    (p->content_length > 0 && p->content_length != ULLONG_MAX);
	if (p->method == HTTP_CONNECT) {
		dc_reject(dc, 405, "CONNECT is not served\n");
		return -1;
	}
	if (dc_target(dc, hh, dc->w->snap ? dc->w->snap->pathnorm : GW_PATHNORM_BASE) == -1)
		return -1;
	st->method = p->method;
	st->proto = dc->http10 ? "HTTP/1.0" : "HTTP/1.1";
	st->port = dc->port;
	st->scope = dc->scope;
	st->tls = dc->tls;
	if (dc->tls) {
		SSL *ssl = gw_io_ssl(dc->io);

		st->sni = ssl ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : NULL;
	}
	st->peer = dc->peer;
	st->body_chunked = (p->flags & F_CHUNKED) != 0;
	st->content_length = p->content_length;
	/* Envoy answers 100-continue itself, and only when the body will be read */
	st->expect = expect && !dc->http10;	/* RFC 9110 10.1.1: HTTP/1.0 ignores it */
	st->snap = gw_snap_ref(dc->w->snap);
	gw_stream_head(st);
	return 0;
}

static int
d_body(http_parser *p, const char *at, size_t len)
{
	struct gw_dconn *dc = p->data;

	if (dc->req == NULL)
		return -1;
	if (gw_stream_body(dc->req, at, len)) {
		dc->bp = 1;
		http_parser_pause(p, 1);
	}
	return 0;
}

static int
d_complete(http_parser *p)
{
	struct gw_dconn *dc = p->data;

	if (dc->req == NULL)
		return dc->closing ? -1 : 0;
	/* one request at a time: the next waits for this answer */
	http_parser_pause(p, 1);
	gw_stream_end(dc->req);
	return 0;
}

/* A head that cannot be served: the answer, and nothing goes upstream. */
static void
dc_bad_head(struct gw_dconn *dc, int code, const char *msg)
{
	struct gw_stream *st = dc->req;

	/* bytes that never began a request still get their line in the access log */
	if (st == NULL && !dc->closing && d_begin(&dc->p) == 0)
		st = dc->req;
	if (!st || !st->resp_started)
		dc_reject(dc, code, msg);
	else
		dc->closing = 1;
	if (st && !st->resp_done) {
		if (!st->code)
			st->code = code;
		st->resp_started = st->resp_done = 1;
		st->body_done = 1;
		f_done(&dc->f);
	}
}

static void
dc_feed(struct gw_dconn *dc)
{
	struct evbuffer *in = gw_io_input(dc->io);

	if (dc->in_feed)
		return;
	dc->in_feed = 1;
	for (;;) {
		struct evbuffer_iovec v;
		size_t n;
		enum http_errno e;

		if (dc->resume) {
			dc->resume = 0;
			dc->paused = 0;
			http_parser_pause(&dc->p, 0);
		}
		if (dc->paused || dc->closing || evbuffer_get_length(in) == 0)
			break;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		if (dc->hscan != GW_H1_SCAN_DONE) {
			const char *why = NULL;
			char msg[96];

			if (gw_h1_scan(&dc->hscan, v.iov_base, v.iov_len, &why) < 0) {
				snprintf(msg, sizeof(msg), "bad request: %s\n", why);
				dc_bad_head(dc, 400, msg);
				break;
			}
		}
		n = http_parser_execute(&dc->p, &dset, v.iov_base, v.iov_len);
		evbuffer_drain(in, n);
		e = HTTP_PARSER_ERRNO(&dc->p);
		if (e == HPE_PAUSED) {
			dc->paused = 1;
			continue;
		}
		if (dc->closing)
			break;
		if (e != HPE_OK) {
			if ((dc->req && dc->req->hh.overflow) || e == HPE_HEADER_OVERFLOW)
				dc_bad_head(dc, 431, "request header fields too large\n");
			else
				dc_bad_head(dc, 400, "bad request\n");
			break;
		}
		if (dc->p.upgrade) {
			/* Upgrade is not passed through (yet): no request follows on this connection */
			dc->closing = dc->req == NULL;
			dc->paused = 1;
			break;
		}
		if (n == 0)
			break;
	}
	dc->in_feed = 0;
	if (dc->closing)
		gw_io_setwatermark(dc->io, EV_WRITE, 0, 0);
}

/* ---- HTTP/2 ---- */

static void
dc_over_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct gw_dconn *dc = arg;

	(void)fd;
	(void)ev;
	(void)dc_close_if_done(dc);
}

/* The session is over: the connection closes once its output is written. */
static void
dc_h2_over(void *arg)
{
	struct gw_dconn *dc = arg;

	if (dc->closing)
		return;
	dc->closing = 1;
	gw_io_setwatermark(dc->io, EV_WRITE, 0, 0);
	/* a client that does not read its GOAWAY is not waited for long */
	gw_io_set_timeouts(dc->io, &(struct timeval){ 2, 0 }, &(struct timeval){ 2, 0 });
	gw_io_enable(dc->io, EV_READ);
	/* looked at after the session's callback returned: it may be on the stack */
	if (dc->ev_over == NULL)
		dc->ev_over = event_new(dc->w->base, -1, 0, dc_over_cb, dc);
	event_active(dc->ev_over, 0, 0);
}

static void
dc_start_h2(struct gw_dconn *dc)
{
	struct gw_h2_env env = { 0 };

	env.w = dc->w;
	env.io = dc->io;
	env.conn = &dc->f;
	env.port = dc->port;
	env.scope = dc->scope;
	env.tls = dc->tls;
	env.peer = dc->peer;
	env.over = dc_h2_over;
	env.arg = dc;
	if (dc->tls) {
		SSL *ssl = gw_io_ssl(dc->io);

		env.sni = ssl ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : NULL;
	}
	if ((dc->h2 = gw_h2_new(&env)) == NULL) {
		dc->closing = 1;
		return;
	}
	__atomic_add_fetch(&dc->w->stats.cx_http2_total, 1, __ATOMIC_RELAXED);
	gw_io_setwatermark(dc->io, EV_READ, 0, 0);
	dc_timeout(dc, dc->w->snap ? dc->w->snap->idle_timeout_ms : GW_IDLE_TIMEOUT_MS);
	gw_h2_writable(dc->h2);	/* the server preface: SETTINGS */
}

/*
 * HTTP/1.1 or HTTP/2, as Envoy's codec AUTO chooses: ALPN first, then the
 * first bytes of a plain connection. 0: not known yet (a preface begun).
 */
static int
dc_choose(struct gw_dconn *dc)
{
	struct evbuffer *in = gw_io_input(dc->io);
	size_t n = evbuffer_get_length(in);
	int full;

	if (dc->tls) {
		SSL *ssl = gw_io_ssl(dc->io);
		const unsigned char *a = NULL;
		unsigned int al = 0;

		if (ssl == NULL || !SSL_is_init_finished(ssl))
			return 1;
		SSL_get0_alpn_selected(ssl, &a, &al);
		dc->fresh = 0;
		if (al == 2 && memcmp(a, "h2", 2) == 0)
			dc_start_h2(dc);
		return 1;
	}
	if (n == 0)
		return 0;
	if (n > 24)
		n = 24;
	if (!gw_h2_preface(evbuffer_pullup(in, (ssize_t)n), n, &full)) {
		dc->fresh = 0;
		return 1;
	}
	if (!full)
		return 0;
	dc->fresh = 0;
	dc_start_h2(dc);
	return 1;
}

void
gw_front_ports(struct gw_worker *w, const struct gw_snap *s)
{
	struct gw_dconn *dc, *next;

	for (dc = TAILQ_FIRST(&w->conns); dc; dc = next) {
		next = TAILQ_NEXT(dc, link);
		if (dc->port_gone || dc->tpeer || (s && gw_snap_listener(s, dc->port, dc->scope)))
			continue;
		dc->port_gone = 1;
		if (dc->h2 && !dc->closing)
			gw_h2_shutdown(dc->h2);	/* GOAWAY: the streams in flight finish */
		else if (!dc->h2 && dc->req == NULL && !dc->closing && !dc->lingering && !dc->depth)
			dc_free(dc);	/* idle keep-alive: closed at once */
	}
}

void
gw_front_drain(struct gw_worker *w, int close_idle)
{
	struct gw_dconn *dc, *next;

	for (dc = TAILQ_FIRST(&w->conns); dc; dc = next) {
		next = TAILQ_NEXT(dc, link);
		if (dc->h2 && !dc->closing)
			gw_h2_shutdown(dc->h2);
		/* the listeners are closed and the routes gone: an idle
		 * keep-alive connection would only hold the exit up */
		else if (close_idle && !dc->h2 && !dc->tpeer && dc->req == NULL &&
		    !dc->closing && !dc->lingering && !dc->depth)
			dc_free(dc);
	}
}

/* ---- events ---- */

/* The head did not come in time: 408, and the connection closes. */
static void
dc_head_timeout(struct gw_dconn *dc)
{
	struct gw_stream *st = dc->req;

	dc_reject(dc, 408, "request timeout\n");
	st->resp_started = st->resp_done = st->body_done = 1;
	f_done(&dc->f);
}

/*
 * gateway.header_timeout is a deadline for the whole head from its first
 * byte (Envoy's request_headers_timeout): the read timeout, which restarts
 * on every read, is cut to what is left. Only a head split across reads
 * pays for the clock.
 */
static void
dc_head_deadline(struct gw_dconn *dc)
{
	struct gw_stream *st = dc->req;
	int64_t ms, left;

	if (st == NULL || st->snap || st->resp_started || dc->closing)
		return;
	ms = dc->w->snap ? dc->w->snap->header_timeout_ms : GW_HEADER_TIMEOUT_MS;
	if (ms <= 0)
		return;
	left = ms - (now_us() - st->t0_us) / 1000;
	if (left > 0)
		dc_timeout(dc, left);
	else
		dc_head_timeout(dc);
}

static void
dc_readcb(struct gw_io *io, void *arg)
{
	struct gw_dconn *dc = arg;

	if (dc->lingering) {
		struct evbuffer *in = gw_io_input(io);

		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (dc->tpeer) {
		gw_io_pump(io, dc->tpeer, GW_HWM);
		return;
	}
	if (dc->fresh && dc_choose(dc) == 0)
		return;	/* the preface is not all here yet */
	if (dc->h2) {
		if (gw_h2_input(dc->h2) == -1)
			dc_h2_over(dc);
		return;
	}
	dc_begin(dc);
	dc_feed(dc);
	dc_head_deadline(dc);
	dc_close_if_done(dc);
	dc_end(dc);
}

static void
dc_writecb(struct gw_io *io, void *arg)
{
	struct gw_dconn *dc = arg;

	(void)io;
	if (dc->tpeer) {
		gw_io_enable(dc->tpeer, EV_READ);
		return;
	}
	if (dc_close_if_done(dc))
		return;
	if (dc->h2) {
		if (!dc->closing)
			gw_h2_writable(dc->h2);
		return;
	}
	if (dc->req) {
		dc_begin(dc);
		gw_stream_writable(dc->req);
		dc_end(dc);
	}
}

static void
dc_eventcb(struct gw_io *io, short what, void *arg)
{
	struct gw_dconn *dc = arg;

	if (what & BEV_EVENT_CONNECTED) {
		/* a TLS handshake completed: HTTP/2 says so by ALPN */
		if (dc->fresh)
			(void)dc_choose(dc);
		return;
	}
	if (dc->tpeer || dc->lingering) {
		dc_free(dc);
		return;
	}
	if (dc->h2) {
		if ((what & BEV_EVENT_TIMEOUT) && !dc->closing && gw_h2_timeout(dc->h2)) {
			gw_io_enable(io, EV_READ);
			return;
		}
		if ((what & BEV_EVENT_TIMEOUT) && !dc->closing)
			return;	/* GOAWAY written: closed when it is out */
		dc_free(dc);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (dc->req && dc->req->snap && !dc->req->resp_done) {
			/* waiting for the upstream: the client may stay silent */
			gw_io_enable(io, EV_READ);
			return;
		}
		if (dc->req && !dc->req->resp_started && !dc->req->snap) {
			dc_head_timeout(dc);
			dc_close_if_done(dc);
			return;
		}
	}
	if (dc->req)
		gw_stream_client_gone(dc->req);
	dc_free(dc);
}

static int
dc_close_if_done(struct gw_dconn *dc)
{
	struct evbuffer *in;

	if (!dc->closing || dc->in_feed || dc->lingering || dc->depth || dc->dead ||
	    dc_pending(dc) != 0)
		return 0;
	in = gw_io_input(dc->io);
	/* HTTP/2: the client may have sent more (a PING after its GOAWAY) */
	if (dc->req == NULL && evbuffer_get_length(in) == 0 && !dc->paused && dc->h2 == NULL) {
		dc_free(dc);
		return 1;
	}
	/*
	 * Unread bytes (a rejected request's rest): closing now would make
	 * the kernel send a reset that can destroy our answer in flight.
	 * Shut the write side and read on for a while (nginx's lingering_close).
	 */
	dc->lingering = 1;
	evbuffer_drain(in, evbuffer_get_length(in));
	shutdown(gw_io_fd(dc->io), SHUT_WR);
	gw_io_set_timeouts(dc->io, &(struct timeval){ 2, 0 }, NULL);
	gw_io_setwatermark(dc->io, EV_READ, 0, 0);
	gw_io_enable(dc->io, EV_READ);
	return 0;
}

static void
dc_free(struct gw_dconn *dc)
{
	if (dc->depth) {
		dc->dead = 1;	/* dc_end frees it */
		return;
	}
	dc_free_now(dc);
}

static void
dc_free_now(struct gw_dconn *dc)
{
	struct gw_stream *st = dc->req;
	struct gw_worker *w = dc->w;

	if (st) {
		dc->req = NULL;
		dc->tpeer = NULL;
		gw_stream_free(st, st->snap != NULL);
	}
	if (dc->h2)
		gw_h2_free(dc->h2);
	if (dc->ev_over)
		event_free(dc->ev_over);
	gw_io_free(dc->io);
	evbuffer_free(dc->stage);
	peer_id_free(dc->pid);
	if (dc->hs_snap)
		gw_snap_unref(dc->hs_snap);
	TAILQ_REMOVE(&w->conns, dc, link);
	__atomic_sub_fetch(&w->stats.cx_active, 1, __ATOMIC_RELAXED);
	w->nconns--;
	free(dc);
	w->conn_closed(w);
}

void
gw_front_close_all(struct gw_worker *w)
{
	struct gw_dconn *dc;

	while ((dc = TAILQ_FIRST(&w->conns)) != NULL)
		dc_free(dc);
}

void
gw_front_accept(struct gw_worker *w, uint16_t port, uint32_t scope, int tls, evutil_socket_t fd,
    const struct sockaddr *sa, const struct sockaddr *local)
{
	struct gw_dconn *dc;
	int one = 1;

	if (dset.on_message_begin == NULL) {
		/* settings are constant: first use fills them */
		dset.on_message_begin = d_begin;
		dset.on_url = d_url;
		dset.on_header_field = d_field;
		dset.on_header_value = d_value;
		dset.on_headers_complete = d_headers_done;
		dset.on_body = d_body;
		dset.on_message_complete = d_complete;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	dc = xcalloc(1, sizeof(*dc));
	dc->f.ops = &h1_front_ops;
	dc->w = w;
	dc->port = port;
	dc->scope = scope;
	dc->tls = tls;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, dc->peer, sizeof(dc->peer));
		dc->src.family = AF_INET;
		memcpy(dc->src.a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		dc->sport = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		dc->sport = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], dc->peer, sizeof(dc->peer));
			dc->src.family = AF_INET;
			memcpy(dc->src.a, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, dc->peer, sizeof(dc->peer));
			dc->src.family = AF_INET6;
			memcpy(dc->src.a, &s6->sin6_addr, 16);
		}
	}
	if (local && local->sa_family == AF_INET) {
		dc->local.family = AF_INET;
		memcpy(dc->local.a, &((const struct sockaddr_in *)local)->sin_addr, 4);
		dc->lport = ntohs(((const struct sockaddr_in *)local)->sin_port);
	} else if (local && local->sa_family == AF_INET6) {
		dc->local.family = AF_INET6;
		memcpy(dc->local.a, &((const struct sockaddr_in6 *)local)->sin6_addr, 16);
		dc->lport = ntohs(((const struct sockaddr_in6 *)local)->sin6_port);
	}
	if (tls) {
		const struct gw_listener *l = w->snap ? gw_snap_listener(w->snap, port, scope) : NULL;
		SSL_CTX *x = NULL;
		SSL *ssl;
		size_t i;

		for (i = 0; l && i < l->nchains && x == NULL; i++)
			x = w->snap->ssl[l - w->snap->g->listeners][i];
		if (x == NULL || (ssl = SSL_new(x)) == NULL) {
			evutil_closesocket(fd);
			free(dc);
			return;
		}
		SSL_set_app_data(ssl, &dc->tc);
		dc->hs_snap = gw_snap_ref(w->snap);
		dc->io = gw_io_new(w->base, fd, ssl, GW_IO_TLS_ACCEPT);
	} else
		dc->io = gw_io_new(w->base, fd, NULL, GW_IO_PLAIN);
	http_parser_init(&dc->p, HTTP_REQUEST);
	dc->p.data = dc;
	dc->stage = evbuffer_new();
	dc->fresh = 1;
	w->nconns++;
	TAILQ_INSERT_TAIL(&w->conns, dc, link);
	__atomic_add_fetch(&w->stats.cx_total, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->stats.cx_active, 1, __ATOMIC_RELAXED);
	gw_io_setcb(dc->io, dc_readcb, dc_writecb, dc_eventcb, dc);
	gw_io_setwatermark(dc->io, EV_READ, 0, GW_HWM);
	gw_io_setwatermark(dc->io, EV_WRITE, GW_LWM, 0);
	dc_timeout(dc, w->snap ? w->snap->header_timeout_ms : GW_HEADER_TIMEOUT_MS);
	gw_io_enable(dc->io, EV_READ | EV_WRITE);
}
