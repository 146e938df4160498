/*
 * The Event writer of the Kubernetes API source: the Events the leader
 * writes on Services (kube_status.c says which), core/v1, EVENT_INFLIGHT
 * at a time, the rest waiting in turn. An Event's name is the same for the
 * same Service, reason and message (kube_event_name): one written again
 * after a restart or a change of leader is answered 409 and counted as a
 * repeat, not written twice. A failed write is not retried: an Event is a
 * note, and the next change writes the next one.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "kube-int.h"
#include "vipgate/log.h"

#define EVENT_INFLIGHT		4
#define EVENT_QUEUE_MAX		10000	/* beyond this, Events are dropped (counted) */

static void ev_next(struct kube_source *);

static void ev_start(struct kevent *);

static void
kevent_free(struct kevent *e)
{
	free(e->ns);
	free(e->name);
	free(e->patch);
	free(e->reason);
	free(e->body);
	free(e);
}

static void
evstat_add(struct kube_source *ks, const char *reason)
{
	size_t i;

	for (i = 0; i < ks->nevstats; i++)
		if (strcmp(ks->evstats[i].reason, reason) == 0) {
			ks->evstats[i].n++;
			return;
		}
	if (ks->nevstats < sizeof(ks->evstats) / sizeof(ks->evstats[0])) {
		/* reasons are the static strings of kube_status.c */
		ks->evstats[ks->nevstats].reason = reason;
		ks->evstats[ks->nevstats++].n = 1;
	}
}

static void
ev_done(struct kube_xfer *x, CURLcode rc, long code)
{
	struct kevent *e = x->owner;
	struct kube_source *ks = e->ks;

	struct kevent **pp;

	for (pp = &ks->evfly; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	ks->nev_inflight--;
	if (rc == CURLE_OK && code >= 200 && code < 300) {
		if (e->body == NULL)
			ks->events_refreshed++;
		else
			ks->events_written++;
	} else if (rc == CURLE_OK && code == 409 && e->body && e->patch) {
		/* it happened before: say it happened again */
		free(e->body);
		e->body = NULL;
		ev_start(e);
		return;
	} else if (rc == CURLE_OK && code == 409)
		ks->events_repeated++;	/* written before (a restart, another leader) */
	else {
		ks->events_failed++;
		if (rc != CURLE_OK)
			kube_http_error(&ks->http, "event %s in %s: %s", e->reason, e->ns,
			    e->x.errbuf[0] ? e->x.errbuf : curl_easy_strerror(rc));
		else {
			char *m = kube_status_message(e->x.body, e->x.nbody);

			kube_http_error(&ks->http, "event %s in %s: HTTP %ld%s%s", e->reason,
			    e->ns, code, m ? ": " : "", m ? m : "");
			free(m);
		}
		log_warnx("kubernetes: %s", ks->http.last_error);
	}
	kevent_free(e);
	ev_next(ks);
}

static void
ev_start(struct kevent *e)
{
	struct kube_source *ks = e->ks;
	char *url;

	ks->nev_inflight++;
	e->next = ks->evfly;
	ks->evfly = e;
	if (e->body) {
		xasprintf(&url, "%s/api/v1/namespaces/%s/events", ks->http.auth.server, e->ns);
		kube_http_prepare(&ks->http, &e->x, url);
		e->x.verb = "create";
		e->x.hdrs = curl_slist_append(e->x.hdrs, "Content-Type: application/json");
		curl_easy_setopt(e->x.easy, CURLOPT_POSTFIELDS, e->body);
	} else {
		xasprintf(&url, "%s/api/v1/namespaces/%s/events/%s", ks->http.auth.server, e->ns,
		    e->name);
		kube_http_prepare(&ks->http, &e->x, url);
		e->x.verb = "patch";
		e->x.hdrs = curl_slist_append(e->x.hdrs,
		    "Content-Type: application/merge-patch+json");
		curl_easy_setopt(e->x.easy, CURLOPT_CUSTOMREQUEST, "PATCH");
		curl_easy_setopt(e->x.easy, CURLOPT_POSTFIELDS, e->patch);
	}
	curl_easy_setopt(e->x.easy, CURLOPT_HTTPHEADER, e->x.hdrs);
	curl_easy_setopt(e->x.easy, CURLOPT_TIMEOUT_MS, 30000L);
	log_debug("kubernetes: %s %s %s", e->body ? "POST" : "PATCH", url,
	    e->body ? e->body : e->patch);
	free(url);
	kube_http_start(&ks->http, &e->x);
}

static void
ev_next(struct kube_source *ks)
{
	while (ks->evq_head && ks->nev_inflight < EVENT_INFLIGHT) {
		struct kevent *e = ks->evq_head;

		ks->evq_head = e->next;
		if (ks->evq_head == NULL)
			ks->evq_tail = NULL;
		e->next = NULL;
		ks->nev_queued--;
		ev_start(e);
	}
}

void
kube_event_emit(struct kube_source *ks, const char *ns, const char *name, const char *uid,
    const char *reason, int warning, const char *message, int refresh)
{
	struct kube_event_in in;
	struct kevent *e;
	struct timeval tv;
	char t[40], *evname;

	log_info("kubernetes: service %s/%s: event %s: %s", ns, name, reason, message);
	evstat_add(ks, reason);
	if (ks->nev_queued >= EVENT_QUEUE_MAX) {
		ks->events_failed++;
		return;
	}
	gettimeofday(&tv, NULL);
	kube_time_fmt((int64_t)tv.tv_sec * 1000, 0, t, sizeof(t));
	evname = kube_event_name(name, reason, message);
	in = (struct kube_event_in){ .ns = ns, .name = name, .uid = uid, .event_name = evname,
	    .reason = reason, .message = message, .warning = warning, .node = ks->node,
	    .time = t };
	e = xcalloc(1, sizeof(*e));
	e->ks = ks;
	e->ns = xstrdup(ns);
	e->reason = xstrdup(reason);
	e->body = kube_event_body(&in);
	if (refresh)
		xasprintf(&e->patch, "{\"lastTimestamp\":\"%s\"}", t);
	e->name = evname;
	e->x.done = ev_done;
	e->x.owner = e;
	if (ks->evq_tail)
		ks->evq_tail->next = e;
	else
		ks->evq_head = e;
	ks->evq_tail = e;
	ks->nev_queued++;
	ev_next(ks);
}

/* Not the leader any more, or freed: Events waiting and in flight go. */
void
kube_events_drop(struct kube_source *ks)
{
	struct kevent *e, *n;

	for (e = ks->evq_head; e; e = n) {
		n = e->next;
		kevent_free(e);
	}
	ks->evq_head = ks->evq_tail = NULL;
	ks->nev_queued = 0;
	for (e = ks->evfly; e; e = n) {
		n = e->next;
		kube_http_cancel(&ks->http, &e->x);
		kevent_free(e);
	}
	ks->evfly = NULL;
	ks->nev_inflight = 0;
}
