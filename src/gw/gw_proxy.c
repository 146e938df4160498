/*
 * The HTTP/1.1 proxy: downstream connections parsed with libhttp-parser in
 * strict mode, one request at a time per connection (pipelined requests
 * wait in the input buffer and are answered in order), bodies streamed
 * both ways with watermarks, per-worker keep-alive pools upstream, and
 * Envoy's local answers (404 NR, 503 NC/UH/UF/UC, 502, 504 UT).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "gw-h1.h"
#include "gw-io.h"
#include "gw-path.h"
#include "gw-int.h"
#include "vipgate/gw-retry.h"
#include "vipgate/log.h"

struct gw_dconn;
struct gw_uconn;

struct gw_dreq {
	struct gw_dconn		*dc;
	struct gw_snap		*snap;
	struct hhead		 hh;
	int64_t			 t0_us;
	int64_t			 t_up_us;	/* the head went upstream */
	int			 keepalive;
	int			 http10;
	int			 is_head;
	int			 body_done;	/* the request is fully read */
	int			 resp_started, resp_done;
	int			 up_chunked;	/* the body goes upstream re-chunked */
	int			 down_chunked;	/* the response goes downstream chunked */
	int			 down_close;	/* ... or delimited by close */
	int			 has_body;
	int			 retried;	/* re-sent once after a stale pooled connection */
	int			 upgrade;	/* the client asked for a protocol switch */
	const char		*cors_origin;	/* an allowed Origin: the answer gets CORS headers */
	const char		*cors_extra;	/* a preflight answer's own fields */
	const char		*extra_hdr;	/* a local answer's own fields (x-envoy-overloaded) */
	struct gw_rs_req	 rs;		/* circuit breakers (gw_resil.c) */
	int			 rs_body;	/* body kept only while it waited for a connection */
	size_t			 cors_len;
	char			 reqid[40];
	char			 client[INET6_ADDRSTRLEN];	/* trusted client address (XFF hops) */
	struct gw_dreq		*next_free;
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
	const struct gw_match	*m;		/* what dr_route matched, for the upstream head */
	const char		*host;
	size_t			 hostlen;
	int			 expect;	/* Expect: 100-continue */
	int			 continued;	/* ... answered */
	int			 routed;	/* uphead is built: mirrors may copy it */
	int			 mirrored;
	int64_t			 retries;	/* retries started */
	const struct gw_endpoint *tried[8];	/* hosts tried (previous_hosts predicate) */
	size_t			 ntried;
	struct evbuffer		*body;		/* the body as framed upstream, for replay and mirrors */
	int			 body_over;	/* it outgrew GW_RETRY_BODY_MAX: no retry, no mirror */
	struct event		*ev_timeout;	/* the route timeout */
	struct event		*ev_step;	/* fault delay, retry back-off or per-try timeout */
	int			 step;		/* STEP_*: what ev_step waits for */
	int			 timed_out;	/* TMO_*: the timeout that ends the attempt */
	char			 tls_reason[256];	/* upstream TLS handshake failure, "" none */
};

enum { STEP_NONE, STEP_DELAY, STEP_BACKOFF, STEP_TRY };
enum { TMO_NONE, TMO_ROUTE, TMO_TRY };

struct gw_dconn {
	struct gw_worker	*w;
	struct gw_io	*io;
	http_parser		 p;
	uint16_t		 port;
	int			 tls;
	char			 peer[INET6_ADDRSTRLEN];
	struct gw_dreq		*req;
	int			 paused, resume, in_feed, bp;
	uint8_t			 hscan;		/* GW_H1_SCAN_*: line rules of the head being read */
	int			 closing;
	int			 lingering;	/* write side shut, reading what is left */
	int			 depth;		/* inside a callback that stages output */
	int			 dead;		/* freed while staged: free at the end */
	struct evbuffer		*stage;		/* output written while depth > 0 */
	struct gw_tls_conn	 tc;
	struct gw_snap		*hs_snap;	/* TLS: the snapshot its contexts come from */
	struct gw_uconn		*tunnel;	/* after a 101: bytes go both ways as they are */
	TAILQ_ENTRY(gw_dconn)	 link;
};

struct gw_uconn {
	struct gw_worker	*w;
	struct gw_io	*io;
	http_parser		 p;
	struct sockaddr_storage	 sa;
	socklen_t		 salen;
	char			 key[96];	/* ip|port, plus |t<TLS identity> for TLS */
	uint64_t		 khash;		/* of key: the pool scan compares it first */
	struct gw_dreq		*req;
	int			 connected, reused, got_bytes;
	unsigned		 nreq;
	int64_t			 maxreq;
	int64_t			 idle_ms;
	struct hhead		 hh;
	int			 got_head, msg_done, paused, resume, in_feed, bp;
	int			 in_idle;
	int			 eof;		/* the upstream closed; its buffered bytes still count */
	int			 tunnel;
	uint8_t			 hscan;		/* GW_H1_SCAN_*: line rules of the answer's head */
	int			 discard;	/* an answer to be retried: read, not passed on */
	struct gw_rs_cx		 rs;		/* counted against its cluster's breakers */
	int			 tls;		/* an upstream TLS connection */
	TAILQ_ENTRY(gw_uconn)	 link;
};

static http_parser_settings dset, uset;

/* The hot path formats by hand: printf was a few per cent of the CPU. */
static size_t
fmt_u64(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static void
buf_hdr(struct vg_buf *b, const char *name, const char *v, size_t vl)
{
	buf_puts(b, name);
	buf_append(b, ": ", 2);
	buf_append(b, v, vl);
	buf_append(b, "\r\n", 2);
}

static void
ev_hdr(struct evbuffer *out, const char *name, const char *v, size_t vl)
{
	evbuffer_add(out, name, strlen(name));
	evbuffer_add(out, ": ", 2);
	evbuffer_add(out, v, vl);
	evbuffer_add(out, "\r\n", 2);
}

static int
in_list(const char *name, size_t nl, const struct gw_header_ops *ops)
{
	size_t k;

	for (k = 0; k < ops->nremove; k++)
		if (strlen(ops->remove[k]) == nl && strncasecmp(ops->remove[k], name, nl) == 0)
			return 1;
	for (k = 0; k < ops->nset; k++)
		if (strlen(ops->set[k].name) == nl && strncasecmp(ops->set[k].name, name, nl) == 0)
			return 1;
	return 0;
}

static void
ops_emit(struct evbuffer *out, const struct gw_header_ops *ops)
{
	size_t k;

	for (k = 0; k < ops->nset; k++)
		evbuffer_add_printf(out, "%s: %s\r\n", ops->set[k].name, ops->set[k].value);
	for (k = 0; k < ops->nadd; k++)
		evbuffer_add_printf(out, "%s: %s\r\n", ops->add[k].name, ops->add[k].value);
}

/* ---- forward declarations ---- */

static void dc_feed(struct gw_dconn *);
static void dc_free(struct gw_dconn *);
static int dc_close_if_done(struct gw_dconn *);
static void tunnel_pump(struct gw_io *, struct gw_io *);
static void dr_maybe_done(struct gw_dreq *);
static void uc_free(struct gw_uconn *);
static void u_fail(struct gw_uconn *, short);
static void u_feed(struct gw_uconn *);
static int dr_connect(struct gw_dreq *);
static int dr_send_attempt(struct gw_dreq *);
static void dr_attempt_failed(struct gw_dreq *, enum gw_retry_ev);
static enum gw_retry_verdict dr_retry_decide(struct gw_dreq *, enum gw_retry_ev, int, int);
static void dr_retry_later(struct gw_dreq *);
static void dr_arm_try(struct gw_dreq *);
static void dr_step_stop(struct gw_dreq *);
static void dr_upstream(struct gw_dreq *);
static int dr_cors(struct gw_dreq *);
static void ep_sockaddr(const struct gw_endpoint *, struct sockaddr_storage *, socklen_t *);
static uint64_t rnd_cb(void *);
static int hash_key(const struct gw_dreq *, const struct gw_cluster *, uint64_t *);

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

static void dc_free_now(struct gw_dconn *);

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

/* Upstream: write now when nothing waits before it, keep the rest for EV_WRITE. */
static void
uc_send(struct gw_uconn *uc, const void *a, size_t al, const void *b, size_t bl,
    const void *c, size_t cl)
{
	struct evbuffer *out = gw_io_output(uc->io);
	struct iovec iov[3] = { { (void *)a, al }, { (void *)b, bl }, { (void *)c, cl } };
	size_t done = 0, i;
	ssize_t n;

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

/* Envoy's CORS filter on an answer to an allowed origin. */
static void
cors_emit(struct evbuffer *out, const struct gw_dreq *dr)
{
	const struct gw_cors *c = dr->rt ? dr->rt->cors : NULL;

	if (c == NULL || dr->cors_origin == NULL)
		return;
	ev_hdr(out, "access-control-allow-origin", dr->cors_origin, dr->cors_len);
	if (c->credentials == 1)
		evbuffer_add(out, "access-control-allow-credentials: true\r\n", 40);
	if (c->expose)
		ev_hdr(out, "access-control-expose-headers", c->expose, strlen(c->expose));
}

static const char *
reason(int code)
{
	const char *r = http_status_str((enum http_status)code);

	return r && *r && strcmp(r, "<unknown>") != 0 ? r : "Unknown";
}

/* ---- local answers ---- */

static void
dr_local(struct gw_dreq *dr, int code, const char *flags, const char *body, size_t blen,
    const char *location)
{
	struct gw_dconn *dc = dr->dc;
	struct evbuffer *out = dc_out(dc);
	int close_after = !dr->body_done || !dr->keepalive;

	if (dr->resp_started)
		return;
	dr->resp_started = 1;
	dr->code = code;
	dr->flags = flags;
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\ncontent-length: %zu\r\n", code, reason(code), blen);
	if (blen)
		evbuffer_add_printf(out, "content-type: text/plain\r\n");
	if (location)
		evbuffer_add_printf(out, "location: %s\r\n", location);
	if (dr->rt)
		ops_emit(out, &dr->rt->resp);
	cors_emit(out, dr);
	if (dr->cors_extra)
		evbuffer_add(out, dr->cors_extra, strlen(dr->cors_extra));
	if (dr->extra_hdr)
		evbuffer_add(out, dr->extra_hdr, strlen(dr->extra_hdr));
	evbuffer_add_printf(out, "server: istio-envoy\r\n%s\r\n",
	    close_after ? "connection: close\r\n" : dr->http10 ? "connection: keep-alive\r\n" : "");
	if (blen && !dr->is_head)
		evbuffer_add(out, body, blen);
	dr->bytes_out += blen;
	if (close_after)
		dc->closing = 1;
	dr->resp_done = 1;
	dr_maybe_done(dr);
}

static void
dr_error(struct gw_dreq *dr, int code, const char *flags, const char *msg)
{
	dr_local(dr, code, flags, msg, strlen(msg), NULL);
}

/* A parse error before any request could be answered: 400/431 and close. */
static void
dc_reject(struct gw_dconn *dc, int code, const char *msg)
{
	struct evbuffer *out = dc_out(dc);
	size_t len = strlen(msg);

	if (dc->req && dc->req->resp_started) {
		dc->closing = 1;
		return;
	}
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\ncontent-length: %zu\r\ncontent-type: text/plain\r\n"
	    "server: istio-envoy\r\nconnection: close\r\n\r\n%s", code, reason(code), len, msg);
	if (dc->req) {
		dc->req->code = code;
		dc->req->flags = "DPE";
	}
	dc->closing = 1;
}

/* ---- statistics ---- */

static void
lbl(struct vg_buf *b, const char *k, const char *v)
{
	buf_printf(b, "%s%s=\"", b->len ? "," : "", k);
	for (; v && *v; v++) {
		if (*v == '"' || *v == '\\')
			buf_append(b, "\\", 1);
		if (*v == '\n')
			buf_puts(b, "\\n");
		else
			buf_append(b, v, 1);
	}
	if (v == NULL)
		buf_puts(b, "unknown");
	buf_append(b, "\"", 1);
}

static const char *
req_header(const struct gw_dreq *dr, const char *name, size_t *len)
{
	const struct hhead *hh = &dr->hh;
	size_t i;

	for (i = 0; i < hh->n; i++)
		if (hname_is(hh, i, name)) {
			*len = hh->h[i].vl;
			return HV(hh, i);
		}
	*len = 1;
	return "-";
}

static void
jstr(struct vg_buf *b, const char *k, const char *v, size_t len)
{
	size_t i;

	buf_printf(b, "%s\"%s\":\"", b->len > 1 ? "," : "", k);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			buf_printf(b, "\\u%04x", ch);
		else
			buf_append(b, v + i, 1);
	}
	buf_append(b, "\"", 1);
}

