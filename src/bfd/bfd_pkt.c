/*
 * BFD control packets (RFC 5880 §4.1): encode, and decode with the
 * reception checks of §6.8.6 that need no session. Pure: no logging, no
 * sockets; bytes are read through the bounded reader of wire.h.
 *
 * The module's files: bfd_pkt.c (this file) is the codec, bfd_fsm.c the
 * state machine of one session with its timer negotiation and Poll
 * Sequence, bfd_io.c the UDP sockets and timers on the main loop that the
 * BGP speaker (src/bgp/bgp.c) drives, bfd_show.c vipgatectl's JSON and the
 * metrics.
 */
#include "config.h"

#include "vipgate/bfd.h"
#include "vipgate/wire.h"

enum bfd_drop
bfd_ctrl_decode(const uint8_t *buf, size_t len, struct bfd_ctrl *c)
{
	struct wire_rd r;
	uint8_t b0, b1;

	if (len < BFD_CTRL_LEN)
		return BFD_E_SHORT;
	wire_rd_init(&r, buf, len);
	b0 = wire_get_u8(&r);
	b1 = wire_get_u8(&r);
	c->diag = b0 & 0x1f;
	c->state = b1 >> 6;
	c->flags = b1 & 0x3f;
	c->detect_mult = wire_get_u8(&r);
	c->length = wire_get_u8(&r);
	c->my_disc = wire_get_u32(&r);
	c->your_disc = wire_get_u32(&r);
	c->desired_min_tx = wire_get_u32(&r);
	c->required_min_rx = wire_get_u32(&r);
	c->required_min_echo_rx = wire_get_u32(&r);
	if (r.err)
		return BFD_E_SHORT;
	/* §6.8.6, in its order */
	if (b0 >> 5 != BFD_VERSION)
		return BFD_E_VERSION;
	if (c->length < ((c->flags & BFD_F_AUTH) ? BFD_CTRL_LEN + 2 : BFD_CTRL_LEN) ||
	    c->length > len)
		return BFD_E_LENGTH;
	if (c->detect_mult == 0)
		return BFD_E_MULT;
	if (c->flags & BFD_F_MULTIPOINT)
		return BFD_E_MULTIPOINT;
	if (c->my_disc == 0)
		return BFD_E_MY_DISC;
	/* no authentication is ever configured: a packet with A is dropped */
	if (c->flags & BFD_F_AUTH)
		return BFD_E_AUTH;
	if ((c->flags & (BFD_F_POLL | BFD_F_FINAL)) == (BFD_F_POLL | BFD_F_FINAL))
		return BFD_E_POLL_FINAL;
	return BFD_OK;
}

size_t
bfd_ctrl_encode(uint8_t *buf, const struct bfd_ctrl *c)
{
	struct wire_wr w;

	wire_wr_init(&w, buf, BFD_CTRL_LEN);
	wire_put_u8(&w, (uint8_t)(BFD_VERSION << 5 | (c->diag & 0x1f)));
	wire_put_u8(&w, (uint8_t)((c->state & 3) << 6 | (c->flags & 0x3f)));
	wire_put_u8(&w, c->detect_mult);
	wire_put_u8(&w, BFD_CTRL_LEN);
	wire_put_u32(&w, c->my_disc);
	wire_put_u32(&w, c->your_disc);
	wire_put_u32(&w, c->desired_min_tx);
	wire_put_u32(&w, c->required_min_rx);
	wire_put_u32(&w, c->required_min_echo_rx);
	return w.len;
}

const char *
bfd_drop_name(enum bfd_drop d)
{
	static const char *const n[] = {
		"ok", "short packet", "bad version", "bad length", "zero detect multiplier",
		"multipoint bit set", "zero my discriminator", "poll and final both set",
		"authentication not configured", "unknown your discriminator",
		"TTL below minimum",
	};

	return (unsigned)d < BFD_E__N ? n[d] : "?";
}

const char *
bfd_state_name(enum bfd_state s)
{
	static const char *const n[] = { "AdminDown", "Down", "Init", "Up" };

	return (unsigned)s < 4 ? n[s] : "?";
}

const char *
bfd_diag_name(enum bfd_diag d)
{
	static const char *const n[] = {
		"none", "control detection time expired", "echo function failed",
		"neighbor signaled session down", "forwarding plane reset", "path down",
		"concatenated path down", "administratively down",
		"reverse concatenated path down",
	};

	return (unsigned)d <= BFD_DIAG_REV_CONCAT_DOWN ? n[d] : "?";
}
