/*
 * Speaker heartbeats: one UDP datagram every interval to every peer.
 *
 *   "VGL2" | version 1 | type | 0 (u16) | incarnation (u64) | seq (u64) |
 *   interval_ms (u32) | name length (u8) | name | HMAC-SHA256 (32)
 *
 * The HMAC covers every byte before it. The incarnation is the sender's
 * wall clock in ms at start, so a restart moves it forward and anything
 * recorded from an earlier life is stale; the sequence number grows by one
 * a message within an incarnation. (A node restarted with its clock stepped
 * back stays unheard until its peers restart: accepting a lower incarnation
 * would let old captured messages raise a dead node.) Pure: no socket, no
 * clock.
 */
#include "config.h"

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
	size_t nlen = strnlen(hb->node, sizeof(hb->node)), n;
	uint8_t mac[L2_HB_HMACLEN];
	struct wire_wr w;

	if (nlen == 0 || nlen > L2_HB_MAXNAME)
		return 0;
	n = HB_FIXED + nlen + L2_HB_HMACLEN;
	if (cap < n)
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
	if (hmac(key, keylen, buf, w.len, mac) == -1)
		return 0;
	wire_put_bytes(&w, mac, L2_HB_HMACLEN);
	return n;
}

int
l2_hb_parse(const uint8_t *buf, size_t len, const uint8_t *key, size_t keylen,
    struct l2_hb *hb)
{
	struct wire_rd c;
	uint8_t mac[L2_HB_HMACLEN];
	const uint8_t *magic, *name, *tag;
	size_t nlen;
	uint8_t ver;

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
	gw = (hb->flags & L2_HB_F_GW_DOWN) != 0;
	gw_changed = gw != p->gw_down;
	p->gw_down = gw;
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
