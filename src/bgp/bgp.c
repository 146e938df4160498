/*
 * The BGP speaker: sessions (active and passive, TCP MD5, collision
 * detection), timers, the Adj-RIB-Out sent as UPDATEs, and the applier the
 * daemon drives. The codec (msg.c) and the FSM (fsm.c) are pure; this file
 * is the thin I/O around them.
 *
 * The module's files: msg.c encodes and decodes messages, fsm.c is the
 * state machine, bgp.c (this file) runs the sessions, bgp_sock.c holds
 * their socket plumbing, bgp_show.c turns their state into vipgatectl's
 * JSON and Prometheus metrics. Planning what to announce is
 * src/reconcile/bgp_plan.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "bgp-int.h"
#include "vipgate/accept.h"
#include "vipgate/bfd.h"
#include "vipgate/bgp.h"
#include "vipgate/bgp-fsm.h"
#include "vipgate/bgp-msg.h"
#include "vipgate/bgp-plan.h"
#include "vipgate/bgp-t.h"
#include "vipgate/config-t.h"
#include "vipgate/log.h"
#include "vipgate/reconcile.h"
#include "vipgate/util.h"

#define GR_RESTART_TIME	120	/* seconds the peer keeps our routes (RFC 4724) */
#define CONNECT_TIMEOUT	10	/* seconds for a TCP connect */

static void peer_dispatch(struct peer *, enum bgp_event);
static int nbr_set(struct peer *, const struct ipaddr *);
static void peer_sync(struct peer *, int full);
static void pending_drop(struct peer *);
static void conn_read_cb(struct bufferevent *, void *);
static void conn_event_cb(struct bufferevent *, short, void *);

/* ---- connections ---- */

static void
peer_send(struct peer *p, const uint8_t *m, size_t n)
{
	if (p->bev == NULL)
		return;
	bufferevent_write(p->bev, m, n);
	p->msgs_sent++;
}

static void
connect_failed_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	peer_dispatch(arg, BGP_EV_TCP_FAILS);
}

static void
peer_connect(struct peer *p)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;
	struct timeval tv = { CONNECT_TIMEOUT, 0 };

	bgp_conn_close(p->bev);
	p->bev = NULL;
	if (p->pd->iface && (p->nbr.family == 0 || bgp_unnum_ifindex(p->un) == 0)) {
		/* nobody heard on the interface yet: ask, and retry */
		bgp_unnum_probe(p->un);
		snprintf(p->last_error, sizeof(p->last_error),
		    "connect: no neighbor heard on %s yet", p->pd->iface);
		goto fail;
	}
	fd = socket(p->pd->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (p->pd->password && bgp_md5_set(fd, &p->pd->addr, p->pd->password) < 0) {
		log_warn("bgp %s: TCP MD5", p->label);
		close(fd);
		goto fail;
	}
	bgp_sock_opts(fd, p->pd);
	if (p->pd->src.family) {
		sl = bgp_to_sockaddr(&p->pd->src, 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
			log_warn("bgp %s: bind to sourceAddress", p->label);
			close(fd);
			goto fail;
		}
	}
	p->bev = bufferevent_socket_new(p->bgp->env->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(p->bev, conn_read_cb, NULL, conn_event_cb, p);
	bufferevent_set_timeouts(p->bev, NULL, &tv);
	if (p->pd->iface) {
		sl = bgp_to_sockaddr(&p->nbr, p->pd->port, &ss);
		((struct sockaddr_in6 *)&ss)->sin6_scope_id = bgp_unnum_ifindex(p->un);
	} else
		sl = bgp_to_sockaddr(&p->pd->addr, p->pd->port, &ss);
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&ss, (int)sl) < 0) {
		bufferevent_free(p->bev);
		p->bev = NULL;
		goto fail;
	}
	return;
fail:
	/* reported as an event, not from inside the dispatch; the event is the
	 * peer's, so it dies with it */
	event_active(p->connect_failed, EV_TIMEOUT, 0);
}

/* ---- timers ---- */

static void
timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct peer_timer *pt = arg;
	struct peer *p = pt->p;
	enum bgp_timer t = pt->t;

	(void)fd;
	(void)ev;
	switch (t) {
	case BGP_T_CONNECT_RETRY:
		peer_dispatch(p, BGP_EV_CONNECT_RETRY);
		break;
	case BGP_T_HOLD:
		snprintf(p->last_error, sizeof(p->last_error), "hold timer expired (%us)",
		    p->fsm.state >= BGP_OPENCONFIRM ? p->fsm.hold : 240);
		peer_dispatch(p, BGP_EV_HOLD_EXPIRED);
		break;
	case BGP_T_KEEPALIVE:
		peer_dispatch(p, BGP_EV_KEEPALIVE_TIMER);
		break;
	case BGP_T_IDLE_HOLD:
		if (!p->stopped)
			peer_dispatch(p, BGP_EV_IDLE_HOLD);
		break;
	default:
		break;
	}
}

/* ---- the Adj-RIB-Out ---- */

int
bgp_peer_family_ok(const struct peer *p, const struct bgp_prefix *x)
{
	return x->addr.family == AF_INET ? p->v4 : p->v6;
}

void
bgp_peer_tx_session(const struct peer *p, struct bgp_tx_session *s)
{
	memset(s, 0, sizeof(*s));
	s->ibgp = p->ibgp;
	s->as4 = p->as4;
	s->my_as = p->pd->my_asn;
	s->nh4 = p->pd->nh4.family ? p->pd->nh4 : p->local;
	if (p->pd->iface) {
		/* RFC 8950 over the link: our link-local address for both
		 * families, alone in the next hop field */
		s->v4_mp = 1;
		s->nh6 = p->local;
	} else if (p->pd->nh6.family)
		s->nh6 = p->pd->nh6;
	else if (p->local.family == AF_INET6) {
		s->nh6 = p->local;
		s->nh6_ll = p->local_ll;
	}
	else {
		/* an IPv4 session carrying IPv6: the IPv4-mapped address */
		s->nh6.family = AF_INET6;
		s->nh6.a[10] = s->nh6.a[11] = 0xff;
		memcpy(s->nh6.a + 12, p->local.a, 4);
	}
}

