/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The service manager's notification protocol (sd_notify(3)), spoken
 * without libsystemd: one datagram of "KEY=VALUE\n..." lines sent to the
 * Unix socket named by $NOTIFY_SOCKET (a path, or "@name" for the abstract
 * namespace). Outside systemd the variable is unset and every call does
 * nothing. The watchdog interval comes from $WATCHDOG_USEC, meant for us
 * only when $WATCHDOG_PID is unset or our pid.
 */
#ifndef NM_SD_NOTIFY_H
#define NM_SD_NOTIFY_H

#include <stdint.h>

/*
 * Send state (e.g. "READY=1\nSTATUS=..."). Returns 0 when sent or when
 * there is no $NOTIFY_SOCKET, or -errno (the socket is named but the send
 * failed; the caller says so once).
 */
int nm_sd_notify(const char *state);

/* Microseconds of $WATCHDOG_USEC if it is meant for this process, else 0. */
uint64_t nm_sd_watchdog_usec(void);

/* CLOCK_MONOTONIC in microseconds, as RELOADING=1 wants it in MONOTONIC_USEC. */
uint64_t nm_sd_monotonic_usec(void);

#endif
