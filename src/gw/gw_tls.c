/* TLS termination: SSL_CTX per HTTPS filter chain (not in this version). */
#include "config.h"

#include <stddef.h>

#include "gw-int.h"

SSL_CTX *
gw_tls_ctx_new(const struct gw_tls *t, const struct gw_listener *l, size_t chain)
{
	(void)t;
	(void)l;
	(void)chain;
	return NULL;
}
