/*
 * Inside the Kubernetes API source, types: the HTTP glue (kube_http.c),
 * the List/Watch per kind (source_kube.c) and the Service status writer
 * (kube_status.c) share struct kube_source. Functions are in kube-int.h.
 */
#ifndef VIPGATE_KUBE_INT_T_H
#define VIPGATE_KUBE_INT_T_H

#include <stdint.h>
#include <time.h>

#include <curl/curl.h>

#include "vipgate/objects.h"
#include "vipgate/source-kube.h"
#include "vipgate/util.h"

struct applier;
struct desired;
struct event;
struct event_base;
struct store;
struct kube_xfer;

#define PATCH_BUCKETS		4096
#define KUBE_REQSTATS		64	/* (verb, code) pairs counted */

/* kube_http.c's call when a transfer ended: code is the HTTP status (0: none). */
typedef void (*kube_xfer_done_fn)(struct kube_xfer *, CURLcode rc, long code);

/* One request to the API server, inside its owner (a watch or a status patch). */
struct kube_xfer {
	CURL			*easy;		/* NULL when none is in flight */
	struct curl_slist	*hdrs;
	kube_xfer_done_fn	 done;
	void			*owner;
	const char		*verb;		/* get, list, watch, create, update, patch (metrics) */
	char			 errbuf[CURL_ERROR_SIZE];
	/* the start of an answer no owner reads (kube_http_prepare) */
	char			 body[1024];
	size_t			 nbody;
};

/* libcurl's multi interface on the main loop, and how to reach the server. */
struct kube_http {
	struct event_base	*base;
	struct kube_auth	 auth;
	char			*token;		/* current bearer token */
	int64_t			 token_read;
	CURLM			*multi;
	struct event		*ev_multi;	/* libcurl's timer */
	char			*last_error;
	time_t			 last_error_time;
	char			*user_agent;	/* vipgated/VERSION node/NAME */
	/* answers by verb and HTTP status (0: none), for the metrics */
	struct kube_reqstat {
		const char	*verb;
		long		 code;
		uint64_t	 n;
	}			 reqs[KUBE_REQSTATS];
	size_t			 nreqs;
	/* after each round of ended transfers */
	void			(*round_done)(void *arg);
	void			*round_arg;
};

enum kw_phase { KW_WAIT, KW_LIST, KW_WATCH, KW_ABSENT };

/* The LIST then WATCH of one kind (source_kube.c). */
struct kube_watch {
	struct kube_source	*ks;
	enum obj_kind		 kind;
	const char		*path;
	enum kw_phase		 phase;
	char			*rv;
	char			*cont;		/* the next LIST page's token */
	struct decoded_list	 pages;		/* the LIST so far */
	struct kube_xfer	 x;
	struct vg_buf		 rx;
	int			 listing;	/* the transfer in flight is a LIST */
	int			 relist;	/* an ERROR event said 410 Gone */
	int			 synced;	/* a full list was applied (or the kind is absent) */
	int			 warned_absent;
	int			 failures;	/* in a row, for the backoff */
	int64_t			 started;
	uint64_t		 events;
	uint64_t		 restarts;	/* watches started again (not the first list) */
	struct event		*ev_timer;
};

/* The status write of one Service (kube_status.c). */
struct kpatch {
	struct kpatch		*next;
	struct kube_source	*ks;
	char			*ns, *name;
	char			*want;		/* body to send, NULL when nothing is due */
	char			*inflight;	/* body being sent */
	struct kube_xfer	 x;
	int			 tries;
	int			 queued;
	struct kpatch		*qnext;
	struct event		*ev_retry;
	/* the Events last written on it (kube_events.c), against repeats */
	char			*ev_alloc, *ev_fail, *ev_l2, *ev_bgp;
};

/* The Lease: who writes (kube_lease.c). */
struct kube_elector {
	struct kube_source	*ks;
	char			*ns, *name, *me;
	int			 leading;
	int64_t			 renewed_ms;	/* last successful write, monotonic */
	int64_t			 observed_ms;	/* when the record last changed, as seen here */
	int64_t			 leading_since;	/* wall clock, ms */
	int			 exists;
	struct kube_lease	 cur;		/* as last read or written */
	struct kube_xfer	 x;
	struct vg_buf		 rx;
	char			*wbody;		/* the write in flight */
	int			 writing;	/* the transfer in flight is a write */
	int			 releasing;	/* draining: giving the Lease up */
	struct event		*ev_tick;	/* the retry period */
	struct event		*ev_deadline;	/* the renew deadline */
	uint64_t		 acquired, lost, conflicts;
	char			*holder_seen;	/* the holder last seen, for the log */
};

/* An Event to write (kube_events.c). */
struct kevent {
	struct kevent		*next;
	struct kube_source	*ks;
	char			*ns, *name, *reason, *body;
	char			*patch;		/* refresh: a 409 sends this (lastTimestamp) */
	struct kube_xfer	 x;
};

struct kube_source {
	struct kube_http	 http;
	struct store		*store;
	kube_changed_fn		 changed;
	void			*changed_arg;
	struct kube_watch	 w[K__COUNT];
	size_t			 nw;
	int			 synced;
	int			 watch_timeout_s;	/* a WATCH's timeoutSeconds, before jitter */

	/* the status writer */
	struct kpatch		*patches[PATCH_BUCKETS];
	uint64_t		 patches_ok, patches_failed;
	struct kpatch		*qhead, *qtail;	/* status writes waiting for a turn */
	int			 npatch_inflight;
	struct applier		*status_applier;
	int			 draining;
	/* the state last applied (a reference), against which a Service's
	 * new status is the echo of a write (kube_svc_status_echo) */
	struct desired		*applied;
	/* watch events that changed nothing the store holds, and of them
	 * those that brought a Service's status as it was written */
	uint64_t		 events_unchanged, status_echoes;

	/* one writer among the nodes */
	struct kube_elector	 el;
	char			*node;
	/* the Lease was gained or lost (kube_lease.c -> kube_status.c) */
	void			(*leader_changed)(struct kube_source *);
	/* the Event writer: waiting, in flight */
	struct kevent		*evq_head, *evq_tail;
	struct kevent		*evfly;		/* in flight */
	int			 nev_inflight;
	size_t			 nev_queued;
	uint64_t		 events_written, events_repeated, events_refreshed, events_failed;
	struct kube_evstat {
		const char	*reason;
		uint64_t	 n;
	}			 evstats[8];
	size_t			 nevstats;
};

#endif
