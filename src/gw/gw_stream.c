/*
 * The stream: one request from its head to its end, whatever carries it.
 * Route, then cluster and endpoint (load balancer, circuit breakers), the
 * upstream attempt through the back, and everything Envoy's router and
 * fault filter decide on the way: retries and their back-off, route and
 * per-try timeouts, fault delays and aborts, mirrors, outlier reports. The
 * front hands requests in through gw-stream.h and gets answers through its
 * ops; the back reports through stream_back_ops below.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <http_parser.h>

#include "gw-back.h"
#include "gw-grpcweb.h"
#include "gw-hdr.h"
#include "gw-jwtauthn.h"
#include "gw-lb.h"
#include "gw-local.h"
#include "gw-mirror.h"
#include "gw-proxyproto.h"
#include "gw-resil.h"
#include "gw-snap.h"
#include "gw-stats.h"
#include "gw-stream.h"
#include "gw-stream-life.h"
#include "gw-uphead.h"
#include "gw-worker.h"
#include "vipgate/gw-authz.h"
#include "vipgate/gw-retry.h"
#include "vipgate/gw-route.h"
#include "vipgate/log.h"

static const struct gw_back_ops stream_back_ops;

static int st_send_attempt(struct gw_stream *);
static void st_attempt_failed(struct gw_stream *, enum gw_retry_ev);
static void st_upstream(struct gw_stream *);
static void st_grpcweb(struct gw_stream *);

/* The front's bracket around a callback of the stream's own (see gw_front_ops). */
static struct gw_front *
st_enter(struct gw_stream *st)
{
	struct gw_front *fc = st->fc;

	fc->ops->enter(fc);
	return fc;
}

static void
st_leave(struct gw_front *fc)
{
	fc->ops->leave(fc);
}

/* ---- load balancing ---- */

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
hash_key(const struct gw_stream *st, const struct gw_cluster *c, uint64_t *h)
{
	const struct hhead *hh = &st->hh;
	const char *v = NULL;
	size_t len = 0;

	switch (c->hash_key) {
	case GW_HASH_SOURCE_IP:
		/* Envoy hashes the downstream address, which XFF hops may replace */
		*h = fnv(st->client, strlen(st->client));
		return 1;
	case GW_HASH_HEADER:
		v = gw_hdr_get(hh, c->hash_name, &len);
		break;
	case GW_HASH_COOKIE:
		v = gw_hdr_cookie(hh, c->hash_name, &len);
		break;
	case GW_HASH_QUERY:
		v = gw_query_param(hh->b.s, hh->url_l, c->hash_name, &len);
		break;
	default:
		return 0;
	}
	if (v == NULL)
		return 0;
	*h = fnv(v, len);
	return 1;
}

/* ---- fault injection, timeouts, retries ---- */

static void st_step_cb(evutil_socket_t, short, void *);
static void st_timeout_cb(evutil_socket_t, short, void *);

/* Arms ev for ms from now (the loop's cached time may be stale: refresh it first). */
static void
timer_arm(struct event_base *base, struct event *ev, int64_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_update_cache_time(base);
	evtimer_add(ev, &tv);
}

/* ev_step waits ms for step. */
static void
st_step(struct gw_stream *st, int step, int64_t ms)
{
	if (st->ev_step == NULL)
		st->ev_step = evtimer_new(st->w->base, st_step_cb, st);
	st->step = step;
	timer_arm(st->w->base, st->ev_step, ms);
}

static void
st_step_stop(struct gw_stream *st)
{
	if (st->ev_step)
		evtimer_del(st->ev_step);
	st->step = GW_STEP_NONE;
}

/*
 * Envoy's global route timeout: armed once, when the request is complete.
 * A gRPC request's grpc-timeout counts too, capped by the route's timeout:
 * istiod sets max_stream_duration.grpc_timeout_header_max to the route
 * timeout (0, no timeout: no cap).
 */
static void
st_arm_timeout(struct gw_stream *st)
{
	int64_t t = st->rt ? st->rt->timeout_ms : 0, g;
	const char *gv;
	size_t gl = 0;

	if (st->rt && st->is_grpc && (gv = gw_hdr_get(&st->hh, "grpc-timeout", &gl)) != NULL &&
	    (g = gw_grpc_timeout_ms(gv, gl)) >= 0 && (t <= 0 || g < t))
		t = g > 0 ? g : 1;

	if (t <= 0 || st->ev_timeout || st->resp_done)
		return;
	st->ev_timeout = evtimer_new(st->w->base, st_timeout_cb, st);
	timer_arm(st->w->base, st->ev_timeout, t);
}

/*
 * Envoy's per-try timeout starts when the attempt's connection is ready and
 * the whole request is on its way (UpstreamRequest::setupPerTryTimeout).
 */
static void
st_arm_try(struct gw_stream *st)
{
	int64_t t;

	if (st == NULL || st->rt == NULL || st->uc == NULL || !gw_back_connected(st->uc) ||
	    !st->body_done || st->resp_done || st->step != GW_STEP_NONE ||
	    gw_back_discarding(st->uc))
		return;
	t = st->rt->retry.per_try_timeout_ms;
	if (t > 0)
		st_step(st, GW_STEP_TRY, t);
}

/* Expect: 100-continue is answered by the gateway once an upstream attempt is under way. */
static void
st_continue(struct gw_stream *st)
{
	if (st->expect && !st->continued && st->uc && !st->resp_started && !st->body_done) {
		st->continued = 1;
		st->fc->ops->cont(st->fc);
	}
}

