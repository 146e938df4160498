/* TCP and TLS passthrough routes at run time (gw_l4_route.c): pure. */
#ifndef VIPGATE_GW_L4_H
#define VIPGATE_GW_L4_H

#include "vipgate/gw-l4-t.h"

/*
 * The rule a connection takes, as Envoy's filter chain match picks it:
 * every match condition must hold (port: the listener's, dst: the address
 * the client reached, src: the client's, sni: the ClientHello's or NULL);
 * among TLS rules the most specific server name wins (exact, then the
 * longest wildcard, then "*"), the first in order on a tie; among TCP
 * rules the first. NULL: none (Envoy closes the connection, flag NR).
 */
const struct gw_l4_route *gw_l4_route_find(const struct gw_l4 *, uint16_t port,
    const struct ipaddr *dst, const struct ipaddr *src, const char *sni);
/* Whether addr is inside the prefix (families must agree). */
int gw_cidr_has(const struct gw_cidr *, const struct ipaddr *addr);
/* A destination by weight; rnd uniform in 32 bits. NULL when there is none. */
const struct gw_dest *gw_l4_pick_dest(const struct gw_l4_route *, uint32_t rnd);

#endif
