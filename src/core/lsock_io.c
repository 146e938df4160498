/*
 * Listening sockets handed over (lsock.h): the registry of this process's
 * listeners, the sockets received from a predecessor, and the SCM_RIGHTS
 * exchange on the control socket.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vipgate/ctl.h"
#include "vipgate/log.h"
#include "vipgate/lsock.h"
#include "vipgate/util.h"

#define LSOCK_ANSWER_MAX	(1u << 20)

struct lsock_ent {
	struct lsock_desc	d;
	int			fd;
};

static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static struct lsock_ent	*reg;		/* this process's listeners */
static size_t		 nreg, capreg;
static struct lsock_desc *inh;		/* received, not yet handed back */
static int		*inh_fd;
static uint8_t		*inh_taken;
static size_t		 ninh;
static int		 conn = -1;	/* to the predecessor, until go */

void
lsock_register(const char *kind, const char *addr, uint16_t port, int fd)
{
	struct lsock_desc d;

	if (lsock_desc_set(&d, kind, addr, port) == -1)
		return;
	pthread_mutex_lock(&mu);
	if (nreg == capreg) {
		capreg = capreg ? capreg * 2 : 16;
		reg = xreallocarray(reg, capreg, sizeof(*reg));
	}
	reg[nreg].d = d;
	reg[nreg++].fd = fd;
	pthread_mutex_unlock(&mu);
}

void
lsock_forget(int fd)
{
	size_t i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < nreg; i++)
		if (reg[i].fd == fd) {
			reg[i] = reg[--nreg];
			break;
		}
	pthread_mutex_unlock(&mu);
}

int
lsock_take(const char *kind, const char *addr, uint16_t port)
{
	struct lsock_desc d;
	ssize_t i;
	int fd = -1;

	if (lsock_desc_set(&d, kind, addr, port) == -1)
		return -1;
	pthread_mutex_lock(&mu);
	if (ninh > 0 && (i = lsock_match(inh, ninh, inh_taken, &d)) >= 0) {
		inh_taken[i] = 1;
		fd = inh_fd[i];
	}
	pthread_mutex_unlock(&mu);
	if (fd >= 0)
		log_debug("%s listener %s port %u: the predecessor's socket", kind, d.addr,
		    port);
	return fd;
}

/* The socket still listens where d says (a descriptor number may be reused). */
static int
still_listens(int fd, const struct lsock_desc *d)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int on = 0;
	socklen_t ol = sizeof(on);
	char buf[LSOCK_ADDRLEN];
	const void *a;
	uint16_t port;

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) == -1 || !on)
		return 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 || ss.ss_family != d->family)
		return 0;
	if (ss.ss_family == AF_INET) {
		a = &((struct sockaddr_in *)&ss)->sin_addr;
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else {
		a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return port == d->port && inet_ntop(ss.ss_family, a, buf, sizeof(buf)) &&
	    strcmp(buf, d->addr) == 0;
}

void
lsock_export(struct lsock_desc **descs, int **fds, size_t *n)
{
	size_t i, k = 0;

	pthread_mutex_lock(&mu);
	*descs = xcalloc(nreg ? nreg : 1, sizeof(**descs));
	*fds = xcalloc(nreg ? nreg : 1, sizeof(**fds));
	for (i = 0; i < nreg && k < LSOCK_MAX; i++) {
		int fd;

		if (!still_listens(reg[i].fd, &reg[i].d))
			continue;
		if ((fd = fcntl(reg[i].fd, F_DUPFD_CLOEXEC, 3)) == -1) {
			log_warn("upgrade: dup");
			continue;
		}
		(*descs)[k] = reg[i].d;
		(*fds)[k++] = fd;
	}
	pthread_mutex_unlock(&mu);
	*n = k;
}

static int64_t
left_ms(int64_t deadline)
{
	int64_t l = deadline - now_ms();

	return l > 0 ? l : 0;
}

/* Wait for ev on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short ev, int64_t deadline)
{
	struct pollfd p = { fd, ev, 0 };
	int r;

	do
		r = poll(&p, 1, (int)left_ms(deadline));
	while (r == -1 && errno == EINTR);
	return r;
}

static int
send_all(int sock, const void *buf, size_t len, const int *fds, size_t nfds,
    int64_t deadline)
{
	const uint8_t *p = buf;

	while (len > 0) {
		union {
			struct cmsghdr	h;
			char		b[CMSG_SPACE(sizeof(int) * LSOCK_CHUNK)];
		} cm;
		struct iovec iov = { (void *)p, len };
		struct msghdr m;
		ssize_t r;

		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		if (nfds > 0) {
			memset(&cm, 0, sizeof(cm));
			m.msg_control = cm.b;
			m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			cm.h.cmsg_level = SOL_SOCKET;
			cm.h.cmsg_type = SCM_RIGHTS;
			cm.h.cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(&cm.h), fds, sizeof(int) * nfds);
		}
		r = sendmsg(sock, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(sock, POLLOUT, deadline) <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			continue;
		}
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
		nfds = 0;	/* they went with the first byte */
	}
	return 0;
}