/* The fault filter's abort (flag FI), after any delay. 1 when it answered. */
static int
st_fault_abort(struct gw_stream *st)
{
	const struct gw_fault *f = st->rt->fault;

	if (f->abort_status <= 0 ||
	    !gw_fraction_hit(f->abort_num, f->abort_den, gw_rand(st->w)))
		return 0;
	st->grpc_status = f->abort_grpc;
	gw_local(st, f->abort_status, gw_flags_add(st->flags, "FI"), "fault filter abort", 18, NULL);
	return 1;
}

/*
 * Envoy's fault filter, ahead of the router: a delay (flag DI) holds the
 * request, its body waiting unread in the socket; then the abort. 1 when
 * the request is held or answered.
 */
static int
st_fault(struct gw_stream *st)
{
	const struct gw_fault *f = st->rt->fault;

	if (f->delay_ms > 0 && gw_fraction_hit(f->delay_num, f->delay_den, gw_rand(st->w))) {
		st->flags = gw_flags_add(st->flags, "DI");
		st->fc->ops->hold(st->fc, 1);
		st_step(st, GW_STEP_DELAY, f->delay_ms);
		return 1;
	}
	return st_fault_abort(st);
}

/*
 * Whether the retry policy, the circuit breakers (connectionPool.http.
 * maxRetries: Envoy does not make the retry, upstream_rq_retry_overflow,
 * flag UO; a retry holds its share until its back-off is over) and the
 * body (replayable only while kept) allow one more attempt.
 */
static enum gw_retry_verdict
st_retry_decide(struct gw_stream *st, enum gw_retry_ev ev, int status, int overloaded)
{
	enum gw_retry_verdict v;
	int replayable = !st->has_body || (st->body != NULL && !st->body_over);

	if (st->rt == NULL || st->cl == NULL || st->resp_started)
		return GW_RETRY_NO;
	v = gw_retry_decide(&st->rt->retry, ev, status, overloaded, st->retries, replayable);
	if (v == GW_RETRY_YES && !gw_breaker_retry_ok(&st->rs, st->snap, st->cl)) {
		st->flags = gw_flags_add(st->flags, "UO");
		return GW_RETRY_NO;
	}
	if (v == GW_RETRY_EXHAUSTED) {
		st->flags = gw_flags_add(st->flags, "URX");
		gw_stats_cluster(&st->w->stats, st->cl->name, GW_CS_RETRY_LIMIT);
	}
	return v;
}

/* A retry waits Envoy's jittered exponential back-off (a timer: nothing blocks). */
static void
st_retry_later(struct gw_stream *st)
{
	struct gw_worker *w = st->w;

	st->retries++;
	gw_stats_cluster(&w->stats, st->cl->name, GW_CS_RETRY);
	st_step(st, GW_STEP_BACKOFF, (int64_t)gw_retry_backoff_ms(&st->rt->retry, st->retries,
	    gw_rand(w)));
}

/* The back-off is over: another endpoint (previous_hosts predicate), the request again. */
static void
st_retry_now(struct gw_stream *st)
{
	const struct gw_endpoint *e = NULL;
	uint64_t h = 0;
	int i, have_hash;

	if (st->ep && st->ntried < VG_ARRAY_SIZE(st->tried))
		st->tried[st->ntried++] = st->ep;
	gw_stream_release_ep(st);
	st->lbs = gw_lb_state(st->snap, st->w->id, st->cl);
	have_hash = hash_key(st, st->cl, &h);
	for (i = 0; i < GW_RETRY_HOST_PICKS; i++) {
		e = gw_lb_pick(st->cl, st->lbs, rnd_cb, st->w, h + (uint64_t)i, have_hash);
		if (e == NULL || gw_retry_host_ok(&st->rt->retry, e, (const void *const *)st->tried,
		    st->ntried))
			break;
	}
	if (e == NULL) {
		st->lbs = NULL;
		st->ep = NULL;
		gw_local_error(st, 503, gw_flags_add(st->flags, "UH"), "no healthy upstream");
		return;
	}
	st->ep = e;
	gw_lb_acquire(st->lbs, e);
	if (st_send_attempt(st) == -1)
		st_attempt_failed(st, GW_RETRY_EV_CONNECT);
}

/*
 * An attempt ended without an answer to pass on: retry it, or answer as
 * Envoy's router does (503 UF/UC, 504 UT; URX added when the retries ran
 * out, and "retried and the latest" in the body once a retry was made).
 */
static void
st_attempt_failed(struct gw_stream *st, enum gw_retry_ev ev)
{
	enum gw_retry_verdict v = st_retry_decide(st, ev, 0, 0);
	const char *flag = "UC", *why = "connection termination";
	struct vg_buf b = { 0 };

	if (v == GW_RETRY_YES) {
		st_retry_later(st);
		return;
	}
	if (ev == GW_RETRY_EV_PER_TRY_TIMEOUT) {
		gw_local_error(st, 504, gw_flags_add(st->flags, "UT"), "upstream request timeout");
		return;
	}
	if (ev == GW_RETRY_EV_CONNECT) {
		flag = "UF";
		why = "connection failure";
	} else if (ev == GW_RETRY_EV_REFUSED) {
		flag = "UR";	/* Envoy: upstream remote reset */
		why = "remote refused stream reset";
	}
	/* Envoy adds %UPSTREAM_TRANSPORT_FAILURE_REASON% after a TLS failure */
	buf_printf(&b, "upstream connect error or disconnect/reset before headers. %sreset reason: %s%s%s",
	    st->retries ? "retried and the latest " : "", why,
	    st->tls_reason[0] ? ", transport failure reason: " : "", st->tls_reason);
	gw_local_error(st, 503, gw_flags_add(st->flags, flag), b.s);
	buf_free(&b);
}

