/* BGP FSM: transitions driven by events, no clock. */
#include "config.h"

#include "cu.h"
#include "vipgate/bgp-fsm.h"
#include "vipgate/bgp-msg.h"

static struct bgp_fsm f;
static struct bgp_fsm_out o;

static void
reset(enum bgp_state s)
{
	bgp_fsm_init(&f, 90, 0, 0);	/* connectTime default: 1 s doubling up to 120 s */
	f.state = s;
	if (s >= BGP_OPENCONFIRM)
		bgp_fsm_negotiate(&f, 90);
}

/* One row: from state, event -> state, actions that must be there, notif */
struct row {
	enum bgp_state	from;
	enum bgp_event	ev;
	enum bgp_state	to;
	unsigned	actions;	/* exactly these */
	uint8_t		code, sub;
};

static const struct row table[] = {
	{ BGP_IDLE, BGP_EV_START, BGP_CONNECT, BGP_A_CONNECT, 0, 0 },
	{ BGP_IDLE, BGP_EV_AUTO_START, BGP_CONNECT, BGP_A_CONNECT, 0, 0 },
	{ BGP_IDLE, BGP_EV_IDLE_HOLD, BGP_CONNECT, BGP_A_CONNECT, 0, 0 },
	{ BGP_IDLE, BGP_EV_TCP_CONFIRMED, BGP_IDLE, BGP_A_CLOSE, 0, 0 },
	{ BGP_IDLE, BGP_EV_KEEPALIVE_MSG, BGP_IDLE, 0, 0, 0 },
	{ BGP_IDLE, BGP_EV_STOP, BGP_IDLE, 0, 0, 0 },
	{ BGP_CONNECT, BGP_EV_TCP_ACKED, BGP_OPENSENT, BGP_A_SEND_OPEN, 0, 0 },
	{ BGP_CONNECT, BGP_EV_TCP_CONFIRMED, BGP_OPENSENT, BGP_A_SEND_OPEN, 0, 0 },
	{ BGP_CONNECT, BGP_EV_TCP_FAILS, BGP_ACTIVE, BGP_A_CLOSE, 0, 0 },
	{ BGP_CONNECT, BGP_EV_CONNECT_RETRY, BGP_CONNECT, BGP_A_CLOSE | BGP_A_CONNECT, 0, 0 },
	{ BGP_CONNECT, BGP_EV_STOP, BGP_IDLE, BGP_A_CLOSE, 0, 0 },
	{ BGP_CONNECT, BGP_EV_KEEPALIVE_MSG, BGP_IDLE, BGP_A_CLOSE, 0, 0 },
	{ BGP_ACTIVE, BGP_EV_CONNECT_RETRY, BGP_CONNECT, BGP_A_CONNECT, 0, 0 },
	{ BGP_ACTIVE, BGP_EV_TCP_CONFIRMED, BGP_OPENSENT, BGP_A_SEND_OPEN, 0, 0 },
	{ BGP_ACTIVE, BGP_EV_TCP_FAILS, BGP_ACTIVE, BGP_A_CLOSE, 0, 0 },
	{ BGP_ACTIVE, BGP_EV_STOP, BGP_IDLE, BGP_A_CLOSE, 0, 0 },
	{ BGP_ACTIVE, BGP_EV_OPEN, BGP_IDLE, BGP_A_CLOSE, 0, 0 },
	{ BGP_OPENSENT, BGP_EV_OPEN, BGP_OPENCONFIRM, BGP_A_SEND_KEEPALIVE, 0, 0 },
	{ BGP_OPENSENT, BGP_EV_HOLD_EXPIRED, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE, 4, 0 },
	{ BGP_OPENSENT, BGP_EV_TCP_FAILS, BGP_ACTIVE, BGP_A_CLOSE, 0, 0 },
	{ BGP_OPENSENT, BGP_EV_OPEN_ERR, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE, 2, 2 },
	{ BGP_OPENSENT, BGP_EV_HEADER_ERR, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE, 2, 2 },
	{ BGP_OPENSENT, BGP_EV_COLLISION_DUMP, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE, 6, 7 },
	{ BGP_OPENSENT, BGP_EV_NOTIF_VERSION, BGP_IDLE, BGP_A_CLOSE, 0, 0 },
	{ BGP_OPENSENT, BGP_EV_NOTIF, BGP_IDLE, BGP_A_CLOSE, 0, 0 },
	{ BGP_OPENSENT, BGP_EV_KEEPALIVE_MSG, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE, 5, 1 },
	{ BGP_OPENSENT, BGP_EV_UPDATE_MSG, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE, 5, 1 },
	{ BGP_OPENSENT, BGP_EV_STOP, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE, 6, 2 },
	{ BGP_OPENCONFIRM, BGP_EV_KEEPALIVE_MSG, BGP_ESTABLISHED, BGP_A_ESTABLISHED, 0, 0 },
	{ BGP_OPENCONFIRM, BGP_EV_KEEPALIVE_TIMER, BGP_OPENCONFIRM, BGP_A_SEND_KEEPALIVE, 0, 0 },
	{ BGP_OPENCONFIRM, BGP_EV_HOLD_EXPIRED, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE, 4, 0 },
	{ BGP_OPENCONFIRM, BGP_EV_TCP_FAILS, BGP_IDLE, BGP_A_CLOSE, 0, 0 },
	{ BGP_OPENCONFIRM, BGP_EV_NOTIF, BGP_IDLE, BGP_A_CLOSE, 0, 0 },
	{ BGP_OPENCONFIRM, BGP_EV_OPEN, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE, 5, 2 },
	{ BGP_OPENCONFIRM, BGP_EV_UPDATE_MSG, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE, 5, 2 },
	{ BGP_OPENCONFIRM, BGP_EV_COLLISION_DUMP, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE, 6, 7 },
	{ BGP_OPENCONFIRM, BGP_EV_STOP, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE, 6, 2 },
	{ BGP_ESTABLISHED, BGP_EV_KEEPALIVE_MSG, BGP_ESTABLISHED, 0, 0, 0 },
	{ BGP_ESTABLISHED, BGP_EV_UPDATE_MSG, BGP_ESTABLISHED, 0, 0, 0 },
	{ BGP_ESTABLISHED, BGP_EV_RREFRESH_MSG, BGP_ESTABLISHED, BGP_A_RESEND_RIB, 0, 0 },
	{ BGP_ESTABLISHED, BGP_EV_KEEPALIVE_TIMER, BGP_ESTABLISHED, BGP_A_SEND_KEEPALIVE, 0, 0 },
	{ BGP_ESTABLISHED, BGP_EV_HOLD_EXPIRED, BGP_IDLE,
	    BGP_A_SEND_NOTIF | BGP_A_CLOSE | BGP_A_DOWN, 4, 0 },
	{ BGP_ESTABLISHED, BGP_EV_UPDATE_ERR, BGP_IDLE,
	    BGP_A_SEND_NOTIF | BGP_A_CLOSE | BGP_A_DOWN, 2, 2 },
	{ BGP_ESTABLISHED, BGP_EV_TCP_FAILS, BGP_IDLE, BGP_A_CLOSE | BGP_A_DOWN, 0, 0 },
	{ BGP_ESTABLISHED, BGP_EV_NOTIF, BGP_IDLE, BGP_A_CLOSE | BGP_A_DOWN, 0, 0 },
	{ BGP_ESTABLISHED, BGP_EV_OPEN, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE | BGP_A_DOWN,
	    5, 3 },
	{ BGP_ESTABLISHED, BGP_EV_COLLISION_DUMP, BGP_IDLE,
	    BGP_A_SEND_NOTIF | BGP_A_CLOSE | BGP_A_DOWN, 6, 7 },
	{ BGP_ESTABLISHED, BGP_EV_STOP, BGP_IDLE, BGP_A_SEND_NOTIF | BGP_A_CLOSE | BGP_A_DOWN,
	    6, 2 },
	{ BGP_ESTABLISHED, BGP_EV_START, BGP_ESTABLISHED, 0, 0, 0 },
};

