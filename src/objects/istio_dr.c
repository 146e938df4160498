/*
 * networking.istio.io DestinationRule (destination_rule.proto), checked as
 * Istio's ValidateDestinationRule / validateTrafficPolicy do.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "istio_common.h"

/* ---- loadBalancer ---- */

static const struct istio_enum lb_simples[] = {
	{ "UNSPECIFIED", K_DR_LB_UNSPECIFIED, 0 },
	{ "LEAST_CONN", K_DR_LB_LEAST_REQUEST, 1 },	/* deprecated alias */
	{ "RANDOM", K_DR_LB_RANDOM, 0 },
	{ "PASSTHROUGH", K_DR_LB_PASSTHROUGH, 0 },
	{ "ROUND_ROBIN", K_DR_LB_ROUND_ROBIN, 0 },
	{ "LEAST_REQUEST", K_DR_LB_LEAST_REQUEST, 0 },
};
ISTIO_ENUM_FN(lb_simple, lb_simples)

static const struct sc_field cookie_fields[] = {
	SCF("name", SC_STR, struct k_dr_http_cookie, name),
	SCF("path", SC_STR, struct k_dr_http_cookie, path),
	SCF("ttl", SC_OPTDURATION, struct k_dr_http_cookie, ttl_ms),
	SCF_IGNORE("attributes"),
	SCF_END
};
static const struct sc_schema cookie_schema = {
	"HTTPCookie", sizeof(struct k_dr_http_cookie), cookie_fields, NULL
};

static const struct sc_field ringhash_fields[] = {
	{ .name = "minimumRingSize", .type = SC_OPTINT, .off = 0 },
	SCF_END
};
static const struct sc_schema ringhash_schema = {
	"RingHash", sizeof(struct opt_i64), ringhash_fields, NULL
};
static const struct sc_field maglev_fields[] = {
	{ .name = "tableSize", .type = SC_INT, .off = 0 },
	SCF_END
};
static const struct sc_schema maglev_schema = {
	"MagLev", sizeof(int64_t), maglev_fields, NULL
};

/* Two fields of one proto oneof. */
static int
oneof(struct sc_ctx *c, const struct ynode *n, const char *const *keys, size_t nkeys,
    const char **first)
{
	size_t i, seen = 0;

	*first = NULL;
	for (i = 0; i < nkeys; i++) {
		const struct ynode *v = yn_get(n, keys[i]);

		if (v == NULL || yn_is_null(v))
			continue;
		if (seen++) {
			sc_error(c, v, "only one of %s and %s may be given", *first, keys[i]);
			return -1;
		}
		*first = keys[i];
	}
	return 0;
}

