/* L2 mode: frames, heartbeats, the live view and the desired state. */
#ifndef VIPGATE_L2_T_H
#define VIPGATE_L2_T_H

#include <stddef.h>
#include <stdint.h>
#include "vipgate/ipaddr.h"

#define L2_ETH_ALEN		6
#define L2_ETH_P_ARP		0x0806
#define L2_ETH_P_IPV6		0x86dd
#define L2_ETH_MINFRAME		60	/* without FCS: shorter frames are padded */

#define L2_ARP_REQUEST		1
#define L2_ARP_REPLY		2
#define L2_ARP_FRAMELEN		42	/* Ethernet header + ARP for IPv4 over Ethernet */

/* Decoder errors (negative returns). */
enum l2_err {
	L2_E_SHORT = -1,	/* truncated */
	L2_E_ETHERTYPE = -2,	/* not the protocol asked for */
	L2_E_HTYPE = -3,	/* ARP: not Ethernet */
	L2_E_PTYPE = -4,	/* ARP: not IPv4 */
	L2_E_HLEN = -5,		/* ARP: hlen != 6 or plen != 4 */
	L2_E_OP = -6,		/* ARP: op not request/reply */
	L2_E_IPVER = -7,	/* IPv6: version != 6 */
	L2_E_NEXTHDR = -8,	/* IPv6: not ICMPv6 (extension headers unsupported) */
	L2_E_HOPLIMIT = -9,	/* NDP: hop limit != 255 (RFC 4861 7.1) */
	L2_E_ICMPTYPE = -10,	/* not the ICMPv6 type asked for, or code != 0 */
	L2_E_CHECKSUM = -11,	/* ICMPv6 checksum */
	L2_E_OPTION = -12,	/* NDP option of length 0 or past the end */
	L2_E_TARGET = -13,	/* NDP: multicast target */
	L2_E_SOURCE = -14,	/* NS from :: not to solicited-node, or with an SLL option */
	L2_E_PAYLOADLEN = -15,	/* IPv6 payload length beyond the frame */
	L2_E_MAGIC = -16,	/* heartbeat: not ours */
	L2_E_VERSION = -17,	/* heartbeat: unknown version */
	L2_E_TYPE = -18,	/* heartbeat: unknown message type */
	L2_E_NAME = -19,	/* heartbeat: empty name or a NUL in it */
	L2_E_HMAC = -20,	/* heartbeat: authentication failed */
	L2_E_TRAILING = -21,	/* heartbeat: bytes after the HMAC */
	L2_E_TLV = -22,		/* heartbeat: a TLV past its end, or a bad deployment list */
};

/* An ARP packet for IPv4 over Ethernet, with its Ethernet header. */
struct l2_arp {
	uint8_t		eth_dst[L2_ETH_ALEN], eth_src[L2_ETH_ALEN];
	uint16_t	op;
	uint8_t		sha[L2_ETH_ALEN], spa[4];
	uint8_t		tha[L2_ETH_ALEN], tpa[4];
};

/* A Neighbor Solicitation (RFC 4861 4.3), with its Ethernet and IPv6 headers. */
struct l2_ns {
	uint8_t		eth_dst[L2_ETH_ALEN], eth_src[L2_ETH_ALEN];
	uint8_t		src[16], dst[16];
	uint8_t		target[16];
	int		has_sll;
	uint8_t		sll[L2_ETH_ALEN];	/* source link-layer address option */
};

#define L2_NA_R		0x80
#define L2_NA_S		0x40
#define L2_NA_O		0x20

/* A Neighbor Advertisement (RFC 4861 4.4), with its Ethernet and IPv6 headers. */
struct l2_na {
	uint8_t		eth_dst[L2_ETH_ALEN], eth_src[L2_ETH_ALEN];
	uint8_t		src[16], dst[16];
	uint8_t		flags;			/* L2_NA_R | L2_NA_S | L2_NA_O */
	uint8_t		target[16];
	int		has_tll;
	uint8_t		tll[L2_ETH_ALEN];	/* target link-layer address option */
};

#define L2_NA_FRAMELEN		(14 + 40 + 24 + 8)

/* Heartbeat: the UDP datagram speakers exchange (src/l2/heartbeat.c). */
#define L2_HB_ALIVE		1
#define L2_HB_LEAVE		2
/* flags (an older speaker ignores the bits it does not know): */
#define L2_HB_F_GW_DOWN		0x0001	/* the sender's gateway cannot serve: every deployment,
					   or with an L2_HB_T_GW_DEPS TLV those it names */
#define L2_HB_F_EXT_OK		0x0002	/* the sender reads heartbeats with L2_HB_F_EXT */
#define L2_HB_F_EXT		0x0004	/* TLVs follow the name, before the HMAC: sent only to a
					   peer that set L2_HB_F_EXT_OK (an older one rejects
					   them as trailing bytes) */
