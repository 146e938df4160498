/*
 * ARP (RFC 826, gratuitous forms of RFC 5227 3) and NDP (RFC 4861 4.3, 4.4)
 * frames with their Ethernet header. Pure: bytes in, struct out, and back.
 * Wire bytes are read and written only through the bounded reader and
 * writer of vipgate/wire.h.
 */
#include "config.h"

#include <string.h>

#include "vipgate/l2.h"
#include "vipgate/wire.h"

static const uint8_t eth_bcast[L2_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };

const char *
l2_strerror(int e)
{
	switch (e) {
	case L2_E_SHORT: return "truncated";
	case L2_E_ETHERTYPE: return "wrong ethertype";
	case L2_E_HTYPE: return "ARP hardware type is not Ethernet";
	case L2_E_PTYPE: return "ARP protocol type is not IPv4";
	case L2_E_HLEN: return "ARP address lengths are not 6/4";
	case L2_E_OP: return "ARP operation is not request or reply";
	case L2_E_IPVER: return "IP version is not 6";
	case L2_E_NEXTHDR: return "next header is not ICMPv6";
	case L2_E_HOPLIMIT: return "hop limit is not 255";
	case L2_E_ICMPTYPE: return "wrong ICMPv6 type or code";
	case L2_E_CHECKSUM: return "bad ICMPv6 checksum";
	case L2_E_OPTION: return "malformed NDP option";
	case L2_E_TARGET: return "multicast NDP target";
	case L2_E_SOURCE: return "NS from the unspecified address is malformed";
	case L2_E_PAYLOADLEN: return "IPv6 payload length beyond the frame";
	case L2_E_MAGIC: return "not a vipgate heartbeat";
	case L2_E_VERSION: return "unknown heartbeat version";
	case L2_E_TYPE: return "unknown heartbeat type";
	case L2_E_NAME: return "bad node name";
	case L2_E_HMAC: return "HMAC mismatch";
	case L2_E_TRAILING: return "trailing bytes";
	case L2_E_TLV: return "bad TLV";
	}
	return "unknown error";
}

/* ---- ARP ---- */

int
l2_arp_parse(const uint8_t *buf, size_t len, struct l2_arp *a)
{
	struct wire_rd c;
	uint16_t type, htype, ptype;
	uint8_t hlen, plen;

	wire_rd_init(&c, buf, len);
	memset(a, 0, sizeof(*a));
	wire_get_bytes(&c, a->eth_dst, L2_ETH_ALEN);
	wire_get_bytes(&c, a->eth_src, L2_ETH_ALEN);
	type = wire_get_u16(&c);
	if (c.err)
		return L2_E_SHORT;
	if (type != L2_ETH_P_ARP)
		return L2_E_ETHERTYPE;
	htype = wire_get_u16(&c);
	ptype = wire_get_u16(&c);
	hlen = wire_get_u8(&c);
	plen = wire_get_u8(&c);
	a->op = wire_get_u16(&c);
	if (c.err)
		return L2_E_SHORT;
	if (htype != 1)
		return L2_E_HTYPE;
	if (ptype != 0x0800)
		return L2_E_PTYPE;
	if (hlen != L2_ETH_ALEN || plen != 4)
		return L2_E_HLEN;
	if (a->op != L2_ARP_REQUEST && a->op != L2_ARP_REPLY)
		return L2_E_OP;
	wire_get_bytes(&c, a->sha, L2_ETH_ALEN);
	wire_get_bytes(&c, a->spa, 4);
	wire_get_bytes(&c, a->tha, L2_ETH_ALEN);
	wire_get_bytes(&c, a->tpa, 4);
	if (c.err)
		return L2_E_SHORT;
	return (int)wire_off(&c);
}

