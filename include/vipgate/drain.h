/*
 * The order of a drain (SIGTERM), as a pure decision: no clock, no I/O.
 *
 *  LEAVING  readiness turns 503; BGP routes are sent again with the
 *           GRACEFUL_SHUTDOWN community (RFC 8326; LOCAL_PREF 0 on iBGP),
 *           so the routers move the traffic to the other nodes; L2 hands
 *           its VIPs over at once (the heartbeat's leave); the listeners
 *           keep accepting what the routers still send here, and keep-alive
 *           clients are answered with "Connection: close" or GOAWAY.
 *  CLOSING  after drain.withdraw_after (at once when no route is announced
 *           to an established BGP peer): the routes are withdrawn, the
 *           sessions closed, the listeners closed; requests, streams and
 *           tunnels in flight go on.
 *  DONE     when nothing is left in flight, or after gateway.drain_timeout:
 *           the local addresses go and the daemon exits 0.
 *
 * Handed over (a binary upgrade, vipgated -x: lsock.h) the routes, the
 * VIPs and the listening sockets stay with the node, served by the new
 * process: LEAVING only sends keep-alive clients away for handover ms
 * (the successor's L2 settles meanwhile), CLOSING closes the idle ones,
 * DONE leaves the addresses.
 */
#ifndef VIPGATE_DRAIN_H
#define VIPGATE_DRAIN_H

#include <stddef.h>
#include <stdint.h>

enum drain_phase { DRAIN_NONE, DRAIN_LEAVING, DRAIN_CLOSING, DRAIN_DONE };

/* The least time CLOSING lasts: the NOTIFICATIONs and withdraws leave. */
#define DRAIN_FLUSH_MS		200
/* Handed over: how long keep-alive clients are told to close before idle
 * connections are (a busy client's next answer says it within this); the
 * daemon adds the time an L2 successor takes to settle, during which this
 * process still answers ARP and NDP. */
#define DRAIN_HANDOVER_MS	1000
/* How often CLOSING looks again at what is in flight. */
#define DRAIN_POLL_MS		50

struct drain_in {
	enum drain_phase phase;
	int64_t		 now;		/* ms, any monotonic origin */
	int64_t		 since;		/* when phase began */
	int64_t		 withdraw_after;	/* drain.withdraw_after */
	int64_t		 timeout;	/* gateway.drain_timeout: the whole of CLOSING */
	int		 bgp_routes;	/* routes announced to an established peer */
	int		 handed_over;	/* an upgrade: nothing to wait for but clients */
	int64_t		 handover;	/* handed over: how long LEAVING lasts (ms) */
	size_t		 inflight;	/* connections, requests and tunnels left */
};

struct drain_step {
	enum drain_phase next;		/* may equal phase: nothing to do yet */
	int64_t		 recheck;	/* ms from now to ask again; -1: never */
};

struct drain_step drain_next(const struct drain_in *);
const char *drain_phase_name(enum drain_phase);

#endif
