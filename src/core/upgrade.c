/* The running vipgated's side of a binary upgrade (upgrade.h). */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
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
	json_t		*(*go)(void *, pid_t);
	void		*arg;
	pid_t		 peer;		/* the successor, from its credentials */
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
	if ((res = u->go(u->arg, u->peer)) == NULL)
		answer(fd, ctl_response_error("vipgated is draining"));
	else
		answer(fd, ctl_response_ok(res));
	conn_end(u);
}

int
upgrade_serve(struct event_base *base, int fd, const char *node,
    json_t *(*go)(void *, pid_t), void *arg)
{
	struct upgrade_conn *u;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
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
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
		u->peer = cred.pid;
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

/* ---- SIGUSR2: the successor started from here ---- */

static struct {
	char	 exe[PATH_MAX];		/* the binary, by its path at start */
	char	 cwd[PATH_MAX];
	char	**argv;			/* this process's flags, without -x */
	size_t	 argc;
	pid_t	 child;
} self;

void
upgrade_save_argv(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self.exe, sizeof(self.exe) - 1);
	int i;

	self.exe[n > 0 ? n : 0] = '\0';
	if (getcwd(self.cwd, sizeof(self.cwd)) == NULL)
		self.cwd[0] = '\0';
	/* room for -x SOCKET and the NULL */
	self.argv = xcalloc((size_t)argc + 3, sizeof(char *));
	for (i = 0; i < argc; i++) {
		/* a successor itself started with -x does not pass it on */
		if (i > 0 && strcmp(argv[i], "-x") == 0) {
			i++;
			continue;
		}
		if (i > 0 && strncmp(argv[i], "-x", 2) == 0)
			continue;
		self.argv[self.argc++] = argv[i];
	}
}

/* pid as decimal into b (async-signal-safe: for the child between fork and exec) */
static void
pid_fmt(char *b, size_t cap, long v)
{
	char t[24];
	size_t n = 0, i = 0;

	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0 && n < sizeof(t));
	while (n > 0 && i + 1 < cap)
		b[i++] = t[--n];
	b[i] = '\0';
}

pid_t
upgrade_spawn(const char *sock_path)
{
	extern char **environ;
	static const char wdp[] = "WATCHDOG_PID=";
	char **envp, *wd = NULL;
	size_t n = 0, i, j = 0;
	struct rlimit rl;
	sigset_t none;
	pid_t pid;

	if (self.exe[0] == '\0' || self.argv == NULL) {
		log_warnx("upgrade: the binary's path is unknown (no /proc/self/exe at start)");
		return -1;
	}
	if (self.child > 0) {
		log_warnx("upgrade: a successor (pid %ld) is starting already", (long)self.child);
		return -1;
	}
	if (access(self.exe, X_OK) == -1) {
		log_warn("upgrade: cannot run %s", self.exe);
		return -1;
	}
	/* all that the child needs, made before the fork (this process has threads) */
	self.argv[self.argc] = (char *)"-x";
	self.argv[self.argc + 1] = (char *)sock_path;
	self.argv[self.argc + 2] = NULL;
	while (environ[n])
		n++;
	envp = xcalloc(n + 1, sizeof(*envp));
	for (i = 0; i < n; i++) {
		/* systemd's watchdog names the process it watches: the child's own pid */
		if (strncmp(environ[i], wdp, sizeof(wdp) - 1) == 0)
			envp[j++] = wd = xmalloc(sizeof(wdp) + 24);
		else
			envp[j++] = environ[i];
	}
	envp[j] = NULL;
	if (wd)
		memcpy(wd, wdp, sizeof(wdp));
	sigemptyset(&none);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur > 65536)
		rl.rlim_cur = 65536;
	pid = fork();
	if (pid == 0) {
		int fd;

		if (wd)
			pid_fmt(wd + sizeof(wdp) - 1, 24, (long)getpid());
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		/*
		 * Nothing of this process's but stdio: not every descriptor is
		 * close-on-exec (libevent accepts without it), and a client's
		 * socket the successor kept would stay open after this process
		 * closed it. The successor takes the listeners over the socket.
		 */
#ifdef SYS_close_range
		if (syscall(SYS_close_range, 3U, ~0U, 0U) == -1)
#endif
			for (fd = 3; fd < (int)rl.rlim_cur; fd++)
				(void)close(fd);
		if (self.cwd[0] && chdir(self.cwd) == -1)
			_exit(2);
		execve(self.exe, self.argv, envp);
		_exit(127);
	}
	self.argv[self.argc] = NULL;
	free(wd);
	free(envp);
	if (pid == -1) {
		log_warn("upgrade: fork");
		return -1;
	}
	self.child = pid;
	log_info("upgrade: started %s (pid %ld) to take over", self.exe, (long)pid);
	return pid;
}

pid_t
upgrade_reap(void)
{
	int status;
	pid_t pid;

	if (self.child <= 0 || (pid = waitpid(self.child, &status, WNOHANG)) <= 0)
		return 0;
	self.child = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		log_warnx("upgrade: the successor (pid %ld) could not run %s", (long)pid, self.exe);
	else if (WIFEXITED(status))
		log_info("upgrade: the successor (pid %ld) exited with status %d",
		    (long)pid, WEXITSTATUS(status));
	else
		log_warnx("upgrade: the successor (pid %ld) ended by signal %d", (long)pid,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return pid;
}
