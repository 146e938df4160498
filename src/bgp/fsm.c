/*
 * The BGP FSM (RFC 4271 §8.2.2), after OpenBGPD's bgp_fsm()/change_state():
 * one dispatch function, one change_state(). No clock and no socket: timers
 * come in as events and go out as commands.
 */
#include "config.h"

#include <string.h>

#include "vipgate/bgp-fsm.h"
#include "vipgate/bgp-msg.h"
#include "vipgate/log.h"

#define HOLD_LARGE_MS	240000	/* §8.2.2: "a large value", 4 minutes suggested */

void
bgp_fsm_init(struct bgp_fsm *f, uint32_t hold_s, uint32_t keepalive_s, int64_t connect_ms)
{
	memset(f, 0, sizeof(*f));
	f->state = BGP_IDLE;
	f->hold_cfg = hold_s;
	f->keepalive_cfg = keepalive_s;
	bgp_fsm_set_connect(f, connect_ms);
	f->stop_subcode = BGP_CEASE_SHUTDOWN;
}

/*
 * connectTime (FRR's "timers connect", default 120 s) caps the backoff,
 * which starts at 1 s, or at connectTime when that is shorter.
 */
void
bgp_fsm_set_connect(struct bgp_fsm *f, int64_t connect_ms)
{
	f->connect_max_ms = connect_ms > 0 ? connect_ms : 120000;
	f->connect_base_ms = f->connect_max_ms < 1000 ? f->connect_max_ms : 1000;
}

int64_t
bgp_backoff_ms(int64_t base, int64_t max, unsigned count, uint32_t jitter)
{
	int64_t t = base;
	unsigned i;

	for (i = 0; i < count && t < max; i++)
		t *= 2;
	if (t > max)
		t = max;
	/* [0.75, 1.0] of it */
	return t - (t / 4) * (int64_t)(jitter % 1001) / 1000;
}

void
bgp_fsm_negotiate(struct bgp_fsm *f, uint16_t peer_hold)
{
	f->hold = peer_hold < f->hold_cfg ? peer_hold : f->hold_cfg;
	if (f->hold == 0) {
		f->keepalive = 0;
		return;
	}
	f->keepalive = f->keepalive_cfg ? f->keepalive_cfg : f->hold / 3;
	if (f->keepalive > f->hold / 3)
		f->keepalive = f->hold / 3;
	if (f->keepalive == 0)
		f->keepalive = 1;
}

