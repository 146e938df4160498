/*
 * The L2 applier: owns the VIPs the election gives this node, answers ARP
 * and NDP for them on the segment, announces them, and runs the speakers'
 * heartbeat (liveness for the election).
 *
 * The kernel stays out of it: the VIPs are local addresses on lo (or
 * vipgate0), and arp_ignore=1 / arp_announce=2 are set on every interface
 * a responder runs on, so the kernel neither answers ARP for a VIP on the
 * segment nor uses one as the source of its own ARP. (IPv6: Linux answers
 * an NS only for addresses on the receiving interface, so nothing to set.)
 * A responder is not opened on an interface where the sysctls cannot be
 * set, and that is logged as an error.
 *
 * Who owns what comes from reconcile (l2_plan.c). The module's files:
 *
 *   l2.c         this applier: responder sockets, announcements, owned VIPs
 *   hb_io.c      the heartbeat's socket and timers, and the live view
 *   l2_show.c    vipgatectl l2 and the metrics (reads the state only)
 *   frame.c      ARP/NDP frame codec (pure)
 *   heartbeat.c  heartbeat message codec and peer liveness (pure)
 *   elect.c      MetalLB's owner election (pure; reconcile calls it)
 *
 * l2-int-t.h holds the applier's state that they share, l2-int.h their
 * functions.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

#include "l2-int.h"
#include "vipgate/config-t.h"
#include "vipgate/l2.h"
#include "vipgate/log.h"
#include "vipgate/reconcile.h"
#include "vipgate/util.h"

#define BURST_SPACING_MS	1100	/* MetalLB: avoids Linux' ARP locktime */
#define BURST_LEN_MS		5000
#define RESCAN_MS		10000

/* ix_next: where a walk starts */
#define IX_START	SIZE_MAX

static void l2_rescan(struct l2_ctx *, const struct desired *);
static void l2_send_round(struct l2_ctx *, struct l2_owned *, int probe);

/* ---- the index (struct l2_index, l2-int-t.h) ---- */

static void
ix_put(struct l2_index *ix, uint64_t h, size_t pos)
{
	size_t s;

	for (s = (size_t)h & ix->mask; ix->slot[s].pos != 0; s = (s + 1) & ix->mask)
		;
	ix->slot[s].h = h;
	ix->slot[s].pos = pos + 1;
}

/* Index position pos of the array under hash h. */
static void
ix_add(struct l2_index *ix, uint64_t h, size_t pos)
{
	if (ix->slot == NULL || (ix->n + 1) * 2 > ix->mask + 1) {
		struct l2_ixslot *old = ix->slot;
		size_t i, nold = old ? ix->mask + 1 : 0;

		ix->mask = nold ? nold * 2 - 1 : 15;
		ix->slot = xcalloc(ix->mask + 1, sizeof(*ix->slot));
		for (i = 0; i < nold; i++)
			if (old[i].pos != 0)
				ix_put(ix, old[i].h, old[i].pos - 1);
		free(old);
	}
	ix_put(ix, h, pos);
	ix->n++;
}

/*
 * The positions indexed under hash h, one a call: *s starts at IX_START;
 * -1 when there is no more.
 */
static ssize_t
ix_next(const struct l2_index *ix, uint64_t h, size_t *s)
{
	if (ix->slot == NULL)
		return -1;
	*s = *s == IX_START ? (size_t)h & ix->mask : (*s + 1) & ix->mask;
	for (; ix->slot[*s].pos != 0; *s = (*s + 1) & ix->mask)
		if (ix->slot[*s].h == h)
			return (ssize_t)(ix->slot[*s].pos - 1);
	return -1;
}

static void
ix_clear(struct l2_index *ix)
{
	if (ix->slot)
		memset(ix->slot, 0, (ix->mask + 1) * sizeof(*ix->slot));
	ix->n = 0;
}

static void
ix_free(struct l2_index *ix)
{
	free(ix->slot);
	memset(ix, 0, sizeof(*ix));
}

/* A VIP's key: its family and the bytes of that family only. */
static uint64_t
vip_hash(int family, const uint8_t *a)
{
	uint8_t f = (uint8_t)family;

	return hash_bytes(hash_bytes(HASH_INIT, &f, 1), a, family == AF_INET ? 4 : 16);
}

static int
vip_is(const struct ipaddr *vip, int family, const uint8_t *a)
{
	return vip->family == family && memcmp(vip->a, a, family == AF_INET ? 4 : 16) == 0;
}

/* ---- counters ---- */

