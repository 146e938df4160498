/*
 * libFuzzer: bytes -> the ClientHello SNI reader (src/gw/gw_sni.c), fed
 * whole and then again in reads whose sizes the first input byte picks,
 * which must give the same verdict and name. The name found, and the
 * input as a string, then go to the AUTO_PASSTHROUGH name reader
 * (gw_autopass_parse, src/gw/gw_l4_route.c), whose parts must lie in it;
 * the hello's ALPN list is read for Istio's (gw_sni_istio_alpn).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/gw/gw-sni.h"
#include "vipgate/gw-l4.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
autopass(const char *s)
{
	struct gw_autopass_name n;
	size_t len = strlen(s);

	if (gw_autopass_parse(s, &n) == -1)
		return;
	if (n.port == 0 || n.host_len == 0 || n.host < s || n.host + n.host_len != s + len ||
	    n.subset < s || n.subset + n.subset_len + 2 > n.host || n.subset_len > 63)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct gw_sni_rd rd, rdw;
	char name[256], name2[256];
	enum gw_sni_res whole, part = GW_SNI_MORE;
	size_t step, n;

	if (len < 1)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	data++;
	len--;
	gw_sni_init(&rdw);
	whole = gw_sni_parse(&rdw, data, len, name);
	gw_sni_init(&rd);
	for (n = 0; part == GW_SNI_MORE; n += step) {
		if (n > len)
			n = len;
		part = gw_sni_parse(&rd, data, n, name2);
		if (n == len)
			break;
	}
	if (part != whole || (whole == GW_SNI_FOUND && strcmp(name, name2) != 0))
		abort();
	if (whole == GW_SNI_FOUND)
		autopass(name);
	/* the ALPN of a hello read whole or in pieces: the same */
	if ((whole == GW_SNI_FOUND || whole == GW_SNI_NONE) &&
	    gw_sni_istio_alpn(&rd) != gw_sni_istio_alpn(&rdw))
		abort();
	if (len < 512) {
		char s[512];

		memcpy(s, data, len);
		s[len] = '\0';
		autopass(s);
	}
	return 0;
}
