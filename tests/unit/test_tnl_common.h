/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the parts of the tunnel record layer's tests share (test_tnl.c,
 * test_tnl_vectors.c; test_tnl_common.c defines them): key contexts made
 * from fixed key bytes, test packets of a known byte pattern, and sealing
 * or opening one record.
 */
#ifndef NM_TEST_TNL_COMMON_H
#define NM_TEST_TNL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "nodemesh/tunnel.h"
#include "tnl_priv.h"

/* Room for the largest record the tests build, with slack past the tag. */
#define BUF_ROOM (NM_TNL_HDRS_LEN + 1500 + NM_TNL_TRAILER_LEN + 64)
#define BURST	 32

/* A sealing and an opening key for the same key bytes. */
struct key_pair {
	struct nm_tnl_key *seal;
	struct nm_tnl_key *open;
};

extern const uint8_t test_key[32];
extern const uint8_t test_iv[NM_TNL_IV_LEN];

/* Hex digits of s (spaces ignored) into out; the byte count, or -1. */
long unhex(const char *s, uint8_t *out, size_t cap);
/* A key context of cipher for direction dir (NM_TNL_SEAL or _OPEN); iv may be NULL. */
struct nm_tnl_key *key_new(unsigned int cipher, unsigned int dir, const uint8_t *key_bytes,
			   const uint8_t *iv, uint16_t epoch);
/* A sealing and an opening key of test_key and test_iv. */
struct key_pair pair_new(unsigned int cipher, uint16_t epoch);
void pair_free(struct key_pair *kp);
/* Plaintext byte i of a test packet of size len. */
uint8_t pattern(uint32_t len, uint32_t i);
/* Set b up for sealing an inner packet of inner bytes in mem. */
void buf_fill(struct nm_tnl_buf *b, uint8_t *mem, uint32_t inner);
/* Seal one inner packet of inner bytes into mem; the record length. */
uint32_t seal_one(struct nm_tnl_key *k, uint8_t *mem, uint32_t inner);
/* Open the record mem[0..len) with a fresh window; the reason. */
unsigned int open_fresh(struct nm_tnl_key *k, uint8_t *mem, uint32_t len);

#endif