/* A VIP's counters, made on first use; kept when the VIP goes (metrics). */
static struct l2_counter *
counter(struct l2_ctx *c, const struct ipaddr *vip)
{
	uint64_t h = vip_hash(vip->family, vip->a);
	size_t s = IX_START;
	ssize_t p;

	while ((p = ix_next(&c->ctr_ix, h, &s)) != -1)
		if (ipaddr_eq(&c->ctr[p].vip, vip))
			return &c->ctr[p];
	c->ctr = xreallocarray(c->ctr, c->nctr + 1, sizeof(*c->ctr));
	memset(&c->ctr[c->nctr], 0, sizeof(c->ctr[0]));
	c->ctr[c->nctr].vip = *vip;
	ix_add(&c->ctr_ix, h, c->nctr);
	return &c->ctr[c->nctr++];
}

/* ---- interfaces ---- */

static int
write_sysctl(const char *ifname, const char *key, int val)
{
	char path[128], cur[16];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/%s", ifname, key);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	n = (int)read(fd, cur, sizeof(cur) - 1);
	if (n > 0) {
		cur[n] = 0;
		if (atoi(cur) == val) {
			close(fd);
			return 0;
		}
	}
	n = snprintf(cur, sizeof(cur), "%d\n", val);
	if (pwrite(fd, cur, (size_t)n, 0) != n) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
is_enslaved(const char *ifname)
{
	char path[128];
	struct stat sb;

	snprintf(path, sizeof(path), "/sys/class/net/%s/master", ifname);
	return lstat(path, &sb) == 0;
}

/* ARP, NS and NA only: everything else stays in the kernel. */
static int
attach_filter(int fd)
{
	static struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),			/* ethertype */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, L2_ETH_P_ARP, 6, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, L2_ETH_P_IPV6, 0, 6),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),			/* next header */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 4),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 54),			/* ICMPv6 type */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135, 1, 0),		/* NS */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 136, 0, 1),		/* NA */
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog fp = { VG_ARRAY_SIZE(code), code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp));
}

static void if_read_cb(evutil_socket_t, short, void *);

static int
if_open(struct l2_ctx *c, struct l2_if *ifp)
{
	struct sockaddr_ll sll;

	if (write_sysctl(ifp->name, "arp_ignore", 1) == -1 ||
	    write_sysctl(ifp->name, "arp_announce", 2) == -1) {
		log_error("l2: cannot set arp_ignore=1/arp_announce=2 on %s (%s): the kernel "
		    "would answer ARP for the VIPs there; not announcing on it",
		    ifp->name, strerror(errno));
		return -1;
	}
	/* protocol 0: nothing arrives before the filter is on and the bind done */
	ifp->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ifp->fd == -1) {
		log_warn("l2: AF_PACKET socket for %s", ifp->name);
		return -1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifp->ifindex;
	if (attach_filter(ifp->fd) == -1 ||
	    bind(ifp->fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		log_warn("l2: responder on %s", ifp->name);
		close(ifp->fd);
		ifp->fd = -1;
		return -1;
	}
	ifp->ctx = c;
	ifp->ev = event_new(c->env->base, ifp->fd, EV_READ | EV_PERSIST, if_read_cb, ifp);
	event_add(ifp->ev, NULL);
	log_info("l2: responder on %s (%02x:%02x:%02x:%02x:%02x:%02x)", ifp->name,
	    ifp->mac[0], ifp->mac[1], ifp->mac[2], ifp->mac[3], ifp->mac[4], ifp->mac[5]);
	return 0;
}

static void
if_close(struct l2_if *ifp)
{
	if (ifp->ev)
		event_free(ifp->ev);
	if (ifp->fd != -1)
		close(ifp->fd);
	ifp->ev = NULL;
	ifp->fd = -1;
}

static struct l2_if *
if_find(struct l2_ctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nifs; i++)
		if (strcmp(c->ifs[i]->name, name) == 0)
			return c->ifs[i];
	return NULL;
}

static int
vip_on_if(const struct l2_owned *o, const struct l2_if *ifp)
{
	size_t i;

	if (o->ifaces == NULL)
		return 1;
	for (i = 0; i < o->nifaces; i++)
		if (strcmp(o->ifaces[i], ifp->name) == 0)
			return 1;
	return 0;
}

static int
our_mac(const struct l2_ctx *c, const uint8_t mac[6])
{
	size_t i;

	for (i = 0; i < c->nifs; i++)
		if (memcmp(c->ifs[i]->mac, mac, 6) == 0)
			return 1;
	return 0;
}

struct l2_owned *
l2_owned_find(struct l2_ctx *c, int family, const uint8_t *a)
{
	uint64_t h = vip_hash(family, a);
	size_t s = IX_START;
	ssize_t p;

	while ((p = ix_next(&c->own_ix, h, &s)) != -1)
		if (vip_is(&c->own[p].vip, family, a))
			return &c->own[p];
	return NULL;
}

