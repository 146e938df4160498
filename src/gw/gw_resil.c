/*
 * Circuit breakers and outlier ejection at run time.
 *
 * Breakers are Envoy's per-cluster resource manager: counters shared by
 * every worker (atomics), checked as conn_pool_base.cc does. A request
 * with no ready connection is pending; a full pending queue, or a cluster
 * at max_requests, is an overflow (503 UO). max_connections does not fail
 * a request: no connection is opened and the request waits in its
 * worker's queue until a connection of that endpoint frees up (goes idle
 * or closes), except that an endpoint pool with no connection at all still
 * gets one.
 *
 * Outlier detection (gw_outlier.c) runs under a per-cluster mutex where
 * Envoy posts events to its main thread; the interval sweep runs on the
 * main thread's loop. The state lives in the gateway context, by cluster
 * name and endpoint address, so a reload keeps ejections and counts.
 */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>

#include "gw-ctx-t.h"
#include "gw-outlier.h"
#include "gw-resil.h"
#include "gw-snap-t.h"
#include "gw-worker-t.h"
#include "vipgate/log.h"

/* Envoy's stream_idle_timeout default, which Istio keeps for gateways */
#define GW_RS_STREAM_IDLE_MS	300000

/* ---- shared state, refcounted ---- */

static struct gw_ep_rt *
ep_new(const char *key, size_t nw)
{
	struct gw_ep_rt *e = xcalloc(1, sizeof(*e));

	e->refcnt = 1;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->nw = nw ? nw : 1;
	e->wcx = xcalloc(e->nw, sizeof(*e->wcx));
	e->widle = xcalloc(e->nw, sizeof(*e->widle));
	return e;
}

static struct gw_ep_rt *
ep_ref(struct gw_ep_rt *e)
{
	__atomic_add_fetch(&e->refcnt, 1, __ATOMIC_RELAXED);
	return e;
}

