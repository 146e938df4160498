/*
 * Retry policy, back-off, fault injection and response flags of the
 * gateway's routes: the decisions of Envoy's router (retry_state_impl.cc,
 * backoff_strategy.cc) and fault filter, as istiod configures them for an
 * ingress gateway. Pure; gw_proxy.c holds the timers and connections.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/gw-retry.h"
#include "vipgate/objects.h"

static const struct {
	const char	*name;
	uint32_t	 bit;
} retry_names[] = {
	{ "5xx", GW_RETRY_5XX },
	{ "gateway-error", GW_RETRY_GATEWAY_ERROR },
	{ "reset", GW_RETRY_RESET },
	{ "reset-before-request", GW_RETRY_RESET_BEFORE_REQUEST },
	{ "connect-failure", GW_RETRY_CONNECT_FAILURE },
	{ "retriable-4xx", GW_RETRY_RETRIABLE_4XX },
	{ "refused-stream", GW_RETRY_REFUSED_STREAM },
	{ "retriable-status-codes", GW_RETRY_STATUS_CODES },
	{ "retriable-headers", GW_RETRY_RETRIABLE_HEADERS },
	{ "envoy-ratelimited", GW_RETRY_RATELIMITED },
	{ "http3-post-connect-failure", GW_RETRY_HTTP3_POST_CONNECT },
	{ "cancelled", GW_RETRY_GRPC_CANCELLED },
	{ "deadline-exceeded", GW_RETRY_GRPC_DEADLINE },
	{ "internal", GW_RETRY_GRPC_INTERNAL },
	{ "resource-exhausted", GW_RETRY_GRPC_EXHAUSTED },
	{ "unavailable", GW_RETRY_GRPC_UNAVAILABLE },
};

/* Istio's DefaultPolicy() retry_on, with retriable_status_codes [503] */
#define DEFAULT_ON	(GW_RETRY_CONNECT_FAILURE | GW_RETRY_REFUSED_STREAM | \
	GW_RETRY_GRPC_UNAVAILABLE | GW_RETRY_GRPC_CANCELLED | GW_RETRY_STATUS_CODES)

/* A status code as Istio takes one: an integer Go's http.StatusText knows (100-599 here). */
static int
status_item(const char *p, size_t len, int *code)
{
	int v = 0;
	size_t i;

	if (len == 0 || len > 3)
		return 0;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)p[i]))
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	if (v < 100 || v > 599)
		return 0;
	*code = v;
	return 1;
}

int
gw_retry_on_parse(const char *s, struct gw_retry_policy *pol, const char **bad, size_t *badlen)
{
	const char *p = s;

	pol->on = 0;
	pol->ncodes = 0;
	while (p && *p) {
		size_t len = strcspn(p, ","), i;
		const char *item = p;
		int code;

		p += len;
		if (*p == ',')
			p++;
		while (len && isspace((unsigned char)*item)) {
			item++;
			len--;
		}
		while (len && isspace((unsigned char)item[len - 1]))
			len--;
		if (len == 0)
			continue;
		if (status_item(item, len, &code)) {
			if (pol->ncodes == GW_RETRY_MAX_CODES)
				goto bad;
			pol->codes[pol->ncodes++] = (uint16_t)code;
			continue;
		}
		for (i = 0; i < sizeof(retry_names) / sizeof(retry_names[0]); i++)
			if (strlen(retry_names[i].name) == len &&
			    memcmp(retry_names[i].name, item, len) == 0)
				break;
		if (i == sizeof(retry_names) / sizeof(retry_names[0]))
			goto bad;
		pol->on |= retry_names[i].bit;
		continue;
bad:
		if (bad)
			*bad = item;
		if (badlen)
			*badlen = len;
		return -1;
	}
	/* Istio: codes without "retriable-status-codes" get it added */
	if (pol->ncodes)
		pol->on |= GW_RETRY_STATUS_CODES;
	return 0;
}

static void
policy_default(struct gw_retry_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->attempts = 2;
	pol->on = DEFAULT_ON;
	pol->codes[0] = 503;
	pol->ncodes = 1;
	pol->backoff_base_ms = GW_RETRY_BACKOFF_BASE_MS;
	pol->backoff_max_ms = 10 * GW_RETRY_BACKOFF_BASE_MS;
	pol->other_hosts = 1;
}