int
lsock_send(int sock, const char *line, const int *fds, size_t nfds)
{
	int64_t deadline = now_ms() + LSOCK_TIMEOUT_MS;
	size_t i, c;

	if (send_all(sock, line, strlen(line), NULL, 0, deadline) == -1)
		return -1;
	for (i = 0; i < nfds; i += c) {
		c = nfds - i < LSOCK_CHUNK ? nfds - i : LSOCK_CHUNK;
		if (send_all(sock, "F", 1, fds + i, c, deadline) == -1)
			return -1;
	}
	return 0;
}

static void
close_fds(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

/*
 * Read from sock until the answer line, then until want() says enough
 * (the descriptors it announced): data in *buf, descriptors in *fds.
 */
struct rx {
	char	*buf;
	size_t	 len, cap;
	int	*fds;
	size_t	 nfds, capfds;
};

static int
rx_some(int sock, struct rx *x, int64_t deadline, char **err)
{
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(sizeof(int) * LSOCK_CHUNK)];
	} cm;
	struct cmsghdr *h;
	struct msghdr m;
	struct iovec iov;
	ssize_t r;

	if (x->cap - x->len < 4096) {
		if (x->cap >= LSOCK_ANSWER_MAX) {
			xasprintf(err, "the answer is longer than %u bytes", LSOCK_ANSWER_MAX);
			return -1;
		}
		x->cap = x->cap ? x->cap * 2 : 16384;
		x->buf = xrealloc(x->buf, x->cap + 1);
	}
	for (;;) {
		memset(&m, 0, sizeof(m));
		iov.iov_base = x->buf + x->len;
		iov.iov_len = x->cap - x->len;
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = cm.b;
		m.msg_controllen = sizeof(cm.b);
		r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (r >= 0)
			break;
		if (errno != EAGAIN && errno != EINTR) {
			xasprintf(err, "recvmsg: %s", strerror(errno));
			return -1;
		}
		if (wait_fd(sock, POLLIN, deadline) <= 0) {
			xasprintf(err, "no answer within %d ms", LSOCK_TIMEOUT_MS);
			return -1;
		}
	}
	for (h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		size_t k, n;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < n; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + k * sizeof(int), sizeof(int));
			if (x->nfds == x->capfds) {
				x->capfds = x->capfds ? x->capfds * 2 : 64;
				x->fds = xreallocarray(x->fds, x->capfds, sizeof(int));
			}
			x->fds[x->nfds++] = fd;
		}
	}
	if (m.msg_flags & MSG_CTRUNC) {
		xasprintf(err, "descriptors were lost (out of descriptors?)");
		return -1;
	}
	if (x->nfds > LSOCK_MAX) {
		xasprintf(err, "more than %d descriptors", LSOCK_MAX);
		return -1;
	}
	if (r == 0) {
		xasprintf(err, "the connection closed before the answer was whole");
		return -1;
	}
	x->len += (size_t)r;
	x->buf[x->len] = '\0';
	return 0;
}

static void
rx_free(struct rx *x)
{
	close_fds(x->fds, x->nfds);
	free(x->fds);
	free(x->buf);
	memset(x, 0, sizeof(*x));
}

/* The answer line of x, decoded: 0 with resp (ok), -1 with *err. */
static int
rx_answer(struct rx *x, int sock, int64_t deadline, size_t *linelen,
    struct ctl_response *resp, char **err)
{
	char *nl;

	while ((nl = memchr(x->buf ? x->buf : "", '\n', x->len)) == NULL)
		if (rx_some(sock, x, deadline, err) == -1)
			return -1;
	*linelen = (size_t)(nl - x->buf) + 1;
	if (ctl_response_decode(x->buf, *linelen, resp, err) == -1)
		return -1;
	if (!resp->ok) {
		xasprintf(err, "%s", resp->error);
		ctl_response_free(resp);
		return -1;
	}
	return 0;
}

