/* The bounded byte reader and writer every codec goes through. */
#include "config.h"

#include "cu.h"
#include "vipgate/wire.h"

static void
test_get(void)
{
	static const uint8_t b[] = { 1, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
		0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0xaa, 0xbb };
	struct wire_rd r;
	uint8_t two[2];

	wire_rd_init(&r, b, sizeof(b));
	CU_ASSERT_EQUAL(wire_get_u8(&r), 1);
	CU_ASSERT_EQUAL(wire_get_u16(&r), 0x0203);
	CU_ASSERT_EQUAL(wire_get_u32(&r), 0x04050607u);
	CU_ASSERT_EQUAL(wire_get_u64(&r), 0x1011121314151617ull);
	CU_ASSERT_EQUAL(wire_off(&r), 15);
	CU_ASSERT_EQUAL(wire_left(&r), 2);
	CU_ASSERT_PTR_EQUAL(wire_data(&r), b + 15);
	wire_get_bytes(&r, two, 2);
	CU_ASSERT(two[0] == 0xaa && two[1] == 0xbb);
	CU_ASSERT_EQUAL(wire_left(&r), 0);
	CU_ASSERT(!r.err);
}

/* A short read sets err, takes nothing and yields zeros; so does every later one. */
static void
test_get_short(void)
{
	static const uint8_t b[] = { 0xde, 0xad, 0xbe };
	struct wire_rd r;
	uint8_t out[4] = { 9, 9, 9, 9 };

	wire_rd_init(&r, b, sizeof(b));
	CU_ASSERT_EQUAL(wire_get_u32(&r), 0);
	CU_ASSERT(r.err);
	CU_ASSERT_EQUAL(wire_off(&r), 0);
	CU_ASSERT_EQUAL(wire_left(&r), 0);
	CU_ASSERT_EQUAL(wire_get_u8(&r), 0);	/* sticky, though a byte is there */
	CU_ASSERT_EQUAL(wire_off(&r), 0);

	wire_rd_init(&r, b, sizeof(b));
	wire_get_bytes(&r, out, 4);
	CU_ASSERT(r.err);
	CU_ASSERT(out[0] == 0 && out[1] == 0 && out[2] == 0 && out[3] == 0);

	wire_rd_init(&r, b, sizeof(b));
	CU_ASSERT_EQUAL(wire_get_u16(&r), 0xdead);
	CU_ASSERT_EQUAL(wire_get_u16(&r), 0);
	CU_ASSERT_EQUAL(wire_off(&r), 2);
	CU_ASSERT_EQUAL(wire_get_u64(&r), 0);

	wire_rd_init(&r, b, sizeof(b));
	wire_skip(&r, 3);
	CU_ASSERT(!r.err);
	wire_skip(&r, 1);
	CU_ASSERT(r.err);

	wire_rd_init(&r, b, sizeof(b));
	CU_ASSERT_PTR_EQUAL(wire_get_ptr(&r, 3), b);
	CU_ASSERT_PTR_NOT_NULL(wire_get_ptr(&r, 0));
	CU_ASSERT_PTR_NULL(wire_get_ptr(&r, 1));

	wire_rd_init(&r, NULL, 0);
	CU_ASSERT_EQUAL(wire_get_u8(&r), 0);
	CU_ASSERT(r.err);
}

static void
test_sub(void)
{
	static const uint8_t b[] = { 3, 0x01, 0x02, 0x03, 0x7f };
	struct wire_rd r, s;

	wire_rd_init(&r, b, sizeof(b));
	wire_get_sub(&r, wire_get_u8(&r), &s);
	CU_ASSERT(!r.err && !s.err);
	CU_ASSERT_EQUAL(wire_left(&s), 3);
	CU_ASSERT_EQUAL(wire_get_u16(&s), 0x0102);
	CU_ASSERT_EQUAL(wire_get_u16(&s), 0);	/* bounded by the field, not the buffer */
	CU_ASSERT(s.err);
	CU_ASSERT(!r.err);
	CU_ASSERT_EQUAL(wire_get_u8(&r), 0x7f);

	/* a length past the end: both fail, the sub-reader is empty */
	wire_rd_init(&r, b, sizeof(b));
	wire_get_sub(&r, 9, &s);
	CU_ASSERT(r.err && s.err);
	CU_ASSERT_EQUAL(wire_left(&s), 0);
	CU_ASSERT_EQUAL(wire_get_u8(&s), 0);
}