static void
t_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct row *r = &table[i];

		reset(r->from);
		/* the error events carry what the codec found */
		f.err_code = 2;
		f.err_subcode = 2;
		bgp_fsm_event(&f, r->ev, &o);
		if (f.state != r->to || o.actions != r->actions ||
		    (r->code && (o.notif_code != r->code || o.notif_subcode != r->sub)))
			fprintf(stderr, "row %zu: %s + %s -> %s actions %#x notif %u/%u\n", i,
			    bgp_state_name(r->from), bgp_event_name(r->ev),
			    bgp_state_name(f.state), o.actions, o.notif_code, o.notif_subcode);
		CU_ASSERT_EQUAL(f.state, r->to);
		CU_ASSERT_EQUAL(o.actions, r->actions);
		if (r->code) {
			CU_ASSERT_EQUAL(o.notif_code, r->code);
			CU_ASSERT_EQUAL(o.notif_subcode, r->sub);
		}
	}
}

static void
t_timers(void)
{
	reset(BGP_IDLE);
	bgp_fsm_event(&f, BGP_EV_START, &o);
	CU_ASSERT(o.timer[BGP_T_CONNECT_RETRY] >= 750 && o.timer[BGP_T_CONNECT_RETRY] <= 1000);
	bgp_fsm_event(&f, BGP_EV_TCP_ACKED, &o);
	CU_ASSERT_EQUAL(o.timer[BGP_T_CONNECT_RETRY], -1);
	CU_ASSERT_EQUAL(o.timer[BGP_T_HOLD], 240000);	/* large hold in OpenSent */
	bgp_fsm_negotiate(&f, 9);
	CU_ASSERT_EQUAL(f.hold, 9);
	CU_ASSERT_EQUAL(f.keepalive, 3);
	bgp_fsm_event(&f, BGP_EV_OPEN, &o);
	CU_ASSERT_EQUAL(o.timer[BGP_T_HOLD], 9000);
	CU_ASSERT_EQUAL(o.timer[BGP_T_KEEPALIVE], 3000);
	bgp_fsm_event(&f, BGP_EV_KEEPALIVE_MSG, &o);
	CU_ASSERT_EQUAL(f.state, BGP_ESTABLISHED);
	CU_ASSERT_EQUAL(o.timer[BGP_T_HOLD], 9000);
	CU_ASSERT_EQUAL(o.timer[BGP_T_KEEPALIVE], 0);	/* left running */
	/* every message restarts the hold timer */
	bgp_fsm_event(&f, BGP_EV_UPDATE_MSG, &o);
	CU_ASSERT_EQUAL(o.timer[BGP_T_HOLD], 9000);
	/* a silent peer: hold expires, NOTIFICATION 4/0, Idle, backoff armed */
	bgp_fsm_event(&f, BGP_EV_HOLD_EXPIRED, &o);
	CU_ASSERT_EQUAL(f.state, BGP_IDLE);
	CU_ASSERT_EQUAL(o.notif_code, 4);
	CU_ASSERT_EQUAL(o.timer[BGP_T_HOLD], -1);
	CU_ASSERT_EQUAL(o.timer[BGP_T_KEEPALIVE], -1);
	CU_ASSERT(o.timer[BGP_T_IDLE_HOLD] >= 1500 && o.timer[BGP_T_IDLE_HOLD] <= 2000);
	/* the backoff expires: connect again */
	bgp_fsm_event(&f, BGP_EV_IDLE_HOLD, &o);
	CU_ASSERT_EQUAL(f.state, BGP_CONNECT);
	CU_ASSERT(o.actions & BGP_A_CONNECT);
	/* a manual stop arms nothing */
	bgp_fsm_event(&f, BGP_EV_STOP, &o);
	CU_ASSERT_EQUAL(o.timer[BGP_T_IDLE_HOLD], -1);
	/* hold 0 negotiated: no hold, no keepalives */
	reset(BGP_OPENSENT);
	bgp_fsm_negotiate(&f, 0);
	bgp_fsm_event(&f, BGP_EV_OPEN, &o);
	CU_ASSERT_EQUAL(o.timer[BGP_T_HOLD], -1);
	CU_ASSERT_EQUAL(o.timer[BGP_T_KEEPALIVE], -1);
	/* a configured keepalive is kept when within hold/3 */
	bgp_fsm_init(&f, 90, 10, 0);
	bgp_fsm_negotiate(&f, 180);
	CU_ASSERT_EQUAL(f.hold, 90);
	CU_ASSERT_EQUAL(f.keepalive, 10);
	bgp_fsm_negotiate(&f, 12);
	CU_ASSERT_EQUAL(f.keepalive, 4);
}

