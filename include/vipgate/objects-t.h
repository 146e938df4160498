/*
 * Typed Kubernetes objects: the manifests MetalLB and Istio read, decoded
 * into the fields vipgate uses. Every string and array of an object lives in
 * the object's arena. Objects are immutable once stored.
 */
#ifndef VIPGATE_OBJECTS_T_H
#define VIPGATE_OBJECTS_T_H

#include <stddef.h>
#include <stdint.h>
#include "vipgate/schema.h"
#include "vipgate/ipaddr.h"

enum obj_kind {
	K_SERVICE,
	K_ENDPOINTS,
	K_POD,
	K_NODE,
	K_SECRET,
	K_NAMESPACE,
	K_ENDPOINTSLICE,
	K_DEPLOYMENT,
	K_IPADDRESSPOOL,
	K_L2ADVERTISEMENT,
	K_BGPADVERTISEMENT,
	K_BGPPEER,
	K_BFDPROFILE,
	K_COMMUNITY,
	K_GATEWAY,
	K_VIRTUALSERVICE,
	K_DESTINATIONRULE,
	K_SERVICEENTRY,
	K_WORKLOADENTRY,
	K_PEERAUTHENTICATION,
	K_AUTHORIZATIONPOLICY,
	K_REQUESTAUTHENTICATION,
	K__COUNT
};

struct obj_meta {
	const char	*name;
	const char	*ns;		/* "" for cluster-scoped kinds */
	struct strmap	 labels;
	struct strmap	 annotations;
	const char	*creation_ts;	/* RFC 3339 as written, or NULL */
	const char	*uid;
};

/* metav1.LabelSelector */
struct labelsel_expr {
	const char	 *key;
	const char	 *op;		/* In, NotIn, Exists, DoesNotExist */
	const char	**values;
	size_t		  nvalues;
};
struct labelsel {
	struct strmap		 match_labels;
	struct labelsel_expr	*exprs;
	size_t			 nexprs;
};

/* ---- core/v1, discovery/v1, apps/v1 ---- */

struct k_svc_port {
	const char	*name;
	const char	*protocol;	/* TCP (default), UDP, SCTP */
	int64_t		 port;
	struct intstr	 target_port;	/* defaults to port */
	int64_t		 node_port;
	const char	*app_protocol;
};

struct k_service {
	const char	 *type;		/* ClusterIP (default), LoadBalancer, NodePort, ExternalName */
	struct strmap	  selector;
	struct k_svc_port *ports;
	size_t		  nports;
	const char	 *cluster_ip;
	const char	 *load_balancer_ip;	/* spec.loadBalancerIP */
	const char	 *load_balancer_class;
	const char	 *external_traffic_policy;	/* Cluster (default) or Local */
	const char	**ip_families;
	size_t		  nip_families;
	const char	 *ip_family_policy;	/* SingleStack (default), PreferDualStack, RequireDualStack */
	const char	**status_ingress_ips;	/* status.loadBalancer.ingress[].ip */
	size_t		  nstatus_ingress_ips;
};

struct k_objref {
	const char	*kind, *name, *ns;
};

struct k_ep_address {
	const char	*ip;
	const char	*node_name;
	const char	*hostname;
	struct k_objref	 target_ref;
};
struct k_ep_port {
	const char	*name;
	int64_t		 port;
	const char	*protocol;
	const char	*app_protocol;
};
struct k_ep_subset {
	struct k_ep_address	*addresses;
	size_t			 naddresses;
	struct k_ep_address	*not_ready;
	size_t			 nnot_ready;
	struct k_ep_port	*ports;
	size_t			 nports;
};
struct k_endpoints {
	struct k_ep_subset	*subsets;
	size_t			 nsubsets;
};

struct k_slice_endpoint {
	const char	**addresses;
	size_t		  naddresses;
	struct opt_i64	  ready, serving, terminating;	/* conditions; unset ready means ready */
	const char	 *node_name;
	const char	 *hostname;
	const char	 *zone;
	struct k_objref	  target_ref;
};
struct k_endpointslice {
	const char		*address_type;	/* IPv4, IPv6, FQDN */
	const char		*service_name;	/* label kubernetes.io/service-name */
	struct k_slice_endpoint	*endpoints;
	size_t			 nendpoints;
	struct k_ep_port	*ports;
	size_t			 nports;
};

struct k_container_port {
	const char	*name;
	int64_t		 container_port;
	const char	*protocol;
};
struct k_container {
	const char		*name;
	const char		*image;
	struct k_container_port	*ports;
	size_t			 nports;
};
struct k_pod_spec {
	const char		*node_name;
	const char		*service_account;	/* serviceAccountName, else serviceAccount */
	struct k_container	*containers;
	size_t			 ncontainers;
};
struct k_condition {
	const char	*type;
	const char	*status;	/* True, False, Unknown */
};
struct k_pod {
	struct k_pod_spec	 spec;
	const char		*phase;
	const char		*pod_ip;
	const char		**pod_ips;
	size_t			 npod_ips;
	const char		*host_ip;
	struct k_condition	*conditions;
	size_t			 nconditions;
	int			 ready;		/* derived: phase Running and condition Ready True */
};

