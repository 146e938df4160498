/* The front: downstream connections (gw_front.c; HTTP/2 in gw_front_h2.c). */
#ifndef VIPGATE_GW_FRONT_H
#define VIPGATE_GW_FRONT_H

#include <stdint.h>
#include <sys/socket.h>

#include <event2/util.h>

struct gw_snap;
struct gw_worker;

/*
 * A connection the worker accepted on a listener's port (tls: terminate
 * TLS on it) from peer; local: the address it reached when a PROXY header
 * said so, NULL for the socket's own.
 */
void gw_front_accept(struct gw_worker *, uint16_t port, uint32_t scope, int tls, evutil_socket_t fd,
    const struct sockaddr *peer, const struct sockaddr *local);
/* A new snapshot: connections on a port it no longer has drain (as draining does). */
void gw_front_ports(struct gw_worker *, const struct gw_snap *);
/* Draining: HTTP/2 connections say GOAWAY, their streams in flight finish;
 * close_idle closes the HTTP/1 keep-alive connections that wait for a request. */
void gw_front_drain(struct gw_worker *, int close_idle);
/* Closes every downstream connection of the worker (it stops). */
void gw_front_close_all(struct gw_worker *);

#endif
