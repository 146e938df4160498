/* the gateway data plane: the applier. */
#ifndef VIPGATE_GW_H
#define VIPGATE_GW_H

#include "vipgate/applier.h"

/* NULL when there is nothing to run (logged when that is a failure). */
struct applier *gw_applier_new(const struct applier_env *);
/* Whether the data plane can serve: every worker runs the newest snapshot with
 * all its listeners bound, and it is not draining. 0 for other appliers. */
int gw_applier_ready(struct applier *);
/* Why it cannot serve ("starting", "draining", "a listener is not bound"), NULL when it can. */
const char *gw_applier_unready(struct applier *);
/*
 * Readiness by deployment: why none of them can serve ("starting",
 * "draining"), or NULL, and then *names (valid until the next call) are the
 * deployments with a listener not bound (the others serve).
 */
const char *gw_applier_unbound(struct applier *, const char *const **names, size_t *n);

#endif
