/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Turn-time statistics of the control thread's event loop: see
 * ctrl/loop_stats.h. Control thread only, no atomics needed.
 */
#include <stdio.h>

#include "loop_stats.h"
#include "loop_wait.h"

/* Bucket b >= 1 holds [2^(b-1), 2^b) ms. */
static unsigned int
bucket(uint64_t ns)
{
	uint64_t ms = ns / 1000000u;
	unsigned int b = 0;

	while (ms > 0 && b < NM_LOOP_BUCKETS - 1) {
		ms >>= 1;
		b++;
	}
	return b;
}

void
nm_loop_stats_turn_at(struct nm_loop_stats *s, uint64_t now, uint64_t waited_ns)
{
	if (s->last_ns != 0) {
		uint64_t dt = now - s->last_ns;
		uint64_t waited = waited_ns - s->last_waited_ns;
		uint64_t busy = waited < dt ? dt - waited : 0;

		s->hist[bucket(dt)]++;
		s->busy_hist[bucket(busy)]++;
		if (dt > s->max_ns)
			s->max_ns = dt;
		if (busy > s->max_busy_ns)
			s->max_busy_ns = busy;
		s->sum_ns += dt;
		s->sum_busy_ns += busy;
		s->turns++;
	}
	s->last_ns = now;
	s->last_waited_ns = waited_ns;
}

void
nm_loop_stats_turn(struct nm_loop_stats *s, uint64_t waited_ns)
{
	nm_loop_stats_turn_at(s, nm_mono_ns(), waited_ns);
}

static json_t *
hist_json(const uint64_t *hist)
{
	json_t *o = json_object();
	char key[16];

	for (unsigned int b = 0; b < NM_LOOP_BUCKETS; b++) {
		if (b == NM_LOOP_BUCKETS - 1)
			snprintf(key, sizeof(key), ">=%u", 1u << (b - 1));
		else
			snprintf(key, sizeof(key), "<%u", 1u << b);
		json_object_set_new(o, key, json_integer((json_int_t)hist[b]));
	}
	return o;
}

json_t *
nm_loop_stats_json(const struct nm_loop_stats *s)
{
	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:i, s:o, s:o}", "turns", (json_int_t)s->turns,
			 "max_turn_ms", (double)s->max_ns / 1e6, "max_busy_ms",
			 (double)s->max_busy_ns / 1e6, "sum_turn_ms", (double)s->sum_ns / 1e6,
			 "sum_busy_ms", (double)s->sum_busy_ns / 1e6, "poll_timeout_ms",
			 (int)s->poll_timeout_ms, "turn_ms_histogram", hist_json(s->hist),
			 "busy_ms_histogram", hist_json(s->busy_hist));
}
