/*
 * Page pool (gw-pagepool.h). Three classes of blocks, each in arenas of
 * PP_SLOTS blocks, mapped as needed and kept mapped (a freed block holds
 * address space, not memory): a pointer is looked up among the arenas
 * without the lock, so the table of arenas only grows. Free blocks read
 * as zeros: a page or larger one is given back to the kernel when freed; a small
 * one is cleared if it was written, and its page given back once the
 * page's blocks are all free. Systems whose pages are not 4 KiB get no
 * pool (gw_pp_alloc answers NULL and the caller uses the heap).
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
#define PP_ARENAS_MAX	4096		/* 262144 blocks a class */

struct pp_class {
	size_t		 block;
	char		*arenas[PP_ARENAS_MAX];
	uint64_t	 used[PP_ARENAS_MAX];	/* a bit a block in use */
	size_t		 narenas;		/* read without the lock (acquire) */
	size_t		 nused;
};

static struct pp_class pp_large = { GW_PP_BLOCK, { NULL }, { 0 }, 0, 0 };
static struct pp_class pp_page = { GW_PP_PAGE, { NULL }, { 0 }, 0, 0 };
static struct pp_class pp_small = { GW_PP_SMALL, { NULL }, { 0 }, 0, 0 };
static struct pp_class *const pp_classes[] = { &pp_large, &pp_page, &pp_small };
static int page_ok = -1;
static pthread_mutex_t pp_lock = PTHREAD_MUTEX_INITIALIZER;

/* The arena of class k holding p, -1 if none. */
static long
pp_arena(const struct pp_class *k, const void *p)
{
	size_t i, n = __atomic_load_n(&k->narenas, __ATOMIC_ACQUIRE);
	const char *c = p;

	for (i = 0; i < n; i++)
		if (c >= k->arenas[i] && c < k->arenas[i] + PP_SLOTS * k->block)
			return (long)i;
	return -1;
}

static void *
pp_get(struct pp_class *k)
{
	size_t i;
	void *p = NULL;
	int b;

	pthread_mutex_lock(&pp_lock);
	if (page_ok == -1)
		page_ok = sysconf(_SC_PAGESIZE) == PP_PAGE;
	if (!page_ok)
		goto out;
	for (i = 0; i < k->narenas; i++)
		if (k->used[i] != UINT64_MAX)
			break;
	if (i == k->narenas) {
		void *a;

		if (k->narenas == PP_ARENAS_MAX)
			goto out;
		a = mmap(NULL, PP_SLOTS * k->block, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a == MAP_FAILED)
			goto out;
		k->arenas[i] = a;
		k->used[i] = 0;
		__atomic_store_n(&k->narenas, k->narenas + 1, __ATOMIC_RELEASE);
	}
	b = __builtin_ctzll(~k->used[i]);
	k->used[i] |= (uint64_t)1 << b;
	k->nused++;
	p = k->arenas[i] + (size_t)b * k->block;
out:
	pthread_mutex_unlock(&pp_lock);
	return p;	/* zeros: never written, or cleared when freed */
}

void *
gw_pp_alloc(size_t len)
{
	if (len <= GW_PP_SMALL)
		return pp_get(&pp_small);
	if (len <= GW_PP_PAGE)
		return pp_get(&pp_page);
	if (len <= GW_PP_BLOCK)
		return pp_get(&pp_large);
	return NULL;
}

static int
pp_zeros(const void *p, size_t len)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		if (w[i])
			return 0;
	return 1;
}

/* The class of p and its arena, or NULL. */
static struct pp_class *
pp_find(const void *p, long *a)
{
	size_t i;

	if (((uintptr_t)p & (GW_PP_SMALL - 1)) != 0)
		return NULL;	/* blocks are aligned; the heap's pointers seldom are */
	for (i = 0; i < sizeof(pp_classes) / sizeof(pp_classes[0]); i++)
		if ((*a = pp_arena(pp_classes[i], p)) != -1)
			return pp_classes[i];
	return NULL;
}

void
gw_pp_free(void *p)
{
	struct pp_class *k;
	long a;
	size_t b, per, first;
	uint64_t mask;

	if ((k = pp_find(p, &a)) == NULL)
		return;
	b = (size_t)((char *)p - k->arenas[a]) / k->block;
	if (k->block >= PP_PAGE) {
		/* before the block can be handed out again */
		(void)madvise(p, k->block, MADV_DONTNEED);
		pthread_mutex_lock(&pp_lock);
		k->used[a] &= ~((uint64_t)1 << b);
		k->nused--;
		pthread_mutex_unlock(&pp_lock);
		return;
	}
	/* a small block shares its page: cleared (unless never written, which reading tells without backing it) */
	per = PP_PAGE / k->block;
	first = b / per * per;
	mask = (((uint64_t)1 << per) - 1) << first;
	if (!pp_zeros(p, k->block))
		memset(p, 0, k->block);
	pthread_mutex_lock(&pp_lock);
	k->used[a] &= ~((uint64_t)1 << b);
	k->nused--;
	/* its page's blocks all free: the page goes back (they stay zeros) */
	if ((k->used[a] & mask) == 0)
		(void)madvise(k->arenas[a] + first * k->block, PP_PAGE, MADV_DONTNEED);
	pthread_mutex_unlock(&pp_lock);
}

int
gw_pp_owns(const void *p)
{
	long a;

	return pp_find(p, &a) != NULL;
}

size_t
gw_pp_size(const void *p)
{
	long a;
	struct pp_class *k = pp_find(p, &a);

	return k ? k->block : 0;
}

void
gw_pp_release(void *p, size_t off)
{
	size_t len = gw_pp_size(p);

	off = (off + PP_PAGE - 1) & ~(size_t)(PP_PAGE - 1);
	if (len >= PP_PAGE && off < len)
		(void)madvise((char *)p + off, len - off, MADV_DONTNEED);
}

size_t
gw_pp_trim(void *p)
{
	size_t len = gw_pp_size(p), off, n = 0;

	for (off = 0; len >= PP_PAGE && off < len; off += PP_PAGE)
		if (pp_zeros((char *)p + off, PP_PAGE) &&
		    madvise((char *)p + off, PP_PAGE, MADV_DONTNEED) == 0)
			n++;
	return n;
}

size_t
gw_pp_used(size_t *mapped)
{
	size_t n;

	pthread_mutex_lock(&pp_lock);
	n = pp_large.nused + pp_page.nused + pp_small.nused;
	if (mapped)
		*mapped = pp_large.narenas * PP_SLOTS * pp_large.block +
		    pp_page.narenas * PP_SLOTS * pp_page.block +
		    pp_small.narenas * PP_SLOTS * pp_small.block;
	pthread_mutex_unlock(&pp_lock);
	return n;
}
