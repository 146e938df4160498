/* BGP codec: round trips and every malformed case with its NOTIFICATION. */
#include "config.h"

#include <arpa/inet.h>

#include "cu.h"
#include "vipgate/bgp-msg.h"
#include "../../src/bgp/bgp-int.h"

static uint8_t buf[BGP_MAX_LEN];
static struct bgp_err err;

/* A message from a header type and a body. */
static size_t
msg(uint8_t *out, uint8_t type, const uint8_t *body, size_t n)
{
	memset(out, 0xff, 16);
	out[16] = (uint8_t)((n + 19) >> 8);
	out[17] = (uint8_t)(n + 19);
	out[18] = type;
	memcpy(out + 19, body, n);
	return n + 19;
}

static void
expect_err(uint8_t code, uint8_t sub, const uint8_t *data, size_t dlen)
{
	CU_ASSERT_EQUAL(err.code, code);
	CU_ASSERT_EQUAL(err.subcode, sub);
	CU_ASSERT_EQUAL(err.datalen, dlen);
	if (dlen && err.datalen == dlen)
		CU_ASSERT_EQUAL(memcmp(err.data, data, dlen), 0);
}

static void
t_frame(void)
{
	uint8_t type, m[64];
	size_t n = bgp_keepalive_build(m);

	CU_ASSERT_EQUAL(n, 19);
	CU_ASSERT_EQUAL(bgp_frame(m, n, &type, &err), 19);
	CU_ASSERT_EQUAL(type, BGP_KEEPALIVE);
	CU_ASSERT_EQUAL(bgp_frame(m, 18, &type, &err), 0);	/* need more */
	/* marker */
	m[3] = 0;
	CU_ASSERT_EQUAL(bgp_frame(m, n, &type, &err), -1);
	expect_err(1, 1, NULL, 0);
	m[3] = 0xff;
	/* length 18, 4097 */
	m[16] = 0;
	m[17] = 18;
	CU_ASSERT_EQUAL(bgp_frame(m, n, &type, &err), -1);
	expect_err(1, 2, (const uint8_t[]){ 0, 18 }, 2);
	m[16] = 0x10;
	m[17] = 0x01;
	CU_ASSERT_EQUAL(bgp_frame(m, n, &type, &err), -1);
	expect_err(1, 2, (const uint8_t[]){ 0x10, 0x01 }, 2);
	/* KEEPALIVE of 20 */
	m[16] = 0;
	m[17] = 20;
	CU_ASSERT_EQUAL(bgp_frame(m, n, &type, &err), -1);
	expect_err(1, 2, (const uint8_t[]){ 0, 20 }, 2);
	/* bad type */
	m[17] = 19;
	m[18] = 9;
	CU_ASSERT_EQUAL(bgp_frame(m, n, &type, &err), -1);
	expect_err(1, 3, (const uint8_t[]){ 9 }, 1);
	/* OPEN shorter than 29, UPDATE shorter than 23, NOTIFICATION shorter than 21 */
	n = msg(m, BGP_OPEN, (const uint8_t[]){ 4, 0, 1, 0, 90, 1, 2, 3, 4 }, 9);
	CU_ASSERT_EQUAL(bgp_frame(m, n, &type, &err), -1);
	expect_err(1, 2, (const uint8_t[]){ 0, 28 }, 2);
	n = msg(m, BGP_UPDATE, (const uint8_t[]){ 0, 0, 0 }, 3);
	CU_ASSERT_EQUAL(bgp_frame(m, n, &type, &err), -1);
	expect_err(1, 2, (const uint8_t[]){ 0, 22 }, 2);
	n = msg(m, BGP_NOTIFICATION, (const uint8_t[]){ 6 }, 1);
	CU_ASSERT_EQUAL(bgp_frame(m, n, &type, &err), -1);
	expect_err(1, 2, (const uint8_t[]){ 0, 20 }, 2);
	/* ROUTE-REFRESH of a bad length: RFC 7313 §5, the whole message */
	n = msg(m, BGP_ROUTE_REFRESH, (const uint8_t[]){ 0, 1, 0, 1, 0 }, 5);
	CU_ASSERT_EQUAL(bgp_frame(m, n, &type, &err), -1);
	CU_ASSERT_EQUAL(err.code, 7);
	CU_ASSERT_EQUAL(err.subcode, 1);
	CU_ASSERT_EQUAL(err.datalen, 24);
	n = bgp_rrefresh_build(m, 2, 1);
	CU_ASSERT_EQUAL(bgp_frame(m, n, &type, &err), 23);
}

