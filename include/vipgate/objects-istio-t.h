/*
 * Typed Istio objects (networking.istio.io v1/v1beta1/v1alpha3,
 * security.istio.io v1/v1beta1), decoded from spec. Field names follow the
 * protos in istio/api networking/v1alpha3; enums keep the protos'
 * numbering, so a zeroed field is the proto default. Durations are in
 * milliseconds. struct opt_i64 marks the fields whose absence Istio
 * treats differently from 0 (protobuf wrappers, Durations).
 */
#ifndef VIPGATE_OBJECTS_ISTIO_T_H
#define VIPGATE_OBJECTS_ISTIO_T_H

#include "vipgate/objects-t.h"

/* ---- shared ---- */

/* pkg/config/protocol: names are case-insensitive in Istio. */
enum k_istio_proto {
	K_PROTO_UNSET,		/* ServiceEntry port without protocol: sniffed */
	K_PROTO_HTTP,
	K_PROTO_HTTPS,
	K_PROTO_GRPC,
	K_PROTO_GRPC_WEB,
	K_PROTO_HTTP2,
	K_PROTO_HTTP_PROXY,
	K_PROTO_TCP,
	K_PROTO_TLS,
	K_PROTO_UDP,
	K_PROTO_MONGO,
	K_PROTO_REDIS,
	K_PROTO_MYSQL,
};

/* networking.v1alpha3.Port (Gateway) and ServicePort (ServiceEntry). */
struct k_istio_port {
	int64_t			 number;
	const char		*protocol;	/* upper-cased, NULL when absent */
	enum k_istio_proto	 proto;
	const char		*name;
	int64_t			 target_port;	/* 0: unset */
};

enum k_istio_match {
	K_MATCH_NONE,		/* {}: header/query presence only */
	K_MATCH_EXACT,
	K_MATCH_PREFIX,
	K_MATCH_REGEX,		/* RE2 syntax, matched against the whole value */
};
/* StringMatch: one of exact, prefix, regex. */
struct k_istio_strmatch {
	enum k_istio_match	 type;
	const char		*value;
};

/* Percent {value}: a double 0..100. */
struct k_istio_percent {
	int	set;
	double	value;
};

/* ---- Gateway ---- */

enum k_gw_tls_mode {
	K_GW_TLS_PASSTHROUGH,		/* the proto default */
	K_GW_TLS_SIMPLE,
	K_GW_TLS_MUTUAL,
	K_GW_TLS_AUTO_PASSTHROUGH,
	K_GW_TLS_ISTIO_MUTUAL,
	K_GW_TLS_OPTIONAL_MUTUAL,
};

enum k_tls_version {
	K_TLS_AUTO,		/* Envoy's default: min 1.2 for servers, max 1.3 */
	K_TLSV1_0,
	K_TLSV1_1,
	K_TLSV1_2,
	K_TLSV1_3,
};

struct k_gw_tls_cert {
	const char	*server_certificate, *private_key;
};

struct k_gw_tls {
	int			  https_redirect;	/* 301 to https for every request */
	enum k_gw_tls_mode	  mode;
	/* Secret with tls.crt/tls.key (ca.crt for MUTUAL) or cert/key/cacert,
	 * looked up in the gateway deployment's namespace */
	const char		 *credential_name;
	const char		**credential_names;	/* at most 2: RSA + ECDSA */
	size_t			  ncredential_names;
	const char		 *ca_cert_credential_name;
	const char		 *server_certificate;	/* file paths */
	const char		 *private_key;
	const char		 *ca_certificates;
	const char		 *ca_crl;
	struct k_gw_tls_cert	 *tls_certificates;
	size_t			  ntls_certificates;
	const char		**subject_alt_names;
	size_t			  nsubject_alt_names;
	const char		**verify_certificate_spki;
	size_t			  nverify_certificate_spki;
	const char		**verify_certificate_hash;
	size_t			  nverify_certificate_hash;
	const char		**cipher_suites;
	size_t			  ncipher_suites;
	enum k_tls_version	  min_protocol_version;
	enum k_tls_version	  max_protocol_version;
	struct opt_i64		  insecure_skip_verify;
};

