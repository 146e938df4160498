/*
 * libFuzzer: bytes -> the route matcher's pieces: a pattern compiled as
 * PCRE2 (full match and replace), virtual host choice on hostile Host
 * values, SNI chain choice, and a match entry of every kind evaluated on a
 * request made of the input. Lines: pattern, subject, host, path, method,
 * then header name/value pairs.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/gw-route.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *buf = malloc(len + 1), *line[16];
	size_t nl = 0, i;
	const char *pats[2];
	struct gw_desired g = { 0 };
	struct gw_rx *rx;
	char *err = NULL;
	struct gw_hdr h[5];
	struct gw_req r = { 0 };
	static struct gw_vhost vh[] = {
		{ .name = "*" }, { .name = "*.a.example.com" }, { .name = "*.example.com" },
		{ .name = "b.a.example.com" },
	};
	static const char *sni1[] = { "*.example.com", "x.test" };
	static const char *sni2[] = { "*" };
	struct gw_chain ch[2] = { { .sni = sni1, .nsni = 2, .vhosts = vh, .nvhosts = 4 },
		{ .sni = sni2, .nsni = 1, .vhosts = vh, .nvhosts = 4 } };
	struct gw_listener l = { .tls = 1, .chains = ch, .nchains = 2 };	/* SNI chain choice */
	struct gw_keymatch km[3];
	struct gw_match m;
	struct gw_route rt = { 0 };
	struct gw_rewrite rw = { 0 };
	struct vg_buf out = { 0 };

	memcpy(buf, data, len);
	buf[len] = '\0';
	line[nl++] = buf;
	for (i = 0; i < len && nl < 16; i++)
		if (buf[i] == '\n') {
			buf[i] = '\0';
			line[nl++] = buf + i + 1;
		}
	while (nl < 16)
		line[nl++] = "";
	pats[0] = line[0];
	pats[1] = "/[a-z]+";
	g.regexes = pats;
	g.nregexes = 2;
	rx = gw_rx_new(&g, &err);
	free(err);
	if (rx) {
		(void)gw_rx_full(rx, 0, line[1], strlen(line[1]));
		gw_rx_replace(rx, 0, line[1], strlen(line[1]), line[2], &out);
		out.len = 0;
	}
	(void)gw_vhost_find(&ch[0], line[2], strlen(line[2]));
	(void)gw_chain_find(&l, line[2]);

	for (i = 0; i < 5; i++) {
		h[i].name = line[5 + 2 * i];
		h[i].nlen = strlen(h[i].name);
		h[i].value = line[6 + 2 * i];
		h[i].vlen = strlen(h[i].value);
	}
	r.authority = line[2];
	r.authority_len = strlen(line[2]);
	r.path = line[3];
	r.path_len = strlen(line[3]);
	r.method = line[4];
	r.method_len = strlen(line[4]);
	r.scheme = "https";
	r.port = 443;
	r.hdrs = h;
	r.nhdrs = 5;
	memset(&m, 0, sizeof(m));
	m.uri = (struct gw_strmatch){ GW_MT_PREFIX, "/A", 2, -1, 1 };
	m.method = (struct gw_strmatch){ GW_MT_EXACT, "GET", 3, -1, 0 };
	km[0] = (struct gw_keymatch){ "x-a", { GW_MT_REGEX, "", 0, 0, 0 } };
	km[1] = (struct gw_keymatch){ ":authority", { GW_MT_PRESENT, "", 0, -1, 0 } };
	km[2] = (struct gw_keymatch){ "q", { GW_MT_REGEX, "", 0, 1, 0 } };
	m.headers = km;
	m.nheaders = 2;
	m.without_headers = km + 1;
	m.nwithout_headers = 1;
	m.query = km + 2;
	m.nquery = 1;
	if (rx)
		(void)gw_match_eval(&m, rx, &r);
	rt.matches = &m;
	rt.nmatches = 1;
	rt.rewrite = &rw;
	rw.rx = rx ? 1 : -1;
	rw.rx_subst = line[1];
	rw.uri = line[4];
	gw_rewrite_path(&rt, &m, rx, r.path, r.path_len, &out);
	buf_free(&out);
	gw_rx_free(rx);
	free(buf);
	return 0;
}