static void
t_open_roundtrip(void)
{
	struct bgp_open_params p = { 4200000001u, 90, 0x0a000001, 1, 1, 1, 1, 120 };
	struct bgp_open o;
	uint8_t type;
	size_t n = bgp_open_build(buf, &p);

	CU_ASSERT_EQUAL(bgp_frame(buf, n, &type, &err), (long)n);
	CU_ASSERT_EQUAL(type, BGP_OPEN);
	CU_ASSERT_EQUAL(bgp_open_parse(buf + 19, n - 19, &o, &err), 0);
	CU_ASSERT_EQUAL(o.version, 4);
	CU_ASSERT_EQUAL(o.my_as, BGP_AS_TRANS);
	CU_ASSERT(o.has_as4);
	CU_ASSERT_EQUAL(bgp_open_peer_as(&o), 4200000001u);
	CU_ASSERT_EQUAL(o.hold, 90);
	CU_ASSERT_EQUAL(o.bgp_id, 0x0a000001);
	CU_ASSERT(o.mp_v4 && o.mp_v6 && o.route_refresh && o.has_gr);
	CU_ASSERT_EQUAL(o.gr_flags, 0x8);
	CU_ASSERT_EQUAL(o.gr_time, 120);
	CU_ASSERT(o.gr_v4 && o.gr_v6);
	CU_ASSERT_EQUAL(o.gr_v4_flags, 0x80);
	CU_ASSERT_EQUAL(bgp_open_check(&o, 64512, 4200000001u, 0, 1, &err), 0);
	CU_ASSERT_FALSE(o.enh_v4);
	/* RFC 8950: IPv4 unicast with an IPv6 next hop offered and read */
	p.enh_v4 = 1;
	n = bgp_open_build(buf, &p);
	CU_ASSERT_EQUAL(bgp_open_parse(buf + 19, n - 19, &o, &err), 0);
	CU_ASSERT(o.enh_v4);
	{
		const uint8_t enh[] = { 5, 6, 0, 1, 0, 1, 0, 2 };

		CU_ASSERT_PTR_NOT_NULL(memmem(buf, n, enh, sizeof(enh)));
	}
	/* a tuple for another family, and a short one: not IPv4 */
	{
		const uint8_t b[] = { 4, 0xfd, 0xe8, 0, 3, 1, 2, 3, 4, 13, 2, 11,
			5, 9, 0, 2, 0, 1, 0, 2, 0, 1, 0 };

		CU_ASSERT_EQUAL(bgp_open_parse(b, sizeof(b), &o, &err), 0);
		CU_ASSERT_FALSE(o.enh_v4);
	}
	/* 2-octet AS, no MP: IPv4 implied */
	{
		const uint8_t b[] = { 4, 0xfd, 0xe8, 0, 3, 1, 2, 3, 4, 0 };

		CU_ASSERT_EQUAL(bgp_open_parse(b, sizeof(b), &o, &err), 0);
		CU_ASSERT_EQUAL(bgp_open_peer_as(&o), 65000);
		CU_ASSERT(o.mp_v4 && !o.mp_v6 && !o.has_as4);
	}
}

static void
t_open_errors(void)
{
	struct bgp_open o;
	uint8_t b[64];

	/* version 3: data = largest supported version, 2 octets */
	memcpy(b, (const uint8_t[]){ 3, 0xfd, 0xe8, 0, 90, 1, 2, 3, 4, 0 }, 10);
	CU_ASSERT_EQUAL(bgp_open_parse(b, 10, &o, &err), -1);
	expect_err(2, 1, (const uint8_t[]){ 0, 4 }, 2);
	/* hold 1 and 2 */
	b[0] = 4;
	b[4] = 2;
	CU_ASSERT_EQUAL(bgp_open_parse(b, 10, &o, &err), -1);
	expect_err(2, 6, NULL, 0);
	b[4] = 0;		/* 0 is fine */
	CU_ASSERT_EQUAL(bgp_open_parse(b, 10, &o, &err), 0);
	/* identifier 0 */
	memset(b + 5, 0, 4);
	CU_ASSERT_EQUAL(bgp_open_parse(b, 10, &o, &err), -1);
	expect_err(2, 3, NULL, 0);
	b[8] = 1;
	/* unsupported optional parameter (type 1, authentication) */
	memcpy(b + 9, (const uint8_t[]){ 3, 1, 1, 0 }, 4);
	CU_ASSERT_EQUAL(bgp_open_parse(b, 13, &o, &err), -1);
	expect_err(2, 4, NULL, 0);
	/* optional parameters length inconsistent */
	memcpy(b + 9, (const uint8_t[]){ 5, 2, 2, 2, 0 }, 5);
	CU_ASSERT_EQUAL(bgp_open_parse(b, 14, &o, &err), -1);
	expect_err(2, 0, NULL, 0);
	/* a parameter overrunning */
	memcpy(b + 9, (const uint8_t[]){ 4, 2, 9, 2, 0 }, 5);
	CU_ASSERT_EQUAL(bgp_open_parse(b, 14, &o, &err), -1);
	expect_err(2, 0, NULL, 0);
	/* a capability overrunning its parameter */
	memcpy(b + 9, (const uint8_t[]){ 4, 2, 2, 65, 4 }, 5);
	CU_ASSERT_EQUAL(bgp_open_parse(b, 14, &o, &err), -1);
	expect_err(2, 0, NULL, 0);
	/* unknown capability: ignored */
	memcpy(b + 9, (const uint8_t[]){ 4, 2, 2, 99, 0 }, 5);
	CU_ASSERT_EQUAL(bgp_open_parse(b, 14, &o, &err), 0);
	/* bad peer AS: data = the 2-octet AS field */
	CU_ASSERT_EQUAL(bgp_open_check(&o, 64512, 65001, 0, 9, &err), -1);
	expect_err(2, 2, (const uint8_t[]){ 0xfd, 0xe8 }, 2);
	CU_ASSERT_EQUAL(bgp_open_check(&o, 64512, 65000, 0, 9, &err), 0);
	/* dynamic: internal wants the same AS, external another */
	CU_ASSERT_EQUAL(bgp_open_check(&o, 65000, 0, 1, 9, &err), 0);
	CU_ASSERT_EQUAL(bgp_open_check(&o, 65000, 0, 2, 9, &err), -1);
	CU_ASSERT_EQUAL(bgp_open_check(&o, 64512, 0, 1, 9, &err), -1);
	/* iBGP with our own identifier (0.0.0.1 here) */
	CU_ASSERT_EQUAL(bgp_open_check(&o, 65000, 65000, 0, 1, &err), -1);
	expect_err(2, 3, NULL, 0);
	/* AS4 capability inconsistent with the 2-octet field */
	memcpy(b + 9, (const uint8_t[]){ 8, 2, 6, 65, 4, 0, 1, 0, 0 }, 9);
	CU_ASSERT_EQUAL(bgp_open_parse(b, 18, &o, &err), 0);
	CU_ASSERT_EQUAL(bgp_open_check(&o, 64512, 0, 0, 9, &err), -1);
	expect_err(2, 2, (const uint8_t[]){ 0xfd, 0xe8 }, 2);
	/* truncated fixed part */
	CU_ASSERT_EQUAL(bgp_open_parse(b, 5, &o, &err), -1);
	CU_ASSERT_EQUAL(err.code, 1);
	CU_ASSERT_EQUAL(err.subcode, 2);
}

