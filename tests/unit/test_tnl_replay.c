/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the tunnel record layer, part three of test_tnl: the
 * anti-replay window (RFC 6479) alone, step by step: its size, first
 * packets and duplicates, its edges and word boundaries, jumps far ahead,
 * the end of the sequence space, and every order inside the window.
 */
#include <stdint.h>

#include <criterion/criterion.h>

#include "nodemesh/tunnel.h"
#include "tnl_priv.h"

/* ---- anti-replay window ---- */

struct replay_step {
	uint64_t seq;
	unsigned int want;
};

static void
replay_run(const char *name, const struct replay_step *steps, size_t n)
{
	struct nm_tnl_replay r;

	nm_tnl_replay_init(&r);
	for (size_t i = 0; i < n; i++) {
		unsigned int checked = nm_tnl_replay_check(&r, steps[i].seq);
		unsigned int updated = nm_tnl_replay_update(&r, steps[i].seq);

		cr_assert_eq(checked, steps[i].want, "%s step %zu (seq %llu): check says %s", name,
			     i + 1, (unsigned long long)steps[i].seq, nm_tnl_reason_name(checked));
		cr_assert_eq(updated, steps[i].want, "%s step %zu: update says %s", name, i + 1,
			     nm_tnl_reason_name(updated));
	}
}

#define RUN(steps) replay_run(#steps, steps, sizeof(steps) / sizeof(steps[0]))
#define W	   NM_TNL_REPLAY_WINDOW

Test(replay, window_is_at_least_2048)
{
	cr_assert_geq(NM_TNL_REPLAY_WINDOW, 2048);
	cr_assert_eq(NM_TNL_REPLAY_WINDOW, 4032);
}

Test(replay, first_packet_and_duplicates)
{
	static const struct replay_step zero_first[] = {
	    /* 1 */ {0, NM_TNL_OK},
	    /* 2 */ {0, NM_TNL_E_REPLAY_DUPLICATE},
	    /* 3 */ {1, NM_TNL_OK},
	    /* 4 */ {1, NM_TNL_E_REPLAY_DUPLICATE},
	    /* 5 */ {0, NM_TNL_E_REPLAY_DUPLICATE},
	};
	static const struct replay_step late_first[] = {
	    /* 1 */ {1000, NM_TNL_OK}, /* any sequence may come first */
	    /* 2 */ {999, NM_TNL_OK},  /* and earlier ones within the window after it */
	    /* 3 */ {0, NM_TNL_OK},
	    /* 4 */ {1000, NM_TNL_E_REPLAY_DUPLICATE},
	    /* 5 */ {999, NM_TNL_E_REPLAY_DUPLICATE},
	};
	RUN(zero_first);
	RUN(late_first);
}

Test(replay, window_edges)
{
	static const struct replay_step edges[] = {
	    /* 1 */ {10000, NM_TNL_OK},
	    /* 2 */ {10000 - W, NM_TNL_E_REPLAY_TOO_OLD}, /* just outside */
	    /* 3 */ {10000 - W + 1, NM_TNL_OK},		  /* oldest inside */
	    /* 4 */ {10000 - W + 1, NM_TNL_E_REPLAY_DUPLICATE},
	    /* 5 */ {0, NM_TNL_E_REPLAY_TOO_OLD},
	    /* 6 */ {10001, NM_TNL_OK}, /* slides by one: step 3's sequence now falls out */
	    /* 7 */ {10000 - W + 1, NM_TNL_E_REPLAY_TOO_OLD},
	    /* 8 */ {10000 - W + 2, NM_TNL_OK},
	    /* 9 */ {9999, NM_TNL_OK},
	    /* 10 */ {10000, NM_TNL_E_REPLAY_DUPLICATE},
	};
	RUN(edges);
}

Test(replay, word_boundaries)
{
	/* Positions are seq + 1: seq 63 opens word 1, seq 4095 wraps to the ring's word 0. */
	static const struct replay_step words[] = {
	    /* 1 */ {62, NM_TNL_OK},
	    /* 2 */ {63, NM_TNL_OK},
	    /* 3 */ {64, NM_TNL_OK},
	    /* 4 */ {4095, NM_TNL_OK}, /* ring wraps: word 64 reuses word 0's slot */
	    /* 5 */ {62, NM_TNL_E_REPLAY_TOO_OLD},
	    /* 6 */ {63, NM_TNL_E_REPLAY_TOO_OLD},   /* 4095 - 63 = 4032 = W */
	    /* 7 */ {64, NM_TNL_E_REPLAY_DUPLICATE}, /* 4031 back: inside, and kept */
	    /* 8 */ {65, NM_TNL_OK},
	    /* 9 */ {4094, NM_TNL_OK},
	    /* 10 */ {4096, NM_TNL_OK},
	    /* 11 */ {4095, NM_TNL_E_REPLAY_DUPLICATE},
	};
	RUN(words);
}

