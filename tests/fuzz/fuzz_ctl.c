/*
 * libFuzzer: bytes -> the control protocol decoders, both directions, and
 * an answer that decodes -> every text renderer (they walk JSON the daemon
 * sent).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "vipgate/ctl.h"
#include "vipgate/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char *const cmds[] = { "status", "services", "reload", "bgp" };
	static FILE *null;
	const char *buf = (const char *)data;
	struct ctl_request req;
	struct ctl_response resp;
	char *err;
	size_t i;

	if (null == NULL) {
		log_init(1, LOG_LVL_ERROR, LOG_FMT_TEXT);
		if ((null = fopen("/dev/null", "w")) == NULL)
			abort();
	}
	(void)ctl_line_frame(buf, len, CTL_REQUEST_MAX);
	if (ctl_request_decode(buf, len, &req, &err) == 0)
		ctl_request_free(&req);
	else
		free(err);
	if (ctl_response_decode(buf, len, &resp, &err) == -1) {
		free(err);
		return 0;
	}
	for (i = 0; resp.ok && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		(void)ctl_render(null, cmds[i], resp.result);
		(void)ctl_result_status(cmds[i], resp.result);
	}
	ctl_response_free(&resp);
	return 0;
}
