/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How long the control thread's event loop takes to come round
 * (ctrl/loop_stats.c): the time between the starts of two turns, its
 * maximum and a histogram in power-of-two milliseconds. An idle turn lasts
 * one poll timeout (ctrl/main.c); anything well above it is the loop
 * waiting on work, which is what moving long jobs off the loop prevents.
 */
#ifndef NM_LOOP_STATS_H
#define NM_LOOP_STATS_H

#include <stdint.h>

#include <jansson.h>

/* Buckets: [0,1) ms, [1,2), [2,4), ... [512,1024), then >= 1024 ms. */
#define NM_LOOP_BUCKETS 12

struct nm_loop_stats {
	uint64_t
	    last_ns; /* CLOCK_MONOTONIC at the start of the previous turn, 0 before the first */
	uint64_t turns;
	uint64_t max_ns; /* longest time between two turn starts */
	uint64_t hist[NM_LOOP_BUCKETS];
	unsigned int poll_timeout_ms; /* what an idle turn lasts, for the reader */
};

/* Call at the start of every turn. */
void nm_loop_stats_turn(struct nm_loop_stats *s);

/* {"turns", "max_turn_ms", "poll_timeout_ms", "turn_ms_histogram": {"<1": n, "<2": n, ... ">=1024":
 * n}} */
json_t *nm_loop_stats_json(const struct nm_loop_stats *s);

#endif
