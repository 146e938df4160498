/*
 * ctl: the control protocol codec, the text tables and renderers, the
 * client's exchange against an in-test server, and vipgatectl itself run
 * against that server.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cu.h"
#include "vipgate/ctl.h"

#define CU_ASSERT_STRSTR(hay, needle) do {				\
	const char *h_ = (hay), *n_ = (needle);				\
	CU_ASSERT_PTR_NOT_NULL(h_);					\
	if (h_ && !strstr(h_, n_)) {					\
		fprintf(stderr, "\n  \"%s\"\n  lacks \"%s\"\n", h_, n_);	\
		CU_FAIL(n_);						\
	}								\
} while (0)

/* Exact text comparison that shows both on a mismatch. */
#define CU_ASSERT_TEXT(got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	CU_ASSERT_PTR_NOT_NULL(g_);					\
	if (g_ && strcmp(g_, w_) != 0) {				\
		fprintf(stderr, "\n--- got\n%s--- want\n%s---\n", g_, w_); \
		CU_FAIL("text differs");				\
	}								\
} while (0)

static json_t *
J(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, JSON_DECODE_ANY, &e);

	if (v == NULL) {
		fprintf(stderr, "bad test JSON: %s: %s\n", e.text, s);
		abort();
	}
	return v;
}

typedef int (*render_fn)(FILE *, const json_t *);

/* Render JSON text with fn into a string; *rc gets fn's return. */
static char *
render(render_fn fn, const char *json, int *rc)
{
	json_t *v = J(json);
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	int r;

	r = fn(f, v);
	fclose(f);
	json_decref(v);
	if (rc)
		*rc = r;
	return s;
}

/* ---- requests ---- */

static void
test_request_encode(void)
{
	const char *args[] = { "routes" };
	char *s;

	s = ctl_request_encode("status", NULL, 0);
	CU_ASSERT_TEXT(s, "{\"command\":\"status\"}\n");
	free(s);
	s = ctl_request_encode("gateway", args, 1);
	CU_ASSERT_TEXT(s, "{\"command\":\"gateway\",\"args\":[\"routes\"]}\n");
	free(s);
	/* JSON cannot carry bytes that are not UTF-8. */
	CU_ASSERT_PTR_NULL(ctl_request_encode("st\xff", NULL, 0));
	args[0] = "\xc3";
	CU_ASSERT_PTR_NULL(ctl_request_encode("gateway", args, 1));
}

static void
test_request_roundtrip(void)
{
	const char *args[] = { "listeners", "with \"quotes\"\nand a newline", "é" };
	struct ctl_request r;
	char *line, *err;

	line = ctl_request_encode("gateway", args, 3);
	/* one line: the only newline is the last byte */
	CU_ASSERT_PTR_EQUAL(strchr(line, '\n'), line + strlen(line) - 1);
	CU_ASSERT_EQUAL(ctl_request_decode(line, strlen(line), &r, &err), 0);
	CU_ASSERT_PTR_NULL(err);
	CU_ASSERT_STRING_EQUAL(r.command, "gateway");
	CU_ASSERT_EQUAL(r.nargs, 3);
	CU_ASSERT_STRING_EQUAL(r.args[0], "listeners");
	CU_ASSERT_STRING_EQUAL(r.args[1], args[1]);
	CU_ASSERT_STRING_EQUAL(r.args[2], "é");
	ctl_request_free(&r);
	free(line);

	line = ctl_request_encode("status", NULL, 0);
	CU_ASSERT_EQUAL(ctl_request_decode(line, strlen(line), &r, &err), 0);
	CU_ASSERT_STRING_EQUAL(r.command, "status");
	CU_ASSERT_EQUAL(r.nargs, 0);
	CU_ASSERT_PTR_NULL(r.args);
	ctl_request_free(&r);
	free(line);
}

static void
test_request_lenient(void)
{
	static const char *ok[] = {
		"{\"command\":\"status\"}",		/* no newline */
		"{\"command\":\"status\"}\r\n",		/* a telnet user */
		" {\"command\" : \"status\", \"args\": null} \n",
		"{\"command\":\"status\",\"args\":[],\"from\":\"a newer client\"}\n",
	};
	struct ctl_request r;
	char *err;
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(ok); i++) {
		CU_ASSERT_EQUAL(ctl_request_decode(ok[i], strlen(ok[i]), &r, &err), 0);
		CU_ASSERT_PTR_NULL(err);
		CU_ASSERT_STRING_EQUAL(r.command, "status");
		CU_ASSERT_EQUAL(r.nargs, 0);
		ctl_request_free(&r);
	}
}

static void
test_request_malformed(void)
{
	static const struct {
		const char *in, *err;
	} bad[] = {
		{ "status\n", "request is not JSON: " },
		{ "", "request is not JSON: " },
		{ "\n", "request is not JSON: " },
		{ "{\"command\":\"status\"", "request is not JSON: " },
		{ "{\"command\":\"status\"} x", "request is not JSON: " },
		{ "{\"command\":\"s\\u0000\"}", "request is not JSON: " },
		{ "[\"status\"]", "request must be a JSON object, not an array" },
		{ "\"status\"", "request must be a JSON object, not a string" },
		{ "null", "request must be a JSON object, not null" },
		{ "{}", "request has no \"command\"" },
		{ "{\"cmd\":\"status\"}", "request has no \"command\"" },
		{ "{\"command\":3}", "\"command\" must be a string, not a number" },
		{ "{\"command\":null}", "\"command\" must be a string, not null" },
		{ "{\"command\":[\"status\"]}", "\"command\" must be a string, not an array" },
		{ "{\"command\":\"\"}", "\"command\" must not be empty" },
		{ "{\"command\":\"gateway\",\"args\":\"routes\"}",
		  "\"args\" must be an array of strings, not a string" },
		{ "{\"command\":\"gateway\",\"args\":{}}",
		  "\"args\" must be an array of strings, not an object" },
		{ "{\"command\":\"gateway\",\"args\":[\"routes\",1]}",
		  "\"args\"[1] must be a string, not a number" },
		{ "{\"command\":\"gateway\",\"args\":[true]}",
		  "\"args\"[0] must be a string, not a boolean" },
		{ "{\"command\":\"gateway\",\"args\":[\"a\",\"b\",\"c\",\"d\",\"e\","
		  "\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"]}",
		  "\"args\" has 17 strings, more than 16" },
		{ "{\"command\":\"a\"}\n{\"command\":\"b\"}\n", "request is more than one line" },
		{ "{\"command\":\"status\",\"command\":\"reload\"}",
		  "request is not JSON: duplicate object key" },
	};
	struct ctl_request r;
	char *err, *big;
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(bad); i++) {
		CU_ASSERT_EQUAL(ctl_request_decode(bad[i].in, strlen(bad[i].in), &r,
		    &err), -1);
		CU_ASSERT_PTR_NULL(r.command);
		CU_ASSERT_STRSTR(err, bad[i].err);
		free(err);
	}

	/* Over-long: valid JSON, padded past the limit. */
	big = xmalloc(CTL_REQUEST_MAX + 2);
	memset(big, ' ', CTL_REQUEST_MAX + 1);
	memcpy(big, "{\"command\":\"status\"}", 20);
	big[CTL_REQUEST_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(ctl_request_decode(big, CTL_REQUEST_MAX + 1, &r, &err), -1);
	CU_ASSERT_STRSTR(err, "request is longer than 4096 bytes");
	free(err);
	/* Exactly the limit is fine. */
	big[CTL_REQUEST_MAX - 1] = '\n';
	CU_ASSERT_EQUAL(ctl_request_decode(big, CTL_REQUEST_MAX, &r, &err), 0);
	ctl_request_free(&r);
	free(big);
}

