/* libFuzzer: every BGP decoder on arbitrary bytes (and the ICMPv6 check of
 * unnumbered peers). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "vipgate/bgp-msg.h"
#include "../../src/bgp/bgp-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bgp_err err;
	const uint8_t *p = data;
	size_t left = size;

	/* a stream of messages, as the session reads them */
	while (left > 0) {
		uint8_t type;
		long n = bgp_frame(p, left, &type, &err);

		if (n <= 0)
			break;
		const uint8_t *body = p + BGP_HDR_LEN;
		size_t blen = (size_t)n - BGP_HDR_LEN;

		switch (type) {
		case BGP_OPEN: {
			struct bgp_open o;

			if (bgp_open_parse(body, blen, &o, &err) == 0)
				bgp_open_check(&o, 64512, 0, 0, 1, &err);
			break;
		}
		case BGP_UPDATE: {
			struct bgp_update_info u;
			int b;

			for (b = 0; b < 4; b++)
				bgp_update_parse(body, blen, b & 1, b >> 1, &u, &err);
			break;
		}
		case BGP_NOTIFICATION: {
			struct bgp_notification nt;

			bgp_notification_parse(body, blen, &nt);
			bgp_err_name(nt.code, nt.subcode);
			break;
		}
		case BGP_ROUTE_REFRESH: {
			struct bgp_rrefresh r;

			bgp_rrefresh_parse(body, blen, &r);
			break;
		}
		default:
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	/* bodies without a header too */
	{
		struct bgp_open o;
		struct bgp_update_info u;

		bgp_open_parse(data, size, &o, &err);
		bgp_update_parse(data, size, 1, 0, &u, &err);
		/* the ICMPv6 an unnumbered peer's socket reads */
		(void)bgp_nd_learns(data, size);
	}
	return 0;
}
