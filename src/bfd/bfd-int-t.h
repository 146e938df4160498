/*
 * The BFD sessions' own types, shared by bfd_io.c (which runs them) and
 * bfd_show.c (which shows them).
 */
#ifndef VIPGATE_BFD_INT_T_H
#define VIPGATE_BFD_INT_T_H

#include <stdint.h>
#include <time.h>

#include "vipgate/bfd-t.h"
#include "vipgate/ipaddr.h"

struct event;
struct event_base;

struct bfd_io;

/* A link's packet socket: echo packets go out and come back on it. */
struct bfd_link {
	struct bfd_io		*io;
	int			 ifindex;
	int			 fd;		/* AF_PACKET, IPv4, UDP port 3785 only */
	struct event		*ev;
	int			 refs;
};

struct bfd_peer {
	struct bfd_io		*io;
	struct bfd_session	 s;
	struct ipaddr		 addr, local;
	char			 label[IPADDR_STRLEN];	/* the peer's address */
	char			 profile[64];
	int			 fd;		/* sends, from a port in 49152-65535 */
	uint16_t		 sport;
	struct event		*tx, *detect;
	uint64_t		 next_tx_us;	/* monotonic: when the next packet is due */
	uint32_t		 tx_ival;	/* the interval next_tx_us was set with */
	uint64_t		 last_rx_us;	/* monotonic: the last packet taken in */
	bfd_notify_fn		*notify;
	void			*arg;
	int			 was_up;
	/* echo (IPv4): from and to local4, to the peer's MAC on link */
	struct bfd_link		*link;
	uint8_t			 local4[4];
	uint8_t			 mac[6];
	struct event		*echo_tx, *echo_detect;
	uint32_t		 echo_ivl;	/* in force; 0: echo not running */
	uint64_t		 next_echo_us, last_echo_rx_us;
	uint32_t		 echo_cookie, echo_seq;
	char			 echo_note[96];	/* why echo does not run */
	/* counters */
	uint64_t		 ctrl_in, ctrl_out, up_events, down_events;
	uint64_t		 echo_in, echo_out;
	uint64_t		 drops[BFD_E__N];
	time_t			 up_since, last_down;
	enum bfd_diag		 last_down_diag;
	char			 last_down_reason[96];
};

struct bfd_io {
	struct event_base	*base;
	int			 fd4, fd6;	/* receive on port 3784 */
	struct event		*ev4, *ev6;
	struct bfd_peer		**v;
	size_t			 n;
	struct bfd_link		**links;
	size_t			 nlinks;
	uint64_t		 drops[BFD_E__N];	/* dropped before a session was found */
};

#endif