static void
st_step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_stream *st = arg;
	struct gw_front *fc = st_enter(st);
	int step = st->step;

	(void)fd;
	(void)what;
	st->step = GW_STEP_NONE;
	switch (step) {
	case GW_STEP_DELAY:
		if (!st_fault_abort(st))
			st_upstream(st);
		/* what the delay held (the body, the end of the request) is read now */
		fc->ops->hold(fc, 0);
		break;
	case GW_STEP_BACKOFF:
		st_retry_now(st);
		break;
	case GW_STEP_TRY:
		if (st->uc) {
			st->timed_out = GW_TMO_TRY;
			gw_back_timeout(st->uc);
		}
		break;
	}
	st_leave(fc);
}

/*
 * The route timeout fired: 504 UT when nothing was answered yet; once the
 * answer has started the client can only see the connection reset (Envoy's
 * onResponseTimeout).
 */
static void
st_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_stream *st = arg;
	struct gw_front *fc = st_enter(st);

	(void)fd;
	(void)what;
	if (st->uc) {
		st->timed_out = GW_TMO_ROUTE;
		gw_back_timeout(st->uc);
	} else if (!st->resp_started) {
		st_step_stop(st);	/* a back-off: no more tries */
		gw_local_error(st, 504, gw_flags_add(st->flags, "UT"), "upstream request timeout");
	}
	st_leave(fc);
}

/* ---- routing ---- */

#define AZ_BIT(a)	(1u << (a))

/*
 * The gateway's AuthorizationPolicies, as Envoy's RBAC filter runs them
 * ahead of the router: 403 "RBAC: access denied" when they deny. Only the
 * attributes some policy looks at are gathered; rp brings what
 * RequestAuthentication found. 1 when denied (answered).
 */
static int
st_authz(struct gw_stream *st, const struct gw_authz *az, const struct gw_req *rq,
    struct gw_az_req *rp)
{
	struct gw_front *fc = st->fc;
	struct gw_az_req r = *rp;
	struct gw_az_verdict v;

	r.method = rq->method;
	r.method_len = rq->method_len;
	r.path = rq->path;
	r.path_len = rq->path_len;
	r.host = rq->authority;
	r.host_len = rq->authority_len;
	r.port = st->port;
	r.sni = st->sni;
	r.hdrs = rq->hdrs;
	r.nhdrs = rq->nhdrs;
	if (az->attrs & AZ_BIT(GW_AZ_PEER_IP))
		(void)ipaddr_parse(st->peer, &r.peer);
	if (az->attrs & AZ_BIT(GW_AZ_REMOTE_IP))
		(void)ipaddr_parse(st->client, &r.remote);
	if (az->attrs & AZ_BIT(GW_AZ_DEST_IP))
		(void)fc->ops->local_addr(fc, &r.local);
	if (az->attrs & (AZ_BIT(GW_AZ_PRINCIPAL) | AZ_BIT(GW_AZ_NAMESPACE))) {
		const struct gw_peer_id *pid = fc->ops->peer_id(fc);

		r.principal = pid ? pid->principal : NULL;
	}
	v = gw_authz_check(az, &r);
	if (v.allow)
		return 0;
	log_debug("gateway: %.*s %.*s denied by %s", (int)rq->method_len, rq->method,
	    (int)rq->path_len, rq->path, v.policy ? v.policy : "no ALLOW policy matching");
	gw_local(st, 403, "-", "RBAC: access denied", 19, NULL);
	return 1;
}

/* Headers are in: route it and answer locally or start the upstream exchange. */
static void
st_route(struct gw_stream *st)
{
	struct hhead *hh = &st->hh;
	struct gw_hdr hv[GW_MAX_HEADERS];
	struct gw_req rq;
	const struct gw_listener *l;
	const struct gw_deploy *dp;
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
	rq.method = http_method_str((enum http_method)st->method);
	rq.method_len = strlen(rq.method);
	rq.path = hh->b.s;
	rq.path_len = hh->url_l;
	rq.authority = host ? host : "";
	rq.authority_len = hostlen;
	rq.scheme = st->tls ? "https" : "http";
	rq.port = st->port;
	rq.hdrs = hv;
	rq.nhdrs = hh->n;
	/* the listener: its deployment's policies, its virtual hosts */
	l = gw_snap_listener(st->snap, st->port, st->scope);
	dp = l ? &st->snap->g->deps[l->dep] : NULL;
	if (dp && (dp->reqauthn || dp->authz)) {
		/* jwt_authn, then RBAC, ahead of the router (Istio's filter order) */
		struct gw_az_req azr;
		char principal[512];

		memset(&azr, 0, sizeof(azr));
		if (dp->reqauthn &&
		    gw_jwtauthn(st, st->snap, l->dep, &azr, principal, sizeof(principal)) == 1)
			return;
		if (dp->authz && st_authz(st, dp->authz, &rq, &azr))
			return;
	}

	/* TLS: the server whose SNI matched; Host then picks within it (no
	 * listener: the reload removed it, and nothing is routed) */
	ch = l ? gw_chain_find(l, st->tls ? st->sni : NULL) : NULL;
	if (ch && ch->grpc_web)
		st_grpcweb(st);
	vh = ch ? gw_vhost_find(ch, rq.authority, rq.authority_len) : NULL;
	if (vh && vh->require_tls && !st->tls) {
		gw_local_redirect(st, NULL, 1, 301, host, hostlen);
		return;
	}
	st->rt = gw_route_find(vh, st->snap->rx, &rq, &m);
	if (st->rt == NULL) {
		gw_local_error(st, 404, "NR", "");	/* Envoy: no body */
		return;
	}
	if (st->rt->cors && gw_local_cors(st))
		return;
	switch (st->rt->action) {
	case GW_ACT_REDIRECT:
		gw_local_redirect(st, &st->rt->redirect, 0, st->rt->redirect.code, host, hostlen);
		return;
	case GW_ACT_DIRECT:
		gw_local(st, st->rt->direct_status, "-", st->rt->direct_body, st->rt->direct_len, NULL);
		return;
	case GW_ACT_ROUTE:
		break;
	}
	st->m = m;
	st->host = host;
	st->hostlen = hostlen;
	if (st->rt->fault && st_fault(st))
		return;
	st_upstream(st);
}