static void
test_line_frame(void)
{
	CU_ASSERT_EQUAL(ctl_line_frame("", 0, 10), 0);
	CU_ASSERT_EQUAL(ctl_line_frame("{\"comm", 6, 10), 0);
	CU_ASSERT_EQUAL(ctl_line_frame("ab\ncd\n", 6, 10), 3);
	CU_ASSERT_EQUAL(ctl_line_frame("\n", 1, 10), 1);
	CU_ASSERT_EQUAL(ctl_line_frame("0123456789", 10, 10), -1);
	CU_ASSERT_EQUAL(ctl_line_frame("012345678\n", 10, 10), 10);
	CU_ASSERT_EQUAL(ctl_line_frame("0123456789\n", 11, 10), -1);
}

/* ---- answers ---- */

static void
test_response_encode(void)
{
	char *s;

	s = ctl_response_ok(J("{\"pid\":1,\"node\":\"a\"}"));
	CU_ASSERT_TEXT(s, "{\"ok\":true,\"result\":{\"pid\":1,\"node\":\"a\"}}\n");
	free(s);
	s = ctl_response_ok(NULL);
	CU_ASSERT_TEXT(s, "{\"ok\":true,\"result\":null}\n");
	free(s);
	s = ctl_response_error("unknown command %s", "frob");
	CU_ASSERT_TEXT(s, "{\"ok\":false,\"error\":\"unknown command frob\"}\n");
	free(s);
	/* A newline in a message stays inside the one answer line. */
	s = ctl_response_error("a\nb");
	CU_ASSERT_TEXT(s, "{\"ok\":false,\"error\":\"a\\nb\"}\n");
	free(s);
	s = ctl_response_error("unknown command %s", "\xff");
	CU_ASSERT_STRSTR(s, "\"ok\":false");
	CU_ASSERT_STRSTR(s, "not valid UTF-8");
	free(s);
}

static void
test_response_decode(void)
{
	struct ctl_response r;
	char *line, *err;

	line = ctl_response_ok(J("{\"services\":[]}"));
	CU_ASSERT_EQUAL(ctl_response_decode(line, strlen(line), &r, &err), 0);
	CU_ASSERT_PTR_NULL(err);
	CU_ASSERT_TRUE(r.ok);
	CU_ASSERT_TRUE(json_is_array(json_object_get(r.result, "services")));
	ctl_response_free(&r);
	free(line);

	line = ctl_response_error("unknown command %s", "frob");
	CU_ASSERT_EQUAL(ctl_response_decode(line, strlen(line), &r, &err), 0);
	CU_ASSERT_FALSE(r.ok);
	CU_ASSERT_STRING_EQUAL(r.error, "unknown command frob");
	CU_ASSERT_PTR_NULL(r.result);
	ctl_response_free(&r);
	free(line);

	/* What a sloppy or newer server may send. */
	CU_ASSERT_EQUAL(ctl_response_decode("{\"ok\":true}", 11, &r, &err), 0);
	CU_ASSERT_TRUE(r.ok);
	CU_ASSERT_TRUE(json_is_null(r.result));
	ctl_response_free(&r);
	CU_ASSERT_EQUAL(ctl_response_decode("{\"ok\":false}\n", 13, &r, &err), 0);
	CU_ASSERT_STRING_EQUAL(r.error, "vipgated gave no reason");
	ctl_response_free(&r);
	CU_ASSERT_EQUAL(ctl_response_decode("{\"ok\":false,\"error\":7}", 22, &r, &err), 0);
	CU_ASSERT_STRING_EQUAL(r.error, "vipgated gave no reason");
	ctl_response_free(&r);
}

static void
test_response_malformed(void)
{
	static const struct {
		const char *in, *err;
	} bad[] = {
		{ "", "answer is not JSON: " },
		{ "<html>", "answer is not JSON: " },
		{ "{\"ok\":true,", "answer is not JSON: " },
		{ "[true]", "answer must be a JSON object, not an array" },
		{ "{}", "answer has no boolean \"ok\"" },
		{ "{\"ok\":1}", "answer has no boolean \"ok\"" },
	};
	struct ctl_response r;
	char *err;
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(bad); i++) {
		CU_ASSERT_EQUAL(ctl_response_decode(bad[i].in, strlen(bad[i].in), &r,
		    &err), -1);
		CU_ASSERT_PTR_NULL(r.doc);
		CU_ASSERT_STRSTR(err, bad[i].err);
		free(err);
	}
}

/* ---- tables ---- */

static char *
table_text(struct ctl_table *t)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	ctl_table_print(t, f);
	fclose(f);
	ctl_table_free(t);
	return s;
}

static void
test_table_align(void)
{
	struct ctl_table *t = ctl_table_new();
	char *s;

	ctl_table_column(t, "namespace");
	ctl_table_column(t, "name");
	ctl_table_column(t, "vips");
	ctl_table_row(t);
	ctl_table_cell(t, "istio-system");
	ctl_table_cell(t, "istio-ingressgateway");
	ctl_table_cell(t, "192.168.1.200");
	ctl_table_row(t);
	ctl_table_cell(t, "default");
	ctl_table_cellf(t, "web-%d", 1);
	ctl_table_cell(t, "192.168.1.201,2001:db8::1");
	CU_ASSERT_EQUAL(ctl_table_nrows(t), 2);
	s = table_text(t);
	CU_ASSERT_TEXT(s,
	    "NAMESPACE      NAME                   VIPS\n"
	    "istio-system   istio-ingressgateway   192.168.1.200\n"
	    "default        web-1                  192.168.1.201,2001:db8::1\n");
	free(s);
}

static void
test_table_edges(void)
{
	struct ctl_table *t = ctl_table_new();
	char *s;

	ctl_table_column(t, "a");
	ctl_table_column(t, "long_header");
	ctl_table_column(t, "c");
	ctl_table_row(t);			/* short row: no trailing blanks */
	ctl_table_cell(t, "x");
	ctl_table_row(t);			/* extra cells are dropped */
	ctl_table_cell(t, "1");
	ctl_table_cell(t, "2");
	ctl_table_cell(t, "3");
	ctl_table_cell(t, "4");
	ctl_table_row(t);			/* width counts characters */
	ctl_table_cell(t, "ééé");
	ctl_table_cell(t, NULL);
	ctl_table_cell(t, "z");
	ctl_table_row(t);			/* no escape reaches the terminal */
	ctl_table_cell(t, "\x1b[2J");
	ctl_table_cell(t, "tab\there");
	ctl_table_cell(t, "c1\xc2\x9b");
	s = table_text(t);
	CU_ASSERT_TEXT(s,
	    "A      LONG_HEADER   C\n"
	    "x\n"
	    "1      2             3\n"
	    "ééé                  z\n"
	    "?[2J   tab?here      c1?\n");
	free(s);

	/* No columns: nothing at all. */
	t = ctl_table_new();
	s = table_text(t);
	CU_ASSERT_PTR_NOT_NULL(s);
	CU_ASSERT_STRING_EQUAL(s ? s : "-", "");
	free(s);
}

/* ---- renderers ---- */

static const char status_json[] =
    "{\"version\":\"0.1.0\",\"pid\":123,\"uptime_s\":42,"
    "\"config_file\":\"/etc/vipgate/vipgate.yaml\",\"node\":\"node-a\","
    "\"config_generation\":3,\"store_generation\":120,\"objects\":57,"
    "\"last_reload\":{\"time\":\"2026-11-27T07:00:00Z\",\"trigger\":\"startup\","
    "\"ok\":true,\"errors\":[],\"warnings\":[]}}";

