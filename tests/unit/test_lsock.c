/*
 * lsock: the listening sockets a binary upgrade hands over (lsock.h): the
 * description codec and the matching, then the whole exchange over a unix
 * socket against an in-test server playing the running vipgated.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "cu.h"
#include "vipgate/ctl.h"
#include "vipgate/lsock.h"

static void
t_desc_set(void)
{
	struct lsock_desc d;

	CU_ASSERT_EQUAL(lsock_desc_set(&d, "gateway", "0::0", 80), 0);
	CU_ASSERT_EQUAL(d.family, AF_INET6);
	CU_ASSERT_STRING_EQUAL(d.addr, "::");
	CU_ASSERT_EQUAL(d.port, 80);
	CU_ASSERT_EQUAL(lsock_desc_set(&d, "admin", "0.0.0.0", 15021), 0);
	CU_ASSERT_EQUAL(d.family, AF_INET);
	CU_ASSERT_STRING_EQUAL(d.addr, "0.0.0.0");
	CU_ASSERT_EQUAL(lsock_desc_set(&d, "gateway", "2001:DB8::1", 443), 0);
	CU_ASSERT_STRING_EQUAL(d.addr, "2001:db8::1");
	CU_ASSERT_EQUAL(lsock_desc_set(&d, "gateway", "localhost", 80), -1);
	CU_ASSERT_EQUAL(lsock_desc_set(&d, "gateway", "10.0.0.1:80", 80), -1);
	CU_ASSERT_EQUAL(lsock_desc_set(&d, "", "10.0.0.1", 80), -1);
	CU_ASSERT_EQUAL(lsock_desc_set(&d, "a-kind-name-too-long", "10.0.0.1", 80), -1);
	CU_ASSERT_EQUAL(lsock_desc_set(&d, "gateway", NULL, 80), -1);
}

static json_t *
result_of(const struct lsock_desc *d, size_t n, json_int_t fds)
{
	return json_pack("{s:I,s:s,s:I,s:o}", "pid", (json_int_t)1, "node", "n",
	    "fds", fds, "listeners", lsock_desc_encode(d, n));
}

static void
t_roundtrip(void)
{
	struct lsock_desc d[3], *out;
	json_t *res;
	size_t n, i;
	char *err;

	lsock_desc_set(&d[0], "gateway", "0.0.0.0", 80);
	lsock_desc_set(&d[1], "gateway", "::", 443);
	lsock_desc_set(&d[2], "admin", "0.0.0.0", 15021);
	res = result_of(d, 3, 3);
	CU_ASSERT_EQUAL_FATAL(lsock_desc_decode(res, 3, &out, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 3);
	for (i = 0; i < 3 && i < n; i++)
		CU_ASSERT_EQUAL(memcmp(&out[i], &d[i], sizeof(d[i])), 0);
	free(out);
	/* what arrived must be what was described */
	CU_ASSERT_EQUAL(lsock_desc_decode(res, 2, &out, &n, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "sent 2"));
	free(err);
	json_decref(res);
	res = result_of(d, 3, 4);
	CU_ASSERT_EQUAL(lsock_desc_decode(res, 3, &out, &n, &err), -1);
	free(err);
	json_decref(res);
	/* none at all is fine: a node without a gateway */
	res = result_of(d, 0, 0);
	CU_ASSERT_EQUAL(lsock_desc_decode(res, 0, &out, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 0);
	free(out);
	json_decref(res);
}

/* One bad "listeners" entry: decode fails with a message naming the entry. */
static void
bad_entry(const char *entry, const char *msg)
{
	char *doc, *err = NULL;
	struct lsock_desc *out;
	json_t *res;
	size_t n;

	xasprintf(&doc, "{\"fds\":1,\"listeners\":[%s]}", entry);
	res = json_loads(doc, JSON_ALLOW_NUL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT_EQUAL(lsock_desc_decode(res, 1, &out, &n, &err), -1);
	if (err == NULL || strstr(err, msg) == NULL)
		fprintf(stderr, "\n  %s: \"%s\" lacks \"%s\"\n", entry, err ? err : "", msg);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, msg));
	free(err);
	json_decref(res);
	free(doc);
}

