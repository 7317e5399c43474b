/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Time spent waiting in poll(): see ctrl/loop_wait.h. A thread-local
 * total, so a test's threads or a job thread never count into the control
 * thread's.
 */
#include <errno.h>
#include <time.h>

#include "loop_wait.h"

static _Thread_local uint64_t waited_ns;

uint64_t
nm_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
nm_loop_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	uint64_t t0 = nm_mono_ns();
	int rc = poll(fds, n, timeout_ms);
	int saved = errno;

	waited_ns += nm_mono_ns() - t0;
	errno = saved;
	return rc;
}

uint64_t
nm_loop_waited_ns(void)
{
	return waited_ns;
}
