/*
 * The L2 heartbeat's I/O: the UDP socket to the speakers named in
 * l2.heartbeat, its send, dead-peer sweep and settle timers, and the live
 * view (the speakers heard alive) given to reconcile's election. The
 * messages themselves and each peer's liveness are heartbeat.c's (pure);
 * the applier (l2.c) calls in here, and a change of the live view goes up
 * only through env->kick.
 */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "l2-int.h"
#include "vipgate/config-t.h"
#include "vipgate/l2.h"
#include "vipgate/log.h"
#include "vipgate/util.h"

#define LEAVE_COPIES		3

static void sweep_arm(struct l2_ctx *);

/* insertion sort: a handful of peers */
static void
names_sort(const char **v, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			const char *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* insertion sort of peers by node name: a handful of them */
static void
peers_sort(const struct l2_peer **v, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(v[j - 1]->st.node, v[j]->st.node) > 0; j--) {
			const struct l2_peer *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static void
live_rebuild(struct l2_ctx *c)
{
	const char **v = xcalloc(c->npeers + 1, sizeof(char *));
	const char **g = xcalloc(c->npeers + 1, sizeof(char *));
	const struct l2_peer **gp = xcalloc(c->npeers + 1, sizeof(*gp));
	struct l2_gw_down *gd = xcalloc(c->npeers + 1, sizeof(*gd));
	const char **names;
	size_t i, j, k, n = 0, ng = 0, nn = 0;

	for (i = 0; i < c->npeers; i++) {
		if (!c->peers[i].st.alive ||
		    strcmp(c->peers[i].st.node, c->env->cfg->node.name) == 0)
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(v[j], c->peers[i].st.node) == 0)
				break;
		if (j == n) {
			v[n++] = c->peers[i].st.node;
			if (c->peers[i].st.gw_down) {
				gp[ng++] = &c->peers[i];
				nn += c->peers[i].st.ngw_deps;
			}
		}
	}
	names_sort(v, n);
	peers_sort(gp, ng);
	/* each one's deployments that cannot serve; none named: all */
	names = xcalloc(nn + 1, sizeof(char *));
	for (i = 0, k = 0; i < ng; i++) {
		g[i] = gp[i]->st.node;
		gd[i].deps = gp[i]->st.ngw_deps ? names + k : NULL;
		gd[i].ndeps = gp[i]->st.ngw_deps;
		for (j = 0; j < gp[i]->st.ngw_deps; j++)
			names[k++] = gp[i]->st.gw_deps[j];
	}
	free(gp);
	free(c->live.nodes);
	c->live.nodes = v;
	c->live.nnodes = n;
	free(c->live.gw_down);
	c->live.gw_down = g;
	c->live.ngw_down = ng;
	free(c->live_gwd);
	free(c->live_gwd_names);
	c->live_gwd = gd;
	c->live_gwd_names = names;
	c->live.gw_down_deps = gd;
	c->live.heartbeat = c->hb_on;
}

static void
live_changed(struct l2_ctx *c)
{
	live_rebuild(c);
	if (c->settled)
		c->env->kick(c->env->kick_arg);
}

/*
 * The heartbeat to every peer. A peer that reads the extended form learns
 * which deployments cannot serve here; any other hears that the gateway
 * cannot serve at all (its VIPs of the deployments that can go to other
 * nodes there, as before the list existed).
 */
static void
hb_send(struct l2_ctx *c, uint8_t type)
{
	uint8_t buf[L2_HB_MAXLEN], ebuf[L2_HB_MAXLEN];
	struct l2_hb *hb = xcalloc(1, sizeof(*hb));
	size_t i, n, en = 0;

	hb->type = type;
	hb->incarnation = c->incarnation;
	hb->seq = ++c->seq;
	hb->interval_ms = (uint32_t)c->interval_ms;
	hb->flags = L2_HB_F_EXT_OK | (c->gw_down || c->ngw_deps ? L2_HB_F_GW_DOWN : 0);
	snprintf(hb->node, sizeof(hb->node), "%s", c->env->cfg->node.name);
	n = l2_hb_build(buf, sizeof(buf), hb, c->key, c->keylen);
	if (!c->gw_down && c->ngw_deps > 0 && c->ngw_deps <= L2_HB_MAXDEPS) {
		hb->flags |= L2_HB_F_EXT;
		for (i = 0; i < c->ngw_deps; i++)
			snprintf(hb->deps[i], sizeof(hb->deps[i]), "%s", c->gw_deps[i]);
		hb->ndeps = c->ngw_deps;
		/* 0 (a name too long for it): every peer hears "all" */
		en = l2_hb_build(ebuf, sizeof(ebuf), hb, c->key, c->keylen);
	}
	free(hb);
	for (i = 0; n && i < c->npeers; i++) {
		int ext = en && c->peers[i].st.ext_ok;

		if (sendto(c->hb_fd, ext ? ebuf : buf, ext ? en : n, MSG_DONTWAIT,
		    (struct sockaddr *)&c->peers[i].sa, sizeof(c->peers[i].sa)) == -1)
			log_debug("l2: heartbeat to %s: %s", c->peers[i].addr, strerror(errno));
	}
}

/*
 * Whether some responder interface has a carrier. When all of them lost
 * it, this node cannot answer on the segment: it stops saying it is alive,
 * so the others take its VIPs over even when the heartbeats travel by
 * another network.
 */
static int
segment_reachable(struct l2_ctx *c)
{
	struct ifreq ifr;
	size_t i;
	int fd, up = 0;

	if (c->nifs == 0)
		return 1;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return 1;
	for (i = 0; i < c->nifs && !up; i++) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->ifs[i]->name);
		up = ioctl(fd, SIOCGIFFLAGS, &ifr) == -1 ||
		    (ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
	}
	close(fd);
	return up;
}

