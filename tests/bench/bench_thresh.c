/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cost of one match of a thresholded rule on a worker
 * (dataplane/sig_thresh.c): nm_sig_thresh_check over 1, 64 and 4,096
 * source addresses of a `threshold: type limit, track by_src` rule, in a
 * table of the workers' size. No EAL: the clock is the loop counter.
 *
 *   build/tests/bench/bench_thresh [CHECKS]     (default 20,000,000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nodemesh/sig_set-t.h"
#include "sig_thresh.h"

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	struct nm_sig_thresh lim = {NM_SIG_THRESH_LIMIT, NM_SIG_TRACK_SRC, 1, 60};
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000000ul;
	struct nm_sig_thresh_table *t =
	    nm_sig_thresh_table_create(NM_SIG_THRESH_SLOTS, 1000000000ull);

	if (t == NULL || n == 0) {
		fprintf(stderr, "bench_thresh: %s\n",
			t == NULL ? "no table" : "CHECKS must be > 0");
		return 1;
	}
	for (uint32_t keys = 1; keys <= 4096; keys *= 64) {
		unsigned long full = 0;
		double t0 = now_ns();
		for (unsigned long i = 0; i < n; i++)
			full +=
			    nm_sig_thresh_check(t, &lim, 7, 1, 0xc6120000u + (uint32_t)(i % keys),
						0xc6120001u, i) == NM_SIG_THRESH_FULL;
		printf("keys %4u: %.1f ns per check, %lu not counted (table full)\n", keys,
		       (now_ns() - t0) / (double)n, full);
	}
	nm_sig_thresh_table_free(t);
	return 0;
}
