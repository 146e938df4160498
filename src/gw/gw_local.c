/*
 * The gateway's own answers, as Envoy's local replies: 404 NR, 503 NC/UH/UF,
 * 504 UT, redirects, direct responses, fault aborts, CORS preflights. The
 * head goes to the front as a field list; the front frames it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <http_parser.h>

#include "gw-grpcweb.h"
#include "gw-hdr.h"
#include "vipgate/gw-retry.h"
#include "gw-local.h"
#include "gw-snap-t.h"
#include "gw-stream-life.h"
#include "gw-stream-t.h"
#include "gw-uphead.h"
#include "vipgate/gw-route.h"

void
gw_local_cors_fields(struct gw_hlist *l, const struct gw_stream *st)
{
	const struct gw_cors *c = st->rt ? st->rt->cors : NULL;

	if (c == NULL || st->cors_origin == NULL)
		return;
	gw_hlist_add(l, "access-control-allow-origin", 27, st->cors_origin, st->cors_len);
	if (c->credentials == 1)
		gw_hlist_add(l, "access-control-allow-credentials", 32, "true", 4);
	if (c->expose)
		gw_hlist_add(l, "access-control-expose-headers", 29, c->expose, strlen(c->expose));
}

/* The date field's value (RFC 9110 5.6.7 IMF-fixdate), remade once a second. */
const char *
gw_http_date(size_t *len)
{
	static __thread char buf[40];
	static __thread time_t made;
	time_t now = time(NULL);

	if (now != made || buf[0] == '\0') {
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		made = now;
	}
	*len = strlen(buf);
	return buf;
}

/*
 * Envoy's local reply to a gRPC request: HTTP 200, trailers only, the
 * status in grpc-status (mapped from the HTTP one, or a fault's own) and
 * the text in grpc-message, percent-encoded as the gRPC spec asks.
 */
static void
grpc_local(struct gw_stream *st, int code, const char *flags, const char *body, size_t blen)
{
	struct gw_front *fc = st->fc;
	struct gw_hdr stack[GW_HLIST_STACK];
	struct gw_hlist l;
	struct gw_resp r;
	struct vg_buf msg = { 0 };
	char gs[8];
	const char *date;
	size_t i, dlen;
	int g = st->grpc_status ? st->grpc_status - 1 : gw_http_to_grpc(code);

	for (i = 0; i < blen; i++) {
		unsigned char ch = (unsigned char)body[i];

		if (ch < 0x20 || ch > 0x7e || ch == '%')
			buf_printf(&msg, "%%%02X", ch);
		else
			buf_append(&msg, (const char *)&ch, 1);
	}
	st->resp_started = 1;
	st->code = 200;
	st->flags = flags;
	st->grpc_sent = g + 1;
	gw_hlist_init(&l, stack);
	if (st->grpc_web)
		gw_hlist_add(&l, "content-type", 12, st->grpc_web == GW_GRPCWEB_TEXT ?
		    "application/grpc-web-text+proto" : "application/grpc-web+proto",
		    st->grpc_web == GW_GRPCWEB_TEXT ? 31 : 26);
	else
		gw_hlist_add(&l, "content-type", 12, "application/grpc", 16);
	gw_hlist_add(&l, "grpc-status", 11, gs, (size_t)snprintf(gs, sizeof(gs), "%d", g));
	if (msg.len)
		gw_hlist_add(&l, "grpc-message", 12, msg.s, msg.len);
	if (st->rt)
		gw_hlist_ops(&l, &st->rt->resp);
	gw_local_cors_fields(&l, st);
	date = gw_http_date(&dlen);
	gw_hlist_add(&l, "date", 4, date, dlen);
	gw_stream_reqid(st);
	gw_hlist_add(&l, "x-request-id", 12, st->reqid, strlen(st->reqid));
	gw_hlist_add(&l, "server", 6, "istio-envoy", 11);
	gw_hlist_add(&l, "content-length", 14, "0", 1);
	memset(&r, 0, sizeof(r));
	r.status = 200;
	r.f = l.f;
	r.n = l.n;
	r.has_length = 1;
	r.local = 1;
	r.no_body = 1;		/* HTTP/2: one HEADERS frame that ends the stream */
	fc->ops->head(fc, &r);
	gw_hlist_free(&l);
	buf_free(&msg);
	fc->ops->end(fc);
	st->resp_done = 1;
	gw_stream_maybe_done(st);
}

