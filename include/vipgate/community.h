/* BGP communities in MetalLB's syntax (src/core/community.c). */
#ifndef VIPGATE_COMMUNITY_H
#define VIPGATE_COMMUNITY_H

#include <stdint.h>

#include "vipgate/community-t.h"

/*
 * Communities in MetalLB's syntax: "65000:100", well-known names
 * ("no-export", ...), "large:1:2:3". Returns 1 standard (*std), 2 large
 * (*lc), -1 invalid.
 */
int bgp_community_parse(const char *, uint32_t *std, struct bgp_large_comm *lc);

#endif
