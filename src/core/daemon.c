/*
 * The main loop. Every input change marks the store dirty; one reconcile
 * runs on the loop afterwards and each applier applies the difference.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "vipgate/addr.h"
#include "vipgate/bgp.h"
#include "vipgate/ctl.h"
#include "vipgate/gw.h"
#include "vipgate/l2.h"
#include "vipgate/daemon.h"
#include "vipgate/log.h"
#include "vipgate/lsock.h"
#include "vipgate/sdnotify.h"
#include "vipgate/source-kube.h"
#include "vipgate/upgrade.h"

#define DEBOUNCE_MS	100	/* an object gone from the API may uncover a file's */
/*
 * A manifest edit is read as soon as its writer is done (it is served
 * within 30 ms: tests/daemon/manifest-watch.sh). An editor's save is a burst: vim renames the file to a backup,
 * creates it again, writes, closes, sets its mode; an atomic writer closes
 * a temporary file and renames it over. Events that end a write (close
 * after writing, a rename into place, a mode change) load after a short
 * settle, so that the rest of one save joins them; events that may begin
 * a save (a file created, removed or moved away) wait a quiet window for
 * the rest; a manifest created and not yet closed holds the load until it
 * is, up to the bound. Names that are not manifests (swap and backup files,
 * vim's "4913") change nothing read and are ignored.
 */
#define WATCH_SETTLE_MS	3
#define WATCH_QUIET_MS	20
#define DEBOUNCE_MAX_MS	1000	/* from the first event of a burst */
#define LOAD_EXIT_WAIT_MS	500	/* at exit, for a load that is reading */
#define KUBE_GAP_MS	100	/* watch events reconcile at most this often */
#define UPGRADE_POLL_MS	20	/* -x: how often the gateway's readiness is looked at */
#define UPGRADE_READY_MS 15000	/* -x: the new process gives up when not ready by then */

static void reconcile_cb(evutil_socket_t, short, void *);
static void inotify_cb(evutil_socket_t, short, void *);
static void notify_ready(struct daemon *);

void
daemon_log_config(const struct config *cfg, int force_debug)
{
	enum log_level lvl = LOG_LVL_INFO;

	if (strcmp(cfg->log.level, "error") == 0)
		lvl = LOG_LVL_ERROR;
	else if (strcmp(cfg->log.level, "warn") == 0)
		lvl = LOG_LVL_WARN;
	else if (strcmp(cfg->log.level, "debug") == 0)
		lvl = LOG_LVL_DEBUG;
	log_setlevel(force_debug ? LOG_LVL_DEBUG : lvl);
	log_setformat(strcmp(cfg->log.format, "json") == 0 ? LOG_FMT_JSON : LOG_FMT_TEXT);
}

static void
record(struct daemon *d, const char *trigger, enum reload_config config,
    const struct fsrc_result *objects, struct vg_errs *errs)
{
	errs_clear(&d->last.errs);
	d->last.errs = *errs;
	memset(errs, 0, sizeof(*errs));
	d->last.time = time(NULL);
	d->last.trigger = trigger;
	d->last.ok = d->last.errs.nerrors == 0;
	d->last.config = config;
	d->last.objects = *objects;
}

static void
kick(void *arg)
{
	daemon_schedule_reconcile(arg);
}

void
daemon_schedule_reconcile(struct daemon *d)
{
	static const struct timeval now = { 0, 0 };

	/* several triggers before the loop turns make one reconcile */
	if (!evtimer_pending(d->ev_reconcile, NULL))
		evtimer_add(d->ev_reconcile, &now);
}

static void
watch_open_clear(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->watch_open.n; i++)
		free(d->watch_open.v[i]);
	d->watch_open.n = 0;
}

/* Re-point inotify at the directories of objects.paths. */
static void
watch_paths(struct daemon *d)
{
	struct vg_ptrvec dirs = { 0 };
	size_t i;

	if (d->inotify_fd == -1)
		return;
	/* watch descriptors are per inode: re-adding returns the same one,
	 * and a fresh descriptor set is simplest after a path change */
	if (d->ev_inotify) {
		event_free(d->ev_inotify);
		d->ev_inotify = NULL;
	}
	close(d->inotify_fd);
	watch_open_clear(d);	/* keyed by the old descriptors' watches */
	d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->inotify_fd == -1) {
		log_warn("inotify_init1: manifests are re-read on SIGHUP only");
		return;
	}
	fsrc_watch_dirs(d->cfg->objects.paths, d->cfg->objects.npaths, &dirs);
	for (i = 0; i < dirs.n; i++) {
		if (inotify_add_watch(d->inotify_fd, dirs.v[i], IN_CLOSE_WRITE | IN_MODIFY |
		    IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |
		    IN_DELETE_SELF | IN_MOVE_SELF) == -1)
			log_warn("cannot watch %s", (char *)dirs.v[i]);
		free(dirs.v[i]);
	}
	ptrvec_free(&dirs);
	d->ev_inotify = event_new(d->base, d->inotify_fd, EV_READ | EV_PERSIST,
	    inotify_cb, d);
	event_add(d->ev_inotify, NULL);
}

