/* the BGP speaker: the applier. */
#ifndef VIPGATE_BGP_H
#define VIPGATE_BGP_H

#include "vipgate/applier.h"

/* NULL when there is nothing to run (logged when that is a failure). */
struct applier *bgp_applier_new(const struct applier_env *);

#endif
