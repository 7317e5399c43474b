/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key sets (nm_tnl_keyset, nodemesh/tunnel.h): one key used by several
 * workers. Sealing contexts share one sequence counter, so records sealed
 * by any of them open with one ordinary opening key and one window, and no
 * sequence number repeats; the AES-GCM record limit holds for the key as a
 * whole; a takeover's counters go on, a skip of sequence numbers spends no
 * record budget; opening contexts share one window.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "test_tnl_common.h"
#include "tnl_priv.h"

static struct nm_tnl_keyset *
set_new(unsigned int cipher, unsigned int dir, unsigned int n)
{
	struct nm_tnl_key_params p = {.cipher = (uint8_t)cipher, .dir = (uint8_t)dir, .epoch = 3};

	memcpy(p.key, test_key, nm_tnl_cipher_key_len(cipher));
	memcpy(p.iv, test_iv, NM_TNL_IV_LEN);
	struct nm_tnl_keyset *ks = nm_tnl_keyset_create(&p, n);
	cr_assert_not_null(ks, "nm_tnl_keyset_create: %s", strerror(errno));
	return ks;
}

Test(tnl_keyset, size_out_of_range_is_refused)
{
	struct nm_tnl_key_params p = {.cipher = NM_TNL_AES_128_GCM, .dir = NM_TNL_SEAL};

	cr_assert_null(nm_tnl_keyset_create(&p, 0));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(nm_tnl_keyset_create(&p, NM_TNL_CTX_MAX + 1));
	cr_assert_eq(errno, EINVAL);
}

/*
 * Two workers' contexts seal bursts in turn: the sequence numbers are one
 * run without a repeat, and one opening key with one window opens every
 * record, in the order they were sealed and in another one.
 */
Test(tnl_keyset, contexts_share_one_sequence_space)
{
	struct nm_tnl_keyset *seal = set_new(NM_TNL_AES_128_GCM, NM_TNL_SEAL, 2);
	struct nm_tnl_keyset *open = set_new(NM_TNL_AES_128_GCM, NM_TNL_OPEN, 2);
	static uint8_t mem[4 * BURST][BUF_ROOM];
	struct nm_tnl_buf b[4 * BURST];
	uint32_t lens[4 * BURST];
	unsigned int n = 0;

	for (unsigned int round = 0; round < 4; round++) {
		struct nm_tnl_key *ctx = nm_tnl_keyset_ctx(seal, round % 2);
		unsigned int k = 3 + round * 5; /* bursts of 3, 8, 13, 18 */

		for (unsigned int i = 0; i < k; i++)
			buf_fill(&b[n + i], mem[n + i], 60 + i);
		cr_assert_eq(nm_tnl_seal_burst(ctx, &b[n], (uint16_t)k), k);
		for (unsigned int i = 0; i < k; i++) {
			cr_assert_eq(b[n + i].seq, n + i, "record %u sealed by context %u", n + i,
				     round % 2);
			lens[n + i] = b[n + i].len;
		}
		n += k;
	}
	struct nm_tnl_key_stats st;
	nm_tnl_keyset_stats_get(seal, &st);
	cr_assert_eq(st.next_seq, n);
	cr_assert_eq(st.records, n, "records summed over the contexts");

	/* Opened out of order (the later context's bursts first), by both opening contexts. */
	unsigned int opened = 0;
	for (int pass = 1; pass >= 0; pass--)
		for (unsigned int i = 0; i < n; i++) {
			unsigned int which = (i / 11) % 2;
			if ((int)which != pass)
				continue;
			struct nm_tnl_buf o = {.data = mem[i], .len = lens[i], .room = BUF_ROOM};
			nm_tnl_open_burst(nm_tnl_keyset_ctx(open, i % 2), &open->replay, &o, 1);
			cr_assert_eq(o.reason, NM_TNL_OK, "record %u: %s", i,
				     nm_tnl_reason_name(o.reason));
			cr_assert_eq(o.seq, i);
			opened++;
		}
	cr_assert_eq(opened, n);
	/* A copy of any of them, to either context, is a duplicate. */
	for (unsigned int i = 0; i < n; i += 7) {
		struct nm_tnl_buf o = {.data = mem[i], .len = lens[i], .room = BUF_ROOM};
		nm_tnl_open_burst(nm_tnl_keyset_ctx(open, (i + 1) % 2), &open->replay, &o, 1);
		cr_assert_neq(o.reason, NM_TNL_OK, "copy of record %u opened again", i);
	}
	nm_tnl_keyset_free(seal);
	nm_tnl_keyset_free(open);
}

