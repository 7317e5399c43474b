/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the tunnel record layer, part three of test_tnl: the
 * anti-replay window (RFC 6479) alone, step by step: its size, first
 * packets and duplicates, its edges and word boundaries, jumps far ahead,
 * the end of the sequence space, and every order inside the window.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- against RFC 6479's ring, and across threads ---- */

/*
 * RFC 6479's single-writer ring, as the record layer had it before the
 * tagged words: the reference the window must agree with, and the layout
 * a takeover carries.
 */
struct ref_replay {
	uint64_t top; /* highest accepted sequence + 1 */
	uint64_t bits[NM_TNL_REPLAY_WORDS];
};

static unsigned int
ref_check(const struct ref_replay *r, uint64_t seq)
{
	if (seq == NM_TNL_SEQ_LIMIT)
		return NM_TNL_E_REPLAY_SEQ_LIMIT;

	uint64_t pos = seq + 1;

	if (pos > r->top)
		return NM_TNL_OK;
	if (r->top - pos >= NM_TNL_REPLAY_WINDOW)
		return NM_TNL_E_REPLAY_TOO_OLD;
	if ((r->bits[(pos / 64) % NM_TNL_REPLAY_WORDS] >> (pos % 64)) & 1)
		return NM_TNL_E_REPLAY_DUPLICATE;
	return NM_TNL_OK;
}

static unsigned int
ref_update(struct ref_replay *r, uint64_t seq)
{
	unsigned int reason = ref_check(r, seq);

	if (reason != NM_TNL_OK)
		return reason;

	uint64_t pos = seq + 1, word = pos / 64;

	if (pos > r->top) {
		for (uint64_t w = r->top / 64 + 1;
		     w <= word && w <= r->top / 64 + NM_TNL_REPLAY_WORDS; w++)
			r->bits[w % NM_TNL_REPLAY_WORDS] = 0;
		r->top = pos;
	}
	r->bits[word % NM_TNL_REPLAY_WORDS] |= 1ull << (pos % 64);
	return NM_TNL_OK;
}

static uint64_t
rnd_next(uint64_t *state)
{
	/* xorshift64*: reproducible, and good enough to mix histories. */
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545F4914F6CDD1Dull;
}

/*
 * The next sequence of a history: mostly the next one, else one a little
 * back (reordering and duplicates), a step ahead inside the window, a jump
 * across one or many rounds, or one far back. base is the sender's highest.
 */
static uint64_t
history_next(uint64_t *base, uint64_t *rnd)
{
	uint64_t r = rnd_next(rnd), pick = r % 1000, arg = r >> 20;

	if (pick < 600)
		return ++*base;
	if (pick < 850)
		return *base - arg % 80 < *base ? *base - arg % 80 : 0;
	if (pick < 950)
		return *base >= arg % (NM_TNL_REPLAY_WINDOW + 200)
			   ? *base - arg % (NM_TNL_REPLAY_WINDOW + 200)
			   : 0;
	if (pick < 980)
		return *base += arg % 3000;
	if (pick < 997)
		return *base +=
		       4096 * (1 + arg % 70) + arg % 64; /* whole rounds, some past the ring */
	return *base += 1000000 + arg % 1000;
}

Test(replay, agrees_with_rfc6479_ring_over_a_random_history)
{
	struct nm_tnl_replay r;
	struct ref_replay ref = {0};
	uint64_t rnd = 0x9e3779b97f4a7c15ull, base = 0;
	unsigned int accepted = 0;

	nm_tnl_replay_init(&r);
	for (unsigned int i = 0; i < 100000; i++) {
		uint64_t seq = history_next(&base, &rnd);
		unsigned int want = ref_check(&ref, seq);

		cr_assert_eq(nm_tnl_replay_check(&r, seq), want, "step %u seq %llu: check", i,
			     (unsigned long long)seq);
		cr_assert_eq(nm_tnl_replay_update(&r, seq), ref_update(&ref, seq),
			     "step %u seq %llu: update", i, (unsigned long long)seq);
		accepted += want == NM_TNL_OK;
	}
	/* The history must exercise every answer, not only the in-order one. */
	cr_assert_gt(accepted, 50000);
	cr_assert_lt(accepted, 95000);
	cr_assert_eq(r.top, ref.top);
}

