/*
 * Gateway connection I/O (gw-io.h): a socket with two evbuffers, for the
 * proxy's downstream, upstream and mirror connections.
 *
 * Registration is computed, not toggled: io_update() derives from the
 * state (connecting, handshaking, open), the enabled directions, the
 * read watermark and whether a write was refused, which of the read and
 * write events must be in the kernel's set, and only a change costs an
 * epoll_ctl. A keep-alive connection in steady state stays registered
 * for reading and is never registered for writing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "gw-io.h"
#include "vipgate/log.h"
#include "vipgate/util.h"

#define IO_READ_MAX	16384	/* one read; a TLS record's payload at most */
#define IO_TLS_WRITE	16384	/* plaintext per SSL_write: one full record */

enum io_state {
	IO_CONNECTING,		/* TCP connect in progress */
	IO_HANDSHAKE,		/* TLS handshake in progress */
	IO_OPEN,
	IO_FAILED		/* an error was reported: nothing more is done */
};

struct gw_io {
	struct event_base	*base;
	evutil_socket_t		 fd;
	SSL			*ssl;
	enum io_state		 state;
	short			 enabled;	/* EV_READ | EV_WRITE, as the user set */
	unsigned		 rsusp:1;	/* input at its high-water mark */
	unsigned		 wblocked:1;	/* the socket refused output: wait for EV_WRITE */
	unsigned		 flush_queued:1;
	unsigned		 wcb_due:1;	/* gw_io_send_now wrote: the write callback is owed */
	unsigned		 hs_wantw:1;	/* the handshake waits to write */
	unsigned		 r_wantw:1;	/* SSL_read waits to write */
	unsigned		 w_wantr:1;	/* SSL_write waits to read */
	unsigned		 refused:1;	/* connect() failed at once: report it from the loop */
	unsigned		 ssl_broken:1;	/* no close_notify on a failed TLS connection */
	unsigned		 freed:1;
	unsigned		 rev_on:1, wev_on:1, evs_set:1;
	int			 busy;		/* inside our handlers: free later */
	size_t			 rhi, wlo;
	size_t			 tls_wpend;	/* length of an SSL_write to be retried */
	struct timeval		 rtv, wtv;
	unsigned		 has_rtv:1, has_wtv:1;
	int64_t			 hs_deadline_us;	/* the read timeout bounds the whole handshake */
	struct evbuffer		*in, *out;
	struct event		 rev, wev, fev;
	gw_io_cb		 readcb, writecb;
	gw_io_event_cb		 eventcb;
	void			*arg;
	unsigned long		 ssl_err;
	uint8_t			*pre;		/* gw_io_set_preamble (upstream only: not inline) */
	size_t			 npre;
};

static void io_rev(evutil_socket_t, short, void *);
static void io_wev(evutil_socket_t, short, void *);
static void io_fev(evutil_socket_t, short, void *);
static void io_in_cb(struct evbuffer *, const struct evbuffer_cb_info *, void *);
static void io_out_cb(struct evbuffer *, const struct evbuffer_cb_info *, void *);
static void io_update(struct gw_io *);

static void
io_destroy(struct gw_io *io)
{
	if (io->evs_set) {
		event_del(&io->rev);
		event_del(&io->wev);
	}
	event_del(&io->fev);
	if (io->ssl) {
		/* a clean close sends close_notify (and keeps the session resumable) */
		if (io->state == IO_OPEN && !io->ssl_broken)
			(void)SSL_shutdown(io->ssl);
		SSL_free(io->ssl);
		ERR_clear_error();
	}
	if (io->fd >= 0)
		close(io->fd);
	evbuffer_free(io->in);
	evbuffer_free(io->out);
	free(io->pre);
	free(io);
}

/* Leave a handler: the user may have freed the connection inside it. */
static void
io_leave(struct gw_io *io)
{
	if (--io->busy == 0 && io->freed)
		io_destroy(io);
}

