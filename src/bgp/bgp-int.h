/* The BGP speaker's functions shared by its files (types in bgp-int-t.h). */
#ifndef VIPGATE_BGP_INT_H
#define VIPGATE_BGP_INT_H

#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "bgp-int-t.h"

struct bgp_prefix;
struct bgp_tx_session;
struct ctl_request;
struct event_base;
struct ipaddr;
struct vg_buf;

/* ---- bgp.c ---- */

/* Whether the peer's session carries the prefix's address family. */
int bgp_peer_family_ok(const struct peer *, const struct bgp_prefix *);
/* What the peer's UPDATEs are built with: AS numbers, iBGP, next hops. */
void bgp_peer_tx_session(const struct peer *, struct bgp_tx_session *);

/* ---- bgp_show.c: the applier's show and metrics (applier.h) ---- */

json_t *bgp_show(struct applier *, const struct ctl_request *, char **err);
void bgp_metrics(struct applier *, struct vg_buf *out);

/* ---- bgp_sock.c ---- */

/* Close once what was written (a NOTIFICATION) has gone out, within 2 s. */
void bgp_conn_close(struct bufferevent *);
/* The TCP MD5 key (RFC 2385) for peer on fd; NULL deletes it. */
int bgp_md5_set(int fd, const struct ipaddr *peer, const char *key);
socklen_t bgp_to_sockaddr(const struct ipaddr *, uint16_t port, struct sockaddr_storage *);
/* An IPv4-mapped IPv6 address comes back as IPv4; port may be NULL. */
void bgp_from_sockaddr(const struct sockaddr *, struct ipaddr *, uint16_t *port);
/* No Nagle; eBGP with TTL 1 unless ebgpMultiHop. */
void bgp_sock_opts(int fd, const struct bgp_peer_desired *);
/*
 * RFC 2545 §3: the link-local address of the interface that has local and
 * peer on its prefix, sent with the global next hop; family 0 when none.
 */
void bgp_find_link_local(const struct ipaddr *local, const struct ipaddr *peer,
    struct ipaddr *ll);

/* ---- bgp_unnum.c: unnumbered peers' link-local addresses ---- */

struct bgp_unnum;
typedef void bgp_unnum_fn(void *arg, const struct ipaddr *ll);

/* ICMPv6 echo request (id "vg") and Router Advertisement (lifetime 0). */
size_t bgp_nd_echo_build(uint8_t *buf /* 8 */, uint16_t seq);
size_t bgp_nd_ra_build(uint8_t *buf /* 16 */);
/* Whether an ICMPv6 message names a neighbor: an RA, or a reply to ours. */
int bgp_nd_learns(const uint8_t *buf, size_t len);
/* Learns on ifname, telling fn each address heard from; sends RAs. */
struct bgp_unnum *bgp_unnum_new(struct event_base *, const char *ifname, bgp_unnum_fn *fn,
    void *arg);
/* Ask all nodes on the link (echo to ff02::1). */
void bgp_unnum_probe(struct bgp_unnum *);
/* The interface's index, 0 while it does not exist. */
unsigned bgp_unnum_ifindex(const struct bgp_unnum *);
void bgp_unnum_free(struct bgp_unnum *);

#endif
