/* What route matching works on (gw_route.c): a request's fields, the compiled regexes. */
#ifndef VIPGATE_GW_ROUTE_T_H
#define VIPGATE_GW_ROUTE_T_H

#include <stddef.h>
#include <stdint.h>

/* The regexes of one gw_desired, compiled (PCRE2, JIT) once per snapshot. */
struct gw_rx;

/* A header field as a name and a value (pointers into the request or a route). */
struct gw_hdr {
	const char	*name;		/* any case */
	size_t		 nlen;
	const char	*value;
	size_t		 vlen;
};

/* What the matcher looks at in a request. */
struct gw_req {
	const char		*method;
	size_t			 method_len;
	const char		*path;		/* request target, with the query string */
	size_t			 path_len;
	const char		*authority;	/* Host, as sent (may hold a port) */
	size_t			 authority_len;
	const char		*scheme;	/* "http" or "https" */
	uint16_t		 port;		/* the listener's port */
	const struct gw_hdr	*hdrs;
	size_t			 nhdrs;
};

#endif
