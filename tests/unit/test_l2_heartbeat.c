/* Heartbeats: codec, HMAC rejection, replay window. */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cu.h"
#include "vipgate/l2.h"

static const uint8_t KEY[] = "0123456789abcdef0123456789abcdef\n";
#define KEYLEN (sizeof(KEY) - 1)

static size_t
make(uint8_t *buf, size_t cap, uint8_t type, uint64_t inc, uint64_t seq, const char *node)
{
	struct l2_hb hb;

	memset(&hb, 0, sizeof(hb));
	hb.type = type;
	hb.incarnation = inc;
	hb.seq = seq;
	hb.interval_ms = 100;
	snprintf(hb.node, sizeof(hb.node), "%s", node);
	return l2_hb_build(buf, cap, &hb, KEY, KEYLEN);
}

static void
test_roundtrip(void)
{
	uint8_t buf[L2_HB_MAXLEN];
	struct l2_hb hb;
	size_t n;

	n = make(buf, sizeof(buf), L2_HB_ALIVE, 1700000000000ULL, 42, "node-b");
	CU_ASSERT_EQUAL(n, 29 + 6 + 32);
	CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &hb), (int)n);
	CU_ASSERT_EQUAL(hb.type, L2_HB_ALIVE);
	CU_ASSERT_EQUAL(hb.incarnation, 1700000000000ULL);
	CU_ASSERT_EQUAL(hb.seq, 42);
	CU_ASSERT_EQUAL(hb.interval_ms, 100);
	CU_ASSERT_STRING_EQUAL(hb.node, "node-b");
	CU_ASSERT(memcmp(buf, "VGL2\x01\x01", 6) == 0);

	n = make(buf, sizeof(buf), L2_HB_LEAVE, 1, 2, "n");
	CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &hb), (int)n);
	CU_ASSERT_EQUAL(hb.type, L2_HB_LEAVE);

	/* the longest name fits (L2_HB_MAXLEN leaves room for the TLVs too);
	 * an empty name is not built */
	{
		char name[L2_HB_MAXNAME + 1];

		memset(name, 'x', L2_HB_MAXNAME);
		name[L2_HB_MAXNAME] = 0;
		n = make(buf, sizeof(buf), L2_HB_ALIVE, 1, 1, name);
		CU_ASSERT_EQUAL(n, 29 + L2_HB_MAXNAME + L2_HB_HMACLEN);
		CU_ASSERT(n <= L2_HB_MAXLEN);
		CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &hb), (int)n);
		CU_ASSERT_EQUAL(strlen(hb.node), L2_HB_MAXNAME);
		CU_ASSERT_EQUAL(make(buf, n - 1, L2_HB_ALIVE, 1, 1, name), 0);
	}
	CU_ASSERT_EQUAL(make(buf, sizeof(buf), L2_HB_ALIVE, 1, 1, ""), 0);
}

static void
test_rejects(void)
{
	uint8_t good[L2_HB_MAXLEN], buf[L2_HB_MAXLEN + 8];
	struct l2_hb hb;
	size_t n, i;

	n = make(good, sizeof(good), L2_HB_ALIVE, 7, 9, "node-b");
	/* any flipped bit fails: magic and version first, then the HMAC */
	for (i = 0; i < n; i++) {
		int r;

		memcpy(buf, good, n);
		buf[i] ^= 0x01;
		r = l2_hb_parse(buf, n, KEY, KEYLEN, &hb);
		if (i < 4) {
			CU_ASSERT_EQUAL(r, L2_E_MAGIC);
		} else if (i == 4) {
			CU_ASSERT_EQUAL(r, L2_E_VERSION);
		} else if (i == 28) {	/* the name length */
			CU_ASSERT(r == L2_E_SHORT || r == L2_E_TRAILING);
		} else {
			CU_ASSERT_EQUAL(r, L2_E_HMAC);
		}
	}
	/* a different key */
	CU_ASSERT_EQUAL(l2_hb_parse(good, n, (const uint8_t *)"other", 5, &hb), L2_E_HMAC);
	/* the key file's trailing newline is part of the key */
	CU_ASSERT_EQUAL(l2_hb_parse(good, n, KEY, KEYLEN - 1, &hb), L2_E_HMAC);
	/* no key: nothing authenticates */
	CU_ASSERT_EQUAL(l2_hb_parse(good, n, KEY, 0, &hb), L2_E_HMAC);
	/* truncations and trailing bytes */
	for (i = 0; i < n; i++)
		CU_ASSERT(l2_hb_parse(good, i, KEY, KEYLEN, &hb) < 0);
	memcpy(buf, good, n);
	buf[n] = 0;
	CU_ASSERT_EQUAL(l2_hb_parse(buf, n + 1, KEY, KEYLEN, &hb), L2_E_TRAILING);
	/* authenticated but unknown type */
	n = make(buf, sizeof(buf), 9, 1, 1, "node-b");
	CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &hb), L2_E_TYPE);
}

