/*
 * TCP and TLS passthrough: Envoy's tcp_proxy at the gateway. A connection
 * to a listener of TCP servers is routed at once by its port and
 * addresses; one to a listener of PASSTHROUGH servers first has its
 * ClientHello read (not answered: gw_sni.c, as Envoy's tls_inspector),
 * then is routed by SNI. Either way an endpoint of the rule's cluster is
 * picked and connected, and bytes go both ways untouched, with
 * back-pressure (the other side's output over GW_HWM stops reading) and
 * half-close carried through (a FIN read on one side becomes a shutdown
 * of writing on the other once its output is written, as tcp_proxy does).
 *
 * Where neither side is TLS (a TCP server to a plain upstream, or a
 * passthrough), a connection that has carried L4_SPLICE_AFTER bytes moves
 * the rest by splice(2) through a pipe a direction, not through
 * user-space buffers (HAProxy's splice-auto: bulk transfers only, a short
 * exchange does not pay for the pipes); the same half-close, counters and
 * timeouts apply. A connection that cannot have its pipes keeps the
 * buffers.
 *
 * Envoy's ways to end such a connection, kept with their response flags
 * for the access log: no rule (NR), no cluster (NC), no healthy endpoint
 * (UH), max_connections reached (UO), the connect failed or timed out
 * (UF), the idle timeout (connectionPool.tcp.idleTimeout, 1 h by default).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/buffer.h>

#include <openssl/ssl.h>

#include "vipgate/gw-l4.h"
#include "vipgate/log.h"
#include "vipgate/util.h"

#include "gw-back.h"
#include "gw-io.h"
#include "gw-l4-t.h"
#include "gw-l4.h"
#include "gw-l4log.h"
#include "gw-lb.h"
#include "gw-proxyproto.h"
#include "gw-resil.h"
#include "gw-sni.h"
#include "gw-snap.h"
#include "gw-stats.h"
#include "gw-uptls.h"
#include "gw-worker.h"

/*
 * Envoy's listener_filters_timeout: the whole ClientHello within 15 s of
 * the accept, however it trickles; then the connection is closed.
 */
#define L4_HELLO_TIMEOUT_MS	15000

#define L4_PIPE_BYTES	65536	/* Linux's default pipe size */
/*
 * Bytes either way before splicing: measured with tests/bench/tcp-vs-haproxy,
 * the pipes cost a short connection about 15% more CPU, and halve a
 * bulk one's per GB.
 */
#define L4_SPLICE_AFTER	65536

static void l4_close(struct gw_l4c *);
static void l4_route(struct gw_l4c *);
static int l4_splice_start(struct gw_l4c *);

static void
l4_arm(struct gw_l4c *c, int64_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(c->tmo, &tv);
}

/* Hello deadline, then the idle timeout, checked lazily: activity only stamps a time. */
static void
l4_timer(evutil_socket_t fd, short what, void *arg)
{
	struct gw_l4c *c = arg;
	int64_t now = now_ms(), left;

	(void)fd;
	(void)what;
	if (!(c->f & L4_ROUTED)) {
		c->rflags = "-";	/* Envoy counts it as a listener filter timeout */
		l4_close(c);
		return;
	}
	left = c->idle_ms - (now - c->last_ms);
	if (c->end_ms && c->end_ms - now < left)
		left = c->end_ms - now;
	if (left > 0) {
		l4_arm(c, left);
		return;
	}
	/* the idle timeout or maxConnectionDuration: tcp_proxy ends it without a flag */
	c->rflags = "-";
	l4_close(c);
}

/* Both sides finished (each has read a FIN and written everything): done. */
static int
l4_check_done(struct gw_l4c *c)
{
	if ((c->f & (L4_DN_SHUT | L4_UP_SHUT)) == (L4_DN_SHUT | L4_UP_SHUT)) {
		l4_close(c);
		return 1;
	}
	return 0;
}

/*
 * io's peer finished sending: once io's output is written, shut io's
 * writing (the FIN goes on). The write callback comes back here.
 */