static void
ep_unref(struct gw_ep_rt *e)
{
	if (e == NULL || __atomic_sub_fetch(&e->refcnt, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(e->wcx);
	free(e->widle);
	free(e);
}

static struct gw_cl_rt *
cl_new(const char *name)
{
	struct gw_cl_rt *c = xcalloc(1, sizeof(*c));

	c->refcnt = 1;
	c->name = xstrdup(name);
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

static struct gw_cl_rt *
cl_ref(struct gw_cl_rt *c)
{
	__atomic_add_fetch(&c->refcnt, 1, __ATOMIC_RELAXED);
	return c;
}

static void
cl_unref(struct gw_cl_rt *c)
{
	size_t i;

	if (c == NULL || __atomic_sub_fetch(&c->refcnt, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (i = 0; i < c->neps; i++)
		ep_unref(c->eps[i]);
	free(c->eps);
	pthread_mutex_destroy(&c->mu);
	free(c->name);
	free(c);
}

static int
ep_key_cmp(const void *a, const void *b)
{
	return strcmp((*(struct gw_ep_rt * const *)a)->key, (*(struct gw_ep_rt * const *)b)->key);
}

static void
ep_key(const struct gw_endpoint *e, char *out, size_t len)
{
	snprintf(out, len, "%s|%u", e->ip, e->port);
}

/* ---- the interval sweep (main thread) ---- */

static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_cl_rt *cl = arg;
	struct gw_od_host **hosts;
	size_t i, n;
	int64_t now = now_ms();

	(void)fd;
	(void)what;
	pthread_mutex_lock(&cl->mu);
	hosts = xcalloc(cl->neps ? cl->neps : 1, sizeof(*hosts));
	for (i = 0; i < cl->neps; i++)
		hosts[i] = &cl->eps[i]->od;
	n = gw_od_sweep(&cl->od, hosts, cl->neps, now);
	for (i = 0; n && i < cl->neps; i++) {
		struct gw_ep_rt *e = cl->eps[i];

		if (__atomic_load_n(&e->ejected, __ATOMIC_RELAXED) && !e->od.ejected) {
			__atomic_store_n(&e->ejected, 0, __ATOMIC_RELEASE);
			__atomic_store_n(&e->dirty, 0, __ATOMIC_RELAXED);
			log_info("gateway: %s: endpoint %s back from outlier ejection", cl->name, e->key);
		}
	}
	pthread_mutex_unlock(&cl->mu);
	free(hosts);
}

static void
sweep_set(struct gw_ctx *ctx, struct gw_cl_rt *cl, int64_t ms)
{
	if (ms == cl->sweep_ms)
		return;
	if (cl->sweep) {
		event_free(cl->sweep);
		cl->sweep = NULL;
	}
	cl->sweep_ms = ms;
	if (ms <= 0)
		return;
	cl->sweep = event_new(ctx->env->base, -1, EV_PERSIST, sweep_cb, cl);
	event_add(cl->sweep, &(struct timeval){ ms / 1000, (ms % 1000) * 1000 });
}

/* ---- reloads: carry the state over by name and address ---- */

static void
cl_update(struct gw_ctx *ctx, struct gw_cl_rt *cl, const struct gw_cluster *c, struct gw_ep_rt **byid)
{
	struct gw_ep_rt **neweps = xcalloc(c->neps ? c->neps : 1, sizeof(*neweps));
	char *kept = xcalloc(cl->neps ? cl->neps : 1, 1);
	size_t i, j;

	pthread_mutex_lock(&cl->mu);
	for (i = 0; i < c->neps; i++) {
		struct gw_ep_rt key, *kp = &key, **hit = NULL;

		ep_key(&c->eps[i], key.key, sizeof(key.key));
		if (cl->neps)
			hit = bsearch(&kp, cl->eps, cl->neps, sizeof(*cl->eps), ep_key_cmp);
		if (hit) {
			neweps[i] = *hit;	/* carried over with the cluster's reference */
			kept[hit - cl->eps] = 1;
		} else
			neweps[i] = ep_new(key.key, ctx->nw);
		byid[i] = ep_ref(neweps[i]);
	}
	for (j = 0; j < cl->neps; j++) {
		struct gw_ep_rt *e = cl->eps[j];

		if (kept[j])
			continue;
		/* gone from the cluster: its late results are ignored, as Envoy's
		 * detector forgets a removed host */
		e->removed = 1;
		gw_od_host_removed(&cl->od, &e->od);
		__atomic_store_n(&e->ejected, 0, __ATOMIC_RELEASE);
		ep_unref(e);
	}
	free(kept);
	free(cl->eps);
	cl->eps = neweps;
	cl->neps = c->neps;
	if (cl->neps > 1)
		qsort(cl->eps, cl->neps, sizeof(*cl->eps), ep_key_cmp);
	if (c->outlier.enabled) {
		gw_od_cfg_from(&cl->od.cfg, &c->outlier);
		cl->od_on = 1;
	} else if (cl->od_on) {
		/* no detector any more: nobody stays ejected */
		for (j = 0; j < cl->neps; j++) {
			gw_od_uneject(&cl->od, &cl->eps[j]->od, now_ms());
			__atomic_store_n(&cl->eps[j]->ejected, 0, __ATOMIC_RELEASE);
		}
		cl->od_on = 0;
	}
	pthread_mutex_unlock(&cl->mu);
	sweep_set(ctx, cl, c->outlier.enabled ? cl->od.cfg.interval_ms : 0);
}

static int
cl_name_cmp(const void *key, const void *elt)
{
	return strcmp(key, (*(struct gw_cl_rt * const *)elt)->name);
}

void
gw_rs_snap_init(struct gw_ctx *ctx, struct gw_snap *s)
{
	const struct gw_desired *g = s->g;
	size_t n = g->nclusters, i;
	struct gw_cl_rt **reg = xcalloc(n ? n : 1, sizeof(*reg));
	char *kept = xcalloc(ctx->rs_ncls ? ctx->rs_ncls : 1, 1);

	/* NULL-terminated, so that freeing needs nothing else */
	s->crt = xcalloc(n + 1, sizeof(*s->crt));
	s->ert = xcalloc(n + 1, sizeof(*s->ert));
	for (i = 0; i < n; i++) {
		const struct gw_cluster *c = g->clusters[i];
		struct gw_cl_rt **hit = NULL;

		if (ctx->rs_ncls)
			hit = bsearch(c->name, ctx->rs_cls, ctx->rs_ncls, sizeof(*ctx->rs_cls), cl_name_cmp);
		if (hit) {
			reg[i] = *hit;
			kept[hit - ctx->rs_cls] = 1;
		} else
			reg[i] = cl_new(c->name);
		s->crt[i] = cl_ref(reg[i]);
		s->ert[i] = xcalloc(c->neps + 1, sizeof(**s->ert));
		cl_update(ctx, reg[i], c, s->ert[i]);
	}
	/* clusters that are gone: their state goes with the last snapshot using them */
	for (i = 0; i < ctx->rs_ncls; i++)
		if (!kept[i]) {
			sweep_set(ctx, ctx->rs_cls[i], 0);
			cl_unref(ctx->rs_cls[i]);
		}
	free(kept);
	free(ctx->rs_cls);
	ctx->rs_cls = reg;
	ctx->rs_ncls = n;
}

void
gw_rs_snap_free(struct gw_snap *s)
{
	size_t i, j;

	for (i = 0; s->crt && s->crt[i]; i++) {
		for (j = 0; s->ert[i][j]; j++)
			ep_unref(s->ert[i][j]);
		free(s->ert[i]);
		cl_unref(s->crt[i]);
	}
	free(s->ert);
	free(s->crt);
}

void
gw_rs_ctx_free(struct gw_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->rs_ncls; i++) {
		sweep_set(ctx, ctx->rs_cls[i], 0);
		cl_unref(ctx->rs_cls[i]);
	}
	free(ctx->rs_cls);
	ctx->rs_cls = NULL;
	ctx->rs_ncls = 0;
}

struct gw_cl_rt *
gw_rs_cluster_find(struct gw_ctx *ctx, const char *name)
{
	struct gw_cl_rt **hit;

	if (ctx->rs_ncls == 0)
		return NULL;
	hit = bsearch(name, ctx->rs_cls, ctx->rs_ncls, sizeof(*ctx->rs_cls), cl_name_cmp);
	return hit ? *hit : NULL;
}

/* ---- the pending queue (worker) ---- */

static void kick_cb(evutil_socket_t, short, void *);

static struct gw_rs_worker *
rsw(struct gw_worker *w)
{
	if (w->rs.q.tqh_last == NULL)
		TAILQ_INIT(&w->rs.q);
	if (w->rs.kick == NULL)
		w->rs.kick = event_new(w->base, -1, 0, kick_cb, w);
	return &w->rs;
}

void
gw_rs_worker_free(struct gw_worker *w)
{
	if (w->rs.kick)
		event_free(w->rs.kick);
	w->rs.kick = NULL;
}

static void
dequeue(struct gw_rs_req *r)
{
	struct gw_rs_worker *q;

	if (!r->queued)
		return;
	q = rsw(r->w);
	TAILQ_REMOVE(&q->q, r, link);
	q->nq--;
	r->queued = 0;
	if (r->timer)
		event_free(r->timer);
	r->timer = NULL;
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_rs_req *r = arg;

	(void)fd;
	(void)what;
	dequeue(r);	/* still pending (counted) until the answer releases it */
	r->resume(r->owner, r->tmo_route ? GW_RS_ROUTE_TIMEOUT : GW_RS_STREAM_TIMEOUT);
}

/*
 * The wait is bounded as Envoy bounds it: by the route's timeout (504 UT)
 * when there is one, else by the connection manager's stream idle timeout
 * of 5 minutes (504 SI, "stream timeout", the request being complete). A
 * client that goes away takes its request out of the queue (DC).
 */
static void
enqueue(struct gw_rs_req *r, int head, int64_t route_timeout_ms)
{
	struct gw_rs_worker *q = rsw(r->w);
	int64_t t = GW_RS_STREAM_IDLE_MS;
	int route = 0;

	if (route_timeout_ms > 0 && route_timeout_ms < t) {
		t = route_timeout_ms;
		route = 1;
	}
	if (head)
		TAILQ_INSERT_HEAD(&q->q, r, link);
	else
		TAILQ_INSERT_TAIL(&q->q, r, link);
	q->nq++;
	r->queued = 1;
	r->tmo_route = (unsigned)route;
	if (r->timer == NULL)
		r->timer = evtimer_new(r->w->base, timer_cb, r);
	event_add(r->timer, &(struct timeval){ t / 1000, (t % 1000) * 1000 });
}

static int
cx_room(const struct gw_cluster *c, struct gw_cl_rt *cl)
{
	return c->max_connections <= 0 ||
	    __atomic_load_n(&cl->cx_active, __ATOMIC_RELAXED) < (uint64_t)c->max_connections;
}

static int
can_go(struct gw_worker *w, const struct gw_rs_req *r)
{
	return r->ep->widle[w->id] > 0 || cx_room(r->c, r->cl) || r->ep->wcx[w->id] == 0;
}

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw_worker *w = arg;
	struct gw_rs_worker *q = rsw(w);
	struct gw_rs_req *r, *next;

	(void)fd;
	(void)what;
	/* FIFO; an entry whose endpoint has no room yet keeps its place */
	for (r = TAILQ_FIRST(&q->q); r; r = next) {
		next = TAILQ_NEXT(r, link);
		if (r->failed) {
			dequeue(r);
			r->failed = 0;
			r->resume(r->owner, GW_RS_CONNECT_FAILED);
			continue;
		}
		if (!can_go(w, r))
			continue;
		dequeue(r);
		r->dispatching = 1;
		r->resume(r->owner, GW_RS_DISPATCH);
	}
}

static void
kick(struct gw_worker *w)
{
	if (w->base == NULL || w->rs.nq == 0)
		return;
	event_active(rsw(w)->kick, EV_TIMEOUT, 0);
}

/* ---- breakers (worker) ---- */

static void
detach(struct gw_rs_req *r, int keep_pending)
{
	if (r->cl == NULL)
		return;
	dequeue(r);
	if (r->pending && !keep_pending) {
		__atomic_sub_fetch(&r->cl->rq_pending, 1, __ATOMIC_RELAXED);
		r->pending = 0;
	}
	if (r->attached)
		__atomic_sub_fetch(&r->cl->rq_attached, 1, __ATOMIC_RELAXED);
	r->attached = 0;
}

void
gw_rs_req_release(struct gw_rs_req *r)
{
	if (r->cl == NULL)
		return;
	detach(r, 0);
	if (r->retry)
		__atomic_sub_fetch(&r->cl->retries_active, 1, __ATOMIC_RELAXED);
	r->retry = 0;
	r->dispatching = 0;
	r->cl = NULL;
	r->ep = NULL;
}

enum gw_rs_admit
gw_rs_admit(struct gw_worker *w, struct gw_snap *s, const struct gw_cluster *c,
    const struct gw_endpoint *e, struct gw_rs_req *r, void *owner,
    void (*resume)(void *, enum gw_rs_resume), enum gw_rs_idle idle,
    int64_t route_timeout_ms)
{
	struct gw_cl_rt *cl = s->crt[c->id];
	/* its turn came in the queue: it keeps its pending slot */
	int from_q = r->dispatching && r->pending && r->cl == cl;
	int room;

	if (r->cl != NULL && r->cl != cl)
		gw_rs_req_release(r);
	else
		detach(r, from_q);
	r->dispatching = 0;
	r->cl = cl;
	r->ep = s->ert[c->id][e->id];
	r->c = c;
	r->w = w;
	r->owner = owner;
	r->resume = resume;
	/* max_requests is checked when a stream attaches to a connection */
	if (c->max_requests > 0 &&
	    __atomic_load_n(&cl->rq_attached, __ATOMIC_RELAXED) >= (uint64_t)c->max_requests) {
		__atomic_add_fetch(&cl->rq_pending_overflow, 1, __ATOMIC_RELAXED);
		log_debug("gateway: %s: max_requests %lld reached", cl->name, (long long)c->max_requests);
		return GW_RS_OVERFLOW;
	}
	if (idle == GW_RS_IDLE_OK ||
	    (idle == GW_RS_IDLE_AVOID && !cx_room(c, cl) && r->ep->wcx[w->id] > 0)) {
		detach(r, 0);
		r->attached = 1;
		__atomic_add_fetch(&cl->rq_attached, 1, __ATOMIC_RELAXED);
		return GW_RS_IDLE;
	}
	/* no ready connection: the request is pending (newPendingStream) */
	if (!r->pending) {
		if (c->max_pending > 0 &&
		    __atomic_load_n(&cl->rq_pending, __ATOMIC_RELAXED) >= (uint64_t)c->max_pending) {
			__atomic_add_fetch(&cl->rq_pending_overflow, 1, __ATOMIC_RELAXED);
			log_debug("gateway: %s: max_pending_requests %lld reached", cl->name,
			    (long long)c->max_pending);
			return GW_RS_OVERFLOW;
		}
		__atomic_add_fetch(&cl->rq_pending, 1, __ATOMIC_RELAXED);
		r->pending = 1;
	}
	room = cx_room(c, cl);
	if (!room)
		__atomic_add_fetch(&cl->cx_overflow, 1, __ATOMIC_RELAXED);
	if (room || r->ep->wcx[w->id] == 0) {
		/* pending until its connection is up (gw_rs_connected) */
		r->attached = 1;
		__atomic_add_fetch(&cl->rq_attached, 1, __ATOMIC_RELAXED);
		return GW_RS_CONNECT;
	}
	enqueue(r, from_q, route_timeout_ms);
	return GW_RS_QUEUED;
}

void
gw_rs_connected(struct gw_rs_req *r)
{
	if (r->cl && r->pending && !r->queued) {
		__atomic_sub_fetch(&r->cl->rq_pending, 1, __ATOMIC_RELAXED);
		r->pending = 0;
	}
}

int
gw_breaker_retry_ok(struct gw_rs_req *r, struct gw_snap *s, const struct gw_cluster *c)
{
	struct gw_cl_rt *cl = s->crt[c->id];

	/* a retry holds its share from the decision until its back-off is over
	 * (the request's release, when dr_retry_now picks the next endpoint),
	 * as Envoy's RetryStateImpl holds the retries resource */
	if (r->retry && r->cl == cl)
		return 1;
	if (c->max_retries > 0 &&
	    __atomic_load_n(&cl->retries_active, __ATOMIC_RELAXED) >= (uint64_t)c->max_retries) {
		__atomic_add_fetch(&cl->retry_overflow, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (r->cl != cl) {
		gw_rs_req_release(r);
		r->cl = cl;
	}
	__atomic_add_fetch(&cl->retries_active, 1, __ATOMIC_RELAXED);
	r->retry = 1;
	return 1;
}

void
gw_rs_cx_open(struct gw_worker *w, struct gw_rs_cx *x, const struct gw_rs_req *r)
{
	if (r->cl == NULL || r->ep == NULL)
		return;
	x->cl = cl_ref(r->cl);
	x->ep = ep_ref(r->ep);
	x->idle = 0;
	__atomic_add_fetch(&x->cl->cx_active, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&x->ep->cx_active, 1, __ATOMIC_RELAXED);
	x->ep->wcx[w->id]++;
}

void
gw_rs_cx_idle(struct gw_worker *w, struct gw_rs_cx *x, int idle)
{
	if (x->ep == NULL || x->idle == idle)
		return;
	x->idle = idle;
	if (idle) {
		x->ep->widle[w->id]++;
		kick(w);
	} else
		x->ep->widle[w->id]--;
}

void
gw_rs_cx_close(struct gw_worker *w, struct gw_rs_cx *x, int connected)
{
	if (x->cl == NULL)
		return;
	/* a failed connection attempt fails the requests waiting on that
	 * endpoint's pool, as Envoy purges its pending streams */
	if (!connected && w->rs.nq) {
		struct gw_rs_req *r;

		TAILQ_FOREACH(r, &w->rs.q, link)
			if (r->ep == x->ep)
				r->failed = 1;
	}
	if (x->idle)
		x->ep->widle[w->id]--;
	x->ep->wcx[w->id]--;
	__atomic_sub_fetch(&x->cl->cx_active, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&x->ep->cx_active, 1, __ATOMIC_RELAXED);
	ep_unref(x->ep);
	cl_unref(x->cl);
	x->cl = NULL;
	x->ep = NULL;
	kick(w);
}

/* ---- outlier results (worker) ---- */

void
gw_rs_result(struct gw_snap *s, const struct gw_cluster *c, const struct gw_endpoint *e, int code)
{
	struct gw_cl_rt *cl;
	struct gw_ep_rt *ep;
	enum gw_od_verdict v;

	if (s == NULL || c == NULL || e == NULL || !c->outlier.enabled || s->crt == NULL ||
	    e->id >= c->neps)
		return;
	cl = s->crt[c->id];
	ep = s->ert[c->id][e->id];
	/* the common case, a success on a host with clean counters, takes no lock */
	if ((code < 500 || code > 599) && !__atomic_load_n(&ep->dirty, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&cl->mu);
	if (ep->removed || !cl->od_on) {
		pthread_mutex_unlock(&cl->mu);
		return;
	}
	v = gw_od_report(&cl->od, &ep->od, cl->neps, code, now_ms(), 0);
	__atomic_store_n(&ep->dirty, ep->od.c5xx || ep->od.cgw || ep->od.cloc, __ATOMIC_RELAXED);
	if (v == GW_OD_EJECTED)
		__atomic_store_n(&ep->ejected, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&cl->mu);
	if (v == GW_OD_EJECTED)
		log_info("gateway: %s: endpoint %s ejected (outlier detection, ejection %u)",
		    cl->name, ep->key, ep->od.num_ejections);
	else if (v == GW_OD_OVERFLOW)
		log_debug("gateway: %s: endpoint %s not ejected: max ejection percent",
		    cl->name, ep->key);
}

void
gw_rs_local(struct gw_snap *s, const struct gw_cluster *c, const struct gw_endpoint *e,
    enum gw_od_local r)
{
	struct gw_cl_rt *cl;
	struct gw_ep_rt *ep;
	enum gw_od_verdict v;

	/* the default (non-split) mode maps local results to codes */
	if (c == NULL || !c->outlier.split_local) {
		if (r != GW_OD_CONNECT_SUCCESS && c != NULL)
			gw_rs_result(s, c, e, gw_od_local_code(r));
		return;
	}
	if (s == NULL || e == NULL || !c->outlier.enabled || s->crt == NULL || e->id >= c->neps)
		return;
	cl = s->crt[c->id];
	ep = s->ert[c->id][e->id];
	if (r == GW_OD_CONNECT_SUCCESS && !__atomic_load_n(&ep->dirty, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&cl->mu);
	if (ep->removed || !cl->od_on) {
		pthread_mutex_unlock(&cl->mu);
		return;
	}
	v = gw_od_local(&cl->od, &ep->od, cl->neps, r, now_ms(), 0);
	__atomic_store_n(&ep->dirty, ep->od.c5xx || ep->od.cgw || ep->od.cloc, __ATOMIC_RELAXED);
	if (v == GW_OD_EJECTED)
		__atomic_store_n(&ep->ejected, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&cl->mu);
	if (v == GW_OD_EJECTED)
		log_info("gateway: %s: endpoint %s ejected (local origin failures, ejection %u)",
		    cl->name, ep->key, ep->od.num_ejections);
}

void
gw_rs_keepalive(evutil_socket_t fd, const struct gw_cluster *c)
{
	int one = 1, v;

	if (fd < 0 || !c->tcp_keepalive)
		return;
	/* Envoy's upstream_connection_options.tcp_keepalive; unset values keep the kernel's */
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (c->keepalive_time_s > 0) {
		v = (int)c->keepalive_time_s;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v));
	}
	if (c->keepalive_interval_s > 0) {
		v = (int)c->keepalive_interval_s;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v));
	}
	if (c->keepalive_probes > 0) {
		v = (int)c->keepalive_probes;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v));
	}
}
