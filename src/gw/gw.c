/*
 * The gateway applier: turns each desired state's compiled gateway into a
 * refcounted snapshot, hands it to the workers, serves the health
 * (:15021/healthz/ready) and stats (:15020/stats/prometheus) ports, answers
 * `vipgatectl gateway ...`, and drains.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "gw-ctx.h"
#include "gw-front.h"
#include "gw-l4.h"
#include "gw-ppin.h"
#include "gw-l4show.h"
#include "gw-jwks-fetch.h"
#include "gw-jwt.h"
#include "gw-back.h"
#include "gw-mirror.h"
#include "gw-resil.h"
#include "gw-snap.h"
#include "gw-stats.h"
#include "gw-stream.h"
#include "gw-tls.h"
#include "gw-uptls.h"
#include "gw-worker.h"
#include "gw-path.h"
#include "vipgate/accept.h"
#include "vipgate/config-t.h"
#include "vipgate/ctl.h"
#include "vipgate/gw-route.h"
#include "vipgate/gw-authz-t.h"
#include "vipgate/gw.h"
#include "vipgate/reconcile.h"
#include "vipgate/log.h"
#include "vipgate/lsock.h"

/* Descriptors open now. */
static size_t
fds_open(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	size_t n = 0;

	if (dir == NULL)
		return 32;
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n ? n - 1 : 0;	/* not the directory's own */
}

/*
 * gateway.max_connections: auto, a worker's share of RLIMIT_NOFILE, as
 * HAProxy derives maxconn from ulimit-n. A client connection may hold an
 * upstream one, so each counts two descriptors. Kept back: those open when
 * the gateway started (log, control socket, netlink, inotify, the workers'
 * event loops, the health and stats listeners), the workers' listeners (a
 * port on an address each), and a margin of an eighth of the limit, at
 * least 64, for the health and stats ports' clients, the control socket's,
 * BGP sessions and listeners, the API server's streams, files read at a
 * reload, and pooled upstream connections beyond one a client.
 */
size_t
gw_auto_max_conns(uint64_t nofile, size_t base_fds, size_t nworkers, size_t nlisteners)
{
	uint64_t margin = nofile / 8, reserve;

	if (nworkers == 0)
		nworkers = 1;
	if (margin < 64)
		margin = 64;
	reserve = base_fds + (uint64_t)nworkers * nlisteners + margin;
	if (nofile <= reserve + 2 * nworkers)
		return 1;
	return (size_t)((nofile - reserve) / (2 * nworkers));
}

static size_t
snap_max_conns(struct gw_ctx *ctx, const struct gw_desired *g, size_t nbind)
{
	int64_t v = ctx->env->cfg->gateway.max_connections;
	struct rlimit rl;
	uint64_t nofile = 1024;
	size_t n;

	if (v >= 0)
		return (size_t)v;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		nofile = rl.rlim_cur == RLIM_INFINITY ? (1u << 20) : (uint64_t)rl.rlim_cur;
	n = gw_auto_max_conns(nofile, ctx->base_fds, ctx->nw, g->nlisteners * (nbind ? nbind : 1));
	if (n != ctx->auto_max_conns)
		log_info("gateway: at most %zu client connections a worker (max_connections auto, "
		    "from RLIMIT_NOFILE %llu and %zu workers)", n, (unsigned long long)nofile, ctx->nw);
	ctx->auto_max_conns = n;
	return n;
}

/*
 * The key sets of the snapshot's RequestAuthentication providers: inline
 * JWKS parsed here, once; jwksUri ones as fetched. A provider left without
 * keys makes every token it sees fail (istiod's fallback for a JWKS it
 * cannot fetch), and a request without a token still passes.
 */
static void jwks_changed(void *);

/* One deployment's providers' key sets into out[]. */
static void
snap_jwks_dep(struct gw_ctx *ctx, const struct gw_reqauthn *ra, struct gw_jwks **out)
{
	char err[256];
	size_t i;

	for (i = 0; ra && i < ra->n; i++) {
		const struct gw_jwt_provider *p = &ra->p[i];
		const char *doc = p->jwks;

		if (p->broken)
			continue;
		if (doc == NULL && p->jwks_uri) {
			int failed = 0;

			/* fetched off the main loop; a new copy makes a new snapshot */
			if (ctx->jwks == NULL)
				ctx->jwks = gw_jwks_fetcher_new(ctx->env->base, jwks_changed, ctx);
			doc = gw_jwks_fetcher_get(ctx->jwks, p->jwks_uri, p->fetch_timeout_ms, &failed);
			if (doc == NULL)
				continue;	/* not fetched (yet): its tokens fail */
		}
		if (doc == NULL)
			continue;
		out[i] = gw_jwks_parse(doc, strlen(doc), err, sizeof(err));
		if (out[i] == NULL)
			log_warnx("gateway: RequestAuthentication %s, issuer %s: jwks: %s; its "
			    "tokens fail", p->policy, p->issuer, err);
	}
}

static void
snap_jwks(struct gw_ctx *ctx, struct gw_snap *s)
{
	size_t d, n = 0;

	s->jwks_off = xcalloc(s->g->ndeps ? s->g->ndeps : 1, sizeof(*s->jwks_off));
	for (d = 0; d < s->g->ndeps; d++) {
		s->jwks_off[d] = n;
		n += s->g->deps[d].reqauthn ? s->g->deps[d].reqauthn->n : 0;
	}
	if (n == 0)
		return;
	s->jwks = xcalloc(n, sizeof(*s->jwks));
	s->njwks = n;
	for (d = 0; d < s->g->ndeps; d++)
		snap_jwks_dep(ctx, s->g->deps[d].reqauthn, s->jwks + s->jwks_off[d]);
}

