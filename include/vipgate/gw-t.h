/*
 * The compiled gateway: what reconcile_gw() computes from Gateways,
 * VirtualServices, DestinationRules and the endpoints, as istiod would
 * translate them for an ingress gateway (listeners, filter chains, virtual
 * hosts, routes, clusters). Immutable; everything lives in the desired
 * state's arena, and pointers only point inside it.
 */
#ifndef VIPGATE_GW_T_H
#define VIPGATE_GW_T_H

#include <stddef.h>
#include <stdint.h>

#include "vipgate/ipaddr.h"
#include "vipgate/schema.h"

/* A StringMatch, compiled. */
enum gw_mt {
	GW_MT_ANY,		/* no condition */
	GW_MT_PRESENT,		/* headers/queryParams {}: present only */
	GW_MT_EXACT,
	GW_MT_PREFIX,
	GW_MT_REGEX,		/* full match, as RE2 does */
};

struct gw_strmatch {
	enum gw_mt	 type;
	const char	*value;		/* the literal or the pattern */
	size_t		 len;
	int		 rx;		/* GW_MT_REGEX: index into gw_desired.regexes */
	int		 icase;		/* exact/prefix: case-insensitive (ignoreUriCase) */
};

struct gw_keymatch {
	const char		*name;	/* header names lower-cased */
	struct gw_strmatch	 m;
};

/* One entry of HTTPRoute.match: its fields are ANDed. */
struct gw_match {
	struct gw_strmatch	 uri, scheme, method, authority;
	struct gw_keymatch	*headers;
	size_t			 nheaders;
	struct gw_keymatch	*without_headers;	/* the request must not match any */
	size_t			 nwithout_headers;
	struct gw_keymatch	*query;
	size_t			 nquery;
	uint16_t		 port;			/* 0: any */
};

struct gw_hdr_kv {
	const char	*name, *value;		/* names lower-cased */
};

struct gw_header_ops {
	struct gw_hdr_kv	*set;
	size_t			 nset;
	struct gw_hdr_kv	*add;
	size_t			 nadd;
	const char		**remove;
	size_t			  nremove;
};

enum gw_lb {
	GW_LB_LEAST_REQUEST,		/* Istio's default (UNSPECIFIED): P2C */
	GW_LB_ROUND_ROBIN,		/* smooth weighted */
	GW_LB_RANDOM,
	GW_LB_RING_HASH,
	GW_LB_MAGLEV,
	GW_LB_PASSTHROUGH,		/* ORIGINAL_DST: not served (503 NC) */
};

enum gw_hash_key {
	GW_HASH_NONE,
	GW_HASH_HEADER,
	GW_HASH_COOKIE,
	GW_HASH_SOURCE_IP,
	GW_HASH_QUERY,
};

/* outlierDetection as Istio hands it to Envoy (src/gw/gw_outlier.c). */
struct gw_outlier {
	int		enabled;
	int64_t		consecutive_5xx;	/* 0: off */
	int64_t		consecutive_gateway;	/* 0: off; Envoy's default 5 when unset */
	int		gateway_enforced;	/* consecutiveGatewayErrors set (> 0) */
	int		split_local;		/* splitExternalLocalOriginErrors */
	int64_t		consecutive_local;	/* consecutiveLocalOriginFailures; Envoy's 5 */
	int64_t		interval_ms;
	int64_t		base_ejection_ms;
	int64_t		max_ejection_percent;
	int64_t		min_health_percent;
};

struct gw_endpoint {
	const char	*ip;		/* text form, as the object had it */
	struct ipaddr	 addr;
	uint16_t	 port;
	uint32_t	 weight;	/* 1 unless a WorkloadEntry says otherwise */
	const char	*node;		/* NULL when unknown */
	const char	*workload_ns, *workload;	/* the Pod or WorkloadEntry, or NULL */
	const char	*app, *version;		/* labels app and version, for metrics */
	/* upstream TLS: labelled security.istio.io/tlsMode=istio (auto mTLS), and
	 * its workload's SPIFFE ID (Pod serviceAccountName, default "default";
	 * WorkloadEntry serviceAccount), NULL when no workload is known */
	int		 istio_mtls;
	const char	*spiffe;
	size_t		 id;		/* index in the cluster's endpoints: per-endpoint state hangs here */
};

