/*
 * Gateway workers: one thread each, with its own event_base, its own
 * SO_REUSEPORT listening sockets on every server port and its own upstream
 * pools. The main thread hands over snapshots through an eventfd poke; a
 * worker adopts the newest and reconciles its listeners by port (a port
 * that stays keeps its socket: no accept gap).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "gw-ctx-t.h"
#include "gw-back.h"
#include "gw-front.h"
#include "gw-l4.h"
#include "gw-ppin.h"
#include "gw-snap.h"
#include "gw-stats.h"
#include "gw-worker.h"
#include "gw-io.h"
#include "gw-yield.h"
#include "vipgate/gw-route.h"
#include "vipgate/accept.h"
#include "vipgate/log.h"
#include "vipgate/lsock.h"

void
gw_worker_poke(struct gw_worker *w)
{
	uint64_t one = 1;

	if (w->efd >= 0)
		(void)!write(w->efd, &one, sizeof(one));
}

struct lis_arg {
	struct gw_worker	*w;
	uint16_t		 port;
	int			 tls;
};

/*
 * Accepting stops and resumes for the worker as a whole: its listeners
 * share the descriptors it runs out of and its connection count. While
 * they are off, new connections wait in the kernel's listen backlog.
 */
static void
listeners_enable(struct gw_worker *w, int on)
{
	size_t i;

	for (i = 0; i < w->nlis; i++)
		if (w->lis[i].l)
			(void)(on ? evconnlistener_enable(w->lis[i].l) :
			    evconnlistener_disable(w->lis[i].l));
}

static void
acc_stop(struct gw_worker *w, unsigned flag)
{
	if (w->acc_flags == 0)
		listeners_enable(w, 0);
	w->acc_flags |= flag;
}

static void
acc_resume(struct gw_worker *w, unsigned flag)
{
	if (!(w->acc_flags & flag))
		return;
	w->acc_flags &= ~flag;
	if (w->acc_flags == 0)
		listeners_enable(w, 1);
}

/* HAProxy's maxconn: at the cap, no accept() until a connection closes. */
static void
acc_check_full(struct gw_worker *w)
{
	size_t max = w->snap ? w->snap->max_conns : 0;
	int64_t now;

	if (max == 0 || w->nconns < max) {
		acc_resume(w, GW_ACC_F_FULL);
		return;
	}
	if (w->acc_flags & GW_ACC_F_FULL)
		return;
	acc_stop(w, GW_ACC_F_FULL);
	__atomic_add_fetch(&w->acc_full, 1, __ATOMIC_RELAXED);
	now = now_ms();
	/* at the cap a worker may stop and resume at every close: a line at
	 * most every VG_ACCEPT_LOG_MS, with the times it was not logged */
	if (w->full_logged_ms == 0 || now - w->full_logged_ms >= VG_ACCEPT_LOG_MS) {
		if (w->full_unlogged)
			log_warnx("gateway worker %d: %zu connections, gateway.max_connections: "
			    "new ones wait in the listen backlog until one closes (reached %llu "
			    "more times since the last such line)", w->id, w->nconns,
			    (unsigned long long)w->full_unlogged);
		else
			log_warnx("gateway worker %d: %zu connections, gateway.max_connections: "
			    "new ones wait in the listen backlog until one closes", w->id,
			    w->nconns);
		w->full_logged_ms = now;
		w->full_unlogged = 0;
	} else
		w->full_unlogged++;
}

/* The front's callback: a downstream connection closed. */
static void
conn_closed(struct gw_worker *w)
{
	/* a descriptor is free again: HAProxy re-enables limited listeners
	 * when a connection closes, not only on its timer */
	acc_resume(w, GW_ACC_F_FAILED);
	acc_check_full(w);
}

