/* BFD: the control packet codec and one session's state machine, no clock. */
#include "config.h"

#include "cu.h"
#include "vipgate/bfd.h"

static const struct bfd_cfg cfg300 = { 300000, 300000, 3, 0, 255 };

/* A packet from the remote (discriminator 0x99) in state st. */
static struct bfd_ctrl
remote(enum bfd_state st, uint32_t your, uint8_t flags)
{
	struct bfd_ctrl c;

	memset(&c, 0, sizeof(c));
	c.state = (uint8_t)st;
	c.flags = flags;
	c.detect_mult = 3;
	c.length = BFD_CTRL_LEN;
	c.my_disc = 0x99;
	c.your_disc = your;
	c.desired_min_tx = 100000;
	c.required_min_rx = 200000;
	return c;
}

static void
t_codec_roundtrip(void)
{
	struct bfd_ctrl c = remote(BFD_UP, 7, BFD_F_POLL), d;
	uint8_t b[BFD_CTRL_LEN];

	c.diag = BFD_DIAG_PATH_DOWN;
	c.required_min_echo_rx = 50000;
	CU_ASSERT_EQUAL(bfd_ctrl_encode(b, &c), BFD_CTRL_LEN);
	CU_ASSERT_EQUAL(b[0], 0x25);		/* version 1, diag 5 */
	CU_ASSERT_EQUAL(b[1], 0xe0);		/* Up, P */
	CU_ASSERT_EQUAL(b[3], 24);
	CU_ASSERT_EQUAL(bfd_ctrl_decode(b, sizeof(b), &d), BFD_OK);
	CU_ASSERT_EQUAL(d.state, BFD_UP);
	CU_ASSERT_EQUAL(d.diag, BFD_DIAG_PATH_DOWN);
	CU_ASSERT_EQUAL(d.flags, BFD_F_POLL);
	CU_ASSERT_EQUAL(d.my_disc, 0x99);
	CU_ASSERT_EQUAL(d.your_disc, 7);
	CU_ASSERT_EQUAL(d.desired_min_tx, 100000);
	CU_ASSERT_EQUAL(d.required_min_rx, 200000);
	CU_ASSERT_EQUAL(d.required_min_echo_rx, 50000);
}

/* A valid packet with byte i set to v must be dropped for reason r. */
static void
expect_drop(size_t i, uint8_t v, size_t len, enum bfd_drop r)
{
	struct bfd_ctrl c = remote(BFD_UP, 7, 0), d;
	uint8_t b[64];

	memset(b, 0, sizeof(b));
	bfd_ctrl_encode(b, &c);
	if (i < sizeof(b))
		b[i] = v;
	CU_ASSERT_EQUAL(bfd_ctrl_decode(b, len, &d), r);
}

static void
t_codec_malformed(void)
{
	struct bfd_ctrl d;
	uint8_t b[BFD_CTRL_LEN] = { 0 };

	CU_ASSERT_EQUAL(bfd_ctrl_decode(b, 0, &d), BFD_E_SHORT);
	expect_drop(99, 0, 23, BFD_E_SHORT);
	expect_drop(0, 0x40, 24, BFD_E_VERSION);	/* version 2 */
	expect_drop(0, 0x00, 24, BFD_E_VERSION);	/* version 0 */
	expect_drop(3, 23, 24, BFD_E_LENGTH);		/* below 24 */
	expect_drop(3, 25, 24, BFD_E_LENGTH);		/* past the payload */
	expect_drop(3, 48, 48, BFD_OK);			/* trailing bytes are fine */
	expect_drop(2, 0, 24, BFD_E_MULT);
	expect_drop(1, 0xc1, 24, BFD_E_MULTIPOINT);
	expect_drop(99, 0, 24, BFD_OK);
	expect_drop(1, 0xc4, 24, BFD_E_LENGTH);		/* A needs 26 bytes */
	expect_drop(1, 0xc4, 64, BFD_E_LENGTH);		/* ... in Length too */
	expect_drop(1, 0xf0, 24, BFD_E_POLL_FINAL);
	CU_ASSERT_STRING_EQUAL(bfd_drop_name(BFD_E_TTL), "TTL below minimum");
	CU_ASSERT_STRING_EQUAL(bfd_drop_name((enum bfd_drop)99), "?");
}

