/*
 * Outlier detection against Envoy's documented behaviour
 * (outlier_detection_impl.cc, as Istio configures it), the pickers'
 * handling of ejected hosts, and the circuit breakers' accounting.
 */
#include "config.h"

#include <event2/event.h>

#include "cu.h"
#include "../../src/gw/gw-ctx-t.h"
#include "../../src/gw/gw-lb.h"
#include "../../src/gw/gw-lb-hash.h"
#include "../../src/gw/gw-outlier.h"
#include "../../src/gw/gw-resil.h"
#include "../../src/gw/gw-snap-t.h"
#include "../../src/gw/gw-worker-t.h"
#include "vipgate/config.h"
#include "vipgate/reconcile.h"

/* ---- the pure detector ---- */

static struct gw_od
od_make(int64_t c5xx, int64_t cgw, int gw_enforced, int64_t max_pct)
{
	struct gw_outlier o = { 0 };
	struct gw_od d;

	memset(&d, 0, sizeof(d));
	o.enabled = 1;
	o.consecutive_5xx = c5xx;
	o.consecutive_gateway = cgw;
	o.gateway_enforced = gw_enforced;
	o.interval_ms = 10000;
	o.base_ejection_ms = 30000;
	o.max_ejection_percent = max_pct;
	gw_od_cfg_from(&d.cfg, &o);
	return d;
}

static void
t_istio_mapping(void)
{
	struct gw_od d = od_make(3, 5, 0, 10);

	CU_ASSERT_EQUAL(d.cfg.consecutive_5xx, 3);
	CU_ASSERT_TRUE(d.cfg.enforce_5xx);
	/* consecutiveGatewayErrors unset: Envoy counts to 5, enforcing 0 */
	CU_ASSERT_EQUAL(d.cfg.consecutive_gw, 5);
	CU_ASSERT_FALSE(d.cfg.enforce_gw);
	CU_ASSERT_EQUAL(d.cfg.max_ms, 300000);
	d = od_make(0, 2, 1, 100);
	CU_ASSERT_FALSE(d.cfg.enforce_5xx);
	CU_ASSERT_EQUAL(d.cfg.consecutive_5xx, 0);
	CU_ASSERT_TRUE(d.cfg.enforce_gw);
	CU_ASSERT_EQUAL(d.cfg.max_percent, 100);
	/* max_ejection_time defaults to max(300 s, base) */
	{
		struct gw_outlier o = { .enabled = 1, .consecutive_5xx = 5, .base_ejection_ms = 400000,
			.max_ejection_percent = 10 };

		gw_od_cfg_from(&d.cfg, &o);
		CU_ASSERT_EQUAL(d.cfg.max_ms, 400000);
	}
}

static void
t_counters(void)
{
	struct gw_od d = od_make(5, 3, 1, 100);
	struct gw_od_host h = { 0 };

	/* 500 counts as 5xx but resets the gateway counter */
	CU_ASSERT_EQUAL(gw_od_count(&d.cfg, &h, 502), 0);
	CU_ASSERT_EQUAL(gw_od_count(&d.cfg, &h, 503), 0);
	CU_ASSERT_EQUAL(h.cgw, 2);
	CU_ASSERT_EQUAL(gw_od_count(&d.cfg, &h, 500), 0);
	CU_ASSERT_EQUAL(h.cgw, 0);
	CU_ASSERT_EQUAL(h.c5xx, 3);
	/* anything not 5xx resets both */
	CU_ASSERT_EQUAL(gw_od_count(&d.cfg, &h, 404), 0);
	CU_ASSERT_EQUAL(h.c5xx, 0);
	CU_ASSERT_EQUAL(h.cgw, 0);
	/* 504 x3: the gateway event on the third; the 5xx one needs five */
	gw_od_count(&d.cfg, &h, 504);
	gw_od_count(&d.cfg, &h, 504);
	CU_ASSERT_EQUAL(gw_od_count(&d.cfg, &h, 504), GW_OD_GATEWAY);
	CU_ASSERT_EQUAL(gw_od_count(&d.cfg, &h, 501), 0);
	CU_ASSERT_EQUAL(gw_od_count(&d.cfg, &h, 599), GW_OD_5XX);
	/* equality only: the sixth does not fire again */
	CU_ASSERT_EQUAL(gw_od_count(&d.cfg, &h, 500), 0);
	/* local origin, default mode: connect failure 503 counts for both, timeout 504 */
	CU_ASSERT_EQUAL(gw_od_local_code(GW_OD_CONNECT_FAILED), 503);
	CU_ASSERT_EQUAL(gw_od_local_code(GW_OD_TIMEOUT), 504);
	CU_ASSERT_EQUAL(gw_od_local_code(GW_OD_REQUEST_FAILED), 500);
	/* 0 disables a detector */
	d = od_make(0, 0, 0, 100);
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(gw_od_count(&d.cfg, &h, 503), 0);
}

static void
t_gateway_vs_5xx(void)
{
	struct gw_od d = od_make(5, 5, 0, 100);
	struct gw_od_host h[10];
	int i;

	memset(h, 0, sizeof(h));
	/* gateway errors unset: detected (counter reset) but never enforced; the
	 * 5xx detector ejects on the fifth */
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(gw_od_report(&d, &h[0], 10, 503, 1000, 0), GW_OD_NOTHING);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[0], 10, 503, 1000, 0), GW_OD_EJECTED);
	CU_ASSERT_EQUAL(d.st.detected_gw, 1);
	CU_ASSERT_EQUAL(d.st.enforced_gw, 0);
	CU_ASSERT_EQUAL(d.st.detected_5xx, 1);
	CU_ASSERT_EQUAL(d.st.enforced_5xx, 1);
	CU_ASSERT_EQUAL(d.st.enforced_total, 1);
	/* gateway errors enforced: 502 x2 ejects with consecutiveGatewayErrors 2 */
	d = od_make(0, 2, 1, 100);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[1], 10, 502, 1000, 0), GW_OD_NOTHING);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[1], 10, 504, 1000, 0), GW_OD_EJECTED);
	CU_ASSERT_EQUAL(d.st.enforced_gw, 1);
	/* ... and 500s are no gateway errors */
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[2], 10, 500, 1000, 0), GW_OD_NOTHING);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[2], 10, 500, 1000, 0), GW_OD_NOTHING);
	CU_ASSERT_FALSE(h[2].ejected);
}

