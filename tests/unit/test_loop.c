/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control loop's turn statistics (ctrl/loop_stats.c) and its timed
 * poll (ctrl/loop_wait.c): a turn's busy time is its length less the time
 * waited in poll(), both land in their power-of-two histograms, and the
 * maxima are kept.
 */
#include <poll.h>
#include <stdint.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "loop_stats.h"
#include "loop_wait.h"

#define MS 1000000ull

Test(loop, busy_is_length_less_wait)
{
	struct nm_loop_stats s = {0};

	nm_loop_stats_turn_at(&s, 1000 * MS, 0); /* first turn: nothing to measure yet */
	cr_assert_eq(s.turns, 0);
	/* 100 ms turn, 99.5 ms of it in poll: busy 0.5 ms. */
	nm_loop_stats_turn_at(&s, 1100 * MS, 99 * MS + MS / 2);
	/* 130 ms turn with 20 ms waited: busy 110 ms. */
	nm_loop_stats_turn_at(&s, 1230 * MS, 119 * MS + MS / 2);
	/* 3 ms turn, all busy. */
	nm_loop_stats_turn_at(&s, 1233 * MS, 119 * MS + MS / 2);
	cr_assert_eq(s.turns, 3);
	cr_assert_eq(s.max_ns, 130 * MS);
	cr_assert_eq(s.max_busy_ns, 110 * MS);
	cr_assert_eq(s.hist[7], 1); /* 100 ms: [64,128) */
	cr_assert_eq(s.hist[8], 1); /* 130 ms: [128,256) */
	cr_assert_eq(s.hist[2], 1); /* 3 ms: [2,4) */
	cr_assert_eq(s.busy_hist[0], 1);
	cr_assert_eq(s.busy_hist[7], 1);
	cr_assert_eq(s.busy_hist[2], 1);
}

Test(loop, wait_longer_than_turn_is_zero_busy)
{
	struct nm_loop_stats s = {0};

	nm_loop_stats_turn_at(&s, 10 * MS, 5 * MS);
	nm_loop_stats_turn_at(&s, 20 * MS, 16 * MS); /* clocks read apart: 11 ms "waited" */
	cr_assert_eq(s.max_busy_ns, 0);
	cr_assert_eq(s.busy_hist[0], 1);
	nm_loop_stats_turn_at(&s, 5000 * MS, 16 * MS);
	cr_assert_eq(s.busy_hist[NM_LOOP_BUCKETS - 1], 1); /* >= 1024 ms */
}

Test(loop, json)
{
	struct nm_loop_stats s = {.poll_timeout_ms = 100};

	nm_loop_stats_turn_at(&s, 1000 * MS, 0);
	nm_loop_stats_turn_at(&s, 1100 * MS, 60 * MS);
	json_t *j = nm_loop_stats_json(&s);
	cr_assert_not_null(j);
	cr_assert_eq(json_integer_value(json_object_get(j, "turns")), 1);
	cr_assert_float_eq(json_real_value(json_object_get(j, "max_turn_ms")), 100.0, 1e-9);
	cr_assert_float_eq(json_real_value(json_object_get(j, "max_busy_ms")), 40.0, 1e-9);
	cr_assert_eq(json_integer_value(json_object_get(j, "poll_timeout_ms")), 100);
	json_t *bh = json_object_get(j, "busy_ms_histogram");
	cr_assert_eq(json_object_size(bh), NM_LOOP_BUCKETS);
	cr_assert_eq(json_integer_value(json_object_get(bh, "<64")), 1);
	cr_assert_eq(json_integer_value(json_object_get(bh, ">=1024")), 0);
	cr_assert_eq(
	    json_integer_value(json_object_get(json_object_get(j, "turn_ms_histogram"), "<128")),
	    1);
	json_decref(j);
}

Test(loop, poll_counts_its_wait)
{
	uint64_t w0 = nm_loop_waited_ns();

	cr_assert_eq(nm_loop_poll(NULL, 0, 20), 0);
	uint64_t w = nm_loop_waited_ns() - w0;
	cr_assert_geq(w, 19 * MS, "waited %llu ns", (unsigned long long)w);
	cr_assert_lt(w, 2000 * MS);
}
