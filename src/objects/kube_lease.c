/*
 * One writer among the nodes, I/O half: the Lease read and written every
 * retry period, as client-go's leader election does (the decision is
 * kube_elect_decide's, kube_elect.c). Every write is an update conditioned
 * on the resourceVersion read (a create when there is none): two nodes
 * that race get one 200 and one 409, never two holders. The holder
 * renews without reading first; a 409 sends it back to reading.
 *
 * Gaining the Lease asks for a reconcile (the status writer then writes
 * what is due); losing it, or not renewing it for the renew deadline,
 * calls ks->leader_changed at once, which stops every write in flight.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

#include "kube-int.h"
#include "vipgate/log.h"

#define LEASE_REQ_TIMEOUT_MS	5000
#define LEASE_MAX_BODY		(1u << 20)

static void lease_tick(evutil_socket_t, short, void *);

static int64_t
wall_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* client-go's JitterUntil: the retry period plus up to 20% */
static void
lease_again(struct kube_elector *el, int64_t ms)
{
	kube_timer_in(el->ev_tick, ms + (ms > 0 ? (int64_t)(random() % (ms / 5 + 1)) : 0));
}

static void
set_leading(struct kube_elector *el, int leading, const char *why)
{
	struct kube_source *ks = el->ks;

	if (el->leading == leading)
		return;
	el->leading = leading;
	if (leading) {
		el->acquired++;
		el->leading_since = wall_ms();
		log_info("kubernetes: lease %s/%s: %s holds it now (%s); "
		    "this node writes Service status and Events", el->ns, el->name, el->me, why);
	} else {
		el->lost++;
		evtimer_del(el->ev_deadline);
		log_warnx("kubernetes: lease %s/%s: %s no longer holds it (%s); "
		    "it stops writing", el->ns, el->name, el->me, why);
	}
	if (ks->leader_changed)
		ks->leader_changed(ks);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_elector *el = arg;

	if (el->leading && now_ms() - el->renewed_ms >= KUBE_LEASE_RENEW_DEADLINE_MS)
		set_leading(el, 0, "not renewed within the renew deadline");
}

/* The record as read or written: note when it changed, on our clock. */
static void
observe(struct kube_elector *el, struct kube_lease *l)
{
	if (el->cur.rv == NULL || strcmp(el->cur.rv, l->rv) != 0)
		el->observed_ms = now_ms();
	if (!str_eq(el->holder_seen, l->holder)) {
		log_info("kubernetes: lease %s/%s: held by %s", el->ns, el->name,
		    l->holder && *l->holder ? l->holder : "nobody");
		free(el->holder_seen);
		el->holder_seen = l->holder ? xstrdup(l->holder) : NULL;
	}
	kube_lease_free(&el->cur);
	el->cur = *l;
	el->exists = 1;
}

static size_t
lease_write_cb(char *p, size_t sz, size_t nm, void *arg)
{
	struct kube_elector *el = arg;
	size_t n = sz * nm;

	if (el->rx.len + n > LEASE_MAX_BODY)
		return 0;
	buf_append(&el->rx, p, n);
	return n;
}