static void
t_notification(void)
{
	struct bgp_notification n;
	uint8_t type;
	size_t len = bgp_cease_build(buf, BGP_CEASE_SHUTDOWN, "maintenance \x01");

	CU_ASSERT_EQUAL(bgp_frame(buf, len, &type, &err), (long)len);
	CU_ASSERT_EQUAL(bgp_notification_parse(buf + 19, len - 19, &n), 0);
	CU_ASSERT_EQUAL(n.code, 6);
	CU_ASSERT_EQUAL(n.subcode, 2);
	CU_ASSERT_EQUAL(n.datalen, 14);
	CU_ASSERT_STRING_EQUAL(n.shutdown_msg, "maintenance ?");
	/* other Cease subcodes carry no message */
	len = bgp_cease_build(buf, BGP_CEASE_COLLISION, "x");
	CU_ASSERT_EQUAL(len, 21);
	/* a length byte beyond the data: no message, no overread */
	{
		const uint8_t b[] = { 6, 4, 200, 'a' };

		CU_ASSERT_EQUAL(bgp_notification_parse(b, sizeof(b), &n), 0);
		CU_ASSERT_STRING_EQUAL(n.shutdown_msg, "");
	}
	CU_ASSERT_STRING_EQUAL(bgp_err_name(6, 7), "Connection Collision Resolution");
	CU_ASSERT_STRING_EQUAL(bgp_err_name(3, 11), "Malformed AS_PATH");
	CU_ASSERT_STRING_EQUAL(bgp_err_name(4, 0), "Hold Timer Expired");
	CU_ASSERT_PTR_NOT_NULL(bgp_err_name(99, 99));
	CU_ASSERT_PTR_NOT_NULL(bgp_err_name(6, 200));
}

static struct bgp_update_info u;

static int
upd(const uint8_t *b, size_t n, int as4, int ibgp)
{
	memset(&err, 0, sizeof(err));
	return bgp_update_parse(b, n, as4, ibgp, &u, &err);
}

