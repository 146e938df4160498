/*
 * BGP-4 message codec (RFC 4271, 4760, 6793, 5492, 2918, 4724, 7606, 1997,
 * 8092, 4486, 9003). Pure: no I/O, no logging, no state machine. Decoders
 * read through a bounds-checked cursor and report errors as the
 * NOTIFICATION (code, subcode, data) the session must send.
 */
#ifndef VIPGATE_BGP_MSG_H
#define VIPGATE_BGP_MSG_H

#include <stddef.h>
#include <stdint.h>

/* struct bgp_large_comm, and the parser of communities for the codec's users */
#include "vipgate/community.h"
#include "vipgate/ipaddr.h"

#define BGP_HDR_LEN		19
#define BGP_MAX_LEN		4096
#define BGP_VERSION		4
#define BGP_AS_TRANS		23456

enum bgp_msg_type {
	BGP_OPEN = 1,
	BGP_UPDATE = 2,
	BGP_NOTIFICATION = 3,
	BGP_KEEPALIVE = 4,
	BGP_ROUTE_REFRESH = 5,
};

/* NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313) and subcodes */
enum bgp_err_code {
	BGP_ERR_HEADER = 1,
	BGP_ERR_OPEN = 2,
	BGP_ERR_UPDATE = 3,
	BGP_ERR_HOLD = 4,
	BGP_ERR_FSM = 5,
	BGP_ERR_CEASE = 6,
	BGP_ERR_RREFRESH = 7,
};
enum { BGP_HDR_SYNC = 1, BGP_HDR_LENGTH = 2, BGP_HDR_TYPE = 3 };
enum {
	BGP_OPEN_VERSION = 1, BGP_OPEN_PEER_AS = 2, BGP_OPEN_BGPID = 3,
	BGP_OPEN_OPTPARAM = 4, BGP_OPEN_HOLD = 6, BGP_OPEN_CAPA = 7,
};
enum {
	BGP_UPD_ATTRLIST = 1, BGP_UPD_WELLKNOWN = 2, BGP_UPD_MISSING = 3,
	BGP_UPD_FLAGS = 4, BGP_UPD_LENGTH = 5, BGP_UPD_ORIGIN = 6,
	BGP_UPD_NEXTHOP = 8, BGP_UPD_OPTATTR = 9, BGP_UPD_NETWORK = 10,
	BGP_UPD_ASPATH = 11,
};
/* RFC 6608 */
enum { BGP_FSM_OPENSENT = 1, BGP_FSM_OPENCONFIRM = 2, BGP_FSM_ESTABLISHED = 3 };
/* RFC 4486 */
enum {
	BGP_CEASE_MAXPFX = 1, BGP_CEASE_SHUTDOWN = 2, BGP_CEASE_DECONFIG = 3,
	BGP_CEASE_RESET = 4, BGP_CEASE_REJECTED = 5, BGP_CEASE_CONFCHANGE = 6,
	BGP_CEASE_COLLISION = 7, BGP_CEASE_RESOURCES = 8,
	BGP_CEASE_HARD_RESET = 9, BGP_CEASE_BFD_DOWN = 10,	/* RFC 8538, RFC 9384 */
};
enum { BGP_RREFRESH_LENGTH = 1 };

/* path attribute type codes */
enum {
	BGP_ATTR_ORIGIN = 1, BGP_ATTR_AS_PATH = 2, BGP_ATTR_NEXT_HOP = 3,
	BGP_ATTR_MED = 4, BGP_ATTR_LOCAL_PREF = 5, BGP_ATTR_ATOMIC_AGGR = 6,
	BGP_ATTR_AGGREGATOR = 7, BGP_ATTR_COMMUNITIES = 8,
	BGP_ATTR_ORIGINATOR_ID = 9, BGP_ATTR_CLUSTER_LIST = 10,
	BGP_ATTR_MP_REACH = 14, BGP_ATTR_MP_UNREACH = 15,
	BGP_ATTR_EXT_COMMUNITIES = 16, BGP_ATTR_AS4_PATH = 17,
	BGP_ATTR_AS4_AGGREGATOR = 18, BGP_ATTR_LARGE_COMMUNITIES = 32,
};
#define BGP_ATTRF_OPTIONAL	0x80
#define BGP_ATTRF_TRANSITIVE	0x40
#define BGP_ATTRF_PARTIAL	0x20
#define BGP_ATTRF_EXTLEN	0x10

