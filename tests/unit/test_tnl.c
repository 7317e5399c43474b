/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the tunnel record layer (dataplane/tnl_key.c,
 * dataplane/tnl_record.c, include/nodemesh/tunnel.h), in three files of one
 * executable. This one: reason and cipher names, key contexts, round trips
 * of all sizes in bursts, every header and body bit flip refused for its
 * reason, usage limits, the header parser's edges, and that the burst paths
 * allocate nothing. test_tnl_vectors.c holds the AEAD against the published
 * NIST CAVP AES-GCM and ChaCha20-Poly1305 vectors and the records against
 * the README's worked example and independently computed records;
 * test_tnl_replay.c the anti-replay window's edges. Shared helpers are in
 * test_tnl_common.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <criterion/criterion.h>

#include "nodemesh/tunnel.h"
#include "tnl_priv.h"
#include "test_tnl_common.h"

/* OpenSSL allocations, counted from before the first one (see the constructor). */
static unsigned long ossl_allocs;

static void *
count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return malloc(n);
}

static void *
count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return realloc(p, n);
}

static void
count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/* Must run before OpenSSL allocates anything, or OpenSSL refuses it. */
__attribute__((constructor)) static void
count_ossl_allocs(void)
{
	CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);
}

/* ---- names ---- */

Test(tnl_names, every_reason_has_a_distinct_name)
{
	cr_assert_str_eq(nm_tnl_reason_name(NM_TNL_OK), "ok");
	cr_assert_str_eq(nm_tnl_reason_name(NM_TNL_REASON_MAX), "unknown");
	cr_assert_str_eq(nm_tnl_reason_name(12345), "unknown");
	for (unsigned int r = 1; r < NM_TNL_REASON_MAX; r++) {
		cr_assert_eq(strncmp(nm_tnl_reason_name(r), "tnl_", 4), 0, "%u", r);
		cr_assert_str_neq(nm_tnl_reason_help(r), "unknown reason");
		for (unsigned int o = 1; o < r; o++)
			cr_assert_str_neq(nm_tnl_reason_name(r), nm_tnl_reason_name(o));
	}
}

Test(tnl_names, ciphers_and_key_lengths)
{
	cr_assert_str_eq(nm_tnl_cipher_name(NM_TNL_AES_128_GCM), "aes-128-gcm");
	cr_assert_str_eq(nm_tnl_cipher_name(NM_TNL_AES_256_GCM), "aes-256-gcm");
	cr_assert_str_eq(nm_tnl_cipher_name(NM_TNL_CHACHA20_POLY1305), "chacha20-poly1305");
	cr_assert_null(nm_tnl_cipher_name(NM_TNL_CIPHERS));
	cr_assert_eq(nm_tnl_cipher_key_len(NM_TNL_AES_128_GCM), 16);
	cr_assert_eq(nm_tnl_cipher_key_len(NM_TNL_AES_256_GCM), 32);
	cr_assert_eq(nm_tnl_cipher_key_len(NM_TNL_CHACHA20_POLY1305), 32);
	cr_assert_eq(nm_tnl_cipher_key_len(NM_TNL_CIPHERS), 0);
	cr_assert_eq(NM_TNL_OVERHEAD, 34);
}

/* ---- key contexts ---- */

Test(tnl_key, create_refuses_unknown_cipher_and_direction)
{
	struct nm_tnl_key_params p = {.cipher = NM_TNL_CIPHERS, .dir = NM_TNL_SEAL};

	errno = 0;
	cr_assert_null(nm_tnl_key_create(&p));
	cr_assert_eq(errno, EINVAL);
	p.cipher = NM_TNL_AES_128_GCM;
	p.dir = 2;
	errno = 0;
	cr_assert_null(nm_tnl_key_create(&p));
	cr_assert_eq(errno, EINVAL);
	nm_tnl_key_free(NULL);
}