/* DestinationRule trafficPolicy.tls (ClientTLSSettings), resolved for a cluster. */
enum gw_uptls_mode {
	GW_UPTLS_DISABLE,
	GW_UPTLS_SIMPLE,
	GW_UPTLS_MUTUAL,
	GW_UPTLS_ISTIO_MUTUAL,
};

struct gw_uptls {
	enum gw_uptls_mode	 mode;
	const char		*credential;	/* ns/name of the credentialName Secret, or NULL */
	const char		*cert, *key, *ca;	/* PEM from that Secret (NUL-terminated), or NULL */
	size_t			 cert_len, key_len, ca_len;
	/* clientCertificate, privateKey, caCertificates: files read when the
	 * snapshot is made; used where the Secret gives nothing */
	const char		*cert_file, *key_file, *ca_file;
	const char		*crl, *crl_file;	/* caCrl: the Secret's ca.crl, or a file */
	size_t			 crl_len;
	const char		*sni;		/* NULL: auto_sni from the upstream Host (SIMPLE,
						 * MUTUAL), the cluster's istio_sni (ISTIO_MUTUAL) */
	const char		**sans;		/* subjectAltNames; none: the endpoint's SPIFFE ID
						 * (ISTIO_MUTUAL), the Host (auto SAN, no sni) */
	size_t			  nsans;
	int			 insecure_skip_verify;
};

/*
 * An Envoy cluster "outbound|port|subset|fqdn". missing != NULL: the
 * cluster or its subset does not exist (503 NC), with the reason.
 */
struct gw_cluster {
	const char		*name;
	const char		*host;		/* FQDN */
	const char		*svc_ns, *svc_name;	/* a Kubernetes Service, or NULL (ServiceEntry) */
	const char		*subset;	/* NULL: none */
	uint16_t		 port;
	const char		*missing;
	int			 noted;		/* compile-time only: reported once */
	enum gw_lb		 lb;
	enum gw_hash_key	 hash_key;
	const char		*hash_name;	/* header, cookie or query parameter */
	int64_t			 ring_size;
	/* connectionPool; 0: unlimited (Istio's 2^32-1) */
	int64_t			 max_connections;
	int64_t			 max_pending;
	int64_t			 max_requests;
	int64_t			 max_retries;
	int64_t			 max_requests_per_connection;
	/* HTTP/2 upstreams: streams at once on one connection (maxConcurrentStreams,
	 * Envoy's max_concurrent_streams); 0: as many as the upstream allows */
	int64_t			 max_concurrent_streams;
	int64_t			 connect_timeout_ms;	/* default 10s */
	/* the upstream protocol (Istio's setUpstreamProtocol) */
	enum { GW_UP_H1, GW_UP_H2, GW_UP_CLIENT } up_proto;
	int64_t			 idle_timeout_ms;	/* default 1h */
	int64_t			 max_connection_duration_ms;	/* tcp.maxConnectionDuration; 0: none */
	int			 proxy_protocol;	/* proxyProtocol: 0 none, 1 or 2 */
	/* tcp.tcpKeepalive: 0 keeps the kernel's value; keepalive off when !tcp_keepalive */
	int			 tcp_keepalive;
	int64_t			 keepalive_time_s, keepalive_interval_s, keepalive_probes;
	struct gw_outlier	 outlier;
	/* upstream TLS: the DestinationRule's (subset and port level applied),
	 * or NULL: auto mTLS, each endpoint by its istio_mtls */
	const struct gw_uptls	*tls;
	const char		*istio_sni;	/* outbound_.<port>_.<subset>_.<fqdn> */
	/* ISTIO_MUTUAL's SAN set: the service's accounts, every subset's, sorted */
	const char		**spiffes;
	size_t			 nspiffes;
	struct gw_endpoint	*eps;		/* sorted by address, port */
	size_t			 neps;
	size_t			 id;		/* index in gw_desired.clusters */
};

