/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helpers the tunnel record layer's tests share (declared in
 * test_tnl_common.h): hex decoding, key contexts and key pairs of the fixed
 * test key, and sealing and opening single records of a known pattern.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "test_tnl_common.h"

/* Hex digits of s (spaces ignored) into out; the byte count, or -1. */
long
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v;

		if (*s == ' ' || *s == '\t')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? (long)n : -1;
}

struct nm_tnl_key *
key_new(unsigned int cipher, unsigned int dir, const uint8_t *key_bytes, const uint8_t *iv,
	uint16_t epoch)
{
	struct nm_tnl_key_params p = {
	    .cipher = (uint8_t)cipher, .dir = (uint8_t)dir, .epoch = epoch};

	memcpy(p.key, key_bytes, nm_tnl_cipher_key_len(cipher));
	if (iv != NULL)
		memcpy(p.iv, iv, NM_TNL_IV_LEN);
	struct nm_tnl_key *k = nm_tnl_key_create(&p);
	cr_assert_not_null(k, "nm_tnl_key_create(%s): %s", nm_tnl_cipher_name(cipher),
			   strerror(errno));
	return k;
}

const uint8_t test_key[32] = {0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
			      0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
			      0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f};
const uint8_t test_iv[NM_TNL_IV_LEN] = {0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
					0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b};

struct key_pair
pair_new(unsigned int cipher, uint16_t epoch)
{
	struct key_pair kp = {
	    .seal = key_new(cipher, NM_TNL_SEAL, test_key, test_iv, epoch),
	    .open = key_new(cipher, NM_TNL_OPEN, test_key, test_iv, epoch),
	};
	return kp;
}

void
pair_free(struct key_pair *kp)
{
	nm_tnl_key_free(kp->seal);
	kp->seal = NULL;
	nm_tnl_key_free(kp->open);
	kp->open = NULL;
}

/* Plaintext byte i of a test packet of size len. */
uint8_t
pattern(uint32_t len, uint32_t i)
{
	return (uint8_t)(len * 7 + i * 13 + 1);
}

/* Set b up for sealing an inner packet of inner bytes in mem. */
void
buf_fill(struct nm_tnl_buf *b, uint8_t *mem, uint32_t inner)
{
	memset(mem, 0xee, BUF_ROOM);
	for (uint32_t i = 0; i < inner; i++)
		mem[NM_TNL_HDRS_LEN + i] = pattern(inner, i);
	*b = (struct nm_tnl_buf){.data = mem, .len = NM_TNL_HDRS_LEN + inner, .room = BUF_ROOM};
}

/* Seal one inner packet of inner bytes into mem; the record length. */
uint32_t
seal_one(struct nm_tnl_key *k, uint8_t *mem, uint32_t inner)
{
	struct nm_tnl_buf b;

	buf_fill(&b, mem, inner);
	cr_assert_eq(nm_tnl_seal_burst(k, &b, 1), 1, "seal: %s", nm_tnl_reason_name(b.reason));
	return b.len;
}

/* Open the record mem[0..len) with a fresh window; the reason. */
unsigned int
open_fresh(struct nm_tnl_key *k, uint8_t *mem, uint32_t len)
{
	struct nm_tnl_replay replay;
	struct nm_tnl_buf b = {.data = mem, .len = len, .room = BUF_ROOM};

	nm_tnl_replay_init(&replay);
	nm_tnl_open_burst(k, &replay, &b, 1);
	return b.reason;
}
