/* Decoders and checks shared by the Istio kinds (istio*.c). */
#ifndef VIPGATE_OBJECTS_ISTIO_COMMON_H
#define VIPGATE_OBJECTS_ISTIO_COMMON_H

#include "kinds.h"

/* A proto enum by name (protojson: exact, upper-case names). */
struct istio_enum {
	const char	*name;
	int		 value;
	int		 hidden;	/* deprecated alias: accepted, not listed in errors */
};
int istio_enum_decode(struct sc_ctx *, const struct ynode *, void *dst,
    const struct istio_enum *, size_t);
#define ISTIO_ENUM_FN(fn, table)						\
	static int fn(struct sc_ctx *c, const struct ynode *n, void *dst)	\
	{									\
		return istio_enum_decode(c, n, dst, table, VG_ARRAY_SIZE(table));	\
	}

/* Set and not empty: how Istio tests a proto3 string field. */
static inline int
istio_has(const char *s)
{
	return s != NULL && *s != '\0';
}

/* Port {number, protocol, name, targetPort}; range checks are the kind's. */
extern const struct sc_schema istio_port_schema;
/* PortSelector {number} into an int64_t. */
extern const struct sc_schema istio_portsel_schema;
/* StringMatch: exactly one of exact, prefix, regex; a regex must compile. */
extern const struct sc_schema istio_strmatch_schema;
/* The same, where {} (presence) is allowed too. */
extern const struct sc_schema istio_strmatch_any_schema;
/* Percent {value} into struct k_istio_percent. */
int istio_percent(struct sc_ctx *, const struct ynode *, void *dst);

/* selector {matchLabels} into a struct strmap. */
extern const struct sc_schema istio_matchlabels_schema;

/* Path helpers for messages about items of lists and maps. */
size_t istio_path_push(struct sc_ctx *, const char *fmt, ...) VG_PRINTF(2, 3);
void istio_path_pop(struct sc_ctx *, size_t old);
/* The node of map[key][i] (or map[key], or map) for an error position. */
const struct ynode *istio_at(const struct ynode *map, const char *key, long i);

/* Checks from Istio's pkg/config/validation; 0 or -1 with a message. */
int istio_regex_check(struct sc_ctx *, const struct ynode *at, const char *re);
int istio_port_check(struct sc_ctx *, const struct ynode *at, const char *what, int64_t port);
int istio_dns_label(const char *, size_t len);
int istio_wildcard_domain(const char *, char *err, size_t errlen);
int istio_fqdn(const char *, char *err, size_t errlen);
int istio_is_ip(const char *);
int istio_is_ip_or_cidr(const char *);
int istio_duration_check(struct sc_ctx *, const struct ynode *map, const char *key,
    const struct opt_i64 *);
int istio_export_to_check(struct sc_ctx *, const struct ynode *spec, const char **,
    size_t n, int service_entry);
int istio_subset_name_check(struct sc_ctx *, const struct ynode *at, const char *);
/* ValidateHTTPHeaderName, and the JWT claim form ("@request.auth.claims...") */
int istio_header_name_ok(const char *);
/* validateGatewayNames over map's gateways: "ns/name", "name", "name.ns", "mesh". */
int istio_gateway_names_check(struct sc_ctx *, const struct ynode *map, const char **v,
    size_t n);
/* Does host a overlap host b ("*.foo.com" and "bar.foo.com")? */
int istio_hosts_overlap(const char *a, const char *b);
/*
 * The first pair that overlaps, as "for each i, the first j > i that
 * overlaps it" finds it, in O(L log n) for hosts of total length L: 1 with
 * *i and *j, 0 when none does.
 */
int istio_hosts_first_overlap(const char *const *hosts, size_t n, size_t *i, size_t *j);

/* VirtualService match conditions (istio_vs_match.c), for istio_vs.c. */
extern const struct sc_schema istio_vs_http_match_schema;	/* HTTPMatchRequest */
extern const struct sc_schema istio_vs_tls_match_schema;	/* TLSMatchAttributes */
extern const struct sc_schema istio_vs_tcp_match_schema;	/* L4MatchAttributes */

#endif
