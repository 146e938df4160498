/*
 * One BFD session (RFC 5880 §6.8), asynchronous mode, pure: packets and
 * timer expiries come in as calls, what to send and which timers to re-arm
 * go out in struct bfd_out. Every transition passes through
 * change_state(). The echo function's timing is here too (§6.8.9); demand
 * mode is not run (bfd_io.c says so).
 */
#include "config.h"

#include <string.h>

#include "vipgate/bfd.h"
#include "vipgate/log.h"

static uint32_t
max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* §6.8.3: while not Up, Desired Min TX is at least one second. */
static uint32_t
tx_for_state(const struct bfd_session *s, enum bfd_state st)
{
	return st == BFD_UP ? s->cfg.desired_min_tx : max_u32(s->cfg.desired_min_tx,
	    BFD_SLOW_TX_US);
}

/*
 * §6.8.3: the changed intervals go out with P set until the Final. One
 * sequence at a time: a change during one waits for its Final.
 */
static void
poll_start(struct bfd_session *s)
{
	if (s->poll)
		return;
	s->poll = 1;
	s->poll_tx = s->adv_tx;
	s->poll_rx = s->adv_rx;
}

static void
change_state(struct bfd_session *s, enum bfd_state to, enum bfd_diag diag, const char *why,
    struct bfd_out *o)
{
	enum bfd_state from = s->state;
	uint32_t old_tx = s->adv_tx;

	if (from == to)
		return;
	log_info("bfd %s: %s -> %s (%s%s%s)", s->name ? s->name : "?", bfd_state_name(from),
	    bfd_state_name(to), why, diag ? ", diagnostic: " : "", diag ? bfd_diag_name(diag) : "");
	s->state = to;
	if (diag != BFD_DIAG_NONE || to == BFD_UP)
		s->diag = to == BFD_UP ? BFD_DIAG_NONE : diag;
	if (from == BFD_UP)
		o->actions |= BFD_A_DOWN;
	if (to == BFD_UP) {
		o->actions |= BFD_A_UP;
		/*
		 * From the slow rate to the profile's: a change of Desired Min
		 * TX while Up is a Poll Sequence (§6.8.3); going faster takes
		 * effect at once.
		 */
		s->adv_tx = tx_for_state(s, BFD_UP);
		if (s->adv_tx < s->act_tx)
			s->act_tx = s->adv_tx;
		if (s->adv_tx != old_tx)
			poll_start(s);
	} else {
		s->poll = 0;
		s->adv_tx = s->act_tx = tx_for_state(s, to);
		s->act_rx = s->adv_rx;
	}
	o->actions |= BFD_A_SEND | BFD_A_TIMERS;
}

void
bfd_session_init(struct bfd_session *s, const struct bfd_cfg *c, uint32_t local_disc)
{
	const char *name = s->name;

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->state = BFD_DOWN;
	s->remote_state = BFD_DOWN;
	s->local_disc = local_disc;
	s->cfg = *c;
	s->adv_tx = s->act_tx = tx_for_state(s, BFD_DOWN);
	s->adv_rx = s->act_rx = c->required_min_rx;
	s->remote_min_rx = 1;		/* §6.8.1 */
}

