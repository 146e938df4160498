/*
 * VIP allocation with MetalLB's semantics (controller/service.go,
 * internal/allocator): pools, requested IPs, sharing, dual-stack.
 * Pure: same input, same output, on every node.
 */
#ifndef VIPGATE_ALLOC_H
#define VIPGATE_ALLOC_H

#include "vipgate/objects.h"

/* A previous assignment (sticky state file or Service status). */
struct alloc_prev {
	const char	*ns, *name;
	struct ipaddr	 ips[2];
	size_t		 nips;
};

struct alloc_input {
	struct object * const	*pools;		/* IPAddressPool, sorted by name */
	size_t			 npools;
	struct object * const	*services;	/* Service (all types), sorted by ns/name */
	size_t			 nservices;
	struct object * const	*namespaces;	/* Namespace, for namespaceSelectors */
	size_t			 nnamespaces;
	const struct alloc_prev	*prev;		/* sorted by ns/name */
	size_t			 nprev;
};

struct alloc_result {
	struct object	*svc;		/* a LoadBalancer Service of the input */
	struct ipaddr	 ips[2];	/* v4 first when dual-stack */
	size_t		 nips;
	const char	*pool;		/* pool the IPs come from; NULL when pending */
	const char	*pending;	/* why nothing is allocated; NULL when allocated */
	const char	*sharing_key;	/* allow-shared-ip, or NULL */
};

/*
 * Allocate for every LoadBalancer Service (loadBalancerClass unset) in the
 * input. Results, in the order of input->services, are allocated from arena.
 */
void alloc_run(struct vg_arena *, const struct alloc_input *,
    struct alloc_result **out, size_t *nout);

/* Annotation look-up accepting metallb.io/ and metallb.universe.tf/ prefixes. */
const char *alloc_annotation(const struct object *svc, const char *suffix);

#endif
