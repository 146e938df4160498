/*
 * Upstream TLS's types (gw_uptls.c): what a connection to an endpoint
 * speaks, the per-snapshot client contexts, one connection's TLS request.
 */
#ifndef VIPGATE_GW_UPTLS_T_H
#define VIPGATE_GW_UPTLS_T_H

#include <stddef.h>
#include <stdint.h>

#include "vipgate/gw-t.h"

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

/* The gateway identity (gateway.identity), re-read when its files change. */
struct gw_ident;

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

/* Per worker: the last session of each upstream (endpoint and TLS identity). */
struct gw_uptls_cache;

/* One new upstream connection's TLS, between gw_uptls_prepare and gw_uptls_done. */
struct gw_uptls_req {
	struct gw_uptls_pick	 pick;
	SSL_CTX			*ctx;		/* a reference, NULL for plain text */
	uint64_t		 id;		/* TLS identity: pool key and session key */
};

/* How a TLS upstream's handshake failed, as Envoy counts it (gw_uptls_failure). */
enum { GW_UPTLS_FAIL_OTHER = 1, GW_UPTLS_FAIL_VERIFY, GW_UPTLS_FAIL_SAN };

#endif
