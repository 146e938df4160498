/*
 * Istio's standard request metrics, per worker (a mutex each, uncontended
 * but for scrapes), summed when scraped; Prometheus text exposition.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gw-ctx-t.h"
#include "gw-l4log.h"
#include "gw-snap-t.h"
#include "gw-stats.h"
#include "gw-worker-t.h"
#include "vipgate/accept.h"

/* Envoy's default histogram buckets, in ms (source/common/stats/histogram_impl.cc) */
const double gw_buckets_ms[19] = {
	0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
	300000, 600000, 1800000, 3600000
};

void
gw_stats_init(struct gw_stats *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
}

void
gw_stats_free(struct gw_stats *s)
{
	size_t i;

	for (i = 0; i < GW_STAT_BUCKETS; i++)
		while (s->tab[i]) {
			struct gw_stat *n = s->tab[i]->next;

			free(s->tab[i]->key);
			free(s->tab[i]);
			s->tab[i] = n;
		}
	for (i = 0; i < GW_CSTAT_BUCKETS; i++)
		while (s->ctab[i]) {
			struct gw_cstat *n = s->ctab[i]->next;

			free(s->ctab[i]->cluster);
			free(s->ctab[i]);
			s->ctab[i] = n;
		}
	gw_l4_stats_free(s);
	pthread_mutex_destroy(&s->mu);
}

static struct gw_cstat *
cstat_get(struct gw_stats *s, const char *cluster)
{
	uint64_t h = hash_str(HASH_INIT, cluster) % GW_CSTAT_BUCKETS;
	struct gw_cstat *e;

	for (e = s->ctab[h]; e; e = e->next)
		if (strcmp(e->cluster, cluster) == 0)
			return e;
	e = xcalloc(1, sizeof(*e));
	e->cluster = xstrdup(cluster);
	e->next = s->ctab[h];
	s->ctab[h] = e;
	return e;
}

void
gw_stats_cluster(struct gw_stats *s, const char *cluster, enum gw_cstat_kind k)
{
	pthread_mutex_lock(&s->mu);
	cstat_get(s, cluster)->n[k]++;
	pthread_mutex_unlock(&s->mu);
}

static void
bucket_add(uint64_t *b, double v)
{
	size_t i;

	for (i = 0; i < 19; i++)
		if (v <= gw_buckets_ms[i])
			break;
	b[i]++;		/* b[19]: above the last bound (only +Inf has it) */
}

