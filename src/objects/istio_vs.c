/*
 * networking.istio.io VirtualService (virtual_service.proto), checked as
 * Istio's ValidateVirtualService and validateHTTPRoute do
 * (pkg/config/validation/validation.go, virtualservice.go). Delegate
 * VirtualServices are not supported. The match conditions are
 * istio_vs_match.c's.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "istio_common.h"

#define SCF_OBJ_REQ(n, st, m, s) { .name = (n), .type = SC_OBJ, .off = offsetof(st, m), \
	.flags = SC_REQUIRED, .sub = (s) }

/* A field Istio knows and vipgate refuses rather than ignores. */
static int
unsupported(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	sc_error(c, n, "is not supported by vipgate");
	return -1;
}

/* ---- header names and values ---- */

/*
 * ValidateHTTPHeaderValue: no control characters but tab, and Envoy's
 * %VARIABLE% syntax balanced ("100%%" is a literal '%').
 */
static const char *
header_value_err(const char *v)
{
	const char *p;

	for (p = v; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return "has a control character";
	for (p = v; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		p = strchr(p + 1, '%');
		if (p == NULL)
			return "has an unterminated %VARIABLE% (write %% for a '%')";
	}
	return NULL;
}

/*
 * A path or an authority the gateway writes into a request line, a Host
 * or a Location: a control character would let a route split the head
 * (Envoy's HTTP_HEADER_VALUE rule refuses CR, LF and NUL), and whitespace
 * would end the request target early.
 */
static int
wire_text_check(struct sc_ctx *c, const struct ynode *n, const char *key, const char *v)
{
	const char *p;

	if (v == NULL)
		return 0;
	for (p = v; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			sc_error(c, istio_at(n, key, -1), "%s \"%s\" has a %s", key, v,
			    *p == ' ' || *p == '\t' ? "space" : "control character");
			return -1;
		}
	return 0;
}

static int
is_internal_header(const char *k)
{
	return k[0] == ':' || strcasecmp(k, "host") == 0;
}

static int
is_authority_header(const char *k)
{
	return strcasecmp(k, ":authority") == 0 || strcasecmp(k, "host") == 0;
}

static int
header_map_check(struct sc_ctx *c, const struct ynode *n, const char *key,
    const struct strmap *m, int request)
{
	size_t i;
	const char *err;

	for (i = 0; i < m->n; i++) {
		const char *k = m->k[i];

		if (*k == '\0') {
			sc_error(c, istio_at(n, key, -1), "%s: a header name must not be empty", key);
			return -1;
		}
		/* requests may set the authority here (once); nothing else internal */
		if (is_internal_header(k) && !(request && is_authority_header(k))) {
			sc_error(c, istio_at(n, key, -1), "%s: header \"%s\" cannot be %s", key, k,
			    strcasecmp(k, "host") == 0 ? "changed here" : "set (':' prefix)");
			return -1;
		}
		if ((err = header_value_err(m->v[i])) != NULL) {
			sc_error(c, istio_at(n, key, -1), "%s: the value of %s %s", key, k, err);
			return -1;
		}
	}
	return 0;
}

static int
header_ops_check_common(struct sc_ctx *c, const struct ynode *n, void *obj, int request)
{
	struct k_vs_header_ops *o = obj;
	size_t i;

	if (n == NULL)
		return 0;
	if (header_map_check(c, n, "set", &o->set, request) == -1 ||
	    header_map_check(c, n, "add", &o->add, request) == -1)
		return -1;
	for (i = 0; i < o->nremove; i++)
		if (*o->remove[i] == '\0' || is_internal_header(o->remove[i])) {
			sc_error(c, istio_at(n, "remove", (long)i), "remove: header \"%s\" cannot "
			    "be removed", o->remove[i]);
			return -1;
		}
	return 0;
}
static int
req_ops_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	return header_ops_check_common(c, n, obj, 1);
}
static int
resp_ops_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	return header_ops_check_common(c, n, obj, 0);
}

static const struct sc_field header_ops_fields[] = {
	SCF("set", SC_STRMAP, struct k_vs_header_ops, set),
	SCF("add", SC_STRMAP, struct k_vs_header_ops, add),
	SCF_LIST("remove", struct k_vs_header_ops, remove, nremove),
	SCF_END
};
static const struct sc_schema req_ops_schema = {
	"HeaderOperations", sizeof(struct k_vs_header_ops), header_ops_fields, req_ops_check
};
static const struct sc_schema resp_ops_schema = {
	"HeaderOperations", sizeof(struct k_vs_header_ops), header_ops_fields, resp_ops_check
};
static const struct sc_field headers_fields[] = {
	SCF_OBJ("request", struct k_vs_headers, request, &req_ops_schema),
	SCF_OBJ("response", struct k_vs_headers, response, &resp_ops_schema),
	SCF_END
};
static const struct sc_schema headers_schema = {
	"Headers", sizeof(struct k_vs_headers), headers_fields, NULL
};

