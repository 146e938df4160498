/*
 * The running vipgated's side of a binary upgrade (vipgated -x, lsock.h):
 * the control connection that asked "upgrade" gets the listening sockets,
 * then, on "upgrade-go", go() hands over (the daemon's drain in upgrade
 * mode) and its result is the answer (NULL: it cannot, it drains). A successor that goes away before
 * "upgrade-go" leaves this process as it was.
 */
#ifndef VIPGATE_UPGRADE_H
#define VIPGATE_UPGRADE_H

#include <jansson.h>

struct event_base;

/* The successor's "upgrade-go" may come this long after the sockets. */
#define UPGRADE_GO_WAIT_S	120

/*
 * Serve the "upgrade" request on fd (taken over: closed here). -1 when one
 * runs already (fd is answered and closed).
 */
int upgrade_serve(struct event_base *, int fd, const char *node,
    json_t *(*go)(void *arg), void *arg);
/* At exit: an upgrade still waiting for its successor is dropped. */
void upgrade_serve_free(void);

#endif
