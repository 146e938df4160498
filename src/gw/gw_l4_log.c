/*
 * What a TCP or TLS passthrough connection leaves behind: its access log
 * line (Envoy's default text format as tcp_proxy fills it: "- - -" for the
 * request, response code 0, the response flags, bytes both ways, the
 * upstream host; or the same fields as JSON with the SNI as
 * requested_server_name), and Istio's TCP series
 * (istio_tcp_connections_opened_total, ..._closed_total,
 * istio_tcp_sent_bytes_total, istio_tcp_received_bytes_total) with the
 * labels istio_requests_total has, request_protocol "tcp". Bytes are
 * added when the connection ends (Istio's proxy also reports every 15 s
 * while it lasts).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gw-ctx-t.h"
#include "gw-l4log.h"
#include "gw-stats-t.h"
#include "gw-worker-t.h"
#include "vipgate/util.h"

#define TSTAT_BUCKETS	64
#define TSTAT_CACHE	64	/* recent (snapshot, cluster, endpoint, flags): their series */

/* One label set of the TCP series, per worker. */
struct gw_tstat {
	char		*key;
	uint64_t	 opened, closed, sent, received;
	struct gw_tstat	*next;
};

struct gw_tcpstats {
	struct gw_tstat	*tab[TSTAT_BUCKETS];
	/* label texts cost more than the rest of a short connection's
	 * accounting: the worker remembers the series of recent tuples */
	struct {
		uint64_t		 gen;
		const void		*cl, *ep;
		const char		*flags;
		struct gw_tstat		*e;
	}		 cache[TSTAT_CACHE];
};

static void
lbl(struct vg_buf *b, const char *k, const char *v)
{
	buf_printf(b, "%s%s=\"", b->len ? "," : "", k);
	for (; v && *v; v++) {
		if (*v == '"' || *v == '\\')
			buf_append(b, "\\", 1);
		if (*v == '\n')
			buf_puts(b, "\\n");
		else
			buf_append(b, v, 1);
	}
	if (v == NULL)
		buf_puts(b, "unknown");
	buf_append(b, "\"", 1);
}

static void
labels(struct vg_buf *k, const struct gw_l4c *c, const char *flags)
{
	const struct gw_cluster *cl = c->cl;
	const struct gw_endpoint *e = c->ep;

	lbl(k, "reporter", "source");
	lbl(k, "source_workload", "istio-ingressgateway");
	lbl(k, "source_workload_namespace", c->w->ctx->gw_ns);
	lbl(k, "source_app", "istio-ingressgateway");
	lbl(k, "source_principal", NULL);
	lbl(k, "destination_service", cl ? cl->host : NULL);
	lbl(k, "destination_service_name", cl && cl->svc_name ? cl->svc_name : (cl ? cl->host : NULL));
	lbl(k, "destination_service_namespace", cl ? cl->svc_ns : NULL);
	lbl(k, "destination_workload", e ? e->app : NULL);
	lbl(k, "destination_workload_namespace", e ? e->workload_ns : NULL);
	lbl(k, "destination_app", e ? e->app : NULL);
	lbl(k, "destination_version", e ? e->version : NULL);
	lbl(k, "destination_principal", NULL);
	lbl(k, "destination_cluster", NULL);
	lbl(k, "request_protocol", "tcp");
	lbl(k, "response_flags", flags);
	lbl(k, "connection_security_policy", "unknown");
}