static void
io_set_events(struct gw_io *io)
{
	event_assign(&io->rev, io->base, io->fd, EV_READ | EV_PERSIST, io_rev, io);
	event_assign(&io->wev, io->base, io->fd, EV_WRITE | EV_PERSIST, io_wev, io);
	io->evs_set = 1;
}

struct gw_io *
gw_io_new(struct event_base *base, evutil_socket_t fd, SSL *ssl, enum gw_io_mode mode)
{
	struct gw_io *io = xcalloc(1, sizeof(*io));

	io->base = base;
	io->fd = fd;
	io->ssl = mode == GW_IO_PLAIN ? NULL : ssl;
	io->in = evbuffer_new();
	io->out = evbuffer_new();
	if (io->in == NULL || io->out == NULL)
		fatalx("evbuffer_new");
	evbuffer_add_cb(io->in, io_in_cb, io);
	evbuffer_add_cb(io->out, io_out_cb, io);
	event_assign(&io->fev, base, -1, 0, io_fev, io);
	io->enabled = EV_WRITE;		/* as a bufferevent: writing on, reading off */
	io->state = IO_CONNECTING;
	if (io->ssl) {
		SSL_set_mode(io->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
		/* one read() takes what the socket has; SSL_has_pending tells the rest */
		SSL_set_read_ahead(io->ssl, 1);
		if (mode == GW_IO_TLS_ACCEPT)
			SSL_set_accept_state(io->ssl);
		else
			SSL_set_connect_state(io->ssl);
	}
	if (fd >= 0) {
		evutil_make_socket_nonblocking(fd);
		io_set_events(io);
		if (io->ssl) {
			SSL_set_fd(io->ssl, fd);
			io->state = IO_HANDSHAKE;
			if (mode == GW_IO_TLS_CONNECT)
				event_active(&io->wev, EV_WRITE, 1);	/* send the ClientHello */
		} else
			io->state = IO_OPEN;
		io_update(io);
	}
	return io;
}

/* Put the read and write events in or out of the kernel's set, as the state wants. */
static void
io_update(struct gw_io *io)
{
	int want_r = 0, want_w = 0;

	if (io->freed || !io->evs_set)
		return;
	switch (io->state) {
	case IO_CONNECTING:
		want_w = !io->refused;
		break;
	case IO_HANDSHAKE:
		want_r = !io->hs_wantw;
		want_w = io->hs_wantw;
		break;
	case IO_OPEN:
		want_r = ((io->enabled & EV_READ) && !io->rsusp) || io->w_wantr;
		want_w = ((io->enabled & EV_WRITE) && io->wblocked &&
		    evbuffer_get_length(io->out) > 0) || io->r_wantw;
		break;
	case IO_FAILED:
		break;
	}
	if (want_r && !io->rev_on) {
		event_add(&io->rev, io->has_rtv ? &io->rtv : NULL);
		io->rev_on = 1;
	} else if (!want_r && io->rev_on) {
		event_del(&io->rev);
		io->rev_on = 0;
	}
	if (want_w && !io->wev_on) {
		event_add(&io->wev, io->has_wtv ? &io->wtv : NULL);
		io->wev_on = 1;
	} else if (!want_w && io->wev_on) {
		event_del(&io->wev);
		io->wev_on = 0;
	}
}

/*
 * Send what b holds (up to 16 chains) with send() or sendmsg(), which
 * skip the VFS layers writev goes through, and drain what went; the
 * return is send's. MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE.
 */
ssize_t
gw_io_sendbuf(evutil_socket_t fd, struct evbuffer *b)
{
	struct evbuffer_iovec v[16];	/* struct iovec itself where sys/uio.h exists */
	struct msghdr mh;
	ssize_t n;
	int nv;

	nv = evbuffer_peek(b, -1, NULL, v, 16);
	if (nv <= 0)
		return 0;
	if (nv > 16)
		nv = 16;	/* the rest goes next time */
	if (nv == 1)
		n = send(fd, v[0].iov_base, v[0].iov_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	else {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = v;
		mh.msg_iovlen = (size_t)nv;
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	if (n > 0)
		evbuffer_drain(b, (size_t)n);
	return n;
}

/* Restart a registered event's timer (bufferevent does so on enable). */
static void
io_rearm(struct gw_io *io, struct event *ev, int on, int has, struct timeval *tv)
{
	if (!on)
		return;
	if (has)
		event_add(ev, tv);
	else
		event_remove_timer(ev);
}

/* Report to the user; the caller is inside io->busy. */
static void
io_event(struct gw_io *io, short what)
{
	if (what & BEV_EVENT_ERROR)
		io->state = IO_FAILED;
	if (what & BEV_EVENT_EOF)
		io->enabled &= ~EV_READ;
	io_update(io);
	if (io->eventcb && !io->freed)
		io->eventcb(io, what, io->arg);
}

/* An OpenSSL failure: keep its first error, leave the thread's queue empty. */
static void
io_ssl_failed(struct gw_io *io)
{
	unsigned long e = ERR_peek_error();

	if (e && io->ssl_err == 0)
		io->ssl_err = e;
	ERR_clear_error();
	io->ssl_broken = 1;
}

static void io_flush(struct gw_io *);
static void io_timeout(struct gw_io *, short);

/* Read what the socket has, up to the high-water mark; then tell the user. */
static void
io_read(struct gw_io *io)
{
	size_t got = 0, len = evbuffer_get_length(io->in), want;
	short fail = 0;
	int rounds = 0;

	/* a bounded number of reads per event: other connections get their turn */
	for (; rounds < 4; rounds++) {
		struct evbuffer_iovec v[2];
		int nv;

		want = IO_READ_MAX;
		if (io->rhi) {
			if (len >= io->rhi) {
				io->rsusp = 1;
				break;
			}
			if (io->rhi - len < want)
				want = io->rhi - len;
		}
		if (io->ssl == NULL) {
			ssize_t n;

			/* one extent and recv(): a socket call skips readv's VFS layers */
			if ((nv = evbuffer_reserve_space(io->in, (ev_ssize_t)want, v, 1)) < 1)
				fatalx("evbuffer_reserve_space");
			n = recv(io->fd, v[0].iov_base, want, 0);
			if (n == 0) {
				fail = BEV_EVENT_EOF | BEV_EVENT_READING;
				break;
			}
			if (n < 0) {
				if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
					fail = BEV_EVENT_ERROR | BEV_EVENT_READING;
				}
				break;
			}
			v[0].iov_len = (size_t)n;
			evbuffer_commit_space(io->in, v, 1);
			got += (size_t)n;
			len += (size_t)n;
			/* a short read emptied the socket: level-triggered epoll says when more comes */
			if ((size_t)n < want)
				break;
		} else {
			size_t n = 0;
			int r;

			if ((nv = evbuffer_reserve_space(io->in, (ev_ssize_t)want, v, 1)) < 1)
				fatalx("evbuffer_reserve_space");
			/* a stale error in this thread's queue would turn WANT_READ into SSL_ERROR_SSL */
			ERR_clear_error();
			errno = 0;
			r = SSL_read_ex(io->ssl, v[0].iov_base, want, &n);
			if (r == 1) {
				v[0].iov_len = n;
				evbuffer_commit_space(io->in, v, 1);
				got += n;
				len += n;
				if (!SSL_has_pending(io->ssl))
					break;
				continue;
			}
			switch (SSL_get_error(io->ssl, r)) {
			case SSL_ERROR_WANT_READ:
				break;
			case SSL_ERROR_WANT_WRITE:
				io->r_wantw = 1;
				break;
			case SSL_ERROR_ZERO_RETURN:
				fail = BEV_EVENT_EOF | BEV_EVENT_READING;
				break;
			case SSL_ERROR_SYSCALL:
				if (errno == 0 || errno == ECONNRESET || errno == EPIPE) {
					/* closed without close_notify: many servers do, take it as the end */
					ERR_clear_error();
					io->ssl_broken = 1;
					fail = BEV_EVENT_EOF | BEV_EVENT_READING;
					break;
				}
				io_ssl_failed(io);
				fail = BEV_EVENT_ERROR | BEV_EVENT_READING;
				break;
			default:
				if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
					ERR_clear_error();
					io->ssl_broken = 1;
					fail = BEV_EVENT_EOF | BEV_EVENT_READING;
					break;
				}
				io_ssl_failed(io);
				fail = BEV_EVENT_ERROR | BEV_EVENT_READING;
				break;
			}
			break;
		}
	}
	/* stopped by the round limit with records decrypted-ready: come back without a poll */
	if (io->ssl && !fail && !io->rsusp && rounds == 4 && SSL_has_pending(io->ssl))
		event_active(&io->rev, EV_READ, 1);
	io_update(io);
	if (got && io->readcb) {
		io->readcb(io, io->arg);
		if (io->freed)
			return;
	}
	if (fail)
		io_event(io, fail);
}

/*
 * Write what the output holds until it is empty or the socket refuses;
 * -1 when a write failed (the error is kept for the event).
 */
static int
io_write_out(struct gw_io *io, size_t *wrote)
{
	while (evbuffer_get_length(io->out) > 0) {
		if (io->ssl == NULL) {
			ssize_t n = gw_io_sendbuf(io->fd, io->out);

			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
					io->wblocked = 1;
					break;
				}
				return -1;
			}
			*wrote += (size_t)n;
			if (evbuffer_get_length(io->out) > 0)
				io->wblocked = 1;	/* a short write: the socket is full */
			break;
		} else {
			size_t len = evbuffer_get_length(io->out), chunk, n = 0;
			struct evbuffer_iovec v;
			const void *p;
			int r;

			chunk = io->tls_wpend ? io->tls_wpend : len < IO_TLS_WRITE ? len : IO_TLS_WRITE;
			/* the first chain when it holds the chunk; else one record's worth made contiguous */
			if (evbuffer_peek(io->out, -1, NULL, &v, 1) == 1 && v.iov_len >= chunk)
				p = v.iov_base;
			else if ((p = evbuffer_pullup(io->out, (ev_ssize_t)chunk)) == NULL)
				fatalx("evbuffer_pullup");
			ERR_clear_error();	/* as before SSL_read_ex */
			errno = 0;
			r = SSL_write_ex(io->ssl, p, chunk, &n);
			if (r == 1) {
				io->tls_wpend = 0;
				evbuffer_drain(io->out, n);
				*wrote += n;
				continue;
			}
			io->tls_wpend = chunk;
			switch (SSL_get_error(io->ssl, r)) {
			case SSL_ERROR_WANT_WRITE:
				io->wblocked = 1;
				break;
			case SSL_ERROR_WANT_READ:
				io->w_wantr = 1;
				break;
			default:
				io_ssl_failed(io);
				return -1;
			}
			break;
		}
	}
	return 0;
}

