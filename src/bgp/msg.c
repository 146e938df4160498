/*
 * BGP-4 message codec: framing, OPEN, UPDATE (RFC 7606 error handling),
 * NOTIFICATION (RFC 4486, 9003), KEEPALIVE, ROUTE-REFRESH, and the
 * builders for what we send. Pure.
 */
#include "config.h"

#include <string.h>

#include "vipgate/bgp-msg.h"
#include "vipgate/wire.h"

/* ---- the header (RFC 4271 §4.1) ---- */

/* The marker and the type; the length is filled in by hdr_end. */
static void
hdr_begin(struct wire_wr *w, uint8_t *out, uint8_t type)
{
	int i;

	/* every builder's output is one message: BGP_MAX_LEN is the bound */
	wire_wr_init(w, out, BGP_MAX_LEN);
	for (i = 0; i < 16; i++)
		wire_put_u8(w, 0xff);
	(void)wire_reserve(w, 2);
	wire_put_u8(w, type);
}

/* The message length; 0 when it did not fit. */
static size_t
hdr_end(struct wire_wr *w)
{
	wire_set_u16(w, 16, (uint16_t)w->len);
	return w->overflow ? 0 : w->len;
}

static void
set_err(struct bgp_err *e, uint8_t code, uint8_t sub, const void *data, size_t len)
{
	if (e == NULL)
		return;
	e->code = code;
	e->subcode = sub;
	if (len > sizeof(e->data))
		len = sizeof(e->data);
	if (len)
		memcpy(e->data, data, len);
	e->datalen = len;
}

/* ---- framing (RFC 4271 §4.1, §6.1) ---- */

long
bgp_frame(const uint8_t *buf, size_t len, uint8_t *type, struct bgp_err *err)
{
	struct wire_rd r;
	uint16_t mlen;
	size_t i;

	if (len < BGP_HDR_LEN)
		return 0;
	wire_rd_init(&r, buf, len);
	for (i = 0; i < 16; i++)
		if (wire_get_u8(&r) != 0xff) {
			set_err(err, BGP_ERR_HEADER, BGP_HDR_SYNC, NULL, 0);
			return -1;
		}
	mlen = wire_get_u16(&r);
	*type = wire_get_u8(&r);
	if (mlen < BGP_HDR_LEN || mlen > BGP_MAX_LEN)
		goto badlen;
	switch (*type) {
	case BGP_OPEN:
		if (mlen < BGP_HDR_LEN + 10)
			goto badlen;
		break;
	case BGP_UPDATE:
		if (mlen < BGP_HDR_LEN + 4)
			goto badlen;
		break;
	case BGP_NOTIFICATION:
		if (mlen < BGP_HDR_LEN + 2)
			goto badlen;
		break;
	case BGP_KEEPALIVE:
		if (mlen != BGP_HDR_LEN)
			goto badlen;
		break;
	case BGP_ROUTE_REFRESH:
		/* RFC 7313 §5: the whole message as data */
		if (mlen != BGP_HDR_LEN + 4) {
			if (len < mlen)
				return 0;
			set_err(err, BGP_ERR_RREFRESH, BGP_RREFRESH_LENGTH, buf, mlen);
			return -1;
		}
		break;
	default:
		set_err(err, BGP_ERR_HEADER, BGP_HDR_TYPE, &buf[18], 1);
		return -1;
	}
	if (len < mlen)
		return 0;
	return mlen;
badlen:
	set_err(err, BGP_ERR_HEADER, BGP_HDR_LENGTH, &buf[16], 2);
	return -1;
}

/* ---- OPEN (§4.2, §6.2; RFC 5492, 4760, 6793, 2918, 4724) ---- */

uint32_t
bgp_open_peer_as(const struct bgp_open *o)
{
	return o->has_as4 ? o->as4 : o->my_as;
}

static int
parse_caps(struct wire_rd *c, struct bgp_open *o, struct bgp_err *err)
{
	while (wire_left(c) > 0) {
		uint8_t code, clen;
		struct wire_rd v;

		code = wire_get_u8(c);
		clen = wire_get_u8(c);
		wire_get_sub(c, clen, &v);
		if (c->err) {
			set_err(err, BGP_ERR_OPEN, 0, NULL, 0);
			return -1;
		}
		switch (code) {
		case BGP_CAP_MP: {
			uint16_t afi;
			uint8_t safi;

			if (clen != 4)
				break;	/* ignored, as unknown capabilities are */
			afi = wire_get_u16(&v);
			wire_skip(&v, 1);	/* reserved */
			safi = wire_get_u8(&v);
			o->has_mp = 1;
			if (safi == BGP_SAFI_UNICAST && afi == BGP_AFI_IPV4)
				o->mp_v4 = 1;
			if (safi == BGP_SAFI_UNICAST && afi == BGP_AFI_IPV6)
				o->mp_v6 = 1;
			break;
		}
		case BGP_CAP_RREFRESH:
			o->route_refresh = 1;
			break;
		case BGP_CAP_ENH:
			/* RFC 8950 §4: (NLRI AFI, NLRI SAFI, next hop AFI) tuples */
			while (wire_left(&v) >= 6) {
				uint16_t afi = wire_get_u16(&v), safi = wire_get_u16(&v);
				uint16_t nhafi = wire_get_u16(&v);

				if (afi == BGP_AFI_IPV4 && safi == BGP_SAFI_UNICAST &&
				    nhafi == BGP_AFI_IPV6)
					o->enh_v4 = 1;
			}
			break;
		case BGP_CAP_AS4:
			if (clen != 4)
				break;
			o->has_as4 = 1;
			o->as4 = wire_get_u32(&v);
			break;
		case BGP_CAP_GR: {
			uint16_t w = wire_get_u16(&v);

			if (v.err)
				break;
			o->has_gr = 1;
			o->gr_flags = (uint8_t)(w >> 12);
			o->gr_time = w & 0x0fff;
			while (wire_left(&v) >= 4) {
				uint16_t afi = wire_get_u16(&v);
				uint8_t safi = wire_get_u8(&v), fl = wire_get_u8(&v);

				if (safi == BGP_SAFI_UNICAST && afi == BGP_AFI_IPV4) {
					o->gr_v4 = 1;
					o->gr_v4_flags = fl;
				} else if (safi == BGP_SAFI_UNICAST && afi == BGP_AFI_IPV6) {
					o->gr_v6 = 1;
					o->gr_v6_flags = fl;
				}
			}
			break;
		}
		default:
			break;	/* RFC 5492 §3: unknown capabilities are ignored */
		}
	}
	return 0;
}