void
gw_local(struct gw_stream *st, int code, const char *flags, const char *body, size_t blen,
    const char *location)
{
	struct gw_front *fc = st->fc;
	struct gw_hdr stack[GW_HLIST_STACK];
	struct gw_hlist l;
	struct gw_resp r;
	char num[24];
	const char *date;
	size_t i, dlen;

	if (st->resp_started)
		return;
	if ((code >= 400 || st->grpc_status) && location == NULL && st->is_grpc) {
		grpc_local(st, code, flags, body, blen);
		return;
	}
	st->resp_started = 1;
	st->code = code;
	st->flags = flags;
	gw_hlist_init(&l, stack);
	gw_hlist_add(&l, "content-length", 14, num, gw_fmt_u64(num, blen));
	if (blen)
		gw_hlist_add(&l, "content-type", 12, "text/plain", 10);
	if (location)
		gw_hlist_add(&l, "location", 8, location, strlen(location));
	if (st->rt)
		gw_hlist_ops(&l, &st->rt->resp);
	gw_local_cors_fields(&l, st);
	for (i = 0; i < st->ncors_pf; i++)
		gw_hlist_add(&l, st->cors_pf[i].name, st->cors_pf[i].nlen, st->cors_pf[i].value,
		    st->cors_pf[i].vlen);
	if (st->overloaded)
		gw_hlist_add(&l, "x-envoy-overloaded", 18, "true", 4);
	if (st->www_auth)
		gw_hlist_add(&l, "www-authenticate", 16, st->www_auth, strlen(st->www_auth));
	/* every answer of the gateway's own carries a date and the request's id */
	date = gw_http_date(&dlen);
	gw_hlist_add(&l, "date", 4, date, dlen);
	gw_stream_reqid(st);
	gw_hlist_add(&l, "x-request-id", 12, st->reqid, strlen(st->reqid));
	gw_hlist_add(&l, "server", 6, "istio-envoy", 11);
	memset(&r, 0, sizeof(r));
	r.status = code;
	r.f = l.f;
	r.n = l.n;
	r.has_length = 1;
	r.local = 1;
	fc->ops->head(fc, &r);
	gw_hlist_free(&l);
	if (blen)
		fc->ops->body(fc, body, blen);
	st->bytes_out += blen;
	fc->ops->end(fc);
	st->resp_done = 1;
	gw_stream_maybe_done(st);
}

void
gw_local_error(struct gw_stream *st, int code, const char *flags, const char *msg)
{
	gw_local(st, code, flags, msg, strlen(msg), NULL);
}

/* Where a redirect points: scheme, authority, port, path or the route's uri. */
static void
redirect_location(struct gw_stream *st, const struct gw_redirect *rd, int to_https,
    const char *host, size_t hostlen, struct vg_buf *out)
{
	const char *path = st->hh.b.s;
	size_t plen = st->hh.url_l, hl = hostlen;
	const char *q = memchr(path, '?', plen);
	const char *colon = host ? memchr(host, ':', hostlen) : NULL;

	if (colon && host[0] != '[')
		hl = (size_t)(colon - host);
	buf_puts(out, to_https ? "https" : rd && rd->scheme ? rd->scheme : st->tls ? "https" : "http");
	buf_puts(out, "://");
	if (rd && rd->authority)
		buf_puts(out, rd->authority);
	else
		buf_append(out, host ? host : "", host ? hl : 0);
	if (rd && rd->port)
		buf_printf(out, ":%u", rd->port);
	else if (rd && rd->port_from_request)
		buf_printf(out, ":%u", st->port);
	if (rd && rd->uri) {
		buf_puts(out, rd->uri);
		if (q && !strchr(rd->uri, '?'))
			buf_append(out, q, plen - (size_t)(q - path));
	} else
		buf_append(out, path, plen);
}


void
gw_local_redirect(struct gw_stream *st, const struct gw_redirect *rd, int to_https, int code,
    const char *host, size_t hostlen)
{
	struct vg_buf loc = { 0 };

	redirect_location(st, rd, to_https, host, hostlen, &loc);
	buf_append(&loc, "", 1);
	gw_local(st, code, "-", NULL, 0, loc.s);
	buf_free(&loc);
}

int
gw_local_cors(struct gw_stream *st)
{
	const struct gw_cors *c = st->rt->cors;
	const struct hhead *hh = &st->hh;
	const char *origin = NULL;
	size_t olen = 0, i;
	int preflight = 0, ok = 0;

	for (i = 0; i < hh->n; i++) {
		if (HNAME_IS(hh, i, "origin")) {
			origin = HV(hh, i);
			olen = hh->h[i].vl;
		} else if (HNAME_IS(hh, i, "access-control-request-method"))
			preflight = st->method == HTTP_OPTIONS;
	}
	if (origin == NULL)
		return 0;
	for (i = 0; i < c->norigins && !ok; i++)
		ok = gw_strmatch_eval(&c->origins[i], st->snap->rx, origin, olen);
	if (!ok) {
		if (preflight && !c->forward_unmatched) {
			gw_local(st, 200, "-", NULL, 0, NULL);
			return 1;
		}
		return 0;
	}
	st->cors_origin = origin;
	st->cors_len = olen;
	if (preflight) {
		/* gw_local adds allow-origin and credentials; these are the preflight's own */
		struct gw_hdr *pf = st->cors_pf;
		size_t n = 0;

		if (c->methods)
			pf[n++] = (struct gw_hdr){ "access-control-allow-methods", 28, c->methods,
			    strlen(c->methods) };
		if (c->headers)
			pf[n++] = (struct gw_hdr){ "access-control-allow-headers", 28, c->headers,
			    strlen(c->headers) };
		if (c->max_age_s >= 0)
			pf[n++] = (struct gw_hdr){ "access-control-max-age", 22, st->cors_age,
			    gw_fmt_u64(st->cors_age, (uint64_t)c->max_age_s) };
		st->ncors_pf = n;
		gw_local(st, 200, "-", NULL, 0, NULL);	/* st is gone after this */
		return 1;
	}
	return 0;
}