static struct gw_snap *
snap_new(struct gw_ctx *ctx, struct desired *d, uint64_t gen)
{
	struct gw_snap *s;
	char *err = NULL;
	size_t i, j;

	s = xcalloc(1, sizeof(*s));
	s->refcnt = 1;
	s->gen = gen;
	s->d = desired_ref(d);
	s->g = d->gw;
	s->rx = gw_rx_new(s->g, &err);
	if (s->rx == NULL) {
		log_warnx("gateway: %s; the running routes stay in force", err);
		free(err);
		desired_unref(s->d);
		free(s);
		return NULL;
	}
	s->nworkers = ctx->nw;
	s->nbind = ctx->env->cfg->gateway.nbind;
	s->bind = xcalloc(s->nbind ? s->nbind : 1, sizeof(*s->bind));
	for (i = 0; i < s->nbind; i++)
		s->bind[i] = xstrdup(ctx->env->cfg->gateway.bind[i]);
	s->header_timeout_ms = ctx->env->cfg->gateway.header_timeout_ms;
	s->idle_timeout_ms = ctx->env->cfg->gateway.idle_timeout_ms;
	s->yield_after_us = ctx->env->cfg->gateway.yield_after_ms * 1000;
	s->proxy_protocol = ctx->env->cfg->gateway.proxy_protocol;
	s->max_header_bytes = (uint32_t)ctx->env->cfg->gateway.max_request_headers_kb * 1024;
	s->trusted_hops = (unsigned)ctx->env->cfg->gateway.num_trusted_proxies;
	s->pathnorm = ctx->env->cfg->gateway.path_normalization ?
	    gw_pathnorm_parse(ctx->env->cfg->gateway.path_normalization) : GW_PATHNORM_BASE;
	if (s->pathnorm < 0)
		s->pathnorm = GW_PATHNORM_BASE;
	s->max_conns = snap_max_conns(ctx, s->g, s->nbind);
	s->lb = xcalloc(ctx->nw ? ctx->nw : 1, sizeof(*s->lb));
	/* breakers and outlier state, carried over from the previous snapshot */
	gw_rs_snap_init(ctx, s);
	s->ssl = xcalloc(s->g->nlisteners ? s->g->nlisteners : 1, sizeof(*s->ssl));
	s->tlsl = xcalloc(s->g->nlisteners ? s->g->nlisteners : 1, sizeof(*s->tlsl));
	for (i = 0; i < s->g->nlisteners; i++) {
		const struct gw_listener *l = &s->g->listeners[i];

		if (!l->tls)
			continue;
		s->ssl[i] = xcalloc(l->nchains ? l->nchains : 1, sizeof(**s->ssl));
		s->tlsl[i].s = s;
		s->tlsl[i].li = i;
		for (j = 0; j < l->nchains; j++)
			s->ssl[i][j] = gw_tls_ctx_new(l->chains[j].tls, &s->tlsl[i]);
	}
	/* upstream TLS: the identity's files may have moved with a reload */
	gw_ident_configure(ctx->ident, ctx->env->cfg->gateway.identity.cert,
	    ctx->env->cfg->gateway.identity.key, ctx->env->cfg->gateway.identity.ca);
	gw_uptls_snap_init(&s->up, s->g, ctx->snap ? &ctx->snap->up : NULL);
	snap_jwks(ctx, s);
	return s;
}

/* ---- readiness ---- */

/* Why no deployment can serve (starting, draining), NULL otherwise. */
static const char *
ctx_unready_node(struct gw_ctx *ctx)
{
	uint64_t gen;
	size_t i;
	int draining;

	pthread_mutex_lock(&ctx->mu);
	gen = ctx->gen;
	draining = ctx->draining || ctx->leaving;
	pthread_mutex_unlock(&ctx->mu);
	if (draining)
		return "draining";
	if (gen == 0)
		return "starting";
	/* any snapshot adopted will do: a new one must not flap readiness (and
	 * the VIPs with it) while the workers pick it up */
	for (i = 0; i < ctx->nw; i++)
		if (__atomic_load_n(&ctx->w[i].applied_gen, __ATOMIC_ACQUIRE) == 0)
			return "starting";
	return NULL;
}

/* The deployments with a listener not bound on some worker (GW_DEP_BIT). */
static uint64_t
ctx_unbound(struct gw_ctx *ctx)
{
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < ctx->nw; i++)
		if (__atomic_load_n(&ctx->w[i].bind_errors, __ATOMIC_ACQUIRE) != 0)
			m |= __atomic_load_n(&ctx->w[i].bind_err_deps, __ATOMIC_ACQUIRE);
	return m;
}

static const char *
ctx_unready(struct gw_ctx *ctx)
{
	const char *why = ctx_unready_node(ctx);

	if (why == NULL && ctx_unbound(ctx) != 0)
		return "a listener is not bound";
	return why;
}

static int
ctx_ready(struct gw_ctx *ctx)
{
	return ctx_unready(ctx) == NULL;
}

int
gw_applier_ready(struct applier *a)
{
	return a && strcmp(a->name, "gw") == 0 && ctx_ready(a->ctx);
}

const char *
gw_applier_unready(struct applier *a)
{
	if (a == NULL || strcmp(a->name, "gw") != 0)
		return "no gateway";
	return ctx_unready(a->ctx);
}

/*
 * The names of the deployments whose bit is in mask, by the newest
 * snapshot (the one a reload just made may not be every worker's yet: the
 * workers poke again once they run it), into ctx->unbound.
 */
static void
unbound_names(struct gw_ctx *ctx, uint64_t mask)
{
	size_t i;

	for (i = 0; i < ctx->nunbound; i++)
		free(ctx->unbound[i]);
	ctx->nunbound = 0;
	if (mask == 0)
		return;
	pthread_mutex_lock(&ctx->mu);
	for (i = 0; ctx->snap && ctx->snap->g && i < ctx->snap->g->ndeps; i++) {
		if ((mask & GW_DEP_BIT(i)) == 0)
			continue;
		ctx->unbound = xreallocarray(ctx->unbound, ctx->nunbound + 1, sizeof(char *));
		ctx->unbound[ctx->nunbound++] = xstrdup(ctx->snap->g->deps[i].name);
	}
	pthread_mutex_unlock(&ctx->mu);
}

