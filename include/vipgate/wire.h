/* Bounded readers and writers of wire bytes (types and conventions in wire-t.h). */
#ifndef VIPGATE_WIRE_H
#define VIPGATE_WIRE_H

#include "vipgate/wire-t.h"

/* ---- reading ---- */

void wire_rd_init(struct wire_rd *, const void *buf, size_t len);
/* Bytes not read yet (0 once err is set). */
size_t wire_left(const struct wire_rd *);
/* Bytes read so far. */
size_t wire_off(const struct wire_rd *);
/* Where the bytes not read yet start. */
const uint8_t *wire_data(const struct wire_rd *);

uint8_t wire_get_u8(struct wire_rd *);
uint16_t wire_get_u16(struct wire_rd *);
uint32_t wire_get_u32(struct wire_rd *);
uint64_t wire_get_u64(struct wire_rd *);
/* n bytes into dst; zeros when they are not all there. */
void wire_get_bytes(struct wire_rd *, void *dst, size_t n);
/* The next n bytes in place; NULL when they are not all there. */
const uint8_t *wire_get_ptr(struct wire_rd *, size_t n);
/* A reader over the next n bytes (a length-delimited field), taken from r. */
void wire_get_sub(struct wire_rd *r, size_t n, struct wire_rd *sub);
void wire_skip(struct wire_rd *, size_t n);

/* ---- writing ---- */

void wire_wr_init(struct wire_wr *, void *buf, size_t cap);

void wire_put_u8(struct wire_wr *, uint8_t);
void wire_put_u16(struct wire_wr *, uint16_t);
void wire_put_u32(struct wire_wr *, uint32_t);
void wire_put_u64(struct wire_wr *, uint64_t);
void wire_put_bytes(struct wire_wr *, const void *, size_t);
/* n zero bytes (padding, reserved fields). */
void wire_put_zero(struct wire_wr *, size_t n);
/*
 * n zero bytes to fill in later (a length, a checksum); returns their
 * offset for wire_set_u8/u16 or wire_patch_len8/16.
 */
size_t wire_reserve(struct wire_wr *, size_t n);
/* Overwrite bytes already written at offset at. */
void wire_set_u8(struct wire_wr *, size_t at, uint8_t);
void wire_set_u16(struct wire_wr *, size_t at, uint16_t);
/*
 * Fill the 1- or 2-byte length field reserved at at with the number of
 * bytes written after it (overflow when that does not fit the field).
 */
void wire_patch_len8(struct wire_wr *, size_t at);
void wire_patch_len16(struct wire_wr *, size_t at);

#endif
