/*
 * Envoy's request mirroring: copies of a request sent to other clusters,
 * fire and forget, on connections of their own (the shadows), in the
 * mirror cluster's protocol (HTTP/2 through gw_back_h2.c's session).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "gw-back.h"
#include "gw-back-h2.h"
#include "gw-io.h"
#include "gw-mirror.h"
#include "gw-stream-t.h"
#include "gw-uptls.h"
#include "gw-worker.h"
#include "vipgate/log.h"

struct gw_shadow {
	struct gw_worker	*w;
	struct gw_io	*io;
	struct gw_uh2	*h2;		/* an HTTP/2 cluster's: the session ... */
	struct gw_uh2_rq *rq;		/* ... and the copy on it */
	TAILQ_ENTRY(gw_shadow)	 link;
};

static void
shadow_free(struct gw_shadow *sh)
{
	TAILQ_REMOVE(&sh->w->shadows, sh, link);
	gw_uh2_close(sh->rq);
	gw_uh2_free(sh->h2);
	gw_io_free(sh->io);
	free(sh);
}

void
gw_mirror_close_all(struct gw_worker *w)
{
	struct gw_shadow *sh;

	while ((sh = TAILQ_FIRST(&w->shadows)) != NULL)
		shadow_free(sh);
}

/* An HTTP/2 shadow's answer: its head says drop the rest. */
static enum gw_back_verdict
shadow_head(void *arg, int status, const struct hhead *hh, int eos)
{
	(void)arg;
	(void)status;
	(void)hh;
	(void)eos;
	return GW_BACK_DISCARD;
}

static int
shadow_body(void *arg, const void *p, size_t len)
{
	(void)arg;
	(void)p;
	(void)len;
	return 0;
}

static const struct gw_uh2_cb shadow_h2_cb = { NULL, shadow_head, shadow_body, NULL };

/* The shadow's answer is read and dropped; an HTTP/2 one ends with it. */
static void
shadow_readcb(struct gw_io *io, void *arg)
{
	struct gw_shadow *sh = arg;
	struct evbuffer *in = gw_io_input(io);

	if (sh->h2) {
		if (gw_uh2_input(sh->h2) == -1 || gw_uh2_state(sh->rq) != GW_UH2_BUSY)
			shadow_free(sh);
		return;
	}
	evbuffer_drain(in, evbuffer_get_length(in));	/* the shadow's answer is dropped */
}

/* An HTTP/2 shadow's body goes out as the upstream's window allows. */
static void
shadow_writecb(struct gw_io *io, void *arg)
{
	struct gw_shadow *sh = arg;

	(void)io;
	if (sh->h2)
		gw_uh2_flush(sh->h2);
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
void
gw_mirror(struct gw_stream *st)
{
	struct gw_worker *w = st->w;
	const struct gw_route *rt = st->rt;
	size_t i;

	if (st->mirrored || !st->routed || st->upgrade || (st->has_body && st->body == NULL))
		return;
	st->mirrored = 1;
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
		int h2;

		if (c == NULL || c->missing || c->neps == 0 ||
		    (double)(gw_rand(w) % 1000000) >= rt->mirrors[i].percent * 10000.0)
			continue;
		e = &c->eps[gw_rand(w) % c->neps];
		/* the upstream head, with Host "-shadow" and connection: close */
		host = strstr(st->uphead.s, "\r\nhost: ");
		end = st->uphead.s + st->uphead.len - 2;
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
		buf_append(&h, st->uphead.s, (size_t)(port - st->uphead.s));
		buf_puts(&h, "-shadow");
		buf_append(&h, port, (size_t)(end - port));
		buf_puts(&h, "connection: close\r\n\r\n");
		/* the mirror cluster's own upstream TLS (DestinationRule, auto mTLS), as Envoy's shadow */
		if (gw_uptls_prepare(w->ctx, st->snap, c, e, h.s, h.len, &tr, err, sizeof(err)) == -1) {
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
		/* the mirror cluster's protocol, as the main request's is chosen */
		h2 = c->up_proto == GW_UP_H2 ||
		    (c->up_proto == GW_UP_CLIENT && st->proto && strcmp(st->proto, "HTTP/2") == 0);
		if (h2 && sh->io) {
			gw_back_h2_alpn(sh->io, &tr);
			if ((sh->h2 = gw_uh2_new(sh->io, tr.ctx != NULL)) != NULL)
				sh->rq = gw_uh2_open(sh->h2, &shadow_h2_cb, sh);
		}
		gw_uptls_done(&tr);
		gw_back_sockaddr(e, &ss, &sl);
		if (sh->io == NULL || gw_io_connect(sh->io, (struct sockaddr *)&ss, sl) == -1) {
			if (sh->io)
				gw_io_free(sh->io);
			free(sh);
			buf_free(&h);
			continue;
		}
		TAILQ_INSERT_TAIL(&w->shadows, sh, link);
		gw_io_setcb(sh->io, shadow_readcb, shadow_writecb, shadow_eventcb, sh);
		gw_io_set_timeouts(sh->io, &(struct timeval){ 10, 0 }, &(struct timeval){ 10, 0 });
		if (sh->rq) {
			/* the HTTP/1.1 copy, read back into an HTTP/2 stream */
			(void)gw_uh2_send(sh->rq, h.s, h.len);
			if (st->body && evbuffer_get_length(st->body))
				(void)gw_uh2_send(sh->rq, evbuffer_pullup(st->body, -1),
				    evbuffer_get_length(st->body));
		} else {
			gw_io_write(sh->io, h.s, h.len);
			if (st->body && evbuffer_get_length(st->body))
				gw_io_write(sh->io, evbuffer_pullup(st->body, -1),
				    evbuffer_get_length(st->body));
		}
		gw_io_enable(sh->io, EV_READ | EV_WRITE);
		buf_free(&h);
	}
}