static int
l4_shut_when_drained(struct gw_l4c *c, struct gw_io *io, unsigned shut)
{
	if (c->f & shut)
		return 0;
	if (evbuffer_get_length(gw_io_output(io)) > 0) {
		gw_io_setwatermark(io, EV_WRITE, 0, 0);	/* the write callback at empty */
		return 0;
	}
	if (io == c->dn && c->tls) {
		/* a FIN under TLS would truncate it: close_notify and close instead */
		l4_close(c);
		return 1;
	}
	if (io == c->up && c->up_tls) {
		/* TLS's half-close is close_notify (Envoy's SSL socket sends it
		 * on end_stream); the answer is still read after it */
		(void)SSL_shutdown(gw_io_ssl(io));
		c->f |= shut;
		return l4_check_done(c);
	}
	c->f |= shut;
	if ((c->f & (L4_DN_SHUT | L4_UP_SHUT)) == (L4_DN_SHUT | L4_UP_SHUT)) {
		/* the last FIN: both sides' were read, close() sends it (a
		 * shutdown() first would only cost a call more) */
		l4_close(c);
		return 1;
	}
	(void)shutdown(gw_io_fd(io), SHUT_WR);
	return 0;
}

/* ---- the pump ---- */

/* A bulk transfer on plain sockets: written now, the rest may be spliced. */
static void
l4_splice_try(struct gw_l4c *c, struct gw_io *to)
{
	if (c->tls || c->up_tls || c->rx + c->tx < L4_SPLICE_AFTER)
		return;
	gw_io_send_now(to);
	(void)l4_splice_start(c);
}

static void
dn_readcb(struct gw_io *io, void *arg)
{
	struct gw_l4c *c = arg;
	size_t n;

	if (c->rd) {
		struct evbuffer *in = gw_io_input(io);
		size_t len = evbuffer_get_length(in);
		const uint8_t *b;

		if (len > GW_SNI_MAX_INPUT)
			len = GW_SNI_MAX_INPUT;
		b = evbuffer_pullup(in, (ssize_t)len);
		switch (gw_sni_parse(c->rd, b, len, c->sni)) {
		case GW_SNI_MORE:
			return;
		case GW_SNI_FOUND:
			c->has_sni = 1;
			c->istio_alpn = gw_sni_istio_alpn(c->rd);
			break;
		case GW_SNI_NONE:
			break;
		case GW_SNI_ERROR:
		default:
			/* not TLS: no filter chain of a PASSTHROUGH server matches */
			c->rflags = "NR";
			l4_close(c);
			return;
		}
		free(c->rd);
		c->rd = NULL;
		evtimer_del(c->tmo);
		l4_route(c);
		return;
	}
	if (!(c->f & L4_CONNECTED))
		return;		/* kept in the input (up to GW_HWM) until the connect is done */
	n = evbuffer_get_length(gw_io_input(io));
	c->rx += n;
	c->last_ms = now_ms();
	gw_io_pump(io, c->up, GW_HWM);
	l4_splice_try(c, c->up);
}

static void
up_readcb(struct gw_io *io, void *arg)
{
	struct gw_l4c *c = arg;

	c->tx += evbuffer_get_length(gw_io_input(io));
	c->last_ms = now_ms();
	gw_io_pump(io, c->dn, GW_HWM);
	l4_splice_try(c, c->dn);
}

static void
dn_writecb(struct gw_io *io, void *arg)
{
	struct gw_l4c *c = arg;

	(void)io;
	if (c->f & L4_UP_EOF) {
		l4_shut_when_drained(c, c->dn, L4_DN_SHUT);
		return;
	}
	if (c->up)
		gw_io_enable(c->up, EV_READ);
}

static void
up_writecb(struct gw_io *io, void *arg)
{
	struct gw_l4c *c = arg;

	(void)io;
	if (c->f & L4_DN_EOF) {
		l4_shut_when_drained(c, c->up, L4_UP_SHUT);
		return;
	}
	gw_io_enable(c->dn, EV_READ);
}