static int load_start(struct daemon *, const char *trigger, int reload_config,
    int threaded);

/* What the load thread has: nothing of the daemon's but these. */
struct load_job {
	struct fsrc_load	*load;
	int			 done_fd;
};

static void *
load_thread(void *arg)
{
	struct load_job *job = arg;
	char c = 1;

	fsrc_load_run(job->load);
	while (write(job->done_fd, &c, 1) == -1 && errno == EINTR)
		;
	free(job);
	return NULL;
}

/* The load is read and parsed: the store takes it (main loop). */
static void
load_finish(struct daemon *d)
{
	struct fsrc_result res;
	struct vg_errs errs = d->load_errs;
	const char *trigger = d->load_trigger;
	enum reload_config config = d->load_config;
	int64_t t0 = now_ms();

	memset(&d->load_errs, 0, sizeof(d->load_errs));
	(void)fsrc_load_apply(d->fsrc, d->load, &errs, &res);
	d->load = NULL;
	log_debug("manifests: %zu objects, %zu changes, %zu errors, %lld ms in the store",
	    store_count(d->store), res.changes, errs.nerrors, (long long)(now_ms() - t0));
	errs_log(&errs);
	record(d, trigger, config, &res, &errs);
	if (strcmp(trigger, "startup") == 0)
		return;		/* daemon_init reconciles */
	if (config != RELOAD_CONFIG_NOT_READ)
		log_info("reload (%s): %s: %zu errors", trigger,
		    strcmp(reload_applied(&d->last), "all") == 0 ? "ok" :
		    strcmp(reload_applied(&d->last), "part") == 0 ? "applied in part" :
		    "nothing applied", d->last.errs.nerrors);
	/* a reload always reconciles: node labels or gateway settings may differ */
	if (res.changes || config != RELOAD_CONFIG_NOT_READ)
		daemon_schedule_reconcile(d);
	if (config != RELOAD_CONFIG_NOT_READ)
		notify_ready(d);
}

/* READY=1 with a STATUS= line systemctl status shows. */
static void
notify_ready(struct daemon *d)
{
	const char *applied = reload_applied(&d->last);

	/* a successor speaks to systemd once it is the unit's main process */
	if (d->upgrade)
		return;

	sdn_send("READY=1\nSTATUS=%zu objects, %zu LoadBalancer services; "
	    "last reload (%s): %s", store_count(d->store), d->cur->nsvcs,
	    d->last.trigger ? d->last.trigger : "startup",
	    strcmp(applied, "all") == 0 ? "ok" : strcmp(applied, "part") == 0 ?
	    "applied in part" : "nothing applied");
}

static void
load_done_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct daemon *d = arg;
	char buf[16];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (d->load == NULL)
		return;
	pthread_join(d->load_thread, NULL);
	load_finish(d);
	ctlsrv_answer_waiters(d, &d->waiters);
	if (d->pending) {
		int reload = d->pending_config;

		ctlsrv_promote_waiters(d);
		d->pending = d->pending_config = 0;
		load_start(d, d->pending_trigger, reload, 1);
	}
}

/* Re-read the main config; its errors wait in d->load_errs for the load's. */
static void
reload_config(struct daemon *d)
{
	struct config *ncfg;

	ncfg = config_load(d->cfg_path, &d->load_errs);
	if (ncfg == NULL) {
		errs_add(&d->load_errs, ERR_ERROR, d->cfg_path, 0, 0,
		    "invalid configuration; the running one stays in force");
		d->load_config = RELOAD_CONFIG_KEPT;
		return;
	}
	if (!str_eq(ncfg->control.socket, d->cfg->control.socket))
		log_warnx("control.socket changes at the next restart");
	if (!str_eq(ncfg->state_dir, d->cfg->state_dir))
		log_warnx("state_dir changes at the next restart");
	if (!str_eq(ncfg->user, d->cfg->user) || !str_eq(ncfg->group, d->cfg->group))
		log_warnx("user and group change at the next restart");
	if (ncfg->kubernetes.present != d->cfg->kubernetes.present ||
	    ncfg->kubernetes.in_cluster != d->cfg->kubernetes.in_cluster ||
	    !str_eq(ncfg->kubernetes.kubeconfig, d->cfg->kubernetes.kubeconfig))
		log_warnx("kubernetes changes at the next restart");
	if (!str_eq(ncfg->addresses.interface, d->cfg->addresses.interface))
		log_warnx("addresses.interface changes at the next restart");
	if (!str_eq(ncfg->addresses.mode, d->cfg->addresses.mode))
		log_warnx("addresses.mode changes at the next restart");
	if (ncfg->gateway.workers != d->cfg->gateway.workers)
		log_warnx("gateway.workers changes at the next restart");
	if (!str_eq(ncfg->gateway.cpu_affinity, d->cfg->gateway.cpu_affinity))
		log_warnx("gateway.cpu_affinity changes at the next restart");
	config_free(d->cfg);
	d->cfg = ncfg;
	d->env.cfg = ncfg;
	d->config_generation++;
	daemon_log_config(d->cfg, d->debug);
	watch_paths(d);
	d->load_config = RELOAD_CONFIG_APPLIED;
}