enum { BGP_AFI_IPV4 = 1, BGP_AFI_IPV6 = 2 };
#define BGP_SAFI_UNICAST 1

/* capability codes */
enum {
	BGP_CAP_MP = 1, BGP_CAP_RREFRESH = 2, BGP_CAP_ENH = 5, BGP_CAP_GR = 64, BGP_CAP_AS4 = 65,
};

/* What the session must send: a NOTIFICATION. */
struct bgp_err {
	uint8_t		code, subcode;
	uint8_t		data[BGP_MAX_LEN];
	size_t		datalen;
};

/*
 * Frame one message at the start of buf. Returns its whole length (header
 * included) and *type, 0 when more bytes are needed, -1 with *err on a
 * header error (RFC 4271 §6.1, RFC 7313 §5).
 */
long bgp_frame(const uint8_t *buf, size_t len, uint8_t *type, struct bgp_err *err);

/* ---- OPEN ---- */

struct bgp_open {
	uint8_t		version;
	uint16_t	my_as;		/* the 2-octet field */
	uint16_t	hold;
	uint32_t	bgp_id;		/* host order */
	int		has_as4;
	uint32_t	as4;
	int		mp_v4, mp_v6;	/* multiprotocol unicast */
	int		has_mp;		/* any MP capability: else IPv4 implied */
	int		route_refresh;
	int		has_gr;
	uint8_t		gr_flags;	/* R, N bits (high nibble) */
	uint16_t	gr_time;
	int		gr_v4, gr_v6;	/* families in GR capability */
	uint8_t		gr_v4_flags, gr_v6_flags;
	int		enh_v4;		/* RFC 8950: IPv4 unicast with an IPv6 next hop */
};

/* The AS the peer speaks as: AS4 capability if present, else my_as. */
uint32_t bgp_open_peer_as(const struct bgp_open *);

/* Decode an OPEN body (after the header). 0, or -1 with *err (§6.2). */
int bgp_open_parse(const uint8_t *body, size_t len, struct bgp_open *, struct bgp_err *);

/*
 * Session checks of a decoded OPEN (§6.2, RFC 6793): expected_as 0 means
 * any; dynamic 1 = must equal local_as (internal), 2 = must differ
 * (external). local_id for the identifier clash of iBGP.
 */
int bgp_open_check(const struct bgp_open *, uint32_t local_as, uint32_t expected_as,
    int dynamic, uint32_t local_id, struct bgp_err *);

struct bgp_open_params {
	uint32_t	my_as;
	uint16_t	hold;
	uint32_t	bgp_id;
	int		mp_v4, mp_v6;
	int		graceful_restart;
	int		gr_restarting;	/* R bit */
	uint16_t	gr_time;
	int		enh_v4;		/* offer RFC 8950 for IPv4 unicast */
};
/* Whole message into out (BGP_MAX_LEN); returns its length. */
size_t bgp_open_build(uint8_t *out, const struct bgp_open_params *);

/* ---- KEEPALIVE, NOTIFICATION, ROUTE-REFRESH ---- */

size_t bgp_keepalive_build(uint8_t *out);
size_t bgp_notification_build(uint8_t *out, uint8_t code, uint8_t subcode,
    const uint8_t *data, size_t len);
/* Cease with an RFC 9003 shutdown communication (msg may be NULL). */
size_t bgp_cease_build(uint8_t *out, uint8_t subcode, const char *msg);