/* Histories for the takeover's layout: which kind of step each one takes. */
enum history_kind { IN_ORDER, GAPS, JUMP_MILLION, JUMP_ROUNDS, RANDOM };

static void
history_play(enum history_kind kind, struct nm_tnl_replay *r, struct ref_replay *ref)
{
	uint64_t rnd = 0x1234567ull + kind, base = 0;

	nm_tnl_replay_init(r);
	for (uint64_t i = 0; i < 20000; i++) {
		uint64_t seq;

		switch (kind) {
		case IN_ORDER:
			seq = i;
			break;
		case GAPS: /* every third skipped, some late */
			seq = i % 3 == 0 ? i : i % 7 == 0 ? i - 50 : i + 1;
			break;
		case JUMP_MILLION:
			seq = i < 10000 ? i : i + 1000000;
			break;
		case JUMP_ROUNDS: /* ahead by 70 rounds every 1000, gaps between */
			seq = i / 1000 * 4096 * 70 + (i % 1000) * 2;
			break;
		default:
			seq = history_next(&base, &rnd);
			break;
		}
		nm_tnl_replay_update(r, seq);
		ref_update(ref, seq);
	}
}

Test(replay, export_import_round_trip_keeps_every_answer)
{
	static const enum history_kind kinds[] = {IN_ORDER, GAPS, JUMP_MILLION, JUMP_ROUNDS,
						  RANDOM};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct nm_tnl_replay r, back, from_ref;
		struct ref_replay ref = {0};
		uint64_t top, bits[NM_TNL_REPLAY_WORDS];

		history_play(kinds[k], &r, &ref);
		nm_tnl_replay_export(&r, &top, bits);

		/* The export is RFC 6479's ring, word for word: what an older release wrote. */
		cr_assert_eq(top, ref.top, "history %zu", k);
		for (unsigned int j = 0; j < NM_TNL_REPLAY_WORDS; j++)
			cr_assert_eq(bits[j], ref.bits[j], "history %zu word %u", k, j);

		nm_tnl_replay_import(&back, top, bits);
		nm_tnl_replay_import(&from_ref, ref.top, ref.bits);
		uint64_t lo = top > 5001 ? top - 5001 : 0; /* top is the highest seq + 1 */
		for (uint64_t seq = lo; seq <= top - 1 + 100; seq++) {
			unsigned int want = nm_tnl_replay_check(&r, seq);

			cr_assert_eq(want, ref_check(&ref, seq), "history %zu seq %llu", k,
				     (unsigned long long)seq);
			cr_assert_eq(nm_tnl_replay_check(&back, seq), want, "history %zu seq %llu",
				     k, (unsigned long long)seq);
			cr_assert_eq(nm_tnl_replay_check(&from_ref, seq), want,
				     "history %zu seq %llu", k, (unsigned long long)seq);
		}
	}
}

Test(replay, import_of_an_empty_window_accepts_anything)
{
	struct nm_tnl_replay r;
	uint64_t top = 7, bits[NM_TNL_REPLAY_WORDS] = {0};

	nm_tnl_replay_import(&r, 0, bits);
	cr_assert_eq(nm_tnl_replay_check(&r, 0), NM_TNL_OK);
	cr_assert_eq(nm_tnl_replay_update(&r, 0), NM_TNL_OK);
	cr_assert_eq(nm_tnl_replay_update(&r, 0), NM_TNL_E_REPLAY_DUPLICATE);
	nm_tnl_replay_init(&r);
	nm_tnl_replay_export(&r, &top, bits);
	cr_assert_eq(top, 0);
	for (unsigned int j = 0; j < NM_TNL_REPLAY_WORDS; j++)
		cr_assert_eq(bits[j], 0);
}

/*
 * Threads. Each of THREADS updates one shared window with the same list of
 * sequences, in its own order; every sequence has an id (a duplicate in
 * the list shares its id) and accepted[id] counts the OKs over all threads.
 */
#define THREADS	  4
#define SEQ_COUNT 200000

struct seq_item {
	uint64_t seq;
	uint32_t id;
};

struct race {
	struct nm_tnl_replay window;
	struct seq_item *order[THREADS];
	uint32_t accepted[SEQ_COUNT];
	unsigned int ready; /* threads at the start line */
	unsigned int burst; /* 0: one update per sequence; else update_burst of this many */
};

