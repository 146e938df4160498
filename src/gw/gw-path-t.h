/* The request target's normalization modes and result (gw_path.c). */
#ifndef VIPGATE_GW_PATH_T_H
#define VIPGATE_GW_PATH_T_H

#include <stddef.h>

/* Istio's pathNormalization.normalization values, in increasing strength. */
enum gw_pathnorm {
	GW_PATHNORM_NONE,			/* forwarded as received */
	GW_PATHNORM_BASE,			/* Envoy normalize_path (Istio's default) */
	GW_PATHNORM_MERGE_SLASHES,		/* ... and merge_slashes */
	GW_PATHNORM_DECODE_AND_MERGE_SLASHES,	/* ... after %2F and %5C are decoded */
};

/* What gw_target_normalize found besides the path. */
struct gw_target {
	const char	*auth;		/* absolute form: the URI's authority (in the input) */
	size_t		 authlen;
	const char	*why;		/* the reason of a rejection */
};

#endif
