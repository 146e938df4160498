#include "config.h"

#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "cu.h"
#include "vipgate/addr.h"
/* The module's pure message builders and parser (src/addr/addr-int.h). */
#include "../../src/addr/addr-int.h"

/* What addr_diff asked for, as "+addr" / "-addr" in call order. */
struct calls {
	char	s[16][IPADDR_STRLEN + 1];
	size_t	n;
};

static void
rec(struct calls *c, char sign, const struct ipaddr *a)
{
	char buf[IPADDR_STRLEN];

	CU_ASSERT_FATAL(c->n < VG_ARRAY_SIZE(c->s));
	snprintf(c->s[c->n++], sizeof(c->s[0]), "%c%s", sign, ipaddr_fmt(a, buf));
}

static void
on_add(const struct ipaddr *a, void *arg)
{
	rec(arg, '+', a);
}

static void
on_del(const struct ipaddr *a, void *arg)
{
	rec(arg, '-', a);
}

/* Parse a space-separated list into v (at most 8). */
static size_t
addrs(const char *list, struct ipaddr *v)
{
	char buf[256], *tok, *save;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		CU_ASSERT_FATAL(n < 8);
		CU_ASSERT_FATAL(ipaddr_parse(tok, &v[n]) == 0);
		n++;
	}
	return n;
}

/* Run addr_diff on two lists and compare the calls with want ("+a -b ..."). */
static void
check_diff(const char *old, const char *new, const char *want)
{
	struct ipaddr o[8], n[8];
	size_t no = addrs(old, o), nn = addrs(new, n), i;
	struct calls c = { .n = 0 };
	char got[512] = "";

	addr_diff(o, no, n, nn, on_add, on_del, &c);
	for (i = 0; i < c.n; i++) {
		if (i)
			strcat(got, " ");
		strcat(got, c.s[i]);
	}
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\ndiff(%s | %s): got \"%s\", want \"%s\"\n", old,
		    new, got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
}

static void
test_diff_empty(void)
{
	check_diff("", "", "");
	addr_diff(NULL, 0, NULL, 0, on_add, on_del, NULL);
}

static void
test_diff_same(void)
{
	check_diff("10.0.0.1 10.0.0.2 fd00::1", "10.0.0.1 10.0.0.2 fd00::1", "");
}

static void
test_diff_add_only(void)
{
	check_diff("", "10.0.0.1 10.0.0.2", "+10.0.0.1 +10.0.0.2");
	check_diff("10.0.0.2", "10.0.0.1 10.0.0.2 10.0.0.3", "+10.0.0.1 +10.0.0.3");
}

static void
test_diff_del_only(void)
{
	check_diff("10.0.0.1 10.0.0.2", "", "-10.0.0.1 -10.0.0.2");
	check_diff("10.0.0.1 10.0.0.2 10.0.0.3", "10.0.0.2", "-10.0.0.1 -10.0.0.3");
}

static void
test_diff_mixed(void)
{
	check_diff("10.0.0.1 10.0.0.3 10.0.0.5", "10.0.0.2 10.0.0.3 10.0.0.6",
	    "-10.0.0.1 +10.0.0.2 -10.0.0.5 +10.0.0.6");
}

static void
test_diff_v4_v6(void)
{
	/* v4 sorts before v6 (ipaddr_cmp): the walk must follow that order. */
	check_diff("10.0.0.9 fd00::1", "192.168.1.1 fd00::1 fd00::2",
	    "-10.0.0.9 +192.168.1.1 +fd00::2");
	check_diff("fd00::1 fd00::2", "10.0.0.1", "+10.0.0.1 -fd00::1 -fd00::2");
	check_diff("10.0.0.1", "fd00::1", "-10.0.0.1 +fd00::1");
}

static void
test_diff_null_callbacks(void)
{
	struct ipaddr o[8], n[8];
	size_t no = addrs("10.0.0.1", o), nn = addrs("10.0.0.2", n);
	struct calls c = { .n = 0 };

	addr_diff(o, no, n, nn, on_add, NULL, &c);
	CU_ASSERT_EQUAL(c.n, 1);
	CU_ASSERT_STRING_EQUAL(c.s[0], "+10.0.0.2");
}

/* Turn a request we build into what a dump would return (RTM_NEWADDR). */
static struct nlmsghdr *
as_dumped(void *buf, const char *ifname, const char *addr, int ifindex)
{
	struct ipaddr a;
	struct nlmsghdr *nlh;

	CU_ASSERT_FATAL(ipaddr_parse(addr, &a) == 0);
	nlh = addr_msg_addr(buf, RTM_NEWADDR, ifindex, ifname, &a);
	nlh->nlmsg_flags = NLM_F_MULTI;
	return nlh;
}