/*
 * The router's part: pick the destination and the endpoint, build the
 * upstream head, send the first attempt. The route timeout starts when the
 * request is complete (Envoy's global timeout), which may be now.
 */
static void
st_upstream(struct gw_stream *st)
{
	struct gw_worker *w = st->w;
	uint64_t h = 0;
	int have_hash;

	st->dest = gw_pick_dest(st->rt, (uint32_t)gw_rand(w));
	if (st->dest == NULL || st->dest->cluster == NULL) {
		gw_local_error(st, 503, gw_flags_add(st->flags, "NC"), "cluster_not_found\n");
		return;
	}
	st->cl = st->dest->cluster;
	if (st->cl->missing) {
		struct vg_buf b = { 0 };

		buf_printf(&b, "cluster_not_found: %s\n", st->cl->missing);
		gw_local_error(st, 503, gw_flags_add(st->flags, "NC"), b.s);
		buf_free(&b);
		return;
	}
	st->lbs = gw_lb_state(st->snap, w->id, st->cl);
	have_hash = hash_key(st, st->cl, &h);
	st->ep = gw_lb_pick(st->cl, st->lbs, rnd_cb, w, h, have_hash);
	if (st->ep == NULL) {
		st->lbs = NULL;
		gw_local_error(st, 503, gw_flags_add(st->flags, "UH"), "no healthy upstream");
		return;
	}
	gw_lb_acquire(st->lbs, st->ep);
	gw_uphead_build(st, st->m, st->host, st->hostlen);
	st->routed = 1;
	/* the body is kept while it may be replayed (retries) or mirrored */
	if (st->has_body && (st->rt->retry.attempts > 0 || st->rt->nmirrors))
		st->body = evbuffer_new();
	if (st->rt->nmirrors && st->body_done)
		gw_mirror(st);
	if (st->body_done)
		st_arm_timeout(st);
	if (st_send_attempt(st) == -1)
		st_attempt_failed(st, GW_RETRY_EV_CONNECT);
}

/* ---- attempts ---- */

static void st_resume(void *, enum gw_rs_resume);

/*
 * Attach an upstream connection (pooled, or a new one) and send the head
 * and the body received so far; the circuit breakers may queue it instead,
 * or refuse it (503 UO). 0: attached or queued; 1: answered here (the
 * stream may be gone); -1: the connect failed at once.
 */
