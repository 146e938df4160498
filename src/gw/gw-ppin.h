/*
 * The PROXY protocol on the gateway's listeners (gw_ppin.c): with
 * gateway.proxy_protocol, an accepted connection first gives its header;
 * then the worker hands it on (w->pp_done) with the addresses it carried.
 */
#ifndef VIPGATE_GW_PPIN_H
#define VIPGATE_GW_PPIN_H

#include <stdint.h>
#include <sys/socket.h>

#include <event2/util.h>

struct gw_worker;

/*
 * Envoy's listener_filters_timeout: the whole header within 15 s of the
 * accept, however it trickles; then the connection is closed.
 */
#define GW_PPIN_TIMEOUT_MS	15000

/* A connection accepted on port; its header read, w->pp_done gets it. */
void gw_ppin_start(struct gw_worker *, uint16_t port, uint32_t scope, int tls, evutil_socket_t fd,
    const struct sockaddr *, int socklen);
/* Closes the connections still waiting for their header (the gateway stops). */
void gw_ppin_close_all(struct gw_worker *);

#endif