static void
t_bad(void)
{
	struct lsock_desc *out;
	json_t *res;
	size_t n;
	char *err;

	bad_entry("1", "not an object");
	bad_entry("{\"kind\":\"gateway\",\"family\":\"ipv4\",\"address\":\"0.0.0.0\"}", "port");
	bad_entry("{\"kind\":\"gateway\",\"family\":\"ipv4\",\"address\":\"0.0.0.0\",\"port\":0}",
	    "out of range");
	bad_entry("{\"kind\":\"gateway\",\"family\":\"ipv4\",\"address\":\"0.0.0.0\",\"port\":65536}",
	    "out of range");
	bad_entry("{\"kind\":\"gateway\",\"family\":\"ipx\",\"address\":\"0.0.0.0\",\"port\":80}",
	    "ipv4 or ipv6");
	bad_entry("{\"kind\":\"gateway\",\"family\":\"ipv6\",\"address\":\"0.0.0.0\",\"port\":80}",
	    "is not ipv6");
	bad_entry("{\"kind\":\"gateway\",\"family\":\"ipv4\",\"address\":\"0.0.0.0\\u0000x\",\"port\":80}",
	    "bad kind or address");
	bad_entry("{\"kind\":\"\",\"family\":\"ipv4\",\"address\":\"0.0.0.0\",\"port\":80}",
	    "bad kind or address");
	bad_entry("{\"kind\":7,\"family\":\"ipv4\",\"address\":\"0.0.0.0\",\"port\":80}", "needs");
	res = json_loads("{\"listeners\":[]}", 0, NULL);
	CU_ASSERT_EQUAL(lsock_desc_decode(res, 0, &out, &n, &err), -1);
	free(err);
	json_decref(res);
	res = json_loads("[]", 0, NULL);
	CU_ASSERT_EQUAL(lsock_desc_decode(res, 0, &out, &n, &err), -1);
	free(err);
	json_decref(res);
}

static void
t_match(void)
{
	struct lsock_desc have[4], want;
	uint8_t taken[4] = { 0 };
	ssize_t i;

	lsock_desc_set(&have[0], "gateway", "0.0.0.0", 80);
	lsock_desc_set(&have[1], "admin", "0.0.0.0", 80);
	lsock_desc_set(&have[2], "gateway", "0.0.0.0", 80);
	lsock_desc_set(&have[3], "gateway", "::", 80);
	/* one socket a worker: the same listener twice takes both, in order */
	lsock_desc_set(&want, "gateway", "0.0.0.0", 80);
	i = lsock_match(have, 4, taken, &want);
	CU_ASSERT_EQUAL(i, 0);
	taken[i] = 1;
	i = lsock_match(have, 4, taken, &want);
	CU_ASSERT_EQUAL(i, 2);
	taken[i] = 1;
	CU_ASSERT_EQUAL(lsock_match(have, 4, taken, &want), -1);
	lsock_desc_set(&want, "gateway", "0::", 80);
	CU_ASSERT_EQUAL(lsock_match(have, 4, taken, &want), 3);
	lsock_desc_set(&want, "gateway", "0.0.0.0", 8080);
	CU_ASSERT_EQUAL(lsock_match(have, 4, taken, &want), -1);
	lsock_desc_set(&want, "admin", "0.0.0.0", 80);
	CU_ASSERT_EQUAL(lsock_match(have, 4, taken, &want), 1);
}

/* ---- the exchange ---- */

static int
tcp_listener(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1 || getsockname(fd, (struct sockaddr *)&sin, &sl) == -1)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

static uint16_t
port_of(int fd)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &sl) == -1)
		return 0;
	return ntohs(sin.sin_port);
}

struct srv {
	int	ls;
	int	go_seen;
};

static ssize_t
read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, 1);

		if (r <= 0)
			return -1;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