/* own[] lost or moved entries: index it again. */
static void
owned_reindex(struct l2_ctx *c)
{
	size_t i;

	ix_clear(&c->own_ix);
	for (i = 0; i < c->nown; i++)
		ix_add(&c->own_ix, vip_hash(c->own[i].vip.family, c->own[i].vip.a), i);
}

/* ---- sending ---- */

static void
if_send(struct l2_if *ifp, const uint8_t *frame, size_t n)
{
	if (ifp->fd == -1 || n == 0)
		return;
	if (send(ifp->fd, frame, n, MSG_DONTWAIT) == -1)
		log_debug("l2: send on %s: %s", ifp->name, strerror(errno));
}

/* One announcement round for a VIP on its interfaces; with probe, an ARP
 * probe first (RFC 5227 2.1.1) so a duplicate answers and is seen. */
static void
l2_send_round(struct l2_ctx *c, struct l2_owned *o, int probe)
{
	struct l2_counter *ctr = counter(c, &o->vip);
	uint8_t buf[128];
	size_t i, n;

	for (i = 0; i < c->nifs; i++) {
		struct l2_if *ifp = c->ifs[i];

		if (ifp->fd == -1 || !vip_on_if(o, ifp))
			continue;
		if (o->vip.family == AF_INET) {
			if (probe) {
				struct l2_arp a;

				memset(&a, 0, sizeof(a));
				memset(a.eth_dst, 0xff, 6);
				memcpy(a.eth_src, ifp->mac, 6);
				a.op = L2_ARP_REQUEST;
				memcpy(a.sha, ifp->mac, 6);
				memcpy(a.tpa, o->vip.a, 4);
				if_send(ifp, buf, l2_arp_build(buf, sizeof(buf), &a));
			}
			n = l2_garp_build(buf, sizeof(buf), ifp->mac, o->vip.a, L2_ARP_REQUEST);
			if_send(ifp, buf, n);
			n = l2_garp_build(buf, sizeof(buf), ifp->mac, o->vip.a, L2_ARP_REPLY);
			if_send(ifp, buf, n);
			ctr->gratuitous += 2;
		} else if (ifp->has_ll) {
			n = l2_unsolicited_na_build(buf, sizeof(buf), ifp->mac, ifp->ll, o->vip.a);
			if_send(ifp, buf, n);
			ctr->gratuitous++;
		}
	}
}

static void
burst_schedule(struct l2_ctx *c)
{
	struct timeval tv = l2_ms_tv(BURST_SPACING_MS);

	if (!evtimer_pending(c->ev_burst, NULL))
		evtimer_add(c->ev_burst, &tv);
}

static void
burst_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct l2_ctx *c = arg;
	int64_t now = now_ms();
	int more = 0;
	size_t i;

	for (i = 0; i < c->nown; i++) {
		if (c->own[i].burst_until <= now)
			continue;
		l2_send_round(c, &c->own[i], 0);
		if (c->own[i].burst_until > now + BURST_SPACING_MS / 2)
			more = 1;
	}
	if (more)
		burst_schedule(c);
}

static void
refresh_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct l2_ctx *c = arg;
	size_t i;

	for (i = 0; i < c->nown; i++)
		l2_send_round(c, &c->own[i], 0);
}

static void
refresh_arm(struct l2_ctx *c)
{
	int64_t r = c->env->cfg->l2.refresh_ms;

	if (r == c->refresh_ms)
		return;
	c->refresh_ms = r;
	event_del(c->ev_refresh);
	if (r > 0) {
		struct timeval tv = l2_ms_tv(r);

		event_add(c->ev_refresh, &tv);
	}
}

/* ---- receiving ---- */

static void
conflict(struct l2_ctx *c, struct l2_owned *o, const uint8_t mac[6], const char *how)
{
	char m[18], b[IPADDR_STRLEN];

	snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
	    mac[4], mac[5]);
	c->conflicts++;
	/* logged when the claimant changes, not for every frame */
	if (!o->conflict || strcmp(o->conflict_mac, m) != 0)
		log_warnx("l2: conflict: %s %s from %s, but this node owns it",
		    ipaddr_fmt(&o->vip, b), how, m);
	o->conflict = 1;
	memcpy(o->conflict_mac, m, sizeof(m));
	o->conflict_at = now_ms();
}