static void
test_replay(void)
{
	struct l2_replay r;
	uint64_t s;

	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(l2_replay_check(&r, 100, 10), 0);
	CU_ASSERT_EQUAL(l2_replay_check(&r, 100, 10), -1);	/* the same again */
	CU_ASSERT_EQUAL(l2_replay_check(&r, 100, 12), 0);
	CU_ASSERT_EQUAL(l2_replay_check(&r, 100, 11), 0);	/* late but new */
	CU_ASSERT_EQUAL(l2_replay_check(&r, 100, 11), -1);
	CU_ASSERT_EQUAL(l2_replay_check(&r, 100, 9), 0);
	CU_ASSERT_EQUAL(l2_replay_check(&r, 100, 12 + L2_REPLAY_WINDOW - 1), 0);
	CU_ASSERT_EQUAL(l2_replay_check(&r, 100, 12), -1);	/* seen, still in the window */
	/* older than the window */
	CU_ASSERT_EQUAL(l2_replay_check(&r, 100, 5), -1);
	/* a restart: a higher incarnation resets, a lower one is stale */
	CU_ASSERT_EQUAL(l2_replay_check(&r, 200, 1), 0);
	CU_ASSERT_EQUAL(l2_replay_check(&r, 100, 1000), -1);
	CU_ASSERT_EQUAL(l2_replay_check(&r, 200, 1), -1);
	/* a big jump clears the window */
	CU_ASSERT_EQUAL(l2_replay_check(&r, 200, 1000), 0);
	CU_ASSERT_EQUAL(l2_replay_check(&r, 200, 999), 0);
	for (s = 1001; s < 1200; s++)
		CU_ASSERT_EQUAL(l2_replay_check(&r, 200, s), 0);
	CU_ASSERT_EQUAL(l2_replay_check(&r, 200, 1150), -1);
}

static struct l2_hb
hb(uint8_t type, uint64_t inc, uint64_t seq, const char *node, uint32_t iv)
{
	struct l2_hb h;

	memset(&h, 0, sizeof(h));
	h.type = type;
	h.incarnation = inc;
	h.seq = seq;
	h.interval_ms = iv;
	snprintf(h.node, sizeof(h.node), "%s", node);
	return h;
}

/* The peer's liveness, driven by events with their time: no clock. */
static void
test_peer_liveness(void)
{
	struct l2_peer_state p;
	struct l2_hb h;

	memset(&p, 0, sizeof(p));
	CU_ASSERT_EQUAL(l2_peer_tick(&p, 100, 0), L2_PEER_NONE);	/* never heard */
	h = hb(L2_HB_ALIVE, 10, 1, "node-b", 100);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1000), L2_PEER_ALIVE);
	CU_ASSERT_STRING_EQUAL(p.node, "node-b");
	h = hb(L2_HB_ALIVE, 10, 2, "node-b", 100);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1100), L2_PEER_NONE);
	/* the same message again changes nothing, not even the time heard */
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1400), L2_PEER_REPLAY);
	CU_ASSERT_EQUAL(p.last, 1100);
	/* dead at exactly 5 intervals of silence, not a millisecond before */
	CU_ASSERT_EQUAL(l2_peer_deadline(&p, 100), 1600);
	CU_ASSERT_EQUAL(l2_peer_tick(&p, 100, 1599), L2_PEER_NONE);
	CU_ASSERT_EQUAL(l2_peer_tick(&p, 100, 1600), L2_PEER_DEAD);
	CU_ASSERT(!p.alive);
	CU_ASSERT_EQUAL(l2_peer_tick(&p, 100, 1700), L2_PEER_NONE);
	/* back: a new incarnation after a restart */
	h = hb(L2_HB_ALIVE, 20, 1, "node-b", 100);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 2000), L2_PEER_ALIVE);
	/* a slower peer is judged by its own interval, a faster by ours */
	h = hb(L2_HB_ALIVE, 20, 2, "node-b", 300);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 2100), L2_PEER_NONE);
	CU_ASSERT_EQUAL(l2_peer_deadline(&p, 100), 2100 + 1500);
	h = hb(L2_HB_ALIVE, 20, 3, "node-b", 50);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 2200), L2_PEER_NONE);
	CU_ASSERT_EQUAL(l2_peer_deadline(&p, 100), 2200 + 500);
	/* leave: dead at once; a replayed leave or an old life's alive is dropped */
	h = hb(L2_HB_LEAVE, 20, 4, "node-b", 100);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 2300), L2_PEER_LEFT);
	CU_ASSERT(!p.alive);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 2301), L2_PEER_REPLAY);
	h = hb(L2_HB_ALIVE, 10, 99, "node-b", 100);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 2400), L2_PEER_REPLAY);
	CU_ASSERT(!p.alive);
	/* another name at the same address */
	h = hb(L2_HB_ALIVE, 30, 1, "node-b", 100);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 3000), L2_PEER_ALIVE);
	h = hb(L2_HB_ALIVE, 30, 2, "node-x", 100);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 3100), L2_PEER_RENAMED);
	CU_ASSERT_STRING_EQUAL(p.node, "node-x");
}

