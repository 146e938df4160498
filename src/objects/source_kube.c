/*
 * The Kubernetes API source, I/O half (see source-kube.h): one LIST then
 * WATCH per kind, as client-go's reflector does, into the store; paged
 * LISTs, the resourceVersion, a re-list on 410 Gone, reconnects with
 * backoff. Nothing here blocks the loop. The source's files:
 *
 *   source_kube.c   this: List/Watch per kind, the source's life and status
 *   kube_status.c   the Service status and Event writer (an applier)
 *   kube_lease.c    the Lease: which node writes (leader election)
 *   kube_events.c   Events on Services, written in turn
 *   kube_show.c     the source's metrics
 *   kube_http.c     libcurl's multi interface on the libevent loop
 *   kube_codec.c    kubeconfig, List and watch-event decoding (pure)
 *   kube_elect.c    the election's decision, Lease and Event bodies (pure)
 *
 * kube-int-t.h holds the state they share, kube-int.h their functions.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kube-int.h"
#include "vipgate/log.h"
#include "vipgate/reconcile.h"
#include "vipgate/source-kube.h"
#include "vipgate/store.h"

#define ABSENT_RETRY_MS		60000	/* a kind whose CRD is not installed */
#define WATCH_TIMEOUT_S		300	/* plus up to as much jitter, as client-go */
#define LIST_TIMEOUT_MS		120000
#define MAX_BODY		(512u << 20)
#define MAX_LINE		(64u << 20)
#define LIST_PAGE		500	/* items a LIST page, as client-go's reflector asks */

static const char *const kw_phase_names[] = { "waiting", "listing", "watching", "absent" };

static void watch_start(struct kube_watch *, int list);

/* Store side */

static void
notify(struct kube_source *ks, int changes, int deleted)
{
	if ((changes || deleted) && ks->changed)
		ks->changed(ks->changed_arg, deleted);
}

/*
 * Put an object from the API; its version wins over a file's. A Service
 * whose only difference is the status the last reconcile wrote (or would
 * write) replaces the stored copy without a change: the echo of a status
 * write reconciles nothing.
 */
static int
put_obj(struct kube_source *ks, struct object *o)
{
	struct object *cur = store_get(ks->store, o->kind, o->meta.ns, o->meta.name);

	if (cur && !cur->from_api)
		log_warnx("%s %s%s%s: defined by the API and by %s:%d; the API's version is used",
		    kind_name(o->kind), o->meta.ns, *o->meta.ns ? "/" : "", o->meta.name,
		    cur->file, cur->line);
	if (cur && cur->hash != o->hash && o->kind == K_SERVICE && ks->applied &&
	    kube_svc_status_echo(cur, o, desired_find_svc(ks->applied, o->meta.ns,
	    o->meta.name))) {
		ks->status_echoes++;
		return store_replace(ks->store, o);
	}
	return store_put(ks->store, o);
}

struct del_key {
	const char *ns, *name;
};

/* store_reject_sweep: every rejection but the deleted object's. */
static int
keep_but(void *arg, enum obj_kind k, const char *ns, const char *name)
{
	const struct del_key *d = arg;

	return strcmp(d->ns, ns) != 0 || strcmp(d->name, name) != 0;
}

static int
del_obj(struct kube_source *ks, enum obj_kind k, const char *ns, const char *name)
{
	struct object *cur = store_get(ks->store, k, ns, name);

	if (cur == NULL || !cur->from_api)
		/* a version it rejected goes with it */
		return store_rejected(ks->store, k, ns, name) ?
		    store_reject_sweep(ks->store, 1, (int)k, keep_but, &(struct del_key){ ns, name }) > 0 : 0;
	return store_del(ks->store, k, ns, name);
}

static void
report(struct kube_source *ks, struct vg_errs *errs)
{
	size_t i;

	errs_log(errs);
	for (i = 0; i < errs->n; i++)
		if (errs->v[i].sev == ERR_ERROR) {
			char *s = errs_format(&errs->v[i]);

			kube_http_error(&ks->http, "%s", s);
			free(s);
		}
	errs_clear(errs);
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct list_keep {
	const struct decoded_list *l;
};

/* store_reject_sweep: whether the list still has the object, failed. */
static int
list_failed(void *arg, enum obj_kind k, const char *ns, const char *name)
{
	const struct decoded_list *l = ((struct list_keep *)arg)->l;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].obj == NULL && l->v[i].named && l->v[i].kind == k &&
		    strcmp(l->v[i].ns, ns) == 0 && strcmp(l->v[i].name, name) == 0)
			return 1;
	return 0;
}

