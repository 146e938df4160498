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

#include "gw-hdr-t.h"

/* Field i's name and value in the head's buffer (lengths: h[i].nl, h[i].vl). */
#define HN(hh, i)	((hh)->b.s + (hh)->h[i].no)
#define HV(hh, i)	((hh)->b.s + (hh)->h[i].vo)

/* Empties a head for the next message; its memory is kept. */
void hh_reset(struct hhead *);
void hh_free(struct hhead *);
int hh_room(struct hhead *, size_t len);	/* 0 and overflow set past the limit */
/* Parser callbacks: a piece of a field's name, of its value; 0, or -1 past the limits. */
int hh_field(struct hhead *, const char *at, size_t len);
int hh_value(struct hhead *, const char *at, size_t len);
int hname_is(const struct hhead *, size_t i, const char *name);	/* case-insensitive */
/* The value of the first field called name (any case), or NULL. */
const char *gw_hdr_get(const struct hhead *, const char *name, size_t *len);
/* A gRPC request: content-type application/grpc, +proto, +json ... */
int gw_is_grpc(const struct hhead *);
/* The value of a cookie of the Cookie fields, or NULL. */
const char *gw_hdr_cookie(const struct hhead *, const char *name, size_t *len);
/* The value of a query parameter of a request target, or NULL. */
const char *gw_query_param(const char *target, size_t tlen, const char *name, size_t *len);
/* The same with a string literal: its length is known at compile time. */
#define HNAME_IS(hh, i, lit) ((hh)->h[i].nl == sizeof(lit) - 1 && \
	strncasecmp(HN(hh, i), (lit), sizeof(lit) - 1) == 0)
/* Field i is hop-by-hop (RFC 9110 7.6.1) or one the proxy frames itself: not forwarded. */
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

/* Starts a list on stack[GW_HLIST_STACK]. */
void gw_hlist_init(struct gw_hlist *, struct gw_hdr *stack);
/* Appends a field (pointers kept, nothing copied); the list moves to the heap when full. */
void gw_hlist_add(struct gw_hlist *, const char *n, size_t nl, const char *v, size_t vl);
/* The set and add operations of a route or destination. */
void gw_hlist_ops(struct gw_hlist *, const struct gw_header_ops *);
void gw_hlist_free(struct gw_hlist *);

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