static void
t_update_roundtrip(void)
{
	struct bgp_tx_session s = { 0 };
	uint32_t comms[] = { 0xfde80064, 0xFFFFFF01 };
	struct bgp_large_comm lc[] = { { 4200000000u, 1, 2 } };
	struct bgp_tx_attrs a = { 1, 200, comms, 2, lc, 1 };
	struct bgp_prefix p[3];
	size_t n, taken;
	uint8_t type;

	ipaddr_parse("10.0.0.1", &s.nh4);
	ipaddr_parse("2001:db8::1", &s.nh6);
	s.my_as = 64512;
	s.as4 = 1;
	ipaddr_parse("192.0.2.10", &p[0].addr);
	p[0].plen = 32;
	ipaddr_parse("198.51.100.0", &p[1].addr);
	p[1].plen = 24;
	n = bgp_update_build(buf, &s, &a, p, 2, &taken);
	CU_ASSERT_EQUAL(taken, 2);
	CU_ASSERT_EQUAL(bgp_frame(buf, n, &type, &err), (long)n);
	CU_ASSERT_EQUAL(upd(buf + 19, n - 19, 1, 0), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_OK);	/* eBGP: no LOCAL_PREF sent */
	CU_ASSERT_EQUAL(u.nlri_v4, 2);
	/* the AS_PATH is [64512], 4-octet: 40 02 06 02 01 00 00 fc 00 */
	{
		const uint8_t asp[] = { 0x40, 2, 6, 2, 1, 0, 0, 0xfc, 0x00 };

		CU_ASSERT_PTR_NOT_NULL(memmem(buf, n, asp, sizeof(asp)));
	}
	/* iBGP: empty AS_PATH, LOCAL_PREF 200 */
	s.ibgp = 1;
	n = bgp_update_build(buf, &s, &a, p, 2, &taken);
	CU_ASSERT_EQUAL(upd(buf + 19, n - 19, 1, 1), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_OK);
	{
		const uint8_t lp[] = { 0x40, 5, 4, 0, 0, 0, 200 };
		const uint8_t asp[] = { 0x40, 2, 0 };

		CU_ASSERT_PTR_NOT_NULL(memmem(buf, n, lp, sizeof(lp)));
		CU_ASSERT_PTR_NOT_NULL(memmem(buf, n, asp, sizeof(asp)));
	}
	/* IPv6 in MP_REACH with a link-local next hop */
	s.ibgp = 0;
	ipaddr_parse("fe80::1", &s.nh6_ll);
	ipaddr_parse("2001:db8:1::5", &p[2].addr);
	p[2].plen = 128;
	n = bgp_update_build(buf, &s, &a, &p[2], 1, &taken);
	CU_ASSERT_EQUAL(taken, 1);
	CU_ASSERT_EQUAL(upd(buf + 19, n - 19, 1, 0), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_OK);
	CU_ASSERT_EQUAL(u.nlri_v6, 1);
	CU_ASSERT_EQUAL(u.nlri_v4, 0);
	/* RFC 8950: IPv4 in MP_REACH with the IPv6 next hops, no NEXT_HOP */
	s.v4_mp = 1;
	n = bgp_update_build(buf, &s, &a, p, 2, &taken);
	CU_ASSERT_EQUAL(taken, 2);
	CU_ASSERT_EQUAL(upd(buf + 19, n - 19, 1, 0), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_OK);
	CU_ASSERT_EQUAL(u.nlri_v4, 2);
	{
		const uint8_t mpr[] = { 0, 1, 1, 32, 0x20, 0x01, 0x0d, 0xb8 };
		const uint8_t nh[] = { 0x40, 3, 4 };

		CU_ASSERT_PTR_NOT_NULL(memmem(buf, n, mpr, sizeof(mpr)));
		CU_ASSERT_PTR_NULL(memmem(buf, n, nh, sizeof(nh)));
	}
	s.v4_mp = 0;
	/* a 2-octet peer and a 4-octet local AS: AS_TRANS + AS4_PATH */
	s.as4 = 0;
	s.my_as = 4200000001u;
	n = bgp_update_build(buf, &s, &a, p, 1, &taken);
	CU_ASSERT_EQUAL(upd(buf + 19, n - 19, 0, 0), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_OK);
	{
		const uint8_t asp[] = { 0x40, 2, 4, 2, 1, 0x5b, 0xa0 };

		CU_ASSERT_PTR_NOT_NULL(memmem(buf, n, asp, sizeof(asp)));
	}
	/* withdraws, both families */
	n = bgp_withdraw_build(buf, p, 2, &taken);
	CU_ASSERT_EQUAL(taken, 2);
	CU_ASSERT_EQUAL(upd(buf + 19, n - 19, 1, 0), 0);
	CU_ASSERT_EQUAL(u.withdrawn_v4, 2);
	n = bgp_withdraw_build(buf, &p[2], 1, &taken);
	CU_ASSERT_EQUAL(upd(buf + 19, n - 19, 1, 0), 0);
	CU_ASSERT_EQUAL(u.withdrawn_v6, 1);
	CU_ASSERT_EQUAL(u.eor, 0);
	/* End-of-RIB */
	n = bgp_eor_build(buf, AF_INET);
	CU_ASSERT_EQUAL(n, 23);
	CU_ASSERT_EQUAL(upd(buf + 19, n - 19, 1, 0), 0);
	CU_ASSERT(u.eor && u.eor_afi == 1);
	n = bgp_eor_build(buf, AF_INET6);
	CU_ASSERT_EQUAL(n, 29);
	CU_ASSERT_EQUAL(upd(buf + 19, n - 19, 1, 0), 0);
	CU_ASSERT(u.eor && u.eor_afi == 2 && u.eor_safi == 1);
}