Test(tnl_key, epoch_and_counters)
{
	struct key_pair kp = pair_new(NM_TNL_AES_128_GCM, 7);
	struct nm_tnl_key_stats st;
	uint8_t mem[BUF_ROOM];

	cr_assert_eq(nm_tnl_key_epoch(kp.seal), 7);
	cr_assert_eq(nm_tnl_key_epoch(kp.open), 7);
	uint32_t len = seal_one(kp.seal, mem, 40);
	cr_assert_eq(open_fresh(kp.open, mem, len), NM_TNL_OK);
	mem[len - 1] ^= 1;
	cr_assert_eq(open_fresh(kp.open, mem, len), NM_TNL_E_BAD_TAG);

	nm_tnl_key_stats_get(kp.seal, &st);
	cr_assert_eq(st.records, 1);
	cr_assert_eq(st.next_seq, 1);
	nm_tnl_key_stats_get(kp.open, &st);
	cr_assert_eq(st.records, 1);
	cr_assert_eq(st.forgeries, 1);
	pair_free(&kp);
}

/*
 * A takeover: a key made again from what nm_tnl_key_export gave, with its
 * counters set, seals exactly the record the original would have sealed
 * next (same sequence, same bytes: the nonce goes on, never repeats), and
 * an opening key made again with the window copied refuses what the
 * original already opened.
 */
Test(tnl_key, export_and_counters_carry_a_key_over)
{
	static const unsigned int ciphers[] = {NM_TNL_AES_128_GCM, NM_TNL_AES_256_GCM,
					       NM_TNL_CHACHA20_POLY1305};

	for (size_t c = 0; c < sizeof(ciphers) / sizeof(ciphers[0]); c++) {
		struct key_pair kp = pair_new(ciphers[c], 9);
		struct nm_tnl_key_params p;
		struct nm_tnl_key_stats st, st2;
		struct nm_tnl_replay replay;
		uint8_t old_rec[BUF_ROOM], new_rec[BUF_ROOM], seen[BUF_ROOM], rec3[BUF_ROOM];
		struct nm_tnl_buf b;

		nm_tnl_replay_init(&replay);
		for (int i = 0; i < 3; i++) {
			uint32_t len = seal_one(kp.seal, seen, 100);
			b = (struct nm_tnl_buf){.data = seen, .len = len, .room = BUF_ROOM};
			cr_assert_eq(nm_tnl_open_burst(kp.open, &replay, &b, 1), 1);
		}
		uint32_t seen_len = seal_one(kp.seal, seen, 100); /* seq 3, kept to replay */
		memcpy(rec3, seen, seen_len);			  /* opening decrypts in place */
		b = (struct nm_tnl_buf){.data = seen, .len = seen_len, .room = BUF_ROOM};
		cr_assert_eq(nm_tnl_open_burst(kp.open, &replay, &b, 1), 1);

		nm_tnl_key_export(kp.seal, &p, &st);
		cr_expect_eq(p.dir, NM_TNL_SEAL);
		cr_expect_eq(p.epoch, 9);
		cr_expect_eq(st.next_seq, 4);
		cr_expect_eq(st.records, 4);
		struct nm_tnl_key *seal2 = nm_tnl_key_create(&p);
		cr_assert_not_null(seal2);
		nm_tnl_key_stats_set(seal2, &st);
		uint32_t l1 = seal_one(kp.seal, old_rec, 200);
		uint32_t l2 = seal_one(seal2, new_rec, 200);
		cr_assert_eq(l1, l2);
		cr_expect_eq(memcmp(old_rec, new_rec, l1), 0, "cipher %u: not the same record",
			     ciphers[c]);
		nm_tnl_key_stats_get(seal2, &st2);
		cr_expect_eq(st2.next_seq, 5);
		cr_expect_eq(st2.records, 5);

		nm_tnl_key_export(kp.open, &p, &st);
		cr_expect_eq(p.dir, NM_TNL_OPEN);
		struct nm_tnl_key *open2 = nm_tnl_key_create(&p);
		cr_assert_not_null(open2);
		nm_tnl_key_stats_set(open2, &st);
		struct nm_tnl_replay replay2 = replay;
		b = (struct nm_tnl_buf){.data = rec3, .len = seen_len, .room = BUF_ROOM};
		cr_expect_eq(nm_tnl_open_burst(open2, &replay2, &b, 1), 0);
		cr_expect_eq(b.reason, NM_TNL_E_REPLAY_DUPLICATE, "cipher %u: %s", ciphers[c],
			     nm_tnl_reason_name(b.reason));
		b = (struct nm_tnl_buf){.data = new_rec, .len = l2, .room = BUF_ROOM};
		cr_expect_eq(nm_tnl_open_burst(open2, &replay2, &b, 1), 1, "cipher %u: %s",
			     ciphers[c], nm_tnl_reason_name(b.reason));
		nm_tnl_key_stats_get(open2, &st2);
		cr_expect_eq(st2.records, 5);
		cr_expect_eq(st2.next_seq, 0, "an opening key has no sequence of its own");
		OPENSSL_cleanse(&p, sizeof(p));
		nm_tnl_key_free(seal2);
		nm_tnl_key_free(open2);
		pair_free(&kp);
	}
}

