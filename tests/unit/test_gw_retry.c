/*
 * Retry policy (retryOn parsing, Istio's defaults, Envoy's retry decisions),
 * back-off bounds, the previous-hosts predicate, fault fractions and
 * response flags.
 */
#include "config.h"

#include "cu.h"
#include "fixture.h"
#include "vipgate/gw-retry.h"

static void
t_parse_names_and_codes(void)
{
	struct gw_retry_policy p;
	const char *bad = NULL;
	size_t badlen = 0;

	memset(&p, 0, sizeof(p));
	CU_ASSERT_EQUAL(gw_retry_on_parse("5xx,reset, connect-failure ,retriable-4xx,,503,429",
	    &p, &bad, &badlen), 0);
	CU_ASSERT_EQUAL(p.on, GW_RETRY_5XX | GW_RETRY_RESET | GW_RETRY_CONNECT_FAILURE |
	    GW_RETRY_RETRIABLE_4XX | GW_RETRY_STATUS_CODES);
	CU_ASSERT_EQUAL(p.ncodes, 2);
	CU_ASSERT_EQUAL(p.codes[0], 503);
	CU_ASSERT_EQUAL(p.codes[1], 429);

	/* gRPC names are accepted (and have no effect on HTTP/1.1 answers) */
	CU_ASSERT_EQUAL(gw_retry_on_parse("cancelled,deadline-exceeded,internal,"
	    "resource-exhausted,unavailable,refused-stream,gateway-error", &p, NULL, NULL), 0);
	CU_ASSERT_EQUAL(p.on, GW_RETRY_GRPC_CANCELLED | GW_RETRY_GRPC_DEADLINE |
	    GW_RETRY_GRPC_INTERNAL | GW_RETRY_GRPC_EXHAUSTED | GW_RETRY_GRPC_UNAVAILABLE |
	    GW_RETRY_REFUSED_STREAM | GW_RETRY_GATEWAY_ERROR);
	CU_ASSERT_EQUAL(p.ncodes, 0);

	/* unknown names and out-of-range codes are errors naming the item */
	CU_ASSERT_EQUAL(gw_retry_on_parse("5xx,bogus,503", &p, &bad, &badlen), -1);
	CU_ASSERT_EQUAL(badlen, 5);
	CU_ASSERT_NSTRING_EQUAL(bad, "bogus", 5);
	CU_ASSERT_EQUAL(gw_retry_on_parse("600", &p, &bad, &badlen), -1);
	CU_ASSERT_EQUAL(gw_retry_on_parse("5XX", &p, &bad, &badlen), -1);
	CU_ASSERT_EQUAL(gw_retry_on_parse("", &p, &bad, &badlen), 0);
	CU_ASSERT_EQUAL(p.on, 0);
}

static void
t_parse_too_many_codes(void)
{
	struct gw_retry_policy p;
	char s[512] = "";
	size_t i;

	for (i = 0; i < GW_RETRY_MAX_CODES; i++)
		snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s%zu", i ? "," : "", 500 + i);
	CU_ASSERT_EQUAL(gw_retry_on_parse(s, &p, NULL, NULL), 0);
	CU_ASSERT_EQUAL(p.ncodes, GW_RETRY_MAX_CODES);
	strcat(s, ",599");
	CU_ASSERT_EQUAL(gw_retry_on_parse(s, &p, NULL, NULL), -1);
}

