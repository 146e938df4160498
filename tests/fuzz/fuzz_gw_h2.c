/*
 * libFuzzer: bytes from a client -> the gateway's HTTP/2 session
 * (gw_front_h2.c: libnghttp2 with our callbacks, heads checked and handed
 * to streams, bodies and flow control, resets, GOAWAY) on a gateway made
 * from manifests whose routes the gateway answers itself (direct
 * responses, redirects, fault aborts, CORS, a cluster without endpoints),
 * so no upstream connection is ever opened. The input follows the client
 * preface and is fed in two reads; the session is then freed.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "../../src/gw/gw-ctx-t.h"
#include "../../src/gw/gw-front-h2.h"
#include "../../src/gw/gw-io.h"
#include "../../src/gw/gw-resil.h"
#include "../../src/gw/gw-snap-t.h"
#include "../../src/gw/gw-stats.h"
#include "../../src/gw/gw-stream-life.h"
#include "../../src/gw/gw-stream-t.h"
#include "../../src/gw/gw-worker-t.h"
#include "vipgate/config.h"
#include "vipgate/gw-route.h"
#include "vipgate/log.h"
#include "vipgate/objects.h"
#include "vipgate/reconcile.h"
#include "vipgate/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char objs[] =
    "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
    "metadata: {name: gw, namespace: default}\n"
    "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
    "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['*']\n"
    "---\napiVersion: v1\nkind: Service\nmetadata: {name: empty, namespace: default}\n"
    "spec: {ports: [{port: 80}]}\n"
    "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
    "metadata: {name: vs, namespace: default}\n"
    "spec:\n  hosts: ['*']\n  gateways: [gw]\n  http:\n"
    "  - match: [{uri: {prefix: /r}}]\n    redirect: {uri: /n, authority: b.test}\n"
    "  - match: [{uri: {prefix: /f}}]\n"
    "    fault: {abort: {httpStatus: 503, percentage: {value: 100}}}\n"
    "    route: [{destination: {host: empty}}]\n"
    "  - match: [{uri: {prefix: /g}}]\n"
    "    fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}\n"
    "    route: [{destination: {host: empty}}]\n"
    "  - match: [{uri: {prefix: /e}}]\n    route: [{destination: {host: empty}}]\n"
    "  - match: [{uri: {prefix: /c}}]\n"
    "    corsPolicy: {allowOrigins: [{exact: 'https://a.test'}], allowMethods: [GET]}\n"
    "    directResponse: {status: 200, body: {string: cors}}\n"
    "  - directResponse: {status: 200, body: {string: hello}}\n"
    "    headers: {response: {add: {x-a: b}}}\n";

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static struct gw_ctx ctx;
static struct gw_worker w;
static int over;

static const struct gw_peer_id *
no_peer(struct gw_front *f)
{
	(void)f;
	return NULL;
}

static int
no_addr(struct gw_front *f, struct ipaddr *a)
{
	(void)f;
	memset(a, 0, sizeof(*a));
	return -1;
}

static const struct gw_front_ops conn_ops = { .peer_id = no_peer, .local_addr = no_addr };
static struct gw_front conn = { &conn_ops };

static void
on_over(void *arg)
{
	(void)arg;
	over = 1;
}

static void
setup(void)
{
	static const char cfgy[] = "node: {name: n}\n";
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	struct config *cfg;
	struct store *st;
	struct live_view live = { 0 };
	struct gw_snap *s;
	struct desired *d;
	char *err = NULL;
	size_t i;

	log_init(1, LOG_LVL_ERROR, LOG_FMT_TEXT);
	cfg = config_parse(cfgy, sizeof(cfgy) - 1, "c", &errs);
	st = store_new();
	manifest_decode_buf(objs, sizeof(objs) - 1, "f", &errs, &out);
	for (i = 0; i < out.n; i++)
		if (out.v[i].obj)
			store_put(st, object_ref(out.v[i].obj));
	decoded_list_free(&out);
	errs_clear(&errs);
	d = reconcile(st, cfg, &live);
	if (d->gw == NULL || d->gw->nlisteners != 1)
		abort();
	ctx.nw = 1;
	ctx.w = &w;
	ctx.alog_fd = -1;
	ctx.gw_ns = "istio-system";
	pthread_mutex_init(&ctx.mu, NULL);
	s = calloc(1, sizeof(*s));
	s->refcnt = 1;
	s->gen = 1;
	s->d = d;
	s->g = d->gw;
	if ((s->rx = gw_rx_new(s->g, &err)) == NULL)
		abort();
	s->nworkers = 1;
	s->max_header_bytes = 60 * 1024;
	s->header_timeout_ms = 10000;
	s->idle_timeout_ms = 10000;
	s->lb = calloc(1, sizeof(*s->lb));
	s->ssl = calloc(1, sizeof(*s->ssl));
	s->tlsl = calloc(1, sizeof(*s->tlsl));
	gw_rs_snap_init(&ctx, s);
	ctx.snap = s;
	w.ctx = &ctx;
	w.base = event_base_new();
	w.snap = s;
	w.rng = 1;
	TAILQ_INIT(&w.idle);
	TAILQ_INIT(&w.conns);
	TAILQ_INIT(&w.shadows);
	gw_stats_init(&w.stats);
	store_free(st);
	config_free(cfg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	struct gw_h2_env env;
	struct gw_h2 *h2;
	struct gw_io *io;
	int fds[2], k;
	size_t half = size / 2;

	if (!once) {
		setup();
		once = 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == -1)
		return 0;
	io = gw_io_new(w.base, fds[0], NULL, GW_IO_PLAIN);
	memset(&env, 0, sizeof(env));
	env.w = &w;
	env.io = io;
	env.conn = &conn;
	env.port = 80;
	env.peer = "10.0.0.9";
	env.over = on_over;
	over = 0;
	if ((h2 = gw_h2_new(&env)) == NULL)
		abort();
	evbuffer_add(gw_io_input(io), preface, sizeof(preface) - 1);
	evbuffer_add(gw_io_input(io), data, half);
	(void)gw_h2_input(h2);
	evbuffer_drain(gw_io_output(io), evbuffer_get_length(gw_io_output(io)));
	if (!over) {
		evbuffer_add(gw_io_input(io), data + half, size - half);
		(void)gw_h2_input(h2);
		gw_h2_writable(h2);
	}
	for (k = 0; k < 2; k++)
		event_base_loop(w.base, EVLOOP_NONBLOCK);
	gw_h2_free(h2);
	gw_io_free(io);
	close(fds[1]);
	return 0;
}
