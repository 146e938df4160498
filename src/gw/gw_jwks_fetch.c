/*
 * The JWKS fetcher (see gw-jwks-fetch.h). The file goes: libcurl's lazy
 * start, the fetch thread (the only code off the main loop), the mailbox
 * that carries its result back, the schedule on the main loop, the API.
 *
 * Ownership: a job belongs to its thread while it runs, then to the
 * mailbox, then to the main loop that reads the result. The mailbox is
 * shared by reference count, so freeing the fetcher never waits for a
 * thread and a thread never reads the fetcher or an entry.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "../objects/curl_lazy.h"
#include "gw-jwks-fetch.h"
#include "vipgate/log.h"
#include "vipgate/util.h"

static atomic_int nthreads;

/* ---- libcurl ---- */

/*
 * Loaded and initialized once, on the main thread before the first fetch
 * thread starts (curl_global_init() is not thread-safe in every libcurl
 * we accept). A failure is kept: every fetch then fails with its reason.
 */
static int
curl_start(char *err, size_t errlen)
{
	static int state;	/* 0: not tried, 1: ready, -1: failed */
	static char why[256];

	if (state == 0) {
		if (vg_curl_load(why, sizeof(why)) == -1)
			state = -1;
		else if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(why, sizeof(why), "curl_global_init failed");
			state = -1;
		} else
			state = 1;
	}
	if (state == -1) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	return 0;
}

/* ---- the fetch thread ---- */

static size_t
body_write(char *p, size_t size, size_t n, void *arg)
{
	struct gw_jwks_job *j = arg;

	n *= size;	/* libcurl: size is always 1 */
	if (n > GW_JWKS_MAX_BYTES - j->len) {
		j->too_big = 1;
		return 0;	/* CURLE_WRITE_ERROR */
	}
	if (j->len + n + 1 > j->cap) {
		j->cap = j->cap ? j->cap : 4096;
		while (j->cap < j->len + n + 1)
			j->cap *= 2;
		j->body = xrealloc(j->body, j->cap);
	}
	memcpy(j->body + j->len, p, n);
	j->len += n;
	return n;
}

/* One GET as istiod's JwksResolver does it, within the limits of gw-jwks-fetch-t.h. */
static void
fetch_run(struct gw_jwks_job *j)
{
	char ebuf[CURL_ERROR_SIZE] = "";
	CURLcode rc = CURLE_OK;
	long status = 0;
	CURL *c;

	c = curl_easy_init();
	if (c == NULL) {
		snprintf(j->err, sizeof(j->err), "curl_easy_init failed");
		return;
	}
#define SET(opt, v) do { if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, v); } while (0)
	SET(CURLOPT_ERRORBUFFER, ebuf);
	SET(CURLOPT_URL, j->uri);
	/* jwksUri is http or https (request_authentication.proto); no file://, no gopher:// */
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);	/* no SIGALRM for DNS timeouts: we are a thread */
	SET(CURLOPT_TIMEOUT_MS, (long)j->timeout_ms);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)GW_JWKS_MAX_BYTES);
	SET(CURLOPT_WRITEFUNCTION, body_write);
	SET(CURLOPT_WRITEDATA, j);
	SET(CURLOPT_USERAGENT, "vipgate-jwks/" PACKAGE_VERSION);
#undef SET
	if (rc != CURLE_OK) {
		snprintf(j->err, sizeof(j->err), "libcurl refused an option: %s",
		    curl_easy_strerror(rc));
		goto out;
	}
	rc = curl_easy_perform(c);
	if (j->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(j->err, sizeof(j->err), "response larger than %d bytes",
		    GW_JWKS_MAX_BYTES);
	else if (rc != CURLE_OK)
		snprintf(j->err, sizeof(j->err), "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
	else if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
	    status != 200)
		snprintf(j->err, sizeof(j->err), "HTTP status %ld", status);
	else {
		if (j->body == NULL)
			j->body = xcalloc(1, 1);
		j->body[j->len] = '\0';
		j->ok = 1;
	}
out:
	curl_easy_cleanup(c);
}

static void
job_free(struct gw_jwks_job *j)
{
	free(j->uri);
	free(j->body);
	free(j);
}