static int
chash_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	static const char *const keys[] = {
		"httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName",
	};
	static const char *const algos[] = { "ringHash", "maglev" };
	struct k_dr_consistent_hash *h = obj;
	const struct ynode *rs = yn_get(n, "minimumRingSize");
	const char *key, *algo;

	if (n == NULL)
		return 0;
	if (oneof(c, n, keys, VG_ARRAY_SIZE(keys), &key) == -1 ||
	    oneof(c, n, algos, VG_ARRAY_SIZE(algos), &algo) == -1)
		return -1;
	if (key == NULL)
		h->key = K_DR_HASH_NONE;
	else if (strcmp(key, "httpHeaderName") == 0)
		h->key = K_DR_HASH_HEADER;
	else if (strcmp(key, "httpCookie") == 0)
		h->key = K_DR_HASH_COOKIE;
	else if (strcmp(key, "useSourceIp") == 0)
		h->key = h->use_source_ip ? K_DR_HASH_SOURCE_IP : K_DR_HASH_NONE;
	else
		h->key = K_DR_HASH_QUERY_PARAM;
	if (h->key == K_DR_HASH_COOKIE && !istio_has(h->http_cookie.name)) {
		sc_error(c, istio_at(n, "httpCookie", -1), "httpCookie.name is required");
		return -1;
	}
	if (rs && !yn_is_null(rs)) {
		int64_t v;

		if (algo) {
			sc_error(c, rs, "minimumRingSize (deprecated) cannot be combined with %s",
			    algo);
			return -1;
		}
		if (sc_scalar_int(rs, &v) == -1) {
			sc_error(c, rs, "minimumRingSize is not an integer");
			return -1;
		}
		h->minimum_ring_size.set = 1;
		h->minimum_ring_size.v = v;
		sc_warn(c, rs, "minimumRingSize is deprecated, use ringHash.minimumRingSize");
	}
	h->algo = algo && strcmp(algo, "maglev") == 0 ? K_DR_HASH_MAGLEV : K_DR_HASH_RING;
	if (h->algo == K_DR_HASH_MAGLEV) {
		const struct ynode *at = istio_at(istio_at(n, "maglev", -1), "tableSize", -1);

		/* Envoy's isPrime (source/common/common/utility.cc), which Istio
		 * copies, counts 1 as a prime */
		if (h->maglev_table_size <= 0 || h->maglev_table_size >= 5000011 ||
		    (h->maglev_table_size != 1 && !is_prime((uint64_t)h->maglev_table_size))) {
			sc_error(c, at, "maglev.tableSize must be a prime below 5000011");
			return -1;
		}
	}
	return 0;
}

/* ringHash and the deprecated minimumRingSize share a field: see chash_check */
static const struct sc_field chash_fields[] = {
	SCF("httpHeaderName", SC_STR, struct k_dr_consistent_hash, http_header_name),
	SCF_OBJ("httpCookie", struct k_dr_consistent_hash, http_cookie, &cookie_schema),
	SCF("useSourceIp", SC_BOOL, struct k_dr_consistent_hash, use_source_ip),
	SCF("httpQueryParameterName", SC_STR, struct k_dr_consistent_hash,
	    http_query_parameter_name),
	SCF_OBJ("ringHash", struct k_dr_consistent_hash, minimum_ring_size, &ringhash_schema),
	SCF_OBJ("maglev", struct k_dr_consistent_hash, maglev_table_size, &maglev_schema),
	SCF_IGNORE("minimumRingSize"),
	SCF_END
};
static const struct sc_schema chash_schema = {
	"ConsistentHashLB", sizeof(struct k_dr_consistent_hash), chash_fields, chash_check
};

static int
lb_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	static const char *const kinds[] = { "simple", "consistentHash" };
	struct k_dr_lb *lb = obj;
	const char *first;

	if (n == NULL)
		return 0;
	if (yn_is_null(lb->locality_lb_setting))
		lb->locality_lb_setting = NULL;
	if (oneof(c, n, kinds, VG_ARRAY_SIZE(kinds), &first) == -1)
		return -1;
	return istio_duration_check(c, n, "warmupDurationSecs", &lb->warmup_duration_ms);
}

static const struct sc_field lb_fields[] = {
	SCF_FN("simple", struct k_dr_lb, simple, lb_simple),
	SCF_OBJPTR("consistentHash", struct k_dr_lb, consistent_hash, &chash_schema),
	{ .name = "localityLbSetting", .type = SC_NODE,
	    .off = offsetof(struct k_dr_lb, locality_lb_setting) },
	SCF("warmupDurationSecs", SC_OPTDURATION, struct k_dr_lb, warmup_duration_ms),
	SCF_IGNORE("warmup"),
	SCF_END
};
static const struct sc_schema lb_schema = {
	"LoadBalancerSettings", sizeof(struct k_dr_lb), lb_fields, lb_check
};

/* ---- connectionPool ---- */

