/*
 * Envoy's outlier detection, consecutive-error detectors only (Istio
 * always sets enforcing_success_rate to 0): the counting of
 * DetectorHostMonitorImpl::putHttpResponseCode, the ejection decision of
 * DetectorImpl::ejectHost and the un-ejection of onIntervalTimer
 * (source/common/upstream/outlier_detection_impl.cc).
 */
#include "config.h"

#include "gw-outlier.h"

void
gw_od_cfg_from(struct gw_od_cfg *c, const struct gw_outlier *o)
{
	/*
	 * Istio (cluster_traffic_policy.go): consecutive5xxErrors sets
	 * consecutive_5xx and enforcing 100 when > 0, else 0; Envoy's defaults
	 * otherwise are 5 and 100. consecutiveGatewayErrors likewise; unset,
	 * Envoy's detector still counts to its default of 5 but enforces 0%.
	 */
	c->consecutive_5xx = o->consecutive_5xx > 0 ? (uint32_t)o->consecutive_5xx : 0;
	c->enforce_5xx = o->consecutive_5xx > 0;
	c->consecutive_gw = o->consecutive_gateway > 0 ? (uint32_t)o->consecutive_gateway : 0;
	c->enforce_gw = o->consecutive_gateway > 0 && o->gateway_enforced;
	c->split = o->split_local;
	c->consecutive_local = o->consecutive_local > 0 ? (uint32_t)o->consecutive_local : 5;
	c->interval_ms = o->interval_ms > 0 ? o->interval_ms : 10000;
	c->base_ms = o->base_ejection_ms > 0 ? o->base_ejection_ms : 30000;
	c->max_ms = c->base_ms > GW_OD_MAX_EJECTION_MS ? c->base_ms : GW_OD_MAX_EJECTION_MS;
	c->jitter_ms = 0;
	c->max_percent = o->max_ejection_percent > 100 ? 100 :
	    o->max_ejection_percent < 0 ? 0 : (uint32_t)o->max_ejection_percent;
	c->min_health = o->min_health_percent > 100 ? 100 :
	    o->min_health_percent < 0 ? 0 : (uint32_t)o->min_health_percent;
}

int
gw_od_local_code(enum gw_od_local r)
{
	/* DetectorHostMonitorImpl::resultToHttpCode */
	switch (r) {
	case GW_OD_CONNECT_FAILED:
		return 503;
	case GW_OD_TIMEOUT:
		return 504;
	case GW_OD_CONNECT_SUCCESS:
		return 200;
	case GW_OD_REQUEST_FAILED:
	default:
		return 500;
	}
}

unsigned
gw_od_count(const struct gw_od_cfg *c, struct gw_od_host *h, int code)
{
	unsigned ev = 0;

	if (code < 500 || code > 599) {
		h->c5xx = h->cgw = 0;
		return 0;
	}
	/* equality, not >=: past the threshold (the event was ignored, the
	 * host being ejected) nothing fires until a reset */
	if (code == 502 || code == 503 || code == 504) {
		if (++h->cgw == c->consecutive_gw)
			ev |= GW_OD_GATEWAY;
	} else
		h->cgw = 0;
	if (++h->c5xx == c->consecutive_5xx)
		ev |= GW_OD_5XX;
	return ev;
}

enum gw_od_verdict
gw_od_event(struct gw_od *d, struct gw_od_host *h, size_t nhosts, enum gw_od_type type,
    int64_t now_ms, uint64_t rnd)
{
	const struct gw_od_cfg *c = &d->cfg;
	int enforce;

	if (h->ejected)
		return GW_OD_IGNORED;
	/* the counter is reset so that a new bout is seen even without a success between */
	if (type == GW_OD_5XX) {
		d->st.detected_5xx++;
		h->c5xx = 0;
		enforce = c->enforce_5xx;
	} else if (type == GW_OD_LOCAL) {
		d->st.detected_local++;
		h->cloc = 0;
		enforce = 1;
	} else {
		d->st.detected_gw++;
		h->cgw = 0;
		enforce = c->enforce_gw;
	}
	/*
	 * ejectHost: the percentage counts this host too, over all hosts, and
	 * must not pass max_ejection_percent (since envoy PR #27909 the first
	 * host is not ejected regardless: always_eject_one_host is off). The
	 * check comes before enforcement, so a detected but unenforced event
	 * also counts an overflow, as Envoy's does.
	 */
	if (nhosts == 0 || 100 * ((uint64_t)d->st.active + 1) > (uint64_t)c->max_percent * nhosts) {
		d->st.overflow++;
		return GW_OD_OVERFLOW;
	}
	if (!enforce)
		return GW_OD_NOT_ENFORCED;
	d->st.active++;
	d->st.enforced_total++;
	if (type == GW_OD_5XX)
		d->st.enforced_5xx++;
	else if (type == GW_OD_LOCAL)
		d->st.enforced_local++;
	else
		d->st.enforced_gw++;
	h->ejected = 1;
	h->num_ejections++;
	h->last_ejection_ms = now_ms;
	h->jitter_ms = (int64_t)(rnd % (uint64_t)(c->jitter_ms + 1));
	/* the ejection time grows by one base per ejection, up to the maximum */
	if ((int64_t)h->backoff * c->base_ms < c->max_ms + c->base_ms)
		h->backoff++;
	return GW_OD_EJECTED;
}

