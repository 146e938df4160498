/*
 * Inside the allocator (alloc*.c): a run's context, its pools, its
 * Services and the addresses they take. Types only; the functions are in
 * alloc-int.h.
 */
#ifndef VIPGATE_RECONCILE_ALLOC_INT_T_H
#define VIPGATE_RECONCILE_ALLOC_INT_T_H

#include <stddef.h>
#include <stdint.h>

#include "vipgate/ipaddr.h"
#include "vipgate/objects-t.h"

struct alloc_input;
struct alloc_result;
struct vg_arena;

enum policy {
	POL_SINGLE,
	POL_PREFER,
	POL_REQUIRE,
};

enum share {
	SH_OK,
	SH_KEY,		/* no sharing key, or another one */
	SH_BACKEND,	/* externalTrafficPolicy Local with other selectors */
	SH_PORT,	/* same port and protocol */
};

struct asvc;

struct ipuser {
	struct asvc	*svc;
	struct ipuser	*next;
};

/*
 * An address taken in this run, and the Services that hold it, in the
 * order they took it: the first in place (most addresses have one).
 */
struct ipuse {
	struct ipaddr	 ip;
	struct ipuser	 users;
	struct ipuser	*last;
	struct ipuse	*next_grp;	/* next address of the same group */
};

/*
 * Services that may share an address have the same sharing key and the
 * same backend key: a group. Its addresses, oldest first, and how many of
 * them use each port.
 */
struct group {
	struct group	 *next;		/* hash chain */
	uint64_t	  h;
	const struct asvc *rep;		/* the first Service in it */
	struct ipuse	 *head, *tail;
	size_t		  nips;
};

struct portcnt {
	const struct group	*g;
	int64_t			 port;
	const char		*proto;
	size_t			 nips;
};

/*
 * A group and a set of ports: all that decides whether a Service may join
 * an address. Holders are only ever added during a run, so an address
 * that cannot take a signature never will: each signature remembers which
 * of its group's addresses are still candidates, and looks at each address
 * once, however many Services clash on a port.
 */
struct sig {
	struct sig	 *next;		/* hash chain */
	uint64_t	  h;
	const struct asvc *rep;		/* the first Service with it */
	const struct ipuse *seen;	/* last address of the group looked at */
	const struct ipuse **cand;	/* addresses it may still share */
	size_t		  ncand, capcand;
};

/*
 * Every address of a range below the cursor is taken (or avoided): addresses
 * are only ever taken during a run, so the scan for a free one never goes
 * back, and a /64 is never walked.
 */
struct cursor {
	struct ipaddr	ip;
	int		done;
};

struct apool {
	struct object			*obj;
	const char			*name;		/* in the result arena */
	const struct k_ipaddresspool	*p;
	struct cursor			*cur;		/* one a range */
	int				 has[2];	/* has IPv4, IPv6 ranges */
	int				 pinned;	/* namespaces or selectors */
	int64_t				 prio;		/* 0 when unset */
};

/* One a LoadBalancer Service; small fields last (50,000 of them at 100k VIPs). */
struct asvc {
	struct object		*obj;
	const struct k_service	*k;
	struct alloc_result	*res;
	const char		*key;		/* allow-shared-ip; NULL when absent or empty */
	const struct strmap	*backend;	/* the selector when ETP Local */
	const char		*req_pool;	/* address-pool */
	const char		*err;		/* invalid request: pending whatever the pools */
	const struct strmap	*nslabels;	/* looked up on first use */
	struct group		*grp;		/* when it has a sharing key */
	struct sig		*sig;
	struct apool		*pool;
	struct ipaddr		 req[2];	/* requested, v4 first */
	struct ipaddr		 prev[2];	/* previous assignment, v4 first */
	uint32_t		 idx;		/* in input order */
	uint8_t			 pol;		/* enum policy */
	uint8_t			 af;		/* the primary family */
	uint8_t			 nreq;
	uint8_t			 nprev;
	uint8_t			 done;
	uint8_t			 extend;	/* PreferDualStack kept one address */
};

struct actx {
	struct vg_arena			*arena;		/* this run's tables: freed at its end */
	struct vg_arena			*out;		/* the results and their strings */
	const struct alloc_input	*in;
	struct apool			*pools;		/* by name */
	size_t				 npools;
	struct apool			**order;	/* by priority, then name */
	struct apool			**cands;	/* scratch, npools long */
	struct ipuse			**used;		/* open addressing on the address */
	size_t				 usedmask;
	struct group			**groups;	/* chained, keymask + 1 buckets */
	struct sig			**sigs;		/* chained, keymask + 1 buckets */
	size_t				 keymask;
	struct portcnt			*ports;		/* open addressing */
	size_t				 portmask;
	const char			*last_ns;	/* namespace labels cache */
	const struct strmap		*last_nslabels;
};

#endif