const char *
gw_applier_unbound(struct applier *a, const char *const **names, size_t *n)
{
	struct gw_ctx *ctx;
	const char *why;

	*names = NULL;
	*n = 0;
	if (a == NULL || strcmp(a->name, "gw") != 0)
		return "no gateway";
	ctx = a->ctx;
	if ((why = ctx_unready_node(ctx)) != NULL)
		return why;
	unbound_names(ctx, ctx_unbound(ctx));
	*names = (const char *const *)ctx->unbound;
	*n = ctx->nunbound;
	return NULL;
}

static void
main_poked(evutil_socket_t fd, short ev, void *arg)
{
	struct gw_ctx *ctx = arg;
	const char *why;
	uint64_t v, unbound;
	int r;

	(void)!read(fd, &v, sizeof(v));
	why = ctx_unready(ctx);
	unbound = ctx_unready_node(ctx) == NULL ? ctx_unbound(ctx) : 0;
	r = why == NULL;
	if (r != ctx->ready_reported)
		log_info("gateway: %s%s", r ? "ready: every listener is bound" : "not ready: ",
		    r ? "" : why);
	/* the reason shows in vipgatectl services, and so does which
	 * deployment has a listener not bound: a change reconciles too */
	if (r != ctx->ready_reported || why != ctx->why_reported ||
	    unbound != ctx->unbound_reported) {
		ctx->ready_reported = r;
		ctx->why_reported = why;
		ctx->unbound_reported = unbound;
		if (ctx->env->kick)
			ctx->env->kick(ctx->env->kick_arg);
	}
}

/* ---- admin ports ---- */

static void
health_cb(struct evhttp_request *req, void *arg)
{
	struct gw_ctx *ctx = arg;
	struct evbuffer *b = evbuffer_new();
	int ok = ctx_ready(ctx);

	evbuffer_add_printf(b, "%s\n", ok ? "ready" : "not ready");
	evhttp_add_header(evhttp_request_get_output_headers(req), "content-type", "text/plain");
	evhttp_send_reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", b);
	evbuffer_free(b);
}

static void
stats_cb(struct evhttp_request *req, void *arg)
{
	struct gw_ctx *ctx = arg;
	struct evbuffer *b = evbuffer_new();
	struct vg_buf out = { 0 };

	gw_stats_render(ctx, &out);
	vg_lguard_metrics(&out);	/* control socket, these ports, BGP */
	/* the other modules' metrics (bgp, l2) join ours, as istio-agent
	 * merges Envoy's and the app's on 15020 */
	if (ctx->env->appliers) {
		size_t i;

		for (i = 0; i < *ctx->env->nappliers; i++) {
			struct applier *a = ctx->env->appliers[i];

			if (a != &ctx->ap && a->metrics)
				a->metrics(a, &out);
		}
	}
	if (out.len)
		evbuffer_add(b, out.s, out.len);
	buf_free(&out);
	evhttp_add_header(evhttp_request_get_output_headers(req), "content-type",
	    "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
notfound_cb(struct evhttp_request *req, void *arg)
{
	evhttp_send_error(req, 404, NULL);
}

/* Every connection the health and stats ports accept: an accept() succeeded
 * (accept.h); NULL lets evhttp make its bufferevent as usual. */
static struct bufferevent *
admin_accepted(struct event_base *base, void *arg)
{
	(void)base;
	vg_lguard_ok(arg);
	return NULL;
}

static int
admin_listen(struct event_base *base, struct evhttp *http, const char *addr, uint16_t port,
    const char *name)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	int len = sizeof(ss), one = 1;
	char spec[128];
	evutil_socket_t fd;

	snprintf(spec, sizeof(spec), strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	/* vipgated -x: the predecessor's socket, if it had one here (lsock.h) */
	if ((fd = lsock_take("admin", addr, port)) >= 0)
		goto bound;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)len) == -1 || listen(fd, 128) == -1) {
		log_warn("gateway: listen on %s", spec);
		close(fd);
		return -1;
	}
bound:
	if ((bs = evhttp_accept_socket_with_handle(http, fd)) == NULL) {
		close(fd);
		return -1;
	}
	lsock_register("admin", addr, port, fd);
	/* out of descriptors, the port pauses and answers again as soon as
	 * some are free, rather than spinning on accept() */
	vg_lguard_add(base, evhttp_bound_socket_get_listener(bs), http, name);
	return 0;
}

static struct evhttp *
admin_server(struct gw_ctx *ctx, uint16_t port, const char *path, const char *name,
    void (*cb)(struct evhttp_request *, void *))
{
	const struct config *cfg = ctx->env->cfg;
	struct evhttp *http;
	size_t i;
	int ok = 0;

	if (port == 0)
		return NULL;
	http = evhttp_new(ctx->env->base);
	evhttp_set_cb(http, path, cb, ctx);
	evhttp_set_gencb(http, notfound_cb, ctx);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_bevcb(http, admin_accepted, http);
	for (i = 0; i < cfg->gateway.nbind; i++)
		if (admin_listen(ctx->env->base, http, cfg->gateway.bind[i], port, name) == 0)
			ok++;
	if (!ok) {
		vg_lguard_drop(http);
		evhttp_free(http);
		return NULL;
	}
	return http;
}

/* ---- the applier ---- */

static void
publish(struct gw_ctx *ctx, struct gw_snap *s)
{
	struct gw_snap *old;
	size_t i;

	pthread_mutex_lock(&ctx->mu);
	old = ctx->snap;
	ctx->snap = s;
	ctx->gen++;
	pthread_mutex_unlock(&ctx->mu);
	if (old)
		gw_snap_unref(old);
	for (i = 0; i < ctx->nw; i++)
		gw_worker_poke(&ctx->w[i]);
}

/*
 * Security objects that lost or changed something when compiled (a rule
 * dropped, a policy denying everything): logged once, when they appear,
 * beside what analyze shows.
 */
static void
log_security_notes(const struct gw_desired *prev, const struct gw_desired *g)
{
	size_t i, j;

	for (i = 0; i < g->nnotes; i++) {
		const struct gw_note *n = &g->notes[i];
		int seen = 0;

		if (strcmp(n->kind, "AuthorizationPolicy") != 0 &&
		    strcmp(n->kind, "RequestAuthentication") != 0)
			continue;
		for (j = 0; prev && j < prev->nnotes && !seen; j++)
			seen = strcmp(prev->notes[j].name, n->name) == 0 &&
			    strcmp(prev->notes[j].ns, n->ns) == 0 &&
			    strcmp(prev->notes[j].msg, n->msg) == 0;
		if (!seen)
			log_warnx("gateway: %s %s/%s: %s", n->kind, n->ns, n->name, n->msg);
	}
}