struct k_node_address {
	const char	*type;		/* InternalIP, ExternalIP, Hostname */
	const char	*address;
};
struct k_node {
	int			 unschedulable;
	struct k_node_address	*addresses;
	size_t			 naddresses;
	struct k_condition	*conditions;
	size_t			 nconditions;
	int			 network_unavailable;	/* derived from conditions */
};

struct k_secret {
	const char	*type;
	struct strmap	 data;		/* base64-decoded data merged with stringData */
	size_t		*data_len;	/* length of each value in data (may hold NULs) */
	/* the TLS pair's first certificate (checked at decode, secret_tls.c);
	 * 0 when the Secret has no pair */
	int64_t		 not_before, not_after;
};

struct k_namespace {
	int	unused;
};

struct k_deployment {
	int64_t		 replicas;	/* default 1 */
	struct labelsel	 selector;
	struct strmap	 template_labels;
	struct k_pod_spec template_spec;
};

/* ---- metallb.io ---- */

/* One contiguous range of a pool; a CIDR is stored as its first and last address. */
struct pool_range {
	struct ipaddr	first, last;
	int		is_cidr;
	int		plen;		/* when is_cidr */
};

struct k_service_allocation {
	struct opt_i64	  priority;
	const char	**namespaces;
	size_t		  nnamespaces;
	struct labelsel	 *namespace_selectors;
	size_t		  nnamespace_selectors;
	struct labelsel	 *service_selectors;
	size_t		  nservice_selectors;
};

struct k_ipaddresspool {
	const char			**addresses;
	size_t				  naddresses;
	int				  auto_assign;		/* default 1 */
	int				  avoid_buggy_ips;
	struct k_service_allocation	 *service_allocation;	/* NULL when absent */
	struct pool_range		 *ranges;		/* derived from addresses */
	size_t				  nranges;
};

struct k_preferred_node {
	int64_t		weight;		/* 1..100 */
	struct labelsel	preference;
};

struct k_l2advertisement {
	const char		**ip_address_pools;
	size_t			  nip_address_pools;
	struct labelsel		 *ip_address_pool_selectors;
	size_t			  nip_address_pool_selectors;
	struct labelsel		 *node_selectors;
	size_t			  nnode_selectors;
	struct labelsel		 *service_selectors;
	size_t			  nservice_selectors;
	const char		**interfaces;
	size_t			  ninterfaces;
	struct k_preferred_node	 *preferred;
	size_t			  npreferred;
};

struct k_bgpadvertisement {
	int64_t		  aggregation_length;	/* default 32 */
	int64_t		  aggregation_length_v6;	/* default 128 */
	struct opt_i64	  local_pref;
	const char	**communities;
	size_t		  ncommunities;
	const char	**peers;
	size_t		  npeers;
	struct labelsel	 *node_selectors;
	size_t		  nnode_selectors;
	const char	**ip_address_pools;
	size_t		  nip_address_pools;
	struct labelsel	 *ip_address_pool_selectors;
	size_t		  nip_address_pool_selectors;
	struct labelsel	 *service_selectors;
	size_t		  nservice_selectors;
};

struct k_secretref {
	const char	*name, *ns;
};

struct k_bgppeer {
	int64_t		  my_asn;
	int64_t		  peer_asn;
	const char	 *dynamic_asn;		/* internal, external */
	const char	 *peer_address;
	const char	 *source_address;
	int64_t		  peer_port;		/* default 179 */
	struct opt_i64	  hold_time_ms;
	struct opt_i64	  keepalive_time_ms;
	struct opt_i64	  connect_time_ms;
	const char	 *router_id;
	struct labelsel	 *node_selectors;
	size_t		  nnode_selectors;
	const char	 *password;
	struct k_secretref password_secret;
	const char	 *bfd_profile;
	int		  ebgp_multihop;
	int		  enable_graceful_restart;
	int		  disable_mp;
	const char	 *vrf;
	const char	 *iface;		/* spec.interface (unnumbered) */
};

struct k_bfdprofile {
	struct opt_i64	receive_interval, transmit_interval, detect_multiplier;
	struct opt_i64	echo_interval, minimum_ttl;
	int		echo_mode, passive_mode;
};

struct k_community_alias {
	const char	*name, *value;
};
struct k_community {
	struct k_community_alias	*communities;
	size_t				 ncommunities;
};

/* ---- networking.istio.io, security.istio.io: see objects-istio-t.h ---- */
struct k_gateway;
struct k_virtualservice;
struct k_destinationrule;
struct k_serviceentry;
struct k_workloadentry;
struct k_peerauthentication;
struct k_authorizationpolicy;
struct k_requestauthentication;

struct obj_pool;

struct object {
	enum obj_kind	 kind;
	int		 line;		/* line of its document (or List item) */
	int		 refcnt;
	int		 from_api;	/* from the Kubernetes API, not a file */
	const char	*api_version;	/* static; NULL when not one the kind accepts
					 * (a broken object, kind_info.fail_closed) */
	struct obj_meta	 meta;
	const char	*file;		/* where it was read */
	uint64_t	 hash;		/* content hash: unchanged objects compare equal */
	uint64_t	 generation;	/* store generation when this version was stored */
	struct obj_pool	*pool;		/* the arena it lives in: its own, or its file's */
	void		*spec;		/* struct k_<kind> */
};

#endif