static void
on_arp(struct l2_ctx *c, struct l2_if *ifp, const struct l2_arp *a)
{
	static const uint8_t zero[4];
	struct l2_owned *o;
	uint8_t buf[128];

	/* someone else speaking for an owned VIP: a reply, a GARP, or a probe answer */
	if (memcmp(a->spa, zero, 4) != 0 && (o = l2_owned_find(c, AF_INET, a->spa)) != NULL &&
	    !our_mac(c, a->sha)) {
		conflict(c, o, a->sha, a->op == L2_ARP_REPLY ? "ARP reply" : "ARP announcement");
		return;
	}
	if (a->op != L2_ARP_REQUEST)
		return;
	/* MetalLB: requests to broadcast or to this interface's MAC only */
	if (memcmp(a->eth_dst, "\xff\xff\xff\xff\xff\xff", 6) != 0 &&
	    memcmp(a->eth_dst, ifp->mac, 6) != 0)
		return;
	if ((o = l2_owned_find(c, AF_INET, a->tpa)) == NULL || !vip_on_if(o, ifp))
		return;
	/* a GARP of our own (SPA = TPA) needs no answer */
	if (memcmp(a->spa, a->tpa, 4) == 0)
		return;
	counter(c, &o->vip)->requests++;
	if_send(ifp, buf, l2_arp_reply_build(buf, sizeof(buf), a, ifp->mac));
	counter(c, &o->vip)->responses++;
}

static void
on_ns(struct l2_ctx *c, struct l2_if *ifp, const struct l2_ns *ns)
{
	static const uint8_t unspec[16];
	struct l2_owned *o;
	uint8_t buf[128];

	if ((o = l2_owned_find(c, AF_INET6, ns->target)) == NULL || !vip_on_if(o, ifp))
		return;
	/* MetalLB answers only solicitations with a source link-layer option;
	 * a DAD probe (from ::) for our VIP gets the all-nodes answer */
	if (!ns->has_sll && memcmp(ns->src, unspec, 16) != 0)
		return;
	counter(c, &o->vip)->requests++;
	if_send(ifp, buf, l2_na_reply_build(buf, sizeof(buf), ns, ifp->mac));
	counter(c, &o->vip)->responses++;
}

static void
on_na(struct l2_ctx *c, const struct l2_na *na)
{
	struct l2_owned *o;
	const uint8_t *mac = na->has_tll ? na->tll : na->eth_src;

	if ((o = l2_owned_find(c, AF_INET6, na->target)) != NULL && !our_mac(c, mac))
		conflict(c, o, mac, "neighbor advertisement");
}

static void
if_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct l2_if *ifp = arg;
	struct l2_ctx *c = ifp->ctx;
	uint8_t buf[2048];
	int i;

	for (i = 0; i < 64; i++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		struct l2_arp a;
		struct l2_ns ns;
		struct l2_na na;

		if (n <= 0)
			break;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (l2_arp_parse(buf, (size_t)n, &a) > 0)
			on_arp(c, ifp, &a);
		else if (l2_ns_parse(buf, (size_t)n, &ns) > 0)
			on_ns(c, ifp, &ns);
		else if (l2_na_parse(buf, (size_t)n, &na) > 0)
			on_na(c, &na);
	}
}

/* ---- solicited-node groups ---- */

/*
 * Solicited-node memberships (RFC 4861 7.2.1) follow the owned IPv6 VIPs
 * and the responder interfaces: join what is missing, leave what is no
 * longer needed. Joining makes the kernel send MLD reports, so snooping
 * switches forward the NS to us; several VIPs may share one group.
 */
static uint64_t
group_hash(int ifindex, const uint8_t g[16])
{
	return hash_bytes(hash_bytes(HASH_INIT, &ifindex, sizeof(ifindex)), g, 16);
}

/*
 * Join g on ifindex through the first socket with room, opening another
 * when all are full: the socket's index, or -1 (logged by the caller).
 */
static int
group_join(struct l2_ctx *c, int ifindex, const uint8_t g[16])
{
	struct ipv6_mreq mr;
	size_t i;

	memcpy(&mr.ipv6mr_multiaddr, g, 16);
	mr.ipv6mr_interface = (unsigned)ifindex;
	for (i = 0; i <= c->nmcast; i++) {
		if (i == c->nmcast) {
			int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

			if (fd == -1)
				return -1;
			c->mcast = xreallocarray(c->mcast, c->nmcast + 1, sizeof(*c->mcast));
			c->mcast[c->nmcast++] = (struct l2_mcast){ .fd = fd };
			if (c->nmcast > 1)
				log_info("l2: %zu sockets hold the solicited-node groups "
				    "(%zu on each before)", c->nmcast, c->mcast[0].n);
		}
		if (c->mcast[i].full)
			continue;
		if (setsockopt(c->mcast[i].fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr,
		    sizeof(mr)) == 0) {
			c->mcast[i].n++;
			return (int)i;
		}
		if (errno != ENOMEM && errno != ENOBUFS)
			return -1;
		c->mcast[i].full = 1;
	}
	return -1;
}

