/*
 * BFD sessions on the main loop (RFC 5881 single hop): one UDP socket per
 * family receives on port 3784 and demultiplexes by Your Discriminator, or
 * by the source address while it is zero; each session sends from its own
 * socket, bound to a port in 49152-65535, with TTL 255. Received packets
 * must carry TTL (hop limit) 255 (RFC 5881 §5). Timers are events on the
 * main loop: the transmit timer is scheduled from when the last packet was
 * due, not from when its callback ran, so load delays one packet and never
 * shifts the ones after it (no drift); each interval is jittered (RFC 5880
 * §6.8.7). The detection timer is re-armed by every packet taken in.
 *
 * Echo (§6.4, MetalLB's echoMode), IPv4 only as MetalLB allows it: while
 * the session is Up and the remote loops echo packets back, each session
 * sends UDP datagrams from and to its own address to the peer's MAC on a
 * packet socket of the link, so the remote's forwarding plane sends them
 * straight back (RFC 5881 §4). They come back on the same socket (the
 * kernel would drop them as martians: their source is local), with TTL
 * 254, our discriminator and the session's random cookie; no echo packet
 * back within the remote's multiplier times the echo interval takes the
 * session down (diag 2). As FRR's bfdd does, that detection starts with
 * the first packet that came back, and echo waits for the peer's MAC. The
 * remote's echo packets are looped by this node's own forwarding (IPv4
 * forwarding on, as on every Kubernetes node).
 *
 * Not run: demand mode, authentication, multihop (RFC 5883).
 */
#include "config.h"

#include <errno.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "bfd-int-t.h"
#include "vipgate/bfd.h"
#include "vipgate/log.h"
#include "vipgate/util.h"

static void peer_run(struct bfd_peer *, const struct bfd_out *);
static void echo_reset(struct bfd_peer *);

static uint64_t
mono_us(void)
{
	return (uint64_t)now_us();
}

static void
tv_us(struct timeval *tv, uint64_t us)
{
	tv->tv_sec = (time_t)(us / 1000000);
	tv->tv_usec = (suseconds_t)(us % 1000000);
}

static socklen_t
to_sockaddr(const struct ipaddr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->a, 16);
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->a, 4);
		return sizeof(*s4);
	}
}

static void
from_sockaddr(const struct sockaddr_storage *ss, struct ipaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			a->family = AF_INET;
			memcpy(a->a, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			a->family = AF_INET6;
			memcpy(a->a, &s6->sin6_addr, 16);
		}
	} else if (ss->ss_family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->a, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

/* ---- sending ---- */

static void
peer_send(struct bfd_peer *p, int final)
{
	struct bfd_ctrl c;
	uint8_t b[BFD_CTRL_LEN];

	if (p->fd < 0)
		return;
	bfd_session_packet(&p->s, final, &c);
	if (send(p->fd, b, bfd_ctrl_encode(b, &c), MSG_DONTWAIT) < 0) {
		/* no route yet, a full queue: the next interval tries again */
		log_debug("bfd %s: send: %s", p->label, strerror(errno));
		return;
	}
	p->ctrl_out++;
}

/* Arm the transmit timer for p->next_tx_us. */
static void
tx_arm(struct bfd_peer *p, uint64_t now)
{
	struct timeval tv;

	tv_us(&tv, p->next_tx_us > now ? p->next_tx_us - now : 0);
	evtimer_add(p->tx, &tv);
}

static uint64_t
next_interval(const struct bfd_peer *p)
{
	return bfd_jitter(bfd_session_tx_interval(&p->s), p->s.cfg.detect_mult,
	    (uint32_t)random());
}

static void
tx_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct bfd_peer *p = arg;
	uint64_t now = mono_us();

	(void)fd;
	(void)ev;
	if (!bfd_session_may_send(&p->s))
		return;
	peer_send(p, 0);
	p->next_tx_us = bfd_next_due(p->next_tx_us, now, (uint32_t)next_interval(p));
	tx_arm(p, now);
}

