/*
 * libFuzzer: bytes -> the head line rules (gw_h1_scan) and libhttp-parser
 * with the gateway's head handling (gw-h1.h: accumulation, 60 KiB limit,
 * framing rules) -> target normalization in the four modes (gw-path.h:
 * never longer, and a normalized path normalizes to itself) -> route matching,
 * weighted pick and rewrite on a gateway compiled from the seed plus every
 * match kind. Pipelined requests are followed until the parser stops.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "../../src/gw/gw-h1.h"
#include "../../src/gw/gw-hdr.h"
#include "../../src/gw/gw-path.h"
#include "vipgate/config.h"
#include "vipgate/gw-route.h"
#include "vipgate/log.h"
#include "vipgate/objects.h"
#include "vipgate/reconcile.h"
#include "vipgate/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char objs[] =
    "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
    "metadata: {name: gw, namespace: default}\n"
    "spec:\n  selector: {istio: ingressgateway}\n  servers:\n"
    "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['*.example.com', 'a.test']\n"
    "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
    "spec: {ports: [{port: 80}]}\n"
    "---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: web, namespace: default}\n"
    "subsets: [{addresses: [{ip: 10.0.0.1}, {ip: 10.0.0.2}], ports: [{port: 8080}]}]\n"
    "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
    "metadata: {name: vs, namespace: default}\n"
    "spec:\n  hosts: ['*.example.com', a.test]\n  gateways: [gw]\n  http:\n"
    "  - match: [{uri: {regex: '/r/[a-z]+(/[0-9]*)?'}, headers: {x-a: {regex: 'v.*'}}}]\n"
    "    rewrite: {uriRegexRewrite: {match: '^/r/([a-z]+)', rewrite: '/\\1'}}\n"
    "    route: [{destination: {host: web}}]\n"
    "  - match: [{uri: {prefix: /P}, ignoreUriCase: true, queryParams: {q: {exact: '1'}}}]\n"
    "    rewrite: {uri: /x/}\n    route: [{destination: {host: web}, weight: 30}, "
    "{destination: {host: nothere}, weight: 70}]\n"
    "  - match: [{method: {exact: POST}, withoutHeaders: {x-b: {}}}, {authority: {prefix: a}}]\n"
    "    redirect: {uri: /n, authority: b.test}\n"
    "  - route: [{destination: {host: web}}]\n";

static struct desired *d;
static struct gw_rx *rx;
static struct hhead hh;
static int stop;

static void
setup(void)
{
	static const char cfgy[] = "node: {name: n}\n";
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	struct config *cfg;
	struct store *st;
	struct live_view live = { 0 };
	char *err = NULL;
	size_t i;

	log_init(1, LOG_LVL_ERROR, LOG_FMT_TEXT);
	cfg = config_parse(cfgy, sizeof(cfgy) - 1, "c", &errs);
	st = store_new();
	manifest_decode_buf(objs, sizeof(objs) - 1, "f", &errs, &out);
	for (i = 0; i < out.n; i++)
		if (out.v[i].obj)
			store_put(st, object_ref(out.v[i].obj));
	decoded_list_free(&out);
	errs_clear(&errs);
	d = reconcile(st, cfg, &live);
	rx = gw_rx_new(d->gw, &err);
	if (d->gw == NULL || rx == NULL || d->gw->nlisteners != 1)
		abort();
	store_free(st);
	config_free(cfg);
}

static int
on_begin(http_parser *p)
{
	hh_reset(&hh);
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	if (!hh_room(&hh, len))
		return -1;
	buf_append(&hh.b, at, len);
	hh.url_l += (uint32_t)len;
	return 0;
}

static int
on_field(http_parser *p, const char *at, size_t len)
{
	return hh_field(&hh, at, len);
}

static int
on_value(http_parser *p, const char *at, size_t len)
{
	return hh_value(&hh, at, len);
}

/* The normalizer's invariants; the path routed is the one of the mode picked. */
static void
normalize(http_parser *p)
{
	size_t l = hh.url_l;
	char *a = malloc(l + 1), *b = malloc(l + 1);
	struct gw_target t;
	enum gw_pathnorm mode = (enum gw_pathnorm)(l % 4);
	ssize_t n, n2;

	n = gw_target_normalize(hh.b.s, l, mode, p->method == HTTP_OPTIONS, a, &t);
	if (n >= 0) {
		if ((size_t)n > l || n == 0)
			abort();
		if (!gw_target_needs_work(hh.b.s, l, mode) && ((size_t)n != l ||
		    memcmp(a, hh.b.s, l) != 0 || t.auth))
			abort();	/* the fast path skipped a change */
		if (mode >= GW_PATHNORM_BASE) {
			n2 = gw_target_normalize(a, (size_t)n, mode, p->method == HTTP_OPTIONS, b, &t);
			if (n2 != n || memcmp(a, b, (size_t)n) != 0)
				abort();
		}
		memcpy(hh.b.s, a, (size_t)n);
		hh.url_l = (uint32_t)n;
	}
	free(a);
	free(b);
}