/* The gateway flag: carried, authenticated, and an event when it changes. */
static void
test_gateway_flag(void)
{
	uint8_t buf[L2_HB_MAXLEN];
	struct l2_peer_state p;
	struct l2_hb h, out;
	size_t n;

	memset(&h, 0, sizeof(h));
	h.type = L2_HB_ALIVE;
	h.incarnation = 5;
	h.seq = 1;
	h.interval_ms = 50;
	h.flags = L2_HB_F_GW_DOWN;
	snprintf(h.node, sizeof(h.node), "node-b");
	n = l2_hb_build(buf, sizeof(buf), &h, KEY, KEYLEN);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), (int)n);
	CU_ASSERT_EQUAL(out.flags, L2_HB_F_GW_DOWN);
	buf[6] ^= 0xff;		/* the flags are under the HMAC */
	CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), L2_E_HMAC);

	memset(&p, 0, sizeof(p));
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1000), L2_PEER_ALIVE);
	CU_ASSERT(p.gw_down);
	h.seq = 2;
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1050), L2_PEER_NONE);
	h.seq = 3;
	h.flags = 0;
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1100), L2_PEER_GATEWAY);
	CU_ASSERT(!p.gw_down);
	h.seq = 4;
	h.flags = L2_HB_F_GW_DOWN | 0x8000;	/* unknown bits: ignored */
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1150), L2_PEER_GATEWAY);
	CU_ASSERT(p.gw_down);
}

/* A heartbeat naming deployments (L2_HB_F_EXT, L2_HB_T_GW_DEPS). */
static struct l2_hb
ext_hb(uint64_t seq, const char *const *deps, size_t ndeps)
{
	struct l2_hb h;
	size_t i;

	memset(&h, 0, sizeof(h));
	h.type = L2_HB_ALIVE;
	h.incarnation = 5;
	h.seq = seq;
	h.interval_ms = 50;
	h.flags = L2_HB_F_EXT_OK | L2_HB_F_GW_DOWN | L2_HB_F_EXT;
	snprintf(h.node, sizeof(h.node), "node-b");
	for (i = 0; i < ndeps; i++)
		snprintf(h.deps[i], sizeof(h.deps[i]), "%s", deps[i]);
	h.ndeps = ndeps;
	return h;
}

/* Hand-made: the fixed part, then raw TLV bytes, then the HMAC. */
static size_t
raw_ext(uint8_t *buf, const uint8_t *tlv, size_t ntlv)
{
	static const uint8_t head[] = { 'V', 'G', 'L', '2', 1, L2_HB_ALIVE,
	    0, L2_HB_F_GW_DOWN | L2_HB_F_EXT, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1,
	    0, 0, 0, 50, 6, 'n', 'o', 'd', 'e', '-', 'b' };
	unsigned int mdlen = 0;

	memcpy(buf, head, sizeof(head));
	memcpy(buf + sizeof(head), tlv, ntlv);
	HMAC(EVP_sha256(), KEY, (int)KEYLEN, buf, sizeof(head) + ntlv,
	    buf + sizeof(head) + ntlv, &mdlen);
	return sizeof(head) + ntlv + mdlen;
}

