/*
 * networking.istio.io VirtualService: the conditions a route matches on,
 * HTTPMatchRequest (uri, headers, queryParams, port, gateways ...),
 * TLSMatchAttributes and L4MatchAttributes, checked as Istio's
 * validateHTTPRoute and validateTLSRoute / validateTCPRoute check them
 * (pkg/config/validation/virtualservice.go). istio_vs.c decodes the rest
 * of the VirtualService with these schemas.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "istio_common.h"

/* ---- HTTP ---- */

/*
 * map<string, StringMatch>. Header names are compared case-insensitively
 * (Envoy lower-cases them) and stored lower-cased; query parameter names
 * are case-sensitive. {} matches presence.
 */
static int
keymatch_name_cmp(size_t a, size_t b, void *arg)
{
	const struct k_vs_keymatches *km = arg;
	const char *x = km->v[a].name, *y = km->v[b].name;

	/* a key that is not a string is unlike any other */
	if (x == NULL || y == NULL)
		return x != y ? (x != NULL) - (y != NULL) : (a > b) - (a < b);
	return strcmp(x, y);
}

static int
keymatches(struct sc_ctx *c, const struct ynode *n, void *dst, int header)
{
	struct k_vs_keymatches *km = dst;
	size_t i, j, dup;
	int rc = 0;

	if (yn_is_null(n))
		return 0;
	if (n->type != YN_MAP) {
		sc_error(c, n, "must be a map of names to StringMatch");
		return -1;
	}
	km->v = arena_alloc(c->arena, sizeof(*km->v) * (n->n ? n->n : 1));
	for (i = 0; i < n->n; i++) {
		const struct ynode *k = n->keys[i];
		char *name;

		if (k->type != YN_SCALAR)
			continue;
		name = arena_strndup(c->arena, k->str, k->len);
		if (header && name[0] != '@')
			for (j = 0; name[j]; j++)
				name[j] = (char)tolower((unsigned char)name[j]);
		km->v[i].name = name;
	}
	/* found by sorting: a scan of the names before each was quadratic */
	if (!first_dup(n->n, keymatch_name_cmp, km, &dup, &j))
		dup = SIZE_MAX;
	for (i = 0; i < n->n; i++) {
		const struct ynode *k = n->keys[i], *v = n->vals[i];
		struct k_vs_keymatch *e = &km->v[i];
		const char *name = e->name;
		size_t old;

		if (k->type != YN_SCALAR) {
			sc_error(c, k, "a key must be a string");
			rc = -1;
			continue;
		}
		old = istio_path_push(c, ".%s", k->str);
		if (header && !istio_header_name_ok(name)) {
			sc_error(c, k, "\"%s\" is not a valid header name", k->str);
			rc = -1;
		} else if (*name == '\0') {
			sc_error(c, k, "a name must not be empty");
			rc = -1;
		} else if (yn_is_null(v)) {
			sc_error(c, v, "must be a StringMatch ({} matches presence), not null");
			rc = -1;
		} else if (sc_decode(c, &istio_strmatch_any_schema, v, &e->match) == -1)
			rc = -1;
		if (i == dup && rc == 0) {
			sc_error(c, k, "\"%s\" is given twice", k->str);
			rc = -1;
		}
		istio_path_pop(c, old);
	}
	km->n = n->n;
	return rc;
}
static int
header_matches(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return keymatches(c, n, dst, 1);
}
static int
query_matches(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	return keymatches(c, n, dst, 0);
}

static int
http_match_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_http_match *m = obj;

	if (n == NULL)
		return 0;
	if (m->port && istio_port_check(c, istio_at(n, "port", -1), "port", m->port) == -1)
		return -1;
	if (m->source_namespace && !istio_dns_label(m->source_namespace,
	    strlen(m->source_namespace))) {
		sc_error(c, istio_at(n, "sourceNamespace", -1), "sourceNamespace \"%s\" is not "
		    "a namespace name", m->source_namespace);
		return -1;
	}
	return istio_gateway_names_check(c, n, m->gateways, m->ngateways);
}

