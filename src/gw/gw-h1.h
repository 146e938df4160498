/*
 * HTTP/1.1 message heads as the proxy keeps them (one buffer, fields by
 * offset), and the framing rules it enforces. Pure: the proxy and the
 * fuzzer share it.
 */
#ifndef VIPGATE_GW_H1_H
#define VIPGATE_GW_H1_H

#include <stddef.h>
#include <stdint.h>
#include <strings.h>

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

#define HN(hh, i)	((hh)->b.s + (hh)->h[i].no)
#define HV(hh, i)	((hh)->b.s + (hh)->h[i].vo)

void hh_reset(struct hhead *);
void hh_free(struct hhead *);
int hh_room(struct hhead *, size_t len);	/* 0 and overflow set past the limit */
int hh_field(struct hhead *, const char *at, size_t len);	/* parser callbacks: 0 or -1 */
int hh_value(struct hhead *, const char *at, size_t len);
int hname_is(const struct hhead *, size_t i, const char *name);	/* case-insensitive */
/* The same with a string literal: its length is known at compile time. */
#define HNAME_IS(hh, i, lit) ((hh)->h[i].nl == sizeof(lit) - 1 && \
	strncasecmp(HN(hh, i), (lit), sizeof(lit) - 1) == 0)
int hop_by_hop(const struct hhead *, size_t i);
/*
 * RFC 9110 7.6.1: marks in drop[hh->n] the fields a Connection field names
 * (beyond the hop-by-hop ones hop_by_hop knows); returns how many.
 */
size_t gw_h1_conn_named(const struct hhead *, uint8_t *drop);
/*
 * The characters RFC 3986 3.2 allows in an authority (Envoy's
 * authorityIsValid, after nghttp2): a Host with others gets 400.
 */
int gw_authority_ok(const char *, size_t);
/* An Upgrade field offers websocket: the only upgrade Istio configures. */
int gw_h1_websocket(const struct hhead *);

enum gw_h1_framing {
	GW_H1_OK,
	GW_H1_BAD_TE,		/* a transfer-coding other than chunked */
	GW_H1_AMBIGUOUS,	/* CL and TE, two CL, two TE: smuggling */
};
/* RFC 9112 6.1 and 6.3 checks on a request head; *expect: 100-continue asked. */
enum gw_h1_framing gw_h1_framing(const struct hhead *, int *expect);

/*
 * The line rules of a message head that libhttp-parser (built lenient in
 * Debian) lets through, checked on the raw bytes before it sees them
 * (RFC 9112 2.2, 5.1, 5.2; RFC 9110 5.5 and 5.6.2): a field name is a
 * token directly followed by the colon, no line starts with whitespace
 * (obs-fold, or a first field line that a backend may trim), no bare CR,
 * no control character in the start line or a field value. *st carries
 * the position across reads: GW_H1_SCAN_START before a message,
 * GW_H1_SCAN_DONE after its head (GW_H1_SCAN_STATUS before a response,
 * whose reason phrase may hold HTAB). Returns the bytes up to and including
 * the head's end (len while it goes on), or -1 with *why set: a request
 * gets 400, a response 502.
 */
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
long gw_h1_scan(uint8_t *st, const char *p, size_t len, const char **why);

/*
 * Envoy's trusted client address with xff_num_trusted_hops = hops: the
 * hops-th address from the right of an x-forwarded-for value. 0 and the
 * address's text, or -1 when hops is 0, the list is shorter or the entry is
 * not an IP address (the peer's address counts then).
 */
int gw_xff_client(const char *xff, size_t len, unsigned hops, char *out, size_t outlen);
/* Envoy's default internal addresses: RFC 1918, loopback, IPv6 unique local. */
int gw_addr_internal(const char *addr);

#endif