/* ---- destinations ---- */

/* validateDestination */
static int
dest_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_destination *d = obj;
	char err[512];

	if (n == NULL)
		return 0;
	/* not SCF_REQ: embedded structs are defaulted with required checks */
	if (!istio_has(d->host)) {
		sc_error(c, n, "host is required");
		return -1;
	}
	if (strcmp(d->host, "*") == 0) {
		sc_error(c, istio_at(n, "host", -1), "host \"*\" is not a valid destination");
		return -1;
	}
	if (istio_wildcard_domain(d->host, err, sizeof(err)) == -1) {
		sc_error(c, istio_at(n, "host", -1), "host: %s", err);
		return -1;
	}
	if (d->subset && istio_subset_name_check(c, istio_at(n, "subset", -1), d->subset) == -1)
		return -1;
	if (yn_get(n, "port") && istio_port_check(c, istio_at(yn_get(n, "port"), "number", -1),
	    "port.number", d->port) == -1)
		return -1;
	return 0;
}

static const struct sc_field dest_fields[] = {
	SCF("host", SC_STR, struct k_vs_destination, host),
	SCF("subset", SC_STR, struct k_vs_destination, subset),
	SCF_OBJ("port", struct k_vs_destination, port, &istio_portsel_schema),
	SCF_END
};
static const struct sc_schema dest_schema = {
	"Destination", sizeof(struct k_vs_destination), dest_fields, dest_check
};

static int
weight_check(struct sc_ctx *c, const struct ynode *n, int64_t w)
{
	if (w < 0 || w > INT32_MAX) {
		sc_error(c, istio_at(n, "weight", -1), "weight %lld is out of range 0-%d",
		    (long long)w, INT32_MAX);
		return -1;
	}
	return 0;
}

static int
http_dest_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_http_dest *d = obj;

	return n == NULL ? 0 : weight_check(c, n, d->weight);
}

static const struct sc_field http_dest_fields[] = {
	SCF_OBJ_REQ("destination", struct k_vs_http_dest, destination, &dest_schema),
	SCF("weight", SC_INT, struct k_vs_http_dest, weight),
	SCF_OBJ("headers", struct k_vs_http_dest, headers, &headers_schema),
	SCF_END
};
static const struct sc_schema http_dest_schema = {
	"HTTPRouteDestination", sizeof(struct k_vs_http_dest), http_dest_fields, http_dest_check
};

static int
l4_dest_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_l4_dest *d = obj;

	return n == NULL ? 0 : weight_check(c, n, d->weight);
}

static const struct sc_field l4_dest_fields[] = {
	SCF_OBJ_REQ("destination", struct k_vs_l4_dest, destination, &dest_schema),
	SCF("weight", SC_INT, struct k_vs_l4_dest, weight),
	SCF_END
};
static const struct sc_schema l4_dest_schema = {
	"RouteDestination", sizeof(struct k_vs_l4_dest), l4_dest_fields, l4_dest_check
};

/*
 * Weights are shares of their sum (Istio dropped the "sum to 100" rule);
 * with several destinations the sum must not be 0.
 */
static int
weights_check(struct sc_ctx *c, const struct ynode *n, const void *dests, size_t nd,
    size_t stride, size_t weight_off)
{
	int64_t total = 0;
	size_t i;

	for (i = 0; i < nd; i++)
		total += *(const int64_t *)((const char *)dests + i * stride + weight_off);
	if (nd > 1 && total == 0) {
		sc_error(c, istio_at(n, "route", -1), "route: the weights of the destinations "
		    "add up to 0");
		return -1;
	}
	return 0;
}

/* ---- redirect, direct response, rewrite ---- */

static const struct istio_enum derive_ports[] = {
	{ "FROM_PROTOCOL_DEFAULT", K_VS_FROM_PROTOCOL_DEFAULT, 0 },
	{ "FROM_REQUEST_PORT", K_VS_FROM_REQUEST_PORT, 0 },
};
ISTIO_ENUM_FN(derive_port, derive_ports)

