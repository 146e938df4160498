/*
 * Clusters: the Service or ServiceEntry a route destination names, the
 * DestinationRule policy it gets (load balancing, connection pool, outlier
 * detection, upstream TLS) as istiod merges it
 * (cluster_traffic_policy.go), one cluster a port, subset and host.
 */
#include "config.h"

#include <string.h>

#include "vipgate/log.h"
#include "vipgate/reconcile.h"

#include "gw-plan.h"
#include "select.h"

/* DestinationRules for a host, best first: gateway namespace, then the service's, then the rest. */
static size_t
find_drs(struct plan *p, const char *fqdn, const char *svc_ns, const struct object **out, size_t max)
{
	struct object * const *l;
	size_t n, i, no = 0;
	int pass;

	l = store_list(p->st, K_DESTINATIONRULE, &n);
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < n && no < max; i++) {
			const struct k_destinationrule *dr = OBJ_SPEC(l[i], k_destinationrule);
			const char *ns = l[i]->meta.ns;
			int in_gw = p->cfg->gateway.ns && strcmp(ns, p->cfg->gateway.ns) == 0;
			int in_svc = svc_ns && strcmp(ns, svc_ns) == 0;
			char *h;

			if (dr->host == NULL)
				continue;
			if ((pass == 0 && !in_gw) || (pass == 1 && (in_gw || !in_svc)) ||
			    (pass == 2 && (in_gw || in_svc)))
				continue;
			if (dr->workload_selector.n &&
			    !sel_strmap_subset(&dr->workload_selector, p->labels))
				continue;
			h = gwp_host_fqdn(p->a, dr->host, ns);
			if (gwp_host_covers(h, fqdn))
				out[no++] = l[i];
		}
	return no;
}

/*
 * Whether a DestinationRule for the host selects workloads: then each
 * deployment may get its own policy, and its own cluster.
 */
static int
drs_select(struct plan *p, const char *fqdn)
{
	struct object * const *l;
	size_t n, i;

	if (p->cfg->gateway.ndeployments < 2)
		return 0;
	l = store_list(p->st, K_DESTINATIONRULE, &n);
	for (i = 0; i < n; i++) {
		const struct k_destinationrule *dr = OBJ_SPEC(l[i], k_destinationrule);

		if (dr->host && dr->workload_selector.n &&
		    gwp_host_covers(gwp_host_fqdn(p->a, dr->host, l[i]->meta.ns), fqdn))
			return 1;
	}
	return 0;
}

