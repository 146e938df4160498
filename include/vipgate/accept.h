/*
 * accept() failures without a spin or a log flood: which errors stop a
 * listener, the episode bookkeeping behind one log line per episode (and
 * per VG_ACCEPT_LOG_MS while it lasts), and a guard for the main thread's
 * listeners (control socket, health and stats ports, BGP).
 */
#ifndef VIPGATE_ACCEPT_H
#define VIPGATE_ACCEPT_H

#include "vipgate/accept-t.h"

struct event_base;
struct timeval;
struct evconnlistener;
struct vg_buf;

extern const char *const vg_accept_reason_names[VG_ACC_NREASONS];
extern const struct timeval vg_accept_retry_tv;	/* VG_ACCEPT_RETRY_MS */

enum vg_accept_reason vg_accept_reason(int err);
/*
 * 1 when accept() failed for want of descriptors or memory, or for a reason
 * it would repeat at once: the listener must stop until later, since its
 * pending connections keep it readable. 0 for the errors Linux reports for
 * the one connection accept() dropped (accept(2): treat as EAGAIN).
 */
int vg_accept_pauses(int err);
/* A failed accept() at now: counts it, says what to log. */
enum vg_accept_log vg_accept_fail(struct vg_accept_state *, int err, int64_t now);
/* A connection accepted at now: ends the episode VG_ACCEPT_QUIET_MS after
 * its last failure (VG_ACC_LOG_RESUMED once). */
enum vg_accept_log vg_accept_ok(struct vg_accept_state *, int64_t now);
/* Logs what vg_accept_fail or vg_accept_ok asked for; what names the listener. */
void vg_accept_log(const struct vg_accept_state *, enum vg_accept_log, int64_t now,
    const char *what);

/*
 * The main thread's listeners: on a failure that pauses, the listener is
 * disabled and re-enabled VG_ACCEPT_RETRY_MS later. owner groups the
 * listeners one accept callback (or one evhttp) serves; name is the metric's
 * listener label (a string that outlives the guard). Main thread only.
 */
void vg_lguard_add(struct event_base *, struct evconnlistener *, const void *owner,
    const char *name);
/* The owner accepted a connection: ends its listeners' episodes. */
void vg_lguard_ok(const void *owner);
/* Before the owner frees its listeners. */
void vg_lguard_drop(const void *owner);
/* vipgate_listener_accept_errors_total and ..._paused_total, by listener. */
void vg_lguard_metrics(struct vg_buf *);

#endif