enum bfd_drop
bfd_session_rx(struct bfd_session *s, const struct bfd_ctrl *c, struct bfd_out *o)
{
	memset(o, 0, sizeof(*o));
	o->from = s->state;
	if (c->your_disc == 0 ? c->state != BFD_DOWN && c->state != BFD_ADMIN_DOWN :
	    c->your_disc != s->local_disc)
		return BFD_E_YOUR_DISC;
	if (s->remote_min_rx != c->required_min_rx || s->remote_tx != c->desired_min_tx ||
	    s->remote_mult != c->detect_mult || s->remote_echo_rx != c->required_min_echo_rx)
		o->actions |= BFD_A_TIMERS;
	s->remote_disc = c->my_disc;
	s->remote_state = c->state;
	s->remote_min_rx = c->required_min_rx;
	s->remote_tx = c->desired_min_tx;
	s->remote_mult = c->detect_mult;
	s->remote_echo_rx = c->required_min_echo_rx;
	s->heard = 1;
	if ((c->flags & BFD_F_FINAL) && s->poll) {
		/* §6.8.3: the Poll Sequence ends; its intervals apply */
		s->poll = 0;
		s->act_tx = s->poll_tx;
		s->act_rx = s->poll_rx;
		o->actions |= BFD_A_TIMERS;
		if (s->adv_tx != s->poll_tx || s->adv_rx != s->poll_rx) {
			/* changed again meanwhile: the next sequence */
			if (s->adv_tx < s->act_tx)
				s->act_tx = s->adv_tx;
			if (s->adv_rx > s->act_rx)
				s->act_rx = s->adv_rx;
			poll_start(s);
			o->actions |= BFD_A_SEND;
		}
	}
	if (s->state == BFD_ADMIN_DOWN)
		return BFD_OK;
	if (c->state == BFD_ADMIN_DOWN) {
		if (s->state != BFD_DOWN)
			change_state(s, BFD_DOWN, BFD_DIAG_NEIGHBOR_DOWN, "neighbor AdminDown", o);
	} else {
		switch (s->state) {
		case BFD_DOWN:
			if (c->state == BFD_DOWN)
				change_state(s, BFD_INIT, BFD_DIAG_NONE, "neighbor Down", o);
			else if (c->state == BFD_INIT)
				change_state(s, BFD_UP, BFD_DIAG_NONE, "neighbor Init", o);
			break;
		case BFD_INIT:
			if (c->state == BFD_INIT || c->state == BFD_UP)
				change_state(s, BFD_UP, BFD_DIAG_NONE, c->state == BFD_UP ?
				    "neighbor Up" : "neighbor Init", o);
			break;
		case BFD_UP:
			if (c->state == BFD_DOWN)
				change_state(s, BFD_DOWN, BFD_DIAG_NEIGHBOR_DOWN, "neighbor Down", o);
			break;
		default:
			break;
		}
	}
	if (c->flags & BFD_F_POLL)
		o->actions |= BFD_A_SEND_FINAL;
	return BFD_OK;
}

void
bfd_session_expired(struct bfd_session *s, struct bfd_out *o)
{
	memset(o, 0, sizeof(*o));
	o->from = s->state;
	if (s->state == BFD_INIT || s->state == BFD_UP)
		change_state(s, BFD_DOWN, BFD_DIAG_DETECT_EXPIRED, "detection time expired", o);
	/* §6.8.1: RemoteDiscr goes back to zero; a passive side stops sending */
	s->remote_disc = 0;
	s->remote_state = BFD_DOWN;
	s->remote_min_rx = 1;
	s->remote_tx = 0;
	s->remote_mult = 0;
	s->remote_echo_rx = 0;
	s->heard = 0;
	o->actions |= BFD_A_TIMERS;
}

void
bfd_session_echo_expired(struct bfd_session *s, struct bfd_out *o)
{
	memset(o, 0, sizeof(*o));
	o->from = s->state;
	if (s->state == BFD_UP)
		change_state(s, BFD_DOWN, BFD_DIAG_ECHO_FAILED, "echo detection time expired", o);
}

void
bfd_session_admin(struct bfd_session *s, int down, struct bfd_out *o)
{
	memset(o, 0, sizeof(*o));
	o->from = s->state;
	if (down)
		change_state(s, BFD_ADMIN_DOWN, BFD_DIAG_ADMIN_DOWN, "administratively down", o);
	else if (s->state == BFD_ADMIN_DOWN)
		change_state(s, BFD_DOWN, BFD_DIAG_NONE, "administratively up", o);
}