static void
acc_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	acc_resume(arg, GW_ACC_F_FAILED);
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct gw_worker *w = arg;
	int64_t now = now_ms();
	char what[32];

	(void)l;
	snprintf(what, sizeof(what), "gateway worker %d", w->id);
	vg_accept_log(&w->acc, vg_accept_fail(&w->acc, err, now), now, what);
	if (!vg_accept_pauses(err)) {
		log_debug("%s: accept: %s", what, strerror(err));
		return;
	}
	acc_stop(w, GW_ACC_F_FAILED);
	evtimer_add(w->ev_acc_retry, &vg_accept_retry_tv);
}

/* A connection to serve on port: by its listener's kind (local NULL: the socket's own address). */
static void
conn_dispatch(struct gw_worker *w, uint16_t port, uint32_t scope, int tls, evutil_socket_t fd,
    const struct sockaddr *sa, const struct sockaddr *local)
{
	const struct gw_listener *gl = w->snap ? gw_snap_listener(w->snap, port, scope) : NULL;

	/* TCP and TLS passthrough listeners carry bytes, not HTTP */
	if (gl && gl->l4)
		gw_l4_accept(w, gl, fd, sa, local);
	else
		gw_front_accept(w, port, scope, tls, fd, sa, local);
}

/* gw_ppin.c read the header: accepting may go on where it paused */
static void
pp_done(struct gw_worker *w, uint16_t port, uint32_t scope, int tls, int fd,
    const struct sockaddr *sa, const struct sockaddr *local)
{
	conn_dispatch(w, port, scope, tls, fd, sa, local);
	acc_check_full(w);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int socklen, void *arg)
{
	struct gw_worker *w = arg;
	evutil_socket_t lfd = evconnlistener_get_fd(l);
	size_t i;

	if (w->acc.since_ms != 0) {
		int64_t now = now_ms();
		char what[32];

		snprintf(what, sizeof(what), "gateway worker %d", w->id);
		vg_accept_log(&w->acc, vg_accept_ok(&w->acc, now), now, what);
	}
	for (i = 0; i < w->nlis; i++)
		if (w->lis[i].l && evconnlistener_get_fd(w->lis[i].l) == lfd) {
			/* gateway.proxy_protocol: the header first (gw_ppin.c) */
			if (w->snap && w->snap->proxy_protocol)
				gw_ppin_start(w, w->lis[i].port, w->lis[i].scope, w->lis[i].tls, fd, sa,
				    socklen);
			else
				conn_dispatch(w, w->lis[i].port, w->lis[i].scope, w->lis[i].tls, fd, sa,
				    NULL);
			/* evconnlistener accepts until EAGAIN unless disabled */
			acc_check_full(w);
			return;
		}
	(void)socklen;
	evutil_closesocket(fd);
}

#define GW_BIND_RETRY_MS	1000

static struct evconnlistener *
listen_on(struct gw_worker *w, const char *addr, uint16_t port, int freebind)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss), one = 1;
	evutil_socket_t fd;
	struct evconnlistener *l;
	char spec[128];

	snprintf(spec, sizeof(spec), strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &len) != 0) {
		log_warnx("gateway: bad bind address %s", addr);
		return NULL;
	}
	/* vipgated -x: the predecessor's socket, its queue and SO_REUSEPORT
	 * group as they are: no SYN is refused (lsock.h) */
	if ((fd = lsock_take("gateway", addr, port)) >= 0)
		goto bound;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/*
	 * A VIP or a server's bind address: bound whether or not it is this
	 * node's yet (the address comes once the gateway can serve, and the
	 * gateway can serve once its listeners are bound), as Envoy does with
	 * freebind.
	 */
	if (freebind)
		(void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)len) == -1 || listen(fd, 4096) == -1) {
		/* once, not at every retry */
		if (w->id == 0 && __atomic_load_n(&w->bind_errors, __ATOMIC_RELAXED) == 0)
			log_warn("gateway: listen on %s (tried again every %d ms)", spec,
			    GW_BIND_RETRY_MS);
		close(fd);
		return NULL;
	}
	/* backlog 0: listen() was called; -1 would make libevent call it
	 * again with 128, and connections waiting for a worker below
	 * max_connections (or for descriptors) would be refused beyond that */