static void
send_announce(struct peer *p, const struct bgp_attrset *as, struct bgp_prefix *v, size_t n)
{
	struct bgp_tx_session s;
	struct bgp_tx_attrs ta;
	uint8_t m[BGP_MAX_LEN];
	uint32_t *gshut_comms = NULL;
	size_t off = 0, taken, len;

	bgp_peer_tx_session(p, &s);
	ta.has_local_pref = as->has_local_pref;
	ta.local_pref = as->local_pref;
	ta.comms = as->comms;
	ta.ncomms = as->ncomms;
	ta.large = as->large;
	ta.nlarge = as->nlarge;
	if (p->bgp->gshut) {
		gshut_comms = xcalloc(as->ncomms + 1, sizeof(*gshut_comms));
		bgp_attrs_gshut(&ta, p->ibgp, gshut_comms);
	}
	if (n > 0 && v[0].addr.family == AF_INET && s.nh4.family != AF_INET && !s.v4_mp) {
		snprintf(p->last_error, sizeof(p->last_error),
		    "no IPv4 next hop for IPv4 routes on this session: set sourceAddress or node.address");
		free(gshut_comms);
		return;
	}
	while (off < n) {
		len = bgp_update_build(m, &s, &ta, v + off, n - off, &taken);
		if (taken == 0)
			break;
		peer_send(p, m, len);
		p->updates_sent++;
		off += taken;
	}
	free(gshut_comms);
}

static void
send_withdraw(struct peer *p, struct bgp_prefix *v, size_t n)
{
	uint8_t m[BGP_MAX_LEN];
	size_t off = 0, taken, len;

	while (off < n) {
		len = bgp_withdraw_build(m, v + off, n - off, &taken);
		if (taken == 0)
			break;
		peer_send(p, m, len);
		p->updates_sent++;
		off += taken;
	}
}

static int
cmp_family_prefix(const void *x, const void *y)
{
	return bgp_prefix_cmp(x, y);
}

/*
 * Bring the peer's Adj-RIB-Out from what it has (synced, or nothing when
 * full) to p->pd: withdraw what went, announce what is new or changed,
 * prefixes with identical attributes in the same UPDATEs.
 */
static void
peer_sync(struct peer *p, int full)
{
	const struct bgp_peer_desired *old = full ? NULL : p->synced;
	const struct bgp_peer_desired *nw = p->bgp->draining ? NULL : p->pd;
	size_t no = old ? old->nroutes : 0, nn = nw ? nw->nroutes : 0;
	size_t i = 0, j = 0, nwd = 0, k, a;
	struct bgp_prefix *wd = xcalloc(no + 1, sizeof(*wd));
	const struct bgp_route **ann = xcalloc(nn + 1, sizeof(*ann));
	size_t nann = 0;

	if (p->fsm.state != BGP_ESTABLISHED) {
		free(wd);
		free(ann);
		return;
	}
	while (i < no || j < nn) {
		int r = i == no ? 1 : j == nn ? -1 :
		    bgp_prefix_cmp(&old->routes[i].pfx, &nw->routes[j].pfx);

		if (r < 0) {
			if (bgp_peer_family_ok(p, &old->routes[i].pfx))
				wd[nwd++] = old->routes[i].pfx;
			i++;
		} else if (r > 0) {
			if (bgp_peer_family_ok(p, &nw->routes[j].pfx))
				ann[nann++] = &nw->routes[j];
			j++;
		} else {
			if (!bgp_attrset_eq(old->routes[i].attrs, nw->routes[j].attrs) &&
			    bgp_peer_family_ok(p, &nw->routes[j].pfx))
				ann[nann++] = &nw->routes[j];
			i++;
			j++;
		}
	}
	if (nwd) {
		/* v4 first, then v6: sorted already */
		for (k = 0; k < nwd && wd[k].addr.family == AF_INET; k++)
			;
		send_withdraw(p, wd, k);
		send_withdraw(p, wd + k, nwd - k);
	}
	/* group by attribute set, one family at a time */
	if (nann && nw) {
		struct bgp_prefix *v = xcalloc(nann, sizeof(*v));

		for (a = 0; a < nw->nattrsets; a++) {
			size_t nv = 0, n4;

			for (k = 0; k < nann; k++)
				if (ann[k]->attrs == &nw->attrsets[a])
					v[nv++] = ann[k]->pfx;
			if (nv == 0)
				continue;
			qsort(v, nv, sizeof(*v), cmp_family_prefix);
			for (n4 = 0; n4 < nv && v[n4].addr.family == AF_INET; n4++)
				;
			send_announce(p, &nw->attrsets[a], v, n4);
			send_announce(p, &nw->attrsets[a], v + n4, nv - n4);
		}
		free(v);
	}
	free(wd);
	free(ann);
	p->pfx_sent = 0;
	for (j = 0; j < nn; j++)
		if (bgp_peer_family_ok(p, &nw->routes[j].pfx))
			p->pfx_sent++;
	if (p->synced_d != p->bgp->cur) {
		desired_unref(p->synced_d);
		p->synced_d = nw ? desired_ref(p->bgp->cur) : NULL;
	}
	p->synced = nw;
}

/* ---- the FSM's actions ---- */

static uint32_t
local_router_id(const struct peer *p)
{
	if (p->pd->router_id)
		return p->pd->router_id;
	if (p->local.family == AF_INET)
		return (uint32_t)p->local.a[0] << 24 | (uint32_t)p->local.a[1] << 16 |
		    (uint32_t)p->local.a[2] << 8 | p->local.a[3];
	/* MetalLB: crc32 of the hostname; a stable hash of the node name here */
	return (uint32_t)hash_str(HASH_INIT, p->bgp->env->cfg->node.name) | 1;
}

static void
offer_families(const struct peer *p, int *v4, int *v6)
{
	*v4 = !p->pd->disable_mp || p->pd->addr.family == AF_INET;
	*v6 = !p->pd->disable_mp || p->pd->addr.family == AF_INET6;
}