/* validateHTTPRedirect */
static int
redirect_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_redirect *r = obj;
	int derive = yn_get(n, "derivePort") != NULL;

	if (n == NULL)
		return 0;
	if (!istio_has(r->uri) && !istio_has(r->authority) && r->port == 0 && !derive &&
	    !istio_has(r->scheme)) {
		sc_error(c, n, "redirect needs uri, authority, scheme, port or derivePort");
		return -1;
	}
	if (r->port && derive) {
		sc_error(c, istio_at(n, "derivePort", -1), "only one of port and derivePort may "
		    "be given");
		return -1;
	}
	if (r->port && istio_port_check(c, istio_at(n, "port", -1), "port", r->port) == -1)
		return -1;
	if (wire_text_check(c, n, "uri", r->uri) == -1 ||
	    wire_text_check(c, n, "authority", r->authority) == -1)
		return -1;
	if (r->redirect_code < 300 || r->redirect_code > 399) {
		sc_error(c, istio_at(n, "redirectCode", -1), "redirectCode %lld is not a 3xx code",
		    (long long)r->redirect_code);
		return -1;
	}
	if (r->scheme && strcmp(r->scheme, "http") && strcmp(r->scheme, "https")) {
		sc_error(c, istio_at(n, "scheme", -1), "scheme \"%s\" is not http or https",
		    r->scheme);
		return -1;
	}
	return 0;
}

static const struct sc_field redirect_fields[] = {
	SCF("uri", SC_STR, struct k_vs_redirect, uri),
	SCF("authority", SC_STR, struct k_vs_redirect, authority),
	SCF("port", SC_INT, struct k_vs_redirect, port),
	SCF_FN("derivePort", struct k_vs_redirect, derive_port, derive_port),
	SCF("scheme", SC_STR, struct k_vs_redirect, scheme),
	SCF_DEF("redirectCode", SC_INT, struct k_vs_redirect, redirect_code, 301),
	SCF_END
};
static const struct sc_schema redirect_schema = {
	"HTTPRedirect", sizeof(struct k_vs_redirect), redirect_fields, redirect_check
};

/* HTTPBody: string, or bytes (base64 in YAML and JSON). */
static int
direct_body(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	struct k_vs_direct_response *d = (struct k_vs_direct_response *)((char *)dst -
	    offsetof(struct k_vs_direct_response, body));
	const struct ynode *s = yn_get(n, "string"), *b = yn_get(n, "bytes");

	if (yn_is_null(n))
		return 0;
	if (n->type != YN_MAP) {
		sc_error(c, n, "must be a map {string: ...} or {bytes: base64}");
		return -1;
	}
	if (s && b) {
		sc_error(c, b, "only one of string and bytes may be given");
		return -1;
	}
	if (s) {
		if (s->type != YN_SCALAR) {
			sc_error(c, s, "string must be a string");
			return -1;
		}
		d->body = arena_strndup(c->arena, s->str, s->len);
		d->body_len = s->len;
	} else if (b) {
		char *clean;
		unsigned char *out;
		size_t i, k = 0;
		int outl;

		if (b->type != YN_SCALAR) {
			sc_error(c, b, "bytes must be a base64 string");
			return -1;
		}
		clean = arena_alloc(c->arena, b->len + 1);
		for (i = 0; i < b->len; i++)
			if (!isspace((unsigned char)b->str[i]))
				clean[k++] = b->str[i];
		out = arena_alloc(c->arena, k + 4);
		if (k % 4 != 0 || (outl = EVP_DecodeBlock(out, (unsigned char *)clean, (int)k)) < 0) {
			sc_error(c, b, "bytes is not valid base64");
			return -1;
		}
		d->body_len = (size_t)outl;
		if (k >= 1 && clean[k - 1] == '=')
			d->body_len--;
		if (k >= 2 && clean[k - 2] == '=')
			d->body_len--;
		out[d->body_len] = '\0';
		d->body = (const char *)out;
	}
	return 0;
}

/* validateHTTPDirectResponse */
static int
direct_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_direct_response *d = obj;

	if (n == NULL)
		return 0;
	if (d->status < 200 || d->status > 599) {
		sc_error(c, istio_at(n, "status", -1), "status %lld is out of range 200-599",
		    (long long)d->status);
		return -1;
	}
	if (d->body_len > 1024 * 1024) {
		sc_error(c, istio_at(n, "body", -1), "body is larger than 1MB");
		return -1;
	}
	if (d->body_len > 100 * 1024)
		sc_warn(c, istio_at(n, "body", -1), "body is larger than 100KB");
	return 0;
}

static const struct sc_field direct_fields[] = {
	SCF_REQ("status", SC_INT, struct k_vs_direct_response, status),
	SCF_FN("body", struct k_vs_direct_response, body, direct_body),
	SCF_END
};
static const struct sc_schema direct_schema = {
	"HTTPDirectResponse", sizeof(struct k_vs_direct_response), direct_fields, direct_check
};

