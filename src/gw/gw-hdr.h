/*
 * HTTP message heads as the gateway keeps them (one buffer, fields by
 * offset) and the field rules every HTTP version shares. Pure: the
 * connection layers, the stream and the fuzzers share it.
 */
#ifndef VIPGATE_GW_HDR_H
#define VIPGATE_GW_HDR_H

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
size_t gw_conn_named(const struct hhead *, uint8_t *drop);
/*
 * The characters RFC 3986 3.2 allows in an authority (Envoy's
 * authorityIsValid, after nghttp2): a Host with others gets 400.
 */
int gw_authority_ok(const char *, size_t);

/* Calls fn on each comma-separated token of a field value (OWS trimmed) until it returns 1; 1 then. */
int gw_hdr_each_token(const char *v, size_t vl, int (*fn)(const char *, size_t, void *), void *arg);

/* Decimal digits of v at out (no NUL); their count. The hot path formats by hand. */
size_t gw_fmt_u64(char *out, uint64_t v);
/* A field name that a route's or destination's header operations remove or set. */
struct gw_header_ops;
int gw_ops_names(const char *name, size_t nl, const struct gw_header_ops *);

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
/* Starts a list on stack[GW_HLIST_STACK]. */
void gw_hlist_init(struct gw_hlist *, struct gw_hdr *stack);
void gw_hlist_add(struct gw_hlist *, const char *n, size_t nl, const char *v, size_t vl);
/* The set and add operations of a route or destination. */
void gw_hlist_ops(struct gw_hlist *, const struct gw_header_ops *);
void gw_hlist_free(struct gw_hlist *);

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