static void
send_open(struct peer *p)
{
	struct bgp_open_params op;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uint8_t m[BGP_MAX_LEN];

	if (p->bev && getsockname(bufferevent_getfd(p->bev), (struct sockaddr *)&ss, &sl) == 0)
		bgp_from_sockaddr((struct sockaddr *)&ss, &p->local, NULL);
	p->local_id = local_router_id(p);
	bgp_find_link_local(&p->local, &p->pd->addr, &p->local_ll);
	memset(&op, 0, sizeof(op));
	op.my_as = p->pd->my_asn;
	op.hold = (uint16_t)(p->pd->hold_s > 65535 ? 65535 : p->pd->hold_s);
	op.bgp_id = p->local_id;
	offer_families(p, &op.mp_v4, &op.mp_v6);
	op.graceful_restart = p->pd->graceful_restart;
	op.gr_restarting = p->gr_first;
	op.gr_time = GR_RESTART_TIME;
	op.enh_v4 = p->pd->iface != NULL;
	peer_send(p, m, bgp_open_build(m, &op));
	p->opens_sent++;
}

static void
send_notif(struct peer *p, uint8_t code, uint8_t sub)
{
	uint8_t m[BGP_MAX_LEN];
	size_t n;

	if (code == BGP_ERR_CEASE && (sub == BGP_CEASE_SHUTDOWN || sub == BGP_CEASE_RESET))
		n = bgp_cease_build(m, sub, p->bgp->draining ? "vipgated is shutting down" :
		    "vipgated: peer stopped");
	else if (p->err.code == code && p->err.subcode == sub)
		n = bgp_notification_build(m, code, sub, p->err.data, p->err.datalen);
	else
		n = bgp_notification_build(m, code, sub, NULL, 0);
	peer_send(p, m, n);
	p->notifs_sent++;
	snprintf(p->last_error, sizeof(p->last_error), "sent NOTIFICATION %u/%u (%s)", code, sub,
	    bgp_err_name(code, sub));
	log_info("bgp %s: sent NOTIFICATION %u/%u (%s)", p->label, code, sub,
	    bgp_err_name(code, sub));
}

static void
run_actions(struct peer *p, const struct bgp_fsm_out *o)
{
	uint8_t m[BGP_HDR_LEN];
	size_t t;

	if (o->actions & BGP_A_SEND_NOTIF)
		send_notif(p, o->notif_code, o->notif_subcode);
	if (o->actions & BGP_A_CLOSE) {
		bgp_conn_close(p->bev);
		p->bev = NULL;
	}
	if (o->actions & BGP_A_DROP_HELD && p->pending) {
		/* §6.8: the session's connection won */
		uint8_t c[32];

		bufferevent_write(p->pending, c, bgp_cease_build(c, BGP_CEASE_COLLISION, NULL));
		p->notifs_sent++;
		bgp_conn_close(p->pending);
		p->pending = NULL;
		p->pending_has_open = 0;
	}
	if (o->actions & BGP_A_ADOPT && p->pending) {
		/* the held connection is the session's now; its OPEN, if read
		 * already, and what followed it are handled from the loop */
		p->bev = p->adopted_bev = p->pending;
		p->adopted_open = p->pending_open;
		p->adopted_has_open = p->pending_has_open;
		p->pending = NULL;
		p->pending_has_open = 0;
		bufferevent_setcb(p->bev, conn_read_cb, NULL, conn_event_cb, p);
		bufferevent_set_timeouts(p->bev, NULL, NULL);
		bufferevent_enable(p->bev, EV_READ | EV_WRITE);
		event_active(p->adopted, EV_TIMEOUT, 0);
		log_info("bgp %s: going on with the peer's connection (collision, RFC 4271 6.8)",
		    p->label);
	}
	if (o->actions & BGP_A_DOWN) {
		p->flaps++;
		p->up_since = 0;
		desired_unref(p->synced_d);
		p->synced_d = NULL;
		p->synced = NULL;
		p->pfx_sent = 0;
		log_info("bgp %s: session down", p->label);
	}
	if ((o->actions & BGP_A_CONNECT) && !p->suppress_connect)
		peer_connect(p);
	if (o->actions & BGP_A_SEND_OPEN)
		send_open(p);
	if (o->actions & BGP_A_SEND_KEEPALIVE) {
		peer_send(p, m, bgp_keepalive_build(m));
		p->ka_sent++;
	}
	for (t = 0; t < BGP_T__N; t++) {
		if (o->timer[t] < 0)
			evtimer_del(p->timers[t]);
		else if (o->timer[t] > 0) {
			struct timeval tv = { o->timer[t] / 1000, (o->timer[t] % 1000) * 1000 };

			evtimer_add(p->timers[t], &tv);
		}
	}
	if (o->actions & BGP_A_ESTABLISHED) {
		p->up_since = time(NULL);
		p->gr_first = 0;
		log_info("bgp %s: session established (AS %u, hold %us%s%s)", p->label,
		    bgp_open_peer_as(&p->open), p->fsm.hold, p->v4 ? ", IPv4" : "",
		    p->v6 ? ", IPv6" : "");
		peer_sync(p, 1);
		/* RFC 4724 §2: End-of-RIB after the initial table */
		{
			uint8_t e[32];

			if (p->v4) {
				peer_send(p, e, bgp_eor_build(e, AF_INET));
				p->updates_sent++;
			}
			if (p->v6) {
				peer_send(p, e, bgp_eor_build(e, AF_INET6));
				p->updates_sent++;
			}
		}
	}
	if (o->actions & BGP_A_RESEND_RIB)
		peer_sync(p, 1);
}

static void
peer_dispatch(struct peer *p, enum bgp_event ev)
{
	struct bgp_fsm_out o;

	p->fsm.jitter = (uint32_t)random();
	bgp_fsm_event(&p->fsm, ev, &o);
	run_actions(p, &o);
}

/* ---- reading ---- */

static void
set_err(struct peer *p, const struct bgp_err *e)
{
	p->err = *e;
	p->fsm.err_code = e->code;
	p->fsm.err_subcode = e->subcode;
}

static void
handle_open(struct peer *p, const struct bgp_open *o)
{
	int ov4, ov6;

	p->open = *o;
	p->as4 = o->has_as4;
	offer_families(p, &ov4, &ov6);
	/* unnumbered: IPv4 only with an IPv6 next hop (RFC 8950) */
	p->v4 = ov4 && o->mp_v4 && (p->pd->iface == NULL || o->enh_v4);
	p->v6 = ov6 && o->mp_v6;
	p->ibgp = bgp_open_peer_as(o) == p->pd->my_asn;
	p->gr = o->has_gr && p->pd->graceful_restart;
	bgp_fsm_negotiate(&p->fsm, o->hold);
	peer_dispatch(p, BGP_EV_OPEN);
}