/* One destination of a weighted route. */
struct gw_dest {
	struct gw_cluster	*cluster;
	uint32_t		 weight;
	struct gw_header_ops	 req, resp;
};

enum gw_action {
	GW_ACT_ROUTE,
	GW_ACT_REDIRECT,
	GW_ACT_DIRECT,
};

struct gw_redirect {
	const char	*uri;		/* NULL: keep */
	const char	*authority;	/* NULL: keep */
	const char	*scheme;	/* NULL: keep */
	uint16_t	 port;		/* 0: keep (or derive) */
	int		 port_from_request;
	int		 code;		/* 301 default */
};

struct gw_rewrite {
	const char	*uri;		/* replaces the matched prefix, or the whole path */
	const char	*authority;
	int		 rx;		/* uriRegexRewrite: regex index, -1 when none */
	const char	*rx_subst;
};

/* corsPolicy, as Envoy's CORS filter applies it. */
struct gw_cors {
	struct gw_strmatch	*origins;	/* allowOrigins and the deprecated allowOrigin */
	size_t			 norigins;
	const char		*methods, *headers, *expose;	/* joined with "," or NULL */
	int64_t			 max_age_s;	/* -1: unset */
	int			 credentials;	/* -1 unset, 0, 1 */
	int			 forward_unmatched;	/* unmatchedPreflights FORWARD (the default) */
};

/* mirror / mirrors: a copy of the request, its answer dropped. */
struct gw_mirror {
	struct gw_cluster	*cluster;
	double			 percent;	/* 0..100 */
};

/*
 * A route's retry policy as istiod hands it to Envoy (route/retry/retry.go)
 * with retryOn parsed once: the GW_RETRY_* condition bits (gw-retry-t.h) and
 * the retriable status codes. attempts 0: no retries.
 */
#define GW_RETRY_MAX_CODES	32
struct gw_retry_policy {
	int64_t			 attempts;	/* Envoy num_retries */
	int64_t			 per_try_timeout_ms;	/* 0: none */
	int64_t			 backoff_base_ms;	/* Envoy's 25 ms unless backoff is set */
	int64_t			 backoff_max_ms;	/* 10 x base, as Envoy defaults it */
	uint32_t		 on;		/* GW_RETRY_* bits */
	int			 other_hosts;	/* previous_hosts predicate (retryIgnorePreviousHosts) */
	uint16_t		 codes[GW_RETRY_MAX_CODES];
	size_t			 ncodes;
};

/* fault, as Envoy's fault filter takes it: FractionalPercent num/den. */
struct gw_fault {
	int64_t			 delay_ms;	/* 0: no delay */
	uint32_t		 delay_num, delay_den;
	int			 abort_status;	/* 0: no abort */
	int			 abort_grpc;	/* grpcStatus's code + 1; 0: an HTTP status */
	uint32_t		 abort_num, abort_den;
};

/* One Envoy route: one http[] rule of a VirtualService. */
struct gw_route {
	const char		*vs_ns, *vs_name;
	const char		*name;		/* http[].name or NULL */
	size_t			 rule;		/* index in the VirtualService's http[] */
	struct gw_match		*matches;	/* ORed; none: matches everything */
	size_t			 nmatches;
	enum gw_action		 action;
	struct gw_dest		*dests;
	size_t			 ndests;
	uint32_t		 total_weight;
	struct gw_redirect	 redirect;
	int			 direct_status;
	const char		*direct_body;	/* may be NULL */
	size_t			 direct_len;
	struct gw_rewrite	*rewrite;	/* NULL: none */
	struct gw_cors		*cors;		/* NULL: none */
	struct gw_mirror	*mirrors;
	size_t			 nmirrors;
	struct gw_header_ops	 req, resp;
	int64_t			 timeout_ms;	/* 0: none */
	int64_t			 retry_attempts;	/* Istio default 2 (as written: the proxy reads retry) */
	const char		*retry_on;
	int64_t			 per_try_timeout_ms;
	/* retries, timeout and fault as the proxy applies them (gw_retry.c) */
	struct gw_retry_policy	 retry;
	struct gw_fault		*fault;		/* NULL: none */
};

