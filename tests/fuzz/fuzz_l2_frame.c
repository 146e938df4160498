/*
 * libFuzzer: bytes -> the ARP and NDP decoders; whatever decodes is built
 * again (reply and re-encoding) and must decode to the same.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/l2.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t MAC[6] = { 2, 0, 0, 0, 0, 1 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t buf[256];
	struct l2_arp a, a2;
	struct l2_ns ns, ns2;
	struct l2_na na, na2;
	size_t n;

	if (l2_arp_parse(data, len, &a) > 0) {
		n = l2_arp_build(buf, sizeof(buf), &a);
		if (l2_arp_parse(buf, n, &a2) != L2_ARP_FRAMELEN || memcmp(&a, &a2, sizeof(a)))
			abort();
		n = l2_arp_reply_build(buf, sizeof(buf), &a, MAC);
		if (l2_arp_parse(buf, n, &a2) != L2_ARP_FRAMELEN || a2.op != L2_ARP_REPLY)
			abort();
	}
	if (l2_ns_parse(data, len, &ns) > 0) {
		n = l2_na_reply_build(buf, sizeof(buf), &ns, MAC);
		if (l2_na_parse(buf, n, &na) != (int)n || memcmp(na.target, ns.target, 16))
			abort();
		/* options other than SLL are dropped: compare what we keep */
		n = l2_ns_build(buf, sizeof(buf), &ns);
		if (l2_ns_parse(buf, n, &ns2) <= 0 || memcmp(&ns, &ns2, sizeof(ns)))
			abort();
	}
	if (l2_na_parse(data, len, &na) > 0) {
		n = l2_na_build(buf, sizeof(buf), &na);
		if (l2_na_parse(buf, n, &na2) != (int)n || memcmp(&na, &na2, sizeof(na)))
			abort();
	}
	return 0;
}