static void
t_update_full(void)
{
	/* 5000 /32s split over messages of at most 4096 octets */
	static struct bgp_prefix p[5000];
	struct bgp_tx_session s = { 0 };
	struct bgp_tx_attrs a = { 0 };
	size_t i, done = 0, msgs = 0, taken, n;

	s.my_as = 65000;
	s.as4 = 1;
	ipaddr_parse("10.0.0.1", &s.nh4);
	for (i = 0; i < 5000; i++) {
		p[i].addr.family = AF_INET;
		p[i].addr.a[0] = 10;
		p[i].addr.a[1] = (uint8_t)(i >> 8);
		p[i].addr.a[2] = (uint8_t)i;
		p[i].plen = 32;
	}
	while (done < 5000) {
		n = bgp_update_build(buf, &s, &a, p + done, 5000 - done, &taken);
		CU_ASSERT(n <= BGP_MAX_LEN);
		CU_ASSERT(taken > 0);
		CU_ASSERT_EQUAL(upd(buf + 19, n - 19, 1, 0), 0);
		CU_ASSERT_EQUAL(u.nlri_v4, taken);
		done += taken;
		msgs++;
	}
	CU_ASSERT(msgs >= 5 && msgs <= 7);
	for (done = 0; done < 5000; done += taken) {
		n = bgp_withdraw_build(buf, p + done, 5000 - done, &taken);
		CU_ASSERT(n <= BGP_MAX_LEN);
		CU_ASSERT_EQUAL(upd(buf + 19, n - 19, 1, 0), 0);
		CU_ASSERT_EQUAL(u.withdrawn_v4, taken);
	}
}

/* withdrawn len, withdrawn, attr len, attrs, nlri */
static size_t
mkupd(uint8_t *b, const uint8_t *attrs, size_t alen, const uint8_t *nlri, size_t nlen)
{
	b[0] = 0;
	b[1] = 0;
	b[2] = (uint8_t)(alen >> 8);
	b[3] = (uint8_t)alen;
	memcpy(b + 4, attrs, alen);
	if (nlen)
		memcpy(b + 4 + alen, nlri, nlen);
	return 4 + alen + nlen;
}

static const uint8_t ORIGIN[] = { 0x40, 1, 1, 0 };
static const uint8_t ASPATH[] = { 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9 };
static const uint8_t NH[] = { 0x40, 3, 4, 10, 0, 0, 2 };
static const uint8_t NLRI[] = { 24, 192, 0, 2 };

/* ORIGIN AS_PATH NEXT_HOP + extra, with the NLRI */
static int
upd_with(const uint8_t *extra, size_t elen, int replace_at, size_t replace_len)
{
	uint8_t attrs[512], b[1024];
	size_t n = 0;

	memcpy(attrs + n, ORIGIN, sizeof(ORIGIN));
	n += sizeof(ORIGIN);
	memcpy(attrs + n, ASPATH, sizeof(ASPATH));
	n += sizeof(ASPATH);
	memcpy(attrs + n, NH, sizeof(NH));
	n += sizeof(NH);
	if (replace_at >= 0) {
		/* replace the well-known attribute at that offset */
		size_t off = (size_t)replace_at;

		memmove(attrs + off + elen, attrs + off + replace_len, n - off - replace_len);
		if (elen)
			memcpy(attrs + off, extra, elen);
		n = n - replace_len + elen;
	} else if (elen) {
		memcpy(attrs + n, extra, elen);
		n += elen;
	}
	n = mkupd(b, attrs, n, NLRI, sizeof(NLRI));
	return upd(b, n, 1, 0);
}

