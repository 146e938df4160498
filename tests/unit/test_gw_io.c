/*
 * gw_io, the gateway's connection I/O: reads, speculative writes,
 * watermarks, timeouts, connect, EOF, freeing inside a callback, and TLS
 * with read-ahead (records OpenSSL holds are read without a poll).
 * Over socketpairs and loopback TCP, on a private event_base.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cu.h"
#include "tls-fixture.h"
#include "../../src/gw/gw-io.h"

struct side {
	struct gw_io	*io;
	struct evbuffer	*got;		/* what the read callback took */
	size_t		 maxin;		/* the largest input seen in the read callback */
	int		 reads, writes, connected;
	short		 last;		/* the last event, BEV_EVENT_* */
	int		 events;
	int		 echo;		/* write back what is read */
	int		 free_on_event, free_on_read;
	int		 keep;		/* read callback leaves the input alone */
};

static void
s_read(struct gw_io *io, void *arg)
{
	struct side *s = arg;
	struct evbuffer *in = gw_io_input(io);

	s->reads++;
	if (evbuffer_get_length(in) > s->maxin)
		s->maxin = evbuffer_get_length(in);
	if (s->free_on_read) {
		gw_io_free(io);
		s->io = NULL;
		return;
	}
	if (s->keep)
		return;
	if (s->echo)
		evbuffer_add_buffer(gw_io_output(io), in);
	else
		evbuffer_remove_buffer(in, s->got, evbuffer_get_length(in));
}

static void
s_write(struct gw_io *io, void *arg)
{
	struct side *s = arg;

	(void)io;
	s->writes++;
}

static void
s_event(struct gw_io *io, short what, void *arg)
{
	struct side *s = arg;

	if (what & BEV_EVENT_CONNECTED) {
		s->connected++;
		return;
	}
	s->last = what;
	s->events++;
	if (s->free_on_event) {
		gw_io_free(io);
		s->io = NULL;
	}
}

static void
side_init(struct side *s)
{
	memset(s, 0, sizeof(*s));
	s->got = evbuffer_new();
}

static void
side_fini(struct side *s)
{
	if (s->io)
		gw_io_free(s->io);
	evbuffer_free(s->got);
}

static int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the loop until *flag reaches want or 3 s pass; returns whether it did. */
static int
spin(struct event_base *base, const int *flag, int want)
{
	int64_t end = ms_now() + 3000;

	while (*flag < want && ms_now() < end) {
		struct timeval tv = { 0, 20000 };

		event_base_loopexit(base, &tv);
		event_base_loop(base, EVLOOP_ONCE);
	}
	return *flag >= want;
}

static void
pair(int sv[2])
{
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
}

/* Bytes in, bytes out; the answer leaves in the round that queued it. */
static void
test_plain(void)
{
	struct event_base *base = event_base_new();
	struct side a;
	int sv[2];
	char buf[64];
	ssize_t n;

	pair(sv);
	side_init(&a);
	a.io = gw_io_new(base, sv[0], NULL, GW_IO_PLAIN);
	gw_io_setcb(a.io, s_read, s_write, s_event, &a);
	gw_io_enable(a.io, EV_READ | EV_WRITE);
	CU_ASSERT_EQUAL(write(sv[1], "hello", 5), 5);
	CU_ASSERT_TRUE(spin(base, &a.reads, 1));
	CU_ASSERT_EQUAL(evbuffer_get_length(a.got), 5);
	CU_ASSERT_EQUAL(memcmp(evbuffer_pullup(a.got, -1), "hello", 5), 0);
	/* written before the loop polls again: one non-blocking round */
	gw_io_write(a.io, "world", 5);
	event_base_loop(base, EVLOOP_NONBLOCK);
	n = read(sv[1], buf, sizeof(buf));
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(memcmp(buf, "world", 5), 0);
	CU_ASSERT_EQUAL(a.writes, 1);
	CU_ASSERT_EQUAL(gw_io_fd(a.io), sv[0]);
	CU_ASSERT_PTR_NULL(gw_io_ssl(a.io));
	/* the peer closes: EOF, reading stops */
	close(sv[1]);
	CU_ASSERT_TRUE(spin(base, &a.events, 1));
	CU_ASSERT_EQUAL(a.last, BEV_EVENT_EOF | BEV_EVENT_READING);
	side_fini(&a);
	event_base_free(base);
}

