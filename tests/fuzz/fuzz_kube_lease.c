/*
 * libFuzzer: bytes -> the Lease decoder (an API server's answer); a Lease
 * it takes must have a resourceVersion, and its decision must be one of
 * the five whatever the clock says.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/log.h"
#include "vipgate/source-kube.h"
#include "vipgate/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int init;
	struct kube_lease l;
	struct kube_elect_in in = { 0 };
	const char *err;
	char *b;

	if (!init) {
		log_init(1, LOG_LVL_ERROR, LOG_FMT_TEXT);
		init = 1;
	}
	if (kube_lease_decode((const char *)data, len, &l, &err) == -1) {
		if (err == NULL || l.rv != NULL)
			abort();
		return 0;
	}
	if (l.rv == NULL || *l.rv == '\0' || l.duration_s < 0 || l.transitions < 0)
		abort();
	in.exists = 1;
	in.holder = l.holder;
	in.duration_ms = (int64_t)l.duration_s * 1000;
	in.now = len * 1000;
	in.me = "node-a";
	in.leading = len & 1;
	in.renew_deadline_ms = KUBE_LEASE_RENEW_DEADLINE_MS;
	if ((unsigned)kube_elect_decide(&in) > KE_STEP_DOWN)
		abort();
	/* what it read, written back, reads the same */
	b = kube_lease_body("ns", "vipgated", l.rv, l.holder, l.duration_s ? l.duration_s : 15,
	    l.acquire_time, NULL, l.transitions);
	{
		struct kube_lease l2;

		if (kube_lease_decode(b, strlen(b), &l2, &err) == -1 || strcmp(l2.rv, l.rv) != 0 ||
		    !str_eq(l2.holder, l.holder))
			abort();
		kube_lease_free(&l2);
	}
	free(b);
	kube_lease_free(&l);
	return 0;
}
