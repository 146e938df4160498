/* The HTTP/1.1 head rules' results and scanner states (gw_h1.c). */
#ifndef VIPGATE_GW_H1_T_H
#define VIPGATE_GW_H1_T_H

/* What gw_h1_framing finds in a request head. */
enum gw_h1_framing {
	GW_H1_OK,
	GW_H1_BAD_TE,		/* a transfer-coding other than chunked */
	GW_H1_AMBIGUOUS,	/* CL and TE, two CL, two TE: smuggling */
};

/* gw_h1_scan's position in a head, carried across reads (a uint8_t). */
enum {
	GW_H1_SCAN_START,	/* before the start line (empty lines skipped) */
	GW_H1_SCAN_START_LINE,
	GW_H1_SCAN_START_CR,
	GW_H1_SCAN_LINE,	/* at the start of a field line or the empty line */
	GW_H1_SCAN_NAME,
	GW_H1_SCAN_VALUE,
	GW_H1_SCAN_VALUE_CR,
	GW_H1_SCAN_END_CR,
	GW_H1_SCAN_DONE,
	GW_H1_SCAN_STATUS,	/* before a response's status line (HTAB allowed in it) */
};

#endif
