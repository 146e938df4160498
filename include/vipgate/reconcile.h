/*
 * reconcile(): a pure function of (objects, node config, live view) to the
 * desired state. No I/O, no clock, no globals.
 */
#ifndef VIPGATE_RECONCILE_H
#define VIPGATE_RECONCILE_H

#include "vipgate/reconcile-t.h"
#include "vipgate/config-t.h"
#include "vipgate/store.h"
#include "vipgate/alloc.h"

struct l2_live;

/* What the daemon knows that is not in the objects. */
struct live_view {
	const struct l2_live	*l2;		/* speakers heard alive (l2 module); NULL = only this node */
	const struct alloc_prev	*prev;		/* sticky allocations, sorted by ns/name */
	size_t			 nprev;
	int			 gateway_ready;	/* this node's gateway can serve */
	const char		*gateway_why;	/* why not ("draining", ...); NULL: not known */
	/* gateway_ready: the deployments (names) with a listener not bound;
	 * only they cannot serve */
	const char *const	*gateway_unbound;
	size_t			 ngateway_unbound;
};

struct desired *reconcile(struct store *, const struct config *, const struct live_view *);
struct desired *desired_empty(void);
struct desired *desired_ref(struct desired *);
void desired_unref(struct desired *);
const struct svc_state *desired_find_svc(const struct desired *, const char *ns, const char *name);

/*
 * The per-module parts, called by reconcile() after the Services are done
 * (d->svcs is complete); each allocates from d->arena only.
 */
void reconcile_bgp(struct desired *, struct store *, const struct config *, const struct live_view *);
void reconcile_l2(struct desired *, struct store *, const struct config *, const struct live_view *);
/* The gateway's plan, first: res (the allocation) gives each deployment's VIPs. */
void reconcile_gw(struct desired *, struct store *, const struct config *, const struct live_view *,
    const struct alloc_result *res, size_t nres);

/* d->gateway_deps and d->gateway_down, after reconcile_gw (gw_serve.c). */
void reconcile_gw_serving(struct desired *, const struct config *, const struct live_view *);
/* Whether a route of deployment dep (index in gateway.deployments) reaches a ready endpoint. */
int reconcile_gw_dep_reaches(const struct gw_desired *, size_t dep);
/* The state of the gateway deployment a Service selects, or NULL (not a gateway Service). */
const struct gw_dep_state *desired_svc_dep(const struct desired *, const struct object *svc,
    const struct config *);

/* Whether a Service is a gateway's own (its selector matches a deployment's labels; select.c). */
int reconcile_is_gateway_service(const struct object *svc, const struct config *);
/* The index of the gateway deployment (gateway.deployments) a Service selects, or -1. */
int reconcile_gateway_deployment(const struct object *svc, const struct config *);
/* This node's labels: its Node object's (node may be NULL), overlaid with the config's (select.c). */
struct strmap reconcile_node_labels(struct vg_arena *, const struct object *node,
    const struct config *);

#endif
