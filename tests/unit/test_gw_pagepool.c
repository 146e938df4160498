/*
 * The page pool (gw-pagepool.h): blocks start on a page and read as zeros,
 * pages never written are not resident, a freed or released block's pages
 * go back, pointers from the heap are not taken for blocks.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cu.h"
#include "../../src/gw/gw-pagepool.h"

#define PAGE	4096

/* Resident pages of the block at p (mincore). */
static int
resident(void *p)
{
	unsigned char v[GW_PP_BLOCK / PAGE];
	int i, n = 0;

	if (mincore(p, GW_PP_BLOCK, v) != 0)
		return -1;
	for (i = 0; i < GW_PP_BLOCK / PAGE; i++)
		n += v[i] & 1;
	return n;
}

static int
zeros(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

static void
t_alloc_free(void)
{
	unsigned char *a, *b;
	size_t used0 = gw_pp_used(NULL), mapped;

	if (sysconf(_SC_PAGESIZE) != PAGE)
		return;	/* no pool there: gw_pp_alloc says NULL */
	CU_ASSERT_PTR_NULL(gw_pp_alloc(GW_PP_BLOCK + 1));
	a = gw_pp_alloc(16394);
	b = gw_pp_alloc(GW_PP_BLOCK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL((uintptr_t)a % PAGE, 0);
	CU_ASSERT_EQUAL((uintptr_t)b % PAGE, 0);
	CU_ASSERT(a + GW_PP_BLOCK <= b || b + GW_PP_BLOCK <= a);
	CU_ASSERT_EQUAL(gw_pp_used(&mapped), used0 + 2);
	CU_ASSERT(mapped >= 2 * GW_PP_BLOCK);
	CU_ASSERT_TRUE(gw_pp_owns(a));
	CU_ASSERT_TRUE(gw_pp_owns(b));
	/* nothing written: nothing resident; one byte: one page */
	CU_ASSERT_EQUAL(resident(a), 0);
	a[100] = 1;
	CU_ASSERT_EQUAL(resident(a), 1);
	a[100] = 0;
	CU_ASSERT_TRUE(zeros(a, 16394));	/* (reading maps the zero page) */
	memset(a, 0xa5, 16394);
	CU_ASSERT_EQUAL(resident(a), 5);
	gw_pp_free(a);
	CU_ASSERT_EQUAL(resident(a), 0);
	CU_ASSERT_EQUAL(gw_pp_used(NULL), used0 + 1);
	/* the block again (the lowest free one), zeros again */
	a = gw_pp_alloc(GW_PP_PAGE + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(gw_pp_size(a), GW_PP_BLOCK);
	CU_ASSERT_TRUE(zeros(a, GW_PP_BLOCK));
	gw_pp_free(a);
	gw_pp_free(b);
	CU_ASSERT_EQUAL(gw_pp_used(NULL), used0);
}

static void
t_release(void)
{
	unsigned char *a;

	if (sysconf(_SC_PAGESIZE) != PAGE)
		return;
	a = gw_pp_alloc(GW_PP_BLOCK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	memset(a, 0x5a, GW_PP_BLOCK);
	/* from a byte inside the first page: the pages after it go, the first stays */
	gw_pp_release(a, 100);
	CU_ASSERT_EQUAL(resident(a), 1);
	CU_ASSERT_EQUAL(a[4095], 0x5a);
	CU_ASSERT_TRUE(zeros(a + PAGE, GW_PP_BLOCK - PAGE));
	gw_pp_release(a, 0);
	CU_ASSERT_EQUAL(resident(a), 0);
	CU_ASSERT_TRUE(zeros(a, GW_PP_BLOCK));
	/* past the end: nothing */
	a[0] = 1;
	gw_pp_release(a, GW_PP_BLOCK);
	CU_ASSERT_EQUAL(a[0], 1);
	gw_pp_free(a);
}

/* Page blocks; a block's pages of zeros given back, the others kept. */
static void
t_page_trim(void)
{
	unsigned char *a, *b, v;

	if (sysconf(_SC_PAGESIZE) != PAGE)
		return;
	a = gw_pp_alloc(GW_PP_PAGE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL((uintptr_t)a % PAGE, 0);
	CU_ASSERT_EQUAL(gw_pp_size(a), GW_PP_PAGE);
	a[10] = 1;
	CU_ASSERT_EQUAL(gw_pp_trim(a), 0);	/* not zeros: kept */
	CU_ASSERT_EQUAL(mincore(a, PAGE, &v), 0);
	CU_ASSERT_EQUAL(v & 1, 1);
	CU_ASSERT_EQUAL(a[10], 1);
	a[10] = 0;
	CU_ASSERT_EQUAL(gw_pp_trim(a), 1);
	CU_ASSERT_EQUAL(mincore(a, PAGE, &v), 0);
	CU_ASSERT_EQUAL(v & 1, 0);
	CU_ASSERT_TRUE(zeros(a, PAGE));
	gw_pp_free(a);
	/* a large block: its second page written, the others not */
	b = gw_pp_alloc(GW_PP_BLOCK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	memset(b, 0, GW_PP_BLOCK);
	b[PAGE + 7] = 9;
	CU_ASSERT_EQUAL(gw_pp_trim(b), GW_PP_BLOCK / PAGE - 1);
	CU_ASSERT_EQUAL(resident(b), 1);
	CU_ASSERT_EQUAL(b[PAGE + 7], 9);
	gw_pp_free(b);
	/* not a block: nothing */
	CU_ASSERT_EQUAL(gw_pp_trim(&v), 0);
}

/* Small blocks share pages: a page is backed once one of them is written, given back once all are free. */
static void
t_small(void)
{
	enum { PER = PAGE / GW_PP_SMALL, N = 3 * PER };
	unsigned char *p[N], *page;
	size_t i, used0 = gw_pp_used(NULL);

	if (sysconf(_SC_PAGESIZE) != PAGE)
		return;
	for (i = 0; i < N; i++) {
		p[i] = gw_pp_alloc(i % 2 ? GW_PP_SMALL : 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
		CU_ASSERT_EQUAL((uintptr_t)p[i] % GW_PP_SMALL, 0);
		CU_ASSERT_EQUAL(gw_pp_size(p[i]), GW_PP_SMALL);
		CU_ASSERT_TRUE(gw_pp_owns(p[i]));
	}
	CU_ASSERT_EQUAL(gw_pp_used(NULL), used0 + N);
	/* the first page of blocks (the arena is new: they come in order) */
	page = p[0];
	CU_ASSERT_EQUAL((uintptr_t)page % PAGE, 0);
	for (i = 0; i < PER; i++)
		CU_ASSERT_PTR_EQUAL(p[i], page + i * GW_PP_SMALL);
	{
		unsigned char v;

		CU_ASSERT_EQUAL(mincore(page, PAGE, &v), 0);
		CU_ASSERT_EQUAL(v & 1, 0);	/* nothing written */
		memset(p[1], 0x77, GW_PP_SMALL);
		CU_ASSERT_EQUAL(mincore(page, PAGE, &v), 0);
		CU_ASSERT_EQUAL(v & 1, 1);
		/* freed while its neighbours live: cleared, handed out again as zeros */
		gw_pp_free(p[1]);
		p[1] = gw_pp_alloc(GW_PP_SMALL);
		CU_ASSERT_PTR_EQUAL(p[1], page + GW_PP_SMALL);
		CU_ASSERT_TRUE(zeros(p[1], GW_PP_SMALL));
		p[1][5] = 1;
		/* the page's blocks all freed: the page goes back */
		for (i = 0; i < PER; i++)
			gw_pp_free(p[i]);
		CU_ASSERT_EQUAL(mincore(page, PAGE, &v), 0);
		CU_ASSERT_EQUAL(v & 1, 0);
	}
	for (i = PER; i < N; i++)
		gw_pp_free(p[i]);
	CU_ASSERT_EQUAL(gw_pp_used(NULL), used0);
	for (i = 0; i < PER; i++) {
		p[i] = gw_pp_alloc(GW_PP_SMALL);
		CU_ASSERT_TRUE(zeros(p[i], GW_PP_SMALL));
	}
	for (i = 0; i < PER; i++)
		gw_pp_free(p[i]);
}

static void
t_many_and_heap(void)
{
	enum { N = 200 };	/* more than one arena */
	void *p[N], *h[64];
	size_t i, used0 = gw_pp_used(NULL);

	if (sysconf(_SC_PAGESIZE) != PAGE)
		return;
	for (i = 0; i < N; i++) {
		p[i] = gw_pp_alloc(8193);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
		((char *)p[i])[0] = (char)i;
	}
	CU_ASSERT_EQUAL(gw_pp_used(NULL), used0 + N);
	for (i = 0; i < N; i++)
		CU_ASSERT_EQUAL(((char *)p[i])[0], (char)i);
	/* heap pointers, page-aligned ones among them, are not blocks */
	for (i = 0; i < 64; i++) {
		h[i] = i % 2 ? malloc(i * 100 + 1) : aligned_alloc(PAGE, PAGE);
		CU_ASSERT_FALSE(gw_pp_owns(h[i]));
		CU_ASSERT_EQUAL(gw_pp_size(h[i]), 0);
	}
	for (i = 0; i < 64; i++)
		free(h[i]);
	CU_ASSERT_FALSE(gw_pp_owns(NULL));
	for (i = 0; i < N; i += 2)
		gw_pp_free(p[i]);
	for (i = 1; i < N; i += 2)
		gw_pp_free(p[i]);
	CU_ASSERT_EQUAL(gw_pp_used(NULL), used0);
}

int
main(void)
{
	static const struct cu_test tests[] = {
		{ "alloc and free", t_alloc_free },
		{ "release", t_release },
		{ "small blocks", t_small },
		{ "page blocks, trim", t_page_trim },
		{ "many, and heap pointers", t_many_and_heap },
		{ NULL, NULL }
	};

	return cu_run("gw_pagepool", tests);
}
