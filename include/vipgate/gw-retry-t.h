/*
 * Retries' and faults' constants (gw_retry.c): the retryOn condition bits,
 * Envoy's defaults and limits, what ended an attempt and the verdict.
 */
#ifndef VIPGATE_GW_RETRY_T_H
#define VIPGATE_GW_RETRY_T_H

/* retryOn conditions (Envoy's x-envoy-retry-on / x-envoy-retry-grpc-on names). */
#define GW_RETRY_5XX			0x0001u
#define GW_RETRY_GATEWAY_ERROR		0x0002u
#define GW_RETRY_RESET			0x0004u
#define GW_RETRY_RESET_BEFORE_REQUEST	0x0008u
#define GW_RETRY_CONNECT_FAILURE	0x0010u
#define GW_RETRY_RETRIABLE_4XX		0x0020u
#define GW_RETRY_REFUSED_STREAM		0x0040u	/* an HTTP/2 reset: never seen on HTTP/1.1 */
#define GW_RETRY_STATUS_CODES		0x0080u	/* retriable-status-codes */
#define GW_RETRY_RETRIABLE_HEADERS	0x0100u	/* Istio configures no headers: no effect */
#define GW_RETRY_RATELIMITED		0x0200u	/* envoy-ratelimited */
#define GW_RETRY_HTTP3_POST_CONNECT	0x0400u	/* HTTP/3 only */
/* gRPC statuses: read from grpc-status, which HTTP/1.1 answers do not carry */
#define GW_RETRY_GRPC_CANCELLED		0x1000u
#define GW_RETRY_GRPC_DEADLINE		0x2000u
#define GW_RETRY_GRPC_INTERNAL		0x4000u
#define GW_RETRY_GRPC_EXHAUSTED		0x8000u
#define GW_RETRY_GRPC_UNAVAILABLE	0x10000u

/* Envoy's default retry back-off (router: 25 ms base, max 10 x base). */
#define GW_RETRY_BACKOFF_BASE_MS	25
/* host_selection_retry_max_attempts Istio sets with the previous_hosts predicate */
#define GW_RETRY_HOST_PICKS		5
/*
 * Request bodies are kept for replay (retries) and for mirrors up to this
 * many bytes (as framed upstream); a larger body is neither retried nor
 * mirrored (Envoy's retry_or_shadow_abandoned).
 */
#define GW_RETRY_BODY_MAX		(64 * 1024)

/* What ended an attempt. */
enum gw_retry_ev {
	GW_RETRY_EV_STATUS,		/* a response head with a status code */
	GW_RETRY_EV_CONNECT,		/* no connection: refused, unreachable, connect timeout */
	GW_RETRY_EV_RESET,		/* the connection failed or closed before a response head */
	GW_RETRY_EV_PER_TRY_TIMEOUT,
	GW_RETRY_EV_OVERFLOW,		/* a circuit breaker: never retried */
	GW_RETRY_EV_GRPC,		/* a gRPC status in a trailers-only answer's head */
	GW_RETRY_EV_REFUSED,		/* HTTP/2 REFUSED_STREAM (a GOAWAY's unprocessed streams too) */
};

enum gw_retry_verdict {
	GW_RETRY_NO,			/* not a retry condition (or not replayable) */
	GW_RETRY_YES,
	GW_RETRY_EXHAUSTED,		/* a retry condition, no retries left: flag URX */
};

#endif