size_t
l2_arp_build(uint8_t *buf, size_t cap, const struct l2_arp *a)
{
	struct wire_wr w;

	if (cap < L2_ETH_MINFRAME)
		return 0;
	wire_wr_init(&w, buf, cap);
	wire_put_bytes(&w, a->eth_dst, L2_ETH_ALEN);
	wire_put_bytes(&w, a->eth_src, L2_ETH_ALEN);
	wire_put_u16(&w, L2_ETH_P_ARP);
	wire_put_u16(&w, 1);
	wire_put_u16(&w, 0x0800);
	wire_put_u8(&w, L2_ETH_ALEN);
	wire_put_u8(&w, 4);
	wire_put_u16(&w, a->op);
	wire_put_bytes(&w, a->sha, L2_ETH_ALEN);
	wire_put_bytes(&w, a->spa, 4);
	wire_put_bytes(&w, a->tha, L2_ETH_ALEN);
	wire_put_bytes(&w, a->tpa, 4);
	/* padded to the Ethernet minimum: veth does not pad, switches drop runts */
	wire_put_zero(&w, L2_ETH_MINFRAME - w.len);
	return L2_ETH_MINFRAME;
}

/*
 * RFC 5227 3: SPA = TPA = the address. The request form carries a zero THA
 * (as Linux' arping -U), the reply form our MAC (arping -U -P; MetalLB sends
 * both because some stacks only learn from one of them).
 */
size_t
l2_garp_build(uint8_t *buf, size_t cap, const uint8_t mac[6], const uint8_t vip[4],
    uint16_t op)
{
	struct l2_arp a;

	memset(&a, 0, sizeof(a));
	memcpy(a.eth_dst, eth_bcast, L2_ETH_ALEN);
	memcpy(a.eth_src, mac, L2_ETH_ALEN);
	a.op = op;
	memcpy(a.sha, mac, L2_ETH_ALEN);
	memcpy(a.spa, vip, 4);
	if (op == L2_ARP_REPLY)
		memcpy(a.tha, mac, L2_ETH_ALEN);
	memcpy(a.tpa, vip, 4);
	return l2_arp_build(buf, cap, &a);
}

size_t
l2_arp_reply_build(uint8_t *buf, size_t cap, const struct l2_arp *req, const uint8_t mac[6])
{
	struct l2_arp a;

	memset(&a, 0, sizeof(a));
	memcpy(a.eth_dst, req->sha, L2_ETH_ALEN);
	memcpy(a.eth_src, mac, L2_ETH_ALEN);
	a.op = L2_ARP_REPLY;
	memcpy(a.sha, mac, L2_ETH_ALEN);
	memcpy(a.spa, req->tpa, 4);
	memcpy(a.tha, req->sha, L2_ETH_ALEN);
	memcpy(a.tpa, req->spa, 4);
	return l2_arp_build(buf, cap, &a);
}

/* ---- NDP ---- */

#define ICMP6_NS	135
#define ICMP6_NA	136
#define NDOPT_SLL	1
#define NDOPT_TLL	2