void
bfd_session_set_cfg(struct bfd_session *s, const struct bfd_cfg *c, struct bfd_out *o)
{
	uint32_t tx, rx;

	memset(o, 0, sizeof(*o));
	o->from = s->state;
	if (c->desired_min_tx == s->cfg.desired_min_tx &&
	    c->required_min_rx == s->cfg.required_min_rx && c->detect_mult == s->cfg.detect_mult) {
		/* passive, the TTL and echo need no Poll Sequence */
		if (c->echo_ivl != s->cfg.echo_ivl)
			o->actions |= BFD_A_SEND | BFD_A_TIMERS;
		s->cfg = *c;
		return;
	}
	s->cfg = *c;
	tx = tx_for_state(s, s->state);
	rx = c->required_min_rx;
	if (s->state != BFD_UP) {
		s->adv_tx = s->act_tx = tx;
		s->adv_rx = s->act_rx = rx;
		o->actions |= BFD_A_TIMERS;
		return;
	}
	/*
	 * §6.8.3: advertised now with P set; a slower transmit and a faster
	 * receive (a shorter detection time for the remote's packets) wait
	 * for the Final, the other directions are safe at once.
	 */
	s->adv_tx = tx;
	s->adv_rx = rx;
	if (tx < s->act_tx)
		s->act_tx = tx;
	if (rx > s->act_rx)
		s->act_rx = rx;
	poll_start(s);
	o->actions |= BFD_A_SEND | BFD_A_TIMERS;
}

void
bfd_session_packet(const struct bfd_session *s, int final, struct bfd_ctrl *c)
{
	memset(c, 0, sizeof(*c));
	c->diag = (uint8_t)s->diag;
	c->state = (uint8_t)s->state;
	c->flags = final ? BFD_F_FINAL : s->poll ? BFD_F_POLL : 0;
	c->detect_mult = s->cfg.detect_mult;
	c->length = BFD_CTRL_LEN;
	c->my_disc = s->local_disc;
	c->your_disc = s->remote_disc;
	c->desired_min_tx = s->poll ? s->poll_tx : s->adv_tx;
	c->required_min_rx = s->poll ? s->poll_rx : s->adv_rx;
	/*
	 * The remote's echo packets are looped back by this node's forwarding
	 * plane (a Kubernetes node forwards IPv4); advertised only with
	 * echoMode, whose echoInterval is both intervals, as MetalLB sets FRR's
	 * echo receive-interval and transmit-interval from it.
	 */
	c->required_min_echo_rx = s->cfg.echo_ivl;
}

int
bfd_session_may_send(const struct bfd_session *s)
{
	/* §6.8.7: not when the remote asks for none, nor passive before it spoke */
	if (s->remote_min_rx == 0)
		return 0;
	return !s->cfg.passive || s->remote_disc != 0;
}

uint32_t
bfd_session_tx_interval(const struct bfd_session *s)
{
	return max_u32(s->act_tx, s->remote_min_rx);
}

uint64_t
bfd_session_detect_time(const struct bfd_session *s)
{
	if (s->remote_mult == 0)
		return 0;
	return (uint64_t)s->remote_mult * max_u32(s->act_rx, s->remote_tx);
}

uint32_t
bfd_session_echo_interval(const struct bfd_session *s)
{
	/* §6.8.9: only while Up, never when the remote asks for none, never
	 * faster than it asks */
	if (s->state != BFD_UP || s->cfg.echo_ivl == 0 || s->remote_echo_rx == 0)
		return 0;
	return max_u32(s->cfg.echo_ivl, s->remote_echo_rx);
}

uint64_t
bfd_session_echo_detect_time(const struct bfd_session *s)
{
	/* a local matter in RFC 5880; FRR's bfdd (MetalLB's) takes the
	 * remote's multiplier, so does this */
	return (uint64_t)s->remote_mult * bfd_session_echo_interval(s);
}

uint32_t
bfd_jitter(uint32_t interval, uint8_t detect_mult, uint32_t rnd)
{
	/* §6.8.7: 0 to 25 % less; 10 to 25 % less with a multiplier of 1 */
	if (detect_mult == 1)
		return interval - interval / 10 - rnd % (interval * 15 / 100 + 1);
	return interval - rnd % (interval / 4 + 1);
}

uint64_t
bfd_next_due(uint64_t due, uint64_t now, uint32_t ivl)
{
	return due + ivl >= now ? due + ivl : now + ivl;
}