/* 0 fine, -1 the connection is gone */
static int
handle_msg(struct peer *p, uint8_t type, const uint8_t *body, size_t len)
{
	struct bgp_err e;

	p->msgs_rcvd++;
	switch (type) {
	case BGP_OPEN: {
		struct bgp_open o;

		p->opens_rcvd++;
		if (p->fsm.state != BGP_OPENSENT) {
			peer_dispatch(p, BGP_EV_OPEN);	/* an FSM error */
			return -1;
		}
		if (bgp_open_parse(body, len, &o, &e) < 0 ||
		    bgp_open_check(&o, p->pd->my_asn, p->pd->peer_asn, (int)p->pd->dynamic,
		    local_router_id(p), &e) < 0) {
			set_err(p, &e);
			peer_dispatch(p, BGP_EV_OPEN_ERR);
			return -1;
		}
		handle_open(p, &o);
		return p->bev ? 0 : -1;
	}
	case BGP_UPDATE: {
		struct bgp_update_info u;

		p->updates_rcvd++;
		if (p->fsm.state == BGP_ESTABLISHED &&
		    bgp_update_parse(body, len, p->as4, p->ibgp, &u, &e) < 0) {
			set_err(p, &e);
			log_warnx("bgp %s: malformed UPDATE: %s", p->label,
			    bgp_err_name(e.code, e.subcode));
			peer_dispatch(p, BGP_EV_UPDATE_ERR);
			return -1;
		}
		if (p->fsm.state == BGP_ESTABLISHED) {
			/* counted, never installed */
			if (u.action == BGP_UPD_TREAT_AS_WITHDRAW)
				log_debug("bgp %s: UPDATE treated as withdraw: %s", p->label, u.why);
			else
				p->pfx_rcvd += u.nlri_v4 + u.nlri_v6;
			p->pfx_rcvd -= (u.withdrawn_v4 + u.withdrawn_v6) > p->pfx_rcvd ? p->pfx_rcvd :
			    u.withdrawn_v4 + u.withdrawn_v6;
		}
		peer_dispatch(p, BGP_EV_UPDATE_MSG);
		return p->bev ? 0 : -1;
	}
	case BGP_NOTIFICATION: {
		struct bgp_notification n;

		p->notifs_rcvd++;
		bgp_notification_parse(body, len, &n);
		snprintf(p->last_error, sizeof(p->last_error),
		    "received NOTIFICATION %u/%u (%s)%s%s", n.code, n.subcode,
		    bgp_err_name(n.code, n.subcode), n.shutdown_msg[0] ? ": " : "",
		    n.shutdown_msg);
		log_warnx("bgp %s: %s", p->label, p->last_error);
		p->fsm.err_code = n.code;
		p->fsm.err_subcode = n.subcode;
		peer_dispatch(p, n.code == BGP_ERR_OPEN && n.subcode == BGP_OPEN_VERSION ?
		    BGP_EV_NOTIF_VERSION : BGP_EV_NOTIF);
		return -1;
	}
	case BGP_KEEPALIVE:
		p->ka_rcvd++;
		peer_dispatch(p, BGP_EV_KEEPALIVE_MSG);
		return p->bev ? 0 : -1;
	case BGP_ROUTE_REFRESH: {
		struct bgp_rrefresh r;

		p->rr_rcvd++;
		bgp_rrefresh_parse(body, len, &r);
		/* RFC 2918 §4: a family not negotiated is ignored */
		if (p->fsm.state == BGP_ESTABLISHED && r.safi == BGP_SAFI_UNICAST &&
		    ((r.afi == BGP_AFI_IPV4 && p->v4) || (r.afi == BGP_AFI_IPV6 && p->v6)))
			peer_dispatch(p, BGP_EV_RREFRESH_MSG);
		else
			peer_dispatch(p, p->fsm.state == BGP_ESTABLISHED ? BGP_EV_UPDATE_MSG :
			    BGP_EV_RREFRESH_MSG);
		return p->bev ? 0 : -1;
	}
	}
	return 0;
}

/*
 * The first message in the input, made contiguous at *h: its length
 * (header included) and *type, 0 when more must come, -1 with *e on a
 * header error (bgp_frame).
 */
static long
frame_next(struct evbuffer *in, uint8_t **h, uint8_t *type, struct bgp_err *e)
{
	size_t have = evbuffer_get_length(in);

	if (have < BGP_HDR_LEN)
		return 0;
	if (have > BGP_MAX_LEN)
		have = BGP_MAX_LEN;
	*h = evbuffer_pullup(in, (ssize_t)have);
	return bgp_frame(*h, have, type, e);
}

/*
 * Frame and handle what arrived. On a header error the NOTIFICATION goes
 * out and the connection is gone.
 */
static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct peer *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (p->bev == bev) {
		uint8_t *h, type;
		struct bgp_err e;
		long n = frame_next(in, &h, &type, &e);

		if (n == 0)
			return;
		if (n < 0) {
			set_err(p, &e);
			log_warnx("bgp %s: bad message header: %s", p->label,
			    bgp_err_name(e.code, e.subcode));
			peer_dispatch(p, BGP_EV_HEADER_ERR);
			return;
		}
		{
			uint8_t msg[BGP_MAX_LEN];

			memcpy(msg, h, (size_t)n);
			evbuffer_drain(in, (size_t)n);
			if (handle_msg(p, type, msg + BGP_HDR_LEN, (size_t)n - BGP_HDR_LEN) < 0)
				return;
		}
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct peer *p = arg;

	if (bev != p->bev)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		/* the connect timeout is done with; the hold timer takes over */
		bufferevent_set_timeouts(bev, NULL, NULL);
		bufferevent_enable(bev, EV_READ | EV_WRITE);
		peer_dispatch(p, BGP_EV_TCP_ACKED);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		int e = EVUTIL_SOCKET_ERROR();

		if (p->fsm.state >= BGP_OPENSENT)
			snprintf(p->last_error, sizeof(p->last_error), "connection %s",
			    (what & BEV_EVENT_EOF) ? "closed by the peer" :
			    (what & BEV_EVENT_TIMEOUT) ? "timed out" : strerror(e));
		else if (p->last_error[0] == 0 || strncmp(p->last_error, "connect:", 8) == 0)
			snprintf(p->last_error, sizeof(p->last_error), "connect: %s",
			    (what & BEV_EVENT_TIMEOUT) ? "timed out" : strerror(e));
		bufferevent_free(bev);
		p->bev = NULL;
		peer_dispatch(p, BGP_EV_TCP_FAILS);
	}
}

