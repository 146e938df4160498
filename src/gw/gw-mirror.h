/* Request mirroring (gw_mirror.c). */
#ifndef VIPGATE_GW_MIRROR_H
#define VIPGATE_GW_MIRROR_H

struct gw_stream;
struct gw_worker;

/* Sends the stream's copies to its route's mirror clusters, once its body is complete. */
void gw_mirror(struct gw_stream *);
/* Closes the worker's shadow connections (the worker stops). */
void gw_mirror_close_all(struct gw_worker *);

#endif
