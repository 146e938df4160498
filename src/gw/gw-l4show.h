/* vipgatectl's view of TCP and TLS passthrough listeners and rules (gw_l4_show.c). */
#ifndef VIPGATE_GW_L4SHOW_H
#define VIPGATE_GW_L4SHOW_H

#include <jansson.h>

#include "vipgate/gw-t.h"

/* "TCP" or "TLS" (passthrough) for a listener whose l4 is set. */
const char *gw_l4_show_protocol(const struct gw_listener *);
/* The listener's one filter chain as `gateway listeners` lists chains. */
json_t *gw_l4_show_chains(const struct gw_listener *);
/* Every tcp and tls rule, as `gateway routes` rows, appended to arr. */
void gw_l4_show_routes(const struct gw_desired *, json_t *arr);

#endif
