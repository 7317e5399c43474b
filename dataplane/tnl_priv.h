/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the tunnel record layer: the key context and the single-record
 * AEAD calls under the burst functions. The unit tests use the AEAD calls
 * with the published vectors' nonces and additional data, and set a
 * sealing key's sequence for the worked example; nothing else should.
 */
#ifndef NM_TNL_PRIV_H
#define NM_TNL_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "nodemesh/tunnel-t.h"

#define tnl_likely(x)	__builtin_expect(!!(x), 1)
#define tnl_unlikely(x) __builtin_expect(!!(x), 0)

struct nm_tnl_key {
	EVP_CIPHER_CTX *ctx; /* keyed at creation for one direction; per record only the nonce */
	uint8_t iv[NM_TNL_IV_LEN];
	uint8_t cipher; /* enum nm_tnl_cipher */
	uint8_t dir;	/* enum nm_tnl_dir */
	uint16_t epoch;
	uint64_t next_seq;     /* seal: sequence number of the next record */
	uint64_t records;      /* sealed, or opened with a valid tag */
	uint64_t forgeries;    /* open: records whose tag failed */
	uint64_t record_limit; /* seal: refuse once records reaches it (UINT64_MAX: none) */
};

/*
 * Seal one message with an explicit nonce: out[0..len) = ciphertext of
 * in[0..len) (in == out allowed), tag[0..16) written. aad may be NULL when
 * aad_len is 0. Counts nothing. Returns NM_TNL_OK or NM_TNL_E_CRYPTO_ERROR.
 */
unsigned int nm_tnl_aead_seal(struct nm_tnl_key *key, const uint8_t *nonce, const uint8_t *aad,
			      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
			      uint8_t *tag);

/*
 * Open one message with an explicit nonce: out[0..len) = plaintext of
 * in[0..len) (in == out allowed) if tag verifies. Counts nothing. Returns
 * NM_TNL_OK, NM_TNL_E_BAD_TAG (out then holds unauthenticated bytes) or
 * NM_TNL_E_CRYPTO_ERROR.
 */
unsigned int nm_tnl_aead_open(struct nm_tnl_key *key, const uint8_t *nonce, const uint8_t *aad,
			      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
			      const uint8_t *tag);

/* nonce = iv XOR (seq, big-endian, left-padded with 4 zero bytes): RFC 8446 §5.3. */
static inline void
nm_tnl_nonce(uint8_t *nonce, const uint8_t *iv, uint64_t seq)
{
	nonce[0] = iv[0];
	nonce[1] = iv[1];
	nonce[2] = iv[2];
	nonce[3] = iv[3];
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = iv[4 + i] ^ (uint8_t)(seq >> (56 - 8 * i));
}

#endif
