/*
 * libFuzzer: bytes -> gRPC-Web's base64 decoder in pieces (split at the
 * first byte's value), whose output encodes and decodes back to itself.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/gw/gw-grpcweb.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_b64 d = { { 0 }, 0 }, e = { { 0 }, 0 }, d2 = { { 0 }, 0 };
	size_t split = size ? data[0] % (size + 1) : 0, tl, ol = 0;
	uint8_t *out = malloc(size / 4 * 3 + 8), *back;
	char *txt;
	long n;

	(void)gw_grpcweb_kind((const char *)data, size);
	n = gw_b64_decode(&d, (const char *)data, split, out);
	if (n >= 0) {
		long m = gw_b64_decode(&d, (const char *)data + split, size - split, out + n);

		if (m >= 0)
			ol = (size_t)(n + m);
		else
			ol = (size_t)n;
	}
	txt = malloc((ol + 2) / 3 * 4 + 8);
	tl = gw_b64_encode(&e, out, ol, txt, 1);
	back = malloc(tl / 4 * 3 + 8);
	n = gw_b64_decode(&d2, txt, tl, back);
	if (n != (long)ol || memcmp(back, out, ol) != 0)
		abort();
	free(out);
	free(txt);
	free(back);
	return 0;
}