/* One access log line: Envoy's default text format, or the same fields as JSON. */
static void
dr_access_log(struct gw_dreq *dr, double ms)
{
	struct gw_ctx *ctx = dr->dc->w->ctx;
	struct vg_buf b = { 0 };
	struct timespec ts;
	struct tm tm;
	char when[40], up[64], dur[24];
	const char *method = http_method_str((enum http_method)dr->dc->p.method);
	const char *xff, *ua, *auth;
	size_t xffl, ual, authl;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ldZ", ts.tv_nsec / 1000000);
	snprintf(up, sizeof(up), dr->ep ? (strchr(dr->ep->ip, ':') ? "[%s]:%u" : "%s:%u") : "-",
	    dr->ep ? dr->ep->ip : "", dr->ep ? dr->ep->port : 0);
	snprintf(dur, sizeof(dur), "%.0f", ms);
	xff = req_header(dr, "x-forwarded-for", &xffl);
	ua = req_header(dr, "user-agent", &ual);
	auth = req_header(dr, "host", &authl);
	if (ctx->alog_json) {
		char code[8], in[24], out[24];

		snprintf(code, sizeof(code), "%d", dr->code);
		snprintf(in, sizeof(in), "%llu", (unsigned long long)dr->bytes_in);
		snprintf(out, sizeof(out), "%llu", (unsigned long long)dr->bytes_out);
		buf_puts(&b, "{");
		jstr(&b, "start_time", when, strlen(when));
		jstr(&b, "method", method, strlen(method));
		jstr(&b, "path", dr->hh.b.s ? dr->hh.b.s : "", dr->hh.url_l);
		jstr(&b, "protocol", dr->http10 ? "HTTP/1.0" : "HTTP/1.1", 8);
		jstr(&b, "response_code", code, strlen(code));
		jstr(&b, "response_flags", dr->flags ? dr->flags : "-", strlen(dr->flags ? dr->flags : "-"));
		jstr(&b, "bytes_received", in, strlen(in));
		jstr(&b, "bytes_sent", out, strlen(out));
		jstr(&b, "duration", dur, strlen(dur));
		jstr(&b, "x_forwarded_for", xff, xffl);
		jstr(&b, "user_agent", ua, ual);
		jstr(&b, "request_id", dr->reqid[0] ? dr->reqid : "-", dr->reqid[0] ? strlen(dr->reqid) : 1);
		jstr(&b, "authority", auth, authl);
		jstr(&b, "upstream_host", up, strlen(up));
		jstr(&b, "upstream_cluster", dr->cl ? dr->cl->name : "-", strlen(dr->cl ? dr->cl->name : "-"));
		if (dr->tls_reason[0])
			jstr(&b, "upstream_transport_failure_reason", dr->tls_reason, strlen(dr->tls_reason));
		buf_puts(&b, "}\n");
	} else
		buf_printf(&b, "[%s] \"%s %.*s %s\" %d %s %llu %llu %s - \"%.*s\" \"%.*s\" \"%s\" "
		    "\"%.*s\" \"%s\"\n", when, method, (int)dr->hh.url_l, dr->hh.b.s ? dr->hh.b.s : "",
		    dr->http10 ? "HTTP/1.0" : "HTTP/1.1", dr->code, dr->flags ? dr->flags : "-",
		    (unsigned long long)dr->bytes_in, (unsigned long long)dr->bytes_out, dur,
		    (int)xffl, xff, (int)ual, ua, dr->reqid[0] ? dr->reqid : "-", (int)authl, auth, up);
	if (!ctx->alog_json && dr->tls_reason[0]) {
		/* a TLS failure adds Istio's "%UPSTREAM_TRANSPORT_FAILURE_REASON%" at the end */
		b.len--;
		buf_printf(&b, " \"%s\"\n", dr->tls_reason);
	}
	/* O_APPEND: one write a line keeps the workers' lines whole */
	(void)!write(ctx->alog_fd, b.s, b.len);
	buf_free(&b);
}

