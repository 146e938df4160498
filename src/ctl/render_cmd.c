/*
 * vipgatectl's output: the renderer for each command (render.c,
 * render_gw.c), chosen here so those files need not know each other.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "vipgate/ctl.h"

int
ctl_render(FILE *f, const char *cmd, const json_t *result)
{
	return ctl_render_cmd(f, cmd, NULL, result, 0);
}

int
ctl_render_cmd(FILE *f, const char *cmd, const char *arg, const json_t *result,
    int width)
{
	if (strcmp(cmd, "gateway") == 0) {
		if (arg == NULL || strcmp(arg, "listeners") == 0)
			return ctl_render_gw_listeners(f, result);
		if (strcmp(arg, "routes") == 0)
			return ctl_render_gw_routes(f, result);
		if (strcmp(arg, "clusters") == 0)
			return ctl_render_gw_clusters(f, result);
		return ctl_render_generic(f, result);
	}
	if (strcmp(cmd, "analyze") == 0)
		return ctl_render_analyze(f, result, width);
	if (strcmp(cmd, "status") == 0)
		return ctl_render_status(f, result);
	if (strcmp(cmd, "services") == 0)
		return ctl_render_services(f, result);
	if (strcmp(cmd, "reload") == 0)
		return ctl_render_reload(f, result);
	if (strcmp(cmd, "bfd") == 0)
		return ctl_render_bfd(f, result);
	return ctl_render_generic(f, result);
}