bound:
	l = evconnlistener_new(w->base, accept_cb, w, LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (l == NULL) {
		close(fd);
		return NULL;
	}
	lsock_register("gateway", addr, port, fd);
	/* without it, evconnlistener logs and retries every failure at once */
	evconnlistener_set_error_cb(l, accept_error_cb);
	if (w->acc_flags)
		evconnlistener_disable(l);	/* paused: joins the others */
	return l;
}

/* Open the listeners the snapshot has and this worker lacks; close the others. */
static void
reconcile_listeners(struct gw_worker *w, const struct gw_snap *s, int closed)
{
	const struct gw_desired *g = s ? s->g : NULL;
	struct gw_wlis *nl = NULL;
	size_t nn = 0, cap = 0, i, j, b;
	uint64_t err_deps = 0;
	int errors = 0;

	for (i = 0; g && !closed && i < g->nlisteners; i++) {
		const struct gw_listener *gl = &g->listeners[i];
		/* its own addresses (VIPs, a server's bind), else gateway.bind */
		const char *const *addrs = gl->addrs ? gl->addrs : (const char *const *)s->bind;
		size_t naddrs = gl->addrs ? gl->naddrs : s->nbind;

		for (b = 0; b < naddrs; b++) {
			struct gw_wlis x = { gl->port, gl->scope, gl->tls, NULL, NULL };

			/* keep an open socket for the same port, address and scope */
			for (j = 0; j < w->nlis; j++)
				if (w->lis[j].l && w->lis[j].port == gl->port && w->lis[j].tls == gl->tls &&
				    w->lis[j].scope == gl->scope && strcmp(w->lis[j].addr, addrs[b]) == 0) {
					x = w->lis[j];
					w->lis[j].l = NULL;
					w->lis[j].addr = NULL;
					break;
				}
			if (x.l == NULL) {
				x.l = listen_on(w, addrs[b], gl->port, gl->addrs != NULL);
				if (x.l == NULL) {
					errors++;
					err_deps |= GW_DEP_BIT(gl->dep);
					continue;
				}
				x.addr = xstrdup(addrs[b]);
			}
			if (nn == cap) {
				cap = cap ? cap * 2 : 8;
				nl = xreallocarray(nl, cap, sizeof(*nl));
			}
			nl[nn++] = x;
		}
	}
	for (j = 0; j < w->nlis; j++) {
		if (w->lis[j].l) {
			lsock_forget(evconnlistener_get_fd(w->lis[j].l));
			evconnlistener_free(w->lis[j].l);
		}
		free(w->lis[j].addr);
	}
	free(w->lis);
	w->lis = nl;
	w->nlis = nn;
	__atomic_store_n(&w->bind_err_deps, err_deps, __ATOMIC_RELEASE);
	__atomic_store_n(&w->bind_errors, errors, __ATOMIC_RELEASE);
}

static void
notify_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct gw_worker *w = arg;
	struct gw_ctx *ctx = w->ctx;
	struct gw_snap *s, *old;
	uint64_t v, gen;
	int draining, leaving, stopping, handed;

	(void)!read(fd, &v, sizeof(v));
	pthread_mutex_lock(&ctx->mu);
	s = ctx->snap ? gw_snap_ref(ctx->snap) : NULL;
	gen = ctx->gen;
	draining = ctx->draining;
	leaving = ctx->leaving;
	stopping = ctx->stopping;
	handed = ctx->handed;
	pthread_mutex_unlock(&ctx->mu);
	old = w->snap;
	w->snap = s;
	/* leaving or draining: each answer closes its keep-alive connection */
	w->draining = draining || leaving;
	reconcile_listeners(w, s, draining || stopping || handed);
	gw_front_ports(w, s);	/* connections on a port the reload removed drain */
	acc_check_full(w);	/* a reload may change max_connections */
	if (old)
		gw_snap_unref(old);
	if (draining) {
		gw_back_idle_close_all(w);
		gw_front_drain(w, 1);
	} else if (leaving)
		gw_front_drain(w, 0);
	/* a port another process holds: the gateway is unready (its VIPs not
	 * announced) until a bind succeeds */
	if (__atomic_load_n(&w->bind_errors, __ATOMIC_RELAXED) && !draining && !stopping &&
	    !evtimer_pending(w->ev_bind_retry, NULL)) {
		struct timeval tv = { GW_BIND_RETRY_MS / 1000, (GW_BIND_RETRY_MS % 1000) * 1000 };

		evtimer_add(w->ev_bind_retry, &tv);
	}
	__atomic_store_n(&w->applied_gen, gen, __ATOMIC_RELEASE);
	/* tell the main thread: readiness may have changed */
	{
		uint64_t one = 1;

		(void)!write(ctx->efd, &one, sizeof(one));
	}
	if (stopping)
		event_base_loopbreak(w->base);
}

