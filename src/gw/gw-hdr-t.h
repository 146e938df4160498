/*
 * HTTP message heads as the gateway keeps them (gw_hdr.c): one buffer,
 * fields by offset; and the lists of fields a head is built from.
 */
#ifndef VIPGATE_GW_HDR_T_H
#define VIPGATE_GW_HDR_T_H

#include <stddef.h>
#include <stdint.h>

#include "vipgate/util.h"

#define GW_MAX_HEADERS_BYTES	(60 * 1024)	/* more: 431 */
#define GW_MAX_HEADERS		200

/* An accumulated message head: request target (or nothing) and fields. */
struct hent {
	uint32_t	no, nl, vo, vl;
};
struct hhead {
	struct vg_buf	 b;
	struct hent	*h;
	size_t		 n, cap;
	int		 last_value;
	uint32_t	 url_l;
	int		 overflow;
	uint32_t	 max;		/* head size limit; 0: GW_MAX_HEADERS_BYTES */
};

/*
 * A list of fields being put together for a head (name and value
 * pointers, nothing copied): on the stack while small.
 */
struct gw_hdr;
struct gw_hlist {
	struct gw_hdr	*f;
	size_t		 n, cap;
	struct gw_hdr	*heap;		/* f when it outgrew the stack */
};
#define GW_HLIST_STACK	48

/* Letters and digits, as a designated initializer of a byte table. */
#define ALNUM_1 \
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, \
	['8'] = 1, ['9'] = 1, \
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, \
	['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, \
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, \
	['Y'] = 1, ['Z'] = 1, \
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, \
	['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, \
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, \
	['y'] = 1, ['z'] = 1

#endif