/* The worker's series of that label set, made on first use; under s->mu. */
static struct gw_tstat *
tstat_get(struct gw_stats *s, const char *key)
{
	uint64_t h = hash_str(HASH_INIT, key) % TSTAT_BUCKETS;
	struct gw_tstat *e;

	if (s->tcp == NULL)
		s->tcp = xcalloc(1, sizeof(*s->tcp));
	for (e = s->tcp->tab[h]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->next = s->tcp->tab[h];
	s->tcp->tab[h] = e;
	return e;
}

/*
 * The series of c with these flags; under s->mu. The snapshot's
 * generation tells a cluster or endpoint from one a later snapshot made
 * at the same address.
 */
static struct gw_tstat *
tstat_for(struct gw_stats *s, const struct gw_l4c *c, const char *flags)
{
	uint64_t gen = c->snap->gen;
	size_t i = (size_t)(hash_bytes(hash_bytes(HASH_INIT, &c->cl, sizeof(c->cl)), &c->ep,
	    sizeof(c->ep)) ^ (uintptr_t)flags) % TSTAT_CACHE;
	struct vg_buf k = { 0 };
	struct gw_tstat *e;

	if (s->tcp && s->tcp->cache[i].e && s->tcp->cache[i].gen == gen &&
	    s->tcp->cache[i].cl == c->cl && s->tcp->cache[i].ep == c->ep &&
	    s->tcp->cache[i].flags == flags)
		return s->tcp->cache[i].e;
	labels(&k, c, flags);
	e = tstat_get(s, k.s);
	buf_free(&k);
	s->tcp->cache[i].gen = gen;
	s->tcp->cache[i].cl = c->cl;
	s->tcp->cache[i].ep = c->ep;
	s->tcp->cache[i].flags = flags;
	s->tcp->cache[i].e = e;
	return e;
}

void
gw_l4_stats_open(struct gw_l4c *c)
{
	struct gw_stats *s = &c->w->stats;

	pthread_mutex_lock(&s->mu);
	tstat_for(s, c, "-")->opened++;
	pthread_mutex_unlock(&s->mu);
	c->f |= L4_OPENED;
}

void
gw_l4_stats_close(struct gw_l4c *c)
{
	struct gw_stats *s = &c->w->stats;
	struct gw_tstat *e;

	if (!(c->f & L4_OPENED))
		gw_l4_stats_open(c);	/* ended before it was routed */
	pthread_mutex_lock(&s->mu);
	e = tstat_for(s, c, c->rflags ? c->rflags : "-");
	e->closed++;
	e->sent += c->tx;
	e->received += c->rx;
	pthread_mutex_unlock(&s->mu);
}

void
gw_l4_stats_free(struct gw_stats *s)
{
	size_t i;

	if (s->tcp == NULL)
		return;
	for (i = 0; i < TSTAT_BUCKETS; i++)
		while (s->tcp->tab[i]) {
			struct gw_tstat *n = s->tcp->tab[i]->next;

			free(s->tcp->tab[i]->key);
			free(s->tcp->tab[i]);
			s->tcp->tab[i] = n;
		}
	free(s->tcp);
	s->tcp = NULL;
}

void
gw_l4_stats_render(struct gw_ctx *ctx, struct vg_buf *out, int which)
{
	static const char *const names[4] = {
		"istio_tcp_connections_opened_total", "istio_tcp_connections_closed_total",
		"istio_tcp_sent_bytes_total", "istio_tcp_received_bytes_total",
	};
	struct gw_stats all;
	struct gw_tstat *e, *m;
	size_t i, b, k;

	memset(&all, 0, sizeof(all));
	for (i = 0; i < ctx->nw; i++) {
		struct gw_stats *s = &ctx->w[i].stats;

		pthread_mutex_lock(&s->mu);
		for (b = 0; s->tcp && b < TSTAT_BUCKETS; b++)
			for (e = s->tcp->tab[b]; e; e = e->next) {
				m = tstat_get(&all, e->key);
				m->opened += e->opened;
				m->closed += e->closed;
				m->sent += e->sent;
				m->received += e->received;
			}
		pthread_mutex_unlock(&s->mu);
	}
	for (k = (size_t)which; k == (size_t)which; k++) {
		/* opened and closed: their TYPE lines come with gw_stats.c's series */
		if (k >= 2)
			buf_printf(out, "# TYPE %s counter\n", names[k]);
		for (b = 0; all.tcp && b < TSTAT_BUCKETS; b++)
			for (e = all.tcp->tab[b]; e; e = e->next) {
				uint64_t v = k == 0 ? e->opened : k == 1 ? e->closed :
				    k == 2 ? e->sent : e->received;

				if (k == 0 && e->opened == 0)
					continue;	/* a close-only label set (flags) */
				buf_printf(out, "%s{%s} %llu\n", names[k], e->key, (unsigned long long)v);
			}
	}
	gw_l4_stats_free(&all);
}

void
gw_l4_log(struct gw_l4c *c)
{
	struct gw_ctx *ctx = c->w->ctx;
	struct vg_buf b = { 0 };
	struct timespec ts;
	struct tm tm;
	char when[40], up[64], dur[24];
	const char *flags = c->rflags ? c->rflags : "-";
	time_t start;

	if (ctx->alog_fd < 0)
		return;
	/* Envoy's START_TIME: when the connection was accepted */
	clock_gettime(CLOCK_REALTIME, &ts);
	start = ts.tv_sec - (time_t)((now_us() - c->t0_us) / 1000000);
	gmtime_r(&start, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ldZ", ts.tv_nsec / 1000000);
	snprintf(up, sizeof(up), c->ep ? (strchr(c->ep->ip, ':') ? "[%s]:%u" : "%s:%u") : "-",
	    c->ep ? c->ep->ip : "", c->ep ? c->ep->port : 0);
	snprintf(dur, sizeof(dur), "%lld", (long long)((now_us() - c->t0_us) / 1000));
	if (ctx->alog_json) {
		char in[24], out[24];

		snprintf(in, sizeof(in), "%llu", (unsigned long long)c->rx);
		snprintf(out, sizeof(out), "%llu", (unsigned long long)c->tx);
		buf_puts(&b, "{");
#define J(k, v) do { buf_printf(&b, "%s\"%s\":", b.len > 1 ? "," : "", k); \
	buf_json_str(&b, v, strlen(v), 1); } while (0)
		J("start_time", when);
		J("method", "-");
		J("path", "-");
		J("protocol", "-");
		J("response_code", "0");
		J("response_flags", flags);
		J("bytes_received", in);
		J("bytes_sent", out);
		J("duration", dur);
		J("downstream_remote_address", c->peer);
		J("requested_server_name", c->has_sni ? c->sni : "-");
		J("upstream_host", up);
		J("upstream_cluster", c->cl ? c->cl->name : "-");
#undef J
		buf_puts(&b, "}\n");
	} else
		buf_printf(&b, "[%s] \"- - -\" 0 %s %llu %llu %s - \"-\" \"-\" \"-\" \"-\" \"%s\"\n",
		    when, flags, (unsigned long long)c->rx, (unsigned long long)c->tx, dur, up);
	/* O_APPEND: one write a line keeps the workers' lines whole */
	(void)!write(ctx->alog_fd, b.s, b.len);
	buf_free(&b);
}
