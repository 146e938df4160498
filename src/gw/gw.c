/* the gateway data plane: not built yet. */
#include "config.h"

#include <stddef.h>

#include "vipgate/gw.h"

struct applier *
gw_applier_new(const struct applier_env *env)
{
	(void)env;
	return NULL;
}