static int
on_headers(http_parser *p)
{
	struct gw_hdr hv[GW_MAX_HEADERS];
	struct gw_req r = { 0 };
	const struct gw_listener *l = &d->gw->listeners[0];
	const struct gw_vhost *v;
	const struct gw_route *rt;
	const struct gw_match *m;
	struct vg_buf path = { 0 };
	size_t i;
	int expect;

	if (gw_h1_framing(&hh, &expect) != GW_H1_OK) {
		stop = 1;
		return -1;
	}
	if (hh.b.s && hh.url_l)
		normalize(p);
	for (i = 0; i < hh.n; i++) {
		hv[i].name = HN(&hh, i);
		hv[i].nlen = hh.h[i].nl;
		hv[i].value = HV(&hh, i);
		hv[i].vlen = hh.h[i].vl;
		if (hname_is(&hh, i, "host")) {
			r.authority = hv[i].value;
			r.authority_len = hv[i].vlen;
		}
		(void)hop_by_hop(&hh, i);
	}
	r.method = http_method_str((enum http_method)p->method);
	r.method_len = strlen(r.method);
	r.path = hh.b.s ? hh.b.s : "";
	r.path_len = hh.url_l;
	r.scheme = "http";
	r.port = 80;
	r.hdrs = hv;
	r.nhdrs = hh.n;
	v = gw_vhost_find(gw_chain_find(l, r.authority), r.authority ? r.authority : "", r.authority_len);
	rt = gw_route_find(v, rx, &r, &m);
	if (rt) {
		(void)gw_pick_dest(rt, (uint32_t)hh.b.len * 2654435761u);
		gw_rewrite_path(rt, m, rx, r.path, r.path_len, &path);
		buf_free(&path);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static http_parser_settings set;
	http_parser p;
	size_t off = 0;

	if (d == NULL) {
		setup();
		set.on_message_begin = on_begin;
		set.on_url = on_url;
		set.on_header_field = on_field;
		set.on_header_value = on_value;
		set.on_headers_complete = on_headers;
	}
	http_parser_init(&p, HTTP_REQUEST);
	stop = 0;
	{
		/* the line rules, whole and in two pieces, agree */
		uint8_t s1 = GW_H1_SCAN_START, s2 = GW_H1_SCAN_START;
		const char *why;
		long a = gw_h1_scan(&s1, (const char *)data, len, &why), b1, b2 = 0;

		b1 = gw_h1_scan(&s2, (const char *)data, len / 2, &why);
		if (b1 >= 0 && s2 != GW_H1_SCAN_DONE)
			b2 = gw_h1_scan(&s2, (const char *)data + len / 2, len - len / 2, &why);
		if ((a < 0) != (b1 < 0 || b2 < 0) || (a >= 0 && s1 != s2))
			abort();
		if (a < 0)
			return 0;	/* the proxy answers 400 before the parser sees it */
	}
	/* fed in two pieces: callbacks must cope with split tokens */
	while (off < len && !stop) {
		size_t piece = off == 0 ? len / 2 + 1 : len - off;
		size_t n;

		if (piece > len - off)
			piece = len - off;
		n = http_parser_execute(&p, &set, (const char *)data + off, piece);
		if (HTTP_PARSER_ERRNO(&p) != HPE_OK || p.upgrade || n == 0)
			break;
		off += n;
	}
	hh_free(&hh);
	return 0;
}