static void
hb_send_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct l2_ctx *c = arg;
	int up;

	if (c->draining)
		return;
	up = segment_reachable(c);
	if (up != !c->link_down) {
		c->link_down = !up;
		if (up)
			log_info("l2: a responder interface has its carrier back: heartbeats resume");
		else
			log_warnx("l2: no responder interface has a carrier: heartbeats stop, "
			    "so the other speakers take the VIPs over");
	}
	if (up)
		hb_send(c, L2_HB_ALIVE);
}

/* A peer's gateway health changed: which of its deployments cannot serve. */
static void
gw_logged(const struct l2_peer *p)
{
	struct vg_buf b = { 0 };
	size_t i;

	for (i = 0; i < p->st.ngw_deps; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", p->st.gw_deps[i]);
	if (!p->st.gw_down)
		log_info("l2: speaker %s (%s): its gateway serves again", p->st.node, p->addr);
	else if (b.s)
		log_info("l2: speaker %s (%s): its gateway cannot serve deployment%s %s",
		    p->st.node, p->addr, p->st.ngw_deps > 1 ? "s" : "", b.s);
	else
		log_info("l2: speaker %s (%s): its gateway cannot serve", p->st.node, p->addr);
	buf_free(&b);
}

static void
hb_recv_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct l2_ctx *c = arg;
	uint8_t buf[L2_HB_MAXLEN + 16];
	int changed = 0, i;

	for (i = 0; i < 64; i++) {
		struct sockaddr_in6 from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		struct l2_peer *p = NULL;
		struct l2_hb hb;
		size_t k;
		int r;

		if (n < 0)
			break;
		for (k = 0; k < c->npeers; k++)
			if (memcmp(&c->peers[k].sa.sin6_addr, &from.sin6_addr, 16) == 0)
				p = &c->peers[k];
		if (p == NULL) {
			c->hb_rejected++;
			continue;
		}
		if ((r = l2_hb_parse(buf, (size_t)n, c->key, c->keylen, &hb)) < 0) {
			c->hb_rejected++;
			log_debug("l2: heartbeat from %s rejected: %s", p->addr, l2_strerror(r));
			continue;
		}
		if (strcmp(hb.node, c->env->cfg->node.name) == 0)
			continue;	/* our own, when the peer list names us */
		switch (l2_peer_heard(&p->st, &hb, now_ms())) {
		case L2_PEER_REPLAY:
			c->hb_rejected++;
			log_debug("l2: heartbeat from %s: replayed or stale (seq %llu)", p->addr,
			    (unsigned long long)hb.seq);
			break;
		case L2_PEER_ALIVE:
			log_info("l2: speaker %s (%s) is alive", p->st.node, p->addr);
			changed = 1;
			break;
		case L2_PEER_LEFT:
			log_info("l2: speaker %s (%s) leaves", p->st.node, p->addr);
			changed = 1;
			break;
		case L2_PEER_RENAMED:
			log_info("l2: speaker at %s is now %s", p->addr, p->st.node);
			changed = 1;
			break;
		case L2_PEER_GATEWAY:
			gw_logged(p);
			changed = 1;
			break;
		default:
			break;
		}
	}
	sweep_arm(c);
	if (changed)
		live_changed(c);
}