static const struct sc_field regex_rewrite_fields[] = {
	SCF("match", SC_STR, struct k_vs_regex_rewrite, match),
	SCF("rewrite", SC_STR, struct k_vs_regex_rewrite, rewrite),
	SCF_END
};
static const struct sc_schema regex_rewrite_schema = {
	"RegexRewrite", sizeof(struct k_vs_regex_rewrite), regex_rewrite_fields, NULL
};

/* validateHTTPRewrite */
static int
rewrite_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_rewrite *r = obj;
	const struct ynode *rr = yn_get(n, "uriRegexRewrite");

	if (n == NULL)
		return 0;
	if (istio_has(r->uri) && rr) {
		sc_error(c, rr, "only one of uri and uriRegexRewrite may be given");
		return -1;
	}
	if (!istio_has(r->uri) && rr == NULL && !istio_has(r->authority)) {
		sc_error(c, n, "rewrite needs uri, uriRegexRewrite or authority");
		return -1;
	}
	if (wire_text_check(c, n, "uri", r->uri) == -1 ||
	    wire_text_check(c, n, "authority", r->authority) == -1 ||
	    (rr && wire_text_check(c, rr, "rewrite", r->uri_regex_rewrite.rewrite) == -1))
		return -1;
	if (rr) {
		/* an empty rewrite would be ambiguous with unset in the proto */
		if (!istio_has(r->uri_regex_rewrite.match) ||
		    !istio_has(r->uri_regex_rewrite.rewrite)) {
			sc_error(c, rr, "uriRegexRewrite needs match and rewrite");
			return -1;
		}
		return istio_regex_check(c, istio_at(rr, "match", -1), r->uri_regex_rewrite.match);
	}
	return 0;
}

static const struct sc_field rewrite_fields[] = {
	SCF("uri", SC_STR, struct k_vs_rewrite, uri),
	SCF("authority", SC_STR, struct k_vs_rewrite, authority),
	SCF_OBJ("uriRegexRewrite", struct k_vs_rewrite, uri_regex_rewrite, &regex_rewrite_schema),
	SCF_END
};
static const struct sc_schema rewrite_schema = {
	"HTTPRewrite", sizeof(struct k_vs_rewrite), rewrite_fields, rewrite_check
};

/* ---- retries ---- */

/* Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies */
static const char *const retry_policies[] = {
	"5xx", "gateway-error", "reset", "reset-before-request", "connect-failure",
	"retriable-4xx", "refused-stream", "retriable-status-codes", "retriable-headers",
	"envoy-ratelimited", "http3-post-connect-failure",
	"cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
};

static int
retry_on_ok(const char *p, size_t len)
{
	size_t i;

	if (len == 3 && isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[0] >= '1' && p[0] <= '5')
		return 1;	/* a status code */
	for (i = 0; i < VG_ARRAY_SIZE(retry_policies); i++)
		if (strlen(retry_policies[i]) == len && strncmp(retry_policies[i], p, len) == 0)
			return 1;
	return 0;
}

/* validateHTTPRetry */
static int
retries_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_retries *r = obj;
	const char *p;

	if (n == NULL)
		return 0;
	if (r->attempts < 0) {
		sc_error(c, istio_at(n, "attempts", -1), "attempts must not be negative");
		return -1;
	}
	if (r->attempts == 0 && (r->per_try_timeout_ms.set || istio_has(r->retry_on) ||
	    r->retry_remote_localities.set)) {
		sc_error(c, n, "attempts 0 disables retries: perTryTimeout, retryOn and "
		    "retryRemoteLocalities have no effect");
		return -1;
	}
	if (istio_duration_check(c, n, "perTryTimeout", &r->per_try_timeout_ms) == -1 ||
	    istio_duration_check(c, n, "backoff", &r->backoff_ms) == -1)
		return -1;
	for (p = r->retry_on; p && *p; ) {
		size_t len = strcspn(p, ",");

		if (!retry_on_ok(p, len)) {
			sc_error(c, istio_at(n, "retryOn", -1), "retryOn: \"%.*s\" is not a retry "
			    "policy (5xx, gateway-error, reset, connect-failure, retriable-4xx, "
			    "refused-stream, retriable-status-codes, ... or a status code)",
			    (int)len, p);
			return -1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static const struct sc_field retries_fields[] = {
	SCF("attempts", SC_INT, struct k_vs_retries, attempts),
	SCF("perTryTimeout", SC_OPTDURATION, struct k_vs_retries, per_try_timeout_ms),
	SCF("retryOn", SC_STR, struct k_vs_retries, retry_on),
	SCF("retryRemoteLocalities", SC_OPTBOOL, struct k_vs_retries, retry_remote_localities),
	SCF("retryIgnorePreviousHosts", SC_OPTBOOL, struct k_vs_retries,
	    retry_ignore_previous_hosts),
	SCF("backoff", SC_OPTDURATION, struct k_vs_retries, backoff_ms),
	SCF_END
};
static const struct sc_schema retries_schema = {
	"HTTPRetry", sizeof(struct k_vs_retries), retries_fields, retries_check
};

/* ---- fault ---- */

static int
delay_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_fault_delay *d = obj;

	if (n == NULL)
		return 0;
	if (d->fixed_delay_ms < 1) {
		sc_error(c, istio_at(n, "fixedDelay", -1), "fixedDelay must be at least 1ms");
		return -1;
	}
	if (d->percent.set && (d->percent.v < 0 || d->percent.v > 100)) {
		sc_error(c, istio_at(n, "percent", -1), "percent %lld is out of range 0-100",
		    (long long)d->percent.v);
		return -1;
	}
	return 0;
}

static const struct sc_field delay_fields[] = {
	SCF_REQ("fixedDelay", SC_DURATION, struct k_vs_fault_delay, fixed_delay_ms),
	SCF_FN("percentage", struct k_vs_fault_delay, percentage, istio_percent),
	SCF("percent", SC_OPTINT, struct k_vs_fault_delay, percent),
	{ .name = "exponentialDelay", .type = SC_CUSTOM, .off = 0, .fn = unsupported },
	SCF_END
};
static const struct sc_schema delay_schema = {
	"Delay", sizeof(struct k_vs_fault_delay), delay_fields, delay_check
};

/* The gRPC status names Istio accepts (pkg/util/grpc). */
static const char *const grpc_statuses[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
};

int
grpc_status_code(const char *name)
{
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(grpc_statuses); i++)
		if (strcmp(grpc_statuses[i], name) == 0)
			return (int)i;
	return -1;
}

