/* The gateway applier's context (gw.c): what the main thread and the workers share. */
#ifndef VIPGATE_GW_CTX_T_H
#define VIPGATE_GW_CTX_T_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "vipgate/applier.h"

struct event;
struct evhttp;
struct gw_cl_rt;
struct gw_ident;
struct gw_jwks_fetcher;
struct gw_snap;
struct gw_worker;

struct gw_ctx {
	const struct applier_env *env;
	struct applier		 ap;
	pthread_mutex_t		 mu;
	struct gw_snap		*snap;		/* newest; under mu */
	uint64_t		 gen;
	struct gw_worker	*w;
	size_t			 nw;
	int			 draining;	/* under mu: listeners closed (drain CLOSING) */
	int			 leaving;	/* under mu: unready, no keep-alive (drain LEAVING) */
	int			 handed;	/* under mu: upgraded, the listeners are the new process's */
	int			 stopping;
	int			 efd;		/* eventfd: workers poke the main thread */
	struct event		*ev_main;
	struct event		*ev_files;	/* DestinationRule TLS files watched */
	struct evhttp		*health, *stats;
	uint16_t		 health_port, stats_port;
	int			 ready_reported;
	const char		*why_reported;	/* ctx_unready() when last reported */
	uint64_t		 unbound_reported;	/* ctx_unbound() when last reported */
	char			**unbound;	/* gw_applier_unbound's answer: deployment names */
	size_t			 nunbound;
	char			*gw_ns;		/* gateway.namespace, for metric labels */
	int			 alog_fd;	/* access log; -1: off */
	int			 alog_json;
	struct gw_ident		*ident;		/* gateway.identity, for ISTIO_MUTUAL upstreams */
	struct gw_cl_rt		**rs_cls;	/* kept across snapshots, sorted by name (gw_resil.c) */
	size_t			 rs_ncls;
	size_t			 base_fds;	/* open when the gateway started */
	size_t			 auto_max_conns;	/* the last max_connections auto, as logged */
	struct gw_jwks_fetcher	*jwks;		/* jwksUri key sets (gw_jwks_fetch.c), made on first use */
};

#endif
