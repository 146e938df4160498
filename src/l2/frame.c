/*
 * ARP (RFC 826, gratuitous forms of RFC 5227 3) and NDP (RFC 4861 4.3, 4.4)
 * frames with their Ethernet header. Pure: bytes in, struct out, and back.
 * Wire bytes are read only through the bounds-checked cursor below.
 */
#include "config.h"

#include <string.h>

#include "vipgate/l2.h"

struct cur {
	const uint8_t	*p;
	size_t		 len, off;
	int		 err;
};

static int
cur_need(struct cur *c, size_t n)
{
	if (c->err || c->len - c->off < n) {
		c->err = 1;
		return 0;
	}
	return 1;
}

static uint8_t
get_u8(struct cur *c)
{
	return cur_need(c, 1) ? c->p[c->off++] : 0;
}

static uint16_t
get_u16(struct cur *c)
{
	uint16_t v;

	if (!cur_need(c, 2))
		return 0;
	v = (uint16_t)(c->p[c->off] << 8 | c->p[c->off + 1]);
	c->off += 2;
	return v;
}

static uint32_t
get_u32(struct cur *c)
{
	uint32_t hi = get_u16(c);

	return hi << 16 | get_u16(c);
}

static void
get_bytes(struct cur *c, void *dst, size_t n)
{
	if (!cur_need(c, n)) {
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, c->p + c->off, n);
	c->off += n;
}

static uint8_t *
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *
put_bytes(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

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
	}
	return "unknown error";
}

/* ---- ARP ---- */

int
l2_arp_parse(const uint8_t *buf, size_t len, struct l2_arp *a)
{
	struct cur c = { buf, len, 0, 0 };
	uint16_t type, htype, ptype;
	uint8_t hlen, plen;

	memset(a, 0, sizeof(*a));
	get_bytes(&c, a->eth_dst, L2_ETH_ALEN);
	get_bytes(&c, a->eth_src, L2_ETH_ALEN);
	type = get_u16(&c);
	if (c.err)
		return L2_E_SHORT;
	if (type != L2_ETH_P_ARP)
		return L2_E_ETHERTYPE;
	htype = get_u16(&c);
	ptype = get_u16(&c);
	hlen = get_u8(&c);
	plen = get_u8(&c);
	a->op = get_u16(&c);
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
	get_bytes(&c, a->sha, L2_ETH_ALEN);
	get_bytes(&c, a->spa, 4);
	get_bytes(&c, a->tha, L2_ETH_ALEN);
	get_bytes(&c, a->tpa, 4);
	if (c.err)
		return L2_E_SHORT;
	return (int)c.off;
}

