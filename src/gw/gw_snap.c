/*
 * Snapshot references: every layer holds one while it uses a compiled
 * gateway; the last reference frees it with its run-time state. A leaf:
 * it calls down only.
 */
#include "config.h"

#include <stdlib.h>

#include <openssl/ssl.h>

#include "gw-lb-hash.h"
#include "gw-resil.h"
#include "gw-jwt.h"
#include "gw-snap.h"
#include "gw-uptls.h"
#include "vipgate/gw-route.h"
#include "vipgate/reconcile.h"


struct gw_snap *
gw_snap_ref(struct gw_snap *s)
{
	__atomic_add_fetch(&s->refcnt, 1, __ATOMIC_RELAXED);
	return s;
}

void
gw_snap_unref(struct gw_snap *s)
{
	size_t i, j;

	if (s == NULL || __atomic_sub_fetch(&s->refcnt, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (i = 0; i < s->nworkers; i++) {
		if (s->lb[i] == NULL)
			continue;
		for (j = 0; j < s->g->nclusters; j++) {
			free(s->lb[i][j].cur);
			free(s->lb[i][j].active);
			gw_hashtab_free(s->lb[i][j].ht);
		}
		free(s->lb[i]);
	}
	free(s->lb);
	gw_rs_snap_free(s);
	if (s->ssl) {
		for (i = 0; i < s->g->nlisteners; i++) {
			for (j = 0; s->ssl[i] && j < s->g->listeners[i].nchains; j++)
				SSL_CTX_free(s->ssl[i][j]);
			free(s->ssl[i]);
		}
		free(s->ssl);
	}
	free(s->tlsl);
	gw_uptls_snap_free(&s->up);
	for (i = 0; i < s->njwks; i++)
		gw_jwks_free(s->jwks[i]);
	free(s->jwks);
	free(s->jwks_off);
	for (i = 0; i < s->nbind; i++)
		free(s->bind[i]);
	free(s->bind);
	gw_rx_free(s->rx);
	desired_unref(s->d);
	free(s);
}

const struct gw_listener *
gw_snap_listener(const struct gw_snap *s, uint16_t port, uint32_t scope)
{
	size_t lo = 0, hi = s->g ? s->g->nlisteners : 0, i;

	/* the first of the port's listeners (one a deployment and bind) */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->g->listeners[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; s->g && i < s->g->nlisteners && s->g->listeners[i].port == port; i++)
		if (s->g->listeners[i].scope == scope)
			return &s->g->listeners[i];
	return NULL;
}