static void
test_put(void)
{
	uint8_t b[32];
	struct wire_wr w;
	static const uint8_t want[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
		0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 'a', 'b', 0, 0, 0 };

	memset(b, 0xee, sizeof(b));
	wire_wr_init(&w, b, sizeof(b));
	wire_put_u8(&w, 1);
	wire_put_u16(&w, 0x0203);
	wire_put_u32(&w, 0x04050607u);
	wire_put_u64(&w, 0x1011121314151617ull);
	wire_put_bytes(&w, "ab", 2);
	wire_put_zero(&w, 3);
	CU_ASSERT(!w.overflow);
	CU_ASSERT_EQUAL(w.len, sizeof(want));
	CU_ASSERT(memcmp(b, want, sizeof(want)) == 0);
	CU_ASSERT_EQUAL(b[sizeof(want)], 0xee);
}

/* Length fields reserved first and patched when what they count is written. */
static void
test_patch(void)
{
	uint8_t b[600];
	struct wire_wr w;
	size_t l8, l16, sum;

	wire_wr_init(&w, b, sizeof(b));
	l16 = wire_reserve(&w, 2);
	wire_put_u8(&w, 0xaa);
	l8 = wire_reserve(&w, 1);
	wire_put_u32(&w, 0);
	wire_patch_len8(&w, l8);
	sum = wire_reserve(&w, 2);
	wire_patch_len16(&w, l16);
	wire_set_u16(&w, sum, 0xbeef);
	wire_set_u8(&w, l16 + 2, 0xab);
	CU_ASSERT(!w.overflow);
	CU_ASSERT_EQUAL(w.len, 10);
	CU_ASSERT(memcmp(b, "\x00\x08\xab\x04\x00\x00\x00\x00\xbe\xef", 10) == 0);

	/* patching past what was written, or a count too big for the field */
	wire_wr_init(&w, b, sizeof(b));
	wire_set_u16(&w, 0, 1);
	CU_ASSERT(w.overflow);
	wire_wr_init(&w, b, sizeof(b));
	l8 = wire_reserve(&w, 1);
	wire_put_zero(&w, 256);
	wire_patch_len8(&w, l8);
	CU_ASSERT(w.overflow);
}

/* A write that does not fit sets overflow, writes nothing; so does every later one. */
static void
test_put_overflow(void)
{
	uint8_t b[8];
	struct wire_wr w;

	memset(b, 0xee, sizeof(b));
	wire_wr_init(&w, b, 5);
	wire_put_u32(&w, 0x01020304u);
	wire_put_u16(&w, 0x0506);
	CU_ASSERT(w.overflow);
	CU_ASSERT_EQUAL(w.len, 4);
	CU_ASSERT_EQUAL(b[4], 0xee);
	wire_put_u8(&w, 7);	/* sticky, though one byte is free */
	CU_ASSERT_EQUAL(w.len, 4);
	CU_ASSERT_EQUAL(b[4], 0xee);

	memset(b, 0xee, sizeof(b));
	wire_wr_init(&w, b, 7);
	wire_put_u64(&w, 1);
	CU_ASSERT(w.overflow);
	CU_ASSERT_EQUAL(w.len, 0);
	CU_ASSERT_EQUAL(b[0], 0xee);

	wire_wr_init(&w, b, 2);
	wire_put_bytes(&w, "abc", 3);
	CU_ASSERT(w.overflow);
	CU_ASSERT_EQUAL(wire_reserve(&w, 1), 0);
	CU_ASSERT_EQUAL(w.len, 0);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "get u8/u16/u32/u64/bytes", test_get },
		{ "short reads fail and stick", test_get_short },
		{ "sub-reader over a length-delimited field", test_sub },
		{ "put u8/u16/u32/u64/bytes/zero", test_put },
		{ "reserved fields patched", test_patch },
		{ "writes past the end fail and stick", test_put_overflow },
		{ NULL, NULL },
	};

	return cu_run("wire", tests);
}