static void
dr_record(struct gw_dreq *dr)
{
	struct gw_worker *w = dr->dc->w;
	const struct gw_cluster *c = dr->cl;
	const struct gw_endpoint *e = dr->ep;
	struct vg_buf k = { 0 };
	char code[8];
	double ms = (double)(now_us() - dr->t0_us) / 1000.0;
	uint64_t gen = dr->snap ? dr->snap->gen : 0;
	const char *flags = dr->flags ? dr->flags : "-";
	size_t slot = (size_t)((((uintptr_t)c >> 4) ^ ((uintptr_t)e >> 3) ^ (uintptr_t)dr->code * 31 ^
	    ((uintptr_t)flags >> 2)) % VG_ARRAY_SIZE(w->stats.cache));
	struct gw_stats *st = &w->stats;

	if (w->ctx->alog_fd >= 0)
		dr_access_log(dr, ms);
	pthread_mutex_lock(&st->mu);
	if (st->cache[slot].e && st->cache[slot].gen == gen && st->cache[slot].cl == c &&
	    st->cache[slot].ep == e && st->cache[slot].code == dr->code &&
	    st->cache[slot].flags == flags) {
		gw_stats_add(st->cache[slot].e, ms, dr->bytes_in, dr->bytes_out);
		pthread_mutex_unlock(&st->mu);
		return;
	}
	pthread_mutex_unlock(&st->mu);
	snprintf(code, sizeof(code), "%d", dr->code ? dr->code : 0);
	lbl(&k, "reporter", "source");
	lbl(&k, "source_workload", "istio-ingressgateway");
	lbl(&k, "source_workload_namespace", w->ctx->gw_ns);
	lbl(&k, "source_app", "istio-ingressgateway");
	lbl(&k, "source_principal", NULL);
	lbl(&k, "destination_service", c ? c->host : NULL);
	lbl(&k, "destination_service_name", c && c->svc_name ? c->svc_name : (c ? c->host : NULL));
	lbl(&k, "destination_service_namespace", c ? c->svc_ns : NULL);
	lbl(&k, "destination_workload", e ? e->app : NULL);
	lbl(&k, "destination_workload_namespace", e ? e->workload_ns : NULL);
	lbl(&k, "destination_app", e ? e->app : NULL);
	lbl(&k, "destination_version", e ? e->version : NULL);
	lbl(&k, "destination_principal", NULL);
	lbl(&k, "destination_cluster", NULL);
	lbl(&k, "request_protocol", "http");
	lbl(&k, "response_code", code);
	lbl(&k, "grpc_response_status", "");
	lbl(&k, "response_flags", flags);
	lbl(&k, "connection_security_policy", "unknown");
	pthread_mutex_lock(&st->mu);
	st->cache[slot].e = gw_stats_series(st, k.s);
	st->cache[slot].gen = gen;
	st->cache[slot].cl = c;
	st->cache[slot].ep = e;
	st->cache[slot].code = dr->code;
	st->cache[slot].flags = flags;
	gw_stats_add(st->cache[slot].e, ms, dr->bytes_in, dr->bytes_out);
	pthread_mutex_unlock(&st->mu);
	buf_free(&k);
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

/* ---- request lifetime ---- */

/* Requests are recycled per worker with their buffers: no malloc per request. */
static struct gw_dreq *
dr_new(struct gw_worker *w)
{
	struct gw_dreq *dr = w->dr_pool;
	struct hhead hh;
	struct vg_buf up;

	if (dr == NULL)
		return xcalloc(1, sizeof(*dr));
	w->dr_pool = dr->next_free;
	w->ndr_pool--;
	hh = dr->hh;
	up = dr->uphead;
	memset(dr, 0, sizeof(*dr));
	dr->hh = hh;
	hh_reset(&dr->hh);
	dr->uphead = up;
	dr->uphead.len = 0;
	return dr;
}

static void
dr_free(struct gw_dreq *dr)
{
	struct gw_worker *w = dr->dc->w;

	if (dr->snap)
		gw_snap_unref(dr->snap);
	dr->snap = NULL;
	if (dr->ev_timeout)
		event_free(dr->ev_timeout);
	if (dr->ev_step)
		event_free(dr->ev_step);
	if (dr->body)
		evbuffer_free(dr->body);
	dr->ev_timeout = dr->ev_step = NULL;
	dr->body = NULL;
	if (w->ndr_pool < 256 && dr->hh.b.cap <= 16384 && dr->uphead.cap <= 16384) {
		dr->next_free = w->dr_pool;
		w->dr_pool = dr;
		w->ndr_pool++;
		return;
	}
	hh_free(&dr->hh);
	buf_free(&dr->uphead);
	free(dr);
}

void
gw_dr_pool_free(struct gw_worker *w)
{
	struct gw_dreq *dr;

	while ((dr = w->dr_pool) != NULL) {
		w->dr_pool = dr->next_free;
		hh_free(&dr->hh);
		buf_free(&dr->uphead);
		free(dr);
	}
	w->ndr_pool = 0;
}

static void
dr_release_ep(struct gw_dreq *dr)
{
	if (dr->lbs && dr->ep)
		gw_lb_release(dr->lbs, dr->ep);
	dr->lbs = NULL;
	gw_rs_req_release(&dr->rs);
}

/* Both directions are done: count it, and go on with the next request. */
static void
dr_maybe_done(struct gw_dreq *dr)
{
	struct gw_dconn *dc = dr->dc;

	if (!dr->resp_done)
		return;
	if (!dr->body_done)
		dc->closing = 1;	/* the rest of its body is not read */
	if (dr->uc) {
		/* answered locally while an upstream was attached (should not happen) */
		dr->uc->req = NULL;
		uc_free(dr->uc);
		dr->uc = NULL;
	}
	dr_release_ep(dr);
	dr_record(dr);
	dc->w->inflight--;
	dc->req = NULL;
	dc->hscan = GW_H1_SCAN_START;	/* what follows is the next request */
	dr_free(dr);
	if (dc->closing) {
		gw_io_setwatermark(dc->io, EV_WRITE, 0, 0);
		return;
	}
	dc_timeout(dc, dc->w->snap ? dc->w->snap->idle_timeout_ms : GW_IDLE_TIMEOUT_MS);
	dc->resume = 1;
	if (!dc->in_feed)
		dc_feed(dc);
}

/* ---- routing ---- */

static const struct gw_listener *
snap_listener(const struct gw_snap *s, uint16_t port)
{
	size_t lo = 0, hi = s->g ? s->g->nlisteners : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->g->listeners[mid].port == port)
			return &s->g->listeners[mid];
		if (s->g->listeners[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void
gen_request_id(struct gw_worker *w, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t a = gw_rand(w), b = gw_rand(w);
	int i, k = 0;

	/* a version 4 UUID: 32 random hex digits, the version and variant nibbles set */
	for (i = 0; i < 36; i++) {
		uint64_t *src = k < 16 ? &a : &b;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			out[i] = '-';
			continue;
		}
		if (i == 14)
			out[i] = '4';
		else if (i == 19)
			out[i] = hex[8 | (*src & 3)];
		else
			out[i] = hex[*src & 15];
		*src >>= 4;
		k++;
	}
	out[36] = '\0';
}

static uint64_t
rnd_cb(void *arg)
{
	return gw_rand(arg);
}

static uint64_t
fnv(const char *s, size_t len)
{
	return hash_bytes(HASH_INIT, s, len);
}

/* The consistent-hash key of a request, when the cluster hashes. */
static int
hash_key(const struct gw_dreq *dr, const struct gw_cluster *c, uint64_t *h)
{
	const struct hhead *hh = &dr->hh;
	size_t i;

	switch (c->hash_key) {
	case GW_HASH_SOURCE_IP:
		/* Envoy hashes the downstream address, which XFF hops may replace */
		*h = fnv(dr->client, strlen(dr->client));
		return 1;
	case GW_HASH_HEADER:
		for (i = 0; i < hh->n; i++)
			if (hname_is(hh, i, c->hash_name)) {
				*h = fnv(HV(hh, i), hh->h[i].vl);
				return 1;
			}
		return 0;
	case GW_HASH_COOKIE:
		for (i = 0; i < hh->n; i++)
			if (HNAME_IS(hh, i, "cookie")) {
				const char *v = HV(hh, i), *end = v + hh->h[i].vl;
				size_t nl = strlen(c->hash_name);

				while (v < end) {
					const char *semi = memchr(v, ';', (size_t)(end - v));
					const char *pe = semi ? semi : end;

					while (v < pe && *v == ' ')
						v++;
					if ((size_t)(pe - v) > nl && memcmp(v, c->hash_name, nl) == 0 && v[nl] == '=') {
						*h = fnv(v + nl + 1, (size_t)(pe - v - (ptrdiff_t)nl - 1));
						return 1;
					}
					v = pe + 1;
				}
			}
		return 0;
	case GW_HASH_QUERY: {
		const char *path = hh->b.s;
		const char *q = memchr(path, '?', hh->url_l);
		size_t nl = strlen(c->hash_name);

		while (q && q < path + hh->url_l) {
			const char *s = q + 1, *end = path + hh->url_l;
			const char *amp = memchr(s, '&', (size_t)(end - s));
			const char *pe = amp ? amp : end;

			if ((size_t)(pe - s) > nl && memcmp(s, c->hash_name, nl) == 0 && s[nl] == '=') {
				*h = fnv(s + nl + 1, (size_t)(pe - s - (ptrdiff_t)nl - 1));
				return 1;
			}
			q = amp;
		}
		return 0;
	}
	default:
		return 0;
	}
}

static void
build_uphead(struct gw_dreq *dr, const struct gw_match *m, const char *host, size_t hostlen)
{
	struct hhead *hh = &dr->hh;
	struct vg_buf *b = &dr->uphead;
	struct vg_buf path = { 0 };
	const struct gw_route *rt = dr->rt;
	const struct gw_dest *d = dr->dest;
	const char *xff = NULL, *rid = NULL;
	size_t xffl = 0, ridl = 0, i, ndrop;
	char idbuf[37];
	uint8_t drop[GW_MAX_HEADERS];

	ndrop = gw_h1_conn_named(hh, drop);
	gw_rewrite_path(rt, m, dr->snap->rx, hh->b.s, hh->url_l, &path);
	buf_puts(b, http_method_str((enum http_method)dr->dc->p.method));
	buf_append(b, " ", 1);
	buf_append(b, path.s, path.len);
	buf_puts(b, " HTTP/1.1\r\n");
	buf_free(&path);
	if (rt->rewrite && rt->rewrite->authority)
		buf_hdr(b, "host", rt->rewrite->authority, strlen(rt->rewrite->authority));
	else if (host)
		buf_hdr(b, "host", host, hostlen);
	for (i = 0; i < hh->n; i++) {
		const char *n = HN(hh, i);
		size_t nl = hh->h[i].nl;

		if (hop_by_hop(hh, i) || HNAME_IS(hh, i, "host") || HNAME_IS(hh, i, "content-length") ||
		    (ndrop && drop[i]))
			continue;	/* framing is ours; fields Connection names stop here */
		if (HNAME_IS(hh, i, "x-forwarded-for")) {
			xff = HV(hh, i);
			xffl = hh->h[i].vl;
			continue;
		}
		/* the edge sets these itself; a client's own are dropped */
		if (HNAME_IS(hh, i, "x-forwarded-proto") || HNAME_IS(hh, i, "x-envoy-internal") ||
		    HNAME_IS(hh, i, "x-envoy-external-address"))
			continue;
		if (HNAME_IS(hh, i, "x-request-id")) {
			rid = HV(hh, i);
			ridl = hh->h[i].vl;
			continue;
		}
		if (in_list(n, nl, &rt->req) || (d && in_list(n, nl, &d->req)))
			continue;
		buf_append(b, n, nl);
		buf_append(b, ": ", 2);
		buf_append(b, HV(hh, i), hh->h[i].vl);
		buf_append(b, "\r\n", 2);
	}
	/*
	 * Envoy with use_remote_address: append the peer; the trusted client
	 * address (XFF hops from the right, gateway.num_trusted_proxies) is
	 * internal (x-envoy-internal) or external (x-envoy-external-address).
	 */
	buf_puts(b, "x-forwarded-for: ");
	if (xff) {
		buf_append(b, xff, xffl);
		buf_append(b, ",", 1);
	}
	buf_puts(b, dr->dc->peer);
	buf_puts(b, dr->dc->tls ? "\r\nx-forwarded-proto: https\r\n" : "\r\nx-forwarded-proto: http\r\n");
	if (gw_addr_internal(dr->client))
		buf_puts(b, "x-envoy-internal: true\r\n");
	else
		buf_hdr(b, "x-envoy-external-address", dr->client, strlen(dr->client));
	if (rid && ridl) {
		size_t l = ridl < sizeof(dr->reqid) - 1 ? ridl : sizeof(dr->reqid) - 1;

		buf_hdr(b, "x-request-id", rid, ridl);
		memcpy(dr->reqid, rid, l);
		dr->reqid[l] = '\0';
	} else {
		gen_request_id(dr->dc->w, idbuf);
		buf_hdr(b, "x-request-id", idbuf, 36);
		memcpy(dr->reqid, idbuf, 37);
	}
	if (rt->rewrite || (rt->req.nset + rt->req.nadd + (d ? d->req.nset + d->req.nadd : 0))) {
		struct evbuffer *tmp = evbuffer_new();
		size_t len;

		ops_emit(tmp, &rt->req);
		if (d)
			ops_emit(tmp, &d->req);
		len = evbuffer_get_length(tmp);
		if (len)
			buf_append(b, (const char *)evbuffer_pullup(tmp, -1), len);
		evbuffer_free(tmp);
	}
	if (dr->upgrade)
		buf_puts(b, "upgrade: websocket\r\nconnection: upgrade\r\n");	/* the only hop-by-hop fields passed on */
	if (dr->has_body) {
		if (dr->dc->p.flags & F_CHUNKED) {
			buf_puts(b, "transfer-encoding: chunked\r\n");
			dr->up_chunked = 1;
		} else
		{
			char num[24];

			buf_hdr(b, "content-length", num, fmt_u64(num, dr->dc->p.content_length));
		}
	}
	buf_puts(b, "\r\n");
}

static void
redirect_location(struct gw_dreq *dr, const struct gw_redirect *rd, int to_https,
    const char *host, size_t hostlen, struct vg_buf *out)
{
	const char *path = dr->hh.b.s;
	size_t plen = dr->hh.url_l, hl = hostlen;
	const char *q = memchr(path, '?', plen);
	const char *colon = host ? memchr(host, ':', hostlen) : NULL;

	if (colon && host[0] != '[')
		hl = (size_t)(colon - host);
	buf_puts(out, to_https ? "https" : rd && rd->scheme ? rd->scheme : dr->dc->tls ? "https" : "http");
	buf_puts(out, "://");
	if (rd && rd->authority)
		buf_puts(out, rd->authority);
	else
		buf_append(out, host ? host : "", host ? hl : 0);
	if (rd && rd->port)
		buf_printf(out, ":%u", rd->port);
	else if (rd && rd->port_from_request)
		buf_printf(out, ":%u", dr->dc->port);
	if (rd && rd->uri) {
		buf_puts(out, rd->uri);
		if (q && !strchr(rd->uri, '?'))
			buf_append(out, q, plen - (size_t)(q - path));
	} else
		buf_append(out, path, plen);
}

/*
 * corsPolicy: a preflight from an allowed origin is answered here; other
 * requests from one get the CORS headers on their answer. 1 when answered.
 */
static int
dr_cors(struct gw_dreq *dr)
{
	const struct gw_cors *c = dr->rt->cors;
	const struct hhead *hh = &dr->hh;
	const char *origin = NULL;
	size_t olen = 0, i;
	int preflight = 0, ok = 0;

	for (i = 0; i < hh->n; i++) {
		if (HNAME_IS(hh, i, "origin")) {
			origin = HV(hh, i);
			olen = hh->h[i].vl;
		} else if (HNAME_IS(hh, i, "access-control-request-method"))
			preflight = dr->dc->p.method == HTTP_OPTIONS;
	}
	if (origin == NULL)
		return 0;
	for (i = 0; i < c->norigins && !ok; i++)
		ok = gw_strmatch_eval(&c->origins[i], dr->snap->rx, origin, olen);
	if (!ok) {
		if (preflight && !c->forward_unmatched) {
			dr_local(dr, 200, "-", NULL, 0, NULL);
			return 1;
		}
		return 0;
	}
	dr->cors_origin = origin;
	dr->cors_len = olen;
	if (preflight) {
		/* dr_local adds allow-origin and credentials; these are the preflight's own */
		struct vg_buf extra = { 0 };
		char num[24];

		buf_puts(&extra, "");
		if (c->methods)
			buf_hdr(&extra, "access-control-allow-methods", c->methods, strlen(c->methods));
		if (c->headers)
			buf_hdr(&extra, "access-control-allow-headers", c->headers, strlen(c->headers));
		if (c->max_age_s >= 0)
			buf_hdr(&extra, "access-control-max-age", num, fmt_u64(num, (uint64_t)c->max_age_s));
		dr->cors_extra = extra.s;
		dr_local(dr, 200, "-", NULL, 0, NULL);	/* dr is gone after this */
		buf_free(&extra);
		return 1;
	}
	return 0;
}

/* ---- mirroring ---- */

struct gw_shadow {
	struct gw_worker	*w;
	struct gw_io	*io;
	TAILQ_ENTRY(gw_shadow)	 link;
};

static void
shadow_free(struct gw_shadow *sh)
{
	TAILQ_REMOVE(&sh->w->shadows, sh, link);
	gw_io_free(sh->io);
	free(sh);
}

void
gw_shadows_close_all(struct gw_worker *w)
{
	struct gw_shadow *sh;

	while ((sh = TAILQ_FIRST(&w->shadows)) != NULL)
		shadow_free(sh);
}

static void
shadow_readcb(struct gw_io *io, void *arg)
{
	struct evbuffer *in = gw_io_input(io);

	evbuffer_drain(in, evbuffer_get_length(in));	/* the shadow's answer is dropped */
}

static void
shadow_eventcb(struct gw_io *io, short what, void *arg)
{
	if (what & BEV_EVENT_CONNECTED)
		return;
	shadow_free(arg);
}

/*
 * Envoy's request mirroring (shadowing): fire and forget to another
 * cluster, the authority's host suffixed with "-shadow" (before any port, as
 * Envoy's shadowAppendedHost does), the answer read and dropped. A request
 * with a body is mirrored when its body is complete, with the body; one
 * whose body outgrew GW_RETRY_BODY_MAX is not mirrored (Envoy abandons its
 * shadows then). Nothing here can delay or change the main answer.
 */
static void
dr_mirror(struct gw_dreq *dr)
{
	struct gw_worker *w = dr->dc->w;
	const struct gw_route *rt = dr->rt;
	size_t i;

	if (dr->mirrored || !dr->routed || dr->upgrade || (dr->has_body && dr->body == NULL))
		return;
	dr->mirrored = 1;
	for (i = 0; i < rt->nmirrors; i++) {
		const struct gw_cluster *c = rt->mirrors[i].cluster;
		const struct gw_endpoint *e;
		struct gw_shadow *sh;
		struct sockaddr_storage ss;
		socklen_t sl;
		struct vg_buf h = { 0 };
		const char *host, *eol, *end, *hp, *port;
		struct gw_uptls_req tr;
		char key[96], err[512];

		if (c == NULL || c->missing || c->neps == 0 ||
		    (double)(gw_rand(w) % 1000000) >= rt->mirrors[i].percent * 10000.0)
			continue;
		e = &c->eps[gw_rand(w) % c->neps];
		/* the upstream head, with Host "-shadow" and connection: close */
		host = strstr(dr->uphead.s, "\r\nhost: ");
		end = dr->uphead.s + dr->uphead.len - 2;
		if (host == NULL)
			continue;
		eol = strstr(host + 2, "\r\n");
		/* host[:port] or [v6]:port: the suffix goes on the host part */
		hp = host + 8;
		port = NULL;
		if (*hp == '[') {
			const char *rb = memchr(hp, ']', (size_t)(eol - hp));

			if (rb && rb + 1 < eol && rb[1] == ':')
				port = rb + 1;
		} else
			port = memchr(hp, ':', (size_t)(eol - hp));
		if (port == NULL)
			port = eol;
		buf_append(&h, dr->uphead.s, (size_t)(port - dr->uphead.s));
		buf_puts(&h, "-shadow");
		buf_append(&h, port, (size_t)(end - port));
		buf_puts(&h, "connection: close\r\n\r\n");
		/* the mirror cluster's own upstream TLS (DestinationRule, auto mTLS), as Envoy's shadow */
		if (gw_uptls_prepare(w->ctx, dr->snap, c, e, h.s, h.len, &tr, err, sizeof(err)) == -1) {
			log_debug("gateway: mirror to %s not sent: %s", c->name, err);
			buf_free(&h);
			continue;
		}
		sh = xcalloc(1, sizeof(*sh));
		sh->w = w;
		if (tr.ctx) {
			snprintf(key, sizeof(key), "%s|%u|t%016llx", e->ip, e->port,
			    (unsigned long long)tr.id);
			sh->io = gw_uptls_io_new(w, w->base, &tr, key);
		} else
			sh->io = gw_io_new(w->base, -1, NULL, GW_IO_PLAIN);
		gw_uptls_done(&tr);
		ep_sockaddr(e, &ss, &sl);
		if (sh->io == NULL || gw_io_connect(sh->io, (struct sockaddr *)&ss, sl) == -1) {
			if (sh->io)
				gw_io_free(sh->io);
			free(sh);
			buf_free(&h);
			continue;
		}
		TAILQ_INSERT_TAIL(&w->shadows, sh, link);
		gw_io_setcb(sh->io, shadow_readcb, NULL, shadow_eventcb, sh);
		gw_io_set_timeouts(sh->io, &(struct timeval){ 10, 0 }, &(struct timeval){ 10, 0 });
		gw_io_write(sh->io, h.s, h.len);
		if (dr->body && evbuffer_get_length(dr->body))
			gw_io_write(sh->io, evbuffer_pullup(dr->body, -1),
			    evbuffer_get_length(dr->body));
		gw_io_enable(sh->io, EV_READ | EV_WRITE);
		buf_free(&h);
	}
}

/* ---- fault injection, timeouts, retries ---- */

static void dr_step_cb(evutil_socket_t, short, void *);
static void dr_timeout_cb(evutil_socket_t, short, void *);

/* ev_step waits ms for step (the loop's cached time may be stale: refresh it first). */
static void
dr_step(struct gw_dreq *dr, int step, int64_t ms)
{
	struct event_base *base = dr->dc->w->base;
	struct timeval tv;

	if (dr->ev_step == NULL)
		dr->ev_step = evtimer_new(base, dr_step_cb, dr);
	dr->step = step;
	event_base_update_cache_time(base);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(dr->ev_step, &tv);
}

static void
dr_step_stop(struct gw_dreq *dr)
{
	if (dr->ev_step)
		evtimer_del(dr->ev_step);
	dr->step = STEP_NONE;
}

/* Envoy's global route timeout: armed once, when the request is complete. */
static void
dr_arm_timeout(struct gw_dreq *dr)
{
	struct event_base *base = dr->dc->w->base;
	int64_t t = dr->rt ? dr->rt->timeout_ms : 0;
	struct timeval tv;

	if (t <= 0 || dr->ev_timeout || dr->resp_done)
		return;
	dr->ev_timeout = evtimer_new(base, dr_timeout_cb, dr);
	event_base_update_cache_time(base);
	tv.tv_sec = t / 1000;
	tv.tv_usec = (t % 1000) * 1000;
	evtimer_add(dr->ev_timeout, &tv);
}

/*
 * Envoy's per-try timeout starts when the attempt's connection is ready and
 * the whole request is on its way (UpstreamRequest::setupPerTryTimeout).
 */
static void
dr_arm_try(struct gw_dreq *dr)
{
	int64_t t;

	if (dr == NULL || dr->rt == NULL || dr->uc == NULL || !dr->uc->connected ||
	    !dr->body_done || dr->resp_done || dr->step != STEP_NONE || dr->uc->discard)
		return;
	t = dr->rt->retry.per_try_timeout_ms;
	if (t > 0)
		dr_step(dr, STEP_TRY, t);
}

/* Expect: 100-continue is answered by the gateway once an upstream attempt is under way. */
static void
dr_continue(struct gw_dreq *dr)
{
	if (dr->expect && !dr->continued && dr->uc && !dr->resp_started && !dr->body_done) {
		dr->continued = 1;
		evbuffer_add(dc_out(dr->dc), "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
}

/* The fault filter's abort (flag FI), after any delay. 1 when it answered. */
static int
dr_fault_abort(struct gw_dreq *dr)
{
	const struct gw_fault *f = dr->rt->fault;

	if (f->abort_status <= 0 ||
	    !gw_fraction_hit(f->abort_num, f->abort_den, gw_rand(dr->dc->w)))
		return 0;
	dr_local(dr, f->abort_status, gw_flags_add(dr->flags, "FI"), "fault filter abort", 18, NULL);
	return 1;
}

/*
 * Envoy's fault filter, ahead of the router: a delay (flag DI) holds the
 * request, its body waiting unread in the socket; then the abort. 1 when
 * the request is held or answered.
 */
static int
dr_fault(struct gw_dreq *dr)
{
	const struct gw_fault *f = dr->rt->fault;

	if (f->delay_ms > 0 && gw_fraction_hit(f->delay_num, f->delay_den, gw_rand(dr->dc->w))) {
		dr->flags = gw_flags_add(dr->flags, "DI");
		http_parser_pause(&dr->dc->p, 1);
		dr_step(dr, STEP_DELAY, f->delay_ms);
		return 1;
	}
	return dr_fault_abort(dr);
}

/*
 * Whether one more retry may start: the cluster's
 * connectionPool.http.maxRetries circuit breaker (gw_resil.c; Envoy: the
 * retry is not made, upstream_rq_retry_overflow, flag UO). The retry holds
 * its share until its back-off is over (dr_retry_now releases it).
 */
static int
retry_allowed(struct gw_dreq *dr)
{
	return gw_breaker_retry_ok(&dr->rs, dr->snap, dr->cl);
}

static enum gw_retry_verdict
dr_retry_decide(struct gw_dreq *dr, enum gw_retry_ev ev, int status, int overloaded)
{
	enum gw_retry_verdict v;
	int replayable = !dr->has_body || (dr->body != NULL && !dr->body_over);

	if (dr->rt == NULL || dr->cl == NULL || dr->resp_started)
		return GW_RETRY_NO;
	v = gw_retry_decide(&dr->rt->retry, ev, status, overloaded, dr->retries, replayable);
	if (v == GW_RETRY_YES && !retry_allowed(dr)) {
		dr->flags = gw_flags_add(dr->flags, "UO");
		return GW_RETRY_NO;
	}
	if (v == GW_RETRY_EXHAUSTED) {
		dr->flags = gw_flags_add(dr->flags, "URX");
		gw_stats_cluster(&dr->dc->w->stats, dr->cl->name, GW_CS_RETRY_LIMIT);
	}
	return v;
}

/* A retry waits Envoy's jittered exponential back-off (a timer: nothing blocks). */
static void
dr_retry_later(struct gw_dreq *dr)
{
	struct gw_worker *w = dr->dc->w;

	dr->retries++;
	gw_stats_cluster(&w->stats, dr->cl->name, GW_CS_RETRY);
	dr_step(dr, STEP_BACKOFF, (int64_t)gw_retry_backoff_ms(&dr->rt->retry, dr->retries,
	    gw_rand(w)));
}

/* The back-off is over: another endpoint (previous_hosts predicate), the request again. */
static void
dr_retry_now(struct gw_dreq *dr)
{
	const struct gw_endpoint *e = NULL;
	uint64_t h = 0;
	int i, have_hash;

	if (dr->ep && dr->ntried < VG_ARRAY_SIZE(dr->tried))
		dr->tried[dr->ntried++] = dr->ep;
	dr_release_ep(dr);
	dr->lbs = gw_lb_state(dr->snap, dr->dc->w->id, dr->cl);
	have_hash = hash_key(dr, dr->cl, &h);
	for (i = 0; i < GW_RETRY_HOST_PICKS; i++) {
		e = gw_lb_pick(dr->cl, dr->lbs, rnd_cb, dr->dc->w, h + (uint64_t)i, have_hash);
		if (e == NULL || gw_retry_host_ok(&dr->rt->retry, e, (const void *const *)dr->tried,
		    dr->ntried))
			break;
	}
	if (e == NULL) {
		dr->lbs = NULL;
		dr->ep = NULL;
		dr_error(dr, 503, gw_flags_add(dr->flags, "UH"), "no healthy upstream\n");
		return;
	}
	dr->ep = e;
	gw_lb_acquire(dr->lbs, e);
	if (dr_send_attempt(dr) == -1)
		dr_attempt_failed(dr, GW_RETRY_EV_CONNECT);
}

/*
 * An attempt ended without an answer to pass on: retry it, or answer as
 * Envoy's router does (503 UF/UC, 504 UT; URX added when the retries ran
 * out, and "retried and the latest" in the body once a retry was made).
 */
static void
dr_attempt_failed(struct gw_dreq *dr, enum gw_retry_ev ev)
{
	enum gw_retry_verdict v = dr_retry_decide(dr, ev, 0, 0);
	const char *flag = "UC", *why = "connection termination";
	struct vg_buf b = { 0 };

	if (v == GW_RETRY_YES) {
		dr_retry_later(dr);
		return;
	}
	if (ev == GW_RETRY_EV_PER_TRY_TIMEOUT) {
		dr_error(dr, 504, gw_flags_add(dr->flags, "UT"), "upstream request timeout\n");
		return;
	}
	if (ev == GW_RETRY_EV_CONNECT) {
		flag = "UF";
		why = "connection failure";
	}
	/* Envoy adds %UPSTREAM_TRANSPORT_FAILURE_REASON% after a TLS failure */
	buf_printf(&b, "upstream connect error or disconnect/reset before headers. %sreset reason: %s%s%s\n",
	    dr->retries ? "retried and the latest " : "", why,
	    dr->tls_reason[0] ? ", transport failure reason: " : "", dr->tls_reason);
	dr_error(dr, 503, gw_flags_add(dr->flags, flag), b.s);
	buf_free(&b);
}

static void
dr_step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_dreq *dr = arg;
	struct gw_dconn *dc = dr->dc;
	int step = dr->step;

	(void)fd;
	(void)what;
	dr->step = STEP_NONE;
	dc_begin(dc);
	switch (step) {
	case STEP_DELAY:
		if (!dr_fault_abort(dr))
			dr_upstream(dr);
		/* what the delay held (the body, the end of the request) is read now */
		if (!dc->dead) {
			dc->resume = 1;
			dc_feed(dc);
		}
		break;
	case STEP_BACKOFF:
		dr_retry_now(dr);
		break;
	case STEP_TRY:
		if (dr->uc) {
			dr->timed_out = TMO_TRY;
			u_fail(dr->uc, BEV_EVENT_TIMEOUT | BEV_EVENT_READING);
		}
		break;
	}
	dc_close_if_done(dc);
	dc_end(dc);
}

/*
 * The route timeout fired: 504 UT when nothing was answered yet; once the
 * answer has started the client can only see the connection reset (Envoy's
 * onResponseTimeout).
 */
static void
dr_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_dreq *dr = arg;
	struct gw_dconn *dc = dr->dc;

	(void)fd;
	(void)what;
	dc_begin(dc);
	if (dr->uc) {
		dr->timed_out = TMO_ROUTE;
		u_fail(dr->uc, BEV_EVENT_TIMEOUT | BEV_EVENT_READING);
	} else if (!dr->resp_started) {
		dr_step_stop(dr);	/* a back-off: no more tries */
		dr_error(dr, 504, gw_flags_add(dr->flags, "UT"), "upstream request timeout\n");
	}
	dc_close_if_done(dc);
	dc_end(dc);
}

/* Headers are in: route it and answer locally or start the upstream exchange. */
static void
dr_route(struct gw_dreq *dr)
{
	struct gw_dconn *dc = dr->dc;
	struct hhead *hh = &dr->hh;
	struct gw_hdr hv[GW_MAX_HEADERS];
	struct gw_req rq;
	const struct gw_listener *l;
	const struct gw_chain *ch;
	const struct gw_vhost *vh;
	const struct gw_match *m = NULL;
	const char *host = NULL;
	size_t hostlen = 0, i;

	for (i = 0; i < hh->n; i++) {
		hv[i].name = HN(hh, i);
		hv[i].nlen = hh->h[i].nl;
		hv[i].value = HV(hh, i);
		hv[i].vlen = hh->h[i].vl;
		if (host == NULL && HNAME_IS(hh, i, "host")) {
			host = HV(hh, i);
			hostlen = hh->h[i].vl;
		}
	}
	memset(&rq, 0, sizeof(rq));
	rq.method = http_method_str((enum http_method)dc->p.method);
	rq.method_len = strlen(rq.method);
	rq.path = hh->b.s;
	rq.path_len = hh->url_l;
	rq.authority = host ? host : "";
	rq.authority_len = hostlen;
	rq.scheme = dc->tls ? "https" : "http";
	rq.port = dc->port;
	rq.hdrs = hv;
	rq.nhdrs = hh->n;

	l = snap_listener(dr->snap, dc->port);
	ch = NULL;
	if (l && dc->tls) {
		/* the server whose SNI matched; Host then picks within it */
		SSL *ssl = gw_io_ssl(dc->io);

		ch = gw_chain_find(l, ssl ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : NULL);
	} else if (l)
		ch = gw_chain_find(l, NULL);
	vh = ch ? gw_vhost_find(ch, rq.authority, rq.authority_len) : NULL;
	if (vh && vh->require_tls && !dc->tls) {
		struct vg_buf loc = { 0 };

		redirect_location(dr, NULL, 1, host, hostlen, &loc);
		buf_append(&loc, "", 1);
		dr_local(dr, 301, "-", NULL, 0, loc.s);
		buf_free(&loc);
		return;
	}
	dr->rt = gw_route_find(vh, dr->snap->rx, &rq, &m);
	if (dr->rt == NULL) {
		dr_error(dr, 404, "NR", "route_not_found\n");
		return;
	}
	if (dr->rt->cors && dr_cors(dr))
		return;
	switch (dr->rt->action) {
	case GW_ACT_REDIRECT: {
		struct vg_buf loc = { 0 };

		redirect_location(dr, &dr->rt->redirect, 0, host, hostlen, &loc);
		buf_append(&loc, "", 1);
		dr_local(dr, dr->rt->redirect.code, "-", NULL, 0, loc.s);
		buf_free(&loc);
		return;
	}
	case GW_ACT_DIRECT:
		dr_local(dr, dr->rt->direct_status, "-", dr->rt->direct_body, dr->rt->direct_len, NULL);
		return;
	case GW_ACT_ROUTE:
		break;
	}
	dr->m = m;
	dr->host = host;
	dr->hostlen = hostlen;
	if (dr->rt->fault && dr_fault(dr))
		return;
	dr_upstream(dr);
}

/*
 * The router's part: pick the destination and the endpoint, build the
 * upstream head, send the first attempt. The route timeout starts when the
 * request is complete (Envoy's global timeout), which may be now.
 */
static void
dr_upstream(struct gw_dreq *dr)
{
	struct gw_dconn *dc = dr->dc;
	struct gw_worker *w = dc->w;
	uint64_t h = 0;
	int have_hash;

	dr->dest = gw_pick_dest(dr->rt, (uint32_t)gw_rand(w));
	if (dr->dest == NULL || dr->dest->cluster == NULL) {
		dr_error(dr, 503, gw_flags_add(dr->flags, "NC"), "cluster_not_found\n");
		return;
	}
	dr->cl = dr->dest->cluster;
	if (dr->cl->missing) {
		struct vg_buf b = { 0 };

		buf_printf(&b, "cluster_not_found: %s\n", dr->cl->missing);
		dr_error(dr, 503, gw_flags_add(dr->flags, "NC"), b.s);
		buf_free(&b);
		return;
	}
	dr->lbs = gw_lb_state(dr->snap, w->id, dr->cl);
	have_hash = hash_key(dr, dr->cl, &h);
	dr->ep = gw_lb_pick(dr->cl, dr->lbs, rnd_cb, w, h, have_hash);
	if (dr->ep == NULL) {
		dr->lbs = NULL;
		dr_error(dr, 503, gw_flags_add(dr->flags, "UH"), "no healthy upstream\n");
		return;
	}
	gw_lb_acquire(dr->lbs, dr->ep);
	build_uphead(dr, dr->m, dr->host, dr->hostlen);
	dr->routed = 1;
	/* the body is kept while it may be replayed (retries) or mirrored */
	if (dr->has_body && (dr->rt->retry.attempts > 0 || dr->rt->nmirrors))
		dr->body = evbuffer_new();
	if (dr->rt->nmirrors && dr->body_done)
		dr_mirror(dr);
	if (dr->body_done)
		dr_arm_timeout(dr);
	if (dr_send_attempt(dr) == -1)
		dr_attempt_failed(dr, GW_RETRY_EV_CONNECT);
}

/* ---- downstream parser callbacks ---- */

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
	struct gw_dreq *dr;

	if (dc->closing)
		return -1;
	dr = dr_new(dc->w);
	dr->dc = dc;
	dr->t0_us = now_us();
	dr->flags = "-";
	dc->req = dr;
	dc->w->inflight++;
	dr->hh.max = dc->w->snap ? dc->w->snap->max_header_bytes : 0;
	dc_timeout(dc, dc->w->snap ? dc->w->snap->header_timeout_ms : GW_HEADER_TIMEOUT_MS);
	return 0;
}

static int
d_url(http_parser *p, const char *at, size_t len)
{
	struct gw_dconn *dc = p->data;
	struct gw_dreq *dr = dc->req;

	if (dr == NULL || !hh_room(&dr->hh, len))
		return -1;
	buf_append(&dr->hh.b, at, len);
	dr->hh.url_l += (uint32_t)len;
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

static int
d_headers_done(http_parser *p)
{
	struct gw_dconn *dc = p->data;
	struct gw_dreq *dr = dc->req;
	struct hhead *hh;
	int expect = 0;

	if (dr == NULL)
		return -1;
	hh = &dr->hh;
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
		/* RFC 9112 3.2: exactly one Host in HTTP/1.1 (Envoy: 400), at most one before */
		if (nhost > 1 || (nhost == 0 && p->http_major == 1 && p->http_minor == 1)) {
			dc_reject(dc, 400, nhost ? "more than one host header\n" : "missing host header\n");
			return -1;
		}
	}
	if (p->http_major != 1) {
		dc_reject(dc, 505, "http version not supported\n");
		return -1;
	}
	dr->http10 = p->http_minor == 0;
	/* draining: answer, then close, so clients move to another node (Envoy's drain) */
	dr->keepalive = http_should_keep_alive(p) && !dc->w->draining;
	dr->is_head = p->method == HTTP_HEAD;
	/*
	 * Istio configures only websocket upgrades (upgrade_configs); any
	 * other (h2c, TLS/1.0 ...) is served as a plain request without its
	 * Upgrade field, as Envoy does, and the parser goes on after it.
	 */
	dr->upgrade = p->upgrade && p->method != HTTP_CONNECT && gw_h1_websocket(hh);
	if (p->upgrade && !dr->upgrade && p->method != HTTP_CONNECT)
		p->upgrade = 0;
	dr->has_body = (p->flags & F_CHUNKED) || (p->content_length > 0 && p->content_length != ULLONG_MAX);
	if (p->method == HTTP_CONNECT) {
		dc_reject(dc, 405, "CONNECT is not served\n");
		return -1;
	}
	if (dc_target(dc, hh, dc->w->snap ? dc->w->snap->pathnorm : GW_PATHNORM_BASE) == -1)
		return -1;

	if (!dr->has_body)
		dr->body_done = 1;
	/* Envoy answers 100-continue itself, and only when the body will be read (dr_continue) */
	dr->expect = expect && !dr->http10;	/* RFC 9110 10.1.1: HTTP/1.0 ignores it */
	dr->snap = gw_snap_ref(dc->w->snap);
	{
		size_t xl = 0;
		const char *xff = req_header(dr, "x-forwarded-for", &xl);

		if (xff == NULL || gw_xff_client(xff, xl, dr->snap->trusted_hops, dr->client,
		    sizeof(dr->client)) == -1)
			memcpy(dr->client, dc->peer, sizeof(dr->client));
	}
	dr_route(dr);
	/* waiting for a connection (circuit breakers): its body stays unread */
	if (dc->req == dr && dr->rs.queued && !dr->body_done)
		http_parser_pause(p, 1);
	return 0;
}

static int
d_body(http_parser *p, const char *at, size_t len)
{
	struct gw_dconn *dc = p->data;
	struct gw_dreq *dr = dc->req;
	struct evbuffer *out;
	char sz[24];
	int szl = 0;

	if (dc->closing && dr == NULL)
		return -1;
	if (dr == NULL)
		return -1;
	dr->bytes_in += len;
	if (dr->uc == NULL && (dr->resp_started || dr->body == NULL))
		return 0;	/* answered locally: the body is dropped */
	if (dr->up_chunked)
		szl = snprintf(sz, sizeof(sz), "%zx\r\n", len);
	/* kept for a retry or a mirror, as long as it fits */
	if (dr->body && !dr->body_over) {
		if (evbuffer_get_length(dr->body) + (size_t)szl + len + 2 > GW_RETRY_BODY_MAX) {
			dr->body_over = 1;
			evbuffer_free(dr->body);
			dr->body = NULL;
			gw_stats_cluster(&dc->w->stats, dr->cl->name, GW_CS_RETRY_ABANDONED);
			if (dr->uc == NULL) {
				/* between two tries: nothing can carry it on (Envoy: 507) */
				dr_step_stop(dr);
				dr_error(dr, 507, dr->flags,
				    "exceeded request buffer limit while retrying upstream\n");
				return 0;
			}
		} else if (dr->up_chunked) {
			evbuffer_add(dr->body, sz, (size_t)szl);
			evbuffer_add(dr->body, at, len);
			evbuffer_add(dr->body, "\r\n", 2);
		} else
			evbuffer_add(dr->body, at, len);
	}
	if (dr->uc == NULL)
		return 0;	/* a retry is waiting for its back-off */
	if (dr->up_chunked)
		uc_send(dr->uc, sz, (size_t)szl, at, len, "\r\n", 2);
	else
		uc_send(dr->uc, at, len, NULL, 0, NULL, 0);
	out = gw_io_output(dr->uc->io);
	if (evbuffer_get_length(out) > GW_HWM) {
		dc->bp = 1;
		http_parser_pause(p, 1);
	}
	return 0;
}

static int
d_complete(http_parser *p)
{
	struct gw_dconn *dc = p->data;
	struct gw_dreq *dr = dc->req;

	if (dr == NULL)
		return dc->closing ? -1 : 0;
	dr->body_done = 1;
	if (dr->up_chunked && dr->body)
		evbuffer_add(dr->body, "0\r\n\r\n", 5);
	if (dr->uc && dr->up_chunked)
		uc_send(dr->uc, "0\r\n\r\n", 5, NULL, 0, NULL, 0);
	if (dr->routed && !dr->resp_done) {
		if (dr->rt->nmirrors)
			dr_mirror(dr);
		dr_arm_timeout(dr);
		dr_arm_try(dr);
	}
	/* one request at a time: the next waits for this answer */
	http_parser_pause(p, 1);
	dr_maybe_done(dr);
	return 0;
}

/* A head that cannot be served: the answer, and nothing goes upstream. */
static void
dc_bad_head(struct gw_dconn *dc, int code, const char *msg)
{
	struct gw_dreq *dr = dc->req;

	if (!dr || !dr->resp_started)
		dc_reject(dc, code, msg);
	else
		dc->closing = 1;
	if (dr && !dr->resp_done) {
		if (dr->uc) {
			dr->uc->req = NULL;
			uc_free(dr->uc);
			dr->uc = NULL;
		}
		if (!dr->code)
			dr->code = code;
		dr->resp_started = dr->resp_done = 1;
		dr->body_done = 1;
		dr_maybe_done(dr);
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

/* ---- downstream events ---- */

/* The head did not come in time: 408, and the connection closes. */
static void
dc_head_timeout(struct gw_dconn *dc)
{
	struct gw_dreq *dr = dc->req;

	dc_reject(dc, 408, "request timeout\n");
	dr->resp_started = dr->resp_done = dr->body_done = 1;
	dr_maybe_done(dr);
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
	struct gw_dreq *dr = dc->req;
	int64_t ms, left;

	if (dr == NULL || dr->snap || dr->resp_started || dc->closing)
		return;
	ms = dc->w->snap ? dc->w->snap->header_timeout_ms : GW_HEADER_TIMEOUT_MS;
	if (ms <= 0)
		return;
	left = ms - (now_us() - dr->t0_us) / 1000;
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
	if (dc->tunnel) {
		tunnel_pump(io, dc->tunnel->io);
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

	if (dc->tunnel) {
		gw_io_enable(dc->tunnel->io, EV_READ);
		return;
	}
	if (dc_close_if_done(dc))
		return;
	if (dc->req && dc->req->uc && dc->req->uc->bp) {
		struct gw_uconn *uc = dc->req->uc;

		uc->bp = 0;
		uc->resume = 1;
		u_feed(uc);
	}
}

static void
dc_eventcb(struct gw_io *io, short what, void *arg)
{
	struct gw_dconn *dc = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;		/* a TLS handshake completed */
	if (dc->tunnel) {
		dc_free(dc);
		return;
	}
	if (dc->lingering) {
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
	if (dc->req && dc->req->flags && !dc->req->resp_done)
		dc->req->flags = gw_flags_add(dc->req->flags, "DC");	/* "DI,DC" after a delay */
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
	if (dc->req == NULL && evbuffer_get_length(in) == 0 && !dc->paused) {
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
	struct gw_dreq *dr = dc->req;

	if (dr) {
		if (dr->uc) {
			dr->uc->req = NULL;
			uc_free(dr->uc);
			dr->uc = NULL;
		}
		dr_release_ep(dr);
		if (dr->snap) {
			if (!dr->code)
				dr->code = 0;
			dr_record(dr);
		}
		dc->w->inflight--;
		dr_free(dr);
	}
	gw_io_free(dc->io);
	evbuffer_free(dc->stage);
	if (dc->hs_snap)
		gw_snap_unref(dc->hs_snap);
	TAILQ_REMOVE(&dc->w->conns, dc, link);
	__atomic_sub_fetch(&dc->w->stats.cx_active, 1, __ATOMIC_RELAXED);
	dc->w->nconns--;
	gw_worker_conn_closed(dc->w);
	free(dc);
}

void
gw_accept(struct gw_worker *w, uint16_t port, int tls, evutil_socket_t fd,
    const struct sockaddr *sa, int socklen)
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
	dc->w = w;
	dc->port = port;
	dc->tls = tls;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, dc->peer, sizeof(dc->peer));
	else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], dc->peer, sizeof(dc->peer));
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, dc->peer, sizeof(dc->peer));
	}
	(void)socklen;
	if (tls) {
		const struct gw_listener *l = w->snap ? snap_listener(w->snap, port) : NULL;
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

/* ---- upstream ---- */

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

/* An answer with x-envoy-overloaded is never retried (Envoy's wouldRetryFromHeaders). */
static int
overloaded(const struct hhead *hh)
{
	size_t i;

	for (i = 0; i < hh->n; i++)
		if (HNAME_IS(hh, i, "x-envoy-overloaded"))
			return 1;
	return 0;
}

static int
u_headers_done(http_parser *p)
{
	struct gw_uconn *uc = p->data;
	struct gw_dreq *dr = uc->req;
	struct hhead *hh = &uc->hh;
	struct evbuffer *out;
	const struct gw_header_ops *ro, *dops;
	int has_cl = 0, no_body;
	size_t i, ndrop = 0;
	uint8_t drop[GW_MAX_HEADERS];

	if (dr == NULL)
		return -1;
	if (p->status_code >= 100 && p->status_code < 200 && !(p->status_code == 101 && dr->upgrade))
		return 0;	/* interim answers are not passed on; the final one follows */
	uc->got_head = 1;
	gw_rs_result(dr->snap, dr->cl, dr->ep, p->status_code);	/* outlier detection */
	switch (dr_retry_decide(dr, GW_RETRY_EV_STATUS, p->status_code, overloaded(hh))) {
	case GW_RETRY_YES:
		/* read and dropped; the retry follows its end (u_done) */
		uc->discard = 1;
		dr_step_stop(dr);
		return dr->is_head ? 1 : 0;
	case GW_RETRY_NO:
		if (dr->retries)
			gw_stats_cluster(&dr->dc->w->stats, dr->cl->name, GW_CS_RETRY_SUCCESS);
		break;
	case GW_RETRY_EXHAUSTED:
		break;	/* the last answer goes to the client, flag URX */
	}
	dr->resp_started = 1;
	dr->code = p->status_code;
	if (p->status_code == 101 && dr->upgrade) {
		out = dc_out(dr->dc);
		evbuffer_add_printf(out, "HTTP/1.1 101 Switching Protocols\r\n");
		for (i = 0; i < hh->n; i++) {
			evbuffer_add(out, HN(hh, i), hh->h[i].nl);
			evbuffer_add(out, ": ", 2);
			evbuffer_add(out, HV(hh, i), hh->h[i].vl);
			evbuffer_add(out, "\r\n", 2);
		}
		evbuffer_add(out, "\r\n", 2);
		uc->tunnel = 1;
		return 0;
	}
	if (dr->upgrade)
		dr->keepalive = 0;	/* refused: the parser is past the request */
	ndrop = gw_h1_conn_named(hh, drop);	/* RFC 9110 7.6.1, answers too */
	out = dc_out(dr->dc);
	ro = &dr->rt->resp;
	dops = dr->dest ? &dr->dest->resp : NULL;
	no_body = dr->is_head || p->status_code == 204 || p->status_code == 304;
	{
		char line[64];
		size_t n = 9;
		const char *rs = reason(p->status_code);

		memcpy(line, "HTTP/1.1 ", 9);
		n += fmt_u64(line + n, p->status_code);
		line[n++] = ' ';
		evbuffer_add(out, line, n);
		evbuffer_add(out, rs, strlen(rs));
		evbuffer_add(out, "\r\n", 2);
	}
	for (i = 0; i < hh->n; i++) {
		const char *n = HN(hh, i);
		size_t nl = hh->h[i].nl;

		if (hop_by_hop(hh, i) || (ndrop && drop[i]))
			continue;
		if (HNAME_IS(hh, i, "content-length"))
			has_cl = 1;
		if (in_list(n, nl, ro) || (dops && in_list(n, nl, dops)))
			continue;
		/* Envoy's server_header_transformation OVERWRITE */
		if (HNAME_IS(hh, i, "server"))
			continue;
		evbuffer_add(out, n, nl);
		evbuffer_add(out, ": ", 2);
		evbuffer_add(out, HV(hh, i), hh->h[i].vl);
		evbuffer_add(out, "\r\n", 2);
	}
	{
		char num[24];

		evbuffer_add(out, "server: istio-envoy\r\n", 21);
		ev_hdr(out, "x-envoy-upstream-service-time", num,
		    fmt_u64(num, (uint64_t)((now_us() - dr->t_up_us) / 1000)));
	}
	ops_emit(out, ro);
	if (dops)
		ops_emit(out, dops);
	cors_emit(out, dr);
	if (!no_body && ((p->flags & F_CHUNKED) || !has_cl)) {
		if (dr->http10)
			dr->down_close = 1;
		else {
			evbuffer_add(out, "transfer-encoding: chunked\r\n", 28);
			dr->down_chunked = 1;
		}
	}
	if (dr->down_close || !dr->keepalive || !dr->body_done) {
		evbuffer_add_printf(out, "connection: close\r\n");
		dr->keepalive = 0;	/* closed when the answer is complete */
	} else if (dr->http10)
		evbuffer_add_printf(out, "connection: keep-alive\r\n");
	evbuffer_add(out, "\r\n", 2);
	return dr->is_head ? 1 : 0;
}

static int
u_body(http_parser *p, const char *at, size_t len)
{
	struct gw_uconn *uc = p->data;
	struct gw_dreq *dr = uc->req;
	struct evbuffer *out;

	if (dr == NULL || !uc->got_head)
		return dr ? 0 : -1;
	if (uc->discard)
		return 0;
	out = dc_out(dr->dc);
	if (dr->down_chunked)
		evbuffer_add_printf(out, "%zx\r\n", len);
	evbuffer_add(out, at, len);
	if (dr->down_chunked)
		evbuffer_add(out, "\r\n", 2);
	dr->bytes_out += len;
	if (dc_pending(dr->dc) > GW_HWM) {
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

/* The upstream answer is complete: release the connection, finish the request. */
static void
u_done(struct gw_uconn *uc)
{
	struct gw_dreq *dr = uc->req;
	struct gw_dconn *dc = dr->dc;
	int keep;

	if (uc->discard) {
		/*
		 * a retriable answer (503 by default): try another endpoint after
		 * the back-off. An answer that came before the whole request body
		 * went out leaves the connection mid-request: it is not reused.
		 */
		keep = http_should_keep_alive(&uc->p) && dr->body_done &&
		    evbuffer_get_length(gw_io_input(uc->io)) == 0 && !dc->w->draining;
		dr->uc = NULL;
		uc->discard = 0;
		if (keep)
			uc_to_idle(uc);
		else {
			uc->req = NULL;
			uc_free(uc);
		}
		dr_retry_later(dr);
		return;
	}
	dr_step_stop(dr);	/* the per-try timeout */
	if (dr->down_chunked)
		evbuffer_add(dc_out(dc), "0\r\n\r\n", 5);
	keep = http_should_keep_alive(&uc->p) && dr->body_done &&
	    (uc->maxreq <= 0 || uc->nreq < (unsigned)uc->maxreq) &&
	    evbuffer_get_length(gw_io_input(uc->io)) == 0 && !dc->w->draining;
	dr->uc = NULL;
	if (keep)
		uc_to_idle(uc);
	else {
		uc->req = NULL;
		uc_free(uc);
	}
	if (dr->down_close || !dr->keepalive)
		dc->closing = 1;
	dr->resp_done = 1;
	dr_maybe_done(dr);
	dc_close_if_done(dc);
}

static void
u_fail(struct gw_uconn *uc, short what)
{
	struct gw_dreq *dr = uc->req;
	struct gw_dconn *dc;
	int tmo;

	if (dr == NULL) {
		uc_free(uc);
		return;
	}
	dc = dr->dc;
	tmo = dr->timed_out;
	dr->timed_out = TMO_NONE;
	dr_step_stop(dr);	/* the per-try timeout */
	if (!dr->resp_started) {
		int stale = uc->reused && !uc->got_bytes && !dr->retried && tmo == TMO_NONE &&
		    (!dr->has_body || (dr->body && !dr->body_over));
		int connected = uc->connected;

		int tf = connected ? 0 :
		    gw_uptls_failure(uc->io, what, dr->tls_reason, sizeof(dr->tls_reason));

		if (tf) {
			log_warnx("gateway: upstream %s (%s): TLS handshake: %s", uc->key,
			    dr->cl ? dr->cl->name : "-", dr->tls_reason);
			if (dr->cl)
				gw_stats_cluster(&dc->w->stats, dr->cl->name,
				    tf == GW_UPTLS_FAIL_SAN ? GW_CS_SSL_FAIL_VERIFY_SAN :
				    tf == GW_UPTLS_FAIL_VERIFY ? GW_CS_SSL_FAIL_VERIFY_ERROR :
				    GW_CS_SSL_CONNECTION_ERROR);
		}
		if (!stale)	/* outlier detection: a route/per-try timeout, or a reset */
			gw_rs_local(dr->snap, dr->cl, dr->ep, tmo != TMO_NONE ? GW_OD_TIMEOUT :
			    GW_OD_CONNECT_FAILED);
		dr->uc = NULL;
		uc->req = NULL;
		uc_free(uc);
		if (stale) {
			/* a pooled connection the upstream had closed: once more on a new one */
			dr->retried = 1;
			if (dr_send_attempt(dr) == 0)
				return;
		}
		if (tmo == TMO_ROUTE)
			dr_error(dr, 504, gw_flags_add(dr->flags, "UT"), "upstream request timeout\n");
		else
			dr_attempt_failed(dr, !connected ? GW_RETRY_EV_CONNECT :
			    tmo == TMO_TRY ? GW_RETRY_EV_PER_TRY_TIMEOUT : GW_RETRY_EV_RESET);
		dc_close_if_done(dc);
		return;
	}
	/* mid-answer: the client can only learn it from the connection closing */
	dr->flags = gw_flags_add(dr->flags, tmo != TMO_NONE ? "UT" : "UC");
	dc_free(dc);
	(void)what;
}

/* Move what one side has read to the other; hold the reader above the high-water mark. */
static void
tunnel_pump(struct gw_io *from, struct gw_io *to)
{
	struct evbuffer *in = gw_io_input(from);

	if (evbuffer_get_length(in))
		gw_io_write_buffer(to, in);
	if (evbuffer_get_length(gw_io_output(to)) > GW_HWM)
		gw_io_disable(from, EV_READ);
}

/*
 * The upstream said 101: from now on the connection pair is a byte pipe
 * (WebSocket), outliving reloads: it holds no listener, only its snapshot.
 */
static void
tunnel_start(struct gw_uconn *uc)
{
	struct gw_dreq *dr = uc->req;
	struct gw_dconn *dc = dr->dc;
	struct timeval hour = { 3600, 0 };

	dc->tunnel = uc;
	dr->resp_done = 0;
	/* a byte pipe from now on: no route or per-try timeout cuts it */
	if (dr->ev_timeout)
		evtimer_del(dr->ev_timeout);
	dr_step_stop(dr);
	gw_io_set_timeouts(dc->io, &hour, NULL);
	gw_io_set_timeouts(uc->io, &hour, NULL);
	gw_io_setwatermark(dc->io, EV_READ, 0, 0);
	gw_io_setwatermark(uc->io, EV_READ, 0, 0);
	/* what followed the heads on either side belongs to the new protocol */
	if (evbuffer_get_length(gw_io_input(uc->io)))
		evbuffer_add_buffer(dc_out(dc), gw_io_input(uc->io));
	if (evbuffer_get_length(gw_io_input(dc->io)))
		gw_io_write_buffer(uc->io, gw_io_input(dc->io));
	gw_io_enable(dc->io, EV_READ | EV_WRITE);
	gw_io_enable(uc->io, EV_READ | EV_WRITE);
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
			tunnel_start(uc);
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
			struct gw_dreq *dr = uc->req;

			uc->in_feed = 0;
			if (dr && !dr->resp_started) {
				struct gw_dconn *dc = dr->dc;

				/* Envoy counts an upstream reset as a local origin failure */
				gw_rs_local(dr->snap, dr->cl, dr->ep, GW_OD_CONNECT_FAILED);
				dr->uc = NULL;
				uc->req = NULL;
				uc_free(uc);
				dr_step_stop(dr);
				/* a protocol error is a reset to Envoy's retry policy */
				if (dr_retry_decide(dr, GW_RETRY_EV_RESET, 0, 0) == GW_RETRY_YES)
					dr_retry_later(dr);
				else
					dr_error(dr, 502, gw_flags_add(dr->flags, "UPE"),
					    "upstream protocol error\n");
				dc_close_if_done(dc);
			} else
				u_fail(uc, BEV_EVENT_ERROR);
			return;
		}
	}
	uc->in_feed = 0;
}

static void
u_readcb(struct gw_io *io, void *arg)
{
	struct gw_uconn *uc = arg;
	struct gw_dconn *dc;

	if (uc->in_idle) {
		/* an idle upstream must not talk */
		TAILQ_REMOVE(&uc->w->idle, uc, link);
		uc->w->nidle--;
		uc->in_idle = 0;
		uc_free(uc);
		return;
	}
	dc = uc->req ? uc->req->dc : NULL;
	if (dc && dc->tunnel == uc) {
		tunnel_pump(io, dc->io);
		return;
	}
	if (dc)
		dc_begin(dc);
	u_feed(uc);
	if (dc)
		dc_end(dc);
}

static void
u_writecb(struct gw_io *io, void *arg)
{
	struct gw_uconn *uc = arg;
	struct gw_dreq *dr = uc->req;

	if (dr && dr->dc->tunnel == uc) {
		gw_io_enable(dr->dc->io, EV_READ);
		return;
	}
	if (dr && dr->dc->bp) {
		struct gw_dconn *dc = dr->dc;

		dc->bp = 0;
		dc->resume = 1;
		dc_feed(dc);
		dc_close_if_done(dc);
	}
}

static void
u_eventcb(struct gw_io *io, short what, void *arg)
{
	struct gw_uconn *uc = arg;

	if (what & BEV_EVENT_CONNECTED) {
		uc->connected = 1;
		if (uc->tls && uc->req && uc->req->cl) {
			gw_stats_cluster(&uc->w->stats, uc->req->cl->name, GW_CS_SSL_HANDSHAKE);
			if (gw_uptls_reused(uc->io))
				gw_stats_cluster(&uc->w->stats, uc->req->cl->name,
				    GW_CS_SSL_SESSION_REUSED);
		}
		if (uc->req) {
			gw_rs_connected(&uc->req->rs);
			gw_rs_local(uc->req->snap, uc->req->cl, uc->req->ep, GW_OD_CONNECT_SUCCESS);
		}
		/* the connect timeout is over; the route and per-try timeouts are the request's */
		gw_io_set_timeouts(io, NULL, NULL);
		dr_arm_try(uc->req);
		return;
	}
	if (uc->in_idle) {
		TAILQ_REMOVE(&uc->w->idle, uc, link);
		uc->w->nidle--;
		uc->in_idle = 0;
		uc_free(uc);
		return;
	}
	if (uc->req && uc->req->dc->tunnel == uc) {
		struct gw_dconn *dc = uc->req->dc;

		/* the upstream closed the pipe: let the client have what is left, then close */
		if (evbuffer_get_length(gw_io_input(uc->io)))
			gw_io_write_buffer(dc->io, gw_io_input(uc->io));
		dc->tunnel = NULL;
		uc->req->uc = NULL;
		uc->req->resp_done = 1;
		uc->req->body_done = 1;
		uc->req = NULL;
		uc_free(uc);
		dc->closing = 1;
		dr_maybe_done(dc->req);
		dc_close_if_done(dc);
		return;
	}
	if ((what & BEV_EVENT_EOF) && uc->req && uc->got_bytes) {
		/* bytes may wait behind back-pressure: u_feed ends the message */
		uc->eof = 1;
		u_feed(uc);
		return;
	}
	u_fail(uc, what);
}

static void
uc_free(struct gw_uconn *uc)
{
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
gw_conns_close_all(struct gw_worker *w)
{
	struct gw_dconn *dc;

	while ((dc = TAILQ_FIRST(&w->conns)) != NULL)
		dc_free(dc);
}

void
gw_idle_close_all(struct gw_worker *w)
{
	struct gw_uconn *uc;

	while ((uc = TAILQ_FIRST(&w->idle)) != NULL)
		uc_free(uc);
}

static void
ep_sockaddr(const struct gw_endpoint *e, struct sockaddr_storage *ss, socklen_t *len)
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

/*
 * One attempt: a connection for the chosen endpoint, the head, and the
 * body received so far (dr_connect replays dr->body).
 */
static int
dr_send_attempt(struct gw_dreq *dr)
{
	if (dr_connect(dr) == -1)
		return -1;
	dr_continue(dr);
	return 0;
}

/* Attach an upstream connection (pooled, or a new one) and send the head. */
static int
dr_connect(struct gw_dreq *dr)
{
	struct gw_worker *w = dr->dc->w;
	struct gw_uconn *uc;
	struct gw_uptls_req tr;
	char key[96], err[512];
	uint64_t kh;

	if (uset.on_message_begin == NULL) {
		uset.on_message_begin = u_begin;
		uset.on_header_field = u_field;
		uset.on_header_value = u_value;
		uset.on_headers_complete = u_headers_done;
		uset.on_body = u_body;
		uset.on_message_complete = u_complete;
	}
	dr->tls_reason[0] = '\0';	/* the latest attempt's, as Envoy reports it */
	if (gw_uptls_prepare(w->ctx, dr->snap, dr->cl, dr->ep, dr->uphead.s, dr->uphead.len,
	    &tr, err, sizeof(err)) == -1) {
		struct vg_buf b = { 0 };

		/* the cluster's secret is missing: Envoy would not have activated it */
		buf_printf(&b, "cluster_not_found: %s\n", err);
		dr_error(dr, 503, "NC", b.s);
		buf_free(&b);
		return 0;
	}
	/* one pool per TLS identity: plain and TLS to one ip:port never mix */
	if (tr.id)
		snprintf(key, sizeof(key), "%s|%u|t%016llx", dr->ep->ip, dr->ep->port,
		    (unsigned long long)tr.id);
	else
		snprintf(key, sizeof(key), "%s|%u", dr->ep->ip, dr->ep->port);
	kh = hash_str(HASH_INIT, key);
	TAILQ_FOREACH(uc, &w->idle, link)
		if (uc->khash == kh && strcmp(uc->key, key) == 0 &&
		    uc->rs.cl == dr->snap->crt[dr->cl->id])
			break;
	/* circuit breakers: a pooled connection, a new one, the queue, or 503 UO
	 * (a retry takes a fresh connection unless the breakers leave none) */
	switch (gw_rs_admit(w, dr->snap, dr->cl, dr->ep, &dr->rs, dr,
	    uc == NULL ? GW_RS_NO_IDLE : dr->retried ? GW_RS_IDLE_AVOID : GW_RS_IDLE_OK, 0)) {
	case GW_RS_OVERFLOW:
		gw_uptls_done(&tr);
		dr->extra_hdr = "x-envoy-overloaded: true\r\n";
		dr_error(dr, 503, gw_flags_add(dr->flags, "UO"), GW_RS_OVERFLOW_BODY);
		return 0;
	case GW_RS_QUEUED:
		gw_uptls_done(&tr);
		/* whatever body comes while it waits is kept to be sent on attach */
		if (dr->has_body && !dr->body_done && dr->body == NULL && !dr->body_over) {
			dr->body = evbuffer_new();
			dr->rs_body = 1;
		}
		return 0;	/* gw_dr_resume() goes on */
	case GW_RS_IDLE:
		TAILQ_REMOVE(&w->idle, uc, link);
		w->nidle--;
		uc->in_idle = 0;
		gw_rs_cx_idle(w, &uc->rs, 0);
		gw_rs_local(dr->snap, dr->cl, dr->ep, GW_OD_CONNECT_SUCCESS);
		uc->reused = 1;
		uc->got_bytes = 0;
		__atomic_add_fetch(&w->stats.upstream_reuse, 1, __ATOMIC_RELAXED);
		gw_uptls_done(&tr);
		goto attach;
	case GW_RS_CONNECT:
		break;
	}
	uc = xcalloc(1, sizeof(*uc));
	uc->w = w;
	snprintf(uc->key, sizeof(uc->key), "%s", key);
	uc->khash = kh;
	ep_sockaddr(dr->ep, &uc->sa, &uc->salen);
	uc->tls = tr.ctx != NULL;
	uc->io = tr.ctx ? gw_uptls_io_new(w, w->base, &tr, key) :
	    gw_io_new(w->base, -1, NULL, GW_IO_PLAIN);
	gw_uptls_done(&tr);
	if (uc->io == NULL) {
		free(uc);
		return -1;
	}
	__atomic_add_fetch(&w->stats.upstream_cx_total, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->stats.upstream_cx_active, 1, __ATOMIC_RELAXED);
	/* no callbacks yet: a synchronous failure must not free uc under us */
	if (gw_io_connect(uc->io, (struct sockaddr *)&uc->sa, uc->salen) == -1) {
		int e = errno;

		uc_free(uc);
		/*
		 * Out of descriptors, buffers or local ports is this node's
		 * fault, not the endpoint's: outlier detection must not eject
		 * healthy endpoints for it. The request still fails (UF).
		 */
		if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM && e != EADDRNOTAVAIL)
			gw_rs_local(dr->snap, dr->cl, dr->ep, GW_OD_CONNECT_FAILED);
		return -1;
	}
	gw_rs_cx_open(w, &uc->rs, &dr->rs);
	{
		int one = 1;
		evutil_socket_t fd = gw_io_fd(uc->io);

		if (fd >= 0)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		gw_rs_keepalive(fd, dr->cl);	/* tcpKeepalive */
	}
	http_parser_init(&uc->p, HTTP_RESPONSE);
	uc->p.data = uc;
	uc->hscan = GW_H1_SCAN_STATUS;
	gw_io_setcb(uc->io, u_readcb, u_writecb, u_eventcb, uc);
	gw_io_setwatermark(uc->io, EV_READ, 0, GW_HWM);
	gw_io_setwatermark(uc->io, EV_WRITE, GW_LWM, 0);
	{
		int64_t t = dr->cl->connect_timeout_ms;
		struct timeval tv = { t / 1000, (t % 1000) * 1000 };

		/* TLS: the handshake waits on reads; Envoy's connect timeout covers it too */
		gw_io_set_timeouts(uc->io, uc->tls ? &tv : NULL, &tv);
	}
	gw_io_enable(uc->io, EV_READ | EV_WRITE);
attach:
	uc->maxreq = dr->cl->max_requests_per_connection;
	uc->idle_ms = dr->cl->idle_timeout_ms > 0 ? dr->cl->idle_timeout_ms : 3600000;
	uc->req = dr;
	uc->nreq++;
	dr->uc = uc;
	if (uc->reused)
		gw_io_set_timeouts(uc->io, NULL, NULL);	/* the pool's idle timeout */
	dr->t_up_us = now_us();
	uc_send(uc, dr->uphead.s, dr->uphead.len, NULL, 0, NULL, 0);
	/* a retry: the body so far again (what comes later streams on) */
	if (dr->body && evbuffer_get_length(dr->body))
		uc_send(uc, evbuffer_pullup(dr->body, -1), evbuffer_get_length(dr->body), NULL, 0,
		    NULL, 0);
	dr_arm_try(dr);
	return 0;
}

/* A request that waited for a connection (gw_resil.c): its turn, or its bound. */
void
gw_dr_resume(void *owner, enum gw_rs_resume how)
{
	struct gw_dreq *dr = owner;
	struct gw_dconn *dc = dr->dc;

	dc_begin(dc);
	if (how == GW_RS_DISPATCH) {
		if (dr_send_attempt(dr) == -1)
			dr_attempt_failed(dr, GW_RETRY_EV_CONNECT);
		else if (dc->req == dr && dr->uc) {	/* not answered (503 UO) meanwhile */
			if (dr->rs_body) {
				/* sent on attach: the rest streams on */
				evbuffer_free(dr->body);
				dr->body = NULL;
				dr->rs_body = 0;
			}
			if (dc->paused && !dr->body_done) {
				dc->resume = 1;	/* the body it held back */
				dc_feed(dc);
			}
		}
	} else if (how == GW_RS_CONNECT_FAILED) {
		gw_rs_local(dr->snap, dr->cl, dr->ep, GW_OD_CONNECT_FAILED);
		dr_attempt_failed(dr, GW_RETRY_EV_CONNECT);
	} else if (how == GW_RS_ROUTE_TIMEOUT) {
		dr_step_stop(dr);
		dr_error(dr, 504, gw_flags_add(dr->flags, "UT"), "upstream request timeout\n");
	} else {
		dr_step_stop(dr);
		dr_error(dr, 504, gw_flags_add(dr->flags, "SI"), "stream timeout\n");
	}
	dc_close_if_done(dc);
	dc_end(dc);
}