/* One entry of hosts, "[ns/]dnsName" split (derived). */
struct k_gw_host {
	const char	*ns;		/* "*" any (the default), "." the Gateway's own, or a namespace */
	const char	*dns;		/* "*", "*.example.com", "example.com" or an IP */
};

struct k_gw_server {
	struct k_istio_port	  port;
	const char		**hosts;	/* as written */
	size_t			  nhosts;
	struct k_gw_host	 *host_parts;	/* derived from hosts, nhosts entries */
	const char		 *bind;
	const char		 *name;
	struct k_gw_tls		 *tls;		/* NULL when absent */
};

struct k_gateway {
	struct strmap		 selector;	/* labels of the gateway pods */
	struct k_gw_server	*servers;
	size_t			 nservers;
};

/* ---- VirtualService ---- */

/* A map of name -> StringMatch (headers, withoutHeaders, queryParams). */
struct k_vs_keymatch {
	const char		*name;
	struct k_istio_strmatch	 match;		/* K_MATCH_NONE: present (absent for withoutHeaders) */
};
struct k_vs_keymatches {
	struct k_vs_keymatch	*v;
	size_t			 n;
};

struct k_vs_http_match {
	const char		 *name;
	struct k_istio_strmatch	  uri, scheme, method, authority;	/* K_MATCH_NONE when absent */
	struct k_vs_keymatches	  headers;
	struct k_vs_keymatches	  without_headers;
	struct k_vs_keymatches	  query_params;
	int64_t			  port;		/* 0: any */
	int			  ignore_uri_case;	/* exact and prefix uri only */
	struct strmap		  source_labels;	/* mesh only */
	const char		**gateways;
	size_t			  ngateways;
	const char		 *source_namespace;
};

struct k_vs_destination {
	const char	*host;
	const char	*subset;
	int64_t		 port;		/* port.number; 0: the service's only port */
};

struct k_vs_header_ops {
	struct strmap	  set;
	struct strmap	  add;
	const char	**remove;
	size_t		  nremove;
};
struct k_vs_headers {
	struct k_vs_header_ops	request, response;
};

struct k_vs_http_dest {
	struct k_vs_destination	 destination;
	int64_t			 weight;	/* a share of weight / sum of weights */
	struct k_vs_headers	 headers;
};

enum k_vs_derive_port {
	K_VS_FROM_PROTOCOL_DEFAULT,	/* 80/443; Istio sets no port_redirect, as when unset */
	K_VS_FROM_REQUEST_PORT,
};

struct k_vs_redirect {
	const char		*uri;
	const char		*authority;
	int64_t			 port;		/* 0: unset */
	enum k_vs_derive_port	 derive_port;
	const char		*scheme;	/* http or https */
	int64_t			 redirect_code;	/* default 301 */
};

struct k_vs_direct_response {
	int64_t		 status;
	const char	*body;		/* body.string, or body.bytes base64-decoded; NULL when absent */
	size_t		 body_len;
};

struct k_vs_regex_rewrite {
	const char	*match;		/* NULL when absent */
	const char	*rewrite;
};

struct k_vs_rewrite {
	const char			*uri;	/* replaces the matched prefix (or the whole exact path) */
	const char			*authority;
	struct k_vs_regex_rewrite	 uri_regex_rewrite;
};

/* Unset retries: Istio's default policy (2 attempts, see route/retry/retry.go). */
struct k_vs_retries {
	int64_t		 attempts;	/* 0 disables retries */
	struct opt_i64	 per_try_timeout_ms;
	const char	*retry_on;	/* comma-separated Envoy retry_on and status codes */
	struct opt_i64	 retry_remote_localities;
	struct opt_i64	 retry_ignore_previous_hosts;	/* unset: true */
	struct opt_i64	 backoff_ms;	/* unset: 25ms */
};