static void
t_codec_auth_and_disc(void)
{
	struct bfd_ctrl c = remote(BFD_UP, 7, BFD_F_AUTH), d;
	uint8_t b[32];

	memset(b, 0, sizeof(b));
	bfd_ctrl_encode(b, &c);
	b[3] = 26;
	CU_ASSERT_EQUAL(bfd_ctrl_decode(b, sizeof(b), &d), BFD_E_AUTH);
	c = remote(BFD_UP, 7, 0);
	c.my_disc = 0;
	bfd_ctrl_encode(b, &c);
	CU_ASSERT_EQUAL(bfd_ctrl_decode(b, BFD_CTRL_LEN, &d), BFD_E_MY_DISC);
}

static struct bfd_session s;
static struct bfd_out o;

static void
fresh(const struct bfd_cfg *c)
{
	s.name = "test";
	bfd_session_init(&s, c, 0x11);
}

/* Down -> Init -> Up, three-way handshake (§6.2). */
static void
bring_up(void)
{
	struct bfd_ctrl c = remote(BFD_DOWN, 0, 0);

	CU_ASSERT_EQUAL(bfd_session_rx(&s, &c, &o), BFD_OK);
	CU_ASSERT_EQUAL(s.state, BFD_INIT);
	CU_ASSERT(o.actions & BFD_A_SEND);
	c = remote(BFD_UP, 0x11, 0);
	CU_ASSERT_EQUAL(bfd_session_rx(&s, &c, &o), BFD_OK);
	CU_ASSERT_EQUAL(s.state, BFD_UP);
	CU_ASSERT(o.actions & BFD_A_UP);
}

static void
t_handshake(void)
{
	struct bfd_ctrl c, p;

	fresh(&cfg300);
	CU_ASSERT_EQUAL(s.state, BFD_DOWN);
	/* while not Up: 1 s advertised and sent (§6.8.3) */
	bfd_session_packet(&s, 0, &p);
	CU_ASSERT_EQUAL(p.desired_min_tx, 1000000);
	CU_ASSERT_EQUAL(p.required_min_rx, 300000);
	CU_ASSERT_EQUAL(p.your_disc, 0);
	CU_ASSERT_EQUAL(bfd_session_tx_interval(&s), 1000000);
	CU_ASSERT_EQUAL(bfd_session_detect_time(&s), 0);
	bring_up();
	/* Up: the profile's rate, announced with a Poll */
	bfd_session_packet(&s, 0, &p);
	CU_ASSERT_EQUAL(p.state, BFD_UP);
	CU_ASSERT_EQUAL(p.your_disc, 0x99);
	CU_ASSERT_EQUAL(p.desired_min_tx, 300000);
	CU_ASSERT_EQUAL(p.flags, BFD_F_POLL);
	CU_ASSERT_EQUAL(bfd_session_tx_interval(&s), 300000);
	/* remote asks for 200 ms rx, sends at 100: we send at max(300, 200) */
	/* detection: remote mult x max(our rx 300, remote tx 100) */
	CU_ASSERT_EQUAL(bfd_session_detect_time(&s), 900000);
	/* its Final ends the Poll */
	c = remote(BFD_UP, 0x11, BFD_F_FINAL);
	bfd_session_rx(&s, &c, &o);
	bfd_session_packet(&s, 0, &p);
	CU_ASSERT_EQUAL(p.flags, 0);
	CU_ASSERT_FALSE(s.poll);
	/* Down from Init directly */
	fresh(&cfg300);
	c = remote(BFD_INIT, 0x11, 0);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT_EQUAL(s.state, BFD_UP);
}