/* ---- round trips ---- */

Test(tnl_burst, round_trip_every_size_all_ciphers)
{
	static uint8_t mem[BURST][BUF_ROOM];
	uint8_t want[1500];

	for (unsigned int cipher = 0; cipher < NM_TNL_CIPHERS; cipher++) {
		struct key_pair kp = pair_new(cipher, 3);
		struct nm_tnl_replay replay;
		uint64_t want_seq = 0;

		nm_tnl_replay_init(&replay);
		for (uint32_t first = 0; first <= 1500; first += BURST) {
			struct nm_tnl_buf b[BURST];
			uint16_t n = (uint16_t)(first + BURST <= 1501 ? BURST : 1501 - first);

			for (uint16_t i = 0; i < n; i++)
				buf_fill(&b[i], mem[i], first + i);
			cr_assert_eq(nm_tnl_seal_burst(kp.seal, b, n), n);
			for (uint16_t i = 0; i < n; i++) {
				uint32_t inner = first + i;
				struct nm_tnl_hdr h;

				cr_assert_eq(b[i].reason, NM_TNL_OK);
				cr_assert_eq(b[i].seq, want_seq++);
				cr_assert_eq(b[i].len, inner + NM_TNL_OVERHEAD);
				cr_assert_eq(nm_tnl_hdr_parse(mem[i], b[i].len, &h), 0);
				cr_assert_eq(h.epoch, 3);
				cr_assert_eq(h.seq, b[i].seq);
				cr_assert_eq(h.rec_len, inner + NM_TNL_TRAILER_LEN);
				/* Nothing written past the tag. */
				cr_assert_eq(mem[i][b[i].len], 0xee);
			}
			cr_assert_eq(nm_tnl_open_burst(kp.open, &replay, b, n), n);
			for (uint16_t i = 0; i < n; i++) {
				uint32_t inner = first + i;

				cr_assert_eq(b[i].reason, NM_TNL_OK, "%s size %u: %s",
					     nm_tnl_cipher_name(cipher), inner,
					     nm_tnl_reason_name(b[i].reason));
				cr_assert_eq(b[i].len, NM_TNL_HDRS_LEN + inner);
				for (uint32_t j = 0; j < inner; j++)
					want[j] = pattern(inner, j);
				cr_assert_arr_eq(mem[i] + NM_TNL_HDRS_LEN, want, inner,
						 "%s size %u", nm_tnl_cipher_name(cipher), inner);
			}
		}
		cr_assert_eq(want_seq, 1501);
		pair_free(&kp);
	}
}

Test(tnl_burst, ciphertext_hides_the_plaintext)
{
	struct key_pair kp = pair_new(NM_TNL_AES_128_GCM, 0);
	uint8_t mem[BUF_ROOM];

	seal_one(kp.seal, mem, 64);
	for (uint32_t j = 0; j + 8 <= 64; j++) {
		uint8_t plain[8];

		for (uint32_t k = 0; k < 8; k++)
			plain[k] = pattern(64, j + k);
		cr_assert_neq(memcmp(mem + NM_TNL_HDRS_LEN + j, plain, 8), 0);
	}
	pair_free(&kp);
}