static void
dn_eventcb(struct gw_io *io, short what, void *arg)
{
	struct gw_l4c *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		/* the TLS handshake is done: the chain is chosen, route the bytes */
		const char *sni = gw_io_ssl(io) ? SSL_get_servername(gw_io_ssl(io),
		    TLSEXT_NAMETYPE_host_name) : NULL;

		if (sni && strlen(sni) < sizeof(c->sni)) {
			memcpy(c->sni, sni, strlen(sni) + 1);
			c->has_sni = 1;
		}
		evtimer_del(c->tmo);
		l4_route(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		if (c->rd || c->up == NULL) {
			/* gone before its hello was whole: nothing to carry */
			l4_close(c);
			return;
		}
		if (!(c->f & L4_CONNECTED)) {
			/* what it sent goes on once the upstream is up, then the FIN */
			c->f |= L4_DN_EOF_EARLY;
			return;
		}
		c->f |= L4_DN_EOF;
		l4_shut_when_drained(c, c->up, L4_UP_SHUT);
		return;
	}
	/* a reset or an error: Envoy closes both sides */
	if (c->rflags == NULL || strcmp(c->rflags, "-") == 0)
		c->rflags = (c->f & L4_CONNECTED) ? "-" : "DC";
	l4_close(c);
}

static void
up_eventcb(struct gw_io *io, short what, void *arg)
{
	struct gw_l4c *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		c->f |= L4_CONNECTED;
		c->t_up_us = now_us();
		/* Envoy's tcp_proxy reports LocalOriginConnectSuccessFinal: a
		 * 200 that ends a run of errors, unless local errors count apart */
		if (c->cl->outlier.split_local)
			gw_rs_local(c->snap, c->cl, c->ep, GW_OD_CONNECT_SUCCESS);
		else
			gw_rs_result(c->snap, c->cl, c->ep, 200);
		gw_io_set_timeouts(c->up, NULL, NULL);
		/* maxConnectionDuration: from the upstream connection's start */
		if (c->cl->max_connection_duration_ms > 0) {
			c->end_ms = now_ms() + c->cl->max_connection_duration_ms;
			if (c->end_ms - now_ms() < c->idle_ms)
				l4_arm(c, c->cl->max_connection_duration_ms);
		}
		/* what came while it connected (the ClientHello at least) goes first */
		c->last_ms = now_ms();
		c->rx += evbuffer_get_length(gw_io_input(c->dn));
		gw_io_pump(c->dn, c->up, GW_HWM);
		if (c->f & L4_DN_EOF_EARLY) {
			c->f |= L4_DN_EOF;
			l4_shut_when_drained(c, c->up, L4_UP_SHUT);
		}
		return;
	}
	if (!(c->f & L4_CONNECTED)) {
		char reason[256];

		if (c->up_tls && gw_uptls_failure(io, what, reason, sizeof(reason)) != 0)
			log_warnx("gateway: %s: upstream %s:%u (%s): TLS handshake: %s", c->l4->name,
			    c->ep->ip, c->ep->port, c->cl->name, reason);
		/* Envoy's connect failure: UF, and outlier detection hears of it */
		gw_rs_local(c->snap, c->cl, c->ep, GW_OD_CONNECT_FAILED);
		c->rflags = "UF";
		l4_close(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		c->f |= L4_UP_EOF;
		l4_shut_when_drained(c, c->dn, L4_DN_SHUT);
		return;
	}
	c->rflags = "UC";	/* upstream reset (Envoy: upstream connection termination) */
	l4_close(c);
}

/* ---- splice(2): plain bytes both ways without a copy ---- */

#define L4_SPL_ROUNDS	16	/* then other connections get their turn */

/*
 * Move what direction d can now: from its source into the pipe when the
 * pipe is empty, from the pipe to its destination. Waits for the source
 * only with an empty pipe, so a destination that does not take bytes
 * stops the reading (back-pressure, and no poll on a socket left
 * readable). 0, or -1 when c was closed.
 */
