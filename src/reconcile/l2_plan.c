/* The l2 part of the desired state: not built yet. */
#include "config.h"

#include "vipgate/reconcile.h"

void
reconcile_l2(struct desired *d, struct store *st, const struct config *cfg,
    const struct live_view *live)
{
	(void)d;
	(void)st;
	(void)cfg;
	(void)live;
}
