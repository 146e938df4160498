/*
 * Inside the gateway plan: what its files call in each other (gw_plan.c
 * names the files and their order). Every function allocates from p->a.
 */
#ifndef VIPGATE_RECONCILE_GW_PLAN_H
#define VIPGATE_RECONCILE_GW_PLAN_H

#include <stddef.h>

#include "gw-plan-t.h"
#include "vipgate/gw-l4-t.h"

/* gw_plan_base.c */

/* A note on object o for vipgatectl analyze. */
void gwp_note(struct plan *p, const struct object *o, const char *fmt, ...) VG_PRINTF(3, 4);
/* Plan for deployment dep (gateway.deployments) from now on: its labels select. */
void gwp_dep_set(struct plan *, size_t dep);
/* A lower-case copy of s. */
char *gwp_lower_dup(struct vg_arena *, const char *s);
/* qsort, but a no-op below two elements (qsort with n == 0 may get a NULL base). */
void gwp_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
/* Whether pattern a covers b: equal, "*", or "*.x" over anything ending in ".x". */
int gwp_host_covers(const char *a, const char *b);
/* The more specific of two intersecting hosts, or NULL. */
const char *gwp_host_intersect(const char *a, const char *b);
/* VirtualService and DestinationRule hosts: short names live in the object's namespace. */
char *gwp_host_fqdn(struct vg_arena *, const char *host, const char *ns);

/* gw_plan_secret.c */

/*
 * Secret ns/name, or its last good version when its latest was rejected
 * (*why then says so, and analyze names it once); NULL when none.
 */
const struct object *gwp_secret_get(struct plan *, const char *ns, const char *name,
    const char **why);
/* A NUL-terminated copy of key k1 (else k2) of a Secret (sec may be NULL), or NULL. */
const char *gwp_secret_pick(struct plan *, const struct object *sec, const char *k1,
    const char *k2, size_t *len);

/* gw_plan_listen.c */

/*
 * The servers of the Gateways each deployment's labels select: HTTP and
 * HTTPS ones with the filter chain they feed (NULL when ignored), TCP and
 * TLS ones marked l4. malloc'd.
 */
struct srv_ref *gwp_servers(struct plan *, struct object * const *gws, size_t ngws,
    size_t *np);
/* Whether a server terminates TLS (HTTPS, SIMPLE or MUTUAL). */
int gwp_server_is_https(const struct k_gw_server *);
/* The virtual host of that name in a chain, made on first use. */
struct vh_build *gwp_vhost_get(struct chain_build *, struct plan *, const char *name);
/*
 * A filter chain of listener l for a server that terminates TLS (SNI: the
 * server's hosts; TLS from its credentialName), named "<prefix>.<port>...".
 */
struct chain_build *gwp_tls_chain(struct plan *, const struct object *gwo,
    const struct k_gw_server *, size_t idx, struct lis_build *l, const char *prefix);
/*
 * The listener of a server's port and bind address in deployment p->dep,
 * made on first use (tls: its chains terminate TLS).
 */
struct lis_build *gwp_listener_get(struct plan *, const struct k_gw_server *, int tls);

/* gw_plan_route.c */

/*
 * Every VirtualService that names a gateway, oldest first (Istio's order),
 * attached to the servers it names; analyze notes the others.
 */
void gwp_vs_attach_all(struct plan *, struct object * const *gws, size_t ngws,
    struct srv_ref *srvs, size_t nsrvs);

/* Whether the VirtualService names the Gateway in its gateways. */
int gwp_vs_attached(const struct object *vso, const struct object *gwo);
/* Whether a gateways[] entry ("ns/name" or "name" in ref_ns) names the Gateway. */
int gwp_gw_ref_is(const char *ref, const char *ref_ns, const struct object *gwo);
/* Whether a server host's namespace part lets a VirtualService of vs_ns in. */
int gwp_host_ns_ok(const struct k_gw_host *, const char *gw_ns, const char *vs_ns);

/* gw_plan_l4.c: TCP and TLS passthrough servers, tcp[] and tls[] rules */

/* Whether a server carries bytes (TCP, PASSTHROUGH); *why: why one is not served, or NULL. */
int gwp_server_is_l4(const struct k_gw_server *, enum gw_l4_kind *, const char **why);
/* A TCP or PASSTHROUGH server joins the listener of its port. */
void gwp_l4_server(struct plan *, const struct object *gwo, const struct k_gw_server *,
    size_t idx, enum gw_l4_kind);
/* The tls[] and tcp[] rules of a VirtualService on the servers it attaches to. */
void gwp_l4_attach(struct plan *, const struct object *vso);
/* The listener's compiled part, and the build freed. */
struct gw_l4 *gwp_l4_finish(struct plan *, struct lis_build *);

/* gw_plan_cluster.c */

/* The cluster of a destination (outbound|port|subset|host), made on its first use. */
struct gw_cluster *gwp_cluster_get(struct plan *, const struct k_vs_destination *,
    const char *vs_ns);
/* An AUTO_PASSTHROUGH server's cluster outbound_.port_.subset_.fqdn: no upstream TLS. */
struct gw_cluster *gwp_cluster_sni_dnat(struct plan *, const char *fqdn, uint16_t port,
    const char *subset);
/* The subset names the DestinationRules for fqdn define (at most max). */
size_t gwp_subsets(struct plan *, const char *fqdn, const char *svc_ns, const char **out,
    size_t max);

/* gw_plan_ep.c */

/* A cluster's endpoints, sorted, each address once; and the SANs ISTIO_MUTUAL accepts. */
void gwp_cluster_endpoints(struct plan *, struct gw_cluster *, const struct dest_target *,
    const struct strmap *subset_labels);

/* gw_plan_authz.c */

/* The AuthorizationPolicies that apply to deployment p->dep, compiled into g->authz (NULL: none). */
void gwp_authz(struct plan *, struct gw_deploy *g);
/* The RequestAuthentications that apply, as jwt_authn providers in g->reqauthn (NULL: none). */
void gwp_reqauthn(struct plan *, struct gw_deploy *g);

#endif
