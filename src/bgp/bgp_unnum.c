/*
 * Unnumbered BGP (BGPPeer.interface): the peer's IPv6 link-local address is
 * learned on the interface, from the Router Advertisements it sends (FRR
 * sends them for its interface neighbors) or from its answer to an echo
 * request to all nodes (ff02::1). Router Advertisements with a router
 * lifetime of 0 (RFC 4861 §4.2: not a default router) go out every 10 s
 * so that a peer that learns neighbors that way (FRR's zebra) learns ours.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "bgp-int.h"
#include "vipgate/log.h"
#include "vipgate/util.h"
#include "vipgate/wire.h"

#define RA_INTERVAL_S	10
#define ECHO_ID		0x7667	/* "vg" */

size_t
bgp_nd_echo_build(uint8_t *buf, uint16_t seq)
{
	struct wire_wr w;

	wire_wr_init(&w, buf, 8);
	wire_put_u8(&w, ICMP6_ECHO_REQUEST);
	wire_put_u8(&w, 0);
	wire_put_u16(&w, 0);		/* checksum: the kernel's */
	wire_put_u16(&w, ECHO_ID);
	wire_put_u16(&w, seq);
	return w.len;
}

size_t
bgp_nd_ra_build(uint8_t *buf)
{
	struct wire_wr w;

	wire_wr_init(&w, buf, 16);
	wire_put_u8(&w, ND_ROUTER_ADVERT);
	wire_put_u8(&w, 0);
	wire_put_u16(&w, 0);		/* checksum: the kernel's */
	wire_put_u8(&w, 0);		/* cur hop limit: unspecified */
	wire_put_u8(&w, 0);		/* no M, no O */
	wire_put_u16(&w, 0);		/* router lifetime 0: not a default router */
	wire_put_u32(&w, 0);		/* reachable time */
	wire_put_u32(&w, 0);		/* retrans timer */
	return w.len;
}

int
bgp_nd_learns(const uint8_t *buf, size_t len)
{
	struct wire_rd r;
	uint8_t type;

	wire_rd_init(&r, buf, len);
	type = wire_get_u8(&r);
	wire_skip(&r, 3);
	if (r.err)
		return 0;
	if (type == ND_ROUTER_ADVERT)
		return len >= 16;
	return type == ICMP6_ECHO_REPLY && len >= 8 && wire_get_u16(&r) == ECHO_ID;
}

struct bgp_unnum {
	struct event_base	*base;
	char			 ifname[IF_NAMESIZE];
	unsigned		 ifindex;
	int			 fd;
	struct event		*rd, *tick;
	uint16_t		 seq;
	bgp_unnum_fn		*learned;
	void			*arg;
};

static void
un_close(struct bgp_unnum *u)
{
	if (u->rd)
		event_free(u->rd);
	u->rd = NULL;
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}

static void
read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct bgp_unnum *u = arg;
	uint8_t b[512];
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	(void)ev;
	while ((n = recvfrom(fd, b, sizeof(b), MSG_DONTWAIT, (struct sockaddr *)&from, &fl)) >= 0) {
		struct ipaddr a;

		if (bgp_nd_learns(b, (size_t)n) && IN6_IS_ADDR_LINKLOCAL(&from.sin6_addr) &&
		    from.sin6_scope_id == u->ifindex) {
			memset(&a, 0, sizeof(a));
			a.family = AF_INET6;
			memcpy(a.a, &from.sin6_addr, 16);
			u->learned(u->arg, &a);
		}
		fl = sizeof(from);
	}
}

/* The socket on the interface, when it exists; 0 or -1. */
static int
un_open(struct bgp_unnum *u)
{
	struct icmp6_filter f;
	int zero = 0, hops = 255;
	unsigned idx = if_nametoindex(u->ifname);

	if (u->fd >= 0 && idx == u->ifindex)
		return 0;
	un_close(u);
	if ((u->ifindex = idx) == 0)
		return -1;
	u->fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (u->fd < 0) {
		log_warn("bgp %s: ICMPv6 socket", u->ifname);
		return -1;
	}
	ICMP6_FILTER_SETBLOCKALL(&f);
	ICMP6_FILTER_SETPASS(ND_ROUTER_ADVERT, &f);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
	setsockopt(u->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	setsockopt(u->fd, SOL_SOCKET, SO_BINDTODEVICE, u->ifname, (socklen_t)strlen(u->ifname));
	setsockopt(u->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &u->ifindex, sizeof(u->ifindex));
	setsockopt(u->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops));
	setsockopt(u->fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero));
	u->rd = event_new(u->base, u->fd, EV_READ | EV_PERSIST, read_cb, u);
	event_add(u->rd, NULL);
	return 0;
}

static void
send_all_nodes(struct bgp_unnum *u, const uint8_t *m, size_t n)
{
	struct sockaddr_in6 to;

	memset(&to, 0, sizeof(to));
	to.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
	to.sin6_scope_id = u->ifindex;
	if (sendto(u->fd, m, n, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) < 0)
		log_debug("bgp %s: ICMPv6 to ff02::1: %s", u->ifname, strerror(errno));
}

void
bgp_unnum_probe(struct bgp_unnum *u)
{
	uint8_t m[16];

	if (un_open(u) < 0)
		return;
	send_all_nodes(u, m, bgp_nd_echo_build(m, ++u->seq));
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct bgp_unnum *u = arg;
	struct timeval tv = { RA_INTERVAL_S, 0 };
	uint8_t m[16];

	(void)fd;
	(void)ev;
	if (un_open(u) == 0)
		send_all_nodes(u, m, bgp_nd_ra_build(m));
	evtimer_add(u->tick, &tv);
}

struct bgp_unnum *
bgp_unnum_new(struct event_base *base, const char *ifname, bgp_unnum_fn *fn, void *arg)
{
	struct bgp_unnum *u = xcalloc(1, sizeof(*u));

	u->base = base;
	snprintf(u->ifname, sizeof(u->ifname), "%s", ifname);
	u->fd = -1;
	u->learned = fn;
	u->arg = arg;
	u->tick = evtimer_new(base, tick_cb, u);
	if (un_open(u) < 0)
		log_warnx("bgp %s: no such interface yet (unnumbered peer)", ifname);
	tick_cb(-1, 0, u);
	bgp_unnum_probe(u);
	return u;
}

unsigned
bgp_unnum_ifindex(const struct bgp_unnum *u)
{
	return u->ifindex;
}

void
bgp_unnum_free(struct bgp_unnum *u)
{
	if (u == NULL)
		return;
	un_close(u);
	event_free(u->tick);
	free(u);
}