static int
abort_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_fault_abort *a = obj;

	if (n == NULL)
		return 0;
	if (yn_get(n, "httpStatus") && a->grpc_status) {
		sc_error(c, n, "only one of httpStatus and grpcStatus may be given");
		return -1;
	}
	if (a->grpc_status) {
		if (grpc_status_code(a->grpc_status) >= 0)
			return 0;
		sc_error(c, istio_at(n, "grpcStatus", -1), "grpcStatus \"%s\" is not a gRPC "
		    "status name (like NOT_FOUND, UNAVAILABLE)", a->grpc_status);
		return -1;
	}
	if (yn_get(n, "httpStatus") == NULL) {
		sc_warn(c, n, "abort has neither httpStatus nor grpcStatus: it does nothing");
		return 0;
	}
	if (a->http_status < 200 || a->http_status > 599) {
		sc_error(c, istio_at(n, "httpStatus", -1), "httpStatus %lld is out of range "
		    "200-599", (long long)a->http_status);
		return -1;
	}
	return 0;
}

static const struct sc_field abort_fields[] = {
	SCF("httpStatus", SC_INT, struct k_vs_fault_abort, http_status),
	SCF("grpcStatus", SC_STR, struct k_vs_fault_abort, grpc_status),
	SCF_FN("percentage", struct k_vs_fault_abort, percentage, istio_percent),
	{ .name = "http2Error", .type = SC_CUSTOM, .off = 0, .fn = unsupported },
	SCF_END
};
static const struct sc_schema abort_schema = {
	"Abort", sizeof(struct k_vs_fault_abort), abort_fields, abort_check
};

static int
fault_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_fault *f = obj;

	if (n != NULL && f->delay == NULL && f->abort == NULL) {
		sc_error(c, n, "fault needs delay or abort");
		return -1;
	}
	return 0;
}

static const struct sc_field fault_fields[] = {
	SCF_OBJPTR("delay", struct k_vs_fault, delay, &delay_schema),
	SCF_OBJPTR("abort", struct k_vs_fault, abort, &abort_schema),
	SCF_END
};
static const struct sc_schema fault_schema = {
	"HTTPFaultInjection", sizeof(struct k_vs_fault), fault_fields, fault_check
};

/* ---- mirrors, CORS ---- */

static const struct sc_field mirror_fields[] = {
	SCF_OBJ_REQ("destination", struct k_vs_mirror, destination, &dest_schema),
	SCF_FN("percentage", struct k_vs_mirror, percentage, istio_percent),
	SCF_END
};
static const struct sc_schema mirror_schema = {
	"HTTPMirrorPolicy", sizeof(struct k_vs_mirror), mirror_fields, NULL
};

static const struct istio_enum preflights[] = {
	{ "UNSPECIFIED", K_VS_PREFLIGHT_UNSPECIFIED, 0 },
	{ "FORWARD", K_VS_PREFLIGHT_FORWARD, 0 },
	{ "IGNORE", K_VS_PREFLIGHT_IGNORE, 0 },
};
ISTIO_ENUM_FN(unmatched_preflights, preflights)

