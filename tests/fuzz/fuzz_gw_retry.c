/*
 * libFuzzer: bytes -> a retryOn list (gw_retry_on_parse), then the retry
 * decisions and back-off of the policy it gives, and the response-flag
 * joiner on pieces of the input.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/gw-retry.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);
	struct gw_retry_policy p;
	const char *bad = NULL;
	size_t badlen = 0, i;
	int ev, st;

	memcpy(s, data, len);
	s[len] = '\0';
	memset(&p, 0, sizeof(p));
	if (gw_retry_on_parse(s, &p, &bad, &badlen) == -1) {
		/* the offending item lies inside the input */
		if (bad < s || bad + badlen > s + len)
			abort();
	} else if (p.ncodes > GW_RETRY_MAX_CODES)
		abort();
	p.attempts = len % 5;
	p.backoff_base_ms = (int64_t)(len % 100);
	p.backoff_max_ms = 10 * p.backoff_base_ms;
	for (ev = GW_RETRY_EV_STATUS; ev <= GW_RETRY_EV_OVERFLOW; ev++)
		for (st = 100; st < 600; st += 7)
			(void)gw_retry_decide(&p, (enum gw_retry_ev)ev, st, st & 1, st % 4, 1);
	for (i = 1; i < 70; i++)
		if (p.backoff_base_ms && gw_retry_backoff_ms(&p, (int64_t)i, len * i) >= (uint64_t)p.backoff_max_ms)
			abort();
	if (len > 1) {
		char a[8], b[8];

		memcpy(a, s, len < 7 ? len : 7);
		a[len < 7 ? len : 7] = '\0';
		memcpy(b, s + len / 2, len - len / 2 < 7 ? len - len / 2 : 7);
		b[len - len / 2 < 7 ? len - len / 2 : 7] = '\0';
		if (gw_flags_add(a, b) == NULL)
			abort();
	}
	free(s);
	return 0;
}
