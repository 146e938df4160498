/*
 * rtnetlink for the addr module: pure builders and parser for address and
 * link messages, and one NETLINK_ROUTE socket on which every request is
 * numbered and acknowledged (NLM_F_ACK), so each failure has its errno.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "vipgate/log.h"
#include "vipgate/util.h"
#include "addr-int.h"

/* Large enough for one datagram of a dump (the kernel caps them at 32 KiB). */
#define ADDR_RECV_SIZE		32768
/* Bounds every wait for the kernel's answer. */
#define ADDR_RECV_TIMEOUT_S	5
/* Bytes of requests a sendmsg carries (well under the default wmem of 208 KiB). */
#define ADDR_SEND_SIZE		65536
/*
 * Answers to one batch wait in the socket's receive buffer until read, and
 * each costs about 1 KiB of it (the skb's truesize): a batch is sized from
 * the buffer, which is raised to this where the process may (CAP_NET_ADMIN).
 */
#define ADDR_RCVBUF_WANT	(4 << 20)
#define ADDR_ANSWER_COST	1024
#define ADDR_BATCH_MIN		16
#define ADDR_BATCH_MAX		1024
/* Attribute table size: IFA_MAX of any header, and at least IFA_PROTO. */
#define VG_IFA_TB	(IFA_MAX > VG_IFA_ATTR_PROTO ? IFA_MAX + 1 : VG_IFA_ATTR_PROTO + 1)

struct addr_nl {
	char			 buf[ADDR_RECV_SIZE] __attribute__((aligned(8)));
	struct mnl_socket	*sk;
	uint32_t		 portid;
	uint32_t		 seq;
	size_t			 batch;		/* requests a sendmsg */
	uint64_t		 kernel_ns;
	char			 errmsg[128];
	char			*sbuf;		/* ADDR_SEND_SIZE, for batches */
	unsigned char		*answered;	/* batch flags */
};

int
addr_label(const char *ifname, char *buf, size_t len)
{
	size_t need = strlen(ifname) + strlen(VG_IFA_LABEL_SUFFIX) + 1;

	if (need > len || need > IFNAMSIZ)
		return -1;
	snprintf(buf, len, "%s%s", ifname, VG_IFA_LABEL_SUFFIX);
	return 0;
}

/*
 * Scope host: the kernel accepts a packet for any address in its local
 * table whatever the scope (the local route of an address is always scope
 * host), and our listeners reply from the VIP they were reached on. What
 * scope host adds is that the kernel never picks a VIP as the source of its
 * own traffic (inet_select_addr skips host-scope addresses for remote
 * destinations), so moving a VIP away cannot break unrelated connections.
 * IPv6 derives the scope from the address itself and ignores ifa_scope.
 */
struct nlmsghdr *
addr_msg_addr(void *buf, uint16_t type, int ifindex, const char *ifname,
    const struct ipaddr *a)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	char label[IFNAMSIZ];
	int v4 = a->family == AF_INET;
	size_t alen = v4 ? 4 : 16;

	memset(buf, 0, ADDR_MSG_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	if (type == RTM_NEWADDR)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = a->family;
	ifa->ifa_prefixlen = (uint8_t)ipaddr_bits(a);
	ifa->ifa_scope = RT_SCOPE_HOST;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, alen, a->a);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, a->a);
	if (!v4) {
		/*
		 * No duplicate address detection: the VIP is usable at once,
		 * and on a named interface with neighbours DAD would find the
		 * same VIP held by other nodes. No prefix route: the /128
		 * would otherwise also appear in the main table.
		 */
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
	}
	if (type == RTM_NEWADDR)
		mnl_attr_put_u8(nlh, VG_IFA_ATTR_PROTO, VG_IFA_PROTO);
	/*
	 * On delete the IPv4 kernel matches the label too (inet_rtm_deladdr),
	 * so it refuses to remove an untagged address of the same value.
	 */
	if (v4 && addr_label(ifname, label, sizeof(label)) == 0)
		mnl_attr_put_strz(nlh, IFA_LABEL, label);
	return nlh;
}

