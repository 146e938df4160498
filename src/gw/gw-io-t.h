/* Gateway connection I/O's types (gw_io.c): the callbacks and the TLS role. */
#ifndef VIPGATE_GW_IO_T_H
#define VIPGATE_GW_IO_T_H

struct gw_io;
typedef struct ssl_st SSL;

/* Called with the connection and the argument given to gw_io_setcb. */
typedef void (*gw_io_cb)(struct gw_io *, void *);
/* what: BEV_EVENT_* bits (event2/bufferevent.h). */
typedef void (*gw_io_event_cb)(struct gw_io *, short what, void *);

enum gw_io_mode {
	GW_IO_PLAIN,
	GW_IO_TLS_ACCEPT,	/* we are the TLS server */
	GW_IO_TLS_CONNECT	/* we are the TLS client */
};

#endif
