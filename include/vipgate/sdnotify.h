/*
 * The service manager's notifications (sd_notify(3)): vipgated runs as a
 * Type=notify unit. READY=1 once the first reconcile is applied, RELOADING=1
 * (with MONOTONIC_USEC) when a reload starts and READY=1 when it is done,
 * STOPPING=1 when it drains, a STATUS= line with each, and WATCHDOG=1 from
 * the main loop at half the unit's WatchdogSec. Outside systemd (no
 * NOTIFY_SOCKET), or built without libsystemd, every call does nothing.
 */
#ifndef VIPGATE_SDNOTIFY_H
#define VIPGATE_SDNOTIFY_H

#include <stdint.h>

#include "vipgate/util.h"

/* Send one notification, "KEY=value" lines; the environment stays set, so
 * that later ones reach the manager too. */
void sdn_send(const char *fmt, ...) VG_PRINTF(1, 2);
/* RELOADING=1 and MONOTONIC_USEC=<now>, as systemd's notify-reload wants. */
void sdn_reloading(const char *status);
/* The watchdog's period the manager asked for, in microseconds; 0: none. */
uint64_t sdn_watchdog_usec(void);

#endif
