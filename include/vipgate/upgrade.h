/*
 * The running vipgated's side of a binary upgrade (vipgated -x, lsock.h):
 * the control connection that asked "upgrade" gets the listening sockets,
 * then, on "upgrade-go", go() hands over (the daemon's drain in upgrade
 * mode) and its result is the answer (NULL: it cannot, it drains). A successor that goes away before
 * "upgrade-go" leaves this process as it was.
 */
#ifndef VIPGATE_UPGRADE_H
#define VIPGATE_UPGRADE_H

#include <sys/types.h>

#include <jansson.h>

struct event_base;

/* The successor's "upgrade-go" may come this long after the sockets. */
#define UPGRADE_GO_WAIT_S	120

/*
 * Serve the "upgrade" request on fd (taken over: closed here). -1 when one
 * runs already (fd is answered and closed). go() gets the successor's pid
 * (the peer's credentials; 0 when unknown).
 */
int upgrade_serve(struct event_base *, int fd, const char *node,
    json_t *(*go)(void *arg, pid_t successor), void *arg);

/*
 * SIGUSR2: the running vipgated starts its successor itself, the binary it
 * was started from (a package may have replaced it) with the same flags
 * and -x SOCKET. upgrade_save_argv() keeps what that takes, at start,
 * before anything changes the working directory.
 */
void upgrade_save_argv(int argc, char **argv);
/* The successor's pid, or -1 (logged) when it cannot be started. */
pid_t upgrade_spawn(const char *sock_path);
/*
 * SIGCHLD: a successor that exited is reaped and logged; returns its pid,
 * or 0 when none exited.
 */
pid_t upgrade_reap(void);
/* At exit: an upgrade still waiting for its successor is dropped. */
void upgrade_serve_free(void);

#endif
