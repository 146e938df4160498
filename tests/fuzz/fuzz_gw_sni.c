/*
 * libFuzzer: bytes -> the ClientHello SNI reader (src/gw/gw_sni.c), fed
 * whole and then again in reads whose sizes the first input byte picks,
 * which must give the same verdict and name.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/gw/gw-sni.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct gw_sni_rd rd;
	char name[256], name2[256];
	enum gw_sni_res whole, part = GW_SNI_MORE;
	size_t step, n;

	if (len < 1)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	data++;
	len--;
	gw_sni_init(&rd);
	whole = gw_sni_parse(&rd, data, len, name);
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
	return 0;
}
