/* the ARP/NDP announcer and responder: the applier. */
#ifndef VIPGATE_L2_H
#define VIPGATE_L2_H

#include "vipgate/applier.h"

/* NULL when there is nothing to run (logged when that is a failure). */
struct applier *l2_applier_new(const struct applier_env *);

/* The speakers heard alive, for reconcile's election (live_view.l2). */
struct l2_live;
const struct l2_live *l2_applier_live(const struct applier *);

#endif