/* Reading stops at the high-water mark and goes on when the input drains. */
static void
test_watermark(void)
{
	struct event_base *base = event_base_new();
	struct side a;
	int sv[2], i;
	char blk[1000];

	pair(sv);
	side_init(&a);
	a.keep = 1;
	a.io = gw_io_new(base, sv[0], NULL, GW_IO_PLAIN);
	gw_io_setcb(a.io, s_read, NULL, s_event, &a);
	gw_io_setwatermark(a.io, EV_READ, 0, 3000);
	gw_io_enable(a.io, EV_READ);
	memset(blk, 'x', sizeof(blk));
	for (i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(write(sv[1], blk, sizeof(blk)), (ssize_t)sizeof(blk));
	CU_ASSERT_TRUE(spin(base, &a.reads, 1));
	/* more rounds read nothing: the input is at its mark */
	for (i = 0; i < 5; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	CU_ASSERT_EQUAL(evbuffer_get_length(gw_io_input(a.io)), 3000);
	CU_ASSERT_EQUAL(a.maxin, 3000);
	/* drained: the rest comes, never more than the mark at once */
	a.keep = 0;
	evbuffer_remove_buffer(gw_io_input(a.io), a.got, 3000);
	while (evbuffer_get_length(a.got) < 10000 && spin(base, &a.reads, a.reads + 1))
		;
	CU_ASSERT_EQUAL(evbuffer_get_length(a.got), 10000);
	CU_ASSERT_TRUE(a.maxin <= 3000);
	close(sv[1]);
	side_fini(&a);
	event_base_free(base);
}

/* A silent peer: the read timeout fires and reading is off; enabling rearms it. */
static void
test_timeout(void)
{
	struct event_base *base = event_base_new();
	struct side a;
	int sv[2];
	int64_t t0;

	pair(sv);
	side_init(&a);
	a.io = gw_io_new(base, sv[0], NULL, GW_IO_PLAIN);
	gw_io_setcb(a.io, s_read, NULL, s_event, &a);
	gw_io_set_timeouts(a.io, &(struct timeval){ 0, 50000 }, NULL);
	gw_io_enable(a.io, EV_READ);
	t0 = ms_now();
	CU_ASSERT_TRUE(spin(base, &a.events, 1));
	CU_ASSERT_EQUAL(a.last, BEV_EVENT_TIMEOUT | BEV_EVENT_READING);
	CU_ASSERT_TRUE(ms_now() - t0 >= 45);
	/* off until enabled again: data waits */
	CU_ASSERT_EQUAL(write(sv[1], "x", 1), 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CU_ASSERT_EQUAL(a.reads, 0);
	gw_io_enable(a.io, EV_READ);
	CU_ASSERT_TRUE(spin(base, &a.reads, 1));
	/* no timeout: a second one never comes */
	gw_io_set_timeouts(a.io, NULL, NULL);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CU_ASSERT_EQUAL(a.events, 1);
	close(sv[1]);
	side_fini(&a);
	event_base_free(base);
}

static int
listener(struct sockaddr_in *sin)
{
	socklen_t l = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)sin, sizeof(*sin)) == 0);
	CU_ASSERT_FATAL(listen(fd, 4) == 0);
	getsockname(fd, (struct sockaddr *)sin, &l);
	return fd;
}