static const struct sc_field keepalive_fields[] = {
	SCF("probes", SC_OPTINT, struct k_dr_tcp_keepalive, probes),
	SCF("time", SC_OPTDURATION, struct k_dr_tcp_keepalive, time_ms),
	SCF("interval", SC_OPTDURATION, struct k_dr_tcp_keepalive, interval_ms),
	SCF_END
};
static int
keepalive_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_dr_tcp_keepalive *k = obj;

	if (n == NULL)
		return 0;
	if (k->probes.set && k->probes.v < 0) {
		sc_error(c, istio_at(n, "probes", -1), "probes must not be negative");
		return -1;
	}
	if (istio_duration_check(c, n, "time", &k->time_ms) == -1 ||
	    istio_duration_check(c, n, "interval", &k->interval_ms) == -1)
		return -1;
	return 0;
}
static const struct sc_schema keepalive_schema = {
	"TcpKeepalive", sizeof(struct k_dr_tcp_keepalive), keepalive_fields, keepalive_check
};

static int
not_negative(struct sc_ctx *c, const struct ynode *n, const char *key, int64_t v)
{
	if (v < 0) {
		sc_error(c, istio_at(n, key, -1), "%s must not be negative", key);
		return -1;
	}
	return 0;
}

static int
tcp_pool_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_dr_tcp_pool *t = obj;

	if (n == NULL)
		return 0;
	if (not_negative(c, n, "maxConnections", t->max_connections) == -1 ||
	    istio_duration_check(c, n, "connectTimeout", &t->connect_timeout_ms) == -1 ||
	    istio_duration_check(c, n, "maxConnectionDuration",
	    &t->max_connection_duration_ms) == -1 ||
	    istio_duration_check(c, n, "idleTimeout", &t->idle_timeout_ms) == -1)
		return -1;
	return 0;
}

static const struct sc_field tcp_pool_fields[] = {
	SCF("maxConnections", SC_INT, struct k_dr_tcp_pool, max_connections),
	SCF("connectTimeout", SC_OPTDURATION, struct k_dr_tcp_pool, connect_timeout_ms),
	SCF_OBJPTR("tcpKeepalive", struct k_dr_tcp_pool, tcp_keepalive, &keepalive_schema),
	SCF("maxConnectionDuration", SC_OPTDURATION, struct k_dr_tcp_pool,
	    max_connection_duration_ms),
	SCF("idleTimeout", SC_OPTDURATION, struct k_dr_tcp_pool, idle_timeout_ms),
	SCF_END
};
static const struct sc_schema tcp_pool_schema = {
	"TCPSettings", sizeof(struct k_dr_tcp_pool), tcp_pool_fields, tcp_pool_check
};

static const struct istio_enum h2_upgrades[] = {
	{ "DEFAULT", K_DR_H2_DEFAULT, 0 },
	{ "DO_NOT_UPGRADE", K_DR_H2_DO_NOT_UPGRADE, 0 },
	{ "UPGRADE", K_DR_H2_UPGRADE, 0 },
};
ISTIO_ENUM_FN(h2_upgrade, h2_upgrades)

static int
http_pool_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_dr_http_pool *h = obj;

	if (n == NULL)
		return 0;
	if (not_negative(c, n, "http1MaxPendingRequests", h->http1_max_pending_requests) == -1 ||
	    not_negative(c, n, "http2MaxRequests", h->http2_max_requests) == -1 ||
	    not_negative(c, n, "maxRequestsPerConnection", h->max_requests_per_connection) == -1 ||
	    not_negative(c, n, "maxRetries", h->max_retries) == -1 ||
	    not_negative(c, n, "maxConcurrentStreams", h->max_concurrent_streams) == -1 ||
	    istio_duration_check(c, n, "idleTimeout", &h->idle_timeout_ms) == -1)
		return -1;
	if (h->h2_upgrade_policy == K_DR_H2_UPGRADE && h->use_client_protocol) {
		sc_error(c, istio_at(n, "useClientProtocol", -1), "useClientProtocol cannot be "
		    "true with h2UpgradePolicy UPGRADE");
		return -1;
	}
	return 0;
}