static void
lease_request(struct kube_elector *el, const char *method, int item, char *body)
{
	struct kube_source *ks = el->ks;
	char *url;

	if (item)
		xasprintf(&url, "%s/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s",
		    ks->http.auth.server, el->ns, el->name);
	else
		xasprintf(&url, "%s/apis/coordination.k8s.io/v1/namespaces/%s/leases",
		    ks->http.auth.server, el->ns);
	el->rx.len = 0;
	kube_http_prepare(&ks->http, &el->x, url);
	curl_easy_setopt(el->x.easy, CURLOPT_WRITEFUNCTION, lease_write_cb);
	curl_easy_setopt(el->x.easy, CURLOPT_WRITEDATA, el);
	curl_easy_setopt(el->x.easy, CURLOPT_TIMEOUT_MS, (long)LEASE_REQ_TIMEOUT_MS);
	free(el->wbody);
	el->wbody = body;
	el->writing = body != NULL;
	if (body) {
		el->x.hdrs = curl_slist_append(el->x.hdrs, "Content-Type: application/json");
		curl_easy_setopt(el->x.easy, CURLOPT_HTTPHEADER, el->x.hdrs);
		curl_easy_setopt(el->x.easy, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(el->x.easy, CURLOPT_POSTFIELDS, body);
		el->x.verb = item ? "update" : "create";
	} else
		el->x.verb = "get";
	log_debug("kubernetes: %s %s%s%s", method, url, body ? " " : "", body ? body : "");
	free(url);
	kube_http_start(&ks->http, &el->x);
}

/* Write the Lease as its holder: create, take over or renew. */
static void
lease_write(struct kube_elector *el, enum kube_elect_act act)
{
	char now[40], *body;
	int trans = el->cur.transitions;
	const char *acq = el->cur.acquire_time;

	kube_time_fmt(wall_ms(), 1, now, sizeof(now));
	if (act != KE_RENEW) {
		acq = now;
		if (act == KE_TAKE)
			trans++;
	}
	body = kube_lease_body(el->ns, el->name, act == KE_CREATE ? NULL : el->cur.rv, el->me,
	    KUBE_LEASE_DURATION_MS / 1000, acq, now, act == KE_CREATE ? 0 : trans);
	lease_request(el, act == KE_CREATE ? "POST" : "PUT", act != KE_CREATE, body);
}

/* With the record read (or known absent): what to do. */
static void
lease_decide(struct kube_elector *el)
{
	struct kube_elect_in in = {
		.exists = el->exists,
		.holder = el->cur.holder,
		.duration_ms = (int64_t)el->cur.duration_s * 1000,
		.observed_ms = el->observed_ms,
		.now = now_ms(),
		.me = el->me,
		.leading = el->leading,
		.renewed_ms = el->renewed_ms,
		.renew_deadline_ms = KUBE_LEASE_RENEW_DEADLINE_MS,
	};
	enum kube_elect_act act = kube_elect_decide(&in);

	if (act == KE_STEP_DOWN) {
		set_leading(el, 0, el->exists && !str_eq(el->cur.holder, el->me) ?
		    "another node holds it" : "not renewed within the renew deadline");
		in.leading = 0;
		act = kube_elect_decide(&in);
	}
	if (act == KE_WAIT) {
		lease_again(el, KUBE_LEASE_RETRY_MS);
		return;
	}
	lease_write(el, act);
}

static void
lease_done(struct kube_xfer *x, CURLcode rc, long code)
{
	struct kube_elector *el = x->owner;
	struct kube_source *ks = el->ks;
	struct kube_lease l;
	const char *err;
	int writing = el->writing;

	el->writing = 0;
	if (el->releasing) {
		if (rc == CURLE_OK && code == 200)
			log_info("kubernetes: lease %s/%s: given up", el->ns, el->name);
		return;
	}
	if (rc == CURLE_OK && code == 404 && (!writing || strcmp(el->x.verb, "update") == 0)) {
		/* no Lease (yet, or any more): create it; a create answered 404
		 * (no such namespace) is an error below, asked again later */
		kube_lease_free(&el->cur);
		el->exists = 0;
		lease_decide(el);
		return;
	}
	if (rc == CURLE_OK && code == 409 && writing) {
		/* another node wrote it first: read it again */
		el->conflicts++;
		log_info("kubernetes: lease %s/%s: another node wrote it first (409)", el->ns,
		    el->name);
		kube_lease_free(&el->cur);
		el->exists = 0;
		lease_request(el, "GET", 1, NULL);
		return;
	}
	if (rc != CURLE_OK || code < 200 || code >= 300 ||
	    kube_lease_decode(el->rx.s, el->rx.len, &l, &err) == -1) {
		if (rc != CURLE_OK)
			kube_http_error(&ks->http, "lease %s/%s: %s", el->ns, el->name,
			    el->x.errbuf[0] ? el->x.errbuf : curl_easy_strerror(rc));
		else if (code < 200 || code >= 300) {
			char *m = kube_status_message(el->rx.s, el->rx.len);

			kube_http_error(&ks->http, "lease %s/%s: HTTP %ld%s%s", el->ns, el->name,
			    code, m ? ": " : "", m ? m : "");
			free(m);
		} else
			kube_http_error(&ks->http, "lease %s/%s: %s", el->ns, el->name, err);
		log_warnx("kubernetes: %s", ks->http.last_error);
		/* the renew deadline stops a holder that keeps failing (deadline_cb) */
		lease_again(el, KUBE_LEASE_RETRY_MS);
		return;
	}
	observe(el, &l);
	if (writing) {
		el->renewed_ms = now_ms();
		kube_timer_in(el->ev_deadline, KUBE_LEASE_RENEW_DEADLINE_MS);
		set_leading(el, 1, el->cur.transitions ? "took it over" : "acquired");
		lease_again(el, KUBE_LEASE_RETRY_MS);
		return;
	}
	lease_decide(el);
}

static void
lease_tick(evutil_socket_t fd, short what, void *arg)
{
	struct kube_elector *el = arg;

	if (el->x.easy || el->releasing)
		return;
	/* the holder renews from what it wrote; a candidate reads first */
	if (el->leading && el->exists)
		lease_decide(el);
	else
		lease_request(el, "GET", 1, NULL);
}

void
kube_lease_start(struct kube_source *ks, const char *ns, const char *me)
{
	struct kube_elector *el = &ks->el;

	el->ks = ks;
	el->ns = xstrdup(ns);
	el->name = xstrdup(KUBE_LEASE_NAME);
	el->me = xstrdup(me);
	el->x.done = lease_done;
	el->x.owner = el;
	el->ev_tick = evtimer_new(ks->http.base, lease_tick, el);
	el->ev_deadline = evtimer_new(ks->http.base, deadline_cb, el);
	log_info("kubernetes: lease %s/%s: %s is a candidate (duration %d s, renew deadline "
	    "%d s, retry %d s)", el->ns, el->name, el->me, KUBE_LEASE_DURATION_MS / 1000,
	    KUBE_LEASE_RENEW_DEADLINE_MS / 1000, KUBE_LEASE_RETRY_MS / 1000);
	lease_again(el, 0);
}

/*
 * Draining: stop writing, and give the Lease up (client-go's
 * ReleaseOnCancel: no holder, a 1 s duration) so that another node takes
 * over within a retry period rather than a lease duration.
 */
void
kube_lease_release(struct kube_source *ks)
{
	struct kube_elector *el = &ks->el;
	int was = el->leading;
	char now[40];

	if (el->ns == NULL || el->releasing)
		return;
	set_leading(el, 0, "draining");
	el->releasing = 1;
	evtimer_del(el->ev_tick);
	if (!was || !el->exists)
		return;
	kube_http_cancel(&ks->http, &el->x);
	el->x.easy = NULL;
	el->x.hdrs = NULL;
	kube_time_fmt(wall_ms(), 1, now, sizeof(now));
	lease_request(el, "PUT", 1, kube_lease_body(el->ns, el->name, el->cur.rv, NULL, 1,
	    now, now, el->cur.transitions));
}

void
kube_lease_free_state(struct kube_source *ks)
{
	struct kube_elector *el = &ks->el;

	if (el->ns == NULL)
		return;
	kube_http_cancel(&ks->http, &el->x);
	event_free(el->ev_tick);
	event_free(el->ev_deadline);
	kube_lease_free(&el->cur);
	buf_free(&el->rx);
	free(el->wbody);
	free(el->ns);
	free(el->name);
	free(el->me);
	free(el->holder_seen);
}

json_t *
kube_lease_status(const struct kube_source *ks)
{
	const struct kube_elector *el = &ks->el;
	char since[40] = "";

	if (el->leading)
		kube_time_fmt(el->leading_since, 0, since, sizeof(since));
	return json_pack("{s:s,s:s,s:s,s:b,s:o,s:o,s:I,s:I,s:I}",
	    "namespace", el->ns, "name", el->name, "identity", el->me,
	    "leader", el->leading,
	    "holder", el->cur.holder && *el->cur.holder ? json_string(el->cur.holder) : json_null(),
	    "leader_since", el->leading ? json_string(since) : json_null(),
	    "acquired", (json_int_t)el->acquired, "lost", (json_int_t)el->lost,
	    "conflicts", (json_int_t)el->conflicts);
}