static void
mbox_unref(struct gw_jwks_mbox *m)
{
	int last;

	pthread_mutex_lock(&m->mu);
	last = --m->refs == 0;
	pthread_mutex_unlock(&m->mu);
	if (!last)
		return;
	for (struct gw_jwks_job *j = m->done, *n; j != NULL; j = n) {
		n = j->next;
		job_free(j);
	}
	close(m->efd);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* Hand a finished job to the main loop, or drop it if the fetcher is gone. */
static void
job_post(struct gw_jwks_job *j)
{
	struct gw_jwks_mbox *m = j->mbox;
	uint64_t one = 1;
	int drop;

	pthread_mutex_lock(&m->mu);
	drop = m->closed;
	if (!drop) {
		j->next = m->done;
		m->done = j;
		/* cannot fail short of a counter at 2^64-1: the main loop reads it */
		(void)!write(m->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&m->mu);
	if (drop)
		job_free(j);
}

static void *
fetch_thread(void *arg)
{
	struct gw_jwks_job *j = arg;
	struct gw_jwks_mbox *m = j->mbox;

	fetch_run(j);
	job_post(j);	/* j is not ours any more */
	mbox_unref(m);
	atomic_fetch_sub(&nthreads, 1);
	return NULL;
}

/* ---- the main loop: schedule and results ---- */

static void
entry_arm(struct gw_jwks_entry *e, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(e->timer, &tv);
}

static void
fetch_start(struct gw_jwks_fetcher *f, struct gw_jwks_entry *e)
{
	struct gw_jwks_job *j = xcalloc(1, sizeof(*j));
	sigset_t all, old;
	pthread_attr_t at;
	pthread_t th;
	int rc;

	j->mbox = f->mbox;
	j->e = e;
	j->uri = xstrdup(e->uri);
	j->timeout_ms = e->timeout_ms;
	e->fetching = 1;
	evtimer_del(e->timer);
	if (curl_start(j->err, sizeof(j->err)) == -1) {
		job_post(j);	/* fails on the next loop turn, as a thread would */
		return;
	}
	pthread_mutex_lock(&f->mbox->mu);
	f->mbox->refs++;
	pthread_mutex_unlock(&f->mbox->mu);
	atomic_fetch_add(&nthreads, 1);
	/* signals are the main loop's business */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&th, &at, fetch_thread, j);
	pthread_attr_destroy(&at);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		atomic_fetch_sub(&nthreads, 1);
		mbox_unref(f->mbox);	/* the fetcher's reference keeps it */
		snprintf(j->err, sizeof(j->err), "cannot start a thread: %s", strerror(rc));
		job_post(j);
		return;
	}
	(void)pthread_setname_np(th, "gw-jwks");
}

static void
entry_free(struct gw_jwks_entry *e)
{
	event_free(e->timer);
	free(e->uri);
	free(e->doc);
	free(e->last_err);
	free(e);
}

static void
entry_forget(struct gw_jwks_fetcher *f, struct gw_jwks_entry *e)
{
	struct gw_jwks_entry **pp;

	for (pp = &f->entries; *pp != e; pp = &(*pp)->next)
		;
	*pp = e->next;
	entry_free(e);
}

/* A fetch falls due (refresh or retry). */
static void
entry_due(evutil_socket_t fd, short ev, void *arg)
{
	struct gw_jwks_entry *e = arg;
	struct gw_jwks_fetcher *f = e->f;

	(void)fd;
	(void)ev;
	if (now_ms() - e->asked_ms >= f->refresh_ms) {
		log_debug("gateway: jwksUri %s: not used for %" PRId64 " ms, forgotten",
		    e->uri, f->refresh_ms);
		entry_forget(f, e);
		return;
	}
	fetch_start(f, e);
}

/* Take a job's result; 1 when what gw_jwks_fetcher_get() returns changed. */
static int
entry_result(struct gw_jwks_fetcher *f, struct gw_jwks_entry *e, struct gw_jwks_job *j)
{
	int changed = 0;

	e->fetching = 0;
	e->fetches++;
	if (j->ok) {
		if (e->doc == NULL || e->len != j->len || memcmp(e->doc, j->body, j->len) != 0) {
			free(e->doc);
			e->doc = j->body;
			e->len = j->len;
			j->body = NULL;
			changed = 1;
		}
		log_debug("gateway: jwksUri %s: fetched %zu bytes%s", e->uri, e->len,
		    changed ? ", new keys" : ", unchanged");
		e->failed = 0;
		e->backoff_ms = 0;
		entry_arm(e, f->refresh_ms);
		return changed;
	}
	e->failures++;
	free(e->last_err);
	e->last_err = xstrdup(j->err);
	if (e->doc == NULL && !e->failed)
		changed = 1;
	e->failed = 1;
	/* istiod: 1 minute, doubling, at most 60 */
	if (e->backoff_ms == 0)
		e->backoff_ms = f->retry_ms;
	else if (e->backoff_ms < f->retry_max_ms / 2)
		e->backoff_ms *= 2;
	else
		e->backoff_ms = f->retry_max_ms;
	log_warnx("gateway: jwksUri %s: fetch failed: %s; %s, next try in %" PRId64 " ms",
	    e->uri, j->err, e->doc ? "keeping the last good keys" :
	    "its tokens are refused", e->backoff_ms);
	entry_arm(e, e->backoff_ms);
	return changed;
}

