/*
 * What a finished stream leaves behind: its access log line (Envoy's
 * default text format, or the same fields as JSON; Istio's
 * %UPSTREAM_TRANSPORT_FAILURE_REASON% after a TLS failure) and its count
 * in istio_requests_total with Istio's standard labels.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <http_parser.h>

#include "gw-ctx-t.h"
#include "gw-hdr.h"
#include "gw-log.h"
#include "gw-snap-t.h"
#include "gw-stats.h"
#include "gw-stream-t.h"
#include "gw-worker-t.h"

/* One JSON member, its value escaped to 7-bit (the access log's lines are ASCII). */
static void
jstr(struct vg_buf *b, const char *k, const char *v, size_t len)
{
	buf_printf(b, "%s\"%s\":", b->len > 1 ? "," : "", k);
	buf_json_str(b, v, len, 1);
}

/* One Prometheus label, quoted and escaped. */
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

/* A request field's value, "-" when it has none (the access log's convention). */
static const char *
req_header(const struct gw_stream *st, const char *name, size_t *len)
{
	const char *v = gw_hdr_get(&st->hh, name, len);

	if (v == NULL) {
		*len = 1;
		v = "-";
	}
	return v;
}

/* One access log line: Envoy's default text format, or the same fields as JSON. */
static void
access_log(struct gw_stream *st, double ms)
{
	struct gw_ctx *ctx = st->w->ctx;
	struct vg_buf b = { 0 };
	struct timespec ts;
	struct tm tm;
	char when[40], up[64], dur[24];
	/* a head that could not be parsed: its method only when it was read */
	const char *method = st->method < 0 ? "-" : http_method_str((enum http_method)st->method);
	const char *proto = st->proto ? st->proto : "-";
	const char *path = st->hh.url_l && st->hh.b.s ? st->hh.b.s : "-";
	int pathl = st->hh.url_l && st->hh.b.s ? (int)st->hh.url_l : 1;
	const char *xff, *ua, *auth;
	size_t xffl, ual, authl;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ldZ", ts.tv_nsec / 1000000);
	snprintf(up, sizeof(up), st->ep ? (strchr(st->ep->ip, ':') ? "[%s]:%u" : "%s:%u") : "-",
	    st->ep ? st->ep->ip : "", st->ep ? st->ep->port : 0);
	snprintf(dur, sizeof(dur), "%.0f", ms);
	xff = req_header(st, "x-forwarded-for", &xffl);
	ua = req_header(st, "user-agent", &ual);
	auth = req_header(st, "host", &authl);
	if (ctx->alog_json) {
		char code[8], in[24], out[24];

		snprintf(code, sizeof(code), "%d", st->code);
		snprintf(in, sizeof(in), "%llu", (unsigned long long)st->bytes_in);
		snprintf(out, sizeof(out), "%llu", (unsigned long long)st->bytes_out);
		buf_puts(&b, "{");
		jstr(&b, "start_time", when, strlen(when));
		jstr(&b, "method", method, strlen(method));
		jstr(&b, "path", path, (size_t)pathl);
		jstr(&b, "protocol", proto, strlen(proto));
		jstr(&b, "response_code", code, strlen(code));
		jstr(&b, "response_flags", st->flags ? st->flags : "-", strlen(st->flags ? st->flags : "-"));
		jstr(&b, "bytes_received", in, strlen(in));
		jstr(&b, "bytes_sent", out, strlen(out));
		jstr(&b, "duration", dur, strlen(dur));
		jstr(&b, "x_forwarded_for", xff, xffl);
		jstr(&b, "user_agent", ua, ual);
		jstr(&b, "request_id", st->reqid[0] ? st->reqid : "-", st->reqid[0] ? strlen(st->reqid) : 1);
		jstr(&b, "authority", auth, authl);
		jstr(&b, "upstream_host", up, strlen(up));
		jstr(&b, "upstream_cluster", st->cl ? st->cl->name : "-", strlen(st->cl ? st->cl->name : "-"));
		/* Istio's JSON format has it; a PROXY header's address when one came */
		jstr(&b, "downstream_remote_address", st->peer ? st->peer : "-",
		    strlen(st->peer ? st->peer : "-"));
		if (st->tls_reason[0])
			jstr(&b, "upstream_transport_failure_reason", st->tls_reason, strlen(st->tls_reason));
		buf_puts(&b, "}\n");
	} else
		buf_printf(&b, "[%s] \"%s %.*s %s\" %d %s %llu %llu %s - \"%.*s\" \"%.*s\" \"%s\" "
		    "\"%.*s\" \"%s\"\n", when, method, pathl, path,
		    proto, st->code, st->flags ? st->flags : "-",
		    (unsigned long long)st->bytes_in, (unsigned long long)st->bytes_out, dur,
		    (int)xffl, xff, (int)ual, ua, st->reqid[0] ? st->reqid : "-", (int)authl, auth, up);
	if (!ctx->alog_json && st->tls_reason[0]) {
		/* a TLS failure adds Istio's "%UPSTREAM_TRANSPORT_FAILURE_REASON%" at the end */
		b.len--;
		buf_printf(&b, " \"%s\"\n", st->tls_reason);
	}
	/* O_APPEND: one write a line keeps the workers' lines whole */
	(void)!write(ctx->alog_fd, b.s, b.len);
	buf_free(&b);
}

