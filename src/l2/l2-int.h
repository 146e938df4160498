/*
 * Inside the l2 module, functions. l2_show.c (vipgatectl and metrics)
 * reads l2.c's state; l2.c hands it to the daemon only as the applier's
 * show and metrics callbacks, so calls go one way.
 */
#ifndef VIPGATE_L2_INT_H
#define VIPGATE_L2_INT_H

#include <jansson.h>

#include "l2-int-t.h"

struct ctl_request;
struct vg_buf;

/* l2.c: the VIP this node answers for at (family, a), or NULL. */
struct l2_owned	*l2_owned_find(struct l2_ctx *, int family, const uint8_t *a);

/* l2_show.c: the applier's show ("vipgatectl l2") and metrics callbacks. */
json_t		*l2_show(struct applier *, const struct ctl_request *, char **err);
void		 l2_metrics(struct applier *, struct vg_buf *);

#endif
