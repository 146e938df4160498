/* Per-worker gateway statistics (gw_stats.c): Istio's series, Envoy's counters. */
#ifndef VIPGATE_GW_STATS_T_H
#define VIPGATE_GW_STATS_T_H

#include <pthread.h>
#include <stdint.h>

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
struct gw_tcpstats;
struct gw_stats {
	pthread_mutex_t	 mu;
	struct gw_stat	*tab[GW_STAT_BUCKETS];
	uint64_t	 cx_total, cx_active, upstream_cx_total, upstream_cx_active;
	uint64_t	 upstream_reuse;
	uint64_t	 cx_http2_total;	/* downstream connections that spoke HTTP/2 */
	/* HTTP/2 (gw_front_h2.c): RST_STREAM received and sent with an error,
	 * GOAWAY sent by enum gw_h2_goaway */
	uint64_t	 h2_rx_reset, h2_tx_reset, h2_goaway[4];
	uint64_t	 yields;		/* the worker gave its CPU away (gw-yield.h) */
	uint64_t	 tcp_spliced;		/* TCP connections whose bytes went by splice(2) */
	uint64_t	 pp_error;		/* closed without a valid PROXY header (gw_ppin.c) */
	/* label texts are costly to build: remember the series of recent tuples */
	struct {
		uint64_t	 gen;
		const void	*cl, *ep;
		const char	*flags;
		int		 code;
		int		 grpc;		/* request_protocol grpc, and the grpc status + 1 */
		struct gw_stat	*e;
	}		 cache[256];
	struct gw_cstat	*ctab[GW_CSTAT_BUCKETS];	/* per cluster, by name */
	struct gw_tcpstats *tcp;	/* Istio's TCP series (gw_l4_log.c), made on first use */
};

#endif