/*
 * With several deployments, which of them cannot serve on this node (its
 * Services' VIPs withdrawn from here, the others' kept), when that changes.
 */
static void
log_deps(const struct desired *old, const struct desired *new)
{
	size_t i, j;

	/* none can serve (starting, draining): "gateway: not ready" says why */
	if (new == NULL || new->gateway_down)
		return;
	if (old && old->gateway_down)
		old = NULL;
	for (i = 0; new->ngateway_deps > 1 && i < new->ngateway_deps; i++) {
		const struct gw_dep_state *n = &new->gateway_deps[i];
		const char *was = NULL;

		for (j = 0; old && j < old->ngateway_deps; j++)
			if (strcmp(old->gateway_deps[j].name, n->name) == 0)
				was = old->gateway_deps[j].why;
		if (n->why && !str_eq(n->why, was))
			log_warnx("gateway: deployment %s cannot serve: %s: its Services' VIPs "
			    "are withdrawn from this node", n->name, n->why);
		else if (n->why == NULL && was)
			log_info("gateway: deployment %s serves again", n->name);
	}
}

static int
gw_apply(struct applier *a, const struct desired *old, const struct desired *new)
{
	struct gw_ctx *ctx = a->ctx;
	struct gw_snap *s = NULL;

	log_deps(old, new);
	if (new && new->gw) {
		pthread_mutex_lock(&ctx->mu);
		s = snap_new(ctx, (struct desired *)new, ctx->gen + 1);
		pthread_mutex_unlock(&ctx->mu);
		if (s == NULL)
			return -1;
		log_debug("gateway: snapshot with %zu listeners, %zu clusters",
		    new->gw->nlisteners, new->gw->nclusters);
		log_security_notes(old ? old->gw : NULL, new->gw);
	}
	publish(ctx, s);
	return 0;
}

/*
 * The files a DestinationRule's tls names: Istio's agent watches them and
 * pushes a changed one to Envoy as a new secret. Here a change makes a new
 * snapshot from the same desired state (new connections use the new
 * material; breakers and outlier state carry over as on any reload).
 */
#define GW_FILES_CHECK_MS	2000

/* The newest snapshot, referenced; NULL while there is none or the gateway drains. */
static struct gw_snap *
snap_current(struct gw_ctx *ctx)
{
	struct gw_snap *cur;

	pthread_mutex_lock(&ctx->mu);
	cur = ctx->snap && !ctx->draining ? gw_snap_ref(ctx->snap) : NULL;
	pthread_mutex_unlock(&ctx->mu);
	return cur;
}

/* The same desired state in a new snapshot (files or keys it reads changed). */
static void
snap_remake(struct gw_ctx *ctx, const struct gw_snap *cur)
{
	struct gw_snap *s;

	pthread_mutex_lock(&ctx->mu);
	s = snap_new(ctx, cur->d, ctx->gen + 1);
	pthread_mutex_unlock(&ctx->mu);
	if (s)
		publish(ctx, s);
}

/* A jwksUri's keys changed (first fetched, rotated, or lost). */
static void
jwks_changed(void *arg)
{
	struct gw_ctx *ctx = arg;
	struct gw_snap *cur = snap_current(ctx);

	if (cur == NULL)
		return;
	log_info("gateway: a jwksUri's keys changed: snapshot made again");
	snap_remake(ctx, cur);
	gw_snap_unref(cur);
}

/* The snapshot's jwksUri stay wanted: the fetcher forgets those nobody asks for. */
static void
jwks_touch(struct gw_ctx *ctx, const struct gw_snap *s)
{
	size_t d, i;
	int failed;

	for (d = 0; d < s->g->ndeps; d++) {
		const struct gw_reqauthn *ra = s->g->deps[d].reqauthn;

		for (i = 0; ctx->jwks && ra && i < ra->n; i++)
			if (ra->p[i].jwks_uri && !ra->p[i].broken && ra->p[i].jwks == NULL)
				(void)gw_jwks_fetcher_get(ctx->jwks, ra->p[i].jwks_uri,
				    ra->p[i].fetch_timeout_ms, &failed);
	}
}

static void
files_check(evutil_socket_t fd, short what, void *arg)
{
	struct gw_ctx *ctx = arg;
	struct gw_snap *cur = snap_current(ctx);
	const char *which = NULL;

	(void)fd;
	(void)what;
	if (cur == NULL)
		return;
	jwks_touch(ctx, cur);
	if (gw_uptls_snap_files_changed(&cur->up, &which)) {
		log_info("gateway: %s changed: upstream TLS contexts made again", which);
		snap_remake(ctx, cur);
	}
	gw_snap_unref(cur);
}

/* Downstream connections still open, tunnels included. */
static size_t
gw_inflight(struct applier *a)
{
	struct gw_ctx *ctx = a->ctx;
	size_t i, n = 0;

	for (i = 0; i < ctx->nw; i++)
		n += __atomic_load_n(&ctx->w[i].nconns, __ATOMIC_RELAXED);
	return n;
}

/*
 * Drain, first step: readiness turns 503 and keep-alive clients are sent
 * away (Connection: close, GOAWAY), while the listeners still take what
 * the routers send here until they have moved the traffic (drain.h).
 */
static int
gw_leave(struct applier *a)
{
	struct gw_ctx *ctx = a->ctx;
	size_t i;

	pthread_mutex_lock(&ctx->mu);
	ctx->leaving = 1;
	pthread_mutex_unlock(&ctx->mu);
	for (i = 0; i < ctx->nw; i++)
		gw_worker_poke(&ctx->w[i]);
	log_info("gateway: leaving: not ready, keep-alive connections told to close");
	return 0;
}

