/*
 * The control socket: one JSON request line in, one JSON answer out, then
 * the connection closes (the protocol is in include/vipgate/ctl.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "vipgate/accept.h"
#include "vipgate/ctl.h"
#include "vipgate/daemon.h"
#include "vipgate/log.h"
#include "vipgate/source-kube.h"


static json_t *
errs_json(const struct vg_errs *e, enum err_sev sev)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < e->n; i++) {
		char *s;

		if (e->v[i].sev != sev)
			continue;
		s = errs_format(&e->v[i]);
		json_array_append_new(a, json_string(s));
		free(s);
	}
	return a;
}

const char *
reload_applied(const struct reload_result *r)
{
	if (r->ok)
		return "all";
	if (r->config == RELOAD_CONFIG_APPLIED || r->objects.changes > 0)
		return "part";
	return "none";
}

json_t *
ctlsrv_reload_result(const struct reload_result *r)
{
	char ts[64];
	struct tm tm;

	gmtime_r(&r->time, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	static const char *const config[] = {
		[RELOAD_CONFIG_NOT_READ] = "not read",
		[RELOAD_CONFIG_APPLIED] = "applied",
		[RELOAD_CONFIG_KEPT] = "kept",
	};

	/* ok: no errors; applied: what took effect all the same */
	return json_pack("{s:s,s:s,s:b,s:s,s:s,s:{s:I,s:I,s:I,s:I,s:I},s:o,s:o}",
	    "time", ts, "trigger", r->trigger ? r->trigger : "none", "ok", r->ok,
	    "applied", reload_applied(r), "config", config[r->config],
	    "objects", "changes", (json_int_t)r->objects.changes,
	    "rejected_kept", (json_int_t)r->objects.kept,
	    "rejected_not_loaded", (json_int_t)r->objects.not_loaded,
	    "ignored_duplicates", (json_int_t)r->objects.ignored,
	    "files_kept", (json_int_t)r->objects.files_kept,
	    "errors", errs_json(&r->errs, ERR_ERROR),
	    "warnings", errs_json(&r->errs, ERR_WARNING));
}

json_t *
ctlsrv_status(struct daemon *d)
{
	json_t *st = json_pack("{s:s,s:I,s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:o}",
	    "version", PACKAGE_VERSION,
	    "pid", (json_int_t)getpid(),
	    "uptime_s", (json_int_t)(time(NULL) - d->started),
	    "config_file", d->cfg_path,
	    "node", d->cfg->node.name,
	    "config_generation", (json_int_t)d->config_generation,
	    "store_generation", (json_int_t)store_generation(d->store),
	    "objects", (json_int_t)store_count(d->store),
	    "reconciles", (json_int_t)d->reconciles,
	    "last_reload", ctlsrv_reload_result(&d->last));

	/* manifests being read on the load thread: last_reload is the one before */
	json_object_set_new(st, "loading", json_boolean(d->load != NULL));
	if (d->ksrc)
		json_object_set_new(st, "kubernetes", ksrc_status(d->ksrc));
	return st;
}

static json_t *
str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *
ctlsrv_services(struct daemon *d)
{
	const struct desired *ds = d->cur;
	json_t *svcs = json_array(), *pools = json_array();
	char buf[IPADDR_STRLEN];
	size_t i, j;

	for (i = 0; i < ds->nsvcs; i++) {
		const struct svc_state *s = &ds->svcs[i];
		json_t *vips = json_array(), *ann = json_array();

		for (j = 0; j < s->nvips; j++)
			json_array_append_new(vips, json_string(ipaddr_fmt(&s->vips[j], buf)));
		if (s->announce & ANNOUNCE_L2)
			json_array_append_new(ann, json_string("l2"));
		if (s->announce & ANNOUNCE_BGP)
			json_array_append_new(ann, json_string("bgp"));
		json_array_append_new(svcs, json_pack(
		    "{s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:b,s:o,s:b,s:b,s:o,s:o,s:b}",
		    "namespace", s->ns, "name", s->name, "vips", vips,
		    "pool", str_or_null(s->pool), "pending", str_or_null(s->pending),
		    "sharing_key", str_or_null(s->sharing_key),
		    "external_traffic_policy", s->etp_local ? "Local" : "Cluster",
		    "gateway", s->is_gateway, "gateway_state", str_or_null(s->gateway_state),
		    "ready_anywhere", s->ready_anywhere,
		    "ready_local", s->ready_local, "announce", ann,
		    "why_not", str_or_null(s->why_not), "local_address", s->serve_local));
	}
	for (i = 0; i < ds->npools; i++) {
		const struct pool_state *p = &ds->pools[i];
		char *name;

		xasprintf(&name, "%s/%s", p->ns, p->name);
		json_array_append_new(pools, json_pack("{s:s,s:I,s:I,s:I,s:I}",
		    "name", name, "total_v4", (json_int_t)p->total_v4,
		    "total_v6", (json_int_t)(p->total_v6 > INT64_MAX ? INT64_MAX : p->total_v6),
		    "assigned_v4", (json_int_t)p->assigned_v4,
		    "assigned_v6", (json_int_t)p->assigned_v6));
		free(name);
	}
	return json_pack("{s:o,s:o}", "services", svcs, "pools", pools);
}

