/*
 * Gateway connection I/O: one socket, plain or TLS, with an input and an
 * output evbuffer. It keeps libevent bufferevent's model (callbacks,
 * watermarks, read and write timeouts, BEV_EVENT_* bits) so the proxy
 * reads the same, and does less per request, as HAProxy's connection
 * layer does:
 *  - a read is one readv (TLS: SSL_read with read-ahead) into the
 *    input's free space, with no FIONREAD ioctl before it;
 *  - output is written in the loop round that queued it (speculative
 *    send); EV_WRITE is armed only while the socket refuses bytes, so a
 *    request and its answer cost no epoll_ctl;
 *  - TLS records OpenSSL has already read are decrypted while it holds
 *    any (SSL_has_pending), so read-ahead never waits for a readable
 *    socket that will not come.
 * Each gw_io belongs to one event_base (one worker thread).
 */
#ifndef VIPGATE_GW_IO_H
#define VIPGATE_GW_IO_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/bufferevent.h>		/* BEV_EVENT_* */
#include <event2/util.h>

#include "gw-io-t.h"

struct event_base;
struct evbuffer;

/*
 * A connection on fd (-1: gw_io_connect makes the socket). It owns fd and
 * ssl from now on, and closes and frees them with itself. A TLS one
 * reports BEV_EVENT_CONNECTED when its handshake is done; a plain one
 * made with gw_io_connect when its TCP connection is.
 */
struct gw_io *gw_io_new(struct event_base *, evutil_socket_t fd, SSL *, enum gw_io_mode);
/* Start a non-blocking connect; -1 (errno set) when it cannot even start. */
int gw_io_connect(struct gw_io *, const struct sockaddr *, socklen_t);
/*
 * Bytes (at most GW_IO_PREAMBLE_MAX) sent in clear as soon as the connect
 * is done, before a TLS handshake or any output: a PROXY protocol header,
 * which Envoy's proxy_protocol transport socket puts outside TLS. Set
 * before gw_io_connect.
 */
#define GW_IO_PREAMBLE_MAX	128
void gw_io_set_preamble(struct gw_io *, const void *, size_t);
/* Safe inside the connection's own callbacks. */
void gw_io_free(struct gw_io *);

/* The callbacks and their argument, as bufferevent_setcb. */
void gw_io_setcb(struct gw_io *, gw_io_cb readcb, gw_io_cb writecb, gw_io_event_cb eventcb,
    void *arg);
/* Start (enable) or stop (disable) reading (EV_READ) and writing (EV_WRITE). */
void gw_io_enable(struct gw_io *, short what);
void gw_io_disable(struct gw_io *, short what);
/* No data read for rd (while reading), or no progress writing for wr: BEV_EVENT_TIMEOUT. */
void gw_io_set_timeouts(struct gw_io *, const struct timeval *rd, const struct timeval *wr);
/*
 * EV_READ: stop reading at hi bytes waiting in the input (0: no limit);
 * EV_WRITE: the write callback runs when the output drains to lo.
 */
void gw_io_setwatermark(struct gw_io *, short what, size_t lo, size_t hi);

/* The buffers: what was read, what is to be written. */
struct evbuffer *gw_io_input(struct gw_io *);
struct evbuffer *gw_io_output(struct gw_io *);
/* Queue bytes (or a buffer's content) for output: 0, or -1 when out of memory. */
int gw_io_write(struct gw_io *, const void *, size_t);
int gw_io_write_buffer(struct gw_io *, struct evbuffer *);
/* A byte pipe's step: what from read goes to to; from stops reading while to holds more than hwm. */
void gw_io_pump(struct gw_io *from, struct gw_io *to, size_t hwm);
/*
 * Write the output now, not at the end of this loop round (output is
 * always written within the round that queued it; this is sooner).
 */
void gw_io_send_now(struct gw_io *);

evutil_socket_t gw_io_fd(const struct gw_io *);
/* Send what an evbuffer holds on a plain socket and drain it; send()'s return. */
ssize_t gw_io_sendbuf(evutil_socket_t, struct evbuffer *);
SSL *gw_io_ssl(const struct gw_io *);
/*
 * Microseconds this thread has spent in TLS handshakes (SSL_do_handshake):
 * the worker's yield check reads it (gw-yield.h).
 */
extern __thread int64_t gw_io_handshake_us;

/* The first OpenSSL error of a failed handshake or record, 0 if none. */
unsigned long gw_io_ssl_error(const struct gw_io *);

#endif