static void
policy_apply(struct gw_cluster *c, const struct k_dr_lb *lb, const struct k_dr_pool *pool,
    const struct k_dr_outlier *od, struct vg_arena *a)
{
	if (lb) {
		switch (lb->simple) {
		case K_DR_LB_ROUND_ROBIN:
			c->lb = GW_LB_ROUND_ROBIN;
			break;
		case K_DR_LB_RANDOM:
			c->lb = GW_LB_RANDOM;
			break;
		case K_DR_LB_PASSTHROUGH:
			c->lb = GW_LB_PASSTHROUGH;
			break;
		default:
			c->lb = GW_LB_LEAST_REQUEST;
			break;
		}
		if (lb->consistent_hash) {
			const struct k_dr_consistent_hash *h = lb->consistent_hash;

			c->lb = h->algo == K_DR_HASH_MAGLEV ? GW_LB_MAGLEV : GW_LB_RING_HASH;
			c->ring_size = h->algo == K_DR_HASH_MAGLEV ? (h->maglev_table_size ?
			    h->maglev_table_size : 65537) : (h->minimum_ring_size.set ?
			    h->minimum_ring_size.v : 1024);
			switch (h->key) {
			case K_DR_HASH_HEADER:
				c->hash_key = GW_HASH_HEADER;
				c->hash_name = gwp_lower_dup(a, h->http_header_name ? h->http_header_name : "");
				break;
			case K_DR_HASH_COOKIE:
				c->hash_key = GW_HASH_COOKIE;
				c->hash_name = arena_strdup(a, h->http_cookie.name ? h->http_cookie.name : "");
				break;
			case K_DR_HASH_QUERY_PARAM:
				c->hash_key = GW_HASH_QUERY;
				c->hash_name = arena_strdup(a, h->http_query_parameter_name ?
				    h->http_query_parameter_name : "");
				break;
			case K_DR_HASH_SOURCE_IP:
				c->hash_key = GW_HASH_SOURCE_IP;
				break;
			default:
				c->hash_key = GW_HASH_NONE;
				break;
			}
		}
	}
	if (pool && pool->tcp) {
		c->max_connections = pool->tcp->max_connections;
		if (pool->tcp->connect_timeout_ms.set)
			c->connect_timeout_ms = pool->tcp->connect_timeout_ms.v;
		if (pool->tcp->idle_timeout_ms.set)
			c->idle_timeout_ms = pool->tcp->idle_timeout_ms.v;
		if (pool->tcp->max_connection_duration_ms.set)
			c->max_connection_duration_ms = pool->tcp->max_connection_duration_ms.v;
		if (pool->tcp->tcp_keepalive) {
			const struct k_dr_tcp_keepalive *k = pool->tcp->tcp_keepalive;

			/* Envoy's upstream_connection_options.tcp_keepalive (seconds) */
			c->tcp_keepalive = 1;
			c->keepalive_time_s = k->time_ms.set ? (k->time_ms.v + 999) / 1000 : 0;
			c->keepalive_interval_s = k->interval_ms.set ? (k->interval_ms.v + 999) / 1000 : 0;
			c->keepalive_probes = k->probes.set ? k->probes.v : 0;
		}
	}
	if (pool && pool->http) {
		c->max_pending = pool->http->http1_max_pending_requests;
		c->max_requests = pool->http->http2_max_requests;
		c->max_retries = pool->http->max_retries;
		c->max_requests_per_connection = pool->http->max_requests_per_connection;
		c->max_concurrent_streams = pool->http->max_concurrent_streams;
		/* the rest of setUpstreamProtocol (cluster_proto: HTTP/2 ports) */
		if (pool->http->use_client_protocol)
			c->up_proto = GW_UP_CLIENT;
		else if (pool->http->h2_upgrade_policy == K_DR_H2_UPGRADE)
			c->up_proto = GW_UP_H2;
		else if (pool->http->h2_upgrade_policy == K_DR_H2_DO_NOT_UPGRADE)
			c->up_proto = GW_UP_H1;
		if (pool->http->idle_timeout_ms.set)
			c->idle_timeout_ms = pool->http->idle_timeout_ms.v;
	}
	if (od) {
		c->outlier.enabled = 1;
		c->outlier.consecutive_5xx = od->consecutive_5xx_errors.set ?
		    od->consecutive_5xx_errors.v : 5;
		/* Istio: consecutiveErrors (deprecated) then consecutiveGatewayErrors
		 * set consecutive_gateway_failure, enforced when > 0; unset, Envoy
		 * counts to 5 without enforcing */
		c->outlier.consecutive_gateway = 5;
		c->outlier.gateway_enforced = 0;
		if (od->consecutive_errors > 0) {
			c->outlier.consecutive_gateway = od->consecutive_errors;
			c->outlier.gateway_enforced = 1;
		}
		if (od->consecutive_gateway_errors.set) {
			c->outlier.consecutive_gateway = od->consecutive_gateway_errors.v;
			c->outlier.gateway_enforced = od->consecutive_gateway_errors.v > 0;
		}
		/* split mode: consecutiveLocalOriginFailures when > 0, else Envoy's
		 * default of 5; enforcing_consecutive_local_origin_failure is 100 */
		c->outlier.split_local = od->split_external_local_origin_errors;
		c->outlier.consecutive_local = od->consecutive_local_origin_failures.set &&
		    od->consecutive_local_origin_failures.v > 0 ? od->consecutive_local_origin_failures.v : 5;
		c->outlier.interval_ms = od->interval_ms.set ? od->interval_ms.v : 10000;
		c->outlier.base_ejection_ms = od->base_ejection_time_ms.set ?
		    od->base_ejection_time_ms.v : 30000;
		c->outlier.max_ejection_percent = od->max_ejection_percent.set &&
		    od->max_ejection_percent.v > 0 ? od->max_ejection_percent.v : 10;
		c->outlier.min_health_percent = od->min_health_percent;
	}
}

static void
policy_apply_dr(struct gw_cluster *c, const struct k_dr_policy *pol, struct vg_arena *a)
{
	size_t i;

	if (pol == NULL)
		return;
	policy_apply(c, pol->load_balancer, pol->connection_pool, pol->outlier_detection, a);
	/* proxyProtocol: Envoy's proxy_protocol upstream transport socket */
	if (pol->proxy_protocol)
		c->proxy_protocol = pol->proxy_protocol_version == K_DR_PROXY_PROTOCOL_V2 ? 2 : 1;
	for (i = 0; i < pol->nport_level_settings; i++) {
		const struct k_dr_port_policy *pp = &pol->port_level_settings[i];

		if (pp->port == c->port)
			policy_apply(c, pp->load_balancer, pp->connection_pool, pp->outlier_detection, a);
	}
}