static void
t_update_7606(void)
{
	uint8_t b[256];
	size_t n;

	/* a good one */
	CU_ASSERT_EQUAL(upd_with(NULL, 0, -1, 0), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_OK);
	CU_ASSERT_EQUAL(u.nlri_v4, 1);
	/* withdrawn length overruns: session reset, Malformed Attribute List */
	memcpy(b, (const uint8_t[]){ 0, 9, 24, 1, 2, 3 }, 6);
	CU_ASSERT_EQUAL(upd(b, 6, 1, 0), -1);
	expect_err(3, 1, NULL, 0);
	/* total attribute length overruns */
	memcpy(b, (const uint8_t[]){ 0, 0, 0, 9, 0x40, 1, 1, 0 }, 8);
	CU_ASSERT_EQUAL(upd(b, 8, 1, 0), -1);
	expect_err(3, 1, NULL, 0);
	/* prefix length 33 in NLRI / withdrawn: Invalid Network Field */
	n = mkupd(b, ORIGIN, 0, (const uint8_t[]){ 33, 1, 2, 3, 4, 5 }, 6);
	CU_ASSERT_EQUAL(upd(b, n, 1, 0), -1);
	expect_err(3, 10, NULL, 0);
	memcpy(b, (const uint8_t[]){ 0, 2, 24, 1, 0, 0 }, 6);
	CU_ASSERT_EQUAL(upd(b, 6, 1, 0), -1);
	expect_err(3, 10, NULL, 0);
	/* prefix truncated */
	n = mkupd(b, ORIGIN, 0, (const uint8_t[]){ 24, 1, 2 }, 3);
	CU_ASSERT_EQUAL(upd(b, n, 1, 0), -1);
	expect_err(3, 10, NULL, 0);
	/* ORIGIN value 3, length 2, wrong flags: treat-as-withdraw */
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0x40, 1, 1, 3 }, 4, 0, 4), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0x40, 1, 2, 0, 0 }, 5, 0, 4), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0xc0, 1, 1, 0 }, 4, 0, 4), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
	/* AS_PATH: zero-length segment, bad type, overrun */
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0x40, 2, 2, 2, 0 }, 5, 4, 9), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0x40, 2, 6, 7, 1, 0, 0, 0, 1 }, 9, 4, 9), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0x40, 2, 6, 2, 2, 0, 0, 0, 1 }, 9, 4, 9), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
	CU_ASSERT_STRING_EQUAL(u.why, "malformed AS_PATH");
	/* NEXT_HOP of 5 octets */
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0x40, 3, 5, 1, 2, 3, 4, 5 }, 8, 13, 7), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
	/* missing NEXT_HOP (removed) */
	CU_ASSERT_EQUAL(upd_with(NULL, 0, 13, 7), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
	CU_ASSERT_STRING_EQUAL(u.why, "missing well-known attribute");
	/* MED of 3 octets */
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0x80, 4, 3, 0, 0, 1 }, 6, -1, 0), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
	/* LOCAL_PREF on eBGP: discarded */
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0x40, 5, 4, 0, 0, 0, 100 }, 7, -1, 0), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_ATTR_DISCARD);
	CU_ASSERT_EQUAL(u.discarded, 1);
	/* ATOMIC_AGGREGATE with a length, AGGREGATOR of 7: discarded */
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0x40, 6, 1, 0 }, 4, -1, 0), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_ATTR_DISCARD);
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0xc0, 7, 7, 0, 0, 0, 1, 1, 2, 3 }, 10, -1, 0),
	    0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_ATTR_DISCARD);
	/* COMMUNITIES of 5, LARGE of 8: treat-as-withdraw */
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0xc0, 8, 5, 0, 0, 0, 1, 1 }, 8, -1, 0), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0xc0, 32, 8, 0, 0, 0, 1, 0, 0, 0, 1 }, 11,
	    -1, 0), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
	/* duplicate ORIGIN: the second is discarded */
	CU_ASSERT_EQUAL(upd_with(ORIGIN, 4, -1, 0), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_ATTR_DISCARD);
	/* unrecognized well-known attribute: 3/2 with the attribute as data */
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0x40, 99, 1, 7 }, 4, -1, 0), -1);
	expect_err(3, 2, (const uint8_t[]){ 0x40, 99, 1, 7 }, 4);
	/* unknown optional: fine */
	CU_ASSERT_EQUAL(upd_with((const uint8_t[]){ 0xc0, 99, 1, 7 }, 4, -1, 0), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_OK);
	/* an attribute overrunning the list: treat-as-withdraw, NLRI still parsed */
	{
		uint8_t attrs[] = { 0x40, 1, 1, 0, 0x40, 2, 9, 2 };

		n = mkupd(b, attrs, sizeof(attrs), NLRI, sizeof(NLRI));
		CU_ASSERT_EQUAL(upd(b, n, 1, 0), 0);
		CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
		CU_ASSERT_EQUAL(u.nlri_v4, 1);
	}
	/* fewer than 3 octets left for an attribute */
	{
		uint8_t attrs[] = { 0x40, 1, 1, 0, 0x40, 2 };

		n = mkupd(b, attrs, sizeof(attrs), NLRI, sizeof(NLRI));
		CU_ASSERT_EQUAL(upd(b, n, 1, 0), 0);
		CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
	}
	/* MP_REACH twice: reset, Malformed Attribute List */
	{
		uint8_t mp[] = { 0x80, 14, 22, 0, 2, 1, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0,
			0, 0, 0, 0, 0, 0, 0, 1, 0, 0 };

		CU_ASSERT_EQUAL(upd_with(mp, sizeof(mp), -1, 0), 0);
		CU_ASSERT_EQUAL(u.action, BGP_UPD_OK);
		{
			uint8_t two[64];

			memcpy(two, mp, sizeof(mp));
			memcpy(two + sizeof(mp), mp, sizeof(mp));
			CU_ASSERT_EQUAL(upd_with(two, 2 * sizeof(mp), -1, 0), -1);
			expect_err(3, 1, NULL, 0);
		}
		/* next hop length 5: 3/9 with the attribute */
		mp[6] = 5;
		CU_ASSERT_EQUAL(upd_with(mp, sizeof(mp), -1, 0), -1);
		CU_ASSERT_EQUAL(err.code, 3);
		CU_ASSERT_EQUAL(err.subcode, 9);
		CU_ASSERT_EQUAL(err.datalen, sizeof(mp));
		mp[6] = 16;
		/* an IPv6 prefix length of 129 */
		mp[sizeof(mp) - 1] = 129;
		CU_ASSERT_EQUAL(upd_with(mp, sizeof(mp), -1, 0), -1);
		CU_ASSERT_EQUAL(err.subcode, 9);
		/* MP_REACH with the well-known flags */
		mp[sizeof(mp) - 1] = 0;
		mp[0] = 0x40;
		CU_ASSERT_EQUAL(upd_with(mp, sizeof(mp), -1, 0), -1);
		CU_ASSERT_EQUAL(err.subcode, 4);
	}
	/* iBGP without LOCAL_PREF: treat-as-withdraw */
	{
		uint8_t attrs[64];

		memcpy(attrs, ORIGIN, 4);
		memcpy(attrs + 4, (const uint8_t[]){ 0x40, 2, 0 }, 3);
		memcpy(attrs + 7, NH, 7);
		n = mkupd(b, attrs, 14, NLRI, 4);
		CU_ASSERT_EQUAL(upd(b, n, 1, 1), 0);
		CU_ASSERT_EQUAL(u.action, BGP_UPD_TREAT_AS_WITHDRAW);
	}
	/* IPv4 NLRI in MP_REACH: no NEXT_HOP attribute needed (RFC 4760 §3) */
	{
		uint8_t attrs[64];
		const uint8_t mp4[] = { 0x80, 14, 13, 0, 1, 1, 4, 10, 0, 0, 1, 0, 24, 198, 51, 100 };

		memcpy(attrs, ORIGIN, 4);
		memcpy(attrs + 4, ASPATH, sizeof(ASPATH));
		memcpy(attrs + 4 + sizeof(ASPATH), mp4, sizeof(mp4));
		n = mkupd(b, attrs, 4 + sizeof(ASPATH) + sizeof(mp4), NULL, 0);
		CU_ASSERT_EQUAL(upd(b, n, 1, 0), 0);
		CU_ASSERT_EQUAL(u.action, BGP_UPD_OK);
		CU_ASSERT_EQUAL(u.nlri_v4, 1);
	}
	/* withdraw-only message without attributes is fine */
	memcpy(b, (const uint8_t[]){ 0, 4, 24, 192, 0, 2, 0, 0 }, 8);
	CU_ASSERT_EQUAL(upd(b, 8, 1, 0), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_OK);
	CU_ASSERT_EQUAL(u.withdrawn_v4, 1);
}