static char *
dispatch(struct daemon *d, const char *line, size_t len, struct vg_ptrvec **wait,
    int *upgrade)
{
	struct ctl_request req;
	char *err = NULL, *out;
	const char *cmd;

	if (ctl_request_decode(line, len, &req, &err) == -1) {
		out = ctl_response_error("%s", err);
		free(err);
		return out;
	}
	cmd = req.command;
	if (strcmp(cmd, "upgrade") == 0 && d->ctl_upgrade) {
		/* the connection goes to upgrade.c: descriptors, then a second line */
		*upgrade = 1;
		out = NULL;
	} else if (strcmp(cmd, "status") == 0)
		out = ctl_response_ok(ctlsrv_status(d));
	else if (strcmp(cmd, "services") == 0)
		out = ctl_response_ok(ctlsrv_services(d));
	else if (strcmp(cmd, "reload") == 0) {
		/* answered when the manifests are read (ctlsrv_answer_waiters) */
		switch (d->ctl_reload(d, "ctl")) {
		case 0:
			*wait = &d->waiters;
			out = NULL;
			break;
		case 1:
			*wait = &d->waiters_next;
			out = NULL;
			break;
		default:
			out = ctl_response_ok(ctlsrv_reload_result(&d->last));
			break;
		}
	} else {
		size_t i;
		json_t *res = NULL;
		char *aerr = NULL;

		for (i = 0; i < d->nappliers && res == NULL && aerr == NULL; i++)
			if (d->appliers[i]->show)
				res = d->appliers[i]->show(d->appliers[i], &req, &aerr);
		if (aerr) {
			out = ctl_response_error("%s", aerr);
			free(aerr);
		} else if (res)
			out = ctl_response_ok(res);
		else if (strcmp(cmd, "bgp") == 0 || strcmp(cmd, "routes") == 0 ||
		    strcmp(cmd, "bfd") == 0 ||
		    strcmp(cmd, "l2") == 0 || strcmp(cmd, "gateway") == 0 ||
		    strcmp(cmd, "analyze") == 0)
			out = ctl_response_error("%s: not available in this version", cmd);
		else
			out = ctl_response_error("unknown command %.64s", cmd);
	}
	ctl_request_free(&req);
	return out;
}

static void
conn_write_done(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	bufferevent_free(bev);
}

/* A reload's connection, waiting for the load to end. */
struct ctl_waiter {
	struct bufferevent	*bev;
	struct daemon		*d;
	struct vg_ptrvec	*list;		/* the daemon's list it is on */
};

static void
waiter_drop(struct ctl_waiter *w)
{
	size_t i;

	for (i = 0; i < w->list->n; i++)
		if (w->list->v[i] == w) {
			w->list->v[i] = w->list->v[--w->list->n];
			break;
		}
	bufferevent_free(w->bev);
	free(w);
}

/* the client went away before the answer */
static void
waiter_event(struct bufferevent *bev, short what, void *arg)
{
	waiter_drop(arg);
}

void
ctlsrv_answer_waiters(struct daemon *d, struct vg_ptrvec *waiters)
{
	size_t i;
	char *out;

	if (waiters->n == 0)
		return;
	out = ctl_response_ok(ctlsrv_reload_result(&d->last));
	for (i = 0; i < waiters->n; i++) {
		struct ctl_waiter *w = waiters->v[i];

		bufferevent_write(w->bev, out, strlen(out));
		bufferevent_write(w->bev, "\n", 1);
		bufferevent_setcb(w->bev, NULL, conn_write_done, conn_event, d);
		free(w);
	}
	waiters->n = 0;
	free(out);
}

void
ctlsrv_promote_waiters(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->waiters_next.n; i++) {
		struct ctl_waiter *w = d->waiters_next.v[i];

		w->list = &d->waiters;
		ptrvec_push(&d->waiters, w);
	}
	d->waiters_next.n = 0;
}

