/*
 * sd_notify(3) for vipgated, through libsystemd when it is built with it.
 * The calls are datagrams on a unix socket, cheap enough for the main loop.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "vipgate/log.h"
#include "vipgate/sdnotify.h"

void
sdn_send(const char *fmt, ...)
{
#ifdef HAVE_LIBSYSTEMD
	va_list ap;
	char *s;
	int r;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	if ((r = sd_notify(0, s)) < 0)
		log_debug("sd_notify: %s", strerror(-r));
	free(s);
#else
	(void)fmt;
#endif
}

void
sdn_reloading(const char *status)
{
	struct timespec ts;

	/* the monotonic clock systemd (253+) compares with its own */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sdn_send("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=%s",
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000,
	    status);
}

uint64_t
sdn_watchdog_usec(void)
{
#ifdef HAVE_LIBSYSTEMD
	uint64_t usec = 0;

	/* only when WATCHDOG_PID is ours (or unset): not a parent's watchdog */
	if (sd_watchdog_enabled(0, &usec) > 0)
		return usec;
#endif
	return 0;
}
