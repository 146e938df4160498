/*
 * gw_jwks_fetch: the jwksUri fetcher against a tiny HTTP server in this
 * process (a thread on 127.0.0.1, port 0, one canned answer at a time):
 * first fetch, 500s, keeping a good copy while refreshes fail, rotation,
 * timeouts, size cap, redirects and other protocols refused, forgetting
 * unused URIs, and freeing the fetcher under a running fetch. Schedules
 * are shortened with VG_JWKS_REFRESH_MS and VG_JWKS_RETRY_MS. Every wait
 * is bounded; nothing asserts how fast anything is.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "cu.h"
#include "vipgate/util.h"
#include "../../src/gw/gw-jwks-fetch.h"

#define WAIT_MS		15000	/* the bound on every wait: a hang, not a slow run */

static const char JWKS_A[] =
    "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"a\",\"alg\":\"HS256\",\"k\":\"c2VjcmV0LWE\"}]}";
static const char JWKS_B[] =
    "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"b\",\"alg\":\"HS256\",\"k\":\"c2VjcmV0LWI\"}]}";

/* ---- the server ---- */

struct srv {
	int		 lfd;
	uint16_t	 port;
	pthread_t	 th;
	pthread_mutex_t	 mu;
	char		*resp;		/* the canned answer; under mu */
	size_t		 resp_len;
	int		 delay_ms;	/* before answering; under mu */
	atomic_int	 stop;
	atomic_int	 accepted, answered;
};

/* Read a request head, at most 2 s and 16 kB; the answer does not depend on it. */
static void
srv_read_head(int fd)
{
	char buf[16384];
	size_t len = 0;
	int64_t end = now_ms() + 2000;

	while (len < sizeof(buf) - 1 && now_ms() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 50) <= 0)
			continue;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			return;
	}
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd p = { s->lfd, POLLIN, 0 };
		char *resp;
		size_t len, off;
		int fd, delay;

		if (poll(&p, 1, 20) <= 0)
			continue;
		fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		atomic_fetch_add(&s->accepted, 1);
		srv_read_head(fd);
		pthread_mutex_lock(&s->mu);
		resp = xmalloc(s->resp_len);
		memcpy(resp, s->resp, s->resp_len);
		len = s->resp_len;
		delay = s->delay_ms;
		pthread_mutex_unlock(&s->mu);
		for (; delay > 0 && !atomic_load(&s->stop); delay -= 10)
			usleep(10000);
		for (off = 0; off < len;) {
			ssize_t n = send(fd, resp + off, len - off, MSG_NOSIGNAL);

			if (n <= 0)
				break;	/* the client gave up (size cap) */
			off += (size_t)n;
		}
		free(resp);
		close(fd);
		atomic_fetch_add(&s->answered, 1);
	}
	return NULL;
}

static void
srv_set(struct srv *s, const char *head, const char *body, size_t body_len, int delay_ms)
{
	char *r = xmalloc(strlen(head) + body_len);

	memcpy(r, head, strlen(head));
	memcpy(r + strlen(head), body, body_len);
	pthread_mutex_lock(&s->mu);
	free(s->resp);
	s->resp = r;
	s->resp_len = strlen(head) + body_len;
	s->delay_ms = delay_ms;
	pthread_mutex_unlock(&s->mu);
}

/* A 200 with a JSON body and its Content-Length. */
static void
srv_json(struct srv *s, const char *body, int delay_ms)
{
	char head[256];

	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", strlen(body));
	srv_set(s, head, body, strlen(body), delay_ms);
}

static void
srv_status(struct srv *s, const char *head)
{
	srv_set(s, head, "", 0, 0);
}

