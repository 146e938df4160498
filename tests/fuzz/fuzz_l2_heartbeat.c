/*
 * libFuzzer: bytes -> the heartbeat decoder, under the corpus' key and under
 * no key; a message that authenticates is built again (byte for byte
 * without TLVs; with them, to a message that decodes the same: unknown
 * TLVs are dropped), and it goes through a peer's liveness (the replay
 * window and the deployments that cannot serve included).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "vipgate/l2.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t KEY[] = "fuzz-key";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct l2_peer_state peer;
	static uint8_t signed_copy[L2_HB_MAXLEN];
	static int64_t now;
	uint8_t buf[L2_HB_MAXLEN];
	struct l2_hb hb;
	size_t n;

	if (l2_hb_parse(data, len, KEY, 0, &hb) >= 0)
		abort();	/* nothing authenticates without a key */
	if (l2_hb_parse(data, len, KEY, sizeof(KEY) - 1, &hb) < 0) {
		/* signed anew, so the mutations reach what lies behind the
		 * HMAC (the type, the name, the TLVs) */
		unsigned int mdlen = 0;

		if (len < L2_HB_HMACLEN || len > sizeof(buf))
			return 0;
		memcpy(buf, data, len);
		HMAC(EVP_sha256(), KEY, (int)sizeof(KEY) - 1, buf, len - L2_HB_HMACLEN,
		    buf + len - L2_HB_HMACLEN, &mdlen);
		if (l2_hb_parse(buf, len, KEY, sizeof(KEY) - 1, &hb) < 0)
			return 0;
		memcpy(signed_copy, buf, len);
		data = signed_copy;
	}
	n = l2_hb_build(buf, sizeof(buf), &hb, KEY, sizeof(KEY) - 1);
	if (!(hb.flags & L2_HB_F_EXT)) {
		if (n != len || memcmp(buf, data, len) != 0)
			abort();
	} else {
		struct l2_hb again;
		size_t i;

		if (n == 0 || l2_hb_parse(buf, n, KEY, sizeof(KEY) - 1, &again) != (int)n ||
		    again.ndeps != hb.ndeps || strcmp(again.node, hb.node) != 0 ||
		    again.flags != hb.flags || again.seq != hb.seq)
			abort();
		for (i = 0; i < hb.ndeps; i++)
			if (strcmp(again.deps[i], hb.deps[i]) != 0)
				abort();
	}
	/* and through a peer's liveness, the clock moving on */
	now += 37;
	(void)l2_peer_heard(&peer, &hb, now);
	if (peer.alive && l2_peer_deadline(&peer, 100) < peer.last)
		abort();
	if (peer.ngw_deps > L2_HB_MAXDEPS || (!peer.gw_down && peer.ngw_deps))
		abort();
	(void)l2_peer_tick(&peer, 100, now + 450);
	return 0;
}
