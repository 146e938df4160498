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

#include "vipgate/gw-t.h"

struct gw_io;
struct event_base;
struct gw_ctx;
struct gw_snap;
struct gw_worker;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct x509_st X509;

#define GW_UPTLS_SNI_MAX	256

/* What a connection to one endpoint of a cluster speaks (pure). */
struct gw_uptls_pick {
	enum gw_uptls_mode	 mode;		/* DISABLE: plain text */
	const struct gw_uptls	*tls;		/* the DestinationRule's, NULL for auto mTLS */
	char			 sni[GW_UPTLS_SNI_MAX];	/* "": none sent */
	const char * const	*sans;		/* exact matches for the server's certificate */
	size_t			 nsans;
	int			 verify_host;	/* auto SAN validation: the certificate names sni */
	int			 skip_verify;	/* insecureSkipVerify */
};

/*
 * Resolve the TLS of a connection to ep: the cluster's DestinationRule tls,
 * else auto mTLS by the endpoint's tlsMode label. host is the Host sent
 * upstream (auto_sni for SIMPLE and MUTUAL without sni); may be NULL.
 */
void gw_uptls_pick(const struct gw_cluster *, const struct gw_endpoint *,
    const char *host, size_t hostlen, struct gw_uptls_pick *);

/* Envoy's match_subject_alt_names (exact): whether a URI, DNS, IP or email SAN is listed. */
int gw_uptls_san_match(X509 *, const char * const *sans, size_t nsans);

/* The gateway identity (gateway.identity), re-read when its files change. */
struct gw_ident;
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

/* Per snapshot: the client contexts of clusters with SIMPLE or MUTUAL tls. */
struct gw_uptls_file;
struct gw_uptls_snap {
	SSL_CTX		**ctx;		/* [cluster], NULL when none or broken */
	char		**err;		/* [cluster], why a context could not be made */
	uint64_t	 *hash;		/* [cluster], the settings: part of the pool key */
	uint64_t	 *shash;	/* [cluster], the settings without the files' state */
	char		**name;		/* [cluster], to find a cluster again in the next one */
	size_t		  n;
	struct gw_uptls_file *files;	/* the files the contexts were read from */
	size_t		  nfiles;
};
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

/* Per worker: the last session of each upstream (endpoint and TLS identity). */
struct gw_uptls_cache;
void gw_uptls_cache_free(struct gw_uptls_cache *);

/* One new upstream connection's TLS, between gw_uptls_prepare and gw_uptls_done. */
struct gw_uptls_req {
	struct gw_uptls_pick	 pick;
	SSL_CTX			*ctx;		/* a reference, NULL for plain text */
	uint64_t		 id;		/* TLS identity: pool key and session key */
};

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
void gw_uptls_done(struct gw_uptls_req *);
/*
 * Why a TLS upstream's handshake failed (what: the BEV_EVENT_ flags), and
 * how, as Envoy counts it; 0 when io is not TLS.
 */
enum { GW_UPTLS_FAIL_OTHER = 1, GW_UPTLS_FAIL_VERIFY, GW_UPTLS_FAIL_SAN };
int gw_uptls_failure(struct gw_io *, short what, char *out, size_t outlen);
/* Whether a TLS upstream resumed its session (for tests and stats). */
int gw_uptls_reused(struct gw_io *);

const char *gw_uptls_mode_name(enum gw_uptls_mode);

#endif