static void
group_leave(struct l2_ctx *c, const struct l2_group *gr)
{
	struct ipv6_mreq mr;
	struct l2_mcast *m;

	if (gr->sock < 0)
		return;
	m = &c->mcast[gr->sock];
	memcpy(&mr.ipv6mr_multiaddr, gr->group, 16);
	mr.ipv6mr_interface = (unsigned)gr->ifindex;
	/* fails harmlessly when the interface is gone (its groups went with it) */
	(void)setsockopt(m->fd, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &mr, sizeof(mr));
	m->n--;
	m->full = 0;
}

static void
groups_sync(struct l2_ctx *c)
{
	size_t i, j, k, ngroups;
	char b[IPADDR_STRLEN];

	for (k = 0; k < c->ngroups; k++)
		c->groups[k].refs = 0;
	for (i = 0; i < c->nown; i++) {
		const struct l2_owned *o = &c->own[i];
		uint8_t g[16], m[6];

		if (o->vip.family != AF_INET6)
			continue;
		l2_solicited_node(o->vip.a, g, m);
		for (j = 0; j < c->nifs; j++) {
			const struct l2_if *ifp = c->ifs[j];
			uint64_t h;
			size_t s = IX_START;
			ssize_t p;

			if (ifp->fd == -1 || !vip_on_if(o, ifp))
				continue;
			h = group_hash(ifp->ifindex, g);
			while ((p = ix_next(&c->group_ix, h, &s)) != -1)
				if (c->groups[p].ifindex == ifp->ifindex &&
				    memcmp(c->groups[p].group, g, 16) == 0)
					break;
			k = p == -1 ? c->ngroups : (size_t)p;
			if (k == c->ngroups) {
				c->groups = xreallocarray(c->groups, c->ngroups + 1,
				    sizeof(*c->groups));
				ix_add(&c->group_ix, h, k);
				c->groups[k].ifindex = ifp->ifindex;
				memcpy(c->groups[k].group, g, 16);
				c->groups[k].refs = 0;
				c->groups[k].sock = group_join(c, ifp->ifindex, g);
				c->ngroups++;
				if (c->groups[k].sock == -1)
					log_warn("l2: joining the solicited-node group of %s on %s",
					    ipaddr_fmt(&o->vip, b), ifp->name);
				else
					log_debug("l2: joined the solicited-node group of %s on %s",
					    ipaddr_fmt(&o->vip, b), ifp->name);
			}
			c->groups[k].refs++;
		}
	}
	/* the unused go, the last taking their place: index again after */
	ngroups = c->ngroups;
	for (k = 0; k < c->ngroups;) {
		if (c->groups[k].refs > 0) {
			k++;
			continue;
		}
		group_leave(c, &c->groups[k]);
		c->groups[k] = c->groups[--c->ngroups];
	}
	if (c->ngroups != ngroups) {
		ix_clear(&c->group_ix);
		for (k = 0; k < c->ngroups; k++)
			ix_add(&c->group_ix, group_hash(c->groups[k].ifindex, c->groups[k].group), k);
	}
}

/* ---- interface scan ---- */

/*
 * The interfaces the VIPs' L2Advertisements name, each once (borrowed from
 * d), and in *any whether some VIP's name none: one pass over the VIPs a
 * scan, not one an interface (a node has an interface a pod). The names
 * are the few the advertisements list, so a list suffices.
 */
static const char **
named_ifaces(const struct desired *d, size_t *np, int *any)
{
	struct vg_ptrvec names = { 0 };
	const char **last = NULL;
	size_t i, j, k;

	*any = 0;
	for (i = 0; d && d->l2 && i < d->l2->nvips; i++) {
		const struct l2_vip *v = &d->l2->vips[i];

		if (v->nifaces == 0)
			*any = 1;
		/* the list of the VIP before: nothing new */
		if (v->nifaces == 0 || v->ifaces == last)
			continue;
		last = v->ifaces;
		for (j = 0; j < v->nifaces; j++) {
			for (k = 0; k < names.n; k++)
				if (strcmp(names.v[k], v->ifaces[j]) == 0)
					break;
			if (k == names.n)
				ptrvec_push(&names, (void *)v->ifaces[j]);
		}
	}
	*np = names.n;
	return (const char **)names.v;
}

/*
 * Named by an L2Advertisement: taken as it is. Every suitable interface
 * only when some VIP's advertisements name none. Every VIP counts, owned
 * or not, so the set does not follow ownership.
 */
static int
want_if(struct l2_ctx *c, const char **named, size_t nnamed, int any, const char *name,
    unsigned flags)
{
	const char *hold = c->env->cfg->addresses.interface;
	size_t i;

	if (flags & IFF_LOOPBACK || !(flags & IFF_UP))
		return 0;
	if (strcmp(name, "vipgate0") == 0 || (hold && strcmp(name, hold) == 0))
		return 0;
	for (i = 0; i < nnamed; i++)
		if (strcmp(named[i], name) == 0)
			return 1;
	return any && (flags & IFF_BROADCAST) && !(flags & IFF_NOARP) && !is_enslaved(name);
}