/* A full list replaces what the API had of this kind. */
static void
apply_list(struct kube_watch *w, struct decoded_list *l)
{
	struct kube_source *ks = w->ks;
	struct vg_ptrvec keys = { 0 }, gone = { 0 };
	struct object * const *cur;
	size_t i, n, changes = 0, deleted = 0;

	for (i = 0; i < l->n; i++) {
		const struct decoded *d = &l->v[i];
		char *k;

		if (d->obj) {
			changes += (size_t)put_obj(ks, object_ref(d->obj));
			xasprintf(&k, "%s/%s", d->obj->meta.ns, d->obj->meta.name);
		} else if (d->named) {
			/* failed: its last good version stays, the store notes why */
			if (d->error)
				changes += (size_t)store_reject(ks->store, d->kind, d->ns, d->name,
				    d->error, 1);
			xasprintf(&k, "%s/%s", d->ns, d->name);
		} else
			continue;
		ptrvec_push(&keys, k);
	}
	if (keys.n > 1)
		qsort(keys.v, keys.n, sizeof(void *), cmp_key);
	/* rejections of objects the list no longer has, or has well */
	{
		struct list_keep lk = { l };

		changes += store_reject_sweep(ks->store, 1, (int)w->kind, list_failed, &lk);
	}
	cur = store_list(ks->store, w->kind, &n);
	for (i = 0; i < n; i++) {
		char *k;

		if (!cur[i]->from_api)
			continue;
		xasprintf(&k, "%s/%s", cur[i]->meta.ns, cur[i]->meta.name);
		if (bsearch(&k, keys.v, keys.n, sizeof(void *), cmp_key) == NULL)
			ptrvec_push(&gone, object_ref(cur[i]));
		free(k);
	}
	for (i = 0; i < gone.n; i++) {
		struct object *o = gone.v[i];

		deleted += (size_t)del_obj(ks, o->kind, o->meta.ns, o->meta.name);
		object_unref(o);
	}
	for (i = 0; i < keys.n; i++)
		free(keys.v[i]);
	ptrvec_free(&keys);
	ptrvec_free(&gone);
	log_debug("kubernetes: %s: listed %zu, %zu changes, %zu deleted, resourceVersion %s",
	    kind_name(w->kind), l->n, changes, deleted, w->rv ? w->rv : "-");
	if (!w->synced) {
		w->synced = 1;
		changes++;
	}
	notify(ks, (int)changes, deleted > 0);
}

static void
apply_event(struct kube_watch *w, const char *line, size_t len)
{
	struct kube_source *ks = w->ks;
	struct kube_event ev;
	struct vg_errs errs = { 0 };
	char origin[256];
	int changes = 0, deleted = 0;

	snprintf(origin, sizeof(origin), "kubernetes:%s", w->path);
	if (kube_event_decode(line, len, w->kind, origin, &ev, &errs) == -1) {
		report(ks, &errs);
		return;
	}
	report(ks, &errs);
	w->events++;
	switch (ev.type) {
	case KEV_ERROR:
		log_info("kubernetes: %s: watch error %d (%s)%s", kind_name(w->kind), ev.code,
		    ev.message, ev.code == 410 ? ": listing again" : "");
		/* 410 Gone: the resourceVersion is compacted away; anything
		 * else ends this watch too, and a fresh list is the safe answer */
		w->relist = 1;
		break;
	case KEV_BOOKMARK:
		break;
	case KEV_DELETED:
		deleted = del_obj(ks, w->kind, ev.ns, ev.name);
		break;
	case KEV_ADDED:
	case KEV_MODIFIED:
		if (ev.objs.n > 0 && ev.objs.v[0].obj)
			changes = put_obj(ks, object_ref(ev.objs.v[0].obj));
		else if (ev.objs.n > 0 && ev.objs.v[0].named && ev.objs.v[0].error)
			/* failed: its last good version stays, the store notes why */
			changes = store_reject(ks->store, w->kind, ev.objs.v[0].ns,
			    ev.objs.v[0].name, ev.objs.v[0].error, 1);
		break;
	}
	if ((ev.type == KEV_ADDED || ev.type == KEV_MODIFIED) && !changes)
		ks->events_unchanged++;
	/* the watch resumes from the last version seen, changed or not */
	if (ev.rv && ev.type != KEV_ERROR) {
		free(w->rv);
		w->rv = xstrdup(ev.rv);
	}
	kube_event_free(&ev);
	notify(ks, changes, deleted);
}

/* Watches */

