/*
 * An applier takes (old, new) desired states and applies only the
 * difference: start-up is (empty, new), reload (current, new), shutdown
 * (current, empty). BGP, L2, addresses and the gateway implement it.
 */
#ifndef VIPGATE_APPLIER_H
#define VIPGATE_APPLIER_H

#include <jansson.h>

#include "vipgate/reconcile-t.h"

struct ctl_request;
struct config;
struct event_base;
struct vg_buf;

/* What the daemon lends an applier. */
struct applier_env {
	struct event_base	*base;		/* the main loop */
	const struct config	*cfg;		/* current main config; updated on reload */
	/* ask for a reconcile soon (live changes: a peer, a node, readiness) */
	void			(*kick)(void *arg);
	void			*kick_arg;
	/* every applier, this one included (the stats page merges their metrics) */
	struct applier		*const *appliers;
	const size_t		*nappliers;
	/*
	 * Nonzero while a binary upgrade (vipgated -x) waits for the old
	 * process to let go of its BGP sessions: BGP starts none until its
	 * resume. NULL: never held.
	 */
	const int		*held;
};

struct applier {
	const char	*name;
	void		*ctx;
	/* Returns 0, or -1 when part of the difference could not be applied (logged). */
	int		(*apply)(struct applier *, const struct desired *old,
			    const struct desired *new);
	void		(*free)(struct applier *);
	/*
	 * vipgatectl commands this applier answers (bgp, routes, l2, gateway
	 * ...): return the result, or NULL when cmd is not its own. *err set
	 * (malloc'd) makes an error answer instead. May be NULL.
	 */
	json_t		*(*show)(struct applier *, const struct ctl_request *, char **err);
	/*
	 * Draining (SIGTERM) in the order drain.h gives. leave: the first
	 * step (BGP routes with GRACEFUL_SHUTDOWN, L2's leave, the gateway
	 * unready); returns 1 when routers must be given drain.withdraw_after
	 * to move the traffic (a route is out there), else 0. drain: then
	 * withdraw and stop accepting; returns ms it still needs. inflight:
	 * what is left to finish (connections, tunnels). Each may be NULL.
	 */
	int		(*leave)(struct applier *);
	int64_t		(*drain)(struct applier *);
	size_t		(*inflight)(struct applier *);
	/*
	 * A binary upgrade: the new process has the listening sockets and is
	 * ready. handoff lets go without a goodbye: stop accepting, close BGP
	 * sessions as a graceful restart (RFC 4724: the routers keep the
	 * routes for the successor), no L2 leave, the local addresses stay;
	 * what is in flight then drains. resume: on the new side, the old
	 * one has let go (env->held is 0 now). Each may be NULL.
	 */
	void		(*handoff)(struct applier *);
	void		(*resume)(struct applier *);
	/* SIGUSR1: reopen the files it writes (after a log rotation). May be NULL. */
	void		(*reopen)(struct applier *);
	/* Prometheus text exposition of its metrics, appended to out. May be NULL. */
	void		(*metrics)(struct applier *, struct vg_buf *out);
};

#endif
