/*
 * Bounded readers and writers of wire bytes (network order), after
 * OpenBGPD's ibuf: every codec (BGP, ARP/NDP, heartbeats) reads and writes
 * packets through these, never by casting bytes to a struct or indexing a
 * buffer by hand.
 */
#ifndef VIPGATE_WIRE_T_H
#define VIPGATE_WIRE_T_H

#include <stddef.h>
#include <stdint.h>

/*
 * A reader over p[0..len): off is how much was taken. err is sticky: a read
 * past the end sets it, takes nothing and yields zeros, and so does every
 * read after it, so a decoder reads a group of fields and checks err once.
 */
struct wire_rd {
	const uint8_t	*p;
	size_t		 len, off;
	int		 err;
};

/*
 * A writer into p[0..cap): len is how much was written. overflow is
 * sticky: a write that does not fit sets it and writes nothing, and so does
 * every write after it.
 */
struct wire_wr {
	uint8_t		*p;
	size_t		 cap, len;
	int		 overflow;
};

#endif