/* The AES-GCM record limit counts the key's records, whichever context sealed them. */
Test(tnl_keyset, record_limit_holds_for_the_key)
{
	struct nm_tnl_keyset *ks = set_new(NM_TNL_AES_128_GCM, NM_TNL_SEAL, 2);
	struct nm_tnl_key_stats st = {.records = NM_TNL_AES_GCM_RECORD_LIMIT - 3,
				      .next_seq = NM_TNL_AES_GCM_RECORD_LIMIT - 3};
	static uint8_t mem[4][BUF_ROOM];
	struct nm_tnl_buf b[4];

	nm_tnl_keyset_stats_set(ks, &st);
	cr_assert(nm_tnl_keyset_should_rotate(ks));
	for (int i = 0; i < 4; i++)
		buf_fill(&b[i], mem[i], 64);
	cr_assert_eq(nm_tnl_seal_burst(nm_tnl_keyset_ctx(ks, 0), &b[0], 2), 2);
	cr_assert_eq(nm_tnl_seal_burst(nm_tnl_keyset_ctx(ks, 1), &b[2], 2), 1,
		     "the other context gets what is left of the key's limit");
	cr_assert_eq(b[2].reason, NM_TNL_OK);
	cr_assert_eq(b[3].reason, NM_TNL_E_KEY_EXHAUSTED);
	nm_tnl_keyset_free(ks);
}

/*
 * A resume after a failed takeover skips 2^40 sequence numbers: the key
 * goes on sealing from there (no record budget spent by the skip) and says
 * it should rotate.
 */
Test(tnl_keyset, a_skip_spends_no_record_budget)
{
	struct nm_tnl_keyset *ks = set_new(NM_TNL_AES_128_GCM, NM_TNL_SEAL, 2);
	struct nm_tnl_key_stats st = {.records = 1000, .next_seq = 1000 + (1ull << 40)};
	uint8_t mem[BUF_ROOM];
	struct nm_tnl_buf b;

	cr_assert_not(nm_tnl_keyset_should_rotate(ks));
	nm_tnl_keyset_stats_set(ks, &st);
	buf_fill(&b, mem, 64);
	cr_assert_eq(nm_tnl_seal_burst(nm_tnl_keyset_ctx(ks, 1), &b, 1), 1, "%s",
		     nm_tnl_reason_name(b.reason));
	cr_assert_eq(b.seq, 1000 + (1ull << 40));
	/* Half of the record budget is used: 1,000 records. Not yet. */
	cr_assert_not(nm_tnl_keyset_should_rotate(ks));
	st.records = NM_TNL_AES_GCM_RECORD_LIMIT / 2;
	st.next_seq = (1ull << 40) + NM_TNL_AES_GCM_RECORD_LIMIT / 2;
	nm_tnl_keyset_stats_set(ks, &st);
	cr_assert(nm_tnl_keyset_should_rotate(ks));
	nm_tnl_keyset_free(ks);
}

/* A takeover's copy and back: counters summed, the sequence counter carried. */
Test(tnl_keyset, export_sums_and_import_goes_on)
{
	struct nm_tnl_keyset *ks = set_new(NM_TNL_CHACHA20_POLY1305, NM_TNL_SEAL, 3);
	uint8_t mem[BUF_ROOM];
	struct nm_tnl_key_params p;
	struct nm_tnl_key_stats st;

	for (unsigned int i = 0; i < 3; i++)
		seal_one(nm_tnl_keyset_ctx(ks, i), mem, 40);
	nm_tnl_keyset_export(ks, &p, &st);
	cr_assert_eq(st.records, 3);
	cr_assert_eq(st.next_seq, 3);
	cr_assert_eq(p.epoch, 3);
	cr_assert_arr_eq(p.key, test_key, 32);

	struct nm_tnl_keyset *again = nm_tnl_keyset_create(&p, 2);
	cr_assert_not_null(again);
	nm_tnl_keyset_stats_set(again, &st);
	struct nm_tnl_buf b;
	buf_fill(&b, mem, 40);
	cr_assert_eq(nm_tnl_seal_burst(nm_tnl_keyset_ctx(again, 1), &b, 1), 1);
	cr_assert_eq(b.seq, 3, "the new daemon goes on from the next number");
	nm_tnl_keyset_free(ks);
	nm_tnl_keyset_free(again);
}