static int64_t
gw_drain(struct applier *a)
{
	struct gw_ctx *ctx = a->ctx;
	size_t i, busy = 0;

	pthread_mutex_lock(&ctx->mu);
	ctx->draining = 1;
	pthread_mutex_unlock(&ctx->mu);
	for (i = 0; i < ctx->nw; i++) {
		gw_worker_poke(&ctx->w[i]);
		busy += __atomic_load_n(&ctx->w[i].inflight, __ATOMIC_RELAXED);
	}
	log_info("gateway: draining: listeners close, %zu requests in flight", busy);
	/* in-flight requests finish up to drain_timeout (the daemon caps the wait) */
	return busy ? ctx->env->cfg->gateway.drain_timeout_ms : 0;
}

/*
 * An upgrade: the new process accepts on the same sockets. The workers
 * close theirs (the new process holds them open: what waits in their
 * queues is its) and send keep-alive clients away as a drain's leave does;
 * the health and stats ports stop answering here, so that a probe never
 * meets this process's 503.
 */
static void
gw_handoff(struct applier *a)
{
	struct gw_ctx *ctx = a->ctx;
	size_t i;

	pthread_mutex_lock(&ctx->mu);
	ctx->leaving = 1;
	ctx->handed = 1;
	pthread_mutex_unlock(&ctx->mu);
	for (i = 0; i < ctx->nw; i++)
		gw_worker_poke(&ctx->w[i]);
	log_info("gateway: handed over: listeners closed here, keep-alive connections "
	    "told to close");
	if (ctx->health) {
		vg_lguard_drop(ctx->health);
		evhttp_free(ctx->health);
		ctx->health = NULL;
	}
	if (ctx->stats) {
		vg_lguard_drop(ctx->stats);
		evhttp_free(ctx->stats);
		ctx->stats = NULL;
	}
}

static void
gw_metrics(struct applier *a, struct vg_buf *out)
{
	(void)a;
	(void)out;	/* ours are served on the stats port itself */
}

static json_t *
strm_json(const struct gw_strmatch *m)
{
	static const char *const t[] = { "any", "present", "exact", "prefix", "regex" };

	return json_pack("{s:s,s:s?,s:b}", "type", t[m->type], "value", m->value,
	    "ignore_case", m->icase);
}

/* One compiled policy for vipgatectl gateway policies. */
static json_t *
policy_json(const struct gw_az_policy *p, const char *action, const char *dep)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "name", p->name, "deployment", dep,
	    "action", action, "rules", (json_int_t)p->nrules, "servers",
	    "all of its deployment (its labels select the policy)", "effect", p->match_all ? "denies every request (could not be read: see analyze)" :
	    p->nrules == 0 ? (p->action == GW_AZ_ALLOW ? "allows nothing" : "matches nothing") :
	    p->action == GW_AZ_AUDIT ? "audit only" : "-");
}

/*
 * The AuthorizationPolicies that apply to each gateway deployment, in the
 * order they are evaluated (DENY, then ALLOW); they apply to every server
 * of it, as Istio applies a workload's policies to all its listeners.
 */
static json_t *
show_policies(const struct gw_desired *g)
{
	json_t *arr = json_array(), *o;
	struct vg_buf def = { 0 };
	size_t d, i;

	for (d = 0; g && d < g->ndeps; d++) {
		const struct gw_authz *az = g->deps[d].authz;
		const char *dn = g->deps[d].name;

		for (i = 0; az && i < az->ndeny; i++)
			json_array_append_new(arr, policy_json(&az->deny[i], "DENY", dn));
		for (i = 0; az && i < az->nallow; i++)
			json_array_append_new(arr, policy_json(&az->allow[i], "ALLOW", dn));
		for (i = 0; az && i < az->naudit; i++)
			json_array_append_new(arr, policy_json(&az->audit[i], "AUDIT", dn));
		if (g->ndeps > 1)
			buf_printf(&def, "%s%s: ", d ? "; " : "", dn);
		buf_puts(&def, az == NULL ? "no policy applies: every request is allowed" :
		    az->enforce_allow ?
		    "an ALLOW policy applies: a request no ALLOW policy matches is denied" :
		    "no ALLOW policy: a request no DENY policy matches is allowed");
	}
	o = json_pack("{s:o,s:s}", "policies", arr, "default", def.s ? def.s : "");
	buf_free(&def);
	return o;
}

static json_t *
show_routes(const struct gw_desired *g)
{
	json_t *arr = json_array();
	size_t i, j, k, r, m, x;

	for (i = 0; g && i < g->nlisteners; i++)
		for (j = 0; j < g->listeners[i].nchains; j++) {
			const struct gw_chain *c = &g->listeners[i].chains[j];

			for (k = 0; k < c->nvhosts; k++) {
				const struct gw_vhost *v = &c->vhosts[k];

				for (r = 0; r < v->nroutes; r++) {
					const struct gw_route *rt = &v->routes[r];
					json_t *ms = json_array(), *ds = json_array();
					static const char *const act[] = { "route", "redirect", "direct_response" };

					for (m = 0; m < rt->nmatches; m++) {
						json_t *o = json_object();
						const struct gw_match *mm = &rt->matches[m];

						if (mm->uri.type)
							json_object_set_new(o, "uri", strm_json(&mm->uri));
						if (mm->method.type)
							json_object_set_new(o, "method", strm_json(&mm->method));
						for (x = 0; x < mm->nheaders; x++)
							json_object_set_new(o, mm->headers[x].name, strm_json(&mm->headers[x].m));
						if (mm->port)
							json_object_set_new(o, "port", json_integer(mm->port));
						json_array_append_new(ms, o);
					}
					for (x = 0; x < rt->ndests; x++)
						json_array_append_new(ds, json_pack("{s:s,s:i}", "cluster",
						    rt->dests[x].cluster->name, "weight", (int)rt->dests[x].weight));
					json_array_append_new(arr, json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:o,s:o}",
					    "port", g->listeners[i].port, "deployment",
					    g->deps[g->listeners[i].dep].name, "route_config", c->name,
					    "virtual_host", v->name, "virtual_service",
					    rt->vs_name, "rule", (int)rt->rule, "action", act[rt->action],
					    "match", ms, "destinations", ds));
				}
			}
		}
	gw_l4_show_routes(g, arr);	/* tcp and tls rules */
	return json_pack("{s:o}", "routes", arr);
}