/* The reason a record with byte pos changed to v must be refused for. */
static unsigned int
flip_reason(uint32_t pos, const uint8_t *rec, uint32_t len)
{
	if (pos == 0)
		return NM_TNL_E_BAD_VERSION;
	if (pos == 1)
		return NM_TNL_E_BAD_RESERVED;
	if (pos < 4)
		return NM_TNL_E_WRONG_EPOCH;
	if (pos < 12)
		return NM_TNL_E_BAD_TAG; /* sequence: in the nonce and the AAD */
	if (pos == 12)
		return NM_TNL_E_BAD_RECORD_TYPE;
	if (pos < 15)
		return NM_TNL_E_BAD_LEGACY_VERSION;
	if (pos < 17) {
		uint32_t rec_len = (uint32_t)rec[15] << 8 | rec[16];

		if (rec_len > NM_TNL_REC_LEN_MAX)
			return NM_TNL_E_RECORD_OVERFLOW;
		if (rec_len < NM_TNL_TRAILER_LEN)
			return NM_TNL_E_RECORD_TOO_SHORT;
		return rec_len == len - NM_TNL_HDRS_LEN ? NM_TNL_OK : NM_TNL_E_LENGTH_MISMATCH;
	}
	return NM_TNL_E_BAD_TAG; /* ciphertext, content type byte, tag */
}

Test(tnl_burst, every_flipped_bit_is_refused_for_its_reason)
{
	for (unsigned int cipher = 0; cipher < NM_TNL_CIPHERS; cipher++) {
		struct key_pair kp = pair_new(cipher, 0x0102);
		uint8_t rec[BUF_ROOM], mem[BUF_ROOM];
		unsigned long tags = 0;

		/* A sequence with set and clear bits, and a record length with both too. */
		kp.seal->next_seq = 0x00ff00ff00ff00f0ull;
		uint32_t len = seal_one(kp.seal, rec, 100);

		memcpy(mem, rec, len);
		cr_assert_eq(open_fresh(kp.open, mem, len), NM_TNL_OK);
		for (uint32_t pos = 0; pos < len; pos++) {
			for (unsigned int bit = 0; bit < 8; bit++) {
				memcpy(mem, rec, len);
				mem[pos] ^= (uint8_t)(1u << bit);
				unsigned int want = flip_reason(pos, mem, len);
				unsigned int got = open_fresh(kp.open, mem, len);

				cr_assert_neq(want, NM_TNL_OK);
				cr_assert_eq(got, want, "%s: byte %u bit %u: %s, want %s",
					     nm_tnl_cipher_name(cipher), pos, bit,
					     nm_tnl_reason_name(got), nm_tnl_reason_name(want));
				tags += want == NM_TNL_E_BAD_TAG;
			}
		}

		struct nm_tnl_key_stats st;

		nm_tnl_key_stats_get(kp.open, &st);
		cr_assert_eq(st.forgeries, tags, "every tag failure counted");
		cr_assert_eq(st.records, 1);
		pair_free(&kp);
	}
}

Test(tnl_burst, open_refuses_wrong_epoch_key_and_content_type)
{
	struct key_pair kp = pair_new(NM_TNL_CHACHA20_POLY1305, 5);
	struct nm_tnl_key *other =
	    key_new(NM_TNL_CHACHA20_POLY1305, NM_TNL_OPEN, test_key, test_iv, 6);
	uint8_t other_key[32], rec[BUF_ROOM], mem[BUF_ROOM];

	memcpy(other_key, test_key, sizeof(other_key));
	other_key[31] ^= 0x80;
	struct nm_tnl_key *wrong =
	    key_new(NM_TNL_CHACHA20_POLY1305, NM_TNL_OPEN, other_key, test_iv, 5);
	uint32_t len = seal_one(kp.seal, rec, 20);

	memcpy(mem, rec, len);
	cr_assert_eq(open_fresh(other, mem, len), NM_TNL_E_WRONG_EPOCH);
	memcpy(mem, rec, len);
	cr_assert_eq(open_fresh(wrong, mem, len), NM_TNL_E_BAD_TAG);
	memcpy(mem, rec, len);
	cr_assert_eq(open_fresh(kp.seal, mem, len), NM_TNL_E_CRYPTO_ERROR, "a sealing key");

	/* An authentic record whose inner content type is not application_data. */
	uint8_t nonce[NM_TNL_IV_LEN];

	nm_tnl_hdr_build(mem, 5, 77, 20);
	memcpy(mem + NM_TNL_HDRS_LEN, rec + NM_TNL_HDRS_LEN, 20);
	mem[NM_TNL_HDRS_LEN + 20] = 0x16; /* handshake */
	nm_tnl_nonce(nonce, test_iv, 77);
	cr_assert_eq(nm_tnl_aead_seal(kp.seal, nonce, mem, NM_TNL_HDRS_LEN, mem + NM_TNL_HDRS_LEN,
				      21, mem + NM_TNL_HDRS_LEN, mem + NM_TNL_HDRS_LEN + 21),
		     NM_TNL_OK);
	cr_assert_eq(open_fresh(kp.open, mem, len), NM_TNL_E_BAD_CONTENT_TYPE);

	nm_tnl_key_free(other);
	nm_tnl_key_free(wrong);
	pair_free(&kp);
}

