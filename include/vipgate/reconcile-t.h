/* The desired state: what reconcile computes and the appliers apply. */
#ifndef VIPGATE_RECONCILE_T_H
#define VIPGATE_RECONCILE_T_H

#include <stddef.h>
#include <stdint.h>
#include "vipgate/ipaddr.h"

enum announce_mode {
	ANNOUNCE_L2 = 0x1,
	ANNOUNCE_BGP = 0x2,
};

struct svc_state {
	const char	*ns, *name;
	struct ipaddr	 vips[2];
	size_t		 nvips;
	const char	*pool;
	const char	*pending;	/* NULL when allocated */
	const char	*sharing_key;
	int		 etp_local;
	int		 is_gateway;	/* served by this daemon's gateway */
	const char	*gateway_state;	/* is_gateway: "serving", or why its deployment on
					   this node cannot (live_view, require_endpoints); with
					   several deployments, "deployment NAME: why" */
	int		 ready_anywhere;	/* some endpoint is ready */
	int		 ready_local;	/* an endpoint on this node is ready (or the gateway) */
	unsigned	 announce;	/* ANNOUNCE_* this node would use */
	const char	*why_not;	/* why this node does not announce, or NULL */
	int		 serve_local;	/* its VIPs are local addresses on this node */
};

/* A gateway deployment (gateway.deployments) on this node. */
struct gw_dep_state {
	const char	*name;
	const char	*why;		/* why it cannot serve its Services' VIPs; NULL: it can */
};

struct pool_state {
	const char	*ns;
	const char	*name;
	uint64_t	 total_v4, total_v6;	/* saturating */
	uint64_t	 assigned_v4, assigned_v6;
};

/* Per-module parts of the desired state (bgp-t.h, l2-t.h, gw-t.h). */
struct bgp_desired;
struct l2_desired;
struct gw_desired;

struct desired {
	int		 refcnt;
	struct vg_arena	*arena;
	uint64_t	 store_generation;
	struct svc_state *svcs;		/* LoadBalancer Services, sorted by ns/name */
	size_t		 nsvcs;
	struct pool_state *pools;	/* sorted by name */
	size_t		 npools;
	struct ipaddr	*local_addrs;	/* VIPs to hold as local addresses, sorted, unique */
	size_t		 nlocal_addrs;
	struct bgp_desired *bgp;	/* peers and what to advertise to each; NULL = none */
	struct l2_desired *l2;		/* VIPs this node owns on the segment; NULL = none */
	struct gw_desired *gw;		/* the compiled gateway; NULL = none */
	/* why this node's gateway cannot serve at all (enabled, and no
	 * deployment can serve); NULL when some deployment can: the heartbeat
	 * tells the other speakers (l2) */
	const char	*gateway_down;
	/* every gateway deployment, in gateway.deployments' order, and whether
	 * it can serve here (none when the gateway is disabled); the heartbeat
	 * names those that cannot when others can */
	struct gw_dep_state *gateway_deps;
	size_t		 ngateway_deps;
	size_t		 ngateway_deps_down;	/* how many of them cannot serve */
};

#endif