static void
test_msg_owned_roundtrip(void)
{
	char buf[ADDR_MSG_SIZE] __attribute__((aligned(8)));
	struct ipaddr out, want;

	as_dumped(buf, "lo", "10.1.2.3", 1);
	CU_ASSERT_EQUAL(addr_msg_owned((void *)buf, 1, "lo", &out), 1);
	ipaddr_parse("10.1.2.3", &want);
	CU_ASSERT(ipaddr_eq(&out, &want));
	/* another interface's address is not ours here */
	CU_ASSERT_EQUAL(addr_msg_owned((void *)buf, 2, "lo", &out), 0);

	as_dumped(buf, "lo", "fd00::7", 1);
	CU_ASSERT_EQUAL(addr_msg_owned((void *)buf, 1, "lo", &out), 1);
	ipaddr_parse("fd00::7", &want);
	CU_ASSERT(ipaddr_eq(&out, &want));
}

static void
test_msg_request(void)
{
	char buf[ADDR_MSG_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct ipaddr a;

	ipaddr_parse("fd00::7", &a);
	nlh = addr_msg_addr(buf, RTM_NEWADDR, 5, "lo", &a);
	ifa = mnl_nlmsg_get_payload(nlh);
	CU_ASSERT_EQUAL(ifa->ifa_prefixlen, 128);
	CU_ASSERT(ifa->ifa_flags & IFA_F_NODAD);
	CU_ASSERT_EQUAL(ifa->ifa_index, 5);
	CU_ASSERT(nlh->nlmsg_flags & NLM_F_CREATE);

	ipaddr_parse("10.0.0.1", &a);
	nlh = addr_msg_addr(buf, RTM_DELADDR, 5, "lo", &a);
	ifa = mnl_nlmsg_get_payload(nlh);
	CU_ASSERT_EQUAL(ifa->ifa_prefixlen, 32);
	CU_ASSERT_EQUAL(ifa->ifa_scope, RT_SCOPE_HOST);
	CU_ASSERT(!(nlh->nlmsg_flags & NLM_F_CREATE));
}

/* Build an RTM_NEWADDR by hand: the tags we want, or none. */
static struct nlmsghdr *
dumped_raw(void *buf, int family, int plen, const char *addr, const char *label,
    int proto)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct ipaddr a;

	CU_ASSERT_FATAL(ipaddr_parse(addr, &a) == 0);
	memset(buf, 0, ADDR_MSG_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_index = 1;
	mnl_attr_put(nlh, IFA_ADDRESS, a.family == AF_INET ? 4 : 16, a.a);
	if (label)
		mnl_attr_put_strz(nlh, IFA_LABEL, label);
	if (proto >= 0)
		mnl_attr_put_u8(nlh, VG_IFA_ATTR_PROTO, proto);
	return nlh;
}

static void
test_msg_ownership(void)
{
	char buf[ADDR_MSG_SIZE] __attribute__((aligned(8)));
	struct ipaddr out;
	struct nlmsghdr *nlh;

	/* untagged: an operator's address */
	nlh = dumped_raw(buf, AF_INET, 32, "10.0.0.1", "lo", -1);
	CU_ASSERT_EQUAL(addr_msg_owned(nlh, 1, "lo", &out), 0);
	/* our label alone (kernel before IFA_PROTO) */
	nlh = dumped_raw(buf, AF_INET, 32, "10.0.0.1", "lo:vg", -1);
	CU_ASSERT_EQUAL(addr_msg_owned(nlh, 1, "lo", &out), 1);
	/* another program's protocol and label */
	nlh = dumped_raw(buf, AF_INET, 32, "10.0.0.1", "lo:x", 4);
	CU_ASSERT_EQUAL(addr_msg_owned(nlh, 1, "lo", &out), 0);
	/* our protocol, v6 (no labels there) */
	nlh = dumped_raw(buf, AF_INET6, 128, "fd00::1", NULL, VG_IFA_PROTO);
	CU_ASSERT_EQUAL(addr_msg_owned(nlh, 1, "lo", &out), 1);
	nlh = dumped_raw(buf, AF_INET6, 128, "fd00::1", NULL, -1);
	CU_ASSERT_EQUAL(addr_msg_owned(nlh, 1, "lo", &out), 0);
	/* tagged but not a host address: not one we added */
	nlh = dumped_raw(buf, AF_INET, 24, "10.0.0.0", "lo:vg", VG_IFA_PROTO);
	CU_ASSERT_EQUAL(addr_msg_owned(nlh, 1, "lo", &out), 0);
	/* a v4 family with a v6-sized address is malformed */
	nlh = dumped_raw(buf, AF_INET, 32, "fd00::1", NULL, VG_IFA_PROTO);
	CU_ASSERT_EQUAL(addr_msg_owned(nlh, 1, "lo", &out), -1);
	/* truncated header */
	nlh = dumped_raw(buf, AF_INET, 32, "10.0.0.1", NULL, VG_IFA_PROTO);
	nlh->nlmsg_len = sizeof(*nlh) + 2;
	CU_ASSERT_EQUAL(addr_msg_owned(nlh, 1, "lo", &out), -1);
}

static void
test_label(void)
{
	char buf[IFNAMSIZ];

	CU_ASSERT_EQUAL(addr_label("lo", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "lo:vg");
	CU_ASSERT_EQUAL(addr_label("vipgate0", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "vipgate0:vg");
	/* 13 characters + ":vg" do not fit IFNAMSIZ: no label, IFA_PROTO only */
	CU_ASSERT_EQUAL(addr_label("enp0s31f6abcd", buf, sizeof(buf)), -1);
}

/* A batch: back to back, numbered, acknowledged, cut where it does not fit. */
static void
test_msg_batch(void)
{
	static char buf[2048] __attribute__((aligned(8)));
	struct ipaddr v[40];
	const struct nlmsghdr *nlh;
	size_t used, packed, i;
	int len;

	CU_ASSERT_FATAL(ipaddr_parse("10.0.0.1", &v[0]) == 0);
	for (i = 1; i < 20; i++) {
		v[i] = v[i - 1];
		CU_ASSERT_FATAL(ipaddr_inc(&v[i]) == 0);
	}
	CU_ASSERT_FATAL(ipaddr_parse("fd00::1", &v[20]) == 0);
	for (i = 21; i < 40; i++) {
		v[i] = v[i - 1];
		CU_ASSERT_FATAL(ipaddr_inc(&v[i]) == 0);
	}
	used = addr_msg_batch(buf, sizeof(buf), RTM_NEWADDR, 3, "lo", v, 40, 1000, &packed);
	CU_ASSERT(packed > 0 && packed < 40);	/* 40 do not fit in 2 KiB */
	CU_ASSERT(used <= sizeof(buf));
	len = (int)used;
	i = 0;
	for (nlh = (void *)buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		char one[ADDR_MSG_SIZE] __attribute__((aligned(8)));
		const struct nlmsghdr *want = addr_msg_addr(one, RTM_NEWADDR, 3, "lo", &v[i]);

		CU_ASSERT_EQUAL(nlh->nlmsg_seq, 1000 + i);
		CU_ASSERT(nlh->nlmsg_flags & NLM_F_ACK);
		/* the same request as built alone, but for seq and the ACK flag */
		CU_ASSERT_EQUAL(nlh->nlmsg_len, want->nlmsg_len);
		CU_ASSERT(memcmp(mnl_nlmsg_get_payload(nlh), mnl_nlmsg_get_payload(want),
		    want->nlmsg_len - sizeof(*want)) == 0);
		i++;
	}
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(i, packed);
	/* the rest goes on from where it stopped */
	used = addr_msg_batch(buf, sizeof(buf), RTM_DELADDR, 3, "lo", v + packed,
	    40 - packed, 1000 + (uint32_t)packed, &i);
	CU_ASSERT_EQUAL(i, 40 - packed);
	nlh = (void *)buf;
	CU_ASSERT_EQUAL(nlh->nlmsg_type, RTM_DELADDR);
	CU_ASSERT_EQUAL(nlh->nlmsg_seq, 1000 + packed);
	/* nothing fits in too small a buffer */
	CU_ASSERT_EQUAL(addr_msg_batch(buf, 16, RTM_NEWADDR, 3, "lo", v, 40, 1, &i), 0);
	CU_ASSERT_EQUAL(i, 0);
}

/* Answers are matched to a batch by port and sequence number. */
static void
test_batch_index(void)
{
	struct nlmsghdr h;

	memset(&h, 0, sizeof(h));
	h.nlmsg_type = NLMSG_ERROR;
	h.nlmsg_pid = 77;
	h.nlmsg_seq = 500;
	CU_ASSERT_EQUAL(addr_batch_index(&h, 77, 500, 10), 0);
	h.nlmsg_seq = 509;
	CU_ASSERT_EQUAL(addr_batch_index(&h, 77, 500, 10), 9);
	h.nlmsg_seq = 510;	/* past the batch */
	CU_ASSERT_EQUAL(addr_batch_index(&h, 77, 500, 10), -1);
	h.nlmsg_seq = 499;	/* a late answer to an earlier request */
	CU_ASSERT_EQUAL(addr_batch_index(&h, 77, 500, 10), -1);
	h.nlmsg_seq = 503;
	CU_ASSERT_EQUAL(addr_batch_index(&h, 78, 500, 10), -1);	/* another socket */
	h.nlmsg_type = RTM_NEWADDR;	/* a notification, not an answer */
	CU_ASSERT_EQUAL(addr_batch_index(&h, 77, 500, 10), -1);
	/* numbers that wrap around within a batch */
	h.nlmsg_type = NLMSG_ERROR;
	h.nlmsg_seq = 2;
	CU_ASSERT_EQUAL(addr_batch_index(&h, 77, UINT32_MAX - 1, 10), 4);
}

/* addresses.mode route: a local route in table local, tagged by protocol */
static void
test_msg_route(void)
{
	char buf[ADDR_MSG_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct ipaddr a, out;

	ipaddr_parse("10.1.2.3", &a);
	nlh = addr_msg_route(buf, RTM_NEWROUTE, 4, &a);
	rtm = mnl_nlmsg_get_payload(nlh);
	CU_ASSERT_EQUAL(rtm->rtm_family, AF_INET);
	CU_ASSERT_EQUAL(rtm->rtm_dst_len, 32);
	CU_ASSERT_EQUAL(rtm->rtm_table, RT_TABLE_LOCAL);
	CU_ASSERT_EQUAL(rtm->rtm_type, RTN_LOCAL);
	CU_ASSERT_EQUAL(rtm->rtm_scope, RT_SCOPE_HOST);
	CU_ASSERT_EQUAL(rtm->rtm_protocol, VG_RTPROT);
	CU_ASSERT(nlh->nlmsg_flags & NLM_F_EXCL);
	/* what the request says is what a dump of it is read back as */
	CU_ASSERT_EQUAL(addr_msg_route_owned(nlh, 4, &out), 1);
	CU_ASSERT(ipaddr_eq(&out, &a));
	CU_ASSERT_EQUAL(addr_msg_route_owned(nlh, 5, &out), 0);	/* another oif */
	rtm->rtm_protocol = RTPROT_KERNEL;	/* the kernel's, for an address */
	CU_ASSERT_EQUAL(addr_msg_route_owned(nlh, 4, &out), 0);
	rtm->rtm_protocol = VG_RTPROT;
	rtm->rtm_table = RT_TABLE_MAIN;
	CU_ASSERT_EQUAL(addr_msg_route_owned(nlh, 4, &out), 0);
	rtm->rtm_table = RT_TABLE_LOCAL;
	rtm->rtm_type = RTN_UNICAST;
	CU_ASSERT_EQUAL(addr_msg_route_owned(nlh, 4, &out), 0);

	ipaddr_parse("fd00::9", &a);
	nlh = addr_msg_route(buf, RTM_DELROUTE, 4, &a);
	rtm = mnl_nlmsg_get_payload(nlh);
	CU_ASSERT_EQUAL(rtm->rtm_dst_len, 128);
	CU_ASSERT(!(nlh->nlmsg_flags & NLM_F_CREATE));
	nlh->nlmsg_type = RTM_NEWROUTE;
	CU_ASSERT_EQUAL(addr_msg_route_owned(nlh, 4, &out), 1);
	CU_ASSERT(ipaddr_eq(&out, &a));
	/* a v4 header with a v6-sized destination is malformed */
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	CU_ASSERT_EQUAL(addr_msg_route_owned(nlh, 4, &out), -1);
}

static const struct cu_test tests[] = {
	{ "diff empty", test_diff_empty },
	{ "diff same", test_diff_same },
	{ "diff add only", test_diff_add_only },
	{ "diff del only", test_diff_del_only },
	{ "diff mixed", test_diff_mixed },
	{ "diff v4 and v6 order", test_diff_v4_v6 },
	{ "diff NULL callback", test_diff_null_callbacks },
	{ "message owned roundtrip", test_msg_owned_roundtrip },
	{ "message request", test_msg_request },
	{ "message ownership", test_msg_ownership },
	{ "label", test_label },
	{ "message batch", test_msg_batch },
	{ "batch answer index", test_batch_index },
	{ "message local route", test_msg_route },
	{ NULL, NULL }
};

int
main(void)
{
	return cu_run("addr", tests);
}
