/* The BGP part of the desired state: peers of this node and their routes. */
#ifndef VIPGATE_BGP_T_H
#define VIPGATE_BGP_T_H

#include <stddef.h>
#include <stdint.h>

#include "vipgate/bfd-t.h"
#include "vipgate/ipaddr.h"
#include "vipgate/bgp-msg.h"

/* Attributes a set of routes shares; compared by content. */
struct bgp_attrset {
	int			 has_local_pref;	/* iBGP only */
	uint32_t		 local_pref;
	uint32_t		*comms;		/* sorted, unique */
	size_t			 ncomms;
	struct bgp_large_comm	*large;		/* sorted, unique */
	size_t			 nlarge;
};

struct bgp_route {
	struct bgp_prefix		 pfx;
	const struct bgp_attrset	*attrs;	/* one of the peer's attrsets */
	const char			*svc;	/* first Service, "ns/name" */
};

enum bgp_dynamic_asn { BGP_DYN_NONE, BGP_DYN_INTERNAL, BGP_DYN_EXTERNAL };

struct bgp_peer_desired {
	const char	*ns, *name;		/* the BGPPeer */
	/* the stable key */
	struct ipaddr	 addr;
	uint16_t	 port;
	const char	*vrf;			/* "" for the default */
	/*
	 * BGPPeer.interface (unnumbered): addr is then IPv6 all-zeros and the
	 * session goes to the link-local address learned on it (RFC 8950
	 * carries the IPv4 routes); NULL for a numbered peer.
	 */
	const char	*iface;
	/* session parameters: a change resets the session */
	uint32_t	 my_asn, peer_asn;	/* peer_asn 0 with dynamic */
	enum bgp_dynamic_asn dynamic;
	struct ipaddr	 src;			/* sourceAddress; family 0 = none */
	uint32_t	 router_id;		/* 0: the local IPv4 address of the session */
	uint32_t	 hold_s, keepalive_s;
	const char	*password;		/* TCP MD5; NULL = none */
	int		 ebgp_multihop;
	int		 graceful_restart;
	int		 disable_mp;		/* only the session's own family */
	/* not session parameters */
	int64_t		 connect_ms;
	struct ipaddr	 nh4, nh6;		/* next hops; family 0 = the session's address */
	/*
	 * BFD (bfdProfile): a change of the profile's timers goes through a
	 * Poll Sequence, never a session reset. bfd_on is 0 when the profile
	 * is missing or cannot run; bfd_note says why, or what of it is not
	 * run (echo).
	 */
	const char	*bfd_profile;
	int		 bfd_on;
	struct bfd_cfg	 bfd;
	const char	*bfd_note;
	const char	*problem;		/* why the peer cannot run, or NULL */
	/* what to advertise, sorted by prefix */
	struct bgp_route	*routes;
	size_t			 nroutes;
	struct bgp_attrset	*attrsets;
	size_t			 nattrsets;
};

struct bgp_desired {
	struct bgp_peer_desired	*peers;		/* sorted by key */
	size_t			 npeers;
};

#endif
