/*
 * Least privilege (OpenBGPD's habit: drop right after start). Started as
 * root, vipgated opens its control socket and state directory, then keeps
 * only CAP_NET_ADMIN (addresses, routes, interface sysctls), CAP_NET_RAW
 * (ARP/NDP) and CAP_NET_BIND_SERVICE (ports below 1024: BGP, the gateway),
 * clears the bounding set, and becomes the configured user (libcap-ng).
 * It happens before any thread starts: capabilities are per thread, and
 * every thread vipgated makes afterwards inherits the reduced set.
 */
#ifndef VIPGATE_PRIVDROP_H
#define VIPGATE_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

struct config;

struct priv {
	int		 root;		/* started with uid 0 */
	int		 switch_user;	/* user: given and started as root */
	uid_t		 uid;
	gid_t		 gid;
	const char	*user, *group;	/* names, for messages */
	int		 ctl_group;	/* chown the control socket to root:gid */
};

/*
 * Resolve user: and group: of cfg (before anything runs). 0, or -1 with a
 * message in err ("user: no such user vipgate").
 */
int priv_resolve(const struct config *, struct priv *, char *err, size_t errlen);
/*
 * As root, before the drop: the control socket root:<group> mode 0660, the
 * state directory owned by the user. Logs what it cannot do.
 */
void priv_prepare(const struct priv *, const char *sock_path, const char *state_dir);
/* Keep the three capabilities, become the user. 0, or -1 (logged). */
int priv_drop(const struct priv *);
/* After the drop: warn, naming each file, when one the config names
 * (keys, certificates, kubeconfig) cannot be read as the user. */
void priv_check_files(const struct config *, const struct priv *);

#endif
