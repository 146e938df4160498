/*
 * The server name of a TLS ClientHello, read without terminating TLS
 * (gw_sni.c): what Envoy's tls_inspector listener filter does for the
 * filter chain match of a PASSTHROUGH server.
 */
#ifndef VIPGATE_GW_SNI_H
#define VIPGATE_GW_SNI_H

#include <stddef.h>
#include <stdint.h>

/*
 * The largest ClientHello read (the handshake message, without record
 * headers). Envoy's tls_inspector stops at 64 KiB; real ones are under
 * 2 KiB even with post-quantum key shares, and a bound this size keeps
 * the bytes a worker holds per connection small before it routes.
 */
#define GW_SNI_MAX_HELLO	16384
/* The most bytes read before a verdict: the hello in records of 1 byte. */
#define GW_SNI_MAX_INPUT	(GW_SNI_MAX_HELLO * 6 + 4 * 6)

enum gw_sni_res {
	GW_SNI_MORE,		/* the ClientHello is not all there yet */
	GW_SNI_NONE,		/* a whole ClientHello without a host_name */
	GW_SNI_FOUND,		/* name holds the host_name, lower-cased */
	GW_SNI_ERROR,		/* not a TLS ClientHello, or over the bounds */
};

/*
 * The reader's state between reads: whole records already taken (off
 * bytes of the stream) are not read again, so a hello in 1-byte records
 * costs linear time. Lives only until the verdict.
 */
struct gw_sni_rd {
	size_t		off;		/* stream bytes taken, in whole records */
	size_t		have, need;	/* hello bytes joined; its length + 4 (0: unknown) */
	size_t		want;		/* after GW_SNI_MORE: stream bytes for the next step */
	uint8_t		msg[4 + GW_SNI_MAX_HELLO];
};

void gw_sni_init(struct gw_sni_rd *);

/*
 * gw_sni_parse - the SNI of the ClientHello at the start of a stream
 * @rd: state from gw_sni_init, kept between calls
 * @buf, @len: every byte the client sent so far, from its first (records
 *	may be split anywhere: call again with the longer stream)
 * @name: out, NUL-terminated, for GW_SNI_FOUND (at most 255 bytes + NUL)
 *
 * Pure: never logs, never reads past len. Bytes after the ClientHello
 * are not looked at.
 */
enum gw_sni_res gw_sni_parse(struct gw_sni_rd *rd, const uint8_t *buf, size_t len, char name[256]);

/*
 * Whether the ClientHello gw_sni_parse read whole (GW_SNI_FOUND or
 * GW_SNI_NONE) offers one of Istio's mTLS ALPN protocols ("istio",
 * "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2"),
 * which the filter chains of an AUTO_PASSTHROUGH server require. Pure.
 */
int gw_sni_istio_alpn(const struct gw_sni_rd *rd);

#endif
