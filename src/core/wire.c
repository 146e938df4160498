/*
 * Bounded readers and writers of wire bytes, network order (OpenBGPD's
 * ibuf_get_n16()/ibuf_add_n16() and friends). One convention for every
 * codec: a failed read or write sets a sticky flag, takes or writes
 * nothing, and the decoder or builder checks the flag once after a group.
 */
#include "config.h"

#include <string.h>

#include "vipgate/wire.h"

/* ---- reading ---- */

void
wire_rd_init(struct wire_rd *r, const void *buf, size_t len)
{
	r->p = buf;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

size_t
wire_left(const struct wire_rd *r)
{
	return r->err ? 0 : r->len - r->off;
}

size_t
wire_off(const struct wire_rd *r)
{
	return r->off;
}

const uint8_t *
wire_data(const struct wire_rd *r)
{
	return r->p + r->off;
}

/* Takes n bytes: where they start, or NULL (and err) when they are not all there. */
static const uint8_t *
take(struct wire_rd *r, size_t n)
{
	const uint8_t *at;

	if (r->err || r->len - r->off < n) {
		r->err = 1;
		return NULL;
	}
	at = r->p + r->off;
	r->off += n;
	return at;
}

uint8_t
wire_get_u8(struct wire_rd *r)
{
	const uint8_t *b = take(r, 1);

	return b ? b[0] : 0;
}

uint16_t
wire_get_u16(struct wire_rd *r)
{
	const uint8_t *b = take(r, 2);

	return b ? (uint16_t)(b[0] << 8 | b[1]) : 0;
}

uint32_t
wire_get_u32(struct wire_rd *r)
{
	const uint8_t *b = take(r, 4);

	return b ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3] :
	    0;
}

uint64_t
wire_get_u64(struct wire_rd *r)
{
	const uint8_t *b = take(r, 8);
	uint64_t v = 0;
	int i;

	for (i = 0; b && i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

void
wire_get_bytes(struct wire_rd *r, void *dst, size_t n)
{
	const uint8_t *b = take(r, n);

	if (b == NULL)
		memset(dst, 0, n);
	else if (n)
		memcpy(dst, b, n);
}

const uint8_t *
wire_get_ptr(struct wire_rd *r, size_t n)
{
	return take(r, n);
}

void
wire_get_sub(struct wire_rd *r, size_t n, struct wire_rd *sub)
{
	const uint8_t *b = take(r, n);

	wire_rd_init(sub, b, b ? n : 0);
	sub->err = b == NULL;
}

void
wire_skip(struct wire_rd *r, size_t n)
{
	(void)take(r, n);
}

/* ---- writing ---- */

void
wire_wr_init(struct wire_wr *w, void *buf, size_t cap)
{
	w->p = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = 0;
}

/* Room for n bytes: where they go, or NULL (and overflow) when they do not fit. */
static uint8_t *
room(struct wire_wr *w, size_t n)
{
	uint8_t *at;

	if (w->overflow || w->cap - w->len < n) {
		w->overflow = 1;
		return NULL;
	}
	at = w->p + w->len;
	w->len += n;
	return at;
}

void
wire_put_u8(struct wire_wr *w, uint8_t v)
{
	uint8_t *b = room(w, 1);

	if (b)
		b[0] = v;
}

void
wire_put_u16(struct wire_wr *w, uint16_t v)
{
	uint8_t *b = room(w, 2);

	if (b) {
		b[0] = (uint8_t)(v >> 8);
		b[1] = (uint8_t)v;
	}
}

void
wire_put_u32(struct wire_wr *w, uint32_t v)
{
	uint8_t *b = room(w, 4);

	if (b) {
		b[0] = (uint8_t)(v >> 24);
		b[1] = (uint8_t)(v >> 16);
		b[2] = (uint8_t)(v >> 8);
		b[3] = (uint8_t)v;
	}
}

void
wire_put_u64(struct wire_wr *w, uint64_t v)
{
	uint8_t *b = room(w, 8);
	int i;

	for (i = 7; b && i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

void
wire_put_bytes(struct wire_wr *w, const void *src, size_t n)
{
	uint8_t *b = room(w, n);

	if (b && n)
		memcpy(b, src, n);
}

void
wire_put_zero(struct wire_wr *w, size_t n)
{
	uint8_t *b = room(w, n);

	if (b && n)
		memset(b, 0, n);
}

size_t
wire_reserve(struct wire_wr *w, size_t n)
{
	size_t at = w->len;

	wire_put_zero(w, n);
	return at;
}

void
wire_set_u8(struct wire_wr *w, size_t at, uint8_t v)
{
	if (w->overflow || at >= w->len) {
		w->overflow = 1;
		return;
	}
	w->p[at] = v;
}

void
wire_set_u16(struct wire_wr *w, size_t at, uint16_t v)
{
	if (w->overflow || at > w->len || w->len - at < 2) {
		w->overflow = 1;
		return;
	}
	w->p[at] = (uint8_t)(v >> 8);
	w->p[at + 1] = (uint8_t)v;
}

void
wire_patch_len8(struct wire_wr *w, size_t at)
{
	if (w->overflow || at >= w->len || w->len - at - 1 > 0xff) {
		w->overflow = 1;
		return;
	}
	w->p[at] = (uint8_t)(w->len - at - 1);
}

void
wire_patch_len16(struct wire_wr *w, size_t at)
{
	if (w->overflow || at > w->len || w->len - at < 2 || w->len - at - 2 > 0xffff) {
		w->overflow = 1;
		return;
	}
	wire_set_u16(w, at, (uint16_t)(w->len - at - 2));
}