/* One timer, at the earliest moment a live peer would turn dead. */
static void
sweep_arm(struct l2_ctx *c)
{
	int64_t first = INT64_MAX, now = now_ms(), d;
	struct timeval tv;
	size_t i;

	for (i = 0; i < c->npeers; i++)
		if (c->peers[i].st.alive &&
		    (d = l2_peer_deadline(&c->peers[i].st, (uint32_t)c->interval_ms)) < first)
			first = d;
	if (first == INT64_MAX) {
		evtimer_del(c->ev_sweep);
		return;
	}
	tv = l2_ms_tv(first > now ? first - now : 0);
	evtimer_add(c->ev_sweep, &tv);
}

static void
sweep_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct l2_ctx *c = arg;
	int64_t now = now_ms();
	int changed = 0;
	size_t i;

	for (i = 0; i < c->npeers; i++) {
		struct l2_peer *p = &c->peers[i];

		if (l2_peer_tick(&p->st, (uint32_t)c->interval_ms, now) == L2_PEER_DEAD) {
			log_warnx("l2: speaker %s (%s) not heard for %lld ms: dead", p->st.node,
			    p->addr, (long long)(now - p->st.last));
			changed = 1;
		}
	}
	sweep_arm(c);
	if (changed)
		live_changed(c);
}

/*
 * A starting speaker has heard nobody yet: claiming every VIP until the
 * peers are heard would steal them for a moment. It owns nothing until
 * L2_DEAD_INTERVALS intervals have passed.
 */
static void
settle_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct l2_ctx *c = arg;

	c->settled = 1;
	live_rebuild(c);
	c->env->kick(c->env->kick_arg);
}

/* Close the socket and stop the send and sweep timers; peers and key stay. */
static void
hb_stop(struct l2_ctx *c)
{
	if (c->ev_hb)
		event_free(c->ev_hb);
	if (c->hb_fd != -1)
		close(c->hb_fd);
	c->ev_hb = NULL;
	c->hb_fd = -1;
	if (c->ev_hb_send)
		event_del(c->ev_hb_send);
	if (c->ev_sweep)
		event_del(c->ev_sweep);
}

void
l2_hbio_stop(struct l2_ctx *c)
{
	hb_stop(c);
}

static void
hb_close(struct l2_ctx *c)
{
	size_t i;

	hb_stop(c);
	for (i = 0; i < c->npeers; i++)
		free(c->peers[i].addr);
	free(c->peers);
	c->peers = NULL;
	c->npeers = 0;
	free(c->key);
	c->key = NULL;
	c->keylen = 0;
}

static char *
hb_signature(const struct cfg_heartbeat *h)
{
	struct vg_buf b = { 0 };
	size_t i;

	buf_printf(&b, "%lld|%lld|%s", (long long)h->port, (long long)h->interval_ms,
	    h->key_file ? h->key_file : "");
	for (i = 0; i < h->npeers; i++)
		buf_printf(&b, "|%s", h->peers[i]);
	if (b.s == NULL)
		buf_puts(&b, "");
	return b.s;
}

/*
 * (Re)configure the heartbeat from the current config. Peers whose address
 * stays keep their state, so a reload does not make them dead for a while.
 */