static size_t
watch_write(char *p, size_t sz, size_t nm, void *arg)
{
	struct kube_watch *w = arg;
	size_t n = sz * nm, used, off = 0;
	long code = 0;
	ssize_t ll;

	if (w->rx.len + n > (w->listing ? MAX_BODY : MAX_LINE)) {
		kube_http_error(&w->ks->http, "%s: answer too large", w->path);
		return 0;
	}
	buf_append(&w->rx, p, n);
	curl_easy_getinfo(w->x.easy, CURLINFO_RESPONSE_CODE, &code);
	if (w->listing || code != 200)
		return n;
	/* a watch: apply every complete line as it comes */
	while (!w->relist && (ll = kube_line_next(w->rx.s + off, w->rx.len - off, &used)) >= 0) {
		if (ll > 0)
			apply_event(w, w->rx.s + off, (size_t)ll);
		off += used;
	}
	if (off) {
		memmove(w->rx.s, w->rx.s + off, w->rx.len - off);
		w->rx.len -= off;
	}
	/* stop the transfer; watch_xfer_done lists again */
	return w->relist ? 0 : n;
}

static void
watch_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_watch *w = arg;

	watch_start(w, w->phase == KW_ABSENT || w->rv == NULL || w->relist);
}

/* A LIST starts again from its first page. */
static void
list_reset(struct kube_watch *w)
{
	free(w->cont);
	w->cont = NULL;
	decoded_list_free(&w->pages);
}

/* Move the entries of a page to the end of the LIST so far. */
static void
pages_take(struct decoded_list *dst, struct decoded_list *src)
{
	if (dst->n + src->n > dst->cap) {
		dst->cap = (dst->n + src->n) * 2;
		dst->v = xreallocarray(dst->v, dst->cap, sizeof(*dst->v));
	}
	if (src->n)
		memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
	dst->n += src->n;
	free(src->v);
	memset(src, 0, sizeof(*src));
}

static void
watch_start(struct kube_watch *w, int list)
{
	struct kube_source *ks = w->ks;
	char *url;

	w->relist = 0;
	w->rx.len = 0;
	w->listing = list;
	if (list && w->cont) {
		char *esc = curl_easy_escape(NULL, w->cont, 0);

		xasprintf(&url, "%s%s?limit=%d&continue=%s", ks->http.auth.server, w->path,
		    LIST_PAGE, esc ? esc : "");
		curl_free(esc);
	} else if (list)
		xasprintf(&url, "%s%s?limit=%d", ks->http.auth.server, w->path, LIST_PAGE);
	else
		xasprintf(&url, "%s%s?watch=1&resourceVersion=%s&allowWatchBookmarks=true"
		    "&timeoutSeconds=%d", ks->http.auth.server, w->path, w->rv,
		    ks->watch_timeout_s + (int)(random() % ks->watch_timeout_s));
	kube_http_prepare(&ks->http, &w->x, url);
	w->x.verb = list ? "list" : "watch";
	curl_easy_setopt(w->x.easy, CURLOPT_WRITEFUNCTION, watch_write);
	curl_easy_setopt(w->x.easy, CURLOPT_WRITEDATA, w);
	if (list)
		curl_easy_setopt(w->x.easy, CURLOPT_TIMEOUT_MS, (long)LIST_TIMEOUT_MS);
	else
		curl_easy_setopt(w->x.easy, CURLOPT_TIMEOUT_MS,
		    (long)(2 * ks->watch_timeout_s + 60) * 1000);
	w->phase = list ? KW_LIST : KW_WATCH;
	w->started = now_ms();
	log_debug("kubernetes: GET %s", url);
	free(url);
	kube_http_start(&ks->http, &w->x);
}

static void
watch_retry(struct kube_watch *w, int64_t ms)
{
	if (w->phase != KW_ABSENT)
		w->phase = KW_WAIT;
	kube_timer_in(w->ev_timer, ms);
}

/* The body of an error answer, shortened, for the log. */
static const char *
body_excerpt(struct kube_watch *w)
{
	const char *m;

	buf_append(&w->rx, "", 1);
	w->rx.len--;
	m = strstr(w->rx.s, "\"message\"");
	if (m)
		return m;
	if (w->rx.len > 200)
		w->rx.s[200] = '\0';
	return w->rx.s;
}