int
bgp_open_parse(const uint8_t *body, size_t len, struct bgp_open *o, struct bgp_err *err)
{
	struct wire_rd c, params;
	uint8_t optlen;

	wire_rd_init(&c, body, len);
	memset(o, 0, sizeof(*o));
	o->version = wire_get_u8(&c);
	o->my_as = wire_get_u16(&c);
	o->hold = wire_get_u16(&c);
	o->bgp_id = wire_get_u32(&c);
	optlen = wire_get_u8(&c);
	if (c.err) {
		uint8_t l[2] = { (uint8_t)((len + BGP_HDR_LEN) >> 8),
			(uint8_t)(len + BGP_HDR_LEN) };

		set_err(err, BGP_ERR_HEADER, BGP_HDR_LENGTH, l, 2);
		return -1;
	}
	if (o->version != BGP_VERSION) {
		/* §6.2: the largest locally supported version number */
		uint8_t v[2] = { 0, BGP_VERSION };

		set_err(err, BGP_ERR_OPEN, BGP_OPEN_VERSION, v, 2);
		return -1;
	}
	/* optional parameters must fill the message exactly */
	if (optlen != wire_left(&c)) {
		set_err(err, BGP_ERR_OPEN, 0, NULL, 0);
		return -1;
	}
	wire_get_sub(&c, optlen, &params);
	while (wire_left(&params) > 0) {
		uint8_t ptype, plen;
		struct wire_rd pv;

		ptype = wire_get_u8(&params);
		plen = wire_get_u8(&params);
		wire_get_sub(&params, plen, &pv);
		if (params.err) {
			set_err(err, BGP_ERR_OPEN, 0, NULL, 0);
			return -1;
		}
		if (ptype != 2) {	/* only Capabilities (RFC 5492) */
			set_err(err, BGP_ERR_OPEN, BGP_OPEN_OPTPARAM, NULL, 0);
			return -1;
		}
		if (parse_caps(&pv, o, err) < 0)
			return -1;
	}
	if (o->hold == 1 || o->hold == 2) {
		set_err(err, BGP_ERR_OPEN, BGP_OPEN_HOLD, NULL, 0);
		return -1;
	}
	if (o->bgp_id == 0 || o->bgp_id == 0xffffffffu) {
		set_err(err, BGP_ERR_OPEN, BGP_OPEN_BGPID, NULL, 0);
		return -1;
	}
	/* RFC 4760 §8: no MP capability means IPv4 unicast only */
	if (!o->has_mp)
		o->mp_v4 = 1;
	return 0;
}

int
bgp_open_check(const struct bgp_open *o, uint32_t local_as, uint32_t expected_as,
    int dynamic, uint32_t local_id, struct bgp_err *err)
{
	uint32_t as = bgp_open_peer_as(o);

	/* RFC 6793 §4.1: a 4-octet speaker puts AS_TRANS in the 2-octet field */
	if (as == 0 || (o->has_as4 && o->as4 <= 0xffff && o->my_as != o->as4) ||
	    (o->has_as4 && o->as4 > 0xffff && o->my_as != BGP_AS_TRANS) ||
	    (expected_as && as != expected_as) ||
	    (dynamic == 1 && as != local_as) || (dynamic == 2 && as == local_as)) {
		uint8_t d[2] = { (uint8_t)(o->my_as >> 8), (uint8_t)o->my_as };

		set_err(err, BGP_ERR_OPEN, BGP_OPEN_PEER_AS, d, 2);
		return -1;
	}
	/* §6.2: an identifier equal to ours is unacceptable on iBGP */
	if (as == local_as && o->bgp_id == local_id) {
		set_err(err, BGP_ERR_OPEN, BGP_OPEN_BGPID, NULL, 0);
		return -1;
	}
	return 0;
}

