/*
 * Speaker heartbeats: one UDP datagram every interval to every peer.
 *
 *   "VGL2" | version 1 | type | flags (u16) | incarnation (u64) | seq (u64) |
 *   interval_ms (u32) | name length (u8) | name | [TLVs] | HMAC-SHA256 (32)
 *
 * The HMAC covers every byte before it. The incarnation is the sender's
 * wall clock in ms at start, so a restart moves it forward and anything
 * recorded from an earlier life is stale; the sequence number grows by one
 * a message within an incarnation. (A node restarted with its clock stepped
 * back stays unheard until its peers restart: accepting a lower incarnation
 * would let old captured messages raise a dead node.) Pure: no socket, no
 * clock.
 *
 * TLVs (type u8, length u16, value) are there only with L2_HB_F_EXT, which
 * a speaker sends only to a peer whose heartbeats carry L2_HB_F_EXT_OK: a
 * speaker from before them reads bytes after the name as trailing and drops
 * the whole heartbeat. Such a peer gets L2_HB_F_GW_DOWN alone, which it
 * reads, as it always did, as "no deployment of that gateway can serve".
 * L2_HB_T_GW_DEPS narrows that flag to the deployments it names.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "vipgate/l2.h"
#include "vipgate/wire.h"

#define HB_MAGIC	"VGL2"
#define HB_VERSION	1
#define HB_FIXED	(4 + 1 + 1 + 2 + 8 + 8 + 4 + 1)

static int
hmac(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t len,
    uint8_t out[L2_HB_HMACLEN])
{
	unsigned int mdlen = 0;

	if (keylen == 0 || HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &mdlen) == NULL ||
	    mdlen != L2_HB_HMACLEN)
		return -1;
	return 0;
}

size_t
l2_hb_build(uint8_t *buf, size_t cap, const struct l2_hb *hb, const uint8_t *key,
    size_t keylen)
{
	size_t nlen = strnlen(hb->node, sizeof(hb->node)), i, at;
	uint8_t mac[L2_HB_HMACLEN];
	struct wire_wr w;

	if (nlen == 0 || nlen > L2_HB_MAXNAME)
		return 0;
	if (hb->ndeps > L2_HB_MAXDEPS || (hb->ndeps && !(hb->flags & L2_HB_F_EXT)))
		return 0;
	wire_wr_init(&w, buf, cap);
	wire_put_bytes(&w, HB_MAGIC, 4);
	wire_put_u8(&w, HB_VERSION);
	wire_put_u8(&w, hb->type);
	wire_put_u16(&w, hb->flags);
	wire_put_u64(&w, hb->incarnation);
	wire_put_u64(&w, hb->seq);
	wire_put_u32(&w, hb->interval_ms);
	wire_put_u8(&w, (uint8_t)nlen);
	wire_put_bytes(&w, hb->node, nlen);
	if (hb->ndeps) {
		wire_put_u8(&w, L2_HB_T_GW_DEPS);
		at = wire_reserve(&w, 2);
		for (i = 0; i < hb->ndeps; i++) {
			size_t dl = strnlen(hb->deps[i], sizeof(hb->deps[i]));

			if (dl == 0 || dl > L2_HB_MAXDEPNAME)
				return 0;
			wire_put_u8(&w, (uint8_t)dl);
			wire_put_bytes(&w, hb->deps[i], dl);
		}
		wire_patch_len16(&w, at);
	}
	if (w.overflow || cap - w.len < L2_HB_HMACLEN)
		return 0;
	if (hmac(key, keylen, buf, w.len, mac) == -1)
		return 0;
	wire_put_bytes(&w, mac, L2_HB_HMACLEN);
	return w.overflow ? 0 : w.len;
}

/* L2_HB_T_GW_DEPS's value: names, each non-empty, without NUL, at most L2_HB_MAXDEPS. */
static int
parse_deps(struct wire_rd *v, struct l2_hb *hb)
{
	if (hb->has_deps)
		return L2_E_TLV;	/* twice */
	hb->has_deps = 1;
	while (wire_left(v) > 0) {
		size_t dl = wire_get_u8(v);
		const uint8_t *d = wire_get_ptr(v, dl);

		if (d == NULL || dl == 0 || dl > L2_HB_MAXDEPNAME || memchr(d, 0, dl) != NULL ||
		    hb->ndeps == L2_HB_MAXDEPS)
			return L2_E_TLV;
		memcpy(hb->deps[hb->ndeps], d, dl);
		hb->deps[hb->ndeps++][dl] = '\0';
	}
	return 0;
}

static int
parse_tlvs(struct wire_rd *c, struct l2_hb *hb)
{
	while (wire_left(c) > 0) {
		struct wire_rd v;
		uint8_t t = wire_get_u8(c);
		uint16_t l = wire_get_u16(c);
		int r;

		wire_get_sub(c, l, &v);
		if (c->err || v.err)
			return L2_E_TLV;
		if (t == L2_HB_T_GW_DEPS && (r = parse_deps(&v, hb)) < 0)
			return r;
	}
	return 0;
}

int
l2_hb_parse(const uint8_t *buf, size_t len, const uint8_t *key, size_t keylen,
    struct l2_hb *hb)
{
	struct wire_rd c, tl;
	uint8_t mac[L2_HB_HMACLEN];
	const uint8_t *magic, *name, *tag;
	size_t nlen, ntlv = 0;
	uint8_t ver;
	int r;

