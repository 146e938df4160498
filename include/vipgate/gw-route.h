/*
 * Route matching on a compiled gateway (gw-t.h): listener chain by SNI,
 * virtual host by Host, the first matching route, the weighted
 * destination. Pure: no I/O, no clock; callers bring the random number.
 */
#ifndef VIPGATE_GW_ROUTE_H
#define VIPGATE_GW_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "vipgate/gw-route-t.h"
#include "vipgate/gw-t.h"
#include "vipgate/util.h"

/*
 * The regexes compiled; NULL with *err (malloc'd) naming the pattern when
 * one does not compile.
 */
struct gw_rx *gw_rx_new(const struct gw_desired *, char **err);
/* Frees the compiled regexes. */
void gw_rx_free(struct gw_rx *);
/* Whether regex idx matches all of s (RE2 full-match semantics). */
int gw_rx_full(const struct gw_rx *, int idx, const char *s, size_t len);
/* Replace every match of regex idx in s by subst (\1 or $1 name groups), into out. */
int gw_rx_replace(const struct gw_rx *, int idx, const char *s, size_t len,
    const char *subst, struct vg_buf *out);
/* Frees this thread's scratch match data (workers call it before they exit). */
void gw_rx_thread_done(void);

/*
 * The chain of a listener for a connection: a plain listener's one chain;
 * for TLS, the chain whose SNI list takes sni (NULL: none given): exact,
 * then the longest wildcard, then "*"; NULL when none does (Envoy closes).
 */
const struct gw_chain *gw_chain_find(const struct gw_listener *, const char *sni);
/* Envoy's virtual host choice: exact, longest "*.suffix", then "*"; the port is ignored. */
const struct gw_vhost *gw_vhost_find(const struct gw_chain *, const char *host, size_t len);
/* Whether the request meets every condition of one HTTPRoute.match. */
int gw_match_eval(const struct gw_match *, const struct gw_rx *, const struct gw_req *);
/* Whether a string meets a StringMatch. */
int gw_strmatch_eval(const struct gw_strmatch *, const struct gw_rx *, const char *, size_t);
/* The first route that matches, and which of its matches did (NULL when it has none). */
const struct gw_route *gw_route_find(const struct gw_vhost *, const struct gw_rx *,
    const struct gw_req *, const struct gw_match **which);
/* Weighted pick: rnd uniform over 32 bits. NULL when the route has no destination. */
const struct gw_dest *gw_pick_dest(const struct gw_route *, uint32_t rnd);
/*
 * The upstream path after rewrite (Envoy prefix_rewrite: the matched prefix,
 * "/" when the match had no uri, or the whole exact path is replaced;
 * regex_rewrite replaces every match). The query string is kept.
 */
void gw_rewrite_path(const struct gw_route *, const struct gw_match *, const struct gw_rx *,
    const char *path, size_t len, struct vg_buf *out);

#endif