size_t
bgp_open_build(uint8_t *out, const struct bgp_open_params *p)
{
	struct wire_wr w;
	size_t optat, capat;

	hdr_begin(&w, out, BGP_OPEN);
	wire_put_u8(&w, BGP_VERSION);
	wire_put_u16(&w, p->my_as > 0xffff ? BGP_AS_TRANS : (uint16_t)p->my_as);
	wire_put_u16(&w, p->hold);
	wire_put_u32(&w, p->bgp_id);
	optat = wire_reserve(&w, 1);
	wire_put_u8(&w, 2);	/* one Capabilities parameter */
	capat = wire_reserve(&w, 1);
	if (p->mp_v4) {
		wire_put_u8(&w, BGP_CAP_MP);
		wire_put_u8(&w, 4);
		wire_put_u16(&w, BGP_AFI_IPV4);
		wire_put_u8(&w, 0);
		wire_put_u8(&w, BGP_SAFI_UNICAST);
	}
	if (p->mp_v6) {
		wire_put_u8(&w, BGP_CAP_MP);
		wire_put_u8(&w, 4);
		wire_put_u16(&w, BGP_AFI_IPV6);
		wire_put_u8(&w, 0);
		wire_put_u8(&w, BGP_SAFI_UNICAST);
	}
	wire_put_u8(&w, BGP_CAP_RREFRESH);
	wire_put_u8(&w, 0);
	if (p->enh_v4) {
		wire_put_u8(&w, BGP_CAP_ENH);
		wire_put_u8(&w, 6);
		wire_put_u16(&w, BGP_AFI_IPV4);
		wire_put_u16(&w, BGP_SAFI_UNICAST);
		wire_put_u16(&w, BGP_AFI_IPV6);
	}
	wire_put_u8(&w, BGP_CAP_AS4);
	wire_put_u8(&w, 4);
	wire_put_u32(&w, p->my_as);
	if (p->graceful_restart) {
		/* RFC 4724 §3: restarting speaker, forwarding state preserved */
		uint8_t n = (uint8_t)(p->mp_v4 + p->mp_v6);

		wire_put_u8(&w, BGP_CAP_GR);
		wire_put_u8(&w, (uint8_t)(2 + 4 * n));
		wire_put_u16(&w, (uint16_t)((p->gr_restarting ? 0x8000 : 0) |
		    (p->gr_time & 0x0fff)));
		if (p->mp_v4) {
			wire_put_u16(&w, BGP_AFI_IPV4);
			wire_put_u8(&w, BGP_SAFI_UNICAST);
			wire_put_u8(&w, 0x80);
		}
		if (p->mp_v6) {
			wire_put_u16(&w, BGP_AFI_IPV6);
			wire_put_u8(&w, BGP_SAFI_UNICAST);
			wire_put_u8(&w, 0x80);
		}
	}
	wire_patch_len8(&w, capat);
	wire_patch_len8(&w, optat);
	return hdr_end(&w);
}

/* ---- KEEPALIVE, NOTIFICATION, ROUTE-REFRESH ---- */

size_t
bgp_keepalive_build(uint8_t *out)
{
	struct wire_wr w;

	hdr_begin(&w, out, BGP_KEEPALIVE);
	return hdr_end(&w);
}

size_t
bgp_notification_build(uint8_t *out, uint8_t code, uint8_t subcode, const uint8_t *data,
    size_t len)
{
	struct wire_wr w;

	if (len > BGP_MAX_LEN - BGP_HDR_LEN - 2)
		len = BGP_MAX_LEN - BGP_HDR_LEN - 2;
	hdr_begin(&w, out, BGP_NOTIFICATION);
	wire_put_u8(&w, code);
	wire_put_u8(&w, subcode);
	wire_put_bytes(&w, data, len);
	return hdr_end(&w);
}

size_t
bgp_cease_build(uint8_t *out, uint8_t subcode, const char *msg)
{
	uint8_t d[256];
	size_t n = msg ? strlen(msg) : 0;

	/* RFC 9003 §2: only for Administrative Shutdown and Reset */
	if (subcode != BGP_CEASE_SHUTDOWN && subcode != BGP_CEASE_RESET)
		n = 0;
	if (n > 255)
		n = 255;
	if (n == 0)
		return bgp_notification_build(out, BGP_ERR_CEASE, subcode, NULL, 0);
	d[0] = (uint8_t)n;
	memcpy(d + 1, msg, n);
	return bgp_notification_build(out, BGP_ERR_CEASE, subcode, d, n + 1);
}