static void
t_policy_defaults(void)
{
	struct gw_retry_policy p;
	struct k_vs_retries r;

	/* unset: Istio's DefaultPolicy() */
	CU_ASSERT_EQUAL(gw_retry_policy_compile(NULL, &p), 0);
	CU_ASSERT_EQUAL(p.attempts, 2);
	CU_ASSERT_EQUAL(p.on, GW_RETRY_CONNECT_FAILURE | GW_RETRY_REFUSED_STREAM |
	    GW_RETRY_GRPC_UNAVAILABLE | GW_RETRY_GRPC_CANCELLED | GW_RETRY_STATUS_CODES);
	CU_ASSERT_EQUAL(p.ncodes, 1);
	CU_ASSERT_EQUAL(p.codes[0], 503);
	CU_ASSERT_EQUAL(p.backoff_base_ms, 25);
	CU_ASSERT_EQUAL(p.backoff_max_ms, 250);
	CU_ASSERT_EQUAL(p.per_try_timeout_ms, 0);
	CU_ASSERT(p.other_hosts);

	/* attempts 0: no policy at all */
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(gw_retry_policy_compile(&r, &p), 0);
	CU_ASSERT_EQUAL(p.attempts, 0);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_CONNECT, 0, 0, 0, 1), GW_RETRY_NO);

	/* attempts only: the default conditions stay */
	r.attempts = 5;
	CU_ASSERT_EQUAL(gw_retry_policy_compile(&r, &p), 0);
	CU_ASSERT_EQUAL(p.attempts, 5);
	CU_ASSERT(p.on & GW_RETRY_CONNECT_FAILURE);
	CU_ASSERT_EQUAL(p.codes[0], 503);

	/* retryOn replaces conditions and codes; codes imply retriable-status-codes */
	r.retry_on = "gateway-error,409";
	r.per_try_timeout_ms.set = 1;
	r.per_try_timeout_ms.v = 300;
	r.backoff_ms.set = 1;
	r.backoff_ms.v = 10;
	r.retry_ignore_previous_hosts.set = 1;
	r.retry_ignore_previous_hosts.v = 0;
	CU_ASSERT_EQUAL(gw_retry_policy_compile(&r, &p), 0);
	CU_ASSERT_EQUAL(p.on, GW_RETRY_GATEWAY_ERROR | GW_RETRY_STATUS_CODES);
	CU_ASSERT_EQUAL(p.ncodes, 1);
	CU_ASSERT_EQUAL(p.codes[0], 409);
	CU_ASSERT_EQUAL(p.per_try_timeout_ms, 300);
	CU_ASSERT_EQUAL(p.backoff_base_ms, 10);
	CU_ASSERT_EQUAL(p.backoff_max_ms, 100);
	CU_ASSERT_FALSE(p.other_hosts);

	/* a retryOn that does not parse: reported, the default conditions kept */
	r.retry_on = "5xx,nonsense";
	CU_ASSERT_EQUAL(gw_retry_policy_compile(&r, &p), -1);
	CU_ASSERT_EQUAL(p.attempts, 5);
	CU_ASSERT(p.on & GW_RETRY_CONNECT_FAILURE);
}

static struct gw_retry_policy
pol(const char *on, int64_t attempts)
{
	struct gw_retry_policy p;

	memset(&p, 0, sizeof(p));
	CU_ASSERT_EQUAL_FATAL(gw_retry_on_parse(on, &p, NULL, NULL), 0);
	p.attempts = attempts;
	p.backoff_base_ms = 25;
	p.backoff_max_ms = 250;
	p.other_hosts = 1;
	return p;
}

static void
t_decide_status(void)
{
	struct gw_retry_policy p = pol("5xx", 2);
	int s;

	for (s = 500; s <= 599; s++)
		CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, s, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 404, 0, 0, 1), GW_RETRY_NO);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 200, 0, 0, 1), GW_RETRY_NO);
	/* x-envoy-overloaded answers are never retried */
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 503, 1, 0, 1), GW_RETRY_NO);

	p = pol("gateway-error", 2);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 500, 0, 0, 1), GW_RETRY_NO);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 502, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 503, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 504, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 505, 0, 0, 1), GW_RETRY_NO);

	p = pol("retriable-4xx", 2);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 409, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 429, 0, 0, 1), GW_RETRY_NO);

	p = pol("retriable-status-codes,429,418", 2);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 429, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 418, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 503, 0, 0, 1), GW_RETRY_NO);

	/* gRPC conditions look at grpc-status only: no effect on a 503 */
	p = pol("unavailable,cancelled", 2);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 503, 0, 0, 1), GW_RETRY_NO);

	/* Istio's default: only 503 among answers */
	gw_retry_policy_compile(NULL, &p);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 503, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 500, 0, 0, 1), GW_RETRY_NO);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 502, 0, 0, 1), GW_RETRY_NO);
}

