/*
 * libFuzzer: manifest bytes (YAML or JSON) -> objects -> store, decoded as
 * the file source decodes a file: into one shared arena, strings and
 * arrays interned, reports capped (the Kubernetes API's path, an arena
 * an object, is fuzz_kube_event's).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "vipgate/log.h"
#include "vipgate/source.h"
#include "vipgate/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct vg_errs errs = { 0 };
	struct decoded_list out = { 0 };
	struct store *st = store_new();
	size_t i;
	char *s;

	log_init(1, LOG_LVL_ERROR, LOG_FMT_TEXT);
	decoded_list_share(&out);
	errs.limit = FSRC_MAX_REPORTS;
	(void)manifest_decode_buf((const char *)data, len, "fuzz.yaml", &errs, &out);
	decoded_list_seal(&out);
	errs_summarize(&errs, "fuzz.yaml");
	for (i = 0; i < out.n; i++)
		if (out.v[i].obj)
			(void)store_put(st, object_ref(out.v[i].obj));
	for (i = 0; i < errs.n; i++) {
		s = errs_format(&errs.v[i]);
		free(s);
	}
	store_free(st);
	decoded_list_free(&out);
	errs_clear(&errs);
	return 0;
}
