/*
 * BGP-4 message codec: framing, OPEN, UPDATE (RFC 7606 error handling),
 * NOTIFICATION (RFC 4486, 9003), KEEPALIVE, ROUTE-REFRESH, and the
 * builders for what we send. Pure.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipgate/bgp-msg.h"

/* ---- bounds-checked cursor ---- */

struct cur {
	const uint8_t	*p;
	size_t		 left;
};

static int
get_u8(struct cur *c, uint8_t *v)
{
	if (c->left < 1)
		return -1;
	*v = c->p[0];
	c->p++;
	c->left--;
	return 0;
}

static int
get_u16(struct cur *c, uint16_t *v)
{
	if (c->left < 2)
		return -1;
	*v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->left -= 2;
	return 0;
}

static int
get_u32(struct cur *c, uint32_t *v)
{
	if (c->left < 4)
		return -1;
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	    (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	c->left -= 4;
	return 0;
}

static int
get_bytes(struct cur *c, size_t n, struct cur *sub)
{
	if (c->left < n)
		return -1;
	sub->p = c->p;
	sub->left = n;
	c->p += n;
	c->left -= n;
	return 0;
}

/* ---- writer (builders size their output; BGP_MAX_LEN is the bound) ---- */

struct wr {
	uint8_t	*p;
	size_t	 len;
};

static void
put_u8(struct wr *w, uint8_t v)
{
	w->p[w->len++] = v;
}

static void
put_u16(struct wr *w, uint16_t v)
{
	w->p[w->len++] = (uint8_t)(v >> 8);
	w->p[w->len++] = (uint8_t)v;
}

static void
put_u32(struct wr *w, uint32_t v)
{
	put_u16(w, (uint16_t)(v >> 16));
	put_u16(w, (uint16_t)v);
}

static void
put_bytes(struct wr *w, const void *b, size_t n)
{
	memcpy(w->p + w->len, b, n);
	w->len += n;
}

static void
set_u16(uint8_t *at, uint16_t v)
{
	at[0] = (uint8_t)(v >> 8);
	at[1] = (uint8_t)v;
}

static void
hdr_begin(struct wr *w, uint8_t *out, uint8_t type)
{
	w->p = out;
	w->len = 0;
	memset(out, 0xff, 16);
	w->len = 16;
	put_u16(w, 0);
	put_u8(w, type);
}

static size_t
hdr_end(struct wr *w)
{
	set_u16(w->p + 16, (uint16_t)w->len);
	return w->len;
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
	uint16_t mlen;
	size_t i;

	if (len < BGP_HDR_LEN)
		return 0;
	for (i = 0; i < 16; i++)
		if (buf[i] != 0xff) {
			set_err(err, BGP_ERR_HEADER, BGP_HDR_SYNC, NULL, 0);
			return -1;
		}
	mlen = (uint16_t)(buf[16] << 8 | buf[17]);
	*type = buf[18];
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
parse_caps(struct cur *c, struct bgp_open *o, struct bgp_err *err)
{
	while (c->left > 0) {
		uint8_t code, clen;
		struct cur v;

		if (get_u8(c, &code) || get_u8(c, &clen) || get_bytes(c, clen, &v)) {
			set_err(err, BGP_ERR_OPEN, 0, NULL, 0);
			return -1;
		}
		switch (code) {
		case BGP_CAP_MP: {
			uint16_t afi;
			uint8_t res, safi;

			if (clen != 4 || get_u16(&v, &afi) || get_u8(&v, &res) ||
			    get_u8(&v, &safi))
				break;	/* ignored, as unknown capabilities are */
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
		case BGP_CAP_AS4:
			if (clen != 4)
				break;
			o->has_as4 = 1;
			get_u32(&v, &o->as4);
			break;
		case BGP_CAP_GR: {
			uint16_t w;

			if (get_u16(&v, &w))
				break;
			o->has_gr = 1;
			o->gr_flags = (uint8_t)(w >> 12);
			o->gr_time = w & 0x0fff;
			while (v.left >= 4) {
				uint16_t afi;
				uint8_t safi, fl;

				get_u16(&v, &afi);
				get_u8(&v, &safi);
				get_u8(&v, &fl);
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
	struct cur c = { body, len }, params;
	uint8_t optlen;

	memset(o, 0, sizeof(*o));
	if (get_u8(&c, &o->version) || get_u16(&c, &o->my_as) || get_u16(&c, &o->hold) ||
	    get_u32(&c, &o->bgp_id) || get_u8(&c, &optlen)) {
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
	if (optlen != c.left || get_bytes(&c, optlen, &params)) {
		set_err(err, BGP_ERR_OPEN, 0, NULL, 0);
		return -1;
	}
	while (params.left > 0) {
		uint8_t ptype, plen;
		struct cur pv;

		if (get_u8(&params, &ptype) || get_u8(&params, &plen) ||
		    get_bytes(&params, plen, &pv)) {
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
	struct wr w;
	size_t optat, capat;

	hdr_begin(&w, out, BGP_OPEN);
	put_u8(&w, BGP_VERSION);
	put_u16(&w, p->my_as > 0xffff ? BGP_AS_TRANS : (uint16_t)p->my_as);
	put_u16(&w, p->hold);
	put_u32(&w, p->bgp_id);
	optat = w.len;
	put_u8(&w, 0);
	put_u8(&w, 2);		/* one Capabilities parameter */
	capat = w.len;
	put_u8(&w, 0);
	if (p->mp_v4) {
		put_u8(&w, BGP_CAP_MP);
		put_u8(&w, 4);
		put_u16(&w, BGP_AFI_IPV4);
		put_u8(&w, 0);
		put_u8(&w, BGP_SAFI_UNICAST);
	}
	if (p->mp_v6) {
		put_u8(&w, BGP_CAP_MP);
		put_u8(&w, 4);
		put_u16(&w, BGP_AFI_IPV6);
		put_u8(&w, 0);
		put_u8(&w, BGP_SAFI_UNICAST);
	}
	put_u8(&w, BGP_CAP_RREFRESH);
	put_u8(&w, 0);
	put_u8(&w, BGP_CAP_AS4);
	put_u8(&w, 4);
	put_u32(&w, p->my_as);
	if (p->graceful_restart) {
		/* RFC 4724 §3: restarting speaker, forwarding state preserved */
		uint8_t n = (uint8_t)(p->mp_v4 + p->mp_v6);

		put_u8(&w, BGP_CAP_GR);
		put_u8(&w, (uint8_t)(2 + 4 * n));
		put_u16(&w, (uint16_t)((p->gr_restarting ? 0x8000 : 0) | (p->gr_time & 0x0fff)));
		if (p->mp_v4) {
			put_u16(&w, BGP_AFI_IPV4);
			put_u8(&w, BGP_SAFI_UNICAST);
			put_u8(&w, 0x80);
		}
		if (p->mp_v6) {
			put_u16(&w, BGP_AFI_IPV6);
			put_u8(&w, BGP_SAFI_UNICAST);
			put_u8(&w, 0x80);
		}
	}
	out[capat] = (uint8_t)(w.len - capat - 1);
	out[optat] = (uint8_t)(w.len - optat - 1);
	return hdr_end(&w);
}

/* ---- KEEPALIVE, NOTIFICATION, ROUTE-REFRESH ---- */

size_t
bgp_keepalive_build(uint8_t *out)
{
	struct wr w;

	hdr_begin(&w, out, BGP_KEEPALIVE);
	return hdr_end(&w);
}

size_t
bgp_notification_build(uint8_t *out, uint8_t code, uint8_t subcode, const uint8_t *data,
    size_t len)
{
	struct wr w;

	if (len > BGP_MAX_LEN - BGP_HDR_LEN - 2)
		len = BGP_MAX_LEN - BGP_HDR_LEN - 2;
	hdr_begin(&w, out, BGP_NOTIFICATION);
	put_u8(&w, code);
	put_u8(&w, subcode);
	if (len)
		put_bytes(&w, data, len);
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
	struct cur c = { body, len };

	memset(n, 0, sizeof(*n));
	if (get_u8(&c, &n->code) || get_u8(&c, &n->subcode))
		return -1;
	n->data = c.p;
	n->datalen = c.left;
	if (n->code == BGP_ERR_CEASE &&
	    (n->subcode == BGP_CEASE_SHUTDOWN || n->subcode == BGP_CEASE_RESET) &&
	    c.left >= 1 && (size_t)c.p[0] + 1 <= c.left) {
		size_t i, l = c.p[0];

		/* logged text: keep printable ASCII, escape the rest */
		for (i = 0; i < l; i++) {
			uint8_t ch = c.p[1 + i];

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
	struct cur c = { body, len };

	if (get_u16(&c, &r->afi) || get_u8(&c, &r->subtype) || get_u8(&c, &r->safi))
		return -1;
	return 0;
}

size_t
bgp_rrefresh_build(uint8_t *out, uint16_t afi, uint8_t safi)
{
	struct wr w;

	hdr_begin(&w, out, BGP_ROUTE_REFRESH);
	put_u16(&w, afi);
	put_u8(&w, 0);
	put_u8(&w, safi);
	return hdr_end(&w);
}

/* ---- UPDATE decoding (§4.3, §6.3, RFC 7606, RFC 4760) ---- */

/* A run of prefixes: count them; -1 when a length is invalid or overruns. */
static int
count_prefixes(struct cur c, int bits, unsigned *n)
{
	while (c.left > 0) {
		uint8_t plen;
		size_t bytes;

		get_u8(&c, &plen);
		if (plen > bits)
			return -1;
		bytes = (plen + 7u) / 8u;
		if (c.left < bytes)
			return -1;
		c.p += bytes;
		c.left -= bytes;
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
aspath_ok(struct cur c, size_t asnlen)
{
	while (c.left > 0) {
		uint8_t type, n;

		if (get_u8(&c, &type) || get_u8(&c, &n))
			return -1;
		if (type < 1 || type > 4 || n == 0)
			return -1;
		if (c.left < n * asnlen)
			return -1;
		c.p += n * asnlen;
		c.left -= n * asnlen;
	}
	return 0;
}

/* MP_REACH / MP_UNREACH: RFC 7606 §5.3, malformed NLRI resets the session. */
static int
parse_mp(struct cur v, int reach, struct bgp_update_info *u, struct bgp_err *err,
    const uint8_t *attr, size_t attrlen)
{
	uint16_t afi;
	uint8_t safi, nhlen, res;
	struct cur nh;
	unsigned *cnt = NULL, dummy = 0;
	int bits = 0;

	if (get_u16(&v, &afi) || get_u8(&v, &safi))
		goto bad;
	if (reach) {
		if (get_u8(&v, &nhlen) || get_bytes(&v, nhlen, &nh) || get_u8(&v, &res))
			goto bad;
		if (afi == BGP_AFI_IPV6 && safi == BGP_SAFI_UNICAST &&
		    nhlen != 16 && nhlen != 32)
			goto bad;
		if (afi == BGP_AFI_IPV4 && safi == BGP_SAFI_UNICAST && nhlen != 4 &&
		    nhlen != 16 && nhlen != 32)
			goto bad;
	} else if (v.left == 0) {
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

int
bgp_update_parse(const uint8_t *body, size_t len, int as4, int ibgp,
    struct bgp_update_info *u, struct bgp_err *err)
{
	struct cur c = { body, len }, wd, attrs, nlri;
	uint16_t wdlen, alen;
	int seen[256] = { 0 };
	int has_nlri, malformed_list = 0;
	unsigned classic_nlri = 0;

	memset(u, 0, sizeof(*u));
	/* §6.3 / RFC 7606 §4: lengths inconsistent with the message */
	if (get_u16(&c, &wdlen) || get_bytes(&c, wdlen, &wd) || get_u16(&c, &alen) ||
	    get_bytes(&c, alen, &attrs)) {
		set_err(err, BGP_ERR_UPDATE, BGP_UPD_ATTRLIST, NULL, 0);
		return -1;
	}
	nlri = c;
	if (count_prefixes(nlri, 32, &classic_nlri) < 0) {
		set_err(err, BGP_ERR_UPDATE, BGP_UPD_NETWORK, NULL, 0);
		return -1;
	}
	if (count_prefixes(wd, 32, &u->withdrawn_v4) < 0 ||
	    count_prefixes(nlri, 32, &u->nlri_v4) < 0) {
		set_err(err, BGP_ERR_UPDATE, BGP_UPD_NETWORK, NULL, 0);
		return -1;
	}
	if (wdlen == 0 && alen == 0 && nlri.left == 0) {
		u->eor = 1;
		u->eor_afi = BGP_AFI_IPV4;
		u->eor_safi = BGP_SAFI_UNICAST;
		return 0;
	}
	while (attrs.left > 0) {
		const uint8_t *start = attrs.p;
		uint8_t flags, type;
		uint16_t l;
		struct cur v;
		size_t whole;

		if (get_u8(&attrs, &flags) || get_u8(&attrs, &type)) {
			malformed_list = 1;
			break;
		}
		if (flags & BGP_ATTRF_EXTLEN) {
			if (get_u16(&attrs, &l)) {
				malformed_list = 1;
				break;
			}
		} else {
			uint8_t l8;

			if (get_u8(&attrs, &l8)) {
				malformed_list = 1;
				break;
			}
			l = l8;
		}
		if (get_bytes(&attrs, l, &v)) {
			/* RFC 7606 §4: treat-as-withdraw; NLRI located by the total length */
			malformed_list = 1;
			break;
		}
		whole = (size_t)(v.p + v.left - start);
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
		switch (type) {
		case BGP_ATTR_ORIGIN: {
			uint8_t o;

			if ((flags & 0xc0) != BGP_ATTRF_TRANSITIVE || l != 1 || get_u8(&v, &o) ||
			    o > 2)
				upd_degrade(u, BGP_UPD_TREAT_AS_WITHDRAW, "bad ORIGIN");
			break;
		}
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
	}
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
put_prefix(struct wr *w, const struct bgp_prefix *p)
{
	put_u8(w, p->plen);
	put_bytes(w, p->addr.a, (p->plen + 7u) / 8u);
}

/* An attribute header; returns where the length goes (2-octet form). */
static size_t
attr_begin(struct wr *w, uint8_t flags, uint8_t type)
{
	size_t at;

	put_u8(w, flags | BGP_ATTRF_EXTLEN);
	put_u8(w, type);
	at = w->len;
	put_u16(w, 0);
	return at;
}

static void
attr_end(struct wr *w, size_t at)
{
	set_u16(w->p + at, (uint16_t)(w->len - at - 2));
}

static void
put_attr_short(struct wr *w, uint8_t flags, uint8_t type, uint8_t len)
{
	put_u8(w, flags);
	put_u8(w, type);
	put_u8(w, len);
}

size_t
bgp_update_build(uint8_t *out, const struct bgp_tx_session *s, const struct bgp_tx_attrs *a,
    const struct bgp_prefix *pfx, size_t n, size_t *taken)
{
	struct wr w;
	size_t alenat, attrstart, i, mpat = 0, k = 0;
	int v6 = n > 0 && pfx[0].addr.family == AF_INET6;

	*taken = 0;
	hdr_begin(&w, out, BGP_UPDATE);
	put_u16(&w, 0);		/* no withdrawn routes */
	alenat = w.len;
	put_u16(&w, 0);
	attrstart = w.len;
	put_attr_short(&w, BGP_ATTRF_TRANSITIVE, BGP_ATTR_ORIGIN, 1);
	put_u8(&w, 0);		/* IGP */
	if (s->ibgp) {
		put_attr_short(&w, BGP_ATTRF_TRANSITIVE, BGP_ATTR_AS_PATH, 0);
	} else if (s->as4 || s->my_as <= 0xffff) {
		put_attr_short(&w, BGP_ATTRF_TRANSITIVE, BGP_ATTR_AS_PATH,
		    (uint8_t)(2 + (s->as4 ? 4 : 2)));
		put_u8(&w, 2);	/* AS_SEQUENCE */
		put_u8(&w, 1);
		if (s->as4)
			put_u32(&w, s->my_as);
		else
			put_u16(&w, (uint16_t)s->my_as);
	} else {
		/* RFC 6793 §4.2.2: AS_TRANS in AS_PATH, the real one in AS4_PATH */
		put_attr_short(&w, BGP_ATTRF_TRANSITIVE, BGP_ATTR_AS_PATH, 4);
		put_u8(&w, 2);
		put_u8(&w, 1);
		put_u16(&w, BGP_AS_TRANS);
		put_attr_short(&w, BGP_ATTRF_OPTIONAL | BGP_ATTRF_TRANSITIVE,
		    BGP_ATTR_AS4_PATH, 6);
		put_u8(&w, 2);
		put_u8(&w, 1);
		put_u32(&w, s->my_as);
	}
	if (!v6) {
		put_attr_short(&w, BGP_ATTRF_TRANSITIVE, BGP_ATTR_NEXT_HOP, 4);
		put_bytes(&w, s->nh4.a, 4);
	}
	if (s->ibgp && a->has_local_pref) {
		put_attr_short(&w, BGP_ATTRF_TRANSITIVE, BGP_ATTR_LOCAL_PREF, 4);
		put_u32(&w, a->local_pref);
	}
	if (a->ncomms) {
		size_t at = attr_begin(&w, BGP_ATTRF_OPTIONAL | BGP_ATTRF_TRANSITIVE,
		    BGP_ATTR_COMMUNITIES);

		/* bounded by the planner (≤ 255); a full message is never reached */
		for (i = 0; i < a->ncomms && i < 255; i++)
			put_u32(&w, a->comms[i]);
		attr_end(&w, at);
	}
	if (a->nlarge) {
		size_t at = attr_begin(&w, BGP_ATTRF_OPTIONAL | BGP_ATTRF_TRANSITIVE,
		    BGP_ATTR_LARGE_COMMUNITIES);

		for (i = 0; i < a->nlarge && i < 255; i++) {
			put_u32(&w, a->large[i].global);
			put_u32(&w, a->large[i].local1);
			put_u32(&w, a->large[i].local2);
		}
		attr_end(&w, at);
	}
	if (v6) {
		/* RFC 4760 §3, RFC 2545 §3: global and optional link-local next hop */
		mpat = attr_begin(&w, BGP_ATTRF_OPTIONAL, BGP_ATTR_MP_REACH);
		put_u16(&w, BGP_AFI_IPV6);
		put_u8(&w, BGP_SAFI_UNICAST);
		if (s->nh6_ll.family == AF_INET6) {
			put_u8(&w, 32);
			put_bytes(&w, s->nh6.a, 16);
			put_bytes(&w, s->nh6_ll.a, 16);
		} else {
			put_u8(&w, 16);
			put_bytes(&w, s->nh6.a, 16);
		}
		put_u8(&w, 0);
		for (k = 0; k < n && pfx[k].addr.family == AF_INET6 &&
		    w.len + prefix_bytes(&pfx[k]) <= BGP_MAX_LEN; k++)
			put_prefix(&w, &pfx[k]);
		attr_end(&w, mpat);
		set_u16(out + alenat, (uint16_t)(w.len - attrstart));
	} else {
		set_u16(out + alenat, (uint16_t)(w.len - attrstart));
		for (k = 0; k < n && pfx[k].addr.family == AF_INET &&
		    w.len + prefix_bytes(&pfx[k]) <= BGP_MAX_LEN; k++)
			put_prefix(&w, &pfx[k]);
	}
	*taken = k;
	return hdr_end(&w);
}

size_t
bgp_withdraw_build(uint8_t *out, const struct bgp_prefix *pfx, size_t n, size_t *taken)
{
	struct wr w;
	size_t k = 0, at;

	*taken = 0;
	hdr_begin(&w, out, BGP_UPDATE);
	if (n > 0 && pfx[0].addr.family == AF_INET6) {
		size_t alenat;

		put_u16(&w, 0);
		alenat = w.len;
		put_u16(&w, 0);
		at = attr_begin(&w, BGP_ATTRF_OPTIONAL, BGP_ATTR_MP_UNREACH);
		put_u16(&w, BGP_AFI_IPV6);
		put_u8(&w, BGP_SAFI_UNICAST);
		for (; k < n && pfx[k].addr.family == AF_INET6 &&
		    w.len + prefix_bytes(&pfx[k]) <= BGP_MAX_LEN; k++)
			put_prefix(&w, &pfx[k]);
		attr_end(&w, at);
		set_u16(out + alenat, (uint16_t)(w.len - alenat - 2));
	} else {
		at = w.len;
		put_u16(&w, 0);
		/* room for the total attribute length after the withdrawn routes */
		for (; k < n && pfx[k].addr.family == AF_INET &&
		    w.len + prefix_bytes(&pfx[k]) + 2 <= BGP_MAX_LEN; k++)
			put_prefix(&w, &pfx[k]);
		set_u16(out + at, (uint16_t)(w.len - at - 2));
		put_u16(&w, 0);
	}
	*taken = k;
	return hdr_end(&w);
}

size_t
bgp_eor_build(uint8_t *out, int family)
{
	struct wr w;

	hdr_begin(&w, out, BGP_UPDATE);
	put_u16(&w, 0);
	if (family == AF_INET6) {
		put_u16(&w, 6);
		put_u8(&w, BGP_ATTRF_OPTIONAL);
		put_u8(&w, BGP_ATTR_MP_UNREACH);
		put_u8(&w, 3);
		put_u16(&w, BGP_AFI_IPV6);
		put_u8(&w, BGP_SAFI_UNICAST);
	} else {
		put_u16(&w, 0);
	}
	return hdr_end(&w);
}

/* ---- communities (RFC 1997, 8092) in MetalLB's syntax ---- */

static const struct {
	const char	*name;
	uint32_t	 v;
} wellknown[] = {
	{ "graceful-shutdown", 0xFFFF0000u },	/* RFC 8326 */
	{ "accept-own", 0xFFFF0001u },		/* RFC 7611 */
	{ "route-filter-translated-v4", 0xFFFF0002u },
	{ "route-filter-v4", 0xFFFF0003u },
	{ "route-filter-translated-v6", 0xFFFF0004u },
	{ "route-filter-v6", 0xFFFF0005u },
	{ "llgr-stale", 0xFFFF0006u },		/* RFC 9494 */
	{ "no-llgr", 0xFFFF0007u },
	{ "accept-own-nexthop", 0xFFFF0008u },
	{ "blackhole", 0xFFFF029Au },		/* RFC 7999 */
	{ "no-export", 0xFFFFFF01u },
	{ "no-advertise", 0xFFFFFF02u },
	{ "no-export-subconfed", 0xFFFFFF03u },
	{ "local-as", 0xFFFFFF03u },		/* FRR's name for it */
	{ "no-peer", 0xFFFFFF04u },		/* RFC 3765 */
};

static int
parse_u32(const char *s, const char **end, uint64_t max, uint32_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return -1;
		p++;
	}
	*out = (uint32_t)v;
	*end = p;
	return 0;
}

int
bgp_community_parse(const char *s, uint32_t *std, struct bgp_large_comm *lc)
{
	const char *p;
	uint32_t a, b, c;
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(wellknown) / sizeof(wellknown[0]); i++)
		if (strcmp(s, wellknown[i].name) == 0) {
			*std = wellknown[i].v;
			return 1;
		}
	if (strncmp(s, "large:", 6) == 0) {
		if (parse_u32(s + 6, &p, 0xffffffffu, &a) || *p++ != ':' ||
		    parse_u32(p, &p, 0xffffffffu, &b) || *p++ != ':' ||
		    parse_u32(p, &p, 0xffffffffu, &c) || *p != 0)
			return -1;
		lc->global = a;
		lc->local1 = b;
		lc->local2 = c;
		return 2;
	}
	if (parse_u32(s, &p, 0xffff, &a) || *p++ != ':' || parse_u32(p, &p, 0xffff, &b) ||
	    *p != 0)
		return -1;
	*std = a << 16 | b;
	return 1;
}
