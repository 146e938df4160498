/*
 * An applier takes (old, new) desired states and applies only the
 * difference: start-up is (empty, new), reload (current, new), shutdown
 * (current, empty). BGP, L2, addresses and the gateway implement it.
 */
#ifndef VIPGATE_APPLIER_H
#define VIPGATE_APPLIER_H

#include "vipgate/reconcile-t.h"

struct applier {
	const char	*name;
	void		*ctx;
	/* Returns 0, or -1 when part of the difference could not be applied (logged). */
	int		(*apply)(struct applier *, const struct desired *old,
			    const struct desired *new);
	void		(*free)(struct applier *);
};

#endif