/* The intervals changed: the next packet no later than the new interval. */
static void
timers_reset(struct bfd_peer *p)
{
	uint64_t now = mono_us(), d = bfd_session_detect_time(&p->s);

	if (!bfd_session_may_send(&p->s))
		evtimer_del(p->tx);
	else if (!evtimer_pending(p->tx, NULL) || p->tx_ival != bfd_session_tx_interval(&p->s)) {
		uint64_t next = now + next_interval(p);

		/* a slower rate waits for the packet already due */
		if (!evtimer_pending(p->tx, NULL) || next < p->next_tx_us)
			p->next_tx_us = next;
		p->tx_ival = bfd_session_tx_interval(&p->s);
		tx_arm(p, now);
	}
	if (d == 0 || p->last_rx_us == 0)
		evtimer_del(p->detect);
	else {
		struct timeval tv;
		uint64_t due = p->last_rx_us + d;

		tv_us(&tv, due > now ? due - now : 0);
		evtimer_add(p->detect, &tv);
	}
	echo_reset(p);
}

static void
detect_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct bfd_peer *p = arg;
	struct bfd_out o;

	(void)fd;
	(void)ev;
	p->last_rx_us = 0;
	bfd_session_expired(&p->s, &o);
	peer_run(p, &o);
}

/* ---- echo ---- */

/*
 * Only IPv4 UDP datagrams to port 3785 that are not fragments pass; on a
 * SOCK_DGRAM packet socket the program sees the IP header at offset 0.
 */
static int
link_filter(int fd)
{
	static struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),			/* protocol */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 5),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),			/* MF, offset */
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 3, 0),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),			/* X: header length */
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),			/* UDP destination */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BFD_ECHO_PORT, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 256),
	};
	struct sock_fprog fp = { VG_ARRAY_SIZE(prog), prog };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp));
}

static struct bfd_peer *
echo_demux(struct bfd_io *io, const struct bfd_echo *e)
{
	size_t i;

	for (i = 0; i < io->n; i++) {
		struct bfd_peer *p = io->v[i];

		if (p->echo_ivl && memcmp(p->local4, e->dst, 4) == 0 &&
		    p->s.local_disc == e->disc)
			return p;
	}
	return NULL;
}

static void
echo_rx_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct bfd_link *l = arg;
	int n;

	(void)ev;
	for (n = 0; n < 64; n++) {
		uint8_t b[256];
		struct sockaddr_ll sl;
		socklen_t sll = sizeof(sl);
		struct bfd_echo e;
		struct bfd_peer *p;
		struct timeval tv;
		ssize_t len;

		len = recvfrom(fd, b, sizeof(b), MSG_DONTWAIT, (struct sockaddr *)&sl, &sll);
		if (len < 0)
			return;
		/* our own packets going out; and only echoes, from and to one address */
		if (sl.sll_pkttype == PACKET_OUTGOING ||
		    bfd_echo_decode(b, (size_t)len, &e) != BFD_OK ||
		    memcmp(e.src, e.dst, 4) != 0 || e.dport != BFD_ECHO_PORT)
			continue;
		/* the remote's echo packets, which our forwarding sends back: not ours */
		if ((p = echo_demux(l->io, &e)) == NULL)
			continue;
		if (e.cookie != p->echo_cookie) {
			p->drops[BFD_E_ECHO]++;
			continue;
		}
		/* sent with 255, forwarded once by the remote (FRR checks the same) */
		if (e.ttl != 254) {
			p->drops[BFD_E_TTL]++;
			continue;
		}
		p->echo_in++;
		p->last_echo_rx_us = mono_us();
		tv_us(&tv, bfd_session_echo_detect_time(&p->s));
		evtimer_add(p->echo_detect, &tv);
	}
}