/* Write, then tell the user when the output drained to its low-water mark. */
static void
io_flush(struct gw_io *io)
{
	size_t wrote = 0;

	if (io->state != IO_OPEN || !(io->enabled & EV_WRITE))
		return;
	if (io_write_out(io, &wrote) == -1) {
		io_event(io, BEV_EVENT_ERROR | BEV_EVENT_WRITING);
		return;
	}
	io_update(io);
	if ((wrote || io->wcb_due) && io->writecb && evbuffer_get_length(io->out) <= io->wlo) {
		io->wcb_due = 0;
		io->writecb(io, io->arg);
	}
}

__thread int64_t gw_io_handshake_us;

static void
io_handshake(struct gw_io *io)
{
	int64_t t0 = now_us();
	int r;

	/*
	 * The read timeout restarts on every read; a handshake sent a byte at
	 * a time would never meet it. From its first read, the handshake as
	 * a whole has that long (Envoy: transport_socket_connect_timeout).
	 */
	if (io->hs_deadline_us == 0 && io->has_rtv)
		io->hs_deadline_us = t0 + (int64_t)io->rtv.tv_sec * 1000000 + io->rtv.tv_usec;
	ERR_clear_error();
	r = SSL_do_handshake(io->ssl);
	gw_io_handshake_us += now_us() - t0;
	if (r == 1) {
		io->state = IO_OPEN;
		io->hs_wantw = 0;
		io_update(io);
		if (io->eventcb)
			io->eventcb(io, BEV_EVENT_CONNECTED, io->arg);
		if (io->freed)
			return;
		if (evbuffer_get_length(io->out))
			io_flush(io);
		if (!io->freed && SSL_has_pending(io->ssl))
			event_active(&io->rev, EV_READ, 1);	/* the request came with the handshake */
		return;
	}
	switch (SSL_get_error(io->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		io->hs_wantw = 0;
		io_update(io);
		if (io->hs_deadline_us && io->rev_on) {
			int64_t left = io->hs_deadline_us - t0;

			if (left <= 0) {
				io_timeout(io, BEV_EVENT_READING);
				break;
			}
			event_add(&io->rev, &(struct timeval){ left / 1000000, left % 1000000 });
		}
		break;
	case SSL_ERROR_WANT_WRITE:
		io->hs_wantw = 1;
		io_update(io);
		break;
	case SSL_ERROR_ZERO_RETURN:
		io->ssl_broken = 1;
		io_event(io, BEV_EVENT_EOF | BEV_EVENT_READING);
		break;
	default:
		io_ssl_failed(io);
		io_event(io, BEV_EVENT_ERROR);
		break;
	}
}

static void
io_timeout(struct gw_io *io, short dir)
{
	if (io->state != IO_OPEN)
		io->state = IO_FAILED;	/* a connect or handshake that took too long */
	else
		io->enabled &= ~(dir == BEV_EVENT_READING ? EV_READ : EV_WRITE);
	io_event(io, BEV_EVENT_TIMEOUT | dir);
}

static void
io_rev(evutil_socket_t fd, short what, void *arg)
{
	struct gw_io *io = arg;

	(void)fd;
	io->busy++;
	if (what & EV_TIMEOUT)
		io_timeout(io, BEV_EVENT_READING);
	else if (io->state == IO_HANDSHAKE)
		io_handshake(io);
	else if (io->state == IO_OPEN) {
		if (io->w_wantr) {
			io->w_wantr = 0;
			io_flush(io);
		}
		if (!io->freed && (io->enabled & EV_READ) && !io->rsusp)
			io_read(io);
	}
	io_leave(io);
}

static void
io_connected(struct gw_io *io)
{
	int err = 0;
	socklen_t l = sizeof(err);

	if (io->refused)
		err = ECONNREFUSED;
	else if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &l) == -1)
		err = errno;
	if (err == EINPROGRESS)
		return;
	/* the preamble goes into an empty socket buffer: it takes it whole */
	if (!err && io->npre) {
		errno = 0;
		if (send(io->fd, io->pre, io->npre, MSG_NOSIGNAL | MSG_DONTWAIT) !=
		    (ssize_t)io->npre)
			err = errno ? errno : EIO;
	}
	free(io->pre);
	io->pre = NULL;
	io->npre = 0;
	if (err) {
		errno = err;
		io_event(io, BEV_EVENT_ERROR | BEV_EVENT_WRITING);
		return;
	}
	if (io->ssl) {
		SSL_set_fd(io->ssl, io->fd);
		io->state = IO_HANDSHAKE;
		io_handshake(io);
		return;
	}
	io->state = IO_OPEN;
	io_update(io);
	if (io->eventcb)
		io->eventcb(io, BEV_EVENT_CONNECTED, io->arg);
	if (!io->freed && evbuffer_get_length(io->out))
		io_flush(io);
}

