/*
 * Retries, timeouts and fault injection of a gateway route, as Envoy's
 * router and fault filter apply what istiod configures for them. Pure:
 * no I/O, no clock; callers bring the random numbers. The stream
 * (gw_stream.c) asks these functions and keeps the timers.
 */
#ifndef VIPGATE_GW_RETRY_H
#define VIPGATE_GW_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "vipgate/gw-retry-t.h"
#include "vipgate/gw-t.h"
#include "vipgate/objects-istio-t.h"

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
/* grpc-timeout in milliseconds (rounded up), -1: malformed. */
int64_t gw_grpc_timeout_ms(const char *, size_t);
/* Envoy's mappings between HTTP and gRPC statuses (local replies to gRPC requests). */
int gw_http_to_grpc(int http);
int gw_grpc_to_http(int grpc);
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
