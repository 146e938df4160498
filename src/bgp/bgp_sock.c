/*
 * The BGP speaker's sockets: addresses to and from sockaddrs, TCP MD5
 * (RFC 2385), TTL and Nagle, the link-local next hop of the interface
 * (RFC 2545 §3), and closing a connection once its NOTIFICATION is out.
 * Calls nothing else of the speaker.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "bgp-int.h"
#include "vipgate/bgp-t.h"

/* The last write went out: the connection goes. */
static void
closing_write_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

/* Closed, failed or timed out before it went: the connection goes all the same. */
static void
closing_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

void
bgp_conn_close(struct bufferevent *bev)
{
	struct timeval tv = { 2, 0 };

	if (bev == NULL)
		return;
	bufferevent_disable(bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		bufferevent_free(bev);
		return;
	}
	bufferevent_setcb(bev, NULL, closing_write_cb, closing_event_cb, NULL);
	bufferevent_set_timeouts(bev, NULL, &tv);
	bufferevent_enable(bev, EV_WRITE);
}

int
bgp_md5_set(int fd, const struct ipaddr *peer, const char *key)
{
	struct tcp_md5sig md;
	size_t klen = key ? strlen(key) : 0;

	memset(&md, 0, sizeof(md));
	if (peer->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&md.tcpm_addr;

		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, peer->a, 4);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&md.tcpm_addr;

		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, peer->a, 16);
	}
	if (klen > TCP_MD5SIG_MAXKEYLEN)
		klen = TCP_MD5SIG_MAXKEYLEN;
	md.tcpm_keylen = (uint16_t)klen;
	if (klen)
		memcpy(md.tcpm_key, key, klen);
	return setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &md, sizeof(md));
}

socklen_t
bgp_to_sockaddr(const struct ipaddr *ip, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ip->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		memcpy(&s->sin_addr, ip->a, 4);
		return sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		memcpy(&s->sin6_addr, ip->a, 16);
		return sizeof(*s);
	}
}

void
bgp_from_sockaddr(const struct sockaddr *sa, struct ipaddr *ip, uint16_t *port)
{
	memset(ip, 0, sizeof(*ip));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;

		ip->family = AF_INET;
		memcpy(ip->a, &s->sin_addr, 4);
		if (port)
			*port = ntohs(s->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		if (memcmp(&s->sin6_addr, mapped, 12) == 0) {
			ip->family = AF_INET;
			memcpy(ip->a, (const uint8_t *)&s->sin6_addr + 12, 4);
		} else {
			ip->family = AF_INET6;
			memcpy(ip->a, &s->sin6_addr, 16);
		}
		if (port)
			*port = ntohs(s->sin6_port);
	}
}

void
bgp_sock_opts(int fd, const struct bgp_peer_desired *pd)
{
	int ttl = pd->ebgp_multihop ? 255 : 1;
	int ibgp = pd->dynamic == BGP_DYN_INTERNAL ||
	    (pd->dynamic == BGP_DYN_NONE && pd->peer_asn == pd->my_asn);
	int one = 1;

	/* TTL: eBGP is single-hop (1) unless ebgpMultiHop (255) */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ibgp)
		return;
	if (pd->addr.family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
}

void
bgp_find_link_local(const struct ipaddr *local, const struct ipaddr *peer, struct ipaddr *ll)
{
	struct ifaddrs *ifs, *i, *j;
	char ifname[IF_NAMESIZE] = "";

	memset(ll, 0, sizeof(*ll));
	if (local->family != AF_INET6 || getifaddrs(&ifs) < 0)
		return;
	/* the interface with our address, whose prefix holds the peer */
	for (i = ifs; i; i = i->ifa_next) {
		struct ipaddr a, m;
		size_t k;
		int same = 1;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 || !i->ifa_netmask)
			continue;
		bgp_from_sockaddr(i->ifa_addr, &a, NULL);
		bgp_from_sockaddr(i->ifa_netmask, &m, NULL);
		if (!ipaddr_eq(&a, local))
			continue;
		for (k = 0; k < 16; k++)
			if ((a.a[k] & m.a[k]) != (peer->a[k] & m.a[k]))
				same = 0;
		if (same)
			snprintf(ifname, sizeof(ifname), "%s", i->ifa_name);
		break;
	}
	for (j = ifs; j && ifname[0]; j = j->ifa_next) {
		struct ipaddr a;

		if (!j->ifa_addr || j->ifa_addr->sa_family != AF_INET6 ||
		    strcmp(j->ifa_name, ifname) != 0)
			continue;
		bgp_from_sockaddr(j->ifa_addr, &a, NULL);
		if (a.a[0] == 0xfe && (a.a[1] & 0xc0) == 0x80) {
			*ll = a;
			break;
		}
	}
	freeifaddrs(ifs);
}