static void
t_decide_resets(void)
{
	struct gw_retry_policy p;

	/* Istio's default: connect failures only */
	gw_retry_policy_compile(NULL, &p);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_CONNECT, 0, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_RESET, 0, 0, 0, 1), GW_RETRY_NO);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_PER_TRY_TIMEOUT, 0, 0, 0, 1), GW_RETRY_NO);

	/* 5xx, gateway-error and reset cover every reset and the per-try timeout */
	p = pol("5xx", 1);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_CONNECT, 0, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_RESET, 0, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_PER_TRY_TIMEOUT, 0, 0, 0, 1), GW_RETRY_YES);
	p = pol("gateway-error", 1);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_PER_TRY_TIMEOUT, 0, 0, 0, 1), GW_RETRY_YES);
	p = pol("reset", 1);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_RESET, 0, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 503, 0, 0, 1), GW_RETRY_NO);

	/* reset-before-request: nothing was sent, which is a connect failure here */
	p = pol("reset-before-request", 1);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_CONNECT, 0, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_RESET, 0, 0, 0, 1), GW_RETRY_NO);

	/* connect-failure alone: a reset after connecting is not retried */
	p = pol("connect-failure", 1);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_RESET, 0, 0, 0, 1), GW_RETRY_NO);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_PER_TRY_TIMEOUT, 0, 0, 0, 1), GW_RETRY_NO);

	/* refused-stream is an HTTP/2 reset: not a connect failure nor a reset here */
	p = pol("refused-stream", 1);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_CONNECT, 0, 0, 0, 1), GW_RETRY_NO);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_RESET, 0, 0, 0, 1), GW_RETRY_NO);

	/* overflow: never */
	p = pol("5xx,reset,connect-failure", 3);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_OVERFLOW, 0, 0, 0, 1), GW_RETRY_NO);
}

static void
t_decide_attempts_and_body(void)
{
	struct gw_retry_policy p = pol("5xx", 2);

	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 503, 0, 0, 1), GW_RETRY_YES);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 503, 0, 1, 1), GW_RETRY_YES);
	/* two retries made: the third failure is final, URX */
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 503, 0, 2, 1), GW_RETRY_EXHAUSTED);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_RESET, 0, 0, 2, 1), GW_RETRY_EXHAUSTED);
	/* not a retry condition: no URX either */
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 200, 0, 2, 1), GW_RETRY_NO);
	/* a body that outgrew the replay buffer: never retried, and no URX */
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_STATUS, 503, 0, 0, 0), GW_RETRY_NO);
	CU_ASSERT_EQUAL(gw_retry_decide(&p, GW_RETRY_EV_CONNECT, 0, 0, 0, 0), GW_RETRY_NO);
	CU_ASSERT_EQUAL(gw_retry_decide(NULL, GW_RETRY_EV_CONNECT, 0, 0, 0, 1), GW_RETRY_NO);
}

static void
t_backoff_bounds(void)
{
	struct gw_retry_policy p = pol("5xx", 10);
	/* Envoy: full jitter below 25, 50, 100, 200 ms, then held at 250 */
	static const uint64_t iv[] = { 25, 50, 100, 200, 250, 250, 250, 250 };
	uint64_t seen_max[8] = { 0 }, r = 12345;
	int64_t n;
	int i;

	for (n = 1; n <= 8; n++) {
		CU_ASSERT_EQUAL(gw_retry_backoff_ms(&p, n, iv[n - 1] - 1), iv[n - 1] - 1);
		CU_ASSERT_EQUAL(gw_retry_backoff_ms(&p, n, iv[n - 1]), 0);
		for (i = 0; i < 2000; i++) {
			uint64_t b;

			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			b = gw_retry_backoff_ms(&p, n, r >> 11);
			CU_ASSERT(b < iv[n - 1]);
			if (b > seen_max[n - 1])
				seen_max[n - 1] = b;
		}
		/* the jitter spans the interval */
		CU_ASSERT(seen_max[n - 1] >= iv[n - 1] * 9 / 10);
	}
	CU_ASSERT(gw_retry_backoff_ms(&p, 1000000, UINT64_MAX) < 250);
	/* a backoff of its own: 10 x base at most */
	p.backoff_base_ms = 100;
	p.backoff_max_ms = 1000;
	CU_ASSERT_EQUAL(gw_retry_backoff_ms(&p, 5, 999), 999);
	CU_ASSERT_EQUAL(gw_retry_backoff_ms(&p, 5, 1000), 0);
	p.backoff_base_ms = 0;
	CU_ASSERT_EQUAL(gw_retry_backoff_ms(&p, 3, 77), 0);
}