/*
 * The ClientTLSSettings a cluster gets, as Istio's MergeTrafficPolicy
 * (pilot/pkg/networking/util) picks it: the rule's tls, replaced by a
 * portLevelSettings entry for the port (even one without tls: port-level
 * policies do not inherit), then by the subset's tls, then by the subset's
 * own port-level entry. NULL: no DestinationRule tls (auto mTLS applies).
 */
static const struct k_dr_tls *
policy_tls(const struct k_dr_policy *pol, int64_t port, const struct k_dr_tls *t)
{
	size_t i;

	if (pol == NULL)
		return t;
	if (pol->tls)
		t = pol->tls;
	for (i = 0; i < pol->nport_level_settings; i++)
		if (pol->port_level_settings[i].port == port)
			return pol->port_level_settings[i].tls;
	return t;
}

/*
 * The upstream TLS of a cluster from its ClientTLSSettings; credentialName
 * is looked up in gateway.namespace (Istio: the gateway's own namespace).
 * A Secret that is missing or lacks what the mode needs leaves the cluster
 * unactivated, as Envoy leaves a cluster whose SDS secret never arrives
 * warming: it is not there for the router, so requests get 503 NC.
 */
static const struct gw_uptls *
uptls_compile(struct plan *p, struct gw_cluster *c, const struct k_dr_tls *t)
{
	struct gw_uptls *u = arena_alloc(p->a, sizeof(*u));
	const char *ns = p->cfg->gateway.ns ? p->cfg->gateway.ns : "istio-system";
	size_t i;

	switch (t->mode) {
	case K_DR_TLS_SIMPLE:
		u->mode = GW_UPTLS_SIMPLE;
		break;
	case K_DR_TLS_MUTUAL:
		u->mode = GW_UPTLS_MUTUAL;
		break;
	case K_DR_TLS_ISTIO_MUTUAL:
		u->mode = GW_UPTLS_ISTIO_MUTUAL;
		break;
	default:
		u->mode = GW_UPTLS_DISABLE;
		return u;
	}
	u->sni = t->sni && *t->sni ? arena_strdup(p->a, t->sni) : NULL;
	u->insecure_skip_verify = t->insecure_skip_verify.set && t->insecure_skip_verify.v;
	if (t->nsubject_alt_names) {
		u->sans = arena_alloc(p->a, sizeof(char *) * t->nsubject_alt_names);
		for (i = 0; i < t->nsubject_alt_names; i++)
			u->sans[i] = arena_strdup(p->a, t->subject_alt_names[i]);
		u->nsans = t->nsubject_alt_names;
	}
	if (u->mode == GW_UPTLS_ISTIO_MUTUAL)
		return u;	/* gateway.identity; files and Secrets are not used */
	if (t->client_certificate)
		u->cert_file = arena_strdup(p->a, t->client_certificate);
	if (t->private_key)
		u->key_file = arena_strdup(p->a, t->private_key);
	if (t->ca_certificates)
		u->ca_file = arena_strdup(p->a, t->ca_certificates);
	if (t->ca_crl)
		u->crl_file = arena_strdup(p->a, t->ca_crl);
	if (t->credential_name && *t->credential_name) {
		const char *cred = t->credential_name, *why;
		const struct object *sec = gwp_secret_get(p, ns, cred, &why);

		u->credential = arena_printf(p->a, "%s/%s", ns, cred);
		if (sec == NULL) {
			c->missing = why ? arena_printf(p->a, "DestinationRule tls: %s (the cluster is "
			    "not activated, as Envoy waits for its SDS secret)", why) :
			    arena_printf(p->a, "DestinationRule tls: Secret %s not found "
			    "(the cluster is not activated, as Envoy waits for its SDS secret)", u->credential);
			return u;
		}
		u->ca = gwp_secret_pick(p, sec, "ca.crt", "cacert", &u->ca_len);
		u->crl = gwp_secret_pick(p, sec, "ca.crl", "crl", &u->crl_len);
		if (u->ca == NULL) {
			const struct object *cs = gwp_secret_get(p, ns,
			    arena_printf(p->a, "%s-cacert", cred), &why);

			u->ca = gwp_secret_pick(p, cs, "ca.crt", "cacert", &u->ca_len);
			if (u->crl == NULL)
				u->crl = gwp_secret_pick(p, cs, "ca.crl", "crl", &u->crl_len);
		}
		if (u->mode == GW_UPTLS_MUTUAL) {
			u->cert = gwp_secret_pick(p, sec, "tls.crt", "cert", &u->cert_len);
			u->key = gwp_secret_pick(p, sec, "tls.key", "key", &u->key_len);
			if (u->cert == NULL || u->key == NULL) {
				c->missing = arena_printf(p->a, "DestinationRule tls: Secret %s has no "
				    "tls.crt/tls.key (or cert/key) for MUTUAL (the cluster is not activated)",
				    u->credential);
				return u;
			}
		}
		if (u->ca == NULL && u->ca_file == NULL && !u->insecure_skip_verify)
			c->missing = arena_printf(p->a, "DestinationRule tls: Secret %s has no ca.crt "
			    "(nor a Secret %s-cacert) (the cluster is not activated)", u->credential, cred);
		return u;
	}
	if (u->mode == GW_UPTLS_MUTUAL && (u->cert_file == NULL || u->key_file == NULL))
		c->missing = arena_printf(p->a, "DestinationRule tls: MUTUAL needs clientCertificate "
		    "and privateKey, or credentialName (the cluster is not activated)");
	return u;
}