static struct gw_stat *
stat_get(struct gw_stats *s, const char *key)
{
	uint64_t h = hash_str(HASH_INIT, key);
	struct gw_stat *e;

	for (e = s->tab[h % GW_STAT_BUCKETS]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->next = s->tab[h % GW_STAT_BUCKETS];
	s->tab[h % GW_STAT_BUCKETS] = e;
	return e;
}

struct gw_stat *
gw_stats_series(struct gw_stats *s, const char *key)
{
	return stat_get(s, key);
}

void
gw_stats_add(struct gw_stat *e, double ms, uint64_t req_bytes, uint64_t resp_bytes)
{
	e->requests++;
	bucket_add(e->dur, ms);
	e->dur_sum += ms;
	bucket_add(e->req_bytes, (double)req_bytes);
	e->req_bytes_sum += (double)req_bytes;
	bucket_add(e->resp_bytes, (double)resp_bytes);
	e->resp_bytes_sum += (double)resp_bytes;
}

void
gw_stats_record(struct gw_stats *s, const char *key, double ms, uint64_t req_bytes,
    uint64_t resp_bytes)
{
	struct gw_stat *e;

	pthread_mutex_lock(&s->mu);
	e = stat_get(s, key);
	e->requests++;
	bucket_add(e->dur, ms);
	e->dur_sum += ms;
	bucket_add(e->req_bytes, (double)req_bytes);
	e->req_bytes_sum += (double)req_bytes;
	bucket_add(e->resp_bytes, (double)resp_bytes);
	e->resp_bytes_sum += (double)resp_bytes;
	pthread_mutex_unlock(&s->mu);
}

static void
merge(struct gw_stats *into, struct gw_stats *from)
{
	size_t i, k;
	struct gw_stat *e, *m;

	pthread_mutex_lock(&from->mu);
	for (i = 0; i < GW_STAT_BUCKETS; i++)
		for (e = from->tab[i]; e; e = e->next) {
			m = stat_get(into, e->key);
			m->requests += e->requests;
			m->dur_sum += e->dur_sum;
			m->req_bytes_sum += e->req_bytes_sum;
			m->resp_bytes_sum += e->resp_bytes_sum;
			for (k = 0; k < 20; k++) {
				m->dur[k] += e->dur[k];
				m->req_bytes[k] += e->req_bytes[k];
				m->resp_bytes[k] += e->resp_bytes[k];
			}
		}
	for (i = 0; i < GW_CSTAT_BUCKETS; i++) {
		struct gw_cstat *c;

		for (c = from->ctab[i]; c; c = c->next) {
			struct gw_cstat *mc = cstat_get(into, c->cluster);

			for (k = 0; k < GW_CS_MAX; k++)
				mc->n[k] += c->n[k];
		}
	}
	pthread_mutex_unlock(&from->mu);
}

static void
histogram(struct vg_buf *out, const char *name, const struct gw_stat *e, const uint64_t *b,
    double sum)
{
	uint64_t acc = 0;
	size_t k;

	for (k = 0; k < 19; k++) {
		acc += b[k];
		buf_printf(out, "%s_bucket{%s,le=\"%g\"} %llu\n", name, e->key, gw_buckets_ms[k],
		    (unsigned long long)acc);
	}
	acc += b[19];
	buf_printf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, e->key, (unsigned long long)acc);
	buf_printf(out, "%s_sum{%s} %.17g\n", name, e->key, sum);
	buf_printf(out, "%s_count{%s} %llu\n", name, e->key, (unsigned long long)acc);
}

