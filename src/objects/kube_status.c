/*
 * The Service status writer of the Kubernetes API source: an applier that
 * turns each Service's VIPs into a merge-patch of its
 * status.loadBalancer.ingress, as MetalLB's controller writes it; one
 * write per Service at a time, PATCH_INFLIGHT at most in flight, retried
 * with backoff, and only when the status the API has differs.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kube-int.h"
#include "vipgate/applier.h"
#include "vipgate/ipaddr.h"
#include "vipgate/log.h"
#include "vipgate/reconcile.h"
#include "vipgate/store.h"

#define PATCH_MAX_TRIES		6
#define PATCH_INFLIGHT		16	/* status writes at a time; the rest wait in turn */

static void kick_patch(struct kpatch *);

static void
patch_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	kick_patch(arg);
}

/* The next status write waiting for a turn. */
static void
patch_next(struct kube_source *ks)
{
	while (ks->qhead && ks->npatch_inflight < PATCH_INFLIGHT) {
		struct kpatch *p = ks->qhead;

		ks->qhead = p->qnext;
		if (ks->qhead == NULL)
			ks->qtail = NULL;
		p->qnext = NULL;
		p->queued = 0;
		kick_patch(p);
	}
}

/* A status write ended (kube_http.c): done, or retried, or given up. */
static void
patch_xfer_done(struct kube_xfer *x, CURLcode rc, long code)
{
	struct kpatch *p = x->owner;
	struct kube_source *ks = p->ks;

	ks->npatch_inflight--;
	patch_next(ks);

	if (rc == CURLE_OK && code >= 200 && code < 300) {
		log_info("kubernetes: service %s/%s: status written", p->ns, p->name);
		ks->patches_ok++;
		p->tries = 0;
		if (p->want && strcmp(p->want, p->inflight) == 0) {
			free(p->want);
			p->want = NULL;
		}
		free(p->inflight);
		p->inflight = NULL;
		if (p->want)
			kick_patch(p);
		return;
	}
	if (rc != CURLE_OK)
		kube_http_error(&ks->http, "service %s/%s: status: %s", p->ns, p->name,
		    p->x.errbuf[0] ? p->x.errbuf : curl_easy_strerror(rc));
	else {
		char *m = kube_status_message(p->x.body, p->x.nbody);

		kube_http_error(&ks->http, "service %s/%s: status: HTTP %ld%s%s", p->ns, p->name,
		    code, m ? ": " : "", m ? m : "");
		free(m);
	}
	free(p->inflight);
	p->inflight = NULL;
	if (code == 404 || code == 422 || ++p->tries >= PATCH_MAX_TRIES) {
		/* gone, refused, or tried enough: the next change asks again */
		log_warnx("kubernetes: %s; giving up", ks->http.last_error);
		ks->patches_failed++;
		free(p->want);
		p->want = NULL;
		p->tries = 0;
		return;
	}
	log_warnx("kubernetes: %s; retrying", ks->http.last_error);
	kube_timer_in(p->ev_retry, kube_http_backoff_ms(p->tries + 2));
}

static void
kick_patch(struct kpatch *p)
{
	struct kube_source *ks = p->ks;
	char *url;

	if (p->inflight || p->queued || p->want == NULL || evtimer_pending(p->ev_retry, NULL))
		return;
	if (ks->npatch_inflight >= PATCH_INFLIGHT) {
		p->queued = 1;
		if (ks->qtail)
			ks->qtail->qnext = p;
		else
			ks->qhead = p;
		ks->qtail = p;
		return;
	}
	ks->npatch_inflight++;
	p->inflight = xstrdup(p->want);
	xasprintf(&url, "%s/api/v1/namespaces/%s/services/%s/status", ks->http.auth.server,
	    p->ns, p->name);
	kube_http_prepare(&ks->http, &p->x, url);
	p->x.hdrs = curl_slist_append(p->x.hdrs, "Content-Type: application/merge-patch+json");
	curl_easy_setopt(p->x.easy, CURLOPT_HTTPHEADER, p->x.hdrs);
	curl_easy_setopt(p->x.easy, CURLOPT_CUSTOMREQUEST, "PATCH");
	curl_easy_setopt(p->x.easy, CURLOPT_POSTFIELDS, p->inflight);
	curl_easy_setopt(p->x.easy, CURLOPT_TIMEOUT_MS, 30000L);
	log_debug("kubernetes: PATCH %s %s", url, p->inflight);
	free(url);
	kube_http_start(&ks->http, &p->x);
}