static int
cors_names_check(struct sc_ctx *c, const struct ynode *n, const char *key,
    const char **v, size_t nv)
{
	size_t i;

	for (i = 0; i < nv; i++)
		if (strcmp(v[i], "*") != 0 && !istio_header_name_ok(v[i])) {
			sc_error(c, istio_at(n, key, (long)i), "%s: \"%s\" is not a header name",
			    key, v[i]);
			return -1;
		}
	return 0;
}

/* validateCORSPolicy */
static int
cors_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	static const char *const methods[] = {
		"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE",
	};
	struct k_vs_cors *p = obj;
	size_t i, j;

	if (n == NULL)
		return 0;
	for (i = 0; i < p->nallow_origins; i++)
		if (p->allow_origins[i].value == NULL || *p->allow_origins[i].value == '\0') {
			sc_error(c, istio_at(n, "allowOrigins", (long)i), "allowOrigins[%zu]: an "
			    "empty origin matches nothing", i);
			return -1;
		}
	for (i = 0; i < p->nallow_methods; i++) {
		for (j = 0; j < VG_ARRAY_SIZE(methods); j++)
			if (strcmp(methods[j], p->allow_methods[i]) == 0)
				break;
		if (j == VG_ARRAY_SIZE(methods)) {
			sc_error(c, istio_at(n, "allowMethods", (long)i), "allowMethods: \"%s\" is "
			    "not an HTTP method (GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, "
			    "OPTIONS, TRACE)", p->allow_methods[i]);
			return -1;
		}
	}
	if (cors_names_check(c, n, "allowHeaders", p->allow_headers, p->nallow_headers) == -1 ||
	    cors_names_check(c, n, "exposeHeaders", p->expose_headers, p->nexpose_headers) == -1)
		return -1;
	if (istio_duration_check(c, n, "maxAge", &p->max_age_ms) == -1)
		return -1;
	if (p->max_age_ms.set && p->max_age_ms.v % 1000 != 0) {
		sc_error(c, istio_at(n, "maxAge", -1), "maxAge must be whole seconds");
		return -1;
	}
	return 0;
}

static const struct sc_field cors_fields[] = {
	SCF_OBJS("allowOrigins", struct k_vs_cors, allow_origins, nallow_origins,
	    &istio_strmatch_schema),
	SCF_LIST("allowOrigin", struct k_vs_cors, allow_origin, nallow_origin),
	SCF_LIST("allowMethods", struct k_vs_cors, allow_methods, nallow_methods),
	SCF_LIST("allowHeaders", struct k_vs_cors, allow_headers, nallow_headers),
	SCF_LIST("exposeHeaders", struct k_vs_cors, expose_headers, nexpose_headers),
	SCF("maxAge", SC_OPTDURATION, struct k_vs_cors, max_age_ms),
	SCF("allowCredentials", SC_OPTBOOL, struct k_vs_cors, allow_credentials),
	SCF_FN("unmatchedPreflights", struct k_vs_cors, unmatched_preflights,
	    unmatched_preflights),
	SCF_END
};
static const struct sc_schema cors_schema = {
	"CorsPolicy", sizeof(struct k_vs_cors), cors_fields, cors_check
};

/* ---- HTTP route ---- */

/* validateAuthorityRewrite: the authority may be rewritten in one place only. */
static int
authority_once(struct sc_ctx *c, const struct ynode *n, const struct k_vs_http *h)
{
	int count = h->rewrite && istio_has(h->rewrite->authority);
	const struct strmap *maps[2] = { &h->headers.request.set, &h->headers.request.add };
	size_t i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < maps[i]->n; j++)
			if (is_authority_header(maps[i]->k[j]))
				count++;
	if (count > 1) {
		sc_error(c, n, "the authority is rewritten more than once (rewrite.authority, "
		    "headers.request :authority/host)");
		return -1;
	}
	return 0;
}