static void
t_previous_hosts(void)
{
	struct gw_retry_policy p = pol("5xx", 2);
	int a, b, c;
	const void *tried[2] = { &a, &b };

	CU_ASSERT_FALSE(gw_retry_host_ok(&p, &a, tried, 2));
	CU_ASSERT_FALSE(gw_retry_host_ok(&p, &b, tried, 2));
	CU_ASSERT(gw_retry_host_ok(&p, &c, tried, 2));
	CU_ASSERT(gw_retry_host_ok(&p, &a, tried, 0));
	p.other_hosts = 0;	/* retryIgnorePreviousHosts: false */
	CU_ASSERT(gw_retry_host_ok(&p, &a, tried, 2));
}

static void
t_fault(void)
{
	struct k_vs_fault f;
	struct k_vs_fault_delay d;
	struct k_vs_fault_abort a;
	struct gw_fault g;
	uint64_t r, hits = 0;

	memset(&f, 0, sizeof(f));
	memset(&d, 0, sizeof(d));
	memset(&a, 0, sizeof(a));
	CU_ASSERT_EQUAL(gw_fault_compile(NULL, &g), 0);
	CU_ASSERT_EQUAL(gw_fault_compile(&f, &g), 0);
	d.fixed_delay_ms = 200;
	d.percentage.set = 1;
	d.percentage.value = 12.5;
	a.http_status = 503;
	a.percentage.set = 1;
	a.percentage.value = 100;
	f.delay = &d;
	f.abort = &a;
	CU_ASSERT_EQUAL(gw_fault_compile(&f, &g), 1);
	CU_ASSERT_EQUAL(g.delay_ms, 200);
	CU_ASSERT_EQUAL(g.delay_num, 125000);
	CU_ASSERT_EQUAL(g.delay_den, 1000000);
	CU_ASSERT_EQUAL(g.abort_status, 503);
	CU_ASSERT_EQUAL(g.abort_num, 1000000);
	/* the deprecated integer percent */
	d.percentage.set = 0;
	d.percent.set = 1;
	d.percent.v = 30;
	gw_fault_compile(&f, &g);
	CU_ASSERT_EQUAL(g.delay_num, 30);
	CU_ASSERT_EQUAL(g.delay_den, 100);
	/* no percentage at all: Envoy's default fraction, 0% */
	d.percent.set = 0;
	a.percentage.set = 0;
	gw_fault_compile(&f, &g);
	CU_ASSERT_EQUAL(g.delay_num, 0);
	CU_ASSERT_EQUAL(g.abort_num, 0);
	CU_ASSERT_FALSE(gw_fraction_hit(g.abort_num, g.abort_den, 0));
	/* a gRPC abort: its code for gRPC requests, Envoy's HTTP equivalent for others */
	f.delay = NULL;
	a.http_status = 0;
	a.grpc_status = "UNAVAILABLE";
	a.percentage.set = 1;
	CU_ASSERT_EQUAL(gw_fault_compile(&f, &g), 1);
	CU_ASSERT_EQUAL(g.abort_grpc, 14 + 1);
	CU_ASSERT_EQUAL(g.abort_status, 503);
	a.grpc_status = "RESOURCE_EXHAUSTED";
	gw_fault_compile(&f, &g);
	CU_ASSERT_EQUAL(g.abort_grpc, 8 + 1);
	CU_ASSERT_EQUAL(g.abort_status, 429);
	a.grpc_status = "NO_SUCH_STATUS";
	CU_ASSERT_EQUAL(gw_fault_compile(&f, &g), 0);
	/* grpc-timeout */
	CU_ASSERT_EQUAL(gw_grpc_timeout_ms("300m", 4), 300);
	CU_ASSERT_EQUAL(gw_grpc_timeout_ms("2S", 2), 2000);
	CU_ASSERT_EQUAL(gw_grpc_timeout_ms("1M", 2), 60000);
	CU_ASSERT_EQUAL(gw_grpc_timeout_ms("1H", 2), 3600000);
	CU_ASSERT_EQUAL(gw_grpc_timeout_ms("1500u", 5), 2);
	CU_ASSERT_EQUAL(gw_grpc_timeout_ms("1n", 2), 1);
	CU_ASSERT_EQUAL(gw_grpc_timeout_ms("99999999S", 9), 99999999000LL);
	CU_ASSERT_EQUAL(gw_grpc_timeout_ms("123456789S", 10), -1);
	CU_ASSERT_EQUAL(gw_grpc_timeout_ms("S", 1), -1);
	CU_ASSERT_EQUAL(gw_grpc_timeout_ms("10x", 3), -1);
	CU_ASSERT_EQUAL(gw_grpc_timeout_ms("-1S", 3), -1);
	/* Envoy's local reply mapping, HTTP to gRPC */
	{
		struct gw_retry_policy pol;

		memset(&pol, 0, sizeof(pol));
		pol.attempts = 2;
		pol.on = GW_RETRY_GRPC_UNAVAILABLE | GW_RETRY_GRPC_CANCELLED;
		CU_ASSERT_EQUAL(gw_retry_decide(&pol, GW_RETRY_EV_GRPC, 14, 0, 0, 1), GW_RETRY_YES);
		CU_ASSERT_EQUAL(gw_retry_decide(&pol, GW_RETRY_EV_GRPC, 1, 0, 1, 1), GW_RETRY_YES);
		CU_ASSERT_EQUAL(gw_retry_decide(&pol, GW_RETRY_EV_GRPC, 14, 0, 2, 1), GW_RETRY_EXHAUSTED);
		CU_ASSERT_EQUAL(gw_retry_decide(&pol, GW_RETRY_EV_GRPC, 13, 0, 0, 1), GW_RETRY_NO);
		CU_ASSERT_EQUAL(gw_retry_decide(&pol, GW_RETRY_EV_GRPC, 5, 0, 0, 1), GW_RETRY_NO);
		/* REFUSED_STREAM: refused-stream, or what includes it */
		pol.on = GW_RETRY_REFUSED_STREAM;
		CU_ASSERT_EQUAL(gw_retry_decide(&pol, GW_RETRY_EV_REFUSED, 0, 0, 0, 1), GW_RETRY_YES);
		CU_ASSERT_EQUAL(gw_retry_decide(&pol, GW_RETRY_EV_RESET, 0, 0, 0, 1), GW_RETRY_NO);
		pol.on = GW_RETRY_5XX;
		CU_ASSERT_EQUAL(gw_retry_decide(&pol, GW_RETRY_EV_REFUSED, 0, 0, 0, 1), GW_RETRY_YES);
		pol.on = GW_RETRY_CONNECT_FAILURE;
		CU_ASSERT_EQUAL(gw_retry_decide(&pol, GW_RETRY_EV_REFUSED, 0, 0, 0, 1), GW_RETRY_NO);
		pol.on = GW_RETRY_GRPC_INTERNAL | GW_RETRY_GRPC_EXHAUSTED | GW_RETRY_GRPC_DEADLINE;
		CU_ASSERT_EQUAL(gw_retry_decide(&pol, GW_RETRY_EV_GRPC, 13, 0, 0, 1), GW_RETRY_YES);
		CU_ASSERT_EQUAL(gw_retry_decide(&pol, GW_RETRY_EV_GRPC, 8, 0, 0, 1), GW_RETRY_YES);
		CU_ASSERT_EQUAL(gw_retry_decide(&pol, GW_RETRY_EV_GRPC, 4, 0, 0, 1), GW_RETRY_YES);
		CU_ASSERT_EQUAL(gw_retry_decide(&pol, GW_RETRY_EV_GRPC, 14, 0, 0, 1), GW_RETRY_NO);
	}
	CU_ASSERT_EQUAL(gw_http_to_grpc(400), 13);
	CU_ASSERT_EQUAL(gw_http_to_grpc(401), 16);
	CU_ASSERT_EQUAL(gw_http_to_grpc(403), 7);
	CU_ASSERT_EQUAL(gw_http_to_grpc(404), 12);
	CU_ASSERT_EQUAL(gw_http_to_grpc(429), 14);
	CU_ASSERT_EQUAL(gw_http_to_grpc(503), 14);
	CU_ASSERT_EQUAL(gw_http_to_grpc(504), 14);
	CU_ASSERT_EQUAL(gw_http_to_grpc(500), 2);
	CU_ASSERT_EQUAL(gw_grpc_to_http(0), 200);
	CU_ASSERT_EQUAL(gw_grpc_to_http(4), 504);
	CU_ASSERT_EQUAL(gw_grpc_to_http(12), 501);
	CU_ASSERT_EQUAL(gw_grpc_to_http(16), 401);
	CU_ASSERT_EQUAL(gw_grpc_to_http(99), 500);

	CU_ASSERT(gw_fraction_hit(100, 100, 12345));
	CU_ASSERT(gw_fraction_hit(1000000, 1000000, 999999999));
	CU_ASSERT_FALSE(gw_fraction_hit(0, 100, 0));
	CU_ASSERT(gw_fraction_hit(50, 100, 49));
	CU_ASSERT_FALSE(gw_fraction_hit(50, 100, 50));
	for (r = 0; r < 100000; r++)
		hits += gw_fraction_hit(500000, 1000000, r * 2654435761ULL);
	CU_ASSERT(hits > 49000 && hits < 51000);
}