static void
io_wev(evutil_socket_t fd, short what, void *arg)
{
	struct gw_io *io = arg;

	(void)fd;
	io->busy++;
	if (what & EV_TIMEOUT)
		io_timeout(io, BEV_EVENT_WRITING);
	else if (io->state == IO_CONNECTING)
		io_connected(io);
	else if (io->state == IO_HANDSHAKE)
		io_handshake(io);
	else if (io->state == IO_OPEN) {
		io->wblocked = 0;
		if (io->r_wantw) {
			io->r_wantw = 0;
			if (io->enabled & EV_READ)
				io_read(io);
		}
		if (!io->freed)
			io_flush(io);
	}
	io_leave(io);
}

/* The speculative send: queued output goes out before the loop polls again. */
static void
io_fev(evutil_socket_t fd, short what, void *arg)
{
	struct gw_io *io = arg;

	(void)fd;
	(void)what;
	io->flush_queued = 0;
	io->busy++;
	if (!io->wblocked)
		io_flush(io);
	io_leave(io);
}

static void
io_queue_flush(struct gw_io *io)
{
	if (io->flush_queued || io->wblocked || io->state != IO_OPEN ||
	    !(io->enabled & EV_WRITE))
		return;
	io->flush_queued = 1;
	event_active(&io->fev, EV_WRITE, 1);
}

