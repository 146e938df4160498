/*
 * libFuzzer: bytes -> the sticky-allocation state file decoder. What it
 * keeps must be what the allocator expects: sorted by namespace/name, one
 * or two addresses each, no empty names.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/log.h"
#include "vipgate/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int init;
	struct alloc_state st;
	size_t i;

	if (!init) {
		log_init(1, LOG_LVL_ERROR, LOG_FMT_TEXT);
		init = 1;
	}
	(void)state_parse((const char *)data, len, "fuzz", &st);
	for (i = 0; i < st.n; i++) {
		const struct alloc_prev *p = &st.v[i];

		if (p->ns == NULL || p->name == NULL || *p->ns == '\0' || *p->name == '\0' ||
		    p->nips < 1 || p->nips > 2)
			abort();
		if (i > 0) {
			int r = strcmp(st.v[i - 1].ns, p->ns);

			if (r > 0 || (r == 0 && strcmp(st.v[i - 1].name, p->name) > 0))
				abort();
		}
	}
	state_free(&st);
	return 0;
}
