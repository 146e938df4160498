/*
 * libFuzzer: bytes -> BFD control packets. The input is cut into 24-byte
 * packets; each that decodes must encode back to the same fields, and goes
 * into one session's state machine (with a detection timeout or a timer
 * change when its first byte says so), whose invariants must hold after
 * every step. The whole input is also decoded as an echo datagram.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/bfd.h"
#include "vipgate/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const struct bfd_session *s)
{
	struct bfd_ctrl c, d;
	uint8_t b[BFD_CTRL_LEN];

	if ((unsigned)s->state > BFD_UP || bfd_session_tx_interval(s) == 0)
		abort();
	if (s->state != BFD_UP && s->adv_tx < BFD_SLOW_TX_US)
		abort();
	bfd_session_packet(s, 0, &c);
	bfd_ctrl_encode(b, &c);
	/* what we send always decodes */
	if (bfd_ctrl_decode(b, sizeof(b), &d) != BFD_OK || d.state != s->state)
		abort();
	bfd_session_packet(s, 1, &c);
	if ((c.flags & (BFD_F_POLL | BFD_F_FINAL)) != BFD_F_FINAL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int init;
	static const struct bfd_cfg cfg = { 50000, 50000, 3, 0, 255, 50000 };
	struct bfd_session s;
	struct bfd_out o;
	struct bfd_echo e, e2;
	uint8_t eb[BFD_ECHO_LEN];
	struct bfd_ctrl c, c2;
	uint8_t buf[BFD_CTRL_LEN];
	size_t off;

	if (!init) {
		log_init(1, LOG_LVL_ERROR, LOG_FMT_TEXT);
		init = 1;
	}
	/* the whole input as one datagram; zeroed first: memcmp sees padding */
	memset(&c, 0, sizeof(c));
	memset(&c2, 0, sizeof(c2));
	if (bfd_ctrl_decode(data, len, &c) == BFD_OK) {
		bfd_ctrl_encode(buf, &c);
		if (bfd_ctrl_decode(buf, sizeof(buf), &c2) != BFD_OK)
			abort();
		c.length = c2.length;
		if (memcmp(&c, &c2, sizeof(c)))
			abort();
	}
	/* the whole input as an echo datagram: what decodes encodes back */
	if (bfd_echo_decode(data, len, &e) == BFD_OK) {
		bfd_echo_encode(eb, &e);
		if (bfd_echo_decode(eb, sizeof(eb), &e2) != BFD_OK || e2.disc != e.disc ||
		    e2.cookie != e.cookie || e2.seq != e.seq || e2.ttl != e.ttl ||
		    memcmp(e2.src, e.src, 4) || memcmp(e2.dst, e.dst, 4))
			abort();
	}
	memset(&s, 0, sizeof(s));
	bfd_session_init(&s, &cfg, 1);
	for (off = 0; off + BFD_CTRL_LEN <= len; off += BFD_CTRL_LEN) {
		const uint8_t *p = data + off;

		if (bfd_ctrl_decode(p, BFD_CTRL_LEN, &c) == BFD_OK) {
			c.your_disc = c.your_disc & 1;	/* reach our session often */
			bfd_session_rx(&s, &c, &o);
		} else if (p[0] == 0xff) {
			bfd_session_expired(&s, &o);
		} else if (p[0] == 0xfe) {
			struct bfd_cfg n = cfg;

			n.desired_min_tx = 1 + (uint32_t)p[4] * 10000;
			n.required_min_rx = 1 + (uint32_t)p[5] * 10000;
			n.detect_mult = p[6] ? p[6] : 1;
			n.passive = p[7] & 1;
			bfd_session_set_cfg(&s, &n, &o);
		} else if (p[0] == 0xfd) {
			bfd_session_admin(&s, p[1] & 1, &o);
		} else if (p[0] == 0xfc) {
			bfd_session_echo_expired(&s, &o);
		}
		/* echo runs only while Up, never faster than either side asks */
		if (bfd_session_echo_interval(&s) != 0 && (s.state != BFD_UP ||
		    bfd_session_echo_interval(&s) < s.cfg.echo_ivl ||
		    bfd_session_echo_interval(&s) < s.remote_echo_rx))
			abort();
		check(&s);
	}
	return 0;
}