static int
spl_pump(struct gw_l4c *c, int d)
{
	struct gw_l4_spl *s = &c->spl[d];
	ssize_t n;
	int round;

	for (round = 0; round < L4_SPL_ROUNDS; round++) {
		int moved = 0;

		if (s->n == 0 && !s->eof) {
			n = splice(s->src, NULL, s->pw, NULL, L4_PIPE_BYTES,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				s->n = (size_t)n;
				if (d == 0)
					c->rx += (uint64_t)n;
				else
					c->tx += (uint64_t)n;
				c->last_ms = now_ms();
				moved = 1;
			} else if (n == 0)
				s->eof = 1;
			else if (errno != EAGAIN && errno != EINTR) {
				/* a reset: the client's ends it quietly, the upstream's is UC */
				c->rflags = d == 0 ? "-" : "UC";
				l4_close(c);
				return -1;
			}
		}
		if (s->n > 0) {
			n = splice(s->pr, NULL, s->dst, NULL, s->n, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				s->n -= (size_t)n;
				moved = 1;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				c->rflags = d == 0 ? "UC" : "-";
				l4_close(c);
				return -1;
			}
		}
		if (!moved)
			break;
	}
	if (s->n > 0) {
		event_add(s->wev, NULL);
		return 0;
	}
	if (!s->eof) {
		event_add(s->rev, NULL);
		return 0;
	}
	/* the source's FIN, everything before it written: pass it on (the
	 * last one goes with the close) */
	c->f |= d == 0 ? (L4_DN_EOF | L4_UP_SHUT) : (L4_UP_EOF | L4_DN_SHUT);
	if (l4_check_done(c))
		return -1;
	(void)shutdown(s->dst, SHUT_WR);
	return 0;
}

static void
spl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_l4c *c = arg;

	/* the client's socket is direction 0's source and direction 1's destination */
	(void)spl_pump(c, (fd == c->spl[0].src) == ((what & EV_READ) != 0) ? 0 : 1);
}

/*
 * Splice from now on, when neither side is TLS, L4_SPLICE_AFTER bytes
 * went, nothing waits in the buffers, neither side has ended and the
 * pipes can be had. 0 when it splices (c may have been closed), -1 when
 * the buffers go on.
 */
static int
l4_splice_start(struct gw_l4c *c)
{
	int p[2][2], d;

	if (c->tls || c->up_tls || !(c->f & L4_CONNECTED) || c->rx + c->tx < L4_SPLICE_AFTER ||
	    (c->f & (L4_DN_EOF_EARLY | L4_DN_EOF | L4_UP_EOF | L4_DN_SHUT | L4_UP_SHUT)) ||
	    evbuffer_get_length(gw_io_output(c->up)) > 0 ||
	    evbuffer_get_length(gw_io_output(c->dn)) > 0 ||
	    evbuffer_get_length(gw_io_input(c->up)) > 0 ||
	    evbuffer_get_length(gw_io_input(c->dn)) > 0)
		return -1;
	if (pipe2(p[0], O_NONBLOCK | O_CLOEXEC) == -1)
		return -1;
	if (pipe2(p[1], O_NONBLOCK | O_CLOEXEC) == -1) {
		close(p[0][0]);
		close(p[0][1]);
		return -1;
	}
	/* the gw_io objects keep the sockets, and do nothing more with them */
	gw_io_setcb(c->dn, NULL, NULL, NULL, NULL);
	gw_io_setcb(c->up, NULL, NULL, NULL, NULL);
	gw_io_disable(c->dn, EV_READ | EV_WRITE);
	gw_io_disable(c->up, EV_READ | EV_WRITE);
	c->spl = xcalloc(2, sizeof(*c->spl));
	for (d = 0; d < 2; d++) {
		struct gw_l4_spl *s = &c->spl[d];

		s->src = gw_io_fd(d == 0 ? c->dn : c->up);
		s->dst = gw_io_fd(d == 0 ? c->up : c->dn);
		s->pr = p[d][0];
		s->pw = p[d][1];
		s->rev = event_new(c->w->base, s->src, EV_READ, spl_cb, c);
		s->wev = event_new(c->w->base, s->dst, EV_WRITE, spl_cb, c);
		if (s->rev == NULL || s->wev == NULL)
			fatalx("event_new");
	}
	__atomic_add_fetch(&c->w->stats.tcp_spliced, 1, __ATOMIC_RELAXED);
	if (spl_pump(c, 0) == 0)
		(void)spl_pump(c, 1);
	return 0;
}