/*
 * The deployments that cannot serve: carried in a TLV only with
 * L2_HB_F_EXT, checked, and narrowing the gateway flag; without a list the
 * flag means every deployment, as an older speaker sends it.
 */
static void
test_gateway_deps(void)
{
	static const char *two[] = { "internal", "edge" };
	static const char *one[] = { "internal" };
	uint8_t buf[L2_HB_MAXLEN + 64];
	struct l2_peer_state p;
	struct l2_hb h, out;
	size_t n, i;

	h = ext_hb(1, two, 2);
	n = l2_hb_build(buf, sizeof(buf), &h, KEY, KEYLEN);
	CU_ASSERT_EQUAL_FATAL(n, 29 + 6 + 3 + (1 + 8) + (1 + 4) + 32);
	CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), (int)n);
	CU_ASSERT(out.has_deps);
	CU_ASSERT_EQUAL(out.ndeps, 2);
	CU_ASSERT_STRING_EQUAL(out.deps[0], "internal");
	CU_ASSERT_STRING_EQUAL(out.deps[1], "edge");
	CU_ASSERT_STRING_EQUAL(out.node, "node-b");
	/* under the HMAC, and what an older speaker reads as trailing bytes */
	buf[29 + 6 + 4] ^= 1;
	CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), L2_E_HMAC);
	buf[29 + 6 + 4] ^= 1;
	buf[7] &= (uint8_t)~L2_HB_F_EXT;
	CU_ASSERT(l2_hb_parse(buf, n, KEY, KEYLEN, &out) < 0);
	/* a list without L2_HB_F_EXT, too many names, a name too long: not built */
	h.flags &= (uint16_t)~L2_HB_F_EXT;
	CU_ASSERT_EQUAL(l2_hb_build(buf, sizeof(buf), &h, KEY, KEYLEN), 0);
	h = ext_hb(1, two, 2);
	h.ndeps = L2_HB_MAXDEPS + 1;
	CU_ASSERT_EQUAL(l2_hb_build(buf, sizeof(buf), &h, KEY, KEYLEN), 0);
	h = ext_hb(1, two, 2);
	memset(h.deps[1], 'x', sizeof(h.deps[1]));
	CU_ASSERT_EQUAL(l2_hb_build(buf, sizeof(buf), &h, KEY, KEYLEN), 0);
	/* the most names, each the longest, fit L2_HB_MAXLEN with the longest node name */
	h = ext_hb(1, NULL, 0);
	memset(h.node, 'n', L2_HB_MAXNAME);
	for (i = 0; i < L2_HB_MAXDEPS; i++) {
		memset(h.deps[i], 'a' + (int)(i % 26), L2_HB_MAXDEPNAME);
		h.deps[i][0] = (char)('a' + (int)i);
	}
	h.ndeps = L2_HB_MAXDEPS;
	n = l2_hb_build(buf, L2_HB_MAXLEN, &h, KEY, KEYLEN);
	CU_ASSERT_EQUAL(n, L2_HB_MAXLEN);
	CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), (int)n);
	CU_ASSERT_EQUAL(out.ndeps, L2_HB_MAXDEPS);
	CU_ASSERT_EQUAL(l2_hb_build(buf, L2_HB_MAXLEN - 1, &h, KEY, KEYLEN), 0);
	/* L2_HB_F_EXT and no TLV: the plain message */
	h = ext_hb(1, NULL, 0);
	n = l2_hb_build(buf, sizeof(buf), &h, KEY, KEYLEN);
	CU_ASSERT_EQUAL(n, 29 + 6 + 32);
	CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), (int)n);
	CU_ASSERT(!out.has_deps);

	/* hand-made TLVs: an unknown type is skipped; bad ones rejected */
	{
		static const uint8_t unknown[] = { 9, 0, 2, 'x', 'y', L2_HB_T_GW_DEPS, 0, 2, 1, 'a' };
		static const uint8_t past[] = { L2_HB_T_GW_DEPS, 0, 9, 1, 'a' };
		static const uint8_t name_past[] = { L2_HB_T_GW_DEPS, 0, 2, 5, 'a' };
		static const uint8_t empty_name[] = { L2_HB_T_GW_DEPS, 0, 1, 0 };
		static const uint8_t nul[] = { L2_HB_T_GW_DEPS, 0, 3, 2, 'a', 0 };
		static const uint8_t twice[] = { L2_HB_T_GW_DEPS, 0, 2, 1, 'a',
		    L2_HB_T_GW_DEPS, 0, 2, 1, 'b' };
		static const uint8_t short_hdr[] = { L2_HB_T_GW_DEPS, 0 };
		static const uint8_t none[] = { L2_HB_T_GW_DEPS, 0, 0 };

		n = raw_ext(buf, unknown, sizeof(unknown));
		CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), (int)n);
		CU_ASSERT_EQUAL(out.ndeps, 1);
		CU_ASSERT_STRING_EQUAL(out.deps[0], "a");
		n = raw_ext(buf, past, sizeof(past));
		CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), L2_E_TLV);
		n = raw_ext(buf, name_past, sizeof(name_past));
		CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), L2_E_TLV);
		n = raw_ext(buf, empty_name, sizeof(empty_name));
		CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), L2_E_TLV);
		n = raw_ext(buf, nul, sizeof(nul));
		CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), L2_E_TLV);
		n = raw_ext(buf, twice, sizeof(twice));
		CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), L2_E_TLV);
		n = raw_ext(buf, short_hdr, sizeof(short_hdr));
		CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), L2_E_TLV);
		/* a list of none: the flag alone, every deployment */
		n = raw_ext(buf, none, sizeof(none));
		CU_ASSERT_EQUAL(l2_hb_parse(buf, n, KEY, KEYLEN, &out), (int)n);
		memset(&p, 0, sizeof(p));
		CU_ASSERT_EQUAL(l2_peer_heard(&p, &out, 1000), L2_PEER_ALIVE);
		CU_ASSERT(p.gw_down);
		CU_ASSERT_EQUAL(p.ngw_deps, 0);
		CU_ASSERT(!p.ext_ok);
	}

	/* the peer's state: the list, sorted, and each change an event */
	memset(&p, 0, sizeof(p));
	h = ext_hb(1, two, 2);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1000), L2_PEER_ALIVE);
	CU_ASSERT(p.gw_down);
	CU_ASSERT(p.ext_ok);
	CU_ASSERT_EQUAL(p.ngw_deps, 2);
	CU_ASSERT_STRING_EQUAL(p.gw_deps[0], "edge");
	CU_ASSERT_STRING_EQUAL(p.gw_deps[1], "internal");
	h = ext_hb(2, (const char *[]){ "internal", "edge" }, 2);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1050), L2_PEER_NONE);
	h = ext_hb(3, one, 1);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1100), L2_PEER_GATEWAY);
	CU_ASSERT_EQUAL(p.ngw_deps, 1);
	/* the flag without the list (an older speaker, or all of them down) */
	h = ext_hb(4, NULL, 0);
	h.flags = L2_HB_F_GW_DOWN;
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1150), L2_PEER_GATEWAY);
	CU_ASSERT(p.gw_down);
	CU_ASSERT_EQUAL(p.ngw_deps, 0);
	CU_ASSERT(!p.ext_ok);
	/* a list without the flag means nothing */
	h = ext_hb(5, one, 1);
	h.flags = L2_HB_F_EXT_OK | L2_HB_F_EXT;
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1200), L2_PEER_GATEWAY);
	CU_ASSERT(!p.gw_down);
	CU_ASSERT_EQUAL(p.ngw_deps, 0);
	/* the same name twice counts once */
	h = ext_hb(6, (const char *[]){ "internal", "internal" }, 2);
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1250), L2_PEER_GATEWAY);
	CU_ASSERT_EQUAL(p.ngw_deps, 1);
	/* a list without the flag, heard twice: the second is no change */
	h = ext_hb(7, one, 1);
	h.flags = L2_HB_F_EXT_OK | L2_HB_F_EXT;
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1300), L2_PEER_GATEWAY);
	h = ext_hb(8, one, 1);
	h.flags = L2_HB_F_EXT_OK | L2_HB_F_EXT;
	CU_ASSERT_EQUAL(l2_peer_heard(&p, &h, 1350), L2_PEER_NONE);
	CU_ASSERT_EQUAL(p.ngw_deps, 0);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "heartbeat round trip", test_roundtrip },
		{ "gateway flag: carried, changes are events", test_gateway_flag },
		{ "gateway deployments: TLV carried, checked, narrowing the flag", test_gateway_deps },
		{ "heartbeat rejections (HMAC, truncation, type)", test_rejects },
		{ "replay window and incarnations", test_replay },
		{ "peer liveness: alive, dead after 5 intervals, leave, restart", test_peer_liveness },
		{ NULL, NULL },
	};

	return cu_run("l2 heartbeat", tests);
}
