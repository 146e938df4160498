/* The upstream request head (gw_uphead.c). */
#ifndef VIPGATE_GW_UPHEAD_H
#define VIPGATE_GW_UPHEAD_H

#include <stddef.h>

struct gw_match;
struct gw_stream;

/*
 * Builds st->uphead for the route and destination st holds: m is what the
 * route matched (its rewrite), host the authority to send.
 */
void gw_uphead_build(struct gw_stream *, const struct gw_match *m, const char *host,
    size_t hostlen);

/* st->reqid: the client's x-request-id, or a new UUID (once a request). */
void gw_stream_reqid(struct gw_stream *);

#endif
