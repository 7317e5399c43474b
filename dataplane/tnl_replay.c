/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The anti-replay window (nodemesh/tunnel.h) to and from RFC 6479's
 * layout: top and 64 words, slot j holding the bits of the absolute word
 * a_j, the largest a <= top / 64 with a % 64 == j. A takeover carries the
 * window in that layout (ctrl/takeover_tunnel.c), which releases before
 * the tagged ring read and write, so the wire did not change with it:
 * control thread, while no worker uses the window. And the update of a
 * burst's records at once (workers).
 */
#include <stdbool.h>
#include <stdint.h>

#include "nodemesh/tunnel.h"

/*
 * The absolute word RFC 6479's slot j holds under top, or -1 when no
 * word at or below top / 64 falls in slot j (top under 64 * j).
 */
static int64_t
slot_word(uint64_t top, unsigned int j)
{
	uint64_t top_word = top / 64;

	if (top_word < j)
		return -1;
	return (int64_t)(top_word - ((top_word - j) & (NM_TNL_REPLAY_WORDS - 1)));
}

void
nm_tnl_replay_export(const struct nm_tnl_replay *r, uint64_t *top,
		     uint64_t bits[NM_TNL_REPLAY_WORDS])
{
	*top = __atomic_load_n(&r->top, __ATOMIC_RELAXED);
	for (unsigned int j = 0; j < NM_TNL_REPLAY_WORDS; j++) {
		struct nm_tnl_replay_word w = nm_tnl_replay_word_read(&r->ring[j]);
		int64_t a = slot_word(*top, j);

		/* A slot on an older round is one the window slid over: RFC 6479 cleared it. */
		bits[j] = a >= 0 && w.round == (uint64_t)a / NM_TNL_REPLAY_WORDS ? w.bits : 0;
	}
}

void
nm_tnl_replay_import(struct nm_tnl_replay *r, uint64_t top,
		     const uint64_t bits[NM_TNL_REPLAY_WORDS])
{
	nm_tnl_replay_init(r);
	r->top = top;
	for (unsigned int j = 0; j < NM_TNL_REPLAY_WORDS; j++) {
		int64_t a = slot_word(top, j);

		/*
		 * No word of slot j at or below top: nothing there can have been
		 * received, whatever the sender wrote; round 0, empty, as at init.
		 */
		if (a < 0)
			continue;
		r->ring[j].round = (uint64_t)a / NM_TNL_REPLAY_WORDS;
		r->ring[j].bits = bits[j];
	}
}

/*
 * nm_tnl_replay_update_burst (nodemesh/tunnel.h). Two passes. The first,
 * in order and without touching the window, refuses what the records
 * before would have made refusable one by one: the sequence limit, too
 * old against top as the earlier records raise it, and a second copy in
 * the burst; what is left is tentatively accepted. The second marks the
 * tentative records word by word, in the order their words first appear:
 * all of one (slot, round) with one compare-and-swap, those whose bit
 * another update set first being duplicates, all of them too old if the
 * slot moved to a later round. Then top is raised once. Alone this
 * answers as one update per record (a duplicate's position is at or below
 * top already, so its tentative raise changes nothing); shared it is as
 * exactly-once as one update per record: a bit is set only by a CAS that
 * found it clear in that round.
 */
void
nm_tnl_replay_update_burst(struct nm_tnl_replay *replay, const uint64_t *seqs, unsigned int n,
			   uint16_t *reasons)
{
	uint64_t top = __atomic_load_n(&replay->top, __ATOMIC_RELAXED);
	uint64_t t = top, best = 0;
	bool done[NM_TNL_REPLAY_BURST_MAX];

	for (unsigned int i = 0; i < n; i++) {
		uint64_t pos = seqs[i] + 1;

		done[i] = true;
		if (seqs[i] == NM_TNL_SEQ_LIMIT) {
			reasons[i] = NM_TNL_E_REPLAY_SEQ_LIMIT;
			continue;
		}
		if (pos <= t && t - pos >= NM_TNL_REPLAY_WINDOW) {
			reasons[i] = NM_TNL_E_REPLAY_TOO_OLD;
			continue;
		}
		reasons[i] = NM_TNL_OK;
		for (unsigned int k = 0; k < i; k++)
			if (!done[k] && seqs[k] == seqs[i])
				reasons[i] = NM_TNL_E_REPLAY_DUPLICATE;
		if (reasons[i] != NM_TNL_OK)
			continue;
		done[i] = false; /* tentative: marked below */
		if (pos > t)
			t = pos;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (done[i])
			continue;
		uint64_t pos = seqs[i] + 1;
		uint64_t round = NM_TNL_REPLAY_ROUND(pos), slot = NM_TNL_REPLAY_SLOT(pos);
		uint64_t mask = 0;

		for (unsigned int k = i; k < n; k++)
			if (!done[k] && NM_TNL_REPLAY_SLOT(seqs[k] + 1) == slot &&
			    NM_TNL_REPLAY_ROUND(seqs[k] + 1) == round)
				mask |= 1ull << ((seqs[k] + 1) % 64);

		uint64_t dup = 0;
		bool old = !nm_tnl_replay_mark(replay, slot, round, mask, &dup);

		for (unsigned int k = i; k < n; k++) {
			uint64_t p = seqs[k] + 1;

			if (done[k] || NM_TNL_REPLAY_SLOT(p) != slot ||
			    NM_TNL_REPLAY_ROUND(p) != round)
				continue;
			done[k] = true;
			if (old)
				reasons[k] = NM_TNL_E_REPLAY_TOO_OLD;
			else if (dup & (1ull << (p % 64)))
				reasons[k] = NM_TNL_E_REPLAY_DUPLICATE;
			else if (p > best)
				best = p;
		}
	}
	nm_tnl_replay_raise_top(replay, top, best);
}
