/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The handshake token bucket (ctrl/peer_rate.c): a burst at once, then
 * the configured rate, never more, whatever the clock does.
 */
#include <criterion/criterion.h>

#include "peer_rate.h"

Test(peer_rate, zero_rate_and_burst_are_taken_as_one)
{
	struct nm_peer_rate r;

	nm_peer_rate_init(&r, 0, 0, 1000);
	cr_expect_eq(r.rate, 1);
	cr_expect_eq(r.burst, 1);
	cr_expect(nm_peer_rate_take(&r, 1000));
	cr_expect_not(nm_peer_rate_take(&r, 1000));
}

Test(peer_rate, burst_at_once_then_empty)
{
	struct nm_peer_rate r;

	nm_peer_rate_init(&r, 10, 5, 0);
	for (int i = 0; i < 5; i++)
		cr_expect(nm_peer_rate_take(&r, 0), "token %d of the burst", i);
	cr_expect_not(nm_peer_rate_take(&r, 0));
	cr_expect_eq(r.taken, 5);
	/* 10 a second: one every 100 ms. */
	cr_expect_eq(nm_peer_rate_wait_ms(&r, 0), 100);
	cr_expect_eq(nm_peer_rate_wait_ms(&r, 60), 40);
	cr_expect_not(nm_peer_rate_take(&r, 99));
	cr_expect(nm_peer_rate_take(&r, 100));
}

Test(peer_rate, never_more_than_burst_plus_rate_times_time)
{
	struct nm_peer_rate r;
	uint64_t taken = 0;

	nm_peer_rate_init(&r, 50, 10, 0);
	/* Ask every millisecond for 10 s: 10 + 50 * 10 tokens at most, and that many. */
	for (uint64_t t = 0; t <= 10000; t++)
		while (nm_peer_rate_take(&r, t))
			taken++;
	cr_expect_eq(taken, 10 + 500);
}

Test(peer_rate, rates_under_one_per_ms_do_not_round_away)
{
	struct nm_peer_rate r;

	nm_peer_rate_init(&r, 3, 1, 0);
	cr_expect(nm_peer_rate_take(&r, 0));
	/* 1000 / 3 = 333.3 ms: not at 333, at 334. */
	cr_expect_not(nm_peer_rate_take(&r, 333));
	cr_expect(nm_peer_rate_take(&r, 334));
}

Test(peer_rate, idle_time_refills_only_up_to_the_burst)
{
	struct nm_peer_rate r;
	int n = 0;

	nm_peer_rate_init(&r, 1000, 4, 0);
	for (int i = 0; i < 4; i++)
		cr_assert(nm_peer_rate_take(&r, 0));
	while (nm_peer_rate_take(&r, 3600 * 1000))
		n++;
	cr_expect_eq(n, 4);
}

Test(peer_rate, clock_going_back_adds_nothing)
{
	struct nm_peer_rate r;

	nm_peer_rate_init(&r, 10, 1, 5000);
	cr_expect(nm_peer_rate_take(&r, 5000));
	cr_expect_not(nm_peer_rate_take(&r, 1000));
	cr_expect_eq(nm_peer_rate_wait_ms(&r, 1000), 100);
	cr_expect(nm_peer_rate_take(&r, 5100));
}