static struct bfd_link *
link_get(struct bfd_io *io, int ifindex)
{
	struct sockaddr_ll sl;
	struct bfd_link *l;
	size_t i;
	int fd;

	for (i = 0; i < io->nlinks; i++)
		if (io->links[i]->ifindex == ifindex) {
			io->links[i]->refs++;
			return io->links[i];
		}
	/* protocol 0 takes nothing in until the filter is on and bind names IPv4 */
	if ((fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return NULL;
	memset(&sl, 0, sizeof(sl));
	sl.sll_family = AF_PACKET;
	sl.sll_protocol = htons(ETH_P_IP);
	sl.sll_ifindex = ifindex;
	if (link_filter(fd) < 0 || bind(fd, (struct sockaddr *)&sl, sizeof(sl)) < 0) {
		close(fd);
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->io = io;
	l->ifindex = ifindex;
	l->fd = fd;
	l->refs = 1;
	l->ev = event_new(io->base, fd, EV_READ | EV_PERSIST, echo_rx_cb, l);
	event_add(l->ev, NULL);
	io->links = xreallocarray(io->links, io->nlinks + 1, sizeof(*io->links));
	io->links[io->nlinks++] = l;
	return l;
}

static void
link_put(struct bfd_link *l)
{
	struct bfd_io *io;
	size_t i;

	if (l == NULL || --l->refs > 0)
		return;
	io = l->io;
	for (i = 0; i < io->nlinks; i++)
		if (io->links[i] == l) {
			io->links[i] = io->links[--io->nlinks];
			break;
		}
	event_free(l->ev);
	close(l->fd);
	free(l);
}

/*
 * What echo needs: the session's IPv4 source, the link that holds it and
 * the peer's MAC from the neighbor table. 0, or -1 with echo_note set.
 */
static int
echo_prepare(struct bfd_peer *p)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	socklen_t sl = sizeof(ss);
	struct ifaddrs *ifa, *i;
	struct arpreq ar;
	char ifname[IFNAMSIZ] = "";

	if (p->addr.family != AF_INET) {
		snprintf(p->echo_note, sizeof(p->echo_note), "echo is for IPv4 peers only");
		return -1;
	}
	if (getsockname(p->fd, (struct sockaddr *)&ss, &sl) < 0 || ss.ss_family != AF_INET)
		return -1;
	memcpy(p->local4, &sin->sin_addr, 4);
	if (getifaddrs(&ifa) < 0)
		return -1;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    memcmp(&((struct sockaddr_in *)i->ifa_addr)->sin_addr, p->local4, 4) == 0) {
			snprintf(ifname, sizeof(ifname), "%s", i->ifa_name);
			break;
		}
	freeifaddrs(ifa);
	if (ifname[0] == '\0') {
		snprintf(p->echo_note, sizeof(p->echo_note), "no link holds the source address");
		return -1;
	}
	memset(&ar, 0, sizeof(ar));
	sin = (struct sockaddr_in *)&ar.arp_pa;
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, p->addr.a, 4);
	snprintf(ar.arp_dev, sizeof(ar.arp_dev), "%s", ifname);
	if (ioctl(p->fd, SIOCGARP, &ar) < 0 || !(ar.arp_flags & ATF_COM)) {
		snprintf(p->echo_note, sizeof(p->echo_note), "the peer's MAC is not known yet");
		return -1;
	}
	memcpy(p->mac, ar.arp_ha.sa_data, 6);
	if (p->link == NULL && (p->link = link_get(p->io, (int)if_nametoindex(ifname))) == NULL) {
		snprintf(p->echo_note, sizeof(p->echo_note), "no packet socket on %s: %s", ifname,
		    strerror(errno));
		return -1;
	}
	p->echo_note[0] = '\0';
	return 0;
}

static void
echo_send(struct bfd_peer *p)
{
	struct sockaddr_ll sl;
	struct bfd_echo e;
	uint8_t b[BFD_ECHO_LEN];

	memset(&e, 0, sizeof(e));
	memcpy(e.src, p->local4, 4);
	memcpy(e.dst, p->local4, 4);
	e.ttl = 255;
	e.sport = p->sport;
	e.dport = BFD_ECHO_PORT;
	e.disc = p->s.local_disc;
	e.cookie = p->echo_cookie;
	e.seq = ++p->echo_seq;
	memset(&sl, 0, sizeof(sl));
	sl.sll_family = AF_PACKET;
	sl.sll_protocol = htons(ETH_P_IP);
	sl.sll_ifindex = p->link->ifindex;
	sl.sll_halen = 6;
	memcpy(sl.sll_addr, p->mac, 6);
	if (sendto(p->link->fd, b, bfd_echo_encode(b, &e), MSG_DONTWAIT,
	    (struct sockaddr *)&sl, sizeof(sl)) < 0) {
		log_debug("bfd %s: echo: %s", p->label, strerror(errno));
		return;
	}
	p->echo_out++;
}