static const struct sc_field http_pool_fields[] = {
	SCF("http1MaxPendingRequests", SC_INT, struct k_dr_http_pool, http1_max_pending_requests),
	SCF("http2MaxRequests", SC_INT, struct k_dr_http_pool, http2_max_requests),
	SCF("maxRequestsPerConnection", SC_INT, struct k_dr_http_pool, max_requests_per_connection),
	SCF("maxRetries", SC_INT, struct k_dr_http_pool, max_retries),
	SCF("idleTimeout", SC_OPTDURATION, struct k_dr_http_pool, idle_timeout_ms),
	SCF_FN("h2UpgradePolicy", struct k_dr_http_pool, h2_upgrade_policy, h2_upgrade),
	SCF("useClientProtocol", SC_BOOL, struct k_dr_http_pool, use_client_protocol),
	SCF("maxConcurrentStreams", SC_INT, struct k_dr_http_pool, max_concurrent_streams),
	SCF_END
};
static const struct sc_schema http_pool_schema = {
	"HTTPSettings", sizeof(struct k_dr_http_pool), http_pool_fields, http_pool_check
};

static int
pool_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_dr_pool *p = obj;

	if (n != NULL && p->tcp == NULL && p->http == NULL) {
		sc_error(c, n, "connectionPool needs tcp or http settings");
		return -1;
	}
	return 0;
}

static const struct sc_field pool_fields[] = {
	SCF_OBJPTR("tcp", struct k_dr_pool, tcp, &tcp_pool_schema),
	SCF_OBJPTR("http", struct k_dr_pool, http, &http_pool_schema),
	SCF_END
};
static const struct sc_schema pool_schema = {
	"ConnectionPoolSettings", sizeof(struct k_dr_pool), pool_fields, pool_check
};

/* ---- outlierDetection ---- */

static int
percent_field(struct sc_ctx *c, const struct ynode *n, const char *key, int64_t v)
{
	if (v < 0 || v > 100) {
		sc_error(c, istio_at(n, key, -1), "%s %lld is out of range 0-100", key,
		    (long long)v);
		return -1;
	}
	return 0;
}

/* validateOutlierDetection */
static int
outlier_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_dr_outlier *o = obj;
	const struct opt_i64 *counts[] = {
		&o->consecutive_5xx_errors, &o->consecutive_gateway_errors,
		&o->consecutive_local_origin_failures,
	};
	static const char *const count_keys[] = {
		"consecutive5xxErrors", "consecutiveGatewayErrors", "consecutiveLocalOriginFailures",
	};
	size_t i;

	if (n == NULL)
		return 0;
	for (i = 0; i < VG_ARRAY_SIZE(counts); i++)
		if (counts[i]->set && (counts[i]->v < 0 || counts[i]->v > UINT32_MAX)) {
			sc_error(c, istio_at(n, count_keys[i], -1), "%s %lld is out of range",
			    count_keys[i], (long long)counts[i]->v);
			return -1;
		}
	if (o->consecutive_errors)
		sc_warn(c, istio_at(n, "consecutiveErrors", -1), "consecutiveErrors is "
		    "deprecated, use consecutiveGatewayErrors or consecutive5xxErrors");
	if (!o->split_external_local_origin_errors && o->consecutive_local_origin_failures.set &&
	    o->consecutive_local_origin_failures.v > 0) {
		sc_error(c, istio_at(n, "consecutiveLocalOriginFailures", -1),
		    "consecutiveLocalOriginFailures needs splitExternalLocalOriginErrors");
		return -1;
	}
	if (istio_duration_check(c, n, "interval", &o->interval_ms) == -1 ||
	    istio_duration_check(c, n, "baseEjectionTime", &o->base_ejection_time_ms) == -1)
		return -1;
	if (o->max_ejection_percent.set &&
	    percent_field(c, n, "maxEjectionPercent", o->max_ejection_percent.v) == -1)
		return -1;
	return percent_field(c, n, "minHealthPercent", o->min_health_percent);
}

