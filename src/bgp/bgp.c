/* the BGP speaker: not built yet. */
#include "config.h"

#include <stddef.h>

#include "vipgate/bgp.h"

struct applier *
bgp_applier_new(const struct applier_env *env)
{
	(void)env;
	return NULL;
}