static void
list_done(struct kube_watch *w, CURLcode rc, long code)
{
	struct kube_source *ks = w->ks;
	struct decoded_list l = { 0 };
	struct vg_errs errs = { 0 };
	char origin[256], *rv = NULL, *cont = NULL;

	if (rc != CURLE_OK || code != 200) {
		/* the retry lists from the first page, not watches from an old version */
		list_reset(w);
		free(w->rv);
		w->rv = NULL;
	}
	if (rc == CURLE_OK && code == 404) {
		/* the CRD is not installed: an empty kind, asked again slowly */
		if (!w->warned_absent)
			log_warnx("kubernetes: %s is not served (%s: 404); is its CRD installed? "
			    "asking again every %d s", kind_name(w->kind), w->path,
			    ABSENT_RETRY_MS / 1000);
		w->warned_absent = 1;
		w->phase = KW_ABSENT;
		w->failures = 0;
		/* what the API had of this kind is gone with it */
		apply_list(w, &l);
		kube_timer_in(w->ev_timer, ABSENT_RETRY_MS + random() % 5000);
		return;
	}
	if (rc != CURLE_OK || code != 200) {
		w->failures++;
		if (rc != CURLE_OK)
			kube_http_error(&ks->http, "%s: %s", w->path,
			    w->x.errbuf[0] ? w->x.errbuf : curl_easy_strerror(rc));
		else
			kube_http_error(&ks->http, "%s: HTTP %ld: %s", w->path, code,
			    body_excerpt(w));
		if (kube_failure_loud(w->failures))
			log_warnx("kubernetes: list %s: %s (%d in a row)", kind_name(w->kind),
			    ks->http.last_error, w->failures);
		else
			log_debug("kubernetes: list %s: %s (%d in a row)", kind_name(w->kind),
			    ks->http.last_error, w->failures);
		watch_retry(w, kube_http_backoff_ms(w->failures));
		return;
	}
	if (w->warned_absent) {
		log_info("kubernetes: %s is served now", kind_name(w->kind));
		w->warned_absent = 0;
	}
	snprintf(origin, sizeof(origin), "kubernetes:%s", w->path);
	if (kube_list_decode(w->rx.s, w->rx.len, w->kind, origin, &l, &rv, &cont, &errs) == -1) {
		report(ks, &errs);
		decoded_list_free(&l);
		list_reset(w);
		free(w->rv);
		w->rv = NULL;
		w->failures++;
		watch_retry(w, kube_http_backoff_ms(w->failures));
		return;
	}
	report(ks, &errs);
	free(w->rv);
	w->rv = rv;
	pages_take(&w->pages, &l);
	free(w->cont);
	w->cont = cont;
	if (cont) {
		/* the next page, of the same snapshot */
		watch_start(w, 1);
		return;
	}
	apply_list(w, &w->pages);
	decoded_list_free(&w->pages);
	w->rx.len = 0;
	if (w->rv == NULL) {
		log_warnx("kubernetes: %sList without a resourceVersion; listing again later",
		    kind_name(w->kind));
		watch_retry(w, ABSENT_RETRY_MS);
		return;
	}
	watch_start(w, 0);
}

static void
watch_done(struct kube_watch *w, CURLcode rc, long code)
{
	struct kube_source *ks = w->ks;
	int64_t lasted = now_ms() - w->started;

	w->restarts++;
	if (w->relist || code == 410) {
		w->failures = 0;
		list_reset(w);
		watch_start(w, 1);
		return;
	}
	if (code == 404) {
		/* the CRD went away */
		watch_start(w, 1);
		return;
	}
	if ((rc == CURLE_OK || rc == CURLE_OPERATION_TIMEDOUT) && code == 200 && lasted > 1000) {
		/* the server ended the watch (timeoutSeconds): go on */
		w->failures = 0;
		watch_start(w, 0);
		return;
	}
	w->failures++;
	if (rc != CURLE_OK)
		kube_http_error(&ks->http, "%s: watch: %s", w->path,
		    w->x.errbuf[0] ? w->x.errbuf : curl_easy_strerror(rc));
	else if (code != 200)
		kube_http_error(&ks->http, "%s: watch: HTTP %ld: %s", w->path, code,
		    body_excerpt(w));
	else
		kube_http_error(&ks->http, "%s: watch ended after %lld ms", w->path,
		    (long long)lasted);
	if (kube_failure_loud(w->failures))
		log_warnx("kubernetes: %s; watching again (%d in a row)", ks->http.last_error,
		    w->failures);
	else
		log_debug("kubernetes: %s; watching again (%d in a row)", ks->http.last_error,
		    w->failures);
	watch_retry(w, kube_http_backoff_ms(w->failures));
}