static void
test_render_status(void)
{
	char *s;
	int rc;

	s = render(ctl_render_status, status_json, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_TEXT(s,
	    "version          0.1.0\n"
	    "pid              123\n"
	    "uptime           42s\n"
	    "config           /etc/vipgate/vipgate.yaml (generation 3)\n"
	    "node             node-a\n"
	    "objects          57 (store generation 120)\n"
	    "last reload      2026-11-27T07:00:00Z startup: ok\n");
	free(s);
}

static void
test_render_status_failed_reload(void)
{
	char *s;
	int rc;

	s = render(ctl_render_status,
	    "{\"version\":\"0.1.0\",\"uptime_s\":93784,\"config_generation\":4,"
	    "\"last_reload\":{\"time\":\"2026-11-27T08:00:00Z\",\"trigger\":\"sighup\","
	    "\"ok\":false,\"errors\":[\"a.yaml:3:5: unknown key \\\"prot\\\"\","
	    "\"b.yaml:1:1: bad \\u001b[31mthing\"],"
	    "\"warnings\":[\"c.yaml:2:1: deprecated\"]}}", &rc);
	/* status itself succeeded: only reload's exit status reports it */
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_TEXT(s,
	    "version          0.1.0\n"
	    "uptime           1d2h\n"
	    "config           (generation 4)\n"
	    "last reload      2026-11-27T08:00:00Z sighup: failed, 2 errors; "
	    "the running configuration is kept\n"
	    "                 a.yaml:3:5: unknown key \"prot\"\n"
	    "                 b.yaml:1:1: bad ?[31mthing\n"
	    "                 warning: c.yaml:2:1: deprecated\n");
	free(s);
}

static void
test_render_status_sparse(void)
{
	char *s;

	s = render(ctl_render_status, "{}", NULL);
	CU_ASSERT_TEXT(s, "");
	free(s);
	s = render(ctl_render_status,
	    "{\"pid\":\"not a number\",\"config_file\":\"/x.yaml\",\"objects\":0,"
	    "\"last_reload\":null}", NULL);
	CU_ASSERT_TEXT(s,
	    "config           /x.yaml\n"
	    "objects          0\n"
	    "last reload      none\n");
	free(s);
	/* Not an object: shown as JSON. */
	s = render(ctl_render_status, "[1]", NULL);
	CU_ASSERT_TEXT(s, "[\n  1\n]\n");
	free(s);
}

static const char services_json[] =
    "{\"services\":["
    "{\"namespace\":\"istio-system\",\"name\":\"istio-ingressgateway\","
    "\"vips\":[\"192.168.1.200\"],\"pool\":\"istio-pool\",\"pending\":null,"
    "\"sharing_key\":null,\"external_traffic_policy\":\"Cluster\",\"gateway\":true,"
    "\"ready_anywhere\":true,\"ready_local\":true,\"announce\":[\"l2\",\"bgp\"],"
    "\"why_not\":null,\"local_address\":true},"
    "{\"namespace\":\"default\",\"name\":\"web\",\"vips\":[],\"pool\":null,"
    "\"pending\":\"no pool has a free address\",\"announce\":[],"
    "\"why_not\":\"no VIP\"},"
    "{\"namespace\":\"shop\",\"name\":\"db\","
    "\"vips\":[\"192.168.1.201\",\"2001:db8::5\"],\"pool\":\"istio-pool\","
    "\"pending\":null,\"external_traffic_policy\":\"Local\",\"announce\":[],"
    "\"why_not\":\"no ready endpoint on this node\"},"
    "{\"namespace\":\"shop\",\"name\":\"cart\",\"vips\":[\"192.168.1.202\"],"
    "\"pool\":\"istio-pool\",\"announce\":[\"bgp\"]}"
    "],\"pools\":["
    "{\"name\":\"metallb-system/istio-pool\",\"total_v4\":11,\"total_v6\":0,"
    "\"assigned_v4\":1,\"assigned_v6\":0},"
    "{\"name\":\"metallb-system/dual\",\"total_v4\":254,\"total_v6\":65536,"
    "\"assigned_v4\":12}]}";

static void
test_render_services(void)
{
	char *s;
	int rc;

	s = render(ctl_render_services, services_json, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_TEXT(s,
	    "NAMESPACE      NAME                   VIPS                        POOL         STATUS                                ANNOUNCE\n"
	    "istio-system   istio-ingressgateway   192.168.1.200               istio-pool   allocated                             l2,bgp\n"
	    "default        web                    <none>                      <none>       pending: no pool has a free address   no: no VIP\n"
	    "shop           db                     192.168.1.201,2001:db8::5   istio-pool   allocated                             no: no ready endpoint on this node\n"
	    "shop           cart                   192.168.1.202               istio-pool   allocated                             bgp\n"
	    "\n"
	    "POOL                        V4       V6\n"
	    "metallb-system/istio-pool   1/11     0/0\n"
	    "metallb-system/dual         12/254   ?/65536\n");
	free(s);
}

static void
test_render_services_sparse(void)
{
	char *s;

	s = render(ctl_render_services, "{\"services\":[],\"pools\":[]}", NULL);
	CU_ASSERT_TEXT(s, "no LoadBalancer Services\n\nno address pools\n");
	free(s);
	/* No pools member: no pools table; a Service with almost nothing. */
	s = render(ctl_render_services, "{\"services\":[{\"name\":\"x\"}, 3]}", NULL);
	CU_ASSERT_TEXT(s,
	    "NAMESPACE   NAME   VIPS     POOL     STATUS    ANNOUNCE\n"
	    "<none>      x      <none>   <none>   pending   no\n");
	free(s);
	/* Not the shape it knows: the generic renderer. */
	s = render(ctl_render_services, "{\"services\":7}", NULL);
	CU_ASSERT_TEXT(s, "{\n  \"services\": 7\n}\n");
	free(s);
}

static void
test_render_reload(void)
{
	char *s;
	int rc;

	s = render(ctl_render_reload,
	    "{\"time\":\"2026-11-27T07:05:00Z\",\"trigger\":\"ctl\",\"ok\":true,"
	    "\"errors\":[],\"warnings\":[\"x.yaml:1:1: warning: old apiVersion\"]}", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_TEXT(s,
	    "reload           2026-11-27T07:05:00Z ctl: ok, 1 warning\n"
	    "                 x.yaml:1:1: warning: old apiVersion\n");
	free(s);
	s = render(ctl_render_reload,
	    "{\"time\":\"2026-11-27T07:05:00Z\",\"trigger\":\"ctl\",\"ok\":false,"
	    "\"errors\":[\"vipgate.yaml:2:3: unknown key \\\"nmae\\\"\"]}", &rc);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_TEXT(s,
	    "reload           2026-11-27T07:05:00Z ctl: failed, 1 error; "
	    "the running configuration is kept\n"
	    "                 vipgate.yaml:2:3: unknown key \"nmae\"\n");
	free(s);
	/* No "ok": errors decide. */
	s = render(ctl_render_reload, "{\"errors\":[\"e\"]}", &rc);
	CU_ASSERT_EQUAL(rc, 1);
	free(s);
	s = render(ctl_render_reload, "{}", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_TEXT(s, "reload           ok\n");
	free(s);
}

static void
test_render_generic(void)
{
	char *s;

	/* One array of objects: a table of the union of their keys. */
	s = render(ctl_render_generic,
	    "{\"peers\":[{\"address\":\"10.0.0.1\",\"asn\":64512,\"state\":\"Established\","
	    "\"families\":[\"ipv4\",\"ipv6\"]},"
	    "{\"address\":\"10.0.0.2\",\"asn\":64513,\"state\":\"Active\","
	    "\"last_error\":\"hold timer expired\",\"rtt\":0.5,\"up\":false,"
	    "\"attrs\":{\"med\":10}}]}", NULL);
	CU_ASSERT_TEXT(s,
	    "ADDRESS    ASN     STATE         FAMILIES    LAST_ERROR           RTT      UP       ATTRS\n"
	    "10.0.0.1   64512   Established   ipv4,ipv6   <none>               <none>   <none>   <none>\n"
	    "10.0.0.2   64513   Active        <none>      hold timer expired   0.5      false    {\"med\":10}\n");
	free(s);

	/* Scalars beside the array: key/value lines first. */
	s = render(ctl_render_generic,
	    "{\"node\":\"node-a\",\"owned\":2,\"vips\":[{\"vip\":\"192.168.1.200\","
	    "\"owner\":\"node-a\"}]}", NULL);
	CU_ASSERT_TEXT(s,
	    "node    node-a\n"
	    "owned   2\n"
	    "\n"
	    "VIP             OWNER\n"
	    "192.168.1.200   node-a\n");
	free(s);

	s = render(ctl_render_generic, "{\"problems\":[]}", NULL);
	CU_ASSERT_TEXT(s, "no problems\n");
	free(s);

	/* A bare array of objects. */
	s = render(ctl_render_generic, "[{\"a\":1},{\"b\":\"x\"}]", NULL);
	CU_ASSERT_TEXT(s, "A        B\n1        <none>\n<none>   x\n");
	free(s);

	/* Two arrays, a nested object, a scalar: indented JSON. */
	s = render(ctl_render_generic, "{\"a\":[{\"x\":1}],\"b\":[{\"y\":2}]}", NULL);
	CU_ASSERT_TEXT(s,
	    "{\n  \"a\": [\n    {\n      \"x\": 1\n    }\n  ],\n"
	    "  \"b\": [\n    {\n      \"y\": 2\n    }\n  ]\n}\n");
	free(s);
	s = render(ctl_render_generic, "{\"a\":{\"b\":1}}", NULL);
	CU_ASSERT_TEXT(s, "{\n  \"a\": {\n    \"b\": 1\n  }\n}\n");
	free(s);
	s = render(ctl_render_generic, "{\"a\":[1,2]}", NULL);
	CU_ASSERT_TEXT(s, "{\n  \"a\": [\n    1,\n    2\n  ]\n}\n");
	free(s);
	s = render(ctl_render_generic, "null", NULL);
	CU_ASSERT_TEXT(s, "null\n");
	free(s);
	s = render(ctl_render_generic, "{}", NULL);
	CU_ASSERT_TEXT(s, "{}\n");
	free(s);
}

/*
 * A reload that rejected one object and applied the rest says so and exits
 * 3; one that applied nothing says that and exits 1 (it said "the running
 * configuration is kept", exit 1, while a valid VirtualService of the same
 * reload took effect).
 */
static void
test_render_reload_applied(void)
{
	char *s;
	int rc;

	s = render(ctl_render_reload,
	    "{\"time\":\"T\",\"trigger\":\"ctl\",\"ok\":false,\"applied\":\"part\","
	    "\"config\":\"applied\",\"objects\":{\"changes\":1,\"rejected_kept\":1,"
	    "\"rejected_not_loaded\":0,\"ignored_duplicates\":0,\"files_kept\":0},"
	    "\"errors\":[\"vs.yaml:9:7: VirtualService default/b: spec.http: bad\"],"
	    "\"warnings\":[]}", &rc);
	CU_ASSERT_EQUAL(rc, CTL_EXIT_PART);
	CU_ASSERT_TEXT(s,
	    "reload           T ctl: applied in part, 1 error; 1 rejected object keeps "
	    "the last good version; everything else is in force (1 object change)\n"
	    "                 vs.yaml:9:7: VirtualService default/b: spec.http: bad\n");
	free(s);
	s = render(ctl_render_reload,
	    "{\"time\":\"T\",\"trigger\":\"ctl\",\"ok\":false,\"applied\":\"part\","
	    "\"config\":\"kept\",\"objects\":{\"changes\":2,\"rejected_kept\":0,"
	    "\"rejected_not_loaded\":2,\"ignored_duplicates\":1,\"files_kept\":1},"
	    "\"errors\":[\"e\"],\"warnings\":[]}", &rc);
	CU_ASSERT_EQUAL(rc, CTL_EXIT_PART);
	CU_ASSERT_STRSTR(s, "ctl: applied in part, 1 error; the main config is invalid, "
	    "the running one stays; 2 rejected objects not loaded; 1 duplicate ignored; "
	    "1 file not read, what it defined stays; everything else is in force "
	    "(2 object changes)\n");
	free(s);
	s = render(ctl_render_reload,
	    "{\"time\":\"T\",\"trigger\":\"sighup\",\"ok\":false,\"applied\":\"none\","
	    "\"config\":\"kept\",\"objects\":{\"changes\":0,\"rejected_kept\":0,"
	    "\"rejected_not_loaded\":0,\"ignored_duplicates\":0,\"files_kept\":0},"
	    "\"errors\":[\"vipgate.yaml:2:3: unknown key\"],\"warnings\":[]}", &rc);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_STRSTR(s, "sighup: failed, 1 error; the main config is invalid, the "
	    "running one stays; nothing changed, the running configuration is kept\n");
	free(s);
	/* --json: the same verdict */
	{
		json_t *v = J("{\"ok\":false,\"applied\":\"part\"}");

		CU_ASSERT_EQUAL(ctl_result_status("reload", v), CTL_EXIT_PART);
		json_decref(v);
		v = J("{\"ok\":false,\"applied\":\"none\"}");
		CU_ASSERT_EQUAL(ctl_result_status("reload", v), 1);
		json_decref(v);
		v = J("{\"ok\":true,\"applied\":\"all\"}");
		CU_ASSERT_EQUAL(ctl_result_status("reload", v), 0);
		json_decref(v);
	}
}

/* ctl_render for "bfd", into a string */
static int
render_bfd(FILE *f, const json_t *v)
{
	return ctl_render(f, "bfd", v);
}

static void
test_render_bfd(void)
{
	char *s = render(render_bfd, "{\"sessions\":[{\"peer\":\"10.99.0.2\","
	    "\"profile\":\"fast\",\"state\":\"Down\",\"remote_state\":\"Down\","
	    "\"local_tx_ms\":1000,\"local_rx_ms\":50,\"remote_tx_ms\":0,\"remote_rx_ms\":0.001,"
	    "\"multiplier\":3,\"detect_ms\":0,\"flaps\":2,\"bgp_state\":\"Idle\","
	    "\"holds_bgp_down\":true,\"last_down_reason\":\"control detection time expired\","
	    "\"note\":null}]}", NULL);

	CU_ASSERT_STRSTR(s, "PEER");
	CU_ASSERT_STRSTR(s, "DETECT MS");
	CU_ASSERT_STRSTR(s, "10.99.0.2");
	CU_ASSERT_STRSTR(s, "1000/50");
	CU_ASSERT_STRSTR(s, "Idle (held)");
	CU_ASSERT_STRSTR(s, "control detection time expired");
	free(s);
	s = render(render_bfd, "{\"sessions\":[]}", NULL);
	CU_ASSERT_STRSTR(s, "no BFD sessions");
	free(s);
	/* a malformed answer falls back to the generic rendering */
	s = render(render_bfd, "{\"sessions\":3}", NULL);
	CU_ASSERT_STRSTR(s, "sessions");
	free(s);
}

/* ---- gateway views and analyze ---- */

/* As gw.c's show_listeners sends it. */
static const char gw_listeners_json[] =
    "{\"listeners\":["
    "{\"port\":80,\"protocol\":\"HTTP\",\"chains\":[{\"route_config\":\"http.80\","
    "\"sni\":[],\"virtual_hosts\":2,\"credential\":null,\"tls_error\":null}]},"
    "{\"port\":443,\"protocol\":\"HTTPS\",\"chains\":["
    "{\"route_config\":\"https.443.https.bookinfo-gw.istio-system\","
    "\"sni\":[\"bookinfo.example.com\",\"*.example.com\"],\"virtual_hosts\":1,"
    "\"credential\":\"bookinfo-cred\",\"not_after\":\"2027-01-01T00:00:00Z\"},"
    "{\"route_config\":\"https.443.https.other.istio-system\",\"sni\":[\"other.test\"],"
    "\"virtual_hosts\":1,\"credential\":\"other-cred\",\"secret_rejected\":\"key values mismatch\"},"
    "{\"route_config\":\"https.443.https.fresh.istio-system\",\"sni\":[\"fresh.test\"],"
    "\"virtual_hosts\":1,\"credential\":\"fresh-cred\",\"tls_error\":\"Secret fresh-cred is rejected\"}"
    "]}],\"ready\":true,\"workers\":2}";

static void
test_render_gw_listeners(void)
{
	char *s;

	s = render(ctl_render_gw_listeners, gw_listeners_json, NULL);
	CU_ASSERT_TEXT(s,
	    "gateway ready, 2 workers\n"
	    "\n"
	    "PORT   PROTOCOL   MATCH                                     DESTINATION                                       VHOSTS   CREDENTIAL      TLS\n"
	    "80     HTTP       ALL                                       Route: http.80                                    2        -               -\n"
	    "443    HTTPS      SNI: bookinfo.example.com,*.example.com   Route: https.443.https.bookinfo-gw.istio-system   1        bookinfo-cred   certificate valid until 2027-01-01T00:00:00Z\n"
	    "443    HTTPS      SNI: other.test                           Route: https.443.https.other.istio-system         1        other-cred      last good secret served; rejected: key values mismatch\n"
	    "443    HTTPS      SNI: fresh.test                           Route: https.443.https.fresh.istio-system         1        fresh-cred      not served: Secret fresh-cred is rejected\n");
	free(s);
	/* two deployments, each on its own VIPs; one without a VIP yet */
	s = render(ctl_render_gw_listeners, "{\"listeners\":["
	    "{\"port\":443,\"protocol\":\"HTTPS\",\"deployment\":\"ingress\","
	    "\"addresses\":[\"192.0.2.10\",\"2001:db8::10\"],\"chains\":[{\"route_config\":"
	    "\"https.443.a.pub.istio-system\",\"sni\":[\"pub.test\"],\"virtual_hosts\":1,"
	    "\"credential\":\"istio-system/pub\"}]},"
	    "{\"port\":443,\"protocol\":\"HTTPS\",\"deployment\":\"internal\","
	    "\"addresses\":[\"10.1.0.5\"],\"chains\":[{\"route_config\":"
	    "\"https.443.a.int.istio-system\",\"sni\":[\"int.test\"],\"virtual_hosts\":1,"
	    "\"credential\":\"istio-system/int\"}]},"
	    "{\"port\":8080,\"protocol\":\"HTTP\",\"deployment\":\"internal\","
	    "\"addresses\":[],\"chains\":[{\"route_config\":\"http.8080\",\"sni\":[],"
	    "\"virtual_hosts\":0}]}],\"ready\":true,\"workers\":1}", NULL);
	CU_ASSERT_TEXT(s,
	    "gateway ready, 1 worker\n"
	    "\n"
	    "DEPLOYMENT   ADDRESSES                 PORT   PROTOCOL   MATCH           DESTINATION                           VHOSTS   CREDENTIAL         TLS\n"
	    "ingress      192.0.2.10,2001:db8::10   443    HTTPS      SNI: pub.test   Route: https.443.a.pub.istio-system   1        istio-system/pub   ok\n"
	    "internal     10.1.0.5                  443    HTTPS      SNI: int.test   Route: https.443.a.int.istio-system   1        istio-system/int   ok\n"
	    "internal     (none)                    8080   HTTP       ALL             Route: http.8080                      0        -                  -\n");
	free(s);
	s = render(ctl_render_gw_listeners, "{\"listeners\":[],\"ready\":false}", NULL);
	CU_ASSERT_TEXT(s, "gateway not ready\n\nno listeners\n");
	free(s);
	s = render(ctl_render_gw_listeners, "{\"listeners\":3}", NULL);
	CU_ASSERT_TEXT(s, "{\n  \"listeners\": 3\n}\n");
	free(s);
}

/* As gw.c's show_routes sends it. */
static const char gw_routes_json[] =
    "{\"routes\":["
    "{\"port\":80,\"route_config\":\"http.80\",\"virtual_host\":\"bookinfo.example.com:80\","
    "\"virtual_service\":\"bookinfo\",\"rule\":0,\"action\":\"route\",\"match\":["
    "{\"uri\":{\"type\":\"exact\",\"value\":\"/productpage\",\"ignore_case\":false}},"
    "{\"uri\":{\"type\":\"prefix\",\"value\":\"/static\",\"ignore_case\":false}},"
    "{\"uri\":{\"type\":\"regex\",\"value\":\"/api/v[0-9]+/.*\",\"ignore_case\":false},"
    "\"method\":{\"type\":\"exact\",\"value\":\"GET\",\"ignore_case\":false}}],"
    "\"destinations\":[{\"cluster\":\"outbound|9080||productpage.default.svc.cluster.local\",\"weight\":100}]},"
    "{\"port\":80,\"route_config\":\"http.80\",\"virtual_host\":\"bookinfo.example.com:80\","
    "\"virtual_service\":\"reviews-gw\",\"rule\":1,\"action\":\"route\",\"match\":["
    "{\"uri\":{\"type\":\"prefix\",\"value\":\"/reviews\",\"ignore_case\":true},"
    "\"end-user\":{\"type\":\"exact\",\"value\":\"jason\",\"ignore_case\":false},"
    "\"x-canary\":{\"type\":\"present\",\"ignore_case\":false},\"port\":80}],"
    "\"destinations\":[{\"cluster\":\"outbound|9080|v1|reviews.default.svc.cluster.local\",\"weight\":90},"
    "{\"cluster\":\"outbound|9080|v2|reviews.default.svc.cluster.local\",\"weight\":10}]},"
    "{\"port\":80,\"route_config\":\"http.80\",\"virtual_host\":\"*:80\","
    "\"virtual_service\":\"redir\",\"rule\":0,\"action\":\"redirect\",\"match\":[],"
    "\"destinations\":[]},"
    "{\"port\":80,\"route_config\":\"http.80\",\"virtual_host\":\"*:80\","
    "\"virtual_service\":\"ext\",\"rule\":2,\"action\":\"route\",\"match\":[{}],"
    "\"destinations\":[{\"cluster\":\"outbound|443||api.example.org\",\"weight\":0}]}"
    "]}";

static void
test_render_gw_routes(void)
{
	char *s;

	s = render(ctl_render_gw_routes, gw_routes_json, NULL);
	CU_ASSERT_TEXT(s,
	    "NAME      VHOST                     MATCH                                              DESTINATION                                                VIRTUAL SERVICE\n"
	    "http.80   bookinfo.example.com:80   /productpage, /static*, GET ~/api/v[0-9]+/.*       productpage.default:9080                                   bookinfo http[0]\n"
	    "http.80   bookinfo.example.com:80   /reviews* (any case) end-user=jason x-canary :80   reviews.default:9080 v1 90%, reviews.default:9080 v2 10%   reviews-gw http[1]\n"
	    "http.80   *:80                      *                                                  redirect                                                   redir http[0]\n"
	    "http.80   *:80                      *                                                  api.example.org:443                                        ext http[2]\n");
	free(s);
	/* tcp and tls rules (gw_l4_show.c) */
	s = render(ctl_render_gw_routes, "{\"routes\":[{\"port\":9443,\"route_config\":\"tls.9443\","
	    "\"virtual_host\":\"(sni)\",\"virtual_service\":\"pt\",\"rule\":1,\"action\":\"tcp_proxy\","
	    "\"match\":[{\"sni_hosts\":[\"a.test\",\"*.b.test\"],\"port\":9443}],"
	    "\"destinations\":[{\"cluster\":\"outbound|8443||a.default.svc.cluster.local\",\"weight\":100}]},"
	    "{\"port\":7000,\"route_config\":\"tcp.7000\",\"virtual_host\":\"*\",\"virtual_service\":\"db\","
	    "\"rule\":0,\"action\":\"tcp_proxy\",\"match\":[{\"source_subnet\":[\"10.0.0.0/8\"]}],"
	    "\"destinations\":[{\"cluster\":\"outbound|5432||pg.default.svc.cluster.local\",\"weight\":100}]}]}", NULL);
	CU_ASSERT_STRSTR(s, ":9443 sni=a.test|*.b.test");
	CU_ASSERT_STRSTR(s, "tcp_proxy: a.default:8443");
	CU_ASSERT_STRSTR(s, "pt tls[1]");
	CU_ASSERT_STRSTR(s, "src=10.0.0.0/8");
	CU_ASSERT_STRSTR(s, "db tcp[0]");
	free(s);
	s = render(ctl_render_gw_routes, "{\"routes\":[]}", NULL);
	CU_ASSERT_TEXT(s, "no routes\n");
	free(s);
}

/* As gw.c's show_clusters sends it (counters cut short). */
static const char gw_clusters_json[] =
    "{\"clusters\":["
    "{\"name\":\"outbound|9080|v2|reviews.default.svc.cluster.local\","
    "\"host\":\"reviews.default.svc.cluster.local\",\"port\":9080,\"subset\":\"v2\","
    "\"lb\":\"LEAST_REQUEST\",\"tls\":\"AUTO\",\"endpoints\":["
    "{\"address\":\"10.244.1.7\",\"port\":9080,\"weight\":1,\"node\":\"node-a\","
    "\"health\":\"healthy\",\"ejected\":false,\"num_ejections\":0,\"cx_active\":3,"
    "\"rq_active\":1,\"tls\":\"ISTIO_MUTUAL\"},"
    "{\"address\":\"fd00::7\",\"port\":9080,\"weight\":1,"
    "\"health\":\"/failed_outlier_check\",\"ejected\":true,\"num_ejections\":2,"
    "\"cx_active\":0,\"rq_active\":0,\"tls\":\"DISABLE\"}],"
    "\"circuit_breakers\":{\"max_connections\":4294967295},\"stats\":{\"cx_active\":3}},"
    "{\"name\":\"outbound|9080|v9|reviews.default.svc.cluster.local\","
    "\"host\":\"reviews.default.svc.cluster.local\",\"port\":9080,\"subset\":\"v9\","
    "\"lb\":\"ROUND_ROBIN\",\"tls\":\"AUTO\","
    "\"missing\":\"DestinationRule default/reviews has no subset v9\",\"endpoints\":[]},"
    "{\"name\":\"outbound|443||api.example.org\",\"host\":\"api.example.org\","
    "\"port\":443,\"lb\":\"ROUND_ROBIN\",\"tls\":\"SIMPLE\",\"endpoints\":[]}"
    "]}";

static void
test_render_gw_clusters(void)
{
	char *s;

	s = render(ctl_render_gw_clusters, gw_clusters_json, NULL);
	CU_ASSERT_TEXT(s,
	    "DESTINATION               ENDPOINT          HEALTH                                                              EJECTIONS   ACTIVE CX/RQ   TLS            CLUSTER\n"
	    "reviews.default:9080 v2   10.244.1.7:9080   healthy                                                             0           3/1            ISTIO_MUTUAL   outbound|9080|v2|reviews.default.svc.cluster.local\n"
	    "reviews.default:9080 v2   [fd00::7]:9080    ejected (outlier check failed)                                      2           0/0            DISABLE        outbound|9080|v2|reviews.default.svc.cluster.local\n"
	    "reviews.default:9080 v9   <none>            no such cluster: DestinationRule default/reviews has no subset v9                              AUTO           outbound|9080|v9|reviews.default.svc.cluster.local\n"
	    "api.example.org:443       <none>            no endpoints                                                                                   SIMPLE         outbound|443||api.example.org\n");
	free(s);
}

static const char analyze_json[] =
    "{\"messages\":["
    "{\"kind\":\"DestinationRule\",\"namespace\":\"default\",\"name\":\"productpage-cb\","
    "\"message\":\"outlierDetection never ejects: with 2 endpoints and maxEjectionPercent 10, "
    "no endpoint can be ejected; set maxEjectionPercent >= 50\"},"
    "{\"kind\":\"Config\",\"namespace\":\"\",\"name\":\"gateway.identity\","
    "\"message\":\"short\"}]}";

static int
render_analyze_60(FILE *f, const json_t *v)
{
	return ctl_render_analyze(f, v, 60);
}

static int
render_analyze_0(FILE *f, const json_t *v)
{
	return ctl_render_analyze(f, v, 0);
}

static void
test_render_analyze(void)
{
	char *s;

	s = render(render_analyze_60, analyze_json, NULL);
	CU_ASSERT_TEXT(s,
	    "KIND              NAMESPACE   NAME               MESSAGE\n"
	    "DestinationRule   default     productpage-cb     outlierDetection\n"
	    "                                                 never ejects: with 2\n"
	    "                                                 endpoints and\n"
	    "                                                 maxEjectionPercent\n"
	    "                                                 10, no endpoint can\n"
	    "                                                 be ejected; set\n"
	    "                                                 maxEjectionPercent\n"
	    "                                                 >= 50\n"
	    "Config            -           gateway.identity   short\n");
	free(s);
	/* not a terminal: one line a message, whatever its length */
	s = render(render_analyze_0, analyze_json, NULL);
	CU_ASSERT_TEXT(s,
	    "KIND              NAMESPACE   NAME               MESSAGE\n"
	    "DestinationRule   default     productpage-cb     outlierDetection never ejects: with 2 endpoints and maxEjectionPercent 10, no endpoint can be ejected; set maxEjectionPercent >= 50\n"
	    "Config            -           gateway.identity   short\n");
	free(s);
	s = render(render_analyze_0, "{\"messages\":[]}", NULL);
	CU_ASSERT_TEXT(s, "no problems found\n");
	free(s);
}

static void
test_table_wrap(void)
{
	struct ctl_table *t = ctl_table_new();
	char *s;

	ctl_table_column(t, "a");
	ctl_table_column(t, "text");
	ctl_table_row(t);
	ctl_table_cell(t, "x");
	ctl_table_cell(t, "one two three four five six seven eight nine ten");
	ctl_table_row(t);
	ctl_table_cell(t, "y");
	ctl_table_cell(t, "averyveryverylongwordthatcannotbreakanywhere ok");
	ctl_table_wrap(t, 30);
	s = table_text(t);
	CU_ASSERT_TEXT(s,
	    "A   TEXT\n"
	    "x   one two three four five\n"
	    "    six seven eight nine ten\n"
	    "y   averyveryverylongwordthatc\n"
	    "    annotbreakanywhere ok\n");
	free(s);
}

static void
test_render_dispatch(void)
{
	json_t *v = J("{\"ok\":false,\"errors\":[\"e\"]}");
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	CU_ASSERT_EQUAL(ctl_render(f, "reload", v), 1);
	CU_ASSERT_EQUAL(ctl_render(f, "bgp", v), 0);	/* generic: no verdict */
	fclose(f);
	CU_ASSERT_STRSTR(s, "reload           failed, 1 error");
	CU_ASSERT_STRSTR(s, "{\n  \"ok\": false,");
	free(s);
	CU_ASSERT_EQUAL(ctl_result_status("reload", v), 1);
	CU_ASSERT_EQUAL(ctl_result_status("status", v), 0);
	json_decref(v);
	v = J("{\"ok\":true}");
	CU_ASSERT_EQUAL(ctl_result_status("reload", v), 0);
	json_decref(v);
}

static void
test_format_age(void)
{
	static const struct { long long s; const char *want; } c[] = {
		{ -5, "0s" }, { 0, "0s" }, { 42, "42s" }, { 59, "59s" },
		{ 60, "1m" }, { 310, "5m10s" }, { 3599, "59m59s" }, { 3600, "1h" },
		{ 11040, "3h4m" }, { 11045, "3h4m" }, { 86400, "1d" },
		{ 93784, "1d2h" }, { 86400 * 400 + 3600 * 5, "400d5h" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < VG_ARRAY_SIZE(c); i++) {
		ctl_format_age(c[i].s, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, c[i].want);
	}
}

/* ---- the exchange, against an in-test server ---- */

enum srv_mode { SRV_ANSWER, SRV_ANSWER_NO_NL, SRV_CLOSE, SRV_HANG };

struct srv {
	char	dir[64];
	char	path[96];
	int	lfd;
};

static int
srv_open(struct srv *s)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };

	snprintf(s->dir, sizeof(s->dir), "%s", "/tmp/vg-ctl.XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	snprintf(s->path, sizeof(s->path), "%s/s.sock", s->dir);
	snprintf(su.sun_path, sizeof(su.sun_path), "%s", s->path);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd == -1 || bind(s->lfd, (struct sockaddr *)&su, sizeof(su)) == -1 ||
	    listen(s->lfd, 4) == -1)
		return -1;
	return 0;
}

static void
srv_close(struct srv *s)
{
	close(s->lfd);
	unlink(s->path);
	rmdir(s->dir);
}

/*
 * Serve one connection: read the request line into req (NUL-terminated),
 * then answer as mode says. 0, or -1 when nobody came within 5 s.
 */
static int
srv_serve(int lfd, enum srv_mode mode, const char *answer, char *req,
    size_t reqsz)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	size_t off = 0;
	ssize_t n;
	int fd;

	req[0] = '\0';
	if (poll(&p, 1, 5000) != 1 || (fd = accept(lfd, NULL, NULL)) == -1)
		return -1;
	p.fd = fd;
	while (off + 1 < reqsz && !memchr(req, '\n', off) && poll(&p, 1, 5000) == 1 &&
	    (n = read(fd, req + off, reqsz - off - 1)) > 0) {
		off += (size_t)n;
		req[off] = '\0';
	}
	/* MSG_NOSIGNAL: the client may be gone before the junk. */
	switch (mode) {
	case SRV_ANSWER:
	case SRV_ANSWER_NO_NL:
		if (send(fd, answer, strlen(answer), MSG_NOSIGNAL) < 0)
			break;
		if (mode == SRV_ANSWER && send(fd, "\n", 1, MSG_NOSIGNAL) < 0)
			break;
		/* What follows the answer's line is not the client's business. */
		if (mode == SRV_ANSWER)
			(void)send(fd, "junk", 4, MSG_NOSIGNAL);
		break;
	case SRV_CLOSE:
		break;
	case SRV_HANG:
		pause();
		break;
	}
	close(fd);
	return 0;
}

/* The exchange with a forked server: the client's result, the request seen. */
static int
exchange(enum srv_mode mode, const char *answer, int timeout_ms, char **ans,
    char **err, char *seen, size_t seensz)
{
	struct srv s = { .lfd = -1 };
	size_t len;
	pid_t pid;
	int rc, fds[2], status;
	ssize_t n;

	*ans = *err = NULL;
	if (srv_open(&s) == -1 || pipe(fds) == -1) {
		CU_FAIL("cannot make the test server");
		return -2;
	}
	if ((pid = fork()) == 0) {
		char req[CTL_REQUEST_MAX + 1];

		close(fds[0]);
		srv_serve(s.lfd, mode, answer, req, sizeof(req));
		if (write(fds[1], req, strlen(req)) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	rc = ctl_client_exchange(s.path, "{\"command\":\"status\"}\n", timeout_ms,
	    ans, &len, err);
	if (mode == SRV_HANG)
		kill(pid, SIGTERM);
	n = read(fds[0], seen, seensz - 1);
	seen[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	srv_close(&s);
	if (rc == 0)
		CU_ASSERT_EQUAL(len, strlen(*ans));
	return rc;
}

static void
test_exchange(void)
{
	char *ans, *err, seen[256];

	CU_ASSERT_EQUAL(exchange(SRV_ANSWER, "{\"ok\":true,\"result\":{}}", 5000,
	    &ans, &err, seen, sizeof(seen)), 0);
	CU_ASSERT_STRING_EQUAL(seen, "{\"command\":\"status\"}\n");
	CU_ASSERT_TEXT(ans, "{\"ok\":true,\"result\":{}}");
	free(ans);

	/* The server's close ends an answer too. */
	CU_ASSERT_EQUAL(exchange(SRV_ANSWER_NO_NL, "{\"ok\":false,\"error\":\"x\"}",
	    5000, &ans, &err, seen, sizeof(seen)), 0);
	CU_ASSERT_TEXT(ans, "{\"ok\":false,\"error\":\"x\"}");
	free(ans);

	/* A bare newline is an empty answer, for the decoder to refuse. */
	CU_ASSERT_EQUAL(exchange(SRV_ANSWER, "", 5000, &ans, &err, seen,
	    sizeof(seen)), 0);
	CU_ASSERT_TEXT(ans, "");
	free(ans);

	CU_ASSERT_EQUAL(exchange(SRV_CLOSE, NULL, 5000, &ans, &err, seen,
	    sizeof(seen)), -1);
	CU_ASSERT_PTR_NULL(ans);
	CU_ASSERT_STRSTR(err, "vipgated closed the connection without answering");
	free(err);

	CU_ASSERT_EQUAL(exchange(SRV_HANG, NULL, 200, &ans, &err, seen,
	    sizeof(seen)), -1);
	CU_ASSERT_STRSTR(err, "/s.sock: no answer from vipgated within 200ms");
	free(err);
}

static void
test_exchange_connect_errors(void)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	char *ans, *err, dir[] = "/tmp/vg-ctl.XXXXXX", path[96], lng[200];
	size_t len;
	int fd;

	CU_ASSERT_EQUAL(ctl_client_exchange("/nonexistent/vipgated.sock", "x\n",
	    1000, &ans, &len, &err), -1);
	CU_ASSERT_TEXT(err, "cannot connect to /nonexistent/vipgated.sock: No such "
	    "file or directory (is vipgated running?)");
	free(err);

	/* A socket left by a dead daemon: bound, nobody listening. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dead.sock", dir);
	snprintf(su.sun_path, sizeof(su.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&su, sizeof(su)), 0);
	CU_ASSERT_EQUAL(ctl_client_exchange(path, "x\n", 1000, &ans, &len, &err), -1);
	CU_ASSERT_STRSTR(err, "Connection refused (is vipgated running?)");
	free(err);
	close(fd);
	unlink(path);
	rmdir(dir);

	memset(lng, 'a', sizeof(lng) - 1);
	lng[0] = '/';
	lng[sizeof(lng) - 1] = '\0';
	CU_ASSERT_EQUAL(ctl_client_exchange(lng, "x\n", 1000, &ans, &len, &err), -1);
	CU_ASSERT_STRSTR(err, "the path is longer than a socket path can be (107)");
	free(err);
}

/* ---- vipgatectl itself, against the in-test server ---- */

struct run {
	int	status;		/* exit status, -1 if it did not exit */
	char	req[512];	/* what the server got */
	char	*out, *err;
};

static char *
slurp(int fd)
{
	struct vg_buf b = { 0 };
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&b, chunk, (size_t)n);
	close(fd);
	return b.s ? b.s : xstrdup("");
}

static const char *
ctl_binary(void)
{
	const char *p = getenv("VIPGATECTL");

	return p ? p : "./vipgatectl";
}

/*
 * Run vipgatectl with argv (after argv[0]; "@" stands for -s and the test
 * socket) against a server that answers answer.
 */
static int
run_ctl(struct run *r, const char *answer, const char *const *args)
{
	const char *argv[16];
	struct srv s = { .lfd = -1 };
	int out[2], err[2], st;
	size_t i, n = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (access(ctl_binary(), X_OK) == -1) {
		fprintf(stderr, "(skipped: %s not built) ", ctl_binary());
		return -1;
	}
	if (srv_open(&s) == -1 || pipe(out) == -1 || pipe(err) == -1) {
		CU_FAIL("cannot make the test server");
		return -1;
	}
	argv[n++] = "vipgatectl";
	for (i = 0; args[i] && n < VG_ARRAY_SIZE(argv) - 2; i++) {
		if (strcmp(args[i], "@") == 0) {
			argv[n++] = "-s";
			argv[n++] = s.path;
		} else
			argv[n++] = args[i];
	}
	argv[n] = NULL;
	if ((pid = fork()) == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		setenv("VIPGATE_SOCKET", s.path, 1);	/* when no "@" */
		execv(ctl_binary(), (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	srv_serve(s.lfd, SRV_ANSWER, answer, r->req, sizeof(r->req));
	r->out = slurp(out[0]);
	r->err = slurp(err[0]);
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	srv_close(&s);
	return 0;
}

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static void
test_cli_status(void)
{
	const char *args[] = { "@", "status", NULL };
	struct run r;
	char *answer;

	xasprintf(&answer, "{\"ok\":true,\"result\":%s}", status_json);
	if (run_ctl(&r, answer, args) == 0) {
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_STRING_EQUAL(r.req, "{\"command\":\"status\"}\n");
		CU_ASSERT_STRSTR(r.out, "version          0.1.0\n");
		CU_ASSERT_STRSTR(r.out, "last reload      2026-11-27T07:00:00Z startup: ok\n");
		CU_ASSERT_TEXT(r.err, "");
		run_free(&r);
	}
	free(answer);
}

static void
test_cli_json(void)
{
	const char *args[] = { "--json", "gateway", "routes", NULL };	/* via env */
	const char *args2[] = { "@", "frob", "--json", NULL };
	struct run r;

	if (run_ctl(&r, "{\"ok\":true,\"result\":{\"routes\":[{\"host\":\"a\"}]}}",
	    args) == 0) {
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_STRING_EQUAL(r.req,
		    "{\"command\":\"gateway\",\"args\":[\"routes\"]}\n");
		CU_ASSERT_TEXT(r.out, "{\n  \"routes\": [\n    {\n      \"host\": \"a\"\n"
		    "    }\n  ]\n}\n");
		run_free(&r);
	}
	/* An error with --json: the whole answer, exit 1. */
	if (run_ctl(&r, "{\"ok\":false,\"error\":\"unknown command frob\"}",
	    args2) == 0) {
		CU_ASSERT_EQUAL(r.status, 1);
		CU_ASSERT_TEXT(r.out, "{\n  \"ok\": false,\n  \"error\": \"unknown "
		    "command frob\"\n}\n");
		run_free(&r);
	}
}

static void
test_cli_errors(void)
{
	const char *frob[] = { "@", "frob", NULL };
	const char *reload[] = { "@", "reload", NULL };
	const char *reload_json[] = { "@", "--json", "reload", NULL };
	struct run r;

	if (run_ctl(&r, "{\"ok\":false,\"error\":\"unknown command frob\"}", frob) == 0) {
		CU_ASSERT_EQUAL(r.status, 1);
		CU_ASSERT_TEXT(r.out, "");
		CU_ASSERT_TEXT(r.err, "vipgatectl: unknown command frob\n");
		run_free(&r);
	}
	if (run_ctl(&r, "{\"ok\":true,\"result\":{\"time\":\"T\",\"trigger\":\"ctl\","
	    "\"ok\":false,\"errors\":[\"a.yaml:1:1: bad\"]}}", reload) == 0) {
		CU_ASSERT_EQUAL(r.status, 1);
		CU_ASSERT_STRING_EQUAL(r.req, "{\"command\":\"reload\"}\n");
		CU_ASSERT_TEXT(r.out, "reload           T ctl: failed, 1 error; the "
		    "running configuration is kept\n                 a.yaml:1:1: bad\n");
		run_free(&r);
	}
	if (run_ctl(&r, "{\"ok\":true,\"result\":{\"ok\":false}}", reload_json) == 0) {
		CU_ASSERT_EQUAL(r.status, 1);
		CU_ASSERT_TEXT(r.out, "{\n  \"ok\": false\n}\n");
		run_free(&r);
	}
	if (run_ctl(&r, "{\"ok\":true,\"result\":{\"ok\":true}}", reload) == 0) {
		CU_ASSERT_EQUAL(r.status, 0);
		run_free(&r);
	}
	if (run_ctl(&r, "HTTP/1.0 400 Bad Request", frob) == 0) {
		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_STRSTR(r.err, ": bad answer from vipgated: answer is not JSON: ");
		run_free(&r);
	}
}

static const struct cu_test tests[] = {
	{ "request encode", test_request_encode },
	{ "request round trip", test_request_roundtrip },
	{ "request lenient", test_request_lenient },
	{ "request malformed", test_request_malformed },
	{ "line frame", test_line_frame },
	{ "response encode", test_response_encode },
	{ "response decode", test_response_decode },
	{ "response malformed", test_response_malformed },
	{ "table align", test_table_align },
	{ "table edges", test_table_edges },
	{ "render status", test_render_status },
	{ "render status failed reload", test_render_status_failed_reload },
	{ "render status sparse", test_render_status_sparse },
	{ "render services", test_render_services },
	{ "render services sparse", test_render_services_sparse },
	{ "render reload", test_render_reload },
	{ "render reload: applied in part, or nothing", test_render_reload_applied },
	{ "render generic", test_render_generic },
	{ "table wrap", test_table_wrap },
	{ "render gateway listeners", test_render_gw_listeners },
	{ "render gateway routes", test_render_gw_routes },
	{ "render gateway clusters", test_render_gw_clusters },
	{ "render analyze", test_render_analyze },
	{ "render dispatch", test_render_dispatch },
	{ "format age", test_format_age },
	{ "render bfd", test_render_bfd },
	{ "exchange", test_exchange },
	{ "exchange connect errors", test_exchange_connect_errors },
	{ "vipgatectl status", test_cli_status },
	{ "vipgatectl --json", test_cli_json },
	{ "vipgatectl errors", test_cli_errors },
	{ NULL, NULL }
};

int
main(void)
{
	return cu_run("ctl", tests);
}
