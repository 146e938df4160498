/*
 * libFuzzer: the answer a binary upgrade's new process reads from the
 * running vipgated (lsock.h): the first byte is how many descriptors
 * "arrived", the rest the answer line; what decodes is matched against a
 * few planned listeners.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "vipgate/ctl.h"
#include "vipgate/log.h"
#include "vipgate/lsock.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char *const addrs[] = { "0.0.0.0", "::", "10.0.0.1" };
	static int init;
	struct ctl_response resp;
	struct lsock_desc *d, want;
	uint8_t *taken;
	size_t n, i, nfds;
	char *err;

	if (!init) {
		log_init(1, LOG_LVL_ERROR, LOG_FMT_TEXT);
		init = 1;
	}
	if (len < 1)
		return 0;
	nfds = data[0];
	if (ctl_response_decode((const char *)data + 1, len - 1, &resp, &err) == -1) {
		free(err);
		return 0;
	}
	if (!resp.ok || lsock_desc_decode(resp.result, nfds, &d, &n, &err) == -1) {
		free(err);
		ctl_response_free(&resp);
		return 0;
	}
	taken = calloc(n ? n : 1, 1);
	if (taken == NULL)
		abort();
	for (i = 0; i < 3 * 2; i++) {
		ssize_t k;

		if (lsock_desc_set(&want, i & 1 ? "admin" : "gateway", addrs[i / 2],
		    (uint16_t)(80 + i)) == -1)
			abort();
		while ((k = lsock_match(d, n, taken, &want)) >= 0) {
			if ((size_t)k >= n)
				abort();
			taken[k] = 1;
		}
	}
	free(taken);
	free(d);
	ctl_response_free(&resp);
	return 0;
}
