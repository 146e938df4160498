/* Downstream TLS contexts (gw_tls.c). */
#ifndef VIPGATE_GW_TLS_H
#define VIPGATE_GW_TLS_H

#include "gw-snap-t.h"
#include "gw-tls-t.h"

/* A server context for one chain of a listener; the SNI callback gets tl. */
SSL_CTX *gw_tls_ctx_new(const struct gw_tls *, struct gw_tlsl *);

#endif