int
gw_retry_policy_compile(const struct k_vs_retries *in, struct gw_retry_policy *pol)
{
	int rc = 0;

	policy_default(pol);
	if (in == NULL)
		return 0;
	if (in->attempts <= 0) {
		/* "attempts: 0" disables retries: Envoy gets no retry policy */
		memset(pol, 0, sizeof(*pol));
		return 0;
	}
	pol->attempts = in->attempts;
	if (in->retry_on && *in->retry_on) {
		struct gw_retry_policy p = *pol;

		if (gw_retry_on_parse(in->retry_on, &p, NULL, NULL) == 0) {
			pol->on = p.on;
			memcpy(pol->codes, p.codes, sizeof(p.codes));
			pol->ncodes = p.ncodes;
		} else
			rc = -1;
	}
	if (in->per_try_timeout_ms.set)
		pol->per_try_timeout_ms = in->per_try_timeout_ms.v;
	if (in->backoff_ms.set && in->backoff_ms.v > 0) {
		/* Istio sets base_interval only; Envoy's max is then 10 x base */
		pol->backoff_base_ms = in->backoff_ms.v;
		pol->backoff_max_ms = 10 * in->backoff_ms.v;
	}
	if (in->retry_ignore_previous_hosts.set && !in->retry_ignore_previous_hosts.v)
		pol->other_hosts = 0;
	return rc;
}

static int
code_listed(const struct gw_retry_policy *pol, int status)
{
	size_t i;

	for (i = 0; i < pol->ncodes; i++)
		if (pol->codes[i] == status)
			return 1;
	return 0;
}

/* Envoy's wouldRetryFromHeaders, for what an HTTP/1.1 answer can carry. */
static int
retry_on_status(const struct gw_retry_policy *pol, int status)
{
	if ((pol->on & GW_RETRY_5XX) && status >= 500 && status <= 599)
		return 1;
	if ((pol->on & GW_RETRY_GATEWAY_ERROR) && status >= 502 && status <= 504)
		return 1;
	if ((pol->on & GW_RETRY_RETRIABLE_4XX) && status == 409)
		return 1;
	return (pol->on & GW_RETRY_STATUS_CODES) && code_listed(pol, status);
}

/*
 * Envoy's wouldRetryFromReset: a connect failure under connect-failure;
 * any reset (a per-try timeout is a local reset) under 5xx, gateway-error
 * or reset; reset-before-request while nothing reached the upstream (a
 * connect failure here, as requests go out right after the connect).
 */
static int
retry_on_reset(const struct gw_retry_policy *pol, enum gw_retry_ev ev)
{
	if (ev == GW_RETRY_EV_CONNECT && (pol->on & GW_RETRY_CONNECT_FAILURE))
		return 1;
	if (pol->on & (GW_RETRY_5XX | GW_RETRY_GATEWAY_ERROR | GW_RETRY_RESET))
		return 1;
	return ev == GW_RETRY_EV_CONNECT && (pol->on & GW_RETRY_RESET_BEFORE_REQUEST);
}

enum gw_retry_verdict
gw_retry_decide(const struct gw_retry_policy *pol, enum gw_retry_ev ev, int status,
    int overloaded, int64_t retries_done, int replayable)
{
	int hit;

	if (pol == NULL || pol->attempts <= 0 || !replayable)
		return GW_RETRY_NO;
	switch (ev) {
	case GW_RETRY_EV_STATUS:
		hit = !overloaded && retry_on_status(pol, status);
		break;
	case GW_RETRY_EV_CONNECT:
	case GW_RETRY_EV_RESET:
	case GW_RETRY_EV_PER_TRY_TIMEOUT:
		hit = retry_on_reset(pol, ev);
		break;
	case GW_RETRY_EV_REFUSED:
		/* refused-stream, and 5xx, gateway-error and reset, which Envoy's include it */
		hit = (pol->on & GW_RETRY_REFUSED_STREAM) || retry_on_reset(pol, ev);
		break;
	case GW_RETRY_EV_GRPC:
		/* Envoy's x-envoy-retry-grpc-on: read from the answer's head only */
		hit = (status == 1 && (pol->on & GW_RETRY_GRPC_CANCELLED)) ||
		    (status == 4 && (pol->on & GW_RETRY_GRPC_DEADLINE)) ||
		    (status == 8 && (pol->on & GW_RETRY_GRPC_EXHAUSTED)) ||
		    (status == 13 && (pol->on & GW_RETRY_GRPC_INTERNAL)) ||
		    (status == 14 && (pol->on & GW_RETRY_GRPC_UNAVAILABLE));
		break;
	default:
		return GW_RETRY_NO;	/* overflow is never retried */
	}
	if (!hit)
		return GW_RETRY_NO;
	return retries_done < pol->attempts ? GW_RETRY_YES : GW_RETRY_EXHAUSTED;
}

