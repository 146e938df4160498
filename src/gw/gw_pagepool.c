/*
 * Page pool (gw-pagepool.h). Three classes of blocks, each in arenas of
 * PP_SLOTS blocks, mapped as needed and kept mapped (a freed block holds
 * address space, not memory): a pointer is looked up without the lock
 * (pp_find), so the table of arenas only grows. Free blocks read
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
	size_t		 narenas;
	size_t		 nused;
};

static struct pp_class pp_large = { GW_PP_BLOCK, { NULL }, { 0 }, 0, 0 };
static struct pp_class pp_page = { GW_PP_PAGE, { NULL }, { 0 }, 0, 0 };
static struct pp_class pp_small = { GW_PP_SMALL, { NULL }, { 0 }, 0, 0 };
static int page_ok = -1;
static pthread_mutex_t pp_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Which arena a pointer is in, without the lock and in constant time:
 * each arena sits alone in a PP_WIN-aligned window (arenas are smaller),
 * and a table indexed by window number holds it. Insert-only, as the
 * arenas: an entry's class and index are written before its base
 * (release), read after it (acquire).
 */
#define PP_WIN_SHIFT	21		/* 2 MiB */
#define PP_WIN		((size_t)1 << PP_WIN_SHIFT)
#define PP_HASH		16384		/* > 3 * PP_ARENAS_MAX */

static struct {
	char			*base;
	struct pp_class		*k;
	long			 idx;
} pp_hash[PP_HASH];

static size_t
pp_slot(uintptr_t win)
{
	return (size_t)((win * 0x9e3779b97f4a7c15ULL) >> 40) & (PP_HASH - 1);
}

/* Called with the lock held. */
static void
pp_hash_add(char *base, struct pp_class *k, long idx)
{
	size_t h = pp_slot((uintptr_t)base >> PP_WIN_SHIFT);

	while (pp_hash[h].base != NULL)
		h = (h + 1) & (PP_HASH - 1);
	pp_hash[h].k = k;
	pp_hash[h].idx = idx;
	__atomic_store_n(&pp_hash[h].base, base, __ATOMIC_RELEASE);
}

/* An anonymous mapping of len bytes (at most PP_WIN) alone in an aligned window, or NULL. */
static char *
pp_map(size_t len)
{
	char *a, *b;

	a = mmap(NULL, len + PP_WIN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return NULL;
	b = (char *)(((uintptr_t)a + PP_WIN - 1) & ~(uintptr_t)(PP_WIN - 1));
	if (b > a)
		(void)munmap(a, (size_t)(b - a));
	if (b + len < a + len + PP_WIN)
		(void)munmap(b + len, (size_t)(a + len + PP_WIN - (b + len)));
	return b;
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
		char *a;

		if (k->narenas == PP_ARENAS_MAX)
			goto out;
		if ((a = pp_map(PP_SLOTS * k->block)) == NULL)
			goto out;
		k->arenas[i] = a;
		k->used[i] = 0;
		k->narenas++;
		pp_hash_add(a, k, (long)i);
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
	uintptr_t win = (uintptr_t)p >> PP_WIN_SHIFT;
	size_t h;
	char *base;

	if (((uintptr_t)p & (GW_PP_SMALL - 1)) != 0)
		return NULL;	/* blocks are aligned; the heap's pointers seldom are */
	for (h = pp_slot(win); (base = __atomic_load_n(&pp_hash[h].base, __ATOMIC_ACQUIRE)) != NULL;
	    h = (h + 1) & (PP_HASH - 1)) {
		struct pp_class *k;

		if ((uintptr_t)base >> PP_WIN_SHIFT != win)
			continue;
		k = pp_hash[h].k;
		if ((const char *)p < base || (const char *)p >= base + PP_SLOTS * k->block)
			return NULL;
		*a = pp_hash[h].idx;
		return k;
	}
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