static json_t *
show_clusters(const struct gw_snap *s)
{
	const struct gw_desired *g = s ? s->g : NULL;
	json_t *arr = json_array();
	static const char *const lb[] = { "LEAST_REQUEST", "ROUND_ROBIN", "RANDOM", "RING_HASH",
		"MAGLEV", "PASSTHROUGH" };
	size_t i, j;

	for (i = 0; g && i < g->nclusters; i++) {
		const struct gw_cluster *c = g->clusters[i];
		json_t *eps = json_array();

		struct gw_cl_rt *cl = s->crt[i];
		json_t *cj;

		/* Envoy's /clusters: health_flags, num ejections, cx_active, rq_active */
		pthread_mutex_lock(&cl->mu);
		for (j = 0; j < c->neps; j++) {
			const struct gw_ep_rt *e = s->ert[i][j];
			int ej = !e->removed && e->od.ejected;

			struct gw_uptls_pick pk;

			/* what a connection to it speaks (auto mTLS differs per endpoint) */
			gw_uptls_pick(c, &c->eps[j], NULL, 0, &pk);
			json_array_append_new(eps, json_pack("{s:s,s:i,s:i,s:s?,s:s,s:b,s:i,s:i,s:i,s:i,s:i,s:i,s:s}",
			    "address", c->eps[j].ip, "port", c->eps[j].port, "weight", (int)c->eps[j].weight,
			    "node", c->eps[j].node, "health", ej ? "/failed_outlier_check" : "healthy",
			    "ejected", ej, "num_ejections", (int)e->od.num_ejections,
			    "consecutive_5xx", (int)e->od.c5xx, "consecutive_gateway_errors", (int)e->od.cgw,
			    "consecutive_local_origin_failures", (int)e->od.cloc,
			    "cx_active", (int)__atomic_load_n(&e->cx_active, __ATOMIC_RELAXED),
			    "rq_active", (int)__atomic_load_n(&e->rq_active, __ATOMIC_RELAXED),
			    "tls", gw_uptls_mode_name(pk.mode)));
		}
		cj = json_pack("{s:s,s:s,s:i,s:s?,s:s,s:s,s:s?,s:o}",
		    "name", c->name, "host", c->host, "port", c->port, "subset", c->subset,
		    "lb", lb[c->lb], "tls", c->tls ? gw_uptls_mode_name(c->tls->mode) : "AUTO",
		    "missing", c->missing, "endpoints", eps);
		/* as Envoy's /clusters shows them: unset is Istio's 2^32-1 */
#define LIM(x) ((json_int_t)((x) > 0 ? (x) : 4294967295LL))
		json_object_set_new(cj, "circuit_breakers", json_pack("{s:I,s:I,s:I,s:I}",
		    "max_connections", LIM(c->max_connections), "max_pending_requests",
		    LIM(c->max_pending), "max_requests", LIM(c->max_requests),
		    "max_retries", LIM(c->max_retries)));
#undef LIM
		json_object_set_new(cj, "stats", json_pack("{s:i,s:i,s:i,s:i,s:I,s:I,s:I}",
		    "cx_active", (int)__atomic_load_n(&cl->cx_active, __ATOMIC_RELAXED),
		    "rq_active", (int)__atomic_load_n(&cl->rq_attached, __ATOMIC_RELAXED),
		    "rq_pending_active", (int)__atomic_load_n(&cl->rq_pending, __ATOMIC_RELAXED),
		    "retries_active", (int)__atomic_load_n(&cl->retries_active, __ATOMIC_RELAXED),
		    "rq_pending_overflow", (json_int_t)__atomic_load_n(&cl->rq_pending_overflow, __ATOMIC_RELAXED),
		    "cx_overflow", (json_int_t)__atomic_load_n(&cl->cx_overflow, __ATOMIC_RELAXED),
		    "retry_overflow", (json_int_t)__atomic_load_n(&cl->retry_overflow, __ATOMIC_RELAXED)));
		if (c->outlier.enabled)
			json_object_set_new(cj, "outlier_detection", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}",
			    "ejections_active", (json_int_t)cl->od.st.active,
			    "ejections_enforced_total", (json_int_t)cl->od.st.enforced_total,
			    "ejections_overflow", (json_int_t)cl->od.st.overflow,
			    "ejections_detected_consecutive_5xx", (json_int_t)cl->od.st.detected_5xx,
			    "ejections_detected_consecutive_gateway_failure", (json_int_t)cl->od.st.detected_gw,
			    "ejections_detected_consecutive_local_origin_failure",
			    (json_int_t)cl->od.st.detected_local));
		pthread_mutex_unlock(&cl->mu);
		json_array_append_new(arr, cj);
	}
	return json_pack("{s:o}", "clusters", arr);
}

static const char *
iso_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* Where a listener listens: its own addresses, else gateway.bind. */
static json_t *
listener_addrs_json(const struct gw_ctx *ctx, const struct gw_listener *l)
{
	const struct cfg_gateway *cg = &ctx->env->cfg->gateway;
	json_t *a = json_array();
	size_t i;

	if (l->addrs)
		for (i = 0; i < l->naddrs; i++)
			json_array_append_new(a, json_string(l->addrs[i]));
	else
		for (i = 0; i < cg->nbind; i++)
			json_array_append_new(a, json_string(cg->bind[i]));
	return a;
}