static void
spl_free(struct gw_l4c *c)
{
	int d;

	if (c->spl == NULL)
		return;
	for (d = 0; d < 2; d++) {
		event_free(c->spl[d].rev);
		event_free(c->spl[d].wev);
		close(c->spl[d].pr);
		close(c->spl[d].pw);
	}
	free(c->spl);
	c->spl = NULL;
}

/* ---- routing and the upstream ---- */

static uint64_t
rnd_cb(void *arg)
{
	return gw_rand(arg);
}

static void
l4_route(struct gw_l4c *c)
{
	struct gw_worker *w = c->w;
	const struct gw_dest *d;
	struct gw_rs_req rq;
	struct gw_cl_rt *crt;
	struct sockaddr_storage ss;
	struct gw_uptls_req tr;
	char err[512];
	socklen_t sl;
	uint64_t h = 0;
	int one = 1;
	int64_t t;
	struct timeval tv;

	c->f |= L4_ROUTED;
	c->rt = gw_l4_route_find(c->l4, c->port, &c->dst, &c->src, c->has_sni ? c->sni : NULL,
	    c->istio_alpn);
	if (c->rt == NULL) {
		c->rflags = "NR";
		l4_close(c);
		return;
	}
	d = gw_l4_pick_dest(c->rt, (uint32_t)gw_rand(w));
	if (d == NULL || d->cluster == NULL || d->cluster->missing) {
		c->cl = d ? d->cluster : NULL;
		c->rflags = "NC";
		l4_close(c);
		return;
	}
	c->cl = d->cluster;
	c->lbs = gw_lb_state(c->snap, w->id, c->cl);
	if (c->cl->hash_key == GW_HASH_SOURCE_IP)
		h = hash_bytes(HASH_INIT, c->peer, strlen(c->peer));
	c->ep = gw_lb_pick(c->cl, c->lbs, rnd_cb, w, h, c->cl->hash_key == GW_HASH_SOURCE_IP);
	if (c->ep == NULL) {
		c->lbs = NULL;
		c->rflags = "UH";
		l4_close(c);
		return;
	}
	gw_lb_acquire(c->lbs, c->ep);
	/* connectionPool.tcp.maxConnections: Envoy's max_connections breaker */
	crt = c->snap->crt ? c->snap->crt[c->cl->id] : NULL;
	if (crt && c->cl->max_connections > 0 &&
	    __atomic_load_n(&crt->cx_active, __ATOMIC_RELAXED) >= (uint64_t)c->cl->max_connections) {
		__atomic_add_fetch(&crt->cx_overflow, 1, __ATOMIC_RELAXED);
		c->rflags = "UO";
		l4_close(c);
		return;
	}
	memset(&rq, 0, sizeof(rq));
	rq.cl = crt;
	rq.ep = crt && c->snap->ert ? c->snap->ert[c->cl->id][c->ep->id] : NULL;
	/* upstream TLS: the DestinationRule's tls, else auto mTLS by the
	 * endpoint's tlsMode; no Host here, so SNI only from tls.sni (or
	 * ISTIO_MUTUAL's outbound_ name), as Envoy's tcp_proxy sends it */
	if (gw_uptls_prepare(w->ctx, c->snap, c->cl, c->ep, NULL, 0, &tr, err, sizeof(err)) == -1) {
		log_warnx("gateway: %s: %s: upstream TLS: %s", c->l4->name, c->cl->name, err);
		c->rflags = "NC";	/* Envoy: the cluster's secret is not ready */
		l4_close(c);
		return;
	}
	if (tr.ctx) {
		char key[128];

		snprintf(key, sizeof(key), "%s|%u|t%016llx", c->ep->ip, c->ep->port,
		    (unsigned long long)tr.id);
		c->up = gw_uptls_io_new(w, w->base, &tr, key);
		c->up_tls = 1;
	} else
		c->up = gw_io_new(w->base, -1, NULL, GW_IO_PLAIN);
	gw_uptls_done(&tr);
	if (c->up == NULL) {
		c->rflags = "UF";
		l4_close(c);
		return;
	}
	/* proxyProtocol: the header before any byte of the client's, outside
	 * an upstream's TLS as Envoy's proxy_protocol transport socket puts it */
	if (c->cl->proxy_protocol) {
		uint8_t hdr[GW_PROXY_HDR_MAX];
		size_t n = gw_proxy_hdr(c->cl->proxy_protocol, &c->src, c->src_port, &c->dst,
		    c->dst_port, hdr);

		if (n)
			gw_io_set_preamble(c->up, hdr, n);
	}
	gw_back_sockaddr(c->ep, &ss, &sl);
	c->t_up_us = now_us();
	if (gw_io_connect(c->up, (struct sockaddr *)&ss, sl) == -1) {
		int e = errno;

		/* this node's own shortage is not the endpoint's fault */
		if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM && e != EADDRNOTAVAIL)
			gw_rs_local(c->snap, c->cl, c->ep, GW_OD_CONNECT_FAILED);
		c->rflags = "UF";
		l4_close(c);
		return;
	}
	gw_rs_cx_open(w, &c->rcx, &rq);
	gw_l4_stats_open(c);
	(void)setsockopt(gw_io_fd(c->up), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	gw_rs_keepalive(gw_io_fd(c->up), c->cl);	/* tcpKeepalive */
	__atomic_add_fetch(&w->stats.upstream_cx_total, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->stats.upstream_cx_active, 1, __ATOMIC_RELAXED);
	c->counted_up = 1;
	gw_io_setcb(c->up, up_readcb, up_writecb, up_eventcb, c);
	gw_io_setwatermark(c->up, EV_READ, 0, GW_HWM);
	gw_io_setwatermark(c->up, EV_WRITE, GW_LWM, 0);
	t = c->cl->connect_timeout_ms > 0 ? c->cl->connect_timeout_ms : 10000;
	tv.tv_sec = t / 1000;
	tv.tv_usec = (t % 1000) * 1000;
	/* a TLS handshake waits on reads: the connect timeout covers it (Envoy) */
	gw_io_set_timeouts(c->up, c->up_tls ? &tv : NULL, &tv);
	gw_io_enable(c->up, EV_READ | EV_WRITE);
	/* idle timeout: connectionPool.tcp.idleTimeout, Envoy's 1 h by default */
	c->idle_ms = c->cl->idle_timeout_ms > 0 ? c->cl->idle_timeout_ms : 3600000;
	c->last_ms = now_ms();
	l4_arm(c, c->idle_ms);
}

