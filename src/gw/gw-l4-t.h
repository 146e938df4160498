/* A TCP or TLS passthrough connection (gw_l4.c), and what its log and metrics read. */
#ifndef VIPGATE_GW_L4C_T_H
#define VIPGATE_GW_L4C_T_H

#include <stdint.h>
#include <sys/queue.h>

#include "gw-resil-t.h"
#include "gw-snap-t.h"
#include "vipgate/gw-l4-t.h"
#include "vipgate/ipaddr.h"

struct event;
struct gw_io;
struct gw_lbstate;
struct gw_sni_rd;
struct gw_snap;
struct gw_worker;

/*
 * One direction of a spliced connection (gw_l4.c): bytes go from src
 * through a pipe to dst without entering user space.
 */
struct gw_l4_spl {
	int			 src, dst;	/* sockets, owned by the gw_io objects */
	int			 pr, pw;	/* the pipe's read and write ends */
	size_t			 n;		/* bytes in the pipe */
	struct event		*rev, *wev;	/* src readable, dst writable */
	int			 eof;		/* src sent its FIN */
};

struct gw_l4c {
	TAILQ_ENTRY(gw_l4c)	 link;		/* the worker's l4conns */
	struct gw_worker	*w;
	struct gw_snap		*snap;		/* referenced: the rule and cluster live in it */
	const struct gw_l4	*l4;
	uint16_t		 port;		/* the listener's */
	struct gw_io		*dn, *up;	/* client, upstream (NULL until routed) */
	struct gw_sni_rd	*rd;		/* reading the ClientHello; NULL after */
	struct event		*tmo;		/* hello deadline, then the idle timeout */
	const struct gw_l4_route *rt;
	const struct gw_cluster	*cl;
	const struct gw_endpoint *ep;
	struct gw_lbstate	*lbs;
	struct gw_rs_cx		 rcx;		/* its share of max_connections */
	struct ipaddr		 src, dst;	/* the client's address, the one it reached */
	uint16_t		 src_port, dst_port;
	char			 peer[IPADDR_STRLEN];
	char			 sni[256];
	int			 has_sni;
	int			 istio_alpn;	/* the hello offers an Istio ALPN (AUTO_PASSTHROUGH) */
	uint64_t		 rx, tx;	/* bytes from the client, to the client */
	int64_t			 t0_us, t_up_us;
	int64_t			 idle_ms, last_ms;	/* idle timeout, last byte either way */
	int64_t			 end_ms;	/* maxConnectionDuration's end; 0: none */
	unsigned		 f;
#define L4_CONNECTED	0x01	/* the upstream connection is up */
#define L4_DN_EOF	0x02	/* the client sent its FIN */
#define L4_UP_EOF	0x04	/* the upstream sent its FIN */
#define L4_DN_SHUT	0x08	/* our FIN went to the client */
#define L4_UP_SHUT	0x10	/* our FIN went upstream */
#define L4_DN_EOF_EARLY	0x20	/* the client's FIN came before the upstream was up */
#define L4_OPENED	0x40	/* counted in istio_tcp_connections_opened_total */
#define L4_ROUTED	0x80	/* its rule was looked for (after the hello or the handshake) */
	int			 counted_up;	/* counted in upstream_cx_active */
	int			 tls;		/* TLS ends here (GW_L4_TERMINATE) */
	int			 up_tls;	/* TLS to the upstream (DestinationRule tls, auto mTLS) */
	struct gw_tls_conn	 tc;		/* the chain the SNI callback chose */
	const char		*rflags;	/* Envoy's response flags: "-", NR, NC, UH, UO, UF, UC, DC */
	struct gw_l4_spl	*spl;		/* spliced: [0] client to upstream, [1] back */
};
TAILQ_HEAD(gw_l4c_list, gw_l4c);

#endif
