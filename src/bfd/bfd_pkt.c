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

#include <string.h>

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
		"TTL below minimum", "not our echo",
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

/* ---- echo packets (§6.4, RFC 5881 §4) ---- */

/* The one's complement sum of RFC 1071, folded, not yet complemented. */
static uint32_t
sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* The folded sum over the IPv4 pseudo-header and the UDP datagram. */
static uint32_t
udp4_fold(const uint8_t *src, const uint8_t *dst, const uint8_t *udp, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, src, 4);
	memcpy(ph + 4, dst, 4);
	ph[8] = 0;
	ph[9] = 17;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return sum16(sum16(0, ph, sizeof(ph)), udp, len);
}

size_t
bfd_echo_encode(uint8_t *buf, const struct bfd_echo *e)
{
	struct wire_wr w;
	uint16_t c;

	wire_wr_init(&w, buf, BFD_ECHO_LEN);
	/* IPv4, precedence 6 (Internetwork Control) as for control packets */
	wire_put_u8(&w, 0x45);
	wire_put_u8(&w, 0xc0);
	wire_put_u16(&w, BFD_ECHO_LEN);
	wire_put_u16(&w, (uint16_t)e->seq);
	wire_put_u16(&w, 0x4000);		/* DF */
	wire_put_u8(&w, e->ttl);
	wire_put_u8(&w, 17);
	wire_put_u16(&w, 0);			/* checksum, below */
	wire_put_bytes(&w, e->src, 4);
	wire_put_bytes(&w, e->dst, 4);
	/* UDP */
	wire_put_u16(&w, e->sport);
	wire_put_u16(&w, e->dport);
	wire_put_u16(&w, 8 + BFD_ECHO_PAYLOAD);
	wire_put_u16(&w, 0);
	/* ours */
	wire_put_u8(&w, BFD_ECHO_VERSION);
	wire_put_u8(&w, BFD_ECHO_PAYLOAD);
	wire_put_u16(&w, 0);
	wire_put_u32(&w, e->disc);
	wire_put_u32(&w, e->cookie);
	wire_put_u32(&w, e->seq);
	c = (uint16_t)~sum16(0, buf, 20);
	wire_set_u16(&w, 10, c);
	c = (uint16_t)~udp4_fold(e->src, e->dst, buf + 20, 8 + BFD_ECHO_PAYLOAD);
	/* RFC 768: a computed zero is sent as all ones */
	wire_set_u16(&w, 26, c ? c : 0xffff);
	return w.len;
}

enum bfd_drop
bfd_echo_decode(const uint8_t *buf, size_t len, struct bfd_echo *e)
{
	struct wire_rd r;
	size_t hl, tot, ulen;
	uint16_t frag, usum;
	uint8_t ver, plen;

	memset(e, 0, sizeof(*e));
	if (len < 20)
		return BFD_E_SHORT;
	if (buf[0] >> 4 != 4)
		return BFD_E_VERSION;
	hl = (size_t)(buf[0] & 0x0f) * 4;
	tot = (size_t)buf[2] << 8 | buf[3];
	if (hl < 20 || tot < hl + 8 || tot > len)
		return BFD_E_LENGTH;
	if (sum16(0, buf, hl) != 0xffff)
		return BFD_E_ECHO;		/* header checksum */
	frag = (uint16_t)(buf[6] << 8 | buf[7]);
	if ((frag & 0x3fff) != 0 || buf[9] != 17)
		return BFD_E_ECHO;		/* a fragment, or not UDP */
	e->ttl = buf[8];
	memcpy(e->src, buf + 12, 4);
	memcpy(e->dst, buf + 16, 4);
	wire_rd_init(&r, buf + hl, tot - hl);
	e->sport = wire_get_u16(&r);
	e->dport = wire_get_u16(&r);
	ulen = wire_get_u16(&r);
	usum = wire_get_u16(&r);
	if (ulen < 8 || ulen > tot - hl)
		return BFD_E_LENGTH;
	/* zero: sent without a checksum (RFC 768) */
	if (usum != 0 && udp4_fold(buf + 12, buf + 16, buf + hl, ulen) != 0xffff)
		return BFD_E_ECHO;
	if (ulen - 8 < BFD_ECHO_PAYLOAD)
		return BFD_E_SHORT;
	ver = wire_get_u8(&r);
	plen = wire_get_u8(&r);
	wire_skip(&r, 2);
	e->disc = wire_get_u32(&r);
	e->cookie = wire_get_u32(&r);
	e->seq = wire_get_u32(&r);
	if (r.err)
		return BFD_E_SHORT;
	if (ver != BFD_ECHO_VERSION || plen != BFD_ECHO_PAYLOAD)
		return BFD_E_ECHO;
	return BFD_OK;
}