/* RFC 4443 2.3: over the pseudo-header (RFC 8200 8.1) and the message. */
static uint16_t
icmp6_csum(const uint8_t src[16], const uint8_t dst[16], const uint8_t *msg, size_t len)
{
	struct wire_rd m;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < 16; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + 58;
	wire_rd_init(&m, msg, len);
	while (wire_left(&m) >= 2)
		sum += wire_get_u16(&m);
	if (wire_left(&m) == 1)
		sum += (uint32_t)wire_get_u8(&m) << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Ethernet + IPv6 + ICMPv6 of the given type: checks what RFC 4861 7.1.1/
 * 7.1.2 ask of every NS/NA. c ends after the IPv6 payload, *icmp is left
 * at the options.
 */
static int
nd_parse_head(struct wire_rd *c, uint8_t eth_dst[6], uint8_t eth_src[6], uint8_t src[16],
    uint8_t dst[16], uint8_t type, uint32_t *word, uint8_t target[16], struct wire_rd *icmp)
{
	uint16_t etype, plen;
	uint32_t vtcfl;
	uint8_t nh, hl, itype, code;
	const uint8_t *msg;

	wire_get_bytes(c, eth_dst, L2_ETH_ALEN);
	wire_get_bytes(c, eth_src, L2_ETH_ALEN);
	etype = wire_get_u16(c);
	if (c->err)
		return L2_E_SHORT;
	if (etype != L2_ETH_P_IPV6)
		return L2_E_ETHERTYPE;
	vtcfl = wire_get_u32(c);
	plen = wire_get_u16(c);
	nh = wire_get_u8(c);
	hl = wire_get_u8(c);
	wire_get_bytes(c, src, 16);
	wire_get_bytes(c, dst, 16);
	if (c->err)
		return L2_E_SHORT;
	if (vtcfl >> 28 != 6)
		return L2_E_IPVER;
	if (nh != 58)
		return L2_E_NEXTHDR;
	if (plen > wire_left(c))
		return L2_E_PAYLOADLEN;
	/* Ethernet padding after the payload is not ours */
	wire_get_sub(c, plen, icmp);
	msg = wire_data(icmp);
	itype = wire_get_u8(icmp);
	code = wire_get_u8(icmp);
	wire_skip(icmp, 2);
	*word = wire_get_u32(icmp);
	wire_get_bytes(icmp, target, 16);
	if (icmp->err)
		return L2_E_SHORT;
	if (itype != type || code != 0)
		return L2_E_ICMPTYPE;
	if (hl != 255)
		return L2_E_HOPLIMIT;
	if (icmp6_csum(src, dst, msg, plen) != 0)
		return L2_E_CHECKSUM;
	if (target[0] == 0xff)
		return L2_E_TARGET;
	return 0;
}

/* Walks the options; keeps the link-layer address option of type want. */
static int
nd_parse_opts(struct wire_rd *c, uint8_t want, int *has, uint8_t ll[6])
{
	while (wire_left(c) > 0) {
		uint8_t t = wire_get_u8(c), l = wire_get_u8(c);

		if (c->err)
			return L2_E_SHORT;
		if (l == 0 || (size_t)l * 8 - 2 > wire_left(c))
			return L2_E_OPTION;
		if (t == want && l == 1) {
			wire_get_bytes(c, ll, L2_ETH_ALEN);
			*has = 1;
		} else {
			wire_skip(c, (size_t)l * 8 - 2);
		}
	}
	return 0;
}

int
l2_ns_parse(const uint8_t *buf, size_t len, struct l2_ns *ns)
{
	static const uint8_t unspec[16];
	struct wire_rd c, icmp;
	uint32_t word;
	int r;

	wire_rd_init(&c, buf, len);
	memset(ns, 0, sizeof(*ns));
	r = nd_parse_head(&c, ns->eth_dst, ns->eth_src, ns->src, ns->dst, ICMP6_NS, &word,
	    ns->target, &icmp);
	if (r < 0)
		return r;
	if ((r = nd_parse_opts(&icmp, NDOPT_SLL, &ns->has_sll, ns->sll)) < 0)
		return r;
	/* RFC 4861 7.1.1: DAD probes go to the solicited-node group, without SLL */
	if (memcmp(ns->src, unspec, 16) == 0) {
		uint8_t g[16], m[6];

		l2_solicited_node(ns->target, g, m);
		if (ns->has_sll || memcmp(ns->dst, g, 16) != 0)
			return L2_E_SOURCE;
	}
	return (int)wire_off(&c);
}

int
l2_na_parse(const uint8_t *buf, size_t len, struct l2_na *na)
{
	struct wire_rd c, icmp;
	uint32_t word;
	int r;

	wire_rd_init(&c, buf, len);
	memset(na, 0, sizeof(*na));
	r = nd_parse_head(&c, na->eth_dst, na->eth_src, na->src, na->dst, ICMP6_NA, &word,
	    na->target, &icmp);
	if (r < 0)
		return r;
	na->flags = (uint8_t)(word >> 24) & (L2_NA_R | L2_NA_S | L2_NA_O);
	if ((r = nd_parse_opts(&icmp, NDOPT_TLL, &na->has_tll, na->tll)) < 0)
		return r;
	return (int)wire_off(&c);
}

/* Ethernet + IPv6 header + ICMPv6 body (checksum filled in). */
static size_t
nd_build(uint8_t *buf, size_t cap, const uint8_t eth_dst[6], const uint8_t eth_src[6],
    const uint8_t src[16], const uint8_t dst[16], uint8_t type, uint8_t flags,
    const uint8_t target[16], uint8_t opt, int has_ll, const uint8_t ll[6])
{
	size_t icmplen = 24 + (has_ll ? 8 : 0), n = 14 + 40 + icmplen, icmp, csum;
	struct wire_wr w;

	if (cap < n)
		return 0;
	wire_wr_init(&w, buf, cap);
	wire_put_bytes(&w, eth_dst, L2_ETH_ALEN);
	wire_put_bytes(&w, eth_src, L2_ETH_ALEN);
	wire_put_u16(&w, L2_ETH_P_IPV6);
	wire_put_u32(&w, 0x60000000u);	/* version 6, traffic class and flow label 0 */
	wire_put_u16(&w, (uint16_t)icmplen);
	wire_put_u8(&w, 58);
	wire_put_u8(&w, 255);
	wire_put_bytes(&w, src, 16);
	wire_put_bytes(&w, dst, 16);
	icmp = w.len;
	wire_put_u8(&w, type);
	wire_put_u8(&w, 0);
	csum = wire_reserve(&w, 2);
	wire_put_u32(&w, (uint32_t)flags << 24);
	wire_put_bytes(&w, target, 16);
	if (has_ll) {
		wire_put_u8(&w, opt);
		wire_put_u8(&w, 1);
		wire_put_bytes(&w, ll, L2_ETH_ALEN);
	}
	wire_set_u16(&w, csum, icmp6_csum(src, dst, buf + icmp, icmplen));
	return n;
}

size_t
l2_ns_build(uint8_t *buf, size_t cap, const struct l2_ns *ns)
{
	return nd_build(buf, cap, ns->eth_dst, ns->eth_src, ns->src, ns->dst, ICMP6_NS, 0,
	    ns->target, NDOPT_SLL, ns->has_sll, ns->sll);
}

size_t
l2_na_build(uint8_t *buf, size_t cap, const struct l2_na *na)
{
	return nd_build(buf, cap, na->eth_dst, na->eth_src, na->src, na->dst, ICMP6_NA,
	    na->flags, na->target, NDOPT_TLL, na->has_tll, na->tll);
}

void
l2_solicited_node(const uint8_t addr[16], uint8_t group[16], uint8_t mac[6])
{
	static const uint8_t pfx[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

	memcpy(group, pfx, 13);
	memcpy(group + 13, addr + 13, 3);
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, group + 12, 4);
}

/* MetalLB (internal/layer2/ndp.go): to ff02::1 from the link-local address, O=1, S=0. */
size_t
l2_unsolicited_na_build(uint8_t *buf, size_t cap, const uint8_t mac[6], const uint8_t src[16],
    const uint8_t vip[16])
{
	struct l2_na na;

	memset(&na, 0, sizeof(na));
	na.eth_dst[0] = 0x33;
	na.eth_dst[1] = 0x33;
	na.eth_dst[5] = 0x01;
	memcpy(na.eth_src, mac, L2_ETH_ALEN);
	memcpy(na.src, src, 16);
	memcpy(na.dst, all_nodes, 16);
	na.flags = L2_NA_O;
	memcpy(na.target, vip, 16);
	na.has_tll = 1;
	memcpy(na.tll, mac, L2_ETH_ALEN);
	return l2_na_build(buf, cap, &na);
}

/*
 * RFC 4861 7.2.4: S=1, sent to the solicitation's source (ff02::1 when that
 * is unspecified, with S=0). O=0 as MetalLB sends it. The source is the
 * target itself, as Linux answers for its own addresses.
 */
size_t
l2_na_reply_build(uint8_t *buf, size_t cap, const struct l2_ns *ns, const uint8_t mac[6])
{
	static const uint8_t unspec[16];
	struct l2_na na;

	memset(&na, 0, sizeof(na));
	memcpy(na.eth_src, mac, L2_ETH_ALEN);
	memcpy(na.src, ns->target, 16);
	if (memcmp(ns->src, unspec, 16) == 0) {
		na.eth_dst[0] = 0x33;
		na.eth_dst[1] = 0x33;
		na.eth_dst[5] = 0x01;
		memcpy(na.dst, all_nodes, 16);
	} else {
		memcpy(na.eth_dst, ns->has_sll ? ns->sll : ns->eth_src, L2_ETH_ALEN);
		memcpy(na.dst, ns->src, 16);
		na.flags = L2_NA_S;
	}
	memcpy(na.target, ns->target, 16);
	na.has_tll = 1;
	memcpy(na.tll, mac, L2_ETH_ALEN);
	return l2_na_build(buf, cap, &na);
}
