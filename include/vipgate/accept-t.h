/* Types of the accept() failure accounting (src/core/accept.c). */
#ifndef VIPGATE_ACCEPT_T_H
#define VIPGATE_ACCEPT_T_H

#include <stdint.h>

/*
 * A listener whose accept() ran out of descriptors or memory stops
 * accepting and tries again this much later (HAProxy re-enables such a
 * listener after 100 ms), or sooner when one of its connections closes.
 */
#define VG_ACCEPT_RETRY_MS	100
/* While it keeps failing, one line this often says so, with a count. */
#define VG_ACCEPT_LOG_MS	10000
/*
 * An episode ends at an accepted connection this long after the last
 * failure: as descriptors come free one at a time, accept() succeeds and
 * fails in turn, and that must make one line, not two a connection.
 */
#define VG_ACCEPT_QUIET_MS	1000

/* Why accept() failed, as the metrics' reason label says it. */
enum vg_accept_reason {
	VG_ACC_EMFILE,		/* the process's RLIMIT_NOFILE */
	VG_ACC_ENFILE,		/* the system's fs.file-max */
	VG_ACC_ENOBUFS,		/* socket buffers */
	VG_ACC_ENOMEM,		/* kernel memory */
	VG_ACC_OTHER,		/* anything else, including one connection's own error */
	VG_ACC_NREASONS
};

/* What the caller is to log after a failure or a success. */
enum vg_accept_log {
	VG_ACC_LOG_NONE,
	VG_ACC_LOG_PAUSED,	/* an episode starts: accepting stops */
	VG_ACC_LOG_STILL,	/* it goes on: failures since the last line */
	VG_ACC_LOG_RESUMED,	/* accepted, VG_ACCEPT_QUIET_MS after the last failure */
};

/*
 * One listener's (or one worker's listeners') accept() failures: counters
 * the metrics read from another thread (atomics), and the current episode,
 * from the first failure that stopped accepting to the next success.
 */
struct vg_accept_state {
	uint64_t	errors[VG_ACC_NREASONS];	/* failed accept() calls */
	uint64_t	pauses[VG_ACC_NREASONS];	/* episodes, by their first failure */
	int64_t		since_ms;	/* the episode's start; 0: none */
	int64_t		logged_ms;	/* its last line */
	int64_t		failed_ms;	/* its last failure */
	uint64_t	failures;	/* in the episode */
	int		err;		/* the last errno */
	int64_t		last_ms;	/* the episode just over: first to last failure */
	uint64_t	last_failures;	/* and how many accept() calls failed in it */
};

#endif