struct k_vs_fault_delay {
	int64_t			fixed_delay_ms;
	struct k_istio_percent	percentage;
	struct opt_i64		percent;	/* deprecated integer form of percentage */
};
struct k_vs_fault_abort {
	int64_t			 http_status;	/* 0 when grpc_status is given */
	const char		*grpc_status;	/* NOT_FOUND, UNAVAILABLE ... */
	struct k_istio_percent	 percentage;
};
struct k_vs_fault {
	struct k_vs_fault_delay	*delay;		/* NULL when absent */
	struct k_vs_fault_abort	*abort;
};

struct k_vs_mirror {
	struct k_vs_destination	destination;
	struct k_istio_percent	percentage;	/* unset: 100% */
};

enum k_vs_unmatched_preflights {
	K_VS_PREFLIGHT_UNSPECIFIED,	/* FORWARD */
	K_VS_PREFLIGHT_FORWARD,
	K_VS_PREFLIGHT_IGNORE,
};

struct k_vs_cors {
	struct k_istio_strmatch		 *allow_origins;
	size_t				  nallow_origins;
	const char			**allow_origin;	/* deprecated: exact origins */
	size_t				  nallow_origin;
	const char			**allow_methods;
	size_t				  nallow_methods;
	const char			**allow_headers;
	size_t				  nallow_headers;
	const char			**expose_headers;
	size_t				  nexpose_headers;
	struct opt_i64			  max_age_ms;
	struct opt_i64			  allow_credentials;
	enum k_vs_unmatched_preflights	  unmatched_preflights;
};

struct k_vs_http {
	const char			 *name;
	struct k_vs_http_match		 *match;	/* ORed; none matches everything */
	size_t				  nmatch;
	struct k_vs_http_dest		 *route;
	size_t				  nroute;
	struct k_vs_redirect		 *redirect;	/* NULL when absent */
	struct k_vs_direct_response	 *direct_response;
	struct k_vs_rewrite		 *rewrite;
	struct opt_i64			  timeout_ms;	/* unset or 0: no timeout */
	struct k_vs_retries		 *retries;
	struct k_vs_fault		 *fault;
	struct k_vs_destination		 *mirror;
	struct k_vs_mirror		 *mirrors;
	size_t				  nmirrors;
	struct k_istio_percent		  mirror_percentage;	/* of mirror; unset: 100% */
	struct opt_i64			  mirror_percent;	/* deprecated integer form */
	struct k_vs_cors		 *cors_policy;
	struct k_vs_headers		  headers;
};

/* TLS and TCP routes: destinations without headers. */
struct k_vs_l4_dest {
	struct k_vs_destination	destination;
	int64_t			weight;
};

struct k_vs_tls_match {
	const char	**sni_hosts;
	size_t		  nsni_hosts;
	const char	**destination_subnets;
	size_t		  ndestination_subnets;
	int64_t		  port;
	struct strmap	  source_labels;
	const char	**gateways;
	size_t		  ngateways;
	const char	 *source_namespace;
};
struct k_vs_tls {
	struct k_vs_tls_match	*match;
	size_t			 nmatch;
	struct k_vs_l4_dest	*route;
	size_t			 nroute;
};

struct k_vs_tcp_match {
	const char	**destination_subnets;
	size_t		  ndestination_subnets;
	int64_t		  port;
	const char	 *source_subnet;
	struct strmap	  source_labels;
	const char	**gateways;
	size_t		  ngateways;
	const char	 *source_namespace;
};
struct k_vs_tcp {
	struct k_vs_tcp_match	*match;
	size_t			 nmatch;
	struct k_vs_l4_dest	*route;
	size_t			 nroute;
};

struct k_virtualservice {
	const char	**hosts;
	size_t		  nhosts;
	const char	**gateways;	/* "ns/name", "name" (own namespace) or "mesh"; none: mesh only */
	size_t		  ngateways;
	const char	**export_to;
	size_t		  nexport_to;
	struct k_vs_http *http;		/* in order: the first match wins */
	size_t		  nhttp;
	struct k_vs_tls	 *tls;
	size_t		  ntls;
	struct k_vs_tcp	 *tcp;
	size_t		  ntcp;
};

/* ---- DestinationRule ---- */