static void
t_backoff(void)
{
	CU_ASSERT_EQUAL(bgp_backoff_ms(1000, 120000, 0, 0), 1000);
	CU_ASSERT_EQUAL(bgp_backoff_ms(1000, 120000, 0, 1000), 750);
	CU_ASSERT_EQUAL(bgp_backoff_ms(1000, 120000, 3, 0), 8000);
	CU_ASSERT_EQUAL(bgp_backoff_ms(1000, 120000, 40, 0), 120000);
	CU_ASSERT_EQUAL(bgp_backoff_ms(1000, 120000, 40, 1000), 90000);
	CU_ASSERT(bgp_backoff_ms(1000, 120000, 1000000, 0xffffffffu) >= 90000);
	/* the count grows with faults and resets when Established */
	reset(BGP_CONNECT);
	bgp_fsm_event(&f, BGP_EV_TCP_FAILS, &o);
	bgp_fsm_event(&f, BGP_EV_TCP_FAILS, &o);
	CU_ASSERT_EQUAL(f.connect_retry_count, 2);
	CU_ASSERT(o.timer[BGP_T_CONNECT_RETRY] >= 3000 && o.timer[BGP_T_CONNECT_RETRY] <= 4000);
	bgp_fsm_event(&f, BGP_EV_TCP_CONFIRMED, &o);
	bgp_fsm_negotiate(&f, 90);
	bgp_fsm_event(&f, BGP_EV_OPEN, &o);
	bgp_fsm_event(&f, BGP_EV_KEEPALIVE_MSG, &o);
	CU_ASSERT_EQUAL(f.state, BGP_ESTABLISHED);
	CU_ASSERT_EQUAL(f.connect_retry_count, 0);
	/* connectTime caps the backoff; below 1 s it is also the start */
	bgp_fsm_set_connect(&f, 5000);
	CU_ASSERT_EQUAL(f.connect_base_ms, 1000);
	CU_ASSERT_EQUAL(f.connect_max_ms, 5000);
	bgp_fsm_set_connect(&f, 100);
	CU_ASSERT_EQUAL(f.connect_base_ms, 100);
	CU_ASSERT_EQUAL(f.connect_max_ms, 100);
}