static struct kpatch *
patch_get(struct kube_source *ks, const char *ns, const char *name, int add)
{
	uint64_t h = hash_str(hash_str(HASH_INIT, ns), name) % PATCH_BUCKETS;
	struct kpatch *p;

	for (p = ks->patches[h]; p; p = p->next)
		if (strcmp(p->ns, ns) == 0 && strcmp(p->name, name) == 0)
			return p;
	if (!add)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->ks = ks;
	p->ns = xstrdup(ns);
	p->name = xstrdup(name);
	p->ev_retry = evtimer_new(ks->http.base, patch_retry_cb, p);
	p->x.done = patch_xfer_done;
	p->x.owner = p;
	p->next = ks->patches[h];
	ks->patches[h] = p;
	return p;
}

/* Whether the Service's status already says exactly ips. */
static int
status_says(const struct object *o, const char *const *ips, size_t n)
{
	const struct k_service *s = OBJ_SPEC(o, k_service);
	size_t i;

	if (s->nstatus_ingress_ips != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!str_eq(s->status_ingress_ips[i], ips[i]))
			return 0;
	return 1;
}

static void
status_want(struct kube_source *ks, const char *ns, const char *name,
    const char *const *ips, size_t n)
{
	struct object *o = store_get(ks->store, K_SERVICE, ns, name);
	struct kpatch *p;
	char *body;

	/* only Services the API has; a file's Service has no status to write */
	if (o == NULL || !o->from_api)
		return;
	p = patch_get(ks, ns, name, 0);
	if (status_says(o, ips, n)) {
		if (p && p->want) {
			free(p->want);
			p->want = NULL;
		}
		return;
	}
	body = kube_status_body(ips, n);
	if (p && ((p->inflight && strcmp(p->inflight, body) == 0) ||
	    (p->want && strcmp(p->want, body) == 0))) {
		free(body);
		return;
	}
	p = patch_get(ks, ns, name, 1);
	free(p->want);
	p->want = body;
	p->tries = 0;
	kick_patch(p);
}

static int
status_apply(struct applier *a, const struct desired *old, const struct desired *new)
{
	struct kube_source *ks = a->ctx;
	char b[2][IPADDR_STRLEN];
	size_t i, j;

	/* a node that leaves does not take the VIPs away from the others:
	 * the status stays as it is (MetalLB's speakers never write it) */
	if (ks->draining)
		return 0;

	for (i = 0; i < new->nsvcs; i++) {
		const struct svc_state *s = &new->svcs[i];
		const struct svc_state *o = desired_find_svc(old, s->ns, s->name);
		const char *ips[2];

		for (j = 0; j < s->nvips && j < 2; j++)
			ips[j] = ipaddr_fmt(&s->vips[j], b[j]);
		/* a pending Service's status is cleared only when it had a VIP */
		if (s->nvips == 0 && (o == NULL || o->nvips == 0))
			continue;
		status_want(ks, s->ns, s->name, ips, s->nvips);
	}
	for (i = 0; i < old->nsvcs; i++) {
		const struct svc_state *o = &old->svcs[i];

		if (o->nvips && desired_find_svc(new, o->ns, o->name) == NULL)
			status_want(ks, o->ns, o->name, NULL, 0);
	}
	return 0;
}

static int64_t
status_drain(struct applier *a)
{
	struct kube_source *ks = a->ctx;

	ks->draining = 1;
	return 0;
}

static void
status_free(struct applier *a)
{
	struct kube_source *ks = a->ctx;

	ks->status_applier = NULL;
	free(a);
}

struct applier *
ksrc_status_applier(struct kube_source *ks)
{
	struct applier *a = xcalloc(1, sizeof(*a));

	a->name = "kubernetes-status";
	a->ctx = ks;
	a->apply = status_apply;
	a->free = status_free;
	a->drain = status_drain;
	ks->status_applier = a;
	return a;
}

void
kube_status_free(struct kube_source *ks)
{
	size_t i;

	for (i = 0; i < PATCH_BUCKETS; i++) {
		struct kpatch *p, *n;

		for (p = ks->patches[i]; p; p = n) {
			n = p->next;
			kube_http_cancel(&ks->http, &p->x);
			event_free(p->ev_retry);
			free(p->ns);
			free(p->name);
			free(p->want);
			free(p->inflight);
			free(p);
		}
	}
}
