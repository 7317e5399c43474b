/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the tunnel record layer. The first input byte, modulo
 * 3, picks what the rest is:
 *
 *   0  a received datagram: header parse, then open with the fixed
 *      AES-128-GCM key below and a fresh replay window. A refusal must be a
 *      known reason and the parser's own; an opened record must open only
 *      once. The seed corpus (tests/fuzz/corpus/tnl/record-*) holds records
 *      sealed with that key, so mutations start from authentic ones.
 *   1  cipher, flip position (2 bytes), bit, then an inner packet: it is
 *      sealed, must open to the same bytes, and with the one bit flipped
 *      must be refused, whatever the bit.
 *   2  a base sequence (8 bytes) and replay window operations (3 bytes
 *      each): every verdict of check and update must equal a plain model
 *      (a list of what was accepted and the highest), RFC 6479 against the
 *      definition.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodemesh/tunnel.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_tnl: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define FIXED_EPOCH 1
#define MAX_INNER   2048 /* enough for every path; keeps runs fast */
#define MAX_OPS	    1024

static const uint8_t fixed_key[32] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t fixed_iv[NM_TNL_IV_LEN] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
						0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab};

static struct nm_tnl_key *seal_keys[NM_TNL_CIPHERS];
static struct nm_tnl_key *open_keys[NM_TNL_CIPHERS];

static struct nm_tnl_key *
key_make(unsigned int cipher, unsigned int dir)
{
	struct nm_tnl_key_params p = {
	    .cipher = (uint8_t)cipher, .dir = (uint8_t)dir, .epoch = FIXED_EPOCH};

	memcpy(p.key, fixed_key, sizeof(p.key));
	memcpy(p.iv, fixed_iv, sizeof(p.iv));
	struct nm_tnl_key *k = nm_tnl_key_create(&p);
	CHECK(k != NULL);
	return k;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (unsigned int c = 0; c < NM_TNL_CIPHERS; c++) {
		seal_keys[c] = key_make(c, NM_TNL_SEAL);
		open_keys[c] = key_make(c, NM_TNL_OPEN);
	}
	return 0;
}

static void
check_reason(unsigned int reason)
{
	CHECK(reason < NM_TNL_REASON_MAX);
	CHECK(strcmp(nm_tnl_reason_name(reason), "unknown") != 0);
}

/* Mode 0: a datagram as received, in a buffer of exactly its size. */
static void
fuzz_datagram(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	uint32_t len = (uint32_t)size;
	struct nm_tnl_hdr hdr;
	struct nm_tnl_replay replay;

	CHECK(copy != NULL);
	memcpy(copy, data, size);
	int rc = nm_tnl_hdr_parse(copy, len, &hdr);
	if (rc < 0) {
		check_reason((unsigned int)-rc);
	} else {
		CHECK(rc == 0);
		CHECK(hdr.rec_len >= NM_TNL_TRAILER_LEN && hdr.rec_len <= NM_TNL_REC_LEN_MAX);
		CHECK(hdr.rec_len + NM_TNL_HDRS_LEN == len);
	}

	struct nm_tnl_buf b = {.data = copy, .len = len, .room = len};

	nm_tnl_replay_init(&replay);
	nm_tnl_open_burst(open_keys[NM_TNL_AES_128_GCM], &replay, &b, 1);
	check_reason(b.reason);
	if (rc < 0)
		CHECK(b.reason == (unsigned int)-rc);
	if (b.reason == NM_TNL_OK) {
		CHECK(b.len == len - NM_TNL_TRAILER_LEN);
		CHECK(b.seq == hdr.seq);
		/* The same record again is a duplicate. */
		memcpy(copy, data, size);
		b = (struct nm_tnl_buf){.data = copy, .len = len, .room = len};
		nm_tnl_open_burst(open_keys[NM_TNL_AES_128_GCM], &replay, &b, 1);
		CHECK(b.reason == NM_TNL_E_REPLAY_DUPLICATE);
	}
	free(copy);
}

