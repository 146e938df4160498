/*
 * The gateway's fetcher of RequestAuthentication jwksUri documents, as
 * istiod's JwksResolver does it in the default PILOT_JWT_ENABLE_REMOTE_JWKS
 * =false mode (pilot/pkg/model/jwks_resolver.go): the JWKS is fetched out
 * of the data path, kept, refreshed on a schedule, and a URI whose fetch
 * failed with no good copy fails closed (istiod inlines PublicOnlyJwks:
 * every token is refused, requests without one still pass).
 *
 * It lives on the main thread's event loop. Each fetch is one HTTP(S) GET
 * by libcurl's easy API on a short-lived thread of its own (libcurl loaded
 * lazily, curl_lazy.h), so neither the main loop nor the gateway workers
 * ever wait on a JWKS server; the result comes back through an eventfd.
 * The fetcher only transports: the caller parses the document
 * (gw_jwks_parse()), and a document that does not parse fails closed
 * there.
 */
#ifndef VIPGATE_GW_JWKS_FETCH_H
#define VIPGATE_GW_JWKS_FETCH_H

#include <stdint.h>

#include "gw-jwks-fetch-t.h"

/**
 * gw_jwks_fetcher_new - a fetcher on the main loop
 * @base: the main thread's event loop
 * @changed: called from @base whenever what gw_jwks_fetcher_get() would
 *	return for some URI changes: its first good copy, a copy with other
 *	bytes, or its turning to failed with no good copy. Never called from
 *	inside gw_jwks_fetcher_get(). It may call gw_jwks_fetcher_get() but
 *	not gw_jwks_fetcher_free().
 * @arg: for @changed
 *
 * Reads VG_JWKS_REFRESH_MS and VG_JWKS_RETRY_MS from the environment once,
 * here. Allocation failure is fatal.
 */
struct gw_jwks_fetcher *gw_jwks_fetcher_new(struct event_base *base,
    void (*changed)(void *arg), void *arg);

/**
 * gw_jwks_fetcher_get - the last good JWKS fetched from a URI
 * @f: the fetcher
 * @uri: the jwksUri, http or https
 * @timeout_ms: the rule's fetch timeout; 0 or less: GW_JWKS_TIMEOUT_MS
 * @failed: if not NULL, set to 1 when the last fetch failed and there is
 *	no good copy (fail closed), else 0
 *
 * A URI seen for the first time is registered and its fetch starts at
 * once: NULL with *failed 0 means "not fetched yet" (@changed will come).
 * Each call marks @uri as in use; a URI nobody asked for during a whole
 * refresh period is forgotten when its next fetch falls due.
 *
 * Lifetime: the document is the fetcher's and NUL-terminated. It stays
 * valid until control returns to the event loop (the fetcher changes
 * documents only from its own callbacks) or gw_jwks_fetcher_free():
 * copy or parse it before then.
 */
const char *gw_jwks_fetcher_get(struct gw_jwks_fetcher *f, const char *uri,
    int64_t timeout_ms, int *failed);

/**
 * gw_jwks_fetcher_stats - how a URI's fetches go, for display and tests
 * @f: the fetcher
 * @uri: the jwksUri
 * @st: filled in; st->last_err has gw_jwks_fetcher_get()'s lifetime
 *
 * Does not count as asking for @uri. Returns 0, or -1 when @uri is not
 * (or no longer) known.
 */
int gw_jwks_fetcher_stats(struct gw_jwks_fetcher *f, const char *uri,
    struct gw_jwks_stats *st);

/**
 * gw_jwks_fetcher_free - stop fetching and free everything
 * @f: the fetcher, or NULL
 *
 * Does not wait for running fetches: their threads finish on their own
 * (within their timeout), drop their results and free what they hold.
 */
void gw_jwks_fetcher_free(struct gw_jwks_fetcher *f);

/* Fetch threads alive in this process (a test waits for 0 after a free). */
int gw_jwks_fetch_threads(void);

#endif
