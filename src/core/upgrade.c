/* The running vipgated's side of a binary upgrade (upgrade.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "vipgate/ctl.h"
#include "vipgate/log.h"
#include "vipgate/lsock.h"
#include "vipgate/upgrade.h"
#include "vipgate/util.h"

struct upgrade_conn {
	int		 fd;
	struct event	*ev;
	char		 buf[CTL_REQUEST_MAX + 1];
	size_t		 len;
	json_t		*(*go)(void *);
	void		*arg;
};

static struct upgrade_conn *cur;

static void
conn_end(struct upgrade_conn *u)
{
	if (u->ev)
		event_free(u->ev);
	close(u->fd);
	free(u);
	if (cur == u)
		cur = NULL;
}

static void
answer(int fd, char *line)
{
	/* the peer may be gone: lsock_send reports it, nothing to do then */
	(void)lsock_send(fd, line, NULL, 0);
	free(line);
}

static void
read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct upgrade_conn *u = arg;
	struct ctl_request req;
	json_t *res;
	char *nl, *err;
	ssize_t r;

	if (ev & EV_TIMEOUT) {
		log_warnx("upgrade: no word from the new process in %d s: abandoned, "
		    "this one runs on", UPGRADE_GO_WAIT_S);
		conn_end(u);
		return;
	}
	r = read(fd, u->buf + u->len, sizeof(u->buf) - 1 - u->len);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		log_warnx("upgrade: the new process went away before it was ready: "
		    "abandoned, this one runs on");
		conn_end(u);
		return;
	}
	u->len += (size_t)r;
	u->buf[u->len] = '\0';
	if ((nl = memchr(u->buf, '\n', u->len)) == NULL) {
		if (u->len == sizeof(u->buf) - 1) {
			answer(fd, ctl_response_error("request is longer than %d bytes",
			    CTL_REQUEST_MAX));
			conn_end(u);
		}
		return;
	}
	if (ctl_request_decode(u->buf, (size_t)(nl - u->buf) + 1, &req, &err) == -1) {
		answer(fd, ctl_response_error("%s", err));
		free(err);
		log_warnx("upgrade: the new process said something else: abandoned");
		conn_end(u);
		return;
	}
	if (strcmp(req.command, "upgrade-go") != 0) {
		answer(fd, ctl_response_error("expected upgrade-go, not %.64s", req.command));
		ctl_request_free(&req);
		log_warnx("upgrade: the new process said something else: abandoned");
		conn_end(u);
		return;
	}
	ctl_request_free(&req);
	if ((res = u->go(u->arg)) == NULL)
		answer(fd, ctl_response_error("vipgated is draining"));
	else
		answer(fd, ctl_response_ok(res));
	conn_end(u);
}

int
upgrade_serve(struct event_base *base, int fd, const char *node,
    json_t *(*go)(void *), void *arg)
{
	struct upgrade_conn *u;
	struct lsock_desc *d;
	struct timeval tv = { UPGRADE_GO_WAIT_S, 0 };
	size_t n, i;
	int *fds, rc;
	char *line;

	if (cur != NULL) {
		answer(fd, ctl_response_error("an upgrade is in progress already"));
		close(fd);
		return -1;
	}
	lsock_export(&d, &fds, &n);
	line = ctl_response_ok(json_pack("{s:I,s:s,s:I,s:o}", "pid", (json_int_t)getpid(),
	    "node", node, "fds", (json_int_t)n, "listeners", lsock_desc_encode(d, n)));
	rc = lsock_send(fd, line, fds, n);
	free(line);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	free(d);
	if (rc == -1) {
		log_warn("upgrade: cannot send the listening sockets");
		close(fd);
		return -1;
	}
	log_info("upgrade: %zu listening sockets sent to a new process; it says when "
	    "it is ready", n);
	u = xcalloc(1, sizeof(*u));
	u->fd = fd;
	u->go = go;
	u->arg = arg;
	u->ev = event_new(base, fd, EV_READ | EV_PERSIST, read_cb, u);
	event_add(u->ev, &tv);
	cur = u;
	return 0;
}

void
upgrade_serve_free(void)
{
	if (cur)
		conn_end(cur);
}