	wire_rd_init(&c, buf, len);
	memset(hb, 0, sizeof(*hb));
	if ((magic = wire_get_ptr(&c, 4)) == NULL)
		return L2_E_SHORT;
	if (memcmp(magic, HB_MAGIC, 4) != 0)
		return L2_E_MAGIC;
	ver = wire_get_u8(&c);
	hb->type = wire_get_u8(&c);
	hb->flags = wire_get_u16(&c);	/* reserved before: unknown bits are ignored */
	hb->incarnation = wire_get_u64(&c);
	hb->seq = wire_get_u64(&c);
	hb->interval_ms = wire_get_u32(&c);
	nlen = wire_get_u8(&c);
	if (c.err)
		return L2_E_SHORT;
	if (ver != HB_VERSION)
		return L2_E_VERSION;
	name = wire_get_ptr(&c, nlen);
	if (c.err)
		return L2_E_SHORT;
	/* the TLVs: what the HMAC leaves after the name */
	if ((hb->flags & L2_HB_F_EXT) && wire_left(&c) > L2_HB_HMACLEN)
		ntlv = wire_left(&c) - L2_HB_HMACLEN;
	wire_get_sub(&c, ntlv, &tl);
	tag = wire_get_ptr(&c, L2_HB_HMACLEN);
	if (c.err)
		return L2_E_SHORT;
	if (wire_left(&c) > 0)
		return L2_E_TRAILING;
	/* authenticate before believing anything else in it */
	if (hmac(key, keylen, buf, (size_t)(tag - buf), mac) == -1 ||
	    CRYPTO_memcmp(mac, tag, L2_HB_HMACLEN) != 0)
		return L2_E_HMAC;
	if (hb->type != L2_HB_ALIVE && hb->type != L2_HB_LEAVE)
		return L2_E_TYPE;
	if (nlen == 0 || memchr(name, 0, nlen) != NULL)
		return L2_E_NAME;
	if ((r = parse_tlvs(&tl, hb)) < 0)
		return r;
	memcpy(hb->node, name, nlen);
	hb->node[nlen] = '\0';
	return (int)len;
}

/* RFC 4303 3.4.3's sliding window, keyed by incarnation first. */
int
l2_replay_check(struct l2_replay *r, uint64_t inc, uint64_t seq)
{
	uint64_t d;

	if (!r->init || inc > r->incarnation) {
		r->init = 1;
		r->incarnation = inc;
		r->top = seq;
		r->bitmap = 1;
		return 0;
	}
	if (inc < r->incarnation)
		return -1;
	if (seq > r->top) {
		d = seq - r->top;
		r->bitmap = d >= L2_REPLAY_WINDOW ? 1 : (r->bitmap << d) | 1;
		r->top = seq;
		return 0;
	}
	d = r->top - seq;
	if (d >= L2_REPLAY_WINDOW || (r->bitmap >> d) & 1)
		return -1;
	r->bitmap |= (uint64_t)1 << d;
	return 0;
}

static int
cmp_dep(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * A peer's gateway flag and the deployments its heartbeat names (hb NULL,
 * or no list: all of them); whether that changed.
 */
static int
peer_gw_set(struct l2_peer_state *p, int down, const struct l2_hb *hb)
{
	char deps[L2_HB_MAXDEPS][L2_HB_MAXDEPNAME + 1];
	size_t n = 0, i, j;
	int changed;

	memset(deps, 0, sizeof(deps));
	for (i = 0; hb && i < hb->ndeps; i++) {
		for (j = 0; j < n && strcmp(deps[j], hb->deps[i]) != 0; j++)
			;
		if (j == n)
			memcpy(deps[n++], hb->deps[i], sizeof(deps[0]));
	}
	if (!down)
		n = 0;		/* a list without the flag narrows nothing */
	if (n > 1)
		qsort(deps, n, sizeof(deps[0]), cmp_dep);
	changed = down != p->gw_down || n != p->ngw_deps;
	for (i = 0; !changed && i < n; i++)
		changed = strcmp(deps[i], p->gw_deps[i]) != 0;
	p->gw_down = down;
	p->ngw_deps = n;
	memcpy(p->gw_deps, deps, sizeof(deps));
	return changed;
}

enum l2_peer_ev
l2_peer_heard(struct l2_peer_state *p, const struct l2_hb *hb, int64_t now)
{
	int renamed, gw, gw_changed;

	if (l2_replay_check(&p->rp, hb->incarnation, hb->seq) == -1)
		return L2_PEER_REPLAY;
	renamed = strcmp(p->node, hb->node) != 0;
	if (renamed)
		memcpy(p->node, hb->node, sizeof(p->node));
	if (hb->type == L2_HB_LEAVE) {
		if (!p->alive)
			return renamed ? L2_PEER_RENAMED : L2_PEER_NONE;
		p->alive = 0;
		return L2_PEER_LEFT;
	}
	p->last = now;
	p->interval_ms = hb->interval_ms;
	p->ext_ok = (hb->flags & L2_HB_F_EXT_OK) != 0;
	gw = (hb->flags & L2_HB_F_GW_DOWN) != 0;
	gw_changed = peer_gw_set(p, gw, gw && (hb->flags & L2_HB_F_EXT) ? hb : NULL);
	if (!p->alive) {
		p->alive = 1;
		return L2_PEER_ALIVE;
	}
	return renamed ? L2_PEER_RENAMED : gw_changed ? L2_PEER_GATEWAY : L2_PEER_NONE;
}

int64_t
l2_peer_deadline(const struct l2_peer_state *p, uint32_t own_interval_ms)
{
	uint32_t iv = p->interval_ms > own_interval_ms ? p->interval_ms : own_interval_ms;

	return p->last + (int64_t)L2_DEAD_INTERVALS * iv;
}

enum l2_peer_ev
l2_peer_tick(struct l2_peer_state *p, uint32_t own_interval_ms, int64_t now)
{
	if (!p->alive || now < l2_peer_deadline(p, own_interval_ms))
		return L2_PEER_NONE;
	p->alive = 0;
	return L2_PEER_DEAD;
}