void
gw_stats_render(struct gw_ctx *ctx, struct vg_buf *out)
{
	struct gw_stats all;
	struct gw_stat *e;
	uint64_t cx = 0, cxa = 0, ucx = 0, ucxa = 0, reuse = 0, yields = 0, h2 = 0;
	uint64_t h2rx = 0, h2tx = 0, h2ga[4] = { 0 }, pperr = 0, spl = 0;
	static const char *const gareason[4] = { "drain", "protocol", "flood", "internal" };
	size_t i;

	gw_stats_init(&all);
	for (i = 0; i < ctx->nw; i++) {
		struct gw_stats *s = &ctx->w[i].stats;

		merge(&all, s);
		cx += __atomic_load_n(&s->cx_total, __ATOMIC_RELAXED);
		cxa += __atomic_load_n(&s->cx_active, __ATOMIC_RELAXED);
		ucx += __atomic_load_n(&s->upstream_cx_total, __ATOMIC_RELAXED);
		ucxa += __atomic_load_n(&s->upstream_cx_active, __ATOMIC_RELAXED);
		reuse += __atomic_load_n(&s->upstream_reuse, __ATOMIC_RELAXED);
		yields += __atomic_load_n(&s->yields, __ATOMIC_RELAXED);
		pperr += __atomic_load_n(&s->pp_error, __ATOMIC_RELAXED);
		spl += __atomic_load_n(&s->tcp_spliced, __ATOMIC_RELAXED);
		h2 += __atomic_load_n(&s->cx_http2_total, __ATOMIC_RELAXED);
		h2rx += __atomic_load_n(&s->h2_rx_reset, __ATOMIC_RELAXED);
		h2tx += __atomic_load_n(&s->h2_tx_reset, __ATOMIC_RELAXED);
		for (size_t k = 0; k < 4; k++)
			h2ga[k] += __atomic_load_n(&s->h2_goaway[k], __ATOMIC_RELAXED);
	}
	buf_puts(out, "# TYPE istio_requests_total counter\n");
	for (i = 0; i < GW_STAT_BUCKETS; i++)
		for (e = all.tab[i]; e; e = e->next)
			buf_printf(out, "istio_requests_total{%s} %llu\n", e->key,
			    (unsigned long long)e->requests);
	buf_puts(out, "# TYPE istio_request_duration_milliseconds histogram\n");
	for (i = 0; i < GW_STAT_BUCKETS; i++)
		for (e = all.tab[i]; e; e = e->next)
			histogram(out, "istio_request_duration_milliseconds", e, e->dur, e->dur_sum);
	buf_puts(out, "# TYPE istio_request_bytes histogram\n");
	for (i = 0; i < GW_STAT_BUCKETS; i++)
		for (e = all.tab[i]; e; e = e->next)
			histogram(out, "istio_request_bytes", e, e->req_bytes, e->req_bytes_sum);
	buf_puts(out, "# TYPE istio_response_bytes histogram\n");
	for (i = 0; i < GW_STAT_BUCKETS; i++)
		for (e = all.tab[i]; e; e = e->next)
			histogram(out, "istio_response_bytes", e, e->resp_bytes, e->resp_bytes_sum);
	/* Istio's TCP series: every downstream connection (destination
	 * "unknown"), then tcp_proxy's by destination (gw_l4_log.c) */
	buf_printf(out, "# TYPE istio_tcp_connections_opened_total counter\n"
	    "istio_tcp_connections_opened_total{reporter=\"source\",source_workload=\"istio-ingressgateway\","
	    "source_workload_namespace=\"%s\",destination_service=\"unknown\",request_protocol=\"tcp\","
	    "connection_security_policy=\"unknown\"} %llu\n", ctx->gw_ns, (unsigned long long)cx);
	gw_l4_stats_render(ctx, out, 0);
	buf_printf(out, "# TYPE istio_tcp_connections_closed_total counter\n"
	    "istio_tcp_connections_closed_total{reporter=\"source\",source_workload=\"istio-ingressgateway\","
	    "source_workload_namespace=\"%s\",destination_service=\"unknown\",request_protocol=\"tcp\","
	    "connection_security_policy=\"unknown\"} %llu\n", ctx->gw_ns, (unsigned long long)(cx - cxa));
	gw_l4_stats_render(ctx, out, 1);
	gw_l4_stats_render(ctx, out, 2);
	gw_l4_stats_render(ctx, out, 3);
	buf_printf(out, "# TYPE vipgate_gateway_downstream_cx_total counter\n"
	    "vipgate_gateway_downstream_cx_total %llu\n"
	    "# TYPE vipgate_gateway_downstream_cx_active gauge\n"
	    "vipgate_gateway_downstream_cx_active %llu\n"
	    "# TYPE vipgate_gateway_upstream_cx_total counter\n"
	    "vipgate_gateway_upstream_cx_total %llu\n"
	    "# TYPE vipgate_gateway_upstream_cx_active gauge\n"
	    "vipgate_gateway_upstream_cx_active %llu\n"
	    "# TYPE vipgate_gateway_upstream_cx_reused_total counter\n"
	    "vipgate_gateway_upstream_cx_reused_total %llu\n"
	    "# TYPE vipgate_gateway_worker_yields_total counter\n"
	    "vipgate_gateway_worker_yields_total %llu\n",
	    (unsigned long long)cx, (unsigned long long)cxa, (unsigned long long)ucx,
	    (unsigned long long)ucxa, (unsigned long long)reuse, (unsigned long long)yields);
	buf_printf(out, "# TYPE vipgate_gateway_downstream_cx_http2_total counter\n"
	    "vipgate_gateway_downstream_cx_http2_total %llu\n"
	    "# TYPE vipgate_gateway_http2_rx_reset_total counter\n"
	    "vipgate_gateway_http2_rx_reset_total %llu\n"
	    "# TYPE vipgate_gateway_http2_tx_reset_total counter\n"
	    "vipgate_gateway_http2_tx_reset_total %llu\n"
	    "# TYPE vipgate_gateway_http2_goaway_total counter\n",
	    (unsigned long long)h2, (unsigned long long)h2rx, (unsigned long long)h2tx);
	for (i = 0; i < 4; i++)
		buf_printf(out, "vipgate_gateway_http2_goaway_total{reason=\"%s\"} %llu\n",
		    gareason[i], (unsigned long long)h2ga[i]);
	/* gateway.proxy_protocol: Envoy's downstream_cx_proxy_proto_error */
	buf_printf(out, "# TYPE vipgate_gateway_downstream_cx_proxy_proto_error_total counter\n"
	    "vipgate_gateway_downstream_cx_proxy_proto_error_total %llu\n", (unsigned long long)pperr);
	/* TCP connections whose bytes went by splice(2) (gw_l4.c) */
	buf_printf(out, "# TYPE vipgate_gateway_tcp_spliced_total counter\n"
	    "vipgate_gateway_tcp_spliced_total %llu\n", (unsigned long long)spl);
	/* accepting: failures by errno, and the times it stopped (accept.h) */
	{
		uint64_t err[VG_ACC_NREASONS] = { 0 }, paused[VG_ACC_NREASONS] = { 0 }, full = 0;
		size_t r, max = 0;

		for (i = 0; i < ctx->nw; i++) {
			for (r = 0; r < VG_ACC_NREASONS; r++) {
				err[r] += __atomic_load_n(&ctx->w[i].acc.errors[r], __ATOMIC_RELAXED);
				paused[r] += __atomic_load_n(&ctx->w[i].acc.pauses[r], __ATOMIC_RELAXED);
			}
			full += __atomic_load_n(&ctx->w[i].acc_full, __ATOMIC_RELAXED);
		}
		buf_puts(out, "# TYPE vipgate_gateway_accept_errors_total counter\n");
		for (r = 0; r < VG_ACC_NREASONS; r++)
			buf_printf(out, "vipgate_gateway_accept_errors_total{reason=\"%s\"} %llu\n",
			    vg_accept_reason_names[r], (unsigned long long)err[r]);
		buf_puts(out, "# TYPE vipgate_gateway_accept_paused_total counter\n");
		for (r = 0; r < VG_ACC_NREASONS; r++)
			buf_printf(out, "vipgate_gateway_accept_paused_total{reason=\"%s\"} %llu\n",
			    vg_accept_reason_names[r], (unsigned long long)paused[r]);
		buf_printf(out, "vipgate_gateway_accept_paused_total{reason=\"max_connections\"} %llu\n",
		    (unsigned long long)full);
		pthread_mutex_lock(&ctx->mu);
		if (ctx->snap)
			max = ctx->snap->max_conns;
		pthread_mutex_unlock(&ctx->mu);
		buf_printf(out, "# TYPE vipgate_gateway_max_connections gauge\n"
		    "vipgate_gateway_max_connections %zu\n", max);
	}
	/* Envoy's cluster counters, as Istio's Prometheus names them */
	{
		static const char *const names[GW_CS_MAX] = {
			"envoy_cluster_upstream_rq_retry", "envoy_cluster_upstream_rq_retry_success",
			"envoy_cluster_upstream_rq_retry_limit_exceeded",
			"envoy_cluster_retry_or_shadow_abandoned",
			"envoy_cluster_ssl_handshake", "envoy_cluster_ssl_session_reused",
			"envoy_cluster_ssl_connection_error", "envoy_cluster_ssl_fail_verify_error",
			"envoy_cluster_ssl_fail_verify_san",
		};
		struct gw_cstat *c;
		size_t k;

		for (k = 0; k < GW_CS_MAX; k++) {
			buf_printf(out, "# TYPE %s counter\n", names[k]);
			for (i = 0; i < GW_CSTAT_BUCKETS; i++)
				for (c = all.ctab[i]; c; c = c->next)
					buf_printf(out, "%s{cluster_name=\"%s\"} %llu\n", names[k],
					    c->cluster, (unsigned long long)c->n[k]);
		}
	}
	gw_stats_free(&all);
	gw_stats_render_clusters(ctx, out);
}