static const struct sc_field outlier_fields[] = {
	SCF("consecutiveErrors", SC_INT, struct k_dr_outlier, consecutive_errors),
	SCF("consecutive5xxErrors", SC_OPTINT, struct k_dr_outlier, consecutive_5xx_errors),
	SCF("consecutiveGatewayErrors", SC_OPTINT, struct k_dr_outlier,
	    consecutive_gateway_errors),
	SCF("splitExternalLocalOriginErrors", SC_BOOL, struct k_dr_outlier,
	    split_external_local_origin_errors),
	SCF("consecutiveLocalOriginFailures", SC_OPTINT, struct k_dr_outlier,
	    consecutive_local_origin_failures),
	SCF("interval", SC_OPTDURATION, struct k_dr_outlier, interval_ms),
	SCF("baseEjectionTime", SC_OPTDURATION, struct k_dr_outlier, base_ejection_time_ms),
	SCF("maxEjectionPercent", SC_OPTINT, struct k_dr_outlier, max_ejection_percent),
	SCF("minHealthPercent", SC_INT, struct k_dr_outlier, min_health_percent),
	SCF_END
};
static const struct sc_schema outlier_schema = {
	"OutlierDetection", sizeof(struct k_dr_outlier), outlier_fields, outlier_check
};

/* ---- tls ---- */

static const struct istio_enum dr_tls_modes[] = {
	{ "DISABLE", K_DR_TLS_DISABLE, 0 },
	{ "SIMPLE", K_DR_TLS_SIMPLE, 0 },
	{ "MUTUAL", K_DR_TLS_MUTUAL, 0 },
	{ "ISTIO_MUTUAL", K_DR_TLS_ISTIO_MUTUAL, 0 },
};
ISTIO_ENUM_FN(dr_tls_mode, dr_tls_modes)

/* agent.ValidateTLS */
static int
dr_tls_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_dr_tls *t = obj;

	if (n == NULL)
		return 0;
	if (t->insecure_skip_verify.set && t->insecure_skip_verify.v) {
		if (t->mode == K_DR_TLS_SIMPLE && (istio_has(t->ca_certificates) ||
		    istio_has(t->credential_name) || t->nsubject_alt_names)) {
			sc_error(c, n, "insecureSkipVerify excludes caCertificates, credentialName "
			    "and subjectAltNames");
			return -1;
		}
		if (t->mode == K_DR_TLS_MUTUAL && (istio_has(t->ca_certificates) ||
		    t->nsubject_alt_names)) {
			sc_error(c, n, "insecureSkipVerify excludes caCertificates and "
			    "subjectAltNames");
			return -1;
		}
	}
	if ((t->mode == K_DR_TLS_SIMPLE || t->mode == K_DR_TLS_MUTUAL) &&
	    istio_has(t->credential_name)) {
		if (istio_has(t->client_certificate) || istio_has(t->ca_certificates) ||
		    istio_has(t->private_key) || istio_has(t->ca_crl)) {
			sc_error(c, n, "credentialName excludes clientCertificate, privateKey, "
			    "caCertificates and caCrl");
			return -1;
		}
		return 0;
	}
	if (t->mode == K_DR_TLS_MUTUAL && (!istio_has(t->client_certificate) ||
	    !istio_has(t->private_key))) {
		sc_error(c, n, "mode MUTUAL needs credentialName (or clientCertificate and "
		    "privateKey)");
		return -1;
	}
	return 0;
}

static const struct sc_field dr_tls_fields[] = {
	SCF_FN("mode", struct k_dr_tls, mode, dr_tls_mode),
	SCF("clientCertificate", SC_STR, struct k_dr_tls, client_certificate),
	SCF("privateKey", SC_STR, struct k_dr_tls, private_key),
	SCF("caCertificates", SC_STR, struct k_dr_tls, ca_certificates),
	SCF("credentialName", SC_STR, struct k_dr_tls, credential_name),
	SCF_LIST("subjectAltNames", struct k_dr_tls, subject_alt_names, nsubject_alt_names),
	SCF("sni", SC_STR, struct k_dr_tls, sni),
	SCF("insecureSkipVerify", SC_OPTBOOL, struct k_dr_tls, insecure_skip_verify),
	SCF("caCrl", SC_STR, struct k_dr_tls, ca_crl),
	SCF_END
};
static const struct sc_schema dr_tls_schema = {
	"ClientTLSSettings", sizeof(struct k_dr_tls), dr_tls_fields, dr_tls_check
};