enum k_dr_lb_simple {
	K_DR_LB_UNSPECIFIED,		/* Istio: LEAST_REQUEST */
	K_DR_LB_RANDOM = 2,
	K_DR_LB_PASSTHROUGH = 3,	/* ORIGINAL_DST cluster */
	K_DR_LB_ROUND_ROBIN = 4,
	K_DR_LB_LEAST_REQUEST = 5,	/* also the deprecated LEAST_CONN */
};

enum k_dr_hash_key {
	K_DR_HASH_NONE,
	K_DR_HASH_HEADER,
	K_DR_HASH_COOKIE,
	K_DR_HASH_SOURCE_IP,
	K_DR_HASH_QUERY_PARAM,
};

enum k_dr_hash_algo {
	K_DR_HASH_RING,			/* the default */
	K_DR_HASH_MAGLEV,
};

struct k_dr_http_cookie {
	const char	*name;
	const char	*path;
	struct opt_i64	 ttl_ms;	/* unset: session cookie, generated when missing */
};

struct k_dr_consistent_hash {
	enum k_dr_hash_key	 key;
	const char		*http_header_name;
	struct k_dr_http_cookie	 http_cookie;
	int			 use_source_ip;
	const char		*http_query_parameter_name;
	enum k_dr_hash_algo	 algo;
	/* ringHash.minimumRingSize or the deprecated top-level field; unset: 1024 */
	struct opt_i64		 minimum_ring_size;
	int64_t			 maglev_table_size;	/* prime, < 5000011 */
};

struct k_dr_lb {
	enum k_dr_lb_simple		 simple;
	struct k_dr_consistent_hash	*consistent_hash;	/* NULL when absent */
	const struct ynode		*locality_lb_setting;	/* kept as written */
	struct opt_i64			 warmup_duration_ms;
};

struct k_dr_tcp_keepalive {
	struct opt_i64	probes;
	struct opt_i64	time_ms;
	struct opt_i64	interval_ms;
};

/* Integer limits: 0 means Istio's default, 2^32-1 (unlimited). */
struct k_dr_tcp_pool {
	int64_t			   max_connections;
	struct opt_i64		   connect_timeout_ms;	/* unset: mesh default 10s */
	struct k_dr_tcp_keepalive *tcp_keepalive;	/* NULL when absent */
	struct opt_i64		   max_connection_duration_ms;
	struct opt_i64		   idle_timeout_ms;
};

enum k_dr_h2_upgrade {
	K_DR_H2_DEFAULT,
	K_DR_H2_DO_NOT_UPGRADE,
	K_DR_H2_UPGRADE,
};

struct k_dr_http_pool {
	int64_t			http1_max_pending_requests;
	int64_t			http2_max_requests;
	int64_t			max_requests_per_connection;	/* 1 turns keep-alive off */
	int64_t			max_retries;
	struct opt_i64		idle_timeout_ms;		/* unset: 1h */
	enum k_dr_h2_upgrade	h2_upgrade_policy;
	int			use_client_protocol;
	int64_t			max_concurrent_streams;
};

struct k_dr_pool {
	struct k_dr_tcp_pool	*tcp;		/* NULL when absent */
	struct k_dr_http_pool	*http;
};

/*
 * Envoy outlier detection as Istio sets it (cluster_traffic_policy.go):
 * success-rate ejection is always off.
 */
struct k_dr_outlier {
	/* deprecated: Istio applies it to gateway errors (502/503/504) only */
	int64_t		consecutive_errors;
	struct opt_i64	consecutive_5xx_errors;		/* unset: 5; 0 disables */
	struct opt_i64	consecutive_gateway_errors;	/* unset: off; set: enforced 100% */
	int		split_external_local_origin_errors;
	struct opt_i64	consecutive_local_origin_failures;
	struct opt_i64	interval_ms;			/* unset: 10s */
	struct opt_i64	base_ejection_time_ms;		/* unset: 30s */
	/* Istio passes it on only when > 0, so 0 and unset both mean 10% */
	struct opt_i64	max_ejection_percent;
	/* healthy_panic_threshold, set even when 0: panic mode off by default */
	int64_t		min_health_percent;
};