/*
 * Start a load of every manifest (and first the main config when asked);
 * threaded, it ends in load_done_cb (returns 0), else before this returns
 * (returns 2).
 */
static int
load_start(struct daemon *d, const char *trigger, int reload, int threaded)
{
	struct load_job *job;
	sigset_t all, old;
	int r;

	d->load_trigger = trigger;
	d->load_config = RELOAD_CONFIG_NOT_READ;
	if (reload)
		reload_config(d);
	d->load = fsrc_load_new(d->fsrc, d->cfg->objects.paths, d->cfg->objects.npaths);
	if (threaded && d->ev_load != NULL) {
		/* signals stay with the main thread */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		job = xcalloc(1, sizeof(*job));
		job->load = d->load;
		job->done_fd = d->load_pipe[1];
		r = pthread_create(&d->load_thread, NULL, load_thread, job);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (r == 0)
			return 0;
		free(job);
		errno = r;
		log_warn("no thread to read manifests: read on the main loop");
	}
	fsrc_load_run(d->load);
	load_finish(d);
	ctlsrv_answer_waiters(d, &d->waiters);
	return 2;
}

/*
 * Ask for a load; returns 0 when it runs, 1 when it waits for the one that
 * runs, 2 when it is done already (no thread).
 */
static int
load_request(struct daemon *d, const char *trigger, int reload)
{
	if (d->load != NULL) {
		/* the next one reads what changed since this one listed */
		if (!d->pending || reload)
			d->pending_trigger = trigger;
		d->pending = 1;
		d->pending_config |= reload;
		return 1;
	}
	return load_start(d, trigger, reload, 1);
}

static void
debounce_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct daemon *d = arg;

	d->debounce_first = 0;
	watch_open_clear(d);
	(void)load_request(d, "inotify", 0);
}

/* Whether an entry of a watched directory is read: a manifest, a
 * directory, or a file objects.paths names itself. */
static int
watched_name(const struct daemon *d, const struct inotify_event *ev)
{
	size_t i, n;
	const char *p, *base;

	if (ev->len == 0 || ev->name[0] == '\0' || (ev->mask & IN_ISDIR))
		return 1;
	if (fsrc_is_manifest_name(ev->name))
		return 1;
	for (i = 0; i < d->cfg->objects.npaths; i++) {
		p = d->cfg->objects.paths[i];
		base = strrchr(p, '/');
		base = base ? base + 1 : p;
		n = strlen(base);
		if (n > 0 && strcmp(base, ev->name) == 0)
			return 1;
	}
	return 0;
}

/* The manifest an event names is open for writing (created, modified) or no more. */
static void
watch_open_mark(struct daemon *d, const struct inotify_event *ev, int open)
{
	char *key;
	size_t i;

	xasprintf(&key, "%d/%s", ev->wd, ev->name);
	for (i = 0; i < d->watch_open.n; i++)
		if (strcmp(d->watch_open.v[i], key) == 0)
			break;
	if (open && i == d->watch_open.n) {
		ptrvec_push(&d->watch_open, key);
		return;
	}
	if (!open && i < d->watch_open.n) {
		free(d->watch_open.v[i]);
		d->watch_open.v[i] = d->watch_open.v[--d->watch_open.n];
	}
	free(key);
}

static void
inotify_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct daemon *d = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	struct timeval tv;
	int64_t now, wait = -1;
	ssize_t n, off;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (off = 0; off + (ssize_t)sizeof(*ie) <= n;
		    off += (ssize_t)sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)(buf + off);
			if (ie->mask & IN_Q_OVERFLOW) {
				/* events were lost: whatever was open may be closed */
				watch_open_clear(d);
				wait = WATCH_QUIET_MS;
				continue;
			}
			if (ie->mask & IN_IGNORED || !watched_name(d, ie))
				continue;
			/* created, or rewritten in place (truncated, written):
			 * open until its close, and a load waits for that */
			if ((ie->mask & (IN_CREATE | IN_MODIFY)) && !(ie->mask & IN_ISDIR))
				watch_open_mark(d, ie, 1);
			else if (ie->len > 0)
				watch_open_mark(d, ie, 0);
			wait = ie->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB) ?
			    WATCH_SETTLE_MS : WATCH_QUIET_MS;
		}
	if (wait < 0)
		return;		/* nothing a load would read */
	now = now_ms();
	if (d->debounce_first == 0)
		d->debounce_first = now;
	/* a file still being written holds the load, up to the bound */
	if (d->watch_open.n > 0 || now + wait > d->debounce_first + DEBOUNCE_MAX_MS)
		wait = d->debounce_first + DEBOUNCE_MAX_MS - now;
	if (wait < 0)
		wait = 0;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(d->ev_debounce, &tv);
}