static void
t_transitions(void)
{
	struct bfd_ctrl c;

	/* Down ignores Up (the remote must see us first) */
	fresh(&cfg300);
	c = remote(BFD_UP, 0x11, 0);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT_EQUAL(s.state, BFD_DOWN);
	/* Init stays on Down */
	fresh(&cfg300);
	c = remote(BFD_DOWN, 0, 0);
	bfd_session_rx(&s, &c, &o);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT_EQUAL(s.state, BFD_INIT);
	/* Up -> Down on the remote's Down, diag 3, DOWN action */
	fresh(&cfg300);
	bring_up();
	c = remote(BFD_DOWN, 0x11, 0);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT_EQUAL(s.state, BFD_DOWN);
	CU_ASSERT_EQUAL(s.diag, BFD_DIAG_NEIGHBOR_DOWN);
	CU_ASSERT(o.actions & BFD_A_DOWN);
	CU_ASSERT_EQUAL(o.from, BFD_UP);
	CU_ASSERT_EQUAL(bfd_session_tx_interval(&s), 1000000);
	/* Up -> Down on the remote's AdminDown */
	fresh(&cfg300);
	bring_up();
	c = remote(BFD_ADMIN_DOWN, 0x11, 0);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT_EQUAL(s.state, BFD_DOWN);
	CU_ASSERT_EQUAL(s.diag, BFD_DIAG_NEIGHBOR_DOWN);
	/* Up stays Up on Init and Up */
	fresh(&cfg300);
	bring_up();
	c = remote(BFD_INIT, 0x11, 0);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT_EQUAL(s.state, BFD_UP);
	CU_ASSERT_FALSE(o.actions & (BFD_A_UP | BFD_A_DOWN));
	/* detection time expiry: Down, diag 1, the remote forgotten */
	bfd_session_expired(&s, &o);
	CU_ASSERT_EQUAL(s.state, BFD_DOWN);
	CU_ASSERT_EQUAL(s.diag, BFD_DIAG_DETECT_EXPIRED);
	CU_ASSERT(o.actions & BFD_A_DOWN);
	CU_ASSERT_EQUAL(s.remote_disc, 0);
	CU_ASSERT_EQUAL(bfd_session_detect_time(&s), 0);
	/* diag stays after a down until the next Up (§6.8.1) */
	c = remote(BFD_DOWN, 0, 0);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT_EQUAL(s.state, BFD_INIT);
	CU_ASSERT_EQUAL(s.diag, BFD_DIAG_DETECT_EXPIRED);
	c = remote(BFD_UP, 0x11, 0);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT_EQUAL(s.diag, BFD_DIAG_NONE);
	/* expiry in Init: Down, no DOWN action (it never was Up) */
	fresh(&cfg300);
	c = remote(BFD_DOWN, 0, 0);
	bfd_session_rx(&s, &c, &o);
	bfd_session_expired(&s, &o);
	CU_ASSERT_EQUAL(s.state, BFD_DOWN);
	CU_ASSERT_FALSE(o.actions & BFD_A_DOWN);
	/* AdminDown: packets are taken in but change nothing */
	fresh(&cfg300);
	bring_up();
	bfd_session_admin(&s, 1, &o);
	CU_ASSERT_EQUAL(s.state, BFD_ADMIN_DOWN);
	CU_ASSERT(o.actions & BFD_A_DOWN);
	CU_ASSERT_EQUAL(s.diag, BFD_DIAG_ADMIN_DOWN);
	c = remote(BFD_DOWN, 0x11, 0);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT_EQUAL(s.state, BFD_ADMIN_DOWN);
	bfd_session_admin(&s, 0, &o);
	CU_ASSERT_EQUAL(s.state, BFD_DOWN);
}

static void
t_your_disc(void)
{
	struct bfd_ctrl c;

	fresh(&cfg300);
	/* zero Your Discriminator only with Down or AdminDown (§6.8.6) */
	c = remote(BFD_UP, 0, 0);
	CU_ASSERT_EQUAL(bfd_session_rx(&s, &c, &o), BFD_E_YOUR_DISC);
	c = remote(BFD_INIT, 0, 0);
	CU_ASSERT_EQUAL(bfd_session_rx(&s, &c, &o), BFD_E_YOUR_DISC);
	c = remote(BFD_ADMIN_DOWN, 0, 0);
	CU_ASSERT_EQUAL(bfd_session_rx(&s, &c, &o), BFD_OK);
	/* not ours */
	c = remote(BFD_DOWN, 0x12, 0);
	CU_ASSERT_EQUAL(bfd_session_rx(&s, &c, &o), BFD_E_YOUR_DISC);
	CU_ASSERT_EQUAL(s.state, BFD_DOWN);
}