int
bgp_notification_parse(const uint8_t *body, size_t len, struct bgp_notification *n)
{
	struct wire_rd c;
	const uint8_t *txt;

	wire_rd_init(&c, body, len);
	memset(n, 0, sizeof(*n));
	n->code = wire_get_u8(&c);
	n->subcode = wire_get_u8(&c);
	if (c.err)
		return -1;
	n->data = wire_data(&c);
	n->datalen = wire_left(&c);
	if (n->code == BGP_ERR_CEASE &&
	    (n->subcode == BGP_CEASE_SHUTDOWN || n->subcode == BGP_CEASE_RESET) &&
	    wire_left(&c) >= 1) {
		size_t i, l = wire_get_u8(&c);

		/* RFC 9003 §2: a length, then that much text; else no text */
		if ((txt = wire_get_ptr(&c, l)) == NULL)
			return 0;
		/* logged text: keep printable ASCII, escape the rest */
		for (i = 0; i < l; i++) {
			uint8_t ch = txt[i];

			n->shutdown_msg[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
		}
		n->shutdown_msg[l] = 0;
	}
	return 0;
}

const char *
bgp_err_name(uint8_t code, uint8_t sub)
{
	static const char *const hdr[] = { "Unspecific", "Connection Not Synchronized",
		"Bad Message Length", "Bad Message Type" };
	static const char *const open[] = { "Unspecific", "Unsupported Version Number",
		"Bad Peer AS", "Bad BGP Identifier", "Unsupported Optional Parameter",
		"(deprecated 5)", "Unacceptable Hold Time", "Unsupported Capability" };
	static const char *const upd[] = { "Unspecific", "Malformed Attribute List",
		"Unrecognized Well-known Attribute", "Missing Well-known Attribute",
		"Attribute Flags Error", "Attribute Length Error", "Invalid ORIGIN Attribute",
		"(deprecated 7)", "Invalid NEXT_HOP Attribute", "Optional Attribute Error",
		"Invalid Network Field", "Malformed AS_PATH" };
	static const char *const fsm[] = { "Unspecified Error",
		"Unexpected Message in OpenSent", "Unexpected Message in OpenConfirm",
		"Unexpected Message in Established" };
	static const char *const cease[] = { "Unspecific", "Maximum Number of Prefixes Reached",
		"Administrative Shutdown", "Peer De-configured", "Administrative Reset",
		"Connection Rejected", "Other Configuration Change",
		"Connection Collision Resolution", "Out of Resources", "Hard Reset",
		"BFD Down" };
#define PICK(t, what) (sub < VG_N(t) ? t[sub] : what ": unknown subcode")
#define VG_N(a) (sizeof(a) / sizeof((a)[0]))
	switch (code) {
	case BGP_ERR_HEADER:
		return PICK(hdr, "Message Header Error");
	case BGP_ERR_OPEN:
		return PICK(open, "OPEN Message Error");
	case BGP_ERR_UPDATE:
		return PICK(upd, "UPDATE Message Error");
	case BGP_ERR_HOLD:
		return "Hold Timer Expired";
	case BGP_ERR_FSM:
		return PICK(fsm, "Finite State Machine Error");
	case BGP_ERR_CEASE:
		return PICK(cease, "Cease");
	case BGP_ERR_RREFRESH:
		return sub == 1 ? "ROUTE-REFRESH Invalid Message Length" : "ROUTE-REFRESH Error";
	default:
		return "unknown error code";
	}
#undef PICK
#undef VG_N
}

int
bgp_rrefresh_parse(const uint8_t *body, size_t len, struct bgp_rrefresh *r)
{
	struct wire_rd c;

	wire_rd_init(&c, body, len);
	r->afi = wire_get_u16(&c);
	r->subtype = wire_get_u8(&c);
	r->safi = wire_get_u8(&c);
	return c.err ? -1 : 0;
}

size_t
bgp_rrefresh_build(uint8_t *out, uint16_t afi, uint8_t safi)
{
	struct wire_wr w;

	hdr_begin(&w, out, BGP_ROUTE_REFRESH);
	wire_put_u16(&w, afi);
	wire_put_u8(&w, 0);
	wire_put_u8(&w, safi);
	return hdr_end(&w);
}

/* ---- UPDATE decoding (§4.3, §6.3, RFC 7606, RFC 4760) ---- */

/* A run of prefixes: count them; -1 when a length is invalid or overruns. */
static int
count_prefixes(struct wire_rd c, int bits, unsigned *n)
{
	while (wire_left(&c) > 0) {
		uint8_t plen = wire_get_u8(&c);

		if (plen > bits)
			return -1;
		wire_skip(&c, (plen + 7u) / 8u);
		if (c.err)
			return -1;
		(*n)++;
	}
	return 0;
}

static void
upd_degrade(struct bgp_update_info *u, enum bgp_upd_action a, const char *why)
{
	if (a > u->action)
		u->action = a;
	if (u->why == NULL)
		u->why = why;
}

/* AS_PATH / AS4_PATH well-formedness (RFC 7606 §7.2): 0 or -1. */
static int
aspath_ok(struct wire_rd c, size_t asnlen)
{
	while (wire_left(&c) > 0) {
		uint8_t type = wire_get_u8(&c), n = wire_get_u8(&c);

		if (c.err)
			return -1;
		if (type < 1 || type > 4 || n == 0)
			return -1;
		wire_skip(&c, n * asnlen);
		if (c.err)
			return -1;
	}
	return 0;
}

/* MP_REACH / MP_UNREACH: RFC 7606 §5.3, malformed NLRI resets the session. */
static int
parse_mp(struct wire_rd v, int reach, struct bgp_update_info *u, struct bgp_err *err,
    const uint8_t *attr, size_t attrlen)
{
	uint16_t afi;
	uint8_t safi, nhlen;
	unsigned *cnt = NULL, dummy = 0;
	int bits = 0;

	afi = wire_get_u16(&v);
	safi = wire_get_u8(&v);
	if (v.err)
		goto bad;
	if (reach) {
		nhlen = wire_get_u8(&v);
		wire_skip(&v, nhlen);
		wire_skip(&v, 1);	/* reserved */
		if (v.err)
			goto bad;
		if (afi == BGP_AFI_IPV6 && safi == BGP_SAFI_UNICAST &&
		    nhlen != 16 && nhlen != 32)
			goto bad;
		if (afi == BGP_AFI_IPV4 && safi == BGP_SAFI_UNICAST && nhlen != 4 &&
		    nhlen != 16 && nhlen != 32)
			goto bad;
	} else if (wire_left(&v) == 0) {
		/* RFC 4724 §2: End-of-RIB for this family */
		u->eor = 1;
		u->eor_afi = afi;
		u->eor_safi = safi;
		return 0;
	}
	if (safi == BGP_SAFI_UNICAST && afi == BGP_AFI_IPV4) {
		bits = 32;
		cnt = reach ? &u->nlri_v4 : &u->withdrawn_v4;
	} else if (safi == BGP_SAFI_UNICAST && afi == BGP_AFI_IPV6) {
		bits = 128;
		cnt = reach ? &u->nlri_v6 : &u->withdrawn_v6;
	} else {
		/* a family we did not negotiate: ignored (RFC 4760 §7) */
		return 0;
	}
	if (count_prefixes(v, bits, cnt ? cnt : &dummy) < 0)
		goto bad;
	return 0;
bad:
	set_err(err, BGP_ERR_UPDATE, BGP_UPD_OPTATTR, attr, attrlen);
	return -1;
}

/*
 * One path attribute, its value in v: the check RFC 7606 §7 gives it, and
 * what a failure costs (§2: attribute discard, treat-as-withdraw, session
 * reset). start..whole is the whole attribute, the data of a NOTIFICATION.
 * -1 when the session must be reset.
 */
static int
parse_attr(uint8_t flags, uint8_t type, struct wire_rd v, int as4, int ibgp,
    struct bgp_update_info *u, struct bgp_err *err, const uint8_t *start, size_t whole)
{
	size_t l = wire_left(&v);

	switch (type) {
	case BGP_ATTR_ORIGIN:
		if ((flags & 0xc0) != BGP_ATTRF_TRANSITIVE || l != 1 || wire_get_u8(&v) > 2)
			upd_degrade(u, BGP_UPD_TREAT_AS_WITHDRAW, "bad ORIGIN");
		break;
	case BGP_ATTR_AS_PATH:
		if ((flags & 0xc0) != BGP_ATTRF_TRANSITIVE || aspath_ok(v, as4 ? 4 : 2) < 0)
			upd_degrade(u, BGP_UPD_TREAT_AS_WITHDRAW, "malformed AS_PATH");
		break;
	case BGP_ATTR_NEXT_HOP:
		if ((flags & 0xc0) != BGP_ATTRF_TRANSITIVE || l != 4)
			upd_degrade(u, BGP_UPD_TREAT_AS_WITHDRAW, "bad NEXT_HOP");
		break;
	case BGP_ATTR_MED:
		if ((flags & 0xc0) != BGP_ATTRF_OPTIONAL || l != 4)
			upd_degrade(u, BGP_UPD_TREAT_AS_WITHDRAW, "bad MULTI_EXIT_DISC");
		break;
	case BGP_ATTR_LOCAL_PREF:
		/* RFC 7606 §7.5: from an external peer it is discarded */
		if (!ibgp) {
			u->discarded++;
			upd_degrade(u, BGP_UPD_ATTR_DISCARD, "LOCAL_PREF from eBGP");
		} else if ((flags & 0xc0) != BGP_ATTRF_TRANSITIVE || l != 4)
			upd_degrade(u, BGP_UPD_TREAT_AS_WITHDRAW, "bad LOCAL_PREF");
		break;
	case BGP_ATTR_ATOMIC_AGGR:
		if ((flags & 0xc0) != BGP_ATTRF_TRANSITIVE || l != 0) {
			u->discarded++;
			upd_degrade(u, BGP_UPD_ATTR_DISCARD, "bad ATOMIC_AGGREGATE");
		}
		break;
	case BGP_ATTR_AGGREGATOR:
		if ((flags & 0xc0) != (BGP_ATTRF_OPTIONAL | BGP_ATTRF_TRANSITIVE) ||
		    l != (as4 ? 8 : 6)) {
			u->discarded++;
			upd_degrade(u, BGP_UPD_ATTR_DISCARD, "bad AGGREGATOR");
		}
		break;
	case BGP_ATTR_COMMUNITIES:
		if ((flags & 0xc0) != (BGP_ATTRF_OPTIONAL | BGP_ATTRF_TRANSITIVE) ||
		    l == 0 || l % 4)
			upd_degrade(u, BGP_UPD_TREAT_AS_WITHDRAW, "bad COMMUNITIES");
		break;
	case BGP_ATTR_ORIGINATOR_ID:
		if (!ibgp || (flags & 0xc0) != BGP_ATTRF_OPTIONAL || l != 4)
			upd_degrade(u, BGP_UPD_TREAT_AS_WITHDRAW, "bad ORIGINATOR_ID");
		break;
	case BGP_ATTR_CLUSTER_LIST:
		if (!ibgp || (flags & 0xc0) != BGP_ATTRF_OPTIONAL || l == 0 || l % 4)
			upd_degrade(u, BGP_UPD_TREAT_AS_WITHDRAW, "bad CLUSTER_LIST");
		break;
	case BGP_ATTR_MP_REACH:
	case BGP_ATTR_MP_UNREACH:
		if ((flags & 0xc0) != BGP_ATTRF_OPTIONAL) {
			/* the NLRI cannot be trusted: RFC 7606 §5.3 */
			set_err(err, BGP_ERR_UPDATE, BGP_UPD_FLAGS, start, whole);
			return -1;
		}
		if (parse_mp(v, type == BGP_ATTR_MP_REACH, u, err, start, whole) < 0)
			return -1;
		break;
	case BGP_ATTR_EXT_COMMUNITIES:
		if ((flags & 0xc0) != (BGP_ATTRF_OPTIONAL | BGP_ATTRF_TRANSITIVE) || l % 8)
			upd_degrade(u, BGP_UPD_TREAT_AS_WITHDRAW, "bad EXTENDED_COMMUNITIES");
		break;
	case BGP_ATTR_AS4_PATH:
		/* RFC 6793 §6 / RFC 7606 §7.x: discarded when malformed */
		if ((flags & 0xc0) != (BGP_ATTRF_OPTIONAL | BGP_ATTRF_TRANSITIVE) ||
		    aspath_ok(v, 4) < 0) {
			u->discarded++;
			upd_degrade(u, BGP_UPD_ATTR_DISCARD, "malformed AS4_PATH");
		}
		break;
	case BGP_ATTR_AS4_AGGREGATOR:
		if ((flags & 0xc0) != (BGP_ATTRF_OPTIONAL | BGP_ATTRF_TRANSITIVE) || l != 8) {
			u->discarded++;
			upd_degrade(u, BGP_UPD_ATTR_DISCARD, "bad AS4_AGGREGATOR");
		}
		break;
	case BGP_ATTR_LARGE_COMMUNITIES:
		if ((flags & 0xc0) != (BGP_ATTRF_OPTIONAL | BGP_ATTRF_TRANSITIVE) ||
		    l == 0 || l % 12)
			upd_degrade(u, BGP_UPD_TREAT_AS_WITHDRAW, "bad LARGE_COMMUNITIES");
		break;
	default:
		/* §6.3: an unrecognized well-known attribute */
		if (!(flags & BGP_ATTRF_OPTIONAL)) {
			set_err(err, BGP_ERR_UPDATE, BGP_UPD_WELLKNOWN, start, whole);
			return -1;
		}
		break;	/* unknown optional: passed over (we do not propagate) */
	}
	return 0;
}

/*
 * The path attribute list: each attribute checked once, the repeated ones
 * discarded (RFC 7606 §3 g). seen[] counts them by type code, for the
 * missing-attribute check; *malformed when one overran the list. -1 when
 * the session must be reset.
 */
static int
parse_attrs(struct wire_rd attrs, int as4, int ibgp, int seen[256], int *malformed,
    struct bgp_update_info *u, struct bgp_err *err)
{
	while (wire_left(&attrs) > 0) {
		const uint8_t *start = wire_data(&attrs);
		uint8_t flags, type;
		uint16_t l;
		struct wire_rd v;

		flags = wire_get_u8(&attrs);
		type = wire_get_u8(&attrs);
		l = flags & BGP_ATTRF_EXTLEN ? wire_get_u16(&attrs) : wire_get_u8(&attrs);
		wire_get_sub(&attrs, l, &v);
		if (attrs.err) {
			/* RFC 7606 §4: treat-as-withdraw; NLRI located by the total length */
			*malformed = 1;
			return 0;
		}
		/* RFC 7606 §3 g: MP attributes more than once reset the session */
		if (seen[type] && (type == BGP_ATTR_MP_REACH || type == BGP_ATTR_MP_UNREACH)) {
			set_err(err, BGP_ERR_UPDATE, BGP_UPD_ATTRLIST, NULL, 0);
			return -1;
		}
		if (seen[type]++) {
			/* RFC 7606 §3 g: all but the first are discarded */
			u->discarded++;
			upd_degrade(u, BGP_UPD_ATTR_DISCARD, "duplicate attribute");
			continue;
		}
		if (parse_attr(flags, type, v, as4, ibgp, u, err, start,
		    (size_t)(wire_data(&attrs) - start)) < 0)
			return -1;
	}
	return 0;
}

int
bgp_update_parse(const uint8_t *body, size_t len, int as4, int ibgp,
    struct bgp_update_info *u, struct bgp_err *err)
{
	struct wire_rd c, wd, attrs, nlri;
	uint16_t wdlen, alen;
	int seen[256] = { 0 };
	int has_nlri, malformed_list = 0;
	unsigned classic_nlri = 0;

	wire_rd_init(&c, body, len);
	memset(u, 0, sizeof(*u));
	/* §6.3 / RFC 7606 §4: lengths inconsistent with the message */
	wdlen = wire_get_u16(&c);
	wire_get_sub(&c, wdlen, &wd);
	alen = wire_get_u16(&c);
	wire_get_sub(&c, alen, &attrs);
	if (c.err) {
		set_err(err, BGP_ERR_UPDATE, BGP_UPD_ATTRLIST, NULL, 0);
		return -1;
	}
	/* the rest is the NLRI (IPv4 unicast; the other families come in MP_REACH) */
	nlri = c;
	if (count_prefixes(nlri, 32, &classic_nlri) < 0 ||
	    count_prefixes(wd, 32, &u->withdrawn_v4) < 0) {
		set_err(err, BGP_ERR_UPDATE, BGP_UPD_NETWORK, NULL, 0);
		return -1;
	}
	u->nlri_v4 = classic_nlri;
	if (wdlen == 0 && alen == 0 && wire_left(&nlri) == 0) {
		u->eor = 1;
		u->eor_afi = BGP_AFI_IPV4;
		u->eor_safi = BGP_SAFI_UNICAST;
		return 0;
	}
	if (parse_attrs(attrs, as4, ibgp, seen, &malformed_list, u, err) < 0)
		return -1;
	if (malformed_list)
		upd_degrade(u, BGP_UPD_TREAT_AS_WITHDRAW, "attribute overruns the list");
	has_nlri = u->nlri_v4 > 0 || u->nlri_v6 > 0;
	if (has_nlri && !malformed_list) {
		/* RFC 7606 §3 d: a missing well-known attribute is treat-as-withdraw;
		 * NEXT_HOP only with NLRI in the classic field (RFC 4760 §3) */
		if (!seen[BGP_ATTR_ORIGIN] || !seen[BGP_ATTR_AS_PATH] ||
		    (classic_nlri > 0 && !seen[BGP_ATTR_NEXT_HOP]) ||
		    (ibgp && !seen[BGP_ATTR_LOCAL_PREF]))
			upd_degrade(u, BGP_UPD_TREAT_AS_WITHDRAW, "missing well-known attribute");
	}
	return 0;
}

/* ---- UPDATE building ---- */

static size_t
prefix_bytes(const struct bgp_prefix *p)
{
	return 1 + (p->plen + 7u) / 8u;
}

static void
put_prefix(struct wire_wr *w, const struct bgp_prefix *p)
{
	wire_put_u8(w, p->plen);
	wire_put_bytes(w, p->addr.a, (p->plen + 7u) / 8u);
}

/* An attribute header; returns where the length goes (2-octet form). */
static size_t
attr_begin(struct wire_wr *w, uint8_t flags, uint8_t type)
{
	wire_put_u8(w, flags | BGP_ATTRF_EXTLEN);
	wire_put_u8(w, type);
	return wire_reserve(w, 2);
}

static void
put_attr_short(struct wire_wr *w, uint8_t flags, uint8_t type, uint8_t len)
{
	wire_put_u8(w, flags);
	wire_put_u8(w, type);
	wire_put_u8(w, len);
}

void
bgp_attrs_gshut(struct bgp_tx_attrs *a, int ibgp, uint32_t *buf)
{
	size_t i, n = 0;
	int put = 0;

	for (i = 0; i < a->ncomms; i++) {
		if (!put && a->comms[i] >= BGP_COMM_GSHUT) {
			buf[n++] = BGP_COMM_GSHUT;
			put = 1;
			if (a->comms[i] == BGP_COMM_GSHUT)
				continue;
		}
		buf[n++] = a->comms[i];
	}
	if (!put)
		buf[n++] = BGP_COMM_GSHUT;
	a->comms = buf;
	a->ncomms = n;
	/* the lowest preference; eBGP carries no LOCAL_PREF */
	if (ibgp) {
		a->has_local_pref = 1;
		a->local_pref = 0;
	}
}

size_t
bgp_update_build(uint8_t *out, const struct bgp_tx_session *s, const struct bgp_tx_attrs *a,
    const struct bgp_prefix *pfx, size_t n, size_t *taken)
{
	struct wire_wr w;
	size_t alenat, i, mpat = 0, k = 0;
	int v6 = n > 0 && pfx[0].addr.family == AF_INET6;
	int mp = v6 || s->v4_mp;	/* next hop and NLRI in MP_REACH */
	int fam = v6 ? AF_INET6 : AF_INET;

	*taken = 0;
	hdr_begin(&w, out, BGP_UPDATE);
	wire_put_u16(&w, 0);		/* no withdrawn routes */
	alenat = wire_reserve(&w, 2);
	put_attr_short(&w, BGP_ATTRF_TRANSITIVE, BGP_ATTR_ORIGIN, 1);
	wire_put_u8(&w, 0);		/* IGP */
	if (s->ibgp) {
		put_attr_short(&w, BGP_ATTRF_TRANSITIVE, BGP_ATTR_AS_PATH, 0);
	} else if (s->as4 || s->my_as <= 0xffff) {
		put_attr_short(&w, BGP_ATTRF_TRANSITIVE, BGP_ATTR_AS_PATH,
		    (uint8_t)(2 + (s->as4 ? 4 : 2)));
		wire_put_u8(&w, 2);	/* AS_SEQUENCE */
		wire_put_u8(&w, 1);
		if (s->as4)
			wire_put_u32(&w, s->my_as);
		else
			wire_put_u16(&w, (uint16_t)s->my_as);
	} else {
		/* RFC 6793 §4.2.2: AS_TRANS in AS_PATH, the real one in AS4_PATH */
		put_attr_short(&w, BGP_ATTRF_TRANSITIVE, BGP_ATTR_AS_PATH, 4);
		wire_put_u8(&w, 2);
		wire_put_u8(&w, 1);
		wire_put_u16(&w, BGP_AS_TRANS);
		put_attr_short(&w, BGP_ATTRF_OPTIONAL | BGP_ATTRF_TRANSITIVE,
		    BGP_ATTR_AS4_PATH, 6);
		wire_put_u8(&w, 2);
		wire_put_u8(&w, 1);
		wire_put_u32(&w, s->my_as);
	}
	if (!mp) {
		put_attr_short(&w, BGP_ATTRF_TRANSITIVE, BGP_ATTR_NEXT_HOP, 4);
		wire_put_bytes(&w, s->nh4.a, 4);
	}
	if (s->ibgp && a->has_local_pref) {
		put_attr_short(&w, BGP_ATTRF_TRANSITIVE, BGP_ATTR_LOCAL_PREF, 4);
		wire_put_u32(&w, a->local_pref);
	}
	if (a->ncomms) {
		size_t at = attr_begin(&w, BGP_ATTRF_OPTIONAL | BGP_ATTRF_TRANSITIVE,
		    BGP_ATTR_COMMUNITIES);

		/* bounded by the planner (≤ 255); a full message is never reached */
		for (i = 0; i < a->ncomms && i < 255; i++)
			wire_put_u32(&w, a->comms[i]);
		wire_patch_len16(&w, at);
	}
	if (a->nlarge) {
		size_t at = attr_begin(&w, BGP_ATTRF_OPTIONAL | BGP_ATTRF_TRANSITIVE,
		    BGP_ATTR_LARGE_COMMUNITIES);

		for (i = 0; i < a->nlarge && i < 255; i++) {
			wire_put_u32(&w, a->large[i].global);
			wire_put_u32(&w, a->large[i].local1);
			wire_put_u32(&w, a->large[i].local2);
		}
		wire_patch_len16(&w, at);
	}
	if (mp) {
		/* RFC 4760 §3, RFC 2545 §3: global and optional link-local next
		 * hop; RFC 8950 §3 the same for IPv4 NLRI */
		mpat = attr_begin(&w, BGP_ATTRF_OPTIONAL, BGP_ATTR_MP_REACH);
		wire_put_u16(&w, v6 ? BGP_AFI_IPV6 : BGP_AFI_IPV4);
		wire_put_u8(&w, BGP_SAFI_UNICAST);
		if (s->nh6_ll.family == AF_INET6) {
			wire_put_u8(&w, 32);
			wire_put_bytes(&w, s->nh6.a, 16);
			wire_put_bytes(&w, s->nh6_ll.a, 16);
		} else {
			wire_put_u8(&w, 16);
			wire_put_bytes(&w, s->nh6.a, 16);
		}
		wire_put_u8(&w, 0);
		for (k = 0; k < n && pfx[k].addr.family == fam &&
		    w.len + prefix_bytes(&pfx[k]) <= BGP_MAX_LEN; k++)
			put_prefix(&w, &pfx[k]);
		wire_patch_len16(&w, mpat);
		wire_patch_len16(&w, alenat);
	} else {
		wire_patch_len16(&w, alenat);
		for (k = 0; k < n && pfx[k].addr.family == AF_INET &&
		    w.len + prefix_bytes(&pfx[k]) <= BGP_MAX_LEN; k++)
			put_prefix(&w, &pfx[k]);
	}
	/* attributes past BGP_MAX_LEN (the planner's 255 communities and 255
	 * large ones together): no message, nothing taken */
	*taken = w.overflow ? 0 : k;
	return hdr_end(&w);
}

size_t
bgp_withdraw_build(uint8_t *out, const struct bgp_prefix *pfx, size_t n, size_t *taken)
{
	struct wire_wr w;
	size_t k = 0, at;

	*taken = 0;
	hdr_begin(&w, out, BGP_UPDATE);
	if (n > 0 && pfx[0].addr.family == AF_INET6) {
		size_t alenat;

		wire_put_u16(&w, 0);
		alenat = wire_reserve(&w, 2);
		at = attr_begin(&w, BGP_ATTRF_OPTIONAL, BGP_ATTR_MP_UNREACH);
		wire_put_u16(&w, BGP_AFI_IPV6);
		wire_put_u8(&w, BGP_SAFI_UNICAST);
		for (; k < n && pfx[k].addr.family == AF_INET6 &&
		    w.len + prefix_bytes(&pfx[k]) <= BGP_MAX_LEN; k++)
			put_prefix(&w, &pfx[k]);
		wire_patch_len16(&w, at);
		wire_patch_len16(&w, alenat);
	} else {
		at = wire_reserve(&w, 2);
		/* room for the total attribute length after the withdrawn routes */
		for (; k < n && pfx[k].addr.family == AF_INET &&
		    w.len + prefix_bytes(&pfx[k]) + 2 <= BGP_MAX_LEN; k++)
			put_prefix(&w, &pfx[k]);
		wire_patch_len16(&w, at);
		wire_put_u16(&w, 0);
	}
	*taken = k;
	return hdr_end(&w);
}

size_t
bgp_eor_build(uint8_t *out, int family)
{
	struct wire_wr w;

	hdr_begin(&w, out, BGP_UPDATE);
	wire_put_u16(&w, 0);
	if (family == AF_INET6) {
		wire_put_u16(&w, 6);
		wire_put_u8(&w, BGP_ATTRF_OPTIONAL);
		wire_put_u8(&w, BGP_ATTR_MP_UNREACH);
		wire_put_u8(&w, 3);
		wire_put_u16(&w, BGP_AFI_IPV6);
		wire_put_u8(&w, BGP_SAFI_UNICAST);
	} else {
		wire_put_u16(&w, 0);
	}
	return hdr_end(&w);
}