static int
connect_to(const char *path, char **err)
{
	struct sockaddr_un sun;
	int s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		xasprintf(err, "%s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		xasprintf(err, "%s: %s (is vipgated running?)", path, strerror(errno));
		close(s);
		return -1;
	}
	return s;
}

int
lsock_fetch(const char *path, char **err)
{
	int64_t deadline = now_ms() + LSOCK_TIMEOUT_MS;
	struct ctl_response resp;
	struct lsock_desc *d;
	struct rx x = { 0 };
	size_t linelen, i, n, chunks, fbytes;
	json_int_t want;
	char *req;
	int s;

	*err = NULL;
	if ((s = connect_to(path, err)) == -1)
		return -1;
	req = ctl_request_encode("upgrade", NULL, 0);
	if (send_all(s, req, strlen(req), NULL, 0, deadline) == -1) {
		xasprintf(err, "%s: cannot send: %s", path, strerror(errno));
		free(req);
		close(s);
		return -1;
	}
	free(req);
	if (rx_answer(&x, s, deadline, &linelen, &resp, err) == -1)
		goto fail;
	want = json_integer_value(json_object_get(resp.result, "fds"));
	if (want < 0 || want > LSOCK_MAX) {
		ctl_response_free(&resp);
		xasprintf(err, "the answer announces %lld sockets", (long long)want);
		goto fail;
	}
	/* each chunk of descriptors rides on one 'F' */
	chunks = ((size_t)want + LSOCK_CHUNK - 1) / LSOCK_CHUNK;
	for (;;) {
		for (fbytes = 0, i = linelen; i < x.len; i++)
			fbytes += x.buf[i] == 'F';
		if (x.len - linelen != fbytes || fbytes > chunks) {
			ctl_response_free(&resp);
			xasprintf(err, "unexpected bytes after the answer");
			goto fail;
		}
		if (fbytes == chunks)
			break;
		if (rx_some(s, &x, deadline, err) == -1) {
			ctl_response_free(&resp);
			goto fail;
		}
	}
	if (lsock_desc_decode(resp.result, x.nfds, &d, &n, err) == -1) {
		ctl_response_free(&resp);
		goto fail;
	}
	log_info("upgrade: vipgated pid %lld handed over %zu listening sockets",
	    (long long)json_integer_value(json_object_get(resp.result, "pid")), n);
	ctl_response_free(&resp);
	pthread_mutex_lock(&mu);
	inh = d;
	ninh = n;
	inh_fd = x.fds;
	inh_taken = xcalloc(n ? n : 1, 1);
	pthread_mutex_unlock(&mu);
	x.fds = NULL;
	x.nfds = 0;
	rx_free(&x);
	conn = s;
	return 0;
fail:
	rx_free(&x);
	close(s);
	return -1;
}

int
lsock_fetching(void)
{
	return conn != -1;
}

int
lsock_go(char **err)
{
	int64_t deadline = now_ms() + LSOCK_TIMEOUT_MS;
	struct ctl_response resp;
	struct rx x = { 0 };
	size_t linelen, i, left = 0;
	char *req;
	int rc = -1;

	*err = NULL;
	if (conn == -1) {
		xasprintf(err, "no upgrade in progress");
		return -1;
	}
	req = ctl_request_encode("upgrade-go", NULL, 0);
	if (send_all(conn, req, strlen(req), NULL, 0, deadline) == -1)
		xasprintf(err, "cannot send: %s", strerror(errno));
	else if (rx_answer(&x, conn, deadline, &linelen, &resp, err) == 0) {
		ctl_response_free(&resp);
		rc = 0;
	}
	free(req);
	rx_free(&x);
	close(conn);
	conn = -1;
	/*
	 * More sockets than listeners (this process has fewer workers): the
	 * kernel moves what waits on a closed SO_REUSEPORT socket to the
	 * others only with net.ipv4.tcp_migrate_req=1.
	 */
	pthread_mutex_lock(&mu);
	for (i = 0; i < ninh; i++)
		if (!inh_taken[i]) {
			close(inh_fd[i]);
			left++;
		}
	free(inh);
	free(inh_fd);
	free(inh_taken);
	inh = NULL;
	inh_fd = NULL;
	inh_taken = NULL;
	ninh = 0;
	pthread_mutex_unlock(&mu);
	if (left)
		log_warnx("upgrade: %zu received sockets had no listener here (fewer "
		    "gateway workers?): closed", left);
	return rc;
}