static void
t_poll_final(void)
{
	struct bfd_ctrl c, p;
	struct bfd_cfg slow = cfg300, fast = cfg300;

	fresh(&cfg300);
	bring_up();
	c = remote(BFD_UP, 0x11, BFD_F_FINAL);
	bfd_session_rx(&s, &c, &o);
	/* their Poll: we answer with F at once, never P with it */
	c = remote(BFD_UP, 0x11, BFD_F_POLL);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT(o.actions & BFD_A_SEND_FINAL);
	bfd_session_packet(&s, 1, &p);
	CU_ASSERT_EQUAL(p.flags, BFD_F_FINAL);
	/* slower transmit: advertised at once, in force at the Final */
	slow.desired_min_tx = 500000;
	slow.required_min_rx = 600000;
	bfd_session_set_cfg(&s, &slow, &o);
	CU_ASSERT(o.actions & BFD_A_SEND);
	CU_ASSERT(s.poll);
	bfd_session_packet(&s, 0, &p);
	CU_ASSERT_EQUAL(p.flags, BFD_F_POLL);
	CU_ASSERT_EQUAL(p.desired_min_tx, 500000);
	CU_ASSERT_EQUAL(p.required_min_rx, 600000);
	CU_ASSERT_EQUAL(bfd_session_tx_interval(&s), 300000);		/* still the old */
	CU_ASSERT_EQUAL(bfd_session_detect_time(&s), 1800000);	/* a larger rx: at once */
	c = remote(BFD_UP, 0x11, 0);		/* no F: nothing yet */
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT_EQUAL(bfd_session_tx_interval(&s), 300000);
	c = remote(BFD_UP, 0x11, BFD_F_FINAL);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT(o.actions & BFD_A_TIMERS);
	CU_ASSERT_FALSE(s.poll);
	CU_ASSERT_EQUAL(bfd_session_tx_interval(&s), 500000);
	CU_ASSERT_EQUAL(s.state, BFD_UP);
	/* faster: transmit at once; the smaller receive waits for the Final */
	fast.desired_min_tx = 50000;
	fast.required_min_rx = 50000;
	bfd_session_set_cfg(&s, &fast, &o);
	CU_ASSERT_EQUAL(bfd_session_tx_interval(&s), 200000);	/* remote rx 200 ms */
	CU_ASSERT_EQUAL(bfd_session_detect_time(&s), 1800000);
	c = remote(BFD_UP, 0x11, BFD_F_FINAL);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT_EQUAL(bfd_session_detect_time(&s), 300000);	/* 3 x remote tx 100 */
	/* the same timers again: no Poll */
	bfd_session_set_cfg(&s, &fast, &o);
	CU_ASSERT_EQUAL(o.actions, 0);
	CU_ASSERT_FALSE(s.poll);
	/* not Up: in force at once, and at least 1 s tx */
	fresh(&cfg300);
	bfd_session_set_cfg(&s, &fast, &o);
	CU_ASSERT_FALSE(s.poll);
	CU_ASSERT_EQUAL(bfd_session_tx_interval(&s), 1000000);
	CU_ASSERT_EQUAL(s.act_rx, 50000);
}