Test(tnl_burst, empty_inner_packet_is_a_record)
{
	struct key_pair kp = pair_new(NM_TNL_AES_256_GCM, 0);
	uint8_t mem[BUF_ROOM];
	uint32_t len = seal_one(kp.seal, mem, 0);

	cr_assert_eq(len, NM_TNL_OVERHEAD);
	cr_assert_eq(open_fresh(kp.open, mem, len), NM_TNL_OK);
	pair_free(&kp);
}

Test(tnl_burst, duplicate_inside_one_burst_opens_once)
{
	struct key_pair kp = pair_new(NM_TNL_AES_128_GCM, 0);
	uint8_t mem[3][BUF_ROOM];
	struct nm_tnl_buf b[3];
	struct nm_tnl_replay replay;
	uint32_t len = seal_one(kp.seal, mem[0], 64);
	uint32_t len2 = seal_one(kp.seal, mem[2], 64);

	memcpy(mem[1], mem[0], len);
	for (int i = 0; i < 3; i++)
		b[i] = (struct nm_tnl_buf){
		    .data = mem[i], .len = i == 2 ? len2 : len, .room = BUF_ROOM};
	nm_tnl_replay_init(&replay);
	cr_assert_eq(nm_tnl_open_burst(kp.open, &replay, b, 3), 2);
	cr_assert_eq(b[0].reason, NM_TNL_OK);
	cr_assert_eq(b[1].reason, NM_TNL_E_REPLAY_DUPLICATE);
	cr_assert_eq(b[2].reason, NM_TNL_OK);
	cr_assert_eq(b[2].seq, 1);
	pair_free(&kp);
}

Test(tnl_burst, forged_record_does_not_move_the_window)
{
	struct key_pair kp = pair_new(NM_TNL_AES_128_GCM, 0);
	uint8_t mem[BUF_ROOM];
	struct nm_tnl_replay replay;
	struct nm_tnl_buf b = {.data = mem, .room = BUF_ROOM};

	nm_tnl_replay_init(&replay);
	b.len = seal_one(kp.seal, mem, 64); /* sequence 0 */
	cr_assert_eq(nm_tnl_open_burst(kp.open, &replay, &b, 1), 1);

	/* A forged far-ahead sequence: refused, and the window stays at 0. */
	b.len = seal_one(kp.seal, mem, 64);
	nm_tnl_hdr_build(mem, 0, 1000000, 64);
	cr_assert_eq(nm_tnl_open_burst(kp.open, &replay, &b, 1), 0);
	cr_assert_eq(b.reason, NM_TNL_E_BAD_TAG);
	cr_assert_eq(replay.top, 1);
	cr_assert_eq(nm_tnl_replay_check(&replay, 1), NM_TNL_OK);
	pair_free(&kp);
}

