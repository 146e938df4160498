/* Planning the BGP part of the desired state, and comparing it. */
#ifndef VIPGATE_BGP_PLAN_H
#define VIPGATE_BGP_PLAN_H

#include "vipgate/bgp-t.h"
#include "vipgate/config-t.h"
#include "vipgate/objects-t.h"

struct vg_arena;
struct store;

/* Order of the stable key: address, port, vrf. */
int bgp_peer_key_cmp(const struct bgp_peer_desired *, const struct bgp_peer_desired *);
/* Whether a change between the two needs a new session. */
int bgp_peer_session_differs(const struct bgp_peer_desired *, const struct bgp_peer_desired *);
int bgp_attrset_eq(const struct bgp_attrset *, const struct bgp_attrset *);
int bgp_prefix_cmp(const struct bgp_prefix *, const struct bgp_prefix *);

#endif