/* ---- collisions (RFC 4271 §6.8) and accepting ---- */

static void
pending_drop(struct peer *p)
{
	if (p->pending)
		bufferevent_free(p->pending);
	p->pending = NULL;
	p->pending_has_open = 0;
	p->fsm.held = 0;
}

/* The adopted connection: the OPEN already read on it, then the rest. */
static void
adopted_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct peer *p = arg;
	struct bgp_open o = p->adopted_open;
	struct bgp_err e;

	(void)fd;
	(void)ev;
	if (p->bev == NULL || p->bev != p->adopted_bev)
		return;
	p->adopted_bev = NULL;
	if (p->adopted_has_open && p->fsm.state == BGP_OPENSENT) {
		p->adopted_has_open = 0;
		if (bgp_open_check(&o, p->pd->my_asn, p->pd->peer_asn, (int)p->pd->dynamic,
		    local_router_id(p), &e) < 0) {
			set_err(p, &e);
			peer_dispatch(p, BGP_EV_OPEN_ERR);
			return;
		}
		handle_open(p, &o);
	}
	if (p->bev != NULL)
		conn_read_cb(p->bev, p);
}

/* The incoming connection replaces ours: the FSM goes through Idle. */
static void
adopt_incoming(struct peer *p, struct bufferevent *in)
{
	struct bgp_fsm_out o;

	if (p->fsm.state >= BGP_OPENSENT) {
		bgp_fsm_event(&p->fsm, BGP_EV_COLLISION_DUMP, &o);
		run_actions(p, &o);
	} else {
		bgp_conn_close(p->bev);
		p->bev = NULL;
	}
	p->suppress_connect = 1;
	if (p->fsm.state == BGP_IDLE)
		peer_dispatch(p, BGP_EV_START);
	p->suppress_connect = 0;
	bgp_conn_close(p->bev);	/* an outgoing attempt made meanwhile, if any */
	p->bev = in;
	bufferevent_setcb(in, conn_read_cb, NULL, conn_event_cb, p);
	bufferevent_enable(in, EV_READ | EV_WRITE);
	peer_dispatch(p, BGP_EV_TCP_CONFIRMED);
}

/*
 * §6.8: of the two connections, the one opened by the speaker with the
 * higher BGP Identifier stays. Ours is p->bev, the peer's the held one.
 */
static void
resolve_collision(struct peer *p)
{
	uint32_t remote = p->pending_open.bgp_id;
	uint32_t local = p->local_id ? p->local_id : local_router_id(p);

	if (local > remote) {
		/* ours stays; the incoming one is closed with a Cease */
		struct bufferevent *in = p->pending;
		uint8_t m[32];

		p->pending = NULL;
		pending_drop(p);
		bufferevent_write(in, m, bgp_cease_build(m, BGP_CEASE_COLLISION, NULL));
		p->notifs_sent++;
		bgp_conn_close(in);
		return;
	}
	/* ours is dumped with a Cease; the FSM goes on with the held one */
	peer_dispatch(p, BGP_EV_COLLISION_DUMP);
}

static void
pending_read_cb(struct bufferevent *bev, void *arg)
{
	struct peer *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t *h, type;
	struct bgp_err e;
	long n = frame_next(in, &h, &type, &e);

	if (n == 0)
		return;
	if (n < 0 || type != BGP_OPEN ||
	    bgp_open_parse(h + BGP_HDR_LEN, (size_t)n - BGP_HDR_LEN, &p->pending_open, &e) < 0) {
		pending_drop(p);
		return;
	}
	evbuffer_drain(in, (size_t)n);
	p->pending_has_open = 1;
	p->opens_rcvd++;
	if (p->fsm.state == BGP_OPENCONFIRM || p->fsm.state == BGP_OPENSENT)
		resolve_collision(p);
	else
		pending_drop(p);
}

static void
pending_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	pending_drop(arg);
}

static struct peer *
find_peer(struct bgp *b, const struct ipaddr *addr, uint16_t lport)
{
	size_t i;

	for (i = 0; i < b->npeers; i++)
		/* a peer is accepted on 179 and on its own peerPort */
		if (ipaddr_eq(&b->peers[i]->pd->addr, addr) &&
		    (b->peers[i]->pd->port == lport || lport == 179))
			return b->peers[i];
	return NULL;
}