struct racer {
	struct race *race;
	unsigned int index;
};

static void *
racer_run(void *arg)
{
	struct racer *me = arg;
	struct race *race = me->race;
	const struct seq_item *order = race->order[me->index];

	/* All start together, so that they really overlap on 2 cores. */
	__atomic_add_fetch(&race->ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&race->ready, __ATOMIC_ACQUIRE) < THREADS)
		;
	if (race->burst == 0) {
		for (unsigned int i = 0; i < SEQ_COUNT; i++)
			if (nm_tnl_replay_update(&race->window, order[i].seq) == NM_TNL_OK)
				__atomic_add_fetch(&race->accepted[order[i].id], 1,
						   __ATOMIC_RELAXED);
		return NULL;
	}
	for (unsigned int i = 0; i < SEQ_COUNT; i += race->burst) {
		unsigned int n = SEQ_COUNT - i < race->burst ? SEQ_COUNT - i : race->burst;
		uint64_t seqs[NM_TNL_REPLAY_BURST_MAX];
		uint16_t why[NM_TNL_REPLAY_BURST_MAX];

		for (unsigned int k = 0; k < n; k++)
			seqs[k] = order[i + k].seq;
		nm_tnl_replay_update_burst(&race->window, seqs, n, why);
		for (unsigned int k = 0; k < n; k++)
			if (why[k] == NM_TNL_OK)
				__atomic_add_fetch(&race->accepted[order[i + k].id], 1,
						   __ATOMIC_RELAXED);
	}
	return NULL;
}

static void
race_run(struct race *race)
{
	pthread_t tid[THREADS];
	struct racer racers[THREADS];

	nm_tnl_replay_init(&race->window);
	race->ready = 0;
	for (unsigned int t = 0; t < THREADS; t++) {
		racers[t] = (struct racer){.race = race, .index = t};
		cr_assert_eq(pthread_create(&tid[t], NULL, racer_run, &racers[t]), 0);
	}
	for (unsigned int t = 0; t < THREADS; t++)
		cr_assert_eq(pthread_join(tid[t], NULL), 0);
}

/* Shuffle list[0..n) within blocks of block entries (reordering inside the window). */
static void
shuffle_blocks(struct seq_item *list, unsigned int n, unsigned int block, uint64_t seed)
{
	for (unsigned int start = 0; start < n; start += block) {
		unsigned int len = n - start < block ? n - start : block;

		for (unsigned int i = len - 1; i > 0; i--) {
			unsigned int j = (unsigned int)(rnd_next(&seed) % (i + 1));
			struct seq_item t = list[start + i];

			list[start + i] = list[start + j];
			list[start + j] = t;
		}
	}
}

static struct race *
race_new(void)
{
	struct race *race = calloc(1, sizeof(*race));

	cr_assert_not_null(race);
	for (unsigned int t = 0; t < THREADS; t++) {
		race->order[t] = calloc(SEQ_COUNT, sizeof(struct seq_item));
		cr_assert_not_null(race->order[t]);
	}
	return race;
}

static void
race_free(struct race *race)
{
	for (unsigned int t = 0; t < THREADS; t++)
		free(race->order[t]);
	free(race);
}

static void
at_most_once(unsigned int burst)
{
	struct race *race = race_new();
	struct seq_item *list = race->order[0];
	uint64_t rnd = 42, seq = 0;
	unsigned int total = 0;

	/* Mostly in order, with duplicates of recent ones and jumps far ahead. */
	for (uint32_t i = 0; i < SEQ_COUNT; i++) {
		uint64_t r = rnd_next(&rnd);

		if (i > 0 && r % 100 < 5) {
			list[i] = list[i - 1 - (r >> 8) % (i < 100 ? i : 100)];
			continue;
		}
		if (r % 5000 == 999)
			seq += 4096 * (1 + (r >> 8) % 300); /* rounds ahead, past the ring too */
		else if (r % 20000 == 7)
			seq += 1000000;
		list[i] = (struct seq_item){.seq = seq, .id = i};
		seq++;
	}
	for (unsigned int t = 1; t < THREADS; t++)
		memcpy(race->order[t], list, SEQ_COUNT * sizeof(*list));
	for (unsigned int t = 0; t < THREADS; t++)
		shuffle_blocks(race->order[t], SEQ_COUNT, 32 << t, 1000 + t);

	race->burst = burst;
	race_run(race);
	for (uint32_t id = 0; id < SEQ_COUNT; id++) {
		cr_assert_leq(race->accepted[id], 1, "id %u accepted %u times", id,
			      race->accepted[id]);
		total += race->accepted[id];
	}
	/* Most of a mostly in-order stream gets through: the race was real. */
	cr_assert_gt(total, SEQ_COUNT / 2, "only %u accepted", total);
	cr_log_info("%u of %u accepted", total, SEQ_COUNT);
	for (uint32_t i = 0; i < SEQ_COUNT; i++)
		if (race->accepted[list[i].id] == 1)
			cr_assert_neq(nm_tnl_replay_check(&race->window, list[i].seq), NM_TNL_OK);
	race_free(race);
}