Test(tnl_burst, seal_refusals_keep_their_sequence_number)
{
	struct key_pair kp = pair_new(NM_TNL_AES_128_GCM, 0);
	static uint8_t mem[5][NM_TNL_HDRS_LEN + NM_TNL_INNER_MAX + 64];
	struct nm_tnl_buf b[5] = {
	    {.data = mem[0], .len = NM_TNL_HDRS_LEN + 10, .room = sizeof(mem[0])},
	    /* one byte short of room for the content type and tag */
	    {.data = mem[1], .len = NM_TNL_HDRS_LEN + 10, .room = NM_TNL_HDRS_LEN + 10 + 16},
	    {.data = mem[2], .len = NM_TNL_HDRS_LEN + NM_TNL_INNER_MAX + 1, .room = sizeof(mem[2])},
	    {.data = mem[3], .len = NM_TNL_HDRS_LEN - 1, .room = sizeof(mem[3])},
	    {.data = mem[4], .len = NM_TNL_HDRS_LEN + NM_TNL_INNER_MAX, .room = sizeof(mem[4])},
	};

	cr_assert_eq(nm_tnl_seal_burst(kp.seal, b, 5), 2);
	cr_assert_eq(b[0].reason, NM_TNL_OK);
	cr_assert_eq(b[0].seq, 0);
	cr_assert_eq(b[1].reason, NM_TNL_E_NO_ROOM);
	cr_assert_eq(b[2].reason, NM_TNL_E_TOO_BIG);
	cr_assert_eq(b[3].reason, NM_TNL_E_SHORT);
	cr_assert_eq(b[4].reason, NM_TNL_OK);
	cr_assert_eq(b[4].seq, 1);
	cr_assert_eq(b[4].len, NM_TNL_INNER_MAX + NM_TNL_OVERHEAD);

	/* An opening key cannot seal. */
	b[0].len = NM_TNL_HDRS_LEN + 10;
	cr_assert_eq(nm_tnl_seal_burst(kp.open, b, 1), 0);
	cr_assert_eq(b[0].reason, NM_TNL_E_CRYPTO_ERROR);
	pair_free(&kp);
}

/* ---- usage limits ---- */

Test(tnl_limits, aes_gcm_rotates_at_half_and_stops_at_the_limit)
{
	for (unsigned int cipher = NM_TNL_AES_128_GCM; cipher <= NM_TNL_AES_256_GCM; cipher++) {
		struct nm_tnl_key *k = key_new(cipher, NM_TNL_SEAL, test_key, test_iv, 0);
		uint8_t mem[BUF_ROOM];
		struct nm_tnl_buf b;

		cr_assert_not(nm_tnl_key_should_rotate(k));
		k->records = NM_TNL_AES_GCM_RECORD_LIMIT / 2 - 1;
		cr_assert_not(nm_tnl_key_should_rotate(k));
		k->records++;
		cr_assert(nm_tnl_key_should_rotate(k));

		k->records = NM_TNL_AES_GCM_RECORD_LIMIT - 1;
		buf_fill(&b, mem, 64);
		cr_assert_eq(nm_tnl_seal_burst(k, &b, 1), 1, "the last record allowed");
		buf_fill(&b, mem, 64);
		cr_assert_eq(nm_tnl_seal_burst(k, &b, 1), 0);
		cr_assert_eq(b.reason, NM_TNL_E_KEY_EXHAUSTED);
		nm_tnl_key_free(k);
	}
}

Test(tnl_limits, chacha_is_bounded_by_the_sequence_space)
{
	struct nm_tnl_key *k = key_new(NM_TNL_CHACHA20_POLY1305, NM_TNL_SEAL, test_key, test_iv, 0);
	uint8_t mem[BUF_ROOM];
	struct nm_tnl_buf b;

	k->records = NM_TNL_AES_GCM_RECORD_LIMIT; /* no record limit below the sequence space */
	k->next_seq = NM_TNL_AES_GCM_RECORD_LIMIT;
	cr_assert_not(nm_tnl_key_should_rotate(k));
	k->next_seq = NM_TNL_SEQ_LIMIT / 2;
	cr_assert(nm_tnl_key_should_rotate(k));

	/* 2^64 - 2 is the last sequence sealed; 2^64 - 1 never is. */
	k->next_seq = NM_TNL_SEQ_LIMIT - 1;
	buf_fill(&b, mem, 64);
	cr_assert_eq(nm_tnl_seal_burst(k, &b, 1), 1);
	cr_assert_eq(b.seq, UINT64_MAX - 1);
	buf_fill(&b, mem, 64);
	cr_assert_eq(nm_tnl_seal_burst(k, &b, 1), 0);
	cr_assert_eq(b.reason, NM_TNL_E_KEY_EXHAUSTED);
	nm_tnl_key_free(k);
}

