/*
 * The head a stream sends upstream: the route's rewrites and header
 * operations, Envoy's edge fields (x-forwarded-for with the peer appended,
 * x-forwarded-proto, x-envoy-internal or x-envoy-external-address,
 * x-request-id), hop-by-hop fields and those the Connection field names
 * left out. Encoded as HTTP/1.1, the one upstream protocol so far; built
 * once a request and kept for retries and mirrors.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "gw-hdr.h"
#include "gw-snap-t.h"
#include "gw-stream-t.h"
#include "gw-uphead.h"
#include "gw-worker.h"
#include "vipgate/gw-route.h"

static void
buf_hdr(struct vg_buf *b, const char *name, const char *v, size_t vl)
{
	buf_puts(b, name);
	buf_append(b, ": ", 2);
	buf_append(b, v, vl);
	buf_append(b, "\r\n", 2);
}

/* The set and add operations of a route or destination, as header lines. */
static void
ops_emit(struct vg_buf *b, const struct gw_header_ops *ops)
{
	size_t k;

	for (k = 0; k < ops->nset; k++)
		buf_printf(b, "%s: %s\r\n", ops->set[k].name, ops->set[k].value);
	for (k = 0; k < ops->nadd; k++)
		buf_printf(b, "%s: %s\r\n", ops->add[k].name, ops->add[k].value);
}

/*
 * x-forwarded-client-cert for a client that showed a certificate, as an
 * Istio gateway sets it (forward_client_cert_details SANITIZE_SET, with
 * the subject, URI and DNS of the client's certificate).
 */
static void
xfcc(struct vg_buf *b, const struct gw_stream *st)
{
	const struct gw_peer_id *p = st->fc->ops->peer_id(st->fc);

	if (p == NULL)
		return;
	buf_printf(b, "x-forwarded-client-cert: Hash=%s", p->hash);
	if (p->subject) {
		const char *s;

		buf_puts(b, ";Subject=\"");
		for (s = p->subject; *s; s++) {
			if (*s == '"' || *s == '\\')
				buf_append(b, "\\", 1);
			buf_append(b, s, 1);
		}
		buf_puts(b, "\"");
	}
	if (p->uri)
		buf_printf(b, ";URI=%s", p->uri);
	if (p->dns)
		buf_printf(b, ";DNS=%s", p->dns);
	buf_puts(b, "\r\n");
}

/* A version 4 UUID for x-request-id, from the worker's random numbers. */
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

/*
 * The request's id, kept in st->reqid: the client's x-request-id when it
 * sent one, a new UUID otherwise. Set once; the upstream head and the
 * gateway's own answers carry the same.
 */
void
gw_stream_reqid(struct gw_stream *st)
{
	const char *rid;
	size_t ridl = 0;

	if (st->reqid[0])
		return;
	if ((rid = gw_hdr_get(&st->hh, "x-request-id", &ridl)) != NULL && ridl) {
		size_t l = ridl < sizeof(st->reqid) - 1 ? ridl : sizeof(st->reqid) - 1;

		memcpy(st->reqid, rid, l);
		st->reqid[l] = '\0';
	} else
		gen_request_id(st->w, st->reqid);
}

void
gw_uphead_build(struct gw_stream *st, const struct gw_match *m, const char *host, size_t hostlen)
{
	struct hhead *hh = &st->hh;
	struct vg_buf *b = &st->uphead;
	struct vg_buf path = { 0 };
	const struct gw_route *rt = st->rt;
	const struct gw_dest *d = st->dest;
	const char *xff = NULL, *rid = NULL;
	size_t xffl = 0, ridl = 0, i;

	gw_rewrite_path(rt, m, st->snap->rx, hh->b.s, hh->url_l, &path);
	buf_puts(b, http_method_str((enum http_method)st->method));
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
		    (st->ndrop && st->drop[i]))
			continue;	/* framing is ours; fields Connection names stop here */
		if (HNAME_IS(hh, i, "x-forwarded-for")) {
			xff = HV(hh, i);
			xffl = hh->h[i].vl;
			continue;
		}
		/* the edge sets these itself; a client's own are dropped (XFCC: Istio's
		 * gateways SANITIZE_SET it) */
		if (HNAME_IS(hh, i, "x-forwarded-proto") || HNAME_IS(hh, i, "x-envoy-internal") ||
		    HNAME_IS(hh, i, "x-envoy-external-address") ||
		    HNAME_IS(hh, i, "x-forwarded-client-cert"))
			continue;
		if (st->grpc_web && HNAME_IS(hh, i, "content-type")) {
			buf_puts(b, "content-type: application/grpc\r\n");	/* Envoy's grpc_web */
			continue;
		}
		if (HNAME_IS(hh, i, "x-request-id")) {
			rid = HV(hh, i);
			ridl = hh->h[i].vl;
			continue;
		}
		if (gw_ops_names(n, nl, &rt->req) || (d && gw_ops_names(n, nl, &d->req)))
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
	buf_puts(b, st->peer);
	buf_puts(b, st->tls ? "\r\nx-forwarded-proto: https\r\n" : "\r\nx-forwarded-proto: http\r\n");
	if (gw_addr_internal(st->client))
		buf_puts(b, "x-envoy-internal: true\r\n");
	else
		buf_hdr(b, "x-envoy-external-address", st->client, strlen(st->client));
	if (rid && ridl)
		buf_hdr(b, "x-request-id", rid, ridl);
	else {
		gw_stream_reqid(st);
		buf_hdr(b, "x-request-id", st->reqid, strlen(st->reqid));
	}
	if (st->tls)
		xfcc(b, st);
	for (i = 0; i < st->xhdrs.len; ) {
		/* RequestAuthentication's output fields ("name\0value\0") */
		const char *n = st->xhdrs.s + i, *v = n + strlen(n) + 1;

		buf_hdr(b, n, v, strlen(v));
		i = (size_t)(v + strlen(v) + 1 - st->xhdrs.s);
	}
	ops_emit(b, &rt->req);
	if (d)
		ops_emit(b, &d->req);
	if (st->upgrade)
		buf_puts(b, "upgrade: websocket\r\nconnection: upgrade\r\n");	/* the only hop-by-hop fields passed on */
	if (st->has_body) {
		if (st->body_chunked) {
			buf_puts(b, "transfer-encoding: chunked\r\n");
			st->up_chunked = 1;
		} else {
			char num[24];

			buf_hdr(b, "content-length", num, gw_fmt_u64(num, st->content_length));
		}
	}
	buf_puts(b, "\r\n");
}