static void
t_flags(void)
{
	const char *a, *b;

	CU_ASSERT_STRING_EQUAL(gw_flags_add("-", "UF"), "UF");
	CU_ASSERT_STRING_EQUAL(gw_flags_add(NULL, "-"), "-");
	CU_ASSERT_STRING_EQUAL(gw_flags_add("UT", NULL), "UT");
	a = gw_flags_add("UF", "URX");
	CU_ASSERT_STRING_EQUAL(a, "UF,URX");
	/* Envoy's order whatever the order of adding; interned */
	b = gw_flags_add("URX", "UF");
	CU_ASSERT_PTR_EQUAL(a, b);
	CU_ASSERT_STRING_EQUAL(gw_flags_add("URX", "UT"), "UT,URX");
	CU_ASSERT_STRING_EQUAL(gw_flags_add(gw_flags_add("DI", "FI"), "UT"), "UT,DI,FI");
	CU_ASSERT_STRING_EQUAL(gw_flags_add("DI", "DI"), "DI");
}

/* What reconcile compiles from a VirtualService's retries, timeout and fault. */
static const char compile_objs[] =
    "apiVersion: networking.istio.io/v1\n"
    "kind: Gateway\n"
    "metadata: {name: gw, namespace: default}\n"
    "spec:\n"
    "  selector: {istio: ingressgateway}\n"
    "  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [\"r.test\"]}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata: {name: web, namespace: default}\n"
    "spec: {ports: [{port: 80}]}\n"
    "---\n"
    "apiVersion: networking.istio.io/v1\n"
    "kind: VirtualService\n"
    "metadata: {name: vs, namespace: default}\n"
    "spec:\n"
    "  hosts: [r.test]\n"
    "  gateways: [gw]\n"
    "  http:\n"
    "  - match: [{uri: {prefix: /default}}]\n"
    "    route: [{destination: {host: web}}]\n"
    "  - match: [{uri: {prefix: /off}}]\n"
    "    retries: {attempts: 0}\n"
    "    route: [{destination: {host: web}}]\n"
    "  - match: [{uri: {prefix: /custom}}]\n"
    "    timeout: 2s\n"
    "    retries: {attempts: 4, perTryTimeout: 250ms, retryOn: \"reset,429,gateway-error\",\n"
    "              backoff: 40ms, retryIgnorePreviousHosts: false}\n"
    "    route: [{destination: {host: web}}]\n"
    "  - match: [{uri: {prefix: /fault}}]\n"
    "    fault:\n"
    "      delay: {fixedDelay: 1.5s, percent: 20}\n"
    "      abort: {httpStatus: 503}\n"
    "    route: [{destination: {host: web}}]\n";