Test(tnl_limits, opening_key_stops_after_too_many_forgeries)
{
	struct key_pair kp = pair_new(NM_TNL_AES_128_GCM, 0);
	uint8_t mem[BUF_ROOM];
	uint32_t len = seal_one(kp.seal, mem, 64);

	kp.open->forgeries = NM_TNL_FORGERY_LIMIT / 2 - 1;
	cr_assert_not(nm_tnl_key_should_rotate(kp.open));
	kp.open->forgeries++;
	cr_assert(nm_tnl_key_should_rotate(kp.open));
	kp.open->forgeries = NM_TNL_FORGERY_LIMIT;
	cr_assert_eq(open_fresh(kp.open, mem, len), NM_TNL_E_KEY_EXHAUSTED, "even a valid record");
	pair_free(&kp);
}

/* ---- header parser ---- */

/* A datagram of len bytes whose header says rec_len, other fields valid. */
static void
hdr_make(uint8_t *d, uint32_t len, uint16_t rec_len)
{
	memset(d, 0, len);
	nm_tnl_hdr_build(d, 0x1234, 0x1122334455667788ull, 0);
	d[15] = (uint8_t)(rec_len >> 8);
	d[16] = (uint8_t)rec_len;
}

Test(tnl_hdr, parser_edges)
{
	static const struct {
		const char *what;
		uint32_t len;	  /* datagram length */
		uint16_t rec_len; /* record length written */
		int byte;	  /* -1, or a byte to overwrite */
		uint8_t value;
		int want; /* 0 or -reason */
	} cases[] = {
	    /* 1 */ {"empty datagram", 0, 17, -1, 0, -NM_TNL_E_SHORT},
	    /* 2 */ {"16 bytes", 16, 17, -1, 0, -NM_TNL_E_SHORT},
	    /* 3 */ {"version 0", 34, 17, 0, 0, -NM_TNL_E_BAD_VERSION},
	    /* 4 */ {"version 2", 34, 17, 0, 2, -NM_TNL_E_BAD_VERSION},
	    /* 5 */ {"reserved 1", 34, 17, 1, 1, -NM_TNL_E_BAD_RESERVED},
	    /* 6 */ {"reserved 0x80", 34, 17, 1, 0x80, -NM_TNL_E_BAD_RESERVED},
	    /* 7 */ {"record type handshake", 34, 17, 12, 0x16, -NM_TNL_E_BAD_RECORD_TYPE},
	    /* 8 */ {"record type alert", 34, 17, 12, 0x15, -NM_TNL_E_BAD_RECORD_TYPE},
	    /* 9 */ {"legacy version 0x0203", 34, 17, 13, 2, -NM_TNL_E_BAD_LEGACY_VERSION},
	    /* 10 */ {"legacy version 0x0301", 34, 17, 14, 1, -NM_TNL_E_BAD_LEGACY_VERSION},
	    /* 11 */ {"legacy version 0x0304", 34, 17, 14, 4, -NM_TNL_E_BAD_LEGACY_VERSION},
	    /* 12 */ {"length 0, 17 bytes", 17, 0, -1, 0, -NM_TNL_E_RECORD_TOO_SHORT},
	    /* 13 */ {"length 16, 33 bytes", 33, 16, -1, 0, -NM_TNL_E_RECORD_TOO_SHORT},
	    /* 14 */ {"length 17, 34 bytes: empty inner", 34, 17, -1, 0, 0},
	    /* 15 */ {"length 17, 35 bytes", 35, 17, -1, 0, -NM_TNL_E_LENGTH_MISMATCH},
	    /* 16 */ {"length 18, 34 bytes", 34, 18, -1, 0, -NM_TNL_E_LENGTH_MISMATCH},
	    /* 17 */ {"length 77, 17 bytes", 17, 77, -1, 0, -NM_TNL_E_LENGTH_MISMATCH},
	    /* 18 */ {"length 2^14+256, exact", 17 + 16640, 16640, -1, 0, 0},
	    /* 19 */ {"length 2^14+257", 17 + 16641, 16641, -1, 0, -NM_TNL_E_RECORD_OVERFLOW},
	    /* 20 */ {"length 0xffff", 17 + 0xffff, 0xffff, -1, 0, -NM_TNL_E_RECORD_OVERFLOW},
	    /* 21 */ {"version checked before length", 10 + 17, 3, 0, 9, -NM_TNL_E_BAD_VERSION},
	};
	static uint8_t d[17 + 0xffff];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nm_tnl_hdr h;

		hdr_make(d, cases[i].len > 17 ? cases[i].len : 17, cases[i].rec_len);
		if (cases[i].byte >= 0)
			d[cases[i].byte] = cases[i].value;
		int rc = nm_tnl_hdr_parse(d, cases[i].len, &h);

		cr_assert_eq(rc, cases[i].want, "case %zu (%s): %d %s", i + 1, cases[i].what, rc,
			     nm_tnl_reason_name((unsigned int)-rc));
		if (rc == 0) {
			cr_assert_eq(h.epoch, 0x1234);
			cr_assert_eq(h.seq, 0x1122334455667788ull);
			cr_assert_eq(h.rec_len, cases[i].rec_len);
		}
	}
}