static void
srv_start(struct srv *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	srv_json(s, JWKS_A, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(s->lfd >= 0);
	CU_ASSERT_FATAL(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CU_ASSERT_FATAL(listen(s->lfd, 16) == 0);
	CU_ASSERT_FATAL(getsockname(s->lfd, (struct sockaddr *)&a, &alen) == 0);
	s->port = ntohs(a.sin_port);
	CU_ASSERT_FATAL(pthread_create(&s->th, NULL, srv_main, s) == 0);
}

static void
srv_stop(struct srv *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
	free(s->resp);
	pthread_mutex_destroy(&s->mu);
}

/* ---- the main loop side ---- */

struct fx {
	struct event_base	*base;
	struct event		*tick;
	struct gw_jwks_fetcher	*f;
	struct srv		 srv;
	int			 changed;	/* changed() calls */
	int			 ask;		/* each loop turn asks for uri, as a user would */
	int64_t			 timeout_ms;
	char			 uri[128];
};

static void
on_changed(void *arg)
{
	struct fx *x = arg;

	x->changed++;
}

static void
on_tick(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
}

/* refresh_ms, retry_ms: the environment overrides, or NULL for istiod's values. */
static void
fx_init(struct fx *x, const char *refresh_ms, const char *retry_ms)
{
	memset(x, 0, sizeof(*x));
	srv_start(&x->srv);
	snprintf(x->uri, sizeof(x->uri), "http://127.0.0.1:%u/jwks", x->srv.port);
	x->base = event_base_new();
	CU_ASSERT_FATAL(x->base != NULL);
	/* EVLOOP_ONCE returns at least this often */
	x->tick = event_new(x->base, -1, EV_PERSIST, on_tick, NULL);
	event_add(x->tick, &(struct timeval){ 0, 10000 });
	if (refresh_ms)
		setenv("VG_JWKS_REFRESH_MS", refresh_ms, 1);
	if (retry_ms)
		setenv("VG_JWKS_RETRY_MS", retry_ms, 1);
	x->f = gw_jwks_fetcher_new(x->base, on_changed, x);
	unsetenv("VG_JWKS_REFRESH_MS");
	unsetenv("VG_JWKS_RETRY_MS");
}

/* Wait for the fetch threads still running to end (after a free). */
static int
threads_gone(void)
{
	int64_t end = now_ms() + WAIT_MS;

	while (gw_jwks_fetch_threads() > 0 && now_ms() < end)
		usleep(10000);
	return gw_jwks_fetch_threads() == 0;
}

static void
fx_fini(struct fx *x)
{
	gw_jwks_fetcher_free(x->f);
	CU_ASSERT_TRUE(threads_gone());
	srv_stop(&x->srv);
	event_free(x->tick);
	event_base_free(x->base);
}

/* One turn of the loop; 0 once end has passed. */
static int
turn(struct fx *x, int64_t end)
{
	if (now_ms() >= end)
		return 0;
	if (x->ask)
		(void)gw_jwks_fetcher_get(x->f, x->uri, x->timeout_ms, NULL);
	event_base_loop(x->base, EVLOOP_ONCE);
	return 1;
}

#define WAIT(x, cond) do {						\
	int64_t end_ = now_ms() + WAIT_MS;				\
	while (!(cond) && turn((x), end_))				\
		;							\
} while (0)

static struct gw_jwks_stats
stats(struct fx *x, const char *uri)
{
	struct gw_jwks_stats st;

	memset(&st, 0, sizeof(st));
	CU_ASSERT_EQUAL(gw_jwks_fetcher_stats(x->f, uri, &st), 0);
	return st;
}

/* ---- tests ---- */

static void
test_first_fetch(void)
{
	struct fx x;
	const char *doc;
	int failed = -1;

	fx_init(&x, NULL, NULL);
	CU_ASSERT_EQUAL(gw_jwks_fetcher_stats(x.f, x.uri, &(struct gw_jwks_stats){ 0 }), -1);
	doc = gw_jwks_fetcher_get(x.f, x.uri, 0, &failed);
	CU_ASSERT_PTR_NULL(doc);
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT_TRUE(stats(&x, x.uri).fetching);
	CU_ASSERT_EQUAL(x.changed, 0);	/* never from inside get() */
	WAIT(&x, x.changed > 0);
	CU_ASSERT_EQUAL(x.changed, 1);
	doc = gw_jwks_fetcher_get(x.f, x.uri, 0, &failed);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_STRING_EQUAL(doc, JWKS_A);
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT_FALSE(stats(&x, x.uri).fetching);
	CU_ASSERT_EQUAL(stats(&x, x.uri).fetches, 1);
	CU_ASSERT_EQUAL(stats(&x, x.uri).failures, 0);
	/* asking again does not fetch again before the refresh */
	(void)gw_jwks_fetcher_get(x.f, x.uri, 0, NULL);
	CU_ASSERT_FALSE(stats(&x, x.uri).fetching);
	CU_ASSERT_EQUAL(atomic_load(&x.srv.accepted), 1);
	fx_fini(&x);
}

static void
test_500(void)
{
	struct fx x;
	int failed = 0;

	fx_init(&x, NULL, NULL);
	srv_status(&x.srv, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n");
	CU_ASSERT_PTR_NULL(gw_jwks_fetcher_get(x.f, x.uri, 0, &failed));
	CU_ASSERT_EQUAL(failed, 0);	/* not fetched yet */
	WAIT(&x, x.changed > 0);
	CU_ASSERT_EQUAL(x.changed, 1);
	CU_ASSERT_PTR_NULL(gw_jwks_fetcher_get(x.f, x.uri, 0, &failed));
	CU_ASSERT_EQUAL(failed, 1);
	CU_ASSERT_EQUAL(stats(&x, x.uri).failures, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(stats(&x, x.uri).last_err);
	CU_ASSERT_PTR_NOT_NULL(strstr(stats(&x, x.uri).last_err, "HTTP status 500"));
	fx_fini(&x);
}

/* istiod keeps the last good keys while refreshes fail, and retries sooner. */
static void
test_keep_good_copy(void)
{
	struct fx x;
	const char *doc;
	int failed = -1;

	fx_init(&x, "300", "50");
	x.ask = 1;
	(void)gw_jwks_fetcher_get(x.f, x.uri, 0, NULL);
	WAIT(&x, x.changed > 0);
	CU_ASSERT_EQUAL_FATAL(x.changed, 1);
	srv_status(&x.srv, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n");
	/* the refresh fails, then a retry fails too */
	WAIT(&x, stats(&x, x.uri).failures >= 2);
	CU_ASSERT_TRUE(stats(&x, x.uri).failures >= 2);
	doc = gw_jwks_fetcher_get(x.f, x.uri, 0, &failed);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_STRING_EQUAL(doc, JWKS_A);
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT_EQUAL(x.changed, 1);	/* nothing a user sees changed */
	/* the server comes back with the same keys: a retry succeeds, quietly */
	srv_json(&x.srv, JWKS_A, 0);
	/* two good fetches: the first and the one after the failures */
	WAIT(&x, stats(&x, x.uri).fetches > stats(&x, x.uri).failures + 1);
	CU_ASSERT_TRUE(stats(&x, x.uri).fetches > stats(&x, x.uri).failures + 1);
	CU_ASSERT_EQUAL(x.changed, 1);
	doc = gw_jwks_fetcher_get(x.f, x.uri, 0, &failed);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_STRING_EQUAL(doc, JWKS_A);
	fx_fini(&x);
}

static void
test_rotation(void)
{
	struct fx x;
	const char *doc;
	int failed = -1;

	fx_init(&x, "200", NULL);
	x.ask = 1;
	(void)gw_jwks_fetcher_get(x.f, x.uri, 0, NULL);
	WAIT(&x, x.changed > 0);
	CU_ASSERT_EQUAL_FATAL(x.changed, 1);
	srv_json(&x.srv, JWKS_B, 0);
	WAIT(&x, x.changed > 1);
	CU_ASSERT_EQUAL(x.changed, 2);
	doc = gw_jwks_fetcher_get(x.f, x.uri, 0, &failed);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_STRING_EQUAL(doc, JWKS_B);
	CU_ASSERT_EQUAL(failed, 0);
	fx_fini(&x);
}

static void
test_timeout(void)
{
	struct fx x;
	int failed = 0;

	fx_init(&x, NULL, NULL);
	srv_json(&x.srv, JWKS_A, 5000);
	CU_ASSERT_PTR_NULL(gw_jwks_fetcher_get(x.f, x.uri, 200, &failed));
	WAIT(&x, x.changed > 0);
	CU_ASSERT_PTR_NULL(gw_jwks_fetcher_get(x.f, x.uri, 200, &failed));
	CU_ASSERT_EQUAL(failed, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(stats(&x, x.uri).last_err);
	CU_ASSERT_PTR_NOT_NULL(strstr(stats(&x, x.uri).last_err, "timed out"));
	fx_fini(&x);
}

/* Over GW_JWKS_MAX_BYTES, announced by Content-Length or not. */
static void
test_too_big(void)
{
	static const char *const heads[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
	};
	size_t blen = 2 * 1024 * 1024, i;
	char *big = xmalloc(blen);
	struct fx x;

	memset(big, ' ', blen);
	fx_init(&x, NULL, NULL);
	for (i = 0; i < 2; i++) {
		char uri[160];
		int failed = 0;

		snprintf(uri, sizeof(uri), "%s/%zu", x.uri, i);
		srv_set(&x.srv, heads[i], big, blen, 0);
		x.changed = 0;
		(void)gw_jwks_fetcher_get(x.f, uri, 0, NULL);
		WAIT(&x, x.changed > 0);
		CU_ASSERT_PTR_NULL(gw_jwks_fetcher_get(x.f, uri, 0, &failed));
		CU_ASSERT_EQUAL(failed, 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(stats(&x, uri).last_err);
		CU_ASSERT_PTR_NOT_NULL(strstr(stats(&x, uri).last_err, "larger than 1048576"));
	}
	/* exactly the cap is fine */
	{
		char uri[160];
		const char *doc;
		int failed = 1;

		big[0] = '{';
		big[GW_JWKS_MAX_BYTES - 1] = '}';
		snprintf(uri, sizeof(uri), "%s/cap", x.uri);
		srv_set(&x.srv, "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n"
		    "Connection: close\r\n\r\n", big, GW_JWKS_MAX_BYTES, 0);
		x.changed = 0;
		(void)gw_jwks_fetcher_get(x.f, uri, 0, NULL);
		WAIT(&x, x.changed > 0);
		doc = gw_jwks_fetcher_get(x.f, uri, 0, &failed);
		CU_ASSERT_PTR_NOT_NULL(doc);
		CU_ASSERT_EQUAL(failed, 0);
		if (doc)
			CU_ASSERT_EQUAL(strlen(doc), GW_JWKS_MAX_BYTES);
	}
	fx_fini(&x);
	free(big);
}

/* Redirects are not followed, and only http and https are spoken. */
static void
test_refused(void)
{
	char uri[160];
	struct fx x;
	int failed = 0;

	fx_init(&x, NULL, NULL);
	srv_status(&x.srv, "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n");
	(void)gw_jwks_fetcher_get(x.f, x.uri, 0, NULL);
	WAIT(&x, x.changed > 0);
	CU_ASSERT_PTR_NULL(gw_jwks_fetcher_get(x.f, x.uri, 0, &failed));
	CU_ASSERT_EQUAL(failed, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(stats(&x, x.uri).last_err);
	CU_ASSERT_PTR_NOT_NULL(strstr(stats(&x, x.uri).last_err, "HTTP status 302"));
	CU_ASSERT_EQUAL(atomic_load(&x.srv.accepted), 1);

	snprintf(uri, sizeof(uri), "ftp://127.0.0.1:%u/jwks", x.srv.port);
	x.changed = 0;
	(void)gw_jwks_fetcher_get(x.f, uri, 0, NULL);
	WAIT(&x, x.changed > 0);
	CU_ASSERT_PTR_NULL(gw_jwks_fetcher_get(x.f, uri, 0, &failed));
	CU_ASSERT_EQUAL(failed, 1);
	CU_ASSERT_EQUAL(atomic_load(&x.srv.accepted), 1);	/* never connected */
	fx_fini(&x);
}

/* Not asked for during a whole refresh period: forgotten at its next refresh. */
static void
test_forget(void)
{
	struct fx x;

	fx_init(&x, "100", NULL);
	(void)gw_jwks_fetcher_get(x.f, x.uri, 0, NULL);
	WAIT(&x, x.changed > 0);
	CU_ASSERT_EQUAL(x.changed, 1);
	WAIT(&x, gw_jwks_fetcher_stats(x.f, x.uri, &(struct gw_jwks_stats){ 0 }) == -1);
	CU_ASSERT_EQUAL(gw_jwks_fetcher_stats(x.f, x.uri, &(struct gw_jwks_stats){ 0 }), -1);
	/* asking again starts over */
	CU_ASSERT_PTR_NULL(gw_jwks_fetcher_get(x.f, x.uri, 0, NULL));
	WAIT(&x, x.changed > 1);
	CU_ASSERT_EQUAL(x.changed, 2);
	fx_fini(&x);
}

/* The thread outlives the fetcher: it must drop its result, not write into freed memory. */
static void
test_free_while_fetching(void)
{
	struct fx x;

	fx_init(&x, NULL, NULL);
	srv_json(&x.srv, JWKS_A, 500);
	(void)gw_jwks_fetcher_get(x.f, x.uri, 0, NULL);
	WAIT(&x, atomic_load(&x.srv.accepted) > 0);
	CU_ASSERT_EQUAL(gw_jwks_fetch_threads(), 1);
	gw_jwks_fetcher_free(x.f);
	x.f = NULL;
	CU_ASSERT_TRUE(threads_gone());
	CU_ASSERT_EQUAL(x.changed, 0);
	fx_fini(&x);
}

/* A result waiting in the mailbox, never read by the loop, is freed with the fetcher. */
static void
test_free_with_result_pending(void)
{
	struct fx x;

	fx_init(&x, NULL, NULL);
	(void)gw_jwks_fetcher_get(x.f, x.uri, 0, NULL);
	CU_ASSERT_TRUE(threads_gone());	/* the loop has not run: the result waits */
	gw_jwks_fetcher_free(x.f);
	x.f = NULL;
	CU_ASSERT_EQUAL(x.changed, 0);
	fx_fini(&x);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "first fetch, then the document", test_first_fetch },
		{ "500: failed, no document", test_500 },
		{ "failing refreshes keep the good copy", test_keep_good_copy },
		{ "rotation", test_rotation },
		{ "timeout", test_timeout },
		{ "size cap", test_too_big },
		{ "redirects and other protocols refused", test_refused },
		{ "unused URIs forgotten", test_forget },
		{ "free while a fetch runs", test_free_while_fetching },
		{ "free with a result pending", test_free_with_result_pending },
		{ NULL, NULL }
	};
	static const char *const proxies[] = { "http_proxy", "HTTP_PROXY", "https_proxy",
	    "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };
	size_t i;

	signal(SIGPIPE, SIG_IGN);	/* as vipgated does */
	/* the server is on loopback: no proxy in between */
	for (i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
		unsetenv(proxies[i]);
	return cu_run("gw_jwks_fetch", tests);
}