uint64_t
gw_retry_backoff_ms(const struct gw_retry_policy *pol, int64_t n, uint64_t rnd)
{
	uint64_t base = pol->backoff_base_ms > 0 ? (uint64_t)pol->backoff_base_ms : 0;
	uint64_t max = pol->backoff_max_ms > 0 ? (uint64_t)pol->backoff_max_ms : 10 * base;
	uint64_t iv = base;
	int64_t i;

	if (base == 0)
		return 0;
	if (max < base)
		max = base;
	/* the interval doubles each retry, held at the maximum */
	for (i = 1; i < n && iv < max; i++)
		iv = iv <= max / 2 ? iv * 2 : max;
	return rnd % iv;
}

int
gw_retry_host_ok(const struct gw_retry_policy *pol, const void *ep, const void *const *tried,
    size_t ntried)
{
	size_t i;

	if (!pol->other_hosts)
		return 1;
	for (i = 0; i < ntried; i++)
		if (tried[i] == ep)
			return 0;
	return 1;
}

/* Istio's translatePercentToFractionalPercent / translateIntegerToFractionalPercent */
static void
fraction(const struct k_istio_percent *pct, const struct opt_i64 *ipct, uint32_t *num,
    uint32_t *den)
{
	if (pct && pct->set) {
		double v = pct->value < 0 ? 0 : pct->value > 100 ? 100 : pct->value;

		*num = (uint32_t)(v * 10000.0 + 0.5);
		*den = 1000000;
	} else if (ipct && ipct->set) {
		*num = (uint32_t)(ipct->v < 0 ? 0 : ipct->v > 100 ? 100 : ipct->v);
		*den = 100;
	} else {
		/* no percentage: Envoy's FractionalPercent default, 0 of 100 */
		*num = 0;
		*den = 100;
	}
}

/*
 * The grpc-timeout field (gRPC over HTTP/2: 1 to 8 digits and a unit, H M
 * S m u n) in milliseconds, rounded up; -1 when malformed.
 */