static void
echo_tx_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct bfd_peer *p = arg;
	uint64_t now = mono_us();
	struct timeval tv;

	(void)fd;
	(void)ev;
	if (p->echo_ivl == 0)
		return;
	echo_send(p);
	p->next_echo_us = bfd_next_due(p->next_echo_us, now,
	    bfd_jitter(p->echo_ivl, p->s.cfg.detect_mult, (uint32_t)random()));
	tv_us(&tv, p->next_echo_us > now ? p->next_echo_us - now : 0);
	evtimer_add(p->echo_tx, &tv);
}

static void
echo_detect_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct bfd_peer *p = arg;
	struct bfd_out o;

	(void)fd;
	(void)ev;
	bfd_session_echo_expired(&p->s, &o);
	peer_run(p, &o);
}

/* Start, re-time or stop echo after the session's timers changed. */
static void
echo_reset(struct bfd_peer *p)
{
	uint32_t ivl = bfd_session_echo_interval(&p->s);

	if (ivl == p->echo_ivl)
		return;
	if (ivl && p->echo_ivl == 0) {
		char was[sizeof(p->echo_note)];

		memcpy(was, p->echo_note, sizeof(was));
		if (echo_prepare(p) < 0) {
			/* tried again with the next control packet; said once */
			if (strcmp(was, p->echo_note) != 0)
				log_info("bfd %s: echo not run yet: %s", p->label, p->echo_note);
			ivl = 0;
		}
	}
	if (ivl == 0) {
		p->echo_ivl = 0;
		p->last_echo_rx_us = 0;
		evtimer_del(p->echo_tx);
		evtimer_del(p->echo_detect);
		return;
	}
	if (p->echo_ivl == 0) {
		struct timeval tv = { 0, 0 };

		log_info("bfd %s: echo every %u ms", p->label, ivl / 1000);
		p->echo_cookie = (uint32_t)random();
		p->next_echo_us = mono_us();
		evtimer_add(p->echo_tx, &tv);
	}
	p->echo_ivl = ivl;
}

/* ---- what the machine asked for ---- */

static void
peer_run(struct bfd_peer *p, const struct bfd_out *o)
{
	if (o->actions & BFD_A_SEND_FINAL)
		peer_send(p, 1);
	if ((o->actions & BFD_A_SEND) && bfd_session_may_send(&p->s))
		peer_send(p, 0);
	if (o->actions & (BFD_A_TIMERS | BFD_A_SEND))
		timers_reset(p);
	if (o->actions & BFD_A_DOWN) {
		p->down_events++;
		p->up_since = 0;
		p->last_down = time(NULL);
		p->last_down_diag = p->s.diag;
		snprintf(p->last_down_reason, sizeof(p->last_down_reason), "%s",
		    bfd_diag_name(p->s.diag));
		log_warnx("bfd %s: session down: %s", p->label, bfd_diag_name(p->s.diag));
	}
	if (o->actions & BFD_A_UP) {
		p->up_events++;
		p->was_up = 1;
		p->up_since = time(NULL);
		log_info("bfd %s: session up (detection %llu ms)", p->label,
		    (unsigned long long)bfd_session_detect_time(&p->s) / 1000);
	}
	/* last: the callback may act on the BGP session */
	if ((o->actions & BFD_A_DOWN) && p->notify)
		p->notify(p->arg, BFD_DOWN, p->s.diag);
	if ((o->actions & BFD_A_UP) && p->notify)
		p->notify(p->arg, BFD_UP, BFD_DIAG_NONE);
}

/* ---- receiving ---- */

static struct bfd_peer *
demux(struct bfd_io *io, const struct bfd_ctrl *c, const struct ipaddr *from)
{
	size_t i;

	for (i = 0; i < io->n; i++) {
		struct bfd_peer *p = io->v[i];

		if (c->your_disc ? p->s.local_disc == c->your_disc : ipaddr_eq(&p->addr, from))
			return p;
	}
	return NULL;
}