static void
jobs_done(evutil_socket_t fd, short ev, void *arg)
{
	struct gw_jwks_fetcher *f = arg;
	struct gw_jwks_job *j, *n;
	uint64_t v;
	int changed = 0;

	(void)ev;
	(void)!read(fd, &v, sizeof(v));
	pthread_mutex_lock(&f->mbox->mu);
	j = f->mbox->done;
	f->mbox->done = NULL;
	pthread_mutex_unlock(&f->mbox->mu);
	for (; j != NULL; j = n) {
		n = j->next;
		changed |= entry_result(f, j->e, j);
		job_free(j);
	}
	if (changed && f->changed != NULL)
		f->changed(f->arg);
}

/* ---- API ---- */

static int64_t
env_ms(const char *name, int64_t dflt)
{
	const char *s = getenv(name);
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return dflt;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0) {
		log_warnx("gateway: %s=%s is not a positive number of milliseconds, "
		    "using %" PRId64, name, s, dflt);
		return dflt;
	}
	return v;
}

struct gw_jwks_fetcher *
gw_jwks_fetcher_new(struct event_base *base, void (*changed)(void *), void *arg)
{
	struct gw_jwks_fetcher *f = xcalloc(1, sizeof(*f));
	struct gw_jwks_mbox *m = xcalloc(1, sizeof(*m));

	f->base = base;
	f->changed = changed;
	f->arg = arg;
	f->refresh_ms = env_ms("VG_JWKS_REFRESH_MS", GW_JWKS_REFRESH_MS);
	f->retry_ms = env_ms("VG_JWKS_RETRY_MS", GW_JWKS_RETRY_MS);
	f->retry_max_ms = f->retry_ms * (GW_JWKS_RETRY_MAX_MS / GW_JWKS_RETRY_MS);
	if (pthread_mutex_init(&m->mu, NULL) != 0)
		fatalx("gateway: jwks: pthread_mutex_init");
	m->refs = 1;
	m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->efd < 0)
		fatal("gateway: jwks: eventfd");
	f->mbox = m;
	f->ev_done = event_new(base, m->efd, EV_READ | EV_PERSIST, jobs_done, f);
	if (f->ev_done == NULL || event_add(f->ev_done, NULL) != 0)
		fatalx("gateway: jwks: event_new");
	return f;
}

static struct gw_jwks_entry *
entry_find(struct gw_jwks_fetcher *f, const char *uri)
{
	struct gw_jwks_entry *e;

	for (e = f->entries; e != NULL; e = e->next)
		if (strcmp(e->uri, uri) == 0)
			return e;
	return NULL;
}

const char *
gw_jwks_fetcher_get(struct gw_jwks_fetcher *f, const char *uri, int64_t timeout_ms, int *failed)
{
	struct gw_jwks_entry *e = entry_find(f, uri);

	if (timeout_ms <= 0)
		timeout_ms = GW_JWKS_TIMEOUT_MS;
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->f = f;
		e->uri = xstrdup(uri);
		e->timer = evtimer_new(f->base, entry_due, e);
		if (e->timer == NULL)
			fatalx("gateway: jwks: evtimer_new");
		e->next = f->entries;
		f->entries = e;
		e->asked_ms = now_ms();
		e->timeout_ms = timeout_ms;
		fetch_start(f, e);
	}
	e->asked_ms = now_ms();
	e->timeout_ms = timeout_ms;
	if (failed != NULL)
		*failed = e->doc == NULL && e->failed;
	return e->doc;
}

int
gw_jwks_fetcher_stats(struct gw_jwks_fetcher *f, const char *uri, struct gw_jwks_stats *st)
{
	struct gw_jwks_entry *e = entry_find(f, uri);

	if (e == NULL)
		return -1;
	st->have_doc = e->doc != NULL;
	st->failed = e->doc == NULL && e->failed;
	st->fetching = e->fetching;
	st->fetches = e->fetches;
	st->failures = e->failures;
	st->last_err = e->last_err;
	return 0;
}

void
gw_jwks_fetcher_free(struct gw_jwks_fetcher *f)
{
	struct gw_jwks_entry *e, *n;
	struct gw_jwks_job *j, *jn;

	if (f == NULL)
		return;
	event_free(f->ev_done);
	/* running threads drop their results from now on */
	pthread_mutex_lock(&f->mbox->mu);
	f->mbox->closed = 1;
	j = f->mbox->done;
	f->mbox->done = NULL;
	pthread_mutex_unlock(&f->mbox->mu);
	for (; j != NULL; j = jn) {
		jn = j->next;
		job_free(j);
	}
	mbox_unref(f->mbox);
	for (e = f->entries; e != NULL; e = n) {
		n = e->next;
		entry_free(e);
	}
	free(f);
}

int
gw_jwks_fetch_threads(void)
{
	return atomic_load(&nthreads);
}