size_t
l2_arp_build(uint8_t *buf, size_t cap, const struct l2_arp *a)
{
	uint8_t *p = buf;

	if (cap < L2_ETH_MINFRAME)
		return 0;
	memset(buf, 0, L2_ETH_MINFRAME);
	p = put_bytes(p, a->eth_dst, L2_ETH_ALEN);
	p = put_bytes(p, a->eth_src, L2_ETH_ALEN);
	p = put_u16(p, L2_ETH_P_ARP);
	p = put_u16(p, 1);
	p = put_u16(p, 0x0800);
	*p++ = L2_ETH_ALEN;
	*p++ = 4;
	p = put_u16(p, a->op);
	p = put_bytes(p, a->sha, L2_ETH_ALEN);
	p = put_bytes(p, a->spa, 4);
	p = put_bytes(p, a->tha, L2_ETH_ALEN);
	(void)put_bytes(p, a->tpa, 4);
	/* padded to the Ethernet minimum: veth does not pad, switches drop runts */
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
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < 16; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + 58;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(msg[i] << 8 | msg[i + 1]);
	if (len & 1)
		sum += (uint32_t)(msg[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Ethernet + IPv6 + ICMPv6 of the given type: checks what RFC 4861 7.1.1/
 * 7.1.2 ask of every NS/NA, leaves the cursor at the options.
 */
static int
nd_parse_head(struct cur *c, uint8_t eth_dst[6], uint8_t eth_src[6], uint8_t src[16],
    uint8_t dst[16], uint8_t type, uint32_t *word, uint8_t target[16])
{
	uint16_t etype, plen;
	uint32_t vtcfl;
	uint8_t nh, hl, itype, code;
	const uint8_t *icmp;

	get_bytes(c, eth_dst, L2_ETH_ALEN);
	get_bytes(c, eth_src, L2_ETH_ALEN);
	etype = get_u16(c);
	if (c->err)
		return L2_E_SHORT;
	if (etype != L2_ETH_P_IPV6)
		return L2_E_ETHERTYPE;
	vtcfl = get_u32(c);
	plen = get_u16(c);
	nh = get_u8(c);
	hl = get_u8(c);
	get_bytes(c, src, 16);
	get_bytes(c, dst, 16);
	if (c->err)
		return L2_E_SHORT;
	if (vtcfl >> 28 != 6)
		return L2_E_IPVER;
	if (nh != 58)
		return L2_E_NEXTHDR;
	if (plen > c->len - c->off)
		return L2_E_PAYLOADLEN;
	/* Ethernet padding after the payload is not ours */
	c->len = c->off + plen;
	icmp = c->p + c->off;
	itype = get_u8(c);
	code = get_u8(c);
	(void)get_u16(c);
	*word = get_u32(c);
	get_bytes(c, target, 16);
	if (c->err)
		return L2_E_SHORT;
	if (itype != type || code != 0)
		return L2_E_ICMPTYPE;
	if (hl != 255)
		return L2_E_HOPLIMIT;
	if (icmp6_csum(src, dst, icmp, plen) != 0)
		return L2_E_CHECKSUM;
	if (target[0] == 0xff)
		return L2_E_TARGET;
	return 0;
}

/* Walks the options; keeps the link-layer address option of type want. */
static int
nd_parse_opts(struct cur *c, uint8_t want, int *has, uint8_t ll[6])
{
	while (c->off < c->len) {
		uint8_t t = get_u8(c), l = get_u8(c);

		if (c->err)
			return L2_E_SHORT;
		if (l == 0 || (size_t)l * 8 - 2 > c->len - c->off)
			return L2_E_OPTION;
		if (t == want && l == 1) {
			get_bytes(c, ll, L2_ETH_ALEN);
			*has = 1;
		} else {
			c->off += (size_t)l * 8 - 2;
		}
	}
	return 0;
}

int
l2_ns_parse(const uint8_t *buf, size_t len, struct l2_ns *ns)
{
	static const uint8_t unspec[16];
	struct cur c = { buf, len, 0, 0 };
	uint32_t word;
	int r;

	memset(ns, 0, sizeof(*ns));
	r = nd_parse_head(&c, ns->eth_dst, ns->eth_src, ns->src, ns->dst, ICMP6_NS, &word,
	    ns->target);
	if (r < 0)
		return r;
	if ((r = nd_parse_opts(&c, NDOPT_SLL, &ns->has_sll, ns->sll)) < 0)
		return r;
	/* RFC 4861 7.1.1: DAD probes go to the solicited-node group, without SLL */
	if (memcmp(ns->src, unspec, 16) == 0) {
		uint8_t g[16], m[6];

		l2_solicited_node(ns->target, g, m);
		if (ns->has_sll || memcmp(ns->dst, g, 16) != 0)
			return L2_E_SOURCE;
	}
	return (int)c.len;
}

int
l2_na_parse(const uint8_t *buf, size_t len, struct l2_na *na)
{
	struct cur c = { buf, len, 0, 0 };
	uint32_t word;
	int r;

	memset(na, 0, sizeof(*na));
	r = nd_parse_head(&c, na->eth_dst, na->eth_src, na->src, na->dst, ICMP6_NA, &word,
	    na->target);
	if (r < 0)
		return r;
	na->flags = (uint8_t)(word >> 24) & (L2_NA_R | L2_NA_S | L2_NA_O);
	if ((r = nd_parse_opts(&c, NDOPT_TLL, &na->has_tll, na->tll)) < 0)
		return r;
	return (int)c.len;
}

/* Ethernet + IPv6 header + ICMPv6 body (checksum filled in). */
static size_t
nd_build(uint8_t *buf, size_t cap, const uint8_t eth_dst[6], const uint8_t eth_src[6],
    const uint8_t src[16], const uint8_t dst[16], uint8_t type, uint8_t flags,
    const uint8_t target[16], uint8_t opt, int has_ll, const uint8_t ll[6])
{
	size_t icmplen = 24 + (has_ll ? 8 : 0), n = 14 + 40 + icmplen;
	uint8_t *p = buf, *icmp;
	uint16_t cs;

	if (cap < n)
		return 0;
	memset(buf, 0, n);
	p = put_bytes(p, eth_dst, L2_ETH_ALEN);
	p = put_bytes(p, eth_src, L2_ETH_ALEN);
	p = put_u16(p, L2_ETH_P_IPV6);
	*p = 0x60;
	p += 4;
	p = put_u16(p, (uint16_t)icmplen);
	*p++ = 58;
	*p++ = 255;
	p = put_bytes(p, src, 16);
	p = put_bytes(p, dst, 16);
	icmp = p;
	*p++ = type;
	*p++ = 0;
	p += 2;		/* checksum */
	*p = flags;
	p += 4;
	p = put_bytes(p, target, 16);
	if (has_ll) {
		*p++ = opt;
		*p++ = 1;
		(void)put_bytes(p, ll, L2_ETH_ALEN);
	}
	cs = icmp6_csum(src, dst, icmp, icmplen);
	(void)put_u16(icmp + 2, cs);
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
