/* BGP communities: the large kind (RFC 8092); a standard one is a uint32_t. */
#ifndef VIPGATE_COMMUNITY_T_H
#define VIPGATE_COMMUNITY_T_H

#include <stdint.h>

struct bgp_large_comm {
	uint32_t	global, local1, local2;
};

#endif