static void
rx_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct bfd_io *io = arg;
	int n;

	(void)ev;
	for (n = 0; n < 64; n++) {
		uint8_t b[128];
		union {
			struct cmsghdr	align;
			uint8_t		buf[CMSG_SPACE(sizeof(int)) * 4];
		} cb;
		struct sockaddr_storage ss;
		struct iovec iov = { b, sizeof(b) };
		struct msghdr m;
		struct cmsghdr *cm;
		struct ipaddr from;
		struct bfd_ctrl c;
		struct bfd_peer *p;
		struct bfd_out o;
		enum bfd_drop r;
		ssize_t len;
		int ttl = -1;

		memset(&m, 0, sizeof(m));
		m.msg_name = &ss;
		m.msg_namelen = sizeof(ss);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = cb.buf;
		m.msg_controllen = sizeof(cb.buf);
		len = recvmsg(fd, &m, MSG_DONTWAIT);
		if (len < 0)
			return;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
			if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) ||
			    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT))
				memcpy(&ttl, CMSG_DATA(cm), sizeof(ttl));
		from_sockaddr(&ss, &from);
		r = bfd_ctrl_decode(b, (size_t)len, &c);
		p = r == BFD_OK ? demux(io, &c, &from) : NULL;
		if (r == BFD_OK && p == NULL)
			r = BFD_E_YOUR_DISC;
		if (r != BFD_OK) {
			io->drops[r]++;
			continue;
		}
		/* RFC 5881 §5: only packets that crossed no router */
		if (ttl < p->s.cfg.min_ttl) {
			p->drops[BFD_E_TTL]++;
			continue;
		}
		r = bfd_session_rx(&p->s, &c, &o);
		if (r != BFD_OK) {
			p->drops[r]++;
			continue;
		}
		p->ctrl_in++;
		p->last_rx_us = mono_us();
		o.actions |= BFD_A_TIMERS;	/* the detection timer starts again */
		peer_run(p, &o);
	}
}

static int
rx_socket(int family)
{
	struct sockaddr_storage ss;
	struct ipaddr any;
	int fd, one = 1;

	memset(&any, 0, sizeof(any));
	any.family = (uint8_t)family;
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	} else
		setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, to_sockaddr(&any, BFD_PORT, &ss)) < 0) {
		log_warn("bfd: cannot bind UDP port %u (%s)", BFD_PORT,
		    family == AF_INET ? "IPv4" : "IPv6");
		close(fd);
		return -1;
	}
	return fd;
}

/* The receiving socket of a family, made when a session first needs it. */
static int
io_listen(struct bfd_io *io, int family)
{
	int *fd = family == AF_INET ? &io->fd4 : &io->fd6;
	struct event **ev = family == AF_INET ? &io->ev4 : &io->ev6;

	if (*fd >= 0)
		return 0;
	if ((*fd = rx_socket(family)) < 0)
		return -1;
	*ev = event_new(io->base, *fd, EV_READ | EV_PERSIST, rx_cb, io);
	event_add(*ev, NULL);
	return 0;
}

/* ---- sessions ---- */

