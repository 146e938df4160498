/*
 * The BGP speaker's own types, shared by its files (bgp.c, bgp_show.c):
 * a peer with its session and counters, the listeners, the applier.
 */
#ifndef VIPGATE_BGP_INT_T_H
#define VIPGATE_BGP_INT_T_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "vipgate/applier.h"
#include "vipgate/bgp-fsm.h"
#include "vipgate/bgp-msg.h"
#include "vipgate/ipaddr.h"

struct bfd_io;
struct bfd_peer;
struct bgp_unnum;
struct bgp_peer_desired;
struct bufferevent;
struct desired;
struct event;
struct evconnlistener;

struct bgp;

struct peer {
	struct bgp			*bgp;
	const struct bgp_peer_desired	*pd;	/* in bgp->cur */
	char				 label[IPADDR_STRLEN + 8];	/* addr:port */
	struct bgp_fsm			 fsm;
	struct bufferevent		*bev;	/* the session's connection */
	struct bufferevent		*pending;	/* an incoming one during OpenSent */
	struct bgp_open			 pending_open;
	int				 pending_has_open;
	struct event			*adopted;	/* goes on with an adopted connection */
	struct bufferevent		*adopted_bev;
	struct bgp_open			 adopted_open;
	int				 adopted_has_open;
	struct event			*timers[BGP_T__N];
	struct event			*connect_failed;	/* a connect that failed at once */
	struct peer_timer {
		struct peer	*p;
		enum bgp_timer	 t;
	}				 targ[BGP_T__N];
	struct bgp_err			 err;	/* data for the NOTIFICATION to send */
	int				 suppress_connect;
	int				 gr_first;	/* first session since start */
	int				 stopped;	/* manual stop: do not restart */
	/* BFD (RFC 5882): its session, and whether its Down holds BGP down */
	struct bfd_peer			*bfd;
	int				 bfd_held;
	char				 bfd_noted[160];	/* the note last logged */
	/* unnumbered (pd->iface): the neighbor's link-local address, learned */
	struct bgp_unnum		*un;
	struct ipaddr			 nbr;
	/* negotiated */
	struct bgp_open			 open;
	int				 as4, v4, v6, ibgp, gr;
	uint32_t			 local_id;
	struct ipaddr			 local;
	struct ipaddr			 local_ll;	/* link-local next hop, family 0 = none */
	/* the Adj-RIB-Out as the peer has it */
	struct desired			*synced_d;
	const struct bgp_peer_desired	*synced;
	/* counters */
	time_t				 up_since;
	unsigned			 flaps;
	uint64_t			 updates_sent, updates_rcvd, opens_sent, opens_rcvd;
	uint64_t			 notifs_sent, notifs_rcvd, ka_sent, ka_rcvd, rr_rcvd;
	uint64_t			 pfx_rcvd, msgs_sent, msgs_rcvd;
	size_t				 pfx_sent;
	char				 last_error[320];
};

struct listener {
	int			 family;
	uint16_t		 port;
	struct evconnlistener	*l;
};

struct bgp {
	struct applier		 ap;
	const struct applier_env *env;
	struct desired		*cur;
	struct peer		**peers;	/* sorted by key, as cur->bgp->peers */
	size_t			 npeers;
	struct listener		*ls;
	size_t			 nls;
	int			 draining;	/* withdrawn, sessions closed */
	int			 gshut;		/* leaving: routes carry GRACEFUL_SHUTDOWN */
	struct bfd_io		*bfd;		/* made with the first peer that names a profile */
	struct desired		*held;		/* vipgated -x: applied at resume */
};

#endif
