/* vipgated's main loop: sources, reconcile, appliers, control socket. */
#ifndef VIPGATE_DAEMON_H
#define VIPGATE_DAEMON_H

#include <time.h>

#include <jansson.h>

#include "vipgate/applier.h"
#include "vipgate/config.h"
#include "vipgate/reconcile.h"
#include "vipgate/source.h"
#include "vipgate/state.h"

struct event_base;
struct event;
struct evconnlistener;
struct kube_source;

struct reload_result {
	time_t		 time;
	const char	*trigger;	/* startup, sighup, ctl, inotify */
	int		 ok;
	struct vg_errs	 errs;		/* errors and warnings of that reload */
};

struct daemon {
	struct event_base	*base;
	const char		*cfg_path;
	const char		*sock_path;	/* -s, else control.socket */
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

	struct event		*ev_sig[4];
	struct event		*ev_reconcile;
	struct event		*ev_debounce;
	int64_t			 debounce_first;	/* ms: first event of a burst */
	struct event		*ev_inotify;
	int			 inotify_fd;
	struct evconnlistener	*ctl_listener;
	int			 draining;
	int			 debug;		/* -d: debug whatever log.level says */
};

/* Log level and format from the config (-d forces debug). */
void daemon_log_config(const struct config *, int force_debug);
/* d must be zeroed, with debug set, before init. */
int daemon_init(struct daemon *, struct config *, const char *cfg_path,
    const char *sock_override);
int daemon_run(struct daemon *);
void daemon_free(struct daemon *);

/* A reload as SIGHUP does it; the result is in d->last. */
void daemon_reload(struct daemon *, const char *trigger);
void daemon_schedule_reconcile(struct daemon *);

/* Control socket (ctlsrv.c). */
int ctlsrv_open(struct daemon *);
void ctlsrv_close(struct daemon *);
json_t *ctlsrv_status(struct daemon *);
json_t *ctlsrv_services(struct daemon *);
json_t *ctlsrv_reload_result(const struct reload_result *);

#endif
