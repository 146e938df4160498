/* vipgated: flags, check mode, daemonizing, pidfile; the rest is daemon.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vipgate/daemon.h"
#include "vipgate/log.h"
#include "vipgate/lsock.h"
#include "vipgate/privdrop.h"
#include "vipgate/source-kube.h"
#include "vipgate/upgrade.h"
#include "vipgate/util.h"

static void __attribute__((noreturn))
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: vipgated [-c FILE] [-f] [-t] [-d] [-p PIDFILE] [-s SOCKET] [-x SOCKET]\n"
	    "  -c FILE     main config (default %s)\n"
	    "  -f          stay in the foreground, log to stderr\n"
	    "  -t          check the config and every manifest, then exit (0 valid, 1 not)\n"
	    "  -d          debug logging\n"
	    "  -p PIDFILE  write the pid here\n"
	    "  -s SOCKET   control socket (overrides control.socket)\n"
	    "  -x SOCKET   upgrade: take the listening sockets of the vipgated that\n"
	    "              answers on SOCKET, then let it drain (see vipgated(8))\n"
	    "  -V          print the version\n", VG_DEFAULT_CONFIG);
	exit(code);
}

/* -t: everything a start would load, checked; nothing started. */
static int
check_only(struct config *cfg)
{
	struct vg_errs errs = { 0 };
	struct store *st = store_new();
	struct file_source *fs = fsrc_new(st);
	struct live_view live;
	struct desired *d;
	size_t i, pending = 0;
	int rc;

	if (cfg->kubernetes.present) {
		struct kube_auth ka;

		/* the API server is not asked: only its settings are checked */
		if (kube_auth_load(&cfg->kubernetes, &ka, &errs) == 0)
			kube_auth_free(&ka);
	}
	(void)fsrc_sync(fs, cfg->objects.paths, cfg->objects.npaths, &errs);
	errs_print(&errs, stderr);
	memset(&live, 0, sizeof(live));
	live.gateway_ready = cfg->gateway.enabled;
	d = reconcile(st, cfg, &live);
	for (i = 0; i < d->nsvcs; i++)
		pending += d->svcs[i].pending != NULL;
	rc = errs.nerrors ? 1 : 0;
	fprintf(rc ? stderr : stdout, "%s: %s: %zu objects, %zu LoadBalancer services "
	    "(%zu pending), %zu errors, %zu warnings\n", cfg->file,
	    rc ? "invalid" : "configuration ok", store_count(st), d->nsvcs, pending,
	    errs.nerrors, errs.n - errs.nerrors);
	desired_unref(d);
	fsrc_free(fs);
	store_free(st);
	errs_clear(&errs);
	return rc;
}

static void
daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		fatal("setsid");
	pid = fork();
	if (pid == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		fatal("chdir /");
	fd = open("/dev/null", O_RDWR);
	if (fd != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

int
main(int argc, char **argv)
{
	const char *cfg_path = VG_DEFAULT_CONFIG, *pidfile = NULL, *sock = NULL;
	const char *from = NULL;
	int foreground = 0, check = 0, debug = 0, ch, rc;
	struct vg_errs errs = { 0 };
	struct config *cfg;
	struct priv priv;
	char err[512];
	static struct daemon d;

	log_procname = "vipgated";
	upgrade_save_argv(argc, argv);
	while ((ch = getopt(argc, argv, "c:ftdp:s:x:hV")) != -1) {
		switch (ch) {
		case 'c':
			cfg_path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 't':
			check = 1;
			break;
		case 'd':
			debug = 1;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'x':
			from = optarg;
			break;
		case 'V':
			printf("vipgated %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(0);
		default:
			usage(1);
		}
	}
	if (optind != argc)
		usage(1);

	log_init(1, debug ? LOG_LVL_DEBUG : LOG_LVL_INFO, LOG_FMT_TEXT);
	cfg = config_load(cfg_path, &errs);
	if (cfg == NULL) {
		errs_print(&errs, stderr);
		fprintf(stderr, "%s: invalid configuration\n", cfg_path);
		errs_clear(&errs);
		return 1;
	}
	errs_print(&errs, stderr);	/* warnings */
	errs_clear(&errs);
	/* user: and group: name accounts of this machine: -t checks them too */
	if (priv_resolve(cfg, &priv, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n%s: invalid configuration\n", err, cfg_path);
		config_free(cfg);
		return 1;
	}
	if (check) {
		rc = check_only(cfg);
		config_free(cfg);
		return rc;
	}
	if (!foreground) {
		daemonize();
		log_init(0, LOG_LVL_INFO, LOG_FMT_TEXT);
	}
	daemon_log_config(cfg, debug);
	d.debug = debug;
	if (from != NULL) {
		char *why;

		/* before anything binds: the listeners take these sockets */
		if (lsock_fetch(from, &why) == -1) {
			log_error("upgrade: cannot take over from %s: %s", from, why);
			free(why);
			config_free(cfg);
			return 2;
		}
		d.upgrade = 1;
	}
	if (daemon_init(&d, cfg, cfg_path, sock) == -1) {
		log_error("cannot start; exiting");
		daemon_free(&d);
		return 2;
	}
	/* what needs root is open: the rest runs as the user, three capabilities */
	priv_prepare(&priv, d.ctl_bound, cfg->state_dir);
	/* a successor writes it at the hand-over: the running one's stays till then */
	d.pidfile = pidfile;
	if (pidfile && from == NULL && pidfile_write(pidfile) == -1) {
		log_warn("cannot write pidfile %s", pidfile);
		daemon_free(&d);
		return 2;
	}
	if (priv_drop(&priv) == -1) {
		log_error("cannot drop privileges; exiting");
		daemon_free(&d);
		return 2;
	}
	priv_check_files(cfg, &priv);
	if (daemon_start(&d) == -1) {
		log_error("cannot start; exiting");
		daemon_free(&d);
		return 2;
	}
	rc = daemon_run(&d);
	daemon_free(&d);
	if (pidfile)
		pidfile_remove(pidfile);
	return rc;
}