int
l2_hbio_sync(struct l2_ctx *c)
{
	const struct cfg_heartbeat *h = &c->env->cfg->l2.heartbeat;
	struct l2_peer *old = c->peers;
	size_t nold = c->npeers, i, j;
	char *sig = hb_signature(h);
	struct sockaddr_in6 sa;
	struct timeval tv;
	int one = 1, zero = 0;
	uint8_t *key = NULL;
	size_t keylen = 0;

	if (c->hb_sig && strcmp(sig, c->hb_sig) == 0) {
		/* same settings: the key file may still have new content */
		char *k = c->hb_on && h->key_file ? read_file(h->key_file, &keylen) : NULL;

		free(sig);
		if (k && keylen > 0 && (keylen != c->keylen || memcmp(k, c->key, keylen) != 0)) {
			log_info("l2: heartbeat key changed (%s)", h->key_file);
			free(c->key);
			c->key = (uint8_t *)k;
			c->keylen = keylen;
		} else {
			free(k);
		}
		return 0;
	}
	if (h->npeers > 0) {
		char *k = h->key_file ? read_file(h->key_file, &keylen) : NULL;

		if (k == NULL || keylen == 0) {
			log_error("l2: heartbeat peers are configured but the key (l2.heartbeat."
			    "key_file %s) cannot be read%s", h->key_file ? h->key_file : "unset",
			    c->hb_sig ? ": the running heartbeat stays" : "");
			free(k);
			free(sig);
			return -1;
		}
		key = (uint8_t *)k;
	}
	c->peers = NULL;
	c->npeers = 0;
	hb_stop(c);
	free(c->key);
	c->key = key;
	c->keylen = keylen;
	free(c->hb_sig);
	c->hb_sig = sig;
	c->hb_on = h->npeers > 0;
	c->interval_ms = h->interval_ms > 0 ? h->interval_ms : 50;
	if (!c->hb_on) {
		for (i = 0; i < nold; i++)
			free(old[i].addr);
		free(old);
		c->settled = 1;
		live_rebuild(c);
		return 0;
	}
	c->peers = xcalloc(h->npeers, sizeof(*c->peers));
	for (i = 0; i < h->npeers; i++) {
		struct l2_peer *p = &c->peers[c->npeers];
		struct ipaddr ip;

		if (ipaddr_parse(h->peers[i], &ip) == -1) {
			log_warnx("l2: heartbeat peer %s is not an address", h->peers[i]);
			continue;
		}
		for (j = 0; j < nold; j++)
			if (old[j].addr && strcmp(old[j].addr, h->peers[i]) == 0) {
				*p = old[j];
				old[j].addr = NULL;
				break;
			}
		if (j == nold)
			p->addr = xstrdup(h->peers[i]);
		memset(&p->sa, 0, sizeof(p->sa));
		p->sa.sin6_family = AF_INET6;
		p->sa.sin6_port = htons((uint16_t)h->port);
		if (ip.family == AF_INET) {
			p->sa.sin6_addr.s6_addr[10] = 0xff;
			p->sa.sin6_addr.s6_addr[11] = 0xff;
			memcpy(&p->sa.sin6_addr.s6_addr[12], ip.a, 4);
		} else {
			memcpy(&p->sa.sin6_addr, ip.a, 16);
		}
		c->npeers++;
	}
	for (i = 0; i < nold; i++)
		free(old[i].addr);
	free(old);

	c->hb_fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons((uint16_t)h->port);
	if (c->hb_fd == -1 ||
	    setsockopt(c->hb_fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) == -1 ||
	    setsockopt(c->hb_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(c->hb_fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		log_warn("l2: heartbeat socket on port %lld", (long long)h->port);
		if (c->hb_fd != -1)
			close(c->hb_fd);
		c->hb_fd = -1;
		live_rebuild(c);
		return -1;
	}
	c->ev_hb = event_new(c->env->base, c->hb_fd, EV_READ | EV_PERSIST, hb_recv_cb, c);
	event_add(c->ev_hb, NULL);
	tv = l2_ms_tv(c->interval_ms);
	event_add(c->ev_hb_send, &tv);
	sweep_arm(c);
	hb_send(c, L2_HB_ALIVE);
	if (!c->settled && !evtimer_pending(c->ev_settle, NULL)) {
		tv = l2_ms_tv(L2_DEAD_INTERVALS * c->interval_ms);
		evtimer_add(c->ev_settle, &tv);
	}
	live_rebuild(c);
	log_info("l2: heartbeat on port %lld to %zu peers every %lld ms", (long long)h->port,
	    c->npeers, (long long)c->interval_ms);
	return 0;
}

void
l2_hbio_setup(struct l2_ctx *c)
{
	struct timespec ts;

	c->hb_fd = -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* grows across restarts, so peers drop what they recorded of a past life */
	c->incarnation = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	c->ev_hb_send = event_new(c->env->base, -1, EV_PERSIST, hb_send_cb, c);
	c->ev_sweep = evtimer_new(c->env->base, sweep_cb, c);
	c->ev_settle = evtimer_new(c->env->base, settle_cb, c);
}

/* SIGTERM: tell the peers at once, so the next owner does not wait for the timeout. */
void
l2_hbio_leave(struct l2_ctx *c)
{
	int i;

	if (c->hb_on && c->hb_fd != -1) {
		/* datagrams get lost: a few copies, each with its own sequence number */
		for (i = 0; i < LEAVE_COPIES; i++)
			hb_send(c, L2_HB_LEAVE);
		log_info("l2: leave sent to %zu peers", c->npeers);
	}
}

void
l2_hbio_free(struct l2_ctx *c)
{
	hb_close(c);
	free(c->live.gw_down);
	free(c->live_gwd);
	free(c->live_gwd_names);
	free(c->hb_sig);
	free(c->live.nodes);
	event_free(c->ev_hb_send);
	event_free(c->ev_sweep);
	event_free(c->ev_settle);
}