static const struct gw_route *
compiled_route(const struct gw_desired *g, size_t rule)
{
	size_t l, c, v, r;

	for (l = 0; l < g->nlisteners; l++)
		for (c = 0; c < g->listeners[l].nchains; c++)
			for (v = 0; v < g->listeners[l].chains[c].nvhosts; v++) {
				const struct gw_vhost *vh = &g->listeners[l].chains[c].vhosts[v];

				for (r = 0; r < vh->nroutes; r++)
					if (vh->routes[r].rule == rule)
						return &vh->routes[r];
			}
	return NULL;
}

static void
t_compile(void)
{
	struct fixture fx;
	struct live_view live = { 0 };
	struct desired *d;
	const struct gw_route *r;
	size_t i;
	int noted = 0;

	fx_load(&fx, "node: {name: node-a}\n", compile_objs);
	live.gateway_ready = 1;
	d = reconcile(fx.st, fx.cfg, &live);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d->gw);

	r = compiled_route(d->gw, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->timeout_ms, 0);	/* Istio: no timeout unless set */
	CU_ASSERT_EQUAL(r->retry.attempts, 2);
	CU_ASSERT(r->retry.on & GW_RETRY_CONNECT_FAILURE);
	CU_ASSERT_EQUAL(r->retry.ncodes, 1);
	CU_ASSERT_EQUAL(r->retry.codes[0], 503);
	CU_ASSERT_PTR_NULL(r->fault);

	r = compiled_route(d->gw, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->retry.attempts, 0);
	CU_ASSERT_EQUAL(gw_retry_decide(&r->retry, GW_RETRY_EV_CONNECT, 0, 0, 0, 1), GW_RETRY_NO);

	r = compiled_route(d->gw, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->timeout_ms, 2000);
	CU_ASSERT_EQUAL(r->retry.attempts, 4);
	CU_ASSERT_EQUAL(r->retry.per_try_timeout_ms, 250);
	CU_ASSERT_EQUAL(r->retry.on, GW_RETRY_RESET | GW_RETRY_GATEWAY_ERROR | GW_RETRY_STATUS_CODES);
	CU_ASSERT_EQUAL(r->retry.ncodes, 1);
	CU_ASSERT_EQUAL(r->retry.codes[0], 429);
	CU_ASSERT_EQUAL(r->retry.backoff_base_ms, 40);
	CU_ASSERT_EQUAL(r->retry.backoff_max_ms, 400);
	CU_ASSERT_FALSE(r->retry.other_hosts);

	r = compiled_route(d->gw, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->fault);
	CU_ASSERT_EQUAL(r->fault->delay_ms, 1500);
	CU_ASSERT_EQUAL(r->fault->delay_num, 20);
	CU_ASSERT_EQUAL(r->fault->delay_den, 100);
	CU_ASSERT_EQUAL(r->fault->abort_status, 503);
	CU_ASSERT_EQUAL(r->fault->abort_num, 0);
	/* an abort without percentage aborts nothing: analyze says so */
	for (i = 0; i < d->gw->nnotes; i++)
		if (strstr(d->gw->notes[i].msg, "fault.abort has no percentage"))
			noted = 1;
	CU_ASSERT(noted);
	desired_unref(d);
	fx_free(&fx);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "retryOn: names and codes", t_parse_names_and_codes },
		{ "retryOn: code limit", t_parse_too_many_codes },
		{ "policy: Istio's defaults and overrides", t_policy_defaults },
		{ "decide: status codes", t_decide_status },
		{ "decide: connect failures, resets, per-try timeouts", t_decide_resets },
		{ "decide: attempts, URX, body too big", t_decide_attempts_and_body },
		{ "backoff: Envoy's jittered exponential bounds", t_backoff_bounds },
		{ "previous hosts predicate", t_previous_hosts },
		{ "fault: fractions and compile", t_fault },
		{ "response flags joined in Envoy's order", t_flags },
		{ "reconcile compiles retries, timeout and fault", t_compile },
		{ NULL, NULL },
	};

	return cu_run("gw_retry", tests);
}