int64_t
gw_grpc_timeout_ms(const char *v, size_t len)
{
	int64_t n = 0;
	size_t i;

	if (len < 2 || len > 9)
		return -1;
	for (i = 0; i + 1 < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	switch (v[len - 1]) {
	case 'H':
		return n * 3600000;
	case 'M':
		return n * 60000;
	case 'S':
		return n * 1000;
	case 'm':
		return n;
	case 'u':
		return (n + 999) / 1000;
	case 'n':
		return (n + 999999) / 1000000;
	default:
		return -1;
	}
}

/* Envoy's Grpc::Utility::httpToGrpcStatus: a local reply's status to a gRPC client. */
int
gw_http_to_grpc(int http)
{
	switch (http) {
	case 400:
		return 13;	/* INTERNAL */
	case 401:
		return 16;	/* UNAUTHENTICATED */
	case 403:
		return 7;	/* PERMISSION_DENIED */
	case 404:
		return 12;	/* UNIMPLEMENTED */
	case 429:
	case 502:
	case 503:
	case 504:
		return 14;	/* UNAVAILABLE */
	default:
		return 2;	/* UNKNOWN */
	}
}

/* Envoy's Grpc::Utility::grpcToHttpStatus. */
int
gw_grpc_to_http(int grpc)
{
	static const int map[17] = { 200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400,
	    501, 500, 503, 500, 401 };

	return grpc >= 0 && grpc < 17 ? map[grpc] : 500;
}

int
gw_fault_compile(const struct k_vs_fault *in, struct gw_fault *out)
{
	int code;

	memset(out, 0, sizeof(*out));
	if (in == NULL)
		return 0;
	if (in->delay && in->delay->fixed_delay_ms > 0) {
		out->delay_ms = in->delay->fixed_delay_ms;
		fraction(&in->delay->percentage, &in->delay->percent, &out->delay_num,
		    &out->delay_den);
	}
	if (in->abort && in->abort->http_status > 0) {
		out->abort_status = (int)in->abort->http_status;
		fraction(&in->abort->percentage, NULL, &out->abort_num, &out->abort_den);
	} else if (in->abort && in->abort->grpc_status &&
	    (code = grpc_status_code(in->abort->grpc_status)) >= 0) {
		/* a gRPC request gets the status; any other its HTTP equivalent */
		out->abort_grpc = code + 1;
		out->abort_status = gw_grpc_to_http(code);
		fraction(&in->abort->percentage, NULL, &out->abort_num, &out->abort_den);
	}
	return out->delay_ms > 0 || out->abort_status > 0;
}

int
gw_fraction_hit(uint32_t num, uint32_t den, uint64_t rnd)
{
	if (den == 0 || num == 0)
		return 0;
	if (num >= den)
		return 1;
	return rnd % den < num;
}

/* ---- response flags ---- */

/* Envoy's order of the short flags (stream_info/utility.cc) */
static const char *const flag_order[] = {
	"LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX",
	"RLSE", "DC", "URX", "SI", "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC",
	"OM", "DF", "DO", "DR",
};
#define NFLAGS	(sizeof(flag_order) / sizeof(flag_order[0]))

static pthread_mutex_t flags_mu = PTHREAD_MUTEX_INITIALIZER;
static char flags_tab[128][48];
static size_t flags_n;

/* Add the bits of the flags in s (comma-separated); unknown ones are kept out. */
static uint64_t
flags_bits(const char *s)
{
	uint64_t b = 0;

	while (s && *s) {
		size_t len = strcspn(s, ","), i;

		for (i = 0; i < NFLAGS; i++)
			if (strlen(flag_order[i]) == len && memcmp(flag_order[i], s, len) == 0)
				b |= (uint64_t)1 << i;
		s += len;
		if (*s == ',')
			s++;
	}
	return b;
}

const char *
gw_flags_add(const char *flags, const char *add)
{
	char buf[sizeof(flags_tab[0])];
	uint64_t b;
	size_t i, n = 0;
	const char *r = NULL;

	if (flags == NULL || *flags == '\0' || strcmp(flags, "-") == 0)
		flags = NULL;
	if (add == NULL || *add == '\0' || strcmp(add, "-") == 0)
		return flags ? flags : "-";
	if (flags == NULL && strchr(add, ',') == NULL)
		return add;	/* a single flag: callers pass string constants */
	b = flags_bits(flags) | flags_bits(add);
	for (i = 0; i < NFLAGS; i++)
		if (b & ((uint64_t)1 << i)) {
			size_t l = strlen(flag_order[i]);

			if (n + l + 2 > sizeof(buf))
				break;
			if (n)
				buf[n++] = ',';
			memcpy(buf + n, flag_order[i], l);
			n += l;
		}
	buf[n] = '\0';
	if (n == 0)
		return flags ? flags : add;
	pthread_mutex_lock(&flags_mu);
	for (i = 0; i < flags_n && r == NULL; i++)
		if (strcmp(flags_tab[i], buf) == 0)
			r = flags_tab[i];
	if (r == NULL && flags_n < sizeof(flags_tab) / sizeof(flags_tab[0])) {
		memcpy(flags_tab[flags_n], buf, n + 1);
		r = flags_tab[flags_n++];
	}
	pthread_mutex_unlock(&flags_mu);
	/* the table is full (it holds far more than Envoy's combinations): keep the first */
	return r ? r : flags ? flags : add;
}
