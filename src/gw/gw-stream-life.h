/* How a stream ends (gw_stream_life.c): shared by the stream layer's files. */
#ifndef VIPGATE_GW_STREAM_LIFE_H
#define VIPGATE_GW_STREAM_LIFE_H

#include "gw-stream-t.h"

/* The endpoint's load-balancer and breaker shares go back. */
void gw_stream_release_ep(struct gw_stream *);
/* Both directions are done: the front frees the stream and goes on. */
void gw_stream_maybe_done(struct gw_stream *);

#endif
