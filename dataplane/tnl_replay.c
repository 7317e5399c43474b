/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The anti-replay window (nodemesh/tunnel.h) to and from RFC 6479's
 * layout: top and 64 words, slot j holding the bits of the absolute word
 * a_j, the largest a <= top / 64 with a % 64 == j. A takeover carries the
 * window in that layout (ctrl/takeover_tunnel.c), which releases before
 * the tagged ring read and write, so the wire did not change with it.
 * Control thread, while no worker uses the window.
 */
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