static int
st_connect(struct gw_stream *st)
{
	struct gw_worker *w = st->w;
	struct gw_back_prep bp;
	struct gw_uconn *uc;
	char err[512];
	int e, h2;
	uint8_t pp[GW_PROXY_HDR_MAX];
	size_t ppl = 0;

	st->tls_reason[0] = '\0';	/* the latest attempt's, as Envoy reports it */
	/* HTTP/2 to the upstream: its port says so, or the client's protocol (useClientProtocol) */
	h2 = st->cl->up_proto == GW_UP_H2 ||
	    (st->cl->up_proto == GW_UP_CLIENT && st->proto && strcmp(st->proto, "HTTP/2") == 0);
	/* proxyProtocol: the client connection's addresses ahead of the upstream's bytes */
	if (st->cl->proxy_protocol && st->fc->ops->addrs) {
		struct ipaddr src, dst;
		uint16_t sport, dport;

		if (st->fc->ops->addrs(st->fc, &src, &sport, &dst, &dport) == 0)
			ppl = gw_proxy_hdr(st->cl->proxy_protocol, &src, sport, &dst, dport, pp);
		else
			ppl = gw_proxy_hdr(st->cl->proxy_protocol, NULL, 0, NULL, 0, pp);
	}
	if (gw_back_prepare(&bp, w, st->snap, st->cl, st->ep, &st->uphead, h2, pp, ppl, err,
	    sizeof(err)) == -1) {
		struct vg_buf b = { 0 };

		/* the cluster's secret is missing: Envoy would not have activated it */
		buf_printf(&b, "cluster_not_found: %s\n", err);
		gw_local_error(st, 503, "NC", b.s);
		buf_free(&b);
		return 1;
	}
	/* circuit breakers: a pooled connection, a new one, the queue, or 503 UO
	 * (a retry takes a fresh connection unless the breakers leave none) */
	switch (gw_rs_admit(w, st->snap, st->cl, st->ep, &st->rs, st, st_resume,
	    bp.idle == NULL ? GW_RS_NO_IDLE : st->retried ? GW_RS_IDLE_AVOID : GW_RS_IDLE_OK, 0)) {
	case GW_RS_OVERFLOW:
		gw_back_prep_done(&bp);
		st->overloaded = 1;
		gw_local_error(st, 503, gw_flags_add(st->flags, "UO"), GW_RS_OVERFLOW_BODY);
		return 1;
	case GW_RS_QUEUED:
		gw_back_prep_done(&bp);
		/* whatever body comes while it waits is kept to be sent on attach */
		if (st->has_body && !st->body_done && st->body == NULL && !st->body_over) {
			st->body = evbuffer_new();
			st->rs_body = 1;
		}
		/* waiting for a connection: the body stays unread in the socket */
		if (!st->body_done)
			st->fc->ops->hold(st->fc, 1);
		return 0;	/* st_resume() goes on */
	case GW_RS_IDLE:
		uc = gw_back_take_idle(&bp);
		gw_rs_local(st->snap, st->cl, st->ep, GW_OD_CONNECT_SUCCESS);
		gw_back_prep_done(&bp);
		break;
	case GW_RS_CONNECT:
	default:
		uc = gw_back_connect(&bp, &st->rs, st->cl, st->ep);
		e = errno;
		gw_back_prep_done(&bp);
		if (uc == NULL) {
			/*
			 * Out of descriptors, buffers or local ports is this node's
			 * fault, not the endpoint's: outlier detection must not eject
			 * healthy endpoints for it. The request still fails (UF).
			 */
			if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM &&
			    e != EADDRNOTAVAIL)
				gw_rs_local(st->snap, st->cl, st->ep, GW_OD_CONNECT_FAILED);
			return -1;
		}
		break;
	}
	gw_back_attach(uc, st, &stream_back_ops, st->cl);
	st->uc = uc;
	st->t_up_us = now_us();
	gw_back_send(uc, st->uphead.s, st->uphead.len, NULL, 0, NULL, 0);
	/* a retry: the body so far again (what comes later streams on) */
	if (st->body && evbuffer_get_length(st->body))
		gw_back_send(uc, evbuffer_pullup(st->body, -1), evbuffer_get_length(st->body), NULL, 0,
		    NULL, 0);
	st_arm_try(st);
	return 0;
}

/* One attempt: a connection for the chosen endpoint, then 100-continue if asked (as st_connect). */
static int
st_send_attempt(struct gw_stream *st)
{
	int r = st_connect(st);

	if (r == 0)
		st_continue(st);
	return r;
}

/* A request that waited for a connection (gw_resil.c): its turn, or its bound. */
static void
st_resume(void *owner, enum gw_rs_resume how)
{
	struct gw_stream *st = owner;
	struct gw_front *fc = st_enter(st);

	if (how == GW_RS_DISPATCH) {
		int r = st_send_attempt(st);

		if (r == -1)
			st_attempt_failed(st, GW_RETRY_EV_CONNECT);
		else if (r == 0 && st->uc) {	/* not answered (503 UO), nor queued again */
			if (st->rs_body) {
				/* sent on attach: the rest streams on */
				evbuffer_free(st->body);
				st->body = NULL;
				st->rs_body = 0;
			}
			if (!st->body_done)
				fc->ops->hold(fc, 0);	/* the body it held back */
		}
	} else if (how == GW_RS_CONNECT_FAILED) {
		gw_rs_local(st->snap, st->cl, st->ep, GW_OD_CONNECT_FAILED);
		st_attempt_failed(st, GW_RETRY_EV_CONNECT);
	} else if (how == GW_RS_ROUTE_TIMEOUT) {
		st_step_stop(st);
		gw_local_error(st, 504, gw_flags_add(st->flags, "UT"), "upstream request timeout");
	} else {
		st_step_stop(st);
		gw_local_error(st, 504, gw_flags_add(st->flags, "SI"), "stream timeout");
	}
	st_leave(fc);
}

/* ---- what the back reports ---- */