/* The Service (name.ns.svc.cluster.local) or ServiceEntry a destination names, and its port. */
static void
dest_resolve(struct plan *p, const struct k_vs_destination *dst, const char *vs_ns,
    struct dest_target *t)
{
	struct object * const *l;
	size_t i, j, n;

	memset(t, 0, sizeof(*t));
	t->fqdn = gwp_host_fqdn(p->a, dst->host ? dst->host : "", vs_ns);
	t->port = dst->port;
	/* name.ns.svc.cluster.local is a Kubernetes Service */
	if (str_has_suffix(t->fqdn, "." CLUSTER_DOMAIN)) {
		const char *dot = strchr(t->fqdn, '.');
		size_t nslen = strlen(dot + 1) - strlen("." CLUSTER_DOMAIN);
		char *sname = arena_strndup(p->a, t->fqdn, (size_t)(dot - t->fqdn));
		char *sns = arena_strndup(p->a, dot + 1, nslen);

		if (strchr(sns, '.') == NULL)
			t->so = store_get(p->st, K_SERVICE, sns, sname);
	}
	if (t->so) {
		const struct k_service *svc = OBJ_SPEC(t->so, k_service);

		for (i = 0; i < svc->nports; i++)
			if (svc->ports[i].port == t->port || (t->port == 0 && svc->nports == 1))
				t->sp = &svc->ports[i];
		if (t->sp)
			t->port = t->sp->port;
		return;
	}
	l = store_list(p->st, K_SERVICEENTRY, &n);
	for (i = 0; i < n && t->seo == NULL; i++) {
		const struct k_serviceentry *se = OBJ_SPEC(l[i], k_serviceentry);

		for (j = 0; j < se->nhosts; j++)
			if (strcasecmp(se->hosts[j], t->fqdn) == 0)
				t->seo = l[i];
	}
	if (t->seo) {
		const struct k_serviceentry *se = OBJ_SPEC(t->seo, k_serviceentry);

		for (i = 0; i < se->nports; i++)
			if (se->ports[i].number == t->port || (t->port == 0 && se->nports == 1))
				t->sep = &se->ports[i];
		if (t->sep)
			t->port = t->sep->number;
	}
}

/*
 * A cluster's DestinationRule policy (drs: the rules for its host, best
 * first) and its subset's, with the upstream TLS they give. -1 when the
 * cluster cannot be activated (c->missing says why). *subset_labels: the
 * subset's labels, when it has a subset.
 */