Test(tnl_hdr, build_then_parse_extremes)
{
	static const struct {
		uint16_t epoch;
		uint64_t seq;
		uint32_t inner;
	} cases[] = {
	    {0, 0, 0},
	    {0xffff, UINT64_MAX - 1, 1500},
	    {0x8001, 0x8000000000000001ull, NM_TNL_INNER_MAX},
	};
	static uint8_t d[NM_TNL_HDRS_LEN + NM_TNL_INNER_MAX + NM_TNL_TRAILER_LEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nm_tnl_hdr h;
		uint32_t len = cases[i].inner + NM_TNL_OVERHEAD;

		nm_tnl_hdr_build(d, cases[i].epoch, cases[i].seq, cases[i].inner);
		cr_assert_eq(d[0], 1);
		cr_assert_eq(d[1], 0);
		cr_assert_eq(nm_tnl_hdr_parse(d, len, &h), 0, "case %zu", i + 1);
		cr_assert_eq(h.epoch, cases[i].epoch);
		cr_assert_eq(h.seq, cases[i].seq);
		cr_assert_eq(h.rec_len, cases[i].inner + NM_TNL_TRAILER_LEN);
	}
}

/* ---- no allocation on the data path ---- */

Test(tnl_burst, seal_and_open_allocate_nothing)
{
	static uint8_t mem[BURST][BUF_ROOM];

	for (unsigned int cipher = 0; cipher < NM_TNL_CIPHERS; cipher++) {
		struct key_pair kp = pair_new(cipher, 0);
		struct nm_tnl_buf b[BURST];
		struct nm_tnl_replay replay;

		cr_assert_gt(ossl_allocs, 0, "OpenSSL's allocator is the counting one");
		nm_tnl_replay_init(&replay);
		unsigned long before = ossl_allocs;
		for (int round = 0; round < 4; round++) {
			for (int i = 0; i < BURST; i++)
				buf_fill(&b[i], mem[i], (uint32_t)(64 + 40 * i));
			cr_assert_eq(nm_tnl_seal_burst(kp.seal, b, BURST), BURST);
			b[3].data[40] ^= 1; /* a failed tag allocates nothing either */
			cr_assert_eq(nm_tnl_open_burst(kp.open, &replay, b, BURST), BURST - 1);
		}
		cr_assert_eq(ossl_allocs, before, "%s: %lu allocations in the burst paths",
			     nm_tnl_cipher_name(cipher), ossl_allocs - before);
		pair_free(&kp);
	}
}