static void
log_changes(const struct desired *old, const struct desired *new)
{
	size_t i;
	char b1[IPADDR_STRLEN], b2[IPADDR_STRLEN];

	for (i = 0; i < new->nsvcs; i++) {
		const struct svc_state *s = &new->svcs[i];
		const struct svc_state *o = desired_find_svc(old, s->ns, s->name);

		if (s->pending) {
			/* a reason is logged once, when it changes */
			if (o == NULL || !str_eq(o->pending, s->pending))
				log_warnx("service %s/%s: pending: %s", s->ns, s->name, s->pending);
			continue;
		}
		if (o == NULL || o->nvips != s->nvips ||
		    (s->nvips > 0 && !ipaddr_eq(&o->vips[0], &s->vips[0])) ||
		    (s->nvips > 1 && !ipaddr_eq(&o->vips[1], &s->vips[1])))
			log_info("service %s/%s: allocated %s%s%s from pool %s", s->ns, s->name,
			    ipaddr_fmt(&s->vips[0], b1), s->nvips > 1 ? " " : "",
			    s->nvips > 1 ? ipaddr_fmt(&s->vips[1], b2) : "", s->pool);
	}
	for (i = 0; i < old->nsvcs; i++) {
		const struct svc_state *o = &old->svcs[i];

		if (desired_find_svc(new, o->ns, o->name) == NULL && o->nvips)
			log_info("service %s/%s: released %s", o->ns, o->name,
			    ipaddr_fmt(&o->vips[0], b1));
	}
}

static void
apply(struct daemon *d, struct desired *new)
{
	size_t k;

	for (k = 0; k < d->nappliers; k++) {
		/* draining goes backwards: announcements are withdrawn before
		 * the addresses and listeners they point at go away */
		struct applier *a = d->appliers[d->draining ? d->nappliers - 1 - k : k];

		/* -x: the node's local addresses stay as the old process has
		 * them until it lets go (this gateway, not ready yet, would
		 * remove the VIPs for a moment); BGP and L2 hold themselves */
		if (d->held && strcmp(a->name, "addr") == 0)
			continue;
		if (a->apply(a, d->cur, new) == -1)
			log_warnx("%s: the new state was applied only in part", a->name);
	}
	desired_unref(d->cur);
	d->cur = new;
}

static void
do_reconcile(struct daemon *d)
{
	struct live_view live;
	struct desired *new;
	int64_t t0 = now_ms();

	/* a drain decides alone what goes out (drain.h) */
	if (d->draining)
		return;
	/* a half-loaded store would release VIPs: wait for every kind's first list */
	if (d->ksrc && !ksrc_synced(d->ksrc)) {
		log_debug("reconcile waits for the Kubernetes API's first list");
		return;
	}
	memset(&live, 0, sizeof(live));
	live.l2 = d->l2 ? l2_applier_live(d->l2) : NULL;
	live.prev = d->state.v;
	live.nprev = d->state.n;
	/* the gateway is ready when its data plane runs; a deployment serves
	 * when its listeners are bound too */
	live.gateway_ready = 0;
	if (d->cfg->gateway.enabled) {
		size_t k;

		live.gateway_why = "not started";
		for (k = 0; k < d->nappliers; k++)
			if (strcmp(d->appliers[k]->name, "gw") == 0) {
				live.gateway_why = gw_applier_unbound(d->appliers[k],
				    &live.gateway_unbound, &live.ngateway_unbound);
				live.gateway_ready = live.gateway_why == NULL;
			}
	}
	new = reconcile(d->store, d->cfg, &live);
	d->reconciles++;
	d->reconciled_ms = now_ms();
	log_changes(d->cur, new);
	if (state_differs(&d->state, new)) {
		if (state_save(d->state_file, new) == 0)
			log_debug("state saved to %s", d->state_file);
		state_from_desired(new, &d->state);
	}
	apply(d, new);
	log_debug("reconcile #%llu: %zu services, %zu local addresses, %lld ms",
	    (unsigned long long)d->reconciles, new->nsvcs, new->nlocal_addrs,
	    (long long)(now_ms() - t0));
}

static void
reconcile_cb(evutil_socket_t fd, short ev, void *arg)
{
	do_reconcile(arg);
}

int
daemon_reload(struct daemon *d, const char *trigger)
{
	log_info("reloading (%s)", trigger);
	sdn_reloading(trigger);
	return load_request(d, trigger, 1);
}