/* An Envoy virtual host: one lower-cased hostname of a server. */
struct gw_vhost {
	const char		*name;		/* "bookinfo.example.com", "*.example.com", "*" */
	int			 require_tls;	/* httpsRedirect */
	struct gw_route		*routes;	/* merged from every VirtualService, in order */
	size_t			 nroutes;
};

enum gw_tls_mode {
	GW_TLS_NONE,
	GW_TLS_SIMPLE,
	GW_TLS_MUTUAL,
	GW_TLS_OPTIONAL_MUTUAL,
	GW_TLS_ISTIO_MUTUAL,
};

struct gw_tls {
	enum gw_tls_mode	 mode;
	const char		*credential;	/* ns/name of the Secret */
	const char		*cert, *key, *ca;	/* PEM, NUL-terminated; ca NULL unless needed */
	size_t			 cert_len, key_len, ca_len;
	const char		*cert2, *key2;	/* credentialNames[1]: another key type, or NULL */
	size_t			 cert2_len, key2_len;
	int			 min_version, max_version;	/* 0x0303 ... ; 0: default */
	const char		*ciphers;	/* OpenSSL list, or NULL */
	const char		**sans;
	size_t			  nsans;
	const char		*error;		/* why this chain cannot be served, or NULL */
	const char		*rejected;	/* a Secret it reads had a version rejected;
						 * its last good one is served (or NULL) */
	int64_t			 not_before, not_after;	/* the certificate's (epoch s); 0: unknown */
};

/*
 * A filter chain: the HTTP servers of one port share one (Istio's
 * route config "http.<port>"); each HTTPS server gets its own, chosen by SNI.
 */
struct gw_chain {
	const char		*name;		/* route config name, as istiod names it */
	const char		**sni;		/* server hosts (dns part); HTTPS only */
	size_t			  nsni;
	struct gw_tls		*tls;		/* NULL: plain text */
	struct gw_vhost		*vhosts;	/* sorted by name */
	size_t			 nvhosts;
	int			 grpc_web;	/* a GRPC-Web server: Envoy's grpc_web filter */
};

struct gw_l4;

struct gw_listener {
	uint16_t		 port;
	int			 tls;		/* its chains terminate TLS */
	struct gw_chain		*chains;
	size_t			 nchains;
	struct gw_l4		*l4;		/* TCP or TLS passthrough (gw-l4-t.h), no chains;
						 * NULL: HTTP */
	uint64_t		 hash;		/* port and TLS settings: equal means keep the socket */
	size_t			 dep;		/* its deployment: gw_desired.deps[dep] */
	const char		*bind;		/* its servers' bind address; NULL: the deployment's */
	/* where it listens: the bind address, or the VIPs of the deployment's
	 * Services (gateway.deployments set); NULL: gateway.bind */
	const char		**addrs;
	size_t			 naddrs;
	/* deployment and bind address: a connection finds its listener again
	 * by port and scope after a reload */
	uint32_t		 scope;
};

/* An analyze-style note about the configuration. */
struct gw_note {
	const char	*kind, *ns, *name;
	const char	*msg;
};

struct gw_authz;
struct gw_reqauthn;

/* A gateway deployment (gateway.deployments): its own security policies. */
struct gw_deploy {
	const char		*name;
	struct gw_authz		*authz;		/* AuthorizationPolicies; NULL: none apply */
	struct gw_reqauthn	*reqauthn;	/* RequestAuthentications; NULL: none apply */
};

struct gw_desired {
	struct gw_listener	*listeners;	/* sorted by port, then deployment and bind */
	size_t			 nlisteners;
	struct gw_cluster	**clusters;	/* sorted by name */
	size_t			 nclusters;
	const char		**regexes;	/* patterns, compiled once per snapshot */
	size_t			  nregexes;
	struct gw_note		*notes;
	size_t			 nnotes;
	struct gw_deploy	*deps;		/* in gateway.deployments' order */
	size_t			 ndeps;
};

#endif