/* Connect: CONNECTED, output queued before it goes after; a refused one is an ERROR. */
static void
test_connect(void)
{
	struct event_base *base = event_base_new();
	struct sockaddr_in sin;
	struct side a, b;
	int lfd, cfd;
	char buf[16];

	lfd = listener(&sin);
	side_init(&a);
	a.io = gw_io_new(base, -1, NULL, GW_IO_PLAIN);
	gw_io_setcb(a.io, s_read, s_write, s_event, &a);
	CU_ASSERT_EQUAL(gw_io_connect(a.io, (struct sockaddr *)&sin, sizeof(sin)), 0);
	gw_io_write(a.io, "ping", 4);
	gw_io_enable(a.io, EV_READ | EV_WRITE);
	CU_ASSERT_TRUE(spin(base, &a.connected, 1));
	CU_ASSERT_TRUE(spin(base, &a.writes, 1));
	cfd = accept(lfd, NULL, NULL);
	CU_ASSERT_EQUAL(read(cfd, buf, sizeof(buf)), 4);
	CU_ASSERT_EQUAL(memcmp(buf, "ping", 4), 0);
	CU_ASSERT_EQUAL(write(cfd, "pong", 4), 4);
	CU_ASSERT_TRUE(spin(base, &a.reads, 1));
	CU_ASSERT_EQUAL(evbuffer_get_length(a.got), 4);
	close(cfd);
	close(lfd);
	/* the port is closed now: refused */
	side_init(&b);
	b.io = gw_io_new(base, -1, NULL, GW_IO_PLAIN);
	gw_io_setcb(b.io, s_read, NULL, s_event, &b);
	gw_io_set_timeouts(b.io, NULL, &(struct timeval){ 2, 0 });
	CU_ASSERT_EQUAL(gw_io_connect(b.io, (struct sockaddr *)&sin, sizeof(sin)), 0);
	gw_io_enable(b.io, EV_READ | EV_WRITE);
	CU_ASSERT_TRUE(spin(base, &b.events, 1));
	CU_ASSERT_TRUE(b.last & BEV_EVENT_ERROR);
	CU_ASSERT_EQUAL(b.connected, 0);
	side_fini(&a);
	side_fini(&b);
	event_base_free(base);
}

/* Freed in its read and event callbacks (ASan checks nothing touches it after). */
static void
test_free_inside(void)
{
	struct event_base *base = event_base_new();
	struct side a, b;
	int sv[2], sw[2];

	pair(sv);
	pair(sw);
	side_init(&a);
	side_init(&b);
	a.free_on_read = 1;
	a.io = gw_io_new(base, sv[0], NULL, GW_IO_PLAIN);
	gw_io_setcb(a.io, s_read, NULL, s_event, &a);
	gw_io_enable(a.io, EV_READ);
	gw_io_write(a.io, "queued", 6);		/* a flush is pending when it dies */
	CU_ASSERT_EQUAL(write(sv[1], "x", 1), 1);
	CU_ASSERT_TRUE(spin(base, &a.reads, 1));
	CU_ASSERT_PTR_NULL(a.io);
	b.free_on_event = 1;
	b.io = gw_io_new(base, sw[0], NULL, GW_IO_PLAIN);
	gw_io_setcb(b.io, s_read, NULL, s_event, &b);
	gw_io_enable(b.io, EV_READ);
	close(sw[1]);
	CU_ASSERT_TRUE(spin(base, &b.events, 1));
	CU_ASSERT_PTR_NULL(b.io);
	event_base_loop(base, EVLOOP_NONBLOCK);
	close(sv[1]);
	side_fini(&a);
	side_fini(&b);
	event_base_free(base);
}

static SSL_CTX *
server_ctx(void)
{
	EVP_PKEY *pk;
	X509 *x = tfx_self_signed(&pk, "gw-io");
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	CU_ASSERT_FATAL(SSL_CTX_use_certificate(ctx, x) == 1);
	CU_ASSERT_FATAL(SSL_CTX_use_PrivateKey(ctx, pk) == 1);
	X509_free(x);
	EVP_PKEY_free(pk);
	return ctx;
}

/*
 * TLS both ways over a socketpair: 300 KB out and echoed back. The server
 * reads at most 1,000 bytes at a time (its high-water mark), less than a
 * record: the rest of each record waits inside OpenSSL, where no poll
 * sees it, and must still be read as the input drains.
 */
