/*
 * Retries, timeouts and fault injection of a gateway route, as Envoy's
 * router and fault filter apply what istiod configures for them. Pure:
 * no I/O, no clock; callers bring the random numbers. The proxy
 * (gw_proxy.c) asks these functions and keeps the timers.
 */
#ifndef VIPGATE_GW_RETRY_H
#define VIPGATE_GW_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "vipgate/gw-t.h"
#include "vipgate/objects-istio-t.h"

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

/*
 * Parse a retryOn list into pol->on and pol->codes (Istio's parseRetryOn:
 * comma-separated, blanks trimmed, empty items skipped, numbers are status
 * codes). -1 on an unknown condition or too many codes, with the offending
 * item in *bad and *badlen.
 */
int gw_retry_on_parse(const char *s, struct gw_retry_policy *pol, const char **bad,
    size_t *badlen);

/*
 * The policy of an http[] rule: Istio's default when retries is unset
 * (2 retries on connect-failure,refused-stream,unavailable,cancelled,
 * retriable-status-codes with 503), none when attempts is 0, else the
 * default overridden field by field (ConvertPolicy in route/retry/retry.go).
 * -1 when retryOn does not parse (the policy is then Istio's default retryOn).
 */
int gw_retry_policy_compile(const struct k_vs_retries *, struct gw_retry_policy *);

/* What ended an attempt. */
enum gw_retry_ev {
	GW_RETRY_EV_STATUS,		/* a response head with a status code */
	GW_RETRY_EV_CONNECT,		/* no connection: refused, unreachable, connect timeout */
	GW_RETRY_EV_RESET,		/* the connection failed or closed before a response head */
	GW_RETRY_EV_PER_TRY_TIMEOUT,
	GW_RETRY_EV_OVERFLOW,		/* a circuit breaker: never retried */
};

enum gw_retry_verdict {
	GW_RETRY_NO,			/* not a retry condition (or not replayable) */
	GW_RETRY_YES,
	GW_RETRY_EXHAUSTED,		/* a retry condition, no retries left: flag URX */
};

/*
 * Envoy's RetryStateImpl: wouldRetryFromHeaders for a status (an answer
 * with x-envoy-overloaded is never retried), wouldRetryFromReset for the
 * rest. retries_done: retries already made; replayable: 0 when the request
 * body outgrew GW_RETRY_BODY_MAX.
 */
enum gw_retry_verdict gw_retry_decide(const struct gw_retry_policy *, enum gw_retry_ev,
    int status, int overloaded, int64_t retries_done, int replayable);

/*
 * The wait before retry number n (1 for the first): Envoy's
 * JitteredExponentialBackOffStrategy, full jitter: rnd mod an interval that
 * starts at the base and doubles up to the maximum.
 */
uint64_t gw_retry_backoff_ms(const struct gw_retry_policy *, int64_t n, uint64_t rnd);

/* The previous_hosts predicate: whether ep may serve the next try. */
int gw_retry_host_ok(const struct gw_retry_policy *, const void *ep,
    const void *const *tried, size_t ntried);

/*
 * fault (Istio's translateFault): delay percentage, or the deprecated
 * integer percent, and abort percentage, as Envoy FractionalPercent. 0 when
 * the fault does nothing Envoy would apply (no fixedDelay, no httpStatus).
 */
int gw_fault_compile(const struct k_vs_fault *, struct gw_fault *);

/* Whether a FractionalPercent fires for this random number (Envoy's featureEnabled). */
int gw_fraction_hit(uint32_t num, uint32_t den, uint64_t rnd);

/*
 * Envoy's response flags of one request joined in Envoy's order
 * ("UF" + "URX" -> "UF,URX"). The result is interned: equal sets give the
 * same pointer (the statistics cache compares pointers). Thread-safe.
 */
const char *gw_flags_add(const char *flags, const char *add);

#endif