/* The running vipgated's part, as upgrade.c plays it. */
static void *
srv_main(void *arg)
{
	struct srv *s = arg;
	struct lsock_desc *d;
	size_t n, i;
	int c, *fds;
	char buf[512], *line;

	if ((c = accept(s->ls, NULL, NULL)) == -1)
		return NULL;
	if (read_line(c, buf, sizeof(buf)) > 0 && strstr(buf, "\"upgrade\"")) {
		lsock_export(&d, &fds, &n);
		line = ctl_response_ok(json_pack("{s:I,s:s,s:I,s:o}", "pid", (json_int_t)7,
		    "node", "n", "fds", (json_int_t)n, "listeners", lsock_desc_encode(d, n)));
		(void)lsock_send(c, line, fds, n);
		free(line);
		for (i = 0; i < n; i++)
			close(fds[i]);
		free(fds);
		free(d);
		if (read_line(c, buf, sizeof(buf)) > 0 && strstr(buf, "upgrade-go")) {
			s->go_seen = 1;
			line = ctl_response_ok(json_pack("{s:I}", "connections", (json_int_t)0));
			(void)lsock_send(c, line, NULL, 0);
			free(line);
		}
	}
	close(c);
	return NULL;
}

static void
t_exchange(void)
{
	char dir[] = "/tmp/vg-lsock.XXXXXX", path[128];
	struct sockaddr_un sun;
	struct srv s = { -1, 0 };
	uint16_t p1, p2, p3;
	int l1, l2, l3, fd, fd2;
	pthread_t th;
	char *err = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	s.ls = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(bind(s.ls, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    listen(s.ls, 2) == 0);
	l1 = tcp_listener(&p1);
	l2 = tcp_listener(&p2);
	l3 = tcp_listener(&p3);
	CU_ASSERT_FATAL(l1 >= 0 && l2 >= 0 && l3 >= 0);
	lsock_register("gateway", "127.0.0.1", p1, l1);
	lsock_register("admin", "127.0.0.1", p2, l2);
	lsock_register("gateway", "127.0.0.1", p3, l3);
	/* closed without a word: not handed over (its number may be reused) */
	close(l3);
	/* registered, then forgotten: not handed over either */
	fd = tcp_listener(&p3);
	lsock_register("gateway", "127.0.0.1", p3, fd);
	lsock_forget(fd);
	close(fd);
	pthread_create(&th, NULL, srv_main, &s);
	CU_ASSERT_EQUAL(lsock_fetch(path, &err), 0);
	if (err)
		fprintf(stderr, "\n  fetch: %s\n", err);
	free(err);
	CU_ASSERT(lsock_fetching());
	/* the same sockets: their ports; once each */
	fd = lsock_take("gateway", "127.0.0.1", p1);
	CU_ASSERT(fd >= 0 && fd != l1);
	CU_ASSERT_EQUAL(port_of(fd), p1);
	CU_ASSERT_EQUAL(lsock_take("gateway", "127.0.0.1", p1), -1);
	CU_ASSERT_EQUAL(lsock_take("gateway", "127.0.0.1", p2), -1);	/* kind differs */
	CU_ASSERT_EQUAL(lsock_take("gateway", "127.0.0.1", p3), -1);
	/* a connection to the old socket waits in the queue the new one accepts from */
	{
		struct sockaddr_in sin;
		int c = socket(AF_INET, SOCK_STREAM, 0);

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = htons(p1);
		CU_ASSERT_EQUAL(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
		close(l1);	/* the old process lets go */
		fd2 = accept(fd, NULL, NULL);
		CU_ASSERT(fd2 >= 0);
		close(fd2);
		close(c);
	}
	CU_ASSERT_EQUAL(lsock_go(&err), 0);
	free(err);
	CU_ASSERT(!lsock_fetching());
	pthread_join(th, NULL);
	CU_ASSERT(s.go_seen);
	/* go closed what nobody took: the admin socket's copy */
	CU_ASSERT_EQUAL(lsock_take("admin", "127.0.0.1", p2), -1);
	/* no predecessor: a clear error */
	CU_ASSERT_EQUAL(lsock_fetch("/nonexistent/vg.sock", &err), -1);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "is vipgated running"));
	free(err);
	close(fd);
	close(l2);
	close(s.ls);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "desc_set: canonical addresses, bad ones refused", t_desc_set },
		{ "encode, decode: round trip, counts checked", t_roundtrip },
		{ "decode: every bad entry refused with its reason", t_bad },
		{ "match: kind, address, port; each socket once", t_match },
		{ "exchange: fetch, take, go over a unix socket", t_exchange },
		{ NULL, NULL },
	};

	return cu_run("lsock", tests);
}
