/* Snapshot references (gw_snap.c): a leaf every layer may call. */
#ifndef VIPGATE_GW_SNAP_H
#define VIPGATE_GW_SNAP_H

#include <stdint.h>

#include "gw-snap-t.h"

struct gw_snap *gw_snap_ref(struct gw_snap *);
/* Drops a reference; the last one frees the snapshot and its run-time state. */
void gw_snap_unref(struct gw_snap *);
/* The listener of a port and scope (deployment and bind), or NULL. */
const struct gw_listener *gw_snap_listener(const struct gw_snap *, uint16_t port, uint32_t scope);

#endif