/* A change during a Poll Sequence waits for its Final, then has its own. */
static void
t_poll_during_poll(void)
{
	struct bfd_ctrl c, p;
	struct bfd_cfg slow = cfg300, fast = cfg300;

	fresh(&cfg300);
	bring_up();
	c = remote(BFD_UP, 0x11, BFD_F_FINAL);
	bfd_session_rx(&s, &c, &o);
	slow.desired_min_tx = 500000;
	slow.required_min_rx = 600000;
	bfd_session_set_cfg(&s, &slow, &o);
	fast.desired_min_tx = 50000;
	fast.required_min_rx = 50000;
	bfd_session_set_cfg(&s, &fast, &o);
	/* the running sequence still carries its own values */
	bfd_session_packet(&s, 0, &p);
	CU_ASSERT_EQUAL(p.flags, BFD_F_POLL);
	CU_ASSERT_EQUAL(p.desired_min_tx, 500000);
	CU_ASSERT_EQUAL(p.required_min_rx, 600000);
	/* but the faster transmit is safe at once */
	CU_ASSERT_EQUAL(bfd_session_tx_interval(&s), 200000);
	c = remote(BFD_UP, 0x11, BFD_F_FINAL);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT(o.actions & BFD_A_SEND);
	CU_ASSERT(s.poll);
	bfd_session_packet(&s, 0, &p);
	CU_ASSERT_EQUAL(p.flags, BFD_F_POLL);
	CU_ASSERT_EQUAL(p.desired_min_tx, 50000);
	CU_ASSERT_EQUAL(p.required_min_rx, 50000);
	CU_ASSERT_EQUAL(bfd_session_detect_time(&s), 1800000);	/* 600 until the Final */
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT_FALSE(s.poll);
	CU_ASSERT_EQUAL(bfd_session_detect_time(&s), 300000);
	CU_ASSERT_EQUAL(bfd_session_tx_interval(&s), 200000);
}

static void
t_negotiation(void)
{
	struct bfd_ctrl c;

	fresh(&cfg300);
	bring_up();
	/* remote can receive only every 2 s: we send no faster */
	c = remote(BFD_UP, 0x11, 0);
	c.required_min_rx = 2000000;
	c.desired_min_tx = 700000;
	c.detect_mult = 5;
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT(o.actions & BFD_A_TIMERS);
	CU_ASSERT_EQUAL(bfd_session_tx_interval(&s), 2000000);
	CU_ASSERT_EQUAL(bfd_session_detect_time(&s), 3500000);	/* 5 x 700 ms */
	/* remote wants nothing: no periodic packets (§6.8.7) */
	c.required_min_rx = 0;
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT_FALSE(bfd_session_may_send(&s));
}

static void
t_passive(void)
{
	struct bfd_cfg p = cfg300;
	struct bfd_ctrl c;

	p.passive = 1;
	fresh(&p);
	CU_ASSERT_FALSE(bfd_session_may_send(&s));
	c = remote(BFD_DOWN, 0, 0);
	bfd_session_rx(&s, &c, &o);
	CU_ASSERT(bfd_session_may_send(&s));
	CU_ASSERT_EQUAL(s.state, BFD_INIT);
	bfd_session_expired(&s, &o);
	CU_ASSERT_FALSE(bfd_session_may_send(&s));
	fresh(&cfg300);
	CU_ASSERT(bfd_session_may_send(&s));
}

