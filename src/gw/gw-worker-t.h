/* A gateway worker: one thread, one event loop, its listeners and connections. */
#ifndef VIPGATE_GW_WORKER_T_H
#define VIPGATE_GW_WORKER_T_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "gw-l4-t.h"
#include "gw-resil-t.h"
#include "gw-stats-t.h"
#include "vipgate/accept-t.h"

struct event;
struct event_base;
struct evconnlistener;
struct gw_ctx;
struct gw_snap;
struct gw_stream;
struct gw_uptls_cache;
struct gw_jwt_cache;

struct gw_uconn;
TAILQ_HEAD(gw_uconn_list, gw_uconn);
struct gw_dconn;
TAILQ_HEAD(gw_dconn_list, gw_dconn);
struct gw_shadow;
TAILQ_HEAD(gw_shadow_list, gw_shadow);
struct gw_ppc;
TAILQ_HEAD(gw_ppc_list, gw_ppc);

/* A deployment's bit in gw_worker.bind_err_deps: deployments past the 63rd share the last. */
#define GW_DEP_BITS		64
#define GW_DEP_BIT(dep)		((uint64_t)1 << ((dep) < GW_DEP_BITS - 1 ? (dep) : GW_DEP_BITS - 1))

struct gw_wlis {
	uint16_t		 port;
	uint32_t		 scope;		/* the listener's (gw_listener.scope) */
	int			 tls;
	char			*addr;		/* a gateway.bind entry, a VIP or a server's bind */
	struct evconnlistener	*l;
};

struct gw_worker {
	struct gw_ctx		*ctx;
	int			 id;
	int			 cpu;		/* bound to this CPU; -1: not bound */
	pthread_t		 th;
	struct event_base	*base;
	int			 efd;		/* eventfd: the main thread pokes */
	struct event		*ev_notify;
	struct gw_snap		*snap;		/* newest this worker adopted */
	struct gw_wlis		*lis;
	size_t			 nlis;
	struct gw_uconn_list	 idle;		/* keep-alive upstream connections (gw_back.c) */
	struct gw_dconn_list	 conns;		/* downstream connections (gw_front.c) */
	struct gw_shadow_list	 shadows;	/* mirrored requests in flight (gw_mirror.c) */
	struct gw_l4c_list	 l4conns;	/* TCP and TLS passthrough connections (gw_l4.c) */
	struct gw_ppc_list	 ppconns;	/* waiting for their PROXY header (gw_ppin.c) */
	size_t			 nidle;
	uint64_t		 rng;
	uint64_t		 applied_gen;	/* read by the main thread */
	int			 bind_errors;
	/* the deployments (bit: gw_listener.dep, the last bit for every one
	 * from GW_DEP_BITS - 1 on) with a listener not bound; read by the
	 * main thread (gw_applier_unbound) */
	uint64_t		 bind_err_deps;
	size_t			 nconns;	/* downstream connections */
	size_t			 inflight;	/* requests */
	int			 draining;
	struct gw_stats		 stats;
	struct gw_stream	*st_pool;	/* finished streams kept with their buffers */
	size_t			 nst_pool;
	struct gw_uptls_cache	*upcache;	/* upstream TLS sessions (gw_uptls.c) */
	struct gw_jwt_cache	*jwtcache;	/* verified tokens (gw_jwt.c), made on first use */
	struct gw_rs_worker	 rs;		/* requests waiting for a connection (gw_resil.c) */
	/* a downstream connection closed (the front calls it): accepting may resume */
	void			(*conn_closed)(struct gw_worker *);
	/* a PROXY header was read (gw_ppin.c): the connection goes on with the
	 * addresses it carried (local NULL: the socket's own) */
	void			(*pp_done)(struct gw_worker *, uint16_t port, uint32_t scope, int tls, int fd,
				    const struct sockaddr *peer, const struct sockaddr *local);
	/* accepting (gw_worker.c): the listeners are on while no flag is set */
	unsigned		 acc_flags;
#define GW_ACC_F_FAILED	0x1	/* accept() ran out of descriptors or memory: retried
				   after VG_ACCEPT_RETRY_MS or when a connection closes */
#define GW_ACC_F_FULL	0x2	/* max_conns reached: resumed when a connection closes */
	struct event		*ev_acc_retry;
	struct event		*ev_bind_retry;	/* a listener's port was taken: bind again */
	struct vg_accept_state	 acc;		/* accept() failures (accept.h); counters atomic */
	uint64_t		 acc_full;	/* times max_conns stopped accepting (atomic) */
	int64_t			 full_logged_ms;
	uint64_t		 full_unlogged;
};

#endif