static json_t *
show_listeners(struct gw_ctx *ctx, const struct gw_desired *g)
{
	json_t *arr = json_array();
	size_t i, j, k;
	char ts[32];

	for (i = 0; g && i < g->nlisteners; i++) {
		const struct gw_listener *l = &g->listeners[i];
		json_t *chains = json_array();

		for (j = 0; j < l->nchains; j++) {
			json_t *sni = json_array();

			const struct gw_tls *t = l->chains[j].tls;
			json_t *cj;

			for (k = 0; k < l->chains[j].nsni; k++)
				json_array_append_new(sni, json_string(l->chains[j].sni[k]));
			cj = json_pack("{s:s,s:o,s:i,s:s?,s:s?}",
			    "route_config", l->chains[j].name, "sni", sni,
			    "virtual_hosts", (int)l->chains[j].nvhosts,
			    "credential", t ? t->credential : NULL,
			    "tls_error", t ? t->error : NULL);
			/* a rejected Secret version: the last good one is served */
			if (t && t->rejected)
				json_object_set_new(cj, "secret_rejected", json_string(t->rejected));
			if (t && t->not_after)
				json_object_set_new(cj, "not_after", json_string(
				    iso_time(t->not_after, ts, sizeof(ts))));
			json_array_append_new(chains, cj);
		}
		if (l->l4) {	/* TCP or TLS passthrough: one tcp_proxy chain */
			json_decref(chains);
			chains = gw_l4_show_chains(l);
		}
		json_array_append_new(arr, json_pack("{s:i,s:s,s:s,s:o,s:o}", "port", l->port,
		    "protocol", l->l4 ? gw_l4_show_protocol(l) : l->tls ? "HTTPS" : "HTTP",
		    "deployment", l->dep < g->ndeps ? g->deps[l->dep].name : "?",
		    "addresses", listener_addrs_json(ctx, l), "chains", chains));
	}
	return json_pack("{s:o,s:b,s:i}", "listeners", arr, "ready", ctx_ready(ctx),
	    "workers", (int)ctx->nw);
}

static json_t *
gw_show(struct applier *a, const struct ctl_request *req, char **err)
{
	struct gw_ctx *ctx = a->ctx;
	struct gw_snap *s;
	json_t *res = NULL;
	const char *what = req->nargs ? req->args[0] : "listeners";

	if (strcmp(req->command, "gateway") != 0 && strcmp(req->command, "analyze") != 0)
		return NULL;
	pthread_mutex_lock(&ctx->mu);
	s = ctx->snap ? gw_snap_ref(ctx->snap) : NULL;
	pthread_mutex_unlock(&ctx->mu);
	if (strcmp(req->command, "analyze") == 0) {
		json_t *arr = json_array();
		size_t i;

		char why[600];

		for (i = 0; s && i < s->g->nnotes; i++)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "kind", s->g->notes[i].kind,
			    "namespace", s->g->notes[i].ns, "name", s->g->notes[i].name,
			    "message", s->g->notes[i].msg));
		/* certificates out of their validity: served all the same, as Envoy does */
		for (i = 0; s && i < s->g->nlisteners; i++)
			for (size_t j = 0; j < s->g->listeners[i].nchains; j++) {
				const struct gw_chain *ch = &s->g->listeners[i].chains[j];
				const struct gw_tls *t = ch->tls;
				time_t now = time(NULL);
				char ts[32];

				if (t == NULL || t->error || t->not_after == 0)
					continue;
				if (t->not_after < (int64_t)now)
					snprintf(why, sizeof(why), "%s: the certificate of Secret %s expired "
					    "at %s; it is served all the same, as Envoy serves it", ch->name,
					    t->credential, iso_time(t->not_after, ts, sizeof(ts)));
				else if (t->not_before > (int64_t)now)
					snprintf(why, sizeof(why), "%s: the certificate of Secret %s is not "
					    "valid before %s; it is served all the same, as Envoy serves it",
					    ch->name, t->credential, iso_time(t->not_before, ts, sizeof(ts)));
				else
					continue;
				json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "kind", "Listener",
				    "namespace", "", "name", ch->name, "message", why));
			}
		/* upstream TLS found broken when the snapshot was made (files) */
		for (i = 0; s && i < s->up.n; i++)
			if (s->up.err[i])
				json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "kind", "Cluster",
				    "namespace", s->g->clusters[i]->svc_ns ? s->g->clusters[i]->svc_ns : "",
				    "name", s->g->clusters[i]->name, "message",
				    s->up.err[i]));
		if (gw_ident_error(ctx->ident, why, sizeof(why)))
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "kind", "Config",
			    "namespace", "", "name", "gateway.identity", "message", why));
		res = json_pack("{s:o}", "messages", arr);
	} else if (strcmp(what, "listeners") == 0)
		res = show_listeners(ctx, s ? s->g : NULL);
	else if (strcmp(what, "routes") == 0)
		res = show_routes(s ? s->g : NULL);
	else if (strcmp(what, "clusters") == 0)
		res = show_clusters(s);
	else if (strcmp(what, "policies") == 0)
		res = show_policies(s ? s->g : NULL);
	else
		xasprintf(err, "gateway: unknown view %.64s (listeners, routes, clusters, policies)",
		    what);
	gw_snap_unref(s);
	return res;
}

static void
gw_free(struct applier *a)
{
	struct gw_ctx *ctx = a->ctx;
	size_t i;

	pthread_mutex_lock(&ctx->mu);
	ctx->stopping = 1;
	pthread_mutex_unlock(&ctx->mu);
	for (i = 0; i < ctx->nw; i++)
		gw_worker_poke(&ctx->w[i]);
	for (i = 0; i < ctx->nw; i++) {
		struct gw_worker *w = &ctx->w[i];

		if (w->base == NULL)
			continue;
		pthread_join(w->th, NULL);
		gw_front_close_all(w);
		gw_l4_close_all(w);
		gw_ppin_close_all(w);
		gw_back_idle_close_all(w);
		gw_stream_pool_free(w);
		gw_mirror_close_all(w);
		gw_uptls_cache_free(w->upcache);
		if (w->jwtcache)
			gw_jwt_cache_free(w->jwtcache);
		gw_rs_worker_free(w);
		for (size_t j = 0; j < w->nlis; j++) {
			if (w->lis[j].l)
				evconnlistener_free(w->lis[j].l);
			free(w->lis[j].addr);
		}
		free(w->lis);
		if (w->snap)
			gw_snap_unref(w->snap);
		event_free(w->ev_notify);
		if (w->ev_acc_retry)
			event_free(w->ev_acc_retry);
		if (w->ev_bind_retry)
			event_free(w->ev_bind_retry);
		close(w->efd);
		event_base_free(w->base);
		gw_stats_free(&w->stats);
	}
	free(ctx->w);
	if (ctx->health) {
		vg_lguard_drop(ctx->health);
		evhttp_free(ctx->health);
	}
	if (ctx->stats) {
		vg_lguard_drop(ctx->stats);
		evhttp_free(ctx->stats);
	}
	if (ctx->ev_main)
		event_free(ctx->ev_main);
	if (ctx->ev_files)
		event_free(ctx->ev_files);
	if (ctx->jwks)
		gw_jwks_fetcher_free(ctx->jwks);
	if (ctx->efd >= 0)
		close(ctx->efd);
	gw_snap_unref(ctx->snap);
	gw_ident_free(ctx->ident);
	gw_rs_ctx_free(ctx);
	unbound_names(ctx, 0);
	free(ctx->unbound);
	pthread_mutex_destroy(&ctx->mu);
	free(ctx->gw_ns);
	if (ctx->alog_fd > STDERR_FILENO)
		close(ctx->alog_fd);
	free(ctx);
}