static void
t_max_percent(void)
{
	struct gw_od d = od_make(1, 0, 0, 10);
	struct gw_od_host h[20];

	memset(h, 0, sizeof(h));
	/* 2 hosts, 10%: 100*(0+1)/2 = 50 > 10, never (no first-host exception) */
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[0], 2, 500, 0, 0), GW_OD_OVERFLOW);
	CU_ASSERT_EQUAL(d.st.overflow, 1);
	CU_ASSERT_FALSE(h[0].ejected);
	/* 10 hosts, 10%: the first at exactly 10% (<=), the second overflows */
	d = od_make(1, 0, 0, 10);
	memset(h, 0, sizeof(h));
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[0], 10, 500, 0, 0), GW_OD_EJECTED);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[1], 10, 500, 0, 0), GW_OD_OVERFLOW);
	CU_ASSERT_EQUAL(d.st.active, 1);
	CU_ASSERT_EQUAL(d.st.overflow, 1);
	/* 3 hosts, 34%: one (33.3%), not two (66.7%) */
	d = od_make(1, 0, 0, 34);
	memset(h, 0, sizeof(h));
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[0], 3, 500, 0, 0), GW_OD_EJECTED);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[1], 3, 500, 0, 0), GW_OD_OVERFLOW);
	/* 3 hosts, 100%: all three */
	d = od_make(1, 0, 0, 100);
	memset(h, 0, sizeof(h));
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[0], 3, 500, 0, 0), GW_OD_EJECTED);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[1], 3, 500, 0, 0), GW_OD_EJECTED);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[2], 3, 500, 0, 0), GW_OD_EJECTED);
	CU_ASSERT_EQUAL(d.st.active, 3);
	/* an ejected host's event is ignored, its counter not reset */
	d = od_make(2, 0, 0, 100);
	memset(h, 0, sizeof(h));
	gw_od_report(&d, &h[0], 3, 500, 0, 0);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[0], 3, 500, 0, 0), GW_OD_EJECTED);
	CU_ASSERT_EQUAL(h[0].c5xx, 0);
	gw_od_report(&d, &h[0], 3, 500, 0, 0);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[0], 3, 500, 0, 0), GW_OD_IGNORED);
	CU_ASSERT_EQUAL(h[0].c5xx, 2);
	CU_ASSERT_EQUAL(d.st.detected_5xx, 1);
	/* the detected-but-unenforced gateway event checks the percentage too */
	d = od_make(0, 1, 0, 10);
	memset(h, 0, sizeof(h));
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[0], 2, 503, 0, 0), GW_OD_OVERFLOW);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h[0], 20, 503, 0, 0), GW_OD_NOT_ENFORCED);
}

/* Eject at t, then sweep every interval from s0 on until it is back; returns when. */
static int64_t
eject_and_wait(struct gw_od *d, struct gw_od_host *h, int64_t t, int64_t s0)
{
	struct gw_od_host *hp = h;
	int64_t s;

	CU_ASSERT_EQUAL(gw_od_event(d, h, 1, GW_OD_5XX, t, 0), GW_OD_EJECTED);
	for (s = s0; s < t + 10000000; s += d->cfg.interval_ms)
		if (gw_od_sweep(d, &hp, 1, s))
			return s;
	return -1;
}

static void
t_sweep_and_backoff(void)
{
	struct gw_od d = od_make(1, 0, 0, 100);
	struct gw_od_host h = { 0 }, *hp = &h;
	int64_t back, t;
	int i;

	/* ejected at 5 s for 30 s; sweeps every 10 s: back at the 40 s sweep (rounded up) */
	back = eject_and_wait(&d, &h, 5000, 10000);
	CU_ASSERT_EQUAL(back, 40000);
	CU_ASSERT_FALSE(h.ejected);
	CU_ASSERT_EQUAL(h.num_ejections, 1);
	CU_ASSERT_EQUAL(h.backoff, 1);
	CU_ASSERT_EQUAL(d.st.active, 0);
	/* ejected again at once: 60 s (base x 2) */
	back = eject_and_wait(&d, &h, 40000, 50000);
	CU_ASSERT_EQUAL(back, 100000);
	CU_ASSERT_EQUAL(h.backoff, 2);
	/* growth is capped: 30, 60, ... up to max_ejection_time 300 s */
	t = back;
	for (i = 0; i < 12; i++) {
		int64_t b = eject_and_wait(&d, &h, t, t + 10000);

		CU_ASSERT_TRUE(b - t <= 300000);
		t = b;
	}
	CU_ASSERT_EQUAL(h.backoff, 11);		/* 11 x 30 >= 300 + 30: no more */
	CU_ASSERT_EQUAL(gw_od_ejection_ms(&d.cfg, &h), 300000);
	CU_ASSERT_EQUAL(h.num_ejections, 14);
	/* healthy intervals decay the backoff one step each */
	gw_od_sweep(&d, &hp, 1, t + 9999);
	CU_ASSERT_EQUAL(h.backoff, 11);
	gw_od_sweep(&d, &hp, 1, t + 10000);
	CU_ASSERT_EQUAL(h.backoff, 10);
	for (i = 2; i < 20; i++)
		gw_od_sweep(&d, &hp, 1, t + 10000 * i);
	CU_ASSERT_EQUAL(h.backoff, 0);
	/* and the next ejection is one base long again */
	back = eject_and_wait(&d, &h, 1000000000, 1000000000 + 10000);
	CU_ASSERT_EQUAL(back - 1000000000, 30000);
}