/* A watch's transfer ended (kube_http.c): a LIST page or the WATCH stream. */
static void
watch_xfer_done(struct kube_xfer *x, CURLcode rc, long code)
{
	struct kube_watch *w = x->owner;

	if (code == 401 || code == 403)
		log_warnx("kubernetes: %s: HTTP %ld: check the credentials and RBAC "
		    "(list and watch on this kind)", w->path, code);
	if (w->listing)
		list_done(w, rc, code);
	else
		watch_done(w, rc, code);
}

/* After transfers ended (kube_http.c): whether every kind has had its first list. */
static void
synced_check(void *arg)
{
	struct kube_source *ks = arg;
	size_t i;

	if (ks->synced)
		return;
	for (i = 0; i < ks->nw; i++)
		if (!ks->w[i].synced)
			return;
	ks->synced = 1;
	log_info("kubernetes: every kind is listed; %zu objects in the store",
	    store_count(ks->store));
	notify(ks, 1, 0);
}

struct kube_source *
ksrc_new(struct event_base *base, struct store *st, struct kube_auth *auth,
    const char *node, const char *lease_ns, kube_changed_fn changed, void *arg)
{
	struct kube_source *ks = xcalloc(1, sizeof(*ks));
	int k;

	ks->store = st;
	ks->node = xstrdup(node);
	ks->leader_changed = kube_status_leader_changed;
	ks->changed = changed;
	ks->changed_arg = arg;
	ks->watch_timeout_s = WATCH_TIMEOUT_S;
	{
		/* VIPGATE_TEST_WATCH_TIMEOUT: shorter watches, for tests only */
		const char *t = getenv("VIPGATE_TEST_WATCH_TIMEOUT");

		if (t && atoi(t) > 0 && atoi(t) <= WATCH_TIMEOUT_S)
			ks->watch_timeout_s = atoi(t);
	}
	kube_http_init(&ks->http, base, auth, node, synced_check, ks);
	log_info("kubernetes: API server %s", ks->http.auth.server);
	kube_lease_start(ks, lease_ns, node);
	for (k = 0; k < K__COUNT; k++) {
		struct kube_watch *w;
		const char *path = kube_kind_path((enum obj_kind)k);

		if (path == NULL)
			continue;
		w = &ks->w[ks->nw++];
		w->ks = ks;
		w->kind = (enum obj_kind)k;
		w->path = path;
		w->x.done = watch_xfer_done;
		w->x.owner = w;
		w->ev_timer = evtimer_new(base, watch_timer_cb, w);
		watch_start(w, 1);
	}
	return ks;
}

void
ksrc_free(struct kube_source *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->nw; i++) {
		struct kube_watch *w = &ks->w[i];

		kube_http_cancel(&ks->http, &w->x);
		buf_free(&w->rx);
		list_reset(w);
		free(w->rv);
		event_free(w->ev_timer);
	}
	kube_status_free(ks);
	kube_events_drop(ks);
	kube_lease_free_state(ks);
	kube_http_cleanup(&ks->http);
	free(ks->node);
	free(ks);
}

int
ksrc_synced(const struct kube_source *ks)
{
	return ks->synced;
}

json_t *
ksrc_status(const struct kube_source *ks)
{
	json_t *kinds = json_object();
	size_t i, nsynced = 0;

	for (i = 0; i < ks->nw; i++) {
		const struct kube_watch *w = &ks->w[i];

		nsynced += (size_t)w->synced;
		json_object_set_new(kinds, kind_name(w->kind), json_pack("{s:s,s:b,s:o,s:I}",
		    "state", kw_phase_names[w->phase], "synced", w->synced,
		    "resource_version", w->rv ? json_string(w->rv) : json_null(),
		    "events", (json_int_t)w->events));
	}
	return json_pack("{s:s,s:b,s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:o,s:o,s:{s:I,s:I,s:I,s:I}}",
	    "server", ks->http.auth.server, "synced", ks->synced,
	    "kinds_synced", (json_int_t)nsynced, "kinds_total", (json_int_t)ks->nw,
	    "last_error", ks->http.last_error ? json_string(ks->http.last_error) : json_null(),
	    "status_patches_ok", (json_int_t)ks->patches_ok,
	    "status_patches_failed", (json_int_t)ks->patches_failed,
	    "watch_events_unchanged", (json_int_t)ks->events_unchanged,
	    "status_echoes", (json_int_t)ks->status_echoes,
	    "kinds", kinds, "lease", kube_lease_status(ks),
	    "events", "written", (json_int_t)ks->events_written,
	    "repeated", (json_int_t)ks->events_repeated,
	    "refreshed", (json_int_t)ks->events_refreshed, "failed", (json_int_t)ks->events_failed);
}

