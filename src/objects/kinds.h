/* Schemas of every kind, shared inside src/objects. */
#ifndef VIPGATE_OBJECTS_KINDS_H
#define VIPGATE_OBJECTS_KINDS_H

#include "vipgate/objects.h"

extern const struct sc_schema labelsel_schema;

#define SCF_SELS(n, st, m, c) SCF_OBJS(n, st, m, c, &labelsel_schema)

/* Whole-object schemas (they decode spec, status, data ... of the object). */
extern const struct sc_schema service_schema, endpoints_schema, pod_schema,
    node_schema, secret_schema, namespace_schema, endpointslice_schema,
    deployment_schema;
extern const struct sc_schema ipaddresspool_schema, l2advertisement_schema,
    bgpadvertisement_schema, bgppeer_schema, bfdprofile_schema,
    community_schema;
extern const struct sc_schema gateway_schema, virtualservice_schema,
    destinationrule_schema, serviceentry_schema, workloadentry_schema,
    peerauthentication_schema, authorizationpolicy_schema,
    requestauthentication_schema;

/* istio_sec.c: the fail-closed decoders of the security policies (kind_info) */
void authorizationpolicy_fail_closed(struct sc_ctx *, const struct ynode *root, void *spec,
    const char *why);
void requestauthentication_fail_closed(struct sc_ctx *, const struct ynode *root, void *spec,
    const char *why);

/*
 * secret_tls.c: a Secret's TLS material as the gateway loads it. Each
 * returns 0, or -1 with why: what failed and OpenSSL's reason.
 * secret_tls_pair also gives the first certificate's validity (epoch s).
 */
int secret_tls_pair(const char *cert, size_t clen, const char *key, size_t klen,
    int64_t *not_before, int64_t *not_after, char *why, size_t wlen);
int secret_tls_ca(const char *pem, size_t len, char *why, size_t wlen);
int secret_tls_crl(const char *pem, size_t len, char *why, size_t wlen);

/*
 * A whole-object schema decoding spec with specschema.
 * Without spec, an object is an error when required, else all defaults.
 */
#define KIND_SPEC_ONLY(var, st, specschema, kname, required)			\
	static int var##_spec(struct sc_ctx *c, const struct ynode *n, void *d)	\
	{									\
		return sc_decode(c, &specschema, n, d);				\
	}									\
	static const struct sc_field var##_fields[] = {				\
		{ .name = "spec", .type = SC_CUSTOM, .off = 0, .fn = var##_spec }, \
		SCF_END								\
	};									\
	static int var##_nospec(struct sc_ctx *c, const struct ynode *n, void *d) \
	{									\
		if (yn_get(n, "spec") != NULL)					\
			return 0;						\
		if (required) {							\
			sc_error(c, n, "spec is required");			\
			return -1;						\
		}								\
		return sc_decode(c, &specschema, NULL, d);			\
	}									\
	const struct sc_schema var##_schema = {					\
		kname, sizeof(st), var##_fields, var##_nospec			\
	}

/* The object being decoded, for checks that need its metadata. */
extern __thread const struct object *kinds_current;

#endif
