/* TCP and TLS passthrough routes at run time (gw_l4_route.c): pure. */
#ifndef VIPGATE_GW_L4_H
#define VIPGATE_GW_L4_H

#include "vipgate/gw-l4-t.h"

/*
 * The rule a connection takes, as Envoy's filter chain match picks it:
 * every match condition must hold (port: the listener's, dst: the address
 * the client reached, src: the client's, sni: the ClientHello's or NULL);
 * among TLS rules the most specific server name wins (exact, then the
 * longest wildcard, then "*"), the first in order on a tie; among TCP
 * rules the first. AUTO_PASSTHROUGH clusters (gw_l4_auto_find) are exact
 * names: they come before the tls[] rules, and only for a hello that
 * offers an Istio ALPN (istio_alpn, as istiod's chains require). NULL:
 * none (Envoy closes the connection, flag NR).
 */
const struct gw_l4_route *gw_l4_route_find(const struct gw_l4 *, uint16_t port,
    const struct ipaddr *dst, const struct ipaddr *src, const char *sni, int istio_alpn);

/* The parts of Istio's cluster-name SNI; pointers into the name, not NUL-terminated. */
struct gw_autopass_name {
	uint16_t	 port;
	const char	*subset;	/* subset_len 0: none */
	size_t		 subset_len;
	const char	*host;
	size_t		 host_len;
};

/*
 * gw_autopass_parse - read "outbound_.<port>_.<subset>_.<host>"
 * (pilot/pkg/model/service.go BuildDNSSrvSubsetKey), as an AUTO_PASSTHROUGH
 * server takes it: the port in decimal without a leading zero (1-65535),
 * the subset empty or a DNS label, the host not empty. 0 and *out filled
 * when sni is of that form, else -1. Pure.
 */
int gw_autopass_parse(const char *sni, struct gw_autopass_name *out);
/* The order of gw_l4.autos: host, port, subset. */
int gw_l4_auto_cmp(const struct gw_l4_auto *, const struct gw_l4_auto *);
/* The AUTO_PASSTHROUGH cluster the SNI names on the listener; NULL: none. */
const struct gw_l4_route *gw_l4_auto_find(const struct gw_l4 *, const char *sni);
/* Whether addr is inside the prefix (families must agree). */
int gw_cidr_has(const struct gw_cidr *, const struct ipaddr *addr);
/* A destination by weight; rnd uniform in 32 bits. NULL when there is none. */
const struct gw_dest *gw_l4_pick_dest(const struct gw_l4_route *, uint32_t rnd);

#endif