/* An unnumbered peer on the interface ifindex; it learns addr. */
static struct peer *
find_unnumbered(struct bgp *b, uint32_t ifindex, const struct ipaddr *addr, uint16_t lport)
{
	size_t i;

	for (i = 0; i < b->npeers; i++) {
		struct peer *p = b->peers[i];

		if (p->pd->iface && p->un && bgp_unnum_ifindex(p->un) == ifindex &&
		    (p->pd->port == lport || lport == 179)) {
			nbr_set(p, addr);
			return p;
		}
	}
	return NULL;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int sl,
    void *arg)
{
	struct bgp *b = arg;
	struct ipaddr addr;
	struct sockaddr_storage ls;
	socklen_t lsl = sizeof(ls);
	uint16_t lport = 179;
	struct peer *p;
	struct bufferevent *bev;
	char buf[IPADDR_STRLEN];

	(void)l;
	(void)sl;
	vg_lguard_ok(b);
	bgp_from_sockaddr(sa, &addr, NULL);
	if (getsockname(fd, (struct sockaddr *)&ls, &lsl) == 0) {
		struct ipaddr dummy;

		bgp_from_sockaddr((struct sockaddr *)&ls, &dummy, &lport);
	}
	p = find_peer(b, &addr, lport);
	if (p == NULL && sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)sa)->sin6_addr))
		p = find_unnumbered(b, ((struct sockaddr_in6 *)sa)->sin6_scope_id, &addr, lport);
	if (p == NULL || p->stopped || p->pd->problem || b->draining) {
		log_debug("bgp: connection from %s refused: %s", ipaddr_fmt(&addr, buf),
		    p ? "peer not running" : "not a configured peer");
		evutil_closesocket(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	bgp_sock_opts(fd, p->pd);
	bev = bufferevent_socket_new(b->env->base, fd, BEV_OPT_CLOSE_ON_FREE);
	log_debug("bgp %s: incoming connection in %s", p->label, bgp_state_name(p->fsm.state));
	switch (p->fsm.state) {
	case BGP_IDLE:
		/* §8.2.2: Idle refuses connections */
		bufferevent_free(bev);
		break;
	case BGP_CONNECT:
	case BGP_ACTIVE:
		adopt_incoming(p, bev);
		break;
	case BGP_OPENSENT:
	case BGP_OPENCONFIRM:
		pending_drop(p);
		p->pending = bev;
		p->fsm.held = 1;
		bufferevent_setcb(bev, pending_read_cb, NULL, pending_event_cb, p);
		{
			/* its OPEN must come within the large hold time */
			struct timeval tv = { 240, 0 };

			bufferevent_set_timeouts(bev, &tv, NULL);
		}
		bufferevent_enable(bev, EV_READ | EV_WRITE);
		break;
	case BGP_ESTABLISHED: {
		/* §6.8: the established session wins */
		uint8_t m[32];

		bufferevent_write(bev, m, bgp_cease_build(m, BGP_CEASE_COLLISION, NULL));
		p->notifs_sent++;
		bgp_conn_close(bev);
		break;
	}
	}
}

static void
listeners_sync(struct bgp *b)
{
	size_t i, j;

	/* a listener per peer port and family */
	for (i = 0; i < b->npeers; i++) {
		const struct bgp_peer_desired *pd = b->peers[i]->pd;

		if (pd->problem)	/* it does not run: nothing to listen for */
			continue;
		for (j = 0; j < b->nls; j++)
			if (b->ls[j].family == pd->addr.family && b->ls[j].port == pd->port)
				break;
		if (j == b->nls) {
			struct sockaddr_storage ss;
			struct ipaddr any;
			socklen_t sl;
			int fd, one = 1;

			memset(&any, 0, sizeof(any));
			any.family = pd->addr.family;
			sl = bgp_to_sockaddr(&any, pd->port, &ss);
			b->ls = xreallocarray(b->ls, b->nls + 1, sizeof(*b->ls));
			b->ls[b->nls].family = pd->addr.family;
			b->ls[b->nls].port = pd->port;
			b->ls[b->nls].l = NULL;
			fd = socket(pd->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (fd >= 0) {
				setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
				if (pd->addr.family == AF_INET6)
					setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
				if (bind(fd, (struct sockaddr *)&ss, sl) == 0 && listen(fd, 16) == 0) {
					b->ls[b->nls].l = evconnlistener_new(b->env->base, accept_cb, b,
					    LEV_OPT_CLOSE_ON_FREE, -1, fd);
					/* no spin when descriptors run out (accept.h) */
					vg_lguard_add(b->env->base, b->ls[b->nls].l, b, "bgp");
				} else {
					log_warn("bgp: cannot listen on port %u (%s); connecting only",
					    pd->port, pd->addr.family == AF_INET ? "IPv4" : "IPv6");
					close(fd);
				}
			}
			b->nls++;
		}
	}
	/* TCP MD5 keys on the listeners for every peer (RFC 2385) */
	for (j = 0; j < b->nls; j++) {
		if (b->ls[j].l == NULL)
			continue;
		for (i = 0; i < b->npeers; i++) {
			const struct bgp_peer_desired *pd = b->peers[i]->pd;

			/* no password: the key, if any, is deleted (ENOENT if none) */
			if (pd->addr.family == b->ls[j].family &&
			    bgp_md5_set(evconnlistener_get_fd(b->ls[j].l), &pd->addr, pd->password) < 0 &&
			    pd->password)
				log_warn("bgp %s: TCP MD5 key on the listener", b->peers[i]->label);
		}
	}
}

/* ---- peers ---- */

static void peer_bfd_sync(struct peer *);

/* An unnumbered peer's neighbor address: 1 when it is new. */
static int
nbr_set(struct peer *p, const struct ipaddr *ll)
{
	char buf[IPADDR_STRLEN];

	if (ipaddr_eq(&p->nbr, ll))
		return 0;
	p->nbr = *ll;
	log_info("bgp %s: neighbor %s heard on %s", p->label, ipaddr_fmt(ll, buf), p->pd->iface);
	/* its BFD session goes to the new address */
	bfd_peer_free(p->bfd);
	p->bfd = NULL;
	peer_bfd_sync(p);
	return 1;
}

/* A neighbor heard on an unnumbered peer's interface. */
static void
nbr_learned(void *arg, const struct ipaddr *ll)
{
	struct peer *p = arg;

	/* waiting to retry a connect that had nobody to go to: go now */
	if (nbr_set(p, ll) && p->fsm.state == BGP_ACTIVE && !p->stopped)
		peer_dispatch(p, BGP_EV_CONNECT_RETRY);
}

static struct peer *
peer_new(struct bgp *b, const struct bgp_peer_desired *pd)
{
	struct peer *p = xcalloc(1, sizeof(*p));
	char buf[IPADDR_STRLEN];
	size_t t;

	p->bgp = b;
	p->pd = pd;
	if (pd->iface)
		snprintf(p->label, sizeof(p->label), "%s:%u", pd->iface, pd->port);
	else if (pd->addr.family == AF_INET6)
		snprintf(p->label, sizeof(p->label), "[%s]:%u", ipaddr_fmt(&pd->addr, buf), pd->port);
	else
		snprintf(p->label, sizeof(p->label), "%s:%u", ipaddr_fmt(&pd->addr, buf), pd->port);
	bgp_fsm_init(&p->fsm, pd->hold_s, pd->keepalive_s, pd->connect_ms);
	p->fsm.name = p->label;
	p->gr_first = pd->graceful_restart;
	for (t = 0; t < BGP_T__N; t++) {
		p->targ[t].p = p;
		p->targ[t].t = (enum bgp_timer)t;
		p->timers[t] = evtimer_new(b->env->base, timer_cb, &p->targ[t]);
	}
	p->connect_failed = evtimer_new(b->env->base, connect_failed_cb, p);
	p->adopted = evtimer_new(b->env->base, adopted_cb, p);
	if (pd->iface)
		p->un = bgp_unnum_new(b->env->base, pd->iface, nbr_learned, p);
	return p;
}

/*
 * RFC 5882 §4.3, §10.2: BFD going Down takes the session down at once with
 * a Cease "BFD Down" (RFC 9384), and holds it in Idle (no connect, incoming
 * connections refused) until BFD is Up again. Before BFD was ever Up, BGP
 * runs on its own: the peer may not run BFD yet.
 */
static void peer_start(struct peer *);

static void
bfd_notify(void *arg, enum bfd_state st, enum bfd_diag diag)
{
	struct peer *p = arg;

	if (st == BFD_DOWN) {
		log_warnx("bgp %s: BFD down (%s): session down, held until BFD is up", p->label,
		    bfd_diag_name(diag));
		p->bfd_held = 1;
		if (!p->stopped) {
			p->stopped = 1;
			p->fsm.stop_subcode = BGP_CEASE_BFD_DOWN;
			pending_drop(p);
			peer_dispatch(p, BGP_EV_STOP);
		}
		/* after the NOTIFICATION's own */
		snprintf(p->last_error, sizeof(p->last_error), "BFD down: %s", bfd_diag_name(diag));
	} else if (st == BFD_UP && p->bfd_held) {
		p->bfd_held = 0;
		if (!p->bgp->draining) {
			log_info("bgp %s: BFD up: starting the session again", p->label);
			peer_start(p);
		}
	}
}

/* The peer's BFD session as its settings ask: made, re-timed or removed. */
static void
peer_bfd_sync(struct peer *p)
{
	const struct bgp_peer_desired *pd = p->pd;
	int on = pd->bfd_on && pd->problem == NULL;

	/* what of the profile does not run is said once, not on every reload */
	if (pd->bfd_note && strcmp(pd->bfd_note, p->bfd_noted) != 0)
		log_warnx("bgp %s (%s/%s): %s", p->label, pd->ns, pd->name, pd->bfd_note);
	snprintf(p->bfd_noted, sizeof(p->bfd_noted), "%s", pd->bfd_note ? pd->bfd_note : "");

	if (on && p->bfd) {
		bfd_peer_set_cfg(p->bfd, &pd->bfd, pd->bfd_profile);
		return;
	}
	if (!on) {
		if (p->bfd) {
			bfd_peer_free(p->bfd);
			p->bfd = NULL;
		}
		if (p->bfd_held) {
			p->bfd_held = 0;
			if (!p->bgp->draining && p->stopped && !pd->problem)
				peer_start(p);
		}
		return;
	}
	if (pd->iface && p->nbr.family == 0)
		return;		/* made once the neighbor is heard (nbr_set) */
	if (p->bgp->bfd == NULL)
		p->bgp->bfd = bfd_io_new(p->bgp->env->base);
	p->bfd = bfd_peer_new(p->bgp->bfd, pd->iface ? &p->nbr : &pd->addr, &pd->src,
	    pd->iface ? bgp_unnum_ifindex(p->un) : 0, &pd->bfd, pd->bfd_profile, bfd_notify, p);
}

static void
peer_start(struct peer *p)
{
	if (p->bfd_held) {
		/* BFD Up starts it */
		p->stopped = 1;
		return;
	}
	if (p->pd->problem) {
		snprintf(p->last_error, sizeof(p->last_error), "%s", p->pd->problem);
		log_warnx("bgp %s (%s/%s): not started: %s", p->label, p->pd->ns, p->pd->name,
		    p->pd->problem);
		return;
	}
	p->stopped = 0;
	peer_dispatch(p, BGP_EV_START);
}

static void
peer_stop(struct peer *p, uint8_t cease)
{
	p->stopped = 1;
	p->fsm.stop_subcode = cease;
	pending_drop(p);
	peer_dispatch(p, BGP_EV_STOP);
}

static void
peer_free(struct peer *p)
{
	size_t t;

	pending_drop(p);
	bgp_conn_close(p->bev);
	bfd_peer_free(p->bfd);
	bgp_unnum_free(p->un);
	for (t = 0; t < BGP_T__N; t++)
		event_free(p->timers[t]);
	event_free(p->connect_failed);
	event_free(p->adopted);
	desired_unref(p->synced_d);
	free(p);
}

/* ---- the applier ---- */

static int
bgp_apply(struct applier *ap, const struct desired *old, const struct desired *new)
{
	struct bgp *b = ap->ctx;
	const struct bgp_desired *nd = new ? new->bgp : NULL;
	size_t nn = nd ? nd->npeers : 0, i = 0, j = 0, k = 0;
	struct peer **np = xcalloc(nn + 1, sizeof(*np));
	struct peer **gone = xcalloc(b->npeers + 1, sizeof(*gone));
	struct peer **restart = xcalloc(b->npeers + nn + 1, sizeof(*restart));
	size_t ngone = 0, nrestart = 0;
	struct desired *prev = b->cur;

	(void)old;
	if (b->env->held && *b->env->held) {
		/* the old process still has the sessions (bgp_resume) */
		desired_unref(b->held);
		b->held = new ? desired_ref((struct desired *)new) : NULL;
		free(np);
		free(gone);
		free(restart);
		return 0;
	}
	desired_unref(b->held);		/* newer than what was held */
	b->held = NULL;
	b->cur = new ? desired_ref((struct desired *)new) : NULL;
	/* merge by the stable key (address, port, vrf) */
	while (i < b->npeers || j < nn) {
		int r = i == b->npeers ? 1 : j == nn ? -1 :
		    bgp_peer_key_cmp(b->peers[i]->pd, &nd->peers[j]);

		if (r < 0) {
			gone[ngone++] = b->peers[i++];
		} else if (r > 0) {
			np[k++] = peer_new(b, &nd->peers[j++]);
			restart[nrestart++] = np[k - 1];
		} else {
			struct peer *p = b->peers[i++];
			const struct bgp_peer_desired *pd = &nd->peers[j++];

			if (bgp_peer_session_differs(p->pd, pd)) {
				log_info("bgp %s: session parameters changed: restarting", p->label);
				peer_stop(p, BGP_CEASE_CONFCHANGE);
				/* a new BFD session too: its source may have changed */
				bfd_peer_free(p->bfd);
				p->bfd = NULL;
				p->pd = pd;
				bgp_fsm_init(&p->fsm, pd->hold_s, pd->keepalive_s, pd->connect_ms);
				p->fsm.name = p->label;
				restart[nrestart++] = p;
			} else {
				/* same session: only the routes change */
				int nh = !ipaddr_eq(&p->pd->nh4, &pd->nh4) ||
				    !ipaddr_eq(&p->pd->nh6, &pd->nh6);

				p->pd = pd;
				bgp_fsm_set_connect(&p->fsm, pd->connect_ms);
				peer_sync(p, 0);
				if (nh)		/* the same routes with the new next hop */
					peer_sync(p, 1);
			}
			np[k++] = p;
		}
	}
	for (i = 0; i < ngone; i++) {
		size_t l;

		for (l = 0; gone[i]->pd->password && l < b->nls; l++)
			if (b->ls[l].l && b->ls[l].family == gone[i]->pd->addr.family)
				bgp_md5_set(evconnlistener_get_fd(b->ls[l].l), &gone[i]->pd->addr, NULL);
		log_info("bgp %s: peer removed", gone[i]->label);
		peer_stop(gone[i], BGP_CEASE_DECONFIG);
		peer_free(gone[i]);
	}
	free(b->peers);
	b->peers = np;
	b->npeers = k;
	listeners_sync(b);
	for (i = 0; i < b->npeers; i++)
		peer_bfd_sync(b->peers[i]);
	for (i = 0; i < nrestart; i++)
		peer_start(restart[i]);
	free(gone);
	free(restart);
	desired_unref(prev);
	return 0;
}

/*
 * Drain, first step (RFC 8326): every route again with GRACEFUL_SHUTDOWN,
 * so the routers prefer the other nodes' paths before the withdraw.
 */
static int
bgp_leave(struct applier *ap)
{
	struct bgp *b = ap->ctx;
	size_t i;
	int out = 0;

	b->gshut = 1;
	for (i = 0; i < b->npeers; i++) {
		struct peer *p = b->peers[i];

		if (p->fsm.state != BGP_ESTABLISHED || p->synced == NULL ||
		    p->synced->nroutes == 0)
			continue;
		peer_sync(p, 1);	/* the same routes, every one announced again */
		log_info("bgp %s: graceful shutdown: %zu routes sent with community 65535:0%s",
		    p->label, p->pfx_sent, p->ibgp ? " and LOCAL_PREF 0" : "");
		if (p->pfx_sent)
			out = 1;
	}
	return out;
}

static int64_t
bgp_drain(struct applier *ap)
{
	struct bgp *b = ap->ctx;
	size_t i;

	b->draining = 1;
	for (i = 0; i < b->npeers; i++) {
		struct peer *p = b->peers[i];

		if (p->fsm.state == BGP_ESTABLISHED && p->gr) {
			/* RFC 4724: the peer keeps our routes while we restart;
			 * closing without a NOTIFICATION asks for that */
			log_info("bgp %s: graceful restart: closing, routes kept by the peer",
			    p->label);
			p->stopped = 1;
			bgp_conn_close(p->bev);
			p->bev = NULL;
			peer_dispatch(p, BGP_EV_TCP_FAILS);
			evtimer_del(p->timers[BGP_T_IDLE_HOLD]);
			continue;
		}
		peer_sync(p, 0);	/* withdraw everything */
		peer_stop(p, BGP_CEASE_SHUTDOWN);
	}
	return b->npeers ? 200 : 0;
}

/*
 * An upgrade: the sessions close as a graceful restart (the peers keep the
 * routes for the new process, whose OPEN has the Restart State bit), the
 * listeners close so that the new process can bind them.
 */
static void
bgp_handoff(struct applier *ap)
{
	struct bgp *b = ap->ctx;
	size_t i;

	for (i = 0; i < b->npeers; i++)
		if (b->peers[i]->fsm.state == BGP_ESTABLISHED && !b->peers[i]->gr)
			log_warnx("bgp %s: the peer has no graceful restart: its routes "
			    "are withdrawn until the new process is up", b->peers[i]->label);
	(void)bgp_drain(ap);
	vg_lguard_drop(b);
	for (i = 0; i < b->nls; i++)
		if (b->ls[i].l) {
			evconnlistener_free(b->ls[i].l);
			b->ls[i].l = NULL;
		}
}

/* The old process has let go: the sessions start, with the Restart State bit. */
static void
bgp_resume(struct applier *ap)
{
	struct bgp *b = ap->ctx;
	struct desired *d = b->held;

	b->held = NULL;
	if (d != NULL) {
		(void)bgp_apply(ap, NULL, d);
		desired_unref(d);
	}
}

static void
bgp_free(struct applier *ap)
{
	struct bgp *b = ap->ctx;
	size_t i;

	for (i = 0; i < b->npeers; i++)
		peer_free(b->peers[i]);
	free(b->peers);
	vg_lguard_drop(b);
	for (i = 0; i < b->nls; i++)
		if (b->ls[i].l)
			evconnlistener_free(b->ls[i].l);
	free(b->ls);
	bfd_io_free(b->bfd);
	desired_unref(b->cur);
	desired_unref(b->held);
	free(b);
}

struct applier *
bgp_applier_new(const struct applier_env *env)
{
	struct bgp *b = xcalloc(1, sizeof(*b));

	b->env = env;
	b->ap.name = "bgp";
	b->ap.ctx = b;
	b->ap.apply = bgp_apply;
	b->ap.free = bgp_free;
	b->ap.show = bgp_show;
	b->ap.leave = bgp_leave;
	b->ap.drain = bgp_drain;
	b->ap.handoff = bgp_handoff;
	b->ap.resume = bgp_resume;
	b->ap.metrics = bgp_metrics;
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	return &b->ap;
}