enum gw_od_verdict
gw_od_report(struct gw_od *d, struct gw_od_host *h, size_t nhosts, int code, int64_t now_ms,
    uint64_t rnd)
{
	unsigned ev = gw_od_count(&d->cfg, h, code);
	enum gw_od_verdict v = GW_OD_NOTHING;

	/* putHttpResponseCode posts the gateway event before the 5xx one */
	if (ev & GW_OD_GATEWAY)
		v = gw_od_event(d, h, nhosts, GW_OD_GATEWAY, now_ms, rnd);
	if (ev & GW_OD_5XX) {
		enum gw_od_verdict v2 = gw_od_event(d, h, nhosts, GW_OD_5XX, now_ms, rnd);

		if (v2 > v)
			v = v2;
	}
	return v;
}

enum gw_od_verdict
gw_od_local(struct gw_od *d, struct gw_od_host *h, size_t nhosts, enum gw_od_local r,
    int64_t now_ms, uint64_t rnd)
{
	if (!d->cfg.split) {
		/* default mode: a connection success says nothing about the answer */
		if (r == GW_OD_CONNECT_SUCCESS)
			return GW_OD_NOTHING;
		return gw_od_report(d, h, nhosts, gw_od_local_code(r), now_ms, rnd);
	}
	/* split mode (putResultWithLocalExternalSplit): connect failures and
	 * timeouts have a counter of their own; the answers' codes keep theirs */
	switch (r) {
	case GW_OD_CONNECT_SUCCESS:
		h->cloc = 0;
		return GW_OD_NOTHING;
	case GW_OD_CONNECT_FAILED:
	case GW_OD_TIMEOUT:
		if (++h->cloc == d->cfg.consecutive_local)
			return gw_od_event(d, h, nhosts, GW_OD_LOCAL, now_ms, rnd);
		return GW_OD_NOTHING;
	case GW_OD_REQUEST_FAILED:
	default:
		return gw_od_report(d, h, nhosts, 500, now_ms, rnd);
	}
}

int64_t
gw_od_ejection_ms(const struct gw_od_cfg *c, const struct gw_od_host *h)
{
	int64_t t = c->base_ms * (int64_t)h->backoff;

	return (t < c->max_ms ? t : c->max_ms) + h->jitter_ms;
}

void
gw_od_uneject(struct gw_od *d, struct gw_od_host *h, int64_t now_ms)
{
	if (!h->ejected)
		return;
	if (d->st.active)
		d->st.active--;
	h->ejected = 0;
	/* no re-ejection on a few new errors after a counter left near its trigger */
	h->c5xx = h->cgw = h->cloc = 0;
	h->last_unejection_ms = now_ms;
	h->unejected_once = 1;
}

size_t
gw_od_sweep(struct gw_od *d, struct gw_od_host **hosts, size_t n, int64_t now_ms)
{
	size_t i, un = 0;

	for (i = 0; i < n; i++) {
		struct gw_od_host *h = hosts[i];

		if (h == NULL)
			continue;
		if (!h->ejected) {
			/* healthy for an interval since its last un-ejection: one step back */
			if (h->unejected_once && now_ms - h->last_unejection_ms >= d->cfg.interval_ms &&
			    h->backoff)
				h->backoff--;
			continue;
		}
		/* checked only here: the time ejected is rounded up to a sweep */
		if (now_ms - h->last_ejection_ms >= gw_od_ejection_ms(&d->cfg, h)) {
			gw_od_uneject(d, h, now_ms);
			un++;
		}
	}
	return un;
}

void
gw_od_host_removed(struct gw_od *d, struct gw_od_host *h)
{
	if (h->ejected && d->st.active)
		d->st.active--;
	h->ejected = 0;
}

int
gw_od_panic(uint32_t min_health, size_t nhealthy, size_t ntotal)
{
	/* 100 * healthy / total < threshold, in integers; no hosts is 0% healthy */
	if (min_health == 0)
		return 0;
	return ntotal == 0 || 100 * (uint64_t)nhealthy < (uint64_t)min_health * ntotal;
}
