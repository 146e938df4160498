/* ARP and NDP frames: build, parse back, and every malformed case. */
#include "config.h"

#include <arpa/inet.h>

#include "cu.h"
#include "vipgate/l2.h"

static const uint8_t MAC[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC2[6] = { 0x02, 0, 0, 0, 0, 0x0b };

static void
v6(const char *s, uint8_t out[16])
{
	CU_ASSERT_FATAL(inet_pton(AF_INET6, s, out) == 1);
}

static void
test_garp(void)
{
	uint8_t vip[4] = { 192, 0, 2, 10 }, buf[128];
	struct l2_arp a;
	size_t n;

	n = l2_garp_build(buf, sizeof(buf), MAC, vip, L2_ARP_REQUEST);
	CU_ASSERT_EQUAL(n, L2_ETH_MINFRAME);
	CU_ASSERT_EQUAL(l2_arp_parse(buf, n, &a), L2_ARP_FRAMELEN);
	CU_ASSERT_EQUAL(a.op, L2_ARP_REQUEST);
	CU_ASSERT(memcmp(a.eth_dst, "\xff\xff\xff\xff\xff\xff", 6) == 0);
	CU_ASSERT(memcmp(a.eth_src, MAC, 6) == 0);
	CU_ASSERT(memcmp(a.sha, MAC, 6) == 0);
	CU_ASSERT(memcmp(a.spa, vip, 4) == 0);
	CU_ASSERT(memcmp(a.tpa, vip, 4) == 0);
	CU_ASSERT(memcmp(a.tha, "\0\0\0\0\0\0", 6) == 0);
	/* byte-exact: what arping -U sends */
	CU_ASSERT(memcmp(buf + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10) == 0);
	CU_ASSERT(memcmp(buf + 42, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 18) == 0);

	n = l2_garp_build(buf, sizeof(buf), MAC, vip, L2_ARP_REPLY);
	CU_ASSERT_EQUAL(l2_arp_parse(buf, n, &a), L2_ARP_FRAMELEN);
	CU_ASSERT_EQUAL(a.op, L2_ARP_REPLY);
	CU_ASSERT(memcmp(a.tha, MAC, 6) == 0);
	CU_ASSERT_EQUAL(l2_garp_build(buf, L2_ETH_MINFRAME - 1, MAC, vip, 1), 0);
}

static void
test_arp_reply(void)
{
	struct l2_arp req, rep;
	uint8_t buf[64];
	size_t n;

	memset(&req, 0, sizeof(req));
	memset(req.eth_dst, 0xff, 6);
	memcpy(req.eth_src, MAC2, 6);
	req.op = L2_ARP_REQUEST;
	memcpy(req.sha, MAC2, 6);
	memcpy(req.spa, "\xc0\x00\x02\x01", 4);
	memcpy(req.tpa, "\xc0\x00\x02\x0a", 4);
	n = l2_arp_build(buf, sizeof(buf), &req);
	CU_ASSERT_EQUAL(l2_arp_parse(buf, n, &rep), L2_ARP_FRAMELEN);
	CU_ASSERT(memcmp(&req, &rep, sizeof(req)) == 0);

	n = l2_arp_reply_build(buf, sizeof(buf), &req, MAC);
	CU_ASSERT_EQUAL(l2_arp_parse(buf, n, &rep), L2_ARP_FRAMELEN);
	CU_ASSERT_EQUAL(rep.op, L2_ARP_REPLY);
	CU_ASSERT(memcmp(rep.eth_dst, MAC2, 6) == 0);
	CU_ASSERT(memcmp(rep.eth_src, MAC, 6) == 0);
	CU_ASSERT(memcmp(rep.sha, MAC, 6) == 0);
	CU_ASSERT(memcmp(rep.spa, req.tpa, 4) == 0);
	CU_ASSERT(memcmp(rep.tha, MAC2, 6) == 0);
	CU_ASSERT(memcmp(rep.tpa, req.spa, 4) == 0);
}

static void
test_arp_malformed(void)
{
	uint8_t vip[4] = { 192, 0, 2, 10 }, good[64], buf[64];
	struct l2_arp a;
	size_t n, i;
	static const struct {
		size_t off;
		uint8_t val;
		int err;
	} pokes[] = {
		{ 12, 0x08, 0 },		/* control: unchanged */
		{ 13, 0x00, L2_E_ETHERTYPE },	/* IPv4 */
		{ 15, 0x06, L2_E_HTYPE },	/* IEEE 802 */
		{ 16, 0x86, L2_E_PTYPE },
		{ 18, 0x08, L2_E_HLEN },
		{ 19, 0x10, L2_E_HLEN },
		{ 21, 0x03, L2_E_OP },		/* RARP request */
		{ 20, 0x01, L2_E_OP },
		{ 21, 0x00, L2_E_OP },
	};

	n = l2_garp_build(good, sizeof(good), MAC, vip, L2_ARP_REQUEST);
	for (i = 0; i < VG_ARRAY_SIZE(pokes); i++) {
		memcpy(buf, good, n);
		buf[pokes[i].off] = pokes[i].val;
		CU_ASSERT_EQUAL(l2_arp_parse(buf, n, &a),
		    pokes[i].err ? pokes[i].err : L2_ARP_FRAMELEN);
	}
	/* every truncation, down to nothing */
	for (i = 0; i < L2_ARP_FRAMELEN; i++)
		CU_ASSERT_EQUAL(l2_arp_parse(good, i, &a), L2_E_SHORT);
	CU_ASSERT_EQUAL(l2_arp_parse(NULL, 0, &a), L2_E_SHORT);
	/* a truncated header of another protocol is short, a full one is wrong type */
	memcpy(buf, good, n);
	buf[13] = 0;
	CU_ASSERT_EQUAL(l2_arp_parse(buf, 14, &a), L2_E_ETHERTYPE);
	CU_ASSERT_STRING_EQUAL(l2_strerror(L2_E_OP), "ARP operation is not request or reply");
}

static size_t
make_ns(uint8_t *buf, size_t cap, const char *src, const char *target, int sll)
{
	struct l2_ns ns;
	uint8_t g[16], gm[6];

	memset(&ns, 0, sizeof(ns));
	v6(src, ns.src);
	v6(target, ns.target);
	l2_solicited_node(ns.target, g, gm);
	memcpy(ns.dst, g, 16);
	memcpy(ns.eth_dst, gm, 6);
	memcpy(ns.eth_src, MAC2, 6);
	ns.has_sll = sll;
	memcpy(ns.sll, MAC2, 6);
	return l2_ns_build(buf, cap, &ns);
}

static void
test_solicited_node(void)
{
	uint8_t a[16], g[16], m[6], want[16];

	v6("2001:db8::1:2345:6789", a);
	l2_solicited_node(a, g, m);
	v6("ff02::1:ff45:6789", want);
	CU_ASSERT(memcmp(g, want, 16) == 0);
	CU_ASSERT(memcmp(m, "\x33\x33\xff\x45\x67\x89", 6) == 0);
}

static void
test_ns_na(void)
{
	uint8_t buf[256], vip[16], ll[16];
	struct l2_ns ns;
	struct l2_na na;
	size_t n;

	n = make_ns(buf, sizeof(buf), "2001:db8::99", "2001:db8::10", 1);
	CU_ASSERT_EQUAL(n, 14 + 40 + 32);
	CU_ASSERT_EQUAL(l2_ns_parse(buf, n, &ns), (int)n);
	CU_ASSERT(ns.has_sll);
	CU_ASSERT(memcmp(ns.sll, MAC2, 6) == 0);
	v6("2001:db8::10", vip);
	CU_ASSERT(memcmp(ns.target, vip, 16) == 0);
	/* Ethernet padding after the IPv6 payload is ignored */
	memset(buf + n, 0xee, 20);
	CU_ASSERT_EQUAL(l2_ns_parse(buf, n + 20, &ns), (int)n);

	/* the answer: S=1, O=0, unicast back, TLL = our MAC, from the VIP */
	n = l2_na_reply_build(buf, sizeof(buf), &ns, MAC);
	CU_ASSERT_EQUAL(n, L2_NA_FRAMELEN);
	CU_ASSERT_EQUAL(l2_na_parse(buf, n, &na), (int)n);
	CU_ASSERT_EQUAL(na.flags, L2_NA_S);
	CU_ASSERT(na.has_tll);
	CU_ASSERT(memcmp(na.tll, MAC, 6) == 0);
	CU_ASSERT(memcmp(na.eth_dst, MAC2, 6) == 0);
	CU_ASSERT(memcmp(na.dst, ns.src, 16) == 0);
	CU_ASSERT(memcmp(na.src, vip, 16) == 0);
	CU_ASSERT(memcmp(na.target, vip, 16) == 0);
	CU_ASSERT_EQUAL(buf[14 + 7], 255);	/* hop limit */

	/* unsolicited: to ff02::1 from the link-local address, O=1 */
	v6("fe80::1", ll);
	n = l2_unsolicited_na_build(buf, sizeof(buf), MAC, ll, vip);
	CU_ASSERT_EQUAL(l2_na_parse(buf, n, &na), (int)n);
	CU_ASSERT_EQUAL(na.flags, L2_NA_O);
	CU_ASSERT(memcmp(na.eth_dst, "\x33\x33\0\0\0\x01", 6) == 0);
	CU_ASSERT(memcmp(na.src, ll, 16) == 0);
	CU_ASSERT_EQUAL(na.dst[0], 0xff);
	CU_ASSERT_EQUAL(na.dst[15], 0x01);
	CU_ASSERT_EQUAL(l2_na_build(buf, L2_NA_FRAMELEN - 1, &na), 0);

	/* an NS is not an NA and the other way round */
	n = make_ns(buf, sizeof(buf), "2001:db8::99", "2001:db8::10", 1);
	CU_ASSERT_EQUAL(l2_na_parse(buf, n, &na), L2_E_ICMPTYPE);
	n = l2_unsolicited_na_build(buf, sizeof(buf), MAC, ll, vip);
	CU_ASSERT_EQUAL(l2_ns_parse(buf, n, &ns), L2_E_ICMPTYPE);

	/* DAD probe: from ::, no SLL; the answer goes to all nodes with S=0 */
	n = make_ns(buf, sizeof(buf), "::", "2001:db8::10", 0);
	CU_ASSERT_EQUAL(l2_ns_parse(buf, n, &ns), (int)n);
	n = l2_na_reply_build(buf, sizeof(buf), &ns, MAC);
	CU_ASSERT_EQUAL(l2_na_parse(buf, n, &na), (int)n);
	CU_ASSERT_EQUAL(na.flags, 0);
	CU_ASSERT_EQUAL(na.dst[0], 0xff);
}

/* Recompute the ICMPv6 checksum after a poke, so only the poked check fails. */
static void
fix_csum(uint8_t *buf, size_t n)
{
	struct l2_ns ns;
	uint32_t sum = 0;
	size_t i, plen = (size_t)(buf[18] << 8 | buf[19]);

	(void)ns;
	if (54 + plen > n)
		return;
	buf[56] = buf[57] = 0;
	for (i = 22; i < 54; i += 2)
		sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
	sum += (uint32_t)plen + 58;
	for (i = 0; i + 1 < plen; i += 2)
		sum += (uint32_t)(buf[54 + i] << 8 | buf[55 + i]);
	if (plen & 1)
		sum += (uint32_t)(buf[54 + plen - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	buf[56] = (uint8_t)(~sum >> 8);
	buf[57] = (uint8_t)~sum;
}

static void
test_ns_malformed(void)
{
	uint8_t good[256], buf[256];
	struct l2_ns ns;
	size_t n, i;
	static const struct {
		const char *what;
		size_t off;
		uint8_t val;
		int fix, err;
	} pokes[] = {
		{ "control", 0, 0x33, 1, 0 },
		{ "ethertype", 13, 0x00, 1, L2_E_ETHERTYPE },
		{ "IP version 4", 14, 0x40, 1, L2_E_IPVER },
		{ "hop-by-hop header", 20, 0, 1, L2_E_NEXTHDR },
		{ "hop limit 64", 21, 64, 1, L2_E_HOPLIMIT },
		{ "payload length past the frame", 19, 33, 0, L2_E_PAYLOADLEN },
		{ "payload length cuts the header", 19, 20, 0, L2_E_SHORT },
		{ "echo request", 54, 128, 1, L2_E_ICMPTYPE },
		{ "code 1", 55, 1, 1, L2_E_ICMPTYPE },
		{ "checksum", 57, 0x5a, 0, L2_E_CHECKSUM },
		{ "multicast target", 62, 0xff, 1, L2_E_TARGET },
		{ "option length 0", 79, 0, 1, L2_E_OPTION },
		{ "option past the end", 79, 2, 1, L2_E_OPTION },
	};

	n = make_ns(good, sizeof(good), "2001:db8::99", "2001:db8::10", 1);
	for (i = 0; i < VG_ARRAY_SIZE(pokes); i++) {
		int r;

		memcpy(buf, good, n);
		buf[pokes[i].off] = pokes[i].val;
		if (pokes[i].fix)
			fix_csum(buf, n);
		r = l2_ns_parse(buf, n, &ns);
		if (r != (pokes[i].err ? pokes[i].err : (int)n))
			fprintf(stderr, "%s: got %d (%s)\n", pokes[i].what, r, l2_strerror(r));
		CU_ASSERT_EQUAL(r, pokes[i].err ? pokes[i].err : (int)n);
	}
	for (i = 0; i < n; i++)
		CU_ASSERT(l2_ns_parse(good, i, &ns) < 0);
	/* DAD probe with an SLL option, or not to the solicited-node group */
	n = make_ns(buf, sizeof(buf), "::", "2001:db8::10", 1);
	CU_ASSERT_EQUAL(l2_ns_parse(buf, n, &ns), L2_E_SOURCE);
	n = make_ns(buf, sizeof(buf), "::", "2001:db8::10", 0);
	buf[14 + 24 + 15] ^= 1;
	fix_csum(buf, n);
	CU_ASSERT_EQUAL(l2_ns_parse(buf, n, &ns), L2_E_SOURCE);
	/* an unknown option is skipped */
	n = make_ns(buf, sizeof(buf), "2001:db8::99", "2001:db8::10", 1);
	buf[78] = 14;	/* nonce */
	fix_csum(buf, n);
	CU_ASSERT_EQUAL(l2_ns_parse(buf, n, &ns), (int)n);
	CU_ASSERT(!ns.has_sll);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "gratuitous ARP request and reply", test_garp },
		{ "ARP request parsed, reply built", test_arp_reply },
		{ "ARP malformed and truncated", test_arp_malformed },
		{ "solicited-node group", test_solicited_node },
		{ "NS parsed, NA built (solicited, unsolicited, DAD)", test_ns_na },
		{ "NS malformed and truncated", test_ns_malformed },
		{ NULL, NULL },
	};

	return cu_run("l2 frames", tests);
}
