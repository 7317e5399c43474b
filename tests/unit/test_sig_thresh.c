/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the threshold / detection_filter counting of the workers
 * (dataplane/sig_thresh.c): the verdict of each match of every type over
 * a test clock (1,000 ticks a second, times given in ticks, no sleeps),
 * the window's edges, what each track keys on, and a full table.
 */
#include <errno.h>
#include <stdint.h>

#include <criterion/criterion.h>

#include "sig_thresh.h"

#define HZ 1000 /* ticks per second of the test clock: a tick is a millisecond */

enum { A = NM_SIG_THRESH_ALERT, S = NM_SIG_THRESH_SILENT, H = NM_SIG_THRESH_HOLD };

#define SRC 0xc6120001u /* 198.18.0.1 */
#define DST 0xc6120002u

/* ---- invalid input ----------------------------------------------------- */

Test(sig_thresh, create_refuses_bad_sizes_and_clock)
{
	static const struct {
		uint32_t slots;
		uint64_t hz;
	} bad[] = {{0, HZ}, {12, HZ}, {8, 0}};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		cr_expect_null(nm_sig_thresh_table_create(bad[i].slots, bad[i].hz), "case %zu", i);
		cr_expect_eq(errno, EINVAL, "case %zu", i);
	}
}

/* ---- every type, match by match ---------------------------------------- */

#define MAX_STEPS 12

static const struct {
	const char *what;
	struct nm_sig_thresh th;
	unsigned int n;
	uint64_t at[MAX_STEPS]; /* tick of each match, one key */
	int want[MAX_STEPS];
} sequences[] = {
    /* window 10 s = 10,000 ticks from the first match; 10,000 is still inside */
    {"limit 2: alert twice, then act silently; a new window alerts again",
     {NM_SIG_THRESH_LIMIT, NM_SIG_TRACK_SRC, 2, 10},
     7,
     {0, 1, 2, 10000, 10001, 10002, 10003},
     {A, A, S, S, A, A, S}},
    {"limit 1 over three windows",
     {NM_SIG_THRESH_LIMIT, NM_SIG_TRACK_SRC, 1, 60},
     5,
     {0, 59999, 60000, 60001, 200000},
     {A, S, S, A, A}},
    {"threshold 3: every third in the window, counting again after each",
     {NM_SIG_THRESH_THRESHOLD, NM_SIG_TRACK_SRC, 3, 10},
     9,
     {0, 1, 2, 3, 4, 5, 10001, 10002, 10003},
     {H, H, A, H, H, A, H, H, A}},
    {"threshold 2: a window that ends with one match does not carry it over",
     {NM_SIG_THRESH_THRESHOLD, NM_SIG_TRACK_SRC, 2, 1},
     4,
     {0, 1001, 1002, 2003},
     {H, H, A, H}},
    {"threshold 1: every match, at any time",
     {NM_SIG_THRESH_THRESHOLD, NM_SIG_TRACK_SRC, 1, 1},
     4,
     {0, 1, 5000, 5001},
     {A, A, A, A}},
    {"both 2: the second alerts, the rest of the window acts silently",
     {NM_SIG_THRESH_BOTH, NM_SIG_TRACK_SRC, 2, 10},
     7,
     {0, 1, 2, 3, 10001, 10002, 10003},
     {H, A, S, S, H, A, S}},
    {"both 1: the first of each window alerts",
     {NM_SIG_THRESH_BOTH, NM_SIG_TRACK_SRC, 1, 10},
     4,
     {0, 1, 10000, 10001},
     {A, S, S, A}},
    {"detection_filter 3: nothing for three, then every match",
     {NM_SIG_THRESH_DETECTION, NM_SIG_TRACK_SRC, 3, 10},
     8,
     {0, 1, 2, 3, 4, 10000, 10001, 10002},
     {H, H, H, A, A, A, H, H}},
    {"detection_filter 1: from the second match of the window",
     {NM_SIG_THRESH_DETECTION, NM_SIG_TRACK_SRC, 1, 2},
     4,
     {0, 2000, 2001, 2002},
     {H, A, H, A}},
};

Test(sig_thresh, each_type_match_by_match)
{
	for (size_t i = 0; i < sizeof(sequences) / sizeof(sequences[0]); i++) {
		struct nm_sig_thresh_table *t = nm_sig_thresh_table_create(64, HZ);
		cr_assert_not_null(t);
		for (unsigned int k = 0; k < sequences[i].n; k++) {
			int got = nm_sig_thresh_check(t, &sequences[i].th, 7, 1, SRC, DST,
						      sequences[i].at[k]);
			cr_expect_eq(got, sequences[i].want[k], "%s: match %u at %lu: got %d",
				     sequences[i].what, k + 1, (unsigned long)sequences[i].at[k],
				     got);
		}
		nm_sig_thresh_table_free(t);
	}
}

/* ---- keys ---------------------------------------------------------------- */

