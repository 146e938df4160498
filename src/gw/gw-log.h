/* What a finished stream leaves behind (gw_log.c): access log line, Istio metrics. */
#ifndef VIPGATE_GW_LOG_H
#define VIPGATE_GW_LOG_H

struct gw_stream;

/* Counts a finished stream in istio_requests_total and writes its access log line. */
void gw_log_record(struct gw_stream *);

#endif