static int
ifa_attr_cb(const struct nlattr *attr, void *arg)
{
	const struct nlattr **tb = arg;
	uint16_t type = mnl_attr_get_type(attr);
	enum mnl_attr_data_type want;

	if (type >= VG_IFA_TB)
		return MNL_CB_OK;
	switch (type) {
	case IFA_ADDRESS:
	case IFA_LOCAL:
		want = MNL_TYPE_BINARY;
		break;
	case IFA_LABEL:
		want = MNL_TYPE_NUL_STRING;
		break;
	case VG_IFA_ATTR_PROTO:
		want = MNL_TYPE_U8;
		break;
	default:
		return MNL_CB_OK;
	}
	if (mnl_attr_validate(attr, want) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

int
addr_msg_owned(const struct nlmsghdr *nlh, int ifindex, const char *ifname,
    struct ipaddr *out)
{
	const struct nlattr *tb[VG_IFA_TB] = { NULL };
	const struct nlattr *at;
	struct ifaddrmsg ifa;
	char label[IFNAMSIZ];
	size_t alen;
	int owned;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifa))
		return -1;
	memcpy(&ifa, mnl_nlmsg_get_payload(nlh), sizeof(ifa));
	if (ifa.ifa_index != (uint32_t)ifindex)
		return 0;
	if (ifa.ifa_family == AF_INET)
		alen = 4;
	else if (ifa.ifa_family == AF_INET6)
		alen = 16;
	else
		return 0;
	if (mnl_attr_parse(nlh, sizeof(ifa), ifa_attr_cb, tb) != MNL_CB_OK)
		return -1;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer's when both differ. */
	at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (at == NULL || mnl_attr_get_payload_len(at) != alen)
		return -1;
	if (ifa.ifa_prefixlen != alen * 8)
		return 0;
	owned = tb[VG_IFA_ATTR_PROTO] != NULL &&
	    mnl_attr_get_u8(tb[VG_IFA_ATTR_PROTO]) == VG_IFA_PROTO;
	if (!owned && alen == 4 && tb[IFA_LABEL] != NULL &&
	    addr_label(ifname, label, sizeof(label)) == 0)
		owned = strcmp(mnl_attr_get_str(tb[IFA_LABEL]), label) == 0;
	if (!owned)
		return 0;
	memset(out, 0, sizeof(*out));
	out->family = ifa.ifa_family;
	memcpy(out->a, mnl_attr_get_payload(at), alen);
	return 1;
}

/*
 * A local route (addresses.mode: route): the kernel takes a packet for a
 * destination whose route in table local is of type local as addressed to
 * itself (ip_route_input, ip6_route_input), as it does for its addresses,
 * but adding one is a FIB insertion, not a walk of the interface's address
 * list. The kernel never picks it as a source address.
 */
struct nlmsghdr *
addr_msg_route(void *buf, uint16_t type, int ifindex, const struct ipaddr *a)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	size_t alen = a->family == AF_INET ? 4 : 16;

	memset(buf, 0, ADDR_MSG_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	if (type == RTM_NEWROUTE)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = a->family;
	rtm->rtm_dst_len = (uint8_t)ipaddr_bits(a);
	rtm->rtm_table = RT_TABLE_LOCAL;
	/* on delete the kernel matches the protocol: only ours go */
	rtm->rtm_protocol = VG_RTPROT;
	rtm->rtm_scope = RT_SCOPE_HOST;
	rtm->rtm_type = RTN_LOCAL;
	mnl_attr_put(nlh, RTA_DST, alen, a->a);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nlh;
}

static int
rta_attr_cb(const struct nlattr *attr, void *arg)
{
	const struct nlattr **tb = arg;
	uint16_t type = mnl_attr_get_type(attr);

	if (type > RTA_MAX)
		return MNL_CB_OK;
	switch (type) {
	case RTA_DST:
		if (mnl_attr_validate(attr, MNL_TYPE_BINARY) < 0)
			return MNL_CB_ERROR;
		break;
	case RTA_OIF:
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	default:
		return MNL_CB_OK;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

int
addr_msg_route_owned(const struct nlmsghdr *nlh, int ifindex, struct ipaddr *out)
{
	const struct nlattr *tb[RTA_MAX + 1] = { NULL };
	struct rtmsg rtm;
	uint32_t table;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(rtm))
		return -1;
	memcpy(&rtm, mnl_nlmsg_get_payload(nlh), sizeof(rtm));
	if (rtm.rtm_family == AF_INET)
		alen = 4;
	else if (rtm.rtm_family == AF_INET6)
		alen = 16;
	else
		return 0;
	if (rtm.rtm_protocol != VG_RTPROT || rtm.rtm_type != RTN_LOCAL ||
	    rtm.rtm_dst_len != alen * 8)
		return 0;
	if (mnl_attr_parse(nlh, sizeof(rtm), rta_attr_cb, tb) != MNL_CB_OK)
		return -1;
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm.rtm_table;
	if (table != RT_TABLE_LOCAL || tb[RTA_OIF] == NULL ||
	    mnl_attr_get_u32(tb[RTA_OIF]) != (uint32_t)ifindex)
		return 0;
	if (tb[RTA_DST] == NULL || mnl_attr_get_payload_len(tb[RTA_DST]) != alen)
		return -1;
	memset(out, 0, sizeof(*out));
	out->family = rtm.rtm_family;
	memcpy(out->a, mnl_attr_get_payload(tb[RTA_DST]), alen);
	return 1;
}

static struct nlmsghdr *
msg_link_dummy(void *buf, const char *ifname)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *info;

	memset(buf, 0, ADDR_MSG_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "dummy");
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

/* RTM_NEWLINK setting the link up, or RTM_DELLINK. */
static struct nlmsghdr *
msg_link(void *buf, uint16_t type, int ifindex)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	memset(buf, 0, ADDR_MSG_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (type == RTM_NEWLINK) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	return nlh;
}

static struct nlmsghdr *
msg_addr_dump(void *buf, int route)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, ADDR_MSG_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = route ? RTM_GETROUTE : RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (route) {
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		rtm->rtm_family = AF_UNSPEC;
	} else {
		struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

		ifa->ifa_family = AF_UNSPEC;
	}
	return nlh;
}