static const struct sc_field http_match_fields[] = {
	SCF("name", SC_STR, struct k_vs_http_match, name),
	SCF_OBJ("uri", struct k_vs_http_match, uri, &istio_strmatch_schema),
	SCF_OBJ("scheme", struct k_vs_http_match, scheme, &istio_strmatch_schema),
	SCF_OBJ("method", struct k_vs_http_match, method, &istio_strmatch_schema),
	SCF_OBJ("authority", struct k_vs_http_match, authority, &istio_strmatch_schema),
	SCF_FN("headers", struct k_vs_http_match, headers, header_matches),
	SCF_FN("withoutHeaders", struct k_vs_http_match, without_headers, header_matches),
	SCF_FN("queryParams", struct k_vs_http_match, query_params, query_matches),
	SCF("port", SC_INT, struct k_vs_http_match, port),
	SCF("ignoreUriCase", SC_BOOL, struct k_vs_http_match, ignore_uri_case),
	SCF("sourceLabels", SC_STRMAP, struct k_vs_http_match, source_labels),
	SCF_LIST("gateways", struct k_vs_http_match, gateways, ngateways),
	SCF("sourceNamespace", SC_STR, struct k_vs_http_match, source_namespace),
	SCF_IGNORE("statPrefix"),
	SCF_END
};
const struct sc_schema istio_vs_http_match_schema = {
	"HTTPMatchRequest", sizeof(struct k_vs_http_match), http_match_fields, http_match_check
};

/* ---- TLS and TCP ---- */

static int
subnets_check(struct sc_ctx *c, const struct ynode *n, const char **v, size_t nv)
{
	size_t i;

	for (i = 0; i < nv; i++)
		if (!istio_is_ip_or_cidr(v[i])) {
			sc_error(c, istio_at(n, "destinationSubnets", (long)i), "destinationSubnets: "
			    "\"%s\" is not an IP address or a CIDR", v[i]);
			return -1;
		}
	return 0;
}

/* What TLS and TCP matches check alike: destinationSubnets, port and gateways. */
static int
l4_match_check(struct sc_ctx *c, const struct ynode *n, const char **subnets, size_t nsubnets,
    int64_t port, const char **gateways, size_t ngateways)
{
	if (subnets_check(c, n, subnets, nsubnets) == -1)
		return -1;
	if (port && istio_port_check(c, istio_at(n, "port", -1), "port", port) == -1)
		return -1;
	return istio_gateway_names_check(c, n, gateways, ngateways);
}

static int
tls_match_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_tls_match *m = obj;

	if (n == NULL)
		return 0;
	if (m->nsni_hosts == 0) {
		sc_error(c, n, "sniHosts: at least one SNI host is required");
		return -1;
	}
	return l4_match_check(c, n, m->destination_subnets, m->ndestination_subnets, m->port,
	    m->gateways, m->ngateways);
}

static const struct sc_field tls_match_fields[] = {
	SCF_LIST("sniHosts", struct k_vs_tls_match, sni_hosts, nsni_hosts),
	SCF_LIST("destinationSubnets", struct k_vs_tls_match, destination_subnets,
	    ndestination_subnets),
	SCF("port", SC_INT, struct k_vs_tls_match, port),
	SCF("sourceLabels", SC_STRMAP, struct k_vs_tls_match, source_labels),
	SCF_LIST("gateways", struct k_vs_tls_match, gateways, ngateways),
	SCF("sourceNamespace", SC_STR, struct k_vs_tls_match, source_namespace),
	SCF_END
};
const struct sc_schema istio_vs_tls_match_schema = {
	"TLSMatchAttributes", sizeof(struct k_vs_tls_match), tls_match_fields, tls_match_check
};

static int
tcp_match_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_tcp_match *m = obj;

	if (n == NULL)
		return 0;
	return l4_match_check(c, n, m->destination_subnets, m->ndestination_subnets, m->port,
	    m->gateways, m->ngateways);
}

static const struct sc_field tcp_match_fields[] = {
	SCF_LIST("destinationSubnets", struct k_vs_tcp_match, destination_subnets,
	    ndestination_subnets),
	SCF("port", SC_INT, struct k_vs_tcp_match, port),
	SCF("sourceSubnet", SC_STR, struct k_vs_tcp_match, source_subnet),
	SCF("sourceLabels", SC_STRMAP, struct k_vs_tcp_match, source_labels),
	SCF_LIST("gateways", struct k_vs_tcp_match, gateways, ngateways),
	SCF("sourceNamespace", SC_STR, struct k_vs_tcp_match, source_namespace),
	SCF_END
};
const struct sc_schema istio_vs_tcp_match_schema = {
	"L4MatchAttributes", sizeof(struct k_vs_tcp_match), tcp_match_fields, tcp_match_check
};
