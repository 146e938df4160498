/* The gateway data plane's insides: snapshots, workers, connections. */
#ifndef VIPGATE_GW_INT_H
#define VIPGATE_GW_INT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/util.h>
#include <http_parser.h>

#include "gw-resil.h"
#include "vipgate/accept-t.h"
#include "vipgate/applier.h"
#include "vipgate/gw-route.h"
#include "vipgate/gw-t.h"
#include "vipgate/reconcile-t.h"
#include "gw-uptls.h"

struct gw_io;
struct event;
struct event_base;
struct evconnlistener;
struct evhttp;
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
};

struct gw_snap *gw_snap_ref(struct gw_snap *);
void gw_snap_unref(struct gw_snap *);

/* Label set of one istio_requests_total series. */
struct gw_stat {
	char		*key;		/* the label text, as printed */
	uint64_t	 requests;
	uint64_t	 dur[20];	/* Envoy buckets + Inf, counts */
	double		 dur_sum;
	uint64_t	 req_bytes[20], resp_bytes[20];
	double		 req_bytes_sum, resp_bytes_sum;
	struct gw_stat	*next;
};

#define GW_STAT_BUCKETS 256

/* Envoy's per-cluster retry counters (cluster.<name>.upstream_rq_retry...). */
enum gw_cstat_kind {
	GW_CS_RETRY,			/* upstream_rq_retry */
	GW_CS_RETRY_SUCCESS,		/* upstream_rq_retry_success */
	GW_CS_RETRY_LIMIT,		/* upstream_rq_retry_limit_exceeded */
	GW_CS_RETRY_ABANDONED,		/* retry_or_shadow_abandoned: the body outgrew the buffer */
	GW_CS_SSL_HANDSHAKE,		/* ssl.handshake: upstream TLS handshakes done */
	GW_CS_SSL_SESSION_REUSED,	/* ssl.session_reused: ... of them resumed */
	GW_CS_SSL_CONNECTION_ERROR,	/* ssl.connection_error: failed, not by verification */
	GW_CS_SSL_FAIL_VERIFY_ERROR,	/* ssl.fail_verify_error: the chain or CRL refused it */
	GW_CS_SSL_FAIL_VERIFY_SAN,	/* ssl.fail_verify_san: no SAN matched */
	GW_CS_MAX
};
struct gw_cstat {
	char		*cluster;
	uint64_t	 n[GW_CS_MAX];
	struct gw_cstat	*next;
};
#define GW_CSTAT_BUCKETS 64
struct gw_stats {
	pthread_mutex_t	 mu;
	struct gw_stat	*tab[GW_STAT_BUCKETS];
	uint64_t	 cx_total, cx_active, upstream_cx_total, upstream_cx_active;
	uint64_t	 upstream_reuse;
	uint64_t	 yields;		/* the worker gave its CPU away (gw-yield.h) */
	/* label texts are costly to build: remember the series of recent tuples */
	struct {
		uint64_t	 gen;
		const void	*cl, *ep;
		const char	*flags;
		int		 code;
		struct gw_stat	*e;
	}		 cache[256];
	struct gw_cstat	*ctab[GW_CSTAT_BUCKETS];	/* per cluster, by name */
};

extern const double gw_buckets_ms[19];

struct gw_uconn;
TAILQ_HEAD(gw_uconn_list, gw_uconn);
struct gw_dconn;
TAILQ_HEAD(gw_dconn_list, gw_dconn);
struct gw_shadow;
TAILQ_HEAD(gw_shadow_list, gw_shadow);

struct gw_wlis {
	uint16_t		 port;
	int			 tls;
	char			*addr;		/* the gateway.bind entry */
	struct evconnlistener	*l;
};

struct gw_ctx;

struct gw_worker {
	struct gw_ctx		*ctx;
	int			 id;
	int			 cpu;		/* bound to this CPU; -1: not bound */
	pthread_t		 th;
	struct event_base	*base;
	int			 efd;		/* eventfd: the main thread pokes */
	struct event		*ev_notify;
	struct gw_snap		*snap;		/* newest this worker adopted */
	struct gw_wlis		*lis;
	size_t			 nlis;
	struct gw_uconn_list	 idle;		/* keep-alive upstream connections */
	struct gw_dconn_list	 conns;		/* downstream connections */
	struct gw_shadow_list	 shadows;	/* mirrored requests in flight */
	size_t			 nidle;
	uint64_t		 rng;
	uint64_t		 applied_gen;	/* read by the main thread */
	int			 bind_errors;
	size_t			 nconns;	/* downstream connections */
	size_t			 inflight;	/* requests */
	int			 draining;
	struct gw_stats		 stats;
	struct gw_dreq		*dr_pool;	/* finished requests kept with their buffers */
	size_t			 ndr_pool;
	struct gw_uptls_cache	*upcache;	/* upstream TLS sessions (gw_uptls.c) */
	struct gw_rs_worker	 rs;		/* requests waiting for a connection (gw_resil.c) */
	/* accepting (gw_worker.c): the listeners are on while no flag is set */
	unsigned		 acc_flags;
#define GW_ACC_F_FAILED	0x1	/* accept() ran out of descriptors or memory: retried
				   after VG_ACCEPT_RETRY_MS or when a connection closes */
#define GW_ACC_F_FULL	0x2	/* max_conns reached: resumed when a connection closes */
	struct event		*ev_acc_retry;
	struct vg_accept_state	 acc;		/* accept() failures (accept.h); counters atomic */
	uint64_t		 acc_full;	/* times max_conns stopped accepting (atomic) */
	int64_t			 full_logged_ms;
	uint64_t		 full_unlogged;
};

