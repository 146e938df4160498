/*
 * The Secrets the gateway plan reads (credentialName in gateway.namespace),
 * for listener TLS (gw_plan_listen.c) and upstream TLS (gw_plan_cluster.c).
 */
#include "config.h"

#include <string.h>

#include "vipgate/log.h"
#include "vipgate/reconcile.h"

#include "gw-plan.h"

static const char *
secret_value(const struct object *sec, const char *key, size_t *len)
{
	const struct k_secret *s;
	size_t i;

	if (sec == NULL)
		return NULL;
	s = OBJ_SPEC(sec, k_secret);
	for (i = 0; i < s->data.n; i++)
		if (strcmp(s->data.k[i], key) == 0) {
			*len = s->data_len ? s->data_len[i] : strlen(s->data.v[i]);
			/* empty is absent, as the Secret's decoder checks it */
			return *len ? s->data.v[i] : NULL;
		}
	return NULL;
}

/*
 * A Secret the gateway reads. When its latest version was rejected at
 * decode (bad TLS material, src/objects/secret_tls.c) the store keeps the
 * last good one, which is returned and served; *why then says so (or, for
 * a Secret never good, why there is none), and analyze names the Secret
 * once.
 */
const struct object *
gwp_secret_get(struct plan *p, const char *ns, const char *name, const char **why)
{
	const struct object *sec = store_get(p->st, K_SECRET, ns, name);
	const char *rej = store_rejected(p->st, K_SECRET, ns, name);
	size_t i;

	*why = NULL;
	if (rej == NULL)
		return sec;
	if (sec != NULL)
		*why = arena_printf(p->a, "Secret %s/%s: its new version is rejected, the last "
		    "good one stays in force: %s", ns, name, rej);
	else
		*why = arena_printf(p->a, "Secret %s/%s is rejected (no good version was ever "
		    "loaded): %s", ns, name, rej);
	for (i = 0; i < p->notes.n; i++) {
		const struct gw_note *n = p->notes.v[i];

		if (strcmp(n->kind, "Secret") == 0 && strcmp(n->ns, ns) == 0 &&
		    strcmp(n->name, name) == 0)
			return sec;
	}
	{
		struct gw_note *n = arena_alloc(p->a, sizeof(*n));

		n->kind = "Secret";
		n->ns = arena_strdup(p->a, ns);
		n->name = arena_strdup(p->a, name);
		n->msg = *why;
		ptrvec_push(&p->notes, n);
	}
	return sec;
}

/* A NUL-terminated copy of key k1 (else k2) of a Secret (sec may be NULL), or NULL. */
const char *
gwp_secret_pick(struct plan *p, const struct object *sec, const char *k1, const char *k2, size_t *len)
{
	const char *v = secret_value(sec, k1, len);

	if (v == NULL)
		v = secret_value(sec, k2, len);
	if (v == NULL)
		return NULL;
	/* NUL-terminated copy: OpenSSL's PEM readers take a BIO of len bytes anyway */
	{
		char *c = arena_alloc(p->a, *len + 1);

		memcpy(c, v, *len);
		return c;
	}
}