static void
bind_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct gw_worker *w = arg;

	(void)fd;
	(void)ev;
	notify_cb(w->efd, 0, w);	/* the eventfd read finds nothing: harmless */
}

/* This thread's voluntary context switches: how often it slept. */
static long
thread_nvcsw(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) == -1)
		return -1;
	return ru.ru_nvcsw;
}

/*
 * event_base_dispatch, one round at a time, yielding the CPU after
 * gateway.yield_after of running without sleeping (gw-yield.h). The
 * setting is read from the worker's snapshot, so a reload changes it.
 */
static void
worker_loop(struct gw_worker *w)
{
	struct gw_yield y = { 0, -1, 0 };
	int64_t t, after;

	for (;;) {
		/* 1: no events left at all, -1: the backend failed; as dispatch */
		if (event_base_loop(w->base, EVLOOP_ONCE) != 0 || event_base_got_break(w->base))
			break;
		after = w->snap ? w->snap->yield_after_us : 0;
		if (after <= 0)
			continue;
		t = now_us();
		if (!gw_yield_check_due(&y, t, after))
			continue;
		if (gw_yield_check(&y, t, thread_nvcsw(), gw_io_handshake_us)) {
			sched_yield();
			__atomic_add_fetch(&w->stats.yields, 1, __ATOMIC_RELAXED);
			y.mark_us = now_us();
		}
	}
}

static void *
worker_main(void *arg)
{
	struct gw_worker *w = arg;

	/* bound before the first event: every buffer it touches is allocated
	 * from that CPU */
	if (w->cpu >= 0) {
		cpu_set_t set;
		int e;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		if ((e = pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) != 0)
			log_warnx("gateway: worker %d: cannot bind to CPU %d: %s",
			    w->id, w->cpu, strerror(e));
		else
			log_debug("gateway: worker %d bound to CPU %d", w->id, w->cpu);
	}
	worker_loop(w);
	gw_rx_thread_done();
	return NULL;
}

int
gw_worker_start(struct gw_worker *w)
{
	char name[16];

	w->base = event_base_new();
	if (w->base == NULL)
		return -1;
	TAILQ_INIT(&w->idle);
	TAILQ_INIT(&w->conns);
	TAILQ_INIT(&w->shadows);
	TAILQ_INIT(&w->l4conns);
	TAILQ_INIT(&w->ppconns);
	w->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(w->id + 1) ^ (uint64_t)now_ms();
	if (w->rng == 0)
		w->rng = 1;
	gw_stats_init(&w->stats);
	w->conn_closed = conn_closed;
	w->pp_done = pp_done;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		return -1;
	w->ev_notify = event_new(w->base, w->efd, EV_READ | EV_PERSIST, notify_cb, w);
	event_add(w->ev_notify, NULL);
	w->ev_acc_retry = evtimer_new(w->base, acc_retry_cb, w);
	w->ev_bind_retry = evtimer_new(w->base, bind_retry_cb, w);
	if (w->ev_acc_retry == NULL)
		return -1;
	if (pthread_create(&w->th, NULL, worker_main, w) != 0)
		return -1;
	/* "top -H" and /proc/PID/task/TID/comm tell the workers apart */
	(void)snprintf(name, sizeof(name), "gw-worker-%d", w->id);
	(void)pthread_setname_np(w->th, name);
	return 0;
}