/*
 * SIGUSR1 after a rotation: the new file takes the old descriptor's number
 * (dup2), so workers writing at that moment never see a closed descriptor.
 */
static void
gw_reopen(struct applier *ap)
{
	struct gw_ctx *ctx = ap->ctx;
	const char *path = ctx->env->cfg->gateway.access_log.path;
	int fd;

	if (ctx->alog_fd <= STDERR_FILENO || strcmp(path, "off") == 0 ||
	    strcmp(path, "-") == 0)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_warn("gateway: reopen access log %s", path);
		return;
	}
	if (dup2(fd, ctx->alog_fd) < 0)
		log_warn("gateway: reopen access log %s", path);
	else
		log_info("gateway: access log %s reopened", path);
	close(fd);
}

/* The CPUs this process may run on, in order; how many (0 when unknown). */
static size_t
allowed_cpus(int *cpus, size_t max)
{
	cpu_set_t set;
	size_t n = 0;
	int c;

	if (sched_getaffinity(0, sizeof(set), &set) == -1)
		return 0;
	for (c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

struct applier *
gw_applier_new(const struct applier_env *env)
{
	const struct config *cfg = env->cfg;
	struct gw_ctx *ctx;
	int cpus[CPU_SETSIZE];
	size_t i, ncpu;
	long n;
	int pin;

	if (!cfg->gateway.enabled)
		return NULL;
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->env = env;
	/* gateway.access_log (Istio's default: off); a new path needs a restart */
	ctx->alog_fd = -1;
	if (strcmp(cfg->gateway.access_log.path, "-") == 0)
		ctx->alog_fd = STDERR_FILENO;
	else if (strcmp(cfg->gateway.access_log.path, "off") != 0) {
		ctx->alog_fd = open(cfg->gateway.access_log.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (ctx->alog_fd < 0)
			log_warn("gateway: access log %s", cfg->gateway.access_log.path);
	}
	ctx->alog_json = strcmp(cfg->gateway.access_log.format, "json") == 0;
	/* workers read it: a copy, since a reload frees the config */
	ctx->gw_ns = xstrdup(cfg->gateway.ns ? cfg->gateway.ns : "istio-system");
	pthread_mutex_init(&ctx->mu, NULL);
	ctx->ident = gw_ident_new();
	ctx->ap.name = "gw";
	ctx->ap.ctx = ctx;
	ctx->ap.apply = gw_apply;
	ctx->ap.free = gw_free;
	ctx->ap.show = gw_show;
	ctx->ap.reopen = gw_reopen;
	ctx->ap.leave = gw_leave;
	ctx->ap.drain = gw_drain;
	ctx->ap.handoff = gw_handoff;
	ctx->ap.inflight = gw_inflight;
	ctx->ap.metrics = gw_metrics;
	ctx->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ctx->efd < 0)
		fatal("eventfd");
	ctx->ev_main = event_new(env->base, ctx->efd, EV_READ | EV_PERSIST, main_poked, ctx);
	event_add(ctx->ev_main, NULL);
	ctx->ev_files = event_new(env->base, -1, EV_PERSIST, files_check, ctx);
	event_add(ctx->ev_files, &(struct timeval){ GW_FILES_CHECK_MS / 1000,
	    (GW_FILES_CHECK_MS % 1000) * 1000 });
	/* "auto" is one worker a CPU this process may run on (a cpuset or
	 * systemd's CPUAffinity= may allow fewer than are online) */
	ncpu = allowed_cpus(cpus, sizeof(cpus) / sizeof(cpus[0]));
	n = cfg->gateway.workers;
	if (n <= 0)
		n = ncpu > 0 ? (long)ncpu : sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	pin = strcmp(cfg->gateway.cpu_affinity, "auto") == 0 && ncpu > 0;
	ctx->nw = (size_t)n;
	ctx->w = xcalloc(ctx->nw, sizeof(*ctx->w));
	for (i = 0; i < ctx->nw; i++) {
		ctx->w[i].ctx = ctx;
		ctx->w[i].id = (int)i;
		ctx->w[i].efd = -1;
		/* as HAProxy's cpu-map auto:1/1-N and nginx's
		 * worker_cpu_affinity auto: worker i on the i-th allowed CPU */
		ctx->w[i].cpu = pin ? cpus[i % ncpu] : -1;
		if (gw_worker_start(&ctx->w[i]) == -1)
			fatal("gateway: cannot start worker %zu", i);
	}
	ctx->health = admin_server(ctx, (uint16_t)cfg->gateway.health_port, "/healthz/ready",
	    "health", health_cb);
	ctx->stats = admin_server(ctx, (uint16_t)cfg->gateway.stats_port, "/stats/prometheus",
	    "stats", stats_cb);
	ctx->base_fds = fds_open();
	log_info("gateway: %zu workers%s; health :%lld, stats :%lld", ctx->nw,
	    pin ? ", each bound to a CPU" : "",
	    (long long)cfg->gateway.health_port, (long long)cfg->gateway.stats_port);
	return &ctx->ap;
}
