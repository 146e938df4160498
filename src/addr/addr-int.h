/*
 * Inside the addr module: rtnetlink requests and replies (addr_netlink.c)
 * for the applier (addr.c). Message builders and the ownership parser are
 * pure, so the unit tests run them without a socket.
 */
#ifndef VIPGATE_ADDR_INT_H
#define VIPGATE_ADDR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "vipgate/ipaddr.h"

/*
 * IFA_PROTO (Linux 5.18) is an enum constant, not a macro, so older headers
 * cannot be detected with #ifdef: use its number under our own name. Kernels
 * before 5.18 ignore the attribute; there only the IPv4 label marks ours.
 */
#define VG_IFA_ATTR_PROTO	11
/* The IFA_PROTO value marking vipgated's addresses ('V'). */
#define VG_IFA_PROTO		0x56
/* rtm_protocol of vipgated's local routes (addresses.mode: route). */
#define VG_RTPROT		0x56
/* Suffix of the IPv4 label "<ifname>:vg" (labels are IPv4 only). */
#define VG_IFA_LABEL_SUFFIX	":vg"
/* A request's buffer: one address or link message is well under this. */
#define ADDR_MSG_SIZE		512

/* Pure: build an RTM_NEWADDR or RTM_DELADDR for a VIP in buf (ADDR_MSG_SIZE). */
struct nlmsghdr *addr_msg_addr(void *buf, uint16_t type, int ifindex,
    const char *ifname, const struct ipaddr *);
/*
 * Pure: build an RTM_NEWROUTE or RTM_DELROUTE for a VIP as a local route
 * (type local, table local, scope host, protocol VG_RTPROT) through ifindex.
 */
struct nlmsghdr *addr_msg_route(void *buf, uint16_t type, int ifindex,
    const struct ipaddr *);
/* Pure: whether an RTM_NEWROUTE (from a dump) is one of vipgated's local
 * routes through ifindex. 1 (address in *out), 0 not ours, -1 malformed. */
int addr_msg_route_owned(const struct nlmsghdr *, int ifindex, struct ipaddr *out);
/*
 * Pure: pack requests for v[0..n) (RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE
 * or RTM_DELROUTE, each with
 * NLM_F_ACK, numbered seq, seq + 1, ...) back to back into buf, as many as
 * fit in cap bytes. Returns the bytes used; *packed says how many.
 */
size_t addr_msg_batch(void *buf, size_t cap, uint16_t type, int ifindex,
    const char *ifname, const struct ipaddr *v, size_t n, uint32_t seq,
    size_t *packed);
/*
 * Pure: which request of a batch (numbered seq .. seq + n - 1, sent from
 * portid) an answer is for: its index, or -1 when it is not an answer to
 * that batch (a late one to an earlier request, a notification).
 */
long addr_batch_index(const struct nlmsghdr *, uint32_t portid, uint32_t seq,
    size_t n);
/*
 * Pure: whether an RTM_NEWADDR (from a dump) is a full-length address that
 * vipgated owns on ifindex. 1 (address in *out), 0 not ours, -1 malformed.
 */
int addr_msg_owned(const struct nlmsghdr *, int ifindex, const char *ifname,
    struct ipaddr *out);
/* Pure: the IPv4 label "<ifname>:vg"; -1 when it does not fit IFNAMSIZ. */
int addr_label(const char *ifname, char *buf, size_t len);

/* One NETLINK_ROUTE socket; requests are acknowledged and numbered. */
struct addr_nl;

struct addr_nl *addr_nl_open(void);	/* NULL with errno */
void addr_nl_close(struct addr_nl *);
/* The kernel's extended-ack text for the last failed request, or "". */
const char *addr_nl_errmsg(const struct addr_nl *);

/* These return 0 or -errno. */
int addr_nl_link_add_dummy(struct addr_nl *, const char *ifname);
int addr_nl_link_up(struct addr_nl *, int ifindex);
int addr_nl_link_del(struct addr_nl *, int ifindex);
int addr_nl_addr(struct addr_nl *, int add, int ifindex, const char *ifname,
    const struct ipaddr *);
/*
 * Many address requests, at most addr_nl_batch_max() a sendmsg, answers read
 * in bulk. done() is called once for each address, with 0 or -errno and the
 * kernel's extended-ack text (or ""). Returns 0, or -errno when the socket
 * failed (the addresses not answered were reported with that error).
 */
int addr_nl_addr_batch(struct addr_nl *, int add, int route, int ifindex, const char *ifname,
    const struct ipaddr *v, size_t n,
    void (*done)(size_t i, int err, const char *msg, void *arg), void *arg);
/* How many requests go in one sendmsg (from the socket's receive buffer). */
size_t addr_nl_batch_max(const struct addr_nl *);
/* Nanoseconds spent inside sendmsg/recvmsg (the kernel's share) so far. */
uint64_t addr_nl_kernel_ns(const struct addr_nl *);
/* Owned addresses (or local routes) on ifindex, malloc'd, in kernel order. */
int addr_nl_list_owned(struct addr_nl *, int route, int ifindex, const char *ifname,
    struct ipaddr **out, size_t *n);

#endif
