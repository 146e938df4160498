/* vipgated's main loop: sources, reconcile, appliers, control socket. */
#ifndef VIPGATE_DAEMON_H
#define VIPGATE_DAEMON_H

#include <pthread.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "vipgate/applier.h"
#include "vipgate/config.h"
#include "vipgate/drain.h"
#include "vipgate/reconcile.h"
#include "vipgate/source.h"
#include "vipgate/state.h"

struct event_base;
struct event;
struct evconnlistener;
struct kube_source;

/* What a reload of the main config did. */
enum reload_config {
	RELOAD_CONFIG_NOT_READ,		/* a manifest change: only manifests were read */
	RELOAD_CONFIG_APPLIED,
	RELOAD_CONFIG_KEPT,		/* invalid: the running one stays */
};

/*
 * What a reload did. The main config is applied whole or not at all; a
 * manifest object is rejected alone (the last good version of an object
 * that was valid stays in force), so a reload with errors may still have
 * applied the rest.
 */
struct reload_result {
	time_t			 time;
	const char		*trigger;	/* startup, sighup, ctl, inotify */
	int			 ok;		/* no errors */
	enum reload_config	 config;
	struct fsrc_result	 objects;
	struct vg_errs		 errs;		/* errors and warnings of that reload */
};
/* "all" (no errors), "part" (errors, and something took effect), "none" (ctlsrv.c) */
const char *reload_applied(const struct reload_result *);

struct daemon {
	struct event_base	*base;
	const char		*cfg_path;
	const char		*sock_path;	/* -s, else control.socket */
	const char		*pidfile;	/* -p; a successor writes it at the hand-over */
	struct config		*cfg;
	uint64_t		 config_generation;
	struct store		*store;
	struct file_source	*fsrc;
	struct kube_source	*ksrc;		/* NULL without a kubernetes: block */
	struct desired		*cur;
	struct alloc_state	 state;
	char			*state_file;
	struct applier_env	 env;
	struct applier		*appliers[8];
	size_t			 nappliers;
	struct applier		*l2;		/* also among appliers: gives the live view */
	uint64_t		 reconciles;
	int64_t			 reconciled_ms;	/* when the last reconcile ran (now_ms) */
	time_t			 started;
	struct reload_result	 last;

	/*
	 * Manifests are read and parsed on a thread (a 50 MB file takes
	 * seconds: the main loop must keep BGP keepalives going), one load
	 * at a time; the store takes the result on the main loop. A load
	 * asked for while one runs starts when it ends.
	 */
	struct fsrc_load	*load;		/* running */
	pthread_t		 load_thread;
	int			 load_threaded;
	int			 load_pipe[2];	/* the thread says it is done */
	struct event		*ev_load;
	const char		*load_trigger;
	enum reload_config	 load_config;
	struct vg_errs		 load_errs;	/* the main config's, until it is done */
	int			 pending;	/* another load was asked for */
	const char		*pending_trigger;
	int			 pending_config;	/* and it re-reads the main config */
	struct vg_ptrvec	 waiters;	/* ctl connections: the running load's result */
	struct vg_ptrvec	 waiters_next;	/* the pending load's */

	struct event		*ev_sig[6];
	struct event		*ev_reconcile;
	struct event		*ev_debounce;
	int64_t			 debounce_first;	/* ms: first event of a burst */
	struct vg_ptrvec	 watch_open;	/* "wd/name": manifests created, not yet closed */
	struct event		*ev_watchdog;	/* WATCHDOG=1 to systemd */
	struct event		*ev_inotify;
	int			 inotify_fd;
	struct evconnlistener	*ctl_listener;
	/* the reload the control server asks for (daemon_reload): handed to
	 * ctlsrv_open, so that the control server never calls up by name */
	int			(*ctl_reload)(struct daemon *, const char *trigger);
	/* "upgrade": the connection's descriptor is handed over (upgrade.h) */
	void			(*ctl_upgrade)(struct daemon *, int fd);
	char			*ctl_bound;	/* where it is bound (-x: SOCKET.new first) */
	dev_t			 ctl_dev;	/* the socket file we made: unlinked */
	ino_t			 ctl_ino;	/* at exit only if still ours */
	/*
	 * -x: this process takes over from a running one (lsock.h). It
	 * binds the control socket path over the old one's, and BGP waits
	 * (held) until the old process has let go of its sessions.
	 */
	int			 upgrade;
	int			 held;
	struct event		*ev_upgrade;
	int64_t			 upgrade_since;
	/* the old side: handed over to a successor, draining without a goodbye */
	int			 handed_over;
	int			 upgrade_failed;	/* -x: not ready in time: exit 2 */
	int			 draining;
	enum drain_phase	 drain_phase;	/* drain.h */
	int64_t			 drain_since;	/* now_ms() the phase began */
	int			 drain_bgp;	/* routes were out when it began */
	struct event		*ev_drain;
	int			 debug;		/* -d: debug whatever log.level says */
};

/* Log level and format from the config (-d forces debug). */
void daemon_log_config(const struct config *, int force_debug);
/*
 * d must be zeroed, with debug set, before init. Init opens what needs
 * root (the control socket, the state directory) and starts no thread;
 * start makes the appliers, reads the manifests and reconciles, after
 * main() has dropped privileges (privdrop.h). Both -1 on failure.
 */
int daemon_init(struct daemon *, struct config *, const char *cfg_path,
    const char *sock_override);
int daemon_start(struct daemon *);
int daemon_run(struct daemon *);
void daemon_free(struct daemon *);

/*
 * A reload as SIGHUP does it: the main config at once, the manifests on
 * the load thread; the result is in d->last when it is done. Returns 0
 * when it started, 1 when it waits for the load that runs, 2 when it is
 * done already (read on the main loop: no thread).
 */
int daemon_reload(struct daemon *, const char *trigger);
void daemon_schedule_reconcile(struct daemon *);

/*
 * Control socket (ctlsrv.c). Calls go from the daemon down to it; the one
 * thing it asks of the daemon, a reload, goes through the callback it is
 * given here (daemon_reload).
 */
int ctlsrv_open(struct daemon *, int (*reload)(struct daemon *, const char *trigger));
void ctlsrv_close(struct daemon *);
/* -x, the old process let go: the socket bound at SOCKET.new takes SOCKET. */
int ctlsrv_take_path(struct daemon *);
json_t *ctlsrv_status(struct daemon *);
json_t *ctlsrv_services(struct daemon *);
json_t *ctlsrv_reload_result(const struct reload_result *);
/* A load ended: answer the ctl connections that waited for it (waiters). */
void ctlsrv_answer_waiters(struct daemon *, struct vg_ptrvec *waiters);
/* The pending load starts: who waited for it now waits for the running one. */
void ctlsrv_promote_waiters(struct daemon *);
/* At exit: close them unanswered. */
void ctlsrv_drop_waiters(struct vg_ptrvec *waiters);

#endif
