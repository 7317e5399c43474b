/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A start line for benchmarks run as several processes at once (scripts/bench
 * scale: one process per core). Each process finishes its set-up (EAL, node,
 * tables), then waits for the same wall-clock instant before its timed loop,
 * so the timed parts overlap and the cores really are busy together; the
 * script checks the overlap from the wall-clock span each process prints.
 * Header-only and DPDK-free: bench_tnl links no EAL.
 */
#ifndef NM_BENCH_START_H
#define NM_BENCH_START_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Wall-clock now, seconds since the epoch (CLOCK_REALTIME: shared by processes). */
static inline double
bench_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Parse -a START_AT (seconds since the epoch, fractions allowed); 0 means
 * "no start line". Returns 0, or -1 with a message naming the argument.
 */
static inline int
bench_start_parse(const char *prog, const char *arg, double *start_at)
{
	char *end;

	errno = 0;
	*start_at = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || *start_at < 0) {
		fprintf(stderr, "%s: -a '%s': expected seconds since the epoch\n", prog, arg);
		return -1;
	}
	return 0;
}

/*
 * Sleep until START_AT. A start line already past means set-up took longer
 * than the script allowed: the timed parts would not overlap, so say so
 * (the caller fails) rather than print figures that are not what they claim.
 */
static inline int
bench_start_wait(const char *prog, double start_at)
{
	double now = bench_wall_now();

	if (start_at == 0)
		return 0;
	if (now > start_at) {
		fprintf(stderr, "%s: set-up ended %.3f s after the start line (-a): no overlap\n",
			prog, now - start_at);
		return -1;
	}
	double wait = start_at - now;
	struct timespec ts = {.tv_sec = (time_t)wait,
			      .tv_nsec = (long)((wait - (double)(time_t)wait) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return 0;
}

#endif /* NM_BENCH_START_H */
