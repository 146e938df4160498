/*
 * libFuzzer: bytes -> the watch stream (split into lines) and each line ->
 * the watch-event decoder, for a kind picked by the first byte; the whole
 * input -> the List decoder too. Decoded objects must name themselves.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/log.h"
#include "vipgate/source-kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const enum obj_kind fuzz_kinds[] = {
	K_SERVICE, K_NODE, K_ENDPOINTSLICE, K_IPADDRESSPOOL, K_VIRTUALSERVICE, K_SECRET,
	K_GATEWAY, K_DESTINATIONRULE,
};

static void
check_list(const struct decoded_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].obj && (l->v[i].obj->meta.name == NULL || !l->v[i].obj->from_api))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int init;
	enum obj_kind k;
	const char *buf = (const char *)data + 1;
	size_t n, off = 0, used;
	ssize_t ll;
	struct vg_errs errs = { 0 };
	struct decoded_list l = { 0 };
	char *rv = NULL, *cont = NULL;

	if (!init) {
		log_init(1, LOG_LVL_ERROR, LOG_FMT_TEXT);
		init = 1;
	}
	if (len < 1)
		return 0;
	k = fuzz_kinds[data[0] % VG_ARRAY_SIZE(fuzz_kinds)];
	n = len - 1;
	while ((ll = kube_line_next(buf + off, n - off, &used)) >= 0) {
		struct kube_event ev;

		if ((size_t)ll > n - off || used > n - off)
			abort();
		if (kube_event_decode(buf + off, (size_t)ll, k, "fuzz", &ev, &errs) == 0) {
			if (ev.type != KEV_ERROR && ev.type != KEV_BOOKMARK &&
			    (ev.name == NULL || ev.ns == NULL))
				abort();
			check_list(&ev.objs);
			kube_event_free(&ev);
		}
		errs_clear(&errs);
		off += used;
	}
	if (kube_list_decode(buf, n, k, "fuzz", &l, &rv, &cont, &errs) == 0)
		check_list(&l);
	decoded_list_free(&l);
	free(rv);
	free(cont);
	errs_clear(&errs);
	return 0;
}