struct addr_nl *
addr_nl_open(void)
{
	struct addr_nl *nl = xcalloc(1, sizeof(*nl));
	struct timeval tv = { ADDR_RECV_TIMEOUT_S, 0 };
	int one = 1, saved;

	nl->sk = mnl_socket_open(NETLINK_ROUTE);
	if (nl->sk == NULL)
		goto fail;
	if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	/* Best effort (Linux >= 4.12): the kernel's reason in its errors. */
	(void)mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1)
		goto fail;
	{
		int want = ADDR_RCVBUF_WANT, got = 0;
		socklen_t gl = sizeof(got);
		int fd = mnl_socket_get_fd(nl->sk);

		/* FORCE passes rmem_max with CAP_NET_ADMIN; else the plain cap */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) == -1)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
		if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) == -1)
			got = 0;
		nl->batch = (size_t)got / ADDR_ANSWER_COST;
		if (nl->batch < ADDR_BATCH_MIN)
			nl->batch = ADDR_BATCH_MIN;
		if (nl->batch > ADDR_BATCH_MAX)
			nl->batch = ADDR_BATCH_MAX;
	}
	nl->sbuf = xmalloc(ADDR_SEND_SIZE);
	nl->answered = xmalloc(ADDR_BATCH_MAX);
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (uint32_t)time(NULL);
	return nl;
fail:
	saved = errno;
	addr_nl_close(nl);
	errno = saved;
	return NULL;
}

void
addr_nl_close(struct addr_nl *nl)
{
	if (nl == NULL)
		return;
	if (nl->sk != NULL)
		mnl_socket_close(nl->sk);
	free(nl->sbuf);
	free(nl->answered);
	free(nl);
}

const char *
addr_nl_errmsg(const struct addr_nl *nl)
{
	return nl->errmsg;
}

static int
extack_cb(const struct nlattr *attr, void *arg)
{
	const struct nlattr **msg = arg;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		*msg = attr;
	return MNL_CB_OK;
}

/* An NLMSG_ERROR: 0 for an ACK, else -errno (and the extended-ack text). */
static int
nl_error(struct addr_nl *nl, const struct nlmsghdr *nlh)
{
	const struct nlattr *msg = NULL;
	struct nlmsgerr e;
	size_t plen = mnl_nlmsg_get_payload_len(nlh);

	if (plen < sizeof(e))
		return -EBADMSG;
	memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
	if (e.error >= 0)
		return 0;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		/* The TLVs follow the echoed request, or its header when capped. */
		size_t off = sizeof(e);

		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e.msg.nlmsg_len >= sizeof(e.msg))
			off += e.msg.nlmsg_len - sizeof(e.msg);
		off = MNL_ALIGN(off);
		if (off < plen)
			(void)mnl_attr_parse_payload(
			    (const char *)mnl_nlmsg_get_payload(nlh) + off, plen - off,
			    extack_cb, &msg);
		if (msg != NULL)
			snprintf(nl->errmsg, sizeof(nl->errmsg), "%s",
			    mnl_attr_get_str(msg));
	}
	return e.error;
}

/*
 * Read the answers to request seq until its ACK/error or the end of its
 * dump, handing other messages to cb (which returns 0 or -errno).
 */