/* An echo packet as sent, and as it comes back forwarded once. */
static void
t_echo_codec(void)
{
	struct bfd_echo e, d;
	uint8_t b[BFD_ECHO_LEN + 8];
	uint32_t sum = 0;
	size_t i;

	memset(&e, 0, sizeof(e));
	memcpy(e.src, "\x0a\x63\x00\x01", 4);
	memcpy(e.dst, "\x0a\x63\x00\x01", 4);
	e.ttl = 255;
	e.sport = 49200;
	e.dport = BFD_ECHO_PORT;
	e.disc = 0x11;
	e.cookie = 0xdeadbeef;
	e.seq = 7;
	CU_ASSERT_EQUAL(bfd_echo_encode(b, &e), BFD_ECHO_LEN);
	CU_ASSERT_EQUAL(b[0], 0x45);
	CU_ASSERT_EQUAL(b[9], 17);
	CU_ASSERT_EQUAL(b[22] << 8 | b[23], 3785);
	/* the IPv4 header sums to all ones (RFC 1071) */
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	CU_ASSERT_EQUAL(sum, 0xffff);
	CU_ASSERT_EQUAL(bfd_echo_decode(b, BFD_ECHO_LEN, &d), BFD_OK);
	CU_ASSERT_EQUAL(d.disc, 0x11);
	CU_ASSERT_EQUAL(d.cookie, 0xdeadbeef);
	CU_ASSERT_EQUAL(d.seq, 7);
	CU_ASSERT_EQUAL(d.ttl, 255);
	CU_ASSERT_EQUAL(d.sport, 49200);
	CU_ASSERT_EQUAL(memcmp(d.dst, e.dst, 4), 0);
	/* a router forwards it: TTL 254, header checksum updated (RFC 1624) */
	b[8] = 254;
	sum = (uint32_t)(b[10] << 8 | b[11]) + 0x0100;
	sum = (sum & 0xffff) + (sum >> 16);
	b[10] = (uint8_t)(sum >> 8);
	b[11] = (uint8_t)sum;
	CU_ASSERT_EQUAL(bfd_echo_decode(b, BFD_ECHO_LEN, &d), BFD_OK);
	CU_ASSERT_EQUAL(d.ttl, 254);
	/* trailing bytes (Ethernet padding) are not the datagram's */
	memset(b + BFD_ECHO_LEN, 0xee, 8);
	CU_ASSERT_EQUAL(bfd_echo_decode(b, sizeof(b), &d), BFD_OK);
	/* damaged: every check */
	CU_ASSERT_EQUAL(bfd_echo_decode(b, 19, &d), BFD_E_SHORT);
	CU_ASSERT_EQUAL(bfd_echo_decode(b, BFD_ECHO_LEN - 1, &d), BFD_E_LENGTH);
	b[40]++;				/* payload: the UDP checksum fails */
	CU_ASSERT_EQUAL(bfd_echo_decode(b, BFD_ECHO_LEN, &d), BFD_E_ECHO);
	b[40]--;
	b[12]++;				/* source: the IP checksum fails */
	CU_ASSERT_EQUAL(bfd_echo_decode(b, BFD_ECHO_LEN, &d), BFD_E_ECHO);
	b[12]--;
	b[0] = 0x65;
	CU_ASSERT_EQUAL(bfd_echo_decode(b, BFD_ECHO_LEN, &d), BFD_E_VERSION);
	b[0] = 0x44;				/* header shorter than 20 */
	CU_ASSERT_EQUAL(bfd_echo_decode(b, BFD_ECHO_LEN, &d), BFD_E_LENGTH);
	b[0] = 0x45;
	b[26] = b[27] = 0;			/* no UDP checksum is allowed */
	CU_ASSERT_EQUAL(bfd_echo_decode(b, BFD_ECHO_LEN, &d), BFD_OK);
	b[28] = 2;				/* not our payload's version */
	CU_ASSERT_EQUAL(bfd_echo_decode(b, BFD_ECHO_LEN, &d), BFD_E_ECHO);
}

/* §6.8.9: echo only while Up, only when both ask for it, at the slower rate. */
static void
t_echo_timing(void)
{
	struct bfd_cfg c = cfg300;
	struct bfd_ctrl r, p;

	c.echo_ivl = 50000;
	fresh(&c);
	bfd_session_packet(&s, 0, &p);
	CU_ASSERT_EQUAL(p.required_min_echo_rx, 50000);	/* we loop theirs back */
	CU_ASSERT_EQUAL(bfd_session_echo_interval(&s), 0);	/* not Up */
	bring_up();
	/* the remote's Required Min Echo RX is 0: it loops none back */
	CU_ASSERT_EQUAL(bfd_session_echo_interval(&s), 0);
	CU_ASSERT_EQUAL(bfd_session_echo_detect_time(&s), 0);
	r = remote(BFD_UP, 0x11, 0);
	r.required_min_echo_rx = 80000;
	CU_ASSERT_EQUAL(bfd_session_rx(&s, &r, &o), BFD_OK);
	CU_ASSERT(o.actions & BFD_A_TIMERS);		/* echo starts */
	CU_ASSERT_EQUAL(bfd_session_echo_interval(&s), 80000);	/* never faster */
	CU_ASSERT_EQUAL(bfd_session_echo_detect_time(&s), 240000);	/* its multiplier */
	r.required_min_echo_rx = 20000;
	bfd_session_rx(&s, &r, &o);
	CU_ASSERT_EQUAL(bfd_session_echo_interval(&s), 50000);
	/* no echo back in time: Down, diagnostic 2 */
	bfd_session_echo_expired(&s, &o);
	CU_ASSERT_EQUAL(s.state, BFD_DOWN);
	CU_ASSERT_EQUAL(s.diag, BFD_DIAG_ECHO_FAILED);
	CU_ASSERT(o.actions & BFD_A_DOWN);
	CU_ASSERT(o.actions & BFD_A_SEND);
	CU_ASSERT_EQUAL(bfd_session_echo_interval(&s), 0);
	/* once more: nothing to do while not Up */
	bfd_session_echo_expired(&s, &o);
	CU_ASSERT_FALSE(o.actions & BFD_A_DOWN);
	/* echo turned off on reload: no Poll Sequence, the timers re-armed */
	bring_up();
	c.echo_ivl = 0;
	bfd_session_set_cfg(&s, &c, &o);
	CU_ASSERT(o.actions & BFD_A_TIMERS);
	CU_ASSERT_EQUAL(bfd_session_echo_interval(&s), 0);
	bfd_session_packet(&s, 0, &p);
	CU_ASSERT_EQUAL(p.required_min_echo_rx, 0);
	/* expiry of the control detection clears what the remote asked */
	c.echo_ivl = 50000;
	bfd_session_set_cfg(&s, &c, &o);
	r.required_min_echo_rx = 50000;
	bfd_session_rx(&s, &r, &o);
	bfd_session_expired(&s, &o);
	CU_ASSERT_EQUAL(s.remote_echo_rx, 0);
}

