/* The gateway's own answers (gw_local.c): errors, redirects, CORS. */
#ifndef VIPGATE_GW_LOCAL_H
#define VIPGATE_GW_LOCAL_H

#include <stddef.h>

struct gw_hlist;
struct gw_redirect;
struct gw_stream;

/*
 * Answers st here (Envoy's local reply): code, response flags, a text/plain
 * body and a Location; the route's response header operations and CORS
 * fields apply. The stream may be gone when it returns.
 */
void gw_local(struct gw_stream *, int code, const char *flags, const char *body, size_t blen,
    const char *location);
/* The same with a NUL-terminated body. */
void gw_local_error(struct gw_stream *, int code, const char *flags, const char *msg);
/* A redirect (rd NULL: to https, for a server that requires TLS) answered with code. */
void gw_local_redirect(struct gw_stream *, const struct gw_redirect *rd, int to_https, int code,
    const char *host, size_t hostlen);
/*
 * corsPolicy: a preflight from an allowed origin is answered here; other
 * requests from one get the CORS headers on their answer. 1 when answered.
 */
int gw_local_cors(struct gw_stream *);
/* The date field's value now (IMF-fixdate), in a buffer of the thread's. */
const char *gw_http_date(size_t *len);
/* The CORS fields of an answer to an allowed origin. */
void gw_local_cors_fields(struct gw_hlist *, const struct gw_stream *);

#endif