/* A sending socket bound to a free port of 49152-65535 (RFC 5881 §4). */
static int
tx_socket(const struct ipaddr *peer, const struct ipaddr *local, unsigned ifindex,
    uint16_t *sport)
{
	struct sockaddr_storage ss;
	struct ipaddr src;
	socklen_t sl;
	int fd, ttl = 255, tries;
	uint32_t span = BFD_SPORT_MAX - BFD_SPORT_MIN + 1, start = (uint32_t)random() % span;

	fd = socket(peer->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (peer->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
	else
		setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	if (local->family == peer->family)
		src = *local;
	else {
		memset(&src, 0, sizeof(src));
		src.family = peer->family;
	}
	for (tries = 0; tries < 256; tries++) {
		*sport = (uint16_t)(BFD_SPORT_MIN + (start + (uint32_t)tries * 97) % span);
		sl = to_sockaddr(&src, *sport, &ss);
		if (bind(fd, (struct sockaddr *)&ss, sl) == 0)
			break;
		if (errno != EADDRINUSE)
			tries = 256;
	}
	if (tries >= 256) {
		close(fd);
		return -1;
	}
	sl = to_sockaddr(peer, BFD_PORT, &ss);
	if (peer->family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_scope_id = ifindex;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint32_t
new_disc(const struct bfd_io *io)
{
	for (;;) {
		uint32_t d = (uint32_t)random() ^ (uint32_t)random() << 16;
		size_t i;

		for (i = 0; d && i < io->n; i++)
			if (io->v[i]->s.local_disc == d)
				break;
		if (d && i == io->n)
			return d;
	}
}

struct bfd_peer *
bfd_peer_new(struct bfd_io *io, const struct ipaddr *peer, const struct ipaddr *local,
    unsigned ifindex, const struct bfd_cfg *cfg, const char *profile, bfd_notify_fn *fn,
    void *arg)
{
	struct bfd_peer *p = xcalloc(1, sizeof(*p));
	struct bfd_out o;

	p->io = io;
	p->addr = *peer;
	p->local = *local;
	ipaddr_fmt(peer, p->label);
	snprintf(p->profile, sizeof(p->profile), "%s", profile ? profile : "");
	p->notify = fn;
	p->arg = arg;
	if (io_listen(io, peer->family) < 0 ||
	    (p->fd = tx_socket(peer, local, ifindex, &p->sport)) < 0) {
		log_warn("bfd %s: no session", p->label);
		free(p);
		return NULL;
	}
	p->s.name = p->label;
	bfd_session_init(&p->s, cfg, new_disc(io));
	p->tx = evtimer_new(io->base, tx_cb, p);
	p->detect = evtimer_new(io->base, detect_cb, p);
	p->echo_tx = evtimer_new(io->base, echo_tx_cb, p);
	p->echo_detect = evtimer_new(io->base, echo_detect_cb, p);
	io->v = xreallocarray(io->v, io->n + 1, sizeof(*io->v));
	io->v[io->n++] = p;
	log_info("bfd %s: session from port %u (profile %s: tx %u ms, rx %u ms, x%u%s)",
	    p->label, p->sport, p->profile, cfg->desired_min_tx / 1000,
	    cfg->required_min_rx / 1000, cfg->detect_mult, cfg->passive ? ", passive" : "");
	memset(&o, 0, sizeof(o));
	o.actions = BFD_A_SEND | BFD_A_TIMERS;
	peer_run(p, &o);
	return p;
}

void
bfd_peer_set_cfg(struct bfd_peer *p, const struct bfd_cfg *cfg, const char *profile)
{
	struct bfd_out o;

	if (cfg->desired_min_tx != p->s.cfg.desired_min_tx ||
	    cfg->required_min_rx != p->s.cfg.required_min_rx ||
	    cfg->detect_mult != p->s.cfg.detect_mult)
		log_info("bfd %s: timers now tx %u ms, rx %u ms, x%u (profile %s)", p->label,
		    cfg->desired_min_tx / 1000, cfg->required_min_rx / 1000, cfg->detect_mult,
		    profile);
	snprintf(p->profile, sizeof(p->profile), "%s", profile ? profile : "");
	bfd_session_set_cfg(&p->s, cfg, &o);
	o.actions |= BFD_A_TIMERS;	/* passive may have changed */
	peer_run(p, &o);
}

void
bfd_peer_free(struct bfd_peer *p)
{
	struct bfd_io *io;
	struct bfd_out o;
	size_t i;

	if (p == NULL)
		return;
	io = p->io;
	/* §6.8.16: tell the remote, so it does not count this as a failure */
	p->notify = NULL;
	bfd_session_admin(&p->s, 1, &o);
	if (bfd_session_may_send(&p->s))
		peer_send(p, 0);
	for (i = 0; i < io->n; i++)
		if (io->v[i] == p) {
			io->v[i] = io->v[--io->n];
			break;
		}
	event_free(p->tx);
	event_free(p->detect);
	event_free(p->echo_tx);
	event_free(p->echo_detect);
	link_put(p->link);
	close(p->fd);
	free(p);
}

enum bfd_state
bfd_peer_state(const struct bfd_peer *p)
{
	return p->s.state;
}

int
bfd_peer_was_up(const struct bfd_peer *p)
{
	return p->was_up;
}

struct bfd_io *
bfd_io_new(struct event_base *base)
{
	struct bfd_io *io = xcalloc(1, sizeof(*io));

	io->base = base;
	io->fd4 = io->fd6 = -1;
	return io;
}

void
bfd_io_free(struct bfd_io *io)
{
	if (io == NULL)
		return;
	if (io->ev4)
		event_free(io->ev4);
	if (io->ev6)
		event_free(io->ev6);
	if (io->fd4 >= 0)
		close(io->fd4);
	if (io->fd6 >= 0)
		close(io->fd6);
	free(io->v);
	free(io->links);
	free(io);
}