struct gw_ctx {
	const struct applier_env *env;
	struct applier		 ap;
	pthread_mutex_t		 mu;
	struct gw_snap		*snap;		/* newest; under mu */
	uint64_t		 gen;
	struct gw_worker	*w;
	size_t			 nw;
	int			 draining;	/* under mu */
	int			 stopping;
	int			 efd;		/* eventfd: workers poke the main thread */
	struct event		*ev_main;
	struct event		*ev_files;	/* DestinationRule TLS files watched */
	struct evhttp		*health, *stats;
	uint16_t		 health_port, stats_port;
	int			 ready_reported;
	char			*gw_ns;		/* gateway.namespace, for metric labels */
	int			 alog_fd;	/* access log; -1: off */
	int			 alog_json;
	struct gw_ident		*ident;		/* gateway.identity, for ISTIO_MUTUAL upstreams */
	struct gw_cl_rt		**rs_cls;	/* kept across snapshots, sorted by name (gw_resil.c) */
	size_t			 rs_ncls;
	size_t			 base_fds;	/* open when the gateway started */
	size_t			 auto_max_conns;	/* the last max_connections auto, as logged */
};

/* gw.c: max_connections auto, a worker's share of nofile descriptors. */
size_t gw_auto_max_conns(uint64_t nofile, size_t base_fds, size_t nworkers, size_t nlisteners);

/* gw_worker.c */
int gw_worker_start(struct gw_worker *);
/* A downstream connection of this worker closed: accepting may resume. */
void gw_worker_conn_closed(struct gw_worker *);
void gw_worker_poke(struct gw_worker *);
uint64_t gw_rand(struct gw_worker *);

/* gw_proxy.c */
void gw_accept(struct gw_worker *, uint16_t port, int tls, evutil_socket_t fd,
    const struct sockaddr *, int socklen);
void gw_idle_close_all(struct gw_worker *);
void gw_conns_close_all(struct gw_worker *);
void gw_dr_pool_free(struct gw_worker *);
void gw_shadows_close_all(struct gw_worker *);

/* gw_lb.c: pure picks. */
struct gw_lbstate *gw_lb_state(struct gw_snap *, int worker, const struct gw_cluster *);
void gw_lb_acquire(struct gw_lbstate *, const struct gw_endpoint *);
void gw_lb_release(struct gw_lbstate *, const struct gw_endpoint *);
const struct gw_endpoint *gw_lb_pick(const struct gw_cluster *, struct gw_lbstate *,
    uint64_t (*rnd)(void *), void *rarg, uint64_t hash, int have_hash);

/* gw_lb_hash.c: Envoy's ring hash and Maglev tables. */
struct gw_hashtab *gw_hashtab_new(const struct gw_cluster *);
void gw_hashtab_free(struct gw_hashtab *);
/* The endpoint index for a key; attempt > 0: the next candidates in turn. */
size_t gw_hashtab_pick(const struct gw_hashtab *, uint64_t hash, size_t attempt);

/* gw_stats.c */
void gw_stats_init(struct gw_stats *);
void gw_stats_free(struct gw_stats *);
/* The series of a label text (made when new); the caller holds the lock. */
struct gw_stat *gw_stats_series(struct gw_stats *, const char *key);
void gw_stats_add(struct gw_stat *, double ms, uint64_t req_bytes, uint64_t resp_bytes);
void gw_stats_record(struct gw_stats *, const char *key, double ms,
    uint64_t req_bytes, uint64_t resp_bytes);
void gw_stats_render(struct gw_ctx *, struct vg_buf *);
/* Count one event of a cluster (takes the lock). */
void gw_stats_cluster(struct gw_stats *, const char *cluster, enum gw_cstat_kind);
void gw_stats_render_clusters(struct gw_ctx *, struct vg_buf *);

/* gw_tls.c */
/*
 * The TLS 1.2 suites Envoy offers when cipher_suites is not set, the same
 * list for servers and clients (envoy api/.../tls/v3/common.proto,
 * TlsParameters.cipher_suites, non-FIPS): ECDHE only (forward secrecy),
 * AEADs only (no CBC). Envoy's BoringSSL puts AES128-GCM and
 * ChaCha20-Poly1305 in one equal-preference group per key type; OpenSSL
 * has no such groups, so each ChaCha20 suite follows its AES128-GCM twin
 * and SSL_OP_PRIORITIZE_CHACHA lets a client that prefers ChaCha20 (no AES
 * hardware) have it, which is what the group gives. TLS 1.3 suites are
 * OpenSSL's own (the same three BoringSSL offers).
 */
#define GW_TLS_ENVOY_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:" \
	"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"
SSL_CTX *gw_tls_ctx_new(const struct gw_tls *, struct gw_tlsl *);

#endif