/*
 * A connection collision (RFC 4271 §6.8) seen against FRR over IPv6 with
 * MD5: both sides connect at once, the peer (higher BGP Identifier) keeps
 * its own connection and sends a Cease on ours before its OPEN on the held
 * one was read here. The session must go on with the held connection, not
 * fall to Idle (which refuses the peer's connections and, after the
 * backoff, makes a new one that collides again).
 */
static void
t_collision_peer_wins(void)
{
	int i;

	reset(BGP_IDLE);
	bgp_fsm_event(&f, BGP_EV_START, &o);
	bgp_fsm_event(&f, BGP_EV_TCP_ACKED, &o);
	CU_ASSERT_EQUAL(f.state, BGP_OPENSENT);
	bgp_fsm_negotiate(&f, 90);
	bgp_fsm_event(&f, BGP_EV_OPEN, &o);
	CU_ASSERT_EQUAL(f.state, BGP_OPENCONFIRM);
	/* the peer's connection is accepted and held beside ours */
	f.held = 1;
	/* its Cease (6/7) on ours */
	f.err_code = BGP_ERR_CEASE;
	f.err_subcode = BGP_CEASE_COLLISION;
	bgp_fsm_event(&f, BGP_EV_NOTIF, &o);
	CU_ASSERT_EQUAL(f.state, BGP_OPENSENT);
	CU_ASSERT_EQUAL(o.actions, BGP_A_CLOSE | BGP_A_ADOPT | BGP_A_SEND_OPEN);
	CU_ASSERT_EQUAL(f.held, 0);
	CU_ASSERT_EQUAL(f.connect_retry_count, 0);
	CU_ASSERT_EQUAL(o.timer[BGP_T_IDLE_HOLD], -1);
	CU_ASSERT_EQUAL(o.timer[BGP_T_KEEPALIVE], -1);
	CU_ASSERT_EQUAL(o.timer[BGP_T_HOLD], 240000);
	CU_ASSERT_EQUAL(f.hold, 0);	/* negotiated again on the new OPEN */
	/* the held connection's OPEN and KEEPALIVE: up */
	bgp_fsm_negotiate(&f, 30);
	bgp_fsm_event(&f, BGP_EV_OPEN, &o);
	CU_ASSERT_EQUAL(f.state, BGP_OPENCONFIRM);
	CU_ASSERT_EQUAL(o.timer[BGP_T_HOLD], 30000);
	bgp_fsm_event(&f, BGP_EV_KEEPALIVE_MSG, &o);
	CU_ASSERT_EQUAL(f.state, BGP_ESTABLISHED);

	/* the same when the peer just closes ours, in OpenSent */
	reset(BGP_OPENSENT);
	f.held = 1;
	bgp_fsm_event(&f, BGP_EV_TCP_FAILS, &o);
	CU_ASSERT_EQUAL(f.state, BGP_OPENSENT);
	CU_ASSERT_EQUAL(o.actions, BGP_A_CLOSE | BGP_A_ADOPT | BGP_A_SEND_OPEN);

	/* without a held connection a Cease for a collision goes to Idle, but
	 * does not grow the backoff: nothing was wrong with the session */
	for (i = 0; i < 5; i++) {
		reset(BGP_OPENCONFIRM);
		f.connect_retry_count = 2;
		f.err_code = BGP_ERR_CEASE;
		f.err_subcode = BGP_CEASE_COLLISION;
		bgp_fsm_event(&f, BGP_EV_NOTIF, &o);
		CU_ASSERT_EQUAL(f.state, BGP_IDLE);
		CU_ASSERT_EQUAL(f.connect_retry_count, 2);
		CU_ASSERT(o.timer[BGP_T_IDLE_HOLD] >= 3000 && o.timer[BGP_T_IDLE_HOLD] <= 4000);
	}
	/* any other NOTIFICATION does */
	reset(BGP_OPENCONFIRM);
	f.err_code = BGP_ERR_CEASE;
	f.err_subcode = BGP_CEASE_SHUTDOWN;
	bgp_fsm_event(&f, BGP_EV_NOTIF, &o);
	CU_ASSERT_EQUAL(f.connect_retry_count, 1);
}