/* validateHTTPRouteConflict and the rest of validateHTTPRoute */
static int
http_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_http *h = obj;

	if (n == NULL)
		return 0;
	if (h->redirect) {
		const char *other = h->nroute ? "route" : h->fault ? "fault" :
		    h->rewrite ? "rewrite" : h->direct_response ? "directResponse" : NULL;

		if (other) {
			sc_error(c, istio_at(n, "redirect", -1), "redirect cannot be combined "
			    "with %s", other);
			return -1;
		}
	} else if (h->direct_response) {
		const char *other = h->nroute ? "route" : h->fault ? "fault" :
		    h->rewrite ? "rewrite" : NULL;

		if (other) {
			sc_error(c, istio_at(n, "directResponse", -1), "directResponse cannot be "
			    "combined with %s", other);
			return -1;
		}
	} else if (h->nroute == 0) {
		sc_error(c, n, "one of route, redirect or directResponse is required");
		return -1;
	}
	if (weights_check(c, n, h->route, h->nroute, sizeof(*h->route),
	    offsetof(struct k_vs_http_dest, weight)) == -1)
		return -1;
	if (h->mirror_percent.set && (h->mirror_percent.v < 0 || h->mirror_percent.v > 100)) {
		sc_error(c, istio_at(n, "mirrorPercent", -1), "mirrorPercent %lld is out of "
		    "range 0-100", (long long)h->mirror_percent.v);
		return -1;
	}
	if (h->mirror_percent.set)
		sc_warn(c, istio_at(n, "mirrorPercent", -1), "mirrorPercent is deprecated, use "
		    "mirrorPercentage");
	return authority_once(c, n, h);
}

static const struct sc_field http_fields[] = {
	SCF("name", SC_STR, struct k_vs_http, name),
	SCF_OBJS("match", struct k_vs_http, match, nmatch, &istio_vs_http_match_schema),
	SCF_OBJS("route", struct k_vs_http, route, nroute, &http_dest_schema),
	SCF_OBJPTR("redirect", struct k_vs_http, redirect, &redirect_schema),
	SCF_OBJPTR("directResponse", struct k_vs_http, direct_response, &direct_schema),
	{ .name = "delegate", .type = SC_CUSTOM, .off = 0, .fn = unsupported },
	SCF_OBJPTR("rewrite", struct k_vs_http, rewrite, &rewrite_schema),
	SCF("timeout", SC_OPTDURATION, struct k_vs_http, timeout_ms),
	SCF_OBJPTR("retries", struct k_vs_http, retries, &retries_schema),
	SCF_OBJPTR("fault", struct k_vs_http, fault, &fault_schema),
	SCF_OBJPTR("mirror", struct k_vs_http, mirror, &dest_schema),
	SCF_OBJS("mirrors", struct k_vs_http, mirrors, nmirrors, &mirror_schema),
	SCF_FN("mirrorPercentage", struct k_vs_http, mirror_percentage, istio_percent),
	SCF("mirrorPercent", SC_OPTINT, struct k_vs_http, mirror_percent),
	SCF_OBJPTR("corsPolicy", struct k_vs_http, cors_policy, &cors_schema),
	SCF_OBJ("headers", struct k_vs_http, headers, &headers_schema),
	SCF_END
};
static const struct sc_schema http_schema = {
	"HTTPRoute", sizeof(struct k_vs_http), http_fields, http_check
};

/* ---- TLS and TCP routes ---- */

/* What TLS and TCP routes check alike: a route, and weights that do not add up to 0. */
static int
l4_routes_check(struct sc_ctx *c, const struct ynode *n, const struct k_vs_l4_dest *route,
    size_t nroute)
{
	if (nroute == 0) {
		sc_error(c, n, "route is required");
		return -1;
	}
	return weights_check(c, n, route, nroute, sizeof(*route),
	    offsetof(struct k_vs_l4_dest, weight));
}

static int
tls_route_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_tls *t = obj;

	if (n == NULL)
		return 0;
	if (t->nmatch == 0) {
		sc_error(c, n, "match: a TLS route needs at least one match");
		return -1;
	}
	return l4_routes_check(c, n, t->route, t->nroute);
}

static const struct sc_field tls_route_fields[] = {
	SCF_OBJS("match", struct k_vs_tls, match, nmatch, &istio_vs_tls_match_schema),
	SCF_OBJS("route", struct k_vs_tls, route, nroute, &l4_dest_schema),
	SCF_END
};
static const struct sc_schema tls_route_schema = {
	"TLSRoute", sizeof(struct k_vs_tls), tls_route_fields, tls_route_check
};

static int
tcp_route_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_vs_tcp *t = obj;

	if (n == NULL)
		return 0;
	return l4_routes_check(c, n, t->route, t->nroute);
}

static const struct sc_field tcp_route_fields[] = {
	SCF_OBJS("match", struct k_vs_tcp, match, nmatch, &istio_vs_tcp_match_schema),
	SCF_OBJS("route", struct k_vs_tcp, route, nroute, &l4_dest_schema),
	SCF_END
};
static const struct sc_schema tcp_route_schema = {
	"TCPRoute", sizeof(struct k_vs_tcp), tcp_route_fields, tcp_route_check
};

/* ---- VirtualService ---- */