/* ---- accept and close ---- */

static void
sa_addr(const struct sockaddr *sa, struct ipaddr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	*port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		a->family = AF_INET;
		memcpy(a->a, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		*port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			a->family = AF_INET;
			memcpy(a->a, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			a->family = AF_INET6;
			memcpy(a->a, &s6->sin6_addr, 16);
		}
	}
}

void
gw_l4_accept(struct gw_worker *w, const struct gw_listener *l, evutil_socket_t fd,
    const struct sockaddr *sa, const struct sockaddr *local_sa)
{
	struct gw_l4c *c;
	struct sockaddr_storage local;
	socklen_t ll = sizeof(local);
	int one = 1;
	SSL *ssl = NULL;

	c = xcalloc(1, sizeof(*c));
	c->w = w;
	c->snap = gw_snap_ref(w->snap);
	c->l4 = l->l4;
	c->port = l->port;
	c->t0_us = now_us();
	sa_addr(sa, &c->src, &c->src_port);
	ipaddr_fmt(&c->src, c->peer);
	if (local_sa)
		sa_addr(local_sa, &c->dst, &c->dst_port);
	else if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0)
		sa_addr((struct sockaddr *)&local, &c->dst, &c->dst_port);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->tls) {
		/* TLS ends here: the first usable chain's context, the SNI
		 * callback moves it to the chain the name picks (gw_tls.c) */
		size_t li = (size_t)(l - w->snap->g->listeners), i;
		SSL_CTX *x = NULL;

		for (i = 0; i < l->nchains && x == NULL; i++)
			x = w->snap->ssl[li] ? w->snap->ssl[li][i] : NULL;
		if (x == NULL || (ssl = SSL_new(x)) == NULL) {
			evutil_closesocket(fd);
			gw_snap_unref(c->snap);
			free(c);
			return;
		}
		SSL_set_app_data(ssl, &c->tc);
		c->tls = 1;
	}
	c->dn = gw_io_new(w->base, fd, ssl, ssl ? GW_IO_TLS_ACCEPT : GW_IO_PLAIN);
	c->tmo = evtimer_new(w->base, l4_timer, c);
	if (c->dn == NULL || c->tmo == NULL) {
		if (c->dn == NULL)
			evutil_closesocket(fd);
		if (c->dn)
			gw_io_free(c->dn);
		if (c->tmo)
			event_free(c->tmo);
		gw_snap_unref(c->snap);
		free(c);
		return;
	}
	w->nconns++;
	TAILQ_INSERT_TAIL(&w->l4conns, c, link);
	__atomic_add_fetch(&w->stats.cx_total, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->stats.cx_active, 1, __ATOMIC_RELAXED);
	gw_io_setcb(c->dn, dn_readcb, dn_writecb, dn_eventcb, c);
	gw_io_setwatermark(c->dn, EV_READ, 0, GW_HWM);
	gw_io_setwatermark(c->dn, EV_WRITE, GW_LWM, 0);
	gw_io_enable(c->dn, EV_READ | EV_WRITE);
	if (c->l4->kind == GW_L4_PASSTHROUGH) {
		c->rd = xcalloc(1, sizeof(*c->rd));
		gw_sni_init(c->rd);
		l4_arm(c, L4_HELLO_TIMEOUT_MS);
		return;
	}
	if (c->tls) {
		l4_arm(c, L4_HELLO_TIMEOUT_MS);	/* the handshake, as the hello */
		return;
	}
	l4_route(c);
}

static void
l4_close(struct gw_l4c *c)
{
	struct gw_worker *w = c->w;
	int connected = (c->f & L4_CONNECTED) != 0;

	if (c->rflags == NULL)
		c->rflags = "-";
	gw_l4_log(c);
	gw_l4_stats_close(c);
	if (c->lbs && c->ep)
		gw_lb_release(c->lbs, c->ep);
	gw_rs_cx_close(w, &c->rcx, connected);
	spl_free(c);
	if (c->up)
		gw_io_free(c->up);
	if (c->counted_up)
		__atomic_sub_fetch(&w->stats.upstream_cx_active, 1, __ATOMIC_RELAXED);
	gw_io_free(c->dn);
	event_free(c->tmo);
	free(c->rd);
	TAILQ_REMOVE(&w->l4conns, c, link);
	gw_snap_unref(c->snap);
	__atomic_sub_fetch(&w->stats.cx_active, 1, __ATOMIC_RELAXED);
	w->nconns--;
	free(c);
	w->conn_closed(w);
}

void
gw_l4_close_all(struct gw_worker *w)
{
	struct gw_l4c *c;

	while ((c = TAILQ_FIRST(&w->l4conns)) != NULL) {
		c->rflags = "-";
		l4_close(c);
	}
}