static void
test_tls(void)
{
	struct event_base *base = event_base_new();
	SSL_CTX *sctx = server_ctx(), *cctx = SSL_CTX_new(TLS_client_method());
	struct side s, c;
	int sv[2];
	size_t total = 300000, i;
	unsigned char *data = malloc(total);
	int done;

	for (i = 0; i < total; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	side_init(&s);
	side_init(&c);
	s.echo = 1;
	s.io = gw_io_new(base, sv[0], SSL_new(sctx), GW_IO_TLS_ACCEPT);
	c.io = gw_io_new(base, sv[1], SSL_new(cctx), GW_IO_TLS_CONNECT);
	gw_io_setcb(s.io, s_read, NULL, s_event, &s);
	gw_io_setcb(c.io, s_read, NULL, s_event, &c);
	gw_io_setwatermark(s.io, EV_READ, 0, 1000);
	gw_io_enable(s.io, EV_READ | EV_WRITE);
	gw_io_enable(c.io, EV_READ | EV_WRITE);
	CU_ASSERT_TRUE(spin(base, &c.connected, 1));
	CU_ASSERT_TRUE(spin(base, &s.connected, 1));
	CU_ASSERT_PTR_NOT_NULL(gw_io_ssl(c.io));
	/*
	 * An error some other code left in this thread's queue: OpenSSL's
	 * SSL_get_error would report it instead of WANT_READ unless cleared.
	 */
	ERR_raise(ERR_LIB_SSL, SSL_R_BAD_PACKET_LENGTH);
	gw_io_write(c.io, data, total);
	for (done = 0; !done;) {
		int before = c.reads;

		done = evbuffer_get_length(c.got) >= total;
		if (!done && !spin(base, &c.reads, before + 1))
			break;
	}
	CU_ASSERT_EQUAL(evbuffer_get_length(c.got), total);
	CU_ASSERT_TRUE(s.maxin <= 1000);
	if (evbuffer_get_length(c.got) == total)
		CU_ASSERT_EQUAL(memcmp(evbuffer_pullup(c.got, -1), data, total), 0);
	CU_ASSERT_EQUAL(gw_io_ssl_error(c.io), 0);
	CU_ASSERT_EQUAL(c.events, 0);
	CU_ASSERT_EQUAL(s.events, 0);
	/* the client goes with close_notify: the server sees a clean EOF */
	gw_io_free(c.io);
	c.io = NULL;
	CU_ASSERT_TRUE(spin(base, &s.events, 1));
	CU_ASSERT_EQUAL(s.last, BEV_EVENT_EOF | BEV_EVENT_READING);
	side_fini(&s);
	side_fini(&c);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	free(data);
	event_base_free(base);
}

/* A client that speaks no TLS: the server's handshake fails with an error, not a hang. */
static void
test_tls_garbage(void)
{
	struct event_base *base = event_base_new();
	SSL_CTX *sctx = server_ctx();
	struct side s;
	int sv[2];
	static const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	pair(sv);
	side_init(&s);
	s.io = gw_io_new(base, sv[0], SSL_new(sctx), GW_IO_TLS_ACCEPT);
	gw_io_setcb(s.io, s_read, NULL, s_event, &s);
	gw_io_enable(s.io, EV_READ | EV_WRITE);
	CU_ASSERT_EQUAL(write(sv[1], junk, sizeof(junk) - 1), (ssize_t)sizeof(junk) - 1);
	CU_ASSERT_TRUE(spin(base, &s.events, 1));
	CU_ASSERT_TRUE(s.last & BEV_EVENT_ERROR);
	CU_ASSERT_NOT_EQUAL(gw_io_ssl_error(s.io), 0);
	CU_ASSERT_EQUAL(s.connected, 0);
	close(sv[1]);
	side_fini(&s);
	SSL_CTX_free(sctx);
	event_base_free(base);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "plain read, speculative write, EOF", test_plain },
		{ "read high-water mark", test_watermark },
		{ "read timeout", test_timeout },
		{ "connect and refused connect", test_connect },
		{ "free inside callbacks", test_free_inside },
		{ "TLS with read-ahead below a record", test_tls },
		{ "TLS handshake with a non-TLS peer", test_tls_garbage },
		{ NULL, NULL }
	};

	signal(SIGPIPE, SIG_IGN);	/* as vipgated does */
	return cu_run("gw_io", tests);
}