static int
nl_wait(struct addr_nl *nl, uint32_t seq,
    int (*cb)(const struct nlmsghdr *, void *), void *arg)
{
	int intr = 0, cberr = 0;

	for (;;) {
		const struct nlmsghdr *nlh;
		ssize_t n;
		int len;

		n = mnl_socket_recvfrom(nl->sk, nl->buf, sizeof(nl->buf));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nlh, len);
		    nlh = mnl_nlmsg_next(nlh, &len)) {
			/* a late answer to a request that timed out */
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != nl->portid)
				continue;
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = 1;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return cberr ? cberr : intr ? -EINTR : 0;
			if (nlh->nlmsg_type == NLMSG_ERROR)
				return nl_error(nl, nlh);
			if (cb != NULL && cberr == 0)
				cberr = cb(nlh, arg);
		}
	}
}

static int
nl_request(struct addr_nl *nl, struct nlmsghdr *nlh,
    int (*cb)(const struct nlmsghdr *, void *), void *arg)
{
	nl->errmsg[0] = '\0';
	nlh->nlmsg_seq = ++nl->seq;
	if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return nl_wait(nl, nlh->nlmsg_seq, cb, arg);
}

int
addr_nl_link_add_dummy(struct addr_nl *nl, const char *ifname)
{
	char buf[ADDR_MSG_SIZE] __attribute__((aligned(8)));

	return nl_request(nl, msg_link_dummy(buf, ifname), NULL, NULL);
}

int
addr_nl_link_up(struct addr_nl *nl, int ifindex)
{
	char buf[ADDR_MSG_SIZE] __attribute__((aligned(8)));

	return nl_request(nl, msg_link(buf, RTM_NEWLINK, ifindex), NULL, NULL);
}

int
addr_nl_link_del(struct addr_nl *nl, int ifindex)
{
	char buf[ADDR_MSG_SIZE] __attribute__((aligned(8)));

	return nl_request(nl, msg_link(buf, RTM_DELLINK, ifindex), NULL, NULL);
}

int
addr_nl_addr(struct addr_nl *nl, int add, int ifindex, const char *ifname,
    const struct ipaddr *a)
{
	char buf[ADDR_MSG_SIZE] __attribute__((aligned(8)));

	return nl_request(nl, addr_msg_addr(buf, add ? RTM_NEWADDR : RTM_DELADDR,
	    ifindex, ifname, a), NULL, NULL);
}

size_t
addr_msg_batch(void *buf, size_t cap, uint16_t type, int ifindex,
    const char *ifname, const struct ipaddr *v, size_t n, uint32_t seq,
    size_t *packed)
{
	char one[ADDR_MSG_SIZE] __attribute__((aligned(8)));
	size_t used = 0, i;

	for (i = 0; i < n; i++) {
		struct nlmsghdr *nlh = type == RTM_NEWROUTE || type == RTM_DELROUTE ?
		    addr_msg_route(one, type, ifindex, &v[i]) :
		    addr_msg_addr(one, type, ifindex, ifname, &v[i]);
		size_t len = MNL_ALIGN(nlh->nlmsg_len);

		if (used + len > cap)
			break;
		nlh->nlmsg_seq = seq + (uint32_t)i;
		nlh->nlmsg_flags |= NLM_F_ACK;
		memcpy((char *)buf + used, nlh, len);
		used += len;
	}
	*packed = i;
	return used;
}

long
addr_batch_index(const struct nlmsghdr *nlh, uint32_t portid, uint32_t seq, size_t n)
{
	uint32_t off = nlh->nlmsg_seq - seq;	/* wraps like the numbers do */

	if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != portid || off >= n)
		return -1;
	return (long)off;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

size_t
addr_nl_batch_max(const struct addr_nl *nl)
{
	return nl->batch;
}

uint64_t
addr_nl_kernel_ns(const struct addr_nl *nl)
{
	return nl->kernel_ns;
}

/*
 * One sendmsg of k requests, then its k answers. The kernel handles the
 * requests inside sendmsg, one after the other, and goes on after a failed
 * one, so each address gets its own answer.
 */
