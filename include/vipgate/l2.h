/* L2 mode: ARP/NDP announcer and responder, election, heartbeats. */
#ifndef VIPGATE_L2_H
#define VIPGATE_L2_H

#include <sys/types.h>

#include "vipgate/applier.h"
#include "vipgate/l2-t.h"

/* NULL when there is nothing to run (logged when that is a failure). */
struct applier *l2_applier_new(const struct applier_env *);

/* The speakers heard alive, for reconcile's election (live_view.l2). */
const struct l2_live *l2_applier_live(const struct applier *);

/*
 * Frame codec (src/l2/frame.c): pure. Decoders return the bytes consumed
 * or an enum l2_err; builders return the frame length, 0 when cap is short.
 */
int l2_arp_parse(const uint8_t *buf, size_t len, struct l2_arp *);
size_t l2_arp_build(uint8_t *buf, size_t cap, const struct l2_arp *);
/* Gratuitous ARP (RFC 5227 announcement form) for vip from mac, request or reply. */
size_t l2_garp_build(uint8_t *buf, size_t cap, const uint8_t mac[6], const uint8_t vip[4],
    uint16_t op);
/* The reply to an ARP request for its target, from mac. */
size_t l2_arp_reply_build(uint8_t *buf, size_t cap, const struct l2_arp *req,
    const uint8_t mac[6]);
int l2_ns_parse(const uint8_t *buf, size_t len, struct l2_ns *);
size_t l2_ns_build(uint8_t *buf, size_t cap, const struct l2_ns *);
int l2_na_parse(const uint8_t *buf, size_t len, struct l2_na *);
size_t l2_na_build(uint8_t *buf, size_t cap, const struct l2_na *);
/* Unsolicited NA (to ff02::1, O=1, S=0) for vip from (mac, link-local src). */
size_t l2_unsolicited_na_build(uint8_t *buf, size_t cap, const uint8_t mac[6],
    const uint8_t src[16], const uint8_t vip[16]);
/* The solicited NA (S=1, O=0, target link-layer option) answering ns, from mac. */
size_t l2_na_reply_build(uint8_t *buf, size_t cap, const struct l2_ns *ns,
    const uint8_t mac[6]);
/* ff02::1:ffXX:XXXX for an address, and its Ethernet group 33:33:ff:XX:XX:XX. */
void l2_solicited_node(const uint8_t addr[16], uint8_t group[16], uint8_t mac[6]);
const char *l2_strerror(int);

/* Heartbeat codec (src/l2/heartbeat.c): HMAC-SHA256 over the whole message. */
size_t l2_hb_build(uint8_t *buf, size_t cap, const struct l2_hb *, const uint8_t *key,
    size_t keylen);
int l2_hb_parse(const uint8_t *buf, size_t len, const uint8_t *key, size_t keylen,
    struct l2_hb *);
/* 0: fresh (and recorded); -1: a replay, or older than the window or incarnation. */
int l2_replay_check(struct l2_replay *, uint64_t incarnation, uint64_t seq);

/*
 * A peer's liveness (src/l2/heartbeat.c): an authenticated heartbeat heard
 * at now, a clock tick at now, and when the peer would turn dead (the
 * longer of its interval and ours, L2_DEAD_INTERVALS times).
 */
enum l2_peer_ev l2_peer_heard(struct l2_peer_state *, const struct l2_hb *, int64_t now);
enum l2_peer_ev l2_peer_tick(struct l2_peer_state *, uint32_t own_interval_ms, int64_t now);
int64_t l2_peer_deadline(const struct l2_peer_state *, uint32_t own_interval_ms);

/*
 * The election (src/l2/elect.c), MetalLB's ShouldAnnounce order: highest
 * weight first, then the smallest sha256(node + "#" + vip). Returns the
 * winner's index, or -1 when there is no candidate.
 */
ssize_t l2_elect(const struct l2_cand *, size_t n, const char *vip);

#endif
