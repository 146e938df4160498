/* A compiled gateway as the workers run it: the snapshot (gw_snap.c). */
#ifndef VIPGATE_GW_SNAP_T_H
#define VIPGATE_GW_SNAP_T_H

#include <stddef.h>
#include <stdint.h>

#include "gw-uptls-t.h"
#include "vipgate/gw-t.h"

struct desired;
struct gw_desired;
struct gw_rx;
struct gw_cl_rt;
struct gw_ep_rt;
struct gw_hashtab;
struct gw_jwks;
typedef struct ssl_ctx_st SSL_CTX;

#define GW_HWM			(256 * 1024)	/* stop reading the other side above this */
#define GW_LWM			(64 * 1024)	/* and resume below this */
#define GW_IDLE_TIMEOUT_MS	300000		/* downstream keep-alive idle (gateway.idle_timeout) */
#define GW_HEADER_TIMEOUT_MS	30000		/* request head (gateway.header_timeout) */

/* Per-worker, per-cluster load-balancer state: only its worker touches it. */
struct gw_lbstate {
	uint32_t	 rr;
	int64_t		*cur;		/* smooth weighted round robin */
	uint32_t	*active;	/* requests in flight, when there is no shared state */
	struct gw_ep_rt	**shared;	/* the snapshot's, when there is (gw-resil.h) */
	struct gw_cl_rt	*cl;
	size_t		 n;
	struct gw_hashtab *ht;		/* ring hash or Maglev table, made on first use */
};

struct gw_snap;
/* The SNI callback's argument: which listener of which snapshot. */
struct gw_tlsl {
	struct gw_snap	*s;
	size_t		 li;
};
/* What a TLS connection learns at its handshake. */
struct gw_tls_conn {
	size_t		chain;
};

/*
 * An immutable compiled gateway plus what it needs at run time; refcounted
 * (workers and requests hold references).
 */
struct gw_snap {
	int			 refcnt;
	uint64_t		 gen;
	struct desired		*d;
	const struct gw_desired	*g;
	struct gw_rx		*rx;
	size_t			 nworkers;
	struct gw_lbstate	**lb;		/* [worker][cluster], made lazily by each worker */
	struct gw_cl_rt		**crt;		/* [cluster]: breakers, outlier state (gw_resil.c) */
	struct gw_ep_rt		***ert;		/* [cluster][endpoint id] */
	SSL_CTX			***ssl;		/* [listener][chain]: NULL for plain or broken chains */
	struct gw_tlsl		*tlsl;		/* [listener] */
	char			**bind;		/* gateway.bind when it was made */
	size_t			  nbind;
	struct gw_uptls_snap	 up;		/* upstream TLS contexts (gw_uptls.c) */
	/* gateway.* limits when it was made: a reload changes them for new requests */
	int64_t			 header_timeout_ms, idle_timeout_ms;
	int64_t			 yield_after_us;	/* gw-yield.h; 0: never */
	uint32_t		 max_header_bytes;
	unsigned		 trusted_hops;
	int			 pathnorm;	/* enum gw_pathnorm */
	size_t			 max_conns;	/* gateway.max_connections a worker, resolved; 0: none */
	int			 proxy_protocol;	/* gateway.proxy_protocol: a header first */
	/* RequestAuthentication: the key set of each provider (g->reqauthn->p[i]);
	 * NULL: none to check tokens with (not fetched, failed, broken) */
	struct gw_jwks		**jwks;		/* every deployment's providers, one after another */
	size_t			  njwks;
	size_t			 *jwks_off;	/* deployment d's first: jwks[jwks_off[d]] */
};

#endif