/* ---- trafficPolicy ---- */

static int
port_policy_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_dr_port_policy *p = obj;

	if (n == NULL)
		return 0;
	if (yn_get(n, "port") == NULL) {
		sc_error(c, n, "port is required");
		return -1;
	}
	if (istio_port_check(c, istio_at(yn_get(n, "port"), "number", -1), "port.number",
	    p->port) == -1)
		return -1;
	if (!p->load_balancer && !p->connection_pool && !p->outlier_detection && !p->tls) {
		sc_error(c, n, "a port-level policy needs loadBalancer, connectionPool, "
		    "outlierDetection or tls");
		return -1;
	}
	return 0;
}

static const struct sc_field port_policy_fields[] = {
	SCF_OBJ("port", struct k_dr_port_policy, port, &istio_portsel_schema),
	SCF_OBJPTR("loadBalancer", struct k_dr_port_policy, load_balancer, &lb_schema),
	SCF_OBJPTR("connectionPool", struct k_dr_port_policy, connection_pool, &pool_schema),
	SCF_OBJPTR("outlierDetection", struct k_dr_port_policy, outlier_detection,
	    &outlier_schema),
	SCF_OBJPTR("tls", struct k_dr_port_policy, tls, &dr_tls_schema),
	SCF_END
};
static const struct sc_schema port_policy_schema = {
	"PortTrafficPolicy", sizeof(struct k_dr_port_policy), port_policy_fields,
	port_policy_check
};

static const struct istio_enum pp_versions[] = {
	{ "V1", K_DR_PROXY_PROTOCOL_V1, 0 },
	{ "V2", K_DR_PROXY_PROTOCOL_V2, 0 },
};
ISTIO_ENUM_FN(pp_version, pp_versions)

static const struct sc_field pp_fields[] = {
	{ .name = "version", .type = SC_CUSTOM, .off = 0, .fn = pp_version },
	SCF_END
};
static const struct sc_schema pp_schema = {
	"ProxyProtocol", sizeof(enum k_dr_proxy_protocol), pp_fields, NULL
};

static int
proxy_protocol(struct sc_ctx *c, const struct ynode *n, void *dst)
{
	struct k_dr_policy *p = (struct k_dr_policy *)((char *)dst -
	    offsetof(struct k_dr_policy, proxy_protocol));

	if (yn_is_null(n))
		return 0;
	p->proxy_protocol = 1;
	return sc_decode(c, &pp_schema, n, &p->proxy_protocol_version);
}

/* validateTrafficPolicy */
static int
policy_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_dr_policy *p = obj;

	if (n == NULL)
		return 0;
	if (yn_is_null(p->tunnel))
		p->tunnel = NULL;	/* "tunnel: ~" */
	if (!p->load_balancer && !p->connection_pool && !p->outlier_detection && !p->tls &&
	    !p->nport_level_settings && !p->proxy_protocol && !p->tunnel) {
		sc_error(c, n, "trafficPolicy needs at least one setting");
		return -1;
	}
	if (p->tunnel && p->proxy_protocol) {
		sc_error(c, istio_at(n, "tunnel", -1), "tunnel and proxyProtocol exclude each other");
		return -1;
	}
	return 0;
}

