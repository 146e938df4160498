/*
 * The Service status writer of the Kubernetes API source: an applier that
 * turns each Service's VIPs into a merge-patch of its
 * status.loadBalancer.ingress, as MetalLB's controller writes it; one
 * write per Service at a time, PATCH_INFLIGHT at most in flight, retried
 * with backoff, and only when the status the API has differs. Only the
 * node that holds the Lease writes (kube_lease.c); it also writes the
 * Events MetalLB writes on a Service (kube_events.c): IPAllocated when it
 * writes a Service's VIPs, AllocationFailed with the reason, nodeAssigned
 * with the node that answers ARP/NDP for it (layer2) and, when the leader
 * itself announces it by BGP, with the leader (bgp). Each is written once
 * for each change, not on every reconcile.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kube-int.h"
#include "vipgate/applier.h"
#include "vipgate/ipaddr.h"
#include "vipgate/l2-t.h"
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

	if (p->inflight || p->queued || p->want == NULL || evtimer_pending(p->ev_retry, NULL) ||
	    !ks->el.leading)
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
	p->x.verb = "patch";
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

/* Returns 1 when the API's status differs: a write is due. */
static int
status_want(struct kube_source *ks, const struct object *o, const char *const *ips, size_t n)
{
	struct kpatch *p;
	char *body;

	p = patch_get(ks, o->meta.ns, o->meta.name, 0);
	if (status_says(o, ips, n)) {
		if (p && p->want) {
			free(p->want);
			p->want = NULL;
		}
		return 0;
	}
	body = kube_status_body(ips, n);
	if (p && ((p->inflight && strcmp(p->inflight, body) == 0) ||
	    (p->want && strcmp(p->want, body) == 0))) {
		free(body);
		return 1;
	}
	p = patch_get(ks, o->meta.ns, o->meta.name, 1);
	free(p->want);
	p->want = body;
	p->tries = 0;
	kick_patch(p);
	return 1;
}

/*
 * An Event, unless the last one of its kind on the Service said the same.
 * msg NULL: nothing to say now ("" remembers that something was said
 * before, so that the same Event again is a refresh, not a repeat).
 */
static void
event_once(struct kube_source *ks, const struct object *o, char **last, const char *reason,
    int warning, const char *msg)
{
	int again = *last != NULL;

	if (msg == NULL) {
		if (*last && **last) {
			free(*last);
			*last = xstrdup("");
		}
		return;
	}
	if (*last && strcmp(*last, msg) == 0)
		return;
	free(*last);
	*last = xstrdup(msg);
	kube_event_emit(ks, o->meta.ns, o->meta.name, o->meta.uid, reason, warning, msg, again);
}

/* l2's VIPs are sorted by VIP, then Service (reconcile's l2 plan). */
static int
l2_vip_cmp(const void *key, const void *elt)
{
	const struct svc_state *s = key;
	const struct l2_vip *v = elt;
	int r = ipaddr_cmp(&s->vips[0], &v->vip);

	if (r == 0)
		r = strcmp(s->ns, v->ns);
	if (r == 0)
		r = strcmp(s->name, v->name);
	return r;
}

/* The node that answers ARP/NDP for the Service's first VIP, or NULL. */
static const char *
l2_owner(const struct desired *d, const struct svc_state *s)
{
	const struct l2_vip *v;

	if (d->l2 == NULL || d->l2->nvips == 0 || s->nvips == 0)
		return NULL;
	v = bsearch(s, d->l2->vips, d->l2->nvips, sizeof(*d->l2->vips), l2_vip_cmp);
	return v ? v->owner : NULL;
}

