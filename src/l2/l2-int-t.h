/*
 * Inside the l2 module, types: the applier's state (l2.c), which its
 * display (l2_show.c) reads and its heartbeat I/O (hb_io.c) drives.
 * Functions are in l2-int.h.
 */
#ifndef VIPGATE_L2_INT_T_H
#define VIPGATE_L2_INT_T_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "vipgate/applier.h"
#include "vipgate/ipaddr.h"
#include "vipgate/l2-t.h"

struct event;
struct l2_ctx;

/* A responder interface: its AF_PACKET socket, MAC and link-local address. */
struct l2_if {
	char		 name[IFNAMSIZ];
	int		 ifindex;
	uint8_t		 mac[L2_ETH_ALEN];
	int		 has_ll;
	uint8_t		 ll[16];
	int		 fd;
	struct event	*ev;
	int		 mark;
	struct l2_ctx	*ctx;
};

/* A solicited-node group joined on an interface, and how many VIPs need it. */
struct l2_group {
	int		ifindex;
	uint8_t		group[16];
	int		refs;
	int		sock;	/* mcast[] that joined it; -1: not joined */
};

/*
 * A socket holding solicited-node memberships. The kernel charges each to
 * the socket's option memory (net.core.optmem_max: about 2,300 groups at
 * its 128 kB default), so more VIPs take more sockets.
 */
struct l2_mcast {
	int		fd;
	size_t		n;	/* groups it holds */
	int		full;	/* a join failed with ENOMEM: try the next */
};

/* A VIP this node answers for. */
struct l2_owned {
	struct ipaddr	 vip;
	char		**ifaces;	/* NULL: every responder interface */
	size_t		  nifaces;
	int64_t		  burst_until;
	int		  mark;
	int		  conflict;	/* another MAC claimed it */
	char		  conflict_mac[18];
	int64_t		  conflict_at;
};

/* A VIP's metrics (MetalLB's names): kept when the VIP goes. */
struct l2_counter {
	struct ipaddr	vip;
	uint64_t	requests, responses, gratuitous;
};

/*
 * An open-addressing index from a key's hash to positions in an array
 * (own[], ctr[], groups[]): lookups once per VIP in an apply and once per
 * ARP/NDP frame stay constant-time at tens of thousands of VIPs, where a
 * linear search made the apply quadratic (6-9 s on the main loop for
 * 50,000 VIPs). The caller compares the keys at the positions found. It
 * holds positions, not pointers, so the array may grow; an array that
 * loses or reorders entries is indexed again (ix_clear, then ix_add).
 */
struct l2_ixslot {
	uint64_t	h;
	size_t		pos;	/* position + 1; 0: empty */
};

struct l2_index {
	struct l2_ixslot *slot;
	size_t		  mask;	/* slots - 1; slots a power of 2, at most half full */
	size_t		  n;
};

/* A heartbeat peer as configured, and what is known of it. */
struct l2_peer {
	char			*addr;		/* as configured */
	struct sockaddr_in6	 sa;		/* v4 as mapped */
	struct l2_peer_state	 st;
};

struct l2_ctx {
	struct applier		 app;
	const struct applier_env *env;
	struct desired		*cur;
	struct desired		*held;	/* vipgated -x: applied at resume */

	struct l2_if		**ifs;	/* pointers: events hold them */
	size_t			 nifs;
	struct l2_group		*groups;
	size_t			 ngroups;
	struct l2_index		 group_ix;	/* ifindex + group -> groups[] */
	struct l2_mcast		*mcast;		/* IPV6_JOIN_GROUP */
	size_t			 nmcast;
	struct l2_owned		*own;
	size_t			 nown;
	struct l2_index		 own_ix;	/* family + address -> own[] */
	struct l2_counter	*ctr;
	size_t			 nctr;
	struct l2_index		 ctr_ix;	/* family + address -> ctr[] */
	uint64_t		 conflicts;

	struct event		*ev_burst, *ev_refresh, *ev_rescan;
	int64_t			 refresh_ms;

	/* heartbeat (hb_io.c) */
	int			 hb_on;
	int			 hb_fd;
	struct event		*ev_hb, *ev_hb_send, *ev_sweep, *ev_settle;
	char			*hb_sig;	/* the config the socket was made for */
	uint8_t			*key;
	size_t			 keylen;
	int64_t			 interval_ms;
	uint64_t		 incarnation, seq;
	struct l2_peer		*peers;
	size_t			 npeers;
	int			 settled;
	int			 draining;
	int			 link_down;	/* no responder interface has a carrier */
	int			 gw_down;	/* this node's gateway cannot serve (heartbeat flag) */
	/* !gw_down: the deployments that cannot serve here while others can
	 * (sorted), named to the peers that read L2_HB_F_EXT */
	char			**gw_deps;
	size_t			 ngw_deps;
	struct l2_live		 live;
	struct l2_gw_down	*live_gwd;	/* live.gw_down_deps */
	const char		**live_gwd_names;	/* what its entries point to */
	uint64_t		 hb_rejected;
};

#endif