void
ctlsrv_drop_waiters(struct vg_ptrvec *waiters)
{
	while (waiters->n > 0)
		waiter_drop(waiters->v[0]);
	ptrvec_free(waiters);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct daemon *d = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct vg_ptrvec *wait = NULL;
	size_t len;
	char *line, *out;
	int upgrade = 0, fd;

	line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	if (line == NULL) {
		if (evbuffer_get_length(in) > CTL_REQUEST_MAX) {
			out = ctl_response_error("request is longer than %d bytes",
			    CTL_REQUEST_MAX);
			goto reply;
		}
		return;
	}
	out = dispatch(d, line, len, &wait, &upgrade);
	free(line);
	if (upgrade) {
		fd = fcntl(bufferevent_getfd(bev), F_DUPFD_CLOEXEC, 3);
		bufferevent_free(bev);
		if (fd == -1)
			log_warn("upgrade: dup");
		else
			d->ctl_upgrade(d, fd);
		return;
	}
	if (out == NULL) {
		struct ctl_waiter *w = xcalloc(1, sizeof(*w));

		w->bev = bev;
		w->d = d;
		w->list = wait;
		ptrvec_push(wait, w);
		bufferevent_disable(bev, EV_READ);
		bufferevent_setcb(bev, NULL, NULL, waiter_event, w);
		return;
	}
reply:
	bufferevent_disable(bev, EV_READ);
	bufferevent_write(bev, out, strlen(out));
	bufferevent_write(bev, "\n", 1);
	free(out);
	bufferevent_setcb(bev, NULL, conn_write_done, conn_event, d);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct daemon *d = arg;
	struct bufferevent *bev;
	struct timeval tmo = { 5, 0 };

	vg_lguard_ok(d);
	bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, conn_read, NULL, conn_event, d);
	bufferevent_set_timeouts(bev, &tmo, &tmo);
	bufferevent_enable(bev, EV_READ);
}

static void
mkdir_parent(const char *path)
{
	char *dup = xstrdup(path), *dir = dirname(dup);

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		log_warn("cannot create %s", dir);
	free(dup);
}

int
ctlsrv_open(struct daemon *d, int (*reload)(struct daemon *, const char *trigger))
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	d->ctl_reload = reload;
	free(d->ctl_bound);
	/* -x: beside the running one's, renamed over it when it lets go */
	if (d->upgrade)
		xasprintf(&d->ctl_bound, "%s.new", d->sock_path);
	else
		d->ctl_bound = xstrdup(d->sock_path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(d->ctl_bound) >= sizeof(sun.sun_path)) {
		log_error("control socket path too long: %s", d->ctl_bound);
		return -1;
	}
	strcpy(sun.sun_path, d->ctl_bound);
	mkdir_parent(d->ctl_bound);

	/* a socket that answers belongs to a live vipgated; one that does
	 * not is stale, left by a dead one, and is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		log_error("another vipgated is running: %s answers", d->ctl_bound);
		return -1;
	}
	close(fd);
	if (unlink(d->ctl_bound) == -1 && errno != ENOENT) {
		log_warn("cannot remove stale %s", d->ctl_bound);
		return -1;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		fatal("socket");
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("bind %s", d->ctl_bound);
		close(fd);
		return -1;
	}
	chmod(d->ctl_bound, 0660);
	if (stat(d->ctl_bound, &st) == 0) {
		d->ctl_dev = st.st_dev;
		d->ctl_ino = st.st_ino;
	}
	d->ctl_listener = evconnlistener_new(d->base, accept_cb, d,
	    LEV_OPT_CLOSE_ON_FREE, 16, fd);
	if (d->ctl_listener == NULL) {
		log_warn("listen %s", d->ctl_bound);
		close(fd);
		return -1;
	}
	/* out of descriptors, it pauses rather than spins (accept.h) */
	vg_lguard_add(d->base, d->ctl_listener, d, "control");
	return 0;
}

/* The path is still the socket file this process made. */
static int
ctl_ours(const struct daemon *d, const char *path)
{
	struct stat st;

	return path && d->ctl_ino && stat(path, &st) == 0 && st.st_dev == d->ctl_dev &&
	    st.st_ino == d->ctl_ino;
}

int
ctlsrv_take_path(struct daemon *d)
{
	if (d->ctl_listener == NULL || str_eq(d->ctl_bound, d->sock_path))
		return 0;
	/* one step: a client finds the old socket or this one, never none */
	if (rename(d->ctl_bound, d->sock_path) == -1) {
		log_warn("upgrade: cannot rename %s to %s; vipgatectl reaches this "
		    "process at the former", d->ctl_bound, d->sock_path);
		return -1;
	}
	free(d->ctl_bound);
	d->ctl_bound = xstrdup(d->sock_path);
	return 0;
}

void
ctlsrv_close(struct daemon *d)
{
	if (d->ctl_listener == NULL)
		return;
	vg_lguard_drop(d);
	evconnlistener_free(d->ctl_listener);
	d->ctl_listener = NULL;
	/* after an upgrade, the path is the new process's socket: left alone */
	if (ctl_ours(d, d->ctl_bound))
		unlink(d->ctl_bound);
}