/* The status and the Events of one Service of the new state (leader only). */
static void
service_write(struct kube_source *ks, const struct desired *new, const struct svc_state *s,
    const struct svc_state *old)
{
	const struct object *o = store_get(ks->store, K_SERVICE, s->ns, s->name);
	char b[2][IPADDR_STRLEN], *msg;
	const char *ips[2], *owner;
	struct kpatch *p;
	size_t j;
	int due = 0;

	/* only Services the API has; a file's Service has no status to write */
	if (o == NULL || !o->from_api)
		return;
	for (j = 0; j < s->nvips && j < 2; j++)
		ips[j] = ipaddr_fmt(&s->vips[j], b[j]);
	/* a pending Service's status is cleared only when it had a VIP */
	if (s->nvips > 0 || (old && old->nvips > 0))
		due = status_want(ks, o, ips, s->nvips);
	p = patch_get(ks, s->ns, s->name, 1);
	if (s->nvips > 0) {
		/* as MetalLB's controller: Assigned IP ["192.168.1.200"] */
		if (s->nvips > 1)
			xasprintf(&msg, "Assigned IP [\"%s\" \"%s\"]", ips[0], ips[1]);
		else
			xasprintf(&msg, "Assigned IP [\"%s\"]", ips[0]);
		/* written with the status: a restart finds the status said, and is quiet */
		if (due)
			event_once(ks, o, &p->ev_alloc, "IPAllocated", 0, msg);
		else if (p->ev_alloc == NULL)
			p->ev_alloc = xstrdup(msg);
		free(msg);
		event_once(ks, o, &p->ev_fail, "AllocationFailed", 1, NULL);
	} else if (s->pending) {
		xasprintf(&msg, "Failed to allocate IP for \"%s/%s\": %s", s->ns, s->name,
		    s->pending);
		event_once(ks, o, &p->ev_fail, "AllocationFailed", 1, msg);
		free(msg);
		event_once(ks, o, &p->ev_alloc, "IPAllocated", 0, NULL);
	}
	/* who announces it, as MetalLB's speakers say: nodeAssigned */
	msg = NULL;
	if (s->nvips > 0 && (owner = l2_owner(new, s)) != NULL)
		xasprintf(&msg, "announcing from node \"%s\" with protocol \"layer2\"", owner);
	event_once(ks, o, &p->ev_l2, "nodeAssigned", 0, msg);
	free(msg);
	msg = NULL;
	if (s->nvips > 0 && (s->announce & ANNOUNCE_BGP))
		xasprintf(&msg, "announcing from node \"%s\" with protocol \"bgp\"", ks->node);
	event_once(ks, o, &p->ev_bgp, "nodeAssigned", 0, msg);
	free(msg);
}

static int
status_apply(struct applier *a, const struct desired *old, const struct desired *new)
{
	struct kube_source *ks = a->ctx;
	size_t i;

	/* every node, the leader or not: what the status says once written */
	desired_unref(ks->applied);
	ks->applied = desired_ref((struct desired *)new);

	/* a node that leaves does not take the VIPs away from the others:
	 * the status stays as it is (MetalLB's speakers never write it);
	 * and only the Lease's holder writes */
	if (ks->draining || !ks->el.leading)
		return 0;

	for (i = 0; i < new->nsvcs; i++)
		service_write(ks, new, &new->svcs[i], desired_find_svc(old, new->svcs[i].ns,
		    new->svcs[i].name));
	for (i = 0; i < old->nsvcs; i++) {
		const struct svc_state *o = &old->svcs[i];
		const struct object *so;

		if (o->nvips && desired_find_svc(new, o->ns, o->name) == NULL &&
		    (so = store_get(ks->store, K_SERVICE, o->ns, o->name)) != NULL &&
		    so->from_api)
			(void)status_want(ks, so, NULL, 0);
	}
	return 0;
}

static int64_t
status_drain(struct applier *a)
{
	struct kube_source *ks = a->ctx;

	ks->draining = 1;
	kube_lease_release(ks);
	return 0;
}

static void
status_metrics(struct applier *a, struct vg_buf *out)
{
	kube_metrics(a->ctx, out);
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
	a->metrics = status_metrics;
	ks->status_applier = a;
	return a;
}

/*
 * The Lease was gained: a reconcile makes the writes that are due (the
 * status of every Service is compared with the API's). Lost: every write
 * waiting or in flight goes, at once, before another node may take over.
 */
void
kube_status_leader_changed(struct kube_source *ks)
{
	size_t i;

	if (ks->el.leading) {
		if (ks->changed)
			ks->changed(ks->changed_arg, 0);
		return;
	}
	kube_events_drop(ks);
	for (i = 0; i < PATCH_BUCKETS; i++) {
		struct kpatch *p;

		for (p = ks->patches[i]; p; p = p->next) {
			if (p->inflight) {
				kube_http_cancel(&ks->http, &p->x);
				p->x.easy = NULL;
				p->x.hdrs = NULL;
				free(p->inflight);
				p->inflight = NULL;
				ks->npatch_inflight--;
			}
			free(p->want);
			p->want = NULL;
			p->queued = 0;
			p->qnext = NULL;
			p->tries = 0;
			evtimer_del(p->ev_retry);
		}
	}
	ks->qhead = ks->qtail = NULL;
}

void
kube_status_free(struct kube_source *ks)
{
	size_t i;

	desired_unref(ks->applied);
	ks->applied = NULL;
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
			free(p->ev_alloc);
			free(p->ev_fail);
			free(p->ev_l2);
			free(p->ev_bgp);
			free(p);
		}
	}
}