Test(replay_threads, a_sequence_is_accepted_by_at_most_one_thread)
{
	at_most_once(0);
}

/* The same race with the workers' call: bursts of 32 (a chunk of tnl_record.c). */
Test(replay_threads, a_sequence_is_accepted_by_at_most_one_burst)
{
	at_most_once(32);
}

static void
exactly_once(unsigned int burst)
{
	struct race *race = race_new();

	for (unsigned int t = 0; t < THREADS; t++)
		for (uint32_t i = 0; i < SEQ_COUNT; i++)
			race->order[t][i] = (struct seq_item){.seq = i, .id = i};
	race->burst = burst;
	race_run(race);
	for (uint32_t id = 0; id < SEQ_COUNT; id++)
		cr_assert_eq(race->accepted[id], 1, "seq %u accepted %u times", id,
			     race->accepted[id]);
	cr_assert_eq(race->window.top, SEQ_COUNT);
	race_free(race);
}

Test(replay_threads, one_in_order_stream_is_accepted_exactly_once)
{
	exactly_once(0);
}

Test(replay_threads, one_in_order_stream_in_bursts_is_accepted_exactly_once)
{
	exactly_once(32);
}

/*
 * The burst update answers as one update per record in order would: the
 * random history of the test above, cut into bursts of 1 to 64 records,
 * against the reference ring updated one by one (duplicates inside a
 * burst, jumps that make a later record of the same burst too old, rounds
 * recycled inside a burst).
 */
Test(replay, burst_update_agrees_with_one_update_per_record)
{
	struct nm_tnl_replay r;
	struct ref_replay ref = {0};
	uint64_t rnd = 0x243f6a8885a308d3ull, base = 0, seqs[NM_TNL_REPLAY_BURST_MAX];
	uint16_t why[NM_TNL_REPLAY_BURST_MAX];
	unsigned int accepted = 0, bursts = 0;

	nm_tnl_replay_init(&r);
	for (unsigned int i = 0; i < 100000; bursts++) {
		unsigned int n = 1 + (unsigned int)(rnd_next(&rnd) % NM_TNL_REPLAY_BURST_MAX);

		for (unsigned int k = 0; k < n; k++)
			seqs[k] = history_next(&base, &rnd);
		/* Now and then a copy of an earlier record of the same burst. */
		if (n > 2 && rnd_next(&rnd) % 4 == 0)
			seqs[n - 1] = seqs[rnd_next(&rnd) % (n - 1)];
		nm_tnl_replay_update_burst(&r, seqs, n, why);
		for (unsigned int k = 0; k < n; k++, i++) {
			unsigned int want = ref_update(&ref, seqs[k]);

			cr_assert_eq(why[k], want, "burst %u record %u seq %llu: %u, want %u",
				     bursts, k, (unsigned long long)seqs[k], why[k], want);
			accepted += want == NM_TNL_OK;
		}
		cr_assert_eq(r.top, ref.top, "burst %u: top", bursts);
	}
	cr_assert_gt(accepted, 40000);
	cr_assert_lt(accepted, 95000);
	for (uint64_t s = ref.top > 5000 ? ref.top - 5000 : 0; s < ref.top + 100; s++)
		cr_assert_eq(nm_tnl_replay_check(&r, s), ref_check(&ref, s), "after: seq %llu",
			     (unsigned long long)s);
}