static void
t_reset_on_uneject(void)
{
	struct gw_od d = od_make(3, 5, 0, 100);
	struct gw_od_host h = { 0 }, *hp = &h;

	gw_od_report(&d, &h, 4, 500, 0, 0);
	gw_od_report(&d, &h, 4, 500, 0, 0);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h, 4, 503, 0, 0), GW_OD_EJECTED);
	/* answers of requests in flight keep counting while ejected */
	gw_od_report(&d, &h, 4, 503, 1, 0);
	gw_od_report(&d, &h, 4, 503, 2, 0);
	CU_ASSERT_EQUAL(h.c5xx, 2);
	CU_ASSERT_EQUAL(h.cgw, 3);
	CU_ASSERT_EQUAL(gw_od_sweep(&d, &hp, 1, 30000), 1);
	CU_ASSERT_EQUAL(h.c5xx, 0);
	CU_ASSERT_EQUAL(h.cgw, 0);
	/* so it takes three new errors, not one, to eject again */
	CU_ASSERT_EQUAL(gw_od_report(&d, &h, 4, 500, 30001, 0), GW_OD_NOTHING);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h, 4, 500, 30002, 0), GW_OD_NOTHING);
	CU_ASSERT_EQUAL(gw_od_report(&d, &h, 4, 500, 30003, 0), GW_OD_EJECTED);
	/* a removed host leaves ejections_active */
	gw_od_host_removed(&d, &h);
	CU_ASSERT_EQUAL(d.st.active, 0);
}

static void
t_split_mode(void)
{
	struct gw_od d = od_make(5, 5, 0, 100);
	struct gw_od_host h = { 0 };
	int i;

	/* default mode: a connect success is ignored, a failure counts as 503 */
	CU_ASSERT_EQUAL(gw_od_local(&d, &h, 4, GW_OD_CONNECT_SUCCESS, 0, 0), GW_OD_NOTHING);
	gw_od_local(&d, &h, 4, GW_OD_CONNECT_FAILED, 0, 0);
	gw_od_local(&d, &h, 4, GW_OD_TIMEOUT, 0, 0);
	CU_ASSERT_EQUAL(h.c5xx, 2);
	CU_ASSERT_EQUAL(h.cgw, 2);
	CU_ASSERT_EQUAL(h.cloc, 0);
	/* split mode: local failures have their own counter (Istio's
	 * consecutiveLocalOriginFailures, else Envoy's 5), reset by a connect success */
	{
		struct gw_outlier o = { .enabled = 1, .consecutive_5xx = 5, .consecutive_gateway = 5,
			.split_local = 1, .consecutive_local = 3, .interval_ms = 10000,
			.base_ejection_ms = 30000, .max_ejection_percent = 100 };

		memset(&d, 0, sizeof(d));
		gw_od_cfg_from(&d.cfg, &o);
	}
	memset(&h, 0, sizeof(h));
	CU_ASSERT_EQUAL(gw_od_local(&d, &h, 4, GW_OD_CONNECT_FAILED, 0, 0), GW_OD_NOTHING);
	CU_ASSERT_EQUAL(gw_od_local(&d, &h, 4, GW_OD_TIMEOUT, 0, 0), GW_OD_NOTHING);
	CU_ASSERT_EQUAL(h.cloc, 2);
	CU_ASSERT_EQUAL(h.c5xx, 0);
	CU_ASSERT_EQUAL(gw_od_local(&d, &h, 4, GW_OD_CONNECT_SUCCESS, 0, 0), GW_OD_NOTHING);
	CU_ASSERT_EQUAL(h.cloc, 0);
	/* the upstream's own 5xx still count as before */
	for (i = 0; i < 4; i++)
		gw_od_report(&d, &h, 4, 503, 0, 0);
	CU_ASSERT_EQUAL(h.c5xx, 4);
	gw_od_local(&d, &h, 4, GW_OD_CONNECT_FAILED, 0, 0);
	gw_od_local(&d, &h, 4, GW_OD_CONNECT_FAILED, 0, 0);
	CU_ASSERT_EQUAL(gw_od_local(&d, &h, 4, GW_OD_CONNECT_FAILED, 0, 0), GW_OD_EJECTED);
	CU_ASSERT_EQUAL(d.st.detected_local, 1);
	CU_ASSERT_EQUAL(d.st.enforced_local, 1);
	CU_ASSERT_EQUAL(d.st.enforced_5xx, 0);
	gw_od_uneject(&d, &h, 30000);
	CU_ASSERT_EQUAL(h.cloc, 0);
	CU_ASSERT_EQUAL(h.c5xx, 0);
}

static void
t_panic(void)
{
	/* Istio's threshold 0: never in panic, so all ejected means no host */
	CU_ASSERT_FALSE(gw_od_panic(0, 0, 3));
	/* 1 of 3 healthy (33%) < 50%: panic, all hosts used */
	CU_ASSERT_TRUE(gw_od_panic(50, 1, 3));
	CU_ASSERT_FALSE(gw_od_panic(50, 2, 3));
	CU_ASSERT_FALSE(gw_od_panic(50, 1, 2));		/* 50% is not below 50% */
	CU_ASSERT_TRUE(gw_od_panic(1, 0, 3));
}

/* ---- run time: breakers, pickers, reloads ---- */

static struct event_base *base;
static void *resumed[64];
static enum gw_rs_resume resumed_how[64];
static size_t nresumed;

/* the stream's resume callback, as gw_stream.c hands it to gw_rs_admit */
static void
gw_dr_resume(void *owner, enum gw_rs_resume how)
{
	if (nresumed < 64) {
		resumed_how[nresumed] = how;
		resumed[nresumed++] = owner;
	}
}

static struct gw_endpoint reps[3];
static struct gw_cluster rc, *rcp = &rc;
static struct gw_desired rg;