static void
l2_rescan(struct l2_ctx *c, const struct desired *d)
{
	struct ifaddrs *ifa0, *ifa;
	const char **named;
	size_t i, k, nnamed;
	int sfd, any;

	if (d == NULL || d->l2 == NULL) {
		/* nothing to answer for: close everything */
		for (i = 0; i < c->nifs; i++) {
			if_close(c->ifs[i]);
			free(c->ifs[i]);
		}
		c->nifs = 0;
		return;
	}
	if (getifaddrs(&ifa0) == -1) {
		log_warn("l2: getifaddrs");
		return;
	}
	named = named_ifaces(d, &nnamed, &any);
	sfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (i = 0; i < c->nifs; i++)
		c->ifs[i]->mark = 0;
	for (ifa = ifa0; ifa; ifa = ifa->ifa_next) {
		struct l2_if *ifp;
		struct ifreq ifr;

		if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != AF_PACKET ||
		    strlen(ifa->ifa_name) >= IFNAMSIZ ||
		    !want_if(c, named, nnamed, any, ifa->ifa_name, ifa->ifa_flags))
			continue;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifa->ifa_name);
		if (sfd == -1 || ioctl(sfd, SIOCGIFHWADDR, &ifr) == -1 ||
		    ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
			continue;
		if ((ifp = if_find(c, ifa->ifa_name)) != NULL &&
		    (ifp->ifindex != (int)if_nametoindex(ifa->ifa_name) ||
		    memcmp(ifp->mac, ifr.ifr_hwaddr.sa_data, 6) != 0)) {
			/* re-created or re-addressed: start again */
			if_close(ifp);
			ifp->name[0] = '\0';
			ifp = NULL;
		}
		if (ifp == NULL) {
			ifp = xcalloc(1, sizeof(*ifp));
			snprintf(ifp->name, sizeof(ifp->name), "%s", ifa->ifa_name);
			ifp->ifindex = (int)if_nametoindex(ifa->ifa_name);
			memcpy(ifp->mac, ifr.ifr_hwaddr.sa_data, 6);
			ifp->fd = -1;
			if (if_open(c, ifp) == -1) {
				free(ifp);
				continue;
			}
			c->ifs = xreallocarray(c->ifs, c->nifs + 1, sizeof(*c->ifs));
			c->ifs[c->nifs++] = ifp;
		}
		ifp->mark = 1;
	}
	/* link-local addresses, for unsolicited NAs */
	for (i = 0; i < c->nifs; i++)
		c->ifs[i]->has_ll = 0;
	for (ifa = ifa0; ifa; ifa = ifa->ifa_next) {
		const struct sockaddr_in6 *s6 = (const void *)ifa->ifa_addr;
		struct l2_if *ifp;

		if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != AF_INET6 ||
		    !IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) ||
		    (ifp = if_find(c, ifa->ifa_name)) == NULL)
			continue;
		memcpy(ifp->ll, &s6->sin6_addr, 16);
		ifp->has_ll = 1;
	}
	freeifaddrs(ifa0);
	free(named);
	if (sfd != -1)
		close(sfd);
	for (i = 0, k = 0; i < c->nifs; i++) {
		if (c->ifs[i]->mark) {
			c->ifs[k++] = c->ifs[i];
		} else {
			if (c->ifs[i]->name[0])
				log_info("l2: interface %s gone", c->ifs[i]->name);
			if_close(c->ifs[i]);
			free(c->ifs[i]);
		}
	}
	c->nifs = k;
}

static void
rescan_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct l2_ctx *c = arg;
	size_t i, nifs = c->nifs;
	int *fds = xcalloc(nifs + 1, sizeof(int));

	for (i = 0; i < nifs; i++)
		fds[i] = c->ifs[i]->fd;
	l2_rescan(c, c->cur);
	groups_sync(c);
	/* a new interface gets the announcements too */
	for (i = 0; i < c->nifs; i++) {
		size_t j, k;
		int seen = 0;

		for (j = 0; j < nifs; j++)
			seen |= fds[j] == c->ifs[i]->fd;
		if (seen)
			continue;
		for (k = 0; k < c->nown; k++)
			if (vip_on_if(&c->own[k], c->ifs[i]))
				c->own[k].burst_until = now_ms() + BURST_LEN_MS;
		burst_schedule(c);
	}
	free(fds);
}

/* ---- the applier ---- */

static void
owned_free(struct l2_owned *o)
{
	size_t i;

	for (i = 0; i < o->nifaces; i++)
		free(o->ifaces[i]);
	free(o->ifaces);
}