Test(replay, far_ahead_moves_the_window_and_old_ones_are_refused)
{
	static const struct replay_step jump[] = {
	    /* 1 */ {5, NM_TNL_OK},
	    /* 2 */ {6, NM_TNL_OK},
	    /* 3 */ {7, NM_TNL_OK},
	    /* 4 */ {1000000007, NM_TNL_OK},	  /* far ahead: accepted, window moves */
	    /* 5 */ {8, NM_TNL_E_REPLAY_TOO_OLD}, /* in flight before the jump: refused */
	    /* 6 */ {7, NM_TNL_E_REPLAY_TOO_OLD},
	    /* 7 */ {1000000007 - W + 1, NM_TNL_OK}, /* inside the new window, never seen */
	    /* 8 */ {1000000006, NM_TNL_OK},
	    /* 9 */ {1000000007, NM_TNL_E_REPLAY_DUPLICATE},
	    /* 10 */ {1000000007 + W / 2, NM_TNL_OK},	      /* a jump inside the window */
	    /* 11 */ {1000000006, NM_TNL_E_REPLAY_DUPLICATE}, /* kept across the slide */
	    /* 12 */ {1000000007 - W + 1, NM_TNL_E_REPLAY_TOO_OLD},
	};
	RUN(jump);
}

Test(replay, jump_clears_the_old_bits)
{
	/*
	 * A jump of a whole ring, or more, must clear every word: afterwards a
	 * sequence on the slot and bit of an old one is new, not a duplicate.
	 */
	static const struct replay_step ring[] = {
	    /* 1 */ {100, NM_TNL_OK},		 /* word 1, bit 37 */
	    /* 2 */ {4197, NM_TNL_OK},		 /* word 65 (slot 1): 64 words on */
	    /* 3 */ {4196, NM_TNL_OK},		 /* slot 1, bit 37 again: cleared */
	    /* 4 */ {4196 + 64 * 65, NM_TNL_OK}, /* word 130: 65 words on */
	    /* 5 */ {4196 + 64 * 64, NM_TNL_OK}, /* slot 1, bit 37, inside: cleared */
	    /* 6 */ {4196 + 64 * 64, NM_TNL_E_REPLAY_DUPLICATE},
	};
	RUN(ring);
}

Test(replay, sequence_wrap_is_never_accepted)
{
	static const struct replay_step wrap[] = {
	    /* 1 */ {UINT64_MAX, NM_TNL_E_REPLAY_SEQ_LIMIT}, /* even as the first */
	    /* 2 */ {UINT64_MAX - 1, NM_TNL_OK},
	    /* 3 */ {UINT64_MAX, NM_TNL_E_REPLAY_SEQ_LIMIT},
	    /* 4 */ {UINT64_MAX - 1, NM_TNL_E_REPLAY_DUPLICATE},
	    /* 5 */ {UINT64_MAX - 2, NM_TNL_OK},
	    /* 6 */ {0, NM_TNL_E_REPLAY_TOO_OLD},		   /* no wrap back to the start */
	    /* 7 */ {UINT64_MAX - 1 - W, NM_TNL_E_REPLAY_TOO_OLD}, /* highest is 2^64 - 2 */
	    /* 8 */ {UINT64_MAX - W, NM_TNL_OK},		   /* oldest inside */
	};
	RUN(wrap);
}

Test(replay, check_changes_nothing)
{
	struct nm_tnl_replay r;

	nm_tnl_replay_init(&r);
	cr_assert_eq(nm_tnl_replay_check(&r, 7), NM_TNL_OK);
	cr_assert_eq(nm_tnl_replay_check(&r, 7), NM_TNL_OK);
	cr_assert_eq(r.top, 0);
	cr_assert_eq(nm_tnl_replay_update(&r, 7), NM_TNL_OK);
	cr_assert_eq(nm_tnl_replay_check(&r, 7), NM_TNL_E_REPLAY_DUPLICATE);
}

Test(replay, every_order_inside_the_window_is_accepted_once)
{
	struct nm_tnl_replay r;
	static uint64_t seqs[W];
	uint64_t base = 123456789;
	uint32_t rnd = 12345;

	/* A shuffled window's worth after a first record at its top. */
	for (uint64_t i = 0; i < W; i++)
		seqs[i] = base - i;
	for (uint64_t i = W - 1; i > 0; i--) {
		rnd = rnd * 1103515245u + 12345u;
		uint64_t j = (rnd >> 8) % (i + 1), t = seqs[i];

		seqs[i] = seqs[j];
		seqs[j] = t;
	}
	nm_tnl_replay_init(&r);
	cr_assert_eq(nm_tnl_replay_update(&r, base), NM_TNL_OK);
	for (uint64_t i = 0; i < W; i++)
		cr_assert_eq(nm_tnl_replay_update(&r, seqs[i]),
			     seqs[i] == base ? NM_TNL_E_REPLAY_DUPLICATE : NM_TNL_OK, "seq %llu",
			     (unsigned long long)seqs[i]);
	for (uint64_t i = 0; i < W; i++)
		cr_assert_eq(nm_tnl_replay_check(&r, seqs[i]), NM_TNL_E_REPLAY_DUPLICATE);
	cr_assert_eq(nm_tnl_replay_check(&r, base - W), NM_TNL_E_REPLAY_TOO_OLD);
}
