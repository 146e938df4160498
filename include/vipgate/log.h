/* One logging API for the daemon and its tools (after OpenBGPD's log.h). */
#ifndef VIPGATE_LOG_H
#define VIPGATE_LOG_H

#include <stdarg.h>
#include "vipgate/util.h"

enum log_format { LOG_FMT_TEXT, LOG_FMT_JSON };
enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* to_stderr: log to stderr, else to syslog (facility daemon). */
void log_init(int to_stderr, enum log_level, enum log_format);
void log_setlevel(enum log_level);
void log_setformat(enum log_format);
int log_getverbose(void);
extern const char *log_procname;

void log_warn(const char *, ...) VG_PRINTF(1, 2);	/* appends strerror(errno) */
void log_warnx(const char *, ...) VG_PRINTF(1, 2);
void log_error(const char *, ...) VG_PRINTF(1, 2);	/* a failure, not a bug */
void log_info(const char *, ...) VG_PRINTF(1, 2);
void log_debug(const char *, ...) VG_PRINTF(1, 2);
void fatal(const char *, ...) VG_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *, ...) VG_PRINTF(1, 2) __attribute__((noreturn));
void vlog(enum log_level, const char *, va_list) VG_PRINTF(2, 0);

#endif
