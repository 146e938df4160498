/*
 * The client's side of one control exchange: connect, send the request,
 * read the answer, each step bounded by one deadline so a wedged daemon
 * cannot hang a script.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vipgate/ctl.h"
#include "vipgate/util.h"

/*
 * Wait for events on fd until the deadline: 1 ready, 0 timed out, -1 error.
 * The time left is computed each round, so EINTR cannot stretch the deadline.
 */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		n = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (n > 0)
			return 1;
		if (n == 0)
			continue;
		if (errno != EINTR)
			return -1;
	}
}

static int
connect_unix(const char *path, int64_t deadline, char **err)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	socklen_t elen = sizeof(int);
	int fd, e;

	if (strlen(path) >= sizeof(su.sun_path)) {
		xasprintf(err, "cannot connect to %s: the path is longer than a "
		    "socket path can be (%zu)", path, sizeof(su.sun_path) - 1);
		return -1;
	}
	memcpy(su.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		xasprintf(err, "socket: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (connect(fd, (struct sockaddr *)&su, sizeof(su)) == 0)
			return fd;
		e = errno;
		if (e == EINTR)
			continue;
		/* A full listen backlog: Linux answers EAGAIN, so try again. */
		if (e == EAGAIN && now_ms() < deadline) {
			poll(NULL, 0, 20);
			continue;
		}
		if (e == EINPROGRESS) {
			if (wait_fd(fd, POLLOUT, deadline) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == 0 &&
			    e == 0)
				return fd;
			if (e == EINPROGRESS)
				e = ETIMEDOUT;
		}
		break;
	}
	close(fd);
	if (e == EAGAIN)
		e = ETIMEDOUT;
	xasprintf(err, "cannot connect to %s: %s%s", path, strerror(e),
	    e == ENOENT || e == ECONNREFUSED ? " (is vipgated running?)" :
	    e == EACCES || e == EPERM ? " (vipgatectl needs the rights of "
	    "vipgated's socket: try as root)" : "");
	return -1;
}

static int
send_all(int fd, const char *path, const char *req, int64_t deadline,
    char **err)
{
	size_t len = strlen(req), off = 0;
	ssize_t n;
	int r;

	while (off < len) {
		n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if ((r = wait_fd(fd, POLLOUT, deadline)) == 1)
				continue;
			if (r == 0)
				xasprintf(err, "%s: vipgated did not take the request "
				    "in time", path);
			else
				xasprintf(err, "%s: poll: %s", path, strerror(errno));
			return -1;
		}
		xasprintf(err, "%s: cannot send the request: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
recv_answer(int fd, const char *path, int64_t deadline, int64_t timeout_ms,
    struct vg_buf *b, char **err)
{
	char chunk[65536], tmo[32];
	const char *nl;
	ssize_t n;
	int r;

	format_duration_ms(timeout_ms, tmo, sizeof(tmo));
	for (;;) {
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n > 0) {
			if ((nl = memchr(chunk, '\n', (size_t)n)) != NULL) {
				/* Whatever follows the answer's line is not ours. */
				buf_append(b, chunk, (size_t)(nl - chunk));
				return 0;
			}
			buf_append(b, chunk, (size_t)n);
			if (b->len > CTL_RESPONSE_MAX) {
				xasprintf(err, "%s: the answer is longer than %u bytes",
				    path, CTL_RESPONSE_MAX);
				return -1;
			}
			continue;
		}
		if (n == 0) {
			/* A close ends the answer as well as a newline would. */
			if (b->len > 0)
				return 0;
			xasprintf(err, "%s: vipgated closed the connection without "
			    "answering", path);
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			if ((r = wait_fd(fd, POLLIN, deadline)) == 1)
				continue;
			if (r == 0)
				xasprintf(err, "%s: no %sanswer from vipgated within %s",
				    path, b->len ? "complete " : "", tmo);
			else
				xasprintf(err, "%s: poll: %s", path, strerror(errno));
			return -1;
		}
		xasprintf(err, "%s: cannot read the answer: %s", path,
		    strerror(errno));
		return -1;
	}
}

int
ctl_client_exchange(const char *path, const char *req, int timeout_ms,
    char **answer, size_t *lenp, char **err)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct vg_buf b = { 0 };
	int fd;

	*answer = NULL;
	*lenp = 0;
	*err = NULL;
	if ((fd = connect_unix(path, deadline, err)) == -1)
		return -1;
	if (send_all(fd, path, req, deadline, err) == -1 ||
	    recv_answer(fd, path, deadline, timeout_ms, &b, err) == -1) {
		close(fd);
		buf_free(&b);
		return -1;
	}
	close(fd);
	*answer = b.s ? b.s : xstrdup("");	/* a bare "\n" */
	*lenp = b.len;
	return 0;
}
