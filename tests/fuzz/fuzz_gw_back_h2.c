/*
 * libFuzzer: bytes from an upstream -> the gateway's client HTTP/2 session
 * (gw_back_h2.c: libnghttp2 with our callbacks; answers, trailers, resets,
 * GOAWAY, flow control) carrying three requests at once, one of them with
 * a body and one held (back-pressure) until the input's last part. The
 * input follows the server's SETTINGS and is fed in up to three reads; the
 * requests and the session are then closed and freed.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "../../src/gw/gw-back-h2.h"
#include "../../src/gw/gw-hdr.h"
#include "../../src/gw/gw-io.h"
#include "vipgate/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct req {
	struct gw_uh2_rq	*rq;
	int			 hold;
	size_t			 body, touched;
	int			 status;
};

static void
touch(void *arg)
{
	((struct req *)arg)->touched++;
}

static enum gw_back_verdict
head(void *arg, int status, const struct hhead *hh, int eos)
{
	struct req *r = arg;

	(void)hh;
	(void)eos;
	if (status < 100 || status > 999)
		abort();	/* the session passes on only three digits */
	r->status = status;
	return status < 200 ? GW_BACK_INTERIM : status == 204 ? GW_BACK_PASS_NOBODY :
	    status == 503 ? GW_BACK_DISCARD : GW_BACK_PASS;
}

static int
body(void *arg, const void *p, size_t len)
{
	struct req *r = arg;

	(void)p;
	r->body += len;
	return r->hold;
}

static void
trailers(void *arg, const struct hhead *hh)
{
	(void)arg;
	(void)hh;
}

static const struct gw_uh2_cb cb = { touch, head, body, trailers };

static const char get[] = "GET /a HTTP/1.1\r\nhost: up.test\r\nx-a: 1\r\n\r\n";
static const char post[] = "POST /grpc HTTP/1.1\r\nhost: up.test\r\n"
    "content-type: application/grpc\r\ncontent-length: 10\r\n\r\n0123456789";
static const char chunked[] = "PUT /c HTTP/1.1\r\nhost: up.test\r\n"
    "transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct event_base *base;
	struct gw_io *io;
	struct gw_uh2 *u;
	struct req r[3];
	size_t cut1 = len / 3, cut2 = 2 * len / 3, i;

	if (base == NULL) {
		log_init(1, LOG_LVL_ERROR, LOG_FMT_TEXT);
		base = event_base_new();
	}
	io = gw_io_new(base, -1, NULL, GW_IO_PLAIN);
	if (io == NULL || (u = gw_uh2_new(io, 0)) == NULL)
		abort();
	memset(r, 0, sizeof(r));
	for (i = 0; i < 3; i++)
		r[i].rq = gw_uh2_open(u, &cb, &r[i]);
	r[1].hold = 1;
	(void)gw_uh2_send(r[0].rq, get, sizeof(get) - 1);
	(void)gw_uh2_send(r[1].rq, post, sizeof(post) - 1);
	(void)gw_uh2_send(r[2].rq, chunked, sizeof(chunked) - 1);
	/* what the session wrote is not the fuzzer's concern */
	evbuffer_drain(gw_io_output(io), evbuffer_get_length(gw_io_output(io)));
	/* the server's empty SETTINGS first, then the input in three reads */
	evbuffer_add(gw_io_input(io), "\0\0\0\4\0\0\0\0\0", 9);
	evbuffer_add(gw_io_input(io), data, cut1);
	(void)gw_uh2_input(u);
	evbuffer_add(gw_io_input(io), data + cut1, cut2 - cut1);
	(void)gw_uh2_input(u);
	r[1].hold = 0;
	gw_uh2_resume(r[1].rq);
	evbuffer_add(gw_io_input(io), data + cut2, len - cut2);
	(void)gw_uh2_input(u);
	for (i = 0; i < 3; i++) {
		enum gw_uh2_state st = gw_uh2_state(r[i].rq);

		if ((unsigned)st > GW_UH2_BAD)
			abort();
		/* a request that is not answered has no clean end */
		if (gw_uh2_clean(r[i].rq) && st != GW_UH2_DONE)
			abort();
	}
	(void)gw_uh2_room(u, 2);
	(void)gw_uh2_reusable(u);
	/* one request closed before the session, the others after it */
	gw_uh2_close(r[0].rq);
	gw_uh2_free(u);
	gw_uh2_close(r[1].rq);
	gw_uh2_close(r[2].rq);
	gw_io_free(io);
	return 0;
}