struct bgp_notification {
	uint8_t		 code, subcode;
	const uint8_t	*data;
	size_t		 datalen;
	char		 shutdown_msg[256];	/* RFC 9003, sanitized; "" if none */
};
int bgp_notification_parse(const uint8_t *body, size_t len, struct bgp_notification *);
/* "Cease/Administrative Shutdown" etc. */
const char *bgp_err_name(uint8_t code, uint8_t subcode);

struct bgp_rrefresh {
	uint16_t	afi;
	uint8_t		subtype;
	uint8_t		safi;
};
int bgp_rrefresh_parse(const uint8_t *body, size_t len, struct bgp_rrefresh *);
size_t bgp_rrefresh_build(uint8_t *out, uint16_t afi, uint8_t safi);

/* ---- UPDATE ---- */

enum bgp_upd_action {
	BGP_UPD_OK = 0,
	BGP_UPD_ATTR_DISCARD = 1,	/* some attributes discarded (RFC 7606 §2) */
	BGP_UPD_TREAT_AS_WITHDRAW = 2,
};

struct bgp_update_info {
	enum bgp_upd_action action;
	unsigned	nlri_v4, withdrawn_v4, nlri_v6, withdrawn_v6;
	int		eor;		/* End-of-RIB (RFC 4724 §2) */
	uint16_t	eor_afi;
	uint8_t		eor_safi;
	unsigned	discarded;	/* attributes discarded */
	const char	*why;		/* the first malformation seen, or NULL */
};

/*
 * Decode an UPDATE body with RFC 7606 error handling. as4: 4-octet AS
 * numbers in AS_PATH. ibgp: LOCAL_PREF is expected. Returns 0 (see
 * u->action), or -1 when the session must be reset, with *err.
 */
int bgp_update_parse(const uint8_t *body, size_t len, int as4, int ibgp,
    struct bgp_update_info *u, struct bgp_err *err);

/* What we attach to our routes. */
struct bgp_tx_attrs {
	int				 has_local_pref;
	uint32_t			 local_pref;
	const uint32_t			*comms;
	size_t				 ncomms;
	const struct bgp_large_comm	*large;
	size_t				 nlarge;
};

struct bgp_tx_session {
	int		ibgp;
	int		as4;		/* the peer speaks 4-octet AS */
	uint32_t	my_as;
	struct ipaddr	nh4;		/* NEXT_HOP for IPv4 */
	struct ipaddr	nh6;		/* global next hop for IPv6 */
	struct ipaddr	nh6_ll;		/* link-local next hop; family 0 = none */
	int		v4_mp;		/* IPv4 NLRI in MP_REACH with the IPv6 next
					   hop nh6 (and nh6_ll), RFC 8950 */
};

struct bgp_prefix {
	struct ipaddr	addr;
	uint8_t		plen;
};

/*
 * One UPDATE announcing as many of pfx (all one family) as fit. Returns the
 * message length and the number of prefixes taken in *taken; 0 and none
 * taken when the attributes alone do not fit a message.
 */
size_t bgp_update_build(uint8_t *out, const struct bgp_tx_session *,
    const struct bgp_tx_attrs *, const struct bgp_prefix *pfx, size_t n, size_t *taken);
/* RFC 8326: the well-known community GRACEFUL_SHUTDOWN, 65535:0. */
#define BGP_COMM_GSHUT		0xffff0000U
/*
 * a as it goes out while the node drains (RFC 8326 section 4): with
 * GRACEFUL_SHUTDOWN among its communities (buf: room for a->ncomms + 1,
 * kept sorted and unique) and, on iBGP, LOCAL_PREF 0.
 */
void bgp_attrs_gshut(struct bgp_tx_attrs *a, int ibgp, uint32_t *buf);
/* One UPDATE withdrawing as many of pfx (one family) as fit. */
size_t bgp_withdraw_build(uint8_t *out, const struct bgp_prefix *pfx, size_t n,
    size_t *taken);
/* End-of-RIB for a family (RFC 4724 §2). */
size_t bgp_eor_build(uint8_t *out, int family);

#endif
