/*
 * BFD (RFC 5880 asynchronous mode, RFC 5881 single hop): the pure codec and
 * state machine (src/bfd/bfd_pkt.c, src/bfd/bfd_fsm.c), and the sessions the
 * BGP speaker runs on the main loop (src/bfd/bfd_io.c).
 */
#ifndef VIPGATE_BFD_H
#define VIPGATE_BFD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vipgate/bfd-t.h"
#include "vipgate/ipaddr.h"

struct event_base;
struct vg_buf;

/* ---- bfd_pkt.c: the control packet (§4.1) ---- */

/*
 * Decode a control packet and run the checks of §6.8.6 that need no
 * session (version, length, multiplier, M, My Discriminator, A, P with F).
 * Returns BFD_OK or why it must be dropped. Never reads past len.
 */
enum bfd_drop bfd_ctrl_decode(const uint8_t *buf, size_t len, struct bfd_ctrl *);
/* Encode into buf (BFD_CTRL_LEN bytes); returns BFD_CTRL_LEN. */
size_t bfd_ctrl_encode(uint8_t *buf, const struct bfd_ctrl *);
/*
 * Echo packets (IPv4): encode one as a whole IP datagram (BFD_ECHO_LEN
 * bytes) with both checksums; decode one as it came back, checking the IP
 * header, its checksums and our payload. Never reads past len.
 */
size_t bfd_echo_encode(uint8_t *buf, const struct bfd_echo *);
enum bfd_drop bfd_echo_decode(const uint8_t *buf, size_t len, struct bfd_echo *);
const char *bfd_drop_name(enum bfd_drop);
const char *bfd_state_name(enum bfd_state);
const char *bfd_diag_name(enum bfd_diag);

/* ---- bfd_fsm.c: one session (§6.8), no clock, no I/O ---- */

void bfd_session_init(struct bfd_session *, const struct bfd_cfg *, uint32_t local_disc);
/*
 * A received packet that the codec accepted and that was demultiplexed to
 * this session (§6.8.6 from "If the Your Discriminator field is zero"
 * on). Returns BFD_OK, or why it was dropped (nothing changed then).
 */
enum bfd_drop bfd_session_rx(struct bfd_session *, const struct bfd_ctrl *, struct bfd_out *);
/* The detection timer expired (§6.8.4). */
void bfd_session_expired(struct bfd_session *, struct bfd_out *);
/* No echo packet came back within the echo detection time (diag 2). */
void bfd_session_echo_expired(struct bfd_session *, struct bfd_out *);
/* AdminDown (diag 7) or back to Down from it. */
void bfd_session_admin(struct bfd_session *, int down, struct bfd_out *);
/*
 * New configured timers (a reload): advertised at once, with a Poll
 * Sequence when Up; a slower transmit or a faster receive takes effect at
 * the Final (§6.8.3).
 */
void bfd_session_set_cfg(struct bfd_session *, const struct bfd_cfg *, struct bfd_out *);
/* The packet to send now; final sets F (and never P). */
void bfd_session_packet(const struct bfd_session *, int final, struct bfd_ctrl *);
/* Whether periodic packets go out (§6.1 Passive role: not before one came). */
int bfd_session_may_send(const struct bfd_session *);
/* §6.8.7: the interval between two packets, before jitter; µs. */
uint32_t bfd_session_tx_interval(const struct bfd_session *);
/* §6.8.4: the Detection Time in asynchronous mode, 0 when not running; µs. */
uint64_t bfd_session_detect_time(const struct bfd_session *);
/*
 * §6.8.9: the interval between echo packets, 0 while echo does not run
 * (not Up, no echoMode, or the remote loops none back); µs.
 */
uint32_t bfd_session_echo_interval(const struct bfd_session *);
/* How long without a looped-back echo packet means failure; 0: none. */
uint64_t bfd_session_echo_detect_time(const struct bfd_session *);
/*
 * §6.8.7: an interval minus 0-25 % jitter (10-25 % when detect_mult is 1),
 * from the caller's random number.
 */
uint32_t bfd_jitter(uint32_t interval, uint8_t detect_mult, uint32_t rnd);
/*
 * When the packet after one due at due goes out: due + ivl (jittered), so
 * a late timer callback does not shift the packets after it (no drift);
 * now + ivl when even that has passed (a stall: no burst to catch up).
 */
uint64_t bfd_next_due(uint64_t due, uint64_t now, uint32_t ivl);

/* ---- bfd_io.c: sessions on the main loop (RFC 5881 single hop) ---- */

struct bfd_io;		/* the sockets on port 3784 and every session */
struct bfd_peer;	/* one session, with its timers and counters */

struct bfd_io *bfd_io_new(struct event_base *);
/* Every session must have been freed. */
void bfd_io_free(struct bfd_io *);
/*
 * A session to peer from local (family 0: the kernel picks), with the
 * profile's timers; ifindex scopes a link-local peer (0 otherwise). NULL
 * when its socket cannot be made (logged).
 */
struct bfd_peer *bfd_peer_new(struct bfd_io *, const struct ipaddr *peer,
    const struct ipaddr *local, unsigned ifindex, const struct bfd_cfg *,
    const char *profile, bfd_notify_fn *, void *arg);
/* A profile change: new timers through a Poll Sequence, no flap. */
void bfd_peer_set_cfg(struct bfd_peer *, const struct bfd_cfg *, const char *profile);
/* Sends AdminDown once, then frees. */
void bfd_peer_free(struct bfd_peer *);
enum bfd_state bfd_peer_state(const struct bfd_peer *);
/* Whether the session was ever Up since it was made. */
int bfd_peer_was_up(const struct bfd_peer *);

/* ---- bfd_show.c ---- */

/* One session for vipgatectl bfd. */
json_t *bfd_peer_json(const struct bfd_peer *);
/* MetalLB's BFD metrics (metallb_bfd_*) for every session, label peer. */
void bfd_metrics(const struct bfd_io *, struct vg_buf *out);

#endif