/* TLVs: type (u8), length (u16), value; a type not known is skipped */
#define L2_HB_T_GW_DEPS		1	/* the deployments that cannot serve: (length u8, name)... */
#define L2_HB_MAXNAME		253
#define L2_HB_MAXDEPS		32	/* more than that down: the sender says "all" */
#define L2_HB_MAXDEPNAME	63	/* a deployment's name: a DNS label */
#define L2_HB_HMACLEN		32
#define L2_HB_MAXLEN		(4 + 1 + 1 + 2 + 8 + 8 + 4 + 1 + L2_HB_MAXNAME + \
				 3 + L2_HB_MAXDEPS * (1 + L2_HB_MAXDEPNAME) + L2_HB_HMACLEN)

struct l2_hb {
	uint8_t		type;		/* L2_HB_ALIVE, L2_HB_LEAVE */
	uint16_t	flags;		/* L2_HB_F_*; older speakers send 0 */
	uint64_t	incarnation;	/* grows across restarts (wall clock ms at start) */
	uint64_t	seq;		/* grows within an incarnation */
	uint32_t	interval_ms;	/* the sender's heartbeat interval */
	char		node[L2_HB_MAXNAME + 1];
	/* L2_HB_F_EXT: the L2_HB_T_GW_DEPS TLV (built when ndeps > 0) */
	int		has_deps;
	size_t		ndeps;
	char		deps[L2_HB_MAXDEPS][L2_HB_MAXDEPNAME + 1];
};

/* Anti-replay: the highest (incarnation, seq) seen and a 64-seq window below it. */
#define L2_REPLAY_WINDOW	64
struct l2_replay {
	int		init;
	uint64_t	incarnation;
	uint64_t	top;
	uint64_t	bitmap;		/* bit i: top - i was seen */
};

/*
 * What a speaker knows of one peer (heartbeat.c drives it: heartbeats and
 * clock ticks come in as events with the time, so tests need no clock).
 */
#define L2_DEAD_INTERVALS	5
struct l2_peer_state {
	char		 node[L2_HB_MAXNAME + 1];
	int		 alive;
	int		 gw_down;	/* its last heartbeat had L2_HB_F_GW_DOWN */
	int		 ext_ok;	/* ... L2_HB_F_EXT_OK: it reads the extended form */
	/* gw_down: the deployments its heartbeat named (sorted); none: all */
	size_t		 ngw_deps;
	char		 gw_deps[L2_HB_MAXDEPS][L2_HB_MAXDEPNAME + 1];
	int64_t		 last;		/* ms, when last heard alive */
	uint32_t	 interval_ms;	/* its own heartbeat interval */
	struct l2_replay rp;
};

enum l2_peer_ev {
	L2_PEER_NONE,		/* nothing the election cares about */
	L2_PEER_ALIVE,		/* was dead or unknown, now alive */
	L2_PEER_LEFT,		/* said it leaves */
	L2_PEER_DEAD,		/* unheard for L2_DEAD_INTERVALS intervals */
	L2_PEER_RENAMED,	/* alive under another node name */
	L2_PEER_REPLAY,		/* a replayed or stale message: dropped */
	L2_PEER_GATEWAY,	/* alive still, its gateway's health changed */
};

/* The election's input for one node. */
struct l2_cand {
	const char	*node;
	int64_t		 weight;	/* preferredNodeSelectors weight sum */
};

/* A speaker's gateway deployments that cannot serve (l2_live.gw_down_deps). */
struct l2_gw_down {
	const char * const	*deps;		/* sorted; NULL: all of them */
	size_t			 ndeps;
};

/*
 * The speakers heard alive (the l2 applier's view, given to reconcile).
 * With heartbeat peers configured, candidates are this node plus these;
 * without, every Node object counts (MetalLB with memberlist disabled).
 */
struct l2_live {
	int		  heartbeat;	/* heartbeat peers are configured */
	const char	**nodes;	/* live peers' node names, sorted, unique */
	size_t		  nnodes;
	const char	**gw_down;	/* those whose gateway cannot serve (some deployment), sorted */
	size_t		  ngw_down;
	/* gw_down[i]'s deployments that cannot serve; the array NULL, or an
	 * entry's deps NULL: every deployment (an older speaker's flag) */
	const struct l2_gw_down *gw_down_deps;
};

/* One Service VIP and its elected owner. */
struct l2_vip {
	struct ipaddr	  vip;
	const char	 *ns, *name;	/* the Service */
	const char	 *owner;	/* elected node; NULL: nobody */
	const char	 *why;		/* why nobody, or NULL */
	int		  mine;		/* owner is this node */
	size_t		  ncandidates;
	const char	**ifaces;	/* L2Advertisement interfaces; none = every suitable one */
	size_t		  nifaces;
};

struct l2_desired {
	struct l2_vip	 *vips;		/* sorted by VIP, then ns/name */
	size_t		  nvips;
	const char	**speakers;	/* live speakers the election used, sorted */
	size_t		  nspeakers;
};

#endif