static void
t_community(void)
{
	uint32_t c;
	struct bgp_large_comm l;

	CU_ASSERT_EQUAL(bgp_community_parse("65000:100", &c, &l), 1);
	CU_ASSERT_EQUAL(c, 0xfde80064u);
	CU_ASSERT_EQUAL(bgp_community_parse("no-export", &c, &l), 1);
	CU_ASSERT_EQUAL(c, 0xFFFFFF01u);
	CU_ASSERT_EQUAL(bgp_community_parse("no-advertise", &c, &l), 1);
	CU_ASSERT_EQUAL(c, 0xFFFFFF02u);
	CU_ASSERT_EQUAL(bgp_community_parse("large:4200000000:1:2", &c, &l), 2);
	CU_ASSERT_EQUAL(l.global, 4200000000u);
	CU_ASSERT_EQUAL(l.local2, 2);
	CU_ASSERT_EQUAL(bgp_community_parse("65536:1", &c, &l), -1);
	CU_ASSERT_EQUAL(bgp_community_parse("1:", &c, &l), -1);
	CU_ASSERT_EQUAL(bgp_community_parse("1:2:3", &c, &l), -1);
	CU_ASSERT_EQUAL(bgp_community_parse("large:1:2", &c, &l), -1);
	CU_ASSERT_EQUAL(bgp_community_parse("large:4294967296:1:2", &c, &l), -1);
	CU_ASSERT_EQUAL(bgp_community_parse("", &c, &l), -1);
	CU_ASSERT_EQUAL(bgp_community_parse(NULL, &c, &l), -1);
}

/* ICMPv6 of the unnumbered peers: what is sent, what teaches a neighbor. */
static void
t_nd(void)
{
	uint8_t b[16];
	const uint8_t reply[] = { 129, 0, 0, 0, 0x76, 0x67, 0, 1 };
	const uint8_t other[] = { 129, 0, 0, 0, 0x12, 0x34, 0, 1 };

	CU_ASSERT_EQUAL(bgp_nd_echo_build(b, 7), 8);
	CU_ASSERT_EQUAL(b[0], 128);
	CU_ASSERT_EQUAL(b[7], 7);
	CU_ASSERT_EQUAL(bgp_nd_ra_build(b), 16);
	CU_ASSERT_EQUAL(b[0], 134);
	CU_ASSERT_EQUAL(b[6] | b[7], 0);	/* router lifetime 0 */
	CU_ASSERT(bgp_nd_learns(b, 16));
	CU_ASSERT_FALSE(bgp_nd_learns(b, 15));	/* a short RA */
	CU_ASSERT(bgp_nd_learns(reply, sizeof(reply)));
	CU_ASSERT_FALSE(bgp_nd_learns(other, sizeof(other)));	/* not our echo */
	CU_ASSERT_FALSE(bgp_nd_learns(reply, 6));
	CU_ASSERT_FALSE(bgp_nd_learns(reply, 0));
}

