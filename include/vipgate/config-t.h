/* The main config, vipgate.yaml (CONTRACT.md). */
#ifndef VIPGATE_CONFIG_T_H
#define VIPGATE_CONFIG_T_H

#include <stddef.h>
#include <stdint.h>
#include "vipgate/schema.h"

struct cfg_node {
	const char	*name;
	struct strmap	 labels;	/* with kubernetes.io/hostname added */
	const char	*address;	/* NULL: first global IPv4 address */
};

struct cfg_objects {
	const char	**paths;
	size_t		  npaths;
};

struct cfg_kubernetes {
	const char	*kubeconfig;
	int		 in_cluster;
	const char	*lease_namespace;	/* where the writers' Lease is; NULL: vipgate-system */
	int		 present;
};

struct cfg_control {
	const char	*socket;
};

struct cfg_addresses {
	const char	*interface;	/* "auto", or an interface name */
	const char	*mode;		/* "address", or "route" (local routes) */
};

struct cfg_access_log {
	const char	*path;		/* "off", "-", or a file */
	const char	*format;	/* envoy, json */
};

struct cfg_identity {
	const char	*cert, *key, *ca;
	const char	*trust_domain;
};

/*
 * A gateway deployment: the Gateways whose selector its labels match, its
 * listeners on the VIPs of the Services that select it (Istio's
 * istio-ingressgateway, an internal gateway beside it, ...).
 */
struct cfg_gw_deploy {
	const char		*name;
	struct strmap		 labels;
};

struct cfg_gateway {
	int			 enabled;
	struct strmap		 labels;
	/* gateway.deployments; when it is not set, one from gateway.labels
	 * (listeners then on gateway.bind, as before deployments existed) */
	struct cfg_gw_deploy	*deployments;
	size_t			 ndeployments;
	int			 deployments_set;	/* several listen on their own VIPs */
	const char		*ns;
	const char		**bind;
	size_t			 nbind;
	int64_t			 workers;	/* 0 = auto (one per CPU) */
	const char		*cpu_affinity;	/* none, auto: worker i on the i-th allowed CPU */
	int64_t			 yield_after_ms;	/* a busy worker yields its CPU; 0: never */
	int64_t			 health_port;
	int64_t			 stats_port;
	int64_t			 drain_timeout_ms;
	int			 require_endpoints;	/* unready while no route has a ready endpoint */
	int64_t			 header_timeout_ms;	/* request head read; 0: none */
	int64_t			 idle_timeout_ms;	/* downstream keep-alive idle; 0: none */
	int64_t			 max_request_headers_kb;	/* larger heads get 431 */
	int64_t			 max_connections;	/* downstream, a worker; 0: no cap, -1: auto */
	int64_t			 num_trusted_proxies;	/* Istio gatewayTopology.numTrustedProxies */
	int			 proxy_protocol;	/* Istio gatewayTopology.proxyProtocol */
	const char		*path_normalization;	/* Istio pathNormalization: NONE, BASE, ... */
	struct cfg_access_log	 access_log;
	struct cfg_identity	 identity;
};

struct cfg_heartbeat {
	int64_t		  port;
	const char	**peers;
	size_t		  npeers;
	int64_t		  interval_ms;
	const char	 *key_file;
};

struct cfg_l2 {
	int64_t			refresh_ms;
	struct cfg_heartbeat	heartbeat;
};

struct cfg_drain {
	int64_t		 withdraw_after_ms;	/* GRACEFUL_SHUTDOWN routes, then withdraw */
};

struct cfg_log {
	const char	*level;		/* error, warn, info, debug */
	const char	*format;	/* text, json */
};

struct config {
	struct vg_arena		*arena;
	const char		*file;
	struct cfg_node		 node;
	struct cfg_objects	 objects;
	struct cfg_kubernetes	 kubernetes;
	struct cfg_control	 control;
	struct cfg_addresses	 addresses;
	struct cfg_gateway	 gateway;
	struct cfg_l2		 l2;
	struct cfg_drain	 drain;
	struct cfg_log		 log;
	const char		*state_dir;	/* sticky allocations live here */
	const char		*user;		/* started as root: run as this user; NULL: stay */
	const char		*group;		/* its group, and the control socket's; NULL: the user's */
};

#endif
