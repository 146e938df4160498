#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <sys/time.h>

#include <jansson.h>

#include "vipgate/log.h"

const char *log_procname = "vipgated";
static int log_stderr = 1;
static enum log_level log_level = LOG_LVL_INFO;
static enum log_format log_format = LOG_FMT_TEXT;

void
log_init(int to_stderr, enum log_level lvl, enum log_format fmt)
{
	log_stderr = to_stderr;
	log_level = lvl;
	log_format = fmt;
	if (!to_stderr)
		openlog(log_procname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

void
log_setlevel(enum log_level lvl)
{
	log_level = lvl;
}

void
log_setformat(enum log_format fmt)
{
	log_format = fmt;
}

int
log_getverbose(void)
{
	return log_level >= LOG_LVL_DEBUG;
}

static const char *lvl_names[] = { "error", "warning", "info", "debug" };

void
vlog(enum log_level lvl, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[4096];
	int saved = errno;

	if (lvl > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_format == LOG_FMT_JSON) {
		struct timeval tv;
		struct tm tm;
		char ts[64];
		json_t *o;
		char *s;

		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));
		o = json_pack("{s:s,s:s,s:s}", "time", ts, "level",
		    lvl_names[lvl], "msg", msg);
		s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
		if (log_stderr)
			fprintf(stderr, "%s\n", s ? s : msg);
		else
			syslog(prio[lvl], "%s", s ? s : msg);
		free(s);
		json_decref(o);
	} else if (log_stderr) {
		struct timeval tv;
		struct tm tm;

		gettimeofday(&tv, NULL);
		localtime_r(&tv.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s%s\n", tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000),
		    lvl <= LOG_LVL_WARN ? (lvl == LOG_LVL_ERROR ? "error: " :
		    "warning: ") : "", msg);
	} else
		syslog(prio[lvl], "%s", msg);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", buf, strerror(e));
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_WARN, fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LVL_DEBUG)
		return;
	va_start(ap, fmt);
	vlog(LOG_LVL_DEBUG, fmt, ap);
	va_end(ap);
}

static void __attribute__((noreturn)) VG_PRINTF(2, 0)
vfatalc(int code, const char *fmt, va_list ap)
{
	char buf[4096];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (code)
		log_error("fatal: %s: %s", buf, strerror(code));
	else
		log_error("fatal: %s", buf);
	exit(2);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vfatalc(e, fmt, ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfatalc(0, fmt, ap);
}