/* Mode 1: seal, open, and open again with one bit flipped. */
static void
fuzz_seal_flip(const uint8_t *data, size_t size)
{
	if (size < 4)
		return;

	unsigned int cipher = data[0] % NM_TNL_CIPHERS;
	uint32_t flip_pos = (uint32_t)data[1] << 8 | data[2];
	unsigned int flip_bit = data[3] % 8;
	uint32_t inner = (uint32_t)(size - 4 > MAX_INNER ? MAX_INNER : size - 4);
	uint32_t room = inner + NM_TNL_OVERHEAD;
	uint8_t *rec = malloc(room), *copy = malloc(room);
	struct nm_tnl_replay replay;

	CHECK(rec != NULL && copy != NULL);
	/* Long runs would exhaust the AES-GCM record limit: rotate like the daemon will. */
	if (nm_tnl_key_should_rotate(seal_keys[cipher])) {
		nm_tnl_key_free(seal_keys[cipher]);
		seal_keys[cipher] = key_make(cipher, NM_TNL_SEAL);
	}
	memcpy(rec + NM_TNL_HDRS_LEN, data + 4, inner);

	struct nm_tnl_buf b = {.data = rec, .len = NM_TNL_HDRS_LEN + inner, .room = room};

	CHECK(nm_tnl_seal_burst(seal_keys[cipher], &b, 1) == 1);
	CHECK(b.len == room);

	memcpy(copy, rec, room);
	b = (struct nm_tnl_buf){.data = copy, .len = room, .room = room};
	nm_tnl_replay_init(&replay);
	CHECK(nm_tnl_open_burst(open_keys[cipher], &replay, &b, 1) == 1);
	CHECK(b.len == NM_TNL_HDRS_LEN + inner);
	CHECK(memcmp(copy + NM_TNL_HDRS_LEN, data + 4, inner) == 0);

	memcpy(copy, rec, room);
	copy[flip_pos % room] ^= (uint8_t)(1u << flip_bit);
	b = (struct nm_tnl_buf){.data = copy, .len = room, .room = room};
	nm_tnl_replay_init(&replay);
	CHECK(nm_tnl_open_burst(open_keys[cipher], &replay, &b, 1) == 0);
	check_reason(b.reason);
	free(rec);
	free(copy);
}

/* The replay window's definition, with no bitmap. */
struct replay_model {
	uint64_t accepted[MAX_OPS];
	unsigned int n;
	uint64_t highest;
};

static unsigned int
model_verdict(const struct replay_model *m, uint64_t seq)
{
	if (seq == NM_TNL_SEQ_LIMIT)
		return NM_TNL_E_REPLAY_SEQ_LIMIT;
	if (m->n == 0 || seq > m->highest)
		return NM_TNL_OK;
	if (m->highest - seq >= NM_TNL_REPLAY_WINDOW)
		return NM_TNL_E_REPLAY_TOO_OLD;
	for (unsigned int i = 0; i < m->n; i++)
		if (m->accepted[i] == seq)
			return NM_TNL_E_REPLAY_DUPLICATE;
	return NM_TNL_OK;
}

/* Mode 2: base sequence, then ops (kind, 16-bit value). */
static void
fuzz_replay(const uint8_t *data, size_t size)
{
	static struct replay_model model;
	struct nm_tnl_replay replay;
	uint64_t base = 0;

	if (size < 8)
		return;
	for (int i = 0; i < 8; i++)
		base = base << 8 | data[i];
	data += 8;
	size -= 8;
	model.n = 0;
	nm_tnl_replay_init(&replay);

	for (size_t off = 0; off + 3 <= size && model.n < MAX_OPS; off += 3) {
		uint16_t val = (uint16_t)(data[off + 1] << 8 | data[off + 2]);
		uint64_t seq;

		switch (data[off] % 4) {
		case 0:
			seq = base + val;
			break;
		case 1:
			seq = base - val;
			break;
		case 2: /* jumps of up to 2^22: across many rings */
			base += (uint64_t)val * 64;
			seq = base;
			break;
		default:
			seq = NM_TNL_SEQ_LIMIT - val;
			break;
		}

		unsigned int want = model_verdict(&model, seq);

		CHECK(nm_tnl_replay_check(&replay, seq) == want);
		CHECK(nm_tnl_replay_update(&replay, seq) == want);
		if (want == NM_TNL_OK) {
			if (model.n == 0 || seq > model.highest)
				model.highest = seq;
			model.accepted[model.n++] = seq;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_datagram(data + 1, size - 1);
		break;
	case 1:
		fuzz_seal_flip(data + 1, size - 1);
		break;
	case 2:
		fuzz_replay(data + 1, size - 1);
		break;
	default:
		break;
	}
	return 0;
}
