/*
 * Page pool (gw-pagepool.h). Arenas of PP_SLOTS blocks, mapped as needed
 * and kept mapped (a freed block holds address space, not memory): a
 * pointer is looked up among the arenas without the lock, so the table of
 * arenas only grows. Systems whose pages are not 4 KiB get no pool (every
 * gw_pp_alloc answers NULL and the caller uses the heap).
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gw-pagepool.h"

#define PP_PAGE		4096
#define PP_SLOTS	64		/* blocks an arena: one bitmap word */
#define PP_ARENA	((size_t)PP_SLOTS * GW_PP_BLOCK)
#define PP_ARENAS_MAX	4096		/* 262144 blocks */

static char *arenas[PP_ARENAS_MAX];
static uint64_t used[PP_ARENAS_MAX];	/* a bit a block in use */
static size_t narenas;			/* read without the lock (acquire) */
static size_t nused;
static int page_ok = -1;
static pthread_mutex_t pp_lock = PTHREAD_MUTEX_INITIALIZER;

/* The arena holding p, -1 if none. */
static long
pp_arena(const void *p)
{
	size_t i, n = __atomic_load_n(&narenas, __ATOMIC_ACQUIRE);
	const char *c = p;

	for (i = 0; i < n; i++)
		if (c >= arenas[i] && c < arenas[i] + PP_ARENA)
			return (long)i;
	return -1;
}

void *
gw_pp_alloc(size_t len)
{
	size_t i;
	void *p = NULL;

	if (len > GW_PP_BLOCK)
		return NULL;
	pthread_mutex_lock(&pp_lock);
	if (page_ok == -1)
		page_ok = sysconf(_SC_PAGESIZE) == PP_PAGE;
	if (!page_ok)
		goto out;
	for (i = 0; i < narenas; i++)
		if (used[i] != UINT64_MAX)
			break;
	if (i == narenas) {
		void *a;

		if (narenas == PP_ARENAS_MAX)
			goto out;
		a = mmap(NULL, PP_ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a == MAP_FAILED)
			goto out;
		arenas[i] = a;
		used[i] = 0;
		__atomic_store_n(&narenas, narenas + 1, __ATOMIC_RELEASE);
	}
	{
		int b = __builtin_ctzll(~used[i]);

		used[i] |= (uint64_t)1 << b;
		nused++;
		p = arenas[i] + (size_t)b * GW_PP_BLOCK;
	}
out:
	pthread_mutex_unlock(&pp_lock);
	return p;	/* zeros: never written, or given back when freed */
}

int
gw_pp_owns(const void *p)
{
	if (((uintptr_t)p & (PP_PAGE - 1)) != 0)
		return 0;	/* blocks start on a page; the heap's pointers seldom do */
	return pp_arena(p) != -1;
}

void
gw_pp_free(void *p)
{
	long a = pp_arena(p);
	size_t b;

	if (a == -1)
		return;
	b = (size_t)((char *)p - arenas[a]) / GW_PP_BLOCK;
	/* before the block can be handed out again */
	(void)madvise(arenas[a] + b * GW_PP_BLOCK, GW_PP_BLOCK, MADV_DONTNEED);
	pthread_mutex_lock(&pp_lock);
	used[a] &= ~((uint64_t)1 << b);
	nused--;
	pthread_mutex_unlock(&pp_lock);
}

void
gw_pp_release(void *p, size_t off)
{
	off = (off + PP_PAGE - 1) & ~(size_t)(PP_PAGE - 1);
	if (off < GW_PP_BLOCK)
		(void)madvise((char *)p + off, GW_PP_BLOCK - off, MADV_DONTNEED);
}

size_t
gw_pp_used(size_t *mapped)
{
	size_t n;

	pthread_mutex_lock(&pp_lock);
	n = nused;
	if (mapped)
		*mapped = narenas * PP_ARENA;
	pthread_mutex_unlock(&pp_lock);
	return n;
}
