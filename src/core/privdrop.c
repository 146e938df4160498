/*
 * Started as root, keep three capabilities and become the configured user
 * (privdrop.h). libcap-ng's capng_change_id() does the order that keeps the
 * capabilities across setuid: PR_SET_KEEPCAPS, setgroups, setresgid,
 * setresuid, then the capability sets.
 */
#include "config.h"

#include <sys/prctl.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cap-ng.h>

#include "vipgate/config.h"
#include "vipgate/log.h"
#include "vipgate/privdrop.h"

int
priv_resolve(const struct config *cfg, struct priv *p, char *err, size_t errlen)
{
	const struct passwd *pw;
	const struct group *gr;

	memset(p, 0, sizeof(*p));
	p->root = geteuid() == 0;
	p->uid = getuid();
	p->gid = getgid();
	p->user = cfg->user;
	p->group = cfg->group;
	if (cfg->user) {
		errno = 0;
		if ((pw = getpwnam(cfg->user)) == NULL) {
			snprintf(err, errlen, "%s: user: no such user %s", cfg->file, cfg->user);
			return -1;
		}
		if (p->root) {
			p->switch_user = 1;
			p->uid = pw->pw_uid;
			p->gid = pw->pw_gid;
		}
	}
	if (cfg->group) {
		errno = 0;
		if ((gr = getgrnam(cfg->group)) == NULL) {
			snprintf(err, errlen, "%s: group: no such group %s", cfg->file, cfg->group);
			return -1;
		}
		p->gid = gr->gr_gid;
	}
	/* the socket goes to root and the group the config names (or the user's) */
	p->ctl_group = p->root && (cfg->group || cfg->user);
	return 0;
}

void
priv_prepare(const struct priv *p, const char *sock_path, const char *state_dir)
{
	struct stat st;

	if (!p->root)
		return;
	if (p->ctl_group) {
		if (chown(sock_path, 0, p->gid) == -1)
			log_warn("control socket %s: chown root:%s", sock_path,
			    p->group ? p->group : p->user);
		else if (chmod(sock_path, 0660) == -1)
			log_warn("control socket %s: chmod 0660", sock_path);
	}
	/* the user keeps allocations.json up to date (atomic renames in it) */
	if (p->switch_user && stat(state_dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid != p->uid && chown(state_dir, p->uid, p->gid) == -1)
		log_warn("state_dir %s: chown to %s", state_dir, p->user);
}

/*
 * The three also stay ambient, so that a successor this process starts
 * (SIGUSR2, vipgated(8) UPGRADE) has them after execve as a user other
 * than root; vipgated runs no other program.
 */
static void
keep_ambient(void)
{
	static const int caps[] = { CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE };
	size_t i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, caps[i], 0, 0) == -1) {
			log_debug("cannot keep capability %d ambient: %s", caps[i],
			    strerror(errno));
			return;
		}
}

int
priv_drop(const struct priv *p)
{
	int r, setpcap;

	if (capng_get_caps_process() == -1) {
		if (!p->root)
			return 0;
		setpcap = 1;
	} else {
		if (!p->root && capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
			return 0;	/* an unprivileged test run: nothing to keep */
		/* a successor started as root by a vipgated that dropped it has
		 * no CAP_SETPCAP, and its bounding set is the three already */
		setpcap = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	}
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE |
	    CAPNG_BOUNDING_SET, CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE, -1) == -1) {
		log_error("capng_updatev failed");
		return -1;
	}
	/* the bounding set: the three, while this process may still change it */
	if (p->root && setpcap && capng_apply(CAPNG_SELECT_BOUNDS) == -1) {
		log_error("cannot limit the bounding set (capng_apply)");
		return -1;
	}
	if (p->switch_user) {
		/* supplementary groups: none, the socket's group is the process's */
		r = capng_change_id((int)p->uid, (int)p->gid, CAPNG_DROP_SUPP_GRP);
		if (r != 0) {
			log_error("cannot become user %s (uid %lu, gid %lu): capng_change_id %d",
			    p->user, (unsigned long)p->uid, (unsigned long)p->gid, r);
			return -1;
		}
		keep_ambient();
		log_info("running as user %s (uid %lu, gid %lu) with CAP_NET_ADMIN, "
		    "CAP_NET_RAW, CAP_NET_BIND_SERVICE", p->user, (unsigned long)p->uid,
		    (unsigned long)p->gid);
		return 0;
	}
	/* as root without user:, or as a user systemd gave capabilities to */
	if (p->root && p->group && setgid(p->gid) == -1)
		log_warn("cannot take group %s", p->group);
	if (capng_apply(CAPNG_SELECT_CAPS) == -1) {
		log_error("cannot drop capabilities (capng_apply)");
		return -1;
	}
	keep_ambient();
	if (p->root)
		log_info("running as root with only CAP_NET_ADMIN, CAP_NET_RAW, "
		    "CAP_NET_BIND_SERVICE (user: in vipgate.yaml runs it as another user)");
	else if (p->user)
		log_info("user: %s: not started as root, it runs as uid %lu as it was "
		    "started", p->user, (unsigned long)getuid());
	return 0;
}

static void
check_file(const char *what, const char *path, const struct priv *p)
{
	if (path == NULL || access(path, F_OK) == -1)
		return;		/* a missing file is the config's problem, reported there */
	if (access(path, R_OK) == -1)
		log_warnx("%s %s cannot be read by user %s: it is read again when it "
		    "changes (make it readable, e.g. group %s, mode 0640)", what, path,
		    p->user ? p->user : "vipgated's", p->group ? p->group : p->user ?
		    p->user : "of vipgated");
}

void
priv_check_files(const struct config *cfg, const struct priv *p)
{
	if (!p->switch_user)
		return;
	check_file("l2.heartbeat.key_file", cfg->l2.heartbeat.key_file, p);
	check_file("gateway.identity.cert", cfg->gateway.identity.cert, p);
	check_file("gateway.identity.key", cfg->gateway.identity.key, p);
	check_file("gateway.identity.ca", cfg->gateway.identity.ca, p);
	if (cfg->kubernetes.present)
		check_file("kubernetes.kubeconfig", cfg->kubernetes.kubeconfig, p);
}
