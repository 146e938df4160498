/* A busy worker's yield check: its state between checks (gw-yield.h says why). */
#ifndef VIPGATE_GW_YIELD_T_H
#define VIPGATE_GW_YIELD_T_H

#include <stdint.h>

struct gw_yield {
	int64_t		mark_us;	/* when the last check was made */
	long		nvcsw;		/* the voluntary context switches then; -1: none yet */
	int64_t		hs_us;		/* the time in handshakes then (gw_io_handshake_us) */
};

#endif
