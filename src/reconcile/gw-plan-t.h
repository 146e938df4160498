/*
 * Inside the gateway plan (gw_plan*.c): the plan under construction and
 * what its files build before plan_finish() turns it into the gw_desired.
 * Types only; the functions are in gw-plan.h.
 */
#ifndef VIPGATE_RECONCILE_GW_PLAN_T_H
#define VIPGATE_RECONCILE_GW_PLAN_T_H

#include <stdint.h>

#include "vipgate/gw-t.h"
#include "vipgate/objects-istio-t.h"
#include "vipgate/util.h"

#define CLUSTER_DOMAIN	"svc.cluster.local"

struct alloc_result;
struct config;
struct desired;
struct store;
struct vg_arena;

struct vh_build {
	char		*name;		/* arena */
	int		 require_tls;
	struct vg_ptrvec routes;	/* struct gw_route * (arena) */
	const struct object *last_vs;	/* a VS whose hosts meet twice here adds its rules once */
};

struct chain_build {
	struct gw_chain	 c;		/* sni, tls, name set; vhosts filled at the end */
	struct vg_ptrvec vhosts;	/* struct vh_build * (malloc) */
	const struct object *gw;	/* HTTPS: the server's Gateway */
	const struct k_gw_server *srv;
};

struct l4_build;

struct lis_build {
	uint16_t	 port;
	int		 tls;
	size_t		 dep;		/* index in gateway.deployments */
	const char	*bind;		/* Gateway.servers[].bind; NULL: the deployment's addresses */
	struct vg_ptrvec chains;	/* struct chain_build * (malloc) */
	struct l4_build	*l4;		/* TCP or TLS passthrough (gw_plan_l4.c); NULL: HTTP */
};

struct plan {
	struct desired		*d;
	struct vg_arena		*a;
	struct store		*st;
	const struct config	*cfg;
	/* the deployment being planned: its index and labels */
	size_t			 dep;
	const struct strmap	*labels;
	/* with gateway.deployments: each deployment's VIPs (arena strings,
	 * sorted, each once), from the allocation, made once a plan */
	const char		***dep_vips;
	size_t			 *ndep_vips;
	struct vg_ptrvec	 lis;		/* struct lis_build * */
	struct vg_ptrvec	 clusters;	/* struct gw_cluster * (arena) */
	struct vg_ptrvec	 regexes;	/* const char * (arena) */
	struct vg_ptrvec	 notes;		/* struct gw_note * (arena) */
};

/* A server of a selected Gateway, and the chain it feeds. */
struct srv_ref {
	size_t			 dep;		/* the deployment that serves it */
	const struct object	*gw;
	const struct k_gw_server *srv;
	struct chain_build	*chain;
	int			 l4;		/* a TCP or TLS server: gwp_l4_server plans it */
	int			 l4kind;	/* enum gw_l4_kind */
	size_t			 idx;		/* its index in the Gateway's servers */
};

/* What a destination host names: a Service's port, or a ServiceEntry's. */
struct dest_target {
	const char		  *fqdn;
	const struct object	  *so, *seo;	/* the Service, else the ServiceEntry, else neither */
	const struct k_svc_port	  *sp;		/* so's port, when it has the one asked for */
	const struct k_istio_port *sep;		/* seo's */
	int64_t			   port;	/* the destination's, else the lone port's */
};

#endif
