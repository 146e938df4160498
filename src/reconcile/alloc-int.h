/*
 * Inside the allocator: what its files call in each other (alloc.c names
 * the files). Every function works on one run's context, struct actx.
 */
#ifndef VIPGATE_RECONCILE_ALLOC_INT_H
#define VIPGATE_RECONCILE_ALLOC_INT_H

#include <sys/socket.h>

#include "alloc-int-t.h"

/* The index of a family in apool.has: 0 for IPv4, 1 for IPv6. */
static inline int
fi(int af)
{
	return af == AF_INET6;
}

static inline const char *
af_name(int af)
{
	return af == AF_INET6 ? "IPv6" : "IPv4";
}

/* MetalLB ipConfusesBuggyFirmwares: .0 and .255 trip smurf protection in old CPE. */
static inline int
buggy(const struct ipaddr *ip)
{
	return ip->family == AF_INET && (ip->a[3] == 0 || ip->a[3] == 255);
}

static inline int
in_range(const struct pool_range *r, const struct ipaddr *ip)
{
	return r->first.family == ip->family && ipaddr_cmp(&r->first, ip) <= 0 &&
	    ipaddr_cmp(ip, &r->last) <= 0;
}

/* alloc_svc.c */

/* v4 first, when there are two addresses. */
void alloc_sort_v4_first(struct ipaddr *ips, size_t n);
/*
 * Read what Service s asks for: sharing key (and its group), pool, family
 * policy, requested and previous addresses; s->err when the request is
 * invalid.
 */
void alloc_svc_prep(struct actx *, struct asvc *s);

/* alloc_pool.c */

/* Fill c->pools (by name) and c->order (by priority, then name) from the input. */
void alloc_pools_prep(struct actx *);
struct apool *alloc_pool_by_name(const struct actx *, const char *name);
/* Whether ip is in one of the pool's ranges (and not a buggy one it avoids). */
int alloc_pool_has_ip(const struct apool *, const struct ipaddr *ip);
/* Whether all n addresses are in the pool. */
int alloc_pool_has_all(const struct apool *, const struct ipaddr *ips, size_t n);
/* Whether the pool's serviceAllocation accepts the Service. */
int alloc_pool_accepts(struct actx *, const struct apool *, struct asvc *s);

/* alloc_addr.c */

/* The slot of ip in the table of addresses taken (*slot NULL: free). */
struct ipuse **alloc_used_slot(const struct actx *, const struct ipaddr *ip);
/*
 * Whether s may share address u (NULL: free); else why not, with the
 * holder it clashes with in *with and, for SH_PORT, the port in *port.
 */
enum share alloc_share_check(const struct ipuse *u, const struct asvc *s,
    const struct asvc **with, const struct k_svc_port **port);
/* Whether s may take ip: free, or shareable with all who hold it. */
int alloc_usable(const struct actx *, const struct asvc *s, const struct ipaddr *ip);
/* s takes ip (it may hold it with others already). */
void alloc_take(struct actx *, struct asvc *s, const struct ipaddr *ip);
/* The sharing group of s (same key and backend), made on first use. */
struct group *alloc_group_get(struct actx *, const struct asvc *s);
/* The signature of s (its group and ports), made on first use. */
struct sig *alloc_sig_get(struct actx *, const struct asvc *s);
/* The address of family af that pool p gives s, if any: 1 and *out, or 0. */
int alloc_pool_pick(struct actx *, struct apool *p, const struct asvc *s, int af,
    struct ipaddr *out);

#endif
