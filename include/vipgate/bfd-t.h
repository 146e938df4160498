/*
 * BFD (RFC 5880, single hop RFC 5881): the control packet and the state of
 * one session, as the pure codec and state machine (src/bfd/) see them.
 * Intervals are in microseconds, as on the wire.
 */
#ifndef VIPGATE_BFD_T_H
#define VIPGATE_BFD_T_H

#include <stdint.h>

#define BFD_PORT		3784	/* RFC 5881 §4, single hop control */
#define BFD_ECHO_PORT		3785	/* RFC 5881 §4: echo */
#define BFD_SPORT_MIN		49152	/* RFC 5881 §4: source port range */
#define BFD_SPORT_MAX		65535
#define BFD_CTRL_LEN		24	/* without authentication */
#define BFD_VERSION		1
#define BFD_SLOW_TX_US		1000000	/* §6.8.3: while not Up, at least 1 s */

enum bfd_state { BFD_ADMIN_DOWN = 0, BFD_DOWN = 1, BFD_INIT = 2, BFD_UP = 3 };

/* §4.1 Diagnostic */
enum bfd_diag {
	BFD_DIAG_NONE = 0,
	BFD_DIAG_DETECT_EXPIRED = 1,	/* Control Detection Time Expired */
	BFD_DIAG_ECHO_FAILED = 2,
	BFD_DIAG_NEIGHBOR_DOWN = 3,	/* Neighbor Signaled Session Down */
	BFD_DIAG_FWD_RESET = 4,
	BFD_DIAG_PATH_DOWN = 5,
	BFD_DIAG_CONCAT_DOWN = 6,
	BFD_DIAG_ADMIN_DOWN = 7,
	BFD_DIAG_REV_CONCAT_DOWN = 8,
};

/* flags of the control packet, as in its second byte */
#define BFD_F_POLL		0x20	/* P */
#define BFD_F_FINAL		0x10	/* F */
#define BFD_F_CPI		0x08	/* C: Control Plane Independent */
#define BFD_F_AUTH		0x04	/* A: authentication present */
#define BFD_F_DEMAND		0x02	/* D */
#define BFD_F_MULTIPOINT	0x01	/* M: must be zero */

/* A control packet (§4.1); authentication is never used here. */
struct bfd_ctrl {
	uint8_t		diag;		/* enum bfd_diag */
	uint8_t		state;		/* enum bfd_state */
	uint8_t		flags;		/* BFD_F_* */
	uint8_t		detect_mult;
	uint8_t		length;
	uint32_t	my_disc, your_disc;
	uint32_t	desired_min_tx, required_min_rx, required_min_echo_rx;	/* µs */
};

/* Why a received packet was dropped (counted per reason). */
enum bfd_drop {
	BFD_OK = 0,
	BFD_E_SHORT,		/* fewer than 24 bytes */
	BFD_E_VERSION,		/* §6.8.6: version is not 1 */
	BFD_E_LENGTH,		/* Length field below the minimum or past the payload */
	BFD_E_MULT,		/* Detect Mult zero */
	BFD_E_MULTIPOINT,	/* M bit set */
	BFD_E_MY_DISC,		/* My Discriminator zero */
	BFD_E_POLL_FINAL,	/* P and F both set (§4.1: MUST NOT) */
	BFD_E_AUTH,		/* A bit set: no authentication is configured */
	BFD_E_YOUR_DISC,	/* Your Discriminator zero outside Down/AdminDown,
				   or naming no session */
	BFD_E_TTL,		/* RFC 5881 §5: TTL or hop limit below the minimum */
	BFD_E_ECHO,		/* an echo packet that is not one of ours, looped once */
	BFD_E__N
};

/* A session's configured timers (a BFDProfile), µs and count. */
struct bfd_cfg {
	uint32_t	desired_min_tx;		/* transmitInterval */
	uint32_t	required_min_rx;	/* receiveInterval */
	uint8_t		detect_mult;		/* detectMultiplier */
	uint8_t		passive;		/* passiveMode (§6.1 Passive role) */
	uint8_t		min_ttl;		/* received TTL at least this */
	uint32_t	echo_ivl;		/* echoMode: echoInterval; 0: no echo */
};

/*
 * One session's state variables (§6.8.1) and what the timers run with.
 * The machine is pure: the I/O layer feeds it packets and timer expiries,
 * and runs the timers it asks for.
 */
struct bfd_session {
	enum bfd_state	state, remote_state;
	enum bfd_diag	diag;			/* bfd.LocalDiag */
	uint32_t	local_disc, remote_disc;
	struct bfd_cfg	cfg;			/* what the profile asks for */
	/* configured for our packets (§6.8.3: 1 s tx while not Up); during a
	 * Poll Sequence the packets carry its poll_* until its Final */
	uint32_t	adv_tx, adv_rx;
	/* in force for the timers; they lag adv_* during a Poll Sequence */
	uint32_t	act_tx, act_rx;
	uint32_t	remote_min_rx;		/* bfd.RemoteMinRxInterval */
	uint32_t	remote_tx;		/* the remote's Desired Min TX */
	uint8_t		remote_mult;
	uint32_t	remote_echo_rx;		/* the remote's Required Min Echo RX */
	int		poll;			/* a Poll Sequence is running */
	uint32_t	poll_tx, poll_rx;	/* the intervals it carries */
	int		heard;			/* a packet came since the last reset */
	const char	*name;			/* for the transition log */
};

/*
 * An echo packet (§6.4) as vipgated sends it: an IPv4 datagram from and to
 * the local address, so that the remote's forwarding plane sends it back
 * (RFC 5881 §4). Its UDP payload is ours alone: a version, the session's
 * discriminator, a random value of the session's and a sequence number.
 */
#define BFD_ECHO_VERSION	1
#define BFD_ECHO_PAYLOAD	16
#define BFD_ECHO_LEN		(20 + 8 + BFD_ECHO_PAYLOAD)	/* IPv4 + UDP + payload */

struct bfd_echo {
	uint8_t		src[4], dst[4];		/* IPv4 addresses */
	uint8_t		ttl;
	uint16_t	sport, dport;
	uint32_t	disc, cookie, seq;
};

/* What the caller does after an event. */
#define BFD_A_SEND		0x01	/* send a packet now (not Final) */
#define BFD_A_SEND_FINAL	0x02	/* send a packet with F set now (answers a Poll) */
#define BFD_A_UP		0x04	/* the session came Up */
#define BFD_A_DOWN		0x08	/* the session left Up */
#define BFD_A_TIMERS		0x10	/* the intervals changed: re-arm both timers */

struct bfd_out {
	unsigned	actions;
	enum bfd_state	from;			/* the state before the event */
};

/* Told when a session comes Up (BFD_UP) or leaves Up (BFD_DOWN, diag why). */
typedef void bfd_notify_fn(void *arg, enum bfd_state, enum bfd_diag);

#endif