/* An object from the API changed; one that left may uncover a file's version. */
static void
kube_changed(void *arg, int deleted)
{
	struct daemon *d = arg;
	struct timeval tv = { 0, DEBOUNCE_MS * 1000 };
	int64_t since = now_ms() - d->reconciled_ms;

	if (deleted && !evtimer_pending(d->ev_debounce, NULL))
		evtimer_add(d->ev_debounce, &tv);
	/* a lone event reconciles at once; a stream of them (Services or
	 * EndpointSlices created in bulk, a re-list) makes one reconcile each
	 * KUBE_GAP_MS (the echo of our own status writes comes not here:
	 * the kube source finds it changes nothing read) */
	if (since >= KUBE_GAP_MS || !ksrc_synced(d->ksrc))
		daemon_schedule_reconcile(d);
	else if (!evtimer_pending(d->ev_reconcile, NULL)) {
		tv.tv_sec = 0;
		tv.tv_usec = (KUBE_GAP_MS - since) * 1000;
		evtimer_add(d->ev_reconcile, &tv);
	}
}

static int
kube_start(struct daemon *d)
{
	struct vg_errs errs = { 0 };
	struct kube_auth auth;
	int r;

	r = kube_auth_load(&d->cfg->kubernetes, &auth, &errs);
	errs_log(&errs);
	errs_clear(&errs);
	if (r == -1) {
		log_error("kubernetes: cannot reach the API server without valid settings");
		return -1;
	}
	d->ksrc = ksrc_new(d->base, d->store, &auth, d->cfg->node.name,
	    d->cfg->kubernetes.lease_namespace ? d->cfg->kubernetes.lease_namespace :
	    KUBE_LEASE_NAMESPACE, kube_changed, d);
	d->appliers[d->nappliers++] = ksrc_status_applier(d->ksrc);
	return 0;
}

/* One step of the drain (drain.h); the decision is drain_next()'s. */
static void
drain_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct daemon *d = arg;
	struct drain_in in;
	struct drain_step st;
	struct timeval tv;
	size_t i;

	for (;;) {
		memset(&in, 0, sizeof(in));
		in.phase = d->drain_phase;
		in.now = now_ms();
		in.since = d->drain_since;
		in.withdraw_after = d->cfg->drain.withdraw_after_ms;
		in.timeout = d->cfg->gateway.drain_timeout_ms;
		in.bgp_routes = d->drain_bgp;
		in.handed_over = d->handed_over;
		/* a successor's L2 owns nothing before it settles (hb_io.c) */
		in.handover = DRAIN_HANDOVER_MS + (d->cfg->l2.heartbeat.npeers > 0 ?
		    L2_DEAD_INTERVALS * d->cfg->l2.heartbeat.interval_ms : 0);
		for (i = 0; i < d->nappliers; i++)
			if (d->appliers[i]->inflight)
				in.inflight += d->appliers[i]->inflight(d->appliers[i]);
		st = drain_next(&in);
		if (st.next == d->drain_phase)
			break;
		log_info("drain%s: %s -> %s after %lld ms (%zu connections open)",
		    d->handed_over ? " (upgraded)" : "",
		    drain_phase_name(d->drain_phase), drain_phase_name(st.next),
		    (long long)(in.now - d->drain_since), in.inflight);
		d->drain_phase = st.next;
		d->drain_since = in.now;
		switch (st.next) {
		case DRAIN_CLOSING:
			/* the routes go, the listeners close; what is in
			 * flight finishes up to gateway.drain_timeout */
			sdn_send("STATUS=draining: routes withdrawn, listeners closed");
			for (i = 0; i < d->nappliers; i++)
				if (d->appliers[i]->drain)
					(void)d->appliers[i]->drain(d->appliers[i]);
			break;
		case DRAIN_DONE:
			/* announcements are gone before the addresses and
			 * listeners they point at (apply goes backwards);
			 * after an upgrade they are the new process's */
			if (!d->handed_over)
				apply(d, desired_empty());
			event_base_loopexit(d->base, NULL);
			return;
		default:
			break;
		}
	}
	if (st.recheck >= 0) {
		tv.tv_sec = st.recheck / 1000;
		tv.tv_usec = (st.recheck % 1000) * 1000;
		evtimer_add(d->ev_drain, &tv);
	}
}

static void
drain_start(struct daemon *d, const char *why)
{
	size_t i;

	log_info("%s: draining", why);
	sdn_send("STOPPING=1\nSTATUS=draining (%s): routes with GRACEFUL_SHUTDOWN", why);
	d->draining = 1;
	d->drain_phase = DRAIN_LEAVING;
	d->drain_since = now_ms();
	ctlsrv_close(d);
	/* readiness 503, routes with 65535:0, L2's leave; the listeners stay */
	for (i = 0; i < d->nappliers; i++)
		if (d->appliers[i]->leave && d->appliers[i]->leave(d->appliers[i]))
			d->drain_bgp = 1;
	if (d->drain_bgp)
		log_info("drain: routes withdrawn and listeners closed in %lld ms "
		    "(drain.withdraw_after)", (long long)d->cfg->drain.withdraw_after_ms);
	drain_tick(-1, 0, d);
}

/*
 * The old side of an upgrade: the new process is ready on the sockets it
 * took. Let go (applier handoff) and drain what is in flight, without a
 * GRACEFUL_SHUTDOWN, a withdraw or an L2 leave: the routes and the VIPs
 * stay with the node, served by the new process.
 */