static void
io_out_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct gw_io *io = arg;

	(void)b;
	if (info->n_added && !io->freed)
		io_queue_flush(io);
}

/* The user drained the input below the high-water mark: read again. */
static void
io_in_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct gw_io *io = arg;

	if (!info->n_deleted || !io->rsusp || io->freed)
		return;
	if (io->rhi && evbuffer_get_length(b) >= io->rhi)
		return;
	io->rsusp = 0;
	io_update(io);
	if (io->ssl && io->state == IO_OPEN && (io->enabled & EV_READ) && SSL_has_pending(io->ssl))
		event_active(&io->rev, EV_READ, 1);
}

int
gw_io_connect(struct gw_io *io, const struct sockaddr *sa, socklen_t salen)
{
	int fd;

	if (io->fd >= 0) {
		errno = EISCONN;
		return -1;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	io->fd = fd;
	io_set_events(io);
	io->state = IO_CONNECTING;
	if (connect(fd, sa, salen) == -1) {
		if (errno == ECONNREFUSED)
			io->refused = 1;	/* told from the loop, as a late failure would be */
		else if (errno != EINPROGRESS && errno != EINTR)
			return -1;
	}
	if (io->refused)
		event_active(&io->wev, EV_WRITE, 1);
	else
		io_update(io);
	return 0;
}

void
gw_io_set_preamble(struct gw_io *io, const void *p, size_t len)
{
	if (len > GW_IO_PREAMBLE_MAX)
		fatalx("gw_io_set_preamble: %zu bytes", len);
	free(io->pre);
	io->pre = len ? xmalloc(len) : NULL;
	if (len)
		memcpy(io->pre, p, len);
	io->npre = len;
}

/*
 * Write now rather than at the end of the loop round: a request queued to
 * an upstream goes out before the other ready connections are served, as
 * HAProxy sends from the stream that made it. No callback runs from here:
 * the flush already queued reports errors and the drain.
 */
void
gw_io_send_now(struct gw_io *io)
{
	size_t wrote = 0;

	if (io->freed || io->state != IO_OPEN || !(io->enabled & EV_WRITE) || io->wblocked ||
	    evbuffer_get_length(io->out) == 0)
		return;
	if (io_write_out(io, &wrote) == -1)
		return;
	if (wrote)
		io->wcb_due = 1;
	io_update(io);
}

void
gw_io_free(struct gw_io *io)
{
	if (io == NULL)
		return;
	if (io->busy) {
		/* inside one of our handlers: it frees on the way out */
		if (io->evs_set) {
			event_del(&io->rev);
			event_del(&io->wev);
			io->rev_on = io->wev_on = 0;
		}
		event_del(&io->fev);
		io->freed = 1;
		return;
	}
	io_destroy(io);
}

void
gw_io_setcb(struct gw_io *io, gw_io_cb readcb, gw_io_cb writecb, gw_io_event_cb eventcb,
    void *arg)
{
	io->readcb = readcb;
	io->writecb = writecb;
	io->eventcb = eventcb;
	io->arg = arg;
}

void
gw_io_enable(struct gw_io *io, short what)
{
	io->enabled |= what & (EV_READ | EV_WRITE);
	io_update(io);
	if (what & EV_READ) {
		io_rearm(io, &io->rev, io->rev_on, io->has_rtv, &io->rtv);
		if (io->ssl && io->state == IO_OPEN && !io->rsusp && SSL_has_pending(io->ssl))
			event_active(&io->rev, EV_READ, 1);
	}
	if ((what & EV_WRITE) && evbuffer_get_length(io->out))
		io_queue_flush(io);
}

void
gw_io_disable(struct gw_io *io, short what)
{
	io->enabled &= ~(what & (EV_READ | EV_WRITE));
	io_update(io);
}

void
gw_io_set_timeouts(struct gw_io *io, const struct timeval *rd, const struct timeval *wr)
{
	io->has_rtv = rd != NULL && (rd->tv_sec || rd->tv_usec);
	if (io->has_rtv)
		io->rtv = *rd;
	io->has_wtv = wr != NULL && (wr->tv_sec || wr->tv_usec);
	if (io->has_wtv)
		io->wtv = *wr;
	io_rearm(io, &io->rev, io->rev_on, io->has_rtv, &io->rtv);
	io_rearm(io, &io->wev, io->wev_on, io->has_wtv, &io->wtv);
}

void
gw_io_setwatermark(struct gw_io *io, short what, size_t lo, size_t hi)
{
	if (what & EV_WRITE)
		io->wlo = lo;
	if (what & EV_READ) {
		io->rhi = hi;
		if (io->rsusp && (hi == 0 || evbuffer_get_length(io->in) < hi)) {
			io->rsusp = 0;
			io_update(io);
			if (io->ssl && io->state == IO_OPEN && (io->enabled & EV_READ) &&
			    SSL_has_pending(io->ssl))
				event_active(&io->rev, EV_READ, 1);
		}
	}
}

struct evbuffer *
gw_io_input(struct gw_io *io)
{
	return io->in;
}

struct evbuffer *
gw_io_output(struct gw_io *io)
{
	return io->out;
}

int
gw_io_write(struct gw_io *io, const void *p, size_t len)
{
	return evbuffer_add(io->out, p, len);
}

int
gw_io_write_buffer(struct gw_io *io, struct evbuffer *b)
{
	return evbuffer_add_buffer(io->out, b);
}

evutil_socket_t
gw_io_fd(const struct gw_io *io)
{
	return io->fd;
}

SSL *
gw_io_ssl(const struct gw_io *io)
{
	return io->ssl;
}

unsigned long
gw_io_ssl_error(const struct gw_io *io)
{
	return io->ssl_err;
}

void
gw_io_pump(struct gw_io *from, struct gw_io *to, size_t hwm)
{
	struct evbuffer *in = gw_io_input(from);

	if (evbuffer_get_length(in))
		gw_io_write_buffer(to, in);
	if (evbuffer_get_length(gw_io_output(to)) > hwm)
		gw_io_disable(from, EV_READ);
}
