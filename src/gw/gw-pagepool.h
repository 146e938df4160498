/*
 * Page pool (gw_pagepool.c): blocks of a few pages, each starting on a page
 * of its own, carved from large anonymous mappings. A page its owner never
 * writes is never backed by memory, and a freed block's pages go back to
 * the kernel at once (MADV_DONTNEED). For buffers that are large but mostly
 * unused: libnghttp2 gives every HTTP/2 session a 16 KiB frame buffer of
 * which an idle connection has written a few hundred bytes; from the heap,
 * the rest is resident as soon as the heap has been used before.
 * Thread-safe (one lock, taken only to allocate and free).
 */
#ifndef VIPGATE_GW_PAGEPOOL_H
#define VIPGATE_GW_PAGEPOOL_H

#include <stddef.h>

/*
 * The blocks' sizes: large ones and pages start on a page of their own;
 * small ones share a page four to one, and a page none of them wrote is
 * not backed either (HPACK tables' index arrays an idle session never
 * filled). Blocks larger than GW_PP_BLOCK are not served.
 */
#define GW_PP_BLOCK	(5 * 4096)
#define GW_PP_PAGE	4096
#define GW_PP_SMALL	1024

/* A zeroed block of at least len bytes (at most GW_PP_BLOCK); NULL when len is larger or no more can be mapped. */
void *gw_pp_alloc(size_t len);
/* Free a block from gw_pp_alloc (the pages no block uses go back to the kernel). */
void gw_pp_free(void *);
/* 1: p is a block from gw_pp_alloc. Quick for other pointers not aligned to GW_PP_SMALL. */
int gw_pp_owns(const void *p);
/* A block's size (GW_PP_BLOCK, GW_PP_PAGE or GW_PP_SMALL), 0 if p is not one. */
size_t gw_pp_size(const void *p);
/* Give back the pages of a page or large block from byte off on (their content reads as zeros after). */
void gw_pp_release(void *p, size_t off);
/*
 * Give back the pages of a page or large block that hold only zeros: what
 * the block reads stays the same (a page not backed reads as zeros), and
 * reading a page that is not backed does not back it. Pages given back.
 */
size_t gw_pp_trim(void *p);
/* Blocks in use, and the bytes of the mappings (for tests). */
size_t gw_pp_used(size_t *mapped);

#endif
