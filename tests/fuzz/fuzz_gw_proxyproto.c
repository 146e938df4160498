/*
 * libFuzzer: bytes -> the PROXY protocol reader (src/gw/gw_proxyproto.c),
 * whole and then fed a growing prefix at a time, as a connection's reads
 * would; the verdicts must agree, and a header never reaches past the
 * bytes given or GW_PP_MAX.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/gw/gw-proxyproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct gw_pp_info a, b;
	size_t step, n;
	int whole, part = 0;

	if (len < 1)
		return 0;
	step = (size_t)data[0] % 13 + 1;
	data++;
	len--;
	whole = gw_pp_parse(data, len, &a);
	if (whole > (int)len || whole > GW_PP_MAX || whole < -1)
		abort();
	if (whole == 0 && len >= GW_PP_MAX)
		abort();	/* the bound: a verdict by GW_PP_MAX bytes */
	for (n = 0; n < len && part == 0; ) {
		n = n + step > len ? len : n + step;
		part = gw_pp_parse(data, n, &b);
	}
	if (whole > 0) {
		if (part != whole || a.version != b.version || a.local != b.local ||
		    (!a.local && (memcmp(&a.src, &b.src, sizeof(a.src)) != 0 ||
		    a.sport != b.sport || a.dport != b.dport)))
			abort();
	} else if (whole == -1 && part != -1)
		abort();
	return 0;
}