static int
batch_once(struct addr_nl *nl, uint16_t type, int ifindex, const char *ifname,
    const struct ipaddr *v, size_t n, size_t *sent,
    void (*done)(size_t, int, const char *, void *), void *arg)
{
	uint32_t seq = nl->seq + 1;
	size_t k, len, left, i;
	uint64_t t0;
	ssize_t r;
	int err = 0;

	if (n > nl->batch)
		n = nl->batch;
	len = addr_msg_batch(nl->sbuf, ADDR_SEND_SIZE, type, ifindex, ifname, v, n,
	    seq, &k);
	nl->seq += (uint32_t)k;
	*sent = k;
	memset(nl->answered, 0, k);
	t0 = mono_ns();
	r = mnl_socket_sendto(nl->sk, nl->sbuf, len);
	nl->kernel_ns += mono_ns() - t0;
	if (r < 0) {
		err = -errno;
		left = k;
		goto unanswered;
	}
	for (left = k; left > 0;) {
		const struct nlmsghdr *nlh;
		int rl;

		t0 = mono_ns();
		r = mnl_socket_recvfrom(nl->sk, nl->buf, sizeof(nl->buf));
		nl->kernel_ns += mono_ns() - t0;
		if (r == -1) {
			if (errno == EINTR)
				continue;
			/* ENOBUFS: answers were dropped, which ones is unknown */
			err = errno == EAGAIN ? -ETIMEDOUT : -errno;
			break;
		}
		rl = (int)r;
		for (nlh = (const struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nlh, rl);
		    nlh = mnl_nlmsg_next(nlh, &rl)) {
			long idx = addr_batch_index(nlh, nl->portid, seq, k);
			int e;

			if (idx < 0 || nl->answered[idx])
				continue;
			nl->answered[idx] = 1;
			left--;
			nl->errmsg[0] = '\0';
			e = nl_error(nl, nlh);
			done((size_t)idx, e, nl->errmsg, arg);
		}
	}
	if (err == -ENOBUFS && nl->batch > ADDR_BATCH_MIN)
		nl->batch /= 2;
unanswered:
	if (left > 0)
		for (i = 0; i < k; i++)
			if (!nl->answered[i]) {
				nl->answered[i] = 1;
				done(i, err, "", arg);
			}
	return err;
}

struct batch_off {
	size_t	 off;
	void	(*done)(size_t, int, const char *, void *);
	void	*arg;
};

static void
batch_off_done(size_t i, int err, const char *msg, void *arg)
{
	struct batch_off *bo = arg;

	bo->done(bo->off + i, err, msg, bo->arg);
}

int
addr_nl_addr_batch(struct addr_nl *nl, int add, int route, int ifindex, const char *ifname,
    const struct ipaddr *v, size_t n,
    void (*done)(size_t i, int err, const char *msg, void *arg), void *arg)
{
	struct batch_off bo = { 0, done, arg };
	int rc = 0;

	while (bo.off < n) {
		size_t sent;
		uint16_t type = route ? (add ? RTM_NEWROUTE : RTM_DELROUTE) :
		    (add ? RTM_NEWADDR : RTM_DELADDR);
		int e = batch_once(nl, type, ifindex, ifname,
		    v + bo.off, n - bo.off, &sent, batch_off_done, &bo);

		if (e < 0)
			rc = e;
		if (sent == 0)
			break;
		bo.off += sent;
	}
	return rc;
}

struct owned_acc {
	int		 route;
	int		 ifindex;
	const char	*ifname;
	struct ipaddr	*v;
	size_t		 n, cap;
};

static int
owned_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct owned_acc *acc = arg;
	struct ipaddr a;
	int r = acc->route ? addr_msg_route_owned(nlh, acc->ifindex, &a) :
	    addr_msg_owned(nlh, acc->ifindex, acc->ifname, &a);

	if (r == -1)
		return -EBADMSG;
	if (r == 1) {
		if (acc->n == acc->cap) {
			acc->cap = acc->cap ? acc->cap * 2 : 16;
			acc->v = xreallocarray(acc->v, acc->cap, sizeof(*acc->v));
		}
		acc->v[acc->n++] = a;
	}
	return 0;
}

int
addr_nl_list_owned(struct addr_nl *nl, int route, int ifindex, const char *ifname,
    struct ipaddr **out, size_t *n)
{
	char buf[ADDR_MSG_SIZE] __attribute__((aligned(8)));
	struct owned_acc acc = { route, ifindex, ifname, NULL, 0, 0 };
	int tries, r = -EINTR;

	/*
	 * A dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is
	 * retried, after 1, 2, 4 ... 64 ms: right after thousands of changes
	 * the kernel's own follow-up work (IPv6 routes, address lifetimes)
	 * can interrupt a few dumps in a row.
	 */
	for (tries = 0; tries < 8 && r == -EINTR; tries++) {
		if (tries > 0) {
			struct timespec ts = { 0, (1L << (tries - 1)) * 1000000L };

			log_debug("addresses: the dump of %s was interrupted by a change, again in %ld ms",
			    ifname, ts.tv_nsec / 1000000L);
			nanosleep(&ts, NULL);
		}
		acc.n = 0;
		r = nl_request(nl, msg_addr_dump(buf, route), owned_cb, &acc);
	}
	if (r < 0) {
		free(acc.v);
		return r;
	}
	*out = acc.v;
	*n = acc.n;
	return 0;
}
