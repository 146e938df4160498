/*
 * The BGP finite state machine (RFC 4271 §8), pure: one dispatch function
 * from (state, event) to actions, and change_state() through which every
 * transition passes. Timers reach it as events; it says which timers to
 * start or stop, the session layer runs them.
 */
#ifndef VIPGATE_BGP_FSM_H
#define VIPGATE_BGP_FSM_H

#include <stdint.h>

enum bgp_state {
	BGP_IDLE,
	BGP_CONNECT,
	BGP_ACTIVE,
	BGP_OPENSENT,
	BGP_OPENCONFIRM,
	BGP_ESTABLISHED,
};

/* RFC 4271 §8.1 event numbers where they exist */
enum bgp_event {
	BGP_EV_START = 1,		/* ManualStart */
	BGP_EV_STOP = 2,		/* ManualStop (Cease subcode in stop_subcode) */
	BGP_EV_AUTO_START = 3,		/* AutomaticStart */
	BGP_EV_CONNECT_RETRY = 9,	/* ConnectRetryTimer_Expires */
	BGP_EV_HOLD_EXPIRED = 10,
	BGP_EV_KEEPALIVE_TIMER = 11,
	BGP_EV_IDLE_HOLD = 13,		/* IdleHoldTimer_Expires (backoff) */
	BGP_EV_TCP_ACKED = 16,		/* Tcp_CR_Acked: our connect succeeded */
	BGP_EV_TCP_CONFIRMED = 17,	/* TcpConnectionConfirmed: accepted */
	BGP_EV_TCP_FAILS = 18,
	BGP_EV_OPEN = 19,		/* BGPOpen, checked */
	BGP_EV_HEADER_ERR = 21,		/* err holds the NOTIFICATION */
	BGP_EV_OPEN_ERR = 22,
	BGP_EV_COLLISION_DUMP = 23,
	BGP_EV_NOTIF_VERSION = 24,
	BGP_EV_NOTIF = 25,
	BGP_EV_KEEPALIVE_MSG = 26,
	BGP_EV_UPDATE_MSG = 27,
	BGP_EV_UPDATE_ERR = 28,
	BGP_EV_RREFRESH_MSG = 100,	/* RFC 2918 */
};

enum bgp_timer { BGP_T_CONNECT_RETRY, BGP_T_HOLD, BGP_T_KEEPALIVE, BGP_T_IDLE_HOLD, BGP_T__N };

/* actions, a bit mask */
#define BGP_A_CONNECT		0x001	/* open a TCP connection to the peer */
#define BGP_A_CLOSE		0x002	/* drop the TCP connection */
#define BGP_A_SEND_OPEN		0x004
#define BGP_A_SEND_KEEPALIVE	0x008
#define BGP_A_SEND_NOTIF	0x010	/* code/subcode in the out, data from the caller */
#define BGP_A_ESTABLISHED	0x020	/* send the Adj-RIB-Out, then End-of-RIB */
#define BGP_A_DOWN		0x040	/* left Established: count a flap */
#define BGP_A_RESEND_RIB	0x080	/* route refresh: re-send the Adj-RIB-Out */
#define BGP_A_ADOPT		0x100	/* the held incoming connection becomes the
					   session's (OPEN goes out on it) */
#define BGP_A_DROP_HELD		0x200	/* close the held incoming connection (Cease,
					   connection collision resolution) */

/* timer commands: 0 leave alone, -1 stop, > 0 (re)arm for that many ms */
struct bgp_fsm_out {
	unsigned	actions;
	uint8_t		notif_code, notif_subcode;
	int64_t		timer[BGP_T__N];
};

struct bgp_fsm {
	enum bgp_state	state;
	unsigned	connect_retry_count;	/* backoff exponent */
	/* configured, in seconds */
	uint32_t	hold_cfg, keepalive_cfg;
	/* negotiated at OPEN */
	uint32_t	hold, keepalive;
	int64_t		connect_base_ms, connect_max_ms;
	uint32_t	jitter;		/* the caller's random number for the next backoff */
	uint8_t		stop_subcode;	/* Cease subcode for BGP_EV_STOP */
	uint8_t		err_code, err_subcode;	/* for *_ERR events, and the code
						   received with BGP_EV_NOTIF */
	/*
	 * An incoming connection held beside the session's during OpenSent
	 * and OpenConfirm, until its OPEN settles the collision (§6.8). Set
	 * by the caller when it holds one; the machine says when it is
	 * adopted or dropped, and clears it.
	 */
	int		held;
	/* what the last transition was, for logs and show */
	enum bgp_event	last_event;
	const char	*name;		/* for the transition log */
};

void bgp_fsm_init(struct bgp_fsm *, uint32_t hold_s, uint32_t keepalive_s,
    int64_t connect_ms);
/* ConnectRetry backoff bounds from connectTime (0: the default). */
void bgp_fsm_set_connect(struct bgp_fsm *, int64_t connect_ms);
/* One event: fills out (zeroed first); returns the new state. */
enum bgp_state bgp_fsm_event(struct bgp_fsm *, enum bgp_event, struct bgp_fsm_out *out);
/* Hold time negotiation (§4.2): the smaller; keepalive at most hold/3. */
void bgp_fsm_negotiate(struct bgp_fsm *, uint16_t peer_hold);
/*
 * ConnectRetry with exponential backoff and jitter: base * 2^count, capped,
 * times a factor in [0.75, 1] from jitter (RFC 4271 §10).
 */
int64_t bgp_backoff_ms(int64_t base, int64_t max, unsigned count, uint32_t jitter);

const char *bgp_state_name(enum bgp_state);
const char *bgp_event_name(enum bgp_event);

#endif
