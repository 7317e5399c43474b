/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How long the control thread's event loop takes to come round
 * (ctrl/loop_stats.c). Per turn, two numbers: its length, the time
 * between the starts of two turns, which includes the poll waits (an idle
 * turn lasts about one poll timeout, ctrl/main.c); and its busy time, the
 * length less the time spent waiting in poll() (ctrl/loop_wait.h): the
 * work the loop did, during which nothing else was served. Each has its
 * maximum and a histogram in power-of-two milliseconds. A long busy time
 * is the loop waiting on work, which moving long jobs off the loop
 * prevents.
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
	uint64_t last_waited_ns; /* nm_loop_waited_ns() then */
	uint64_t turns;
	uint64_t max_ns;      /* longest time between two turn starts */
	uint64_t max_busy_ns; /* longest busy time of a turn */
	uint64_t sum_ns;      /* of all turn lengths, for a histogram's _sum */
	uint64_t sum_busy_ns;
	uint64_t hist[NM_LOOP_BUCKETS];
	uint64_t busy_hist[NM_LOOP_BUCKETS];
	unsigned int poll_timeout_ms; /* what an idle turn lasts, for the reader */
};

/* Call at the start of every turn, with nm_loop_waited_ns(). */
void nm_loop_stats_turn(struct nm_loop_stats *s, uint64_t waited_ns);

/* The same at a given CLOCK_MONOTONIC time (for the tests). */
void nm_loop_stats_turn_at(struct nm_loop_stats *s, uint64_t now_ns, uint64_t waited_ns);

/* {"turns", "max_turn_ms", "max_busy_ms", "sum_turn_ms", "sum_busy_ms", "poll_timeout_ms",
 *  "turn_ms_histogram": {"<1": n, "<2": n, ... ">=1024": n}, "busy_ms_histogram": {...}} */
json_t *nm_loop_stats_json(const struct nm_loop_stats *s);

#endif