enum k_dr_tls_mode {
	K_DR_TLS_DISABLE,
	K_DR_TLS_SIMPLE,
	K_DR_TLS_MUTUAL,
	K_DR_TLS_ISTIO_MUTUAL,
};

/* ClientTLSSettings: how the gateway talks TLS to the upstream. */
struct k_dr_tls {
	enum k_dr_tls_mode	  mode;
	const char		 *client_certificate;
	const char		 *private_key;
	const char		 *ca_certificates;
	const char		 *credential_name;
	const char		**subject_alt_names;
	size_t			  nsubject_alt_names;
	const char		 *sni;		/* NULL: auto_sni from the downstream Host */
	struct opt_i64		  insecure_skip_verify;
	const char		 *ca_crl;
};

struct k_dr_port_policy {
	int64_t			 port;		/* port.number */
	struct k_dr_lb		*load_balancer;	/* NULL when absent */
	struct k_dr_pool	*connection_pool;
	struct k_dr_outlier	*outlier_detection;
	struct k_dr_tls		*tls;
};

enum k_dr_proxy_protocol {
	K_DR_PROXY_PROTOCOL_V1,
	K_DR_PROXY_PROTOCOL_V2,
};

struct k_dr_policy {
	struct k_dr_lb			*load_balancer;		/* NULL when absent */
	struct k_dr_pool		*connection_pool;
	struct k_dr_outlier		*outlier_detection;
	struct k_dr_tls			*tls;
	struct k_dr_port_policy		*port_level_settings;
	size_t				 nport_level_settings;
	int				 proxy_protocol;	/* proxyProtocol given */
	enum k_dr_proxy_protocol	 proxy_protocol_version;
	const struct ynode		*tunnel;		/* kept as written */
};

struct k_dr_subset {
	const char		*name;
	struct strmap		 labels;
	struct k_dr_policy	*traffic_policy;	/* NULL when absent */
};

struct k_destinationrule {
	const char		 *host;
	struct k_dr_policy	 *traffic_policy;	/* NULL when absent */
	struct k_dr_subset	 *subsets;
	size_t			  nsubsets;
	const char		**export_to;
	size_t			  nexport_to;
	struct strmap		  workload_selector;	/* workloadSelector.matchLabels */
};

/* ---- WorkloadEntry, ServiceEntry ---- */

struct k_we_port {
	const char	*name;
	int64_t		 number;
};

struct k_workloadentry {
	const char		*address;	/* IP, hostname or unix:// path */
	struct k_we_port	*ports;		/* map port name -> number, sorted by name */
	size_t			 nports;
	struct strmap		 labels;
	const char		*network;
	const char		*locality;	/* region/zone/subzone */
	int64_t			 weight;	/* 0: unset */
	const char		*service_account;
};

enum k_se_location {
	K_SE_MESH_EXTERNAL,
	K_SE_MESH_INTERNAL,
};

enum k_se_resolution {
	K_SE_NONE,
	K_SE_STATIC,
	K_SE_DNS,
	K_SE_DNS_ROUND_ROBIN,
};

struct k_serviceentry {
	const char		**hosts;
	size_t			  nhosts;
	const char		**addresses;	/* IPs or CIDRs */
	size_t			  naddresses;
	struct k_istio_port	 *ports;
	size_t			  nports;
	enum k_se_location	  location;
	enum k_se_resolution	  resolution;
	struct k_workloadentry	 *endpoints;
	size_t			  nendpoints;
	struct strmap		  workload_selector;	/* workloadSelector.labels */
	int			  has_workload_selector;
	const char		**export_to;
	size_t			  nexport_to;
	const char		**subject_alt_names;
	size_t			  nsubject_alt_names;
};

/* ---- PeerAuthentication ---- */

enum k_pa_mtls_mode {
	K_PA_UNSET,		/* inherit from the parent; PERMISSIVE at the root */
	K_PA_DISABLE,
	K_PA_PERMISSIVE,
	K_PA_STRICT,
};

struct k_pa_port_mtls {
	int64_t			port;
	enum k_pa_mtls_mode	mode;
};

