/*
 * accept() failures. A listening socket with connections pending stays
 * readable, so a loop that meets EMFILE and tries again at once spins on
 * the same error (libevent's evconnlistener, without an error callback,
 * logs "Error from accept() call" each time). Here such a failure stops
 * the listener: HAProxy's answer, which limits the listener and enables it
 * again 100 ms later or when a connection closes. The episode, from the
 * failure that stopped it to a connection accepted VG_ACCEPT_QUIET_MS after
 * the last failure, makes one log line when it starts, one every
 * VG_ACCEPT_LOG_MS while it lasts, one when it ends.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "vipgate/accept.h"
#include "vipgate/log.h"
#include "vipgate/util.h"

const struct timeval vg_accept_retry_tv = {
	VG_ACCEPT_RETRY_MS / 1000, (VG_ACCEPT_RETRY_MS % 1000) * 1000
};

const char *const vg_accept_reason_names[VG_ACC_NREASONS] = {
	"emfile", "enfile", "enobufs", "enomem", "other",
};

enum vg_accept_reason
vg_accept_reason(int err)
{
	switch (err) {
	case EMFILE:
		return VG_ACC_EMFILE;
	case ENFILE:
		return VG_ACC_ENFILE;
	case ENOBUFS:
		return VG_ACC_ENOBUFS;
	case ENOMEM:
		return VG_ACC_ENOMEM;
	default:
		return VG_ACC_OTHER;
	}
}

int
vg_accept_pauses(int err)
{
	switch (err) {
	case EAGAIN:
	case EINTR:
	case ECONNABORTED:
	/* accept(2), Linux: errors pending on the new connection come back
	 * from accept() and it was dropped; the next one may be fine */
	case ENETDOWN:
	case EPROTO:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
	case EPERM:		/* a firewall rule refused it */
		return 0;
	default:
		/* EMFILE, ENFILE, ENOBUFS, ENOMEM, and what would repeat
		 * (EBADF, EINVAL): the pending connections stay pending */
		return 1;
	}
}

enum vg_accept_log
vg_accept_fail(struct vg_accept_state *st, int err, int64_t now)
{
	enum vg_accept_reason r = vg_accept_reason(err);

	__atomic_add_fetch(&st->errors[r], 1, __ATOMIC_RELAXED);
	st->err = err;
	if (!vg_accept_pauses(err))
		return VG_ACC_LOG_NONE;
	st->failed_ms = now;
	if (st->since_ms == 0) {
		st->since_ms = now > 0 ? now : 1;
		st->logged_ms = now;
		st->failures = 1;
		__atomic_add_fetch(&st->pauses[r], 1, __ATOMIC_RELAXED);
		return VG_ACC_LOG_PAUSED;
	}
	st->failures++;
	if (now - st->logged_ms < VG_ACCEPT_LOG_MS)
		return VG_ACC_LOG_NONE;
	st->logged_ms = now;
	return VG_ACC_LOG_STILL;
}

enum vg_accept_log
vg_accept_ok(struct vg_accept_state *st, int64_t now)
{
	if (st->since_ms == 0 || now - st->failed_ms < VG_ACCEPT_QUIET_MS)
		return VG_ACC_LOG_NONE;
	st->last_ms = st->failed_ms - st->since_ms;
	st->last_failures = st->failures;
	st->since_ms = 0;
	st->failures = 0;
	return VG_ACC_LOG_RESUMED;
}

void
vg_accept_log(const struct vg_accept_state *st, enum vg_accept_log what, int64_t now,
    const char *name)
{
	switch (what) {
	case VG_ACC_LOG_NONE:
		break;
	case VG_ACC_LOG_PAUSED:
		log_warnx("%s: accept: %s: not accepting, trying again every %d ms",
		    name, strerror(st->err), VG_ACCEPT_RETRY_MS);
		break;
	case VG_ACC_LOG_STILL:
		log_warnx("%s: accept still failing: %s (%llu times in %lld s)", name,
		    strerror(st->err), (unsigned long long)st->failures,
		    (long long)((now - st->since_ms) / 1000));
		break;
	case VG_ACC_LOG_RESUMED:
		log_info("%s: accepting again; accept() failed %llu times over %lld ms", name,
		    (unsigned long long)st->last_failures, (long long)st->last_ms);
		break;
	}
}

