/* IPv4 and IPv6 addresses as values, with the arithmetic pools need. */
#ifndef VIPGATE_IPADDR_H
#define VIPGATE_IPADDR_H

#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

struct ipaddr {
	uint8_t	family;		/* AF_INET or AF_INET6; 0 = none */
	uint8_t	a[16];		/* network order; IPv4 uses a[0..3], rest zero */
};

#define IPADDR_STRLEN 46

int ipaddr_parse(const char *, struct ipaddr *);	/* 0 or -1 */
/* "10.0.0.0/24" or "fd00::/64"; host bits must be zero unless loose. */
int ipaddr_parse_cidr(const char *, struct ipaddr *, int *plen, int loose);
const char *ipaddr_fmt(const struct ipaddr *, char *buf /* IPADDR_STRLEN */);
int ipaddr_cmp(const struct ipaddr *, const struct ipaddr *);	/* v4 sorts before v6 */
int ipaddr_eq(const struct ipaddr *, const struct ipaddr *);
/* Same addresses in the same order. */
int ipaddr_list_eq(const struct ipaddr *, size_t, const struct ipaddr *, size_t);
int ipaddr_bits(const struct ipaddr *);	/* 32 or 128 */
/* a + 1 / a - 1 within the family; returns -1 on wrap. */
int ipaddr_inc(struct ipaddr *);
int ipaddr_dec(struct ipaddr *);
/* Network (host bits cleared) and last address of a prefix. */
void ipaddr_prefix_first(const struct ipaddr *, int plen, struct ipaddr *out);
void ipaddr_prefix_last(const struct ipaddr *, int plen, struct ipaddr *out);
/* Number of addresses in [lo, hi], saturated at UINT64_MAX. */
uint64_t ipaddr_span(const struct ipaddr *lo, const struct ipaddr *hi);
uint64_t ipaddr_hash(const struct ipaddr *);

#endif
