/*
 * The PROXY protocol on the gateway's listeners, as Envoy's proxy_protocol
 * listener filter (what Istio's gatewayTopology.proxyProtocol installs):
 * before TLS or HTTP or a tcp_proxy sees a byte, the connection must give
 * a version 1 or 2 header (gw_pp_parse); its addresses become the
 * connection's, for x-forwarded-for, remoteIpBlocks, routing and the
 * logs. A connection whose first bytes are not a header, or that does not
 * finish it within GW_PPIN_TIMEOUT_MS, is closed and counted
 * (vipgate_gateway_downstream_cx_proxy_proto_error_total, Envoy's
 * downstream_cx_proxy_proto_error).
 *
 * The header is read with MSG_PEEK and taken from the socket only to its
 * last byte, so what follows stays for the next layer (a TLS handshake
 * reads the socket itself). Bytes of a header that is not whole yet are
 * taken at once: every one of them belongs to it, and a level-triggered
 * poll would otherwise wake for them again and again.
 */
#include "config.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "vipgate/log.h"
#include "vipgate/util.h"

#include "gw-ppin.h"
#include "gw-proxyproto.h"
#include "gw-worker-t.h"

struct gw_ppc {
	struct gw_worker	*w;
	evutil_socket_t		 fd;
	uint16_t		 port;
	uint32_t		 scope;
	int			 tls;
	struct sockaddr_storage	 peer;
	struct event		*ev;
	int64_t			 deadline_ms;
	size_t			 have;
	uint8_t			 buf[GW_PP_MAX];
	TAILQ_ENTRY(gw_ppc)	 link;
};

static void
ppc_free(struct gw_ppc *p)
{
	struct gw_worker *w = p->w;

	event_free(p->ev);
	TAILQ_REMOVE(&w->ppconns, p, link);
	w->nconns--;
	free(p);
}

/* No valid header: closed, counted, and accepting may resume. */
static void
ppc_fail(struct gw_ppc *p, const char *why)
{
	struct gw_worker *w = p->w;
	char a[IPADDR_STRLEN + 8] = "?";

	if (why) {
		__atomic_add_fetch(&w->stats.pp_error, 1, __ATOMIC_RELAXED);
		if (p->peer.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&p->peer)->sin_addr, a, sizeof(a));
		else if (p->peer.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&p->peer)->sin6_addr, a,
			    sizeof(a));
		log_debug("gateway: port %u: %s: PROXY protocol: %s", p->port, a, why);
	}
	evutil_closesocket(p->fd);
	ppc_free(p);
	w->conn_closed(w);
}

static void
to_sockaddr(const struct ipaddr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->a, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->a, 16);
	}
}

/* The header is whole and taken: the connection goes on with its addresses. */
static void
ppc_done(struct gw_ppc *p, const struct gw_pp_info *pi)
{
	struct gw_worker *w = p->w;
	struct sockaddr_storage src, dst;
	evutil_socket_t fd = p->fd;
	uint16_t port = p->port;
	uint32_t scope = p->scope;
	int tls = p->tls;

	if (pi->local) {
		src = p->peer;
		ppc_free(p);
		w->pp_done(w, port, scope, tls, fd, (struct sockaddr *)&src, NULL);
		return;
	}
	to_sockaddr(&pi->src, pi->sport, &src);
	to_sockaddr(&pi->dst, pi->dport, &dst);
	ppc_free(p);
	w->pp_done(w, port, scope, tls, fd, (struct sockaddr *)&src, (struct sockaddr *)&dst);
}

static void
ppc_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_ppc *p = arg;
	struct gw_pp_info pi;
	struct timeval tv;
	int64_t left;
	ssize_t n;
	int r;

	if (what & EV_TIMEOUT) {
		ppc_fail(p, p->have ? "the header not whole in time" : "no header in time");
		return;
	}
	n = recv(fd, p->buf + p->have, sizeof(p->buf) - p->have, MSG_PEEK);
	if (n == 0) {
		/* gone: a header begun and not finished is a bad one */
		ppc_fail(p, p->have ? "closed within the header" : NULL);
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			goto again;
		ppc_fail(p, NULL);
		return;
	}
	r = gw_pp_parse(p->buf, p->have + (size_t)n, &pi);
	if (r < 0) {
		ppc_fail(p, "not a valid header");
		return;
	}
	if (r == 0) {
		/* all of it is header: take it from the socket */
		if (recv(fd, p->buf + p->have, (size_t)n, 0) != n) {
			ppc_fail(p, NULL);
			return;
		}
		p->have += (size_t)n;
		goto again;
	}
	/* take the header's bytes only, the peeked ones are there */
	if ((size_t)r > p->have && recv(fd, p->buf + p->have, (size_t)r - p->have, 0) !=
	    (ssize_t)((size_t)r - p->have)) {
		ppc_fail(p, NULL);
		return;
	}
	ppc_done(p, &pi);
	return;
again:
	left = p->deadline_ms - now_ms();
	if (left < 1)
		left = 1;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	event_add(p->ev, &tv);
}

void
gw_ppin_start(struct gw_worker *w, uint16_t port, uint32_t scope, int tls, evutil_socket_t fd,
    const struct sockaddr *sa, int socklen)
{
	struct gw_ppc *p = xcalloc(1, sizeof(*p));
	struct timeval tv = { GW_PPIN_TIMEOUT_MS / 1000, (GW_PPIN_TIMEOUT_MS % 1000) * 1000 };

	p->w = w;
	p->fd = fd;
	p->port = port;
	p->scope = scope;
	p->tls = tls;
	if (socklen > 0 && (size_t)socklen <= sizeof(p->peer))
		memcpy(&p->peer, sa, (size_t)socklen);
	p->deadline_ms = now_ms() + GW_PPIN_TIMEOUT_MS;
	p->ev = event_new(w->base, fd, EV_READ, ppc_cb, p);
	if (p->ev == NULL) {
		evutil_closesocket(fd);
		free(p);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	w->nconns++;
	TAILQ_INSERT_TAIL(&w->ppconns, p, link);
	/* the header usually came with the handshake's last ACK: read at once */
	event_add(p->ev, &tv);
	event_active(p->ev, EV_READ, 1);
}

void
gw_ppin_close_all(struct gw_worker *w)
{
	struct gw_ppc *p;

	while ((p = TAILQ_FIRST(&w->ppconns)) != NULL) {
		evutil_closesocket(p->fd);
		ppc_free(p);
	}
}
