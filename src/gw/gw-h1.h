/*
 * The HTTP/1.1 rules the gateway enforces on message heads: framing,
 * upgrades, and the raw line scan. Pure: the connection layers and the
 * fuzzer share it.
 */
#ifndef VIPGATE_GW_H1_H
#define VIPGATE_GW_H1_H

#include <stddef.h>
#include <stdint.h>

#include "gw-h1-t.h"
#include "gw-hdr-t.h"

/* An Upgrade field offers websocket: the only upgrade Istio configures. */
int gw_h1_websocket(const struct hhead *);

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
long gw_h1_scan(uint8_t *st, const char *p, size_t len, const char **why);

#endif