static json_t *
upgrade_go(void *arg, pid_t successor)
{
	struct daemon *d = arg;
	size_t i, inflight = 0;

	if (d->draining) {
		/* a SIGTERM came first: its drain goes on, withdraws and all */
		log_warnx("upgrade: the new process is ready, but this one drains already");
		return NULL;
	}
	log_info("upgrade: the new process is ready: letting go, then draining");
	/*
	 * Under systemd the successor becomes the unit's main process (systemd
	 * takes it when it runs in the unit, as one SIGUSR2 starts); this one
	 * then drains as a process of the unit, not as its end.
	 */
	if (successor > 0)
		sdn_send("MAINPID=%ld\nSTATUS=upgraded: pid %ld serves; pid %ld drains",
		    (long)successor, (long)successor, (long)getpid());
	d->draining = 1;
	d->handed_over = 1;
	d->drain_phase = DRAIN_LEAVING;
	d->drain_since = now_ms();
	ctlsrv_close(d);
	for (i = 0; i < d->nappliers; i++)
		if (d->appliers[i]->handoff)
			d->appliers[i]->handoff(d->appliers[i]);
	for (i = 0; i < d->nappliers; i++)
		if (d->appliers[i]->inflight)
			inflight += d->appliers[i]->inflight(d->appliers[i]);
	drain_tick(-1, 0, d);
	return json_pack("{s:I,s:I}", "pid", (json_int_t)getpid(),
	    "connections", (json_int_t)inflight);
}

static void
ctl_upgrade(struct daemon *d, int fd)
{
	if (d->draining || d->upgrade) {
		/* one hand-over at a time, and never from a draining process */
		char *line = ctl_response_error("%s", d->draining ? "vipgated is draining" :
		    "vipgated is itself taking over from another");

		(void)lsock_send(fd, line, NULL, 0);
		free(line);
		close(fd);
		return;
	}
	(void)upgrade_serve(d->base, fd, d->cfg->node.name, upgrade_go, d);
}

/*
 * The new side gives up before the hand-over: the running vipgated keeps
 * the node, so nothing is removed on the way out (vipgate0 and the VIPs
 * on it, the shared listening sockets: only this process's copies close).
 */
static void
upgrade_abandon(struct daemon *d)
{
	size_t i;

	d->held = 0;
	d->handed_over = 1;
	for (i = 0; i < d->nappliers; i++)
		if (d->appliers[i]->handoff)
			d->appliers[i]->handoff(d->appliers[i]);
}

/* The new side: once the gateway is ready, the old process lets go. */
static void
upgrade_tick(evutil_socket_t fd, short ev, void *arg)
{
	static const struct timeval poll = { 0, UPGRADE_POLL_MS * 1000 };
	struct daemon *d = arg;
	const char *why = NULL;
	char *err;
	size_t i;

	/* a signal before the hand-over: the old process runs on (upgrade.c) */
	if (d->draining)
		return;
	for (i = 0; i < d->nappliers; i++)
		if (strcmp(d->appliers[i]->name, "gw") == 0)
			why = gw_applier_unready(d->appliers[i]);
	if (why != NULL && now_ms() - d->upgrade_since < UPGRADE_READY_MS) {
		evtimer_add(d->ev_upgrade, &poll);
		return;
	}
	if (why != NULL) {
		/* the old process still serves: it goes on when this one exits */
		log_error("upgrade: the gateway is not ready after %d ms (%s): giving up; "
		    "the running vipgated stays", UPGRADE_READY_MS, why);
		upgrade_abandon(d);
		d->upgrade_failed = 1;
		event_base_loopexit(d->base, NULL);
		return;
	}
	if (lsock_go(&err) == -1) {
		/* gone, or it refused: either way nothing else serves now */
		log_warnx("upgrade: the old process did not answer its go: %s", err);
		free(err);
	} else
		log_info("upgrade: the old process let go after %lld ms; BGP and L2 start",
		    (long long)(now_ms() - d->upgrade_since));
	(void)ctlsrv_take_path(d);
	d->upgrade = 0;		/* done: this one may be upgraded in turn */
	d->held = 0;
	if (d->pidfile && pidfile_write(d->pidfile) == -1)
		log_warn("cannot write pidfile %s", d->pidfile);
	/* what is announced first is the state of now, the gateway ready:
	 * an End-of-RIB after fewer routes would end the peers' graceful
	 * restart without them; resume applies what was held only where
	 * this reconcile did not run (it waits for the Kubernetes API) */
	do_reconcile(d);
	for (i = 0; i < d->nappliers; i++)
		if (d->appliers[i]->resume)
			d->appliers[i]->resume(d->appliers[i]);
	notify_ready(d);
}