struct k_peerauthentication {
	struct strmap		 selector;	/* selector.matchLabels; empty: the whole namespace */
	enum k_pa_mtls_mode	 mtls_mode;
	struct k_pa_port_mtls	*port_level_mtls;	/* sorted by port */
	size_t			 nport_level_mtls;
};

/* ---- AuthorizationPolicy, RequestAuthentication (security.istio.io) ---- */

/*
 * Decoded close to what was written: field names and values stay strings,
 * and what they mean (which fields vipgated supports, how a value that does
 * not parse is handled) is decided where the gateway's policies are
 * compiled, as istiod decides it. Each item keeps its place in the file
 * for the messages that name it.
 */
enum k_ap_action {
	K_AP_ALLOW,		/* the default */
	K_AP_DENY,
	K_AP_AUDIT,
	K_AP_CUSTOM,
};

/* targetRef / targetRefs (PolicyTargetReference) */
struct k_target_ref {
	const char	*group, *kind, *name, *ns;
};

/* One field of a source or an operation: "principals", "notPaths" ... */
struct k_ap_field {
	const char	 *name;		/* as written */
	const char	**values;
	size_t		  nvalues;
	uint32_t	  line, col;
};

/* rules[].from[].source or rules[].to[].operation: its fields, ANDed */
struct k_ap_match {
	struct k_ap_field	*fields;
	size_t			 nfields;
	uint32_t		 line, col;
};

/* rules[].when[] */
struct k_ap_cond {
	const char	 *key;
	const char	**values;
	size_t		  nvalues;
	const char	**not_values;
	size_t		  nnot_values;
	uint32_t	  line, col;
};

struct k_ap_rule {
	struct k_ap_match	*from;		/* ORed */
	size_t			 nfrom;
	struct k_ap_match	*to;		/* ORed */
	size_t			 nto;
	struct k_ap_cond	*when;		/* ANDed */
	size_t			 nwhen;
	uint32_t		 line, col;
};

struct k_authorizationpolicy {
	struct strmap		 selector;	/* selector.matchLabels */
	int			 has_selector;	/* selector given (empty matchLabels included) */
	struct k_target_ref	*target_refs;	/* targetRef and targetRefs, in order */
	size_t			 ntarget_refs;
	enum k_ap_action	 action;
	const char		*provider;	/* provider.name (CUSTOM), or NULL */
	struct k_ap_rule	*rules;		/* none: allow-nothing (ALLOW), nothing (others) */
	size_t			 nrules;
	/*
	 * The manifest did not decode: the policy denies every request of the
	 * workloads it selects until it is fixed (fail closed). The selector
	 * and targetRefs are what could be read of them; why is the first error.
	 */
	int			 broken;
	const char		*broken_why;
};

struct k_ra_header {
	const char	*name, *prefix;
};
struct k_ra_claim_header {
	const char	*header, *claim;
};

/* RequestAuthentication jwtRules[] (security/v1beta1 JWTRule) */
struct k_ra_jwt_rule {
	const char			 *issuer;
	const char			**audiences;
	size_t				  naudiences;
	const char			 *jwks_uri;
	const char			 *jwks;		/* inline JWKS (JSON text) */
	struct k_ra_header		 *from_headers;
	size_t				  nfrom_headers;
	const char			**from_params;
	size_t				  nfrom_params;
	const char			**from_cookies;
	size_t				  nfrom_cookies;
	int				  forward_original_token;
	const char			 *output_payload_to_header;
	struct k_ra_claim_header	 *output_claim_to_headers;
	size_t				  noutput_claim_to_headers;
	int64_t				  timeout_ms;	/* JWKS fetch; 0: the default (5 s) */
	const char			**space_delimited_claims;
	size_t				  nspace_delimited_claims;
	uint32_t			  line, col;
};

struct k_requestauthentication {
	struct strmap		 selector;
	int			 has_selector;
	struct k_target_ref	*target_refs;
	size_t			 ntarget_refs;
	struct k_ra_jwt_rule	*jwt_rules;
	size_t			 njwt_rules;
	int			 broken;	/* as AuthorizationPolicy's: every token is refused */
	const char		*broken_why;
};

#endif