/* limit 1: the first match of a key alerts, a second of the same key is silent. */
static int
first_again(struct nm_sig_thresh_table *t, uint8_t track, uint32_t sid, uint32_t rev, uint32_t src,
	    uint32_t dst)
{
	struct nm_sig_thresh th = {NM_SIG_THRESH_LIMIT, track, 1, 60};

	return nm_sig_thresh_check(t, &th, sid, rev, src, dst, 5);
}

Test(sig_thresh, each_track_keys_on_what_it_names)
{
	static const struct {
		const char *what;
		uint8_t track;
		uint32_t src, dst; /* the second match; the first is SRC -> DST */
		int want;
	} keys[] = {
	    {"by_src, same source, other destination", NM_SIG_TRACK_SRC, SRC, DST + 1, S},
	    {"by_src, other source", NM_SIG_TRACK_SRC, SRC + 1, DST, A},
	    {"by_dst, same destination, other source", NM_SIG_TRACK_DST, SRC + 1, DST, S},
	    {"by_dst, other destination", NM_SIG_TRACK_DST, SRC, DST + 1, A},
	    {"by_rule, everything else different", NM_SIG_TRACK_RULE, SRC + 5, DST + 5, S},
	    {"by_both, the reverse direction", NM_SIG_TRACK_BOTH, DST, SRC, S},
	    {"by_both, another pair", NM_SIG_TRACK_BOTH, SRC, DST + 1, A},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct nm_sig_thresh_table *t = nm_sig_thresh_table_create(64, HZ);
		cr_assert_not_null(t);
		cr_expect_eq(first_again(t, keys[i].track, 7, 1, SRC, DST), A, "%s: first",
			     keys[i].what);
		cr_expect_eq(first_again(t, keys[i].track, 7, 1, keys[i].src, keys[i].dst),
			     keys[i].want, "%s", keys[i].what);
		nm_sig_thresh_table_free(t);
	}
}

Test(sig_thresh, rules_count_apart_by_sid_and_rev)
{
	struct nm_sig_thresh_table *t = nm_sig_thresh_table_create(64, HZ);

	cr_assert_not_null(t);
	cr_expect_eq(first_again(t, NM_SIG_TRACK_RULE, 7, 1, SRC, DST), A);
	cr_expect_eq(first_again(t, NM_SIG_TRACK_RULE, 8, 1, SRC, DST), A, "another sid");
	cr_expect_eq(first_again(t, NM_SIG_TRACK_RULE, 7, 2, SRC, DST), A, "another rev");
	cr_expect_eq(first_again(t, NM_SIG_TRACK_RULE, 7, 1, SRC, DST), S, "the first again");
	nm_sig_thresh_table_free(t);
}

/* ---- bounds -------------------------------------------------------------- */

Test(sig_thresh, full_table_holds_until_a_window_passes)
{
	struct nm_sig_thresh th = {NM_SIG_THRESH_LIMIT, NM_SIG_TRACK_SRC, 1, 1};
	struct nm_sig_thresh_table *t = nm_sig_thresh_table_create(NM_SIG_THRESH_PROBES, HZ);

	cr_assert_not_null(t);
	/* As many sources as slots: every probe of a ninth finds a live window. */
	for (uint32_t i = 0; i < NM_SIG_THRESH_PROBES; i++)
		cr_expect_eq(nm_sig_thresh_check(t, &th, 7, 1, SRC + i, DST, 0), A, "source %u", i);
	cr_expect_eq(nm_sig_thresh_check(t, &th, 7, 1, SRC + 100, DST, 1000), NM_SIG_THRESH_FULL);
	/* A key already in keeps counting. */
	cr_expect_eq(nm_sig_thresh_check(t, &th, 7, 1, SRC, DST, 1000), S);
	/* One tick after the windows end, their slots are free for others. */
	cr_expect_eq(nm_sig_thresh_check(t, &th, 7, 1, SRC + 100, DST, 1001), A);
	cr_expect_eq(nm_sig_thresh_check(t, &th, 7, 1, SRC + 100, DST, 1002), S);
	nm_sig_thresh_table_free(t);
}

Test(sig_thresh, longest_window_on_a_fast_clock_does_not_wrap)
{
	/* 2^32 - 1 seconds at 5 GHz is past 2^64 ticks: the window saturates. */
	struct nm_sig_thresh th = {NM_SIG_THRESH_LIMIT, NM_SIG_TRACK_SRC, 1, UINT32_MAX};
	struct nm_sig_thresh_table *t = nm_sig_thresh_table_create(64, 5000000000ull);

	cr_assert_not_null(t);
	cr_expect_eq(nm_sig_thresh_check(t, &th, 7, 1, SRC, DST, 1000), A);
	cr_expect_eq(nm_sig_thresh_check(t, &th, 7, 1, SRC, DST, UINT64_MAX - 1), S);
	cr_expect_eq(nm_sig_thresh_check(t, &th, 7, 1, SRC, DST, UINT64_MAX), S);
	nm_sig_thresh_table_free(t);
}