static void
signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct daemon *d = arg;

	switch (sig) {
	case SIGHUP:
		daemon_reload(d, "sighup");
		break;
	case SIGTERM:
	case SIGINT:
		if (d->draining) {
			log_info("second signal: exiting now");
			event_base_loopexit(d->base, NULL);
			break;
		}
		if (d->held) {
			/* before the hand-over: the running vipgated stays */
			log_info("%s before the upgrade's hand-over: giving up; the running "
			    "vipgated stays", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			upgrade_abandon(d);
			event_base_loopexit(d->base, NULL);
			break;
		}
		drain_start(d, sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	case SIGUSR2:
		/* a binary upgrade started by the running process (vipgated(8)) */
		if (d->draining || d->upgrade)
			log_warnx("SIGUSR2: no upgrade: this process is %s",
			    d->draining ? "draining" : "itself taking over");
		else
			(void)upgrade_spawn(d->sock_path);
		break;
	case SIGCHLD:
		(void)upgrade_reap();
		break;
	case SIGUSR1:
		/* vipgated's own log goes to stderr or syslog; the access log
		 * may be a file */
		{
			size_t i;

			for (i = 0; i < d->nappliers; i++)
				if (d->appliers[i]->reopen)
					d->appliers[i]->reopen(d->appliers[i]);
		}
		break;
	}
}

int
daemon_init(struct daemon *d, struct config *cfg, const char *cfg_path,
    const char *sock_override)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGCHLD };
	size_t i;

	d->cfg = cfg;
	d->cfg_path = cfg_path;
	d->sock_path = sock_override ? sock_override : cfg->control.socket;
	d->config_generation = 1;
	d->started = time(NULL);
	d->inotify_fd = -1;
	d->load_pipe[0] = d->load_pipe[1] = -1;
	d->cur = desired_empty();
	d->base = event_base_new();
	if (d->base == NULL)
		fatalx("event_base_new");
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < VG_ARRAY_SIZE(sigs); i++) {
		d->ev_sig[i] = evsignal_new(d->base, sigs[i], signal_cb, d);
		evsignal_add(d->ev_sig[i], NULL);
	}
	d->ev_reconcile = evtimer_new(d->base, reconcile_cb, d);
	d->ev_debounce = evtimer_new(d->base, debounce_cb, d);
	d->ev_drain = evtimer_new(d->base, drain_tick, d);
	d->ev_upgrade = evtimer_new(d->base, upgrade_tick, d);
	d->env.held = &d->held;
	d->held = d->upgrade;
	d->ctl_upgrade = ctl_upgrade;

	if (mkdir(cfg->state_dir, 0755) == -1 && errno != EEXIST)
		log_warn("cannot create state_dir %s", cfg->state_dir);
	xasprintf(&d->state_file, "%s/allocations.json", cfg->state_dir);
	(void)state_load(d->state_file, &d->state);

	if (ctlsrv_open(d, daemon_reload) == -1)
		return -1;
	return 0;
}

/*
 * The allocator's figures, as MetalLB's controller exports them (per
 * pool, from the state last applied): an applier only for the stats page.
 */
static int
alloc_apply(struct applier *a, const struct desired *old, const struct desired *new)
{
	return 0;
}

static void
alloc_metrics(struct applier *a, struct vg_buf *out)
{
	const struct daemon *d = a->ctx;
	size_t i;

	buf_puts(out, "# HELP metallb_allocator_addresses_in_use_total Number of IP addresses in use, per pool\n"
	    "# TYPE metallb_allocator_addresses_in_use_total gauge\n");
	for (i = 0; d->cur && i < d->cur->npools; i++)
		buf_printf(out, "metallb_allocator_addresses_in_use_total{pool=\"%s\"} %llu\n",
		    d->cur->pools[i].name, (unsigned long long)(d->cur->pools[i].assigned_v4 +
		    d->cur->pools[i].assigned_v6));
	buf_puts(out, "# HELP metallb_allocator_addresses_total Number of usable IP addresses, per pool\n"
	    "# TYPE metallb_allocator_addresses_total gauge\n");
	for (i = 0; d->cur && i < d->cur->npools; i++) {
		const struct pool_state *p = &d->cur->pools[i];
		uint64_t t = p->total_v4 + p->total_v6;

		if (t < p->total_v4)
			t = UINT64_MAX;
		buf_printf(out, "metallb_allocator_addresses_total{pool=\"%s\"} %llu\n", p->name,
		    (unsigned long long)t);
	}
}

static void
alloc_free(struct applier *a)
{
	free(a);
}

