/*
 * TCP and TLS passthrough connections (gw_l4.c): Envoy's tcp_proxy behind
 * a listener of TCP or PASSTHROUGH servers. A front of its own beside the
 * HTTP one (doc/architecture.md: "raw bytes for TCP"); the worker hands it
 * the connections of such listeners.
 */
#ifndef VIPGATE_GW_L4_RUN_H
#define VIPGATE_GW_L4_RUN_H

#include <sys/socket.h>

#include <event2/util.h>

struct gw_worker;
struct gw_listener;

/*
 * A connection accepted on listener l (l->l4 set) of the worker's snapshot,
 * from peer; local: the address it reached when a PROXY header said so,
 * NULL for the socket's own.
 */
void gw_l4_accept(struct gw_worker *, const struct gw_listener *l, evutil_socket_t fd,
    const struct sockaddr *peer, const struct sockaddr *local);
/* Closes every connection of the worker (the gateway stops). */
void gw_l4_close_all(struct gw_worker *);

#endif