void
gw_log_record(struct gw_stream *st)
{
	struct gw_worker *w = st->w;
	const struct gw_cluster *c = st->cl;
	const struct gw_endpoint *e = st->ep;
	struct vg_buf k = { 0 };
	char code[8];
	double ms = (double)(now_us() - st->t0_us) / 1000.0;
	uint64_t gen = st->snap ? st->snap->gen : 0;
	const char *flags = st->flags ? st->flags : "-";
	size_t slot = (size_t)((((uintptr_t)c >> 4) ^ ((uintptr_t)e >> 3) ^ (uintptr_t)st->code * 31 ^
	    ((uintptr_t)flags >> 2)) % VG_ARRAY_SIZE(w->stats.cache));
	struct gw_stats *ss = &w->stats;
	int grpc = st->is_grpc ? 1 + st->grpc_sent : 0;
	char gcode[16];

	if (w->ctx->alog_fd >= 0)
		access_log(st, ms);
	pthread_mutex_lock(&ss->mu);
	if (ss->cache[slot].e && ss->cache[slot].gen == gen && ss->cache[slot].cl == c &&
	    ss->cache[slot].ep == e && ss->cache[slot].code == st->code &&
	    ss->cache[slot].flags == flags && ss->cache[slot].grpc == grpc) {
		gw_stats_add(ss->cache[slot].e, ms, st->bytes_in, st->bytes_out);
		pthread_mutex_unlock(&ss->mu);
		return;
	}
	pthread_mutex_unlock(&ss->mu);
	snprintf(code, sizeof(code), "%d", st->code ? st->code : 0);
	lbl(&k, "reporter", "source");
	lbl(&k, "source_workload", "istio-ingressgateway");
	lbl(&k, "source_workload_namespace", w->ctx->gw_ns);
	lbl(&k, "source_app", "istio-ingressgateway");
	lbl(&k, "source_principal", NULL);
	lbl(&k, "destination_service", c ? c->host : NULL);
	lbl(&k, "destination_service_name", c && c->svc_name ? c->svc_name : (c ? c->host : NULL));
	lbl(&k, "destination_service_namespace", c ? c->svc_ns : NULL);
	lbl(&k, "destination_workload", e ? e->app : NULL);
	lbl(&k, "destination_workload_namespace", e ? e->workload_ns : NULL);
	lbl(&k, "destination_app", e ? e->app : NULL);
	lbl(&k, "destination_version", e ? e->version : NULL);
	lbl(&k, "destination_principal", NULL);
	lbl(&k, "destination_cluster", NULL);
	/* Istio's request_protocol: "grpc" for gRPC, "http" for any HTTP version */
	lbl(&k, "request_protocol", st->is_grpc ? "grpc" : "http");
	lbl(&k, "response_code", code);
	if (st->grpc_sent)
		snprintf(gcode, sizeof(gcode), "%d", st->grpc_sent - 1);
	lbl(&k, "grpc_response_status", st->grpc_sent ? gcode : "");
	lbl(&k, "response_flags", flags);
	lbl(&k, "connection_security_policy", "unknown");
	pthread_mutex_lock(&ss->mu);
	ss->cache[slot].e = gw_stats_series(ss, k.s);
	ss->cache[slot].gen = gen;
	ss->cache[slot].cl = c;
	ss->cache[slot].ep = e;
	ss->cache[slot].code = st->code;
	ss->cache[slot].flags = flags;
	ss->cache[slot].grpc = grpc;
	gw_stats_add(ss->cache[slot].e, ms, st->bytes_in, st->bytes_out);
	pthread_mutex_unlock(&ss->mu);
	buf_free(&k);
}
