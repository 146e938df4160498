/* the ARP/NDP announcer and responder: not built yet. */
#include "config.h"

#include <stddef.h>

#include "vipgate/l2.h"

struct applier *
l2_applier_new(const struct applier_env *env)
{
	(void)env;
	return NULL;
}

const struct l2_live *
l2_applier_live(const struct applier *a)
{
	(void)a;
	return NULL;
}
