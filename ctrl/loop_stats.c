/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Turn-time statistics of the control thread's event loop: see
 * ctrl/loop_stats.h. Control thread only, no atomics needed.
 */
#include <stdio.h>
#include <time.h>

#include "loop_stats.h"

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
nm_loop_stats_turn(struct nm_loop_stats *s)
{
	uint64_t now = now_ns();

	if (s->last_ns != 0) {
		uint64_t dt = now - s->last_ns;
		uint64_t ms = dt / 1000000u;
		unsigned int b = 0;

		/* Bucket b >= 1 holds [2^(b-1), 2^b) ms. */
		while (ms > 0 && b < NM_LOOP_BUCKETS - 1) {
			ms >>= 1;
			b++;
		}
		s->hist[b]++;
		if (dt > s->max_ns)
			s->max_ns = dt;
		s->turns++;
	}
	s->last_ns = now;
}

json_t *
nm_loop_stats_json(const struct nm_loop_stats *s)
{
	json_t *hist = json_object();
	char key[16];

	for (unsigned int b = 0; b < NM_LOOP_BUCKETS; b++) {
		if (b == NM_LOOP_BUCKETS - 1)
			snprintf(key, sizeof(key), ">=%u", 1u << (b - 1));
		else
			snprintf(key, sizeof(key), "<%u", 1u << b);
		json_object_set_new(hist, key, json_integer((json_int_t)s->hist[b]));
	}
	return json_pack("{s:I, s:f, s:i, s:o}", "turns", (json_int_t)s->turns, "max_turn_ms",
			 (double)s->max_ns / 1e6, "poll_timeout_ms", (int)s->poll_timeout_ms,
			 "turn_ms_histogram", hist);
}
