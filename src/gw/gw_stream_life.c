/*
 * A stream's lifetime: made from the worker's pool when a request begins,
 * counted (access log, Istio's metrics) and given back when it ends.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "gw-back.h"
#include "gw-hdr.h"
#include "gw-jwt.h"
#include "gw-lb.h"
#include "gw-log.h"
#include "gw-resil.h"
#include "gw-snap.h"
#include "gw-stream.h"
#include "gw-stream-life.h"
#include "gw-worker-t.h"

/* Streams are recycled per worker with their buffers: no malloc per request. */
struct gw_stream *
gw_stream_new(struct gw_worker *w, struct gw_front *fc)
{
	struct gw_stream *st = w->st_pool;
	struct hhead hh;
	struct vg_buf up;

	if (st == NULL)
		st = xcalloc(1, sizeof(*st));
	else {
		w->st_pool = st->next_free;
		w->nst_pool--;
		hh = st->hh;
		up = st->uphead;
		memset(st, 0, sizeof(*st));
		st->hh = hh;
		hh_reset(&st->hh);
		st->uphead = up;
		st->uphead.len = 0;
	}
	st->w = w;
	st->fc = fc;
	w->inflight++;
	return st;
}

static void
stream_put(struct gw_stream *st)
{
	struct gw_worker *w = st->w;

	if (st->snap)
		gw_snap_unref(st->snap);
	st->snap = NULL;
	if (st->ev_timeout)
		event_free(st->ev_timeout);
	if (st->ev_step)
		event_free(st->ev_step);
	if (st->body)
		evbuffer_free(st->body);
	st->ev_timeout = st->ev_step = NULL;
	st->body = NULL;
	buf_free(&st->xhdrs);
	if (st->jwt) {
		gw_jwt_free(st->jwt);
		free(st->jwt);
		st->jwt = NULL;
	}
	if (w->nst_pool < 256 && st->hh.b.cap <= 16384 && st->uphead.cap <= 16384) {
		st->next_free = w->st_pool;
		w->st_pool = st;
		w->nst_pool++;
		return;
	}
	hh_free(&st->hh);
	buf_free(&st->uphead);
	free(st);
}

void
gw_stream_pool_free(struct gw_worker *w)
{
	struct gw_stream *st;

	while ((st = w->st_pool) != NULL) {
		w->st_pool = st->next_free;
		hh_free(&st->hh);
		buf_free(&st->uphead);
		free(st);
	}
	w->nst_pool = 0;
}

void
gw_stream_release_ep(struct gw_stream *st)
{
	if (st->lbs && st->ep)
		gw_lb_release(st->lbs, st->ep);
	st->lbs = NULL;
	gw_rs_req_release(&st->rs);
}

void
gw_stream_free(struct gw_stream *st, int record)
{
	if (st->uc) {
		/* answered locally while an upstream was attached, or the client left */
		gw_back_close(st->uc);
		st->uc = NULL;
	}
	gw_stream_release_ep(st);
	if (record)
		gw_log_record(st);
	st->w->inflight--;
	stream_put(st);
}

void
gw_stream_maybe_done(struct gw_stream *st)
{
	if (st->resp_done)
		st->fc->ops->done(st->fc);
}