static const struct sc_field policy_fields[] = {
	SCF_OBJPTR("loadBalancer", struct k_dr_policy, load_balancer, &lb_schema),
	SCF_OBJPTR("connectionPool", struct k_dr_policy, connection_pool, &pool_schema),
	SCF_OBJPTR("outlierDetection", struct k_dr_policy, outlier_detection, &outlier_schema),
	SCF_OBJPTR("tls", struct k_dr_policy, tls, &dr_tls_schema),
	SCF_OBJS("portLevelSettings", struct k_dr_policy, port_level_settings,
	    nport_level_settings, &port_policy_schema),
	SCF_FN("proxyProtocol", struct k_dr_policy, proxy_protocol, proxy_protocol),
	{ .name = "tunnel", .type = SC_NODE, .off = offsetof(struct k_dr_policy, tunnel) },
	SCF_IGNORE("retryBudget"),
	SCF_END
};
static const struct sc_schema policy_schema = {
	"TrafficPolicy", sizeof(struct k_dr_policy), policy_fields, policy_check
};

/* ---- DestinationRule ---- */

static int
subset_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_dr_subset *s = obj;

	if (n == NULL)
		return 0;
	return istio_subset_name_check(c, istio_at(n, "name", -1), s->name);
}

static const struct sc_field subset_fields[] = {
	SCF("name", SC_STR, struct k_dr_subset, name),
	SCF("labels", SC_STRMAP, struct k_dr_subset, labels),
	SCF_OBJPTR("trafficPolicy", struct k_dr_subset, traffic_policy, &policy_schema),
	SCF_END
};
static const struct sc_schema subset_schema = {
	"Subset", sizeof(struct k_dr_subset), subset_fields, subset_check
};

static int
subset_name_cmp(size_t a, size_t b, void *arg)
{
	const struct k_destinationrule *d = arg;

	return str_cmp_null(d->subsets[a].name, d->subsets[b].name);
}

static int
dr_check(struct sc_ctx *c, const struct ynode *n, void *obj)
{
	struct k_destinationrule *d = obj;
	const char *own = kinds_current ? kinds_current->meta.ns : NULL;
	char err[512];
	size_t i, j;

	if (!istio_has(d->host)) {
		sc_error(c, istio_at(n, "host", -1), "host is required");
		return -1;
	}
	if (istio_wildcard_domain(d->host, err, sizeof(err)) == -1) {
		sc_error(c, istio_at(n, "host", -1), "host: %s", err);
		return -1;
	}
	/* found by sorting: a scan of the subsets before each was quadratic */
	if (first_dup(d->nsubsets, subset_name_cmp, d, &i, &j)) {
		sc_error(c, istio_at(istio_at(n, "subsets", (long)i), "name", -1),
		    "subsets[%zu]: name \"%s\" is already used by subsets[%zu]",
		    i, d->subsets[i].name, j);
		return -1;
	}
	if (istio_export_to_check(c, n, d->export_to, d->nexport_to, 0) == -1)
		return -1;
	/* a rule for selected workloads stays in its namespace */
	if (d->workload_selector.n)
		for (i = 0; i < d->nexport_to; i++)
			if (strcmp(d->export_to[i], ".") && !str_eq(d->export_to[i], own)) {
				sc_error(c, istio_at(n, "exportTo", (long)i), "a DestinationRule "
				    "with workloadSelector cannot be exported beyond its namespace");
				return -1;
			}
	return 0;
}

static const struct sc_field dr_spec_fields[] = {
	SCF("host", SC_STR, struct k_destinationrule, host),
	SCF_OBJPTR("trafficPolicy", struct k_destinationrule, traffic_policy, &policy_schema),
	SCF_OBJS("subsets", struct k_destinationrule, subsets, nsubsets, &subset_schema),
	SCF_LIST("exportTo", struct k_destinationrule, export_to, nexport_to),
	SCF_OBJ("workloadSelector", struct k_destinationrule, workload_selector,
	    &istio_matchlabels_schema),
	SCF_END
};
static const struct sc_schema dr_spec_schema = {
	"DestinationRuleSpec", sizeof(struct k_destinationrule), dr_spec_fields, dr_check
};
KIND_SPEC_ONLY(destinationrule, struct k_destinationrule, dr_spec_schema,
    "DestinationRule", 1);
