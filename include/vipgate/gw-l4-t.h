/*
 * The compiled gateway's TCP and TLS passthrough listeners: what istiod
 * builds for a TCP server or a PASSTHROUGH server (filter chains ending in
 * a tcp_proxy, pilot/pkg/networking/core/gateway.go
 * buildGatewayNetworkFiltersFromTCPRoutes / ...FromTLSRoutes). Immutable,
 * in the desired state's arena like the rest of gw-t.h.
 */
#ifndef VIPGATE_GW_L4_T_H
#define VIPGATE_GW_L4_T_H

#include <stddef.h>
#include <stdint.h>

#include "vipgate/gw-t.h"
#include "vipgate/ipaddr.h"

/* destinationSubnets, sourceSubnet: an address and a prefix length. */
struct gw_cidr {
	struct ipaddr	addr;
	int		plen;
};

/* One match of a tls[] or tcp[] rule; its fields are ANDed. */
struct gw_l4_match {
	const char	**sni;		/* tls: sniHosts within the server's hosts, lower-cased */
	size_t		  nsni;
	struct gw_cidr	 *dst;		/* destinationSubnets: the address the client reached */
	size_t		  ndst;
	struct gw_cidr	 *src;		/* tcp sourceSubnet: the client's address */
	size_t		  nsrc;
	uint16_t	  port;		/* 0: any */
};

/* One tls[] or tcp[] rule of a VirtualService: a tcp_proxy to weighted clusters. */
struct gw_l4_route {
	const char		*vs_ns, *vs_name;
	size_t			 rule;		/* index in the VirtualService's tls[] or tcp[] */
	struct gw_l4_match	*matches;	/* ORed; none: every connection (tcp) */
	size_t			 nmatches;
	struct gw_dest		*dests;		/* only cluster and weight are used */
	size_t			 ndests;
	uint32_t		 total_weight;
};

enum gw_l4_kind {
	GW_L4_TCP = 1,		/* TCP servers: tcp[] routes */
	GW_L4_PASSTHROUGH,	/* TLS or HTTPS servers in PASSTHROUGH mode: tls[] routes by SNI */
	GW_L4_TERMINATE,	/* TLS servers in SIMPLE or MUTUAL mode: TLS ends here (the
				 * listener's chains, by SNI), tcp[] routes take the bytes */
};

/*
 * One cluster an AUTO_PASSTHROUGH server reaches: the client names it in
 * its SNI as "outbound_.<port>_.<subset>_.<host>" (Istio's filter chain
 * a cluster, with that name as its only server name).
 */
struct gw_l4_auto {
	const char		*host;		/* the Service's or ServiceEntry's, lower-cased */
	const char		*subset;	/* "": none */
	uint16_t		 port;
	struct gw_l4_route	 route;		/* one match (the name), one destination */
};

struct gw_l4 {
	enum gw_l4_kind		 kind;
	const char		*name;		/* "tcp.<port>" or "tls.<port>" */
	struct gw_l4_route	*routes;	/* VirtualServices oldest first, rules in order */
	size_t			 nroutes;
	struct gw_l4_auto	*autos;		/* PASSTHROUGH: AUTO_PASSTHROUGH servers' clusters,
						 * by host, port, subset (gw_l4_auto_cmp) */
	size_t			 nautos;
};

#endif
