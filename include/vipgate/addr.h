/*
 * VIPs as local addresses (netlink through libmnl). On a dummy interface
 * vipgate0 where the kernel has the dummy driver, else on lo; addresses are
 * tagged as vipgated's (IFA_PROTO and the label "<ifname>:vg") so only those
 * are ever removed.
 */
#ifndef VIPGATE_ADDR_H
#define VIPGATE_ADDR_H

#include "vipgate/applier.h"
#include "vipgate/ipaddr.h"

/*
 * ifname: "auto" or an interface name. mode: "address" (NULL too) or
 * "route": each VIP a local route in table local through the interface
 * instead of an address on it. NULL on failure (logged).
 */
struct applier *addr_applier_new(const char *ifname, const char *mode);
/*
 * apply() only posts the new set: a thread of the applier's own brings the
 * kernel to it. Wait until the last set posted is applied; 0, or -1 when
 * part of it failed (logged).
 */
int addr_applier_wait(struct applier *);
/* The interface in use ("vipgate0", "lo", ...). */
const char *addr_applier_ifname(const struct applier *);

/* Low-level, for tests: list the addresses vipgated owns on ifname. */
int addr_list_owned(const char *ifname, int route, struct ipaddr **out, size_t *n);

/* Pure diff of two sorted address sets. */
void addr_diff(const struct ipaddr *old, size_t nold, const struct ipaddr *new,
    size_t nnew, void (*add)(const struct ipaddr *, void *),
    void (*del)(const struct ipaddr *, void *), void *arg);

#endif
