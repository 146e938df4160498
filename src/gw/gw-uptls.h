/*
 * Upstream TLS (DestinationRule trafficPolicy.tls, auto mTLS): client
 * contexts, the gateway identity and its rotation, SNI and SAN, session
 * resumption. The pure parts (gw_uptls_pick, gw_uptls_san_match) take no
 * locks and do no I/O.
 */
#ifndef VIPGATE_GW_UPTLS_H
#define VIPGATE_GW_UPTLS_H

#include <stddef.h>
#include <stdint.h>

#include "gw-uptls-t.h"
#include "vipgate/gw-t.h"

struct gw_io;
struct event_base;
struct gw_ctx;
struct gw_snap;
struct gw_worker;

/*
 * Resolve the TLS of a connection to ep: the cluster's DestinationRule tls,
 * else auto mTLS by the endpoint's tlsMode label. host is the Host sent
 * upstream (auto_sni for SIMPLE and MUTUAL without sni); may be NULL.
 */
void gw_uptls_pick(const struct gw_cluster *, const struct gw_endpoint *,
    const char *host, size_t hostlen, struct gw_uptls_pick *);

/* Envoy's match_subject_alt_names (exact): whether a URI, DNS, IP or email SAN is listed. */
int gw_uptls_san_match(X509 *, const char * const *sans, size_t nsans);

/* An identity with no files yet (gw_ident_configure sets them); freed with its context. */
struct gw_ident *gw_ident_new(void);
void gw_ident_free(struct gw_ident *);
/*
 * Set the files (main thread, when a snapshot is made). The identity is
 * loaded when an ISTIO_MUTUAL connection first needs it; once in use, new
 * paths reload at once.
 */
void gw_ident_configure(struct gw_ident *, const char *cert, const char *key, const char *ca);
/*
 * The current ISTIO_MUTUAL client context with a reference, or NULL (err
 * says why). The files are checked for changes at most once a second.
 */
SSL_CTX *gw_ident_ctx(struct gw_ident *, uint64_t *gen, char *err, size_t errlen);
/* Why the identity could not be (re)loaded; 0 when it loaded. */
int gw_ident_error(struct gw_ident *, char *err, size_t errlen);

/*
 * prev (may be NULL) is the snapshot this one replaces: a cluster whose
 * context cannot be made now, with the same settings as one prev made
 * (the same paths; a file there rewritten broken), keeps prev's context,
 * as Envoy keeps the last good secret when an update is rejected.
 */
void gw_uptls_snap_init(struct gw_uptls_snap *, const struct gw_desired *,
    const struct gw_uptls_snap *prev);
void gw_uptls_snap_free(struct gw_uptls_snap *);
/*
 * Whether a file a DestinationRule names (caCertificates, caCrl,
 * clientCertificate, privateKey) changed since the contexts were made:
 * Istio's agent watches them and pushes the new secret; here the caller
 * makes a new snapshot.
 */
int gw_uptls_snap_files_changed(const struct gw_uptls_snap *, const char **which);

/* Frees a worker's session cache (the worker stops). */
void gw_uptls_cache_free(struct gw_uptls_cache *);

/*
 * Resolve and find the context for a connection to ep. head is the request
 * head going upstream (its Host gives auto SNI). -1: the cluster's TLS is
 * not available (503 NC, err says why).
 */
int gw_uptls_prepare(struct gw_ctx *, struct gw_snap *, const struct gw_cluster *,
    const struct gw_endpoint *, const char *head, size_t headlen, struct gw_uptls_req *,
    char *err, size_t errlen);
/* A TLS connection (gw_io, not yet connected), resuming the last session when there is one. */
struct gw_io *gw_uptls_io_new(struct gw_worker *, struct event_base *,
    struct gw_uptls_req *, const char *poolkey);
/* Drops the context reference gw_uptls_prepare took. */
void gw_uptls_done(struct gw_uptls_req *);
/*
 * Why a TLS upstream's handshake failed (what: the BEV_EVENT_ flags), and
 * how, as Envoy counts it (GW_UPTLS_FAIL_*); 0 when io is not TLS.
 */
int gw_uptls_failure(struct gw_io *, short what, char *out, size_t outlen);
/* Whether a TLS upstream resumed its session (for tests and stats). */
int gw_uptls_reused(struct gw_io *);

/* "DISABLE", "SIMPLE", "MUTUAL" or "ISTIO_MUTUAL", for logs. */
const char *gw_uptls_mode_name(enum gw_uptls_mode);

#endif
