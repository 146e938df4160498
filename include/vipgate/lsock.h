/*
 * Listening sockets handed from a running vipgated to its successor
 * (vipgated -x, a binary upgrade), as HAProxy's "expose-fd listeners".
 *
 * The old process answers the control request "upgrade" with one JSON line
 * that describes every listening socket it owns, then sends the sockets
 * themselves with SCM_RIGHTS, in the order of the description, in chunks
 * of LSOCK_CHUNK descriptors, each chunk carried by one 'F' byte:
 *
 *	{"ok":true,"result":{"pid":123,"node":"node-a","fds":4,"listeners":[
 *	  {"kind":"gateway","family":"ipv4","address":"0.0.0.0","port":80},
 *	  ...]}}\n  F F ...
 *
 * The new process binds nothing that it received: a listener it plans takes
 * a received socket of the same kind, address and port (lsock_take), so the
 * kernel's accept queue and SO_REUSEPORT group stay the same and no SYN is
 * refused. When its gateway is ready it sends "upgrade-go" on the same
 * connection; the old process then stops accepting, closes its BGP sessions
 * as a graceful restart, and drains (daemon.c, upgrade.c).
 *
 * The codec and the matching (lsock.c) are pure; the registry of this
 * process's listeners and the socket work are in lsock_io.c.
 */
#ifndef VIPGATE_LSOCK_H
#define VIPGATE_LSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#define LSOCK_MAX	4096	/* sockets one answer may describe */
#define LSOCK_CHUNK	250	/* descriptors a message (the kernel's SCM_MAX_FD is 253) */
#define LSOCK_KINDLEN	16
#define LSOCK_ADDRLEN	46	/* INET6_ADDRSTRLEN */
#define LSOCK_TIMEOUT_MS 10000	/* the whole exchange, either side */

/* What a listening socket is: the planned listener it stands for. */
struct lsock_desc {
	char		kind[LSOCK_KINDLEN];	/* "gateway", "admin" */
	int		family;			/* AF_INET, AF_INET6 */
	char		addr[LSOCK_ADDRLEN];	/* canonical text (inet_ntop) */
	uint16_t	port;
};

/*
 * Fill d from a kind and an address as the config writes it ("::",
 * "0.0.0.0", "10.0.0.1"); the address is made canonical so that "0::0"
 * and "::" match. -1 when the address is not an IP address or the kind
 * is empty or too long.
 */
int lsock_desc_set(struct lsock_desc *d, const char *kind, const char *addr,
    uint16_t port);
/* The "listeners" array of the answer. */
json_t *lsock_desc_encode(const struct lsock_desc *, size_t n);
/*
 * The answer's result, as vipgatectl's decoder hands it over: checks
 * "fds" == nfds (what arrived) and every entry of "listeners". Returns 0
 * and *out (malloc'd, *n entries), or -1 and *err (malloc'd).
 */
int lsock_desc_decode(const json_t *result, size_t nfds, struct lsock_desc **out,
    size_t *n, char **err);
/*
 * The first received socket not yet taken (taken[i] == 0) that matches d:
 * its index, or -1.
 */
ssize_t lsock_match(const struct lsock_desc *have, size_t n, const uint8_t *taken,
    const struct lsock_desc *d);

/* ---- lsock_io.c: this process's sockets ---- */

/*
 * A listener this process opened (or took): it is handed to a successor.
 * Thread-safe: gateway workers call them.
 */
void lsock_register(const char *kind, const char *addr, uint16_t port, int fd);
void lsock_forget(int fd);
/*
 * A received socket for this listener (the caller owns it), or -1: bind
 * one as usual. Thread-safe.
 */
int lsock_take(const char *kind, const char *addr, uint16_t port);
/*
 * Every registered socket that still listens where its description says,
 * with a duplicate of its descriptor (the caller closes them): n entries.
 */
void lsock_export(struct lsock_desc **descs, int **fds, size_t *n);
/* Write line, then fds in chunks (blocking, bounded by LSOCK_TIMEOUT_MS). */
int lsock_send(int sock, const char *line, const int *fds, size_t nfds);

/*
 * The successor's side. fetch: connect to the running vipgated's control
 * socket, ask for its listeners and keep them for lsock_take; the
 * connection stays open for go. -1 and *err (malloc'd) on failure.
 */
int lsock_fetch(const char *path, char **err);
int lsock_fetching(void);		/* a fetch is done and go not yet said */
/*
 * Tell the old process to let go (upgrade-go) and wait for its answer;
 * received sockets no listener took are closed. -1 and *err on failure.
 */
int lsock_go(char **err);

#endif