/*
 * Envoy's cluster statistics for the breakers and the outlier detector, as
 * its Prometheus exporter names them (envoy_cluster_<stat>{cluster_name}).
 */
void
gw_stats_render_clusters(struct gw_ctx *ctx, struct vg_buf *out)
{
	static const struct {
		const char	*name, *type;
		int		 od;		/* the detector's (under the mutex) */
	} m[] = {
		{ "upstream_cx_active", "gauge", 0 },
		{ "upstream_rq_active", "gauge", 0 },
		{ "upstream_rq_pending_active", "gauge", 0 },
		{ "upstream_rq_pending_overflow", "counter", 0 },
		{ "upstream_cx_overflow", "counter", 0 },
		{ "upstream_rq_retry_overflow", "counter", 0 },
		{ "outlier_detection_ejections_active", "gauge", 1 },
		{ "outlier_detection_ejections_enforced_total", "counter", 1 },
		{ "outlier_detection_ejections_overflow", "counter", 1 },
		{ "outlier_detection_ejections_detected_consecutive_5xx", "counter", 1 },
		{ "outlier_detection_ejections_enforced_consecutive_5xx", "counter", 1 },
		{ "outlier_detection_ejections_detected_consecutive_gateway_failure", "counter", 1 },
		{ "outlier_detection_ejections_enforced_consecutive_gateway_failure", "counter", 1 },
		{ "outlier_detection_ejections_detected_consecutive_local_origin_failure", "counter", 1 },
		{ "outlier_detection_ejections_enforced_consecutive_local_origin_failure", "counter", 1 },
	};
	size_t k, i;

	for (k = 0; k < VG_ARRAY_SIZE(m); k++) {
		buf_printf(out, "# TYPE envoy_cluster_%s %s\n", m[k].name, m[k].type);
		for (i = 0; i < ctx->rs_ncls; i++) {
			struct gw_cl_rt *cl = ctx->rs_cls[i];
			uint64_t v = 0;

			pthread_mutex_lock(&cl->mu);
			if (m[k].od && !cl->od_on) {
				pthread_mutex_unlock(&cl->mu);
				continue;
			}
			switch (k) {
			case 0: v = __atomic_load_n(&cl->cx_active, __ATOMIC_RELAXED); break;
			case 1: v = __atomic_load_n(&cl->rq_attached, __ATOMIC_RELAXED); break;
			case 2: v = __atomic_load_n(&cl->rq_pending, __ATOMIC_RELAXED); break;
			case 3: v = __atomic_load_n(&cl->rq_pending_overflow, __ATOMIC_RELAXED); break;
			case 4: v = __atomic_load_n(&cl->cx_overflow, __ATOMIC_RELAXED); break;
			case 5: v = __atomic_load_n(&cl->retry_overflow, __ATOMIC_RELAXED); break;
			case 6: v = cl->od.st.active; break;
			case 7: v = cl->od.st.enforced_total; break;
			case 8: v = cl->od.st.overflow; break;
			case 9: v = cl->od.st.detected_5xx; break;
			case 10: v = cl->od.st.enforced_5xx; break;
			case 11: v = cl->od.st.detected_gw; break;
			case 12: v = cl->od.st.enforced_gw; break;
			case 13: v = cl->od.st.detected_local; break;
			default: v = cl->od.st.enforced_local; break;
			}
			pthread_mutex_unlock(&cl->mu);
			buf_printf(out, "envoy_cluster_%s{cluster_name=\"%s\"} %llu\n", m[k].name, cl->name,
			    (unsigned long long)v);
		}
	}
}