int
daemon_start(struct daemon *d)
{
	struct config *cfg = d->cfg;
	struct applier *a;

	a = addr_applier_new(cfg->addresses.interface, cfg->addresses.mode);
	if (a == NULL) {
		log_error("cannot set up local addresses on %s", cfg->addresses.interface);
		return -1;
	}
	d->appliers[d->nappliers++] = a;
	a = xcalloc(1, sizeof(*a));
	a->name = "allocator";
	a->ctx = d;
	a->apply = alloc_apply;
	a->free = alloc_free;
	a->metrics = alloc_metrics;
	d->appliers[d->nappliers++] = a;

	/* the order matters at start-up: addresses first, so listeners can
	 * bind and announcements point at something that answers */
	d->env.base = d->base;
	d->env.cfg = cfg;
	d->env.kick = kick;
	d->env.kick_arg = d;
	d->env.appliers = d->appliers;
	d->env.nappliers = &d->nappliers;
	if ((a = gw_applier_new(&d->env)) != NULL)
		d->appliers[d->nappliers++] = a;
	if ((a = l2_applier_new(&d->env)) != NULL)
		d->appliers[d->nappliers++] = d->l2 = a;
	if ((a = bgp_applier_new(&d->env)) != NULL)
		d->appliers[d->nappliers++] = a;

	d->store = store_new();
	d->fsrc = fsrc_new(d->store);
	if (cfg->kubernetes.present && kube_start(d) == -1)
		return -1;
	d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	watch_paths(d);
	/* the first load is read here: nothing runs yet that it could hold up */
	load_start(d, "startup", 0, 0);
	log_info("loaded %zu objects%s", store_count(d->store),
	    d->last.ok ? "" : " (with errors, see above)");
	if (pipe2(d->load_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		log_warn("pipe: manifests are read on the main loop");
	else {
		d->ev_load = event_new(d->base, d->load_pipe[0], EV_READ | EV_PERSIST,
		    load_done_cb, d);
		event_add(d->ev_load, NULL);
	}
	do_reconcile(d);
	return 0;
}

/* From the main loop: a loop that stops turning stops the pings too. */
static void
watchdog_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct daemon *d = arg;

	if (!d->upgrade)	/* as notify_ready */
		sdn_send("WATCHDOG=1");
}

int
daemon_run(struct daemon *d)
{
	uint64_t wd = sdn_watchdog_usec();

	log_info("vipgated %s started, node %s", PACKAGE_VERSION, d->cfg->node.name);
	if (wd > 0) {
		struct timeval tv = { (time_t)(wd / 2 / 1000000), (suseconds_t)(wd / 2 % 1000000) };

		d->ev_watchdog = event_new(d->base, -1, EV_PERSIST, watchdog_cb, d);
		event_add(d->ev_watchdog, &tv);
		log_info("systemd watchdog: WATCHDOG=1 every %llu ms",
		    (unsigned long long)(wd / 2000));
	}
	if (d->upgrade) {
		d->upgrade_since = now_ms();
		upgrade_tick(-1, 0, d);
	}
	notify_ready(d);
	event_base_dispatch(d->base);
	log_info("exiting");
	return d->upgrade_failed ? 2 : 0;
}

void
daemon_free(struct daemon *d)
{
	size_t i;

	ctlsrv_close(d);
	free(d->ctl_bound);
	upgrade_serve_free();
	if (d->load != NULL) {
		struct pollfd pfd = { d->load_pipe[0], POLLIN, 0 };

		if (poll(&pfd, 1, LOAD_EXIT_WAIT_MS) == 1) {
			/* done, or about to be: its result goes with it */
			pthread_join(d->load_thread, NULL);
			fsrc_load_free(d->load);
		} else {
			/* a load still reading touches only itself and the pipe:
			 * exit without waiting longer (a pathological file may
			 * take long); what it holds stays reachable from here */
			static struct fsrc_load *abandoned;

			log_warnx("exiting while manifests are read");
			abandoned = d->load;
			(void)abandoned;
			pthread_detach(d->load_thread);
			d->load_pipe[1] = -1;	/* it writes there when done: left open */
		}
		d->load = NULL;
	}
	errs_clear(&d->load_errs);
	ctlsrv_drop_waiters(&d->waiters);
	ctlsrv_drop_waiters(&d->waiters_next);
	if (d->ev_load)
		event_free(d->ev_load);
	for (i = 0; i < 2; i++)
		if (d->load_pipe[i] != -1)
			close(d->load_pipe[i]);
	for (i = 0; i < d->nappliers; i++)
		if (d->appliers[i]->free)
			d->appliers[i]->free(d->appliers[i]);
	for (i = 0; i < VG_ARRAY_SIZE(d->ev_sig); i++)
		if (d->ev_sig[i])
			event_free(d->ev_sig[i]);
	if (d->ev_reconcile)
		event_free(d->ev_reconcile);
	if (d->ev_debounce)
		event_free(d->ev_debounce);
	if (d->ev_drain)
		event_free(d->ev_drain);
	if (d->ev_upgrade)
		event_free(d->ev_upgrade);
	if (d->ev_watchdog)
		event_free(d->ev_watchdog);
	if (d->ev_inotify)
		event_free(d->ev_inotify);
	if (d->inotify_fd != -1)
		close(d->inotify_fd);
	watch_open_clear(d);
	ptrvec_free(&d->watch_open);
	ksrc_free(d->ksrc);
	desired_unref(d->cur);
	state_free(&d->state);
	free(d->state_file);
	fsrc_free(d->fsrc);
	store_free(d->store);
	errs_clear(&d->last.errs);
	config_free(d->cfg);
	if (d->base)
		event_base_free(d->base);
}