/* RFC 8326: 65535:0 joins the communities in order, once; iBGP gets LOCAL_PREF 0. */
static void
t_gshut(void)
{
	uint32_t c1[] = { 0xfde80064, 0xffffff01 }, c2[] = { BGP_COMM_GSHUT }, out[4];
	struct bgp_tx_attrs a = { 1, 200, c1, 2, NULL, 0 };
	struct bgp_tx_session s = { 0 };
	struct bgp_prefix p;
	size_t n, taken;

	bgp_attrs_gshut(&a, 0, out);
	CU_ASSERT_EQUAL(a.ncomms, 3);
	CU_ASSERT_EQUAL(a.comms[0], 0xfde80064);
	CU_ASSERT_EQUAL(a.comms[1], BGP_COMM_GSHUT);
	CU_ASSERT_EQUAL(a.comms[2], 0xffffff01);
	CU_ASSERT_EQUAL(a.local_pref, 200);	/* eBGP: left as it was (not sent) */
	/* already there: not twice */
	a = (struct bgp_tx_attrs){ 0, 0, c2, 1, NULL, 0 };
	bgp_attrs_gshut(&a, 1, out);
	CU_ASSERT_EQUAL(a.ncomms, 1);
	CU_ASSERT_EQUAL(a.comms[0], BGP_COMM_GSHUT);
	CU_ASSERT(a.has_local_pref);
	CU_ASSERT_EQUAL(a.local_pref, 0);
	/* none before; after the highest: last */
	a = (struct bgp_tx_attrs){ 0, 0, NULL, 0, NULL, 0 };
	bgp_attrs_gshut(&a, 0, out);
	CU_ASSERT_EQUAL(a.ncomms, 1);
	CU_ASSERT_EQUAL(a.comms[0], BGP_COMM_GSHUT);
	a = (struct bgp_tx_attrs){ 0, 0, c1, 1, NULL, 0 };
	bgp_attrs_gshut(&a, 0, out);
	CU_ASSERT_EQUAL(a.ncomms, 2);
	CU_ASSERT_EQUAL(a.comms[1], BGP_COMM_GSHUT);
	/* on the wire: COMMUNITIES ff ff 00 00, LOCAL_PREF 0 */
	a = (struct bgp_tx_attrs){ 1, 200, c1, 2, NULL, 0 };
	bgp_attrs_gshut(&a, 1, out);
	ipaddr_parse("10.0.0.1", &s.nh4);
	s.my_as = 64512;
	s.as4 = 1;
	s.ibgp = 1;
	ipaddr_parse("192.0.2.10", &p.addr);
	p.plen = 32;
	n = bgp_update_build(buf, &s, &a, &p, 1, &taken);
	CU_ASSERT_EQUAL(taken, 1);
	CU_ASSERT_EQUAL(upd(buf + 19, n - 19, 1, 1), 0);
	CU_ASSERT_EQUAL(u.action, BGP_UPD_OK);
	{
		const uint8_t lp[] = { 0x40, 5, 4, 0, 0, 0, 0 };
		const uint8_t gs[] = { 0xfd, 0xe8, 0, 0x64, 0xff, 0xff, 0, 0, 0xff, 0xff, 0xff, 1 };

		CU_ASSERT_PTR_NOT_NULL(memmem(buf, n, lp, sizeof(lp)));
		CU_ASSERT_PTR_NOT_NULL(memmem(buf, n, gs, sizeof(gs)));
	}
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "frame: header checks", t_frame },
		{ "OPEN: round trip, capabilities", t_open_roundtrip },
		{ "OPEN: every §6.2 error", t_open_errors },
		{ "NOTIFICATION: RFC 9003 message, names", t_notification },
		{ "UPDATE: round trips, iBGP/eBGP, IPv6, AS_TRANS, EoR", t_update_roundtrip },
		{ "UPDATE: packing 5000 prefixes", t_update_full },
		{ "UPDATE: RFC 7606 error handling", t_update_7606 },
		{ "communities: MetalLB syntax", t_community },
		{ "GRACEFUL_SHUTDOWN: community, iBGP LOCAL_PREF 0", t_gshut },
		{ "ICMPv6 of unnumbered peers: echo, RA", t_nd },
		{ NULL, NULL },
	};

	return cu_run("bgp_msg", tests);
}
