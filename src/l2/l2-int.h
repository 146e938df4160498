/*
 * Inside the l2 module, functions. Calls go one way: l2.c (the applier)
 * calls hb_io.c (heartbeat sockets and timers); l2_show.c (vipgatectl and
 * metrics) reads l2.c's state, and l2.c hands it to the daemon only as the
 * applier's show and metrics callbacks.
 */
#ifndef VIPGATE_L2_INT_H
#define VIPGATE_L2_INT_H

#include <sys/time.h>

#include <jansson.h>

#include "l2-int-t.h"

struct ctl_request;
struct vg_buf;

/* A duration in ms as libevent takes it. */
static inline struct timeval
l2_ms_tv(int64_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return tv;
}

/* l2.c: the VIP this node answers for at (family, a), or NULL. */
struct l2_owned	*l2_owned_find(struct l2_ctx *, int family, const uint8_t *a);

/*
 * hb_io.c: the speakers' heartbeat. setup makes the timers (once, before
 * the first sync); sync (re)configures socket and peers from the current
 * config, 0 or -1 (logged); leave tells the peers this node goes (drain);
 * free undoes setup and sync.
 */
void		 l2_hbio_setup(struct l2_ctx *);
int		 l2_hbio_sync(struct l2_ctx *);
void		 l2_hbio_leave(struct l2_ctx *);
/* Heartbeats and the sweep stop, the port is closed; peers and key stay. */
void		 l2_hbio_stop(struct l2_ctx *);
void		 l2_hbio_free(struct l2_ctx *);

/* l2_show.c: the applier's show ("vipgatectl l2") and metrics callbacks. */
json_t		*l2_show(struct applier *, const struct ctl_request *, char **err);
void		 l2_metrics(struct applier *, struct vg_buf *);

#endif
