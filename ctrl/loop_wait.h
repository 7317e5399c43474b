/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The time the control thread's event loop spends waiting (ctrl/loop_wait.c).
 * Every poll() the loop can block in (the control socket's, the peers')
 * goes through nm_loop_poll, which adds how long it took to a per-thread
 * total. The loop's turn statistics (ctrl/loop_stats.h) subtract that
 * total from a turn's length: what is left is the turn's busy time, the
 * work during which nothing else is served.
 */
#ifndef NM_LOOP_WAIT_H
#define NM_LOOP_WAIT_H

#include <poll.h>
#include <stdint.h>

/* poll(), timed: errno as poll() left it. */
int nm_loop_poll(struct pollfd *fds, nfds_t n, int timeout_ms);

/* CLOCK_MONOTONIC in nanoseconds: the one clock the event loop's duties time themselves by. */
uint64_t nm_mono_ns(void);

/* Nanoseconds this thread has spent in nm_loop_poll so far. */
uint64_t nm_loop_waited_ns(void);

#endif