static void
rt_setup(struct gw_ctx *ctx, struct applier_env *env, struct gw_snap *s, struct gw_worker *w,
    size_t neps)
{
	static const char *ips[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3" };
	size_t i;

	memset(reps, 0, sizeof(reps));
	for (i = 0; i < neps; i++) {
		reps[i].ip = ips[i];
		ipaddr_parse(ips[i], &reps[i].addr);
		reps[i].port = 9080;
		reps[i].weight = 1;
		reps[i].id = i;
	}
	memset(&rc, 0, sizeof(rc));
	rc.name = "outbound|9080||r.default.svc.cluster.local";
	rc.eps = reps;
	rc.neps = neps;
	rc.lb = GW_LB_ROUND_ROBIN;
	memset(&rg, 0, sizeof(rg));
	rg.clusters = &rcp;
	rg.nclusters = 1;
	memset(ctx, 0, sizeof(*ctx));
	memset(env, 0, sizeof(*env));
	env->base = base;
	ctx->env = env;
	ctx->nw = 1;
	memset(s, 0, sizeof(*s));
	s->g = &rg;
	memset(w, 0, sizeof(*w));
	w->base = base;
	w->ctx = ctx;
	nresumed = 0;
}

static void
t_breakers(void)
{
	struct gw_ctx ctx;
	struct applier_env env;
	struct gw_snap s;
	struct gw_worker w;
	struct gw_rs_req r[6];
	struct gw_rs_cx x1 = { 0 }, x2 = { 0 };
	struct gw_cl_rt *cl;

	rt_setup(&ctx, &env, &s, &w, 2);
	rc.max_connections = 1;
	rc.max_pending = 1;
	gw_rs_snap_init(&ctx, &s);
	cl = s.crt[0];
	memset(r, 0, sizeof(r));
	/* the first request opens a connection and is pending until it is up */
	CU_ASSERT_EQUAL(gw_rs_admit(&w, &s, &rc, &reps[0], &r[0], &r[0], gw_dr_resume, GW_RS_NO_IDLE, 0), GW_RS_CONNECT);
	gw_rs_cx_open(&w, &x1, &r[0]);
	CU_ASSERT_EQUAL(cl->rq_pending, 1);
	CU_ASSERT_EQUAL(cl->cx_active, 1);
	/* the pending queue (1) is full: overflow */
	CU_ASSERT_EQUAL(gw_rs_admit(&w, &s, &rc, &reps[0], &r[1], &r[1], gw_dr_resume, GW_RS_NO_IDLE, 0), GW_RS_OVERFLOW);
	CU_ASSERT_EQUAL(cl->rq_pending_overflow, 1);
	gw_rs_req_release(&r[1]);
	gw_rs_connected(&r[0]);
	CU_ASSERT_EQUAL(cl->rq_pending, 0);
	CU_ASSERT_EQUAL(cl->rq_attached, 1);
	/* at max_connections: no new connection, the request waits */
	CU_ASSERT_EQUAL(gw_rs_admit(&w, &s, &rc, &reps[0], &r[2], &r[2], gw_dr_resume, GW_RS_NO_IDLE, 0), GW_RS_QUEUED);
	CU_ASSERT_EQUAL(cl->cx_overflow, 1);
	CU_ASSERT_EQUAL(cl->rq_pending, 1);
	CU_ASSERT_EQUAL(w.rs.nq, 1);
	CU_ASSERT_EQUAL(gw_rs_admit(&w, &s, &rc, &reps[0], &r[3], &r[3], gw_dr_resume, GW_RS_NO_IDLE, 0), GW_RS_OVERFLOW);
	gw_rs_req_release(&r[3]);
	/* the pending queue is checked first, even for an empty host pool */
	CU_ASSERT_EQUAL(gw_rs_admit(&w, &s, &rc, &reps[1], &r[4], &r[4], gw_dr_resume, GW_RS_NO_IDLE, 0), GW_RS_OVERFLOW);
	gw_rs_req_release(&r[4]);
	/* the first answer is done and its connection goes idle: the queued one goes */
	gw_rs_req_release(&r[0]);
	gw_rs_cx_idle(&w, &x1, 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CU_ASSERT_EQUAL(nresumed, 1);
	CU_ASSERT_PTR_EQUAL(resumed[0], &r[2]);
	CU_ASSERT_EQUAL(resumed_how[0], GW_RS_DISPATCH);
	CU_ASSERT_EQUAL(w.rs.nq, 0);
	/* ... and takes the pooled connection, leaving pending */
	CU_ASSERT_EQUAL(gw_rs_admit(&w, &s, &rc, &reps[0], &r[2], &r[2], gw_dr_resume, GW_RS_IDLE_OK, 0), GW_RS_IDLE);
	gw_rs_cx_idle(&w, &x1, 0);
	CU_ASSERT_EQUAL(cl->rq_pending, 0);
	CU_ASSERT_EQUAL(cl->rq_attached, 1);
	/* endpoint 2's pool is empty: it gets a connection although the cluster is full */
	CU_ASSERT_EQUAL(gw_rs_admit(&w, &s, &rc, &reps[1], &r[4], &r[4], gw_dr_resume, GW_RS_NO_IDLE, 0), GW_RS_CONNECT);
	gw_rs_cx_open(&w, &x2, &r[4]);
	gw_rs_connected(&r[4]);
	CU_ASSERT_EQUAL(cl->cx_active, 2);
	CU_ASSERT_EQUAL(cl->cx_overflow, 2);
	/* a retry would rather have a fresh connection: it gets one while there
	 * is room, and takes the pooled one when the breakers leave none */
	gw_rs_cx_idle(&w, &x2, 1);
	CU_ASSERT_EQUAL(gw_rs_admit(&w, &s, &rc, &reps[1], &r[5], &r[5], gw_dr_resume, GW_RS_IDLE_AVOID, 0), GW_RS_IDLE);
	gw_rs_req_release(&r[5]);
	rc.max_connections = 3;
	CU_ASSERT_EQUAL(gw_rs_admit(&w, &s, &rc, &reps[1], &r[5], &r[5], gw_dr_resume, GW_RS_IDLE_AVOID, 0), GW_RS_CONNECT);
	gw_rs_req_release(&r[5]);
	rc.max_connections = 1;
	gw_rs_cx_idle(&w, &x2, 0);
	/* max_requests: checked when a request would attach */
	rc.max_requests = 2;
	CU_ASSERT_EQUAL(gw_rs_admit(&w, &s, &rc, &reps[0], &r[5], &r[5], gw_dr_resume, GW_RS_IDLE_OK, 0), GW_RS_OVERFLOW);
	CU_ASSERT_EQUAL(cl->rq_pending_overflow, 4);
	gw_rs_req_release(&r[5]);
	rc.max_requests = 0;
	/* a queued request is bounded by the route timeout: 504 UT */
	CU_ASSERT_EQUAL(gw_rs_admit(&w, &s, &rc, &reps[0], &r[5], &r[5], gw_dr_resume, GW_RS_NO_IDLE, 20), GW_RS_QUEUED);
	nresumed = 0;
	event_base_loop(base, EVLOOP_ONCE);
	CU_ASSERT_EQUAL(nresumed, 1);
	CU_ASSERT_EQUAL(resumed_how[0], GW_RS_ROUTE_TIMEOUT);
	CU_ASSERT_EQUAL(w.rs.nq, 0);
	CU_ASSERT_EQUAL(cl->rq_pending, 1);	/* until its answer releases it */
	gw_rs_req_release(&r[5]);
	CU_ASSERT_EQUAL(cl->rq_pending, 0);
	/* a queued request whose client leaves is just taken out */
	CU_ASSERT_EQUAL(gw_rs_admit(&w, &s, &rc, &reps[0], &r[5], &r[5], gw_dr_resume, GW_RS_NO_IDLE, 0), GW_RS_QUEUED);
	gw_rs_req_release(&r[5]);
	CU_ASSERT_EQUAL(w.rs.nq, 0);
	CU_ASSERT_EQUAL(cl->rq_pending, 0);
	/* a failed connection attempt fails those waiting on its endpoint (Envoy
	 * purges the pool's pending streams) */
	CU_ASSERT_EQUAL(gw_rs_admit(&w, &s, &rc, &reps[0], &r[5], &r[5], gw_dr_resume, GW_RS_NO_IDLE, 0), GW_RS_QUEUED);
	nresumed = 0;
	gw_rs_cx_close(&w, &x1, 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CU_ASSERT_EQUAL(nresumed, 1);
	CU_ASSERT_EQUAL(resumed_how[0], GW_RS_CONNECT_FAILED);
	CU_ASSERT_EQUAL(w.rs.nq, 0);
	gw_rs_req_release(&r[5]);
	/* connections close: counts go back */
	gw_rs_req_release(&r[2]);
	gw_rs_req_release(&r[4]);
	gw_rs_cx_close(&w, &x1, 1);
	gw_rs_cx_close(&w, &x2, 1);
	CU_ASSERT_EQUAL(cl->cx_active, 0);
	CU_ASSERT_EQUAL(cl->rq_attached, 0);
	/* max_retries 1: the second concurrent retry is not attempted */
	rc.max_retries = 1;
	memset(r, 0, sizeof(r));
	CU_ASSERT_TRUE(gw_breaker_retry_ok(&r[0], &s, &rc));
	CU_ASSERT_FALSE(gw_breaker_retry_ok(&r[1], &s, &rc));
	CU_ASSERT_EQUAL(cl->retry_overflow, 1);
	gw_rs_req_release(&r[0]);
	CU_ASSERT_TRUE(gw_breaker_retry_ok(&r[1], &s, &rc));
	gw_rs_req_release(&r[1]);
	CU_ASSERT_EQUAL(cl->retries_active, 0);
	gw_rs_worker_free(&w);
	gw_rs_snap_free(&s);
	gw_rs_ctx_free(&ctx);
}

/*
 * Random admissions, connections, dispatches and releases: whatever the
 * order, the shared counts match the requests' own flags, and everything
 * returns to zero (no pending slot or connection leaks, nothing stuck).
 */
#define RQ	8
#define CX	16
static struct gw_rs_cx fcx[CX];
static int fcx_used[CX], fcx_busy[CX];
static uint64_t frs = 0x9e3779b97f4a7c15ULL;

static uint32_t
frand(uint32_t n)
{
	frs ^= frs << 13;
	frs ^= frs >> 7;
	frs ^= frs << 17;
	return (uint32_t)(frs % n);
}

static int
fcx_idle_of(struct gw_ep_rt *ep)
{
	int i;

	for (i = 0; i < CX; i++)
		if (fcx_used[i] && !fcx_busy[i] && fcx[i].ep == ep)
			return i;
	return -1;
}

static void
fuzz_admit(struct gw_worker *w, struct gw_snap *s, struct gw_rs_req *r, int *conn, size_t epi)
{
	struct gw_ep_rt *ep = s->ert[0][epi];
	int idle = fcx_idle_of(ep), i;

	switch (gw_rs_admit(w, s, &rc, &reps[epi], r, r, gw_dr_resume, idle >= 0 ? GW_RS_IDLE_OK : GW_RS_NO_IDLE, 0)) {
	case GW_RS_IDLE:
		fcx_busy[idle] = 1;
		gw_rs_cx_idle(w, &fcx[idle], 0);
		*conn = idle;
		break;
	case GW_RS_CONNECT:
		for (i = 0; i < CX && fcx_used[i]; i++)
			;
		CU_ASSERT_FATAL(i < CX);
		fcx_used[i] = fcx_busy[i] = 1;
		gw_rs_cx_open(w, &fcx[i], r);
		*conn = i;
		break;
	default:
		*conn = -1;
		break;
	}
}

static void
t_breakers_random(void)
{
	struct gw_ctx ctx;
	struct applier_env env;
	struct gw_snap s;
	struct gw_worker w;
	struct gw_rs_req r[RQ];
	int conn[RQ], live[RQ], epof[RQ];
	struct gw_cl_rt *cl;
	int step, i, k, queued = 0, dispatched = 0;

	rt_setup(&ctx, &env, &s, &w, 2);
	rc.max_connections = 2;
	rc.max_pending = 3;
	rc.max_requests = 5;
	gw_rs_snap_init(&ctx, &s);
	cl = s.crt[0];
	memset(r, 0, sizeof(r));
	memset(live, 0, sizeof(live));
	memset(fcx_used, 0, sizeof(fcx_used));
	for (step = 0; step < 20000; step++) {
		unsigned pend = 0, att = 0, q = 0;

		i = (int)frand(RQ);
		switch (frand(5)) {
		case 0:		/* a new request */
			if (live[i])
				break;
			live[i] = 1;
			epof[i] = (int)frand(2);
			fuzz_admit(&w, &s, &r[i], &conn[i], (size_t)epof[i]);
			if (conn[i] < 0 && !r[i].queued) {	/* 503 UO: answered */
				gw_rs_req_release(&r[i]);
				live[i] = 0;
			}
			break;
		case 1:		/* its connection is up */
			if (live[i] && conn[i] >= 0)
				gw_rs_connected(&r[i]);
			break;
		case 2:		/* answered: the connection goes idle, or closes */
			if (!live[i] || r[i].queued)
				break;
			gw_rs_req_release(&r[i]);
			live[i] = 0;
			if (conn[i] >= 0) {
				k = conn[i];
				fcx_busy[k] = 0;
				if (frand(2))
					gw_rs_cx_idle(&w, &fcx[k], 1);
				else {
					gw_rs_cx_close(&w, &fcx[k], (int)frand(2));
					fcx_used[k] = 0;
				}
			}
			break;
		case 3:		/* the client goes away */
			if (live[i]) {
				gw_rs_req_release(&r[i]);
				live[i] = 0;
				if (conn[i] >= 0) {
					gw_rs_cx_close(&w, &fcx[conn[i]], 1);
					fcx_used[conn[i]] = 0;
				}
			}
			break;
		case 4:		/* the loop runs: queued requests take their turn */
			nresumed = 0;
			event_base_loop(base, EVLOOP_NONBLOCK);
			for (k = 0; k < (int)nresumed; k++) {
				struct gw_rs_req *rr = resumed[k];
				int j = (int)(rr - r);

				if (resumed_how[k] == GW_RS_DISPATCH) {
					dispatched++;
					fuzz_admit(&w, &s, rr, &conn[j], (size_t)epof[j]);
					if (conn[j] < 0 && !rr->queued) {
						gw_rs_req_release(rr);
						live[j] = 0;
					}
				} else {
					gw_rs_req_release(rr);
					live[j] = 0;
				}
			}
			break;
		}
		for (k = 0; k < RQ; k++) {
			pend += r[k].pending;
			att += r[k].attached;
			q += r[k].queued;
		}
		CU_ASSERT_EQUAL_FATAL(cl->rq_pending, pend);
		CU_ASSERT_EQUAL_FATAL(cl->rq_attached, att);
		CU_ASSERT_EQUAL_FATAL(w.rs.nq, q);
		queued += q > 0;
		CU_ASSERT_FATAL(pend <= 3);
		CU_ASSERT_FATAL(att <= 5);
	}
	/* the walk went through the queue */
	CU_ASSERT_TRUE(queued > 100);
	CU_ASSERT_TRUE(dispatched > 100);
	for (k = 0; k < RQ; k++)
		gw_rs_req_release(&r[k]);
	for (k = 0; k < CX; k++)
		if (fcx_used[k])
			gw_rs_cx_close(&w, &fcx[k], 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CU_ASSERT_EQUAL(cl->rq_pending, 0);
	CU_ASSERT_EQUAL(cl->rq_attached, 0);
	CU_ASSERT_EQUAL(cl->cx_active, 0);
	CU_ASSERT_EQUAL(w.rs.nq, 0);
	CU_ASSERT_EQUAL(s.ert[0][0]->wcx[0] + s.ert[0][1]->wcx[0], 0);
	CU_ASSERT_EQUAL(s.ert[0][0]->widle[0] + s.ert[0][1]->widle[0], 0);
	gw_rs_worker_free(&w);
	gw_rs_snap_free(&s);
	gw_rs_ctx_free(&ctx);
}

/* Two workers share the cluster's counts; each has its own pools. */
static void
t_breakers_two_workers(void)
{
	struct gw_ctx ctx;
	struct applier_env env;
	struct gw_snap s;
	struct gw_worker w[2];
	struct gw_rs_req r[4];
	struct gw_rs_cx x[2];
	struct gw_cl_rt *cl;

	rt_setup(&ctx, &env, &s, &w[0], 1);
	ctx.nw = 2;
	memset(&w[1], 0, sizeof(w[1]));
	w[1].base = base;
	w[1].ctx = &ctx;
	w[1].id = 1;
	rc.max_connections = 1;
	rc.max_pending = 2;
	gw_rs_snap_init(&ctx, &s);
	cl = s.crt[0];
	memset(r, 0, sizeof(r));
	memset(x, 0, sizeof(x));
	CU_ASSERT_EQUAL(gw_rs_admit(&w[0], &s, &rc, &reps[0], &r[0], &r[0], gw_dr_resume, GW_RS_NO_IDLE, 0), GW_RS_CONNECT);
	gw_rs_cx_open(&w[0], &x[0], &r[0]);
	gw_rs_connected(&r[0]);
	/* the other worker's pool for that endpoint is empty: it opens one too */
	CU_ASSERT_EQUAL(gw_rs_admit(&w[1], &s, &rc, &reps[0], &r[1], &r[1], gw_dr_resume, GW_RS_NO_IDLE, 0), GW_RS_CONNECT);
	gw_rs_cx_open(&w[1], &x[1], &r[1]);
	gw_rs_connected(&r[1]);
	CU_ASSERT_EQUAL(cl->cx_active, 2);
	CU_ASSERT_EQUAL(cl->cx_overflow, 1);
	CU_ASSERT_EQUAL(s.ert[0][0]->wcx[0], 1);
	CU_ASSERT_EQUAL(s.ert[0][0]->wcx[1], 1);
	/* now both wait, and the pending limit (2) counts both workers' */
	CU_ASSERT_EQUAL(gw_rs_admit(&w[0], &s, &rc, &reps[0], &r[2], &r[2], gw_dr_resume, GW_RS_NO_IDLE, 0), GW_RS_QUEUED);
	CU_ASSERT_EQUAL(gw_rs_admit(&w[1], &s, &rc, &reps[0], &r[3], &r[3], gw_dr_resume, GW_RS_NO_IDLE, 0), GW_RS_QUEUED);
	CU_ASSERT_EQUAL(cl->rq_pending, 2);
	CU_ASSERT_EQUAL(w[0].rs.nq, 1);
	CU_ASSERT_EQUAL(w[1].rs.nq, 1);
	{
		struct gw_rs_req extra = { 0 };

		CU_ASSERT_EQUAL(gw_rs_admit(&w[0], &s, &rc, &reps[0], &extra, &extra, gw_dr_resume, GW_RS_NO_IDLE, 0),
		    GW_RS_OVERFLOW);
		gw_rs_req_release(&extra);
	}
	/* worker 1's connection frees up: worker 1's request goes, worker 0's waits */
	nresumed = 0;
	gw_rs_req_release(&r[1]);
	gw_rs_cx_idle(&w[1], &x[1], 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CU_ASSERT_EQUAL(nresumed, 1);
	CU_ASSERT_PTR_EQUAL(resumed[0], &r[3]);
	CU_ASSERT_EQUAL(w[0].rs.nq, 1);
	gw_rs_req_release(&r[3]);
	gw_rs_req_release(&r[2]);
	gw_rs_req_release(&r[0]);
	gw_rs_cx_close(&w[0], &x[0], 1);
	gw_rs_cx_close(&w[1], &x[1], 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CU_ASSERT_EQUAL(cl->rq_pending, 0);
	CU_ASSERT_EQUAL(cl->cx_active, 0);
	gw_rs_worker_free(&w[0]);
	gw_rs_worker_free(&w[1]);
	gw_rs_snap_free(&s);
	gw_rs_ctx_free(&ctx);
}

static uint64_t lrs = 88172645463325252ULL;

static uint64_t
lrnd(void *arg)
{
	(void)arg;
	lrs ^= lrs << 13;
	lrs ^= lrs >> 7;
	lrs ^= lrs << 17;
	return lrs;
}

static void
t_pickers_and_reload(void)
{
	struct gw_ctx ctx;
	struct applier_env env;
	struct gw_snap s, s2;
	struct gw_worker w;
	struct gw_lbstate st;
	struct gw_cl_rt *cl;
	int64_t cur[3];
	uint32_t act[3];
	static const enum gw_lb lbs[] = { GW_LB_ROUND_ROBIN, GW_LB_LEAST_REQUEST, GW_LB_RANDOM,
		GW_LB_RING_HASH };
	size_t i, k;

	rt_setup(&ctx, &env, &s, &w, 3);
	rc.outlier.enabled = 1;
	rc.outlier.consecutive_5xx = 2;
	rc.outlier.interval_ms = 10000;
	rc.outlier.base_ejection_ms = 30000;
	rc.outlier.max_ejection_percent = 100;
	gw_rs_snap_init(&ctx, &s);
	cl = s.crt[0];
	/* two 503s from 10.0.0.2: ejected */
	gw_rs_result(&s, &rc, &reps[1], 503);
	CU_ASSERT_FALSE(s.ert[0][1]->ejected);
	gw_rs_result(&s, &rc, &reps[1], 503);
	CU_ASSERT_TRUE(s.ert[0][1]->ejected);
	CU_ASSERT_EQUAL(cl->od.st.active, 1);
	/* every picker skips it */
	memset(&st, 0, sizeof(st));
	memset(cur, 0, sizeof(cur));
	memset(act, 0, sizeof(act));
	st.cur = cur;
	st.active = act;
	st.n = 3;
	st.shared = s.ert[0];
	st.cl = cl;
	for (k = 0; k < VG_ARRAY_SIZE(lbs); k++) {
		rc.lb = lbs[k];
		for (i = 0; i < 300; i++) {
			const struct gw_endpoint *e = gw_lb_pick(&rc, &st, lrnd, NULL, i * 7919, 1);

			CU_ASSERT_PTR_NOT_NULL_FATAL(e);
			CU_ASSERT_NOT_EQUAL(e->id, 1);
		}
	}
	/* all ejected, panic threshold 0 (Istio's): no host, 503 UH */
	gw_rs_local(&s, &rc, &reps[0], GW_OD_CONNECT_FAILED);
	gw_rs_local(&s, &rc, &reps[0], GW_OD_TIMEOUT);
	gw_rs_result(&s, &rc, &reps[2], 500);
	gw_rs_result(&s, &rc, &reps[2], 500);
	CU_ASSERT_EQUAL(cl->od.st.active, 3);
	rc.lb = GW_LB_ROUND_ROBIN;
	CU_ASSERT_PTR_NULL(gw_lb_pick(&rc, &st, lrnd, NULL, 0, 0));
	/* minHealthPercent 50 with none healthy: panic, every host is used */
	rc.outlier.min_health_percent = 50;
	CU_ASSERT_PTR_NOT_NULL(gw_lb_pick(&rc, &st, lrnd, NULL, 0, 0));
	rc.outlier.min_health_percent = 0;
	gw_hashtab_free(st.ht);
	/* a reload keeps the state by cluster name and address; 10.0.0.3 leaves */
	memset(&s2, 0, sizeof(s2));
	s2.g = &rg;
	rc.neps = 2;
	gw_rs_snap_init(&ctx, &s2);
	CU_ASSERT_PTR_EQUAL(s2.crt[0], cl);
	CU_ASSERT_PTR_EQUAL(s2.ert[0][1], s.ert[0][1]);
	CU_ASSERT_TRUE(s2.ert[0][1]->ejected);
	CU_ASSERT_EQUAL(s2.ert[0][1]->od.num_ejections, 1);
	CU_ASSERT_EQUAL(cl->od.st.active, 2);	/* the removed host's ejection is gone */
	CU_ASSERT_TRUE(s.ert[0][2]->removed);
	/* a late answer from the removed host changes nothing */
	gw_rs_result(&s, &rc, &reps[2], 200);
	CU_ASSERT_EQUAL(cl->od.st.active, 2);
	/* outlierDetection removed: nobody stays ejected */
	gw_rs_snap_free(&s);
	memset(&s, 0, sizeof(s));
	s.g = &rg;
	rc.outlier.enabled = 0;
	gw_rs_snap_init(&ctx, &s);
	CU_ASSERT_FALSE(s.ert[0][1]->ejected);
	CU_ASSERT_EQUAL(cl->od.st.active, 0);
	gw_rs_snap_free(&s2);
	/* the cluster gone: out of the gateway's state */
	memset(&s2, 0, sizeof(s2));
	s2.g = &rg;
	rg.nclusters = 0;
	gw_rs_snap_init(&ctx, &s2);
	CU_ASSERT_EQUAL(ctx.rs_ncls, 0);
	CU_ASSERT_PTR_NULL(gw_rs_cluster_find(&ctx, rc.name));
	gw_rs_snap_free(&s);
	gw_rs_snap_free(&s2);
	gw_rs_ctx_free(&ctx);
}

/* ---- the compile: Istio's mapping and the analyze note ---- */

static const char cb_objs[] =
    "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
    "metadata: {name: gw, namespace: default}\n"
    "spec: {selector: {istio: ingressgateway}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]}\n"
    "---\napiVersion: v1\nkind: Service\nmetadata: {name: pp, namespace: default}\n"
    "spec: {ports: [{port: 9080}]}\n"
    "---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: pp, namespace: default}\n"
    "subsets: [{addresses: [{ip: 10.0.0.1}, {ip: 10.0.0.2}], ports: [{port: 9080}]}]\n"
    "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
    "metadata: {name: pp, namespace: default}\n"
    "spec: {hosts: ['*'], gateways: [gw], http: [{route: [{destination: {host: pp}}]}]}\n"
    "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
    "metadata: {name: pp-cb, namespace: default}\n"
    "spec:\n  host: pp\n  trafficPolicy:\n"
    "    connectionPool: {tcp: {maxConnections: 100, tcpKeepalive: {time: 90s, interval: 15s, probes: 4}}}\n"
    "    outlierDetection: {consecutive5xxErrors: 3, consecutiveGatewayErrors: 2%s}\n";

static const struct gw_cluster *
compile(const char *extra, struct store **stp, struct config **cfgp, struct desired **dp)
{
	static const char cfgyaml[] = "node: {name: node-a}\n";
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	struct live_view live = { 0 };
	char objs[4096];
	size_t i;

	snprintf(objs, sizeof(objs), cb_objs, extra);
	*cfgp = config_parse(cfgyaml, strlen(cfgyaml), "vipgate.yaml", &errs);
	*stp = store_new();
	manifest_decode_buf(objs, strlen(objs), "test.yaml", &errs, &out);
	cu_errs_dump(&errs);
	CU_ASSERT_EQUAL(errs.nerrors, 0);
	for (i = 0; i < out.n; i++)
		if (out.v[i].obj)
			store_put(*stp, object_ref(out.v[i].obj));
	decoded_list_free(&out);
	errs_clear(&errs);
	live.gateway_ready = 1;
	*dp = reconcile(*stp, *cfgp, &live);
	if (*dp == NULL || (*dp)->gw == NULL)
		return NULL;
	for (i = 0; i < (*dp)->gw->nclusters; i++)
		if (strstr((*dp)->gw->clusters[i]->name, "pp.default"))
			return (*dp)->gw->clusters[i];
	return NULL;
}

static int
has_note(const struct gw_desired *g, const char *name, const char *needle)
{
	size_t i;

	for (i = 0; i < g->nnotes; i++)
		if (strcmp(g->notes[i].name, name) == 0 && strstr(g->notes[i].msg, needle))
			return 1;
	return 0;
}

static void
t_compile_and_analyze(void)
{
	struct store *st;
	struct config *cfg;
	struct desired *d;
	const struct gw_cluster *c;

	/* 2 endpoints, maxEjectionPercent unset (10%): can never eject */
	c = compile("", &st, &cfg, &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->outlier.consecutive_gateway, 2);
	CU_ASSERT_TRUE(c->outlier.gateway_enforced);
	CU_ASSERT_EQUAL(c->outlier.max_ejection_percent, 10);
	CU_ASSERT_TRUE(c->tcp_keepalive);
	CU_ASSERT_EQUAL(c->keepalive_time_s, 90);
	CU_ASSERT_EQUAL(c->keepalive_interval_s, 15);
	CU_ASSERT_EQUAL(c->keepalive_probes, 4);
	CU_ASSERT_TRUE(has_note(d->gw, "pp-cb", "never ejects"));
	CU_ASSERT_TRUE(has_note(d->gw, "pp-cb", "set maxEjectionPercent >= 50"));
	CU_ASSERT_FALSE(c->outlier.split_local);
	desired_unref(d);
	store_free(st);
	config_free(cfg);
	/* split mode: consecutiveLocalOriginFailures unset is Envoy's 5 */
	c = compile(", splitExternalLocalOriginErrors: true", &st, &cfg, &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_TRUE(c->outlier.split_local);
	CU_ASSERT_EQUAL(c->outlier.consecutive_local, 5);
	desired_unref(d);
	store_free(st);
	config_free(cfg);
	c = compile(", splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2", &st, &cfg, &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->outlier.consecutive_local, 2);
	desired_unref(d);
	store_free(st);
	config_free(cfg);
	/* 50% on 2 endpoints ejects one: no note */
	c = compile(", maxEjectionPercent: 50", &st, &cfg, &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_FALSE(has_note(d->gw, "pp-cb", "never ejects"));
	desired_unref(d);
	store_free(st);
	config_free(cfg);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "Istio's outlierDetection mapping", t_istio_mapping },
		{ "consecutive 5xx and gateway counters", t_counters },
		{ "gateway errors vs 5xx, enforcement", t_gateway_vs_5xx },
		{ "max ejection percent, strictly", t_max_percent },
		{ "sweep rounding, backoff growth, cap and decay", t_sweep_and_backoff },
		{ "counters reset on un-ejection", t_reset_on_uneject },
		{ "split external/local origin errors", t_split_mode },
		{ "panic threshold", t_panic },
		{ "circuit breakers' accounting and queue", t_breakers },
		{ "breakers under random operations", t_breakers_random },
		{ "breakers shared by two workers", t_breakers_two_workers },
		{ "pickers skip ejected hosts; reloads keep state", t_pickers_and_reload },
		{ "DestinationRule compile and the analyze note", t_compile_and_analyze },
		{ NULL, NULL },
	};
	int rc_;

	base = event_base_new();
	rc_ = cu_run("gw_outlier", tests);
	event_base_free(base);
	return rc_;
}
