/* libFuzzer: main config bytes -> struct config. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "vipgate/config.h"
#include "vipgate/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct vg_errs errs = { 0 };
	struct config *cfg;

	log_init(1, LOG_LVL_ERROR, LOG_FMT_TEXT);
	cfg = config_parse((const char *)data, len, "/tmp/fuzz/vipgate.yaml", &errs);
	config_free(cfg);
	errs_clear(&errs);
	return 0;
}