static int
cluster_policy(struct plan *p, struct gw_cluster *c, const char *subset,
    const struct object **drs, size_t ndr, const struct strmap **subset_labels, int sni_dnat)
{
	const struct k_dr_tls *tls = NULL;
	const struct k_dr_subset *sub = NULL;
	size_t i, j;

	if (ndr) {
		policy_apply_dr(c, OBJ_SPEC(drs[0], k_destinationrule)->traffic_policy, p->a);
		tls = policy_tls(OBJ_SPEC(drs[0], k_destinationrule)->traffic_policy, c->port, NULL);
	}
	if (subset) {
		for (i = 0; i < ndr && sub == NULL; i++) {
			const struct k_destinationrule *dr = OBJ_SPEC(drs[i], k_destinationrule);

			for (j = 0; j < dr->nsubsets; j++)
				if (strcmp(dr->subsets[j].name, subset) == 0) {
					sub = &dr->subsets[j];
					break;
				}
		}
		if (sub == NULL) {
			c->missing = arena_printf(p->a, "no subset %s in any DestinationRule for %s",
			    subset, c->host);
			return -1;
		}
		policy_apply_dr(c, sub->traffic_policy, p->a);
		tls = policy_tls(sub->traffic_policy, c->port, tls);
		*subset_labels = &sub->labels;
	}
	if (sni_dnat) {
		/* AUTO_PASSTHROUGH: the client's TLS goes as it came, none of ours */
		struct gw_uptls *u = arena_alloc(p->a, sizeof(*u));

		memset(u, 0, sizeof(*u));
		u->mode = GW_UPTLS_DISABLE;
		c->tls = u;
		return 0;
	}
	if (tls) {
		c->tls = uptls_compile(p, c, tls);
		if (c->missing)
			return -1;
	}
	return 0;
}

/*
 * Envoy ejects a host only while 100*(ejected+1)/hosts stays within
 * max_ejection_percent (since envoy PR #27909 even the first one), so
 * too few endpoints for the percentage means no ejection ever: a note on
 * the DestinationRule dr says so.
 */
static void
outlier_note(struct plan *p, const struct gw_cluster *c, const struct object *dr)
{
	if (c->outlier.enabled && c->neps &&
	    (c->outlier.consecutive_5xx > 0 || c->outlier.gateway_enforced || c->outlier.split_local) &&
	    100 > c->outlier.max_ejection_percent * (int64_t)c->neps)
		gwp_note(p, dr, "outlierDetection for %s never ejects: %zu endpoint(s) with "
		    "maxEjectionPercent %lld allow no ejection (100*(ejected+1)/%zu must be <= %lld); "
		    "set maxEjectionPercent >= %lld", c->name, c->neps,
		    (long long)c->outlier.max_ejection_percent, c->neps,
		    (long long)c->outlier.max_ejection_percent,
		    (long long)((100 + c->neps - 1) / c->neps));
}

/*
 * HTTP/2 by Istio's protocol selection (pkg/config/kube ConvertProtocol):
 * appProtocol when set, else the port name's prefix before "-";
 * "grpc-web" is matched whole first; kubernetes.io/h2c is HTTP/2.
 */
static int
port_is_h2(const char *app, const char *name)
{
	const char *s = app && *app ? app : name;
	size_t n;

	if (s == NULL)
		return 0;
	if (strcasecmp(s, "kubernetes.io/h2c") == 0)
		return 1;
	if (strncasecmp(s, "grpc-web", 8) == 0 && (s[8] == '\0' || s[8] == '-'))
		return 1;
	n = strcspn(s, "-");
	return (n == 5 && strncasecmp(s, "http2", 5) == 0) || (n == 4 && strncasecmp(s, "grpc", 4) == 0);
}

/*
 * The upstream protocol, as Istio's setUpstreamProtocol: an HTTP/2 port
 * (HTTP2, GRPC, GRPC-Web) is HTTP/2; else useClientProtocol follows the
 * client; else h2UpgradePolicy UPGRADE makes it HTTP/2 (the mesh default,
 * DO_NOT_UPGRADE, leaves it HTTP/1.1).
 */
static void
cluster_proto(struct gw_cluster *c, const struct dest_target *t)
{
	int h2 = 0;

	if (t->sp)
		h2 = port_is_h2(t->sp->app_protocol, t->sp->name);
	else if (t->sep)
		h2 = t->sep->proto == K_PROTO_HTTP2 || t->sep->proto == K_PROTO_GRPC ||
		    t->sep->proto == K_PROTO_GRPC_WEB;
	if (h2)
		c->up_proto = GW_UP_H2;	/* whatever the DestinationRule says */
}

/*
 * The cluster of a destination (outbound|port|subset|host), made on its
 * first use; sni_dnat: an AUTO_PASSTHROUGH server's of the same host,
 * port and subset (Istio's SNI-DNAT cluster outbound_.port_.subset_.host,
 * without upstream TLS).
 */