const char *
bgp_state_name(enum bgp_state s)
{
	static const char *const n[] = { "Idle", "Connect", "Active", "OpenSent",
		"OpenConfirm", "Established" };

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

const char *
bgp_event_name(enum bgp_event e)
{
	switch (e) {
	case BGP_EV_START: return "ManualStart";
	case BGP_EV_STOP: return "ManualStop";
	case BGP_EV_AUTO_START: return "AutomaticStart";
	case BGP_EV_CONNECT_RETRY: return "ConnectRetryTimer_Expires";
	case BGP_EV_HOLD_EXPIRED: return "HoldTimer_Expires";
	case BGP_EV_KEEPALIVE_TIMER: return "KeepaliveTimer_Expires";
	case BGP_EV_IDLE_HOLD: return "IdleHoldTimer_Expires";
	case BGP_EV_TCP_ACKED: return "Tcp_CR_Acked";
	case BGP_EV_TCP_CONFIRMED: return "TcpConnectionConfirmed";
	case BGP_EV_TCP_FAILS: return "TcpConnectionFails";
	case BGP_EV_OPEN: return "BGPOpen";
	case BGP_EV_HEADER_ERR: return "BGPHeaderErr";
	case BGP_EV_OPEN_ERR: return "BGPOpenMsgErr";
	case BGP_EV_COLLISION_DUMP: return "OpenCollisionDump";
	case BGP_EV_NOTIF_VERSION: return "NotifMsgVerErr";
	case BGP_EV_NOTIF: return "NotifMsg";
	case BGP_EV_KEEPALIVE_MSG: return "KeepAliveMsg";
	case BGP_EV_UPDATE_MSG: return "UpdateMsg";
	case BGP_EV_UPDATE_ERR: return "UpdateMsgErr";
	case BGP_EV_RREFRESH_MSG: return "RouteRefreshMsg";
	}
	return "?";
}

static int64_t
retry_ms(struct bgp_fsm *f)
{
	return bgp_backoff_ms(f->connect_base_ms, f->connect_max_ms, f->connect_retry_count,
	    f->jitter);
}

/* Every transition, and the timers each state runs on entry. */
static void
change_state(struct bgp_fsm *f, enum bgp_state to, enum bgp_event ev,
    struct bgp_fsm_out *o)
{
	enum bgp_state from = f->state;

	f->state = to;
	f->last_event = ev;
	if (from != to)
		log_debug("bgp %s: %s -> %s (%s)", f->name ? f->name : "?",
		    bgp_state_name(from), bgp_state_name(to), bgp_event_name(ev));
	if (from == BGP_ESTABLISHED && to != BGP_ESTABLISHED)
		o->actions |= BGP_A_DOWN;
	/* a held connection lives only beside OpenSent and OpenConfirm: once
	 * Established the session's wins (§6.8), and Idle refuses connections */
	if (f->held && (to == BGP_IDLE || to == BGP_ESTABLISHED)) {
		o->actions |= BGP_A_DROP_HELD;
		f->held = 0;
	}
	switch (to) {
	case BGP_IDLE:
		o->timer[BGP_T_CONNECT_RETRY] = -1;
		o->timer[BGP_T_HOLD] = -1;
		o->timer[BGP_T_KEEPALIVE] = -1;
		/* after a fault, start again by itself after the backoff (§8.1.1
		 * DampPeerOscillations); a manual stop stays down */
		o->timer[BGP_T_IDLE_HOLD] = ev == BGP_EV_STOP ? -1 : retry_ms(f);
		break;
	case BGP_CONNECT:
	case BGP_ACTIVE:
		o->timer[BGP_T_IDLE_HOLD] = -1;
		o->timer[BGP_T_CONNECT_RETRY] = retry_ms(f);
		o->timer[BGP_T_HOLD] = -1;
		o->timer[BGP_T_KEEPALIVE] = -1;
		break;
	case BGP_OPENSENT:
		o->timer[BGP_T_CONNECT_RETRY] = -1;
		o->timer[BGP_T_HOLD] = HOLD_LARGE_MS;
		break;
	case BGP_OPENCONFIRM:
	case BGP_ESTABLISHED:
		o->timer[BGP_T_CONNECT_RETRY] = -1;
		o->timer[BGP_T_HOLD] = f->hold ? (int64_t)f->hold * 1000 : -1;
		if (to == BGP_OPENCONFIRM && from != to)
			o->timer[BGP_T_KEEPALIVE] =
			    f->keepalive ? (int64_t)f->keepalive * 1000 : -1;
		break;
	}
}

static void
notify(struct bgp_fsm_out *o, uint8_t code, uint8_t sub)
{
	o->actions |= BGP_A_SEND_NOTIF | BGP_A_CLOSE;
	o->notif_code = code;
	o->notif_subcode = sub;
}

/*
 * The session's connection is gone (dumped by our collision resolution, or
 * the peer's NOTIFICATION or close) while the peer holds another one to us:
 * §6.8 resolves a collision by closing one of two connections and going on
 * with the other, so the session goes on with the held one, in OpenSent,
 * rather than through Idle. Going through Idle would refuse the peer's
 * connection, wait out the IdleHold backoff and make a new one that
 * collides again with the peer's: the cycle seen against FRR.
 */
static int
take_held(struct bgp_fsm *f, enum bgp_event ev, struct bgp_fsm_out *o)
{
	if (!f->held || (f->state != BGP_OPENSENT && f->state != BGP_OPENCONFIRM))
		return 0;
	if (ev != BGP_EV_COLLISION_DUMP && ev != BGP_EV_NOTIF && ev != BGP_EV_TCP_FAILS)
		return 0;
	f->held = 0;
	o->actions |= BGP_A_CLOSE | BGP_A_ADOPT | BGP_A_SEND_OPEN;
	/* a fresh OPEN exchange: the hold time is negotiated again */
	f->hold = f->keepalive = 0;
	o->timer[BGP_T_KEEPALIVE] = -1;
	o->timer[BGP_T_IDLE_HOLD] = -1;
	change_state(f, BGP_OPENSENT, ev, o);
	return 1;
}

/*
 * Down after a fault: Idle with the backoff grown. A Cease for a
 * connection collision is the peer choosing its own connection, not a
 * fault of the session: it does not grow the backoff.
 */
static void
fault(struct bgp_fsm *f, enum bgp_event ev, struct bgp_fsm_out *o)
{
	if (take_held(f, ev, o))
		return;
	o->actions |= BGP_A_CLOSE;
	if (!(ev == BGP_EV_NOTIF && f->err_code == BGP_ERR_CEASE &&
	    f->err_subcode == BGP_CEASE_COLLISION))
		f->connect_retry_count++;
	change_state(f, BGP_IDLE, ev, o);
}

/* The NOTIFICATION events carry in err_*: header, OPEN, UPDATE errors. */
static void
msg_error(struct bgp_fsm *f, enum bgp_event ev, struct bgp_fsm_out *o)
{
	notify(o, f->err_code, f->err_subcode);
	fault(f, ev, o);
}

static void
manual_stop(struct bgp_fsm *f, enum bgp_event ev, struct bgp_fsm_out *o)
{
	if (f->state >= BGP_OPENSENT)
		notify(o, BGP_ERR_CEASE, f->stop_subcode);
	o->actions |= BGP_A_CLOSE;
	f->connect_retry_count = 0;
	change_state(f, BGP_IDLE, ev, o);
}

/* An event the state does not take: the FSM Error of RFC 6608 for it. */
static void
unexpected(struct bgp_fsm *f, enum bgp_event ev, struct bgp_fsm_out *o)
{
	notify(o, BGP_ERR_FSM, f->state == BGP_OPENSENT ? BGP_FSM_OPENSENT :
	    f->state == BGP_OPENCONFIRM ? BGP_FSM_OPENCONFIRM : BGP_FSM_ESTABLISHED);
	fault(f, ev, o);
}

/*
 * Connect and Active: a TCP connection on its way, ours or the peer's. They
 * differ only in the ConnectRetry timer: in Connect it drops our attempt
 * (counted in the backoff) and tries again, in Active it makes one.
 */
static void
fsm_connecting(struct bgp_fsm *f, enum bgp_event ev, struct bgp_fsm_out *o)
{
	switch (ev) {
	case BGP_EV_CONNECT_RETRY:
		if (f->state == BGP_CONNECT) {
			o->actions |= BGP_A_CLOSE;
			f->connect_retry_count++;
		}
		o->actions |= BGP_A_CONNECT;
		change_state(f, BGP_CONNECT, ev, o);
		break;
	case BGP_EV_TCP_ACKED:
	case BGP_EV_TCP_CONFIRMED:
		o->actions |= BGP_A_SEND_OPEN;
		change_state(f, BGP_OPENSENT, ev, o);
		break;
	case BGP_EV_TCP_FAILS:
		/* wait in Active for the peer to call, or the retry */
		o->actions |= BGP_A_CLOSE;
		f->connect_retry_count++;
		change_state(f, BGP_ACTIVE, ev, o);
		break;
	case BGP_EV_START:
	case BGP_EV_AUTO_START:
		break;
	default:
		fault(f, ev, o);
		break;
	}
}

/*
 * The events OpenSent, OpenConfirm and Established handle alike: 1 when ev
 * was one of them, 0 when the state's own switch decides.
 */
static int
fsm_session_common(struct bgp_fsm *f, enum bgp_event ev, struct bgp_fsm_out *o)
{
	switch (ev) {
	case BGP_EV_HOLD_EXPIRED:
		notify(o, BGP_ERR_HOLD, 0);
		fault(f, ev, o);
		return 1;
	case BGP_EV_HEADER_ERR:
	case BGP_EV_OPEN_ERR:
		msg_error(f, ev, o);
		return 1;
	case BGP_EV_COLLISION_DUMP:
		notify(o, BGP_ERR_CEASE, BGP_CEASE_COLLISION);
		fault(f, ev, o);
		return 1;
	case BGP_EV_NOTIF:
		/* the peer closes after its NOTIFICATION: no answer to it */
		fault(f, ev, o);
		return 1;
	case BGP_EV_START:
	case BGP_EV_AUTO_START:
		return 1;
	default:
		return 0;
	}
}

enum bgp_state
bgp_fsm_event(struct bgp_fsm *f, enum bgp_event ev, struct bgp_fsm_out *o)
{
	memset(o, 0, sizeof(*o));
	if (ev == BGP_EV_STOP) {
		if (f->state != BGP_IDLE)
			manual_stop(f, ev, o);
		else
			o->timer[BGP_T_IDLE_HOLD] = -1;
		return f->state;
	}
	switch (f->state) {
	case BGP_IDLE:
		switch (ev) {
		case BGP_EV_START:
		case BGP_EV_AUTO_START:
		case BGP_EV_IDLE_HOLD:
			o->actions |= BGP_A_CONNECT;
			change_state(f, BGP_CONNECT, ev, o);
			break;
		case BGP_EV_TCP_CONFIRMED:
		case BGP_EV_TCP_ACKED:
			/* §8.2.2: Idle refuses connections */
			o->actions |= BGP_A_CLOSE;
			break;
		default:
			break;	/* ignored in Idle */
		}
		break;
	case BGP_CONNECT:
	case BGP_ACTIVE:
		fsm_connecting(f, ev, o);
		break;
	case BGP_OPENSENT:
		if (fsm_session_common(f, ev, o))
			break;
		switch (ev) {
		case BGP_EV_TCP_FAILS:
			if (take_held(f, ev, o))
				break;
			o->actions |= BGP_A_CLOSE;
			change_state(f, BGP_ACTIVE, ev, o);
			break;
		case BGP_EV_OPEN:
			o->actions |= BGP_A_SEND_KEEPALIVE;
			change_state(f, BGP_OPENCONFIRM, ev, o);
			break;
		case BGP_EV_NOTIF_VERSION:
			o->actions |= BGP_A_CLOSE;
			change_state(f, BGP_IDLE, ev, o);
			break;
		default:
			unexpected(f, ev, o);
			break;
		}
		break;
	case BGP_OPENCONFIRM:
		if (fsm_session_common(f, ev, o))
			break;
		switch (ev) {
		case BGP_EV_KEEPALIVE_TIMER:
			o->actions |= BGP_A_SEND_KEEPALIVE;
			o->timer[BGP_T_KEEPALIVE] = (int64_t)f->keepalive * 1000;
			break;
		case BGP_EV_TCP_FAILS:
			fault(f, ev, o);
			break;
		case BGP_EV_NOTIF_VERSION:
			o->actions |= BGP_A_CLOSE;
			change_state(f, BGP_IDLE, ev, o);
			break;
		case BGP_EV_KEEPALIVE_MSG:
			f->connect_retry_count = 0;
			o->actions |= BGP_A_ESTABLISHED;
			change_state(f, BGP_ESTABLISHED, ev, o);
			break;
		default:
			unexpected(f, ev, o);
			break;
		}
		break;
	case BGP_ESTABLISHED:
		if (fsm_session_common(f, ev, o))
			break;
		switch (ev) {
		case BGP_EV_KEEPALIVE_TIMER:
			o->actions |= BGP_A_SEND_KEEPALIVE;
			o->timer[BGP_T_KEEPALIVE] = (int64_t)f->keepalive * 1000;
			break;
		case BGP_EV_KEEPALIVE_MSG:
		case BGP_EV_UPDATE_MSG:
			change_state(f, BGP_ESTABLISHED, ev, o);
			break;
		case BGP_EV_RREFRESH_MSG:
			o->actions |= BGP_A_RESEND_RIB;
			change_state(f, BGP_ESTABLISHED, ev, o);
			break;
		case BGP_EV_TCP_FAILS:
		case BGP_EV_NOTIF_VERSION:
			fault(f, ev, o);
			break;
		case BGP_EV_UPDATE_ERR:
			msg_error(f, ev, o);
			break;
		default:
			unexpected(f, ev, o);
			break;
		}
		break;
	}
	return f->state;
}