static void
sb_connected(struct gw_stream *st)
{
	gw_rs_connected(&st->rs);
	gw_rs_local(st->snap, st->cl, st->ep, GW_OD_CONNECT_SUCCESS);
	st_arm_try(st);
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

/*
 * The answer's head: outlier detection sees its status, the retry policy
 * may drop it for another attempt; else its fields go to the client with
 * the route's and destination's response operations, Envoy's server
 * header and x-envoy-upstream-service-time, and CORS.
 */
/*
 * Envoy's grpc_web filter, on GRPC-Web ports: a grpc-web request goes
 * upstream as gRPC (its -text body decoded, so of unknown length) and is
 * answered as gRPC (local replies too).
 */
static void
st_grpcweb(struct gw_stream *st)
{
	size_t cl = 0;
	const char *ct = gw_hdr_get(&st->hh, "content-type", &cl);

	st->grpc_web = gw_grpcweb_kind(ct, cl);
	if (st->grpc_web == GW_GRPCWEB_NONE)
		return;
	st->is_grpc = 1;
	if (st->grpc_web == GW_GRPCWEB_TEXT && st->has_body) {
		st->body_chunked = 1;
		st->content_length = 0;
	}
}

/* The grpc-status of an answer's head or trailers, or -1. */
static int
grpc_status_of(const struct hhead *hh)
{
	size_t gl = 0, i;
	const char *gs = gw_hdr_get(hh, "grpc-status", &gl);
	int v = 0;

	if (gs == NULL || gl == 0 || gl > 3)
		return -1;
	for (i = 0; i < gl && gs[i] >= '0' && gs[i] <= '9'; i++)
		v = v * 10 + (gs[i] - '0');
	return i == gl ? v : -1;
}

/* Istio's grpc_response_status label. */
static void
grpc_status_note(struct gw_stream *st, const struct hhead *hh)
{
	int v = grpc_status_of(hh);

	if (v >= 0)
		st->grpc_sent = v + 1;
}

static enum gw_back_verdict
sb_head(struct gw_stream *st, int status, const struct hhead *hh, const struct gw_back_head *bh)
{
	const struct gw_header_ops *ro, *dops;
	struct gw_hdr stack[GW_HLIST_STACK];
	struct gw_hlist l;
	struct gw_resp r;
	char num[24];
	size_t i;
	enum gw_retry_verdict v;
	int g;

	if (status >= 100 && status < 200 && !(status == 101 && st->upgrade))
		return GW_BACK_INTERIM;
	gw_rs_result(st->snap, st->cl, st->ep, status);	/* outlier detection */
	v = st_retry_decide(st, GW_RETRY_EV_STATUS, status, overloaded(hh));
	/* a gRPC status retryOn names, in a trailers-only answer (Envoy reads no trailers) */
	if (v == GW_RETRY_NO && st->is_grpc && bh->eos && (g = grpc_status_of(hh)) > 0)
		v = st_retry_decide(st, GW_RETRY_EV_GRPC, g, 0);
	switch (v) {
	case GW_RETRY_YES:
		/* read and dropped; the retry follows its end (sb_done) */
		st_step_stop(st);
		return st->is_head ? GW_BACK_DISCARD_NOBODY : GW_BACK_DISCARD;
	case GW_RETRY_NO:
		if (st->retries)
			gw_stats_cluster(&st->w->stats, st->cl->name, GW_CS_RETRY_SUCCESS);
		break;
	case GW_RETRY_EXHAUSTED:
		break;	/* the last answer goes to the client, flag URX */
	}
	st->resp_started = 1;
	st->code = status;
	memset(&r, 0, sizeof(r));
	r.status = status;
	gw_hlist_init(&l, stack);
	if (status == 101 && st->upgrade) {
		/* the switch's own fields, as they came */
		for (i = 0; i < hh->n; i++)
			gw_hlist_add(&l, HN(hh, i), hh->h[i].nl, HV(hh, i), hh->h[i].vl);
		r.f = l.f;
		r.n = l.n;
		r.no_body = 1;
		r.upgrade = 1;
		st->fc->ops->head(st->fc, &r);
		gw_hlist_free(&l);
		return GW_BACK_UPGRADE;
	}
	ro = &st->rt->resp;
	dops = st->dest ? &st->dest->resp : NULL;
	r.no_body = st->is_head || status == 204 || status == 304;
	r.end = bh->eos;
	if (st->is_grpc)
		grpc_status_note(st, hh);	/* a trailers-only answer's */
	for (i = 0; i < hh->n; i++) {
		const char *n = HN(hh, i);
		size_t nl = hh->h[i].nl;

		if (hop_by_hop(hh, i) || (bh->ndrop && bh->drop[i]))
			continue;
		if (HNAME_IS(hh, i, "content-length")) {
			if (st->grpc_web)
				continue;	/* the trailers frame follows the body */
			r.has_length = !bh->chunked;
		}
		if (st->grpc_web && HNAME_IS(hh, i, "content-type") && hh->h[i].vl >= 16 &&
		    strncasecmp(HV(hh, i), "application/grpc", 16) == 0) {
			gw_hlist_add(&l, "content-type", 12, st->grpc_web == GW_GRPCWEB_TEXT ?
			    "application/grpc-web-text+proto" : "application/grpc-web+proto",
			    st->grpc_web == GW_GRPCWEB_TEXT ? 31 : 26);
			continue;
		}
		if (gw_ops_names(n, nl, ro) || (dops && gw_ops_names(n, nl, dops)))
			continue;
		/* Envoy's server_header_transformation OVERWRITE */
		if (HNAME_IS(hh, i, "server"))
			continue;
		gw_hlist_add(&l, n, nl, HV(hh, i), hh->h[i].vl);
	}
	gw_hlist_add(&l, "server", 6, "istio-envoy", 11);
	gw_hlist_add(&l, "x-envoy-upstream-service-time", 29, num,
	    gw_fmt_u64(num, (uint64_t)((now_us() - st->t_up_us) / 1000)));
	gw_hlist_ops(&l, ro);
	if (dops)
		gw_hlist_ops(&l, dops);
	gw_local_cors_fields(&l, st);
	r.f = l.f;
	r.n = l.n;
	st->fc->ops->head(st->fc, &r);
	gw_hlist_free(&l);
	return st->is_head ? GW_BACK_PASS_NOBODY : GW_BACK_PASS;
}

static int
sb_body(struct gw_stream *st, const void *p, size_t len)
{
	struct gw_front *fc = st->fc;

	if (st->grpc_web == GW_GRPCWEB_TEXT) {
		char *b = xmalloc((len + 2) / 3 * 4 + 4);
		size_t n = gw_b64_encode(&st->b64out, p, len, b, 0);

		fc->ops->body(fc, b, n);
		free(b);
	} else
		fc->ops->body(fc, p, len);
	st->bytes_out += len;
	return fc->ops->pending(fc) > GW_HWM;
}

/* The answer's trailers (an HTTP/2 upstream's: gRPC's status) go to the client. */
static void
sb_trailers(struct gw_stream *st, const struct hhead *hh)
{
	struct gw_front *fc = st->fc;
	struct gw_hdr f[GW_MAX_HEADERS];
	size_t i, n = 0;

	for (i = 0; i < hh->n && n < GW_MAX_HEADERS; i++) {
		f[n].name = HN(hh, i);
		f[n].nlen = hh->h[i].nl;
		f[n].value = HV(hh, i);
		f[n].vlen = hh->h[i].vl;
		n++;
	}
	if (st->is_grpc)
		grpc_status_note(st, hh);
	if (st->grpc_web) {
		/* gRPC-Web: the trailers are the body's last frame */
		struct vg_buf b = { 0 };

		gw_grpcweb_trailers(hh, &b);
		sb_body(st, b.s, b.len);
		buf_free(&b);
		return;
	}
	fc->ops->trailers(fc, f, n);
}

/* The upstream answer is complete: release the connection, finish the request. */
static void
sb_done(struct gw_stream *st, int reusable)
{
	struct gw_uconn *uc = st->uc;

	st->uc = NULL;
	if (gw_back_discarding(uc)) {
		/*
		 * a retriable answer (503 by default): try another endpoint after
		 * the back-off. An answer that came before the whole request body
		 * went out leaves the connection mid-request: it is not reused.
		 */
		gw_back_release(uc, reusable && st->body_done);
		st_retry_later(st);
		return;
	}
	st_step_stop(st);	/* the per-try timeout */
	gw_back_release(uc, reusable && st->body_done);
	if (st->grpc_web == GW_GRPCWEB_TEXT && st->b64out.n) {
		char pad[8];

		st->fc->ops->body(st->fc, pad, gw_b64_encode(&st->b64out, NULL, 0, pad, 1));
	}
	st->fc->ops->end(st->fc);
	st->resp_done = 1;
	gw_stream_maybe_done(st);
}

/* The attempt ended without a complete answer: retry, answer, or reset the client. */
static void
sb_fail(struct gw_stream *st, enum gw_back_fail kind, int stale, const char *tls)
{
	struct gw_front *fc = st_enter(st);
	struct gw_uconn *uc = st->uc;
	int tmo = st->timed_out;

	st->timed_out = GW_TMO_NONE;
	if (kind == GW_BACK_F_PROTOCOL && !st->resp_started) {
		/* Envoy counts an upstream reset as a local origin failure */
		gw_rs_local(st->snap, st->cl, st->ep, GW_OD_CONNECT_FAILED);
		st->uc = NULL;
		gw_back_close(uc);
		st_step_stop(st);
		/* a protocol error is a reset to Envoy's retry policy */
		if (st_retry_decide(st, GW_RETRY_EV_RESET, 0, 0) == GW_RETRY_YES)
			st_retry_later(st);
		else
			gw_local_error(st, 502, gw_flags_add(st->flags, "UPE"), "upstream protocol error\n");
		st_leave(fc);
		return;
	}
	st_step_stop(st);	/* the per-try timeout */
	if (!st->resp_started) {
		/* a pooled connection the upstream had closed: once more on a new one */
		stale = stale && !st->retried && tmo == GW_TMO_NONE &&
		    (!st->has_body || (st->body && !st->body_over));
		if (tls)
			snprintf(st->tls_reason, sizeof(st->tls_reason), "%s", tls);
		if (!stale)	/* outlier detection: a route/per-try timeout, or a reset */
			gw_rs_local(st->snap, st->cl, st->ep, tmo != GW_TMO_NONE ? GW_OD_TIMEOUT :
			    GW_OD_CONNECT_FAILED);
		st->uc = NULL;
		gw_back_close(uc);
		if (stale) {
			st->retried = 1;
			if (st_send_attempt(st) != -1) {
				st_leave(fc);
				return;
			}
		}
		if (tmo == GW_TMO_ROUTE)
			gw_local_error(st, 504, gw_flags_add(st->flags, "UT"), "upstream request timeout");
		else
			st_attempt_failed(st, kind == GW_BACK_F_CONNECT ? GW_RETRY_EV_CONNECT :
			    tmo == GW_TMO_TRY ? GW_RETRY_EV_PER_TRY_TIMEOUT :
			    kind == GW_BACK_F_REFUSED ? GW_RETRY_EV_REFUSED : GW_RETRY_EV_RESET);
		st_leave(fc);
		return;
	}
	/* mid-answer: the client can only learn it from the connection closing */
	st->flags = gw_flags_add(st->flags, tmo != GW_TMO_NONE ? "UT" : "UC");
	fc->ops->reset(fc);
	st_leave(fc);
}

/*
 * The upstream said 101 and its head went out: the pair of connections is
 * a byte pipe from now on (WebSocket), outliving reloads; no route or
 * per-try timeout cuts it.
 */
static void
sb_upgraded(struct gw_stream *st, struct gw_io *io, struct evbuffer *rest)
{
	struct gw_io *client;

	st->resp_done = 0;
	if (st->ev_timeout)
		evtimer_del(st->ev_timeout);
	st_step_stop(st);
	client = st->fc->ops->tunnel(st->fc, io, rest);
	gw_back_tunnel(st->uc, client);
}

/* The pipe closed upstream: the client gets what is queued, then the close. */
static void
sb_tunnel_closed(struct gw_stream *st)
{
	struct gw_front *fc = st_enter(st);
	struct gw_uconn *uc = st->uc;

	fc->ops->untunnel(fc);
	st->uc = NULL;
	st->resp_done = 1;
	st->body_done = 1;
	gw_back_close(uc);
	gw_stream_maybe_done(st);
	st_leave(fc);
}

static void
sb_drained(struct gw_stream *st)
{
	st->fc->ops->drained(st->fc);
}

static void *
sb_enter(struct gw_stream *st)
{
	return st_enter(st);
}

static void
sb_leave(void *token)
{
	st_leave(token);
}

static const struct gw_back_ops stream_back_ops = {
	.connected = sb_connected,
	.head = sb_head,
	.body = sb_body,
	.trailers = sb_trailers,
	.done = sb_done,
	.fail = sb_fail,
	.upgraded = sb_upgraded,
	.tunnel_closed = sb_tunnel_closed,
	.drained = sb_drained,
	.enter = sb_enter,
	.leave = sb_leave,
};

/* ---- what the front hands in ---- */

void
gw_stream_head(struct gw_stream *st)
{
	size_t xl = 0;
	const char *xff = NULL;

	st->is_head = st->method == HTTP_HEAD;
	st->is_grpc = gw_is_grpc(&st->hh);
	if (!st->has_body)
		st->body_done = 1;
	xff = gw_hdr_get(&st->hh, "x-forwarded-for", &xl);
	if (xff == NULL || gw_xff_client(xff, xl, st->snap->trusted_hops, st->client,
	    sizeof(st->client)) == -1)
		snprintf(st->client, sizeof(st->client), "%s", st->peer);
	st->ndrop = gw_conn_named(&st->hh, st->drop);
	st_route(st);
}

static int st_body(struct gw_stream *, const char *, size_t);

int
gw_stream_body(struct gw_stream *st, const char *at, size_t len)
{
	uint8_t *d;
	long n;
	int r;

	if (st->grpc_web != GW_GRPCWEB_TEXT)
		return st_body(st, at, len);
	/* gRPC-Web text: the body goes upstream decoded */
	d = xmalloc(len / 4 * 3 + 3);
	n = gw_b64_decode(&st->b64in, at, len, d);
	if (n < 0) {
		free(d);
		st->bytes_in += len;
		if (st->uc == NULL && st->resp_started)
			return 0;
		st_step_stop(st);
		gw_local_error(st, 400, gw_flags_add(st->flags, "DPE"), "invalid base64 in the grpc-web-text body");
		return 0;
	}
	r = st_body(st, (const char *)d, (size_t)n);
	free(d);
	return r;
}

static int
st_body(struct gw_stream *st, const char *at, size_t len)
{
	char sz[24];
	int szl = 0;

	st->bytes_in += len;
	if (st->uc == NULL && (st->resp_started || st->body == NULL))
		return 0;	/* answered locally: the body is dropped */
	if (st->up_chunked)
		szl = snprintf(sz, sizeof(sz), "%zx\r\n", len);
	/* kept for a retry or a mirror, as long as it fits */
	if (st->body && !st->body_over) {
		if (evbuffer_get_length(st->body) + (size_t)szl + len + 2 > GW_RETRY_BODY_MAX) {
			st->body_over = 1;
			evbuffer_free(st->body);
			st->body = NULL;
			gw_stats_cluster(&st->w->stats, st->cl->name, GW_CS_RETRY_ABANDONED);
			if (st->uc == NULL) {
				/* between two tries: nothing can carry it on (Envoy: 507) */
				st_step_stop(st);
				gw_local_error(st, 507, st->flags,
				    "exceeded request buffer limit while retrying upstream\n");
				return 0;
			}
		} else if (st->up_chunked) {
			evbuffer_add(st->body, sz, (size_t)szl);
			evbuffer_add(st->body, at, len);
			evbuffer_add(st->body, "\r\n", 2);
		} else
			evbuffer_add(st->body, at, len);
	}
	if (st->uc == NULL)
		return 0;	/* a retry is waiting for its back-off */
	if (st->up_chunked)
		gw_back_send(st->uc, sz, (size_t)szl, at, len, "\r\n", 2);
	else
		gw_back_send(st->uc, at, len, NULL, 0, NULL, 0);
	return gw_back_pending(st->uc) > GW_HWM;
}

void
gw_stream_end(struct gw_stream *st)
{
	st->body_done = 1;
	if (st->up_chunked && st->body)
		evbuffer_add(st->body, "0\r\n\r\n", 5);
	if (st->uc && st->up_chunked)
		gw_back_send(st->uc, "0\r\n\r\n", 5, NULL, 0, NULL, 0);
	if (st->routed && !st->resp_done) {
		if (st->rt->nmirrors)
			gw_mirror(st);
		st_arm_timeout(st);
		st_arm_try(st);
	}
	gw_stream_maybe_done(st);
}

void
gw_stream_writable(struct gw_stream *st)
{
	if (st->uc)
		gw_back_resume(st->uc);
}

void
gw_stream_client_gone(struct gw_stream *st)
{
	if (st->flags && !st->resp_done)
		st->flags = gw_flags_add(st->flags, "DC");	/* "DI,DC" after a delay */
}