/* host.Name.SubsetOf */
static int
host_subset_of(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (a[0] == '*') {
		if (b[0] != '*')
			return 0;
		return la >= lb && strcasecmp(a + la - (lb - 1), b + 1) == 0;
	}
	if (b[0] == '*')
		return la >= lb - 1 && strcasecmp(a + la - (lb - 1), b + 1) == 0;
	return strcasecmp(a, b) == 0;
}

static int
vs_hosts_check(struct sc_ctx *c, const struct ynode *n, const struct k_virtualservice *v,
    int to_mesh)
{
	char err[512];
	size_t i, j;

	for (i = 0; i < v->nhosts; i++) {
		const struct ynode *at = istio_at(n, "hosts", (long)i);
		const char *h = v->hosts[i];

		if (istio_wildcard_domain(h, err, sizeof(err)) == -1) {
			if (!istio_is_ip(h)) {
				sc_error(c, at, "hosts[%zu]: %s", i, err);
				return -1;
			}
		} else if (to_mesh && strcmp(h, "*") == 0) {
			sc_error(c, at, "hosts[%zu]: \"*\" is not allowed for the mesh gateway", i);
			return -1;
		}
	}
	if (istio_hosts_first_overlap(v->hosts, v->nhosts, &i, &j)) {
		sc_error(c, istio_at(n, "hosts", (long)j), "hosts[%zu]: \"%s\" overlaps "
		    "hosts[%zu] \"%s\"", j, v->hosts[j], i, v->hosts[i]);
		return -1;
	}
	return 0;
}

/* validateSniHost: each SNI host within some host of the VirtualService */
static int
sni_hosts_check(struct sc_ctx *c, const struct ynode *n, const struct k_virtualservice *v)
{
	char err[512];
	size_t r, m, s, h;

	for (r = 0; r < v->ntls; r++)
		for (m = 0; m < v->tls[r].nmatch; m++)
			for (s = 0; s < v->tls[r].match[m].nsni_hosts; s++) {
				const char *sni = v->tls[r].match[m].sni_hosts[s];
				const struct ynode *at = istio_at(istio_at(istio_at(n, "tls",
				    (long)r), "match", (long)m), "sniHosts", (long)s);

				if (istio_wildcard_domain(sni, err, sizeof(err)) == -1) {
					if (istio_is_ip(sni)) {
						sc_warn(c, at, "SNI host \"%s\" is an IP address, "
						    "which most clients never send", sni);
						continue;
					}
					sc_error(c, at, "tls[%zu].match[%zu].sniHosts[%zu]: %s",
					    r, m, s, err);
					return -1;
				}
				for (h = 0; h < v->nhosts; h++)
					if (host_subset_of(sni, v->hosts[h]))
						break;
				if (h == v->nhosts) {
					sc_error(c, at, "tls[%zu].match[%zu].sniHosts[%zu]: \"%s\" is "
					    "not within the hosts of the VirtualService", r, m, s, sni);
					return -1;
				}
			}
	return 0;
}

static int
vs_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_virtualservice *v = obj;
	int to_mesh = v->ngateways == 0;
	size_t i;

	if (v->nhosts == 0) {
		sc_error(c, istio_at(n, "hosts", -1), "hosts is required (delegate "
		    "VirtualServices are not supported)");
		return -1;
	}
	if (istio_gateway_names_check(c, n, v->gateways, v->ngateways) == -1)
		return -1;
	for (i = 0; i < v->ngateways; i++)
		if (strcmp(v->gateways[i], "mesh") == 0)
			to_mesh = 1;
	if (vs_hosts_check(c, n, v, to_mesh) == -1)
		return -1;
	if (v->nhttp == 0 && v->ntcp == 0 && v->ntls == 0) {
		sc_error(c, n, "one of http, tcp or tls is required");
		return -1;
	}
	if (sni_hosts_check(c, n, v) == -1)
		return -1;
	return istio_export_to_check(c, n, v->export_to, v->nexport_to, 0);
}

static const struct sc_field vs_spec_fields[] = {
	SCF_LIST("hosts", struct k_virtualservice, hosts, nhosts),
	SCF_LIST("gateways", struct k_virtualservice, gateways, ngateways),
	SCF_LIST("exportTo", struct k_virtualservice, export_to, nexport_to),
	SCF_OBJS("http", struct k_virtualservice, http, nhttp, &http_schema),
	SCF_OBJS("tls", struct k_virtualservice, tls, ntls, &tls_route_schema),
	SCF_OBJS("tcp", struct k_virtualservice, tcp, ntcp, &tcp_route_schema),
	SCF_END
};
static const struct sc_schema vs_spec_schema = {
	"VirtualServiceSpec", sizeof(struct k_virtualservice), vs_spec_fields, vs_check
};
KIND_SPEC_ONLY(virtualservice, struct k_virtualservice, vs_spec_schema, "VirtualService", 1);