/* ---- the main thread's listeners ---- */

struct vg_lguard {
	struct evconnlistener	*l;
	const void		*owner;
	const char		*name;
	struct event		*retry;
	struct vg_accept_state	 st;
	struct vg_lguard	*next;
};

static struct vg_lguard *guards;	/* main thread only */
static size_t nepisodes;		/* guards in an episode: vg_lguard_ok's fast path */

static void
lguard_retry(evutil_socket_t fd, short ev, void *arg)
{
	struct vg_lguard *g = arg;

	(void)fd;
	(void)ev;
	evconnlistener_enable(g->l);
}

static void
lguard_error(struct evconnlistener *l, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct vg_lguard *g;
	int64_t now = now_ms();
	char what[64];
	int was;

	(void)arg;
	for (g = guards; g; g = g->next)
		if (g->l == l)
			break;
	if (g == NULL)
		return;
	was = g->st.since_ms != 0;
	snprintf(what, sizeof(what), "%s listener", g->name);
	vg_accept_log(&g->st, vg_accept_fail(&g->st, err, now), now, what);
	if (!vg_accept_pauses(err)) {
		log_debug("%s: accept: %s", what, strerror(err));
		return;
	}
	if (!was)
		nepisodes++;
	evconnlistener_disable(l);
	evtimer_add(g->retry, &vg_accept_retry_tv);
}

void
vg_lguard_add(struct event_base *base, struct evconnlistener *l, const void *owner,
    const char *name)
{
	struct vg_lguard *g;

	if (l == NULL)
		return;
	g = xcalloc(1, sizeof(*g));
	g->l = l;
	g->owner = owner;
	g->name = name;
	g->retry = evtimer_new(base, lguard_retry, g);
	if (g->retry == NULL)
		fatalx("out of memory");
	g->next = guards;
	guards = g;
	evconnlistener_set_error_cb(l, lguard_error);
}

void
vg_lguard_ok(const void *owner)
{
	struct vg_lguard *g;
	int64_t now;

	if (nepisodes == 0)
		return;
	now = now_ms();
	for (g = guards; g; g = g->next) {
		enum vg_accept_log l;
		char what[64];

		if (g->owner != owner || g->st.since_ms == 0 ||
		    (l = vg_accept_ok(&g->st, now)) == VG_ACC_LOG_NONE)
			continue;
		snprintf(what, sizeof(what), "%s listener", g->name);
		vg_accept_log(&g->st, l, now, what);
		nepisodes--;
	}
}

void
vg_lguard_drop(const void *owner)
{
	struct vg_lguard **gp = &guards, *g;

	while ((g = *gp) != NULL) {
		if (g->owner != owner) {
			gp = &g->next;
			continue;
		}
		*gp = g->next;
		if (g->st.since_ms != 0)
			nepisodes--;
		evconnlistener_set_error_cb(g->l, NULL);
		event_free(g->retry);
		free(g);
	}
}

void
vg_lguard_metrics(struct vg_buf *out)
{
	static const char *const kinds[2] = { "errors", "paused" };
	struct vg_lguard *g, *h;
	size_t k, r;

	for (k = 0; k < 2; k++) {
		buf_printf(out, "# TYPE vipgate_listener_accept_%s_total counter\n", kinds[k]);
		/* one series a name and reason: a port on two addresses adds up */
		for (g = guards; g; g = g->next) {
			for (h = guards; h != g && strcmp(h->name, g->name) != 0; h = h->next)
				;
			if (h != g)
				continue;
			for (r = 0; r < VG_ACC_NREASONS; r++) {
				uint64_t n = 0;

				for (h = g; h; h = h->next)
					if (strcmp(h->name, g->name) == 0)
						n += k == 0 ? h->st.errors[r] : h->st.pauses[r];
				buf_printf(out, "vipgate_listener_accept_%s_total{listener=\"%s\","
				    "reason=\"%s\"} %llu\n", kinds[k], g->name,
				    vg_accept_reason_names[r], (unsigned long long)n);
			}
		}
	}
}
