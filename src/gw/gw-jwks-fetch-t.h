/*
 * JWKS fetcher types (gw_jwks_fetch.c): one entry a jwksUri, the job a
 * fetch thread runs, and the mailbox through which finished jobs come
 * back to the main loop.
 */
#ifndef VIPGATE_GW_JWKS_FETCH_T_H
#define VIPGATE_GW_JWKS_FETCH_T_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;

/*
 * istiod's schedule (pilot/pkg/features/pilot.go, pilot/pkg/model/
 * jwks_resolver.go): a good copy is refreshed every
 * PILOT_JWT_PUB_KEY_REFRESH_INTERVAL; after a failed fetch the next try
 * comes 1 minute later, the delay doubling up to 60 minutes, and the last
 * good keys stay in use meanwhile. VG_JWKS_REFRESH_MS and VG_JWKS_RETRY_MS
 * in the environment override the first two (tests); the cap stays
 * GW_JWKS_RETRY_MAX_MS / GW_JWKS_RETRY_MS times the first retry.
 */
#define GW_JWKS_REFRESH_MS	(20 * 60 * 1000)
#define GW_JWKS_RETRY_MS	(60 * 1000)
#define GW_JWKS_RETRY_MAX_MS	(60 * 60 * 1000)
/* JWTRule.timeout's default (request_authentication.proto) */
#define GW_JWKS_TIMEOUT_MS	5000
/* A JWKS is a few kB; a larger answer is refused rather than buffered. */
#define GW_JWKS_MAX_BYTES	(1024 * 1024)

/* What the fetch thread hands back; the thread never reads an entry. */
struct gw_jwks_job {
	struct gw_jwks_mbox	*mbox;		/* where the result goes */
	struct gw_jwks_entry	*e;		/* the main loop's, carried only */
	char			*uri;
	int64_t			 timeout_ms;
	char			*body;		/* NUL-terminated when ok */
	size_t			 len, cap;
	int			 too_big;	/* the body passed GW_JWKS_MAX_BYTES */
	int			 ok;		/* status 200 and a body within the cap */
	char			 err[320];	/* why not ok */
	struct gw_jwks_job	*next;
};

/*
 * Finished jobs wait here for the main loop. Shared by the fetcher and
 * every running thread, each holding a reference, so that a fetcher freed
 * while threads run leaves them a place to drop their results: the last
 * one out frees it.
 */
struct gw_jwks_mbox {
	pthread_mutex_t		 mu;
	int			 refs;		/* under mu */
	int			 closed;	/* the fetcher is gone; under mu */
	int			 efd;		/* eventfd: a job is done */
	struct gw_jwks_job	*done;		/* under mu */
};

/* One jwksUri. */
struct gw_jwks_entry {
	struct gw_jwks_fetcher	*f;
	char			*uri;
	char			*doc;		/* the last good JWKS, or NULL */
	size_t			 len;
	int			 failed;	/* the last fetch failed */
	int			 fetching;	/* a thread runs for it */
	int64_t			 asked_ms;	/* the last gw_jwks_fetcher_get() */
	int64_t			 timeout_ms;	/* the latest asker's timeout */
	int64_t			 backoff_ms;	/* the last retry delay; 0 after a success */
	uint64_t		 fetches, failures;
	char			*last_err;	/* the last failure's reason, or NULL */
	struct event		*timer;		/* the next fetch, when not fetching */
	struct gw_jwks_entry	*next;
};

struct gw_jwks_fetcher {
	struct event_base	*base;
	void			(*changed)(void *);
	void			*arg;
	struct gw_jwks_mbox	*mbox;
	struct event		*ev_done;	/* on mbox->efd */
	struct gw_jwks_entry	*entries;
	int64_t			 refresh_ms, retry_ms, retry_max_ms;
};

/* An entry as gw_jwks_fetcher_stats() shows it. */
struct gw_jwks_stats {
	int			 have_doc;
	int			 failed;
	int			 fetching;
	uint64_t		 fetches;	/* finished, good or not */
	uint64_t		 failures;
	const char		*last_err;	/* owned by the fetcher, or NULL */
};

#endif
