/*
 * The Kubernetes API source's HTTP glue: libcurl's multi interface driven
 * by the main libevent loop, requests with the server's credentials (a
 * bearer token re-read as it rotates, client certificates, the CA), and
 * the last error for `vipgatectl status`. It knows nothing of what the
 * requests are for: a transfer that ends goes back to its owner through
 * its done callback. Nothing here blocks the loop.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "kube-int.h"
#include "vipgate/log.h"

#define TOKEN_REREAD_MS		60000	/* service account tokens rotate (kubelet: ~1 h) */

void
kube_http_error(struct kube_http *h, const char *fmt, ...)
{
	va_list ap;

	free(h->last_error);
	va_start(ap, fmt);
	if (vasprintf(&h->last_error, fmt, ap) == -1)
		h->last_error = NULL;
	va_end(ap);
	h->last_error_time = time(NULL);
}

int64_t
kube_http_backoff_ms(int failures)
{
	return kube_backoff_ms(failures, (uint32_t)random());
}

void
kube_timer_in(struct event *ev, int64_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

/* An answer counted by verb and status (0: no answer), for the metrics. */
static void
kube_http_count(struct kube_http *h, const char *verb, long code)
{
	size_t i;

	if (verb == NULL)
		verb = "get";
	for (i = 0; i < h->nreqs; i++)
		if (h->reqs[i].code == code && strcmp(h->reqs[i].verb, verb) == 0) {
			h->reqs[i].n++;
			return;
		}
	if (h->nreqs == KUBE_REQSTATS)
		return;
	h->reqs[h->nreqs].verb = verb;
	h->reqs[h->nreqs].code = code;
	h->reqs[h->nreqs++].n = 1;
}

/* libcurl on libevent */

/* Hand every ended transfer to its owner, then say the round is over. */
static void
check_done(struct kube_http *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		CURL *e = m->easy_handle;
		CURLcode rc = m->data.result;
		long code = 0;
		void *priv = NULL;
		struct kube_xfer *x;
		struct curl_slist *hdrs;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&priv);
		curl_multi_remove_handle(h->multi, e);
		curl_easy_cleanup(e);
		x = priv;
		kube_http_count(h, x->verb, rc == CURLE_OK ? code : 0);
		hdrs = x->hdrs;
		x->hdrs = NULL;
		x->easy = NULL;
		curl_slist_free_all(hdrs);
		x->done(x, rc, code);
	}
	h->round_done(h->round_arg);
}

static void
sock_ev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_http *h = arg;
	int running, action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	(void)curl_multi_socket_action(h->multi, fd, action, &running);
	check_done(h);
}

static int
curl_sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct kube_http *h = userp;
	struct event *ev = sockp;
	short flags = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (ev) {
			event_free(ev);
			curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		flags |= EV_READ;
	if (what & CURL_POLL_OUT)
		flags |= EV_WRITE;
	if (ev) {
		event_del(ev);
		event_assign(ev, h->base, s, flags, sock_ev_cb, h);
	} else {
		ev = event_new(h->base, s, flags, sock_ev_cb, h);
		curl_multi_assign(h->multi, s, ev);
	}
	event_add(ev, NULL);
	return 0;
}

static void
multi_timer_ev(evutil_socket_t fd, short what, void *arg)
{
	struct kube_http *h = arg;
	int running;

	(void)curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

static int
curl_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct kube_http *h = userp;

	if (timeout_ms < 0)
		evtimer_del(h->ev_multi);
	else
		kube_timer_in(h->ev_multi, timeout_ms);
	return 0;
}

/* The bearer token; a token file is re-read now and then. */
static const char *
bearer(struct kube_http *h)
{
	if (h->auth.token)
		return h->auth.token;
	if (h->auth.token_file && (h->token == NULL ||
	    now_ms() - h->token_read >= TOKEN_REREAD_MS)) {
		size_t len;
		char *t = read_file(h->auth.token_file, &len);

		h->token_read = now_ms();
		if (t == NULL) {
			log_warn("kubernetes: cannot read the token %s", h->auth.token_file);
		} else {
			while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == '\r' ||
			    t[len - 1] == ' '))
				t[--len] = '\0';
			free(h->token);
			h->token = t;
		}
	}
	return h->token;
}

/*
 * An answer's body the transfer's owner does not read (a status PATCH's:
 * the whole Service): its start is kept for an error's message, the rest
 * dropped. Without it libcurl would write the body to stdout.
 */
static size_t
keep_start(char *p, size_t sz, size_t nm, void *arg)
{
	struct kube_xfer *x = arg;
	size_t n = sz * nm, room = sizeof(x->body) - 1 - x->nbody;

	if (room > n)
		room = n;
	memcpy(x->body + x->nbody, p, room);
	x->nbody += room;
	x->body[x->nbody] = '\0';
	return n;
}

void
kube_http_prepare(struct kube_http *h, struct kube_xfer *x, const char *url)
{
	CURL *e = curl_easy_init();
	const struct kube_auth *a = &h->auth;
	const char *tok = bearer(h);

	if (e == NULL)
		fatalx("curl_easy_init");
	x->hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (tok) {
		char *hdr;

		xasprintf(&hdr, "Authorization: Bearer %s", tok);
		x->hdrs = curl_slist_append(x->hdrs, hdr);
		free(hdr);
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
	if (a->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (a->ca_pem) {
		struct curl_blob b = { a->ca_pem, strlen(a->ca_pem), CURL_BLOB_COPY };

		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	} else if (a->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, a->ca_file);
	if (a->cert_pem) {
		struct curl_blob b = { a->cert_pem, strlen(a->cert_pem), CURL_BLOB_COPY };

		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
	} else if (a->cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, a->cert_file);
	if (a->key_pem) {
		struct curl_blob b = { a->key_pem, strlen(a->key_pem), CURL_BLOB_COPY };

		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
	} else if (a->key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, a->key_file);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_start);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	x->errbuf[0] = '\0';
	x->body[0] = '\0';
	x->nbody = 0;
	x->easy = e;
}

void
kube_http_start(struct kube_http *h, struct kube_xfer *x)
{
	curl_multi_add_handle(h->multi, x->easy);
}

void
kube_http_cancel(struct kube_http *h, struct kube_xfer *x)
{
	if (x->easy) {
		curl_multi_remove_handle(h->multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->hdrs);
}

void
kube_http_init(struct kube_http *h, struct event_base *base, struct kube_auth *auth,
    const char *node, void (*round_done)(void *), void *arg)
{
	static int curl_ready;

	if (!curl_ready) {
		char err[256];

		if (vg_curl_load(err, sizeof(err)) == -1)
			fatalx("kubernetes: %s", err);
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			fatalx("curl_global_init");
		curl_ready = 1;
	}
	h->base = base;
	/* the node in the User-Agent: the API server's audit log tells nodes apart */
	xasprintf(&h->user_agent, "vipgated/%s node/%s", PACKAGE_VERSION, node);
	h->auth = *auth;
	memset(auth, 0, sizeof(*auth));
	h->round_done = round_done;
	h->round_arg = arg;
	h->multi = curl_multi_init();
	if (h->multi == NULL)
		fatalx("curl_multi_init");
	h->ev_multi = evtimer_new(base, multi_timer_ev, h);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
}

void
kube_http_cleanup(struct kube_http *h)
{
	curl_multi_cleanup(h->multi);
	event_free(h->ev_multi);
	kube_auth_free(&h->auth);
	free(h->token);
	free(h->last_error);
	free(h->user_agent);
}
