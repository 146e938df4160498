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

/* A block's size: blocks larger than this are not served. */
#define GW_PP_BLOCK	(5 * 4096)

/* A zeroed block of len bytes (at most GW_PP_BLOCK); NULL when len is larger or no more can be mapped. */
void *gw_pp_alloc(size_t len);
/* Free a block from gw_pp_alloc (its pages go back to the kernel). */
void gw_pp_free(void *);
/* 1: p is a block from gw_pp_alloc. Quick for other pointers not on a page boundary. */
int gw_pp_owns(const void *p);
/* Give back the pages of a block from byte off on (their content reads as zeros after). */
void gw_pp_release(void *p, size_t off);
/* Blocks in use, and the bytes of the mappings (for tests). */
size_t gw_pp_used(size_t *mapped);

#endif
