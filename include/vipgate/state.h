/*
 * Sticky allocations: the VIPs every Service had, kept in a state file so a
 * VIP does not move on restart. Written atomically (tmp + fsync + rename).
 */
#ifndef VIPGATE_STATE_H
#define VIPGATE_STATE_H

#include "vipgate/alloc.h"
#include "vipgate/reconcile-t.h"

struct alloc_state {
	struct vg_arena		*arena;
	struct alloc_prev	*v;	/* sorted by ns/name */
	size_t			 n;
};

/* Missing file: empty state, 0. Unreadable or corrupt: empty state, -1 (logged). */
int state_load(const char *path, struct alloc_state *);
/* The same from bytes (name is for messages). */
int state_parse(const char *buf, size_t len, const char *name, struct alloc_state *);
int state_save(const char *path, const struct desired *);
/* The allocations of a desired state, as the next reconcile's prev. */
void state_from_desired(const struct desired *, struct alloc_state *);
/* Whether the allocations differ (so the file needs writing). */
int state_differs(const struct alloc_state *, const struct desired *);
void state_free(struct alloc_state *);

#endif