/* Whether a desired VIP's interface list equals an owned one's. */
static int
same_ifaces(const struct l2_owned *o, const struct l2_vip *v)
{
	size_t i;

	if ((o->ifaces == NULL) != (v->nifaces == 0) || (o->ifaces && o->nifaces != v->nifaces))
		return 0;
	for (i = 0; o->ifaces && i < o->nifaces; i++)
		if (strcmp(o->ifaces[i], v->ifaces[i]) != 0)
			return 0;
	return 1;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The deployments that cannot serve here while others can: the heartbeat
 * names them, so the others elect without this node for their Services'
 * VIPs only.
 */
static void
gw_deps_sync(struct l2_ctx *c, const struct desired *new)
{
	char **v = NULL;
	size_t n = 0, i;
	struct vg_buf b = { 0 };
	int same;

	for (i = 0; new->gateway_down == NULL && i < new->ngateway_deps; i++)
		if (new->gateway_deps[i].why) {
			v = xreallocarray(v, n + 1, sizeof(char *));
			v[n++] = xstrdup(new->gateway_deps[i].name);
		}
	if (n > 1)
		qsort(v, n, sizeof(char *), cmp_name);
	same = n == c->ngw_deps;
	for (i = 0; same && i < n; i++)
		same = strcmp(v[i], c->gw_deps[i]) == 0;
	if (!same) {
		for (i = 0; i < n; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", v[i]);
		if (n)
			log_info("l2: this node's gateway cannot serve deployment%s %s: the heartbeat "
			    "says so", n > 1 ? "s" : "", b.s);
		else if (!c->gw_down)
			log_info("l2: this node's gateway serves every deployment again");
		buf_free(&b);
	}
	for (i = 0; i < c->ngw_deps; i++)
		free(c->gw_deps[i]);
	free(c->gw_deps);
	c->gw_deps = v;
	c->ngw_deps = n;
}

static int
l2_apply(struct applier *app, const struct desired *old, const struct desired *new)
{
	struct l2_ctx *c = app->ctx;
	const struct l2_desired *l2 = new->l2;
	int64_t now = now_ms();
	size_t i, j, k;
	int gained = 0;
	char b[IPADDR_STRLEN];

	(void)old;
	if (c->env->held && *c->env->held) {
		/*
		 * vipgated -x: the old process still speaks for this node, and
		 * the heartbeat port would be ours alone once bound (the last
		 * socket bound gets the datagrams): nothing starts before it
		 * lets go (l2_resume)
		 */
		desired_unref(c->held);
		c->held = desired_ref((struct desired *)new);
		return 0;
	}
	desired_unref(c->held);		/* newer than what was held */
	c->held = NULL;
	if (c->gw_down != (new->gateway_down != NULL)) {
		/* the next heartbeat says so: the others elect without this node
		 * for the gateway's VIPs */
		c->gw_down = new->gateway_down != NULL;
		log_info("l2: this node's gateway %s%s", c->gw_down ? "cannot serve: " :
		    "serves again", c->gw_down ? new->gateway_down : "");
	}
	gw_deps_sync(c, new);
	(void)l2_hbio_sync(c);
	refresh_arm(c);
	desired_unref(c->cur);
	c->cur = desired_ref((struct desired *)new);
	l2_rescan(c, new);

	for (i = 0; i < c->nown; i++)
		c->own[i].mark = 0;
	for (i = 0; l2 && c->settled && !c->draining && i < l2->nvips; i++) {
		const struct l2_vip *v = &l2->vips[i];
		struct l2_owned *o;

		if (!v->mine)
			continue;
		/* a VIP shared by Services appears once per Service */
		o = l2_owned_find(c, v->vip.family, v->vip.a);
		if (o && o->mark)
			continue;
		if (o == NULL) {
			c->own = xreallocarray(c->own, c->nown + 1, sizeof(*c->own));
			ix_add(&c->own_ix, vip_hash(v->vip.family, v->vip.a), c->nown);
			o = &c->own[c->nown++];
			memset(o, 0, sizeof(*o));
			o->vip = v->vip;
			o->burst_until = -1;	/* gained: announced below */
			log_info("l2: this node now answers for %s (%s/%s)",
			    ipaddr_fmt(&v->vip, b), v->ns, v->name);
		}
		o->mark = 1;
		if (!same_ifaces(o, v)) {
			owned_free(o);
			o->ifaces = NULL;
			o->nifaces = v->nifaces;
			if (v->nifaces) {
				o->ifaces = xcalloc(v->nifaces, sizeof(char *));
				for (j = 0; j < v->nifaces; j++)
					o->ifaces[j] = xstrdup(v->ifaces[j]);
			}
			if (o->burst_until != -1)
				o->burst_until = 0;	/* announce on the new set */
		}
	}
	for (i = 0, k = 0; i < c->nown; i++) {
		if (c->own[i].mark) {
			c->own[k++] = c->own[i];
			continue;
		}
		log_info("l2: this node no longer answers for %s", ipaddr_fmt(&c->own[i].vip, b));
		owned_free(&c->own[i]);
	}
	if (k != c->nown) {
		c->nown = k;
		owned_reindex(c);
	}
	groups_sync(c);
	for (i = 0; i < c->nown; i++) {
		struct l2_owned *o = &c->own[i];

		if (o->burst_until <= 0) {
			/* announce at once, then every 1.1 s for 5 s (MetalLB) */
			l2_send_round(c, o, o->burst_until == -1);
			o->burst_until = now + BURST_LEN_MS;
			gained = 1;
		}
	}
	if (gained)
		burst_schedule(c);
	return 0;
}

/*
 * SIGTERM: tell the peers at once, so the next owner does not wait for the
 * timeout; nothing waits on routers here (the new owner's gratuitous ARP
 * and NA move the traffic).
 */
static int
l2_leave(struct applier *app)
{
	struct l2_ctx *c = app->ctx;

	if (!c->draining) {
		c->draining = 1;
		l2_hbio_leave(c);
	}
	return 0;
}

/*
 * An upgrade: the new process on this node is elected as this one was
 * (the same node name). No leave, which would move the VIPs to other
 * nodes; heartbeats stop (the peers hear the new process's at once, a
 * later incarnation); the VIPs owned stay, and ARP and NDP answers go on
 * until exit, while the new process settles (the daemon waits for it).
 */
static void
l2_handoff(struct applier *app)
{
	struct l2_ctx *c = app->ctx;

	c->draining = 1;
	/* the new process binds the port and judges the peers from now */
	l2_hbio_stop(c);
}

/* The new side: the old process let go; heartbeats, election, answers start. */
static void
l2_resume(struct applier *app)
{
	struct l2_ctx *c = app->ctx;
	struct desired *d = c->held;

	c->held = NULL;
	if (d != NULL) {
		(void)l2_apply(app, NULL, d);
		desired_unref(d);
	}
}

static int64_t
l2_drain(struct applier *app)
{
	(void)l2_leave(app);
	return 0;
}

static void
l2_free(struct applier *app)
{
	struct l2_ctx *c = app->ctx;
	size_t i;

	for (i = 0; i < c->nifs; i++) {
		if_close(c->ifs[i]);
		free(c->ifs[i]);
	}
	free(c->ifs);
	for (i = 0; i < c->nown; i++)
		owned_free(&c->own[i]);
	free(c->own);
	ix_free(&c->own_ix);
	free(c->groups);
	ix_free(&c->group_ix);
	free(c->ctr);
	ix_free(&c->ctr_ix);
	l2_hbio_free(c);
	for (i = 0; i < c->ngw_deps; i++)
		free(c->gw_deps[i]);
	free(c->gw_deps);
	desired_unref(c->held);
	for (i = 0; i < c->nmcast; i++)
		close(c->mcast[i].fd);
	free(c->mcast);
	event_free(c->ev_burst);
	event_free(c->ev_refresh);
	event_free(c->ev_rescan);
	desired_unref(c->cur);
	free(c);
}

struct applier *
l2_applier_new(const struct applier_env *env)
{
	struct l2_ctx *c = xcalloc(1, sizeof(*c));
	struct timeval tv = l2_ms_tv(RESCAN_MS);

	c->env = env;
	c->app.ctx = c;
	c->refresh_ms = -1;
	c->ev_burst = evtimer_new(env->base, burst_cb, c);
	c->ev_refresh = event_new(env->base, -1, EV_PERSIST, refresh_cb, c);
	c->ev_rescan = event_new(env->base, -1, EV_PERSIST, rescan_cb, c);
	l2_hbio_setup(c);
	event_add(c->ev_rescan, &tv);
	if (l2_hbio_sync(c) == -1) {
		log_error("l2: not started: without an authenticated heartbeat every node "
		    "would answer for every VIP");
		l2_free(&c->app);
		return NULL;
	}
	c->app.name = "l2";
	c->app.apply = l2_apply;
	c->app.free = l2_free;
	c->app.show = l2_show;
	c->app.leave = l2_leave;
	c->app.drain = l2_drain;
	c->app.handoff = l2_handoff;
	c->app.resume = l2_resume;
	c->app.metrics = l2_metrics;
	return &c->app;
}

const struct l2_live *
l2_applier_live(const struct applier *a)
{
	const struct l2_ctx *c;

	if (a == NULL)
		return NULL;
	c = a->ctx;
	return &c->live;
}