static void
t_jitter(void)
{
	uint32_t r, v, lo = 0xffffffff, hi = 0;

	for (r = 0; r < 100000; r += 7) {
		v = bfd_jitter(300000, 3, r * 2654435761u);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	CU_ASSERT(lo >= 225000 && lo < 226000);
	CU_ASSERT(hi <= 300000 && hi > 299000);
	lo = 0xffffffff;
	hi = 0;
	for (r = 0; r < 100000; r += 7) {
		v = bfd_jitter(300000, 1, r * 2654435761u);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	CU_ASSERT(lo >= 225000);
	CU_ASSERT(hi <= 270000);
}

/* The transmit schedule under a loaded loop: callbacks late, no drift. */
static void
t_no_drift(void)
{
	uint64_t due = 1000000, now, sent[100];
	int i;

	/* each callback runs 0-40 ms late: the packets stay on the grid */
	for (i = 0; i < 100; i++) {
		now = due + (uint64_t)((i * 7919) % 40000);
		sent[i] = now;
		due = bfd_next_due(due, now, 50000);
	}
	CU_ASSERT_EQUAL(due, 1000000 + 100 * 50000);
	for (i = 1; i < 100; i++)
		CU_ASSERT(sent[i] - sent[i - 1] <= 50000 + 40000);
	/* a stall longer than an interval: the next one an interval from now,
	 * no burst of the missed ones */
	CU_ASSERT_EQUAL(bfd_next_due(1000000, 1300000, 50000), 1350000);
	CU_ASSERT_EQUAL(bfd_next_due(1000000, 1050000, 50000), 1050000);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "codec: round trip", t_codec_roundtrip },
		{ "codec: malformed packets dropped (6.8.6)", t_codec_malformed },
		{ "codec: authentication, zero my discriminator", t_codec_auth_and_disc },
		{ "fsm: three-way handshake, slow then fast timers", t_handshake },
		{ "fsm: transitions (6.8.6), expiry, AdminDown", t_transitions },
		{ "fsm: your discriminator", t_your_disc },
		{ "fsm: Poll/Final and timer changes (6.8.3)", t_poll_final },
		{ "fsm: a change during a Poll Sequence", t_poll_during_poll },
		{ "fsm: negotiation and detection time", t_negotiation },
		{ "fsm: passive role", t_passive },
		{ "echo: packet codec", t_echo_codec },
		{ "echo: when it runs, its interval, its failure (6.8.9)", t_echo_timing },
		{ "jitter (6.8.7)", t_jitter },
		{ "transmit schedule: no drift, no burst after a stall", t_no_drift },
		{ NULL, NULL }
	};

	return cu_run("bfd", tests);
}