static struct gw_cluster *
cluster_get(struct plan *p, const struct k_vs_destination *dst, const char *vs_ns, int sni_dnat)
{
	const char *subset = dst->subset && *dst->subset ? dst->subset : NULL;
	const struct object *drs[8];
	const struct strmap *subset_labels = NULL;
	struct dest_target t;
	struct gw_cluster *c;
	size_t i, ndr;
	char *name;

	dest_resolve(p, dst, vs_ns, &t);
	if (sni_dnat)
		name = arena_printf(p->a, "outbound_.%lld_.%s_.%s", (long long)t.port,
		    subset ? subset : "", t.fqdn);
	else
		name = arena_printf(p->a, "outbound|%lld|%s|%s", (long long)t.port,
		    subset ? subset : "", t.fqdn);
	/* a DestinationRule's workloadSelector: one cluster a deployment, the
	 * name telling which (Envoy's are apart, one gateway a process) */
	if (drs_select(p, t.fqdn))
		name = arena_printf(p->a, "%s@%s", name, p->cfg->gateway.deployments[p->dep].name);
	for (i = 0; i < p->clusters.n; i++) {
		c = p->clusters.v[i];
		if (strcmp(c->name, name) == 0)
			return c;
	}
	c = arena_alloc(p->a, sizeof(*c));
	c->name = name;
	c->host = t.fqdn;
	c->subset = subset ? arena_strdup(p->a, subset) : NULL;
	c->port = t.port > 0 && t.port < 65536 ? (uint16_t)t.port : 0;
	c->connect_timeout_ms = 10000;
	c->idle_timeout_ms = 3600000;
	ptrvec_push(&p->clusters, c);
	if (t.so) {
		c->svc_ns = arena_strdup(p->a, t.so->meta.ns);
		c->svc_name = arena_strdup(p->a, t.so->meta.name);
	}
	if (t.so == NULL && t.seo == NULL) {
		c->missing = arena_printf(p->a, "no Service or ServiceEntry for host %s", t.fqdn);
		return c;
	}
	if (t.sp == NULL && t.sep == NULL) {
		c->missing = arena_printf(p->a, "%s has no port %lld", t.fqdn, (long long)t.port);
		return c;
	}
	c->istio_sni = arena_printf(p->a, "outbound_.%u_.%s_.%s", c->port, subset ? subset : "",
	    t.fqdn);
	ndr = find_drs(p, t.fqdn, t.so ? t.so->meta.ns : t.seo->meta.ns, drs, VG_ARRAY_SIZE(drs));
	if (cluster_policy(p, c, subset, drs, ndr, &subset_labels, sni_dnat) == -1)
		return c;
	cluster_proto(c, &t);
	gwp_cluster_endpoints(p, c, &t, subset_labels);
	if (ndr && !sni_dnat)	/* once, not again for each AUTO_PASSTHROUGH cluster */
		outlier_note(p, c, drs[0]);
	return c;
}

struct gw_cluster *
gwp_cluster_get(struct plan *p, const struct k_vs_destination *dst, const char *vs_ns)
{
	return cluster_get(p, dst, vs_ns, 0);
}

struct gw_cluster *
gwp_cluster_sni_dnat(struct plan *p, const char *fqdn, uint16_t port, const char *subset)
{
	struct k_vs_destination d;

	memset(&d, 0, sizeof(d));
	d.host = fqdn;
	d.port = port;
	d.subset = subset;
	return cluster_get(p, &d, "", 1);
}

size_t
gwp_subsets(struct plan *p, const char *fqdn, const char *svc_ns, const char **out, size_t max)
{
	const struct object *drs[8];
	size_t ndr, i, j, k, n = 0;

	ndr = find_drs(p, fqdn, svc_ns, drs, VG_ARRAY_SIZE(drs));
	for (i = 0; i < ndr; i++) {
		const struct k_destinationrule *dr = OBJ_SPEC(drs[i], k_destinationrule);

		for (j = 0; j < dr->nsubsets && n < max; j++) {
			int dup = 0;

			if (dr->subsets[j].name == NULL || *dr->subsets[j].name == '\0')
				continue;
			for (k = 0; k < n; k++)
				if (strcmp(out[k], dr->subsets[j].name) == 0)
					dup = 1;
			if (!dup)
				out[n++] = dr->subsets[j].name;
		}
	}
	return n;
}