/* We win (higher BGP Identifier), or dump ours: the held one is decided. */
static void
t_collision_held(void)
{
	/* ours is dumped by our own resolution: Cease on it, go on with the held */
	reset(BGP_OPENCONFIRM);
	f.held = 1;
	bgp_fsm_event(&f, BGP_EV_COLLISION_DUMP, &o);
	CU_ASSERT_EQUAL(f.state, BGP_OPENSENT);
	CU_ASSERT_EQUAL(o.actions, BGP_A_SEND_NOTIF | BGP_A_CLOSE | BGP_A_ADOPT |
	    BGP_A_SEND_OPEN);
	CU_ASSERT_EQUAL(o.notif_code, BGP_ERR_CEASE);
	CU_ASSERT_EQUAL(o.notif_subcode, BGP_CEASE_COLLISION);
	CU_ASSERT_EQUAL(f.connect_retry_count, 0);
	/* ours reaches Established first: the held one is closed (§6.8) */
	reset(BGP_OPENCONFIRM);
	f.held = 1;
	bgp_fsm_event(&f, BGP_EV_KEEPALIVE_MSG, &o);
	CU_ASSERT_EQUAL(f.state, BGP_ESTABLISHED);
	CU_ASSERT_EQUAL(o.actions, BGP_A_ESTABLISHED | BGP_A_DROP_HELD);
	CU_ASSERT_EQUAL(f.held, 0);
	/* any way into Idle drops it too: Idle holds no connection */
	reset(BGP_OPENSENT);
	f.held = 1;
	bgp_fsm_event(&f, BGP_EV_HOLD_EXPIRED, &o);
	CU_ASSERT_EQUAL(f.state, BGP_IDLE);
	CU_ASSERT(o.actions & BGP_A_DROP_HELD);
	CU_ASSERT(!(o.actions & BGP_A_ADOPT));
	reset(BGP_OPENCONFIRM);
	f.held = 1;
	bgp_fsm_event(&f, BGP_EV_STOP, &o);
	CU_ASSERT_EQUAL(f.state, BGP_IDLE);
	CU_ASSERT(o.actions & BGP_A_DROP_HELD);
	CU_ASSERT(!(o.actions & BGP_A_ADOPT));
	/* a message error on ours is ours: not a reason to switch */
	reset(BGP_OPENSENT);
	f.held = 1;
	f.err_code = 2;
	f.err_subcode = 2;
	bgp_fsm_event(&f, BGP_EV_OPEN_ERR, &o);
	CU_ASSERT_EQUAL(f.state, BGP_IDLE);
	CU_ASSERT(o.actions & BGP_A_DROP_HELD);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "transition table", t_table },
		{ "timers as commands, hold negotiation", t_timers },
		{ "ConnectRetry backoff and jitter", t_backoff },
		{ "collision: the peer's connection wins", t_collision_peer_wins },
		{ "collision: the held connection decided", t_collision_held },
		{ NULL, NULL },
	};

	return cu_run("bgp_fsm", tests);
}
